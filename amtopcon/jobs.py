"""Job handles: start, wait, follow, stop and kill an AMT batch job.

A handle is cheap (four slots: the client, the `BatchRequestId`, the last message
sequence seen and the last status seen) and resumable: save `handle.batch_request_id`
and `handle.last_sequence`, and `client.job(batch_request_id, after=last_sequence)`
rebuilds it after a restart with no call.

Every decision of a wait or a follow lives in the no-I/O `amtopcon._core.watch`;
`AsyncJobHandle` (`amtopcon._async.jobs`) is a thin loop over it, and `JobHandle` is
generated from that one (`scripts/unasync.py`).
"""

from __future__ import annotations

from amtopcon._async.jobs import AsyncJobHandle
from amtopcon._sync.jobs import JobHandle

__all__ = ["AsyncJobHandle", "JobHandle"]
