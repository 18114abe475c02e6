"""The command line's fast paths, in process: parsing, usage errors, encode/decode,
connection sources, the job log layout and the exit-code table."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from amtopcon import errors
from amtopcon.cli import EXIT_USAGE, build_legacy_parser, build_parser, is_legacy, main
from amtopcon.cli._connect import NO_SOURCE, source_of
from amtopcon.cli._errors import UsageError, describe
from amtopcon.cli._output import JobInfo, format_job_log, started_line
from amtopcon.cli._run import job_info

SAMPLE_LOG = """\
---------------------------------------------------------------------------
Job Information -----------------------------------------------------------
Server          : http://10.1.29.5:9001
Application     : DEMO2
Submit User     : BATCH
Station         : OPCON
Queue Name      :
Batch Job       : REPORTTEST01
Parameters      :
---------------------------------------------------------------------------
Completion Code : DONE
---------------------------------------------------------------------------
Job Log -------------------------------------------------------------------
"Report test 01 is started"
"Report execution time: 00:00:30:229"
"Done"
---------------------------------------------------------------------------"""


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ./Connector.config and no AMTOPCON_* variables leak in from the developer's shell."""
    monkeypatch.chdir(tmp_path)
    for name in ("AMTOPCON_BASE_URL", "AMTOPCON_SERVER_ADDRESS", "AMTOPCON_USER", "AMTOPCON_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("amtopcon")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# -- version, encode, decode
def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from amtopcon import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"amtopcon {__version__}"


@pytest.mark.parametrize(
    ("encoded", "plain"),
    [("62324e685a47303d", "ocadm"), ("6233426a6232353463484d3d", "opconxps")],
)
def test_decode_the_vendors_published_values(encoded: str, plain: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", encoded]) == 0
    assert capsys.readouterr().out.strip() == plain
    assert main(["encode", plain]) == 0
    assert capsys.readouterr().out.strip() == encoded


def test_decode_rejects_garbage_with_64(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", "not-hex"]) == EXIT_USAGE
    line = _one_error_line(capsys.readouterr().err)
    assert "not an encoded credential" in line


def test_encode_reads_stdin_when_no_value(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("ocadm\n"))
    assert main(["encode"]) == 0
    assert capsys.readouterr().out.strip() == "62324e685a47303d"


@pytest.mark.parametrize("argv", [["--version"], ["encode", "ocadm"], ["decode", "62324e685a47303d"]])
def test_light_start_up_imports_neither_httpx_nor_cattrs(argv: list[str]) -> None:
    code = (
        "import sys\n"
        "from amtopcon.cli import main\n"
        f"rc = main({argv!r})\n"
        "print('httpx' in sys.modules, 'cattrs' in sys.modules, rc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False False 0"


@pytest.mark.parametrize("argv", [["--version"], ["encode", "ocadm"]])
def test_the_entry_point_answers_version_and_encode_before_loading_the_cli(argv: list[str]) -> None:
    code = (
        "import sys\n"
        "from amtopcon._entry import main\n"
        f"rc = main({argv!r})\n"
        "print([m for m in ('argparse', 'amtopcon.cli', 'httpx', 'cattrs', 'attrs') if m in sys.modules], rc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    answer, loaded = proc.stdout.strip().splitlines()
    assert loaded == "[] 0"
    full_cli = f"from amtopcon.cli import main; main({argv!r})"
    full = subprocess.run([sys.executable, "-c", full_cli], capture_output=True, text=True, timeout=60)
    assert answer == full.stdout.strip()  # the same answer as the full command line gives


@pytest.mark.parametrize("argv", [["encode", ""], ["encode", "--help"], ["--version", "x"]])
def test_the_entry_point_hands_anything_else_to_the_full_cli(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from amtopcon._entry import main as entry

    assert entry(argv) == main(argv)


# -- parsing and usage errors
@pytest.mark.parametrize(
    ("argv", "legacy"),
    [
        (["-jt", "START", "-an", "DEMO2", "-jn", "X"], True),
        (["--emulator", "-jt", "START"], True),
        (["--config", "start", "-an", "A"], True),  # "start" is --config's value here
        (["--config", "C.config", "-an=DEMO2"], True),
        (["start", "-an", "DEMO2"], False),
        (["--emulator", "status", "1"], False),
        (["heartbeat"], False),
        ([], False),
    ],
)
def test_is_legacy(argv: list[str], legacy: bool) -> None:
    assert is_legacy(argv) is legacy


@pytest.mark.parametrize(
    "argv",
    [
        [],  # nothing to do
        ["nonsense"],
        ["-jt", "START", "-an", "DEMO2"],  # neither job nor file
        ["-jt", "STOP", "-an", "DEMO2", "-jn", "X"],
        ["-jt", "START", "-jn", "X"],  # no application
        ["start", "-an", "DEMO2", "-jn", "X", "--timeout", "-1"],
        ["start", "-an", "DEMO2", "-jn", "X", "-tv", "NOEQUALS", "--emulator"],
        ["status", "0"],
        ["status", "abc"],
        ["kill"],
        ["--emulator", "--base-url", "http://127.0.0.1:1/", "-jt", "START", "-an", "DEMO2", "-jn", "X"],
        ["--emulator", "--config", "Connector.config", "status", "1"],
        ["start", "-an", "DEMO2", "-jn", "X", "--json", "--quiet", "--emulator"],
        ["-jt", "START", "-an", "DEMO2", "-jn", "X"],  # no connection settings at all
        ["--user", "ocadm", "heartbeat"],  # --user without --base-url
        ["--base-url", "http://127.0.0.1:9/AmtOpConService/", "heartbeat"],  # --base-url without --user
    ],
)
def test_usage_errors_exit_64_with_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip()


def test_no_source_says_what_to_provide(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-jt", "START", "-an", "DEMO2", "-jn", "RUN_PARAMETERTESTA"]) == EXIT_USAGE
    line = _one_error_line(capsys.readouterr().err)
    for hint in ("--base-url", "--config", "Connector.config", "AMTOPCON_BASE_URL", "--emulator"):
        assert hint in line


def test_password_without_a_terminal_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    argv = ["--base-url", "http://127.0.0.1:9/AmtOpConService/", "--user", "ocadm", "heartbeat"]
    assert main(argv) == EXIT_USAGE
    assert "AMTOPCON_PASSWORD" in _one_error_line(capsys.readouterr().err)


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    import amtopcon.cli

    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for needle in ("Exit codes", "11   ERROR", "23   WEB_SERVER_ERROR", "24   AUTHENTICATION_ERROR", "64", "143"):
        assert needle in out
    assert "143" in (amtopcon.cli.__doc__ or "")
    assert main(["-jt", "START", "--help"]) == 0
    assert "23   WEB_SERVER_ERROR" in capsys.readouterr().out


def test_long_and_connector_flags_mean_the_same() -> None:
    legacy = build_legacy_parser().parse_args(
        ["-jt", "START", "-an", "DEMO2", "-jn", "J", "-fn", "/s.ps1", "-pa", "A", "-pa", "B", "-u", "OPS", "-tv", "P=5"]
    )
    new = build_parser().parse_args(
        [
            *("start", "--application", "DEMO2", "--job", "J", "--file-name", "/s.ps1", "--parameter", "A"),
            *("--parameter", "B", "--run-as", "OPS", "--task-value", "P=5"),
        ]
    )
    for name in ("application", "job", "file_name", "parameters", "run_as", "task_values", "submit_user", "station"):
        assert getattr(legacy, name) == getattr(new, name), name
    assert legacy.submit_user == "BATCH" and legacy.station == "OPCON"


def test_connection_options_before_or_after_the_command() -> None:
    p = build_parser()
    before = p.parse_args(["--base-url", "http://h/", "--user", "u", "status", "5"])
    after = p.parse_args(["status", "5", "--base-url", "http://h/", "--user", "u"])
    assert before.base_url == after.base_url == "http://h/"
    assert before.user == after.user == "u"


def _start_args(*argv: str) -> argparse.Namespace:
    return build_legacy_parser().parse_args(["-jt", "START", "-an", "DEMO2", "-jn", "J", *argv])


def test_parameters_with_line_breaks_are_one_per_line() -> None:
    info = job_info(_start_args("-pa", "'ONE'\r\nTWO=2\n\n THREE \n", "-pa", "FOUR"))
    assert info.parameters == ("'ONE'", "TWO=2", " THREE ", "FOUR")


def test_task_values() -> None:
    info = job_info(_start_args("-tv", "PRIORITY=5", "-tv", "EMPTY=", "-tv", "A=B=C"))
    assert info.task_values == (("PRIORITY", "5"), ("EMPTY", ""), ("A", "B=C"))
    with pytest.raises(UsageError, match="NAME=VALUE"):
        job_info(_start_args("-tv", "=5"))


# -- connection sources
def _conn(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args([*argv, "heartbeat"])


def test_source_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"AMTOPCON_BASE_URL": "http://127.0.0.1:9/AmtOpConService/"}
    assert source_of(_conn("--emulator"), env) == "emulator"
    assert source_of(_conn("--base-url", "http://h/", "--user", "u", "--config", "x"), env) == "arguments"
    assert source_of(_conn("--config", "x"), env) == "config"
    assert source_of(_conn(), env) == "env"
    (tmp_path / "Connector.config").write_text("[AMT BATCH SERVER]\n")
    assert source_of(_conn(), env) == "./config"
    (tmp_path / "Connector.config").unlink()
    with pytest.raises(UsageError) as info:
        source_of(_conn(), {})
    assert str(info.value) == NO_SOURCE


def test_connector_config_errors_exit_64(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.config"
    bad.write_text("[AMT BATCH SERVER]\nSERVER_ADDRESS=127.0.0.1:9\nUSER=zz\nPASSWORD=zz\n")
    assert main(["--config", str(bad), "heartbeat"]) == EXIT_USAGE
    line = _one_error_line(capsys.readouterr().err)
    assert "USER" in line and "bad.config" in line


# -- output
def test_job_log_matches_the_integrations_layout() -> None:
    from amtopcon.models import Message

    info = JobInfo(server="http://10.1.29.5:9001", application="DEMO2", job="REPORTTEST01", batch_request_id=4280)
    messages = [
        Message(1, text="Report test 01 is started"),
        Message(2, text="Report execution time: 00:00:30:229"),
        Message(3, text="Done"),
    ]
    assert format_job_log(info, "DONE", messages) == SAMPLE_LOG


def test_job_log_script_job_parameters_and_description() -> None:
    info = JobInfo(
        server="http://h:1",
        application="DEMO2",
        file_name=r"F:\Amt\Scripts\DEMO2\RUN_FILENAMETEST.ps1",
        parameters=("A", "B"),
        queue="SERIAL",
        batch_request_id=7,
    )
    text = format_job_log(info, "ERROR", [], description="File not found")
    assert "Script Job      : F:\\Amt\\Scripts\\DEMO2\\RUN_FILENAMETEST.ps1" in text
    assert "Batch Job" not in text
    assert "Parameters      : A\n                  B\n" in text
    assert "Queue Name      : SERIAL" in text
    assert "Completion Code : ERROR\nDescription     : File not found" in text
    assert started_line(info, 7) == (
        "Script 'F:\\Amt\\Scripts\\DEMO2\\RUN_FILENAMETEST.ps1' started in AMT Environment : BatchrequestId '7'"
    )


def test_started_line_like_the_connector() -> None:
    info = JobInfo(server="", application="DEMO2", job="RUN_PARAMETERTESTA")
    assert started_line(info, 2112) == ("Job 'RUN_PARAMETERTESTA' started in AMT Environment : BatchrequestId '2112'")


# -- the exit-code table
@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (errors.NotFoundError("no such job", status_code=404, error_code="JOB_NOT_FOUND"), 11),
        (errors.NotFoundError("no such id", status_code=404, error_code="BATCH_REQUEST_NOT_FOUND"), 11),
        (errors.JobStartError("BatchRequestId 0"), 11),
        (errors.BadRequestError("bad", status_code=400, error_code="INVALID_REQUEST"), 11),
        (errors.APIConnectionError("Logon: ConnectError", attempts=4), 23),
        (errors.APITimeoutError("MonitorJob: ReadTimeout", attempts=4), 23),
        (errors.InternalServerError("boom", status_code=500, attempts=4), 23),
        (errors.RateLimitError("slow", status_code=429), 23),
        (errors.InvalidResponseError("not JSON", status_code=200), 23),
        (errors.StartOutcomeUnknownError("START may or may not ... (TaskId t-1)", task_id="t-1"), 23),
        (errors.AuthenticationError("refused", status_code=401, error_code="AUTHENTICATION_FAILED"), 24),
        (errors.PermissionDeniedError("no", status_code=403, error_code="NOT_AUTHORIZED"), 24),
        (errors.ValidationError("application: too long", field="application"), 64),
        (errors.ConfigError("missing value", path="C.config", key="USER"), 64),
        (UsageError("bad"), 64),
        (RuntimeError("bug"), 70),
    ],
)
def test_exit_code_table(exc: BaseException, code: int) -> None:
    got, message = describe(exc)
    assert got == code
    assert "\n" not in message


def test_outcome_unknown_says_the_job_may_be_queued() -> None:
    exc = errors.StartOutcomeUnknownError("START may or may not have queued the job (TaskId t-1)", task_id="t-1")
    _, message = describe(exc)
    assert "may be queued" in message and "t-1" in message


def test_json_helpers_are_json() -> None:
    from amtopcon.cli._output import dumps

    assert json.loads(dumps({"a": 1})) == {"a": 1}


def test_a_closed_stdout_exits_141_quietly(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    class Closed:
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["decode", "62324e685a47303d"]) == 141
    assert capsys.readouterr().err == ""


def test_password_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    from amtopcon.cli import _connect

    args = build_parser().parse_args(["--base-url", "http://127.0.0.1:9/AmtOpConService/", "--user", "u", "heartbeat"])
    monkeypatch.setenv("AMTOPCON_PASSWORD", "from-env")
    assert _connect._password(args, "url", "u") == "from-env"
    args.password = "from-option"
    assert _connect._password(args, "url", "u") == "from-option"
    del args.password
    monkeypatch.delenv("AMTOPCON_PASSWORD")

    class Terminal:
        def isatty(self) -> bool:
            return True

    prompts: list[str] = []
    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr(_connect.getpass, "getpass", lambda prompt: prompts.append(prompt) or "typed")
    assert _connect._password(args, "http://h/", "u") == "typed"
    assert prompts == ["Password for u at http://h/: "]


# -- emulator serve: exit codes and logging (the serving loop itself runs in tests/integration)
def test_emulator_without_a_command_prints_help_and_exits_64(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulator"]) == EXIT_USAGE
    assert "serve" in capsys.readouterr().err


def _serve_logging_an_engine_error(monkeypatch: pytest.MonkeyPatch, *extra: str) -> int:
    """`emulator serve --port 0 ...` whose serving loop logs one request and one engine failure, then stops."""
    import logging

    from amtopcon.cli import _emulator

    def fake_run(server: Any, log: logging.Logger) -> int:
        try:
            log.info("127.0.0.1 GET /AmtOpConService/HeartBeat 200 0.1 ms")
            try:
                raise RuntimeError("engine bug")
            except RuntimeError:
                log.exception("the emulator failed on %s %s", "GET", "/AmtOpConService/MonitorJob")
            return 0
        finally:
            server.close()

    monkeypatch.setattr(_emulator, "_run", fake_run)
    monkeypatch.delenv("AMTOPCON_LOG", raising=False)
    ours = logging.getLogger("amtopcon")
    before = (list(ours.handlers), ours.level)
    code = main(["emulator", "serve", "--port", "0", *extra])
    assert (list(ours.handlers), ours.level) == before  # main undid its logging set-up
    return code


def test_emulator_serve_verbose_logs_an_engine_error_once_with_its_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _serve_logging_an_engine_error(monkeypatch, "--verbose")
    err = capsys.readouterr().err
    assert code == 0
    assert err.count("the emulator failed on GET /AmtOpConService/MonitorJob") == 1, err
    assert err.count("RuntimeError: engine bug") == 1, err
    assert err.count("/AmtOpConService/HeartBeat") == 1, err
    line = next(line for line in err.splitlines() if "HeartBeat" in line)
    assert line.split()[2:6] == ["INFO", "127.0.0.1", "GET", "/AmtOpConService/HeartBeat"]


def test_emulator_serve_without_verbose_shows_an_engine_error_as_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _serve_logging_an_engine_error(monkeypatch)
    err = capsys.readouterr().err
    assert code == 0
    assert err.splitlines() == ["amtopcon: error: the emulator failed on GET /AmtOpConService/MonitorJob"]
