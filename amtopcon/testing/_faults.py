"""Fault injection: make the emulator fail, delay or drop the next calls of a function."""

from __future__ import annotations

import threading
from collections import deque
from typing import Final

import attrs

from amtopcon import _validate, _wire
from amtopcon._wire.names import FunctionName
from amtopcon.errors import ValidationError

__all__ = ["Fault", "Faults", "FunctionName"]

#: The contract's ErrorCode for each HTTP status a test may inject.
ERROR_CODES: Final = {
    400: _wire.E_INVALID_REQUEST,
    401: _wire.E_AUTHENTICATION_FAILED,
    403: _wire.E_NOT_AUTHORIZED,
    404: _wire.E_BATCH_REQUEST_NOT_FOUND,
    409: _wire.E_ACTION_NOT_ALLOWED,
    429: _wire.E_TOO_MANY_REQUESTS,
    503: _wire.E_SERVER_BUSY,
}


def error_code_for(status: int, function: str) -> str:
    """The ErrorCode an injected failure answers with (per the contract's status table)."""
    if status == 404 and function == _wire.JOB_ACTION:
        return _wire.E_JOB_NOT_FOUND
    if status in ERROR_CODES:
        return ERROR_CODES[status]
    return _wire.E_INTERNAL_ERROR if status >= 500 else _wire.E_INVALID_REQUEST


@attrs.frozen
class Fault:
    """One injected fault, consumed by the next call(s) of `function`.

    `kind` is "fail" (answer `status` unprocessed), "delay" (answer after `seconds`) or
    "drop" (break the connection, before or after processing the request).
    """

    function: str
    kind: str
    status: int = 0
    retry_after: float | str | None = None
    seconds: float = 0.0
    after_processing: bool = True


class Faults:
    """The faults waiting for the next calls, per function, first in first out.

    Function names are the contract's: `Logon`, `HeartBeat`, `OpConJobAction`,
    `MonitorJob`, `GetMessages` (the `amtopcon._wire` constants). A bad argument (an
    unknown function, a status that is not an HTTP error, negative seconds, `times` < 1)
    raises `amtopcon.errors.ValidationError` naming it in `.field`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, deque[Fault]] = {}

    @staticmethod
    def _function(function: str) -> str:
        if not isinstance(function, str) or function not in _wire.FUNCTIONS:
            raise ValidationError(
                f"function: expected one of {', '.join(_wire.FUNCTIONS)}, got {function!r}", field="function"
            )
        return function

    def _add(self, fault: Fault, times: int = 1) -> None:
        times = _validate.integer(times, "times", minimum=1)
        with self._lock:
            queue = self._pending.setdefault(fault.function, deque())
            queue.extend([fault] * times)

    def fail_next(
        self, function: FunctionName, status: int, times: int = 1, retry_after: float | str | None = None
    ) -> None:
        """Answer the next `times` calls of `function` with HTTP `status`, without processing them.

        The body is the contract's error shape with the ErrorCode of that status
        (503 `SERVER_BUSY`, 429 `TOO_MANY_REQUESTS`, 500 `INTERNAL_ERROR`, ...);
        `retry_after` (seconds or an HTTP date) is sent as `Retry-After`.
        """
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise ValidationError(f"status: expected an HTTP error status (400-599), got {status!r}", field="status")
        if isinstance(retry_after, str):  # sent as given (a test may send a malformed one on purpose) ...
            if "\r" in retry_after or "\n" in retry_after:  # ... but it must fit in a header
                raise ValidationError(
                    f"retry_after: a header value has no line breaks, got {retry_after!r}", field="retry_after"
                )
        elif retry_after is not None:
            _validate.seconds(retry_after, "retry_after")
        self._add(Fault(self._function(function), "fail", status=status, retry_after=retry_after), times)

    def delay_next(self, function: FunctionName, seconds: float) -> None:
        """Answer the next call of `function` after `seconds` (on the emulator's clock).

        In process, a delay longer than the client's read timeout becomes a read timeout
        (the request was processed, the answer never arrived).
        """
        seconds = _validate.seconds(seconds, "seconds")
        self._add(Fault(self._function(function), "delay", seconds=seconds))

    def drop_next(self, function: FunctionName, after_processing: bool = True) -> None:
        """Break the connection on the next call of `function`.

        `after_processing=True`: the request takes effect but no answer comes back (a
        START may have queued the job); False: it never reaches the emulator.
        """
        self._add(Fault(self._function(function), "drop", after_processing=bool(after_processing)))

    def take(self, function: str) -> Fault | None:
        """Remove and return the next fault for a call of `function` (None: no fault)."""
        with self._lock:
            queue = self._pending.get(function)
            if not queue:
                return None
            return queue.popleft()

    def pending(self) -> list[Fault]:
        """The faults still waiting, in the order they will be used per function."""
        with self._lock:
            return [f for q in self._pending.values() for f in q]

    def clear(self) -> None:
        """Forget every pending fault."""
        with self._lock:
            self._pending.clear()

    def __repr__(self) -> str:
        return f"Faults({len(self.pending())} pending)"
