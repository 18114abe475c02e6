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


def _jitter(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    number = _validate.number(value)
    if number is None or not 0 <= number < 1:
        raise _refuse(attribute, "a fraction >= 0 and < 1 (0: no jitter)", value)


#: The fields where None stands for `math.inf` in `to_dict()`.
_UNBOUNDED = frozenset({"max_interval", "max_outage"})


@attrs.frozen
class PollPolicy:
    """When a handle asks MonitorJob again while it waits.

    The first status check comes after `initial_delay` seconds; the next after `interval`,
    each following one `backoff` times longer up to `max_interval`, every delay spread by
    ±`jitter` (a fraction). A server outage (connection errors or 5xx after the client's
    own retries) is waited out until it has lasted `max_outage` seconds.

    The default checks after 1 s, then every 1, 1.5, 2.25, ... seconds up to 5 s (the
    existing connector's interval). `PollPolicy.fixed()` reproduces the connector exactly.

    Every value is checked when the policy is made; a value out of range raises
    `ValidationError` naming the field:

    Attributes:
        initial_delay: seconds before the first check; finite, >= 0.
        interval: seconds between the first checks; finite, > 0 (a wait never polls in a
            tight loop).
        backoff: the factor each delay grows by; finite, >= 1 (1: a fixed interval).
        max_interval: the cap on a delay; >= `interval` (equal to it: a fixed interval;
            `math.inf`: no cap).
        jitter: the fraction each delay is spread by; >= 0 and < 1 (0: exact delays).
        max_outage: seconds of server outage a wait rides out before it raises the last
            error; >= 0 (0: raise at once; `math.inf`: never give up).
    """

    initial_delay: float = attrs.field(default=C.POLL_INITIAL_DELAY, validator=_seconds())
    interval: float = attrs.field(default=C.POLL_INTERVAL, validator=_seconds(positive=True))
    backoff: float = attrs.field(default=C.POLL_BACKOFF, validator=_backoff)
    max_interval: float = attrs.field(default=C.POLL_MAX_INTERVAL, validator=_max_interval)
    jitter: float = attrs.field(default=C.POLL_JITTER, validator=_jitter)
    max_outage: float = attrs.field(default=C.POLL_MAX_OUTAGE, validator=_seconds(finite=False))

    @classmethod
    def fixed(
        cls,
        initial_delay: float = C.CONNECTOR_INITIAL_POLL_DELAY,
        interval: float = C.CONNECTOR_POLL_INTERVAL,
    ) -> PollPolicy:
        """The existing connector's behaviour: STATUS_CHECK_INITIAL_POLL_DELAY, then every
        STATUS_CHECK_POLL_INTERVAL seconds, no growth, no jitter (documented defaults 10 and 5)."""
        return cls(initial_delay=initial_delay, interval=interval, backoff=1.0, max_interval=interval, jitter=0.0)

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
        yield self._spread(self.initial_delay, rnd)
        current = self.interval
        while True:
            yield self._spread(min(current, self.max_interval), rnd)
            if current < self.max_interval:  # once capped, stop growing (no overflow to inf)
                current *= self.backoff

    def _spread(self, value: float, rnd: random.Random) -> float:
        if not self.jitter or not value:
            return value
        return value * (1 + self.jitter * (2 * rnd.random() - 1))
