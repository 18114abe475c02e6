"""The emulator engine through its in-process door, with the synchronous `Client`.

Every behaviour of the wire contract that the emulator serves: job scripts on a virtual
clock, queues, STOP/KILL, 404/409/400/401, TaskId de-duplication, RunAs and FileName
failures, message paging, logon tokens.
"""

from __future__ import annotations

import hashlib
import inspect
import threading
import time
from datetime import timedelta
from typing import Any

import attrs
import httpx
import pytest

from amtopcon import Client, CompletionCode, JobStatus
from amtopcon import _wire as w
from amtopcon.errors import AuthenticationError, ConflictError, NotFoundError, ValidationError
from amtopcon.testing import BASE_URL, DEFAULT_EPOCH, Catalog, Emulator, JobScript, SpeedClock, VirtualClock
from tests._realtime import forbid_real_sleep

C = CompletionCode
PARAMETER_TEST_LOG = [
    "DEMO2 RUN_PARAMETERTEST : Script Started: RUN_PARAMETERTEST",
    " Amt PS library version: 0.49",
    " date: 2016-10-17",
    "DEMO2 RUN_PARAMETERTEST : Starting parametertest with RepParam set",
    "DEMO2 RUN_PARAMETERTEST : Starting report: PARAMETERTEST",
    "Started Rev: 1.1 AMT: 8.0.16351.50. Params: /R:2103 /USEWORKINGDIR",
    "Parameter test is started",
    "Value test param ['PARAM']",
    *[f"Parameter test is running {s} seconds" for s in range(0, 70, 10)],
    "Parameter test is ended",
    "Report execution time: 00:01:10:249",
    "Done",
    "DEMO2 RUN_PARAMETERTEST : Opening joblog succeeded",
    "DEMO2 RUN_PARAMETERTEST : 0",
    "DEMO2 RUN_PARAMETERTEST : Finished running parametertest",
    "DEMO2 RUN_PARAMETERTEST : Job finished",
]


@pytest.fixture
def emulator() -> Emulator:
    return Emulator()


@pytest.fixture
def client(emulator: Emulator) -> Client:
    return emulator.client()


def start(client: Client, job: str | None = "REPORTTEST01", **kwargs: Any) -> int:
    return client.job_action(
        "START", application=kwargs.pop("application", "DEMO2"), job=job, **kwargs
    ).batch_request_id


def poll_until_done(client: Client, brid: int, interval: float = 5.0) -> JobStatus:
    """Poll as a handle would, sleeping on the client's clock (the emulator's virtual clock)."""
    status = client.monitor_job(brid)
    while not status.is_terminal:
        client.clock.sleep(interval)
        status = client.monitor_job(brid)
    return status


def texts(client: Client, brid: int, after: int = 0) -> list[str]:
    return [m.text for m in client.get_messages(brid, after=after).messages]


def raw_http(emulator: Emulator) -> httpx.Client:
    return httpx.Client(transport=emulator.transport(), base_url=BASE_URL)


def logon(http: httpx.Client) -> str:
    answer = http.post(w.LOGON, json={w.F_USER_NAME: "ocadm", w.F_PASSWORD: "opconxps"})
    assert answer.status_code == 200
    token: str = answer.json()[w.F_TOKEN]
    return token


# --------------------------------------------------------------------------- jobs on the clock


def test_an_hour_long_job_finishes_on_the_virtual_clock_without_real_sleeping(
    emulator: Emulator, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = forbid_real_sleep(monkeypatch)  # any real sleep fails the test
    brid = start(client, "LONGRUNNINGREPORT")
    status = poll_until_done(client, brid)
    assert status.code is C.DONE
    assert status.ended_at is not None and status.started_at is not None
    assert status.ended_at - status.started_at == timedelta(hours=1)
    assert emulator.now == 3600  # polled every 5 s of virtual time: the poll at 3600 s saw it end
    # One answered status check per 5 s interval, at 0, 5, ..., 3600 (the hour-long logon
    # token expired at 3600 s too: that check was answered 401 and made again after a Logon).
    monitors = [r for r in emulator.requests if r.function == w.MONITOR_JOB and r.status == 200]
    assert len(monitors) == 3600 // 5 + 1
    assert [r.time for r in monitors] == [5.0 * i for i in range(721)]
    assert refused == []
    log = texts(client, brid)
    assert log[0] == "Long running report is started"
    assert log[-1] == "Done"


def test_the_parameter_test_writes_the_vendors_log_and_echoes_the_parameter(emulator: Emulator, client: Client) -> None:
    brid = start(client, "RUN_PARAMETERTESTA", parameters=["'PARAM'"])
    assert brid == 2112
    emulator.advance(80)
    status = client.monitor_job(brid)
    assert status.code is C.DONE and status.succeeded
    assert (status.application, status.job_name) == ("DEMO2", "RUN_PARAMETERTESTA")
    page = client.get_messages(brid)
    assert [m.text for m in page.messages] == PARAMETER_TEST_LOG
    assert [m.sequence for m in page.messages] == list(range(1, len(PARAMETER_TEST_LOG) + 1))
    assert page.has_more is False
    assert status.ended_at is not None and status.started_at is not None
    assert 69 <= (status.ended_at - status.started_at).total_seconds() <= 75


def test_status_and_messages_follow_the_clock(emulator: Emulator, client: Client) -> None:
    brid = start(client, "REPORTTEST01")
    status = client.monitor_job(brid)
    assert status.code is C.RUNNING
    assert status.submitted_at == DEFAULT_EPOCH
    assert status.started_at == DEFAULT_EPOCH
    assert status.ended_at is None and status.description is None
    emulator.advance(15)
    seen = texts(client, brid)
    assert seen[-1] == "Report test 01 is running 10 seconds"
    assert "Report test 01 user BATCH" in seen and "Report test 01 Value param []" in seen
    emulator.advance(10)
    newer = texts(client, brid, after=len(seen))
    assert newer == ["Report test 01 is running 20 seconds"]
    emulator.advance(10)
    status = client.monitor_job(brid)
    assert status.code is C.DONE
    assert status.ended_at == DEFAULT_EPOCH + timedelta(seconds=30.2)
    assert texts(client, brid, after=len(seen) + 1)[-1] == "Done"
    first = client.get_messages(brid).messages[0]
    assert first.timestamp == DEFAULT_EPOCH and first.severity == "INFO"


def test_a_step_may_show_a_waiting_state(emulator: Emulator, client: Client) -> None:
    file_job = start(client, "WAITFORFILETEST")
    job_job = start(client, "WAITFORJOBTEST")
    emulator.advance(1)
    assert client.monitor_job(file_job).code is C.WAIT_FOR_FILE
    assert client.monitor_job(job_job).code is C.WAIT_FOR_JOB
    emulator.advance(15)  # the job wait lasts 15 s, the file wait 20 s
    assert client.monitor_job(file_job).code is C.WAIT_FOR_FILE
    assert client.monitor_job(job_job).code is C.RUNNING
    emulator.advance(5)
    assert client.monitor_job(file_job).code is C.RUNNING
    assert client.monitor_job(job_job).code is C.DONE
    emulator.advance(5)
    assert client.monitor_job(file_job).code is C.DONE


@pytest.mark.parametrize(
    ("job", "code", "description"),
    [("ERRORTEST01", C.ERROR, "Report ended in error"), ("ABORTTEST01", C.ABORTED, "Aborted by the business logic")],
)
def test_sample_jobs_that_fail(
    emulator: Emulator, client: Client, job: str, code: CompletionCode, description: str
) -> None:
    brid = start(client, job)
    status = poll_until_done(client, brid)
    assert status.code is code and status.description == description
    severities = [m.severity for m in client.get_messages(brid).messages]
    assert "ERROR" in severities or "WARNING" in severities


def test_a_scripted_job_quotes_the_start(emulator: Emulator, client: Client) -> None:
    emulator.add_job(
        "FINANCE",
        "CLOSE_MONTH",
        steps=[
            ("Closing month {param[0]} ({parameters})", 10),
            {"message": "Priority {task_values[PRIORITY]}, missing '{task_values[NOPE]}'", "duration": 5},
            "Run as {run_as}, submitted by {submit_user} at {station} in {queue}",
        ],
        final="DONE",
    )
    brid = start(
        client,
        "CLOSE_MONTH",
        application="FINANCE",
        parameters=["2026-01", "X=1"],
        task_values={"PRIORITY": "5"},
        run_as="OPERATOR",
        submit_user="OPS",
        station="NIGHT",
    )
    emulator.advance(15)
    assert texts(client, brid) == [
        "Closing month 2026-01 ([2026-01, X=1])",
        "Priority 5, missing ''",
        "Run as OPERATOR, submitted by OPS at NIGHT in DEFAULT",
    ]
    assert client.monitor_job(brid).code is C.DONE


def test_batch_request_ids_increase_from_2112(client: Client) -> None:
    ids = [start(client) for _ in range(3)]
    assert ids == [2112, 2113, 2114]


# --------------------------------------------------------------------------- queues


def test_jobs_beyond_the_queue_limit_stay_queued(emulator: Emulator, client: Client) -> None:
    ids = [start(client, queue="SERIAL") for _ in range(3)]
    assert [client.monitor_job(i).code for i in ids] == [C.RUNNING, C.QUEUED, C.QUEUED]
    assert client.monitor_job(ids[1]).started_at is None
    emulator.advance(30.2)
    assert [client.monitor_job(i).code for i in ids] == [C.DONE, C.RUNNING, C.QUEUED]
    second = client.monitor_job(ids[1])
    assert second.started_at == DEFAULT_EPOCH + timedelta(seconds=30.2)
    assert texts(client, ids[2]) == []
    emulator.advance(61)
    assert [client.monitor_job(i).code for i in ids] == [C.DONE, C.DONE, C.DONE]


def test_the_default_queue_runs_four_at_once(client: Client) -> None:
    ids = [start(client, "LONGRUNNINGREPORT") for _ in range(5)]
    assert [client.monitor_job(i).code for i in ids] == [C.RUNNING] * 4 + [C.QUEUED]


def test_the_start_answer_says_queued(client: Client) -> None:
    start(client, queue="SERIAL")
    answer = client.job_action("START", application="DEMO2", job="REPORTTEST01", queue="SERIAL")
    assert answer.code is C.QUEUED
    assert answer.message == "Job 'REPORTTEST01' started in AMT Environment"


def test_an_undefined_queue_gets_the_default_concurrency(emulator: Emulator, client: Client) -> None:
    emulator.catalog.default_concurrency = 1
    ids = [start(client, queue="ADHOC") for _ in range(2)]
    assert [client.monitor_job(i).code for i in ids] == [C.RUNNING, C.QUEUED]


# --------------------------------------------------------------------------- STOP and KILL


def test_stop_of_a_queued_job_deletes_it_from_the_queue(emulator: Emulator, client: Client) -> None:
    a, b, c = (start(client, queue="SERIAL") for _ in range(3))
    answer = client.job_action("STOP", batch_request_id=b)
    assert answer.code is C.DEL_QUEUE
    status = client.monitor_job(b)
    assert status.code is C.DEL_QUEUE and status.started_at is None and status.ended_at == DEFAULT_EPOCH
    emulator.advance(31)
    assert client.monitor_job(c).code is C.RUNNING  # c moved up into b's place
    assert texts(client, b) == []
    assert client.monitor_job(a).code is C.DONE


def test_stop_of_a_running_job_aborts_it_at_its_next_step(emulator: Emulator, client: Client) -> None:
    brid = start(client, "LONGRUNNINGREPORT")
    emulator.advance(700)  # inside the step that runs from 600 s to 1200 s
    answer = client.job_action("STOP", batch_request_id=brid)
    assert answer.code is C.RUNNING
    emulator.advance(499)
    assert client.monitor_job(brid).code is C.RUNNING
    emulator.advance(1)
    status = client.monitor_job(brid)
    assert status.code is C.ABORTED
    assert status.ended_at == DEFAULT_EPOCH + timedelta(seconds=1200)
    assert texts(client, brid) == ["Long running report is started", "Long running report is running 10 minutes"]


def test_kill_ends_a_job_at_once(emulator: Emulator, client: Client) -> None:
    brid = start(client, "LONGRUNNINGREPORT")
    emulator.advance(30)
    answer = client.job_action("KILL", batch_request_id=brid)
    assert answer.code is C.KILLED
    status = client.monitor_job(brid)
    assert status.code is C.KILLED and status.ended_at == DEFAULT_EPOCH + timedelta(seconds=30)
    assert texts(client, brid) == []  # like the vendor's example: killed in its first minute, an empty log


def test_kill_after_stop_wins_and_frees_the_queue_slot(emulator: Emulator, client: Client) -> None:
    first = start(client, "LONGRUNNINGREPORT", queue="SERIAL")
    second = start(client, queue="SERIAL")
    emulator.advance(100)
    client.job_action("STOP", batch_request_id=first)
    emulator.advance(10)
    client.job_action("KILL", batch_request_id=first)
    assert client.monitor_job(first).code is C.KILLED
    status = client.monitor_job(second)
    assert status.code is C.RUNNING
    assert status.started_at == DEFAULT_EPOCH + timedelta(seconds=110)


@pytest.mark.parametrize("action", ["STOP", "KILL"])
def test_stop_or_kill_of_an_ended_job_is_a_conflict(emulator: Emulator, client: Client, action: str) -> None:
    brid = start(client, "ERRORTEST01")
    emulator.advance(10)
    with pytest.raises(ConflictError) as info:
        client.job_action(action, batch_request_id=brid)
    assert info.value.status_code == 409
    assert info.value.error_code == w.E_ACTION_NOT_ALLOWED
    assert client.monitor_job(brid).code is C.ERROR  # unchanged


def test_a_second_kill_is_a_conflict(client: Client) -> None:
    brid = start(client, "LONGRUNNINGREPORT")
    client.job_action("KILL", batch_request_id=brid)
    with pytest.raises(ConflictError):
        client.job_action("KILL", batch_request_id=brid)


# --------------------------------------------------------------------------- not found, RunAs, FileName


@pytest.mark.parametrize(("application", "job"), [("NOAPP", "REPORTTEST01"), ("DEMO2", "NOJOB")])
def test_an_undefined_job_is_not_found(emulator: Emulator, client: Client, application: str, job: str) -> None:
    with pytest.raises(NotFoundError) as info:
        client.job_action("START", application=application, job=job)
    assert info.value.error_code == w.E_JOB_NOT_FOUND
    assert emulator.batch_request_ids() == []


def test_an_unknown_batch_request_is_not_found(client: Client) -> None:
    for call in (
        lambda: client.monitor_job(9999),
        lambda: client.get_messages(9999),
        lambda: client.job_action("STOP", batch_request_id=9999),
    ):
        with pytest.raises(NotFoundError) as info:
            call()
        assert info.value.error_code == w.E_BATCH_REQUEST_NOT_FOUND


def test_a_repeated_start_with_the_same_task_id_answers_the_first_id(emulator: Emulator, client: Client) -> None:
    task_id = "8d3c7a4e-0f5e-4a53-9a43-1b2f1f0c9e11"
    first = client.job_action("START", application="DEMO2", job="REPORTTEST01", task_id=task_id)
    emulator.advance(5)
    again = client.job_action("START", application="DEMO2", job="REPORTTEST01", task_id=task_id)
    assert again.batch_request_id == first.batch_request_id
    assert emulator.batch_request_ids() == [first.batch_request_id]
    assert start(client) == first.batch_request_id + 1


def test_an_unknown_run_as_user_ends_the_job_with_99(emulator: Emulator, client: Client) -> None:
    answer = client.job_action("START", application="DEMO2", job="REPORTTEST01", run_as="NOBODY")
    assert answer.batch_request_id > 0
    assert answer.code is C.INVALID_AMT_USER
    status = client.monitor_job(answer.batch_request_id)
    assert status.code is C.INVALID_AMT_USER and status.is_terminal
    assert status.description is not None and "NOBODY" in status.description


def test_a_known_run_as_user_is_quoted(emulator: Emulator, client: Client) -> None:
    brid = start(client, run_as="operator")
    emulator.advance(1)
    assert "Report test 01 user operator" in texts(client, brid)


def test_an_unknown_file_name_ends_error_file_not_found(emulator: Emulator, client: Client) -> None:
    path = "F:\\Amt\\Scripts\\DEMO2\\RUN_FILENAMETEST.ps1"
    brid = start(client, None, file_name=path)
    status = poll_until_done(client, brid, interval=1)
    assert status.code is C.ERROR
    assert status.description == "File not found"
    assert status.job_name == "RUN_FILENAMETEST"
    assert texts(client, brid) == [
        "Error starting job []",
        "[An error occurred trying to start process 'pwsh' with working directory "
        "'F:\\\\AMT\\\\SCRIPTS\\\\DEMO2'. The system cannot find the file specified.]",
    ]


def test_a_script_file_that_exists_runs_its_script(emulator: Emulator, client: Client) -> None:
    brid = start(client, None, file_name="f:\\amt\\scripts\\demo2\\run_scripttest.ps1", parameters=["A=1"])
    status = poll_until_done(client, brid)
    assert status.code is C.DONE and status.job_name == "RUN_SCRIPTTEST"
    assert "DEMO2 RUN_SCRIPTTEST : Parameters [A=1]" in texts(client, brid)


def test_a_file_name_overrides_the_job_definition(emulator: Emulator, client: Client) -> None:
    brid = start(client, "NOJOB", file_name="F:\\Amt\\Scripts\\DEMO2\\RUN_SCRIPTTEST.ps1")
    assert client.monitor_job(brid).job_name == "NOJOB"
    assert poll_until_done(client, brid).code is C.DONE


# --------------------------------------------------------------------------- messages


def test_messages_are_paged_and_capped() -> None:
    emulator = Emulator(message_cap=50)
    emulator.add_job("BIG", "LOG", steps=[(f"line {i}", 0.01) for i in range(120)])
    client = emulator.client()
    brid = start(client, "LOG", application="BIG")
    emulator.advance(0.305)  # messages at 0.00, 0.01, ..., 0.30 s so far
    partial = client.get_messages(brid)
    assert len(partial.messages) == 31 and partial.has_more is False
    emulator.advance(10)
    first = client.get_messages(brid, max_count=1000)
    assert len(first.messages) == 50 and first.has_more is True
    second = client.get_messages(brid, after=50, max_count=30)
    assert [m.sequence for m in second.messages] == list(range(51, 81)) and second.has_more is True
    rest = client.get_messages(brid, after=80)
    assert [m.text for m in rest.messages][-1] == "line 119" and rest.has_more is False
    assert client.get_messages(brid, after=500).messages == ()


def test_following_ten_thousand_messages_page_by_page_reads_each_message_once(
    emulator: Emulator, client: Client
) -> None:
    # What it costs per call (a page's worth, not the log's) is measured in benchmarks/emulator.py.
    emulator.add_job("BIG", "LOG10K", steps=[(f"line {i}", 0.01) for i in range(10_000)])
    brid = start(client, "LOG10K", application="BIG")
    seen: list[int] = []
    status = client.monitor_job(brid)
    while True:  # follow the running job, as a handle does: small pages, each message once
        page = client.get_messages(brid, after=len(seen), max_count=200)
        seen.extend(m.sequence for m in page.messages)
        if status.is_terminal and not page.has_more:
            break
        if not page.has_more:
            client.clock.sleep(1.0)
            status = client.monitor_job(brid)
    assert seen == list(range(1, 10_001))  # every message, in order, each exactly once
    reads = [r for r in emulator.requests if r.function == w.GET_MESSAGES]
    afters = [int(r.query[w.Q_AFTER_SEQUENCE]) for r in reads]
    assert afters[0] == 0 and afters == sorted(afters)  # each read asked only for what came after
    assert all(r.status == 200 and r.query[w.Q_MAX_COUNT] == "200" for r in reads)
    # The job writes 100 messages per second for 100 s; pages of up to 200 and a check each
    # second: about one read per second of the job plus the full pages, not one per message.
    assert 100 <= len(reads) <= 100 + 10_000 // 200 + 2
    assert emulator.now == pytest.approx(100, abs=1.0)


# --------------------------------------------------------------------------- authentication


def test_heartbeat_needs_no_token_and_reports_availability(emulator: Emulator, client: Client) -> None:
    with raw_http(emulator) as http:
        answer = http.get(w.HEARTBEAT)
        assert answer.status_code == 200 and answer.json() == {w.F_STATUS: w.HEARTBEAT_OK}
    assert client.heartbeat() is True
    emulator.available = False
    assert client.heartbeat() is False


def test_calls_without_a_valid_token_are_refused(emulator: Emulator) -> None:
    with raw_http(emulator) as http:
        for headers in ({}, {w.H_TOKEN: "forged"}):
            answer = http.get(w.MONITOR_JOB, params={w.Q_BATCH_REQUEST_ID: 2112}, headers=headers)
            assert answer.status_code == 401
            assert answer.json()[w.F_ERROR_CODE] == w.E_AUTHENTICATION_FAILED


def test_a_wrong_password_is_refused(emulator: Emulator) -> None:
    client = emulator.client(password="wrong")
    with pytest.raises(AuthenticationError) as info:
        client.monitor_job(2112)
    assert info.value.error_code == w.E_AUTHENTICATION_FAILED
    assert "wrong" not in str(info.value)
    logon_requests = [r for r in emulator.requests if r.function == w.LOGON]
    assert len(logon_requests) == 1  # a 401 from Logon is final


def test_an_expired_token_is_renewed_transparently(emulator: Emulator, client: Client) -> None:
    brid = start(client)
    emulator.advance(emulator.token_ttl + 1)
    assert client.monitor_job(brid).code is C.DONE
    statuses = [(r.function, r.status) for r in emulator.requests]
    assert statuses == [
        (w.LOGON, 200),
        (w.JOB_ACTION, 200),
        (w.MONITOR_JOB, 401),
        (w.LOGON, 200),
        (w.MONITOR_JOB, 200),
    ]
    emulator.expire_tokens()
    assert client.monitor_job(brid).code is C.DONE
    assert [r.function for r in emulator.requests].count(w.LOGON) == 3


def test_tokens_are_stored_only_as_hashes(emulator: Emulator) -> None:
    with raw_http(emulator) as http:
        token = logon(http)
    assert emulator.store.get_token(token) is None
    found = emulator.store.get_token(hashlib.sha256(token.encode()).hexdigest())
    assert found is not None and found[0] == "ocadm"
    assert found[1] == emulator.now + emulator.token_ttl


# --------------------------------------------------------------------------- the contract's 400s


def _bad_requests(token: str) -> list[tuple[str, str, dict[str, Any]]]:
    good = {
        w.F_ACTION: "START",
        w.F_TASK_ID: "8d3c7a4e-0f5e-4a53-9a43-1b2f1f0c9e11",
        w.F_APPLICATION: "DEMO2",
        w.F_JOB_NAME: "REPORTTEST01",
    }
    return [
        ("POST", w.JOB_ACTION, {"json": {**good, w.F_APPLICATION: None}}),
        ("POST", w.JOB_ACTION, {"json": {**good, w.F_JOB_NAME: None}}),
        ("POST", w.JOB_ACTION, {"json": {**good, w.F_JOB_NAME: " REPORTTEST01"}}),
        ("POST", w.JOB_ACTION, {"json": {**good, w.F_FILE_NAME: "relative\\path.ps1"}}),
        ("POST", w.JOB_ACTION, {"json": {**good, w.F_TASK_ID: "not-a-uuid"}}),
        ("POST", w.JOB_ACTION, {"json": {**good, w.F_PARAMETERS: "not a list"}}),
        ("POST", w.JOB_ACTION, {"json": {**good, w.F_PARAMETERS: ["x"] * 257}}),
        ("POST", w.JOB_ACTION, {"json": {**good, w.F_TASK_VALUES: [{w.F_NAME: "A", w.F_VALUE: "1"}] * 2}}),
        ("POST", w.JOB_ACTION, {"json": {**good, w.F_ACTION: "PAUSE"}}),
        ("POST", w.JOB_ACTION, {"json": {w.F_ACTION: "STOP", w.F_BATCH_REQUEST_ID: "abc"}}),
        ("POST", w.JOB_ACTION, {"json": {w.F_ACTION: "KILL", w.F_BATCH_REQUEST_ID: 0}}),
        ("POST", w.JOB_ACTION, {"json": ["START"]}),
        ("POST", w.JOB_ACTION, {"content": b"{not json", "headers": {w.H_CONTENT_TYPE: w.JSON_TYPE}}),
        ("GET", w.MONITOR_JOB, {"params": {w.Q_BATCH_REQUEST_ID: "0"}}),
        ("GET", w.MONITOR_JOB, {"params": {}}),
        ("GET", w.GET_MESSAGES, {"params": {w.Q_BATCH_REQUEST_ID: "2112", w.Q_MAX_COUNT: "0"}}),
        ("GET", w.GET_MESSAGES, {"params": {w.Q_BATCH_REQUEST_ID: "2112", w.Q_AFTER_SEQUENCE: "-1"}}),
        ("POST", w.LOGON, {"json": {w.F_USER_NAME: "ocadm"}}),
    ]


def test_requests_that_break_the_contract_get_400(emulator: Emulator, client: Client) -> None:
    start(client)  # 2112 exists, so only the broken part can be the reason
    with raw_http(emulator) as http:
        token = logon(http)
        for method, function, kwargs in _bad_requests(token):
            headers = {w.H_TOKEN: token, **kwargs.pop("headers", {})}
            answer = http.request(method, function, headers=headers, **kwargs)
            assert answer.status_code == 400, (function, kwargs, answer.text)
            assert answer.json()[w.F_ERROR_CODE] == w.E_INVALID_REQUEST
            assert answer.json()[w.F_MESSAGE]
    assert emulator.batch_request_ids() == [2112]


def test_unknown_functions_and_wrong_methods_are_refused(emulator: Emulator) -> None:
    with raw_http(emulator) as http:
        assert http.get("NoSuchFunction").status_code == 404
        wrong = http.get(w.JOB_ACTION)
        assert wrong.status_code == 405 and wrong.headers["Allow"] == "POST"
        assert http.get(w.HEARTBEAT.lower()).status_code == 404  # function names are case-sensitive


def test_answers_echo_the_request_id(emulator: Emulator) -> None:
    with raw_http(emulator) as http:
        answer = http.get(w.HEARTBEAT, headers={w.H_REQUEST_ID: "abc-123"})
        assert answer.headers[w.H_REQUEST_ID] == "abc-123"
        assert answer.headers[w.H_CONTENT_TYPE] == w.JSON_TYPE
        assert http.get(w.HEARTBEAT).headers[w.H_REQUEST_ID]


# --------------------------------------------------------------------------- what was received


def test_requests_are_recorded_with_the_password_masked(emulator: Emulator, client: Client) -> None:
    emulator.advance(3)
    client.job_action("START", application="DEMO2", job="REPORTTEST01", parameters=["A=1"], queue="SERIAL")
    logon_request, start_request = emulator.requests
    assert logon_request.function == w.LOGON and logon_request.method == "POST"
    assert logon_request.body == {w.F_USER_NAME: "ocadm", w.F_PASSWORD: "***"}
    assert "opconxps" not in repr(emulator.requests)
    assert start_request.function == w.JOB_ACTION and start_request.time == 3
    assert start_request.body[w.F_PARAMETERS] == ["A=1"]
    assert start_request.body[w.F_QUEUE] == "SERIAL"
    assert start_request.header(w.H_TOKEN)
    assert start_request.header(w.H_REQUEST_ID)
    assert start_request.status == 200


def test_recorded_requests_show_a_hash_of_the_logon_token_never_the_token(emulator: Emulator) -> None:
    with raw_http(emulator) as http:
        tokens = [logon(http), logon(http)]
        for token in (*tokens, tokens[0]):
            answer = http.get(w.MONITOR_JOB, params={w.Q_BATCH_REQUEST_ID: 2112}, headers={w.H_TOKEN: token})
            assert answer.status_code == 404  # the token was accepted; no job 2112 yet
    recorded = [r.header(w.H_TOKEN) for r in emulator.requests if r.function == w.MONITOR_JOB]
    digests = ["sha256:" + hashlib.sha256(token.encode()).hexdigest()[:12] for token in tokens]
    assert recorded == [digests[0], digests[1], digests[0]]  # the same token shows the same value
    assert digests[0] != digests[1]
    everything = repr(emulator.requests) + repr([attrs.asdict(r) for r in emulator.requests])
    for secret in (*tokens, "opconxps"):
        assert secret not in everything
    assert "***" in everything  # the passwords of the two Logons, masked


def test_direct_inspection_of_an_unknown_or_bad_id_raises_typed_errors(emulator: Emulator, client: Client) -> None:
    brid = start(client)
    for method in (emulator.status, emulator.messages):
        with pytest.raises(NotFoundError) as unknown:
            method(999)
        assert unknown.value.batch_request_not_found and unknown.value.status_code == 404
        assert "999" in str(unknown.value)
        for bad in ("x", 0, -3, None, 1.5, True):
            with pytest.raises(ValidationError) as info:
                method(bad)  # type: ignore[operator]
            assert info.value.field == "batch_request_id" and repr(bad) in str(info.value)
    for after in (-1, "3", None, 2.0):
        with pytest.raises(ValidationError) as info:
            emulator.messages(brid, after=after)  # type: ignore[arg-type]
        assert info.value.field == "after"
    # The same unknown id through the client raises the same error class.
    with pytest.raises(NotFoundError) as wire:
        client.monitor_job(999)
    assert wire.value.batch_request_not_found


@pytest.mark.parametrize("seconds", ["x", -5, -0.1, float("nan"), float("inf"), None, True, 10**400])
def test_advance_refuses_anything_but_seconds_forward(emulator: Emulator, seconds: Any) -> None:
    with pytest.raises(ValidationError) as info:
        emulator.advance(seconds)
    assert info.value.field == "seconds" and isinstance(info.value, ValueError)
    assert repr(seconds)[:20] in str(info.value)
    assert emulator.now == 0  # the clock did not move
    assert emulator.advance(0) == 0 and emulator.advance(2) == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"token_ttl": "x"}, "token_ttl"),
        ({"token_ttl": 0}, "token_ttl"),
        ({"token_ttl": -1}, "token_ttl"),
        ({"token_ttl": float("nan")}, "token_ttl"),
        ({"message_cap": 0}, "message_cap"),
        ({"message_cap": "10"}, "message_cap"),
        ({"catalog": {"DEMO2": {}}}, "catalog"),
        ({"clock": 12.0}, "clock"),
    ],
)
def test_bad_emulator_settings_are_validation_errors_naming_them(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        Emulator(**kwargs)
    assert info.value.field == field and field in str(info.value)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda f: f.fail_next("JobAction", 503), "function"),
        (lambda f: f.fail_next(None, 503), "function"),
        (lambda f: f.fail_next(w.MONITOR_JOB, 200), "status"),
        (lambda f: f.fail_next(w.MONITOR_JOB, "503"), "status"),
        (lambda f: f.fail_next(w.MONITOR_JOB, 503, times=0), "times"),
        (lambda f: f.fail_next(w.MONITOR_JOB, 503, times=1.5), "times"),
        (lambda f: f.fail_next(w.MONITOR_JOB, 503, retry_after=-1), "retry_after"),
        (lambda f: f.fail_next(w.MONITOR_JOB, 503, retry_after=[7]), "retry_after"),
        (lambda f: f.fail_next(w.MONITOR_JOB, 503, retry_after="7\r\nX-Evil: 1"), "retry_after"),
        (lambda f: f.delay_next(w.MONITOR_JOB, -1), "seconds"),
        (lambda f: f.delay_next(w.MONITOR_JOB, "soon"), "seconds"),
        (lambda f: f.delay_next(w.MONITOR_JOB, float("inf")), "seconds"),
        (lambda f: f.delay_next("Monitor", 1), "function"),
        (lambda f: f.drop_next("GetMessage"), "function"),
    ],
)
def test_bad_fault_arguments_are_validation_errors_naming_them(emulator: Emulator, call: Any, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        call(emulator.faults)
    assert info.value.field == field and field in str(info.value)
    assert emulator.faults.pending() == []  # nothing half-added


def test_direct_inspection_matches_the_wire(emulator: Emulator, client: Client) -> None:
    brid = start(client)
    emulator.advance(12)
    assert emulator.status(brid) == client.monitor_job(brid)
    assert tuple(emulator.messages(brid)) == client.get_messages(brid).messages


# --------------------------------------------------------------------------- clocks


def test_virtual_clock_moves_only_when_told() -> None:
    clock = VirtualClock()
    assert clock.now() == 0
    clock.sleep(2.5)
    assert clock.now() == 2.5
    assert clock.advance(1) == 3.5
    assert clock.time() == DEFAULT_EPOCH.timestamp() + 3.5
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    with pytest.raises(ValidationError, match="VirtualClock") as info:
        Emulator(clock=SpeedClock(speed=10)).advance(1)
    assert info.value.field == "clock"


def test_speed_clock_runs_real_time_faster() -> None:
    origin = time.time() - 10
    clock = SpeedClock(speed=6, origin=origin)
    assert 59 <= clock.now() <= 70
    assert clock.epoch.timestamp() == pytest.approx(origin)
    emulator = Emulator(clock=SpeedClock(speed=2000))
    client = emulator.client()
    brid = start(client)
    status = poll_until_done(client, brid, interval=10)  # 10 s of AMT time: 5 ms of real sleep
    assert status.code is C.DONE
    with pytest.raises(ValueError):
        SpeedClock(speed=0)


def test_a_client_closes_the_pool_the_emulator_made_for_it_and_leaves_yours_open(emulator: Emulator) -> None:
    with emulator.client() as client:
        assert client.heartbeat()
        copy = client.with_options(max_retries=0)
        copy.close()  # a copy shares the pool: closing it leaves the pool open
        assert copy.heartbeat()
    assert client._http.is_closed
    with pytest.raises(ValidationError):
        emulator.client(max_retries=-1)  # a refused override leaves nothing open either
    yours = httpx.Client(transport=emulator.transport())
    with emulator.client(http_client=yours) as client:
        assert client.heartbeat()
    assert not yours.is_closed
    yours.close()


# --------------------------------------------------------------------------- the request log


def _heartbeats(emulator: Emulator, n: int) -> None:
    for _ in range(n):
        emulator.handle("GET", "/AmtOpConService/" + w.HEARTBEAT, {}, {}, b"")


def test_the_request_log_keeps_the_latest_10000_requests_by_default_and_counts_them_all() -> None:
    emulator = Emulator()
    _heartbeats(emulator, 10_250)
    kept = emulator.requests
    assert len(kept) == 10_000 and emulator.request_count == 10_250
    assert all(r.function == w.HEARTBEAT for r in kept)


def test_the_request_log_bound_is_a_setting_and_none_keeps_every_request() -> None:
    small = Emulator(request_log=3)
    with small.client() as client:
        job = client.start("DEMO2", "REPORTTEST01")
        for _ in range(4):
            client.monitor_job(job.batch_request_id)
    assert [r.function for r in small.requests] == [w.MONITOR_JOB] * 3  # the latest three
    assert small.request_count == 6  # Logon, START and four checks
    every = Emulator(request_log=None)
    _heartbeats(every, 10_250)
    assert len(every.requests) == 10_250
    with pytest.raises(ValidationError) as info:
        Emulator(request_log=-1)
    assert info.value.field == "request_log"


def test_add_job_takes_catalog_add_jobs_parameters_and_runs_under_the_emulators_lock() -> None:
    held_elsewhere: list[bool] = []

    class Watching(Catalog):
        def add_job(self, *args: Any, **kwargs: Any) -> JobScript:
            # another thread cannot take the emulator's lock while add_job runs
            probe = threading.Thread(target=lambda: held_elsewhere.append(not emulator._lock.acquire(blocking=False)))
            probe.start()
            probe.join()
            return super().add_job(*args, **kwargs)

    emulator = Emulator(catalog=Watching())
    script = emulator.add_job("APP", "JOB", steps=[("hello", 1)], final=C.ERROR, description="d")
    assert held_elsewhere == [True]
    assert emulator.catalog.job("APP", "JOB") is script
    assert list(inspect.signature(emulator.add_job).parameters) == list(
        inspect.signature(Catalog().add_job).parameters
    )
    assert "Requests already started keep the script" in (emulator.add_job.__doc__ or "")
