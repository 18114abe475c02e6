"""Small pieces shared across the package that import nothing.

The served emulator's default address lives here rather than in `amtopcon.testing`
because the command's parser names it, and building the parser (`amtopcon --version`)
loads nothing of the testing kit.
"""

from __future__ import annotations

from typing import Final

#: Where `EmulatorServer` and `amtopcon emulator serve` listen unless told otherwise.
DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 4004


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`1 job`, `2 jobs`, `0 batch requests`: a count with its noun in the right number (for reprs)."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
