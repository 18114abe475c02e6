"""The `amtopcon` command as OpCon runs it: a subprocess against a served emulator
(`amtopcon emulator serve --port 0 --speed 50`), checked by its exit code and output."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from amtopcon import Client, CompletionCode
from amtopcon.cli._connect import EMULATOR_SPEED, PASSWORD_ON_COMMAND_LINE
from amtopcon.config import encode_credential
from amtopcon.testing import Catalog

pytestmark = pytest.mark.slow

USER, PASSWORD = "ocadm", "opconxps"
RUN_TIMEOUT = 60


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMTOPCON_")}
    env.update(extra)
    return env


def _readline(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        raise AssertionError(f"no output within {timeout} s")
    return proc.stdout.readline()


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of an emulator served by a subprocess for this module's tests."""
    tmp = tmp_path_factory.mktemp("served")
    log = (tmp / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "amtopcon", "emulator", "serve", "--port", "0", "--speed", "50"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        cwd=tmp,
        env=_env(),
    )
    try:
        line = _readline(proc, 30)
        assert line.startswith("Serving AMTOpCon emulator on http://127.0.0.1:"), line
        yield line.split()[-1]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    """An empty working directory (no Connector.config)."""
    return tmp_path


def amtopcon(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the command; the timeout kills it if it hangs. The one warning about `--password`
    on the command line (tests/faults/test_cli_secrets.py) is taken out of standard error."""
    proc = subprocess.run(
        [sys.executable, "-m", "amtopcon", *argv],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        cwd=cwd,
        env=env if env is not None else _env(),
    )
    warning = f"amtopcon: {PASSWORD_ON_COMMAND_LINE}\n"
    assert proc.stderr.count(warning) == (1 if "--password" in argv else 0), proc.stderr
    proc.stderr = proc.stderr.replace(warning, "")
    return proc


def creds(url: str, password: str = PASSWORD) -> list[str]:
    return ["--base-url", url, "--user", USER, "--password", password]


def _one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr
    lines = [x for x in proc.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def _brid(out: str) -> int:
    line = next(x for x in out.splitlines() if "started in AMT Environment" in x)
    return int(line.rsplit("'", 2)[-2])


def test_done_exits_4_and_prints_the_job_log(url: str, cwd: Path) -> None:
    proc = amtopcon(*creds(url), "-jt", "START", "-an", "DEMO2", "-jn", "REPORTTEST01", cwd=cwd)
    assert proc.returncode == 4, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[1:3] == ["Authentication successful", "Job 'REPORTTEST01' START request received"]
    assert lines[3].startswith("Job 'REPORTTEST01' started in AMT Environment : BatchrequestId '")
    assert f"Server          : {url.rsplit('/AmtOpConService/', 1)[0]}" in lines
    assert "Completion Code : DONE" in lines
    assert '"Report test 01 is started"' in lines and '"Done"' in lines
    assert lines[-1] == "Connector completed with return code 4"
    assert proc.stderr == ""  # off a terminal: no status line


def test_error_job_exits_11(url: str, cwd: Path) -> None:
    proc = amtopcon(*creds(url), "-jt", "START", "-an", "DEMO2", "-jn", "ERRORTEST01", cwd=cwd)
    assert proc.returncode == 11, proc.stderr
    assert "Completion Code : ERROR" in proc.stdout
    assert '"Error test 01: division by zero in section 200-CALCULATE"' in proc.stdout


def test_unknown_job_exits_11_with_one_line(url: str, cwd: Path) -> None:
    proc = amtopcon(*creds(url), "-jt", "START", "-an", "DEMO2", "-jn", "NOSUCHJOB", cwd=cwd)
    assert proc.returncode == 11
    assert "unknown application or job" in _one_error_line(proc)
    assert proc.stdout.splitlines()[-1] == "Connector completed with return code 11"


def test_bad_password_exits_24_with_one_line(url: str, cwd: Path) -> None:
    proc = amtopcon(*creds(url, "not-the-password"), "-jt", "START", "-an", "DEMO2", "-jn", "REPORTTEST01", cwd=cwd)
    assert proc.returncode == 24
    line = _one_error_line(proc)
    assert "credentials refused" in line and "not-the-password" not in line


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_server_exits_23_with_one_line(cwd: Path) -> None:
    dead = f"http://127.0.0.1:{_free_port()}/AmtOpConService/"
    # one retry (a real back-off of 0.25-0.5 s, not the default three's 1.75-3.5 s): still one line
    argv = [*creds(dead), "--max-retries", "1", "-jt", "START", "-an", "DEMO2", "-jn", "REPORTTEST01"]
    proc = amtopcon(*argv, cwd=cwd)
    assert proc.returncode == 23
    line = _one_error_line(proc)
    assert "cannot reach the AMTOpCon server" in line and dead in line
    beat = amtopcon(*creds(dead), "--max-retries", "0", "heartbeat", cwd=cwd)
    assert beat.returncode == 23
    assert "down" in _one_error_line(beat)


def test_plain_http_warning_is_one_line(cwd: Path) -> None:
    # 0.0.0.0 is not a loopback address to the library (so it warns), needs no name
    # resolution, and a connection to it stays on this machine (refused on a free port).
    dead = f"http://0.0.0.0:{_free_port()}/AmtOpConService/"
    env = {k: v for k, v in _env().items() if not k.lower().endswith("_proxy")}  # nothing goes to a proxy
    argv = [*creds(dead), "--max-retries", "0", "-jt", "START", "-an", "DEMO2", "-jn", "REPORTTEST01"]
    proc = amtopcon(*argv, cwd=cwd, env=env)
    assert proc.returncode == 23
    lines = [x for x in proc.stderr.splitlines() if x.strip()]
    assert lines[0] == "amtopcon: warning: credentials are sent over plain HTTP to 0.0.0.0; use https", proc.stderr
    assert len(lines) == 2 and "cannot reach the AMTOpCon server" in lines[1]
    assert "InsecureTransportWarning" not in proc.stderr and "Client(" not in proc.stderr
    for quiet in ("--json", "--quiet"):
        proc = amtopcon(*argv, quiet, cwd=cwd, env=env)
        assert proc.returncode == 23
        assert "warning" not in proc.stderr.lower() and "plain HTTP" not in proc.stderr
        assert len(_one_error_line(proc).splitlines()) == 1


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_mid_job_kills_the_amt_job_and_exits_3(url: str, cwd: Path, signum: signal.Signals) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "amtopcon", *creds(url), "-jt", "START", "-an", "DEMO2", "-jn", "LONGRUNNINGREPORT"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=_env(),
    )
    try:
        started = _readline(proc, 30)  # the connector's first lines come at once, each flushed
        while "started in AMT Environment" not in started and started:
            started = proc.stdout.readline() if proc.stdout is not None else ""
        brid = _brid(started)
        time.sleep(0.5)  # now waiting
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 3, err
    assert "Completion Code : KILLED" in out
    assert out.splitlines()[-1] == "Connector completed with return code 3"
    assert f"{signum.name} received: killing AMT job" in err
    with Client(url, username=USER, password=PASSWORD) as client:
        assert client.monitor_job(brid).code == CompletionCode.KILLED


def test_json_parses(url: str, cwd: Path) -> None:
    proc = amtopcon(
        "start", "-an", "DEMO2", "-jn", "REPORTTEST01", "--json", cwd=cwd,
        env=_env(AMTOPCON_BASE_URL=url, AMTOPCON_USER=USER, AMTOPCON_PASSWORD=PASSWORD),
    )  # fmt: skip
    assert proc.returncode == 4, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["code"], data["code_name"]) == (4, "DONE")
    assert data["messages"][-1]["text"] == "Done"


def test_password_from_the_environment(url: str, cwd: Path) -> None:
    argv = ["--base-url", url, "--user", USER, "status", "999999"]
    proc = amtopcon(*argv, cwd=cwd, env=_env(AMTOPCON_PASSWORD=PASSWORD))
    assert proc.returncode == 11  # logged on, then: no such batch request
    assert "unknown BatchRequestId" in _one_error_line(proc)
    proc = amtopcon(*argv, cwd=cwd, env=_env(AMTOPCON_PASSWORD="wrong"))
    assert proc.returncode == 24


def test_parameters_with_line_breaks_arrive_separately(url: str, cwd: Path) -> None:
    proc = amtopcon(*creds(url), "-jt", "START", "-an", "DEMO2", "-jn", "REPORTTEST01", "-pa", "A=1\nB=2", cwd=cwd)
    assert proc.returncode == 4, proc.stderr
    assert '"Report test 01 Value param [A=1, B=2]"' in proc.stdout.splitlines()


def _connector_config(path: Path, url: str, *, debug: str = "OFF") -> Path:
    address = url.split("://", 1)[1].split("/", 1)[0]
    path.write_text(
        "[CONNECTOR]\nNAME=AMT\nSTATUS_CHECK_POLL_INTERVAL=0.2\nSTATUS_CHECK_INITIAL_POLL_DELAY=0.2\n"
        f"DEBUG={debug}\n"
        f"[AMT BATCH SERVER]\nSERVER_ADDRESS={address}\nSERVER_USE_TLS=False\n"
        f"USER={encode_credential(USER)}\nPASSWORD={encode_credential(PASSWORD)}\n"
    )
    path.chmod(0o600)  # a credentials file readable by others draws a warning (tests/faults/test_cli_secrets.py)
    return path


def test_connector_config_sources(url: str, cwd: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = _connector_config(tmp_path_factory.mktemp("cfg") / "my.config", url)
    proc = amtopcon("--config", str(elsewhere), "-jt", "START", "-an", "DEMO2", "-jn", "REPORTTEST01", cwd=cwd)
    assert proc.returncode == 4, proc.stderr
    _connector_config(cwd / "Connector.config", url)
    beat = amtopcon("heartbeat", cwd=cwd)
    assert beat.returncode == 0, beat.stderr
    assert beat.stdout.startswith("up:")


def test_debug_on_in_the_connector_config_turns_on_the_debug_log(url: str, cwd: Path) -> None:
    _connector_config(cwd / "Connector.config", url, debug="ON")
    proc = amtopcon("-jt", "START", "-an", "DEMO2", "-jn", "REPORTTEST01", cwd=cwd)
    assert proc.returncode == 4, proc.stderr
    debug = [line for line in proc.stderr.splitlines() if " DEBUG " in line]
    assert any(f"DEBUG=ON in {cwd / 'Connector.config'}" in line for line in debug), proc.stderr
    assert any("/AmtOpConService/Logon -> 200" in line for line in debug), proc.stderr
    assert any("/AmtOpConService/MonitorJob -> 200" in line for line in debug), proc.stderr
    assert PASSWORD not in proc.stderr and encode_credential(PASSWORD) not in proc.stderr
    assert proc.stdout.splitlines()[-1] == "Connector completed with return code 4"  # stdout unchanged
    _connector_config(cwd / "Connector.config", url, debug="OFF")
    quiet = amtopcon("-jt", "START", "-an", "DEMO2", "-jn", "REPORTTEST01", cwd=cwd)
    assert quiet.returncode == 4 and quiet.stderr == ""


def test_the_connector_config_beside_the_program(url: str, cwd: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    # An installation folder as the connector had: the program, and its Connector.config beside it.
    install = tmp_path_factory.mktemp("install")
    program = install / "amtopcon"
    program.write_text("import sys\nfrom amtopcon.cli import main\nsys.exit(main())\n")
    _connector_config(install / "Connector.config", url)
    run = [sys.executable, str(program), "-jt", "START", "-an", "DEMO2", "-jn", "REPORTTEST01"]
    proc = subprocess.run(run, capture_output=True, text=True, timeout=RUN_TIMEOUT, cwd=cwd, env=_env())
    assert proc.returncode == 4, proc.stderr
    assert f"Server          : {url.rsplit('/AmtOpConService/', 1)[0]}" in proc.stdout.splitlines()
    # The working directory's file comes first.
    (cwd / "Connector.config").write_text(
        "[AMT BATCH SERVER]\nSERVER_ADDRESS=127.0.0.1:9\nUSER=x\nPASSWORD=y\n"  # undecodable: exit 64 names it
    )
    first = subprocess.run(run, capture_output=True, text=True, timeout=RUN_TIMEOUT, cwd=cwd, env=_env())
    assert first.returncode == 64, first.stderr
    assert str(cwd / "Connector.config") in first.stderr or "Connector.config" in first.stderr


def test_no_wait_then_status_messages_and_kill(url: str, cwd: Path) -> None:
    proc = amtopcon(*creds(url), "start", "-an", "DEMO2", "-jn", "LONGRUNNINGREPORT", "--no-wait", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    brid = str(_brid(proc.stdout))
    status = amtopcon(*creds(url), "status", brid, "--json", cwd=cwd)
    assert status.returncode == 0 and json.loads(status.stdout)["code_name"] in ("QUEUED", "RUNNING")
    killed = amtopcon(*creds(url), "kill", brid, cwd=cwd)
    assert killed.returncode == 0 and "KILL accepted" in killed.stdout
    status = amtopcon(*creds(url), "status", brid, "--json", cwd=cwd)
    assert json.loads(status.stdout)["code_name"] == "KILLED"
    messages = amtopcon(*creds(url), "messages", brid, cwd=cwd)
    assert messages.returncode == 0


def test_emulator_run_of_the_readme_command_exits_4_quickly(cwd: Path) -> None:
    # "Quickly": the job's script is about 71 s of AMT time, which `--emulator` runs sped up
    # to a few real seconds (the run itself is bounded by RUN_TIMEOUT, a hang guard).
    script = Catalog.default().job("DEMO2", "RUN_PARAMETERTESTA")
    assert script is not None
    assert sum(step.duration for step in script.steps) / EMULATOR_SPEED <= 2.5
    proc = amtopcon(
        "--emulator", "-jt", "START", "-an", "DEMO2", "-jn", "RUN_PARAMETERTESTA", "-pa", "'PARAM'", cwd=cwd
    )
    assert proc.returncode == 4, proc.stderr
    assert "\"Value test param ['PARAM']\"" in proc.stdout.splitlines()
    assert proc.stdout.splitlines()[3] == (
        "Job 'RUN_PARAMETERTESTA' started in AMT Environment : BatchrequestId '2112'"
    )


def test_usage_errors_exit_64(cwd: Path) -> None:
    for argv in ([], ["--emulator", "--user", "x", "heartbeat"], ["-jt", "START", "-an", "DEMO2", "-jn", "X"]):
        proc = amtopcon(*argv, cwd=cwd)
        assert proc.returncode == 64, (argv, proc.stderr)
        assert "Traceback" not in proc.stderr
