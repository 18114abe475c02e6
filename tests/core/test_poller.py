"""The poll scheduler (`amtopcon._core.poller`): one heap of due checks per client, one
task sleeping on the clock for all of them, each wait parked on its own future."""

from __future__ import annotations

import asyncio
import random

import pytest

from amtopcon import AsyncClient, Clock
from amtopcon._core.poller import AsyncPoller
from amtopcon.testing import Emulator, Step, VirtualClock

pytestmark = pytest.mark.anyio


class CountingClock(VirtualClock):
    """A virtual clock that counts the tasks asleep on it at once."""

    def __init__(self) -> None:
        super().__init__()
        self.asleep_now = 0
        self.most_asleep = 0

    async def asleep(self, seconds: float) -> None:
        self.asleep_now += 1
        self.most_asleep = max(self.most_asleep, self.asleep_now)
        try:
            await super().asleep(seconds)
        finally:
            self.asleep_now -= 1


async def test_a_thousand_parked_sleeps_wake_in_order_with_one_task_on_the_clock() -> None:
    clock = CountingClock()
    poller = AsyncPoller(clock)
    rng = random.Random(7)
    woke: list[tuple[float, float]] = []

    async def one(delay: float) -> None:
        due = clock.now() + delay
        await poller.asleep(delay)
        woke.append((due, clock.now()))

    await asyncio.gather(*(one(rng.uniform(0.1, 30.0)) for _ in range(1000)))
    assert len(woke) == 1000
    assert all(now >= due for due, now in woke)  # never early
    assert all(now - due < 1e-9 for due, now in woke)  # and on the virtual clock, never late either
    assert [due for due, _ in woke] == sorted(due for due, _ in woke)  # in the order they were due
    assert clock.most_asleep == 1  # one timer for all of them
    assert len(poller) == 0


async def test_an_earlier_entry_cuts_the_drivers_long_sleep_short() -> None:
    clock = VirtualClock()
    poller = AsyncPoller(clock)
    woke: dict[str, float] = {}

    async def one(name: str, delay: float) -> None:
        await poller.asleep(delay)
        woke[name] = clock.now()

    long = asyncio.ensure_future(one("long", 100.0))
    await asyncio.sleep(0)  # the driver is asleep until 100
    short = asyncio.ensure_future(one("short", 5.0))
    await asyncio.gather(long, short)
    assert woke == {"short": 5.0, "long": 100.0}


async def test_a_cancelled_wait_leaves_its_entry_and_nothing_else() -> None:
    clock = VirtualClock()
    poller = AsyncPoller(clock)
    woke: list[int] = []

    async def one(n: int) -> None:
        await poller.asleep(float(n))
        woke.append(n)

    tasks = [asyncio.ensure_future(one(n)) for n in range(1, 11)]
    await asyncio.sleep(0)
    assert len(poller) == 10
    tasks[0].cancel()  # the earliest: the one the driver sleeps for
    tasks[4].cancel()
    await asyncio.sleep(0)
    assert len(poller) == 8
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[0], asyncio.CancelledError)
    assert isinstance(results[4], asyncio.CancelledError)
    assert woke == [2, 3, 4, 6, 7, 8, 9, 10]


async def test_parked_waits_hold_no_timer_of_their_own() -> None:
    poller = AsyncPoller(Clock())  # the real clock; nothing here waits for it
    loop = asyncio.get_running_loop()
    timers_before = len(loop._scheduled)  # type: ignore[attr-defined]
    tasks = [asyncio.ensure_future(poller.asleep(3600.0 + n)) for n in range(500)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert len(loop._scheduled) - timers_before == 1  # type: ignore[attr-defined]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_if_the_scheduler_is_stopped_the_parked_waits_wake_rather_than_hang() -> None:
    poller = AsyncPoller(VirtualClock())
    futures = [poller.asleep(50.0), poller.asleep(60.0)]
    await asyncio.sleep(0)
    driver = poller._driver
    assert driver is not None
    driver.cancel()  # e.g. a harness cancelling every task it finds
    await asyncio.gather(*futures)  # woken early: a wait then only checks early
    assert len(poller) == 0


def test_a_client_polls_again_in_a_second_event_loop() -> None:
    poller = AsyncPoller(VirtualClock())

    async def twice() -> float:
        clock = poller._clock
        start = clock.now()
        await asyncio.gather(poller.asleep(3.0), poller.asleep(4.0))
        return clock.now() - start

    assert asyncio.run(twice()) == 4.0
    assert asyncio.run(twice()) == 4.0  # the first loop's driver is gone; a new one drives


async def test_a_zero_sleep_only_yields() -> None:
    clock = VirtualClock()
    poller = AsyncPoller(clock)
    await poller.asleep(0.0)
    await poller.asleep(-1.0)
    assert clock.now() == 0.0
    assert poller._driver is None


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_under_trio_each_wait_sleeps_on_the_clock_itself() -> None:
    clock = VirtualClock()
    poller = AsyncPoller(clock)
    import anyio

    async with anyio.create_task_group() as tg:
        for delay in (3.0, 1.0, 2.0):
            tg.start_soon(poller.asleep, delay)
    assert clock.now() == 3.0


async def test_waits_of_a_client_go_through_its_scheduler() -> None:
    clock = CountingClock()
    emulator = Emulator(clock=clock)
    emulator.catalog.add_queue("WIDE", 100)
    emulator.catalog.add_application("APP", queue="WIDE")
    emulator.add_job("APP", "JOB", steps=[Step("work", 30.0)])
    client: AsyncClient = emulator.async_client()
    async with client:
        handles = [await client.start("APP", "JOB") for _ in range(100)]
        results = await asyncio.gather(*(h.wait() for h in handles))
    assert {r.status.batch_request_id for r in results} == {h.batch_request_id for h in handles}
    assert all(r.status.is_terminal for r in results)
    assert clock.most_asleep == 1  # 100 waits, one task asleep on the clock


class BrokenClock(VirtualClock):
    async def asleep(self, seconds: float) -> None:
        raise RuntimeError("this clock cannot sleep")


async def test_a_clock_that_fails_fails_each_parked_wait_rather_than_spin() -> None:
    poller = AsyncPoller(BrokenClock())
    results = await asyncio.gather(poller.asleep(5.0), poller.asleep(9.0), return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]
    assert poller._driver is None


async def test_a_cancelled_scheduler_is_not_kept_alive_by_its_own_re_aiming() -> None:
    clock = VirtualClock()
    poller = AsyncPoller(clock)
    first = poller.asleep(100.0)
    await asyncio.sleep(0)
    driver = poller._driver
    assert driver is not None
    second = poller.asleep(1.0)  # re-aims the driver (cancels its sleep) ...
    driver.cancel()  # ... while somebody else cancels it too
    await asyncio.gather(first, second)  # both woken (early), neither left hanging
    assert driver.cancelled()


async def test_closing_the_client_ends_its_scheduler_at_once() -> None:
    clock = VirtualClock()
    emulator = Emulator(clock=clock)
    client = emulator.async_client()
    poller = client._poller
    parked = asyncio.ensure_future(poller.asleep(600.0))
    await asyncio.sleep(0)
    parked.cancel()  # the only wait goes; its entry is due in 10 minutes
    await asyncio.gather(parked, return_exceptions=True)
    driver = poller._driver
    assert driver is not None and not driver.done()
    await client.aclose()
    await asyncio.sleep(0)
    assert driver.done() and poller._driver is None
