"""The exit codes, and from an exception to an exit code and one line of text (the table is in `amtopcon.cli`)."""

from __future__ import annotations

import os
import sys

from amtopcon import errors

# The exit codes of the command (the table is in the `amtopcon.cli` docstring). This module
# imports only the light `amtopcon.errors`, so `amtopcon --version` may import them.
EXIT_SUCCESS_CODE = 4  # DONE: the only successful AMT completion code
EXIT_ERROR = 11  # ERROR: unknown application/job, refused START
EXIT_SERVER = 23  # WEB_SERVER_ERROR: unreachable, 5xx after retries, contract broken, START outcome unknown
EXIT_AUTH = 24  # AUTHENTICATION_ERROR: 401 / 403
EXIT_USAGE = 64  # outside the AMT completion code table (argparse's 2 would read as RUNNING)
EXIT_INTERNAL = 70  # a bug in amtopcon
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: standard output was closed by its reader

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
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
