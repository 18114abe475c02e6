"""`amtopcon completion bash|zsh|tcsh`: the shell completion script, written by shtab
(the optional extra `amtopcon[completion]`) from the command's own argument parser, so
it always offers the commands and options of this version.

Without the extra it says how to install it (exit 64); `import amtopcon` and the other
commands never import shtab.
"""

from __future__ import annotations

import argparse
from typing import Any

from amtopcon.cli._errors import UsageError

#: How to get the extra, as the error says it.
INSTALL_HINT = "shell completion needs the optional extra: pip install 'amtopcon[completion]'"

#: Metavars whose values are paths: the script completes file names for them.
_PATH_METAVARS = frozenset({"FILE", "PATH"})


def _shtab() -> Any:
    try:
        import shtab
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return shtab


def _mark_paths(parser: argparse.ArgumentParser, files: Any) -> None:
    """Complete file names for options that take a path (`--config FILE`, `-fn PATH`, ...)."""
    for action in parser._actions:
        if action.metavar in _PATH_METAVARS:
            action.complete = files  # type: ignore[attr-defined]  # shtab reads this attribute
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _mark_paths(sub, files)


def script(shell: str) -> str:
    """The completion script of `amtopcon` for `shell` (bash, zsh or tcsh)."""
    from amtopcon.cli import build_parser

    shtab = _shtab()
    parser = build_parser()
    _mark_paths(parser, shtab.FILE)
    text: str = shtab.complete(parser, shell=shell)
    return text


def run_completion(args: argparse.Namespace) -> int:
    """`amtopcon completion SHELL`: print the script (see `amtopcon completion --help` for where it goes)."""
    print(script(args.shell), flush=True)
    return 0
