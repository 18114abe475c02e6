"""Where the emulator keeps what it was told: batch requests, actions, tokens.

Everything else (a job's status, its messages) is derived from these records, the
catalog and the clock. `MemoryStore` keeps them in memory; the served emulator keeps
them in SQLite (`amtopcon.testing._sqlite.SQLiteStore`) so a restart loses nothing.
"""

from __future__ import annotations

import threading
from typing import Final, Protocol, runtime_checkable

import attrs

from amtopcon._text import counted

__all__ = ["FIRST_BATCH_REQUEST_ID", "MemoryStore", "RequestRecord", "Store"]

#: The first BatchRequestId a fresh store hands out (the vendor's example id).
FIRST_BATCH_REQUEST_ID: Final = 2112


@attrs.frozen
class RequestRecord:
    """One accepted START, as the emulator received it.

    `submitted_at` is in clock seconds; `task_values` is a tuple of (name, value) pairs.
    """

    batch_request_id: int
    task_id: str
    application: str
    job: str | None
    file_name: str | None
    run_as: str | None
    submit_user: str
    station: str
    queue: str | None
    parameters: tuple[str, ...]
    task_values: tuple[tuple[str, str], ...]
    submitted_at: float


@runtime_checkable
class Store(Protocol):
    """The emulator's persistent state. Implementations must be thread-safe."""

    def next_batch_request_id(self) -> int:
        """A new BatchRequestId, larger than every one handed out before."""
        ...

    def add_request(self, rec: RequestRecord) -> None:
        """Keep an accepted START."""
        ...

    def get_request(self, batch_request_id: int) -> RequestRecord | None:
        """The START with that id, or None."""
        ...

    def find_by_task_id(self, task_id: str) -> RequestRecord | None:
        """The first START that carried this TaskId, or None."""
        ...

    def requests(self) -> list[RequestRecord]:
        """Every START, ordered by BatchRequestId."""
        ...

    def add_action(self, batch_request_id: int, action: str, at: float) -> None:
        """Record a STOP or KILL received at clock second `at`."""
        ...

    def actions(self, batch_request_id: int) -> list[tuple[str, float]]:
        """The STOP/KILL actions of a request, in the order received."""
        ...

    def add_token(self, token_hash: str, user: str, expires_at: float) -> None:
        """Keep a logon token, by its hash only (never the token itself)."""
        ...

    def get_token(self, token_hash: str) -> tuple[str, float] | None:
        """(user, expires_at) of a token hash, or None."""
        ...

    def expire_tokens(self, now: float) -> None:
        """Make every token expire at `now` at the latest."""
        ...

    def get_meta(self, key: str) -> str | None:
        """A stored setting (e.g. the served clock's origin), or None."""
        ...

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting."""
        ...

    def close(self) -> None:
        """Release what the store holds open."""
        ...


class MemoryStore:
    """A `Store` in memory (the default of an in-process `Emulator`). Thread-safe.

    Args:
        first_id: the first BatchRequestId handed out (default 2112).
    """

    def __init__(self, first_id: int = FIRST_BATCH_REQUEST_ID) -> None:
        self._lock = threading.RLock()
        self._next_id = int(first_id)
        self._requests: dict[int, RequestRecord] = {}
        self._by_task: dict[str, RequestRecord] = {}
        self._actions: dict[int, list[tuple[str, float]]] = {}
        self._tokens: dict[str, tuple[str, float]] = {}
        self._meta: dict[str, str] = {}

    def next_batch_request_id(self) -> int:
        """A new BatchRequestId, larger than every one handed out before."""
        with self._lock:
            value = self._next_id
            self._next_id += 1
            return value

    def add_request(self, rec: RequestRecord) -> None:
        """Keep an accepted START."""
        with self._lock:
            self._requests[rec.batch_request_id] = rec
            self._by_task.setdefault(rec.task_id, rec)
            self._next_id = max(self._next_id, rec.batch_request_id + 1)

    def get_request(self, batch_request_id: int) -> RequestRecord | None:
        """The START with that id, or None."""
        with self._lock:
            return self._requests.get(batch_request_id)

    def find_by_task_id(self, task_id: str) -> RequestRecord | None:
        """The first START that carried this TaskId, or None."""
        with self._lock:
            return self._by_task.get(task_id)

    def requests(self) -> list[RequestRecord]:
        """Every START, ordered by BatchRequestId."""
        with self._lock:
            return [self._requests[k] for k in sorted(self._requests)]

    def add_action(self, batch_request_id: int, action: str, at: float) -> None:
        """Record a STOP or KILL received at clock second `at`."""
        with self._lock:
            self._actions.setdefault(batch_request_id, []).append((action, at))

    def actions(self, batch_request_id: int) -> list[tuple[str, float]]:
        """The STOP/KILL actions of a request, in the order received."""
        with self._lock:
            return list(self._actions.get(batch_request_id, ()))

    def add_token(self, token_hash: str, user: str, expires_at: float) -> None:
        """Keep a logon token, by its hash only."""
        with self._lock:
            self._tokens[token_hash] = (user, expires_at)

    def get_token(self, token_hash: str) -> tuple[str, float] | None:
        """(user, expires_at) of a token hash, or None."""
        with self._lock:
            return self._tokens.get(token_hash)

    def expire_tokens(self, now: float) -> None:
        """Make every token expire at `now` at the latest."""
        with self._lock:
            self._tokens = {h: (user, min(exp, now)) for h, (user, exp) in self._tokens.items()}

    def get_meta(self, key: str) -> str | None:
        """A stored setting, or None."""
        with self._lock:
            return self._meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting."""
        with self._lock:
            self._meta[key] = value

    def close(self) -> None:
        """Nothing to release."""

    def __repr__(self) -> str:
        with self._lock:
            return f"MemoryStore({counted(len(self._requests), 'request')})"
