"""`mypy --strict` catches the typos of issue 12 before they run, and accepts what is right.

One mypy run over a folder of small snippets (mypy is slow: its cache lives in tmp_path);
each snippet that must fail is checked to fail on its own line, with the expected message.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

HEAD = (
    "import amtopcon\nfrom amtopcon.testing import Emulator\n\nclient = amtopcon.Client('https://amt.example.com/')\n"
)

MUST_FAIL = {
    "action_typo": ('client.job_action("STRAT", batch_request_id=1)', "No overload variant"),
    "start_option_typo": (
        'client.job_action("START", application="A", job="J", paramters=["X=1"])',
        "No overload variant",
    ),
    "stop_with_start_options": ('client.job_action("STOP", batch_request_id=1, parameters=["X"])', "No overload"),
    "start_without_application": ('client.job_action("START", job="J")', "No overload variant"),
    "fault_function_typo": ('Emulator().faults.fail_next("MonitorJb", 503)', "MonitorJb"),
    "delay_function_typo": ('Emulator().faults.delay_next("Heartbeat", 1.0)', "Heartbeat"),
    "parameters_as_a_string": ('client.start("A", "J", parameters="abc")', '"parameters"'),
    "start_parameters_as_a_string": ('client.job_action("START", application="A", parameters="abc")', "No overload"),
    "task_value_triples": ('client.start("A", "J", task_values=[("A", "B", "C")])', "incompatible type"),
    "raw_action_typo": ('client.with_raw_response.job_action("KIL", batch_request_id=1)', "No overload variant"),
    "raw_start_option_typo": (
        'client.with_raw_response.job_action("START", application="A", paramters=["X=1"])',
        '"paramters"',
    ),
    "raw_kill_as_start": ('client.with_raw_response.job_action("KILL", application="A")', "No overload variant"),
    "add_job_keyword_typo": ('Emulator().add_job("A", "J", step=[("x", 1)])', '"step"'),
    "timeout_as_text": ('client.monitor_job(1, timeout="3")', '"timeout"'),
}

MUST_PASS = """\
import asyncio
import httpx
from amtopcon import AsyncClient, ConflictError, JobStatus, PollPolicy, RawResponse, StartOptions, TaskValue
from amtopcon.models import ActionResult, CompletionCode, MessagePage
from amtopcon.testing import JobScript

def on_request(request: httpx.Request) -> None:
    print(request.url)

hooked = amtopcon.Client("https://amt.example.com/", event_hooks={"request": [on_request]})
handle = client.start("A", "J", task_values=[("A", "B"), TaskValue("C", "D")], timeout=10)
client.start("A", "J", task_values={"A": "B"}, parameters=["X=1"], timeout=2.5)
started: ActionResult = client.job_action(
    "START", application="A", job="J", parameters=("X=1",), task_values=[("A", "B")]
)
client.job_action("KILL", batch_request_id=started.batch_request_id, timeout=5)
status: JobStatus = client.monitor_job(1, timeout=3)
client.get_messages(1, after=0, max_count=10, timeout=3)
alive: bool = client.heartbeat(timeout=1)
handle.status(timeout=3)
handle.messages(timeout=3)
handle.stop(timeout=3)
client.run("A", "J", timeout=600)
raw: RawResponse[JobStatus] = client.with_raw_response.monitor_job(1, timeout=3)
code: int = raw.http_response.status_code
raw_start: RawResponse[ActionResult] = client.with_raw_response.job_action("START", application="A", parameters=["X"])
raw_page: RawResponse[MessagePage] = client.with_raw_response.get_messages(1, after=0, max_count=10)
script: JobScript = Emulator().add_job("A", "J", steps=[("x", 1)], final=CompletionCode.ERROR, description="d")
options: StartOptions = {"parameters": ["X=1"], "run_as": "BATCH"}
client.job_action("START", application="A", **options)
Emulator().faults.fail_next("MonitorJob", 503)
error = ConflictError.from_dict(ConflictError("x", status_code=409).to_dict())
policy = PollPolicy.from_dict(PollPolicy().to_dict())

async def main() -> None:
    async with AsyncClient("https://amt.example.com/") as aclient:
        await aclient.monitor_job(1, timeout=3)
        await aclient.job_action("STOP", batch_request_id=1, timeout=3)
        ajob = await aclient.start("A", "J", task_values=[("A", "B")], timeout=3)
        await ajob.status(timeout=3)
        araw = await aclient.with_raw_response.get_messages(1, timeout=3)
        print(araw.parsed.messages)

asyncio.run(main())
"""


def test_mypy_strict_rejects_the_typos_and_accepts_the_typed_calls(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    src = tmp_path / "snippets"
    src.mkdir()
    (src / "must_pass.py").write_text(HEAD + MUST_PASS)
    for name, (line, _) in MUST_FAIL.items():
        (src / f"fail_{name}.py").write_text(HEAD + line + "\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--show-error-codes",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    errors: dict[str, list[str]] = {}
    for out_line in proc.stdout.splitlines():
        match = re.match(r".*?([\w]+)\.py:(\d+): error: (.*)", out_line)
        if match:
            errors.setdefault(match.group(1), []).append(f"{match.group(2)}: {match.group(3)}")
    assert "must_pass" not in errors, errors.get("must_pass")
    last = str(HEAD.count("\n") + 1)
    for name, (_, wanted) in MUST_FAIL.items():
        found = errors.get(f"fail_{name}", [])
        assert any(e.startswith(last + ":") and wanted in e for e in found), (name, found, proc.stdout[-2000:])
    assert set(errors) == {f"fail_{name}" for name in MUST_FAIL}, proc.stdout
