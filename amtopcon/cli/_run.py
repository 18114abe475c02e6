"""A job run: `amtopcon start ...` and the connector's form `amtopcon -jt START ...`.

START, print the BatchRequestId, wait for the end (a live status line on a terminal),
print the job log and exit with the AMT completion code. SIGTERM or SIGINT while waiting
kills the AMT job, waits up to `KILL_GRACE` seconds for the kill to land and exits with
the final code; a second signal exits at once (128 + the signal number).

The bounds are real: `--timeout` bounds every call of the wait, and the KILL call with
the status checks after it share the `KILL_GRACE` (each call ends by its deadline; only
a status check made at the deadline itself may take up to a second). When the job has
not ended, the job log is still read for the output, each page within
`LOG_READ_TIMEOUT` seconds.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import suppress
from types import FrameType
from typing import TYPE_CHECKING, Any

import attrs

from amtopcon.cli._errors import ExitNow, Interrupted, UsageError, describe, maybe_traceback
from amtopcon.cli._output import (
    AUTHENTICATED,
    JobInfo,
    Printer,
    arguments_line,
    completed_line,
    format_job_log,
    request_received_line,
    result_json,
    started_line,
)

if TYPE_CHECKING:  # pragma: no cover
    from amtopcon import Client, JobHandle
    from amtopcon.models import JobResult, Message

#: How long a kill (after a signal or --kill-on-timeout) may take to land, in seconds:
#: the KILL call and the status checks after it, together.
KILL_GRACE = 30.0

#: The bound on each GetMessages call that reads the job log of a job that has not ended
#: (after --timeout, or when a kill was not confirmed), in seconds.
LOG_READ_TIMEOUT = 10.0


def stop_signals() -> tuple[int, ...]:
    """The signals that stop the wait and kill the AMT job: SIGINT and SIGTERM, and on
    Windows also SIGBREAK. Windows delivers its console events as signals: CTRL_C_EVENT as
    SIGINT, CTRL_BREAK_EVENT as SIGBREAK (SIGTERM is never delivered there from outside:
    ending a process from outside is TerminateProcess, which no handler sees)."""
    names = ["SIGINT", "SIGTERM"]
    if sys.platform == "win32":
        names.append("SIGBREAK")
    found = (getattr(signal, name, None) for name in names)
    return tuple(dict.fromkeys(int(s) for s in found if s is not None))


def _signal_name(signum: int) -> str:
    if sys.platform == "win32" and signum == getattr(signal, "SIGBREAK", None):
        return "SIGBREAK"  # looked up first: a test may stand another number in for it
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class SignalGuard:
    """SIGINT and SIGTERM (and SIGBREAK on Windows) handlers for the life of a job run
    (main thread only).

    Modes: "defer" (during START: remember the signal, act once START has answered),
    "raise" (while waiting: raise `Interrupted` in the main thread at once, so a sleep
    or a pending HTTP read ends promptly), "exit" (any further signal leaves at once
    with 128 + the signal number). A second signal always leaves at once.
    """

    def __init__(self) -> None:
        self.mode = "defer"
        self.pending: int | None = None
        self.count = 0
        self.context = ""
        self._old: dict[int, Any] = {}

    def __enter__(self) -> SignalGuard:
        if threading.current_thread() is threading.main_thread():
            for signum in stop_signals():
                with suppress(ValueError, OSError):
                    self._old[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, old in self._old.items():
            with suppress(ValueError, OSError, TypeError):
                signal.signal(signum, old)
        self._old.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.count > 1 or self.mode == "exit":
            what = "a second " if self.count > 1 else ""
            raise ExitNow(128 + signum, f"{what}{_signal_name(signum)}: exiting at once{self.context}")
        self.pending = signum
        if self.mode == "raise":
            raise Interrupted(signum)

    def arm(self) -> None:
        """From now on a signal interrupts; one that came during START interrupts now."""
        self.mode = "raise"
        if self.pending is not None:
            raise Interrupted(self.pending)

    def exit_mode(self) -> None:
        """From now on any signal leaves at once."""
        self.mode = "exit"


# -- the job's arguments
def _lines(values: Sequence[str]) -> Iterator[str]:
    """Each value as is; a value with line breaks is one item per non-blank line."""
    for value in values:
        if "\n" in value or "\r" in value:
            yield from (line for line in value.splitlines() if line.strip())
        else:
            yield value


def _task_values(values: Sequence[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in _lines(values):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"-tv/--task-value expects NAME=VALUE, got {item!r}")
        pairs.append((name.strip(), value))
    return tuple(pairs)


def job_info(args: argparse.Namespace, server: str = "") -> JobInfo:
    """What the arguments ask for (checked for what argparse cannot check)."""
    if not args.application:
        raise UsageError("-an/--application is required")
    if not args.job and not args.file_name:
        raise UsageError("give -jn/--job or -fn/--file-name")
    if getattr(args, "kill_on_timeout", False) and not getattr(args, "allow_kill", True):
        raise UsageError("--kill-on-timeout and --no-kill contradict each other")
    return JobInfo(
        server=server,
        application=args.application,
        job=args.job or None,
        file_name=args.file_name or None,
        parameters=tuple(_lines(args.parameters)),
        task_values=_task_values(args.task_values),
        run_as=args.run_as or None,
        submit_user=args.submit_user,
        station=args.station,
        queue=args.queue or None,
        xml_escape=bool(getattr(args, "xml_escape", False)),
    )


def check_start(info: JobInfo, task_id: str | None = None) -> None:
    """Validate the START as the client will (raises `ValidationError` naming the field),
    so that bad input sends nothing, not even the Logon that comes before the START."""
    from amtopcon._wire.requests import start_request

    start_request(info.application, info.job, **info.start_options(task_id))


# -- the run
def run_start(args: argparse.Namespace) -> int:
    """Start the job, wait for its end, print its log; returns the exit code. With
    `--log-dir`, every line also goes to the task's job log file."""
    info = job_info(args)
    printer = Printer(json_mode=args.json, quiet=args.quiet)
    if getattr(args, "log_dir", None):
        from amtopcon.cli._joblog import open_job_log, task_id_for

        args.task_id = task_id_for(args.task_id)  # the file is named by the START's TaskId
        printer.copy = open_job_log(args.log_dir, args.task_id, args.log_retention_days)
    try:
        return _run_start(args, info, printer)
    finally:
        if printer.copy is not None:
            printer.copy.close()


def _run_start(args: argparse.Namespace, info: JobInfo, printer: Printer) -> int:
    from amtopcon.cli._connect import log_on, open_client, server_label

    printer.line(arguments_line(info))
    client = open_client(args)  # outside the guard: Ctrl+C at a password prompt just ends the command
    try:
        info = attrs.evolve(info, server=server_label(client))
        try:
            check_start(info, args.task_id)  # bad input: no request at all, not even the Logon
            log_on(client)  # outside the guard too: no job yet
            printer.line(AUTHENTICATED)
            with SignalGuard() as guard:
                return _Run(client, args, info, printer, guard).run()
        except Exception as exc:
            # As the connector: the error, then its last line with the code (stdout), so
            # that OpCon's job output ends the same way whatever happened.
            code, message = describe(exc)
            printer.warn(message)
            maybe_traceback(exc)
            printer.line(completed_line(code))
            return code
    finally:
        printer.pause_status()
        client.close()


class _NotConfirmed(Exception):
    """The KILL could not be confirmed (the text says why)."""


class _Run:
    def __init__(
        self, client: Client, args: argparse.Namespace, info: JobInfo, printer: Printer, guard: SignalGuard
    ) -> None:
        self.client = client
        self.args = args
        self.info = info
        self.printer = printer
        self.guard = guard

    def run(self) -> int:
        from amtopcon.errors import WaitTimeoutError

        info, args = self.info, self.args
        self.printer.line(request_received_line(info))
        handle = self.client.start(info.application, info.job, **info.start_options(args.task_id))
        brid = handle.batch_request_id
        self.info = info = attrs.evolve(info, batch_request_id=brid)
        self.guard.context = f"; AMT job {info.label} (BatchRequestId {brid}) may still be running"
        self.printer.line(started_line(info, brid))
        try:
            self.guard.arm()
            if args.no_wait:
                self.guard.exit_mode()
                self.printer.json(
                    {"batch_request_id": brid, "application": info.application, "job": info.job, "waiting": False}
                )
                return 0
            on_status = self.printer.start_status(self.client.clock.now, f"{info.label} ({brid})")
            result = handle.wait(timeout=args.timeout, on_status=on_status)
        except Interrupted as intr:
            self.printer.pause_status()
            if not getattr(args, "allow_kill", True):
                self.guard.exit_mode()
                return self._unfinished(
                    handle,
                    f"{_signal_name(intr.signum)} received; --no-kill: AMT job BatchRequestId {brid} is left running",
                )
            return self._kill(handle, f"{_signal_name(intr.signum)} received")
        except WaitTimeoutError:
            self.printer.pause_status()
            if args.kill_on_timeout:
                return self._kill(handle, f"--timeout of {args.timeout:g} s reached", timed_out=True)
            self.guard.exit_mode()
            return self._unfinished(
                handle,
                f"--timeout of {args.timeout:g} s reached; AMT job BatchRequestId {brid} is left running",
                timed_out=True,
            )
        self.guard.exit_mode()
        self.printer.pause_status()
        return self._finished(result)

    # -- endings
    def _finished(
        self, result: JobResult, note: str | None = None, *, kill_requested: bool = False, timed_out: bool = False
    ) -> int:
        code = self._criteria_code(result)
        p = self.printer
        if p.json_mode:
            p.json(
                result_json(
                    self.info,
                    result,
                    exit_code=code,
                    timed_out=timed_out,
                    kill_requested=kill_requested,
                    kill_confirmed=True if kill_requested else None,
                    note=note,
                )
            )
        if p.human or p.copy is not None:  # the job log file (--log-dir) gets it in every mode
            p.line(format_job_log(self.info, result.code.name, result.messages, description=result.status.description))
            p.line(completed_line(code))
        if not (p.json_mode or p.human) and code != 4 and not result.succeeded:  # --quiet: say why it failed
            why = f": {result.status.description}" if result.status.description else ""
            p.warn(
                f"AMT job {self.info.label} (BatchRequestId {self.info.batch_request_id}) "
                f"ended {result.code.name} ({int(result.code)}){why}"
            )
        return code

    def _criteria_code(self, result: JobResult) -> int:
        """The exit code: the completion code, or under `--success` 4 for a code the
        criteria accept and the code itself for one they reject (11 for a rejected DONE)."""
        from amtopcon.cli._errors import EXIT_ERROR, EXIT_SUCCESS_CODE

        code = result.exit_code
        criteria = getattr(self.args, "success", None)
        if criteria is None:
            return code
        if criteria.matches(code):
            if code != EXIT_SUCCESS_CODE:
                self.printer.note(f"completion code {result.code.name} ({code}) meets --success {criteria}: exit 4")
            return EXIT_SUCCESS_CODE
        if code == EXIT_SUCCESS_CODE:
            self.printer.warn(f"completion code DONE (4) fails --success {criteria}: exit {EXIT_ERROR}")
            return EXIT_ERROR
        return code

    def _messages(self, handle: JobHandle) -> tuple[Message, ...]:
        try:
            total = handle.client.total_timeout
            bound = LOG_READ_TIMEOUT if total is None else min(total, LOG_READ_TIMEOUT)
            reader = handle.client.with_options(total_timeout=bound)  # shares the pool and the token
            return tuple(reader.job(handle.batch_request_id).messages())
        except Exception as exc:  # best effort: the job log is a courtesy here
            self.printer.warn(f"could not read the job log: {describe(exc)[1]}")
            return ()

    def _unfinished(
        self,
        handle: JobHandle,
        note: str,
        *,
        timed_out: bool = False,
        kill_requested: bool = False,
        kill_confirmed: bool | None = None,
    ) -> int:
        """The job has not ended (or its end is unknown): report the last code seen and exit with it."""
        status = handle.last_status  # from START, KILL or the last MonitorJob
        code = int(status.code) if status is not None else 1  # QUEUED: START answered, nothing since
        name = status.code.name if status is not None else str(code)
        self.printer.warn(f"{note}; last code seen: {name} ({code})")
        p = self.printer
        if p.json_mode or p.human:
            messages = self._messages(handle)
            if p.json_mode:
                p.json(
                    result_json(
                        self.info,
                        None,
                        status=status,
                        messages=messages,
                        exit_code=code,
                        timed_out=timed_out,
                        kill_requested=kill_requested,
                        kill_confirmed=kill_confirmed,
                        note=note,
                    )
                )
            else:
                description = status.description if status is not None else None
                p.line(format_job_log(self.info, name, messages, description=description))
                p.line(completed_line(code))
        return code

    def _kill(self, handle: JobHandle, reason: str, *, timed_out: bool = False) -> int:
        """Kill the job, wait up to KILL_GRACE seconds for it to land, report; a second signal exits."""
        from amtopcon.errors import AmtOpConError, APITimeoutError, WaitTimeoutError
        from amtopcon.polling import PollPolicy

        self.guard.mode = "exit"
        brid = self.info.batch_request_id
        self.guard.context = f"; the kill of AMT job BatchRequestId {brid} is not confirmed"
        self.printer.note(f"{reason}: killing AMT job {self.info.label} (BatchRequestId {brid})")
        clock = self.client.clock
        deadline = clock.now() + KILL_GRACE
        not_confirmed = f"the KILL of BatchRequestId {brid} was not confirmed within {KILL_GRACE:g} s"
        poll = PollPolicy(initial_delay=0.0, interval=0.5, backoff=1.5, max_interval=3.0, jitter=0.1)
        try:
            try:
                handle.kill(timeout=KILL_GRACE)
            except APITimeoutError as exc:
                raise _NotConfirmed(f"{not_confirmed} (no answer to the KILL: {describe(exc)[1]})") from None
            except AmtOpConError as exc:
                raise _NotConfirmed(f"KILL of BatchRequestId {brid} failed: {describe(exc)[1]}") from None
            try:
                result = handle.wait(timeout=max(deadline - clock.now(), 0.0), poll=poll)
            except WaitTimeoutError:
                raise _NotConfirmed(not_confirmed) from None
            except AmtOpConError as exc:
                why = f"the KILL of BatchRequestId {brid} could not be confirmed: {describe(exc)[1]}"
                raise _NotConfirmed(why) from None
        except _NotConfirmed as unconfirmed:
            note = str(unconfirmed)
            return self._unfinished(
                handle, note, timed_out=timed_out, kill_requested=True, kill_confirmed=False
            )
        return self._finished(result, note=reason, kill_requested=True, timed_out=timed_out)
