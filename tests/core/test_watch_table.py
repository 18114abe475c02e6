"""The decisions of a wait or a follow (`amtopcon._core.watch.Watch`) by table: statuses,
message pages and failures are fed to a `Watch` on a fake clock, and each row says what
it decides: how long to sleep before each check, when `on_status` hears of a status,
which messages are handed out, when the wait is done, when an outage or the deadline
ends it. No HTTP is sent and nothing sleeps.

The handle is a real `JobHandle` (`client.job(2112)` on a client that never sends); the
loop that feeds the watch (`play`) does what `JobHandle._round` does, with events
instead of calls.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import attrs
import httpx
import pytest

from amtopcon import Client, Clock, JobHandle, PollPolicy
from amtopcon import _constants as C
from amtopcon._core.watch import Watch
from amtopcon.errors import (
    AmtOpConError,
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ValidationError,
    WaitTimeoutError,
)
from amtopcon.models import CompletionCode, JobStatus, Message, MessagePage

BRID = 2112
HTTP = httpx.Client()  # shared by the clients of the table; nothing is ever sent through it


class FakeClock(Clock):
    """Stands still; the table's loop moves it. Nothing sleeps."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def time(self) -> float:
        return 1_700_000_000.0 + self.t

    def sleep(self, seconds: float) -> None:  # pragma: no cover - a table never sleeps
        raise AssertionError("a table test slept")

    async def asleep(self, seconds: float) -> None:  # pragma: no cover
        raise AssertionError("a table test slept")


def every(first: float, then: float, max_outage: float = C.POLL_MAX_OUTAGE) -> PollPolicy:
    """A policy with no growth and no jitter: `first`, then `then`, `then`, ..."""
    return attrs.evolve(PollPolicy.fixed(first, then), max_outage=max_outage)


#: The default schedule without jitter: 0.5 s, then 0.5 s until 8 % of the time waited is
#: longer (from 6.25 s on), then 8 % of it, at most 15 s (`PollPolicy`'s docstring).
DEFAULT = PollPolicy(jitter=0)


def handle(clock: FakeClock, poll: PollPolicy = DEFAULT, after: int = 0) -> JobHandle:
    client = Client("http://127.0.0.1:9/AmtOpConService/", clock=clock, poll=poll, http_client=HTTP)
    return client.job(BRID, after=after)


def status(code: int) -> JobStatus:
    return JobStatus(BRID, code)


def page(*sequences: int, more: bool = False) -> MessagePage:
    return MessagePage(tuple(Message(s, text=f"m{s}") for s in sequences), has_more=more)


# -- failures, as the client raises them
def conn() -> APIConnectionError:
    return APIConnectionError("MonitorJob: ConnectError: refused", attempts=4)


def slow() -> APITimeoutError:
    return APITimeoutError("MonitorJob: ReadTimeout", attempts=4)


def busy(retry_after: float | None = None) -> InternalServerError:
    return InternalServerError("busy", status_code=503, retry_after=retry_after)


def limited(retry_after: float | None = None) -> RateLimitError:
    return RateLimitError("slow down", status_code=429, retry_after=retry_after)


@attrs.define
class Round:
    """What one round meets: a MonitorJob answer (or failure), the pages read (or a
    failure among them), and how long its calls take on the clock."""

    status: JobStatus | AmtOpConError | None = None
    pages: Sequence[MessagePage | AmtOpConError] = (page(),)
    takes: float = 0.0


def running(takes: float = 0.0) -> Round:
    return Round(status(2), takes=takes)


def failing(error: AmtOpConError, takes: float = 0.0) -> Round:
    return Round(error, takes=takes)


@attrs.define
class Record:
    sleeps: list[float] = attrs.Factory(list)
    began: list[float] = attrs.Factory(list)
    notified: list[int] = attrs.Factory(list)
    taken: list[int] = attrs.Factory(list)
    asked_status: int = 0
    read_pages: int = 0


def play(watch: Watch, clock: FakeClock, rounds: Sequence[Round], record: Record | None = None) -> Record:
    """Feed rounds until the watch is done (what `JobHandle._round` does, with events)."""
    rec = record or Record()
    for r in rounds:
        if watch.done:
            break
        delay = watch.next_sleep()
        rec.sleeps.append(delay)
        clock.t += delay
        watch.begin()
        rec.began.append(clock.t)
        clock.t += r.takes
        try:
            if not watch.ended:
                rec.asked_status += 1
                if isinstance(r.status, AmtOpConError):
                    raise r.status
                assert r.status is not None, "the watch asked for a status this round did not plan"
                if watch.seen(r.status):
                    rec.notified.append(int(r.status.code))
            if watch.want_messages():
                for p in r.pages:
                    rec.read_pages += 1
                    if isinstance(p, AmtOpConError):
                        raise p
                    if not watch.add_page(p):
                        break
        except AmtOpConError as error:
            watch.failed(error)
        else:
            watch.ok()
        rec.taken += [m.sequence for m in watch.take()] if watch.following else []
    return rec


def wait_watch(
    clock: FakeClock, timeout: object = None, poll: PollPolicy | None = None, h: JobHandle | None = None
) -> Watch:
    return Watch(h or handle(clock), timeout, poll, following=False, cursor=0)


# --------------------------------------------------------------------------- table 1: when to check

# (policy, the codes MonitorJob answers, the sleeps before each check)
SCHEDULES = [
    (DEFAULT, [2, 2, 2, 2, 2, 2, 2, 4], [0.5] * 8),  # the first 6 s: every 0.5 s
    (DEFAULT, [4], [0.5]),
    (DEFAULT, [2] * 12 + [4], [0.5] * 13),  # 6.5 s waited before the 13th check
    (DEFAULT, [2] * 13 + [4], [0.5] * 13 + [0.52]),  # then 8 % of the 6.5 s waited
    (every(10, 5), [2, 2, 4], [10, 5, 5]),
    (every(0, 2), [2, 2, 4], [0, 2, 2]),
    (
        PollPolicy(initial_delay=2, interval=3, backoff=2, max_interval=10, jitter=0),
        [2] * 5 + [4],
        [2, 3, 6, 10, 10, 10],
    ),
    (every(1, 1), [1, 20, 2, 11], [1, 1, 1, 1]),  # ERROR (11) ends the wait like DONE: it never raises
]


@pytest.mark.parametrize(
    ("poll", "codes", "sleeps"),
    [pytest.param(p, c, s, id=f"{i}-{'-'.join(map(str, c))}") for i, (p, c, s) in enumerate(SCHEDULES)],
)
def test_the_wait_checks_on_the_policy(poll: PollPolicy, codes: list[int], sleeps: list[float]) -> None:
    clock = FakeClock()
    watch = wait_watch(clock, poll=poll)
    rec = play(watch, clock, [Round(status(c)) for c in codes])
    assert rec.sleeps == pytest.approx(sleeps)
    assert watch.done and rec.asked_status == len(codes)
    assert watch.result().code == codes[-1]


def test_the_clients_policy_is_used_unless_one_is_given() -> None:
    clock = FakeClock()
    h = handle(clock, poll=every(10, 5))
    assert play(wait_watch(clock, h=h), clock, [running(), Round(status(4))]).sleeps == [10, 5]
    assert play(wait_watch(clock, h=h, poll=every(2, 3)), clock, [Round(status(4))]).sleeps == [0]  # ended: at once
    fresh = handle(clock, poll=every(10, 5))
    assert play(wait_watch(clock, h=fresh, poll=every(2, 3)), clock, [running(), Round(status(4))]).sleeps == [2, 3]


def test_the_default_schedule_is_proportional_to_the_time_waited() -> None:
    """Over an hour: each delay is 8 % of the time waited (at least 0.5 s, at most 15 s);
    a job that ends within 10 s is noticed within 1 s; an hour costs about 280 checks."""
    clock = FakeClock()
    watch = wait_watch(clock)
    sleeps: list[tuple[float, float]] = []  # (the time waited when it was decided, the sleep)
    while clock.t < 3600:
        waited = clock.t
        sleeps.append((waited, watch.next_sleep()))
        clock.t += sleeps[-1][1]
        watch.begin()
        watch.seen(status(2))
        watch.ok()
    for waited, sleep in sleeps[1:]:
        assert sleep == pytest.approx(min(max(0.5, 0.08 * waited), 15.0))
    assert sleeps[0] == (0.0, 0.5)
    assert max(s for w, s in sleeps if w < 10) <= 1.0
    assert max(s for _, s in sleeps) == 15.0 and 250 <= len(sleeps) <= 300


@pytest.mark.parametrize(
    ("first_wait", "second_sleeps", "second_asks"),
    [
        ([Round(status(4))], [0.0], 1),  # known to have ended: ask once more, at once
        ([running()], [C.POLL_INITIAL_DELAY], 1),  # known to run: the policy's initial delay
        ([], [C.POLL_INITIAL_DELAY], 1),  # nothing known
    ],
)
def test_a_handle_known_to_have_ended_checks_at_once(
    first_wait: list[Round], second_sleeps: list[float], second_asks: int
) -> None:
    clock = FakeClock()
    h = handle(clock)
    play(wait_watch(clock, h=h), clock, first_wait)  # an earlier wait (or follow) on the handle
    rec = play(wait_watch(clock, h=h), clock, [Round(status(4))])
    assert rec.sleeps == second_sleeps and rec.asked_status == second_asks


def test_after_the_end_the_log_is_read_at_once_and_retried_on_the_policy() -> None:
    """The terminal status is asked once; a failed log read is retried on the policy, without
    asking MonitorJob again; a good one ends the wait with every message."""
    clock = FakeClock()
    watch = wait_watch(clock, poll=every(1, 5))
    rec = play(
        watch,
        clock,
        [
            Round(status(2), pages=[page(1)]),  # running: a wait reads no messages yet
            Round(status(4), pages=[page(1, 2, more=True), conn()]),
            Round(None, pages=[page(3, 4)]),
        ],
    )
    assert rec.sleeps == [1, 5, 5] and rec.asked_status == 2 and rec.read_pages == 3
    result = watch.result()
    assert watch.done and result.code is CompletionCode.DONE
    assert [m.sequence for m in result.messages] == [1, 2, 3, 4]


# --------------------------------------------------------------------------- table 2: on_status

NOTIFY = [
    ([1, 1, 20, 2, 2, 4], [1, 20, 2, 4]),
    ([2, 2, 2, 4], [2, 4]),
    ([4], [4]),
    ([17, 25, 4], [17, 25, 4]),  # unknown codes keep the wait going and are reported
    ([2, 17, 17, 2, 11], [2, 17, 2, 11]),
]


@pytest.mark.parametrize(("codes", "notified"), [pytest.param(c, n, id="-".join(map(str, c))) for c, n in NOTIFY])
def test_on_status_hears_the_first_status_and_each_change_of_code(codes: list[int], notified: list[int]) -> None:
    clock = FakeClock()
    watch = wait_watch(clock, poll=every(1, 1))
    rec = play(watch, clock, [Round(status(c)) for c in codes])
    assert rec.notified == notified
    assert watch.done


def test_a_failure_between_equal_statuses_is_not_a_change() -> None:
    clock = FakeClock()
    rec = play(wait_watch(clock, poll=every(1, 1)), clock, [running(), failing(conn()), running(), Round(status(4))])
    assert rec.notified == [2, 4]


# --------------------------------------------------------------------------- table 3: the deadline

# (timeout, policy, rounds before the deadline, sleeps, checks made, what the error says)
DEADLINES = [
    (20.0, every(10, 5), [running()] * 5, [10, 5, 5], 3, "it has not ended (last status: RUNNING (2))"),
    (12.0, every(10, 5), [running()] * 5, [10, 2], 2, "after 12s"),
    (0.0, every(10, 5), [running()] * 5, [0], 1, "it has not ended"),  # timeout=0: one check, at once
    (3.0, every(10, 5), [Round(status(1))] * 5, [3], 1, "QUEUED (1)"),
    # ended, but its log could not be read before the deadline
    (
        12.0,
        every(10, 5),
        [Round(status(4), pages=[conn()])] + [Round(None, pages=[conn()])] * 3,
        [10, 2],
        2,
        "it ended DONE (4) but its job log could not be read in time",
    ),
]


@pytest.mark.parametrize(
    ("timeout", "poll", "rounds", "sleeps", "checks", "says"),
    [pytest.param(*row, id=f"t{row[0]}-{row[5][:20]}") for row in DEADLINES],
)
def test_the_deadline_ends_the_wait(
    timeout: float, poll: PollPolicy, rounds: list[Round], sleeps: list[float], checks: int, says: str
) -> None:
    clock = FakeClock()
    h = handle(clock)
    watch = wait_watch(clock, timeout=timeout, poll=poll, h=h)
    rec = Record()
    with pytest.raises(WaitTimeoutError) as info:
        play(watch, clock, rounds, rec)
    err = info.value
    assert rec.sleeps == sleeps and len(rec.began) == checks
    assert clock.t == timeout  # the last check is at the deadline, never after it
    assert err.handle is h and err.status == h.last_status
    assert says in str(err) and str(BRID) in str(err)
    assert isinstance(err, TimeoutError)


@pytest.mark.parametrize("timeout", [None, float("inf")])
def test_no_deadline(timeout: float | None) -> None:
    clock = FakeClock()
    watch = wait_watch(clock, timeout=timeout, poll=every(3600, 3600))
    rec = play(watch, clock, [running()] * 48 + [Round(status(4))])
    assert watch.done and len(rec.sleeps) == 49  # an hour apart, for two days: never a WaitTimeoutError


# (timeout, seconds elapsed, the deadline of a call made then)
CALL_DEADLINES = [
    (60.0, 0.0, 60.0),  # the wait's deadline
    (60.0, 30.0, 60.0),
    (60.0, 59.5, 60.5),  # at (or just before) the deadline: the last check may take LAST_CHECK
    (60.0, 60.0, 61.0),
    (0.0, 0.0, 1.0),
]


@pytest.mark.parametrize(
    ("timeout", "elapsed", "deadline"), [*CALL_DEADLINES, (None, 1e6, None), (float("inf"), 1e6, None)]
)
def test_every_call_ends_by_the_waits_deadline(timeout: float | None, elapsed: float, deadline: float | None) -> None:
    clock = FakeClock()
    watch = wait_watch(clock, timeout=timeout)
    clock.t = elapsed
    if deadline is None:
        assert watch.call_deadline() is None  # no deadline: each call has only the client's own bounds
    else:
        assert watch.call_deadline() == pytest.approx(deadline)


@pytest.mark.parametrize(("timeout", "deadline"), [(None, None), (float("inf"), None), (30.0, 130.0), (0.5, 100.5)])
def test_a_handles_own_call_deadline(timeout: float | None, deadline: float | None) -> None:
    """STOP, KILL and messages(): `timeout` seconds from now; None or infinity: no deadline."""
    clock = FakeClock()
    clock.t = 100.0
    assert handle(clock)._action_deadline(timeout) == deadline


# --------------------------------------------------------------------------- table 4: outages

# (max_outage, policy's interval, failure, seconds each failing round takes, rounds failing
#  before the wait raises (None: it rides the outage out and ends normally))
OUTAGES: list[tuple[float, float, Any, float, int | None]] = [
    (60, 5, conn, 0, 13),  # from 5 s to 65 s: the 13th failure has lasted 60 s
    (60, 5, busy, 0, 13),
    (60, 5, slow, 0, 13),
    (60, 5, limited, 0, 13),
    (60, 5, conn, 30, 2),  # measured from the start of the first failing round: 5..35, 40..70
    (60, 5, conn, 59, 2),
    (61, 5, conn, 0, 14),
    (0, 5, conn, 0, 1),  # max_outage=0: the first failure is raised
    (0, 5, busy, 0, 1),
    (300, 5, conn, 0, None),  # 6 failures (25 s) are ridden out
    (300, 5, busy, 30, None),
]


@pytest.mark.parametrize(
    ("max_outage", "interval", "failure", "takes", "raises_after"),
    [pytest.param(*row, id=f"o{row[0]}-{row[2].__name__}-takes{row[3]}") for row in OUTAGES],
)
def test_an_outage_is_ridden_out_up_to_max_outage(
    max_outage: float, interval: float, failure: Any, takes: float, raises_after: int | None
) -> None:
    clock = FakeClock()
    watch = wait_watch(clock, poll=every(interval, interval, max_outage=max_outage))
    errors = [failure() for _ in range(20 if raises_after else 6)]
    rounds = [failing(e, takes) for e in errors] + [Round(status(4))]
    rec = Record()
    if raises_after is None:
        play(watch, clock, rounds, rec)
        assert watch.done and watch.result().code is CompletionCode.DONE
        return
    with pytest.raises(AmtOpConError) as info:
        play(watch, clock, rounds, rec)
    assert info.value is errors[raises_after - 1]  # the last error itself, as the client raised it
    assert rec.asked_status == raises_after


def test_a_good_round_ends_the_outage() -> None:
    """max_outage=12 and a check every 5 s: three failures (10 s), a success, three more: no raise."""
    clock = FakeClock()
    watch = wait_watch(clock, poll=every(5, 5, max_outage=12))
    rounds = [failing(conn())] * 3 + [running()] + [failing(busy())] * 3 + [Round(status(4))]
    play(watch, clock, rounds)
    assert watch.done


def test_the_outage_warning_says_how_long_it_lasted(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    watch = wait_watch(clock, poll=every(5, 5, max_outage=100))
    with caplog.at_level(logging.WARNING, logger="amtopcon"):
        play(watch, clock, [failing(busy(), takes=20), failing(busy(), takes=20), Round(status(4))])
    warnings = [r.getMessage() for r in caplog.records if "still waiting" in r.getMessage()]
    assert len(warnings) == 2
    assert "outage for 20.0s of at most 100s" in warnings[0] and "outage for 45.0s" in warnings[1]


NOT_TRANSIENT = [
    NotFoundError("no such batch request", status_code=404, error_code="BATCH_REQUEST_NOT_FOUND"),
    AuthenticationError("refused", status_code=401),
    PermissionDeniedError("no privilege", status_code=403),
    BadRequestError("bad", status_code=400),
    ConflictError("not allowed", status_code=409),
    InvalidResponseError("not JSON"),
    ValidationError("bad", field="x"),
]


@pytest.mark.parametrize("error", NOT_TRANSIENT, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("where", ["status", "messages"])
def test_other_errors_end_the_wait_at_once(error: AmtOpConError, where: str) -> None:
    clock = FakeClock()
    watch = wait_watch(clock, poll=every(5, 5))
    first = Round(error) if where == "status" else Round(status(4), pages=[page(1, more=True), error])
    with pytest.raises(type(error)) as info:
        play(watch, clock, [first, Round(status(4))])
    assert info.value is error and not watch.done


# (timeout, the failures, when they happen) -> WaitTimeoutError caused by the last failure
def test_a_deadline_during_an_outage_is_a_timeout_caused_by_it() -> None:
    clock = FakeClock()
    errors = [busy() for _ in range(10)]
    watch = wait_watch(clock, timeout=20, poll=every(5, 5))
    with pytest.raises(WaitTimeoutError) as info:
        play(watch, clock, [failing(e) for e in errors])
    assert info.value.__cause__ is errors[3]  # failures at 5, 10, 15, 20: the one at the deadline
    assert clock.t == 20


def test_a_failure_that_outlasts_the_deadline_is_a_timeout_caused_by_it() -> None:
    clock = FakeClock()
    error = conn()
    watch = wait_watch(clock, timeout=20, poll=every(5, 5))
    with pytest.raises(WaitTimeoutError) as info:
        play(watch, clock, [failing(error, takes=16)])
    assert info.value.__cause__ is error


# --------------------------------------------------------------------------- table 5: Retry-After

# (the failure of one round, the next sleep; the one after a good round is the policy's again)
RETRY_AFTER = [
    (limited(30), 30.0),
    (busy(45), 45.0),
    (limited(90), 60.0),  # longer than the contract's 60 s: the wait waits 60 s (the cap), then asks again
    (limited(2), 5.0),  # shorter than the policy: the policy wins
    (limited(None), 5.0),
    (busy(None), 5.0),
    (conn(), 5.0),
]


@pytest.mark.parametrize(
    ("error", "next_sleep"), [pytest.param(e, s, id=f"{type(e).__name__}-{s}") for e, s in RETRY_AFTER]
)
def test_retry_after_moves_the_next_check(error: AmtOpConError, next_sleep: float) -> None:
    clock = FakeClock()
    watch = wait_watch(clock, poll=every(1, 5))
    rec = play(watch, clock, [failing(error), running(), running(), Round(status(4))])
    assert rec.sleeps == [1, next_sleep, 5, 5]


def test_retry_after_is_capped_by_the_deadline() -> None:
    clock = FakeClock()
    watch = wait_watch(clock, timeout=20, poll=every(1, 5))
    rec = Record()
    with pytest.raises(WaitTimeoutError):
        play(watch, clock, [failing(limited(45)), running(), running()], rec)
    assert rec.sleeps == [1, 19]


def test_rate_limiting_past_max_outage_raises() -> None:
    clock = FakeClock()
    errors = [limited(40) for _ in range(10)]
    watch = wait_watch(clock, poll=every(0, 1, max_outage=100))
    rec = Record()
    with pytest.raises(RateLimitError) as info:
        play(watch, clock, [failing(e) for e in errors], rec)
    # the check after 80 s comes at 100 s, when the outage reaches max_outage (never past it)
    assert rec.began == [0, 40, 80, 100] and info.value is errors[3]


# --------------------------------------------------------------------------- table 6: messages

# (cursor, pages) -> (what add_page answers for each, or the error it raises; the sequences
# kept, cursor after). The wire refuses a page that repeats a sequence and sorts a page by
# sequence; the core keeps each message once whatever it is given.
PAGES: list[tuple[int, list[MessagePage], list[bool | type[Exception]], list[int], int]] = [
    (0, [page(1, 2, more=True), page(3, 4, more=True), page(5)], [True, True, False], [1, 2, 3, 4, 5], 5),
    (0, [page(1, 2, 2, 1, 3)], [False], [1, 2, 3], 3),  # a server that sends some twice
    (3, [page(2, 3, 4, 5)], [False], [4, 5], 5),  # already read up to 3
    (0, [page()], [False], [], 0),
    (2, [page(1, 2, more=True)], [InvalidResponseError], [], 2),  # "more" but nothing new: no progress
    (0, [page(1, more=True), page(1, more=True)], [True, InvalidResponseError], [1], 1),
    (0, [page(3, 1, 2)], [False], [3], 3),  # out of order: sequence only moves forward
]


@pytest.mark.parametrize(
    ("cursor", "pages", "answers", "kept", "after"),
    [pytest.param(*row, id=f"c{row[0]}-{i}") for i, row in enumerate(PAGES)],
)
def test_each_message_is_kept_once(
    cursor: int, pages: list[MessagePage], answers: list[bool | type[Exception]], kept: list[int], after: int
) -> None:
    clock = FakeClock()
    watch = Watch(handle(clock, after=cursor), None, None, following=True, cursor=cursor)
    got: list[bool | type[Exception]] = []
    for p in pages:
        try:
            got.append(watch.add_page(p))
        except InvalidResponseError as exc:
            got.append(type(exc))
            break
    assert got == answers
    assert [m.sequence for m in watch.pending] == kept and watch.cursor == after


@pytest.mark.parametrize("one_read", [False, True])
def test_a_page_that_says_more_but_sends_nothing_new_is_refused(one_read: bool) -> None:
    clock = FakeClock()
    watch = Watch(handle(clock), None, None, following=True, cursor=4, one_read=one_read)
    with pytest.raises(InvalidResponseError, match="sent none past sequence 4") as info:
        watch.add_page(page(4, more=True))
    assert str(BRID) in str(info.value) and watch.cursor == 4 and watch.pending == []


@pytest.mark.parametrize(
    ("following", "one_read", "cut"), [(True, False, True), (True, True, False), (False, False, False)]
)
def test_one_read_is_bounded_in_pages(following: bool, one_read: bool, cut: bool) -> None:
    """After `C.MAX_PAGES_PER_READ` pages that each say more wait: a follow stops this read and
    reads on next round (handing out what it has); `messages()` and a wait's log read raise."""
    clock = FakeClock()
    watch = Watch(handle(clock), None, None, following=following, cursor=0, one_read=one_read)
    for n in range(1, C.MAX_PAGES_PER_READ):
        assert watch.add_page(page(n, more=True)) is True
    last = page(C.MAX_PAGES_PER_READ, more=True)
    if cut:
        assert watch.add_page(last) is False
        watch.seen(status(4))
        watch.ok()
        assert not watch.done  # ended, but the log is not all read: one more round
        assert len(list(watch.take())) == C.MAX_PAGES_PER_READ
    else:
        with pytest.raises(InvalidResponseError, match=f"after {C.MAX_PAGES_PER_READ} pages"):
            watch.add_page(last)


# (following?, ended?) -> are messages read this round?
@pytest.mark.parametrize(
    ("following", "code", "wanted"),
    [(True, 2, True), (True, 4, True), (False, 2, False), (False, 4, True), (False, 17, False), (False, 11, True)],
)
def test_which_rounds_read_messages(following: bool, code: int, wanted: bool) -> None:
    clock = FakeClock()
    watch = Watch(handle(clock), None, None, following=following, cursor=0)
    watch.seen(status(code))
    assert watch.want_messages() is wanted


def test_follow_hands_out_each_message_once_and_moves_last_sequence() -> None:
    clock = FakeClock()
    h = handle(clock, after=1)
    watch = Watch(h, None, every(1, 1), following=True, cursor=h.last_sequence)
    rounds = [
        Round(status(2), pages=[page(1, 2, more=True), page(3)]),
        Round(status(2), pages=[page(3, 4)]),
        Round(status(2), pages=[conn()]),  # a failed read: nothing handed out, nothing lost
        Round(status(4), pages=[page(5, more=True), page(6)]),
    ]
    rec = play(watch, clock, rounds)
    assert rec.taken == [2, 3, 4, 5, 6] and h.last_sequence == 6 and watch.done
    assert list(watch.take()) == []


def test_a_wait_hands_out_every_message_in_its_result() -> None:
    clock = FakeClock()
    h = handle(clock)
    watch = wait_watch(clock, h=h, poll=every(1, 1))
    play(watch, clock, [running(), Round(status(4), pages=[page(1, 2, more=True), page(3)])])
    result = watch.result()
    assert [m.sequence for m in result.messages] == [1, 2, 3] and h.last_sequence == 3
    assert h.last_status == result.status and h.ended


# --------------------------------------------------------------------------- table 7: bad arguments


@pytest.mark.parametrize(
    ("timeout", "poll", "field"),
    [
        (-1, None, "timeout"),
        ("10", None, "timeout"),
        (float("nan"), None, "timeout"),
        (True, None, "timeout"),
        (None, 5, "poll"),
        (None, "fast", "poll"),
    ],
)
def test_bad_arguments_are_refused_before_any_call(timeout: object, poll: Any, field: str) -> None:
    clock = FakeClock()
    with pytest.raises(ValidationError) as info:
        Watch(handle(clock), timeout, poll, following=False, cursor=0)
    assert info.value.field == field
