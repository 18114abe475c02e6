"""The poll scheduler of a client: when each wait's or follow's next round is due.

Under asyncio, `AsyncPoller` keeps one heap of due checks per `AsyncClient` and event
loop: `(due, order, future)`. A waiting task parks on its own future, with no timer and
no sleeping coroutine stack of its own; one internal task, the *driver*, sleeps on the
client's clock until the earliest entry is due, resolves every future that is due, and
ends when the heap is empty (the next wait starts a new one). So 10,000 waits cost
10,000 heap entries and one timer. A wait cancelled while parked cancels its future: the
driver drops that entry when it reaches it and touches nothing else. How many calls the
woken rounds make at once is bounded separately, by the client's `max_in_flight`.

Under other event loops (trio, through anyio) each wait sleeps on the clock itself, as
`Poller`, the sync twin, does for each thread: there is no structured place there for a
task the waits do not own.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from amtopcon._clock import Clock

if TYPE_CHECKING:  # pragma: no cover - asyncio is imported on first use (a sync client never loads it)
    import asyncio

__all__ = ["AsyncPoller", "Poller"]


class AsyncPoller:
    """The due checks of one `AsyncClient`'s waits and follows, with one timer for all (asyncio)."""

    __slots__ = ("_clock", "_driver", "_heap", "_kicked", "_loop", "_seq", "_sleeping", "_target")

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop the entries belong to
        self._driver: asyncio.Task[None] | None = None
        self._sleeping = False  # the driver sleeps on the clock (and may be cut short)
        self._kicked = False  # its sleep was cut short for an earlier entry
        self._target = math.inf  # the clock reading it sleeps until

    def __len__(self) -> int:
        """Entries still waiting to be due (a cancelled one is not counted)."""
        return sum(1 for entry in self._heap if not entry[2].done())

    def asleep(self, seconds: float) -> Awaitable[None]:
        """Something to await for `seconds` of the client's clock (cancellation interrupts it)."""
        import asyncio

        loop = asyncio._get_running_loop()
        if loop is None or not seconds > 0:
            return self._clock.asleep(seconds)
        if loop is not self._loop:  # first use, or the entries of an event loop that has ended
            self._loop = loop
            self._heap = []
            self._driver = None
            self._sleeping = self._kicked = False
        future: asyncio.Future[None] = loop.create_future()
        due = self._clock.now() + seconds
        heapq.heappush(self._heap, (due, next(self._seq), future))
        driver = self._driver
        if driver is None or driver.done():
            self._driver = loop.create_task(self._drive(), name="amtopcon poll scheduler")
        elif self._sleeping and due < self._target and not self._kicked:
            self._kicked = True  # the driver sleeps too long now: it re-aims at this entry
            driver.cancel()
        return future

    def close(self) -> None:
        """End the driver task now (its client closes): a wait still parked wakes and checks
        early; nothing lingers until the last cancelled entry would have been due."""
        import asyncio

        driver = self._driver
        if driver is not None and not driver.done() and asyncio._get_running_loop() is self._loop:
            driver.cancel()

    async def _drive(self) -> None:
        """Sleep until the earliest entry is due, resolve every entry that is; end when none is left."""
        import asyncio

        clock = self._clock
        heap = self._heap
        me = asyncio.current_task()
        failure: Exception | None = None
        try:
            while True:
                while heap and heap[0][2].done():  # cancelled while parked
                    heapq.heappop(heap)
                if not heap:
                    return
                now = clock.now()
                due = heap[0][0]
                if due <= now:
                    while heap and heap[0][0] <= now:
                        future = heapq.heappop(heap)[2]
                        if not future.done():
                            future.set_result(None)
                    continue
                self._target = due
                self._sleeping = True
                try:
                    await clock.asleep(due - now)
                except asyncio.CancelledError:
                    assert me is not None
                    if not self._kicked or me.uncancel() > 0:  # not (only) our own kick
                        raise
                finally:
                    self._sleeping = self._kicked = False
                    self._target = math.inf
        except Exception as error:  # the clock failed: every parked wait raises it, none spins
            failure = error
        finally:
            if self._driver is me:
                self._driver = None
            # Ended early: cancelled (the loop shuts down) wakes every parked wait now rather
            # than never (a wait woken early only checks early); a failure is raised in each.
            for _, _, future in heap:
                if not future.done():
                    if failure is None:
                        future.set_result(None)
                    else:
                        future.set_exception(failure)
            heap.clear()


class Poller:
    """The twin of `AsyncPoller`: each thread sleeps on the clock itself."""

    __slots__ = ("_clock",)

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for `seconds` of the client's clock."""
        self._clock.sleep(seconds)

    def close(self) -> None:
        """Nothing to end: each thread sleeps for itself."""
