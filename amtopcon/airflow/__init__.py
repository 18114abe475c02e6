"""The Apache Airflow provider of amtopcon (`pip install 'amtopcon[airflow]'`, Airflow 3).

* `AmtOpConHook`: the connection type `amtopcon`, giving a `Client` or `AsyncClient`;
* `AmtOpConJobOperator`: start an AMT job and wait for it (deferred by default);
* `AmtOpConJobTrigger`: the deferred wait, in the triggerer's event loop;
* `AmtOpConJobSensor`: wait for a job started elsewhere, by its `BatchRequestId`.

Airflow finds the provider (and shows the connection form) through the
`apache_airflow_provider` entry point, `get_provider_info`. `import amtopcon` never
imports this package, and importing this package imports Airflow only when one of the
classes above is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from amtopcon._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from amtopcon.airflow.hooks import AmtOpConHook
    from amtopcon.airflow.operators import AmtOpConJobOperator
    from amtopcon.airflow.sensors import AmtOpConJobSensor
    from amtopcon.airflow.triggers import AmtOpConJobTrigger

__all__ = ["AmtOpConHook", "AmtOpConJobOperator", "AmtOpConJobSensor", "AmtOpConJobTrigger", "get_provider_info"]

_LAZY = {
    "AmtOpConHook": "amtopcon.airflow.hooks",
    "AmtOpConJobOperator": "amtopcon.airflow.operators",
    "AmtOpConJobSensor": "amtopcon.airflow.sensors",
    "AmtOpConJobTrigger": "amtopcon.airflow.triggers",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _field(label: str, kind: str, description: str, default: Any = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": [kind, "null"]}
    if default is not None:
        schema["default"] = default
    return {"label": label, "schema": schema, "description": description}


def get_provider_info() -> dict[str, Any]:
    """What Airflow's providers manager reads: the connection type, its form, the modules."""
    modules = {
        "hooks": ["amtopcon.airflow.hooks"],
        "operators": ["amtopcon.airflow.operators"],
        "sensors": ["amtopcon.airflow.sensors"],
        "triggers": ["amtopcon.airflow.triggers"],
    }
    return {
        "package-name": "amtopcon",
        "name": "AMTOpCon",
        "description": "Run Asysco AMT batch jobs through AMTOpCon from Apache Airflow.",
        "versions": [__version__],
        "integrations": [{"integration-name": "AMTOpCon", "tags": ["service"]}],
        **{kind: [{"integration-name": "AMTOpCon", "python-modules": mods}] for kind, mods in modules.items()},
        "connection-types": [
            {
                "connection-type": "amtopcon",
                "hook-class-name": "amtopcon.airflow.hooks.AmtOpConHook",
                "hook-name": "AMTOpCon",
                "conn-fields": {
                    "base_url": _field(
                        "Base URL",
                        "string",
                        "The whole service URL, e.g. https://amt.example.com:4004/AmtOpConService/ "
                        "(overrides Host, Port and Schema)",
                    ),
                    "tls": _field("TLS (https)", "boolean", "Use https (default) or plain http", True),
                    "verify": _field("Verify TLS certificate", "boolean", "Check the server's certificate", True),
                    "ca_bundle": _field("CA bundle", "string", "A CA bundle file to verify the server with"),
                    "timeout": _field("Timeout (s)", "number", "Seconds for one HTTP attempt", 30),
                    "total_timeout": _field("Total timeout (s)", "number", "Seconds for one call, retries included"),
                    "max_retries": _field("Max retries", "integer", "Retries of one call", 3),
                    "max_connections": _field(
                        "Max connections", "integer", "Requests in flight at once per triggerer (shared client)", 20
                    ),
                    "poll_initial_delay": _field("Poll: first check (s)", "number", "Seconds before the first check"),
                    "poll_interval": _field("Poll: interval (s)", "number", "Seconds between the first checks"),
                    "poll_backoff": _field("Poll: backoff", "number", "The factor each delay grows by (>= 1)"),
                    "poll_max_interval": _field("Poll: max interval (s)", "number", "The cap on a delay"),
                    "poll_jitter": _field("Poll: jitter", "number", "The fraction each delay is spread by"),
                    "poll_max_outage": _field(
                        "Poll: max outage (s)", "number", "Seconds of server outage a wait rides out"
                    ),
                },
                "ui-field-behaviour": {
                    "hidden-fields": [],
                    "relabeling": {"schema": "Service path", "login": "User"},
                    "placeholders": {
                        "host": "amt.example.com",
                        "port": "4004",
                        "schema": "AmtOpConService",
                        "login": "ocadm",
                    },
                },
            }
        ],
    }
