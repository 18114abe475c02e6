"""The decisions of one `wait()` or `follow()`, with no I/O: when to ask next, the
deadline, how long a server outage has lasted, when `on_status` fires, which messages
are new. `JobHandle` and `AsyncJobHandle` are two thin loops over `Watch`.

Theory of operation. A round is: sleep `next_sleep()` seconds, `begin()`, ask MonitorJob
(until a terminal status was seen), then read message pages as `want_messages()` says,
feeding each answer to `seen()` / `add_page()` (a follow hands out each page's messages
before reading the next), or a failure to `failed()`; `ok()` closes
a round that succeeded. `done` says when to stop.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Final, NoReturn

from amtopcon import _constants as C
from amtopcon import _validate, _wire
from amtopcon._core.observe import WatchObserver
from amtopcon._logging import logger
from amtopcon.errors import (
    AmtOpConError,
    APIConnectionError,
    InternalServerError,
    InvalidResponseError,
    RateLimitError,
    ValidationError,
    WaitTimeoutError,
)
from amtopcon.models import ActionResult, JobResult, JobStatus, Message, MessagePage
from amtopcon.polling import PollPolicy

if TYPE_CHECKING:  # pragma: no cover
    from amtopcon._async.client import AsyncClient
    from amtopcon._sync.client import Client

__all__ = ["NO_PENDING", "TRANSIENT", "AsyncOnStatus", "HandleCore", "OnStatus", "Watch", "status_from_action"]

#: Errors that a wait or a follow waits out (up to `PollPolicy.max_outage`): the server
#: could not be reached, failed (5xx after the client's own retries) or asked us to slow down.
TRANSIENT: Final = (APIConnectionError, InternalServerError, RateLimitError)

OnStatus = Callable[[JobStatus], object]
AsyncOnStatus = Callable[[JobStatus], object | Awaitable[object]]


#: The `pending` of a watch that holds no message: shared, never appended to (10,000 waits
#: would otherwise hold 10,000 empty lists).
NO_PENDING: Final[list[Message]] = []


def _describe(status: JobStatus | None) -> str:
    return "none seen" if status is None else f"{status.code.name} ({int(status.code)})"


class Watch:
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
        "_current",
        "_cut",
        "_failed_last",
        "_handle",
        "_last_code",
        "_last_error",
        "_one_read",
        "_outage_since",
        "_pages",
        "_policy",
        "_queued",
        "_retry_after",
        "_rng",
        "_round_began",
        "_waited",
        "cursor",
        "deadline",
        "done",
        "ended",
        "following",
        "observer",
        "pending",
        "status",
        "timeout",
    )

    def __init__(
        self,
        handle: HandleCore,
        timeout: object,
        poll: PollPolicy | None,
        *,
        following: bool,
        cursor: int,
        one_read: bool = False,
    ) -> None:
        if poll is not None and not isinstance(poll, PollPolicy):
            raise ValidationError("poll: expected a PollPolicy", field="poll")
        client = handle._client
        self._handle = handle
        self._clock = client.clock
        self._policy = poll or client.poll
        # None or infinity: no deadline (infinity becomes None, never an infinite deadline).
        self.timeout = _no_deadline_if_inf(_validate.seconds(timeout, "timeout", finite=False, allow_none=True))
        now = self._clock.now()
        self.deadline = None if self.timeout is None else now + self.timeout
        # The policy's schedule (`PollPolicy.delays()`), kept as two numbers rather than a
        # generator: a wait is small (issue 10: 10,000 waits at once).
        self._rng = client._rng
        self._waited = -1.0  # seconds of schedule so far; < 0: not begun
        self._current = 0.0
        self._queued: float | None = None  # a delay to take before the schedule's next
        known = handle._status
        if known is not None and known.is_terminal:
            # The job is known to have ended: ask once more at once for its final status.
            self._next_delay()
            self._queued = 0.0
        self._checks_made = 0
        self._failed_last = False
        self._last_code: int | None = None
        self._last_error: AmtOpConError | None = None
        self._outage_since: float | None = None
        self._retry_after: float | None = None
        self._round_began = now
        self._pages = 0  # GetMessages pages read in this round
        self._cut = False  # this round stopped at C.MAX_PAGES_PER_READ (a follow goes on next round)
        self._one_read = one_read  # messages(): one read, no rounds
        self.following = following
        self.cursor = cursor  # messages up to this sequence have been read
        self.pending: list[Message] = NO_PENDING  # read but not yet handed out (a list of its own once any is)
        self.status: JobStatus | None = None
        self.ended = False  # a terminal status was seen
        self.done = False  # nothing left to do
        #: What telemetry sees of this wait or follow (`messages()` is a plain read: not watched).
        self.observer = WatchObserver() if one_read else client._observer.watch(
            handle.batch_request_id, "follow" if following else "wait"
        )

    # -- timing
    def next_sleep(self) -> float:
        """Seconds to sleep before the next round; raises `WaitTimeoutError` past the deadline."""
        if self.ended and not self._failed_last:
            delay = 0.0
        else:
            delay = self._next_delay()
            if self._retry_after is not None:  # capped by the contract, like a call's own retries
                delay = max(delay, min(self._retry_after, C.MAX_RETRY_AFTER))
            if self._outage_since is not None:  # never sleep past the outage's bound
                delay = min(delay, max(self._outage_since + self._policy.max_outage - self._clock.now(), 0.0))
        if self.deadline is not None:
            remaining = self.deadline - self._clock.now()
            if remaining <= 0 and self._checks_made > 0:
                self._timed_out()
            delay = min(delay, max(remaining, 0.0))
        return delay

    def _next_delay(self) -> float:
        """The next delay of the policy's schedule (as `PollPolicy.delays()` yields them)."""
        if self._queued is not None:
            delay, self._queued = self._queued, None
            return delay
        policy = self._policy
        if self._waited < 0:
            delay = policy._spread(policy.initial_delay, self._rng)
            self._waited, self._current = delay, policy.interval
            return delay
        delay, self._current = policy._after(self._waited, self._current, self._rng)
        self._waited += delay
        return delay

    def begin(self) -> None:
        """A round starts now (its calls are about to be made)."""
        self._round_began = self._clock.now()
        self._pages = 0
        self._cut = False

    def call_deadline(self) -> float | None:
        """The deadline (on the client's clock) of a call made now: the wait's deadline,
        or `C.LAST_CHECK` seconds from now for a call made at (or just before) it; None: no deadline."""
        if self.deadline is None:
            return None
        return max(self.deadline, self._clock.now() + C.LAST_CHECK)

    def _timed_out(self) -> NoReturn:
        handle = self._handle
        if self._outage_since is not None:
            self.observer.outage_ended(self._clock.now() - self._outage_since, "timed_out")
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
        first_end = status.is_terminal and not self.ended
        if status.is_terminal:
            self.ended = True
        notify = self._last_code is None or int(status.code) != self._last_code
        self._last_code = int(status.code)
        self.observer.checked(status, notify)
        if first_end:
            self.observer.job_ended(status)
        if notify and logger.isEnabledFor(logging.DEBUG):
            logger.debug("AMT job %d: %s", status.batch_request_id, _describe(status))
        return notify

    def want_messages(self) -> bool:
        """Read messages in this round? (Following: always. Waiting: once the job has ended.)"""
        return self.following or self.ended

    def add_page(self, page: MessagePage) -> bool:
        """Keep the new messages of a page (by sequence, each once); True when another page waits.

        Endless paging is refused: a page that says more wait but brings no message past
        the cursor raises `InvalidResponseError`, and so does a read (`messages()`, a
        `wait()`'s job log) past `C.MAX_PAGES_PER_READ` pages; a `follow()` reads the rest
        in its next round instead, handing out what it has.
        """
        before = self.cursor
        for message in page.messages:
            if message.sequence > self.cursor:
                if self.pending is NO_PENDING:
                    self.pending = []
                self.pending.append(message)
                self.cursor = message.sequence
        self._pages += 1
        job = self._handle.batch_request_id
        if page.has_more and self.cursor == before:
            raise InvalidResponseError(
                f"GetMessages for AMT job {job} said more messages wait but sent none past sequence {before} "
                "(no progress; the read stopped)"
            )
        if page.has_more and self._pages >= C.MAX_PAGES_PER_READ:
            if self.following and not self._one_read:
                self._cut = True
                return False
            raise InvalidResponseError(
                f"GetMessages for AMT job {job} still said more messages wait after {self._pages} pages "
                f"(the bound of one read; use follow() for a longer log)"
            )
        return page.has_more

    def ok(self) -> None:
        """The round succeeded (status and, where wanted, every page)."""
        self._failed_last = False
        self._retry_after = None
        if self._outage_since is not None:
            self.observer.outage_ended(self._clock.now() - self._outage_since, "recovered")
        self._outage_since = None
        self._last_error = None
        if self.ended and not self._cut:
            self.done = True

    def failed(self, error: AmtOpConError) -> None:
        """A call of the round failed: wait out an outage up to `max_outage`, else re-raise.

        The outage is measured from the start of the round whose call failed first (a
        failing call may itself take up to the client's `total_timeout`). A failure at or
        past the deadline ends the wait with `WaitTimeoutError` caused by it.
        """
        self._checks_made += 1
        self.observer.check_failed(error)
        if not isinstance(error, TRANSIENT):
            raise error
        now = self._clock.now()
        if self._outage_since is None:
            self._outage_since = self._round_began
        self._last_error = error
        lasted = now - self._outage_since
        if lasted >= self._policy.max_outage:
            self.observer.outage_ended(lasted, "gave_up")
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
        self.pending = NO_PENDING
        for message in pending:
            if message.sequence > handle.last_sequence:
                handle.last_sequence = message.sequence
            yield message

    def collected(self) -> list[Message]:
        """What a one-off read (`messages()`) hands back: the messages read, as a list of the caller's own."""
        return [] if self.pending is NO_PENDING else self.pending

    def result(self) -> JobResult:
        """The `JobResult` of a wait that is done."""
        assert self.status is not None
        handle = self._handle
        if self.cursor > handle.last_sequence:
            handle.last_sequence = self.cursor
        messages: tuple[Message, ...] = tuple(self.pending)
        return JobResult(self.status, messages)


def _no_deadline_if_inf(seconds: float | None) -> float | None:
    """Infinity (like None) means no deadline: an infinite one would reach a socket timeout."""
    return None if seconds == math.inf else seconds


def log_callback_error(status: JobStatus) -> None:
    logger.exception("AMT job %d: the on_status callback raised; the wait goes on", status.batch_request_id)


def status_from_action(
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


class HandleCore:
    """What both handles hold, and everything about them that does no I/O."""

    __slots__ = ("_client", "_status", "batch_request_id", "last_sequence", "task_id")

    _client: Client | AsyncClient
    batch_request_id: int
    last_sequence: int
    task_id: str | None
    _status: JobStatus | None

    def __init__(
        self,
        client: Client | AsyncClient,
        batch_request_id: int,
        *,
        after: int = 0,
        status: JobStatus | None = None,
        task_id: str | None = None,
    ) -> None:
        self._client = client
        self.batch_request_id = _wire.validate_batch_request_id(batch_request_id)
        self.last_sequence = _validate.sequence(after, "after")
        self.task_id = None if task_id is None else _wire.validate_task_id(task_id)
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
        seconds = _validate.seconds(timeout, "timeout", inclusive=False, finite=False, allow_none=True)
        seconds = _no_deadline_if_inf(seconds)
        return None if seconds is None else self._client.clock.now() + seconds

    def _record_action(self, result: ActionResult) -> None:
        self._status = status_from_action(result, self._status)

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

    def _repr_html_(self) -> str:
        from amtopcon import _html

        name = type(self).__name__
        return _html.job_handle(name, self.batch_request_id, self.last_sequence, self._status, self.ended)

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            f"a {type(self).__name__} does not pickle (it holds a live client); save batch_request_id and "
            "last_sequence (and task_id) and rebuild it with client.job(batch_request_id, after=last_sequence, "
            "task_id=task_id)"
        )
