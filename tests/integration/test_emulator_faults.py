"""Fault injection: what a downstream test can make the emulator do, and how the client copes."""

from __future__ import annotations

import httpx
import pytest

from amtopcon import Client, CompletionCode
from amtopcon import _wire as w
from amtopcon.errors import (
    AuthenticationError,
    InternalServerError,
    RateLimitError,
    StartOutcomeUnknownError,
)
from amtopcon.testing import BASE_URL, Emulator

C = CompletionCode


@pytest.fixture
def emulator() -> Emulator:
    return Emulator()


@pytest.fixture
def client(emulator: Emulator) -> Client:
    return emulator.client()


def calls(emulator: Emulator, function: str) -> list[int | None]:
    return [r.status for r in emulator.requests if r.function == function]


def test_fail_next_with_retry_after_is_retried_by_the_client(emulator: Emulator, client: Client) -> None:
    emulator.faults.fail_next(w.JOB_ACTION, 503, retry_after=2)
    answer = client.job_action("START", application="DEMO2", job="REPORTTEST01")
    assert calls(emulator, w.JOB_ACTION) == [503, 200]
    assert emulator.batch_request_ids() == [answer.batch_request_id]  # the refused attempt queued nothing
    starts = [r for r in emulator.requests if r.function == w.JOB_ACTION]
    assert starts[1].time - starts[0].time == 2  # Retry-After honoured, on the virtual clock
    assert starts[0].body[w.F_TASK_ID] == starts[1].body[w.F_TASK_ID]  # one TaskId per logical START


def test_fail_next_answers_the_contracts_error_shape(emulator: Emulator) -> None:
    expected = {
        400: w.E_INVALID_REQUEST,
        401: w.E_AUTHENTICATION_FAILED,
        403: w.E_NOT_AUTHORIZED,
        409: w.E_ACTION_NOT_ALLOWED,
        429: w.E_TOO_MANY_REQUESTS,
        500: w.E_INTERNAL_ERROR,
        502: w.E_INTERNAL_ERROR,
        503: w.E_SERVER_BUSY,
    }
    with httpx.Client(transport=emulator.transport(), base_url=BASE_URL) as http:
        for status, code in expected.items():
            emulator.faults.fail_next(w.HEARTBEAT, status, retry_after=7)
            answer = http.get(w.HEARTBEAT)
            assert answer.status_code == status
            assert answer.json()[w.F_ERROR_CODE] == code
            assert answer.headers[w.H_RETRY_AFTER] == "7"
        emulator.faults.fail_next(w.HEARTBEAT, 404)
        assert http.get(w.HEARTBEAT).json()[w.F_ERROR_CODE] == w.E_BATCH_REQUEST_NOT_FOUND
        emulator.faults.fail_next(w.JOB_ACTION, 404)
        assert http.post(w.JOB_ACTION, json={}).json()[w.F_ERROR_CODE] == w.E_JOB_NOT_FOUND
        assert http.get(w.HEARTBEAT).status_code == 200  # each fault is used once


def test_fail_next_times_exhausts_the_retries(emulator: Emulator) -> None:
    client = emulator.client(max_retries=2)
    emulator.faults.fail_next(w.MONITOR_JOB, 503, times=5)
    with pytest.raises(InternalServerError) as info:
        client.monitor_job(2112)
    assert info.value.status_code == 503 and info.value.error_code == w.E_SERVER_BUSY
    assert info.value.attempts == 3
    assert len(emulator.faults.pending()) == 2
    emulator.faults.clear()
    assert emulator.faults.pending() == []


def test_rate_limiting_is_typed(emulator: Emulator) -> None:
    client = emulator.client(max_retries=0)
    emulator.faults.fail_next(w.GET_MESSAGES, 429, retry_after=3)
    with pytest.raises(RateLimitError) as info:
        client.get_messages(2112)
    assert info.value.retry_after == 3 and info.value.error_code == w.E_TOO_MANY_REQUESTS


def test_a_500_on_start_is_an_unknown_outcome(emulator: Emulator, client: Client) -> None:
    emulator.faults.fail_next(w.JOB_ACTION, 500)
    with pytest.raises(StartOutcomeUnknownError) as info:
        client.job_action("START", application="DEMO2", job="REPORTTEST01")
    assert info.value.task_id
    assert calls(emulator, w.JOB_ACTION) == [500]  # never resent


def test_a_start_dropped_after_processing_is_unknown_yet_queued(emulator: Emulator, client: Client) -> None:
    emulator.faults.drop_next(w.JOB_ACTION, after_processing=True)
    with pytest.raises(StartOutcomeUnknownError) as info:
        client.job_action("START", application="DEMO2", job="REPORTTEST01")
    assert calls(emulator, w.JOB_ACTION) == [None]  # one attempt, no answer, not resent
    [brid] = emulator.batch_request_ids()  # ... yet the job was queued
    record = emulator.store.find_by_task_id(info.value.task_id)
    assert record is not None and record.batch_request_id == brid
    # A server that de-duplicates by TaskId answers the repeated START with the first id.
    again = client.job_action("START", application="DEMO2", job="REPORTTEST01", task_id=info.value.task_id)
    assert again.batch_request_id == brid
    assert emulator.batch_request_ids() == [brid]


def test_a_start_dropped_before_processing_is_retried(emulator: Emulator, client: Client) -> None:
    emulator.faults.drop_next(w.JOB_ACTION, after_processing=False)
    answer = client.job_action("START", application="DEMO2", job="REPORTTEST01")
    assert calls(emulator, w.JOB_ACTION) == [None, 200]
    assert emulator.batch_request_ids() == [answer.batch_request_id]


def test_a_dropped_read_is_retried(emulator: Emulator, client: Client) -> None:
    brid = client.job_action("START", application="DEMO2", job="REPORTTEST01").batch_request_id
    emulator.faults.drop_next(w.MONITOR_JOB)
    assert client.monitor_job(brid).code is C.RUNNING
    assert calls(emulator, w.MONITOR_JOB) == [None, 200]


def test_delay_next_advances_the_clock(emulator: Emulator, client: Client) -> None:
    brid = client.job_action("START", application="DEMO2", job="REPORTTEST01").batch_request_id
    emulator.faults.delay_next(w.MONITOR_JOB, 20)
    status = client.monitor_job(brid)
    assert status.code is C.RUNNING  # answered as of its arrival ...
    assert emulator.now == 20  # ... after 20 s on the emulator's clock
    assert client.monitor_job(brid).code is C.RUNNING


def test_a_delay_beyond_the_read_timeout_is_a_read_timeout(emulator: Emulator) -> None:
    client = emulator.client(timeout=5.0)
    brid = client.job_action("START", application="DEMO2", job="REPORTTEST01").batch_request_id
    emulator.faults.delay_next(w.MONITOR_JOB, 60)
    assert client.monitor_job(brid).code is C.RUNNING  # a read: retried after the timeout
    assert calls(emulator, w.MONITOR_JOB) == [200, 200]
    assert 5 <= emulator.now < 20


def test_a_start_whose_answer_times_out_is_unknown_yet_queued(emulator: Emulator) -> None:
    client = emulator.client(timeout=5.0)
    emulator.faults.delay_next(w.JOB_ACTION, 60)
    with pytest.raises(StartOutcomeUnknownError):
        client.job_action("START", application="DEMO2", job="REPORTTEST01")
    assert len(emulator.batch_request_ids()) == 1


def test_expire_tokens_makes_the_client_log_on_again_once(emulator: Emulator, client: Client) -> None:
    assert client.heartbeat()
    brid = client.job_action("START", application="DEMO2", job="REPORTTEST01").batch_request_id
    emulator.expire_tokens()
    assert client.monitor_job(brid).code is C.RUNNING
    assert [r.function for r in emulator.requests].count(w.LOGON) == 2
    assert calls(emulator, w.MONITOR_JOB) == [401, 200]


def test_a_refused_logon_is_final(emulator: Emulator, client: Client) -> None:
    emulator.faults.fail_next(w.LOGON, 401)
    with pytest.raises(AuthenticationError):
        client.monitor_job(2112)
    assert calls(emulator, w.LOGON) == [401]


def test_faults_name_a_function_of_the_contract(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="OpConJobAction"):
        emulator.faults.fail_next("JobAction", 503)
    with pytest.raises(ValueError, match="status"):
        emulator.faults.fail_next(w.MONITOR_JOB, 200)
    with pytest.raises(ValueError, match="times"):
        emulator.faults.fail_next(w.MONITOR_JOB, 503, times=0)
    with pytest.raises(ValueError, match="seconds"):
        emulator.faults.delay_next(w.MONITOR_JOB, -1)
