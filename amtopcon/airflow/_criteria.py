"""Which ended jobs count as a success: `success_codes` (kept small, to be swapped for the
SDK's exit criteria once they exist)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from amtopcon import CompletionCode
from amtopcon.errors import ValidationError

__all__ = ["check_success_codes", "describe_codes", "succeeded"]

#: The default: only DONE (4) succeeds.
DEFAULT_SUCCESS_CODES: frozenset[int] = frozenset({int(CompletionCode.DONE)})


def check_success_codes(codes: Collection[Any] | None) -> frozenset[int] | None:
    """Validate `success_codes` (None: the default, DONE only).

    Raises:
        ValidationError: not a collection of terminal completion codes (`field="success_codes"`).
    """
    if codes is None:
        return None
    if isinstance(codes, (str, bytes)) or not isinstance(codes, Collection):
        raise ValidationError(
            f"success_codes: expected a collection of completion codes, got {codes!r}", field="success_codes"
        )
    out: set[int] = set()
    for code in codes:
        if isinstance(code, bool) or not isinstance(code, int):
            raise ValidationError(f"success_codes: expected integers, got {code!r}", field="success_codes")
        if not CompletionCode(code).is_terminal:
            raise ValidationError(
                f"success_codes: {code} is not a code a job ends with "
                f"(the terminal codes are 3, 4, 6, 10, 11, 12, 22, 23, 24 and 99)",
                field="success_codes",
            )
        out.add(int(code))
    if not out:
        raise ValidationError("success_codes: empty; give at least one code (None: DONE only)", field="success_codes")
    return frozenset(out)


def succeeded(code: int, success_codes: Collection[int] | None) -> bool:
    """True when a job that ended with `code` counts as a success."""
    return int(code) in (DEFAULT_SUCCESS_CODES if success_codes is None else success_codes)


def describe_codes(success_codes: Collection[int] | None) -> str:
    """`DONE (4)`, or the list of accepted codes, for error messages."""
    codes = sorted(DEFAULT_SUCCESS_CODES if success_codes is None else success_codes)
    return ", ".join(f"{CompletionCode(c).name} ({c})" for c in codes)
