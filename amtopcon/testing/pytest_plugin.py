"""pytest fixtures for code built on `amtopcon`, registered by entry point (`pytest11`).

Installing `amtopcon` makes these fixtures available in every test suite, with no
import and no `conftest.py`:

```python
def test_report_runs(amt_client, amt_emulator):
    started = amt_client.job_action("START", application="DEMO2", job="REPORTTEST01")
    amt_emulator.advance(60)
    assert amt_client.monitor_job(started.batch_request_id).succeeded
```

`amt_emulator` is a fresh `amtopcon.testing.Emulator` per test, with the default
catalog and a virtual clock at 0: script your own jobs with `amt_emulator.add_job(...)`,
move time with `amt_emulator.advance(seconds)`, inject faults with
`amt_emulator.faults`. The clients wait on its clock, so polling an hour-long job takes
milliseconds. The module imports nothing heavy until a fixture is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # pragma: no cover
    from amtopcon import AsyncClient, Client
    from amtopcon.testing._engine import Emulator

__all__ = ["amt_client", "amt_emulator", "async_amt_client"]


@pytest.fixture
def amt_emulator() -> Emulator:
    """A fresh in-process AMT batch environment (`amtopcon.testing.Emulator`) for this test.

    Default catalog (DEMO2 / RUN_PARAMETERTESTA, REPORTTEST01, LONGRUNNINGREPORT, ...),
    user `ocadm` / `opconxps`, a `VirtualClock` at 0. See `amt_client` for a client.
    """
    from amtopcon.testing._engine import Emulator

    return Emulator()


@pytest.fixture
def amt_client(amt_emulator: Emulator) -> Iterator[Client]:
    """An `amtopcon.Client` wired to `amt_emulator` (no network); closed after the test.

    It logs on as `ocadm` and waits on the emulator's virtual clock.
    """
    client = amt_emulator.client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def async_amt_client(amt_emulator: Emulator) -> AsyncClient:
    """An `amtopcon.AsyncClient` wired to `amt_emulator` (no network).

    A plain fixture, so it works under any async test runner (anyio, pytest-asyncio);
    it holds no sockets, so nothing needs closing (`await client.aclose()` is harmless).
    """
    return amt_emulator.async_client()
