"""The default `PollPolicy` holds to its documented schedule, measured on the emulator's
virtual clock: a job that ends within 10 s is noticed within 1 s of its end (median
<= 0.5 s), and a one-hour job costs about 285 status checks, 18 of them in the first 10 s."""

from __future__ import annotations

import itertools
import statistics

from amtopcon import PollPolicy
from amtopcon import _wire as w
from amtopcon.testing import Emulator, Step


def _checks(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests if r.function == w.MONITOR_JOB)


def test_the_default_schedule_is_the_documented_one() -> None:
    delays = PollPolicy(jitter=0).delays()
    times = []
    waited = 0.0
    while waited < 3600:
        waited += next(delays)
        times.append(waited)
    assert times[:13] == [0.5 * i for i in range(1, 14)]  # every 0.5 s for the first 6.5 s
    assert sum(1 for t in times if t <= 10) == 18
    assert len(times) == 285  # the legacy connector's fixed 5 s: 720
    assert max(b - a for a, b in itertools.pairwise(times)) == 15.0


def test_jobs_of_1_to_10_s_are_noticed_within_a_second_of_their_end() -> None:
    emulator = Emulator()
    lags = []
    with emulator.client() as client:  # the default PollPolicy, jitter included
        for tenth in range(10, 101, 3):  # 1.0 s to 10.0 s
            duration = tenth / 10
            emulator.add_job("BENCH", f"J{tenth}", steps=[Step(duration=duration)])
            job = client.start("BENCH", f"J{tenth}")
            began = emulator.clock.now()
            job.wait()
            lags.append(emulator.clock.now() - began - duration)
    assert all(lag >= 0 for lag in lags)
    assert max(lags) <= 1.0, lags
    assert statistics.median(lags) <= 0.5, lags


def test_a_one_hour_job_costs_the_documented_checks() -> None:
    emulator = Emulator()
    emulator.add_job("BENCH", "HOUR", steps=[Step(duration=3600)])
    with emulator.client(poll=PollPolicy(jitter=0)) as client:
        job = client.start("BENCH", "HOUR")
        job.wait()
    # 285 checks while it runs (the schedule above), and the one that sees it ended.
    assert _checks(emulator) == 286
