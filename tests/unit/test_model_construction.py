"""Models are built in the order public-api.md documents, and refuse a value of the wrong
type at once (a `ValidationError` naming the field) instead of failing later in a repr."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from typing import Any

import pytest

from amtopcon import ActionResult, CompletionCode, JobResult, JobStatus, Message, MessagePage, TaskValue
from amtopcon import _wire as w
from amtopcon.errors import InvalidResponseError, ValidationError

WHEN = datetime(2017, 5, 18, 14, 1, 35, tzinfo=UTC)
STATUS = JobStatus(2112, CompletionCode.DONE)


def test_message_positional_order_is_sequence_timestamp_severity_text() -> None:
    message = Message(1, WHEN, "WARNING", "Report test 01 is started")
    assert (message.sequence, message.timestamp, message.severity, message.text) == (
        1,
        WHEN,
        "WARNING",
        "Report test 01 is started",
    )
    assert "Report test 01 is started" in repr(message)
    assert Message(2) == Message(2, None, "INFO", "")  # the documented defaults


def test_message_round_trips_in_the_new_order() -> None:
    message = Message(3, WHEN, "ERROR", "File not found")
    assert Message.from_dict(message.to_dict()) == message
    assert pickle.loads(pickle.dumps(message)) == message


@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        ((1, "text first", WHEN), {}, "timestamp"),  # the order before the fix
        ((1, WHEN, "INFO", 5), {}, "text"),
        ((1, WHEN, None, "x"), {}, "severity"),
        (("1",), {"text": "x"}, "sequence"),
        ((True,), {"text": "x"}, "sequence"),
        ((1.0,), {"text": "x"}, "sequence"),
        ((1,), {"timestamp": "2017-05-18T14:01:35"}, "timestamp"),
    ],
)
def test_message_refuses_wrong_types_naming_the_field(
    args: tuple[Any, ...], kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        Message(*args, **kwargs)
    assert info.value.field == field
    assert f"Message.{field}" in str(info.value)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: JobStatus(batch_request_id="x", code=CompletionCode.DONE), "batch_request_id"),  # type: ignore[arg-type]
        (lambda: JobStatus(True, CompletionCode.DONE), "batch_request_id"),
        (lambda: JobStatus(1, True), "code"),
        (lambda: JobStatus(1, "DONE"), "code"),  # type: ignore[arg-type]
        (lambda: JobStatus(1, 4, status_text=4), "status_text"),  # type: ignore[arg-type]
        (lambda: JobStatus(1, 4, description=b"x"), "description"),  # type: ignore[arg-type]
        (lambda: JobStatus(1, 4, application=1), "application"),  # type: ignore[arg-type]
        (lambda: JobStatus(1, 4, job_name=["J"]), "job_name"),  # type: ignore[arg-type]
        (lambda: JobStatus(1, 4, submitted_at="noon"), "submitted_at"),  # type: ignore[arg-type]
        (lambda: JobStatus(1, 4, started_at=0), "started_at"),  # type: ignore[arg-type]
        (lambda: JobStatus(1, 4, ended_at=1.5), "ended_at"),  # type: ignore[arg-type]
        (lambda: ActionResult("2112", 1), "batch_request_id"),  # type: ignore[arg-type]
        (lambda: ActionResult(2112, 1, status_text=1), "status_text"),  # type: ignore[arg-type]
        (lambda: ActionResult(2112, 1, message=1), "message"),  # type: ignore[arg-type]
        (lambda: TaskValue("A", 1), "value"),  # type: ignore[arg-type]
        (lambda: TaskValue(None, "1"), "name"),  # type: ignore[arg-type]
        (lambda: MessagePage([Message(1), "m"]), "messages"),  # type: ignore[list-item]
        (lambda: MessagePage(5), "messages"),  # type: ignore[arg-type]
        (lambda: MessagePage(has_more="yes"), "has_more"),  # type: ignore[arg-type]
        (lambda: MessagePage(batch_request_id="1"), "batch_request_id"),  # type: ignore[arg-type]
        (lambda: JobResult(None), "status"),  # type: ignore[arg-type]
        (lambda: JobResult(STATUS, [Message(1), 2]), "messages"),  # type: ignore[list-item]
        (lambda: JobResult(STATUS, "abc"), "messages"),  # type: ignore[arg-type]
    ],
)
def test_models_refuse_wrong_types_naming_the_field(make: Any, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        make()
    assert info.value.field == field
    assert field in str(info.value)


def test_good_models_still_build() -> None:
    status = JobStatus(2112, 4, "DONE", None, "DEMO2", "RUN", WHEN, WHEN, WHEN)
    assert status.code is CompletionCode.DONE
    assert ActionResult(2112, CompletionCode.QUEUED, "QUEUED", "ok").batch_request_id == 2112
    assert MessagePage([Message(1, text="a")], True, 2112).last_sequence == 1
    assert JobResult(status, [Message(1, text="a")]).messages == (Message(1, text="a"),)


def test_the_wire_still_requires_a_message_text() -> None:
    with pytest.raises(InvalidResponseError, match="Text"):
        w.parse_message_page({"HasMore": False, "Messages": [{"Sequence": 1, "Text": None}]})
    page = w.parse_message_page({"HasMore": False, "Messages": [{"Sequence": 1, "Text": ""}]})
    assert page.messages == (Message(1),)


@pytest.mark.parametrize(("brid", "expected"), [(2112, 2112), ("2112", 2112)])
def test_message_page_batch_request_id(brid: object, expected: int) -> None:
    assert w.parse_message_page({"BatchRequestId": brid, "HasMore": False, "Messages": []}).batch_request_id == expected


@pytest.mark.parametrize("brid", ["x", True, 1.5, []])
def test_message_page_bad_batch_request_id_names_it(brid: object) -> None:
    with pytest.raises(InvalidResponseError, match="BatchRequestId"):
        w.parse_message_page({"BatchRequestId": brid, "HasMore": False, "Messages": []})
