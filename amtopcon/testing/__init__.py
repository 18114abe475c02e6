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
"""

from __future__ import annotations

from amtopcon.testing._catalog import Catalog, JobScript, Step
from amtopcon.testing._clocks import DEFAULT_EPOCH, EmulatorClock, SpeedClock, VirtualClock
from amtopcon.testing._engine import BASE_URL, Drop, Emulator, EmulatorResponse, RecordedRequest
from amtopcon.testing._faults import Fault, Faults
from amtopcon.testing._store import FIRST_BATCH_REQUEST_ID, MemoryStore, RequestRecord, Store

__all__ = [
    "BASE_URL",
    "DEFAULT_EPOCH",
    "FIRST_BATCH_REQUEST_ID",
    "Catalog",
    "Drop",
    "Emulator",
    "EmulatorClock",
    "EmulatorResponse",
    "Fault",
    "Faults",
    "JobScript",
    "MemoryStore",
    "RecordedRequest",
    "RequestRecord",
    "SpeedClock",
    "Step",
    "Store",
    "VirtualClock",
]
