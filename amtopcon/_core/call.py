"""One call, from the first attempt to its answer: the retry state machine and the
may-I-retry decision, in one place and with no I/O.

Theory of operation. A client's loop builds a request with `CallState.build()`, sends
it, and feeds what came back to `on_response()` or `on_exception()`. Each returns the
next `Step`: `Done` (this response is the answer), `Sleep` (wait, then send again) or
`Relogon` (the token was refused: log on once more, then send again), or raises the
typed error that ends the call. The clients only send, sleep and log on.

Retries are decided by what may have happened to the request, not by its HTTP verb:
"it never left" (connect error, connect or pool timeout, 429, 503) is kept apart from
"it may have been processed" (read timeout, dropped connection, 500, 502, 504). A START
is resent only when it provably never left; otherwise its outcome is unknown
(`StartOutcomeUnknownError`), and the caller reconciles by its TaskId.
"""

from __future__ import annotations

import enum
import logging
import math
import os
import random
import ssl
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Final, TypeVar

import attrs
import httpx

from amtopcon import _constants as C
from amtopcon import _wire
from amtopcon._logging import logger
from amtopcon._wire.responses import redacted
from amtopcon.errors import (
    AmtOpConError,
    APIConnectionError,
    APITimeoutError,
    InvalidResponseError,
    JobStartError,
    StartOutcomeUnknownError,
)
from amtopcon.models import ActionResult

if TYPE_CHECKING:  # pragma: no cover
    from amtopcon._core.settings import BaseClient

__all__ = [
    "CallState",
    "Done",
    "Failure",
    "Relogon",
    "Sleep",
    "Step",
    "backoff_delay",
    "check_started",
    "check_token",
    "classify_exception",
    "parse_retry_after",
    "retryable",
    "start_outcome_unknown",
]

T = TypeVar("T")

#: Statuses that may be retried (for a START only those that say it was not processed).
RETRY_STATUSES: Final = frozenset({429, 500, 502, 503, 504})
NOT_PROCESSED_STATUSES: Final = frozenset({429, 503})


# --------------------------------------------------------------------------- the decision


class Failure(enum.Enum):
    """What an exception from the transport says about the request."""

    NOT_SENT = "not sent"  # connect error, connect or pool timeout: provably never reached the server
    MAYBE_SENT = "maybe sent"  # read/write timeout or a dropped connection: it may have been processed
    FATAL = "fatal"  # retrying cannot help (TLS verification, unsupported protocol, bad URL)


def tls_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ssl.SSLCertVerificationError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(cur):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


def classify_exception(exc: httpx.HTTPError) -> Failure:
    """Place a transport exception in one of the three `Failure` classes."""
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.InvalidURL)):
        return Failure.FATAL
    if isinstance(exc, httpx.ConnectError) and tls_failure(exc):
        return Failure.FATAL
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)):
        return Failure.NOT_SENT
    return Failure.MAYBE_SENT


def retryable(kind: str, *, failure: Failure | None = None, status: int | None = None) -> bool:
    """May a request of this kind ("read", "action" or "start") be sent again?"""
    if failure is Failure.FATAL:
        return False
    if kind == "start":
        if failure is not None:
            return failure is Failure.NOT_SENT
        return status in NOT_PROCESSED_STATUSES
    if failure is not None:
        return True
    return status in RETRY_STATUSES


def start_outcome_unknown(*, failure: Failure | None = None, status: int | None = None) -> bool:
    """After this, a START may or may not have queued the job."""
    if failure is not None:
        return failure is Failure.MAYBE_SENT
    return status is not None and status >= 500 and status not in NOT_PROCESSED_STATUSES


def backoff_delay(retry: int, rng: random.Random | None = None) -> float:
    """Capped exponential back-off with full jitter for the n-th retry (1-based)."""
    cap = min(C.MAX_BACKOFF, C.INITIAL_BACKOFF * (2.0 ** max(retry - 1, 0)))
    r: float = (rng or random).random()
    return cap / 2 + r * cap / 2


def parse_retry_after(value: str | None, now_wall: float) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP date); None if absent or bad."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            return None
        return max(0.0, when.timestamp() - now_wall)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


def new_request_id() -> str:
    """A random (version 4) UUID as text, the `X-Request-Id` of one attempt: what
    `str(uuid.uuid4())` gives, made without an intermediate `UUID` object."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


#: The RFC 4122 variant nibble (10xx) for each hex digit drawn.
_VARIANT: Final = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


# --------------------------------------------------------------------------- the state machine


@attrs.frozen
class Done:
    """The call is over: this response is the answer."""

    response: httpx.Response
    conflict_after_retry: bool = False


@attrs.frozen
class Sleep:
    """Wait this long, then try again."""

    seconds: float


@attrs.frozen
class Relogon:
    """Log on again (the token `stale` was refused), then repeat the call."""

    stale: str | None = attrs.field(repr=False)  # a token: never shown


Step = Done | Sleep | Relogon


class CallState:
    """The retry state machine of one call: attempts, deadline, what may be repeated."""

    def __init__(self, client: BaseClient, wreq: _wire.WireRequest, deadline: float | None = None) -> None:
        self.client = client
        self.wreq = wreq
        self.clock = client._clock
        self.started = self.clock.now()
        total = client._total_timeout
        self.deadline = None if total is None else self.started + total
        if deadline is not None:  # a Logon made for a call shares that call's deadline
            self.deadline = deadline if self.deadline is None else min(self.deadline, deadline)
        if self.deadline == math.inf:  # total_timeout or a per-call timeout of infinity: no deadline
            self.deadline = None
        self.attempts = 0
        self.retries = 0
        self.relogged = False
        self.maybe_landed = False
        self.request_id: str | None = None
        self.token_sent: str | None = None
        self._answered: tuple[httpx.Response, str | None] | None = None

    # -- building
    def build(self, http: httpx.Client | httpx.AsyncClient, token: str | None) -> httpx.Request:
        remaining = None if self.deadline is None else self.deadline - self.clock.now()
        if remaining is not None and remaining <= 0:
            raise self._timed_out(None)
        self.attempts += 1
        self.request_id = new_request_id()
        self.token_sent = token if self.wreq.needs_token else None
        timeout = self.client._timeout_within(remaining)
        return self.client._build_request(http, self.wreq, token, self.request_id, timeout)

    def attempt_budget(self) -> tuple[float | None, float | None]:
        """Real seconds one attempt may take (connect plus read timeout; None: unbounded),
        and what is left of the call's deadline (None: no deadline). See `primitives.Attempt`."""
        t = self.client._timeout
        own = None if t.read is None else t.read + (t.connect or 0.0)
        remaining = None if self.deadline is None else max(self.deadline - self.clock.now(), 0.0)
        return own, remaining

    # -- deciding
    def _elapsed(self) -> float:
        return self.clock.now() - self.started

    def _log(self, outcome: str, request_id: str | None) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %s request_id=%s attempt=%d elapsed=%.3fs",
                self.wreq.method,
                self.client._function_url(self.wreq.function).path,  # the path, never the query or a header
                outcome,
                request_id,
                self.attempts,
                self._elapsed(),
            )

    def _timed_out(self, last: AmtOpConError | None) -> AmtOpConError:
        if last is not None:
            return last
        total = self.client._total_timeout
        limit = f"total_timeout of {total}s"
        if self.deadline is not None and (total is None or self.deadline < self.started + total):
            limit = f"the caller's deadline ({self.deadline - self.started:.1f}s)"  # e.g. a wait(timeout=...)
        return APITimeoutError(
            f"{self.wreq.function}: {limit} reached",
            attempts=self.attempts,
            request_id=self.request_id,
        )

    def _retry_or_raise(self, error: AmtOpConError, retry_after: float | None) -> Sleep:
        if retry_after is not None and retry_after > C.MAX_RETRY_AFTER:
            raise error
        if self.retries >= self.client._max_retries:
            raise error
        self.retries += 1
        delay = backoff_delay(self.retries, self.client._rng)
        if retry_after is not None:  # a zero or past Retry-After still backs off
            delay = max(delay, retry_after)
        if self.deadline is not None and self.clock.now() + delay >= self.deadline:
            raise error
        return Sleep(delay)

    def on_response(self, response: httpx.Response) -> Step:
        rid = response.headers.get(_wire.H_REQUEST_ID) or self.request_id
        self._answered = (response, rid)  # `decode()` reads the same answer
        status = response.status_code
        self._log(str(status), rid)
        if 200 <= status < 300:
            return Done(response)
        wreq = self.wreq
        if status == 401 and self.token_sent is not None and not self.relogged:
            self.relogged = True
            return Relogon(self.token_sent)
        if status == 409 and wreq.kind == "action" and self.maybe_landed:
            return Done(response, conflict_after_retry=True)
        retry_after = None
        if status in (429, 503):
            retry_after = parse_retry_after(response.headers.get(_wire.H_RETRY_AFTER), self.clock.time())
        error = _wire.status_error(
            status,
            response.content,
            request_id=response.headers.get(_wire.H_REQUEST_ID) or None,
            sent_request_id=self.request_id,
            retry_after=retry_after,
            response=redacted(response),
            attempts=self.attempts,
        )
        if wreq.kind == "start" and start_outcome_unknown(status=status):
            raise self._outcome_unknown(f"HTTP {status}", rid) from error
        if status in (500, 502, 504):
            self.maybe_landed = True
        if not retryable(wreq.kind, status=status):
            raise error
        return self._retry_or_raise(error, retry_after)

    def on_exception(self, exc: httpx.HTTPError) -> Step:
        failure = classify_exception(exc)
        what = type(exc).__name__
        self._log(what, self.request_id)
        clean = self._sanitised(exc)
        if self.wreq.kind == "start" and failure is Failure.MAYBE_SENT:
            raise self._outcome_unknown(what, self.request_id) from clean
        if failure is Failure.MAYBE_SENT:
            self.maybe_landed = True
        cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
        detail = str(clean) or what
        if failure is Failure.FATAL and tls_failure(exc):
            detail = f"TLS certificate verification failed: {detail}"
        error = cls(f"{self.wreq.function}: {what}: {detail}", attempts=self.attempts, request_id=self.request_id)
        error.__cause__ = clean
        if not retryable(self.wreq.kind, failure=failure):
            raise error
        return self._retry_or_raise(error, None)

    def _sanitised(self, exc: httpx.HTTPError) -> httpx.HTTPError:
        """A copy of a transport error to chain to ours: no request (its headers hold the
        token, a Logon's body the password), no inner chain, no header value in its text."""
        text = str(exc)
        if isinstance(exc, httpx.LocalProtocolError) or (self.token_sent and self.token_sent in text):
            text = "the request could not be sent (a header value is not allowed)"
        try:
            clean = type(exc)(text)
        except TypeError:
            clean = httpx.TransportError(text)
        clean.__suppress_context__ = True
        return clean

    def _outcome_unknown(self, why: str, rid: str | None) -> StartOutcomeUnknownError:
        task_id = self.wreq.task_id or ""
        return StartOutcomeUnknownError(
            f"START may or may not have queued the job ({why}); it was not resent. "
            f"Check AMT before starting it again (TaskId {task_id})",
            task_id=task_id,
            attempts=self.attempts,
            request_id=rid,
        )

    # -- reading
    def decode(self, response: httpx.Response, parse: Callable[..., T]) -> T:
        """Decode and parse a 2xx body; contract breaches become `InvalidResponseError`."""
        answered = self._answered
        if answered is not None and answered[0] is response:
            rid = answered[1]
        else:
            rid = response.headers.get(_wire.H_REQUEST_ID) or self.request_id
        try:
            data = _wire.decode_json(response.content, status_code=response.status_code, request_id=rid)
            return parse(data, status_code=response.status_code, request_id=rid)
        except InvalidResponseError as exc:
            exc.attempts = self.attempts
            exc.response = redacted(response)
            if self.wreq.function == _wire.LOGON:
                exc.body = None  # a Logon answer holds a token
            if self.wreq.kind == "start":
                # The server did answer START: whether it queued the job is unknown.
                raise self._outcome_unknown("the answer did not match the contract", rid) from exc
            raise


def check_token(token: str, call: CallState) -> str:
    """A Logon token must be sendable as a header (visible ASCII); it is never shown."""
    if not (token.isascii() and token.isprintable() and token.strip() == token and token):
        raise InvalidResponseError(
            f"{_wire.LOGON} answer does not match the contract: {_wire.F_TOKEN}: not a usable header value "
            "(visible ASCII expected; the value is not shown)",
            attempts=call.attempts,
            request_id=call.request_id,
        )
    return token


def check_started(result: ActionResult, call: CallState) -> None:
    """A START answer with `BatchRequestId` <= 0: the server did not start the job."""
    if result.batch_request_id <= 0:
        raise JobStartError(
            f"the server did not start the job: {result.message or 'no reason given'}",
            batch_request_id=result.batch_request_id,
            task_id=call.wreq.task_id,
            attempts=call.attempts,
        )
