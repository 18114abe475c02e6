"""`AsyncClient`: the asynchronous twin of `Client` (same surface, coroutines)."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import anyio
import httpx

from amtopcon import _wire
from amtopcon._base import BaseClient, CallState, Done, Relogon, action_wire_request, check_started
from amtopcon.errors import AmtOpConError, ValidationError
from amtopcon.jobs import AsyncJobMethods
from amtopcon.models import ActionResult, JobStatus, MessagePage

__all__ = ["AsyncClient"]


class AsyncClient(BaseClient, AsyncJobMethods):
    """The asynchronous client of the AMTOpCon service (asyncio or trio, through anyio).

    Same arguments and behaviour as `Client`; `http_client` is an `httpx.AsyncClient`.
    Concurrent calls that see a refused token share one new Logon.
    """

    _http: httpx.AsyncClient

    def __init__(
        self, base_url: str | httpx.URL, *, http_client: httpx.AsyncClient | None = None, **kwargs: Any
    ) -> None:
        super().__init__(base_url, **kwargs)
        if http_client is None:
            self._http = httpx.AsyncClient(**self._http_kwargs())
        elif isinstance(http_client, httpx.AsyncClient):
            self._http = http_client
            self._owns_http = False
        else:
            raise ValidationError("http_client: expected an httpx.AsyncClient", field="http_client")

    def with_options(self, **changes: Any) -> AsyncClient:
        """A copy with some settings changed, sharing the connection pool (and the token)."""
        copy: AsyncClient = self._copy_with(changes)
        return copy

    async def aclose(self) -> None:
        """Close the connection pool, if this client opened it."""
        if self._owns_http:
            await self._http.aclose()

    close = aclose

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- the loop
    async def _send(self, wreq: _wire.WireRequest, deadline: float | None = None) -> tuple[CallState, Done]:
        call = CallState(self, wreq, deadline)
        while True:
            token = await self._token(call.deadline) if wreq.needs_token else None
            request = call.build(self._http, token)
            try:
                response = await self._http.send(request)
            except httpx.HTTPError as exc:
                step = call.on_exception(exc)
            else:
                step = call.on_response(response)
            if isinstance(step, Done):
                return call, step
            if isinstance(step, Relogon):
                await self._relogon(step.stale, call.deadline)
            else:
                await self._clock.asleep(step.seconds)

    def _lock(self) -> anyio.Lock:
        if self._auth.async_lock is None:
            self._auth.async_lock = anyio.Lock()
        lock: anyio.Lock = self._auth.async_lock
        return lock

    async def _token(self, deadline: float | None = None) -> str:
        token = self._auth.token.value
        if token:
            return token
        async with self._lock():
            if not self._auth.token.value:
                await self._logon(deadline)
            return self._auth.token.value or ""

    async def _relogon(self, stale: str | None, deadline: float | None = None) -> None:
        async with self._lock():
            if self._auth.token.value in (stale, None):
                await self._logon(deadline)

    async def _logon(self, deadline: float | None = None) -> None:
        user, password = self._credentials()
        call, done = await self._send(_wire.logon_request(user, password), deadline)
        self._auth.token.value = call.decode(done.response, _wire.parse_logon)
        self._auth.logons += 1

    # -- the three functions
    async def job_action(
        self,
        action: str,
        *,
        application: str | None = None,
        job: str | None = None,
        batch_request_id: int | None = None,
        **start_kwargs: Any,
    ) -> ActionResult:
        """OpConJobAction: START, STOP or KILL (see `Client.job_action`)."""
        return await self._job_action(
            action, application=application, job=job, batch_request_id=batch_request_id, start_kwargs=start_kwargs
        )

    async def _job_action(
        self,
        action: str,
        *,
        application: str | None = None,
        job: str | None = None,
        batch_request_id: int | None = None,
        start_kwargs: dict[str, Any] | None = None,
        deadline: float | None = None,
    ) -> ActionResult:
        # `deadline` (on the client's clock) bounds the call below total_timeout (job handles pass theirs).
        wreq = action_wire_request(
            action, application=application, job=job, batch_request_id=batch_request_id, start_kwargs=start_kwargs or {}
        )
        call, done = await self._send(wreq, deadline)
        if done.conflict_after_retry:
            status = await self._monitor_job(int(wreq.body[_wire.F_BATCH_REQUEST_ID]), deadline)  # type: ignore[index]
            return ActionResult(
                status.batch_request_id,
                status.code,
                status.status_text,
                "accepted (an earlier attempt of this call landed)",
            )
        result = call.decode(done.response, _wire.parse_action_result)
        if wreq.kind == "start":
            check_started(result, call)
        return result

    async def monitor_job(self, batch_request_id: int) -> JobStatus:
        """MonitorJob: the status of a batch request."""
        return await self._monitor_job(batch_request_id)

    async def _monitor_job(self, batch_request_id: int, deadline: float | None = None) -> JobStatus:
        call, done = await self._send(_wire.monitor_request(batch_request_id), deadline)
        return call.decode(done.response, _wire.parse_job_status)

    async def get_messages(self, batch_request_id: int, after: int = 0, max_count: int | None = None) -> MessagePage:
        """GetMessages: one page of the job's messages after sequence `after`."""
        return await self._get_messages(batch_request_id, after, max_count)

    async def _get_messages(
        self, batch_request_id: int, after: int = 0, max_count: int | None = None, deadline: float | None = None
    ) -> MessagePage:
        call, done = await self._send(_wire.messages_request(batch_request_id, after, max_count), deadline)
        return call.decode(done.response, _wire.parse_message_page)

    async def heartbeat(self) -> bool:
        """True while the batch server takes requests; False for anything else. Never raises."""
        try:
            call, done = await self._send(_wire.heartbeat_request())
            return call.decode(done.response, lambda data, **_: _wire.parse_heartbeat(data))
        except AmtOpConError:
            return False
