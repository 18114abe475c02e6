"""`dag.test()` of DAGs with the operator and the sensor, against the served emulator."""

from __future__ import annotations

import importlib.util
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import structlog
from conftest import DAGS, Served

from amtopcon import CompletionCode


def _dags() -> Any:
    spec = importlib.util.spec_from_file_location("amtopcon_test_dags", DAGS / "amtopcon_test_dags.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(dag_id: str, **kwargs: Any) -> Any:
    dag = getattr(_dags(), dag_id)
    return dag.test(**kwargs)


def _ti(dag_run: Any, task_id: str = "run") -> Any:
    (ti,) = [ti for ti in dag_run.get_task_instances() if ti.task_id == task_id]
    return ti


def _xcom(dag_run: Any, task_id: str = "run", key: str = "return_value") -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = (
            session.query(XComModel)
            .filter_by(dag_id=dag_run.dag_id, run_id=dag_run.run_id, task_id=task_id, key=key)
            .one_or_none()
        )
        return None if row is None else XComModel.deserialize_value(row)


def _wait_until(what: str, condition: Callable[[], bool], limit: float = 60.0) -> None:
    """Wait (in real time, bounded) for something the code under test does on its own."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


# ---------------------------------------------------------------------------- success


def test_deferred_run_logs_messages_while_the_job_runs_and_puts_the_result_in_xcom(
    served_virtual: Served, capfd: pytest.CaptureFixture[str]
) -> None:
    emulator = served_virtual.emulator
    seen: dict[str, Any] = {}
    marker = structlog.get_logger("tests_airflow.driver")  # the route the task log lines take

    def requests_since(index: int, function: str) -> int:
        return sum(1 for r in emulator.requests[index:] if r.function == function)

    def drive() -> None:
        # The job is STEPS (three 10 s steps) on a clock only this thread moves.
        _wait_until("the START", lambda: served_virtual.starts() == 1)
        (brid,) = emulator.batch_request_ids()
        seen["brid"] = brid
        for text in ("first step", "second step"):
            # The trigger logs a message as soon as it has read it, before its next status
            # check: once that check has come, the line is in the task log.
            mark = len(emulator.requests)
            _wait_until("a read", lambda m=mark: requests_since(m, "GetMessages") >= 1)
            mark = len(emulator.requests)
            _wait_until("the next round", lambda m=mark: requests_since(m, "MonitorJob") >= 1)
            seen[text] = emulator.status(brid).code
            marker.warning("TEST DRIVER: the job moves on past its %s now", text)
            emulator.advance(10)
        emulator.advance(10)

    driver = threading.Thread(target=drive, daemon=True)
    driver.start()
    dag_run = _run("amt_deferred")
    driver.join(timeout=10)
    log = capfd.readouterr().out

    assert _ti(dag_run).state == "success"
    brid = seen["brid"]
    # Deferred: the trigger, not the operator, wrote the messages.
    assert f"AMT job {brid} #1 INFO: first step" in next(
        line for line in log.splitlines() if "amtopcon.airflow.triggers.AmtOpConJobTrigger" in line
    )
    assert seen["first step"] == seen["second step"] == CompletionCode.RUNNING
    lines = [
        f"AMT job {brid} #1 INFO: first step",
        "TEST DRIVER: the job moves on past its first step",
        f"AMT job {brid} #2 INFO: second step",
        "TEST DRIVER: the job moves on past its second step",
        f"AMT job {brid} #3 INFO: third step",
    ]
    # In the task log, each message comes while the job still runs, before it moves on; each once.
    assert [log.count(line) for line in lines] == [1] * 5, log[-3000:]
    positions = [log.index(line) for line in lines]
    assert positions == sorted(positions)
    result = _xcom(dag_run)
    assert result["status"]["batch_request_id"] == brid
    assert result["status"]["code"] == int(CompletionCode.DONE)
    assert [m["text"] for m in result["messages"]] == ["first step", "second step", "third step"]
    assert _xcom(dag_run, key="batch_request_id") == brid
    assert served_virtual.starts() == 1


def test_the_job_parameters_are_rendered_templates(served: Served) -> None:
    dag_run = _run("amt_deferred")
    assert _ti(dag_run).state == "success"
    (start,) = [r for r in served.emulator.requests if r.function == "OpConJobAction"]
    ds = dag_run.logical_date.strftime("%Y-%m-%d")
    assert f"'{ds}'" in str(start.body)


def test_waiting_in_the_worker_logs_the_messages_and_returns_the_result(
    served: Served, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run = _run("amt_in_worker")
    log = capfd.readouterr().out
    assert _ti(dag_run).state == "success"
    assert "running trigger in line" not in log  # not deferred
    (brid,) = served.emulator.batch_request_ids()
    assert log.count(f"AMT job {brid} #3 INFO: third step") == 1
    assert _xcom(dag_run)["status"]["code"] == 4


def test_the_example_dag_runs(served: Served) -> None:
    spec = importlib.util.spec_from_file_location("airflow_dag", DAGS / "airflow_dag.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dag_run = module.dag.test()
    assert {ti.task_id: ti.state for ti in dag_run.get_task_instances()} == {
        "report": "success",
        "follow_up": "success",
    }
    assert served.starts() == 1


# ---------------------------------------------------------------------------- failure


def test_a_failed_job_fails_the_task_with_its_code_and_last_messages(
    served: Served, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run = _run("amt_fails")
    log = capfd.readouterr().out
    assert _ti(dag_run).state == "failed"
    (brid,) = served.emulator.batch_request_ids()
    assert f"AMT job {brid} (AFLOW/FAILS) ended ERROR (11): Report ended in error; success is DONE (4)" in log
    assert "#2 ERROR: ledger is locked" in log


def test_custom_success_codes_accept_an_error_the_dag_allows(served: Served) -> None:
    dag_run = _run("amt_error_accepted")
    assert _ti(dag_run).state == "success"
    assert _xcom(dag_run)["status"]["code"] == 11


def test_custom_success_codes_still_fail_other_codes(served: Served, capfd: pytest.CaptureFixture[str]) -> None:
    dag_run = _run("amt_aborted_refused")
    log = capfd.readouterr().out
    assert _ti(dag_run).state == "failed"
    assert "ended ABORTED (12); success is DONE (4), ERROR (11)" in log


# ---------------------------------------------------------------------------- retries


def test_a_retry_after_a_worker_crash_reattaches_to_the_running_job(
    served_virtual: Served, capfd: pytest.CaptureFixture[str]
) -> None:
    emulator = served_virtual.emulator

    def finish_once_reattached() -> None:
        # The clock stands still, so the job still runs when the retry looks at it.
        _wait_until("the retry's status check", lambda: any(r.function == "MonitorJob" for r in emulator.requests))
        emulator.advance(30)

    driver = threading.Thread(target=finish_once_reattached, daemon=True)
    driver.start()
    dag_run = _run("amt_crash_retry")
    driver.join(timeout=10)
    log = capfd.readouterr().out
    ti = _ti(dag_run)
    assert "simulated worker crash after START" in log
    assert ti.state == "success" and ti.try_number == 2
    (brid,) = emulator.batch_request_ids()  # exactly one batch request
    assert f"Re-attaching to AMT job {brid}" in log
    assert _xcom(dag_run)["status"]["batch_request_id"] == brid


def test_a_start_with_an_unknown_outcome_is_never_silently_started_again(
    served: Served, capfd: pytest.CaptureFixture[str]
) -> None:
    served.emulator.faults.drop_next("OpConJobAction", after_processing=True)
    dag_run = _run("amt_unknown_start")
    log = capfd.readouterr().out
    assert _ti(dag_run).state == "failed"
    assert served.starts() == 1  # the START landed; the retry did not send another
    assert "may or may not have queued the job" in log
    assert "put its BatchRequestId in the task state key 'amtopcon_job'" in log


def test_a_start_with_an_unknown_outcome_is_reconciled_by_task_id_when_allowed(
    served: Served, capfd: pytest.CaptureFixture[str]
) -> None:
    served.emulator.faults.drop_next("OpConJobAction", after_processing=True)
    dag_run = _run("amt_unknown_start_reconciled")
    log = capfd.readouterr().out
    assert _ti(dag_run).state == "success"
    assert "Repeating the START of TaskId" in log
    assert served.starts() == 1  # the emulator answered the repeated TaskId with the first job


# ---------------------------------------------------------------------------- sensor


def test_the_sensor_waits_for_a_job_started_elsewhere(served: Served) -> None:
    from amtopcon import Client

    with Client(served.server.url, username="ocadm", password="opconxps") as client:
        brid = client.start("AFLOW", "STEPS").batch_request_id
    dag_run = _run("amt_sensor", run_conf={"brid": brid})
    assert _ti(dag_run, "wait").state == "success"
    assert _xcom(dag_run, "wait")["status"]["batch_request_id"] == brid


def test_the_sensor_fails_when_the_job_fails(served: Served) -> None:
    from amtopcon import Client

    with Client(served.server.url, username="ocadm", password="opconxps") as client:
        brid = client.start("AFLOW", "FAILS").batch_request_id
    dag_run = _run("amt_sensor", run_conf={"brid": brid})
    assert _ti(dag_run, "wait").state == "failed"
