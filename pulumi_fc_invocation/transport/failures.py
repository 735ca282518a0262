"""What the transport says when a call fails: an answer's classified API error, a refused redirect, a
request that got no (complete) answer. Every text passes through the caller's ``redact`` (the
credentials last used), and never quotes a header.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Optional
from urllib.parse import urlsplit

from ..errors import FcApiError, RedirectError, RequestTimeoutError, TransportError, error_class_for
from ..wire import Classified, parse_error_body
from .retry import parse_retry_after
from .session import Answer, request_id_of

__all__ = ["api_error", "redirect_error", "transport_error", "excerpt", "ErrorClass"]

ErrorClass = Callable[[int, Optional[str]], type[FcApiError]]
"""Picks an API error's class from the HTTP status and FC's code (each API revision has its own)."""


def excerpt(body: bytes, limit: int = 200) -> str:
    """The start of a body, on one line, for an error message."""
    text = body[:limit * 2].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    return text[:limit] + ("..." if len(text) > limit or len(body) > limit * 2 else "")


def api_error(answer: Answer, redact: Callable[[str], str], time_left: float = 0.0,
              error_class: Optional[ErrorClass] = None) -> FcApiError:
    """The classified error of a non-2xx answer: FC's code, message and request id (either API's
    spelling; the request id header first, then the body's), and a note when FC asked for a wait
    longer than the ``time_left`` of the call's retry budget."""
    body = answer.content or b""
    status = answer.status_code
    if 300 <= status < 400:
        return redirect_error(status, answer.headers)
    found = parse_error_body(body)
    request_id = request_id_of(answer) or found.request_id
    code = redact(found.code) if found.code is not None else None
    message = redact(found.message) if found.message is not None else None
    shown = redact(excerpt(body))
    cls = error_class(status, code) if error_class else error_class_for(status)
    if code is None:
        message = (f"HTTP {status} {answer.reason or ''}".rstrip()
                   + f" without an FC error body: {shown if shown else 'an empty body'!s}")
    retry_after = note = None
    if status in (429, 503) and answer.headers.get("Retry-After"):
        retry_after = parse_retry_after(answer.headers.get("Retry-After"))
        if retry_after is not None and retry_after > time_left:
            note = (f"FC asked for Retry-After {retry_after:g} s, more than the {max(0.0, time_left):.3g} s "
                    "left of this call's retry budget: not retried")
    error = cls(message or code or "", code=code, request_id=request_id, http_status=status,
                body_excerpt=shown, note=note)
    error.retry_after = retry_after
    return error


def redirect_error(status: int, headers: Mapping[str, str]) -> RedirectError:
    """A redirect, refused: names where it pointed (host and port only, never the path or query)."""
    location = headers.get("Location") or ""
    try:
        parts = urlsplit(location)
        where = parts.hostname or ""
        if where and parts.port:
            where += f":{parts.port}"
    except ValueError:
        where = ""
    target = f"to host {where}" if where else ("to a path on the same host" if location else "without a Location")
    return RedirectError(
        f"HTTP {status} redirect {target}: not followed, since the other end would get the STS "
        "token and the payload; point the endpoint at the host that answers",
        request_id=request_id_of(headers), http_status=status)


def _system_reason(exc: BaseException) -> Optional[str]:
    """The operating system's words for why no connection was made ("Connection refused", "Name or service not
    known"), from the OSError under requests' and urllib3's wrappers; None if there is none."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        current = todo.pop(0)
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and isinstance(current.strerror, str) and current.strerror:
            return current.strerror
        todo += [*current.args[:1], getattr(current, "reason", None), current.__cause__, current.__context__]
    return None


def transport_error(found: Classified, exc: BaseException, method: str, path: str, endpoint: str, timeout: Any,
                    budget: float, retried: str, redact: Callable[[str], str]) -> TransportError:
    """The classified error of a request that got no (complete) answer; never quotes a header."""
    if found.kind == "header":
        # requests quotes the offending header value, which may be the STS token: never show it.
        return TransportError(f"{method} {path}: a request header value is invalid (whitespace or a line "
                              "break in the account id or the STS token?); the value is not shown")
    if found.error is RequestTimeoutError:
        return RequestTimeoutError(f"{method} {path}: no answer from {endpoint} within {timeout} s "
                                   f"per attempt and the call's time budget of {budget:.3g} s ({retried})")
    if found.kind == "corrupt":
        return TransportError(f"{method} {path}: the answer from {endpoint} was cut off or corrupt "
                              f"({type(exc).__name__}) ({retried})")
    if found.kind in ("connection", "unreachable"):
        error = found.error(f"{method} {path}: cannot reach {endpoint} ({found.reason}: "
                            f"{redact(found.detail)}) ({retried})")
        # What a reader words (gate/explain.py) without parsing the text: where, why (the system's words), retries.
        error.endpoint, error.reason, error.retried = endpoint, redact(_system_reason(exc) or found.reason), retried
        return error
    return TransportError(f"{method} {path}: {type(exc).__name__}: {redact(str(exc))}")
