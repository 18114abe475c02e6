"""Infinity as a timeout means "no deadline" (None) all the way down: a wait with
`timeout=float("inf")` on a client with no per-attempt timeout (`httpx.Timeout(None)`)
and no `total_timeout` never turns infinity into a socket timeout (which ended in a raw
`OverflowError`); a server that fails gives the SDK's typed error. Over real TCP."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from amtopcon import AsyncClient, Client, PollPolicy
from amtopcon.errors import AmtOpConError, InternalServerError

from ._server import FaultServer, Request, json_answer, logon_ok
from .conftest import bounded

INF = float("inf")


def failing(server: FaultServer, conn: socket.socket, request: Request) -> None:
    """Logon answers a token; every other call fails with HTTP 500."""
    if request.function == "Logon":
        conn.sendall(logon_ok())
    else:
        conn.sendall(json_answer({"ErrorCode": "INTERNAL_ERROR", "Message": "down"}, 500))


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    """One failing server for the module (closing one takes a fifth of a second)."""
    with FaultServer(failing) as served:
        yield served


def unbounded(**kw: object) -> dict[str, object]:
    return {
        "username": "u",
        "password": "p",
        "timeout": httpx.Timeout(None),
        "total_timeout": None,
        "max_retries": 0,
        "poll": PollPolicy(initial_delay=0, max_outage=0),  # the first failure ends the wait
        **kw,
    }


def test_wait_with_infinite_timeout_and_no_bounds_raises_the_servers_error(server: FaultServer) -> None:
    with Client(server.url, **unbounded()) as client:  # type: ignore[arg-type]
        with pytest.raises(AmtOpConError) as info:
            bounded(lambda: client.job(2112).wait(timeout=INF))
    assert type(info.value) is InternalServerError and info.value.status_code == 500


@pytest.mark.parametrize("action", ["stop", "kill", "messages"])
def test_handle_calls_with_infinite_timeout_raise_the_servers_error(server: FaultServer, action: str) -> None:
    with Client(server.url, **unbounded()) as client:  # type: ignore[arg-type]
        call = getattr(client.job(2112), action)
        with pytest.raises(InternalServerError):
            bounded(lambda: call(timeout=INF))


@pytest.mark.anyio
async def test_async_wait_with_infinite_timeout_raises_the_servers_error(server: FaultServer) -> None:
    async with AsyncClient(server.url, **unbounded()) as client:  # type: ignore[arg-type]
        with pytest.raises(InternalServerError):
            await client.job(2112).wait(timeout=INF)


@pytest.mark.parametrize("function", ["monitor_job", "get_messages"])
def test_client_calls_with_infinite_timeout_raise_the_servers_error(server: FaultServer, function: str) -> None:
    with Client(server.url, **unbounded()) as client:  # type: ignore[arg-type]
        call = getattr(client, function)
        with pytest.raises(InternalServerError):
            bounded(lambda: call(2112, timeout=INF))


def test_an_infinite_total_timeout_is_no_bound(server: FaultServer) -> None:
    with Client(server.url, **unbounded(total_timeout=INF)) as client:  # type: ignore[arg-type]
        assert client.total_timeout == INF
        with pytest.raises(InternalServerError):
            bounded(lambda: client.monitor_job(2112))
