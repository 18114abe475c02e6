"""openapi.yaml, the machine-readable contract, is held against amtopcon/_wire.py.

Every path, method, field, query parameter, header and error code of the wire module is
in the document, and nothing in the document is unknown to the wire module. The
document's schemas accept exactly what the wire layer's builders write and its
validators accept, so client, emulator and document cannot drift apart.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amtopcon import _wire
from amtopcon._wire import names as wire_names
from amtopcon.errors import ValidationError
from amtopcon.models import ActionResult, CompletionCode, JobStatus, Message, TaskValue

yaml = pytest.importorskip("yaml")
jsonschema_rs = pytest.importorskip("jsonschema_rs")

DOC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
DOC: dict[str, Any] = yaml.safe_load(DOC_PATH.read_text(encoding="utf-8"))


def _constants(prefix: str) -> set[str]:
    return {value for name, value in vars(wire_names).items() if name.startswith(prefix) and isinstance(value, str)}


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = DOC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in DOC["paths"].items():
        for method, op in item.items():
            yield path, method, op


@functools.cache
def _validator(name: str) -> Any:
    """A JSON Schema validator (ECMA-262 regexes, formats checked) for one component schema."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": DOC["components"]}
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)


def _valid(name: str, instance: Any) -> bool:
    return bool(_validator(name).is_valid(instance))


# --------------------------------------------------------------------------- names


def test_document_is_openapi_3_1_with_the_service_path() -> None:
    assert DOC["openapi"].startswith("3.1")
    for server in DOC["servers"]:
        assert server["url"].endswith(_wire.SERVICE_PATH.rstrip("/"))


def test_every_function_is_a_path_with_its_method_and_nothing_else() -> None:
    assert set(DOC["paths"]) == {f"/{function}" for function in _wire.FUNCTIONS}
    for function in _wire.FUNCTIONS:
        item = DOC["paths"][f"/{function}"]
        assert list(item) == [_wire.METHODS[function].lower()], function
        assert item[_wire.METHODS[function].lower()]["operationId"] == function


def test_logon_and_heartbeat_need_no_token_and_the_rest_do() -> None:
    scheme = DOC["components"]["securitySchemes"]["LogonToken"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", _wire.H_TOKEN)
    assert DOC["security"] == [{"LogonToken": []}]
    for path, _method, op in _operations():
        open_call = path.lstrip("/") in (_wire.LOGON, _wire.HEARTBEAT)
        assert (op.get("security") == []) is open_call, path


def test_field_names_are_exactly_the_wire_modules() -> None:
    used: set[str] = set()
    for node in _walk(DOC["components"]["schemas"]):
        props = node.get("properties")
        if isinstance(props, dict):
            used |= set(props)
        required = node.get("required")
        if isinstance(required, list):
            used |= set(required)
    assert used == _constants("F_")


def test_query_parameters_are_exactly_the_wire_modules() -> None:
    used = {
        _resolve(p)["name"]
        for _path, _m, op in _operations()
        for p in op.get("parameters", [])
        if _resolve(p)["in"] == "query"
    }
    assert used == _constants("Q_")
    get_messages = DOC["paths"][f"/{_wire.GET_MESSAGES}"]["get"]
    params = {_resolve(p)["name"]: _resolve(p) for p in get_messages["parameters"]}
    assert params[_wire.Q_MAX_COUNT]["schema"]["default"] == _wire.DEFAULT_MAX_COUNT
    assert params[_wire.Q_AFTER_SEQUENCE]["schema"]["default"] == 0
    assert params[_wire.Q_BATCH_REQUEST_ID]["required"] is True


def test_links_name_functions_and_query_parameters_of_the_wire_module() -> None:
    links = [
        link for node in _walk(DOC["paths"]) if isinstance(node.get("links"), dict) for link in node["links"].values()
    ]
    assert links
    for link in links:
        assert link["operationId"] in _wire.FUNCTIONS
        assert set(link["parameters"]) <= _constants("Q_")
        assert set(link["parameters"].values()) == {f"$response.body#/{_wire.F_BATCH_REQUEST_ID}"}


def test_headers_are_exactly_the_wire_modules() -> None:
    used = {DOC["components"]["securitySchemes"]["LogonToken"]["name"]}
    parts = [DOC["paths"], DOC["components"]["responses"], DOC["components"]["parameters"]]
    for node in _walk(parts):  # components/headers holds reusable headers by a local name
        if node.get("in") == "header":
            used.add(node["name"])
        headers = node.get("headers")
        if isinstance(headers, dict):
            used |= set(headers)
    assert used == {_wire.H_TOKEN, _wire.H_REQUEST_ID, _wire.H_RETRY_AFTER}
    media_types = {mt for node in _walk(DOC) if isinstance(node.get("content"), dict) for mt in node["content"]}
    assert media_types == {_wire.JSON_TYPE}


def test_error_codes_are_exactly_the_wire_modules() -> None:
    enum = DOC["components"]["schemas"]["Error"]["properties"][_wire.F_ERROR_CODE]["enum"]
    assert set(enum) == _constants("E_")
    assert len(enum) == len(set(enum))


def test_every_non_2xx_is_an_error_body_and_every_operation_documents_its_statuses() -> None:
    for path, _method, op in _operations():
        statuses = set(op["responses"])
        assert {"200", "429", "500", "503"} <= statuses, path
        if path.lstrip("/") != _wire.HEARTBEAT:
            assert {"400", "401"} <= statuses, path
        for status, response in op["responses"].items():
            schema = _resolve(response)["content"][_wire.JSON_TYPE]["schema"]
            assert (schema == {"$ref": "#/components/schemas/Error"}) is (status != "200"), (path, status)


def test_actions_and_limits_are_the_wire_modules() -> None:
    schemas = DOC["components"]["schemas"]
    actions = {schemas["StartRequest"]["properties"][_wire.F_ACTION]["const"]}
    actions |= set(schemas["StopKillRequest"]["properties"][_wire.F_ACTION]["enum"])
    assert actions == set(_wire.ACTIONS)
    assert schemas["Name"]["maxLength"] == _wire.MAX_NAME_LENGTH
    params = schemas["StartRequest"]["properties"][_wire.F_PARAMETERS]
    assert params["maxItems"] == _wire.MAX_PARAMETERS
    assert params["items"]["maxLength"] == _wire.MAX_PARAMETER_LENGTH


def test_every_schema_is_valid_json_schema_2020_12() -> None:
    for name in DOC["components"]["schemas"]:
        _validator(name)  # raises on an invalid schema or regex


def test_examples_in_the_document_are_valid_and_readable_by_the_wire_module() -> None:
    op = DOC["paths"][f"/{_wire.JOB_ACTION}"]["post"]
    examples = op["requestBody"]["content"][_wire.JSON_TYPE]["examples"]
    start = examples["start"]["value"]
    assert _valid("JobActionRequest", start)
    req = _wire.start_request_from_wire(start)
    assert req.to_wire() == start
    stop = examples["stop"]["value"]
    assert _valid("JobActionRequest", stop)
    assert _wire.read_action(stop) == ("STOP", 2112)
    answer = op["responses"]["200"]["content"][_wire.JSON_TYPE]["example"]
    assert _valid("ActionResult", answer)
    assert _wire.parse_action_result(answer).code is CompletionCode.QUEUED
    logon = DOC["paths"][f"/{_wire.LOGON}"]["post"]["requestBody"]["content"][_wire.JSON_TYPE]["example"]
    assert _valid("LogonRequest", logon)
    assert set(logon) == set(_wire.logon_request("u", "p").body or {})


# --------------------------------------------------------------------------- bodies


def test_what_the_client_sends_is_valid() -> None:
    full = _wire.StartRequest(
        "DEMO2",
        "RUN_PARAMETERTESTA",
        file_name="C:\\jobs\\x.ps1",
        run_as="ALICE",
        queue="Q1",
        parameters=("'PARAM'", "A=B"),
        task_values=(TaskValue("PRIORITY", "5"),),
    ).to_request()
    assert _valid("JobActionRequest", full.body)
    assert _valid("JobActionRequest", _wire.StartRequest("DEMO2", file_name="/x.ps1").to_request().body)
    for action in ("STOP", "KILL"):
        assert _valid("JobActionRequest", _wire.action_request(action, 2112).body)
    assert _valid("LogonRequest", _wire.logon_request("ocadm", "opconxps").body)


def test_what_the_server_side_builders_write_is_valid() -> None:
    when = datetime(2017, 5, 18, 14, 0, 14, 865000, tzinfo=timezone(timedelta(hours=2)))
    assert _valid("LogonResponse", _wire.logon_body("tok"))
    assert _valid("HeartBeatResponse", _wire.heartbeat_body())
    assert _valid("HeartBeatResponse", _wire.heartbeat_body(ok=False))
    for code in CompletionCode:
        assert _valid("ActionResult", _wire.action_result_body(ActionResult(2112, code, message=None)))
    assert _valid("ActionResult", _wire.action_result_body(ActionResult(0, 0, message="not started")))
    assert _valid("JobStatus", _wire.job_status_body(JobStatus(2112, 2)))
    full = JobStatus(
        2112, 11, None, "File not found", "DEMO2", None, when, when, datetime(2017, 5, 18, 12, 1, tzinfo=UTC)
    )
    assert _valid("JobStatus", _wire.job_status_body(full))
    page = _wire.message_page_body(2112, [Message(1, when, text="started"), Message(2, None, "ERROR", "x")], True)
    assert _valid("MessagePage", page)
    assert _valid("MessagePage", _wire.message_page_body(2112, [], False))
    for code in _constants("E_"):
        assert _valid("Error", _wire.error_body(code, "why"))
    assert not _valid("Error", _wire.error_body("NO_SUCH_CODE", "why"))


def test_what_the_document_allows_the_client_parses() -> None:
    # Minimal answers (only the required properties) are enough for the client.
    assert _wire.parse_job_status({_wire.F_BATCH_REQUEST_ID: 5, _wire.F_STATUS: 4}).code is CompletionCode.DONE
    assert _wire.parse_action_result({_wire.F_BATCH_REQUEST_ID: 5, _wire.F_STATUS: 1}).batch_request_id == 5
    page = _wire.parse_message_page(
        {_wire.F_HAS_MORE: False, _wire.F_MESSAGES: [{_wire.F_SEQUENCE: 1, _wire.F_TEXT: "x"}]}
    )
    assert page.messages[0].text == "x"
    assert _valid("MessagePage", json.loads(json.dumps({"HasMore": False, "Messages": [{"Sequence": 1, "Text": "x"}]})))


# --------------------------------------------------------------------------- rules


def _accepts(fn: Any, *args: Any) -> bool:
    try:
        fn(*args)
    except ValidationError:
        return False
    return True


_BLANKS = " \t\n\x85\xa0\u2003\u3000\ufeff"
_text = st.text(
    alphabet=st.sampled_from("aZ9_-.'= /\\:\x00\x1f\x7f")
    | st.sampled_from(_BLANKS)
    | st.characters(exclude_categories=["Cs"]),
    max_size=12,
)


@given(st.one_of(_text, st.text(st.characters(exclude_categories=["Cs"]), min_size=126, max_size=130)))
def test_the_name_schema_accepts_exactly_what_validate_name_accepts(value: str) -> None:
    assert _valid("Name", value) == _accepts(_wire.validate_name, value, "application")


@given(st.tuples(st.sampled_from(["", "C:\\", "c:/", "\\\\", "\\", "/", "Z:", "1:\\"]), _text).map("".join))
def test_the_file_name_schema_accepts_exactly_what_validate_file_name_accepts(value: str) -> None:
    assert _valid("FileName", value) == _accepts(_wire.validate_file_name, value)


@given(
    st.one_of(
        st.integers(min_value=-5, max_value=2**40),
        st.booleans(),
        st.text(alphabet=st.sampled_from("0123456789 -+\t\xa0\u0663x"), max_size=8),
        st.none(),
    )
)
def test_the_id_schema_accepts_exactly_what_validate_batch_request_id_accepts(value: object) -> None:
    assert _valid("PositiveId", value) == _accepts(_wire.validate_batch_request_id, value)


@given(st.lists(st.tuples(_text, st.text(st.characters(exclude_categories=["Cs"]), max_size=3)), max_size=3))
def test_the_task_value_schema_accepts_what_validate_task_values_accepts(pairs: list[tuple[str, str]]) -> None:
    body = [{_wire.F_NAME: name, _wire.F_VALUE: value} for name, value in pairs]
    schema_ok = all(_valid("TaskValue", item) for item in body)
    names = [name for name, _ in pairs]
    wire_ok = _accepts(_wire.validate_task_values, [TaskValue(n, v) for n, v in pairs])
    # Unique names are a rule the schema cannot state (JSON Schema has no "unique by key").
    assert wire_ok == (schema_ok and len(set(names)) == len(names))


@pytest.mark.parametrize(("value", "accepted"), [(2112.0, True), (1e3, True), (2112.5, False), (0.0, False)])
def test_a_json_number_with_no_fraction_is_an_integer_id_to_both(value: float, accepted: bool) -> None:
    # JSON Schema counts 2112.0 as an integer, so the server must too (schemathesis sends it).
    body = {_wire.F_ACTION: "STOP", _wire.F_BATCH_REQUEST_ID: value}
    assert _valid("StopKillRequest", body) is accepted
    assert _accepts(_wire.read_action, body) is accepted
