"""Round trips: every model through to_dict/from_dict (via JSON) and pickle; every exception
through pickle, keeping its fields."""

from __future__ import annotations

import json
import pickle
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from amtopcon import ActionResult, CompletionCode, JobResult, JobStatus, Message, MessagePage, TaskValue
from amtopcon import errors as e
from amtopcon.errors import ValidationError

# ------------------------------------------------------------------ strategies

offsets = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m))) | st.integers(
    -86_399_999_999, 86_399_999_999
).map(lambda us: timezone(timedelta(microseconds=us)))  # isoformat() writes seconds when an offset has them
moments = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.none() | offsets)
codes = st.sampled_from(list(CompletionCode)) | st.integers(0, 120).map(CompletionCode)
texts = st.text(max_size=30)
ids = st.integers(-(2**63), 2**63)
maybe = st.none

task_values = st.builds(TaskValue, texts, texts)
statuses = st.builds(
    JobStatus,
    batch_request_id=ids,
    code=codes,
    status_text=maybe() | texts,
    description=maybe() | texts,
    application=maybe() | texts,
    job_name=maybe() | texts,
    submitted_at=maybe() | moments,
    started_at=maybe() | moments,
    ended_at=maybe() | moments,
)
messages = st.builds(Message, sequence=st.integers(0, 2**40), text=texts, timestamp=maybe() | moments, severity=texts)
pages = st.builds(
    MessagePage,
    messages=st.lists(messages, max_size=4).map(tuple),
    has_more=st.booleans(),
    batch_request_id=maybe() | ids,
)
actions = st.builds(ActionResult, ids, codes, maybe() | texts, maybe() | texts)
results = st.builds(JobResult, statuses, st.lists(messages, max_size=4).map(tuple))
models = task_values | statuses | messages | pages | actions | results


@given(models)
def test_to_dict_from_dict_through_json(model: Any) -> None:
    data = model.to_dict()
    wire = json.loads(json.dumps(data, allow_nan=False))  # JSON-safe: survives a task queue
    again = type(model).from_dict(wire)
    assert again == model
    assert again.to_dict() == data
    assert isinstance(repr(model), str)


@given(models)
def test_pickle(model: Any) -> None:
    again = pickle.loads(pickle.dumps(model))
    assert again == model
    assert type(again) is type(model)


@given(statuses)
def test_naive_stays_naive_and_offsets_are_kept(status: JobStatus) -> None:
    again = JobStatus.from_dict(json.loads(json.dumps(status.to_dict())))
    for name in ("submitted_at", "started_at", "ended_at"):
        before, after = getattr(status, name), getattr(again, name)
        if before is None:
            assert after is None
        else:
            assert (before.tzinfo is None) == (after.tzinfo is None)
            assert before.utcoffset() == after.utcoffset()


def test_a_historical_zone_survives_the_trip() -> None:
    from zoneinfo import ZoneInfo

    when = datetime(1900, 1, 1, tzinfo=ZoneInfo("Europe/Amsterdam"))  # local mean time: +00:19:32
    again = JobStatus.from_dict(JobStatus(1, 2, submitted_at=when).to_dict())
    assert again.submitted_at == when
    assert again.submitted_at is not None and again.submitted_at.utcoffset() == when.utcoffset()


def test_an_unknown_code_survives_every_trip() -> None:
    status = JobStatus(1, 17)
    assert pickle.loads(pickle.dumps(status)).code == 17
    assert JobStatus.from_dict(status.to_dict()).code == 17
    assert status.to_dict()["code"] == 17


def test_to_dict_shape() -> None:
    when = datetime(2017, 5, 18, 14, 0, 14, 865000, timezone(timedelta(hours=2)))
    status = JobStatus(2112, CompletionCode.DONE, "DONE", None, "DEMO2", "J", when, when, when)
    result = JobResult(status, (Message(1, when, "INFO", "Done"),))
    data = result.to_dict()
    assert data["status"]["code"] == 4
    assert data["status"]["submitted_at"] == "2017-05-18T14:00:14.865000+02:00"
    assert data["messages"][0] == {"sequence": 1, "text": "Done", "timestamp": when.isoformat(), "severity": "INFO"}
    assert result.duration == timedelta(0)
    assert result.exit_code == 4 and result.succeeded


GARBAGE: list[tuple[type[Any], Any]] = [
    (JobStatus, None),
    (JobStatus, []),
    (JobStatus, "status"),
    (JobStatus, {}),
    (JobStatus, {"batch_request_id": "abc", "code": 2}),
    (JobStatus, {"batch_request_id": 1, "code": True}),
    (JobStatus, {"batch_request_id": 1, "code": 2, "submitted_at": "noon"}),
    (JobStatus, {"batch_request_id": 1, "code": 2, "description": 5}),
    (Message, {"text": "x"}),
    (Message, {"sequence": 1.5, "text": "x"}),
    (MessagePage, {"messages": None}),
    (MessagePage, {"messages": [{"sequence": "x", "text": "a"}]}),
    (MessagePage, {"has_more": "yes"}),
    (ActionResult, {"batch_request_id": [], "code": 1}),
    (JobResult, {"status": None}),
    (JobResult, {"status": {"batch_request_id": 1, "code": 4}, "messages": 3}),
    (TaskValue, {"name": 1, "value": "x"}),
    (TaskValue, {"name": "x"}),
]


@pytest.mark.parametrize(("cls", "data"), GARBAGE)
def test_from_dict_with_garbage_is_a_validation_error(cls: type[Any], data: Any) -> None:
    with pytest.raises(ValidationError) as info:
        cls.from_dict(data)
    assert info.value.field == cls.__name__
    assert cls.__name__ in str(info.value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=12), c, max_size=4),
    max_leaves=5,
)


FIELD_NAMES = ["batch_request_id", "code", "sequence", "text", "name", "value", "status", "messages", "has_more"]


@given(
    cls=st.sampled_from([TaskValue, JobStatus, Message, MessagePage, ActionResult, JobResult]),
    data=json_values | st.dictionaries(st.sampled_from(FIELD_NAMES), json_values),
)
def test_from_dict_raises_nothing_but_validation_error(cls: type[Any], data: Any) -> None:
    try:
        model = cls.from_dict(data)
    except ValidationError:
        return
    assert isinstance(model, cls)


# ------------------------------------------------------------------ exceptions pickle

STATUS = JobStatus(2112, CompletionCode.ERROR, "ERROR", "File not found")
RESPONSE = httpx.Response(503, json={"ErrorCode": "SERVER_BUSY"})
EXCEPTIONS: list[tuple[BaseException, dict[str, Any]]] = [
    (e.AmtOpConError("base", attempts=2), {}),
    (e.ValidationError("job: too long", field="job"), {"field": "job"}),
    (
        e.ConfigError("missing value", path="/etc/Connector.config", line=7, key="USER"),
        {"path": "/etc/Connector.config"},
    ),
    (e.APIConnectionError("refused", attempts=4, request_id="r-1"), {"request_id": "r-1"}),
    (e.APITimeoutError("slow", attempts=1, request_id="r-2"), {"request_id": "r-2"}),
    (e.APIStatusError("teapot", status_code=418, error_code="TEA", request_id="r-3", attempts=1), {}),
    (e.BadRequestError("bad", status_code=400, error_code="INVALID_REQUEST"), {}),
    (e.AuthenticationError("refused", status_code=401, error_code="AUTHENTICATION_FAILED"), {}),
    (e.PermissionDeniedError("no", status_code=403, error_code="NOT_AUTHORIZED"), {}),
    (e.NotFoundError("none", status_code=404, error_code="JOB_NOT_FOUND"), {}),
    (e.ConflictError("ended", status_code=409, error_code="ACTION_NOT_ALLOWED"), {}),
    (e.RateLimitError("slow down", status_code=429, retry_after=7.0, response=RESPONSE, attempts=3), {}),
    (e.InternalServerError("busy", status_code=503, retry_after=5.0, response=RESPONSE, request_id="srv"), {}),
    (e.InvalidResponseError("html", status_code=200, request_id="r-4", body="<html>", response=RESPONSE), {}),
    (e.StartOutcomeUnknownError("maybe", task_id="8d3c7a4e-0f5e-4a53-9a43-1b2f1f0c9e11", attempts=1), {}),
    (e.JobStartError("not started: disabled", batch_request_id=0, task_id="t", attempts=1), {}),
    (e.JobFailedError("ended ERROR", result=JobResult(STATUS, (Message(1, text="File not found"),))), {}),
    (e.WaitTimeoutError("deadline", status=STATUS, handle=object()), {}),
]
FIELDS = ["message", "attempts", "field", "path", "line", "key", "request_id", "status_code", "error_code"]
FIELDS += ["retry_after", "body", "task_id", "batch_request_id", "result", "status"]


@pytest.mark.parametrize("err", [x[0] for x in EXCEPTIONS], ids=[type(x[0]).__name__ for x in EXCEPTIONS])
def test_every_exception_pickles_with_its_fields(err: BaseException) -> None:
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is type(err)
    assert str(again) == str(err)
    assert again.args == err.args
    for name in FIELDS:
        if hasattr(err, name):
            assert getattr(again, name) == getattr(err, name), name
    if hasattr(err, "response"):
        assert again.response is None  # live objects are dropped, the fields stay
    if hasattr(err, "handle"):
        assert again.handle is None


def test_a_raised_exception_pickles_without_its_chain() -> None:
    try:
        try:
            raise httpx.ConnectError("refused")
        except httpx.ConnectError as exc:
            raise e.APIConnectionError("no answer", attempts=3) from exc
    except e.APIConnectionError as err:
        again = pickle.loads(pickle.dumps(err))
    assert again.attempts == 3
    assert again.__cause__ is None
    assert "after 3 attempts" in str(again)


def test_exception_strings_say_what_happened() -> None:
    assert str(e.AmtOpConError("x", attempts=1)) == "x (after 1 attempt)"
    assert str(e.AmtOpConError("x")) == "x"
    cfg = e.ConfigError("missing value", path="C.config", line=3, key="USER")
    assert str(cfg) == "missing value (C.config:3, key USER)"
    assert cfg.field == "USER"
