"""Where the operator keeps the ids of its AMT job so that a retry finds them.

Airflow 3.3 and later: the task state store (kept across the tries of a task instance).
Older versions: XCom, which keeps them across a deferral but not across a retry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["STATE_KEY", "JobState"]

#: The key under which the job's ids are kept (`{"task_id": ..., "batch_request_id": ...}`).
STATE_KEY: Final = "amtopcon_job"


class JobState:
    """The saved ids of this task instance's AMT job.

    `{"task_id", "batch_request_id", "try_number", "done"}`: `done` is set once the task
    has concluded with that job, so only a try that did not conclude is carried on.
    """

    def __init__(self, context: Mapping[str, Any]) -> None:
        self._store = context.get("task_state_store")
        self._ti = context.get("ti")

    @property
    def survives_retries(self) -> bool:
        """True when a retry can read what this try saved (the task state store is there)."""
        return self._store is not None

    def get(self) -> dict[str, Any] | None:
        """What an earlier try (or this one) saved, or None."""
        value: Any
        if self._store is not None:
            value = self._store.get(STATE_KEY)
        elif self._ti is not None:
            value = self._ti.xcom_pull(task_ids=self._ti.task_id, key=STATE_KEY, map_indexes=self._ti.map_index)
        else:
            value = None
        return dict(value) if isinstance(value, Mapping) else None

    def set(self, value: Mapping[str, Any]) -> None:
        """Save the ids (before START the TaskId alone; after it, the BatchRequestId too)."""
        data = {k: v for k, v in value.items() if v is not None}
        if self._store is not None:
            self._store.set(STATE_KEY, data)
        elif self._ti is not None:
            self._ti.xcom_push(key=STATE_KEY, value=data)

    def conclude(self) -> None:
        """The task is over with this job (it succeeded, failed by its code, or was killed):
        a later try (a user's re-run) starts a new job instead of re-attaching."""
        saved = self.get()
        if saved:
            self.set({**saved, "done": True})

    def clear(self) -> None:
        """Forget the ids (a START that certainly did not start the job)."""
        if self._store is not None:
            self._store.delete(STATE_KEY)
        elif self._ti is not None:
            self._ti.xcom_push(key=STATE_KEY, value={})
