"""The package's one cattrs converter, built once at import, and timestamp parsing.

Models go through it for `to_dict()` / `from_dict()`; the wire layer renames the
contract's PascalCase keys to field names and structures through it too. Its hooks are
strict: an int field takes an int or a string of digits, a str field takes a str, so a
server answer of the wrong shape becomes a typed error rather than a silent coercion.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

import cattrs

from amtopcon.errors import ValidationError

__all__ = ["StructureFailure", "converter", "from_dict", "parse_timestamp", "structure", "structure_int", "to_dict"]

T = TypeVar("T")

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,7}))?)?"
    r"(Z|z|[+-]\d{2}(?::?\d{2}(?::?\d{2}(?:\.\d{1,6})?)?)?)?$"  # offsets with seconds: what isoformat() writes
)
_WCF = re.compile(r"^\\?/Date\((-?\d{1,15})([+-]\d{4})?\)\\?/$")


class StructureFailure(Exception):
    """Raised by `structure()`: `detail` says which field was wrong and how."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@functools.lru_cache(maxsize=256)
def _offset(text: str) -> timezone:
    if text in ("Z", "z"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    main, _, fraction = text[1:].partition(".")
    digits = main.replace(":", "")
    hours, minutes, seconds = int(digits[:2]), int(digits[2:4] or 0), int(digits[4:6] or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError(f"bad UTC offset {text!r}")
    micro = int(fraction.ljust(6, "0")) if fraction else 0
    return timezone(sign * timedelta(hours=hours, minutes=minutes, seconds=seconds, microseconds=micro))


def parse_timestamp(text: str) -> datetime:
    """Parse a contract timestamp.

    ISO 8601 with 0 to 7 fractional digits, with or without an offset (no offset: a
    naive datetime, never guessed), and the WCF form `/Date(ms+hhmm)/` (milliseconds
    since the epoch in UTC; the offset only picks the zone to show it in; none: UTC).
    Raises `ValueError` for anything else.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected a timestamp string, got {type(text).__name__}")
    text = text.strip()
    m = _ISO.match(text)
    if m:
        year, month, day, hour, minute, second, frac, offset = m.groups()
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            int(frac[:6].ljust(6, "0")) if frac else 0,
            tzinfo=_offset(offset) if offset else None,
        )
    m = _WCF.match(text)
    if m:
        millis = int(m.group(1))
        tz = _offset(m.group(2)) if m.group(2) else UTC
        try:
            instant = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)
        except OverflowError as exc:
            raise ValueError(f"timestamp out of range: {text!r}") from exc
        return instant.astimezone(tz)
    raise ValueError(f"not a timestamp: {text[:60]!r}")


def _structure_datetime(value: Any, _: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return parse_timestamp(value)


def structure_int(value: Any, _: Any = int) -> int:
    """An int field's value: an int or a string of ASCII digits; anything else raises `ValueError`."""
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and value.strip().isascii():
        return int(value.strip())
    raise ValueError(f"expected an integer, got {type(value).__name__}")


def _structure_str(value: Any, _: Any) -> str:
    if isinstance(value, str):
        return value
    raise ValueError(f"expected a string, got {type(value).__name__}")


def _structure_bool(value: Any, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"expected true or false, got {type(value).__name__}")


def _is_int_enum(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, enum.IntEnum)


def _structure_int_enum(value: Any, cls: type[enum.IntEnum]) -> enum.IntEnum:
    # `CompletionCode` keeps a code outside its table as a pseudo-member (`_missing_`).
    return cls(structure_int(value))


def _build() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=False, detailed_validation=True)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_unstructure_hook(datetime, lambda d: d.isoformat())
    conv.register_structure_hook(int, structure_int)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(bool, _structure_bool)
    # Enums by predicate, so this module needs no model (models import it for to_dict()).
    conv.register_structure_hook_func(_is_int_enum, _structure_int_enum)
    conv.register_unstructure_hook_func(_is_int_enum, int)
    return conv


converter = _build()


def structure(data: Any, cls: type[T]) -> T:
    """Structure `data` into `cls`; any failure becomes `StructureFailure` naming the field."""
    if not isinstance(data, Mapping):
        raise StructureFailure(f"expected a JSON object, got {type(data).__name__}")
    try:
        return converter.structure(dict(data), cls)
    except Exception as exc:  # cattrs raises ExceptionGroups and assorted errors
        try:
            details = cattrs.transform_error(exc, path=cls.__name__)
        except Exception:  # pragma: no cover - defensive
            details = [str(exc)]
        raise StructureFailure("; ".join(details) or str(exc)) from None


def to_dict(obj: Any) -> dict[str, Any]:
    """Unstructure a model into a JSON-safe dict."""
    result: dict[str, Any] = converter.unstructure(obj)
    return result


def from_dict(cls: type[T], data: Any) -> T:
    """Structure a model from a dict; bad input raises `ValidationError` naming the field."""
    try:
        return structure(data, cls)
    except StructureFailure as exc:
        raise ValidationError(f"cannot build {cls.__name__}: {exc.detail}", field=cls.__name__) from None
