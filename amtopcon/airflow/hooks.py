"""`AmtOpConHook`: an Airflow connection of type `amtopcon` made into an SDK client."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any

import httpx
from airflow.sdk import BaseHook, Connection

from amtopcon import AsyncClient, Client
from amtopcon.airflow._settings import DEFAULT_CONN_ID, ClientSettings, settings_from_connection
from amtopcon.errors import AmtOpConError, AuthenticationError, NotFoundError

__all__ = ["AmtOpConHook"]

#: A BatchRequestId no server hands out soon: `test_connection()` asks MonitorJob for it,
#: which needs a logon; a 404 answer proves the logon worked.
_PROBE_ID = 2_147_483_647


def settings_of(conn: Connection) -> ClientSettings:
    """The client settings an Airflow `Connection` gives (see `settings_from_connection`)."""
    return settings_from_connection(
        conn.conn_id,
        host=conn.host,
        port=conn.port,
        schema=conn.schema,
        login=conn.login,
        password=conn.password,
        extra=conn.extra_dejson,
    )


class BoundedTransport(httpx.AsyncBaseTransport):
    """At most `limit` requests in flight; the others wait their turn in FIFO order.

    httpx's pool scans every queued request against every connection each time a
    connection frees up, so a thousand waiting requests cost it quadratic time; here they
    wait on a semaphore instead, and the pool never holds more than it has connections.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, limit: int) -> None:
        self._inner = inner
        self._slots = asyncio.Semaphore(limit)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` once a slot is free; the slot is held until the answer is read."""
        async with self._slots:
            response = await self._inner.handle_async_request(request)
            try:
                await response.aread()
            finally:
                await response.aclose()
            return response

    async def aclose(self) -> None:
        """Close the connections."""
        await self._inner.aclose()


def bounded_http_client(settings: ClientSettings) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` for many concurrent waits: `settings.max_connections` in flight at once."""
    verify: ssl.SSLContext | bool
    verify = ssl.create_default_context(cafile=settings.verify) if isinstance(settings.verify, str) else settings.verify
    n = settings.max_connections
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    transport = BoundedTransport(httpx.AsyncHTTPTransport(verify=verify, limits=limits), n)
    return httpx.AsyncClient(transport=transport, follow_redirects=False)


class AmtOpConHook(BaseHook):
    """The connection to an AMTOpCon service: gives a configured `Client` or `AsyncClient`.

    The connection (type `amtopcon`) holds Host (a host name, or the whole base URL), Port,
    Schema (the service path, default `AmtOpConService`), Login and Password; its extras
    `base_url`, `tls` (default true), `verify`, `ca_bundle`, `timeout`, `total_timeout`,
    `max_retries` and the poll settings `poll_initial_delay`, `poll_interval`,
    `poll_backoff`, `poll_max_interval`, `poll_jitter` and `poll_max_outage`.

    Args:
        amtopcon_conn_id: the Airflow connection id (default `amtopcon_default`).
        **client_options: settings of the SDK's `ClientOptions` that replace what the
            connection says (e.g. `clock=`, `poll=`).
    """

    conn_name_attr = "amtopcon_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "amtopcon"
    hook_name = "AMTOpCon"

    def __init__(self, amtopcon_conn_id: str = DEFAULT_CONN_ID, **client_options: Any) -> None:
        super().__init__()
        self.amtopcon_conn_id = amtopcon_conn_id
        self.client_options = dict(client_options)

    def get_settings(self) -> ClientSettings:
        """Read the connection (from the metadata database, a secrets backend or `AIRFLOW_CONN_*`)."""
        return settings_of(self.get_connection(self.amtopcon_conn_id))

    async def aget_settings(self) -> ClientSettings:
        """`get_settings()` for the event loop (the triggerer): does not block the loop."""
        return settings_of(await self.aget_connection(self.amtopcon_conn_id))

    def _kwargs(self, settings: ClientSettings) -> dict[str, Any]:
        return {**settings.client_kwargs(), **self.client_options}

    def get_conn(self) -> Client:
        """A new `Client` for the connection; the caller closes it (`with hook.get_conn() as client:`)."""
        return Client(**self._kwargs(self.get_settings()))

    def get_client(self) -> Client:
        """Same as `get_conn()`."""
        return self.get_conn()

    async def aget_async_client(self) -> AsyncClient:
        """A new `AsyncClient` for the connection; the caller closes it (`await client.aclose()`)."""
        return AsyncClient(**self._kwargs(await self.aget_settings()))

    async def aget_shared_async_client(self) -> tuple[AsyncClient, httpx.AsyncClient]:
        """An `AsyncClient` for many concurrent waits (the triggerer's shared client) and the
        pool it sends through: at most `max_connections` requests in flight. The caller
        closes both (`await client.aclose(); await pool.aclose()`)."""
        settings = await self.aget_settings()
        pool = bounded_http_client(settings)
        try:
            return AsyncClient(**self._kwargs(settings), http_client=pool), pool
        except BaseException:
            await pool.aclose()
            raise

    def test_connection(self) -> tuple[bool, str]:
        """Log on to the service (the "Test" button of the connection form).

        Makes one authenticated call, MonitorJob of an id no server has handed out: it
        needs a logon, and a "not found" answer proves the logon worked.
        """
        try:
            with self.get_conn() as client:
                with contextlib.suppress(NotFoundError):
                    client.monitor_job(_PROBE_ID)
                return True, f"Logged on to {client.base_url} as {client.username}"
        except AuthenticationError as exc:
            return False, f"The service refused the logon: {exc}"
        except AmtOpConError as exc:
            return False, f"{type(exc).__name__}: {exc}"
