"""The retry matrix of the wire contract, for `Client` and `AsyncClient`.

Kinds: reads (Logon, HeartBeat, MonitorJob, GetMessages), START, STOP/KILL. Failures:
transport errors of every class, 429, 5xx and a 401 that answered a token. What is
resent, what is not, that START keeps its TaskId, and how delays and deadlines behave
(observed through a fake clock: nothing really sleeps).
"""

from __future__ import annotations

import asyncio
import email.utils
import time
import uuid
from typing import Any

import httpx
import pytest

from amtopcon import _wire as w
from amtopcon._core import call as _retry
from amtopcon.errors import (
    AmtOpConError,
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    InternalServerError,
    JobStartError,
    RateLimitError,
    StartOutcomeUnknownError,
)

from ._support import CALLS, WALL0, FakeClock, ScriptedServer, call, close, make_client, status_response

pytestmark = pytest.mark.anyio

# What fails, and what the call raises when it keeps failing.
FAILURES: dict[str, tuple[Any, type[AmtOpConError]]] = {
    "ConnectError": (httpx.ConnectError, APIConnectionError),
    "ConnectTimeout": (httpx.ConnectTimeout, APITimeoutError),
    "PoolTimeout": (httpx.PoolTimeout, APITimeoutError),
    "ReadTimeout": (httpx.ReadTimeout, APITimeoutError),
    "WriteTimeout": (httpx.WriteTimeout, APITimeoutError),
    "RemoteProtocolError": (httpx.RemoteProtocolError, APIConnectionError),
    "ReadError": (httpx.ReadError, APIConnectionError),
    "429": (429, RateLimitError),
    "500": (500, InternalServerError),
    "502": (502, InternalServerError),
    "503": (503, InternalServerError),
    "504": (504, InternalServerError),
}
# START may be resent only after these: the request provably never reached the server,
# or was refused unprocessed.
START_RESENT = {"ConnectError", "ConnectTimeout", "PoolTimeout", "429", "503"}
KINDS = ["Logon", "HeartBeat", "MonitorJob", "GetMessages", "START", "STOP", "KILL"]


@pytest.fixture(autouse=True)
def no_real_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every wait goes through the client's clock: a real sleep fails the test."""
    real = asyncio.sleep

    def sync_sleep(seconds: float) -> None:
        raise AssertionError(f"slept {seconds}s of real time")

    async def async_sleep(seconds: float, *args: Any) -> Any:
        if seconds > 0:
            raise AssertionError(f"slept {seconds}s of real time")
        return await real(0, *args)

    monkeypatch.setattr(time, "sleep", sync_sleep)
    monkeypatch.setattr(asyncio, "sleep", async_sleep)


def target(kind: str) -> str:
    """The function that fails in a row of the matrix."""
    return w.JOB_ACTION if kind in ("START", "STOP", "KILL") else kind


def resent(kind: str, failure: str) -> bool:
    return kind != "START" or failure in START_RESENT


def check_result(kind: str, result: Any) -> None:
    if kind == "HeartBeat":
        assert result is True
    elif kind == "START":
        assert result.batch_request_id == 2112
    else:
        assert result is not None


# The decision for every (kind, failure) is a row of tests/core/test_call_table.py
# (test_first_event, test_a_failure_that_persists_raises_its_own_class_after_max_retries);
# here each function is driven through both clients once per class of outcome: never
# sent (ConnectError), maybe sent (ReadTimeout), refused unprocessed (503), maybe
# processed (500).
LOOP_FAILURES = ["ConnectError", "ReadTimeout", "503", "500"]


@pytest.mark.parametrize("failure", LOOP_FAILURES)
@pytest.mark.parametrize("kind", KINDS)
async def test_one_failure(flavour: str, kind: str, failure: str) -> None:
    """One failure, then the correct answer: resent (once, after one back-off) or not."""
    clock = FakeClock()
    server = ScriptedServer()
    server.plan(target(kind), FAILURES[failure][0])
    client = make_client(flavour, server.handler, clock=clock)
    method, args, kwargs = CALLS[kind]
    if resent(kind, failure):
        result = await call(client, method, *args, **kwargs)
        check_result(kind, result)
        assert len(server.calls(target(kind))) == 2
        assert len(clock.sleeps) == 1
        if kind == "START":
            first, second = server.bodies(w.JOB_ACTION)
            assert first == second  # the same TaskId and fields on the resend
            uuid.UUID(first[w.F_TASK_ID])
    else:
        with pytest.raises(StartOutcomeUnknownError) as info:
            await call(client, method, *args, **kwargs)
        err = info.value
        (sent,) = server.bodies(w.JOB_ACTION)
        assert err.task_id == sent[w.F_TASK_ID]
        assert err.task_id in str(err)
        assert not isinstance(err, APIConnectionError)
        assert err.attempts == 1
        assert "after 1 attempt" in str(err)
        assert "may or may not" in str(err)
        assert clock.sleeps == []
    await close(client)


@pytest.mark.parametrize(
    ("kind", "failure"), [pytest.param(k, f, id=f"{k}-{f}") for k in KINDS for f in ("ConnectError", "503")]
)
async def test_a_failure_that_persists(flavour: str, kind: str, failure: str) -> None:
    """max_retries is respected; the error says how many attempts were made."""
    outcome, cls = FAILURES[failure]
    clock = FakeClock()
    server = ScriptedServer()
    server.plan(target(kind), *[outcome] * 3)
    client = make_client(flavour, server.handler, clock=clock, max_retries=2)
    method, args, kwargs = CALLS[kind]
    if kind == "HeartBeat":
        assert await call(client, method, *args, **kwargs) is False
    else:
        with pytest.raises(AmtOpConError) as info:
            await call(client, method, *args, **kwargs)
        err = info.value
        assert type(err) is cls
        assert err.attempts == 3
        assert "after 3 attempts" in str(err)
        assert err.request_id == server.calls(target(kind))[-1].headers[w.H_REQUEST_ID]
    assert len(server.calls(target(kind))) == 3
    assert len(clock.sleeps) == 2
    if kind == "START":
        assert len({b[w.F_TASK_ID] for b in server.bodies(w.JOB_ACTION)}) == 1
    await close(client)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_401_that_answered_a_token(flavour: str, kind: str) -> None:
    """One new Logon, then the call is repeated (START too, with the same TaskId).
    Logon and HeartBeat send no token: their 401 is final (HeartBeat: False)."""
    server = ScriptedServer()
    client = make_client(flavour, server.handler)
    assert await call(client, "monitor_job", 1) is not None  # logged on
    server.requests.clear()
    server.expire()
    method, args, kwargs = CALLS[kind]
    if kind == "Logon":
        server.plan(w.LOGON, status_response(401, error_code=w.E_AUTHENTICATION_FAILED))
        with pytest.raises(AuthenticationError) as info:
            await call(client, method, *args, **kwargs)
        assert info.value.attempts == 1
        assert [r.url.path.rsplit("/", 1)[-1] for r in server.requests] == ["MonitorJob", "Logon"]
    elif kind == "HeartBeat":
        server.plan(w.HEARTBEAT, 401)
        assert await call(client, method, *args, **kwargs) is False
        assert len(server.requests) == 1
    else:
        result = await call(client, method, *args, **kwargs)
        check_result(kind, result)
        assert server.logons == 2
        calls = server.calls(target(kind))
        assert len(calls) == 2
        assert calls[0].headers[w.H_TOKEN] != calls[1].headers[w.H_TOKEN]
        if kind == "START":
            first, second = server.bodies(w.JOB_ACTION)
            assert first[w.F_TASK_ID] == second[w.F_TASK_ID]
    await close(client)


async def test_a_401_after_the_new_logon_is_final(flavour: str) -> None:
    server = ScriptedServer()
    server.plan(w.MONITOR_JOB, 401, 401, 401)
    client = make_client(flavour, server.handler)
    with pytest.raises(AuthenticationError) as info:
        await call(client, "monitor_job", 2112)
    await close(client)
    assert info.value.attempts == 2
    assert server.logons == 2
    assert len(server.calls(w.MONITOR_JOB)) == 2


async def test_a_refused_logon_is_not_retried(flavour: str) -> None:
    clock = FakeClock()
    server = ScriptedServer()
    server.password = "something else"
    client = make_client(flavour, server.handler, clock=clock)
    with pytest.raises(AuthenticationError) as info:
        await call(client, "job_action", "START", application="DEMO2", job="J")
    await close(client)
    assert info.value.error_code == w.E_AUTHENTICATION_FAILED
    assert info.value.attempts == 1
    assert [r.url.path.rsplit("/", 1)[-1] for r in server.requests] == ["Logon"]
    assert clock.sleeps == []


# ---------------------------------------------------------------- Retry-After and back-off


def http_date(clock: FakeClock, seconds: float) -> str:
    return email.utils.formatdate(clock.time() + seconds, usegmt=True)


# Every kind x status x form is a row of tests/core/test_call_table.py::test_retry_after;
# here the loop shows it sleeps exactly that long and sends again.
@pytest.mark.parametrize("status", [503])
@pytest.mark.parametrize("kind", ["MonitorJob"])
@pytest.mark.parametrize("form", ["seconds", "http-date"])
async def test_retry_after_is_honoured(flavour: str, status: int, kind: str, form: str) -> None:
    clock = FakeClock()
    server = ScriptedServer()
    value = "7" if form == "seconds" else http_date(clock, 7)
    server.plan(target(kind), status_response(status, retry_after=value))
    client = make_client(flavour, server.handler, clock=clock)
    method, args, kwargs = CALLS[kind]
    await call(client, method, *args, **kwargs)
    await close(client)
    assert clock.sleeps == [7.0]
    assert len(server.calls(target(kind))) == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("0", 0.0),
        ("2.5", 2.5),
        ("-3", 0.0),
        ("nan", None),
        ("inf", None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert _retry.parse_retry_after(value, WALL0) == expected


def test_parse_retry_after_http_date() -> None:
    assert _retry.parse_retry_after(email.utils.formatdate(WALL0 + 42, usegmt=True), WALL0) == 42.0


# ---------------------------------------------------------------- the whole call is bounded


def hang(clock: FakeClock) -> Any:
    """A server that never answers: each attempt ends when its read timeout passes (virtual time)."""

    def outcome(request: httpx.Request) -> httpx.Response:
        budget = request.extensions["timeout"]["read"]
        clock.advance(budget)
        raise httpx.ReadTimeout("timed out", request=request)

    return outcome


@pytest.mark.parametrize("kind", ["MonitorJob", "STOP"])
async def test_total_timeout_bounds_the_whole_call(flavour: str, kind: str) -> None:
    clock = FakeClock()
    server = ScriptedServer()
    server.plan(target(kind), *[hang(clock)] * 20)
    client = make_client(flavour, server.handler, clock=clock, timeout=30, total_timeout=45, max_retries=20)
    begin = clock.now()
    method, args, kwargs = CALLS[kind]
    with pytest.raises(APITimeoutError) as info:
        await call(client, method, *args, **kwargs)
    await close(client)
    assert clock.now() - begin <= 45.0 + 1e-9
    attempts = server.calls(target(kind))
    assert info.value.attempts == len(attempts) == 2
    budgets = [r.extensions["timeout"]["read"] for r in attempts]
    assert budgets[0] == 30.0
    assert budgets[1] < 15.0  # the last attempt only gets what is left of the 45 s


async def test_connect_errors_on_start_are_bounded_by_total_timeout(flavour: str) -> None:
    clock = FakeClock()
    server = ScriptedServer()

    def slow_refusal(request: httpx.Request) -> httpx.Response:
        clock.advance(4.0)
        raise httpx.ConnectError("refused", request=request)

    server.plan(w.JOB_ACTION, *[slow_refusal] * 50)
    client = make_client(flavour, server.handler, clock=clock, total_timeout=20, max_retries=50)
    begin = clock.now()
    with pytest.raises(APIConnectionError) as info:
        await call(client, "job_action", "START", application="DEMO2", job="J")
    await close(client)
    assert clock.now() - begin <= 20.0
    assert info.value.attempts == len(server.calls(w.JOB_ACTION)) >= 2
    assert len({b[w.F_TASK_ID] for b in server.bodies(w.JOB_ACTION)}) == 1


async def test_no_total_timeout(flavour: str) -> None:
    clock = FakeClock()
    server = ScriptedServer()
    server.plan(w.MONITOR_JOB, *[hang(clock)] * 3)
    client = make_client(flavour, server.handler, clock=clock, timeout=30, total_timeout=None, max_retries=3)
    status = await call(client, "monitor_job", 2112)
    await close(client)
    assert status.batch_request_id == 2112
    assert [r.extensions["timeout"]["read"] for r in server.calls(w.MONITOR_JOB)] == [30.0] * 4


# ---------------------------------------------------------------- START specifics


async def test_start_resent_then_unknown_keeps_one_task_id(flavour: str) -> None:
    task_id = str(uuid.uuid4())
    server = ScriptedServer()
    server.plan(w.JOB_ACTION, httpx.ConnectError, status_response(503), httpx.ReadTimeout)
    client = make_client(flavour, server.handler)
    with pytest.raises(StartOutcomeUnknownError) as info:
        await call(client, "job_action", "START", application="DEMO2", job="J", task_id=task_id)
    await close(client)
    assert info.value.task_id == task_id
    assert info.value.attempts == 3
    assert [b[w.F_TASK_ID] for b in server.bodies(w.JOB_ACTION)] == [task_id] * 3


@pytest.mark.parametrize("brid", [0, -1, "0"])
async def test_start_answered_without_a_job(flavour: str, brid: int | str) -> None:
    server = ScriptedServer()
    answer = {"BatchRequestId": brid, "Status": 11, "Message": "Job 'J' is not enabled in AMT"}
    server.plan(w.JOB_ACTION, httpx.Response(200, json=answer))
    client = make_client(flavour, server.handler)
    with pytest.raises(JobStartError) as info:
        await call(client, "job_action", "START", application="DEMO2", job="J")
    await close(client)
    err = info.value
    assert "Job 'J' is not enabled in AMT" in err.message
    assert err.batch_request_id == int(brid)
    assert err.task_id == server.bodies(w.JOB_ACTION)[0][w.F_TASK_ID]
    assert err.attempts == 1
    assert not isinstance(err, APIConnectionError)
    assert len(server.calls(w.JOB_ACTION)) == 1


# ---------------------------------------------------------------- STOP / KILL and 409


# Every first failure that may have landed is a row of tests/core/test_call_table.py::test_sequence;
# here the loop shows the 409 becomes an accepted result with the job's code from MonitorJob.
@pytest.mark.parametrize("first", ["500", "ReadTimeout"])
@pytest.mark.parametrize("action", ["STOP", "KILL"])
async def test_a_409_answering_a_repeated_stop_counts_as_accepted(flavour: str, action: str, first: str) -> None:
    server = ScriptedServer()
    server.status_code = 12  # type: ignore[assignment]
    server.plan(w.JOB_ACTION, FAILURES[first][0], status_response(409, error_code=w.E_ACTION_NOT_ALLOWED))
    client = make_client(flavour, server.handler)
    result = await call(client, "job_action", action, batch_request_id=2112)
    await close(client)
    assert result.batch_request_id == 2112
    assert int(result.code) == 12
    assert len(server.calls(w.JOB_ACTION)) == 2


@pytest.mark.parametrize("first", [None])  # after 503, 429, ConnectError: tests/core/test_call_table.py
async def test_a_409_that_no_earlier_attempt_explains_is_a_conflict(flavour: str, first: str | None) -> None:
    server = ScriptedServer()
    if first is not None:
        server.plan(w.JOB_ACTION, FAILURES[first][0])
    server.plan(w.JOB_ACTION, status_response(409, error_code=w.E_ACTION_NOT_ALLOWED))
    client = make_client(flavour, server.handler)
    with pytest.raises(ConflictError):
        await call(client, "job_action", "STOP", batch_request_id=2112)
    await close(client)


async def test_a_logon_inside_a_call_shares_its_deadline(flavour: str) -> None:
    """A new Logon after a 401 is part of the call: total_timeout bounds it too."""
    clock = FakeClock()
    server = ScriptedServer()
    client = make_client(flavour, server.handler, clock=clock, timeout=30, total_timeout=45, max_retries=10)
    await call(client, "monitor_job", 1)
    server.expire()

    def slow_401(request: httpx.Request) -> httpx.Response:
        clock.advance(40)
        return status_response(401)

    server.plan(w.MONITOR_JOB, slow_401)
    server.plan(w.LOGON, *[hang(clock)] * 10)
    begin = clock.now()
    with pytest.raises(APITimeoutError):
        await call(client, "monitor_job", 1)
    await close(client)
    assert clock.now() - begin <= 45.0 + 1e-9
    assert server.calls(w.LOGON)[-1].extensions["timeout"]["read"] <= 5.0


async def test_the_first_logon_counts_against_the_call(flavour: str) -> None:
    clock = FakeClock()
    server = ScriptedServer()
    server.plan(w.LOGON, *[hang(clock)] * 10)
    client = make_client(flavour, server.handler, clock=clock, timeout=30, total_timeout=45, max_retries=10)
    begin = clock.now()
    with pytest.raises(APITimeoutError) as info:
        await call(client, "get_messages", 1)
    await close(client)
    assert clock.now() - begin <= 45.0 + 1e-9
    assert "Logon" in str(info.value)
    assert not server.calls(w.GET_MESSAGES)
