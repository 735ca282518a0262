"""The transport's HTTP session, on requests' public API: one attempt is ``Session.send(prepared,
stream=True, allow_redirects=False, timeout=...)`` and the body read through ``Response.raw`` within a
size cap and the call's deadline (:func:`~pulumi_fc_invocation.wire.read_body`).

A redirect is refused before requests reads its body (wire's response hook raises
:class:`~pulumi_fc_invocation.wire.Redirected`): the other end would get the STS token and the payload,
and requests would read a redirect's body whole, without our cap. urllib3's records and the transport's
are kept free of our endpoints' hosts and paths and of the call's secret inputs (:class:`LogMask`).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any, Optional
from urllib.parse import quote, urlsplit

import requests
from requests.__version__ import __version__ as REQUESTS_VERSION
from requests.adapters import HTTPAdapter

from ..version import __version__
from ..errors import ResponseTooLargeError
from ..models import SECRET_MASK, log_secrets, parse_time
from ..wire import BodyTooLarge, read_body, refuse_redirects

__all__ = ["Answer", "HttpSession", "ServerClock", "LogMask", "LOG_MASK", "MASKED_LOGGERS", "CALL_SECRETS_MASK", "USER_AGENT",
           "MAX_RESPONSE_BYTES", "encode_query", "request_id_of", "proxies_from"]

# Far above FC's largest answer (a 1 MB return payload plus a 128 KB invocation payload, JSON-escaped,
# in an envelope), compressed or not: a gzip bomb or a broken proxy stops here, not in RAM.
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
USER_AGENT = (
    f"pulumi-fc-invocation/{__version__} python/{sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]} "
    f"requests/{REQUESTS_VERSION}"
)
# FC 2.0 documents x-fc-request-id; FC 3.0 (ACS gateway) answers x-acs-request-id.
_REQUEST_ID_HEADERS = ("X-Fc-Request-Id", "X-Acs-Request-Id")


class LogMask(logging.Filter):
    """Masks our endpoints' hosts and paths in urllib3's records and the transport's (at DEBUG each
    connection and request; warnings of bad certificates or headers name the host and URL), and the
    secret inputs of the call being made (:func:`~..models.log_secrets`: a gate's secret names, ids or
    prefix, in a path or, percent-encoded, in a query string).

    A Pulumi program or the plugin prints warnings to stderr, and our host is ``<account id>.<region>.fc.
    aliyuncs.com`` or a configured endpoint, either of which may be a secret. Records about other hosts
    (other users of urllib3 in the process) pass untouched. A filter applies to the logger it is added to
    only, so it is added to each of :data:`MASKED_LOGGERS`. It runs in the thread that logs, the one
    making the call: the call's secrets are those of that thread's context."""

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
        pattern, secrets = self._pattern, log_secrets()
        if pattern is None and not secrets:
            return True
        text = record.getMessage()
        masked = text if pattern is None else pattern.sub("[fc endpoint]", text)
        if secrets:
            masked = _secrets_pattern(secrets).sub(SECRET_MASK, masked)
        if masked != text:
            record.msg, record.args = masked, ()
        return True


@lru_cache(maxsize=256)
def _secrets_pattern(secrets: tuple[str, ...]) -> re.Pattern[str]:
    """Every spelling of the secrets, longest first, where a token (a path segment, a query value, a word)
    begins, as the endpoints' mask: a secret ``f`` masks the segment ``/f/`` but not the ``f`` of
    ``functions``, of a request id or of ``[fc endpoint]``. One of 4 characters or more (the shortest
    :func:`..errors.redact` masks anywhere) also masks the start of a longer token: a secret batch prefix
    begins its members' ids."""
    forms = sorted(_spellings(secrets), key=len, reverse=True)
    whole = "|".join(re.escape(t) for t in forms if len(t) < 4)
    begun = "|".join(re.escape(t) for t in forms if len(t) >= 4)
    either = "|".join(part for part in (begun, whole and f"(?:{whole})(?![\\w-])") if part)
    return re.compile(f"(?<![\\w.-])(?:{either})")


def _spellings(secrets: tuple[str, ...]) -> tuple[str, ...]:
    """Each secret as given and as the wire has it (:func:`encode_query`'s and FC 3.0's path segments'
    RFC 3986 encoding; a time given as ISO text in epoch milliseconds, as ListAsyncTasks sends a window)."""
    forms: set[str] = set()
    for text in secrets:
        forms.update((text, quote(text, safe="~")))
        try:
            float(text)  # a number is already as sent
        except ValueError:
            try:
                when = parse_time(text)
            except (ValueError, OverflowError):
                when = None
            if when is not None:
                forms.add(str(int(when.timestamp() * 1000)))  # as fc3.list_query sends it
    return tuple(forms)


LOG_MASK = LogMask()
MASKED_LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "urllib3.poolmanager", "urllib3.response",
                  "urllib3.util.retry")
for _name in MASKED_LOGGERS:
    logging.getLogger(_name).addFilter(LOG_MASK)
# The transport's own records mask the call's secret inputs only: they name the endpoint on purpose
# (the plain-HTTP warning says which host), as its errors do; no endpoint is ever added to this one.
CALL_SECRETS_MASK = LogMask()
logging.getLogger("pulumi_fc_invocation.transport").addFilter(CALL_SECRETS_MASK)


@dataclass(frozen=True, repr=False)
class Answer:
    """An answer read whole (within the cap): what the API layers read of it."""

    status_code: int
    reason: str
    headers: Mapping[str, str]  # requests' case-insensitive mapping
    content: bytes

    def __repr__(self) -> str:
        # As requests' <Response [200]>: never the body (payloads, results) nor the headers.
        status = f"{self.status_code} {self.reason}".strip()
        return f"Answer({status}, {len(self.content)} bytes)"


def encode_query(params: Mapping[str, Any]) -> str:
    """``k=v&...`` with names and values RFC 3986-encoded (``A-Za-z0-9-_.~`` kept, space ``%20``): what
    the ACS3 signature canonicalizes, sent as is (requests' own encoding would send ``+``)."""
    return "&".join(f"{quote(str(key), safe='~')}={quote(str(value), safe='~')}" for key, value in params.items())


def request_id_of(response: Any) -> Optional[str]:
    """FC's request id of an answer or of its headers (2.0 or 3.0 header), None when there is none."""
    headers = getattr(response, "headers", response)
    for name in _REQUEST_ID_HEADERS:
        value: Optional[str] = headers.get(name)
        if value:
            return value
    return None


def proxies_from(env: Mapping[str, str], url: str) -> dict[str, str]:
    """What requests would take from the environment, taken from a given mapping instead."""
    lowered = {key.lower(): value for key, value in env.items() if value}
    host = (urlsplit(url).hostname or "").lower()
    no_proxy = [entry.strip().lower().lstrip(".") for entry in lowered.get("no_proxy", "").split(",") if entry.strip()]
    if "*" in no_proxy or any(host == entry or host.endswith("." + entry) for entry in no_proxy):
        return {}
    return {scheme: lowered[f"{scheme}_proxy"] for scheme in ("http", "https", "all") if f"{scheme}_proxy" in lowered}


class ServerClock:
    """FC's clock as its answers' ``Date`` headers give it (whole seconds): the last one, and when it came."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: Optional[tuple[float, float]] = None  # (FC's epoch seconds, local monotonic at receipt)
        self._parsed: tuple[str, float] = ("", 0.0)  # the last Date read (FC's changes once a second)

    def note(self, answer: Answer) -> None:
        text = answer.headers.get("Date")
        if not text:
            return
        parsed = self._parsed
        if parsed[0] != text:
            try:
                parsed = (text, parsedate_to_datetime(text).timestamp())
            except (TypeError, ValueError, IndexError, OverflowError):
                return
            self._parsed = parsed
        with self._lock:
            self._seen = (parsed[1], time.monotonic())

    def now(self) -> Optional[float]:
        with self._lock:
            seen = self._seen
        return None if seen is None else seen[0] + (time.monotonic() - seen[1])


class HttpSession:
    """One ``requests.Session`` for one endpoint, shared by threads, with keep-alive (up to 32 connections).

    Proxies and the CA bundle are read once, from ``environ`` (default: the process's), and
    ``trust_env`` is off: otherwise requests re-reads the environment (proxies, netrc) on every call."""

    def __init__(self, endpoint: str, environ: Optional[Mapping[str, str]] = None) -> None:
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=32)  # no retries of its own: see retry.py
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        env = os.environ if environ is None else environ
        session.proxies.update(requests.utils.get_environ_proxies(endpoint) if environ is None
                               else proxies_from(environ, endpoint))
        session.verify = env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE") or True
        session.trust_env = False
        self.session = session
        parts = urlsplit(endpoint)
        LOG_MASK.add(parts.hostname, parts.path.rstrip("/"))
        self._urls: dict[str, str] = {}  # url -> as requests prepares it (the same few paths, call after call)

    def close(self) -> None:
        self.session.close()

    def _prepared(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> requests.PreparedRequest:
        """What ``Request(...).prepare()`` makes, with the session's headers and cookies merged as
        ``Session.prepare_request`` merges them, and the URL's preparation remembered."""
        session = self.session
        prepared = requests.PreparedRequest()
        prepared.prepare_method(method)
        known = self._urls.get(url)
        if known is None:
            prepared.prepare_url(url, None)
            if len(self._urls) >= 4096:
                self._urls.clear()
            self._urls[url] = known = prepared.url  # type: ignore[assignment]
        prepared.url = known
        prepared.prepare_headers({**session.headers, **headers})  # the later of two spellings wins
        if session.cookies:  # a server set one: sent back, as the session would
            prepared.prepare_cookies(session.cookies)
        prepared.prepare_body(body or None, None)
        prepared.prepare_hooks({"response": [*session.hooks.get("response", ()), refuse_redirects]})
        return prepared

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes,
             timeout: tuple[float, float], deadline: float) -> Answer:
        """One attempt: its answer read whole by ``deadline`` (``time.monotonic()``), at most
        :data:`MAX_RESPONSE_BYTES` once decoded. Raises requests' exceptions (a body cut off or stalled
        as its ``ChunkedEncodingError``/``ContentDecodingError``/``ReadTimeout``), :class:`~pulumi_fc_invocation.wire.Redirected`
        and :class:`ResponseTooLargeError`."""
        session = self.session
        prepared = self._prepared(method, url, headers, body)
        response = session.send(prepared, stream=True, allow_redirects=False, timeout=timeout,
                                verify=session.verify, cert=session.cert, proxies=session.proxies)
        del prepared
        try:
            content = read_body(response, deadline, MAX_RESPONSE_BYTES)
        except BodyTooLarge as exc:
            how = " once decoded" if exc.encoded else ""
            failure = ResponseTooLargeError(
                f"FC answered HTTP {response.status_code} with a body over {MAX_RESPONSE_BYTES // 2**20} MiB{how}; "
                "no FC answer is that large (a broken proxy or a decompression bomb?); it was not read further",
                request_id=request_id_of(response), http_status=response.status_code)
        else:
            return Answer(response.status_code, response.reason or "", response.headers, content)
        raise failure
