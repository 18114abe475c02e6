"""The hook, the provider registration and the worker-side kill, against real Airflow."""

from __future__ import annotations

import json
import os

import pytest
from conftest import Served

from amtopcon import Client, CompletionCode
from amtopcon.airflow import AmtOpConHook, AmtOpConJobOperator
from amtopcon.errors import ValidationError


def test_airflow_finds_the_provider_and_its_connection_type() -> None:
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    manager = ProvidersManager()
    assert "amtopcon" in manager.providers
    assert "extra__amtopcon__poll_max_outage" in manager.connection_form_widgets  # the UI's form fields
    hook = ProvidersManagerTaskRuntime().hooks["amtopcon"]
    assert hook is not None and hook.hook_class_name == "amtopcon.airflow.hooks.AmtOpConHook"


def test_test_connection_logs_on(served: Served) -> None:
    ok, message = AmtOpConHook().test_connection()
    assert ok, message
    assert served.logons() == 1
    assert "opconxps" not in message


def test_test_connection_reports_a_refused_logon(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = json.loads(os.environ["AIRFLOW_CONN_AMTOPCON_DEFAULT"])
    conn["password"] = "wrong-password"
    monkeypatch.setenv("AIRFLOW_CONN_AMTOPCON_DEFAULT", json.dumps(conn))
    ok, message = AmtOpConHook().test_connection()
    assert not ok and "refused the logon" in message
    assert "wrong-password" not in message


def test_a_connection_given_as_a_uri_works(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    port = served.server.port
    monkeypatch.setenv(
        "AIRFLOW_CONN_AMTOPCON_DEFAULT", f"amtopcon://ocadm:opconxps@127.0.0.1:{port}/AmtOpConService?tls=false"
    )
    with AmtOpConHook().get_conn() as client:
        assert isinstance(client, Client)
        assert client.base_url == served.server.url
        assert client.heartbeat()


def test_on_kill_in_the_worker_kills_the_job_it_waits_for(served: Served) -> None:
    with Client(served.server.url, username="ocadm", password="opconxps") as client:
        brid = client.start("AFLOW", "LONG").batch_request_id
    operator = AmtOpConJobOperator(task_id="t", application="AFLOW", job="LONG", deferrable=False)
    operator._running = brid  # as while _wait_here follows it
    operator.on_kill()
    assert served.emulator.status(brid).code == CompletionCode.KILLED


def test_bad_operator_arguments_are_typed_errors() -> None:
    with pytest.raises(ValidationError) as caught:
        AmtOpConJobOperator(task_id="t", application="A", job="J", success_codes={2})
    assert caught.value.field == "success_codes"
    with pytest.raises(ValidationError) as caught:
        AmtOpConJobOperator(task_id="t", application="A", job="J", timeout=-1)
    assert caught.value.field == "timeout"
    with pytest.raises(ValidationError) as caught:
        AmtOpConJobOperator(task_id="t", application="A", job="J", poll={"interval": 0})
    assert caught.value.field == "interval"
