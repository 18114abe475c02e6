"""The per-call fast path (issue 10, item 2) sends and reads exactly what the plain path
would: the request's URL, its X-Request-Id, and the parsed status."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from amtopcon import AsyncClient, Client, _wire
from amtopcon._core.call import new_request_id
from amtopcon._core.settings import with_query
from amtopcon._wire.responses import parse_job_status


def test_request_ids_are_version_4_uuids_and_unique() -> None:
    ids = [new_request_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for rid in ids:
        parsed = uuid.UUID(rid)
        assert str(parsed) == rid
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


@pytest.mark.parametrize(
    "base",
    [
        "https://amt.example.com:4004/AmtOpConService/MonitorJob",
        "http://127.0.0.1:8080/MonitorJob",
        "http://[::1]:9000/a%20b/GetMessages",
        "https://h/AmtOpConService/GetMessages",
    ],
)
def test_a_query_set_on_a_joined_url_is_the_parsed_url(base: str) -> None:
    query = "batchRequestId=2112&afterSequence=0&maxCount=500"
    made = with_query(httpx.URL(base), query)
    parsed = httpx.URL(f"{base}?{query}")
    assert made == parsed
    assert str(made) == str(parsed)
    assert made.raw_path == parsed.raw_path
    assert made.params == parsed.params
    assert (made.scheme, made.host, made.port) == (parsed.scheme, parsed.host, parsed.port)


STATUS = {
    "BatchRequestId": 2112,
    "Status": 2,
    "StatusText": "RUNNING",
    "ApplicationName": "DEMO2",
    "JobName": "REPORTTEST01",
    "SubmittedAt": "2017-05-18T14:00:14.865+02:00",
    "StartedAt": "2017-05-18T14:00:15.010+02:00",
}


def _handler(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/Logon"):
            return httpx.Response(200, json={"AmtLogonToken": "tok"})
        return httpx.Response(200, json=STATUS)

    return httpx.MockTransport(handle)


def test_repeated_checks_send_the_same_url_with_a_new_request_id_and_read_the_same_status() -> None:
    seen: list[httpx.Request] = []
    base = "https://amt.example.com:4004/AmtOpConService/"
    with Client(base, username="u", password="p", http_client=httpx.Client(transport=_handler(seen))) as c:
        first, second = c.monitor_job(2112), c.monitor_job(2112)
    checks = [r for r in seen if r.url.path.endswith("/MonitorJob")]
    assert [str(r.url) for r in checks] == [base + "MonitorJob?batchRequestId=2112"] * 2
    assert checks[0].headers["X-Request-Id"] != checks[1].headers["X-Request-Id"]
    assert first == second == parse_job_status(json.loads(json.dumps(STATUS)))
    assert first.submitted_at is not None and first.submitted_at.utcoffset() is not None


@pytest.mark.anyio
async def test_the_async_client_sends_and_reads_the_same() -> None:
    seen: list[httpx.Request] = []
    base = "http://127.0.0.1:8080/S/"
    async with AsyncClient(
        base, username="u", password="p", http_client=httpx.AsyncClient(transport=_handler(seen))
    ) as c:
        status = await c.monitor_job(2112)
        page_url = c._url(_wire.messages_request(7, 3, 50))  # a query of three ints
    assert str(seen[-1].url) == base + "MonitorJob?batchRequestId=2112"
    assert status.batch_request_id == 2112
    assert str(page_url) == base + "GetMessages?batchRequestId=7&afterSequence=3&maxCount=50"


def _both_ways(client: Client, wreq: _wire.WireRequest, token: str | None) -> tuple[httpx.Request, httpx.Request]:
    """The request the fast path builds, and the one httpx's `build_request` builds."""
    http = client._http
    fast = client._build_request(http, wreq, token, "rid-1", client._timeout_ext)
    own = [("X-Request-Id", "rid-1")] + ([("X-AMT-LogonToken", token)] if wreq.needs_token and token else [])
    plain = http.build_request(
        wreq.method,
        client._url(wreq),
        json=wreq.body,
        headers=[*client._fixed_headers, *own],
        extensions={"timeout": client._timeout_ext},
    )
    return fast, plain


def _same(a: httpx.Request, b: httpx.Request) -> None:
    assert (a.method, str(a.url), a.headers.raw, a.content, a.extensions) == (
        b.method,
        str(b.url),
        b.headers.raw,
        b.content,
        b.extensions,
    )


@pytest.mark.parametrize(
    "pool",
    [
        lambda: httpx.Client(),
        lambda: httpx.Client(headers={"X-Team": "ops", "accept": "text/plain", "User-Agent": "theirs"}),
        lambda: httpx.Client(headers={"x-request-id": "fixed"}),  # a header each attempt sets: httpx merges
        lambda: httpx.Client(cookies={"affinity": "node-2"}),  # cookies: httpx merges
        lambda: httpx.Client(params={"tenant": "7"}),  # query parameters: httpx merges
    ],
    ids=["plain", "own-defaults", "request-id-default", "cookies", "params"],
)
@pytest.mark.parametrize(
    "wreq",
    [
        _wire.monitor_request(2112),
        _wire.messages_request(2112, 5, 10),
        _wire.heartbeat_request(),
        _wire.logon_request("u", "p"),
        _wire.action_wire_request("KILL", application=None, job=None, batch_request_id=3, start_kwargs={}),
    ],
    ids=["monitor", "messages", "heartbeat", "logon", "kill"],
)
def test_a_request_is_what_httpx_build_request_makes(pool: object, wreq: _wire.WireRequest) -> None:
    http = pool()  # type: ignore[operator]
    with Client("https://h.example/S/", username="u", password="p", headers={"X-Extra": "1"}, http_client=http) as c:
        _same(*_both_ways(c, wreq, "tok"))
        http.headers["X-Later"] = "changed"  # the pool's defaults change: the next request sees it
        fast, plain = _both_ways(c, wreq, "tok")
        _same(fast, plain)
        assert fast.headers["X-Later"] == "changed"
    http.close()


def test_cookies_set_by_the_server_are_sent_back() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/Logon"):
            return httpx.Response(200, json={"AmtLogonToken": "tok"}, headers={"Set-Cookie": "affinity=n2; Path=/"})
        return httpx.Response(200, json=STATUS)

    with Client(
        "https://h.example/S/",
        username="u",
        password="p",
        http_client=httpx.Client(transport=httpx.MockTransport(handle)),
    ) as c:
        c.monitor_job(2112)
    assert seen[-1].headers.get("cookie") == "affinity=n2"


def test_the_sync_client_keeps_at_most_max_in_flight_calls_in_flight() -> None:
    import threading

    lock = threading.Condition()
    gate = threading.Event()
    inside = [0, 0]  # now, most seen

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/Logon"):
            return httpx.Response(200, json={"AmtLogonToken": "tok"})
        with lock:
            inside[0] += 1
            inside[1] = max(inside)
            lock.notify_all()
        gate.wait(10)
        with lock:
            inside[0] -= 1
        return httpx.Response(200, json=STATUS)

    http = httpx.Client(transport=httpx.MockTransport(handle))
    with Client("https://h.example/S/", username="u", password="p", max_in_flight=2, http_client=http) as c:
        c.logon()
        results: list[object] = []
        threads = [threading.Thread(target=lambda: results.append(c.monitor_job(2112))) for _ in range(6)]
        for t in threads:
            t.start()
        with lock:
            assert lock.wait_for(lambda: inside[0] == 2, timeout=10)
        gate.set()
        for t in threads:
            t.join(10)
    assert len(results) == 6
    assert inside[1] == 2
