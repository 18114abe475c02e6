"""`PollPolicy`: how a job handle polls while it waits (apart from per-request retries)."""

from __future__ import annotations

import difflib
import math
import random
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from amtopcon import _constants as C
from amtopcon import _validate
from amtopcon.errors import ValidationError

__all__ = ["PollPolicy"]


def _refuse(attribute: attrs.Attribute[Any], wanted: str, value: object) -> ValidationError:
    return ValidationError(f"PollPolicy.{attribute.name}: expected {wanted}, got {value!r}", field=attribute.name)


def _seconds(*, positive: bool = False, finite: bool = True) -> Any:
    def check(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        try:
            _validate.seconds(value, attribute.name, inclusive=not positive, finite=finite)
        except ValidationError:
            wanted = _validate.seconds_wanted(inclusive=not positive, finite=finite)
            raise _refuse(attribute, wanted, value) from None

    return check


def _backoff(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    number = _validate.number(value)
    if number is None or not 1 <= number < math.inf:
        raise _refuse(attribute, "a finite factor >= 1 (1: no growth)", value)


def _max_interval(policy: PollPolicy, attribute: attrs.Attribute[Any], value: object) -> None:
    number = _validate.number(value)
    if number is None or number < policy.interval:
        wanted = f"a number of seconds >= interval ({policy.interval:g}), or math.inf for no cap"
        raise _refuse(attribute, wanted, value)


def _fraction(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    number = _validate.number(value)
    if number is None or not 0 <= number < 1:
        raise _refuse(attribute, "a fraction >= 0 and < 1 (0: off)", value)


#: The fields where None stands for `math.inf` in `to_dict()`.
_UNBOUNDED = frozenset({"max_interval", "max_outage"})


@attrs.frozen
class PollPolicy:
    """When a handle asks MonitorJob again while it waits.

    The first status check comes after `initial_delay` seconds; each next one after
    `interval` seconds, or `elapsed_fraction` of the time the wait has slept so far (the sum
    of its own delays: time spent inside calls is not counted) when that is longer, each
    interval also growing `backoff` times, never longer than `max_interval`.
    Every delay is spread by ±`jitter` (a fraction). A server outage (connection errors or
    5xx after the client's own retries) is waited out until it has lasted `max_outage` seconds.

    The default checks every 0.5 s for the first 6 s, then every 8 % of the time slept
    (0.8 s at 10 s, 8 s at 100 s), at most every 15 s: a job that ends within 10 s is
    noticed within 1 s of its end, and an hour costs about 285 checks when calls are quick
    (more when each call takes seconds; the existing connector's fixed 5 s: 720).
    `PollPolicy.fixed()` reproduces the connector exactly.

    Every value is checked when the policy is made; a value out of range raises
    `ValidationError` naming the field:

    Attributes:
        initial_delay: seconds before the first check; finite, >= 0.
        interval: the shortest time between checks; finite, > 0 (a wait never polls in a
            tight loop).
        backoff: the factor each interval grows by; finite, >= 1 (1: no growth).
        max_interval: the cap on a delay; >= `interval` (equal to it: a fixed interval;
            `math.inf`: no cap).
        jitter: the fraction each delay is spread by; >= 0 and < 1 (0: exact delays).
        max_outage: seconds of server outage a wait rides out before it raises the last
            error; >= 0 (0: raise at once; `math.inf`: never give up).
        elapsed_fraction: a delay is at least this fraction of the time the wait has
            slept so far; >= 0 and < 1 (0: off).
    """

    initial_delay: float = attrs.field(default=C.POLL_INITIAL_DELAY, validator=_seconds())
    interval: float = attrs.field(default=C.POLL_INTERVAL, validator=_seconds(positive=True))
    backoff: float = attrs.field(default=C.POLL_BACKOFF, validator=_backoff)
    max_interval: float = attrs.field(default=C.POLL_MAX_INTERVAL, validator=_max_interval)
    jitter: float = attrs.field(default=C.POLL_JITTER, validator=_fraction)
    max_outage: float = attrs.field(default=C.POLL_MAX_OUTAGE, validator=_seconds(finite=False))
    elapsed_fraction: float = attrs.field(default=C.POLL_ELAPSED_FRACTION, validator=_fraction)

    @classmethod
    def fixed(
        cls,
        initial_delay: float = C.CONNECTOR_INITIAL_POLL_DELAY,
        interval: float = C.CONNECTOR_POLL_INTERVAL,
    ) -> PollPolicy:
        """The existing connector's behaviour: STATUS_CHECK_INITIAL_POLL_DELAY, then every
        STATUS_CHECK_POLL_INTERVAL seconds, no growth, no jitter (documented defaults 10 and 5)."""
        return cls(
            initial_delay=initial_delay,
            interval=interval,
            backoff=1.0,
            max_interval=interval,
            jitter=0.0,
            elapsed_fraction=0.0,
        )

    def to_dict(self) -> dict[str, float | None]:
        """A JSON-safe dict of the policy; `math.inf` (no cap, never give up) becomes None."""
        return {name: None if value == math.inf else value for name, value in attrs.asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PollPolicy:
        """A policy from `to_dict()` output (missing keys take their defaults; None in
        `max_interval` or `max_outage` is `math.inf`). A bad key or value raises
        `ValidationError` naming it."""
        if not isinstance(data, Mapping):
            raise ValidationError(f"PollPolicy.from_dict: expected a mapping, got {type(data).__name__}", field="data")
        names = [field.name for field in attrs.fields(cls)]
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key not in names:
                close = difflib.get_close_matches(str(key), names, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValidationError(f"PollPolicy: unknown field {key!r}{hint}", field=str(key))
            kwargs[key] = math.inf if value is None and key in _UNBOUNDED else value
        return cls(**kwargs)

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """The successive waits: before the first check, then between checks (endless)."""
        rnd = rng or random.Random()
        delay = self._spread(self.initial_delay, rnd)
        yield delay
        waited = delay
        current = self.interval
        while True:
            delay, current = self._after(waited, current, rnd)
            yield delay
            waited += delay

    def _after(self, waited: float, current: float, rnd: random.Random) -> tuple[float, float]:
        """The next delay after `waited` seconds, the interval having grown to `current`;
        and the interval after it (a wait keeps these two numbers instead of a generator)."""
        delay = self._spread(min(max(current, self.elapsed_fraction * waited), self.max_interval), rnd)
        if current < self.max_interval:  # once capped, stop growing (no overflow to inf)
            current *= self.backoff
        return delay, current

    def _spread(self, value: float, rnd: random.Random) -> float:
        if not self.jitter or not value:
            return value
        return value * (1 + self.jitter * (2 * rnd.random() - 1))
