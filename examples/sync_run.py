"""Run an AMT batch job and print its job log.

    python examples/sync_run.py [APPLICATION JOB [PARAMETER ...]]

It runs DEMO2 / RUN_PARAMETERTESTA with the parameter 'PARAM' unless told otherwise.
With AMTOPCON_BASE_URL (or AMTOPCON_SERVER_ADDRESS), AMTOPCON_USER and AMTOPCON_PASSWORD
set, it talks to that server; otherwise to an in-process emulator, where the job's 70
seconds pass on a virtual clock at once. Exits 0 when the job ended DONE, 1 otherwise.
"""

from __future__ import annotations

import os
import sys

from amtopcon import Client


def make_client() -> Client:
    """A client for the server in the environment, or for an in-process emulator."""
    if os.environ.get("AMTOPCON_BASE_URL") or os.environ.get("AMTOPCON_SERVER_ADDRESS"):
        return Client.from_env()
    from amtopcon.testing import Emulator

    return Emulator().client()


def main(argv: list[str]) -> int:
    application, job, *parameters = argv if len(argv) >= 2 else ["DEMO2", "RUN_PARAMETERTESTA", "'PARAM'"]
    with make_client() as client:
        handle = client.start(application, job, parameters=parameters)
        print(f"Job '{job}' started in AMT at {client.base_url}: BatchRequestId {handle.batch_request_id}")
        result = handle.wait()
    for message in result.messages:
        print(f'"{message.text}"')
    description = f" ({result.status.description})" if result.status.description else ""
    print(f"{application}/{job} ended {result.code.name} ({result.exit_code}){description} after {result.duration}")
    return 0 if result.succeeded else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
