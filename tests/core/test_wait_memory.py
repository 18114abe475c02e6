"""What keeps 10,000 parked waits small: no empty list per watch, one object for a text
that every answer repeats."""

from __future__ import annotations

import json

import pytest

from amtopcon._core.watch import NO_PENDING
from amtopcon._wire import names as n
from amtopcon._wire.responses import parse_job_status
from amtopcon.testing import Emulator

pytestmark = pytest.mark.anyio


def _answer(**extra: object) -> dict[str, object]:
    # Parsed from JSON text each time, as the client does: equal strings, distinct objects.
    body = {n.F_BATCH_REQUEST_ID: 7, n.F_STATUS: 0, n.F_APPLICATION: "PAYROLL", n.F_JOB_NAME: "NIGHTLY", **extra}
    data: dict[str, object] = json.loads(json.dumps(body))
    return data


def test_answers_that_repeat_a_text_share_one_object() -> None:
    first, second = parse_job_status(_answer()), parse_job_status(_answer())
    assert first.application == second.application == "PAYROLL"
    assert first.application is second.application
    assert first.job_name is second.job_name
    long = "x" * 300  # a long text is kept as it came (nothing long is held on to)
    a, b = parse_job_status(_answer(**{n.F_DESCRIPTION: long})), parse_job_status(_answer(**{n.F_DESCRIPTION: long}))
    assert a.description == b.description == long and a.description is not b.description


async def test_messages_of_a_silent_job_are_a_list_of_the_callers_own() -> None:
    emulator = Emulator()
    emulator.add_job("APP", "QUIET", steps=[])
    async with emulator.async_client() as client:
        handle = await client.start("APP", "QUIET")
        first = await handle.messages()
        first.append("mine")  # type: ignore[arg-type]
        assert await handle.messages() == []
        result = await handle.wait()
    assert result.messages == () and NO_PENDING == []
