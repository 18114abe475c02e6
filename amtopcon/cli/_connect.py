"""Which server the command talks to, and with which settings.

`--emulator` (alone) runs the built-in emulator in process. Otherwise the first source
that exists supplies every setting: `--base-url` with `--user` and a password;
`--config FILE`; a `Connector.config` in the working directory, else beside the program
(`amtopcon.config.find_connector_config`); the `AMTOPCON_*` environment variables.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from typing import TYPE_CHECKING, Any

from amtopcon.cli import _errors
from amtopcon.cli._errors import UsageError
from amtopcon.config import find_connector_config

if TYPE_CHECKING:  # pragma: no cover
    from amtopcon import Client
    from amtopcon.cli._retries import RetryNotice

log = logging.getLogger("amtopcon.cli")

#: How much faster than real time the `--emulator` runs: the vendor's 80-second sample
#: job takes about two seconds.
EMULATOR_SPEED = 40.0

DEFAULT_CONFIG = "Connector.config"

NO_SOURCE = (
    "no connection settings: pass --base-url URL --user USER (password: --password, AMTOPCON_PASSWORD or a prompt), "
    "or --config Connector.config, or put a Connector.config in the current directory or beside the program, "
    "or set AMTOPCON_BASE_URL, AMTOPCON_USER and AMTOPCON_PASSWORD, or try --emulator"
)


def _opt(args: argparse.Namespace, name: str) -> Any:
    return getattr(args, name, None)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if _opt(args, "request_timeout") is not None:
        kwargs["timeout"] = args.request_timeout
    if _opt(args, "max_retries") is not None:
        kwargs["max_retries"] = args.max_retries
    if _opt(args, "ca_bundle") is not None:
        kwargs["verify"] = args.ca_bundle
    return kwargs


#: The warnings already printed in this process (each is printed once).
_warned: set[str] = set()

PASSWORD_ON_COMMAND_LINE = (
    "warning: --password on the command line is visible to other users in the process list "
    "and may be kept in the shell history; set AMTOPCON_PASSWORD, use --config Connector.config "
    "(readable by its owner only), or let amtopcon prompt on a terminal"
)


def warn_once(message: str) -> None:
    """Print `amtopcon: MESSAGE` on standard error, once per process (also under --quiet:
    these are about a secret's safety, and standard output stays clean for --json)."""
    if message in _warned:
        return
    _warned.add(message)
    print(f"amtopcon: {message}", file=sys.stderr, flush=True)


def warn_if_exposed(path: str) -> None:
    """Warn once when the credentials file `path` is readable by its group or by others (POSIX)."""
    from amtopcon.config import exposed_to_others

    if exposed_to_others(path):
        warn_once(
            f"warning: {path} holds the API credentials (only encoded, not encrypted) and is readable "
            f"by its group or by others; restrict it to its owner (chmod 600 {path})"
        )


def _password(args: argparse.Namespace, url: str, user: str) -> str:
    password = _opt(args, "password")
    if password:
        warn_once(PASSWORD_ON_COMMAND_LINE)
        return str(password)
    password = os.environ.get("AMTOPCON_PASSWORD")
    if password:
        return password
    if sys.stdin is not None and sys.stdin.isatty():
        try:
            return getpass.getpass(f"Password for {user} at {url}: ")
        except EOFError:
            pass
    raise UsageError("no password for --base-url: pass --password, set AMTOPCON_PASSWORD, or run on a terminal")


def source_of(args: argparse.Namespace, environ: Any = None) -> str:
    """Name the source that supplies the settings: emulator, arguments, config, ./config, env.

    Raises `UsageError` for conflicting or incomplete options, or when there is none.
    """
    env = os.environ if environ is None else environ
    given = [f"--{n.replace('_', '-')}" for n in ("base_url", "user", "password", "config") if _opt(args, n)]
    if _opt(args, "emulator"):
        if given or _opt(args, "ca_bundle"):
            extra = given or ["--ca-bundle"]
            raise UsageError(f"--emulator cannot be combined with {', '.join(extra)}")
        return "emulator"
    if _opt(args, "base_url"):
        if not _opt(args, "user"):
            raise UsageError("--base-url needs --user")
        return "arguments"
    if _opt(args, "user") or _opt(args, "password"):
        raise UsageError("--user and --password go with --base-url")
    if _opt(args, "config"):
        return "config"
    if find_connector_config() is not None:
        return "./config"
    if (env.get("AMTOPCON_BASE_URL") or "").strip() or (env.get("AMTOPCON_SERVER_ADDRESS") or "").strip():
        return "env"
    raise UsageError(NO_SOURCE)


#: Why a follow-up command refuses `--emulator` (see `open_client`).
EMULATOR_FOLLOW_UP = (
    "--emulator: {command} needs the emulator that ran the job, but --emulator starts a fresh one in this "
    "process that forgets every job when the command ends; run `amtopcon emulator serve` (add --db FILE to "
    "keep its jobs across restarts) and pass --base-url http://127.0.0.1:4004/AmtOpConService/ --user ocadm "
    "--password opconxps to start, status, messages, stop and kill"
)


#: `--emulator` makes a fresh emulator per command, so it knows no job of an earlier one
#: (tests that hand every command one shared emulator set this to False).
EMULATOR_FORGETS_JOBS = True


def open_client(args: argparse.Namespace, *, follow_up: str | None = None) -> Client:
    """A client for the source the arguments name (see the module docstring).

    `follow_up` names a command about a job started earlier (`status`, `messages`, `stop`,
    `kill`): it refuses `--emulator`, whose in-process emulator knows no earlier job.
    On a terminal (standard error), and not with --quiet, a call that retries says so:
    `amtopcon: retrying (n/m): reason` (see `amtopcon.cli._retries`).
    """
    source = source_of(args)
    if source == "emulator" and follow_up is not None and EMULATOR_FORGETS_JOBS:
        raise UsageError(EMULATOR_FOLLOW_UP.format(command=follow_up))
    kwargs = _overrides(args)
    notice = retry_notice(args)
    if notice is not None:
        kwargs["event_hooks"] = notice.event_hooks()
    client: Client
    if source == "emulator":
        client = _emulator_client(kwargs)
    else:
        from amtopcon import Client

        if source == "arguments":
            url, user = str(args.base_url), str(args.user)
            client = Client(url, username=user, password=_password(args, url, user), **kwargs)
        elif source in ("config", "./config"):
            path = str(args.config) if source == "config" else str(find_connector_config() or DEFAULT_CONFIG)
            client = Client.from_connector_config(path, **kwargs)
            warn_if_exposed(path)
            _apply_debug(path)
        else:
            client = Client.from_env(**kwargs)
    if notice is not None:
        notice.total = client.max_retries
    log.debug(
        "settings from %s: base URL %s, max_retries %d, total_timeout %s",
        _SOURCE_NAMES[source],
        client.base_url,
        client.max_retries,
        client.total_timeout,
    )
    _errors.current_server = client.base_url
    return client


_SOURCE_NAMES = {
    "emulator": "--emulator",
    "arguments": "--base-url",
    "config": "--config",
    "./config": "a Connector.config found without --config",
    "env": "the AMTOPCON_* environment variables",
}


def retry_notice(args: argparse.Namespace, stream: Any = None) -> RetryNotice | None:
    """The retry notice for a command, when standard error is a terminal and not --quiet."""
    from amtopcon.cli._retries import RetryNotice, isatty

    err = sys.stderr if stream is None else stream
    if _opt(args, "quiet") or not isatty(err):
        return None
    return RetryNotice(err)


def _apply_debug(path: str) -> None:
    """`DEBUG=ON` in the file's [CONNECTOR] section turns on the debug log on standard
    error, as in the connector (an `AMTOPCON_LOG` setting wins)."""
    from amtopcon.cli import _logging
    from amtopcon.config import read_connector_config

    if read_connector_config(path).debug:
        _logging.enable_debug(f"DEBUG=ON in {path}")


def _emulator_client(kwargs: dict[str, Any]) -> Client:
    from amtopcon.testing import Emulator, SpeedClock

    emulator = Emulator(clock=SpeedClock(EMULATOR_SPEED))
    client: Client = emulator.client(**kwargs)
    return client


def log_on(client: Client) -> None:
    """Log on now, as the connector does before its START (it then prints
    `Authentication successful`); a refusal raises `AuthenticationError`.

    The START that follows reuses the token.
    """
    client.logon()


def server_label(client: Client) -> str:
    """`scheme://host:port` of the client's base URL, as the job log's Server line shows it."""
    url = client.base_url
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    return f"{scheme}://{rest.split('/', 1)[0]}"
