"""Issue 15 item 7: the served emulator SIGKILLed and restarted on the same port (same
`--db`) while a client is inside `handle.wait()` or `handle.follow()`, on both flavours.

The wait returns the job's right `JobResult` (its final status and every message, none
twice, none lost); the follow yields every message exactly once. The server is a real
subprocess (`amtopcon emulator serve`) on 127.0.0.1 with a sped-up clock, running a job of
a small catalog that writes one message per clock second, so a test takes a few seconds.
Every wait is bounded (the wait's own `timeout`, a thread join or `anyio.fail_after`, and
pytest's timeout); the processes are always killed.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from amtopcon import AsyncClient, Client, CompletionCode, PollPolicy
from amtopcon.models import JobResult, Message

from ..integration._emulator_process import ServedEmulator
from .conftest import bounded

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]

STEPS = 30  # messages of the job, one per clock second
SPEED = "10"  # clock seconds per real second: the job runs about 3 s
KILL_AFTER = 5  # messages seen before the SIGKILL: mid-job, mid-wait
WAIT_TIMEOUT = 30.0  # the wait's own deadline (client clock = real time here)
BOUND = 45.0  # the test's bound on the whole wait or follow

CATALOG = "\n".join(
    [
        'amt_users = ["BATCH"]',
        "[users]",
        'ocadm = "opconxps"',
        "[applications.RESTART]",
        'default_user = "BATCH"',
        "[applications.RESTART.jobs.STEADY]",
        'final = "DONE"',
        "steps = [",
        *[f'  {{ message = "step {i} of {STEPS}", duration = 1 }},' for i in range(1, STEPS + 1)],
        "]",
        "",
    ]
)
TEXTS = [f"step {i} of {STEPS}" for i in range(1, STEPS + 1)]
FAST = PollPolicy(initial_delay=0.05, interval=0.1, backoff=1.0, max_interval=0.1, jitter=0.0)
SETTINGS = {"username": "ocadm", "password": "opconxps", "timeout": 5.0, "total_timeout": 20.0, "poll": FAST}


class Restartable:
    """`amtopcon emulator serve --db FILE` on one port; `kill_and_restart()` SIGKILLs it and
    serves the same file on the same port again."""

    def __init__(self, tmp_path: Path) -> None:
        catalog = tmp_path / "catalog.toml"
        catalog.write_text(CATALOG, encoding="utf-8")
        self.args = ("--db", str(tmp_path / "emu.sqlite"), "--speed", SPEED, "--catalog", str(catalog))
        self.server = ServedEmulator(*self.args)
        self.url, self.port = self.server.url, self.server.port
        self.kills = 0
        self.seen_at_kill: int | None = None
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self.probes: list[Client] = []

    def kill_and_restart(self) -> None:
        self.server.proc.kill()  # SIGKILL: no shutdown, no checkpoint
        assert self.server.proc.wait(10) == -signal.SIGKILL
        self.server.kill()  # reap its pipes
        self.kills += 1
        self.server = ServedEmulator(*self.args, "--port", str(self.port))  # the last --port wins
        assert self.server.url == self.url

    def restart_when(self, seen: Callable[[], int]) -> None:
        """In a thread: once `seen()` (messages seen so far) reaches KILL_AFTER, kill and restart."""

        def run() -> None:
            try:
                deadline = time.monotonic() + BOUND
                while (count := seen()) < KILL_AFTER:
                    assert time.monotonic() < deadline, "the job wrote no messages"
                    time.sleep(0.02)
                self.seen_at_kill = count
                self.kill_and_restart()
            except BaseException as exc:  # handed to the test by joined()
                self.error = exc

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def joined(self) -> None:
        assert self._thread is not None
        self._thread.join(BOUND)
        assert not self._thread.is_alive(), "the restart did not end"
        if self.error is not None:
            raise self.error
        assert self.kills == 1

    def close(self) -> None:
        for probe in self.probes:
            probe.close()
        self.server.kill()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Restartable]:
    server = Restartable(tmp_path)
    try:
        yield server
    finally:
        server.close()


def server_count(served: Restartable, brid: int) -> Callable[[], int]:
    """How many messages the job has on the server now (a probe client of its own)."""
    probe = Client(served.url, **SETTINGS)  # type: ignore[arg-type]
    served.probes.append(probe)

    def count() -> int:
        return len(probe.job(brid).messages())

    return count


def check_log(served: Restartable, brid: int, messages: list[Message] | tuple[Message, ...]) -> None:
    """Every message of the job exactly once, in order, as the restarted server has them."""
    assert [m.text for m in messages] == TEXTS, "a message lost, repeated or out of order"
    assert [m.sequence for m in messages] == list(range(1, STEPS + 1))
    with Client(served.url, **SETTINGS) as check:  # type: ignore[arg-type]
        assert check.job(brid).messages() == list(messages)
    # The restart came in the middle: messages were written after it.
    assert served.seen_at_kill is not None and served.seen_at_kill < STEPS


def check_result(served: Restartable, brid: int, result: JobResult) -> None:
    assert result.code is CompletionCode.DONE
    assert result.status.batch_request_id == brid and result.status.is_terminal
    with Client(served.url, **SETTINGS) as check:  # type: ignore[arg-type]
        assert check.monitor_job(brid) == result.status
    check_log(served, brid, result.messages)


# --------------------------------------------------------------------------- sync


def test_sync_wait_across_a_sigkill_and_restart(served: Restartable) -> None:
    with Client(served.url, **SETTINGS) as client:  # type: ignore[arg-type]
        handle = client.start("RESTART", "STEADY")
        served.restart_when(server_count(served, handle.batch_request_id))
        result = bounded(lambda: handle.wait(timeout=WAIT_TIMEOUT), seconds=BOUND)
    served.joined()
    check_result(served, handle.batch_request_id, result)


def test_sync_follow_across_a_sigkill_and_restart(served: Restartable) -> None:
    followed: list[Message] = []
    with Client(served.url, **SETTINGS) as client:  # type: ignore[arg-type]
        handle = client.start("RESTART", "STEADY")
        served.restart_when(lambda: len(followed))

        def follow() -> None:
            for message in handle.follow(timeout=WAIT_TIMEOUT):
                followed.append(message)  # one at a time: the restart thread counts them

        bounded(follow, seconds=BOUND)
        assert handle.last_sequence == STEPS
    served.joined()
    check_log(served, handle.batch_request_id, followed)


# --------------------------------------------------------------------------- async


@pytest.mark.anyio
async def test_async_wait_across_a_sigkill_and_restart(served: Restartable) -> None:
    import anyio

    async with AsyncClient(served.url, **SETTINGS) as client:  # type: ignore[arg-type]
        handle = await client.start("RESTART", "STEADY")
        served.restart_when(server_count(served, handle.batch_request_id))
        with anyio.fail_after(BOUND):
            result = await handle.wait(timeout=WAIT_TIMEOUT)
    await anyio.to_thread.run_sync(served.joined)
    check_result(served, handle.batch_request_id, result)


@pytest.mark.anyio
async def test_async_follow_across_a_sigkill_and_restart(served: Restartable) -> None:
    import anyio

    followed: list[Message] = []
    async with AsyncClient(served.url, **SETTINGS) as client:  # type: ignore[arg-type]
        handle = await client.start("RESTART", "STEADY")
        served.restart_when(lambda: len(followed))
        with anyio.fail_after(BOUND):
            async for message in handle.follow(timeout=WAIT_TIMEOUT):
                followed.append(message)
        assert handle.last_sequence == STEPS
    await anyio.to_thread.run_sync(served.joined)
    check_log(served, handle.batch_request_id, followed)
