"""The operator's comforts (issue 13 item 3): shell completion, did-you-mean, -v/--verbose,
--json on every command, the retry notice on a terminal, the connection options once in
the help, and message text escaped so one message is one line.

The job-running tests go through `--emulator` with the emulator made here (on a virtual
clock), so the client is built by the command's own `open_client` (with its hooks)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from amtopcon import _wire
from amtopcon.cli import EXIT_USAGE, _connect, main
from amtopcon.cli._output import JobInfo, format_job_log, one_line
from amtopcon.models import Message
from amtopcon.testing import Emulator


class FakeTty(io.StringIO):
    """A standard error that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Emulator]:
    """`--emulator` talks to this emulator (one for the whole test, on a virtual clock)."""
    monkeypatch.chdir(tmp_path)
    for name in ("AMTOPCON_BASE_URL", "AMTOPCON_SERVER_ADDRESS", "AMTOPCON_USER", "AMTOPCON_PASSWORD", "AMTOPCON_LOG"):
        monkeypatch.delenv(name, raising=False)
    emu = Emulator()
    monkeypatch.setattr(_connect, "_emulator_client", lambda kwargs: emu.client(**kwargs))
    monkeypatch.setattr(_connect, "EMULATOR_FORGETS_JOBS", False)  # every command here shares `emu`
    yield emu


def _start(emulator: Emulator, job: str = "LONGRUNNINGREPORT") -> int:
    handle = emulator.client().start("DEMO2", job)
    return handle.batch_request_id


def _usage_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = [x for x in captured.err.splitlines() if "error:" in x]
    return line


# -- shell completion
@pytest.mark.parametrize("shell", ["bash", "zsh", "tcsh"])
def test_completion_prints_a_script_with_the_commands_and_options(
    shell: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("shtab")
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    dashes = "" if shell == "tcsh" else "--"  # tcsh's script lists long options without them
    for word in ("status", "messages", "heartbeat", *(dashes + o for o in ("application", "base-url", "success"))):
        assert word in script, word


def test_bash_completion_completes_a_command_and_a_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("shtab")
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    assert main(["completion", "bash"]) == 0
    script = tmp_path / "amtopcon.bash"
    script.write_text(capsys.readouterr().out)
    probe = (
        f"source {script}\n"
        'COMP_WORDS=(amtopcon sta); COMP_CWORD=1; _shtab_amtopcon; echo "${COMPREPLY[*]}"\n'
        'COMP_WORDS=(amtopcon start --appl); COMP_CWORD=2; _shtab_amtopcon; echo "${COMPREPLY[*]}"\n'
    )
    out = subprocess.run([bash, "-c", probe], capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.splitlines() == ["start status", "--application"]


def test_completion_imports_neither_httpx_nor_cattrs() -> None:
    pytest.importorskip("shtab")
    code = (
        "import contextlib, io, sys\n"
        "from amtopcon.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    rc = main(['completion', 'zsh'])\n"
        "print('httpx' in sys.modules, 'cattrs' in sys.modules, rc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False False 0"


def test_completion_without_the_extra_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "shtab", None)  # import shtab raises ImportError
    line = _usage_error(capsys, ["completion", "bash"])
    assert "pip install 'amtopcon[completion]'" in line


def test_completion_of_an_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    line = _usage_error(capsys, ["completion", "bsh"])
    assert "did you mean 'bash'?" in line


# -- did you mean
@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["stauts", "2112"], "did you mean 'status'?"),
        (["hartbeat"], "did you mean 'heartbeat'?"),
        (["emulator", "serv"], "did you mean 'serve'?"),
        (["start", "--aplication", "DEMO2", "--job", "X"], "--aplication: did you mean --application?"),
        (["start", "--aplication=DEMO2", "--job", "X"], "--aplication: did you mean --application?"),
        (["status", "2112", "--emulatr"], "--emulatr: did you mean --emulator?"),
        (["--base-ulr", "http://127.0.0.1:1/", "status", "1"], "--base-ulr: did you mean --base-url?"),
        (["-jt", "START", "-ann", "DEMO2", "-jn", "X"], "-ann: did you mean -an?"),
        (["messages", "1", "--folow"], "--folow: did you mean --follow?"),
    ],
)
def test_did_you_mean_for_commands_and_flags_exits_64(
    argv: list[str], hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert hint in _usage_error(capsys, argv)


def test_no_suggestion_for_something_unlike_any_command(capsys: pytest.CaptureFixture[str]) -> None:
    line = _usage_error(capsys, ["xyzzy"])
    assert "invalid choice: 'xyzzy'" in line and "did you mean" not in line
    line = _usage_error(capsys, ["status", "1", "--qqqqqqqq"])
    assert "unrecognized arguments: --qqqqqqqq" in line and "did you mean" not in line


# -- connection options once in the help
def test_connection_options_are_listed_once_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    top = capsys.readouterr().out
    assert "--base-url URL" in top and "--max-retries N" in top and "-v, --verbose" in top
    for command in ("start", "status", "messages", "stop", "kill", "heartbeat"):
        assert main([command, "--help"]) == 0
        text = capsys.readouterr().out
        assert "--base-url URL" not in text and "--max-retries N" not in text, command
        assert "see amtopcon --help" in text, command


# -- --json on every command
def _json(capsys: pytest.CaptureFixture[str]) -> object:
    captured = capsys.readouterr()
    [line] = captured.out.splitlines()
    return json.loads(line)


def test_json_of_status_and_messages(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    brid = _start(emulator, "RUN_PARAMETERTESTA")
    assert main(["--emulator", "status", str(brid), "--json"]) == 0
    status = _json(capsys)
    assert isinstance(status, dict)
    assert status["batch_request_id"] == brid and status["code_name"] in ("QUEUED", "RUNNING")
    assert main(["--emulator", "messages", str(brid), "--json"]) == 0
    for line in capsys.readouterr().out.splitlines():
        assert set(json.loads(line)) >= {"sequence", "text"}


@pytest.mark.parametrize("action", ["stop", "kill"])
def test_json_of_stop_and_kill(action: str, emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    brid = _start(emulator)
    assert main(["--emulator", action, str(brid), "--json"]) == 0
    first = _json(capsys)
    assert first == {
        "batch_request_id": brid,
        "action": action.upper(),
        "accepted": True,
        "already_ended": False,
        "code": first["code"],  # type: ignore[index]
        "code_name": first["code_name"],  # type: ignore[index]
        "status": first["status"],  # type: ignore[index]
    }
    emulator.advance(3600)
    assert main(["--emulator", action, str(brid), "--json"]) == 0
    again = _json(capsys)
    assert isinstance(again, dict)
    assert again["accepted"] is False and again["already_ended"] is True
    assert again["code_name"] in ("KILLED", "ABORTED", "DEL_QUEUE") and again["status"]["terminal"] is True


def test_json_of_heartbeat_up_and_down(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--emulator", "heartbeat", "--json"]) == 0
    up = _json(capsys)
    assert isinstance(up, dict) and up["up"] is True and up["server"].endswith("/AmtOpConService/")
    emulator.available = False
    assert main(["--emulator", "heartbeat", "--json"]) == 23
    captured = capsys.readouterr()
    assert json.loads(captured.out)["up"] is False
    assert "down" in captured.err


def test_json_of_start_no_wait(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--emulator", "start", "--application", "DEMO2", "--job", "REPORTTEST01", "--no-wait", "--json"]
    assert main(argv) == 0
    obj = _json(capsys)
    assert isinstance(obj, dict)
    assert obj["waiting"] is False and obj["application"] == "DEMO2" and obj["job"] == "REPORTTEST01"
    assert obj["batch_request_id"] in emulator.batch_request_ids()


def test_json_of_encode_and_decode(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["encode", "ocadm", "--json"]) == 0
    assert _json(capsys) == {"value": "62324e685a47303d"}
    assert main(["decode", "62324e685a47303d", "--json"]) == 0
    assert _json(capsys) == {"value": "ocadm"}


# -- the retry notice
def test_a_retrying_call_says_so_on_a_terminal(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    brid = _start(emulator)
    emulator.faults.fail_next(_wire.MONITOR_JOB, 503, times=2)
    tty = FakeTty()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main(["--emulator", "status", str(brid)]) == 0
    notices = tty.getvalue().replace("\r\x1b[K", "").splitlines()
    assert notices == [
        "amtopcon: retrying (1/3): MonitorJob: HTTP 503 Service Unavailable",
        "amtopcon: retrying (2/3): MonitorJob: HTTP 503 Service Unavailable",
    ]
    assert "BatchRequestId" in capsys.readouterr().out


def test_a_call_without_an_answer_retries_with_no_answer_as_the_reason(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    brid = _start(emulator)
    emulator.faults.drop_next(_wire.MONITOR_JOB)
    tty = FakeTty()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main(["--emulator", "--max-retries", "5", "status", str(brid)]) == 0
    [notice] = tty.getvalue().replace("\r\x1b[K", "").splitlines()
    assert notice == "amtopcon: retrying (1/5): MonitorJob: no answer (the connection failed or the attempt timed out)"


@pytest.mark.parametrize("case", ["pipe", "quiet"])
def test_no_retry_notice_off_a_terminal_or_with_quiet(
    case: str, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.faults.fail_next(_wire.HEARTBEAT, 503, times=2)
    stream = io.StringIO() if case == "pipe" else FakeTty()
    monkeypatch.setattr(sys, "stderr", stream)
    argv = ["--emulator", "heartbeat", *(["--quiet"] if case == "quiet" else [])]
    assert main(argv) == 0
    assert "retrying" not in stream.getvalue()


def test_a_relogon_is_not_a_retry(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    brid = _start(emulator)
    emulator.faults.fail_next(_wire.MONITOR_JOB, 401)
    tty = FakeTty()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main(["--emulator", "status", str(brid)]) == 0
    assert "retrying" not in tty.getvalue()


# -- -v/--verbose
@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_prints_the_debug_log_without_secrets(
    where: str, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    brid = _start(emulator)
    tokens: list[str] = []
    inner = emulator.transport()

    def keep_tokens(request: httpx.Request) -> httpx.Response:
        response = inner.handle_request(request)
        if request.url.path.endswith("/" + _wire.LOGON):
            response.read()
            tokens.extend(v for v in json.loads(response.content).values() if isinstance(v, str) and len(v) > 8)
        return response

    def client(kwargs: dict[str, object]) -> object:
        return emulator.client(http_client=httpx.Client(transport=httpx.MockTransport(keep_tokens)), **kwargs)

    monkeypatch.setattr(_connect, "_emulator_client", client)
    argv = ["--emulator", "status", str(brid), "--json"]
    argv = ["-v", *argv] if where == "before" else [*argv, "--verbose"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)  # standard output is still only the JSON object
    err = captured.err
    assert "DEBUG settings from --emulator: base URL" in err
    assert "/Logon -> 200" in err and "/MonitorJob -> 200" in err
    assert "opconxps" not in err  # the emulator's password
    assert tokens and all(token not in err for token in tokens)


def test_without_verbose_no_debug_log(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    brid = _start(emulator)
    assert main(["--emulator", "status", str(brid)]) == 0
    assert "DEBUG" not in capsys.readouterr().err


# -- one message, one line
INFO = JobInfo(server="http://127.0.0.1:4004", application="DEMO2", job="X")


def _message(text: str, sequence: int = 1) -> Message:
    return Message(sequence, text=text)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('He said "hello"', r'"He said \"hello\""'),
        ("line one\r\nline two", r'"line one\r\nline two"'),
        ("a\tb\x1b[31mred\x00\x7f", r'"a\tb\x1b[31mred\x00\x7f"'),
        ("next\x85line\u2028sep", r'"next\x85line\u2028sep"'),
        ("Done", '"Done"'),  # plain text as it was
        (r"directory 'F:\\AMT\\SCRIPTS'", '"' + r"directory 'F:\\AMT\\SCRIPTS'" + '"'),  # a backslash stays
    ],
)
def test_each_message_is_one_escaped_line(text: str, line: str) -> None:
    log = format_job_log(INFO, "DONE", [_message("first"), _message(text, 2)], description="one\ntwo")
    body = log.splitlines()
    assert body[-4:] == ["Job Log " + "-" * 67, '"first"', line, "-" * 75]
    assert "Description     : one\\ntwo" in body


def test_one_line_leaves_plain_text_alone() -> None:
    for text in ("Report test 01 is started", "Value test param ['PARAM']", "C:\\dir\\file.txt", "é ü 日本"):
        assert one_line(text, quote=True) == text


def test_the_messages_command_prints_one_line_per_message(
    emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    brid = _start(emulator, "RUN_PARAMETERTESTA")
    emulator.advance(3600)
    assert main(["--emulator", "messages", str(brid)]) == 0
    plain = capsys.readouterr().out.splitlines()
    assert main(["--emulator", "messages", str(brid), "--json"]) == 0
    exact = [json.loads(x)["text"] for x in capsys.readouterr().out.splitlines()]
    assert len(plain) == len(exact)
    for shown, text in zip(plain, exact, strict=True):
        assert shown.endswith(one_line(text))
