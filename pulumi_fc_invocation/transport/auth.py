"""The transport's auth step: each attempt signed with the credentials current for it, and one refresh
of them when FC refuses a token we hold as valid.

In the shape of httpx's ``Auth.auth_flow``: a generator that yields the requests to send and is sent
what became of them. It is sent None when the transport will try again (a retry: signed anew, so it
carries a fresh date and a refreshed STS token), and the classified error of an answer the transport
will not retry; for a refused token it fetches new credentials once and yields the call again.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Optional, Union

from ..credentials import Credentials
from ..errors import FcApiError, InvalidArgumentError

__all__ = ["SignableRequest", "Signer", "CredentialSource", "SigningAuth", "TOKEN_REFUSED_CODES"]

log = logging.getLogger("pulumi_fc_invocation.transport")

# FC's 403 codes for a token it will not take: with a source that can refresh, fetched anew once.
TOKEN_REFUSED_CODES = frozenset({"SecurityTokenExpired", "InvalidSecurityToken"})


@dataclass(repr=False)
class SignableRequest:
    """One attempt of a request, as a signer sees it: the signer adds its headers to ``headers``.

    ``path`` is sent as given (already percent-encoded where the API needs it); ``query`` is what
    is encoded after it; ``host`` is the endpoint's ``host[:port]``.
    """

    method: str
    path: str
    query: Mapping[str, str]
    headers: dict[str, str]
    body: bytes
    host: str
    attempt: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        # Handed to signers of one's own, which may log it: never the headers (the STS token, once
        # signed the signature) nor the body (the payload), nor the query.
        return f"SignableRequest({self.method} {self.path}, attempt {self.attempt}, {len(self.body)} bytes)"


Signer = Callable[[SignableRequest, Credentials], None]
"""Signs one attempt in place (date, token and signature headers), with the credentials current for it."""

CredentialSource = Union[Credentials, Callable[[], Credentials], Any]
"""A ``Credentials``, a callable returning the current ones, or an object with ``current()``."""


def _keywords(func: Callable[..., Any], *names: str) -> set[str]:
    """Which of ``names`` ``func`` takes as keywords (all of them with ``**kwargs``)."""
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return set()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return set(names)
    return {p.name for p in parameters if p.name in names and p.kind is not inspect.Parameter.POSITIONAL_ONLY}


def _credential_getter(source: CredentialSource) -> Callable[[Optional[float]], Credentials]:
    """A callable taking the seconds left of the call: passed on as ``current(timeout=...)`` when the source
    takes it (a RefreshableCredentials: its fetch then ends by the call's deadline)."""
    # current() first: a RefreshableCredentials is a Credentials too, and its current() hands out one
    # snapshot (key id, secret and token that belong together) with time left; a plain one returns itself.
    current = getattr(source, "current", None)
    if callable(current):
        if _keywords(current, "timeout"):
            return lambda left: current(timeout=left)
        return lambda left: current()
    if callable(source):
        return lambda left: source()
    raise InvalidArgumentError("credentials", type(source).__name__,
                               "must be Credentials, a callable returning Credentials, or have current()")


def _refresher(source: CredentialSource) -> Optional[Callable[[Optional[Credentials], float], Any]]:
    """``refresh(stale=..., timeout=...)`` of a source that takes the refused snapshot and the seconds left
    of the call, else as much of it as it takes (a source of one's own may have the older signature);
    None for a source that cannot refresh."""
    refresh = getattr(source, "refresh", None)
    if not callable(refresh):
        return None
    takes = _keywords(refresh, "stale", "timeout")
    return lambda stale, left: refresh(**{name: value for name, value in (("stale", stale), ("timeout", left))
                                          if name in takes})


Flow = Generator[SignableRequest, Optional[FcApiError], None]
"""Yields each attempt signed; sent None for a retry, or the error of an answer that will not be retried."""


class SigningAuth:
    """Signs a transport's attempts with the credentials of ``source`` (see :data:`CredentialSource`)."""

    def __init__(self, source: CredentialSource) -> None:
        self._current = _credential_getter(source)
        # A source that can fetch new credentials on demand (RefreshableCredentials): used once per call
        # when FC refuses the token before its expiry (revoked, or judged on another clock).
        self._refresh = _refresher(source)
        #: The snapshot the last attempt was signed with: the secrets to mask in what FC says back.
        self.last: Optional[Credentials] = (
            source if isinstance(source, Credentials) and self._refresh is None else None)

    def credentials(self, timeout: Optional[float] = None) -> Credentials:
        """The credentials current now (what the next attempt signs with); a fetch they need ends within
        ``timeout`` seconds (None: the source's own bound)."""
        creds = self._current(timeout)
        self.last = creds
        return creds

    def auth_flow(self, call: SignableRequest, signer: Signer, deadline: float, retry_end: float) -> Flow:
        """The attempts of one call (``time.monotonic()`` deadlines: ``deadline`` bounds a credential fetch,
        no refresh starts after ``retry_end``). Credential errors propagate from ``next``/``send``."""
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            signable = replace(call, headers=dict(call.headers), attempt=attempt)
            signed = self.credentials(max(0.0, deadline - time.monotonic()))  # a fetch ends by the deadline
            signer(signable, signed)
            outcome = yield signable
            del signable
            if outcome is None:
                continue  # a retry: signed again, with the credentials current then
            if (refreshed or self._refresh is None or outcome.code not in TOKEN_REFUSED_CODES
                    or time.monotonic() >= retry_end):
                return
            # FC refused a token we hold as valid (revoked, or expired on FC's clock): fetch new credentials
            # once and send the call again, signed with them. A 403 was not executed, so this is safe for a
            # start too. The refused snapshot goes along, so that calls refused together share one fetch.
            refreshed = True
            log.debug("%s %s: FC answered %s: refreshing the credentials and sending it again",
                      call.method, call.path, outcome.code)
            self._refresh(signed, max(0.0, deadline - time.monotonic()))
