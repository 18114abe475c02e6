"""The `amtopcon` command (also `python -m amtopcon`).

Start-up stays light: `--version` and `encode` import neither httpx nor cattrs.
Subcommands register themselves in `build_parser()`; heavy modules load on use.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from amtopcon._version import __version__

__all__ = ["EXIT_USAGE", "build_parser", "main"]

EXIT_USAGE = 64  # outside the AMT completion code table (argparse's 2 would read as RUNNING)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error exits 64, not 2 (2 is RUNNING in the AMT code table)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `amtopcon` command."""
    parser = _Parser(prog="amtopcon", description="Run and watch AMT batch jobs through AMTOpCon.")
    parser.add_argument("--version", action="version", version=f"amtopcon {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    from amtopcon.cli import _emulator

    _emulator.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    code: int = handler(args)
    return code
