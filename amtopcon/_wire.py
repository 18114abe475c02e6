"""The AMTOpCon wire contract: the only module that knows paths, headers and field names.

Pure functions, no I/O. The clients build requests and read answers through it; the
emulator reads requests and writes answers through it; a test holds the OpenAPI
document against it. A deployment whose server differs is adapted here, in one place.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Literal

import attrs

from amtopcon import _checks
from amtopcon._convert import StructureFailure, structure, structure_int
from amtopcon.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ValidationError,
)
from amtopcon.models import ActionResult, JobStatus, Message, MessagePage, TaskValue

# --------------------------------------------------------------------------- names

SERVICE_PATH: Final = "/AmtOpConService/"

# Functions (relative to the base URL) and their HTTP methods.
LOGON: Final = "Logon"
HEARTBEAT: Final = "HeartBeat"
JOB_ACTION: Final = "OpConJobAction"
MONITOR_JOB: Final = "MonitorJob"
GET_MESSAGES: Final = "GetMessages"
FUNCTIONS: Final = (LOGON, HEARTBEAT, JOB_ACTION, MONITOR_JOB, GET_MESSAGES)
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
_STATUS_FIELDS: Final = {
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
_ACTION_FIELDS: Final = {
    F_BATCH_REQUEST_ID.lower(): "batch_request_id",
    F_STATUS.lower(): "code",
    F_STATUS_TEXT.lower(): "status_text",
    F_MESSAGE.lower(): "message",
}
_MESSAGE_FIELDS: Final = {
    F_SEQUENCE.lower(): "sequence",
    F_TIMESTAMP.lower(): "timestamp",
    F_SEVERITY.lower(): "severity",
    F_TEXT.lower(): "text",
}

Kind = Literal["read", "start", "action"]


# --------------------------------------------------------------------------- requests


@attrs.frozen
class WireRequest:
    """One function call of the contract, ready to be sent (no token, no request id yet).

    Its HTTP method follows from the function (`METHODS`)."""

    function: str
    params: Mapping[str, str | int] = attrs.field(factory=dict)
    body: Mapping[str, Any] | None = None
    needs_token: bool = True
    kind: Kind = "read"
    task_id: str | None = None

    @property
    def method(self) -> str:
        """`GET` or `POST`, as the contract gives it for the function."""
        return METHODS[self.function]

    def __repr__(self) -> str:  # never show a body: Logon's carries the password
        return f"WireRequest({self.method} {self.function}, kind={self.kind})"


def logon_request(user: str, password: str) -> WireRequest:
    """`POST Logon` with the user and password."""
    return WireRequest(LOGON, body={F_USER_NAME: user, F_PASSWORD: password}, needs_token=False)


def heartbeat_request() -> WireRequest:
    """`GET HeartBeat` (no token)."""
    return WireRequest(HEARTBEAT, needs_token=False)


def monitor_request(batch_request_id: int) -> WireRequest:
    """`GET MonitorJob?batchRequestId=N`."""
    brid = validate_batch_request_id(batch_request_id)
    return WireRequest(MONITOR_JOB, params={Q_BATCH_REQUEST_ID: brid})


def messages_request(batch_request_id: int, after: int = 0, max_count: int | None = None) -> WireRequest:
    """`GET GetMessages?batchRequestId=N&afterSequence=A&maxCount=M` (both always sent)."""
    brid = validate_batch_request_id(batch_request_id)
    after = _checks.sequence(after, "after")
    count = DEFAULT_MAX_COUNT if max_count is None else _checks.integer(max_count, "max_count", minimum=1)
    return WireRequest(GET_MESSAGES, params={Q_BATCH_REQUEST_ID: brid, Q_AFTER_SEQUENCE: after, Q_MAX_COUNT: count})


@attrs.frozen
class StartRequest:
    """Everything a START carries; `validate()` applies the contract's rules."""

    application: str
    job: str | None = None
    file_name: str | None = None
    run_as: str | None = None
    submit_user: str = DEFAULT_SUBMIT_USER
    station: str = DEFAULT_STATION
    queue: str | None = None
    parameters: tuple[str, ...] = ()
    task_values: tuple[TaskValue, ...] = ()
    task_id: str = attrs.field(factory=lambda: str(uuid.uuid4()))

    def validate(self) -> StartRequest:
        """Raise `ValidationError` naming the field when a rule of the contract is broken."""
        validate_name(self.application, "application")
        if self.job is None and self.file_name is None:
            raise ValidationError("START needs a job name or a file name", field="job")
        if self.job is not None:
            validate_name(self.job, "job")
        if self.file_name is not None:
            validate_file_name(self.file_name)
        for name, value in (("run_as", self.run_as), ("queue", self.queue)):
            if value is not None:
                validate_name(value, name)
        validate_name(self.submit_user, "submit_user")
        validate_name(self.station, "station")
        validate_parameters(self.parameters)
        validate_task_values(self.task_values)
        validate_task_id(self.task_id)
        return self

    def to_wire(self) -> dict[str, Any]:
        """The START body, every field present, `null` where absent."""
        return {
            F_ACTION: "START",
            F_TASK_ID: self.task_id,
            F_APPLICATION: self.application,
            F_JOB_NAME: self.job,
            F_FILE_NAME: self.file_name,
            F_RUN_AS: self.run_as,
            F_SUBMIT_USER: self.submit_user,
            F_STATION: self.station,
            F_QUEUE: self.queue,
            F_PARAMETERS: list(self.parameters),
            F_TASK_VALUES: [{F_NAME: tv.name, F_VALUE: tv.value} for tv in self.task_values],
        }

    def to_request(self) -> WireRequest:
        """A `POST OpConJobAction` START, validated."""
        self.validate()
        return WireRequest(JOB_ACTION, body=self.to_wire(), kind="start", task_id=self.task_id)


def action_request(action: str, batch_request_id: int) -> WireRequest:
    """`POST OpConJobAction` with STOP or KILL."""
    if action not in ("STOP", "KILL"):
        raise ValidationError(f"action: expected STOP or KILL here, got {action!r}", field="action")
    brid = validate_batch_request_id(batch_request_id)
    return WireRequest(JOB_ACTION, body={F_ACTION: action, F_BATCH_REQUEST_ID: brid}, kind="action")


# --------------------------------------------------------------------------- validation

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_WINDOWS_ABS = re.compile(r"^[A-Za-z]:\\")


def validate_name(value: object, field: str) -> str:
    """1 to 128 characters, no control characters, no leading or trailing blanks."""
    if not isinstance(value, str):
        raise ValidationError(f"{field}: expected a string, got {type(value).__name__}", field=field)
    if not 1 <= len(value) <= MAX_NAME_LENGTH:
        raise ValidationError(f"{field}: must be 1 to {MAX_NAME_LENGTH} characters, got {len(value)}", field=field)
    if _CONTROL.search(value):
        raise ValidationError(f"{field}: must not contain control characters", field=field)
    if value != value.strip():
        raise ValidationError(f"{field}: must not start or end with blanks", field=field)
    return value


def validate_file_name(value: object) -> str:
    """An absolute path: `C:\\...`, `\\\\server\\share\\...` or `/...`."""
    field = "file_name"
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{field}: expected a non-empty string", field=field)
    if _CONTROL.search(value):
        raise ValidationError(f"{field}: must not contain control characters", field=field)
    if not (_WINDOWS_ABS.match(value) or value.startswith("\\\\") or value.startswith("/")):
        raise ValidationError(
            f"{field}: must be an absolute path (C:\\..., \\\\server\\share\\... or /...)", field=field
        )
    return value


def validate_parameters(values: Sequence[object]) -> tuple[str, ...]:
    """At most 256 parameters of at most 4,096 characters each."""
    field = "parameters"
    if isinstance(values, (str, bytes)):
        raise ValidationError(f"{field}: expected a list of strings, got a single string", field=field)
    items = tuple(values)
    if len(items) > MAX_PARAMETERS:
        raise ValidationError(f"{field}: at most {MAX_PARAMETERS} parameters, got {len(items)}", field=field)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise ValidationError(f"{field}[{i}]: expected a string, got {type(item).__name__}", field=field)
        if len(item) > MAX_PARAMETER_LENGTH:
            raise ValidationError(
                f"{field}[{i}]: at most {MAX_PARAMETER_LENGTH} characters, got {len(item)}", field=field
            )
    return items  # type: ignore[return-value]


def validate_task_values(values: Iterable[TaskValue]) -> tuple[TaskValue, ...]:
    """Names unique and non-empty; values strings."""
    field = "task_values"
    seen: set[str] = set()
    items = tuple(values)
    for tv in items:
        if not isinstance(tv.name, str) or not tv.name.strip():
            raise ValidationError(f"{field}: every name must be a non-empty string", field=field)
        if not isinstance(tv.value, str):
            raise ValidationError(f"{field}: value of {tv.name!r} must be a string", field=field)
        if tv.name in seen:
            raise ValidationError(f"{field}: duplicate name {tv.name!r}", field=field)
        seen.add(tv.name)
    return items


def validate_task_id(value: object) -> str:
    """A UUID string."""
    try:
        uuid.UUID(str(value))
    except ValueError:
        raise ValidationError(f"task_id: expected a UUID, got {value!r}", field="task_id") from None
    return str(value)


def validate_batch_request_id(value: object) -> int:
    """A positive integer (a string of digits is accepted)."""
    field = "batch_request_id"
    if isinstance(value, bool):
        raise ValidationError(f"{field}: expected a positive integer, got {value!r}", field=field)
    if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        value = int(value.strip())
    if not isinstance(value, int) or value <= 0:
        raise ValidationError(f"{field}: expected a positive integer, got {value!r}", field=field)
    return value


def start_request_from_wire(body: Any) -> StartRequest:
    """Read a START body (server side: the emulator); `ValidationError` names the field."""
    if not isinstance(body, Mapping):
        raise ValidationError("body: expected a JSON object", field="body")
    get = _ci_getter(body)
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
        iget = _ci_getter(item)
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


def lower_keys(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    """The mapping with its keys lower-cased, to read names case-insensitively (`.get(NAME.lower())`)."""
    return {str(k).lower(): v for k, v in mapping.items()}


def _ci_getter(body: Mapping[str, Any]) -> Any:
    lowered = lower_keys(body)
    return lambda name: lowered.get(name.lower())


def read_action(body: Any) -> tuple[str, int | None]:
    """Read `Action` (and `BatchRequestId` for STOP/KILL) from a request body (server side)."""
    if not isinstance(body, Mapping):
        raise ValidationError("body: expected a JSON object", field="body")
    get = _ci_getter(body)
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


# --------------------------------------------------------------------------- responses


def _excerpt(content: bytes) -> str:
    return content[:200].decode("utf-8", "replace")


def decode_json(content: bytes, *, status_code: int | None = None, request_id: str | None = None) -> Any:
    """Decode a JSON body; anything else raises `InvalidResponseError`."""
    if not content or not content.strip():
        raise InvalidResponseError(
            "the server answered with an empty body", status_code=status_code, request_id=request_id, body=""
        )
    try:
        return json.loads(content)
    except (ValueError, RecursionError):
        text = _excerpt(content)
        kind = "an HTML page" if text.lstrip()[:1] == "<" else "a body that is not valid JSON"
        raise InvalidResponseError(
            f"the server answered with {kind}", status_code=status_code, request_id=request_id, body=text
        ) from None


def _rename(data: Any, names: Mapping[str, str], what: str) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise StructureFailure(f"{what}: expected a JSON object, got {type(data).__name__}")
    out: dict[str, Any] = {}
    for key, value in data.items():
        field = names.get(str(key).lower())
        if field is not None and value is not None:
            out[field] = value
    return out


def _parse(data: Any, names: Mapping[str, str], cls: type[Any], what: str) -> Any:
    return structure(_rename(data, names, what), cls)


def _wrap(function: str, fn: Any, data: Any, status_code: int | None, request_id: str | None) -> Any:
    try:
        return fn(data)
    except StructureFailure as exc:
        raise InvalidResponseError(
            f"{function} answer does not match the contract: {exc.detail}",
            status_code=status_code,
            request_id=request_id,
            body=_excerpt(json.dumps(data, default=str).encode()),
        ) from None


def parse_logon(data: Any, *, status_code: int | None = None, request_id: str | None = None) -> str:
    """The token of a Logon answer."""

    def read(d: Any) -> str:
        if not isinstance(d, Mapping):
            raise StructureFailure(f"expected a JSON object, got {type(d).__name__}")
        token = _ci_getter(d)(F_TOKEN)
        if not isinstance(token, str) or not token:
            raise StructureFailure(f"{F_TOKEN}: expected a non-empty string")
        return token

    result: str = _wrap(LOGON, read, data, status_code, request_id)
    if _HEADER_VALUE.fullmatch(result) is None:
        # Sent back as the X-AMT-LogonToken header on every call: a token that cannot be a
        # header value would fail each later call inside httpx. The body is not quoted: it
        # holds the token, a secret.
        raise InvalidResponseError(
            f"{LOGON} answer does not match the contract: {F_TOKEN}: not a valid header value "
            "(printable ASCII without leading or trailing blanks)",
            status_code=status_code,
            request_id=request_id,
            body="",
        )
    return result


#: What a logon token must be to travel as an HTTP header value: printable ASCII, blanks
#: only inside (no CR, LF, NUL or other control characters, nothing outside ASCII).
_HEADER_VALUE: Final = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")


def parse_heartbeat(data: Any) -> bool:
    """True for exactly `{"Status": "OK"}` (keys case-insensitive)."""
    return isinstance(data, Mapping) and _ci_getter(data)(F_STATUS) == HEARTBEAT_OK


def parse_action_result(data: Any, *, status_code: int | None = None, request_id: str | None = None) -> ActionResult:
    """An OpConJobAction answer. A START answer's `BatchRequestId` <= 0 is checked by the caller."""
    result: ActionResult = _wrap(
        JOB_ACTION,
        lambda d: _parse(d, _ACTION_FIELDS, ActionResult, JOB_ACTION),
        data,
        status_code,
        request_id,
    )
    return result


def parse_job_status(data: Any, *, status_code: int | None = None, request_id: str | None = None) -> JobStatus:
    """A MonitorJob answer."""
    result: JobStatus = _wrap(
        MONITOR_JOB,
        lambda d: _parse(d, _STATUS_FIELDS, JobStatus, MONITOR_JOB),
        data,
        status_code,
        request_id,
    )
    return result


def parse_message_page(data: Any, *, status_code: int | None = None, request_id: str | None = None) -> MessagePage:
    """A GetMessages answer; messages come back ordered by sequence."""

    def read(d: Any) -> MessagePage:
        if not isinstance(d, Mapping):
            raise StructureFailure(f"expected a JSON object, got {type(d).__name__}")
        get = _ci_getter(d)
        raw = get(F_MESSAGES)
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            raise StructureFailure(f"{F_MESSAGES}: expected a list, got {type(raw).__name__}")
        messages = []
        for i, item in enumerate(raw):
            try:
                fields = _rename(item, _MESSAGE_FIELDS, F_MESSAGES)
                if "text" not in fields:  # required by the contract (Message's default "" is for callers)
                    raise StructureFailure(f"{F_TEXT}: required")
                messages.append(structure(fields, Message))
            except StructureFailure as exc:
                raise StructureFailure(f"{F_MESSAGES}[{i}]: {exc.detail}") from None
        messages.sort(key=lambda m: m.sequence)
        has_more = get(F_HAS_MORE)
        if has_more is None:
            has_more = False
        if not isinstance(has_more, bool):
            raise StructureFailure(f"{F_HAS_MORE}: expected true or false")
        brid = get(F_BATCH_REQUEST_ID)
        brid_value = None
        if brid is not None:
            try:
                brid_value = structure_int(brid)
            except ValueError as exc:
                raise StructureFailure(f"{F_BATCH_REQUEST_ID}: {exc}") from None
        return MessagePage(messages=tuple(messages), has_more=has_more, batch_request_id=brid_value)

    result: MessagePage = _wrap(GET_MESSAGES, read, data, status_code, request_id)
    return result


# --------------------------------------------------------------------------- errors

_STATUS_CLASSES: Final[Mapping[int, type[APIStatusError]]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}
_REASONS: Final[Mapping[int, str]] = {
    400: "the request was refused as invalid",
    401: "the credentials or the logon token were refused",
    403: "the user lacks the privilege in AMT Control Center",
    404: "not found",
    409: "the action is not allowed",
    429: "too many requests",
    500: "the service failed",
    502: "bad gateway",
    503: "the server is busy",
    504: "gateway timeout",
}


def error_class(status_code: int) -> type[APIStatusError]:
    """The exception class for a non-2xx status."""
    if status_code >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status_code, APIStatusError)


def status_error(
    status_code: int,
    content: bytes,
    *,
    request_id: str | None,
    retry_after: float | None = None,
    response: Any = None,
    attempts: int | None = None,
) -> APIStatusError:
    """Map a non-2xx answer to its typed error; any body (empty, HTML, truncated) is coped with."""
    error_code: str | None = None
    message: str | None = None
    try:
        data = json.loads(content) if content.strip() else None
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, Mapping):
        get = _ci_getter(data)
        ec, msg = get(F_ERROR_CODE), get(F_MESSAGE)
        error_code = ec if isinstance(ec, str) else None
        message = msg if isinstance(msg, str) else None
    if message is None:
        text = _excerpt(content).strip()
        reason = _REASONS.get(status_code, "unexpected status")
        message = reason if not text or text.startswith("<") or data is not None else f"{reason}: {text[:120]}"
    cls = error_class(status_code)
    return cls(
        message,
        status_code=status_code,
        error_code=error_code,
        request_id=request_id,
        retry_after=retry_after,
        response=response,
        attempts=attempts,
    )


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
