"""Per-task job log files (`--log-dir`), as the AsyscoAMT ACS plug-in keeps them: the
job's output written to `DIR/AsyscoAmt-{TaskId}.log`, and files older than the retention
removed first. The file holds what standard output and standard error show for the run
(never a password or token: the command prints none)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import IO

from amtopcon.cli._errors import UsageError

PREFIX = "AsyscoAmt-"
SUFFIX = ".log"
DAY = 86_400.0


def task_id_for(wanted: str | None) -> str:
    """The TaskId to START with: the one given (checked: it names a file), else a new one."""
    if wanted is None:
        return str(uuid.uuid4())
    try:
        return str(uuid.UUID(wanted.strip()))
    except ValueError:
        raise UsageError(f"--task-id: expected a UUID, got {wanted!r}") from None


def prune(folder: Path, keep_days: int, now: float | None = None) -> list[Path]:
    """Remove the job log files in `folder` last written more than `keep_days` ago; the removed."""
    cutoff = (time.time() if now is None else now) - keep_days * DAY
    removed = []
    for path in sorted(folder.glob(f"{PREFIX}*{SUFFIX}")):
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
        except OSError:  # gone already, or not ours to remove: leave it
            continue
    return removed


def open_job_log(folder: str, task_id: str, keep_days: int, now: float | None = None) -> IO[str]:
    """Prune `folder`, then open (append) the log file of `task_id` in it."""
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
        prune(path, keep_days, now)
        return open(path / f"{PREFIX}{task_id}{SUFFIX}", "a", encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"--log-dir: cannot write job log files in {folder}: {exc.strerror or exc}") from None
