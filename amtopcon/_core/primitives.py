"""Paired primitives: each async piece here has a sync twin of the same shape, so that
`scripts/unasync.py` turns `amtopcon/_async` into `amtopcon/_sync` by renaming tokens
alone (`AsyncLock` -> `Lock`, `AsyncShield` -> `Shield`, `anotify` -> `notify`).
The idea is httpcore's `_synchronization.py`."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

__all__ = ["AsyncLock", "AsyncShield", "Lock", "Shield", "anotify", "notify"]


class AsyncLock:
    """An anyio lock made on first use (so a client can be built outside an event loop)."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock: Any = None

    async def __aenter__(self) -> None:
        if self._lock is None:
            import anyio

            self._lock = anyio.Lock()
        await self._lock.acquire()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._lock.release()


class Lock:
    """A thread lock (the twin of `AsyncLock`)."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._lock.release()


class AsyncShield:
    """Run a block shielded from cancellation, for at most `seconds` of real time (a KILL
    sent because the task was cancelled must not be cancelled too)."""

    __slots__ = ("_scope", "_seconds")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._scope: Any = None

    def __enter__(self) -> None:
        import anyio

        self._scope = anyio.move_on_after(self._seconds, shield=True)
        self._scope.__enter__()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        result: bool | None = self._scope.__exit__(exc_type, exc, tb)
        return result


class Shield:
    """The twin of `AsyncShield`: a thread has no cancellation to shield from."""

    __slots__ = ()

    def __init__(self, seconds: float) -> None:
        pass

    def __enter__(self) -> None:
        pass

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        pass


async def anotify(callback: Callable[[Any], object | Awaitable[object]], value: Any) -> None:
    """Call `callback(value)`, awaiting what it returns when that is awaitable."""
    outcome = callback(value)
    if inspect.isawaitable(outcome):
        await outcome


def notify(callback: Callable[[Any], object], value: Any) -> None:
    """Call `callback(value)` (the twin of `anotify`)."""
    callback(value)
