"""What `Client` and `AsyncClient` share: settings, request building, and the retry state
machine of one call. No I/O here: the two clients only send, sleep and log on."""

from __future__ import annotations

import difflib
import ipaddress
import logging
import os
import platform
import random
import ssl
import sys
import threading
import uuid
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypedDict, TypeVar

import attrs
import httpx

from amtopcon import _retry, _wire
from amtopcon._clock import Clock
from amtopcon._version import __version__
from amtopcon.config import read_connector_config, read_env
from amtopcon.errors import (
    AmtOpConError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ClientClosedError,
    ConfigError,
    InvalidResponseError,
    JobStartError,
    StartOutcomeUnknownError,
    ValidationError,
)
from amtopcon.models import ActionResult, JobStatus, task_values_from
from amtopcon.polling import PollPolicy

logger = logging.getLogger("amtopcon")

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
DEFAULT_TOTAL_TIMEOUT = 120.0
DEFAULT_MAX_RETRIES = 3
USER_AGENT = (
    f"amtopcon-python/{__version__} httpx/{httpx.__version__} "
    f"{platform.python_implementation()}/{platform.python_version()}"
)

#: What `verify=` takes: True, False, a CA bundle path or an `ssl.SSLContext`.
VerifyTypes = bool | str | os.PathLike[str] | ssl.SSLContext
#: What `proxy=` takes, as httpx does: a URL (string or `httpx.URL`) or an `httpx.Proxy`.
ProxyTypes = str | httpx.URL | httpx.Proxy


class ClientOptions(TypedDict, total=False):
    """The settings `with_options()`, `from_env()` and `from_connector_config()` take as
    keyword arguments: those of the `Client` constructor, `http_client` apart.

    Each means what the constructor's argument of that name means. A name not listed
    here raises `ValidationError` naming it.
    """

    base_url: str | httpx.URL
    username: str | None
    password: str | None
    timeout: float | httpx.Timeout
    total_timeout: float | None
    max_retries: int
    verify: VerifyTypes
    proxy: ProxyTypes | None
    headers: Mapping[str, str] | None
    poll: PollPolicy | None
    clock: Clock | None


OPTION_NAMES: frozenset[str] = frozenset(ClientOptions.__annotations__)


def check_options(what: str, options: Mapping[str, object]) -> None:
    """Refuse keywords that are not `ClientOptions` with a `ValidationError` naming the first."""
    unknown = sorted(set(options) - OPTION_NAMES)
    if not unknown:
        return
    name = unknown[0]
    if name == "http_client":
        raise ValidationError(f"{what}: http_client is not an option here (the copy shares the pool)", field=name)
    close = difflib.get_close_matches(name, OPTION_NAMES, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValidationError(
        f"{what}: unknown option {name!r}{hint}; the options are {', '.join(sorted(OPTION_NAMES))}", field=name
    )


class InsecureTransportWarning(UserWarning):
    """TLS verification is off, or credentials go over plain HTTP to a non-loopback host."""


_warned: set[str] = set()
_warn_lock = threading.Lock()
_logging_configured = False


def _warn_once(key: str, text: str) -> None:
    with _warn_lock:
        if key in _warned:
            return
        _warned.add(key)
    warnings.warn(text, InsecureTransportWarning, stacklevel=4)


def configure_logging_from_env() -> None:
    """`AMTOPCON_LOG=debug` (or info, warning) turns on the `amtopcon` logger on stderr."""
    global _logging_configured
    if _logging_configured:
        return
    _logging_configured = True
    level = os.environ.get("AMTOPCON_LOG", "").strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        return
    logger.setLevel(level)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger.addHandler(handler)


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalise_base_url(base_url: object) -> httpx.URL:
    """Check the base URL (http or https, with a host) and give it a trailing slash."""
    if not isinstance(base_url, (str, httpx.URL)):
        raise ValidationError("base_url: expected a URL string", field="base_url")
    try:
        url = httpx.URL(str(base_url).strip())
    except (httpx.InvalidURL, ValueError, TypeError):
        raise ValidationError(f"base_url: not a URL: {str(base_url)[:80]!r}", field="base_url") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValidationError(
            f"base_url: expected http:// or https:// with a host, got {str(base_url)[:80]!r}", field="base_url"
        )
    if url.userinfo:
        raise ValidationError("base_url: must not carry credentials; pass username= and password=", field="base_url")
    if not url.path.endswith("/"):
        url = url.copy_with(path=url.path + "/")
    return url


def ssl_context_for(verify: object) -> ssl.SSLContext | bool:
    """`verify=`: True, False, a CA bundle path (made into an SSLContext) or an SSLContext."""
    if isinstance(verify, (ssl.SSLContext, bool)):
        return verify
    if isinstance(verify, (str, os.PathLike)):
        path = os.fspath(verify)
        try:
            return ssl.create_default_context(cafile=path)
        except (OSError, ssl.SSLError) as exc:
            raise ValidationError(
                f"verify: cannot load CA bundle {path!r}: {type(exc).__name__}", field="verify"
            ) from None
    raise ValidationError("verify: expected True, False, a CA bundle path or an ssl.SSLContext", field="verify")


def _timeout(value: object) -> httpx.Timeout:
    if isinstance(value, httpx.Timeout):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValidationError(f"timeout: expected seconds > 0 or an httpx.Timeout, got {value!r}", field="timeout")
    return httpx.Timeout(float(value))


def _bounded(timeout: httpx.Timeout, remaining: float | None) -> httpx.Timeout:
    if remaining is None:
        return timeout

    def cap(v: float | None) -> float:
        return remaining if v is None else min(v, remaining)

    return httpx.Timeout(
        connect=cap(timeout.connect), read=cap(timeout.read), write=cap(timeout.write), pool=cap(timeout.pool)
    )


def _check_proxy(proxy: Any) -> Any:
    if proxy is None or isinstance(proxy, httpx.Proxy):
        return proxy
    if not isinstance(proxy, (str, httpx.URL)):
        raise ValidationError("proxy: expected a URL string, an httpx.URL or an httpx.Proxy", field="proxy")
    try:
        httpx.Proxy(proxy)
    except (ValueError, TypeError, httpx.InvalidURL) as exc:
        raise ValidationError(f"proxy: {exc}", field="proxy") from None
    return proxy


def _check_headers(headers: object) -> dict[str, str]:
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise ValidationError("headers: expected a mapping of header names to values", field="headers")
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str) or not name.strip():
            raise ValidationError(f"headers: names and values must be strings, got {name!r}", field="headers")
        if any(c in name + value for c in "\r\n\x00"):
            raise ValidationError(f"headers: {name!r} contains a line break", field="headers")
    return dict(headers)


def redacted(response: httpx.Response) -> httpx.Response:
    """A copy of an answer to keep on an error: its request without the token or a Logon body."""
    try:
        request = response.request
    except RuntimeError:
        return response
    token_header = _wire.H_TOKEN.lower()
    headers = [(k, "***" if k.lower() == token_header else v) for k, v in request.headers.items()]
    is_logon = request.url.path.endswith("/" + _wire.LOGON)
    clean_request = httpx.Request(
        request.method,
        request.url,
        headers=[(k, v) for k, v in headers if not (is_logon and k.lower() == "content-length")],
        content=b"" if is_logon else request.content,
    )
    drop = {"content-encoding", "content-length", "transfer-encoding"}
    return httpx.Response(
        response.status_code,
        headers=[(k, v) for k, v in response.headers.items() if k.lower() not in drop],
        content=response.content,
        request=clean_request,
    )


class _Secret:
    """Holds a secret; its repr and str never show it."""

    __slots__ = ("value",)

    def __init__(self, value: str | None) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<secret>" if self.value else "None"

    __str__ = __repr__


class AuthState:
    """The logon token, shared by a client and its `with_options()` copies."""

    def __init__(self) -> None:
        self.token = _Secret(None)
        self.thread_lock = threading.Lock()
        self.async_lock: Any = None
        self.logons = 0


@attrs.frozen
class Done:
    """The call is over: this response is the answer."""

    response: httpx.Response
    conflict_after_retry: bool = False


@attrs.frozen
class Sleep:
    """Wait this long, then try again."""

    seconds: float


@attrs.frozen
class Relogon:
    """Log on again (the token `stale` was refused), then repeat the call."""

    stale: str | None = attrs.field(repr=False)  # a token: never shown


Step = Done | Sleep | Relogon


class CallState:
    """The retry state machine of one call: attempts, deadline, what may be repeated."""

    def __init__(self, client: BaseClient, wreq: _wire.WireRequest, deadline: float | None = None) -> None:
        self.client = client
        self.wreq = wreq
        self.clock = client._clock
        self.started = self.clock.now()
        total = client._total_timeout
        self.deadline = None if total is None else self.started + total
        if deadline is not None:  # a Logon made for a call shares that call's deadline
            self.deadline = deadline if self.deadline is None else min(self.deadline, deadline)
        self.attempts = 0
        self.retries = 0
        self.relogged = False
        self.maybe_landed = False
        self.request_id: str | None = None
        self.token_sent: str | None = None

    # -- building
    def build(self, http: httpx.Client | httpx.AsyncClient, token: str | None) -> httpx.Request:
        remaining = None if self.deadline is None else self.deadline - self.clock.now()
        if remaining is not None and remaining <= 0:
            raise self._timed_out(None)
        self.attempts += 1
        self.request_id = str(uuid.uuid4())
        self.token_sent = token if self.wreq.needs_token else None
        return self.client._build_request(
            http, self.wreq, token, self.request_id, _bounded(self.client._timeout, remaining)
        )

    # -- deciding
    def _elapsed(self) -> float:
        return self.clock.now() - self.started

    def _log(self, outcome: str, request_id: str | None) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %s request_id=%s attempt=%d elapsed=%.3fs",
                self.wreq.method,
                self.client._base_url.join(self.wreq.function).path,  # the path, never the query or a header
                outcome,
                request_id,
                self.attempts,
                self._elapsed(),
            )

    def _timed_out(self, last: AmtOpConError | None) -> AmtOpConError:
        if last is not None:
            return last
        total = self.client._total_timeout
        limit = f"total_timeout of {total}s"
        if self.deadline is not None and (total is None or self.deadline < self.started + total):
            limit = f"the caller's deadline ({self.deadline - self.started:.1f}s)"  # e.g. a wait(timeout=...)
        return APITimeoutError(
            f"{self.wreq.function}: {limit} reached",
            attempts=self.attempts,
            request_id=self.request_id,
        )

    def _retry_or_raise(self, error: AmtOpConError, retry_after: float | None) -> Sleep:
        if retry_after is not None and retry_after > _retry.MAX_RETRY_AFTER:
            raise error
        if self.retries >= self.client._max_retries:
            raise error
        self.retries += 1
        delay = retry_after if retry_after is not None else _retry.backoff_delay(self.retries, self.client._rng)
        if self.deadline is not None and self.clock.now() + delay >= self.deadline:
            raise error
        return Sleep(delay)

    def on_response(self, response: httpx.Response) -> Step:
        rid = response.headers.get(_wire.H_REQUEST_ID) or self.request_id
        status = response.status_code
        self._log(str(status), rid)
        if 200 <= status < 300:
            return Done(response)
        wreq = self.wreq
        if status == 401 and self.token_sent is not None and not self.relogged:
            self.relogged = True
            return Relogon(self.token_sent)
        if status == 409 and wreq.kind == "action" and self.maybe_landed:
            return Done(response, conflict_after_retry=True)
        retry_after = None
        if status in (429, 503):
            retry_after = _retry.parse_retry_after(response.headers.get(_wire.H_RETRY_AFTER), self.clock.time())
        error = _wire.status_error(
            status,
            response.content,
            request_id=rid,
            retry_after=retry_after,
            response=redacted(response),
            attempts=self.attempts,
        )
        if wreq.kind == "start" and _retry.start_outcome_unknown(status=status):
            raise self._outcome_unknown(f"HTTP {status}", rid) from error
        if status in (500, 502, 504):
            self.maybe_landed = True
        if not _retry.retryable(wreq.kind, status=status):
            raise error
        return self._retry_or_raise(error, retry_after)

    def on_exception(self, exc: httpx.HTTPError) -> Step:
        failure = _retry.classify_exception(exc)
        what = type(exc).__name__
        self._log(what, self.request_id)
        if self.wreq.kind == "start" and failure is _retry.Failure.MAYBE_SENT:
            raise self._outcome_unknown(what, self.request_id) from exc
        if failure is _retry.Failure.MAYBE_SENT:
            self.maybe_landed = True
        cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
        detail = str(exc) or what
        if failure is _retry.Failure.FATAL and _retry._tls_failure(exc):
            detail = f"TLS certificate verification failed: {detail}"
        error = cls(f"{self.wreq.function}: {what}: {detail}", attempts=self.attempts, request_id=self.request_id)
        error.__cause__ = exc
        if not _retry.retryable(self.wreq.kind, failure=failure):
            raise error
        return self._retry_or_raise(error, None)

    def _outcome_unknown(self, why: str, rid: str | None) -> StartOutcomeUnknownError:
        task_id = self.wreq.task_id or ""
        return StartOutcomeUnknownError(
            f"START may or may not have queued the job ({why}); it was not resent. "
            f"Check AMT before starting it again (TaskId {task_id})",
            task_id=task_id,
            attempts=self.attempts,
            request_id=rid,
        )

    # -- reading
    def decode(self, response: httpx.Response, parse: Callable[..., T]) -> T:
        """Decode and parse a 2xx body; contract breaches become `InvalidResponseError`."""
        rid = response.headers.get(_wire.H_REQUEST_ID) or self.request_id
        try:
            data = _wire.decode_json(response.content, status_code=response.status_code, request_id=rid)
            return parse(data, status_code=response.status_code, request_id=rid)
        except InvalidResponseError as exc:
            exc.attempts = self.attempts
            exc.response = redacted(response)
            if self.wreq.kind == "start":
                # The server did answer START: whether it queued the job is unknown.
                raise self._outcome_unknown("the answer did not match the contract", rid) from exc
            raise


class BaseClient:
    """Settings and request building shared by `Client` and `AsyncClient`."""

    _http: Any

    def __init__(
        self,
        base_url: str | httpx.URL,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        total_timeout: float | None = DEFAULT_TOTAL_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        verify: VerifyTypes = True,
        proxy: ProxyTypes | None = None,
        headers: Mapping[str, str] | None = None,
        poll: PollPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        configure_logging_from_env()
        self._base_url = normalise_base_url(base_url)
        if username is not None and not isinstance(username, str):
            raise ValidationError("username: expected a string", field="username")
        if password is not None and not isinstance(password, str):
            raise ValidationError("password: expected a string", field="password")
        self._username = username
        self._password = _Secret(password)
        self._timeout = _timeout(timeout)
        if total_timeout is not None and (
            isinstance(total_timeout, bool) or not isinstance(total_timeout, (int, float)) or not total_timeout > 0
        ):
            raise ValidationError(
                f"total_timeout: expected seconds > 0 or None, got {total_timeout!r}", field="total_timeout"
            )
        self._total_timeout = None if total_timeout is None else float(total_timeout)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValidationError(f"max_retries: expected an integer >= 0, got {max_retries!r}", field="max_retries")
        self._max_retries = max_retries
        self._verify = ssl_context_for(verify)
        self._proxy = _check_proxy(proxy)
        self._headers = _check_headers(headers)
        if poll is not None and not isinstance(poll, PollPolicy):
            raise ValidationError("poll: expected a PollPolicy", field="poll")
        self._poll = poll or PollPolicy()
        if clock is not None and not isinstance(clock, Clock):
            raise ValidationError("clock: expected an amtopcon.Clock", field="clock")
        self._clock = clock or Clock()
        self._rng = random.Random()
        self._auth = AuthState()
        self._owns_http = True
        if self._verify is False:
            _warn_once("verify", "TLS verification is off (verify=False): the server's identity is not checked")
        if self._base_url.scheme == "http" and password and not _is_loopback(self._base_url.host):
            _warn_once(
                f"http:{self._base_url.host}",
                f"credentials are sent over plain HTTP to {self._base_url.host}; use https",
            )

    # -- construction from configuration sources (Client and AsyncClient call these)
    @staticmethod
    def _env_settings(
        environ: Mapping[str, str] | None, overrides: Mapping[str, Any]
    ) -> tuple[str | httpx.URL, dict[str, Any]]:
        check_options("from_env", overrides)
        env = read_env(environ)
        kwargs: dict[str, Any] = {"username": env.user, "password": env.password}
        if env.timeout is not None:
            kwargs["timeout"] = env.timeout
        if env.ca_bundle is not None and "verify" not in overrides:
            try:
                kwargs["verify"] = ssl_context_for(env.ca_bundle)
            except ValidationError as exc:
                raise ConfigError(exc.message, key="AMTOPCON_CA_BUNDLE") from None
        kwargs.update(overrides)
        return kwargs.pop("base_url", env.base_url), kwargs

    @staticmethod
    def _connector_config_settings(
        path: str | os.PathLike[str], overrides: Mapping[str, Any]
    ) -> tuple[str | httpx.URL, dict[str, Any]]:
        check_options("from_connector_config", overrides)
        cfg = read_connector_config(path)
        kwargs: dict[str, Any] = {
            "username": cfg.user,
            "password": cfg.password,
            "poll": PollPolicy.fixed(cfg.initial_poll_delay, cfg.poll_interval),
        }
        kwargs.update(overrides)
        return kwargs.pop("base_url", cfg.base_url), kwargs

    # -- public read-only settings
    @property
    def base_url(self) -> str:
        """The service's base URL (with a trailing slash)."""
        return str(self._base_url)

    @property
    def username(self) -> str | None:
        """The AMT API user."""
        return self._username

    @property
    def poll(self) -> PollPolicy:
        """The default `PollPolicy` of handles made by this client."""
        return self._poll

    @property
    def clock(self) -> Clock:
        """The client's time source."""
        return self._clock

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeout of one attempt."""
        return self._timeout

    @property
    def total_timeout(self) -> float | None:
        """The bound on one call with every retry and back-off (None: no bound)."""
        return self._total_timeout

    @property
    def max_retries(self) -> int:
        """Retries of one call (see the wire contract for what may repeat)."""
        return self._max_retries

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, username={self._username!r})"

    # -- building
    def _copy_kwargs(self) -> dict[str, Any]:
        return {
            "username": self._username,
            "password": self._password.value,
            "timeout": self._timeout,
            "total_timeout": self._total_timeout,
            "max_retries": self._max_retries,
            "verify": self._verify,
            "proxy": self._proxy,
            "headers": self._headers,
            "poll": self._poll,
            "clock": self._clock,
        }

    def _copy_with(self: Any, changes: Mapping[str, Any]) -> Any:
        check_options("with_options", changes)
        for name in ("verify", "proxy"):  # they belong to the shared connection pool
            if name in changes and changes[name] is not getattr(self, "_" + name):
                raise ValidationError(
                    f"{name}: belongs to the connection pool that with_options() shares; make a new client instead",
                    field=name,
                )
        kwargs = self._copy_kwargs()
        kwargs.update(changes)
        base_url = kwargs.pop("base_url", self._base_url)
        copy = type(self)(base_url, http_client=self._http, **kwargs)
        copy._owns_http = False
        if ("username" not in changes and "password" not in changes) and str(copy._base_url) == self.base_url:
            copy._auth = self._auth
        return copy

    def _http_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"verify": self._verify, "follow_redirects": False, "timeout": self._timeout}
        if self._proxy is not None:
            kwargs["proxy"] = self._proxy
        return kwargs

    def _build_request(
        self,
        http: httpx.Client | httpx.AsyncClient,
        wreq: _wire.WireRequest,
        token: str | None,
        request_id: str,
        timeout: httpx.Timeout,
    ) -> httpx.Request:
        headers = httpx.Headers(self._headers)  # case-insensitive: ours replace the caller's, never duplicate
        headers.pop(_wire.H_TOKEN, None)  # only the client's own token is ever sent
        headers["User-Agent"] = USER_AGENT
        headers["Accept"] = _wire.JSON_TYPE
        headers[_wire.H_REQUEST_ID] = request_id
        if wreq.needs_token and token is not None:
            headers[_wire.H_TOKEN] = token
        url = self._base_url.join(wreq.function)
        return http.build_request(
            wreq.method,
            url,
            params=dict(wreq.params) if wreq.params else None,
            json=wreq.body if wreq.body is not None else None,
            headers=headers,
            timeout=timeout,
        )

    def _closed_error(self, call: CallState) -> ClientClosedError:
        return ClientClosedError(
            f"{call.wreq.function}: the client is closed; make a new one "
            "(a with_options() copy shares its parent's connection pool and closes with it)",
            attempts=call.attempts or None,
        )

    def _credentials(self) -> tuple[str, str]:
        if not self._username or not self._password.value:
            raise ValidationError("username and password are needed to log on to AMTOpCon", field="username")
        return self._username, self._password.value


def start_request(
    application: str,
    job: str | None,
    *,
    parameters: Any = None,
    task_values: Any = None,
    run_as: str | None = None,
    file_name: str | None = None,
    submit_user: str = _wire.DEFAULT_SUBMIT_USER,
    station: str = _wire.DEFAULT_STATION,
    queue: str | None = None,
    task_id: str | None = None,
    xml_escape: bool = False,
) -> _wire.StartRequest:
    """Validate START arguments into a `StartRequest` (the TaskId is made here, once).

    `xml_escape`: the parameters' and the task values' text is sent with `&`, `<`, `>`,
    `"` and `'` as XML entities (the ACS plug-in's "Requires XML Escape Sequences"), for
    servers that embed them in XML; the limits apply to the escaped text.
    """
    if not isinstance(xml_escape, bool):
        raise ValidationError(f"xml_escape: expected True or False, got {xml_escape!r}", field="xml_escape")
    params = () if parameters is None else _wire.validate_parameters(parameters)
    values = task_values_from(task_values)
    if xml_escape:
        params = _wire.validate_parameters([escape_xml(p) for p in params])
        values = tuple(attrs.evolve(tv, value=escape_xml(tv.value)) for tv in values)
    kwargs: dict[str, Any] = {}
    if task_id is not None:
        kwargs["task_id"] = _wire.validate_task_id(task_id)
    return _wire.StartRequest(
        application=application,
        job=job,
        file_name=file_name,
        run_as=run_as,
        submit_user=submit_user,
        station=station,
        queue=queue,
        parameters=tuple(params),
        task_values=values,
        **kwargs,
    ).validate()


_START_OPTIONS: frozenset[str] = frozenset(
    {"parameters", "task_values", "run_as", "file_name", "submit_user", "station", "queue", "task_id", "xml_escape"}
)


def escape_xml(text: str) -> str:
    """`&`, `<`, `>`, `"` and `'` as XML entities (`xml_escape=True`)."""
    from xml.sax.saxutils import escape

    return escape(text, {'"': "&quot;", "'": "&apos;"})


def action_wire_request(
    action: str, *, application: Any, job: Any, batch_request_id: Any, start_kwargs: Mapping[str, Any]
) -> _wire.WireRequest:
    """The `job_action` arguments as a validated `WireRequest`."""
    if not isinstance(action, str) or action.upper() not in _wire.ACTIONS:
        raise ValidationError(f"action: expected START, STOP or KILL, got {action!r}", field="action")
    action = action.upper()
    unknown = sorted(set(start_kwargs) - _START_OPTIONS)
    if unknown:
        raise ValidationError(
            f"{unknown[0]}: not an option of job_action (START takes {', '.join(sorted(_START_OPTIONS))})",
            field=unknown[0],
        )
    if action == "START":
        if batch_request_id is not None:
            raise ValidationError("batch_request_id: not used by START", field="batch_request_id")
        if application is None:
            raise ValidationError("application: START needs an application name", field="application")
        return start_request(application, job, **start_kwargs).to_request()
    if batch_request_id is None:
        raise ValidationError(f"batch_request_id: {action} needs the job's BatchRequestId", field="batch_request_id")
    unused = [k for k, v in {"application": application, "job": job, **start_kwargs}.items() if v is not None]
    if unused:  # START's arguments would be silently dropped: say so instead
        raise ValidationError(f"{unused[0]}: not used by {action}", field=unused[0])
    return _wire.action_request(action, batch_request_id)


def target_of(wreq: _wire.WireRequest) -> int:
    """The BatchRequestId a STOP or KILL request names."""
    assert wreq.body is not None
    return int(wreq.body[_wire.F_BATCH_REQUEST_ID])


def accepted_after_retry(status: JobStatus) -> ActionResult:
    """A STOP/KILL answered 409 after an earlier attempt may have landed: accepted, with the
    job's code as MonitorJob now reports it."""
    return ActionResult(
        status.batch_request_id, status.code, status.status_text, "accepted (an earlier attempt of this call landed)"
    )


def check_started(result: Any, call: CallState) -> None:
    """A START answer with `BatchRequestId` <= 0: the server did not start the job."""
    if result.batch_request_id <= 0:
        raise JobStartError(
            f"the server did not start the job: {result.message or 'no reason given'}",
            batch_request_id=result.batch_request_id,
            task_id=call.wreq.task_id,
            attempts=call.attempts,
        )


__all__ = [
    "APIStatusError",
    "AuthState",
    "BaseClient",
    "CallState",
    "ClientOptions",
    "InsecureTransportWarning",
    "ProxyTypes",
    "VerifyTypes",
]
