"""`amtopcon emulator serve` with an SQLite file: stopped (SIGTERM) or killed (SIGKILL) and
restarted mid-job, it loses nothing.

The server runs as a real subprocess, sped up 25 times so the vendor's 71-second
parameter test takes about 3 s. Every wait is bounded; the processes are always killed.
"""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import httpx
import pytest

from amtopcon import Client, CompletionCode, PollPolicy, _wire
from amtopcon.models import Message

from ._emulator_process import URL_LINE, ServedEmulator, wait_until

pytestmark = pytest.mark.slow

SPEED = "25"
FAST_POLL = PollPolicy(initial_delay=0.05, interval=0.1, backoff=1.0, max_interval=0.1, jitter=0.0)


def _client(url: str) -> Client:
    return Client(url, username="ocadm", password="opconxps", timeout=5.0, total_timeout=20.0, poll=FAST_POLL)


def _all_messages(client: Client, brid: int) -> list[Message]:
    return client.job(brid).messages()


def test_a_restart_mid_job_keeps_the_job_its_messages_and_its_final_code(tmp_path: Path) -> None:
    db = tmp_path / "emu.sqlite"
    first = ServedEmulator("--db", str(db), "--speed", SPEED)
    try:
        assert URL_LINE.match(first.line)
        with _client(first.url) as client:
            started = client.job_action("START", application="DEMO2", job="RUN_PARAMETERTESTA", parameters=["'PARAM'"])
            brid = started.batch_request_id
            # Mid-job: the parameter test is running and has written some of its log.
            wait_until(
                lambda: any("running 10 seconds" in m.text for m in _all_messages(client, brid)),
                timeout=10,
                what="the job to be running",
            )
            before_status = client.monitor_job(brid)
            before = _all_messages(client, brid)
        assert not before_status.is_terminal
        assert "Value test param ['PARAM']" in [m.text for m in before]
        code, out, err = first.stop(signal.SIGTERM)
        assert code == 0, err
        assert out == ""  # the URL line was the only output
        assert err == ""  # nothing logged without --verbose
    finally:
        first.kill()

    # Closed cleanly: the write-ahead log was checkpointed into the file.
    wal = db.with_name(db.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    with sqlite3.connect(db) as check:
        assert check.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == 1

    second = ServedEmulator("--db", str(db), "--speed", SPEED)
    try:
        assert second.port != first.port or second.url == first.url
        with _client(second.url) as client:
            status = client.monitor_job(brid)
            assert status.batch_request_id == brid
            assert (status.application, status.job_name) == ("DEMO2", "RUN_PARAMETERTESTA")
            assert status.submitted_at == before_status.submitted_at
            assert status.started_at == before_status.started_at
            # Every message seen before the restart is still there, unchanged.
            assert _all_messages(client, brid)[: len(before)] == before
            result = client.job(brid).wait(timeout=15)
            assert result.code is CompletionCode.DONE
            assert result.status.ended_at is not None
            assert result.messages[: len(before)] == tuple(before)
            texts = [m.text for m in result.messages]
            assert texts[-1] == "DEMO2 RUN_PARAMETERTEST : Job finished"
            assert [m.sequence for m in result.messages] == list(range(1, len(texts) + 1))
            # New batch requests continue after the old ones.
            again = client.job_action("START", application="DEMO2", job="REPORTTEST01")
            assert again.batch_request_id == brid + 1
        code, _out, err = second.stop(signal.SIGINT)
        assert code == 0, err
    finally:
        second.kill()


def test_a_hard_kill_mid_job_loses_no_job_action_message_or_token(tmp_path: Path) -> None:
    """SIGKILL: no shutdown, no checkpoint. Every write was committed when its answer went out."""
    db = tmp_path / "emu.sqlite"
    first = ServedEmulator("--db", str(db), "--speed", SPEED)
    try:
        token = httpx.post(
            first.url + _wire.LOGON, json={_wire.F_USER_NAME: "ocadm", _wire.F_PASSWORD: "opconxps"}, timeout=5
        ).json()[_wire.F_TOKEN]
        with _client(first.url) as client:
            started = client.job_action("START", application="DEMO2", job="RUN_PARAMETERTESTA", parameters=["'PARAM'"])
            brid = started.batch_request_id
            killed = client.job_action("START", application="DEMO2", job="LONGRUNNINGREPORT").batch_request_id
            assert client.job(killed).kill() is True
            wait_until(
                lambda: any("running 10 seconds" in m.text for m in _all_messages(client, brid)),
                timeout=10,
                what="the job to be running",
            )
            before_status = client.monitor_job(brid)
            before = _all_messages(client, brid)
            killed_status = client.monitor_job(killed)
        assert not before_status.is_terminal and killed_status.code is CompletionCode.KILLED
        first.proc.kill()  # SIGKILL, mid-job
        assert first.proc.wait(10) == -signal.SIGKILL
    finally:
        first.kill()

    # Killed: nothing was checkpointed, so the committed writes are still in the write-ahead log.
    wal = db.with_name(db.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0

    second = ServedEmulator("--db", str(db), "--speed", SPEED)
    try:
        # The logon token issued before the kill is still good (kept, as a hash).
        answer = httpx.get(
            second.url + _wire.MONITOR_JOB,
            params={_wire.Q_BATCH_REQUEST_ID: brid},
            headers={_wire.H_TOKEN: token},
            timeout=5,
        )
        assert answer.status_code == 200, answer.text
        with _client(second.url) as client:
            status = client.monitor_job(brid)
            assert (status.application, status.job_name) == ("DEMO2", "RUN_PARAMETERTESTA")
            assert status.submitted_at == before_status.submitted_at
            assert status.started_at == before_status.started_at
            assert _all_messages(client, brid)[: len(before)] == before
            assert client.monitor_job(killed) == killed_status  # the KILL action was kept
            result = client.job(brid).wait(timeout=15)
            assert result.code is CompletionCode.DONE
            assert result.messages[: len(before)] == tuple(before)
            assert result.messages[-1].text == "DEMO2 RUN_PARAMETERTEST : Job finished"
            assert [m.sequence for m in result.messages] == list(range(1, len(result.messages) + 1))
            again = client.job_action("START", application="DEMO2", job="REPORTTEST01")
            assert again.batch_request_id == killed + 1  # no id handed out twice
        code, _out, err = second.stop(signal.SIGTERM)
        assert code == 0, err
    finally:
        second.kill()
    with sqlite3.connect(db) as check:
        assert check.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == 3
        assert check.execute("SELECT action FROM actions").fetchall() == [("KILL",)]


def test_verbose_logs_one_line_per_request_to_stderr_without_secrets(tmp_path: Path) -> None:
    served = ServedEmulator("--verbose")
    try:
        with _client(served.url) as client:
            assert client.heartbeat()
            brid = client.job_action("START", application="DEMO2", job="REPORTTEST01").batch_request_id
            client.monitor_job(brid)
        code, out, err = served.stop()
    finally:
        served.kill()
    assert code == 0
    assert out == ""
    lines = [line for line in err.splitlines() if "/AmtOpConService/" in line]
    assert [line.split()[4:6] for line in lines] == [
        ["GET", "/AmtOpConService/HeartBeat"],
        ["POST", "/AmtOpConService/Logon"],
        ["POST", "/AmtOpConService/OpConJobAction"],
        ["GET", "/AmtOpConService/MonitorJob"],
    ]
    assert "opconxps" not in err
    assert "LogonToken" not in err
