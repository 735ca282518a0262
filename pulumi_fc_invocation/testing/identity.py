"""Stand-ins for the services role-based credentials come from: STS, the ECS metadata service, a credentials URI.

One real HTTP server on loopback serves all three, on the FC emulator's clock, and registers every key
it issues with the emulator (``FcEmulator.add_credentials(..., expires_at=...)``), so FC answers
``SecurityTokenExpired`` to a client that signs with a token past its expiry::

    with FcEmulator(clock="virtual") as fc, IdentityServices(fc, lifetime=900) as ids:
        ids.add_role("acs:ram::1234567890123456:role/deploy")
        ids.add_oidc_provider("acs:ram::1234567890123456:oidc-provider/ci", "eyJ...token")
        env = ids.oidc_env("acs:ram::1234567890123456:role/deploy", "acs:ram::...:oidc-provider/ci", token_file)

- **STS** (``sts_endpoint``, RPC 2015-04-01, GET or form POST): ``AssumeRole`` verifies the RPC signature
  1.0 (HMAC-SHA1, RFC 3986 encoding), the nonce (no replays), the timestamp (±15 min of real time, as
  the client signs with real time), the caller's key (a registered base key, or a key this STS issued,
  with its ``SecurityToken``, unexpired), the role, its ``ExternalId``, ``RoleSessionName``,
  ``DurationSeconds`` (900..the role's maximum) and ``Policy``; ``AssumeRoleWithOIDC`` is anonymous and
  checks the provider and the token. ``lifetime`` overrides the requested duration of what is issued
  (very short keys for tests). Codes follow the STS troubleshooting page where it names one; the OIDC
  ones (``AuthenticationFail.OIDCToken.Invalid``, ``EntityNotExist.OIDCProvider``) and
  ``EntityNotExist.Role`` are the stand-in's choice.
- **ECS metadata** (``metadata_endpoint``): ``PUT /latest/api/token`` (IMDSv2), then
  ``GET /latest/meta-data/ram/security-credentials/[role]``; ``set_ecs_role(..., imdsv2_required=True)``
  refuses token-less (IMDSv1) reads, ``token_endpoint=False`` is an old service without tokens.
- **Credentials URI** (``credentials_uri``): ``GET`` answers ``{"Code": "Success", ...}``.

``fail_next(service, ...)`` queues failures (an HTTP error, a dropped connection, a given body);
``requests`` lists what was asked, ``issued`` what was handed out. Secrets never appear in a repr.

Clients judge expiry on the waiters' clock (``waiter.use_clock``): with a virtual emulator, use
``use_clock(AutoAdvanceClock(fc.clock))`` (the ``fc_emulator`` fixture does), or a client would keep a
key the emulator already considers expired.
"""

from __future__ import annotations

import calendar
import json
import math
import re
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional
from urllib.parse import parse_qsl, urlsplit

from ..credentials import Credentials, sts_signature, sts_string_to_sign
from .clock import Clock, make_clock
from .httpd import reset_connection, shutdown_connection

__all__ = ["IdentityServices", "IdentityRequest", "IssuedCredentials", "STS_ERROR_STATUS"]

_ROLE_ARN = re.compile(r"acs:ram::([0-9]{1,32}):role/([A-Za-z0-9._@+=,/-]{1,128})")
_SESSION_NAME = re.compile(r"[A-Za-z0-9.@_-]{2,64}")
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")
_TIMESTAMP = "%Y-%m-%dT%H:%M:%SZ"

STS_ERROR_STATUS = {
    "MissingParameter": 400, "InvalidParameter": 400, "InvalidParameter.RoleSessionName": 400,
    "InvalidParameter.DurationSeconds": 400, "InvalidParameter.PolicyGrammar": 400,
    "InvalidParameter.ExternalId": 400, "SignatureDoesNotMatch": 400, "SignatureNonceUsed": 400,
    "InvalidTimeStamp.Expired": 400, "InvalidTimeStamp.Format": 400, "UnsupportedSignatureMethod": 400,
    "InvalidAction.NotFound": 400, "InvalidVersion": 400, "AuthenticationFail.OIDCToken.Invalid": 400,
    "InvalidAccessKeyId.NotFound": 404, "EntityNotExist.Role": 404, "EntityNotExist.OIDCProvider": 404,
    "MissingSecurityToken": 400, "InvalidSecurityToken.Expired": 400, "InvalidSecurityToken.Mismatch": 400,
    "NoPermission": 403, "Throttling.User": 400, "ServiceUnavailable": 503,
}


@dataclass(frozen=True)
class IdentityRequest:
    """One request the stand-in answered. ``oidc_token`` is the token sent (for rotation tests)."""

    service: str  # "sts", "imds", "uri"
    action: str  # AssumeRole, AssumeRoleWithOIDC, token, role-name, credentials, uri
    status: int
    method: str = "GET"
    role: Optional[str] = None
    access_key_id: Optional[str] = None
    imds_token: bool = False
    duration: Optional[int] = None
    oidc_token: Optional[str] = field(default=None, repr=False)
    time: float = 0.0


@dataclass(frozen=True)
class IssuedCredentials:
    """A key the stand-in handed out, with its expiry on the emulator's clock."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str = field(repr=False)
    expires_at: float
    via: str
    role: Optional[str] = None

    def credentials(self) -> Credentials:
        return Credentials(self.access_key_id, self.access_key_secret, self.security_token)


@dataclass
class _Role:
    max_duration: int
    external_id: Optional[str]


@dataclass
class _Failure:
    service: str
    status: int
    code: str
    message: str
    times: int
    reset: bool
    body: Optional[bytes] = None


class _ApiError(Exception):
    def __init__(self, code: str, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.code, self.message = code, message
        self.status = status or STS_ERROR_STATUS.get(code, 400)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "identity-stand-in"
    sys_version = ""
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        self.timeout = 10.0  # an idle keep-alive connection is closed after that
        super().setup()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1 << 20)) if length > 0 else b""
        status, headers, payload, reset = self.server.services._answer(self.command, self.path, self.headers, body)
        if reset:
            self.close_connection = True
            reset_connection(self.connection)
            return
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = _handle


class _Server(ThreadingHTTPServer):
    """Keeps track of open connections so that ``stop()`` closes idle keep-alive ones too."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], services: "IdentityServices") -> None:
        self.services = services
        self.open: set[socket.socket] = set()
        self.open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.open_lock:
            self.open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.open_lock:
            self.open.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        with self.open_lock:
            sockets = list(self.open)
        for sock in sockets:
            shutdown_connection(sock)


class IdentityServices:
    """STS, ECS metadata and a credentials URI on one loopback server; see the module docstring.

    ``fc``: an :class:`~pulumi_fc_invocation.testing.FcEmulator` whose clock is used and which learns
    every issued key (its own access key becomes a base key AssumeRole accepts). ``lifetime``: seconds
    every issued key lives, whatever was asked (None: as asked; ECS and URI keys then live 6 hours).
    """

    def __init__(self, fc: Any = None, *, clock: Any = None, host: str = "127.0.0.1", port: int = 0,
                 lifetime: Optional[float] = None, account_id: Optional[str] = None, max_skew: float = 900.0) -> None:
        if lifetime is not None and (isinstance(lifetime, bool) or not isinstance(lifetime, (int, float))
                                     or not 0 < lifetime < math.inf):
            raise ValueError(f"lifetime must be a positive number of seconds, not {lifetime!r}")
        self.fc = fc
        self.clock: Clock = fc.clock if fc is not None and clock is None else make_clock(clock or "real")
        self.host, self.port = host, port
        self.lifetime = lifetime
        self.account_id = account_id or (fc.account_id if fc is not None else "1234567890123456")
        self.max_skew = max_skew
        self._lock = threading.Lock()
        self._base_keys: dict[str, tuple[str, Optional[str]]] = {}
        self._issued: dict[str, IssuedCredentials] = {}
        self._issued_order: list[IssuedCredentials] = []
        self._roles: dict[str, _Role] = {}
        self._oidc: dict[str, set[str]] = {}
        self._nonces: set[str] = set()
        self._ecs_role: Optional[str] = None
        self._imdsv2_required = False
        self._token_endpoint = True
        self._imds_tokens: dict[str, float] = {}
        self.uri_path = "/credentials"
        self._failures: list[_Failure] = []
        self._requests: list[IdentityRequest] = []
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None
        if fc is not None:
            self.add_key(fc.credentials.access_key_id, fc.credentials.access_key_secret, fc.credentials.security_token)

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> "IdentityServices":
        if self._server is not None:
            raise RuntimeError("IdentityServices already started")
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="identity-stand-in", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_all()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None

    def __enter__(self) -> "IdentityServices":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("IdentityServices is not started: use `with IdentityServices(...) as ids:`")
        return f"http://{self.host}:{self.port}"

    sts_endpoint = metadata_endpoint = endpoint

    @property
    def credentials_uri(self) -> str:
        return self.endpoint + self.uri_path

    def __repr__(self) -> str:
        where = self.endpoint if self._server is not None else "not started"
        return f"IdentityServices({where}, {len(self._roles)} roles, {len(self._issued_order)} keys issued)"

    # --- setup ---------------------------------------------------------------------------------

    def add_key(self, access_key_id: str, access_key_secret: str, security_token: Optional[str] = None) -> None:
        """A long-term key (or a fixed STS one) allowed to call AssumeRole."""
        with self._lock:
            self._base_keys[access_key_id] = (access_key_secret, security_token or None)

    def add_role(self, role_arn: str, *, max_duration: int = 43200, external_id: Optional[str] = None) -> str:
        if not _ROLE_ARN.fullmatch(role_arn):
            raise ValueError(f"not a role ARN: {role_arn!r}")
        with self._lock:
            self._roles[role_arn] = _Role(int(max_duration), external_id)
        return role_arn

    def add_oidc_provider(self, provider_arn: str, *tokens: str) -> str:
        """An OIDC provider and the tokens it vouches for (add more with :meth:`accept_oidc_token`)."""
        with self._lock:
            self._oidc.setdefault(provider_arn, set()).update(tokens)
        return provider_arn

    def accept_oidc_token(self, provider_arn: str, token: str) -> None:
        with self._lock:
            self._oidc.setdefault(provider_arn, set()).add(token)

    def revoke_oidc_token(self, provider_arn: str, token: str) -> None:
        with self._lock:
            self._oidc.get(provider_arn, set()).discard(token)

    def set_ecs_role(self, role_name: Optional[str], *, imdsv2_required: bool = False,
                     token_endpoint: bool = True) -> None:
        """The RAM role attached to the "instance" (None: none attached)."""
        with self._lock:
            self._ecs_role = role_name
            self._imdsv2_required = imdsv2_required
            self._token_endpoint = token_endpoint

    def fail_next(self, service: str = "*", status: int = 503, code: str = "ServiceUnavailable", *,
                  message: str = "the service is unavailable (injected)", times: int = 1, reset: bool = False,
                  body: Any = None) -> None:
        """The next ``times`` requests to ``service`` ("sts", "imds", "uri" or "*") fail so: ``reset`` drops
        the connection; ``body`` (bytes, text or JSON-able) is answered as is with ``status`` instead of an
        error body (a half-formed answer, say)."""
        if service not in ("sts", "imds", "uri", "*"):
            raise ValueError(f"service must be sts, imds, uri or *, not {service!r}")
        with self._lock:
            if body is not None and not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            self._failures.append(_Failure(service, status, code, message, times, reset,
                                           body.encode() if isinstance(body, str) else body))

    def oidc_env(self, role_arn: str, provider_arn: str, token_file: Any, **extra: str) -> dict[str, str]:
        """Environment variables for the OIDC source through this STS."""
        return {"ALIBABA_CLOUD_ROLE_ARN": role_arn, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": provider_arn,
                "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(token_file), "ALIBABA_CLOUD_STS_ENDPOINT": self.sts_endpoint,
                **extra}

    # --- inspection ----------------------------------------------------------------------------

    @property
    def requests(self) -> list[IdentityRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def issued(self) -> list[IssuedCredentials]:
        with self._lock:
            return list(self._issued_order)

    def count(self, action: Optional[str] = None, status: Optional[int] = 200) -> int:
        return sum(1 for r in self.requests if (action is None or r.action == action)
                   and (status is None or r.status == status))

    # --- answering -----------------------------------------------------------------------------

    def _record(self, **kwargs: Any) -> None:
        with self._lock:
            self._requests.append(IdentityRequest(time=self.clock.now(), **kwargs))

    def _take_failure(self, service: str) -> Optional[_Failure]:
        with self._lock:
            for failure in self._failures:
                if failure.service in (service, "*") and failure.times > 0:
                    failure.times -= 1
                    if failure.times == 0:
                        self._failures.remove(failure)
                    return failure
        return None

    def _answer(self, method: str, raw_path: str, headers: Any, body: bytes):
        parts = urlsplit(raw_path)
        path = parts.path
        if path.startswith("/latest/"):
            service = "imds"
        elif path == self.uri_path:
            service = "uri"
        else:
            service = "sts"
        failure = self._take_failure(service)
        if failure is not None:
            self._record(service=service, action="failure", status=failure.status, method=method)
            if failure.reset:
                return 0, [], b"", True
            if failure.body is not None:
                return failure.status, [("Content-Type", "application/json")], failure.body, False
            return self._json(failure.status, {"RequestId": str(uuid.uuid4()), "Code": failure.code,
                                               "Message": failure.message}) + (False,)
        if service == "imds":
            return self._imds(method, path, headers) + (False,)
        if service == "uri":
            return self._uri(method) + (False,)
        return self._sts(method, parts.query, headers, body) + (False,)

    @staticmethod
    def _json(status: int, data: Any) -> tuple[int, list[tuple[str, str]], bytes]:
        return status, [("Content-Type", "application/json")], json.dumps(data).encode()

    @staticmethod
    def _text(status: int, text: str) -> tuple[int, list[tuple[str, str]], bytes]:
        return status, [("Content-Type", "text/plain")], text.encode()

    def _issue(self, via: str, role: Optional[str], duration: float) -> IssuedCredentials:
        lifetime = self.lifetime if self.lifetime is not None else duration
        expires = float(math.floor(self.clock.now() + lifetime))
        issued = IssuedCredentials(access_key_id="STS.NU" + secrets.token_hex(10),
                                   access_key_secret=secrets.token_urlsafe(24),
                                   security_token="CAIS" + secrets.token_urlsafe(48),
                                   expires_at=expires, via=via, role=role)
        with self._lock:
            self._issued[issued.access_key_id] = issued
            self._issued_order.append(issued)
        if self.fc is not None:
            self.fc.add_credentials(issued.access_key_id, issued.access_key_secret, issued.security_token,
                                    expires_at=expires)
        return issued

    @staticmethod
    def _wire(issued: IssuedCredentials) -> dict[str, str]:
        return {"AccessKeyId": issued.access_key_id, "AccessKeySecret": issued.access_key_secret,
                "SecurityToken": issued.security_token,
                "Expiration": time.strftime(_TIMESTAMP, time.gmtime(issued.expires_at))}

    # STS

    def _sts(self, method: str, query: str, headers: Any, body: bytes):
        record: dict[str, Any] = {"service": "sts", "method": method, "action": "?"}
        try:
            params = self._params(method, query, headers, body)
            action = params.get("Action", "")
            record["action"] = action or "?"
            record["role"] = params.get("RoleArn")
            if params.get("Version") != "2015-04-01":
                raise _ApiError("InvalidVersion", "Specified parameter Version is not valid.")
            self._check_timestamp(params)
            if action == "AssumeRole":
                record["access_key_id"] = params.get("AccessKeyId")
                data = self._assume_role(method, params, record)
            elif action == "AssumeRoleWithOIDC":
                record["oidc_token"] = params.get("OIDCToken")
                data = self._assume_role_with_oidc(params, record)
            else:
                raise _ApiError("InvalidAction.NotFound", f"Specified api is not found, please check your url and "
                                f"method: {action[:40]!r}")
        except _ApiError as exc:
            self._record(status=exc.status, **record)
            return self._json(exc.status, {"RequestId": str(uuid.uuid4()), "HostId": "sts.aliyuncs.com",
                                           "Code": exc.code, "Message": exc.message})
        self._record(status=200, **record)
        return self._json(200, data)

    @staticmethod
    def _params(method: str, query: str, headers: Any, body: bytes) -> dict[str, str]:
        pairs = parse_qsl(query, keep_blank_values=True)
        if method == "POST":
            if "application/x-www-form-urlencoded" not in (headers.get("Content-Type") or ""):
                raise _ApiError("InvalidParameter", "a POST body must be application/x-www-form-urlencoded")
            pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        elif method != "GET":
            raise _ApiError("InvalidParameter", f"method {method} is not allowed")
        params: dict[str, str] = {}
        for name, value in pairs:
            if name in params:
                raise _ApiError("InvalidParameter", f"parameter {name} appears twice")
            params[name] = value
        return params

    def _check_timestamp(self, params: dict[str, str]) -> None:
        stamp = params.get("Timestamp")
        if not stamp:
            raise _ApiError("MissingParameter", "The input parameter Timestamp that is mandatory for processing "
                            "this request is not supplied.")
        try:
            signed_at = calendar.timegm(time.strptime(stamp, _TIMESTAMP))
        except ValueError:
            raise _ApiError("InvalidTimeStamp.Format", "Specified time stamp or date value is not well "
                            "formatted.") from None
        if abs(time.time() - signed_at) > self.max_skew:
            raise _ApiError("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")

    def _common(self, params: dict[str, str], record: dict[str, Any]) -> tuple[str, _Role, str, int]:
        role_arn = params.get("RoleArn", "")
        if not role_arn:
            raise _ApiError("MissingParameter", "RoleArn is mandatory for this action.")
        session = params.get("RoleSessionName", "")
        if not _SESSION_NAME.fullmatch(session):
            raise _ApiError("InvalidParameter.RoleSessionName", "The parameter RoleSessionName is wrongly "
                            "formed: 2-64 characters of letters, digits and . @ - _")
        with self._lock:
            role = self._roles.get(role_arn)
        if role is None:
            raise _ApiError("EntityNotExist.Role", f"The role does not exist: {role_arn}.")
        try:
            duration = int(params.get("DurationSeconds", "3600"))
        except ValueError:
            duration = -1
        if not 900 <= duration <= role.max_duration:
            raise _ApiError("InvalidParameter.DurationSeconds", f"The Min/Max value of DurationSeconds is "
                            f"15min/{role.max_duration // 60}min.")
        record["duration"] = duration
        policy = params.get("Policy")
        if policy is not None:
            try:
                ok = 1 <= len(policy) <= 2048 and isinstance(json.loads(policy), dict)
            except ValueError:
                ok = False
            if not ok:
                raise _ApiError("InvalidParameter.PolicyGrammar", "The parameter Policy has not passed grammar "
                                "check.")
        return role_arn, role, session, duration

    def _assume_role(self, method: str, params: dict[str, str], record: dict[str, Any]) -> dict[str, Any]:
        for name in ("AccessKeyId", "Signature", "SignatureNonce", "SignatureMethod", "SignatureVersion"):
            if not params.get(name):
                raise _ApiError("MissingParameter", f"The input parameter {name} that is mandatory for processing "
                                "this request is not supplied.")
        if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
            raise _ApiError("UnsupportedSignatureMethod", "Specified signature method is not supported.")
        key_id = params["AccessKeyId"]
        with self._lock:
            base = self._base_keys.get(key_id)
            issued = self._issued.get(key_id)
        if base is not None:
            secret, token = base
        elif issued is not None:
            secret, token = issued.access_key_secret, issued.security_token
        else:
            raise _ApiError("InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        expected = sts_signature(method, params, secret)
        if not secrets.compare_digest(expected.encode(), params["Signature"].encode()):
            raise _ApiError("SignatureDoesNotMatch", "Specified signature is not matched with our calculation. "
                            "server string to sign is:" + sts_string_to_sign(method, params))
        with self._lock:
            if params["SignatureNonce"] in self._nonces:
                raise _ApiError("SignatureNonceUsed", "Specified signature nonce was used already.")
            self._nonces.add(params["SignatureNonce"])
        if token is not None and not params.get("SecurityToken"):
            raise _ApiError("MissingSecurityToken", "SecurityToken is missing for a temporary access key.")
        if token is not None and params["SecurityToken"] != token:
            raise _ApiError("InvalidSecurityToken.Mismatch", "Specified SecurityToken mismatch with the AccessKey.")
        if issued is not None and self.clock.now() >= issued.expires_at:
            raise _ApiError("InvalidSecurityToken.Expired", "Specified SecurityToken is expired.")
        role_arn, role, session, duration = self._common(params, record)
        external = params.get("ExternalId")
        if external is not None and not _EXTERNAL_ID.fullmatch(external):
            raise _ApiError("InvalidParameter.ExternalId", "The parameter ExternalId is wrongly formed.")
        if role.external_id is not None and external != role.external_id:
            raise _ApiError("NoPermission", "You are not authorized to do this action. You should be authorized "
                            "by RAM (the role's trust policy requires another ExternalId).")
        return self._sts_answer(role_arn, session, self._issue("AssumeRole", role_arn, duration))

    def _assume_role_with_oidc(self, params: dict[str, str], record: dict[str, Any]) -> dict[str, Any]:
        provider = params.get("OIDCProviderArn", "")
        token = params.get("OIDCToken", "")
        if not provider or not token:
            raise _ApiError("MissingParameter", "OIDCProviderArn and OIDCToken are mandatory for this action.")
        with self._lock:
            accepted = self._oidc.get(provider)
        if accepted is None:
            raise _ApiError("EntityNotExist.OIDCProvider", "The OIDC provider does not exist.")
        if token not in accepted:
            raise _ApiError("AuthenticationFail.OIDCToken.Invalid", "The OIDC token is invalid or expired.")
        role_arn, _, session, duration = self._common(params, record)
        data = self._sts_answer(role_arn, session, self._issue("AssumeRoleWithOIDC", role_arn, duration))
        now = self.clock.now()
        data["OIDCTokenInfo"] = {"Subject": "system:serviceaccount:default:deploy", "Issuer": "https://oidc.example",
                                 "ClientIds": "sts.aliyuncs.com",
                                 "IssuanceTime": time.strftime(_TIMESTAMP, time.gmtime(now)),
                                 "ExpirationTime": time.strftime(_TIMESTAMP, time.gmtime(now + 3600))}
        data["SourceIdentity"] = ""
        return data

    def _sts_answer(self, role_arn: str, session: str, issued: IssuedCredentials) -> dict[str, Any]:
        match = _ROLE_ARN.fullmatch(role_arn)
        assert match is not None
        return {"RequestId": str(uuid.uuid4()), "Credentials": self._wire(issued),
                "AssumedRoleUser": {"Arn": f"acs:ram::{match.group(1)}:assumed-role/{match.group(2)}/{session}",
                                    "AssumedRoleId": f"{secrets.randbelow(10**18)}:{session}"}}

    # ECS metadata

    def _imds(self, method: str, path: str, headers: Any):
        now = self.clock.now()
        if path == "/latest/api/token":
            if method != "PUT":
                self._record(service="imds", action="token", status=405, method=method)
                return self._text(405, "method not allowed")
            if not self._token_endpoint:
                self._record(service="imds", action="token", status=404, method=method)
                return self._text(404, "Not Found")
            try:
                ttl = int(headers.get("X-aliyun-ecs-metadata-token-ttl-seconds") or "")
            except ValueError:
                ttl = 0
            if not 1 <= ttl <= 21600:
                self._record(service="imds", action="token", status=400, method=method)
                return self._text(400, "X-aliyun-ecs-metadata-token-ttl-seconds must be 1..21600")
            token = secrets.token_urlsafe(32)
            with self._lock:
                self._imds_tokens[token] = now + ttl
            self._record(service="imds", action="token", status=200, method=method)
            return self._text(200, token)
        prefix = "/latest/meta-data/ram/security-credentials/"
        token = headers.get("X-aliyun-ecs-metadata-token")
        action = "role-name" if path == prefix else "credentials"
        if not path.startswith(prefix) or method != "GET":
            self._record(service="imds", action=action, status=404, method=method)
            return self._text(404, "Not Found")
        with self._lock:
            valid = token is not None and self._imds_tokens.get(token, -1) > now
            role = self._ecs_role
        if token is not None and not valid:
            self._record(service="imds", action=action, status=401, method=method, imds_token=True)
            return self._text(401, "Unauthorized: the metadata token is invalid or expired")
        if token is None and self._imdsv2_required:
            self._record(service="imds", action=action, status=403, method=method)
            return self._text(403, "Forbidden: IMDSv2 (a metadata token) is required on this instance")
        if role is None or (path != prefix and path[len(prefix):] != role):
            self._record(service="imds", action=action, status=404, method=method, imds_token=token is not None)
            return self._text(404, "Not Found")
        self._record(service="imds", action=action, status=200, method=method, imds_token=token is not None,
                     role=role)
        if path == prefix:
            return self._text(200, role)
        issued = self._issue("ECS", role, 21600)
        data = {"Code": "Success", "LastUpdated": time.strftime(_TIMESTAMP, time.gmtime(now)), **self._wire(issued)}
        return self._json(200, data)

    # Credentials URI

    def _uri(self, method: str):
        if method != "GET":
            self._record(service="uri", action="uri", status=405, method=method)
            return self._text(405, "method not allowed")
        issued = self._issue("URI", None, 21600)
        self._record(service="uri", action="uri", status=200, method=method)
        return self._json(200, {"Code": "Success", **self._wire(issued)})

