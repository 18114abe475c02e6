"""N `AmtOpConJobTrigger`s in one asyncio event loop against the served emulator.

    .venv-airflow/bin/python benchmarks/airflow_triggers.py [--triggers 1000] [--speed 4]

Needs the `[airflow]` extra. The emulator runs as `amtopcon emulator serve --verbose` in
its own process (so its work and memory are not counted here); each of its request log
lines is one request answered. N jobs (20 emulated seconds, three messages each) are
started first; then N triggers, one per job, run in one loop as Airflow's triggerer runs
them, sharing one client for the one connection. It prints the wall time until every
trigger has fired, the requests per second the emulator answered meanwhile, the logons,
and the resident memory per trigger (RSS once every trigger is waiting, less RSS before
they were made). It checks that every trigger fired once with its own job's final
status (exit 1 otherwise) and asserts no timing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CATALOG = """
[users]
ocadm = "opconxps"

[queues.WIDE]
concurrency = {n}

[applications.BENCH]
queue = "WIDE"

[applications.BENCH.jobs.REPORT]
steps = [
    {{ message = "report started", duration = 5 }},
    {{ message = "report running", duration = 10 }},
    {{ message = "report ended", duration = 5 }},
]
"""


def rss_bytes() -> int:
    """This process's resident set size (Linux /proc)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def serve(folder: Path, n: int, speed: float) -> tuple[subprocess.Popen[str], str, Path]:
    catalog = folder / "catalog.toml"
    catalog.write_text(CATALOG.format(n=max(n, 1)), encoding="utf-8")
    log = folder / "requests.log"
    amtopcon = Path(sys.executable).with_name("amtopcon")
    args = ["emulator", "serve", "--port", "0", "--speed", str(speed), "--catalog", str(catalog), "--verbose"]
    proc = subprocess.Popen([str(amtopcon), *args], stdout=subprocess.PIPE, stderr=log.open("w"), text=True, bufsize=1)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"on (http://\S+)", line)
    if not match:
        proc.kill()
        raise SystemExit(f"the emulator did not start: {line!r}")
    return proc, match.group(1), log


def count_requests(log: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        match = re.search(r"/AmtOpConService/(\w+)", line)
        if match:
            counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    return counts


async def run_triggers(ids: list[int], poll: dict[str, float] | None) -> tuple[list[Any], float, int, int]:
    from amtopcon.airflow import AmtOpConJobTrigger
    from amtopcon.airflow.triggers import shared_client_count

    async def one(trigger: AmtOpConJobTrigger) -> list[Any]:
        return [event async for event in trigger.run()]

    base = rss_bytes()
    started = time.perf_counter()
    tasks = [asyncio.create_task(one(AmtOpConJobTrigger(batch_request_id=i, poll=poll))) for i in ids]
    await asyncio.sleep(1.5)  # every trigger has made its first status check by now
    peak = rss_bytes()
    clients = shared_client_count()
    events = await asyncio.gather(*tasks)
    return events, time.perf_counter() - started, peak - base, clients


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triggers", type=int, default=1000)
    parser.add_argument("--speed", type=float, default=2.0, help="emulated seconds per real second")
    args = parser.parse_args()
    n = args.triggers

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ.setdefault("AIRFLOW_HOME", str(folder / "airflow"))
        proc, url, log = serve(folder, n, args.speed)
        try:
            host, port = re.match(r"http://([^:/]+):(\d+)", url).groups()  # type: ignore[union-attr]
            os.environ["AIRFLOW_CONN_AMTOPCON_DEFAULT"] = json.dumps(
                {
                    "conn_type": "amtopcon",
                    "host": host,
                    "port": int(port),
                    "login": "ocadm",
                    "password": "opconxps",
                    "extra": {"tls": False},
                }
            )
            from amtopcon import Client

            with Client(url, username="ocadm", password="opconxps") as client:
                ids = [client.start("BENCH", "REPORT").batch_request_id for _ in range(n)]
            time.sleep(0.2)  # the emulator writes its last log lines
            before = count_requests(log)
            # Every job message is logged, as in a triggerer, but to /dev/null rather than this terminal.
            sys.stdout.flush()
            saved = os.dup(1)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            try:
                events, wall, grown, clients = asyncio.run(run_triggers(ids, None))
            finally:
                sys.stdout.flush()
                os.dup2(saved, 1)
                os.close(null)
            time.sleep(0.2)  # the emulator writes its last log lines
            after = count_requests(log)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    made = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    requests = sum(made.values())
    wrong = [
        i
        for i, evs in zip(ids, events, strict=True)
        if len(evs) != 1
        or evs[0].payload["batch_request_id"] != i
        or evs[0].payload["outcome"] != "ended"
        or evs[0].payload["status"]["code"] != 4
    ]
    print(f"triggers            {n} in one event loop (the emulator in its own process, speed {args.speed:g})")
    print(f"right events        {n - len(wrong)} of {n}")
    outcomes: dict[str, int] = {}
    for evs in events:
        for ev in evs:
            error = ev.payload.get("error_type")
            key = ev.payload["outcome"] + (f" {error}" if error else "")
            outcomes[key] = outcomes.get(key, 0) + 1
    if wrong:
        print(f"outcomes            {outcomes}")
        print(f"first wrong event   {events[ids.index(wrong[0])][0].payload if events[ids.index(wrong[0])] else None}")
    print(f"shared clients      {clients} (one connection)")
    print(f"logons              {made.get('Logon', 0)}")
    print(f"wall time           {wall:.2f} s (each job runs {20 / args.speed:.1f} s)")
    print(f"requests            {requests} ({', '.join(f'{k} {v}' for k, v in sorted(made.items()))})")
    print(f"requests/s          {requests / wall:.0f}")
    print(f"RSS per trigger     {grown / n / 1024:.1f} KiB (RSS grew {grown / 2**20:.1f} MiB)")
    return 1 if wrong or made.get("Logon", 0) != 1 else 0


if __name__ == "__main__":
    sys.exit(main())
