"""Shared test helpers: one way to build and call `Client` and `AsyncClient` alike (the
scripted server, its clock and answers live in tests/_fake.py and are re-exported here)."""

from __future__ import annotations

import inspect
import ssl
from collections.abc import Callable
from typing import Any

import httpx

from amtopcon import AsyncClient, Client
from tests._fake import PASSWORD, TOKEN, USER, WALL0, FakeClock, ScriptedServer, function_of, status_response

__all__ = [
    "BASE",
    "CALLS",
    "PASSWORD",
    "TLS",
    "TOKEN",
    "USER",
    "WALL0",
    "FakeClock",
    "ScriptedServer",
    "call",
    "client_class",
    "close",
    "function_of",
    "make_client",
    "status_response",
]

BASE = "https://amt.example.com:4004/AmtOpConService/"
TLS = ssl.create_default_context()  # built once: loading the CA store per client is slow


def client_class(flavour: str) -> type[Client] | type[AsyncClient]:
    return Client if flavour == "sync" else AsyncClient


def make_client(
    flavour: str,
    handler: Callable[[httpx.Request], Any] | None = None,
    *,
    base_url: str = BASE,
    **kwargs: Any,
) -> Any:
    """A `Client` or `AsyncClient` with test credentials and a fake clock; with `handler`,
    wired to an `httpx.MockTransport` (else to the real transport, e.g. for pytest-httpx)."""
    kwargs.setdefault("username", USER)
    kwargs.setdefault("password", PASSWORD)
    kwargs.setdefault("clock", FakeClock())
    kwargs.setdefault("verify", TLS)
    if handler is not None:
        transport = httpx.MockTransport(handler)
        kwargs["http_client"] = (
            httpx.Client(transport=transport) if flavour == "sync" else httpx.AsyncClient(transport=transport)
        )
    return client_class(flavour)(base_url, **kwargs)


async def call(client: Any, method: str, *args: Any, **kwargs: Any) -> Any:
    """Call a client method; await it when the client is an `AsyncClient`."""
    result = getattr(client, method)(*args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


async def close(client: Any) -> None:
    """Close either client."""
    if isinstance(client, AsyncClient):
        await client.aclose()
    else:
        client.close()


# One representative call per kind of request, as (client method, args, kwargs).
START_CALL = ("job_action", ("START",), {"application": "DEMO2", "job": "RUN_PARAMETERTESTA"})
CALLS: dict[str, tuple[str, tuple[Any, ...], dict[str, Any]]] = {
    "Logon": ("monitor_job", (2112,), {}),  # Logon happens on its own before the first call
    "HeartBeat": ("heartbeat", (), {}),
    "MonitorJob": ("monitor_job", (2112,), {}),
    "GetMessages": ("get_messages", (2112,), {}),
    "START": START_CALL,
    "STOP": ("job_action", ("STOP",), {"batch_request_id": 2112}),
    "KILL": ("job_action", ("KILL",), {"batch_request_id": 2112}),
}
