"""What passes the engine's door: its answers (`EmulatorResponse`, `Drop`) and its records.

The engine (`_engine`) makes these, the doors (`_transport` for in-process clients,
`_server` for the HTTP server) turn them into HTTP; neither door needs the engine itself.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Final

import attrs

from amtopcon import _wire

__all__ = ["Drop", "EmulatorResponse", "RecordedRequest", "mask_body", "mask_headers", "token_hash"]

#: How a recorded body shows a password.
MASK: Final = "***"
#: How a recorded request shows a logon token: this prefix and the first hex digits of its SHA-256.
TOKEN_MASK_PREFIX: Final = "sha256:"
_TOKEN_MASK_DIGITS: Final = 12


@attrs.frozen
class EmulatorResponse:
    """An answer of the engine: HTTP status, headers, JSON body, and an injected delay."""

    status: int
    headers: dict[str, str]
    body: bytes
    delay: float = 0.0

    def json(self) -> Any:
        """The decoded JSON body (None when empty)."""
        return json.loads(self.body) if self.body else None


@attrs.frozen
class Drop:
    """Break the connection instead of answering (fault injection).

    `after_processing`: the request took effect (the door answers nothing); False: it
    never reached the engine (the door refuses the connection).
    """

    after_processing: bool


@attrs.frozen
class RecordedRequest:
    """One request the emulator received.

    Attributes:
        function: the contract function (`OpConJobAction`, ...), the last path segment.
        method: the HTTP method.
        path: the request path.
        query: the query parameters.
        body: the parsed JSON body (None when empty or not JSON); a password is `***`.
        headers: the headers, names lower-cased (see `header()`). The logon token header
            (`X-AMT-LogonToken`) holds `sha256:` and the first 12 hex digits of the token's
            SHA-256, never the token: requests that carried the same token show the same
            value and different tokens different ones, so a test can still tell them apart.
        time: the emulator's clock when it arrived.
        status: the HTTP status answered (None when the connection was dropped).
    """

    function: str
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    time: float
    status: int | None

    def header(self, name: str) -> str | None:
        """A header's value by name (case-insensitive), or None."""
        return self.headers.get(name.lower())

    def __repr__(self) -> str:
        return f"RecordedRequest({self.method} {self.function} -> {self.status} at {self.time:.3f})"


def mask_body(body: Any) -> Any:
    """A parsed body to record: every password (any depth, any case of the key) is `***`."""
    if isinstance(body, dict):
        password = _wire.F_PASSWORD.lower()
        return {k: (MASK if str(k).lower() == password else mask_body(v)) for k, v in body.items()}
    if isinstance(body, list):
        return [mask_body(v) for v in body]
    return body


def token_hash(token: str) -> str:
    """The SHA-256 of a logon token, in hex: what the store keeps and records show the start of."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def mask_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers to record: a logon token becomes a short hash of it (see `RecordedRequest`)."""
    name = _wire.H_TOKEN.lower()
    token = headers.get(name)
    if token is None:
        return headers
    return {**headers, name: TOKEN_MASK_PREFIX + token_hash(token)[:_TOKEN_MASK_DIGITS]}
