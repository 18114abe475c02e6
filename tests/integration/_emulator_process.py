"""Run `amtopcon emulator serve` as a subprocess for tests: start, read its URL line, stop."""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

URL_LINE = re.compile(r"^Serving AMTOpCon emulator on (https?)://127\.0\.0\.1:(\d+)/AmtOpConService/$")


class ServedEmulator:
    """`amtopcon emulator serve --port 0 ...` in a subprocess; `url` once it listens."""

    def __init__(self, *args: str, timeout: float = 30.0) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "amtopcon", "emulator", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            self.line = self._read_line(timeout)
        except BaseException:
            self.kill()
            raise
        match = URL_LINE.match(self.line)
        assert match, f"unexpected first line {self.line!r}"
        self.url = self.line.rsplit(" ", 1)[1]
        self.port = int(match.group(2))

    def _read_line(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                raise AssertionError(f"no URL line within {timeout} s; stderr: {self._stderr()}")
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"the server exited with {self.proc.wait(5)}; stderr: {self._stderr()}")
        return line.rstrip("\n")

    def _stderr(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return "(still running)"
        return self.proc.stderr.read()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> tuple[int, str, str]:
        """Send `sig`, wait; (exit code, rest of stdout, stderr)."""
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err

    def kill(self) -> None:
        """Make sure the process is gone (for `finally`)."""
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired, ValueError):
            self.proc.communicate(timeout=10)


def wait_until(predicate: object, timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll `predicate()` until true; fail the test after `timeout` seconds."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def run_cli(args: Sequence[str], timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """`python -m amtopcon ARGS` to completion."""
    return subprocess.run([sys.executable, "-m", "amtopcon", *args], capture_output=True, text=True, timeout=timeout)
