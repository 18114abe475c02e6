"""The DAGs the provider's tests run with `dag.test()` (copied into the test's DAGs folder)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG

from amtopcon.airflow import AmtOpConJobOperator, AmtOpConJobSensor

#: Fast polling on the real clock (the emulator's clock is what the tests control).
POLL = {"initial_delay": 0.05, "interval": 0.1, "backoff": 1.0, "max_interval": 0.1, "jitter": 0.0, "max_outage": 30}
START = datetime(2026, 1, 1)


class CrashAfterStartOperator(AmtOpConJobOperator):
    """Dies, on its first try only, right after START: as a worker lost before it could defer."""

    def execute(self, context: Any) -> Any:
        self._try_number = context["ti"].try_number
        return super().execute(context)

    def defer(self, **kwargs: Any) -> Any:
        if self._try_number == 1:
            raise RuntimeError("simulated worker crash after START")
        return super().defer(**kwargs)


def _dag(dag_id: str) -> DAG:
    return DAG(dag_id, schedule=None, start_date=START, catchup=False)


with _dag("amt_deferred") as amt_deferred:
    AmtOpConJobOperator(task_id="run", application="AFLOW", job="STEPS", parameters=["'{{ ds }}'"], poll=POLL)

with _dag("amt_in_worker") as amt_in_worker:
    AmtOpConJobOperator(task_id="run", application="AFLOW", job="STEPS", poll=POLL, deferrable=False)

with _dag("amt_fails") as amt_fails:
    AmtOpConJobOperator(task_id="run", application="AFLOW", job="FAILS", poll=POLL)

with _dag("amt_error_accepted") as amt_error_accepted:
    AmtOpConJobOperator(task_id="run", application="AFLOW", job="FAILS", poll=POLL, success_codes={4, 11})

with _dag("amt_aborted_refused") as amt_aborted_refused:
    AmtOpConJobOperator(task_id="run", application="AFLOW", job="ABORTS", poll=POLL, success_codes={4, 11})

with _dag("amt_crash_retry") as amt_crash_retry:
    CrashAfterStartOperator(
        task_id="run", application="AFLOW", job="STEPS", poll=POLL, retries=1, retry_delay=timedelta(0)
    )

with _dag("amt_unknown_start") as amt_unknown_start:
    AmtOpConJobOperator(task_id="run", application="AFLOW", job="STEPS", poll=POLL, retries=1, retry_delay=timedelta(0))

with _dag("amt_unknown_start_reconciled") as amt_unknown_start_reconciled:
    AmtOpConJobOperator(
        task_id="run",
        application="AFLOW",
        job="STEPS",
        poll=POLL,
        retries=1,
        retry_delay=timedelta(0),
        reconcile_by_task_id=True,
    )

with _dag("amt_sensor") as amt_sensor:
    AmtOpConJobSensor(task_id="wait", batch_request_id="{{ params.brid }}", poll=POLL, params={"brid": 0})
