"""Back-off, `Retry-After`, and the may-I-retry decision (pure functions, no I/O).

Retries are decided by what may have happened to the request, not by its HTTP verb:
"it never left" (connect error, connect or pool timeout, 429, 503) is kept apart from
"it may have been processed" (read timeout, dropped connection, 500, 502, 504).
"""

from __future__ import annotations

import enum
import random
import ssl
from email.utils import parsedate_to_datetime
from typing import Final

import httpx

__all__ = [
    "MAX_RETRY_AFTER",
    "Failure",
    "backoff_delay",
    "classify_exception",
    "parse_retry_after",
    "retryable",
]

MAX_RETRY_AFTER: Final = 60.0
INITIAL_BACKOFF: Final = 0.5
MAX_BACKOFF: Final = 8.0
RETRY_STATUSES: Final = frozenset({429, 500, 502, 503, 504})
NOT_PROCESSED_STATUSES: Final = frozenset({429, 503})


class Failure(enum.Enum):
    """What an exception from the transport says about the request."""

    NOT_SENT = "not sent"  # connect error, connect or pool timeout: provably never reached the server
    MAYBE_SENT = "maybe sent"  # read/write timeout or a dropped connection: it may have been processed
    FATAL = "fatal"  # retrying cannot help (TLS verification, unsupported protocol, bad URL)


def _tls_failure(exc: BaseException) -> bool:
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
    if isinstance(exc, httpx.ConnectError) and _tls_failure(exc):
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
    cap = min(MAX_BACKOFF, INITIAL_BACKOFF * (2.0 ** max(retry - 1, 0)))
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
