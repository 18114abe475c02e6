"""The network streams of `amtopcon._deadline` (apart, because they need httpcore, which
loads anyio: a client module imports nothing of this until a pool is bound)."""

from __future__ import annotations

import time
import typing

import httpcore
import httpx

from amtopcon._deadline import current

__all__ = ["DeadlineBackend", "DeadlineStream", "bind_deadlines"]

_SocketOptions = typing.Iterable[typing.Any] | None


def _capped(timeout: float | None, error: type[Exception]) -> float | None:
    """`timeout` capped by the time left of this thread's deadline; `error` once it has passed."""
    deadline = current()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the call's deadline passed before the answer arrived")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every timeout is capped by the thread's deadline."""

    __slots__ = ("_stream",)

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _capped(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _capped(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: typing.Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = self._stream.start_tls(ssl_context, server_hostname, _capped(timeout, httpcore.ConnectTimeout))
        return DeadlineStream(tls)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """A network backend (over `inner`, httpcore's `SyncBackend` by default) whose streams
    are `DeadlineStream`s: connecting is capped by the thread's deadline too."""

    __slots__ = ("inner",)

    def __init__(self, inner: httpcore.NetworkBackend | None = None) -> None:
        self.inner = inner if inner is not None else httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: _SocketOptions = None,
    ) -> httpcore.NetworkStream:
        stream = self.inner.connect_tcp(
            host, port, _capped(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: _SocketOptions = None
    ) -> httpcore.NetworkStream:  # pragma: no cover - the SDK speaks TCP; kept for an injected client's
        stream = self.inner.connect_unix_socket(path, _capped(timeout, httpcore.ConnectTimeout), socket_options)
        return DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:  # pragma: no cover - httpcore's connect retries (none by default)
        deadline = current()
        if deadline is not None:
            seconds = max(0.0, min(seconds, deadline - time.monotonic()))
        self.inner.sleep(seconds)


def bind_deadlines(http: httpx.Client) -> bool:
    """Put a `DeadlineBackend` under each `httpx.HTTPTransport` of `http` (idempotent).

    True when every transport of the client is bound (its connections opened from now on
    honour the SDK's deadlines); False when one is not an `httpx.HTTPTransport` (a custom
    or mock transport: its reads keep only httpx's per-read timeout) or httpx no longer has
    the attributes read here. An HTTP/2 pool is left as it is (False): its connections are
    shared by the streams of several threads, so one thread's deadline must not end another's
    read.
    """
    transports = [getattr(http, "_transport", None), *getattr(http, "_mounts", {}).values()]
    bound = True
    for transport in transports:
        if transport is None:  # a mount that means "no proxy for these URLs"
            continue
        pool = getattr(transport, "_pool", None) if isinstance(transport, httpx.HTTPTransport) else None
        backend = getattr(pool, "_network_backend", None)
        if getattr(pool, "_http2", False):
            bound = False
            continue
        if isinstance(backend, DeadlineBackend):
            continue
        if isinstance(backend, httpcore.NetworkBackend):
            pool._network_backend = DeadlineBackend(backend)  # type: ignore[union-attr]
        else:
            bound = False
    return bound
