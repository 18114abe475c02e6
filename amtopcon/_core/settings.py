"""A client's settings and everything about it that does no I/O: the options type, URL,
TLS, proxy and header checks, the shared logon state, and request building. `AsyncClient`
and `Client` derive from `BaseClient` and add only the sending loop."""

from __future__ import annotations

import copy
import difflib
import math
import os
import platform
import random
import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

import httpx

from amtopcon import _constants as C
from amtopcon import _validate, _wire
from amtopcon._clock import Clock
from amtopcon._core.observe import NO_OBSERVER, Observer, check_event_hooks
from amtopcon._logging import configure_logging_from_env, warn_once
from amtopcon._types import EventHooks
from amtopcon._validate import Secret
from amtopcon._version import __version__
from amtopcon.config import read_connector_config, read_env
from amtopcon.errors import AmtOpConError, ClientClosedError, ConfigError, ValidationError
from amtopcon.polling import PollPolicy

if TYPE_CHECKING:  # pragma: no cover
    from amtopcon._core.call import CallState

__all__ = ["AuthState", "BaseClient", "ClientOptions", "ProxyTypes", "VerifyTypes"]

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

    Attributes:
        base_url: the service root, e.g. `https://amt.example.com:4004/AmtOpConService/`.
        username: the AMT API user.
        password: its password (never logged or shown).
        timeout: seconds (or an `httpx.Timeout`) for one attempt; default 30.0.
        total_timeout: seconds for one call with every retry and back-off; default 120.0; None: no bound.
        max_retries: retries of one call; default 3.
        verify: TLS verification: True (default), False, a CA bundle path or an `ssl.SSLContext`.
        proxy: a proxy, as httpx takes it (a URL or an `httpx.Proxy`); default None.
        headers: extra headers sent on every call.
        poll: the default `PollPolicy` of the handles (None: `PollPolicy()`).
        clock: the time source (None: the real clock).
        event_hooks (EventHooks | None): functions that see every attempt's request and
            answer (redacted copies), as `{"request": [...], "response": [...]}`; default None.
        max_response_size: the largest answer read, in bytes; default 64 MiB (a larger one
            raises `ResponseTooLargeError` before more of it is read).
        max_in_flight: calls this client has in flight at once (default 10; more wait their
            turn, first come, first served); the connection pool it makes holds as many
            connections, all kept alive.
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
    event_hooks: EventHooks | None
    max_response_size: int
    max_in_flight: int


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


def timeout_for(value: object) -> httpx.Timeout:
    if isinstance(value, httpx.Timeout):
        return value
    seconds = _validate.number(value)
    if seconds is None or not 0 < seconds < math.inf:
        raise ValidationError(f"timeout: expected seconds > 0 or an httpx.Timeout, got {value!r}", field="timeout")
    return httpx.Timeout(seconds)


def check_proxy(proxy: Any) -> Any:
    if proxy is None or isinstance(proxy, httpx.Proxy):
        return proxy
    if not isinstance(proxy, (str, httpx.URL)):
        raise ValidationError("proxy: expected a URL string, an httpx.URL or an httpx.Proxy", field="proxy")
    try:
        httpx.Proxy(proxy)
    except (ValueError, TypeError, httpx.InvalidURL) as exc:
        raise ValidationError(f"proxy: {exc}", field="proxy") from None
    return proxy


def with_query(url: httpx.URL, query: str) -> httpx.URL:
    """`url` with `query` (already percent-encoded) as its query, without parsing the URL
    again: httpx's `URL` keeps its parts in a named tuple, replaced here. Checked once
    against httpx's own parse of the same text; should httpx change, the text is parsed."""
    global _QUERY_SAFE
    if _QUERY_SAFE is None:
        _QUERY_SAFE = _query_replace_works()
    if not _QUERY_SAFE:
        return httpx.URL(f"{url}?{query}")
    made = object.__new__(httpx.URL)
    made._uri_reference = url._uri_reference._replace(query=query)
    return made


_QUERY_SAFE: bool | None = None

#: httpx's own `build_request` (a subclass that overrides it is left to it).
_PLAIN_BUILD: frozenset[Any] = frozenset({httpx.Client.build_request, httpx.AsyncClient.build_request})


def _query_replace_works() -> bool:
    try:
        base = httpx.URL("https://h.example:4004/S/MonitorJob")
        made = object.__new__(httpx.URL)
        made._uri_reference = base._uri_reference._replace(query="a=1&b=22")
        parsed = httpx.URL("https://h.example:4004/S/MonitorJob?a=1&b=22")
        return (
            made == parsed
            and str(made) == str(parsed)
            and made.raw_path == parsed.raw_path
            and made.query == parsed.query
            and made.host == parsed.host
        )
    except Exception:  # pragma: no cover - an httpx without the named tuple
        return False


class AuthState:
    """The logon token, shared by a client and its `with_options()` copies.

    One Logon is in flight at a time (under `lock`), also when it fails: the calls that
    waited for a Logon that failed share its failure (`before_logon()` raises a copy),
    and the next Logon waits out a back-off (an account is not locked by a burst).
    """

    __slots__ = ("ended", "failure", "failures", "lock", "logons", "retry_at", "token")

    def __init__(self, lock: Any) -> None:
        self.token = Secret(None)
        self.lock = lock  # a `primitives.Lock` or `AsyncLock`: one Logon at a time
        self.logons = 0
        self.ended = 0  # Logons ended (either way): a caller notes it before queueing for the lock
        self.failure: AmtOpConError | None = None  # the last Logon's failure, until one succeeds
        self.failures = 0  # Logons failed in a row (the back-off grows with them)
        self.retry_at = 0.0  # no Logon before this (client clock), after a failure

    def before_logon(self, seen: int | None, now: float, deadline: float | None) -> float:
        """Seconds to wait before this Logon (hold the lock); raises the shared failure when a
        Logon failed while this caller queued (`seen` is `ended` as it noted it), or when
        the back-off outlasts the call's deadline."""
        failure = self.failure
        if failure is None:
            return 0.0
        delay = max(0.0, self.retry_at - now)
        if (seen is not None and seen != self.ended) or (deadline is not None and now + delay >= deadline):
            shared = copy.copy(failure)
            shared.__cause__ = failure.__cause__
            raise shared.with_traceback(None)
        return delay

    def failed(self, error: AmtOpConError, retry_at: float) -> None:
        self.failure = error
        self.retry_at = retry_at
        self.failures += 1
        self.ended += 1

    def succeeded(self, token: str) -> None:
        self.token.value = token
        self.failure = None
        self.failures = 0
        self.logons += 1
        self.ended += 1


class BaseClient:
    """Settings and request building shared by `Client` and `AsyncClient`."""

    _http: Any

    def __init__(self, settings: ClientOptions) -> None:
        """Check and keep `settings` (the constructor's arguments, `http_client` apart)."""
        base_url = settings.get("base_url")
        username = settings.get("username")
        password = settings.get("password")
        timeout = settings.get("timeout", C.DEFAULT_TIMEOUT)
        total_timeout = settings.get("total_timeout", C.DEFAULT_TOTAL_TIMEOUT)
        max_retries = settings.get("max_retries", C.DEFAULT_MAX_RETRIES)
        max_response_size = settings.get("max_response_size", C.MAX_RESPONSE_SIZE)
        max_in_flight = settings.get("max_in_flight", C.DEFAULT_MAX_IN_FLIGHT)
        verify = settings.get("verify", True)
        poll = settings.get("poll")
        clock = settings.get("clock")
        configure_logging_from_env()
        self._base_url = normalise_base_url(base_url)
        if username is not None and not isinstance(username, str):
            raise ValidationError("username: expected a string", field="username")
        if password is not None and not isinstance(password, str):
            raise ValidationError("password: expected a string", field="password")
        self._username = username
        self._password = Secret(password)
        self._timeout = timeout_for(timeout)
        self._total_timeout = _validate.seconds(
            total_timeout, "total_timeout", inclusive=False, finite=False, allow_none=True
        )
        self._max_retries = _validate.integer(max_retries, "max_retries", minimum=0)
        self._max_response_size = _validate.integer(max_response_size, "max_response_size", minimum=1)
        self._max_in_flight = _validate.integer(max_in_flight, "max_in_flight", minimum=1)
        self._slots = self._new_slots(self._max_in_flight)
        self._verify = ssl_context_for(verify)
        self._proxy = check_proxy(settings.get("proxy"))
        self._headers = _validate.headers(settings.get("headers"))
        if poll is not None and not isinstance(poll, PollPolicy):
            raise ValidationError("poll: expected a PollPolicy", field="poll")
        self._poll = poll or PollPolicy()
        if clock is not None and not isinstance(clock, Clock):
            raise ValidationError("clock: expected an amtopcon.Clock", field="clock")
        self._clock = clock or Clock()
        self._poller = self._new_poller()  # when each wait's next round is due
        self._event_hooks = check_event_hooks(settings.get("event_hooks"))
        self._observer: Observer = NO_OBSERVER  # telemetry: `amtopcon.otel.instrument(client)` sets it
        self._rng = random.Random()
        self._prepare_requests()
        self._auth = AuthState(self._new_lock())
        self._owns_http = True
        if self._verify is False:
            warn_once("verify", "TLS verification is off (verify=False): the server's identity is not checked")
        if self._base_url.scheme == "http" and password and not _validate.is_loopback(self._base_url.host):
            warn_once(
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
    def max_in_flight(self) -> int:
        """Calls this client has in flight at once (more wait their turn)."""
        return self._max_in_flight

    @property
    def max_retries(self) -> int:
        """Retries of one call (see the wire contract for what may repeat)."""
        return self._max_retries

    def _deadline(self, timeout: object) -> float | None:
        """A per-call `timeout=` (seconds for the whole call) as a deadline on the client's clock."""
        seconds = _validate.seconds(timeout, "timeout", inclusive=False, finite=False, allow_none=True)
        return None if seconds is None else self._clock.now() + seconds

    def _new_lock(self) -> Any:
        """The lock that lets one Logon run at a time (each flavour gives its own)."""
        raise NotImplementedError

    def _new_slots(self, n: int) -> Any:
        """The bound on calls in flight (each flavour gives its own)."""
        raise NotImplementedError

    def _new_poller(self) -> Any:
        """The poll scheduler of the waits and follows (each flavour gives its own)."""
        raise NotImplementedError

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
            "event_hooks": self._event_hooks,
            "max_response_size": self._max_response_size,
            "max_in_flight": self._max_in_flight,
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
        copy._observer = self._observer
        if ("username" not in changes and "password" not in changes) and str(copy._base_url) == self.base_url:
            copy._auth = self._auth
        return copy

    def _http_kwargs(self) -> dict[str, Any]:
        n = self._max_in_flight  # as many connections as calls in flight, all kept alive (no reconnect churn)
        kwargs: dict[str, Any] = {
            "verify": self._verify,
            "follow_redirects": False,
            "timeout": self._timeout,
            "limits": httpx.Limits(max_connections=n, max_keepalive_connections=n),
        }
        if self._proxy is not None:
            kwargs["proxy"] = self._proxy
        return kwargs

    def _prepare_requests(self) -> None:
        # What every call would otherwise rebuild (issue 10's per-call fast path): each
        # function's URL is joined once (on first use), the constant headers made once,
        # the timeout's extension dict once.
        self._urls: dict[str, httpx.URL] = {}
        headers = httpx.Headers(self._headers)  # case-insensitive: ours replace the caller's, never duplicate
        headers.pop(_wire.H_TOKEN, None)  # only the client's own token is ever sent
        headers.pop(_wire.H_REQUEST_ID, None)  # each attempt adds its own
        headers["User-Agent"] = USER_AGENT
        headers["Accept"] = _wire.JSON_TYPE
        self._fixed_headers: list[tuple[str, str]] = headers.multi_items()
        self._merged: tuple[httpx.Headers, list[tuple[bytes, bytes]], list[tuple[bytes, bytes]]] | None = None
        t = self._timeout
        self._timeout_ext: dict[str, float | None] = t.as_dict()
        parts = (t.connect, t.read, t.write, t.pool)
        # A deadline further away than the longest part bounds nothing: the cached dict serves.
        self._timeout_span = math.inf if None in parts else max(p for p in parts if p is not None)

    def _timeout_within(self, remaining: float | None) -> dict[str, float | None]:
        """The timeout extension of an attempt with `remaining` seconds left of its call
        (None: no deadline): each part capped by it (a part of None becomes it)."""
        if remaining is None or remaining >= self._timeout_span:
            return self._timeout_ext
        return {k: remaining if v is None else min(v, remaining) for k, v in self._timeout_ext.items()}

    def _function_url(self, function: str) -> httpx.URL:
        """The URL of a function of the contract, joined to the base URL once per client."""
        url = self._urls.get(function)
        if url is None:
            url = self._urls[function] = self._base_url.join(function)
        return url

    def _url(self, wreq: _wire.WireRequest) -> httpx.URL | str:
        base = self._function_url(wreq.function)
        params = wreq.params
        if not params:
            return base
        if all(type(v) is int for v in params.values()):  # the contract's ids and counts: nothing to quote
            return with_query(base, "&".join(f"{k}={v}" for k, v in params.items()))
        return f"{base}?{httpx.QueryParams(dict(params))}"

    def _build_request(
        self,
        http: httpx.Client | httpx.AsyncClient,
        wreq: _wire.WireRequest,
        token: str | None,
        request_id: str,
        timeout: dict[str, float | None],
    ) -> httpx.Request:
        own = [(_wire.H_REQUEST_ID, request_id)]
        if wreq.needs_token and token is not None:
            own.append((_wire.H_TOKEN, token))
        body = wreq.body
        base = self._merged_headers(http)
        if base is not None:  # what build_request would make, without merging the same headers again
            headers: list[Any] = [*base, *own]
            extensions = {"timeout": timeout}
            return httpx.Request(wreq.method, self._url(wreq), json=body, headers=headers, extensions=extensions)
        return http.build_request(
            wreq.method,
            self._url(wreq),
            json=body,
            headers=[*self._fixed_headers, *own],
            extensions={"timeout": timeout},
        )

    def _merged_headers(self, http: httpx.Client | httpx.AsyncClient) -> list[tuple[bytes, bytes]] | None:
        """The pool's default headers with the client's constant ones merged in, exactly as
        httpx's `build_request` merges them (ours replace theirs), as raw pairs: made once,
        and again whenever the pool's defaults change. None when `build_request` must do it
        itself: the pool carries cookies or query parameters, its class overrides
        `build_request`, or its defaults hold a header each attempt sets (request id, token)."""
        if type(http).build_request not in _PLAIN_BUILD or http.params or http.cookies:
            return None
        defaults = http.headers
        raw = defaults.raw
        merged = self._merged
        if merged is not None and merged[0] is defaults and merged[1] == raw:
            return merged[2]
        if _wire.H_REQUEST_ID in defaults or _wire.H_TOKEN in defaults:
            return None
        headers = httpx.Headers(defaults)
        headers.update(self._fixed_headers)
        self._merged = (defaults, raw, headers.raw)
        return headers.raw

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
