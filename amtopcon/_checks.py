"""Checks of the numbers callers give: seconds, message sequences, counts.

One place for the rules (a bool is not a number, NaN never passes, an integer too large
for a float counts as infinite) and for the wording of the `ValidationError`, which names
the field: `timeout: expected a number of seconds >= 0 or None, got -1`.

It imports only `amtopcon.errors`, so `amtopcon.config` and the command's parser may use it
without loading httpx or cattrs. Strings are not parsed here: a caller that reads text
(a `Connector.config`, a command-line option) converts it with `float()` first and reports
a `ValueError` in its own terms (a `ValidationError` is one), using `seconds_wanted()`.
"""

from __future__ import annotations

import math
from typing import Literal, overload

from amtopcon.errors import ValidationError

__all__ = ["integer", "seconds", "seconds_wanted", "sequence"]


def seconds_wanted(
    *, minimum: float = 0.0, inclusive: bool = True, finite: bool = True, allow_none: bool = False
) -> str:
    """What `seconds()` accepts with these bounds, in words: `a finite number of seconds >= 0`."""
    text = f"{'a finite' if finite else 'a'} number of seconds {'>=' if inclusive else '>'} {minimum:g}"
    return f"{text} or None" if allow_none else text


@overload
def seconds(
    value: object,
    field: str,
    *,
    minimum: float = ...,
    inclusive: bool = ...,
    finite: bool = ...,
    allow_none: Literal[False] = ...,
) -> float: ...


@overload
def seconds(
    value: object, field: str, *, minimum: float = ..., inclusive: bool = ..., finite: bool = ..., allow_none: bool
) -> float | None: ...


def seconds(
    value: object,
    field: str,
    *,
    minimum: float = 0.0,
    inclusive: bool = True,
    finite: bool = True,
    allow_none: bool = False,
) -> float | None:
    """`value` as a float of seconds, else `ValidationError(field=field)` saying what was wanted.

    Args:
        value: an int or a float (not a bool, not a string).
        field: the argument's name, for the message and `.field`.
        minimum: the lower bound, `>=` it when `inclusive`, else `>`.
        finite: refuse infinity (and integers too large for a float); False lets an
            infinite timeout mean "no deadline".
        allow_none: None passes through (as "no limit").
    """
    if value is None and allow_none:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an int too large for a float
            number = math.inf
        # NaN fails every comparison, so it never passes.
        if (number >= minimum if inclusive else number > minimum) and (not finite or math.isfinite(number)):
            return number
    wanted = seconds_wanted(minimum=minimum, inclusive=inclusive, finite=finite, allow_none=allow_none)
    raise ValidationError(f"{field}: expected {wanted}, got {value!r}", field=field)


def _integer(value: object, field: str, minimum: int, wanted: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
        return int(value)
    raise ValidationError(f"{field}: expected {wanted}, got {value!r}", field=field)


def integer(value: object, field: str, *, minimum: int) -> int:
    """`value` when it is an int `>= minimum` (not a bool, not a float), else `ValidationError(field=field)`."""
    return _integer(value, field, minimum, f"an integer >= {minimum}")


def sequence(value: object, field: str) -> int:
    """A message sequence (an int >= 0; 0 is before the first message), else `ValidationError(field=field)`."""
    return _integer(value, field, 0, "a message sequence (an integer >= 0)")
