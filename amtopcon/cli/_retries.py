"""`amtopcon: retrying (n/m): reason` on a terminal's standard error while a call retries.

Built on the client's public `event_hooks`: every attempt (Logons and retries included)
passes the request hook, and every answer the response hook. An attempt that repeats the
one before it (same method, path and body) after that one failed is a retry; a repeat
after a 401 is the call going on after a new Logon, not a retry. The reason is the
failed attempt's HTTP status, or "no answer" when it got none (a connection that failed
or an attempt that timed out: the hooks see no answer either way).

Nothing here shows a secret: the hooks see redacted copies (the token is `***`, a
Logon's body is empty), and a notice names only the function and the status.
"""

from __future__ import annotations

import threading
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import httpx

#: What erases a live status line before a notice is printed (a terminal only).
ERASE = "\r\x1b[K"


class RetryNotice:
    """The request and response hooks that print the notice; `total` is the client's
    `max_retries` (set once the client exists)."""

    def __init__(self, stream: IO[str], total: int = 0) -> None:
        self.stream = stream
        self.total = total
        self._lock = threading.Lock()
        self._key: tuple[str, str, bytes] | None = None
        self._status: int | None = None  # the last attempt's answer (None: none yet)
        self._retries = 0

    def event_hooks(self) -> dict[str, list[Any]]:
        """The `event_hooks=` option of a client."""
        return {"request": [self.on_request], "response": [self.on_response]}

    def on_request(self, request: httpx.Request) -> None:
        """An attempt is about to be sent: a notice when it retries the one before."""
        key = (request.method, request.url.path, bytes(request.content))
        with self._lock:
            previous, status = self._key, self._status
            self._key, self._status = key, None
            failed = status is None or (status >= 300 and status != 401)
            if previous == key and failed and self._retries < self.total:
                self._retries += 1
                n = self._retries
            else:
                self._retries = 0
                return
        function = request.url.path.rsplit("/", 1)[-1] or request.url.path
        self._write(f"retrying ({n}/{self.total}): {function}: {_reason(status)}")

    def on_response(self, response: httpx.Response) -> None:
        """An attempt was answered."""
        with self._lock:
            self._status = response.status_code

    def _write(self, text: str) -> None:
        try:
            self.stream.write(f"{ERASE}amtopcon: {text}\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass


def _reason(status: int | None) -> str:
    if status is None:
        return "no answer (the connection failed or the attempt timed out)"
    from http import HTTPStatus

    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"HTTP {status} {phrase}".rstrip()


def isatty(stream: Any) -> bool:
    """True when `stream` is a terminal (False for anything that cannot say)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False
