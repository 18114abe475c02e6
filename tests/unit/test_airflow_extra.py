"""The Airflow extra seen from the core install (no Airflow here): it is never loaded by
`import amtopcon`, and its Airflow-free parts (connection settings, success codes, the
provider info) behave. The provider itself is tested against real Airflow in tests_airflow/."""

from __future__ import annotations

import subprocess
import sys

import pytest

from amtopcon import PollPolicy
from amtopcon.airflow import get_provider_info
from amtopcon.airflow._criteria import check_success_codes, describe_codes, succeeded
from amtopcon.airflow._settings import poll_from_dict, poll_to_dict, settings_from_connection
from amtopcon.errors import ConfigError, ValidationError


def test_import_amtopcon_never_loads_the_provider_or_airflow() -> None:
    code = (
        "import sys, amtopcon, amtopcon.testing\n"
        "for name in amtopcon.__all__: getattr(amtopcon, name)\n"
        "assert 'amtopcon.airflow' not in sys.modules and 'airflow' not in sys.modules, sorted(sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


def test_provider_info_names_the_package_the_connection_type_and_its_hook() -> None:
    info = get_provider_info()
    assert info["package-name"] == "amtopcon"  # Airflow checks it against the distribution's name
    (conn,) = info["connection-types"]
    assert conn["connection-type"] == "amtopcon"
    assert conn["hook-class-name"] == "amtopcon.airflow.hooks.AmtOpConHook"
    assert {"base_url", "tls", "verify", "ca_bundle", "poll_interval", "poll_max_outage"} <= set(conn["conn-fields"])


def test_connection_fields_make_a_base_url() -> None:
    s = settings_from_connection(
        "c", host="amt.example.com", port=4004, login="ocadm", password="pw", extra={"poll_interval": "2"}
    )
    assert s.base_url == "https://amt.example.com:4004/AmtOpConService/"
    assert s.poll == PollPolicy(interval=2.0)
    assert "pw" not in repr(s)
    plain = settings_from_connection("c", host="127.0.0.1", port=1, schema="/Svc/", extra={"tls": "false"})
    assert plain.base_url == "http://127.0.0.1:1/Svc/"
    whole = settings_from_connection("c", host=None, extra={"base_url": "https://h/x/", "ca_bundle": "/ca.pem"})
    assert whole.base_url == "https://h/x/" and whole.verify == "/ca.pem"


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ({"tls": "maybe"}, "tls"),
        ({"poll_interval": "0"}, "poll_interval"),
        ({"poll_jitter": "x"}, "poll_jitter"),
        ({"max_retries": "1.5"}, "max_retries"),
        ({"max_connections": 0}, "max_connections"),
        ({"verify": False, "ca_bundle": "/ca.pem"}, "ca_bundle"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_extra_is_a_config_error_naming_it(extra: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_connection("amt", host="h", password="secret-pw", extra=extra)
    assert caught.value.key == key
    assert "secret-pw" not in str(caught.value)


def test_no_host_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_connection("amt", host=None)
    assert caught.value.key == "host"


def test_a_poll_policy_survives_json_infinity_included() -> None:
    policy = PollPolicy(max_outage=float("inf"), max_interval=float("inf"))
    data = poll_to_dict(policy)
    assert data["max_outage"] == "inf"
    assert poll_from_dict(data) == policy
    with pytest.raises(ValidationError):
        poll_from_dict({"intervall": 1})


def test_success_codes() -> None:
    assert succeeded(4, None) and not succeeded(11, None)
    assert succeeded(11, check_success_codes({4, 11}))
    assert describe_codes(None) == "DONE (4)"
    for bad in ({2}, set(), "4", {True}):
        with pytest.raises(ValidationError) as caught:
            check_success_codes(bad)  # type: ignore[arg-type]
        assert caught.value.field == "success_codes"
