"""The emulator through its in-process door with `AsyncClient` (anyio, asyncio backend)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import anyio
import pytest

from amtopcon import AsyncClient, CompletionCode, JobStatus
from amtopcon import _wire as w
from amtopcon.errors import ConflictError, NotFoundError, StartOutcomeUnknownError
from amtopcon.testing import DEFAULT_EPOCH, Emulator
from tests._realtime import forbid_real_sleep

pytestmark = pytest.mark.anyio
C = CompletionCode


@pytest.fixture
def emulator() -> Emulator:
    return Emulator()


@pytest.fixture
def client(emulator: Emulator) -> AsyncClient:
    return emulator.async_client()


async def start(client: AsyncClient, job: str | None = "REPORTTEST01", **kwargs: Any) -> int:
    answer = await client.job_action("START", application="DEMO2", job=job, **kwargs)
    return answer.batch_request_id


async def poll_until_done(client: AsyncClient, brid: int, interval: float = 5.0) -> JobStatus:
    status = await client.monitor_job(brid)
    while not status.is_terminal:
        await client.clock.asleep(interval)  # advances the emulator's virtual clock
        status = await client.monitor_job(brid)
    return status


async def test_an_hour_long_job_finishes_without_real_waiting(
    emulator: Emulator, client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = forbid_real_sleep(monkeypatch)  # any real sleep fails the test
    brid = await start(client, "LONGRUNNINGREPORT")
    status = await poll_until_done(client, brid)
    assert status.code is C.DONE
    assert status.ended_at == DEFAULT_EPOCH + timedelta(hours=1)
    assert emulator.now == 3600  # polled every 5 s of virtual time: the check at 3600 s saw it end
    answered = [r.time for r in emulator.requests if r.function == w.MONITOR_JOB and r.status == 200]
    assert answered == [5.0 * i for i in range(3600 // 5 + 1)]
    assert refused == []
    page = await client.get_messages(brid)
    assert page.messages[-1].text == "Done"


async def test_parameter_test_echoes_the_parameter(emulator: Emulator, client: AsyncClient) -> None:
    brid = await start(client, "RUN_PARAMETERTESTA", parameters=["'PARAM'"])
    assert (await poll_until_done(client, brid)).succeeded
    page = await client.get_messages(brid)
    assert "Value test param ['PARAM']" in [m.text for m in page.messages]


async def test_jobs_beyond_the_queue_limit_stay_queued(emulator: Emulator, client: AsyncClient) -> None:
    ids = [await start(client, queue="SERIAL") for _ in range(2)]
    assert [(await client.monitor_job(i)).code for i in ids] == [C.RUNNING, C.QUEUED]
    answer = await client.job_action("STOP", batch_request_id=ids[1])
    assert answer.code is C.DEL_QUEUE


async def test_stop_and_kill(emulator: Emulator, client: AsyncClient) -> None:
    stopped = await start(client, "LONGRUNNINGREPORT")
    killed = await start(client, "LONGRUNNINGREPORT")
    emulator.advance(650)
    assert (await client.job_action("STOP", batch_request_id=stopped)).code is C.RUNNING
    assert (await client.job_action("KILL", batch_request_id=killed)).code is C.KILLED
    assert (await poll_until_done(client, stopped)).code is C.ABORTED
    assert emulator.now >= 1200
    with pytest.raises(ConflictError):
        await client.job_action("KILL", batch_request_id=stopped)


async def test_not_found_and_task_id_dedup(emulator: Emulator, client: AsyncClient) -> None:
    with pytest.raises(NotFoundError) as info:
        await start(client, "NOJOB")
    assert info.value.error_code == w.E_JOB_NOT_FOUND
    with pytest.raises(NotFoundError) as info:
        await client.monitor_job(4242)
    assert info.value.error_code == w.E_BATCH_REQUEST_NOT_FOUND
    task_id = "1b7d3f52-9a6e-4e43-8f0c-2f7f4f3e2a10"
    first = await start(client, task_id=task_id)
    assert await start(client, task_id=task_id) == first
    assert emulator.batch_request_ids() == [first]


async def test_run_as_and_file_name_failures(emulator: Emulator, client: AsyncClient) -> None:
    user = await start(client, run_as="NOBODY")
    missing = await start(client, None, file_name="F:\\Amt\\Scripts\\DEMO2\\RUN_FILENAMETEST.ps1")
    assert (await client.monitor_job(user)).code is C.INVALID_AMT_USER
    status = await poll_until_done(client, missing, interval=1)
    assert status.code is C.ERROR and status.description == "File not found"


async def test_token_expiry_and_a_busy_server(emulator: Emulator, client: AsyncClient) -> None:
    brid = await start(client)
    emulator.advance(emulator.token_ttl)
    emulator.faults.fail_next(w.MONITOR_JOB, 503, retry_after=1)
    status = await client.monitor_job(brid)
    assert status.code is C.DONE
    assert [(r.function, r.status) for r in emulator.requests][2:] == [
        (w.MONITOR_JOB, 503),
        (w.MONITOR_JOB, 401),
        (w.LOGON, 200),
        (w.MONITOR_JOB, 200),
    ]


async def test_concurrent_calls_after_expiry_share_one_logon(emulator: Emulator, client: AsyncClient) -> None:
    brid = await start(client)
    emulator.expire_tokens()
    results: list[JobStatus] = []

    async def check() -> None:
        results.append(await client.monitor_job(brid))

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(check)
    assert len(results) == 5
    assert [r.function for r in emulator.requests].count(w.LOGON) == 2


async def test_drop_and_delay(emulator: Emulator) -> None:
    client = emulator.async_client(timeout=5.0)
    emulator.faults.drop_next(w.JOB_ACTION, after_processing=True)
    with pytest.raises(StartOutcomeUnknownError):
        await start(client)
    assert len(emulator.batch_request_ids()) == 1
    [brid] = emulator.batch_request_ids()
    emulator.faults.delay_next(w.MONITOR_JOB, 60)  # beyond the read timeout: retried
    assert (await client.monitor_job(brid)).code is C.RUNNING
    assert 5 <= emulator.now < 20
    emulator.faults.delay_next(w.GET_MESSAGES, 2)
    await client.get_messages(brid)
    assert emulator.now >= 7


async def test_an_async_client_closes_the_pool_the_emulator_made_for_it(emulator: Emulator) -> None:
    async with emulator.async_client() as client:
        assert await client.heartbeat()
    assert client._http.is_closed
