"""When to poll and when to give up: :class:`WaitPolicy`, the knobs a front end sets.

As botocore's waiter config holds a delay and a number of attempts, the policy holds the delays
(``initial_delay`` to ``max_delay``, the user's ``cap``, the back-off's shape), the deadline
(``timeout`` and the read at it), how many errors in a row end a wait, the not-found grace, and
whether the duration-aware schedule may be used. How that schedule is tuned is the strategy's
business (:class:`~.schedules.DurationAware`), not the policy's; the policy keeps its former tuning
fields, deprecated, so that a caller of an earlier version still runs (:data:`MOVED`).
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Optional, overload

from ..errors import InvalidArgumentError

__all__ = ["WaitPolicy", "DEFAULT_POLL_INTERVAL", "DEFAULT_MAX_POLL_INTERVAL", "NOT_FOUND_GRACE", "positive_seconds",
           "check_tuning", "MOVED"]

# Chosen by benchmarks/waiter_sim.py (docs/benchmarks.md, section 4): tasks of 10 s or less are noticed
# within about half a second (median), tasks of 10 min or more cost under a quarter of the calls of
# fixed 5 s polling and are noticed within about 23 s (median).
DEFAULT_POLL_INTERVAL = 1.0
DEFAULT_MAX_POLL_INTERVAL = 45.0
# How long a gate treats "not found" as "not listed yet" after it starts (FC lists a new task late).
NOT_FOUND_GRACE = 10.0
# The read at the deadline may take a tenth of the timeout, within these bounds (a short timeout is not doubled).
DEADLINE_READ_BOUNDS = (1.0, 5.0)


@overload
def positive_seconds(argument: str, value: Any, allow_none: Literal[False] = False) -> float: ...
@overload
def positive_seconds(argument: str, value: Any, allow_none: bool) -> Optional[float]: ...


def positive_seconds(argument: str, value: Any, allow_none: bool = False) -> Optional[float]:
    """``value`` as a float, or an error naming ``argument`` unless it is a positive finite number."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 < value < float("inf")):
        raise InvalidArgumentError(argument, value, "must be a positive number of seconds")
    return float(value)


def _at_least(argument: str, value: Any, low: float, rule: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value < float("inf"):
        raise InvalidArgumentError(argument, value, rule)


def check_tuning(values: Mapping[str, Any]) -> None:
    """The rules of the duration-aware strategy's tuning (:class:`~.schedules.DurationAware`), for the
    fields among ``values``: here, below the strategy, so that the policy's deprecated copies of them
    are checked by the same rules (the strategy's module imports this one)."""
    for name in ("dense_delay", "sparse_max_delay", "tight_call_interval"):
        if name in values:
            positive_seconds(name, values[name])
    if "tight_spread" in values:
        _at_least("tight_spread", values["tight_spread"], 0, "must be a number >= 0")
    spread = values.get("max_history_spread")
    if "max_history_spread" in values and (isinstance(spread, bool) or not isinstance(spread, (int, float))
                                           or not 0 < spread < float("inf")):
        raise InvalidArgumentError("max_history_spread", spread, "must be a positive number")
    least = values.get("min_history")
    if "min_history" in values and (isinstance(least, bool) or not isinstance(least, int) or least < 2):
        raise InvalidArgumentError("min_history", least, "must be an integer >= 2")


# The policy's fields that moved out of it after 0.1.0 (they tuned the duration-aware schedule and the
# history's call): where each went. Set, they still work, with a DeprecationWarning saying so.
MOVED = {
    **{name: f"DurationAware({name}=...), a Waiter's history_schedule (pulumi_fc_invocation.waiter.DurationAware)"
       for name in ("dense_delay", "sparse_max_delay", "tight_spread", "tight_call_interval", "min_history",
                    "max_history_spread")},
    "history_budget": "the waiter's HISTORY_BUDGET (pulumi_fc_invocation.waiter.loop.HISTORY_BUDGET, 5 s)",
}


@dataclass(frozen=True)
class WaitPolicy:
    """When to poll. ``timeout`` bounds the whole wait; None waits forever.

    The delays (the default schedule, :class:`~.schedules.Backoff`): ``initial_delay`` for the first
    ``fast_phase`` seconds, then ``multiplier`` times longer per poll up to ``max_delay``; each
    spread by +/- ``jitter`` (a fraction) so that many gates started together don't poll in lockstep.

    ``cap``: the user's ceiling (their ``max_poll_interval_seconds`` or ``--max-poll-interval``, when
    set): no delay exceeds it, jitter and the duration-aware schedule included. Unset (None), jitter
    may take a delay to ``max_delay * (1 + jitter)`` and the duration-aware schedule may poll sparser.

    ``duration_aware`` (default on; False opts out): given the function's recent durations, poll by
    the chance that the task ends now (:class:`~.schedules.DurationAware`) instead.

    ``max_consecutive_errors``: transient errors in a row that end the wait. ``not_found_grace``: for
    this many seconds, until the first successful read, "not found" is polled through like a transient
    error (FC may take a moment to list a task just invoked).

    ``final_read_budget``: the read at the deadline has this many seconds of its own (a gate always
    reads once more at its deadline before it judges); unset, :attr:`deadline_read_budget`.

    Deprecated (:data:`MOVED` says where each went): ``dense_delay``, ``sparse_max_delay``,
    ``tight_spread``, ``tight_call_interval``, ``min_history``, ``max_history_spread`` (the
    strategy's tuning: set, a :class:`~.loop.Waiter` tunes its strategy with them) and
    ``history_budget`` (set, the history's call has this many seconds). The fields keep the order
    they had, so a positional call of an earlier version means what it meant.
    """

    initial_delay: float = DEFAULT_POLL_INTERVAL
    max_delay: float = DEFAULT_MAX_POLL_INTERVAL
    multiplier: float = 3.0
    fast_phase: float = 10.0
    jitter: float = 0.2
    timeout: Optional[float] = 1800.0
    max_consecutive_errors: int = 10
    not_found_grace: float = 0.0
    duration_aware: bool = True
    dense_delay: Optional[float] = None  # deprecated: MOVED
    sparse_max_delay: Optional[float] = None  # deprecated: MOVED
    tight_spread: Optional[float] = None  # deprecated: MOVED
    tight_call_interval: Optional[float] = None  # deprecated: MOVED
    min_history: Optional[int] = None  # deprecated: MOVED
    max_history_spread: Optional[float] = None  # deprecated: MOVED
    cap: Optional[float] = None
    final_read_budget: Optional[float] = None
    history_budget: Optional[float] = None  # deprecated: MOVED

    def __post_init__(self) -> None:
        self._check_moved()
        positive_seconds("poll_interval_seconds", self.initial_delay)
        positive_seconds("max_poll_interval_seconds", self.max_delay)
        positive_seconds("timeout_seconds", self.timeout, allow_none=True)
        if self.max_delay < self.initial_delay:
            raise InvalidArgumentError("max_poll_interval_seconds", self.max_delay,
                                       f"must be at least poll_interval_seconds ({self.initial_delay})")
        cap = positive_seconds("cap", self.cap, allow_none=True)
        if cap is not None and cap < self.initial_delay:
            raise InvalidArgumentError("max_poll_interval_seconds", self.cap,
                                       f"must be at least poll_interval_seconds ({self.initial_delay})")
        positive_seconds("final_read_budget", self.final_read_budget, allow_none=True)
        _at_least("multiplier", self.multiplier, 1, "must be a number >= 1")
        _at_least("fast_phase", self.fast_phase, 0, "must be a number of seconds >= 0")
        _at_least("not_found_grace", self.not_found_grace, 0, "must be a number of seconds >= 0")
        if isinstance(self.jitter, bool) or not isinstance(self.jitter, (int, float)) or not 0 <= self.jitter < 1:
            raise InvalidArgumentError("jitter", self.jitter, "must be a fraction from 0 to below 1")
        if not isinstance(self.duration_aware, bool):
            raise InvalidArgumentError("duration_aware", self.duration_aware, "must be True or False")
        if isinstance(self.max_consecutive_errors, bool) or not isinstance(self.max_consecutive_errors, int) \
                or self.max_consecutive_errors < 1:
            raise InvalidArgumentError("max_consecutive_errors", self.max_consecutive_errors,
                                       "must be an integer >= 1")

    def tuning_overrides(self) -> dict[str, Any]:
        """The deprecated tuning fields that are set, for the strategy (``DurationAware(**them)``)."""
        return {name: getattr(self, name) for name in MOVED if name != "history_budget"
                and getattr(self, name) is not None}

    def _check_moved(self) -> None:
        given = self.tuning_overrides()
        check_tuning(given)
        positive_seconds("history_budget", self.history_budget, allow_none=True)
        if self.history_budget is not None:
            given["history_budget"] = self.history_budget
        for name in given:
            warnings.warn(f"WaitPolicy({name}=...) is deprecated: it moved to {MOVED[name]}", DeprecationWarning,
                          stacklevel=4)

    @property
    def deadline_read_budget(self) -> float:
        """Seconds the read at the deadline may take: ``final_read_budget``, else a tenth of the timeout
        within 1 to 5 s."""
        low, high = DEADLINE_READ_BOUNDS
        if self.final_read_budget is not None:
            return float(self.final_read_budget)
        return high if self.timeout is None else min(high, max(low, self.timeout / 10))

    def next_delay(self, elapsed: float, previous: Optional[float], rng: random.Random) -> tuple[float, float]:
        """The default schedule's (jittered delay, base delay) after a poll at ``elapsed`` seconds;
        ``previous`` is the last base. A subclass may poll otherwise (benchmarks/waiter_sim.py does)."""
        if elapsed < self.fast_phase or previous is None:
            base = self.initial_delay
        else:
            base = min(self.max_delay, max(previous, self.initial_delay) * self.multiplier)
        return self.capped(min(self.max_delay * (1 + self.jitter), self.jittered(base, rng))), base

    def jittered(self, delay: float, rng: random.Random) -> float:
        """``delay`` spread by +/- ``jitter``."""
        spread = delay * self.jitter
        return delay + rng.uniform(-spread, spread)

    def capped(self, delay: float) -> float:
        """``delay`` within the user's ``cap`` (if any), and at least 50 ms."""
        return max(0.05, delay if self.cap is None else min(delay, self.cap))
