"""The access keys the emulator accepts (long-term and STS ones, with their expiry on its clock).

Shared by every API revision's authentication (``responses``) and the facade (``server.FcEmulator
.add_credentials``). Secrets never appear in reprs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Optional

__all__ = ["AccessKey", "KeyStore"]


@dataclass(frozen=True)
class AccessKey:
    secret: str = field(repr=False)
    token: Optional[str] = field(default=None, repr=False)
    expired: bool = False
    expires_at: Optional[float] = None  # epoch seconds on the emulator's clock

    def is_expired(self, now: float) -> bool:
        return self.expired or (self.expires_at is not None and now >= self.expires_at)


class KeyStore:
    """Access keys the emulator accepts. Secrets never appear in reprs."""

    def __init__(self) -> None:
        self._keys: dict[str, AccessKey] = {}
        self._lock = threading.Lock()

    def add(self, key_id: str, secret: str, security_token: Optional[str] = None, expired: bool = False,
            expires_at: Optional[float] = None) -> None:
        if not key_id or not secret:
            raise ValueError("access key id and secret must be non-empty")
        if expires_at is not None and (isinstance(expires_at, bool) or not isinstance(expires_at, (int, float))
                                       or expires_at != expires_at):
            raise ValueError(f"expires_at must be epoch seconds (a number) or None, not {expires_at!r}")
        with self._lock:
            self._keys[key_id] = AccessKey(secret, security_token or None, bool(expired),
                                           None if expires_at is None else float(expires_at))

    def remove(self, key_id: str) -> bool:
        with self._lock:
            return self._keys.pop(key_id, None) is not None

    def get(self, key_id: str) -> Optional[AccessKey]:
        with self._lock:
            return self._keys.get(key_id)

    def key_ids(self) -> list[str]:
        with self._lock:
            return list(self._keys)

    def __repr__(self) -> str:
        return f"KeyStore({len(self._keys)} keys)"
