"""Clocks for the emulator: a virtual one that tests move, and a sped-up real one for demos.

Both are `amtopcon.Clock` subclasses, so a client given one of them waits on the same
time line as the emulator. Clock seconds become timestamps through the clock's `epoch`
(the wall-clock moment of clock second 0).
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import sys
import threading
import time as _time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from amtopcon._clock import Clock, sleep_for

if TYPE_CHECKING:  # pragma: no cover
    import anyio

__all__ = ["DEFAULT_EPOCH", "EmulatorClock", "SpeedClock", "VirtualClock"]

#: The wall-clock moment of second 0 of a `VirtualClock`: a Monday morning.
DEFAULT_EPOCH = datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC)


class EmulatorClock(Clock):
    """A `Clock` that also knows the wall-clock moment of its second 0 (`epoch`).

    The emulator turns its clock seconds into the timestamps it reports with `at()`.
    """

    epoch: datetime = DEFAULT_EPOCH

    def at(self, seconds: float) -> datetime:
        """The aware datetime of clock second `seconds`."""
        return self.epoch + timedelta(seconds=seconds)

    def time(self) -> float:
        """Wall-clock seconds since the Unix epoch on this clock's time line."""
        return self.epoch.timestamp() + self.now()


class _Sleeper:
    """One pending sleep on a `VirtualClock`: its wake-up time and how to wake it."""

    __slots__ = ("event", "gone", "seq", "wake", "woken")

    def __init__(self, wake: float, seq: int, event: anyio.Event | None = None) -> None:
        self.wake = wake
        self.seq = seq
        self.event = event  # async sleepers: set when woken or asked to drive
        self.woken = False  # virtual time reached `wake`
        self.gone = False  # cancelled before it woke

    def __lt__(self, other: _Sleeper) -> bool:
        return (self.wake, self.seq) < (other.wake, other.seq)


class _Group:
    """The async sleepers of one event loop, and the one of them that drives the clock."""

    __slots__ = ("driver", "heap", "loop", "waiting")

    def __init__(self, loop: object) -> None:
        self.loop = loop  # the asyncio loop, or the trio run's token
        self.heap: list[_Sleeper] = []
        self.driver: _Sleeper | None = None
        self.waiting: anyio.CancelScope | None = None  # the driver's wait for an idle trio run

    def call_soon(self, callback: Callable[[], None]) -> None:
        """Run `callback` on the group's event loop, from any thread (nothing when the loop has ended)."""
        loop = self.loop
        try:
            if isinstance(loop, asyncio.AbstractEventLoop):
                loop.call_soon_threadsafe(callback)
            else:
                loop.run_sync_soon(callback)  # type: ignore[attr-defined]
        except RuntimeError:  # closed loop, or trio.RunFinishedError
            pass

    def earliest(self) -> _Sleeper | None:
        """The pending sleeper that wakes first (drops woken and cancelled ones from the top)."""
        heap = self.heap
        while heap and (heap[0].woken or heap[0].gone):
            heapq.heappop(heap)
        return heap[0] if heap else None


def _running_loop() -> object:
    """The running asyncio loop or trio run (its token), or None outside one (one loop per thread)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        pass
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            return trio.lowlevel.current_trio_token()
        except RuntimeError:
            pass
    return None


def _asyncio_idle(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether every task of `loop` but the running one waits on a future not yet done.

    What trio's `wait_all_tasks_blocked()` knows, asked of asyncio: a task that yielded
    (`sleep(0)`), was just created, or whose future is done is runnable; so is a callback
    queued on the loop. A task waiting on real I/O, a real timer or a thread counts as blocked.
    """
    ready = getattr(loop, "_ready", None)  # the callbacks queued to run (asyncio's own loops)
    if ready is not None:
        # A runnable task always has one there (its first step, a wake-up from a done future or a
        # `sleep(0)`), so an empty queue answers at once: no walk over every task at each jump.
        return not ready
    me = asyncio.current_task(loop)  # a loop that hides its queue (uvloop): ask every task
    for task in asyncio.all_tasks(loop):
        if task is not me:
            waiter = getattr(task, "_fut_waiter", None)
            if waiter is None or waiter.done():
                return False
    return True


class VirtualClock(EmulatorClock):
    """A clock that moves only when told: `advance()`, or by sleeps on it, which overlap.

    Sleeping on it never waits for the time asked. A sleep of `s` seconds wakes at
    virtual time `now() + s`, and the clock jumps to the earliest pending wake-up only
    once every sleeper is waiting, like trio's `MockClock` with autojump. So concurrent
    sleeps overlap instead of adding up: 1,000 tasks each sleeping 1 s move the clock by
    1 s, and 50 jobs polled at once take as much virtual time as one.

    * Sequential code (one task, or one thread): `sleep(s)` / `await asleep(s)` advance
      the clock by exactly `s`, as if nothing else ran, without waiting for anything
      (a thread's first sleep while other threads exist may wait `thread_grace` real
      seconds for them to join, see below; the clock reads the same afterwards).
    * Async tasks (anyio, on asyncio or trio): the sleepers of one event loop take turns
      driving it. The clock jumps to the earliest wake-up, and the sleepers due wake
      together, once the event loop says every other task is blocked: trio's
      `wait_all_tasks_blocked()`, and on asyncio every task waiting on a future that is
      not done with no callback queued. A task still running holds the jump back; a task
      blocked on real I/O, a real timer or a worker thread does not (the clock jumps
      without it, as a lone sleep would).
    * Threads (`sleep()`, e.g. a sync `Client` per worker of a thread pool): there is
      no knowing which threads will sleep, so the clock goes by the threads that slept
      on it in the last `thread_window` real seconds. A sleeping thread waits until
      the clock reaches its wake-up. The clock jumps to the earliest waiting thread's
      wake-up as soon as all those threads are waiting again and none joined them in
      the last `thread_grace` real seconds (a thread's first sleep counts as joining
      when other threads exist), or else once no thread has started or ended a sleep
      for `thread_grace` real seconds. So the only thread of a process never waits,
      threads sleeping side by side overlap, and a thread that sleeps only after the
      others have gone ahead finds the clock moved on.
    * `advance(s)` moves the clock at once and wakes every sleeper that is due (a thread
      or a task of the calling thread's event loop at once, a task of another thread's
      loop at that loop's next trip).

    Time never goes backwards: a jump only moves to a later wake-up. Threads and each
    event loop's tasks jump separately; the clock is one, so a jump made by one of them
    also wakes the sleepers of the others that it passed. Thread-safe.

    Args:
        start: the clock's initial reading in seconds.
        epoch: the aware datetime of clock second 0 (default 2026-01-05T08:00:00+00:00).
    """

    # Threads are the one place the clock guesses from real time: no scheduler tells when
    # every thread that will sleep on it is asleep (an event loop does, for its tasks).
    #: Real seconds without a thread starting or ending a sleep before it jumps for them.
    thread_grace: float = 0.02
    #: Real seconds for which a thread that slept on the clock is waited for.
    thread_window: float = 0.5

    def __init__(self, start: float = 0.0, *, epoch: datetime = DEFAULT_EPOCH) -> None:
        if epoch.tzinfo is None:
            raise ValueError("epoch: expected an aware datetime")
        self._now = float(start)
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._seq = itertools.count()
        self._active = _time.monotonic()  # real time of the last thread sleep starting or ending
        self._groups: dict[int, _Group] = {}  # the async sleepers, per event-loop thread
        self._threads: list[_Sleeper] = []  # heap of the sleeping threads
        self._waiting: dict[int, _Sleeper] = {}  # thread id -> its pending sleep
        self._thread_seen: dict[int, float] = {}  # thread id -> real time it last started or ended a sleep
        self._joined = -1e300  # real time a thread joined the sleepers while other threads ran
        self.epoch = epoch

    def now(self) -> float:
        """The virtual time in seconds."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward by `seconds` (>= 0) and wake the sleepers due; returns the new reading."""
        if not seconds >= 0:
            raise ValueError(f"seconds: a clock only moves forward, got {seconds!r}")
        with self._lock:
            self._jump_to(self._now + float(seconds))
            return self._now

    def _jump_to(self, moment: float) -> None:
        """Move the clock to `moment` (never back) and wake the threads due (hold the lock)."""
        self._now = max(self._now, moment)
        self._wake_groups()
        woke = False
        heap = self._threads
        while heap and (heap[0].gone or heap[0].woken or heap[0].wake <= self._now):
            first = heapq.heappop(heap)
            if not (first.gone or first.woken):
                first.woken = True
                woke = True
        if woke:
            real = _time.monotonic()
            for ident in [ident for ident, entry in self._waiting.items() if entry.woken]:
                del self._waiting[ident]
                self._thread_seen[ident] = real  # busy again: waited for until it sleeps or stays away
            self._cond.notify_all()

    # -- threads
    def sleep(self, seconds: float) -> None:
        """Sleep `seconds` of virtual time: at once when alone, else overlapping other threads' sleeps."""
        if not seconds > 0:
            return
        me = threading.get_ident()
        with self._lock:
            entry = _Sleeper(self._now + seconds, next(self._seq))
            heapq.heappush(self._threads, entry)
            self._waiting[me] = entry
            real = _time.monotonic()
            if me not in self._thread_seen and (self._thread_seen or threading.active_count() > 1):
                self._joined = real  # others may be about to sleep too: give them `thread_grace` to join
            self._thread_seen[me] = self._active = real
            try:
                self._wait_thread(entry)
            finally:
                if not entry.woken:  # interrupted
                    entry.gone = True
                    self._waiting.pop(me, None)
                    self._cond.notify_all()  # another thread may have to watch for quiet now
                self._thread_seen[me] = self._active = _time.monotonic()

    def _wait_thread(self, entry: _Sleeper) -> None:
        """Block until `entry` wakes, jumping the clock when the threads are all waiting or quiet (hold the lock)."""
        grace = self.thread_grace
        while not entry.woken:
            real = _time.monotonic()
            if self._threads_all_waiting(real) or real - self._active >= grace:
                first = self._earliest_thread()
                if first is not None:
                    self._jump_to(first.wake)
                    self._active = real
                continue
            # The first in line watches for quiet (and for late joiners); the others wait for the clock to move.
            if self._earliest_thread() is entry:
                quiet = max(self._active, self._joined) + grace
                self._cond.wait(min(max(quiet - real, 0.001), grace))
            else:
                self._cond.wait()

    def _threads_all_waiting(self, real: float) -> bool:
        """Whether every thread that slept on the clock lately is waiting now (hold the lock).

        Not while threads still join (`thread_grace`); a lone thread of a lone thread process always is.
        """
        window = self.thread_window
        seen = self._thread_seen
        for ident in [i for i, t in seen.items() if real - t > window and i not in self._waiting]:
            del seen[ident]
        if real - self._joined < self.thread_grace:
            return False
        return all(ident in self._waiting for ident in seen)

    def _earliest_thread(self) -> _Sleeper | None:
        heap = self._threads
        while heap and (heap[0].woken or heap[0].gone):
            heapq.heappop(heap)
        return heap[0] if heap else None

    # -- async tasks
    async def asleep(self, seconds: float) -> None:
        """Sleep `seconds` of virtual time, overlapping the other tasks' sleeps (always yields once)."""
        import anyio
        import anyio.lowlevel

        if not seconds > 0:
            await anyio.lowlevel.checkpoint()
            return
        me = threading.get_ident()
        loop = _running_loop()
        with self._lock:
            group = self._groups.get(me)
            if group is None or group.loop is not loop:  # none yet, or left over from a closed loop
                group = self._groups[me] = _Group(loop)
            entry = _Sleeper(self._now + seconds, next(self._seq), anyio.Event())
            heapq.heappush(group.heap, entry)
        try:
            while not entry.woken:
                if group.driver is None:
                    group.driver = entry
                if group.driver is entry:
                    await self._drive(group, entry)
                else:
                    assert entry.event is not None
                    await entry.event.wait()
                    if not entry.woken:  # asked to take over the driving
                        entry.event = anyio.Event()
        finally:
            with self._lock:
                if not entry.woken:  # cancelled
                    entry.gone = True
                if group.driver is entry:
                    group.driver = None
                self._hand_over(group, me)

    async def _drive(self, group: _Group, me: _Sleeper) -> None:
        """Jump to the group's earliest wake-up whenever its loop is idle. Returns when `me` is due."""
        import anyio.lowlevel

        loop = group.loop
        while True:
            if isinstance(loop, asyncio.AbstractEventLoop):
                await anyio.lowlevel.checkpoint()
            else:
                await self._trio_idle(group)
            with self._lock:
                self._wake_due(group)
                if me.woken:
                    return
                if isinstance(loop, asyncio.AbstractEventLoop) and not _asyncio_idle(loop):
                    continue
                first = group.earliest()
                if first is not None:
                    self._jump_to(first.wake)  # wakes the due sleepers of this group too
                if me.woken:
                    return

    @staticmethod
    async def _trio_idle(group: _Group) -> None:
        """Return once every other task of the trio run is blocked, or the driver is woken (`_wake_due`)."""
        import anyio
        import trio.testing

        with anyio.CancelScope() as scope:
            group.waiting = scope
            try:
                await trio.testing.wait_all_tasks_blocked()
            finally:
                group.waiting = None

    def _wake_groups(self) -> None:
        """Wake the due async sleepers of every loop: this thread's at once, others' on their loop (hold the lock)."""
        here = threading.get_ident()
        for ident, group in self._groups.items():
            first = group.earliest()
            if first is None or first.wake > self._now:
                continue
            if ident == here and group.loop is _running_loop():
                self._wake_due(group)
            else:
                group.call_soon(functools.partial(self._wake_group, group))

    def _wake_group(self, group: _Group) -> None:
        with self._lock:
            self._wake_due(group)

    def _wake_due(self, group: _Group) -> None:
        """Wake every sleeper of `group` whose time has come (hold the lock)."""
        while (first := group.earliest()) is not None and first.wake <= self._now:
            heapq.heappop(group.heap)
            first.woken = True
            if first.event is not None:
                first.event.set()
            if first is group.driver and group.waiting is not None:
                group.waiting.cancel()

    def _hand_over(self, group: _Group, ident: int) -> None:
        """Give a driverless group a driver, or forget it once empty (hold the lock)."""
        if group.driver is not None:
            return
        first = group.earliest()
        if first is None:
            if self._groups.get(ident) is group:
                del self._groups[ident]
        elif first.event is not None:
            first.event.set()  # it wakes, finds no driver and takes over

    def __repr__(self) -> str:
        return f"VirtualClock(now={self.now():.3f})"


class SpeedClock(EmulatorClock):
    """Real time, sped up: `now()` is `(wall - origin) * speed` seconds.

    For demos and the served emulator: at `speed=60` a one-hour job takes a minute.
    `sleep(s)` really sleeps `s / speed` seconds. `origin` (Unix seconds; default: now)
    fixes clock second 0, so a restarted server given the same origin continues its time
    line; the timestamps the emulator reports start at that moment.

    Args:
        speed: how many clock seconds pass per real second (> 0).
        origin: the Unix time of clock second 0 (default: the moment of construction).
    """

    def __init__(self, speed: float = 1.0, origin: float | None = None) -> None:
        if not speed > 0:
            raise ValueError(f"speed: expected a number > 0, got {speed!r}")
        self.speed = float(speed)
        self.origin = _time.time() if origin is None else float(origin)
        self.epoch = datetime.fromtimestamp(self.origin, UTC)

    def now(self) -> float:
        """Clock seconds since `origin`, sped up."""
        return (_time.time() - self.origin) * self.speed

    def sleep(self, seconds: float) -> None:
        """Sleep `seconds` of clock time, i.e. `seconds / speed` real seconds."""
        if seconds > 0:
            _time.sleep(seconds / self.speed)

    async def asleep(self, seconds: float) -> None:
        """Suspend the task for `seconds` of clock time."""
        import asyncio

        if asyncio._get_running_loop() is not None:  # as `sleep_for`, one frame fewer per sleeping task
            await asyncio.sleep(max(seconds, 0.0) / self.speed)
            return
        await sleep_for(max(seconds, 0.0) / self.speed)

    def __repr__(self) -> str:
        return f"SpeedClock(speed={self.speed}, origin={self.origin})"
