"""Shared test settings: hypothesis profiles.

The default profile is the one the README's test command and CI both run (no
HYPOTHESIS_PROFILE needed): enough examples to find real bugs, no per-example deadline
(the machines are shared; time belongs in benchmarks/), and the too_slow health check
off for the same reason. `HYPOTHESIS_PROFILE=thorough` runs many more examples when
hunting a bug; `ci` and `dev` are kept as names of the default for old scripts.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("amtopcon", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
for _alias in ("ci", "dev"):
    settings.register_profile(_alias, parent=settings.get_profile("amtopcon"))
settings.register_profile("thorough", parent=settings.get_profile("amtopcon"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "amtopcon"))


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests run on asyncio (anyio's pytest plugin)."""
    return "asyncio"
