"""Job handles: memory per handle, and N concurrent async waits against bare calls.

    /work/venv/bin/python benchmarks/handles.py [--jobs 1000] [--repeat 3]

Everything runs in one process against the in-process emulator on a virtual clock, so
the numbers measure the SDK (handles, client, emulator), not a network. It prints
numbers and ratios and asserts nothing.

* memory: bytes per `AsyncJobHandle` (tracemalloc), re-attached (`client.job(id)`) and
  holding a `JobStatus`, as after `start()`.
* time: N jobs started on a wide queue, then
  (a) `await handle.wait()` for all N at once in one anyio task group, and
  (b) the baseline: the same number of bare `monitor_job` calls per job (as many as (a)
      made for that job) and one `get_messages` each, also all N at once, on jobs that
      have already ended (so the answers carry the same logs).
  The ratio (a)/(b) is what the handle's polling loop costs on top of the HTTP calls.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from collections import Counter
from typing import Any

import anyio

from amtopcon import AsyncJobHandle, JobStatus, _wire
from amtopcon.testing import Emulator


def _emulator(n: int) -> Emulator:
    emulator = Emulator()
    emulator.catalog.add_queue("WIDE", max(n, 1))
    emulator.catalog.add_application("BENCH", queue="WIDE")
    # The waits' sleeps overlap on the virtual clock: steps of 10 s give each wait
    # several status checks, whatever N.
    step = 10.0
    emulator.add_job("BENCH", "SHORT", steps=[("begin {param[0]}", step), ("step", step), ("end {param[0]}", 0)])
    return emulator


async def _start_all(emulator: Emulator, n: int) -> tuple[Any, list[AsyncJobHandle]]:
    client = emulator.async_client()
    handles = [await client.start("BENCH", "SHORT", parameters=[str(i)]) for i in range(n)]
    return client, handles


def memory_per_handle(n: int = 10_000) -> tuple[float, float, int]:
    """Bytes per re-attached handle, per handle holding a JobStatus, and sys.getsizeof."""
    client = Emulator().async_client()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    bare = [client.job(2112 + i) for i in range(n)]
    bare_bytes = (tracemalloc.get_traced_memory()[0] - before) / n
    before = tracemalloc.get_traced_memory()[0]
    with_status = [
        AsyncJobHandle(client, 2112 + i, status=JobStatus(2112 + i, 2, "RUNNING", None, "BENCH", "SHORT"))
        for i in range(n)
    ]
    status_bytes = (tracemalloc.get_traced_memory()[0] - before) / n
    tracemalloc.stop()
    size = sys.getsizeof(bare[0])
    del bare, with_status
    return bare_bytes, status_bytes, size


async def time_waits(n: int) -> tuple[float, dict[int, int], int, int]:
    """(seconds for N concurrent waits, MonitorJob calls per id, MonitorJob total, GetMessages total)."""
    emulator = _emulator(n)
    _, handles = await _start_all(emulator, n)
    mark = len(emulator.requests)
    results: list[Any] = [None] * n

    async def one(i: int) -> None:
        results[i] = await handles[i].wait()

    began = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for i in range(n):
            tg.start_soon(one, i)
    took = time.perf_counter() - began
    assert all(r is not None and r.succeeded and len(r.messages) == 3 for r in results)
    made = emulator.requests[mark:]
    per_id = Counter(int(r.query[_wire.Q_BATCH_REQUEST_ID]) for r in made if r.function == _wire.MONITOR_JOB)
    reads = sum(1 for r in made if r.function == _wire.GET_MESSAGES)
    return took, dict(per_id), sum(per_id.values()), reads


async def time_bare_calls(n: int, per_id: dict[int, int]) -> float:
    """Seconds for the same MonitorJob calls per job plus one GetMessages each, N jobs at once."""
    emulator = _emulator(n)
    client, handles = await _start_all(emulator, n)
    emulator.advance(1000.0)  # every job has ended: the answers carry the same statuses and logs

    async def one(brid: int) -> None:
        for _ in range(per_id.get(brid, 1)):
            await client.monitor_job(brid)
        await client.get_messages(brid)

    began = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for h in handles:
            tg.start_soon(one, h.batch_request_id)
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> None:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=1000, help="concurrent jobs (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timing; the best is kept (default 3)")
    args = parser.parse_args(argv)
    n = args.jobs

    bare_bytes, status_bytes, size = memory_per_handle()
    print(f"memory per AsyncJobHandle: {bare_bytes:.0f} B re-attached, {status_bytes:.0f} B with a JobStatus")
    print(f"  (sys.getsizeof of the handle object itself: {size} B; no __dict__)")

    waits = []
    bares = []
    monitors = reads = 0
    for _ in range(args.repeat):
        took, per_id, monitors, reads = anyio.run(time_waits, n)
        waits.append(took)
        bares.append(anyio.run(time_bare_calls, n, per_id))
    best_wait, best_bare = min(waits), min(bares)
    print(f"{n} concurrent async waits: {best_wait * 1000:.0f} ms (best of {args.repeat})")
    print(f"  making {monitors} MonitorJob calls ({monitors / n:.1f} per job) and {reads} GetMessages calls")
    print(f"baseline, the same calls made bare: {best_bare * 1000:.0f} ms")
    print(f"ratio waits / bare calls: {best_wait / best_bare:.2f}")
    print(f"per job: {best_wait / n * 1e6:.0f} us with a handle, {best_bare / n * 1e6:.0f} us bare")


if __name__ == "__main__":
    main()
