"""Both request signatures Function Compute accepts.

* The "FC" scheme (API 2016-08-15, HMAC-SHA256, base64), below first.
* ACS3-HMAC-SHA256 (Alibaba Cloud signature V3: FC 3.0's 2023-03-30 API and FC 2.0's 2021-04-06
  revision), from :func:`acs3_sign_request` on.

FC scheme:

``stringToSign = METHOD\\nContent-MD5\\nContent-Type\\nDate\\nCanonicalizedFCHeaders + resource``,
where the resource for API calls is the unescaped path without its query string. The same code
signs requests in the client and verifies them in the emulator, so both agree with the official SDKs
(checked against the SDK's vectors in the tests).
"""

from __future__ import annotations

import base64
import calendar
import functools
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import NamedTuple, Union
from urllib.parse import quote, unquote

__all__ = [
    "string_to_sign",
    "signature",
    "authorization",
    "parse_authorization",
    "ACS3_ALGORITHM",
    "EMPTY_PAYLOAD_SHA256",
    "Acs3Authorization",
    "Acs3SignatureError",
    "acs3_percent_encode",
    "acs3_encode_path",
    "acs3_payload_hash",
    "acs3_date",
    "acs3_canonical_query_string",
    "acs3_canonical_headers",
    "acs3_canonical_request",
    "acs3_string_to_sign",
    "acs3_authorization",
    "acs3_sign_request",
    "parse_acs3_authorization",
    "acs3_verify",
]


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""


def string_to_sign(method: str, path: str, headers: Mapping[str, str]) -> str:
    """The exact text FC signs. ``path`` may carry a query string: it is dropped, as FC does."""
    resource = unquote(path.split("?", 1)[0])
    fc_headers = sorted(
        (key.lower(), value) for key, value in headers.items() if key.lower().startswith("x-fc-")
    )
    canonical = "".join(f"{key}:{value}\n" for key, value in fc_headers)
    return (
        f"{method.upper()}\n{_header(headers, 'content-md5')}\n{_header(headers, 'content-type')}\n"
        f"{_header(headers, 'date')}\n{canonical}{resource}"
    )


def signature(secret: str, text: str) -> str:
    """base64(HMAC-SHA256(secret, text))."""
    digest = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def authorization(
    method: str, path: str, headers: Mapping[str, str], access_key_id: str, access_key_secret: str
) -> str:
    """The ``Authorization`` header value: ``FC {accessKeyId}:{signature}``."""
    return f"FC {access_key_id}:{signature(access_key_secret, string_to_sign(method, path, headers))}"


def parse_authorization(value: str) -> tuple[str, str] | None:
    """Split ``FC id:sig`` into (id, sig); None when the header is not an FC signature."""
    if not value or not value.startswith("FC "):
        return None
    key_id, sep, sig = value[3:].strip().partition(":")
    if not sep or not key_id or not sig:
        return None
    return key_id, sig


# --- ACS3-HMAC-SHA256 (signature V3) -------------------------------------------------------------

ACS3_ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_PAYLOAD_SHA256 = hashlib.sha256(b"").hexdigest()
_ACS3_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_ACS3_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_ACS3_AUTH_RE = re.compile(
    r"^ACS3-HMAC-SHA256 Credential=([^,\s]+),SignedHeaders=([^,\s]*),Signature=([0-9a-fA-F]+)$"
)

HeaderItems = Union[Mapping[str, object], Iterable[tuple[str, object]]]


def _items(headers: HeaderItems | None) -> list[tuple[str, str]]:
    if headers is None:
        return []
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(k), str(v)) for k, v in pairs if v is not None]


def acs3_percent_encode(value: str) -> str:
    """RFC 3986 encoding as the official signer does it (``A-Za-z0-9-_.~`` kept, UTF-8, space ``%20``)."""
    return quote(value, safe="~", encoding="utf-8")


# The same few query values (qualifier, filters, page size) come back on every poll of an API query.
# Not for acs3_percent_encode itself: the STS RPC signature encodes tokens with it, never kept here.
_encode_query_value = functools.lru_cache(maxsize=256)(acs3_percent_encode)


def acs3_encode_path(*segments: str) -> str:
    """``/seg1/seg2/...`` with each segment encoded, as the SDK builds (and signs) its paths: ``svc$fn`` → ``svc%24fn``."""
    return "/" + "/".join(acs3_percent_encode(seg) for seg in segments)


def acs3_payload_hash(body: bytes | str | None) -> str:
    """Lowercase hex SHA-256 of the body bytes (the ``x-acs-content-sha256`` value)."""
    if not body:  # None, b"" or "": every read
        return EMPTY_PAYLOAD_SHA256
    if isinstance(body, str):
        body = body.encode("utf-8")
    return hashlib.sha256(body).hexdigest()


_last_date: tuple[int, str] = (-1, "")  # (whole second, its x-acs-date): most signatures share a second


def acs3_date(epoch_seconds: float | None = None) -> str:
    """``x-acs-date`` for an instant (now by default): UTC ``yyyy-MM-ddTHH:mm:ssZ``."""
    global _last_date
    if epoch_seconds is not None:
        return time.strftime(_ACS3_DATE_FORMAT, time.gmtime(epoch_seconds))
    second = int(time.time())
    cached = _last_date
    if cached[0] == second:
        return cached[1]
    text = time.strftime(_ACS3_DATE_FORMAT, time.gmtime(second))
    _last_date = (second, text)
    return text


def acs3_canonical_query_string(query: HeaderItems | None) -> str:
    """Parameters sorted by name, values RFC 3986-encoded (names as given, like the SDK); ``""`` when none."""
    if not query:
        return ""
    pairs = sorted(_items(query))
    return "&".join([f"{key}={_encode_query_value(value)}" for key, value in pairs])


def _merged_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for key, value in pairs:
        name = key.lower()
        values = merged.get(name)
        if values is None:
            merged[name] = [value.strip()]
        else:
            values.append(value.strip())
    return merged


def _canonical_of(merged: dict[str, list[str]]) -> tuple[str, str]:
    names = sorted(merged)
    canonical = "".join([f"{name}:{values[0] if len(values) == 1 else ','.join(sorted(values))}\n"
                         for name, values in ((name, merged[name]) for name in names)])
    return canonical, ";".join(names)


def acs3_canonical_headers(headers: HeaderItems | None) -> tuple[str, str]:
    """(CanonicalHeaders, SignedHeaders) of every header given.

    Names are lower-cased; values trimmed (inner spaces kept); names equal after lower-casing are
    merged, their values sorted and joined with ``,``.
    """
    return _canonical_of(_merged_headers(_items(headers)))


def _canonical_request(method: str, path: str, query: HeaderItems | None, canonical_headers: str,
                       signed_headers: str, payload_hash: str) -> str:
    return (
        f"{method.upper()}\n{path or '/'}\n{acs3_canonical_query_string(query)}\n"
        f"{canonical_headers}\n{signed_headers}\n{payload_hash}"
    )


def acs3_canonical_request(
    method: str, path: str, query: HeaderItems | None, headers: HeaderItems | None, payload_hash: str
) -> str:
    """``METHOD\\nURI\\nQuery\\nHeaders\\n\\nSignedHeaders\\nHashedPayload``; ``path`` exactly as sent (already encoded)."""
    return _canonical_request(method, path, query, *acs3_canonical_headers(headers), payload_hash)


def acs3_string_to_sign(canonical_request: str) -> str:
    """``ACS3-HMAC-SHA256\\n`` + hex SHA-256 of the canonical request."""
    return f"{ACS3_ALGORITHM}\n{hashlib.sha256(canonical_request.encode('utf-8')).hexdigest()}"


def _acs3_signature(secret: str, text: str) -> str:
    return hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


def _acs3_header_value(access_key_id: str, access_key_secret: str, canonical: str, signed_headers: str) -> str:
    sig = _acs3_signature(access_key_secret, acs3_string_to_sign(canonical))
    return f"{ACS3_ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={sig}"


def _payload_hash_of(headers: HeaderItems | None) -> str:
    for key, value in _items(headers):
        if key.lower() == "x-acs-content-sha256":
            return value.strip()
    return EMPTY_PAYLOAD_SHA256


def acs3_authorization(
    method: str,
    path: str,
    query: HeaderItems | None,
    headers: HeaderItems | None,
    access_key_id: str,
    access_key_secret: str,
    payload_hash: str | None = None,
) -> str:
    """The ``Authorization`` value signing every header in ``headers``.

    ``payload_hash`` defaults to the ``x-acs-content-sha256`` header (as the SDK signs it).
    """
    items = _items(headers)
    hashed = _payload_hash_of(items) if payload_hash is None else payload_hash
    canonical_headers, signed_headers = acs3_canonical_headers(items)  # once, for both uses
    canonical = _canonical_request(method, path, query, canonical_headers, signed_headers, hashed)
    return _acs3_header_value(access_key_id, access_key_secret, canonical, signed_headers)


def acs3_sign_request(
    method: str,
    path: str,
    *,
    query: HeaderItems | None = None,
    headers: HeaderItems | None = None,
    body: bytes | str | None = b"",
    access_key_id: str,
    access_key_secret: str,
    security_token: str | None = None,
    date: str | float | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Sign a request with ACS3-HMAC-SHA256; return the headers to add to it.

    ``path`` is the path exactly as it will be sent, each segment already encoded (see
    :func:`acs3_encode_path`); ``query`` the parameters (unencoded values). Every header in ``headers``
    is signed, so pass all you send except transport ones (``Content-Length``, ``Accept-Encoding``):
    at least ``host``, ``x-acs-action``, ``x-acs-version``, and ``content-type`` when there is a body.
    Send the query with values encoded by :func:`acs3_percent_encode` (``%20``, not ``+``).

    Returned (all signed): ``x-acs-date``, ``x-acs-signature-nonce`` (32 random hex chars),
    ``x-acs-content-sha256``; with STS credentials ``x-acs-accesskey-id`` and ``x-acs-security-token``;
    and ``Authorization``. ``date`` (an ``x-acs-date`` string or epoch seconds) and ``nonce`` pin
    the values for tests. Headers already given with one of these names are replaced.
    """
    payload_hash = acs3_payload_hash(body)
    added: dict[str, str] = {
        "x-acs-date": date if isinstance(date, str) else acs3_date(date),
        "x-acs-signature-nonce": nonce or secrets.token_hex(16),
        "x-acs-content-sha256": payload_hash,
    }
    if security_token:
        added["x-acs-accesskey-id"] = access_key_id
        added["x-acs-security-token"] = security_token
    # One pass over the caller's headers (as _items reads them: None values dropped, str() others):
    # the ones replaced by ``added`` and any Authorization dropped, the rest merged by lower-cased name.
    merged: dict[str, list[str]] = {}
    if headers:
        for key, value in (headers.items() if isinstance(headers, Mapping) else headers):
            if value is None:
                continue
            name = (key if type(key) is str else str(key)).lower()
            if name in added or name == "authorization":
                continue
            value = (value if type(value) is str else str(value)).strip()
            values = merged.get(name)
            if values is None:
                merged[name] = [value]
            else:
                values.append(value)
    for name, value in added.items():
        merged[name] = [value.strip()]
    canonical_headers, signed_headers = _canonical_of(merged)
    canonical = _canonical_request(method, path, query, canonical_headers, signed_headers, payload_hash)
    added["Authorization"] = _acs3_header_value(access_key_id, access_key_secret, canonical, signed_headers)
    return added


class Acs3Authorization(NamedTuple):
    """A parsed ``ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..`` value."""

    access_key_id: str
    signed_headers: tuple[str, ...]
    signature: str


class Acs3SignatureError(Exception):
    """A request's V3 signature is refused; ``reason`` is a short code for the emulator to map to FC's error."""

    def __init__(self, reason: str, message: str, canonical_request: str = "") -> None:
        self.reason = reason
        self.canonical_request = canonical_request
        super().__init__(message)


def parse_acs3_authorization(value: str | None) -> Acs3Authorization | None:
    """Split an ACS3-HMAC-SHA256 ``Authorization`` value; None when it is not one."""
    match = _ACS3_AUTH_RE.match((value or "").strip())
    if not match:
        return None
    names = tuple(name for name in match.group(2).split(";") if name)
    return Acs3Authorization(match.group(1), names, match.group(3).lower())


_REQUIRED_SIGNED = ("x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256")


def acs3_verify(
    method: str,
    path: str,
    query: HeaderItems | None,
    headers: HeaderItems,
    body: bytes | None,
    access_key_secret: str,
    *,
    now: float | None = None,
    max_skew_seconds: float = 900.0,
) -> Acs3Authorization:
    """Check a received request's V3 signature; return the parsed authorization or raise :class:`Acs3SignatureError`.

    ``path`` is the raw request path (as sent, no query); ``query`` the decoded parameters. The
    canonical URI is the path as sent; a path whose segments were left unencoded (``$``) is also
    accepted when signed in its encoded form. ``reason`` of the error: ``missing`` (Authorization,
    or a required ``x-acs-*`` header, absent), ``malformed`` (not an ACS3 Authorization),
    ``unsigned`` (``host`` or an ``x-acs-*`` header sent but not signed, or a signed one not sent),
    ``content`` (body hash), ``date`` (format), ``skew`` (more than ``max_skew_seconds`` from
    ``now``), ``mismatch`` (then ``canonical_request`` holds the server's canonical request).
    """
    items = _items(headers)
    auth_value = next((v for k, v in items if k.lower() == "authorization"), "")
    if not auth_value:
        raise Acs3SignatureError("missing", "the Authorization header is missing")
    parsed = parse_acs3_authorization(auth_value)
    if parsed is None:
        raise Acs3SignatureError(
            "malformed",
            "the Authorization header must be 'ACS3-HMAC-SHA256 Credential=<accessKeyId>,"
            "SignedHeaders=<names>,Signature=<hex>'",
        )
    lowered = [(k.lower(), v) for k, v in items]
    present = {k for k, _ in lowered}
    signed = set(parsed.signed_headers)
    for name in _REQUIRED_SIGNED:
        if name not in present:
            raise Acs3SignatureError("missing", f"required HTTP header {name} was not specified")
    for name in sorted(present):
        if (name.startswith("x-acs-") or name == "host") and name not in signed:
            raise Acs3SignatureError("unsigned", f"the {name} header must be signed")
    missing = sorted(signed - present)
    if missing:
        raise Acs3SignatureError("unsigned", f"signed header {missing[0]} is not in the request")
    by_name = dict(lowered)
    if by_name["x-acs-content-sha256"].strip().lower() != acs3_payload_hash(body or b""):
        raise Acs3SignatureError("content", "x-acs-content-sha256 does not match the request body")
    date_value = by_name["x-acs-date"].strip()
    if not _ACS3_DATE_RE.match(date_value):
        raise Acs3SignatureError("date", "x-acs-date must be UTC yyyy-MM-ddTHH:mm:ssZ")
    stamp = calendar.timegm(time.strptime(date_value, _ACS3_DATE_FORMAT))
    if abs(stamp - (time.time() if now is None else now)) > max_skew_seconds:
        raise Acs3SignatureError(
            "skew", f"x-acs-date {date_value} is more than {int(max_skew_seconds)} seconds from the server's time"
        )
    signed_items = [(k, v) for k, v in lowered if k in signed]
    payload_hash = by_name["x-acs-content-sha256"].strip()
    candidates = [path or "/"]
    normalized = "/".join(acs3_percent_encode(unquote(seg)) for seg in (path or "/").split("/"))
    if normalized not in candidates:
        candidates.append(normalized)
    first = ""
    for uri in candidates:
        canonical = acs3_canonical_request(method, uri, query, signed_items, payload_hash)
        first = first or canonical
        expected = _acs3_signature(access_key_secret, acs3_string_to_sign(canonical))
        if hmac.compare_digest(expected, parsed.signature):
            return parsed
    raise Acs3SignatureError(
        "mismatch", "the request signature we calculated does not match the signature you provided", first
    )
