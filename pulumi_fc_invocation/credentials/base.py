"""Credentials as the transport signs with them: a fixed key (:class:`Credentials`) and a role's temporary key
(:class:`RefreshableCredentials`), fetched through its :class:`~.fetch.RoleSource` on first use, cached per
process, refreshed before it expires; no request is signed with a token that has less than
:data:`MIN_TIME_LEFT` seconds left. Expiry is judged on the package's one clock (``clock.now()``).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from typing import Any, NoReturn, Optional

from ..clock import now as clock_now
from ..errors import (
    ConfigurationError,
    FcInvocationError,
    InvalidArgumentError,
    InvalidResponseError,
    RequestTimeoutError,
)
from .fetch import FetchProblem, RoleSource, log

__all__ = ["Credentials", "RefreshableCredentials", "cached", "forget_cached_credentials", "MIN_TIME_LEFT",
           "REFRESH_TIMEOUT"]

MIN_TIME_LEFT = 60.0
"""No request is signed with temporary credentials that have less than this many seconds left."""
PREFETCH_MAX = 900.0  # refresh ahead at most 15 minutes before expiry (the official library's stale time)
REFRESH_RETRY_DELAYS = (0.5, 1.0)  # seconds between the attempts of a refresh (3 attempts in all)
REFRESH_TIMEOUT = 30.0
"""Seconds a fetch may take, all its attempts included, when the caller gives no ``timeout``."""
EARLY_REFRESH_WAIT = 2.0  # how long the call that starts an early refresh waits for it (the key is still good)


class Credentials:
    """An access key pair, optionally with an STS security token.

    The secret and the token never appear in ``repr``/``str``, and the object refuses to be pickled,
    so it cannot end up in a Pulumi state file through a serialized provider.
    """

    __slots__ = ("access_key_id", "_secret", "_token")
    access_key_id: str  # the slots' types (set once, through object.__setattr__)
    _secret: str
    _token: Optional[str]
    expiration: Optional[float] = None  # epoch seconds; None for a key that does not expire

    def __init__(self, access_key_id: str, access_key_secret: str, security_token: str | None = None) -> None:
        if not isinstance(access_key_id, str) or not access_key_id.strip():
            raise ConfigurationError.of("access_key_id", "Credentials: access_key_id must be a non-empty string")
        if not isinstance(access_key_secret, str) or not access_key_secret:
            raise ConfigurationError.of("access_key_secret",
                                        "Credentials: access_key_secret must be a non-empty string")
        if security_token is not None and not isinstance(security_token, str):
            raise ConfigurationError.of("security_token", "Credentials: security_token must be a string")
        security_token = security_token.strip() if security_token else None  # a token file ends in a newline
        for name, value in (("access_key_id", access_key_id), ("security_token", security_token or "")):
            if any(c in value.strip() for c in "\r\n\x00"):
                raise ConfigurationError.of(name, f"Credentials: {name} contains a line break or NUL (value not shown)")
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

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "Credentials cannot be pickled: they would end up in serialized state. "
            "Resolve them where they are used (e.g. in ResourceProvider.configure)."
        )


def _mask(key: str) -> str:
    return key[:4] + "****" + key[-4:] if len(key) > 10 else "****"


class _Snapshot(Credentials):
    """Temporary credentials as issued, with their expiry (epoch seconds on the process clock)."""

    __slots__ = ("_expires",)
    _expires: Optional[float]

    def __init__(self, key_id: str, secret: str, token: Optional[str], expires: Optional[float]) -> None:
        super().__init__(key_id, secret, token)
        object.__setattr__(self, "_expires", expires)

    # A read-only property over the base's class attribute (None there): mypy calls that an override of a
    # writable attribute; nothing assigns expiration (the class refuses every assignment).
    @property
    def expiration(self) -> Optional[float]:  # type: ignore[override]
        return self._expires


def _clock_now(clock: Any) -> float:
    """Epoch seconds on ``clock``, else on the package's clock (``clock.use_clock``: tests share the
    emulator's virtual clock with every waiter, and expiry must be judged on the same time line)."""
    if clock is None:
        return clock_now()
    now = getattr(clock, "now", None)
    seconds: float = now() if callable(now) else clock()
    return seconds


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
    _source: RoleSource
    _lock: threading.Lock
    _snap: Optional[Credentials]
    _fetched_at: float
    _retry_at: float
    _clock: Any  # a Clock (``now()``) or a zero-argument callable; None: the package's clock
    _local: threading.local
    _last_problem: Optional[str]

    def __init__(self, source: "RoleSource", *, clock: Any = None) -> None:
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
                assert snap is not None  # _refresh stored one, or raised
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
        newer = self._snap
        if newer is not snap:  # another thread refreshed in between
            self._lock.release()
            assert newer is not None  # a snapshot is replaced, never removed
            return newer
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
                log().warning("%s; the current key has %.0f s left, trying again in a while", failure, left)
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
        error.credential_fetch_cut = True  # as a fetch cut by the deadline (see RoleSource.error)
        return error

    # Read-only over the base's attribute, as _Snapshot's.
    @property
    def expiration(self) -> Optional[float]:  # type: ignore[override]
        snap = self._snap
        return snap.expiration if snap is not None else None

    @property
    def source(self) -> str:
        """Where these credentials come from, e.g.
        ``AssumeRole for role acs:ram::1:role/ci (from fc-invocation:assumeRole)``."""
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
            snap = self._snap
            assert snap is not None  # _refresh stored one, or raised
            return snap
        finally:
            self._lock.release()

    # --- the Credentials interface, consistent within a request ----------------------------------

    def _pinned(self) -> Credentials:
        local = self._local
        now = _clock_now(self._clock)
        snap: Optional[Credentials] = getattr(local, "snap", None)
        if snap is not None and 0 <= now - local.at <= _PIN_SECONDS and time.monotonic() - local.real <= _PIN_SECONDS:
            return snap
        snap = self.current(MIN_TIME_LEFT + _PIN_SECONDS)
        local.snap, local.at, local.real = snap, now, time.monotonic()
        return snap

    @property
    def access_key_id(self) -> str:  # type: ignore[override]  # read-only over the base's slot: nothing assigns it
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
        earlier: Optional[FetchProblem] = None
        while True:
            attempt += 1
            problem: Optional[FetchProblem] = None
            try:
                key_id, secret, token, expires = self._source.fetch(deadline)
            except FetchProblem as exc:
                problem = exc
            if problem is None:
                snap = _Snapshot(key_id, secret, token, expires)
                object.__setattr__(self, "_snap", snap)
                object.__setattr__(self, "_fetched_at", now)
                object.__setattr__(self, "_retry_at", 0.0)
                object.__setattr__(self, "_last_problem", None)
                log().info("%s: new credentials %s, %s", self.source, snap.masked_key_id,
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


_cache: "OrderedDict[tuple[Any, ...], RefreshableCredentials]" = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 32


def cached(source: RoleSource) -> RefreshableCredentials:
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
