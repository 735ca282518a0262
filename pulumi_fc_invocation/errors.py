"""One exception hierarchy for the whole package.

Everything raised on purpose derives from :class:`FcInvocationError`, so a caller can catch the
package's failures without catching programming errors. API failures carry FC's error code, message,
request id and HTTP status, and are split into classes by what a caller would do about them.
No exception text ever contains a credential: messages are built from response bodies and names only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Union

__all__ = [
    "FcInvocationError",
    "InvalidArgumentError",
    "ConfigurationError",
    "FcApiError",
    "BadRequestError",
    "AuthenticationError",
    "NotFoundError",
    "ConflictError",
    "ThrottledError",
    "ServerError",
    "InvalidResponseError",
    "RedirectError",
    "PaginationError",
    "ResponseTooLargeError",
    "TransportError",
    "UnreachableError",
    "RequestTimeoutError",
    "InvocationFailedError",
    "WaitTimeoutError",
]


class FcInvocationError(Exception):
    """Base class of every error this package raises on purpose."""

    # Set on the instances it concerns, by the code that raises them (annotations only: on the others the
    # attribute is absent, and readers use getattr): a credential fetch cut by the caller's deadline.
    credential_fetch_cut: bool


class InvalidArgumentError(FcInvocationError, ValueError):
    """A value given by the caller breaks a rule; raised before any network call.

    ``argument`` names the argument, ``value`` is the offending value and ``rule`` says what is allowed.
    ``show_value`` False leaves the value out of the message (an argument that should not exist says
    nothing about its value, which may be a secret the caller meant for another argument).
    """

    def __init__(self, argument: str, value: Any, rule: str, *, show_value: bool = True) -> None:
        self.argument = argument
        self.value = value
        self.rule = rule
        if not show_value:
            super().__init__(f"invalid {argument}: {rule}")
            return
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"invalid {argument} {shown}: {rule}")


class ConfigurationError(FcInvocationError):
    """Settings needed to reach FC (account id, region, credentials) are missing or unusable.

    ``setting``: the one setting at fault, by its name in credentials.SETTING_SOURCES (``"endpoint"``,
    ``"security_token"``...), where the raiser knows it; None otherwise (the text says what to set)."""

    setting: str | None = None

    @classmethod
    def of(cls, setting: str, message: str) -> "ConfigurationError":
        """The error for ``setting`` (its name in credentials.SETTING_SOURCES), saying ``message``."""
        error = cls(message)
        error.setting = setting
        return error


class FcApiError(FcInvocationError):
    """FC answered with an error.

    ``code`` is FC's ``ErrorCode`` (None when the body had none, e.g. a proxy's HTML page),
    ``request_id`` comes from the ``X-Fc-Request-Id`` header.
    """

    # Set by the transport on the error it raises (annotations only, as above): FC's Retry-After in seconds,
    # and how many attempts the call made.
    retry_after: float | None
    attempts: int

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        request_id: str | None = None,
        http_status: int | None = None,
        body_excerpt: str | None = None,
        note: str | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.request_id = request_id
        self.http_status = http_status
        self.body_excerpt = body_excerpt
        self.note = note  # what the client made of the answer (e.g. a Retry-After past the budget)
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"{self.code}: {self.message}" if self.code else self.message
        details = []
        if self.http_status is not None:
            details.append(f"HTTP {self.http_status}")
        details.append(f"request id {self.request_id or 'unknown'}")
        if self.note:
            details.append(self.note)
        return f"{head} ({', '.join(details)})"

    def __reduce__(self) -> tuple[Any, ...]:  # keep pickling (multiprocessing, pytest-xdist) lossless
        return (
            _rebuild_api_error,
            (type(self), self.message, self.code, self.request_id, self.http_status, self.body_excerpt, self.note),
        )


def _rebuild_api_error(cls: type[FcApiError], message: str, code: str | None, request_id: str | None,
                       http_status: int | None, body_excerpt: str | None, note: str | None = None) -> FcApiError:
    return cls(message, code=code, request_id=request_id, http_status=http_status, body_excerpt=body_excerpt,
               note=note)


class BadRequestError(FcApiError):
    """HTTP 400: the request was malformed (``InvalidArgument``, ``MissingRequiredHeader``...)."""


class AuthenticationError(FcApiError):
    """HTTP 401/403: signature, access key, STS token, clock skew or permissions."""


class NotFoundError(FcApiError):
    """HTTP 404: the service, function, alias, version or invocation does not exist."""


class ConflictError(FcApiError):
    """HTTP 409: e.g. ``StatefulAsyncInvocationAlreadyExists``."""


class ThrottledError(FcApiError):
    """HTTP 429 or 503: FC asked us to slow down, and retries did not get through."""


class ServerError(FcApiError):
    """HTTP 5xx other than 503: FC failed, and retries did not get through."""


class InvalidResponseError(FcApiError):
    """FC (or something in front of it) answered with a body that is not what the API promises."""


class RedirectError(InvalidResponseError):
    """A 3xx answer: never followed, since the other host would get the STS token and the payload."""


class PaginationError(InvalidResponseError):
    """A listing that would never end: a repeated or cycling ``nextToken``, or far too many pages."""


class ResponseTooLargeError(InvalidResponseError):
    """A body (decoded) larger than any FC answer can be: a decompression bomb or a broken proxy."""


class TransportError(FcInvocationError):
    """The request never got an HTTP answer: connection refused or reset, DNS, TLS."""

    # Set by the transport on the error it raises (annotations only): the endpoint it could not reach, why in
    # the system's words ("Connection refused"), and what was retried ("after up to 4 retries").
    endpoint: str
    reason: str
    retried: str


class UnreachableError(TransportError):
    """No connection could be made: refused, unknown host, TLS failure. Before any successful read a
    wait ends on it at once: it is a wrong endpoint far more often than a blip."""


class RequestTimeoutError(TransportError):
    """No answer within the configured timeout, after the allowed retries."""


class InvocationFailedError(FcInvocationError):
    """A gated invocation ended in one of the statuses the caller declared a failure."""

    def __init__(self, message: str, *, result: Any = None) -> None:
        self.result = result
        super().__init__(message)


class WaitTimeoutError(FcInvocationError):
    """A gated invocation did not reach a terminal status within the allowed time."""

    def __init__(self, message: str, *, last_result: Any = None, elapsed: float | None = None) -> None:
        self.last_result = last_result
        self.elapsed = elapsed
        super().__init__(message)


_BY_STATUS: dict[int, type[FcApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    429: ThrottledError,
    503: ThrottledError,
}


def error_class_for(http_status: int) -> type[FcApiError]:
    """The exception class a caller should see for an HTTP error status."""
    cls = _BY_STATUS.get(http_status)
    if cls is not None:
        return cls
    if http_status >= 500:
        return ServerError
    if http_status >= 400:
        return BadRequestError
    return InvalidResponseError


_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: "re.Match[str]") -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with control characters (ESC, CR, C1, bidi overrides...) shown as ``\\xNN`` escapes.

    Server text reaches terminals: raw, an escape sequence can retitle or clear the screen and print
    a forged line. Newlines and tabs are kept.
    """
    return _CONTROLS.sub(_escape, text)


def redact(text: str, secrets: Iterable[Union[str, tuple[str, str]]], *, mask: str = "[secret]",
           shortest: int = 4) -> str:
    """``text`` with each secret replaced, longest first (a short one inside a long one cannot split it):
    a ``(value, shown)`` pair by ``shown`` (our key id as ``LTAI****``, its secret and token as
    ``<redacted>`` in server text), a plain value by ``mask``. Values shorter than ``shortest`` are left
    (a one-letter test secret would mangle every message)."""
    shown: dict[str, str] = {}
    for secret in secrets:
        value, instead = secret if isinstance(secret, tuple) else (secret, mask)
        if isinstance(value, str) and value and len(value) >= shortest:
            shown.setdefault(value, instead)
    for value in sorted(shown, key=len, reverse=True):
        text = text.replace(value, shown[value])
    return text
