"""Credentials and the settings chain: explicit > Pulumi config > environment > shared files > roles.

The chain follows pulumi-alicloud (config keys) and terraform-provider-alicloud / the official
credentials library (environment names, ``~/.aliyun/config.json``, ``~/.alibabacloud/credentials.ini``).
An access key id, its secret and an STS token always come from one source together: mixing an id from
one place with a secret from another produces signatures nobody can debug.

Role-based sources (AssumeRole, AssumeRoleWithOIDC, an ECS RAM role, a credentials URI) give
:class:`RefreshableCredentials`: fetched on first use, cached per process, refreshed before they
expire; no request is signed with a token that has less than :data:`MIN_TIME_LEFT` seconds left.
The few STS and metadata calls are made here, not through ``alibabacloud-credentials``: that library
costs ~250 ms to import, cannot reach a plain-HTTP metadata stand-in, computes expiry on the wall
clock only, and prints the OIDC token (in the request URL) and issued secrets (in its error text) to
stderr through a handler it installs itself.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import quote, urlsplit

from ..clock import now as clock_now
from ..errors import (
    ConfigurationError,
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
    printable,
    redact,
)

__all__ = ["Credentials", "RefreshableCredentials", "Settings", "resolve_settings", "SETTING_SOURCES",
           "check_account_id", "check_region", "check_endpoint", "sts_signature", "sts_string_to_sign",
           "forget_cached_credentials", "MIN_TIME_LEFT", "DEFAULT_SESSION_NAME", "DEFAULT_METADATA_ENDPOINT"]


def _log() -> Any:
    import logging  # only when something is logged: keeps importing the settings chain light

    return logging.getLogger("pulumi_fc_invocation.credentials")


MIN_TIME_LEFT = 60.0
"""No request is signed with temporary credentials that have less than this many seconds left."""
PREFETCH_MAX = 900.0  # refresh ahead at most 15 minutes before expiry (the official library's stale time)
REFRESH_RETRY_DELAYS = (0.5, 1.0)  # seconds between the attempts of a refresh (3 attempts in all)
REFRESH_TIMEOUT = 30.0
"""Seconds a fetch may take, all its attempts included, when the caller gives no ``timeout``."""
EARLY_REFRESH_WAIT = 2.0  # how long the call that starts an early refresh waits for it (the key is still good)
DEFAULT_SESSION_NAME = "pulumi-fc-invocation"
DEFAULT_DURATION = 3600
DEFAULT_METADATA_ENDPOINT = "http://100.100.100.200"
STS_TIMEOUT = (5.0, 10.0)  # connect, read: the official library's
METADATA_TIMEOUT = (1.0, 3.0)  # the metadata service is link-local: a second to connect is plenty
MAX_ANSWER = 1024 * 1024  # an STS or metadata answer is a few hundred bytes
IMDS_TOKEN_TTL = 21600


class Credentials:
    """An access key pair, optionally with an STS security token.

    The secret and the token never appear in ``repr``/``str``, and the object refuses to be pickled,
    so it cannot end up in a Pulumi state file through a serialized provider.
    """

    __slots__ = ("access_key_id", "_secret", "_token")
    expiration: Optional[float] = None  # epoch seconds; None for a key that does not expire

    def __init__(self, access_key_id: str, access_key_secret: str, security_token: str | None = None) -> None:
        if not isinstance(access_key_id, str) or not access_key_id.strip():
            raise ConfigurationError("Credentials: access_key_id must be a non-empty string")
        if not isinstance(access_key_secret, str) or not access_key_secret:
            raise ConfigurationError("Credentials: access_key_secret must be a non-empty string")
        if security_token is not None and not isinstance(security_token, str):
            raise ConfigurationError("Credentials: security_token must be a string")
        security_token = security_token.strip() if security_token else None  # a token file ends in a newline
        for name, value in (("access_key_id", access_key_id), ("security_token", security_token or "")):
            if any(c in value.strip() for c in "\r\n\x00"):
                raise ConfigurationError(f"Credentials: {name} contains a line break or NUL (value not shown)")
        object.__setattr__(self, "access_key_id", access_key_id.strip())
        object.__setattr__(self, "_secret", access_key_secret)
        object.__setattr__(self, "_token", security_token or None)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Credentials are immutable")

    def current(self) -> "Credentials":
        """The key to sign the next request with: itself (see :meth:`RefreshableCredentials.current`)."""
        return self

    @property
    def access_key_secret(self) -> str:
        return self._secret

    @property
    def security_token(self) -> str | None:
        return self._token

    @property
    def masked_key_id(self) -> str:
        return _mask(self.access_key_id)

    def __repr__(self) -> str:
        token = ", security_token=<set>" if self._token else ""
        return f"Credentials(access_key_id={self.masked_key_id!r}, access_key_secret=<hidden>{token})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials) or isinstance(other, RefreshableCredentials):
            return NotImplemented
        return (self.access_key_id, self._secret, self._token) == (other.access_key_id, other._secret, other._token)

    def __hash__(self) -> int:
        return hash((self.access_key_id, self._secret, self._token))

    def __reduce__(self):
        raise TypeError(
            "Credentials cannot be pickled: they would end up in serialized state. "
            "Resolve them where they are used (e.g. in ResourceProvider.configure)."
        )


def _mask(key: str) -> str:
    return key[:4] + "****" + key[-4:] if len(key) > 10 else "****"


class _Snapshot(Credentials):
    """Temporary credentials as issued, with their expiry (epoch seconds on the process clock)."""

    __slots__ = ("_expires",)

    def __init__(self, key_id: str, secret: str, token: Optional[str], expires: Optional[float]) -> None:
        super().__init__(key_id, secret, token)
        object.__setattr__(self, "_expires", expires)

    @property
    def expiration(self) -> Optional[float]:  # type: ignore[override]
        return self._expires


def _clock_now(clock: Any) -> float:
    """Epoch seconds on ``clock``, else on the package's clock (``clock.use_clock``: tests share the
    emulator's virtual clock with every waiter, and expiry must be judged on the same time line)."""
    if clock is None:
        return clock_now()
    now = getattr(clock, "now", None)
    return now() if callable(now) else clock()


_PIN_SECONDS = 1.0


class RefreshableCredentials(Credentials):
    """Temporary credentials from a role-based source, fetched on first use and refreshed ahead of expiry.

    :meth:`current` returns a plain :class:`Credentials` snapshot with at least :data:`MIN_TIME_LEFT`
    seconds left, refreshing first if need be: a transport should take one snapshot per request.
    The ``access_key_id`` / ``access_key_secret`` / ``security_token`` properties work too: each thread
    keeps the snapshot it last read for up to a second, so the three values read to sign one request
    always belong together. A refresh that fails is retried and then raised as a classified error
    naming the source. A fetch ends by the caller's deadline (``timeout``, else :data:`REFRESH_TIMEOUT`),
    all its attempts included. An early refresh (the cached key still has more than ``min_time_left``)
    runs in a thread of its own while the key keeps signing; if it fails, it only logs a warning and is
    tried again later. Never pickled, never shown: each process refreshes its own.
    """

    __slots__ = ("_source", "_lock", "_snap", "_fetched_at", "_retry_at", "_clock", "_local", "_last_problem",
                 "__weakref__")

    def __init__(self, source: "_Source", *, clock: Any = None) -> None:
        object.__setattr__(self, "_source", source)
        object.__setattr__(self, "_lock", threading.Lock())
        object.__setattr__(self, "_snap", None)
        object.__setattr__(self, "_fetched_at", 0.0)
        object.__setattr__(self, "_retry_at", 0.0)
        object.__setattr__(self, "_clock", clock)
        object.__setattr__(self, "_local", threading.local())
        object.__setattr__(self, "_last_problem", None)  # the last failed attempt's words, for timeouts

    # --- what a transport uses ----------------------------------------------------------------

    def current(self, min_time_left: float = MIN_TIME_LEFT, *, timeout: Optional[float] = None) -> Credentials:
        """A snapshot valid for at least ``min_time_left`` more seconds (refreshed first if need be).

        ``timeout``: the seconds this call may spend getting one, a wait for another thread's fetch
        included (a transport passes what is left of its call); past it, a :class:`RequestTimeoutError`
        naming the source and the last error. None: :data:`REFRESH_TIMEOUT`.
        """
        budget = _check_refresh_timeout(timeout)
        deadline = time.monotonic() + budget
        now = _clock_now(self._clock)
        snap = self._snap
        if snap is not None and not self._due(snap, now):
            return snap
        if snap is not None and self._left(snap, now) >= min_time_left:
            return self._refresh_early(snap, now, deadline, min_time_left)
        if not self._lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise self._busy(budget)
        try:
            now = _clock_now(self._clock)
            snap = self._snap
            if snap is None or self._left(snap, now) < min_time_left:
                self._refresh(now, deadline, raise_failure=True)
                snap = self._snap
                left = self._left(snap, now)
                if left < min_time_left:
                    raise InvalidResponseError(
                        f"{self._source.describe()}: the new credentials last only {left:.0f} s, less than the "
                        f"{min_time_left:.0f} s a request needs (from {self._source.origin})")
            return snap
        finally:
            self._lock.release()

    def _refresh_early(self, snap: Credentials, now: float, deadline: float, min_time_left: float) -> Credentials:
        """Start the refresh of a key that still has time left in a thread of its own and wait for it a
        little (STS usually answers at once); past that, and while it is pending, the key keeps signing."""
        if now < self._retry_at or not self._lock.acquire(blocking=False):
            return snap  # backing off after a failure, or a refresh is pending
        if self._snap is not snap:  # another thread refreshed in between
            self._lock.release()
            return self._snap
        done = threading.Event()
        try:
            threading.Thread(target=self._refresh_pending, args=(snap, now, done), daemon=True,
                             name="fc-invocation-credentials-refresh").start()
        except RuntimeError:  # no thread to be had: the key signs, a later call tries again
            self._lock.release()
            return snap
        done.wait(max(0.0, min(EARLY_REFRESH_WAIT, deadline - time.monotonic())))
        newer = self._snap
        if newer is not snap and newer is not None and self._left(newer, _clock_now(self._clock)) >= min_time_left:
            return newer
        return snap

    def _refresh_pending(self, snap: Credentials, now: float, done: threading.Event) -> None:
        """The early refresh's thread: it holds the lock (taken for it) until the fetch ends."""
        try:
            failure: Optional[object] = None
            try:
                failure = self._refresh(now, time.monotonic() + REFRESH_TIMEOUT, raise_failure=False)
            except Exception as exc:  # noqa: BLE001 - a thread's exception would print a traceback
                failure = f"{self._source.describe()}: the refresh failed ({type(exc).__name__})"
            if failure is not None:
                left = self._left(snap, now)
                _log().warning("%s; the current key has %.0f s left, trying again in a while", failure, left)
                object.__setattr__(self, "_retry_at", now + min(60.0, left / 4))
        finally:
            self._lock.release()
            done.set()

    def _busy(self, budget: float) -> RequestTimeoutError:
        """The error of a call whose time ran out while another thread's fetch held the lock."""
        last = self._last_problem
        error = RequestTimeoutError(
            f"{self._source.describe()}: no credentials before the call's deadline ({budget:.3g} s): another "
            "request's fetch of them had not ended" + (f" (its last error: {last})" if last else "")
            + f" (from {self._source.origin})")
        error.credential_fetch_cut = True  # as a fetch cut by the deadline (see _Source.error)
        return error

    @property
    def expiration(self) -> Optional[float]:  # type: ignore[override]
        snap = self._snap
        return snap.expiration if snap is not None else None

    @property
    def source(self) -> str:
        """Where these credentials come from, e.g. ``AssumeRole for role acs:ram::1:role/ci (from alicloud:assumeRole)``."""
        return f"{self._source.describe()} (from {self._source.origin})"

    def refresh(self, stale: Optional[Credentials] = None, *, timeout: Optional[float] = None) -> Credentials:
        """Fetch new credentials now (e.g. after FC refused the cached ones); returns the snapshot.

        ``stale`` is the snapshot FC refused: the fetch happens only while the cached snapshot is still
        that key, so N requests refused together make one STS call (the first refreshes, the others get
        its result) instead of N in a row under the lock, which STS could throttle. ``timeout`` as for
        :meth:`current`.
        """
        if stale is not None and not isinstance(stale, Credentials):
            raise InvalidArgumentError("stale", type(stale).__name__, "must be the Credentials snapshot FC refused")
        budget = _check_refresh_timeout(timeout)
        deadline = time.monotonic() + budget
        if not self._lock.acquire(timeout=budget):
            raise self._busy(budget)
        try:
            snap = self._snap
            if stale is not None and stale is not self and snap is not None and snap != stale:
                return snap
            self._refresh(_clock_now(self._clock), deadline, raise_failure=True)
            return self._snap
        finally:
            self._lock.release()

    # --- the Credentials interface, consistent within a request ----------------------------------

    def _pinned(self) -> Credentials:
        local = self._local
        now = _clock_now(self._clock)
        snap = getattr(local, "snap", None)
        if snap is not None and 0 <= now - local.at <= _PIN_SECONDS and time.monotonic() - local.real <= _PIN_SECONDS:
            return snap
        snap = self.current(MIN_TIME_LEFT + _PIN_SECONDS)
        local.snap, local.at, local.real = snap, now, time.monotonic()
        return snap

    @property
    def access_key_id(self) -> str:  # type: ignore[override]
        return self._pinned().access_key_id

    @property
    def access_key_secret(self) -> str:
        return self._pinned().access_key_secret

    @property
    def security_token(self) -> Optional[str]:
        return self._pinned().security_token

    @property
    def masked_key_id(self) -> str:
        snap = self._snap
        return snap.masked_key_id if snap is not None else "<not fetched yet>"

    def __repr__(self) -> str:
        snap = self._snap
        if snap is None:
            state = "not fetched yet"
        elif snap.expiration is None:
            state = f"access_key_id={snap.masked_key_id!r}, no expiry"
        else:
            state = f"access_key_id={snap.masked_key_id!r}, expires {_iso(snap.expiration)}"
        return f"RefreshableCredentials({self.source}, {state})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    # --- refreshing ------------------------------------------------------------------------------

    @staticmethod
    def _left(snap: Credentials, now: float) -> float:
        return math.inf if snap.expiration is None else snap.expiration - now

    def _due(self, snap: Credentials, now: float) -> bool:
        if snap.expiration is None:
            return False
        lifetime = max(0.0, snap.expiration - self._fetched_at)
        return snap.expiration - now <= max(MIN_TIME_LEFT, min(PREFETCH_MAX, lifetime / 2))

    def _refresh(self, now: float, deadline: float, *, raise_failure: bool) -> Optional[FcInvocationError]:
        """Fetch with retries, all ended by ``deadline`` (``time.monotonic()``); store the result. Called with
        the lock held."""
        delays = tuple(REFRESH_RETRY_DELAYS)
        attempt = 0
        earlier: Optional[_Problem] = None
        while True:
            attempt += 1
            problem: Optional[_Problem] = None
            try:
                key_id, secret, token, expires = self._source.fetch(deadline)
            except _Problem as exc:
                problem = exc
            if problem is None:
                snap = _Snapshot(key_id, secret, token, expires)
                object.__setattr__(self, "_snap", snap)
                object.__setattr__(self, "_fetched_at", now)
                object.__setattr__(self, "_retry_at", 0.0)
                object.__setattr__(self, "_last_problem", None)
                _log().info("%s: new credentials %s, %s", self.source, snap.masked_key_id,
                         "no expiry" if expires is None else f"expiring {_iso(expires)}")
                return None
            if problem.deadline and earlier is not None:  # the deadline's error says why the attempts failed
                problem.detail += f"; the attempt before: {earlier.words()}"
            object.__setattr__(self, "_last_problem", problem.words())
            delay = delays[attempt - 1] if attempt <= len(delays) else None
            late = problem.retryable and delay is not None and time.monotonic() + delay >= deadline
            if not problem.retryable or delay is None or late:
                error = self._source.error(problem, attempt,
                                           "the call's deadline left no time for another attempt" if late else None)
                if raise_failure:
                    raise error
                return error
            earlier = problem
            time.sleep(delay)


def _check_refresh_timeout(timeout: Any) -> float:
    if timeout is None:
        return REFRESH_TIMEOUT
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 <= timeout < math.inf:
        raise InvalidArgumentError("timeout", timeout, "must be a number of seconds >= 0, or None")
    return float(timeout)


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


# --- the calls to STS, the metadata service and a credentials URI -------------------------------------


class _Problem(Exception):
    """Why one fetch failed, in words that never quote a secret; turned into a public error by the source."""

    def __init__(self, cls: type, detail: str, *, retryable: bool = False, code: Optional[str] = None,
                 request_id: Optional[str] = None, status: Optional[int] = None, deadline: bool = False) -> None:
        super().__init__(detail)
        self.cls, self.detail, self.retryable = cls, detail, retryable
        self.code, self.request_id, self.status = code, request_id, status
        self.deadline = deadline  # cut short by the caller's deadline: no time for another attempt

    def words(self) -> str:
        return f"{self.code}: {self.detail}" if self.code and not self.detail.startswith(self.code) else self.detail


_sessions: dict[bool, Any] = {}
_sessions_lock = threading.Lock()


def _session(direct: bool) -> Any:
    """One ``requests`` session per process: proxies from the environment for STS and URIs, none for the
    link-local metadata service (a proxy would fetch some other machine's role)."""
    import requests

    with _sessions_lock:
        session = _sessions.get(direct)
        if session is None:
            session = requests.Session()
            if direct:
                session.trust_env = False
                session.proxies = {}
            _sessions[direct] = session
        return session


def _http(method: str, url: str, *, deadline: float, direct: bool = False, data: Optional[str] = None,
          headers: Optional[Mapping[str, str]] = None, timeout: tuple[float, float] = STS_TIMEOUT,
          where: str) -> tuple[int, Mapping[str, str], bytes]:
    """One request, no redirects, ended by ``deadline`` (``time.monotonic()``), its body capped and decoded
    by the package's bounded reader (whatever the urllib3 version). ``where`` names the host for messages
    (never the query)."""
    import requests
    import urllib3

    from ..bodies import BodyTooLarge, read_body

    left = deadline - time.monotonic()
    if left <= 0.001:
        raise _Problem(RequestTimeoutError, f"nothing sent to {where}: no time was left before the call's deadline",
                       deadline=True)
    connect, read = min(timeout[0], left), min(timeout[1], left)
    failure: Optional[_Problem] = None
    response = None
    body = b""
    try:
        response = _session(direct).request(method, url, data=data, headers=dict(headers or {}),
                                            timeout=(connect, read), allow_redirects=False, stream=True)
        body = read_body(response, deadline, MAX_ANSWER)
    except BodyTooLarge as exc:
        failure = _Problem(ResponseTooLargeError, f"{where} answered with more than {MAX_ANSWER} bytes"
                           + (" once decoded" if exc.encoded else ""), status=getattr(response, "status_code", None))
    except requests.exceptions.Timeout:
        if time.monotonic() >= deadline - 0.05:
            failure = _Problem(RequestTimeoutError, f"no complete answer from {where} within the {left:.3g} s left "
                               "before the call's deadline", deadline=True)
        else:
            failure = _Problem(RequestTimeoutError, f"no answer from {where} within {connect:.3g} s to connect and "
                               f"{read:.3g} s to answer", retryable=True)
    except requests.exceptions.ConnectionError as exc:
        reason = exc.args[0] if exc.args else exc
        reason = getattr(reason, "reason", reason)
        unreachable = isinstance(exc, requests.exceptions.SSLError) or isinstance(
            reason, urllib3.exceptions.NewConnectionError)
        failure = _Problem(UnreachableError if unreachable else TransportError,
                           f"cannot reach {where} ({type(reason).__name__})", retryable=True)
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:  # a body cut off
        failure = _Problem(TransportError, f"the request to {where} failed ({type(exc).__name__})", retryable=True)
    finally:
        if response is not None:
            response.close()
    # Raised outside the except clauses: the requests exception (its URL, its prepared request) is not
    # kept as __context__.
    if failure is not None:
        raise failure
    assert response is not None
    if 300 <= response.status_code < 400:
        raise _Problem(RedirectError, f"{where} answered with a redirect (HTTP {response.status_code}), not followed",
                       status=response.status_code)
    return response.status_code, response.headers, body


def _encode(value: str) -> str:
    from ..signing import acs3_percent_encode  # RFC 3986, as the RPC signature spec encodes (space %20)

    return acs3_percent_encode(value)


def sts_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """RPC signature 1.0's string to sign over ``params`` (all but ``Signature``)."""
    canonical = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(params.items()) if k != "Signature")
    return f"{method}&{_encode('/')}&{_encode(canonical)}"


def sts_signature(method: str, params: Mapping[str, str], secret: str) -> str:
    """RPC signature 1.0 (HMAC-SHA1, key ``secret + "&"``), as STS verifies it."""
    import base64
    import hashlib
    import hmac

    digest = hmac.new((secret + "&").encode(), sts_string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _parse_expiration(value: Any) -> float:
    import calendar

    if not isinstance(value, str):
        raise ValueError("not a string")
    text = value.strip()
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return float(calendar.timegm(time.strptime(text, fmt)))
        except ValueError:
            continue
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


_RETRY_STATUSES = (429, 500, 502, 503, 504)


def _answer_problem(status: int, body: bytes, where: str, secrets: tuple[str, ...]) -> _Problem:
    """A non-200 answer as a problem: the server's Code, Message and RequestId (redacted), never its body."""
    code = message = request_id = None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        code, message = data.get("Code") or data.get("code"), data.get("Message") or data.get("message")
        request_id = data.get("RequestId") or data.get("requestId")
    # Servers quote what they signed (a SignatureDoesNotMatch's string to sign): the token appears there
    # percent-encoded once or twice.
    hidden = tuple((form, "<redacted>") for value in secrets if value
                   for form in (value, _encode(value), _encode(_encode(value))))

    def clean(text: Any) -> str:
        return printable(redact(str(text), hidden))[:2000]  # room for a quoted string to sign

    code = clean(code) if code is not None else None
    text = clean(message) if message is not None else f"HTTP {status} from {where}"
    retryable = status in _RETRY_STATUSES or bool(code and (code.startswith("Throttling")
                                                                or code in ("ServiceUnavailable", "InternalError")))
    return _Problem(error_class_for(status), text, retryable=retryable, code=code,
                    request_id=clean(request_id) if request_id is not None else None, status=status)


def _credentials_in(data: Any, where: str, *, token_required: bool = True) -> tuple[str, str, Optional[str], Optional[float]]:
    """AccessKeyId, AccessKeySecret, SecurityToken, Expiration of an answer; a problem names the missing
    field, never a value (a half-formed answer still holds a live secret)."""
    if not isinstance(data, dict):
        raise _Problem(InvalidResponseError, f"{where} answered with something other than a JSON object")
    fields = ("AccessKeyId", "AccessKeySecret") + (("SecurityToken",) if token_required else ())
    missing = [name for name in fields if not isinstance(data.get(name), str) or not data.get(name)]
    if missing:
        raise _Problem(InvalidResponseError, f"the answer of {where} has no {' / '.join(missing)}")
    expires: Optional[float] = None
    if data.get("Expiration") is not None:
        try:
            expires = _parse_expiration(data["Expiration"])
        except (ValueError, OverflowError):
            raise _Problem(InvalidResponseError, f"the answer of {where} has an Expiration that is not "
                           "yyyy-MM-ddTHH:mm:ssZ") from None
    elif token_required:
        raise _Problem(InvalidResponseError, f"the answer of {where} has no Expiration")
    token = data.get("SecurityToken") or None
    for name, value in (("AccessKeyId", data["AccessKeyId"]), ("SecurityToken", token or "")):
        if any(c in value for c in "\r\n\x00"):
            raise _Problem(InvalidResponseError, f"the answer of {where} has a line break or NUL in {name}")
    return data["AccessKeyId"], data["AccessKeySecret"], token, expires


def _host_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


class _Source:
    """A role-based source: ``fetch()`` returns (key id, secret, token, expiry) or raises a ``_Problem``."""

    action = "credentials"
    origin = ""

    def describe(self) -> str:
        raise NotImplementedError

    def fetch(self, deadline: float) -> tuple[str, str, Optional[str], Optional[float]]:
        """One attempt, ended by ``deadline`` (``time.monotonic()``)."""
        raise NotImplementedError

    def key(self) -> tuple:
        raise NotImplementedError

    def error(self, problem: _Problem, attempts: int, why_stopped: Optional[str] = None) -> FcInvocationError:
        message = f"{self.describe()} failed: {problem.detail} (from {self.origin})"
        note = "; ".join(filter(None, (f"after {attempts} attempts" if attempts > 1 else None, why_stopped))) or None
        if issubclass(problem.cls, FcApiError):
            error = problem.cls(message, code=problem.code, request_id=problem.request_id,
                                http_status=problem.status, note=note)
        else:
            error = problem.cls(message + (f" ({note})" if note else ""))
        error.credential_fetch_cut = problem.deadline  # cut by the caller's deadline: a waiter reads no more
        return error


class _StsSource(_Source):
    def __init__(self, *, role_arn: str, session_name: str, duration: int, policy: Optional[str], endpoint: str,
                 origin: str) -> None:
        self.role_arn, self.session_name, self.duration, self.policy = role_arn, session_name, duration, policy
        self.endpoint, self.origin = endpoint, origin

    def describe(self) -> str:
        return f"{self.action} for role {self.role_arn}"

    def _params(self) -> dict[str, str]:
        params = {"Action": self.action, "Format": "JSON", "Version": "2015-04-01",
                  "DurationSeconds": str(self.duration), "RoleArn": self.role_arn,
                  "RoleSessionName": self.session_name,
                  "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        if self.policy:
            params["Policy"] = self.policy
        return params

    def _call(self, params: Mapping[str, str], secrets: tuple[str, ...],
              deadline: float) -> tuple[str, str, Optional[str], Optional[float]]:
        # POST with the parameters in the body, as the STS SDK sends it: the OIDC token, the signature
        # and a source STS token stay out of URLs (proxy and access logs, urllib3's debug log).
        where = f"STS at {_host_of(self.endpoint)}"
        status, _, body = _http("POST", self.endpoint + "/", data="&".join(
            f"{_encode(k)}={_encode(v)}" for k, v in params.items()),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            timeout=STS_TIMEOUT, where=where, deadline=deadline)
        if status != 200:
            raise _answer_problem(status, body, where, secrets)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise _Problem(InvalidResponseError, f"{where} answered with a body that is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("Credentials"), dict):
            raise _Problem(InvalidResponseError, f"the answer of {where} has no Credentials object")
        return _credentials_in(data["Credentials"], where)


class _AssumeRole(_StsSource):
    action = "AssumeRole"

    def __init__(self, base: Credentials, *, external_id: Optional[str] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base, self.external_id = base, external_id

    def key(self) -> tuple:
        import hashlib

        base = self.base
        base_key = (id(base),) if isinstance(base, RefreshableCredentials) else (
            base.access_key_id, hashlib.sha256(f"{base.access_key_secret}\0{base.security_token}".encode()).hexdigest())
        return ("AssumeRole", self.role_arn, self.session_name, self.duration, self.policy, self.external_id,
                self.endpoint, base_key)

    def fetch(self, deadline: float) -> tuple[str, str, Optional[str], Optional[float]]:
        import uuid

        try:
            base = (self.base.current(timeout=max(0.0, deadline - time.monotonic()))
                    if isinstance(self.base, RefreshableCredentials) else self.base.current())
        except FcApiError as exc:
            raise _Problem(type(exc), f"its source credentials: {exc}", code=exc.code, request_id=exc.request_id,
                           status=exc.http_status) from None
        except FcInvocationError as exc:
            raise _Problem(type(exc), f"its source credentials: {exc}") from None
        params = self._params()
        if self.external_id:
            params["ExternalId"] = self.external_id
        params.update({"AccessKeyId": base.access_key_id, "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
                       "SignatureNonce": str(uuid.uuid4())})
        if base.security_token:
            params["SecurityToken"] = base.security_token
        params["Signature"] = sts_signature("POST", params, base.access_key_secret)
        return self._call(params, (base.access_key_secret, base.security_token or ""), deadline)


class _AssumeRoleWithOidc(_StsSource):
    action = "AssumeRoleWithOIDC"

    def __init__(self, *, provider_arn: str, token: Optional[str], token_file: Optional[str],
                 token_origin: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.provider_arn, self.token, self.token_file, self.token_origin = provider_arn, token, token_file, token_origin

    def key(self) -> tuple:
        import hashlib

        token = ("file", self.token_file) if self.token_file else ("token", hashlib.sha256(
            (self.token or "").encode()).hexdigest())
        return ("AssumeRoleWithOIDC", self.role_arn, self.provider_arn, token, self.session_name, self.duration,
                self.policy, self.endpoint)

    def _read_token(self) -> str:
        if self.token_file is None:
            return self.token or ""
        problem = None
        try:  # read again at each refresh: CI systems and ACK rotate the file
            token = Path(self.token_file).expanduser().read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            problem = getattr(exc, "strerror", None) or type(exc).__name__
        if problem is not None:
            raise _Problem(ConfigurationError, f"cannot read the OIDC token file {self.token_file} "
                           f"(from {self.token_origin}): {problem}")
        return token

    def fetch(self, deadline: float) -> tuple[str, str, Optional[str], Optional[float]]:
        token = self._read_token()
        if not 4 <= len(token) <= 20000:
            where = f"the OIDC token file {self.token_file}" if self.token_file else "the OIDC token"
            raise _Problem(ConfigurationError, f"{where} (from {self.token_origin}) must hold a JWT of 4 to 20000 "
                           f"characters, not {len(token)}")
        params = self._params()
        params.update({"OIDCProviderArn": self.provider_arn, "OIDCToken": token})
        return self._call(params, (token,), deadline)


class _EcsRamRole(_Source):
    action = "ECS RAM role"

    def __init__(self, role_name: Optional[str], *, endpoint: str, imdsv1_disabled: bool, origin: str,
                 timeout: tuple[float, float] = METADATA_TIMEOUT) -> None:
        self.role_name, self.endpoint, self.imdsv1_disabled = role_name or None, endpoint, imdsv1_disabled
        self.origin, self.timeout = origin, timeout
        self._discovered: Optional[str] = None

    def describe(self) -> str:
        name = self.role_name or self._discovered
        return (f"ECS RAM role {name}" if name else "ECS RAM role (name from the metadata service)") + \
            f" at {self.endpoint}"

    def key(self) -> tuple:
        return ("ECS", self.role_name, self.endpoint, self.imdsv1_disabled)

    def _get(self, path: str, token: Optional[str], deadline: float) -> bytes:
        where = f"the metadata service {self.endpoint}"
        headers = {"X-aliyun-ecs-metadata-token": token} if token else {}
        status, _, body = _http("GET", self.endpoint + path, direct=True, headers=headers, timeout=self.timeout,
                                where=where, deadline=deadline)
        if status != 200:
            hint = "" if token or status not in (401, 403) else \
                " (IMDSv1 refused: the instance may enforce IMDSv2 tokens)"
            raise _Problem(error_class_for(status), f"HTTP {status} for {path}{hint}", status=status,
                           retryable=status in _RETRY_STATUSES)
        return body

    def _token(self, deadline: float) -> Optional[str]:
        where = f"the metadata service {self.endpoint}"
        problem = None
        try:
            status, _, body = _http("PUT", self.endpoint + "/latest/api/token", direct=True,
                                    headers={"X-aliyun-ecs-metadata-token-ttl-seconds": str(IMDS_TOKEN_TTL)},
                                    timeout=self.timeout, where=where, deadline=deadline)
        except _Problem as exc:
            if exc.cls in (UnreachableError, RequestTimeoutError):
                raise
            problem = exc
        else:
            if status == 200 and body.strip():
                return body.decode("ascii", "replace").strip()
            problem = _Problem(error_class_for(status), f"HTTP {status} for the IMDSv2 token", status=status,
                               retryable=status in _RETRY_STATUSES)
        if self.imdsv1_disabled:
            raise _Problem(problem.cls, f"{problem.detail}, and IMDSv1 is off (ALIBABA_CLOUD_IMDSV1_DISABLED)",
                           status=problem.status, retryable=problem.retryable)
        _log().debug("metadata service %s: no IMDSv2 token (%s); falling back to IMDSv1", self.endpoint, problem.detail)
        return None

    def fetch(self, deadline: float) -> tuple[str, str, Optional[str], Optional[float]]:
        token = self._token(deadline)
        name = self.role_name or self._discovered
        base = "/latest/meta-data/ram/security-credentials/"
        if not name:
            text = self._get(base, token, deadline).decode("utf-8", "replace").strip().splitlines()
            if not text or not re.fullmatch(r"[A-Za-z0-9._@+=,-]{1,128}", text[0].strip()):
                raise _Problem(ConfigurationError, "the instance has no RAM role attached (the metadata service "
                               "names none); attach one or set alicloud:ecsRoleName / ALIBABA_CLOUD_ECS_METADATA")
            name = self._discovered = text[0].strip()
        body = self._get(base + quote(name, safe=""), token, deadline)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise _Problem(InvalidResponseError, "the metadata service answered with a body that is not JSON") from None
        if isinstance(data, dict) and data.get("Code", "Success") != "Success":
            raise _Problem(InvalidResponseError, f"the metadata service answered Code "
                           f"{printable(str(data.get('Code')))[:60]!r}, not Success")
        return _credentials_in(data, f"the metadata service {self.endpoint}")


class _CredentialsUri(_Source):
    action = "credentials URI"

    def __init__(self, uri: str, *, origin: str) -> None:
        self.uri, self.origin = uri, origin

    def describe(self) -> str:
        parts = urlsplit(self.uri)  # the query may hold a secret of the URI's own: never shown
        return f"credentials URI {parts.scheme}://{parts.netloc}{parts.path}"

    def key(self) -> tuple:
        return ("URI", self.uri)

    def fetch(self, deadline: float) -> tuple[str, str, Optional[str], Optional[float]]:
        where = self.describe()
        status, _, body = _http("GET", self.uri, timeout=STS_TIMEOUT, where=where, direct=_is_loopback(self.uri),
                                deadline=deadline)
        if status != 200:
            raise _Problem(error_class_for(status), f"HTTP {status}", status=status,
                           retryable=status in _RETRY_STATUSES)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise _Problem(InvalidResponseError, "the answer is not JSON") from None
        if not isinstance(data, dict) or data.get("Code") != "Success":
            code = data.get("Code") if isinstance(data, dict) else None
            raise _Problem(InvalidResponseError, f"the answer's Code is {printable(str(code))[:60]!r}, not Success")
        return _credentials_in(data, where)


def _is_loopback(url: str) -> bool:
    import ipaddress

    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_cache: "OrderedDict[tuple, RefreshableCredentials]" = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 32


def _cached(source: _Source) -> RefreshableCredentials:
    """One RefreshableCredentials per source per process: each resolve of the same settings (the provider
    resolves per call) shares the cached key and its refresh, and clients cached by credentials stay cached."""
    key = source.key() + (source.origin,)  # errors name where the setting came from: one entry per origin
    with _cache_lock:
        found = _cache.get(key)
        if found is None:
            found = _cache[key] = RefreshableCredentials(source)
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
        return found


def forget_cached_credentials() -> None:
    """Drop every cached temporary key of this process (tests; or after rotating a role's trust)."""
    with _cache_lock:
        _cache.clear()


# --- settings --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Everything needed to build a client; ``credentials`` may be None only for error reporting."""

    account_id: str | None
    region: str | None
    credentials: Credentials | None
    endpoint: str | None
    credentials_source: str | None = None

    def __repr__(self) -> str:  # dataclass repr would be safe too; keep it explicit
        return (
            f"Settings(account_id={self.account_id!r}, region={self.region!r}, "
            f"credentials={self.credentials!r}, endpoint={self.endpoint!r})"
        )


# Where each setting can come from, in precedence order after explicit arguments. Used both to resolve
# and to tell the user every place that would have supplied a missing value. The provider forwards
# every config key listed here from the stack configuration.
SETTING_SOURCES: dict[str, dict[str, tuple[str, ...]]] = {
    "access_key_id": {"config": ("alicloud:accessKey",), "env": ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALICLOUD_ACCESS_KEY")},
    "access_key_secret": {
        "config": ("alicloud:secretKey",),
        "env": ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALICLOUD_SECRET_KEY"),
    },
    "security_token": {
        "config": ("alicloud:securityToken",),
        "env": ("ALIBABA_CLOUD_SECURITY_TOKEN", "ALICLOUD_SECURITY_TOKEN"),
    },
    "region": {"config": ("alicloud:region",), "env": ("ALIBABA_CLOUD_REGION", "ALICLOUD_REGION")},
    "account_id": {"config": ("alicloud:accountId",), "env": ("ALIBABA_CLOUD_ACCOUNT_ID", "ALICLOUD_ACCOUNT_ID")},
    "endpoint": {"config": ("fc-invocation:endpoint",), "env": ("FC_INVOCATION_ENDPOINT",)},
    "profile": {"config": ("alicloud:profile",), "env": ("ALIBABA_CLOUD_PROFILE", "ALICLOUD_PROFILE")},
    "credentials_file": {
        "config": ("alicloud:sharedCredentialsFile",),
        "env": ("ALIBABA_CLOUD_CREDENTIALS_FILE",),
    },
    # Role-based sources. The config values are objects (JSON text from the stack configuration).
    "assume_role_with_oidc": {"config": ("alicloud:assumeRoleWithOidc",), "env": ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN",)},
    "assume_role": {"config": ("alicloud:assumeRole",), "env": ("ALIBABA_CLOUD_ROLE_ARN", "ALICLOUD_ASSUME_ROLE_ARN")},
    "oidc_token_file": {"config": (), "env": ("ALIBABA_CLOUD_OIDC_TOKEN_FILE",)},
    "oidc_token": {"config": (), "env": ("ALIBABA_CLOUD_OIDC_TOKEN",)},
    "role_session_name": {"config": (), "env": ("ALIBABA_CLOUD_ROLE_SESSION_NAME", "ALICLOUD_ASSUME_ROLE_SESSION_NAME")},
    "session_expiration": {"config": (), "env": ("ALICLOUD_ASSUME_ROLE_SESSION_EXPIRATION",)},
    "ecs_role_name": {"config": ("alicloud:ecsRoleName",), "env": ("ALIBABA_CLOUD_ECS_METADATA", "ALICLOUD_ECS_ROLE_NAME")},
    "credentials_uri": {"config": ("alicloud:credentialsUri",),
                        "env": ("ALIBABA_CLOUD_CREDENTIALS_URI", "ALICLOUD_CREDENTIALS_URI")},
    "sts_endpoint": {"config": (), "env": ("ALIBABA_CLOUD_STS_ENDPOINT",)},
    "sts_region": {"config": (), "env": ("ALIBABA_CLOUD_STS_REGION",)},
    "vpc_endpoint_enabled": {"config": (), "env": ("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED",)},
    "imdsv1_disabled": {"config": (), "env": ("ALIBABA_CLOUD_IMDSV1_DISABLED",)},
    "ecs_metadata_disabled": {"config": (), "env": ("ALIBABA_CLOUD_ECS_METADATA_DISABLED",)},
    "metadata_endpoint": {"config": (), "env": ("FC_INVOCATION_METADATA_ENDPOINT",)},
    "cli_profile_disabled": {"config": (), "env": ("ALIBABA_CLOUD_CLI_PROFILE_DISABLED",)},
}


def _first(mapping: Mapping[str, Any] | None, keys: tuple[str, ...]) -> str | None:
    if not mapping:
        return None
    for key in keys:
        value = mapping.get(key)
        if value is not None and str(value).strip() != "":
            return str(value).strip() if "secret" not in key.lower() else str(value)
    return None


def _first_named(mapping: Mapping[str, Any] | None, keys: tuple[str, ...]) -> tuple[str | None, str | None]:
    """The first set value and the name it was found under."""
    for key in keys:
        value = _first(mapping, (key,))
        if value is not None:
            return value, key
    return None, None


def _lookup(name: str, config: Mapping[str, Any] | None, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    sources = SETTING_SOURCES[name]
    value = _first(config, sources["config"])
    if value is not None:
        return value, "Pulumi config"
    value = _first(env, sources["env"])
    if value is not None:
        return value, "environment"
    return None, None


def _where(name: str, argument: str | None = None) -> str:
    sources = SETTING_SOURCES[name]
    parts = []
    if argument:
        parts.append(f"the `{argument}` argument")
    if sources["config"]:
        parts.append("Pulumi config " + " / ".join(f"`{key}`" for key in sources["config"]))
    parts.append("environment variable " + " / ".join(sources["env"]))
    return ", ".join(parts)


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes", "on")


_ROLE_ARN = re.compile(r"acs:ram::[0-9]{1,32}:role/[A-Za-z0-9._@+=,/-]{1,128}")
_PROVIDER_ARN = re.compile(r"acs:ram::[0-9]{1,32}:oidc-provider/[A-Za-z0-9._@+=,/-]{1,128}")
_SESSION_NAME = re.compile(r"[A-Za-z0-9.@_-]{2,64}")
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")
_ROLE_NAME = re.compile(r"[A-Za-z0-9._@+=,-]{1,128}")


def _text(value: Any, name: str, where: str) -> Optional[str]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"{where}: {name} must be a string, not {type(value).__name__}")
    return value.strip()


def _checked(value: Any, name: str, where: str, pattern: "re.Pattern[str]", rule: str) -> Optional[str]:
    text = _text(value, name, where)
    if text is not None and not pattern.fullmatch(text):
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise ConfigurationError(f"{where}: {name} {shown!r} {rule}")
    return text


def _role_arn(value: Any, name: str, where: str) -> Optional[str]:
    return _checked(value, name, where, _ROLE_ARN, "is not a role ARN: acs:ram::<account id>:role/<role name>")


def _required_role_arn(value: Any, name: str, where: str, what: str = "") -> str:
    role = _role_arn(value, name, where)
    if not role:
        raise ConfigurationError(f"{where}: {what + ' needs ' if what else ''}{name}" + ("" if what else " is required"))
    return role


def _duration(value: Any, name: str, where: str, ctx: "_Ctx") -> int:
    """Seconds a role session lasts; 0 or unset: the environment's, else 3600 (terraform's semantics)."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "0")) or (
            not isinstance(value, bool) and value == 0):
        env_value, env_name = _first_named(ctx.env, SETTING_SOURCES["session_expiration"]["env"])
        if env_value is None:
            return DEFAULT_DURATION
        value, name, where = env_value, env_name, "environment"
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigurationError(f"{where}: {name} must be a number of seconds, not {type(value).__name__}")
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds == int(seconds) and 900 <= seconds <= 43200):
        raise ConfigurationError(f"{where}: {name} must be a whole number of seconds from 900 to 43200 (STS: "
                                 f"15 minutes to the role's maximum session, at most 12 hours), not {value!r}")
    return int(seconds)


def _policy(value: Any, name: str, where: str) -> Optional[str]:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ConfigurationError(f"{where}: {name} is not JSON (a RAM policy document)") from None
    if not isinstance(value, dict):
        raise ConfigurationError(f"{where}: {name} must be a RAM policy document (a JSON object)")
    # Compact: the official library signs a space as '+', the spec as %20; without spaces both agree.
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if len(text) > 2048:
        raise ConfigurationError(f"{where}: {name} is {len(text)} characters as compact JSON; STS takes at most 2048")
    return text


def _object(config: Mapping[str, Any] | None, key: str, allowed: tuple[str, ...]) -> Optional[dict[str, Any]]:
    """An object-valued config key (pulumi-alicloud's ``assumeRole``...): JSON text or a mapping."""
    if not config or config.get(key) in (None, ""):
        return None
    value = config[key]
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"Pulumi config {key} must be an object, e.g. "
                                 f"pulumi config set --path '{key}.roleArn' acs:ram::<account>:role/<name>")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ConfigurationError(f"Pulumi config {key}: unknown key {unknown[0]!r}; the keys are {', '.join(allowed)}")
    return dict(value)


class _Ctx:
    """The environment and files a chain resolution reads, and the defaults role sources share."""

    def __init__(self, config: Mapping[str, Any] | None, env: Mapping[str, str], home: Path) -> None:
        self.config, self.env, self.home = config, env, home

    def env_value(self, setting: str) -> tuple[Optional[str], Optional[str]]:
        return _first_named(self.env, SETTING_SOURCES[setting]["env"])

    def config_oidc(self) -> Optional[dict[str, Any]]:
        return _object(self.config, "alicloud:assumeRoleWithOidc", ("oidcProviderArn", "roleArn", "oidcToken",
                                                                   "oidcTokenFile", "roleSessionName",
                                                                   "sessionExpiration", "policy"))

    def flag(self, setting: str) -> bool:
        value, _ = self.env_value(setting)
        return value is not None and _truthy(value)

    def sts_endpoint(self, region: Any = None, vpc: Any = None) -> str:
        explicit, name = self.env_value("sts_endpoint")
        if explicit:
            url = explicit if "://" in explicit else "https://" + explicit
            try:
                url = check_endpoint(url)
            except ConfigurationError as exc:
                raise ConfigurationError(f"{name}: {exc}") from None
            _warn_plain_http(url, name)
            return url
        if region is None:
            region, _ = self.env_value("sts_region")
        if vpc is None:
            vpc = self.flag("vpc_endpoint_enabled")
        prefix = "sts-vpc" if _truthy(vpc) else "sts"
        if region:
            return f"https://{prefix}.{check_region(str(region), 'STS region')}.aliyuncs.com"
        return "https://sts.aliyuncs.com"

    def session_name(self, value: Any, name: str, where: str) -> str:
        checked = _checked(value, name, where, _SESSION_NAME, "must be 2-64 letters, digits or . @ _ -")
        if checked:
            return checked
        env_value, env_name = self.env_value("role_session_name")
        return _checked(env_value, env_name or "", "environment", _SESSION_NAME,
                        "must be 2-64 letters, digits or . @ _ -") or DEFAULT_SESSION_NAME

    def metadata_endpoint(self) -> str:
        value, name = self.env_value("metadata_endpoint")
        if not value:
            return DEFAULT_METADATA_ENDPOINT
        try:
            return check_endpoint(value)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{name}: {exc}") from None

    # --- building sources ----------------------------------------------------------------------

    def assume_role(self, base: Credentials, *, role_arn: str, where: str, origin: str, session_name: Any = None,
                    duration: Any = None, policy: Any = None, external_id: Any = None, sts_region: Any = None,
                    vpc: Any = None, names: Mapping[str, str] | None = None) -> RefreshableCredentials:
        names = names or {}
        return _cached(_AssumeRole(
            base, role_arn=role_arn,
            session_name=self.session_name(session_name, names.get("session", "sessionName"), where),
            duration=_duration(duration, names.get("duration", "sessionExpiration"), where, self),
            policy=_policy(policy, "policy", where),
            external_id=_checked(external_id, names.get("external", "externalId"), where, _EXTERNAL_ID,
                                 "must be 2-1224 characters of letters, digits and + = , . @ : / - _"),
            endpoint=self.sts_endpoint(sts_region, vpc), origin=origin))

    def oidc(self, *, role_arn: str, provider_arn: Any, token: Any, token_file: Any, where: str, origin: str,
             token_origin: str, session_name: Any = None, duration: Any = None, policy: Any = None,
             sts_region: Any = None, vpc: Any = None, names: Mapping[str, str] | None = None) -> RefreshableCredentials:
        names = names or {}
        provider = _checked(provider_arn, names.get("provider", "oidcProviderArn"), where, _PROVIDER_ARN,
                            "is not an OIDC provider ARN: acs:ram::<account id>:oidc-provider/<name>")
        if not provider:
            raise ConfigurationError(f"{where}: {names.get('provider', 'oidcProviderArn')} is required")
        token_text = _text(token, "oidcToken", where)
        file_text = _text(token_file, names.get("file", "oidcTokenFile"), where)
        if not token_text and not file_text:
            raise ConfigurationError(f"{where}: needs an OIDC token: {names.get('file', 'oidcTokenFile')} "
                                     "(a file the CI system writes) or oidcToken")
        return _cached(_AssumeRoleWithOidc(
            role_arn=role_arn, provider_arn=provider, token=None if file_text else token_text, token_file=file_text,
            token_origin=token_origin,
            session_name=self.session_name(session_name, names.get("session", "roleSessionName"), where),
            duration=_duration(duration, names.get("duration", "sessionExpiration"), where, self),
            policy=_policy(policy, "policy", where), endpoint=self.sts_endpoint(sts_region, vpc), origin=origin))

    def ecs(self, role_name: Any, *, where: str, origin: str,
            timeout: tuple[float, float] = METADATA_TIMEOUT) -> RefreshableCredentials:
        name = _checked(role_name, "role name", where, _ROLE_NAME, "is not a RAM role name")
        source = _EcsRamRole(name, endpoint=self.metadata_endpoint(), imdsv1_disabled=self.flag("imdsv1_disabled"),
                             origin=origin, timeout=timeout)
        return _cached(source)

    def uri(self, value: str, *, origin: str) -> RefreshableCredentials:
        try:
            checked = _check_uri(value)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{origin}: {exc}") from None
        return _cached(_CredentialsUri(checked, origin=origin))


def _check_uri(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError("the credentials URI must be a full http:// or https:// URL")
    if "@" in parts.netloc:
        raise ConfigurationError("the credentials URI contains a user name or password (not shown)")
    if any(c.isspace() or ord(c) < 0x20 for c in value.strip()):
        raise ConfigurationError("the credentials URI contains white space or a control character")
    if parts.scheme == "http":
        _warn_plain_http(value.strip(), "the credentials URI")
    return value.strip()


_warned: set[str] = set()


def _warn_plain_http(url: str, name: str) -> None:
    if not url.startswith("http://") or _is_loopback(url):
        return
    host = urlsplit(url).netloc
    if host not in _warned:
        _warned.add(host)
        _log().warning("%s uses plain HTTP to %s, a host that is not loopback: temporary credentials cross the network "
                    "unencrypted; use https://", name, host)


def _ini_problem(exc: Exception) -> str:
    """What is wrong with an INI file, by line and key name: never a value (it may be the secret)."""
    import configparser

    if isinstance(exc, configparser.MissingSectionHeaderError):
        return f"line {exc.lineno}: a setting before any [profile] header"
    if isinstance(exc, configparser.DuplicateSectionError):
        return f"line {exc.lineno}: profile [{exc.section}] appears twice"
    if isinstance(exc, configparser.DuplicateOptionError):
        return f"line {exc.lineno}: {exc.option!r} appears twice in [{exc.section}]"
    if isinstance(exc, configparser.ParsingError):
        lines = ", ".join(str(lineno) for lineno, _ in exc.errors[:5])
        return f"line {lines}: not `key = value`"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return type(exc).__name__




def _from_ini(path: Path, profile: str, ctx: _Ctx) -> tuple[Credentials | None, str | None]:
    import configparser  # only when a credentials file is read: keeps the client's import light

    # Raw: no %-interpolation. With it, a `%` in a secret raised an error quoting the raw value, and
    # `%%` silently became `%` (a wrong secret); botocore reads these files raw too.
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError) as exc:
        problem = _ini_problem(exc)
    else:
        problem = None
    if problem is not None:
        raise ConfigurationError(f"cannot read credentials file {path}: {problem}")
    if not parser.has_section(profile):
        return None, None
    section = parser[profile]
    if section.get("enable", "true").strip().lower() == "false":
        return None, None
    kind = section.get("type", "access_key").strip().lower()
    region = section.get("region_id") or section.get("region")
    where = f"credentials file {path}, profile [{profile}]"
    if kind == "ecs_ram_role":
        return ctx.ecs(section.get("role_name"), where=where, origin=where), region
    if kind == "oidc_role_arn":
        role = _required_role_arn(section.get("role_arn"), "role_arn", where, "type oidc_role_arn")
        return ctx.oidc(role_arn=role, provider_arn=section.get("oidc_provider_arn"), token=None,
                        token_file=section.get("oidc_token_file_path"), where=where, origin=where, token_origin=where,
                        session_name=section.get("role_session_name"), duration=section.get("duration_seconds"),
                        policy=section.get("policy"), sts_region=section.get("sts_region"),
                        names={"provider": "oidc_provider_arn", "file": "oidc_token_file_path",
                               "session": "role_session_name", "duration": "duration_seconds"}), region
    if kind not in ("access_key", "sts", "ram_role_arn"):
        raise ConfigurationError(
            f"{where}: type {kind!r} is not supported; use access_key, sts, ram_role_arn, oidc_role_arn or "
            "ecs_ram_role"
        )
    key_id, secret = section.get("access_key_id"), section.get("access_key_secret")
    if not key_id or not secret:
        raise ConfigurationError(f"{where}: needs both access_key_id and access_key_secret")
    token = section.get("security_token") or section.get("sts_token")
    base = _credentials_from(where, key_id, secret, token)
    if kind != "ram_role_arn":
        return base, region
    role = _required_role_arn(section.get("role_arn"), "role_arn", where, "type ram_role_arn")
    return ctx.assume_role(base, role_arn=role, where=where, origin=where,
                           session_name=section.get("role_session_name"), duration=section.get("duration_seconds"),
                           policy=section.get("policy"), external_id=section.get("external_id"),
                           sts_region=section.get("sts_region"),
                           names={"session": "role_session_name", "duration": "duration_seconds",
                                  "external": "external_id"}), region


def _credentials_from(where: str, key_id: Any, secret: Any, token: Any) -> Credentials:
    for name, value in (("access_key_id", key_id), ("access_key_secret", secret), ("security_token", token)):
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(f"{where}: {name} must be a string, not {type(value).__name__}")
    try:
        return Credentials(key_id, secret, token or None)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{where}: {exc}") from None


_CLI_MODES = ("AK", "StsToken", "RamRoleArn", "ChainableRamRoleArn", "EcsRamRole", "OIDC")


def _from_cli_config(path: Path, profile: str | None, ctx: _Ctx) -> tuple[Credentials | None, str | None]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        problem = "nested too deeply" if isinstance(exc, RecursionError) else type(exc).__name__
    else:
        problem = None
    if problem is None and not isinstance(data, dict):
        problem = f"the top level is a JSON {type(data).__name__}, not an object"
    elif problem is None and not isinstance(data.get("profiles", []), (list, type(None))):
        problem = "`profiles` is not a list"
    elif problem is None and not isinstance(data.get("current", ""), (str, type(None))):
        problem = "`current` is not a string"
    if problem is not None:
        raise ConfigurationError(f"cannot read Alibaba Cloud CLI config {path}: {problem}")
    return _cli_profile(path, data, profile or data.get("current") or "default", ctx, ())


def _cli_profile(path: Path, data: dict, name: str, ctx: _Ctx, chain: tuple[str, ...]) -> tuple[Credentials | None, str | None]:
    entry = next((e for e in data.get("profiles") or [] if isinstance(e, dict) and e.get("name") == name), None)
    if entry is None:
        if chain:
            raise ConfigurationError(f"Alibaba Cloud CLI config {path}, profile {chain[-1]!r}: its source_profile "
                                     f"{name!r} does not exist")
        return None, None
    where = f"Alibaba Cloud CLI config {path}, profile {name!r}"
    mode = entry.get("mode", "AK")
    if mode not in _CLI_MODES:
        shown = repr(mode) if isinstance(mode, str) else f"of type {type(mode).__name__}"
        raise ConfigurationError(f"{where}: mode {shown} is not supported; use {', '.join(_CLI_MODES)}, "
                                 "or set the keys in the environment")
    region = entry.get("region_id") or None
    if region is not None and not isinstance(region, str):
        raise ConfigurationError(f"{where}: region_id must be a string, not {type(region).__name__}")
    sts = {"session_name": entry.get("ram_session_name") or entry.get("role_session_name"),
           "duration": entry.get("expired_seconds"), "policy": entry.get("policy"),
           "sts_region": entry.get("sts_region"), "vpc": entry.get("enable_vpc")}
    names = {"session": "ram_session_name", "duration": "expired_seconds", "external": "external_id",
             "provider": "oidc_provider_arn", "file": "oidc_token_file"}
    if mode == "EcsRamRole":
        return ctx.ecs(entry.get("ram_role_name"), where=where, origin=where), region
    if mode == "OIDC":
        role = _required_role_arn(entry.get("ram_role_arn"), "ram_role_arn", where, "mode OIDC")
        return ctx.oidc(role_arn=role, provider_arn=entry.get("oidc_provider_arn"), token=None,
                        token_file=entry.get("oidc_token_file"), where=where, origin=where, token_origin=where,
                        names=names, **sts), region
    if mode == "ChainableRamRoleArn":
        source = entry.get("source_profile")
        if not isinstance(source, str) or not source:
            raise ConfigurationError(f"{where}: mode ChainableRamRoleArn needs source_profile")
        if source in chain + (name,):
            raise ConfigurationError(f"{where}: source_profile {source!r} leads back to itself")
        base, _ = _cli_profile(path, data, source, ctx, chain + (name,))
        if base is None:
            raise ConfigurationError(f"{where}: source_profile {source!r} gives no credentials")
    else:
        key_id, secret = entry.get("access_key_id"), entry.get("access_key_secret")
        if not key_id or not secret:
            if mode in ("AK", "StsToken") and not chain:
                return None, region
            raise ConfigurationError(f"{where}: mode {mode} needs access_key_id and access_key_secret")
        token = entry.get("sts_token") if mode in ("StsToken", "RamRoleArn") else None
        base = _credentials_from(where, key_id, secret, token)
        if mode in ("AK", "StsToken"):
            return base, region
    role = _required_role_arn(entry.get("ram_role_arn"), "ram_role_arn", where, f"mode {mode}")
    return ctx.assume_role(base, role_arn=role, where=where, origin=where, external_id=entry.get("external_id"),
                           names=names, **sts), region


def _from_config(ctx: _Ctx, files: Callable[[], Optional[Credentials]]) -> tuple[Credentials | None, str | None]:
    """The Pulumi config's credentials (terraform-provider-alicloud's precedence): an access key, alone or as
    the base of ``assumeRole``; without one, ``assumeRoleWithOidc``, then ``assumeRole`` on a key from the
    environment or the shared files, then ``ecsRoleName``, then ``credentialsUri``."""
    config = ctx.config
    key = _key_pair(config, "config", "Pulumi config")
    assume = _object(config, "alicloud:assumeRole", ("roleArn", "sessionName", "sessionExpiration", "policy",
                                                     "externalId"))
    where = "Pulumi config alicloud:assumeRole"
    if assume is not None and (key is not None or ctx.config_oidc() is None):
        role = _required_role_arn(assume.get("roleArn"), "roleArn", where)
        base = key or _key_pair(ctx.env, "env", "environment") or files()
        if base is None:
            raise ConfigurationError(f"{where} needs an access key to call AssumeRole with: set Pulumi config "
                                     "alicloud:accessKey + alicloud:secretKey, ALIBABA_CLOUD_ACCESS_KEY_ID + "
                                     "ALIBABA_CLOUD_ACCESS_KEY_SECRET, or a profile")
        creds = ctx.assume_role(base, role_arn=role, where=where, origin="alicloud:assumeRole",
                                session_name=assume.get("sessionName"), duration=assume.get("sessionExpiration"),
                                policy=assume.get("policy"), external_id=assume.get("externalId"))
        return creds, creds.source
    if key is not None:
        return key, "Pulumi config"
    oidc = ctx.config_oidc()
    if oidc is not None:
        where = "Pulumi config alicloud:assumeRoleWithOidc"
        role = _required_role_arn(oidc.get("roleArn") or ctx.env_value("assume_role")[0], "roleArn", where)
        file_value, file_name = ctx.env_value("oidc_token_file")
        token_file = oidc.get("oidcTokenFile") or (None if oidc.get("oidcToken") else file_value)
        token_origin = ("alicloud:assumeRoleWithOidc.oidcTokenFile" if oidc.get("oidcTokenFile") else
                        "alicloud:assumeRoleWithOidc.oidcToken" if oidc.get("oidcToken") else file_name or "")
        creds = ctx.oidc(role_arn=role, provider_arn=oidc.get("oidcProviderArn") or ctx.env_value(
            "assume_role_with_oidc")[0], token=oidc.get("oidcToken") or ctx.env_value("oidc_token")[0],
            token_file=token_file, where=where, origin="alicloud:assumeRoleWithOidc", token_origin=token_origin,
            session_name=oidc.get("roleSessionName"), duration=oidc.get("sessionExpiration"),
            policy=oidc.get("policy"))
        return creds, creds.source
    role_name = _first(config, SETTING_SOURCES["ecs_role_name"]["config"])
    if role_name is not None:
        creds = ctx.ecs(role_name, where="Pulumi config alicloud:ecsRoleName", origin="alicloud:ecsRoleName")
        return creds, creds.source
    uri = _first(config, SETTING_SOURCES["credentials_uri"]["config"])
    if uri is not None:
        creds = ctx.uri(uri, origin="alicloud:credentialsUri")
        return creds, creds.source
    return None, None


def _key_pair(mapping: Mapping[str, Any] | None, kind: str, origin: str) -> Optional[Credentials]:
    key_id = _first(mapping, SETTING_SOURCES["access_key_id"][kind])
    secret = _first(mapping, SETTING_SOURCES["access_key_secret"][kind])
    token = _first(mapping, SETTING_SOURCES["security_token"][kind])
    if not (key_id or secret):
        return None
    if not (key_id and secret):
        missing = "access_key_secret" if key_id else "access_key_id"
        raise ConfigurationError(f"incomplete credentials in the {origin}: {missing} is missing; set "
                                 + _where(missing))
    return Credentials(key_id, secret, token)


def _from_env(ctx: _Ctx) -> tuple[Credentials | None, str | None]:
    """The official chain's first two: an access key (with ``ALIBABA_CLOUD_ROLE_ARN`` and no OIDC provider,
    the base of AssumeRole), then OIDC when the role, the provider and a token are all set."""
    env = ctx.env
    key = _key_pair(env, "env", "environment")
    role, role_name = ctx.env_value("assume_role")
    provider, provider_name = ctx.env_value("assume_role_with_oidc")
    if key is not None:
        if role and not provider:
            creds = ctx.assume_role(key, role_arn=_role_arn(role, role_name, "environment") or role,
                                    where="environment", origin=role_name)
            return creds, creds.source
        return key, "environment"
    if provider:
        token_file, file_name = ctx.env_value("oidc_token_file")
        token, token_name = ctx.env_value("oidc_token")
        if not role:
            raise ConfigurationError(f"{provider_name} is set but ALIBABA_CLOUD_ROLE_ARN is not: AssumeRoleWithOIDC "
                                     "needs the role to assume")
        creds = ctx.oidc(role_arn=_role_arn(role, role_name, "environment") or role, provider_arn=provider,
                         token=token, token_file=token_file, where="environment", origin=role_name,
                         token_origin=file_name if token_file else token_name or "",
                         names={"provider": provider_name, "file": "ALIBABA_CLOUD_OIDC_TOKEN_FILE"})
        return creds, creds.source
    return None, None


def _on_ecs() -> bool:
    """Whether this machine is an ECS instance, from DMI (no network): the metadata service is probed only there."""
    for name in ("sys_vendor", "product_name"):
        try:
            if "alibaba cloud" in Path(f"/sys/class/dmi/id/{name}").read_text(errors="replace").lower():
                return True
        except OSError:
            continue
    return False


def _probe_ecs(ctx: _Ctx) -> Optional[RefreshableCredentials]:
    """Last in the chain: the instance's RAM role, when the metadata service answers within a second.

    Only on an ECS instance (or with the metadata address overridden, as tests do); off with
    ALIBABA_CLOUD_ECS_METADATA_DISABLED=true. A probe that fails is not an error: the chain just ends."""
    if ctx.flag("ecs_metadata_disabled"):
        return None
    if not ctx.env_value("metadata_endpoint")[0] and not _on_ecs():
        return None
    creds = ctx.ecs(None, where="ECS metadata", origin="the instance's RAM role (last in the chain)",
                    timeout=(1.0, METADATA_TIMEOUT[1]))
    problem = None
    try:
        creds.current()
    except FcInvocationError as exc:
        problem = exc
    if problem is not None:
        _log().debug("no ECS RAM role: %s", problem)
        return None
    return creds


_ACCOUNT_ID = re.compile(r"[0-9]{1,32}")
_REGION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?")  # one host label, as botocore checks
ACCOUNT_ID_RULE = "must be the account's digits, e.g. 1234567890123456"
REGION_RULE = "must be a region id (letters, digits and '-', no dots or slashes), e.g. cn-hangzhou or ap-southeast-1"


def check_account_id(value: Any, argument: str = "account_id") -> str:
    """The account id goes into the host name and a signed header: digits only, checked before use."""
    if not isinstance(value, str) or not _ACCOUNT_ID.fullmatch(value):
        raise InvalidArgumentError(argument, value, ACCOUNT_ID_RULE)
    return value


def check_region(value: Any, argument: str = "region") -> str:
    """The region goes into the host name: ``x.attacker.example/`` would pick the host."""
    if not isinstance(value, str) or not _REGION.fullmatch(value):
        raise InvalidArgumentError(argument, value, REGION_RULE)
    return value


_USERINFO = ("endpoint: it contains a user name or password (not shown); FC takes no credentials in the URL: "
             "give the host only, and the keys as credentials")


def check_endpoint(endpoint: str) -> str:
    """``http(s)://host[:port][/path]``; refuses a missing scheme, user info (it would reach logs, errors and state),
    a query or a fragment, and ports out of range. Returns it without a trailing slash."""
    from urllib.parse import urlsplit

    endpoint = endpoint.strip().rstrip("/")
    if not endpoint.startswith(("http://", "https://")):
        if "://" in endpoint:
            raise ConfigurationError("endpoint: the scheme must be http:// or https://")
        if "@" in endpoint:
            raise ConfigurationError(_USERINFO)
        # Guessing one turned an emulator's 127.0.0.1:9000 into https:// and a baffling TLS error.
        shown = endpoint if len(endpoint) <= 80 else endpoint[:77] + "..."
        raise ConfigurationError(f"endpoint {shown!r}: no scheme; write it in full, e.g. http://{shown} "
                                 f"(an emulator) or https://{shown} (FC)")
    parts = urlsplit(endpoint)
    if "@" in parts.netloc:
        raise ConfigurationError(_USERINFO)
    try:
        parts.port
    except ValueError:
        raise ConfigurationError(f"endpoint {endpoint!r}: the port is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise ConfigurationError(f"endpoint {endpoint!r}: no host name")
    if parts.query or parts.fragment or "?" in endpoint or "#" in endpoint:
        raise ConfigurationError(f"endpoint {parts.scheme}://{parts.netloc}: a query or fragment is not allowed")
    if any(c.isspace() or ord(c) < 0x20 for c in endpoint):
        raise ConfigurationError("endpoint: it contains white space or a control character")
    return endpoint


def resolve_settings(
    *,
    account_id: str | None = None,
    region: str | None = None,
    credentials: Credentials | None = None,
    endpoint: str | None = None,
    internal: bool = False,
    config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    home: str | os.PathLike[str] | None = None,
    require: bool = True,
    credentials_argument: str | None = None,
) -> Settings:
    """Resolve account, region, credentials and endpoint through the chain.

    ``config`` is a mapping of Pulumi config keys (``alicloud:accessKey``...) to values, e.g. what a
    dynamic provider's ``configure`` receives. With ``require`` (the default) a missing value raises a
    :class:`ConfigurationError` naming every argument, config key and environment variable that
    would supply it; ``credentials_argument`` names the caller's own credentials argument there, if
    it has one (the data sources have none, so the message must not send users looking for it).

    The credentials chain, first match wins: the ``credentials`` argument; the Pulumi config (an access
    key, alone or as the base of ``alicloud:assumeRole``; ``alicloud:assumeRoleWithOidc``;
    ``alicloud:assumeRole`` on a key from below; ``alicloud:ecsRoleName``; ``alicloud:credentialsUri``);
    the environment's access key (AssumeRole with it when ``ALIBABA_CLOUD_ROLE_ARN`` is set); OIDC from
    the environment; the profile of ``~/.aliyun/config.json``; the profile of ``credentials.ini``; the
    ECS RAM role named by ``ALIBABA_CLOUD_ECS_METADATA``; ``ALIBABA_CLOUD_CREDENTIALS_URI``; and, with
    ``require``, on an ECS instance, the instance's RAM role. Role-based sources are not called here:
    they fetch on first use (except that last probe).
    """
    env = os.environ if environ is None else environ
    home_dir = Path(home) if home is not None else Path(env.get("HOME") or Path.home())
    ctx = _Ctx(config, env, home_dir)

    if endpoint is None:
        endpoint, _ = _lookup("endpoint", config, env)
    if region is None:
        region, _ = _lookup("region", config, env)
    if account_id is None:
        account_id, _ = _lookup("account_id", config, env)
    if account_id is not None:
        check_account_id(account_id)
    if region is not None:
        check_region(region)

    files_read: list[tuple[tuple[Credentials | None, str | None], str | None]] = []

    def from_files(strict: bool) -> tuple[tuple[Credentials | None, str | None], str | None]:
        if files_read:
            return files_read[0]
        profile, _ = _lookup("profile", config, env)
        cred_file, _ = _lookup("credentials_file", config, env)
        ini = Path(cred_file).expanduser() if cred_file else home_dir / ".alibabacloud" / "credentials.ini"
        if cred_file and not ini.is_file():
            raise ConfigurationError(f"credentials file {ini} (from alicloud:sharedCredentialsFile / "
                                     "ALIBABA_CLOUD_CREDENTIALS_FILE) does not exist")
        found: tuple[Credentials | None, str | None] = (None, None)
        origin = None
        try:
            cli = home_dir / ".aliyun" / "config.json"
            if not ctx.flag("cli_profile_disabled") and cli.is_file():
                found, origin = _from_cli_config(cli, profile, ctx), str(cli)
            if found[0] is None and ini.is_file():
                found, origin = _from_ini(ini, profile or "default", ctx), str(ini)
        except ConfigurationError:
            if strict:
                raise  # the files were to supply the credentials: their problem is the user's problem
            # only a region was sought there: an unusable profile (e.g. CloudSSO) is not our concern
            found, origin = (None, None), None
        files_read.append((found, origin))
        return found, origin

    def base_from_files() -> Optional[Credentials]:
        return from_files(True)[0][0]

    source = "explicit" if credentials is not None else None
    if credentials is None:
        credentials, source = _from_config(ctx, base_from_files)
    if credentials is None:
        credentials, source = _from_env(ctx)

    if credentials is None or (region is None and not endpoint):
        found, origin = from_files(credentials is None)
        if credentials is None and found[0] is not None:
            credentials = found[0]
            source = credentials.source if isinstance(credentials, RefreshableCredentials) else origin
        if region is None and found[1]:
            region = check_region(found[1], f"region_id in {origin}")

    if credentials is None and not ctx.flag("ecs_metadata_disabled"):
        role_name, name = ctx.env_value("ecs_role_name")
        if role_name:
            credentials = ctx.ecs(role_name, where="environment", origin=name or "")
            source = credentials.source
    if credentials is None:
        uri, name = ctx.env_value("credentials_uri")
        if uri:
            credentials = ctx.uri(uri, origin=name or "")
            source = credentials.source
    if credentials is None and require:
        credentials = _probe_ecs(ctx)
        source = credentials.source if credentials is not None else None

    if endpoint:
        endpoint = check_endpoint(endpoint)

    if require:
        missing = []
        if credentials is None:
            missing.append(
                "credentials: set "
                + (f"the `{credentials_argument}` argument, " if credentials_argument else "")
                + "Pulumi config `alicloud:accessKey` + "
                "`alicloud:secretKey` (+ `alicloud:securityToken`), environment variables "
                "ALIBABA_CLOUD_ACCESS_KEY_ID + ALIBABA_CLOUD_ACCESS_KEY_SECRET (or ALICLOUD_ACCESS_KEY + "
                "ALICLOUD_SECRET_KEY), or a profile in ~/.alibabacloud/credentials.ini or ~/.aliyun/config.json "
                "(chosen by `alicloud:profile` / ALIBABA_CLOUD_PROFILE); or a role: `alicloud:assumeRoleWithOidc` "
                "or ALIBABA_CLOUD_ROLE_ARN + ALIBABA_CLOUD_OIDC_PROVIDER_ARN + ALIBABA_CLOUD_OIDC_TOKEN_FILE, "
                "`alicloud:assumeRole` with an access key, `alicloud:ecsRoleName` / ALIBABA_CLOUD_ECS_METADATA, "
                "or `alicloud:credentialsUri` / ALIBABA_CLOUD_CREDENTIALS_URI"
            )
        if not endpoint:
            if not account_id:
                missing.append("account id: set " + _where("account_id", "account_id"))
            if not region:
                missing.append("region: set " + _where("region", "region"))
        if missing:
            raise ConfigurationError(
                "cannot reach Function Compute, missing " + "; and ".join(missing)
                + (" (or give a full endpoint with the `endpoint` argument, Pulumi config "
                   "`fc-invocation:endpoint` or FC_INVOCATION_ENDPOINT)" if not endpoint else "")
            )
    if not endpoint and account_id and region:
        endpoint = f"https://{account_id}.{region}{'-internal' if internal else ''}.fc.aliyuncs.com"
    return Settings(account_id=account_id, region=region, credentials=credentials, endpoint=endpoint,
                    credentials_source=source)
