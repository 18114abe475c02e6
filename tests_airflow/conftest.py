"""Tests of the Airflow provider against real Airflow (run in their own venv: see .ci/run).

Airflow reads its settings when first imported, so the environment is set here, before
any test module imports it: AIRFLOW_HOME and the DAGs folder are temporary folders of
this session, examples off. `airflow db migrate` and `airflow dags reserialize` run once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOME = Path(tempfile.mkdtemp(prefix="amtopcon-airflow-"))
DAGS = HOME / "dags"
DAGS.mkdir()
os.environ.update(
    {
        "AIRFLOW_HOME": str(HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
    }
)
for source in (ROOT / "tests_airflow" / "dags" / "amtopcon_test_dags.py", ROOT / "examples" / "airflow_dag.py"):
    shutil.copy(source, DAGS / source.name)

from amtopcon.testing import Catalog, Emulator, EmulatorServer, SpeedClock, VirtualClock  # noqa: E402

#: The jobs of the tests' application AFLOW (seconds on the emulator's clock).
STEPS = [
    {"message": "first step", "duration": 10},
    {"message": "second step", "duration": 10},
    {"message": "third step", "duration": 10},
]


def catalog() -> Catalog:
    """The default catalog plus AFLOW: STEPS (30 s, DONE), FAILS (ERROR), ABORTS (ABORTED), LONG (an hour)."""
    cat = Catalog.default()
    cat.add_application("AFLOW")
    cat.add_job("AFLOW", "STEPS", STEPS)
    cat.add_job(
        "AFLOW",
        "FAILS",
        [{"message": "loading the ledger", "duration": 5}, {"message": "ledger is locked", "severity": "ERROR"}],
        final="ERROR",
        description="Report ended in error",
    )
    cat.add_job("AFLOW", "ABORTS", [{"message": "aborting", "duration": 5}], final="ABORTED")
    cat.add_job("AFLOW", "LONG", [{"message": "long job started", "duration": 3600}])
    return cat


def _airflow(*args: str) -> None:
    airflow = Path(sys.executable).with_name("airflow")
    done = subprocess.run([str(airflow), *args], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


@pytest.fixture(scope="session", autouse=True)
def airflow_db() -> Iterator[Path]:
    """A migrated metadata database (SQLite) with the test DAGs serialised."""
    _airflow("db", "migrate")
    _airflow("dags", "reserialize")
    yield HOME
    shutil.rmtree(HOME, ignore_errors=True)


def connection_json(url: str) -> str:
    """`AIRFLOW_CONN_AMTOPCON_DEFAULT` for a served emulator, as JSON."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return json.dumps(
        {
            "conn_type": "amtopcon",
            "host": parts.hostname,
            "port": parts.port,
            "schema": parts.path.strip("/"),
            "login": "ocadm",
            "password": "opconxps",
            "extra": {"tls": False},
        }
    )


class Served:
    """An emulator served on loopback, with the Airflow connection pointing at it."""

    def __init__(self, emulator: Emulator, server: EmulatorServer) -> None:
        self.emulator = emulator
        self.server = server

    def starts(self) -> int:
        """How many batch requests the emulator holds."""
        return len(self.emulator.batch_request_ids())

    def logons(self) -> int:
        """How many Logon requests it answered."""
        return sum(1 for r in self.emulator.requests if r.function == "Logon")


def _serve(clock: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    emulator = Emulator(catalog=catalog(), clock=clock)  # type: ignore[arg-type]
    server = EmulatorServer(emulator, "127.0.0.1", 0).start()
    monkeypatch.setenv("AIRFLOW_CONN_AMTOPCON_DEFAULT", connection_json(server.url))
    try:
        yield Served(emulator, server)
    finally:
        server.close()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """The emulator at 60 emulated seconds per real second (STEPS takes half a second)."""
    yield from _serve(SpeedClock(60.0), monkeypatch)


@pytest.fixture
def served_virtual(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """The emulator on a virtual clock: its jobs move only when the test advances it."""
    yield from _serve(VirtualClock(), monkeypatch)
