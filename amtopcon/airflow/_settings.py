"""What an Airflow connection of type `amtopcon` says, read into client settings.

No Airflow import here: the functions take the connection's plain fields, so they are
the same in a worker, in the triggerer and in a test.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

import attrs

from amtopcon import PollPolicy
from amtopcon.errors import ConfigError, ValidationError

__all__ = [
    "DEFAULT_CONN_ID",
    "DEFAULT_SERVICE_PATH",
    "POLL_EXTRAS",
    "ClientSettings",
    "poll_from_dict",
    "poll_to_dict",
    "settings_from_connection",
]

DEFAULT_CONN_ID: Final = "amtopcon_default"
DEFAULT_SERVICE_PATH: Final = "AmtOpConService"

#: Connection extras that set the connection's `PollPolicy`, and the field each sets.
POLL_EXTRAS: Final = {
    "poll_initial_delay": "initial_delay",
    "poll_interval": "interval",
    "poll_backoff": "backoff",
    "poll_max_interval": "max_interval",
    "poll_jitter": "jitter",
    "poll_max_outage": "max_outage",
}
_NUMBER_EXTRAS: Final = ("timeout", "total_timeout")
_KNOWN_EXTRAS: Final = frozenset(
    {"base_url", "tls", "verify", "ca_bundle", "max_retries", "max_connections", *_NUMBER_EXTRAS, *POLL_EXTRAS}
)
#: Requests one shared client (one triggerer, one connection) has in flight at most.
DEFAULT_MAX_CONNECTIONS: Final = 20
_TRUE: Final = {"true", "yes", "on", "1"}
_FALSE: Final = {"false", "no", "off", "0"}


@attrs.frozen
class ClientSettings:
    """The arguments of a `Client` / `AsyncClient` that a connection gives (the password never shows)."""

    base_url: str
    username: str | None
    password: str | None = attrs.field(repr=False)
    verify: bool | str = True
    timeout: float | None = None
    total_timeout: float | None = None
    max_retries: int | None = None
    poll: PollPolicy | None = None
    max_connections: int = DEFAULT_MAX_CONNECTIONS

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `Client(**kwargs)` / `AsyncClient(**kwargs)`: only what the connection sets."""
        kwargs: dict[str, Any] = {
            "base_url": self.base_url,
            "username": self.username,
            "password": self.password,
            "verify": self.verify,
        }
        for name in ("timeout", "total_timeout", "max_retries", "poll"):
            value = getattr(self, name)
            if value is not None:
                kwargs[name] = value
        return kwargs


def _fail(conn_id: str, key: str, message: str) -> ConfigError:
    return ConfigError(f"Airflow connection {conn_id!r}: {message}", key=key)


def _extras(conn_id: str, extra: Mapping[str, Any]) -> dict[str, Any]:
    """The extras by plain name (the UI stores `extra__amtopcon__NAME`; both are read)."""
    prefix = "extra__amtopcon__"
    out: dict[str, Any] = {}
    for key, value in extra.items():
        name = key[len(prefix) :] if key.startswith(prefix) else key
        if value is None or value == "":
            continue
        if name not in _KNOWN_EXTRAS:
            raise _fail(conn_id, key, f"unknown extra {key!r}; known: {', '.join(sorted(_KNOWN_EXTRAS))}")
        out[name] = value
    return out


def _bool(conn_id: str, key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _fail(conn_id, key, f"expected true or false, got {value!r}")


def _number(conn_id: str, key: str, value: object) -> float:
    if isinstance(value, bool):
        raise _fail(conn_id, key, f"expected a number, got {value!r}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _fail(conn_id, key, f"expected a number, got {value!r}") from None
    if math.isnan(number):
        raise _fail(conn_id, key, f"expected a number, got {value!r}")
    return number


def _base_url(conn_id: str, host: str | None, port: int | None, schema: str | None, tls: bool) -> str:
    if not host or not host.strip():
        raise _fail(conn_id, "host", "no host (set Host, or the extra base_url)")
    host = host.strip()
    if "://" in host:  # a whole URL in the Host field
        return host
    if "/" in host or "@" in host:
        raise _fail(conn_id, "host", f"expected a host name, got {host!r}")
    path = (schema or DEFAULT_SERVICE_PATH).strip().strip("/")
    netloc = f"[{host}]" if ":" in host and not host.startswith("[") else host
    if port is not None:
        netloc = f"{netloc}:{int(port)}"
    return f"{'https' if tls else 'http'}://{netloc}/{path}/"


def settings_from_connection(
    conn_id: str,
    *,
    host: str | None,
    port: int | None = None,
    schema: str | None = None,
    login: str | None = None,
    password: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> ClientSettings:
    """Read a connection's fields into `ClientSettings`.

    Fields: Host (a host name, or a whole base URL), Port, Schema (the service path,
    default `AmtOpConService`), Login and Password. Extras: `base_url` (overrides Host,
    Port and Schema), `tls` (default true: https), `verify` (default true), `ca_bundle`
    (a CA bundle path; implies verify), `timeout`, `total_timeout`, `max_retries`,
    `max_connections` (requests in flight at once through a triggerer's shared client,
    default 20), and the poll settings `poll_initial_delay`, `poll_interval`, `poll_backoff`,
    `poll_max_interval`, `poll_jitter`, `poll_max_outage` (seconds; `inf` for no limit).

    Raises:
        ConfigError: a field or extra is missing or unusable (`.key` names it); the
            message never holds the password.
    """
    extras = _extras(conn_id, extra or {})
    tls = _bool(conn_id, "tls", extras.get("tls", True))
    base_url = str(extras["base_url"]).strip() if "base_url" in extras else _base_url(conn_id, host, port, schema, tls)
    verify: bool | str = _bool(conn_id, "verify", extras.get("verify", True))
    if "ca_bundle" in extras:
        if verify is False:
            raise _fail(conn_id, "ca_bundle", "ca_bundle is set but verify is false; drop one")
        verify = str(extras["ca_bundle"])
    numbers = {key: _number(conn_id, key, extras[key]) for key in _NUMBER_EXTRAS if key in extras}
    max_retries: int | None = None
    if "max_retries" in extras:
        value = _number(conn_id, "max_retries", extras["max_retries"])
        if value != int(value) or value < 0:
            raise _fail(conn_id, "max_retries", f"expected a whole number >= 0, got {extras['max_retries']!r}")
        max_retries = int(value)
    max_connections = DEFAULT_MAX_CONNECTIONS
    if "max_connections" in extras:
        value = _number(conn_id, "max_connections", extras["max_connections"])
        if value != int(value) or value < 1:
            raise _fail(conn_id, "max_connections", f"expected a whole number >= 1, got {extras['max_connections']!r}")
        max_connections = int(value)
    poll_fields = {field: _number(conn_id, key, extras[key]) for key, field in POLL_EXTRAS.items() if key in extras}
    poll: PollPolicy | None = None
    if poll_fields:
        try:
            poll = PollPolicy(**poll_fields)
        except ValidationError as exc:
            key = next((k for k, f in POLL_EXTRAS.items() if f == exc.field), "poll")
            raise _fail(conn_id, key, str(exc)) from None
    return ClientSettings(
        base_url=base_url,
        username=login or None,
        password=password or None,
        verify=verify,
        timeout=numbers.get("timeout"),
        total_timeout=numbers.get("total_timeout"),
        max_retries=max_retries,
        poll=poll,
        max_connections=max_connections,
    )


def poll_to_dict(poll: PollPolicy) -> dict[str, float | str]:
    """A `PollPolicy` as plain JSON (infinity as the string `"inf"`, which JSON cannot hold)."""
    out: dict[str, float | str] = {}
    for name, value in attrs.asdict(poll).items():
        out[name] = "inf" if math.isinf(value) else float(value)
    return out


def poll_from_dict(data: Mapping[str, Any] | PollPolicy | None) -> PollPolicy | None:
    """The inverse of `poll_to_dict` (a `PollPolicy` passes as is; None stays None).

    Raises:
        ValidationError: a field is unknown or out of range (`.field` names it).
    """
    if data is None or isinstance(data, PollPolicy):
        return data
    if not isinstance(data, Mapping):
        raise ValidationError("poll: expected a PollPolicy or a mapping of its fields", field="poll")
    names = {a.name for a in attrs.fields(PollPolicy)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValidationError(f"poll: unknown field {unknown[0]!r}; fields: {', '.join(sorted(names))}", field="poll")
    fields: dict[str, float] = {}
    for name, value in data.items():
        try:
            fields[name] = float(value)
        except (TypeError, ValueError):
            raise ValidationError(f"poll: {name}: expected a number, got {value!r}", field=name) from None
    return PollPolicy(**fields)
