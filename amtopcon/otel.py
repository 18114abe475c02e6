"""OpenTelemetry traces and metrics for a client: `amtopcon.otel.instrument(client)`.

Optional: it needs `opentelemetry-api` (`pip install 'amtopcon[otel]'`), and nothing of
OpenTelemetry is imported until this module is. A client that was never instrumented
does no telemetry work at all.

What an instrumented client emits (the names are listed in `SPAN_*`, `METRIC_*` and
`ATTR_*` below and in the observability guide):

* a span `amtopcon <Function>` per call (e.g. `amtopcon MonitorJob`), and under it a
  CLIENT span `<METHOD> <Function>` per attempt with the OpenTelemetry HTTP attributes
  (`http.request.method`, `http.response.status_code`, `server.address`, `server.port`,
  `url.scheme`, `url.path` (never the query), `error.type`, `http.request.resend_count`)
  and the SDK's own (`amtopcon.function`, `amtopcon.attempt`, `amtopcon.request_id`,
  `amtopcon.retry_reason`, `amtopcon.retry_delay`); a Logon made for a call is a call of
  its own under that call's span;
* a span `amtopcon wait` (or `amtopcon follow`) per wait, with an event per status
  change, per failed check and per outage ridden out; the calls of its rounds nest under it;
* the metrics `amtopcon.client.calls`, `amtopcon.client.attempts`,
  `http.client.request.duration`, `amtopcon.client.relogons`, `amtopcon.job.poll_checks`,
  `amtopcon.job.outage.time` and `amtopcon.jobs.ended` (by final completion code).

No attribute carries a secret: no token, no password, no header but `X-Request-Id`, no
request body and no query string.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import Token
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self, TypeVar

from amtopcon.errors import AmtOpConError, MissingDependencyError, ValidationError

try:
    from opentelemetry import context as otel_context
    from opentelemetry import metrics, trace
except ImportError as _exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise MissingDependencyError(
        "amtopcon.otel needs opentelemetry-api, which amtopcon does not install by default; "
        "install the extra: pip install 'amtopcon[otel]'",
        package="opentelemetry-api",
    ) from _exc

import httpx

from amtopcon import _wire
from amtopcon._core.call import Done, Relogon, Sleep
from amtopcon._core.observe import NO_OBSERVER, AttemptObserver, CallObserver, Observer, WatchObserver
from amtopcon._core.settings import BaseClient
from amtopcon._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import Span, TracerProvider

    from amtopcon._async.client import AsyncClient
    from amtopcon._sync.client import Client
    from amtopcon.models import JobStatus

__all__ = ["OtelObserver", "instrument", "is_instrumented", "uninstrument"]

#: The instrumentation scope (tracer and meter name).
SCOPE: Final = "amtopcon"

SPAN_CALL: Final = "amtopcon {function}"
SPAN_ATTEMPT: Final = "{method} {function}"
SPAN_WAIT: Final = "amtopcon {kind}"

METRIC_CALLS: Final = "amtopcon.client.calls"
METRIC_ATTEMPTS: Final = "amtopcon.client.attempts"
METRIC_DURATION: Final = "http.client.request.duration"
METRIC_RELOGONS: Final = "amtopcon.client.relogons"
METRIC_POLL_CHECKS: Final = "amtopcon.job.poll_checks"
METRIC_OUTAGE: Final = "amtopcon.job.outage.time"
METRIC_JOBS: Final = "amtopcon.jobs.ended"

EVENT_STATUS: Final = "amtopcon.job.status"
EVENT_CHECK_FAILED: Final = "amtopcon.poll.failed"
EVENT_OUTAGE: Final = "amtopcon.outage.ended"

# OpenTelemetry semantic conventions (HTTP client, error).
HTTP_METHOD: Final = "http.request.method"
HTTP_STATUS: Final = "http.response.status_code"
HTTP_RESEND: Final = "http.request.resend_count"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
URL_SCHEME: Final = "url.scheme"
URL_PATH: Final = "url.path"
ERROR_TYPE: Final = "error.type"

# The SDK's own.
ATTR_FUNCTION: Final = "amtopcon.function"
ATTR_ACTION: Final = "amtopcon.action"
ATTR_ATTEMPT: Final = "amtopcon.attempt"
ATTR_ATTEMPTS: Final = "amtopcon.attempts"
ATTR_REQUEST_ID: Final = "amtopcon.request_id"
ATTR_RETRY_REASON: Final = "amtopcon.retry_reason"
ATTR_RETRY_DELAY: Final = "amtopcon.retry_delay"
ATTR_BATCH_REQUEST_ID: Final = "amtopcon.batch_request_id"
ATTR_TASK_ID: Final = "amtopcon.task_id"
ATTR_WAIT_KIND: Final = "amtopcon.wait.kind"
ATTR_POLL_CHECKS: Final = "amtopcon.poll_checks"
ATTR_JOB_CODE: Final = "amtopcon.job.code"
ATTR_JOB_STATUS: Final = "amtopcon.job.status"
ATTR_OUTAGE_SECONDS: Final = "amtopcon.outage.seconds"
ATTR_OUTAGE_OUTCOME: Final = "amtopcon.outage.outcome"

#: The retry reason of an attempt whose token was refused (the client logs on again).
TOKEN_REFUSED: Final = "token_refused"

#: A `Client` or an `AsyncClient` (instrument() returns the one it was given).
ClientT = TypeVar("ClientT", "Client", "AsyncClient")


def error_type(error: BaseException) -> str:
    """`error.type` of an exception: its class, fully qualified by its public module."""
    cls = type(error)
    if isinstance(error, httpx.HTTPError):
        return f"httpx.{cls.__qualname__}"
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


class _Instruments:
    """The tracer and the metric instruments of one observer."""

    def __init__(self, tracer_provider: TracerProvider | None, meter_provider: MeterProvider | None) -> None:
        self.tracer = trace.get_tracer(SCOPE, __version__, tracer_provider=tracer_provider)
        meter = metrics.get_meter(SCOPE, __version__, meter_provider=meter_provider)
        self.calls = meter.create_counter(METRIC_CALLS, unit="{call}", description="Calls made (retries apart)")
        self.attempts = meter.create_counter(
            METRIC_ATTEMPTS, unit="{attempt}", description="HTTP requests sent, each retry and Logon included"
        )
        self.duration = meter.create_histogram(
            METRIC_DURATION, unit="s", description="Duration of one HTTP attempt (real time)"
        )
        self.relogons = meter.create_counter(
            METRIC_RELOGONS, unit="{logon}", description="Logons made because a token was refused"
        )
        self.poll_checks = meter.create_counter(
            METRIC_POLL_CHECKS, unit="{check}", description="Status checks of waits and follows, failed ones included"
        )
        self.outage = meter.create_counter(
            METRIC_OUTAGE, unit="s", description="Seconds of server outage seen by waits and follows"
        )
        self.jobs = meter.create_counter(
            METRIC_JOBS, unit="{job}", description="Jobs seen to end by a wait or follow, by final completion code"
        )


class _Attempt(AttemptObserver):
    __slots__ = ("_call", "_metric", "_span", "_started", "_token")

    def __init__(self, call: _Call, request: httpx.Request, number: int) -> None:
        self._call = call
        url = request.url
        function = call.function
        attributes: dict[str, Any] = {
            HTTP_METHOD: request.method,
            SERVER_ADDRESS: url.host,
            URL_SCHEME: url.scheme,
            URL_PATH: url.path,  # the path only: never the query
            ATTR_FUNCTION: function,
            ATTR_ATTEMPT: number,
        }
        if url.port is not None:
            attributes[SERVER_PORT] = url.port
        elif url.scheme in ("http", "https"):
            attributes[SERVER_PORT] = 443 if url.scheme == "https" else 80
        if number > 1:
            attributes[HTTP_RESEND] = number - 1
        request_id = request.headers.get(_wire.H_REQUEST_ID)  # the one header read: never the token
        if request_id:
            attributes[ATTR_REQUEST_ID] = request_id
        self._metric: dict[str, Any] = {
            HTTP_METHOD: request.method,
            ATTR_FUNCTION: function,
            SERVER_ADDRESS: url.host,
            URL_SCHEME: url.scheme,
        }
        if SERVER_PORT in attributes:
            self._metric[SERVER_PORT] = attributes[SERVER_PORT]
        self._span: Span = call.tools.tracer.start_span(
            SPAN_ATTEMPT.format(method=request.method, function=function),
            kind=trace.SpanKind.CLIENT,
            attributes=attributes,
        )
        self._token: Token[Any] | None = None
        self._started = time.perf_counter()

    def __enter__(self) -> Self:
        self._token = otel_context.attach(trace.set_span_in_context(self._span))
        return self

    def answered(self, response: httpx.Response) -> None:
        status = response.status_code
        self._span.set_attribute(HTTP_STATUS, status)
        self._metric[HTTP_STATUS] = status
        rid = response.headers.get(_wire.H_REQUEST_ID)
        if rid:
            self._span.set_attribute(ATTR_REQUEST_ID, rid)
        if status >= 400:
            self._error(str(status))

    def failed(self, error: httpx.HTTPError) -> None:
        self._error(error_type(error))

    def _error(self, kind: str) -> None:
        self._span.set_attribute(ERROR_TYPE, kind)
        self._span.set_status(trace.Status(trace.StatusCode.ERROR))
        self._metric[ERROR_TYPE] = kind

    def decided(self, step: object) -> None:
        if isinstance(step, Sleep):
            reason = self._metric.get(ERROR_TYPE) or "retry"
            self._span.set_attribute(ATTR_RETRY_REASON, str(reason))
            self._span.set_attribute(ATTR_RETRY_DELAY, step.seconds)
        elif isinstance(step, Relogon):
            self._span.set_attribute(ATTR_RETRY_REASON, TOKEN_REFUSED)
        elif isinstance(step, Done) and step.conflict_after_retry:
            self._span.set_attribute(ATTR_RETRY_REASON, "conflict_after_retry")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc is not None and ERROR_TYPE not in self._metric:
                self._error(error_type(exc))
            tools = self._call.tools
            tools.attempts.add(1, self._metric)
            tools.duration.record(time.perf_counter() - self._started, self._metric)
        finally:
            if self._token is not None:
                otel_context.detach(self._token)
            self._span.end()


class _Call(CallObserver):
    __slots__ = ("_attempts", "_span", "_token", "function", "tools")

    def __init__(self, tools: _Instruments, wreq: _wire.WireRequest) -> None:
        self.tools = tools
        self.function = wreq.function
        self._attempts = 0
        attributes: dict[str, Any] = {ATTR_FUNCTION: wreq.function}
        if wreq.function == _wire.JOB_ACTION and wreq.body is not None:  # never a Logon's body
            action = wreq.body.get(_wire.F_ACTION)
            if isinstance(action, str):
                attributes[ATTR_ACTION] = action
        if wreq.task_id:
            attributes[ATTR_TASK_ID] = wreq.task_id
        if wreq.function in (_wire.MONITOR_JOB, _wire.GET_MESSAGES) or wreq.kind == "action":
            attributes[ATTR_BATCH_REQUEST_ID] = _wire.target_of(wreq)
        self._span: Span = tools.tracer.start_span(SPAN_CALL.format(function=wreq.function), attributes=attributes)
        self._token: Token[Any] | None = None

    def __enter__(self) -> Self:
        self._token = otel_context.attach(trace.set_span_in_context(self._span))
        return self

    def attempt(self, request: httpx.Request, number: int) -> AttemptObserver:
        self._attempts = number
        return _Attempt(self, request, number)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        metric: dict[str, Any] = {ATTR_FUNCTION: self.function}
        try:
            self._span.set_attribute(ATTR_ATTEMPTS, self._attempts)
            if exc is not None:
                kind = error_type(exc)
                metric[ERROR_TYPE] = kind
                self._span.set_attribute(ERROR_TYPE, kind)
                self._span.set_status(trace.Status(trace.StatusCode.ERROR, type(exc).__name__))
                if isinstance(exc, AmtOpConError):  # the SDK's messages never hold a secret
                    self._span.record_exception(exc)
            self.tools.calls.add(1, metric)
        finally:
            if self._token is not None:
                otel_context.detach(self._token)
            self._span.end()


class _Watch(WatchObserver):
    __slots__ = ("_checks", "_kind", "_span", "tools")

    def __init__(self, tools: _Instruments, batch_request_id: int, kind: str) -> None:
        self.tools = tools
        self._kind = kind
        self._checks = 0
        self._span: Span = tools.tracer.start_span(
            SPAN_WAIT.format(kind=kind), attributes={ATTR_BATCH_REQUEST_ID: batch_request_id, ATTR_WAIT_KIND: kind}
        )

    @contextmanager
    def _current(self) -> Iterator[object]:
        token = otel_context.attach(trace.set_span_in_context(self._span))
        try:
            yield self._span
        finally:
            otel_context.detach(token)

    def current(self) -> AbstractContextManager[object]:
        return self._current()

    def checked(self, status: JobStatus, changed: bool) -> None:
        self._checks += 1
        self.tools.poll_checks.add(1, {ATTR_WAIT_KIND: self._kind})
        if changed:
            self._span.add_event(EVENT_STATUS, {ATTR_JOB_CODE: int(status.code), ATTR_JOB_STATUS: status.code.name})

    def check_failed(self, error: AmtOpConError) -> None:
        self._checks += 1
        kind = error_type(error)
        self.tools.poll_checks.add(1, {ATTR_WAIT_KIND: self._kind, ERROR_TYPE: kind})
        self._span.add_event(EVENT_CHECK_FAILED, {ERROR_TYPE: kind})

    def outage_ended(self, seconds: float, outcome: str) -> None:
        self.tools.outage.add(seconds, {ATTR_OUTAGE_OUTCOME: outcome})
        self._span.add_event(EVENT_OUTAGE, {ATTR_OUTAGE_SECONDS: seconds, ATTR_OUTAGE_OUTCOME: outcome})

    def job_ended(self, status: JobStatus) -> None:
        code: dict[str, Any] = {ATTR_JOB_CODE: int(status.code), ATTR_JOB_STATUS: status.code.name}
        self.tools.jobs.add(1, code)
        self._span.set_attributes(code)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._span.set_attribute(ATTR_POLL_CHECKS, self._checks)
            if exc is not None and not isinstance(exc, GeneratorExit):  # GeneratorExit: a follow left early
                self._span.set_attribute(ERROR_TYPE, error_type(exc))
                self._span.set_status(trace.Status(trace.StatusCode.ERROR, type(exc).__name__))
                if isinstance(exc, AmtOpConError):
                    self._span.record_exception(exc)
        finally:
            self._span.end()


class OtelObserver(Observer):
    """The `Observer` that `instrument()` gives a client: OpenTelemetry spans and metrics."""

    __slots__ = ("_tools",)

    def __init__(
        self, tracer_provider: TracerProvider | None = None, meter_provider: MeterProvider | None = None
    ) -> None:
        """Spans through `tracer_provider`, metrics through `meter_provider` (None: the global ones)."""
        self._tools = _Instruments(tracer_provider, meter_provider)

    def call(self, wreq: _wire.WireRequest, url: httpx.URL) -> CallObserver:
        return _Call(self._tools, wreq)

    def watch(self, batch_request_id: int, kind: str) -> WatchObserver:
        return _Watch(self._tools, batch_request_id, kind)

    def relogon(self) -> None:
        self._tools.relogons.add(1)


def _check_client(client: object) -> BaseClient:
    if not isinstance(client, BaseClient):
        raise ValidationError(
            f"client: expected an amtopcon Client or AsyncClient, got {type(client).__name__}", field="client"
        )
    return client


def instrument(
    client: ClientT,
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
) -> ClientT:
    """Make `client` (a `Client` or `AsyncClient`) emit OpenTelemetry spans and metrics.

    Args:
        client: the client to instrument; `with_options()` copies made from it afterwards
            are instrumented too. Instrumenting again replaces the providers.
        tracer_provider: where the spans go (None: the global tracer provider).
        meter_provider: where the metrics go (None: the global meter provider).

    Returns:
        The same client, for `client = instrument(Client(...))`.

    Raises:
        ValidationError: `client` is not an amtopcon client (`.field` is "client").
    """
    _check_client(client)._observer = OtelObserver(tracer_provider, meter_provider)
    return client


def uninstrument(client: ClientT) -> ClientT:
    """Stop `client`'s telemetry (its `with_options()` copies keep theirs); returns the client."""
    _check_client(client)._observer = NO_OBSERVER
    return client


def is_instrumented(client: Client | AsyncClient) -> bool:
    """True when `instrument()` was called on `client` (or on the client it was copied from)."""
    return isinstance(_check_client(client)._observer, OtelObserver)
