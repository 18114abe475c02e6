"""Neither the password nor the token appears in a log line, a repr or an exception; the
debug log has one line per attempt."""

from __future__ import annotations

import logging
import pickle
import re
import sys
import traceback
from pathlib import Path
from typing import Any

import httpx
import pytest

from amtopcon import _logging
from amtopcon import _wire as w
from amtopcon._core import call as call_module
from amtopcon._core import settings
from amtopcon.config import encode_credential, read_connector_config, read_env
from amtopcon.errors import AmtOpConError

from ._support import PASSWORD, TOKEN, USER, FakeClock, ScriptedServer, call, close, make_client

pytestmark = pytest.mark.anyio

SECRETS = (PASSWORD, TOKEN, encode_credential(PASSWORD))
LINE = re.compile(
    r"^(?P<method>GET|POST) (?P<path>/AmtOpConService/\w+) -> (?P<status>\w+) "
    r"request_id=(?P<rid>\S+) attempt=(?P<attempt>\d+) elapsed=(?P<elapsed>\d+\.\d{3})s$"
)


def assert_no_secret(texts: list[str]) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"a secret leaked into: {text[:200]!r}"


def describe(err: BaseException) -> list[str]:
    """Everything a user may print of an exception."""
    texts = [str(err), repr(err), "".join(traceback.format_exception(err))]
    texts.append(repr(vars(err)) if hasattr(err, "__dict__") else "")
    texts.append(pickle.dumps(err).decode("latin-1"))
    return texts


async def run_calls(flavour: str, server: ScriptedServer, clock: FakeClock) -> list[str]:
    """A succeeding and a failing call of every kind; returns what a user could print."""
    texts: list[str] = []
    client = make_client(flavour, server.handler, clock=clock, max_retries=1)
    texts += [repr(client), str(client), repr(vars(client))]
    copy = client.with_options(timeout=5)
    texts += [repr(copy), repr(vars(copy))]
    # succeeding calls
    assert await call(client, "heartbeat") is True
    texts.append(repr(await call(client, "monitor_job", 2112)))
    texts.append(repr(await call(client, "get_messages", 2112)))
    texts.append(repr(await call(client, "job_action", "START", application="DEMO2", job="J")))
    texts.append(repr(await call(copy, "job_action", "STOP", batch_request_id=2112)))
    # an expired token: one new Logon, then success
    server.expire()
    texts.append(repr(await call(client, "monitor_job", 2112)))
    # failing calls
    server.plan(w.MONITOR_JOB, 500, 500)
    server.plan(w.JOB_ACTION, httpx.ReadTimeout)
    server.plan(w.GET_MESSAGES, httpx.ConnectError, httpx.ConnectError)
    failing = [
        ("monitor_job", (2112,), {}),
        ("job_action", ("START",), {"application": "DEMO2", "job": "J"}),
        ("get_messages", (2112,), {}),
        ("job_action", ("STOP",), {"batch_request_id": 0}),
    ]
    for method, args, kwargs in failing:
        with pytest.raises(AmtOpConError) as info:
            await call(client, method, *args, **kwargs)
        texts += describe(info.value)
    # a refused Logon (the password changed on the server)
    server.expire()
    server.password = "changed"
    with pytest.raises(AmtOpConError) as info:
        await call(client, "monitor_job", 2112)
    texts += describe(info.value)
    texts += [repr(client), repr(vars(client)), repr(w.logon_request(USER, PASSWORD))]
    await close(copy)
    await close(client)
    return texts


async def test_secrets_never_show(flavour: str, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="amtopcon")
    server = ScriptedServer()
    texts = await run_calls(flavour, server, FakeClock())
    assert server.logons == 2  # both calls really logged on: the token existed
    texts.append(caplog.text)
    texts += [r.getMessage() for r in caplog.records]
    texts += [repr(r.args) for r in caplog.records]
    config = tmp_path / "Connector.config"
    config.write_text(
        f"[AMT BATCH SERVER]\nSERVER_ADDRESS=127.0.0.1:4004\nUSER={encode_credential(USER)}\n"
        f"PASSWORD={encode_credential(PASSWORD)}\n"
    )
    cfg = read_connector_config(config)
    env = read_env({"AMTOPCON_BASE_URL": "https://a.example/", "AMTOPCON_USER": USER, "AMTOPCON_PASSWORD": PASSWORD})
    texts += [repr(cfg), str(cfg), repr(env), str(env)]
    assert cfg.password == PASSWORD and env.password == PASSWORD  # the values are there, just never shown
    assert_no_secret(texts)
    lines = [r.getMessage() for r in caplog.records if r.name == "amtopcon" and r.levelno == logging.DEBUG]
    assert lines and all(LINE.match(line) for line in lines)


async def test_one_debug_line_per_attempt(flavour: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="amtopcon")
    clock = FakeClock()
    server = ScriptedServer()
    server.plan(w.MONITOR_JOB, 503, httpx.ConnectError)
    client = make_client(flavour, server.handler, clock=clock)
    await call(client, "monitor_job", 2112)
    await close(client)
    records = [r for r in caplog.records if r.name == "amtopcon" and r.levelno == logging.DEBUG]
    found = [LINE.match(r.getMessage()) for r in records]
    assert all(found), [r.getMessage() for r in records]
    lines = [m.groupdict() for m in found if m]
    sent = server.requests
    assert len(lines) == len(sent) == 4  # Logon, then three attempts of MonitorJob
    assert [(d["method"], d["path"], d["status"], d["attempt"]) for d in lines] == [
        ("POST", "/AmtOpConService/Logon", "200", "1"),
        ("GET", "/AmtOpConService/MonitorJob", "503", "1"),
        ("GET", "/AmtOpConService/MonitorJob", "ConnectError", "2"),
        ("GET", "/AmtOpConService/MonitorJob", "200", "3"),
    ]
    assert [d["rid"] for d in lines] == [r.headers[w.H_REQUEST_ID] for r in sent]
    elapsed = [float(d["elapsed"]) for d in lines[1:]]
    assert elapsed[0] == 0.0
    assert elapsed[2] == pytest.approx(sum(clock.sleeps), abs=1e-3)
    assert elapsed == sorted(elapsed)


async def test_the_server_request_id_is_logged_when_sent(flavour: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="amtopcon")
    server = ScriptedServer()
    server.plan(w.HEARTBEAT, httpx.Response(200, json={"Status": "OK"}, headers={w.H_REQUEST_ID: "srv-42"}))
    client = make_client(flavour, server.handler)
    await call(client, "heartbeat")
    await close(client)
    (record,) = [r for r in caplog.records if r.name == "amtopcon"]
    assert "request_id=srv-42" in record.getMessage()


def test_amtopcon_log_debug_turns_on_the_logger(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    logger = logging.getLogger("amtopcon")
    handlers, level = list(logger.handlers), logger.level
    monkeypatch.setenv("AMTOPCON_LOG", "debug")
    monkeypatch.setattr(_logging, "_logging_configured", False)
    try:
        server = ScriptedServer()
        client = make_client("sync", server.handler)
        assert logger.level == logging.DEBUG
        client.monitor_job(2112)
        server.plan(w.MONITOR_JOB, 500, 500, 500, 500)
        with pytest.raises(AmtOpConError):
            client.monitor_job(2112)
        client.close()
    finally:
        for handler in logger.handlers:
            if handler not in handlers:
                logger.removeHandler(handler)
        logger.setLevel(level)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if " amtopcon DEBUG " in line]
    assert len(lines) == len(server.requests) == 6
    for line in lines:
        assert LINE.match(line.split(" amtopcon DEBUG ", 1)[1])
    assert_no_secret([err])


def test_without_amtopcon_log_nothing_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    logger = logging.getLogger("amtopcon")
    handlers, level = list(logger.handlers), logger.level
    monkeypatch.delenv("AMTOPCON_LOG", raising=False)
    monkeypatch.setattr(_logging, "_logging_configured", False)
    make_client("sync").close()
    assert logger.handlers == handlers
    assert logger.level == level


def test_no_secret_in_sys_modules_state_after_a_failure() -> None:
    """The password is only held by the client (hidden), never by module-level state."""
    client = make_client("sync", ScriptedServer().handler)
    client.monitor_job(1)
    for module in (
        "amtopcon._core.settings",
        "amtopcon._core.call",
        "amtopcon._sync.client",
        "amtopcon._wire.responses",
        "amtopcon.errors",
    ):
        state: Any = vars(sys.modules[module])
        assert_no_secret([repr({k: v for k, v in state.items() if not k.startswith("__")})])
    client.close()


def test_internal_steps_do_not_show_the_token() -> None:
    assert TOKEN not in repr(call_module.Relogon(TOKEN))
    assert TOKEN not in repr(settings.AuthState(None).token)
