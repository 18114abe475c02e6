"""From an exception to an exit code and one line of text (the table is in `amtopcon.cli`)."""

from __future__ import annotations

import logging
import os
import sys
import traceback
import warnings
from collections.abc import Callable
from typing import TextIO

from amtopcon import errors

EXIT_ERROR = 11
EXIT_SERVER = 23
EXIT_AUTH = 24
EXIT_USAGE = 64
EXIT_INTERNAL = 70

#: The server the command talks to, once known (named in connection errors).
current_server: str | None = None


class UsageError(Exception):
    """Bad arguments or missing settings: exit 64."""


class ExitNow(BaseException):
    """Leave the command at once with `code` (after a second signal, for example).

    A BaseException, so that no `except Exception` in library code swallows it.
    """

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message


class Interrupted(BaseException):
    """SIGTERM or SIGINT arrived while a job run waits (a BaseException: library code cannot swallow it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _at() -> str:
    return f" at {current_server}" if current_server else ""


def describe(exc: BaseException) -> tuple[int, str]:
    """The exit code and the one-line reason for an exception."""
    if isinstance(exc, UsageError):
        return EXIT_USAGE, f"error: {exc}"
    if isinstance(exc, errors.ConfigError):
        return EXIT_USAGE, f"configuration error: {exc}"
    if isinstance(exc, errors.ValidationError):
        return EXIT_USAGE, f"invalid input: {exc}"
    if isinstance(exc, errors.StartOutcomeUnknownError):
        return EXIT_SERVER, f"the job may be queued in AMT: {exc}"
    if isinstance(exc, errors.JobStartError):
        return EXIT_ERROR, f"the server did not start the job: {exc}"
    if isinstance(exc, errors.NotFoundError):
        if exc.batch_request_not_found:
            return EXIT_ERROR, f"unknown BatchRequestId: {exc}"
        if exc.job_not_found:
            return EXIT_ERROR, f"unknown application or job: {exc}"
        return EXIT_SERVER, f"not found{_at()} (is the base URL right?): {exc}"
    if isinstance(exc, errors.BadRequestError):
        return EXIT_ERROR, f"the server refused the request: {exc}"
    if isinstance(exc, errors.AuthenticationError):
        return EXIT_AUTH, f"credentials refused{_at()}: {exc}"
    if isinstance(exc, errors.PermissionDeniedError):
        return EXIT_AUTH, f"not authorized{_at()}: {exc}"
    if isinstance(exc, errors.APITimeoutError):
        return EXIT_SERVER, f"the AMTOpCon server{_at()} did not answer in time: {exc}"
    if isinstance(exc, errors.APIConnectionError):
        return EXIT_SERVER, f"cannot reach the AMTOpCon server{_at()}: {exc}"
    if isinstance(exc, errors.InvalidResponseError):
        return EXIT_SERVER, f"the server{_at()} answered outside the contract: {exc}"
    if isinstance(exc, errors.APIStatusError):
        return EXIT_SERVER, f"server error{_at()}: {exc}"
    if isinstance(exc, errors.JobFailedError):
        code = getattr(exc.result, "exit_code", EXIT_ERROR)
        return int(code), str(exc)
    if isinstance(exc, errors.AmtOpConError):
        return EXIT_SERVER, f"error: {exc}"
    return EXIT_INTERNAL, f"internal error (please report it): {type(exc).__name__}: {exc}"


def maybe_traceback(exc: BaseException) -> None:
    """With `AMTOPCON_LOG=debug`, also print the traceback (off by default: one line per error)."""
    if os.environ.get("AMTOPCON_LOG", "").strip().lower() == "debug":
        traceback.print_exception(exc, file=sys.stderr)


class _StderrHandler(logging.Handler):
    """Warnings of the `amtopcon` logger as plain `amtopcon: warning: ...` lines on the current stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = " ".join(record.getMessage().split())
            print(f"amtopcon: {record.levelname.lower()}: {text}", file=sys.stderr, flush=True)
        except Exception:
            self.handleError(record)


def _from_amtopcon(category: type[Warning]) -> bool:
    return category.__module__.partition(".")[0] == "amtopcon"


def _warnings_as_lines(*, quiet: bool) -> Callable[[], None]:
    """The library's `warnings` (e.g. `InsecureTransportWarning`, issued when the client is
    made) as one plain `amtopcon: warning: ...` line each, without Python's file:line and
    source line; none with --quiet or --json. Other packages' warnings keep Python's format.
    Returns the function that undoes it."""
    original = warnings.showwarning

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if not _from_amtopcon(category):
            original(message, category, filename, lineno, file, line)
            return
        if quiet:
            return
        text = " ".join(str(message).split())
        print(f"amtopcon: warning: {text}", file=sys.stderr, flush=True)

    warnings.showwarning = show

    def undo() -> None:
        if warnings.showwarning is show:
            warnings.showwarning = original

    return undo


def setup_logging(*, quiet: bool) -> Callable[[], None]:
    """Show the library's log warnings and `warnings` as one plain line each (none with
    --quiet or --json).

    `AMTOPCON_LOG=debug|info|warning` keeps the library's own logging set-up instead (its
    `warnings` are still one line each). Returns the function that undoes it all.
    """
    undo_warnings = _warnings_as_lines(quiet=quiet)
    logger = logging.getLogger("amtopcon")
    if os.environ.get("AMTOPCON_LOG", "").strip():
        return undo_warnings
    handler = _StderrHandler(level=logging.ERROR if quiet else logging.WARNING)
    logger.addHandler(handler)

    def undo() -> None:
        logger.removeHandler(handler)
        undo_warnings()

    return undo
