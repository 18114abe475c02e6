"""`AmtOpConJobTrigger`: waits for an AMT job in the triggerer's event loop.

Every trigger of one triggerer that uses the same connection shares one `AsyncClient`
(one connection pool, one logon): see `shared_client`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

import httpx
from airflow.triggers.base import BaseTrigger, TriggerEvent

from amtopcon import AsyncClient, AsyncJobHandle, Message, PollPolicy
from amtopcon.airflow._settings import DEFAULT_CONN_ID, poll_from_dict, poll_to_dict
from amtopcon.airflow.hooks import AmtOpConHook
from amtopcon.errors import AmtOpConError, ValidationError, WaitTimeoutError

__all__ = ["AmtOpConJobTrigger", "shared_client"]

#: Seconds the KILL sent on a timeout or by `on_kill` may take (retries and a logon included).
KILL_TIMEOUT: Final = 20.0
#: How many of the last messages an event carries (the error message of a failed task shows them).
DEFAULT_TAIL: Final = 20


# --------------------------------------------------------------------------- one client per connection


class _Shared:
    """One client of one connection in one event loop, and how many triggers use it."""

    __slots__ = ("making", "users")

    def __init__(self, making: asyncio.Task[tuple[AsyncClient, httpx.AsyncClient]]) -> None:
        self.making = making
        self.users = 0


_REGISTRY: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Shared]] = weakref.WeakKeyDictionary()


async def _close(entry: _Shared) -> None:
    task = entry.making
    if not task.done():
        task.cancel()
        return
    if task.cancelled() or task.exception() is not None:
        return
    client, pool = task.result()
    await client.aclose()
    await pool.aclose()


@contextlib.asynccontextmanager
async def shared_client(amtopcon_conn_id: str = DEFAULT_CONN_ID) -> AsyncIterator[AsyncClient]:
    """The `AsyncClient` of a connection, shared by everyone in this event loop who holds it.

    The first holder reads the connection and makes the client; the others wait for it
    and share its pool and logon token. The pool lets `max_connections` requests (a
    connection extra, default 20) be in flight at once; the others queue in order. The
    last one to leave closes it, so a changed connection is read again once no trigger
    uses the old one. A failure to make the
    client (a bad connection) reaches every waiting holder; the next one tries again.
    """
    loop = asyncio.get_running_loop()
    per_loop = _REGISTRY.setdefault(loop, {})
    entry = per_loop.get(amtopcon_conn_id)
    if entry is None:
        making = loop.create_task(AmtOpConHook(amtopcon_conn_id).aget_shared_async_client(), name="amtopcon-client")
        entry = per_loop[amtopcon_conn_id] = _Shared(making)
    entry.users += 1
    try:
        try:
            client, _ = await asyncio.shield(entry.making)
        except Exception:
            if per_loop.get(amtopcon_conn_id) is entry:
                del per_loop[amtopcon_conn_id]
            raise
        yield client
    finally:
        entry.users -= 1
        if entry.users == 0:
            if per_loop.get(amtopcon_conn_id) is entry:
                del per_loop[amtopcon_conn_id]
            await asyncio.shield(_close(entry))


def shared_client_count() -> int:
    """How many shared clients are open in the running event loop (for tests and benchmarks)."""
    return len(_REGISTRY.get(asyncio.get_running_loop(), {}))


# --------------------------------------------------------------------------- the trigger


def _message_line(batch_request_id: int, message: Message) -> str:
    return f"AMT job {batch_request_id} #{message.sequence} {message.severity}: {message.text}"


class AmtOpConJobTrigger(BaseTrigger):
    """Waits for an AMT batch job to end, writing its messages to the task log as they come.

    It serialises to ids and settings only (never a secret: the credentials are read
    from the connection in the triggerer), and yields one `TriggerEvent` whose payload
    is a dict with `outcome`:

    * `"ended"`: the job ended; `status` is its final `JobStatus.to_dict()`;
    * `"timeout"`: `deadline` passed first; `killed` says whether the job was killed;
    * `"error"`: the service could not be asked (an outage longer than the poll policy's
      `max_outage`, a refused logon, an unknown id); `error_type` and `message` say what.

    Every payload also has `batch_request_id`, `last_sequence` (the last message logged)
    and `tail` (the last messages, as `Message.to_dict()`).

    Args:
        batch_request_id: the job's `BatchRequestId`.
        amtopcon_conn_id: the Airflow connection.
        after: messages up to this sequence were already logged (the follow starts after it).
        poll: the `PollPolicy` (or its fields as a dict; None: the connection's).
        deadline: Unix time at which to stop waiting (None: no deadline).
        kill_on_timeout: KILL the job when the deadline passes.
        cancel_on_kill: KILL the job when a user kills the task (`on_kill`). Cleanup
            (a triggerer restart or hand-over) never does.
        log_messages: write each job message to the task log once, as it comes.
        tail: how many of the last messages the event carries.
    """

    def __init__(
        self,
        *,
        batch_request_id: int,
        amtopcon_conn_id: str = DEFAULT_CONN_ID,
        after: int = 0,
        poll: Mapping[str, Any] | PollPolicy | None = None,
        deadline: float | None = None,
        kill_on_timeout: bool = True,
        cancel_on_kill: bool = True,
        log_messages: bool = True,
        tail: int = DEFAULT_TAIL,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        if isinstance(batch_request_id, bool) or not isinstance(batch_request_id, int) or batch_request_id <= 0:
            raise ValidationError(
                f"batch_request_id: expected a positive integer, got {batch_request_id!r}", field="batch_request_id"
            )
        self.batch_request_id = batch_request_id
        self.amtopcon_conn_id = amtopcon_conn_id
        self.after = int(after)
        self.poll = poll_from_dict(poll)
        self.deadline = None if deadline is None else float(deadline)
        self.kill_on_timeout = bool(kill_on_timeout)
        self.cancel_on_kill = bool(cancel_on_kill)
        self.log_messages = bool(log_messages)
        self.tail = int(tail)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The class path and the keyword arguments: ids and settings, no secret."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "batch_request_id": self.batch_request_id,
                "amtopcon_conn_id": self.amtopcon_conn_id,
                "after": self.after,
                "poll": None if self.poll is None else poll_to_dict(self.poll),
                "deadline": self.deadline,
                "kill_on_timeout": self.kill_on_timeout,
                "cancel_on_kill": self.cancel_on_kill,
                "log_messages": self.log_messages,
                "tail": self.tail,
            },
        )

    def _payload(
        self, outcome: str, handle: AsyncJobHandle | None, tail: deque[Message], **more: Any
    ) -> dict[str, Any]:
        status = None if handle is None or handle.last_status is None else handle.last_status.to_dict()
        return {
            "outcome": outcome,
            "batch_request_id": self.batch_request_id,
            "status": status,
            "last_sequence": self.after if handle is None else max(handle.last_sequence, self.after),
            "tail": [m.to_dict() for m in tail],
            **more,
        }

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Follow the job to its end and yield one event (see the class docstring)."""
        tail: deque[Message] = deque(maxlen=max(self.tail, 0))
        handle: AsyncJobHandle | None = None
        try:
            async with shared_client(self.amtopcon_conn_id) as client:
                handle = client.job(self.batch_request_id, after=self.after)
                timeout = None if self.deadline is None else max(self.deadline - time.time(), 0.0)
                try:
                    async for message in handle.follow(poll=self.poll, timeout=timeout):
                        tail.append(message)
                        if self.log_messages:
                            self.log.info(_message_line(self.batch_request_id, message))
                except WaitTimeoutError:
                    killed = False
                    if self.kill_on_timeout:
                        killed = await handle.kill(timeout=KILL_TIMEOUT)
                        if killed:
                            self.log.warning("AMT job %d: deadline passed; KILL sent", self.batch_request_id)
                    if killed or not self.kill_on_timeout:
                        event = self._payload("timeout", handle, tail, killed=killed)
                    else:  # it ended just as the deadline passed: report how
                        await handle.status()
                        event = self._payload("ended", handle, tail)
                else:
                    event = self._payload("ended", handle, tail)
        except AmtOpConError as exc:
            event = self._payload("error", handle, tail, error_type=type(exc).__name__, message=str(exc))
        yield TriggerEvent(event)  # type: ignore[no-untyped-call]

    async def on_kill(self) -> None:
        """A user killed the task (mark failed, clear, ...): KILL the job, if `cancel_on_kill`."""
        if not self.cancel_on_kill:
            self.log.info("AMT job %d left running (cancel_on_kill is off)", self.batch_request_id)
            return
        async with shared_client(self.amtopcon_conn_id) as client:
            killed = await client.job(self.batch_request_id).kill(timeout=KILL_TIMEOUT)
        if killed:
            self.log.warning("AMT job %d: the task was killed; KILL sent", self.batch_request_id)
        else:
            self.log.info("AMT job %d had already ended; nothing to kill", self.batch_request_id)

    async def cleanup(self) -> None:
        """The trigger leaves this triggerer (it fired, or the triggerer stops or hands it over).

        Never touches the job: a triggerer restart must not cancel it. The shared client
        is released when `run()` ends.
        """
