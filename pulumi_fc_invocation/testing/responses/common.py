"""What every API revision shares: the request and response, FC's error codes, paging, invoke, STS.

:class:`Revision` is the base of one revision's HTTP handling (moto's responses class per protocol):
it answers the routes ``urls.py`` names (``on_get``, ``on_stop``, ``on_list``, ``on_invoke``) over the
one backend, through a few hooks a revision fills in: how it authenticates, where the qualifier
rides (``address``), how it renders a task and an error body, and its header names. Behaviour the
revisions share, and where the emulator had to choose:

List: ``limit`` defaults to 20 (FC's default for its list APIs), 1-100; ``sortOrderByTime`` defaults
to ``desc``; ``status``, ``startedTimeBegin``/``End`` (ms) filter; the payload is left out of items
unless ``includePayload=true`` (any case: the FC 3.0 SDK sends ``True``); ``nextToken`` is opaque
(keyset: it survives new invocations between pages), bound to the sort order, and absent on the
last page.

Invoke: an ``Async`` invocation type answers 202 with the task id header (``inv-`` + uuid hex when
the caller gave none); payload limit 128 KiB (``EntityTooLarge``). Without the header (or ``Sync``)
the scripted outcome is returned at once: 200 with the return payload, or for ``Failed`` 200 with
the error-type header ``UnhandledInvocationError`` and ``{"errorMessage", "errorType"}``, as FC
reports function errors.

STS, on every revision: a key registered with a token needs that token, a key without one must not
send one -> 403 ``InvalidSecurityToken``; a key past its expiry (on the emulator's clock) -> 403
``SecurityTokenExpired``. FC's public error table lists no STS codes; these two are the emulator's
choice (the names other Alibaba Cloud services use). The date-skew check compares with **real**
wall time: clients sign with the machine's real time, and a virtual clock parked at a fixed
instant would otherwise reject every request after 15 virtual minutes.

Independent of sockets (``httpd`` feeds a :class:`Request` and writes the :class:`Response`),
so it can be unit-tested without a network.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Optional
from urllib.parse import parse_qsl, unquote

from ...errors import InvalidArgumentError
from ...fc2 import INVOCATION_RULE, validate_invocation_id
from ...models import InvocationStatus
from ..codes import STATUS_FOR_CODE
from ..keys import AccessKey, KeyStore
from ..models import EmulatorError, FcBackend, InvocationState
from ..urls import API_VERSION

__all__ = ["Request", "Response", "RequestInfo", "ApiError", "Revision", "Address", "KNOWN_STATUSES",
           "ASYNC_PAYLOAD_LIMIT", "DEFAULT_LIST_LIMIT", "MAX_SKEW", "JSON", "json_body", "shared_fields", "render_item",
           "header_value"]

KNOWN_STATUSES = tuple(status.value for status in InvocationStatus)  # FC's, as the client reads them
ASYNC_PAYLOAD_LIMIT = 128 * 1024
DEFAULT_LIST_LIMIT = 20
MAX_SKEW = 900.0
JSON = "application/json; charset=utf-8"


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


def json_body(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def shared_fields(state: InvocationState) -> dict[str, Any]:
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


def render_item(state: InvocationState, head: dict[str, Any], error_key: str, payload_key: str,
                include_payload: bool) -> dict[str, Any]:
    """One task's JSON: the revision's naming keys (``head``), its error and payload keys, the shared rest."""
    body: dict[str, Any] = {**head, error_key: state.invocation_error_message, **shared_fields(state)}
    if include_payload:
        body[payload_key] = state.invocation_payload
    return body


def header_value(value: Optional[str]) -> Optional[str]:
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


Address = tuple[Optional[str], Optional[str], str]  # (service or None for FC 3.0, qualifier, function)


class Revision:
    """One API revision's HTTP handling over the shared backend; subclasses fill in the hooks.

    A new revision is a subclass in a room of its own, its routes in ``urls.py`` and one line in
    ``dispatch.REVISIONS``.
    """

    version: ClassVar[str]
    list_key: ClassVar[str] = "invocations"  # the list body's key
    prefix_param: ClassVar[str] = "invocationIdPrefix"  # the list's id-prefix query parameter
    task_id_header: ClassVar[str] = "X-Fc-Stateful-Async-Invocation-Id"
    kind_header: ClassVar[str] = "X-Fc-Invocation-Type"
    error_header: ClassVar[str] = "X-Fc-Error-Type"
    payload_on_get = True  # whether Get answers the payload (FC 3.0's may be switched off: see ``fc3``)

    def __init__(self, backend: FcBackend, keys: KeyStore, account_id: str, region: str,
                 max_skew: float = MAX_SKEW) -> None:
        self.backend = backend
        self.keys = keys
        self.account_id = account_id
        self.region = region
        self.max_skew = max_skew

    # --- hooks ----------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> None:
        raise NotImplementedError

    def function_of(self, params: dict[str, Any]) -> tuple[Optional[str], str]:
        """(service, function) a route's path names."""
        return params["service"], params["function"]

    def qualifier_of(self, request: Request, params: dict[str, Any]) -> Optional[str]:
        raise NotImplementedError

    def address(self, request: Request, params: dict[str, Any]) -> Address:
        """(service, qualifier, function) a route's request names."""
        service, function = self.function_of(params)
        return service, self.qualifier_of(request, params), function

    def render(self, state: InvocationState, include_payload: bool = True) -> dict[str, Any]:
        raise NotImplementedError

    def error_body(self, code: str, message: str, request_id: str) -> dict[str, Any]:
        return {"ErrorCode": code, "ErrorMessage": message}

    def translate(self, exc: EmulatorError) -> tuple[str, str]:
        """A backend (FC 2.0-worded) error as this revision says it."""
        return exc.code, exc.message

    def header(self, request: Request, name: str) -> Optional[str]:
        return request.header(name)

    def invoke_options(self, request: Request) -> bool:
        """Checked first; True switches task mode on for this one invocation."""
        return False

    def check_task_id(self, task_id: str) -> None:
        """Checked after the function, before the qualifier and the invocation type."""

    def stopped(self) -> Response:
        return self.ok({})

    # --- answers --------------------------------------------------------------------------------

    def error(self, status: int, code: str, message: str, request_id: str = "") -> Response:
        return Response(status, [("Content-Type", JSON)], json_body(self.error_body(code, message, request_id)))

    @staticmethod
    def ok(data: Any, status: int = 200) -> Response:
        return Response(status, [("Content-Type", JSON)], json_body(data))

    def signing_key(self, request: Request, parse: Callable[[str], Any], key_id: Callable[[Any], str],
                    form: str) -> tuple[Any, AccessKey]:
        """(the parsed ``Authorization`` header, the key it names); FC's answers when either is missing."""
        header = request.header("Authorization")
        if not header:
            raise ApiError("MissingRequiredHeader", "required HTTP header Authorization was not specified")
        parsed = parse(header)
        if parsed is None:
            raise ApiError("SignatureNotMatch", f"the Authorization header must be '{form}'")
        key = self.keys.get(key_id(parsed))
        if key is None:
            raise ApiError("InvalidAccessKeyID", f"invalid access key ID '{key_id(parsed)}'")
        return parsed, key

    def check_token(self, key: Any, token: Optional[str]) -> None:
        """STS: expiry on the emulator's clock, then the token itself."""
        if key.is_expired(self.backend.clock.now()):
            raise ApiError("SecurityTokenExpired", "the security token has expired")
        if (token or None) != key.token:
            raise ApiError("InvalidSecurityToken", "the security token is invalid for this access key"
                           if key.token else "this access key does not take a security token")

    # --- routes ---------------------------------------------------------------------------------

    def on_get(self, request: Request, **params: Any) -> Response:
        state = self.backend.get_invocation(*self.address(request, params), params["invocation_id"])
        return self.ok(self.render(state, include_payload=self.payload_on_get))

    def on_stop(self, request: Request, **params: Any) -> Response:
        self.backend.stop_invocation(*self.address(request, params), params["invocation_id"])
        return self.stopped()

    def on_list(self, request: Request, **params: Any) -> Response:
        states, token, include = self.list_page(request.query, *self.address(request, params))
        body: dict[str, Any] = {self.list_key: [self.render(s, include) for s in states]}
        if token is not None:
            body["nextToken"] = token
        return self.ok(body)

    def on_invoke(self, request: Request, **params: Any) -> Response:
        enable = self.invoke_options(request)
        service, function = self.function_of(params)
        task_id = self.header(request, self.task_id_header) or None
        if task_id is not None:
            self.check_task_id(task_id)
        qualifier = self.qualifier_of(request, params)
        response, invocation_id = self.run_invoke(request, service, qualifier, function,
                                                  kind=self.header(request, self.kind_header),
                                                  task_id=task_id, enable=enable)
        return response or Response(202, [(self.task_id_header, invocation_id)])

    # --- shared by the routes -------------------------------------------------------------------

    def list_page(self, q: dict[str, str], service: Optional[str], qualifier: Optional[str],
                  function: str) -> tuple[list[InvocationState], Optional[str], bool]:
        """(states, nextToken or None, include payload) of one list page: the filters all revisions share."""
        limit = _int(q, "limit", DEFAULT_LIST_LIMIT)
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
        prefix = q.get(self.prefix_param) or None
        if prefix is not None and len(prefix) > 128:
            raise ApiError("InvalidArgument", f"{self.prefix_param} must be at most 128 characters")
        begin = _int(q, "startedTimeBegin", None)
        end = _int(q, "startedTimeEnd", None)
        descending = order == "desc"
        token = q.get("nextToken") or None
        after = _decode_token(token, descending) if token else None
        states, more = self.backend.list_invocations(
            service, qualifier, function, status=status, prefix=prefix, started_begin_ms=begin,
            started_end_ms=end, descending=descending, after=after, limit=limit,
        )
        return states, (_encode_token(more, descending) if more is not None else None), include == "true"

    def run_invoke(self, request: Request, service: Optional[str], qualifier: Optional[str], function: str, *,
                   kind: Optional[str], task_id: Optional[str], enable: bool = False) -> tuple[Optional[Response], str]:
        """Sync: (the response, ""); async: (None, the task id) once started (or run untracked)."""
        kind = (kind or "Sync").strip()
        if kind.lower() not in ("sync", "async"):
            raise ApiError("InvalidArgument", f"{self.kind_header} must be Sync or Async, got {kind[:40]!r}")
        payload = request.body.decode("utf-8", errors="replace")
        if kind.lower() == "sync":
            script = self.backend.invoke_sync(service, qualifier, function, payload)
            if script.outcome == "Failed":
                body = json_body({"errorMessage": script.error_message or "UnhandledException",
                                  "errorType": "UnhandledException"})
                return Response(200, [("Content-Type", JSON), (self.error_header, "UnhandledInvocationError")],
                                body), ""
            return Response(200, [("Content-Type", "application/octet-stream")],
                            (script.return_payload or "").encode("utf-8")), ""
        if len(request.body) > ASYNC_PAYLOAD_LIMIT:
            raise ApiError("EntityTooLarge", f"payload size exceeds maximum allowed size ({ASYNC_PAYLOAD_LIMIT} bytes)")
        if task_id is not None:
            try:
                validate_invocation_id(task_id, self.task_id_header)
            except InvalidArgumentError:
                raise ApiError("InvalidArgument",
                               f"invalid {self.task_id_header} {task_id[:140]!r}: " + INVOCATION_RULE) from None
        invocation_id, _recorded = self.backend.invoke_async(service, qualifier, function, payload, task_id,
                                                             request_id=getattr(request, "request_id", None),
                                                             enable=enable)
        return None, invocation_id
