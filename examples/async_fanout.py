"""Start many AMT batch jobs at once with `AsyncClient` and gather their results.

    python examples/async_fanout.py [COUNT]

It starts COUNT jobs (default 12: REPORTTEST01, ERRORTEST01 and ABORTTEST01 in turn),
at most 8 START calls in flight at a time, waits for all of them together and prints
one line per job. With AMTOPCON_BASE_URL (or AMTOPCON_SERVER_ADDRESS), AMTOPCON_USER and
AMTOPCON_PASSWORD set, it talks to that server; otherwise to an in-process emulator.
Exits 0 when every result came back (whatever the jobs' codes), 1 otherwise.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter

from amtopcon import AsyncClient, AsyncJobHandle, JobResult

JOBS = ("REPORTTEST01", "ERRORTEST01", "ABORTTEST01")


def make_client() -> AsyncClient:
    """An async client for the server in the environment, or for an in-process emulator."""
    if os.environ.get("AMTOPCON_BASE_URL") or os.environ.get("AMTOPCON_SERVER_ADDRESS"):
        return AsyncClient.from_env()
    from amtopcon.testing import Emulator

    return Emulator().async_client()


async def start_all(client: AsyncClient, names: list[str], limit: int = 8) -> list[AsyncJobHandle]:
    """START every job, at most `limit` calls in flight (a START is never resent blindly)."""
    gate = asyncio.Semaphore(limit)

    async def start(name: str) -> AsyncJobHandle:
        async with gate:
            return await client.start("DEMO2", name, parameters=[f"RUN={name}"])

    return list(await asyncio.gather(*(start(name) for name in names)))


async def main(count: int) -> int:
    names = [JOBS[i % len(JOBS)] for i in range(count)]
    async with make_client() as client:
        handles = await start_all(client, names)
        print(f"started {len(handles)} jobs: {[h.batch_request_id for h in handles]}")
        results: list[JobResult] = await asyncio.gather(*(h.wait(timeout=3600) for h in handles))
    for result in results:
        status = result.status
        lines = len(result.messages)
        print(f"{status.batch_request_id:>6} {status.job_name:<14} {result.code.name:<8} {lines:>3} messages")
    tally = Counter(result.code.name for result in results)
    print("summary:", ", ".join(f"{n} {name}" for name, n in sorted(tally.items())))
    return 0 if len(results) == count else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 12)))
