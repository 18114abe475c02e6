"""Shared test helpers: a fake clock that records sleeps, a scripted AMTOpCon server for
`httpx.MockTransport`, and one way to build and call `Client` and `AsyncClient` alike."""

from __future__ import annotations

import inspect
import json
import ssl
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

import httpx

from amtopcon import AsyncClient, Client, Clock
from amtopcon import _wire as w
from amtopcon.models import ActionResult, CompletionCode, JobStatus, Message

BASE = "https://amt.example.com:4004/AmtOpConService/"
USER = "ocadm"
PASSWORD = "Pa55-w0rd-SECRET-9e4b"
TOKEN = "tok-SECRET-51c2d7"  # the fake server's tokens start with this
WALL0 = 1_700_000_000.0
TLS = ssl.create_default_context()  # built once: loading the CA store per client is slow


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


Outcome = Any  # an int status, an httpx.Response, an exception (class or instance), or a callable


class FakeServer:
    """A scripted AMTOpCon server, used as `httpx.MockTransport(server.handler)`.

    Each function answers correctly unless outcomes were planned for it with `plan()`;
    those are used first, one per request. It checks the password on Logon and the token
    on every other call (after `expire()`, the current token is refused with 401).
    """

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock
        self.requests: list[httpx.Request] = []
        self.plans: dict[str, deque[Outcome]] = defaultdict(deque)
        self.logons = 0
        self.valid: set[str] = set()
        self.password = PASSWORD
        self.status_code = CompletionCode.RUNNING

    def plan(self, function: str, *outcomes: Outcome) -> FakeServer:
        self.plans[function].extend(outcomes)
        return self

    def expire(self) -> None:
        self.valid.clear()

    def calls(self, function: str) -> list[httpx.Request]:
        return [r for r in self.requests if function_of(r) == function]

    def bodies(self, function: str) -> list[Any]:
        return [json.loads(r.content) for r in self.calls(function)]

    def handler(self, request: httpx.Request) -> httpx.Response:
        function = function_of(request)
        self.requests.append(request)
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
        """The correct answer of the contract."""
        if function == w.LOGON:
            body = json.loads(request.content)
            if body.get(w.F_USER_NAME) != USER or body.get(w.F_PASSWORD) != self.password:
                return status_response(401, error_code=w.E_AUTHENTICATION_FAILED, message="logon refused")
            self.logons += 1
            token = f"{TOKEN}-{self.logons}"
            self.valid = {token}
            return httpx.Response(200, json=w.logon_body(token))
        if function == w.HEARTBEAT:
            return httpx.Response(200, json=w.heartbeat_body(True))
        if request.headers.get(w.H_TOKEN) not in self.valid:
            return status_response(401, error_code=w.E_AUTHENTICATION_FAILED, message="token refused")
        if function == w.MONITOR_JOB:
            brid = int(request.url.params[w.Q_BATCH_REQUEST_ID])
            status = JobStatus(brid, self.status_code, application="DEMO2", job_name="RUN_PARAMETERTESTA")
            return httpx.Response(200, json=w.job_status_body(status))
        if function == w.GET_MESSAGES:
            brid = int(request.url.params[w.Q_BATCH_REQUEST_ID])
            after = int(request.url.params[w.Q_AFTER_SEQUENCE])
            msgs = [Message(after + 1, text="Report test 01 is started")]
            return httpx.Response(200, json=w.message_page_body(brid, msgs, False))
        if function == w.JOB_ACTION:
            body = json.loads(request.content)
            if body[w.F_ACTION] == "START":
                result = ActionResult(2112, CompletionCode.QUEUED, "QUEUED", "Job started in AMT Environment")
            else:
                result = ActionResult(body[w.F_BATCH_REQUEST_ID], CompletionCode.ABORTED, "ABORTED", "stopped")
            return httpx.Response(200, json=w.action_result_body(result))
        return status_response(404, error_code="NO_SUCH_FUNCTION")


def client_class(flavour: str) -> type[Client] | type[AsyncClient]:
    return Client if flavour == "sync" else AsyncClient


def make_client(
    flavour: str,
    handler: Callable[[httpx.Request], Any] | None = None,
    *,
    base_url: str = BASE,
    **kwargs: Any,
) -> Any:
    """A `Client` or `AsyncClient` with test credentials and a fake clock; with `handler`,
    wired to an `httpx.MockTransport` (else to the real transport, e.g. for pytest-httpx)."""
    kwargs.setdefault("username", USER)
    kwargs.setdefault("password", PASSWORD)
    kwargs.setdefault("clock", FakeClock())
    kwargs.setdefault("verify", TLS)
    if handler is not None:
        transport = httpx.MockTransport(handler)
        kwargs["http_client"] = (
            httpx.Client(transport=transport) if flavour == "sync" else httpx.AsyncClient(transport=transport)
        )
    return client_class(flavour)(base_url, **kwargs)


async def call(client: Any, method: str, *args: Any, **kwargs: Any) -> Any:
    """Call a client method; await it when the client is an `AsyncClient`."""
    result = getattr(client, method)(*args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


async def close(client: Any) -> None:
    """Close either client."""
    if isinstance(client, AsyncClient):
        await client.aclose()
    else:
        client.close()


# One representative call per kind of request, as (client method, args, kwargs).
START_CALL = ("job_action", ("START",), {"application": "DEMO2", "job": "RUN_PARAMETERTESTA"})
CALLS: dict[str, tuple[str, tuple[Any, ...], dict[str, Any]]] = {
    "Logon": ("monitor_job", (2112,), {}),  # Logon happens on its own before the first call
    "HeartBeat": ("heartbeat", (), {}),
    "MonitorJob": ("monitor_job", (2112,), {}),
    "GetMessages": ("get_messages", (2112,), {}),
    "START": START_CALL,
    "STOP": ("job_action", ("STOP",), {"batch_request_id": 2112}),
    "KILL": ("job_action", ("KILL",), {"batch_request_id": 2112}),
}
