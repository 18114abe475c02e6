"""`AmtOpConJobSensor`: wait for an AMT job started elsewhere (by OpCon), by its BatchRequestId."""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowSensorTimeout

from amtopcon import PollPolicy
from amtopcon.airflow._criteria import check_success_codes
from amtopcon.airflow._settings import DEFAULT_CONN_ID, poll_from_dict
from amtopcon.airflow.hooks import AmtOpConHook
from amtopcon.airflow.operators import complete_from_event, finish
from amtopcon.airflow.triggers import AmtOpConJobTrigger
from amtopcon.errors import ValidationError

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["AmtOpConJobSensor"]


def _batch_request_id(value: object) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if isinstance(value, bool) or number <= 0:
        raise ValidationError(
            f"batch_request_id: expected a positive integer, got {value!r}", field="batch_request_id"
        ) from None
    return number


class AmtOpConJobSensor(BaseSensorOperator):
    """Wait for an AMT batch job that something else started, given its `BatchRequestId`.

    Succeeds when the job ends with a code in `success_codes` (default: DONE only) and
    pushes its `JobResult.to_dict()` to XCom; fails, with the code and the last messages,
    when it ends otherwise. It never stops or kills the job: not on its `timeout`, and
    not when the task is killed (the job is not this task's).

    Args:
        batch_request_id: the job's `BatchRequestId` (templated: e.g. from an upstream XCom).
        amtopcon_conn_id: the Airflow connection (default `amtopcon_default`).
        success_codes: the completion codes that count as a success (None: only DONE, 4).
        poll: a `PollPolicy` (or a dict of its fields) for the deferred wait; None: the connection's.
        deferrable: wait in the triggerer (default) instead of poking from a worker.
        log_messages: write each job message to the task log as it comes (deferred mode).
        **kwargs: the `BaseSensorOperator` arguments (`timeout`, `poke_interval`, `mode`, ...).
    """

    template_fields: Sequence[str] = ("batch_request_id",)

    def __init__(
        self,
        *,
        batch_request_id: int | str,
        amtopcon_conn_id: str = DEFAULT_CONN_ID,
        success_codes: Collection[int] | None = None,
        poll: PollPolicy | Mapping[str, Any] | None = None,
        deferrable: bool = True,
        log_messages: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.batch_request_id = batch_request_id
        self.amtopcon_conn_id = amtopcon_conn_id
        self.success_codes = check_success_codes(success_codes)
        self.poll = poll_from_dict(poll)
        self.deferrable = deferrable
        self.log_messages = log_messages
        self._result: dict[str, Any] | None = None

    @property
    def hook(self) -> AmtOpConHook:
        """The hook of `amtopcon_conn_id`."""
        return AmtOpConHook(self.amtopcon_conn_id)

    def poke(self, context: Context) -> bool:
        """One MonitorJob: True once the job has ended by the criteria; raises when it ended otherwise."""
        brid = _batch_request_id(self.batch_request_id)
        with self.hook.get_conn() as client:
            status = client.monitor_job(brid)
            self.log.info("AMT job %d: %s (%d)", brid, status.code.name, int(status.code))
            if not status.is_terminal:
                return False
            self._result = finish(client, status, self.success_codes)
        return True

    def execute(self, context: Context) -> Any:
        """Check once; defer when the job still runs (deferrable), else poke as `BaseSensorOperator` does."""
        if not self.deferrable:
            super().execute(context)
            return self._result
        if self.poke(context):
            return self._result
        self.defer(
            trigger=AmtOpConJobTrigger(
                batch_request_id=_batch_request_id(self.batch_request_id),
                amtopcon_conn_id=self.amtopcon_conn_id,
                poll=self.poll,
                deadline=time.time() + float(self.timeout),
                kill_on_timeout=False,
                cancel_on_kill=False,
                log_messages=self.log_messages,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: Mapping[str, Any]) -> Any:
        """Resume after the trigger fired: the result, or the failure it reports."""
        if event.get("outcome") == "timeout":
            raise AirflowSensorTimeout(
                f"AMT job {event.get('batch_request_id')} had not ended after {float(self.timeout):g}s"
            )
        with self.hook.get_conn() as client:
            return complete_from_event(client, event, self.success_codes)
