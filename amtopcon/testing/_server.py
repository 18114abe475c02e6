"""Door 2: the emulator as a real HTTP(S) server on loopback (`amtopcon emulator serve`).

Why the standard library's `http.server`: the served emulator must run from the base
install, and `amtopcon` depends at run time on httpx, attrs and cattrs only, none of
which serves HTTP. `ThreadingHTTPServer` plus `ssl` is enough for a test and demo server
that listens on loopback, answers a handful of clients polling every few seconds and
keeps its state in SQLite; an ASGI stack (uvicorn, hypercorn) or a framework would add
dependencies, and their speed buys nothing at this load. A thread per connection also
makes fault injection literal: a delay sleeps in that thread, a drop closes its socket.

Every `handle()` call runs under one lock (the engine answers one request at a time);
an injected delay is slept outside it, so a slow answer does not hold up the others. An
injected drop closes the connection without an answer. Over a socket both kinds of drop
look the same to a client (the request was sent, no answer came); only the in-process
door can also fake a connection that was never made.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import math
import os
import socket
import ssl
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx  # a base dependency: the engine reads headers case-insensitively, as through the other door

from amtopcon import _wire
from amtopcon._constants import DEFAULT_HOST, DEFAULT_PORT
from amtopcon._version import __version__
from amtopcon._wire.names import Dialect
from amtopcon.testing._clocks import SpeedClock
from amtopcon.testing._exchange import Drop
from amtopcon.testing._store import Store

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "EmulatorServer",
    "NotLoopbackError",
    "check_loopback",
    "persistent_clock",
]

logger = logging.getLogger("amtopcon.testing.server")

#: The largest request body read (256 parameters of 4,096 characters fit with room to spare).
MAX_BODY: Final = 4 * 1024 * 1024
#: Seconds an idle or stalled connection is kept.
CONNECTION_TIMEOUT: Final = 30.0

# Keys of the served clock in the store's meta table.
META_EPOCH: Final = "clock.epoch"  # Unix time of clock second 0: the first start; never changes
META_ORIGIN: Final = "clock.origin"  # Unix time at which a SpeedClock at META_SPEED reads 0
META_SPEED: Final = "clock.speed"


class _Engine(Protocol):
    def handle(self, method: str, path: str, query: Any, headers: Any, body: bytes) -> Any: ...


class NotLoopbackError(ValueError):
    """The server was asked to listen on an address other than loopback."""


def check_loopback(host: str) -> str:
    """Return `host` when it is a loopback address (`127.0.0.0/8`, `::1`, `localhost`), else raise."""
    if host.lower() == "localhost":
        return host
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise NotLoopbackError(f"host: expected a loopback address such as 127.0.0.1, got {host!r}") from None
    if not address.is_loopback:
        raise NotLoopbackError(
            f"host: the emulator listens on loopback only (127.0.0.1 or ::1), got {host!r}: "
            "it is a test server with a well-known password"
        )
    return str(address)


def persistent_clock(store: Store, speed: float, *, wall: float | None = None) -> SpeedClock:
    """A `SpeedClock` whose time line is kept in the store, so a restarted server continues it.

    Wall time keeps running while the server is down: a job's state after a restart is
    what it would have been had the server stayed up. Clock second 0 is the moment the
    store was first served (its timestamps never move). A restart with another speed
    continues from the clock's reading at the restart (the downtime counted at the old
    speed) and runs at the new one from there.
    """
    if not (isinstance(speed, (int, float)) and math.isfinite(speed) and speed > 0):
        raise ValueError(f"speed: expected a finite number > 0, got {speed!r}")
    now = time.time() if wall is None else wall
    speed = float(speed)

    def read(key: str) -> float | None:
        raw = store.get_meta(key)
        if raw is None:
            return None
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ValueError(f"the emulator database holds a broken {key!r}: {raw!r}")
        return value

    origin, old_speed, epoch = read(META_ORIGIN), read(META_SPEED), read(META_EPOCH)
    if origin is None:
        origin = epoch = now
    elif old_speed is not None and old_speed > 0 and old_speed != speed:
        reading = (now - origin) * old_speed
        origin = now - reading / speed
    if epoch is None:
        epoch = origin
    store.set_meta(META_EPOCH, repr(epoch))
    store.set_meta(META_ORIGIN, repr(origin))
    store.set_meta(META_SPEED, repr(speed))
    clock = SpeedClock(speed, origin)
    # Timestamps are epoch + clock seconds; keep the first epoch so earlier messages keep theirs.
    clock.epoch = datetime.fromtimestamp(epoch, UTC)
    return clock


# --------------------------------------------------------------------------- HTTP


class _BadRequest(Exception):
    def __init__(self, message: str, *, close: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.close = close


class _Handler(BaseHTTPRequestHandler):
    """One connection: reads each request, asks the engine, writes its answer (or drops)."""

    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.0"  # a malformed request line still gets a status line (not HTTP/0.9)
    server_version = f"amtopcon-emulator/{__version__}"
    sys_version = ""
    error_content_type = _wire.JSON_TYPE
    disable_nagle_algorithm = True  # small answers go out at once, never held back for a delayed ACK

    def version_string(self) -> str:
        """The `Server` header."""
        return self.server_version

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.connection_timeout)

    def __getattr__(self, name: str) -> Any:
        # Every method (GET, POST, ..., QUERY, anything) goes to the engine, which answers
        # 405 with Allow to those a function does not take (http.server would answer 501).
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        try:
            length = int(raw.strip())
        except ValueError:
            raise _BadRequest(f"Content-Length: expected a number, got {raw!r}", close=True) from None
        if length < 0:
            raise _BadRequest(f"Content-Length: expected a number >= 0, got {length}", close=True)
        if length > MAX_BODY:
            raise _BadRequest(f"the request body is too large ({length} bytes; at most {MAX_BODY})", close=True)
        body = self.rfile.read(length)
        if len(body) < length:
            raise _BadRequest("the request body ended early", close=True)
        return body

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequest("malformed chunked body", close=True) from None
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                raise _BadRequest(f"the request body is too large (more than {MAX_BODY} bytes)", close=True)
            parts.append(self.rfile.read(size))
            self.rfile.readline(8)

    def _dispatch(self) -> None:
        started = time.monotonic()
        method = self.command
        split = urlsplit(self.path)
        path = unquote(split.path)
        request_id = self.headers.get(_wire.H_REQUEST_ID)
        try:
            body = self._read_body()
        except _BadRequest as exc:
            if exc.close:
                self.close_connection = True
            self._send_error(400, _wire.E_INVALID_REQUEST, exc.message, request_id)
            self._log(method, path, "400", started)
            return
        query: dict[str, str] = {}
        for key, value in parse_qsl(split.query, keep_blank_values=True):
            query.setdefault(key, value)
        headers = httpx.Headers(list(self.headers.items()))
        try:
            with self.server.engine_lock:
                closing = self.server.closing
                answer = None if closing else self.server.engine.handle(method, path, query, headers, body)
        except Exception:
            logger.exception("the emulator failed on %s %s", method, path)
            self.close_connection = True
            self._send_error(500, _wire.E_INTERNAL_ERROR, "the emulator failed", request_id)
            self._log(method, path, "500", started)
            return
        if answer is None:
            self.close_connection = True
            self._send_error(503, _wire.E_SERVER_BUSY, "the emulator is shutting down", request_id)
            self._log(method, path, "503", started)
            return
        delay = float(getattr(answer, "delay", 0.0) or 0.0)
        if delay > 0:  # seconds of the emulator's clock (a virtual clock: real seconds), outside the lock
            clock = getattr(self.server.engine, "clock", None)
            if isinstance(clock, SpeedClock):
                clock.sleep(delay)
            else:
                time.sleep(delay)
        if isinstance(answer, Drop):  # break the connection without a word
            self.close_connection = True
            self._log(method, path, "dropped", started)
            return
        self._send(int(answer.status), dict(answer.headers), bytes(answer.body))
        self._log(method, path, str(answer.status), started)

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "server", "date", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        # end_headers(), with the body in the same write: one packet for a small answer.
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(body)
        self.flush_headers()

    def _error_answer(
        self, status: int, error_code: str, message: str, request_id: str | None
    ) -> tuple[dict[str, str], bytes]:
        """An error found outside the engine, in the engine's dialect."""
        dialect: Dialect = "aspnet" if getattr(self.server.engine, "dialect", None) == "aspnet" else "contract"
        headers = {_wire.H_CONTENT_TYPE: _wire.content_type(dialect, error=True)}
        if dialect == "aspnet":
            body: Any = _wire.problem_body(status, error_code, message, _wire.trace_id())
        else:
            body = _wire.error_body(error_code, message)
            if request_id is not None:
                headers[_wire.H_REQUEST_ID] = request_id
        return headers, json.dumps(body).encode()

    def _send_error(self, status: int, error_code: str, message: str, request_id: str | None) -> None:
        self._send(status, *self._error_answer(status, error_code, message, request_id))

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors found before a request is read (a bad request line, a header too long) in JSON too."""
        error_code = _wire.E_INVALID_REQUEST if code < 500 else _wire.E_INTERNAL_ERROR
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.log_error("%d %s", code, message or "")
            text = message or self.responses.get(code, ("",))[0]
            self._send(code, *self._error_answer(code, error_code, text, None))

    def _log(self, method: str, path: str, outcome: str, started: float) -> None:
        # Never the query's values beyond the path, never a header or a body: tokens and passwords live there.
        logger.info(
            "%s %s %s %s %.1f ms", self.client_address[0], method, path, outcome, (time.monotonic() - started) * 1000
        )

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Each request is logged once by `_dispatch` instead."""

    def log_message(self, format: str, *args: Any) -> None:
        """Route http.server's own messages to logging (stderr only when asked for)."""
        logger.info("%s " + format, self.client_address[0], *args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(
        self,
        address: tuple[str, int],
        engine: _Engine,
        ssl_context: ssl.SSLContext | None,
        family: socket.AddressFamily,
        connection_timeout: float,
    ) -> None:
        self.address_family = family
        self.engine = engine
        self.engine_lock = threading.Lock()
        self.closing = False
        self.ssl_context = ssl_context
        self.connection_timeout = connection_timeout
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up (socket.getfqdn), which can hang on a
        # machine without DNS; a loopback server knows its name.
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()[:2]
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Runs in the connection's thread: the TLS handshake happens here, not in the accept loop."""
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        try:
            request.settimeout(self.connection_timeout)
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            logger.info("%s TLS handshake failed: %s", client_address[0], exc)
            return
        try:
            _Handler(tls, client_address, self)
        finally:
            with contextlib.suppress(OSError):
                tls.shutdown(socket.SHUT_RDWR)
            tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that broke mid-request is the client's business: one line, no traceback."""
        logger.info("%s connection error", client_address[0], exc_info=logger.isEnabledFor(logging.DEBUG))


class EmulatorServer:
    """The emulator served over HTTP or HTTPS on loopback.

    `port=0` picks a free port; `url` then says which. Use `start()` (a background
    thread; also the context manager) or `serve_forever()` (blocking), and `close()`.

    Args:
        emulator: the engine (an `amtopcon.testing.Emulator`).
        host: a loopback address (`127.0.0.1`, `::1` or `localhost`); others are refused.
        port: the TCP port (0: any free one).
        tls_cert: a PEM certificate (chain) file; with `tls_key`, serve HTTPS.
        tls_key: the certificate's PEM private key file.
        connection_timeout: seconds an idle or stalled connection is kept open.

    Raises:
        NotLoopbackError: `host` is not a loopback address.
        OSError: the port cannot be bound, or the certificate files cannot be read.
        ssl.SSLError: the certificate and key do not fit.
    """

    def __init__(
        self,
        emulator: _Engine,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        tls_cert: str | os.PathLike[str] | None = None,
        tls_key: str | os.PathLike[str] | None = None,
        connection_timeout: float = CONNECTION_TIMEOUT,
    ) -> None:
        host = check_loopback(host)
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("tls_cert and tls_key: give both (HTTPS) or neither (HTTP)")
        context: ssl.SSLContext | None = None
        if tls_cert is not None and tls_key is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(os.fspath(tls_cert), os.fspath(tls_key))
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        bind_host = "127.0.0.1" if host.lower() == "localhost" else host
        self._host = host
        self._httpd = _HTTPServer((bind_host, port), emulator, context, family, connection_timeout)
        self._thread: threading.Thread | None = None
        self._serving = threading.Event()
        self._closed = False

    @staticmethod
    def check_host(host: str) -> str:
        """Return `host` when it is a loopback address (`127.0.0.0/8`, `::1`, `localhost`); else raise `ValueError`."""
        return check_loopback(host)

    @property
    def scheme(self) -> str:
        """`https` when serving TLS, else `http`."""
        return "http" if self._httpd.ssl_context is None else "https"

    @property
    def port(self) -> int:
        """The port actually bound (the free one picked for `port=0`)."""
        return self._httpd.server_port

    @property
    def url(self) -> str:
        """The base URL of the service, e.g. `http://127.0.0.1:4004/AmtOpConService/`."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{self.scheme}://{host}:{self.port}{_wire.SERVICE_PATH}"

    def serve_forever(self) -> None:
        """Serve until `shutdown()` is called from another thread."""
        self._serving.set()
        try:
            self._httpd.serve_forever(poll_interval=0.05)
        finally:
            self._serving.clear()

    def start(self) -> EmulatorServer:
        """Serve in a background (daemon) thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.serve_forever, name="amtopcon-emulator", daemon=True)
            self._thread.start()
        return self

    @property
    def running(self) -> bool:
        """True while the serving loop runs."""
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        """Stop serving, close the listening socket, and wait for a request in the engine to finish."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=10)
        self._httpd.server_close()
        with self._httpd.engine_lock:  # no handle() in flight once this returns, and none after
            self._httpd.closing = True

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EmulatorServer({self.url})"
