"""Fixtures of the unit tests: the sync/async client flavour (tests/conftest.py sets the anyio backend)."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    """Run a test once against `Client` and once against `AsyncClient`."""
    return str(request.param)
