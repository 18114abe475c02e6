"""The client side of the contract, going out: every request the clients send, and the
rules its arguments must follow (names, parameters, task values, TaskId). No I/O."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from amtopcon import _validate
from amtopcon._constants import MAX_BATCH_REQUEST_ID
from amtopcon._wire.names import (
    ACTIONS,
    DEFAULT_MAX_COUNT,
    DEFAULT_STATION,
    DEFAULT_SUBMIT_USER,
    F_ACTION,
    F_APPLICATION,
    F_BATCH_REQUEST_ID,
    F_FILE_NAME,
    F_JOB_NAME,
    F_NAME,
    F_PARAMETERS,
    F_PASSWORD,
    F_QUEUE,
    F_RUN_AS,
    F_STATION,
    F_SUBMIT_USER,
    F_TASK_ID,
    F_TASK_VALUES,
    F_USER_NAME,
    F_VALUE,
    GET_MESSAGES,
    HEARTBEAT,
    JOB_ACTION,
    LOGON,
    MAX_NAME_LENGTH,
    MAX_PARAMETER_LENGTH,
    MAX_PARAMETERS,
    METHODS,
    MONITOR_JOB,
    Q_AFTER_SEQUENCE,
    Q_BATCH_REQUEST_ID,
    Q_MAX_COUNT,
    Kind,
)
from amtopcon.errors import ValidationError
from amtopcon.models import TaskValue, task_values_from

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
    after = _validate.sequence(after, "after")
    count = DEFAULT_MAX_COUNT if max_count is None else _validate.integer(max_count, "max_count", minimum=1)
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
        digits = value.strip().lstrip("0") or "0"
        if len(digits) > 19:  # past an Int64 (and Python's int() digit limit)
            raise ValidationError(f"{field}: expected a positive Int64, got {len(digits)} digits", field=field)
        value = int(digits)
    if not isinstance(value, int) or value <= 0:
        raise ValidationError(f"{field}: expected a positive integer, got {str(value)[:40]!r}", field=field)
    if value > MAX_BATCH_REQUEST_ID:
        raise ValidationError(f"{field}: expected a positive Int64, got a larger number", field=field)
    return value


# --------------------------------------------------------------------------- job_action's arguments


def start_request(
    application: str,
    job: str | None,
    *,
    parameters: Any = None,
    task_values: Any = None,
    run_as: str | None = None,
    file_name: str | None = None,
    submit_user: str = DEFAULT_SUBMIT_USER,
    station: str = DEFAULT_STATION,
    queue: str | None = None,
    task_id: str | None = None,
    xml_escape: bool = False,
) -> StartRequest:
    """Validate START arguments into a `StartRequest` (the TaskId is made here, once).

    `xml_escape`: the parameters' and the task values' text is sent with `&`, `<`, `>`,
    `"` and `'` as XML entities (the ACS plug-in's "Requires XML Escape Sequences"), for
    servers that embed them in XML; the limits apply to the escaped text.
    """
    if not isinstance(xml_escape, bool):
        raise ValidationError(f"xml_escape: expected True or False, got {xml_escape!r}", field="xml_escape")
    params = () if parameters is None else validate_parameters(parameters)
    values = task_values_from(task_values)
    if xml_escape:
        params = validate_parameters([escape_xml(p) for p in params])
        values = tuple(attrs.evolve(tv, value=escape_xml(tv.value)) for tv in values)
    kwargs: dict[str, Any] = {}
    if task_id is not None:
        kwargs["task_id"] = validate_task_id(task_id)
    return StartRequest(
        application=application,
        job=job,
        file_name=file_name,
        run_as=run_as,
        submit_user=submit_user,
        station=station,
        queue=queue,
        parameters=tuple(params),
        task_values=values,
        **kwargs,
    ).validate()


_START_OPTIONS: frozenset[str] = frozenset(
    {"parameters", "task_values", "run_as", "file_name", "submit_user", "station", "queue", "task_id", "xml_escape"}
)


def escape_xml(text: str) -> str:
    """`&`, `<`, `>`, `"` and `'` as XML entities (`xml_escape=True`)."""
    from xml.sax.saxutils import escape

    return escape(text, {'"': "&quot;", "'": "&apos;"})


def action_wire_request(
    action: str, *, application: Any, job: Any, batch_request_id: Any, start_kwargs: Mapping[str, Any]
) -> WireRequest:
    """The `job_action` arguments as a validated `WireRequest`."""
    if not isinstance(action, str) or action.upper() not in ACTIONS:
        raise ValidationError(f"action: expected START, STOP or KILL, got {action!r}", field="action")
    action = action.upper()
    unknown = sorted(set(start_kwargs) - _START_OPTIONS)
    if unknown:
        raise ValidationError(
            f"{unknown[0]}: not an option of job_action (START takes {', '.join(sorted(_START_OPTIONS))})",
            field=unknown[0],
        )
    if action == "START":
        if batch_request_id is not None:
            raise ValidationError("batch_request_id: not used by START", field="batch_request_id")
        if application is None:
            raise ValidationError("application: START needs an application name", field="application")
        return start_request(application, job, **start_kwargs).to_request()
    if batch_request_id is None:
        raise ValidationError(f"batch_request_id: {action} needs the job's BatchRequestId", field="batch_request_id")
    unused = [k for k, v in {"application": application, "job": job, **start_kwargs}.items() if v is not None]
    if unused:  # START's arguments would be silently dropped: say so instead
        raise ValidationError(f"{unused[0]}: not used by {action}", field=unused[0])
    return action_request(action, batch_request_id)


def target_of(wreq: WireRequest) -> int:
    """The BatchRequestId a STOP, KILL, MonitorJob or GetMessages request names."""
    if wreq.body is not None and F_BATCH_REQUEST_ID in wreq.body:
        return int(wreq.body[F_BATCH_REQUEST_ID])
    assert wreq.params is not None
    return int(dict(wreq.params)[Q_BATCH_REQUEST_ID])
