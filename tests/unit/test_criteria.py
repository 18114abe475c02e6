"""Exit-code criteria in OpCon's syntax: the parser, `raise_for_code(criteria=)` and `run(success=)`."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amtopcon import CompletionCode, ExitCriteria, JobResult, JobStatus
from amtopcon.errors import JobFailedError, ValidationError
from amtopcon.testing import Emulator


@pytest.mark.parametrize(
    ("text", "accepted", "rejected"),
    [
        ("EQ 4", [4], [0, 3, 11, 99]),
        ("eq 4", [4], [3]),
        ("NE 11", [0, 4, 99], [11]),
        ("GT 3", [4, 99], [3, 0]),
        ("LT 3", [0, 2], [3, 4]),
        ("GE 3", [3, 4], [2]),
        ("LE 3", [0, 3], [4]),
        ("RG 0-4", [0, 2, 4], [5, 11]),
        ("RG 0 - 4", [0, 4], [5]),
        ("RG 0-4 OR EQ 99", [0, 4, 99], [5, 11, 98]),
        ("GE 3 AND LE 4", [3, 4], [2, 5]),
        ("EQ 1 OR GE 3 AND LE 4", [1, 3, 4], [2, 5]),  # AND binds tighter than OR
        ("GE 3 AND LE 4 OR EQ 1", [1, 3, 4], [2, 5]),
        ("  EQ   4  or  eq 12 ", [4, 12], [11]),
        ("EQ -1", [-1], [1]),
        ("RG -5--1", [-5, -1], [0]),
    ],
)
def test_the_syntax(text: str, accepted: list[int], rejected: list[int]) -> None:
    criteria = ExitCriteria.parse(text)
    assert all(criteria.matches(c) for c in accepted)
    assert not any(criteria.matches(c) for c in rejected)
    assert ExitCriteria.parse(str(criteria)) == criteria  # the canonical text reads back the same


def test_the_canonical_text_and_the_default() -> None:
    assert str(ExitCriteria.parse("rg 0 - 4 or eq 99")) == "RG 0-4 OR EQ 99"
    assert repr(ExitCriteria.parse("EQ 4")) == "ExitCriteria('EQ 4')"
    assert ExitCriteria.default() == ExitCriteria.parse("EQ 4")
    assert ExitCriteria.coerce("EQ 4") == ExitCriteria.coerce(ExitCriteria.default())


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("EQ", "'EQ' needs a value"),
        ("EQ four", "'four'"),
        ("XX 4", "'XX'"),
        ("4", "'4'"),
        ("EQ 4 OR", "ends after 'OR'"),
        ("EQ 4 XOR EQ 5", "'XOR'"),
        ("EQ 4 EQ 5", "'EQ'"),
        ("RG 4", "'4' after RG"),
        ("RG 4-0", "'4-0' is empty"),
        ("EQ 0-4", "'0-4' after EQ"),
        ("EQ 4;", "';'"),
        ("EQ (4)", "'(4)'"),
        ("EQ 12345678901", "too large"),
        ("AND EQ 4", "'AND'"),
    ],
)
def test_bad_text_is_a_validation_error_naming_the_token(text: str, named: str) -> None:
    with pytest.raises(ValidationError, match=r"^criteria: ") as info:
        ExitCriteria.parse(text)
    assert named in str(info.value)
    assert info.value.field == "criteria"


@pytest.mark.parametrize("value", [None, 4, b"EQ 4", ["EQ 4"]])
def test_not_text_is_a_validation_error(value: object) -> None:
    with pytest.raises(ValidationError, match="criteria"):
        ExitCriteria.parse(value)  # type: ignore[arg-type]


_WORDS = st.sampled_from(["EQ", "NE", "GT", "LT", "GE", "LE", "RG", "AND", "OR", "and", "rg", "0-4", "4", "-1", "x"])


@given(st.one_of(st.text(max_size=60), st.lists(_WORDS, max_size=8).map(" ".join)))
def test_garbage_in_only_validation_error_out(text: str) -> None:
    try:
        criteria = ExitCriteria.parse(text)
    except ValidationError:
        return
    assert ExitCriteria.parse(str(criteria)) == criteria
    for code in (-1, 0, 4, 11, 99):
        assert isinstance(criteria.matches(code), bool)


@given(st.lists(st.tuples(st.sampled_from(["EQ", "NE", "GT", "LT", "GE", "LE"]), st.integers(-99, 99)), min_size=1))
def test_an_or_of_conditions_matches_when_any_does(conditions: list[tuple[str, int]]) -> None:
    text = " OR ".join(f"{op} {n}" for op, n in conditions)
    criteria = ExitCriteria.parse(text)
    ops = {"EQ": int.__eq__, "NE": int.__ne__, "GT": int.__gt__, "LT": int.__lt__, "GE": int.__ge__, "LE": int.__le__}
    for code in range(-100, 101, 7):
        assert criteria.matches(code) == any(ops[op](code, n) for op, n in conditions)


# -- JobResult.raise_for_code(criteria=...)
def _result(code: CompletionCode) -> JobResult:
    return JobResult(JobStatus(2112, code), ())


def test_raise_for_code_under_criteria() -> None:
    assert _result(CompletionCode.ABORTED).raise_for_code("RG 0-4 OR EQ 12").code == CompletionCode.ABORTED
    with pytest.raises(JobFailedError, match=r"ended DONE \(4\) \(success: EQ 12\)"):
        _result(CompletionCode.DONE).raise_for_code(ExitCriteria.parse("EQ 12"))
    with pytest.raises(JobFailedError, match="ended ERROR"):
        _result(CompletionCode.ERROR).raise_for_code()
    with pytest.raises(ValidationError, match="'bogus'"):
        _result(CompletionCode.DONE).raise_for_code("bogus")


def test_run_with_success() -> None:
    emulator = Emulator()
    with emulator.client() as client:
        assert client.run("DEMO2", "ABORTTEST01", success="EQ 4 OR EQ 12").code == CompletionCode.ABORTED
        with pytest.raises(JobFailedError) as info:
            client.run("DEMO2", "ERRORTEST01", success="RG 0-4")
        assert info.value.result.code == CompletionCode.ERROR
        assert client.run("DEMO2", "ERRORTEST01").code == CompletionCode.ERROR  # None: never raises
        sent = len(emulator.requests)
        with pytest.raises(ValidationError, match="'EQUALS'"):
            client.run("DEMO2", "REPORTTEST01", success="EQUALS 4")
        assert len(emulator.requests) == sent  # bad criteria: nothing sent


@pytest.mark.anyio
async def test_async_run_with_success() -> None:
    emulator = Emulator()
    async with emulator.async_client() as client:
        result = await client.run("DEMO2", "ABORTTEST01", success="GE 12")
        assert result.code == CompletionCode.ABORTED
        with pytest.raises(JobFailedError):
            await client.run("DEMO2", "REPORTTEST01", success="NE 4")
