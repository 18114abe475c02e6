"""HTTPS with a test CA (trustme): the CA bundle verifies the emulator; without it, a typed TLS error."""

from __future__ import annotations

import signal
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from amtopcon import Client, CompletionCode
from amtopcon.errors import APIConnectionError, APITimeoutError
from amtopcon.testing import Emulator, EmulatorServer, VirtualClock

from ._emulator_process import ServedEmulator, run_cli

trustme = pytest.importorskip("trustme")

USER, PASSWORD = "ocadm", "opconxps"


class Pki:
    """A test CA and a server certificate for 127.0.0.1, as PEM files."""

    def __init__(self, where: Path) -> None:
        self.ca = trustme.CA()
        issued = self.ca.issue_cert("127.0.0.1")
        self.ca_bundle = where / "ca.pem"
        self.cert = where / "cert.pem"
        self.key = where / "key.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_bundle))
        for i, pem in enumerate(issued.cert_chain_pems):
            pem.write_to_path(str(self.cert), append=i > 0)
        issued.private_key_pem.write_to_path(str(self.key))


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(clock=VirtualClock())


@pytest.fixture
def https(emulator: Emulator, pki: Pki) -> Iterator[EmulatorServer]:
    with EmulatorServer(emulator, port=0, tls_cert=pki.cert, tls_key=pki.key) as srv:
        yield srv


def test_the_ca_bundle_verifies_the_server(emulator: Emulator, https: EmulatorServer, pki: Pki) -> None:
    assert https.url.startswith("https://127.0.0.1:")
    with Client(https.url, username=USER, password=PASSWORD, verify=str(pki.ca_bundle), timeout=5) as client:
        assert client.heartbeat() is True
        started = client.job_action("START", application="DEMO2", job="REPORTTEST01")
        emulator.advance(60)
        assert client.monitor_job(started.batch_request_id).code is CompletionCode.DONE


def test_an_ssl_context_with_the_ca_verifies_the_server(https: EmulatorServer, pki: Pki) -> None:
    context = ssl.create_default_context()
    pki.ca.configure_trust(context)
    with Client(https.url, username=USER, password=PASSWORD, verify=context, timeout=5) as client:
        assert client.heartbeat() is True


def test_without_the_ca_the_call_fails_with_a_typed_tls_error(https: EmulatorServer) -> None:
    with Client(https.url, username=USER, password=PASSWORD, timeout=5, max_retries=3) as client:
        assert client.heartbeat() is False  # never raises
        with pytest.raises(APIConnectionError) as info:
            client.monitor_job(2112)
    error = info.value
    assert not isinstance(error, APITimeoutError)
    assert "certificate" in str(error).lower()
    assert error.attempts == 1  # retrying cannot fix a certificate: no retries


def test_a_certificate_for_another_name_is_refused(https: EmulatorServer, pki: Pki) -> None:
    url = https.url.replace("127.0.0.1", "localhost")  # the certificate names 127.0.0.1 only
    with Client(url, username=USER, password=PASSWORD, verify=str(pki.ca_bundle), timeout=5) as client:
        with pytest.raises(APIConnectionError) as info:
            client.monitor_job(2112)
    assert "certificate" in str(info.value).lower()


def test_plain_http_to_the_https_port_fails_quickly_and_typed(https: EmulatorServer) -> None:
    url = https.url.replace("https://", "http://")
    with Client(url, username=USER, password=PASSWORD, timeout=5, max_retries=0) as client:
        with pytest.raises(APIConnectionError):
            client.monitor_job(2112)
    # The server keeps serving TLS clients after the stray plain-text one.


@pytest.mark.slow
def test_the_command_serves_https_with_the_given_certificate(pki: Pki) -> None:
    served = ServedEmulator("--tls-cert", str(pki.cert), "--tls-key", str(pki.key))
    try:
        assert served.url.startswith("https://127.0.0.1:")
        with Client(served.url, username=USER, password=PASSWORD, verify=str(pki.ca_bundle), timeout=5) as client:
            assert client.heartbeat() is True
            assert client.job_action("START", application="DEMO2", job="REPORTTEST01").batch_request_id > 0
        code, _out, err = served.stop(signal.SIGTERM)
        assert code == 0, err
    finally:
        served.kill()


@pytest.mark.slow
def test_a_key_that_does_not_fit_the_certificate_exits_64(pki: Pki, tmp_path: Path) -> None:
    other_key = tmp_path / "other-key.pem"
    pki.ca.issue_cert("127.0.0.1").private_key_pem.write_to_path(str(other_key))
    done = run_cli(["emulator", "serve", "--port", "0", "--tls-cert", str(pki.cert), "--tls-key", str(other_key)])
    assert done.returncode == 64
    assert "--tls-cert/--tls-key" in done.stderr
    assert done.stdout == ""
