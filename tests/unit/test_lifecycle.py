"""`with_options()` shares the pool and the token; clients close what they opened, never
an injected `http_client`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from amtopcon import AsyncClient, Client

from ._support import BASE, ScriptedServer, call, close, function_of, make_client

pytestmark = pytest.mark.anyio


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every `httpx.Client` / `httpx.AsyncClient` (a connection pool) made during the test, in order."""
    made: list[Any] = []
    for cls in (httpx.Client, httpx.AsyncClient):

        def init(self: Any, *args: Any, _real: Any = cls.__init__, **kwargs: Any) -> None:
            _real(self, *args, **kwargs)
            made.append(self)

        monkeypatch.setattr(cls, "__init__", init)
    return made


def injected(flavour: str, server: ScriptedServer) -> Any:
    transport = httpx.MockTransport(server.handler)
    return httpx.Client(transport=transport) if flavour == "sync" else httpx.AsyncClient(transport=transport)


async def test_with_options_shares_the_pool_and_the_token(
    httpx_mock: HTTPXMock, flavour: str, pools: list[Any]
) -> None:
    server = ScriptedServer()
    httpx_mock.add_callback(server.handler, is_reusable=True)
    client = make_client(flavour)  # it opens (and owns) its pool
    (pool,) = pools
    await call(client, "monitor_job", 1)
    copy = client.with_options(timeout=5, max_retries=0, headers={"X-Copy": "1"})
    assert type(copy) is type(client)
    assert pools == [pool]  # one connection pool: the copy opened none
    assert copy.timeout == httpx.Timeout(5.0) and copy.max_retries == 0
    assert client.timeout != copy.timeout and client.max_retries == 3  # the original is unchanged
    await call(copy, "monitor_job", 2)
    await call(copy.with_options(total_timeout=None), "get_messages", 2)
    assert server.logons == 1  # one Logon for the client and its copies
    assert server.requests[-2].headers["X-Copy"] == "1"
    server.expire()
    await call(copy, "monitor_job", 3)  # the copy logs on again for everyone
    await call(client, "monitor_job", 4)
    assert server.logons == 2
    assert pools == [pool]  # nor did the copy of the copy
    await close(copy)
    assert not pool.is_closed  # closing a copy leaves the shared pool open
    await call(client, "monitor_job", 5)
    await close(client)
    assert pool.is_closed


async def test_other_credentials_log_on_for_themselves(flavour: str) -> None:
    server = ScriptedServer()
    client = make_client(flavour, server.handler)
    await call(client, "monitor_job", 1)
    other = client.with_options(username="someone")
    with pytest.raises(Exception, match="logon refused"):
        await call(other, "monitor_job", 1)  # its own Logon, refused by the server
    assert [function_of(r) for r in server.requests] == ["Logon", "MonitorJob", "Logon"]
    await close(client)


async def test_an_injected_http_client_is_not_closed(flavour: str) -> None:
    server = ScriptedServer()
    http = injected(flavour, server)
    client = make_client(flavour, http_client=http)
    await call(client, "heartbeat")
    await close(client)
    assert not http.is_closed
    if flavour == "sync":
        with make_client(flavour, http_client=http) as c:
            c.heartbeat()
        http.close()
    else:
        async with make_client(flavour, http_client=http) as c:
            await c.heartbeat()
        await http.aclose()
    assert http.is_closed is True


def test_the_sync_context_manager_closes_what_it_opened(pools: list[Any]) -> None:
    with Client(BASE) as client:
        assert isinstance(client, Client)
        (http,) = pools  # the pool it opened
        assert not http.is_closed
    assert http.is_closed


async def test_the_async_context_manager_closes_what_it_opened(pools: list[Any]) -> None:
    async with AsyncClient(BASE) as client:
        assert isinstance(client, AsyncClient)
        (http,) = pools
        assert not http.is_closed
    assert http.is_closed


def test_closing_twice_is_harmless() -> None:
    client = Client(BASE)
    client.close()
    client.close()


async def test_a_copy_of_a_client_with_an_injected_pool_does_not_close_it(flavour: str, pools: list[Any]) -> None:
    server = ScriptedServer()
    http = injected(flavour, server)
    client = make_client(flavour, http_client=http)
    copy = client.with_options(max_retries=1)
    assert pools == [http]  # neither the client nor its copy opened a pool of its own ...
    await call(copy, "heartbeat")
    assert [function_of(r) for r in server.requests] == ["HeartBeat"]  # ... the copy sends through the injected one
    await close(copy)
    await close(client)
    assert not http.is_closed
    if flavour == "sync":
        http.close()
    else:
        await http.aclose()


def test_reprs_are_readable(flavour: str) -> None:
    client = make_client(flavour)
    assert repr(client) == f"{type(client).__name__}(base_url='{BASE}', username='ocadm')"
