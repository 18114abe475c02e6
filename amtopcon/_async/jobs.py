"""`AsyncJobHandle`: start, wait, follow, stop and kill an AMT batch job; a thin loop
over the no-I/O `Watch` (`amtopcon._core.watch`) that only calls the client and sleeps
on the client's clock.

This file is the source of truth for both flavours: `scripts/unasync.py` writes its sync
twin in `amtopcon/_sync/` from it. Edit this one, then run the script."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING

from amtopcon import _constants as C
from amtopcon import _validate
from amtopcon._core.primitives import AsyncShield, anotify
from amtopcon._core.watch import AsyncOnStatus, HandleCore, Watch, log_callback_error
from amtopcon._logging import logger
from amtopcon.errors import AmtOpConError, ConflictError
from amtopcon.models import JobResult, JobStatus, Message
from amtopcon.polling import PollPolicy

if TYPE_CHECKING:  # pragma: no cover
    from amtopcon._async.client import AsyncClient

__all__ = ["AsyncJobHandle"]


class AsyncJobHandle(HandleCore):
    """A started (or re-attached) AMT batch job, driven through its `AsyncClient`.

    Made by `client.start(...)` or `client.job(batch_request_id, after=...)`, never directly.
    Its methods are coroutines, `follow()` is an async iterator and the handle is an async
    context manager. Cancelling the awaiting task ends a wait at once and does not kill the job.

    Attributes:
        batch_request_id: the job's `BatchRequestId`.
        last_sequence: the last message sequence this handle has handed out (by `follow()`
            or `wait()`); save it with `batch_request_id` to resume after a restart.
        task_id: the `TaskId` of the START that made the job (the one `start()` sent, chosen
            or generated), or what `client.job(..., task_id=...)` was given; None when
            re-attached without one.
    """

    __slots__ = ()

    _client: AsyncClient

    @property
    def client(self) -> AsyncClient:
        """The client this handle calls through."""
        return self._client

    async def status(self, *, timeout: float | None = None) -> JobStatus:  # noqa: ASYNC109 - on the client's clock
        """The job's status now (one MonitorJob call).

        `timeout`: seconds for the whole call, retries and a Logon included (None: the
        client's `total_timeout`); past it, `APITimeoutError`.
        """
        status = await self._client.monitor_job(self.batch_request_id, timeout=timeout)
        self._status = status
        return status

    async def messages(
        self,
        after: int = 0,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - on the client's clock
    ) -> list[Message]:
        """Every message of the job after sequence `after`, reading all pages.

        A plain read: it does not move `last_sequence`. `timeout`: seconds for all the
        pages together (None: each call bounded by the client's `total_timeout`); past
        it, `APITimeoutError`.
        """
        deadline = self._action_deadline(timeout)
        watch = Watch(self, None, None, following=True, cursor=_validate.sequence(after, "after"), one_read=True)
        while await self._read_page(watch, deadline):
            pass
        return watch.collected()

    async def _read_page(self, watch: Watch, deadline: float | None = None) -> bool:
        if deadline is None:
            deadline = watch.call_deadline()
        page = await self._client._get_messages(self.batch_request_id, after=watch.cursor, deadline=deadline)
        return watch.add_page(page)

    async def _check(self, watch: Watch, on_status: AsyncOnStatus | None) -> None:
        # The status part of a round (until a terminal status was seen).
        if watch.ended:
            return
        status = await self._client._monitor_job(self.batch_request_id, watch.call_deadline())
        if watch.seen(status) and on_status is not None:
            try:
                await anotify(on_status, status)
            except Exception:
                log_callback_error(status)

    async def wait(
        self,
        timeout: float | None = None,  # noqa: ASYNC109 - a deadline on the client's clock, which fail_after cannot read
        poll: PollPolicy | None = None,
        on_status: AsyncOnStatus | None = None,
    ) -> JobResult:
        """Poll until the job ends and return its `JobResult` with every message of its log.

        Args:
            timeout: the total deadline in seconds, on the client's clock; None waits as long
                as the job runs. Every call of the wait ends by it (each is bounded by the
                time left, and by the client's `total_timeout`); only the last status check,
                made at the deadline itself, may take up to 1 s more.
            poll: how to poll (default: the client's `PollPolicy`).
            on_status: called with the first status seen and then once per change of code
                (a coroutine function is awaited); an exception inside it is logged and the
                wait goes on.

        Raises:
            WaitTimeoutError: the deadline passed first (`.status`, `.handle` say where it was).
            APIConnectionError, InternalServerError, RateLimitError: a server outage lasted
                longer than `poll.max_outage`; the last error is raised.

        It never raises because of the job's own code: see `JobResult.raise_for_code()`.
        Ctrl+C or cancelling the task ends it at once, and does not kill the job.
        """
        watch = Watch(self, timeout, poll, following=False, cursor=0)
        with watch.observer:
            while not watch.done:
                # Parked on the client's poll scheduler: nothing but the wait's own frame is held.
                await self._client._poller.asleep(watch.next_sleep())
                with watch.observer.current():
                    watch.begin()
                    try:
                        await self._check(watch, on_status)
                        if watch.want_messages():
                            while await self._read_page(watch):
                                pass
                    except AmtOpConError as error:
                        watch.failed(error)
                    else:
                        watch.ok()
            return watch.result()

    async def follow(
        self,
        poll: PollPolicy | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a deadline on the client's clock
    ) -> AsyncIterator[Message]:
        """Yield each message of the job once, as it comes, until the job has ended.

        Messages are handed out page by page (one GetMessages call, then its messages), so
        a long log is never held whole. Starts after `last_sequence` (0 for a new handle)
        and moves it with every message yielded, so a follow resumed after a restart goes on where it stopped. Raises
        `WaitTimeoutError` when `timeout` seconds pass before the job ends; as in `wait()`,
        every call of the follow ends by that deadline.
        """
        watch = Watch(self, timeout, poll, following=True, cursor=self.last_sequence)
        with watch.observer:  # current around each call only: never across a yield
            while not watch.done:
                await self._client._poller.asleep(watch.next_sleep())
                watch.begin()
                try:
                    with watch.observer.current():
                        await self._check(watch, None)
                    more = watch.want_messages()
                    while more:
                        with watch.observer.current():
                            more = await self._read_page(watch)
                        # Page by page: what one page brought is handed out before the next is read.
                        for message in watch.take():
                            yield message
                except AmtOpConError as error:
                    watch.failed(error)
                else:
                    watch.ok()

    async def stop(self, *, timeout: float | None = None) -> bool:  # noqa: ASYNC109 - on the client's clock
        """Ask the job to end (STOP): True when accepted, False when it had already ended.

        Args:
            timeout: seconds this call may take in all, retries and a Logon included (on
                the client's clock); past it, `APITimeoutError` (the STOP may have landed).
                None: the client's `total_timeout`.
        """
        return await self._action("STOP", timeout)

    async def kill(self, *, timeout: float | None = None) -> bool:  # noqa: ASYNC109 - on the client's clock
        """Terminate the job at once (KILL): True when accepted, False when it had already ended.

        Args:
            timeout: seconds this call may take in all, retries and a Logon included (on
                the client's clock); past it, `APITimeoutError` (the KILL may have landed).
                None: the client's `total_timeout`.
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
            with AsyncShield(C.KILL_GRACE):
                await self.kill(timeout=C.KILL_GRACE)
        except Exception:
            logger.warning("AMT job %d: could not kill it on leaving the block", self.batch_request_id, exc_info=True)
