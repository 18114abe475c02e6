"""The emulator's pure scheduler, by table: script + STARTs + actions + time -> status and messages.

No HTTP, no tokens, no faults, no clock: `Scheduler` is fed `Submission`s and STOP/KILL
actions and asked what MonitorJob and GetMessages would answer at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from amtopcon.models import CompletionCode
from amtopcon.testing import Catalog, JobScript, Step
from amtopcon.testing._scheduler import FILE_NOT_FOUND, Immediate, Scheduler, Submission, resolve
from amtopcon.testing._store import RequestRecord

C = CompletionCode
EPOCH = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)

#: 25 s: a message at 0 (RUNNING 10 s), at 10 (WAIT_FOR_FILE 10 s), at 20 (RUNNING 5 s), then DONE.
SCRIPT = JobScript(
    "JOB",
    (Step("begin", 10.0), Step("wait for file", 10.0, C.WAIT_FOR_FILE), Step("finish {param[0]}", 5.0)),
    C.DONE,
)
ALL = ["begin", "wait for file", "finish X"]


def submission(brid: int, at: float = 0.0, *, queue: str = "Q", task_id: str | None = None) -> Submission:
    return Submission(brid, task_id or f"task-{brid}", "APP", "JOB", queue, at, SCRIPT, values={"param": ["X"]})


@attrs.frozen
class Case:
    """Jobs 1..n START at `starts` in one queue of `slots`; `actions` (id, action, at); asked about `ask` at `t`."""

    name: str
    t: float
    code: CompletionCode
    messages: Sequence[str]
    starts: Sequence[float] = (0.0,)
    actions: Sequence[tuple[int, str, float]] = ()
    slots: int = 1
    ask: int = 1
    description: str | None = None


CASES = [
    # one job, no action: the script's steps in time
    Case("starts running at submission", 0, C.RUNNING, ["begin"]),
    Case("a step's state shows while it lasts", 12, C.WAIT_FOR_FILE, ["begin", "wait for file"]),
    Case("the last step runs", 24.9, C.RUNNING, ALL),
    Case("ends with the script's final code", 25, C.DONE, ALL),
    Case("a late START starts late", 4, C.RUNNING, ["begin"], starts=(3.0,)),
    # STOP ends at the next step boundary, KILL at once
    Case("STOP lets the step finish", 9.9, C.RUNNING, ["begin"], actions=[(1, "STOP", 3)]),
    Case(
        "STOP ends at the step boundary",
        10,
        C.ABORTED,
        ["begin"],
        actions=[(1, "STOP", 3)],
        description="Stopped by STOP",
    ),
    Case(
        "STOP in the last step: the job ends as its script says",
        25,
        C.DONE,
        ALL,
        actions=[(1, "STOP", 21)],
    ),
    Case("KILL ends at once", 3, C.KILLED, ["begin"], actions=[(1, "KILL", 3)], description="Killed by KILL"),
    Case("KILL at a step start keeps its message", 10, C.KILLED, ["begin", "wait for file"], actions=[(1, "KILL", 10)]),
    Case(
        "KILL while a STOP waits for the step boundary ends at once",
        30,
        C.KILLED,
        ["begin"],
        actions=[(1, "STOP", 3), (1, "KILL", 5)],
        description="Killed by KILL",
    ),
    Case("STOP after STOP: the first boundary", 30, C.ABORTED, ["begin"], actions=[(1, "STOP", 3), (1, "STOP", 5)]),
    Case("an action after the end changes nothing", 40, C.DONE, ALL, actions=[(1, "KILL", 30)]),
    # a queue of one slot: first come, first served
    Case("the second job waits for the slot", 20, C.QUEUED, [], starts=(0.0, 5.0), ask=2),
    Case("it starts when the slot frees", 25, C.RUNNING, ["begin"], starts=(0.0, 5.0), ask=2),
    Case("and ends a script later", 50, C.DONE, ALL, starts=(0.0, 5.0), ask=2),
    Case("two slots: both run at once", 6, C.RUNNING, ["begin"], starts=(0.0, 5.0), slots=2, ask=2),
    Case(
        "a KILL of the first frees the slot",
        8,
        C.RUNNING,
        ["begin"],
        starts=(0.0, 5.0),
        actions=[(1, "KILL", 6)],
        ask=2,
    ),
    Case(
        "STOP of a queued job removes it",
        7,
        C.DEL_QUEUE,
        [],
        starts=(0.0, 5.0),
        actions=[(2, "STOP", 7)],
        ask=2,
        description="Removed from the queue by STOP",
    ),
    Case(
        "KILL of a queued job",
        7,
        C.KILLED,
        [],
        starts=(0.0, 5.0),
        actions=[(2, "KILL", 7)],
        ask=2,
        description="Killed by KILL while queued",
    ),
    Case(
        "a removed job leaves its slot to the next",
        26,
        C.RUNNING,
        ["begin"],
        starts=(0.0, 5.0, 6.0),
        actions=[(2, "STOP", 7)],
        ask=3,
    ),
    Case("the job before a removed one is untouched", 25, C.DONE, ALL, starts=(0.0, 5.0), actions=[(2, "STOP", 7)]),
]


def scheduled(case: Case) -> Scheduler:
    scheduler = Scheduler(lambda queue: case.slots, EPOCH)
    for brid, at in enumerate(case.starts, start=1):
        scheduler.submit(submission(brid, at))
    for brid, action, at in case.actions:
        if scheduler.ended(brid, at) is None:  # as the engine: no action on an ended job
            scheduler.act(brid, action, at)
    return scheduler


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_status_and_messages_at_a_time(case: Case) -> None:
    scheduler = scheduled(case)
    status = scheduler.status(case.ask, case.t)
    messages, has_more = scheduler.messages(case.ask, case.t)
    assert status.code is case.code
    assert [m.text for m in messages] == list(case.messages)
    assert [m.sequence for m in messages] == list(range(1, len(messages) + 1))
    assert has_more is False
    if case.description is not None:
        assert status.description == case.description
    assert (scheduler.ended(case.ask, case.t) is not None) == status.is_terminal


def test_timestamps_follow_the_epoch_and_the_start() -> None:
    scheduler = Scheduler(lambda queue: 1, EPOCH)
    scheduler.submit(submission(1, 0.0))
    scheduler.submit(submission(2, 5.0))  # waits until 25
    status = scheduler.status(2, 60)
    assert status.submitted_at == EPOCH + timedelta(seconds=5)
    assert status.started_at == EPOCH + timedelta(seconds=25)
    assert status.ended_at == EPOCH + timedelta(seconds=50)
    messages, _ = scheduler.messages(2, 60)
    assert [m.timestamp for m in messages] == [EPOCH + timedelta(seconds=s) for s in (25, 35, 45)]
    queued = scheduler.status(2, 10)
    assert queued.started_at is None and queued.ended_at is None


@pytest.mark.parametrize(
    ("after", "limit", "texts", "has_more"),
    [
        (0, 1, ["begin"], True),
        (1, 1, ["wait for file"], True),
        (1, 5, ["wait for file", "finish X"], False),
        (2, None, ["finish X"], False),
        (3, 2, [], False),
        (9, 2, [], False),  # past the end: nothing, nothing more
    ],
)
def test_pages_of_messages(after: int, limit: int | None, texts: list[str], has_more: bool) -> None:
    scheduler = Scheduler(lambda queue: 1, EPOCH)
    scheduler.submit(submission(1))
    page, more = scheduler.messages(1, 30, after, limit)
    assert [m.text for m in page] == texts
    assert [m.sequence for m in page] == list(range(after + 1, after + 1 + len(texts)))
    assert more is has_more


def test_a_page_says_more_only_of_messages_written_by_then() -> None:
    scheduler = Scheduler(lambda queue: 1, EPOCH)
    scheduler.submit(submission(1))
    assert scheduler.messages(1, 12, 0, 1) == (scheduler.messages(1, 12, 0, 1)[0], True)
    page, more = scheduler.messages(1, 12, 1, 5)
    assert [m.text for m in page] == ["wait for file"] and more is False  # "finish" comes at 20


def test_a_task_id_finds_its_first_start() -> None:
    scheduler = Scheduler(lambda queue: 1, EPOCH)
    assert scheduler.find("T") is None
    scheduler.submit(submission(7, task_id="T"))
    scheduler.submit(submission(8, task_id="T"))  # a second START with it (the engine never makes one)
    assert scheduler.find("T") == 7
    assert scheduler.ids() == [7, 8] and 7 in scheduler and 9 not in scheduler and len(scheduler) == 2


def test_an_immediate_end_at_submission() -> None:
    scheduler = Scheduler(lambda queue: 1, EPOCH)
    immediate = Immediate(C.INVALID_AMT_USER, "RunAs user 'x' is not an AMT user", "not started")
    scheduler.submit(attrs.evolve(submission(1, 4.0), script=None, immediate=immediate))
    scheduler.submit(submission(2, 4.0))  # takes no slot from it
    status = scheduler.status(1, 4.0)
    assert status.code is C.INVALID_AMT_USER and status.description == immediate.description
    assert status.started_at is None and status.ended_at == EPOCH + timedelta(seconds=4)
    messages, _ = scheduler.messages(1, 4.0)
    assert [(m.text, m.severity) for m in messages] == [("not started", "ERROR")]
    assert scheduler.status(2, 4.0).code is C.RUNNING


def test_restored_starts_in_any_order_keep_their_queue_order() -> None:
    scheduler = Scheduler(lambda queue: 1, EPOCH)
    scheduler.submit(submission(2, 5.0), restored=True)
    scheduler.submit(submission(1, 0.0), [("KILL", 6.0)], restored=True)
    assert scheduler.status(1, 6).code is C.KILLED
    assert scheduler.status(2, 7).code is C.RUNNING  # started at 6, when 1 was killed


def test_a_changed_concurrency_reschedules_the_queue() -> None:
    slots = {"Q": 1}
    scheduler = Scheduler(lambda queue: slots[queue], EPOCH)
    scheduler.submit(submission(1))
    scheduler.submit(submission(2))
    assert scheduler.status(2, 1).code is C.QUEUED
    slots["Q"] = 2
    assert scheduler.status(2, 1).code is C.RUNNING


def test_queues_do_not_share_slots() -> None:
    scheduler = Scheduler(lambda queue: 1, EPOCH)
    scheduler.submit(submission(1, queue="A"))
    scheduler.submit(submission(2, queue="B"))
    assert scheduler.status(2, 1).code is C.RUNNING


# --------------------------------------------------------------------------- resolve: a stored START


def record(**changes: object) -> RequestRecord:
    rec = RequestRecord(
        batch_request_id=2112,
        task_id="T",
        application="DEMO2",
        job="REPORTTEST01",
        file_name=None,
        run_as=None,
        submit_user="ocadm",
        station="S",
        queue=None,
        parameters=("P",),
        task_values=(),
        submitted_at=0.0,
    )
    return attrs.evolve(rec, **changes)


def test_resolve_a_catalog_job() -> None:
    catalog = Catalog.default()
    sub = resolve(catalog, record())
    assert sub.script == catalog.job("DEMO2", "REPORTTEST01")
    assert sub.job_name == "REPORTTEST01" and sub.immediate is None
    assert sub.queue == catalog.queue_of("DEMO2", None)


@pytest.mark.parametrize(
    ("changes", "code", "description"),
    [
        ({"run_as": "nobody-here"}, C.INVALID_AMT_USER, "RunAs user 'nobody-here' is not an AMT user"),
        ({"job": None, "file_name": "C:\\Scripts\\MISSING.ps1"}, C.ERROR, FILE_NOT_FOUND),
        ({"job": "GONE"}, C.ERROR, "Job definition not found"),
    ],
)
def test_resolve_what_cannot_run(changes: dict[str, object], code: CompletionCode, description: str) -> None:
    sub = resolve(Catalog.default(), record(**changes))
    scheduler = Scheduler(lambda queue: 1, EPOCH)
    scheduler.submit(sub)
    status = scheduler.status(2112, 3600)
    assert (status.code, status.description) == (code, description)
    messages, _ = scheduler.messages(2112, 3600)
    assert messages and all(m.severity == "ERROR" for m in messages)
