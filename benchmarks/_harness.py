"""What every benchmark shares: alternating A/B repeats summarised as medians with their
range, a served emulator in a child process, and the process's memory.

Speed is a ratio against a baseline measured in the same process or command (these
machines are noisy): each repeat runs A then B, the next B then A, and so on.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs


@attrs.frozen
class Spread:
    """A median with its min and max over the repeats."""

    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values), len(values))

    def text(self, fmt: str = "{:.2f}", unit: str = "") -> str:
        return f"{fmt.format(self.median)}{unit} ({fmt.format(self.low)}-{fmt.format(self.high)})"


def alternate(a: Callable[[], float], b: Callable[[], float], repeats: int) -> tuple[list[float], list[float]]:
    """Run `a` and `b` `repeats` times each, flipping the order every repeat; their results."""
    got_a: list[float] = []
    got_b: list[float] = []
    for i in range(repeats):
        if i % 2 == 0:
            got_a.append(a())
            got_b.append(b())
        else:
            got_b.append(b())
            got_a.append(a())
    return got_a, got_b


def timed(fn: Callable[[], object]) -> Callable[[], float]:
    """`fn` made to return the seconds it took (for `alternate`)."""

    def run() -> float:
        began = time.perf_counter()
        fn()
        return time.perf_counter() - began

    return run


def ratios(a: list[float], b: list[float]) -> Spread:
    """`a[i] / b[i]` for every repeat, summarised."""
    return Spread.of([x / y for x, y in zip(a, b, strict=True)])


def rss_mib(pid: int | None = None) -> float:
    """Resident memory of a process (this one by default), in MiB (Linux /proc)."""
    text = Path(f"/proc/{pid or os.getpid()}/status").read_text(encoding="ascii")
    match = re.search(r"^VmRSS:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) / 1024 if match else float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


CATALOG = """
amt_users = ["BATCH"]
default_queue = "WIDE"

[users]
ocadm = "opconxps"

[queues.WIDE]
concurrency = 100000

[applications.BENCH]
default_user = "BATCH"

[applications.BENCH.jobs.TWO]
steps = [{ message = "two seconds", duration = 2 }]

[applications.BENCH.jobs.HOUR]
steps = [{ message = "an hour", duration = 3600 }]
"""


@contextlib.contextmanager
def served_emulator(speed: float = 1.0, catalog: str = CATALOG) -> Iterator[tuple[str, int]]:
    """`amtopcon emulator serve --port 0` in a child process: (base URL, its pid)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "catalog.toml"
        path.write_text(catalog, encoding="utf-8")
        cmd = [sys.executable, "-m", "amtopcon", "emulator", "serve", "--port", "0", "--speed", str(speed)]
        cmd += ["--catalog", str(path)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            match = re.search(r"(https?://\S+)", line)
            if not match:
                raise RuntimeError(f"the emulator did not start: {line!r}")
            yield match.group(1), proc.pid
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
