"""The server side of the contract (the emulator): reading requests as a server does and
writing answers. No I/O."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from amtopcon._wire.names import (
    ACTIONS,
    DEFAULT_STATION,
    DEFAULT_SUBMIT_USER,
    F_ACTION,
    F_APPLICATION,
    F_BATCH_REQUEST_ID,
    F_DESCRIPTION,
    F_ENDED_AT,
    F_ERROR_CODE,
    F_FILE_NAME,
    F_HAS_MORE,
    F_JOB_NAME,
    F_MESSAGE,
    F_MESSAGES,
    F_NAME,
    F_PARAMETERS,
    F_QUEUE,
    F_RUN_AS,
    F_SEQUENCE,
    F_SEVERITY,
    F_STARTED_AT,
    F_STATION,
    F_STATUS,
    F_STATUS_TEXT,
    F_SUBMIT_USER,
    F_SUBMITTED_AT,
    F_TASK_ID,
    F_TASK_VALUES,
    F_TEXT,
    F_TIMESTAMP,
    F_TOKEN,
    F_VALUE,
    HEARTBEAT_OK,
    ci_getter,
)
from amtopcon._wire.requests import StartRequest, validate_batch_request_id
from amtopcon.errors import ValidationError
from amtopcon.models import ActionResult, JobStatus, Message, TaskValue


def start_request_from_wire(body: Any) -> StartRequest:
    """Read a START body (server side: the emulator); `ValidationError` names the field."""
    if not isinstance(body, Mapping):
        raise ValidationError("body: expected a JSON object", field="body")
    get = ci_getter(body)
    app = get(F_APPLICATION)
    params = get(F_PARAMETERS)
    if params is None:
        params = []
    if not isinstance(params, list):
        raise ValidationError(f"{F_PARAMETERS}: expected a list", field=F_PARAMETERS)
    raw_tvs = get(F_TASK_VALUES)
    if raw_tvs is None:
        raw_tvs = []
    if not isinstance(raw_tvs, list):
        raise ValidationError(f"{F_TASK_VALUES}: expected a list", field=F_TASK_VALUES)
    tvs = []
    for item in raw_tvs:
        if not isinstance(item, Mapping):
            raise ValidationError(f"{F_TASK_VALUES}: expected objects with Name and Value", field=F_TASK_VALUES)
        iget = ci_getter(item)
        name, value = iget(F_NAME), iget(F_VALUE)
        if not isinstance(name, str) or not isinstance(value, str):
            raise ValidationError(f"{F_TASK_VALUES}: Name and Value must be strings", field=F_TASK_VALUES)
        tvs.append(TaskValue(name, value))
    task_id = get(F_TASK_ID)
    submit_user = get(F_SUBMIT_USER)
    station = get(F_STATION)
    req = StartRequest(
        application=app,
        job=get(F_JOB_NAME),
        file_name=get(F_FILE_NAME),
        run_as=get(F_RUN_AS),
        submit_user=DEFAULT_SUBMIT_USER if submit_user is None else submit_user,
        station=DEFAULT_STATION if station is None else station,
        queue=get(F_QUEUE),
        parameters=tuple(params),
        task_values=tuple(tvs),
        task_id=str(uuid.uuid4()) if task_id is None else task_id,
    )
    return req.validate()


def read_action(body: Any) -> tuple[str, int | None]:
    """Read `Action` (and `BatchRequestId` for STOP/KILL) from a request body (server side)."""
    if not isinstance(body, Mapping):
        raise ValidationError("body: expected a JSON object", field="body")
    get = ci_getter(body)
    action = get(F_ACTION)
    if not isinstance(action, str) or action.upper() not in ACTIONS:
        raise ValidationError(f"{F_ACTION}: expected START, STOP or KILL, got {action!r}", field=F_ACTION)
    action = action.upper()
    if action == "START":
        return action, None
    brid = get(F_BATCH_REQUEST_ID)
    if isinstance(brid, float) and brid.is_integer():  # JSON's 2112.0 is the integer 2112 (JSON Schema agrees)
        brid = int(brid)
    return action, validate_batch_request_id(brid)


# --------------------------------------------------------------------------- server side


def error_body(error_code: str, message: str) -> dict[str, str]:
    """`{"ErrorCode": ..., "Message": ...}`."""
    return {F_ERROR_CODE: error_code, F_MESSAGE: message}


def logon_body(token: str) -> dict[str, str]:
    """A Logon answer."""
    return {F_TOKEN: token}


def heartbeat_body(ok: bool = True) -> dict[str, str]:
    """A HeartBeat answer."""
    return {F_STATUS: HEARTBEAT_OK if ok else "DOWN"}


def action_result_body(result: ActionResult) -> dict[str, Any]:
    """An OpConJobAction answer."""
    return {
        F_BATCH_REQUEST_ID: result.batch_request_id,
        F_STATUS: int(result.code),
        F_STATUS_TEXT: result.status_text if result.status_text is not None else result.code.name,
        F_MESSAGE: result.message,
    }


def job_status_body(status: JobStatus) -> dict[str, Any]:
    """A MonitorJob answer."""

    def ts(value: Any) -> str | None:
        return None if value is None else value.isoformat(timespec="milliseconds")

    return {
        F_BATCH_REQUEST_ID: status.batch_request_id,
        F_APPLICATION: status.application,
        F_JOB_NAME: status.job_name,
        F_STATUS: int(status.code),
        F_STATUS_TEXT: status.status_text if status.status_text is not None else status.code.name,
        F_DESCRIPTION: status.description,
        F_SUBMITTED_AT: ts(status.submitted_at),
        F_STARTED_AT: ts(status.started_at),
        F_ENDED_AT: ts(status.ended_at),
    }


def message_page_body(batch_request_id: int, messages: Sequence[Message], has_more: bool) -> dict[str, Any]:
    """A GetMessages answer."""
    return {
        F_BATCH_REQUEST_ID: batch_request_id,
        F_HAS_MORE: has_more,
        F_MESSAGES: [
            {
                F_SEQUENCE: m.sequence,
                F_TIMESTAMP: None if m.timestamp is None else m.timestamp.isoformat(timespec="milliseconds"),
                F_SEVERITY: m.severity,
                F_TEXT: m.text,
            }
            for m in messages
        ],
    }
