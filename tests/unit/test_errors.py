"""The whole error mapping: status and ErrorCode -> class and fields, through both clients."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from amtopcon import _wire as w
from amtopcon.errors import (
    AmtOpConError,
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StartOutcomeUnknownError,
)

from ._support import CALLS, ScriptedServer, call, close, make_client, status_response

pytestmark = pytest.mark.anyio

HTML = b"<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"

# (id, call, function answering, status, ErrorCode, Message, raw body, Retry-After,
#  expected class, expected message, expected retry_after)
MAPPING: list[tuple[Any, ...]] = [
    ("400", "MonitorJob", w.MONITOR_JOB, 400, w.E_INVALID_REQUEST, "bad id", None, None,
     BadRequestError, "bad id", None),
    ("401-logon", "MonitorJob", w.LOGON, 401, w.E_AUTHENTICATION_FAILED, "refused", None, None,
     AuthenticationError, "refused", None),
    ("403", "MonitorJob", w.MONITOR_JOB, 403, w.E_NOT_AUTHORIZED, "no privilege", None, None,
     PermissionDeniedError, "no privilege", None),
    ("404-job", "START", w.JOB_ACTION, 404, w.E_JOB_NOT_FOUND, "no such job", None, None,
     NotFoundError, "no such job", None),
    ("404-brid", "MonitorJob", w.MONITOR_JOB, 404, w.E_BATCH_REQUEST_NOT_FOUND, "unknown id", None, None,
     NotFoundError, "unknown id", None),
    ("409", "STOP", w.JOB_ACTION, 409, w.E_ACTION_NOT_ALLOWED, "job has ended", None, None,
     ConflictError, "job has ended", None),
    ("429", "GetMessages", w.GET_MESSAGES, 429, w.E_TOO_MANY_REQUESTS, "slow down", None, "7",
     RateLimitError, "slow down", 7.0),
    ("500", "MonitorJob", w.MONITOR_JOB, 500, w.E_INTERNAL_ERROR, "it broke", None, None,
     InternalServerError, "it broke", None),
    ("502-html", "MonitorJob", w.MONITOR_JOB, 502, None, None, HTML, None, InternalServerError, "bad gateway", None),
    ("503", "KILL", w.JOB_ACTION, 503, w.E_SERVER_BUSY, "busy", None, "5", InternalServerError, "busy", 5.0),
    ("504-empty", "MonitorJob", w.MONITOR_JOB, 504, None, None, b"", None,
     InternalServerError, "gateway timeout", None),
    ("500-truncated", "GetMessages", w.GET_MESSAGES, 500, None, None, b'{"ErrorCode": "INTERN', None,
     InternalServerError, 'the service failed: {"ErrorCode": "INTERN', None),
    ("418", "MonitorJob", w.MONITOR_JOB, 418, "TEAPOT", "short and stout", None, None,
     APIStatusError, "short and stout", None),
    ("418-text", "MonitorJob", w.MONITOR_JOB, 418, None, None, b"I'm a teapot", None,
     APIStatusError, "unexpected status: I'm a teapot", None),
]  # fmt: skip


@pytest.mark.parametrize("server_rid", [True, False], ids=["server-rid", "our-rid"])
@pytest.mark.parametrize(
    ("call_key", "function", "status", "error_code", "message", "content", "retry_after", "cls", "text", "after"),
    [row[1:] for row in MAPPING],
    ids=[row[0] for row in MAPPING],
)
async def test_error_mapping(
    flavour: str,
    server_rid: bool,
    call_key: str,
    function: str,
    status: int,
    error_code: str | None,
    message: str | None,
    content: bytes | None,
    retry_after: str | None,
    cls: type[APIStatusError],
    text: str,
    after: float | None,
) -> None:
    server = ScriptedServer()
    response = status_response(
        status,
        error_code=error_code,
        message=message,
        retry_after=retry_after,
        request_id="srv-7f3a" if server_rid else None,
        content=content,
    )
    server.plan(function, response)
    client = make_client(flavour, server.handler, max_retries=0)
    method, args, kwargs = CALLS[call_key]
    with pytest.raises(AmtOpConError) as info:
        await call(client, method, *args, **kwargs)
    await close(client)
    err = info.value
    assert type(err) is cls
    assert err.status_code == status
    assert err.error_code == error_code
    assert err.message == text
    assert err.retry_after == after
    assert err.attempts == 1
    assert isinstance(err.response, httpx.Response)
    assert err.response.status_code == status
    last = server.calls(function)[-1]
    expected_rid = "srv-7f3a" if server_rid else last.headers[w.H_REQUEST_ID]
    assert err.request_id == expected_rid
    shown = str(err)
    assert f"HTTP {status}" in shown
    assert text in shown
    assert expected_rid in shown
    assert "after 1 attempt" in shown
    if error_code:
        assert error_code in shown
    assert not isinstance(err, APIConnectionError)


@pytest.mark.parametrize("status", [405, 410, 422, 451, 501, 505, 599])
def test_other_statuses_map_by_family(status: int) -> None:
    err = w.status_error(status, b"", request_id="r-1")
    assert type(err) is (InternalServerError if status >= 500 else APIStatusError)
    assert err.status_code == status
    assert err.request_id == "r-1"


@pytest.mark.parametrize(
    ("content", "error_code", "message"),
    [
        (b"", None, "the service failed"),
        (b"   \r\n", None, "the service failed"),
        (HTML, None, "the service failed"),
        (b'{"ErrorCode": "INTERNAL_ERROR", "Message": "x"', None, 'the service failed: {"ErrorCode": "INTERNAL_E'),
        (b"[1, 2, 3]", None, "the service failed"),
        (b'{"errorcode": "INTERNAL_ERROR", "MESSAGE": "lower case keys"}', "INTERNAL_ERROR", "lower case keys"),
        (b'{"ErrorCode": 5, "Message": ["not", "text"]}', None, "the service failed"),
        (b'{"ErrorCode": "INTERNAL_ERROR"}', "INTERNAL_ERROR", "the service failed"),
        (b"\xff\xfe\x00garbage", None, "the service failed: "),
        (b"[" * 100_000, None, "the service failed: [[[["),
    ],
)
def test_status_error_copes_with_any_body(content: bytes, error_code: str | None, message: str) -> None:
    err = w.status_error(500, content, request_id=None)
    assert type(err) is InternalServerError
    assert err.error_code == error_code
    assert err.message.startswith(message)
    assert len(err.message) < 200


# A 2xx whose body is not what the contract says: a typed error, never a decoding traceback.
BAD_BODIES = [
    (b"", "empty body"),
    (HTML, "an HTML page"),
    (b'{"BatchRequestId": 21', "not valid JSON"),
    (b"[]", "does not match the contract"),
    (b'{"BatchRequestId": "abc", "Status": 2}', "does not match the contract"),
    (b'{"BatchRequestId": 2112, "Status": true}', "does not match the contract"),
    (b'{"Messages": {"Sequence": 1}}', "does not match the contract"),
]


@pytest.mark.parametrize(("content", "words"), BAD_BODIES)
@pytest.mark.parametrize("call_key", ["MonitorJob", "GetMessages", "STOP"])
async def test_a_2xx_of_the_wrong_shape(flavour: str, call_key: str, content: bytes, words: str) -> None:
    server = ScriptedServer()
    method, args, kwargs = CALLS[call_key]
    function = w.JOB_ACTION if call_key == "STOP" else call_key
    server.plan(function, httpx.Response(200, content=content, headers={w.H_REQUEST_ID: "srv-1"}))
    client = make_client(flavour, server.handler)
    try:
        result = await call(client, method, *args, **kwargs)
    except InvalidResponseError as err:
        assert words in err.message
        assert err.status_code == 200
        assert err.request_id == "srv-1"
        assert err.attempts == 1
        assert "after 1 attempt" in str(err)
        assert err.body is not None and len(err.body) <= 200
        assert len(server.calls(function)) == 1  # a 2xx is never resent
    else:  # only a page without "Messages" is acceptable to GetMessages (an empty page)
        assert call_key == "GetMessages" and content.startswith(b'{"BatchRequestId": 2112')
        assert result.messages == ()
    await close(client)


@pytest.mark.parametrize("content", [b"", HTML, b'{"BatchRequestId": ', b'{"BatchRequestId": "x"}', b"[1]"])
async def test_an_unreadable_start_answer_is_an_unknown_outcome(flavour: str, content: bytes) -> None:
    server = ScriptedServer()
    server.plan(w.JOB_ACTION, httpx.Response(200, content=content))
    client = make_client(flavour, server.handler)
    method, args, kwargs = CALLS["START"]
    with pytest.raises(StartOutcomeUnknownError) as info:
        await call(client, method, *args, **kwargs)
    await close(client)
    (sent,) = server.bodies(w.JOB_ACTION)
    assert info.value.task_id == sent[w.F_TASK_ID]
    assert isinstance(info.value.__cause__, InvalidResponseError)


async def test_a_bad_logon_answer_is_an_invalid_response(flavour: str) -> None:
    server = ScriptedServer()
    server.plan(w.LOGON, httpx.Response(200, json={"AmtLogonToken": ""}))
    client = make_client(flavour, server.handler)
    with pytest.raises(InvalidResponseError) as info:
        await call(client, "monitor_job", 2112)
    await close(client)
    assert "AmtLogonToken" in info.value.message
    assert not server.calls(w.MONITOR_JOB)


def test_error_reprs_and_strs_are_readable() -> None:
    err = w.status_error(404, json.dumps(w.error_body("JOB_NOT_FOUND", "no job X")).encode(), request_id="abc")
    assert str(err) == "HTTP 404 JOB_NOT_FOUND: no job X [request abc]"
    err.attempts = 3
    assert str(err).endswith("(after 3 attempts)")


HEARTBEAT_ANSWERS: dict[str, Any] = {
    "other-status": lambda _: httpx.Response(200, json={"Status": "DOWN"}),
    "lower-case-ok": lambda _: httpx.Response(200, json={"Status": "ok"}),
    "empty-object": lambda _: httpx.Response(200, json={}),
    "not-json": lambda _: httpx.Response(200, content=b"OK"),
    "204": lambda _: httpx.Response(204),
    "503": lambda _: httpx.Response(503, json=w.error_body(w.E_SERVER_BUSY, "busy")),
    "401": lambda _: httpx.Response(401),
    "302": lambda _: httpx.Response(302, headers={"Location": "https://login.example/"}),
    "ConnectError": httpx.ConnectError,
    "ReadTimeout": httpx.ReadTimeout,
    "RemoteProtocolError": httpx.RemoteProtocolError,
}


@pytest.mark.parametrize("answer", list(HEARTBEAT_ANSWERS))
async def test_heartbeat_is_false_for_anything_else(flavour: str, answer: str) -> None:
    server = ScriptedServer()
    server.plan(w.HEARTBEAT, HEARTBEAT_ANSWERS[answer])
    client = make_client(flavour, server.handler, max_retries=0)
    assert await call(client, "heartbeat") is False
    assert await call(client, "heartbeat") is True  # the next plain {"Status": "OK"}
    await close(client)
