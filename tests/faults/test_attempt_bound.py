"""The bound of one async attempt (issue 10's fast path replaced its anyio cancel scope by
the event loop's own timer on asyncio): a stalled answer still ends by the attempt's
time on both event loops, and a cancellation from outside still belongs to its caller."""

from __future__ import annotations

import asyncio

import anyio
import httpx
import pytest

from amtopcon import AsyncClient
from amtopcon.errors import APITimeoutError

from ._server import FaultServer
from .test_hostile import PASSWORD, answering, trickle_body, trickle_headers

both_loops = pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
scripts = pytest.mark.parametrize("script", [trickle_body, trickle_headers], ids=["body", "headers"])


def _client(server: FaultServer) -> AsyncClient:
    # No total_timeout: only the attempt's own bound (connect + read timeout) can end it.
    return AsyncClient(server.url, username="u", password=PASSWORD, timeout=0.5, total_timeout=None, max_retries=0)


@pytest.mark.anyio
@both_loops
@scripts
async def test_a_trickled_answer_ends_by_the_attempts_own_bound(script: object) -> None:
    with FaultServer(answering(script)) as server:
        async with _client(server) as c:
            with anyio.fail_after(12):  # the bound proving it does not hang
                with pytest.raises(APITimeoutError):
                    await c.monitor_job(1)


@pytest.mark.anyio
@scripts
async def test_a_timed_out_attempt_leaves_no_cancellation_behind_on_asyncio(script: object) -> None:
    with FaultServer(answering(script)) as server:
        async with _client(server) as c:
            with pytest.raises(APITimeoutError):
                await c.monitor_job(1)
            task = asyncio.current_task()
            assert task is not None
            assert task.cancelling() == 0
            await asyncio.sleep(0)  # no cancellation is delivered later either


@pytest.mark.anyio
@both_loops
@scripts
async def test_a_callers_cancel_scope_is_the_callers(script: object) -> None:
    with FaultServer(answering(script)) as server:
        async with _client(server) as c:
            with anyio.fail_after(12):
                with anyio.move_on_after(0.3) as scope:
                    await c.monitor_job(1)
            assert scope.cancelled_caught


@pytest.mark.anyio
async def test_a_callers_asyncio_timeout_is_the_callers() -> None:
    with FaultServer(answering(trickle_headers)) as server:
        async with _client(server) as c:
            with pytest.raises(TimeoutError) as caught:
                async with asyncio.timeout(0.3):
                    await c.monitor_job(1)
            assert not isinstance(caught.value, APITimeoutError)


def test_the_attempts_timer_reads_the_event_loops_own_clock() -> None:
    # A loop whose clock is not time.monotonic() (a fake-time test loop, say): a 10 s
    # attempt must neither end at once nor run past its bound.
    import asyncio
    import time

    from amtopcon._core.primitives import AsyncAttempt

    class AheadLoop(asyncio.SelectorEventLoop):
        def time(self) -> float:
            return time.monotonic() + 100.0

    async def short_body() -> str:
        with AsyncAttempt(10.0, None, httpx.Request("GET", "http://127.0.0.1/x")):
            await asyncio.sleep(0.01)
        return "whole"

    async def endless_body() -> None:
        with AsyncAttempt(0.05, None, httpx.Request("GET", "http://127.0.0.1/x")):
            await asyncio.sleep(30)

    loop = AheadLoop()
    try:
        assert loop.run_until_complete(short_body()) == "whole"
        with pytest.raises(httpx.ReadTimeout):
            loop.run_until_complete(asyncio.wait_for(endless_body(), 5))
    finally:
        loop.close()
