"""The `amtopcon` command (also `python -m amtopcon`): a drop-in for the existing AMT
connector on an OpCon agent, and a tool for people at a terminal.

Two forms. The connector's own arguments work as they are:

    amtopcon -jt START -an DEMO2 -jn RUN_PARAMETERTESTA -pa "'PARAM'"

(`-pa` and `-tv NAME=VALUE` repeat; a `-pa` value with line breaks is one parameter per
line; `-fn` names a script file, `-u` the RunAs user.) Otherwise a subcommand: `start`,
`status ID`, `messages ID [--follow]`, `stop ID`, `kill ID`, `heartbeat`, `check`,
`encode VALUE`, `decode VALUE`, `emulator serve`, `completion bash|zsh|tcsh` (the
optional extra `amtopcon[completion]`). Every command takes `--json`; `-v`/`--verbose`
prints the debug log on standard error; a misspelt command or flag exits 64 naming the
closest one; on a terminal, a call that retries says so on standard error.

Connection: `--emulator` runs against the built-in emulator in process (sped up so the
sample jobs take seconds); it cannot be combined with the other sources. That emulator
lives only as long as the command, so `status`, `messages`, `stop` and `kill` refuse
`--emulator` (exit 64): run `amtopcon emulator serve` and point them at it with
`--base-url`. Otherwise the
first source that exists supplies every setting: `--base-url` with `--user` and
`--password` (or `AMTOPCON_PASSWORD`, or a prompt on a terminal); `--config FILE` (a
`Connector.config`, whose poll settings apply); `./Connector.config`; the `AMTOPCON_*`
environment variables.

Exit codes:

    A job run (`start`, or the connector form) exits with the AMT completion code of the
    job, as the existing connector does; only 4 (DONE) is success.
      3    KILLED: the job was killed (also after SIGTERM or SIGINT, once the kill landed)
      4    DONE: the job completed normally (the only success); with --success CRITERIA,
           any code the criteria accept (e.g. --success "RG 0-4 OR EQ 99"), so that
           OpCon, which expects 4, sees a success
      11   ERROR: the job ended in error (also DONE when --success rejects it); or the
           application/job is unknown (404
           JOB_NOT_FOUND); or the server refused the START (400, or no BatchRequestId)
      12   ABORTED, 99 INVALID_AMT_USER, ...: any other code of the AMT table, as is
      23   WEB_SERVER_ERROR: the server could not be reached, answered 5xx after the
           retries, or broke the contract (also a 404 other than JOB_NOT_FOUND or
           BATCH_REQUEST_NOT_FOUND: check the base URL); also a START whose outcome is
           unknown (the job may be queued: look for its TaskId in AMT before starting
           it again)
      24   AUTHENTICATION_ERROR: the credentials were refused (401) or the user lacks
           the privilege (403)
      64   usage or configuration error: bad arguments, no connection settings, an
           unreadable Connector.config, invalid input (outside the AMT table, because
           argparse's usual 2 would read as RUNNING)
      70   internal error in amtopcon (a bug: please report it)
      130  a second SIGINT while the job is being killed (exits at once); also Ctrl+C
           during any other command (149: a second SIGBREAK, on Windows)
      141  standard output was closed by its reader (`amtopcon messages ID | head`)
      143  a second SIGTERM while the job is being killed (exits at once)
    --timeout reached: the last code observed (for example 2 RUNNING); the job is left
    running unless --kill-on-timeout. SIGTERM or SIGINT (on Windows also CTRL_BREAK,
    as SIGBREAK) while waiting kills the AMT job,
    waits up to 30 s for the kill to land (the KILL call included) and exits with the
    final code (3 KILLED), or, when it is not confirmed in time, says so and exits with
    the last code observed. Both bounds hold even when the server hangs: no call outlasts
    them (the job log of an unfinished job is then read with 10 s per page).
    Other commands, and `start --no-wait`, exit 0 on success and with the codes above
    on errors (an unknown BatchRequestId: 11); `heartbeat` exits 23 when the server is
    down; `check` exits 24 when the credentials are refused. Every error is one line
    on standard error (with --json too: standard output then stays empty).

Output never fails on a character the console's encoding lacks (a cp1252 pipe on
Windows): standard output and error replace it with `?` (errors="replace").

Start-up stays light: `--version`, `encode`, `decode` and `completion` import neither
httpx nor cattrs; every handler imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

from amtopcon import __version__, _validate
from amtopcon.cli._errors import (
    EXIT_AUTH,
    EXIT_BROKEN_PIPE,
    EXIT_ERROR,
    EXIT_INTERNAL,
    EXIT_SERVER,
    EXIT_SUCCESS_CODE,
    EXIT_USAGE,
)

__all__ = [
    "EXIT_AUTH",
    "EXIT_BROKEN_PIPE",
    "EXIT_ERROR",
    "EXIT_INTERNAL",
    "EXIT_SERVER",
    "EXIT_SUCCESS_CODE",
    "EXIT_USAGE",
    "build_legacy_parser",
    "build_parser",
    "main",
]

#: The connector's flags; an argument list whose first command-like token is one of them
#: is read in the connector's form.
LEGACY_FLAGS = ("-jt", "-an", "-jn", "-fn", "-pa", "-u", "-tv")

COMMANDS = (
    "start",
    "status",
    "messages",
    "stop",
    "kill",
    "heartbeat",
    "check",
    "encode",
    "decode",
    "emulator",
    "completion",
)

#: The shells `amtopcon completion` writes a script for.
SHELLS = ("bash", "zsh", "tcsh")

# Connection options that take a value (so that their value is not mistaken for a command).
_VALUE_OPTIONS = ("--base-url", "--user", "--password", "--config", "--ca-bundle", "--request-timeout", "--max-retries")


def _exit_table() -> str:
    doc = __doc__ or ""
    start = doc.find("Exit codes:")
    end = doc.find("Start-up stays light")
    return doc[start:end].rstrip() + "\n" if start >= 0 else ""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error exits 64, not 2 (2 is RUNNING in the AMT code table)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        #: The arguments being parsed (set by `main`), to name a misspelt flag that made
        #: argparse take its value for the command.
        self.argv: Sequence[str] = ()

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        """argparse's check of a choice (a command name, a shell), with a did-you-mean."""
        choices = action.choices
        if choices is None or value in choices:
            return
        names = [str(c) for c in choices]
        hint = did_you_mean(str(value), names)
        listed = ", ".join(names)
        flags = _flag_hints(self.argv[: list(self.argv).index(value)] if value in self.argv else (), [self])
        if flags:  # `--base-ulr URL status 1`: the URL was taken for the command
            hint += f"; {flags}"
        raise argparse.ArgumentError(action, f"invalid choice: {value!r}{hint} (choose from {listed})")


def closest(word: str, candidates: Sequence[str]) -> str | None:
    """The candidate closest to `word`, when one is close enough to be a typo of it."""
    import difflib

    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, candidates: Sequence[str]) -> str:
    """`; did you mean 'status'?` when one candidate is close to `word` (else "")."""
    match = closest(word, candidates)
    return f"; did you mean {match!r}?" if match else ""


def _option_strings(*parsers: argparse.ArgumentParser) -> list[str]:
    return [o for p in parsers for a in p._actions for o in a.option_strings]


def _unrecognized(parser: argparse.ArgumentParser, args: argparse.Namespace, extras: Sequence[str]) -> None:
    """Refuse arguments no parser took, naming the close option for a misspelt flag
    (`--aplication`: did you mean '--application'?); exits 64."""
    chain = [parser]
    for dest in ("command", "emulator_command"):
        name = getattr(args, dest, None)
        sub = next((a for a in chain[-1]._actions if isinstance(a, argparse._SubParsersAction)), None)
        if name is None or sub is None or name not in sub.choices:
            break
        chain.append(sub.choices[name])
    message = f"unrecognized arguments: {' '.join(extras)}"
    hints = _flag_hints(extras, chain)
    chain[-1].error(f"{message}; {hints}" if hints else message)


def _flag_hints(tokens: Sequence[str], parsers: Sequence[argparse.ArgumentParser]) -> str:
    """`--aplication: did you mean --application?` for each unknown flag among `tokens`."""
    options = _option_strings(*parsers)
    hints = []
    for token in tokens:
        flag = token.partition("=")[0]
        if token.startswith("-") and len(token) > 1 and flag not in options:
            match = closest(flag, options)
            if match:
                hints.append(f"{flag}: did you mean {match}?")
    return "; ".join(hints)


def _handler(spec: str) -> Callable[[argparse.Namespace], int]:
    """A handler named "module:function" inside amtopcon.cli, imported only when it runs."""

    def run(args: argparse.Namespace) -> int:
        module_name, _, func = spec.partition(":")
        module = importlib.import_module(f"amtopcon.cli.{module_name}")
        code: int = getattr(module, func)(args)
        return code

    run.__name__ = spec
    return run


# -- argument types
def _positive_int(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def _retention_days(text: str) -> int:
    try:
        return _validate.integer(int(text.strip()), "days", minimum=1)
    except ValueError:  # not an integer, or below 1 (a ValidationError is a ValueError)
        raise argparse.ArgumentTypeError(f"expected a whole number of days >= 1, got {text!r}") from None


def _seconds(text: str) -> float:
    try:
        return _validate.seconds(float(text.strip()), "seconds", inclusive=False)
    except ValueError:  # not a number, or out of bounds (a ValidationError is a ValueError)
        wanted = _validate.seconds_wanted(inclusive=False)
        raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None


def _success(text: str) -> Any:
    """`--success`: OpCon's exit-code syntax (a ValidationError names the bad token)."""
    from amtopcon.criteria import ExitCriteria
    from amtopcon.errors import ValidationError

    try:
        return ExitCriteria.parse(text)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _job_type(text: str) -> str:
    value = text.strip().upper()
    if value != "START":
        raise argparse.ArgumentTypeError(f"only START is supported, got {text!r} (use the stop or kill command)")
    return value


# -- option groups
#: The connection options, in the order of the help (each takes a value but --emulator).
CONNECTION_OPTIONS = (
    "--emulator",
    "--base-url",
    "--user",
    "--password",
    "--config",
    "--ca-bundle",
    "--request-timeout",
    "--max-retries",
)

_POINTER = (
    "the connection options (--emulator, --base-url, --user, --password, --config, --ca-bundle, "
    "--request-timeout, --max-retries) and -v/--verbose may come before or after the command: "
    "see amtopcon --help"
)


def _add_connection_options(parser: argparse.ArgumentParser, *, shown: bool = True) -> None:
    """Connection options and -v/--verbose; SUPPRESS defaults so that they may come before
    or after the command. `shown=False` (a subcommand): accepted but left out of its help,
    which points to `amtopcon --help` instead (so the help lists them once)."""
    s = argparse.SUPPRESS

    def h(text: str) -> str:
        return text if shown else s

    if shown:
        group = parser.add_argument_group("connection (the first source given supplies every setting)")
    else:
        group = parser.add_argument_group("connection", _POINTER)
    group.add_argument(
        "--emulator",
        action="store_true",
        default=s,
        help=h(
            "run against a fresh built-in emulator in process, sped up (no server needed; start, heartbeat and "
            "check only: it forgets its jobs when the command ends)"
        ),
    )
    group.add_argument(
        "--base-url", metavar="URL", default=s, help=h("e.g. https://amt.example.com:4004/AmtOpConService/")
    )
    group.add_argument("--user", metavar="USER", default=s, help=h("the AMT API user (with --base-url)"))
    group.add_argument(
        "--password",
        metavar="PASSWORD",
        default=s,
        help=h("its password (with --base-url; else AMTOPCON_PASSWORD, or a prompt on a terminal)"),
    )
    group.add_argument(
        "--config",
        metavar="FILE",
        default=s,
        help=h("the existing connector's Connector.config (default: ./Connector.config when it exists)"),
    )
    group.add_argument("--ca-bundle", metavar="FILE", default=s, help=h("CA certificates to verify the server with"))
    group.add_argument(
        "--request-timeout", metavar="SECONDS", type=_seconds, default=s, help=h("timeout of one HTTP attempt")
    )
    group.add_argument(
        "--max-retries",
        metavar="N",
        type=_non_negative_int,
        default=s,
        help=h("retries of one HTTP call (default 3)"),
    )
    group.add_argument(
        "-v",
        "--verbose",
        dest="debug",
        action="store_true",
        default=s,
        help=h("the debug log on standard error: the settings' source, each HTTP attempt (never a secret)"),
    )


def _add_start_options(parser: argparse.ArgumentParser, *, legacy: bool) -> None:
    job = parser.add_argument_group("the job (the connector's flags and their long names)")
    if legacy:
        job.add_argument("-jt", dest="job_type", metavar="START", type=_job_type, default="START", help="job type")
    job.add_argument("-an", "--application", metavar="APPLICATION", help="the AMT application (e.g. DEMO2)")
    job.add_argument("-jn", "--job", metavar="JOB", help="the batch job (e.g. RUN_PARAMETERTESTA)")
    job.add_argument(
        "-fn", "--file-name", metavar="PATH", help="absolute or UNC path of a script that overrides the job definition"
    )
    job.add_argument(
        "-pa",
        "--parameter",
        dest="parameters",
        metavar="PARAM",
        action="append",
        default=[],
        help="a script parameter (repeatable; a value with line breaks is one parameter per line)",
    )
    job.add_argument(
        "-tv",
        "--task-value",
        dest="task_values",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="a task value (repeatable)",
    )
    job.add_argument("-u", "--run-as", metavar="USER", help="the RunAs AMT user (default: the application's)")
    job.add_argument(
        "--xml-escape",
        action="store_true",
        help="send parameter and task-value text with & < > \" ' as XML entities "
        '(the ACS plug-in\'s "Requires XML Escape Sequences")',
    )
    job.add_argument("--submit-user", metavar="USER", default="BATCH", help="who submits (default BATCH)")
    job.add_argument("--station", metavar="STATION", default="OPCON", help="the submitting station (default OPCON)")
    job.add_argument("--queue", metavar="QUEUE", help="the batch queue (default: the server's)")
    job.add_argument(
        "--task-id", metavar="UUID", help="the START's TaskId (to repeat a START whose outcome was unknown)"
    )
    run = parser.add_argument_group("waiting and output")
    run.add_argument("--no-wait", action="store_true", help="print the BatchRequestId and exit 0 without waiting")
    run.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_seconds,
        help="stop waiting after this long and exit with the last code seen (the job keeps running)",
    )
    run.add_argument("--kill-on-timeout", action="store_true", help="kill the job when --timeout is reached")
    run.add_argument(
        "--no-kill",
        dest="allow_kill",
        action="store_false",
        help='never kill the AMT job (the ACS plug-in\'s "Allow Kill Job" off): a signal stops the wait '
        "and leaves the job running",
    )
    run.add_argument(
        "--success",
        metavar="CRITERIA",
        type=_success,
        help='which completion codes are a success, in OpCon\'s syntax (e.g. "RG 0-4 OR EQ 99"; '
        "default: only 4); a success exits 4, a failure exits with its code (11 for a DONE that fails)",
    )
    run.add_argument(
        "--log-dir",
        metavar="DIR",
        help="also write the job's output to DIR/AsyscoAmt-{TaskId}.log, as the ACS plug-in does "
        "(files there older than --log-retention-days are removed first)",
    )
    run.add_argument(
        "--log-retention-days",
        metavar="DAYS",
        type=_retention_days,
        default=7,
        help="with --log-dir: keep job log files this many days (default 7)",
    )
    _add_output_options(run)


def _add_output_options(group: Any) -> None:
    out = group.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the result as one JSON object")
    out.add_argument("--quiet", "-q", action="store_true", help="print only errors")


def _sub(sub: Any, name: str, help_text: str, **kwargs: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text, **kwargs)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `amtopcon` command (subcommand form)."""
    parser = _Parser(
        prog="amtopcon",
        description=(
            "Run and watch AMT batch jobs through AMTOpCon. The existing connector's form also works: "
            "amtopcon [connection options] -jt START -an APPLICATION -jn JOB [-pa PARAM]... [-tv NAME=VALUE]... "
            "[-fn PATH] [-u USER] (see amtopcon -jt START --help)."
        ),
        epilog=_exit_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"amtopcon {__version__}")
    _add_connection_options(parser)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    start = _sub(sub, "start", "start an AMT batch job and wait for its end (exit code: its completion code)")
    _add_connection_options(start, shown=False)
    _add_start_options(start, legacy=False)
    start.set_defaults(handler=_handler("_run:run_start"))

    status = _sub(sub, "status", "show the status of a batch request")
    status.add_argument("batch_request_id", metavar="ID", type=_positive_int, help="the BatchRequestId")
    status.add_argument("--json", action="store_true", help="print the status as one JSON object")
    _add_connection_options(status, shown=False)
    status.set_defaults(handler=_handler("_commands:run_status"))

    messages = _sub(sub, "messages", "print the messages (job log) of a batch request")
    messages.add_argument("batch_request_id", metavar="ID", type=_positive_int, help="the BatchRequestId")
    messages.add_argument("--follow", "-f", action="store_true", help="keep printing new messages until the job ends")
    messages.add_argument(
        "--after", metavar="SEQUENCE", type=_non_negative_int, default=0, help="only messages after this sequence"
    )
    messages.add_argument("--json", action="store_true", help="one JSON object per message (JSON lines)")
    _add_connection_options(messages, shown=False)
    messages.set_defaults(handler=_handler("_commands:run_messages"))

    for action, text in (
        ("stop", "ask a batch request to stop (a queued job leaves the queue, a running one aborts)"),
        ("kill", "kill a batch request at once"),
    ):
        p = _sub(sub, action, text)
        p.add_argument("batch_request_id", metavar="ID", type=_positive_int, help="the BatchRequestId")
        p.add_argument("--json", action="store_true", help="print the outcome as one JSON object")
        _add_connection_options(p, shown=False)
        p.set_defaults(handler=_handler(f"_commands:run_{action}"))

    heartbeat = _sub(sub, "heartbeat", "check that the batch server takes requests (exit 0 up, 23 down)")
    quiet_or_json = heartbeat.add_mutually_exclusive_group()
    quiet_or_json.add_argument("--quiet", "-q", action="store_true", help="print nothing; the exit code tells")
    quiet_or_json.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    _add_connection_options(heartbeat, shown=False)
    heartbeat.set_defaults(handler=_handler("_commands:run_heartbeat"))

    check = _sub(
        sub,
        "check",
        "log on and say whether the credentials work (exit 0 accepted, 24 refused); heartbeat never logs on",
    )
    quiet_or_json = check.add_mutually_exclusive_group()
    quiet_or_json.add_argument("--quiet", "-q", action="store_true", help="print nothing; the exit code tells")
    quiet_or_json.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    _add_connection_options(check, shown=False)
    check.set_defaults(handler=_handler("_commands:run_check"))

    encode = _sub(sub, "encode", "encode a credential as the connector's Encrypt.exe does (hex of base64)")
    encode.add_argument("value", metavar="VALUE", nargs="?", help="the plain value (omitted: prompt, or read stdin)")
    encode.add_argument("--json", action="store_true", help='print {"value": ENCODED}')
    encode.set_defaults(handler=_handler("_commands:run_encode"))

    decode = _sub(sub, "decode", "decode an Encrypt.exe value (it is an encoding, not encryption)")
    decode.add_argument("value", metavar="VALUE", help="the encoded value, e.g. 62324e685a47303d")
    decode.add_argument("--json", action="store_true", help='print {"value": PLAIN}')
    decode.set_defaults(handler=_handler("_commands:run_decode"))

    from amtopcon.cli import _emulator

    _emulator.add_parser(sub)

    completion = _sub(
        sub,
        "completion",
        "print the shell completion script for bash, zsh or tcsh (needs the optional extra: "
        "pip install 'amtopcon[completion]')",
        epilog="bash: amtopcon completion bash > ~/.local/share/bash-completion/completions/amtopcon\n"
        'zsh:  amtopcon completion zsh > "${fpath[1]}/_amtopcon"\n'
        "tcsh: amtopcon completion tcsh > ~/.amtopcon.tcsh; then: source ~/.amtopcon.tcsh",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    completion.add_argument("shell", metavar="SHELL", choices=SHELLS, help="bash, zsh or tcsh")
    completion.set_defaults(handler=_handler("_completion:run_completion"))
    return parser


def build_legacy_parser() -> argparse.ArgumentParser:
    """The argument parser of the existing connector's form (`-jt START -an ... -jn ...`)."""
    parser = _Parser(
        prog="amtopcon",
        usage=(
            "amtopcon [connection options] -jt START -an APPLICATION (-jn JOB | -fn PATH) "
            "[-pa PARAM]... [-tv NAME=VALUE]... [-u USER] [options]"
        ),
        description="Start an AMT batch job the way the existing connector does, wait for its end, "
        "print its job log and exit with its completion code.",
        epilog=_exit_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_connection_options(parser)
    _add_start_options(parser, legacy=True)
    parser.set_defaults(handler=_handler("_run:run_start"), command="start")
    return parser


def is_legacy(argv: Sequence[str]) -> bool:
    """True when the first command-like token is one of the connector's flags (`-jt`, `-an`, ...)."""
    skip = False
    for token in argv:
        if skip:
            skip = False
            continue
        if token == "--":
            return False
        if token in LEGACY_FLAGS or any(token.startswith(flag + "=") for flag in LEGACY_FLAGS):
            return True
        if token in COMMANDS:
            return False
        if token in _VALUE_OPTIONS:
            skip = True
    return False


def _report(message: str) -> None:
    text = " ".join(message.split())
    print(f"amtopcon: {text}", file=sys.stderr, flush=True)


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _replace_unencodable() -> Callable[[], None]:
    """Standard output and error keep their encoding but replace what it cannot encode
    (`errors="replace"`: `?` in cp1252), so that one AMT message in a script the console's
    code page lacks never fails a job run (a Windows pipe is often cp1252). Returns the
    function that puts the previous error handlers back."""
    undo: list[tuple[Any, str]] = []
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        errors = getattr(stream, "errors", None)
        if reconfigure is None or not isinstance(errors, str) or errors in ("replace", "backslashreplace"):
            continue
        try:
            reconfigure(errors="replace")
        except (ValueError, OSError, TypeError):
            continue
        undo.append((stream, errors))

    def restore() -> None:
        for stream, errors in undo:
            with contextlib.suppress(ValueError, OSError, TypeError):
                stream.reconfigure(errors=errors)

    return restore


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (see the module docstring for the table)."""
    restore_streams = _replace_unencodable()
    try:
        return _main(argv)
    finally:
        restore_streams()


def _main(argv: Sequence[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_legacy_parser() if is_legacy(args_list) else build_parser()
    if isinstance(parser, _Parser):
        parser.argv = args_list
    try:
        args, extras = parser.parse_known_args(args_list)
        if extras:
            _unrecognized(parser, args, extras)
    except SystemExit as exc:  # --help, --version, usage errors (64)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    from amtopcon.cli import _errors, _logging

    undo_logging = _logging.setup_logging(
        quiet=bool(getattr(args, "quiet", False) or getattr(args, "json", False)),
        verbose=bool(getattr(args, "verbose", False)),
        debug=bool(getattr(args, "debug", False)),
    )
    try:
        code: int = handler(args)
    except _errors.ExitNow as exc:
        if exc.message:
            _report(exc.message)
        return exc.code
    except _errors.Interrupted as exc:  # a signal in the instant between waiting and reporting
        _report(f"interrupted by signal {exc.signum}")
        return 128 + exc.signum
    except KeyboardInterrupt:
        _report("interrupted")
        return 130
    except BrokenPipeError:  # `amtopcon messages 2112 | head`: the reader left
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except Exception as exc:
        code, message = _errors.describe(exc)
        _report(message)
        _errors.maybe_traceback(exc)
        return code
    finally:
        undo_logging()
    return code
