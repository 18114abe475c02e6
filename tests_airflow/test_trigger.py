"""`AmtOpConJobTrigger` run to its event in an asyncio loop, as Airflow's triggerer runs it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Served, catalog, connection_json

from amtopcon import Client, CompletionCode
from amtopcon.airflow import AmtOpConJobTrigger
from amtopcon.airflow.triggers import shared_client_count
from amtopcon.testing import Emulator, EmulatorServer, SQLiteStore, persistent_clock

POLL = {"initial_delay": 0.05, "interval": 0.1, "backoff": 1.0, "max_interval": 0.1, "jitter": 0.0, "max_outage": 60}


async def run_trigger(trigger: AmtOpConJobTrigger) -> list[Any]:
    """Every event the trigger yields (the helper Airflow's own trigger tests use)."""
    return [event async for event in trigger.run()]


def _start(served: Served, job: str) -> int:
    with Client(served.server.url, username="ocadm", password="opconxps") as client:
        return client.start("AFLOW", job).batch_request_id


async def _until(what: str, condition: Callable[[], bool], limit: float = 30.0) -> None:
    """Wait (bounded) for something the trigger does on its own."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.02)


def _polled(emulator: Emulator, after: int = 0) -> Callable[[], bool]:
    return lambda: any(r.function == "MonitorJob" for r in emulator.requests[after:])


def test_it_serialises_ids_and_settings_and_no_secret(served: Served) -> None:
    trigger = AmtOpConJobTrigger(batch_request_id=2112, poll=POLL, deadline=1e12)
    classpath, kwargs = trigger.serialize()
    assert classpath == "amtopcon.airflow.triggers.AmtOpConJobTrigger"
    assert kwargs["batch_request_id"] == 2112 and kwargs["amtopcon_conn_id"] == "amtopcon_default"
    assert "opconxps" not in repr(kwargs) and "password" not in repr(kwargs)
    assert AmtOpConJobTrigger(**kwargs).serialize() == (classpath, kwargs)  # rebuilt elsewhere, the same
    no_limit = AmtOpConJobTrigger(batch_request_id=1, poll={**POLL, "max_outage": float("inf")})
    assert no_limit.serialize()[1]["poll"]["max_outage"] == "inf"  # JSON holds no infinity


def test_on_a_finished_job_it_yields_the_result_at_once(served_virtual: Served) -> None:
    brid = _start(served_virtual, "STEPS")
    served_virtual.emulator.advance(30)
    (event,) = asyncio.run(run_trigger(AmtOpConJobTrigger(batch_request_id=brid, poll=POLL)))
    payload = event.payload
    assert payload["outcome"] == "ended"
    assert payload["status"]["code"] == int(CompletionCode.DONE)
    assert [m["text"] for m in payload["tail"]] == ["first step", "second step", "third step"]
    assert payload["last_sequence"] == 3


def test_on_a_running_job_it_logs_each_message_once_and_yields_when_it_ends(
    served_virtual: Served, capfd: pytest.CaptureFixture[str]
) -> None:
    emulator = served_virtual.emulator
    brid = _start(served_virtual, "STEPS")

    async def scenario() -> list[Any]:
        task = asyncio.create_task(run_trigger(AmtOpConJobTrigger(batch_request_id=brid, poll=POLL)))
        await _until("a status check", _polled(emulator))
        mark = len(emulator.requests)
        await _until("a few more rounds", lambda: len(emulator.requests) > mark + 6)
        assert not task.done()  # the job runs: no event yet
        emulator.advance(30)
        return await task

    (event,) = asyncio.run(scenario())
    assert event.payload["outcome"] == "ended" and event.payload["status"]["code"] == 4
    out = capfd.readouterr().out
    for n, text in enumerate(("first step", "second step", "third step"), 1):
        assert out.count(f"AMT job {brid} #{n} INFO: {text}") == 1


def test_it_rides_out_an_emulator_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "emulator.sqlite3"

    emulators: list[Emulator] = []

    def serve(port: int = 0) -> EmulatorServer:
        store = SQLiteStore(db)
        emulators.append(Emulator(catalog=catalog(), clock=persistent_clock(store, 10.0), store=store))
        return EmulatorServer(emulators[-1], "127.0.0.1", port).start()

    server = serve()
    port = server.port
    monkeypatch.setenv("AIRFLOW_CONN_AMTOPCON_DEFAULT", connection_json(server.url))
    with Client(server.url, username="ocadm", password="opconxps") as client:
        brid = client.start("AFLOW", "STEPS").batch_request_id  # 30 s at 10x: 3 s
    outages: list[str] = []

    class Outage(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "still waiting" in record.getMessage():
                outages.append(record.getMessage())

    handler = Outage(logging.WARNING)
    logging.getLogger("amtopcon").addHandler(handler)

    async def scenario() -> list[Any]:
        nonlocal server
        task = asyncio.create_task(run_trigger(AmtOpConJobTrigger(batch_request_id=brid, poll=POLL)))
        await _until("a status check", _polled(emulators[0]))
        await asyncio.to_thread(server.close)
        await _until("the trigger to meet the outage", lambda: bool(outages))
        assert not task.done()
        server = await asyncio.to_thread(serve, port)  # same port, same database
        return await task

    try:
        (event,) = asyncio.run(scenario())
    finally:
        logging.getLogger("amtopcon").removeHandler(handler)
        server.close()
    assert outages
    assert event.payload["outcome"] == "ended"
    assert event.payload["status"]["code"] == 4
    assert event.payload["last_sequence"] == 3


def test_an_outage_longer_than_max_outage_yields_a_typed_error(served: Served) -> None:
    brid = _start(served, "LONG")
    served.server.close()
    poll = {**POLL, "max_outage": 0.3}
    (event,) = asyncio.run(run_trigger(AmtOpConJobTrigger(batch_request_id=brid, poll=poll)))
    assert event.payload["outcome"] == "error"
    assert event.payload["error_type"] in ("APIConnectionError", "APITimeoutError")


def test_a_deadline_kills_the_job(served: Served) -> None:
    brid = _start(served, "LONG")
    import time

    trigger = AmtOpConJobTrigger(batch_request_id=brid, poll=POLL, deadline=time.time() + 0.3)
    (event,) = asyncio.run(run_trigger(trigger))
    assert event.payload["outcome"] == "timeout" and event.payload["killed"] is True
    assert served.emulator.status(brid).code == CompletionCode.KILLED


# ---------------------------------------------------------------------------- kill and cleanup


async def _in_triggerer(trigger: AmtOpConJobTrigger, cancel: Callable[[asyncio.Task[Any]], None]) -> None:
    """Run the trigger through Airflow's TriggerRunner.run_trigger, then cancel it as the triggerer does."""
    from airflow.jobs.triggerer_job_runner import TriggerRunner

    runner = TriggerRunner()
    runner.triggers = {1: {"name": "amt", "events": 0}}
    task = asyncio.create_task(runner.run_trigger(1, trigger))
    await _until("the trigger to be running", lambda: shared_client_count() == 1)
    await asyncio.sleep(0.3)  # a few poll rounds (the job runs for an hour)
    cancel(task)
    with pytest.raises(asyncio.CancelledError):
        await task


def _run_in_triggerer(trigger: AmtOpConJobTrigger, cancel: Callable[[asyncio.Task[Any]], None]) -> None:
    asyncio.run(_in_triggerer(trigger, cancel))


def test_a_user_kill_kills_the_job(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.jobs.triggerer_job_runner import _USER_ACTION_CANCEL_MSG

    monkeypatch.setenv("AIRFLOW_DISABLE_GREENBACK_PORTAL", "true")
    brid = _start(served, "LONG")
    _run_in_triggerer(AmtOpConJobTrigger(batch_request_id=brid, poll=POLL), lambda t: t.cancel(_USER_ACTION_CANCEL_MSG))
    assert served.emulator.status(brid).code == CompletionCode.KILLED


def test_a_triggerer_restart_runs_cleanup_only_and_the_job_goes_on(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_DISABLE_GREENBACK_PORTAL", "true")
    brid = _start(served, "LONG")
    _run_in_triggerer(AmtOpConJobTrigger(batch_request_id=brid, poll=POLL), lambda t: t.cancel())
    assert served.emulator.status(brid).code == CompletionCode.RUNNING
    asyncio.run(AmtOpConJobTrigger(batch_request_id=brid).cleanup())
    assert served.emulator.status(brid).code == CompletionCode.RUNNING


def test_a_sensor_trigger_never_kills_a_job_it_did_not_start(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.jobs.triggerer_job_runner import _USER_ACTION_CANCEL_MSG

    monkeypatch.setenv("AIRFLOW_DISABLE_GREENBACK_PORTAL", "true")
    brid = _start(served, "LONG")
    trigger = AmtOpConJobTrigger(batch_request_id=brid, poll=POLL, cancel_on_kill=False)
    _run_in_triggerer(trigger, lambda t: t.cancel(_USER_ACTION_CANCEL_MSG))
    assert served.emulator.status(brid).code == CompletionCode.RUNNING


# ---------------------------------------------------------------------------- one client per connection


def test_triggers_in_one_loop_share_one_client_and_one_logon(served_virtual: Served) -> None:
    ids = [_start(served_virtual, "STEPS") for _ in range(20)]
    logons_before = served_virtual.logons()

    async def scenario() -> tuple[list[list[Any]], int]:
        tasks = [asyncio.create_task(run_trigger(AmtOpConJobTrigger(batch_request_id=i, poll=POLL))) for i in ids]
        await _until("every trigger to poll", lambda: shared_client_count() == 1 and _polled(served_virtual.emulator)())
        served_virtual.emulator.advance(30 * 20)  # the queue runs 4 at a time: every one ends
        events = await asyncio.gather(*tasks)
        return events, shared_client_count()

    events, left_open = asyncio.run(scenario())
    assert [e.payload["batch_request_id"] for (e,) in events] == ids
    assert all(e.payload["status"]["code"] == 4 for (e,) in events)
    assert served_virtual.logons() - logons_before == 1
    assert left_open == 0  # the last trigger out closed it


def test_a_bad_connection_is_a_typed_error_event(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_AMTOPCON_DEFAULT", '{"conn_type": "amtopcon", "host": "127.0.0.1", "extra": {"tls": "maybe"}}'
    )
    (event,) = asyncio.run(run_trigger(AmtOpConJobTrigger(batch_request_id=5)))
    assert event.payload["outcome"] == "error"
    assert event.payload["error_type"] == "ConfigError"
    assert "tls" in event.payload["message"]
