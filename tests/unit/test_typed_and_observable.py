"""Issue 12: per-call timeouts, pairs as task values, event hooks, raw responses, errors
and PollPolicy through JSON, every error importable from `amtopcon`, the NullHandler."""

from __future__ import annotations

import json
import math
import pickle
import subprocess
import sys
from typing import Any

import httpx
import pytest

import amtopcon
import amtopcon.errors as E
from amtopcon import PollPolicy, RawResponse
from amtopcon import _wire as w
from amtopcon.models import CompletionCode, JobResult, JobStatus, TaskValue
from amtopcon.testing import Emulator
from tests.unit._support import PASSWORD, TOKEN, FakeClock, ScriptedServer, call, close, make_client, status_response

pytestmark = pytest.mark.anyio


def _read_timeouts(server: ScriptedServer, function: str) -> list[float]:
    return [r.extensions["timeout"]["read"] for r in server.calls(function)]


# ------------------------------------------------------------------ per-call timeout=

PER_CALL = [
    ("monitor_job", (2112,), {}, w.MONITOR_JOB),
    ("get_messages", (2112,), {}, w.GET_MESSAGES),
    ("job_action", ("STOP",), {"batch_request_id": 2112}, w.JOB_ACTION),
    ("job_action", ("START",), {"application": "DEMO2", "job": "J", "task_values": [("A", "B")]}, w.JOB_ACTION),
    ("heartbeat", (), {}, w.HEARTBEAT),
    ("start", ("DEMO2", "J"), {}, w.JOB_ACTION),
]


@pytest.mark.parametrize(("method", "args", "kwargs", "function"), PER_CALL, ids=[p[0] + str(p[1]) for p in PER_CALL])
async def test_every_call_that_sends_takes_a_timeout_that_bounds_its_attempts(
    flavour: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], function: str
) -> None:
    server = ScriptedServer()
    client = make_client(flavour, server.handler)
    await call(client, method, *args, timeout=3, **kwargs)
    assert _read_timeouts(server, function) == [3.0]  # not the client's 30 s per attempt
    assert _read_timeouts(server, w.LOGON) in ([], [3.0])  # a Logon made for the call shares its deadline
    await close(client)


async def test_a_per_call_timeout_ends_the_retries_that_would_pass_it(flavour: str) -> None:
    busy = status_response(503, error_code=w.E_SERVER_BUSY, retry_after="2")
    server = ScriptedServer().plan(w.MONITOR_JOB, busy, busy)
    clock = FakeClock()
    client = make_client(flavour, server.handler, clock=clock)
    with pytest.raises(E.InternalServerError) as info:
        await call(client, "monitor_job", 2112, timeout=3)
    assert info.value.attempts == 2  # a third try after 2 more seconds would pass the 3 s
    assert clock.t - clock.start <= 3
    server.plan(w.MONITOR_JOB, busy, busy)
    status = await call(client, "monitor_job", 2112)  # without it, the client's retries ride it out
    assert status.batch_request_id == 2112
    await close(client)


async def test_the_handles_and_run_take_the_same_timeout(flavour: str) -> None:
    server = ScriptedServer()
    server.status_code = CompletionCode.DONE
    client = make_client(flavour, server.handler)
    handle = client.job(2112)
    await call(handle, "status", timeout=2)
    await call(handle, "messages", timeout=2)
    assert _read_timeouts(server, w.MONITOR_JOB)[-1] == 2.0
    assert _read_timeouts(server, w.GET_MESSAGES)[-1] == 2.0
    result = await call(client, "run", "DEMO2", "J", timeout=60)
    assert isinstance(result, JobResult) and result.code is CompletionCode.DONE
    assert _read_timeouts(server, w.JOB_ACTION)[-1] == 30.0  # capped at 60 s: the attempt's own 30 s wins
    await close(client)


@pytest.mark.parametrize("bad", [0, -1, "3", True, math.nan])
async def test_an_unusable_timeout_is_a_validation_error_and_nothing_is_sent(flavour: str, bad: object) -> None:
    server = ScriptedServer()
    client = make_client(flavour, server.handler)
    for method, args in (("monitor_job", (2112,)), ("heartbeat", ()), ("get_messages", (2112,))):
        with pytest.raises(E.ValidationError) as info:
            await call(client, method, *args, timeout=bad)
        assert info.value.field == "timeout"
    assert server.requests == []
    await close(client)


# ------------------------------------------------------------------ task values and typed START


async def test_task_values_take_pairs_task_values_and_mappings_alike(flavour: str) -> None:
    server = ScriptedServer()
    client = make_client(flavour, server.handler)
    for values in ([("A", "1"), ("B", "2")], [TaskValue("A", "1"), ("B", "2")], {"A": "1", "B": "2"}):
        await call(client, "start", "DEMO2", "J", task_values=values)
    wanted = [{w.F_NAME: "A", w.F_VALUE: "1"}, {w.F_NAME: "B", w.F_VALUE: "2"}]
    assert [b[w.F_TASK_VALUES] for b in server.bodies(w.JOB_ACTION)] == [wanted] * 3
    with pytest.raises(E.ValidationError) as info:
        await call(client, "start", "DEMO2", "J", task_values=[("A", "1", "x")])
    assert info.value.field == "task_values"
    await close(client)


async def test_a_misspelt_start_option_still_fails_at_run_time(flavour: str) -> None:
    client = make_client(flavour, ScriptedServer().handler)
    with pytest.raises(E.ValidationError) as info:
        await call(client, "job_action", "START", application="DEMO2", job="J", paramters=["A=1"])
    assert info.value.field == "paramters"
    await close(client)


# ------------------------------------------------------------------ event hooks


async def test_hooks_see_every_attempt_redacted(flavour: str) -> None:
    server = ScriptedServer().plan(w.MONITOR_JOB, 503)
    seen: list[httpx.Request | httpx.Response] = []
    hooks: dict[str, list[Any]] = {"request": [seen.append], "response": [seen.append]}
    if flavour == "async":

        async def awaited(response: httpx.Response) -> None:
            seen.append(response)

        hooks["response"] = [awaited]
    client = make_client(flavour, server.handler, event_hooks=hooks)
    await call(client, "monitor_job", 2112)
    kinds = [
        (type(x).__name__, (x.request if isinstance(x, httpx.Response) else x).url.path.rsplit("/")[-1]) for x in seen
    ]
    assert kinds == [
        ("Request", w.LOGON),
        ("Response", w.LOGON),
        ("Request", w.MONITOR_JOB),
        ("Response", w.MONITOR_JOB),  # the 503
        ("Request", w.MONITOR_JOB),
        ("Response", w.MONITOR_JOB),
    ]
    assert [x.status_code for x in seen if isinstance(x, httpx.Response)] == [200, 503, 200]
    for item in seen:
        request = item.request if isinstance(item, httpx.Response) else item
        shown = repr(list(request.headers.items())) + request.content.decode()
        if isinstance(item, httpx.Response):
            shown += item.content.decode()
        assert PASSWORD not in shown and TOKEN not in shown
    assert seen[2].headers[w.H_TOKEN] == "***"  # type: ignore[union-attr]
    await close(client)


async def test_a_hook_that_raises_is_logged_and_the_call_goes_on(
    flavour: str, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_: object) -> None:
        raise RuntimeError("hook bug")

    client = make_client(flavour, ScriptedServer().handler, event_hooks={"request": [broken], "response": [broken]})
    status = await call(client, "monitor_job", 2112)
    assert status.batch_request_id == 2112
    assert "request hook raised" in caplog.text and "response hook raised" in caplog.text
    await close(client)


@pytest.mark.parametrize(
    "bad", [{"requests": []}, {"request": print}, {"request": ["x"]}, ["request"], {"response": "abc"}]
)
def test_unusable_event_hooks_are_a_validation_error(bad: object) -> None:
    with pytest.raises(E.ValidationError) as info:
        amtopcon.Client("https://amt.example.com/", event_hooks=bad)  # type: ignore[arg-type]
    assert info.value.field == "event_hooks"


async def test_with_options_copies_and_replaces_hooks(flavour: str) -> None:
    first: list[object] = []
    second: list[object] = []
    client = make_client(flavour, ScriptedServer().handler, event_hooks={"request": [first.append]})
    copy = client.with_options(event_hooks={"request": [second.append]})
    await call(copy, "heartbeat")
    await call(client.with_options(max_retries=0), "heartbeat")
    assert (len(first), len(second)) == (1, 1)
    await close(client)


# ------------------------------------------------------------------ raw responses


async def test_with_raw_response_gives_the_parsed_result_and_the_redacted_answer(flavour: str) -> None:
    server = ScriptedServer()
    client = make_client(flavour, server.handler)
    raw = await call(client.with_raw_response, "monitor_job", 2112, timeout=5)
    assert isinstance(raw, RawResponse)
    assert isinstance(raw.parsed, JobStatus) and raw.parse() is raw.parsed
    assert raw.parsed == await call(client, "monitor_job", 2112)
    assert raw.status_code == 200 and raw.http_response.request.url.path.endswith(w.MONITOR_JOB)
    assert raw.http_response.request.headers[w.H_TOKEN] == "***"
    assert raw.request_id == server.calls(w.MONITOR_JOB)[0].headers[w.H_REQUEST_ID]
    assert TOKEN not in repr(raw) and TOKEN not in repr(list(raw.http_response.request.headers.items()))
    page = await call(client.with_raw_response, "get_messages", 2112, 0, 10)
    assert page.parsed.messages and page.http_response.request.url.params[w.Q_MAX_COUNT] == "10"
    started = await call(client.with_raw_response, "job_action", "START", application="DEMO2", job="J")
    assert started.parsed.batch_request_id == 2112
    assert json.loads(started.http_response.request.content)[w.F_APPLICATION] == "DEMO2"
    stopped = await call(client.with_raw_response, "job_action", "STOP", batch_request_id=2112)
    assert stopped.parsed.code is CompletionCode.ABORTED
    await close(client)


async def test_with_raw_response_raises_as_the_plain_call_does(flavour: str) -> None:
    server = ScriptedServer().plan(w.MONITOR_JOB, status_response(404, error_code=w.E_BATCH_REQUEST_NOT_FOUND))
    client = make_client(flavour, server.handler)
    with pytest.raises(E.NotFoundError) as info:
        await call(client.with_raw_response, "monitor_job", 2112)
    assert info.value.response is not None and info.value.response.request.headers[w.H_TOKEN] == "***"
    await close(client)


@pytest.mark.parametrize("flavour_name", ["sync", "async"])
async def test_raw_responses_and_hooks_on_the_emulator(flavour_name: str) -> None:
    emulator = Emulator()
    emulator.add_job("DEMO2", "J")
    seen: list[httpx.Response] = []
    make = emulator.client if flavour_name == "sync" else emulator.async_client
    client = make(event_hooks={"response": [seen.append]})
    raw = await call(client.with_raw_response, "job_action", "START", application="DEMO2", job="J")
    brid = raw.parsed.batch_request_id
    status = await call(client.with_raw_response, "monitor_job", brid)
    assert status.parsed.batch_request_id == brid and status.status_code == 200
    assert [r.request.url.path.rsplit("/")[-1] for r in seen] == [w.LOGON, w.JOB_ACTION, w.MONITOR_JOB]
    assert seen[0].content == b""  # the Logon answer carries the token: never shown
    await close(client)


def test_with_raw_response_calls_a_subclasss_own_method() -> None:
    emulator = Emulator()
    emulator.add_job("DEMO2", "J")
    overridden: list[int] = []

    class Audited(amtopcon.Client):
        def monitor_job(self, batch_request_id: int, *, timeout: float | None = None) -> JobStatus:
            overridden.append(batch_request_id)
            return super().monitor_job(batch_request_id, timeout=timeout)

    with emulator.client() as plain:
        brid = plain.start("DEMO2", "J").batch_request_id
    client = Audited(
        emulator.base_url,
        username="ocadm",  # the emulator's default user
        password="opconxps",
        http_client=httpx.Client(transport=emulator.transport()),
        clock=emulator.clock,
    )
    with client:
        raw = client.with_raw_response.monitor_job(brid)
    assert overridden == [brid] and raw.parsed.batch_request_id == brid


# ------------------------------------------------------------------ errors and PollPolicy through JSON


ERRORS = [
    E.ValidationError("task_values: bad", field="task_values"),
    E.ConfigError("bad value", path="/etc/Connector.config", line=3, key="USER"),
    E.APITimeoutError("MonitorJob: ReadTimeout", attempts=4, request_id="r-1"),
    E.ConflictError(
        "job ended",
        status_code=409,
        error_code=w.E_ACTION_NOT_ALLOWED,
        request_id="r-2",
        response=httpx.Response(409, request=httpx.Request("GET", "https://h/", headers={w.H_TOKEN: TOKEN})),
        attempts=1,
    ),
    E.RateLimitError("slow down", status_code=429, retry_after=2.5),
    E.InvalidResponseError("not JSON", status_code=200, body="<html>"),
    E.StartOutcomeUnknownError("maybe", task_id="0b7f9a8e-1111-4b6c-9d7e-2f3a4b5c6d7e", attempts=1),
    E.JobStartError("not started", batch_request_id=0, task_id="t"),
    E.JobFailedError("failed", result=JobResult(JobStatus(7, CompletionCode.ABORTED), ())),
    E.WaitTimeoutError("late", status=JobStatus(7, CompletionCode.RUNNING), handle=object()),
    E.ClientClosedError("closed"),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_errors_go_through_json_and_back(error: E.AmtOpConError) -> None:
    data = error.to_dict()
    text = json.dumps(data)  # JSON-safe
    assert TOKEN not in text and "response" not in data and "handle" not in data
    back = E.AmtOpConError.from_dict(json.loads(text))
    assert type(back) is type(error)
    assert str(back) == str(error) and back.to_dict() == data
    assert type(pickle.loads(pickle.dumps(back))) is type(error)
    if isinstance(error, E.APIStatusError):
        assert back.response is None  # type: ignore[attr-defined]


def test_error_from_dict_refuses_what_it_cannot_rebuild() -> None:
    for data, field in (
        ({"type": "NoSuchError", "message": "x"}, "type"),
        ({"type": "ConflictError", "message": "x", "status_code": 409, "colour": 1}, "colour"),
        ({"type": "ValidationError"}, "message"),
        ({"type": "ConflictError", "message": "x", "response": None}, "response"),
    ):
        with pytest.raises(E.ValidationError) as info:
            E.AmtOpConError.from_dict(data)
        assert info.value.field == field
    with pytest.raises(E.ValidationError):  # a class may only rebuild its own kind
        E.APIStatusError.from_dict(E.ValidationError("x").to_dict())


def test_poll_policy_goes_through_json_and_back() -> None:
    for policy in (PollPolicy(), PollPolicy.fixed(), PollPolicy(max_interval=math.inf, max_outage=30)):
        data = json.loads(json.dumps(policy.to_dict(), allow_nan=False))
        assert PollPolicy.from_dict(data) == policy
    assert PollPolicy.from_dict({}) == PollPolicy()
    with pytest.raises(E.ValidationError) as info:
        PollPolicy.from_dict({"intervall": 2})
    assert info.value.field == "intervall" and "did you mean 'interval'" in str(info.value)
    with pytest.raises(E.ValidationError) as info:
        PollPolicy.from_dict({"interval": None})
    assert info.value.field == "interval"


# ------------------------------------------------------------------ names, import weight, logging


@pytest.mark.parametrize("name", E.__all__)
def test_every_public_error_is_importable_from_amtopcon(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from amtopcon import {name}", namespace)
    assert namespace[name] is getattr(E, name)
    assert name in amtopcon.__all__ and name in dir(amtopcon)


def test_importing_the_errors_from_amtopcon_stays_light() -> None:
    code = "import sys; from amtopcon import ConflictError, AmtOpConError; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"


def test_an_application_without_logging_set_up_hears_nothing_from_the_library() -> None:
    """A warning the library logs (here: a hook that raised) reaches no stderr by itself."""
    code = (
        "from amtopcon.testing import Emulator\n"
        "def broken(_):\n"
        "    raise RuntimeError('hook bug')\n"
        "with Emulator().client(event_hooks={'request': [broken]}) as client:\n"
        "    print(client.heartbeat())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True"
    assert proc.stderr == ""
    control = subprocess.run(  # the same error does reach stderr once logging is set up
        [sys.executable, "-c", "import logging; logging.basicConfig()\n" + code],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "request hook raised" in control.stderr


def test_the_fault_function_names_type_lists_the_contract_functions() -> None:
    from typing import get_args

    from amtopcon.testing._faults import FunctionName

    assert get_args(FunctionName) == w.FUNCTIONS
