"""`SQLiteStore`: the served emulator's state in one SQLite file, so a restart loses nothing.

The emulator keeps only what it was told (accepted STARTs, STOP/KILL actions, logon
tokens, a few settings such as the served clock's origin) and derives everything else
from them and the clock, so these four tables are all a restarted server needs to show
every job, its messages and its final code as before.

Logon tokens are stored as the hashes the engine hands in, never in the clear. The
file uses SQLite's write-ahead log (readers never wait for the writer, and a killed
process loses no committed write); every write commits at once. One connection is
shared by the server's threads and guarded by a lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from typing import Any, Final

from amtopcon.errors import AmtOpConError
from amtopcon.testing._store import FIRST_BATCH_REQUEST_ID, RequestRecord

__all__ = ["SCHEMA_VERSION", "SQLiteStore", "StoreError"]

#: The layout version written to `PRAGMA user_version`.
SCHEMA_VERSION: Final = 1

_NEXT_ID: Final = "next_batch_request_id"
_MAX_SQL_INT: Final = 2**63 - 1

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS requests (
    batch_request_id INTEGER PRIMARY KEY,
    task_id          TEXT NOT NULL,
    application      TEXT NOT NULL,
    job              TEXT,
    file_name        TEXT,
    run_as           TEXT,
    submit_user      TEXT NOT NULL,
    station          TEXT NOT NULL,
    queue            TEXT,
    parameters       TEXT NOT NULL,  -- JSON list of strings
    task_values      TEXT NOT NULL,  -- JSON list of [name, value]
    submitted_at     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_task_id ON requests (task_id, batch_request_id);
CREATE TABLE IF NOT EXISTS actions (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_request_id INTEGER NOT NULL,
    action           TEXT NOT NULL,
    at               REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS actions_request ON actions (batch_request_id, seq);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY,
    user       TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""

_COLUMNS: Final = (
    "batch_request_id, task_id, application, job, file_name, run_as, submit_user, station, queue, "
    "parameters, task_values, submitted_at"
)


class StoreError(AmtOpConError):
    """The emulator's SQLite file cannot be used (not a database, a newer layout, unwritable).

    Attributes:
        path: the file.
    """

    path: str

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


def _fits(batch_request_id: int) -> bool:
    return 0 <= batch_request_id <= _MAX_SQL_INT


def _record(row: tuple[Any, ...]) -> RequestRecord:
    return RequestRecord(
        batch_request_id=int(row[0]),
        task_id=row[1],
        application=row[2],
        job=row[3],
        file_name=row[4],
        run_as=row[5],
        submit_user=row[6],
        station=row[7],
        queue=row[8],
        parameters=tuple(json.loads(row[9])),
        task_values=tuple((str(name), str(value)) for name, value in json.loads(row[10])),
        submitted_at=float(row[11]),
    )


class SQLiteStore:
    """A `Store` in an SQLite file (`":memory:"` for none). Thread-safe.

    Args:
        path: the database file; created, with its tables, when missing.
        first_id: the first BatchRequestId a new file hands out (default 2112).

    Raises:
        StoreError: the file is not an emulator database this version can use.
    """

    def __init__(self, path: str | os.PathLike[str], first_id: int = FIRST_BATCH_REQUEST_ID) -> None:
        self.path = os.fspath(path)
        self._lock = threading.RLock()
        try:
            # Autocommit (isolation_level=None): every write is durable when the call returns;
            # multi-statement updates use explicit BEGIN IMMEDIATE ... COMMIT.
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10.0)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the emulator database {self.path!r}: {exc}", path=self.path) from None
        try:
            self._setup(int(first_id))
        except sqlite3.Error as exc:
            self._db.close()
            raise StoreError(f"cannot use {self.path!r} as the emulator database: {exc}", path=self.path) from None
        except StoreError:
            self._db.close()
            raise
        self._closed = False

    def _setup(self, first_id: int) -> None:
        db = self._db
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path!r} was written by a newer amtopcon (layout {version}, this one reads {SCHEMA_VERSION})",
                path=self.path,
            )
        if self.path != ":memory:" and not self.path.startswith("file::memory:"):
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across a killed process
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (_NEXT_ID, str(first_id)))
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # ------------------------------------------------------------------ requests

    def next_batch_request_id(self) -> int:
        """A new BatchRequestId, larger than every one handed out before (also after a restart)."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                value = int(db.execute("SELECT value FROM meta WHERE key = ?", (_NEXT_ID,)).fetchone()[0])
                db.execute("UPDATE meta SET value = ? WHERE key = ?", (str(value + 1), _NEXT_ID))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return value

    def add_request(self, rec: RequestRecord) -> None:
        """Keep an accepted START (replacing one with the same id)."""
        row = (
            rec.batch_request_id,
            rec.task_id,
            rec.application,
            rec.job,
            rec.file_name,
            rec.run_as,
            rec.submit_user,
            rec.station,
            rec.queue,
            json.dumps(list(rec.parameters)),
            json.dumps([list(pair) for pair in rec.task_values]),
            rec.submitted_at,
        )
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(f"INSERT OR REPLACE INTO requests ({_COLUMNS}) VALUES ({', '.join('?' * 12)})", row)
                db.execute(
                    "UPDATE meta SET value = ? WHERE key = ? AND CAST(value AS INTEGER) <= ?",
                    (str(rec.batch_request_id + 1), _NEXT_ID, rec.batch_request_id),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def get_request(self, batch_request_id: int) -> RequestRecord | None:
        """The START with that id, or None."""
        if not _fits(batch_request_id):
            return None
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM requests WHERE batch_request_id = ?", (batch_request_id,)
            ).fetchone()
        return None if row is None else _record(row)

    def find_by_task_id(self, task_id: str) -> RequestRecord | None:
        """The first START that carried this TaskId, or None."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM requests WHERE task_id = ? ORDER BY batch_request_id LIMIT 1", (task_id,)
            ).fetchone()
        return None if row is None else _record(row)

    def requests(self) -> list[RequestRecord]:
        """Every START, ordered by BatchRequestId."""
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM requests ORDER BY batch_request_id").fetchall()
        return [_record(row) for row in rows]

    # ------------------------------------------------------------------ actions

    def add_action(self, batch_request_id: int, action: str, at: float) -> None:
        """Record a STOP or KILL received at clock second `at`."""
        with self._lock:
            self._db.execute(
                "INSERT INTO actions (batch_request_id, action, at) VALUES (?, ?, ?)", (batch_request_id, action, at)
            )

    def actions(self, batch_request_id: int) -> list[tuple[str, float]]:
        """The STOP/KILL actions of a request, in the order received."""
        if not _fits(batch_request_id):
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT action, at FROM actions WHERE batch_request_id = ? ORDER BY seq", (batch_request_id,)
            ).fetchall()
        return [(str(action), float(at)) for action, at in rows]

    # ------------------------------------------------------------------ tokens

    def add_token(self, token_hash: str, user: str, expires_at: float) -> None:
        """Keep a logon token by its hash (the caller hashes; the token itself is never stored)."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO tokens (token_hash, user, expires_at) VALUES (?, ?, ?)",
                (token_hash, user, expires_at),
            )

    def get_token(self, token_hash: str) -> tuple[str, float] | None:
        """(user, expires_at) of a token hash, or None."""
        with self._lock:
            row = self._db.execute("SELECT user, expires_at FROM tokens WHERE token_hash = ?", (token_hash,)).fetchone()
        return None if row is None else (str(row[0]), float(row[1]))

    def expire_tokens(self, now: float) -> None:
        """Make every token expire at `now` at the latest."""
        with self._lock:
            self._db.execute("UPDATE tokens SET expires_at = ? WHERE expires_at > ?", (now, now))

    # ------------------------------------------------------------------ meta

    def get_meta(self, key: str) -> str | None:
        """A stored setting (e.g. the served clock's origin), or None."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def close(self) -> None:
        """Checkpoint the write-ahead log and close the file (a second call does nothing)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            with contextlib.suppress(sqlite3.Error):  # best effort; the WAL is replayed on the next open
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"
