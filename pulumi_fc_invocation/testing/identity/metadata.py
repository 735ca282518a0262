"""The ECS metadata service and credentials-URI stand-ins.

- **ECS metadata**: ``PUT /latest/api/token`` (IMDSv2), then
  ``GET /latest/meta-data/ram/security-credentials/[role]``; ``set_ecs_role(..., imdsv2_required=True)``
  refuses token-less (IMDSv1) reads, ``token_endpoint=False`` is an old service without tokens.
- **Credentials URI**: ``GET`` answers ``{"Code": "Success", ...}``.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any, Callable, Optional

from ..clock import Clock
from .records import TIMESTAMP, Answer, IssuedCredentials, credential_fields, json_answer, text_answer

__all__ = ["Metadata"]


class Metadata:
    """The role attached to the "instance", its metadata tokens, and the credentials URI."""

    def __init__(self, clock: Clock, *, issue: Callable[[str, Optional[str], float], IssuedCredentials],
                 record: Callable[..., None]) -> None:
        self.clock = clock
        self.issue, self.record = issue, record
        self._lock = threading.Lock()
        self._ecs_role: Optional[str] = None
        self._imdsv2_required = False
        self._token_endpoint = True
        self._imds_tokens: dict[str, float] = {}

    def set_ecs_role(self, role_name: Optional[str], *, imdsv2_required: bool = False,
                     token_endpoint: bool = True) -> None:
        """The RAM role attached to the "instance" (None: none attached)."""
        with self._lock:
            self._ecs_role = role_name
            self._imdsv2_required = imdsv2_required
            self._token_endpoint = token_endpoint

    def imds(self, method: str, path: str, headers: Any) -> Answer:
        now = self.clock.now()
        if path == "/latest/api/token":
            if method != "PUT":
                self.record(service="imds", action="token", status=405, method=method)
                return text_answer(405, "method not allowed")
            if not self._token_endpoint:
                self.record(service="imds", action="token", status=404, method=method)
                return text_answer(404, "Not Found")
            try:
                ttl = int(headers.get("X-aliyun-ecs-metadata-token-ttl-seconds") or "")
            except ValueError:
                ttl = 0
            if not 1 <= ttl <= 21600:
                self.record(service="imds", action="token", status=400, method=method)
                return text_answer(400, "X-aliyun-ecs-metadata-token-ttl-seconds must be 1..21600")
            token = secrets.token_urlsafe(32)
            with self._lock:
                self._imds_tokens[token] = now + ttl
            self.record(service="imds", action="token", status=200, method=method)
            return text_answer(200, token)
        prefix = "/latest/meta-data/ram/security-credentials/"
        token = headers.get("X-aliyun-ecs-metadata-token")
        action = "role-name" if path == prefix else "credentials"
        if not path.startswith(prefix) or method != "GET":
            self.record(service="imds", action=action, status=404, method=method)
            return text_answer(404, "Not Found")
        with self._lock:
            valid = token is not None and self._imds_tokens.get(token, -1) > now
            role = self._ecs_role
        if token is not None and not valid:
            self.record(service="imds", action=action, status=401, method=method, imds_token=True)
            return text_answer(401, "Unauthorized: the metadata token is invalid or expired")
        if token is None and self._imdsv2_required:
            self.record(service="imds", action=action, status=403, method=method)
            return text_answer(403, "Forbidden: IMDSv2 (a metadata token) is required on this instance")
        if role is None or (path != prefix and path[len(prefix):] != role):
            self.record(service="imds", action=action, status=404, method=method, imds_token=token is not None)
            return text_answer(404, "Not Found")
        self.record(service="imds", action=action, status=200, method=method, imds_token=token is not None,
                     role=role)
        if path == prefix:
            return text_answer(200, role)
        issued = self.issue("ECS", role, 21600)
        data = {"Code": "Success", "LastUpdated": time.strftime(TIMESTAMP, time.gmtime(now)), **credential_fields(issued)}
        return json_answer(200, data)

    # Credentials URI

    def uri(self, method: str) -> Answer:
        if method != "GET":
            self.record(service="uri", action="uri", status=405, method=method)
            return text_answer(405, "method not allowed")
        issued = self.issue("URI", None, 21600)
        self.record(service="uri", action="uri", status=200, method=method)
        return json_answer(200, {"Code": "Success", **credential_fields(issued)})

