"""A small runner for the Python blocks of a Markdown page.

Every fenced block whose info string starts with ``python`` (or ``py``) is a block to run.
A block is skipped only when the last non-blank line before its fence is an HTML comment
``<!-- not-runnable: reason -->`` with a non-empty reason. The runnable blocks of one page
run in order in one namespace, so a later block may use what an earlier one defined.

A block with top-level ``await`` (as a notebook allows) runs through ``asyncio.run``.
While a page runs, name resolution of any host that is not on loopback fails, so a
documented example can never reach beyond this machine.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import ipaddress
import re
import socket
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Block", "DocBlockError", "MarkerError", "extract_blocks", "loopback_only", "run_blocks", "run_page"]

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$")
_MARKER = re.compile(r"^\s*<!--\s*not-runnable\s*:(?P<reason>.*?)-->\s*$")
_LOOSE_MARKER = re.compile(r"<!--\s*not[-_ ]?runnable", re.IGNORECASE)
_PYTHON_INFO = re.compile(r"^\{?\s*\.?(python|py|python3)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    path: str
    line: int  # 1-based line of the opening fence
    info: str
    code: str
    not_runnable: str | None  # the reason, when the block is marked not runnable

    @property
    def is_python(self) -> bool:
        """True for a block fenced as Python."""
        return bool(_PYTHON_INFO.match(self.info))

    @property
    def runnable(self) -> bool:
        """True for a Python block that is not marked not runnable."""
        return self.is_python and self.not_runnable is None


class MarkerError(ValueError):
    """A `not-runnable` marker that is malformed (no reason) or not in front of a Python block."""


class DocBlockError(AssertionError):
    """A documented example failed; the message names the page, the line and the traceback."""


def _dedent(lines: list[str], indent: str) -> list[str]:
    out = []
    for line in lines:
        if line.startswith(indent):
            out.append(line[len(indent) :])
        else:
            out.append(line.lstrip(" \t") if not line.strip() else line)
    return out


def extract_blocks(text: str, path: str = "<markdown>") -> list[Block]:
    """Every fenced block of `text`, in order (indented fences in lists and admonitions too)."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        indent, fence, info = match["indent"], match["fence"], match["info"].strip()
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines):
            closing = lines[i].strip()
            if closing.startswith(fence[0] * len(fence)) and not closing.strip(fence[0]):
                break
            body.append(lines[i])
            i += 1
        i += 1  # past the closing fence
        marker = _marker_before(lines, start, path)
        blocks.append(Block(path, start + 1, info, "\n".join(_dedent(body, indent)) + "\n", marker))
    for block in blocks:
        if block.not_runnable is not None and not block.is_python:
            raise MarkerError(f"{path}:{block.line}: a not-runnable marker in front of a {block.info or 'plain'} block")
    return blocks


def _marker_before(lines: list[str], fence_index: int, path: str) -> str | None:
    j = fence_index - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    if j < 0:
        return None
    previous = lines[j]
    match = _MARKER.match(previous)
    if match is None:
        if _LOOSE_MARKER.search(previous):
            raise MarkerError(f"{path}:{j + 1}: malformed marker; write <!-- not-runnable: the reason -->")
        return None
    reason = match["reason"].strip()
    if not reason:
        raise MarkerError(f"{path}:{j + 1}: a not-runnable marker needs a reason")
    return reason


def _is_loopback(host: object) -> bool:
    if host is None:
        return True
    name = host.decode() if isinstance(host, bytes) else str(host)
    name = name.strip("[]").lower()
    if name in ("localhost", "localhost.localdomain", ""):
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def loopback_only() -> Iterator[None]:
    """While active, resolving a host that is not on loopback fails (no traffic leaves)."""
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, f"docs runner: {host!r} is not on loopback; no network here")
        return real(host, *args, **kwargs)

    socket.getaddrinfo = guarded
    try:
        yield
    finally:
        socket.getaddrinfo = real


def _run_one(block: Block, namespace: dict[str, Any]) -> None:
    filename = f"{block.path}:{block.line}"
    code = compile(block.code, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    if code.co_flags & inspect.CO_COROUTINE:
        coroutine = eval(code, namespace)  # a block with top-level await
        asyncio.run(coroutine)
    else:
        exec(code, namespace)


def run_blocks(blocks: list[Block], namespace: dict[str, Any] | None = None) -> int:
    """Run the runnable blocks in order in one namespace; returns how many ran.

    A failing block raises `DocBlockError` naming the page and the line of its fence.
    """
    ns: dict[str, Any] = {"__name__": "__docs__"} if namespace is None else namespace
    ran = 0
    with loopback_only():
        for block in blocks:
            if not block.runnable:
                continue
            try:
                _run_one(block, ns)
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt):
                    raise
                tb = "".join(traceback.format_exception(exc))
                raise DocBlockError(
                    f"the Python block at {block.path}:{block.line} failed: {type(exc).__name__}: {exc}\n\n"
                    f"{block.code}\n{tb}"
                ) from exc
            ran += 1
    return ran


def run_page(path: Path, namespace: dict[str, Any] | None = None) -> int:
    """Extract and run the Python blocks of one Markdown file."""
    text = path.read_text(encoding="utf-8")
    return run_blocks(extract_blocks(text, str(path)), namespace)
