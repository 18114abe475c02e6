"""The call state machine (`amtopcon._core.call.CallState`) by table, in the style of
h11's `test_connection.py`: a `CallState` is fed events (`httpx.Response` objects and
transport exceptions) and each row says which step comes next (`Done`, `Sleep`,
`Relogon`) or which error ends the call. No HTTP is sent and nothing sleeps: a fake clock
stands still unless a row moves it.

The rows follow the retry section of ../shared/design/wire-contract.md:

* reads (Logon, HeartBeat, MonitorJob, GetMessages) and STOP/KILL ("action") are retried
  on connection errors, timeouts, 429, 500, 502, 503 and 504, with capped exponential
  back-off and jitter, honouring `Retry-After` (seconds or an HTTP date) up to 60 s;
* START is resent only when it provably never left (connect error, connect or pool
  timeout, 429, 503, a 401 that answered a token); after a read timeout, a dropped
  connection or a 500/502/504 its outcome is unknown (`StartOutcomeUnknownError`);
* a 401 that answered a token gets one new Logon; a 409 answering a repeated STOP/KILL
  whose earlier attempt may have landed counts as accepted;
* the whole call is bounded by `total_timeout` (or the caller's deadline), and the error
  says how many attempts were made.
"""

from __future__ import annotations

import email.utils
import random
import ssl
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from amtopcon import Client, Clock
from amtopcon import _constants as C
from amtopcon import _wire as w
from amtopcon._core.call import CallState, Done, Relogon, Sleep, Step, backoff_delay, check_started
from amtopcon.errors import (
    AmtOpConError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    InvalidResponseError,
    JobStartError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StartOutcomeUnknownError,
)
from amtopcon.models import ActionResult, JobStatus

WALL0 = 1_700_000_000.0
TOKEN = "tok-SECRET-1"
NEW_TOKEN = "tok-SECRET-2"
HTTP = httpx.Client()  # only builds requests: nothing is ever sent through it


class FakeClock(Clock):
    """Stands still; a row moves it with `advance()`. Nothing sleeps."""

    def __init__(self) -> None:
        self.t = 1000.0

    def now(self) -> float:
        return self.t

    def time(self) -> float:
        return WALL0 + self.t - 1000.0

    def sleep(self, seconds: float) -> None:  # pragma: no cover - a table never sleeps
        raise AssertionError("a table test slept")

    async def asleep(self, seconds: float) -> None:  # pragma: no cover
        raise AssertionError("a table test slept")

    def advance(self, seconds: float) -> None:
        self.t += seconds


def wire_request(kind: str) -> w.WireRequest:
    if kind == "read":
        return w.monitor_request(2112)
    if kind == "action":
        return w.action_request("STOP", 2112)
    if kind == "start":
        return w.StartRequest("DEMO2", "J", task_id="8d3c7a4e-0f5e-4a53-9a43-1b2f1f0c9e11").to_request()
    if kind == "logon":
        return w.logon_request("ocadm", "Pa55-w0rd")
    raise AssertionError(kind)


class Machine:
    """One `CallState` on a real client's settings (never used to send) and a fake clock."""

    def __init__(
        self,
        kind: str,
        *,
        max_retries: int = 3,
        total_timeout: float | None = 120.0,
        timeout: float = 30.0,
        deadline: float | None = None,
    ) -> None:
        self.clock = FakeClock()
        self.client = Client(
            "http://127.0.0.1:9/AmtOpConService/",
            clock=self.clock,
            max_retries=max_retries,
            total_timeout=total_timeout,
            timeout=timeout,
            http_client=HTTP,
        )
        self.client._rng = random.Random(2112)  # the back-off's jitter, made repeatable
        self.call = CallState(
            self.client, wire_request(kind), None if deadline is None else self.clock.now() + deadline
        )
        self.token = TOKEN
        self.sent: list[httpx.Request] = []

    def send(self, event: Callable[[httpx.Request], Any]) -> Step:
        """Build the next attempt and feed the call what `event` makes of it."""
        request = self.call.build(HTTP, self.token)
        self.sent.append(request)
        outcome = event(request)
        if isinstance(outcome, httpx.Response):
            return self.call.on_response(outcome)
        assert isinstance(outcome, httpx.HTTPError)
        return self.call.on_exception(outcome)

    def play(self, events: list[str]) -> list[str]:
        """Feed events by name; the steps as short names. A Relogon swaps in a new token."""
        steps: list[str] = []
        for name in events:
            step = self.send(EVENTS[name])
            steps.append(short(step))
            if isinstance(step, Relogon):
                assert step.stale == self.token
                self.token = NEW_TOKEN
        return steps


def short(step: Step) -> str:
    if isinstance(step, Done):
        return "done+conflict" if step.conflict_after_retry else "done"
    if isinstance(step, Sleep):
        return "sleep"
    assert isinstance(step, Relogon)
    return "relogon"


# --------------------------------------------------------------------------- events


def answer(
    status: int, *, retry_after: str | None = None, request_id: str | None = None, body: Any = None
) -> Callable[[httpx.Request], httpx.Response]:
    def make(request: httpx.Request) -> httpx.Response:
        headers = {}
        if retry_after is not None:
            headers[w.H_RETRY_AFTER] = retry_after
        if request_id is not None:
            headers[w.H_REQUEST_ID] = request_id
        if body is not None:
            return httpx.Response(status, json=body, headers=headers, request=request)
        if 200 <= status < 300:
            return httpx.Response(status, json={"BatchRequestId": 2112, "Status": 2}, request=request)
        return httpx.Response(
            status, json=w.error_body(f"E{status}", f"says {status}"), headers=headers, request=request
        )

    return make


def raising(cls: type[httpx.RequestError], text: str = "") -> Callable[[httpx.Request], httpx.RequestError]:
    def make(request: httpx.Request) -> httpx.RequestError:
        return cls(text or f"simulated {cls.__name__}", request=request)

    return make


def tls_refused(via: str) -> Callable[[httpx.Request], httpx.RequestError]:
    """A failed certificate check, as httpx reports it: by its cause, or only in the text."""

    def make(request: httpx.Request) -> httpx.RequestError:
        if via == "message":
            return httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", request=request)
        exc = httpx.ConnectError("handshake failed", request=request)
        exc.__cause__ = ssl.SSLCertVerificationError(1, "self-signed certificate")
        return exc

    return make


EVENTS: dict[str, Callable[[httpx.Request], Any]] = {
    "200": answer(200),
    "202": answer(202),
    "400": answer(400),
    "401": answer(401),
    "403": answer(403),
    "404": answer(404),
    "409": answer(409),
    "418": answer(418),
    "429": answer(429),
    "500": answer(500),
    "501": answer(501),
    "502": answer(502),
    "503": answer(503),
    "504": answer(504),
    "ConnectError": raising(httpx.ConnectError),
    "ConnectTimeout": raising(httpx.ConnectTimeout),
    "PoolTimeout": raising(httpx.PoolTimeout),
    "ProxyError": raising(httpx.ProxyError),
    "ReadTimeout": raising(httpx.ReadTimeout),
    "WriteTimeout": raising(httpx.WriteTimeout),
    "RemoteProtocolError": raising(httpx.RemoteProtocolError),
    "ReadError": raising(httpx.ReadError),
    "WriteError": raising(httpx.WriteError),
    "TLS-verify(cause)": tls_refused("cause"),
    "TLS-verify(text)": tls_refused("message"),
    "UnsupportedProtocol": raising(httpx.UnsupportedProtocol),
    "LocalProtocolError": raising(httpx.LocalProtocolError),
}

SLEEP, DONE, RELOGON = "sleep", "done", "relogon"
UNKNOWN = StartOutcomeUnknownError
STATUS_ERRORS: dict[str, type[AmtOpConError]] = {
    "400": BadRequestError,
    "403": PermissionDeniedError,
    "404": NotFoundError,
    "409": ConflictError,
    "418": APIStatusError,
    "501": InternalServerError,
}
FATAL = ("TLS-verify(cause)", "TLS-verify(text)", "UnsupportedProtocol", "LocalProtocolError")
NOT_SENT = ("ConnectError", "ConnectTimeout", "PoolTimeout", "ProxyError")
MAYBE_SENT = ("ReadTimeout", "WriteTimeout", "RemoteProtocolError", "ReadError", "WriteError")


def expected(kind: str, event: str) -> str | type[AmtOpConError]:
    """The retry matrix of the wire contract: what the first event of a call leads to."""
    if event in ("200", "202"):
        return DONE
    if event == "401":
        return RELOGON  # a token was sent
    if kind == "start" and event == "501":
        return UNKNOWN  # any 5xx but 503 may have been processed: the safe reading for START
    if event in STATUS_ERRORS:
        return STATUS_ERRORS[event]
    if event in FATAL:
        return APIConnectionError
    if kind == "start":
        if event in ("429", "503", *NOT_SENT):
            return SLEEP
        return UNKNOWN  # 500/502/504 and every "maybe sent" failure
    return SLEEP


FIRST_EVENT_ROWS = [
    pytest.param(kind, event, expected(kind, event), id=f"{kind}-{event}")
    for kind in ("read", "action", "start")
    for event in EVENTS
]


# --------------------------------------------------------------------------- table 1: one event


@pytest.mark.parametrize(("kind", "event", "outcome"), FIRST_EVENT_ROWS)
def test_first_event(kind: str, event: str, outcome: str | type[AmtOpConError]) -> None:
    """(kind, event) -> the next step, or the error that ends the call after one attempt."""
    m = Machine(kind)
    if isinstance(outcome, str):
        step = m.send(EVENTS[event])
        assert short(step) == outcome
        if isinstance(step, Sleep):  # the first back-off: half to all of INITIAL_BACKOFF
            assert C.INITIAL_BACKOFF / 2 <= step.seconds <= C.INITIAL_BACKOFF
        if isinstance(step, Relogon):
            assert step.stale == TOKEN and TOKEN not in repr(step)
        return
    with pytest.raises(AmtOpConError) as info:
        m.send(EVENTS[event])
    err = info.value
    assert type(err) is outcome
    assert err.attempts == 1 and "after 1 attempt" in str(err)
    if outcome is UNKNOWN:
        assert isinstance(err, StartOutcomeUnknownError)
        assert err.task_id == m.call.wreq.task_id and err.task_id in str(err)
        assert "may or may not" in str(err)
        assert not isinstance(err, APIConnectionError)
    if event.startswith("TLS"):
        assert "TLS certificate verification failed" in str(err)
    if outcome is not UNKNOWN and event in EVENTS and not event.isdigit():
        assert isinstance(err.__cause__, httpx.HTTPError)


PERSISTING: dict[str, type[AmtOpConError]] = {
    "ConnectError": APIConnectionError,
    "ProxyError": APIConnectionError,
    "RemoteProtocolError": APIConnectionError,
    "ReadError": APIConnectionError,
    "WriteError": APIConnectionError,
    "ConnectTimeout": APITimeoutError,
    "PoolTimeout": APITimeoutError,
    "ReadTimeout": APITimeoutError,
    "WriteTimeout": APITimeoutError,
    "429": RateLimitError,
    "500": InternalServerError,
    "502": InternalServerError,
    "503": InternalServerError,
    "504": InternalServerError,
}


@pytest.mark.parametrize(
    ("kind", "event", "cls"),
    [
        pytest.param(kind, event, cls, id=f"{kind}-{event}")
        for kind in ("read", "action", "start")
        for event, cls in PERSISTING.items()
        if expected(kind, event) == SLEEP
    ],
)
def test_a_failure_that_persists_raises_its_own_class_after_max_retries(
    kind: str, event: str, cls: type[AmtOpConError]
) -> None:
    """max_retries=2: two back-offs, then the third failure is raised, saying 3 attempts."""
    m = Machine(kind, max_retries=2)
    assert m.play([event, event]) == [SLEEP, SLEEP]
    with pytest.raises(AmtOpConError) as info:
        m.send(EVENTS[event])
    assert type(info.value) is cls
    assert info.value.attempts == 3 and "after 3 attempts" in str(info.value)
    assert getattr(info.value, "request_id", None) == m.sent[-1].headers[w.H_REQUEST_ID]  # ours: the server sent none
    assert len({r.headers[w.H_REQUEST_ID] for r in m.sent}) == 3  # a fresh id per attempt
    assert len({r.content for r in m.sent}) == 1  # the same body each time (a START keeps its TaskId)


# --------------------------------------------------------------------------- table 2: sequences

# (kind, max_retries, events, steps before the last event, what the last event leads to, attempts)
SEQUENCES = [
    # one new Logon for a 401 that answered a token, then the 401 is final
    ("read", 3, ["401", "200"], [RELOGON], DONE, None),
    ("read", 3, ["401", "401"], [RELOGON], AuthenticationError, 2),
    ("action", 3, ["401", "401"], [RELOGON], AuthenticationError, 2),
    ("start", 3, ["401", "200"], [RELOGON], DONE, None),
    ("start", 3, ["401", "401"], [RELOGON], AuthenticationError, 2),
    ("read", 3, ["401", "503", "200"], [RELOGON, SLEEP], DONE, None),
    ("read", 3, ["503", "401", "401"], [SLEEP, RELOGON], AuthenticationError, 3),
    # Logon sends no token: its 401 is final at once
    ("logon", 3, ["401"], [], AuthenticationError, 1),
    ("logon", 3, ["503", "200"], [SLEEP], DONE, None),
    # a 409 answering a repeated STOP/KILL whose earlier attempt may have landed: accepted
    ("action", 3, ["500", "409"], [SLEEP], "done+conflict", None),
    ("action", 3, ["502", "409"], [SLEEP], "done+conflict", None),
    ("action", 3, ["504", "409"], [SLEEP], "done+conflict", None),
    ("action", 3, ["ReadTimeout", "409"], [SLEEP], "done+conflict", None),
    ("action", 3, ["WriteTimeout", "409"], [SLEEP], "done+conflict", None),
    ("action", 3, ["RemoteProtocolError", "409"], [SLEEP], "done+conflict", None),
    ("action", 3, ["ReadError", "409"], [SLEEP], "done+conflict", None),
    ("action", 3, ["ReadTimeout", "503", "409"], [SLEEP, SLEEP], "done+conflict", None),
    # ... but not when no earlier attempt can explain it
    ("action", 3, ["409"], [], ConflictError, 1),
    ("action", 3, ["503", "409"], [SLEEP], ConflictError, 2),
    ("action", 3, ["429", "409"], [SLEEP], ConflictError, 2),
    ("action", 3, ["ConnectError", "409"], [SLEEP], ConflictError, 2),
    ("action", 3, ["PoolTimeout", "409"], [SLEEP], ConflictError, 2),
    # a 409 to a read is a conflict whatever came before
    ("read", 3, ["500", "409"], [SLEEP], ConflictError, 2),
    # START: resent while it provably never left, then unknown, never resent after that
    ("start", 3, ["ConnectError", "503", "ReadTimeout"], [SLEEP, SLEEP], UNKNOWN, 3),
    ("start", 3, ["429", "ConnectTimeout", "200"], [SLEEP, SLEEP], DONE, None),
    ("start", 3, ["PoolTimeout", "500"], [SLEEP], UNKNOWN, 2),
    ("start", 3, ["503", "409"], [SLEEP], ConflictError, 2),
    ("start", 2, ["ConnectError", "ConnectError", "ConnectError"], [SLEEP, SLEEP], APIConnectionError, 3),
    ("start", 2, ["503", "429", "503"], [SLEEP, SLEEP], InternalServerError, 3),
    # max_retries: 0 sends once; n allows n back-offs
    ("read", 0, ["503"], [], InternalServerError, 1),
    ("action", 0, ["ConnectError"], [], APIConnectionError, 1),
    ("start", 0, ["429"], [], RateLimitError, 1),
    ("read", 1, ["500", "502"], [SLEEP], InternalServerError, 2),
    ("read", 3, ["500", "502", "503", "504"], [SLEEP, SLEEP, SLEEP], InternalServerError, 4),
    ("read", 3, ["500", "ReadTimeout", "ConnectError", "200"], [SLEEP, SLEEP, SLEEP], DONE, None),
    # a non-retryable answer ends the call whatever came before
    ("read", 3, ["503", "404"], [SLEEP], NotFoundError, 2),
    ("action", 3, ["ConnectError", "TLS-verify(cause)"], [SLEEP], APIConnectionError, 2),
]


@pytest.mark.parametrize(
    ("kind", "max_retries", "events", "before", "last", "attempts"),
    [pytest.param(*row, id=f"{row[0]}-r{row[1]}-{'-'.join(row[2])}") for row in SEQUENCES],
)
def test_sequence(
    kind: str,
    max_retries: int,
    events: list[str],
    before: list[str],
    last: str | type[AmtOpConError],
    attempts: int | None,
) -> None:
    m = Machine(kind, max_retries=max_retries, total_timeout=None)
    assert m.play(events[:-1]) == before
    if isinstance(last, str):
        assert m.play(events[-1:]) == [last]
    else:
        with pytest.raises(AmtOpConError) as info:
            m.play(events[-1:])
        assert type(info.value) is last
        assert info.value.attempts == attempts
    if kind == "start":  # every attempt of one START carries the same TaskId
        assert {r.content for r in m.sent} == {m.sent[0].content}
    # the token sent follows the Logons: the new one only after a Relogon
    tokens = [r.headers.get(w.H_TOKEN) for r in m.sent]
    if kind == "logon":
        assert tokens == [None] * len(tokens)
    elif RELOGON in before:
        cut = before.index(RELOGON) + 1
        assert tokens[:cut] == [TOKEN] * cut and set(tokens[cut:]) == {NEW_TOKEN}
    else:
        assert set(tokens) == {TOKEN}


# --------------------------------------------------------------------------- table 3: Retry-After


def in_(seconds: float) -> str:
    """An HTTP date `seconds` from the fake clock's wall time."""
    return email.utils.formatdate(WALL0 + seconds, usegmt=True)


BACKOFF = "back-off"  # Retry-After not used: the first back-off (0.25 to 0.5 s)

# (kind, status, Retry-After, total_timeout, the sleep or the error raised)
KINDS = ("read", "action", "start")
# Every kind, both statuses that carry one, both forms: honoured, or not waited out past 60 s.
HONOURED = [(k, st, v, 120.0, 7.0) for k in KINDS for st in (429, 503) for v in ("7", "date+7")]
TOO_LONG = [
    (k, st, v, 120.0, RateLimitError if st == 429 else InternalServerError)
    for k in KINDS
    for st in (429, 503)
    for v in ("61", "3600", "date+90")
]
RETRY_AFTER = [
    *HONOURED,
    *TOO_LONG,
    ("read", 503, "2.5", 120.0, 2.5),
    # a zero, negative or past Retry-After is a floor of 0: the back-off still applies
    ("read", 429, "0", 120.0, BACKOFF),
    ("read", 429, "-3", 120.0, BACKOFF),
    ("read", 503, "date-30", 120.0, BACKOFF),
    ("read", 429, "60", 120.0, 60.0),  # the cap itself is waited out
    ("read", 429, "date+90", None, RateLimitError),  # with no total_timeout too
    # beyond the call's deadline: not waited out either
    ("read", 503, "30", 10.0, InternalServerError),
    ("read", 503, "10", 10.0, InternalServerError),
    ("read", 503, "9.5", 10.0, 9.5),
    ("start", 429, "30", 10.0, RateLimitError),
    # unreadable: the normal back-off
    ("read", 429, "soon", 120.0, BACKOFF),
    ("read", 503, "", 120.0, BACKOFF),
    ("read", 503, "nan", 120.0, BACKOFF),
    ("read", 503, "inf", 120.0, BACKOFF),
    ("read", 429, "Wed, 21 Oct 2015 07:28:00", 120.0, BACKOFF),  # no zone: not guessed
    # only 429 and 503 carry a Retry-After that counts
    ("read", 500, "7", 120.0, BACKOFF),
    ("action", 502, "30", 120.0, BACKOFF),
]


def header(value: str) -> str:
    """`date+N`: an HTTP date N seconds from the fake clock's wall time; anything else as is."""
    if value.startswith("date"):
        return in_(float(value[4:]))
    return value


@pytest.mark.parametrize(
    ("kind", "status", "value", "total", "outcome"),
    [pytest.param(*row, id=f"{row[0]}-{row[1]}-{row[2][:12] or 'empty'}-t{row[3]}") for row in RETRY_AFTER],
)
def test_retry_after(
    kind: str, status: int, value: str, total: float | None, outcome: float | str | type[AmtOpConError]
) -> None:
    m = Machine(kind, total_timeout=total)
    event = answer(status, retry_after=header(value))
    if isinstance(outcome, type):
        with pytest.raises(AmtOpConError) as info:
            m.send(event)
        err = info.value
        assert type(err) is outcome and err.attempts == 1 and len(m.sent) == 1
        assert isinstance(err, APIStatusError) and err.retry_after is not None
        assert err.retry_after == pytest.approx(float(value[4:]) if value.startswith("date") else float(value))
        return
    step = m.send(event)
    assert isinstance(step, Sleep)
    if outcome == BACKOFF:
        assert C.INITIAL_BACKOFF / 2 <= step.seconds <= C.INITIAL_BACKOFF
    else:
        assert step.seconds == pytest.approx(outcome)


# (total_timeout, the caller's deadline in seconds from now) -> the call's deadline from now
DEADLINE_ROWS = [
    (120.0, None, 120.0),
    (120.0, 30.0, 30.0),
    (10.0, 30.0, 10.0),
    (None, None, None),
    (None, 30.0, 30.0),
    (float("inf"), None, None),  # infinity is no deadline (never an infinite socket timeout)
    (None, float("inf"), None),
    (float("inf"), float("inf"), None),
    (float("inf"), 30.0, 30.0),
]


@pytest.mark.parametrize(("total", "deadline", "expected"), DEADLINE_ROWS)
def test_the_calls_deadline(total: float | None, deadline: float | None, expected: float | None) -> None:
    m = Machine("read", total_timeout=total, deadline=deadline, timeout=30.0)
    assert m.call.deadline == (None if expected is None else m.clock.now() + expected)
    request = m.call.build(HTTP, TOKEN)
    timeouts = request.extensions["timeout"]
    assert all(v is not None and v <= 30.0 for v in timeouts.values())  # finite: the client's own bound
    assert m.call.attempt_budget()[1] == expected


# --------------------------------------------------------------------------- table 4: back-off


@pytest.mark.parametrize("retry", range(1, 9))
def test_backoff_is_capped_exponential_with_full_jitter(retry: int) -> None:
    """The n-th retry waits between half and all of min(8, 0.5 * 2**(n-1)) seconds."""
    cap = min(C.MAX_BACKOFF, C.INITIAL_BACKOFF * 2 ** (retry - 1))
    rng = random.Random(retry)
    delays = [backoff_delay(retry, rng) for _ in range(50)]
    assert all(cap / 2 <= d <= cap for d in delays)
    assert backoff_delay(retry, _Fixed(0.0)) == cap / 2 and backoff_delay(retry, _Fixed(1.0)) == cap


class _Fixed(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


def test_the_call_backs_off_by_its_retry_count() -> None:
    m = Machine("read", max_retries=7, total_timeout=None)
    sleeps = [m.send(EVENTS["500"]) for _ in range(7)]
    for n, step in enumerate(sleeps, start=1):
        assert isinstance(step, Sleep)
        cap = min(C.MAX_BACKOFF, C.INITIAL_BACKOFF * 2 ** (n - 1))
        assert cap / 2 <= step.seconds <= cap


# --------------------------------------------------------------------------- table 5: the deadline

# (total_timeout, the caller's deadline, seconds used before the attempt, event, outcome)
DEADLINES: list[tuple[float | None, float | None, float, str | None, Any]] = [
    # no attempt is built once the deadline has passed: APITimeoutError naming the limit
    (45.0, None, 45.0, None, (APITimeoutError, "total_timeout of 45.0s reached")),
    (45.0, None, 60.0, None, (APITimeoutError, "total_timeout of 45.0s reached")),
    (45.0, 20.0, 20.0, None, (APITimeoutError, "the caller's deadline (20.0s) reached")),
    (None, 20.0, 25.0, None, (APITimeoutError, "the caller's deadline (20.0s) reached")),
    # a back-off that would end at or past the deadline is not taken: the last error is raised
    (45.0, None, 44.9, "ReadTimeout", APITimeoutError),
    (45.0, None, 44.9, "ConnectError", APIConnectionError),
    (45.0, None, 44.9, "503", InternalServerError),
    (45.0, 10.0, 9.9, "500", InternalServerError),
    (45.0, None, 44.0, "503", SLEEP),
    (None, None, 10_000.0, "503", SLEEP),
]


@pytest.mark.parametrize(
    ("total", "deadline", "used", "event", "outcome"),
    [pytest.param(*row, id=f"t{row[0]}-d{row[1]}-u{row[2]}-{row[3]}") for row in DEADLINES],
)
def test_deadline(total: float | None, deadline: float | None, used: float, event: str | None, outcome: Any) -> None:
    m = Machine("read", total_timeout=total, deadline=deadline)
    m.clock.advance(used)
    if event is None:  # the attempt is not even built
        cls, text = outcome
        with pytest.raises(cls) as info:
            m.call.build(HTTP, TOKEN)
        assert text in str(info.value) and m.call.attempts == 0
        return
    if outcome == SLEEP:
        assert isinstance(m.send(EVENTS[event]), Sleep)
        return
    with pytest.raises(AmtOpConError) as info:
        m.send(EVENTS[event])
    assert type(info.value) is outcome and info.value.attempts == 1


# (events before, seconds that pass after them (a back-off that overshot, a slow Logon), attempts)
OVERSHOOT = [
    (["503"], 45.0, 1),
    (["ConnectError", "500"], 50.0, 2),
    (["401"], 45.0, 1),  # the new Logon took the rest of the call's time
]


@pytest.mark.parametrize(
    ("events", "passes", "attempts"), [pytest.param(*row, id="-".join(row[0])) for row in OVERSHOOT]
)
def test_no_attempt_is_built_past_the_deadline(events: list[str], passes: float, attempts: int) -> None:
    m = Machine("read", total_timeout=45.0)
    m.play(events)
    m.clock.advance(passes)
    with pytest.raises(APITimeoutError) as info:
        m.call.build(HTTP, m.token)
    assert info.value.attempts == attempts and "total_timeout of 45.0s reached" in str(info.value)
    assert len(m.sent) == attempts


@pytest.mark.parametrize(
    ("total", "deadline", "used", "read_timeout"),
    [
        (None, None, 0.0, 30.0),  # no bound: the attempt's own timeout
        (120.0, None, 0.0, 30.0),
        (45.0, None, 30.0, 15.0),  # the last attempt gets only what is left
        (45.0, 12.0, 0.0, 12.0),  # a Logon inside a call (or a wait) shares its deadline
        (None, 5.0, 1.0, 4.0),
    ],
)
def test_each_attempt_is_bounded_by_what_is_left(
    total: float | None, deadline: float | None, used: float, read_timeout: float
) -> None:
    m = Machine("read", total_timeout=total, deadline=deadline)
    m.clock.advance(used)
    request = m.call.build(HTTP, TOKEN)
    budget = request.extensions["timeout"]
    assert budget["read"] == pytest.approx(read_timeout)
    assert budget["connect"] == pytest.approx(read_timeout)


# --------------------------------------------------------------------------- table 6: decoding


@pytest.mark.parametrize(
    ("kind", "body", "outcome"),
    [
        ("read", b'{"BatchRequestId": 2112, "Status": 2}', "ok"),
        ("read", b"<html>proxy</html>", InvalidResponseError),
        ("read", b'{"Status": 2}', InvalidResponseError),
        ("action", b"not json", InvalidResponseError),
        ("start", b'{"BatchRequestId": 2112, "Status": 1}', "ok"),
        ("start", b"<html>proxy</html>", UNKNOWN),  # it did answer: whether it queued the job is unknown
        ("start", b'{"Status": 1}', UNKNOWN),
    ],
)
def test_decoding_a_2xx(kind: str, body: bytes, outcome: str | type[AmtOpConError]) -> None:
    m = Machine(kind)
    request = m.call.build(HTTP, TOKEN)
    response = httpx.Response(200, content=body, request=request, headers={w.H_REQUEST_ID: "srv-1"})
    assert isinstance(m.call.on_response(response), Done)
    parse: Callable[..., JobStatus | ActionResult] = w.parse_job_status if kind == "read" else w.parse_action_result
    if outcome == "ok":
        assert m.call.decode(response, parse).batch_request_id == 2112
        return
    with pytest.raises(AmtOpConError) as info:
        m.call.decode(response, parse)
    assert type(info.value) is outcome
    assert info.value.attempts == 1
    assert getattr(info.value, "request_id", None) == "srv-1"


@pytest.mark.parametrize(("brid", "started"), [(2112, True), (1, True), (0, False), (-1, False)])
def test_a_start_answered_without_a_job(brid: int, started: bool) -> None:
    m = Machine("start")
    m.call.build(HTTP, TOKEN)
    result = w.parse_action_result({"BatchRequestId": brid, "Status": 11, "Message": "Job 'J' is not enabled"})
    if started:
        check_started(result, m.call)
        return
    with pytest.raises(JobStartError) as info:
        check_started(result, m.call)
    err = info.value
    assert "Job 'J' is not enabled" in err.message and err.batch_request_id == brid
    assert err.task_id == m.call.wreq.task_id and err.attempts == 1


@pytest.mark.parametrize(
    ("event", "server_id"),
    [("503", "srv-7"), ("404", "srv-7"), ("404", None), ("ReadTimeout", None)],
)
def test_an_error_carries_the_servers_request_id_else_ours(event: str, server_id: str | None) -> None:
    m = Machine("read", max_retries=0)
    make = answer(int(event), request_id=server_id) if event.isdigit() else EVENTS[event]
    with pytest.raises(AmtOpConError) as info:
        m.send(make)
    ours = m.sent[-1].headers[w.H_REQUEST_ID]
    assert getattr(info.value, "request_id", None) == (server_id or ours)
