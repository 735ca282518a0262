"""What every role-based source shares: one HTTP call ended by a deadline, a failure in words that never
quote a secret (:class:`FetchProblem`), the answer's key pair, and the :class:`RoleSource` interface that
:class:`~pulumi_fc_invocation.credentials.base.RefreshableCredentials` refreshes through.

The few STS and metadata calls are made here, not through ``alibabacloud-credentials``: that library
costs ~250 ms to import, cannot reach a plain-HTTP metadata stand-in, computes expiry on the wall clock
only, and prints the OIDC token (in the request URL) and issued secrets (in its error text) to stderr.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any, Optional
from urllib.parse import urlsplit

from ..errors import (
    FcApiError,
    FcInvocationError,
    InvalidResponseError,
    RedirectError,
    RequestTimeoutError,
    ResponseTooLargeError,
    TransportError,
    error_class_for,
    printable,
    redact,
)

__all__ = ["log", "FetchProblem", "RoleSource", "Fetched", "http", "answer_problem", "credentials_in",
           "percent_encode", "host_of", "is_loopback", "warn_plain_http", "retried_status", "STS_TIMEOUT",
           "MAX_ANSWER"]

STS_TIMEOUT = (5.0, 10.0)  # connect, read: the official library's
MAX_ANSWER = 1024 * 1024  # an STS or metadata answer is a few hundred bytes

Fetched = tuple[str, str, Optional[str], Optional[float]]
"""What one fetch gives: key id, secret, STS token, expiry (epoch seconds; None: no expiry)."""


def log() -> Any:
    """The credentials' logger (one for the whole chain, as before it was split)."""
    import logging  # only when something is logged: keeps importing the settings chain light

    return logging.getLogger("pulumi_fc_invocation.credentials")


class FetchProblem(Exception):
    """Why one fetch failed, in words that never quote a secret; turned into a public error by the source."""

    def __init__(self, cls: type[FcInvocationError], detail: str, *, retryable: bool = False,
                 code: Optional[str] = None, request_id: Optional[str] = None, status: Optional[int] = None,
                 deadline: bool = False) -> None:
        super().__init__(detail)
        self.cls, self.detail, self.retryable = cls, detail, retryable
        self.code, self.request_id, self.status = code, request_id, status
        self.deadline = deadline  # cut short by the caller's deadline: no time for another attempt

    def words(self) -> str:
        return f"{self.code}: {self.detail}" if self.code and not self.detail.startswith(self.code) else self.detail


class RoleSource:
    """A role-based source: ``fetch()`` returns (key id, secret, token, expiry) or raises a :class:`FetchProblem`."""

    action = "credentials"
    origin = ""

    def describe(self) -> str:
        raise NotImplementedError

    def fetch(self, deadline: float) -> Fetched:
        """One attempt, ended by ``deadline`` (``time.monotonic()``)."""
        raise NotImplementedError

    def key(self) -> tuple[Any, ...]:
        """What makes two sources the same (the process cache shares one key per source)."""
        raise NotImplementedError

    def error(self, problem: FetchProblem, attempts: int, why_stopped: Optional[str] = None) -> FcInvocationError:
        message = f"{self.describe()} failed: {problem.detail} (from {self.origin})"
        note = "; ".join(filter(None, (f"after {attempts} attempts" if attempts > 1 else None, why_stopped))) or None
        error: FcInvocationError
        if issubclass(problem.cls, FcApiError):
            error = problem.cls(message, code=problem.code, request_id=problem.request_id,
                                http_status=problem.status, note=note)
        else:
            error = problem.cls(message + (f" ({note})" if note else ""))
        error.credential_fetch_cut = problem.deadline  # cut by the caller's deadline: a waiter reads no more
        return error


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


def http(method: str, url: str, *, deadline: float, direct: bool = False, data: Optional[str] = None,
         headers: Optional[Mapping[str, str]] = None, timeout: tuple[float, float] = STS_TIMEOUT,
         where: str) -> tuple[int, Mapping[str, str], bytes]:
    """One request, no redirects, ended by ``deadline`` (``time.monotonic()``), its body capped and decoded
    by the package's bounded reader (whatever the urllib3 version). A redirect is refused before requests
    reads its body (which it would read whole, uncapped, past the deadline). ``where`` names the host for
    messages (never the query)."""
    from ..wire import BodyTooLarge, Redirected, read_body, refuse_redirects

    left = deadline - time.monotonic()
    if left <= 0.001:
        raise FetchProblem(RequestTimeoutError, f"nothing sent to {where}: no time was left before the call's "
                           "deadline", deadline=True)
    connect, read = min(timeout[0], left), min(timeout[1], left)
    failure: Optional[FetchProblem] = None
    response = None
    body = b""
    try:
        response = _session(direct).request(method, url, data=data, headers=dict(headers or {}),
                                            timeout=(connect, read), allow_redirects=False, stream=True,
                                            hooks={"response": [refuse_redirects]})
        body = read_body(response, deadline, MAX_ANSWER)
    except Redirected as exc:
        failure = _redirected(where, exc.status_code)
    except BodyTooLarge as exc:
        failure = FetchProblem(ResponseTooLargeError, f"{where} answered with more than {MAX_ANSWER} bytes"
                               + (" once decoded" if exc.encoded else ""),
                               status=getattr(response, "status_code", None))
    except Exception as exc:  # noqa: BLE001 - the network's are classified; anything else is raised again
        failure = _failure(exc, where, deadline, f"within the {left:.3g} s left before the call's deadline",
                           f"within {connect:.3g} s to connect and {read:.3g} s to answer")
        if failure is None:
            raise
    finally:
        if response is not None:
            response.close()
    # Raised outside the except clauses: the requests exception (its URL, its prepared request) is not
    # kept as __context__.
    if failure is not None:
        raise failure
    assert response is not None
    if 300 <= response.status_code < 400:  # a 3xx without a Location
        raise _redirected(where, response.status_code)
    return response.status_code, response.headers, body


def _redirected(where: str, status: int) -> FetchProblem:
    return FetchProblem(RedirectError, f"{where} answered with a redirect (HTTP {status}), not followed",
                        status=status)


def _failure(exc: Exception, where: str, deadline: float, left: str, limits: str) -> Optional[FetchProblem]:
    """A request that got no (complete) answer, by the package's one exception mapper (wire): a timeout
    at the deadline leaves no time for another attempt; any other failure is worth one."""
    from ..wire import classify_exception

    found = classify_exception(exc, deadline)
    if found is None:
        return None  # not the network's: a bug, raised as it is
    if found.kind in ("timeout", "deadline"):
        if found.kind == "deadline" or time.monotonic() >= deadline - 0.05:
            return FetchProblem(RequestTimeoutError, f"no complete answer from {where} {left}", deadline=True)
        return FetchProblem(RequestTimeoutError, f"no answer from {where} {limits}", retryable=True)
    if found.kind in ("unreachable", "connection"):
        return FetchProblem(found.error, f"cannot reach {where} ({found.reason})", retryable=True)
    return FetchProblem(TransportError, f"the request to {where} failed ({type(exc).__name__})", retryable=True)


def retried_status(status: int) -> bool:
    """Whether an answer of ``status`` is worth another attempt: wire's list, the transport's too (read
    once an answer came, so that settling the settings never loads the HTTP stack)."""
    from ..wire import RETRY_STATUSES

    return status in RETRY_STATUSES


def percent_encode(value: str) -> str:
    """RFC 3986, as the RPC signature spec encodes (space %20)."""
    from ..signing import acs3_percent_encode

    return acs3_percent_encode(value)


def answer_problem(status: int, body: bytes, where: str, secrets: tuple[str, ...]) -> FetchProblem:
    """A non-200 answer as a problem: the server's Code, Message and RequestId (redacted), never its body."""
    from ..wire import parse_error_body

    code, message, request_id = parse_error_body(body)
    # Servers quote what they signed (a SignatureDoesNotMatch's string to sign): the token appears there
    # percent-encoded once or twice.
    hidden = tuple((form, "<redacted>") for value in secrets if value
                   for form in (value, percent_encode(value), percent_encode(percent_encode(value))))

    def clean(text: Any) -> str:
        return printable(redact(str(text), hidden))[:2000]  # room for a quoted string to sign

    code = clean(code) if code is not None else None
    text = clean(message) if message is not None else f"HTTP {status} from {where}"
    retryable = retried_status(status) or bool(code and (code.startswith("Throttling")
                                                           or code in ("ServiceUnavailable", "InternalError")))
    return FetchProblem(error_class_for(status), text, retryable=retryable, code=code,
                        request_id=clean(request_id) if request_id is not None else None, status=status)


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


def credentials_in(data: Any, where: str, *, token_required: bool = True) -> Fetched:
    """AccessKeyId, AccessKeySecret, SecurityToken, Expiration of an answer; a problem names the missing
    field, never a value (a half-formed answer still holds a live secret)."""
    if not isinstance(data, dict):
        raise FetchProblem(InvalidResponseError, f"{where} answered with something other than a JSON object")
    fields = ("AccessKeyId", "AccessKeySecret") + (("SecurityToken",) if token_required else ())
    missing = [name for name in fields if not isinstance(data.get(name), str) or not data.get(name)]
    if missing:
        raise FetchProblem(InvalidResponseError, f"the answer of {where} has no {' / '.join(missing)}")
    expires: Optional[float] = None
    if data.get("Expiration") is not None:
        try:
            expires = _parse_expiration(data["Expiration"])
        except (ValueError, OverflowError):
            raise FetchProblem(InvalidResponseError, f"the answer of {where} has an Expiration that is not "
                               "yyyy-MM-ddTHH:mm:ssZ") from None
    elif token_required:
        raise FetchProblem(InvalidResponseError, f"the answer of {where} has no Expiration")
    token = data.get("SecurityToken") or None
    for name, value in (("AccessKeyId", data["AccessKeyId"]), ("SecurityToken", token or "")):
        if any(c in value for c in "\r\n\x00"):
            raise FetchProblem(InvalidResponseError, f"the answer of {where} has a line break or NUL in {name}")
    return data["AccessKeyId"], data["AccessKeySecret"], token, expires


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


def is_loopback(url: str) -> bool:
    """Whether ``url``'s host is this machine (wire's test, imported only when a URL is fetched)."""
    from ..wire import is_loopback as loopback

    return loopback(url)


def warn_plain_http(url: str, name: str) -> None:
    """Once per host: ``name`` (a setting) sends temporary credentials over plain HTTP off this machine."""
    if not url.lower().startswith("http://"):
        return  # the usual case: no need to load the HTTP stack (wire imports requests) to settle settings
    from ..wire import warn_plain_http as warn

    warn(url, name, "temporary credentials", log())
