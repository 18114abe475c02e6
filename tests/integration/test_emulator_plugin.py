"""The pytest plugin (entry point `pytest11`): fixtures `amt_emulator`, `amt_client`, `async_amt_client`."""

from __future__ import annotations

import subprocess
import sys

import pytest

from amtopcon import AsyncClient, Client, CompletionCode
from amtopcon.testing import Emulator

C = CompletionCode


def test_amt_emulator_is_fresh_per_test_first(amt_emulator: Emulator) -> None:
    assert amt_emulator.now == 0 and amt_emulator.requests == []
    amt_emulator.add_job("MINE", "ONLY_HERE", steps=[("hello", 1)])
    amt_emulator.advance(100)


def test_amt_emulator_is_fresh_per_test_second(amt_emulator: Emulator) -> None:
    assert amt_emulator.now == 0
    assert amt_emulator.catalog.job("MINE", "ONLY_HERE") is None


def test_amt_client_talks_to_amt_emulator(amt_emulator: Emulator, amt_client: Client) -> None:
    assert isinstance(amt_client, Client)
    assert amt_client.clock is amt_emulator.clock
    brid = amt_client.job_action("START", application="DEMO2", job="REPORTTEST01").batch_request_id
    amt_emulator.advance(60)
    assert amt_client.monitor_job(brid).code is C.DONE
    assert amt_emulator.batch_request_ids() == [brid]


@pytest.mark.anyio
async def test_async_amt_client_talks_to_amt_emulator(amt_emulator: Emulator, async_amt_client: AsyncClient) -> None:
    assert isinstance(async_amt_client, AsyncClient)
    answer = await async_amt_client.job_action("START", application="DEMO2", job="LONGRUNNINGREPORT")
    await async_amt_client.clock.asleep(3600)
    assert (await async_amt_client.monitor_job(answer.batch_request_id)).code is C.DONE
    await async_amt_client.aclose()


def test_the_fixtures_are_registered_by_entry_point(pytestconfig: pytest.Config) -> None:
    # No conftest defines them: they come from the installed package's `pytest11` entry point.
    plugin = pytestconfig.pluginmanager.get_plugin("amtopcon")
    assert plugin is not None and plugin.__name__ == "amtopcon.testing.pytest_plugin"
    for name in ("amt_emulator", "amt_client", "async_amt_client"):
        fixture = getattr(plugin, name)
        assert fixture.__doc__ or getattr(fixture, "__wrapped__", fixture).__doc__


def test_the_plugin_module_is_cheap_to_import() -> None:
    code = "import sys, amtopcon.testing.pytest_plugin; print('httpx' in sys.modules, 'cattrs' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False"], out.stderr
