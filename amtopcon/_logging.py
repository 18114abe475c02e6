"""The library's logger and warnings: the `amtopcon` logger (with a `NullHandler`, so an
application that never set up logging hears nothing from it), `AMTOPCON_LOG=debug`, and
`InsecureTransportWarning`, issued once per cause."""

from __future__ import annotations

import logging
import os
import sys
import threading
import warnings

__all__ = ["InsecureTransportWarning", "configure_logging_from_env", "logger", "warn_once"]

logger = logging.getLogger("amtopcon")
logger.addHandler(logging.NullHandler())


class InsecureTransportWarning(UserWarning):
    """TLS verification is off, or credentials go over plain HTTP to a non-loopback host."""


_warned: set[str] = set()
_warn_lock = threading.Lock()
_logging_configured = False


def warn_once(key: str, text: str, *, stacklevel: int = 4) -> None:
    """Issue `InsecureTransportWarning(text)` the first time `key` is seen in this process."""
    with _warn_lock:
        if key in _warned:
            return
        _warned.add(key)
    warnings.warn(text, InsecureTransportWarning, stacklevel=stacklevel)


def configure_logging_from_env() -> None:
    """`AMTOPCON_LOG=debug` (or info, warning, error) sends the `amtopcon` logger to stderr."""
    global _logging_configured
    if _logging_configured:
        return
    _logging_configured = True
    level = os.environ.get("AMTOPCON_LOG", "").strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        return
    logger.setLevel(level)
    if not any(not isinstance(h, logging.NullHandler) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
