"""What the in-process emulator and its virtual clock cost, as ratios against baselines.

    /work/venv/bin/python benchmarks/emulator.py [--small 1000] [--large 10000] [--repeat 3]

Everything runs in one process against the in-process emulator on a `VirtualClock`, so
the numbers measure the SDK and the emulator, not a network. Each measurement is the
best of `--repeat` runs; it prints numbers and ratios and asserts nothing. (The tests
assert the behaviour: each message read once, the calls made, the clock's readings.)

* follow: a running job writing 100 messages a second, followed as a handle does (pages
  of 200, a status check each second). The cost per GetMessages call for a job of
  `--large` messages against the same for `--small` messages: about 1 when a call costs
  the size of its page, not the size of the log.
* an hour of job time: `client.run()` of the hour-long sample job (polling every 5 s
  of virtual time) against the same number of bare `monitor_job` calls: about 1 when
  the waits cost nothing on top of the calls (no real waiting).
* VirtualClock: 10,000 `sleep(1)` in one thread against 10,000 `now()` (the lock and the
  bookkeeping of a sleep); 1,000 `await asleep(5)` in one task against 1,000
  `anyio.lowlevel.checkpoint()` (a lone sleeper jumps once the event loop has no other
  task to run: one trip on asyncio).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import anyio
import anyio.lowlevel

from amtopcon import Client, JobStatus
from amtopcon.testing import Emulator, VirtualClock

PAGE = 200


def _best(fn: Callable[[], float | None], repeat: int) -> float:
    """The best wall time of `repeat` runs (a run may return its own measured time)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        measured = fn()
        took = measured if measured is not None else time.perf_counter() - t0
        best = min(best, took)
    return best


# --------------------------------------------------------------------------- follow


def follow_cost(n: int, repeat: int) -> tuple[float, int]:
    """Seconds per GetMessages call following a job of `n` messages; and the calls per run."""
    calls = 0

    def run() -> float:
        nonlocal calls
        emulator = Emulator()
        emulator.add_job("BENCH", "LOG", steps=[(f"line {i}", 0.01) for i in range(n)])
        client = emulator.client()
        brid = client.job_action("START", application="BENCH", job="LOG").batch_request_id
        seen = 0
        spent = 0.0
        calls = 0
        status: JobStatus = client.monitor_job(brid)
        while True:
            t0 = time.perf_counter()
            page = client.get_messages(brid, after=seen, max_count=PAGE)
            spent += time.perf_counter() - t0
            calls += 1
            seen += len(page.messages)
            if status.is_terminal and not page.has_more:
                break
            if not page.has_more:
                client.clock.sleep(1.0)
                status = client.monitor_job(brid)
        assert seen == n
        client.close()
        return spent / calls

    return _best(run, repeat), calls


# --------------------------------------------------------------------------- an hour of job time


def hour_cost(repeat: int) -> tuple[float, float, int]:
    """Seconds per call of `run()` on the hour-long job, of bare monitor_job calls, and the calls made."""
    monitors = 0

    def waited() -> float:
        nonlocal monitors
        emulator = Emulator()
        client = emulator.client()
        t0 = time.perf_counter()
        result = client.run("DEMO2", "LONGRUNNINGREPORT")
        took = time.perf_counter() - t0
        assert result.code.name == "DONE" and emulator.now >= 3600
        monitors = len(emulator.requests)
        client.close()
        return took / monitors

    per_waited = _best(waited, repeat)

    def bare() -> float:
        emulator = Emulator()
        client: Client = emulator.client()
        brid = client.job_action("START", application="DEMO2", job="LONGRUNNINGREPORT").batch_request_id
        emulator.advance(3600)
        t0 = time.perf_counter()
        for _ in range(monitors):
            client.monitor_job(brid)
        took = time.perf_counter() - t0
        client.close()
        return took / monitors

    return per_waited, _best(bare, repeat), monitors


# --------------------------------------------------------------------------- the clock


def clock_costs(repeat: int) -> tuple[float, float, float, float]:
    """Seconds per sync sleep, per now(), per async sleep, per checkpoint."""
    n_sync, n_async = 10_000, 1_000

    def sync_sleeps() -> None:
        clock = VirtualClock()
        for _ in range(n_sync):
            clock.sleep(1.0)
        assert clock.now() == n_sync

    def sync_nows() -> None:
        clock = VirtualClock()
        for _ in range(n_sync):
            clock.now()

    def async_sleeps() -> None:
        async def main() -> None:
            clock = VirtualClock()
            for _ in range(n_async):
                await clock.asleep(5)
            assert clock.now() == 5 * n_async

        anyio.run(main)

    def checkpoints() -> None:
        async def main() -> None:
            for _ in range(n_async):
                await anyio.lowlevel.checkpoint()

        anyio.run(main)

    return (
        _best(sync_sleeps, repeat) / n_sync,
        _best(sync_nows, repeat) / n_sync,
        _best(async_sleeps, repeat) / n_async,
        _best(checkpoints, repeat) / n_async,
    )


def main(argv: list[str] | None = None) -> None:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1000, help="messages of the small job (default 1000)")
    parser.add_argument("--large", type=int, default=10_000, help="messages of the large job (default 10000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement, best kept (default 3)")
    args = parser.parse_args(argv)

    small, small_calls = follow_cost(args.small, args.repeat)
    large, large_calls = follow_cost(args.large, args.repeat)
    print(f"follow, pages of {PAGE}: GetMessages cost per call")
    print(f"  {args.small:>6} messages: {small * 1e6:8.1f} us ({small_calls} calls)")
    print(f"  {args.large:>6} messages: {large * 1e6:8.1f} us ({large_calls} calls)")
    print(f"  ratio {args.large}/{args.small}: {large / small:.2f}  (about 1: a call costs its page, not the log)")

    waited, bare, calls = hour_cost(args.repeat)
    print(f"an hour of job time: client.run() of LONGRUNNINGREPORT, {calls} calls")
    print(f"  per call while waiting: {waited * 1e6:8.1f} us; bare monitor_job: {bare * 1e6:8.1f} us")
    print(f"  ratio waited/bare: {waited / bare:.2f}  (about 1: the hour's waits cost no real time)")
    print(f"  the hour took {waited * calls * 1000:.0f} ms of wall time")

    sleep, now, asleep, checkpoint = clock_costs(args.repeat)
    print("VirtualClock")
    print(f"  sleep(1): {sleep * 1e6:6.2f} us; now(): {now * 1e6:6.2f} us; ratio {sleep / now:.1f}")
    print(
        f"  await asleep(5): {asleep * 1e6:6.2f} us; checkpoint: {checkpoint * 1e6:6.2f} us; "
        f"ratio {asleep / checkpoint:.1f}"
    )


if __name__ == "__main__":
    main()
