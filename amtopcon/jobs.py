"""Job handles: start, wait, follow, stop and kill an AMT batch job.

A handle is cheap (four slots: the client, the `BatchRequestId`, the last message
sequence seen and the last status seen) and resumable: save `handle.batch_request_id`
and `handle.last_sequence`, and `client.job(batch_request_id, after=last_sequence)`
rebuilds it after a restart with no call.

Every decision of a wait or a follow (when to ask next, the deadline, how long a server
outage has lasted, when `on_status` fires, which messages are new) lives in `_Watch`,
which does no I/O; `JobHandle` and `AsyncJobHandle` are two thin loops over it that only
call the client and sleep on the client's clock.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Final, NoReturn, cast

import anyio

from amtopcon import _checks, _wire
from amtopcon.errors import (
    AmtOpConError,
    APIConnectionError,
    ConflictError,
    InternalServerError,
    RateLimitError,
    ValidationError,
    WaitTimeoutError,
)
from amtopcon.models import ActionResult, JobResult, JobStatus, Message, MessagePage, TaskValue
from amtopcon.polling import PollPolicy

if TYPE_CHECKING:  # pragma: no cover
    from amtopcon._async_client import AsyncClient
    from amtopcon._base import BaseClient
    from amtopcon._client import Client
    from amtopcon.criteria import ExitCriteria

__all__ = ["AsyncJobHandle", "AsyncJobMethods", "JobHandle", "SyncJobMethods"]

logger = logging.getLogger("amtopcon")

#: Errors that a wait or a follow waits out (up to `PollPolicy.max_outage`): the server
#: could not be reached, failed (5xx after the client's own retries) or asked us to slow down.
_TRANSIENT: Final = (APIConnectionError, InternalServerError, RateLimitError)

#: Seconds a `with` / `async with` block gives its best-effort KILL when it is left by an
#: exception, on the client's clock (and, for `async with`, also in real time: the KILL
#: runs shielded from the cancellation that may have caused the exit).
_KILL_GRACE: Final = 30.0

#: Seconds a call of a wait or a follow may take when it starts at (or just before) the
#: wait's deadline: the last status check, made at the deadline, still gets an answer
#: (and `wait(timeout=0)` checks once). Every other call ends by the deadline.
_LAST_CHECK: Final = 1.0

OnStatus = Callable[[JobStatus], object]
AsyncOnStatus = Callable[[JobStatus], object | Awaitable[object]]
TaskValues = Mapping[str, str] | Sequence[TaskValue] | None


# --------------------------------------------------------------------------- no I/O


def _describe(status: JobStatus | None) -> str:
    return "none seen" if status is None else f"{status.code.name} ({int(status.code)})"


class _Watch:
    """The decisions of one `wait()` or `follow()`: no I/O, shared by both handles.

    A round is: sleep `next_sleep()` seconds, `begin()`, ask MonitorJob (until a terminal
    status was seen), then read message pages as `want_messages()` says, feeding each
    answer to `seen()` / `add_page()`, or a failure to `failed()`; `ok()` closes a round
    that succeeded. `done` says when to stop. Every call of a round is bounded by
    `call_deadline()`, so no call outlasts the wait's deadline (openai-python #3828: per-call
    timeouts must not add up past the caller's).
    """

    __slots__ = (
        "_checks_made",
        "_clock",
        "_delays",
        "_failed_last",
        "_handle",
        "_last_code",
        "_last_error",
        "_outage_since",
        "_policy",
        "_retry_after",
        "_round_began",
        "cursor",
        "deadline",
        "done",
        "ended",
        "following",
        "pending",
        "status",
        "timeout",
    )

    def __init__(
        self, handle: _HandleCore, timeout: object, poll: PollPolicy | None, *, following: bool, cursor: int
    ) -> None:
        if poll is not None and not isinstance(poll, PollPolicy):
            raise ValidationError("poll: expected a PollPolicy", field="poll")
        client = handle._client
        self._handle = handle
        self._clock = client.clock
        self._policy = poll or client.poll
        # None or infinity: no deadline.
        self.timeout = _checks.seconds(timeout, "timeout", finite=False, allow_none=True)
        now = self._clock.now()
        self.deadline = None if self.timeout is None else now + self.timeout
        self._delays = self._policy.delays(client._rng)
        known = handle._status
        if known is not None and known.is_terminal:
            # The job is known to have ended: ask once more at once for its final status.
            next(self._delays)
            self._delays = _chain_first(0.0, self._delays)
        self._checks_made = 0
        self._failed_last = False
        self._last_code: int | None = None
        self._last_error: AmtOpConError | None = None
        self._outage_since: float | None = None
        self._retry_after: float | None = None
        self._round_began = now
        self.following = following
        self.cursor = cursor  # messages up to this sequence have been read
        self.pending: list[Message] = []  # read but not yet handed out
        self.status: JobStatus | None = None
        self.ended = False  # a terminal status was seen
        self.done = False  # nothing left to do

    # -- timing
    def next_sleep(self) -> float:
        """Seconds to sleep before the next round; raises `WaitTimeoutError` past the deadline."""
        if self.ended and not self._failed_last:
            delay = 0.0
        else:
            delay = next(self._delays)
            if self._retry_after is not None:
                delay = max(delay, self._retry_after)
        if self.deadline is not None:
            remaining = self.deadline - self._clock.now()
            if remaining <= 0 and self._checks_made > 0:
                self._timed_out()
            delay = min(delay, max(remaining, 0.0))
        return delay

    def begin(self) -> None:
        """A round starts now (its calls are about to be made)."""
        self._round_began = self._clock.now()

    def call_deadline(self) -> float | None:
        """The deadline (on the client's clock) of a call made now: the wait's deadline,
        or `_LAST_CHECK` seconds from now for a call made at (or just before) it; None: no deadline."""
        if self.deadline is None:
            return None
        return max(self.deadline, self._clock.now() + _LAST_CHECK)

    def _timed_out(self) -> NoReturn:
        handle = self._handle
        last = self.status or handle._status
        what = "following" if self.following else "waiting for"
        if last is not None and last.is_terminal:
            why = f"it ended {_describe(last)} but its job log could not be read in time"
        else:
            why = f"it has not ended (last status: {_describe(last)})"
        error = WaitTimeoutError(
            f"stopped {what} AMT job {handle.batch_request_id} after {self.timeout:g}s: {why}",
            status=last,
            handle=handle,
        )
        if self._outage_since is not None and self._last_error is not None:
            raise error from self._last_error
        raise error

    # -- outcomes of a round
    def seen(self, status: JobStatus) -> bool:
        """Take a MonitorJob answer; True when `on_status` should hear of it."""
        self._checks_made += 1
        self.status = status
        self._handle._status = status
        if status.is_terminal:
            self.ended = True
        notify = self._last_code is None or int(status.code) != self._last_code
        self._last_code = int(status.code)
        if notify and logger.isEnabledFor(logging.DEBUG):
            logger.debug("AMT job %d: %s", status.batch_request_id, _describe(status))
        return notify

    def want_messages(self) -> bool:
        """Read messages in this round? (Following: always. Waiting: once the job has ended.)"""
        return self.following or self.ended

    def add_page(self, page: MessagePage) -> bool:
        """Keep the new messages of a page (by sequence, each once); True when another page waits."""
        before = self.cursor
        for message in page.messages:
            if message.sequence > self.cursor:
                self.pending.append(message)
                self.cursor = message.sequence
        if page.has_more and self.cursor == before:
            logger.warning(
                "AMT job %d: GetMessages said more messages wait but sent none after %d; stopping this read",
                self._handle.batch_request_id,
                before,
            )
            return False
        return page.has_more

    def ok(self) -> None:
        """The round succeeded (status and, where wanted, every page)."""
        self._failed_last = False
        self._retry_after = None
        self._outage_since = None
        self._last_error = None
        if self.ended:
            self.done = True

    def failed(self, error: AmtOpConError) -> None:
        """A call of the round failed: wait out an outage up to `max_outage`, else re-raise.

        The outage is measured from the start of the round whose call failed first (a
        failing call may itself take up to the client's `total_timeout`). A failure at or
        past the deadline ends the wait with `WaitTimeoutError` caused by it.
        """
        self._checks_made += 1
        if not isinstance(error, _TRANSIENT):
            raise error
        now = self._clock.now()
        if self._outage_since is None:
            self._outage_since = self._round_began
        self._last_error = error
        lasted = now - self._outage_since
        if lasted >= self._policy.max_outage:
            raise error
        if self.deadline is not None and now >= self.deadline:
            self._timed_out()
        self._failed_last = True
        retry_after = getattr(error, "retry_after", None)
        self._retry_after = retry_after if isinstance(retry_after, (int, float)) else None
        logger.warning(
            "AMT job %d: %s (%s); still waiting (outage for %.1fs of at most %gs)",
            self._handle.batch_request_id,
            type(error).__name__,
            error,
            lasted,
            self._policy.max_outage,
        )

    # -- handing out
    def take(self) -> Iterator[Message]:
        """The pending messages, each once; the handle's `last_sequence` moves with them."""
        handle = self._handle
        pending = self.pending
        self.pending = []
        for message in pending:
            if message.sequence > handle.last_sequence:
                handle.last_sequence = message.sequence
            yield message

    def result(self) -> JobResult:
        """The `JobResult` of a wait that is done."""
        assert self.status is not None
        handle = self._handle
        if self.cursor > handle.last_sequence:
            handle.last_sequence = self.cursor
        messages: tuple[Message, ...] = tuple(self.pending)
        return JobResult(self.status, messages)


def _chain_first(first: float, rest: Iterator[float]) -> Iterator[float]:
    yield first
    yield from rest


def _log_callback_error(status: JobStatus) -> None:
    logger.exception("AMT job %d: the on_status callback raised; the wait goes on", status.batch_request_id)


def _status_from_action(
    result: ActionResult, before: JobStatus | None, application: str | None = None, job: str | None = None
) -> JobStatus:
    """A `JobStatus` from an OpConJobAction answer, keeping what an earlier status knew."""
    return JobStatus(
        batch_request_id=result.batch_request_id,
        code=result.code,
        status_text=result.status_text,
        description=before.description if before is not None else None,
        application=before.application if before is not None else application,
        job_name=before.job_name if before is not None else job,
        submitted_at=before.submitted_at if before is not None else None,
        started_at=before.started_at if before is not None else None,
        ended_at=before.ended_at if before is not None else None,
    )


class _HandleCore:
    """What both handles hold, and everything about them that does no I/O."""

    __slots__ = ("_client", "_status", "batch_request_id", "last_sequence")

    _client: BaseClient
    batch_request_id: int
    last_sequence: int
    _status: JobStatus | None

    def __init__(
        self, client: BaseClient, batch_request_id: int, *, after: int = 0, status: JobStatus | None = None
    ) -> None:
        self._client = client
        self.batch_request_id = _wire.validate_batch_request_id(batch_request_id)
        self.last_sequence = _checks.sequence(after, "after")
        self._status = status

    @property
    def last_status(self) -> JobStatus | None:
        """The last status this handle has seen (from START, STOP/KILL or MonitorJob), or None."""
        return self._status

    @property
    def ended(self) -> bool:
        """True when the last status seen is terminal (this makes no call)."""
        return self._status is not None and self._status.is_terminal

    def _action_deadline(self, timeout: object) -> float | None:
        seconds = _checks.seconds(timeout, "timeout", inclusive=False, finite=False, allow_none=True)
        return None if seconds is None else self._client.clock.now() + seconds

    def _record_action(self, result: ActionResult) -> None:
        self._status = _status_from_action(result, self._status)

    def _kill_on_exit(self, exc_type: type[BaseException] | None) -> bool:
        return exc_type is not None and not self.ended

    def __repr__(self) -> str:
        status = self._status
        job = ""
        if status is not None and (status.application or status.job_name):
            job = f", job={status.application or '?'}/{status.job_name or '?'}"
        code = "unknown" if status is None else f"{status.code.name}({int(status.code)})"
        return (
            f"{type(self).__name__}(batch_request_id={self.batch_request_id}{job}, status={code}, "
            f"last_sequence={self.last_sequence})"
        )

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            f"a {type(self).__name__} does not pickle (it holds a live client); save batch_request_id and "
            "last_sequence and rebuild it with client.job(batch_request_id, after=last_sequence)"
        )


# --------------------------------------------------------------------------- sync


class JobHandle(_HandleCore):
    """A started (or re-attached) AMT batch job, driven through a `Client`.

    Made by `client.start(...)` or `client.job(batch_request_id, after=...)`, never directly.

    Attributes:
        batch_request_id: the job's `BatchRequestId`.
        last_sequence: the last message sequence this handle has handed out (by `follow()`
            or `wait()`); save it with `batch_request_id` to resume after a restart.
    """

    __slots__ = ()

    _client: Client

    @property
    def client(self) -> Client:
        """The client this handle calls through."""
        return self._client

    def status(self) -> JobStatus:
        """The job's status now (one MonitorJob call)."""
        status = self._client.monitor_job(self.batch_request_id)
        self._status = status
        return status

    def messages(self, after: int = 0) -> list[Message]:
        """Every message of the job after sequence `after`, reading all pages.

        A plain read: it does not move `last_sequence`.
        """
        watch = _Watch(self, None, None, following=True, cursor=_checks.sequence(after, "after"))
        while self._read_page(watch):
            pass
        return watch.pending

    def _read_page(self, watch: _Watch) -> bool:
        page = self._client._get_messages(self.batch_request_id, after=watch.cursor, deadline=watch.call_deadline())
        return watch.add_page(page)

    def _round(self, watch: _Watch, on_status: OnStatus | None) -> None:
        self._client.clock.sleep(watch.next_sleep())
        watch.begin()
        try:
            if not watch.ended:
                status = self._client._monitor_job(self.batch_request_id, watch.call_deadline())
                if watch.seen(status) and on_status is not None:
                    try:
                        on_status(status)
                    except Exception:
                        _log_callback_error(status)
            if watch.want_messages():
                while self._read_page(watch):
                    pass
        except AmtOpConError as error:
            watch.failed(error)
        else:
            watch.ok()

    def wait(
        self, timeout: float | None = None, poll: PollPolicy | None = None, on_status: OnStatus | None = None
    ) -> JobResult:
        """Poll until the job ends and return its `JobResult` with every message of its log.

        Args:
            timeout: the total deadline in seconds, on the client's clock; None waits as long
                as the job runs. Every call of the wait ends by it (each is bounded by the
                time left, and by the client's `total_timeout`); only the last status check,
                made at the deadline itself, may take up to 1 s more.
            poll: how to poll (default: the client's `PollPolicy`).
            on_status: called with the first status seen and then once per change of code;
                an exception inside it is logged and the wait goes on.

        Raises:
            WaitTimeoutError: the deadline passed first (`.status`, `.handle` say where it was).
            APIConnectionError, InternalServerError, RateLimitError: a server outage lasted
                longer than `poll.max_outage`; the last error is raised.

        It never raises because of the job's own code: see `JobResult.raise_for_code()`.
        Ctrl+C ends it at once, and does not kill the job.
        """
        watch = _Watch(self, timeout, poll, following=False, cursor=0)
        while not watch.done:
            self._round(watch, on_status)
        return watch.result()

    def follow(self, poll: PollPolicy | None = None, timeout: float | None = None) -> Iterator[Message]:
        """Yield each message of the job once, as it comes, until the job has ended.

        Starts after `last_sequence` (0 for a new handle) and moves it with every message
        yielded, so a follow resumed after a restart goes on where it stopped. Raises
        `WaitTimeoutError` when `timeout` seconds pass before the job ends; as in `wait()`,
        every call of the follow ends by that deadline.
        """
        watch = _Watch(self, timeout, poll, following=True, cursor=self.last_sequence)
        while not watch.done:
            self._round(watch, None)
            yield from watch.take()

    def stop(self, *, timeout: float | None = None) -> bool:
        """Ask the job to end (STOP): True when accepted, False when it had already ended.

        Args:
            timeout: seconds this call may take in all, retries and a Logon included (on
                the client's clock); past it, `APITimeoutError` (the STOP may have landed).
                None: the client's `total_timeout`.
        """
        return self._action("STOP", timeout)

    def kill(self, *, timeout: float | None = None) -> bool:
        """Terminate the job at once (KILL): True when accepted, False when it had already ended.

        Args:
            timeout: seconds this call may take in all, retries and a Logon included (on
                the client's clock); past it, `APITimeoutError` (the KILL may have landed).
                None: the client's `total_timeout`.
        """
        return self._action("KILL", timeout)

    def _action(self, action: str, seconds: object = None) -> bool:
        deadline = self._action_deadline(seconds)
        try:
            result = self._client._job_action(action, batch_request_id=self.batch_request_id, deadline=deadline)
        except ConflictError:
            return False
        self._record_action(result)
        return True

    def __enter__(self) -> JobHandle:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._kill_on_exit(exc_type):
            return
        try:
            self.kill(timeout=_KILL_GRACE)
        except Exception:
            logger.warning("AMT job %d: could not kill it on leaving the block", self.batch_request_id, exc_info=True)


# --------------------------------------------------------------------------- async


class AsyncJobHandle(_HandleCore):
    """The asynchronous twin of `JobHandle`, driven through an `AsyncClient`.

    Same attributes and methods as coroutines; `follow()` is an async iterator and the
    handle is an async context manager. Cancelling the awaiting task ends a wait at once
    and does not kill the job.
    """

    __slots__ = ()

    _client: AsyncClient

    @property
    def client(self) -> AsyncClient:
        """The client this handle calls through."""
        return self._client

    async def status(self) -> JobStatus:
        """The job's status now (one MonitorJob call)."""
        status = await self._client.monitor_job(self.batch_request_id)
        self._status = status
        return status

    async def messages(self, after: int = 0) -> list[Message]:
        """Every message of the job after sequence `after`, reading all pages (does not move `last_sequence`)."""
        watch = _Watch(self, None, None, following=True, cursor=_checks.sequence(after, "after"))
        while await self._read_page(watch):
            pass
        return watch.pending

    async def _read_page(self, watch: _Watch) -> bool:
        page = await self._client._get_messages(
            self.batch_request_id, after=watch.cursor, deadline=watch.call_deadline()
        )
        return watch.add_page(page)

    async def _round(self, watch: _Watch, on_status: AsyncOnStatus | None) -> None:
        await self._client.clock.asleep(watch.next_sleep())
        watch.begin()
        try:
            if not watch.ended:
                status = await self._client._monitor_job(self.batch_request_id, watch.call_deadline())
                if watch.seen(status) and on_status is not None:
                    try:
                        outcome = on_status(status)
                        if inspect.isawaitable(outcome):
                            await outcome
                    except Exception:
                        _log_callback_error(status)
            if watch.want_messages():
                while await self._read_page(watch):
                    pass
        except AmtOpConError as error:
            watch.failed(error)
        else:
            watch.ok()

    async def wait(
        self,
        timeout: float | None = None,  # noqa: ASYNC109 - a deadline on the client's clock, which fail_after cannot read
        poll: PollPolicy | None = None,
        on_status: AsyncOnStatus | None = None,
    ) -> JobResult:
        """Poll until the job ends and return its `JobResult` (see `JobHandle.wait`).

        `on_status` may be a plain function or a coroutine function.
        """
        watch = _Watch(self, timeout, poll, following=False, cursor=0)
        while not watch.done:
            await self._round(watch, on_status)
        return watch.result()

    async def follow(
        self,
        poll: PollPolicy | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a deadline on the client's clock
    ) -> AsyncIterator[Message]:
        """Yield each message of the job once, as it comes, until the job has ended (see `JobHandle.follow`)."""
        watch = _Watch(self, timeout, poll, following=True, cursor=self.last_sequence)
        while not watch.done:
            await self._round(watch, None)
            for message in watch.take():
                yield message

    async def stop(self, *, timeout: float | None = None) -> bool:  # noqa: ASYNC109 - on the client's clock
        """Ask the job to end (STOP): True when accepted, False when it had already ended.

        `timeout`: seconds this call may take in all (see `JobHandle.stop`).
        """
        return await self._action("STOP", timeout)

    async def kill(self, *, timeout: float | None = None) -> bool:  # noqa: ASYNC109 - on the client's clock
        """Terminate the job at once (KILL): True when accepted, False when it had already ended.

        `timeout`: seconds this call may take in all (see `JobHandle.kill`).
        """
        return await self._action("KILL", timeout)

    async def _action(self, action: str, seconds: object = None) -> bool:
        deadline = self._action_deadline(seconds)
        try:
            result = await self._client._job_action(action, batch_request_id=self.batch_request_id, deadline=deadline)
        except ConflictError:
            return False
        self._record_action(result)
        return True

    async def __aenter__(self) -> AsyncJobHandle:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._kill_on_exit(exc_type):
            return
        try:
            # Shielded: the exit may be a cancellation, which must not cancel the KILL too.
            with anyio.move_on_after(_KILL_GRACE, shield=True):
                await self.kill(timeout=_KILL_GRACE)
        except Exception:
            logger.warning("AMT job %d: could not kill it on leaving the block", self.batch_request_id, exc_info=True)


# --------------------------------------------------------------------------- client mixins


def _criteria(success: ExitCriteria | str | None) -> ExitCriteria | None:
    if success is None:
        return None
    from amtopcon.criteria import ExitCriteria

    return ExitCriteria.coerce(success)


class SyncJobMethods:
    """`start`, `job` and `run` of `Client`: the job level."""

    def start(
        self,
        application: str,
        job: str | None = None,
        *,
        parameters: Sequence[str] | None = None,
        task_values: TaskValues = None,
        run_as: str | None = None,
        file_name: str | None = None,
        submit_user: str = _wire.DEFAULT_SUBMIT_USER,
        station: str = _wire.DEFAULT_STATION,
        queue: str | None = None,
        task_id: str | None = None,
        xml_escape: bool = False,
    ) -> JobHandle:
        """START a batch job and return its `JobHandle` (one OpConJobAction call).

        Args:
            application: the AMT application (`ApplicationName`).
            job: the batch job (`JobName`); may be None when `file_name` is given.
            parameters: script parameters, in order (`NAME=VALUE` strings pass as is).
            task_values: a mapping, or a sequence of `TaskValue`.
            run_as: the AMT user to run as (default: the application's default user).
            file_name: an absolute script path overriding the stored job definition.
            submit_user: who submitted the request (default BATCH).
            station: from where (default OPCON).
            queue: the batch queue (default: the server's).
            task_id: the START's `TaskId` (a UUID; default: a new one).
            xml_escape: send the parameters' and task values' text with `&`, `<`, `>`, `"`
                and `'` as XML entities (the ACS plug-in's "Requires XML Escape Sequences").

        Raises `JobStartError` when the server answers without starting the job, and
        `StartOutcomeUnknownError` when it may or may not have queued it.
        """
        client = cast("Client", self)
        result = client.job_action(
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
        )
        status = _status_from_action(result, None, application, job)
        return JobHandle(client, result.batch_request_id, status=status)

    def job(self, batch_request_id: int, after: int = 0) -> JobHandle:
        """Re-attach to a started job (no call is made).

        Args:
            batch_request_id: the job's `BatchRequestId`.
            after: the last message sequence already seen (`follow()` resumes after it).
        """
        return JobHandle(cast("Client", self), batch_request_id, after=after)

    def run(
        self,
        application: str,
        job: str | None = None,
        *,
        parameters: Sequence[str] | None = None,
        task_values: TaskValues = None,
        run_as: str | None = None,
        file_name: str | None = None,
        submit_user: str = _wire.DEFAULT_SUBMIT_USER,
        station: str = _wire.DEFAULT_STATION,
        queue: str | None = None,
        task_id: str | None = None,
        xml_escape: bool = False,
        timeout: float | None = None,
        poll: PollPolicy | None = None,
        on_status: OnStatus | None = None,
        success: ExitCriteria | str | None = None,
    ) -> JobResult:
        """`start(...)` then `wait(timeout, poll, on_status)`: no deadline unless one is given.

        `success` (OpCon's syntax, e.g. `"RG 0-4 OR EQ 99"`, or an `ExitCriteria`): raise
        `JobFailedError` unless the exit code meets it (`result.raise_for_code(success)`).
        None (default): never raise because of the job's own code.
        """
        criteria = _criteria(success)  # bad text: ValidationError before anything is sent
        handle = self.start(
            application,
            job,
            parameters=parameters,
            task_values=task_values,
            run_as=run_as,
            file_name=file_name,
            submit_user=submit_user,
            station=station,
            queue=queue,
            task_id=task_id,
            xml_escape=xml_escape,
        )
        result = handle.wait(timeout=timeout, poll=poll, on_status=on_status)
        return result if criteria is None else result.raise_for_code(criteria)


class AsyncJobMethods:
    """`start`, `job` and `run` of `AsyncClient`: the job level."""

    async def start(
        self,
        application: str,
        job: str | None = None,
        *,
        parameters: Sequence[str] | None = None,
        task_values: TaskValues = None,
        run_as: str | None = None,
        file_name: str | None = None,
        submit_user: str = _wire.DEFAULT_SUBMIT_USER,
        station: str = _wire.DEFAULT_STATION,
        queue: str | None = None,
        task_id: str | None = None,
        xml_escape: bool = False,
    ) -> AsyncJobHandle:
        """START a batch job and return its `AsyncJobHandle` (see `Client.start`)."""
        client = cast("AsyncClient", self)
        result = await client.job_action(
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
        )
        status = _status_from_action(result, None, application, job)
        return AsyncJobHandle(client, result.batch_request_id, status=status)

    def job(self, batch_request_id: int, after: int = 0) -> AsyncJobHandle:
        """Re-attach to a started job (no call is made; a plain method, not a coroutine)."""
        return AsyncJobHandle(cast("AsyncClient", self), batch_request_id, after=after)

    async def run(
        self,
        application: str,
        job: str | None = None,
        *,
        parameters: Sequence[str] | None = None,
        task_values: TaskValues = None,
        run_as: str | None = None,
        file_name: str | None = None,
        submit_user: str = _wire.DEFAULT_SUBMIT_USER,
        station: str = _wire.DEFAULT_STATION,
        queue: str | None = None,
        task_id: str | None = None,
        xml_escape: bool = False,
        timeout: float | None = None,  # noqa: ASYNC109 - a deadline on the client's clock
        poll: PollPolicy | None = None,
        on_status: AsyncOnStatus | None = None,
        success: ExitCriteria | str | None = None,
    ) -> JobResult:
        """`await start(...)` then `await wait(timeout, poll, on_status)`: no deadline unless one is given;
        `success` as for `Client.run`."""
        criteria = _criteria(success)  # bad text: ValidationError before anything is sent
        handle = await self.start(
            application,
            job,
            parameters=parameters,
            task_values=task_values,
            run_as=run_as,
            file_name=file_name,
            submit_user=submit_user,
            station=station,
            queue=queue,
            task_id=task_id,
            xml_escape=xml_escape,
        )
        result = await handle.wait(timeout=timeout, poll=poll, on_status=on_status)
        return result if criteria is None else result.raise_for_code(criteria)
