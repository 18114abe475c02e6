"""What the command prints: the START line, the job log block, JSON, the live status line."""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:  # pragma: no cover
    from amtopcon import StartOptions
    from amtopcon.models import JobResult, JobStatus, Message

RULE = "-" * 75
LABEL_WIDTH = 16


@attrs.frozen
class JobInfo:
    """What was asked of AMT: the "Job Information" part of the job log."""

    server: str
    application: str
    job: str | None = None
    file_name: str | None = None
    parameters: tuple[str, ...] = ()
    task_values: tuple[tuple[str, str], ...] = ()
    run_as: str | None = None
    submit_user: str = "BATCH"
    station: str = "OPCON"
    queue: str | None = None
    batch_request_id: int | None = None
    xml_escape: bool = False

    @property
    def label(self) -> str:
        """The job's name for one-line messages (the job, else the script file)."""
        return self.job or self.file_name or "?"

    def start_options(self, task_id: str | None = None) -> StartOptions:
        """The START's keyword arguments besides the application and the job, as
        `Client.start()` (and the request check before it) takes them."""
        from amtopcon import TaskValue

        return {
            "file_name": self.file_name,
            "parameters": list(self.parameters),
            "task_values": [TaskValue(n, v) for n, v in self.task_values],
            "run_as": self.run_as,
            "submit_user": self.submit_user,
            "station": self.station,
            "queue": self.queue,
            "task_id": task_id,
            "xml_escape": self.xml_escape,
        }


def _heading(title: str) -> str:
    return f"{title} " + "-" * (len(RULE) - len(title) - 1)


#: What would break the one-line layout: C0 and C1 control characters (CR and LF among
#: them), DEL, and Unicode's line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_OR_QUOTE = re.compile('["\x00-\x1f\x7f-\x9f\u2028\u2029]')
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"'}


def _escape_one(match: re.Match[str]) -> str:
    ch = match.group()
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def one_line(text: str, *, quote: bool = False) -> str:
    """`text` as one line: CR, LF and tab as `\\r`, `\\n`, `\\t`, every other control
    character as `\\xNN` (`\\u2028` for the line separators), and with `quote` a `"` as
    `\\"`. Text with none of these comes back unchanged (a backslash stays as it is, so
    `F:\\AMT` prints as the server sent it); the exact text is in the `--json` output."""
    pattern = _CONTROL_OR_QUOTE if quote else _CONTROL
    return pattern.sub(_escape_one, text) if pattern.search(text) else text


def _field(label: str, values: Sequence[str] | str | None) -> list[str]:
    if values is None or isinstance(values, str):
        values = [] if values is None else [values]
    values = [one_line(v) for v in values]
    first = values[0] if values else ""
    lines = [f"{label:<{LABEL_WIDTH}}: {first}".rstrip()]
    lines.extend(f"{'':<{LABEL_WIDTH}}  {v}".rstrip() for v in values[1:])
    return lines


def _quoted(message: Message) -> str:
    return f'"{one_line(message.text, quote=True)}"'


def format_job_log(
    info: JobInfo,
    code_name: str,
    messages: Sequence[Message],
    *,
    description: str | None = None,
) -> str:
    """The job log in the AMT integration's layout (one quoted line per message; a
    message's quotes, line breaks and control characters escaped by `one_line`)."""
    lines = [RULE, _heading("Job Information")]
    lines += _field("Server", info.server)
    lines += _field("Application", info.application)
    lines += _field("Submit User", info.submit_user)
    lines += _field("Station", info.station)
    lines += _field("Queue Name", info.queue)
    if info.run_as:
        lines += _field("Run As User", info.run_as)
    if info.job or not info.file_name:
        lines += _field("Batch Job", info.job)
    if info.file_name:
        lines += _field("Script Job", info.file_name)
    lines += _field("Parameters", list(info.parameters))
    if info.task_values:
        lines += _field("Task Values", [f"{n}={v}" for n, v in info.task_values])
    lines += [RULE]
    lines += _field("Completion Code", code_name)
    if description:
        lines += _field("Description", description)
    lines += [RULE, _heading("Job Log")]
    lines += [_quoted(m) for m in messages]
    lines += [RULE]
    return "\n".join(lines)


# -- the connector's own lines, in the order it prints them (vendor-samples.md): its
# arguments, AUTHENTICATED, request_received_line, started_line, the job log, completed_line.
# Spelling as the connector's, `BatchrequestId` included: OpCon text rules and operators'
# greps match these lines.

#: Printed once the Logon has succeeded, before the START is sent.
AUTHENTICATED = "Authentication successful"


def arguments_line(info: JobInfo) -> str:
    """The connector's first line: the job's arguments in its own flags (connection
    options, and so any password, are never part of it); quoted as a Windows command line."""
    import subprocess  # list2cmdline: the quoting of the Windows command line the agent used

    tokens = ["-jt", "START", "-an", info.application]
    if info.job:
        tokens += ["-jn", info.job]
    if info.file_name:
        tokens += ["-fn", info.file_name]
    for parameter in info.parameters:
        tokens += ["-pa", parameter]
    for name, value in info.task_values:
        tokens += ["-tv", f"{name}={value}"]
    if info.run_as:
        tokens += ["-u", info.run_as]
    return f"Arguments : {subprocess.list2cmdline(tokens)}"


def _what(info: JobInfo) -> str:
    return "Job" if info.job else "Script"


def request_received_line(info: JobInfo) -> str:
    """The connector's line before it sends the START."""
    return f"{_what(info)} '{info.label}' START request received"


def started_line(info: JobInfo, batch_request_id: int) -> str:
    """The connector's line once START has answered (its spelling: `BatchrequestId`)."""
    return f"{_what(info)} '{info.label}' started in AMT Environment : BatchrequestId '{batch_request_id}'"


def completed_line(code: int) -> str:
    """The last line of a job run, as the connector ends it."""
    return f"Connector completed with return code {code}"


def result_json(
    info: JobInfo,
    result: JobResult | None,
    *,
    status: JobStatus | None = None,
    messages: Sequence[Message] = (),
    exit_code: int,
    timed_out: bool = False,
    kill_requested: bool = False,
    kill_confirmed: bool | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The result of a job run as one JSON-safe object."""
    if result is not None:
        status = result.status
        messages = result.messages
    code = None if status is None else status.code
    return {
        "batch_request_id": info.batch_request_id,
        "code": None if code is None else int(code),
        "code_name": None if code is None else code.name,
        "succeeded": bool(code is not None and code.is_success),
        "exit_code": exit_code,
        "status": None if status is None else status.to_dict(),
        "messages": [m.to_dict() for m in messages],
        "server": info.server,
        "application": info.application,
        "job": info.job,
        "file_name": info.file_name,
        "parameters": list(info.parameters),
        "task_values": dict(info.task_values),
        "run_as": info.run_as,
        "submit_user": info.submit_user,
        "station": info.station,
        "queue": info.queue,
        "timed_out": timed_out,
        "kill_requested": kill_requested,
        "kill_confirmed": kill_confirmed,
        "note": note,
    }


def dumps(obj: Any) -> str:
    """One line of JSON."""
    return json.dumps(obj, ensure_ascii=False, default=str)


def _elapsed(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:d}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class StatusLine:
    """A live status line on a terminal's standard error: the status name and the elapsed time.

    Redrawn by a daemon thread about twice a second; `close()` erases it.
    """

    def __init__(self, stream: IO[str], now: Callable[[], float], label: str, interval: float = 0.5) -> None:
        self._stream = stream
        self._now = now
        self._label = label
        self._interval = interval
        self._text = "waiting for the first status"
        self._began = now()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="amtopcon-status-line", daemon=True)
        self._thread.start()

    def update(self, status: JobStatus) -> None:
        """Show this status from now on."""
        with self._lock:
            self._text = status.code.name
        self._draw()

    def _draw(self) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            line = f"{self._label}: {self._text}  {_elapsed(self._now() - self._began)}"
            try:
                self._stream.write(f"\r\x1b[K{line}")
                self._stream.flush()
            except (OSError, ValueError):
                self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._draw()

    def close(self) -> None:
        """Stop redrawing and erase the line."""
        if self._stop.is_set() and not self._thread.is_alive():
            return
        with self._lock:
            self._stop.set()
        self._thread.join(timeout=2)
        with self._lock:
            try:
                self._stream.write("\r\x1b[K")
                self._stream.flush()
            except (OSError, ValueError):
                pass


class Printer:
    """Where lines go: plain lines on stdout, errors and notes on stderr, a status line on a terminal."""

    def __init__(self, *, json_mode: bool = False, quiet: bool = False) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        self.out = sys.stdout
        self.err = sys.stderr
        self.copy: IO[str] | None = None  # --log-dir: the job's log file gets every line too
        self._status_line: StatusLine | None = None

    @property
    def human(self) -> bool:
        """True when plain text goes to standard output (not --json, not --quiet)."""
        return not (self.json_mode or self.quiet)

    def line(self, text: str) -> None:
        """A line on standard output (human mode only)."""
        if self.human:
            self.pause_status()
            print(text, file=self.out, flush=True)
        if self.copy is not None:
            print(text, file=self.copy, flush=True)

    def json(self, obj: Any) -> None:
        """One JSON object on standard output (--json only)."""
        if self.json_mode:
            print(dumps(obj), file=self.out, flush=True)

    def note(self, text: str) -> None:
        """An informational line on standard error (not with --quiet or --json)."""
        if self.human:
            self.pause_status()
            print(f"amtopcon: {text}", file=self.err, flush=True)

    def warn(self, text: str) -> None:
        """A warning on standard error, printed even with --quiet and --json."""
        self.pause_status()
        print(f"amtopcon: {' '.join(text.split())}", file=self.err, flush=True)
        if self.copy is not None:
            print(f"amtopcon: {' '.join(text.split())}", file=self.copy, flush=True)

    def start_status(self, now: Callable[[], float], label: str) -> Callable[[JobStatus], None]:
        """Start the live status line when stderr is a terminal; returns the on_status callback."""
        if self.human and _isatty(self.err):
            self._status_line = StatusLine(self.err, now, label)
            return self._status_line.update
        return _ignore

    def pause_status(self) -> None:
        """Erase the status line for good (before printing anything else)."""
        if self._status_line is not None:
            self._status_line.close()
            self._status_line = None


def _ignore(status: JobStatus) -> None:
    return None


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False
