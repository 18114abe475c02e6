"""One scripted AMTOpCon server for the unit tests (no tests in this module).

`ScriptedServer` answers the contract's five functions through an `httpx.MockTransport`
(`handler` works for `Client` and `AsyncClient` alike):

* **Scripted answers first.** `plan(function, *outcomes)` queues, per function, what the
  next requests get, one each: an HTTP status (a contract error body), an `httpx.Response`,
  an exception (class or instance; an `httpx.RequestError` class is raised with the
  request), or a callable `request -> outcome`. `fail()` queues errors in one call.
* **Else it behaves like the emulator, in small.** Logon checks the user and password and
  hands out a token (a new one per Logon unless `fixed_token`); every other call needs the
  current token (`expire()` refuses it: 401). START queues a job from its script (status
  codes and message texts at offsets from START, on the server's clock), MonitorJob and
  GetMessages (paged by `page_size`) follow that script, STOP/KILL end it (409 once it
  has ended); a repeated TaskId gets the job its first START queued; a request that breaks
  the contract's rules answers 400; `add_job()` starts a job without a request. With
  `any_job=True` (the default) a job it did not start is a job in `status_code` (RUNNING)
  with one message after the cursor, a START of a job without a script is queued as 2112
  and STOP/KILL of any job abort it; with False those are 404s (`default_script`: what a
  START of a job with no script runs; a script of None: the job is not defined).
* **It records** every request (`requests`, the `httpx.Request`s) and a `Call` per request
  with the server's clock time (`log`), with helpers to read them back by function.
* **A clock**: `FakeClock` records the client's sleeps and jumps; nothing really waits.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Iterable
from typing import Any

import attrs
import httpx

from amtopcon import AsyncClient, Client, Clock
from amtopcon import _wire as w
from amtopcon.errors import ValidationError
from amtopcon.models import ActionResult, CompletionCode, JobStatus, Message

__all__ = ["REPORT", "USER", "Call", "FakeClock", "Script", "ScriptedServer", "function_of", "status_response"]

BASE_URL = "http://127.0.0.1:4004/AmtOpConService/"
USER = "ocadm"
PASSWORD = "Pa55-w0rd-SECRET-9e4b"
TOKEN = "tok-SECRET-51c2d7"  # the server's tokens start with this
WALL0 = 1_700_000_000.0
TERMINAL = frozenset({3, 4, 6, 10, 11, 12, 22, 23, 24, 99})

# A script: [(offset seconds from START, code)], [(offset, text)].
Script = tuple[list[tuple[float, int]], list[tuple[float, str]]]

REPORT: Script = (
    [(0, 1), (1, 2), (30, 4)],
    [
        (1.5, "Report test 01 is started"),
        (30, "Report execution time: 00:00:30:229"),
        (30, "Done"),
    ],
)


class FakeClock(Clock):
    """A virtual clock: sleeps are recorded and advance time at once, nothing really waits."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start
        self.start = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def time(self) -> float:
        return WALL0 + (self.t - self.start)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += max(seconds, 0.0)

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)

    def advance(self, seconds: float) -> None:
        self.t += seconds


def function_of(request: httpx.Request) -> str:
    """The contract function a request calls (the last path segment)."""
    return request.url.path.rsplit("/", 1)[-1]


def status_response(
    status: int,
    *,
    error_code: str | None = None,
    message: str | None = None,
    retry_after: str | None = None,
    request_id: str | None = None,
    content: bytes | None = None,
) -> httpx.Response:
    """A non-2xx answer; a JSON error body unless `content` is given."""
    headers = {}
    if retry_after is not None:
        headers[w.H_RETRY_AFTER] = retry_after
    if request_id is not None:
        headers[w.H_REQUEST_ID] = request_id
    if content is None:
        body = w.error_body(error_code or f"E{status}", message or f"server says {status}")
        return httpx.Response(status, json=body, headers=headers)
    return httpx.Response(status, content=content, headers=headers)


@attrs.define
class Call:
    """One request the server received, with its clock time."""

    function: str
    params: dict[str, str]
    body: Any
    at: float
    headers: dict[str, str]
    status: int | None = None  # the status answered (None: an exception was raised instead)


@attrs.define
class Job:
    """A started batch request: its script, anchored at its START time."""

    brid: int
    application: str
    name: str | None
    start: float
    timeline: list[tuple[float, int]]
    texts: list[tuple[float, str]]
    description: str | None = None
    forced: tuple[float, int] | None = None  # (clock time, code) after STOP / KILL

    def code_at(self, t: float) -> int:
        if self.forced is not None and t >= self.forced[0]:
            return self.forced[1]
        code = self.timeline[0][1]
        for offset, c in self.timeline:
            if self.start + offset <= t:
                code = c
        return code

    def end_at(self, t: float) -> float | None:
        if self.forced is not None and t >= self.forced[0]:
            return self.forced[0]
        last_offset, last_code = self.timeline[-1]
        if last_code in TERMINAL and self.start + last_offset <= t:
            return self.start + last_offset
        return None

    def visible(self, t: float) -> list[tuple[int, float, str]]:
        limit = t if self.forced is None else min(t, self.forced[0])
        return [
            (i, self.start + offset, text)
            for i, (offset, text) in enumerate(self.texts, start=1)
            if self.start + offset <= limit
        ]


def _json(content: bytes) -> Any:
    """A request body as JSON (None when empty or not JSON: the answer decides what that means)."""
    try:
        return json.loads(content) if content else None
    except ValueError:
        return None


def _count(params: httpx.QueryParams, name: str, minimum: int) -> int:
    text = params.get(name, str(minimum))
    if not (text.isascii() and text.isdigit() and int(text) >= minimum):
        raise ValidationError(f"{name}: expected an integer >= {minimum}", field=name)
    return int(text)


Outcome = Any  # an int status, an httpx.Response, an exception (class or instance), or a callable


class ScriptedServer:
    """The scripted server (see the module's docstring). `handler` is the MockTransport handler."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        user: str = USER,
        password: str = PASSWORD,
        token: str = TOKEN,
        fixed_token: bool = False,
        any_job: bool = True,
        default_script: Script | None = None,
        page_size: int = 1000,
    ) -> None:
        self.clock: Clock = clock if clock is not None else FakeClock()
        self.user = user
        self.password = password
        self.token = token
        self.fixed_token = fixed_token
        self.any_job = any_job
        self.page_size = page_size
        self.requests: list[httpx.Request] = []
        self.log: list[Call] = []
        self.plans: dict[str, deque[Outcome]] = defaultdict(deque)
        self.logons = 0
        self.valid: set[str] = set()
        self.status_code = CompletionCode.RUNNING  # of a job it did not start (any_job)
        self.scripts: dict[str, Script | None] = {"REPORTTEST01": REPORT}  # None: the job is not defined
        self.default_script = default_script  # what a START of a job with no script runs
        self.descriptions: dict[str, str] = {}
        self.jobs: dict[int, Job] = {}
        self.by_task: dict[str, int] = {}  # TaskId -> the batch request its START queued (de-duplicated)
        self.next_id = 2112
        self.available = True  # what HeartBeat says

    # -- scripting
    def plan(self, function: str, *outcomes: Outcome) -> ScriptedServer:
        """The next requests of `function` get these outcomes, one each, before any default answer."""
        self.plans[function].extend(outcomes)
        return self

    def fail(
        self,
        function: str,
        status: int | None = None,
        *,
        times: int = 1,
        retry_after: str | None = None,
        exc: type[Exception] | None = None,
    ) -> None:
        """The next `times` calls of `function` answer `status` (500 by default) or raise `exc`."""
        if exc is not None:
            self.plan(function, *[exc] * times)
            return

        def answer(request: httpx.Request) -> httpx.Response:
            return status_response(
                status or 500, error_code=w.E_INTERNAL_ERROR, message="injected", retry_after=retry_after
            )

        self.plan(function, *[answer] * times)

    def script(self, name: str, timeline: list[tuple[float, int]], texts: Iterable[tuple[float, str]] = ()) -> None:
        """What a START of job `name` runs: codes and message texts at offsets from START."""
        self.scripts[name] = (list(timeline), list(texts))

    def add_job(self, seconds: float, code: int = CompletionCode.DONE, application: str = "CONTRACT") -> int:
        """A job that started now (as if by START), runs `seconds`, then ends with `code`."""
        brid = self.next_id
        self.next_id += 1
        now = self.clock.now()
        self.jobs[brid] = Job(brid, application, None, now, [(0, 2), (seconds, code)], [(0, "Job started")])
        return brid

    def code_of(self, brid: int) -> CompletionCode:
        """A job's status code now (no request is made)."""
        return CompletionCode(self.jobs[brid].code_at(self.clock.now()))

    def expire(self) -> None:
        """The current token is refused from now on (401) until the next Logon."""
        self.valid.clear()

    # -- reading back
    def calls(self, function: str) -> list[httpx.Request]:
        return [r for r in self.requests if function_of(r) == function]

    def bodies(self, function: str) -> list[Any]:
        return [json.loads(r.content) for r in self.calls(function)]

    def calls_of(self, function: str) -> list[Call]:
        return [c for c in self.log if c.function == function]

    def actions(self, action: str) -> list[Call]:
        return [c for c in self.calls_of(w.JOB_ACTION) if c.body.get(w.F_ACTION) == action]

    # -- serving
    def handler(self, request: httpx.Request) -> httpx.Response:
        function = function_of(request)
        now = self.clock.now()
        body = _json(request.content)
        self.requests.append(request)
        call = Call(function, dict(request.url.params), body, now, dict(request.headers))
        self.log.append(call)
        response = self._outcome(function, request)
        call.status = response.status_code
        return response

    def _outcome(self, function: str, request: httpx.Request) -> httpx.Response:
        if self.plans[function]:
            outcome = self.plans[function].popleft()
            if isinstance(outcome, type) and issubclass(outcome, BaseException):
                if issubclass(outcome, httpx.RequestError):
                    raise outcome(f"simulated {outcome.__name__}", request=request)
                raise outcome()
            if isinstance(outcome, BaseException):
                raise outcome
            if callable(outcome):
                outcome = outcome(request)
            if isinstance(outcome, int):
                return status_response(outcome)
            if isinstance(outcome, httpx.Response):
                return outcome
        return self.answer(function, request)

    def answer(self, function: str, request: httpx.Request) -> httpx.Response:
        """The answer of the contract (the emulator's, in small)."""
        now = self.clock.now()
        body = _json(request.content)
        if function in (w.LOGON, w.JOB_ACTION) and not isinstance(body, dict):
            return status_response(400, error_code=w.E_INVALID_REQUEST, message="expected a JSON object")
        if function == w.LOGON:
            if body.get(w.F_USER_NAME) != self.user or body.get(w.F_PASSWORD) != self.password:
                return status_response(401, error_code=w.E_AUTHENTICATION_FAILED, message="logon refused")
            self.logons += 1
            token = self.token if self.fixed_token else f"{self.token}-{self.logons}"
            self.valid = {token}
            return httpx.Response(200, json=w.logon_body(token))
        if function == w.HEARTBEAT:
            return httpx.Response(200, json=w.heartbeat_body(self.available))
        if request.headers.get(w.H_TOKEN) not in self.valid:
            return status_response(401, error_code=w.E_AUTHENTICATION_FAILED, message="token refused")
        if function not in (w.MONITOR_JOB, w.GET_MESSAGES, w.JOB_ACTION):
            return status_response(404, error_code="NO_SUCH_FUNCTION")
        try:  # a request that breaks the contract's rules: 400
            if function == w.JOB_ACTION:
                return self._action(body, now)
            params = request.url.params
            brid = w.validate_batch_request_id(params.get(w.Q_BATCH_REQUEST_ID))
            after, max_count = 0, 1000
            if function == w.GET_MESSAGES:
                after, max_count = (_count(params, w.Q_AFTER_SEQUENCE, 0), _count(params, w.Q_MAX_COUNT, 1))
        except (ValidationError, ValueError) as exc:
            return status_response(400, error_code=w.E_INVALID_REQUEST, message=str(exc))
        job = self.jobs.get(brid)
        if job is None:
            if not self.any_job:
                return status_response(404, error_code=w.E_BATCH_REQUEST_NOT_FOUND, message=f"no {brid}")
            if function == w.MONITOR_JOB:
                status = JobStatus(brid, self.status_code, application="DEMO2", job_name="RUN_PARAMETERTESTA")
                return httpx.Response(200, json=w.job_status_body(status))
            msgs = [Message(after + 1, text="Report test 01 is started")]
            return httpx.Response(200, json=w.message_page_body(brid, msgs, False))
        if function == w.MONITOR_JOB:
            return httpx.Response(200, json=w.job_status_body(self.status_of(job, now)))
        count = min(max_count, self.page_size)
        visible = [v for v in job.visible(now) if v[0] > after]
        page = [Message(seq, self._at(at), text=text) for seq, at, text in visible[:count]]
        return httpx.Response(200, json=w.message_page_body(brid, page, len(visible) > count))

    def _at(self, t: float) -> Any:
        at = getattr(self.clock, "at", None)
        return at(t) if at is not None else None

    def status_of(self, job: Job, now: float) -> JobStatus:
        end = job.end_at(now)
        started = next((job.start + off for off, c in job.timeline if c == 2), None)
        return JobStatus(
            batch_request_id=job.brid,
            code=job.code_at(now),
            status_text=None,
            description=job.description if end is not None else None,
            application=job.application,
            job_name=job.name,
            submitted_at=self._at(job.start),
            started_at=self._at(started) if started is not None and started <= now else None,
            ended_at=self._at(end) if end is not None else None,
        )

    def _action(self, body: Any, now: float) -> httpx.Response:
        action, brid = w.read_action(body)
        if action == "START":
            req = w.start_request_from_wire(body)
            if req.task_id in self.by_task:  # a repeated START: the job it queued, not a second one
                brid = self.by_task[req.task_id]
                result = ActionResult(brid, self.jobs[brid].code_at(now), None, f"Job '{req.job}' started")
                return httpx.Response(200, json=w.action_result_body(result))
            script = self.scripts.get(req.job or "", self.default_script)
            if script is None:
                if self.any_job and (req.job or "") not in self.scripts:
                    result = ActionResult(2112, CompletionCode.QUEUED, "QUEUED", "Job started in AMT Environment")
                    return httpx.Response(200, json=w.action_result_body(result))
                return status_response(404, error_code=w.E_JOB_NOT_FOUND, message=f"no job {req.job}")
            brid = self.next_id
            self.next_id += 1
            timeline, texts = script
            job = Job(brid, req.application, req.job, now, timeline, texts, self.descriptions.get(req.job or ""))
            self.jobs[brid] = job
            if req.task_id:
                self.by_task[req.task_id] = brid
            result = ActionResult(brid, job.code_at(now), None, f"Job '{req.job}' started")
            return httpx.Response(200, json=w.action_result_body(result))
        assert brid is not None
        known = self.jobs.get(brid)
        if known is None:
            if not self.any_job:
                return status_response(404, error_code=w.E_BATCH_REQUEST_NOT_FOUND, message=f"no {brid}")
            result = ActionResult(brid, CompletionCode.ABORTED, "ABORTED", "stopped")
            return httpx.Response(200, json=w.action_result_body(result))
        code = known.code_at(now)
        if known.end_at(now) is not None:
            return status_response(409, error_code=w.E_ACTION_NOT_ALLOWED, message="job has ended")
        new = 3 if action == "KILL" else (10 if code in (0, 1) else 12)
        known.forced = (now, new)
        return httpx.Response(200, json=w.action_result_body(ActionResult(brid, new, None, action)))

    # -- clients
    def _settings(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs.setdefault("clock", self.clock)
        kwargs.setdefault("username", self.user)
        kwargs.setdefault("password", self.password)
        return kwargs

    def client(self, base_url: str = BASE_URL, **kwargs: Any) -> Client:
        """A `Client` wired to this server (its clock unless one is given)."""
        transport = httpx.MockTransport(self.handler)
        return Client(base_url, http_client=httpx.Client(transport=transport), **self._settings(kwargs))

    def async_client(self, base_url: str = BASE_URL, **kwargs: Any) -> AsyncClient:
        """An `AsyncClient` wired to this server (its clock unless one is given)."""
        transport = httpx.MockTransport(self.handler)
        return AsyncClient(base_url, http_client=httpx.AsyncClient(transport=transport), **self._settings(kwargs))
