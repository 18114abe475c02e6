"""Bad input raises `ValidationError` naming the field, before anything is sent (the
scripted server records every request; pytest-httpx pins the exact requests of the two
tests that check what is sent)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from amtopcon import Clock, PollPolicy, TaskValue
from amtopcon import _wire as w
from amtopcon.errors import ValidationError

from ._support import BASE, TOKEN, ScriptedServer, call, close, make_client

pytestmark = pytest.mark.anyio


@pytest.fixture
def server() -> ScriptedServer:
    return ScriptedServer()


BAD_NAMES = ["", "x" * 129, "A\x00B", "A\tB", "A\nB", "A\x7fB", " A", "A ", "   ", 5, b"DEMO2"]
START = {"application": "DEMO2", "job": "RUN_PARAMETERTESTA"}

# (id, job_action keyword arguments, the field named)
BAD_START: list[tuple[str, dict[str, Any], str]] = [
    *[(f"application-{i}", {**START, "application": v}, "application") for i, v in enumerate(BAD_NAMES)],
    *[(f"job-{i}", {**START, "job": v}, "job") for i, v in enumerate(BAD_NAMES)],
    ("no-application", {"job": "J"}, "application"),
    ("no-job-nor-file", {"application": "DEMO2"}, "job"),
    *[
        (f"file-{i}", {**START, "file_name": v}, "file_name")
        for i, v in enumerate(["run.ps1", "scripts\\run.ps1", "C:run.ps1", "", "C:\\a\x07b", "./run.ps1", 3])
    ],
    ("run_as", {**START, "run_as": " AMTUSER"}, "run_as"),
    ("queue", {**START, "queue": "Q\n"}, "queue"),
    ("submit_user", {**START, "submit_user": ""}, "submit_user"),
    ("station", {**START, "station": "x" * 129}, "station"),
    ("257-parameters", {**START, "parameters": ["p"] * 257}, "parameters"),
    ("long-parameter", {**START, "parameters": ["ok", "p" * 4097]}, "parameters"),
    ("parameter-not-text", {**START, "parameters": ["ok", 5]}, "parameters"),
    ("parameters-a-string", {**START, "parameters": "'PARAM'"}, "parameters"),
    ("duplicate-task-value", {**START, "task_values": [TaskValue("A", "1"), TaskValue("A", "2")]}, "task_values"),
    ("duplicate-task-value-pairs", {**START, "task_values": [("A", "1"), ("A", "2")]}, "task_values"),
    ("empty-task-value-name", {**START, "task_values": {"": "1"}}, "task_values"),
    ("blank-task-value-name", {**START, "task_values": {"  ": "1"}}, "task_values"),
    ("task-value-shape", {**START, "task_values": [("A",)]}, "task_values"),
    ("task-value-none", {**START, "task_values": {"A": None}}, "task_values"),
    ("task-value-none-pair", {**START, "task_values": [("A", None)]}, "task_values"),
    ("task-values-a-string", {**START, "task_values": "A=1"}, "task_values"),
    ("task-id", {**START, "task_id": "not-a-uuid"}, "task_id"),
    ("batch-request-id-on-start", {**START, "batch_request_id": 2112}, "batch_request_id"),
]


@pytest.mark.parametrize(("kwargs", "field"), [b[1:] for b in BAD_START], ids=[b[0] for b in BAD_START])
async def test_bad_start_arguments(server: ScriptedServer, flavour: str, kwargs: dict[str, Any], field: str) -> None:
    client = make_client(flavour, server.handler)
    with pytest.raises(ValidationError) as info:
        await call(client, "job_action", "START", **kwargs)
    await close(client)
    assert info.value.field == field
    assert field in str(info.value)
    assert isinstance(info.value, ValueError)
    assert server.requests == []  # nothing sent, not even a Logon


BAD_IDS = [0, -1, True, False, "abc", "12a", "", " ", "-5", 1.5, None, [2112], "٢١١٢"]


@pytest.mark.parametrize("brid", BAD_IDS)
@pytest.mark.parametrize("what", ["STOP", "KILL", "monitor_job", "get_messages"])
async def test_bad_batch_request_ids(server: ScriptedServer, flavour: str, what: str, brid: Any) -> None:
    client = make_client(flavour, server.handler)
    with pytest.raises(ValidationError) as info:
        if what in ("STOP", "KILL"):
            await call(client, "job_action", what, batch_request_id=brid)
        else:
            await call(client, what, brid)
    await close(client)
    assert info.value.field == "batch_request_id"
    assert "batch_request_id" in str(info.value)
    assert server.requests == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"after": -1}, "after"),
        ({"after": "3"}, "after"),
        ({"after": True}, "after"),
        ({"max_count": 0}, "max_count"),
        ({"max_count": True}, "max_count"),
        ({"max_count": "10"}, "max_count"),
    ],
)
async def test_bad_get_messages_arguments(
    server: ScriptedServer, flavour: str, kwargs: dict[str, Any], field: str
) -> None:
    client = make_client(flavour, server.handler)
    with pytest.raises(ValidationError) as info:
        await call(client, "get_messages", 2112, **kwargs)
    await close(client)
    assert info.value.field == field
    assert server.requests == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"application": "DEMO2"}, "application"), ({"job": "J"}, "job"), ({"parameters": ["p"]}, "parameters")],
)
@pytest.mark.parametrize("action", ["STOP", "KILL"])
async def test_start_arguments_on_stop_are_refused(
    server: ScriptedServer, flavour: str, action: str, kwargs: dict[str, Any], field: str
) -> None:
    client = make_client(flavour, server.handler)
    with pytest.raises(ValidationError) as info:
        await call(client, "job_action", action, batch_request_id=2112, **kwargs)
    await close(client)
    assert info.value.field == field
    assert action in str(info.value)
    assert server.requests == []


@pytest.mark.parametrize("action", ["RESTART", "", 5, None])
async def test_bad_actions(server: ScriptedServer, flavour: str, action: Any) -> None:
    client = make_client(flavour, server.handler)
    with pytest.raises(ValidationError) as info:
        await call(client, "job_action", action, batch_request_id=2112)
    await close(client)
    assert info.value.field == "action"
    assert server.requests == []


async def test_the_limits_themselves_are_accepted(httpx_mock: HTTPXMock, flavour: str) -> None:
    httpx_mock.add_response(json={"AmtLogonToken": TOKEN})
    paths = ["C:\\scripts\\run.ps1", "d:\\x", "\\\\srv\\share\\run.ps1", "/opt/amt/run.ps1"]
    for _ in range(1 + len(paths)):
        httpx_mock.add_response(json={"BatchRequestId": 2112, "Status": 1})
    client = make_client(flavour)
    name = "N" * 128
    await call(client, "job_action", "START", application=name, job=name, parameters=["p" * 4096] * 256)
    for path in paths:
        await call(client, "job_action", "START", application="A", file_name=path, task_values={"A": "", "B": "x"})
    await close(client)
    sent = httpx_mock.get_requests()
    assert len(sent) == 2 + len(paths)
    assert all(r.url.path.endswith(w.JOB_ACTION) for r in sent[1:])


async def test_a_digit_string_id_is_sent_as_an_integer(httpx_mock: HTTPXMock, flavour: str) -> None:
    httpx_mock.add_response(json={"AmtLogonToken": TOKEN})
    httpx_mock.add_response(json={"BatchRequestId": 2112, "Status": 12})
    client = make_client(flavour)
    await call(client, "job_action", "KILL", batch_request_id=" 2112 ")
    await close(client)
    assert httpx_mock.get_requests()[1].content == b'{"Action":"KILL","BatchRequestId":2112}'


# ------------------------------------------------------------------ constructor arguments

BAD_SETTINGS: list[tuple[str, dict[str, Any], str]] = [
    ("ftp", {"base_url": "ftp://amt.example.com/"}, "base_url"),
    ("no-host", {"base_url": "https:///AmtOpConService/"}, "base_url"),
    ("not-a-url", {"base_url": "amt.example.com:4004"}, "base_url"),
    ("userinfo", {"base_url": "https://ocadm:secret@amt.example.com/"}, "base_url"),
    ("url-type", {"base_url": 4004}, "base_url"),
    ("timeout-0", {"timeout": 0}, "timeout"),
    ("timeout-neg", {"timeout": -1}, "timeout"),
    ("timeout-text", {"timeout": "30"}, "timeout"),
    ("timeout-bool", {"timeout": True}, "timeout"),
    ("total-0", {"total_timeout": 0}, "total_timeout"),
    ("total-text", {"total_timeout": "x"}, "total_timeout"),
    ("retries-neg", {"max_retries": -1}, "max_retries"),
    ("retries-float", {"max_retries": 1.5}, "max_retries"),
    ("retries-bool", {"max_retries": True}, "max_retries"),
    ("headers", {"headers": "X-A: b"}, "headers"),
    ("poll", {"poll": 5}, "poll"),
    ("clock", {"clock": object()}, "clock"),
    ("username", {"username": 5}, "username"),
    ("password", {"password": b"x"}, "password"),
    ("verify", {"verify": 3}, "verify"),
    ("http-client", {"http_client": object()}, "http_client"),
]


@pytest.mark.parametrize(("kwargs", "field"), [b[1:] for b in BAD_SETTINGS], ids=[b[0] for b in BAD_SETTINGS])
def test_bad_settings(flavour: str, kwargs: dict[str, Any], field: str) -> None:
    kwargs = dict(kwargs)
    base_url = kwargs.pop("base_url", BASE)
    with pytest.raises(ValidationError) as info:
        make_client(flavour, base_url=base_url, **kwargs)
    assert info.value.field == field
    assert "secret" not in str(info.value)


def test_the_wrong_http_client_flavour(flavour: str) -> None:
    other = httpx.AsyncClient() if flavour == "sync" else httpx.Client()
    with pytest.raises(ValidationError) as info:
        make_client(flavour, http_client=other)
    assert info.value.field == "http_client"


def test_good_settings(flavour: str) -> None:
    client = make_client(
        flavour,
        timeout=httpx.Timeout(5.0, connect=2.0),
        total_timeout=None,
        max_retries=0,
        poll=PollPolicy.fixed(),
        clock=Clock(),
        headers={"X-A": "b"},
    )
    assert client.timeout == httpx.Timeout(5.0, connect=2.0)
    assert client.total_timeout is None
    assert client.max_retries == 0
    assert client.poll == PollPolicy.fixed(10, 5)


def test_poll_policy_validation() -> None:
    for field in ("initial_delay", "interval", "backoff", "max_interval", "jitter", "max_outage"):
        for value in (-1, float("nan"), "1", True):
            with pytest.raises(ValidationError) as info:
                PollPolicy(**{field: value})
            assert info.value.field == field


def test_with_options_refuses_unknown_options(flavour: str) -> None:
    client = make_client(flavour)
    with pytest.raises(ValidationError) as info:
        client.with_options(timeout=5, retries=2)
    assert info.value.field == "retries"
    with pytest.raises(ValidationError) as info:
        client.with_options(timeout=-5)
    assert info.value.field == "timeout"


def test_unknown_job_action_keyword_is_a_validation_error_naming_it() -> None:
    import httpx

    from amtopcon import Client
    from amtopcon.errors import ValidationError

    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(500))
    client = Client(
        "https://amt.test/AmtOpConService/", username="u", password="p", http_client=httpx.Client(transport=transport)
    )
    with pytest.raises(ValidationError) as info:
        client.job_action("START", application="DEMO2", job="REPORTTEST01", paramters=["x"])
    assert info.value.field == "paramters"
    assert "paramters" in str(info.value)
    assert sent == []
