"""The client side of the contract, coming back: decoding and parsing answers into models,
and mapping error answers to the typed exceptions. No I/O."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any, Final, TypeVar

import attrs
import httpx

from amtopcon._convert import StructureFailure, parse_timestamp, structure, structure_int
from amtopcon._wire.names import (
    ACTION_FIELDS,
    F_APPLICATION,
    F_BATCH_REQUEST_ID,
    F_DESCRIPTION,
    F_ENDED_AT,
    F_ERROR_CODE,
    F_HAS_MORE,
    F_JOB_NAME,
    F_MESSAGE,
    F_MESSAGES,
    F_SEQUENCE,
    F_STARTED_AT,
    F_STATUS,
    F_STATUS_TEXT,
    F_SUBMITTED_AT,
    F_TEXT,
    F_TOKEN,
    GET_MESSAGES,
    H_TOKEN,
    HEARTBEAT_OK,
    JOB_ACTION,
    LOGON,
    MESSAGE_FIELDS,
    MONITOR_JOB,
    P_DETAIL,
    P_ERRORS,
    P_TITLE,
    P_TRACE_ID,
    STATUS_FIELDS,
    ci_getter,
)
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
)
from amtopcon.models import ActionResult, CompletionCode, JobStatus, Message, MessagePage

# --------------------------------------------------------------------------- responses

_T = TypeVar("_T")


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
        token = ci_getter(d)(F_TOKEN)
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
    return isinstance(data, Mapping) and ci_getter(data)(F_STATUS) == HEARTBEAT_OK


def _about(value: _T, asked: int | None) -> _T:
    """An answer must be about the job asked for (answers checked against the request)."""
    got = getattr(value, "batch_request_id", None)
    if asked is not None and got is not None and got != asked:
        raise StructureFailure(f"{F_BATCH_REQUEST_ID}: the answer is about job {got}, not the job asked for ({asked})")
    return value


def parse_action_result(
    data: Any, *, status_code: int | None = None, request_id: str | None = None, about: int | None = None
) -> ActionResult:
    """An OpConJobAction answer. A START answer's `BatchRequestId` <= 0 is checked by the caller;
    a STOP or KILL answer must be about the job `about`."""
    result: ActionResult = _wrap(
        JOB_ACTION,
        lambda d: _about(_parse(d, ACTION_FIELDS, ActionResult, JOB_ACTION), about),
        data,
        status_code,
        request_id,
    )
    return result


def parse_job_status(
    data: Any, *, status_code: int | None = None, request_id: str | None = None, about: int | None = None
) -> JobStatus:
    """A MonitorJob answer (about the job `about`, when given)."""
    if type(data) is dict:
        try:
            fast = _fast_status(data)
        except Exception:  # the strict path below words what was wrong
            pass
        else:
            if about is None or fast.batch_request_id == about:
                return fast
    result: JobStatus = _wrap(
        MONITOR_JOB,
        lambda d: _about(_parse(d, STATUS_FIELDS, JobStatus, MONITOR_JOB), about),
        data,
        status_code,
        request_id,
    )
    return result


def parse_message_page(
    data: Any, *, status_code: int | None = None, request_id: str | None = None, about: int | None = None
) -> MessagePage:
    """A GetMessages answer; messages come back ordered by sequence. Sequences are positive
    and unique within a page, and the page is about the job `about` (when both are given)."""
    if type(data) is dict:
        try:
            fast = _fast_page(data)
        except Exception:  # the strict path below words what was wrong
            pass
        else:
            if about is None or fast.batch_request_id is None or fast.batch_request_id == about:
                return fast

    def read(d: Any) -> MessagePage:
        if not isinstance(d, Mapping):
            raise StructureFailure(f"expected a JSON object, got {type(d).__name__}")
        get = ci_getter(d)
        raw = get(F_MESSAGES)
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            raise StructureFailure(f"{F_MESSAGES}: expected a list, got {type(raw).__name__}")
        messages = []
        for i, item in enumerate(raw):
            try:
                fields = _rename(item, MESSAGE_FIELDS, F_MESSAGES)
                if "text" not in fields:  # required by the contract (Message's default "" is for callers)
                    raise StructureFailure(f"{F_TEXT}: required")
                messages.append(structure(fields, Message))
            except StructureFailure as exc:
                raise StructureFailure(f"{F_MESSAGES}[{i}]: {exc.detail}") from None
        messages.sort(key=lambda m: m.sequence)
        for before, message in zip([None, *messages], messages, strict=False):
            if message.sequence <= 0:
                raise StructureFailure(f"{F_MESSAGES}: {F_SEQUENCE} {message.sequence} is not positive")
            if before is not None and before.sequence == message.sequence:
                raise StructureFailure(f"{F_MESSAGES}: {F_SEQUENCE} {message.sequence} appears twice")
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
        return _about(MessagePage(messages=tuple(messages), has_more=has_more, batch_request_id=brid_value), about)

    result: MessagePage = _wrap(GET_MESSAGES, read, data, status_code, request_id)
    return result


# --------------------------------------------------------------------------- the fast path
# A well-formed answer (the common case) is read directly, field by field, with the same
# rules as the strict converter (`amtopcon._convert`'s hooks). Any doubt (an exception of
# any kind, or a rule broken) falls back to the strict path, which alone words the typed
# error: the fast path only ever returns what the strict one would.


def _text(value: Any) -> str:
    if type(value) is not str:
        raise TypeError
    return value


@functools.lru_cache(maxsize=4096)
def _recurring(value: str) -> str:
    return value


def _shared_text(value: Any) -> str:
    """A text field that recurs from answer to answer (a job's application, name, status
    text): equal short values become one object, so 10,000 waits do not each keep a copy."""
    if type(value) is not str:
        raise TypeError
    return _recurring(value) if len(value) <= 256 else value


def _code_of(value: Any) -> CompletionCode:
    return CompletionCode(structure_int(value))


#: `parse_timestamp` for the fast path, remembering recent texts: a watched job's
#: SubmittedAt and StartedAt come back unchanged on every check (datetimes are immutable;
#: a refused text raises each time, and is not kept).
_timestamp: Final = functools.lru_cache(maxsize=1024)(parse_timestamp)

_STATUS_HOOKS: Final[Mapping[str, Any]] = {
    "batch_request_id": structure_int,
    "code": _code_of,
    "status_text": _shared_text,
    "description": _shared_text,
    "application": _shared_text,
    "job_name": _shared_text,
    "submitted_at": _timestamp,
    "started_at": _timestamp,
    "ended_at": _timestamp,
}
_MESSAGE_HOOKS: Final[Mapping[str, Any]] = {
    "sequence": structure_int,
    "timestamp": parse_timestamp,
    "severity": _text,
    "text": _text,
}


def _fields(data: dict[str, Any], names: Mapping[str, str], hooks: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():  # as `_rename`: case-insensitive, None is absent, the last key wins
        field = names.get(key.lower())
        if field is not None and value is not None:
            out[field] = value
    for field, value in out.items():
        out[field] = hooks[field](value)
    return out


#: MonitorJob's keys, as the contract spells them and lowercased, with their field and hook.
_STATUS_SPEC: Final[Mapping[str, tuple[str, Any]]] = {
    **{key: (field, _STATUS_HOOKS[field]) for key, field in STATUS_FIELDS.items()},
    **{
        key: (STATUS_FIELDS[key.lower()], _STATUS_HOOKS[STATUS_FIELDS[key.lower()]])
        for key in (
            F_BATCH_REQUEST_ID,
            F_STATUS,
            F_STATUS_TEXT,
            F_DESCRIPTION,
            F_APPLICATION,
            F_JOB_NAME,
            F_SUBMITTED_AT,
            F_STARTED_AT,
            F_ENDED_AT,
        )
    },
}


def _fast_status(data: dict[str, Any]) -> JobStatus:
    # One pass: the contract's spelling is found at once, any other casing after lower();
    # a None is skipped and the last key wins, as in `_rename`. A value its hook refuses
    # raises (even one a later key would replace): the strict path then decides.
    out: dict[str, Any] = {}
    spec = _STATUS_SPEC
    for key, value in data.items():
        found = spec.get(key)
        if found is None:
            found = spec.get(key.lower())
            if found is None:
                continue
        if value is not None:
            out[found[0]] = found[1](value)
    if _STATUS_ATTRS is None:  # pragma: no cover - a model with a factory default
        return JobStatus(**out)
    # Each value has passed its hook, which admits exactly what the model's validators
    # and converter admit: the instance is filled as attrs' own __init__ would fill it.
    status = object.__new__(JobStatus)
    for name, default in _STATUS_ATTRS:
        value = out.get(name, default)
        if value is attrs.NOTHING:
            raise TypeError(name)  # a required field is missing: the strict path words it
        object.__setattr__(status, name, value)
    return status


def _plain_fields(cls: type[Any]) -> tuple[tuple[str, Any], ...] | None:
    """(name, default) of each field of an attrs class; None if a default is a factory."""
    fields = attrs.fields(cls)
    if any(isinstance(f.default, attrs.Factory) for f in fields):  # type: ignore[arg-type]
        return None  # pragma: no cover
    return tuple((f.name, f.default) for f in fields)


_STATUS_ATTRS: Final = _plain_fields(JobStatus)


def _fast_page(data: dict[str, Any]) -> MessagePage:
    raw: Any = None
    has_more: Any = False
    brid: int | None = None
    for key, value in data.items():
        name = key.lower()
        if name == _MESSAGES_KEY:
            raw = value
        elif name == _HAS_MORE_KEY:
            has_more = value
        elif name == _BRID_KEY:
            brid = None if value is None else structure_int(value)
    if raw is None:
        raw = []
    if type(raw) is not list or (has_more is not None and type(has_more) is not bool):
        raise TypeError
    messages = []
    for item in raw:
        if type(item) is not dict:
            raise TypeError
        fields = _fields(item, MESSAGE_FIELDS, _MESSAGE_HOOKS)
        if "text" not in fields:
            raise TypeError
        messages.append(Message(**fields))
    messages.sort(key=_sequence)
    last = 0
    for message in messages:
        if message.sequence <= last:  # not positive, or twice
            raise TypeError
        last = message.sequence
    return MessagePage(messages=tuple(messages), has_more=bool(has_more), batch_request_id=brid)


def _sequence(message: Message) -> int:
    return message.sequence


_MESSAGES_KEY: Final = F_MESSAGES.lower()
_HAS_MORE_KEY: Final = F_HAS_MORE.lower()
_BRID_KEY: Final = F_BATCH_REQUEST_ID.lower()


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
    sent_request_id: str | None = None,
) -> APIStatusError:
    """Map a non-2xx answer to its typed error; any body (empty, HTML, truncated) is coped with.

    Two shapes are read, keys case-insensitively: the contract's `{"ErrorCode", "Message"}`,
    and ASP.NET's problem details (`application/problem+json`: `detail`, else `title`, is
    the message; an `errorCode` member the error code; `traceId` the request id when the
    answer carries no `X-Request-Id`; a validation problem's `errors` become `.errors` and
    are named in the message). `request_id` is the answer's `X-Request-Id` (or the id sent,
    when `sent_request_id` is not given); `sent_request_id` is the last resort.
    """
    error_code: str | None = None
    message: str | None = None
    errors: dict[str, tuple[str, ...]] | None = None
    trace_id: str | None = None
    try:
        data = json.loads(content) if content.strip() else None
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, Mapping):
        get = ci_getter(data)
        ec, msg = get(F_ERROR_CODE), get(F_MESSAGE)
        error_code = ec if isinstance(ec, str) and ec else None
        message = msg if isinstance(msg, str) and msg.strip() else None
        if message is None:  # problem details: detail, else title
            for member in (P_DETAIL, P_TITLE):
                text = get(member)
                if isinstance(text, str) and text.strip():
                    message = text
                    break
        tid = get(P_TRACE_ID)
        trace_id = tid if isinstance(tid, str) and tid.strip() else None
        errors = _validation_errors(get(P_ERRORS))
        if errors:
            named = "; ".join(
                ": ".join(part for part in (field, " ".join(texts)) if part) for field, texts in errors.items()
            )
            message = f"{message} ({named})" if message else named
    if message is None:
        text = _excerpt(content).strip()
        reason = _REASONS.get(status_code, "unexpected status")
        message = reason if not text or text.startswith("<") or data is not None else f"{reason}: {text[:120]}"
    cls = error_class(status_code)
    return cls(
        message,
        status_code=status_code,
        error_code=error_code,
        request_id=request_id if request_id is not None else (trace_id or sent_request_id),
        retry_after=retry_after,
        response=response,
        attempts=attempts,
        errors=errors,
    )


def _validation_errors(raw: Any) -> dict[str, tuple[str, ...]] | None:
    """A validation problem's `errors` (`{"JobName": ["The JobName field is required."]}`),
    as field -> messages; None when absent or of another shape. A bare string or list of
    strings (some servers write them) is kept under the field `""`."""
    if isinstance(raw, str):
        raw = {"": [raw]}
    elif isinstance(raw, list):
        raw = {"": raw}
    if not isinstance(raw, Mapping):
        return None
    out: dict[str, tuple[str, ...]] = {}
    for field, texts in list(raw.items())[:20]:
        items = texts if isinstance(texts, list) else [texts]
        kept = tuple(str(t)[:500] for t in items[:10] if isinstance(t, (str, int, float)))
        if field or kept:
            out[str(field)[:200]] = kept
    return out or None


def accepted_after_retry(status: JobStatus) -> ActionResult:
    """A STOP/KILL answered 409 after an earlier attempt may have landed: accepted, with the
    job's code as MonitorJob now reports it."""
    return ActionResult(
        status.batch_request_id, status.code, status.status_text, "accepted (an earlier attempt of this call landed)"
    )


def redacted(response: httpx.Response) -> httpx.Response:
    """A copy of an answer to keep on an error: its request without the token or a Logon body."""
    try:
        request = response.request
    except RuntimeError:
        return response
    token_header = H_TOKEN.lower()
    headers = [(k, "***" if k.lower() == token_header else v) for k, v in request.headers.items()]
    is_logon = request.url.path.endswith("/" + LOGON)  # its body holds the password, its answer a token
    clean_request = httpx.Request(
        request.method,
        request.url,
        headers=[(k, v) for k, v in headers if not (is_logon and k.lower() == "content-length")],
        content=b"" if is_logon else request.content,
    )
    drop = {"content-encoding", "content-length", "transfer-encoding"}
    return httpx.Response(
        response.status_code,
        headers=[(k, v) for k, v in response.headers.items() if k.lower() not in drop],
        content=b"" if is_logon and response.is_success else response.content,
        request=clean_request,
    )
