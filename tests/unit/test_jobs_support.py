"""Helpers of the job-handle tests (no tests in this module).

`amt()` is the one scripted server (tests/_fake.py `ScriptedServer`) as these tests use
it: a job's status and messages follow from its script and the injected clock, so a
`VirtualClock` runs an hour-long job in no time; it records every call (function, query,
body, clock time) and takes scripted answers per function. The twins `SyncDriver` /
`AsyncDriver` let one test body drive `JobHandle` and `AsyncJobHandle` alike.
"""

from __future__ import annotations

import contextlib
from typing import Any

from amtopcon import PollPolicy
from amtopcon._clock import Clock
from amtopcon.jobs import AsyncJobHandle, JobHandle
from amtopcon.models import Message
from amtopcon.testing import VirtualClock
from tests._fake import ScriptedServer

BASE_URL = "http://127.0.0.1:4004/AmtOpConService/"
USER = "ocadm"
PASSWORD = "s3cret-pw"
TOKEN = "tok-VERY-secret-42"


def amt(clock: Clock | None = None) -> ScriptedServer:
    """The scripted server as these tests use it: one token, only the jobs it started
    (404 otherwise), on a `VirtualClock` unless a clock is given."""
    return ScriptedServer(
        clock if clock is not None else VirtualClock(),
        user=USER,
        password=PASSWORD,
        token=TOKEN,
        fixed_token=True,
        any_job=False,
    )


#: A policy without jitter, so tests can predict when each check happens.
EXACT = PollPolicy(
    initial_delay=1.0, interval=1.0, backoff=1.5, max_interval=5.0, jitter=0.0, max_outage=300.0, elapsed_fraction=0.0
)


class SyncDriver:
    """Drives a `JobHandle` through coroutine-shaped calls (they do not really await)."""

    name = "sync"

    def __init__(self, fake: ScriptedServer, **client_kwargs: Any) -> None:
        self.fake = fake
        self.client = fake.client(**client_kwargs)

    async def start(self, *args: Any, **kwargs: Any) -> JobHandle:
        return self.client.start(*args, **kwargs)

    async def run(self, *args: Any, **kwargs: Any) -> Any:
        return self.client.run(*args, **kwargs)

    def job(self, brid: int, after: int = 0) -> JobHandle:
        return self.client.job(brid, after=after)

    async def call(self, handle: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(handle, method)(*args, **kwargs)

    async def follow(self, handle: Any, limit: int | None = None, **kwargs: Any) -> list[Message]:
        out: list[Message] = []
        for message in handle.follow(**kwargs):
            out.append(message)
            if limit is not None and len(out) >= limit:
                break
        return out

    async def raise_inside(self, handle: Any, exc: BaseException) -> None:
        with handle:
            raise exc

    async def leave_normally(self, handle: Any) -> None:
        with handle:
            pass


class AsyncDriver(SyncDriver):
    """Drives an `AsyncJobHandle`."""

    name = "async"

    def __init__(self, fake: ScriptedServer, **client_kwargs: Any) -> None:
        self.fake = fake
        self.client = fake.async_client(**client_kwargs)  # type: ignore[assignment]

    async def start(self, *args: Any, **kwargs: Any) -> AsyncJobHandle:  # type: ignore[override]
        return await self.client.start(*args, **kwargs)  # type: ignore[no-any-return,misc]

    async def run(self, *args: Any, **kwargs: Any) -> Any:
        return await self.client.run(*args, **kwargs)  # type: ignore[misc]

    def job(self, brid: int, after: int = 0) -> AsyncJobHandle:  # type: ignore[override]
        return self.client.job(brid, after=after)  # type: ignore[return-value]

    async def call(self, handle: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        return await getattr(handle, method)(*args, **kwargs)

    async def follow(self, handle: Any, limit: int | None = None, **kwargs: Any) -> list[Message]:
        out: list[Message] = []
        async with contextlib.aclosing(handle.follow(**kwargs)) as messages:
            async for message in messages:
                out.append(message)
                if limit is not None and len(out) >= limit:
                    break
        return out

    async def raise_inside(self, handle: Any, exc: BaseException) -> None:
        async with handle:
            raise exc

    async def leave_normally(self, handle: Any) -> None:
        async with handle:
            pass
