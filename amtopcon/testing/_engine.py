"""The emulator engine: the AMTOpCon contract over a catalog, a store, a clock and a scheduler.

The engine routes requests to the contract's functions, checks logon tokens, injects
faults and records what it received. What a batch request does over time (queues,
scripts, STOP/KILL, TaskId de-duplication) is the pure scheduler's (`_scheduler`); the
engine keeps the store and the scheduler in step and answers from the scheduler at the
clock's time. Nothing runs in the background.

Every path, header and field name comes from `amtopcon._wire`, as in the clients.
"""

from __future__ import annotations

import json
import logging
import secrets
import sys as _sys
import threading
import time as _time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import update_wrapper
from typing import TYPE_CHECKING, Any, Concatenate, Final, ParamSpec, TypeVar

import attrs

from amtopcon import _constants as C
from amtopcon import _validate, _wire
from amtopcon._clock import Clock
from amtopcon._text import counted
from amtopcon._wire.names import Dialect
from amtopcon.errors import NotFoundError, ValidationError
from amtopcon.models import ActionResult, JobStatus, Message
from amtopcon.testing._catalog import Catalog
from amtopcon.testing._clocks import EmulatorClock, VirtualClock
from amtopcon.testing._exchange import Drop, EmulatorResponse, RecordedRequest, mask_body, mask_headers, token_hash
from amtopcon.testing._faults import Faults, error_code_for
from amtopcon.testing._scheduler import Scheduler, resolve
from amtopcon.testing._store import MemoryStore, RequestRecord, Store
from amtopcon.testing._transport import async_client as _async_client
from amtopcon.testing._transport import async_transport as _async_transport
from amtopcon.testing._transport import sync_client as _sync_client
from amtopcon.testing._transport import sync_transport as _sync_transport

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from amtopcon import AsyncClient, Client

__all__ = ["BASE_URL", "Drop", "Emulator", "EmulatorResponse", "RecordedRequest"]

logger = logging.getLogger("amtopcon.testing")

#: The base URL of the in-process emulator's clients. Nothing listens there and no TLS is
#: involved (the transport is in process); https keeps the clients' plain-HTTP warning quiet.
BASE_URL: Final = "https://amt.emulator" + _wire.SERVICE_PATH
#: The default logon user: the plain values behind the vendor's Connector.config example.
DEFAULT_LOGON_USER: Final = "ocadm"
DEFAULT_LOGON_PASSWORD: Final = "opconxps"


class _Refused(Exception):
    """An error answer: raised inside the engine, turned into a contract error body."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        *,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.headers = dict(headers or {})
        #: A validation error: the field it names ("$": the body), for ASP.NET's `errors`.
        self.field = field

    @property
    def errors(self) -> dict[str, list[str]] | None:
        """A validation problem's `errors` (field -> messages), as ASP.NET writes them."""
        if self.field is None:
            return None
        text = self.message
        if text.startswith(f"{self.field}: "):  # the field is the key: not again in its message
            text = text[len(self.field) + 2 :]
        return {self.field: [text]}


def _not_found(brid: int) -> _Refused:
    return _Refused(404, _wire.E_BATCH_REQUEST_NOT_FOUND, f"batch request {brid} not found")


_UNIQUE_HEADERS: Final = frozenset({_wire.H_REQUEST_ID.lower()})


def _shared_text(headers: dict[str, str]) -> dict[str, str]:
    # Header names and the values repeated from request to request, interned (a request id is not).
    return {_sys.intern(k): v if k in _UNIQUE_HEADERS else _sys.intern(v) for k, v in headers.items()}


P = ParamSpec("P")
T = TypeVar("T")


def _under_lock(method: Callable[Concatenate[Catalog, P], T], doc: str) -> Callable[Concatenate[Emulator, P], T]:
    """`method` of the emulator's catalog as a method of the emulator, run under its lock.

    It keeps `method`'s parameters for mypy, for help() (through `__wrapped__`) and for the
    API reference (`docs/_ext/amtopcon_griffe.py` shows it as a method with them), with `doc`.
    """

    def call(self: Emulator, /, *args: P.args, **kwargs: P.kwargs) -> T:
        with self._lock:
            bound: Callable[P, T] = getattr(self.catalog, method.__name__)  # a subclass's own, if any
            return bound(*args, **kwargs)

    update_wrapper(call, method, assigned=("__name__",), updated=())
    call.__qualname__ = f"Emulator.{method.__name__}"
    call.__doc__ = doc
    return call


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
        dialect: how answers are written: `"contract"` (the default: the wire contract as
            written, PascalCase keys, `{"ErrorCode", "Message"}` errors) or `"aspnet"` (as
            an ASP.NET 6 service writes them: camelCase keys, timestamps with 7 fractional
            digits and no offset, errors as `application/problem+json` with a `traceId`
            and no `X-Request-Id` echoed).
        request_log: how many of the latest requests `requests` keeps (default 10,000, so a
            long-running served emulator stays flat in memory); None keeps every one (for
            a test that counts more than that). `request_count` counts them all either way.

    Like a server, it answers only under the service's base path (`/AmtOpConService/`):
    any other path is a 404.

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
        dialect: Dialect = "contract",
        request_log: int | None = C.EMULATOR_REQUEST_LOG,
    ) -> None:
        if catalog is not None and not isinstance(catalog, Catalog):
            raise ValidationError(
                f"catalog: expected an amtopcon.testing.Catalog, got {type(catalog).__name__}", field="catalog"
            )
        if clock is not None and not isinstance(clock, Clock):
            raise ValidationError(f"clock: expected an amtopcon.Clock, got {type(clock).__name__}", field="clock")
        if dialect not in _wire.DIALECTS:
            raise ValidationError(
                f"dialect: expected one of {', '.join(map(repr, _wire.DIALECTS))}, got {dialect!r}", field="dialect"
            )
        self.dialect: Dialect = dialect
        token_ttl = _validate.seconds(token_ttl, "token_ttl", inclusive=False)
        message_cap = _validate.integer(message_cap, "message_cap", minimum=1)
        if request_log is not None:
            request_log = _validate.integer(request_log, "request_log", minimum=0)
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
        self._requests: deque[RecordedRequest] = deque(maxlen=request_log)
        self._request_count = 0
        self._scheduler = Scheduler(self.catalog.concurrency, self._epoch)
        for rec in self.store.requests():
            self._scheduler.submit(resolve(self.catalog, rec), self.store.actions(rec.batch_request_id), restored=True)

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
    add_job = _under_lock(
        Catalog.add_job,
        """Script a job (see `Catalog.add_job`): steps of messages and durations, a final code.

        Requests already started keep the script they started with.
        """,
    )

    # -- what was received
    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests received so far, oldest first (passwords masked): every one, or
        the latest `request_log` of them (10,000 by default)."""
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        """How many requests were received, counting those `requests` no longer keeps."""
        with self._lock:
            return self._request_count

    def expire_tokens(self) -> None:
        """Make every logon token issued so far expire now (the next call answers 401)."""
        with self._lock:
            self.store.expire_tokens(self.clock.now())

    # -- direct inspection (no HTTP)
    def _known(self, batch_request_id: object) -> int:
        """A known id; the errors MonitorJob answers for a bad or unknown one (hold the lock)."""
        brid = _wire.validate_batch_request_id(batch_request_id)
        if brid not in self._scheduler:
            raise NotFoundError(
                f"batch request {brid} not found", status_code=404, error_code=_wire.E_BATCH_REQUEST_NOT_FOUND
            )
        return brid

    def status(self, batch_request_id: int) -> JobStatus:
        """What MonitorJob would answer now.

        Raises:
            ValidationError: `batch_request_id` is not a positive integer.
            NotFoundError: no such batch request (`batch_request_not_found` is True), as the client raises.
        """
        with self._lock:
            return self._scheduler.status(self._known(batch_request_id), self.clock.now())

    def messages(self, batch_request_id: int, after: int = 0) -> list[Message]:
        """Every message the job has written by now, after sequence `after`.

        Raises:
            ValidationError: `batch_request_id` is not a positive integer, or `after` not an integer >= 0.
            NotFoundError: no such batch request (`batch_request_not_found` is True), as the client raises.
        """
        after = _validate.sequence(after, "after")
        with self._lock:
            return self._scheduler.messages(self._known(batch_request_id), self.clock.now(), after)[0]

    def batch_request_ids(self) -> list[int]:
        """Every BatchRequestId handed out, in order."""
        with self._lock:
            return self._scheduler.ids()

    # -- the doors
    @property
    def base_url(self) -> str:
        """The base URL the in-process clients use."""
        return BASE_URL

    def _client_settings(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        user, password = DEFAULT_LOGON_USER, DEFAULT_LOGON_PASSWORD
        if DEFAULT_LOGON_USER not in self.catalog.users and self.catalog.users:
            user, password = next(iter(self.catalog.users.items()))
        return {"username": user, "password": password, "clock": self.clock, **overrides}

    def transport(self) -> httpx.MockTransport:
        """An `httpx.MockTransport` for an `httpx.Client` that talks to this emulator."""
        return _sync_transport(self)

    def async_transport(self) -> httpx.MockTransport:
        """An `httpx.MockTransport` for an `httpx.AsyncClient` that talks to this emulator."""
        return _async_transport(self)

    def client(self, **overrides: Any) -> Client:
        """A `Client` wired to this emulator (no network), logged on as the default user.

        Its clock is the emulator's, so its waits advance a virtual clock instead of
        sleeping. Keyword arguments override the client's settings (`max_retries=0`, ...).
        The client owns the `httpx.Client` made for it: `close()` (or leaving a `with`
        block) closes it. An `http_client=` you pass is used as given and stays yours to close.
        """
        return _sync_client(self, BASE_URL, self._client_settings(overrides))

    def async_client(self, **overrides: Any) -> AsyncClient:
        """An `AsyncClient` wired to this emulator (see `client()`; `await client.aclose()` closes its pool)."""
        return _async_client(self, BASE_URL, self._client_settings(overrides))

    def handle(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
    ) -> EmulatorResponse | Drop:
        """Answer one HTTP request: `path` is the service's base path and a function name
        (`/AmtOpConService/MonitorJob`); any other path answers 404, as a server does.

        Returns the answer, or `Drop` when an injected fault breaks the connection.
        """
        with self._lock:
            now = self.clock.now()
            hdrs = _wire.lower_keys(headers)
            request_id = hdrs.get(_wire.H_REQUEST_ID.lower()) or str(uuid.uuid4())
            function = path.rstrip("/").rsplit("/", 1)[-1]  # as recorded
            routed = self._function_of(path)
            parsed, body_ok = self._parse_body(body)
            fault = self.faults.take(routed) if routed is not None else None
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
                    status, answer, more = self._dispatch(
                        routed, path, method.upper(), query, hdrs, parsed, body_ok, now
                    )
                    response = self._json(status, answer, request_id, more)
                except _Refused as refused:
                    response = self._error(refused, request_id)
                if fault is not None and fault.kind == "drop":
                    response = Drop(True)
                elif fault is not None and fault.kind == "delay":
                    response = attrs.evolve(response, delay=fault.seconds)
            self._request_count += 1
            self._requests.append(
                RecordedRequest(
                    function=_sys.intern(function),  # interned: the log's records share their repeated text
                    method=_sys.intern(method.upper()),
                    path=_sys.intern(path),
                    query=dict(query),
                    body=mask_body(parsed),
                    headers=_shared_text(mask_headers(hdrs)),
                    time=now,
                    status=response.status if isinstance(response, EmulatorResponse) else None,
                )
            )
            return response

    # -- answering
    @staticmethod
    def _function_of(path: str) -> str | None:
        """The function a path names, or None when it names none under the base path (a
        404). The base path's case does not matter (IIS and ASP.NET route without it);
        the function's does."""
        base = _wire.SERVICE_PATH
        if path[: len(base)].lower() == base.lower():
            rest = path[len(base) :]
            if rest in _wire.FUNCTIONS:
                return rest
        return None

    @staticmethod
    def _parse_body(body: bytes) -> tuple[Any, bool]:
        if not body or not body.strip():
            return None, True
        try:
            return json.loads(body), True
        except (ValueError, RecursionError):
            return None, False

    def _json(
        self, status: int, data: Any, request_id: str, extra: Mapping[str, str] | None = None, *, error: bool = False
    ) -> EmulatorResponse:
        headers = {_wire.H_CONTENT_TYPE: _wire.content_type(self.dialect, error=error)}
        if self.dialect == "contract":  # ASP.NET echoes no X-Request-Id (its errors carry a traceId)
            headers[_wire.H_REQUEST_ID] = request_id
        headers.update(extra or {})
        return EmulatorResponse(status, headers, json.dumps(_wire.in_dialect(data, self.dialect)).encode("utf-8"))

    def _error(self, refused: _Refused, request_id: str) -> EmulatorResponse:
        if self.dialect == "aspnet":
            body = _wire.problem_body(
                refused.status, refused.error_code, refused.message, _wire.trace_id(), refused.errors
            )
            return EmulatorResponse(
                refused.status,
                {_wire.H_CONTENT_TYPE: _wire.content_type(self.dialect, error=True), **refused.headers},
                json.dumps(body).encode("utf-8"),
            )
        return self._json(
            refused.status, _wire.error_body(refused.error_code, refused.message), request_id, refused.headers
        )

    def _dispatch(
        self,
        function: str | None,
        path: str,
        method: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: Any,
        body_ok: bool,
        now: float,
    ) -> tuple[int, Any, dict[str, str] | None]:
        if function is None:
            raise _Refused(
                404,
                _wire.E_INVALID_REQUEST,
                f"no such path {path[:200]!r}: the service answers {', '.join(_wire.FUNCTIONS)} "
                f"under {_wire.SERVICE_PATH}",
            )
        expected = _wire.METHODS[function]
        if method != expected:
            raise _Refused(
                405, _wire.E_INVALID_REQUEST, f"{function} takes {expected}, not {method}", {"Allow": expected}
            )
        if function == _wire.HEARTBEAT:
            return 200, _wire.heartbeat_body(self.available), None
        if not body_ok:
            raise _Refused(400, _wire.E_INVALID_REQUEST, "the body is not valid JSON", field="$")
        try:
            if function == _wire.LOGON:
                return 200, self._logon(body, now), None
            self._authenticate(headers, now)
            q = _wire.lower_keys(query)
            if function == _wire.JOB_ACTION:
                return 200, self._job_action(body, now), None
            brid = _wire.validate_batch_request_id(q.get(_wire.Q_BATCH_REQUEST_ID.lower()))
            if brid not in self._scheduler:
                raise _not_found(brid)
            if function == _wire.MONITOR_JOB:
                return 200, _wire.job_status_body(self._scheduler.status(brid, now), self.dialect), None
            after = self._int_query(q, _wire.Q_AFTER_SEQUENCE, 0, 0)
            max_count = self._int_query(q, _wire.Q_MAX_COUNT, _wire.DEFAULT_MAX_COUNT, 1)
            page, has_more = self._scheduler.messages(brid, now, after, min(max_count, self.message_cap))
            return 200, _wire.message_page_body(brid, page, has_more=has_more, dialect=self.dialect), None
        except ValidationError as exc:
            raise _Refused(400, _wire.E_INVALID_REQUEST, str(exc), field=exc.field or "$") from None

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
        self.store.add_token(token_hash(token), user, now + self.token_ttl)
        return _wire.logon_body(token)

    def _authenticate(self, headers: Mapping[str, str], now: float) -> str:
        token = headers.get(_wire.H_TOKEN.lower())
        if not token:
            raise _Refused(401, _wire.E_AUTHENTICATION_FAILED, f"missing {_wire.H_TOKEN} header; call Logon first")
        found = self.store.get_token(token_hash(token))
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
        if brid not in self._scheduler:
            raise _not_found(brid)
        job_name = self._scheduler.submission(brid).job_name
        ended = self._scheduler.ended(brid, now)
        if ended is not None:
            raise _Refused(
                409,
                _wire.E_ACTION_NOT_ALLOWED,
                f"{action} not allowed: job '{job_name}' ({brid}) has already ended {ended.name}",
            )
        self.store.add_action(brid, action, now)
        self._scheduler.act(brid, action, now)
        return self._action_result(brid, now, f"{action} request for job '{job_name}' accepted")

    def _start(self, body: Any, now: float) -> dict[str, Any]:
        req = _wire.start_request_from_wire(body)
        first = self._scheduler.find(req.task_id)
        if first is not None:
            self._check_same_job(first, req)
        if first is None:
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
            self._scheduler.submit(resolve(self.catalog, rec))
            first = rec.batch_request_id
        job_name = self._scheduler.submission(first).job_name
        return self._action_result(first, now, f"Job '{job_name}' started in AMT Environment")

    def _check_same_job(self, first: int, req: _wire.StartRequest) -> None:
        """A TaskId repeats a START only for the same job: a START of another application,
        job or file with a TaskId already used is refused with 409 `ACTION_NOT_ALLOWED`
        (never answered with the other job's BatchRequestId, which the text does not name)."""
        rec = self.store.get_request(first)
        if rec is None or (rec.application, rec.job, rec.file_name) == (req.application, req.job, req.file_name):
            return
        raise _Refused(
            409,
            _wire.E_ACTION_NOT_ALLOWED,
            f"TaskId {req.task_id} was used by the START of another job: not started; "
            "a repeated START must name the same application, job and file",
        )

    def _action_result(self, brid: int, now: float, message: str) -> dict[str, Any]:
        code = self._scheduler.status(brid, now).code
        return _wire.action_result_body(ActionResult(brid, code, code.name, message))

    def _repr_html_(self) -> str:
        from amtopcon import _html

        with self._lock:
            now = self.clock.now()
            ids = self._scheduler.ids()
            latest = [self._scheduler.status(brid, now) for brid in ids[-_html.MAX_ROWS :]]
            jobs = sum(len(app.jobs) for app in self.catalog.applications.values())
            return _html.emulator(
                type(self.clock).__name__,
                self.at(now),
                latest,
                len(ids),
                self._request_count,
                jobs,
                len(self.catalog.users),
            )

    def __repr__(self) -> str:
        return f"Emulator({self.catalog!r}, clock={self.clock!r}, {counted(len(self._scheduler), 'batch request')})"
