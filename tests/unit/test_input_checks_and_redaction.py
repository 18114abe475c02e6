"""Bad input is a typed error naming what was wrong; secrets do not ride along on errors;
the contract's names live only in the wire module."""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import httpx
import pytest

from amtopcon import Client, CompletionCode
from amtopcon import _wire as w
from amtopcon._wire import names as wire_names
from amtopcon.config import encode_credential, read_connector_config
from amtopcon.errors import AuthenticationError, ConfigError, InternalServerError, NotFoundError, ValidationError
from tests._fake import ScriptedServer

BASE = "https://amt.test/AmtOpConService/"
PASSWORD = "s3cret-pw"
TOKEN = "tok-abc-123"


def _config(tmp_path: Path, address: str, interval: str = "5") -> Path:
    path = tmp_path / "Connector.config"
    path.write_text(
        "[CONNECTOR]\n"
        f"STATUS_CHECK_POLL_INTERVAL={interval}\n"
        "[AMT BATCH SERVER]\n"
        f"SERVER_ADDRESS={address}\n"
        "SERVER_USE_TLS=False\n"
        f"USER={encode_credential('ocadm')}\n"
        f"PASSWORD={encode_credential('opconxps')}\n"
    )
    return path


@pytest.mark.parametrize("address", ["host:notaport", "[::1", "h:99999", "h:0", "-bad:1", "a b:1"])
def test_bad_server_address_names_key_and_line(tmp_path: Path, address: str) -> None:
    with pytest.raises(ConfigError) as info:
        Client.from_connector_config(_config(tmp_path, address))
    assert info.value.key == "SERVER_ADDRESS"
    assert info.value.line == 4


@pytest.mark.parametrize("address", ["amt.example.com:4004", "127.0.0.1:4004", "[::1]:4004", "amthost"])
def test_good_server_addresses(tmp_path: Path, address: str) -> None:
    cfg = read_connector_config(_config(tmp_path, address))
    assert cfg.base_url == f"http://{address}{w.SERVICE_PATH}"


def test_zero_poll_interval_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        read_connector_config(_config(tmp_path, "h:1", interval="0"))
    assert info.value.key == "STATUS_CHECK_POLL_INTERVAL"
    assert info.value.line == 2


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"AMTOPCON_BASE_URL": "garbage"}, "AMTOPCON_BASE_URL"),
        ({"AMTOPCON_BASE_URL": "ftp://h/x/"}, "AMTOPCON_BASE_URL"),
        ({"AMTOPCON_BASE_URL": "http://h:notaport/"}, "AMTOPCON_BASE_URL"),
        ({"AMTOPCON_SERVER_ADDRESS": "h:bad"}, "AMTOPCON_SERVER_ADDRESS"),
        ({"AMTOPCON_BASE_URL": "https://h/AmtOpConService/", "AMTOPCON_TIMEOUT": "0"}, "AMTOPCON_TIMEOUT"),
    ],
)
def test_bad_environment_names_the_variable(env: dict[str, str], key: str) -> None:
    environ = {"AMTOPCON_USER": "ocadm", "AMTOPCON_PASSWORD": "pw", **env}
    with pytest.raises(ConfigError) as info:
        Client.from_env(environ)
    assert info.value.key == key


def test_with_options_refuses_pool_settings() -> None:
    with Client(BASE, username="u", password="p") as client:
        for name, value in (("verify", False), ("proxy", "http://127.0.0.1:3128")):
            with pytest.raises(ValidationError) as info:
                client.with_options(**{name: value})
            assert info.value.field == name
        assert client.with_options(timeout=5).timeout.read == 5


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"proxy": "garbage://x"}, "proxy"),
        ({"proxy": 12}, "proxy"),
        ({"headers": {"X-A": 1}}, "headers"),
        ({"headers": {"X-A": "a\r\nb"}}, "headers"),
        ({"headers": ["X-A"]}, "headers"),
    ],
)
def test_bad_client_arguments_are_typed_errors(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        Client(BASE, username="u", password="p", **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_completion_code_from_a_non_integer_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as info:
        CompletionCode("DONE")  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)
    assert info.value.field == "code"


def _client(handler: httpx.MockTransport) -> Client:
    return Client(BASE, username="ocadm", password=PASSWORD, http_client=httpx.Client(transport=handler))


def _all_text(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    parts = [str(exc), repr(exc), repr(pickle.loads(pickle.dumps(exc)).__dict__)]
    if response is not None:
        request = response.request
        parts += [repr(dict(request.headers)), request.content.decode("utf-8", "replace"), response.text]
    return "\n".join(parts)


def test_a_refused_logon_keeps_no_password_on_its_response() -> None:
    server = ScriptedServer(password="another-password")  # the Logon is refused: 401 AUTHENTICATION_FAILED
    client = _client(httpx.MockTransport(server.handler))
    with pytest.raises(AuthenticationError) as info:
        client.monitor_job(2112)
    assert info.value.response is not None
    assert info.value.response.status_code == 401
    assert PASSWORD not in _all_text(info.value)


def test_a_failed_call_keeps_no_token_on_its_response() -> None:
    server = ScriptedServer(password=PASSWORD, token=TOKEN, fixed_token=True).plan(
        w.MONITOR_JOB,
        httpx.Response(500, json=w.error_body("INTERNAL_ERROR", "boom"), headers={"Content-Encoding": "identity"}),
    )
    client = _client(httpx.MockTransport(server.handler)).with_options(max_retries=0)
    with pytest.raises(InternalServerError) as info:
        client.monitor_job(2112)
    response = info.value.response
    assert response is not None
    assert response.request.headers[w.H_TOKEN] == "***"
    assert response.json()[w.F_MESSAGE] == "boom"
    assert str(response.request.url).endswith("MonitorJob?batchRequestId=2112")
    assert TOKEN not in _all_text(info.value)


def test_not_found_error_tells_which_404() -> None:
    job = NotFoundError("x", status_code=404, error_code=w.E_JOB_NOT_FOUND)
    brid = NotFoundError("x", status_code=404, error_code=w.E_BATCH_REQUEST_NOT_FOUND)
    other = NotFoundError("x", status_code=404)
    assert (job.job_not_found, job.batch_request_not_found) == (True, False)
    assert (brid.job_not_found, brid.batch_request_not_found) == (False, True)
    assert (other.job_not_found, other.batch_request_not_found) == (False, False)


def _distinctive(value: str) -> bool:
    # single words ("Message", "Status", "Station") are also plain English and class names
    return sum(c.isupper() for c in value) > 1 or "_" in value or "-" in value or value[:1].islower()


_CONTRACT_NAMES = {
    value
    for name, value in vars(wire_names).items()
    if name.isupper()
    and isinstance(value, str)
    and len(value) > 3
    and name.split("_", 1)[0] in {"F", "Q", "H", "E", "LOGON", "HEARTBEAT", "JOB", "MONITOR", "GET", "SERVICE"}
    and name != "JSON_TYPE"
    and _distinctive(value)
}
# The job log OpCon users know labels the id "BatchRequestId": a display label, not a field.
_DISPLAY_LABELS = {("cli", "BatchRequestId")}


def test_contract_names_appear_only_in_the_wire_package() -> None:
    root = Path(__file__).resolve().parents[2] / "amtopcon"
    offenders = []
    for path in root.rglob("*.py"):
        if path.parent.name == "_wire":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and node.value in _CONTRACT_NAMES
                and (path.parent.name, node.value) not in _DISPLAY_LABELS
            ):
                offenders.append(f"{path.relative_to(root.parent)}:{node.lineno}: {node.value!r}")
    assert {"BatchRequestId", "MonitorJob", "X-AMT-LogonToken", "afterSequence", "JOB_NOT_FOUND"} <= _CONTRACT_NAMES
    assert offenders == [], "\n".join(offenders)
