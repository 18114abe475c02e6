"""Emulator catalogs: the default one, TOML files (good and broken), scripting in Python."""

from __future__ import annotations

from pathlib import Path

import pytest

from amtopcon import CompletionCode
from amtopcon.errors import ConfigError
from amtopcon.testing import Catalog, Step
from amtopcon.testing._catalog import default_catalog_text, render, template_values

C = CompletionCode

GOOD = r"""
amt_users = ["BATCH", "Operator"]
default_queue = "MAIN"
default_concurrency = 2

[users]
ocadm = "opconxps"
api = "secret"

[queues.MAIN]
concurrency = 3

[queues.NIGHT]
concurrency = 1

[applications.FINANCE]
default_user = "FINUSER"
queue = "NIGHT"

[applications.FINANCE.jobs.CLOSE_MONTH]
final = "DONE"
description = "Month end"
steps = [
    { message = "Closing month {param[0]}", duration = 60 },
    { message = "Waiting for the bank file", duration = 300, state = "WAIT_FOR_FILE" },
    { message = "Ledger out of balance", severity = "warning" },
    { duration = 5 },
    { message = "Month closed" },
]

[applications.FINANCE.jobs.FAILS]
final = 11

[scripts.'F:\Amt\Scripts\FINANCE\CHECK.ps1']
steps = [{ message = "Check passed", duration = 2 }]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_default_catalog_carries_the_vendors_samples() -> None:
    catalog = Catalog.default()
    assert catalog.check_user("ocadm", "opconxps")
    assert not catalog.check_user("ocadm", "OPCONXPS")
    assert catalog.check_user("OCADM", "opconxps")  # user names are not case-sensitive
    jobs = catalog.applications["DEMO2"].jobs
    assert 69 <= jobs["RUN_PARAMETERTESTA"].duration <= 75
    assert 29 <= jobs["REPORTTEST01"].duration <= 31
    assert jobs["LONGRUNNINGREPORT"].duration == 3600
    assert jobs["ERRORTEST01"].final is C.ERROR
    assert jobs["ABORTTEST01"].final is C.ABORTED
    assert {s.state for s in jobs["WAITFORFILETEST"].steps} == {C.RUNNING, C.WAIT_FOR_FILE}
    assert catalog.script("F:\\Amt\\Scripts\\DEMO2\\RUN_SCRIPTTEST.ps1") is not None
    assert catalog.script("F:\\Amt\\Scripts\\DEMO2\\RUN_FILENAMETEST.ps1") is None
    assert catalog.concurrency("DEFAULT") >= 2 and catalog.concurrency("SERIAL") == 1
    assert all(len(j.steps) < 100 for j in jobs.values())  # no 10,000-message job by default
    assert "[applications.DEMO2.jobs.RUN_PARAMETERTESTA]" in default_catalog_text()


def test_each_default_catalog_is_a_fresh_copy() -> None:
    first = Catalog.default()
    first.add_job("DEMO2", "EXTRA", steps=["x"])
    assert Catalog.default().job("DEMO2", "EXTRA") is None
    copy = first.copy()
    copy.add_job("DEMO2", "MORE")
    assert first.job("DEMO2", "MORE") is None


def test_a_catalog_file_is_read(tmp_path: Path) -> None:
    catalog = Catalog.from_toml(write(tmp_path, GOOD))
    assert catalog.check_user("api", "secret")
    assert catalog.is_amt_user("operator") and catalog.is_amt_user("FINUSER") and not catalog.is_amt_user("x")
    assert catalog.queue_of("FINANCE", None) == "NIGHT"
    assert catalog.queue_of("FINANCE", "MAIN") == "MAIN"
    assert catalog.queue_of("OTHER", None) == "MAIN"
    assert catalog.concurrency("MAIN") == 3 and catalog.concurrency("UNDEFINED") == 2
    job = catalog.job("FINANCE", "CLOSE_MONTH")
    assert job is not None and job.description == "Month end" and job.duration == 365
    assert job.steps[1] == Step("Waiting for the bank file", 300.0, C.WAIT_FOR_FILE)
    assert job.steps[2].severity == "WARNING"
    assert job.steps[3].message is None
    fails = catalog.job("FINANCE", "FAILS")
    assert fails is not None and fails.final is C.ERROR and fails.steps == ()
    script = catalog.script("f:/amt/scripts/finance/check.ps1")  # Windows paths: any case, either slash
    assert script is not None and script.name == "CHECK"
    assert Catalog.from_toml_text(GOOD).job("FINANCE", "FAILS") == fails


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("surprise = 1", "surprise"),
        ("[users]\nocadm = 5", "users.ocadm"),
        ("amt_users = 'BATCH'", "amt_users"),
        ("[queues.Q]\nconcurrency = 0", "queues.Q.concurrency"),
        ("[queues.Q]\nsize = 1", "queues.Q.size"),
        ("[queues.Q]", "queues.Q.concurrency"),
        ("default_concurrency = -1", "default_concurrency"),
        ("[applications.A]\nowner = 'x'", "applications.A.owner"),
        ("[applications.A.jobs.J]\nfinal = 'RUNNING'", "applications.A.jobs.J.final"),
        ("[applications.A.jobs.J]\nfinal = 'FINISHED'", "applications.A.jobs.J.final"),
        ("[applications.A.jobs.J]\nsteps = 'hello'", "applications.A.jobs.J.steps"),
        ("[applications.A.jobs.J]\ndescription = 3", "applications.A.jobs.J.description"),
        ("[applications.A.jobs.J]\nsteps = [{ message = 'x', duration = -1 }]", "applications.A.jobs.J.steps[0]"),
        ("[applications.A.jobs.J]\nsteps = [{ duration = 'long' }]", "applications.A.jobs.J.steps[0].duration"),
        ("[applications.A.jobs.J]\nsteps = [{ state = 'DONE' }]", "applications.A.jobs.J.steps[0]"),
        ("[applications.A.jobs.J]\nsteps = [{ state = 'SLEEPY' }]", "applications.A.jobs.J.steps[0].state"),
        ("[applications.A.jobs.J]\nsteps = [{ mesage = 'typo' }]", "applications.A.jobs.J.steps[0].mesage"),
        ("[applications.A.jobs.J]\nsteps = [{ message = 'Hi {nobody}' }]", "applications.A.jobs.J.steps[0].message"),
        ("[applications.A.jobs.J]\nsteps = [{ message = 'Hi {' }]", "applications.A.jobs.J.steps[0].message"),
        ("[applications.A.jobs.J]\nsteps = [1]", "applications.A.jobs.J.steps[0]"),
        ("[scripts.'C:\\x.ps1']\nfinal = 'QUEUED'", "scripts.C:\\x.ps1.final"),
    ],
)
def test_a_broken_catalog_file_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        Catalog.from_toml(path)
    assert info.value.key == key
    assert info.value.path == str(path)
    assert key in str(info.value) and str(path) in str(info.value)


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[users]\nocadm = 'x'\nbroken = \n")
    with pytest.raises(ConfigError) as info:
        Catalog.from_toml(path)
    assert info.value.line == 3
    assert "not valid TOML" in str(info.value)


def test_a_missing_catalog_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        Catalog.from_toml(tmp_path / "nope.toml")
    assert info.value.path == str(tmp_path / "nope.toml")


def test_jobs_scripted_in_python_take_several_step_forms() -> None:
    catalog = Catalog()
    job = catalog.add_job(
        "APP",
        "JOB",
        steps=[
            "just a message",
            ("with seconds", 2),
            ("waiting", 3, "WAIT_FOR_JOB"),
            {"message": "a mapping", "duration": 1.5, "severity": "ERROR"},
            Step(None, 4),
        ],
        final=C.ABORTED,
        description="why",
    )
    assert [s.duration for s in job.steps] == [0, 2, 3, 1.5, 4]
    assert job.steps[2].state is C.WAIT_FOR_JOB
    assert job.duration == 10.5 and job.final is C.ABORTED
    assert catalog.applications["APP"].default_user == "BATCH"
    with pytest.raises(ConfigError, match="final"):
        catalog.add_job("APP", "BAD", final=C.RUNNING)
    with pytest.raises(ConfigError, match="steps"):
        catalog.add_job("APP", "BAD", steps="not a list")
    with pytest.raises(ConfigError) as info:
        catalog.add_job("APP", "BAD", steps=[("{bogus}", 1)])
    assert info.value.key == "applications.APP.jobs.BAD.steps[0].message"
    with pytest.raises(ConfigError):
        catalog.add_queue("Q", 0)


def test_message_templates_quote_the_start() -> None:
    values = template_values(
        parameters=["'PARAM'", "X=1"],
        task_values=[("PRIORITY", "5")],
        run_as="BATCH",
        submit_user="OPS",
        station="OPCON",
        queue="DEFAULT",
        application="DEMO2",
        job="J",
        file_name=None,
        batch_request_id=2112,
    )
    assert render("Value test param {parameters}", values) == "Value test param ['PARAM', X=1]"
    assert render("{param[0]} {param[1]} [{param[7]}]", values) == "'PARAM' X=1 []"
    assert render("{task_values[PRIORITY]}/{task_values[MISSING]}/", values) == "5//"
    assert render("{run_as} {submit_user} {station} {queue}", values) == "BATCH OPS OPCON DEFAULT"
    assert render("{application}/{job} #{batch_request_id} '{file_name}' {{literal}}", values) == (
        "DEMO2/J #2112 '' {literal}"
    )
    assert render("Report test 01 Value param {parameters}", {**values, "parameters": "[]"}) == (
        "Report test 01 Value param []"
    )


def test_reprs_count_in_the_right_number() -> None:
    from amtopcon.testing import Emulator, MemoryStore

    catalog = Catalog()
    assert repr(catalog) == "Catalog(0 applications, 0 jobs, 0 scripts)"
    catalog.add_job("APP", "JOB", steps=["one step"])
    assert repr(catalog).startswith("Catalog(1 application, 1 job, ")
    store = MemoryStore()
    emulator = Emulator(store=store)
    assert repr(emulator).endswith(", 0 batch requests)") and repr(store) == "MemoryStore(0 requests)"
    with emulator.client() as client:
        client.job_action("START", application="DEMO2", job="REPORTTEST01")
    assert repr(emulator).endswith(", 1 batch request)") and repr(store) == "MemoryStore(1 request)"
