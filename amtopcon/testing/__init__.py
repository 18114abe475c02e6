"""The testing kit: an AMT batch environment in a box (being built)."""

from __future__ import annotations

from amtopcon.testing._clocks import DEFAULT_EPOCH, SpeedClock, VirtualClock
from amtopcon.testing._store import MemoryStore, RequestRecord, Store

__all__ = ["DEFAULT_EPOCH", "MemoryStore", "RequestRecord", "SpeedClock", "Store", "VirtualClock"]
