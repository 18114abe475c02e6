"""Door 1: the emulator as an `httpx.MockTransport`, for in-process clients (sync and async).

An injected delay advances the emulator's clock (a `VirtualClock` moves at once; a real
clock sleeps); a delay longer than the request's read timeout becomes `httpx.ReadTimeout`
after the timeout, as a real connection would. A dropped connection becomes
`httpx.ConnectError` (before processing) or `httpx.RemoteProtocolError` (after).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:  # pragma: no cover
    from amtopcon.testing._engine import Emulator, EmulatorResponse

__all__ = ["async_transport", "sync_transport"]


def _answer(emulator: Emulator, request: httpx.Request) -> EmulatorResponse | float:
    """The engine's answer, or the read timeout (seconds) that it exceeds."""
    from amtopcon.testing._engine import Drop

    result = emulator.handle(
        request.method, request.url.path, dict(request.url.params), request.headers, request.content
    )
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


def sync_transport(emulator: Emulator) -> httpx.MockTransport:
    """A transport for `httpx.Client` whose requests the emulator answers."""

    def handler(request: httpx.Request) -> httpx.Response:
        result = _answer(emulator, request)
        if isinstance(result, float):
            emulator.clock.sleep(result)
            raise httpx.ReadTimeout("timed out (emulator: delay_next)", request=request)
        if result.delay > 0:
            emulator.clock.sleep(result.delay)
        return _response(result, request)

    return httpx.MockTransport(handler)


def async_transport(emulator: Emulator) -> httpx.MockTransport:
    """A transport for `httpx.AsyncClient` whose requests the emulator answers."""

    async def handler(request: httpx.Request) -> httpx.Response:
        result = _answer(emulator, request)
        if isinstance(result, float):
            await emulator.clock.asleep(result)
            raise httpx.ReadTimeout("timed out (emulator: delay_next)", request=request)
        if result.delay > 0:
            await emulator.clock.asleep(result.delay)
        return _response(result, request)

    return httpx.MockTransport(handler)
