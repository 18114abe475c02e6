"""The exception tree of `amtopcon`.

Every error the package raises derives from [`AmtOpConError`][amtopcon.errors.AmtOpConError].
Errors that describe a call carry `.attempts` (how many HTTP attempts were made).

A START whose outcome is unknown ([`StartOutcomeUnknownError`][amtopcon.errors.StartOutcomeUnknownError])
is deliberately *not* an [`APIConnectionError`][amtopcon.errors.APIConnectionError], so that a
generic "retry on connection errors" wrapper can never queue a batch job twice.

Every exception pickles with its fields (the HTTP response object, which does not
pickle, is dropped), so errors can travel through task queues; `to_dict()` and
`AmtOpConError.from_dict()` do the same through JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

from amtopcon._wire import names

if TYPE_CHECKING:  # pragma: no cover
    import httpx

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AmtOpConError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigError",
    "ConflictError",
    "InternalServerError",
    "InvalidResponseError",
    "JobFailedError",
    "JobStartError",
    "MissingDependencyError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "StartOutcomeUnknownError",
    "ValidationError",
    "WaitTimeoutError",
]

# Attributes that are never pickled (live objects that do not survive a trip).
_UNPICKLED = frozenset({"response", "handle", "__cause__", "__context__", "__traceback__"})


def _restore(cls: type[AmtOpConError], args: tuple[Any, ...], state: dict[str, Any]) -> AmtOpConError:
    obj = cls.__new__(cls)
    Exception.__init__(obj, *args)
    obj.__dict__.update(state)
    for name in ("response", "handle"):
        if hasattr(cls, "_keeps_" + name):
            obj.__dict__.setdefault(name, None)
    return obj


class AmtOpConError(Exception):
    """Base of every error raised by `amtopcon`.

    Attributes:
        message: what went wrong, in words.
        attempts: how many HTTP attempts the call made (None when no call was made).
    """

    message: str
    attempts: int | None

    def __init__(self, message: str, *, attempts: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.attempts = attempts

    def __str__(self) -> str:
        text = self.message
        if self.attempts is not None and self.attempts > 0:
            plural = "attempt" if self.attempts == 1 else "attempts"
            text = f"{text} (after {self.attempts} {plural})"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        state = {k: v for k, v in self.__dict__.items() if k not in _UNPICKLED}
        return (_restore, (type(self), self.args, state))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of the error: `type` (the class name), `message` and its fields.

        The HTTP response and a job handle are left out (as when pickled); a `JobStatus`
        or `JobResult` becomes its own `to_dict()`. Nothing secret is in it.
        """
        out: dict[str, Any] = {"type": type(self).__name__, "message": self.message}
        for key, value in self.__dict__.items():
            if key in _UNPICKLED or key.startswith("_") or key == "message":
                continue
            out[key] = _jsonable(value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild an error from `to_dict()` output: `AmtOpConError.from_dict(d)` gives the
        class `d["type"]` names. Bad input raises `ValidationError` naming the key."""
        if not isinstance(data, Mapping):
            raise ValidationError(f"from_dict: expected a mapping, got {type(data).__name__}", field="data")
        name = data.get("type")
        target = _ERROR_CLASSES().get(name) if isinstance(name, str) else None
        if target is None or not issubclass(target, cls):
            wanted = f"the name of a subclass of {cls.__name__}"
            raise ValidationError(f"type: expected {wanted}, got {name!r}", field="type")
        message = data.get("message")
        if not isinstance(message, str):
            raise ValidationError(f"message: expected a string, got {message!r}", field="message")
        known = {k for klass in target.__mro__ for k in getattr(klass, "__annotations__", {})}
        state: dict[str, Any] = {"message": message, "attempts": None}
        for key, value in data.items():
            if key in ("type", "message"):
                continue
            if key not in known or key in _UNPICKLED:
                raise ValidationError(f"{key}: not a field of {target.__name__}", field=key)
            state[key] = _from_jsonable(key, value)
        obj = _restore(target, (message,), state)
        assert isinstance(obj, cls)
        return obj


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Mapping):  # APIStatusError.errors: field -> messages
        return {str(k): [str(t) for t in v] for k, v in value.items()}
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):  # a JobStatus or JobResult
        return to_dict()
    return str(value)


def _from_jsonable(key: str, value: Any) -> Any:
    if isinstance(value, Mapping) and key in ("status", "result"):
        # Through the package's lazy names, not `amtopcon.models`: the models import this
        # module (to raise ValidationError), and it must not import them back.
        import amtopcon

        return (amtopcon.JobStatus if key == "status" else amtopcon.JobResult).from_dict(value)
    if key == "errors" and value is not None:
        if not isinstance(value, Mapping) or not all(isinstance(v, list) for v in value.values()):
            raise ValidationError("errors: expected a mapping of field names to lists of messages", field="errors")
        return {str(k): tuple(str(t) for t in v) for k, v in value.items()}
    return value


def _ERROR_CLASSES() -> dict[str, type[AmtOpConError]]:
    return {name: obj for name in __all__ if isinstance(obj := globals()[name], type)}


class ValidationError(AmtOpConError, ValueError):
    """Bad input: nothing was sent. `.field` names the offending argument or field."""

    field: str | None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ConfigError(ValidationError):
    """A configuration source (a `Connector.config` file, the environment) is unusable.

    Attributes:
        path: the file (None for the environment).
        line: the 1-based line number, when one line is to blame.
        key: the key (or environment variable) that is missing or bad.
    """

    path: str | None
    line: int | None
    key: str | None

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        where = []
        if path is not None:
            where.append(str(path) if line is None else f"{path}:{line}")
        elif line is not None:
            where.append(f"line {line}")
        if key is not None:
            where.append(f"key {key}")
        full = f"{message} ({', '.join(where)})" if where else message
        super().__init__(full, field=key)
        self.path = None if path is None else str(path)
        self.line = line
        self.key = key


class ClientClosedError(AmtOpConError, RuntimeError):
    """The client was used after it was closed (or after the pool it shares was closed).

    Nothing more is sent. A `with_options()` copy shares its parent's connection pool, so
    it is closed when the parent is. Make a new client. It is also a `RuntimeError`,
    which is what httpx raises for a closed client.
    """


class MissingDependencyError(AmtOpConError, ImportError):
    """An optional feature needs a package amtopcon does not install (`.package` names it),
    e.g. `to_pandas()` without pandas. It is also an `ImportError`."""

    package: str

    def __init__(self, message: str, *, package: str) -> None:
        super().__init__(message)
        self.package = package


class APIConnectionError(AmtOpConError):
    """No usable answer came back: the server could not be reached or the connection broke.

    Never raised for a START that may have been processed (see `StartOutcomeUnknownError`).
    """

    request_id: str | None

    def __init__(self, message: str, *, attempts: int | None = None, request_id: str | None = None) -> None:
        super().__init__(message, attempts=attempts)
        self.request_id = request_id


class APITimeoutError(APIConnectionError):
    """An attempt, or the whole call (`total_timeout`), ran out of time."""


class APIStatusError(AmtOpConError):
    """The server answered with a non-2xx status.

    Attributes:
        status_code: the HTTP status.
        error_code: the contract's `ErrorCode` (e.g. `JOB_NOT_FOUND`), when the body had one.
        message: the server's `Message` (a problem answer's `detail`, else its `title`),
            or a description of the status.
        request_id: the server's `X-Request-Id` when it sent one, else a problem answer's
            `traceId`, else ours.
        retry_after: seconds from `Retry-After` (429 and 503), when present.
        errors: a validation problem's `errors`, field -> messages (also named in
            `message`); None when the answer had none.
        response: the `httpx.Response` (not pickled).
    """

    _keeps_response = True
    status_code: int
    error_code: str | None
    request_id: str | None
    retry_after: float | None
    errors: dict[str, tuple[str, ...]] | None = None  # (a class default: errors rebuilt from older dicts)
    response: httpx.Response | None

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        error_code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        response: httpx.Response | None = None,
        attempts: int | None = None,
        errors: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        super().__init__(message, attempts=attempts)
        self.status_code = status_code
        self.error_code = error_code
        self.request_id = request_id
        self.retry_after = retry_after
        self.errors = None if errors is None else {str(k): tuple(v) for k, v in errors.items()}
        self.response = response

    def __str__(self) -> str:
        code = f" {self.error_code}" if self.error_code else ""
        rid = f" [request {self.request_id}]" if self.request_id else ""
        base = f"HTTP {self.status_code}{code}: {self.message}{rid}"
        if self.attempts:
            plural = "attempt" if self.attempts == 1 else "attempts"
            base = f"{base} (after {self.attempts} {plural})"
        return base


class BadRequestError(APIStatusError):
    """400 `INVALID_REQUEST`: the server refused the request as malformed."""


class AuthenticationError(APIStatusError):
    """401: the user or password was refused (a refused Logon is final)."""


class PermissionDeniedError(APIStatusError):
    """403 `NOT_AUTHORIZED`: the user lacks the privilege in AMT Control Center."""


class NotFoundError(APIStatusError):
    """404: `JOB_NOT_FOUND` (unknown application/job) or `BATCH_REQUEST_NOT_FOUND`.

    A 404 with neither code usually means the base URL does not point at the service.
    """

    @property
    def job_not_found(self) -> bool:
        """True when START named an application/job pair the server does not define."""
        return self.error_code == names.E_JOB_NOT_FOUND

    @property
    def batch_request_not_found(self) -> bool:
        """True when the BatchRequestId is unknown to the server."""
        return self.error_code == names.E_BATCH_REQUEST_NOT_FOUND


class ConflictError(APIStatusError):
    """409 `ACTION_NOT_ALLOWED`: STOP or KILL of a job that has already ended (the emulator also
    answers it to a START that reuses a `TaskId` for another job)."""


class RateLimitError(APIStatusError):
    """429 `TOO_MANY_REQUESTS`: slow down; see `.retry_after`."""


class InternalServerError(APIStatusError):
    """Any 5xx answer (500 `INTERNAL_ERROR`, 502, 503 `SERVER_BUSY`, 504, ...)."""


class InvalidResponseError(AmtOpConError):
    """A 2xx answer whose body is not what the contract says (not JSON, wrong shape).

    A non-2xx answer is never this class, whatever its body: it is an `APIStatusError`.
    `.body` holds at most 200 characters of the body.
    """

    _keeps_response = True
    status_code: int | None
    request_id: str | None
    body: str | None
    response: httpx.Response | None

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        body: str | None = None,
        response: httpx.Response | None = None,
        attempts: int | None = None,
    ) -> None:
        super().__init__(message, attempts=attempts)
        self.status_code = status_code
        self.request_id = request_id
        self.body = body
        self.response = response


class ResponseTooLargeError(InvalidResponseError):
    """An answer larger than the client's `max_response_size` (64 MiB by default): refused
    before more of it was read. Any status: the body is never kept (`.body` is None)."""


class StartOutcomeUnknownError(AmtOpConError):
    """A START may or may not have queued the job, and was not resent.

    This happens after a read timeout, a dropped connection or a 500/502/504 answering a
    START. Look for the job in AMT before starting it again; on a server that
    de-duplicates by `TaskId`, repeating the START with `task_id=err.task_id` is safe.
    """

    task_id: str
    request_id: str | None

    def __init__(
        self,
        message: str,
        *,
        task_id: str,
        attempts: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, attempts=attempts)
        self.task_id = task_id
        self.request_id = request_id


class JobStartError(AmtOpConError):
    """The server answered START without starting the job (`BatchRequestId` <= 0)."""

    batch_request_id: int | None
    task_id: str | None

    def __init__(
        self,
        message: str,
        *,
        batch_request_id: int | None = None,
        task_id: str | None = None,
        attempts: int | None = None,
    ) -> None:
        super().__init__(message, attempts=attempts)
        self.batch_request_id = batch_request_id
        self.task_id = task_id


class JobFailedError(AmtOpConError):
    """A finished job whose code is not DONE. `.result` is the `JobResult`."""

    result: Any

    def __init__(self, message: str, *, result: Any) -> None:
        super().__init__(message)
        self.result = result


class WaitTimeoutError(AmtOpConError, TimeoutError):
    """`wait()` reached its deadline before the job ended.

    Attributes:
        status: the last `JobStatus` seen (None if none was seen).
        handle: the job handle, to keep waiting or to kill the job (not pickled).
    """

    _keeps_handle = True
    status: Any
    handle: Any

    def __init__(self, message: str, *, status: Any = None, handle: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.handle = handle
