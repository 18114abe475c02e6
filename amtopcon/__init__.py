"""amtopcon: the Python SDK for AMTOpCon, the REST interface through which OpCon drives
Asysco AMT (LION) batch jobs.

Names are loaded lazily (PEP 562), so `import amtopcon` stays cheap: `amtopcon --version`
and `amtopcon encode` load neither httpx nor cattrs.
"""

from __future__ import annotations

from amtopcon._lazy import lazy_attributes
from amtopcon._version import __version__

TYPE_CHECKING = False  # not `from typing import ...`: `amtopcon --version` stays light

if TYPE_CHECKING:  # pragma: no cover
    from amtopcon._async.client import AsyncClient
    from amtopcon._async.jobs import AsyncJobHandle
    from amtopcon._clock import Clock
    from amtopcon._core.observe import RawResponse
    from amtopcon._core.settings import ClientOptions
    from amtopcon._sync.client import Client
    from amtopcon._sync.jobs import JobHandle
    from amtopcon._types import EventHooks, StartOptions
    from amtopcon.criteria import ExitCriteria
    from amtopcon.errors import (
        AmtOpConError,
        APIConnectionError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ClientClosedError,
        ConfigError,
        ConflictError,
        InternalServerError,
        InvalidResponseError,
        JobFailedError,
        JobStartError,
        MissingDependencyError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        ResponseTooLargeError,
        StartOutcomeUnknownError,
        ValidationError,
        WaitTimeoutError,
    )
    from amtopcon.models import ActionResult, CompletionCode, JobResult, JobStatus, Message, MessagePage, TaskValue
    from amtopcon.polling import PollPolicy

_LAZY = {
    "Client": "amtopcon._sync.client",
    "AsyncClient": "amtopcon._async.client",
    "ClientOptions": "amtopcon._core.settings",
    "JobHandle": "amtopcon._sync.jobs",
    "AsyncJobHandle": "amtopcon._async.jobs",
    "CompletionCode": "amtopcon.models",
    "JobStatus": "amtopcon.models",
    "Message": "amtopcon.models",
    "MessagePage": "amtopcon.models",
    "ActionResult": "amtopcon.models",
    "JobResult": "amtopcon.models",
    "TaskValue": "amtopcon.models",
    "PollPolicy": "amtopcon.polling",
    "Clock": "amtopcon._clock",
    "ExitCriteria": "amtopcon.criteria",
    "RawResponse": "amtopcon._core.observe",
    "StartOptions": "amtopcon._types",
    "EventHooks": "amtopcon._types",
    # every public error, as `amtopcon.errors` has it
    "APIConnectionError": "amtopcon.errors",
    "APIStatusError": "amtopcon.errors",
    "APITimeoutError": "amtopcon.errors",
    "AmtOpConError": "amtopcon.errors",
    "AuthenticationError": "amtopcon.errors",
    "BadRequestError": "amtopcon.errors",
    "ClientClosedError": "amtopcon.errors",
    "ConfigError": "amtopcon.errors",
    "ConflictError": "amtopcon.errors",
    "InternalServerError": "amtopcon.errors",
    "InvalidResponseError": "amtopcon.errors",
    "JobFailedError": "amtopcon.errors",
    "JobStartError": "amtopcon.errors",
    "MissingDependencyError": "amtopcon.errors",
    "NotFoundError": "amtopcon.errors",
    "PermissionDeniedError": "amtopcon.errors",
    "RateLimitError": "amtopcon.errors",
    "ResponseTooLargeError": "amtopcon.errors",
    "StartOutcomeUnknownError": "amtopcon.errors",
    "ValidationError": "amtopcon.errors",
    "WaitTimeoutError": "amtopcon.errors",
}

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "ActionResult",
    "AmtOpConError",
    "AsyncClient",
    "AsyncJobHandle",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ClientClosedError",
    "ClientOptions",
    "Clock",
    "CompletionCode",
    "ConfigError",
    "ConflictError",
    "EventHooks",
    "ExitCriteria",
    "InternalServerError",
    "InvalidResponseError",
    "JobFailedError",
    "JobHandle",
    "JobResult",
    "JobStartError",
    "JobStatus",
    "Message",
    "MessagePage",
    "MissingDependencyError",
    "NotFoundError",
    "PermissionDeniedError",
    "PollPolicy",
    "RateLimitError",
    "RawResponse",
    "ResponseTooLargeError",
    "StartOptions",
    "StartOutcomeUnknownError",
    "TaskValue",
    "ValidationError",
    "WaitTimeoutError",
    "__version__",
]


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
