"""The transport's one retry mechanism: which outcomes of an attempt are tried again, and after how long.

Tried again: a request that never left (no connection: any method); for the idempotent methods only,
an answer of :data:`~pulumi_fc_invocation.wire.RETRY_STATUSES` and a request that got no complete answer (a timeout, a connection
broken, a body cut off or corrupt), since a start sent twice could run the task twice. The wait is
FC's ``Retry-After`` where it gives one (whole or fractional seconds, or an HTTP date), else
exponential backoff with jitter (urllib3's schedule: the first retry at once). The caller bounds it
all by the call's time budget: a wait that would end past it is not started.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Optional

from ..wire import RETRY_STATUSES, Classified

__all__ = ["RetryPolicy", "IDEMPOTENT_METHODS", "parse_retry_after"]

IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "HEAD"})
# What a request that got no complete answer may have done: retried for idempotent methods only.
_UNFINISHED = frozenset({"timeout", "corrupt", "connection"})


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Seconds to wait from a ``Retry-After`` value: seconds (fractional too: ``0.5``) or an HTTP date;
    None for none or one that cannot be read (``soon``, ``inf``), so that the backoff applies instead of
    losing FC's answer."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)  # "-0000": UTC, as urllib3 reads it
        return max(0.0, when.timestamp() - time.time())
    return max(0.0, seconds) if math.isfinite(seconds) else None


@dataclass(frozen=True)
class RetryPolicy:
    """``max_retries`` retries at most per call, waiting ``backoff_factor * 2 ** (n - 1)`` seconds before
    the n-th (n >= 2; plus up to half the factor of jitter; at most ``backoff_max``)."""

    max_retries: int
    backoff_factor: float = 0.5
    backoff_max: float = 8.0

    def backoff(self, retry: int) -> float:
        """The wait before the ``retry``-th retry (1: the first)."""
        if retry <= 1:
            return 0.0
        value: float = self.backoff_factor * 2 ** (retry - 1) + random.random() * self.backoff_factor / 2
        return max(0.0, min(self.backoff_max, value))

    def retries(self, method: str, *, status: Optional[int] = None, failure: Optional[Classified] = None) -> bool:
        """Whether this outcome of an attempt (an answer's ``status``, or a ``failure`` to get one) may be
        tried again."""
        if failure is not None:
            if not failure.sent:
                return True
            return failure.kind in _UNFINISHED and method in IDEMPOTENT_METHODS
        return status in RETRY_STATUSES and method in IDEMPOTENT_METHODS

    def delay(self, method: str, retries_done: int, *, status: Optional[int] = None,
              headers: Optional[Mapping[str, str]] = None, failure: Optional[Classified] = None) -> Optional[float]:
        """Seconds to wait before trying this attempt's outcome again; None when it is not tried again
        (not retryable, or ``max_retries`` used)."""
        if retries_done >= self.max_retries or not self.retries(method, status=status, failure=failure):
            return None
        # Any answer tried again waits as long as its Retry-After asks (a 502 or 504 from FC's gateway
        # may say when it will be back): the transport's urllib3 Retry honoured it on every retried status.
        if status is not None and headers is not None:
            asked = parse_retry_after(headers.get("Retry-After"))
            if asked is not None:
                return asked
        return self.backoff(retries_done + 1)
