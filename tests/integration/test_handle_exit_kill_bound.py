"""Leaving a handle's block by an exception kills the job, within a bounded time even
when the server hangs, and the original exception is the one that propagates."""

from __future__ import annotations

import pytest

from amtopcon import CompletionCode
from amtopcon.testing import Emulator


class Boom(Exception):
    pass


def test_sync_block_exit_kills_within_the_grace_even_when_kill_hangs() -> None:
    emulator = Emulator()
    client = emulator.client()
    handle = client.start("DEMO2", "LONGRUNNINGREPORT")
    emulator.faults.delay_next("OpConJobAction", 10_000)  # the KILL never answers in time
    t0 = emulator.now
    with pytest.raises(Boom), handle:
        raise Boom
    assert emulator.now - t0 <= 31
    assert handle.status().code is not CompletionCode.DONE


def test_sync_block_exit_kills_the_job() -> None:
    emulator = Emulator()
    client = emulator.client()
    handle = client.start("DEMO2", "LONGRUNNINGREPORT")
    with pytest.raises(Boom), handle:
        emulator.advance(120)
        raise Boom
    assert handle.status().code is CompletionCode.KILLED


@pytest.mark.anyio
async def test_async_block_exit_kills_within_the_grace_even_when_kill_hangs() -> None:
    emulator = Emulator()
    client = emulator.async_client()
    handle = await client.start("DEMO2", "LONGRUNNINGREPORT")
    emulator.faults.delay_next("OpConJobAction", 10_000)
    t0 = emulator.now
    with pytest.raises(Boom):
        async with handle:
            raise Boom
    assert emulator.now - t0 <= 31
