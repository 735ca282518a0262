"""The HTTP vocabulary shared by the credentials (STS, the metadata service, a credentials URI) and the
transport (FC): one of each, below both.

- :func:`read_body`: an answer's body within a size cap and a deadline, whatever the urllib3 version
  (urllib3 before 2.6 decodes a whole gzip body at once, so a few hundred KiB on the wire became
  hundreds of MiB in memory; here the body is read raw and decoded by zlib with ``max_length``).
- :func:`refuse_redirects`: a response hook that refuses a redirect before requests reads its body
  (:class:`Redirected`).
- :func:`classify_exception`: requests' and urllib3's exceptions as our classified errors, in the
  shape of httpx's ``map_httpcore_exceptions`` (a table; the most specific match wins).
- :func:`parse_error_body`: the code, message and request id of an error body, in FC 2.0's, FC 3.0's
  and STS's spellings.
- :func:`warn_plain_http`: the one warning for plain HTTP to a host that is not loopback.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
import zlib
from collections.abc import Mapping
from typing import Any, NamedTuple, Optional, Union
from urllib.parse import urlsplit

import requests
import urllib3

from .errors import RequestTimeoutError, TransportError, UnreachableError

__all__ = [
    "RETRY_STATUSES", "read_body", "BodyTooLarge", "BodyTimeout", "DeadlineExceeded",
    "Redirected", "refuse_redirects",
    "Classified", "classify_exception",
    "FcErrorBody", "parse_error_body",
    "is_loopback", "warn_plain_http",
]

# The answers worth another attempt, for FC (the transport's retry policy) and for STS, the metadata
# service and a credentials URI alike: throttled, or the server or a gateway before it failing.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class BodyTooLarge(Exception):
    """The body passed the cap (``encoded``: once decoded); the caller raises its own classified error."""

    def __init__(self, encoded: bool) -> None:
        super().__init__("the answer's body is over the cap" + (" once decoded" if encoded else ""))
        self.encoded = encoded


class BodyTimeout(requests.exceptions.ReadTimeout):
    """The socket timed out in the middle of a body: worth another attempt for an idempotent read."""


class DeadlineExceeded(requests.exceptions.ReadTimeout):
    """The body did not complete before the call's deadline: no time is left for another attempt."""


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


def read_body(response: Any, deadline: float, limit: int) -> bytes:
    """The body of a ``stream=True`` answer: at most ``limit`` bytes once decoded (the decoder is never
    asked for more; past it: :class:`BodyTooLarge`), given up once ``deadline`` (``time.monotonic()``)
    has passed (:class:`DeadlineExceeded`; a socket timeout before it: :class:`BodyTimeout`).

    Each read waits at most the time left: the socket's timeout (set at send: the attempt's read
    timeout, cut to the time left then) is cut again before every read, so a body that sends a byte
    just before each timeout still ends at the deadline. The socket is reached through urllib3's public
    ``HTTPResponse.connection``, which holds it while the connection is kept alive (FC's answers). An
    answer with ``Connection: close`` has handed its socket over to ``http.client``, out of reach: there
    the body may run past the deadline by one read's timeout at most (at most the time left at send).

    Other failures are mapped as ``Response.iter_content`` maps them; the response is closed on any.
    """
    raw = response.raw
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    per_read = sock.gettimeout() if sock is not None else None
    encoding = (response.headers.get("Content-Encoding") or "").strip().lower()
    declared = response.headers.get("Content-Length", "")
    if not encoding and declared.isdigit() and int(declared) > limit:
        response.close()
        raise BodyTooLarge(False)
    decoder = _Decoder(encoding) if encoding not in ("", "identity") else None
    chunks: list[bytes] = []
    size = received = 0
    # All that was declared has come: no read for the end (urllib3 gives the connection back to the pool
    # once http.client has read the declared length). A body cut short still ends in an error.
    expected = int(declared) if declared.isdigit() else -1
    try:
        while received != expected:
            if sock is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    response.close()
                    raise DeadlineExceeded("the answer did not complete within the call's time budget")
                sock.settimeout(left if per_read is None else min(per_read, left))
            data = raw.read1(65536, decode_content=False)
            if not data:
                break
            received += len(data)
            if decoder is not None:
                data = decoder.feed(data, limit + 1 - size)
            size += len(data)
            if size > limit:
                response.close()
                raise BodyTooLarge(decoder is not None)
            chunks.append(data)
            if time.monotonic() > deadline:
                response.close()
                raise DeadlineExceeded("the answer did not complete within the call's time budget")
    except urllib3.exceptions.ProtocolError as exc:
        response.close()
        raise requests.exceptions.ChunkedEncodingError(exc) from None
    except urllib3.exceptions.DecodeError as exc:
        response.close()
        raise requests.exceptions.ContentDecodingError(exc) from None
    except urllib3.exceptions.ReadTimeoutError:
        response.close()
        if time.monotonic() >= deadline - 0.01:
            raise DeadlineExceeded("the answer did not complete within the call's time budget") from None
        raise BodyTimeout("the answer stopped in the middle of its body") from None
    except urllib3.exceptions.SSLError as exc:
        response.close()
        raise requests.exceptions.SSLError(exc) from None
    # Read to its end: the connection goes back to the pool. urllib3 does so itself after a read that
    # reaches the end, but an empty body (a 202 to a start) is never read: without this, every start
    # would leave its connection out of the pool and the next call would open a new one.
    raw.release_conn()
    return b"".join(chunks)


# --- redirects ----------------------------------------------------------------------------------

class Redirected(Exception):
    """A 3xx with a ``Location``: refused, its body unread (raised from :func:`refuse_redirects`, out of
    ``Session.send``); the caller raises its own ``RedirectError``."""

    def __init__(self, status_code: int, headers: Mapping[str, str]) -> None:
        super().__init__(status_code)
        self.status_code = status_code
        self.headers = headers


def refuse_redirects(response: requests.Response, **kwargs: Any) -> None:
    """A ``response`` hook: requests reads a redirect's body whole, without a cap or a deadline, even with
    ``allow_redirects=False`` (``resolve_redirects``, for ``Response.next``); raising here, first, stops it.
    The other end would get the credentials and the payload if it were followed."""
    if response.is_redirect:
        status, headers = response.status_code, response.headers
        response.close()
        raise Redirected(status, headers)


# --- requests' and urllib3's exceptions -> ours -------------------------------------------------

class Classified(NamedTuple):
    """What went wrong with a request that got no (complete) answer.

    ``kind`` is one of ``"header"`` (a header value requests refused: never quote it, it may be the
    token), ``"deadline"`` (the call's deadline passed), ``"timeout"`` (one attempt's timeout),
    ``"corrupt"`` (cut off or undecodable), ``"unreachable"`` (no connection, or TLS refused),
    ``"connection"`` (a connection that broke) or ``"other"``. ``reason`` is the underlying
    exception's type name; ``detail`` its text, which may name a host or a URL: redact before showing.
    ``sent`` is False only when no connection was made (the request surely never left: safe to send
    again whatever it does).
    """

    error: type[TransportError]
    kind: str
    reason: str
    detail: str
    sent: bool = True


# Most specific last: a later match that is a subclass of an earlier one wins (httpx's rule).
_EXCEPTIONS: tuple[tuple[type[BaseException], type[TransportError], str], ...] = (
    (OSError, TransportError, "other"),
    (urllib3.exceptions.HTTPError, TransportError, "other"),
    (requests.exceptions.RequestException, TransportError, "other"),
    (requests.exceptions.ConnectionError, TransportError, "connection"),
    (requests.exceptions.SSLError, UnreachableError, "unreachable"),
    (urllib3.exceptions.ProtocolError, TransportError, "corrupt"),
    (urllib3.exceptions.DecodeError, TransportError, "corrupt"),
    (requests.exceptions.ChunkedEncodingError, TransportError, "corrupt"),
    (requests.exceptions.ContentDecodingError, TransportError, "corrupt"),
    (TimeoutError, RequestTimeoutError, "timeout"),
    (urllib3.exceptions.TimeoutError, RequestTimeoutError, "timeout"),
    (requests.exceptions.Timeout, RequestTimeoutError, "timeout"),
    (requests.exceptions.ConnectTimeout, RequestTimeoutError, "timeout"),
    (DeadlineExceeded, RequestTimeoutError, "deadline"),
    (requests.exceptions.InvalidHeader, TransportError, "header"),
)


def classify_exception(exc: BaseException, deadline: Optional[float] = None) -> Optional[Classified]:
    """``exc`` as one of our errors (see :class:`Classified`), None for an exception that is not the
    network's (a bug: let it propagate). A timeout once ``deadline`` (``time.monotonic()``) has passed
    is the deadline's."""
    found: Optional[tuple[type[BaseException], type[TransportError], str]] = None
    for entry in _EXCEPTIONS:
        if isinstance(exc, entry[0]) and (found is None or issubclass(entry[0], found[0])):
            found = entry
    if found is None:
        return None
    _, error, kind = found
    reason: Any = exc.args[0] if exc.args else exc
    reason = getattr(reason, "reason", reason)  # MaxRetryError's, then the connection error's
    reason = getattr(reason, "original_error", None) or reason  # a proxy's: what happened behind it
    # urllib3's NewConnectionError is a ConnectTimeoutError: either way no connection was made.
    sent = not isinstance(reason, urllib3.exceptions.ConnectTimeoutError) and not isinstance(
        exc, requests.exceptions.ConnectTimeout)
    if kind not in ("header", "timeout", "deadline") and "timed out" in str(reason).lower():
        error, kind = RequestTimeoutError, "timeout"  # a connect timeout that urllib3 wrapped as an error
    elif kind == "connection" and isinstance(reason, urllib3.exceptions.NewConnectionError):
        error, kind = UnreachableError, "unreachable"
    if kind == "timeout" and deadline is not None and time.monotonic() >= deadline - 0.01:
        kind = "deadline"
    return Classified(error, kind, type(reason).__name__, str(reason) if kind != "header" else "", sent)


# --- error bodies -------------------------------------------------------------------------------

class FcErrorBody(NamedTuple):
    """What an error body says; any part may be missing (a proxy's HTML page has none)."""

    code: Optional[str]
    message: Optional[str]
    request_id: Optional[str]


def _first(data: Mapping[str, Any], *keys: str) -> Optional[str]:
    for key in keys:
        value = data.get(key)
        if value is not None and value != "":
            return str(value)
    return None


def parse_error_body(body: Union[bytes, str, None]) -> FcErrorBody:
    """``{"Code", "Message", "RequestId"}`` (FC 3.0, STS), the lower-case and ``ErrorCode``/``ErrorMessage``
    spellings (FC 2.0, the generic FC page) too; anything else (not JSON, not an object) gives Nones."""
    try:
        data = json.loads(body or b"")
    except (ValueError, RecursionError, TypeError):  # RecursionError: 100,000 nested "["
        data = None
    if not isinstance(data, dict):
        return FcErrorBody(None, None, None)
    return FcErrorBody(
        _first(data, "Code", "code", "ErrorCode", "errorCode"),
        _first(data, "Message", "message", "ErrorMessage", "errorMessage"),
        _first(data, "RequestId", "requestId", "requestid"),
    )


# --- plain HTTP ---------------------------------------------------------------------------------

def is_loopback(url: str) -> bool:
    """Whether ``url``'s host is this machine (``localhost``, ``*.localhost``, a loopback address)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_warned: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def warn_plain_http(url: str, what: str, carries: str, logger: Optional[logging.Logger] = None) -> bool:
    """Warn once per host (on ``logger``) that ``what`` (``"endpoint"``, ``"the credentials URI"``) sends
    ``carries`` in clear over plain HTTP to a host that is not loopback. True when it warned now."""
    parts = urlsplit(url)
    if parts.scheme != "http" or is_loopback(url):
        return False
    key = (what, (parts.hostname or "").lower())
    with _warned_lock:
        if key in _warned:
            return False
        _warned.add(key)
    (logger or logging.getLogger(__name__)).warning(
        "%s uses plain HTTP to %s, a host that is not loopback: %s cross the network unencrypted; use https://",
        what, parts.netloc, carries)
    return True
