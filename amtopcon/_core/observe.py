"""What a caller may see of the wire, with no I/O: `RawResponse` (a parsed result with the
`httpx.Response` it came from), the capture behind `client.with_raw_response`, the
redacted copies handed to event hooks, and the observer interface (`Observer`) through
which telemetry (`amtopcon.otel`) sees calls, attempts and waits. Nothing here ever
carries the token or a Logon body, and nothing here imports a telemetry library."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING, Generic, Self, TypeVar

import attrs
import httpx

from amtopcon import _wire
from amtopcon._logging import logger
from amtopcon._wire.names import H_REQUEST_ID, H_TOKEN, LOGON
from amtopcon._wire.responses import redacted
from amtopcon.errors import ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from amtopcon.errors import AmtOpConError
    from amtopcon.models import JobStatus

__all__ = [
    "NO_OBSERVER",
    "AttemptObserver",
    "CallObserver",
    "Observer",
    "RawResponse",
    "WatchObserver",
    "capture",
    "check_event_hooks",
    "log_hook_error",
    "record",
    "redacted_request",
    "redacted_response",
]

T = TypeVar("T")

#: The answers of the calls made under `capture()` (None: not capturing).
_CAPTURED: ContextVar[list[httpx.Response] | None] = ContextVar("amtopcon_captured", default=None)


@attrs.frozen
class RawResponse(Generic[T]):
    """A call's parsed result with the HTTP answer it came from (`client.with_raw_response`).

    `http_response` is a redacted copy: its request carries `***` for the token. For a
    STOP or KILL whose answer was a 409 after an earlier attempt may have landed, it is
    that 409 (`parsed` then comes from the MonitorJob made to confirm it).

    Attributes:
        parsed (T): what the plain call returns (T: its type, e.g. `JobStatus`).
        http_response: the `httpx.Response` of the call's last attempt.
    """

    parsed: T
    http_response: httpx.Response = attrs.field(repr=False)

    def parse(self) -> T:
        """The parsed result (as the Stainless SDKs spell it)."""
        return self.parsed

    @property
    def status_code(self) -> int:
        """The HTTP status of the answer."""
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        """The answer's headers."""
        return self.http_response.headers

    @property
    def request_id(self) -> str | None:
        """The `X-Request-Id` of the answer (the server's, else the one the client sent)."""
        response = self.http_response
        rid = response.headers.get(H_REQUEST_ID) or response.request.headers.get(H_REQUEST_ID)
        return str(rid) if rid else None

    def __repr__(self) -> str:
        return f"RawResponse(status_code={self.status_code}, parsed={self.parsed!r})"


@contextlib.contextmanager
def capture() -> Iterator[list[httpx.Response]]:
    """Collect (redacted) the answers of the calls made inside the block, Logons apart."""
    sink: list[httpx.Response] = []
    token = _CAPTURED.set(sink)
    try:
        yield sink
    finally:
        _CAPTURED.reset(token)


def record(wreq: _wire.WireRequest, response: httpx.Response) -> None:
    """Keep the answer of a finished call when a `capture()` is open (never a Logon's)."""
    sink = _CAPTURED.get()
    if sink is not None and wreq.function != LOGON:
        sink.append(redacted(response))


def redacted_request(request: httpx.Request) -> httpx.Request:
    """A copy of a request to show a hook: the token is `***`, a Logon's body is empty."""
    token_header = H_TOKEN.lower()
    is_logon = request.url.path.endswith("/" + LOGON)
    headers = [
        (k, "***" if k.lower() == token_header else v)
        for k, v in request.headers.items()
        if not (is_logon and k.lower() == "content-length")
    ]
    return httpx.Request(request.method, request.url, headers=headers, content=b"" if is_logon else request.content)


def redacted_response(response: httpx.Response) -> httpx.Response:
    """A copy of an answer to show a hook: as `redacted`, and a Logon's answer (the token) is emptied."""
    clean = redacted(response)
    if not clean.request.url.path.endswith("/" + LOGON):
        return clean
    headers = [(k, v) for k, v in clean.headers.items() if k.lower() != "content-length"]
    return httpx.Response(clean.status_code, headers=headers, content=b"", request=clean.request)


def check_event_hooks(hooks: object) -> dict[str, tuple[object, ...]]:
    """`event_hooks=`: a mapping with `request` and/or `response` lists of callables."""
    field = "event_hooks"
    out: dict[str, tuple[object, ...]] = {"request": (), "response": ()}
    if hooks is None:
        return out
    if not isinstance(hooks, Mapping):
        raise ValidationError(f"{field}: expected a mapping of 'request'/'response' to lists of callables", field=field)
    for key, value in hooks.items():
        if key not in out:
            raise ValidationError(f"{field}: unknown event {key!r} (the events: 'request', 'response')", field=field)
        wrong = f"{field}[{key!r}]: expected a list of callables, got {value!r}"
        if callable(value) or isinstance(value, (str, bytes)):
            raise ValidationError(wrong, field=field)
        try:
            items = tuple(value)
        except TypeError:
            raise ValidationError(wrong, field=field) from None
        for item in items:
            if not callable(item):
                raise ValidationError(f"{field}[{key!r}]: {item!r} is not callable", field=field)
        out[key] = items
    return out


def log_hook_error(event: str) -> None:
    """Log (with the traceback) an exception raised by an event hook; the call goes on."""
    logger.exception("an amtopcon %s hook raised; the call goes on", event)


# --------------------------------------------------------------------------- observers
#
# Theory of operation. A client holds one `Observer` (`client._observer`; by default
# `NO_OBSERVER`, whose every method does nothing). The sending loop opens a `CallObserver`
# per call (`with observer.call(wreq, url):`) and, inside it, an `AttemptObserver` per
# attempt; a wait or follow opens a `WatchObserver` (through `Watch`), and makes it current
# around each round so that the round's calls nest under it. A telemetry layer
# (`amtopcon.otel`) subclasses these; the core never imports one. An observer may read a
# request's method, URL and `X-Request-Id`, never its other headers or its body.


class _Observed:
    """A context manager that does nothing (the base of the observers' scopes)."""

    __slots__ = ()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class AttemptObserver(_Observed):
    """One attempt of a call, from the request built to the decision taken on its outcome
    (this base sees nothing). Leaving the block with an exception: the call ends with it."""

    __slots__ = ()

    def answered(self, response: httpx.Response) -> None:
        """The server answered (any status)."""

    def failed(self, error: httpx.HTTPError) -> None:
        """The transport failed (no answer)."""

    def decided(self, step: object) -> None:
        """What the call does next: a `Done`, `Sleep` or `Relogon` of `amtopcon._core.call`."""


class CallObserver(_Observed):
    """One call (retries, back-offs and a Logon made for it included); this base sees nothing."""

    __slots__ = ()

    def attempt(self, request: httpx.Request, number: int) -> AttemptObserver:
        """The attempt `number` (1-based) is about to send `request` (read its method, URL
        and `X-Request-Id` only: its headers carry the token, a Logon's body the password)."""
        return _NO_ATTEMPT


class WatchObserver(_Observed):
    """One `wait()` or `follow()` (this base sees nothing)."""

    __slots__ = ()

    def current(self) -> contextlib.AbstractContextManager[object]:
        """A block in which this watch is the current scope (its round's calls nest under it)."""
        return self  # nothing to enter, nothing allocated (10,000 waits go through here)

    def checked(self, status: JobStatus, changed: bool) -> None:
        """A status check answered (`changed`: first status seen or a new code)."""

    def check_failed(self, error: AmtOpConError) -> None:
        """A round's call failed (an outage is waited out, or the error ends the watch)."""

    def outage_ended(self, seconds: float, outcome: str) -> None:
        """An outage lasted `seconds`: `recovered`, `gave_up` (past `max_outage`) or `timed_out`."""

    def job_ended(self, status: JobStatus) -> None:
        """The first terminal status this watch saw."""


class Observer:
    """What a client tells a telemetry layer; this base (`NO_OBSERVER`) sees nothing."""

    __slots__ = ()

    def call(self, wreq: _wire.WireRequest, url: httpx.URL) -> CallObserver:
        """A call of `wreq.function` to `url` begins (`wreq.body` is never to be read)."""
        return _NO_CALL

    def watch(self, batch_request_id: int, kind: str) -> WatchObserver:
        """A `wait()` (`kind` "wait") or `follow()` ("follow") of a job begins."""
        return _NO_WATCH

    def relogon(self) -> None:
        """A token was refused and the client logs on again."""


_NO_ATTEMPT = AttemptObserver()
_NO_CALL = CallObserver()
_NO_WATCH = WatchObserver()
#: The observer of a client with no telemetry.
NO_OBSERVER = Observer()
