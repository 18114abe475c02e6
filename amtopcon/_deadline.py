"""Socket-level deadlines for the sync `Client`.

httpx's timeouts are per socket operation: an answer whose headers trickle a byte at a
time passes every one of them, and a thread blocked inside httpcore cannot be interrupted
from outside. So each socket operation of an attempt is bounded here instead: the attempt
(`primitives.Attempt`) puts its end, a `time.monotonic()` instant, in a thread-local while
it runs, and the network streams of `amtopcon._deadline_net` cap every connect, TLS handshake, read and write
timeout by the time left until it. At the end, the socket times out, httpcore raises its
`ReadTimeout` (or `WriteTimeout`, `ConnectTimeout`), httpx its own, and the client its
typed timeout error, as for any timeout.

`_deadline_net.bind_deadlines(http)` puts its `DeadlineBackend` under every `httpx.HTTPTransport` of an
`httpx.Client` (its own transport and its proxy mounts). httpx has no public way to hand
httpcore a network backend, so this reads two private attributes, `HTTPTransport._pool`
(plus `Client._transport` and `Client._mounts`) and the pool's `_network_backend`;
`tests/faults/test_deadlines.py` pins them and fails loudly when httpx changes.
Outside an SDK attempt (no deadline in the thread), the streams pass every timeout on
unchanged, so a user's own requests through an injected client behave as before.

This module holds only the thread's deadline (no httpcore, so importing a client loads
no event-loop library); the streams and the binding are in `amtopcon._deadline_net`.
"""

from __future__ import annotations

import threading

__all__ = ["current", "enter", "restore"]

_local = threading.local()


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
