"""The layout holds: no import circle inside `amtopcon/`, and the sync flavour is exactly
what `scripts/unasync.py` writes from the async one (a hand edit fails)."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "amtopcon"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The amtopcon modules a file imports at run time (module level or inside functions;
    `if TYPE_CHECKING:` blocks left out). `from pkg import name` counts as importing
    `pkg.name` when that is a module, else `pkg`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            skip.update(id(n) for child in node.body for n in ast.walk(child))
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.add(target if target in modules else base)
    return {name for name in found if name in modules and name != me}


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: _imports(path, set(files)) for name, path in files.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                group.append(item)
                if item == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_import_circle_inside_the_package() -> None:
    graph = _graph()
    assert len(graph) > 30  # the walk saw the package
    assert "amtopcon._wire.names" in graph["amtopcon.errors"]  # and reads `from x import y` right
    assert _cycles(graph) == []


def test_the_circle_finder_finds_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _unasync() -> object:
    spec = importlib.util.spec_from_file_location("unasync_script", ROOT / "scripts" / "unasync.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sync_flavour_is_generated_from_the_async_one() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "unasync.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_hand_edit_to_a_generated_file_fails_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = _unasync()
    (tmp_path / "amtopcon" / "_async").mkdir(parents=True)
    (tmp_path / "amtopcon" / "_async" / "m.py").write_text(
        "async def f(c: AsyncClient) -> None:\n    await c.aclose()\n", encoding="utf-8"
    )
    monkeypatch.setattr(script, "ROOT", tmp_path)
    assert script.main([]) == 0  # type: ignore[attr-defined]
    generated = tmp_path / "amtopcon" / "_sync" / "m.py"
    assert generated.read_text(encoding="utf-8").endswith("def f(c: Client) -> None:\n    c.close()\n")
    assert script.main(["--check"]) == 0  # type: ignore[attr-defined]
    generated.write_text(generated.read_text(encoding="utf-8") + "x = 1\n", encoding="utf-8")
    assert script.main(["--check"]) == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("await self._clock.asleep(1)", "self._clock.sleep(1)"),
        ("async with self._auth.lock:", "with self._auth.lock:"),
        ("async for m in h.follow():", "for m in h.follow():"),
        ("x: httpx.AsyncClient", "x: httpx.Client"),
        ("def f() -> AsyncIterator[Message]:", "def f() -> Iterator[Message]:"),
        ("    close = aclose  # an alias\n", ""),
        ("    timeout: float = 1,  # noqa: ASYNC109 - why", "    timeout: float = 1,"),
        ("from amtopcon._async.jobs import AsyncJobHandle", "from amtopcon._sync.jobs import JobHandle"),
        ("MyAsyncClientThing", "MyAsyncClientThing"),  # whole words only
    ],
)
def test_unasync_rewrites(source: str, expected: str) -> None:
    assert _unasync().unasync(source) == expected  # type: ignore[attr-defined]


def test_the_sync_client_loads_no_event_loop_library() -> None:
    # A script or the command line with the sync Client never pays for asyncio, anyio or
    # httpcore (which loads anyio) on import; the async pieces load them on first use.
    code = (
        "import sys\n"
        "from amtopcon import Client, JobHandle\n"
        "import amtopcon._sync.client, amtopcon._sync.jobs, amtopcon._deadline\n"
        "loaded = sorted(m for m in ('asyncio', 'anyio', 'httpcore', 'trio') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
