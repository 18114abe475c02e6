"""PEP 562 lazy attributes: a package hands its names on from their modules on first use,
so importing the package stays cheap (`amtopcon --version` loads neither httpx nor cattrs)."""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # not `from typing import ...`: importing the package stays light
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Mapping
    from typing import Any

__all__ = ["lazy_attributes"]


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
