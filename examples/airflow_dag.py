"""An Airflow DAG that runs AMT batch jobs through amtopcon (`pip install 'amtopcon[airflow]'`).

It needs a connection `amtopcon_default`, e.g. from the environment:

    AIRFLOW_CONN_AMTOPCON_DEFAULT='{"conn_type": "amtopcon", "host": "amt.example.com", "port": 4004,
                                    "login": "ocadm", "password": "...", "extra": {"tls": true}}'
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from amtopcon.airflow import AmtOpConJobOperator, AmtOpConJobSensor

with DAG(
    "amt_nightly_reports",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
) as dag:
    report = AmtOpConJobOperator(
        task_id="report",
        application="DEMO2",
        job="RUN_PARAMETERTESTA",
        parameters=["'{{ ds }}'"],  # templated
        task_values={"PRIORITY": "5"},
        timeout=timedelta(hours=2),  # past it, the AMT job is killed and the task fails
        success_codes={4},  # DONE only (the default)
    )
    # Wait for a job OpCon started, by its BatchRequestId (here: the one the task above started).
    follow_up = AmtOpConJobSensor(
        task_id="follow_up",
        batch_request_id="{{ ti.xcom_pull(task_ids='report', key='batch_request_id') }}",
        timeout=3600,
    )
    report >> follow_up
