"""Job handles against a scripted fake server on a virtual clock: both twins, every point of issue 4.

Each test runs twice, once through `JobHandle` (sync client) and once through
`AsyncJobHandle` (async client), via the drivers of `test_jobs_support`. The decisions of
a wait or a follow alone (schedule, on_status, outages, Retry-After, the deadline, pages)
are table rows in tests/core/test_watch_table.py; here, what only the loops show.
"""

from __future__ import annotations

import logging
import pickle
from typing import Any

import httpx
import pytest

from amtopcon import CompletionCode, JobResult, JobStatus, PollPolicy, _wire
from amtopcon.errors import (
    InternalServerError,
    InvalidResponseError,
    JobFailedError,
    ValidationError,
    WaitTimeoutError,
)
from amtopcon.jobs import AsyncJobHandle, JobHandle
from amtopcon.models import Message, TaskValue
from tests._fake import ScriptedServer
from tests.unit.test_jobs_support import EXACT, PASSWORD, TOKEN, AsyncDriver, SyncDriver, amt

pytestmark = pytest.mark.anyio

HOUR = 3600.0


@pytest.fixture
def fake() -> ScriptedServer:
    return amt()


@pytest.fixture(params=["sync", "async"])
def make(request: pytest.FixtureRequest, fake: ScriptedServer) -> Any:
    """`make(**client_kwargs)` -> a driver of the twin under test."""
    cls = SyncDriver if request.param == "sync" else AsyncDriver

    def factory(**kwargs: Any) -> SyncDriver:
        kwargs.setdefault("poll", EXACT)
        return cls(fake, **kwargs)

    return factory


def monitor_times(fake: ScriptedServer) -> list[float]:
    return [c.at for c in fake.calls_of(_wire.MONITOR_JOB)]


# --------------------------------------------------------------------------- start, job, run


async def test_start_sends_every_option_and_returns_a_handle(make: Any, fake: ScriptedServer) -> None:
    d = make()
    task_id = "8d3c7a4e-0f5e-4a53-9a43-1b2f1f0c9e11"
    h = await d.start(
        "DEMO2",
        "REPORTTEST01",
        parameters=["'PARAM'", "A=B"],
        task_values={"PRIORITY": "5"},
        run_as="RUNNER",
        file_name=None,
        submit_user="ME",
        station="HERE",
        queue="FAST",
        task_id=task_id,
    )
    assert isinstance(h, (JobHandle, AsyncJobHandle))
    assert h.batch_request_id == 2112
    assert h.last_sequence == 0
    assert h.last_status is not None and h.last_status.code is CompletionCode.QUEUED
    [start] = fake.actions("START")
    assert start.body == {
        _wire.F_ACTION: "START",
        _wire.F_TASK_ID: task_id,
        _wire.F_APPLICATION: "DEMO2",
        _wire.F_JOB_NAME: "REPORTTEST01",
        _wire.F_FILE_NAME: None,
        _wire.F_RUN_AS: "RUNNER",
        _wire.F_SUBMIT_USER: "ME",
        _wire.F_STATION: "HERE",
        _wire.F_QUEUE: "FAST",
        _wire.F_PARAMETERS: ["'PARAM'", "A=B"],
        _wire.F_TASK_VALUES: [{_wire.F_NAME: "PRIORITY", _wire.F_VALUE: "5"}],
    }
    # Nothing else was called: the START answer is enough to hold the job.
    assert {c.function for c in fake.log} == {_wire.LOGON, _wire.JOB_ACTION}


async def test_start_defaults_and_task_value_sequence(make: Any, fake: ScriptedServer) -> None:
    d = make()
    await d.start("DEMO2", "REPORTTEST01", task_values=[TaskValue("A", "1")])
    body = fake.actions("START")[0].body
    assert body[_wire.F_SUBMIT_USER] == "BATCH" and body[_wire.F_STATION] == "OPCON"
    assert body[_wire.F_QUEUE] is None and body[_wire.F_PARAMETERS] == []
    assert body[_wire.F_TASK_VALUES] == [{_wire.F_NAME: "A", _wire.F_VALUE: "1"}]


async def test_start_validates_before_sending(make: Any, fake: ScriptedServer) -> None:
    d = make()
    with pytest.raises(ValidationError) as err:
        await d.start("DEMO2", None)
    assert err.value.field == "job"
    assert fake.log == []


async def test_job_reattaches_with_no_call(make: Any, fake: ScriptedServer) -> None:
    d = make()
    h = d.job(2112, after=7)
    assert (h.batch_request_id, h.last_sequence, h.last_status) == (2112, 7, None)
    assert fake.log == []
    assert d.job("2113").batch_request_id == 2113  # a string of digits, as the wire accepts
    for bad in (0, -1, "x", True):
        with pytest.raises(ValidationError):
            d.job(bad)
    with pytest.raises(ValidationError) as err:
        d.job(1, after=-1)
    assert err.value.field == "after"


async def test_reattached_handle_waits_and_follows_on_where_it_stopped(make: Any, fake: ScriptedServer) -> None:
    d = make()
    brid = (await d.start("DEMO2", "REPORTTEST01")).batch_request_id
    again = d.job(brid, after=1)
    rest = await d.follow(again)
    assert [m.sequence for m in rest] == [2, 3]
    result = await d.call(d.job(brid), "wait")
    assert result.code is CompletionCode.DONE and len(result.messages) == 3


async def test_run_is_start_plus_wait_with_no_deadline(make: Any, fake: ScriptedServer) -> None:
    fake.script("NIGHTLY", [(0, 1), (5, 2), (2 * HOUR, 4)], [(6, "begin"), (2 * HOUR, "end")])
    d = make(poll=PollPolicy())  # the default policy, jitter included
    seen: list[JobStatus] = []
    result = await d.run("DEMO2", "NIGHTLY", parameters=["X"], on_status=seen.append)
    assert isinstance(result, JobResult)
    assert result.succeeded and result.exit_code == 4
    assert [m.text for m in result.messages] == ["begin", "end"]
    assert [s.code for s in seen] == [CompletionCode.QUEUED, CompletionCode.RUNNING, CompletionCode.DONE]
    assert fake.clock.now() >= 2 * HOUR  # far beyond any hidden default deadline
    assert fake.actions("START")[0].body[_wire.F_PARAMETERS] == ["X"]


# --------------------------------------------------------------------------- wait


async def test_wait_returns_the_result_with_every_message(make: Any, fake: ScriptedServer) -> None:
    d = make()
    h = await d.start("DEMO2", "REPORTTEST01")
    result = await d.call(h, "wait")
    assert result.code is CompletionCode.DONE and result.succeeded
    assert [m.text for m in result.messages] == [
        "Report test 01 is started",
        "Report execution time: 00:00:30:229",
        "Done",
    ]
    assert [m.sequence for m in result.messages] == [1, 2, 3]
    assert result.duration is not None and result.duration.total_seconds() == 29
    assert result.status.application == "DEMO2" and result.status.job_name == "REPORTTEST01"
    assert h.last_status == result.status and h.ended
    assert h.last_sequence == 3
    assert result.raise_for_code() is result
    # Messages are read once, after the end, not at every poll.
    assert len(fake.calls_of(_wire.GET_MESSAGES)) == 1


async def test_wait_uses_the_clients_policy_unless_one_is_given(make: Any, fake: ScriptedServer) -> None:
    fake.script("LONG", [(0, 2), (60, 4)])
    d = make(poll=PollPolicy.fixed(10, 5))
    h = await d.start("DEMO2", "LONG")
    await d.call(h, "wait")
    assert monitor_times(fake)[:3] == [10, 15, 20]
    fake.log.clear()
    start = fake.clock.now()
    await d.call(d.job(h.batch_request_id), "wait", poll=PollPolicy.fixed(2, 3))
    assert [t - start for t in monitor_times(fake)] == [2]


async def test_a_handle_known_to_have_ended_checks_at_once(make: Any, fake: ScriptedServer) -> None:
    d = make()
    h = await d.start("DEMO2", "REPORTTEST01")
    await d.call(h, "wait")
    before = fake.clock.now()
    again = await d.call(h, "wait")
    assert fake.clock.now() == before
    assert again.code is CompletionCode.DONE and len(again.messages) == 3


async def test_wait_timeout_raises_with_last_status_and_handle(make: Any, fake: ScriptedServer) -> None:
    fake.script("LONG", [(0, 1), (3, 2), (600, 4)])
    d = make()
    h = await d.start("DEMO2", "LONG")
    t0 = fake.clock.now()
    with pytest.raises(WaitTimeoutError) as err:
        await d.call(h, "wait", timeout=20)
    assert isinstance(err.value, TimeoutError)
    assert err.value.handle is h
    assert err.value.status.code is CompletionCode.RUNNING
    assert "RUNNING" in str(err.value) and "2112" in str(err.value)
    # The last check is at the deadline, not after it.
    assert monitor_times(fake)[-1] == t0 + 20
    assert fake.clock.now() == t0 + 20
    # The wait can go on from the error's handle.
    result = await d.call(err.value.handle, "wait")
    assert result.code is CompletionCode.DONE


async def test_wait_timeout_zero_checks_once(make: Any, fake: ScriptedServer) -> None:
    d = make()
    h = await d.start("DEMO2", "REPORTTEST01")
    with pytest.raises(WaitTimeoutError):
        await d.call(h, "wait", timeout=0)
    assert len(monitor_times(fake)) == 1
    fake.clock.advance(HOUR)  # type: ignore[attr-defined]
    assert (await d.call(h, "wait", timeout=0)).succeeded


async def test_on_status_errors_are_logged_and_the_wait_goes_on(
    make: Any, fake: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    d = make()
    calls: list[int] = []

    def boom(status: JobStatus) -> None:
        calls.append(int(status.code))
        raise RuntimeError("callback broke")

    h = await d.start("DEMO2", "REPORTTEST01")
    with caplog.at_level(logging.ERROR, logger="amtopcon"):
        result = await d.call(h, "wait", on_status=boom)
    assert result.succeeded
    assert calls == [2, 4]
    logged = [r for r in caplog.records if r.name == "amtopcon" and "on_status" in r.getMessage()]
    assert len(logged) == 2 and logged[0].exc_info is not None


async def test_wait_never_raises_for_the_jobs_own_code(make: Any, fake: ScriptedServer) -> None:
    fake.script("BROKEN", [(0, 2), (4, 11)], [(1, "reading input")])
    fake.descriptions["BROKEN"] = "File not found"
    d = make()
    result = await d.call(await d.start("DEMO2", "BROKEN"), "wait")
    assert result.code is CompletionCode.ERROR and not result.succeeded and result.exit_code == 11
    with pytest.raises(JobFailedError) as err:
        result.raise_for_code()
    assert "ERROR" in str(err.value) and "File not found" in str(err.value)
    assert err.value.result is result


@pytest.mark.parametrize(
    ("status", "exc"), [(503, None), (500, None), (None, httpx.ConnectError), (None, httpx.ReadTimeout)]
)
async def test_an_outage_shorter_than_max_outage_does_not_end_the_wait(
    make: Any, fake: ScriptedServer, status: int | None, exc: Any
) -> None:
    d = make(max_retries=0)
    h = await d.start("DEMO2", "REPORTTEST01")
    fake.fail(_wire.MONITOR_JOB, status, exc=exc, times=6)
    fake.fail(_wire.GET_MESSAGES, status, exc=exc, times=2)
    result = await d.call(h, "wait")
    assert result.succeeded and len(result.messages) == 3


async def test_client_retries_come_first(make: Any, fake: ScriptedServer) -> None:
    d = make()  # max_retries=3: the client absorbs short blips on its own
    h = await d.start("DEMO2", "REPORTTEST01")
    fake.fail(_wire.MONITOR_JOB, 503, times=2)
    assert (await d.call(h, "wait")).succeeded


async def test_an_outage_is_measured_from_the_start_of_the_first_failing_call(
    make: Any, fake: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    # Each MonitorJob call retries a 503 three times, 20 s apart (Retry-After): it fails
    # 60 s after it began. With max_outage=100 the second failing call (ending 140 s after
    # the first began) ends the wait; counted from the first failure's end it would take three.
    fake.script("LONG", [(0, 2), (HOUR, 4)])
    d = make(max_retries=3, poll=PollPolicy(initial_delay=1, jitter=0, max_outage=100))
    h = await d.start("DEMO2", "LONG")
    fake.fail(_wire.MONITOR_JOB, 503, retry_after="20", times=10_000)
    t0 = fake.clock.now()
    with caplog.at_level(logging.WARNING, logger="amtopcon"), pytest.raises(InternalServerError):
        await d.call(h, "wait")
    attempts = monitor_times(fake)
    began = attempts[0]
    assert began == t0 + 1  # the policy's initial delay
    assert attempts == [began + 20 * i for i in range(4)] + [began + 80 + 20 * i for i in range(4)]
    assert fake.clock.now() - began == 140
    warnings = [r.getMessage() for r in caplog.records if "still waiting" in r.getMessage()]
    assert len(warnings) == 1 and "outage for 60.0s of at most 100s" in warnings[0]


async def test_a_long_retry_after_from_the_client_is_waited_out_by_the_handle(make: Any, fake: ScriptedServer) -> None:
    # The client does not wait out a Retry-After above 60 s: it raises at once, and the
    # handle moves its next check instead of ending the wait, by at most the contract's
    # 60 s cap (issue 15: a Retry-After is capped everywhere).
    d = make()
    h = await d.start("DEMO2", "REPORTTEST01")
    fake.fail(_wire.MONITOR_JOB, 429, retry_after="90")
    assert (await d.call(h, "wait")).succeeded
    t = monitor_times(fake)
    assert t[1] - t[0] == 60


# --------------------------------------------------------------------------- status, messages, follow


async def test_status_is_one_call(make: Any, fake: ScriptedServer) -> None:
    d = make()
    h = await d.start("DEMO2", "REPORTTEST01")
    fake.clock.advance(5)  # type: ignore[attr-defined]
    status = await d.call(h, "status")
    assert status.code is CompletionCode.RUNNING and h.last_status == status
    assert len(monitor_times(fake)) == 1


async def test_messages_reads_every_page(make: Any, fake: ScriptedServer) -> None:
    fake.page_size = 2
    fake.script("CHATTY", [(0, 2), (10, 4)], [(1, f"line {i}") for i in range(1, 8)])
    d = make()
    h = await d.start("DEMO2", "CHATTY")
    fake.clock.advance(20)  # type: ignore[attr-defined]
    all_ = await d.call(h, "messages")
    assert [m.text for m in all_] == [f"line {i}" for i in range(1, 8)]
    afters = [int(c.params[_wire.Q_AFTER_SEQUENCE]) for c in fake.calls_of(_wire.GET_MESSAGES)]
    assert afters == [0, 2, 4, 6]
    later = await d.call(h, "messages", after=5)
    assert [m.sequence for m in later] == [6, 7]
    assert h.last_sequence == 0  # a plain read does not move the follow cursor


async def test_wait_reads_every_page_of_a_long_log(make: Any, fake: ScriptedServer) -> None:
    fake.page_size = 100
    fake.script("CHATTY", [(0, 2), (10, 4)], [(i / 1000, f"m{i}") for i in range(1, 251)])
    d = make()
    result = await d.call(await d.start("DEMO2", "CHATTY"), "wait")
    assert [m.sequence for m in result.messages] == list(range(1, 251))


async def test_follow_yields_each_message_once_while_running_then_the_rest(make: Any, fake: ScriptedServer) -> None:
    texts = [(float(t), f"at {t}") for t in (0.5, 1.5, 1.7, 4, 8, 8, 20, 25)]
    fake.script("TICKER", [(0, 2), (25, 4)], texts)
    d = make()
    h = await d.start("DEMO2", "TICKER")
    messages = await d.follow(h)
    assert [m.sequence for m in messages] == list(range(1, 9))
    assert [m.text for m in messages] == [t for _, t in texts]
    assert h.last_sequence == 8
    # Each GetMessages asked only for what was new.
    reads = fake.calls_of(_wire.GET_MESSAGES)
    afters = [int(c.params[_wire.Q_AFTER_SEQUENCE]) for c in reads]
    assert afters == sorted(afters)
    assert len(reads) > 2  # it read while the job ran, not only at the end
    seen_running = [a for a, c in zip(afters, reads, strict=True) if c.at < 25]
    assert seen_running and max(seen_running) > 0
    assert h.ended


async def test_follow_moves_last_sequence_as_it_yields_and_resumes(make: Any, fake: ScriptedServer) -> None:
    fake.script("TICKER", [(0, 2), (10, 4)], [(1, f"m{i}") for i in range(1, 6)])
    d = make()
    h = await d.start("DEMO2", "TICKER")
    first = await d.follow(h, limit=2)
    assert [m.sequence for m in first] == [1, 2] and h.last_sequence == 2
    rest = await d.follow(d.job(h.batch_request_id, after=h.last_sequence))
    assert [m.sequence for m in rest] == [3, 4, 5]


async def test_follow_of_an_ended_job_yields_the_rest_and_stops(make: Any, fake: ScriptedServer) -> None:
    d = make()
    h = await d.start("DEMO2", "REPORTTEST01")
    fake.clock.advance(HOUR)  # type: ignore[attr-defined]
    assert [m.sequence for m in await d.follow(h)] == [1, 2, 3]
    assert await d.follow(h) == []  # nothing new: it stops


async def test_follow_timeout(make: Any, fake: ScriptedServer) -> None:
    fake.script("LONG", [(0, 2), (HOUR, 4)], [(1, "a"), (2, "b")])
    d = make()
    h = await d.start("DEMO2", "LONG")
    with pytest.raises(WaitTimeoutError) as err:
        await d.follow(h, timeout=30)
    assert err.value.status.code is CompletionCode.RUNNING
    assert h.last_sequence == 2  # what was yielded before the deadline counts


async def test_follow_through_an_outage_still_yields_each_message_once(make: Any, fake: ScriptedServer) -> None:
    fake.page_size = 3
    fake.script("TICKER", [(0, 2), (60, 4)], [(i, f"m{i}") for i in range(1, 41)])
    d = make(max_retries=0)
    h = await d.start("DEMO2", "TICKER")
    fake.clock.advance(20)  # type: ignore[attr-defined]
    # A failure in the middle of reading pages, then a monitor outage.
    seen = await d.follow(h, limit=1)
    fake.fail(_wire.GET_MESSAGES, exc=httpx.ConnectError, times=1)
    fake.fail(_wire.MONITOR_JOB, 503, times=3)
    seen += await d.follow(h)
    assert [m.sequence for m in seen] == list(range(1, 41))


async def test_follow_drops_messages_a_server_sends_twice(make: Any, fake: ScriptedServer) -> None:
    d = make()
    h = await d.start("DEMO2", "REPORTTEST01")
    fake.clock.advance(HOUR)  # type: ignore[attr-defined]
    page = _wire.message_page_body(
        h.batch_request_id,
        [Message(s, text=f"m{s}") for s in (1, 2, 2, 1, 3)],
        False,
    )
    fake.plan(_wire.GET_MESSAGES, lambda request: httpx.Response(200, json=page))
    # A page repeating a sequence breaks the contract: a typed error (issue 15), not a silent drop.
    with pytest.raises(InvalidResponseError, match="appears twice"):
        await d.follow(h)


# --------------------------------------------------------------------------- stop, kill, context manager


async def test_stop_a_queued_job_deletes_it_from_the_queue(make: Any, fake: ScriptedServer) -> None:
    fake.script("LATER", [(0, 1), (600, 2), (700, 4)])
    d = make()
    h = await d.start("DEMO2", "LATER")
    assert await d.call(h, "stop") is True
    assert h.last_status.code is CompletionCode.DEL_QUEUE
    assert (await d.call(h, "wait")).code is CompletionCode.DEL_QUEUE


async def test_kill_a_running_job(make: Any, fake: ScriptedServer) -> None:
    fake.script("LONG", [(0, 2), (HOUR, 4)], [(1, "working")])
    d = make()
    h = await d.start("DEMO2", "LONG")
    fake.clock.advance(10)  # type: ignore[attr-defined]
    assert await d.call(h, "kill") is True
    assert [c.body for c in fake.actions("KILL")] == [{_wire.F_ACTION: "KILL", _wire.F_BATCH_REQUEST_ID: 2112}]
    result = await d.call(h, "wait")
    assert result.code is CompletionCode.KILLED and [m.text for m in result.messages] == ["working"]


async def test_stop_or_kill_of_an_ended_job_is_false(make: Any, fake: ScriptedServer) -> None:
    d = make()
    h = await d.start("DEMO2", "REPORTTEST01")
    await d.call(h, "wait")
    assert await d.call(h, "stop") is False
    assert await d.call(h, "kill") is False
    assert h.last_status.code is CompletionCode.DONE


async def test_leaving_the_block_by_an_exception_kills_a_running_job(make: Any, fake: ScriptedServer) -> None:
    fake.script("LONG", [(0, 2), (HOUR, 4)])
    d = make()
    h = await d.start("DEMO2", "LONG")
    with pytest.raises(ZeroDivisionError):
        await d.raise_inside(h, ZeroDivisionError("user code broke"))
    assert len(fake.actions("KILL")) == 1
    assert h.last_status.code is CompletionCode.KILLED


async def test_keyboard_interrupt_in_the_block_kills_too(make: Any, fake: ScriptedServer) -> None:
    fake.script("LONG", [(0, 2), (HOUR, 4)])
    d = make()
    h = await d.start("DEMO2", "LONG")
    with pytest.raises(KeyboardInterrupt):
        await d.raise_inside(h, KeyboardInterrupt())
    assert len(fake.actions("KILL")) == 1


async def test_normal_exit_does_nothing(make: Any, fake: ScriptedServer) -> None:
    fake.script("LONG", [(0, 2), (HOUR, 4)])
    d = make()
    await d.leave_normally(await d.start("DEMO2", "LONG"))
    assert fake.actions("KILL") == [] and fake.actions("STOP") == []


async def test_an_exception_after_the_job_ended_kills_nothing(make: Any, fake: ScriptedServer) -> None:
    d = make()
    h = await d.start("DEMO2", "REPORTTEST01")
    await d.call(h, "wait")
    with pytest.raises(ValueError):
        await d.raise_inside(h, ValueError("later"))
    assert fake.actions("KILL") == []


@pytest.mark.parametrize(("status", "exc"), [(500, None), (None, httpx.ConnectError)])
async def test_a_failed_kill_is_logged_and_the_original_exception_propagates(
    make: Any, fake: ScriptedServer, caplog: pytest.LogCaptureFixture, status: int | None, exc: Any
) -> None:
    fake.script("LONG", [(0, 2), (HOUR, 4)])
    d = make(max_retries=0)
    h = await d.start("DEMO2", "LONG")
    fake.fail(_wire.JOB_ACTION, status, exc=exc)
    with caplog.at_level(logging.WARNING, logger="amtopcon"), pytest.raises(ZeroDivisionError):
        await d.raise_inside(h, ZeroDivisionError())
    assert any("could not kill" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- the handle itself


async def test_handle_is_small_readable_and_keeps_secrets(make: Any, fake: ScriptedServer) -> None:
    d = make()
    h = await d.start("DEMO2", "REPORTTEST01")
    assert not hasattr(h, "__dict__")
    assert repr(h) == (
        f"{type(h).__name__}(batch_request_id=2112, job=DEMO2/REPORTTEST01, status=QUEUED(1), last_sequence=0)"
    )
    assert repr(d.job(5)) == f"{type(h).__name__}(batch_request_id=5, status=unknown, last_sequence=0)"
    await d.call(h, "wait")
    for text in (repr(h), str(h)):
        assert PASSWORD not in text and TOKEN not in text
    with pytest.raises(TypeError, match=r"client\.job"):
        pickle.dumps(h)
    fake.script("LONG", [(0, 2), (HOUR, 4)])
    running = await d.start("DEMO2", "LONG")
    with pytest.raises(WaitTimeoutError) as err:
        await d.call(running, "wait", timeout=0)
    assert PASSWORD not in str(err.value) and TOKEN not in str(err.value)
    assert pickle.loads(pickle.dumps(err.value)).status == err.value.status  # the handle is dropped
    assert h.client is d.client


async def test_clients_job_methods_are_the_right_shape(fake: ScriptedServer) -> None:
    ac = fake.async_client()
    handle = ac.job(42)  # a plain method on the async client too
    assert isinstance(handle, AsyncJobHandle)
    assert isinstance(fake.client().job(42), JobHandle)


async def test_async_on_status_may_be_a_coroutine_function(fake: ScriptedServer) -> None:
    d = AsyncDriver(fake, poll=EXACT)
    seen: list[CompletionCode] = []

    async def note(status: JobStatus) -> None:
        seen.append(status.code)

    result = await d.run("DEMO2", "REPORTTEST01", on_status=note)
    assert result.succeeded and seen == [CompletionCode.RUNNING, CompletionCode.DONE]


async def test_the_result_of_a_wait_travels_and_shows(make: Any, fake: ScriptedServer) -> None:
    d = make()
    result = await d.call(await d.start("DEMO2", "REPORTTEST01"), "wait")
    assert JobResult.from_dict(result.to_dict()) == result
    assert pickle.loads(pickle.dumps(result)) == result
    assert repr(result) == "JobResult(batch_request_id=2112, code=DONE(4), messages=3, duration=0:00:29)"
    html = result._repr_html_()
    assert "DONE 4" in html and "succeeded" in html and "Report test 01 is started" in html
