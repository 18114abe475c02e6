"""The client's contract tests, run against the emulator's door 1 as well as the unit tests' fake server.

Each test body runs on every backend of `_backends.py`, for `Client` and for `AsyncClient`:
the scripted fake server of tests/unit (with a small job model), and the emulator in process
(`Emulator().client()` / `.async_client()`, its `VirtualClock`) in both of its dialects (the
contract's, and ASP.NET's camelCase and problem+json), where every situation comes
from the emulator's real behaviour (an unknown job or id, a job that has ended, a wrong
password) or from its public fault injection (`faults.fail_next` / `drop_next` /
`delay_next`, `expire_tokens()`). What the client sent is read from what the backend
recorded (on the emulator: `emulator.requests`). The unit tests keep the cases only a
scripted server can produce (a proxy's HTML page, a truncated body, a pool timeout, ...).
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import httpx
import pytest

from amtopcon import CompletionCode, TaskValue
from amtopcon import _constants as K
from amtopcon import _wire as w
from amtopcon.errors import (
    AmtOpConError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StartOutcomeUnknownError,
    ValidationError,
)
from tests.unit._support import call, close

from ._backends import BACKENDS, FIRST_STEP, UNKNOWN_JOB, Backend, Seen, contract_error_code

pytestmark = pytest.mark.anyio

C = CompletionCode
FLAVOURS = ["sync", "async"]


@pytest.fixture(params=[pytest.param((b, f), id=f"{b}-{f}") for b in BACKENDS for f in FLAVOURS])
def backend(request: pytest.FixtureRequest) -> Backend:
    """A fresh backend per test: each server with `Client` and with `AsyncClient`."""
    name, flavour = request.param
    return BACKENDS[name](flavour)


@pytest.fixture(params=list(BACKENDS))
def server(request: pytest.FixtureRequest) -> Backend:
    """A fresh backend per test, for requests sent outside any client."""
    return BACKENDS[request.param]("sync")


@pytest.fixture(autouse=True)
def no_real_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every wait goes through the clients' clock: a real sleep fails the test."""
    real = asyncio.sleep

    def sync_sleep(seconds: float) -> None:
        raise AssertionError(f"slept {seconds}s of real time")

    async def async_sleep(seconds: float, *args: Any) -> Any:
        if seconds > 0:
            raise AssertionError(f"slept {seconds}s of real time")
        return await real(0, *args)

    monkeypatch.setattr(time, "sleep", sync_sleep)
    monkeypatch.setattr(asyncio, "sleep", async_sleep)


START_KWARGS: dict[str, Any] = {"application": "DEMO2", "job": "RUN_PARAMETERTESTA"}


def calls(brid: int) -> dict[str, tuple[str, tuple[Any, ...], dict[str, Any]]]:
    """One representative call per kind of request, on the job `brid`: (method, args, kwargs)."""
    return {
        "Logon": ("monitor_job", (brid,), {}),  # Logon happens on its own before the first call
        "HeartBeat": ("heartbeat", (), {}),
        "MonitorJob": ("monitor_job", (brid,), {}),
        "GetMessages": ("get_messages", (brid,), {}),
        "START": ("job_action", ("START",), dict(START_KWARGS)),
        "STOP": ("job_action", ("STOP",), {"batch_request_id": brid}),
        "KILL": ("job_action", ("KILL",), {"batch_request_id": brid}),
    }


def target(kind: str) -> str:
    """The function that answers a kind of call."""
    return w.JOB_ACTION if kind in ("START", "STOP", "KILL") else kind


def check_headers(seen: Seen, *, token: bool, extra: dict[str, str] | None = None) -> str:
    """The headers every request carries, each once; returns its X-Request-Id."""
    agent = seen.header("User-Agent")
    assert agent is not None and agent.startswith("amtopcon-python/")
    assert ", " not in agent  # sent once (a repeated header is recorded joined by ", ")
    rid = seen.header(w.H_REQUEST_ID)
    assert rid is not None and str(uuid.UUID(rid)) == rid
    sent = seen.header(w.H_TOKEN)
    if token:
        assert sent and "," not in sent and " " not in sent
    else:
        assert sent is None
    for name, value in (extra or {}).items():
        assert seen.header(name) == value
    return rid


def check_logon(backend: Backend, seen: Seen, extra: dict[str, str] | None = None) -> None:
    assert seen.function == "Logon"
    assert seen.method == "POST"
    assert seen.path == backend.service_path + "Logon"
    assert seen.query == {}
    assert seen.header("Content-Type") == "application/json"
    assert seen.body == {"UserName": backend.user, "Password": backend.recorded_password}
    assert seen.status == 200
    check_headers(seen, token=False, extra=extra)


# =========================================================================== the requests sent


async def test_logon_then_monitor_job(backend: Backend) -> None:
    brid = backend.start_job()
    client = backend.client()
    status = await call(client, "monitor_job", brid)
    await close(client)
    assert status.batch_request_id == brid
    assert status.code is C.RUNNING
    logon, monitor = backend.seen()
    check_logon(backend, logon)
    assert monitor.method == "GET"
    assert monitor.path == backend.service_path + "MonitorJob"
    assert monitor.query == {"batchRequestId": str(brid)}
    assert monitor.body is None
    check_headers(monitor, token=True)
    assert monitor.status == 200  # the token the Logon issued was accepted


async def test_the_token_is_reused_and_request_ids_are_fresh(backend: Backend) -> None:
    brid = backend.start_job()
    client = backend.client()
    await call(client, "monitor_job", brid)
    await call(client, "monitor_job", str(brid))  # a digit string is accepted
    await close(client)
    seen = backend.seen()
    assert [s.function for s in seen] == ["Logon", "MonitorJob", "MonitorJob"]
    assert len({check_headers(s, token=i > 0) for i, s in enumerate(seen)}) == 3
    assert seen[1].header(w.H_TOKEN) == seen[2].header(w.H_TOKEN)
    assert seen[2].query == {"batchRequestId": str(brid)}
    assert [s.status for s in seen] == [200, 200, 200]


async def test_heartbeat_sends_no_token_and_needs_no_logon(backend: Backend) -> None:
    client = backend.client(headers={"X-Trace": "t-1"})
    assert await call(client, "heartbeat") is True
    await close(client)
    (request,) = backend.seen()
    assert request.method == "GET"
    assert request.path == backend.service_path + "HeartBeat"
    assert request.query == {}
    assert request.body is None
    check_headers(request, token=False, extra={"X-Trace": "t-1"})


async def test_get_messages_always_sends_after_and_max_count(backend: Backend) -> None:
    brid = backend.start_job()
    client = backend.client()
    first_page = await call(client, "get_messages", brid)
    await call(client, "get_messages", brid, after=17, max_count=50)
    await close(client)
    _, first, second = backend.seen()
    assert first.method == second.method == "GET"
    assert first.path == second.path == backend.service_path + "GetMessages"
    assert first.query == {"batchRequestId": str(brid), "afterSequence": "0", "maxCount": "1000"}
    assert second.query == {"batchRequestId": str(brid), "afterSequence": "17", "maxCount": "50"}
    check_headers(first, token=True)
    check_headers(second, token=True)
    assert first.status == second.status == 200
    assert first_page.batch_request_id == brid
    assert first_page.messages and first_page.messages[0].sequence == 1


async def test_start_sends_every_field(backend: Backend) -> None:
    extra = {"X-Trace": "t-2"}
    client = backend.client(headers=extra)
    task_id = str(uuid.uuid4())
    result = await call(
        client,
        "job_action",
        "START",
        application="DEMO2",
        job="RUN_PARAMETERTESTA",
        parameters=["'PARAM'", "NAME=VALUE"],
        task_values={"PRIORITY": "5", "MODE": "full"},
        run_as="AMTUSER",
        file_name="C:\\scripts\\run.ps1",
        submit_user="JOE",
        station="ST1",
        queue="NIGHT",
        task_id=task_id,
    )
    await close(client)
    assert backend.task_jobs(task_id) == [result.batch_request_id]
    logon, start = backend.seen()
    check_logon(backend, logon, extra)
    assert start.method == "POST"
    assert start.path == backend.service_path + "OpConJobAction"
    assert start.query == {}
    assert start.header("Content-Type") == "application/json"
    check_headers(start, token=True, extra=extra)
    assert start.body == {
        "Action": "START",
        "TaskId": task_id,
        "ApplicationName": "DEMO2",
        "JobName": "RUN_PARAMETERTESTA",
        "FileName": "C:\\scripts\\run.ps1",
        "RunAsUser": "AMTUSER",
        "SubmitUser": "JOE",
        "Station": "ST1",
        "QueueName": "NIGHT",
        "Parameters": ["'PARAM'", "NAME=VALUE"],
        "TaskValues": [{"Name": "PRIORITY", "Value": "5"}, {"Name": "MODE", "Value": "full"}],
    }
    assert start.status == 200


async def test_start_sends_null_where_absent_and_a_fresh_uuid(backend: Backend) -> None:
    client = backend.client()
    one = await call(client, "job_action", "START", application="DEMO2", job="RUN_PARAMETERTESTA")
    two = await call(
        client,
        "job_action",
        "start",  # the action is case-insensitive
        application="DEMO2",
        job="RUN_PARAMETERTESTA",
        task_values=[TaskValue("PRIORITY", "5"), TaskValue("B", "")],
    )
    await close(client)
    _, first, second = backend.seen()
    sent = dict(first.body)
    task_id = sent.pop("TaskId")
    assert uuid.UUID(task_id).version == 4
    assert sent == {
        "Action": "START",
        "ApplicationName": "DEMO2",
        "JobName": "RUN_PARAMETERTESTA",
        "FileName": None,
        "RunAsUser": None,
        "SubmitUser": "BATCH",
        "Station": "OPCON",
        "QueueName": None,
        "Parameters": [],
        "TaskValues": [],
    }
    other = second.body
    assert other["TaskId"] != task_id  # one TaskId per logical START
    assert other["Action"] == "START"
    assert other["TaskValues"] == [{"Name": "PRIORITY", "Value": "5"}, {"Name": "B", "Value": ""}]
    assert one.batch_request_id != two.batch_request_id  # two STARTs, two jobs
    assert backend.task_jobs(task_id) == [one.batch_request_id]
    assert backend.task_jobs(other["TaskId"]) == [two.batch_request_id]


async def test_start_with_a_file_name_only(backend: Backend) -> None:
    client = backend.client()
    result = await call(client, "job_action", "START", application="DEMO2", file_name="\\\\srv\\share\\job.ps1")
    await close(client)
    (start,) = backend.seen(w.JOB_ACTION)
    assert start.body["JobName"] is None
    assert start.body["FileName"] == "\\\\srv\\share\\job.ps1"
    assert backend.task_jobs(start.body["TaskId"]) == [result.batch_request_id]


@pytest.mark.parametrize(("action", "ends"), [("STOP", C.ABORTED), ("KILL", C.KILLED)])
async def test_stop_and_kill(backend: Backend, action: str, ends: CompletionCode) -> None:
    brid = backend.start_job()
    client = backend.client(headers={"X-Trace": "t-3"})
    result = await call(client, "job_action", action, batch_request_id=brid)
    await close(client)
    assert result.batch_request_id == brid
    logon, request = backend.seen()
    check_logon(backend, logon, {"X-Trace": "t-3"})
    assert request.method == "POST"
    assert request.path == backend.service_path + "OpConJobAction"
    check_headers(request, token=True, extra={"X-Trace": "t-3"})
    assert request.body == {"Action": action, "BatchRequestId": brid}
    backend.advance(FIRST_STEP)  # STOP ends a job at its next step, KILL at once
    assert backend.code(brid) is ends


async def test_every_attempt_has_a_fresh_request_id(backend: Backend) -> None:
    backend.fail(w.JOB_ACTION, 503, retry_after=1)
    backend.drop(w.JOB_ACTION, after_processing=False)
    client = backend.client()
    result = await call(client, "job_action", "START", **START_KWARGS)
    await close(client)
    starts = backend.seen(w.JOB_ACTION)
    assert [s.status for s in starts] == [503, None, 200]
    assert len({check_headers(s, token=True) for s in starts}) == 3
    (task_id,) = {s.body["TaskId"] for s in starts}
    assert backend.task_jobs(task_id) == [result.batch_request_id]  # the refused attempts queued nothing
    assert starts[1].time - starts[0].time == 1.0  # Retry-After, waited on the clock
    assert backend.sleeps[0] == 1.0


async def test_user_headers_cannot_duplicate_ours(backend: Backend) -> None:
    brid = backend.start_job()
    forged = {"user-agent": "mine/1.0", "x-request-id": "fixed", "x-amt-logontoken": "forged"}
    client = backend.client(headers=forged)
    await call(client, "heartbeat")
    await call(client, "monitor_job", brid)
    await close(client)
    heartbeat, logon, monitor = backend.seen()
    check_headers(heartbeat, token=False)  # a caller's token header is never sent on HeartBeat or Logon
    check_logon(backend, logon)
    check_headers(monitor, token=True)  # ... and never next to ours
    assert monitor.header(w.H_TOKEN) != "forged"
    assert monitor.status == 200


@pytest.mark.parametrize("fault", ["down", "503", "ConnectError", "RemoteProtocolError", "ReadTimeout"])
async def test_heartbeat_is_false_while_the_server_is_down_and_true_after(backend: Backend, fault: str) -> None:
    if fault == "down":
        backend.set_available(False)
    else:
        inject(backend, w.HEARTBEAT, fault, times=4)
    client = backend.client()
    assert await call(client, "heartbeat") is False  # never raises
    backend.set_available(True)
    assert await call(client, "heartbeat") is True
    await close(client)
    assert len(backend.seen(w.HEARTBEAT)) == (2 if fault == "down" else 5)
    assert backend.logons() == 0


async def test_a_base_url_without_trailing_slash(backend: Backend) -> None:
    client = backend.client(base_url=backend.base_url.rstrip("/"))
    assert client.base_url == backend.base_url
    assert await call(client, "heartbeat") is True
    await close(client)
    (request,) = backend.seen()
    assert request.path == backend.service_path + "HeartBeat"


# =========================================================================== the error mapping

# (id, how the backend is brought to answer, call kind, function answering, status,
#  expected class, expected ErrorCode, Retry-After sent, expected retry_after)
ERRORS: list[tuple[Any, ...]] = [
    ("400", "fail", "MonitorJob", w.MONITOR_JOB, 400, BadRequestError, w.E_INVALID_REQUEST, None, None),
    ("401-logon", "wrong-password", "MonitorJob", w.LOGON, 401, AuthenticationError, w.E_AUTHENTICATION_FAILED,
     None, None),
    ("403", "fail", "GetMessages", w.GET_MESSAGES, 403, PermissionDeniedError, w.E_NOT_AUTHORIZED, None, None),
    ("404-job", "unknown-job", "START", w.JOB_ACTION, 404, NotFoundError, w.E_JOB_NOT_FOUND, None, None),
    ("404-monitor", "unknown-id", "MonitorJob", w.MONITOR_JOB, 404, NotFoundError, w.E_BATCH_REQUEST_NOT_FOUND,
     None, None),
    ("404-messages", "unknown-id", "GetMessages", w.GET_MESSAGES, 404, NotFoundError, w.E_BATCH_REQUEST_NOT_FOUND,
     None, None),
    ("404-stop", "unknown-id", "STOP", w.JOB_ACTION, 404, NotFoundError, w.E_BATCH_REQUEST_NOT_FOUND, None, None),
    ("409-stop", "ended", "STOP", w.JOB_ACTION, 409, ConflictError, w.E_ACTION_NOT_ALLOWED, None, None),
    ("409-kill", "ended", "KILL", w.JOB_ACTION, 409, ConflictError, w.E_ACTION_NOT_ALLOWED, None, None),
    ("429", "fail", "GetMessages", w.GET_MESSAGES, 429, RateLimitError, w.E_TOO_MANY_REQUESTS, 7, 7.0),
    ("429-start", "fail", "START", w.JOB_ACTION, 429, RateLimitError, w.E_TOO_MANY_REQUESTS, None, None),
    ("500", "fail", "MonitorJob", w.MONITOR_JOB, 500, InternalServerError, w.E_INTERNAL_ERROR, None, None),
    ("502", "fail", "STOP", w.JOB_ACTION, 502, InternalServerError, w.E_INTERNAL_ERROR, None, None),
    ("503", "fail", "KILL", w.JOB_ACTION, 503, InternalServerError, w.E_SERVER_BUSY, "5", 5.0),
    ("504", "fail", "MonitorJob", w.MONITOR_JOB, 504, InternalServerError, w.E_INTERNAL_ERROR, None, None),
    ("418", "fail", "MonitorJob", w.MONITOR_JOB, 418, APIStatusError, contract_error_code(418, w.MONITOR_JOB),
     None, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("how", "kind", "function", "status", "cls", "code", "retry_after", "after"),
    [row[1:] for row in ERRORS],
    ids=[row[0] for row in ERRORS],
)
async def test_error_mapping(
    backend: Backend,
    how: str,
    kind: str,
    function: str,
    status: int,
    cls: type[APIStatusError],
    code: str,
    retry_after: float | str | None,
    after: float | None,
) -> None:
    brid = backend.start_job(seconds=1.0)
    password = backend.password
    if how == "fail":
        backend.fail(function, status, retry_after=retry_after)
    elif how == "wrong-password":
        password = "not-the-password"
    elif how == "unknown-id":
        brid = backend.unknown_id()
    elif how == "ended":
        backend.advance(2.0)
        assert backend.code(brid) is C.DONE
    method, args, kwargs = calls(brid)[kind]
    if how == "unknown-job":
        kwargs.update(application=UNKNOWN_JOB[0], job=UNKNOWN_JOB[1])
    client = backend.client(max_retries=0, password=password)
    with pytest.raises(AmtOpConError) as info:
        await call(client, method, *args, **kwargs)
    await close(client)
    err = info.value
    assert type(err) is cls
    assert err.status_code == status
    assert err.error_code == code
    assert isinstance(err.response, httpx.Response)
    assert err.response.status_code == status
    assert err.message and err.message == backend.server_message(err.response)  # the server's own words
    assert err.retry_after == after
    assert err.attempts == 1
    last = backend.seen(function)[-1]
    assert last.status == status
    assert err.request_id == backend.answer_request_id(err.response, last.header(w.H_REQUEST_ID))
    if backend.name == "emulator-aspnet":  # a problem: its traceId is the request id
        assert err.response.headers[w.H_CONTENT_TYPE].startswith(w.PROBLEM_JSON_TYPE)
        assert err.request_id is not None and err.request_id.startswith("00-")
    shown = str(err)
    assert f"HTTP {status}" in shown
    assert code in shown
    assert err.message in shown
    assert err.request_id is not None and err.request_id in shown
    assert "after 1 attempt" in shown
    assert not isinstance(err, APIConnectionError)
    assert [s.function for s in backend.seen()] == ([w.LOGON] if function == w.LOGON else [w.LOGON, function])


def logon_token(backend: Backend) -> str:
    body = json.dumps({w.F_USER_NAME: backend.user, w.F_PASSWORD: backend.password}).encode()
    answer = backend.raw("POST", w.LOGON, content=body)
    assert answer.status_code == 200
    token = w.ci_getter(answer.json())(w.F_TOKEN)
    assert isinstance(token, str)
    return token


def start_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Action": "START",
        "TaskId": str(uuid.uuid4()),
        "ApplicationName": "DEMO2",
        "JobName": "RUN_PARAMETERTESTA",
        "FileName": None,
        "RunAsUser": None,
        "SubmitUser": "BATCH",
        "Station": "OPCON",
        "QueueName": None,
        "Parameters": [],
        "TaskValues": [],
    }
    body.update(changes)
    return body


# Bodies that break the contract's rules (the client refuses to send them): a server answers 400.
INVALID_BODIES: dict[str, bytes] = {
    "not-json": b'{"Action": "START", "ApplicationName": ',
    "not-an-object": b'["START"]',
    "no-action": json.dumps({"BatchRequestId": 2112}).encode(),
    "unknown-action": json.dumps({"Action": "PAUSE", "BatchRequestId": 2112}).encode(),
    "stop-without-id": json.dumps({"Action": "STOP"}).encode(),
    "id-zero": json.dumps({"Action": "KILL", "BatchRequestId": 0}).encode(),
    "id-not-a-number": json.dumps({"Action": "KILL", "BatchRequestId": "abc"}).encode(),
    "no-application": json.dumps(start_body(ApplicationName=None)).encode(),
    "control-character": json.dumps(start_body(JobName="RUN\x00PARAMETERTESTA")).encode(),
    "blank-padded-name": json.dumps(start_body(ApplicationName=" DEMO2")).encode(),
    "name-too-long": json.dumps(start_body(JobName="J" * 129)).encode(),
    "relative-file-name": json.dumps(start_body(JobName=None, FileName="scripts\\run.ps1")).encode(),
    "too-many-parameters": json.dumps(start_body(Parameters=["p"] * 257)).encode(),
    "duplicate-task-values": json.dumps(
        start_body(TaskValues=[{"Name": "A", "Value": "1"}, {"Name": "A", "Value": "2"}])
    ).encode(),
    "empty-task-value-name": json.dumps(start_body(TaskValues=[{"Name": "", "Value": "1"}])).encode(),
    "task-value-null": json.dumps(start_body(TaskValues=[{"Name": "A", "Value": None}])).encode(),
    "tab-in-name": json.dumps(start_body(ApplicationName="DE\tMO2")).encode(),
    "newline-in-queue": json.dumps(start_body(QueueName="Q\n")).encode(),
    "blank-run-as": json.dumps(start_body(RunAsUser=" AMTUSER")).encode(),
    "empty-submit-user": json.dumps(start_body(SubmitUser="")).encode(),
    "long-station": json.dumps(start_body(Station="S" * 129)).encode(),
    "long-parameter": json.dumps(start_body(Parameters=["ok", "p" * 4097])).encode(),
    "parameter-not-text": json.dumps(start_body(Parameters=["ok", 5])).encode(),
    "task-id-not-a-uuid": json.dumps(start_body(TaskId="not-a-uuid")).encode(),
    "no-job-nor-file": json.dumps(start_body(JobName=None)).encode(),
}


@pytest.mark.parametrize("content", list(INVALID_BODIES.values()), ids=list(INVALID_BODIES))
def test_a_body_that_breaks_the_rules_is_a_400(server: Backend, content: bytes) -> None:
    token = logon_token(server)
    answer = server.raw("POST", w.JOB_ACTION, content=content, token=token)
    assert answer.status_code == 400
    err = w.status_error(answer.status_code, answer.content, request_id=answer.headers.get(w.H_REQUEST_ID))
    assert type(err) is BadRequestError
    assert err.error_code == w.E_INVALID_REQUEST
    assert err.message
    assert server.seen(w.JOB_ACTION)[-1].status == 400
    assert not server.task_jobs(start_body()["TaskId"])


async def test_the_limits_themselves_are_accepted_by_both_sides(backend: Backend) -> None:
    """What the client lets through, the server takes: 128-character names, 256 parameters of
    4,096 characters, every absolute path form, an empty task value."""
    name = "N" * 128
    backend.define_job(name, name)
    client = backend.client()
    paths = ["C:\\scripts\\run.ps1", "d:\\x", "\\\\srv\\share\\run.ps1", "/opt/amt/run.ps1"]
    results = [await call(client, "job_action", "START", application=name, job=name, parameters=["p" * 4096] * 256)]
    for path in paths:
        kwargs = {"file_name": path, "task_values": {"A": "", "B": "x"}}
        results.append(await call(client, "job_action", "START", application="DEMO2", **kwargs))
    await close(client)
    starts = backend.seen(w.JOB_ACTION)
    assert [s.status for s in starts] == [200] * (1 + len(paths))
    assert [backend.task_jobs(s.body[w.F_TASK_ID]) for s in starts] == [[r.batch_request_id] for r in results]
    assert starts[0].body[w.F_PARAMETERS] == ["p" * 4096] * 256


def test_a_malformed_query_is_a_400(server: Backend) -> None:
    brid = server.start_job()
    token = logon_token(server)
    bad = ["batchRequestId=0", "batchRequestId=x", f"batchRequestId={brid}&afterSequence=-1"]
    for query in [*bad, f"batchRequestId={brid}&maxCount=0", f"batchRequestId={brid}&maxCount=ten"]:
        answer = server.raw("GET", f"{w.GET_MESSAGES}?{query}", token=token)
        assert answer.status_code == 400, query
        err = w.status_error(400, answer.content, request_id=None)
        assert type(err) is BadRequestError and err.error_code == w.E_INVALID_REQUEST


# =========================================================================== the retry matrix

# What fails, how each backend produces it, and what the call raises when it keeps failing.
FAILURES: dict[str, type[AmtOpConError]] = {
    "ConnectError": APIConnectionError,  # dropped before the request reached the server
    "RemoteProtocolError": APIConnectionError,  # dropped after the server processed it
    "ReadTimeout": APITimeoutError,  # processed, answered after the read timeout
    "429": RateLimitError,
    "500": InternalServerError,
    "502": InternalServerError,
    "503": InternalServerError,
    "504": InternalServerError,
}
# START may be resent only after these: the request provably never reached the server,
# or was refused unprocessed.
START_RESENT = {"ConnectError", "429", "503"}
# The request took effect although the client got no answer.
PROCESSED = {"RemoteProtocolError", "ReadTimeout"}
KINDS = ["Logon", "HeartBeat", "MonitorJob", "GetMessages", "START", "STOP", "KILL"]


def inject(backend: Backend, function: str, failure: str, times: int = 1) -> None:
    if failure == "ConnectError":
        backend.drop(function, after_processing=False, times=times)
    elif failure == "RemoteProtocolError":
        backend.drop(function, after_processing=True, times=times)
    elif failure == "ReadTimeout":
        backend.hang(function, times=times)
    else:
        backend.fail(function, int(failure), times=times)


def resent(kind: str, failure: str) -> bool:
    return kind != "START" or failure in START_RESENT


def check_result(backend: Backend, kind: str, brid: int, result: Any) -> None:
    if kind == "HeartBeat":
        assert result is True
    elif kind == "START":
        (start_body_sent, *_) = backend.bodies(w.JOB_ACTION)
        assert backend.task_jobs(start_body_sent[w.F_TASK_ID]) == [result.batch_request_id]
    else:
        assert result.batch_request_id == brid


@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize("kind", KINDS)
async def test_one_failure(backend: Backend, kind: str, failure: str) -> None:
    """One failure, then the correct answer: resent (once, after one back-off) or not."""
    brid = backend.start_job()
    inject(backend, target(kind), failure)
    client = backend.client()
    method, args, kwargs = calls(brid)[kind]
    if resent(kind, failure):
        result = await call(client, method, *args, **kwargs)
        check_result(backend, kind, brid, result)
        assert len(backend.seen(target(kind))) == 2
        assert len(backend.sleeps) == 1
        if kind == "START":
            first, second = backend.bodies(w.JOB_ACTION)
            assert first == second  # the same TaskId and fields on the resend
            uuid.UUID(first[w.F_TASK_ID])
        if kind in ("STOP", "KILL") and failure in PROCESSED:
            # The first attempt landed: the job ended, the resend was answered 409, which counts as accepted.
            backend.advance(FIRST_STEP)
            assert backend.code(brid) is (C.KILLED if kind == "KILL" else C.ABORTED)
    else:
        with pytest.raises(StartOutcomeUnknownError) as info:
            await call(client, method, *args, **kwargs)
        err = info.value
        (sent,) = backend.bodies(w.JOB_ACTION)
        assert err.task_id == sent[w.F_TASK_ID]
        assert err.task_id in str(err)
        assert not isinstance(err, APIConnectionError)
        assert err.attempts == 1
        assert "after 1 attempt" in str(err)
        assert "may or may not" in str(err)
        assert backend.sleeps == []
        # Whether the job was queued is what the error cannot know; the server does.
        assert len(backend.task_jobs(err.task_id)) == (1 if failure in PROCESSED else 0)
    await close(client)


@pytest.mark.parametrize(
    ("kind", "failure"), [pytest.param(k, f, id=f"{k}-{f}") for k in KINDS for f in FAILURES if resent(k, f)]
)
async def test_a_failure_that_persists(backend: Backend, kind: str, failure: str) -> None:
    """max_retries is respected; the error says how many attempts were made."""
    brid = backend.start_job()
    inject(backend, target(kind), failure, times=3)
    client = backend.client(max_retries=2)
    method, args, kwargs = calls(brid)[kind]
    if kind == "HeartBeat":
        assert await call(client, method, *args, **kwargs) is False
    else:
        with pytest.raises(AmtOpConError) as info:
            await call(client, method, *args, **kwargs)
        err = info.value
        assert type(err) is FAILURES[failure]
        assert isinstance(err, (APIStatusError, APIConnectionError))
        assert err.attempts == 3
        assert "after 3 attempts" in str(err)
        sent = backend.seen(target(kind))[-1].header(w.H_REQUEST_ID)
        response = getattr(err, "response", None)
        assert err.request_id == (sent if response is None else backend.answer_request_id(response, sent))
    assert len(backend.seen(target(kind))) == 3
    assert len(backend.sleeps) == 2
    if kind == "START":
        (task_id,) = {b[w.F_TASK_ID] for b in backend.bodies(w.JOB_ACTION)}
        assert backend.task_jobs(task_id) == []  # refused unprocessed, every time
    await close(client)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_401_that_answered_a_token(backend: Backend, kind: str) -> None:
    """Tokens expire: one new Logon, then the call is repeated (START too, with the same
    TaskId, and queued once). Logon and HeartBeat send no token: their 401 is final."""
    brid = backend.start_job()
    client = backend.client()
    assert await call(client, "monitor_job", brid) is not None  # logged on
    backend.mark()
    backend.expire_tokens()
    method, args, kwargs = calls(brid)[kind]
    if kind == "Logon":
        backend.fail(w.LOGON, 401)
        with pytest.raises(AuthenticationError) as info:
            await call(client, method, *args, **kwargs)
        assert info.value.attempts == 1
        assert info.value.error_code == w.E_AUTHENTICATION_FAILED
        assert [s.function for s in backend.seen()] == ["MonitorJob", "Logon"]
        assert [s.status for s in backend.seen()] == [401, 401]
    elif kind == "HeartBeat":
        backend.fail(w.HEARTBEAT, 401)
        assert await call(client, method, *args, **kwargs) is False
        assert len(backend.seen()) == 1
    else:
        result = await call(client, method, *args, **kwargs)
        check_result(backend, kind, brid, result)
        assert backend.logons() == 1  # one new Logon
        attempts = backend.seen(target(kind))
        assert [s.status for s in attempts] == [401, 200]
        assert attempts[0].header(w.H_TOKEN) != attempts[1].header(w.H_TOKEN)
        assert [s.function for s in backend.seen()] == [target(kind), "Logon", target(kind)]
        if kind == "START":
            first, second = backend.bodies(w.JOB_ACTION)
            assert first[w.F_TASK_ID] == second[w.F_TASK_ID]
            assert backend.task_jobs(first[w.F_TASK_ID]) == [result.batch_request_id]
    assert backend.sleeps == []
    await close(client)


async def test_a_401_after_the_new_logon_is_final(backend: Backend) -> None:
    brid = backend.start_job()
    backend.fail(w.MONITOR_JOB, 401, times=3)
    client = backend.client()
    with pytest.raises(AuthenticationError) as info:
        await call(client, "monitor_job", brid)
    await close(client)
    assert info.value.attempts == 2
    assert backend.logons() == 2
    assert len(backend.seen(w.MONITOR_JOB)) == 2


async def test_a_refused_logon_is_not_retried(backend: Backend) -> None:
    client = backend.client(password="something else")
    with pytest.raises(AuthenticationError) as info:
        await call(client, "job_action", "START", **START_KWARGS)
    await close(client)
    assert info.value.error_code == w.E_AUTHENTICATION_FAILED
    assert info.value.attempts == 1
    assert [(s.function, s.status) for s in backend.seen()] == [("Logon", 401)]
    assert backend.sleeps == []


async def test_a_start_whose_outcome_is_unknown_can_be_repeated_with_its_task_id(backend: Backend) -> None:
    """The connection drops after START was processed: not resent; repeating it with the
    error's TaskId answers the job that was queued, and nothing is queued twice."""
    backend.drop(w.JOB_ACTION, after_processing=True)
    client = backend.client()
    with pytest.raises(StartOutcomeUnknownError) as info:
        await call(client, "job_action", "START", **START_KWARGS)
    task_id = info.value.task_id
    (queued,) = backend.task_jobs(task_id)  # the job does exist
    again = await call(client, "job_action", "START", **START_KWARGS, task_id=task_id)
    await close(client)
    assert again.batch_request_id == queued
    assert backend.task_jobs(task_id) == [queued]
    assert [s.status for s in backend.seen(w.JOB_ACTION)] == [None, 200]
    other = backend.client()
    status = await call(other, "monitor_job", queued)
    await close(other)
    assert status.batch_request_id == queued


# ---------------------------------------------------------------- Retry-After and back-off


def http_date(backend: Backend, seconds: float) -> str:
    return email.utils.formatdate(backend.wall() + seconds, usegmt=True)


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("kind", ["MonitorJob", "START", "STOP"])
@pytest.mark.parametrize("form", ["seconds", "http-date"])
async def test_retry_after_is_honoured(backend: Backend, status: int, kind: str, form: str) -> None:
    brid = backend.start_job()
    value = "7" if form == "seconds" else http_date(backend, 7)
    backend.fail(target(kind), status, retry_after=value)
    client = backend.client()
    method, args, kwargs = calls(brid)[kind]
    await call(client, method, *args, **kwargs)
    await close(client)
    assert backend.sleeps == [7.0]
    first, second = backend.seen(target(kind))
    assert (first.status, second.status) == (status, 200)
    assert second.time - first.time == 7.0  # the clock moved by the Retry-After, and no more


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("value", ["61", "3600", "http-date"])
@pytest.mark.parametrize("kind", ["MonitorJob", "START", "KILL"])
async def test_a_retry_after_over_60_s_is_not_waited_out(backend: Backend, value: str, kind: str, status: int) -> None:
    brid = backend.start_job()
    header = http_date(backend, 90) if value == "http-date" else value
    backend.fail(target(kind), status, retry_after=header)
    client = backend.client()
    begin = backend.now()
    method, args, kwargs = calls(brid)[kind]
    with pytest.raises(RateLimitError if status == 429 else InternalServerError) as info:
        await call(client, method, *args, **kwargs)
    await close(client)
    assert info.value.retry_after == (90.0 if value == "http-date" else float(value))
    assert info.value.attempts == 1
    assert backend.sleeps == []
    assert backend.now() == begin
    assert len(backend.seen(target(kind))) == 1


async def test_backoff_is_capped_exponential_with_jitter(backend: Backend) -> None:
    brid = backend.start_job()
    backend.fail(w.MONITOR_JOB, 500, times=8)
    client = backend.client(max_retries=7, total_timeout=None)
    with pytest.raises(InternalServerError) as info:
        await call(client, "monitor_job", brid)
    await close(client)
    assert info.value.attempts == 8
    assert len(backend.sleeps) == 7
    for n, delay in enumerate(backend.sleeps, start=1):
        cap = min(K.MAX_BACKOFF, K.INITIAL_BACKOFF * 2 ** (n - 1))
        assert cap / 2 <= delay <= cap
    attempts = backend.seen(w.MONITOR_JOB)
    gaps = [b.time - a.time for a, b in itertools.pairwise(attempts)]
    assert gaps == pytest.approx(backend.sleeps)  # each back-off, on the clock


async def test_max_retries_zero_sends_once(backend: Backend) -> None:
    brid = backend.start_job()
    backend.fail(w.MONITOR_JOB, 503)
    client = backend.client(max_retries=0)
    with pytest.raises(InternalServerError) as info:
        await call(client, "monitor_job", brid)
    await close(client)
    assert info.value.attempts == 1
    assert len(backend.seen(w.MONITOR_JOB)) == 1


# ---------------------------------------------------------------- the whole call is bounded


@pytest.mark.parametrize("kind", ["MonitorJob", "STOP"])
async def test_total_timeout_bounds_the_whole_call(backend: Backend, kind: str) -> None:
    brid = backend.start_job()
    backend.hang(target(kind), times=20)
    client = backend.client(timeout=30, total_timeout=45, max_retries=20)
    begin = backend.now()
    method, args, kwargs = calls(brid)[kind]
    with pytest.raises(APITimeoutError) as info:
        await call(client, method, *args, **kwargs)
    await close(client)
    end = backend.now()
    assert end - begin <= 45.0 + 1e-9
    attempts = backend.seen(target(kind))
    assert info.value.attempts == len(attempts) == 2
    assert attempts[1].time - attempts[0].time >= 30.0  # the first attempt waited its whole read timeout
    assert end - attempts[1].time < 15.0  # the last one only what was left of the 45 s


async def test_a_retry_after_beyond_the_deadline_is_not_waited_out(backend: Backend) -> None:
    brid = backend.start_job()
    backend.fail(w.MONITOR_JOB, 503, retry_after="30")
    client = backend.client(total_timeout=10)
    with pytest.raises(InternalServerError) as info:
        await call(client, "monitor_job", brid)
    await close(client)
    assert info.value.attempts == 1
    assert backend.sleeps == []


async def test_connect_errors_on_start_are_bounded_by_total_timeout(backend: Backend) -> None:
    backend.drop(w.JOB_ACTION, after_processing=False, times=50)
    client = backend.client(total_timeout=20, max_retries=50)
    begin = backend.now()
    with pytest.raises(APIConnectionError) as info:
        await call(client, "job_action", "START", **START_KWARGS)
    await close(client)
    assert backend.now() - begin <= 20.0
    assert info.value.attempts == len(backend.seen(w.JOB_ACTION)) >= 2
    (task_id,) = {b[w.F_TASK_ID] for b in backend.bodies(w.JOB_ACTION)}
    assert backend.task_jobs(task_id) == []


async def test_no_total_timeout(backend: Backend) -> None:
    brid = backend.start_job()
    backend.hang(w.MONITOR_JOB, times=3)
    client = backend.client(timeout=30, total_timeout=None, max_retries=3)
    status = await call(client, "monitor_job", brid)
    await close(client)
    assert status.batch_request_id == brid
    attempts = backend.seen(w.MONITOR_JOB)
    assert len(attempts) == 4
    for a, b in itertools.pairwise(attempts):
        assert b.time - a.time >= 30.0  # each attempt had its whole read timeout


async def test_start_resent_then_unknown_keeps_one_task_id(backend: Backend) -> None:
    task_id = str(uuid.uuid4())
    backend.drop(w.JOB_ACTION, after_processing=False)
    backend.fail(w.JOB_ACTION, 503)
    backend.hang(w.JOB_ACTION)
    client = backend.client()
    with pytest.raises(StartOutcomeUnknownError) as info:
        await call(client, "job_action", "START", **START_KWARGS, task_id=task_id)
    await close(client)
    assert info.value.task_id == task_id
    assert info.value.attempts == 3
    assert [b[w.F_TASK_ID] for b in backend.bodies(w.JOB_ACTION)] == [task_id] * 3
    assert len(backend.task_jobs(task_id)) == 1  # the last attempt was processed, its answer lost


# ---------------------------------------------------------------- STOP / KILL and 409


@pytest.mark.parametrize("first", ["500", "502", "504", "RemoteProtocolError", "ReadTimeout"])
@pytest.mark.parametrize("action", ["STOP", "KILL"])
async def test_a_409_answering_a_repeated_stop_counts_as_accepted(backend: Backend, action: str, first: str) -> None:
    """The first attempt may have landed; by the resend the job has ended (it did, or the
    job finished on its own meanwhile): the 409 counts as accepted, with the job's status."""
    processed = first in PROCESSED
    brid = backend.start_job(seconds=3600.0 if processed else 0.2)
    inject(backend, w.JOB_ACTION, first)
    client = backend.client()
    result = await call(client, "job_action", action, batch_request_id=brid)
    await close(client)
    ends = (C.KILLED if action == "KILL" else C.ABORTED) if processed else C.DONE
    assert result.batch_request_id == brid
    assert result.code is ends
    attempts = backend.seen(w.JOB_ACTION)
    assert [s.status for s in attempts][1:] == [409]
    assert backend.seen()[-1].function == w.MONITOR_JOB  # the status reported is the job's own


@pytest.mark.parametrize("first", [None, "503", "429", "ConnectError"])
async def test_a_409_that_no_earlier_attempt_explains_is_a_conflict(backend: Backend, first: str | None) -> None:
    brid = backend.start_job(seconds=1.0)
    backend.advance(2.0)  # the job has ended
    if first is not None:
        inject(backend, w.JOB_ACTION, first)
    client = backend.client()
    with pytest.raises(ConflictError) as info:
        await call(client, "job_action", "STOP", batch_request_id=brid)
    await close(client)
    assert info.value.error_code == w.E_ACTION_NOT_ALLOWED
    assert backend.seen(w.JOB_ACTION)[-1].status == 409


async def test_a_logon_inside_a_call_shares_its_deadline(backend: Backend) -> None:
    """A new Logon after a 401 is part of the call: total_timeout bounds it too."""
    brid = backend.start_job()
    client = backend.client(timeout=50, total_timeout=60, max_retries=10)
    await call(client, "monitor_job", brid)
    backend.mark()
    backend.expire_tokens()
    backend.delay(w.MONITOR_JOB, 40)  # the 401 comes after 40 s
    backend.hang(w.LOGON, times=10)
    begin = backend.now()
    with pytest.raises(APITimeoutError):
        await call(client, "monitor_job", brid)
    await close(client)
    end = backend.now()
    assert end - begin <= 60.0 + 1e-9
    (refused,) = backend.seen(w.MONITOR_JOB)
    assert refused.status == 401
    assert end - backend.seen(w.LOGON)[0].time <= 20.0 + 1e-9  # the Logon only got what was left


async def test_the_first_logon_counts_against_the_call(backend: Backend) -> None:
    backend.hang(w.LOGON, times=10)
    client = backend.client(timeout=30, total_timeout=45, max_retries=10)
    begin = backend.now()
    with pytest.raises(APITimeoutError) as info:
        await call(client, "get_messages", backend.unknown_id())
    await close(client)
    assert backend.now() - begin <= 45.0 + 1e-9
    assert "Logon" in str(info.value)
    assert not backend.seen(w.GET_MESSAGES)


# =========================================================================== authentication


async def test_logon_is_lazy_and_the_token_reused(backend: Backend) -> None:
    brid = backend.start_job()
    client = backend.client()
    assert backend.seen() == []  # constructing a client sends nothing
    assert await call(client, "heartbeat") is True
    assert backend.logons() == 0  # HeartBeat needs no token
    await call(client, "monitor_job", brid)
    await call(client, "get_messages", brid)
    await call(client, "job_action", "KILL", batch_request_id=brid)
    await close(client)
    assert backend.logons() == 1
    tokens = {s.header(w.H_TOKEN) for s in backend.seen() if s.function not in (w.LOGON, w.HEARTBEAT)}
    assert len(tokens) == 1
    assert {s.status for s in backend.seen()} == {200}


async def test_a_refused_logon_raises_at_once_and_is_not_cached(backend: Backend) -> None:
    brid = backend.start_job()
    client = backend.client(password="changed")
    for _ in range(2):
        with pytest.raises(AuthenticationError) as info:
            await call(client, "get_messages", brid)
        assert info.value.status_code == 401
        assert info.value.error_code == w.E_AUTHENTICATION_FAILED
    backend.accept_password("changed")  # fixed on the server: the next call logs on
    page = await call(client, "get_messages", brid)
    await close(client)
    assert page.messages
    assert [(s.function, s.status) for s in backend.seen()] == [
        ("Logon", 401),
        ("Logon", 401),
        ("Logon", 200),
        ("GetMessages", 200),
    ]
    # each Logon after a refused one waits a back-off (issue 15: no burst against an account lockout)
    assert len(backend.sleeps) == 2 and all(0 < s <= 8.0 for s in backend.sleeps)


async def test_no_credentials_is_a_validation_error_and_nothing_is_sent(backend: Backend) -> None:
    client = backend.client(username=None, password=None)
    with pytest.raises(ValidationError) as info:
        await call(client, "monitor_job", 2112)
    assert info.value.field == "username"
    assert await call(client, "heartbeat") is True  # HeartBeat needs no credentials
    await close(client)
    assert [s.function for s in backend.seen()] == ["HeartBeat"]


N = 8


async def test_concurrent_401s_share_one_logon(backend: Backend) -> None:
    """Tokens expire under N concurrent calls (threads, or tasks): one new Logon for all."""
    brids = [backend.start_job() for _ in range(N)]
    client = backend.client()
    await call(client, "monitor_job", brids[0])
    backend.mark()
    backend.expire_tokens()
    if backend.flavour == "sync":
        with ThreadPoolExecutor(N) as pool:
            results = list(pool.map(client.monitor_job, brids))
    else:
        found: dict[int, Any] = {}

        async def one(brid: int) -> None:
            found[brid] = await client.monitor_job(brid)

        async with anyio.create_task_group() as tg:
            for brid in brids:
                tg.start_soon(one, brid)
        results = [found[b] for b in brids]
    await close(client)
    assert [r.batch_request_id for r in results] == brids
    assert backend.logons() == 1
    monitors = backend.seen(w.MONITOR_JOB)
    assert sum(1 for s in monitors if s.status == 200) == N
    assert all(s.status in (200, 401) for s in monitors)


# =========================================================================== secrets


async def test_secrets_never_show(backend: Backend, caplog: pytest.LogCaptureFixture) -> None:
    """Through logons, a refused token, retries and an unknown START outcome, neither the
    password nor any token the server issued shows in a log line, a repr or an error."""
    caplog.set_level(logging.DEBUG)
    brid = backend.start_job()
    client = backend.client()
    texts: list[str] = []
    await call(client, "monitor_job", brid)
    backend.expire_tokens()
    backend.fail(w.GET_MESSAGES, 503, retry_after=1)
    await call(client, "get_messages", brid)
    backend.drop(w.JOB_ACTION, after_processing=True)
    with pytest.raises(StartOutcomeUnknownError) as unknown:
        await call(client, "job_action", "START", **START_KWARGS)
    backend.fail(w.MONITOR_JOB, 401, times=2)
    with pytest.raises(AuthenticationError) as refused:
        await call(client, "monitor_job", brid)
    for err in (unknown.value, refused.value):
        texts += [str(err), repr(err), repr(vars(err)), repr(err.__cause__)]
    texts += [repr(client), repr(vars(client)), caplog.text]
    texts += [r.getMessage() for r in caplog.records] + [repr(r.args) for r in caplog.records]
    await close(client)
    tokens = backend.issued_tokens()
    assert len(tokens) >= 3  # three tokens were issued and used (plus the setup's)
    assert all(len(t) >= 8 for t in tokens)
    secrets = [backend.password, *tokens]
    for text in texts:
        for secret in secrets:
            assert secret and secret not in text
