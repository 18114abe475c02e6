"""The data of the AMTOpCon contract: completion codes, statuses, messages, results.

Every model is a frozen, slotted attrs class that converts to and from a JSON-safe dict
(`to_dict()` / `from_dict()`) and pickles, so it can travel through a task queue.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import attrs

from amtopcon._logging import logger
from amtopcon.errors import JobFailedError, ValidationError

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
        if not isinstance(value, int) or isinstance(value, bool):
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
    if isinstance(value, bool):  # True would pass as 1 (QUEUED)
        raise ValidationError(f"code: expected an AMT completion code (an integer), got {value!r}", field="code")
    return CompletionCode(value)


# Validators: a value of the wrong type is refused when the model is made (a ValidationError
# naming the field), not later in a repr, a comparison or to_dict().


def _refuse(instance: object, attribute: attrs.Attribute[Any], wanted: str, value: object) -> ValidationError:
    name = attribute.name
    return ValidationError(
        f"{type(instance).__name__}.{name}: expected {wanted}, got {type(value).__name__} {value!r:.60}", field=name
    )


def _int(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _refuse(instance, attribute, "an integer", value)


def _opt_int(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _int(instance, attribute, value)


def _str(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise _refuse(instance, attribute, "a string", value)


def _opt_str(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise _refuse(instance, attribute, "a string or None", value)


def _opt_datetime(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, datetime):
        raise _refuse(instance, attribute, "a datetime or None", value)


def _bool(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise _refuse(instance, attribute, "True or False", value)


def _message_tuple(value: Iterable[Message]) -> tuple[Message, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"messages: expected a sequence of Message objects, got {type(value).__name__}", field="messages"
        )
    return tuple(value)


def _all_messages(instance: object, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    for item in value:
        if not isinstance(item, Message):
            raise _refuse(instance, attribute, "Message objects", item)


def _job_status(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, JobStatus):
        raise _refuse(instance, attribute, "a JobStatus", value)


def _fmt_time(value: datetime | None) -> str:
    return "-" if value is None else value.isoformat()


@attrs.frozen
class TaskValue(_Serializable):
    """A named task value passed to a START (`Name` / `Value` on the wire)."""

    name: str = attrs.field(validator=_str)
    value: str = attrs.field(validator=_str)


@attrs.frozen
class JobStatus(_Serializable):
    """What MonitorJob says of a batch request."""

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


@attrs.frozen
class Message(_Serializable):
    """One message of a job's log: `Message(sequence, timestamp, severity, text)`."""

    sequence: int = attrs.field(validator=_int)
    timestamp: datetime | None = attrs.field(default=None, validator=_opt_datetime)
    severity: str = attrs.field(default="INFO", validator=_str)
    text: str = attrs.field(default="", validator=_str)

    def __repr__(self) -> str:
        return f"Message(#{self.sequence} {self.severity} {_fmt_time(self.timestamp)} {self.text!r})"


@attrs.frozen
class MessagePage(_Serializable):
    """One GetMessages answer: some messages and whether more are waiting."""

    messages: tuple[Message, ...] = attrs.field(converter=_message_tuple, factory=tuple, validator=_all_messages)
    has_more: bool = attrs.field(default=False, validator=_bool)
    batch_request_id: int | None = attrs.field(default=None, validator=_opt_int)

    @property
    def last_sequence(self) -> int | None:
        """The highest sequence on this page (None for an empty page)."""
        return self.messages[-1].sequence if self.messages else None

    def __repr__(self) -> str:
        return f"MessagePage({len(self.messages)} messages, has_more={self.has_more})"


@attrs.frozen
class ActionResult(_Serializable):
    """The answer to OpConJobAction (START, STOP or KILL): the code after the action."""

    batch_request_id: int = attrs.field(validator=_int)
    code: CompletionCode = attrs.field(converter=_code)
    status_text: str | None = attrs.field(default=None, validator=_opt_str)
    message: str | None = attrs.field(default=None, validator=_opt_str)

    def __repr__(self) -> str:
        return (
            f"ActionResult(batch_request_id={self.batch_request_id}, code={self.code.name}({int(self.code)}), "
            f"message={self.message!r})"
        )


@attrs.frozen
class JobResult(_Serializable):
    """A finished job: its last status and every message of its log, in order."""

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

    def raise_for_code(self) -> JobResult:
        """Raise `JobFailedError` unless the job ended DONE; return self otherwise."""
        if not self.succeeded:
            why = f": {self.status.description}" if self.status.description else ""
            raise JobFailedError(
                f"AMT job {self.status.batch_request_id} ended {self.code.name} ({int(self.code)}){why}",
                result=self,
            )
        return self

    def __repr__(self) -> str:
        return (
            f"JobResult(batch_request_id={self.status.batch_request_id}, code={self.code.name}({int(self.code)}), "
            f"messages={len(self.messages)}, duration={self.duration})"
        )

    def _repr_html_(self) -> str:
        from html import escape

        s = self.status
        rows = "".join(
            f"<tr><td>{m.sequence}</td><td>{escape(_fmt_time(m.timestamp))}</td>"
            f"<td>{escape(m.severity)}</td><td>{escape(m.text)}</td></tr>"
            for m in self.messages
        )
        desc = f" &mdash; {escape(s.description)}" if s.description else ""
        return (
            f"<div><p><b>AMT job {s.batch_request_id}</b> {escape(s.application or '')} / "
            f"{escape(s.job_name or '')}: <b>{escape(self.code.name)}</b> ({int(self.code)}){desc}</p>"
            "<table><thead><tr><th>#</th><th>timestamp</th><th>severity</th><th>text</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div>"
        )


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
