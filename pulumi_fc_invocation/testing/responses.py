"""HTTP handling of the FC 2016-08-15 API: parse, authenticate, call the backend, render.

Independent of sockets (``server.py`` feeds it a :class:`Request` and writes the :class:`Response`),
so it can be unit-tested without a network. Behaviour, and where the emulator had to choose:

Authentication, in this order, each failure answered like FC (``{"ErrorCode", "ErrorMessage"}``):

1. no ``Authorization`` header -> 400 ``MissingRequiredHeader`` (FC's code for a missing header);
   not ``FC id:sig`` -> 403 ``SignatureNotMatch``.
2. unknown access key id -> 403 ``InvalidAccessKeyID``.
3. no ``Date`` -> 400 ``MissingRequiredHeader``; unparsable -> 400 ``InvalidArgument``.
4. signature (``pulumi_fc_invocation.signing`` over the unescaped path without the query) ->
   403 ``SignatureNotMatch``; the message shows the server's string-to-sign (token masked) to help
   debug a hand-written signer. A ``Content-MD5`` header, when sent, must match the body (hex or
   base64) -> 400 ``InvalidArgument``.
5. STS: a key registered with a token needs ``X-Fc-Security-Token`` equal to it, a key without one
   must not send one -> 403 ``InvalidSecurityToken``; a key registered ``expired`` ->
   403 ``SecurityTokenExpired``. FC's public error table lists no STS codes; these two are the
   emulator's choice (the names other Alibaba Cloud services use).
6. ``Date`` more than ``max_skew`` (900 s) from **real** wall time -> 403 ``RequestTimeTooSkewed``.
   Real, not the emulator clock: clients sign with the machine's real time, and a virtual clock
   parked at a fixed instant would otherwise reject every request after 15 virtual minutes.
7. ``X-Fc-Account-Id``, when sent, must be the emulator's account -> 403 ``AccessDenied``.

Faults (``faults.py``) are applied after routing and before authentication, as a throttling front
end or a proxy would.

List: ``limit`` defaults to 20 (FC's default for its list APIs), 1-100; ``sortOrderByTime`` defaults
to ``desc``; ``invocationPayload`` is left out of items unless ``includePayload=true``;
``nextToken`` is opaque (keyset: it survives new invocations between pages), bound to the sort order,
and absent on the last page.

Invoke: ``X-Fc-Invocation-Type: Async`` -> 202 with ``X-Fc-Stateful-Async-Invocation-Id`` (``inv-``
+ uuid hex when the caller gave none); payload limit 128 KiB (``EntityTooLarge``). Without the header
(or ``Sync``) the scripted outcome is returned at once: 200 with the return payload, or for ``Failed``
200 with ``X-Fc-Error-Type: UnhandledInvocationError`` and ``{"errorMessage", "errorType"}``, as FC
reports function errors. Stop answers 200 with an empty body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from typing import Any, Optional
from urllib.parse import parse_qsl, unquote

from .. import signing
from ..models import INVOCATION_RULE, validate_invocation_id
from ..errors import InvalidArgumentError
from .faults import Fault, FaultQueue
from .models import EmulatorError, FcBackend, InvocationState
from .urls import resolve

__all__ = ["Request", "Response", "KeyStore", "FcResponses", "render_invocation", "STATUS_FOR_CODE"]

log = logging.getLogger("pulumi_fc_invocation.testing")

STATUS_FOR_CODE = {
    "InvalidArgument": 400, "MissingRequiredHeader": 400, "PathNotSupported": 400, "EntityTooLarge": 400,
    "LimitExceededError": 400,
    "AccessDenied": 403, "SignatureNotMatch": 403, "InvalidAccessKeyID": 403, "RequestTimeTooSkewed": 403,
    "InvalidSecurityToken": 403, "SecurityTokenExpired": 403,
    "ServiceNotFound": 404, "FunctionNotFound": 404, "AliasNotFound": 404, "VersionNotFound": 404,
    "StatefulAsyncInvocationNotFound": 404,
    "StatefulAsyncInvocationAlreadyExists": 409, "ConcurrentUpdateError": 409,
    "ResourceExhausted": 429, "InternalServerError": 500, "ResourceThrottled": 503,
}
KNOWN_STATUSES = ("Enqueued", "Dequeued", "Running", "Retrying", "Stopping", "Succeeded", "Failed", "Stopped",
                  "Expired", "Invalid")
ASYNC_PAYLOAD_LIMIT = 128 * 1024
DEFAULT_LIST_LIMIT = 20
MAX_SKEW = 900.0
_JSON = "application/json; charset=utf-8"


@dataclass
class Request:
    """A parsed HTTP request. ``target`` is the raw request target (escaped path + query)."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""

    def __post_init__(self) -> None:
        raw_path, _, query = self.target.partition("?")
        self.raw_path = raw_path
        self.path = unquote(raw_path)
        self.query = dict(parse_qsl(query, keep_blank_values=True))
        self._lower = {k.lower(): v for k, v in self.headers.items()}

    def header(self, name: str) -> Optional[str]:
        return self._lower.get(name.lower())


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    latency: Optional[float] = None
    reset: bool = False
    truncate: bool = False


@dataclass
class RequestInfo:
    """What the request log records about one request (see ``server.RequestRecord``)."""

    route: Optional[str] = None
    access_key_id: Optional[str] = None
    invocation_id: Optional[str] = None
    request_id: str = ""
    fault: bool = False


class ApiError(Exception):
    def __init__(self, code: str, message: str, status: Optional[int] = None) -> None:
        self.code = code
        self.message = message
        self.status = status or STATUS_FOR_CODE.get(code, 400)
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True)
class _Key:
    secret: str = field(repr=False)
    token: Optional[str] = field(default=None, repr=False)
    expired: bool = False


class KeyStore:
    """Access keys the emulator accepts. Secrets never appear in reprs."""

    def __init__(self) -> None:
        self._keys: dict[str, _Key] = {}
        self._lock = threading.Lock()

    def add(self, key_id: str, secret: str, security_token: Optional[str] = None, expired: bool = False) -> None:
        if not key_id or not secret:
            raise ValueError("access key id and secret must be non-empty")
        with self._lock:
            self._keys[key_id] = _Key(secret, security_token or None, bool(expired))

    def get(self, key_id: str) -> Optional[_Key]:
        with self._lock:
            return self._keys.get(key_id)

    def key_ids(self) -> list[str]:
        with self._lock:
            return list(self._keys)

    def __repr__(self) -> str:
        return f"KeyStore({len(self._keys)} keys)"


def render_invocation(state: InvocationState, include_payload: bool = True) -> dict[str, Any]:
    """An invocation as FC's JSON (camelCase keys)."""
    body: dict[str, Any] = {
        "serviceName": state.service_name,
        "functionName": state.function_name,
        "qualifier": state.qualifier,
        "invocationId": state.invocation_id,
        "requestId": state.request_id,
        "status": state.status,
        "destinationStatus": state.destination_status,
        "invocationErrorMessage": state.invocation_error_message,
        "invocationPayload": state.invocation_payload,
        "returnPayload": state.return_payload,
        "alreadyRetriedTimes": state.already_retried_times,
        "startedTime": state.started_time,
        "endTime": state.end_time,
        "durationMs": state.duration_ms,
        "instanceId": state.instance_id,
        "events": [
            {"eventId": e.event_id, "status": e.status, "timestamp": e.timestamp_ms, "eventDetail": e.detail}
            for e in state.events
        ],
    }
    if not include_payload:
        del body["invocationPayload"]
    return body


def _json_body(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _encode_token(key: tuple[float, int], descending: bool) -> str:
    raw = f"v1|{key[0]!r}|{key[1]}|{'d' if descending else 'a'}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, descending: bool) -> tuple[float, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        version, created, seq, order = raw.split("|")
        if version != "v1" or order != ("d" if descending else "a"):
            raise ValueError
        return float(created), int(seq)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ApiError("InvalidArgument", f"invalid nextToken {token[:40]!r}: use the token of the previous page "
                                          "with the same sortOrderByTime") from None


class FcResponses:
    """Dispatches one request: route, fault, authentication, handler, rendering."""

    def __init__(self, backend: FcBackend, keys: KeyStore, faults: FaultQueue, account_id: str,
                 max_skew: float = MAX_SKEW) -> None:
        self.backend = backend
        self.keys = keys
        self.faults = faults
        self.account_id = account_id
        self.max_skew = max_skew

    def handle(self, request: Request) -> tuple[Response, RequestInfo]:
        info = RequestInfo(request_id=str(uuid.uuid4()))
        route, params = resolve(request.method, request.path)
        info.route = route
        info.invocation_id = params.get("invocation_id") or request.header("X-Fc-Stateful-Async-Invocation-Id")
        parsed = signing.parse_authorization(request.header("Authorization") or "")
        info.access_key_id = parsed[0] if parsed else None

        fault = self.faults.take(route or "?", info.invocation_id)
        info.fault = fault is not None
        if fault is not None and (fault.reset or fault.is_error):
            return self._fault_response(fault, info), info
        try:
            self._authenticate(request)
            if route is None:
                raise ApiError("PathNotSupported", f"'{request.method}' against '{request.path}' is not supported")
            request.request_id = info.request_id
            response = getattr(self, f"route_{route}")(request, **params)
        except ApiError as exc:
            response = self._error(exc.status, exc.code, exc.message)
        except EmulatorError as exc:
            response = self._error(STATUS_FOR_CODE.get(exc.code, 400), exc.code, exc.message)
        except Exception as exc:  # an emulator bug: answer 500 (visible in the test) instead of a dead socket
            log.exception("emulator error handling %s %s", request.method, request.path)
            response = self._error(500, "InternalServerError", f"emulator bug: {type(exc).__name__}: {exc}")
        if fault is not None:
            self._decorate(response, fault)
        response.headers.insert(0, ("X-Fc-Request-Id", info.request_id))
        return response, info

    # --- faults ---------------------------------------------------------------------------------

    def _fault_response(self, fault: Fault, info: RequestInfo) -> Response:
        if fault.reset:
            return Response(0, latency=fault.latency, reset=True)
        if fault.body is not None:
            response = Response(int(fault.status or 502), [("Content-Type", fault.content_type or "text/html")],
                                fault.body)
        else:
            message = fault.message or f"emulated fault: {fault.code}"
            response = self._error(int(fault.status or 503), fault.code or "InternalServerError", message)
        if fault.retry_after is not None:
            value = fault.retry_after
            response.headers.append(("Retry-After", str(int(value)) if float(value).is_integer() else str(value)))
        response.latency = fault.latency
        response.truncate = fault.truncate
        response.headers.insert(0, ("X-Fc-Request-Id", info.request_id))
        return response

    @staticmethod
    def _decorate(response: Response, fault: Fault) -> None:
        response.latency = fault.latency
        response.truncate = fault.truncate
        if fault.extra_fields and 200 <= response.status < 300 and response.body:
            try:
                data = json.loads(response.body)
            except ValueError:
                return
            if isinstance(data, dict):
                data.update(fault.extra_fields)
                if isinstance(data.get("invocations"), list):
                    for item in data["invocations"]:
                        item.update(fault.extra_fields)
                response.body = _json_body(data)

    # --- authentication -------------------------------------------------------------------------

    def _authenticate(self, request: Request) -> None:
        header = request.header("Authorization")
        if not header:
            raise ApiError("MissingRequiredHeader", "required HTTP header Authorization was not specified")
        parsed = signing.parse_authorization(header)
        if parsed is None:
            raise ApiError("SignatureNotMatch", "the Authorization header must be 'FC <accessKeyId>:<signature>'")
        key_id, given = parsed
        key = self.keys.get(key_id)
        if key is None:
            raise ApiError("InvalidAccessKeyID", f"invalid access key ID '{key_id}'")
        date = request.header("Date")
        if not date:
            raise ApiError("MissingRequiredHeader", "required HTTP header Date was not specified")
        try:
            signed_at = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError, IndexError):
            raise ApiError("InvalidArgument", f"the Date header {date[:64]!r} is not an RFC 1123 date") from None
        text = signing.string_to_sign(request.method, request.raw_path, request.headers)
        # compare_digest raises TypeError on non-ASCII text (it was a 500 with a traceback): refuse first.
        if not given.isascii() or not hmac.compare_digest(signing.signature(key.secret, text), given):
            token = request.header("X-Fc-Security-Token")
            shown = text.replace(token, "<token>") if token else text
            raise ApiError(
                "SignatureNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                f"Check your access key and signing method. String to sign: {shown!r}",
            )
        md5 = request.header("Content-MD5")
        if md5:
            digest = hashlib.md5(request.body).digest()
            if md5 not in (digest.hex(), base64.b64encode(digest).decode()):
                raise ApiError("InvalidArgument", "the Content-MD5 header does not match the body")
        token = request.header("X-Fc-Security-Token")
        if key.expired:
            raise ApiError("SecurityTokenExpired", "the security token has expired")
        if (token or None) != key.token:
            raise ApiError("InvalidSecurityToken", "the security token is invalid for this access key"
                           if key.token else "this access key does not take a security token")
        now = time.time()
        if abs(now - signed_at) > self.max_skew:
            raise ApiError(
                "RequestTimeTooSkewed",
                f"the difference between the request time '{date}' and the server time "
                f"'{formatdate(now, usegmt=True)}' is too large (more than {int(self.max_skew)} seconds)",
            )
        account = request.header("X-Fc-Account-Id")
        if account and account != self.account_id:
            raise ApiError("AccessDenied", f"account '{account}' does not match this endpoint's account "
                                           f"'{self.account_id}'")

    # --- rendering ------------------------------------------------------------------------------

    @staticmethod
    def _error(status: int, code: str, message: str) -> Response:
        return Response(status, [("Content-Type", _JSON)], _json_body({"ErrorCode": code, "ErrorMessage": message}))

    @staticmethod
    def _ok(data: Any, status: int = 200) -> Response:
        return Response(status, [("Content-Type", _JSON)], _json_body(data))

    @staticmethod
    def _qualifier(qualifier: Optional[str]) -> Optional[str]:
        if qualifier == "":
            raise ApiError("InvalidArgument", "the qualifier after '.' in the service name is empty")
        return qualifier

    # --- routes ---------------------------------------------------------------------------------

    def route_get(self, request: Request, service: str, qualifier: Optional[str], function: str,
                  invocation_id: str) -> Response:
        state = self.backend.get_invocation(service, self._qualifier(qualifier), function, invocation_id)
        return self._ok(render_invocation(state))

    def route_stop(self, request: Request, service: str, qualifier: Optional[str], function: str,
                   invocation_id: str) -> Response:
        self.backend.stop_invocation(service, self._qualifier(qualifier), function, invocation_id)
        return Response(200)

    def route_list(self, request: Request, service: str, qualifier: Optional[str], function: str) -> Response:
        q = request.query
        limit = self._int(q, "limit", DEFAULT_LIST_LIMIT)
        if not 1 <= limit <= 100:
            raise ApiError("InvalidArgument", f"limit must be between 1 and 100, got {limit}")
        order = q.get("sortOrderByTime", "desc") or "desc"
        if order not in ("asc", "desc"):
            raise ApiError("InvalidArgument", f"sortOrderByTime must be 'asc' or 'desc', got {order!r}")
        status = q.get("status") or None
        if status is not None and status not in KNOWN_STATUSES:
            raise ApiError("InvalidArgument", f"status must be one of {', '.join(KNOWN_STATUSES)}, got {status!r}")
        include = (q.get("includePayload") or "false").lower()
        if include not in ("true", "false"):
            raise ApiError("InvalidArgument", f"includePayload must be true or false, got {include!r}")
        prefix = q.get("invocationIdPrefix") or None
        if prefix is not None and len(prefix) > 128:
            raise ApiError("InvalidArgument", "invocationIdPrefix must be at most 128 characters")
        begin = self._int(q, "startedTimeBegin", None)
        end = self._int(q, "startedTimeEnd", None)
        descending = order == "desc"
        token = q.get("nextToken") or None
        after = _decode_token(token, descending) if token else None
        states, more = self.backend.list_invocations(
            service, self._qualifier(qualifier), function, status=status, prefix=prefix, started_begin_ms=begin,
            started_end_ms=end, descending=descending, after=after, limit=limit,
        )
        body: dict[str, Any] = {"invocations": [render_invocation(s, include == "true") for s in states]}
        if more is not None:
            body["nextToken"] = _encode_token(more, descending)
        return self._ok(body)

    @staticmethod
    def _int(query: dict[str, str], name: str, default: Optional[int]) -> Optional[int]:
        value = query.get(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise ApiError("InvalidArgument", f"{name} must be an integer, got {value[:40]!r}") from None
        if number < 0:
            raise ApiError("InvalidArgument", f"{name} must not be negative, got {number}")
        return number

    def route_invoke(self, request: Request, service: str, qualifier: Optional[str], function: str) -> Response:
        qualifier = self._qualifier(qualifier)
        kind = (request.header("X-Fc-Invocation-Type") or "Sync").strip()
        if kind.lower() not in ("sync", "async"):
            raise ApiError("InvalidArgument", f"X-Fc-Invocation-Type must be Sync or Async, got {kind[:40]!r}")
        payload = request.body.decode("utf-8", errors="replace")
        if kind.lower() == "sync":
            script = self.backend.invoke_sync(service, qualifier, function, payload)
            if script.outcome == "Failed":
                body = _json_body({"errorMessage": script.error_message or "UnhandledException",
                                   "errorType": "UnhandledException"})
                return Response(200, [("Content-Type", _JSON), ("X-Fc-Error-Type", "UnhandledInvocationError")], body)
            return Response(200, [("Content-Type", "application/octet-stream")],
                            (script.return_payload or "").encode("utf-8"))
        if len(request.body) > ASYNC_PAYLOAD_LIMIT:
            raise ApiError("EntityTooLarge", f"payload size exceeds maximum allowed size ({ASYNC_PAYLOAD_LIMIT} bytes)")
        invocation_id = request.header("X-Fc-Stateful-Async-Invocation-Id") or None
        if invocation_id is not None:
            try:
                validate_invocation_id(invocation_id, "X-Fc-Stateful-Async-Invocation-Id")
            except InvalidArgumentError:
                raise ApiError("InvalidArgument", f"invalid stateful async invocation id {invocation_id[:140]!r}: "
                                                  + INVOCATION_RULE) from None
        inv = self.backend.invoke_async(service, qualifier, function, payload, invocation_id,
                                        request_id=getattr(request, "request_id", None))
        return Response(202, [("X-Fc-Stateful-Async-Invocation-Id", inv.invocation_id)])
