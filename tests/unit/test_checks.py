"""amtopcon._validate: the one set of rules for seconds, message sequences and counts, and
the places that read them (handles, the emulator, faults, Connector.config, the command line)."""

from __future__ import annotations

import argparse
import math
from typing import Any

import pytest

from amtopcon import _validate
from amtopcon.errors import ConfigError, ValidationError

NOT_NUMBERS = [True, False, "5", "", b"5", [], None, object()]


# -- seconds
@pytest.mark.parametrize("value", [0, 0.0, 1, 2.5, 10**6])
def test_seconds_takes_ints_and_floats_and_gives_a_float(value: float) -> None:
    got = _validate.seconds(value, "timeout")
    assert got == value and type(got) is float


@pytest.mark.parametrize("value", [*NOT_NUMBERS, -1, -0.001, math.nan, math.inf, -math.inf, 10**400])
def test_seconds_refuses_anything_else_naming_the_field_and_the_value(value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        _validate.seconds(value, "delay")
    assert info.value.field == "delay"
    assert str(info.value) == f"delay: expected a finite number of seconds >= 0, got {value!r}"
    assert isinstance(info.value, ValueError)


def test_seconds_bounds() -> None:
    assert _validate.seconds(0, "t", inclusive=True) == 0.0
    with pytest.raises(ValidationError, match=r"^t: expected a finite number of seconds > 0, got 0$"):
        _validate.seconds(0, "t", inclusive=False)
    assert _validate.seconds(2, "t", minimum=2) == 2.0
    with pytest.raises(ValidationError, match=r"^t: expected a finite number of seconds >= 2.5, got 2$"):
        _validate.seconds(2, "t", minimum=2.5)
    with pytest.raises(ValidationError, match=r">= 2.5, got 2$"):
        _validate.seconds(2, "t", minimum=2.5, allow_none=False)


def test_seconds_none_and_infinity_only_when_allowed() -> None:
    assert _validate.seconds(None, "timeout", allow_none=True) is None
    assert _validate.seconds(math.inf, "timeout", finite=False) == math.inf
    assert _validate.seconds(10**400, "timeout", finite=False) == math.inf  # too large for a float: infinite
    with pytest.raises(ValidationError) as info:
        _validate.seconds(math.nan, "timeout", finite=False, allow_none=True)  # NaN never passes
    assert str(info.value) == "timeout: expected a number of seconds >= 0 or None, got nan"
    with pytest.raises(ValidationError):
        _validate.seconds(-math.inf, "timeout", finite=False)
    with pytest.raises(ValidationError, match="or None"):
        _validate.seconds(True, "timeout", allow_none=True)


def test_seconds_wanted_reads_as_the_error_says() -> None:
    assert _validate.seconds_wanted() == "a finite number of seconds >= 0"
    assert _validate.seconds_wanted(inclusive=False, finite=False, allow_none=True) == "a number of seconds > 0 or None"


# -- sequences and counts
@pytest.mark.parametrize("value", [0, 1, 10**30])
def test_sequence_takes_integers_from_zero(value: int) -> None:
    assert _validate.sequence(value, "after") == value


@pytest.mark.parametrize("value", [*NOT_NUMBERS, -1, 1.0, 2.5, math.nan, math.inf])
def test_sequence_refuses_the_rest(value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        _validate.sequence(value, "after")
    assert info.value.field == "after"
    assert str(info.value) == f"after: expected a message sequence (an integer >= 0), got {value!r}"


def test_integer_with_a_minimum() -> None:
    assert _validate.integer(1, "max_count", minimum=1) == 1
    for bad in (0, -1, True, 1.0, "1", None):
        with pytest.raises(ValidationError) as info:
            _validate.integer(bad, "max_count", minimum=1)
        assert str(info.value) == f"max_count: expected an integer >= 1, got {bad!r}"
        assert info.value.field == "max_count"


# -- the places that use them
def test_handles_emulator_and_faults_share_the_rules() -> None:
    from amtopcon.testing import Emulator

    emulator = Emulator()
    with emulator.client() as client:
        handle = client.start("DEMO2", "REPORTTEST01")
        for call in (
            lambda: handle.wait(timeout=math.nan),
            lambda: handle.follow(timeout=-1).__next__(),
            lambda: handle.kill(timeout=0),
        ):
            with pytest.raises(ValidationError) as info:
                call()
            assert info.value.field == "timeout"
        for call in (
            lambda: client.job(handle.batch_request_id, after=-1),
            lambda: handle.messages(after=True),
            lambda: client.get_messages(handle.batch_request_id, after=1.0),
            lambda: emulator.messages(handle.batch_request_id, after="3"),
        ):
            with pytest.raises(ValidationError, match=r"^after: expected a message sequence") as info:
                call()
            assert info.value.field == "after"
        with pytest.raises(ValidationError, match=r"^max_count: expected an integer >= 1, got 0$"):
            client.get_messages(handle.batch_request_id, max_count=0)
        for call, field in (
            (lambda: emulator.advance(math.inf), "seconds"),
            (lambda: Emulator(token_ttl=0), "token_ttl"),
            (lambda: Emulator(message_cap=0), "message_cap"),
            (lambda: emulator.faults.delay_next("MonitorJob", -1), "seconds"),
            (lambda: emulator.faults.fail_next("MonitorJob", 503, retry_after=math.nan), "retry_after"),
            (lambda: emulator.faults.fail_next("MonitorJob", 503, times=0), "times"),
        ):
            with pytest.raises(ValidationError) as info:
                call()
            assert info.value.field == field and str(info.value).startswith(f"{field}: expected ")


def test_an_infinite_or_huge_wait_timeout_means_no_deadline() -> None:
    from amtopcon.testing import Emulator

    with Emulator().client() as client:
        for timeout in (math.inf, 10**400):  # 10**400 used to raise OverflowError
            result = client.start("DEMO2", "REPORTTEST01").wait(timeout=timeout)
            assert result.succeeded


@pytest.mark.parametrize("text", ["x", "", "nan", "inf", "1e999", "-1"])
def test_connector_config_seconds_say_what_was_wanted(text: str) -> None:
    from amtopcon.config import _parse_seconds

    with pytest.raises(ConfigError) as info:
        _parse_seconds(text, path="C.config", line=7, key="STATUS_CHECK_INITIAL_POLL_DELAY")
    assert str(info.value) == (
        f"expected a finite number of seconds >= 0, got {text!r} (C.config:7, key STATUS_CHECK_INITIAL_POLL_DELAY)"
    )
    assert _parse_seconds(" 0 ", path=None, line=None, key="K") == 0.0
    with pytest.raises(ConfigError, match=r"> 0, got '0'"):
        _parse_seconds("0", path=None, line=None, key="K", positive=True)


@pytest.mark.parametrize("text", ["x", "0", "-5", "nan", "inf"])
def test_command_line_seconds_say_what_was_wanted(text: str) -> None:
    from amtopcon.cli import _seconds

    with pytest.raises(argparse.ArgumentTypeError) as info:
        _seconds(text)
    assert str(info.value) == f"expected a finite number of seconds > 0, got {text!r}"
    assert _seconds(" 2.5 ") == 2.5
