"""What the identity stand-ins record and hand out, and the shape of their HTTP answers."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from ...credentials import Credentials

__all__ = ["IdentityRequest", "IssuedCredentials", "Answer", "TIMESTAMP", "json_answer", "text_answer",
           "credential_fields"]

TIMESTAMP = "%Y-%m-%dT%H:%M:%SZ"
Answer = tuple[int, list[tuple[str, str]], bytes]  # (status, headers, body)


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



def json_answer(status: int, data: Any) -> Answer:
    return status, [("Content-Type", "application/json")], json.dumps(data).encode()


def text_answer(status: int, text: str) -> Answer:
    return status, [("Content-Type", "text/plain")], text.encode()


def credential_fields(issued: IssuedCredentials) -> dict[str, str]:
    """An issued key as STS, the metadata service and a credentials URI all spell it."""
    return {"AccessKeyId": issued.access_key_id, "AccessKeySecret": issued.access_key_secret,
            "SecurityToken": issued.security_token,
            "Expiration": time.strftime(TIMESTAMP, time.gmtime(issued.expires_at))}
