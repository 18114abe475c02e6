"""Door 1: the emulator as an `httpx.MockTransport`, and the in-process clients wired to it.

An injected delay advances the emulator's clock (a `VirtualClock` moves at once; a real
clock sleeps); a delay longer than the request's read timeout becomes `httpx.ReadTimeout`
after the timeout, as a real connection would. A dropped connection becomes
`httpx.ConnectError` (before processing) or `httpx.RemoteProtocolError` (after).

This module knows the engine only by `handle()` and `clock` (the `Engine` protocol), so
the engine imports it and not the other way round.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from amtopcon import AsyncClient, Client, Clock
from amtopcon.testing._exchange import Drop, EmulatorResponse

__all__ = [
    "AsyncEmulatorClient",
    "EmulatorClient",
    "Engine",
    "async_client",
    "async_transport",
    "sync_client",
    "sync_transport",
]


class Engine(Protocol):
    """What a door needs of the emulator: its clock and its answer to one request."""

    @property
    def clock(self) -> Clock: ...

    def handle(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
    ) -> EmulatorResponse | Drop: ...


def _answer(engine: Engine, request: httpx.Request) -> EmulatorResponse | float:
    """The engine's answer, or the read timeout (seconds) that it exceeds."""
    result = engine.handle(request.method, request.url.path, dict(request.url.params), request.headers, request.content)
    if isinstance(result, Drop):
        if result.after_processing:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
    if result.delay > 0:
        timeouts = request.extensions.get("timeout") or {}
        read = timeouts.get("read")
        if read is not None and result.delay > read:
            return float(read)
    return result


def _response(result: EmulatorResponse, request: httpx.Request) -> httpx.Response:
    return httpx.Response(result.status, headers=result.headers, content=result.body, request=request)


def _timed_out(request: httpx.Request) -> httpx.ReadTimeout:
    return httpx.ReadTimeout("timed out (emulator: delay_next)", request=request)


def sync_transport(engine: Engine) -> httpx.MockTransport:
    """A transport for `httpx.Client` whose requests the emulator answers."""

    def handler(request: httpx.Request) -> httpx.Response:
        result = _answer(engine, request)
        if isinstance(result, float):
            engine.clock.sleep(result)
            raise _timed_out(request)
        if result.delay > 0:
            engine.clock.sleep(result.delay)
        return _response(result, request)

    return httpx.MockTransport(handler)


def async_transport(engine: Engine) -> httpx.MockTransport:
    """A transport for `httpx.AsyncClient` whose requests the emulator answers."""

    async def handler(request: httpx.Request) -> httpx.Response:
        result = _answer(engine, request)
        if isinstance(result, float):
            await engine.clock.asleep(result)
            raise _timed_out(request)
        if result.delay > 0:
            await engine.clock.asleep(result.delay)
        return _response(result, request)

    return httpx.MockTransport(handler)


# --------------------------------------------------------------------------- the clients


class EmulatorClient(Client):
    """A `Client` on a pool made for it by the emulator: `close()` closes that pool too.

    Built through the constructor only: `pool` is the `httpx.Client` it runs on and owns.
    Copies from `with_options()` share the pool and leave it open, as for any client.
    """

    def __init__(self, base_url: str, *, pool: httpx.Client | None = None, **kwargs: Any) -> None:
        """Make the client; `pool` (when given) becomes its `http_client` and closes with it."""
        if pool is not None:
            kwargs["http_client"] = pool
        super().__init__(base_url, **kwargs)
        self.__pool = pool

    def close(self) -> None:
        """Close the client, and the pool the emulator made for it."""
        super().close()
        if self.__pool is not None:
            self.__pool.close()


class AsyncEmulatorClient(AsyncClient):
    """An `AsyncClient` on a pool made for it by the emulator (see `EmulatorClient`)."""

    def __init__(self, base_url: str, *, pool: httpx.AsyncClient | None = None, **kwargs: Any) -> None:
        """Make the client; `pool` (when given) becomes its `http_client` and closes with it."""
        if pool is not None:
            kwargs["http_client"] = pool
        super().__init__(base_url, **kwargs)
        self.__pool = pool

    async def aclose(self) -> None:
        """Close the client, and the pool the emulator made for it."""
        await super().aclose()
        if self.__pool is not None:
            await self.__pool.aclose()

    close = aclose  # as on AsyncClient: both names close


def sync_client(engine: Engine, base_url: str, settings: Mapping[str, Any]) -> Client:
    """A `Client` wired to `engine`; an `http_client` in `settings` is used as given and stays the caller's."""
    if "http_client" in settings:
        return Client(base_url, **settings)
    return EmulatorClient(base_url, pool=httpx.Client(transport=sync_transport(engine)), **settings)


def async_client(engine: Engine, base_url: str, settings: Mapping[str, Any]) -> AsyncClient:
    """An `AsyncClient` wired to `engine` (see `sync_client`)."""
    if "http_client" in settings:
        return AsyncClient(base_url, **settings)
    return AsyncEmulatorClient(base_url, pool=httpx.AsyncClient(transport=async_transport(engine)), **settings)
