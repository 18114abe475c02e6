"""The commands that run no job: status, messages, stop, kill, heartbeat, check, encode, decode.

They exit 0 on success and with the codes of the table in `amtopcon.cli` on errors.
`encode` and `decode` import neither httpx nor cattrs (each handler imports what it needs).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from amtopcon.cli._errors import EXIT_AUTH, EXIT_SERVER, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from amtopcon.models import JobStatus, Message


def _time(value: object) -> str:
    return "" if value is None else str(getattr(value, "isoformat", lambda: value)())


def _status_lines(status: JobStatus) -> list[str]:
    rows = [
        ("BatchRequestId", str(status.batch_request_id)),
        ("Application", status.application or ""),
        ("Batch Job", status.job_name or ""),
        ("Status", f"{status.code.name} ({int(status.code)})"),
        ("Description", status.description or ""),
        ("Submitted", _time(status.submitted_at)),
        ("Started", _time(status.started_at)),
        ("Ended", _time(status.ended_at)),
    ]
    from amtopcon.cli._output import one_line

    return [f"{label:<16}: {one_line(value)}".rstrip() for label, value in rows]


def _status_json(status: JobStatus) -> dict[str, object]:
    data = status.to_dict()
    data["code_name"] = status.code.name
    data["terminal"] = status.is_terminal
    return data


def run_status(args: argparse.Namespace) -> int:
    """`amtopcon status ID`: one MonitorJob call."""
    from amtopcon.cli._connect import open_client
    from amtopcon.cli._output import dumps

    with open_client(args, follow_up="status") as client:
        status = client.monitor_job(args.batch_request_id)
    if args.json:
        print(dumps(_status_json(status)), flush=True)
    else:
        print("\n".join(_status_lines(status)), flush=True)
    return 0


def _message_line(message: Message) -> str:
    from amtopcon.cli._output import one_line

    parts = [f"{message.sequence:>5}", _time(message.timestamp), f"{message.severity:<7}", one_line(message.text)]
    return " ".join(p for p in parts if p)


def run_messages(args: argparse.Namespace) -> int:
    """`amtopcon messages ID [--follow]`: the job log, or follow it until the job ends."""
    from amtopcon.cli._connect import open_client
    from amtopcon.cli._output import dumps

    def show(message: Message) -> None:
        print(dumps(message.to_dict()) if args.json else _message_line(message), flush=True)

    with open_client(args, follow_up="messages") as client:
        handle = client.job(args.batch_request_id, after=args.after)
        if args.follow:
            for message in handle.follow():
                show(message)
        else:
            for message in handle.messages(after=args.after):
                show(message)
    return 0


def _action(args: argparse.Namespace, action: str) -> int:
    from amtopcon.cli._connect import open_client
    from amtopcon.cli._output import dumps

    brid = args.batch_request_id
    with open_client(args, follow_up=action.lower()) as client:
        handle = client.job(brid)
        accepted = handle.stop() if action == "STOP" else handle.kill()
        status = handle.last_status if accepted else client.monitor_job(brid)
    if getattr(args, "json", False):
        print(dumps(_action_json(brid, action, accepted, status)), flush=True)
    elif accepted:
        print(f"{action} accepted for BatchrequestId '{brid}'", flush=True)
    else:
        code = f"{status.code.name} ({int(status.code)})" if status is not None else "ended"
        print(f"BatchrequestId '{brid}' had already ended: {code}; nothing to {action.lower()}", flush=True)
    return 0


def _action_json(brid: int, action: str, accepted: bool, status: JobStatus | None) -> dict[str, object]:
    return {
        "batch_request_id": brid,
        "action": action,
        "accepted": accepted,
        "already_ended": not accepted,
        "code": None if status is None else int(status.code),
        "code_name": None if status is None else status.code.name,
        "status": None if status is None else _status_json(status),
    }


def run_stop(args: argparse.Namespace) -> int:
    """`amtopcon stop ID`: ask the job to stop (exit 0, also when it had already ended)."""
    return _action(args, "STOP")


def run_kill(args: argparse.Namespace) -> int:
    """`amtopcon kill ID`: kill the job at once (exit 0, also when it had already ended)."""
    return _action(args, "KILL")


def run_heartbeat(args: argparse.Namespace) -> int:
    """`amtopcon heartbeat`: exit 0 while the batch server takes requests, 23 when it does not."""
    from amtopcon.cli._connect import open_client
    from amtopcon.cli._output import dumps

    with open_client(args) as client:
        up = client.heartbeat()
        url = client.base_url
    if getattr(args, "json", False):
        print(dumps({"up": up, "server": url}), flush=True)
    elif up and not args.quiet:
        print(f"up: the AMTOpCon server at {url} takes requests", flush=True)
    if up:
        return 0
    print(f"amtopcon: down: the AMTOpCon server at {url} does not take requests", file=sys.stderr, flush=True)
    return EXIT_SERVER


def run_check(args: argparse.Namespace) -> int:
    """`amtopcon check`: log on; exit 0 when the credentials work, 24 when they are refused."""
    from amtopcon.cli._connect import open_client
    from amtopcon.cli._output import dumps

    with open_client(args) as client:
        accepted = client.check()
        url, user = client.base_url, client.username
    as_json = getattr(args, "json", False)
    if as_json:
        print(dumps({"accepted": accepted, "server": url, "user": user}), flush=True)
    if accepted:
        if not (args.quiet or as_json):
            print(f"ok: the AMTOpCon server at {url} accepts the credentials of {user}", flush=True)
        return 0
    print(
        f"amtopcon: refused: the AMTOpCon server at {url} refused the credentials of {user}",
        file=sys.stderr,
        flush=True,
    )
    return EXIT_AUTH


def _read_secret() -> str:
    if sys.stdin is not None and sys.stdin.isatty():
        first = getpass.getpass("Value to encode: ")
        if getpass.getpass("Again: ") != first:
            raise UsageError("the two values differ")
        return first
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


def run_encode(args: argparse.Namespace) -> int:
    """`amtopcon encode [VALUE]`: the `Encrypt.exe` form (hex of base64; an encoding, not encryption)."""
    from amtopcon.config import encode_credential

    try:
        value = args.value if args.value is not None else _read_secret()
    except UnicodeDecodeError:
        raise UsageError("the value on standard input is not valid text in its encoding") from None
    if not value:
        raise UsageError("nothing to encode")
    _print_value(args, encode_credential(value))
    return 0


def run_decode(args: argparse.Namespace) -> int:
    """`amtopcon decode VALUE`: the plain text behind an `Encrypt.exe` value."""
    from amtopcon.config import decode_credential

    _print_value(args, decode_credential(args.value))
    return 0


def _print_value(args: argparse.Namespace, value: str) -> None:
    if getattr(args, "json", False):
        import json  # the light json of the stdlib: encode and decode stay free of httpx and cattrs

        print(json.dumps({"value": value}, ensure_ascii=False), flush=True)
    else:
        print(value, flush=True)
