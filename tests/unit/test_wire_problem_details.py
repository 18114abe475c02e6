"""ASP.NET 6's answers, pinned with pytest-httpx: problem details (`application/problem+json`),
camelCase keys and 7-digit timestamps without offset map to the same typed results and
errors as the contract's own shapes, for `Client` and `AsyncClient`."""

from __future__ import annotations

import pickle
from datetime import datetime

import pytest
from pytest_httpx import HTTPXMock

from amtopcon import CompletionCode
from amtopcon import _wire as w
from amtopcon.errors import (
    AmtOpConError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    ValidationError,
)

from ._support import TOKEN, call, close, make_client

pytestmark = pytest.mark.anyio

PROBLEM = "application/problem+json; charset=utf-8"
TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"


def logon(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"amtLogonToken": TOKEN}, headers={"Content-Type": "application/json; charset=utf-8"})


async def test_camel_case_answers_and_seven_digit_timestamps(httpx_mock: HTTPXMock, flavour: str) -> None:
    logon(httpx_mock)
    httpx_mock.add_response(
        content=(
            b'{"batchRequestId":2112,"applicationName":"DEMO2","jobName":"REPORTTEST01","status":4,'
            b'"statusText":"DONE","description":"Completed","submittedAt":"2024-05-01T12:00:00.1234567",'
            b'"startedAt":"2024-05-01T12:00:01.0000000","endedAt":null}'
        ),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    client = make_client(flavour)
    status = await call(client, "monitor_job", 2112)
    await close(client)
    assert (status.batch_request_id, status.code, status.job_name) == (2112, CompletionCode.DONE, "REPORTTEST01")
    assert status.submitted_at == datetime(2024, 5, 1, 12, 0, 0, 123456)  # no offset: naive, never guessed
    assert status.started_at == datetime(2024, 5, 1, 12, 0, 1)
    assert status.ended_at is None


async def test_a_problem_is_the_same_typed_error(httpx_mock: HTTPXMock, flavour: str) -> None:
    logon(httpx_mock)
    httpx_mock.add_response(
        status_code=404,
        headers={"Content-Type": PROBLEM},
        content=(
            b'{"type":"https://tools.ietf.org/html/rfc7231#section-6.5.4","title":"Not Found","status":404,'
            b'"detail":"batch request 2112 not found","traceId":"' + TRACE.encode() + b'",'
            b'"errorCode":"BATCH_REQUEST_NOT_FOUND"}'
        ),
    )
    client = make_client(flavour, max_retries=0)
    with pytest.raises(NotFoundError) as info:
        await call(client, "monitor_job", 2112)
    await close(client)
    err = info.value
    assert err.message == "batch request 2112 not found"  # detail, not the title
    assert err.request_id == TRACE  # no X-Request-Id came back: the traceId
    assert err.batch_request_not_found and err.error_code == w.E_BATCH_REQUEST_NOT_FOUND
    assert err.errors is None
    assert (
        str(err)
        == f"HTTP 404 BATCH_REQUEST_NOT_FOUND: batch request 2112 not found [request {TRACE}] (after 1 attempt)"
    )


async def test_a_validation_problem_names_its_fields(httpx_mock: HTTPXMock, flavour: str) -> None:
    logon(httpx_mock)
    httpx_mock.add_response(
        status_code=400,
        headers={"Content-Type": PROBLEM},
        content=(
            b'{"type":"https://tools.ietf.org/html/rfc7231#section-6.5.1",'
            b'"title":"One or more validation errors occurred.","status":400,'
            b'"traceId":"' + TRACE.encode() + b'",'
            b'"errors":{"JobName":["The JobName field is required."],"$.parameters[0]":["Bad value.","Too long."]}}'
        ),
    )
    client = make_client(flavour, max_retries=0)
    with pytest.raises(BadRequestError) as info:
        await call(client, "job_action", "START", application="DEMO2", job="REPORTTEST01")
    await close(client)
    err = info.value
    assert err.errors == {
        "JobName": ("The JobName field is required.",),
        "$.parameters[0]": ("Bad value.", "Too long."),
    }
    assert err.message == (
        "One or more validation errors occurred. "
        "(JobName: The JobName field is required.; $.parameters[0]: Bad value. Too long.)"
    )
    assert err.error_code is None  # ASP.NET's model validation adds no ErrorCode
    assert err.request_id == TRACE


async def test_the_echoed_request_id_wins_over_the_trace_id(httpx_mock: HTTPXMock, flavour: str) -> None:
    logon(httpx_mock)
    httpx_mock.add_response(
        status_code=409,
        headers={"Content-Type": PROBLEM, w.H_REQUEST_ID: "rid-1"},
        json={"title": "Conflict", "status": 409, "traceId": TRACE},
    )
    client = make_client(flavour, max_retries=0)
    with pytest.raises(ConflictError) as info:
        await call(client, "job_action", "KILL", batch_request_id=2112)
    await close(client)
    assert info.value.message == "Conflict"  # no detail: the title
    assert info.value.request_id == "rid-1"


async def test_a_refused_logon_as_a_problem(httpx_mock: HTTPXMock, flavour: str) -> None:
    httpx_mock.add_response(
        status_code=401,
        headers={"Content-Type": PROBLEM},
        json={"type": "https://tools.ietf.org/html/rfc7235#section-3.1", "title": "Unauthorized", "status": 401},
    )
    client = make_client(flavour)
    assert await call(client, "check") is False
    await close(client)
    (request,) = httpx_mock.get_requests()
    assert request.url.path.endswith("/Logon")


async def test_check_logs_on_afresh_even_with_a_token(httpx_mock: HTTPXMock, flavour: str) -> None:
    logon(httpx_mock)
    httpx_mock.add_response(json={"AmtLogonToken": "second-token"})
    client = make_client(flavour)
    await call(client, "logon")
    assert await call(client, "check") is True
    await close(client)
    assert [r.url.path.rsplit("/", 1)[-1] for r in httpx_mock.get_requests()] == ["Logon", "Logon"]


def test_status_error_without_a_client() -> None:
    """A problem's members are read case-insensitively; odd `errors` shapes are kept, never raised."""
    err = w.status_error(400, b'{"Title":"Bad","Errors":"whole body is wrong"}', request_id=None, sent_request_id="s")
    assert (err.message, err.errors, err.request_id) == (
        "Bad (whole body is wrong)",
        {"": ("whole body is wrong",)},
        "s",
    )
    err = w.status_error(401, b'{"title":"Unauthorized","errors":[]}', request_id=None)
    assert type(err) is AuthenticationError and err.errors is None and err.message == "Unauthorized"
    err = w.status_error(500, b'{"errors":{"a":[1,{"x":2}]}}', request_id=None)
    assert err.errors == {"a": ("1",)} and err.message == "a: 1"


def test_errors_travel_through_json_and_pickle() -> None:
    err = w.status_error(
        400, b'{"title":"T","errors":{"JobName":["required"]},"traceId":"t"}', request_id=None, attempts=1
    )
    again = AmtOpConError.from_dict(err.to_dict())
    assert isinstance(again, BadRequestError)
    assert err.to_dict()["errors"] == {"JobName": ["required"]}
    assert again.errors == {"JobName": ("required",)} and again.request_id == "t"
    assert pickle.loads(pickle.dumps(err)).errors == {"JobName": ("required",)}
    older = {"type": "NotFoundError", "message": "m", "status_code": 404}  # written before `errors` existed
    assert APIStatusError.from_dict(older).errors is None
    with pytest.raises(ValidationError) as info:
        AmtOpConError.from_dict({"type": "BadRequestError", "message": "m", "status_code": 400, "errors": "x"})
    assert info.value.field == "errors"
