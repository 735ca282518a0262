"""Waiting for a task or invocation to end, in botocore's shape: a small policy, acceptors, one loop.

The rooms, one job each:

- :mod:`.policy`: :class:`WaitPolicy`, the knobs a front end sets (delays, cap, deadline, errors).
- :mod:`.acceptors`: what one read means (done, failed, retry, poll again), as an ordered table.
- :mod:`.schedules`: how long to sleep: the default back-off and the duration-aware strategy.
- :mod:`.estimate`: when a task is likely to end, from a function's recent durations (kernel + solver).
- :mod:`.history`: reading and sharing those durations (one list call through a client).
- :mod:`.loop`: :class:`Waiter`, the loop, free of I/O (it calls only what it is given), clock injected.
- :mod:`.invocations`: :func:`wait_for_invocation`, the loop over a client's reads.

The clock lives in :mod:`pulumi_fc_invocation.clock`; its names are re-exported here, as before.
"""

from __future__ import annotations

import warnings
from typing import Any

from .. import models
from ..clock import Clock, RealClock, call_budget, get_clock, use_clock
from .acceptors import HOPELESS_RESPONSES, TRANSIENT_ERRORS
from .estimate import DurationEstimate
from .history import DurationHistory, batch_history, durations_of, history_for
from .invocations import wait_for_invocation, wait_for_invocation_async
from .loop import SKEW_TOLERANCE, WaitOutcome, Waiter
from .policy import DEFAULT_MAX_POLL_INTERVAL, DEFAULT_POLL_INTERVAL, NOT_FOUND_GRACE, WaitPolicy
from .schedules import Backoff, DurationAware

__all__ = [
    "WaitPolicy",
    "Waiter",
    "WaitOutcome",
    "Clock",
    "RealClock",
    "use_clock",
    "get_clock",
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_MAX_POLL_INTERVAL",
    "TRANSIENT_ERRORS",
    "NOT_FOUND_GRACE",
    "DurationEstimate",
    "DurationHistory",
    "history_for",
    "batch_history",
    "durations_of",
    "wait_for_invocation",
    "wait_for_invocation_async",
    "call_budget",
    "SKEW_TOLERANCE",
    "Backoff",
    "DurationAware",
]

# Names of 0.1's waiter that live in the vocabulary now: still served, with a DeprecationWarning. (0.1's
# format_duration, progress_message, failure_message and timeout_message went to the gate core,
# pulumi_fc_invocation.gate.messages, a layer above this one: CHANGELOG.md says so.)
_MOVED_TO_MODELS = frozenset({"DEFAULT_FAIL_ON", "check_fail_on_statuses"})


def __getattr__(name: str) -> Any:
    if name in _MOVED_TO_MODELS:
        warnings.warn(f"pulumi_fc_invocation.waiter.{name} moved to pulumi_fc_invocation.models; import it from there",
                      DeprecationWarning, stacklevel=2)
        return getattr(models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
