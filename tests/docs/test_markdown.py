"""Every Python block of the docs and the README runs, against the emulator.

Each page runs in a fresh temporary directory, with a fresh emulator served over HTTP on
loopback (sped up) and `AMTOPCON_BASE_URL`, `AMTOPCON_USER` and `AMTOPCON_PASSWORD`
pointing at it, so a block written with `Client.from_env()` runs for real. A block that
cannot run here is marked `<!-- not-runnable: reason -->` on the line before its fence.
"""

from __future__ import annotations

import argparse
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docs.mdrun import extract_blocks, run_blocks

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = [*sorted(DOCS.rglob("*.md")), README]

#: Emulated seconds per real second for the served emulator: REPORTTEST01 (30 s) takes
#: a tenth of a second, LONGRUNNINGREPORT (an hour) twelve seconds.
SPEED = 300.0


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.fixture
def served_emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh emulator served on loopback; the environment points `Client.from_env()` at it."""
    from amtopcon.testing import Emulator, EmulatorServer, SpeedClock

    server = EmulatorServer(Emulator(clock=SpeedClock(SPEED)), "127.0.0.1", 0).start()
    try:
        for name in ("AMTOPCON_SERVER_ADDRESS", "AMTOPCON_USE_TLS", "AMTOPCON_TIMEOUT", "AMTOPCON_CA_BUNDLE"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AMTOPCON_BASE_URL", server.url)
        monkeypatch.setenv("AMTOPCON_USER", "ocadm")
        monkeypatch.setenv("AMTOPCON_PASSWORD", "opconxps")
        monkeypatch.chdir(tmp_path)
        yield server.url
    finally:
        server.close()


@pytest.fixture
def isolated_logging() -> Iterator[None]:
    """A page may configure logging (as the Configuration guide does); undo it afterwards."""
    root, ours = logging.getLogger(), logging.getLogger("amtopcon")
    saved = (root.level, list(root.handlers), ours.level, list(ours.handlers), ours.propagate)
    try:
        yield
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        ours.setLevel(saved[2])
        ours.handlers[:] = saved[3]
        ours.propagate = saved[4]


def _params() -> list[object]:
    return [pytest.param(path, id=_rel(path)) for path in PAGES]


@pytest.mark.slow
@pytest.mark.parametrize("path", _params())
@pytest.mark.usefixtures("isolated_logging")
def test_python_blocks_run(path: Path, served_emulator: str) -> None:
    blocks = extract_blocks(path.read_text(encoding="utf-8"), _rel(path))
    run_blocks(blocks, {"__name__": "__docs__"})


def test_every_page_is_covered_and_markers_are_rare() -> None:
    runnable = marked = 0
    for path in PAGES:
        for block in extract_blocks(path.read_text(encoding="utf-8"), _rel(path)):
            runnable += block.runnable
            marked += block.not_runnable is not None
    assert runnable >= 40, runnable
    # Blocks that need a real server are the exception, not the rule.
    assert marked <= 5, marked


def _bash_blocks(text: str) -> list[str]:
    return [b.code.strip() for b in extract_blocks(text) if b.info.startswith("bash")]


def test_quickstart_has_the_readmes_two_commands_verbatim() -> None:
    readme = README.read_text(encoding="utf-8")
    setup = readme[readme.index("## Set up") :]
    setup = setup[: setup.index("\n## ", 1)]
    commands = _bash_blocks(setup)
    assert len(commands) == 2
    quickstart = _bash_blocks((DOCS / "quickstart.md").read_text(encoding="utf-8"))
    assert quickstart[:2] == commands


def _options(parser: argparse.ArgumentParser) -> Iterator[tuple[str, str]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                for where, option in _options(sub):
                    yield f"{name} {where}".strip(), option
        else:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    yield "", option


def test_cli_reference_names_every_command_and_option() -> None:
    from amtopcon.cli import build_legacy_parser, build_parser

    text = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(-{1,2}[a-z][a-z-]*)", text))
    missing = sorted(
        {f"{where or 'amtopcon'}: {option}" for where, option in _options(build_parser()) if option not in documented}
        | {f"connector form: {o}" for _, o in _options(build_legacy_parser()) if o not in documented}
    )
    assert not missing, f"docs/reference/cli.md does not document {missing}"
    for command in ("start", "status", "messages", "stop", "kill", "heartbeat", "encode", "decode", "emulator serve"):
        assert f"`{command}" in text, command


def test_cli_reference_exit_codes_match_the_command() -> None:
    from amtopcon import cli

    text = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    table = text[text.index("## Exit codes") :]
    codes = {int(c) for c in re.findall(r"^\| (\d+) \|", table, re.MULTILINE)}
    for name in ("EXIT_SUCCESS_CODE", "EXIT_ERROR", "EXIT_SERVER", "EXIT_AUTH", "EXIT_USAGE", "EXIT_INTERNAL"):
        assert getattr(cli, name) in codes, name
    assert {3, 4, 11, 23, 24, 64, 70, 130, 143} <= codes


def test_completion_code_table_matches_the_enum() -> None:
    from amtopcon import CompletionCode

    text = (DOCS / "reference" / "completion-codes.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| (\w+) \| (yes)? ?\| (.+) \|$", text, re.MULTILINE)
    table = {int(code): (name, bool(terminal)) for code, name, terminal, _ in rows}
    expected = {int(c): (c.name, c.is_terminal) for c in CompletionCode if c.is_known}
    assert table == expected


def test_configuration_argument_table_matches_the_constructor() -> None:
    import inspect

    from amtopcon import AsyncClient, Client

    text = (DOCS / "guides" / "configuration.md").read_text(encoding="utf-8")
    table = text[text.index("## Arguments") : text.index("## Environment variables")]
    rows = re.findall(r"^\| `([a-z_]+)`(?:, `([a-z_]+)`)? \| (.+?) \|", table, re.MULTILINE)
    documented = {}
    for first, second, default in rows:
        for name in filter(None, (first, second)):
            documented[name] = default.strip().strip("`")
    parameters = dict(inspect.signature(Client.__init__).parameters)
    parameters.pop("self")
    assert parameters.keys() == {k: 0 for k in inspect.signature(AsyncClient.__init__).parameters if k != "self"}.keys()
    assert set(documented) == set(parameters)
    for name, parameter in parameters.items():
        doc = documented[name]
        if parameter.default is inspect.Parameter.empty:
            assert doc == "(required)", name
        elif doc.endswith("()"):
            assert parameter.default is None, name  # None stands for a fresh PollPolicy() / Clock()
        else:
            assert doc == repr(parameter.default), name


def test_wire_contract_page_is_the_design_document() -> None:
    """docs/reference/wire-contract.md is a copy of the shared design document when it is at hand."""
    shared = ROOT.parent / "shared" / "design" / "wire-contract.md"
    if not shared.is_file():
        pytest.skip("the shared design folder is not beside this clone")
    page = (DOCS / "reference" / "wire-contract.md").read_text(encoding="utf-8")
    assert page == shared.read_text(encoding="utf-8")
