"""The emulator's timeline: job scripts and actions in, statuses and messages at a time out.

Pure: no HTTP, no tokens, no faults, no store and no clock of its own. A batch request's
state at time `t` follows from its START (a `Submission`), the STOP/KILL actions with
their times, its script, its queue's concurrency and `t`: a queued job starts when a slot
of its queue frees (first come, first served), each step of its script lasts its
duration, STOP ends it at its next step boundary, KILL at once. Derived timelines are
cached per queue and per request, and recomputed only when a START or an action touches
that queue, so following a job of 10,000 messages page by page costs the size of each
page, not the size of the log.

`resolve()` turns a stored START into a `Submission` against a catalog (which script,
queue and user it runs with); the engine (`_engine.Emulator`) does everything around it.
"""

from __future__ import annotations

import bisect
import heapq
import ntpath
import posixpath
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Final

import attrs

from amtopcon.models import CompletionCode, JobStatus, Message
from amtopcon.testing._catalog import (
    DEFAULT_USER,
    Catalog,
    JobScript,
    Step,
    format_parameters,
    render,
    script_stem,
    template_values,
)
from amtopcon.testing._store import RequestRecord

__all__ = ["FILE_NOT_FOUND", "MISSING_FILE_SECONDS", "Immediate", "Scheduler", "Submission", "resolve"]

#: How long the synthetic job of a missing script file runs before it ends ERROR.
MISSING_FILE_SECONDS: Final = 1.0
FILE_NOT_FOUND: Final = "File not found"

_C = CompletionCode


@attrs.frozen
class Immediate:
    """A START that ends at submission without running: its code, description and one ERROR message."""

    code: CompletionCode
    description: str
    message: str


@attrs.frozen
class Submission:
    """One START as the scheduler sees it: what runs, where, from when.

    `script` is None exactly when `immediate` says how the request ended at submission.
    `values` fill the script's message templates.
    """

    batch_request_id: int
    task_id: str
    application: str
    job_name: str
    queue: str
    submitted_at: float
    script: JobScript | None
    immediate: Immediate | None = None
    values: Mapping[str, object] = attrs.field(factory=dict)


@attrs.frozen
class _Rendered:
    """A request's script laid out in time relative to its start (independent of actions)."""

    offsets: list[float]  # of each message, ascending
    texts: list[str]
    severities: list[str]
    step_starts: list[float]
    step_states: list[CompletionCode]
    step_ends: list[float]  # cumulative; the last one is the running time
    total: float


@attrs.frozen
class _Timeline:
    """When a request starts and ends, how it ends, and how many messages it writes."""

    start: float | None  # None: never started
    end: float
    code: CompletionCode
    description: str | None
    base: float  # the time of message offset 0
    n_messages: int


@attrs.define
class _Schedule:
    """A queue's derived timelines, extended as requests arrive."""

    version: int
    concurrency: int
    done: int = 0  # how many of the queue's requests are placed
    busy: list[float] = attrs.field(factory=list)  # heap: end times of the jobs holding a slot
    timelines: dict[int, _Timeline] = attrs.field(factory=dict)


@attrs.define
class _Entry:
    sub: Submission
    actions: list[tuple[str, float]] = attrs.field(factory=list)
    rendered: _Rendered | None = None


class Scheduler:
    """Statuses and messages of batch requests at any time, from their STARTs and actions.

    Args:
        concurrency: how many jobs of a queue may run at once (read at each derivation,
            so a changed catalog takes effect).
        epoch: the moment of time 0; statuses and messages carry `epoch + t`.

    Not thread-safe: the engine holds its lock around every call.
    """

    def __init__(self, concurrency: Callable[[str], int], epoch: datetime) -> None:
        self._concurrency = concurrency
        self.epoch = epoch
        self._entries: dict[int, _Entry] = {}
        self._task_ids: dict[str, int] = {}
        self._members: dict[str, list[int]] = {}
        self._versions: dict[str, int] = {}  # bumped by STOP/KILL: the queue's schedule is redone
        self._schedules: dict[str, _Schedule] = {}

    # -- what goes in
    def submit(self, sub: Submission, actions: Iterable[tuple[str, float]] = (), *, restored: bool = False) -> None:
        """Add a START (with the actions it already received when `restored` from a store).

        A new START must come later than every START before it; `restored` ones may come
        in any order.
        """
        brid = sub.batch_request_id
        self._entries[brid] = _Entry(sub, list(actions))
        self._task_ids.setdefault(sub.task_id, brid)
        members = self._members.setdefault(sub.queue, [])
        members.append(brid)
        if restored:
            members.sort()
            self._touch(sub.queue)

    def act(self, batch_request_id: int, action: str, at: float) -> None:
        """Record a STOP or KILL received at time `at` (see `ended()` for when one is allowed)."""
        entry = self._entries[batch_request_id]
        entry.actions.append((action, at))
        self._touch(entry.sub.queue)

    # -- what comes out
    def __contains__(self, batch_request_id: object) -> bool:
        return batch_request_id in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def ids(self) -> list[int]:
        """Every BatchRequestId submitted, in order."""
        return sorted(self._entries)

    def submission(self, batch_request_id: int) -> Submission:
        """The START of a batch request (KeyError when unknown)."""
        return self._entries[batch_request_id].sub

    def find(self, task_id: str) -> int | None:
        """The BatchRequestId of the first START that carried `task_id`, or None (TaskId de-duplication)."""
        return self._task_ids.get(task_id)

    def ended(self, batch_request_id: int, now: float) -> CompletionCode | None:
        """How the request ended if it has by `now` (then STOP and KILL are refused), else None."""
        t = self._timeline(batch_request_id)
        return t.code if now >= t.end else None

    def status(self, batch_request_id: int, now: float) -> JobStatus:
        """What MonitorJob answers at time `now`."""
        entry = self._entries[batch_request_id]
        t = self._timeline(batch_request_id)
        sub = entry.sub
        description = None
        started_at = ended_at = None
        if now >= t.end:
            code = t.code
            description = t.description
            ended_at = self._at(t.end)
            if t.start is not None:
                started_at = self._at(t.start)
        elif t.start is None or now < t.start:
            code = _C.QUEUED
        else:
            r = self._rendered(entry)
            i = bisect.bisect_right(r.step_starts, now - t.start) - 1
            code = r.step_states[i] if i >= 0 else _C.RUNNING
            started_at = self._at(t.start)
        return JobStatus(
            batch_request_id=batch_request_id,
            code=code,
            status_text=code.name,
            description=description,
            application=sub.application,
            job_name=sub.job_name,
            submitted_at=self._at(sub.submitted_at),
            started_at=started_at,
            ended_at=ended_at,
        )

    def messages(
        self, batch_request_id: int, now: float, after: int = 0, limit: int | None = None
    ) -> tuple[list[Message], bool]:
        """The messages written by `now` after sequence `after`, at most `limit`; and whether more are written."""
        entry = self._entries[batch_request_id]
        t = self._timeline(batch_request_id)
        visible = 0
        if now >= t.base and t.n_messages:
            visible = min(t.n_messages, bisect.bisect_right(self._rendered(entry).offsets, now - t.base))
        upto = visible if limit is None else min(visible, after + limit)
        page: list[Message] = []
        if after < upto:
            r = self._rendered(entry)
            page = [
                Message(sequence=i + 1, text=r.texts[i], timestamp=self._at(t.base + offset), severity=r.severities[i])
                for i, offset in zip(range(after, upto), r.offsets[after:upto], strict=True)
            ]
        return page, visible > max(upto, after)

    # -- deriving
    def _at(self, seconds: float) -> datetime:
        return self.epoch + timedelta(seconds=seconds)

    def _touch(self, queue: str) -> None:
        self._versions[queue] = self._versions.get(queue, 0) + 1

    def _timeline(self, batch_request_id: int) -> _Timeline:
        return self._schedule(self._entries[batch_request_id].sub.queue)[batch_request_id]

    def _schedule(self, queue: str) -> dict[int, _Timeline]:
        """Every timeline of a queue: its jobs take free slots first come, first served.

        A later START never changes an earlier job's timeline, so new requests extend the
        cached schedule; a STOP or KILL (or a changed concurrency) recomputes it.
        """
        version, concurrency = self._versions.get(queue, 0), self._concurrency(queue)
        sched = self._schedules.get(queue)
        if sched is None or sched.version != version or sched.concurrency != concurrency:
            sched = self._schedules[queue] = _Schedule(version, concurrency)
        members = self._members.get(queue, [])
        for brid in members[sched.done :]:
            sched.timelines[brid] = self._place(self._entries[brid], sched)
        sched.done = len(members)
        return sched.timelines

    def _place(self, entry: _Entry, sched: _Schedule) -> _Timeline:
        sub, busy = entry.sub, sched.busy
        if sub.immediate is not None:
            now = sub.submitted_at
            return _Timeline(None, now, sub.immediate.code, sub.immediate.description, now, 1)
        freed: float | None = None
        start = sub.submitted_at
        if len(busy) >= sched.concurrency:
            freed = heapq.heappop(busy)
            start = max(start, freed)
        if entry.actions and entry.actions[0][1] < start:  # removed while it waited
            action, at = entry.actions[0]
            if freed is not None:
                heapq.heappush(busy, freed)
            if action == "STOP":
                return _Timeline(None, at, _C.DEL_QUEUE, "Removed from the queue by STOP", at, 0)
            return _Timeline(None, at, _C.KILLED, "Killed by KILL while queued", at, 0)
        timeline = self._run(entry, start)
        heapq.heappush(busy, timeline.end)
        return timeline

    def _run(self, entry: _Entry, start: float) -> _Timeline:
        r = self._rendered(entry)
        script = entry.sub.script
        assert script is not None
        end, code, description = start + r.total, script.final, script.description
        n = len(r.offsets)
        for action, at in entry.actions:
            if at >= end:
                break
            rel = at - start
            if action == "KILL":
                end, code, description = at, _C.KILLED, "Killed by KILL"
                n = bisect.bisect_right(r.offsets, rel)
            else:
                i = bisect.bisect_right(r.step_ends, rel)
                if i >= len(r.step_ends):  # pragma: no cover - at >= end was handled
                    break
                boundary = r.step_ends[i]
                if start + boundary < end:
                    end, code, description = start + boundary, _C.ABORTED, "Stopped by STOP"
                    n = bisect.bisect_left(r.offsets, boundary)
        return _Timeline(start, end, code, description, start, n)

    def _rendered(self, entry: _Entry) -> _Rendered:
        if entry.rendered is not None:
            return entry.rendered
        sub = entry.sub
        offsets: list[float] = []
        texts: list[str] = []
        severities: list[str] = []
        starts: list[float] = []
        states: list[CompletionCode] = []
        ends: list[float] = []
        if sub.script is None:
            assert sub.immediate is not None
            offsets, texts, severities = [0.0], [sub.immediate.message], ["ERROR"]
        else:
            t = 0.0
            for step in sub.script.steps:
                starts.append(t)
                states.append(step.state)
                if step.message is not None:
                    offsets.append(t)
                    texts.append(render(step.message, sub.values))
                    severities.append(step.severity)
                t = round(t + step.duration, 6)  # no 30.200000000000003: scripts say 30.2
                ends.append(t)
        entry.rendered = _Rendered(offsets, texts, severities, starts, states, ends, ends[-1] if ends else 0.0)
        return entry.rendered

    def __repr__(self) -> str:
        return f"Scheduler({len(self._entries)} batch requests, {len(self._members)} queues)"


# --------------------------------------------------------------------------- from a stored START


def resolve(catalog: Catalog, rec: RequestRecord) -> Submission:
    """What a stored START runs against `catalog`: its script, queue, user and template values.

    A RunAs user that is not an AMT user ends the request at submission; a script file
    that does not exist runs the vendor's `File not found` failure; a job the catalog no
    longer defines (a stored request after a restart) ends ERROR.
    """
    app = catalog.applications.get(rec.application)
    run_as = rec.run_as or (app.default_user if app is not None else DEFAULT_USER)
    queue = catalog.queue_of(rec.application, rec.queue)
    script: JobScript | None = None
    immediate = None
    if rec.run_as is not None and not catalog.is_amt_user(rec.run_as):
        immediate = Immediate(
            _C.INVALID_AMT_USER,
            f"RunAs user '{rec.run_as}' is not an AMT user",
            f"User '{rec.run_as}' is not a valid AMT user; the job was not started",
        )
    elif rec.file_name is not None:
        script = catalog.script(rec.file_name) or _missing_file_script(rec)
    else:
        script = catalog.job(rec.application, rec.job or "") or _missing_job_script(rec)
    job_name = rec.job or (script.name if script is not None else script_stem(rec.file_name or ""))
    values = template_values(
        parameters=rec.parameters,
        task_values=rec.task_values,
        run_as=run_as,
        submit_user=rec.submit_user,
        station=rec.station,
        queue=queue,
        application=rec.application,
        job=job_name,
        file_name=rec.file_name,
        batch_request_id=rec.batch_request_id,
    )
    return Submission(
        rec.batch_request_id, rec.task_id, rec.application, job_name, queue, rec.submitted_at, script, immediate, values
    )


def _working_dir(path: str) -> str:
    directory = posixpath.dirname(path) if path.startswith("/") else ntpath.dirname(path)
    return directory.upper().replace("\\", "\\\\")


def _missing_file_script(rec: RequestRecord) -> JobScript:
    """The vendor's answer to a script file that does not exist: ERROR, `File not found`."""
    path = rec.file_name or ""
    return JobScript(
        script_stem(path),
        (
            Step(f"Error starting job {format_parameters(rec.parameters)}", 0.0, severity="ERROR"),
            Step(
                f"[An error occurred trying to start process 'pwsh' with working directory "
                f"'{_working_dir(path)}'. The system cannot find the file specified.]",
                MISSING_FILE_SECONDS,
                severity="ERROR",
            ),
        ),
        _C.ERROR,
        FILE_NOT_FOUND,
    )


def _missing_job_script(rec: RequestRecord) -> JobScript:
    """A stored request whose job the current catalog no longer defines (after a restart)."""
    name = rec.job or "?"
    return JobScript(
        name,
        (Step(f"Job definition '{name}' not found in application '{rec.application}'", 0.0, severity="ERROR"),),
        _C.ERROR,
        "Job definition not found",
    )
