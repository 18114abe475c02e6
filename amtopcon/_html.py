"""HTML views for notebooks: the `_repr_html_` of the models, the job handles and the emulator.

Stdlib only, and no I/O: a view shows what the object already holds. Every piece of text
goes through `esc()`. Styles are inline (a notebook may drop `<style>` elements) and say
`text-align:left` on every cell, so a notebook's own table CSS (JupyterLab right-aligns
cells and centres tables) does not move them. A code or a severity is shown by colour and
by word, so nothing depends on seeing the colour.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from amtopcon.models import CompletionCode, JobResult, JobStatus, Message, MessagePage

#: A log longer than this is cut: its first HEAD and last TAIL messages are shown.
MAX_ROWS = 30
HEAD = 10
TAIL = 15
#: A message text longer than this is cut (the rest is counted).
MAX_TEXT = 500

_FONT = "font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:13px;line-height:1.4"
_BOX = f"{_FONT};text-align:left;margin:0.25em 0"
_TABLE = "border-collapse:collapse;margin:0.25em 0 0.25em 0;table-layout:auto;width:auto"
_CELL = "text-align:left;vertical-align:top;padding:2px 10px 2px 0;border:none;background:none"
_HEAD_CELL = _CELL + ";font-weight:600;border-bottom:1px solid #999;white-space:nowrap"
_NUM = _CELL + ";text-align:right;font-variant-numeric:tabular-nums;opacity:0.75"
_TIME = _CELL + ";font-variant-numeric:tabular-nums;white-space:nowrap;opacity:0.75"
_TEXT = _CELL + ";white-space:pre-wrap;word-break:break-word;font-family:var(--jp-code-font-family,monospace)"
_MUTED = "opacity:0.7"  # not a fixed grey: readable on light and dark notebook themes

# Colours with white text at >= 4.5:1 contrast; the word always goes with them.
_GREEN, _RED, _AMBER, _BLUE, _GREY = "#1a7f37", "#c62828", "#9a6700", "#0b62b3", "#5f6368"


def esc(value: object) -> str:
    """`value` as text, escaped for HTML content and attribute values."""
    return escape(str(value), quote=True)


def code_state(code: CompletionCode) -> tuple[str, str]:
    """(colour, word) for a completion code: succeeded, failed, not finished or unknown."""
    if code.is_success:
        return _GREEN, "succeeded"
    if code.is_terminal:
        return _RED, "failed"
    if not code.is_known:
        return _GREY, "unknown code"
    return _BLUE, "not finished"


def code_badge(code: CompletionCode) -> str:
    """The code's name and number on its colour, then what it means in a word."""
    colour, word = code_state(code)
    name = code.name if code.is_known else "code"  # not UNKNOWN_17 17
    return (
        f'<span title="{esc(code.description)}" style="background:{colour};color:#fff;border-radius:3px;'
        f'padding:0 6px;font-weight:600;white-space:nowrap">{esc(name)} {int(code)}</span> '
        f'<span style="color:{colour};font-weight:600">{esc(word)}</span>'
    )


def severity_colour(severity: str) -> str | None:
    """The colour of a message severity, or None for an ordinary one (INFO and the like)."""
    word = severity.strip().upper()
    if word.startswith(("ERR", "FATAL", "SEVERE", "CRIT", "EMERG", "ALERT")):
        return _RED
    if word.startswith("WARN"):
        return _AMBER
    if word.startswith(("DEBUG", "TRACE")):
        return _GREY
    return None


def severity_cell(severity: str) -> str:
    """A table cell with the severity as written, coloured when it is an error, a warning or debug."""
    colour = severity_colour(severity)
    style = _CELL + ";white-space:nowrap"
    if colour == _GREY:
        style += f";color:{colour}"
    elif colour is not None:
        style += f";color:{colour};font-weight:600"
    return f'<td style="{style}">{esc(severity)}</td>'


def full_time(value: datetime | None) -> str:
    """`2026-01-05 08:00:01 UTC` (seconds, no microseconds; the offset when not UTC)."""
    if value is None:
        return "-"
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    offset = value.utcoffset()
    if offset is None:
        return text
    if offset == timedelta(0):
        return text + " UTC"
    return text + " " + value.strftime("%z")[:3] + ":" + value.strftime("%z")[3:]


def short_time(value: datetime | None, day: object) -> str:
    """`08:00:01` on the day `day`; `01-06 08:00:01` on another day."""
    if value is None:
        return "-"
    if value.date() == day:
        return value.strftime("%H:%M:%S")
    return value.strftime("%m-%d %H:%M:%S")


def duration_text(value: timedelta | None) -> str:
    """`1 h 02 min 05 s`, `2 min 05 s`, `29 s`, `0.250 s`."""
    if value is None:
        return "-"
    seconds = value.total_seconds()
    if seconds < 0:
        return "-" + duration_text(-value)
    if seconds < 10 and seconds != int(seconds):
        return f"{seconds:.3f} s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def cut_text(text: str, limit: int = MAX_TEXT) -> str:
    """The escaped text, cut after `limit` characters with "… N more characters"."""
    if len(text) <= limit:
        return esc(text)
    more = len(text) - limit
    return f'{esc(text[:limit])}<span style="{_MUTED}">… {more} more characters</span>'


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def log_table(messages: Sequence[Message], *, max_rows: int = MAX_ROWS, head: int = HEAD, tail: int = TAIL) -> str:
    """The messages as a table; a long log shows its first `head` and last `tail` rows
    around a row "… N more messages"."""
    if not messages:
        return f'<div style="{_BOX};{_MUTED}">no messages</div>'
    first = next((m.timestamp for m in messages if m.timestamp is not None), None)
    day = None if first is None else first.date()
    if len(messages) > max_rows:
        hidden = len(messages) - head - tail
        shown: list[Message | int] = [*messages[:head], hidden, *messages[len(messages) - tail :]]
    else:
        shown = list(messages)
    rows = []
    for item in shown:
        if isinstance(item, int):
            rows.append(
                f'<tr><td colspan="4" style="{_CELL};{_MUTED};font-style:italic">… {item} more messages '
                f"(all of them in <code>.messages</code>)</td></tr>"
            )
            continue
        when = "" if item.timestamp is None else f' title="{esc(item.timestamp.isoformat())}"'
        rows.append(
            f'<tr><td style="{_NUM}">{item.sequence}</td>'
            f'<td style="{_TIME}"{when}>{esc(short_time(item.timestamp, day))}</td>'
            f"{severity_cell(item.severity)}"
            f'<td style="{_TEXT}">{cut_text(item.text)}</td></tr>'
        )
    caption = "" if first is None else f" ({esc(first.strftime('%Y-%m-%d'))})"
    return (
        f'<table style="{_TABLE};{_FONT}"><thead><tr>'
        f'<th style="{_HEAD_CELL};text-align:right">#</th><th style="{_HEAD_CELL}">time{caption}</th>'
        f'<th style="{_HEAD_CELL}">severity</th><th style="{_HEAD_CELL}">text</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _job_name(status: JobStatus | None) -> str:
    if status is None or not (status.application or status.job_name):
        return ""
    return f" {esc(status.application or '?')} / {esc(status.job_name or '?')}"


def _title(kind: str, batch_request_id: int | None, status: JobStatus | None) -> str:
    ident = "" if batch_request_id is None else f" {batch_request_id}"
    return f"<b>{esc(kind)}{ident}</b>{_job_name(status)}"


def _facts(pairs: Iterable[tuple[str, str]]) -> str:
    """A two-column table of (label, escaped HTML value), labels muted."""
    rows = "".join(
        f'<tr><th style="{_CELL};font-weight:normal;{_MUTED}" scope="row">{esc(label)}</th>'
        f'<td style="{_CELL}">{value}</td></tr>'
        for label, value in pairs
    )
    return f'<table style="{_TABLE};{_FONT}"><tbody>{rows}</tbody></table>'


def _status_facts(status: JobStatus, duration: timedelta | None = None) -> list[tuple[str, str]]:
    pairs = [("code", code_badge(status.code))]
    if status.status_text and status.status_text != status.code.name:  # not DONE twice
        pairs.append(("status text", esc(status.status_text)))
    if status.description:
        pairs.append(("description", cut_text(status.description)))
    for label, value in (
        ("submitted", status.submitted_at),
        ("started", status.started_at),
        ("ended", status.ended_at),
    ):
        if value is not None:
            pairs.append((label, f'<span title="{esc(value.isoformat())}">{esc(full_time(value))}</span>'))
    if duration is not None:
        pairs.append(("duration", esc(duration_text(duration))))
    return pairs


def _box(*parts: str) -> str:
    return f'<div style="{_BOX}">{"".join(parts)}</div>'


def job_status(status: JobStatus) -> str:
    """A `JobStatus`: the job, its code (colour and word) and its times."""
    return _box(_title("AMT job", status.batch_request_id, status), _facts(_status_facts(status)))


def job_result(result: JobResult) -> str:
    """A `JobResult`: the status, its duration and the job log (cut when long)."""
    status = result.status
    facts = _status_facts(status, result.duration)
    facts.append(("messages", str(len(result.messages))))
    return _box(_title("AMT job", status.batch_request_id, status), _facts(facts), log_table(result.messages))


def message(item: Message) -> str:
    """One `Message`, as one row of a log table."""
    return _box(log_table([item]))


def message_page(page: MessagePage) -> str:
    """A `MessagePage`: how many, which sequences, whether more wait, and the messages."""
    count = len(page.messages)
    span = ""
    if page.messages:
        span = f", #{page.messages[0].sequence} to #{page.messages[-1].sequence}"
    more = (
        f'<span style="color:{_BLUE};font-weight:600">more waiting</span> (ask again after #{page.last_sequence})'
        if page.has_more
        else "no more waiting"
    )
    job = "" if page.batch_request_id is None else f" of AMT job {page.batch_request_id}"
    head = f"<b>Message page{esc(job)}</b>: {_plural(count, 'message')}{esc(span)}; {more}"
    return _box(head, log_table(page.messages))


def job_handle(kind: str, batch_request_id: int, last_sequence: int, status: JobStatus | None, ended: bool) -> str:
    """A job handle: what it last saw (it makes no call to show itself)."""
    facts = []
    if status is None:
        facts.append(("last status", f'<span style="{_MUTED}">none seen yet (call <code>status()</code>)</span>'))
    else:
        facts.extend(_status_facts(status))
        facts[0] = ("last status", facts[0][1])
    facts.append(("last sequence", f"{last_sequence} (messages handed out so far)"))
    facts.append(("ended", "yes" if ended else "no (as last seen)"))
    return _box(_title(kind, batch_request_id, status), _facts(facts))


def emulator(
    clock: str, now: datetime, statuses: Sequence[JobStatus], total: int, received: int, jobs: int, users: int
) -> str:
    """The emulator: its clock, what it has received, and its batch requests (the latest ones)."""
    facts = [
        ("clock", f"{esc(clock)} at {esc(full_time(now))}"),
        ("batch requests", str(total)),
        ("requests received", str(received)),
        ("catalog", f"{_plural(jobs, 'job')}, {_plural(users, 'logon user')}"),
    ]
    parts = [_title("Emulator", None, None), _facts(facts)]
    if statuses:
        rows = "".join(
            f'<tr><td style="{_NUM}">{s.batch_request_id}</td>'
            f'<td style="{_CELL}">{esc(s.application or "?")} / {esc(s.job_name or "?")}</td>'
            f'<td style="{_CELL}">{code_badge(s.code)}</td></tr>'
            for s in statuses
        )
        hidden = total - len(statuses)
        more = (
            f'<tr><td colspan="3" style="{_CELL};{_MUTED};font-style:italic">… {hidden} more batch requests '
            "(the latest are shown; all in <code>batch_request_ids()</code>)</td></tr>"
            if hidden > 0
            else ""
        )
        parts.append(
            f'<table style="{_TABLE};{_FONT}"><thead><tr><th style="{_HEAD_CELL};text-align:right">id</th>'
            f'<th style="{_HEAD_CELL}">job</th><th style="{_HEAD_CELL}">code</th></tr></thead>'
            f"<tbody>{more}{rows}</tbody></table>"
        )
    return _box(*parts)
