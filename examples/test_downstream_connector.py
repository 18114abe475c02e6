"""Testing a connector built on amtopcon with the pytest plugin's fixtures.

A "downstream connector" is your code between a scheduler and AMT. Here it is the small
`run_for_scheduler()` below; in your project it lives in your package and this file in
your tests. Installing amtopcon registers the fixtures (no conftest.py needed):

* `amt_emulator`: a fresh in-process AMT batch environment per test (the vendor's sample
  jobs, the user ocadm / opconxps, a virtual clock: an hour-long job takes milliseconds);
* `amt_client` / `async_amt_client`: a `Client` / `AsyncClient` wired to it.

Run it with `pytest examples/test_downstream_connector.py`.
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import attrs
import pytest

from amtopcon import AsyncClient, Client, CompletionCode
from amtopcon.errors import (
    APIConnectionError,
    AuthenticationError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    StartOutcomeUnknownError,
    WaitTimeoutError,
)
from amtopcon.testing import Emulator

# --------------------------------------------------------------------------- the connector


@attrs.frozen
class Outcome:
    """What the connector hands back to its scheduler."""

    exit_code: int
    log: tuple[str, ...] = ()
    note: str = ""
    batch_request_id: int | None = None


def run_for_scheduler(
    client: Client, application: str, job: str, parameters: Sequence[str] = (), *, timeout: float | None = None
) -> Outcome:
    """Start a job, wait for it, and turn whatever happens into an exit code.

    Exit codes as the AMT connectors use them: the job's completion code; 11 for an
    unknown job; 23 when the server is unreachable or a START's outcome is unknown (never
    resent: the job may be queued); 24 when the credentials are refused. On `timeout`
    the job is killed.
    """
    try:
        handle = client.start(application, job, parameters=list(parameters))
    except StartOutcomeUnknownError as exc:
        return Outcome(23, note=f"START outcome unknown, not resent; look for TaskId {exc.task_id} in AMT")
    except NotFoundError as exc:
        return Outcome(11, note=exc.message)
    except (AuthenticationError, PermissionDeniedError) as exc:
        return Outcome(24, note=exc.message)
    except (APIConnectionError, InternalServerError) as exc:
        return Outcome(23, note=str(exc))
    try:
        result = handle.wait(timeout=timeout)
    except WaitTimeoutError:
        handle.kill()
        result = handle.wait()
        return Outcome(
            result.exit_code,
            tuple(m.text for m in result.messages),
            "killed after the timeout",
            handle.batch_request_id,
        )
    return Outcome(
        result.exit_code,
        tuple(m.text for m in result.messages),
        result.status.description or "",
        handle.batch_request_id,
    )


async def run_many(client: AsyncClient, jobs: Sequence[tuple[str, str]]) -> list[int]:
    """The async side: run several jobs together (asyncio or trio), return their exit codes in order."""
    handles = [await client.start(application, job) for application, job in jobs]
    codes = [0] * len(handles)

    async def wait(index: int) -> None:
        codes[index] = (await handles[index].wait()).exit_code

    async with anyio.create_task_group() as group:
        for index in range(len(handles)):
            group.start_soon(wait, index)
    return codes


# --------------------------------------------------------------------------- its tests


def test_a_done_job_exits_4_with_its_log(amt_client: Client) -> None:
    outcome = run_for_scheduler(amt_client, "DEMO2", "RUN_PARAMETERTESTA", ["'PARAM'"])
    assert outcome.exit_code == 4
    assert "Value test param ['PARAM']" in outcome.log
    assert outcome.log[-1] == "DEMO2 RUN_PARAMETERTEST : Job finished"


def test_a_failing_job_exits_with_its_code(amt_client: Client) -> None:
    outcome = run_for_scheduler(amt_client, "DEMO2", "ERRORTEST01")
    assert outcome.exit_code == 11  # CompletionCode.ERROR
    assert outcome.note == "Report ended in error"


def test_a_job_scripted_for_this_test(amt_emulator: Emulator, amt_client: Client) -> None:
    amt_emulator.add_job(
        "PAYROLL",
        "MONTHLY",
        steps=[("Payroll for {param[0]} started", 600), ("Payroll booked", 60)],
        final=CompletionCode.ABORTED,
        description="Control totals differ",
    )
    outcome = run_for_scheduler(amt_client, "PAYROLL", "MONTHLY", ["2026-01"])
    assert outcome == Outcome(
        12, ("Payroll for 2026-01 started", "Payroll booked"), "Control totals differ", outcome.batch_request_id
    )


def test_an_unknown_job_exits_11(amt_client: Client) -> None:
    assert run_for_scheduler(amt_client, "DEMO2", "NO_SUCH_JOB").exit_code == 11


def test_refused_credentials_exit_24(amt_emulator: Emulator) -> None:
    with amt_emulator.client(password="wrong") as client:
        assert run_for_scheduler(client, "DEMO2", "REPORTTEST01").exit_code == 24


def test_a_busy_server_while_waiting_is_ridden_out(amt_emulator: Emulator, amt_client: Client) -> None:
    amt_emulator.faults.fail_next("MonitorJob", 503, times=3, retry_after=1)
    assert run_for_scheduler(amt_client, "DEMO2", "REPORTTEST01").exit_code == 4


def test_a_start_with_unknown_outcome_is_never_resent(amt_emulator: Emulator, amt_client: Client) -> None:
    amt_emulator.faults.drop_next("OpConJobAction", after_processing=True)
    outcome = run_for_scheduler(amt_client, "DEMO2", "REPORTTEST01")
    assert outcome.exit_code == 23
    assert "TaskId" in outcome.note
    starts = [r for r in amt_emulator.requests if r.function == "OpConJobAction"]
    assert len(starts) == 1  # sent once; the emulator did queue the job
    assert len(amt_emulator.batch_request_ids()) == 1


def test_a_timeout_kills_the_job(amt_emulator: Emulator, amt_client: Client) -> None:
    outcome = run_for_scheduler(amt_client, "DEMO2", "LONGRUNNINGREPORT", timeout=300)
    assert outcome.exit_code == CompletionCode.KILLED
    assert outcome.batch_request_id is not None
    assert amt_emulator.status(outcome.batch_request_id).code is CompletionCode.KILLED


@pytest.mark.anyio
async def test_async_jobs_run_together(async_amt_client: AsyncClient) -> None:
    codes = await run_many(async_amt_client, [("DEMO2", "REPORTTEST01"), ("DEMO2", "ABORTTEST01")])
    assert codes == [4, 12]
