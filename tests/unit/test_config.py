"""Configuration: Connector.config in both spellings, the environment, the credential
encoding, TLS settings and the insecure-transport warnings."""

from __future__ import annotations

import json
import ssl
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import trustme
from hypothesis import given
from hypothesis import strategies as st

from amtopcon import AsyncClient, Client, PollPolicy, _logging
from amtopcon import _constants as C
from amtopcon import _wire as w
from amtopcon.config import decode_credential, encode_credential, read_connector_config, read_env
from amtopcon.errors import APIConnectionError, ConfigError, ValidationError

from ._support import FakeClock, ScriptedServer

USER_ENC = "62324e685a47303d"  # the vendor's published example values
PASSWORD_ENC = "6233426a6232353463484d3d"

CONNECTOR = """\
[CONNECTOR]
NAME=AMT Connector
STATUS_CHECK_POLL_INTERVAL={interval}
STATUS_CHECK_INITIAL_POLL_DELAY={delay}
DEBUG=OFF

{section}
SERVER_ADDRESS={address}
{tls_key}={tls}
USER={user}
PASSWORD={password}
"""


def write(tmp_path: Path, text: str, name: str = "Connector.config") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def connector(tmp_path: Path, **fields: Any) -> Path:
    values = {
        "interval": "5",
        "delay": "5",
        "section": "[AMT BATCH SERVER]",
        "address": "amt.example.com:4004",
        "tls_key": "SERVER_USE_TLS",
        "tls": "True",
        "user": USER_ENC,
        "password": PASSWORD_ENC,
    }
    values.update(fields)
    return write(tmp_path, CONNECTOR.format(**values))


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees the once-only insecure-transport warnings afresh."""
    monkeypatch.setattr(_logging, "_warned", set())


# ------------------------------------------------------------------ the credential encoding


def test_the_documented_values_decode() -> None:
    assert decode_credential(USER_ENC) == "ocadm"
    assert decode_credential(PASSWORD_ENC) == "opconxps"
    assert encode_credential("ocadm") == USER_ENC
    assert encode_credential("opconxps") == PASSWORD_ENC
    assert decode_credential(USER_ENC.upper()) == "ocadm"  # hex in either case


@given(st.text(min_size=1))
def test_credential_round_trip(plain: str) -> None:
    encoded = encode_credential(plain)
    assert all(c in "0123456789abcdef" for c in encoded)
    assert decode_credential(encoded) == plain


@pytest.mark.parametrize("value", ["", "zz", "6869", "62324e685a47303", "62324e685a47303d00", "ff fe", None, 17])
def test_undecodable_credentials(value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        decode_credential(value, key="USER")
    assert info.value.field == "USER"


def test_encode_needs_text() -> None:
    with pytest.raises(ValidationError):
        encode_credential(b"ocadm")  # type: ignore[arg-type]


# ------------------------------------------------------------------ Connector.config


@pytest.mark.parametrize(
    ("section", "tls_key"),
    [
        ("[AMT BATCH SERVER]", "SERVER_USE_TLS"),
        ("[AMT_BATCH_SERVER]", "SERVER_USES_TLS"),
        ("[AMT_BATCH_SERVER]", "SERVER_USE_TLS"),
        ("[amt batch server]", "server_uses_tls"),
    ],
)
@pytest.mark.parametrize(("tls", "scheme"), [("True", "https"), ("False", "http"), ("false", "http"), ("ON", "https")])
def test_both_spellings_with_and_without_tls(tmp_path: Path, section: str, tls_key: str, tls: str, scheme: str) -> None:
    path = connector(tmp_path, section=section, tls_key=tls_key, tls=tls, address="127.0.0.1:4004")
    cfg = read_connector_config(path)
    assert cfg.server_address == "127.0.0.1:4004"
    assert cfg.use_tls is (scheme == "https")
    assert cfg.base_url == f"{scheme}://127.0.0.1:4004/AmtOpConService/"
    assert (cfg.user, cfg.password) == ("ocadm", "opconxps")
    assert cfg.name == "AMT Connector"
    assert (cfg.poll_interval, cfg.initial_poll_delay, cfg.debug) == (5.0, 5.0, False)
    with Client.from_connector_config(path, clock=FakeClock()) as client:
        assert client.base_url == cfg.base_url
        assert client.username == "ocadm"
        assert client.poll == PollPolicy.fixed(5, 5)


def test_the_client_logs_on_with_the_decoded_credentials(tmp_path: Path) -> None:
    server = ScriptedServer(user="ocadm", password="opconxps")
    http = httpx.Client(transport=httpx.MockTransport(server.handler))
    client = Client.from_connector_config(connector(tmp_path), http_client=http, max_retries=0)
    assert client.max_retries == 0  # keyword arguments override the file
    client.monitor_job(1)
    assert server.bodies(w.LOGON) == [{"UserName": "ocadm", "Password": "opconxps"}]


def test_defaults_when_omitted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"[AMT BATCH SERVER]\nSERVER_ADDRESS=amt.example.com:4004\nUSER={USER_ENC}\nPASSWORD={PASSWORD_ENC}\n",
    )
    cfg = read_connector_config(path)
    assert cfg.use_tls is True  # TLS is on unless the file says otherwise
    assert (cfg.initial_poll_delay, cfg.poll_interval) == (10.0, 5.0)
    assert cfg.name is None
    client = AsyncClient.from_connector_config(path)
    assert client.poll == PollPolicy.fixed(10, 5)
    assert client.poll == PollPolicy(
        initial_delay=10, interval=5, backoff=1, max_interval=5, jitter=0, elapsed_fraction=0
    )
    assert client.base_url == "https://amt.example.com:4004/AmtOpConService/"


def test_poll_settings_are_kept(tmp_path: Path) -> None:
    cfg_path = connector(tmp_path, interval="7", delay="2.5")
    with Client.from_connector_config(cfg_path) as client:
        assert client.poll == PollPolicy.fixed(2.5, 7)


def test_windows_file_conventions(tmp_path: Path) -> None:
    text = CONNECTOR.format(
        interval="5",
        delay="10",
        section="[AMT_BATCH_SERVER]",
        address="amt.example.com:4004",
        tls_key="SERVER_USES_TLS",
        tls="True",
        user=USER_ENC,
        password=PASSWORD_ENC,
    )
    text = "; written by Notepad\r\n# with comments\r\n" + text.replace("\n", "\r\n")
    path = tmp_path / "Connector.config"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    cfg = read_connector_config(path)
    assert (cfg.user, cfg.password, cfg.initial_poll_delay) == ("ocadm", "opconxps", 10.0)


BROKEN = [
    # (id, text, key, line)
    ("no-password", f"[AMT BATCH SERVER]\nSERVER_ADDRESS=a:1\nUSER={USER_ENC}\n", "PASSWORD", None),
    ("empty-password", f"[AMT BATCH SERVER]\nSERVER_ADDRESS=a:1\nUSER={USER_ENC}\nPASSWORD=\n", "PASSWORD", 4),
    ("no-address", f"[AMT BATCH SERVER]\nUSER={USER_ENC}\nPASSWORD={PASSWORD_ENC}\n", "SERVER_ADDRESS", None),
    ("undecodable-user", f"[AMT BATCH SERVER]\nSERVER_ADDRESS=a:1\nUSER=ocadm\nPASSWORD={PASSWORD_ENC}\n", "USER", 3),
    ("bad-hex-password", f"[AMT BATCH SERVER]\nSERVER_ADDRESS=a:1\nUSER={USER_ENC}\nPASSWORD=6869\n", "PASSWORD", 4),
    ("malformed-line", f"[AMT BATCH SERVER]\nSERVER_ADDRESS=a:1\nJUST SOME TEXT\nUSER={USER_ENC}\n", None, 3),
    ("malformed-section", "[AMT BATCH SERVER\nSERVER_ADDRESS=a:1\n", None, 1),
    ("no-key", "[AMT BATCH SERVER]\n=value\n", None, 2),
    ("key-outside-section", "SERVER_ADDRESS=a:1\n", "SERVER_ADDRESS", 1),
    (
        "bad-bool",
        f"[AMT BATCH SERVER]\nSERVER_ADDRESS=a:1\nSERVER_USE_TLS=maybe\nUSER={USER_ENC}\nPASSWORD={PASSWORD_ENC}\n",
        "SERVER_USE_TLS",
        3,
    ),
    (
        "bad-bool-uses",
        f"[AMT_BATCH_SERVER]\nSERVER_ADDRESS=a:1\nSERVER_USES_TLS=yes please\n"
        f"USER={USER_ENC}\nPASSWORD={PASSWORD_ENC}\n",
        "SERVER_USES_TLS",
        3,
    ),
    (
        "bad-address",
        f"[AMT BATCH SERVER]\nSERVER_ADDRESS=https://a:1/\nUSER={USER_ENC}\nPASSWORD={PASSWORD_ENC}\n",
        "SERVER_ADDRESS",
        2,
    ),
    (
        "bad-interval",
        f"[CONNECTOR]\nSTATUS_CHECK_POLL_INTERVAL=five\n[AMT BATCH SERVER]\nSERVER_ADDRESS=a:1\n"
        f"USER={USER_ENC}\nPASSWORD={PASSWORD_ENC}\n",
        "STATUS_CHECK_POLL_INTERVAL",
        2,
    ),
    (
        "negative-delay",
        f"[CONNECTOR]\nSTATUS_CHECK_INITIAL_POLL_DELAY=-1\n[AMT BATCH SERVER]\nSERVER_ADDRESS=a:1\n"
        f"USER={USER_ENC}\nPASSWORD={PASSWORD_ENC}\n",
        "STATUS_CHECK_INITIAL_POLL_DELAY",
        2,
    ),
    (
        "bad-debug",
        f"[CONNECTOR]\nDEBUG=LOUD\n[AMT BATCH SERVER]\nSERVER_ADDRESS=a:1\nUSER={USER_ENC}\nPASSWORD={PASSWORD_ENC}\n",
        "DEBUG",
        2,
    ),
    ("missing-section", f"[CONNECTOR]\nNAME=x\n[AMT SERVER]\nUSER={USER_ENC}\n", "AMT BATCH SERVER", None),
    ("empty-file", "", "AMT BATCH SERVER", None),
]


@pytest.mark.parametrize(("text", "key", "line"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_files(tmp_path: Path, text: str, key: str | None, line: int | None) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        read_connector_config(path)
    err = info.value
    assert err.path == str(path)
    assert err.key == key
    assert err.line == line
    shown = str(err)
    assert str(path) in shown
    if line is not None:
        assert f"{path}:{line}" in shown
    if key is not None:
        assert key in shown
    assert isinstance(err, ValidationError) and isinstance(err, ValueError)
    with pytest.raises(ConfigError):
        Client.from_connector_config(path)


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "Connector.config"
    with pytest.raises(ConfigError) as info:
        Client.from_connector_config(path)
    assert (info.value.path, info.value.line, info.value.key) == (str(path), None, None)
    assert "no such file" in str(info.value)


def test_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "Connector.config"
    path.write_bytes(b"[AMT BATCH SERVER]\nUSER=\xff\xfe\n")
    with pytest.raises(ConfigError) as info:
        read_connector_config(path)
    assert info.value.path == str(path)
    with pytest.raises(ConfigError):
        read_connector_config(tmp_path)  # a directory


# ------------------------------------------------------------------ the environment

FULL_ENV = {
    "AMTOPCON_BASE_URL": "https://amt.example.com:4004/AmtOpConService/",
    "AMTOPCON_USER": "ocadm",
    "AMTOPCON_PASSWORD": "opconxps",
    "AMTOPCON_TIMEOUT": "12.5",
}


@pytest.fixture
def no_amtopcon_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(__import__("os").environ):
        if name.startswith("AMTOPCON_"):
            monkeypatch.delenv(name)
    return monkeypatch


def heartbeat(client: Client | AsyncClient) -> bool:
    """One HeartBeat through either client, which is closed afterwards."""
    if isinstance(client, Client):
        with client:
            return client.heartbeat()

    async def run() -> bool:
        async with client:
            return await client.heartbeat()

    return anyio.run(run)


def logon_body(cls: type[Client] | type[AsyncClient], **overrides: Any) -> Any:
    """The Logon body a client made by `cls.from_env(**overrides)` sends (to a fake server)."""
    server = ScriptedServer()
    server.password = FULL_ENV["AMTOPCON_PASSWORD"]
    transport = httpx.MockTransport(server.handler)
    if cls is Client:
        with httpx.Client(transport=transport) as http, Client.from_env(http_client=http, **overrides) as client:
            client.monitor_job(1)
    else:

        async def run() -> None:
            async with httpx.AsyncClient(transport=transport) as http:
                async with AsyncClient.from_env(http_client=http, **overrides) as client:
                    await client.monitor_job(1)

        anyio.run(run)
    (body,) = server.bodies(w.LOGON)
    return body


def test_from_env_with_every_variable(
    no_amtopcon_env: pytest.MonkeyPatch, tls_server: tuple[str, trustme.CA], tmp_path: Path
) -> None:
    url, ca = tls_server
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    for name, value in {**FULL_ENV, "AMTOPCON_CA_BUNDLE": str(bundle)}.items():
        no_amtopcon_env.setenv(name, value)
    for cls in (Client, AsyncClient):
        client = cls.from_env()
        assert client.base_url == FULL_ENV["AMTOPCON_BASE_URL"]
        assert client.username == "ocadm"
        assert client.timeout == httpx.Timeout(12.5)
        # The password is the one the Logon sends.
        assert logon_body(cls) == {w.F_USER_NAME: "ocadm", w.F_PASSWORD: "opconxps"}
    # The CA bundle (a path) is trusted: HTTPS to a server with a certificate of that CA works.
    no_amtopcon_env.setenv("AMTOPCON_BASE_URL", url)
    for cls in (Client, AsyncClient):
        assert heartbeat(cls.from_env(timeout=5)) is True


@pytest.mark.parametrize(
    ("tls", "scheme"), [(None, "https"), ("true", "https"), ("False", "http"), ("0", "http"), ("yes", "https")]
)
def test_from_env_with_a_server_address(tls: str | None, scheme: str) -> None:
    env = {"AMTOPCON_SERVER_ADDRESS": "127.0.0.1:4004", "AMTOPCON_USER": "u", "AMTOPCON_PASSWORD": "p"}
    if tls is not None:
        env["AMTOPCON_USE_TLS"] = tls
    client = Client.from_env(env)
    assert client.base_url == f"{scheme}://127.0.0.1:4004/AmtOpConService/"
    assert client.timeout == httpx.Timeout(C.DEFAULT_TIMEOUT)
    client.close()


def test_from_env_keyword_arguments_win() -> None:
    client = Client.from_env(FULL_ENV, timeout=3, max_retries=0, username="other")
    assert client.timeout == httpx.Timeout(3.0)
    assert client.username == "other"
    assert client.max_retries == 0


@pytest.mark.parametrize(
    ("drop", "change", "key"),
    [
        ("AMTOPCON_BASE_URL", {}, "AMTOPCON_BASE_URL"),
        ("AMTOPCON_USER", {}, "AMTOPCON_USER"),
        ("AMTOPCON_PASSWORD", {}, "AMTOPCON_PASSWORD"),
        (None, {"AMTOPCON_USER": "   "}, "AMTOPCON_USER"),
        (None, {"AMTOPCON_PASSWORD": ""}, "AMTOPCON_PASSWORD"),
        (None, {"AMTOPCON_TIMEOUT": "soon"}, "AMTOPCON_TIMEOUT"),
        ("AMTOPCON_BASE_URL", {"AMTOPCON_SERVER_ADDRESS": "a:1", "AMTOPCON_USE_TLS": "perhaps"}, "AMTOPCON_USE_TLS"),
        ("AMTOPCON_BASE_URL", {"AMTOPCON_SERVER_ADDRESS": "http://a:1"}, "AMTOPCON_SERVER_ADDRESS"),
    ],
)
def test_from_env_missing_or_bad(drop: str | None, change: dict[str, str], key: str) -> None:
    env = {k: v for k, v in FULL_ENV.items() if k != drop}
    env.update(change)
    with pytest.raises(ConfigError) as info:
        AsyncClient.from_env(env)
    assert info.value.key == key
    assert key in str(info.value)
    assert info.value.path is None
    with pytest.raises(ConfigError):
        read_env(env)


def test_from_env_reads_os_environ(no_amtopcon_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as info:
        Client.from_env()
    assert info.value.key == "AMTOPCON_BASE_URL"
    for name, value in FULL_ENV.items():
        no_amtopcon_env.setenv(name, value)
    assert Client.from_env().base_url == FULL_ENV["AMTOPCON_BASE_URL"]


def test_a_missing_ca_bundle_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        Client.from_env({**FULL_ENV, "AMTOPCON_CA_BUNDLE": "/nonexistent/ca.pem"})
    assert info.value.key == "AMTOPCON_CA_BUNDLE"
    assert "/nonexistent/ca.pem" in str(info.value)
    assert "AMTOPCON_CA_BUNDLE" in str(info.value)


def test_an_explicit_verify_wins_over_the_ca_bundle_variable(tls_server: tuple[str, trustme.CA]) -> None:
    url, _ = tls_server
    env = {**FULL_ENV, "AMTOPCON_BASE_URL": url, "AMTOPCON_CA_BUNDLE": "/nonexistent/ca.pem"}
    with pytest.warns(_logging.InsecureTransportWarning):
        client = Client.from_env(env, verify=False, timeout=5)
    # No ConfigError for the missing bundle, and the untrusted certificate is accepted: verify=False is used.
    assert heartbeat(client) is True


# ------------------------------------------------------------------ TLS for real, on loopback


@pytest.fixture(scope="module")
def tls_server() -> Iterator[tuple[str, trustme.CA]]:
    """An HTTPS server on 127.0.0.1 with a certificate of a private CA; answers HeartBeat."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(w.heartbeat_body(True)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/AmtOpConService/", ca
    finally:
        server.shutdown()
        server.server_close()


def test_a_ca_bundle_from_the_environment_is_trusted(tls_server: tuple[str, trustme.CA], tmp_path: Path) -> None:
    url, ca = tls_server
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    env = {"AMTOPCON_BASE_URL": url, "AMTOPCON_USER": "u", "AMTOPCON_PASSWORD": "p", "AMTOPCON_CA_BUNDLE": str(bundle)}
    with Client.from_env(env, timeout=5) as client:
        assert client.heartbeat() is True
    context = ssl.create_default_context()
    ca.configure_trust(context)
    with Client(url, verify=context, timeout=5) as client:
        assert client.heartbeat() is True


def test_an_unknown_ca_is_refused_and_not_retried(tls_server: tuple[str, trustme.CA]) -> None:
    url, _ = tls_server
    with Client(url, username="u", password="p", timeout=5, clock=FakeClock()) as client:
        assert client.heartbeat() is False
        with pytest.raises(APIConnectionError) as info:
            client.monitor_job(1)
    assert "TLS certificate verification failed" in str(info.value)
    assert info.value.attempts == 1


# ------------------------------------------------------------------ insecure transport warnings


def insecure(records: list[warnings.WarningMessage]) -> list[str]:
    return [str(r.message) for r in records if issubclass(r.category, _logging.InsecureTransportWarning)]


def test_verify_false_warns_once() -> None:
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        for _ in range(3):
            Client("https://amt.example.com/AmtOpConService/", verify=False).close()
        AsyncClient("https://amt.example.com/AmtOpConService/", verify=False)
    shown = insecure(records)
    assert len(shown) == 1
    assert "verify=False" in shown[0]
    (record,) = [r for r in records if issubclass(r.category, _logging.InsecureTransportWarning)]
    assert record.filename == __file__  # the warning points at the caller's line


def test_credentials_over_plain_http_warn_once() -> None:
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        for _ in range(3):
            Client("http://amt.example.com:4004/AmtOpConService/", username="u", password="p").close()
    shown = insecure(records)
    assert len(shown) == 1
    assert "amt.example.com" in shown[0] and "http" in shown[0]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:4004/AmtOpConService/",
        "http://localhost:4004/AmtOpConService/",
        "http://[::1]:4004/AmtOpConService/",
        "https://amt.example.com:4004/AmtOpConService/",
    ],
)
def test_loopback_http_and_https_do_not_warn(url: str) -> None:
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        Client(url, username="u", password="p").close()
    assert insecure(records) == []


def test_plain_http_without_credentials_does_not_warn() -> None:
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        Client("http://amt.example.com:4004/AmtOpConService/").close()
    assert insecure(records) == []


def test_verify_accepts_a_context_a_path_or_a_bool(tls_server: tuple[str, trustme.CA], tmp_path: Path) -> None:
    url, ca = tls_server
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    for verify in (str(bundle), bundle, trusting):  # a CA bundle (str or Path) or a context that trusts the CA
        assert heartbeat(Client(url, verify=verify, timeout=5)) is True, verify
    # The context given is the one used: a default one does not trust the private CA; nor does verify=True.
    assert heartbeat(Client(url, verify=ssl.create_default_context(), timeout=5)) is False
    assert heartbeat(Client(url, verify=True, timeout=5)) is False
    with pytest.warns(_logging.InsecureTransportWarning):
        insecure_client = Client(url, verify=False, timeout=5)
    assert heartbeat(insecure_client) is True
    for bad in (tmp_path / "missing.pem", 3):
        with pytest.raises(ValidationError) as info:
            Client("https://a.example/", verify=bad)  # type: ignore[arg-type]
        assert info.value.field == "verify"


# -- where the command line finds a Connector.config
def test_find_connector_config_working_directory_first_then_beside_the_program(tmp_path: Path) -> None:
    from amtopcon.config import find_connector_config, program_dir

    work, install = tmp_path / "work", tmp_path / "install"
    work.mkdir()
    install.mkdir()
    program = install / "amtopcon.exe"
    program.write_bytes(b"")
    assert program_dir(str(program)) == install
    assert find_connector_config(cwd=work, argv0=str(program)) is None
    (install / "Connector.config").write_text("[CONNECTOR]\n")
    assert find_connector_config(cwd=work, argv0=str(program)) == install / "Connector.config"
    (work / "Connector.config").write_text("[CONNECTOR]\n")
    assert find_connector_config(cwd=work, argv0=str(program)) == work / "Connector.config"


@pytest.mark.parametrize("argv0", ["", "-c", "-m", "/site-packages/amtopcon/__main__.py", "no-such-program-on-path"])
def test_no_program_folder_without_a_program_file(argv0: str, tmp_path: Path) -> None:
    from amtopcon.config import find_connector_config, program_dir

    assert program_dir(argv0) is None
    assert find_connector_config(cwd=tmp_path, argv0=argv0) is None


def test_a_bare_program_name_is_found_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from amtopcon.config import program_dir

    program = tmp_path / "amtopcon-test-prog"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.chdir(tmp_path.parent)
    assert program_dir("amtopcon-test-prog") == tmp_path


def test_debug_on_is_read(tmp_path: Path) -> None:
    from amtopcon.config import encode_credential, read_connector_config

    path = tmp_path / "Connector.config"
    path.write_text(
        "[CONNECTOR]\nDEBUG=ON\n[AMT BATCH SERVER]\nSERVER_ADDRESS=h:1\n"
        f"USER={encode_credential('u')}\nPASSWORD={encode_credential('p')}\n"
    )
    assert read_connector_config(path).debug is True
