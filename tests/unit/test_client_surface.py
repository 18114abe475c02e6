"""The clients' documented arguments are visible (signature, typing, errors that name the
misspelt keyword), and a closed client says so with a typed error instead of a bare
`RuntimeError` from httpx."""

from __future__ import annotations

import inspect
import pickle
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

import amtopcon
from amtopcon import AsyncClient, Client, ClientOptions, PollPolicy
from amtopcon import _wire as w
from amtopcon.errors import AmtOpConError, ClientClosedError, ConfigError, InternalServerError, ValidationError

from ._support import BASE, PASSWORD, USER, FakeClock, ScriptedServer, call, close, make_client

pytestmark = pytest.mark.anyio

# public-api.md's constructor, in order, with its defaults.
DOCUMENTED = [
    ("base_url", inspect.Parameter.empty),
    ("username", None),
    ("password", None),
    ("timeout", 30.0),
    ("total_timeout", 120.0),
    ("max_retries", 3),
    ("verify", True),
    ("proxy", None),
    ("headers", None),
    ("poll", None),
    ("clock", None),
    ("event_hooks", None),
    ("http_client", None),
    ("max_response_size", 64 * 1024 * 1024),
    ("max_in_flight", 10),
]
CONNECTOR_CONFIG = """\
[CONNECTOR]
STATUS_CHECK_POLL_INTERVAL=5
STATUS_CHECK_INITIAL_POLL_DELAY=5

[AMT BATCH SERVER]
SERVER_ADDRESS=127.0.0.1:4004
SERVER_USE_TLS=False
USER=62324e685a47303d
PASSWORD=6233426a6232353463484d3d
"""
ENV = {"AMTOPCON_BASE_URL": BASE, "AMTOPCON_USER": USER, "AMTOPCON_PASSWORD": PASSWORD}


# ------------------------------------------------------------------ the constructor's arguments


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_the_signature_lists_the_documented_arguments(cls: type[Any]) -> None:
    parameters = inspect.signature(cls).parameters
    assert [(p.name, p.default) for p in parameters.values()] == DOCUMENTED
    assert parameters["base_url"].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for name, p in parameters.items() if name != "base_url")
    assert all(p.annotation is not inspect.Parameter.empty for p in parameters.values())
    doc = inspect.getdoc(cls.__init__) or ""
    for name, _ in DOCUMENTED:
        assert f"{name}:" in doc, name  # a Google-style Args entry each


def test_client_options_are_the_constructor_settings() -> None:
    names = {name for name, _ in DOCUMENTED} - {"http_client"}
    assert set(ClientOptions.__annotations__) == names
    assert amtopcon.ClientOptions is ClientOptions
    for cls in (Client, AsyncClient):
        for method in ("with_options", "from_env", "from_connector_config"):
            (var_kw,) = [
                p for p in inspect.signature(getattr(cls, method)).parameters.values() if p.kind is p.VAR_KEYWORD
            ]
            assert "Unpack[ClientOptions]" in str(var_kw.annotation), (cls, method)


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_a_misspelt_constructor_keyword_names_the_public_class(cls: type[Any]) -> None:
    with pytest.raises(TypeError) as info:
        cls(BASE, username="u", pasword="p")
    assert "pasword" in str(info.value)
    assert f"{cls.__name__}.__init__" in str(info.value)
    assert "BaseClient" not in str(info.value)


async def test_a_misspelt_with_options_keyword_is_a_validation_error(flavour: str) -> None:
    client = make_client(flavour)
    with pytest.raises(ValidationError) as info:
        client.with_options(pasword="x")
    assert info.value.field == "pasword"
    assert "did you mean 'password'" in str(info.value)
    with pytest.raises(ValidationError) as info:
        client.with_options(http_client=httpx.Client())
    assert info.value.field == "http_client"
    await close(client)


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_a_misspelt_from_env_keyword_is_a_validation_error(cls: type[Any]) -> None:
    with pytest.raises(ValidationError) as info:
        cls.from_env(ENV, timout=5)
    assert info.value.field == "timout"
    assert "did you mean 'timeout'" in str(info.value)
    with pytest.raises(ValidationError) as info:
        cls.from_env({}, retries=1)  # the keyword is checked before the (missing) variables
    assert info.value.field == "retries" and not isinstance(info.value, ConfigError)


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_a_misspelt_from_connector_config_keyword_is_a_validation_error(cls: type[Any], tmp_path: Path) -> None:
    path = tmp_path / "Connector.config"
    path.write_text(CONNECTOR_CONFIG, encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        cls.from_connector_config(path, max_retry=0)
    assert info.value.field == "max_retry"
    with pytest.raises(ValidationError) as info:
        cls.from_connector_config(tmp_path / "missing.config", pol=None)
    assert info.value.field == "pol" and not isinstance(info.value, ConfigError)


async def test_factories_take_every_option_and_http_client(flavour: str, tmp_path: Path) -> None:
    path = tmp_path / "Connector.config"
    path.write_text(CONNECTOR_CONFIG, encoding="utf-8")
    server = ScriptedServer()
    transport = httpx.MockTransport(server.handler)
    cls: Any = Client if flavour == "sync" else AsyncClient
    http = httpx.Client(transport=transport) if flavour == "sync" else httpx.AsyncClient(transport=transport)
    other = "https://other.example.com/AmtOpConService/"
    poll = PollPolicy(jitter=0)
    from_env = cls.from_env(ENV, http_client=http, base_url=other, max_retries=0, poll=poll)
    from_cfg = cls.from_connector_config(path, http_client=http, base_url=other, total_timeout=None)
    assert (from_env.base_url, from_env.max_retries, from_env.poll) == (other, 0, poll)
    assert (from_cfg.base_url, from_cfg.total_timeout, from_cfg.poll) == (other, None, PollPolicy.fixed(5, 5))
    assert await call(from_env, "heartbeat") and await call(from_cfg, "heartbeat")
    assert [str(r.url).startswith(other) for r in server.requests] == [True, True]  # through the given pool
    await close(from_env)
    await close(from_cfg)
    assert not http.is_closed  # the caller's pool stays open
    if isinstance(http, httpx.AsyncClient):
        await http.aclose()
    else:
        http.close()


# ------------------------------------------------------------------ a closed client


def serve(httpx_mock: HTTPXMock, server: ScriptedServer) -> ScriptedServer:
    httpx_mock.add_callback(server.handler, is_reusable=True)
    return server


async def test_a_closed_client_raises_client_closed_error(httpx_mock: HTTPXMock, flavour: str) -> None:
    server = serve(httpx_mock, ScriptedServer())
    sent = server.requests
    client = make_client(flavour)  # it opens its own pool, which close() closes
    await call(client, "monitor_job", 2112)
    await close(client)
    before = len(sent)
    for method, args, kwargs in [
        ("monitor_job", (2112,), {}),
        ("get_messages", (2112,), {}),
        ("job_action", ("STOP",), {"batch_request_id": 2112}),
        ("job_action", ("START",), {"application": "DEMO2", "job": "RUN_PARAMETERTESTA"}),
    ]:
        with pytest.raises(ClientClosedError) as info:
            await call(client, method, *args, **kwargs)
        assert "closed" in str(info.value) and "make a new one" in str(info.value)
        assert isinstance(info.value, AmtOpConError) and isinstance(info.value, RuntimeError)
    assert await call(client, "heartbeat") is False  # documented never to raise
    assert len(sent) == before  # nothing was sent


async def test_a_with_options_copy_of_a_closed_client_says_so(httpx_mock: HTTPXMock, flavour: str) -> None:
    serve(httpx_mock, ScriptedServer())
    client = make_client(flavour)
    copy = client.with_options(max_retries=0)
    assert await call(copy, "heartbeat") is True
    await close(client)
    with pytest.raises(ClientClosedError):
        await call(copy, "monitor_job", 2112)
    assert await call(copy, "heartbeat") is False
    with pytest.raises(ClientClosedError):  # a copy made after the close too
        await call(client.with_options(timeout=5), "get_messages", 2112)


async def test_an_injected_pool_closed_by_its_owner(flavour: str) -> None:
    transport = httpx.MockTransport(ScriptedServer().handler)
    if flavour == "sync":
        with httpx.Client(transport=transport) as http:
            client = make_client(flavour, http_client=http)
    else:
        async with httpx.AsyncClient(transport=transport) as ahttp:
            client = make_client(flavour, http_client=ahttp)
    with pytest.raises(ClientClosedError):
        await call(client, "monitor_job", 2112)


class ClosingClock(FakeClock):
    """Closes the client during the first back-off sleep, as another thread or task might."""

    client: Any = None

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if isinstance(self.client, Client):
            self.client.close()

    async def asleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if isinstance(self.client, AsyncClient):
            await self.client.aclose()


async def test_closed_between_retries(httpx_mock: HTTPXMock, flavour: str) -> None:
    server = serve(httpx_mock, ScriptedServer().plan(w.MONITOR_JOB, 503))
    clock = ClosingClock()
    client = make_client(flavour, clock=clock)
    clock.client = client
    with pytest.raises(ClientClosedError) as info:
        await call(client, "monitor_job", 2112)
    assert info.value.attempts == 1
    assert len(server.calls(w.MONITOR_JOB)) == 1


async def test_closed_while_a_request_was_in_flight(httpx_mock: HTTPXMock, flavour: str) -> None:
    holder: dict[str, Any] = {}

    async def closing(request: httpx.Request) -> httpx.Response:
        await close(holder["client"])  # another thread or task closes it meanwhile
        raise RuntimeError("Cannot send a request, as the client has been closed.")

    def sync_closing(request: httpx.Request) -> httpx.Response:
        holder["client"].close()
        raise RuntimeError("Cannot send a request, as the client has been closed.")

    httpx_mock.add_callback(sync_closing if flavour == "sync" else closing)
    client = holder["client"] = make_client(flavour, max_retries=0)
    with pytest.raises(ClientClosedError):
        await call(client, "monitor_job", 2112)


async def test_a_runtime_error_of_an_open_client_is_not_mistaken_for_a_close(flavour: str) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("something else")

    client = make_client(flavour, broken)
    with pytest.raises(RuntimeError, match="something else") as info:
        await call(client, "monitor_job", 2112)
    assert not isinstance(info.value, ClientClosedError)
    await close(client)


async def test_an_open_client_after_a_failed_call_is_not_closed(flavour: str) -> None:
    server = ScriptedServer()
    server.plan(w.MONITOR_JOB, 500, 500, 500, 500)
    client = make_client(flavour, server.handler)
    with pytest.raises(InternalServerError):
        await call(client, "monitor_job", 2112)
    assert (await call(client, "monitor_job", 2112)).batch_request_id == 2112
    await close(client)


def test_client_closed_error_pickles() -> None:
    error = ClientClosedError("MonitorJob: the client is closed; make a new one", attempts=1)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is ClientClosedError
    assert (again.message, again.attempts, str(again)) == (error.message, 1, str(error))
    assert "ClientClosedError" in amtopcon.errors.__all__
