"""The HTTP transport under FcClient: one per client, shared by threads, with keep-alive.

Every call has a timeout per attempt and one deadline: ``retry_budget`` for its retries plus one
attempt's timeouts, cut to :func:`~pulumi_fc_invocation.clock.call_budget` where the caller set one
(a waiter's fetch: ``clock.within``). A call runs as three steps, each a module of this package:

- :mod:`.auth`: the auth step (httpx's ``auth_flow`` shape): each attempt signed by the call's
  :data:`Signer` with the credentials current for it; one refresh when FC refuses a valid token;
- :mod:`.session`: one attempt on requests' public API, redirects refused, the body capped;
- :mod:`.retry`: the one retry mechanism (which outcomes, how long to wait, ``Retry-After``);

and every failure becomes a classified, redacted error (:mod:`.failures`). :mod:`.bounded` is the
transport of ``FcClient.bounded(seconds)``: every request within a time budget of the view's own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, NoReturn, Optional, TypeVar, Union
from urllib.parse import urlsplit

from pydantic import BaseModel
from pydantic import ValidationError as _PydanticValidationError

from ..clock import call_budget
from ..credentials import Credentials
from ..errors import (FcApiError, FcInvocationError, InvalidArgumentError, InvalidResponseError, RequestTimeoutError,
                      redact)
from ..wire import RETRY_STATUSES, Redirected, classify_exception, warn_plain_http
from .auth import TOKEN_REFUSED_CODES, CredentialSource, SignableRequest, Signer, SigningAuth
from .failures import ErrorClass, api_error, excerpt, redirect_error, transport_error
from .retry import IDEMPOTENT_METHODS, RetryPolicy
from .session import (MAX_RESPONSE_BYTES, USER_AGENT, Answer, HttpSession, ServerClock, encode_query,
                      request_id_of)

__all__ = [
    "Transport", "Answer", "SignableRequest", "Signer", "CredentialSource", "check_timeout", "check_limits",
    "request_id_of", "encode_query", "RETRY_STATUSES", "TOKEN_REFUSED_CODES", "MAX_RESPONSE_BYTES",
    "IDEMPOTENT_METHODS", "USER_AGENT", "Timeout",
]

log = logging.getLogger("pulumi_fc_invocation.transport")

Timeout = Union[float, tuple[float, float]]
_Model = TypeVar("_Model", bound=BaseModel)


def check_timeout(timeout: Any) -> Timeout:
    def positive(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < float("inf")

    if positive(timeout):
        return float(timeout)
    if isinstance(timeout, (tuple, list)) and len(timeout) == 2 and all(positive(v) for v in timeout):
        return (float(timeout[0]), float(timeout[1]))
    raise InvalidArgumentError("timeout", timeout, "must be a positive number of seconds or a (connect, read) pair")


def check_limits(timeout: Any, max_retries: Any, retry_budget: Any) -> Timeout:
    """The timeout, once ``timeout``, ``max_retries`` and ``retry_budget`` are checked (each by its name)."""
    checked = check_timeout(timeout)
    if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
        raise InvalidArgumentError("max_retries", max_retries, "must be an integer >= 0")
    if isinstance(retry_budget, bool) or not isinstance(retry_budget, (int, float)) or not retry_budget > 0:
        raise InvalidArgumentError("retry_budget", retry_budget, "must be a positive number of seconds")
    return checked


class Transport:
    """The HTTP session of one client: sends signed requests within a retry budget and a deadline.

    ``credentials`` is asked for at every attempt (see :data:`CredentialSource`); ``signer`` is given
    per call. Safe to share between threads.
    """

    def __init__(
        self,
        endpoint: str,
        credentials: CredentialSource,
        *,
        timeout: Timeout = (5.0, 15.0),
        max_retries: int = 4,
        retry_budget: float = 30.0,
        backoff_factor: float = 0.5,
        backoff_max: float = 8.0,
        environ: Optional[Mapping[str, str]] = None,
    ) -> None:
        self.timeout = check_limits(timeout, max_retries, retry_budget)
        self.endpoint = endpoint
        self.host = urlsplit(endpoint).netloc
        self.auth = SigningAuth(credentials)
        self.max_retries = max_retries
        self.retry = RetryPolicy(max_retries, float(backoff_factor), float(backoff_max))
        self._retry_budget = float(retry_budget)
        self.http = HttpSession(endpoint, environ)
        self.session = self.http.session
        self.server_clock = ServerClock()
        warn_plain_http(endpoint, "endpoint", "the STS token and the payloads", log)

    def credentials(self, timeout: Optional[float] = None) -> Credentials:
        """The credentials current now (what the next attempt signs with); a fetch they need ends within
        ``timeout`` seconds (None: the source's own bound)."""
        return self.auth.credentials(timeout)

    def server_time(self) -> Optional[float]:
        """FC's clock now (epoch seconds), from the ``Date`` of its last 2xx answer plus the time since;
        None before any."""
        return self.server_clock.now()

    def __repr__(self) -> str:
        return f"Transport(endpoint={self.endpoint!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("Transport cannot be pickled (it holds credentials and a connection pool)")

    def close(self) -> None:
        self.http.close()

    def redacted(self, text: str) -> str:
        """``text`` without the credentials last used (the secret and token; the key id masked)."""
        creds = self.auth.last
        if creds is None:
            return text
        return redact(text, ((creds.access_key_secret, "<redacted>"), (creds.security_token or "", "<redacted>"),
                             (creds.access_key_id, creds.masked_key_id)))

    def request(
        self,
        method: str,
        path: str,
        *,
        signer: Signer,
        params: Optional[Mapping[str, Any]] = None,
        body: Optional[bytes] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        content_type: Optional[str] = "application/json",
        error_class: Optional[ErrorClass] = None,
    ) -> Answer:
        """Send one call (its attempts signed by ``signer``); a non-2xx answer raises its classified error.

        ``params`` go on the wire RFC 3986-encoded (``%20``, not ``+``), as ACS3 signs them.
        ``error_class(http_status, code)`` picks an error's class (default: by HTTP status alone).
        """
        # One deadline for the whole call: no retry starts after retry_budget, and no attempt runs past
        # retry_budget plus one attempt's timeouts, or past the caller's call_budget(), whichever is first.
        started = time.monotonic()
        connect, read = self.timeout if isinstance(self.timeout, tuple) else (self.timeout, self.timeout)
        deadline = started + self._retry_budget + connect + read
        budget = call_budget()
        if budget is not None:
            deadline = min(deadline, started + budget)
        if deadline - started <= 0.001:
            raise RequestTimeoutError(f"{method} {path}: not sent: the time budget of this wait is over")
        headers = {"Content-Type": content_type} if content_type else {}  # None: a call without a body sends none
        headers["User-Agent"] = USER_AGENT
        headers["Accept-Encoding"] = "gzip, deflate"
        if extra_headers:
            headers.update(extra_headers)
        call = SignableRequest(method=method, path=path, query=dict(params or {}), headers=headers,
                               body=body or b"", host=self.host)
        del headers, extra_headers, body
        answer, failure = self._exchange(call, signer, started, deadline, (connect, read), error_class)
        # Raised here, outside any except clause and with the request gone from this frame: no exception
        # of the chain holds the prepared request (its token, its payload), nor does the traceback.
        del call
        if failure is not None:
            raise failure
        assert answer is not None
        self.server_clock.note(answer)
        return answer

    def _exchange(self, call: SignableRequest, signer: Signer, started: float, deadline: float,
                  timeout: tuple[float, float], error_class: Optional[ErrorClass]
                  ) -> tuple[Optional[Answer], Optional[FcInvocationError]]:
        """The attempts of one call: the auth step signs each, the retry policy says whether another
        follows; returns the 2xx answer or the call's failure (never raises an FcInvocationError)."""
        method, path = call.method, call.path
        url = self.endpoint + path + ("?" + encode_query(call.query) if call.query else "")
        retry_end = min(started + self._retry_budget, deadline)
        flow = self.auth.auth_flow(call, signer, deadline, retry_end)
        retries = attempts = 0
        answer: Optional[Answer] = None
        failure: Optional[FcInvocationError] = None
        try:
            signed = next(flow)
            while True:
                attempts += 1
                answer, failure, delay = self._attempt(signed, url, timeout, started, deadline, retry_end,
                                                       retries, error_class)
                if delay is not None:  # tried again, signed anew
                    retries += 1
                    time.sleep(delay)
                    signed = flow.send(None)
                    continue
                if answer is not None and log.isEnabledFor(logging.DEBUG):
                    log.debug("%s %s -> %s in %.1f ms (request id %s)", method, path, answer.status_code,
                              (time.monotonic() - started) * 1000, request_id_of(answer))
                if not isinstance(failure, FcApiError):
                    break
                failure.attempts = attempts
                signed = flow.send(failure)  # the auth step may send it again with refreshed credentials
        except StopIteration:
            pass
        except FcInvocationError as exc:  # credentials that cannot be had, or refreshed
            failure = exc.with_traceback(None)
        finally:
            flow.close()
        return (None, failure) if failure is not None else (answer, None)

    def _attempt(self, signed: SignableRequest, url: str, timeout: tuple[float, float], started: float,
                 deadline: float, retry_end: float, retries: int, error_class: Optional[ErrorClass]
                 ) -> tuple[Optional[Answer], Optional[FcInvocationError], Optional[float]]:
        """One attempt: (its answer, the call's failure if it ended so, the wait before a retry or None)."""
        method = signed.method
        left = max(0.001, deadline - time.monotonic())
        try:
            answer = self.http.send(method, url, signed.headers, signed.body,
                                    (min(timeout[0], left), min(timeout[1], left)), deadline)
        except Redirected as exc:
            return None, redirect_error(exc.status_code, exc.headers), None
        except FcInvocationError as exc:  # a body over the cap
            return None, exc.with_traceback(None), None
        except Exception as exc:  # noqa: BLE001 - classified below, or raised again
            found = classify_exception(exc, deadline)
            if found is None:
                raise
            delay = self.retry.delay(method, retries, failure=found)
            if delay is not None and time.monotonic() + delay <= retry_end:
                log.debug("%s %s: %s (%s); retry %d in %.2f s", method, signed.path, found.kind, found.reason,
                          retries + 1, delay)
                return None, None, delay
            # Said from what happened: a request that never left is retried whatever its method.
            if not found.sent:
                retried = f"after up to {self.max_retries} retries (it never left)"
            elif method in IDEMPOTENT_METHODS:
                retried = f"after up to {self.max_retries} retries"
            else:
                retried = "not retried: it may have reached FC, and a second start could run the task twice"
            return None, transport_error(found, exc, method, signed.path, self.endpoint, self.timeout,
                                         deadline - started, retried, self.redacted), None
        if answer.status_code < 300:
            return answer, None, None
        delay = self.retry.delay(method, retries, status=answer.status_code, headers=answer.headers)
        if delay is not None and time.monotonic() + delay <= retry_end:
            log.debug("%s %s: HTTP %s; retry %d in %.2f s", method, signed.path, answer.status_code, retries + 1,
                      delay)
            return answer, None, delay
        return None, api_error(answer, self.redacted, retry_end - time.monotonic(), error_class), None

    def parse(self, response: Answer, model: type[_Model], what: str) -> _Model:
        """The answer's body as ``model``; an InvalidResponseError that describes (never quotes) a JSON body."""
        body = response.content or b""
        try:
            return model.model_validate_json(body)
        except _PydanticValidationError as exc:
            first = exc.errors(include_input=False, include_url=False)[0]
            where = ".".join(map(str, first["loc"])) or "body"
            # A JSON body may carry payloads (user data): describe it, don't quote it.
            shown = "" if body.lstrip()[:1] in (b"{", b"[") else f": {self.redacted(excerpt(body))}"
            raise InvalidResponseError(
                f"FC answered HTTP {response.status_code} but the body is not {what} "
                f"({len(body)} bytes; {where}: {first['msg']}){shown}",
                request_id=request_id_of(response),
                http_status=response.status_code,
            ) from None
