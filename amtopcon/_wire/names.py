"""The contract's names: functions and their methods, headers, query parameters, body
fields, error codes and limits. Nothing else in the package spells them (a test holds it).

It imports nothing, so `amtopcon.errors` and `amtopcon.config` may read it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

SERVICE_PATH: Final = "/AmtOpConService/"

# Functions (relative to the base URL) and their HTTP methods.
LOGON: Final = "Logon"
HEARTBEAT: Final = "HeartBeat"
JOB_ACTION: Final = "OpConJobAction"
MONITOR_JOB: Final = "MonitorJob"
GET_MESSAGES: Final = "GetMessages"
FUNCTIONS: Final = (LOGON, HEARTBEAT, JOB_ACTION, MONITOR_JOB, GET_MESSAGES)
#: The same names as a type (what the emulator's `faults.fail_next` and friends take).
FunctionName = Literal["Logon", "HeartBeat", "OpConJobAction", "MonitorJob", "GetMessages"]
METHODS: Final[Mapping[str, str]] = {
    LOGON: "POST",
    HEARTBEAT: "GET",
    JOB_ACTION: "POST",
    MONITOR_JOB: "GET",
    GET_MESSAGES: "GET",
}

# Headers.
H_TOKEN: Final = "X-AMT-LogonToken"
H_REQUEST_ID: Final = "X-Request-Id"
H_RETRY_AFTER: Final = "Retry-After"
H_CONTENT_TYPE: Final = "Content-Type"
JSON_TYPE: Final = "application/json"
#: The error answers of an ASP.NET service (RFC 9457 problem details).
PROBLEM_JSON_TYPE: Final = "application/problem+json"

# Query parameters.
Q_BATCH_REQUEST_ID: Final = "batchRequestId"
Q_AFTER_SEQUENCE: Final = "afterSequence"
Q_MAX_COUNT: Final = "maxCount"
DEFAULT_MAX_COUNT: Final = 1000

# Body fields.
F_USER_NAME: Final = "UserName"
F_PASSWORD: Final = "Password"
F_TOKEN: Final = "AmtLogonToken"
F_STATUS: Final = "Status"
F_ACTION: Final = "Action"
F_TASK_ID: Final = "TaskId"
F_APPLICATION: Final = "ApplicationName"
F_JOB_NAME: Final = "JobName"
F_FILE_NAME: Final = "FileName"
F_RUN_AS: Final = "RunAsUser"
F_SUBMIT_USER: Final = "SubmitUser"
F_STATION: Final = "Station"
F_QUEUE: Final = "QueueName"
F_PARAMETERS: Final = "Parameters"
F_TASK_VALUES: Final = "TaskValues"
F_NAME: Final = "Name"
F_VALUE: Final = "Value"
F_BATCH_REQUEST_ID: Final = "BatchRequestId"
F_STATUS_TEXT: Final = "StatusText"
F_MESSAGE: Final = "Message"
F_DESCRIPTION: Final = "Description"
F_SUBMITTED_AT: Final = "SubmittedAt"
F_STARTED_AT: Final = "StartedAt"
F_ENDED_AT: Final = "EndedAt"
F_HAS_MORE: Final = "HasMore"
F_MESSAGES: Final = "Messages"
F_SEQUENCE: Final = "Sequence"
F_TIMESTAMP: Final = "Timestamp"
F_SEVERITY: Final = "Severity"
F_TEXT: Final = "Text"
F_ERROR_CODE: Final = "ErrorCode"

# Problem details (RFC 9457), as ASP.NET writes them: the members of an error answer in the
# "aspnet" dialect (`errorCode` is the contract's ErrorCode as an extension member).
P_TYPE: Final = "type"
P_TITLE: Final = "title"
P_STATUS: Final = "status"
P_DETAIL: Final = "detail"
P_TRACE_ID: Final = "traceId"
P_ERRORS: Final = "errors"

#: The answer dialects of a server: the contract as written (PascalCase keys, millisecond
#: timestamps with an offset, `{"ErrorCode", "Message"}` errors), and ASP.NET 6's defaults
#: (camelCase keys, 7 fractional digits and no offset, `application/problem+json` errors).
Dialect = Literal["contract", "aspnet"]
DIALECTS: Final = ("contract", "aspnet")

HEARTBEAT_OK: Final = "OK"
ACTIONS: Final = ("START", "STOP", "KILL")
Action = Literal["START", "STOP", "KILL"]
DEFAULT_SUBMIT_USER: Final = "BATCH"
DEFAULT_STATION: Final = "OPCON"

# Error codes of the contract.
E_INVALID_REQUEST: Final = "INVALID_REQUEST"
E_AUTHENTICATION_FAILED: Final = "AUTHENTICATION_FAILED"
E_NOT_AUTHORIZED: Final = "NOT_AUTHORIZED"
E_JOB_NOT_FOUND: Final = "JOB_NOT_FOUND"
E_BATCH_REQUEST_NOT_FOUND: Final = "BATCH_REQUEST_NOT_FOUND"
E_ACTION_NOT_ALLOWED: Final = "ACTION_NOT_ALLOWED"
E_TOO_MANY_REQUESTS: Final = "TOO_MANY_REQUESTS"
E_INTERNAL_ERROR: Final = "INTERNAL_ERROR"
E_SERVER_BUSY: Final = "SERVER_BUSY"

# Limits of the contract's validation section.
MAX_NAME_LENGTH: Final = 128
MAX_PARAMETERS: Final = 256
MAX_PARAMETER_LENGTH: Final = 4096

# Response field -> model field, keyed by the lower-cased wire name (keys are read
# case-insensitively; unknown keys are ignored).
STATUS_FIELDS: Final = {
    F_BATCH_REQUEST_ID.lower(): "batch_request_id",
    F_STATUS.lower(): "code",
    F_STATUS_TEXT.lower(): "status_text",
    F_DESCRIPTION.lower(): "description",
    F_APPLICATION.lower(): "application",
    F_JOB_NAME.lower(): "job_name",
    F_SUBMITTED_AT.lower(): "submitted_at",
    F_STARTED_AT.lower(): "started_at",
    F_ENDED_AT.lower(): "ended_at",
}
ACTION_FIELDS: Final = {
    F_BATCH_REQUEST_ID.lower(): "batch_request_id",
    F_STATUS.lower(): "code",
    F_STATUS_TEXT.lower(): "status_text",
    F_MESSAGE.lower(): "message",
}
MESSAGE_FIELDS: Final = {
    F_SEQUENCE.lower(): "sequence",
    F_TIMESTAMP.lower(): "timestamp",
    F_SEVERITY.lower(): "severity",
    F_TEXT.lower(): "text",
}

Kind = Literal["read", "start", "action"]


# --------------------------------------------------------------------------- reading names
# Answers and requests are read case-insensitively (ASP.NET writes camelCase).


def lower_keys(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    """The mapping with its keys lower-cased, to read names case-insensitively (`.get(NAME.lower())`)."""
    return {str(k).lower(): v for k, v in mapping.items()}


def ci_getter(body: Mapping[str, Any]) -> Any:
    """A function that reads a field of `body` by its contract name, case-insensitively."""
    lowered = lower_keys(body)
    return lambda name: lowered.get(name.lower())
