"""The HTTP session under FcClient: one per client, shared by threads, with keep-alive.

Every call has a timeout and one time budget; transient failures (connection errors, read timeouts
on idempotent calls, 429/500/502/503/504) are retried by urllib3's ``Retry`` with exponential backoff
and jitter, honouring ``Retry-After``, bounded both in count and in total time. Redirects are never
followed, bodies are capped, and every failure becomes a classified, redacted error.

API-neutral: each call names its :data:`Signer` (FC 2.0's FC signature, FC 3.0's ACS3), and the
credentials are asked for at every attempt, so a retry signs with a refreshed STS token.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import math
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Optional, Union
from urllib.parse import quote, urlsplit

import requests
from pydantic import BaseModel
from pydantic import ValidationError as _PydanticValidationError
from requests.adapters import HTTPAdapter
from requests.hooks import dispatch_hook
from requests.cookies import RequestsCookieJar, extract_cookies_to_jar
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import InvalidHeader, MaxRetryError
from urllib3.util.retry import Retry
from urllib3.util.timeout import Timeout as _Urllib3Timeout

from . import __version__
from .credentials import Credentials
from .errors import (
    FcApiError,
    FcInvocationError,
    InvalidArgumentError,
    InvalidResponseError,
    RedirectError,
    RequestTimeoutError,
    ResponseTooLargeError,
    TransportError,
    UnreachableError,
    error_class_for,
    redact,
)
from .wire import BodyTimeout, BodyTooLarge, classify_exception, parse_error_body, read_body, warn_plain_http

__all__ = [
    "Transport", "SignableRequest", "Signer", "CredentialSource", "check_timeout", "request_id_of", "encode_query",
    "RETRY_STATUSES", "TOKEN_REFUSED_CODES", "MAX_RESPONSE_BYTES", "IDEMPOTENT_METHODS", "USER_AGENT", "Timeout",
]

log = logging.getLogger("pulumi_fc_invocation.transport")


class _OwnHostsMasked(logging.Filter):
    """Masks our endpoints' hosts and paths in urllib3's records (its retry warnings, and at DEBUG each
    connection and retry).

    urllib3 warns of each retry (``Retrying (...) after connection broken by ... host='...': /path``) and
    of bad certificates or headers (host, URL), and a Pulumi program or the plugin prints warnings to
    stderr. Our host is ``<account id>.<region>.fc.aliyuncs.com`` or a configured endpoint, either of
    which may be a secret. Records about other hosts (other users of urllib3 in the process) pass
    untouched. A filter applies to the logger it is added to only, so it is added to each of urllib3's."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._texts: frozenset[str] = frozenset()
        self._pattern: Optional[re.Pattern[str]] = None  # replaced whole, never mutated: read without the lock

    def add(self, *texts: Optional[str]) -> None:
        """Mask these texts (an endpoint's host, its path) from now on, in this process."""
        with self._lock:
            texts_now = self._texts | {t for t in texts if t}
            if texts_now == self._texts:
                return
            # One pass, longest first, on token boundaries: a text inside another never splits it (a
            # short host within a long one), and the mask itself is never scanned again.
            # A host is a whole name; a path ("/...") may follow a host[:port] directly.
            alternatives = "|".join((re.escape(t) if t.startswith("/") else f"(?<![\\w.-]){re.escape(t)}")
                                    for t in sorted(texts_now, key=len, reverse=True))
            self._texts, self._pattern = texts_now, re.compile(f"(?:{alternatives})(?![\\w-])")

    def filter(self, record: logging.LogRecord) -> bool:
        pattern = self._pattern
        if pattern is None:
            return True
        text = record.getMessage()
        masked = pattern.sub("[fc endpoint]", text)
        if masked != text:
            record.msg, record.args = masked, ()
        return True


_OWN_HOSTS = _OwnHostsMasked()
for _name in ("urllib3.connectionpool", "urllib3.connection", "urllib3.poolmanager", "urllib3.response",
              "urllib3.util.retry"):
    logging.getLogger(_name).addFilter(_OWN_HOSTS)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# FC's 403 codes for a token it will not take: with a source that can refresh, fetched anew once.
TOKEN_REFUSED_CODES = frozenset({"SecurityTokenExpired", "InvalidSecurityToken"})
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "HEAD"})
_IDEMPOTENT = IDEMPOTENT_METHODS
# Far above FC's largest answer (a 1 MB return payload plus a 128 KB invocation payload, JSON-escaped,
# in an envelope), compressed or not: a gzip bomb or a broken proxy stops here, not in RAM.
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
USER_AGENT = (
    f"pulumi-fc-invocation/{__version__} python/{sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]} requests/{requests.__version__}"
)
_USER_AGENT = USER_AGENT
# FC 2.0 documents x-fc-request-id; FC 3.0 (ACS gateway) answers x-acs-request-id.
_REQUEST_ID_HEADERS = ("X-Fc-Request-Id", "X-Acs-Request-Id")


@dataclass
class SignableRequest:
    """One attempt of a request, as a signer sees it: the signer adds its headers to ``headers``.

    ``path`` is sent as given (already percent-encoded where the API needs it); ``query`` is what
    requests will encode after it; ``host`` is the endpoint's ``host[:port]``.
    """

    method: str
    path: str
    query: Mapping[str, str]
    headers: dict[str, str]
    body: bytes
    host: str
    attempt: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


Signer = Callable[[SignableRequest, Credentials], None]
"""Signs one attempt in place (date, token and signature headers), with the credentials current for it."""

CredentialSource = Union[Credentials, Callable[[], Credentials], Any]
"""A ``Credentials``, a callable returning the current ones, or an object with ``current()``."""


def _keywords(func: Callable[..., Any], *names: str) -> set[str]:
    """Which of ``names`` ``func`` takes as keywords (all of them with ``**kwargs``)."""
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return set()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return set(names)
    return {p.name for p in parameters if p.name in names and p.kind is not inspect.Parameter.POSITIONAL_ONLY}


def _credential_getter(source: CredentialSource) -> Callable[[float], Credentials]:
    """A callable taking the seconds left of the call: passed on as ``current(timeout=...)`` when the source
    takes it (a RefreshableCredentials: its fetch then ends by the call's deadline)."""
    # current() first: a RefreshableCredentials is a Credentials too, and its current() hands out one
    # snapshot (key id, secret and token that belong together) with time left; a plain one returns itself.
    current = getattr(source, "current", None)
    if callable(current):
        if _keywords(current, "timeout"):
            return lambda left: current(timeout=left)
        return lambda left: current()
    if callable(source):
        return lambda left: source()
    raise InvalidArgumentError("credentials", type(source).__name__,
                               "must be Credentials, a callable returning Credentials, or have current()")


def _refresher(source: CredentialSource) -> Optional[Callable[[Optional[Credentials], float], Any]]:
    """``refresh(stale=..., timeout=...)`` of a source that takes the refused snapshot and the seconds left
    of the call, else as much of it as it takes (a source of one's own may have the older signature);
    None for a source that cannot refresh."""
    refresh = getattr(source, "refresh", None)
    if not callable(refresh):
        return None
    takes = _keywords(refresh, "stale", "timeout")
    return lambda stale, left: refresh(**{name: value for name, value in (("stale", stale), ("timeout", left))
                                          if name in takes})


def encode_query(params: Mapping[str, Any]) -> str:
    """``k=v&...`` with names and values RFC 3986-encoded (``A-Za-z0-9-_.~`` kept, space ``%20``): what
    the ACS3 signature canonicalizes, sent as is (requests' own encoding would send ``+``)."""
    return "&".join(f"{quote(str(key), safe='~')}={quote(str(value), safe='~')}" for key, value in params.items())


def request_id_of(response: requests.Response) -> Optional[str]:
    """FC's request id of an answer (2.0 or 3.0 header), None when there is none."""
    for name in _REQUEST_ID_HEADERS:
        value = response.headers.get(name)
        if value:
            return value
    return None


Timeout = Union[float, tuple[float, float]]

class _BoundedRetry(Retry):
    """urllib3 ``Retry`` that also stops once the call's time budget would be exceeded.

    ``started`` is the start of the call (set per call, so the first attempt is not free). A
    ``Retry-After`` is honoured as given: a wait that would end past the budget is not started, and
    the caller gets the throttling error now instead of after a pointless sleep (or a retry sooner
    than the server asked).
    """

    def __init__(self, *args: Any, budget: float = 30.0, started: Optional[float] = None,
                 before_attempt: Optional[Callable[[], None]] = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = budget
        self.started = started
        self.before_attempt = before_attempt

    def new(self, **kw: Any) -> "_BoundedRetry":
        kw.setdefault("budget", self.budget)
        kw.setdefault("started", self.started)
        kw.setdefault("before_attempt", self.before_attempt)
        return super().new(**kw)  # type: ignore[return-value]

    def sleep(self, response: Any = None) -> None:
        # urllib3 calls this right before each retry, with the same headers object: re-sign it there,
        # so the retry carries a fresh date and the credentials current now (a refreshed STS token).
        super().sleep(response)
        if self.before_attempt is not None:
            self.before_attempt()

    def get_retry_after(self, response: Any) -> Optional[float]:
        try:
            return super().get_retry_after(response)
        except InvalidHeader:
            return None  # unparsable: fall back to our own backoff rather than lose FC's answer

    def parse_retry_after(self, retry_after: str) -> float:
        # urllib3 takes whole seconds or an HTTP date and raises InvalidHeader on anything else
        # ("0.5", "soon"), which escaped as a TransportError and hid a retryable 429/503.
        try:
            seconds = float(retry_after)
        except ValueError:
            return super().parse_retry_after(retry_after)
        if not math.isfinite(seconds):
            raise InvalidHeader(f"Invalid Retry-After header: {retry_after}")
        return max(0.0, seconds)

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        started = self.started if self.started is not None else time.monotonic()
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        new.started = started
        wait = None
        if response is not None and self.respect_retry_after_header:
            wait = new.get_retry_after(response)
        if wait is None:
            wait = new.get_backoff_time()
        if time.monotonic() - started + wait > self.budget:
            raise MaxRetryError(_pool, url, error or RuntimeError("retry time budget exhausted"))  # type: ignore[arg-type]
        return new


class _DeadlineTimeout(_Urllib3Timeout):
    """Connect and read timeouts that never reach past the call's deadline (each attempt's timeouts
    are cut to the time left), so both retry layers together stay within one bound."""

    def __init__(self, connect: float, read: float, deadline: float) -> None:
        super().__init__(connect=connect, read=read)
        self._limits = (connect, read)
        self.deadline = deadline

    def clone(self) -> "_DeadlineTimeout":
        return _DeadlineTimeout(self._limits[0], self._limits[1], self.deadline)

    def _left(self) -> float:
        return max(0.001, self.deadline - time.monotonic())

    @property
    def connect_timeout(self) -> float:  # type: ignore[override]
        return min(self._limits[0], self._left())

    @property
    def read_timeout(self) -> float:  # type: ignore[override]
        return min(self._limits[1], self._left())


class _Adapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose urllib3 ``Retry`` is set per call and per thread, so that its time
    budget starts when the call starts (requests reads ``max_retries`` on every send)."""

    def __init__(self, **kwargs: Any) -> None:
        self._per_call = threading.local()
        super().__init__(**kwargs)

    @property  # type: ignore[override]
    def max_retries(self) -> Retry:
        retry = getattr(self._per_call, "retry", None)
        return self._default_retry if retry is None else retry

    @max_retries.setter
    def max_retries(self, value: Retry) -> None:
        self._default_retry = value

    @contextlib.contextmanager
    def retrying(self, retry: Retry) -> Iterator[None]:
        self._per_call.retry = retry
        try:
            yield
        finally:
            self._per_call.retry = None


class _LiveHeaders(CaseInsensitiveDict):
    """A request's headers that urllib3 does not copy (its ``urlopen`` copies them on each attempt),
    so that :meth:`_BoundedRetry.sleep` can re-sign the very headers its retry will send."""

    def copy(self) -> "_LiveHeaders":
        return self


def check_timeout(timeout: Any) -> Timeout:
    def positive(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < float("inf")

    if positive(timeout):
        return float(timeout)
    if isinstance(timeout, (tuple, list)) and len(timeout) == 2 and all(positive(v) for v in timeout):
        return (float(timeout[0]), float(timeout[1]))
    raise InvalidArgumentError("timeout", timeout, "must be a positive number of seconds or a (connect, read) pair")


def _excerpt(body: bytes, limit: int = 200) -> str:
    text = body[:limit * 2].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    return text[:limit] + ("..." if len(text) > limit or len(body) > limit * 2 else "")


def _too_large(response: requests.Response, encoded: bool) -> ResponseTooLargeError:
    how = " once decoded" if encoded else ""
    return ResponseTooLargeError(
        f"FC answered HTTP {response.status_code} with a body over {MAX_RESPONSE_BYTES // 2**20} MiB{how}; "
        "no FC answer is that large (a broken proxy or a decompression bomb?); it was not read further",
        request_id=response.headers.get("X-Fc-Request-Id"), http_status=response.status_code)


def _read_body(response: requests.Response, deadline: float) -> None:
    """``response.content``, read now: at most ``MAX_RESPONSE_BYTES`` once decoded, given up once
    ``deadline`` has passed (see :func:`~pulumi_fc_invocation.bodies.read_body`)."""
    try:
        content = read_body(response, deadline, MAX_RESPONSE_BYTES)
    except BodyTooLarge as exc:
        raise _too_large(response, exc.encoded) from None
    response._content = content
    response._content_consumed = True


def _proxies_from(env: Mapping[str, str], url: str) -> dict[str, str]:
    """What requests would take from the environment, taken from a given mapping instead."""
    from urllib.parse import urlsplit

    lowered = {key.lower(): value for key, value in env.items() if value}
    host = (urlsplit(url).hostname or "").lower()
    no_proxy = [entry.strip().lower().lstrip(".") for entry in lowered.get("no_proxy", "").split(",") if entry.strip()]
    if "*" in no_proxy or any(host == entry or host.endswith("." + entry) for entry in no_proxy):
        return {}
    return {scheme: lowered[f"{scheme}_proxy"] for scheme in ("http", "https", "all") if f"{scheme}_proxy" in lowered}


class Transport:
    """The HTTP session of one client: sends signed requests within a retry budget and a deadline.

    ``credentials`` is asked for at every attempt (see :data:`CredentialSource`); ``signer`` is given
    per call. Safe to share between threads.
    """

    def __init__(
        self,
        endpoint: str,
        credentials: CredentialSource,
        *,
        timeout: Timeout = (5.0, 15.0),
        max_retries: int = 4,
        retry_budget: float = 30.0,
        backoff_factor: float = 0.5,
        backoff_max: float = 8.0,
        environ: Optional[Mapping[str, str]] = None,
    ) -> None:
        self.timeout = check_timeout(timeout)
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            raise InvalidArgumentError("max_retries", max_retries, "must be an integer >= 0")
        if not isinstance(retry_budget, (int, float)) or retry_budget <= 0:
            raise InvalidArgumentError("retry_budget", retry_budget, "must be a positive number of seconds")
        self.endpoint = endpoint
        self.host = urlsplit(endpoint).netloc
        parts = urlsplit(endpoint)
        _OWN_HOSTS.add(parts.hostname, parts.path.rstrip("/"))
        self._current_credentials = _credential_getter(credentials)
        # A source that can fetch new credentials on demand (RefreshableCredentials): used once per call
        # when FC refuses the token before its expiry (revoked, or judged on another clock).
        self._refresh_credentials = _refresher(credentials)
        self._last_credentials: Optional[Credentials] = (
            credentials if isinstance(credentials, Credentials) and self._refresh_credentials is None else None)
        self.max_retries = max_retries
        self._retry_budget = float(retry_budget)
        self._backoff_factor = float(backoff_factor)
        self._backoff_max = float(backoff_max)
        self._retry = _BoundedRetry(
            total=max_retries,
            connect=max_retries,
            read=max_retries,
            status=max_retries,
            other=0,
            redirect=0,
            backoff_factor=backoff_factor,
            backoff_max=backoff_max,
            backoff_jitter=backoff_factor / 2,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=_IDEMPOTENT,
            respect_retry_after_header=True,
            raise_on_status=False,
            raise_on_redirect=False,
            budget=float(retry_budget),
        )
        self._deadline: Optional[float] = None  # set on a view made by bounded()
        session = requests.Session()
        adapter = _Adapter(max_retries=self._retry, pool_connections=1, pool_maxsize=32)
        self._adapter = adapter
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        # Resolve proxies and CA bundle once: with trust_env on, requests re-reads the environment
        # (proxies, netrc) on every call, which is most of its per-call overhead.
        env = os.environ if environ is None else environ
        session.proxies.update(requests.utils.get_environ_proxies(endpoint) if environ is None
                               else _proxies_from(environ, endpoint))
        session.verify = env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE") or True
        session.trust_env = False
        self.session = session
        warn_plain_http(endpoint, "endpoint", "the STS token and the payloads", log)
        # session.request re-merges the session's settings (headers, cookies, params, auth, hooks,
        # proxies) into every request; _send_once prepares requests directly, as that merge would.
        self._prepared_urls: dict[str, str] = {}

    def credentials(self, timeout: Optional[float] = None) -> Credentials:
        """The credentials current now (what the next attempt signs with); a fetch they need ends within
        ``timeout`` seconds (None: the source's own bound)."""
        creds = self._current_credentials(timeout)
        self._last_credentials = creds
        return creds

    def bounded(self, seconds: float) -> "Transport":
        """A view whose every call ends within ``seconds`` from now, retries included (shares the session)."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds < float("inf"):
            raise InvalidArgumentError("seconds", seconds, "must be a positive, finite number of seconds")
        view = object.__new__(Transport)
        view.__dict__.update(self.__dict__)
        deadline = time.monotonic() + float(seconds)
        view._deadline = deadline if self._deadline is None else min(deadline, self._deadline)
        return view

    def __repr__(self) -> str:
        return f"Transport(endpoint={self.endpoint!r})"

    def __reduce__(self):
        raise TypeError("Transport cannot be pickled (it holds credentials and a connection pool)")

    def close(self) -> None:
        self.session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        signer: Signer,
        params: Optional[Mapping[str, Any]] = None,
        body: Optional[bytes] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        content_type: Optional[str] = "application/json",
        error_class: Optional[Callable[[int, Optional[str]], type[FcApiError]]] = None,
    ) -> requests.Response:
        """Send one call (its attempts signed by ``signer``); a non-2xx answer raises its classified error.

        ``params`` go on the wire RFC 3986-encoded (``%20``, not ``+``), as ACS3 signs them.
        ``error_class(http_status, code)`` picks an error's class (default: by HTTP status alone).
        """
        # One deadline for the whole call, both retry layers included: no retry starts after
        # retry_budget, and no attempt runs past retry_budget plus one attempt's timeouts (or the
        # deadline of a bounded() view, whichever is first).
        started = time.monotonic()
        connect, read = self.timeout if isinstance(self.timeout, tuple) else (self.timeout, self.timeout)
        deadline = started + self._retry_budget + connect + read
        if self._deadline is not None:
            deadline = min(deadline, self._deadline)
        retry_end = min(started + self._retry_budget, deadline)
        if deadline - started <= 0.001:
            raise RequestTimeoutError(f"{method} {path}: not sent: the time budget of this wait is over")
        base = {"Content-Type": content_type} if content_type else {}  # None: a call without a body sends none
        base["User-Agent"] = _USER_AGENT
        base["Accept-Encoding"] = "gzip, deflate"
        if extra_headers:
            base.update(extra_headers)
        attempt = [0]
        signed: list[Optional[Credentials]] = [None]  # the snapshot the last attempt was signed with

        def sign() -> dict[str, str]:
            attempt[0] += 1
            signable = SignableRequest(method=method, path=path, query=dict(params or {}), headers=dict(base),
                                       body=body or b"", host=self.host, attempt=attempt[0])
            signed[0] = self.credentials(max(0.0, deadline - time.monotonic()))  # a fetch ends by the deadline
            signer(signable, signed[0])
            return signable.headers

        url = self.endpoint + path
        if params:
            url += "?" + encode_query(params)
        refreshed = False
        while True:
            failure: Optional[FcInvocationError] = None
            response: Optional[requests.Response] = None
            try:
                response = self._send(method, url, None, body, sign, started, retry_end,
                                      _DeadlineTimeout(connect, read, deadline))
            except requests.exceptions.RequestException as exc:
                failure = self._transport_error(method, path, exc, deadline - started)
            except FcInvocationError as exc:  # e.g. a body over the cap, or credentials that cannot be had
                failure = exc.with_traceback(None)
            if failure is not None or response is None or response.status_code < 300:
                break
            if log.isEnabledFor(logging.DEBUG):
                log.debug("%s %s -> %s in %.1f ms (request id %s)", method, path, response.status_code,
                          (time.monotonic() - started) * 1000, request_id_of(response))
            failure = self._error(response, retry_end - time.monotonic(), error_class)
            retries = getattr(response.raw, "retries", None)
            failure.attempts = attempt[0] if refreshed else 1 + len(getattr(retries, "history", None) or ())  # type: ignore[attr-defined]
            if (refreshed or self._refresh_credentials is None or failure.code not in TOKEN_REFUSED_CODES
                    or time.monotonic() >= retry_end):
                break
            # FC refused a token we hold as valid (revoked, or expired on FC's clock): fetch new
            # credentials once and send the call again, signed with them. A 403 was not executed,
            # so this is safe for a start too. The refused snapshot goes along, so that calls
            # refused together share one fetch.
            refreshed = True
            log.debug("%s %s: FC answered %s: refreshing the credentials and sending it again",
                      method, path, failure.code)
            try:
                self._refresh_credentials(signed[0], max(0.0, deadline - time.monotonic()))
            except FcInvocationError as exc:
                failure = exc.with_traceback(None)
                break
        # Raised here, outside the except clauses: the requests exception (which holds the prepared
        # request, its token and its payload) is not kept as __context__, and no frame of this
        # call's traceback holds the headers or the body.
        del base, body, extra_headers, sign, signed
        if failure is not None:
            raise failure
        assert response is not None
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s -> %s in %.1f ms (request id %s)", method, path, response.status_code,
                      (time.monotonic() - started) * 1000, request_id_of(response))
        return response

    def _transport_error(self, method: str, path: str, exc: BaseException, budget: float) -> TransportError:
        """The classified error for a request that got no (complete) answer; never quotes a header."""
        retried = (f"after up to {self.max_retries} retries" if method in _IDEMPOTENT
                   else "not retried: a second start could run the task twice")
        found = classify_exception(exc)
        if found is None:
            raise exc
        if found.kind == "header":
            # requests quotes the offending header value, which may be the STS token: never show it.
            return TransportError(f"{method} {path}: a request header value is invalid (whitespace or a line "
                                  "break in the account id or the STS token?); the value is not shown")
        if found.error is RequestTimeoutError:
            return RequestTimeoutError(f"{method} {path}: no answer from {self.endpoint} within {self.timeout} s "
                                       f"per attempt and the call's time budget of {budget:.3g} s ({retried})")
        if found.kind == "corrupt":
            return TransportError(f"{method} {path}: the answer from {self.endpoint} was cut off or corrupt "
                                  f"({type(exc).__name__}) ({retried})")
        if found.kind in ("connection", "unreachable"):
            return found.error(f"{method} {path}: cannot reach {self.endpoint} ({found.reason}: "
                               f"{self.redacted(found.detail)}) ({retried})")
        return TransportError(f"{method} {path}: {type(exc).__name__}: {self.redacted(str(exc))}")

    def _send(self, method: str, url: str, params: Any, body: Any, sign: Callable[[], dict[str, str]],
              started: float, retry_end: float, timeout: _DeadlineTimeout) -> requests.Response:
        # urllib3's Retry ends before requests reads the body, so a body cut off mid-way (a proxy or
        # connection dropping) or stalling is retried here, for idempotent reads only, within the
        # same call's budgets: urllib3's Retry counts from the call's start, not from its own.
        attempts = self.max_retries if method in ("GET", "HEAD") else 0
        delay = self._backoff_factor
        while True:
            try:
                return self._send_once(method, url, params, body, sign, started, retry_end, timeout)
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError,
                    BodyTimeout):
                if attempts <= 0 or time.monotonic() + delay > retry_end:
                    raise
                attempts -= 1
                time.sleep(delay)
                delay = min(delay * 2, self._backoff_max)

    def _send_once(self, method: str, url: str, params: Any, body: Any, sign: Callable[[], dict[str, str]],
                   started: float, retry_end: float, timeout: _DeadlineTimeout) -> requests.Response:
        """``session.request(method, url, params=params, data=body, headers=sign(), timeout=...,
        allow_redirects=False)``, cheaper, and re-signed before each of urllib3's retries.

        While the session is in its default state (no cookies, params, auth or hooks, ``trust_env``
        off), the request is prepared here as ``prepare_request`` and ``merge_environment_settings``
        would prepare it and sent as ``session.send`` would send it: the same adapter (so the same
        urllib3 ``Retry``, timeouts and exceptions), and a ``Set-Cookie`` goes to the session's jar,
        as there. Otherwise (say a server set a cookie), it goes through ``prepare_request`` and
        ``send`` themselves. A redirect is never followed (see ``request``).
        """
        session = self.session
        if (session.cookies or session.params or session.auth is not None or session.trust_env
                or any(session.hooks.values())):
            signed = sign()
            prep = session.prepare_request(requests.Request(method, url, params=params, data=body, headers=signed))
            kwargs: dict[str, Any] = session.merge_environment_settings(prep.url, {}, True, None, None)
            kwargs.pop("stream", None)
        else:
            prep = requests.PreparedRequest()
            prep.method = method
            if params:
                prep.prepare_url(url, params)
            else:
                prepared_url = self._prepared_urls.get(url)
                if prepared_url is None:
                    prep.prepare_url(url, None)
                    prepared_url = prep.url
                    if len(self._prepared_urls) >= 4096:
                        self._prepared_urls.clear()
                    self._prepared_urls[url] = prepared_url  # type: ignore[assignment]
                prep.url = prepared_url
            signed = sign()
            # prepare_headers builds the case-insensitive dict itself: the later of two spellings wins.
            prep.prepare_headers({**session.headers, **signed})
            prep._cookies = RequestsCookieJar()  # the merge of an empty session jar and no request cookies
            prep.prepare_body(body or {}, None, None)
            prep.prepare_hooks(session.hooks)
            kwargs = {"verify": session.verify, "cert": session.cert,
                      "proxies": {key: value for key, value in session.proxies.items() if value is not None}}
        prep.headers = _LiveHeaders(prep.headers)
        signed_names = tuple(signed)  # the names only: the values (the token) are not kept here
        del signed

        def resign() -> None:
            # urllib3 sends its retry with this same headers object: replace the signed headers in it.
            # (Worked out here, not per call: most calls are never retried.)
            signed_set = {name.lower() for name in signed_names}
            fixed = {key: value for key, value in prep.headers.items() if key.lower() not in signed_set}
            prep.headers.clear()
            prep.headers.update(fixed)
            prep.headers.update(sign())

        retry = self._retry.new(started=started, budget=retry_end - started, before_attempt=resign)
        # session.send(prep, allow_redirects=False, **kwargs), minus its no-op steps here (no hooks).
        sent = time.perf_counter()
        with self._adapter.retrying(retry):
            response = session.get_adapter(url=prep.url).send(prep, timeout=timeout, stream=True, **kwargs)
        response.elapsed = timedelta(seconds=time.perf_counter() - sent)
        if "set-cookie" in response.headers or "set-cookie2" in response.headers:
            extract_cookies_to_jar(session.cookies, prep, response.raw)
        if any(prep.hooks.values()):
            response = dispatch_hook("response", prep.hooks, response, timeout=timeout, stream=True, **kwargs)
        _read_body(response, timeout.deadline)  # read the body now, as session.send does, but bounded
        return response

    def _secrets(self) -> tuple[tuple[str, str], ...]:
        creds = self._last_credentials
        if creds is None:
            return ()
        return ((creds.access_key_secret, "<redacted>"), (creds.security_token or "", "<redacted>"),
                (creds.access_key_id, creds.masked_key_id))

    def redacted(self, text: str) -> str:
        return redact(text, self._secrets())

    def _error(self, response: requests.Response, time_left: float = 0.0,
               error_class: Optional[Callable[[int, Optional[str]], type[FcApiError]]] = None) -> FcApiError:
        body = response.content or b""
        status = response.status_code
        if 300 <= status < 400:
            return self._redirect_error(response)
        # Both APIs' spellings (2.0's ErrorCode/ErrorMessage, 3.0's Code/Message/RequestId); the request
        # id header first, then the body's (FC 3.0 puts it there).
        found = parse_error_body(body)
        request_id = request_id_of(response) or found.request_id
        code = self.redacted(found.code) if found.code is not None else None
        message = self.redacted(found.message) if found.message is not None else None
        excerpt = self.redacted(_excerpt(body))
        cls = error_class(status, code) if error_class else error_class_for(status)
        if code is None:
            shown = excerpt if excerpt else "an empty body"
            message = (f"HTTP {status} {response.reason or ''}".rstrip()
                       + f" without an FC error body: {shown!s}")
        retry_after = note = None
        if status in (429, 503) and response.headers.get("Retry-After"):
            retry_after = self._retry.get_retry_after(response)
            if retry_after is not None and retry_after > time_left:
                note = (f"FC asked for Retry-After {retry_after:g} s, more than the {max(0.0, time_left):.3g} s "
                        "left of this call's retry budget: not retried")
        error = cls(message or code or "", code=code, request_id=request_id, http_status=status,
                    body_excerpt=excerpt, note=note)
        error.retry_after = retry_after  # type: ignore[attr-defined]
        return error

    def _redirect_error(self, response: requests.Response) -> RedirectError:
        from urllib.parse import urlsplit

        location = response.headers.get("Location") or ""
        try:
            parts = urlsplit(location)
            where = parts.hostname or ""
            if where and parts.port:
                where += f":{parts.port}"
        except ValueError:
            where = ""
        target = f"to host {where}" if where else ("to a path on the same host" if location else "without a Location")
        return RedirectError(
            f"HTTP {response.status_code} redirect {target}: not followed, since the other end would get the STS "
            "token and the payload; point the endpoint at the host that answers",
            request_id=request_id_of(response), http_status=response.status_code)

    def parse(self, response: requests.Response, model: type[BaseModel], what: str) -> Any:
        body = response.content or b""
        try:
            return model.model_validate_json(body)
        except _PydanticValidationError as exc:
            first = exc.errors(include_input=False, include_url=False)[0]
            where = ".".join(map(str, first["loc"])) or "body"
            # A JSON body may carry payloads (user data): describe it, don't quote it.
            shown = "" if body.lstrip()[:1] in (b"{", b"[") else f": {self.redacted(_excerpt(body))}"
            raise InvalidResponseError(
                f"FC answered HTTP {response.status_code} but the body is not {what} "
                f"({len(body)} bytes; {where}: {first['msg']}){shown}",
                request_id=request_id_of(response),
                http_status=response.status_code,
            ) from None
