"""Door 2 in process: the emulator behind a real HTTP server on loopback, and its command's argument checks.

These tests run `EmulatorServer` in a background thread with a virtual clock the test
moves, so real HTTP goes over a socket while job time stays under the test's control.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from amtopcon import Client, CompletionCode, _wire
from amtopcon.errors import APIConnectionError, APITimeoutError, AuthenticationError
from amtopcon.testing import Emulator, MemoryStore, SQLiteStore, VirtualClock
from amtopcon.testing._server import (
    META_EPOCH,
    META_ORIGIN,
    META_SPEED,
    EmulatorServer,
    NotLoopbackError,
    check_loopback,
    persistent_clock,
)

USER, PASSWORD = "ocadm", "opconxps"


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(clock=VirtualClock())


@pytest.fixture
def server(emulator: Emulator) -> Iterator[EmulatorServer]:
    with EmulatorServer(emulator, port=0) as srv:
        yield srv


@pytest.fixture
def client(server: EmulatorServer) -> Iterator[Client]:
    with Client(server.url, username=USER, password=PASSWORD, timeout=5.0, max_retries=0) as c:
        yield c


def _raw(server: EmulatorServer, data: bytes) -> str:
    """Send bytes on a fresh connection; everything the server writes until it closes."""
    host, port = server.url.split("//")[1].split("/")[0].split(":")
    chunks = []
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(data)
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def _logon(url: str) -> str:
    answer = httpx.post(url + _wire.LOGON, json={_wire.F_USER_NAME: USER, _wire.F_PASSWORD: PASSWORD}, timeout=5)
    token: str = answer.json()[_wire.F_TOKEN]
    return token


# --------------------------------------------------------------------------- the contract over a socket


def test_a_job_runs_over_real_http(emulator: Emulator, server: EmulatorServer, client: Client) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    assert server.url.endswith(_wire.SERVICE_PATH)
    assert client.heartbeat() is True
    started = client.job_action("START", application="DEMO2", job="RUN_PARAMETERTESTA", parameters=["'PARAM'"])
    assert started.batch_request_id > 0
    emulator.advance(120)
    status = client.monitor_job(started.batch_request_id)
    assert status.code is CompletionCode.DONE
    page = client.get_messages(started.batch_request_id)
    assert "Value test param ['PARAM']" in [m.text for m in page.messages]
    assert [m.sequence for m in page.messages] == list(range(1, len(page.messages) + 1))


def test_answers_are_json_and_echo_the_request_id(server: EmulatorServer) -> None:
    answer = httpx.get(server.url + _wire.HEARTBEAT, headers={_wire.H_REQUEST_ID: "rid-1"}, timeout=5)
    assert answer.status_code == 200
    assert answer.headers[_wire.H_CONTENT_TYPE] == _wire.JSON_TYPE
    assert answer.headers[_wire.H_REQUEST_ID] == "rid-1"
    assert answer.headers["Server"].startswith("amtopcon-emulator/")
    assert answer.json() == {_wire.F_STATUS: _wire.HEARTBEAT_OK}


def test_garbage_is_a_400_in_the_contracts_error_shape(server: EmulatorServer) -> None:
    token = _logon(server.url)
    answer = httpx.post(server.url + _wire.JOB_ACTION, content=b"{not json", headers={_wire.H_TOKEN: token}, timeout=5)
    assert answer.status_code == 400
    assert answer.json()[_wire.F_ERROR_CODE] == _wire.E_INVALID_REQUEST


def test_no_token_is_a_401_and_the_client_says_so(server: EmulatorServer) -> None:
    answer = httpx.get(server.url + _wire.MONITOR_JOB, params={_wire.Q_BATCH_REQUEST_ID: 2112}, timeout=5)
    assert answer.status_code == 401
    assert answer.json()[_wire.F_ERROR_CODE] == _wire.E_AUTHENTICATION_FAILED
    with (
        Client(server.url, username=USER, password="wrong", timeout=5, max_retries=0) as c,
        pytest.raises(AuthenticationError),
    ):
        c.monitor_job(2112)


def test_any_method_reaches_the_engine_which_answers_405_with_allow(server: EmulatorServer) -> None:
    for method in ("DELETE", "PUT", "QUERY", "BREW"):
        answer = httpx.request(method, server.url + _wire.LOGON, timeout=5)
        assert answer.status_code == 405, method
        assert answer.headers["Allow"] == "POST"
        assert answer.json()[_wire.F_ERROR_CODE] == _wire.E_INVALID_REQUEST


def test_a_chunked_body_is_read(server: EmulatorServer) -> None:
    body = json.dumps({_wire.F_USER_NAME: USER, _wire.F_PASSWORD: PASSWORD}).encode()
    answer = httpx.post(server.url + _wire.LOGON, content=iter([body[:7], body[7:]]), timeout=5)
    assert answer.status_code == 200
    assert answer.json()[_wire.F_TOKEN]


def test_a_body_larger_than_allowed_is_refused_unread(server: EmulatorServer) -> None:
    request = f"POST {_wire.SERVICE_PATH}{_wire.LOGON} HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n"
    reply = _raw(server, request.encode())
    assert reply.startswith("HTTP/1.1 400")
    assert _wire.E_INVALID_REQUEST in reply
    assert "Connection: close" in reply


def test_a_broken_request_line_gets_a_json_400(server: EmulatorServer) -> None:
    reply = _raw(server, b"GET / HTTP/1.1 junk\r\n\r\n")
    head, _, body = reply.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 400") or head.startswith("HTTP/1.0 400")
    assert json.loads(body)[_wire.F_ERROR_CODE] == _wire.E_INVALID_REQUEST


# --------------------------------------------------------------------------- faults


def test_a_drop_closes_the_connection_without_an_answer(emulator: Emulator, client: Client) -> None:
    started = client.job_action("START", application="DEMO2", job="REPORTTEST01")
    emulator.faults.drop_next(_wire.MONITOR_JOB)
    with pytest.raises(APIConnectionError) as info:
        client.monitor_job(started.batch_request_id)
    assert not isinstance(info.value, APITimeoutError)
    emulator.faults.drop_next(_wire.HEARTBEAT, after_processing=False)
    assert client.heartbeat() is False
    assert client.monitor_job(started.batch_request_id).batch_request_id == started.batch_request_id


def test_a_delay_holds_the_answer_back_without_holding_up_others(
    emulator: Emulator, server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server sleeps an injected delay in the request's thread. Here that sleep is held
    # until the test lets it go, so "the delayed answer is still pending" is a fact, not a race.
    delay = 7.25
    held, release = threading.Event(), threading.Event()
    real_sleep = time.sleep

    def gated_sleep(seconds: float) -> None:
        if seconds != delay:
            real_sleep(seconds)
            return
        held.set()
        release.wait(30)

    monkeypatch.setattr(time, "sleep", gated_sleep)
    emulator.faults.delay_next(_wire.HEARTBEAT, delay)
    try:
        with Client(server.url, username=USER, password=PASSWORD, timeout=0.1, max_retries=0) as c:
            assert c.heartbeat() is False  # the read timed out: the delay really happened on the wire
            assert held.wait(10)  # ... in the server, which is holding that answer back
            assert c.heartbeat() is True  # the next one is answered meanwhile
            assert held.is_set() and not release.is_set()
        heartbeats = [r for r in emulator.requests if r.function == _wire.HEARTBEAT]
        assert [r.status for r in heartbeats] == [200, 200]  # both processed; the first one's answer was late
    finally:
        release.set()


def test_an_injected_status_carries_retry_after(emulator: Emulator, server: EmulatorServer) -> None:
    emulator.faults.fail_next(_wire.HEARTBEAT, 503, retry_after=7)
    answer = httpx.get(server.url + _wire.HEARTBEAT, timeout=5)
    assert answer.status_code == 503
    assert answer.headers[_wire.H_RETRY_AFTER] == "7"
    assert answer.json()[_wire.F_ERROR_CODE] == _wire.E_SERVER_BUSY


def test_a_closed_server_refuses_connections(emulator: Emulator) -> None:
    srv = EmulatorServer(emulator, port=0).start()
    url = srv.url
    assert httpx.get(url + _wire.HEARTBEAT, timeout=5).status_code == 200
    srv.close()
    srv.close()
    assert not srv.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + _wire.HEARTBEAT, timeout=5)


# --------------------------------------------------------------------------- loopback only


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "localhost", "LOCALHOST", "[::1]"])
def test_loopback_hosts_are_accepted(host: str) -> None:
    assert check_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "amt.example.com", ""])
def test_other_hosts_are_refused(host: str, emulator: Emulator) -> None:
    with pytest.raises(NotLoopbackError, match="loopback"):
        check_loopback(host)
    with pytest.raises(NotLoopbackError):
        EmulatorServer(emulator, host=host, port=0)


def test_ipv6_loopback_serves(emulator: Emulator) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        srv = EmulatorServer(emulator, host="::1", port=0)
    except OSError:
        pytest.skip("::1 is not available here")
    with srv:
        assert srv.url.startswith("http://[::1]:")
        assert httpx.get(srv.url + _wire.HEARTBEAT, timeout=5).json() == {_wire.F_STATUS: _wire.HEARTBEAT_OK}


def test_tls_needs_both_files(emulator: Emulator, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="both"):
        EmulatorServer(emulator, port=0, tls_cert=tmp_path / "cert.pem")


# --------------------------------------------------------------------------- the served clock


def test_the_persistent_clock_starts_its_time_line_in_the_store() -> None:
    store = MemoryStore()
    clock = persistent_clock(store, 10, wall=1000.0)
    assert clock.speed == 10.0
    assert clock.origin == 1000.0
    assert clock.epoch.timestamp() == 1000.0
    assert store.get_meta(META_ORIGIN) == "1000.0"
    assert store.get_meta(META_SPEED) == "10.0"


def test_a_restart_continues_the_time_line_counting_the_downtime(tmp_path: Path) -> None:
    path = tmp_path / "emu.sqlite"
    with SQLiteStore(path) as store:
        persistent_clock(store, 10, wall=1000.0)
    with SQLiteStore(path) as store:
        again = persistent_clock(store, 10, wall=1005.0)  # down for 5 s: the clock reads 50 s as if it had run
        assert again.origin == 1000.0
        assert again.epoch.timestamp() == 1000.0


def test_a_restart_at_another_speed_continues_from_the_reading_at_the_restart() -> None:
    store = MemoryStore()
    persistent_clock(store, 10, wall=1000.0)
    faster = persistent_clock(store, 20, wall=1005.0)  # it read 50 s at the restart
    assert faster.origin == pytest.approx(1002.5)  # (1005 - 1002.5) * 20 == 50
    assert faster.epoch.timestamp() == 1000.0  # earlier timestamps do not move
    assert store.get_meta(META_EPOCH) == "1000.0"


def test_a_broken_stored_clock_is_a_clear_error() -> None:
    store = MemoryStore()
    store.set_meta(META_ORIGIN, "yesterday")
    with pytest.raises(ValueError, match=r"clock\.origin"):
        persistent_clock(store, 1)
    with pytest.raises(ValueError, match="speed"):
        persistent_clock(MemoryStore(), 0)


# --------------------------------------------------------------------------- the command's argument checks


def _cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from amtopcon.cli import main

    code = main(["emulator", "serve", *args])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--host", "0.0.0.0"], "loopback"),
        (["--host", "192.168.1.10"], "loopback"),
        (["--port", "70000"], "--port"),
        (["--port", "http"], "--port"),
        (["--speed", "0"], "--speed"),
        (["--speed", "inf"], "--speed"),
        (["--tls-cert", "cert.pem"], "--tls-key"),
        (["--tls-key", "key.pem"], "--tls-cert"),
        (["--tls-cert", "/no/such/cert.pem", "--tls-key", "/no/such/key.pem"], "/no/such/cert.pem"),
        (["--catalog", "/no/such/catalog.toml"], "catalog"),
        (["--no-such-option"], "no-such-option"),
    ],
)
def test_bad_arguments_exit_64_with_a_clear_message(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _cli(*args, capsys=capsys)
    assert code == 64
    assert says in err


def test_a_db_that_is_not_a_database_exits_64(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "emu.sqlite"
    path.write_bytes(b"not a database " * 100)
    code, err = _cli("--db", str(path), "--port", "0", capsys=capsys)
    assert code == 64
    assert "emu.sqlite" in err


def test_a_port_in_use_exits_64(emulator: Emulator, server: EmulatorServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _cli("--port", str(server.port), capsys=capsys)
    assert code == 64
    assert "--port" in err


def test_emulator_without_a_command_exits_64(capsys: pytest.CaptureFixture[str]) -> None:
    from amtopcon.cli import main

    assert main(["emulator"]) == 64
    assert "serve" in capsys.readouterr().err


def test_the_command_line_stays_light() -> None:
    # Registering `emulator serve` loads neither the server, the engine, sqlite3 nor httpx.
    code = (
        "import sys; from amtopcon.cli import build_parser; build_parser(); "
        "heavy = [m for m in ('amtopcon.testing', 'http.server', 'sqlite3', 'httpx', 'ssl') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
