"""`VirtualClock`: sequential sleeps add up, concurrent sleeps overlap (tasks and threads).

Like trio's `MockClock` with autojump: a sleep of `s` wakes at `now + s`, and the clock
jumps to the earliest wake-up only once every sleeper waits.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from amtopcon import AsyncJobHandle, CompletionCode, PollPolicy
from amtopcon.testing import DEFAULT_EPOCH, Emulator, VirtualClock
from tests._realtime import forbid_real_sleep

C = CompletionCode
backends = pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])


# --------------------------------------------------------------------------- sequential: as before


class Waits:
    """Every real wait on a `threading.Condition` (how a sleeping thread blocks), by thread."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[int, float | None]] = []
        real = threading.Condition.wait

        def wait(cond: threading.Condition, timeout: float | None = None) -> bool:
            self.calls.append((threading.get_ident(), timeout))
            return real(cond, timeout)

        monkeypatch.setattr(threading.Condition, "wait", wait)

    def of(self, thread: int) -> list[float | None]:
        """The timeouts of the waits of one thread."""
        return [timeout for ident, timeout in self.calls if ident == thread]


def only_grace_waits(timeouts: list[float | None], clock: VirtualClock) -> bool:
    """At most a couple of bounded waits of `thread_grace` (a first sleep lets others join), none per sleep."""
    return len(timeouts) <= 2 and all(t is not None and t <= clock.thread_grace for t in timeouts)


def test_sequential_sync_sleeps_add_up_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = VirtualClock()
    assert clock.now() == 0
    clock.sleep(2.5)
    assert clock.now() == 2.5
    clock.sleep(0)
    clock.sleep(-1)  # nothing to wait for
    assert clock.now() == 2.5
    assert clock.advance(1) == 3.5
    assert clock.time() == DEFAULT_EPOCH.timestamp() + 3.5
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1)
    waits = Waits(monkeypatch)
    refused = forbid_real_sleep(monkeypatch)
    for _ in range(10_000):
        clock.sleep(1.0)
    assert clock.now() == 10_003.5
    # A lone thread never waits for anyone: no real sleep, and no wait on the clock's
    # condition, except a bounded `thread_grace` for other threads to join on its first
    # sleep when the process has other threads (what it costs per sleep: benchmarks/emulator.py).
    assert refused == []
    assert only_grace_waits(waits.of(threading.get_ident()), clock)
    assert repr(clock) == "VirtualClock(now=10003.500)"


def test_a_lone_thread_other_than_the_first_sleeps_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = VirtualClock(start=10)
    seen: list[float] = []
    idents: list[int] = []
    waits = Waits(monkeypatch)
    refused = forbid_real_sleep(monkeypatch)

    def work() -> None:
        idents.append(threading.get_ident())
        for _ in range(100):
            clock.sleep(0.5)
            seen.append(clock.now())

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert seen == [10 + 0.5 * i for i in range(1, 101)]
    # Only its first sleep gives other threads `thread_grace` to join; the other 99 wait for nothing.
    assert refused == []
    assert only_grace_waits(waits.of(idents[0]), clock)


@backends
@pytest.mark.anyio
async def test_sequential_async_sleeps_add_up(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = VirtualClock(start=100)
    seen = []
    for seconds in (1, 2, 3, 0, -5):
        await clock.asleep(seconds)
        seen.append(clock.now())
    assert seen == [101, 103, 106, 106, 106]
    refused = forbid_real_sleep(monkeypatch)
    for _ in range(1000):
        await clock.asleep(5)
    assert clock.now() == 5106
    assert refused == []  # no real timer: each sleep jumps once the loop is idle (cost: benchmarks/emulator.py)


# --------------------------------------------------------------------------- tasks overlap


@backends
@pytest.mark.anyio
async def test_a_thousand_tasks_sleeping_one_second_move_the_clock_one_second() -> None:
    clock = VirtualClock()
    woke: list[float] = []

    async def nap() -> None:
        await clock.asleep(1.0)
        woke.append(clock.now())

    async with anyio.create_task_group() as tg:
        for _ in range(1000):
            tg.start_soon(nap)
    assert clock.now() == 1.0
    assert woke == [1.0] * 1000


@backends
@pytest.mark.anyio
async def test_concurrent_sleepers_wake_at_their_own_time_in_order() -> None:
    clock = VirtualClock()
    woke: list[tuple[str, float]] = []

    async def nap(name: str, seconds: float) -> None:
        await clock.asleep(seconds)
        woke.append((name, clock.now()))

    async with anyio.create_task_group() as tg:
        tg.start_soon(nap, "ten", 10)
        tg.start_soon(nap, "five", 5)
        tg.start_soon(nap, "seven", 7)
    assert woke == [("five", 5), ("seven", 7), ("ten", 10)]
    assert clock.now() == 10


@pytest.mark.anyio
async def test_each_task_sleeps_from_its_own_now() -> None:
    clock = VirtualClock()
    ticks: dict[str, list[float]] = {"a": [], "b": []}

    async def ticker(name: str, period: float, n: int) -> None:
        for _ in range(n):
            await clock.asleep(period)
            ticks[name].append(clock.now())

    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker, "a", 2, 5)
        tg.start_soon(ticker, "b", 3, 3)
    assert ticks == {"a": [2, 4, 6, 8, 10], "b": [3, 6, 9]}
    assert clock.now() == 10  # not 2*5 + 3*3 = 19


@pytest.mark.anyio
async def test_a_task_still_running_holds_the_jump_back() -> None:
    clock = VirtualClock()
    woke: list[tuple[str, float]] = []

    async def sleeper() -> None:
        await clock.asleep(1.0)
        woke.append(("sleeper", clock.now()))

    async def busy() -> None:
        for _ in range(3):  # work spread over a few trips through the loop
            await anyio.lowlevel.checkpoint()
        await clock.asleep(0.5)
        woke.append(("busy", clock.now()))

    async with anyio.create_task_group() as tg:
        tg.start_soon(sleeper)
        tg.start_soon(busy)
    assert woke == [("busy", 0.5), ("sleeper", 1.0)]


@pytest.mark.anyio
async def test_advance_wakes_the_sleepers_due_and_only_those() -> None:
    clock = VirtualClock()
    woke: list[tuple[float, float]] = []

    async def nap(seconds: float) -> None:
        await clock.asleep(seconds)
        woke.append((seconds, clock.now()))

    async with anyio.create_task_group() as tg:
        tg.start_soon(nap, 100.0)
        tg.start_soon(nap, 200.0)
        await anyio.lowlevel.checkpoint()  # both sleep now
        assert clock.advance(150) == 150
        await anyio.lowlevel.checkpoint()
        await anyio.lowlevel.checkpoint()
        assert woke == [(100.0, 150.0)]  # woke by the advance, at its time
    assert woke == [(100.0, 150.0), (200.0, 200.0)]


@pytest.mark.anyio
async def test_the_emulators_advance_wakes_a_waiting_handle() -> None:
    emulator = Emulator()
    client = emulator.async_client()
    handle = await client.start("DEMO2", "LONGRUNNINGREPORT")
    polled: list[float] = []

    async with anyio.create_task_group() as tg:

        async def wait() -> None:
            result = await handle.wait(
                poll=PollPolicy.fixed(600.0, 600.0), on_status=lambda s: polled.append(emulator.now)
            )
            assert result.code is C.DONE

        tg.start_soon(wait)
        await anyio.lowlevel.checkpoint()
        emulator.advance(3600)  # the hour-long job ends; the wait's next poll comes due
    assert polled and polled[0] == 3600  # not 600: the advance woke it


@backends
@pytest.mark.anyio
async def test_a_cancelled_sleeper_leaves_the_others_on_time() -> None:
    clock = VirtualClock()
    woke: list[tuple[str, float]] = []

    async def nap(name: str, seconds: float) -> None:
        await clock.asleep(seconds)
        woke.append((name, clock.now()))

    async with anyio.create_task_group() as outer:
        async with anyio.create_task_group() as doomed:
            doomed.start_soon(nap, "doomed-first", 3)  # the first sleeper: it drives the clock
            outer.start_soon(nap, "kept", 20)
            doomed.start_soon(nap, "doomed-second", 10)
            await anyio.lowlevel.checkpoint()
            doomed.cancel_scope.cancel()
        outer.start_soon(nap, "late", 5)
    assert woke == [("late", 5), ("kept", 20)]
    assert clock.now() == 20


@pytest.mark.anyio
async def test_a_sleep_cut_short_by_a_timeout_on_the_clock() -> None:
    clock = VirtualClock()

    async def nap(seconds: float) -> None:
        await clock.asleep(seconds)

    async with anyio.create_task_group() as tg:
        with anyio.CancelScope() as scope:
            tg.start_soon(nap, 50)

            async def watchdog() -> None:
                await clock.asleep(10)
                scope.cancel()

            tg.start_soon(watchdog)
            await clock.asleep(1000)  # cancelled at virtual second 10
        assert clock.now() == 10
    assert clock.now() == 50


# --------------------------------------------------------------------------- the emulator: fan-outs


@pytest.fixture
def wide() -> Emulator:
    emulator = Emulator()  # default token_ttl and the clients' default total_timeout
    emulator.catalog.add_queue("WIDE", 1000)
    return emulator


@pytest.mark.anyio
async def test_fifty_jobs_run_at_once_take_as_long_as_one(wide: Emulator) -> None:
    client = wide.async_client()
    results: list[Any] = []

    async def run() -> None:
        results.append(await client.run("DEMO2", "REPORTTEST01", queue="WIDE"))

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(run)
    assert len(results) == 50 and all(r.code is C.DONE and r.exit_code == 4 for r in results)
    assert 30 <= wide.now <= 45  # REPORTTEST01 runs 30 s; one job's polling, not 50 times that
    assert max(r.duration.total_seconds() for r in results) < 45


@pytest.mark.anyio
async def test_fifty_handles_waited_on_together(wide: Emulator) -> None:
    client = wide.async_client()
    handles: list[AsyncJobHandle] = [await client.start("DEMO2", "REPORTTEST01", queue="WIDE") for _ in range(50)]
    results: dict[int, Any] = {}

    async def wait(handle: AsyncJobHandle) -> None:
        results[handle.batch_request_id] = await handle.wait()

    async with anyio.create_task_group() as tg:
        for handle in handles:
            tg.start_soon(wait, handle)
    assert sorted(results) == sorted(h.batch_request_id for h in handles)
    assert all(r.code is C.DONE for r in results.values())
    assert 30 <= wide.now <= 45


# --------------------------------------------------------------------------- threads


def test_threads_sleeping_together_overlap() -> None:
    clock = VirtualClock()
    clock.thread_grace = 0.25  # generous for a loaded machine
    n, rounds = 8, 10
    barrier = threading.Barrier(n)
    woke: list[list[float]] = [[] for _ in range(n)]

    def work(i: int) -> None:
        barrier.wait()
        for _ in range(rounds):
            clock.sleep(1.0)
            woke[i].append(clock.now())
            time.sleep(0.001)  # real work between sleeps, such as an HTTP call

    with ThreadPoolExecutor(n) as pool:
        list(pool.map(work, range(n)))
    assert rounds <= clock.now() <= rounds + 1  # not n * rounds = 80
    for seen in woke:
        assert seen == sorted(seen) and len(seen) == rounds and seen[-1] <= rounds + 1


def test_a_hundred_threads_sleeping_one_second_move_the_clock_one_second() -> None:
    clock = VirtualClock()
    clock.thread_grace = 0.25
    barrier = threading.Barrier(100)

    def nap(_: int) -> float:
        barrier.wait()
        clock.sleep(1.0)
        return clock.now()

    with ThreadPoolExecutor(100) as pool:
        woke = list(pool.map(nap, range(100)))
    assert clock.now() == 1.0 and set(woke) == {1.0}


def test_a_thread_pool_of_sync_clients(wide: Emulator) -> None:
    wide.clock.thread_grace = 0.1  # type: ignore[attr-defined]
    barrier = threading.Barrier(10)

    def run(_: int) -> Any:
        with wide.client() as client:
            barrier.wait()
            return client.run("DEMO2", "REPORTTEST01", queue="WIDE")

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(run, range(10)))
    assert all(r.code is C.DONE for r in results)
    assert 30 <= wide.now <= 45  # as one job, not 10 one after another (~350 s)


def test_advance_from_another_thread_wakes_a_waiting_thread() -> None:
    clock = VirtualClock()
    clock.thread_grace = 5.0  # no jump by quiet during the test
    woke: list[float] = []
    started = threading.Event()

    def sleeper(seconds: float) -> None:
        clock.sleep(seconds)
        woke.append(clock.now())

    clock.sleep(1)  # the main thread has slept lately: a sleeping thread waits for it
    first = threading.Thread(target=lambda: (started.set(), sleeper(100)))
    first.start()
    started.wait()
    time.sleep(0.1)  # real time: the thread waits, as the main thread might sleep too
    assert woke == []
    clock.advance(150)
    first.join(5)
    assert woke == [151]
