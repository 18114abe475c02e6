"""The scripts in examples/ run, the downstream connector's tests pass, the notebook runs cell by cell."""

from __future__ import annotations

import ast
import asyncio
import inspect
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
NOTEBOOK = EXAMPLES / "notebook_explore.py"

pytestmark = pytest.mark.slow


def _env(**extra: str) -> dict[str, str]:
    """The environment without AMTOPCON_* settings (the scripts then use an in-process emulator)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMTOPCON_")}
    env.update(extra)
    return env


def _run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=_env() if env is None else env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_sync_run_prints_the_job_log() -> None:
    done = _run("examples/sync_run.py")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Job 'RUN_PARAMETERTESTA' started in AMT")
    assert "\"Value test param ['PARAM']\"" in lines
    assert lines[-1].startswith("DEMO2/RUN_PARAMETERTESTA ended DONE (4)")


def test_sync_run_exits_1_for_a_failed_job() -> None:
    done = _run("examples/sync_run.py", "DEMO2", "ERRORTEST01")
    assert done.returncode == 1, done.stderr
    assert "ended ERROR (11) (Report ended in error)" in done.stdout


@pytest.fixture
def served_url() -> Iterator[str]:
    from amtopcon.testing import Emulator, EmulatorServer, SpeedClock

    with EmulatorServer(Emulator(clock=SpeedClock(300.0)), "127.0.0.1", 0) as server:
        yield server.url


def test_sync_run_uses_the_server_in_the_environment(served_url: str) -> None:
    env = _env(AMTOPCON_BASE_URL=served_url, AMTOPCON_USER="ocadm", AMTOPCON_PASSWORD="opconxps")
    done = _run("examples/sync_run.py", "DEMO2", "REPORTTEST01", env=env)
    assert done.returncode == 0, done.stderr
    assert f"started in AMT at {served_url}" in done.stdout
    assert "ended DONE (4)" in done.stdout


def test_async_fanout_gathers_every_result() -> None:
    done = _run("examples/async_fanout.py", "30")
    assert done.returncode == 0, done.stderr
    assert "started 30 jobs" in done.stdout
    assert done.stdout.splitlines()[-1] == "summary: 10 ABORTED, 10 DONE, 10 ERROR"


def test_follow_log_prints_each_message_once_and_resumes() -> None:
    done = _run("examples/follow_log.py")
    assert done.returncode == 0, done.stderr
    sequences = [int(line.split()[0]) for line in done.stdout.splitlines() if line.split()[0].isdigit()]
    assert sequences == list(range(1, 11))
    assert done.stdout.splitlines()[-1].endswith("resume with --batch-request-id 2112 --after 10")
    # Re-attaching to a job the emulator does not know is an error, not a traceback of ours.
    missing = _run("examples/follow_log.py", "--batch-request-id", "9999", "--after", "3")
    assert missing.returncode != 0
    assert "BATCH_REQUEST_NOT_FOUND" in missing.stderr


def test_the_downstream_connector_tests_pass_under_pytest() -> None:
    unused = ["-p", "no:hypothesispytest", "-p", "no:schemathesis", "-p", "no:pytest_httpx"]  # 1.5 s of imports
    example = "examples/test_downstream_connector.py"
    done = _run("-m", "pytest", "-q", "-p", "no:cacheprovider", *unused, example, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "failed" not in done.stdout


def _cells(path: Path) -> list[str]:
    import jupytext

    notebook = jupytext.read(path)
    assert notebook.metadata["jupytext"]["text_representation"]["format_name"] == "percent"
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def run_notebook(path: Path) -> dict[str, Any]:
    """Run a jupytext notebook's code cells in order in one namespace and one event loop, as a kernel does."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    loop = asyncio.new_event_loop()
    try:
        for number, source in enumerate(_cells(path), start=1):
            code = compile(source, f"{path.name}[cell {number}]", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            if code.co_flags & inspect.CO_COROUTINE:
                loop.run_until_complete(eval(code, namespace))
            else:
                exec(code, namespace)
    finally:
        loop.close()
    return namespace


def test_the_notebook_runs_cell_by_cell() -> None:
    ns = run_notebook(NOTEBOOK)
    assert ns["result"].code.name == "DONE"
    assert "<table " in ns["html"] and "succeeded" in ns["html"]
    assert [code for _, code, _ in ns["timeline"]][-1] == "RUNNING"
    assert ns["changes"][0] == "RUNNING" and "WAIT_FOR_FILE" in ns["changes"] and ns["changes"][-1] == "DONE"
    assert [r.code.name for r in ns["results"]] == ["DONE", "ERROR", "ABORTED"]


def test_the_notebook_pairs_with_an_ipynb(tmp_path: Path) -> None:
    import jupytext

    notebook = jupytext.read(NOTEBOOK)
    target = tmp_path / "notebook_explore.ipynb"
    jupytext.write(notebook, target)
    again = jupytext.read(target)
    assert [c.source for c in again.cells] == [c.source for c in notebook.cells]
    assert sum(c.cell_type == "markdown" for c in notebook.cells) >= 5
