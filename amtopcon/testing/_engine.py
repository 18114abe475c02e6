"""The emulator engine: the AMTOpCon contract over a catalog, a store and a clock.

Nothing runs in the background. A batch request's state at time `t` follows from what
was stored (its START, the STOP/KILL actions with their times), the catalog's script of
its job, its queue's concurrency and the clock: a queued job starts when a slot of its
queue frees, each step of its script lasts its duration, STOP ends it at its next step
boundary, KILL at once. Derived timelines are cached per queue and per request, and
recomputed only when a START or an action touches that queue, so following a job of
10,000 messages page by page costs the size of each page, not the size of the log.

Every path, header and field name comes from `amtopcon._wire`, as in the clients.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import json
import logging
import ntpath
import posixpath
import secrets
import threading
import time as _time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs

from amtopcon import _validate, _wire
from amtopcon._clock import Clock
from amtopcon._text import counted
from amtopcon.errors import NotFoundError, ValidationError
from amtopcon.models import ActionResult, CompletionCode, JobStatus, Message
from amtopcon.testing._catalog import (
    DEFAULT_USER,
    Catalog,
    JobScript,
    Step,
    StepLike,
    format_parameters,
    render,
    script_stem,
    template_values,
)
from amtopcon.testing._clocks import EmulatorClock, VirtualClock
from amtopcon.testing._faults import Faults, error_code_for
from amtopcon.testing._store import MemoryStore, RequestRecord, Store

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from amtopcon import AsyncClient, Client
    from amtopcon._core.settings import BaseClient

_C_T = TypeVar("_C_T", bound="BaseClient")

__all__ = ["BASE_URL", "Drop", "Emulator", "EmulatorResponse", "RecordedRequest"]

logger = logging.getLogger("amtopcon.testing")

#: The base URL of the in-process emulator's clients. Nothing listens there and no TLS is
#: involved (the transport is in process); https keeps the clients' plain-HTTP warning quiet.
BASE_URL: Final = "https://amt.emulator" + _wire.SERVICE_PATH
#: The default logon user: the plain values behind the vendor's Connector.config example.
DEFAULT_LOGON_USER: Final = "ocadm"
DEFAULT_LOGON_PASSWORD: Final = "opconxps"
#: How a recorded body shows a password.
MASK: Final = "***"
#: How a recorded request shows a logon token: this prefix and the first hex digits of its SHA-256.
TOKEN_MASK_PREFIX: Final = "sha256:"
_TOKEN_MASK_DIGITS: Final = 12
#: How long the synthetic job of a missing script file runs before it ends ERROR.
MISSING_FILE_SECONDS: Final = 1.0
FILE_NOT_FOUND: Final = "File not found"

_C = CompletionCode


# --------------------------------------------------------------------------- values


@attrs.frozen
class EmulatorResponse:
    """An answer of the engine: HTTP status, headers, JSON body, and an injected delay."""

    status: int
    headers: dict[str, str]
    body: bytes
    delay: float = 0.0

    def json(self) -> Any:
        """The decoded JSON body (None when empty)."""
        return json.loads(self.body) if self.body else None


@attrs.frozen
class Drop:
    """Break the connection instead of answering (fault injection).

    `after_processing`: the request took effect (the door answers nothing); False: it
    never reached the engine (the door refuses the connection).
    """

    after_processing: bool


@attrs.frozen
class RecordedRequest:
    """One request the emulator received.

    Attributes:
        function: the contract function (`OpConJobAction`, ...), the last path segment.
        method: the HTTP method.
        path: the request path.
        query: the query parameters.
        body: the parsed JSON body (None when empty or not JSON); a password is `***`.
        headers: the headers, names lower-cased (see `header()`). The logon token header
            (`X-AMT-LogonToken`) holds `sha256:` and the first 12 hex digits of the token's
            SHA-256, never the token: requests that carried the same token show the same
            value and different tokens different ones, so a test can still tell them apart.
        time: the emulator's clock when it arrived.
        status: the HTTP status answered (None when the connection was dropped).
    """

    function: str
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    time: float
    status: int | None

    def header(self, name: str) -> str | None:
        """A header's value by name (case-insensitive), or None."""
        return self.headers.get(name.lower())

    def __repr__(self) -> str:
        return f"RecordedRequest({self.method} {self.function} -> {self.status} at {self.time:.3f})"


class _Refused(Exception):
    """An error answer: raised inside the engine, turned into a contract error body."""

    def __init__(self, status: int, error_code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.headers = dict(headers or {})


@attrs.frozen
class _Rendered:
    """A request's script laid out in time relative to its start (independent of actions)."""

    offsets: list[float]  # of each message, ascending
    texts: list[str]
    severities: list[str]
    step_starts: list[float]
    step_states: list[CompletionCode]
    step_ends: list[float]  # cumulative; the last one is the running time
    total: float


@attrs.frozen
class _Timeline:
    """When a request starts and ends, how it ends, and how many messages it writes."""

    start: float | None  # None: never started
    end: float
    code: CompletionCode
    description: str | None
    base: float  # the clock time of message offset 0
    n_messages: int


@attrs.define
class _Schedule:
    """A queue's derived timelines, extended as requests arrive."""

    version: int
    concurrency: int
    done: int = 0  # how many of the queue's requests are placed
    busy: list[float] = attrs.field(factory=list)  # heap: end times of the jobs holding a slot
    timelines: dict[int, _Timeline] = attrs.field(factory=dict)


@attrs.define
class _Entry:
    rec: RequestRecord
    queue: str
    job_name: str
    run_as: str
    script: JobScript | None  # None: ends at submission with `immediate`
    immediate: tuple[CompletionCode, str, str] | None = None  # code, description, message
    actions: list[tuple[str, float]] = attrs.field(factory=list)
    rendered: _Rendered | None = None


def _mask(body: Any) -> Any:
    if isinstance(body, dict):
        password = _wire.F_PASSWORD.lower()
        return {k: (MASK if str(k).lower() == password else _mask(v)) for k, v in body.items()}
    if isinstance(body, list):
        return [_mask(v) for v in body]
    return body


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _mask_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers to record: a logon token becomes a short hash of it (see `RecordedRequest`)."""
    name = _wire.H_TOKEN.lower()
    token = headers.get(name)
    if token is None:
        return headers
    return {**headers, name: TOKEN_MASK_PREFIX + _hash(token)[:_TOKEN_MASK_DIGITS]}


def _working_dir(path: str) -> str:
    directory = posixpath.dirname(path) if path.startswith("/") else ntpath.dirname(path)
    return directory.upper().replace("\\", "\\\\")


def _missing_file_script(rec: RequestRecord) -> JobScript:
    """The vendor's answer to a script file that does not exist: ERROR, `File not found`."""
    path = rec.file_name or ""
    return JobScript(
        script_stem(path),
        (
            Step(f"Error starting job {format_parameters(rec.parameters)}", 0.0, severity="ERROR"),
            Step(
                f"[An error occurred trying to start process 'pwsh' with working directory "
                f"'{_working_dir(path)}'. The system cannot find the file specified.]",
                MISSING_FILE_SECONDS,
                severity="ERROR",
            ),
        ),
        _C.ERROR,
        FILE_NOT_FOUND,
    )


def _missing_job_script(rec: RequestRecord) -> JobScript:
    """A stored request whose job the current catalog no longer defines (after a restart)."""
    name = rec.job or "?"
    return JobScript(
        name,
        (Step(f"Job definition '{name}' not found in application '{rec.application}'", 0.0, severity="ERROR"),),
        _C.ERROR,
        "Job definition not found",
    )


# --------------------------------------------------------------------------- engine


class Emulator:
    """An AMT batch environment in process, speaking the AMTOpCon wire contract.

    Args:
        catalog: applications, jobs, scripts, queues and users (default: `Catalog.default()`,
            the vendor's sample jobs and the user `ocadm` / `opconxps`).
        clock: an `amtopcon.Clock`; default a `VirtualClock` at 0 that moves only by
            `advance()` or by the sleeps of the clients from `client()`.
        store: where batch requests, actions and token hashes are kept (default `MemoryStore()`).
        token_ttl: seconds a logon token stays valid.
        message_cap: the most messages one GetMessages answer carries, whatever `maxCount` asks.

    The doors: `client()` / `async_client()` (an `httpx.MockTransport`, no network),
    `handle()` (for the HTTP server of `amtopcon emulator serve`), and the pytest fixtures.
    """

    def __init__(
        self,
        catalog: Catalog | None = None,
        clock: Clock | None = None,
        store: Store | None = None,
        token_ttl: float = 3600.0,
        message_cap: int = 1000,
    ) -> None:
        if catalog is not None and not isinstance(catalog, Catalog):
            raise ValidationError(
                f"catalog: expected an amtopcon.testing.Catalog, got {type(catalog).__name__}", field="catalog"
            )
        if clock is not None and not isinstance(clock, Clock):
            raise ValidationError(f"clock: expected an amtopcon.Clock, got {type(clock).__name__}", field="clock")
        token_ttl = _validate.seconds(token_ttl, "token_ttl", inclusive=False)
        message_cap = _validate.integer(message_cap, "message_cap", minimum=1)
        self.catalog = catalog if catalog is not None else Catalog.default()
        self.clock: Clock = clock if clock is not None else VirtualClock()
        self.store: Store = store if store is not None else MemoryStore()
        self.token_ttl = float(token_ttl)
        self.message_cap = message_cap
        self.faults = Faults()
        #: HeartBeat answers OK while True (set False to show the batch server as down).
        self.available = True
        self._epoch = self._clock_epoch(self.clock)
        self._lock = threading.RLock()
        self._requests: list[RecordedRequest] = []
        self._entries: dict[int, _Entry] = {}
        self._members: dict[str, list[int]] = {}
        self._versions: dict[str, int] = {}  # bumped by STOP/KILL: the queue's schedule is redone
        self._schedules: dict[str, _Schedule] = {}
        for rec in self.store.requests():
            self._index(rec, self.store.actions(rec.batch_request_id), loading=True)

    @staticmethod
    def _clock_epoch(clock: Clock) -> datetime:
        if isinstance(clock, EmulatorClock):
            return clock.epoch
        return datetime.fromtimestamp(_time.time() - clock.now(), UTC)

    # -- the clock
    @property
    def now(self) -> float:
        """The emulator's clock, in seconds."""
        return self.clock.now()

    def advance(self, seconds: float) -> float:
        """Move a `VirtualClock` forward by `seconds` (a number >= 0); returns the new time.

        Raises:
            ValidationError: `seconds` is not a finite number >= 0 (`field="seconds"`), or
                the emulator's clock is not one a test moves (`field="clock"`).
        """
        seconds = _validate.seconds(seconds, "seconds")
        advance = getattr(self.clock, "advance", None)
        if advance is None:
            raise ValidationError(
                f"clock: advance() needs a VirtualClock; this emulator runs on {self.clock!r}", field="clock"
            )
        result: float = advance(seconds)
        return result

    def at(self, seconds: float) -> datetime:
        """The timestamp the emulator reports for clock second `seconds`."""
        return self._epoch + timedelta(seconds=seconds)

    # -- the catalog
    def add_job(
        self,
        application: str,
        job: str,
        steps: Iterable[StepLike] = (),
        final: CompletionCode | int | str = CompletionCode.DONE,
        description: str | None = None,
    ) -> JobScript:
        """Script a job (see `Catalog.add_job`): steps of messages and durations, a final code.

        Requests already started keep the script they started with.
        """
        with self._lock:
            return self.catalog.add_job(application, job, steps, final, description)

    # -- what was received
    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (passwords masked)."""
        with self._lock:
            return list(self._requests)

    def expire_tokens(self) -> None:
        """Make every logon token issued so far expire now (the next call answers 401)."""
        with self._lock:
            self.store.expire_tokens(self.clock.now())

    # -- direct inspection (no HTTP)
    def _entry(self, batch_request_id: object) -> _Entry:
        """The entry of an id; the errors MonitorJob answers for a bad or unknown one (hold the lock)."""
        brid = _wire.validate_batch_request_id(batch_request_id)
        entry = self._entries.get(brid)
        if entry is None:
            raise NotFoundError(
                f"batch request {brid} not found", status_code=404, error_code=_wire.E_BATCH_REQUEST_NOT_FOUND
            )
        return entry

    def status(self, batch_request_id: int) -> JobStatus:
        """What MonitorJob would answer now.

        Raises:
            ValidationError: `batch_request_id` is not a positive integer.
            NotFoundError: no such batch request (`batch_request_not_found` is True), as the client raises.
        """
        with self._lock:
            return self._status(self._entry(batch_request_id), self.clock.now())

    def messages(self, batch_request_id: int, after: int = 0) -> list[Message]:
        """Every message the job has written by now, after sequence `after`.

        Raises:
            ValidationError: `batch_request_id` is not a positive integer, or `after` not an integer >= 0.
            NotFoundError: no such batch request (`batch_request_not_found` is True), as the client raises.
        """
        after = _validate.sequence(after, "after")
        with self._lock:
            entry = self._entry(batch_request_id)
            count = self._visible(entry, self.clock.now())
            return self._messages(entry, after, count)

    def batch_request_ids(self) -> list[int]:
        """Every BatchRequestId handed out, in order."""
        with self._lock:
            return sorted(self._entries)

    # -- the doors
    @property
    def base_url(self) -> str:
        """The base URL the in-process clients use."""
        return BASE_URL

    def _client_kwargs(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        user, password = DEFAULT_LOGON_USER, DEFAULT_LOGON_PASSWORD
        if DEFAULT_LOGON_USER not in self.catalog.users and self.catalog.users:
            user, password = next(iter(self.catalog.users.items()))
        kwargs: dict[str, Any] = {"username": user, "password": password, "clock": self.clock}
        kwargs.update(overrides)
        return kwargs

    def transport(self) -> httpx.MockTransport:
        """An `httpx.MockTransport` for an `httpx.Client` that talks to this emulator."""
        from amtopcon.testing._transport import sync_transport

        return sync_transport(self)

    def async_transport(self) -> httpx.MockTransport:
        """An `httpx.MockTransport` for an `httpx.AsyncClient` that talks to this emulator."""
        from amtopcon.testing._transport import async_transport

        return async_transport(self)

    def _wired(
        self, client_type: Callable[..., _C_T], make_http: Callable[[], Any], overrides: Mapping[str, Any]
    ) -> _C_T:
        kwargs = self._client_kwargs(overrides)
        if "http_client" in kwargs:  # the caller's pool: the caller closes it
            return client_type(BASE_URL, **kwargs)
        # A pool made here for the client, which then owns it (its close() closes it). If the
        # constructor refuses an override, the pool is simply dropped: a MockTransport holds
        # no connection.
        client = client_type(BASE_URL, http_client=make_http(), **kwargs)
        client._owns_http = True
        return client

    def client(self, **overrides: Any) -> Client:
        """A `Client` wired to this emulator (no network), logged on as the default user.

        Its clock is the emulator's, so its waits advance a virtual clock instead of
        sleeping. Keyword arguments override the client's settings (`max_retries=0`, ...).
        The client owns the `httpx.Client` made for it: `close()` (or leaving a `with`
        block) closes it. An `http_client=` you pass is used as given and stays yours to close.
        """
        import httpx

        from amtopcon import Client

        return self._wired(Client, lambda: httpx.Client(transport=self.transport()), overrides)

    def async_client(self, **overrides: Any) -> AsyncClient:
        """An `AsyncClient` wired to this emulator (see `client()`; `await client.aclose()` closes its pool)."""
        import httpx

        from amtopcon import AsyncClient

        return self._wired(AsyncClient, lambda: httpx.AsyncClient(transport=self.async_transport()), overrides)

    def handle(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> EmulatorResponse | Drop:
        """Answer one HTTP request (the function is the last segment of `path`).

        Returns the answer, or `Drop` when an injected fault breaks the connection.
        """
        with self._lock:
            now = self.clock.now()
            hdrs = _wire.lower_keys(headers)
            request_id = hdrs.get(_wire.H_REQUEST_ID.lower()) or str(uuid.uuid4())
            function = path.rstrip("/").rsplit("/", 1)[-1]
            parsed, body_ok = self._parse_body(body)
            fault = self.faults.take(function) if function in _wire.FUNCTIONS else None
            response: EmulatorResponse | Drop
            if fault is not None and fault.kind == "drop" and not fault.after_processing:
                response = Drop(False)
            elif fault is not None and fault.kind == "fail":
                extra = {} if fault.retry_after is None else {_wire.H_RETRY_AFTER: str(fault.retry_after)}
                response = self._error(
                    _Refused(
                        fault.status,
                        error_code_for(fault.status, function),
                        f"injected failure (HTTP {fault.status})",
                        extra,
                    ),
                    request_id,
                )
            else:
                try:
                    status, answer, more = self._dispatch(function, method.upper(), query, hdrs, parsed, body_ok, now)
                    response = self._json(status, answer, request_id, more)
                except _Refused as refused:
                    response = self._error(refused, request_id)
                if fault is not None and fault.kind == "drop":
                    response = Drop(True)
                elif fault is not None and fault.kind == "delay":
                    response = attrs.evolve(response, delay=fault.seconds)
            self._requests.append(
                RecordedRequest(
                    function=function,
                    method=method.upper(),
                    path=path,
                    query=dict(query),
                    body=_mask(parsed),
                    headers=_mask_headers(hdrs),
                    time=now,
                    status=response.status if isinstance(response, EmulatorResponse) else None,
                )
            )
            return response

    # -- answering
    @staticmethod
    def _parse_body(body: bytes) -> tuple[Any, bool]:
        if not body or not body.strip():
            return None, True
        try:
            return json.loads(body), True
        except (ValueError, RecursionError):
            return None, False

    @staticmethod
    def _json(status: int, data: Any, request_id: str, extra: Mapping[str, str] | None = None) -> EmulatorResponse:
        headers = {_wire.H_CONTENT_TYPE: _wire.JSON_TYPE, _wire.H_REQUEST_ID: request_id}
        headers.update(extra or {})
        return EmulatorResponse(status, headers, json.dumps(data).encode("utf-8"))

    def _error(self, refused: _Refused, request_id: str) -> EmulatorResponse:
        return self._json(
            refused.status, _wire.error_body(refused.error_code, refused.message), request_id, refused.headers
        )

    def _dispatch(
        self,
        function: str,
        method: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: Any,
        body_ok: bool,
        now: float,
    ) -> tuple[int, Any, dict[str, str] | None]:
        if function not in _wire.FUNCTIONS:
            raise _Refused(404, _wire.E_INVALID_REQUEST, f"unknown function {function!r}")
        expected = _wire.METHODS[function]
        if method != expected:
            raise _Refused(
                405, _wire.E_INVALID_REQUEST, f"{function} takes {expected}, not {method}", {"Allow": expected}
            )
        if function == _wire.HEARTBEAT:
            return 200, _wire.heartbeat_body(self.available), None
        if not body_ok:
            raise _Refused(400, _wire.E_INVALID_REQUEST, "the body is not valid JSON")
        try:
            if function == _wire.LOGON:
                return 200, self._logon(body, now), None
            self._authenticate(headers, now)
            q = _wire.lower_keys(query)
            if function == _wire.JOB_ACTION:
                return 200, self._job_action(body, now), None
            brid = _wire.validate_batch_request_id(q.get(_wire.Q_BATCH_REQUEST_ID.lower()))
            entry = self._entries.get(brid)
            if entry is None:
                raise _Refused(404, _wire.E_BATCH_REQUEST_NOT_FOUND, f"batch request {brid} not found")
            if function == _wire.MONITOR_JOB:
                return 200, _wire.job_status_body(self._status(entry, now)), None
            after = self._int_query(q, _wire.Q_AFTER_SEQUENCE, 0, 0)
            max_count = self._int_query(q, _wire.Q_MAX_COUNT, _wire.DEFAULT_MAX_COUNT, 1)
            return 200, self._message_page(entry, now, after, max_count), None
        except ValidationError as exc:
            raise _Refused(400, _wire.E_INVALID_REQUEST, str(exc)) from None

    @staticmethod
    def _int_query(q: Mapping[str, str], name: str, default: int, minimum: int) -> int:
        raw = q.get(name.lower())
        if raw is None or raw == "":
            return default
        text = str(raw).strip()
        if not (text.isascii() and text.isdigit()) or int(text) < minimum:
            raise ValidationError(f"{name}: expected an integer >= {minimum}, got {raw!r}", field=name)
        return int(text)

    def _logon(self, body: Any, now: float) -> dict[str, str]:
        if not isinstance(body, Mapping):
            raise ValidationError("body: expected a JSON object with UserName and Password", field="body")
        b = _wire.lower_keys(body)
        user, password = b.get(_wire.F_USER_NAME.lower()), b.get(_wire.F_PASSWORD.lower())
        if not isinstance(user, str) or not isinstance(password, str):
            raise ValidationError(
                f"{_wire.F_USER_NAME} and {_wire.F_PASSWORD}: expected strings", field=_wire.F_USER_NAME
            )
        if not self.catalog.check_user(user, password):
            raise _Refused(401, _wire.E_AUTHENTICATION_FAILED, "the user name or password was refused")
        token = secrets.token_urlsafe(32)
        self.store.add_token(_hash(token), user, now + self.token_ttl)
        return _wire.logon_body(token)

    def _authenticate(self, headers: Mapping[str, str], now: float) -> str:
        token = headers.get(_wire.H_TOKEN.lower())
        if not token:
            raise _Refused(401, _wire.E_AUTHENTICATION_FAILED, f"missing {_wire.H_TOKEN} header; call Logon first")
        found = self.store.get_token(_hash(token))
        if found is None:
            raise _Refused(401, _wire.E_AUTHENTICATION_FAILED, "unknown logon token")
        user, expires_at = found
        if now >= expires_at:
            raise _Refused(401, _wire.E_AUTHENTICATION_FAILED, "the logon token has expired")
        return user

    def _job_action(self, body: Any, now: float) -> dict[str, Any]:
        action, brid = _wire.read_action(body)
        if action == "START":
            return self._start(body, now)
        assert brid is not None
        entry = self._entries.get(brid)
        if entry is None:
            raise _Refused(404, _wire.E_BATCH_REQUEST_NOT_FOUND, f"batch request {brid} not found")
        timeline = self._timeline(entry)
        if now >= timeline.end:
            raise _Refused(
                409,
                _wire.E_ACTION_NOT_ALLOWED,
                f"{action} not allowed: job '{entry.job_name}' ({brid}) has already ended {timeline.code.name}",
            )
        self.store.add_action(brid, action, now)
        entry.actions.append((action, now))
        self._touch(entry.queue)
        status = self._status(entry, now)
        return _wire.action_result_body(
            ActionResult(brid, status.code, status.code.name, f"{action} request for job '{entry.job_name}' accepted")
        )

    def _start(self, body: Any, now: float) -> dict[str, Any]:
        req = _wire.start_request_from_wire(body)
        first = self.store.find_by_task_id(req.task_id)
        if first is not None and first.batch_request_id in self._entries:
            return self._started(self._entries[first.batch_request_id], now)
        app = self.catalog.applications.get(req.application)
        if app is None:
            raise _Refused(404, _wire.E_JOB_NOT_FOUND, f"application '{req.application}' is not defined")
        if req.file_name is None and req.job is not None and req.job not in app.jobs:
            raise _Refused(
                404, _wire.E_JOB_NOT_FOUND, f"job '{req.job}' is not defined in application '{req.application}'"
            )
        rec = RequestRecord(
            batch_request_id=self.store.next_batch_request_id(),
            task_id=req.task_id,
            application=req.application,
            job=req.job,
            file_name=req.file_name,
            run_as=req.run_as,
            submit_user=req.submit_user,
            station=req.station,
            queue=req.queue,
            parameters=tuple(req.parameters),
            task_values=tuple((tv.name, tv.value) for tv in req.task_values),
            submitted_at=now,
        )
        self.store.add_request(rec)
        entry = self._index(rec, [], loading=False)
        return self._started(entry, now)

    def _started(self, entry: _Entry, now: float) -> dict[str, Any]:
        status = self._status(entry, now)
        return _wire.action_result_body(
            ActionResult(
                entry.rec.batch_request_id,
                status.code,
                status.code.name,
                f"Job '{entry.job_name}' started in AMT Environment",
            )
        )

    # -- indexing and deriving
    def _index(self, rec: RequestRecord, actions: Sequence[tuple[str, float]], *, loading: bool) -> _Entry:
        app = self.catalog.applications.get(rec.application)
        default_user = app.default_user if app is not None else DEFAULT_USER
        run_as = rec.run_as or default_user
        queue = self.catalog.queue_of(rec.application, rec.queue)
        script: JobScript | None
        immediate = None
        if rec.run_as is not None and not self.catalog.is_amt_user(rec.run_as):
            script = None
            immediate = (
                _C.INVALID_AMT_USER,
                f"RunAs user '{rec.run_as}' is not an AMT user",
                f"User '{rec.run_as}' is not a valid AMT user; the job was not started",
            )
        elif rec.file_name is not None:
            script = self.catalog.script(rec.file_name) or _missing_file_script(rec)
        else:
            found = self.catalog.job(rec.application, rec.job or "")
            if found is None and not loading:  # pragma: no cover - checked by _start
                raise _Refused(404, _wire.E_JOB_NOT_FOUND, f"job '{rec.job}' is not defined")
            script = found or _missing_job_script(rec)
        job_name = rec.job or (script.name if script is not None else script_stem(rec.file_name or ""))
        entry = _Entry(rec, queue, job_name, run_as, script, immediate, list(actions))
        self._entries[rec.batch_request_id] = entry
        self._members.setdefault(queue, []).append(rec.batch_request_id)
        if loading:
            self._members[queue].sort()
            self._touch(queue)
        return entry

    def _touch(self, queue: str) -> None:
        self._versions[queue] = self._versions.get(queue, 0) + 1

    def _rendered(self, entry: _Entry) -> _Rendered:
        if entry.rendered is not None:
            return entry.rendered
        rec = entry.rec
        values = template_values(
            parameters=rec.parameters,
            task_values=rec.task_values,
            run_as=entry.run_as,
            submit_user=rec.submit_user,
            station=rec.station,
            queue=entry.queue,
            application=rec.application,
            job=entry.job_name,
            file_name=rec.file_name,
            batch_request_id=rec.batch_request_id,
        )
        offsets: list[float] = []
        texts: list[str] = []
        severities: list[str] = []
        starts: list[float] = []
        states: list[CompletionCode] = []
        ends: list[float] = []
        if entry.script is None:
            assert entry.immediate is not None
            offsets, texts, severities = [0.0], [entry.immediate[2]], ["ERROR"]
        else:
            t = 0.0
            for step in entry.script.steps:
                starts.append(t)
                states.append(step.state)
                if step.message is not None:
                    offsets.append(t)
                    texts.append(render(step.message, values))
                    severities.append(step.severity)
                t = round(t + step.duration, 6)  # no 30.200000000000003: scripts say 30.2
                ends.append(t)
        entry.rendered = _Rendered(offsets, texts, severities, starts, states, ends, ends[-1] if ends else 0.0)
        return entry.rendered

    def _schedule(self, queue: str) -> dict[int, _Timeline]:
        """Every timeline of a queue: its jobs take free slots first come, first served.

        A later START never changes an earlier job's timeline, so new requests extend the
        cached schedule; a STOP or KILL (or a changed concurrency) recomputes it.
        """
        version, concurrency = self._versions.get(queue, 0), self.catalog.concurrency(queue)
        sched = self._schedules.get(queue)
        if sched is None or sched.version != version or sched.concurrency != concurrency:
            sched = self._schedules[queue] = _Schedule(version, concurrency)
        members = self._members.get(queue, [])
        for brid in members[sched.done :]:
            sched.timelines[brid] = self._place(self._entries[brid], sched)
        sched.done = len(members)
        return sched.timelines

    def _place(self, entry: _Entry, sched: _Schedule) -> _Timeline:
        rec, busy = entry.rec, sched.busy
        if entry.immediate is not None:
            code, description, _ = entry.immediate
            return _Timeline(None, rec.submitted_at, code, description, rec.submitted_at, 1)
        freed: float | None = None
        start = rec.submitted_at
        if len(busy) >= sched.concurrency:
            freed = heapq.heappop(busy)
            start = max(start, freed)
        if entry.actions and entry.actions[0][1] < start:  # removed while it waited
            action, at = entry.actions[0]
            if freed is not None:
                heapq.heappush(busy, freed)
            if action == "STOP":
                return _Timeline(None, at, _C.DEL_QUEUE, "Removed from the queue by STOP", at, 0)
            return _Timeline(None, at, _C.KILLED, "Killed by KILL while queued", at, 0)
        timeline = self._run(entry, start)
        heapq.heappush(busy, timeline.end)
        return timeline

    def _run(self, entry: _Entry, start: float) -> _Timeline:
        r = self._rendered(entry)
        assert entry.script is not None
        end, code, description = start + r.total, entry.script.final, entry.script.description
        n = len(r.offsets)
        for action, at in entry.actions:
            if at >= end:
                break
            rel = at - start
            if action == "KILL":
                end, code, description = at, _C.KILLED, "Killed by KILL"
                n = bisect.bisect_right(r.offsets, rel)
            else:
                i = bisect.bisect_right(r.step_ends, rel)
                if i >= len(r.step_ends):  # pragma: no cover - at >= end was handled
                    break
                boundary = r.step_ends[i]
                if start + boundary < end:
                    end, code, description = start + boundary, _C.ABORTED, "Stopped by STOP"
                    n = bisect.bisect_left(r.offsets, boundary)
        return _Timeline(start, end, code, description, start, n)

    def _timeline(self, entry: _Entry) -> _Timeline:
        return self._schedule(entry.queue)[entry.rec.batch_request_id]

    def _status(self, entry: _Entry, now: float) -> JobStatus:
        t = self._timeline(entry)
        rec = entry.rec
        description = None
        started_at = ended_at = None
        if now >= t.end:
            code = t.code
            description = t.description
            ended_at = self.at(t.end)
            if t.start is not None:
                started_at = self.at(t.start)
        elif t.start is None or now < t.start:
            code = _C.QUEUED
        else:
            r = self._rendered(entry)
            i = bisect.bisect_right(r.step_starts, now - t.start) - 1
            code = r.step_states[i] if i >= 0 else _C.RUNNING
            started_at = self.at(t.start)
        return JobStatus(
            batch_request_id=rec.batch_request_id,
            code=code,
            status_text=code.name,
            description=description,
            application=rec.application,
            job_name=entry.job_name,
            submitted_at=self.at(rec.submitted_at),
            started_at=started_at,
            ended_at=ended_at,
        )

    def _visible(self, entry: _Entry, now: float) -> int:
        t = self._timeline(entry)
        if now < t.base or t.n_messages == 0:
            return 0
        r = self._rendered(entry)
        return min(t.n_messages, bisect.bisect_right(r.offsets, now - t.base))

    def _messages(self, entry: _Entry, after: int, upto: int) -> list[Message]:
        r = self._rendered(entry)
        base = self._timeline(entry).base
        return [
            Message(sequence=i + 1, text=r.texts[i], timestamp=self.at(base + r.offsets[i]), severity=r.severities[i])
            for i in range(after, upto)
        ]

    def _message_page(self, entry: _Entry, now: float, after: int, max_count: int) -> dict[str, Any]:
        visible = self._visible(entry, now)
        upto = min(visible, after + min(max_count, self.message_cap))
        page = self._messages(entry, after, upto) if after < upto else []
        return _wire.message_page_body(entry.rec.batch_request_id, page, has_more=visible > max(upto, after))

    def _repr_html_(self) -> str:
        from amtopcon import _html

        with self._lock:
            now = self.clock.now()
            ids = sorted(self._entries)
            latest = [self._status(self._entries[brid], now) for brid in ids[-_html.MAX_ROWS :]]
            jobs = sum(len(app.jobs) for app in self.catalog.applications.values())
            return _html.emulator(
                type(self.clock).__name__,
                self.at(now),
                latest,
                len(ids),
                len(self._requests),
                jobs,
                len(self.catalog.users),
            )

    def __repr__(self) -> str:
        return f"Emulator({self.catalog!r}, clock={self.clock!r}, {counted(len(self._entries), 'batch request')})"
