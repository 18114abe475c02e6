"""How the command shows the library's log records and `warnings` on standard error.

One handler on the `amtopcon` logger at a time: plain one-line warnings by default, or
timestamped lines from INFO up with `emulator serve --verbose`. Imported once the
arguments are parsed (logging is not needed for `--version`).
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Callable
from typing import TextIO

#: The format of `--verbose` lines (a test reads the request's method and path at fields 4 and 5).
VERBOSE_FORMAT = "%(asctime)s %(levelname)s %(message)s"


class _StderrHandler(logging.Handler):
    """Records of the `amtopcon` logger on the current stderr (`sys.stderr` when emitted).

    Without a formatter: one plain `amtopcon: warning: ...` line (no traceback). With one
    (`--verbose`): the formatter's text, traceback included.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.formatter is None:
                text = "amtopcon: {}: {}".format(record.levelname.lower(), " ".join(record.getMessage().split()))
            else:
                text = self.format(record)
            print(text, file=sys.stderr, flush=True)
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


def setup_logging(*, quiet: bool, verbose: bool = False, debug: bool = False) -> Callable[[], None]:
    """Show the library's log warnings and `warnings` as one plain line each (none with
    --quiet or --json).

    `debug` (`-v`/`--verbose` of the command): every record from DEBUG up, timestamped,
    whatever --quiet, --json or `AMTOPCON_LOG` say (the library logs no secret: paths,
    status codes, request ids, attempts). `verbose` (`emulator serve --verbose`): every
    record from INFO up instead, timestamped, tracebacks included, through the same single
    handler (so nothing shows twice). Otherwise `AMTOPCON_LOG=debug|info|warning` keeps the
    library's own logging set-up (its `warnings` are still one line each). Returns the
    function that undoes it all.
    """
    global _handler
    undo_warnings = _warnings_as_lines(quiet=quiet)
    logger = logging.getLogger("amtopcon")
    level = logger.level
    if debug:
        handler = _StderrHandler(level=logging.DEBUG)
        handler.setFormatter(logging.Formatter(VERBOSE_FORMAT))
        logger.setLevel(logging.DEBUG)
    elif verbose:
        handler = _StderrHandler(level=logging.INFO)
        handler.setFormatter(logging.Formatter(VERBOSE_FORMAT))
        logger.setLevel(logging.INFO)
    elif os.environ.get("AMTOPCON_LOG", "").strip():
        return undo_warnings
    else:
        handler = _StderrHandler(level=logging.ERROR if quiet else logging.WARNING)
    logger.addHandler(handler)
    _handler = handler

    def undo() -> None:
        global _handler
        logger.removeHandler(handler)
        logger.setLevel(level)
        if _handler is handler:
            _handler = None
        undo_warnings()

    return undo


#: The handler `setup_logging` installed (None when `AMTOPCON_LOG` keeps the library's own).
_handler: _StderrHandler | None = None


def enable_debug(reason: str) -> bool:
    """Every record from DEBUG up, timestamped, on standard error, through the handler
    `setup_logging` installed (`DEBUG=ON` in a Connector.config). Not with `AMTOPCON_LOG`,
    `--quiet` or `--json` (the command line's own choice wins). Returns True when it was
    turned on."""
    handler = _handler
    if handler is None or handler.level > logging.WARNING:  # AMTOPCON_LOG, or --quiet / --json
        return False
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter(VERBOSE_FORMAT))
    logger = logging.getLogger("amtopcon")
    logger.setLevel(logging.DEBUG)
    logger.debug("debug log on (%s)", reason)
    return True
