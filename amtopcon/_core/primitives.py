"""Paired primitives: each async piece here has a sync twin of the same shape, so that
`scripts/unasync.py` turns `amtopcon/_async` into `amtopcon/_sync` by renaming tokens
alone (`AsyncLock` -> `Lock`, `AsyncShield` -> `Shield`, `anotify` -> `notify`,
`abind_deadlines` -> `bind_deadlines`).
The idea is httpcore's `_synchronization.py`."""

from __future__ import annotations

import inspect
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import httpx

from amtopcon import _constants as C
from amtopcon import _deadline
from amtopcon._wire.names import H_REQUEST_ID
from amtopcon.errors import ResponseTooLargeError

if TYPE_CHECKING:  # pragma: no cover - asyncio is loaded by an async caller, never by a sync client
    import asyncio

__all__ = [
    "AsyncAttempt",
    "AsyncLock",
    "AsyncReturns",
    "AsyncShield",
    "AsyncSlots",
    "Attempt",
    "Lock",
    "Returns",
    "Shield",
    "Slots",
    "abind_deadlines",
    "anotify",
    "aread_capped",
    "bind_deadlines",
    "notify",
    "read_capped",
]

_T = TypeVar("_T")

#: What a method gives back, for a signature written once for both flavours: the async
#: method's coroutine (`AsyncReturns[T]`, awaited for a T); its sync twin `Returns[T]` is the T.
AsyncReturns: TypeAlias = Coroutine[Any, Any, _T]
Returns: TypeAlias = _T


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


class AsyncSlots:
    """At most `n` holders at once: the calls a client has in flight (an anyio semaphore,
    made on first use; its waiters queue first come, first served). A task cancelled
    while it waits or holds a slot gives it back and takes nothing from the others."""

    __slots__ = ("_n", "_semaphore")

    def __init__(self, n: int) -> None:
        self._n = n
        self._semaphore: Any = None

    async def __aenter__(self) -> None:
        if self._semaphore is None:
            self._semaphore = _semaphore(self._n)
        await self._semaphore.acquire()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._semaphore.release()


def _semaphore(n: int) -> Any:
    # fast_acquire (anyio >= 4.5): a free slot is taken without a trip through the event
    # loop (a cancelled task is still stopped there); a full one queues as before, in order.
    import anyio

    try:
        return anyio.Semaphore(n, fast_acquire=True)
    except TypeError:  # pragma: no cover - anyio < 4.5
        return anyio.Semaphore(n)


class Slots:
    """The twin of `AsyncSlots`: `n` tokens in a `queue.SimpleQueue`, a thread semaphore
    whose take and give back are each one C call (a `threading.Semaphore` runs a
    condition variable in Python on both)."""

    __slots__ = ("_tokens",)

    def __init__(self, n: int) -> None:
        self._tokens: queue.SimpleQueue[None] = queue.SimpleQueue()
        for _ in range(n):
            self._tokens.put(None)

    def __enter__(self) -> None:
        self._tokens.get()  # blocks while every token is out (Ctrl+C interrupts it)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._tokens.put(None)


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


# --------------------------------------------------------------------------- one attempt, bounded in time and bytes


class Attempt:
    """The real-time bound of one attempt: connecting, sending, the headers and the whole body.

    It ends `seconds` (the connect plus the read timeout) after it began, later by one
    second per `C.MIN_READ_RATE` bytes of answer read, and never after `remaining` (the
    call's deadline). httpx's timeouts are per read, so an answer trickled a byte at a
    time would pass them all. Inside the block, the end is this thread's socket deadline
    (`amtopcon._deadline`): every connect, read and write of the attempt is capped by the
    time left, so trickled headers end too; `progress()` is called between body chunks,
    moves the end by the bytes read and raises `httpx.ReadTimeout` once it is past.
    """

    __slots__ = ("_began", "_previous", "_remaining", "_seconds", "request")

    def __init__(self, seconds: float | None, remaining: float | None, request: httpx.Request) -> None:
        self._seconds = seconds
        self._remaining = remaining
        self._began = time.monotonic()
        self._previous: float | None = None
        self.request = request

    def limit(self, size: int = 0) -> float | None:
        """Seconds from the start that the attempt may last, `size` bytes having been read."""
        remaining = self._remaining
        if self._seconds is None:
            return remaining
        own = self._seconds + size / C.MIN_READ_RATE
        return own if remaining is None or own < remaining else remaining

    def _check(self, size: int) -> float | None:
        # Raise past the bound; the bound (seconds from the start) otherwise.
        limit = self.limit(size)
        if limit is not None and time.monotonic() - self._began > limit:
            raise self.timed_out()
        return limit

    def _end(self, limit: float | None) -> float | None:
        return None if limit is None else self._began + limit

    def progress(self, size: int, complete: bool = False) -> None:
        """`size` bytes of answer have been read so far (`complete`: all of them, the
        body's length is reached): raise `httpx.ReadTimeout` past the bound."""
        _deadline.enter(self._end(self._check(size)))

    def timed_out(self) -> httpx.ReadTimeout:
        return httpx.ReadTimeout("the answer did not arrive within the attempt's time", request=self.request)

    def __enter__(self) -> Attempt:
        self._previous = _deadline.enter(self._end(self.limit()))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _deadline.restore(self._previous)


class AsyncAttempt(Attempt):
    """`Attempt` with a timer that cancels the attempt's task at the bound, which also
    ends an attempt stuck in the headers (the sync twin caps each socket operation by the
    thread's deadline instead).

    On asyncio the timer is the event loop's own (what `asyncio.timeout()` does: one
    `call_at`, the task cancelled once and uncancelled on the way out); elsewhere (trio)
    it is an anyio cancel scope with a deadline. Either way a timed-out attempt raises
    `httpx.ReadTimeout`, and a cancellation from outside passes through untouched.
    """

    __slots__ = ("_cancelling", "_expired", "_handle", "_scope", "_t0", "_task")

    def __init__(self, seconds: float | None, remaining: float | None, request: httpx.Request) -> None:
        super().__init__(seconds, remaining, request)
        self._scope: Any = None
        self._task: asyncio.Task[Any] | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._expired = False
        self._cancelling = 0
        self._t0 = 0.0

    def __enter__(self) -> AsyncAttempt:
        limit = self.limit()
        if limit is None:
            return self
        task = _asyncio_task()
        if task is not None:
            self._task = task
            self._cancelling = task.cancelling()
            loop = task.get_loop()
            # The attempt's start on the loop's own clock (which need not be time.monotonic()).
            self._t0 = loop.time() - (time.monotonic() - self._began)
            self._handle = loop.call_at(self._t0 + limit, self._expire)
        else:
            import anyio

            self._t0 = anyio.current_time()
            self._scope = anyio.CancelScope(deadline=self._t0 + limit)
            self._scope.__enter__()
        return self

    def _expire(self) -> None:
        self._handle = None
        if self._task is not None and not self._task.done():
            self._expired = True
            self._task.cancel()

    def progress(self, size: int, complete: bool = False) -> None:
        limit = self._check(size)
        if complete or limit is None:  # a complete body waits for nothing more
            return
        handle = self._handle
        if handle is not None and self._task is not None:
            handle.cancel()
            self._handle = self._task.get_loop().call_at(self._t0 + limit, self._expire)
        elif self._scope is not None:
            self._scope.deadline = self._t0 + limit

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        task = self._task
        if task is not None:
            if self._handle is not None:
                self._handle.cancel()
                self._handle = None
            if self._expired:
                self._expired = False
                # Ours, unless the task was also cancelled from outside: then that wins.
                import asyncio

                if (
                    task.uncancel() <= self._cancelling
                    and exc_type is not None
                    and issubclass(exc_type, asyncio.CancelledError)
                ):
                    raise self.timed_out()
            return
        if self._scope is None:
            return
        self._scope.__exit__(exc_type, exc, tb)
        if self._scope.cancelled_caught:
            raise self.timed_out()


def _asyncio_task() -> asyncio.Task[Any] | None:
    """The asyncio task running this code; None under another event loop (trio)."""
    import asyncio

    try:
        return asyncio.current_task()
    except RuntimeError:  # no asyncio loop running in this thread
        return None


def abind_deadlines(http: httpx.AsyncClient) -> httpx.AsyncClient:
    """`http` as it is: an async attempt is bounded by its own timer (`AsyncAttempt`)."""
    return http


def bind_deadlines(http: httpx.Client) -> httpx.Client:
    """`http`, its transports' sockets bounded by the deadline of the attempt in progress
    (`amtopcon._deadline_net.bind_deadlines`; the twin of `abind_deadlines`)."""
    from amtopcon._deadline_net import bind_deadlines as bind  # httpcore: loaded with the first pool

    bind(http)
    return http


def _too_large(response: httpx.Response, limit: int) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"the answer is larger than max_response_size ({limit} bytes); it was not read further",
        status_code=response.status_code,
        request_id=response.headers.get(H_REQUEST_ID),
    )


def _check_length(response: httpx.Response, limit: int) -> int | None:
    """The answer's Content-Length (None: absent or not a number); past `limit`, refused."""
    length = response.headers.get("content-length", "").strip()
    if not length.isdigit():
        return None
    if len(length) > 19 or int(length) > limit:
        raise _too_large(response, limit)
    return int(length)


def _whole(response: httpx.Response, chunks: list[bytes]) -> httpx.Response:
    # What httpx's own `read()` does once the stream is read: the decoded body is kept on the
    # response (no copy of the response per call; a redacted copy for a hook drops the
    # encoding headers, see `_wire.responses.redacted`).
    content = response._content = b"".join(chunks)
    # Read to its end, the stream has closed itself (the connection is back in the pool);
    # dropping it breaks the response <-> stream cycle, so the body is freed with the call,
    # not at the next garbage collection.
    response.stream = httpx.ByteStream(content)
    return response


class _Capped:
    """The bytes of one answer as they arrive, refused past `limit`, each chunk reported
    to the attempt's byte-rate bound."""

    __slots__ = ("attempt", "chunks", "length", "limit", "response", "size")

    def __init__(self, response: httpx.Response, limit: int, attempt: Attempt | AsyncAttempt) -> None:
        self.length = _check_length(response, limit)
        self.response, self.limit, self.attempt = response, limit, attempt
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise _too_large(self.response, self.limit)
        self.chunks.append(chunk)
        # The bytes on the wire (before any decoding) reached the announced length: the
        # body is all here.
        # (A response made with its content, as a MockTransport's, is read before it is streamed.)
        response = self.response
        self.attempt.progress(
            self.size, response.num_bytes_downloaded == self.length or "_content" in response.__dict__
        )

    def whole(self) -> httpx.Response:
        return _whole(self.response, self.chunks)


async def aread_capped(response: httpx.Response, limit: int, attempt: AsyncAttempt) -> httpx.Response:
    """Read a streamed answer (decoded) under `attempt`'s bound and at most `limit` bytes;
    the answer, whole. Raises `ResponseTooLargeError` before reading past `limit`."""
    capped = _Capped(response, limit, attempt)
    async for chunk in response.aiter_bytes():
        capped.add(chunk)
    return capped.whole()


def read_capped(response: httpx.Response, limit: int, attempt: Attempt) -> httpx.Response:
    """The twin of `aread_capped`."""
    capped = _Capped(response, limit, attempt)
    for chunk in response.iter_bytes():
        capped.add(chunk)
    return capped.whole()
