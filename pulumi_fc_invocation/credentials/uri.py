"""A credentials URI (``fc-invocation:credentialsUri`` / ``ALIBABA_CLOUD_CREDENTIALS_URI``): a local or remote
service that answers with a temporary key, as the official credentials library reads it."""

from __future__ import annotations

import json
from typing import Any, Optional
from urllib.parse import parse_qsl, urlsplit

from ..errors import ConfigurationError, InvalidResponseError, error_class_for, printable
from ..models import masking_logs
from .base import RefreshableCredentials, cached
from .context import Context, CredentialProvider, Found
from .fetch import (
    STS_TIMEOUT,
    Fetched,
    FetchProblem,
    RoleSource,
    credentials_in,
    http,
    is_loopback,
    retried_status,
    warn_plain_http,
)

__all__ = ["CredentialsUri", "check_uri", "credentials_uri", "CredentialsUriProvider"]


class CredentialsUri(RoleSource):
    action = "credentials URI"

    def __init__(self, uri: str, *, origin: str) -> None:
        self.uri, self.origin = uri, origin

    def describe(self) -> str:
        parts = urlsplit(self.uri)  # the query may hold a secret of the URI's own: never shown
        return f"credentials URI {parts.scheme}://{parts.netloc}{parts.path}"

    def key(self) -> tuple[Any, ...]:
        return ("URI", self.uri)

    def fetch(self, deadline: float) -> Fetched:
        where = self.describe()
        query = urlsplit(self.uri).query  # never shown: urllib3's request line at DEBUG masks it and its values
        with masking_logs([query, *(value for _, value in parse_qsl(query))]):
            status, _, body = http("GET", self.uri, timeout=STS_TIMEOUT, where=where, direct=is_loopback(self.uri),
                                   deadline=deadline)
        if status != 200:
            raise FetchProblem(error_class_for(status), f"HTTP {status}", status=status,
                               retryable=retried_status(status))
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise FetchProblem(InvalidResponseError, "the answer is not JSON") from None
        if not isinstance(data, dict) or data.get("Code") != "Success":
            code = data.get("Code") if isinstance(data, dict) else None
            raise FetchProblem(InvalidResponseError, f"the answer's Code is {printable(str(code))[:60]!r}, not Success")
        return credentials_in(data, where)


def check_uri(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError("the credentials URI must be a full http:// or https:// URL")
    if "@" in parts.netloc:
        raise ConfigurationError("the credentials URI contains a user name or password (not shown)")
    if any(c.isspace() or ord(c) < 0x20 for c in value.strip()):
        raise ConfigurationError("the credentials URI contains white space or a control character")
    if parts.scheme == "http":
        warn_plain_http(value.strip(), "the credentials URI")
    return value.strip()


def credentials_uri(value: str, *, origin: str) -> RefreshableCredentials:
    """The key the URI ``value`` serves (checked now, fetched on first use); ``origin`` names the setting."""
    try:
        checked = check_uri(value)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{origin}: {exc}") from None
    return cached(CredentialsUri(checked, origin=origin))


class CredentialsUriProvider(CredentialProvider):
    """``ALIBABA_CLOUD_CREDENTIALS_URI`` (the Pulumi config's ``credentialsUri`` comes earlier)."""

    def load(self, ctx: Context) -> Optional[Found]:
        uri, name = ctx.env_value("credentials_uri")
        if not uri:
            return None
        creds = credentials_uri(uri, origin=name or "")
        return creds, creds.source
