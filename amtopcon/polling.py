"""`PollPolicy`: how a job handle polls while it waits (apart from per-request retries)."""

from __future__ import annotations

import random
from collections.abc import Iterator

import attrs

__all__ = ["PollPolicy"]


def _non_negative(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    from amtopcon.errors import ValidationError

    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value < 0:
        raise ValidationError(
            f"PollPolicy.{attribute.name}: expected a number >= 0, got {value!r}", field=attribute.name
        )


@attrs.frozen
class PollPolicy:
    """When a handle asks MonitorJob again while it waits.

    The first status check comes after `initial_delay` seconds; the next after `interval`,
    each following one `backoff` times longer up to `max_interval`, every delay spread by
    ±`jitter` (a fraction). A server outage (connection errors or 5xx after the client's
    own retries) is waited out until it has lasted `max_outage` seconds.

    The default checks after 1 s, then every 1, 1.5, 2.25, ... seconds up to 5 s (the
    existing connector's interval). `PollPolicy.fixed()` reproduces the connector exactly.
    """

    initial_delay: float = attrs.field(default=1.0, validator=_non_negative)
    interval: float = attrs.field(default=1.0, validator=_non_negative)
    backoff: float = attrs.field(default=1.5, validator=_non_negative)
    max_interval: float = attrs.field(default=5.0, validator=_non_negative)
    jitter: float = attrs.field(default=0.1, validator=_non_negative)
    max_outage: float = attrs.field(default=300.0, validator=_non_negative)

    @classmethod
    def fixed(cls, initial_delay: float = 10.0, interval: float = 5.0) -> PollPolicy:
        """The existing connector's behaviour: STATUS_CHECK_INITIAL_POLL_DELAY, then every
        STATUS_CHECK_POLL_INTERVAL seconds, no growth, no jitter (documented defaults 10 and 5)."""
        return cls(initial_delay=initial_delay, interval=interval, backoff=1.0, max_interval=interval, jitter=0.0)

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """The successive waits: before the first check, then between checks (endless)."""
        rnd = rng or random.Random()
        yield self._spread(self.initial_delay, rnd)
        current = self.interval
        while True:
            yield self._spread(min(current, self.max_interval) if self.max_interval else current, rnd)
            current = current * self.backoff if self.backoff > 0 else current

    def _spread(self, value: float, rnd: random.Random) -> float:
        if not self.jitter or not value:
            return value
        return max(0.0, value * (1 + self.jitter * (2 * rnd.random() - 1)))
