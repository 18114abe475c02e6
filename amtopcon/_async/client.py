"""`AsyncClient`, with the job level (`start`, `job`, `run`): one thin loop that sends and
sleeps over the no-I/O core (`amtopcon._core`).

This file is the source of truth for both flavours: `scripts/unasync.py` writes its sync
twin in `amtopcon/_sync/` from it. Edit this one, then run the script."""

from __future__ import annotations

import inspect
import os
import uuid
from collections.abc import Callable, Mapping
from functools import partial
from types import TracebackType
from typing import Any, Concatenate, Literal, ParamSpec, Self, TypeVar, Unpack, overload

import httpx

from amtopcon import _constants as C
from amtopcon import _wire
from amtopcon._async.jobs import AsyncJobHandle
from amtopcon._clock import Clock
from amtopcon._core.call import CallState, Done, Relogon, backoff_delay, check_started, check_token
from amtopcon._core.observe import (
    CallObserver,
    RawResponse,
    capture,
    log_hook_error,
    record,
    redacted_request,
    redacted_response,
)
from amtopcon._core.poller import AsyncPoller
from amtopcon._core.primitives import (
    AsyncAttempt,
    AsyncLock,
    AsyncReturns,
    AsyncSlots,
    abind_deadlines,
    anotify,
    aread_capped,
)
from amtopcon._core.settings import BaseClient, ClientOptions, ProxyTypes, VerifyTypes
from amtopcon._core.watch import AsyncOnStatus, status_from_action
from amtopcon._types import Action, EventHooks, Parameters, StartOptions, TaskValuesArg
from amtopcon._wire.requests import action_wire_request, target_of
from amtopcon._wire.responses import accepted_after_retry
from amtopcon.criteria import ExitCriteria
from amtopcon.errors import AmtOpConError, AuthenticationError, PermissionDeniedError, ValidationError
from amtopcon.models import ActionResult, JobResult, JobStatus, MessagePage
from amtopcon.polling import PollPolicy

__all__ = ["AsyncClient", "AsyncClientWithRawResponse"]


class AsyncClient(BaseClient):
    """The asynchronous client of the AMTOpCon service (asyncio or trio, through anyio).

    It logs on lazily at the first call, reuses the token, logs on again once when a
    token is refused (calls that see the refusal together share one new Logon), and
    retries what the wire contract allows. It is safe to share between tasks. Once
    closed, every call raises `ClientClosedError` (`heartbeat()` returns False).
    """

    _http: httpx.AsyncClient

    def __init__(
        self,
        base_url: str | httpx.URL,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float | httpx.Timeout = C.DEFAULT_TIMEOUT,
        total_timeout: float | None = C.DEFAULT_TOTAL_TIMEOUT,
        max_retries: int = C.DEFAULT_MAX_RETRIES,
        verify: VerifyTypes = True,
        proxy: ProxyTypes | None = None,
        headers: Mapping[str, str] | None = None,
        poll: PollPolicy | None = None,
        clock: Clock | None = None,
        event_hooks: EventHooks | None = None,
        http_client: httpx.AsyncClient | None = None,
        max_response_size: int = C.MAX_RESPONSE_SIZE,
        max_in_flight: int = C.DEFAULT_MAX_IN_FLIGHT,
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
            event_hooks: `{"request": [...], "response": [...]}`: callables that see every
                attempt (Logons and retries included) as a redacted copy: the token is `***`,
                a Logon's body (request and answer) is empty. A coroutine function is awaited; an exception inside
                a hook is logged and the call goes on.
            http_client: an `httpx.AsyncClient` to use as given (it is not closed by this client;
                redirects are never followed, whatever its `follow_redirects`). Its answers are
                bounded by the deadlines as the client's own; for the sync `Client`, only when its
                transports are `httpx.HTTPTransport` (the default; the connections it opens from
                then on): with another transport, trickled headers are bounded by httpx's
                per-read timeout alone.
            max_response_size: the largest answer read, in bytes (default 64 MiB); a larger
                one raises `ResponseTooLargeError` before more of it is read.
            max_in_flight: calls in flight at once (default 10): the calls of every wait,
                follow and caller of this client take turns, first come, first served, so
                thousands of waits share a few kept-alive connections (the pool made here
                holds as many, all kept alive).

        Raises:
            ValidationError: an argument is unusable (`.field` names it); nothing was sent.
        """
        super().__init__(
            {
                "base_url": base_url,
                "username": username,
                "password": password,
                "timeout": timeout,
                "total_timeout": total_timeout,
                "max_retries": max_retries,
                "verify": verify,
                "proxy": proxy,
                "headers": headers,
                "poll": poll,
                "clock": clock,
                "event_hooks": event_hooks,
                "max_response_size": max_response_size,
                "max_in_flight": max_in_flight,
            }
        )
        # abind_deadlines: each socket operation of an attempt ends by its deadline (issue 15 row 1).
        if http_client is None:
            self._http = abind_deadlines(httpx.AsyncClient(**self._http_kwargs()))
        elif isinstance(http_client, httpx.AsyncClient):
            self._http = abind_deadlines(http_client)
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
        http_client: httpx.AsyncClient | None = None,
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

    def with_options(self, **changes: Unpack[ClientOptions]) -> AsyncClient:
        """A copy with some settings changed, sharing the connection pool (and the token).

        `verify` and `proxy` belong to the shared pool and cannot change; an unknown
        keyword raises `ValidationError` naming it. The copy closes with this client.
        """
        copy: AsyncClient = self._copy_with(changes)
        return copy

    @property
    def with_raw_response(self) -> AsyncClientWithRawResponse:
        """The same calls, each returning a `RawResponse`: the parsed result with the
        (redacted) `httpx.Response` it came from, e.g. `client.with_raw_response.monitor_job(1)`."""
        return AsyncClientWithRawResponse(self)

    async def aclose(self) -> None:
        """Close the connection pool, if this client opened it (and end the poll scheduler's task)."""
        self._poller.close()
        if self._owns_http:
            await self._http.aclose()

    close = aclose  # the name of `Client`'s method, for code written for both

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- the loop
    async def _send(self, wreq: _wire.WireRequest, deadline: float | None = None) -> tuple[CallState, Done]:
        with self._observer.call(wreq, self._function_url(wreq.function)) as observed:
            return await self._attempts(CallState(self, wreq, deadline), observed)

    async def _attempts(self, call: CallState, observed: CallObserver) -> tuple[CallState, Done]:
        wreq = call.wreq
        while True:
            if self._http.is_closed:
                raise self._closed_error(call)
            token = None
            if wreq.needs_token:
                token = self._auth.token.value or await self._token(call.deadline)
            request = call.build(self._http, token)
            with observed.attempt(request, call.attempts) as attempt:
                if self._event_hooks["request"]:
                    await self._notify("request", request)
                failure: httpx.HTTPError | None = None
                try:
                    # One attempt is bounded in time and bytes, headers and body (a trickle or an
                    # endless answer ends); redirects are never followed, even by an injected client.
                    with AsyncAttempt(*call.attempt_budget(), request) as budget:
                        streamed = await self._http.send(request, stream=True, follow_redirects=False)
                        try:
                            response = await aread_capped(streamed, self._max_response_size, budget)
                        finally:
                            await streamed.aclose()
                except httpx.HTTPError as exc:
                    failure = exc  # handled below, outside this block: no request in any __context__
                except RuntimeError:  # closed by another task or thread since the check above
                    if self._http.is_closed:
                        raise self._closed_error(call) from None
                    raise
                if failure is not None:
                    attempt.failed(failure)
                    step = call.on_exception(failure)
                else:
                    attempt.answered(response)
                    if self._event_hooks["response"]:
                        await self._notify("response", response)
                    step = call.on_response(response)
                attempt.decided(step)
            if isinstance(step, Done):
                record(wreq, step.response)
                return call, step
            if isinstance(step, Relogon):
                await self._relogon(step.stale, call.deadline)
            else:
                await self._clock.asleep(step.seconds)

    async def _notify(self, event: Literal["request", "response"], value: httpx.Request | httpx.Response) -> None:
        hooks = self._event_hooks[event]
        if not hooks:
            return
        shown = redacted_request(value) if isinstance(value, httpx.Request) else redacted_response(value)
        for hook in hooks:
            try:
                await anotify(hook, shown)  # type: ignore[arg-type]
            except Exception:
                log_hook_error(event)

    def _new_lock(self) -> AsyncLock:
        return AsyncLock()

    def _new_slots(self, n: int) -> AsyncSlots:
        return AsyncSlots(n)

    def _new_poller(self) -> AsyncPoller:
        return AsyncPoller(self._clock)

    async def _send_in_turn(self, wreq: _wire.WireRequest, deadline: float | None) -> tuple[CallState, Done]:
        # At most max_in_flight calls at once, first come, first served. The token is fetched
        # before queueing for a turn: callers waiting for one Logon share it (or its failure).
        # The call's span (telemetry) opens first, so a Logon made for it shows under it.
        with self._observer.call(wreq, self._function_url(wreq.function)) as observed:
            if wreq.needs_token and not self._auth.token.value:
                total = self._total_timeout
                limit = None if total is None else self._clock.now() + total
                if deadline is not None:
                    limit = deadline if limit is None else min(limit, deadline)
                await self._token(limit)
            async with self._slots:
                return await self._attempts(CallState(self, wreq, deadline), observed)

    async def _token(self, deadline: float | None = None) -> str:
        token = self._auth.token.value
        if token:
            return token
        seen = self._auth.ended
        async with self._auth.lock:
            if not self._auth.token.value:
                await self._logon(deadline, seen)
            return self._auth.token.value or ""

    async def _relogon(self, stale: str | None, deadline: float | None = None) -> None:
        seen = self._auth.ended
        async with self._auth.lock:
            if self._auth.token.value in (stale, None):
                self._observer.relogon()
                await self._logon(deadline, seen)

    async def _logon(self, deadline: float | None = None, seen: int | None = None) -> None:
        # Under the lock: one Logon in flight; a failed one is shared, the next one backs off.
        auth = self._auth
        user, password = self._credentials()
        delay = auth.before_logon(seen, self._clock.now(), deadline)
        if delay:
            await self._clock.asleep(delay)
        try:
            call, done = await self._send(_wire.logon_request(user, password), deadline)
            token = check_token(call.decode(done.response, _wire.parse_logon), call)
        except AmtOpConError as error:
            auth.failed(error, self._clock.now() + backoff_delay(auth.failures + 1, self._rng))
            raise
        auth.succeeded(token)

    # -- the three functions
    @overload
    async def job_action(
        self,
        action: Literal["START"],
        *,
        application: str,
        job: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - seconds for the whole call, on the client's clock
        **start: Unpack[StartOptions],
    ) -> ActionResult: ...

    @overload
    async def job_action(
        self,
        action: Literal["STOP", "KILL"],
        *,
        batch_request_id: int,
        timeout: float | None = None,  # noqa: ASYNC109 - seconds for the whole call, on the client's clock
    ) -> ActionResult: ...

    async def job_action(
        self,
        action: Action,
        *,
        application: str | None = None,
        job: str | None = None,
        batch_request_id: int | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - seconds for the whole call, on the client's clock
        **start_kwargs: Any,
    ) -> ActionResult:
        """OpConJobAction: START a job (with `application`, `job` or `file_name`, and the
        `StartOptions`: `parameters`, `task_values`, `run_as`, `submit_user`, `station`,
        `queue`, `task_id`), or STOP or KILL the job `batch_request_id`.

        A START is resent only when it provably never reached the server; otherwise an
        unknown outcome raises `StartOutcomeUnknownError`. A START answered with a
        BatchRequestId of 0 or less raises `JobStartError`. STOP or KILL of an ended job
        raises `ConflictError`, unless an earlier attempt of the same call may have landed.
        `timeout`: seconds for the whole call, retries and a Logon included (None: the
        client's `total_timeout`); past it, `APITimeoutError`.
        """
        return await self._job_action(
            action,
            application=application,
            job=job,
            batch_request_id=batch_request_id,
            start_kwargs=start_kwargs,
            deadline=self._deadline(timeout),
        )

    async def _job_action(
        self,
        action: str,
        *,
        application: str | None = None,
        job: str | None = None,
        batch_request_id: int | None = None,
        start_kwargs: Mapping[str, Any] | None = None,
        deadline: float | None = None,
    ) -> ActionResult:
        # `deadline` (on the client's clock) bounds the call below total_timeout (job handles pass theirs).
        wreq = action_wire_request(
            action, application=application, job=job, batch_request_id=batch_request_id, start_kwargs=start_kwargs or {}
        )
        call, done = await self._send_in_turn(wreq, deadline)
        if done.conflict_after_retry:
            return accepted_after_retry(await self._monitor_job(target_of(wreq), deadline))
        about = None if wreq.kind == "start" else target_of(wreq)
        result = call.decode(done.response, partial(_wire.parse_action_result, about=about))
        if wreq.kind == "start":
            check_started(result, call)
        return result

    async def monitor_job(
        self,
        batch_request_id: int,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - seconds for the whole call, on the client's clock
    ) -> JobStatus:
        """MonitorJob: the status of a batch request.

        `timeout`: seconds for the whole call, retries and a Logon included (None: the
        client's `total_timeout`); past it, `APITimeoutError`.
        """
        return await self._monitor_job(batch_request_id, self._deadline(timeout))

    async def _monitor_job(self, batch_request_id: int, deadline: float | None = None) -> JobStatus:
        wreq = _wire.monitor_request(batch_request_id)
        call, done = await self._send_in_turn(wreq, deadline)
        return call.decode(done.response, partial(_wire.parse_job_status, about=target_of(wreq)))

    async def get_messages(
        self,
        batch_request_id: int,
        after: int = 0,
        max_count: int | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - seconds for the whole call, on the client's clock
    ) -> MessagePage:
        """GetMessages: one page of the job's messages after sequence `after`.

        `timeout`: seconds for the whole call, retries and a Logon included (None: the
        client's `total_timeout`); past it, `APITimeoutError`.
        """
        return await self._get_messages(batch_request_id, after, max_count, self._deadline(timeout))

    async def _get_messages(
        self, batch_request_id: int, after: int = 0, max_count: int | None = None, deadline: float | None = None
    ) -> MessagePage:
        wreq = _wire.messages_request(batch_request_id, after, max_count)
        call, done = await self._send_in_turn(wreq, deadline)
        return call.decode(done.response, partial(_wire.parse_message_page, about=target_of(wreq)))

    async def heartbeat(
        self,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - seconds for the whole call, on the client's clock
    ) -> bool:
        """True while the batch server takes requests; False for anything else, a call past
        `timeout` seconds included. Raises only `ValidationError`, for an unusable `timeout`."""
        deadline = self._deadline(timeout)
        try:
            call, done = await self._send(_wire.heartbeat_request(), deadline)
            return call.decode(done.response, lambda data, **_: _wire.parse_heartbeat(data))
        except AmtOpConError:
            return False

    async def check(
        self,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - seconds for the whole call, on the client's clock
    ) -> bool:
        """Log on now, with a fresh Logon even when a token is held, and say whether the
        credentials work: True when the server accepted them (the new token is kept for the
        calls that follow), False when it refused them (401 or 403). Unlike `heartbeat()`,
        which never logs on, this proves the user and password.

        Raises:
            ValidationError: the client has no username or password, or `timeout` is unusable.
            APIConnectionError: the server could not be reached (no answer about the credentials).
            APIStatusError: any other refusal (a 5xx after the retries, a 404 from a wrong base URL).
        """
        deadline = self._deadline(timeout)
        try:
            await self._relogon(self._auth.token.value, deadline)
        except (AuthenticationError, PermissionDeniedError):
            return False
        return True

    async def logon(self) -> None:
        """Log on now and keep the token for the calls that follow (a client otherwise logs
        on lazily at its first call); nothing is sent when it holds a token already.

        Raises:
            AuthenticationError: the credentials were refused.
            ValidationError: the client has no username or password.
        """
        await self._token()

    # -- the job level

    async def start(
        self,
        application: str,
        job: str | None = None,
        *,
        parameters: Parameters | None = None,
        task_values: TaskValuesArg = None,
        run_as: str | None = None,
        file_name: str | None = None,
        submit_user: str = _wire.DEFAULT_SUBMIT_USER,
        station: str = _wire.DEFAULT_STATION,
        queue: str | None = None,
        task_id: str | None = None,
        xml_escape: bool = False,
        timeout: float | None = None,  # noqa: ASYNC109 - seconds for the whole call, on the client's clock
    ) -> AsyncJobHandle:
        """START a batch job and return its `AsyncJobHandle` (one OpConJobAction call).

        Args:
            application: the AMT application (`ApplicationName`).
            job: the batch job (`JobName`); may be None when `file_name` is given.
            parameters: script parameters, in order: a list or tuple of strings
                (`NAME=VALUE` strings pass as is).
            task_values: a mapping, or a sequence of `TaskValue` or `(name, value)` pairs.
            run_as: the AMT user to run as (default: the application's default user).
            file_name: an absolute script path overriding the stored job definition.
            submit_user: who submitted the request (default BATCH).
            station: from where (default OPCON).
            queue: the batch queue (default: the server's).
            task_id: the START's `TaskId` (a UUID; default: a new one).
            xml_escape: send the parameters' and task values' text with `&`, `<`, `>`, `"`
                and `'` as XML entities (the ACS plug-in's "Requires XML Escape Sequences").
            timeout: seconds for the whole call, retries and a Logon included (None: the
                client's `total_timeout`); past it, `StartOutcomeUnknownError` or
                `APITimeoutError` as for any call.

        Raises `JobStartError` when the server answers without starting the job, and
        `StartOutcomeUnknownError` when it may or may not have queued it.
        """
        task_id = str(uuid.uuid4()) if task_id is None else _wire.validate_task_id(task_id)  # the handle keeps it
        result = await self.job_action(
            "START",
            application=application,
            job=job,
            parameters=parameters,
            task_values=task_values,
            run_as=run_as,
            file_name=file_name,
            submit_user=submit_user,
            station=station,
            queue=queue,
            task_id=task_id,
            xml_escape=xml_escape,
            timeout=timeout,
        )
        status = status_from_action(result, None, application, job)
        return AsyncJobHandle(self, result.batch_request_id, status=status, task_id=task_id)

    def job(self, batch_request_id: int, after: int = 0, task_id: str | None = None) -> AsyncJobHandle:
        """Re-attach to a started job (no call is made; a plain method on both clients).

        Args:
            batch_request_id: the job's `BatchRequestId`.
            after: the last message sequence already seen (`follow()` resumes after it).
            task_id: the `TaskId` of the START that made the job, when known (kept as
                the handle's `task_id`; None otherwise).
        """
        return AsyncJobHandle(self, batch_request_id, after=after, task_id=task_id)

    async def run(
        self,
        application: str,
        job: str | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a deadline on the client's clock
        poll: PollPolicy | None = None,
        on_status: AsyncOnStatus | None = None,
        success: ExitCriteria | str | None = None,
        **options: Unpack[StartOptions],
    ) -> JobResult:
        """`start(application, job, **options)` then `wait(timeout, poll, on_status)` on its
        handle: no deadline unless one is given; `timeout` bounds the whole run, the START
        included. `options` are `start()`'s (`parameters`, `task_values`, `run_as`, ...).

        `success` (OpCon's syntax, e.g. `"RG 0-4 OR EQ 99"`, or an `ExitCriteria`): raise
        `JobFailedError` unless the exit code meets it (`result.raise_for_code(success)`).
        None (default): never raise because of the job's own code.
        """
        criteria = None if success is None else ExitCriteria.coerce(success)  # checked before anything is sent
        deadline = self._deadline(timeout)
        handle = await self.start(application, job, timeout=timeout, **options)
        left = None if deadline is None else max(0.0, deadline - self._clock.now())
        result = await handle.wait(timeout=left, poll=poll, on_status=on_status)
        return result if criteria is None else result.raise_for_code(criteria)


P = ParamSpec("P")
R = TypeVar("R")


def _raw(
    method: Callable[Concatenate[AsyncClient, P], AsyncReturns[R]],
) -> Callable[Concatenate[AsyncClientWithRawResponse, P], AsyncReturns[RawResponse[R]]]:
    """The raw twin of a client method: the same parameters (overloads and all, so that mypy
    checks a raw call as it checks the plain one), the result kept with its HTTP answer."""

    name = method.__name__

    async def call(self: AsyncClientWithRawResponse, /, *args: P.args, **kwargs: P.kwargs) -> RawResponse[R]:
        # Looked up on the client itself: a subclass's own version of the method is the one called.
        bound: Callable[P, AsyncReturns[R]] = getattr(self._client, name)
        with capture() as answers:
            parsed = await bound(*args, **kwargs)
        return RawResponse(parsed, answers[0])

    call.__name__ = name
    call.__qualname__ = f"AsyncClientWithRawResponse.{name}"
    call.__doc__ = f"`{method.__qualname__}`, with the raw answer."
    shown = inspect.signature(method)  # what help() shows: the client's parameters
    call.__signature__ = shown.replace(return_annotation=f"RawResponse[{shown.return_annotation}]")  # type: ignore[attr-defined]
    return call


class AsyncClientWithRawResponse:
    """`client.with_raw_response`: the client's calls, each returning a `RawResponse`
    (`.parsed`, the redacted `.http_response`, `.status_code`, `.headers`, `.request_id`).

    Errors are raised as by the plain calls (an `APIStatusError` has its `.response`).
    """

    __slots__ = ("_client",)

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    job_action = _raw(AsyncClient.job_action)
    monitor_job = _raw(AsyncClient.monitor_job)
    get_messages = _raw(AsyncClient.get_messages)
