"""amtopcon: the Python SDK for AMTOpCon, the REST interface through which OpCon drives
Asysco AMT (LION) batch jobs.

Names are loaded lazily (PEP 562), so `import amtopcon` stays cheap: `amtopcon --version`
and `amtopcon encode` load neither httpx nor cattrs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from amtopcon._lazy import lazy_attributes
from amtopcon._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from amtopcon._async.client import AsyncClient
    from amtopcon._async.jobs import AsyncJobHandle
    from amtopcon._clock import Clock
    from amtopcon._core.settings import ClientOptions
    from amtopcon._sync.client import Client
    from amtopcon._sync.jobs import JobHandle
    from amtopcon.criteria import ExitCriteria
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
