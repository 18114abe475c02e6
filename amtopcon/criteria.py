"""Exit-code criteria in OpCon's syntax: which AMT completion codes count as success.

The newer OpCon integration for AMT (the ACS plug-in) lets a task say which exit codes
mean what, with OpCon's operators: `EQ 4`, `NE 11`, `GT`, `LT`, `GE`, `LE`, and
`RG 0-4` (a range, both ends included), joined by `AND` and `OR`. Here such a text says
which codes are a **success**; by default only 4 (DONE) is:

    >>> criteria = ExitCriteria.parse("RG 0-4 OR EQ 99")
    >>> criteria.matches(3), criteria.matches(11), criteria.matches(99)
    (True, False, True)

`AND` binds tighter than `OR` (`EQ 1 OR GE 3 AND LE 4` is `EQ 1 OR (GE 3 AND LE 4)`);
there are no parentheses. Operators and joiners are read in any case. An OpCon
*failure* criterion is the negation of a success criterion: "fail when NE 4" is
"succeed when EQ 4".

Text that is not such an expression raises `ValidationError` naming the token.
Used by `JobResult.raise_for_code(criteria=...)`, `Client.run(..., success=...)` and
the command line's `--success`. Imports nothing but `amtopcon.errors`.
"""

from __future__ import annotations

import re
from typing import Final

import attrs

from amtopcon.errors import ValidationError

__all__ = ["ExitCriteria"]

#: The comparison operators of OpCon's exit-code criteria (RG takes a range `LOW-HIGH`).
OPERATORS: Final = ("EQ", "NE", "GT", "LT", "GE", "LE", "RG")
JOINERS: Final = ("AND", "OR")

_FIELD = "criteria"
_MAX_TEXT = 1000
_MAX_DIGITS = 9
_TOKEN = re.compile(
    r"\s*(?:(?P<range>[+-]?\d+\s*-\s*[+-]?\d+)(?![\w-])|(?P<num>[+-]?\d+)(?![\w-])|(?P<word>[A-Za-z]+)(?!\w)|(?P<bad>\S+))"
)


def _invalid(message: str) -> ValidationError:
    return ValidationError(f"{_FIELD}: {message}", field=_FIELD)


def _int(text: str, token: str) -> int:
    digits = text.strip().lstrip("+-")
    if len(digits) > _MAX_DIGITS:
        raise _invalid(f"number too large in {token!r} (at most {_MAX_DIGITS} digits)")
    return int(text.strip())


@attrs.frozen
class Condition:
    """One comparison: `op` (EQ, NE, GT, LT, GE, LE, RG) and its value(s).

    Attributes:
        op: the operator: EQ, NE, GT, LT, GE, LE or RG.
        low: the value compared with (RG: the lowest code of the range).
        high: RG only: the highest code of the range; None otherwise.
    """

    op: str
    low: int
    high: int | None = None  # RG only

    def matches(self, code: int) -> bool:
        """True when `code` meets this comparison."""
        if self.op == "RG":
            assert self.high is not None
            return self.low <= code <= self.high
        return {
            "EQ": code == self.low,
            "NE": code != self.low,
            "GT": code > self.low,
            "LT": code < self.low,
            "GE": code >= self.low,
            "LE": code <= self.low,
        }[self.op]

    def __str__(self) -> str:
        return f"RG {self.low}-{self.high}" if self.op == "RG" else f"{self.op} {self.low}"


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None:  # pragma: no cover - the pattern's last branch takes any non-blank run
            raise _invalid(f"cannot read {text[pos : pos + 20]!r}")
        kind = m.lastgroup or "bad"
        token = m.group(kind)
        if kind == "bad":
            raise _invalid(f"unexpected {token!r} (expected {', '.join(OPERATORS)}, a number, AND or OR)")
        found.append((kind, token))
        pos = m.end()
    return found


@attrs.frozen
class ExitCriteria:
    """Which exit codes are a success, in OpCon's syntax (see the module docstring).

    `groups` holds the expression as OR of ANDs: each inner tuple is a run of conditions
    joined by AND. Build one with `ExitCriteria.parse(text)`; `str()` gives the canonical text.

    Attributes:
        groups: the conditions, as OR of ANDs (each a `Condition`: `op`, `low`, `high`).
    """

    groups: tuple[tuple[Condition, ...], ...]

    @classmethod
    def parse(cls, text: str) -> ExitCriteria:
        """Read `EQ 4`, `RG 0-4 OR EQ 99`, `GE 3 AND LE 4`, ...; raises `ValidationError`
        naming the token that does not fit."""
        if not isinstance(text, str):
            raise _invalid(f"expected text such as 'EQ 4', got {type(text).__name__}")
        if len(text) > _MAX_TEXT:
            raise _invalid(f"at most {_MAX_TEXT} characters, got {len(text)}")
        tokens = _tokens(text)
        if not tokens:
            raise _invalid("empty (expected e.g. 'EQ 4' or 'RG 0-4 OR EQ 99')")
        groups: list[tuple[Condition, ...]] = []
        current: list[Condition] = []
        i = 0
        while True:
            if i >= len(tokens):
                raise _invalid(f"ends after {tokens[-1][1]!r}; expected an operator ({', '.join(OPERATORS)})")
            kind, token = tokens[i]
            op = token.upper()
            if kind != "word" or op not in OPERATORS:
                raise _invalid(f"unexpected {token!r}; expected an operator ({', '.join(OPERATORS)})")
            if i + 1 >= len(tokens):
                raise _invalid(f"{token!r} needs a value" + (" LOW-HIGH" if op == "RG" else ""))
            vkind, value = tokens[i + 1]
            if op == "RG":
                if vkind != "range":
                    raise _invalid(f"unexpected {value!r} after RG; expected a range LOW-HIGH such as 0-4")
                m = re.fullmatch(r"\s*([+-]?\d+)\s*-\s*([+-]?\d+)\s*", value)
                assert m is not None
                low, high = _int(m.group(1), value), _int(m.group(2), value)
                if low > high:
                    raise _invalid(f"range {value!r} is empty (LOW must not exceed HIGH)")
                current.append(Condition("RG", low, high))
            else:
                if vkind != "num":
                    raise _invalid(f"unexpected {value!r} after {op}; expected a number")
                current.append(Condition(op, _int(value, value)))
            i += 2
            if i >= len(tokens):
                groups.append(tuple(current))
                return cls(tuple(groups))
            jkind, joiner = tokens[i]
            if jkind != "word" or joiner.upper() not in JOINERS:
                raise _invalid(f"unexpected {joiner!r}; expected AND or OR")
            if joiner.upper() == "OR":
                groups.append(tuple(current))
                current = []
            i += 1

    @classmethod
    def coerce(cls, value: ExitCriteria | str) -> ExitCriteria:
        """An `ExitCriteria` as is, text parsed; anything else raises `ValidationError`."""
        if isinstance(value, ExitCriteria):
            return value
        return cls.parse(value)

    @classmethod
    def default(cls) -> ExitCriteria:
        """Only 4 (DONE) is a success: what OpCon and the connector assume."""
        return cls(((Condition("EQ", 4),),))

    def matches(self, code: int) -> bool:
        """True when `code` is a success under these criteria."""
        return any(all(c.matches(int(code)) for c in group) for group in self.groups)

    def __str__(self) -> str:
        return " OR ".join(" AND ".join(str(c) for c in group) for group in self.groups)

    def __repr__(self) -> str:
        return f"ExitCriteria({str(self)!r})"
