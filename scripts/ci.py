#!/usr/bin/env python3
"""CI, in Python so that it runs wherever Python does (the OpCon agents are mostly Windows):
a fresh virtual environment, a from-scratch install, the README's test command verbatim,
the sync-flavour drift check, ruff, mypy --strict, every benchmark at a tiny size, and the
docs build. Exits non-zero on the first failure.

    python3 scripts/ci.py        (`.ci/run` calls this)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WINDOWS = os.name == "nt"


def bin_path(env: Path, name: str) -> str:
    """An executable of a virtual environment (`Scripts\\x.exe` on Windows, `bin/x` elsewhere)."""
    return str(env / ("Scripts" if WINDOWS else "bin") / (name + (".exe" if WINDOWS else "")))


def step(title: str, cmd: list[str] | str, **kwargs: object) -> None:
    """Run one step, echoing it; stop CI when it fails."""
    print(f"+ {title}", flush=True)
    result = subprocess.run(cmd, cwd=ROOT, shell=isinstance(cmd, str), **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        print(f"CI failed at: {title} (exit {result.returncode})", file=sys.stderr, flush=True)
        sys.exit(result.returncode or 1)


def readme_test_command() -> str:
    """The README's test command, verbatim: the first `python3 ...` line after "Run the tests:"."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^Run the tests:.*?^(python3 .+)$", text, re.M | re.S)
    if not match:
        sys.exit("README has no test command")
    return match.group(1)


def main() -> int:
    os.environ["CI"] = "true"
    os.environ["NO_MKDOCS_2_WARNING"] = "1"
    env = ROOT / ".venv"
    shutil.rmtree(env, ignore_errors=True)
    venv.create(env, with_pip=True)
    python = bin_path(env, "python")
    step("pip install --upgrade pip", [python, "-m", "pip", "install", "-q", "--upgrade", "pip"])
    command = readme_test_command()
    if WINDOWS:  # the README is written for a POSIX shell
        command = command.replace(".venv/bin/", ".venv\\Scripts\\")
    step(command, command)
    step(
        "scripts/unasync.py --check (the sync flavour is generated from the async one)",
        [python, "scripts/unasync.py", "--check"],
    )
    step("ruff check", [bin_path(env, "ruff"), "check", "."])
    step("mypy --strict amtopcon", [bin_path(env, "mypy"), "--strict", "amtopcon"])
    with tempfile.TemporaryDirectory() as tmp:
        step(
            "benchmarks/run_all.py --tiny (every benchmark still runs; no timing is asserted)",
            [python, "benchmarks/run_all.py", "--tiny", "--out", str(Path(tmp) / "benchmarks.md")],
        )
        if (ROOT / "mkdocs.yml").exists():
            site = str(Path(tmp) / "site")
            step("mkdocs build --strict", [bin_path(env, "mkdocs"), "build", "--strict", "-q", "-d", site])
    print("CI passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
