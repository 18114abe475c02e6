"""The server side of the contract (the emulator): reading requests as a server does and
writing answers. No I/O."""

from __future__ import annotations

import http
import secrets
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

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
    JSON_TYPE,
    P_DETAIL,
    P_ERRORS,
    P_STATUS,
    P_TITLE,
    P_TRACE_ID,
    P_TYPE,
    PROBLEM_JSON_TYPE,
    Dialect,
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


def timestamp(value: datetime | None, dialect: Dialect = "contract") -> str | None:
    """A timestamp as the dialect writes it: the contract's ISO 8601 with milliseconds and
    its offset, or ASP.NET's `DateTime` (7 fractional digits, no offset; the emulator
    writes UTC wall time)."""
    if value is None:
        return None
    if dialect == "aspnet":
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond:06d}0"
    return value.isoformat(timespec="milliseconds")


def job_status_body(status: JobStatus, dialect: Dialect = "contract") -> dict[str, Any]:
    """A MonitorJob answer."""

    def ts(value: Any) -> str | None:
        return timestamp(value, dialect)

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


def message_page_body(
    batch_request_id: int, messages: Sequence[Message], has_more: bool, dialect: Dialect = "contract"
) -> dict[str, Any]:
    """A GetMessages answer."""
    return {
        F_BATCH_REQUEST_ID: batch_request_id,
        F_HAS_MORE: has_more,
        F_MESSAGES: [
            {
                F_SEQUENCE: m.sequence,
                F_TIMESTAMP: timestamp(m.timestamp, dialect),
                F_SEVERITY: m.severity,
                F_TEXT: m.text,
            }
            for m in messages
        ],
    }


# --------------------------------------------------------------------------- the ASP.NET dialect


def camel_case(name: str) -> str:
    """`BatchRequestId` -> `batchRequestId`, as System.Text.Json's web defaults write names."""
    return name[:1].lower() + name[1:]


def in_dialect(data: Any, dialect: Dialect) -> Any:
    """A contract body with its keys as the dialect writes them (camelCase for "aspnet")."""
    if dialect != "aspnet":
        return data
    if isinstance(data, Mapping):
        return {camel_case(str(k)): in_dialect(v, dialect) for k, v in data.items()}
    if isinstance(data, list):
        return [in_dialect(v, dialect) for v in data]
    return data


#: The `type` links ASP.NET 6 writes for the client errors it describes by default.
_PROBLEM_TYPES: Final[Mapping[int, str]] = {
    400: "https://tools.ietf.org/html/rfc7231#section-6.5.1",
    401: "https://tools.ietf.org/html/rfc7235#section-3.1",
    403: "https://tools.ietf.org/html/rfc7231#section-6.5.3",
    404: "https://tools.ietf.org/html/rfc7231#section-6.5.4",
    405: "https://tools.ietf.org/html/rfc7231#section-6.5.5",
    409: "https://tools.ietf.org/html/rfc7231#section-6.5.8",
    500: "https://tools.ietf.org/html/rfc7231#section-6.6.1",
}
#: The title of ASP.NET's validation problems (`ValidationProblemDetails`).
VALIDATION_TITLE: Final = "One or more validation errors occurred."


def trace_id() -> str:
    """A W3C trace id as ASP.NET's `Activity.Current.Id` reads (`00-<32 hex>-<16 hex>-00`)."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"


def problem_body(
    status: int,
    error_code: str,
    message: str,
    trace: str,
    errors: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """An error answer in the "aspnet" dialect: RFC 9457 problem details as ASP.NET 6 writes
    them (`type`, `title`, `status`, `detail`, `traceId`), with the contract's ErrorCode as
    the extension member `errorCode`. With `errors`, a validation problem: ASP.NET's title,
    the messages by field, and no `detail`."""
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    body: dict[str, Any] = {
        P_TYPE: _PROBLEM_TYPES.get(status, "about:blank"),
        P_TITLE: VALIDATION_TITLE if errors else phrase,
        P_STATUS: status,
    }
    if errors:
        body[P_ERRORS] = {field: list(texts) for field, texts in errors.items()}
    else:
        body[P_DETAIL] = message
    body[P_TRACE_ID] = trace
    body[camel_case(F_ERROR_CODE)] = error_code
    return body


def content_type(dialect: Dialect, *, error: bool = False) -> str:
    """The Content-Type of an answer in the dialect (ASP.NET adds the charset, and problem+json for errors)."""
    if dialect != "aspnet":
        return JSON_TYPE
    return f"{PROBLEM_JSON_TYPE if error else JSON_TYPE}; charset=utf-8"
