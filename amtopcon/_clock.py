"""The one source of time and sleep for the clients, the job handles and the emulator."""

from __future__ import annotations

import time

__all__ = ["Clock", "sleep_for"]


class Clock:
    """The time source of a client: `now()`, `time()`, `sleep()` and `async asleep()`.

    The default reads the system's monotonic clock and really sleeps. Tests and the
    emulator pass a subclass whose sleeps advance a virtual clock instead, so an hour-long
    job finishes in milliseconds. Everything in `amtopcon` that waits or measures time
    goes through the client's clock.
    """

    def now(self) -> float:
        """Monotonic seconds, for measuring elapsed time and deadlines."""
        return time.monotonic()

    def time(self) -> float:
        """Wall-clock seconds since the epoch (UTC), for HTTP dates in `Retry-After`."""
        return time.time()

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for `seconds` (Ctrl+C interrupts it)."""
        if seconds > 0:
            time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        """Suspend the calling task for `seconds` (cancellation interrupts it)."""
        import asyncio

        if asyncio._get_running_loop() is not None:  # as `sleep_for`, one frame fewer per sleeping task
            await asyncio.sleep(max(seconds, 0.0))
            return
        await sleep_for(max(seconds, 0.0))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


async def sleep_for(seconds: float) -> None:
    """`anyio.sleep(seconds)`, straight to `asyncio.sleep` under asyncio (what anyio does
    there, two coroutine frames fewer per sleeping task: 10,000 waits sleep at once)."""
    import asyncio

    if asyncio._get_running_loop() is not None:
        await asyncio.sleep(seconds)
        return
    import anyio

    await anyio.sleep(seconds)
