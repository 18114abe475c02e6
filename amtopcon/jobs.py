"""Job handles: start, wait, follow, stop and kill an AMT batch job.

(Placeholder: filled in by the job-handles work.)
"""

from __future__ import annotations

__all__ = ["AsyncJobHandle", "JobHandle"]


class JobHandle:
    """A started (or re-attached) AMT batch job."""


class AsyncJobHandle:
    """The asynchronous twin of `JobHandle`."""


class SyncJobMethods:
    """`start`, `job` and `run` of `Client`."""


class AsyncJobMethods:
    """`start`, `job` and `run` of `AsyncClient`."""
