"""Follow an AMT batch job's log as it is written, and resume after a restart.

    python examples/follow_log.py [--application DEMO2] [--job REPORTTEST01]
    python examples/follow_log.py --batch-request-id ID [--after SEQUENCE]

The first form starts the job and prints each message once, as the job writes it. The
second re-attaches to a job started earlier (by this script, OpCon or anyone) and prints
the messages after SEQUENCE: save the BatchRequestId and the last sequence printed, and a
follow that was interrupted goes on where it stopped. With AMTOPCON_BASE_URL (or
AMTOPCON_SERVER_ADDRESS), AMTOPCON_USER and AMTOPCON_PASSWORD set, it talks to that
server; otherwise to an in-process emulator. Exits 0 when the job ended DONE, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys

from amtopcon import Client, JobHandle, PollPolicy


def make_client() -> Client:
    """A client for the server in the environment, or for an in-process emulator."""
    if os.environ.get("AMTOPCON_BASE_URL") or os.environ.get("AMTOPCON_SERVER_ADDRESS"):
        return Client.from_env()
    from amtopcon.testing import Emulator

    return Emulator().client()


def follow(job: JobHandle) -> int:
    """Print every new message of the job until it ends; returns the job's exit code."""
    seen = 0
    for message in job.follow(poll=PollPolicy(initial_delay=0.5, interval=0.5, max_interval=2.0)):
        stamp = f"{message.timestamp:%H:%M:%S}" if message.timestamp else "--:--:--"
        print(f"{message.sequence:>5} {stamp} {message.severity:<7} {message.text}", flush=True)
        seen += 1
    # The job has ended: its final status is one MonitorJob call (job.wait() would read the
    # whole log again to build a JobResult).
    status = job.status()
    code = int(status.code)
    print(
        f"BatchRequestId {job.batch_request_id}: {status.code.name} ({code}); {seen} new messages;"
        f" resume with --batch-request-id {job.batch_request_id} --after {job.last_sequence}"
    )
    return code


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--application", default="DEMO2")
    parser.add_argument("--job", default="REPORTTEST01")
    parser.add_argument("--batch-request-id", type=int, help="re-attach to this job instead of starting one")
    parser.add_argument("--after", type=int, default=0, help="the last message sequence already seen")
    args = parser.parse_args(argv)
    with make_client() as client:
        if args.batch_request_id is None:
            job = client.start(args.application, args.job)
            print(f"started {args.application}/{args.job}: BatchRequestId {job.batch_request_id}", flush=True)
        else:
            job = client.job(args.batch_request_id, after=args.after)
        code = follow(job)
    return 0 if code == 4 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
