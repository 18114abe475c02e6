"""`AsyncClient`: the asynchronous twin of `Client` (same surface, coroutines)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self, Unpack

import anyio
import httpx

from amtopcon import _wire
from amtopcon._base import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    DEFAULT_TOTAL_TIMEOUT,
    BaseClient,
    CallState,
    ClientOptions,
    Done,
    ProxyTypes,
    Relogon,
    VerifyTypes,
    accepted_after_retry,
    action_wire_request,
    check_started,
    target_of,
)
from amtopcon._clock import Clock
from amtopcon.errors import AmtOpConError, ValidationError
from amtopcon.jobs import AsyncJobMethods
from amtopcon.models import ActionResult, JobStatus, MessagePage
from amtopcon.polling import PollPolicy

__all__ = ["AsyncClient"]


class AsyncClient(BaseClient, AsyncJobMethods):
    """The asynchronous client of the AMTOpCon service (asyncio or trio, through anyio).

    Same arguments and behaviour as `Client`; `http_client` is an `httpx.AsyncClient`.
    Concurrent calls that see a refused token share one new Logon. Once closed, every
    call raises `ClientClosedError` (`heartbeat()` returns False).
    """

    _http: httpx.AsyncClient

    def __init__(
        self,
        base_url: str | httpx.URL,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        total_timeout: float | None = DEFAULT_TOTAL_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        verify: VerifyTypes = True,
        proxy: ProxyTypes | None = None,
        headers: Mapping[str, str] | None = None,
        poll: PollPolicy | None = None,
        clock: Clock | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        """Make a client; nothing is sent until the first call.

        Args:
            base_url: the service root, e.g. `https://amt.example.com:4004/AmtOpConService/`.
            username: the AMT API user.
            password: its password (never logged or shown).
            timeout: seconds (or an `httpx.Timeout`) for one attempt.
            total_timeout: seconds for one call with every retry and back-off; None: no bound.
            max_retries: retries of one call (what may be repeated follows the contract).
            verify: TLS verification: True, False, a CA bundle path or an `ssl.SSLContext`.
            proxy: a proxy, as httpx takes it (a URL or an `httpx.Proxy`).
            headers: extra headers sent on every call.
            poll: the default `PollPolicy` of handles made by this client (None: `PollPolicy()`).
            clock: the time source (None: the real clock; tests and the emulator pass a virtual one).
            http_client: an `httpx.AsyncClient` to use as given (it is not closed by this client).

        Raises:
            ValidationError: an argument is unusable (`.field` names it); nothing was sent.
        """
        super().__init__(
            base_url,
            username=username,
            password=password,
            timeout=timeout,
            total_timeout=total_timeout,
            max_retries=max_retries,
            verify=verify,
            proxy=proxy,
            headers=headers,
            poll=poll,
            clock=clock,
        )
        if http_client is None:
            self._http = httpx.AsyncClient(**self._http_kwargs())
        elif isinstance(http_client, httpx.AsyncClient):
            self._http = http_client
            self._owns_http = False
        else:
            raise ValidationError("http_client: expected an httpx.AsyncClient", field="http_client")

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        http_client: httpx.AsyncClient | None = None,
        **overrides: Unpack[ClientOptions],
    ) -> Self:
        """A client configured from the `AMTOPCON_*` environment variables (see `Client.from_env`).

        Args:
            environ: the variables to read (None: `os.environ`).
            http_client: as for the constructor.
            **overrides: settings of `ClientOptions` that replace what the variables say.

        Raises:
            ConfigError: a variable is missing or unusable.
            ValidationError: an unknown or unusable keyword (`.field` names it).
        """
        base_url, kwargs = cls._env_settings(environ, overrides)
        return cls(base_url, http_client=http_client, **kwargs)

    @classmethod
    def from_connector_config(
        cls,
        path: str | os.PathLike[str],
        *,
        http_client: httpx.AsyncClient | None = None,
        **overrides: Unpack[ClientOptions],
    ) -> Self:
        """A client configured from the existing connector's `Connector.config` (see
        `Client.from_connector_config`).

        Args:
            path: the `Connector.config` file.
            http_client: as for the constructor.
            **overrides: settings of `ClientOptions` that replace what the file says.

        Raises:
            ConfigError: the file is missing or unusable (`.path`, `.line`, `.key` say where).
            ValidationError: an unknown or unusable keyword (`.field` names it).
        """
        base_url, kwargs = cls._connector_config_settings(path, overrides)
        return cls(base_url, http_client=http_client, **kwargs)

    def with_options(self, **changes: Unpack[ClientOptions]) -> AsyncClient:
        """A copy with some settings changed, sharing the connection pool (and the token).

        `verify` and `proxy` belong to the shared pool and cannot change; an unknown
        keyword raises `ValidationError` naming it. The copy closes with this client.
        """
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
            if self._http.is_closed:
                raise self._closed_error(call)
            token = await self._token(call.deadline) if wreq.needs_token else None
            request = call.build(self._http, token)
            try:
                response = await self._http.send(request)
            except httpx.HTTPError as exc:
                step = call.on_exception(exc)
            except RuntimeError:  # closed by another task since the check above
                if self._http.is_closed:
                    raise self._closed_error(call) from None
                raise
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
            return accepted_after_retry(await self._monitor_job(target_of(wreq), deadline))
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
