"""`Client`: the synchronous AMTOpCon client (one thin loop over the shared core)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self, Unpack

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
from amtopcon.jobs import SyncJobMethods
from amtopcon.models import ActionResult, JobStatus, MessagePage
from amtopcon.polling import PollPolicy

__all__ = ["Client"]


class Client(BaseClient, SyncJobMethods):
    """The synchronous client of the AMTOpCon service.

    It logs on lazily at the first call, reuses the token, logs on again once when a
    token is refused, and retries what the wire contract allows. It is thread-safe.
    Once closed, every call raises `ClientClosedError` (`heartbeat()` returns False).
    """

    _http: httpx.Client

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
        http_client: httpx.Client | None = None,
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
            http_client: an `httpx.Client` to use as given (it is not closed by this client).

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
            self._http = httpx.Client(**self._http_kwargs())
        elif isinstance(http_client, httpx.Client):
            self._http = http_client
            self._owns_http = False
        else:
            raise ValidationError("http_client: expected an httpx.Client", field="http_client")

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        http_client: httpx.Client | None = None,
        **overrides: Unpack[ClientOptions],
    ) -> Self:
        """A client configured from the `AMTOPCON_*` environment variables.

        `AMTOPCON_BASE_URL` (or `AMTOPCON_SERVER_ADDRESS` with `AMTOPCON_USE_TLS`),
        `AMTOPCON_USER`, `AMTOPCON_PASSWORD`, `AMTOPCON_TIMEOUT`, `AMTOPCON_CA_BUNDLE`.

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
        http_client: httpx.Client | None = None,
        **overrides: Unpack[ClientOptions],
    ) -> Self:
        """A client configured from the existing connector's `Connector.config`.

        Credentials are decoded; the file's STATUS_CHECK_INITIAL_POLL_DELAY and
        STATUS_CHECK_POLL_INTERVAL (10 s and 5 s when omitted) become the handles'
        `PollPolicy.fixed(...)`.

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

    def with_options(self, **changes: Unpack[ClientOptions]) -> Client:
        """A copy with some settings changed, sharing the connection pool (and the token).

        `verify` and `proxy` belong to the shared pool and cannot change; an unknown
        keyword raises `ValidationError` naming it. The copy closes with this client.
        """
        copy: Client = self._copy_with(changes)
        return copy

    def close(self) -> None:
        """Close the connection pool, if this client opened it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- the loop
    def _send(self, wreq: _wire.WireRequest, deadline: float | None = None) -> tuple[CallState, Done]:
        call = CallState(self, wreq, deadline)
        while True:
            if self._http.is_closed:
                raise self._closed_error(call)
            token = self._token(call.deadline) if wreq.needs_token else None
            request = call.build(self._http, token)
            try:
                response = self._http.send(request)
            except httpx.HTTPError as exc:
                step = call.on_exception(exc)
            except RuntimeError:  # closed by another thread since the check above
                if self._http.is_closed:
                    raise self._closed_error(call) from None
                raise
            else:
                step = call.on_response(response)
            if isinstance(step, Done):
                return call, step
            if isinstance(step, Relogon):
                self._relogon(step.stale, call.deadline)
            else:
                self._clock.sleep(step.seconds)

    def _token(self, deadline: float | None = None) -> str:
        token = self._auth.token.value
        if token:
            return token
        with self._auth.thread_lock:
            if not self._auth.token.value:
                self._logon(deadline)
            return self._auth.token.value or ""

    def _relogon(self, stale: str | None, deadline: float | None = None) -> None:
        with self._auth.thread_lock:
            if self._auth.token.value in (stale, None):
                self._logon(deadline)

    def _logon(self, deadline: float | None = None) -> None:
        user, password = self._credentials()
        call, done = self._send(_wire.logon_request(user, password), deadline)
        self._auth.token.value = call.decode(done.response, _wire.parse_logon)
        self._auth.logons += 1

    # -- the three functions
    def job_action(
        self,
        action: str,
        *,
        application: str | None = None,
        job: str | None = None,
        batch_request_id: int | None = None,
        **start_kwargs: Any,
    ) -> ActionResult:
        """OpConJobAction: START a job (with `application`, `job` or `file_name`, `parameters`,
        `task_values`, `run_as`, `submit_user`, `station`, `queue`, `task_id`), or STOP or
        KILL the job `batch_request_id`.

        A START is resent only when it provably never reached the server; otherwise an
        unknown outcome raises `StartOutcomeUnknownError`. A START answered with a
        BatchRequestId of 0 or less raises `JobStartError`. STOP or KILL of an ended job
        raises `ConflictError`, unless an earlier attempt of the same call may have landed.
        """
        return self._job_action(
            action, application=application, job=job, batch_request_id=batch_request_id, start_kwargs=start_kwargs
        )

    def _job_action(
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
        call, done = self._send(wreq, deadline)
        if done.conflict_after_retry:
            return accepted_after_retry(self._monitor_job(target_of(wreq), deadline))
        result = call.decode(done.response, _wire.parse_action_result)
        if wreq.kind == "start":
            check_started(result, call)
        return result

    def monitor_job(self, batch_request_id: int) -> JobStatus:
        """MonitorJob: the status of a batch request."""
        return self._monitor_job(batch_request_id)

    def _monitor_job(self, batch_request_id: int, deadline: float | None = None) -> JobStatus:
        call, done = self._send(_wire.monitor_request(batch_request_id), deadline)
        return call.decode(done.response, _wire.parse_job_status)

    def get_messages(self, batch_request_id: int, after: int = 0, max_count: int | None = None) -> MessagePage:
        """GetMessages: one page of the job's messages after sequence `after`."""
        return self._get_messages(batch_request_id, after, max_count)

    def _get_messages(
        self, batch_request_id: int, after: int = 0, max_count: int | None = None, deadline: float | None = None
    ) -> MessagePage:
        call, done = self._send(_wire.messages_request(batch_request_id, after, max_count), deadline)
        return call.decode(done.response, _wire.parse_message_page)

    def heartbeat(self) -> bool:
        """True while the batch server takes requests; False for anything else. Never raises."""
        try:
            call, done = self._send(_wire.heartbeat_request())
            return call.decode(done.response, lambda data, **_: _wire.parse_heartbeat(data))
        except AmtOpConError:
            return False
