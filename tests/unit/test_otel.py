"""Issue 12 item 3: OpenTelemetry, optional. Spans per call and per attempt, a span per
wait with its status events, the metrics, no secret anywhere, and nothing of OpenTelemetry
imported unless `amtopcon.otel` is. Checked with the OTel SDK's in-memory span exporter and
metric reader, on the emulator, on both flavours."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import amtopcon.errors as E
from amtopcon import AsyncClient, PollPolicy
from amtopcon import _wire as w
from amtopcon.otel import instrument, is_instrumented, uninstrument
from amtopcon.testing import Emulator
from tests.unit._support import call, close

pytestmark = pytest.mark.anyio

APP, JOB = "DEMO2", "RUN_PARAMETERTESTA"
POLL = PollPolicy.fixed(1.0, 2.0)


class Telemetry:
    """A tracer provider and a meter provider that keep everything in memory."""

    def __init__(self) -> None:
        self.spans_out = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans_out))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def instrument(self, client: Any) -> Any:
        return instrument(client, tracer_provider=self.tracer_provider, meter_provider=self.meter_provider)

    @property
    def spans(self) -> list[ReadableSpan]:
        return list(self.spans_out.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.spans if s.name == name]

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        return [s for s in self.spans if s.parent is not None and s.parent.span_id == parent.context.span_id]

    def attempts(self, parent: ReadableSpan) -> list[ReadableSpan]:
        return sorted(
            (s for s in self.children(parent) if s.kind is SpanKind.CLIENT),
            key=lambda s: s.attributes["amtopcon.attempt"],
        )

    def metrics(self) -> dict[str, list[tuple[dict[str, Any], Any]]]:
        """Every metric: name -> [(attributes, value or histogram count)]."""
        out: dict[str, list[tuple[dict[str, Any], Any]]] = {}
        data = self.reader.get_metrics_data()
        for rm in data.resource_metrics if data is not None else ():
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    out[metric.name] = [
                        (dict(p.attributes or {}), getattr(p, "value", getattr(p, "count", None)))
                        for p in metric.data.data_points
                    ]
        return out

    def total(self, name: str, **where: Any) -> float:
        return sum(v for attrs, v in self.metrics().get(name, []) if all(attrs.get(k) == x for k, x in where.items()))


@pytest.fixture
def otel() -> Telemetry:
    return Telemetry()


def make(flavour: str, emulator: Emulator, **overrides: Any) -> Any:
    return emulator.client(**overrides) if flavour == "sync" else emulator.async_client(**overrides)


async def wait(client: Any, handle: Any, **kwargs: Any) -> Any:
    return await call(handle, "wait", **kwargs)


async def follow_first(handle: Any, n: int) -> list[Any]:
    """The first `n` messages of a follow, then leave it early."""
    got: list[Any] = []
    if isinstance(handle.client, AsyncClient):
        agen = handle.follow(poll=POLL)
        async for message in agen:
            got.append(message)
            if len(got) == n:
                break
        await agen.aclose()
    else:
        gen = handle.follow(poll=POLL)
        for message in gen:
            got.append(message)
            if len(got) == n:
                break
        gen.close()
    return got


# ------------------------------------------------------------------ calls and attempts


async def test_a_call_is_a_span_with_a_client_span_per_attempt(flavour: str, otel: Telemetry) -> None:
    emulator = Emulator()
    client = otel.instrument(make(flavour, emulator))
    handle = await call(client, "start", APP, JOB)
    emulator.faults.fail_next(w.MONITOR_JOB, 503)
    await call(client, "monitor_job", handle.batch_request_id)

    [monitor] = otel.named(f"amtopcon {w.MONITOR_JOB}")
    assert monitor.kind is SpanKind.INTERNAL
    assert monitor.attributes["amtopcon.function"] == w.MONITOR_JOB
    assert monitor.attributes["amtopcon.batch_request_id"] == handle.batch_request_id
    assert monitor.attributes["amtopcon.attempts"] == 2
    assert monitor.status.status_code is StatusCode.UNSET
    first, second = otel.attempts(monitor)
    for attempt in (first, second):
        assert attempt.name == f"GET {w.MONITOR_JOB}" and attempt.kind is SpanKind.CLIENT
        assert attempt.attributes["http.request.method"] == "GET"
        assert attempt.attributes["server.address"] == "amt.emulator"
        assert attempt.attributes["server.port"] == 443
        assert attempt.attributes["url.path"] == f"/AmtOpConService/{w.MONITOR_JOB}"  # never the query
    assert first.attributes["http.response.status_code"] == 503
    assert first.attributes["error.type"] == "503"
    assert first.attributes["amtopcon.retry_reason"] == "503"
    assert first.attributes["amtopcon.retry_delay"] > 0
    assert first.status.status_code is StatusCode.ERROR
    assert second.attributes["http.response.status_code"] == 200
    assert second.attributes["http.request.resend_count"] == 1
    assert "error.type" not in second.attributes and "amtopcon.retry_reason" not in second.attributes
    # the request ids are the ones the emulator received
    sent = [r.header(w.H_REQUEST_ID) for r in emulator.requests if r.function == w.MONITOR_JOB]
    assert [first.attributes["amtopcon.request_id"], second.attributes["amtopcon.request_id"]] == sent

    [start] = otel.named(f"amtopcon {w.JOB_ACTION}")
    assert start.attributes["amtopcon.action"] == "START"
    assert start.attributes["amtopcon.task_id"]
    # the first call logged on: the Logon is a call of its own, under the START
    [logon] = otel.named(f"amtopcon {w.LOGON}")
    assert logon.parent is not None and logon.parent.span_id == start.context.span_id

    assert otel.total("amtopcon.client.calls", **{"amtopcon.function": w.MONITOR_JOB}) == 1
    assert otel.total("amtopcon.client.attempts", **{"amtopcon.function": w.MONITOR_JOB}) == 2
    assert otel.total("amtopcon.client.attempts", **{"http.response.status_code": 503}) == 1
    assert otel.total("http.client.request.duration", **{"amtopcon.function": w.MONITOR_JOB}) == 2
    await close(client)


async def test_a_refused_token_is_a_retry_reason_and_a_relogon(flavour: str, otel: Telemetry) -> None:
    emulator = Emulator()
    client = otel.instrument(make(flavour, emulator))
    handle = await call(client, "start", APP, JOB)
    emulator.expire_tokens()
    await call(client, "monitor_job", handle.batch_request_id)

    [monitor] = otel.named(f"amtopcon {w.MONITOR_JOB}")
    attempts = otel.attempts(monitor)
    assert [a.attributes["http.response.status_code"] for a in attempts] == [401, 200]
    assert attempts[0].attributes["amtopcon.retry_reason"] == "token_refused"
    logons = [s for s in otel.children(monitor) if s.name == f"amtopcon {w.LOGON}"]
    assert len(logons) == 1  # the new Logon nests under the call that needed it
    assert otel.total("amtopcon.client.relogons") == 1
    assert otel.total("amtopcon.client.calls", **{"amtopcon.function": w.LOGON}) == 2
    await close(client)


async def test_a_failed_call_says_why_on_its_span_and_in_the_call_count(flavour: str, otel: Telemetry) -> None:
    client = otel.instrument(make(flavour, Emulator()))
    with pytest.raises(E.NotFoundError):
        await call(client, "monitor_job", 987654)
    [span] = otel.named(f"amtopcon {w.MONITOR_JOB}")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "amtopcon.errors.NotFoundError"
    assert [e.name for e in span.events] == ["exception"]
    assert otel.total("amtopcon.client.calls", **{"error.type": "amtopcon.errors.NotFoundError"}) == 1
    [attempt] = otel.attempts(span)
    assert attempt.attributes["error.type"] == "404"
    await close(client)


async def test_a_transport_failure_is_the_attempts_error_type(flavour: str, otel: Telemetry) -> None:
    emulator = Emulator()
    client = otel.instrument(make(flavour, emulator))
    await call(client, "logon")
    emulator.faults.drop_next(w.MONITOR_JOB, after_processing=False)
    with pytest.raises(E.NotFoundError):
        await call(client, "monitor_job", 987654)
    [span] = otel.named(f"amtopcon {w.MONITOR_JOB}")
    first = otel.attempts(span)[0]
    assert first.attributes["error.type"].startswith("httpx.")
    assert first.attributes["amtopcon.retry_reason"] == first.attributes["error.type"]
    assert "http.response.status_code" not in first.attributes
    await close(client)


# ------------------------------------------------------------------ waits


async def test_a_wait_is_a_span_with_an_event_per_status_change(flavour: str, otel: Telemetry) -> None:
    client = otel.instrument(make(flavour, Emulator()))
    handle = await call(client, "start", APP, JOB)
    seen: list[int] = []
    result = await wait(client, handle, poll=POLL, on_status=lambda s: seen.append(int(s.code)))

    [span] = otel.named("amtopcon wait")
    assert span.attributes["amtopcon.batch_request_id"] == handle.batch_request_id
    assert span.attributes["amtopcon.wait.kind"] == "wait"
    events = [e for e in span.events if e.name == "amtopcon.job.status"]
    assert [e.attributes["amtopcon.job.code"] for e in events] == seen  # once per change, as on_status
    assert events[-1].attributes["amtopcon.job.status"] == result.code.name
    assert span.attributes["amtopcon.job.code"] == int(result.code)
    checks = span.attributes["amtopcon.poll_checks"]
    assert checks == len(otel.named(f"amtopcon {w.MONITOR_JOB}"))
    assert otel.total("amtopcon.job.poll_checks", **{"amtopcon.wait.kind": "wait"}) == checks
    assert otel.total("amtopcon.jobs.ended", **{"amtopcon.job.code": int(result.code)}) == 1
    # the calls of the wait nest under it
    for monitor in otel.named(f"amtopcon {w.MONITOR_JOB}") + otel.named(f"amtopcon {w.GET_MESSAGES}"):
        assert monitor.parent is not None and monitor.parent.span_id == span.context.span_id
    await close(client)


async def test_an_outage_ridden_out_is_an_event_and_seconds_counted(flavour: str, otel: Telemetry) -> None:
    emulator = Emulator()
    client = otel.instrument(make(flavour, emulator, max_retries=0))
    handle = await call(client, "start", APP, JOB)
    emulator.faults.fail_next(w.MONITOR_JOB, 503, times=2)
    await wait(client, handle, poll=POLL)

    [span] = otel.named("amtopcon wait")
    failed = [e for e in span.events if e.name == "amtopcon.poll.failed"]
    assert [e.attributes["error.type"] for e in failed] == ["amtopcon.errors.InternalServerError"] * 2
    [outage] = [e for e in span.events if e.name == "amtopcon.outage.ended"]
    assert outage.attributes["amtopcon.outage.outcome"] == "recovered"
    seconds = outage.attributes["amtopcon.outage.seconds"]
    assert seconds >= 1.0  # at least one poll interval on the emulator's clock
    assert otel.total("amtopcon.job.outage.time", **{"amtopcon.outage.outcome": "recovered"}) == seconds
    assert otel.total("amtopcon.job.poll_checks", **{"error.type": "amtopcon.errors.InternalServerError"}) == 2
    await close(client)


async def test_a_wait_past_its_deadline_ends_its_span_with_the_error(flavour: str, otel: Telemetry) -> None:
    client = otel.instrument(make(flavour, Emulator()))
    handle = await call(client, "start", APP, JOB)
    with pytest.raises(E.WaitTimeoutError):
        await wait(client, handle, poll=POLL, timeout=1.5)
    [span] = otel.named("amtopcon wait")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "amtopcon.errors.WaitTimeoutError"
    assert otel.total("amtopcon.jobs.ended") == 0
    await close(client)


async def test_a_follow_left_early_is_a_span_that_ends_without_error(flavour: str, otel: Telemetry) -> None:
    client = otel.instrument(make(flavour, Emulator()))
    handle = await call(client, "start", APP, JOB)
    got = await follow_first(handle, 1)
    assert len(got) == 1
    [span] = otel.named("amtopcon follow")
    assert span.attributes["amtopcon.wait.kind"] == "follow"
    assert span.status.status_code is StatusCode.UNSET and "error.type" not in span.attributes
    for page in otel.named(f"amtopcon {w.GET_MESSAGES}"):
        assert page.parent is not None and page.parent.span_id == span.context.span_id
    # nothing is left current once the follow is closed: a later call is a root span
    await call(client, "heartbeat")
    [beat] = otel.named(f"amtopcon {w.HEARTBEAT}")
    assert beat.parent is None
    await close(client)


# ------------------------------------------------------------------ secrets


def _walk(value: Any) -> Iterator[str]:
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _walk(item)
    else:
        yield str(value)


async def test_no_span_event_or_metric_attribute_holds_the_password_or_a_token(flavour: str, otel: Telemetry) -> None:
    emulator = Emulator()
    client = otel.instrument(make(flavour, emulator))
    password = client._password.value
    assert password
    tokens: list[str] = []
    handle = await call(client, "start", APP, JOB, parameters=["P1"])
    tokens.append(client._auth.token.value)
    emulator.faults.fail_next(w.MONITOR_JOB, 503)
    await wait(client, handle, poll=POLL)
    emulator.expire_tokens()
    await call(client, "get_messages", handle.batch_request_id)
    tokens.append(client._auth.token.value)
    with pytest.raises(E.NotFoundError):
        await call(client, "monitor_job", 987654)
    bad = otel.instrument(make(flavour, emulator, password="not-" + password))
    with pytest.raises(E.AuthenticationError):
        await call(bad, "monitor_job", handle.batch_request_id)
    assert all(tokens) and tokens[0] != tokens[1]

    secrets = [password, "not-" + password, *tokens]
    texts: list[str] = []
    for span in otel.spans:
        texts += [span.name, *(f"{k}={v}" for k, val in (span.attributes or {}).items() for v in _walk(val))]
        texts.append(str(span.status.description))
        for event in span.events:
            texts += [event.name, *(f"{k}={v}" for k, val in (event.attributes or {}).items() for v in _walk(val))]
    for points in otel.metrics().values():
        for attrs, _ in points:
            texts += [f"{k}={v}" for k, v in attrs.items()]
    assert len(otel.spans) > 10 and any("exception" in t for t in texts)  # errors were recorded too
    leaks = [t for t in texts for s in secrets if s in t]
    assert leaks == []
    await close(bad)
    await close(client)


# ------------------------------------------------------------------ switching it on and off


async def test_with_options_copies_keep_it_and_uninstrument_stops_it(flavour: str, otel: Telemetry) -> None:
    client = otel.instrument(make(flavour, Emulator()))
    copy = client.with_options(max_retries=1)
    assert is_instrumented(copy)
    await call(copy, "heartbeat")
    assert len(otel.named(f"amtopcon {w.HEARTBEAT}")) == 1
    assert uninstrument(client) is client and not is_instrumented(client)
    await call(client, "heartbeat")
    assert len(otel.named(f"amtopcon {w.HEARTBEAT}")) == 1
    await close(client)


def test_instrument_refuses_what_is_not_a_client() -> None:
    with pytest.raises(E.ValidationError) as info:
        instrument(object())  # type: ignore[type-var]
    assert info.value.field == "client"


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_nothing_of_opentelemetry_is_imported_unless_amtopcon_otel_is() -> None:
    done = _run(
        """
        import sys, anyio
        import amtopcon
        from amtopcon.testing import Emulator
        emulator = Emulator()
        with emulator.client() as client:
            result = client.run("DEMO2", "RUN_PARAMETERTESTA", parameters=["P"])
            client.job(result.status.batch_request_id).messages()
            client.heartbeat()
        async def main():
            async with emulator.async_client() as client:
                handle = await client.start("DEMO2", "RUN_PARAMETERTESTA")
                await handle.wait()
                async for _ in client.job(handle.batch_request_id).follow():
                    pass
        anyio.run(main)
        loaded = sorted(m for m in sys.modules if m.split(".")[0] == "opentelemetry")
        print("LOADED", loaded)
        import amtopcon.otel
        print("AFTER", any(m.split(".")[0] == "opentelemetry" for m in sys.modules))
        """
    )
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stdout
    assert "AFTER True" in done.stdout


@pytest.mark.slow
def test_without_opentelemetry_amtopcon_works_and_amtopcon_otel_names_the_extra() -> None:
    done = _run(
        """
        import sys
        sys.modules["opentelemetry"] = None  # as if opentelemetry-api were not installed
        from amtopcon.testing import Emulator
        with Emulator().client() as client:
            client.run("DEMO2", "RUN_PARAMETERTESTA")
        try:
            import amtopcon.otel
        except ImportError as exc:
            from amtopcon.errors import MissingDependencyError
            assert isinstance(exc, MissingDependencyError), type(exc)
            print("PACKAGE", exc.package)
            print("MESSAGE", exc)
        """
    )
    assert done.returncode == 0, done.stderr
    assert "PACKAGE opentelemetry-api" in done.stdout
    assert "amtopcon[otel]" in done.stdout
