"""Every name of public-api.md imports from where it says; the placement rules of the error tree."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

import amtopcon
import amtopcon.errors

FROM_AMTOPCON = [
    "Client",
    "AsyncClient",
    "JobHandle",
    "AsyncJobHandle",
    "CompletionCode",
    "JobStatus",
    "Message",
    "MessagePage",
    "ActionResult",
    "JobResult",
    "TaskValue",
    "PollPolicy",
    "Clock",
]
FROM_ERRORS = [
    "AmtOpConError",
    "ValidationError",
    "ConfigError",
    "APIConnectionError",
    "APITimeoutError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "InternalServerError",
    "InvalidResponseError",
    "StartOutcomeUnknownError",
    "JobStartError",
    "JobFailedError",
    "WaitTimeoutError",
]
CLIENT_METHODS = ["job_action", "monitor_job", "get_messages", "heartbeat", "with_options", "from_env"]
CLIENT_METHODS += ["from_connector_config", "close"]


@pytest.mark.parametrize("name", FROM_AMTOPCON)
def test_names_of_amtopcon(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from amtopcon import {name}", namespace)
    obj = namespace[name]
    assert obj is getattr(amtopcon, name)
    assert name in amtopcon.__all__
    assert name in dir(amtopcon)
    assert inspect.getdoc(obj), f"{name} has no docstring"


@pytest.mark.parametrize("name", FROM_ERRORS)
def test_names_of_amtopcon_errors(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from amtopcon.errors import {name}", namespace)
    cls = namespace[name]
    assert isinstance(cls, type) and issubclass(cls, amtopcon.errors.AmtOpConError)
    assert name in amtopcon.errors.__all__
    assert inspect.getdoc(cls)


def test_version_and_unknown_names() -> None:
    assert isinstance(amtopcon.__version__, str) and amtopcon.__version__
    with pytest.raises(AttributeError):
        amtopcon.NoSuchThing  # noqa: B018
    with pytest.raises(ImportError):
        exec("from amtopcon import NoSuchThing", {})


@pytest.mark.parametrize("cls_name", ["Client", "AsyncClient"])
@pytest.mark.parametrize("method", CLIENT_METHODS)
def test_both_clients_have_the_same_documented_surface(cls_name: str, method: str) -> None:
    cls = getattr(amtopcon, cls_name)
    assert inspect.getdoc(getattr(cls, method)), f"{cls_name}.{method} has no docstring"


def test_the_async_client_methods_are_coroutines() -> None:
    for method in ("job_action", "monitor_job", "get_messages", "heartbeat", "aclose"):
        assert inspect.iscoroutinefunction(getattr(amtopcon.AsyncClient, method)), method
    for method in ("job_action", "monitor_job", "get_messages", "heartbeat", "close"):
        assert not inspect.iscoroutinefunction(getattr(amtopcon.Client, method)), method


def test_placement_rules() -> None:
    e = amtopcon.errors
    for name in ("StartOutcomeUnknownError", "JobStartError", "JobFailedError", "InvalidResponseError"):
        cls = getattr(e, name)
        assert cls.__bases__ == (e.AmtOpConError,), name  # directly, never through APIConnectionError
        assert not issubclass(cls, e.APIConnectionError)
        assert not issubclass(cls, e.APIStatusError)
    assert issubclass(e.ValidationError, ValueError)
    assert issubclass(e.ConfigError, e.ValidationError)
    assert issubclass(e.WaitTimeoutError, TimeoutError)
    assert issubclass(e.APITimeoutError, e.APIConnectionError)
    assert not issubclass(e.APIConnectionError, e.APIStatusError)
    for name in ("BadRequestError", "AuthenticationError", "PermissionDeniedError", "NotFoundError"):
        assert getattr(e, name).__bases__ == (e.APIStatusError,)
    for name in ("ConflictError", "RateLimitError", "InternalServerError"):
        assert getattr(e, name).__bases__ == (e.APIStatusError,)


def test_public_modules_import() -> None:
    for module in ("amtopcon", "amtopcon.errors", "amtopcon.models", "amtopcon.config", "amtopcon.polling"):
        importlib.import_module(module)


def test_import_stays_light() -> None:
    """`import amtopcon` and `amtopcon.config` load neither httpx nor cattrs."""
    code = "import sys, amtopcon, amtopcon.config; print(sorted(m for m in ('httpx', 'cattrs') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
