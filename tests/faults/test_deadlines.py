"""Issue 15 row 1, the sync side: a `Client` whose answer trickles (headers or body) ends by
its deadlines, as `AsyncClient` does, through the SDK's own pool, an injected
`httpx.Client` and the command line. Over real TCP on 127.0.0.1, every call bounded.

The sync client caps each socket operation of an attempt by the attempt's end
(`amtopcon._deadline`); the tests at the end pin the httpx internals that rely on, so a
new httpx that moves them fails here, loudly, rather than letting trickles hang again."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest

from amtopcon import AsyncClient, Client, PollPolicy, _deadline, _deadline_net
from amtopcon.errors import APITimeoutError, WaitTimeoutError

from ._server import FaultServer, Request, json_answer
from .conftest import HANG, bounded
from .test_hostile import PASSWORD, answering, trickle_body, trickle_headers

TRICKLES = pytest.mark.parametrize("script", [trickle_headers, trickle_body], ids=["headers", "body"])
FAST = PollPolicy.fixed(0.1, 0.1)
#: Slack (real seconds) past a deadline for the last attempt to notice it and the test to see it.
ROOM = 2.0


def ended_by(started: float, seconds: float) -> bool:
    return time.monotonic() - started < seconds + ROOM


# --------------------------------------------------------------------------- the calls


@TRICKLES
def test_trickle_ends_by_total_timeout_across_the_default_retries(script: Any) -> None:
    # The issue's `Client(url, timeout=3, total_timeout=8).monitor_job(1)`, shortened:
    # the retries (default 3) never carry a call past its total_timeout.
    with (
        FaultServer(answering(script)) as server,
        Client(server.url, username="u", password=PASSWORD, timeout=1, total_timeout=3) as c,
    ):
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            bounded(lambda: c.monitor_job(1))
        assert ended_by(started, 3)
        assert server.count("MonitorJob") >= 1


@TRICKLES
def test_trickle_ends_a_wait_by_its_timeout(script: Any) -> None:
    # The attempt's own bound (2 x 5 s) is past the wait's deadline: the deadline ends it.
    with (
        FaultServer(answering(script)) as server,
        Client(server.url, username="u", password=PASSWORD, timeout=5, total_timeout=None) as c,
    ):
        handle = c.job(1)
        started = time.monotonic()
        with pytest.raises((WaitTimeoutError, APITimeoutError)):
            bounded(lambda: handle.wait(timeout=2.5, poll=FAST))
        assert ended_by(started, 2.5 + 1)  # + the last check's second (see wait())


@pytest.mark.anyio
@TRICKLES
async def test_async_trickle_ends_a_wait_by_its_timeout(script: Any) -> None:
    import anyio

    with FaultServer(answering(script)) as server:
        async with AsyncClient(server.url, username="u", password=PASSWORD, timeout=5, total_timeout=None) as c:
            started = time.monotonic()
            with anyio.fail_after(HANG), pytest.raises((WaitTimeoutError, APITimeoutError)):
                await c.job(1).wait(timeout=2.5, poll=FAST)
            assert ended_by(started, 2.5 + 1)


@TRICKLES
def test_trickle_through_an_injected_http_client_ends_by_total_timeout(script: Any) -> None:
    with FaultServer(answering(script)) as server, httpx.Client() as http:
        c = Client(server.url, username="u", password=PASSWORD, timeout=1, total_timeout=3, http_client=http)
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            bounded(lambda: c.monitor_job(1))
        assert ended_by(started, 3)
        # The user's own requests through it are not bounded by the SDK's deadlines.
        assert http.get(server.url + "Logon", timeout=5).status_code == 200


def test_a_with_options_copy_is_bounded_too() -> None:
    with (
        FaultServer(answering(trickle_headers)) as server,
        Client(server.url, username="u", password=PASSWORD, timeout=30, total_timeout=None) as c,
    ):
        copy = c.with_options(timeout=1, max_retries=0)
        with pytest.raises(APITimeoutError):
            bounded(lambda: copy.monitor_job(1))


# --------------------------------------------------------------------------- the command line


def _cli(url: str, args: str) -> subprocess.CompletedProcess[str]:
    """`amtopcon --base-url URL ARGS` (the password from the environment), bounded in time."""
    argv = ["--base-url", url, *args.split()]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMTOPCON_")}
    env["AMTOPCON_PASSWORD"] = PASSWORD
    try:
        return subprocess.run(
            [sys.executable, "-m", "amtopcon", *argv], capture_output=True, text=True, timeout=HANG, env=env
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"amtopcon {argv!r} did not end within {HANG}s (it hangs)")


@TRICKLES
def test_cli_status_ends_when_the_answer_trickles(script: Any) -> None:
    with FaultServer(answering(script)) as server:
        proc = _cli(server.url, "--user u --request-timeout 1 --max-retries 0 status 1")
    assert proc.returncode == 23, proc.stderr  # WEB_SERVER_ERROR
    assert "did not answer in time" in proc.stderr
    assert "Traceback" not in proc.stderr and PASSWORD not in proc.stderr


def _started_then(script: Any) -> Any:
    # START answers, MonitorJob trickles; the log read after --timeout (bounded on its own,
    # LOG_READ_TIMEOUT per call) finds an empty log.
    def monitor(server: FaultServer, conn: socket.socket, request: Request) -> None:
        if request.function == "OpConJobAction":
            conn.sendall(json_answer({"BatchRequestId": 1, "Status": 1, "StatusText": "Queued"}))
        elif request.function == "GetMessages":
            conn.sendall(json_answer({"BatchRequestId": 1, "HasMore": False, "Messages": []}))
        else:
            script(server, conn, request)

    return answering(monitor)


@TRICKLES
def test_cli_start_ends_by_its_timeout_when_the_status_trickles(script: Any) -> None:
    with FaultServer(_started_then(script)) as server:
        proc = _cli(server.url, "--user u --request-timeout 5 start -an APP -jn JOB --timeout 2")
    assert server.count("OpConJobAction") == 1
    assert proc.returncode not in (4, 64, 70), proc.stderr  # not DONE, not a usage or an internal error
    assert "--timeout of 2 s reached" in proc.stderr or "did not answer in time" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and PASSWORD not in proc.stderr


# --------------------------------------------------------------------------- the pieces, and what httpx must keep


def _transports(http: httpx.Client) -> list[Any]:
    return [t for t in [http._transport, *http._mounts.values()] if t is not None]


@pytest.mark.parametrize("proxy", [None, "http://127.0.0.1:9"], ids=["direct", "proxy"])
def test_httpx_still_has_what_the_deadline_backend_needs(proxy: str | None) -> None:
    """If this fails, httpx moved `Client._transport`/`_mounts`, `HTTPTransport._pool` or
    httpcore the pool's `_network_backend`: update `amtopcon/_deadline_net.py` (sync trickles hang)."""
    with Client("http://127.0.0.1:1/", proxy=proxy) as c:
        transports = _transports(c._http)
        assert transports and all(isinstance(t, httpx.HTTPTransport) for t in transports)
        for transport in transports:
            backend = transport._pool._network_backend
            assert isinstance(backend, _deadline_net.DeadlineBackend), "httpx changed: see amtopcon/_deadline_net.py"
            assert isinstance(backend.inner, httpcore.SyncBackend)


def test_proxies_from_the_environment_are_bound_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    with Client("https://amt.invalid/") as c:
        assert len(_transports(c._http)) >= 2  # its own and the proxy's mount
        assert _deadline_net.bind_deadlines(c._http) is True
        assert all(isinstance(t._pool._network_backend, _deadline_net.DeadlineBackend) for t in _transports(c._http))


def test_binding_is_idempotent_and_says_when_it_cannot() -> None:
    with httpx.Client() as http:
        assert _deadline_net.bind_deadlines(http) is True
        backend = http._transport._pool._network_backend  # type: ignore[attr-defined]
        assert _deadline_net.bind_deadlines(http) is True
        assert http._transport._pool._network_backend is backend  # type: ignore[attr-defined]
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200))) as mock:
        assert _deadline_net.bind_deadlines(mock) is False  # documented: only httpx.HTTPTransport can be bound


def test_an_http2_pool_is_not_bound() -> None:
    # HTTP/2 shares one connection among the streams of several threads: one thread's
    # deadline must not end a read made for another's. (h2 is not installed here: the
    # pool is marked as an HTTP/2 one by hand.)
    transport = httpx.HTTPTransport()
    transport._pool._http2 = True  # type: ignore[attr-defined]
    with httpx.Client(transport=transport) as http:
        assert _deadline_net.bind_deadlines(http) is False
        assert not isinstance(transport._pool._network_backend, _deadline_net.DeadlineBackend)  # type: ignore[attr-defined]


class _Recorder(httpcore.NetworkStream):
    def __init__(self) -> None:
        self.timeouts: list[float | None] = []

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.timeouts.append(timeout)
        return b""


def test_streams_cap_timeouts_only_inside_an_attempt_of_their_own_thread() -> None:
    inner = _Recorder()
    stream = _deadline_net.DeadlineStream(inner)
    stream.read(1, 30.0)
    assert inner.timeouts == [30.0]  # no deadline: unchanged
    previous = _deadline.enter(time.monotonic() + 1.0)
    try:
        stream.read(1, 30.0)
        stream.read(1, None)
        other = threading.Thread(target=lambda: stream.read(1, 30.0))
        other.start()
        other.join()
    finally:
        _deadline.restore(previous)
    capped, unbounded, elsewhere = inner.timeouts[1:]
    assert capped is not None and capped <= 1.0
    assert unbounded is not None and unbounded <= 1.0
    assert elsewhere == 30.0  # another thread's read is not this attempt's
    previous = _deadline.enter(time.monotonic() - 0.1)
    try:
        with pytest.raises(httpcore.ReadTimeout):
            stream.read(1, 30.0)
        with pytest.raises(httpcore.WriteTimeout):
            stream.write(b"x", 30.0)
    finally:
        _deadline.restore(previous)
    assert _deadline.current() is None


def test_the_guide_and_the_docstring_say_what_an_injected_client_gets() -> None:
    root = Path(__file__).resolve().parents[2]
    guide = (root / "docs" / "guides" / "hostile-networks.md").read_text(encoding="utf-8")
    assert "Known gap" not in guide
    assert "httpx.HTTPTransport" in guide
    assert "httpx.HTTPTransport" in (Client.__init__.__doc__ or "")
