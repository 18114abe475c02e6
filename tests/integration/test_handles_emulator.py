"""Job handles against the emulator: the vendor's sample jobs, long jobs on a virtual
clock, STOP/KILL, deadlines, outages, a 10,000-message log and 1,000 concurrent waits.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections import Counter
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from amtopcon import AsyncJobHandle, CompletionCode, JobHandle, JobResult, PollPolicy, _wire
from amtopcon.errors import APITimeoutError, InternalServerError, ValidationError, WaitTimeoutError
from amtopcon.testing import Emulator
from tests._realtime import forbid_real_sleep

pytestmark = pytest.mark.anyio

C = CompletionCode
HOUR = 3600.0


class Twin:
    """One test body for both handles: the sync calls simply do not await anything."""

    def __init__(self, emulator: Emulator, kind: str, **client_kwargs: Any) -> None:
        self.kind = kind
        self.client: Any = (
            emulator.client(**client_kwargs) if kind == "sync" else emulator.async_client(**client_kwargs)
        )

    async def _(self, value: Any) -> Any:
        return await value if self.kind == "async" else value

    async def start(self, *args: Any, **kwargs: Any) -> Any:
        return await self._(self.client.start(*args, **kwargs))

    async def run(self, *args: Any, **kwargs: Any) -> Any:
        return await self._(self.client.run(*args, **kwargs))

    async def call(self, handle: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        return await self._(getattr(handle, method)(*args, **kwargs))

    async def follow(self, handle: Any, limit: int | None = None, **kwargs: Any) -> list[Any]:
        out: list[Any] = []
        if self.kind == "sync":
            for message in handle.follow(**kwargs):
                out.append(message)
                if limit is not None and len(out) >= limit:
                    break
            return out
        async with contextlib.aclosing(handle.follow(**kwargs)) as messages:
            async for message in messages:
                out.append(message)
                if limit is not None and len(out) >= limit:
                    break
        return out


@pytest.fixture
def emulator() -> Emulator:
    return Emulator()


@pytest.fixture(params=["sync", "async"])
def twin(request: pytest.FixtureRequest, emulator: Emulator) -> Any:
    def make(**kwargs: Any) -> Twin:
        return Twin(emulator, request.param, **kwargs)

    return make


def calls(emulator: Emulator, function: str) -> list[Any]:
    return [r for r in emulator.requests if r.function == function]


async def test_reporttest01_ends_done_with_its_messages(twin: Any, emulator: Emulator) -> None:
    t = twin()
    handle = await t.start("DEMO2", "REPORTTEST01")
    assert isinstance(handle, (JobHandle, AsyncJobHandle))
    result = await t.call(handle, "wait")
    assert result.code is C.DONE and result.succeeded and result.exit_code == 4
    expected = emulator.messages(handle.batch_request_id)
    assert list(result.messages) == expected and len(expected) >= 3
    texts = [m.text for m in result.messages]
    assert "Report test 01 is started" in texts and texts[-1] == "Done"
    assert result.status == emulator.status(handle.batch_request_id)
    assert handle.last_sequence == expected[-1].sequence


async def test_an_hour_long_job_waits_on_the_virtual_clock_without_real_sleeping(
    twin: Any, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = twin()
    refused = forbid_real_sleep(monkeypatch)  # any real sleep fails the test
    result = await t.run("DEMO2", "LONGRUNNINGREPORT")
    assert result.code is C.DONE and result.duration is not None and result.duration.total_seconds() >= HOUR
    # The hour passed on the emulator's clock, checked every 15 s (+10 % jitter) at most.
    assert HOUR <= emulator.now <= HOUR + 16.5
    assert refused == []
    assert len(calls(emulator, _wire.MONITOR_JOB)) < 300  # the default schedule: about 285 checks an hour


async def test_kill_ends_killed(twin: Any, emulator: Emulator) -> None:
    t = twin()
    handle = await t.start("DEMO2", "LONGRUNNINGREPORT")
    emulator.advance(120)
    assert await t.call(handle, "kill") is True
    result = await t.call(handle, "wait")
    assert result.code is C.KILLED and result.exit_code == 3
    assert [m.text for m in result.messages] == ["Long running report is started"]
    assert await t.call(handle, "kill") is False  # already ended: 409


async def test_stop_a_queued_job_ends_del_queue(twin: Any, emulator: Emulator) -> None:
    t = twin()
    first = await t.start("DEMO2", "LONGRUNNINGREPORT", queue="SERIAL")
    second = await t.start("DEMO2", "LONGRUNNINGREPORT", queue="SERIAL")
    assert second.last_status.code is C.QUEUED
    assert await t.call(second, "stop") is True
    result = await t.call(second, "wait")
    assert result.code is C.DEL_QUEUE and result.exit_code == 10 and result.messages == ()
    assert await t.call(first, "stop") is True  # a running job ends ABORTED at its next step
    assert (await t.call(first, "wait")).code is C.ABORTED


async def test_wait_timeout_carries_the_last_status(twin: Any, emulator: Emulator) -> None:
    t = twin()
    handle = await t.start("DEMO2", "LONGRUNNINGREPORT")
    began = emulator.now
    with pytest.raises(WaitTimeoutError) as err:
        await t.call(handle, "wait", timeout=600)
    assert isinstance(err.value, TimeoutError)
    assert err.value.status.code is C.RUNNING and err.value.handle is handle
    assert emulator.now - began == pytest.approx(600, abs=0.5)
    assert calls(emulator, _wire.GET_MESSAGES) == []  # no job log read for an unfinished job
    assert (await t.call(handle, "wait")).code is C.DONE


async def test_error_job_is_a_result_not_an_exception(twin: Any, emulator: Emulator) -> None:
    t = twin()
    seen: list[C] = []
    result = await t.run("DEMO2", "ERRORTEST01", on_status=lambda s: seen.append(s.code))
    assert result.code is C.ERROR and result.status.description == "Report ended in error"
    assert seen[-1] is C.ERROR and len(seen) == len(set(seen))


async def test_outage_and_retry_after_do_not_end_the_wait(twin: Any, emulator: Emulator) -> None:
    t = twin(max_retries=0)
    handle = await t.start("DEMO2", "REPORTTEST01")
    emulator.faults.fail_next(_wire.MONITOR_JOB, 503, times=3, retry_after=20)
    emulator.faults.fail_next(_wire.GET_MESSAGES, 500, times=2)
    result = await t.call(handle, "wait")
    assert result.code is C.DONE and list(result.messages) == emulator.messages(handle.batch_request_id)
    times = [r.time for r in calls(emulator, _wire.MONITOR_JOB)]
    assert all(b - a >= 20 - 1e-9 for a, b in itertools.pairwise(times[:4]))  # (a + 20) - a may round below 20


async def test_an_outage_past_max_outage_raises_the_last_error(twin: Any, emulator: Emulator) -> None:
    t = twin(max_retries=0, poll=PollPolicy(max_outage=120))
    handle = await t.start("DEMO2", "LONGRUNNINGREPORT")
    emulator.faults.fail_next(_wire.MONITOR_JOB, 502, times=10_000)
    with pytest.raises(InternalServerError) as err:
        await t.call(handle, "wait")
    assert err.value.status_code == 502
    failed = [r.time for r in calls(emulator, _wire.MONITOR_JOB)]
    assert 120 <= failed[-1] - failed[0] < 130


async def test_follow_then_resume_after_a_restart(twin: Any, emulator: Emulator) -> None:
    t = twin()
    handle = await t.start("DEMO2", "RUN_PARAMETERTESTA", parameters=["'PARAM'"])
    first = await t.follow(handle, limit=5)
    saved = (handle.batch_request_id, handle.last_sequence)
    assert saved[1] == 5
    again = twin().client.job(saved[0], after=saved[1])  # a new client: after a restart
    rest = await t.follow(again)
    got = first + rest
    assert got == emulator.messages(saved[0])
    assert "Value test param ['PARAM']" in [m.text for m in got]


# --------------------------------------------------------------------------- every call within the deadline

#: A call made at the deadline itself (the last status check) may take this long.
LAST_CHECK = 1.0
#: Floating-point slack on the virtual clock.
EPS = 1e-6


@pytest.mark.parametrize("delay", [1000.0, 20.0])  # past the read timeout; shorter, but past the time left
async def test_a_hanging_status_check_ends_the_wait_at_its_deadline(
    twin: Any, emulator: Emulator, delay: float
) -> None:
    t = twin()
    handle = await t.start("DEMO2", "LONGRUNNINGREPORT")
    for _ in range(4):
        emulator.faults.delay_next(_wire.MONITOR_JOB, delay)
    t0 = emulator.now
    with pytest.raises(WaitTimeoutError) as err:
        await t.call(handle, "wait", timeout=5)
    assert emulator.now - t0 <= 5 + EPS  # not the client's total_timeout of 120 s
    assert emulator.now - t0 == pytest.approx(5, abs=0.01)
    assert err.value.status is not None and err.value.status.batch_request_id == handle.batch_request_id
    assert err.value.handle is handle
    assert isinstance(err.value.__cause__, APITimeoutError)


async def test_a_hanging_message_read_ends_the_follow_at_its_deadline(twin: Any, emulator: Emulator) -> None:
    t = twin()
    handle = await t.start("DEMO2", "LONGRUNNINGREPORT")
    emulator.advance(120)  # one message is there to read
    for _ in range(4):
        emulator.faults.delay_next(_wire.GET_MESSAGES, 1000)
    t0 = emulator.now
    with pytest.raises(WaitTimeoutError) as err:
        await t.follow(handle, timeout=5)
    assert emulator.now - t0 <= 5 + EPS
    assert err.value.status.code is C.RUNNING  # the status check of the round answered
    assert handle.last_sequence == 0


async def test_a_hanging_message_read_of_an_ended_job_ends_the_wait_at_its_deadline(
    twin: Any, emulator: Emulator
) -> None:
    t = twin()
    handle = await t.start("DEMO2", "REPORTTEST01")
    emulator.advance(HOUR)
    for _ in range(4):
        emulator.faults.delay_next(_wire.GET_MESSAGES, 1000)
    t0 = emulator.now
    with pytest.raises(WaitTimeoutError) as err:
        await t.call(handle, "wait", timeout=5)
    assert emulator.now - t0 <= 5 + EPS
    assert err.value.status.code is C.DONE
    assert "DONE" in str(err.value) and "job log" in str(err.value)


async def test_the_last_check_at_the_deadline_is_bounded_too(twin: Any, emulator: Emulator) -> None:
    t = twin()
    handle = await t.start("DEMO2", "LONGRUNNINGREPORT")
    for _ in range(4):
        emulator.faults.delay_next(_wire.MONITOR_JOB, 1000)
    t0 = emulator.now
    with pytest.raises(WaitTimeoutError):
        await t.call(handle, "wait", timeout=0)  # one check, made at the deadline
    assert emulator.now - t0 <= LAST_CHECK + EPS
    assert len(calls(emulator, _wire.MONITOR_JOB)) == 1


async def test_kill_and_stop_take_a_timeout(twin: Any, emulator: Emulator) -> None:
    t = twin()
    handle = await t.start("DEMO2", "LONGRUNNINGREPORT")
    emulator.advance(10)
    for action in ("kill", "stop"):
        for _ in range(4):
            emulator.faults.delay_next(_wire.JOB_ACTION, 1000)
        t0 = emulator.now
        with pytest.raises(APITimeoutError):
            await t.call(handle, action, timeout=5)
        assert emulator.now - t0 <= 5 + EPS
        emulator.faults.clear()
    for bad in (0, -1, "5", True):
        with pytest.raises(ValidationError):
            await t.call(handle, "kill", timeout=bad)
    other = await t.start("DEMO2", "LONGRUNNINGREPORT")
    assert await t.call(other, "kill", timeout=5) is True
    assert (await t.call(other, "wait")).code is C.KILLED


# --------------------------------------------------------------------------- 10,000 messages


class CountingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Counts every message sequence carried by GetMessages answers."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.sequences: Counter[int] = Counter()

    def _count(self, request: httpx.Request, response: httpx.Response) -> None:
        if request.url.path.endswith(_wire.GET_MESSAGES) and response.status_code == 200:
            page = _wire.parse_message_page(json.loads(response.content))
            self.sequences.update(m.sequence for m in page.messages)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response: httpx.Response = self.inner.handle_request(request)
        response.read()
        self._count(request, response)
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response: httpx.Response = await self.inner.handle_async_request(request)
        await response.aread()
        self._count(request, response)
        return response


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_job_of_10000_messages_is_followed_with_each_message_transferred_once(
    emulator: Emulator, kind: str
) -> None:
    emulator.add_job("BULK", "TENK", steps=[(f"step {i}", 0.05) for i in range(1, 10_001)])
    if kind == "sync":
        counting = CountingTransport(emulator.transport())
        client: Any = emulator.client(http_client=httpx.Client(transport=counting))
    else:
        counting = CountingTransport(emulator.async_transport())
        client = emulator.async_client(http_client=httpx.AsyncClient(transport=counting))
    t = Twin(emulator, kind)
    t.client = client
    handle = await t.start("BULK", "TENK")
    got = await t.follow(handle)
    assert [m.sequence for m in got] == list(range(1, 10_001))
    assert [m.text for m in got[:2]] == ["step 1", "step 2"] and got[-1].text == "step 10000"
    assert handle.last_sequence == 10_000 and handle.ended
    # Each message went over the wire exactly once ...
    assert set(counting.sequences) == set(range(1, 10_001))
    assert set(counting.sequences.values()) == {1}
    # ... because every read asked only for what came after the last one seen.
    reads = calls(emulator, _wire.GET_MESSAGES)
    afters = [int(r.query[_wire.Q_AFTER_SEQUENCE]) for r in reads]
    assert afters == sorted(afters) and afters[0] == 0
    assert len(reads) > 10  # it read while the job ran (500 s), not once at the end


async def test_following_a_finished_100000_message_job_yields_its_first_message_after_one_page(
    twin: Any, emulator: Emulator
) -> None:
    emulator.add_job("BULK", "LOUD", steps=[(f"message {i}", 0) for i in range(1, 100_001)])
    t = twin()
    started = await t.start("BULK", "LOUD")
    assert (await t.call(started, "wait")).code is C.DONE
    handle = t.client.job(started.batch_request_id)  # re-attached: nothing read yet
    before = len(calls(emulator, _wire.GET_MESSAGES))
    first = await t.follow(handle, limit=1)
    assert [m.sequence for m in first] == [1]
    # One page was read before the first message came out, not the whole log.
    assert len(calls(emulator, _wire.GET_MESSAGES)) - before == 1
    rest = await t.follow(handle)
    assert [m.sequence for m in rest] == list(range(2, 100_001))
    assert handle.last_sequence == 100_000


# --------------------------------------------------------------------------- 1,000 at once


async def test_a_thousand_async_handles_waited_on_together(monkeypatch: pytest.MonkeyPatch) -> None:
    emulator = Emulator()  # the default token lifetime and client timeouts: concurrent sleeps overlap
    emulator.catalog.add_queue("WIDE", 1000)
    emulator.catalog.add_application("MANY", queue="WIDE")
    finals = {"OK": C.DONE, "FAIL": C.ERROR, "ABORT": C.ABORTED}
    for i, (job, final) in enumerate(finals.items()):
        emulator.add_job(
            "MANY", job, steps=[("job {param[0]} begins", 10 * (i + 1)), ("job {param[0]} ends", 0)], final=final
        )
    client = emulator.async_client()
    n = 1000
    names = list(finals)
    handles: list[AsyncJobHandle] = []
    for i in range(n):
        handles.append(await client.start("MANY", names[i % 3], parameters=[str(i)]))
    results: dict[int, Any] = {}

    async def one(i: int) -> None:
        results[i] = await handles[i].wait()

    refused = forbid_real_sleep(monkeypatch)  # the waits sleep on the virtual clock only
    async with anyio.create_task_group() as tg:
        for i in range(n):
            tg.start_soon(one, i)
    assert len(results) == n
    for i, result in results.items():
        assert result.status.batch_request_id == handles[i].batch_request_id
        assert result.code is finals[names[i % 3]]
        assert [m.text for m in result.messages] == [f"job {i} begins", f"job {i} ends"]
    assert len({h.batch_request_id for h in handles}) == n
    assert emulator.now < 60  # the longest job runs 30 s: the waits overlapped
    assert refused == []
    # Overlapping waits: each job was checked about once per poll interval, not n times over.
    monitors = Counter(int(r.query[_wire.Q_BATCH_REQUEST_ID]) for r in calls(emulator, _wire.MONITOR_JOB))
    assert set(monitors) == {h.batch_request_id for h in handles}
    assert max(monitors.values()) <= 40  # a 30 s job: 18 checks in its first 10 s, then every 0.8-2.4 s


# --------------------------------------------------------------------------- the connector's polling


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ("STATUS_CHECK_POLL_INTERVAL=7\nSTATUS_CHECK_INITIAL_POLL_DELAY=3\n", [3, 10, 17, 24]),
        ("", [10, 15, 20, 25]),  # the vendor's documented defaults when the file says nothing
    ],
)
def test_a_client_from_connector_config_polls_like_the_connector(
    tmp_path: Any, emulator: Emulator, lines: str, expected: list[float]
) -> None:
    config = tmp_path / "Connector.config"
    config.write_text(
        "[CONNECTOR]\nNAME=test\n" + lines + "[AMT BATCH SERVER]\nSERVER_ADDRESS=127.0.0.1:4004\n"
        "SERVER_USE_TLS=False\nUSER=62324e685a47303d\nPASSWORD=6233426a6232353463484d3d\n",
        encoding="utf-8",
    )
    from amtopcon import Client

    client = Client.from_connector_config(
        config, http_client=httpx.Client(transport=emulator.transport()), clock=emulator.clock
    )
    handle = client.start("DEMO2", "REPORTTEST01")
    began = emulator.now
    result = handle.wait()
    assert result.code is C.DONE
    times = [r.time - began for r in calls(emulator, _wire.MONITOR_JOB)]
    assert len(times) >= 4 and times[:4] == pytest.approx(expected)


async def test_after_a_follow_the_final_status_costs_no_call_and_wait_would_read_the_log_again(
    emulator: Emulator, twin: Any
) -> None:
    # What docs/guides/jobs.md says a follow and what comes after it cost, on a 3,000-message job.
    emulator.add_job("BIG", "LOG", steps=[(f"line {i}", 1) for i in range(3000)], final=C.DONE)
    d = twin()
    handle = await d.start("BIG", "LOG")
    kept = await d.follow(handle)
    assert [m.sequence for m in kept] == list(range(1, 3001))
    before = len(emulator.requests)

    final = handle.last_status  # the status follow() ended on: no call
    assert final is not None and final.code is C.DONE
    assert len(emulator.requests) == before

    status = await d.call(handle, "status")  # one MonitorJob
    assert [r.function for r in emulator.requests[before:]] == [_wire.MONITOR_JOB]
    assert status == final
    before = len(emulator.requests)

    result = await d.call(handle, "wait")  # one MonitorJob and the whole log again, a page of 1,000 per call
    again = Counter(r.function for r in emulator.requests[before:])
    assert again == {_wire.MONITOR_JOB: 1, _wire.GET_MESSAGES: 3}
    assert [r.query[_wire.Q_AFTER_SEQUENCE] for r in calls(emulator, _wire.GET_MESSAGES)[-3:]] == ["0", "1000", "2000"]
    assert result == JobResult(status, kept)  # what a follow already had


# --------------------------------------------------------------------------- calls in flight


class InFlight(httpx.AsyncBaseTransport):
    """The emulator's transport, counting the requests it holds at once (each yields to
    the event loop a few times before it is answered, so that concurrent calls overlap)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.now = 0
        self.most = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            for _ in range(3):
                await anyio.lowlevel.checkpoint()
            return await self.inner.handle_async_request(request)
        finally:
            self.now -= 1


def _wide(emulator: Emulator, n: int) -> None:
    emulator.catalog.add_queue("WIDE", n)
    emulator.catalog.add_application("MANY", queue="WIDE")


@pytest.mark.parametrize("limit", [1, 4])
async def test_a_client_keeps_at_most_max_in_flight_calls_in_flight(limit: int) -> None:
    emulator = Emulator()
    _wide(emulator, 200)
    emulator.add_job("MANY", "SHORT", steps=[("short", 3)])
    counting = InFlight(emulator.async_transport())
    client = emulator.async_client(max_in_flight=limit, http_client=httpx.AsyncClient(transport=counting))
    assert client.max_in_flight == limit
    results: list[Any] = []

    async def one() -> None:
        handle = await client.start("MANY", "SHORT")
        results.append(await handle.wait())

    async with anyio.create_task_group() as tg:
        for _ in range(200):
            tg.start_soon(one)
    assert len(results) == 200 and {r.code for r in results} == {C.DONE}
    assert counting.most == limit  # the calls did overlap, and never more than the bound
    assert len(calls(emulator, _wire.MONITOR_JOB)) >= 200


async def test_ten_thousand_concurrent_waits_all_end_with_their_own_result(monkeypatch: pytest.MonkeyPatch) -> None:
    emulator = Emulator(request_log=0)  # 10,000 jobs: nothing to count here, nothing kept
    n = 10_000
    _wide(emulator, n)
    finals = {"OK": C.DONE, "FAIL": C.ERROR}
    for i, (job, final) in enumerate(finals.items()):
        emulator.add_job("MANY", job, steps=[("{param[0]}", 2 * (i + 1))], final=final)
    # No jitter: the virtual clock jumps once per distinct wake-up, and 10,000 jittered
    # schedules would make 60,000 of them (the checks themselves are what is tested). A check
    # every 2 s: each wait still sleeps with all the others and its checks queue for a turn
    # with 10,000 others, at a third of the calls of the default 0.5 s.
    client = emulator.async_client(poll=PollPolicy(initial_delay=2.0, interval=2.0, jitter=0.0))
    names = list(finals)
    handles = [await client.start("MANY", names[i % 2], parameters=[str(i)]) for i in range(n)]
    results: dict[int, Any] = {}

    async def one(i: int) -> None:
        results[i] = await handles[i].wait()

    refused = forbid_real_sleep(monkeypatch)
    async with anyio.create_task_group() as tg:
        for i in range(n):
            tg.start_soon(one, i)
    assert refused == [] and len(results) == n
    for i, result in results.items():
        assert result.status.batch_request_id == handles[i].batch_request_id
        assert result.code is finals[names[i % 2]]
        assert [m.text for m in result.messages] == [str(i)]


async def test_cancelling_one_wait_leaves_the_others_running_and_frees_its_turn() -> None:
    emulator = Emulator()
    _wide(emulator, 10)
    emulator.add_job("MANY", "SHORT", steps=[("short", 5)])
    emulator.add_job("MANY", "LONG", steps=[("long", 3600)])
    client = emulator.async_client(max_in_flight=1)  # one call at a time: a held turn would stall the rest
    long = await client.start("MANY", "LONG")
    shorts = [await client.start("MANY", "SHORT") for _ in range(3)]
    results: list[Any] = []

    async def short(handle: AsyncJobHandle) -> None:
        results.append(await handle.wait())

    scope = anyio.CancelScope()
    cancelled: list[bool] = []

    async def the_long_one() -> None:
        with scope:
            await long.wait()
        cancelled.append(scope.cancelled_caught)

    async with anyio.create_task_group() as tg:
        tg.start_soon(short, shorts[0])
        tg.start_soon(short, shorts[1])
        tg.start_soon(the_long_one)
        tg.start_soon(short, shorts[2])
        for _ in range(20):  # let every wait begin (and the long one take a turn or queue for one)
            await anyio.lowlevel.checkpoint()
        scope.cancel()  # only the long wait is inside this scope
    assert cancelled == [True]
    assert sorted(r.status.batch_request_id for r in results) == sorted(h.batch_request_id for h in shorts)
    assert all(r.code is C.DONE for r in results)
    assert not long.ended  # its wait ended; the job itself was not touched
    assert emulator.status(long.batch_request_id).code is C.RUNNING
