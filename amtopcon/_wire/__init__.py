"""The AMTOpCon wire contract: the only package that knows paths, headers and field names.

Pure functions, no I/O, in four modules:

* `names`: functions, methods, headers, query parameters, body fields, error codes, limits;
* `requests`: what the clients send, and the rules their arguments follow;
* `responses`: decoding answers into models, error answers into typed exceptions;
* `server`: the same contract seen from the server (the emulator reads and writes it).

A deployment whose server differs is adapted here, in one place. The package hands on the
names of all four lazily (`_wire.F_TASK_ID`, `_wire.parse_job_status`), so that importing
`amtopcon._wire.names` (as `amtopcon.errors` and `amtopcon.config` do) loads nothing else.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from amtopcon._wire.names import *  # noqa: F403
    from amtopcon._wire.requests import *  # noqa: F403
    from amtopcon._wire.responses import *  # noqa: F403
    from amtopcon._wire.server import *  # noqa: F403

_MODULES = ("names", "requests", "responses", "server")


def __getattr__(name: str) -> Any:
    if name in _MODULES:  # `from amtopcon._wire import names`: the submodule itself
        return importlib.import_module(f"{__name__}.{name}")
    for module in _MODULES:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name, _MISSING)
        if value is not _MISSING:
            globals()[name] = value
            return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_MISSING = object()
