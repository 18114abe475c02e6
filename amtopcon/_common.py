"""Small pieces shared across the package that import nothing.

The served emulator's default address lives here rather than in `amtopcon.testing`
because the command's parser names it, and building the parser (`amtopcon --version`)
loads nothing of the testing kit.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, Final

#: Where `EmulatorServer` and `amtopcon emulator serve` listen unless told otherwise.
DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 4004


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`1 job`, `2 jobs`, `0 batch requests`: a count with its noun in the right number (for reprs)."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def lazy_attributes(
    package: str, names: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's PEP 562 `__getattr__` and `__dir__`: each name in `names` is imported from
    its module on first use (then kept in `namespace`), so importing the package stays cheap."""

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(namespace.get("__all__", ())))

    return __getattr__, __dir__
