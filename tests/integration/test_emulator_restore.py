"""An engine rebuilt over an existing store (what a restarted server does) derives the same state."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from amtopcon import CompletionCode
from amtopcon.testing import Catalog, Emulator, MemoryStore, VirtualClock

C = CompletionCode

JOBS = ["REPORTTEST01", "LONGRUNNINGREPORT", "ERRORTEST01", "WAITFORFILETEST"]
operations = st.lists(
    st.one_of(
        st.tuples(st.just("start"), st.sampled_from(JOBS), st.sampled_from([None, "SERIAL"])),
        st.tuples(st.just("advance"), st.floats(min_value=0, max_value=400, allow_nan=False)),
        st.tuples(st.sampled_from(["STOP", "KILL"]), st.integers(min_value=0, max_value=20)),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(operations)
def test_a_rebuilt_engine_agrees_with_the_live_one(ops: list[tuple[Any, ...]]) -> None:
    store, clock = MemoryStore(), VirtualClock()
    live = Emulator(store=store, clock=clock)
    client = live.client()
    queues: dict[int, str] = {}
    for op in ops:
        if op[0] == "start":
            queue = op[2]
            answer = client.job_action("START", application="DEMO2", job=str(op[1]), queue=queue)
            queues[answer.batch_request_id] = str(queue or "DEFAULT")
        elif op[0] == "advance":
            clock.advance(float(op[1]))
        elif queues:
            ids = sorted(queues)
            brid = ids[int(op[1]) % len(ids)]
            if not live.status(brid).is_terminal:
                client.job_action(str(op[0]), batch_request_id=brid)
        rebuilt = Emulator(store=store, clock=clock)  # derives everything from the store afresh
        for brid in live.batch_request_ids():
            assert rebuilt.status(brid) == live.status(brid)
            assert rebuilt.messages(brid) == live.messages(brid)
        for queue, limit in (("DEFAULT", 4), ("SERIAL", 1)):
            active = [
                b
                for b, q in queues.items()
                if q == queue and not live.status(b).is_terminal and live.status(b).code is not C.QUEUED
            ]
            assert len(active) <= limit


def test_a_job_missing_from_the_new_catalog_ends_in_error() -> None:
    store, clock = MemoryStore(), VirtualClock()
    first = Emulator(store=store, clock=clock)
    first.add_job("TEMP", "GONE", steps=[("hello", 10)])
    brid = first.client().job_action("START", application="TEMP", job="GONE").batch_request_id
    clock.advance(1)
    restarted = Emulator(catalog=Catalog.default(), store=store, clock=clock)
    status = restarted.status(brid)
    assert status.code is C.ERROR and status.description == "Job definition not found"
    assert restarted.client().job_action("START", application="DEMO2", job="REPORTTEST01").batch_request_id == brid + 1
