"""`amtopcon emulator serve` (filled in by the emulator work)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    """Register `emulator serve`."""
    emulator = sub.add_parser("emulator", help="the built-in AMT batch environment emulator")
    esub = emulator.add_subparsers(dest="emulator_command")
    serve = esub.add_parser("serve", help="serve the emulator over HTTP(S) on loopback")
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    raise SystemExit("amtopcon emulator serve: not built yet")
