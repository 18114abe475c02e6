"""Issue 15 rows 12, 13 and row 8's command-line case: configuration files from FIFOs and
devices, credentials readable by others, `--password` on the command line, undecodable
bytes to `encode`.

The commands run as subprocesses (as OpCon runs them) under a memory limit, bounded in
time; a run that hangs or fills memory fails the test."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from amtopcon.cli import EXIT_USAGE
from amtopcon.config import encode_credential

from ._server import FaultServer, Request, json_answer, logon_ok

POSIX = pytest.mark.skipif(os.name != "posix", reason="FIFOs, /dev/zero and permission bits are POSIX")
#: Address space of a command under test: far above what it needs, far below "memory eaten".
MEMORY_LIMIT = 1024 * 1024 * 1024
HANG = 10.0


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def amtopcon(*argv: str | bytes, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run `amtopcon ARGV` (bounded in time and memory); bytes in and out."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AMTOPCON_")}
    environ.update(env or {})
    try:
        return subprocess.run(
            [sys.executable, "-m", "amtopcon", *argv],
            cwd=cwd,
            env=environ,
            capture_output=True,
            timeout=HANG,
            preexec_fn=_limit_memory if os.name == "posix" else None,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"amtopcon {argv!r} did not end within {HANG}s (it hangs)")


def _config(path: Path, address: str, *, mode: int = 0o600) -> Path:
    path.write_text(
        "[AMT BATCH SERVER]\n"
        f"SERVER_ADDRESS={address}\nSERVER_USE_TLS=False\n"
        f"USER={encode_credential('u')}\nPASSWORD={encode_credential('pa55-SECRET')}\n",
        encoding="utf-8",
    )
    path.chmod(mode)
    return path


def _status_server() -> FaultServer:
    def script(server: FaultServer, conn: object, request: Request) -> None:
        if request.function == "Logon":
            conn.sendall(logon_ok())  # type: ignore[attr-defined]
        else:
            answer = {"BatchRequestId": 7, "Status": 2, "StatusText": "Running"}
            conn.sendall(json_answer(answer))  # type: ignore[attr-defined]

    return FaultServer(script)


# --------------------------------------------------------------------------- row 12


@POSIX
@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_row12_config_dev_zero_is_a_config_error_without_eating_memory(tmp_path: Path) -> None:
    proc = amtopcon("--config", "/dev/zero", "status", "7", cwd=tmp_path)
    err = proc.stderr.decode()
    assert proc.returncode == EXIT_USAGE, err
    assert "/dev/zero" in err and "not a regular file" in err
    assert "Traceback" not in err


@POSIX
def test_row12_config_fifo_is_a_config_error_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "Connector.config"
    os.mkfifo(fifo)  # nobody ever writes to it: opening it for reading would block forever
    proc = amtopcon("--config", str(fifo), "status", "7", cwd=tmp_path)
    err = proc.stderr.decode()
    assert proc.returncode == EXIT_USAGE, err
    assert str(fifo) in err and "not a regular file" in err
    # a FIFO as ./Connector.config is not a file to look for: no hang, "no connection settings"
    proc = amtopcon("status", "7", cwd=tmp_path)
    assert proc.returncode == EXIT_USAGE, proc.stderr.decode()


def test_row12_config_too_large_or_a_directory(tmp_path: Path) -> None:
    big = tmp_path / "big.config"
    with big.open("wb") as fh:
        fh.truncate(64 * 1024 * 1024)  # sparse: costs no disk
    proc = amtopcon("--config", str(big), "status", "7", cwd=tmp_path)
    assert proc.returncode == EXIT_USAGE and b"larger than" in proc.stderr, proc.stderr
    proc = amtopcon("--config", str(tmp_path), "status", "7", cwd=tmp_path)
    assert proc.returncode == EXIT_USAGE and str(tmp_path).encode() in proc.stderr, proc.stderr


# --------------------------------------------------------------------------- row 13


@POSIX
@pytest.mark.parametrize("mode", [0o640, 0o604], ids=["group", "others"])
def test_row13_warns_once_about_a_readable_config_with_credentials(tmp_path: Path, mode: int) -> None:
    with _status_server() as server:
        cfg = _config(tmp_path / "Connector.config", f"127.0.0.1:{server.port}", mode=mode)
        proc = amtopcon("--config", str(cfg), "status", "7", "--json", cwd=tmp_path)
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    warnings = [line for line in err.splitlines() if "readable" in line]
    assert len(warnings) == 1, err
    assert str(cfg) in warnings[0] and "chmod 600" in warnings[0]
    assert "pa55-SECRET" not in err and encode_credential("pa55-SECRET") not in err
    assert b"readable" not in proc.stdout  # stdout stays clean JSON


@POSIX
def test_row13_no_warning_for_a_private_config(tmp_path: Path) -> None:
    with _status_server() as server:
        _config(tmp_path / "Connector.config", f"127.0.0.1:{server.port}", mode=0o600)
        proc = amtopcon("status", "7", cwd=tmp_path)  # found as ./Connector.config
    assert proc.returncode == 0, proc.stderr
    assert b"warning" not in proc.stderr


def test_row13_warns_once_about_password_on_the_command_line(tmp_path: Path) -> None:
    with _status_server() as server:
        base = server.url
        proc = amtopcon("--base-url", base, "--user", "u", "--password", "pa55-SECRET", "status", "7", cwd=tmp_path)
        quiet = amtopcon("--base-url", base, "--user", "u", "status", "7", cwd=tmp_path, env={"AMTOPCON_PASSWORD": "x"})
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    warnings = [line for line in err.splitlines() if "--password" in line]
    assert len(warnings) == 1, err
    assert "AMTOPCON_PASSWORD" in warnings[0] and "process list" in warnings[0]
    assert "pa55-SECRET" not in err
    assert quiet.returncode == 0 and b"warning" not in quiet.stderr


def test_row13_the_docs_say_how_to_pass_the_password_safely() -> None:
    root = Path(__file__).resolve().parents[2]
    text = (root / "docs" / "guides" / "configuration.md").read_text(encoding="utf-8")
    assert "process list" in text and "AMTOPCON_PASSWORD" in text and "chmod 600" in text


# --------------------------------------------------------------------------- row 8, the command line


@POSIX
def test_row8_encode_undecodable_bytes_is_a_usage_error(tmp_path: Path) -> None:
    proc = amtopcon("encode", b"\xff", cwd=tmp_path)
    err = proc.stderr.decode()
    assert proc.returncode == EXIT_USAGE, err
    assert "internal error" not in err and "Traceback" not in err
    proc = subprocess.run(
        [sys.executable, "-m", "amtopcon", "encode"],
        input=b"\xff\xfe\n",
        capture_output=True,
        timeout=HANG,
        cwd=tmp_path,
    )
    assert proc.returncode == EXIT_USAGE, proc.stderr.decode()
