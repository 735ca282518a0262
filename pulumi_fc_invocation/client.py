"""FcClient: reads (and, for tests and demos, starts and stops) stateful async invocations.

One ``requests.Session`` per client, shared by threads, with keep-alive; every call has a timeout;
transient failures (connection errors, read timeouts on idempotent calls, 429/500/502/503/504) are
retried by urllib3's ``Retry`` with exponential backoff and jitter, honouring ``Retry-After``, bounded
both in count and in total time. Anything else fails at once with a classified error.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import sys
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from email.utils import formatdate
from typing import Any, Optional, Union

import requests
import urllib3
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as _PydanticValidationError
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar, extract_cookies_to_jar
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import InvalidHeader, MaxRetryError
from urllib3.util.retry import Retry
from urllib3.util.timeout import Timeout as _Urllib3Timeout

from . import __version__
from .credentials import Credentials, resolve_settings
from .errors import (
    BadRequestError,
    FcApiError,
    FcInvocationError,
    InvalidArgumentError,
    InvalidResponseError,
    PaginationError,
    RedirectError,
    RequestTimeoutError,
    ResponseTooLargeError,
    TransportError,
    UnreachableError,
    error_class_for,
    redact,
)
from .models import (
    InvocationRef,
    InvocationStatus,
    StatefulAsyncInvocationResult,
    parse_time,
    validate_function_name,
    validate_invocation_id,
    validate_qualifier,
    validate_service_name,
)
from .signing import authorization

__all__ = ["FcClient", "API_VERSION", "RETRY_STATUSES", "MAX_RESPONSE_BYTES", "MAX_PAGES"]

log = logging.getLogger("pulumi_fc_invocation.client")

API_VERSION = "2016-08-15"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_IDEMPOTENT = frozenset({"GET", "PUT", "HEAD"})
# Far above FC's largest answer (a 1 MB return payload plus a 128 KB invocation payload, JSON-escaped,
# in an envelope), compressed or not: a gzip bomb or a broken proxy stops here, not in RAM.
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
# Far above any real listing (10,000 pages of 100 is a million invocations): a server that keeps
# handing out new tokens ends here instead of never.
MAX_PAGES = 10_000
_USER_AGENT = (
    f"pulumi-fc-invocation/{__version__} python/{sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]} requests/{requests.__version__}"
)

Timeout = Union[float, tuple[float, float]]

_date_cache: tuple[int, str] = (-1, "")


def _http_date() -> str:
    """``formatdate(usegmt=True)`` for now, formatted once per second (it only has whole seconds)."""
    global _date_cache
    second = int(time.time())
    cached = _date_cache
    if cached[0] != second:
        cached = _date_cache = (second, formatdate(second, usegmt=True))
    return cached[1]


class _BoundedRetry(Retry):
    """urllib3 ``Retry`` that also stops once the call's time budget would be exceeded.

    ``started`` is the start of the call (set per call, so the first attempt is not free). A
    ``Retry-After`` is honoured as given: a wait that would end past the budget is not started, and
    the caller gets the throttling error now instead of after a pointless sleep (or a retry sooner
    than the server asked).
    """

    def __init__(self, *args: Any, budget: float = 30.0, started: Optional[float] = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = budget
        self.started = started

    def new(self, **kw: Any) -> "_BoundedRetry":
        kw.setdefault("budget", self.budget)
        kw.setdefault("started", self.started)
        return super().new(**kw)  # type: ignore[return-value]

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


class _BodyTimeout(requests.exceptions.ReadTimeout):
    """The socket timed out in the middle of a body: worth another attempt for an idempotent read."""


class _DeadlineExceeded(requests.exceptions.ReadTimeout):
    """The body did not complete before the call's deadline: no time is left for another attempt."""


def _check_timeout(timeout: Any) -> Timeout:
    def positive(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < float("inf")

    if positive(timeout):
        return float(timeout)
    if isinstance(timeout, (tuple, list)) and len(timeout) == 2 and all(positive(v) for v in timeout):
        return (float(timeout[0]), float(timeout[1]))
    raise InvalidArgumentError("timeout", timeout, "must be a positive number of seconds or a (connect, read) pair")


def _epoch_ms(argument: str, value: Any) -> Optional[int]:
    if value is None:
        return None
    try:
        parsed = parse_time(value)
    except ValueError as exc:
        raise InvalidArgumentError(argument, value, f"must be a datetime, epoch milliseconds or ISO-8601 text ({exc})") from None
    if parsed is None:
        return None
    return int(parsed.timestamp() * 1000)


class _ListPage(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)  # built at the first list call
    invocations: tuple[StatefulAsyncInvocationResult, ...] = Field(default=())
    next_token: Optional[str] = Field(default=None, alias="nextToken")


def _excerpt(body: bytes, limit: int = 200) -> str:
    text = body[:limit * 2].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    return text[:limit] + ("..." if len(text) > limit or len(body) > limit * 2 else "")


class _Decoder:
    """Decodes a ``Content-Encoding`` (we only ask for gzip and deflate), never producing more than
    it is allowed to: zlib's ``max_length`` keeps a bomb's output from ever being built."""

    def __init__(self, encoding: str) -> None:
        if encoding in ("gzip", "x-gzip"):
            self._wbits = 16 + zlib.MAX_WBITS
        elif encoding == "deflate":
            self._wbits = zlib.MAX_WBITS | 32  # zlib-wrapped; raw deflate is tried on the first error
        else:
            raise requests.exceptions.ContentDecodingError(f"unsupported Content-Encoding {encoding[:40]!r}")
        self._encoding = encoding
        self._zlib = zlib.decompressobj(self._wbits)
        self._started = False

    def feed(self, data: bytes, room: int) -> bytes:
        """Up to ``room`` bytes of output (``room`` bytes means: more was waiting)."""
        try:
            out = self._zlib.decompress(data, room)
        except zlib.error:
            if self._encoding != "deflate" or self._started:
                raise requests.exceptions.ContentDecodingError("the compressed body is corrupt") from None
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as some servers send
            out = self._zlib.decompress(data, room)
        self._started = True
        while self._zlib.eof and self._zlib.unused_data and len(out) < room:  # another gzip member
            rest, self._zlib = self._zlib.unused_data, zlib.decompressobj(self._wbits)
            out += self._zlib.decompress(rest, room - len(out))
        return out


def _too_large(response: requests.Response, encoded: bool) -> ResponseTooLargeError:
    how = " once decoded" if encoded else ""
    return ResponseTooLargeError(
        f"FC answered HTTP {response.status_code} with a body over {MAX_RESPONSE_BYTES // 2**20} MiB{how}; "
        "no FC answer is that large (a broken proxy or a decompression bomb?); it was not read further",
        request_id=response.headers.get("X-Fc-Request-Id"), http_status=response.status_code)


def _read_body(response: requests.Response, deadline: float) -> None:
    """``response.content``, read now: at most ``MAX_RESPONSE_BYTES`` once decoded (the decoder is
    never asked for more), given up once ``deadline`` has passed.

    Exceptions are mapped as ``Response.iter_content`` maps them.
    """
    raw = response.raw
    encoding = (response.headers.get("Content-Encoding") or "").strip().lower()
    declared = response.headers.get("Content-Length", "")
    if not encoding and declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        response.close()
        raise _too_large(response, False)
    decoder = _Decoder(encoding) if encoding not in ("", "identity") else None
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            data = raw.read1(65536, decode_content=False)
            if not data:
                break
            if decoder is not None:
                data = decoder.feed(data, MAX_RESPONSE_BYTES + 1 - size)
            size += len(data)
            if size > MAX_RESPONSE_BYTES:
                response.close()
                raise _too_large(response, decoder is not None)
            chunks.append(data)
            if time.monotonic() > deadline:
                response.close()
                raise _DeadlineExceeded("the answer did not complete within the call's time budget")
    except urllib3.exceptions.ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from None
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from None
    except urllib3.exceptions.ReadTimeoutError:
        response.close()
        if time.monotonic() >= deadline - 0.01:
            raise _DeadlineExceeded("the answer did not complete within the call's time budget") from None
        raise _BodyTimeout("the answer stopped in the middle of its body") from None
    except urllib3.exceptions.SSLError as exc:
        raise requests.exceptions.SSLError(exc) from None
    response._content = b"".join(chunks)
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


_warned_hosts: set[str] = set()


def _warn_plain_http(endpoint: str) -> None:
    """Plain HTTP to anything but loopback sends signed requests, tokens and payloads in clear: say so, once."""
    from urllib.parse import urlsplit

    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    if parts.scheme != "http" or host in _warned_hosts or host == "localhost" or host.endswith(".localhost"):
        return
    import ipaddress

    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    _warned_hosts.add(host)
    log.warning("endpoint %s uses plain HTTP to a host that is not loopback: the STS token and the payloads "
                "cross the network unencrypted; use https://", f"http://{parts.netloc}")


class FcClient:
    """A client for FC 2.0 (API 2016-08-15) stateful async invocations.

    Missing settings are resolved through the chain of :func:`resolve_settings` (explicit arguments,
    then environment variables, then the shared credentials files). Safe to share between threads.
    """

    def __init__(
        self,
        *,
        account_id: Optional[str] = None,
        region: Optional[str] = None,
        credentials: Optional[Credentials] = None,
        endpoint: Optional[str] = None,
        internal: bool = False,
        timeout: Timeout = (5.0, 15.0),
        max_retries: int = 4,
        retry_budget: float = 30.0,
        backoff_factor: float = 0.5,
        backoff_max: float = 8.0,
        config: Optional[Mapping[str, Any]] = None,
        environ: Optional[Mapping[str, str]] = None,
        home: Optional[str] = None,
    ) -> None:
        self.timeout = _check_timeout(timeout)
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            raise InvalidArgumentError("max_retries", max_retries, "must be an integer >= 0")
        if not isinstance(retry_budget, (int, float)) or retry_budget <= 0:
            raise InvalidArgumentError("retry_budget", retry_budget, "must be a positive number of seconds")
        if credentials is not None and not isinstance(credentials, Credentials):
            raise InvalidArgumentError("credentials", type(credentials).__name__, "must be a Credentials object")
        settings = resolve_settings(
            account_id=account_id, region=region, credentials=credentials, endpoint=endpoint,
            internal=internal, config=config, environ=environ, home=home, credentials_argument="credentials",
        )
        assert settings.credentials is not None and settings.endpoint is not None
        self.account_id = settings.account_id
        self.region = settings.region
        self.endpoint = settings.endpoint
        self._credentials = settings.credentials
        self.max_retries = max_retries
        self._retry_budget = float(retry_budget)
        self._backoff_factor = float(backoff_factor)
        self._backoff_max = float(backoff_max)

        retry = _BoundedRetry(
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
        self._retry = retry
        self._deadline: Optional[float] = None  # set on a view made by bounded()
        session = requests.Session()
        adapter = _Adapter(max_retries=retry, pool_connections=1, pool_maxsize=32)
        self._adapter = adapter
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        # Resolve proxies and CA bundle once: with trust_env on, requests re-reads the environment
        # (proxies, netrc) on every call, which is most of its per-call overhead.
        env = os.environ if environ is None else environ
        session.proxies.update(requests.utils.get_environ_proxies(self.endpoint) if environ is None
                               else _proxies_from(environ, self.endpoint))
        session.verify = env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE") or True
        session.trust_env = False
        self._session = session
        _warn_plain_http(self.endpoint)
        # session.request re-merges the session's settings (headers, cookies, params, auth, hooks,
        # proxies) into every request; _send_once prepares requests directly, as that merge would.
        self._prepared_urls: dict[str, str] = {}

    @classmethod
    def from_environment(cls, *, config: Optional[Mapping[str, Any]] = None, **overrides: Any) -> "FcClient":
        """A client from the settings chain; ``config`` maps Pulumi config keys to values."""
        return cls(config=config, **overrides)

    @property
    def credentials(self) -> Credentials:
        return self._credentials

    def bounded(self, seconds: float) -> "FcClient":
        """A view of this client whose every call ends within ``seconds`` from now, retries included.

        For a wait or a gate with its own time budget: each call's attempts are cut to the time left,
        and a call made after it is over fails at once. The view shares this client's connections:
        close this client, not the view.
        """
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds < float("inf"):
            raise InvalidArgumentError("seconds", seconds, "must be a positive, finite number of seconds")
        view = object.__new__(FcClient)
        view.__dict__.update(self.__dict__)
        deadline = time.monotonic() + float(seconds)
        view._deadline = deadline if self._deadline is None else min(deadline, self._deadline)
        return view

    def __repr__(self) -> str:
        return f"FcClient(endpoint={self.endpoint!r}, account_id={self.account_id!r}, credentials={self._credentials!r})"

    def __reduce__(self):
        raise TypeError("FcClient cannot be pickled (it holds credentials and a connection pool)")

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> "FcClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- transport ------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Mapping[str, Any]] = None,
        body: Optional[bytes] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        content_type: str = "application/json",
    ) -> requests.Response:
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
        creds = self._credentials
        headers = {
            "Date": _http_date(),
            "Content-Type": content_type,
            "User-Agent": _USER_AGENT,
            "Accept-Encoding": "gzip, deflate",
        }
        if self.account_id:
            headers["X-Fc-Account-Id"] = self.account_id
        if creds.security_token:
            headers["X-Fc-Security-Token"] = creds.security_token
        if extra_headers:
            headers.update(extra_headers)
        headers["Authorization"] = authorization(method, path, headers, creds.access_key_id, creds.access_key_secret)
        url = self.endpoint + path
        failure: Optional[FcInvocationError] = None
        response: Optional[requests.Response] = None
        try:
            response = self._send(method, url, params, body, headers, started, retry_end,
                                  _DeadlineTimeout(connect, read, deadline))
        except requests.exceptions.RequestException as exc:
            failure = self._transport_error(method, path, exc, deadline - started)
        except FcInvocationError as exc:  # e.g. a body over the cap
            failure = exc.with_traceback(None)
        # Raised here, outside the except clauses: the requests exception (which holds the prepared
        # request, its token and its payload) is not kept as __context__, and no frame of this
        # call's traceback holds the headers or the body.
        del headers, body, extra_headers, creds
        if failure is not None:
            raise failure
        assert response is not None
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s -> %s in %.1f ms (request id %s)", method, path, response.status_code,
                      (time.monotonic() - started) * 1000, response.headers.get("X-Fc-Request-Id"))
        if response.status_code >= 300:
            error = self._error(response, retry_end - time.monotonic())
            retries = getattr(response.raw, "retries", None)
            error.attempts = 1 + len(getattr(retries, "history", None) or ())  # type: ignore[attr-defined]
            raise error
        return response

    def _transport_error(self, method: str, path: str, exc: BaseException, budget: float) -> TransportError:
        """The classified error for a request that got no (complete) answer; never quotes a header."""
        retried = (f"after up to {self.max_retries} retries" if method in _IDEMPOTENT
                   else "not retried: a second start could run the task twice")
        if isinstance(exc, requests.exceptions.InvalidHeader):
            # requests quotes the offending header value, which may be the STS token: never show it.
            return TransportError(f"{method} {path}: a request header value is invalid (whitespace or a line "
                                  "break in the account id or the STS token?); the value is not shown")
        reason: Any = exc.args[0] if exc.args else exc
        reason = getattr(reason, "reason", reason)
        timed_out = isinstance(exc, requests.exceptions.Timeout) or "timed out" in str(reason).lower()
        if timed_out:
            return RequestTimeoutError(f"{method} {path}: no answer from {self.endpoint} within {self.timeout} s "
                                       f"per attempt and the call's time budget of {budget:.3g} s ({retried})")
        if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
            return TransportError(f"{method} {path}: the answer from {self.endpoint} was cut off or corrupt "
                                  f"({type(exc).__name__}) ({retried})")
        if isinstance(exc, requests.exceptions.ConnectionError):
            unreachable = (isinstance(exc, requests.exceptions.SSLError)
                           or isinstance(reason, urllib3.exceptions.NewConnectionError))
            return (UnreachableError if unreachable else TransportError)(f"{method} {path}: cannot reach {self.endpoint} ({type(reason).__name__}: "
                                  f"{self._redacted(str(reason))}) ({retried})")
        return TransportError(f"{method} {path}: {type(exc).__name__}: {self._redacted(str(exc))}")

    def _send(self, method: str, url: str, params: Any, body: Any, headers: Mapping[str, str], started: float,
              retry_end: float, timeout: _DeadlineTimeout) -> requests.Response:
        # urllib3's Retry ends before requests reads the body, so a body cut off mid-way (a proxy or
        # connection dropping) or stalling is retried here, for idempotent reads only, within the
        # same call's budgets: urllib3's Retry counts from the call's start, not from its own.
        attempts = self.max_retries if method in ("GET", "HEAD") else 0
        retry = self._retry.new(started=started, budget=retry_end - started)
        delay = self._backoff_factor
        while True:
            try:
                with self._adapter.retrying(retry):
                    return self._send_once(method, url, params, body, headers, timeout)
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError,
                    _BodyTimeout):
                if attempts <= 0 or time.monotonic() + delay > retry_end:
                    raise
                attempts -= 1
                time.sleep(delay)
                delay = min(delay * 2, self._backoff_max)

    def _send_once(self, method: str, url: str, params: Any, body: Any, headers: Mapping[str, str],
                   timeout: _DeadlineTimeout) -> requests.Response:
        """``session.request(method, url, params=params, data=body, headers=headers, timeout=...,
        allow_redirects=False)``, cheaper.

        While the session is in its default state (no cookies, params, auth or hooks, ``trust_env``
        off), the request is prepared here as ``prepare_request`` and ``merge_environment_settings``
        would prepare it and sent as ``session.send`` would send it: the same adapter (so the same
        urllib3 ``Retry``, timeouts and exceptions), and a ``Set-Cookie`` goes to the session's jar,
        as there. Otherwise (say a server set a cookie), it is ``session.request`` itself. A redirect
        is never followed (see ``_request``).
        """
        session = self._session
        if (session.cookies or session.params or session.auth is not None or session.trust_env
                or any(session.hooks.values())):
            response = session.request(method, url, params=params, data=body, headers=headers, timeout=timeout,
                                       stream=True, allow_redirects=False)
            _read_body(response, timeout.deadline)
            return response
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
        merged = CaseInsensitiveDict(session.headers)
        merged.update(headers)
        prep.prepare_headers(merged)
        prep._cookies = RequestsCookieJar()  # the merge of an empty session jar and no request cookies
        prep.prepare_body(body or {}, None, None)
        prep.prepare_hooks(session.hooks)
        kwargs = {"timeout": timeout, "stream": True, "verify": session.verify,
                  "cert": session.cert,
                  "proxies": {key: value for key, value in session.proxies.items() if value is not None}}
        # session.send(prep, allow_redirects=False, **kwargs), minus its no-op steps here (no hooks).
        started = time.perf_counter()
        response = session.get_adapter(url=prep.url).send(prep, **kwargs)
        response.elapsed = timedelta(seconds=time.perf_counter() - started)
        if "set-cookie" in response.headers or "set-cookie2" in response.headers:
            extract_cookies_to_jar(session.cookies, prep, response.raw)
        _read_body(response, timeout.deadline)  # read the body now, as session.send does, but bounded
        return response

    def _secrets(self) -> tuple[tuple[str, str], ...]:
        creds = self._credentials
        return ((creds.access_key_secret, "<redacted>"), (creds.security_token or "", "<redacted>"),
                (creds.access_key_id, creds.masked_key_id))

    def _redacted(self, text: str) -> str:
        return redact(text, self._secrets())

    def _error(self, response: requests.Response, time_left: float = 0.0) -> FcApiError:
        body = response.content or b""
        request_id = response.headers.get("X-Fc-Request-Id")
        status = response.status_code
        if 300 <= status < 400:
            return self._redirect_error(response)
        code = message = None
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: 100,000 nested "["
            data = None
        if isinstance(data, dict):
            code = data.get("ErrorCode") or data.get("errorCode") or data.get("Code") or data.get("code")
            message = data.get("ErrorMessage") or data.get("errorMessage") or data.get("Message") or data.get("message")
            code = self._redacted(str(code)) if code is not None else None
            message = self._redacted(str(message)) if message is not None else None
        excerpt = self._redacted(_excerpt(body))
        cls = error_class_for(status)
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
            request_id=response.headers.get("X-Fc-Request-Id"), http_status=response.status_code)

    def _parse(self, response: requests.Response, model: type[BaseModel], what: str) -> Any:
        body = response.content or b""
        try:
            return model.model_validate_json(body)
        except _PydanticValidationError as exc:
            first = exc.errors(include_input=False, include_url=False)[0]
            where = ".".join(map(str, first["loc"])) or "body"
            # A JSON body may carry payloads (user data): describe it, don't quote it.
            shown = "" if body.lstrip()[:1] in (b"{", b"[") else f": {self._redacted(_excerpt(body))}"
            raise InvalidResponseError(
                f"FC answered HTTP {response.status_code} but the body is not {what} "
                f"({len(body)} bytes; {where}: {first['msg']}){shown}",
                request_id=response.headers.get("X-Fc-Request-Id"),
                http_status=response.status_code,
            ) from None

    # --- operations -----------------------------------------------------------------------------

    @staticmethod
    def _functions_path(service_name: str, function_name: str, qualifier: Optional[str]) -> str:
        ref = InvocationRef(service_name=service_name, function_name=function_name, invocation_id="_", qualifier=qualifier)
        return f"/{API_VERSION}/services/{ref.service_path}/functions/{ref.function_name}"

    def get_stateful_async_invocation(
        self, service_name: str, function_name: str, invocation_id: str, qualifier: Optional[str] = None
    ) -> StatefulAsyncInvocationResult:
        """GetStatefulAsyncInvocation."""
        # InvocationRef's checks and errors, in its order, without building one.
        validate_service_name(service_name)
        validate_function_name(function_name)
        validate_invocation_id(invocation_id)
        validate_qualifier(qualifier)
        service_path = f"{service_name}.{qualifier}" if qualifier else service_name
        path = (f"/{API_VERSION}/services/{service_path}/functions/{function_name}"
                f"/stateful-async-invocations/{invocation_id}")
        response = self._request("GET", path)
        return self._parse(response, StatefulAsyncInvocationResult, "an invocation")

    def get(self, ref: Union[InvocationRef, str]) -> StatefulAsyncInvocationResult:
        """GetStatefulAsyncInvocation by reference or composite id."""
        if not isinstance(ref, InvocationRef):
            ref = InvocationRef.parse(ref)
        path = (f"/{API_VERSION}/services/{ref.service_path}/functions/{ref.function_name}"
                f"/stateful-async-invocations/{ref.invocation_id}")
        response = self._request("GET", path)
        return self._parse(response, StatefulAsyncInvocationResult, "an invocation")

    def list_stateful_async_invocations(
        self,
        service_name: str,
        function_name: str,
        *,
        qualifier: Optional[str] = None,
        status: Union[str, InvocationStatus, None] = None,
        prefix: Optional[str] = None,
        started_after: Union[datetime, int, str, None] = None,
        started_before: Union[datetime, int, str, None] = None,
        sort: str = "desc",
        include_payload: bool = False,
        limit: Optional[int] = None,
        page_size: int = 100,
        max_pages: int = MAX_PAGES,
    ) -> Iterator[StatefulAsyncInvocationResult]:
        """ListStatefulAsyncInvocations as an iterator that follows ``nextToken``.

        Arguments are checked now, before the first request; ``limit`` bounds how many are yielded.
        A repeated or cycling token, or more than ``max_pages`` pages, ends it with ``PaginationError``.
        """
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            raise InvalidArgumentError("limit", limit, "must be a positive integer or None")
        if not isinstance(max_pages, int) or isinstance(max_pages, bool) or max_pages < 1:
            raise InvalidArgumentError("max_pages", max_pages, "must be a positive integer")
        params = self._list_params(service_name, function_name, qualifier=qualifier, status=status, prefix=prefix,
                                   started_after=started_after, started_before=started_before, sort=sort,
                                   include_payload=include_payload, page_size=page_size)
        path = self._functions_path(service_name, function_name, qualifier) + "/stateful-async-invocations"

        def pages() -> Iterator[StatefulAsyncInvocationResult]:
            remaining = limit
            token: Optional[str] = None
            seen: set[str] = set()
            for page in range(1, max_pages + 1):
                query = dict(params)
                if remaining is not None:
                    query["limit"] = str(min(remaining, int(params["limit"])))
                if token:
                    query["nextToken"] = token
                items, token = self._list_page(path, query)
                for item in items:
                    yield item
                    if remaining is not None:
                        remaining -= 1
                        if remaining == 0:
                            return
                if not token:
                    return
                if token in seen:
                    raise PaginationError(f"ListStatefulAsyncInvocations: page {page} gave a nextToken that an "
                                          "earlier page gave: the listing would never end")
                seen.add(token)
            raise PaginationError(f"ListStatefulAsyncInvocations: still a nextToken after {max_pages} pages, far "
                                  "more than any real listing: stopped")

        return pages()

    def list_stateful_async_invocations_page(
        self, service_name: str, function_name: str, *, next_token: Optional[str] = None, **filters: Any
    ) -> tuple[tuple[StatefulAsyncInvocationResult, ...], Optional[str]]:
        """One page of ListStatefulAsyncInvocations: (items, next token or None).

        A caller that follows the tokens should stop on one it has seen (``PaginationError`` here when
        a page hands back the token it was asked for) and bound its pages (``MAX_PAGES``), as
        :meth:`list_stateful_async_invocations` does.
        """
        qualifier = filters.pop("qualifier", None)
        params = self._list_params(service_name, function_name, qualifier=qualifier, **filters)
        if next_token:
            params["nextToken"] = next_token
        path = self._functions_path(service_name, function_name, qualifier) + "/stateful-async-invocations"
        items, token = self._list_page(path, params)
        if token is not None and token == next_token:
            raise PaginationError("ListStatefulAsyncInvocations: the page gave back the nextToken it was asked "
                                  "for: the listing would never end")
        return items, token

    def _list_page(self, path: str, params: Mapping[str, str]
                   ) -> tuple[tuple[StatefulAsyncInvocationResult, ...], Optional[str]]:
        page_model = self._parse(self._request("GET", path, params=params), _ListPage, "a list of invocations")
        return page_model.invocations, page_model.next_token or None

    def _list_params(self, service_name: str, function_name: str, *, qualifier: Optional[str] = None,
                     status: Any = None, prefix: Optional[str] = None, started_after: Any = None,
                     started_before: Any = None, sort: str = "desc", include_payload: bool = False,
                     page_size: int = 100) -> dict[str, str]:
        self._functions_path(service_name, function_name, qualifier)  # validates the names
        if sort not in ("asc", "desc"):
            raise InvalidArgumentError("sort", sort, "must be 'asc' or 'desc'")
        if not isinstance(page_size, int) or isinstance(page_size, bool) or not 1 <= page_size <= 100:
            raise InvalidArgumentError("page_size", page_size, "must be an integer from 1 to 100")
        if not isinstance(include_payload, bool):
            raise InvalidArgumentError("include_payload", include_payload, "must be True or False")
        params = {"limit": str(page_size), "sortOrderByTime": sort}
        if status is not None:
            params["status"] = InvocationStatus.known(status if isinstance(status, str) else str(status), "status").value
        if prefix is not None:
            if not isinstance(prefix, str) or not prefix or len(prefix) > 128:
                raise InvalidArgumentError("prefix", prefix, "must be a non-empty string of at most 128 characters")
            params["invocationIdPrefix"] = prefix
        begin, end = _epoch_ms("started_after", started_after), _epoch_ms("started_before", started_before)
        if begin is not None:
            params["startedTimeBegin"] = str(begin)
        if end is not None:
            params["startedTimeEnd"] = str(end)
        if begin is not None and end is not None and begin > end:
            raise InvalidArgumentError("started_after", started_after, "must not be later than started_before")
        if include_payload:
            params["includePayload"] = "true"
        return params

    def stop_stateful_async_invocation(
        self, service_name: str, function_name: str, invocation_id: str, qualifier: Optional[str] = None
    ) -> str:
        """StopStatefulAsyncInvocation; returns FC's request id."""
        ref = InvocationRef(service_name=service_name, function_name=function_name,
                            invocation_id=invocation_id, qualifier=qualifier)
        path = (f"/{API_VERSION}/services/{ref.service_path}/functions/{ref.function_name}"
                f"/stateful-async-invocations/{ref.invocation_id}")
        try:
            response = self._request("PUT", path)
        except BadRequestError as exc:
            # A stop that FC applied but answered too slowly is retried, and the retry is told the
            # task is already finished: that retry's "already stopped" means our stop worked. A first
            # attempt told so still fails: the caller stopped something that had already ended.
            if exc.code == "InvalidArgument" and getattr(exc, "attempts", 1) > 1 and self.get(ref).status in (
                InvocationStatus.STOPPED, InvocationStatus.STOPPING
            ):
                return exc.request_id or ""
            raise
        return response.headers.get("X-Fc-Request-Id", "")

    def invoke_async(
        self,
        service_name: str,
        function_name: str,
        payload: Union[bytes, str, None] = None,
        *,
        qualifier: Optional[str] = None,
        invocation_id: Optional[str] = None,
    ) -> str:
        """InvokeFunction with ``X-Fc-Invocation-Type: Async``; returns the stateful invocation id.

        Not retried on errors after the request was sent: a second start could run the task twice.
        """
        if invocation_id is not None:
            InvocationRef(service_name=service_name, function_name=function_name,
                          invocation_id=invocation_id, qualifier=qualifier)
        path = self._functions_path(service_name, function_name, qualifier) + "/invocations"
        body = payload.encode("utf-8") if isinstance(payload, str) else (payload or b"")
        headers = {"X-Fc-Invocation-Type": "Async"}
        if invocation_id:
            headers["X-Fc-Stateful-Async-Invocation-Id"] = invocation_id
        try:
            response = self._request("POST", path, body=body, extra_headers=headers,
                                     content_type="application/octet-stream")
        finally:
            del body, payload  # not left in this frame for a traceback that captures locals
        return response.headers.get("X-Fc-Stateful-Async-Invocation-Id") or invocation_id or ""
