"""Configuration sources: the existing connector's `Connector.config`, the environment,
and the `Encrypt.exe` credential form.

`Encrypt.exe` does not encrypt: its output is the hex of the base64 of the plain text
(`62324e685a47303d` -> `b2NhZG0=` -> `ocadm`). Treat a `Connector.config` as a secret.

This module imports neither httpx nor cattrs, so `amtopcon encode` starts quickly.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import shutil
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs

from amtopcon import _constants as C
from amtopcon import _validate
from amtopcon.errors import ConfigError, ValidationError

__all__ = [
    "ConnectorConfig",
    "EnvConfig",
    "decode_credential",
    "encode_credential",
    "exposed_to_others",
    "find_connector_config",
    "read_config_text",
    "read_connector_config",
    "read_env",
]

DEFAULT_INITIAL_POLL_DELAY = C.CONNECTOR_INITIAL_POLL_DELAY
DEFAULT_POLL_INTERVAL = C.CONNECTOR_POLL_INTERVAL
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def encode_credential(plain: str) -> str:
    """Encode a value the way the connector's `Encrypt.exe` does: hex of base64 of UTF-8."""
    if not isinstance(plain, str):
        raise ValidationError("value: expected a string", field="value")
    try:
        raw = plain.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: bytes the terminal's encoding could not decode
        raise ValidationError("value: not valid text (bytes that are not UTF-8)", field="value") from None
    return base64.b64encode(raw).hex()


def decode_credential(encoded: str, *, key: str = "value") -> str:
    """Decode an `Encrypt.exe` value; a value that is not hex of base64 raises `ValidationError`."""
    text = encoded.strip() if isinstance(encoded, str) else ""
    try:
        raw = bytes.fromhex(text)
        plain = base64.b64decode(raw, validate=True).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationError(f"{key}: not an encoded credential (hex of base64)", field=key) from None
    if not text:
        raise ValidationError(f"{key}: empty", field=key)
    return plain


@attrs.frozen
class ConnectorConfig:
    """What a `Connector.config` says, credentials decoded (the password never shows in a repr)."""

    path: str
    server_address: str
    use_tls: bool
    user: str
    password: str = attrs.field(repr=False)
    name: str | None = None
    poll_interval: float = DEFAULT_POLL_INTERVAL
    initial_poll_delay: float = DEFAULT_INITIAL_POLL_DELAY
    debug: bool = False

    @property
    def base_url(self) -> str:
        """`https://{SERVER_ADDRESS}/AmtOpConService/` (`http://` when TLS is off)."""
        return _service_url(self.server_address, use_tls=self.use_tls)


def _service_url(address: str, *, use_tls: bool) -> str:
    """The service's base URL on `address` (`host:port`), as the connector builds it."""
    from amtopcon._wire import SERVICE_PATH  # imported here: _wire loads cattrs, which `amtopcon encode` must not

    return f"{'https' if use_tls else 'http'}://{address}{SERVICE_PATH}"


def _parse_bool(value: str, *, path: str | None, line: int | None, key: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ConfigError(f"expected True or False, got {value!r}", path=path, line=line, key=key)


def _parse_seconds(value: str, *, path: str | None, line: int | None, key: str, positive: bool = False) -> float:
    try:
        return _validate.seconds(float(value.strip()), key, inclusive=not positive)
    except ValueError:  # not a number, or out of bounds (a ValidationError is a ValueError)
        wanted = _validate.seconds_wanted(inclusive=not positive)
        raise ConfigError(f"expected {wanted}, got {value!r}", path=path, line=line, key=key) from None


_ADDRESS = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?::(\d{1,5}))?$")


def _check_address(value: str, *, path: str | None, line: int | None, key: str) -> str:
    v = value.strip()
    m = _ADDRESS.match(v)
    if m is None or (m.group(2) is not None and not 1 <= int(m.group(2)) <= 65535):
        raise ConfigError(f"expected host:port (port 1 to 65535), got {value!r}", path=path, line=line, key=key)
    return v


def _check_base_url(value: str, *, key: str) -> str:
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        raise ConfigError(f"expected an http:// or https:// URL with a host, got {value[:80]!r}", key=key)
    return value


def _parse_ini(text: str, path: str) -> dict[str, dict[str, tuple[str, int]]]:
    sections: dict[str, dict[str, tuple[str, int]]] = {}
    current: dict[str, tuple[str, int]] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            if not line.endswith("]") or len(line) < 3:
                raise ConfigError(f"malformed section header {raw.strip()!r}", path=path, line=number)
            name = line[1:-1].strip().upper().replace("_", " ")
            current = sections.setdefault(name, {})
            continue
        if "=" not in line:
            raise ConfigError(f"expected KEY=VALUE, got {raw.strip()[:60]!r}", path=path, line=number)
        key, value = line.split("=", 1)
        key = key.strip().upper()
        if not key:
            raise ConfigError("a line has a value but no key", path=path, line=number)
        if current is None:
            raise ConfigError("a key outside any [SECTION]", path=path, line=number, key=key)
        current[key] = (value.strip(), number)
    return sections


def read_config_text(path: str, *, limit: int = C.CONFIG_MAX_BYTES) -> str:
    """The text of a configuration file, read from a regular file only and at most `limit` bytes.

    A FIFO, a device (`/dev/zero`), a directory, a file larger than `limit`, a missing or
    unreadable file, or bytes that are not UTF-8 raise `ConfigError` naming the file;
    nothing blocks (a FIFO is opened without waiting for a writer) and no more than
    `limit + 1` bytes are ever read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ConfigError("no such file", path=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {type(exc).__name__}", path=path) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError("not a regular file (a FIFO, a device or a directory)", path=path)
        if info.st_size > limit:
            raise ConfigError(f"larger than {limit} bytes: not a Connector.config", path=path)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {type(exc).__name__}", path=path) from None
    finally:
        os.close(fd)
    if size > limit:  # grew while read
        raise ConfigError(f"larger than {limit} bytes: not a Connector.config", path=path)
    try:
        return b"".join(chunks).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError("cannot read the file: not UTF-8 text", path=path) from None


def exposed_to_others(path: str | os.PathLike[str]) -> bool:
    """True when the file at `path` is readable by its group or by others (POSIX permission
    bits; always False on Windows, whose ACLs these bits do not describe)."""
    if os.name != "posix":
        return False
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISREG(mode) and bool(mode & (stat.S_IRGRP | stat.S_IROTH))


def read_connector_config(path: str | os.PathLike[str]) -> ConnectorConfig:
    """Read the existing connector's `Connector.config`.

    Both spellings the vendor documents are read (`[AMT BATCH SERVER]` and
    `[AMT_BATCH_SERVER]`, `SERVER_USE_TLS` and `SERVER_USES_TLS`); USER and PASSWORD are
    decoded. A missing file or key, an undecodable value or a malformed line raises
    `ConfigError` naming the key and the line.
    """
    p = str(path)
    text = read_config_text(p)
    sections = _parse_ini(text, p)
    server = sections.get("AMT BATCH SERVER")
    if server is None:
        raise ConfigError("missing section [AMT BATCH SERVER]", path=p, key="AMT BATCH SERVER")
    connector = sections.get("CONNECTOR", {})

    def need(key: str) -> tuple[str, int]:
        if key not in server or not server[key][0]:
            line = server[key][1] if key in server else None
            raise ConfigError("missing value", path=p, line=line, key=key)
        return server[key]

    address, line = need("SERVER_ADDRESS")
    address = _check_address(address, path=p, line=line, key="SERVER_ADDRESS")
    tls_key = "SERVER_USE_TLS" if "SERVER_USE_TLS" in server else "SERVER_USES_TLS"
    use_tls = True
    if tls_key in server:
        value, line = server[tls_key]
        use_tls = _parse_bool(value, path=p, line=line, key=tls_key)
    creds = {}
    for key in ("USER", "PASSWORD"):
        value, line = need(key)
        try:
            creds[key] = decode_credential(value, key=key)
        except ValidationError:
            raise ConfigError(
                "not an encoded credential (hex of base64, as Encrypt.exe writes)", path=p, line=line, key=key
            ) from None
    seconds = {}
    for key, default in (
        ("STATUS_CHECK_POLL_INTERVAL", DEFAULT_POLL_INTERVAL),
        ("STATUS_CHECK_INITIAL_POLL_DELAY", DEFAULT_INITIAL_POLL_DELAY),
    ):
        if key in connector and connector[key][0]:
            value, line = connector[key]
            seconds[key] = _parse_seconds(
                value, path=p, line=line, key=key, positive=key == "STATUS_CHECK_POLL_INTERVAL"
            )
        else:
            seconds[key] = default
    debug = False
    if "DEBUG" in connector and connector["DEBUG"][0]:
        value, line = connector["DEBUG"]
        debug = _parse_bool(value, path=p, line=line, key="DEBUG")
    name = connector["NAME"][0] if "NAME" in connector else None
    return ConnectorConfig(
        path=p,
        server_address=address,
        use_tls=use_tls,
        user=creds["USER"],
        password=creds["PASSWORD"],
        name=name or None,
        poll_interval=seconds["STATUS_CHECK_POLL_INTERVAL"],
        initial_poll_delay=seconds["STATUS_CHECK_INITIAL_POLL_DELAY"],
        debug=debug,
    )


CONNECTOR_CONFIG_NAME = "Connector.config"


def program_dir(argv0: str | None = None) -> Path | None:
    """The folder of the running program, where the connector keeps its `Connector.config`:
    the frozen executable's folder, else that of `sys.argv[0]` (the `amtopcon` script or
    `amtopcon.exe`, as invoked; a bare name is looked up on PATH). None under
    `python -m amtopcon` or `-c`, which have no program file of their own."""
    if argv0 is None:
        if getattr(sys, "frozen", False):
            return Path(sys.executable).absolute().parent
        argv0 = sys.argv[0] if sys.argv else ""
    if not argv0 or argv0 in ("-c", "-m") or Path(argv0).name == "__main__.py":
        return None
    path = Path(argv0)
    if path.parent == Path() and not path.is_file():
        found = shutil.which(argv0)
        if found is None:
            return None
        path = Path(found)
    return path.absolute().parent


def find_connector_config(
    name: str = CONNECTOR_CONFIG_NAME, *, cwd: str | os.PathLike[str] | None = None, argv0: str | None = None
) -> Path | None:
    """The `Connector.config` the command line uses when none is named, or None.

    The order: the working directory first (`./Connector.config`), then the program's
    folder (`program_dir()`: beside the `amtopcon` executable, where the connector kept
    its file). The first file that exists wins.
    """
    folders = [Path.cwd() if cwd is None else Path(cwd)]
    beside = program_dir(argv0)
    if beside is not None:
        folders.append(beside)
    for folder in folders:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


@attrs.frozen
class EnvConfig:
    """What the `AMTOPCON_*` environment variables say (the password never shows in a repr)."""

    base_url: str
    user: str
    password: str = attrs.field(repr=False)
    timeout: float | None = None
    ca_bundle: str | None = None


def read_env(environ: Mapping[str, str] | None = None) -> EnvConfig:
    """Read `AMTOPCON_BASE_URL` (or `AMTOPCON_SERVER_ADDRESS` with `AMTOPCON_USE_TLS`),
    `AMTOPCON_USER`, `AMTOPCON_PASSWORD`, `AMTOPCON_TIMEOUT` and `AMTOPCON_CA_BUNDLE`."""
    env: Mapping[str, Any] = os.environ if environ is None else environ

    def get(key: str) -> str | None:
        value = env.get(key)
        return value.strip() if isinstance(value, str) and value.strip() else None

    base_url = get("AMTOPCON_BASE_URL")
    if base_url is not None:
        _check_base_url(base_url, key="AMTOPCON_BASE_URL")
    else:
        address = get("AMTOPCON_SERVER_ADDRESS")
        if address is None:
            raise ConfigError("set AMTOPCON_BASE_URL or AMTOPCON_SERVER_ADDRESS", key="AMTOPCON_BASE_URL")
        address = _check_address(address, path=None, line=None, key="AMTOPCON_SERVER_ADDRESS")
        tls = get("AMTOPCON_USE_TLS")
        use_tls = True if tls is None else _parse_bool(tls, path=None, line=None, key="AMTOPCON_USE_TLS")
        base_url = _service_url(address, use_tls=use_tls)
    user = get("AMTOPCON_USER")
    if user is None:
        raise ConfigError("set AMTOPCON_USER", key="AMTOPCON_USER")
    password = env.get("AMTOPCON_PASSWORD")
    if not password:
        raise ConfigError("set AMTOPCON_PASSWORD", key="AMTOPCON_PASSWORD")
    timeout_text = get("AMTOPCON_TIMEOUT")
    timeout = None
    if timeout_text is not None:
        timeout = _parse_seconds(timeout_text, path=None, line=None, key="AMTOPCON_TIMEOUT", positive=True)
    return EnvConfig(
        base_url=base_url, user=user, password=password, timeout=timeout, ca_bundle=get("AMTOPCON_CA_BUNDLE")
    )
