"""`AmtOpConJobOperator`: start an AMT batch job and wait for it, deferred or in the worker."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from amtopcon import Client, JobHandle, JobResult, JobStatus, Message, PollPolicy, TaskValue
from amtopcon.airflow._criteria import check_success_codes, describe_codes, succeeded
from amtopcon.airflow._settings import DEFAULT_CONN_ID, poll_from_dict
from amtopcon.airflow._state import STATE_KEY, JobState
from amtopcon.airflow.hooks import AmtOpConHook
from amtopcon.airflow.triggers import DEFAULT_TAIL, KILL_TIMEOUT, AmtOpConJobTrigger
from amtopcon.errors import AmtOpConError, NotFoundError, StartOutcomeUnknownError, ValidationError, WaitTimeoutError

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["AmtOpConJobOperator"]

#: How many of the last messages a failed task's error shows.
ERROR_MESSAGES: Final = 10


def _seconds(value: object, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or math.isnan(value):
        raise ValidationError(f"{name}: expected seconds > 0 or a timedelta, got {value!r}", field=name)
    return None if math.isinf(value) else float(value)


def _describe_job(status: JobStatus) -> str:
    job = f" ({status.application or '?'}/{status.job_name or '?'})" if status.application or status.job_name else ""
    return f"AMT job {status.batch_request_id}{job}"


def _last_lines(messages: Sequence[Message]) -> str:
    if not messages:
        return "\n  (the job wrote no messages)"
    return "".join(f"\n  #{m.sequence} {m.severity}: {m.text}" for m in messages[-ERROR_MESSAGES:])


def finish(
    client: Client,
    status: JobStatus,
    success_codes: Collection[int] | None,
    *,
    messages: Sequence[Message] | None = None,
) -> dict[str, Any]:
    """The ended job's `JobResult.to_dict()` when its code counts as a success; else raise.

    Reads the whole job log (unless `messages` is given) so the result is complete.

    Raises:
        AirflowException: the job ended with a code outside `success_codes`; the message
            gives the code, its meaning, the job's description and its last messages.
    """
    if messages is None:
        messages = client.job(status.batch_request_id).messages()
    result = JobResult(status, tuple(messages))
    if succeeded(int(status.code), success_codes):
        return result.to_dict()
    why = f": {status.description}" if status.description else ""
    raise AirflowException(
        f"{_describe_job(status)} ended {status.code.name} ({int(status.code)}){why}; "
        f"success is {describe_codes(success_codes)}. Last messages:{_last_lines(result.messages)}"
    )


def complete_from_event(
    client: Client, event: Mapping[str, Any], success_codes: Collection[int] | None
) -> dict[str, Any]:
    """Turn the trigger's event into the task's result, or raise the error it reports."""
    outcome = event.get("outcome")
    brid = event.get("batch_request_id")
    tail = [Message.from_dict(m) for m in event.get("tail") or ()]
    if outcome == "ended" and event.get("status"):
        return finish(client, JobStatus.from_dict(event["status"]), success_codes)
    if outcome == "timeout":
        what = "the job was killed" if event.get("killed") else "the job was left running"
        raise AirflowException(
            f"AMT job {brid} did not end by the task's deadline; {what}. Last messages:{_last_lines(tail)}"
        )
    if outcome == "error":
        raise AirflowException(
            f"waiting for AMT job {brid} failed: {event.get('error_type')}: {event.get('message')} "
            "(a retry re-attaches to the job if it still runs)"
        )
    raise AirflowException(f"unexpected event from AmtOpConJobTrigger: {dict(event)!r}")


class AmtOpConJobOperator(BaseOperator):
    """Start an AMT batch job through AMTOpCon and wait for it to end.

    The job's ids (its `TaskId`, chosen before START, and its `BatchRequestId`) are kept
    in the task state store (Airflow 3.3+; XCom before) under `amtopcon_job`, so that a
    retry after a worker crash re-attaches to the running job instead of starting a
    second one. The result, `JobResult.to_dict()`, goes to XCom (`return_value`); the
    `BatchRequestId` also goes to XCom as `batch_request_id`.

    Args:
        application: the AMT application (templated).
        job: the batch job (templated); may be None when `file_name` is given.
        file_name: a script path overriding the stored job definition (templated).
        parameters: script parameters, in order (templated).
        task_values: a mapping of task values (templated).
        run_as: the AMT user to run as (templated; default: the application's).
        submit_user: who submitted the request (templated; default `BATCH`).
        station: from where (templated; default `OPCON`).
        amt_queue: the AMT batch queue (templated; default: the server's). Not `queue`,
            which stays `BaseOperator`'s executor queue.
        amtopcon_conn_id: the Airflow connection (default `amtopcon_default`).
        poll: a `PollPolicy` (or a dict of its fields); None: the connection's.
        timeout: seconds (or a timedelta) the job may run; past it the job is killed
            (`kill_on_timeout`) and the task fails. None: no limit.
        success_codes: the completion codes that count as a success (None: only DONE, 4).
        deferrable: wait in the triggerer (default) instead of holding a worker slot.
        kill_on_timeout: KILL the job when `timeout` passes (default True).
        cancel_on_kill: KILL the job when a user kills the task (default True).
        reconcile_by_task_id: when an earlier try's START had an unknown outcome, repeat
            it with the same `TaskId` (only for servers that de-duplicate STARTs by it).
            False (default): fail, saying what to check.
        log_messages: write each job message to the task log as it comes (default True).
        **kwargs: the `BaseOperator` arguments (`task_id`, `retries`, ...).
    """

    template_fields: Sequence[str] = (
        "application",
        "job",
        "file_name",
        "parameters",
        "task_values",
        "run_as",
        "submit_user",
        "station",
        "amt_queue",
    )
    ui_color = "#e8f0fe"

    def __init__(
        self,
        *,
        application: str,
        job: str | None = None,
        file_name: str | None = None,
        parameters: Sequence[str] | None = None,
        task_values: Mapping[str, str] | Sequence[TaskValue] | None = None,
        run_as: str | None = None,
        submit_user: str | None = None,
        station: str | None = None,
        amt_queue: str | None = None,
        amtopcon_conn_id: str = DEFAULT_CONN_ID,
        poll: PollPolicy | Mapping[str, Any] | None = None,
        timeout: float | timedelta | None = None,
        success_codes: Collection[int] | None = None,
        deferrable: bool = True,
        kill_on_timeout: bool = True,
        cancel_on_kill: bool = True,
        reconcile_by_task_id: bool = False,
        log_messages: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.application = application
        self.job = job
        self.file_name = file_name
        self.parameters = parameters
        self.task_values = task_values
        self.run_as = run_as
        self.submit_user = submit_user
        self.station = station
        self.amt_queue = amt_queue
        self.amtopcon_conn_id = amtopcon_conn_id
        self.poll = poll_from_dict(poll)
        self.timeout = _seconds(timeout, "timeout")
        self.success_codes = check_success_codes(success_codes)
        self.deferrable = deferrable
        self.kill_on_timeout = kill_on_timeout
        self.cancel_on_kill = cancel_on_kill
        self.reconcile_by_task_id = reconcile_by_task_id
        self.log_messages = log_messages
        self._running: int | None = None  # the BatchRequestId this worker waits for

    @property
    def hook(self) -> AmtOpConHook:
        """The hook of `amtopcon_conn_id`."""
        return AmtOpConHook(self.amtopcon_conn_id)

    # -- start or re-attach
    def _start_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "parameters": list(self.parameters) if self.parameters is not None else None,
            "task_values": self.task_values,
            "run_as": self.run_as,
            "file_name": self.file_name,
            "queue": self.amt_queue,
        }
        if self.submit_user is not None:
            kwargs["submit_user"] = self.submit_user
        if self.station is not None:
            kwargs["station"] = self.station
        return kwargs

    def _reattach(self, client: Client, saved: Mapping[str, Any]) -> JobStatus | None:
        """The status of the job an earlier try started, when this try should carry it on; else None."""
        brid = int(saved["batch_request_id"])
        try:
            status = client.monitor_job(brid)
        except NotFoundError:
            self.log.warning("AMT job %d (saved by an earlier try) is unknown to the server; starting anew", brid)
            return None
        if not status.is_terminal:
            self.log.info("Re-attaching to AMT job %d, still %s (not starting it again)", brid, status.code.name)
            return status
        if succeeded(int(status.code), self.success_codes):
            self.log.info("AMT job %d already ended %s; not starting it again", brid, status.code.name)
            return status
        self.log.info("AMT job %d of an earlier try ended %s; starting a new one", brid, status.code.name)
        return None

    def _start(self, client: Client, state: JobState, context: Context, task_id: str | None) -> JobStatus:
        ti = context.get("ti")
        task_id = task_id or str(uuid.uuid4())
        try_number = getattr(ti, "try_number", None)
        # The TaskId is saved before START: if this worker dies before it hears the answer,
        # the next try knows which START to look for.
        state.set({"task_id": task_id, "try_number": try_number})
        try:
            handle = client.start(self.application, self.job, task_id=task_id, **self._start_kwargs())
        except StartOutcomeUnknownError as exc:
            raise AirflowException(
                f"{self._outcome_unknown(task_id, context)} ({type(exc.__cause__ or exc).__name__})"
            ) from exc
        except AmtOpConError:
            state.clear()  # the server refused it or never got it: nothing was started
            raise
        brid = handle.batch_request_id
        state.set({"task_id": task_id, "batch_request_id": brid, "try_number": try_number})
        if ti is not None:
            ti.xcom_push(key="batch_request_id", value=brid)
        self.log.info("Started AMT job %s/%s: BatchRequestId %d, TaskId %s", self.application, self.job, brid, task_id)
        status = handle.last_status
        assert status is not None
        return status

    def _outcome_unknown(self, task_id: str, context: Context) -> str:
        ti = context.get("ti")
        where = ""
        if ti is not None:
            where = (
                f" (REST API: /api/v2/dags/{ti.dag_id}/dagRuns/{ti.run_id}/taskInstances/{ti.task_id}"
                f"/state-store/{STATE_KEY})"
            )
        return (
            f"The START of AMT job {self.application}/{self.job} with TaskId {task_id} may or may not have "
            f"queued the job. Check AMT for a batch request with that TaskId before running this task again: "
            f"if there is one, put its BatchRequestId in the task state key {STATE_KEY!r} as "
            f'{{"task_id": "{task_id}", "batch_request_id": N}}{where} and the next try re-attaches to it; '
            f"if there is none, delete that key and the next try starts the job. On a server that "
            f"de-duplicates STARTs by TaskId, reconcile_by_task_id=True repeats the START safely."
        )

    def _attach_or_start(self, client: Client, context: Context) -> JobStatus:
        state = JobState(context)
        saved = state.get()
        task_id: str | None = None
        if saved and saved.get("done"):
            self.log.info("The job of an earlier try (%s) is over; starting a new one", saved.get("batch_request_id"))
        elif saved and saved.get("batch_request_id"):
            status = self._reattach(client, saved)
            if status is not None:
                return status
        elif saved and saved.get("task_id"):
            task_id = str(saved["task_id"])
            if not self.reconcile_by_task_id:
                raise AirflowFailException(self._outcome_unknown(task_id, context))
            self.log.info("Repeating the START of TaskId %s (the server de-duplicates by it)", task_id)
        elif not state.survives_retries:
            self.log.info("No task state store here: a retry cannot re-attach to this job")
        return self._start(client, state, context, task_id)

    # -- execute
    def execute(self, context: Context) -> Any:
        """Start the job (or re-attach to it), then defer or wait; returns `JobResult.to_dict()`."""
        with self.hook.get_conn() as client:
            status = self._attach_or_start(client, context)
            if status.is_terminal:  # checked before deferring: nothing to wait for
                return self._conclude(context, lambda: finish(client, status, self.success_codes))
            deadline = None if self.timeout is None else time.time() + self.timeout
            if self.deferrable:
                self.defer(
                    trigger=AmtOpConJobTrigger(
                        batch_request_id=status.batch_request_id,
                        amtopcon_conn_id=self.amtopcon_conn_id,
                        poll=self.poll,
                        deadline=deadline,
                        kill_on_timeout=self.kill_on_timeout,
                        cancel_on_kill=self.cancel_on_kill,
                        log_messages=self.log_messages,
                        tail=DEFAULT_TAIL,
                    ),
                    method_name="execute_complete",
                )
            return self._conclude(context, lambda: self._wait_here(client, status.batch_request_id, deadline))

    @staticmethod
    def _conclude(context: Context, outcome: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Run `outcome`; when the job is over (a result, or a failure by its code or deadline),
        mark the saved ids done. A failure to ask the service leaves them for a retry."""
        try:
            result = outcome()
        except AirflowException:
            JobState(context).conclude()
            raise
        JobState(context).conclude()
        return result

    def _wait_here(self, client: Client, brid: int, deadline: float | None) -> dict[str, Any]:
        handle: JobHandle = client.job(brid)
        self._running = brid
        messages: list[Message] = []
        try:
            timeout = None if deadline is None else max(deadline - time.time(), 0.0)
            for message in handle.follow(poll=self.poll, timeout=timeout):
                messages.append(message)
                if self.log_messages:
                    self.log.info("AMT job %d #%d %s: %s", brid, message.sequence, message.severity, message.text)
        except WaitTimeoutError:
            killed = self.kill_on_timeout and handle.kill(timeout=KILL_TIMEOUT)
            what = "the job was killed" if killed else "the job was left running"
            raise AirflowException(
                f"AMT job {brid} did not end within {self.timeout:g}s; {what}. Last messages:{_last_lines(messages)}"
            ) from None
        finally:
            self._running = None
        status = handle.last_status
        assert status is not None
        return finish(client, status, self.success_codes, messages=messages)

    def execute_complete(self, context: Context, event: Mapping[str, Any]) -> Any:
        """Resume after the trigger fired: the result, or the failure it reports."""
        with self.hook.get_conn() as client:
            if event.get("outcome") == "error":  # the job may still run: a retry re-attaches
                return complete_from_event(client, event, self.success_codes)
            return self._conclude(context, lambda: complete_from_event(client, event, self.success_codes))

    def on_kill(self) -> None:
        """The task was killed while this worker waited for the job: KILL it (`cancel_on_kill`)."""
        brid = self._running
        if brid is None or not self.cancel_on_kill:
            return
        try:
            with self.hook.get_conn() as client:
                killed = client.job(brid).kill(timeout=KILL_TIMEOUT)
            self.log.warning("AMT job %d: %s", brid, "KILL sent" if killed else "had already ended")
        except AmtOpConError as exc:
            self.log.error("AMT job %d: could not kill it: %s", brid, exc)
