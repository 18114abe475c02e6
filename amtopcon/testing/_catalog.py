"""The emulator's catalog: applications and their jobs, scripts, queues and users.

A job is a script of steps. Each step may write one message (a template that can quote
the START's parameters, task values and users), lasts some seconds, and may show a
waiting state (WAIT_FOR_FILE, WAIT_FOR_JOB, ...) while it lasts; after the last step the
job ends with its final code. Catalogs are built in Python (`Catalog.add_job`) or read
from TOML (`Catalog.from_toml`); `Catalog.default()` carries the vendor's sample jobs.

Message templates use `str.format` fields:

| field | value |
|---|---|
| `{parameters}` | every parameter, as AMT logs them: `['PARAM', 'X=1']` (`[]` for none) |
| `{param[0]}` | one parameter by position (empty when absent) |
| `{task_values[NAME]}` | one task value by name (empty when absent) |
| `{run_as}` | the RunAs user (the application's default user when none was given) |
| `{submit_user}`, `{station}`, `{queue}` | as sent with the START |
| `{application}`, `{job}`, `{file_name}`, `{batch_request_id}` | the batch request |

Write `{{` and `}}` for literal braces.
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
import math
import ntpath
import os
import posixpath
import re
import string
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import attrs

from amtopcon._text import counted
from amtopcon.errors import ConfigError
from amtopcon.models import CompletionCode

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_QUEUE",
    "DEFAULT_USER",
    "Application",
    "Catalog",
    "JobScript",
    "Step",
    "StepLike",
]

DEFAULT_QUEUE: Final = "DEFAULT"
DEFAULT_CONCURRENCY: Final = 4
DEFAULT_USER: Final = "BATCH"
TEMPLATE_FIELDS: Final = frozenset(
    {
        "parameters",
        "param",
        "task_values",
        "run_as",
        "submit_user",
        "station",
        "queue",
        "application",
        "job",
        "file_name",
        "batch_request_id",
    }
)
_FORMATTER = string.Formatter()


def _check_template(text: str, key: str, where: str | None) -> None:
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise ConfigError(
            f"bad message template {text!r}: {exc} (write {{{{ and }}}} for braces)", path=where, key=key
        ) from None
    for _literal, field, _spec, _conv in parsed:
        if field is None:
            continue
        root = re.split(r"[.\[]", field, maxsplit=1)[0]
        if root not in TEMPLATE_FIELDS:
            known = ", ".join(sorted(TEMPLATE_FIELDS))
            raise ConfigError(f"unknown placeholder {{{field}}} in message (known: {known})", path=where, key=key)


def parse_code(value: object, key: str, where: str | None = None) -> CompletionCode:
    """A completion code from its name (`"DONE"`, case-insensitive) or its number."""
    if isinstance(value, CompletionCode):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return CompletionCode(value)
    if isinstance(value, str):
        name = value.strip().upper()
        if name in CompletionCode.__members__:
            return CompletionCode[name]
        if name.isdigit():
            return CompletionCode(int(name))
    raise ConfigError(f"expected a completion code name or number, got {value!r}", path=where, key=key)


@attrs.frozen
class Step:
    """One step of a job's script.

    Attributes:
        message: the message template written when the step begins (None: no message).
        duration: how many seconds the step lasts (>= 0).
        state: the code MonitorJob shows while the step lasts (RUNNING, or a waiting
            state such as WAIT_FOR_FILE); never a terminal code.
        severity: the message's severity (INFO, WARNING or ERROR).
    """

    message: str | None = None
    duration: float = 0.0
    state: CompletionCode = CompletionCode.RUNNING
    severity: str = "INFO"


StepLike = Step | str | tuple[Any, ...] | Mapping[str, Any]


@attrs.frozen
class JobScript:
    """What a job (or a script file) does: its steps and its final code."""

    name: str
    steps: tuple[Step, ...]
    final: CompletionCode = CompletionCode.DONE
    description: str | None = None

    @property
    def duration(self) -> float:
        """The running time, from start to end, in seconds."""
        return round(math.fsum(s.duration for s in self.steps), 6)


@attrs.define
class Application:
    """An AMT application: its jobs, its default RunAs user and its default queue."""

    name: str
    default_user: str = DEFAULT_USER
    queue: str | None = None
    jobs: dict[str, JobScript] = attrs.field(factory=dict)


def _step(item: object, key: str, where: str | None) -> Step:
    """Coerce one step given as a `Step`, a message string, a tuple or a mapping."""
    if isinstance(item, Step):
        step = item
    elif isinstance(item, str):
        step = Step(item)
    elif isinstance(item, tuple) and 1 <= len(item) <= 4:
        fields = dict(zip(("message", "duration", "state", "severity"), item, strict=False))
        return _step(fields, key, where)
    elif isinstance(item, Mapping):
        unknown = set(item) - {"message", "duration", "state", "severity"}
        if unknown:
            raise ConfigError(f"unknown step field(s) {sorted(unknown)}", path=where, key=f"{key}.{sorted(unknown)[0]}")
        message = item.get("message")
        if message is not None and not isinstance(message, str):
            raise ConfigError("expected a string", path=where, key=f"{key}.message")
        duration = item.get("duration", 0.0)
        if isinstance(duration, bool) or not isinstance(duration, (int, float)):
            raise ConfigError(f"expected seconds (a number), got {duration!r}", path=where, key=f"{key}.duration")
        state = parse_code(item.get("state", CompletionCode.RUNNING), f"{key}.state", where)
        severity = item.get("severity", "INFO")
        if not isinstance(severity, str) or not severity:
            raise ConfigError("expected a severity such as INFO, WARNING or ERROR", path=where, key=f"{key}.severity")
        step = Step(message, float(duration), state, severity.upper())
    else:
        raise ConfigError(
            f"expected a step (a message, a (message, seconds) pair or a table), got {item!r}", path=where, key=key
        )
    if not step.duration >= 0 or step.duration == float("inf"):
        raise ConfigError(f"duration must be a finite number >= 0, got {step.duration!r}", path=where, key=key)
    if step.state.is_terminal:
        raise ConfigError(f"a step's state must not be a terminal code, got {step.state.name}", path=where, key=key)
    if step.message is not None:
        _check_template(step.message, f"{key}.message", where)
    return step


def make_script(
    name: str,
    steps: Iterable[StepLike],
    final: CompletionCode | int | str = CompletionCode.DONE,
    description: str | None = None,
    *,
    prefix: str = "",
    where: str | None = None,
) -> JobScript:
    """Build a `JobScript`, checking each step and the final code (`ConfigError` names the key).

    `prefix` is the dotted key of the job (e.g. `applications.DEMO2.jobs.X.`) used in errors.
    """
    if isinstance(steps, (str, bytes, Mapping)):
        raise ConfigError("expected a list of steps", path=where, key=f"{prefix}steps")
    items = tuple(_step(s, f"{prefix}steps[{i}]", where) for i, s in enumerate(steps))
    code = parse_code(final, f"{prefix}final", where)
    if not code.is_terminal:
        raise ConfigError(f"the final code must be a terminal code, got {code.name}", path=where, key=f"{prefix}final")
    if description is not None and not isinstance(description, str):
        raise ConfigError("expected a string", path=where, key=f"{prefix}description")
    return JobScript(name, items, code, description)


def script_key(path: str) -> str:
    """How script paths are compared: Windows paths case-insensitively, `/` and `\\` alike."""
    return path.replace("/", "\\").casefold() if not path.startswith("/") else path


def script_stem(path: str) -> str:
    """The file name of a script path without its extension (`RUN_SCRIPTTEST`)."""
    base = posixpath.basename(path) if path.startswith("/") else ntpath.basename(path)
    return base.rsplit(".", 1)[0] if "." in base else base


class Catalog:
    """Applications and jobs, script files, queues, logon users and AMT (RunAs) users.

    Args:
        users: logon users of the AMTOpCon API and their passwords (default: none).
        amt_users: AMT users a job may run as (`RunAsUser`); compared case-insensitively.
        default_queue: the queue of a START that names none (and whose application has none).
        default_concurrency: the concurrency of a queue that is named but not defined.
    """

    def __init__(
        self,
        *,
        users: Mapping[str, str] | None = None,
        amt_users: Iterable[str] = (DEFAULT_USER,),
        default_queue: str = DEFAULT_QUEUE,
        default_concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self.users: dict[str, str] = dict(users or {})
        self.amt_users: set[str] = {u.casefold() for u in amt_users}
        self.applications: dict[str, Application] = {}
        self.scripts: dict[str, JobScript] = {}
        self.queues: dict[str, int] = {}
        self.default_queue = default_queue
        self.default_concurrency = _concurrency(default_concurrency, "default_concurrency", None)

    # -- building
    def add_user(self, name: str, password: str) -> None:
        """Add a logon user of the API (the `UserName` / `Password` of Logon)."""
        self.users[name] = password

    def add_amt_user(self, name: str) -> None:
        """Add an AMT user that jobs may run as."""
        self.amt_users.add(name.casefold())

    def add_queue(self, name: str, concurrency: int) -> None:
        """Define a queue: at most `concurrency` of its jobs run at once; the rest stay QUEUED."""
        self.queues[name] = _concurrency(concurrency, f"queues.{name}.concurrency", None)

    def add_application(self, name: str, *, default_user: str = DEFAULT_USER, queue: str | None = None) -> Application:
        """Define an application (or return the existing one)."""
        app = self.applications.get(name)
        if app is None:
            app = self.applications[name] = Application(name, default_user, queue)
            self.amt_users.add(default_user.casefold())
        return app

    def add_job(
        self,
        application: str,
        job: str,
        steps: Iterable[StepLike] = (),
        final: CompletionCode | int | str = CompletionCode.DONE,
        description: str | None = None,
    ) -> JobScript:
        """Define (or replace) a job; the application is created when missing.

        `steps` items are `Step`s, message strings (no duration), `(message, seconds)` or
        `(message, seconds, state)` tuples, or mappings with the fields of `Step`.
        """
        script = make_script(job, steps, final, description, prefix=f"applications.{application}.jobs.{job}.")
        self.add_application(application).jobs[job] = script
        return script

    def add_script(
        self,
        path: str,
        steps: Iterable[StepLike] = (),
        final: CompletionCode | int | str = CompletionCode.DONE,
        description: str | None = None,
    ) -> JobScript:
        """Define a script file (a START's `FileName`) that exists on the batch server."""
        script = make_script(script_stem(path), steps, final, description, prefix=f"scripts.{path}.")
        self.scripts[script_key(path)] = script
        return script

    # -- reading
    def job(self, application: str, job: str) -> JobScript | None:
        """The script of a job, or None when the application or the job is not defined."""
        app = self.applications.get(application)
        return None if app is None else app.jobs.get(job)

    def script(self, path: str) -> JobScript | None:
        """The script behind a file path, or None when no such file exists."""
        return self.scripts.get(script_key(path))

    def queue_of(self, application: str, queue: str | None) -> str:
        """The queue a START runs in: the one it names, else its application's, else the default."""
        if queue:
            return queue
        app = self.applications.get(application)
        return (app.queue if app is not None else None) or self.default_queue

    def concurrency(self, queue: str) -> int:
        """How many jobs of `queue` may run at once."""
        return self.queues.get(queue, self.default_concurrency)

    def check_user(self, name: str, password: str) -> bool:
        """True when the logon user exists (case-insensitively) with exactly this password."""
        folded = name.casefold()
        return any(u.casefold() == folded and p == password for u, p in self.users.items())

    def is_amt_user(self, name: str) -> bool:
        """True when an AMT user of that name exists (case-insensitive)."""
        return name.casefold() in self.amt_users

    def copy(self) -> Catalog:
        """An independent copy (adding jobs to it leaves this one alone)."""
        return copy.deepcopy(self)

    def __repr__(self) -> str:
        jobs = sum(len(a.jobs) for a in self.applications.values())
        counts = (
            counted(len(self.applications), "application"),
            counted(jobs, "job"),
            counted(len(self.scripts), "script"),
        )
        return f"Catalog({', '.join(counts)})"

    # -- files
    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> Catalog:
        """Read a catalog file; a broken one raises `ConfigError` naming the file, line or key."""
        where = os.fspath(path)
        try:
            with open(where, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"cannot read the catalog file: {exc.strerror or exc}", path=where) from None
        except tomllib.TOMLDecodeError as exc:
            raise _toml_error(exc, where) from None
        return cls.from_dict(data, source=where)

    @classmethod
    def from_toml_text(cls, text: str, *, source: str = "<string>") -> Catalog:
        """Read a catalog from TOML text (see `from_toml`)."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise _toml_error(exc, source) from None
        return cls.from_dict(data, source=source)

    @classmethod
    def default(cls) -> Catalog:
        """A fresh copy of the default catalog: the vendor's sample jobs, user `ocadm` / `opconxps`."""
        return cls.from_dict(_default_data(), source=DEFAULT_CATALOG_NAME)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> Catalog:
        """Build a catalog from parsed TOML data (the layout of `default_catalog.toml`)."""
        return _CatalogReader(source).read(data)


DEFAULT_CATALOG_NAME: Final = "amtopcon.testing/default_catalog.toml"


@functools.cache
def _default_text() -> str:
    return importlib.resources.files("amtopcon.testing").joinpath("default_catalog.toml").read_text("utf-8")


def _default_data() -> dict[str, Any]:
    return tomllib.loads(_default_text())


def default_catalog_text() -> str:
    """The TOML text of the default catalog (a commented example of the file format)."""
    return _default_text()


def _toml_error(exc: tomllib.TOMLDecodeError, where: str) -> ConfigError:
    text = str(exc)
    match = re.search(r"at line (\d+)", text)
    line = getattr(exc, "lineno", None) or (int(match.group(1)) if match else None)
    reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", text)
    return ConfigError(f"not valid TOML: {reason}", path=where, line=line)


def _concurrency(value: object, key: str, where: str | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"expected an integer >= 1, got {value!r}", path=where, key=key)
    return value


class _CatalogReader:
    """Reads parsed TOML into a `Catalog`, naming the key of anything wrong."""

    TOP = frozenset({"users", "amt_users", "default_queue", "default_concurrency", "queues", "applications", "scripts"})

    def __init__(self, where: str | None) -> None:
        self.where = where

    def fail(self, message: str, key: str) -> ConfigError:
        return ConfigError(message, path=self.where, key=key)

    def table(self, value: object, key: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(f"expected a table, got {type(value).__name__}", key)
        return value

    def string(self, value: object, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"expected a non-empty string, got {value!r}", key)
        return value

    def only(self, data: Mapping[str, Any], allowed: Iterable[str], prefix: str) -> None:
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise self.fail(f"unknown key (expected one of {', '.join(sorted(allowed))})", prefix + unknown[0])

    def read(self, data: Mapping[str, Any]) -> Catalog:
        data = self.table(data, "<top level>")
        self.only(data, self.TOP, "")
        users = {
            name: self.string(pw, f"users.{name}") for name, pw in self.table(data.get("users", {}), "users").items()
        }
        amt_users_raw = data.get("amt_users", [DEFAULT_USER])
        if not isinstance(amt_users_raw, list):
            raise self.fail("expected a list of user names", "amt_users")
        amt_users = [self.string(u, f"amt_users[{i}]") for i, u in enumerate(amt_users_raw)]
        catalog = Catalog(
            users=users,
            amt_users=amt_users,
            default_queue=self.string(data.get("default_queue", DEFAULT_QUEUE), "default_queue"),
            default_concurrency=_concurrency(
                data.get("default_concurrency", DEFAULT_CONCURRENCY), "default_concurrency", self.where
            ),
        )
        for name, spec in self.table(data.get("queues", {}), "queues").items():
            key = f"queues.{name}"
            spec = self.table(spec, key)
            self.only(spec, ("concurrency",), key + ".")
            if "concurrency" not in spec:
                raise self.fail("missing key", f"{key}.concurrency")
            catalog.queues[name] = _concurrency(spec["concurrency"], f"{key}.concurrency", self.where)
        for app_name, spec in self.table(data.get("applications", {}), "applications").items():
            key = f"applications.{app_name}"
            spec = self.table(spec, key)
            self.only(spec, ("default_user", "queue", "jobs"), key + ".")
            queue = spec.get("queue")
            app = catalog.add_application(
                app_name,
                default_user=self.string(spec.get("default_user", DEFAULT_USER), f"{key}.default_user"),
                queue=None if queue is None else self.string(queue, f"{key}.queue"),
            )
            for job_name, job in self.table(spec.get("jobs", {}), f"{key}.jobs").items():
                app.jobs[job_name] = self.script(job_name, job, f"{key}.jobs.{job_name}")
        for path, spec in self.table(data.get("scripts", {}), "scripts").items():
            catalog.scripts[script_key(path)] = self.script(script_stem(path), spec, f"scripts.{path}")
        return catalog

    def script(self, name: str, spec: object, key: str) -> JobScript:
        spec = self.table(spec, key)
        self.only(spec, ("steps", "final", "description"), key + ".")
        steps = spec.get("steps", [])
        if not isinstance(steps, list):
            raise self.fail("expected an array of step tables", f"{key}.steps")
        description = spec.get("description")
        if description is not None and not isinstance(description, str):
            raise self.fail("expected a string", f"{key}.description")
        return make_script(
            name, steps, spec.get("final", CompletionCode.DONE), description, prefix=f"{key}.", where=self.where
        )


# --------------------------------------------------------------------------- rendering


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


class _Params(list[str]):
    def __getitem__(self, index: Any) -> Any:
        try:
            return super().__getitem__(index)
        except (IndexError, TypeError):
            return ""


def format_parameters(parameters: Sequence[str]) -> str:
    """Parameters as AMT logs them: `['PARAM']` for `'PARAM'`, `[]` for none."""
    return "[" + ", ".join(parameters) + "]"


def template_values(
    *,
    parameters: Sequence[str],
    task_values: Iterable[tuple[str, str]],
    run_as: str,
    submit_user: str,
    station: str,
    queue: str,
    application: str,
    job: str,
    file_name: str | None,
    batch_request_id: int,
) -> dict[str, Any]:
    """The values a message template may quote."""
    return {
        "parameters": format_parameters(parameters),
        "param": _Params(parameters),
        "task_values": _Missing(dict(task_values)),
        "run_as": run_as,
        "submit_user": submit_user,
        "station": station,
        "queue": queue,
        "application": application,
        "job": job,
        "file_name": file_name or "",
        "batch_request_id": batch_request_id,
    }


def render(template: str, values: Mapping[str, Any]) -> str:
    """Fill a checked message template; a template that still fails is written as is."""
    try:
        return template.format_map(values)
    except (KeyError, IndexError, AttributeError, ValueError, TypeError):
        return template
