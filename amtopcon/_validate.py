"""Every input rule of the package: seconds, integers, message sequences, headers,
loopback hosts, and the one type that holds a secret.

One place for the rules (a bool is not a number, NaN never passes, an integer too large
for a float counts as infinite) and for the wording of the `ValidationError`, which names
the field: `timeout: expected a number of seconds >= 0 or None, got -1`. The models,
`PollPolicy`, the config readers, the clients, the command line and the emulator all
check through it.

It imports only `amtopcon.errors` and the standard library, so `amtopcon.config` and the
command's parser may use it without loading httpx or cattrs. Strings are not parsed here: a caller that reads text
(a `Connector.config`, a command-line option) converts it with `float()` first and reports
a `ValueError` in its own terms (a `ValidationError` is one), using `seconds_wanted()`.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Mapping
from typing import Any, Literal, overload

from amtopcon.errors import ValidationError

__all__ = [
    "Secret",
    "field_of",
    "headers",
    "integer",
    "is_int",
    "is_loopback",
    "number",
    "seconds",
    "seconds_wanted",
    "sequence",
]


def is_int(value: object) -> bool:
    """True for an int that is not a bool (True would pass as 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


def number(value: object) -> float | None:
    """`value` as a float, or None when it is not a number (a bool, a string, NaN).
    An int too large for a float counts as infinite."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        result = float(value)
    except OverflowError:  # an int too large for a float
        result = math.inf
    return None if math.isnan(result) else result


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
    got = number(value)
    if got is not None and (got >= minimum if inclusive else got > minimum) and (not finite or math.isfinite(got)):
        return got
    wanted = seconds_wanted(minimum=minimum, inclusive=inclusive, finite=finite, allow_none=allow_none)
    raise ValidationError(f"{field}: expected {wanted}, got {value!r}", field=field)


def _integer(value: object, field: str, minimum: int, wanted: str) -> int:
    if isinstance(value, int) and is_int(value) and value >= minimum:
        return int(value)
    raise ValidationError(f"{field}: expected {wanted}, got {value!r}", field=field)


def integer(value: object, field: str, *, minimum: int) -> int:
    """`value` when it is an int `>= minimum` (not a bool, not a float), else `ValidationError(field=field)`."""
    return _integer(value, field, minimum, f"an integer >= {minimum}")


def sequence(value: object, field: str) -> int:
    """A message sequence (an int >= 0; 0 is before the first message), else `ValidationError(field=field)`."""
    return _integer(value, field, 0, "a message sequence (an integer >= 0)")


def headers(value: object) -> dict[str, str]:
    """Extra headers (`headers=`): a mapping of non-empty ASCII names to ASCII values with
    no line break, else `ValidationError(field="headers")`."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError("headers: expected a mapping of header names to values", field="headers")
    for name, text in value.items():
        if not isinstance(name, str) or not isinstance(text, str) or not name.strip():
            raise ValidationError(f"headers: names and values must be strings, got {name!r}", field="headers")
        if any(c in name + text for c in "\r\n\x00"):
            raise ValidationError(f"headers: {name!r} contains a line break", field="headers")
        if not (name + text).isascii() or not (name + text).isprintable():
            raise ValidationError(
                f"headers: {name.encode('ascii', 'replace').decode()!r}: names and values must be printable ASCII",
                field="headers",
            )
    return dict(value)


def is_loopback(host: str) -> bool:
    """True for `localhost` and any loopback address (127.0.0.0/8, ::1), brackets allowed."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Secret:
    """Holds a secret (a password, a logon token); its repr and str never show it."""

    __slots__ = ("value",)

    def __init__(self, value: str | None) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<secret>" if self.value else "None"

    __str__ = __repr__

    def __reduce__(self) -> tuple[type[Secret], tuple[None]]:
        return (Secret, (None,))  # a pickled secret travels empty


def field_of(wanted: str, *types: type, optional: bool = False) -> Callable[[Any, Any, Any], None]:
    """An attrs validator: the field's value is one of `types` (an int is never a bool
    unless `bool` is named; None passes when `optional`), else `ValidationError` naming
    the class and the field: `JobStatus.batch_request_id: expected an integer, got str '5'`."""

    def check(instance: object, attribute: Any, value: object) -> None:
        if value is None and optional:
            return
        if isinstance(value, types) and (bool in types or not isinstance(value, bool)):
            return
        name = attribute.name
        raise ValidationError(
            f"{type(instance).__name__}.{name}: expected {wanted}, got {type(value).__name__} {value!r:.60}",
            field=name,
        )

    return check
