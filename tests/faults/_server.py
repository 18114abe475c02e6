"""A tiny scripted HTTP/1.1 server over real TCP on 127.0.0.1, for the hostile-network suite.

Each accepted connection runs in a daemon thread: the request (head and a Content-Length
body) is read, then the test's `script(conn, request)` writes whatever it wants (a
trickle, a stall, an endless chunked body, a redirect, nothing) on the raw socket.
Everything is bounded: sockets time out, `close()` shuts every open connection, and a
stalled script sleeps on the server's stop event, never for long.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FaultServer", "Request", "json_answer"]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def function(self) -> str:
        return self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]


@dataclass
class FaultServer:
    """`script(server, conn, request)` answers each request; `requests` records them all."""

    script: Callable[[FaultServer, socket.socket, Request], None]
    requests: list[Request] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    _conns: list[socket.socket] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/AmtOpConService/"
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.stop.set()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                conn.close()
        self._thread.join(5)
        self._sock.close()

    def count(self, function: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.function == function)

    # -- serving
    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(10)
            with self._lock:
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        try:
            while not self.stop.is_set():
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length", "0"))
                while len(buf) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                body, buf = buf[:length], buf[length:]
                request = Request(method, path, headers, body)
                with self._lock:
                    self.requests.append(request)
                self.script(self, conn, request)
        except OSError:
            return
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    # -- helpers for scripts
    def sleep(self, seconds: float) -> bool:
        """Sleep up to `seconds`; False once the server is closing."""
        return not self.stop.wait(seconds)


def json_answer(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> bytes:
    body = json.dumps(data).encode()
    reason = {200: "OK", 401: "Unauthorized", 503: "Service Unavailable"}.get(status, "X")
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


def logon_ok(token: str = "tok-1") -> bytes:
    return json_answer({"AmtLogonToken": token})


STATUS_RUNNING = {"BatchRequestId": 1, "StatusCode": 1, "StatusText": "Running"}
