"""A small scripted AMTOpCon server for the job-handle tests (no tests in this module).

`FakeAMT` answers the contract's five functions through an `httpx.MockTransport`; a job's
status and messages follow from its script and the injected clock, so a `VirtualClock`
runs an hour-long job in no time. It records every call (function, query, body, clock
time) and injects faults per function. The twins `SyncDriver` / `AsyncDriver` let one
test body drive `JobHandle` and `AsyncJobHandle` alike.
"""

from __future__ import annotations

import collections
import contextlib
import json
from collections.abc import Callable, Iterable
from typing import Any

import attrs
import httpx

from amtopcon import AsyncClient, Client, PollPolicy, _wire
from amtopcon._clock import Clock
from amtopcon.jobs import AsyncJobHandle, JobHandle
from amtopcon.models import ActionResult, JobStatus, Message
from amtopcon.testing import VirtualClock

BASE_URL = "http://127.0.0.1:4004/AmtOpConService/"
USER = "ocadm"
PASSWORD = "s3cret-pw"
TOKEN = "tok-VERY-secret-42"

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


@attrs.define
class Call:
    """One request the fake received."""

    function: str
    params: dict[str, str]
    body: Any
    at: float
    headers: dict[str, str]


@attrs.define
class FakeJob:
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
        if last_code in (3, 4, 6, 10, 11, 12, 22, 23, 24, 99) and self.start + last_offset <= t:
            return self.start + last_offset
        return None

    def visible(self, t: float) -> list[tuple[int, float, str]]:
        out = []
        limit = t if self.forced is None else min(t, self.forced[0])
        for i, (offset, text) in enumerate(self.texts, start=1):
            if self.start + offset <= limit:
                out.append((i, self.start + offset, text))
        return out


class FakeAMT:
    """The scripted server. `handler` is the MockTransport handler (sync, works for both clients)."""

    def __init__(self, clock: Clock | None = None, page_size: int = 1000) -> None:
        self.clock: Clock = clock if clock is not None else VirtualClock()
        self.page_size = page_size
        self.scripts: dict[str, Script] = {"REPORTTEST01": REPORT}
        self.descriptions: dict[str, str] = {}
        self.jobs: dict[int, FakeJob] = {}
        self.calls: list[Call] = []
        self.faults: dict[str, collections.deque[Callable[[httpx.Request], httpx.Response]]] = collections.defaultdict(
            collections.deque
        )
        self.next_id = 2112

    # -- scripting
    def script(self, name: str, timeline: list[tuple[float, int]], texts: Iterable[tuple[float, str]] = ()) -> None:
        self.scripts[name] = (list(timeline), list(texts))

    def fail(
        self,
        function: str,
        status: int | None = None,
        *,
        times: int = 1,
        retry_after: str | None = None,
        exc: type[Exception] | None = None,
    ) -> None:
        """The next `times` calls of `function` answer `status` (or raise `exc`)."""

        def answer(request: httpx.Request) -> httpx.Response:
            if exc is not None:
                raise exc("injected", request=request)  # type: ignore[call-arg]
            headers = {} if retry_after is None else {_wire.H_RETRY_AFTER: retry_after}
            return httpx.Response(
                status or 500, json=_wire.error_body(_wire.E_INTERNAL_ERROR, "injected"), headers=headers
            )

        for _ in range(times):
            self.faults[function].append(answer)

    def calls_of(self, function: str) -> list[Call]:
        return [c for c in self.calls if c.function == function]

    def actions(self, action: str) -> list[Call]:
        return [c for c in self.calls_of(_wire.JOB_ACTION) if c.body.get(_wire.F_ACTION) == action]

    # -- serving
    def handler(self, request: httpx.Request) -> httpx.Response:
        function = request.url.path.rsplit("/", 1)[-1]
        body = json.loads(request.content) if request.content else None
        now = self.clock.now()
        self.calls.append(Call(function, dict(request.url.params), body, now, dict(request.headers)))
        if self.faults[function]:
            return self.faults[function].popleft()(request)
        if function == _wire.LOGON:
            return httpx.Response(200, json=_wire.logon_body(TOKEN))
        if function == _wire.HEARTBEAT:
            return httpx.Response(200, json=_wire.heartbeat_body())
        if request.headers.get(_wire.H_TOKEN) != TOKEN:
            return httpx.Response(401, json=_wire.error_body(_wire.E_AUTHENTICATION_FAILED, "no token"))
        if function == _wire.JOB_ACTION:
            return self._action(body, now)
        brid = int(request.url.params[_wire.Q_BATCH_REQUEST_ID])
        job = self.jobs.get(brid)
        if job is None:
            return httpx.Response(404, json=_wire.error_body(_wire.E_BATCH_REQUEST_NOT_FOUND, f"no {brid}"))
        if function == _wire.MONITOR_JOB:
            return httpx.Response(200, json=_wire.job_status_body(self.status_of(job, now)))
        after = int(request.url.params[_wire.Q_AFTER_SEQUENCE])
        count = min(int(request.url.params[_wire.Q_MAX_COUNT]), self.page_size)
        visible = [v for v in job.visible(now) if v[0] > after]
        page = [Message(seq, self._at(at), text=text) for seq, at, text in visible[:count]]
        return httpx.Response(200, json=_wire.message_page_body(brid, page, len(visible) > count))

    def _at(self, t: float) -> Any:
        at = getattr(self.clock, "at", None)
        return at(t) if at is not None else None

    def status_of(self, job: FakeJob, now: float) -> JobStatus:
        code = job.code_at(now)
        end = job.end_at(now)
        started = next((job.start + off for off, c in job.timeline if c == 2), None)
        return JobStatus(
            batch_request_id=job.brid,
            code=code,
            status_text=None,
            description=job.description if end is not None else None,
            application=job.application,
            job_name=job.name,
            submitted_at=self._at(job.start),
            started_at=self._at(started) if started is not None and started <= now else None,
            ended_at=self._at(end) if end is not None else None,
        )

    def _action(self, body: Any, now: float) -> httpx.Response:
        action, brid = _wire.read_action(body)
        if action == "START":
            req = _wire.start_request_from_wire(body)
            script = self.scripts.get(req.job or "")
            if script is None:
                return httpx.Response(404, json=_wire.error_body(_wire.E_JOB_NOT_FOUND, f"no job {req.job}"))
            brid = self.next_id
            self.next_id += 1
            timeline, texts = script
            job = FakeJob(brid, req.application, req.job, now, timeline, texts, self.descriptions.get(req.job or ""))
            self.jobs[brid] = job
            code = job.code_at(now)
            return httpx.Response(
                200, json=_wire.action_result_body(ActionResult(brid, code, None, f"Job '{req.job}' started"))
            )
        assert brid is not None
        job = self.jobs[brid]
        code = job.code_at(now)
        if job.end_at(now) is not None:
            return httpx.Response(409, json=_wire.error_body(_wire.E_ACTION_NOT_ALLOWED, "job has ended"))
        new = 3 if action == "KILL" else (10 if code in (0, 1) else 12)
        job.forced = (now, new)
        return httpx.Response(200, json=_wire.action_result_body(ActionResult(brid, new, None, action)))

    # -- clients
    def client(self, **kwargs: Any) -> Client:
        kwargs.setdefault("clock", self.clock)
        return Client(
            BASE_URL,
            username=USER,
            password=PASSWORD,
            http_client=httpx.Client(transport=httpx.MockTransport(self.handler)),
            **kwargs,
        )

    def async_client(self, **kwargs: Any) -> AsyncClient:
        kwargs.setdefault("clock", self.clock)
        return AsyncClient(
            BASE_URL,
            username=USER,
            password=PASSWORD,
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(self.handler)),
            **kwargs,
        )


#: A policy without jitter, so tests can predict when each check happens.
EXACT = PollPolicy(
    initial_delay=1.0, interval=1.0, backoff=1.5, max_interval=5.0, jitter=0.0, max_outage=300.0, elapsed_fraction=0.0
)


class SyncDriver:
    """Drives a `JobHandle` through coroutine-shaped calls (they do not really await)."""

    name = "sync"

    def __init__(self, fake: FakeAMT, **client_kwargs: Any) -> None:
        self.fake = fake
        self.client = fake.client(**client_kwargs)

    async def start(self, *args: Any, **kwargs: Any) -> JobHandle:
        return self.client.start(*args, **kwargs)

    async def run(self, *args: Any, **kwargs: Any) -> Any:
        return self.client.run(*args, **kwargs)

    def job(self, brid: int, after: int = 0) -> JobHandle:
        return self.client.job(brid, after=after)

    async def call(self, handle: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(handle, method)(*args, **kwargs)

    async def follow(self, handle: Any, limit: int | None = None, **kwargs: Any) -> list[Message]:
        out: list[Message] = []
        for message in handle.follow(**kwargs):
            out.append(message)
            if limit is not None and len(out) >= limit:
                break
        return out

    async def raise_inside(self, handle: Any, exc: BaseException) -> None:
        with handle:
            raise exc

    async def leave_normally(self, handle: Any) -> None:
        with handle:
            pass


class AsyncDriver(SyncDriver):
    """Drives an `AsyncJobHandle`."""

    name = "async"

    def __init__(self, fake: FakeAMT, **client_kwargs: Any) -> None:
        self.fake = fake
        self.client = fake.async_client(**client_kwargs)  # type: ignore[assignment]

    async def start(self, *args: Any, **kwargs: Any) -> AsyncJobHandle:  # type: ignore[override]
        return await self.client.start(*args, **kwargs)  # type: ignore[no-any-return,misc]

    async def run(self, *args: Any, **kwargs: Any) -> Any:
        return await self.client.run(*args, **kwargs)  # type: ignore[misc]

    def job(self, brid: int, after: int = 0) -> AsyncJobHandle:  # type: ignore[override]
        return self.client.job(brid, after=after)  # type: ignore[return-value]

    async def call(self, handle: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        return await getattr(handle, method)(*args, **kwargs)

    async def follow(self, handle: Any, limit: int | None = None, **kwargs: Any) -> list[Message]:
        out: list[Message] = []
        async with contextlib.aclosing(handle.follow(**kwargs)) as messages:
            async for message in messages:
                out.append(message)
                if limit is not None and len(out) >= limit:
                    break
        return out

    async def raise_inside(self, handle: Any, exc: BaseException) -> None:
        async with handle:
            raise exc

    async def leave_normally(self, handle: Any) -> None:
        async with handle:
            pass
