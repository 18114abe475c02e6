"""The command's output held line by line against the vendor's samples (values masked).

The connector's lines are those of the legacy connector's documentation: its arguments,
`Authentication successful`, `Job '...' START request received`, `Job '...' started in
AMT Environment : BatchrequestId '...'`, the job log, `Connector completed with return
code N`. The job log is in the newer integration's layout (wire contract), one quoted
line per AMT message. The messages below are the vendor's, copied from its published
samples, not read from the emulator's catalog: a change to either shows here.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from amtopcon import _wire
from amtopcon.cli import _connect, main
from amtopcon.testing import Emulator

RULE = "-" * 75

# The vendor's job messages, as published (see the module docstring).
RUN_PARAMETERTESTA = """\
DEMO2 RUN_PARAMETERTEST : Script Started: RUN_PARAMETERTEST
 Amt PS library version: 0.49
 date: 2016-10-17
DEMO2 RUN_PARAMETERTEST : Starting parametertest with RepParam set
DEMO2 RUN_PARAMETERTEST : Starting report: PARAMETERTEST
Started Rev: 1.1 AMT: 8.0.16351.50. Params: /R:2103 /USEWORKINGDIR
Parameter test is started
Value test param ['PARAM']
Parameter test is running 0 seconds
Parameter test is running 10 seconds
Parameter test is running 20 seconds
Parameter test is running 30 seconds
Parameter test is running 40 seconds
Parameter test is running 50 seconds
Parameter test is running 60 seconds
Parameter test is ended
Report execution time: 00:01:10:249
Done
DEMO2 RUN_PARAMETERTEST : Opening joblog succeeded
DEMO2 RUN_PARAMETERTEST : 0
DEMO2 RUN_PARAMETERTEST : Finished running parametertest
DEMO2 RUN_PARAMETERTEST : Job finished"""

REPORTTEST01 = """\
Started Rev: 1.3 AMT: 8.0.24223.0. Params: LOADINBATCHCONTROLLER /R:4280 /USEWORKINGDIR
Report test 01 is started
Report test 01 user BATCH
Report test 01 Value param []
Report test 01 is running 0 seconds
Report test 01 is running 10 seconds
Report test 01 is running 20 seconds
Report test 01 test is ended
Report execution time: 00:00:30:229
Done"""

SCRIPT = r"F:\Amt\Scripts\DEMO2\RUN_FILENAMETEST.ps1"
RUN_FILENAMETEST = (
    "Error starting job []\n"
    r"[An error occurred trying to start process 'pwsh' with working directory 'F:\\AMT\\SCRIPTS\\DEMO2'. "
    "The system cannot find the file specified.]"
)


def expected(
    argv: str,
    what: str,
    name: str,
    *,
    job_line: str,
    parameters: str,
    code_name: str,
    code: int,
    messages: str,
    description: str | None = None,
) -> list[str]:
    """The whole output of a job run in the connector's form, values masked."""
    log = [f'"{m}"' for m in messages.splitlines()] if messages else []
    return [
        f"Arguments : {argv}",
        "Authentication successful",
        f"{what} '{name}' START request received",
        f"{what} '{name}' started in AMT Environment : BatchrequestId '<ID>'",
        RULE,
        "Job Information " + "-" * 59,
        "Server          : <SERVER>",
        "Application     : DEMO2",
        "Submit User     : BATCH",
        "Station         : OPCON",
        "Queue Name      :",
        job_line,
        f"Parameters      :{' ' + parameters if parameters else ''}",
        RULE,
        f"Completion Code : {code_name}",
        *([f"Description     : {description}"] if description else []),
        RULE,
        "Job Log " + "-" * 67,
        *log,
        RULE,
        f"Connector completed with return code {code}",
    ]


def masked(out: str) -> list[str]:
    """The output with its values masked: the BatchRequestId and the server."""
    out = re.sub(r"BatchrequestId '\d+'", "BatchrequestId '<ID>'", out)
    out = re.sub(r"(?m)^Server          : \S+$", "Server          : <SERVER>", out)
    return out.splitlines()


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Emulator]:
    monkeypatch.chdir(tmp_path)
    emu = Emulator()
    monkeypatch.setattr(_connect, "open_client", lambda args: emu.client())
    yield emu


def test_run_parametertesta_like_the_legacy_connector(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-jt", "START", "-an", "DEMO2", "-jn", "RUN_PARAMETERTESTA", "-pa", "'PARAM'"]) == 4
    assert masked(capsys.readouterr().out) == expected(
        "-jt START -an DEMO2 -jn RUN_PARAMETERTESTA -pa 'PARAM'",
        "Job",
        "RUN_PARAMETERTESTA",
        job_line="Batch Job       : RUN_PARAMETERTESTA",
        parameters="'PARAM'",
        code_name="DONE",
        code=4,
        messages=RUN_PARAMETERTESTA,
    )


def test_reporttest01_done(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-jt", "START", "-an", "DEMO2", "-jn", "REPORTTEST01"]) == 4
    assert masked(capsys.readouterr().out) == expected(
        "-jt START -an DEMO2 -jn REPORTTEST01",
        "Job",
        "REPORTTEST01",
        job_line="Batch Job       : REPORTTEST01",
        parameters="",
        code_name="DONE",
        code=4,
        messages=REPORTTEST01,
    )


def test_a_script_that_cannot_start_ends_error(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-jt", "START", "-an", "DEMO2", "-fn", SCRIPT]) == 11
    assert masked(capsys.readouterr().out) == expected(
        f"-jt START -an DEMO2 -fn {SCRIPT}",
        "Script",
        SCRIPT,
        job_line=f"Script Job      : {SCRIPT}",
        parameters="",
        code_name="ERROR",
        code=11,
        messages=RUN_FILENAMETEST,
        description="File not found",
    )


def test_longrunningreport_killed_from_opcon(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = emulator.transport()
    fired = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/" + _wire.MONITOR_JOB) and not fired:
            fired.append(request)
            signal.raise_signal(signal.SIGTERM)  # OpCon kills the job while the command waits
        return transport.handle_request(request)

    def open_client(args: object) -> object:
        return emulator.client(http_client=httpx.Client(transport=httpx.MockTransport(handler)))

    monkeypatch.setattr(_connect, "open_client", open_client)
    assert main(["-jt", "START", "-an", "DEMO2", "-jn", "LONGRUNNINGREPORT"]) == 3
    assert masked(capsys.readouterr().out) == expected(
        "-jt START -an DEMO2 -jn LONGRUNNINGREPORT",
        "Job",
        "LONGRUNNINGREPORT",
        job_line="Batch Job       : LONGRUNNINGREPORT",
        parameters="",
        code_name="KILLED",
        code=3,
        messages="",  # the vendor's sample: an empty job log
        description="Killed by KILL",  # our addition (the server's Description), where the layout allows it
    )


# -- --success: the exit code under OpCon's exit-code criteria
@pytest.mark.parametrize(
    ("job", "criteria", "code"),
    [
        ("ABORTTEST01", None, 12),
        ("ABORTTEST01", "EQ 4 OR EQ 12", 4),  # accepted: OpCon, which expects 4, sees a success
        ("ERRORTEST01", "RG 0-4 OR EQ 99", 11),  # rejected: the code itself
        ("REPORTTEST01", "RG 0-4", 4),
        ("REPORTTEST01", "EQ 12", 11),  # a rejected DONE exits 11
    ],
)
def test_the_exit_code_under_success_criteria(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], job: str, criteria: str | None, code: int
) -> None:
    argv = ["-jt", "START", "-an", "DEMO2", "-jn", job] + (["--success", criteria] if criteria else [])
    assert main(argv) == code
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == f"Connector completed with return code {code}"


def test_bad_success_criteria_exit_64_naming_the_token(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-jt", "START", "-an", "DEMO2", "-jn", "REPORTTEST01", "--success", "EQ 4 OR XX 5"]) == 64
    assert "'XX'" in capsys.readouterr().err
    assert emulator.requests == []


# -- ACS parity: "Requires XML Escape Sequences"
def test_xml_escape_in_the_sdk_and_the_cli(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    from amtopcon.errors import ValidationError

    with emulator.client() as client:
        client.start("DEMO2", "REPORTTEST01", parameters=["A<B & 'C'"], task_values={"T": '"x">y'}, xml_escape=True)
        client.start("DEMO2", "REPORTTEST01", parameters=["A<B"])  # off by default
        with pytest.raises(ValidationError, match="xml_escape"):
            client.start("DEMO2", "REPORTTEST01", xml_escape="yes")  # type: ignore[arg-type]
    starts = [r.body for r in emulator.requests if r.function == _wire.JOB_ACTION]
    assert starts[0][_wire.F_PARAMETERS] == ["A&lt;B &amp; &apos;C&apos;"]
    assert starts[0][_wire.F_TASK_VALUES] == [{_wire.F_NAME: "T", _wire.F_VALUE: "&quot;x&quot;&gt;y"}]
    assert starts[1][_wire.F_PARAMETERS] == ["A<B"]
    assert main(["-jt", "START", "-an", "DEMO2", "-jn", "REPORTTEST01", "-pa", "a&b", "--xml-escape"]) == 4
    last = [r.body for r in emulator.requests if r.function == _wire.JOB_ACTION][-1]
    assert last[_wire.F_PARAMETERS] == ["a&amp;b"]
    assert '"Report test 01 Value param [a&amp;b]"' in capsys.readouterr().out


# -- ACS parity: "Allow Kill Job" off
def test_no_kill_leaves_the_job_running_on_a_signal(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = emulator.transport()
    fired: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/" + _wire.MONITOR_JOB) and not fired:
            fired.append(request)
            signal.raise_signal(signal.SIGTERM)
        return transport.handle_request(request)

    def open_client(args: object) -> object:
        return emulator.client(http_client=httpx.Client(transport=httpx.MockTransport(handler)))

    monkeypatch.setattr(_connect, "open_client", open_client)
    code = main(["-jt", "START", "-an", "DEMO2", "-jn", "LONGRUNNINGREPORT", "--no-kill"])
    captured = capsys.readouterr()
    assert code in (1, 2)  # the last code seen: QUEUED or RUNNING
    assert "--no-kill: AMT job BatchRequestId 2112 is left running" in captured.err
    assert not any(r.body and r.body.get(_wire.F_ACTION) == "KILL" for r in emulator.requests)
    assert captured.out.splitlines()[-1] == f"Connector completed with return code {code}"
    assert main(["-jt", "START", "-an", "DEMO2", "-jn", "X", "--no-kill", "--kill-on-timeout", "--timeout", "5"]) == 64
