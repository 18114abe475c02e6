"""The testing kit: an AMT batch environment in a box.

One engine (`Emulator`): a catalog of applications and jobs, each a scripted run, a
clock that tests control, and the wire contract's behaviour, errors included. Three
doors open onto it: `emulator.client()` / `emulator.async_client()` (in process, no
network), `amtopcon emulator serve` (a real HTTP(S) server on loopback), and the pytest
fixtures `amt_emulator`, `amt_client` and `async_amt_client`.

```python
from amtopcon.testing import Emulator

emulator = Emulator()
client = emulator.client()
started = client.job_action("START", application="DEMO2", job="REPORTTEST01")
emulator.advance(60)
assert client.monitor_job(started.batch_request_id).succeeded
```

Names are loaded lazily (PEP 562), so the pytest plugin costs nothing until a fixture
is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from amtopcon._lazy import lazy_attributes

if TYPE_CHECKING:  # pragma: no cover
    from amtopcon.testing._catalog import Catalog, JobScript, Step
    from amtopcon.testing._clocks import DEFAULT_EPOCH, EmulatorClock, SpeedClock, VirtualClock
    from amtopcon.testing._engine import BASE_URL, Emulator
    from amtopcon.testing._exchange import Drop, EmulatorResponse, RecordedRequest
    from amtopcon.testing._faults import Fault, Faults
    from amtopcon.testing._server import EmulatorServer, persistent_clock
    from amtopcon.testing._sqlite import SQLiteStore, StoreError
    from amtopcon.testing._store import FIRST_BATCH_REQUEST_ID, MemoryStore, RequestRecord, Store

_LAZY = {
    "Catalog": "amtopcon.testing._catalog",
    "JobScript": "amtopcon.testing._catalog",
    "Step": "amtopcon.testing._catalog",
    "DEFAULT_EPOCH": "amtopcon.testing._clocks",
    "EmulatorClock": "amtopcon.testing._clocks",
    "SpeedClock": "amtopcon.testing._clocks",
    "VirtualClock": "amtopcon.testing._clocks",
    "BASE_URL": "amtopcon.testing._engine",
    "Drop": "amtopcon.testing._exchange",
    "Emulator": "amtopcon.testing._engine",
    "EmulatorResponse": "amtopcon.testing._exchange",
    "RecordedRequest": "amtopcon.testing._exchange",
    "Fault": "amtopcon.testing._faults",
    "Faults": "amtopcon.testing._faults",
    "EmulatorServer": "amtopcon.testing._server",
    "persistent_clock": "amtopcon.testing._server",
    "SQLiteStore": "amtopcon.testing._sqlite",
    "StoreError": "amtopcon.testing._sqlite",
    "FIRST_BATCH_REQUEST_ID": "amtopcon.testing._store",
    "MemoryStore": "amtopcon.testing._store",
    "RequestRecord": "amtopcon.testing._store",
    "Store": "amtopcon.testing._store",
}

__all__ = [
    "BASE_URL",
    "DEFAULT_EPOCH",
    "FIRST_BATCH_REQUEST_ID",
    "Catalog",
    "Drop",
    "Emulator",
    "EmulatorClock",
    "EmulatorResponse",
    "EmulatorServer",
    "Fault",
    "Faults",
    "JobScript",
    "MemoryStore",
    "RecordedRequest",
    "RequestRecord",
    "SQLiteStore",
    "SpeedClock",
    "Step",
    "Store",
    "StoreError",
    "VirtualClock",
    "persistent_clock",
]


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
