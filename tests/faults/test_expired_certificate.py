"""An expired server certificate (issue 15 item 7): a typed TLS error naming the
certificate, sent once (retrying cannot mend a certificate), on both flavours, while the
same CA with a current certificate works."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from amtopcon import AsyncClient, Client
from amtopcon.errors import APIConnectionError, APITimeoutError
from amtopcon.testing import Emulator, EmulatorServer, VirtualClock

USER, PASSWORD = "ocadm", "opconxps"


def _serve_with(ca: trustme.CA, where: Path, not_after: dt.datetime) -> tuple[Path, Path]:
    issued = ca.issue_cert(
        "127.0.0.1", not_before=not_after - dt.timedelta(days=30), not_after=not_after
    )
    cert, key = where / f"cert-{not_after:%Y%m%d}.pem", where / f"key-{not_after:%Y%m%d}.pem"
    for i, pem in enumerate(issued.cert_chain_pems):
        pem.write_to_path(str(cert), append=i > 0)
    issued.private_key_pem.write_to_path(str(key))
    return cert, key


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    where = tmp_path_factory.mktemp("pki")
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(where / "ca.pem"))
    return authority, where


@pytest.fixture
def expired(ca: tuple[trustme.CA, Path]) -> Iterator[EmulatorServer]:
    authority, where = ca
    cert, key = _serve_with(authority, where, dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    with EmulatorServer(Emulator(clock=VirtualClock()), port=0, tls_cert=cert, tls_key=key) as server:
        yield server


@pytest.fixture
def current(ca: tuple[trustme.CA, Path]) -> Iterator[EmulatorServer]:
    authority, where = ca
    cert, key = _serve_with(authority, where, dt.datetime.now(dt.UTC) + dt.timedelta(days=30))
    with EmulatorServer(Emulator(clock=VirtualClock()), port=0, tls_cert=cert, tls_key=key) as server:
        yield server


def _check(error: APIConnectionError) -> None:
    assert not isinstance(error, APITimeoutError)
    text = str(error).lower()
    assert "certificate" in text and "expired" in text
    assert error.attempts == 1  # not retried


def test_the_same_ca_with_a_current_certificate_works(current: EmulatorServer, ca: tuple[trustme.CA, Path]) -> None:
    bundle = str(ca[1] / "ca.pem")
    with Client(current.url, username=USER, password=PASSWORD, verify=bundle, timeout=5) as client:
        assert client.heartbeat() is True


def test_an_expired_certificate_is_a_typed_error_sent_once(
    expired: EmulatorServer, ca: tuple[trustme.CA, Path]
) -> None:
    bundle = str(ca[1] / "ca.pem")
    with Client(expired.url, username=USER, password=PASSWORD, verify=bundle, timeout=5, max_retries=3) as client:
        assert client.heartbeat() is False  # never raises
        with pytest.raises(APIConnectionError) as info:
            client.monitor_job(2112)
    _check(info.value)


@pytest.mark.anyio
async def test_an_expired_certificate_is_typed_for_the_async_client_too(
    expired: EmulatorServer, ca: tuple[trustme.CA, Path]
) -> None:
    bundle = str(ca[1] / "ca.pem")
    async with AsyncClient(expired.url, username=USER, password=PASSWORD, verify=bundle, timeout=5) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.monitor_job(2112)
    _check(info.value)
