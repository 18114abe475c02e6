"""SQLiteStore keeps the served emulator's state like MemoryStore does, and keeps it across a restart."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from amtopcon.testing._sqlite import SCHEMA_VERSION, SQLiteStore, StoreError
from amtopcon.testing._store import FIRST_BATCH_REQUEST_ID, MemoryStore, RequestRecord, Store


def _rec(brid: int, task_id: str = "t", **changes: object) -> RequestRecord:
    fields: dict[str, object] = {
        "batch_request_id": brid,
        "task_id": task_id,
        "application": "DEMO2",
        "job": "RUN_PARAMETERTESTA",
        "file_name": None,
        "run_as": None,
        "submit_user": "BATCH",
        "station": "OPCON",
        "queue": None,
        "parameters": ("'PARAM'", "A=B"),
        "task_values": (("PRIORITY", "5"), ("É", "ü 😀")),
        "submitted_at": 12.5,
    }
    fields.update(changes)
    return RequestRecord(**fields)  # type: ignore[arg-type]


@pytest.fixture(params=["memory", "sqlite-file", "sqlite-in-memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store
    if request.param == "memory":
        made = MemoryStore()
    elif request.param == "sqlite-file":
        made = SQLiteStore(tmp_path / "emu.sqlite")
    else:
        made = SQLiteStore(":memory:")
    yield made
    made.close()


# --------------------------------------------------------------------------- the protocol, both stores


def test_is_a_store(store: Store) -> None:
    assert isinstance(store, Store)


def test_ids_start_at_2112_and_increase(store: Store) -> None:
    ids = [store.next_batch_request_id() for _ in range(3)]
    assert ids == [FIRST_BATCH_REQUEST_ID, FIRST_BATCH_REQUEST_ID + 1, FIRST_BATCH_REQUEST_ID + 2]


def test_a_request_comes_back_as_it_went_in(store: Store) -> None:
    rec = _rec(store.next_batch_request_id(), file_name="C:\\jobs\\x.ps1", run_as="ALICE", queue="Q1")
    store.add_request(rec)
    assert store.get_request(rec.batch_request_id) == rec
    assert store.get_request(999) is None
    assert store.requests() == [rec]


def test_an_added_request_pushes_the_next_id_past_it(store: Store) -> None:
    store.add_request(_rec(5000))
    assert store.next_batch_request_id() == 5001


def test_requests_are_ordered_by_id(store: Store) -> None:
    for brid in (2114, 2112, 2113):
        store.add_request(_rec(brid, task_id=f"t{brid}"))
    assert [r.batch_request_id for r in store.requests()] == [2112, 2113, 2114]


def test_find_by_task_id_answers_the_first_start(store: Store) -> None:
    store.add_request(_rec(2112, task_id="same"))
    store.add_request(_rec(2113, task_id="same"))
    found = store.find_by_task_id("same")
    assert found is not None and found.batch_request_id == 2112
    assert store.find_by_task_id("other") is None


def test_actions_keep_their_order_per_request(store: Store) -> None:
    store.add_action(2112, "STOP", 3.0)
    store.add_action(2113, "KILL", 4.0)
    store.add_action(2112, "KILL", 5.5)
    assert store.actions(2112) == [("STOP", 3.0), ("KILL", 5.5)]
    assert store.actions(2113) == [("KILL", 4.0)]
    assert store.actions(7) == []


def test_tokens_and_their_expiry(store: Store) -> None:
    store.add_token("h1", "ocadm", 100.0)
    store.add_token("h2", "other", 10.0)
    assert store.get_token("h1") == ("ocadm", 100.0)
    assert store.get_token("nope") is None
    store.expire_tokens(50.0)
    assert store.get_token("h1") == ("ocadm", 50.0)
    assert store.get_token("h2") == ("other", 10.0)  # already earlier: unchanged


def test_meta(store: Store) -> None:
    assert store.get_meta("clock.origin") is None
    store.set_meta("clock.origin", "1.5")
    store.set_meta("clock.origin", "2.5")
    assert store.get_meta("clock.origin") == "2.5"


def test_ids_beyond_64_bits_are_simply_unknown(store: Store) -> None:
    assert store.get_request(2**80) is None
    assert store.actions(2**80) == []


def test_ids_are_unique_under_threads(store: Store) -> None:
    seen: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        mine = [store.next_batch_request_id() for _ in range(40)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=take) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(seen) == list(range(FIRST_BATCH_REQUEST_ID, FIRST_BATCH_REQUEST_ID + 240))


# --------------------------------------------------------------------------- SQLite only


def test_everything_survives_closing_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "emu.sqlite"
    with SQLiteStore(path) as first:
        rec = _rec(first.next_batch_request_id(), task_id="abc")
        first.add_request(rec)
        first.add_action(rec.batch_request_id, "STOP", 7.25)
        first.add_token("hash", "ocadm", 3600.0)
        first.set_meta("clock.origin", "1700000000.5")
    with SQLiteStore(path) as again:
        assert again.requests() == [rec]
        assert again.find_by_task_id("abc") == rec
        assert again.actions(rec.batch_request_id) == [("STOP", 7.25)]
        assert again.get_token("hash") == ("ocadm", 3600.0)
        assert again.get_meta("clock.origin") == "1700000000.5"
        assert again.next_batch_request_id() == rec.batch_request_id + 1


def test_writes_are_visible_to_another_connection_before_close(tmp_path: Path) -> None:
    # A killed server loses nothing it answered: each write is committed when the call returns.
    path = tmp_path / "emu.sqlite"
    store = SQLiteStore(path)
    try:
        store.add_request(_rec(2112))
        other = sqlite3.connect(path)
        try:
            assert other.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == 1
            assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            other.close()
    finally:
        store.close()


def test_first_id_is_only_the_start_of_a_new_file(tmp_path: Path) -> None:
    path = tmp_path / "emu.sqlite"
    with SQLiteStore(path, first_id=10) as store:
        assert store.next_batch_request_id() == 10
    with SQLiteStore(path, first_id=10) as store:
        assert store.next_batch_request_id() == 11


def test_a_file_that_is_not_a_database_is_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "emu.sqlite"
    path.write_bytes(b"this is not an SQLite database, just some text " * 40)
    with pytest.raises(StoreError) as info:
        SQLiteStore(path)
    assert info.value.path == str(path)
    assert "emu.sqlite" in str(info.value)


def test_a_newer_layout_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "emu.sqlite"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer"):
        SQLiteStore(path)


def test_close_twice_is_fine_and_leaves_no_wal_behind(tmp_path: Path) -> None:
    path = tmp_path / "emu.sqlite"
    store = SQLiteStore(path)
    store.add_request(_rec(2112))
    store.close()
    store.close()
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    assert "emu.sqlite" in repr(store)
