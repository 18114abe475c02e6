"""Two servers behind one interface, so that the client's contract tests run on both.

* `FakeBackend`: the one scripted server of the unit tests (tests/_fake.py `ScriptedServer`)
  with its small model of jobs on its `FakeClock`: ids it handed out, jobs that end, TaskId
  de-duplication, the contract's 400/404/409 answers. Its faults are planned outcomes.
* `EmulatorBackend`: the emulator's door 1 (`Emulator().client()` / `.async_client()`, an
  `httpx.MockTransport`, its `VirtualClock`). Every scenario comes from the emulator's real
  behaviour or its public fault injection (`emulator.faults`, `emulator.expire_tokens()`);
  what was sent is read back from `emulator.requests`.

A test asks a backend for a situation ("a running job", "the next START is dropped after it
was processed", "tokens expire now") and checks what the client sent (`seen()`) and did.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Final
from urllib.parse import urlsplit

import attrs
import httpx

from amtopcon import AsyncClient, Client, Clock, CompletionCode
from amtopcon import _wire as w
from amtopcon.testing import Emulator, Step
from tests.unit._support import BASE, PASSWORD, USER, FakeClock, ScriptedServer, make_client, status_response

__all__ = [
    "UNKNOWN_JOB",
    "AspNetEmulatorBackend",
    "Backend",
    "EmulatorBackend",
    "FakeBackend",
    "Seen",
    "contract_error_code",
]

#: An application/job pair no backend defines (START answers 404 JOB_NOT_FOUND).
UNKNOWN_JOB: Final = ("DEMO2", "NO_SUCH_JOB")
#: The application of the jobs a test starts with `Backend.start_job()`.
APP: Final = "CONTRACT"
#: A job's first step: STOP of a job that has just started ends it this soon (the next step boundary).
FIRST_STEP: Final = 0.1
#: What a START runs on the fake backend: an hour, then DONE, with one message at once.
CONTRACT_JOB: Final = ([(0.0, 2), (3600.0, 4)], [(0.0, "Job started")])
#: An injected delay that outlasts any read timeout.
FOREVER: Final = 10_000.0

_C = CompletionCode


def contract_error_code(status: int, function: str) -> str:
    """The ErrorCode of an HTTP status, by the contract's table of errors."""
    if status == 404:
        return w.E_JOB_NOT_FOUND if function == w.JOB_ACTION else w.E_BATCH_REQUEST_NOT_FOUND
    codes = {
        400: w.E_INVALID_REQUEST,
        401: w.E_AUTHENTICATION_FAILED,
        403: w.E_NOT_AUTHORIZED,
        409: w.E_ACTION_NOT_ALLOWED,
        429: w.E_TOO_MANY_REQUESTS,
        503: w.E_SERVER_BUSY,
    }
    if status in codes:
        return codes[status]
    return w.E_INTERNAL_ERROR if status >= 500 else w.E_INVALID_REQUEST


@attrs.define
class Seen:
    """One request a backend received, the same on both backends.

    Header names are lower-case; a header sent twice shows as one value joined by ", "
    (as `httpx.Headers.items()` and the emulator record it). `body` is the parsed JSON
    (None for an empty body). `time` is the backend's clock when the request arrived,
    `status` the status answered (None: the connection was dropped or the answer came
    after the client's read timeout).
    """

    function: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    time: float
    status: int | None

    def header(self, name: str) -> str | None:
        """A header's value by name (case-insensitive), or None."""
        return self.headers.get(name.lower())


class SleepLog(Clock):
    """A clock that records the client's sleeps and delegates everything to another clock."""

    def __init__(self, inner: Clock) -> None:
        self.inner = inner
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.inner.now()

    def time(self) -> float:
        return self.inner.time()

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.inner.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await self.inner.asleep(seconds)


class Backend:
    """What the contract tests ask of a server. Subclasses: `FakeBackend`, `EmulatorBackend`."""

    name: ClassVar[str]
    #: The user and password the clients log on with, and the password as `seen()` shows it.
    user: str
    password: str
    recorded_password: str
    base_url: str

    def __init__(self, flavour: str) -> None:
        self.flavour = flavour
        self._mark = 0

    @property
    def service_path(self) -> str:
        """The path every function's path starts with."""
        return urlsplit(self.base_url).path

    # -- clients and time
    def client(self, *, base_url: str | None = None, **kwargs: Any) -> Any:
        """A `Client` or `AsyncClient` (by flavour) wired to this backend."""
        raise NotImplementedError

    @property
    def sleeps(self) -> list[float]:
        """Every sleep of the clients made so far (back-off and Retry-After), in order."""
        raise NotImplementedError

    def now(self) -> float:
        """The backend's clock (the clients' clock too)."""
        raise NotImplementedError

    def wall(self) -> float:
        """The wall-clock reading of the clients' clock (for HTTP dates)."""
        raise NotImplementedError

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass on the shared clock."""
        raise NotImplementedError

    # -- what was received
    def all_seen(self) -> list[Seen]:
        raise NotImplementedError

    def mark(self) -> None:
        """From now on, `seen()` shows only the requests received after this point."""
        self._mark = len(self.all_seen())

    def seen(self, function: str | None = None) -> list[Seen]:
        """The requests received since the last `mark()` (or job setup), of one function or all."""
        return [s for s in self.all_seen()[self._mark :] if function is None or s.function == function]

    def bodies(self, function: str) -> list[Any]:
        return [s.body for s in self.seen(function)]

    def issued_tokens(self) -> set[str]:
        """Every logon token the server issued (the real values)."""
        return {t for t in (s.header(w.H_TOKEN) for s in self.all_seen()) if t is not None}

    def logons(self) -> int:
        """How many Logons were answered 200 since the last mark."""
        return len([s for s in self.seen(w.LOGON) if s.status == 200])

    # -- jobs
    def start_job(self, seconds: float = 3600.0) -> int:
        """A job that started now and runs `seconds` (its first step lasts `FIRST_STEP`); marks."""
        raise NotImplementedError

    def define_job(self, application: str, job: str) -> None:
        """Make sure the catalog defines this application/job pair (a short job)."""

    def unknown_id(self) -> int:
        """A BatchRequestId the backend never handed out."""
        return 987_654

    def task_jobs(self, task_id: str) -> list[int]:
        """The batch requests that STARTs with this TaskId queued (de-duplicated: at most one)."""
        raise NotImplementedError

    def code(self, batch_request_id: int) -> CompletionCode:
        """The job's status code now (no request is made)."""
        raise NotImplementedError

    def accept_password(self, password: str) -> None:
        """The server now accepts `password` for the logon user."""
        raise NotImplementedError

    def set_available(self, available: bool) -> None:
        """Whether HeartBeat reports the batch server as taking requests."""
        raise NotImplementedError

    # -- faults
    def fail(self, function: str, status: int, times: int = 1, retry_after: float | str | None = None) -> None:
        """The next `times` calls of `function` are refused unprocessed with `status`."""
        raise NotImplementedError

    def drop(self, function: str, *, after_processing: bool, times: int = 1) -> None:
        """The next `times` calls of `function` lose their connection, before or after taking effect."""
        raise NotImplementedError

    def delay(self, function: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls of `function` take effect and answer after `seconds` of the clock.

        An answer later than the request's read timeout never arrives: the client gets
        `httpx.ReadTimeout` once the read timeout has passed.
        """
        raise NotImplementedError

    def hang(self, function: str, times: int = 1) -> None:
        """The next `times` calls of `function` take effect but answer after the read timeout."""
        self.delay(function, FOREVER, times)

    def expire_tokens(self) -> None:
        """Every token issued so far is refused from now on (401)."""
        raise NotImplementedError

    # -- raw HTTP (what the client would never send)
    def raw(self, method: str, function: str, *, content: bytes = b"", token: str | None = None) -> httpx.Response:
        """Send one request as is, outside any client."""
        headers = {w.H_CONTENT_TYPE: w.JSON_TYPE}
        if token is not None:
            headers[w.H_TOKEN] = token
        with httpx.Client(transport=self._raw_transport(), base_url=self.base_url) as http:
            return http.request(method, function, content=content, headers=headers)

    def _raw_transport(self) -> httpx.BaseTransport:
        raise NotImplementedError

    # -- reading answers, whatever the dialect
    @staticmethod
    def server_message(response: httpx.Response) -> str | None:
        """The server's own words in an error answer: `Message`, or a problem's `detail`."""
        get = w.ci_getter(response.json())
        value = get(w.F_MESSAGE) or get(w.P_DETAIL)
        return value if isinstance(value, str) else None

    @staticmethod
    def answer_request_id(response: httpx.Response, sent: str | None) -> str | None:
        """The request id a client reports for an error answer: the echoed `X-Request-Id`, else
        a problem's `traceId`, else the one it sent."""
        echoed = response.headers.get(w.H_REQUEST_ID)
        if echoed:
            return echoed
        try:
            trace = w.ci_getter(response.json())(w.P_TRACE_ID)
        except ValueError:
            trace = None
        return trace if isinstance(trace, str) else sent

    def __repr__(self) -> str:
        return f"{self.name}-{self.flavour}"


# --------------------------------------------------------------------------- the fake server


class FakeBackend(Backend):
    """The unit tests' scripted fake server (`ScriptedServer`, its job model: every job but
    `UNKNOWN_JOB` is defined and runs an hour) and `FakeClock`."""

    name = "fake"
    user = USER
    password = PASSWORD
    recorded_password = PASSWORD
    base_url = BASE

    def __init__(self, flavour: str) -> None:
        super().__init__(flavour)
        self.clock = FakeClock()
        self.server = ScriptedServer(self.clock, any_job=False, default_script=CONTRACT_JOB)
        self.server.scripts[UNKNOWN_JOB[1]] = None  # START answers 404 JOB_NOT_FOUND
        self._seen: list[Seen] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        """The transport's handler: records the request, then lets the server answer."""
        try:
            body = json.loads(request.content) if request.content.strip() else None
        except ValueError:
            body = None
        seen = Seen(
            function=request.url.path.rsplit("/", 1)[-1],
            method=request.method,
            path=request.url.path,
            query=dict(request.url.params),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            time=self.clock.now(),
            status=None,
        )
        self._seen.append(seen)
        response = self.server.handler(request)
        seen.status = response.status_code
        return response

    def client(self, *, base_url: str | None = None, **kwargs: Any) -> Any:
        kwargs.setdefault("clock", self.clock)
        return make_client(self.flavour, self.handler, base_url=base_url or self.base_url, **kwargs)

    @property
    def sleeps(self) -> list[float]:
        return self.clock.sleeps

    def now(self) -> float:
        return self.clock.now()

    def wall(self) -> float:
        return self.clock.time()

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def all_seen(self) -> list[Seen]:
        return list(self._seen)

    def start_job(self, seconds: float = 3600.0) -> int:
        brid = self.server.add_job(seconds, application=APP)
        self.mark()
        return brid

    def task_jobs(self, task_id: str) -> list[int]:
        return [self.server.by_task[task_id]] if task_id in self.server.by_task else []

    def code(self, batch_request_id: int) -> CompletionCode:
        return self.server.code_of(batch_request_id)

    def accept_password(self, password: str) -> None:
        self.server.password = password

    def set_available(self, available: bool) -> None:
        self.server.available = available

    def fail(self, function: str, status: int, times: int = 1, retry_after: float | str | None = None) -> None:
        response = status_response(
            status,
            error_code=contract_error_code(status, function),
            message=f"refused (HTTP {status})",
            retry_after=None if retry_after is None else str(retry_after),
        )
        self.server.plan(function, *[response] * times)

    def drop(self, function: str, *, after_processing: bool, times: int = 1) -> None:
        def processed_then_dropped(request: httpx.Request) -> httpx.Response:
            self.server.answer(function, request)
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)

        self.server.plan(function, *[processed_then_dropped if after_processing else httpx.ConnectError] * times)

    def delay(self, function: str, seconds: float, times: int = 1) -> None:
        def processed_then_late(request: httpx.Request) -> httpx.Response:
            response = self.server.answer(function, request)
            read = request.extensions["timeout"]["read"]
            if read is not None and seconds > read:
                self.clock.advance(read)
                raise httpx.ReadTimeout("timed out", request=request)
            self.clock.advance(seconds)
            return response

        self.server.plan(function, *[processed_then_late] * times)

    def expire_tokens(self) -> None:
        self.server.expire()

    def _raw_transport(self) -> httpx.BaseTransport:
        return httpx.MockTransport(self.handler)


# --------------------------------------------------------------------------- the emulator, door 1


class EmulatorBackend(Backend):
    """The emulator's door 1: its in-process clients, its `VirtualClock`, its fault injection.

    The clients come from `emulator.client()` / `emulator.async_client()`; their clock is a
    `SleepLog` over the emulator's virtual clock (the same time line, the sleeps recorded).
    """

    name = "emulator"
    dialect: ClassVar[w.Dialect] = "contract"
    user = "ocadm"
    password = "opconxps"
    recorded_password = "***"  # the emulator masks passwords in what it records

    def __init__(self, flavour: str) -> None:
        super().__init__(flavour)
        self.emulator = Emulator(dialect=self.dialect)
        self.base_url = self.emulator.base_url
        self.log = SleepLog(self.emulator.clock)
        self._jobs = 0
        # The emulator records tokens only as hashes: keep the issued ones from the Logon
        # answers, so secret checks can look for the real values.
        self.issued: list[str] = []
        answer_of = self.emulator.handle

        def handle(method: str, path: str, query: Any, headers: Any, body: bytes) -> Any:
            answer = answer_of(method, path, query, headers, body)
            if path.endswith("/" + w.LOGON) and getattr(answer, "status", None) == 200:
                self.issued.append(w.parse_logon(answer.json()))
            return answer

        self.emulator.handle = handle  # type: ignore[method-assign]

    def client(self, *, base_url: str | None = None, **kwargs: Any) -> Any:
        kwargs.setdefault("clock", self.log)
        if base_url is None:
            if self.flavour == "sync":
                return self.emulator.client(**kwargs)
            return self.emulator.async_client(**kwargs)
        # Another spelling of the base URL: the emulator's transport, built by hand.
        kwargs.setdefault("username", self.user)
        kwargs.setdefault("password", self.password)
        if self.flavour == "sync":
            return Client(base_url, http_client=httpx.Client(transport=self.emulator.transport()), **kwargs)
        return AsyncClient(base_url, http_client=httpx.AsyncClient(transport=self.emulator.async_transport()), **kwargs)

    @property
    def sleeps(self) -> list[float]:
        return self.log.sleeps

    def now(self) -> float:
        return self.emulator.now

    def wall(self) -> float:
        return self.emulator.clock.time()

    def advance(self, seconds: float) -> None:
        self.emulator.advance(seconds)

    def all_seen(self) -> list[Seen]:
        return [
            Seen(
                function=r.function,
                method=r.method,
                path=r.path,
                query=dict(r.query),
                headers=dict(r.headers),
                body=r.body,
                time=r.time,
                status=r.status,
            )
            for r in self.emulator.requests
        ]

    def start_job(self, seconds: float = 3600.0) -> int:
        """Script a job of two steps (`FIRST_STEP`, then the rest) and START it over HTTP."""
        if self.emulator.faults.pending():
            raise AssertionError("start jobs before injecting faults: the setup START would use them")
        self._jobs += 1
        name = f"JOB{self._jobs}"
        rest = max(seconds - FIRST_STEP, 0.0)
        steps = [Step(f"{name} started", min(seconds, FIRST_STEP)), Step(f"{name} runs", rest)]
        self.emulator.add_job(APP, name, steps)
        with self.emulator.client() as setup:
            brid = setup.job_action("START", application=APP, job=name).batch_request_id
        self.mark()
        return brid

    def define_job(self, application: str, job: str) -> None:
        self.emulator.add_job(application, job, [Step(f"{job} runs", 1.0)])

    def task_jobs(self, task_id: str) -> list[int]:
        return [r.batch_request_id for r in self.emulator.store.requests() if r.task_id == task_id]

    def code(self, batch_request_id: int) -> CompletionCode:
        return self.emulator.status(batch_request_id).code

    def accept_password(self, password: str) -> None:
        self.emulator.catalog.add_user(self.user, password)

    def issued_tokens(self) -> set[str]:
        return set(self.issued)

    def set_available(self, available: bool) -> None:
        self.emulator.available = available

    def fail(self, function: str, status: int, times: int = 1, retry_after: float | str | None = None) -> None:
        self.emulator.faults.fail_next(function, status, times=times, retry_after=retry_after)

    def drop(self, function: str, *, after_processing: bool, times: int = 1) -> None:
        for _ in range(times):
            self.emulator.faults.drop_next(function, after_processing=after_processing)

    def delay(self, function: str, seconds: float, times: int = 1) -> None:
        for _ in range(times):
            self.emulator.faults.delay_next(function, seconds)

    def expire_tokens(self) -> None:
        self.emulator.expire_tokens()

    def _raw_transport(self) -> httpx.BaseTransport:
        return self.emulator.transport()


class AspNetEmulatorBackend(EmulatorBackend):
    """The emulator's door 1 answering as ASP.NET 6 writes (`Emulator(dialect="aspnet")`):
    camelCase keys, 7-digit timestamps without offset, problem+json errors with a traceId."""

    name = "emulator-aspnet"
    dialect = "aspnet"


BACKENDS: Final[dict[str, type[Backend]]] = {
    "fake": FakeBackend,
    "emulator": EmulatorBackend,
    "emulator-aspnet": AspNetEmulatorBackend,
}
