"""Socket-level deadlines for the sync `Client`.

httpx's timeouts are per socket operation: an answer whose headers trickle a byte at a
time passes every one of them, and a thread blocked inside httpcore cannot be interrupted
from outside. So each socket operation of an attempt is bounded here instead: the attempt
(`primitives.Attempt`) puts its end, a `time.monotonic()` instant, in a thread-local while
it runs, and the network streams below cap every connect, TLS handshake, read and write
timeout by the time left until it. At the end, the socket times out, httpcore raises its
`ReadTimeout` (or `WriteTimeout`, `ConnectTimeout`), httpx its own, and the client its
typed timeout error, as for any timeout.

`bind_deadlines(http)` puts `DeadlineBackend` under every `httpx.HTTPTransport` of an
`httpx.Client` (its own transport and its proxy mounts). httpx has no public way to hand
httpcore a network backend, so this reads two private attributes, `HTTPTransport._pool`
(plus `Client._transport` and `Client._mounts`) and the pool's `_network_backend`;
`tests/faults/test_deadlines.py` pins them and fails loudly when httpx changes.
Outside an SDK attempt (no deadline in the thread), the streams pass every timeout on
unchanged, so a user's own requests through an injected client behave as before.
"""

from __future__ import annotations

import threading
import time
import typing

import httpcore
import httpx

__all__ = ["DeadlineBackend", "DeadlineStream", "bind_deadlines", "current", "enter", "restore"]

_local = threading.local()

_SocketOptions = typing.Iterable[typing.Any] | None


def current() -> float | None:
    """The `time.monotonic()` instant this thread's attempt must end by (None: none)."""
    deadline: float | None = getattr(_local, "deadline", None)
    return deadline


def enter(deadline: float | None) -> float | None:
    """Make `deadline` this thread's; return the one it replaces (for `restore`)."""
    previous = current()
    _local.deadline = deadline
    return previous


def restore(previous: float | None) -> None:
    """Put back what `enter` replaced."""
    _local.deadline = previous


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
