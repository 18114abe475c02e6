"""The data of the AMTOpCon contract: completion codes, statuses, messages, results.

Every model is a frozen, slotted attrs class that converts to and from a JSON-safe dict
(`to_dict()` / `from_dict()`) and pickles, so it can travel through a task queue.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from amtopcon import _validate
from amtopcon._logging import logger
from amtopcon.errors import JobFailedError, MissingDependencyError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from amtopcon.criteria import ExitCriteria

__all__ = [
    "ActionResult",
    "CompletionCode",
    "JobResult",
    "JobStatus",
    "Message",
    "MessagePage",
    "TaskValue",
]


_DESCRIPTIONS: dict[int, str] = {
    0: "job is idle",
    1: "queued for future start in the current timeframe",
    2: "started manually or by the scheduler",
    3: "terminated by a kill command",
    4: "completed normally",
    5: "queued job has not started on time",
    6: "suspended job skipped by Control Center",
    7: "started by Control Center",
    8: "forced start, even when the job server is halted",
    9: "a report started from Visual Studio",
    10: "deleted from the queue",
    11: "ended in error",
    12: "aborted on purpose in the business logic",
    13: "waiting for a file",
    14: "waiting for a request",
    15: "waiting for another job to finish",
    16: "waiting for a report to finish",
    18: "a request to recover from a saved critical point",
    19: "state is undefined",
    20: "waiting for queue start time",
    21: "waiting for a LION debugger session",
    22: "aborted with recover",
    23: "the web server failed or could not be reached (connector side)",
    24: "the credentials were refused (connector side)",
    99: "the named RunAs user does not exist",
}
_TERMINAL = frozenset({3, 4, 6, 10, 11, 12, 22, 23, 24, 99})
_WARNED: set[int] = set()


class CompletionCode(enum.IntEnum):
    """The AMT completion code table (MonitorJob reports the same codes for running jobs).

    A code outside the table (17, 25, ...) becomes a pseudo-member named `UNKNOWN_<n>`
    that keeps its raw integer, is not terminal, and is warned about once per code.
    """

    IDLE = 0
    QUEUED = 1
    RUNNING = 2
    KILLED = 3
    DONE = 4
    SUSPENDED = 5
    SKIPPED_BY_OPS = 6
    RUN_MANUAL = 7
    RUN_FORCED = 8
    RUN_DEBUG = 9
    DEL_QUEUE = 10
    ERROR = 11
    ABORTED = 12
    WAIT_FOR_FILE = 13
    WAIT_FOR_INPUT_REQUEST = 14
    WAIT_FOR_JOB = 15
    WAIT_FOR_REPORT = 16
    RECOVER_CP = 18
    UNDEFINED = 19
    WAIT_FOR_QUEUE = 20
    WAIT_FOR_DEBUGGER = 21
    ABORTED_WITH_RECOVER = 22
    WEB_SERVER_ERROR = 23
    AUTHENTICATION_ERROR = 24
    INVALID_AMT_USER = 99

    @classmethod
    def _missing_(cls, value: object) -> CompletionCode | None:
        if not isinstance(value, int) or not _validate.is_int(value):
            raise ValidationError(f"code: expected an AMT completion code (an integer), got {value!r}", field="code")
        known = cls._value2member_map_.get(value)
        if known is not None:
            return known  # type: ignore[return-value]
        pseudo = int.__new__(cls, value)
        pseudo._name_ = f"UNKNOWN_{value}"
        pseudo._value_ = value
        cls._value2member_map_[value] = pseudo
        if value not in _WARNED:
            _WARNED.add(value)
            logger.warning("AMT completion code %d is not in the code table; treating it as not finished", value)
        return pseudo

    @property
    def is_known(self) -> bool:
        """True for the codes of the contract's table."""
        return int(self) in _DESCRIPTIONS

    @property
    def is_terminal(self) -> bool:
        """True when the job has ended (3, 4, 6, 10, 11, 12, 22, 23, 24, 99)."""
        return int(self) in _TERMINAL

    @property
    def is_success(self) -> bool:
        """True only for DONE (4)."""
        return int(self) == 4

    @property
    def description(self) -> str:
        """The meaning of the code, from the vendor's table."""
        return _DESCRIPTIONS.get(int(self), "not in the AMT completion code table")

    def __repr__(self) -> str:
        return f"<CompletionCode.{self.name}: {int(self)}>"


_M = TypeVar("_M")


class _Serializable:
    """`to_dict()` / `from_dict()` through the package's one converter."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of this object (datetimes as ISO 8601 strings, codes as ints)."""
        from amtopcon._convert import to_dict

        return to_dict(self)

    @classmethod
    def from_dict(cls: type[_M], data: Mapping[str, Any]) -> _M:
        """Rebuild an object from `to_dict()` output; bad input raises `ValidationError`."""
        from amtopcon._convert import from_dict

        return from_dict(cls, data)


def _code(value: int | CompletionCode) -> CompletionCode:
    if isinstance(value, CompletionCode):
        return value
    if not _validate.is_int(value):  # True would pass as 1 (QUEUED)
        raise ValidationError(f"code: expected an AMT completion code (an integer), got {value!r}", field="code")
    return CompletionCode(value)


# Validators: a value of the wrong type is refused when the model is made (a ValidationError
# naming the field), not later in a repr, a comparison or to_dict().


_int = _validate.field_of("an integer", int)
_opt_int = _validate.field_of("an integer", int, optional=True)
_str = _validate.field_of("a string", str)
_opt_str = _validate.field_of("a string or None", str, optional=True)
_opt_datetime = _validate.field_of("a datetime or None", datetime, optional=True)
_bool = _validate.field_of("True or False", bool)


def _message_tuple(value: Iterable[Message]) -> tuple[Message, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"messages: expected a sequence of Message objects, got {type(value).__name__}", field="messages"
        )
    return tuple(value)


def _all_messages(instance: object, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    for item in value:
        _message_item(instance, attribute, item)


def _fmt_time(value: datetime | None) -> str:
    return "-" if value is None else value.isoformat()


@attrs.frozen
class TaskValue(_Serializable):
    """A named task value passed to a START (`Name` / `Value` on the wire).

    Attributes:
        name: the task value's name (`Name`).
        value: its value, always a string (`Value`).
    """

    name: str = attrs.field(validator=_str)
    value: str = attrs.field(validator=_str)


@attrs.frozen
class JobStatus(_Serializable):
    """What MonitorJob says of a batch request.

    Attributes:
        batch_request_id: the job's `BatchRequestId`.
        code: the AMT completion code now (running jobs have one too).
        status_text: the server's name for the code (`StatusText`), when sent.
        description: the server's words on the state, e.g. why it failed, when sent.
        application: the AMT application (`ApplicationName`), when sent.
        job_name: the job (`JobName`), when sent.
        submitted_at: when the request was submitted, when known.
        started_at: when the job started, when known.
        ended_at: when the job ended, when known.
    """

    batch_request_id: int = attrs.field(validator=_int)
    code: CompletionCode = attrs.field(converter=_code)
    status_text: str | None = attrs.field(default=None, validator=_opt_str)
    description: str | None = attrs.field(default=None, validator=_opt_str)
    application: str | None = attrs.field(default=None, validator=_opt_str)
    job_name: str | None = attrs.field(default=None, validator=_opt_str)
    submitted_at: datetime | None = attrs.field(default=None, validator=_opt_datetime)
    started_at: datetime | None = attrs.field(default=None, validator=_opt_datetime)
    ended_at: datetime | None = attrs.field(default=None, validator=_opt_datetime)

    @property
    def is_terminal(self) -> bool:
        """True when the job has ended."""
        return self.code.is_terminal

    @property
    def succeeded(self) -> bool:
        """True when the job ended DONE."""
        return self.code.is_success

    def __repr__(self) -> str:
        extra = f", description={self.description!r}" if self.description else ""
        job = f"{self.application}/{self.job_name}" if self.application or self.job_name else "?"
        code = f"{self.code.name}({int(self.code)})"
        return f"JobStatus(batch_request_id={self.batch_request_id}, code={code}, job={job}{extra})"

    def _repr_html_(self) -> str:
        from amtopcon import _html

        return _html.job_status(self)


@attrs.frozen
class Message(_Serializable):
    """One message of a job's log: `Message(sequence, timestamp, severity, text)`.

    Attributes:
        sequence: its number in the job's log; resume after it with `after=`.
        timestamp: when the job wrote it, when the server said.
        severity: as the server sends it, e.g. `INFO`, `WARNING`, `ERROR`.
        text: the message itself.
    """

    sequence: int = attrs.field(validator=_int)
    timestamp: datetime | None = attrs.field(default=None, validator=_opt_datetime)
    severity: str = attrs.field(default="INFO", validator=_str)
    text: str = attrs.field(default="", validator=_str)

    def __repr__(self) -> str:
        return f"Message(#{self.sequence} {self.severity} {_fmt_time(self.timestamp)} {self.text!r})"

    def _repr_html_(self) -> str:
        from amtopcon import _html

        return _html.message(self)


_message_item = _validate.field_of("Message objects", Message)


@attrs.frozen
class MessagePage(_Serializable):
    """One GetMessages answer: some messages and whether more are waiting.

    Attributes:
        messages: the messages of this page, in sequence order.
        has_more: True when the server holds more after the last one (ask again).
        batch_request_id: the job they belong to, when the server said.
    """

    messages: tuple[Message, ...] = attrs.field(converter=_message_tuple, factory=tuple, validator=_all_messages)
    has_more: bool = attrs.field(default=False, validator=_bool)
    batch_request_id: int | None = attrs.field(default=None, validator=_opt_int)

    @property
    def last_sequence(self) -> int | None:
        """The highest sequence on this page (None for an empty page)."""
        return self.messages[-1].sequence if self.messages else None

    def to_records(self) -> list[dict[str, Any]]:
        """The messages as plain dicts, one per message: `batch_request_id`, `sequence`,
        `timestamp` (a datetime or None), `severity`, `text`."""
        return _records(self.batch_request_id, self.messages)

    def to_pandas(self) -> Any:
        """The messages as a `pandas.DataFrame` (the columns of `to_records()`).

        Raises:
            MissingDependencyError: pandas is not installed (amtopcon does not depend on it).
        """
        return _data_frame(self.to_records())

    def __repr__(self) -> str:
        return f"MessagePage({len(self.messages)} messages, has_more={self.has_more})"

    def _repr_html_(self) -> str:
        from amtopcon import _html

        return _html.message_page(self)


@attrs.frozen
class ActionResult(_Serializable):
    """The answer to OpConJobAction (START, STOP or KILL): the code after the action.

    Attributes:
        batch_request_id: the job's `BatchRequestId` (new for a START).
        code: the AMT completion code after the action.
        status_text: the server's name for the code (`StatusText`), when sent.
        message: the server's words on the action, when sent.
    """

    batch_request_id: int = attrs.field(validator=_int)
    code: CompletionCode = attrs.field(converter=_code)
    status_text: str | None = attrs.field(default=None, validator=_opt_str)
    message: str | None = attrs.field(default=None, validator=_opt_str)

    def __repr__(self) -> str:
        return (
            f"ActionResult(batch_request_id={self.batch_request_id}, code={self.code.name}({int(self.code)}), "
            f"message={self.message!r})"
        )


_job_status = _validate.field_of("a JobStatus", JobStatus)


@attrs.frozen
class JobResult(_Serializable):
    """A finished job: its last status and every message of its log, in order.

    Attributes:
        status: the job's last status (its code, names and times).
        messages: every message of its log, in sequence order.
    """

    status: JobStatus = attrs.field(validator=_job_status)
    messages: tuple[Message, ...] = attrs.field(converter=_message_tuple, factory=tuple, validator=_all_messages)

    @property
    def code(self) -> CompletionCode:
        """The job's completion code."""
        return self.status.code

    @property
    def succeeded(self) -> bool:
        """True only when the job ended DONE."""
        return self.status.code.is_success

    @property
    def exit_code(self) -> int:
        """The integer OpCon gets as the job's exit code (the AMT completion code)."""
        return int(self.status.code)

    @property
    def duration(self) -> timedelta | None:
        """From start (or submission) to end, when the server reported both."""
        begin = self.status.started_at or self.status.submitted_at
        end = self.status.ended_at
        if begin is None or end is None:
            return None
        try:
            return end - begin
        except TypeError:  # one naive, one aware: no honest answer
            return None

    def raise_for_code(self, criteria: ExitCriteria | str | None = None) -> JobResult:
        """Raise `JobFailedError` unless the job ended DONE; return self otherwise.

        Args:
            criteria: which exit codes are a success instead, in OpCon's syntax
                (`"RG 0-4 OR EQ 99"`, or an `ExitCriteria`); bad text raises
                `ValidationError` naming the token. None: only DONE (4).
        """
        if criteria is None:
            ok, rule = self.succeeded, ""
        else:
            from amtopcon.criteria import ExitCriteria

            parsed = ExitCriteria.coerce(criteria)
            ok, rule = parsed.matches(self.exit_code), f" (success: {parsed})"
        if not ok:
            why = f": {self.status.description}" if self.status.description else ""
            raise JobFailedError(
                f"AMT job {self.status.batch_request_id} ended {self.code.name} ({int(self.code)}){why}{rule}",
                result=self,
            )
        return self

    def __repr__(self) -> str:
        return (
            f"JobResult(batch_request_id={self.status.batch_request_id}, code={self.code.name}({int(self.code)}), "
            f"messages={len(self.messages)}, duration={self.duration})"
        )

    def to_records(self) -> list[dict[str, Any]]:
        """The job log as plain dicts, one per message: `batch_request_id`, `sequence`,
        `timestamp` (a datetime or None), `severity`, `text`."""
        return _records(self.status.batch_request_id, self.messages)

    def to_pandas(self) -> Any:
        """The job log as a `pandas.DataFrame` (the columns of `to_records()`).

        Raises:
            MissingDependencyError: pandas is not installed (amtopcon does not depend on it).
        """
        return _data_frame(self.to_records())

    def _repr_html_(self) -> str:
        from amtopcon import _html

        return _html.job_result(self)


_RECORD_COLUMNS = ("batch_request_id", "sequence", "timestamp", "severity", "text")


def _records(batch_request_id: int | None, messages: Sequence[Message]) -> list[dict[str, Any]]:
    return [
        {
            "batch_request_id": batch_request_id,
            "sequence": m.sequence,
            "timestamp": m.timestamp,
            "severity": m.severity,
            "text": m.text,
        }
        for m in messages
    ]


def _data_frame(records: list[dict[str, Any]]) -> Any:
    """A DataFrame of `records`; pandas is imported only here (it is not a dependency)."""
    import importlib

    try:
        pandas = importlib.import_module("pandas")
    except ImportError as exc:
        raise MissingDependencyError(
            "to_pandas() needs pandas, which amtopcon does not install; install pandas, or use to_records()",
            package="pandas",
        ) from exc
    return pandas.DataFrame.from_records(records, columns=list(_RECORD_COLUMNS))


def _task_value(name: object, value: object) -> TaskValue:
    if name is None or value is None:  # never send the text "None"
        raise ValidationError(f"task_values: {name!r} has no value (None)", field="task_values")
    return TaskValue(str(name), str(value))


def task_values_from(
    values: Mapping[str, str] | Sequence[TaskValue | tuple[str, str]] | None,
) -> tuple[TaskValue, ...]:
    """Normalise `task_values=` (a mapping, or a sequence of `TaskValue` or `(name, value)` pairs) to a tuple."""
    if values is None:
        return ()
    if isinstance(values, Mapping):
        return tuple(_task_value(k, v) for k, v in values.items())
    out = []
    for item in values:
        if isinstance(item, TaskValue):
            out.append(item)
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            out.append(_task_value(item[0], item[1]))
        else:
            raise ValidationError(
                f"task_values: expected TaskValue or (name, value), got {item!r}", field="task_values"
            )
    return tuple(out)
