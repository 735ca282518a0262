"""The function's recent durations, apart from the schedule that uses them.

A ``history`` is any callable that answers durations in seconds (or None). :func:`history_for` makes
one that reads one page of a function's recent Succeeded invocations or tasks through the client it
is given (either API), :class:`DurationHistory` remembers it for the gates of that function, and
:func:`batch_history` turns it into the durations of a batch that ends with its slowest task.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import Any, Optional

from ..clock import call_budget
from ..errors import InvalidArgumentError
from ..models import redact
from .policy import positive_seconds

__all__ = ["DurationHistory", "history_for", "batch_history", "durations_of", "epoch_seconds", "ref_through"]

log = logging.getLogger(__name__)


def epoch_seconds(value: Any) -> Optional[float]:
    """A result's time (a datetime, epoch seconds or epoch ms as FC sends it) in epoch seconds, or None."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return value / 1000.0 if value > 1e11 else float(value)  # epoch ms as FC sends it
    return None


def durations_of(results: Iterable[Any]) -> list[float]:
    """Seconds each Succeeded invocation or task took: ``durationMs``, else ``endTime - startedTime``."""
    out: list[float] = []
    for item in results:
        status = getattr(item, "status", None)
        if status is not None and getattr(status, "value", status) != "Succeeded":
            continue
        ms = getattr(item, "duration_ms", None)
        if isinstance(ms, int) and not isinstance(ms, bool) and ms > 0:
            out.append(ms / 1000.0)
            continue
        begin, end = epoch_seconds(getattr(item, "started_time", None)), epoch_seconds(getattr(item, "end_time", None))
        if begin is not None and end is not None and end > begin:
            out.append(end - begin)
    return out


# A call that failed with at most this many seconds left of its budget was ended by the caller's deadline.
_CUT = 0.05


class DurationHistory:
    """A ``history`` for :class:`Waiter`: one list call (one page of recent Succeeded invocations or
    tasks of one function and qualifier), remembered for ``ttl`` seconds, so the gates of one
    function share one read. A failed or refused read (a RAM policy without the list action: 403)
    answers None, logged at debug level, and is remembered too: the waits use the default schedule;
    but not one the caller's deadline (:func:`call_budget`) ended, which another wait may have time
    for. A caller waits for another's read no longer than its own budget (then: None).
    """

    def __init__(self, read: Callable[[], Iterable[Any]], what: str, ttl: float = 300.0) -> None:
        self._read = read
        self.what = what
        self.ttl = positive_seconds("ttl", ttl)
        self._lock = threading.Lock()
        self._at: Optional[float] = None
        self._value: Optional[list[float]] = None
        self.calls = 0

    def __repr__(self) -> str:
        return f"DurationHistory({self.what})"

    def __call__(self) -> Optional[list[float]]:
        # Another wait's read of it holds the lock: waited for within this caller's call_budget only.
        budget = call_budget()
        if not self._lock.acquire(timeout=-1 if budget is None else budget):
            log.debug("duration history of %s: another wait's read had not ended within this one's budget: "
                      "default schedule", self.what)
            return None
        try:
            if self._at is not None and time.monotonic() - self._at < self.ttl:
                return self._value
            self.calls += 1
            try:
                self._value = durations_of(self._read())
            except Exception as exc:  # noqa: BLE001 - an optimisation: a refused list must not fail a wait
                code = getattr(exc, "code", None)
                log.debug("duration history of %s unavailable (%s%s): default schedule", self.what,
                          type(exc).__name__, f" {code}" if code else "")
                left = call_budget()
                if left is not None and left <= _CUT:  # ended by this caller's deadline: not remembered
                    return None
                self._value = None
            self._at = time.monotonic()
            return self._value
        finally:
            self._lock.release()


def ref_through(client: Any, ref: Any) -> Any:
    """``ref`` itself, or the ref that ``client`` parses from a composite id (the waiter knows neither
    API's id: the client it is given does)."""
    if not isinstance(ref, str):
        return ref
    parse = getattr(client, "parse_ref", None)
    if not callable(parse):
        raise InvalidArgumentError("ref", ref, "must be a ref object: this client parses no composite ids")
    return parse(ref)


def history_for(client: Any, ref: Any, *, limit: int = 50, ttl: float = 300.0,
                secrets: Collection[str] = ()) -> DurationHistory:
    """The duration history of ``ref``'s function and qualifier through ``client``, for either API:
    an FC 2.0 ``InvocationRef`` reads ``ListStatefulAsyncInvocations`` (status Succeeded, newest first,
    one page of ``limit``); an FC 3.0 ``AsyncTaskRef`` reads ``ListAsyncTasks`` the same way. A
    composite id is parsed by the client (``client.parse_ref``). Nothing is called until the history is.
    ``secrets``: texts its debug lines show as ``[secret]`` (a gate's secret names)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
        raise InvalidArgumentError("limit", limit, "must be an integer from 1 to 100 (one page)")
    ref = ref_through(client, ref)
    function, qualifier = getattr(ref, "function_name", None), getattr(ref, "qualifier", None)
    if function is None:
        raise InvalidArgumentError("ref", ref, "must be an InvocationRef or an AsyncTaskRef")
    service = getattr(ref, "service_name", None)
    if service is not None:
        def read() -> Iterable[Any]:
            items: Iterable[Any]
            items, _ = client.list_stateful_async_invocations_page(
                service, function, qualifier=qualifier, status="Succeeded", page_size=limit)
            return items
        where = f"{service}{'.' + qualifier if qualifier else ''}/{function}"
    else:
        def read() -> Iterable[Any]:
            items: Iterable[Any]
            items, _ = client.list_async_tasks_page(function, qualifier=qualifier, status="Succeeded",
                                                    page_size=limit)
            return items
        where = f"{function}{'.' + qualifier if qualifier else ''}"
    return DurationHistory(read, redact(where, secrets), ttl)


def batch_history(history: Callable[[], Optional[Iterable[float]]], size: int, *, samples: int = 50,
                  seed: int = 0) -> Callable[[], Optional[list[float]]]:
    """A ``history`` for a batch of ``size`` tasks of one function started together: a batch ends with
    its slowest task, so each sample is the longest of ``size`` durations drawn (with replacement)
    from the function's ``history``. The batch's first read should carry ``started_time`` (its
    earliest member's start); without it the batch is taken to start with the wait."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InvalidArgumentError("size", size, "must be a positive integer (the batch's task count)")

    def read() -> Optional[list[float]]:
        durations = history()
        values = list(durations) if durations is not None else []
        if not values:
            return None
        rng = random.Random(seed)
        return [max(rng.choice(values) for _ in range(size)) for _ in range(samples)]

    return read


