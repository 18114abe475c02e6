"""Hostile networks and hostile servers (issue 15), over real TCP on 127.0.0.1.

Each test names the row of the issue's table it holds. Every wait is bounded: a call that
hangs fails the test after `HANG` real seconds (no speed is asserted)."""

from __future__ import annotations

import resource
import socket
import threading
import time

import httpx
import pytest

from amtopcon import AsyncClient, Client, PollPolicy
from amtopcon import _constants as C
from amtopcon.errors import (
    AmtOpConError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    InternalServerError,
    InvalidResponseError,
    ResponseTooLargeError,
    ValidationError,
    WaitTimeoutError,
)
from amtopcon.testing import VirtualClock

from ._server import FaultServer, Request, json_answer, logon_ok
from .conftest import bounded, texts

PASSWORD = "pa55-w0rd-SECRET"
TOKEN = "tok-SERVER-ISSUED-4711"


def status(brid: int = 1, code: int = 2) -> dict[str, object]:
    return {"BatchRequestId": brid, "Status": code, "StatusText": "Running"}


def client(server: FaultServer, **kw: object) -> Client:
    kw.setdefault("timeout", 1.0)
    kw.setdefault("total_timeout", 3.0)
    kw.setdefault("max_retries", 0)
    return Client(server.url, username="u", password=PASSWORD, **kw)  # type: ignore[arg-type]


def answering(monitor: object, logon: bytes | None = None):  # type: ignore[no-untyped-def]
    """A script: Logon answers a token, MonitorJob runs `monitor(server, conn, request)` or sends its bytes."""

    def script(server: FaultServer, conn: socket.socket, request: Request) -> None:
        if request.function == "Logon":
            conn.sendall(logon if logon is not None else logon_ok(TOKEN))
        elif callable(monitor):
            monitor(server, conn, request)
        else:
            conn.sendall(monitor)  # type: ignore[arg-type]

    return script


def trickle_body(server: FaultServer, conn: socket.socket, request: Request) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
    while server.sleep(0.1):
        conn.sendall(b" ")


def trickle_headers(server: FaultServer, conn: socket.socket, request: Request) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    while server.sleep(0.1):
        conn.sendall(b"X-Slow: 1\r\n")


def trickle_chunked(server: FaultServer, conn: socket.socket, request: Request) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    while server.sleep(0.1):
        conn.sendall(b"1\r\n \r\n")


# --------------------------------------------------------------------------- row 1


@pytest.mark.parametrize(
    "script", [trickle_body, trickle_chunked, trickle_headers], ids=["body", "chunked", "headers"]
)
def test_row1_trickled_answer_ends_by_total_timeout(script: object) -> None:
    limit = 3.0 + 2 * 1.0 + 2  # total_timeout + a read timeout, with room
    with FaultServer(answering(script)) as server, client(server) as c:
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            bounded(lambda: c.monitor_job(1), seconds=limit)  # past the limit it fails either way
        assert time.monotonic() - started < limit


def test_row1_trickled_answer_ends_by_attempt_timeout() -> None:
    with FaultServer(answering(trickle_body)) as server, client(server, total_timeout=None) as c:
        with pytest.raises(APITimeoutError):
            bounded(lambda: c.monitor_job(1))


def test_row1_trickle_ends_a_wait_by_its_timeout() -> None:
    with FaultServer(answering(trickle_body)) as server, client(server, timeout=2.0, total_timeout=None) as c:
        with pytest.raises((WaitTimeoutError, APITimeoutError)):
            bounded(lambda: c.job(1).wait(timeout=2.5, poll=PollPolicy.fixed(0.1, 0.1)))


@pytest.mark.anyio
@pytest.mark.parametrize("script", [trickle_body, trickle_headers], ids=["body", "headers"])
async def test_row1_async_trickle_ends_by_total_timeout(script: object) -> None:
    import anyio

    with FaultServer(answering(script)) as server:
        async with AsyncClient(
            server.url, username="u", password=PASSWORD, timeout=1, total_timeout=3, max_retries=0
        ) as c:
            with anyio.fail_after(12):  # the bound proving it does not hang
                with pytest.raises(APITimeoutError):
                    await c.monitor_job(1)


# --------------------------------------------------------------------------- rows 2 and 11


def busy(retry_after: str):  # type: ignore[no-untyped-def]
    def monitor(server: FaultServer, conn: socket.socket, request: Request) -> None:
        conn.sendall(json_answer({"ErrorCode": "SERVER_BUSY"}, 503, {"Retry-After": retry_after}))

    return monitor


def test_row2_retry_after_a_day_never_sleeps_past_max_outage() -> None:
    clock = VirtualClock()
    with FaultServer(answering(busy("86400"))) as server, client(server, clock=clock, max_retries=3) as c:
        with pytest.raises(InternalServerError):
            bounded(lambda: c.job(1).wait(poll=PollPolicy(initial_delay=1, interval=1, max_outage=30)))
    assert clock.now() <= 30 + C.MAX_RETRY_AFTER  # not a day


def test_row2_retry_after_a_day_never_sleeps_past_the_waits_deadline() -> None:
    clock = VirtualClock()
    with FaultServer(answering(busy("86400"))) as server, client(server, clock=clock, max_retries=3) as c:
        with pytest.raises(WaitTimeoutError):
            bounded(lambda: c.job(1).wait(timeout=20, poll=PollPolicy(initial_delay=1, interval=1, max_outage=1000)))
    assert clock.now() <= 20 + C.LAST_CHECK + 1


@pytest.mark.parametrize("value", ["0", "-5", "Thu, 01 Jan 1970 00:00:00 GMT"], ids=["zero", "negative", "past-date"])
def test_row11_zero_or_past_retry_after_still_backs_off(value: str) -> None:
    clock = VirtualClock()
    with (
        FaultServer(answering(busy(value))) as server,
        client(server, clock=clock, max_retries=3, total_timeout=None) as c,
    ):
        with pytest.raises(InternalServerError):
            bounded(lambda: c.monitor_job(1))
        assert server.count("MonitorJob") == 4
    # three retries, each after at least half the exponential back-off (full jitter keeps half)
    assert clock.now() >= (C.INITIAL_BACKOFF * (1 + 2 + 4)) / 2


def test_row2_retry_after_capped_inside_one_call() -> None:
    clock = VirtualClock()
    with (
        FaultServer(answering(busy("86400"))) as server,
        client(server, clock=clock, max_retries=3, total_timeout=None) as c,
    ):
        with pytest.raises(InternalServerError):
            bounded(lambda: c.monitor_job(1))
    assert clock.now() <= 3 * C.MAX_RETRY_AFTER


# --------------------------------------------------------------------------- row 3


def endless_chunked(server: FaultServer, conn: socket.socket, request: Request) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    block = b"%x\r\n%s\r\n" % (65536, b" " * 65536)
    while not server.stop.is_set():
        conn.sendall(block)


def huge_length(server: FaultServer, conn: socket.socket, request: Request) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2147483648\r\n\r\n")
    block = b" " * 65536
    while not server.stop.is_set():
        conn.sendall(block)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("script", [endless_chunked, huge_length], ids=["endless-chunked", "2GB-content-length"])
def test_row3_endless_or_huge_answer_refused_at_the_default_cap(script: object) -> None:
    with FaultServer(answering(script)) as server, client(server, timeout=5, total_timeout=10) as c:
        with pytest.raises(ResponseTooLargeError) as info:
            bounded(lambda: c.monitor_job(1))
    assert str(C.MAX_RESPONSE_SIZE) in str(info.value) or "64 MiB" in str(info.value)
    print(f"peak RSS of this process: {_peak_rss_mib():.0f} MiB")


def test_row3_cap_is_configurable() -> None:
    with FaultServer(answering(endless_chunked)) as server, client(server, max_response_size=100_000) as c:
        with pytest.raises(ResponseTooLargeError):
            bounded(lambda: c.monitor_job(1))
    with pytest.raises(ValidationError):
        Client("http://127.0.0.1:1/", max_response_size=0)


# --------------------------------------------------------------------------- row 4


def paging(progress: bool):  # type: ignore[no-untyped-def]
    state = {"next": 1}

    def monitor(server: FaultServer, conn: socket.socket, request: Request) -> None:
        first = state["next"]
        msgs = [{"Sequence": first + i, "Text": "x"} for i in range(50)]
        if progress:
            state["next"] += 50
        conn.sendall(json_answer({"BatchRequestId": 1, "HasMore": True, "Messages": msgs}))

    return monitor


def test_row4_endless_paging_is_bounded_per_read() -> None:
    with FaultServer(answering(paging(True))) as server, client(server) as c:
        with pytest.raises(InvalidResponseError, match="pages"):
            bounded(lambda: c.job(1).messages(), 60)
        assert server.count("GetMessages") <= C.MAX_PAGES_PER_READ
    print(f"peak RSS of this process: {_peak_rss_mib():.0f} MiB")


def test_row4_paging_without_progress_is_a_typed_error() -> None:
    with FaultServer(answering(paging(False))) as server, client(server) as c:
        with pytest.raises(InvalidResponseError, match=r"[Ss]equence"):
            bounded(lambda: c.job(1).messages())
        assert server.count("GetMessages") == 2


# --------------------------------------------------------------------------- row 5


def redirect(to: str, code: int):  # type: ignore[no-untyped-def]
    def monitor(server: FaultServer, conn: socket.socket, request: Request) -> None:
        conn.sendall(f"HTTP/1.1 {code} Moved\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n".encode())

    return monitor


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_row5_redirects_never_followed_even_by_an_injected_client(code: int) -> None:
    with FaultServer(answering(logon_ok("other-host-token"))) as other:
        target = other.url + "MonitorJob?batchRequestId=1"

        def script(server: FaultServer, conn: socket.socket, request: Request) -> None:
            redirect(target, code)(server, conn, request)

        with FaultServer(script) as server, httpx.Client(follow_redirects=True) as http:
            c = Client(server.url, username="u", password=PASSWORD, http_client=http, max_retries=0, timeout=2)
            with pytest.raises(APIStatusError) as info:
                bounded(lambda: c.monitor_job(1))
            assert info.value.status_code == code
        assert other.requests == []  # neither the Logon body nor a token reached the other host


# --------------------------------------------------------------------------- rows 6 and 7


def stall(server: FaultServer, conn: socket.socket, request: Request) -> None:
    server.sleep(8)


def test_row6_timed_out_logon_keeps_no_password_in_the_chain() -> None:
    with FaultServer(lambda s, conn, r: stall(s, conn, r)) as server, client(server, timeout=0.5) as c:
        with pytest.raises(APITimeoutError) as info:
            bounded(lambda: c.monitor_job(1))
    assert PASSWORD not in texts(info.value)


@pytest.mark.parametrize("kind", ["stall", "drop", "500"])
def test_row6_failed_call_keeps_no_token_in_the_chain(kind: str) -> None:
    def monitor(server: FaultServer, conn: socket.socket, request: Request) -> None:
        if kind == "stall":
            server.sleep(8)
        elif kind == "drop":
            conn.shutdown(socket.SHUT_RDWR)
        else:
            conn.sendall(json_answer({"ErrorCode": "INTERNAL_ERROR", "Message": "boom"}, 500))

    with FaultServer(answering(monitor)) as server, client(server, timeout=0.5) as c:
        with pytest.raises(AmtOpConError) as info:
            bounded(lambda: c.monitor_job(1))
        with pytest.raises(AmtOpConError) as start_info:
            bounded(lambda: c.start("APP", "JOB"))
    for error in (info.value, start_info.value):
        seen = texts(error)
        assert TOKEN not in seen
        assert PASSWORD not in seen


@pytest.mark.parametrize(
    "token", ["abc\r\nX-Evil: 1", "tök\u00e9n-SECRET", "a\x00b", ""], ids=["crlf", "non-ascii", "nul", "empty"]
)
def test_rows7_8_unusable_server_token_is_typed_and_never_shown(token: str) -> None:
    with FaultServer(answering(json_answer(status()), logon=json_answer({"AmtLogonToken": token}))) as server:
        with client(server) as c, pytest.raises(InvalidResponseError) as info:
            bounded(lambda: c.monitor_job(1))
    if token:
        assert token not in texts(info.value)
        assert token.encode("utf-8") not in texts(info.value).encode("utf-8", "replace")


# --------------------------------------------------------------------------- row 8


def test_row8_non_ascii_header_value_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as info:
        Client("http://127.0.0.1:1/", headers={"X-Site": "Z\u00fcrich"})
    assert info.value.field == "headers"


def test_row8_heartbeat_never_raises() -> None:
    with FaultServer(answering(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")) as server, client(server) as c:
        assert bounded(c.heartbeat) is False


@pytest.mark.parametrize("value", ["9" * 5000, 2**63, "9" * 20])
def test_row8_huge_batch_request_id_is_a_validation_error(value: object) -> None:
    with Client("http://127.0.0.1:1/") as c, pytest.raises(ValidationError) as info:
        c.monitor_job(value)  # type: ignore[arg-type]
    assert info.value.field == "batch_request_id"


# --------------------------------------------------------------------------- row 9


@pytest.mark.parametrize(
    "answer",
    [status(999), status(-5), status(0)],
    ids=["another-job", "negative", "zero"],
)
def test_row9_status_about_another_job_is_typed(answer: dict[str, object]) -> None:
    with FaultServer(answering(json_answer(answer))) as server, client(server) as c:
        with pytest.raises(InvalidResponseError, match="BatchRequestId"):
            bounded(lambda: c.monitor_job(1))


@pytest.mark.parametrize(
    "page",
    [
        {"BatchRequestId": 999, "HasMore": False, "Messages": [{"Sequence": 1, "Text": "a"}]},
        {"BatchRequestId": 1, "HasMore": False, "Messages": [{"Sequence": -1, "Text": "a"}]},
        {
            "BatchRequestId": 1,
            "HasMore": False,
            "Messages": [{"Sequence": 2, "Text": "a"}, {"Sequence": 2, "Text": "b"}],
        },
    ],
    ids=["another-job", "negative-sequence", "duplicate-sequence"],
)
def test_row9_message_page_checked_against_the_request(page: dict[str, object]) -> None:
    with FaultServer(answering(json_answer(page))) as server, client(server) as c:
        with pytest.raises(InvalidResponseError, match=r"BatchRequestId|Sequence"):
            bounded(lambda: c.get_messages(1))


def test_row9_stop_answer_about_another_job_is_typed() -> None:
    answer = {"BatchRequestId": 999, "Status": 3, "StatusText": "Killed"}
    with FaultServer(answering(json_answer(answer))) as server, client(server) as c:
        with pytest.raises(InvalidResponseError, match="BatchRequestId"):
            bounded(lambda: c.job_action("KILL", batch_request_id=1))


# --------------------------------------------------------------------------- row 10


def refuse_logons(server: FaultServer, conn: socket.socket, request: Request) -> None:
    if request.function == "Logon":
        server.sleep(0.3)  # so the other threads queue behind it
        conn.sendall(json_answer({"ErrorCode": "UNAUTHORIZED", "Message": "wrong"}, 401))
    else:
        conn.sendall(json_answer(status()))


def test_row10_one_failed_logon_is_shared_by_32_threads() -> None:
    with FaultServer(refuse_logons) as server, client(server, total_timeout=None) as c:
        errors: list[BaseException] = []
        lock = threading.Lock()

        def call() -> None:
            try:
                c.monitor_job(1)
            except BaseException as exc:
                with lock:
                    errors.append(exc)

        threads = [threading.Thread(target=call, daemon=True) for _ in range(32)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(12.0)
        assert not any(t.is_alive() for t in threads)
        assert len(errors) == 32 and all(isinstance(e, AuthenticationError) for e in errors)
        assert server.count("Logon") == 1


def test_row10_next_logon_waits_a_back_off() -> None:
    clock = VirtualClock()
    with FaultServer(refuse_logons) as server, client(server, clock=clock, total_timeout=None) as c:
        with pytest.raises(AuthenticationError):
            bounded(lambda: c.monitor_job(1))
        before = clock.now()
        with pytest.raises(AuthenticationError):
            bounded(lambda: c.monitor_job(1))
        assert server.count("Logon") == 2
        assert clock.now() - before >= C.INITIAL_BACKOFF / 2


@pytest.mark.anyio
async def test_row10_async_one_failed_logon_for_many_tasks() -> None:
    import anyio

    with FaultServer(refuse_logons) as server:
        async with AsyncClient(server.url, username="u", password=PASSWORD, timeout=2, max_retries=0) as c:
            results: list[BaseException] = []

            async def call() -> None:
                try:
                    await c.monitor_job(1)
                except AmtOpConError as exc:
                    results.append(exc)

            with anyio.fail_after(12):
                async with anyio.create_task_group() as tg:
                    for _ in range(32):
                        tg.start_soon(call)
        assert len(results) == 32 and all(isinstance(e, AuthenticationError) for e in results)
        assert server.count("Logon") == 1
