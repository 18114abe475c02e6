"""The typed vocabulary of the client's arguments: the action names, START's options, what
`task_values=` and `parameters=` take, and the event hooks. Types only (no I/O, no logic)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal, TypedDict

import httpx

from amtopcon.models import TaskValue

__all__ = ["Action", "EventHooks", "Parameters", "RequestHook", "ResponseHook", "StartOptions", "TaskValuesArg"]

#: What `job_action` does: START a job, or STOP or KILL a started one.
Action = Literal["START", "STOP", "KILL"]

#: Script parameters, in order: a list or tuple of strings (a single string is refused:
#: `parameters="abc"` would be three parameters `a`, `b`, `c`).
Parameters = list[str] | tuple[str, ...]

#: `task_values=`: a mapping of name to value, or a sequence of `TaskValue` or `(name, value)` pairs.
TaskValuesArg = Mapping[str, str] | Sequence[TaskValue | tuple[str, str]] | None

#: Called with each attempt's request just before it is sent (a redacted copy: no token,
#: no Logon body). On `AsyncClient` it may be a coroutine function.
RequestHook = Callable[[httpx.Request], object]
#: Called with each answer as it arrives, retries and Logons included (redacted likewise).
ResponseHook = Callable[[httpx.Response], object]


class EventHooks(TypedDict, total=False):
    """`event_hooks=`: callables that see every attempt of every call, as httpx's do,
    but redacted (the token is `***`, a Logon's body, sent or answered, is empty). An exception inside a
    hook is logged and the call goes on."""

    request: Sequence[RequestHook]
    response: Sequence[ResponseHook]


class StartOptions(TypedDict, total=False):
    """The options of a START, as `job_action("START", ...)` takes them (keyword arguments).

    Each means what the argument of that name of `start()` means."""

    parameters: Parameters | None
    task_values: TaskValuesArg
    run_as: str | None
    file_name: str | None
    submit_user: str
    station: str
    queue: str | None
    task_id: str | None
    xml_escape: bool
