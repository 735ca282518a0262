"""IdentityServices: one loopback server for the STS, ECS metadata and credentials-URI stand-ins.

It routes each request (``/latest/...``: metadata; the URI path; else STS), applies queued failures,
records every request and issues every key (registering it with the FC emulator, if any); the
stand-ins themselves live in ``sts`` and ``metadata``.
"""

from __future__ import annotations

import json
import math
import secrets
import socket
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional
from urllib.parse import urlsplit

from ..clock import Clock, make_clock
from ..httpd import reset_connection, shutdown_connection
from .metadata import Metadata
from .records import Answer, IdentityRequest, IssuedCredentials, json_answer
from .sts import Sts

__all__ = ["IdentityServices"]


@dataclass
class _Failure:
    service: str
    status: int
    code: str
    message: str
    times: int
    reset: bool
    body: Optional[bytes] = None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "identity-stand-in"
    sys_version = ""
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        # typeshed makes timeout a ClassVar; socketserver reads it from the instance.
        self.timeout = 10.0  # type: ignore[misc]  # an idle keep-alive connection is closed after that
        super().setup()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1 << 20)) if length > 0 else b""
        status, headers, payload, reset = self.server.services.answer(self.command, self.path, self.headers, body)
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
        self._issued: dict[str, IssuedCredentials] = {}
        self._issued_order: list[IssuedCredentials] = []
        self.sts = Sts(self.clock, issue=self._issue, record=self._record, find_issued=self._find_issued,
                       max_skew=max_skew)
        self.metadata = Metadata(self.clock, issue=self._issue, record=self._record)
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
        return f"IdentityServices({where}, {self.sts.role_count} roles, {len(self.issued)} keys issued)"

    # --- setup ---------------------------------------------------------------------------------

    def add_key(self, access_key_id: str, access_key_secret: str, security_token: Optional[str] = None) -> None:
        """A long-term key (or a fixed STS one) allowed to call AssumeRole."""
        self.sts.add_key(access_key_id, access_key_secret, security_token)

    def add_role(self, role_arn: str, *, max_duration: int = 43200, external_id: Optional[str] = None) -> str:
        return self.sts.add_role(role_arn, max_duration=max_duration, external_id=external_id)

    def add_oidc_provider(self, provider_arn: str, *tokens: str) -> str:
        """An OIDC provider and the tokens it vouches for (add more with :meth:`accept_oidc_token`)."""
        return self.sts.add_oidc_provider(provider_arn, *tokens)

    def accept_oidc_token(self, provider_arn: str, token: str) -> None:
        self.sts.accept_oidc_token(provider_arn, token)

    def revoke_oidc_token(self, provider_arn: str, token: str) -> None:
        self.sts.revoke_oidc_token(provider_arn, token)

    def set_ecs_role(self, role_name: Optional[str], *, imdsv2_required: bool = False,
                     token_endpoint: bool = True) -> None:
        """The RAM role attached to the "instance" (None: none attached)."""
        self.metadata.set_ecs_role(role_name, imdsv2_required=imdsv2_required, token_endpoint=token_endpoint)

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

    def answer(self, method: str, raw_path: str, headers: Any, body: bytes) -> tuple[int, list, bytes, bool]:
        """(status, headers, body, reset the connection) for one request: a queued failure, or the stand-in's."""
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
            return json_answer(failure.status, {"RequestId": str(uuid.uuid4()), "Code": failure.code,
                                                "Message": failure.message}) + (False,)
        answer: Answer
        if service == "imds":
            answer = self.metadata.imds(method, path, headers)
        elif service == "uri":
            answer = self.metadata.uri(method)
        else:
            answer = self.sts.answer(method, parts.query, headers, body)
        return answer + (False,)

    def _find_issued(self, access_key_id: str) -> Optional[IssuedCredentials]:
        with self._lock:
            return self._issued.get(access_key_id)

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
