"""What one read means for a wait, as botocore's acceptors: the first that matches names the state.

As in botocore's waiters and google-api-core's polling, "not done yet" (a non-terminal status) is
polling, and a failed call is retrying: transient API errors are absorbed by the wait (the client
already retried them briefly); hopeless ones (not found, access denied) end it at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..errors import (
    InvalidResponseError,
    NotFoundError,
    PaginationError,
    RedirectError,
    ResponseTooLargeError,
    ServerError,
    ThrottledError,
    TransportError,
    UnreachableError,
)

__all__ = ["ACCEPTORS", "Acceptor", "Read", "accept", "SUCCESS", "RETRY", "FAILURE", "WAITING",
           "TRANSIENT_ERRORS", "HOPELESS_RESPONSES"]

SUCCESS, RETRY, FAILURE, WAITING = "success", "retry", "failure", "waiting"
TRANSIENT_ERRORS = (ThrottledError, ServerError, TransportError, InvalidResponseError)
# Answers that asking again cannot mend: a listing that never ends, a redirect, a body past the cap.
HOPELESS_RESPONSES = (PaginationError, RedirectError, ResponseTooLargeError)


class Read(NamedTuple):
    """One read as the acceptors see it: its value (a result or the exception it raised), whether any
    read of this wait has answered before, and whether the wait is still in its not-found grace."""

    value: Any
    answered: bool
    in_grace: bool


@dataclass(frozen=True)
class Acceptor:
    state: str
    explanation: str
    matches: Callable[[Read], bool]


# An error's acceptors, in order; an error none matches ends the wait (a hopeless one: not found, denied).
ACCEPTORS: tuple[Acceptor, ...] = (
    # Waiting would only hide a wrong endpoint.
    Acceptor(FAILURE, "no connection before any answer",
             lambda r: isinstance(r.value, UnreachableError) and not r.answered),
    Acceptor(FAILURE, "an answer that asking again cannot mend", lambda r: isinstance(r.value, HOPELESS_RESPONSES)),
    Acceptor(RETRY, "a transient error", lambda r: isinstance(r.value, TRANSIENT_ERRORS)),
    # FC lists a task just invoked a moment late.
    Acceptor(RETRY, "not found yet, within the grace",
             lambda r: isinstance(r.value, NotFoundError) and not r.answered and r.in_grace),
)


def accept(value: Any, *, answered: bool, in_grace: bool) -> str:
    """A result: :data:`SUCCESS` once its status is terminal, else :data:`WAITING` (poll again). An
    error: the state of the first of :data:`ACCEPTORS` that matches, else :data:`FAILURE`."""
    if not isinstance(value, BaseException):
        return SUCCESS if value.is_terminal else WAITING
    read = Read(value, answered, in_grace)
    return next((a.state for a in ACCEPTORS if a.matches(read)), FAILURE)
