"""Fixtures of the hostile-network suite: a bounded runner and chain walkers."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

#: Generous upper bound (real seconds) proving a call "did not hang"; never a speed assert.
HANG = 12.0


def bounded(fn: Callable[[], Any], seconds: float = HANG) -> Any:
    """Run `fn` in a thread; return its result or re-raise its exception; fail the test if it hangs."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed back to the test
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"the call did not return within {seconds}s (it hangs)")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def walk(exc: BaseException) -> Iterator[Any]:
    """Every object reachable from an exception: its chain and attributes, requests and responses included."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        obj = stack.pop()
        if obj is None or id(obj) in seen or isinstance(obj, (int, float, bool)):
            continue
        seen.add(id(obj))
        yield obj
        if isinstance(obj, BaseException):
            stack += [obj.__cause__, obj.__context__, *obj.args]
        if isinstance(obj, (list, tuple, set, frozenset)):
            stack += list(obj)
        if isinstance(obj, dict):
            stack += list(obj.keys()) + list(obj.values())
        for name in ("request", "_request", "response", "_response", "headers", "content", "_content", "stream"):
            with contextlib.suppress(Exception):  # a property that refuses (httpx's .request) reaches nothing
                stack.append(getattr(obj, name, None))
        if hasattr(obj, "__dict__") and not isinstance(obj, type):
            stack += list(vars(obj).values())


def texts(exc: BaseException) -> str:
    """Everything an error tracker could print: each object's str and repr, bytes decoded."""
    out = []
    for obj in walk(exc):
        if isinstance(obj, bytes):
            out.append(obj.decode("latin-1"))
            continue
        try:
            out.append(str(obj))
            out.append(repr(obj))
        except Exception:
            pass
        if isinstance(obj, httpx.Headers):
            out += [f"{k!r}{v!r}" for k, v in obj.raw]
    return "\n".join(out)
