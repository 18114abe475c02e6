"""`amtopcon emulator serve`: the built-in AMT batch environment as an HTTP(S) server on loopback.

    amtopcon emulator serve [--host 127.0.0.1] [--port 4004] [--db FILE] [--speed N]
                            [--catalog FILE] [--dialect contract|aspnet]
                            [--tls-cert FILE --tls-key FILE] [--verbose]

It prints one line, `Serving AMTOpCon emulator on http://127.0.0.1:4004/AmtOpConService/`
(`https` with TLS; the real port when `--port 0` picked a free one), and serves until
SIGTERM or SIGINT (exit 0). Without `--db` its state is in memory only: a restart
forgets every job. With `--db` its batch requests, actions, logon tokens (as hashes) and
clock live in an SQLite file, so a restarted server shows every job, its messages and its
final code as before; wall time keeps running while it is down. `--dialect aspnet`
answers as an ASP.NET 6 service would (camelCase keys, problem+json errors). It listens
on loopback only and answers only under `/AmtOpConService/`; bad arguments exit 64.

The heavy modules load inside the handler, so `amtopcon --version` stays light.
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, Any

from amtopcon._constants import DEFAULT_HOST, DEFAULT_PORT
from amtopcon.cli._errors import EXIT_INTERNAL, EXIT_USAGE, UsageError

if TYPE_CHECKING:
    import logging

    from amtopcon.testing import EmulatorServer


def _port(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number (0 to 65535), got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number (0 to 65535), got {text!r}")
    return value


def _speed(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def add_parser(sub: Any) -> None:
    """Register `emulator serve`."""
    emulator = sub.add_parser(
        "emulator", help="the built-in AMT batch environment emulator", description="The built-in AMT emulator."
    )
    esub = emulator.add_subparsers(dest="emulator_command", metavar="COMMAND")
    serve = esub.add_parser(
        "serve",
        help="serve the emulator over HTTP(S) on loopback",
        description=(
            "Serve the AMTOpCon contract over HTTP (HTTPS with --tls-cert and --tls-key) on loopback. "
            "Prints 'Serving AMTOpCon emulator on URL' and runs until SIGTERM or SIGINT. "
            "The default user is ocadm / opconxps."
        ),
    )
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"a loopback address (default {DEFAULT_HOST}; also ::1)")
    serve.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"the TCP port (default {DEFAULT_PORT}; 0: any free port)"
    )
    serve.add_argument(
        "--db",
        metavar="FILE",
        help=(
            "keep batch requests, actions, token hashes and the clock in this SQLite file, so that a restart "
            "loses no job (default: in memory only; a restart forgets every job)"
        ),
    )
    serve.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        metavar="N",
        help="clock seconds per real second (default 1; at 60 a one-hour job takes a minute)",
    )
    serve.add_argument("--catalog", metavar="FILE", help="a TOML catalog of applications, jobs and users")
    serve.add_argument(
        "--dialect",
        choices=("contract", "aspnet"),
        default="contract",
        help=(
            "how answers are written: contract (the default: the wire contract as written) or aspnet "
            "(as ASP.NET 6 writes them: camelCase keys, 7-digit timestamps without offset, problem+json errors)"
        ),
    )
    serve.add_argument("--tls-cert", metavar="FILE", help="PEM certificate (chain) to serve HTTPS with")
    serve.add_argument("--tls-key", metavar="FILE", help="the certificate's PEM private key")
    serve.add_argument("--verbose", "-v", action="store_true", help="log one line per request to standard error")
    serve.set_defaults(handler=_serve)
    emulator.set_defaults(handler=_no_command(emulator))


def _no_command(parser: argparse.ArgumentParser) -> Any:
    def run(args: argparse.Namespace) -> int:
        import sys

        parser.print_help(sys.stderr)
        return EXIT_USAGE

    return run


def _serve(args: argparse.Namespace) -> int:
    import logging
    import ssl

    from amtopcon.errors import ConfigError
    from amtopcon.testing import (
        Catalog,
        Emulator,
        EmulatorServer,
        MemoryStore,
        SQLiteStore,
        Store,
        StoreError,
        persistent_clock,
    )

    if (args.tls_cert is None) != (args.tls_key is None):
        raise UsageError("--tls-cert and --tls-key go together (both for HTTPS, neither for HTTP)")
    for option, path in (("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key)):
        if path is not None:
            try:
                with open(path, "rb"):
                    pass
            except OSError as exc:
                raise UsageError(f"{option} {path}: cannot read it: {exc.strerror or exc}") from None
    try:
        EmulatorServer.check_host(args.host)
    except ValueError as exc:
        raise UsageError(f"--host {args.host}: the emulator listens on loopback only (127.0.0.1 or ::1)") from exc
    try:
        catalog = Catalog.from_toml(args.catalog) if args.catalog else Catalog.default()
    except ConfigError as exc:
        raise UsageError(f"--catalog: {exc}") from None
    try:
        store: Store = SQLiteStore(args.db) if args.db else MemoryStore()
    except StoreError as exc:
        raise UsageError(f"--db: {exc}") from None
    try:
        try:
            clock = persistent_clock(store, args.speed)
        except ValueError as exc:
            raise UsageError(f"--db: {exc}") from None
        emulator = Emulator(catalog=catalog, clock=clock, store=store, dialect=args.dialect)
        try:
            server = EmulatorServer(emulator, args.host, args.port, tls_cert=args.tls_cert, tls_key=args.tls_key)
        except ssl.SSLError as exc:
            raise UsageError(f"--tls-cert/--tls-key: not a certificate and its private key: {exc}") from None
        except OSError as exc:
            raise UsageError(f"--port: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
        return _run(server, logging.getLogger("amtopcon.testing.server"))
    finally:
        store.close()


def _run(server: EmulatorServer, log: logging.Logger) -> int:
    """Serve until SIGTERM or SIGINT; the caller closes the store afterwards."""
    import signal
    import threading

    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        received.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.start()
        print(f"Serving AMTOpCon emulator on {server.url}", flush=True)
        while not stop.wait(0.5):
            if not server.running:  # the serving loop died: say so, exit non-zero
                log.error("the server stopped unexpectedly")
                return EXIT_INTERNAL
        log.info("signal %s: shutting down", received[0] if received else "?")
        return 0
    finally:
        server.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
