"""`PollPolicy` states its rules and holds to them: a policy that would poll a server in a
tight loop, or whose cap silently means something else, is refused when it is made."""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

import pytest

from amtopcon import PollPolicy
from amtopcon.errors import ValidationError


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"initial_delay": -0.1}, "initial_delay"),
        ({"initial_delay": math.inf}, "initial_delay"),
        ({"interval": 0}, "interval"),
        ({"interval": 0.0}, "interval"),
        ({"interval": -1}, "interval"),
        ({"interval": math.inf, "max_interval": math.inf}, "interval"),
        ({"backoff": 0.99}, "backoff"),
        ({"backoff": 0}, "backoff"),
        ({"backoff": math.inf}, "backoff"),
        ({"max_interval": 0}, "max_interval"),  # used to mean "no cap"
        ({"max_interval": 0.4}, "max_interval"),  # below interval (0.5)
        ({"interval": 20}, "max_interval"),  # the default cap (15) is below it
        ({"elapsed_fraction": 1}, "elapsed_fraction"),
        ({"elapsed_fraction": -0.1}, "elapsed_fraction"),
        ({"elapsed_fraction": math.nan}, "elapsed_fraction"),
        ({"jitter": 1}, "jitter"),
        ({"jitter": 1.5}, "jitter"),
        ({"jitter": -0.01}, "jitter"),
        ({"max_outage": -1}, "max_outage"),
        ({"max_outage": math.nan}, "max_outage"),
    ],
)
def test_out_of_range_values_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        PollPolicy(**kwargs)
    assert info.value.field == field
    assert f"PollPolicy.{field}" in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial_delay": 0},
        {"interval": 0.001, "max_interval": 0.001},  # tiny but positive: fine
        {"backoff": 1},
        {"max_interval": 1.0},  # equal to interval: a fixed interval
        {"max_interval": math.inf},  # no cap
        {"jitter": 0},
        {"jitter": 0.99},
        {"max_outage": 0},
        {"max_outage": math.inf},  # never give up
    ],
)
def test_values_on_the_edges_are_accepted(kwargs: dict[str, Any]) -> None:
    PollPolicy(**kwargs)


def test_fixed_keeps_working() -> None:
    policy = PollPolicy.fixed(10, 5)
    assert (policy.interval, policy.max_interval, policy.backoff, policy.jitter) == (5, 5, 1.0, 0.0)
    assert list(itertools.islice(policy.delays(), 4)) == [10, 5, 5, 5]
    assert list(itertools.islice(PollPolicy.fixed(0, 0.5).delays(), 3)) == [0, 0.5, 0.5]
    with pytest.raises(ValidationError) as info:
        PollPolicy.fixed(10, 0)
    assert info.value.field == "interval"


def test_no_cap_grows_without_overflow_and_a_cap_holds() -> None:
    uncapped = PollPolicy(
        initial_delay=1, interval=1, jitter=0, max_interval=math.inf, backoff=2.0, elapsed_fraction=0
    )
    assert list(itertools.islice(uncapped.delays(), 5)) == [1.0, 1.0, 2.0, 4.0, 8.0]
    capped = list(itertools.islice(PollPolicy(jitter=0).delays(), 3000))
    assert max(capped) == 15.0 and capped[-1] == 15.0


def test_every_delay_stays_positive_with_the_largest_jitter() -> None:
    policy = PollPolicy(initial_delay=0.5, interval=0.5, jitter=0.99)
    delays = list(itertools.islice(policy.delays(random.Random(7)), 500))
    assert all(d > 0 for d in delays)
