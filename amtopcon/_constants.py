"""Every default and limit of the package, one line each.

Nothing here imports anything, so any module (the command's parser included) may read it.
"""

from __future__ import annotations

from typing import Final

# -- one call (Client / AsyncClient)
DEFAULT_TIMEOUT: Final = 30.0  # seconds for one attempt
DEFAULT_TOTAL_TIMEOUT: Final = 120.0  # seconds for one call, every retry and back-off included
DEFAULT_MAX_RETRIES: Final = 3  # retries of one call (what may repeat follows the wire contract)
INITIAL_BACKOFF: Final = 0.5  # seconds before the first retry (before jitter)
MAX_BACKOFF: Final = 8.0  # cap on one back-off between retries
MAX_RETRY_AFTER: Final = 60.0  # a Retry-After longer than this is not waited out (wire contract)
# -- hostile networks and servers (issue 15)
DEFAULT_MAX_IN_FLIGHT: Final = 10  # calls of one client in flight at once (and its pool's connections, all kept alive)
MAX_RESPONSE_SIZE: Final = 64 * 1024 * 1024  # bytes of one answer (decoded); more: ResponseTooLargeError
MIN_READ_RATE: Final = 64 * 1024  # bytes/s: an attempt may last connect + read timeout + size / this rate
MAX_PAGES_PER_READ: Final = 1000  # GetMessages pages of one messages()/wait() read or one follow() round
MAX_BATCH_REQUEST_ID: Final = 2**63 - 1  # an Int64 on the wire

# -- waits and follows (job handles)
KILL_GRACE: Final = 30.0  # seconds a `with` block (or the CLI on a signal) gives its best-effort KILL
LAST_CHECK: Final = 1.0  # seconds the last status check, made at a wait's deadline, may take

# -- PollPolicy(): every 0.5 s, then a twelfth-and-a-half (8 %) of the time slept, at most 15 s
POLL_INITIAL_DELAY: Final = 0.5
POLL_INTERVAL: Final = 0.5
POLL_BACKOFF: Final = 1.0
POLL_ELAPSED_FRACTION: Final = 0.08
POLL_MAX_INTERVAL: Final = 15.0
POLL_JITTER: Final = 0.1
POLL_MAX_OUTAGE: Final = 300.0

# -- the existing connector's Connector.config, when it omits them
CONNECTOR_INITIAL_POLL_DELAY: Final = 10.0  # STATUS_CHECK_INITIAL_POLL_DELAY
CONNECTOR_POLL_INTERVAL: Final = 5.0  # STATUS_CHECK_POLL_INTERVAL
CONFIG_MAX_BYTES: Final = 1024 * 1024  # a Connector.config larger than this is refused (ConfigError)

# -- the served emulator (`EmulatorServer`, `amtopcon emulator serve`)
DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 4004
EMULATOR_REQUEST_LOG: Final = 10_000  # requests an `Emulator` keeps in `.requests` (the latest; None: all)
