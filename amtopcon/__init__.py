"""amtopcon: the Python SDK for AMTOpCon, the REST interface through which OpCon drives
Asysco AMT (LION) batch jobs.

Names are loaded lazily (PEP 562), so `import amtopcon` stays cheap: `amtopcon --version`
and `amtopcon encode` load neither httpx nor cattrs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from amtopcon._common import lazy_attributes
from amtopcon._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from amtopcon._async_client import AsyncClient
    from amtopcon._base import ClientOptions
    from amtopcon._client import Client
    from amtopcon._clock import Clock
    from amtopcon.criteria import ExitCriteria
    from amtopcon.jobs import AsyncJobHandle, JobHandle
    from amtopcon.models import ActionResult, CompletionCode, JobResult, JobStatus, Message, MessagePage, TaskValue
    from amtopcon.polling import PollPolicy

_LAZY = {
    "Client": "amtopcon._client",
    "AsyncClient": "amtopcon._async_client",
    "ClientOptions": "amtopcon._base",
    "JobHandle": "amtopcon.jobs",
    "AsyncJobHandle": "amtopcon.jobs",
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
}

__all__ = [
    "ActionResult",
    "AsyncClient",
    "AsyncJobHandle",
    "Client",
    "ClientOptions",
    "Clock",
    "CompletionCode",
    "ExitCriteria",
    "JobHandle",
    "JobResult",
    "JobStatus",
    "Message",
    "MessagePage",
    "PollPolicy",
    "TaskValue",
    "__version__",
]


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
