"""Per-task job log files (`--log-dir`, issue 11 item 4): the ACS plug-in's
`AsyscoAmt-{TaskId}.log`, with files past the retention removed first."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from amtopcon.cli import EXIT_USAGE, main
from amtopcon.cli._joblog import prune

JOB = ["--emulator", "start", "--application", "DEMO2", "--job", "REPORTTEST01"]


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("AMTOPCON_BASE_URL", "AMTOPCON_SERVER_ADDRESS", "AMTOPCON_USER", "AMTOPCON_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


def test_the_job_output_goes_to_the_tasks_file_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    task_id = str(uuid.uuid4())
    assert main([*JOB, "--task-id", task_id, "--log-dir", str(tmp_path / "logs")]) == 4
    shown = capsys.readouterr().out
    [path] = (tmp_path / "logs").iterdir()
    assert path.name == f"AsyscoAmt-{task_id}.log"
    kept = path.read_text(encoding="utf-8")
    assert kept == shown  # line for line what standard output showed
    assert "Connector completed with return code 4" in kept and '"Done"' in kept


def test_without_a_task_id_one_is_chosen_and_names_the_file(tmp_path: Path) -> None:
    assert main([*JOB, "--log-dir", str(tmp_path), "--quiet"]) == 4
    [path] = tmp_path.glob("AsyscoAmt-*.log")
    uuid.UUID(path.stem.removeprefix("AsyscoAmt-"))  # a real TaskId
    assert "Connector completed with return code 4" in path.read_text(encoding="utf-8")  # kept even with --quiet


def test_files_past_the_retention_are_removed_and_others_kept(tmp_path: Path) -> None:
    now = time.time()
    old = tmp_path / "AsyscoAmt-old.log"
    recent = tmp_path / "AsyscoAmt-recent.log"
    other = tmp_path / "notes.log"
    for path, age_days in ((old, 8), (recent, 6), (other, 30)):
        path.write_text("x", encoding="utf-8")
        os.utime(path, (now - age_days * 86_400, now - age_days * 86_400))
    assert prune(tmp_path, 7, now) == [old]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["AsyscoAmt-recent.log", "notes.log"]
    assert main([*JOB, "--log-dir", str(tmp_path), "--log-retention-days", "5", "--quiet"]) == 4
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "AsyscoAmt-recent.log" not in names and "notes.log" in names and len(names) == 2


@pytest.mark.parametrize(
    ("argv", "wanted"),
    [
        (["--log-retention-days", "0"], "--log-retention-days"),
        (["--log-retention-days", "x"], "--log-retention-days"),
        (["--task-id", "../../etc/passwd"], "--task-id"),  # names a file: must be a UUID
    ],
)
def test_bad_log_options_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], wanted: str
) -> None:
    assert main([*JOB, "--log-dir", str(tmp_path / "logs"), *argv]) == EXIT_USAGE
    assert wanted in capsys.readouterr().err
    assert not list(tmp_path.rglob("*.log"))


def test_an_unwritable_folder_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert main([*JOB, "--log-dir", str(blocker / "logs")]) == EXIT_USAGE
    assert "--log-dir" in capsys.readouterr().err
