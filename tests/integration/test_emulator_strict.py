"""The emulator is as strict as a server, through each of its three doors: 404 outside the
service's base path, wrong credentials refused at Logon (so `check()` says no); it answers
in either dialect; `--emulator` refuses the commands that follow a job up; `amtopcon check`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from amtopcon import AsyncClient, Client
from amtopcon import _wire as w
from amtopcon.cli import build_parser, main
from amtopcon.errors import NotFoundError, ValidationError
from amtopcon.testing import Emulator, EmulatorServer, SpeedClock

pytestmark = pytest.mark.anyio

#: Paths a server does not answer: the function outside the base path, too deep, misspelt.
OUTSIDE = ["/foo/HeartBeat", "/HeartBeat", "/AmtOpConService/x/HeartBeat", "/AmtOpConService/", "/foo/Logon"]


def check_404(response: httpx.Response, dialect: str) -> None:
    assert response.status_code == 404
    data = response.json()
    if dialect == "aspnet":
        assert response.headers["Content-Type"] == "application/problem+json; charset=utf-8"
        assert (data["status"], data["title"], data["errorCode"]) == (404, "Not Found", w.E_INVALID_REQUEST)
        assert w.SERVICE_PATH in data["detail"] and data["traceId"].startswith("00-")
    else:
        assert response.headers["Content-Type"] == "application/json"
        assert data["ErrorCode"] == w.E_INVALID_REQUEST and w.SERVICE_PATH in data["Message"]


@pytest.mark.parametrize("dialect", ["contract", "aspnet"])
@pytest.mark.parametrize("path", OUTSIDE)
def test_door_1_answers_404_outside_the_base_path(path: str, dialect: str) -> None:
    emulator = Emulator(dialect=dialect)  # type: ignore[arg-type]
    with httpx.Client(transport=emulator.transport(), base_url="https://amt.emulator") as http:
        check_404(http.get(path), dialect)
        assert http.get("/AmtOpConService/HeartBeat").status_code == 200
        assert http.get("/amtopconservice/HeartBeat").status_code == 200  # the base path's case is free, as on IIS
    assert [r.status for r in emulator.requests] == [404, 200, 200]


def test_a_client_with_a_base_url_missing_the_service_fails_in_tests_too() -> None:
    emulator = Emulator()
    emulator.faults.fail_next("HeartBeat", 503)  # a fault is for the function, not for a stray path
    http = httpx.Client(transport=emulator.transport())
    with Client("https://amt.emulator/foo/", username="ocadm", password="opconxps", http_client=http) as client:
        assert client.heartbeat() is False
        with pytest.raises(NotFoundError) as info:
            client.monitor_job(2112)
    assert not info.value.batch_request_not_found and not info.value.job_not_found
    assert emulator.faults.pending()
    http.close()


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[EmulatorServer]:
    dialect = getattr(request, "param", "contract")
    with EmulatorServer(Emulator(clock=SpeedClock(100), dialect=dialect), port=0) as server:
        yield server


@pytest.mark.parametrize("served", ["contract", "aspnet"], indirect=True)
def test_door_2_answers_404_outside_the_base_path(served: EmulatorServer) -> None:
    root = served.url.removesuffix(w.SERVICE_PATH)
    dialect = served._httpd.engine.dialect  # type: ignore[attr-defined]
    with httpx.Client(base_url=root) as http:
        for path in OUTSIDE:
            check_404(http.get(path), dialect)
        assert http.get(w.SERVICE_PATH + "HeartBeat").status_code == 200


@pytest.mark.parametrize("amt_dialect", ["contract", "aspnet"])
def test_door_3_answers_404_outside_the_base_path(amt_emulator: Emulator, amt_dialect: str) -> None:
    assert amt_emulator.dialect == amt_dialect
    with httpx.Client(transport=amt_emulator.transport(), base_url="https://amt.emulator") as http:
        for path in OUTSIDE:
            check_404(http.get(path), amt_dialect)


TEST_MODULE = """
def test_dialect(amt_emulator, amt_client):
    assert amt_emulator.dialect == "aspnet"
    assert amt_client.check() is True
    assert amt_client.run("DEMO2", "REPORTTEST01").succeeded
"""


def test_the_plugin_option_and_ini_value_pick_the_dialect(tmp_path: Path) -> None:
    (tmp_path / "test_mine.py").write_text(TEST_MODULE, encoding="utf-8")
    # the plugins it does not use stay out (hypothesis and schemathesis take 1.5 s to import)
    unused = ["-p", "no:hypothesispytest", "-p", "no:schemathesis", "-p", "no:pytest_httpx"]
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *unused, "test_mine.py"]
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    for extra, ini, passes in (
        ([], "", False),
        (["--amt-dialect", "aspnet"], "", True),
        ([], "amt_dialect = aspnet\n", True),
    ):
        (tmp_path / "pytest.ini").write_text("[pytest]\n" + ini, encoding="utf-8")
        done = subprocess.run([*command, *extra], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert (done.returncode == 0) is passes, done.stdout + done.stderr


def test_an_unknown_dialect_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        Emulator(dialect="xml")  # type: ignore[arg-type]
    assert info.value.field == "dialect"


# --------------------------------------------------------------------------- check


@pytest.mark.parametrize("dialect", ["contract", "aspnet"])
def test_check_says_whether_the_credentials_work(dialect: str) -> None:
    emulator = Emulator(dialect=dialect)  # type: ignore[arg-type]
    with emulator.client() as good, emulator.client(password="wrong") as bad:
        assert good.check() is True
        assert bad.check() is False
        assert bad.heartbeat() is True  # HeartBeat never logs on: it cannot tell
    logons = [r.status for r in emulator.requests if r.function == w.LOGON]
    assert logons == [200, 401]


async def test_check_on_the_async_client() -> None:
    emulator = Emulator()
    good, bad = emulator.async_client(), emulator.async_client(username="nobody")
    assert isinstance(good, AsyncClient)
    assert await good.check() is True
    assert await good.check() is True  # a fresh Logon each time, the token replaced
    assert await bad.check() is False
    await good.aclose()
    await bad.aclose()
    assert [r.status for r in emulator.requests if r.function == w.LOGON] == [200, 200, 401]


# --------------------------------------------------------------------------- the command line


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().err


@pytest.mark.parametrize(
    "command", [["status", "2112"], ["messages", "2112", "--follow"], ["stop", "5"], ["kill", "5"]]
)
@pytest.mark.parametrize("where", ["before", "after"])
def test_emulator_follow_up_commands_refuse_with_a_pointer(
    command: list[str], where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--emulator", *command] if where == "before" else [*command, "--emulator"]
    assert main(argv) == 64
    (line,) = _err(capsys).strip().splitlines()
    assert f"--emulator: {command[0]} needs the emulator that ran the job" in line
    assert "amtopcon emulator serve" in line


def test_check_and_heartbeat_take_the_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--emulator"]) == 0
    assert capsys.readouterr().out.startswith("ok: the AMTOpCon server at ")
    assert main(["heartbeat", "--emulator", "--quiet"]) == 0


def test_check_against_a_served_emulator(
    served: EmulatorServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no Connector.config around
    base = ["--base-url", served.url, "--user", "ocadm"]
    assert main(["check", *base, "--password", "opconxps"]) == 0
    assert "accepts the credentials of ocadm" in capsys.readouterr().out
    assert main(["check", *base, "--password", "wrong", "--quiet"]) == 24
    err = _err(capsys)
    assert err.startswith("amtopcon: refused: ") and "wrong" not in err
    assert main(["heartbeat", *base, "--password", "wrong", "--quiet"]) == 0  # up, whatever the password
    capsys.readouterr()
    assert main(["check", *base, "--password", "wrong", "--json"]) == 24
    answer = json.loads(capsys.readouterr().out)
    assert answer == {"accepted": False, "server": served.url, "user": "ocadm"}
    assert main(["check", *base, "--password", "opconxps", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accepted"] is True
    wrong_url = served.url.removesuffix(w.SERVICE_PATH) + "/foo/"
    assert main(["check", "--base-url", wrong_url, "--user", "ocadm", "--password", "opconxps"]) == 23


def test_serve_takes_a_dialect() -> None:
    args = build_parser().parse_args(["emulator", "serve", "--dialect", "aspnet", "--port", "0"])
    assert args.dialect == "aspnet"
    assert build_parser().parse_args(["emulator", "serve"]).dialect == "contract"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["emulator", "serve", "--dialect", "xml"])


@pytest.mark.parametrize("served", ["aspnet"], indirect=True)
def test_the_served_aspnet_dialect(served: EmulatorServer) -> None:
    with Client(served.url, username="ocadm", password="opconxps") as client:
        started = client.job_action("START", application="DEMO2", job="REPORTTEST01")
        raw = client.with_raw_response.monitor_job(started.batch_request_id)
    data = json.loads(raw.http_response.content)
    assert "batchRequestId" in data and "BatchRequestId" not in data
    submitted = data["submittedAt"]
    assert len(submitted.rsplit(".", 1)[1]) == 7 and "+" not in submitted and not submitted.endswith("Z")
    assert raw.parsed.submitted_at is not None and raw.parsed.submitted_at.tzinfo is None
    assert w.H_REQUEST_ID not in raw.http_response.headers
