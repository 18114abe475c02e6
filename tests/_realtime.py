"""For tests that claim to spend no real time: any real sleep fails the test.

`forbid_real_sleep(monkeypatch)` replaces `time.sleep`, `asyncio.sleep`, `anyio.sleep`
and `trio.sleep` by functions that fail the test when asked to wait (a zero delay, a
plain checkpoint, is allowed). A test on the emulator's virtual clock then shows that an
hour of job time passed by assertions on the clock and on the calls made, not by
timing the wall clock.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import anyio
import pytest

REAL_SLEEP = "a real sleep of {0!r} s on a test that runs on a virtual clock"


def forbid_real_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Fail on any real sleep of more than 0 s; returns the list of refused delays (normally empty)."""
    refused: list[float] = []
    real_time_sleep, real_asyncio_sleep, real_anyio_sleep = time.sleep, asyncio.sleep, anyio.sleep

    def check(seconds: Any) -> None:
        if seconds and seconds > 0:
            refused.append(seconds)
            raise AssertionError(REAL_SLEEP.format(seconds))

    def time_sleep(seconds: float) -> None:
        check(seconds)
        real_time_sleep(0)

    async def asyncio_sleep(delay: float, result: Any = None) -> Any:
        check(delay)
        return await real_asyncio_sleep(0, result)

    async def anyio_sleep(delay: float) -> None:
        check(delay)
        await real_anyio_sleep(0)

    monkeypatch.setattr(time, "sleep", time_sleep)
    monkeypatch.setattr(asyncio, "sleep", asyncio_sleep)
    monkeypatch.setattr(anyio, "sleep", anyio_sleep)
    try:
        import trio
    except ImportError:  # pragma: no cover - trio comes with the test extra
        return refused
    real_trio_sleep = trio.sleep

    async def trio_sleep(seconds: float) -> None:
        check(seconds)
        await real_trio_sleep(0)

    monkeypatch.setattr(trio, "sleep", trio_sleep)
    return refused
