"""Property tests: nothing but an `AmtOpConError` ever escapes the response parsers or a
client call, whatever the server sends; timestamps round-trip."""

from __future__ import annotations

import contextlib
import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from amtopcon import ActionResult, AsyncClient, Client, JobStatus, MessagePage
from amtopcon import _wire as w
from amtopcon._convert import parse_timestamp
from amtopcon.errors import AmtOpConError, APIStatusError, InvalidResponseError

from ._support import BASE, PASSWORD, USER, FakeClock

# ------------------------------------------------------------------ strategies

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-5, 30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.integers(-(10**25), 10**25).map(str)
)
timestamps = st.sampled_from(
    [
        "2017-05-18T14:00:14.865+02:00",
        "2017-05-18T14:00:14.2390000",
        "/Date(1495116014239+0200)/",
        "/Date(1495116014239)/",
        "/Date(-99999999999999)/",
        "9999-12-31T23:59:59.9999999-23:59",
        "0001-01-01T00:00:00+23:59",
        "2017-02-30T00:00:00",
    ]
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=5,
)
field_values = scalars | timestamps | json_values


def case_variants(name: str) -> list[str]:
    """The name in several cases: as written, lower, upper, swapped, alternating."""
    alternating = "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(name))
    return [name, name.lower(), name.upper(), name.swapcase(), alternating]


def objects(names: list[str], values: st.SearchStrategy[Any] = field_values) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects using the contract's keys (random case, right or wrong types) and others."""
    keys = st.sampled_from([v for n in names for v in case_variants(n)]) | st.text(max_size=8)
    return st.dictionaries(keys, values, max_size=min(len(names) + 1, 6))


STATUS_KEYS = [w.F_BATCH_REQUEST_ID, w.F_STATUS, w.F_STATUS_TEXT, w.F_DESCRIPTION, w.F_APPLICATION, w.F_JOB_NAME]
STATUS_KEYS += [w.F_SUBMITTED_AT, w.F_STARTED_AT, w.F_ENDED_AT]
ACTION_KEYS = [w.F_BATCH_REQUEST_ID, w.F_STATUS, w.F_STATUS_TEXT, w.F_MESSAGE]
MESSAGE_KEYS = [w.F_SEQUENCE, w.F_TIMESTAMP, w.F_SEVERITY, w.F_TEXT]
messages = objects(MESSAGE_KEYS)
PAGE_VALUES = field_values | st.lists(messages | scalars, max_size=3)
valid_answers = st.sampled_from(
    [
        {"BatchRequestId": 2112, "Status": 2, "StatusText": "RUNNING", "SubmittedAt": "2017-05-18T14:00:14.865+02:00"},
        {"BatchRequestId": "2112", "Status": 1, "Message": "started"},
        {"BatchRequestId": 2112, "HasMore": False, "Messages": [{"Sequence": 1, "Text": "Done"}]},
        {"Status": "OK"},
    ]
)
answers = (
    valid_answers
    | objects(STATUS_KEYS)
    | objects(ACTION_KEYS)
    | objects([w.F_BATCH_REQUEST_ID, w.F_HAS_MORE, w.F_MESSAGES], PAGE_VALUES)
    | objects([w.F_TOKEN, w.F_ERROR_CODE, w.F_MESSAGE])
    | json_values
)


def encode(value: Any) -> bytes:
    return json.dumps(value).encode()


bodies = st.binary(max_size=64) | answers.map(encode) | answers.map(encode).map(lambda b: b[: len(b) // 2])

# ------------------------------------------------------------------ parsers

PARSERS = {
    "parse_job_status": (w.parse_job_status, JobStatus),
    "parse_message_page": (w.parse_message_page, MessagePage),
    "parse_action_result": (w.parse_action_result, ActionResult),
    "parse_logon": (w.parse_logon, str),
}


@pytest.mark.parametrize("name", list(PARSERS))
@given(data=answers)
def test_parsers_raise_nothing_but_invalid_response(name: str, data: Any) -> None:
    parse, cls = PARSERS[name]
    try:
        result = parse(data, status_code=200, request_id="r")
    except InvalidResponseError as err:
        assert err.status_code == 200
        assert err.request_id == "r"
        assert err.body is None or len(err.body) <= 200
    else:
        assert isinstance(result, cls)
    assert isinstance(w.parse_heartbeat(data), bool)


def _outcome(parse: Any, data: Any, about: int | None) -> Any:
    try:
        return parse(data, status_code=200, request_id="r", about=about)
    except InvalidResponseError as err:
        return ("error", str(err), err.body)


well_formed_statuses = st.fixed_dictionaries(
    {"BatchRequestId": st.integers(1, 10**6) | st.integers(1, 10**6).map(str), "Status": st.integers(-5, 30)},
    optional={
        "StatusText": st.text(max_size=8),
        "ApplicationName": st.text(max_size=8) | st.none(),
        "StartedAt": timestamps,
        "endedat": timestamps | st.none(),
    },
)
well_formed_pages = st.fixed_dictionaries(
    {
        "Messages": st.lists(
            st.fixed_dictionaries(
                {"Sequence": st.integers(-1, 50), "Text": st.text(max_size=5)},
                optional={"Timestamp": timestamps, "severity": st.sampled_from(["INFO", "ERROR"])},
            ),
            max_size=4,
        ),
        "HasMore": st.booleans(),
    },
    optional={"BatchRequestId": st.integers(1, 3)},
)


@pytest.mark.parametrize(
    ("name", "fast", "strict_answers"),
    [
        ("parse_job_status", "_fast_status", well_formed_statuses | objects(STATUS_KEYS)),
        (
            "parse_message_page",
            "_fast_page",
            well_formed_pages | objects([w.F_BATCH_REQUEST_ID, w.F_HAS_MORE, w.F_MESSAGES], PAGE_VALUES),
        ),
    ],
)
@given(data=st.data())
def test_the_fast_parse_of_common_answers_changes_no_outcome(
    name: str, fast: str, strict_answers: Any, data: st.DataObject
) -> None:
    """MonitorJob and GetMessages answers are read by a direct parser first: whatever the
    answer, the result (or the typed error, word for word) is what the strict path gives."""
    from unittest import mock

    from amtopcon._wire import responses

    answer = data.draw(strict_answers | answers)
    about = data.draw(st.none() | st.integers(1, 3) | st.sampled_from([2112]))
    parse = getattr(responses, name)
    got = _outcome(parse, answer, about)

    def refuse(_: Any) -> Any:
        raise TypeError

    with mock.patch.object(responses, fast, refuse):  # only the strict path
        assert got == _outcome(parse, answer, about)


@given(content=bodies)
def test_decode_json_raises_nothing_but_invalid_response(content: bytes) -> None:
    try:
        data = w.decode_json(content, status_code=200, request_id="r")
    except InvalidResponseError as err:
        assert err.status_code == 200
        assert err.body is None or len(err.body) <= 200
    else:
        for parse, _ in PARSERS.values():
            with contextlib.suppress(InvalidResponseError):
                parse(data)


@given(status=st.integers(100, 599), content=bodies, rid=st.none() | st.text(max_size=10))
def test_status_error_always_answers_a_status_error(status: int, content: bytes, rid: str | None) -> None:
    err = w.status_error(status, content, request_id=rid)
    assert isinstance(err, APIStatusError)
    assert err.status_code == status
    assert err.request_id == rid
    assert isinstance(err.message, str)
    assert isinstance(str(err), str)
    assert err.error_code is None or isinstance(err.error_code, str)


# ------------------------------------------------------------------ the full client path

header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
responses = st.builds(
    lambda status, content, retry_after, rid: (status, content, retry_after, rid),
    st.integers(200, 299) | st.integers(300, 599) | st.sampled_from([200, 200, 401, 429, 500, 503]),
    valid_answers.map(encode) | bodies,
    st.none() | header_text | st.integers(-5, 120).map(str),
    st.none() | header_text.filter(str.strip),
)


def respond(answer: tuple[int, bytes, str | None, str | None]) -> httpx.Response:
    status, content, retry_after, rid = answer
    headers = {}
    if retry_after is not None:
        headers[w.H_RETRY_AFTER] = retry_after
    if rid is not None:
        headers[w.H_REQUEST_ID] = rid
    return httpx.Response(status, content=content, headers=headers)


CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any], type | tuple[type, ...]]] = [
    ("monitor_job", (2112,), {}, JobStatus),
    ("get_messages", (2112,), {"after": 3}, MessagePage),
    ("job_action", ("START",), {"application": "DEMO2", "job": "J"}, ActionResult),
    ("job_action", ("STOP",), {"batch_request_id": 2112}, ActionResult),
    ("heartbeat", (), {}, bool),
]


def make_handler(answers: list[tuple[int, bytes, str | None, str | None]]) -> Any:
    """Answers Logon correctly (or not: the first answer may go to Logon too) and cycles the rest."""
    state = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        state["n"] += 1
        if request.url.path.endswith(w.LOGON) and state["n"] % 2:
            return httpx.Response(200, json=w.logon_body("tok"))
        return respond(answers[state["n"] % len(answers)])

    return handler


def check(outcome: Any, expected: type | tuple[type, ...]) -> None:
    if isinstance(outcome, BaseException):
        assert isinstance(outcome, AmtOpConError), repr(outcome)
    else:
        assert isinstance(outcome, expected)


@given(answers=st.lists(responses, min_size=1, max_size=3))
def test_a_sync_call_raises_nothing_but_amtopcon_errors(answers: list[Any]) -> None:
    clock = FakeClock()
    http = httpx.Client(transport=httpx.MockTransport(make_handler(answers)))
    with Client(BASE, username=USER, password=PASSWORD, clock=clock, max_retries=1, http_client=http) as client:
        for method, args, kwargs, expected in CALLS:
            try:
                outcome = getattr(client, method)(*args, **kwargs)
            except Exception as exc:
                outcome = exc
            check(outcome, expected)
    assert all(0 <= s <= 60 and not math.isnan(s) for s in clock.sleeps)


@given(answers=st.lists(responses, min_size=1, max_size=3))
def test_an_async_call_raises_nothing_but_amtopcon_errors(answers: list[Any]) -> None:
    clock = FakeClock()

    async def main() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(make_handler(answers)))
        kwargs: dict[str, Any] = {"username": USER, "password": PASSWORD, "clock": clock, "max_retries": 1}
        async with AsyncClient(BASE, http_client=http, **kwargs) as client:
            for method, args, kw, expected in CALLS:
                try:
                    outcome = await getattr(client, method)(*args, **kw)
                except Exception as exc:
                    outcome = exc
                check(outcome, expected)

    anyio.run(main, backend="asyncio")
    assert all(0 <= s <= 60 for s in clock.sleeps)


# ------------------------------------------------------------------ timestamps round-trip

offsets = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))


@given(
    moment=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    digits=st.integers(0, 7),
    seventh=st.integers(0, 9),
    zone=st.none() | offsets,
    style=st.sampled_from(["colon", "compact", "Z"]),
    sep=st.sampled_from(["T", " "]),
)
def test_iso_round_trip(
    moment: datetime, digits: int, seventh: int, zone: timezone | None, style: str, sep: str
) -> None:
    wall = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}{sep}{moment:%H:%M:%S}"
    fraction = (f"{moment.microsecond:06d}{seventh}")[:digits]
    text = wall + (f".{fraction}" if digits else "")
    expected = moment.replace(microsecond=int(fraction.ljust(6, "0")[:6]) if digits else 0)
    if zone is not None:
        delta = zone.utcoffset(None)
        minutes = int(delta.total_seconds() // 60)
        if style == "Z" and minutes == 0:
            text += "Z"
        else:
            sign = "-" if minutes < 0 else "+"
            hh, mm = divmod(abs(minutes), 60)
            text += f"{sign}{hh:02d}:{mm:02d}" if style == "colon" else f"{sign}{hh:02d}{mm:02d}"
        expected = expected.replace(tzinfo=zone)
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.tzinfo is None if zone is None else parsed.utcoffset() == zone.utcoffset(None)


@given(
    millis=st.integers(-62_000_000_000_000, 253_000_000_000_000),
    minutes=st.none() | st.integers(-(23 * 60 + 59), 23 * 60 + 59),
)
def test_wcf_round_trip(millis: int, minutes: int | None) -> None:
    suffix = ""
    if minutes is not None:
        hh, mm = divmod(abs(minutes), 60)
        suffix = f"{'-' if minutes < 0 else '+'}{hh:02d}{mm:02d}"
    parsed = parse_timestamp(f"/Date({millis}{suffix})/")
    assert parsed == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)
    assert parsed.utcoffset() == timedelta(minutes=minutes or 0)


@given(text=st.text(max_size=40))
def test_parse_timestamp_raises_only_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        parse_timestamp(text)
