"""pytest-httpx pins the exact request of every function, for `Client` and `AsyncClient`."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from amtopcon import TaskValue
from amtopcon import _wire as w

from ._support import BASE, PASSWORD, TOKEN, USER, call, close, make_client

pytestmark = pytest.mark.anyio

STATUS = {"BatchRequestId": 2112, "Status": 2, "StatusText": "RUNNING"}
PAGE = {"BatchRequestId": 2112, "HasMore": False, "Messages": []}
STARTED = {"BatchRequestId": 2112, "Status": 1, "StatusText": "QUEUED", "Message": "started"}


def check_headers(request: httpx.Request, *, token: str | None, extra: dict[str, str] | None = None) -> str:
    """The headers every request carries; returns its X-Request-Id."""
    assert request.headers["User-Agent"].startswith("amtopcon-python/")
    assert len(request.headers.get_list("User-Agent")) == 1
    rid = request.headers[w.H_REQUEST_ID]
    assert str(uuid.UUID(rid)) == rid
    if token is None:
        assert w.H_TOKEN not in request.headers
    else:
        assert request.headers[w.H_TOKEN] == token
    for name, value in (extra or {}).items():
        assert request.headers[name] == value
    return rid


def check_logon(request: httpx.Request, extra: dict[str, str] | None = None) -> None:
    assert request.method == "POST"
    assert str(request.url) == BASE + "Logon"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {"UserName": USER, "Password": PASSWORD}
    check_headers(request, token=None, extra=extra)


def body(request: httpx.Request) -> Any:
    assert request.headers["Content-Type"] == "application/json"
    return json.loads(request.content)


def add_logon(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"AmtLogonToken": TOKEN})


async def test_logon_then_monitor_job(httpx_mock: HTTPXMock, flavour: str) -> None:
    add_logon(httpx_mock)
    httpx_mock.add_response(json=STATUS)
    client = make_client(flavour)
    status = await call(client, "monitor_job", 2112)
    await close(client)
    assert status.batch_request_id == 2112
    logon, monitor = httpx_mock.get_requests()
    check_logon(logon)
    assert monitor.method == "GET"
    assert str(monitor.url) == BASE + "MonitorJob?batchRequestId=2112"
    assert monitor.content == b""
    check_headers(monitor, token=TOKEN)


async def test_the_token_is_reused_and_request_ids_are_fresh(httpx_mock: HTTPXMock, flavour: str) -> None:
    add_logon(httpx_mock)
    httpx_mock.add_response(json=STATUS)
    httpx_mock.add_response(json=STATUS)
    client = make_client(flavour)
    await call(client, "monitor_job", 2112)
    await call(client, "monitor_job", "2112")  # a digit string is accepted
    await close(client)
    requests = httpx_mock.get_requests()
    assert [r.url.path.rsplit("/", 1)[-1] for r in requests] == ["Logon", "MonitorJob", "MonitorJob"]
    ids = {check_headers(r, token=None if i == 0 else TOKEN) for i, r in enumerate(requests)}
    assert len(ids) == 3
    assert str(requests[2].url) == BASE + "MonitorJob?batchRequestId=2112"


async def test_heartbeat_sends_no_token_and_needs_no_logon(httpx_mock: HTTPXMock, flavour: str) -> None:
    httpx_mock.add_response(json={"Status": "OK"})
    client = make_client(flavour, headers={"X-Trace": "t-1"})
    assert await call(client, "heartbeat") is True
    await close(client)
    (request,) = httpx_mock.get_requests()
    assert request.method == "GET"
    assert str(request.url) == BASE + "HeartBeat"
    check_headers(request, token=None, extra={"X-Trace": "t-1"})


async def test_get_messages_always_sends_after_and_max_count(httpx_mock: HTTPXMock, flavour: str) -> None:
    add_logon(httpx_mock)
    httpx_mock.add_response(json=PAGE)
    httpx_mock.add_response(json=PAGE)
    client = make_client(flavour)
    await call(client, "get_messages", 2112)
    await call(client, "get_messages", 2112, after=17, max_count=50)
    await close(client)
    _, first, second = httpx_mock.get_requests()
    assert first.method == second.method == "GET"
    assert str(first.url) == BASE + "GetMessages?batchRequestId=2112&afterSequence=0&maxCount=1000"
    assert str(second.url) == BASE + "GetMessages?batchRequestId=2112&afterSequence=17&maxCount=50"
    check_headers(first, token=TOKEN)
    check_headers(second, token=TOKEN)


async def test_start_sends_every_field(httpx_mock: HTTPXMock, flavour: str) -> None:
    add_logon(httpx_mock)
    httpx_mock.add_response(json=STARTED)
    extra = {"X-Trace": "t-2"}
    client = make_client(flavour, headers=extra)
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
    assert result.batch_request_id == 2112
    logon, start = httpx_mock.get_requests()
    check_logon(logon, extra)
    assert start.method == "POST"
    assert str(start.url) == BASE + "OpConJobAction"
    check_headers(start, token=TOKEN, extra=extra)
    sent = body(start)
    assert sent == {
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


async def test_start_sends_null_where_absent_and_a_fresh_uuid(httpx_mock: HTTPXMock, flavour: str) -> None:
    add_logon(httpx_mock)
    httpx_mock.add_response(json=STARTED)
    httpx_mock.add_response(json=STARTED)
    client = make_client(flavour)
    await call(client, "job_action", "START", application="DEMO2", job="RUN_PARAMETERTESTA")
    await call(
        client,
        "job_action",
        "start",  # the action is case-insensitive
        application="DEMO2",
        job="RUN_PARAMETERTESTA",
        task_values=[TaskValue("PRIORITY", "5"), TaskValue("B", "")],
    )
    await close(client)
    _, first, second = httpx_mock.get_requests()
    sent = body(first)
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
    other = body(second)
    assert other["TaskId"] != task_id  # one TaskId per logical START
    assert other["Action"] == "START"
    assert other["TaskValues"] == [{"Name": "PRIORITY", "Value": "5"}, {"Name": "B", "Value": ""}]


async def test_start_with_a_file_name_only(httpx_mock: HTTPXMock, flavour: str) -> None:
    add_logon(httpx_mock)
    httpx_mock.add_response(json=STARTED)
    client = make_client(flavour)
    await call(client, "job_action", "START", application="DEMO2", file_name="\\\\srv\\share\\job.ps1")
    await close(client)
    sent = body(httpx_mock.get_requests()[1])
    assert sent["JobName"] is None
    assert sent["FileName"] == "\\\\srv\\share\\job.ps1"


@pytest.mark.parametrize("action", ["STOP", "KILL"])
async def test_stop_and_kill(httpx_mock: HTTPXMock, flavour: str, action: str) -> None:
    add_logon(httpx_mock)
    httpx_mock.add_response(json={"BatchRequestId": 2112, "Status": 12, "StatusText": "ABORTED"})
    client = make_client(flavour, headers={"X-Trace": "t-3"})
    result = await call(client, "job_action", action, batch_request_id=2112)
    await close(client)
    assert int(result.code) == 12
    logon, request = httpx_mock.get_requests()
    check_logon(logon, {"X-Trace": "t-3"})
    assert request.method == "POST"
    assert str(request.url) == BASE + "OpConJobAction"
    check_headers(request, token=TOKEN, extra={"X-Trace": "t-3"})
    assert body(request) == {"Action": action, "BatchRequestId": 2112}


async def test_every_attempt_has_a_fresh_request_id(httpx_mock: HTTPXMock, flavour: str) -> None:
    add_logon(httpx_mock)
    httpx_mock.add_response(status_code=503, json=w.error_body("SERVER_BUSY", "busy"), headers={"Retry-After": "1"})
    httpx_mock.add_exception(httpx.ConnectError("refused"))
    httpx_mock.add_response(json=STARTED)
    client = make_client(flavour)
    await call(client, "job_action", "START", application="DEMO2", job="J")
    await close(client)
    _, *starts = httpx_mock.get_requests()
    assert len(starts) == 3
    assert len({check_headers(r, token=TOKEN) for r in starts}) == 3
    assert len({body(r)["TaskId"] for r in starts}) == 1


async def test_user_headers_cannot_duplicate_ours(httpx_mock: HTTPXMock, flavour: str) -> None:
    httpx_mock.add_response(json={"Status": "OK"})
    add_logon(httpx_mock)
    httpx_mock.add_response(json=STATUS)
    forged = {"user-agent": "mine/1.0", "x-request-id": "fixed", "x-amt-logontoken": "forged"}
    client = make_client(flavour, headers=forged)
    await call(client, "heartbeat")
    await call(client, "monitor_job", 2112)
    await close(client)
    heartbeat, logon, monitor = httpx_mock.get_requests()
    check_headers(heartbeat, token=None)  # a caller's token header is never sent on HeartBeat or Logon
    check_logon(logon)
    check_headers(monitor, token=TOKEN)  # ... and never next to ours
    assert len(monitor.headers.get_list(w.H_TOKEN)) == 1


async def test_a_base_url_without_trailing_slash(httpx_mock: HTTPXMock, flavour: str) -> None:
    httpx_mock.add_response(json={"Status": "OK"})
    client = make_client(flavour, base_url=BASE.rstrip("/"))
    assert client.base_url == BASE
    await call(client, "heartbeat")
    await close(client)
    assert str(httpx_mock.get_requests()[0].url) == BASE + "HeartBeat"
