"""Clocks for the emulator: a virtual one that tests move, and a sped-up real one for demos.

Both are `amtopcon.Clock` subclasses, so a client given one of them waits on the same
time line as the emulator. Clock seconds become timestamps through the clock's `epoch`
(the wall-clock moment of clock second 0).
"""

from __future__ import annotations

import threading
import time as _time
from datetime import UTC, datetime, timedelta

from amtopcon._clock import Clock

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


class VirtualClock(EmulatorClock):
    """A clock that moves only when told: `advance()`, or a sleep on it.

    `sleep(s)` and `await asleep(s)` advance the virtual time by `s` at once instead of
    waiting (the async one still yields to the event loop once), so a client polling an
    hour-long job through it finishes in milliseconds. Thread-safe.

    Args:
        start: the clock's initial reading in seconds.
        epoch: the aware datetime of clock second 0 (default 2026-01-05T08:00:00+00:00).
    """

    def __init__(self, start: float = 0.0, *, epoch: datetime = DEFAULT_EPOCH) -> None:
        if epoch.tzinfo is None:
            raise ValueError("epoch: expected an aware datetime")
        self._now = float(start)
        self._lock = threading.Lock()
        self.epoch = epoch

    def now(self) -> float:
        """The virtual time in seconds."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward by `seconds` (>= 0); returns the new reading."""
        if seconds < 0:
            raise ValueError(f"seconds: a clock only moves forward, got {seconds!r}")
        with self._lock:
            self._now += float(seconds)
            return self._now

    def sleep(self, seconds: float) -> None:
        """Advance the virtual time by `seconds` instead of sleeping."""
        if seconds > 0:
            self.advance(seconds)

    async def asleep(self, seconds: float) -> None:
        """Advance the virtual time by `seconds`, yielding to the event loop once."""
        import anyio.lowlevel

        if seconds > 0:
            self.advance(seconds)
        await anyio.lowlevel.checkpoint()

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
        import anyio

        await anyio.sleep(max(seconds, 0.0) / self.speed)

    def __repr__(self) -> str:
        return f"SpeedClock(speed={self.speed}, origin={self.origin})"
