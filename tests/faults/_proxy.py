"""A small chaos proxy over real TCP on 127.0.0.1, for the hostile-network suite.

It forwards each accepted connection to an upstream server (the served emulator) and, as
its `policy` decides per connection, passes it through, drops it before the request
reaches the server, or lets the request through and then drops or stalls the answer (the
server has processed it; the client never hears). It runs an asyncio loop in a daemon
thread, so a thousand connections cost a thousand coroutines, not threads; `close()`
ends every connection. A stalled answer is held until the client gives up or the proxy
closes: never longer.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from collections.abc import Callable
from typing import Literal

__all__ = ["Fate", "Proxy"]

Fate = Literal["pass", "drop_request", "drop_answer", "stall_answer"]


class Proxy:
    """Forward `127.0.0.1:port` to `upstream_port`.

    `policy(n, head)` decides the fate of the `n`-th request (0-based, over all
    connections), `head` being its first bytes (the request line and headers): pass it,
    drop it before it reaches the server, or drop or stall its answer."""

    def __init__(self, upstream_port: int, policy: Callable[[int, bytes], Fate] = lambda n, head: "pass") -> None:
        self.upstream_port = upstream_port
        self.policy = policy
        self.fates: Counter[str] = Counter()
        self._count = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    def __enter__(self) -> Proxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the proxy did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str = "/AmtOpConService/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        if self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(10)

    # -- the loop
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())
        self._loop.close()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._connection, "127.0.0.1", 0, backlog=2048)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stopping.wait()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _decide(self, head: bytes) -> Fate:
        fate = self.policy(self._count, head)
        self._count += 1
        self.fates[fate] += 1
        return fate

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
            try:
                await self._pump(reader, writer, up_reader, up_writer)
            finally:
                up_writer.close()
        except OSError:
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()
            self._tasks.discard(task)  # type: ignore[arg-type]

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        fate: list[Fate] = ["pass"]

        async def forward() -> None:
            while data := await reader.read(65536):
                if data[:4] in (b"POST", b"GET "):  # a new request (its head comes first, in one write)
                    fate[0] = self._decide(data)
                    if fate[0] == "drop_request":  # it never reaches the server
                        return
                up_writer.write(data)
                await up_writer.drain()

        upward = asyncio.create_task(forward())
        downward = asyncio.create_task(up_reader.read(65536))
        try:
            while True:
                done, _ = await asyncio.wait({upward, downward}, return_when=asyncio.FIRST_COMPLETED)
                if upward in done:  # the client left, or its request was dropped: close both sides
                    return
                data = downward.result()
                if not data:
                    return
                if fate[0] == "drop_answer":  # processed upstream; the client hears nothing
                    return
                if fate[0] == "stall_answer":  # held until the client gives up (or the proxy closes)
                    await upward
                    return
                writer.write(data)
                await writer.drain()
                downward = asyncio.create_task(up_reader.read(65536))
        finally:
            for task in (upward, downward):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
