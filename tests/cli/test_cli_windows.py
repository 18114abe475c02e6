"""The Windows paths of the command, run on any platform by simulating Windows: a cp1252
standard output (a Windows pipe), and the console events CTRL_BREAK / CTRL_C, which
Windows delivers as `signal.SIGBREAK` / `signal.SIGINT`."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from amtopcon import CompletionCode, _wire
from amtopcon.cli import _connect, _run, main
from amtopcon.testing import Emulator

NOT_CP1252 = "Ωμέγα 名前 ✓"  # Greek, CJK and a check mark: none is in cp1252


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Emulator]:
    monkeypatch.chdir(tmp_path)
    emu = Emulator()
    monkeypatch.setattr(_connect, "open_client", lambda args: emu.client())
    yield emu


# -- a cp1252 standard output
def test_a_cp1252_pipe_gets_the_job_log_and_exit_4(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMTOPCON_")}
    env["PYTHONIOENCODING"] = "cp1252"  # what a Windows pipe gives Python: strict cp1252
    argv = ["--emulator", "-jt", "START", "-an", "DEMO2", "-jn", "REPORTTEST01", "-pa", NOT_CP1252]
    done = subprocess.run(
        [sys.executable, "-m", "amtopcon", *argv], capture_output=True, cwd=tmp_path, env=env, timeout=120
    )
    out = done.stdout.decode("cp1252")
    assert done.returncode == 4, done.stderr.decode("cp1252", "replace")
    lines = out.splitlines()
    assert "Completion Code : DONE" in lines
    assert '"Report test 01 Value param [????? ?? ?]"' in lines  # the message, each unencodable character a ?
    assert '"Done"' in lines
    assert lines[-1] == "Connector completed with return code 4"
    assert b"Traceback" not in done.stderr


def test_a_strict_cp1252_stdout_in_process(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding="cp1252", errors="strict", newline="\n")
    monkeypatch.setattr(sys, "stdout", stdout)
    code = main(["-jt", "START", "-an", "DEMO2", "-jn", "REPORTTEST01", "-pa", NOT_CP1252])
    stdout.flush()
    assert code == 4
    assert stdout.errors == "strict"  # put back once the command returns
    lines = raw.getvalue().decode("cp1252").splitlines()
    assert lines[0] == 'Arguments : -jt START -an DEMO2 -jn REPORTTEST01 -pa "????? ?? ?"'
    assert lines[-1] == "Connector completed with return code 4"


# -- the console events
def test_the_stop_signals_by_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    assert set(_run.stop_signals()) == {signal.SIGINT, signal.SIGTERM}
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(signal, "SIGBREAK", 21, raising=False)
    assert set(_run.stop_signals()) == {signal.SIGINT, signal.SIGTERM, 21}


@pytest.mark.parametrize("event", ["CTRL_BREAK", "CTRL_C"])
def test_a_console_event_on_windows_kills_the_job_and_exits_3(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, event: str
) -> None:
    # Windows simulated: SIGBREAK exists (a real signal of this platform stands in for it).
    fake_sigbreak = signal.SIGUSR1
    monkeypatch.setattr(signal, "SIGBREAK", int(fake_sigbreak), raising=False)
    monkeypatch.setattr(sys, "platform", "win32")
    delivered = fake_sigbreak if event == "CTRL_BREAK" else signal.SIGINT
    transport = emulator.transport()
    fired: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/" + _wire.MONITOR_JOB) and not fired:
            fired.append(request)
            signal.raise_signal(delivered)  # the agent's console event, while the command waits
        return transport.handle_request(request)

    def open_client(args: object) -> object:
        return emulator.client(http_client=httpx.Client(transport=httpx.MockTransport(handler)))

    monkeypatch.setattr(_connect, "open_client", open_client)
    before = signal.getsignal(fake_sigbreak)
    assert main(["-jt", "START", "-an", "DEMO2", "-jn", "LONGRUNNINGREPORT"]) == 3
    captured = capsys.readouterr()
    name = "SIGBREAK" if event == "CTRL_BREAK" else "SIGINT"
    assert f"{name} received: killing AMT job LONGRUNNINGREPORT" in captured.err
    assert "Completion Code : KILLED" in captured.out
    assert captured.out.splitlines()[-1] == "Connector completed with return code 3"
    assert emulator.status(2112).code == CompletionCode.KILLED
    assert signal.getsignal(fake_sigbreak) == before  # the handler is put back


def test_without_windows_sigusr1_is_not_a_stop_signal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signal, "SIGBREAK", int(signal.SIGUSR1), raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert signal.SIGUSR1 not in _run.stop_signals()
