"""Reading answers: keys in any case, unknown keys ignored, timestamps, ids, unknown codes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest

from amtopcon import CompletionCode, JobStatus, Message, models
from amtopcon import _wire as w
from amtopcon._convert import parse_timestamp
from amtopcon.errors import InvalidResponseError

PLUS2 = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2017-05-18T14:00:14", datetime(2017, 5, 18, 14, 0, 14)),
        ("2017-05-18T14:00", datetime(2017, 5, 18, 14, 0)),
        ("2017-05-18 14:00:14", datetime(2017, 5, 18, 14, 0, 14)),
        ("2017-05-18T14:00:14.2", datetime(2017, 5, 18, 14, 0, 14, 200000)),
        ("2017-05-18T14:00:14.239", datetime(2017, 5, 18, 14, 0, 14, 239000)),
        ("2017-05-18T14:00:14.239000", datetime(2017, 5, 18, 14, 0, 14, 239000)),
        ("2017-05-18T14:00:14.2390000", datetime(2017, 5, 18, 14, 0, 14, 239000)),
        ("2017-05-18T14:00:14.1234567", datetime(2017, 5, 18, 14, 0, 14, 123456)),
        ("2017-05-18T14:00:14.865+02:00", datetime(2017, 5, 18, 14, 0, 14, 865000, PLUS2)),
        ("2017-05-18T14:00:14.8650000+0200", datetime(2017, 5, 18, 14, 0, 14, 865000, PLUS2)),
        ("2017-05-18T14:00:14+02", datetime(2017, 5, 18, 14, 0, 14, tzinfo=PLUS2)),
        ("2017-05-18T14:00:14Z", datetime(2017, 5, 18, 14, 0, 14, tzinfo=UTC)),
        (
            "2017-05-18T14:00:14-05:30",
            datetime(2017, 5, 18, 14, 0, 14, tzinfo=timezone(-timedelta(hours=5, minutes=30))),
        ),
        ("/Date(1495116014239+0200)/", datetime(2017, 5, 18, 16, 0, 14, 239000, PLUS2)),
        ("/Date(1495116014239-0130)/", datetime(2017, 5, 18, 12, 30, 14, 239000, timezone(-timedelta(minutes=90)))),
        ("/Date(1495116014239)/", datetime(2017, 5, 18, 14, 0, 14, 239000, UTC)),
        ("\\/Date(1495116014239)\\/", datetime(2017, 5, 18, 14, 0, 14, 239000, UTC)),
        ("/Date(-1000)/", datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (" 2017-05-18T14:00:14 ", datetime(2017, 5, 18, 14, 0, 14)),
        ("1900-01-01T00:00:00+00:19:32", datetime(1900, 1, 1, tzinfo=timezone(timedelta(minutes=19, seconds=32)))),
        (
            "2017-05-18T14:00:14-01:00:00.500000",
            datetime(2017, 5, 18, 14, 0, 14, tzinfo=timezone(-timedelta(hours=1, microseconds=500000))),
        ),
    ],
)
def test_timestamps(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert (parsed.tzinfo is None) == (expected.tzinfo is None)  # naive stays naive, never guessed
    assert parsed.utcoffset() == expected.utcoffset()


def test_wcf_offset_only_picks_the_zone() -> None:
    a, b = parse_timestamp("/Date(1495116014239+0200)/"), parse_timestamp("/Date(1495116014239)/")
    assert a == b  # the same instant
    assert a.utcoffset() == timedelta(hours=2)
    assert b.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2017-13-01T00:00:00",
        "2017-02-30T00:00:00",
        "2017-05-18T25:00:00",
        "2017-05-18T14:00:14.12345678",
        "2017-05-18T14:00:14+25:00",
        "2017-05-18T14:00:14+01:60",
        "2017-05-18T14:00:14+01:00:60",
        "2017-05-18",
        "/Date(abc)/",
        "/Date(99999999999999999)/",
        "/Date(1495116014239+02)/",
    ],
)
def test_bad_timestamps_are_value_errors(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_a_bad_timestamp_in_an_answer_names_the_field() -> None:
    with pytest.raises(InvalidResponseError) as info:
        w.parse_job_status({"BatchRequestId": 1, "Status": 2, "StartedAt": "noon"}, status_code=200)
    assert "started_at" in info.value.message
    assert info.value.status_code == 200


def test_monitor_job_answer_of_the_contract() -> None:
    status = w.parse_job_status(
        {
            "BatchRequestId": 2112,
            "ApplicationName": "DEMO2",
            "JobName": "RUN_PARAMETERTESTA",
            "Status": 2,
            "StatusText": "RUNNING",
            "Description": None,
            "SubmittedAt": "2017-05-18T14:00:14.865+02:00",
            "StartedAt": "/Date(1495108815010+0200)/",
            "EndedAt": None,
            "SomethingNew": {"ignored": True},
        }
    )
    assert status == JobStatus(
        2112,
        CompletionCode.RUNNING,
        "RUNNING",
        None,
        "DEMO2",
        "RUN_PARAMETERTESTA",
        datetime(2017, 5, 18, 14, 0, 14, 865000, PLUS2),
        datetime(2017, 5, 18, 14, 0, 15, 10000, PLUS2),
        None,
    )
    assert not status.is_terminal


def test_keys_are_read_case_insensitively() -> None:
    status = w.parse_job_status({"batchrequestid": "2112", "STATUS": "4", "statusText": "DONE", "jobname": "J"})
    assert (status.batch_request_id, status.code, status.status_text, status.job_name) == (2112, 4, "DONE", "J")
    assert status.succeeded
    result = w.parse_action_result({"BATCHREQUESTID": "2112", "status": 1, "MESSAGE": "started"})
    assert (result.batch_request_id, result.code, result.message) == (2112, CompletionCode.QUEUED, "started")
    page = w.parse_message_page(
        {"hasmore": True, "MESSAGES": [{"sequence": "2", "TEXT": "b"}, {"Sequence": 1, "text": "a", "SEVERITY": "X"}]}
    )
    assert page.has_more
    assert [(m.sequence, m.text, m.severity) for m in page.messages] == [(1, "a", "X"), (2, "b", "INFO")]
    assert page.last_sequence == 2
    assert w.parse_logon({"amtlogontoken": "t"}) == "t"
    assert w.parse_heartbeat({"status": "OK"}) is True
    assert w.parse_heartbeat({"Status": "ok"}) is False
    assert w.parse_heartbeat({"Status": "DOWN"}) is False
    assert w.parse_heartbeat([]) is False


@pytest.mark.parametrize("brid", [2112, "2112", " 2112 "])
def test_batch_request_id_as_int_or_digit_string(brid: int | str) -> None:
    assert w.parse_job_status({"BatchRequestId": brid, "Status": 1}).batch_request_id == 2112
    assert w.parse_action_result({"BatchRequestId": brid, "Status": 1}).batch_request_id == 2112
    assert w.parse_message_page({"BatchRequestId": brid}).batch_request_id == 2112


@pytest.mark.parametrize("brid", ["21a2", 21.5, True, None, [], "", "٢١"])
def test_a_bad_batch_request_id_is_an_invalid_response(brid: object) -> None:
    with pytest.raises(InvalidResponseError):
        w.parse_job_status({"BatchRequestId": brid, "Status": 1})


def test_an_unknown_code_is_kept_not_terminal_and_warned_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delitem(CompletionCode._value2member_map_, 17, raising=False)
    monkeypatch.setattr(models, "_WARNED", set())
    caplog.set_level(logging.WARNING, logger="amtopcon")
    first = w.parse_job_status({"BatchRequestId": 1, "Status": 17})
    second = w.parse_job_status({"BatchRequestId": 2, "Status": "17"})
    third = CompletionCode(17)
    for status in (first, second):
        assert int(status.code) == 17
        assert status.code == 17
        assert not status.is_terminal
        assert not status.succeeded
    assert not third.is_known and not third.is_terminal and not third.is_success
    assert "17" in repr(first) and "UNKNOWN_17" in repr(third)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "17" in r.getMessage()]
    assert len(warnings) == 1


def test_every_known_code() -> None:
    assert len(CompletionCode) == 25
    terminal = {c for c in CompletionCode if c.is_terminal}
    assert {int(c) for c in terminal} == {3, 4, 6, 10, 11, 12, 22, 23, 24, 99}
    assert [c for c in CompletionCode if c.is_success] == [CompletionCode.DONE]
    assert all(c.description and c.is_known for c in CompletionCode)
    assert CompletionCode.INVALID_AMT_USER == 99
    assert CompletionCode.WAIT_FOR_FILE.description == "waiting for a file"


def test_messages_of_a_page_are_ordered() -> None:
    page = w.parse_message_page(
        w.message_page_body(5, [Message(3, text="c"), Message(1, text="a"), Message(2, text="b")], has_more=False)
    )
    assert [m.sequence for m in page.messages] == [1, 2, 3]
    assert page.batch_request_id == 5


@pytest.mark.parametrize(
    "data",
    [
        {"HasMore": "yes"},
        {"Messages": "none"},
        {"Messages": [{"Sequence": 1}]},  # no Text
        {"Messages": [{"Sequence": "x", "Text": "a"}]},
        {"Messages": [1]},
        [],
        "text",
    ],
)
def test_bad_pages(data: object) -> None:
    with pytest.raises(InvalidResponseError):
        w.parse_message_page(data)


@pytest.mark.parametrize("token", ["tök", "a\r\nb", "a\nb", "a\x00b", " abc", "abc ", "abc\t", "токен", "a\x7fb"])
def test_a_logon_token_that_cannot_be_a_header_value_is_an_invalid_response(token: str) -> None:
    with pytest.raises(InvalidResponseError, match="not a valid header value") as info:
        w.parse_logon({"AmtLogonToken": token}, status_code=200, request_id="r1")
    assert token not in str(info.value) and token not in repr(info.value)
    assert info.value.request_id == "r1"


@pytest.mark.parametrize("token", ["t", "abc.DEF-123_~+/=", "a b", "eyJhbGciOi.x.y"])
def test_a_printable_ascii_logon_token_is_accepted(token: str) -> None:
    assert w.parse_logon({"AmtLogonToken": token}) == token
