"""A batch's state and its cheap poll: the listing (:func:`list_batch`), the batch at one moment
(:class:`BatchSummary`: counts, failures, whether a wait may end) and :class:`BatchTracker`, which
lists only the part of the batch that can still change. A batch is described by a
:class:`~.spec.BatchSpec`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Optional

from ..errors import PaginationError
from ..models import InvocationStatus, parse_time, redact
from .messages import format_duration
from .spec import BatchSpec

if TYPE_CHECKING:
    from ..client import FcClient

__all__ = ["PAGE_SIZE", "BatchSummary", "BatchTracker", "list_batch"]

log = logging.getLogger(__name__)

PAGE_SIZE = 100

# The progress line's order: the statuses of a started run as it goes through them, then those still
# queued, the nearest to starting first; after the successes, the other end statuses.
_QUEUED = (InvocationStatus.DEQUEUED, InvocationStatus.ENQUEUED)
_MOVING_ORDER = tuple(s.value for s in InvocationStatus if not s.is_terminal and s not in _QUEUED) + \
    tuple(s.value for s in _QUEUED)
_ENDED_ORDER = tuple(s.value for s in InvocationStatus if s.is_terminal and s.value not in ("Succeeded", "Failed"))


# --- listing ------------------------------------------------------------------------------------


def masked_label(spec: BatchSpec) -> str:
    """The batch's label with its secret inputs masked, for a log line or an error (a secret prefix,
    name or time window is in the label as given)."""
    return redact(spec.label, spec.secret_texts)


def list_batch(client: "FcClient", spec: BatchSpec, *, started_after: Optional[datetime] = None,
               include_payload: bool = False) -> tuple[list[Any], int]:
    """Every member of the batch started at or after ``started_after`` (default: the spec's bound),
    oldest first; returns (invocations, list calls made). One call per page of 100."""
    from ..client import MAX_PAGES  # the client's own cap on a listing

    begin: Any = spec.started_after
    begun = parse_time(begin)
    if started_after is not None and (begun is None or started_after > begun):
        begin = started_after
    seen: dict[str, Any] = {}
    tokens: set[str] = set()
    token: Optional[str] = None
    calls = 0
    while calls < MAX_PAGES:
        items, token = spec.kind.list_page(
            client, spec.target, next_token=token, prefix=spec.prefix, started_after=begin,
            started_before=spec.started_before, sort="asc", include_payload=include_payload, page_size=PAGE_SIZE)
        calls += 1
        for item in items:
            seen[item.invocation_id] = item
        if not token:
            return list(seen.values()), calls
        if token in tokens:  # a cycle (A, B, A): the listing would never end
            raise PaginationError(f"listing {masked_label(spec)}: page {calls} gave a nextToken already seen; the "
                                  "listing would never end")
        tokens.add(token)
    raise PaginationError(f"listing {masked_label(spec)}: still a nextToken after {MAX_PAGES} pages, far more than any "
                          "real batch")


def _order(result: Any) -> tuple[float, str]:
    started = result.started_time.timestamp() if result.started_time is not None else float("inf")
    return (started, result.invocation_id)


@dataclass
class BatchSummary:
    """The batch at one moment: its members (oldest first) and what the gate makes of them.

    ``is_terminal`` is True when a wait should end: a member ended in a fail status, or at least
    ``spec.minimum_count`` members exist and all are terminal (the name lets :class:`~..waiter.Waiter`
    poll a batch as it polls one invocation).
    """

    spec: BatchSpec
    invocations: list[Any]
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.invocations = sorted(self.invocations, key=_order)
        counts = {status.value: 0 for status in InvocationStatus}
        for result in self.invocations:
            counts[result.status.value] = counts.get(result.status.value, 0) + 1
        self.counts = counts

    @property
    def total(self) -> int:
        return len(self.invocations)

    @property
    def started_time(self) -> Optional[datetime]:
        """The earliest member's start: the batch's age for the duration-aware schedule."""
        times = [r.started_time for r in self.invocations if r.started_time is not None]
        return min(times) if times else None

    @property
    def pending(self) -> int:
        return sum(1 for r in self.invocations if not r.is_terminal)

    @property
    def all_terminal(self) -> bool:
        """Every member is terminal; False for an empty batch (nothing has ended)."""
        return self.total > 0 and self.pending == 0

    @property
    def all_succeeded(self) -> bool:
        """Every member succeeded; False for an empty batch."""
        return self.total > 0 and self.counts["Succeeded"] == self.total

    @property
    def failures(self) -> list[Any]:
        return [r for r in self.invocations if r.status.value in self.spec.fail_on]

    @property
    def complete(self) -> bool:
        """All terminal and at least ``minimum_count`` exist: the gate is open."""
        return self.all_terminal and self.total >= self.spec.minimum_count

    @property
    def is_terminal(self) -> bool:
        return self.complete or bool(self.failures)

    def text(self) -> str:
        """``212/300 succeeded, 3 running, 85 enqueued, 0 failed``."""
        expected = max(self.total, self.spec.expected_count or 0)
        parts = [f"{self.counts['Succeeded']}/{expected} succeeded"]
        for status in _MOVING_ORDER:
            if self.counts.get(status):
                parts.append(f"{self.counts[status]} {status.lower()}")
        for status, count in self.counts.items():  # statuses FC added after this package was written
            if count and not InvocationStatus(status).is_known:
                parts.append(f"{count} {status}")
        if self.spec.expected_count and self.total < self.spec.expected_count:
            parts.append(f"{self.spec.expected_count - self.total} not listed yet")
        parts.append(f"{self.counts['Failed']} failed")
        for status in _ENDED_ORDER:
            if self.counts[status]:
                parts.append(f"{self.counts[status]} {status.lower()}")
        return ", ".join(parts)

    def progress(self, elapsed: float) -> str:
        return f"{self.spec.label}: {self.text()}, {format_duration(elapsed)} elapsed"

# --- the program-side poll ----------------------------------------------------------------------


class BatchTracker:
    """Polls a batch cheaply: ``poll()`` returns a :class:`BatchSummary`, for :class:`~..waiter.Waiter`.

    Cost model: ``ListStatefulAsyncInvocations`` costs one call per page of 100, whatever the filter.
    Terminal results never change, so they are kept here and not fetched again where the API lets us
    skip them: a poll lists only members started at or after the oldest still-unfinished member
    (``startedTimeBegin``); once every known member is terminal, a poll lists the whole batch (members
    still being enqueued may be listed late, with any start time). With a batch that drains roughly in
    start order, most of it drops out of later polls. Filtering by ``status`` instead would cost one
    list per unfinished status (five, each at least one call) per poll, could miss members that change
    status between those lists or that start and finish between two polls, and would still need the
    terminal results (for the fail check and the progress line) some other way; the time window costs
    at least one call and is never more than a full listing.

    The window relies on ``startedTime`` being set when a member is accepted and never moving back.
    Two guards keep the answer right even if that fails: a member without a start time makes the next
    poll list the whole batch, and a poll that finds the batch complete through a window confirms it
    with one full listing before the wait ends.
    """

    def __init__(self, client: "FcClient", spec: BatchSpec) -> None:
        self.client = client
        self.spec = spec
        self.shown = masked_label(spec)
        self.known: dict[str, Any] = {}
        self.polls = 0
        self.calls = 0

    def window_start(self) -> Optional[datetime]:
        """Where the next poll's listing starts; None lists the whole batch.

        Only while a known member is unfinished: the gate cannot open before that member ends, and
        the poll that sees the batch complete through a window confirms it with a full listing, so a
        member the window skips (listed late, with an earlier start time) is found before the gate
        opens. Once every known member has ended, only members not yet listed can hold the gate, and
        their start time may be anything: those polls list the whole batch."""
        pending = [r for r in self.known.values() if not r.is_terminal]
        if not pending or any(r.started_time is None for r in pending):
            return None
        first: Optional[datetime] = min(r.started_time for r in pending)
        return first

    def poll(self) -> BatchSummary:
        calls = self.calls
        summary = self._poll()
        log.debug("poll %d of %s: %d list call(s); %s", self.polls, self.shown, self.calls - calls,
                  summary.text())
        return summary

    def _poll(self) -> BatchSummary:
        window = self.window_start()
        items, calls = list_batch(self.client, self.spec, started_after=window)
        self.calls += calls
        known = dict(self.known)
        known.update((r.invocation_id, r) for r in items)
        summary = BatchSummary(self.spec, list(known.values()))
        if window is not None and summary.complete and not summary.failures:
            items, calls = list_batch(self.client, self.spec)  # confirm through a full listing
            self.calls += calls
            known = {r.invocation_id: r for r in items}
            summary = BatchSummary(self.spec, items)
        self.known = known  # only after the whole poll succeeded
        self.polls += 1
        return summary
