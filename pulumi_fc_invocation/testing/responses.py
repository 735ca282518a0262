"""HTTP handling of the three API revisions: parse, authenticate, call the backend, render.

One dispatcher (:class:`FcResponses`) serves 2016-08-15 (``route_*`` methods, FC signature),
2021-04-06 (``fc21_*``) and 2023-03-30 (``fc3_*``), both ACS3-signed, over one backend. The
2016-08-15 behaviour first; the ACS3 revisions' differences are at the end of this docstring.

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

**ACS3 revisions (2023-03-30 and 2021-04-06).** Authentication (``signing.acs3_verify``): no
``Authorization`` or a missing required ``x-acs-date`` / ``x-acs-signature-nonce`` /
``x-acs-content-sha256`` -> 400 ``MissingRequiredHeader``; not an ACS3 value, a header sent unsigned
or a wrong signature -> 403 ``SignatureNotMatch`` (the message shows the server's canonical request,
token masked); body hash or bad ``x-acs-date`` -> 400 ``InvalidArgument``; unknown key -> 403
``InvalidAccessKeyID``; date skew (real time, as above) -> 403 ``RequestTimeTooSkewed``; STS token
(``x-acs-security-token``) wrong or missing -> 403 ``InvalidSecurityToken``, expired -> 403
``SecurityTokenExpired``; an ``x-acs-version`` that is not the path's -> 400 ``InvalidArgument``.

- 2023-03-30 error bodies: ``{"Code", "Message", "RequestId"}`` (FC3-API.md "Error"); codes are
  renamed from the backend's 2.0 ones: ``ServiceNotFound`` (of ``svc$fn``) -> ``FunctionNotFound``,
  ``StatefulAsyncInvocationNotFound`` -> 404 ``AsyncTaskNotFound``,
  ``StatefulAsyncInvocationAlreadyExists`` -> 409 ``AsyncTaskAlreadyExists`` (3.0's code is not
  documented: the emulator's choice). Async invoke: 202, empty body, ``x-fc-async-task-id`` header.
  List: ``prefix``, ``status``, ``startedTimeBegin``/``End`` (ms), ``sortOrderByTime``,
  ``includePayload`` (any case: the SDK sends ``True``), ``limit`` 1-100 default 20, ``nextToken``;
  body ``{"tasks": [...], "nextToken"}``. Stop: ``PUT .../stop``, 200 ``{}``. Tasks render with
  ``functionArn`` (``acs:fc:{region}:{account}:functions/{name}``) and no ``functionName``.
  ``PUT/GET/DELETE .../async-invoke-config`` store ``asyncTask`` (task mode; 404
  ``AsyncConfigNotExists`` before a PUT or after a DELETE).
- 2021-04-06 error bodies: FC 2.0's ``{"ErrorCode", "ErrorMessage"}`` plus ``Code``, ``Message``
  and ``RequestId``, which the official SDK reads (no first-party page shows the body: the
  emulator's choice, readable by both kinds of client). Header values may arrive JSON-encoded
  (``"Async"`` with quotes: some SDK builds ``json.dumps`` every header value); both forms are accepted.
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

from .. import fc3, signing
from ..models import INVOCATION_RULE, validate_invocation_id
from ..errors import InvalidArgumentError
from .faults import Fault, FaultQueue
from .models import EmulatorError, FcBackend, InvocationState
from .urls import API_VERSION, FC2_2021, FC3, api_of, resolve

__all__ = ["Request", "Response", "KeyStore", "FcResponses", "render_invocation", "render_task", "STATUS_FOR_CODE"]

log = logging.getLogger("pulumi_fc_invocation.testing")

STATUS_FOR_CODE = {
    "InvalidArgument": 400, "MissingRequiredHeader": 400, "PathNotSupported": 400, "EntityTooLarge": 400,
    "LimitExceededError": 400,
    "AccessDenied": 403, "SignatureNotMatch": 403, "InvalidAccessKeyID": 403, "RequestTimeTooSkewed": 403,
    "InvalidSecurityToken": 403, "SecurityTokenExpired": 403,
    "ServiceNotFound": 404, "FunctionNotFound": 404, "AliasNotFound": 404, "VersionNotFound": 404,
    "StatefulAsyncInvocationNotFound": 404,
    "StatefulAsyncInvocationAlreadyExists": 409, "ConcurrentUpdateError": 409,
    "AsyncTaskNotFound": 404, "AsyncConfigNotExists": 404, "AsyncTaskAlreadyExists": 409,
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
    api: str = API_VERSION
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
    expires_at: Optional[float] = None  # epoch seconds on the emulator's clock

    def is_expired(self, now: float) -> bool:
        return self.expired or (self.expires_at is not None and now >= self.expires_at)


class KeyStore:
    """Access keys the emulator accepts. Secrets never appear in reprs."""

    def __init__(self) -> None:
        self._keys: dict[str, _Key] = {}
        self._lock = threading.Lock()

    def add(self, key_id: str, secret: str, security_token: Optional[str] = None, expired: bool = False,
            expires_at: Optional[float] = None) -> None:
        if not key_id or not secret:
            raise ValueError("access key id and secret must be non-empty")
        if expires_at is not None and (isinstance(expires_at, bool) or not isinstance(expires_at, (int, float))
                                       or expires_at != expires_at):
            raise ValueError(f"expires_at must be epoch seconds (a number) or None, not {expires_at!r}")
        with self._lock:
            self._keys[key_id] = _Key(secret, security_token or None, bool(expired),
                                      None if expires_at is None else float(expires_at))

    def remove(self, key_id: str) -> bool:
        with self._lock:
            return self._keys.pop(key_id, None) is not None

    def get(self, key_id: str) -> Optional[_Key]:
        with self._lock:
            return self._keys.get(key_id)

    def key_ids(self) -> list[str]:
        with self._lock:
            return list(self._keys)

    def __repr__(self) -> str:
        return f"KeyStore({len(self._keys)} keys)"


def _shared_fields(state: InvocationState) -> dict[str, Any]:
    """The keys FC 2.0 and 3.0 name alike (FC3-API.md "Mapping from 2.0")."""
    return {
        "qualifier": state.qualifier,
        "requestId": state.request_id,
        "status": state.status,
        "destinationStatus": state.destination_status,
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


def render_invocation(state: InvocationState, include_payload: bool = True) -> dict[str, Any]:
    """An invocation as FC 2.0's JSON (camelCase keys)."""
    body: dict[str, Any] = {
        "serviceName": state.service_name,
        "functionName": state.function_name,
        "invocationId": state.invocation_id,
        "invocationErrorMessage": state.invocation_error_message,
        **_shared_fields(state),
    }
    if include_payload:
        body["invocationPayload"] = state.invocation_payload
    return body


def render_task(state: InvocationState, function_arn: str, include_payload: bool = True) -> dict[str, Any]:
    """A task as FC 3.0's JSON: ``functionArn`` instead of service and function names."""
    body: dict[str, Any] = {
        "taskId": state.invocation_id,
        "functionArn": function_arn,
        "taskErrorMessage": state.invocation_error_message,
        **_shared_fields(state),
    }
    if include_payload:
        body["taskPayload"] = state.invocation_payload
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
                 max_skew: float = MAX_SKEW, region: str = "cn-hangzhou") -> None:
        self.backend = backend
        self.keys = keys
        self.faults = faults
        self.account_id = account_id
        self.region = region
        self.max_skew = max_skew

    def handle(self, request: Request) -> tuple[Response, RequestInfo]:
        api = api_of(request.path)
        info = RequestInfo(request_id=str(uuid.uuid4()), api=api)
        route, params = resolve(request.method, request.path)
        info.route = route
        info.invocation_id = params.get("invocation_id") or _header_value(
            request.header("x-fc-async-task-id" if api == FC3 else "X-Fc-Stateful-Async-Invocation-Id"))
        info.access_key_id = _key_id_of(request.header("Authorization"))

        fault = self.faults.take(route or "?", info.invocation_id, api)
        info.fault = fault is not None
        if fault is not None and (fault.reset or fault.is_error):
            return self._fault_response(fault, info), info
        request.request_id = info.request_id
        try:
            if api == API_VERSION:
                self._authenticate(request)
            else:
                self._authenticate_acs3(request, api)
            if route is None:
                raise ApiError("PathNotSupported", f"'{request.method}' against '{request.path}' is not supported")
            prefix = {API_VERSION: "route", FC2_2021: "fc21", FC3: "fc3"}[api]
            response = getattr(self, f"{prefix}_{route}")(request, **params)
        except ApiError as exc:
            response = self._error(exc.status, exc.code, exc.message, api, info.request_id)
        except EmulatorError as exc:
            code, message = (exc.code, exc.message) if api != FC3 else _fc3_code(exc)
            response = self._error(STATUS_FOR_CODE.get(code, 400), code, message, api, info.request_id)
        except Exception as exc:  # an emulator bug: answer 500 (visible in the test) instead of a dead socket
            log.exception("emulator error handling %s %s", request.method, request.path)
            response = self._error(500, "InternalServerError", f"emulator bug: {type(exc).__name__}: {exc}",
                                   api, info.request_id)
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
            response = self._error(int(fault.status or 503), fault.code or "InternalServerError", message,
                                   info.api, info.request_id)
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
                for key in ("invocations", "tasks"):
                    if isinstance(data.get(key), list):
                        for item in data[key]:
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
        self._check_token(key, request.header("X-Fc-Security-Token"))
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

    def _check_token(self, key: Any, token: Optional[str]) -> None:
        """STS: expiry on the emulator's clock, then the token itself."""
        if key.is_expired(self.backend.clock.now()):
            raise ApiError("SecurityTokenExpired", "the security token has expired")
        if (token or None) != key.token:
            raise ApiError("InvalidSecurityToken", "the security token is invalid for this access key"
                           if key.token else "this access key does not take a security token")

    _ACS3_ERRORS = {
        "missing": ("MissingRequiredHeader", 400), "malformed": ("SignatureNotMatch", 403),
        "unsigned": ("SignatureNotMatch", 403), "mismatch": ("SignatureNotMatch", 403),
        "content": ("InvalidArgument", 400), "date": ("InvalidArgument", 400),
        "skew": ("RequestTimeTooSkewed", 403),
    }

    def _authenticate_acs3(self, request: Request, api: str) -> None:
        """ACS3-HMAC-SHA256, as the official SDKs sign (see the module docstring for the answers)."""
        header = request.header("Authorization")
        if not header:
            raise ApiError("MissingRequiredHeader", "required HTTP header Authorization was not specified")
        parsed = signing.parse_acs3_authorization(header)
        if parsed is None:
            raise ApiError("SignatureNotMatch", "the Authorization header must be 'ACS3-HMAC-SHA256 "
                                                "Credential=<accessKeyId>,SignedHeaders=<names>,Signature=<hex>'")
        key = self.keys.get(parsed.access_key_id)
        if key is None:
            raise ApiError("InvalidAccessKeyID", f"invalid access key ID '{parsed.access_key_id}'")
        token = request.header("x-acs-security-token")
        try:
            signing.acs3_verify(request.method, request.raw_path, request.query, request.headers, request.body,
                                key.secret, now=time.time(), max_skew_seconds=self.max_skew)
        except signing.Acs3SignatureError as exc:
            code, status = self._ACS3_ERRORS.get(exc.reason, ("SignatureNotMatch", 403))
            message = str(exc)
            if exc.reason == "mismatch":
                shown = exc.canonical_request.replace(token, "<token>") if token else exc.canonical_request
                message = ("The request signature we calculated does not match the signature you provided. "
                           f"Check your access key and signing method. Canonical request: {shown!r}")
            raise ApiError(code, message, status) from None
        key_header = request.header("x-acs-accesskey-id")
        if key_header and key_header != parsed.access_key_id:
            raise ApiError("InvalidAccessKeyID", "x-acs-accesskey-id does not match the signing key")
        self._check_token(key, token)
        version = request.header("x-acs-version")
        if version and version.strip() != api:
            raise ApiError("InvalidArgument", f"x-acs-version {version[:20]!r} does not match the path's API {api}")

    # --- rendering ------------------------------------------------------------------------------

    @staticmethod
    def _error(status: int, code: str, message: str, api: str = API_VERSION, request_id: str = "") -> Response:
        if api == FC3:
            body: dict[str, Any] = {"Code": code, "Message": message, "RequestId": request_id}
        elif api == FC2_2021:
            body = {"ErrorCode": code, "ErrorMessage": message, "Code": code, "Message": message,
                    "RequestId": request_id}
        else:
            body = {"ErrorCode": code, "ErrorMessage": message}
        return Response(status, [("Content-Type", _JSON)], _json_body(body))

    @staticmethod
    def _ok(data: Any, status: int = 200) -> Response:
        return Response(status, [("Content-Type", _JSON)], _json_body(data))

    @staticmethod
    def _qualifier(qualifier: Optional[str]) -> Optional[str]:
        if qualifier == "":
            raise ApiError("InvalidArgument", "the qualifier after '.' in the service name is empty")
        return qualifier

    # --- shared by the revisions ----------------------------------------------------------------

    def _list_page(self, q: dict[str, str], prefix_name: str, service: Optional[str], qualifier: Optional[str],
                   function: str) -> tuple[list[InvocationState], Optional[str], bool]:
        """(states, nextToken or None, include payload) of one list page: the filters all revisions share."""
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
        prefix = q.get(prefix_name) or None
        if prefix is not None and len(prefix) > 128:
            raise ApiError("InvalidArgument", f"{prefix_name} must be at most 128 characters")
        begin = self._int(q, "startedTimeBegin", None)
        end = self._int(q, "startedTimeEnd", None)
        descending = order == "desc"
        token = q.get("nextToken") or None
        after = _decode_token(token, descending) if token else None
        states, more = self.backend.list_invocations(
            service, qualifier, function, status=status, prefix=prefix, started_begin_ms=begin,
            started_end_ms=end, descending=descending, after=after, limit=limit,
        )
        return states, (_encode_token(more, descending) if more is not None else None), include == "true"

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

    def _invoke(self, request: Request, service: Optional[str], qualifier: Optional[str], function: str, *,
                kind: Optional[str], task_id: Optional[str], id_header: str, enable: bool = False,
                error_header: str = "X-Fc-Error-Type",
                kind_header: str = "X-Fc-Invocation-Type") -> tuple[Optional[Response], str]:
        """Sync: (the response, ""); async: (None, the task id) once started (or run untracked)."""
        kind = (kind or "Sync").strip()
        if kind.lower() not in ("sync", "async"):
            raise ApiError("InvalidArgument", f"{kind_header} must be Sync or Async, got {kind[:40]!r}")
        payload = request.body.decode("utf-8", errors="replace")
        if kind.lower() == "sync":
            script = self.backend.invoke_sync(service, qualifier, function, payload)
            if script.outcome == "Failed":
                body = _json_body({"errorMessage": script.error_message or "UnhandledException",
                                   "errorType": "UnhandledException"})
                return Response(200, [("Content-Type", _JSON), (error_header, "UnhandledInvocationError")], body), ""
            return Response(200, [("Content-Type", "application/octet-stream")],
                            (script.return_payload or "").encode("utf-8")), ""
        if len(request.body) > ASYNC_PAYLOAD_LIMIT:
            raise ApiError("EntityTooLarge", f"payload size exceeds maximum allowed size ({ASYNC_PAYLOAD_LIMIT} bytes)")
        if task_id is not None:
            try:
                validate_invocation_id(task_id, id_header)
            except InvalidArgumentError:
                raise ApiError("InvalidArgument", f"invalid {id_header} {task_id[:140]!r}: " + INVOCATION_RULE) from None
        invocation_id, _recorded = self.backend.invoke_async(service, qualifier, function, payload, task_id,
                                                             request_id=getattr(request, "request_id", None),
                                                             enable=enable)
        return None, invocation_id

    # --- 2016-08-15 routes ----------------------------------------------------------------------

    def route_get(self, request: Request, service: str, qualifier: Optional[str], function: str,
                  invocation_id: str) -> Response:
        state = self.backend.get_invocation(service, self._qualifier(qualifier), function, invocation_id)
        return self._ok(render_invocation(state))

    def route_stop(self, request: Request, service: str, qualifier: Optional[str], function: str,
                   invocation_id: str) -> Response:
        self.backend.stop_invocation(service, self._qualifier(qualifier), function, invocation_id)
        return Response(200)

    def route_list(self, request: Request, service: str, qualifier: Optional[str], function: str) -> Response:
        states, token, include = self._list_page(request.query, "invocationIdPrefix", service,
                                                 self._qualifier(qualifier), function)
        body: dict[str, Any] = {"invocations": [render_invocation(s, include) for s in states]}
        if token is not None:
            body["nextToken"] = token
        return self._ok(body)

    def route_invoke(self, request: Request, service: str, qualifier: Optional[str], function: str) -> Response:
        response, invocation_id = self._invoke(
            request, service, self._qualifier(qualifier), function, kind=request.header("X-Fc-Invocation-Type"),
            task_id=request.header("X-Fc-Stateful-Async-Invocation-Id") or None,
            id_header="X-Fc-Stateful-Async-Invocation-Id")
        return response or Response(202, [("X-Fc-Stateful-Async-Invocation-Id", invocation_id)])

    # --- 2021-04-06 routes (FC 2.0, ACS3): the qualifier in the query, headers maybe JSON-encoded --

    @staticmethod
    def _query_qualifier(request: Request) -> Optional[str]:
        qualifier = request.query.get("qualifier")
        if qualifier is None:
            return None
        if qualifier == "":
            raise ApiError("InvalidArgument", "the qualifier query parameter is empty")
        return qualifier

    def fc21_get(self, request: Request, service: str, function: str, invocation_id: str) -> Response:
        state = self.backend.get_invocation(service, self._query_qualifier(request), function, invocation_id)
        return self._ok(render_invocation(state))

    def fc21_stop(self, request: Request, service: str, function: str, invocation_id: str) -> Response:
        self.backend.stop_invocation(service, self._query_qualifier(request), function, invocation_id)
        return self._ok({})

    def fc21_list(self, request: Request, service: str, function: str) -> Response:
        states, token, include = self._list_page(request.query, "invocationIdPrefix", service,
                                                 self._query_qualifier(request), function)
        body: dict[str, Any] = {"invocations": [render_invocation(s, include) for s in states]}
        if token is not None:
            body["nextToken"] = token
        return self._ok(body)

    def fc21_invoke(self, request: Request, service: str, function: str) -> Response:
        enable = (_header_value(request.header("X-Fc-Stateful-Async-Invocation-Enable")) or "false").strip().lower()
        if enable not in ("true", "false"):
            raise ApiError("InvalidArgument", f"X-Fc-Stateful-Async-Invocation-Enable must be true or false, "
                                              f"got {enable[:20]!r}")
        response, invocation_id = self._invoke(
            request, service, self._query_qualifier(request), function,
            kind=_header_value(request.header("X-Fc-Invocation-Type")),
            task_id=_header_value(request.header("X-Fc-Stateful-Async-Invocation-Id")) or None,
            id_header="X-Fc-Stateful-Async-Invocation-Id", enable=enable == "true")
        return response or Response(202, [("X-Fc-Stateful-Async-Invocation-Id", invocation_id)])

    # --- 2023-03-30 routes (FC 3.0) -------------------------------------------------------------

    def _fc3_function(self, function: str) -> tuple[Optional[str], str]:
        service, name = self.backend.split_fc3_name(function)
        if service is not None and (not service or not name):
            raise EmulatorError("FunctionNotFound", f"function '{function}' does not exist")
        return service, name

    def _arn(self, fc3_name: str) -> str:
        return f"acs:fc:{self.region}:{self.account_id}:functions/{fc3_name}"

    def render_task(self, state: InvocationState, include_payload: bool = True) -> dict[str, Any]:
        return render_task(state, self._arn(state.fc3_function_name), include_payload)

    def fc3_get(self, request: Request, function: str, invocation_id: str) -> Response:
        service, name = self._fc3_function(function)
        state = self.backend.get_invocation(service, self._query_qualifier(request), name, invocation_id)
        return self._ok(self.render_task(state))

    def fc3_stop(self, request: Request, function: str, invocation_id: str) -> Response:
        service, name = self._fc3_function(function)
        self.backend.stop_invocation(service, self._query_qualifier(request), name, invocation_id)
        return self._ok({})

    def fc3_list(self, request: Request, function: str) -> Response:
        service, name = self._fc3_function(function)
        states, token, include = self._list_page(request.query, "prefix", service, self._query_qualifier(request),
                                                 name)
        body: dict[str, Any] = {"tasks": [self.render_task(s, include) for s in states]}
        if token is not None:
            body["nextToken"] = token
        return self._ok(body)

    def fc3_invoke(self, request: Request, function: str) -> Response:
        service, name = self._fc3_function(function)
        task_id = request.header("x-fc-async-task-id") or None
        if task_id is not None:
            try:
                fc3.validate_task_id(task_id, "x-fc-async-task-id")
            except InvalidArgumentError as exc:
                raise ApiError("InvalidArgument", str(exc)) from None
        response, invocation_id = self._invoke(
            request, service, self._query_qualifier(request), name, kind=request.header("x-fc-invocation-type"),
            task_id=task_id, id_header="x-fc-async-task-id", error_header="x-fc-error-type",
            kind_header="x-fc-invocation-type")
        return response or Response(202, [("x-fc-async-task-id", invocation_id)])

    def fc3_async_config(self, request: Request, function: str) -> Response:
        """PutAsyncInvokeConfig ``{"asyncTask": bool, ...}`` switches task mode; GET/DELETE as FC."""
        service, name = self._fc3_function(function)
        fn = self.backend.resolve(service, self._query_qualifier(request), name)
        arn = self._arn(fn.fc3_name)
        if request.method == "PUT":
            try:
                data = json.loads(request.body or b"{}")
            except ValueError:
                raise ApiError("InvalidArgument", "the body must be a JSON object") from None
            if not isinstance(data, dict):
                raise ApiError("InvalidArgument", "the body must be a JSON object")
            enabled = data.get("asyncTask", False)
            if not isinstance(enabled, bool):
                raise ApiError("InvalidArgument", f"asyncTask must be true or false, got {enabled!r}")
            stamp = formatdate(self.backend.clock.now(), usegmt=True)
            created = (fn.async_config or {}).get("createdTime", stamp)
            config = {**data, "asyncTask": enabled, "functionArn": arn, "createdTime": created,
                      "lastModifiedTime": stamp}
            self.backend.set_async_task(service, name, enabled, config)
            return self._ok(config)
        if fn.async_config is None:
            raise ApiError("AsyncConfigNotExists", f"async invoke config of function '{function}' does not exist")
        if request.method == "DELETE":
            self.backend.set_async_task(service, name, False, None)
            return Response(204)
        return self._ok(fn.async_config)


_FC3_CODES = {
    "ServiceNotFound": "FunctionNotFound",
    "StatefulAsyncInvocationNotFound": "AsyncTaskNotFound",
    "StatefulAsyncInvocationAlreadyExists": "AsyncTaskAlreadyExists",
}


def _fc3_code(exc: EmulatorError) -> tuple[str, str]:
    """A backend (2.0-worded) error as FC 3.0 says it."""
    code = _FC3_CODES.get(exc.code, exc.code)
    message = exc.message.replace("stateful async invocation", "async task")
    if exc.code == "ServiceNotFound":
        message = message.replace("service", "function (the service part of service$function)", 1)
    return code, message


def _header_value(value: Optional[str]) -> Optional[str]:
    """A header value as sent, or JSON-decoded when a client JSON-encoded it (``"Async"`` with quotes)."""
    if value is None:
        return None
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            decoded = json.loads(text)
        except ValueError:
            return value
        if isinstance(decoded, str):
            return decoded
    return value


def _key_id_of(header: Optional[str]) -> Optional[str]:
    parsed = signing.parse_authorization(header or "")
    if parsed:
        return parsed[0]
    acs3 = signing.parse_acs3_authorization(header)
    return acs3.access_key_id if acs3 else None
