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

The emulator answers in the wire contract's dialect; `pytest --amt-dialect aspnet` (or
`amt_dialect = aspnet` in the ini file) makes it answer as an ASP.NET 6 service would, and
a test or module picks one by overriding the `amt_dialect` fixture, or runs on both with
`@pytest.mark.parametrize("amt_dialect", ["contract", "aspnet"])`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # pragma: no cover
    from amtopcon import AsyncClient, Client
    from amtopcon._wire.names import Dialect
    from amtopcon.testing._engine import Emulator

__all__ = ["amt_client", "amt_dialect", "amt_emulator", "async_amt_client", "pytest_addoption"]

_DIALECTS = ("contract", "aspnet")


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--amt-dialect` (and the ini value `amt_dialect`): how `amt_emulator` writes its answers."""
    help_text = "how the amt_emulator fixture answers: contract (default) or aspnet (as ASP.NET 6 writes)"
    parser.addoption("--amt-dialect", choices=_DIALECTS, default=None, help=help_text)
    parser.addini("amt_dialect", help_text, default="contract")


@pytest.fixture
def amt_dialect(request: pytest.FixtureRequest) -> Dialect:
    """The dialect of `amt_emulator`: `--amt-dialect`, else the ini value `amt_dialect`, else
    "contract". Override this fixture (or parametrize it) to choose per test."""
    chosen = request.config.getoption("--amt-dialect") or request.config.getini("amt_dialect")
    if chosen not in _DIALECTS:
        raise pytest.UsageError(f"amt_dialect: expected contract or aspnet, got {chosen!r}")
    return "aspnet" if chosen == "aspnet" else "contract"


@pytest.fixture
def amt_emulator(amt_dialect: Dialect) -> Emulator:
    """A fresh in-process AMT batch environment (`amtopcon.testing.Emulator`) for this test.

    Default catalog (DEMO2 / RUN_PARAMETERTESTA, REPORTTEST01, LONGRUNNINGREPORT, ...),
    user `ocadm` / `opconxps`, a `VirtualClock` at 0, answering in `amt_dialect`. See
    `amt_client` for a client.
    """
    from amtopcon.testing._engine import Emulator

    return Emulator(dialect=amt_dialect)


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
