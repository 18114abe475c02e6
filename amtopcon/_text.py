"""Wording shared by reprs and messages."""

from __future__ import annotations

__all__ = ["counted"]


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`1 job`, `2 jobs`, `0 batch requests`: a count with its noun in the right number (for reprs)."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
