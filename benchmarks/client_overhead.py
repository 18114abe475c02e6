"""What the client and the wire layer cost on top of plain httpx and json.

    python benchmarks/client_overhead.py [--calls 2000] [--messages 1000] [--repeat 5]

Everything runs in one process on an in-memory `httpx.MockTransport` (no network, no
emulator), so the numbers measure the SDK's own work. Each measurement is a ratio
against a baseline run in the same process: the median (and range) of `--repeat`
alternating A/B runs (A then B, then B then A, ...); it prints and asserts nothing.

* `monitor_job`: N calls through `Client.monitor_job` (request building, headers, retry
  state machine, case-insensitive parsing, cattrs structuring) against N bare
  `httpx.Client.get` + `json.loads` of the same answer.
* `get_messages`: parsing one page of M messages (`_wire.parse_message_page`: timestamps,
  validation, models) against `json.loads` of the same bytes.
* `to_dict`: a `JobResult` of M messages through `to_dict()` + `from_dict()` against
  `json.loads(json.dumps(...))` of the same dict.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Spread, alternate, ratios, timed

from amtopcon import Client, JobResult
from amtopcon import _wire as w

STATUS = {
    w.F_BATCH_REQUEST_ID: 2112,
    w.F_APPLICATION: "DEMO2",
    w.F_JOB_NAME: "REPORTTEST01",
    w.F_STATUS: 2,
    w.F_STATUS_TEXT: "RUNNING",
    w.F_DESCRIPTION: None,
    w.F_SUBMITTED_AT: "2017-05-18T14:00:14.865+02:00",
    w.F_STARTED_AT: "2017-05-18T14:00:15.010+02:00",
    w.F_ENDED_AT: None,
}


def _page(n: int) -> bytes:
    messages = [
        {
            w.F_SEQUENCE: i,
            w.F_TIMESTAMP: "2017-05-18T14:01:35.7040000+02:00",
            w.F_SEVERITY: "INFO",
            w.F_TEXT: f"Parameter test is running {i} seconds",
        }
        for i in range(1, n + 1)
    ]
    return json.dumps({w.F_BATCH_REQUEST_ID: 2112, w.F_HAS_MORE: False, w.F_MESSAGES: messages}).encode()


def _compare(a: Callable[[], object], b: Callable[[], object], repeat: int) -> tuple[float, float, Spread]:
    """Median seconds of `a` and of `b`, and their ratio a/b, over alternating repeats."""
    got_a, got_b = alternate(timed(a), timed(b), repeat)
    return statistics.median(got_a), statistics.median(got_b), ratios(got_a, got_b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    body = json.dumps(STATUS).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(w.LOGON):
            return httpx.Response(200, json={w.F_TOKEN: "t"})
        return httpx.Response(200, content=body, headers={"Content-Type": w.JSON_TYPE})

    transport = httpx.MockTransport(handler)
    raw = httpx.Client(transport=transport)
    client = Client(
        "https://amt.bench/AmtOpConService/", username="u", password="p", http_client=httpx.Client(transport=transport)
    )
    client.heartbeat()
    client.monitor_job(2112)  # logs on once, outside the measurement

    url = "https://amt.bench/AmtOpConService/" + w.MONITOR_JOB

    def bare() -> None:
        for _ in range(args.calls):
            json.loads(raw.get(url, params={w.Q_BATCH_REQUEST_ID: 2112}).content)

    def sdk() -> None:
        for _ in range(args.calls):
            client.monitor_job(2112)

    t_sdk, t_bare, ratio = _compare(sdk, bare, args.repeat)
    print(
        f"monitor_job x{args.calls}: sdk {t_sdk * 1e3:.1f} ms, bare httpx+json {t_bare * 1e3:.1f} ms, "
        f"ratio {ratio.text()} ({(t_sdk - t_bare) / args.calls * 1e6:.0f} us per call on top)"
    )

    page = _page(args.messages)
    t_parse, t_json, ratio = _compare(
        lambda: w.parse_message_page(json.loads(page)), lambda: json.loads(page), args.repeat
    )
    print(
        f"get_messages page of {args.messages}: parse {t_parse * 1e3:.2f} ms, json.loads {t_json * 1e3:.2f} ms, "
        f"ratio {ratio.text('{:.1f}')} ({t_parse / args.messages * 1e6:.1f} us per message)"
    )

    result = JobResult(w.parse_job_status(STATUS), w.parse_message_page(json.loads(page)).messages)
    as_dict = result.to_dict()
    t_round, t_plain, ratio = _compare(
        lambda: JobResult.from_dict(result.to_dict()), lambda: json.loads(json.dumps(as_dict)), args.repeat
    )
    print(
        f"JobResult of {args.messages} messages to_dict+from_dict: {t_round * 1e3:.2f} ms, "
        f"json round trip {t_plain * 1e3:.2f} ms, ratio {ratio.text('{:.1f}')}"
    )
    client.close()
    raw.close()


if __name__ == "__main__":
    main()
