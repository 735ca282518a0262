"""A transport whose every call ends within a time budget of its own: what ``FcClient.bounded(seconds)``
views a client through (the CLI's ``--timeout``, a gate's own deadline).

The view is the client itself with this transport in place of its own (as before the reshape): an
``FcClient`` in every respect (``isinstance``, ``with``, ``close``), sharing the client's connections,
credentials and server clock. Each request runs under :func:`~pulumi_fc_invocation.clock.within` with
the smaller of the view's seconds left and any deadline already set (a waiter's ``call_budget``), so
every attempt, retry and credential fetch of it keeps to both, a listing's pages one by one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Optional, Union

from ..clock import call_budget, within
from ..errors import InvalidArgumentError
from . import Answer, Transport

__all__ = ["BoundedTransport", "bounded_transport", "Seconds"]

Seconds = Union[float, Callable[[], Optional[float]]]
"""A number of seconds from now, or a function asked at each request for its seconds (None: unbounded)."""


class BoundedTransport(Transport):
    """``transport`` with every request ending within ``seconds()`` (and any deadline already set).

    A view, not a copy: not built by ``Transport.__init__``, it holds the transport and answers every
    other attribute from it (its session, auth step, retry policy and server clock), so closing it closes
    them (as closing the client does)."""

    def __init__(self, transport: Transport, seconds: Callable[[], Optional[float]]) -> None:
        self.inner = transport
        self.seconds = seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def request(self, method: str, path: str, **kwargs: Any) -> Answer:
        # The inner transport keeps to its own budget too (a view of a view keeps to both).
        left = [s for s in (self.seconds(), call_budget()) if s is not None]
        if not left:
            return self.inner.request(method, path, **kwargs)
        answer: Answer = within(max(0.0, min(left)), lambda: self.inner.request(method, path, **kwargs))
        return answer

    def __repr__(self) -> str:
        return f"BoundedTransport(endpoint={self.endpoint!r})"


def bounded_transport(transport: Transport, seconds: Seconds) -> Transport:
    """``transport`` with every request ending within ``seconds`` (see :data:`Seconds`); ``call_budget``
    itself gives ``transport``: every request keeps to it already."""
    if seconds is call_budget:
        return transport
    if callable(seconds):
        return BoundedTransport(transport, seconds)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds < float("inf"):
        raise InvalidArgumentError("seconds", seconds, "must be a positive, finite number of seconds")
    end = time.monotonic() + float(seconds)
    return BoundedTransport(transport, lambda: end - time.monotonic())
