"""Authentication: lazy Logon, token reuse, one new Logon for many concurrent 401s."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from amtopcon import AsyncClient, Client
from amtopcon import _wire as w
from amtopcon.errors import AuthenticationError, InvalidResponseError, ValidationError
from amtopcon.models import CompletionCode, JobStatus

from ._support import BASE, PASSWORD, USER, FakeClock, ScriptedServer, call, close, function_of, make_client

N = 8


def ok_status(request: httpx.Request) -> httpx.Response:
    brid = int(request.url.params[w.Q_BATCH_REQUEST_ID])
    return httpx.Response(200, json=w.job_status_body(JobStatus(brid, CompletionCode.RUNNING)))


class CountingServer:
    """Counts Logons; refuses stale tokens only once every caller holds one (so all 401s overlap)."""

    def __init__(self, parties: int) -> None:
        self.lock = threading.Lock()
        self.logons = 0
        self.current: str | None = None
        self.barrier = threading.Barrier(parties, timeout=10)
        self.refused = 0
        self.logon_latency = 0.0

    def logon(self) -> httpx.Response:
        with self.lock:
            self.logons += 1
            self.current = f"T{self.logons}"
            return httpx.Response(200, json=w.logon_body(self.current))

    def handler(self, request: httpx.Request) -> httpx.Response:
        if function_of(request) == w.LOGON:
            if self.logon_latency:
                time.sleep(self.logon_latency)  # the server's latency widens the race window
            return self.logon()
        if request.headers.get(w.H_TOKEN) != self.current:
            with self.lock:
                self.refused += 1
            self.barrier.wait()
            return httpx.Response(401, json=w.error_body(w.E_AUTHENTICATION_FAILED, "expired"))
        return ok_status(request)


def sync_client(handler: Any) -> Client:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return Client(BASE, username=USER, password=PASSWORD, clock=FakeClock(), http_client=http)


def test_concurrent_401s_share_one_logon_threads() -> None:
    server = CountingServer(N)
    client = sync_client(server.handler)
    client.monitor_job(1)
    assert server.logons == 1
    server.current = "expired-everywhere"
    with ThreadPoolExecutor(N) as pool:
        results = list(pool.map(client.monitor_job, range(1, N + 1)))
    assert [r.batch_request_id for r in results] == list(range(1, N + 1))
    assert server.refused == N  # every call saw the 401 ...
    assert server.logons == 2  # ... and they shared one new Logon


def test_concurrent_first_calls_share_one_logon_threads() -> None:
    server = CountingServer(1)
    server.logon_latency = 0.05
    client = sync_client(server.handler)
    start = threading.Barrier(N, timeout=10)

    def first_call(n: int) -> JobStatus:
        start.wait()
        return client.monitor_job(n)

    with ThreadPoolExecutor(N) as pool:
        results = list(pool.map(first_call, range(1, N + 1)))
    assert len(results) == N
    assert server.logons == 1
    assert server.refused == 0


class AsyncCountingServer:
    def __init__(self, parties: int) -> None:
        self.logons = 0
        self.current: str | None = None
        self.parties = parties
        self.waiting = 0
        self.all_in = anyio.Event()
        self.refused = 0

    async def handler(self, request: httpx.Request) -> httpx.Response:
        if function_of(request) == w.LOGON:
            for _ in range(5):
                await anyio.lowlevel.checkpoint()  # let the other tasks run into the lock
            self.logons += 1
            self.current = f"T{self.logons}"
            return httpx.Response(200, json=w.logon_body(self.current))
        if request.headers.get(w.H_TOKEN) != self.current:
            self.refused += 1
            self.waiting += 1
            if self.waiting == self.parties:
                self.all_in.set()
            with anyio.fail_after(10):
                await self.all_in.wait()
            return httpx.Response(401, json=w.error_body(w.E_AUTHENTICATION_FAILED, "expired"))
        return ok_status(request)


def async_client(handler: Any) -> AsyncClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return AsyncClient(BASE, username=USER, password=PASSWORD, clock=FakeClock(), http_client=http)


@pytest.mark.anyio
async def test_concurrent_401s_share_one_logon_tasks() -> None:
    server = AsyncCountingServer(N)
    client = async_client(server.handler)
    await client.monitor_job(1)
    server.current = "expired-everywhere"
    results: dict[int, JobStatus] = {}

    async def one(n: int) -> None:
        results[n] = await client.monitor_job(n)

    async with anyio.create_task_group() as tg:
        for n in range(1, N + 1):
            tg.start_soon(one, n)
    assert sorted(results) == list(range(1, N + 1))
    assert server.refused == N
    assert server.logons == 2


@pytest.mark.anyio
async def test_concurrent_first_calls_share_one_logon_tasks() -> None:
    server = AsyncCountingServer(1)
    client = async_client(server.handler)
    async with anyio.create_task_group() as tg:
        for n in range(1, N + 1):
            tg.start_soon(client.monitor_job, n)
    assert server.logons == 1
    assert server.refused == 0


@pytest.mark.anyio
async def test_logon_is_lazy_and_the_token_reused(flavour: str) -> None:
    server = ScriptedServer()
    client = make_client(flavour, server.handler)
    assert server.requests == []  # constructing a client sends nothing
    assert await call(client, "heartbeat") is True
    assert server.logons == 0  # HeartBeat needs no token
    await call(client, "monitor_job", 1)
    await call(client, "get_messages", 1)
    await call(client, "job_action", "KILL", batch_request_id=1)
    await close(client)
    assert server.logons == 1
    tokens = {r.headers[w.H_TOKEN] for r in server.requests if function_of(r) not in (w.LOGON, w.HEARTBEAT)}
    assert len(tokens) == 1


@pytest.mark.anyio
async def test_a_refused_logon_raises_at_once_and_is_not_cached(flavour: str) -> None:
    server = ScriptedServer()
    server.password = "changed"
    clock = FakeClock()
    client = make_client(flavour, server.handler, clock=clock)
    for _ in range(2):
        with pytest.raises(AuthenticationError) as info:
            await call(client, "get_messages", 2112)
        assert info.value.status_code == 401
        assert info.value.error_code == w.E_AUTHENTICATION_FAILED
    server.password = PASSWORD  # fixed on the server: the next call logs on
    page = await call(client, "get_messages", 2112)
    await close(client)
    assert page.messages
    assert [function_of(r) for r in server.requests] == ["Logon", "Logon", "Logon", "GetMessages"]
    # each Logon after a refused one waits a back-off (issue 15: no burst against an account lockout)
    assert len(clock.sleeps) == 2 and all(0 < s <= 8.0 for s in clock.sleeps)


@pytest.mark.anyio
async def test_no_credentials_is_a_validation_error_and_nothing_is_sent(flavour: str) -> None:
    server = ScriptedServer()
    client = make_client(flavour, server.handler, username=None, password=None)
    with pytest.raises(ValidationError) as info:
        await call(client, "monitor_job", 2112)
    assert info.value.field == "username"
    assert await call(client, "heartbeat") is True  # HeartBeat needs no credentials
    await close(client)
    assert [function_of(r) for r in server.requests] == ["HeartBeat"]


@pytest.mark.anyio
@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("token", ["tök€n", "abc\r\nX-Injected: 1"])
async def test_a_logon_token_that_cannot_be_a_header_is_refused_at_logon(flavour: str, token: str) -> None:
    server = ScriptedServer().plan(w.LOGON, httpx.Response(200, json=w.logon_body(token)))
    client = make_client(flavour, server.handler, max_retries=0)
    try:
        with pytest.raises(InvalidResponseError, match="not a valid header value") as info:
            await call(client, "monitor_job", 2112)
        assert token not in str(info.value)
        assert [function_of(r) for r in server.requests] == [w.LOGON]  # nothing sent with the bad token
    finally:
        await close(client)
