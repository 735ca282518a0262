"""Waiting for an invocation to end: a policy (delays, cap, deadline) plus acceptors, apart from the call.

As in botocore's waiters and google-api-core's polling, "not done yet" (a non-terminal status) is
polling, and a failed call is retrying: transient API errors during a wait are absorbed here (the
client already retried them briefly), hopeless ones (not found, access denied) end the wait at once.

The default schedule polls about every second during the first seconds, when short tasks end, then
backs off with jitter to a cap, so a task of a few seconds is noticed within about a second and a task
of hours costs a few hundred calls instead of thousands.

Duration-aware schedule: given the function's recent durations (``history``, one list call at the
start of a wait, see :func:`history_for`), the waiter polls sparsely while the task is unlikely to
end and densely where it is likely to (Keller's inspection rule: the interval is
``sqrt(2 * price / hazard)``, the hazard being the chance per second that a task still running
ends now, from a kernel estimate of the durations, the price set so that the calls stay within a
budget), and falls back to the schedule above without a
usable history (none, too few, too spread) or once the task has outlived nearly all of it.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import functools
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

from .errors import (
    InvalidArgumentError,
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
from .clock import Clock, RealClock, call_budget, get_clock, use_clock, within as _within
from .fc2 import InvocationRef, StatefulAsyncInvocationResult
from .models import InvocationStatus

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
]

log = logging.getLogger("pulumi_fc_invocation.waiter")

# Chosen by benchmarks/waiter_sim.py (BENCHMARKS.md, section 4): tasks of 10 s or less are noticed
# within about half a second (median), tasks of 10 min or more cost under a quarter of the calls of
# fixed 5 s polling and are noticed within about 23 s (median).
DEFAULT_POLL_INTERVAL = 1.0
DEFAULT_MAX_POLL_INTERVAL = 45.0
# How long a gate treats "not found" as "not listed yet" after it starts (FC lists a new task late).
NOT_FOUND_GRACE = 10.0
TRANSIENT_ERRORS = (ThrottledError, ServerError, TransportError, InvalidResponseError)
# Answers that asking again cannot mend: a listing that never ends, a redirect, a body past the cap.
HOPELESS_RESPONSES = (PaginationError, RedirectError, ResponseTooLargeError)
# A wall clock this close to FC's (its Date header has whole seconds) is taken as in step with it.
SKEW_TOLERANCE = 2.0

def _positive(argument: str, value: Any, allow_none: bool = False) -> Optional[float]:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 < value < float("inf")):
        raise InvalidArgumentError(argument, value, "must be a positive number of seconds")
    return float(value)


@dataclass(frozen=True)
class WaitPolicy:
    """When to poll. ``timeout`` bounds the whole wait; None waits forever.

    Delays stay at ``initial_delay`` for the first ``fast_phase`` seconds, then grow by ``multiplier``
    per poll up to ``max_delay``; each is spread by +/- ``jitter`` (a fraction) so that many gates
    started together don't poll in lockstep.

    ``not_found_grace``: for this many seconds, until the first successful read, "not found" is
    polled through like a transient error (FC may take a moment to list a task just invoked).

    ``cap``: the user's ceiling on the delays (their ``max_poll_interval_seconds`` or
    ``--max-poll-interval``, when set): no delay exceeds it, jitter and the duration-aware schedule
    included. Unset (None), the default schedule's jitter may take a delay to ``max_delay * (1 +
    jitter)``, and the duration-aware schedule may poll sparser than ``max_delay`` (see below).

    ``final_read_budget``: the read at the deadline has this many seconds of its own (a gate always
    reads once more at its deadline before it judges, unless nothing ever answered, or the reads since
    the last answer were credential fetches cut by the deadline: then the error that used up the time
    is the verdict); unset, :attr:`deadline_read_budget`: ``min(5, max(1, timeout / 10))``, so that
    a short timeout is not doubled; ``history_budget``: the duration history's list call has at
    most this many, within the wait's time left.

    ``duration_aware`` (default on; False opts out): when the waiter has a ``history`` of recent
    durations, poll by the chance that the task ends now (see :class:`DurationEstimate`) instead of
    the schedule above: every ``dense_delay`` seconds where that chance peaks, sparser elsewhere (at
    most ``max(max_delay, median / 5)`` apart, capped by ``sparse_max_delay``, so an early failure
    is still seen), within a budget of calls: what the schedule above would spend on that history;
    a history whose spread is at most ``tight_spread`` may spend one call per
    ``tight_call_interval`` seconds of expected wait instead, as dense polling there pays. The
    spread is the log-durations' interquartile range / 1.349 (about the coefficient of variation);
    a history of fewer than ``min_history`` durations, or spread over ``max_history_spread``, is not
    used.
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
    dense_delay: float = 5.0
    sparse_max_delay: float = 300.0
    tight_spread: float = 0.3
    tight_call_interval: float = 20.0
    min_history: int = 5
    max_history_spread: float = 6.0
    cap: Optional[float] = None
    final_read_budget: Optional[float] = None
    history_budget: float = 5.0

    def __post_init__(self) -> None:
        _positive("poll_interval_seconds", self.initial_delay)
        _positive("max_poll_interval_seconds", self.max_delay)
        _positive("timeout_seconds", self.timeout, allow_none=True)
        if self.max_delay < self.initial_delay:
            raise InvalidArgumentError("max_poll_interval_seconds", self.max_delay,
                                       f"must be at least poll_interval_seconds ({self.initial_delay})")
        if _positive("cap", self.cap, allow_none=True) is not None and self.cap < self.initial_delay:
            raise InvalidArgumentError("max_poll_interval_seconds", self.cap,
                                       f"must be at least poll_interval_seconds ({self.initial_delay})")
        _positive("final_read_budget", self.final_read_budget, allow_none=True)
        _positive("history_budget", self.history_budget)
        if isinstance(self.multiplier, bool) or not isinstance(self.multiplier, (int, float)) or self.multiplier < 1:
            raise InvalidArgumentError("multiplier", self.multiplier, "must be a number >= 1")
        if isinstance(self.fast_phase, bool) or not isinstance(self.fast_phase, (int, float)) or self.fast_phase < 0:
            raise InvalidArgumentError("fast_phase", self.fast_phase, "must be a number of seconds >= 0")
        if isinstance(self.not_found_grace, bool) or not isinstance(self.not_found_grace, (int, float)) \
                or self.not_found_grace < 0:
            raise InvalidArgumentError("not_found_grace", self.not_found_grace, "must be a number of seconds >= 0")
        if isinstance(self.jitter, bool) or not isinstance(self.jitter, (int, float)) or not 0 <= self.jitter < 1:
            raise InvalidArgumentError("jitter", self.jitter, "must be a fraction from 0 to below 1")
        if not isinstance(self.duration_aware, bool):
            raise InvalidArgumentError("duration_aware", self.duration_aware, "must be True or False")
        for name in ("dense_delay", "sparse_max_delay", "tight_call_interval"):
            _positive(name, getattr(self, name))
        if isinstance(self.tight_spread, bool) or not isinstance(self.tight_spread, (int, float)) \
                or not 0 <= self.tight_spread < float("inf"):
            raise InvalidArgumentError("tight_spread", self.tight_spread, "must be a number >= 0")
        if isinstance(self.max_history_spread, bool) or not isinstance(self.max_history_spread, (int, float)) \
                or not 0 < self.max_history_spread < float("inf"):
            raise InvalidArgumentError("max_history_spread", self.max_history_spread, "must be a positive number")
        if isinstance(self.min_history, bool) or not isinstance(self.min_history, int) or self.min_history < 2:
            raise InvalidArgumentError("min_history", self.min_history, "must be an integer >= 2")

    @property
    def deadline_read_budget(self) -> float:
        """Seconds the read at the deadline may take: ``final_read_budget``, else a tenth of the timeout
        within 1 to 5 s."""
        if self.final_read_budget is not None:
            return float(self.final_read_budget)
        return 5.0 if self.timeout is None else min(5.0, max(1.0, self.timeout / 10))

    def next_delay(self, elapsed: float, previous: Optional[float], rng: random.Random) -> tuple[float, float]:
        """(jittered delay, base delay) after a poll at ``elapsed`` seconds; ``previous`` is the last base."""
        if elapsed < self.fast_phase or previous is None:
            base = self.initial_delay
        else:
            base = min(self.max_delay, max(previous, self.initial_delay) * self.multiplier)
        spread = base * self.jitter
        return self.capped(min(self.max_delay * (1 + self.jitter), base + rng.uniform(-spread, spread))), base

    def capped(self, delay: float) -> float:
        """``delay`` within the user's ``cap`` (if any), and at least 50 ms."""
        return max(0.05, delay if self.cap is None else min(delay, self.cap))


_GRID_POINTS = 240
_ROOT_2PI = math.sqrt(2.0 * math.pi)
# The estimate has passed once fewer than this share of the tasks as old as this one still run.
PASSED_SURVIVAL = 0.02
# Before the likely end, polls at most this share of the usual duration apart (an early failure is seen).
SPARSE_SHARE = 0.2


def _quantile(ordered: Sequence[float], q: float) -> float:
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


class DurationEstimate:
    """When a task of one function is likely to end, from that function's recent durations (seconds).

    A Gaussian kernel estimate over the log-durations (so a skewed or two-humped history keeps its
    shape), tabulated once on a log-time grid: ``survival(t)``, the share of tasks still running at
    age ``t``, and ``hazard(t)``, the chance per second that a task still running at ``t`` ends then.
    """

    def __init__(self, durations: Iterable[float]) -> None:
        logs = sorted(math.log(d) for d in durations
                      if isinstance(d, (int, float)) and not isinstance(d, bool) and 0 < d < float("inf"))
        if len(logs) < 2:
            raise InvalidArgumentError("durations", len(logs), "need at least 2 positive durations")
        n = len(logs)
        self.count = n
        self.prices: dict[Any, float] = {}  # _Schedule's prices by (age, policy)
        self.median = math.exp(_quantile(logs, 0.5))
        self.spread = (_quantile(logs, 0.75) - _quantile(logs, 0.25)) / 1.349  # robust sigma of log-durations
        mean = sum(logs) / n
        sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / n)
        scale = min(sd, self.spread) if self.spread > 0 else sd
        self.bandwidth = bandwidth = max(0.9 * scale * n ** -0.2, 0.02)  # Silverman's rule, floored
        lo, hi = logs[0] - 4 * bandwidth, logs[-1] + 4 * bandwidth
        step = (hi - lo) / (_GRID_POINTS - 1)
        self._logs = [lo + i * step for i in range(_GRID_POINTS)]
        self._ages = self.ages = [math.exp(u) for u in self._logs]
        self._survival: list[float] = []
        self._hazard: list[float] = []
        self.survivals, self.hazards = self._survival, self._hazard  # the tables, read-only by convention
        inv = 1.0 / bandwidth
        for u, age in zip(self._logs, self._ages):
            s = f = 0.0
            for x in logs:
                z = (u - x) * inv
                s += math.erfc(z / math.sqrt(2.0))
                f += math.exp(-0.5 * z * z)
            survival = 0.5 * s / n
            density = f / (n * bandwidth * _ROOT_2PI * age)  # per second: d(log t)/dt = 1/t
            self._survival.append(survival)
            self._hazard.append(density / survival if survival > 1e-12 else self._hazard[-1] if self._hazard else 0.0)

    def __repr__(self) -> str:
        return (f"DurationEstimate(count={self.count}, median={self.median:.1f}s, spread={self.spread:.2f}, "
                f"likely {self.quantile(0.1):.1f}-{self.quantile(0.9):.1f}s)")

    def _index(self, age: float) -> int:
        """Index of the first grid point at or past ``age``."""
        return bisect.bisect_left(self._ages, age)

    def survival(self, age: float) -> float:
        i = self._index(age)
        if i == 0:
            return 1.0
        if i >= len(self._ages):
            return 0.0
        a0, a1 = self._ages[i - 1], self._ages[i]
        w = (age - a0) / (a1 - a0)
        return self._survival[i - 1] + w * (self._survival[i] - self._survival[i - 1])

    def hazard(self, age: float) -> float:
        i = self._index(age)
        if i == 0 or i >= len(self._ages):
            return 0.0 if i == 0 else self._hazard[-1]
        a0, a1 = self._ages[i - 1], self._ages[i]
        w = (age - a0) / (a1 - a0)
        return self._hazard[i - 1] + w * (self._hazard[i] - self._hazard[i - 1])

    def quantile(self, q: float) -> float:
        """The age by which a share ``q`` of the tasks had ended (from the tabulated survival)."""
        i = bisect.bisect_left([-s for s in self._survival], -(1.0 - q))
        return self._ages[min(i, len(self._ages) - 1)]

    def interval(self, age: float, call_cost: float, shortest: float, longest: float) -> float:
        """Keller's inspection interval ``sqrt(2 * call_cost / hazard)`` (``call_cost``: the seconds of
        detection delay one call is worth) for a task of age ``age``,
        within [shortest, longest], using the highest hazard over the interval itself, so that a
        sparse sleep never steps over the likely end."""

        shortest = min(shortest, longest)

        def allowed(h: float) -> float:
            return longest if h <= 0 else max(shortest, min(longest, math.sqrt(2.0 * call_cost / h)))

        peak = self.hazard(age)
        delay = allowed(peak)
        for j in range(self._index(age), len(self._ages)):
            if self._ages[j] - age >= delay:
                break
            peak = max(peak, self._hazard[j])
            delay = allowed(peak)
        return delay


@dataclass
class WaitOutcome:
    """How a wait ended: with a terminal result, a timeout, or a hopeless error.

    A timeout without a single successful read carries the last error too (``timed_out`` and
    ``error`` both set): an endpoint that never answered is an API problem, not a slow task."""

    result: Optional[StatefulAsyncInvocationResult]
    elapsed: float
    calls: int
    timed_out: bool = False
    error: Optional[BaseException] = None
    transient_errors: int = 0
    history_calls: int = 0  # the duration history's list call (0 or 1), not counted in ``calls``
    last_error: Optional[BaseException] = None  # a timeout's: why the reads after the last good one failed
    schedule: str = "default"  # "duration-aware" when the history shaped the polling


class _AskHistory:
    """What ``_steps`` yields when it wants the duration history read (once, after the first read)."""


_ASK_HISTORY = _AskHistory()


def _epoch(value: Any) -> Optional[float]:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return value / 1000.0 if value > 1e11 else float(value)  # epoch ms as FC sends it
    return None


def _wall(clock: Any) -> float:
    now = getattr(clock, "now", None)
    return float(now()) if callable(now) else time.time()


@functools.lru_cache(maxsize=32)
def _estimate(durations: tuple[float, ...]) -> DurationEstimate:
    """One estimate per history: the gates of one function share one history, so one table."""
    return DurationEstimate(durations)


def _solve(increasing: Callable[[float], float], target: float) -> float:
    """The largest price (1e-6 to 1e6, to a few per cent) at which ``increasing(price)`` stays within
    ``target``."""
    low, high = 1e-6, 1e6
    if increasing(high) <= target:
        return high
    if increasing(low) > target:
        return low
    for _ in range(14):  # to 0.2% of the price
        mid = math.sqrt(low * high)
        if increasing(mid) <= target:
            low = mid
        else:
            high = mid
    return low


class _Schedule:
    """The duration-aware delays for one wait, from the estimate and the task's age at the first read.

    Keller's rule, ``sqrt(2 * price / hazard)``, with its price set once: polls meet the end every
    ``dense_delay`` seconds on average, unless that costs more than the budget (the default
    schedule's expected calls on the same history, less the history's own call; for a tight history,
    one call per ``tight_call_interval`` of expected wait); then the price that spends the budget.
    Until 5% of such tasks would have ended, polls are at most ``sparse`` apart (so an early failure
    is still seen); in the default's fast phase, where the task is likely to end, as fast as it.
    ``delay`` answers None once the task has outlived nearly all of the history."""

    def __init__(self, estimate: DurationEstimate, age: float, elapsed: float, policy: WaitPolicy) -> None:
        self.estimate = estimate
        self.policy = policy
        self.offset = age - elapsed  # task age = elapsed + offset
        self.start_survival = s0 = estimate.survival(age)
        self.sparse = min(policy.sparse_max_delay, max(policy.max_delay, SPARSE_SHARE * estimate.median),
                          policy.cap if policy.cap is not None else float("inf"))
        # The age by which 5% of the tasks as old as this one have ended: sparse polling until then.
        self.likely_from = next((a for a, s in zip(estimate.ages, estimate.survivals) if a > age and s < 0.95 * s0),
                                age)
        # Gates of one function started together share the price (it costs milliseconds to set).
        key = (round(age), policy)
        prices = estimate.prices
        if len(prices) > 4096:  # a long-lived process: keep the table bounded
            prices.clear()
        entry = prices.get(key)  # one lookup: another thread may clear the table between two
        if entry is None:
            self.fastest = policy.initial_delay * (1 - policy.jitter)
            lam, fits = self._price(age) if s0 > 0 else (1.0, True)
            if not fits:  # the fast phase at its fastest does not fit the budget: at the default's pace
                self.fastest = policy.initial_delay
                lam, _ = self._price(age)
            entry = prices[key] = (lam, self.fastest)
        self.lam, self.fastest = entry

    def passed(self, elapsed: float) -> bool:
        if self.start_survival <= 0:
            return True
        return self.estimate.survival(elapsed + self.offset) / self.start_survival < PASSED_SURVIVAL

    def _longest(self, elapsed: float) -> float:
        p = self.policy
        age = elapsed + self.offset
        fastest = self.fastest
        if self._fast(elapsed):
            # Likely to end within the default's fast phase: as fast as its fastest jittered poll (the
            # polls skipped before pay for it).
            return fastest
        # Grow no faster than the default's back-off, unless no end is likely before the next poll.
        longest = min(self.sparse, max(p.initial_delay, elapsed * (p.multiplier - 1), self.likely_from - age))
        if elapsed < p.fast_phase:  # and do not sleep past the fast phase's likely ends
            longest = min(longest, max(fastest, self.likely_from - age))
        return longest

    def _fast(self, elapsed: float) -> bool:
        return elapsed < self.policy.fast_phase and elapsed + self.offset >= self.likely_from

    def _today(self, elapsed: float) -> float:
        """The default schedule's interval at ``elapsed`` (its back-off, smoothed)."""
        p = self.policy
        if elapsed < p.fast_phase:
            return p.initial_delay
        return min(p.max_delay, p.initial_delay * p.multiplier + (elapsed - p.fast_phase) * (p.multiplier - 1))

    def _price(self, age: float) -> tuple[float, bool]:
        """(price, whether the schedule fits the budget)."""
        est, policy, s0 = self.estimate, self.policy, self.start_survival
        grid = [a for a, s in zip(est.ages, est.survivals) if a > age and s / s0 >= PASSED_SURVIVAL]
        if not grid:
            return 1.0, True
        # The grid covers the history; the wait's own early seconds need points too.
        early, step = [], 0.5
        while age + step < grid[0]:
            early.append(age + step)
            step *= 1.5
        points = [age] + early + grid
        weights = [est.survival(a) / s0 for a in points]  # share of such tasks still running
        widths = [b - a for a, b in zip(points, points[1:])]
        hazards = [est.hazard(a) for a in points]
        longest = [self._longest(a - self.offset) for a in points]
        shortest = policy.initial_delay
        ends = [w * h for w, h in zip(weights, hazards)]  # where the end falls (unnormalised density)
        if any(not self._fast(a - self.offset) and f > 0 for a, f in zip(points, ends)):
            # The fast phase's polls are fixed: the price is for the rest.
            ends = [0.0 if self._fast(a - self.offset) else f for a, f in zip(points, ends)]
        total = sum(ends)
        if total <= 0:
            return 1.0, True

        def intervals(lam: float) -> list[float]:
            return [top if h <= 0 else max(min(shortest, top), min(top, math.sqrt(2.0 * lam / h)))
                    for h, top in zip(hazards, longest)]

        def calls(steps: list[float]) -> float:
            """Expected calls: the integral of (share still running) / interval over the likely wait."""
            rates = [w / d for w, d in zip(weights, steps)]
            return sum(0.5 * (r0 + r1) * d for r0, r1, d in zip(rates, rates[1:], widths))

        # Short tasks as densely as the default's fast phase (a 10 s task's end needs a 1 s poll).
        # (At least 10% over the shortest interval: at exactly it, any price would do, the smallest won.)
        dense = max(1.1 * shortest, min(policy.dense_delay, max(shortest, est.median / 20)))
        lam = _solve(lambda x: sum(f * d for f, d in zip(ends, intervals(x))) / total, dense)
        budget = calls([self._today(a - self.offset) for a in points]) - 1  # the history read was a call
        if est.spread <= policy.tight_spread:
            remaining = sum(0.5 * (w0 + w1) * d for w0, w1, d in zip(weights, weights[1:], widths))
            # Less the first read, the history and two calls of margin.
            budget = max(budget, remaining / policy.tight_call_interval - 4)
        if calls(intervals(lam)) > budget:
            lam = max(lam, _solve(lambda x: -calls(intervals(x)), -budget))
        target = budget
        spent = self._walk(lam, age)
        for _ in range(3):  # the integral is fast but approximate: correct it by walking the schedule itself
            if spent <= 0 or spent <= budget * 1.02:  # nothing spent: a short task already past its runs
                break
            target *= budget / spent
            lam = max(lam, _solve(lambda x: -calls(intervals(x)), -target))
            spent = self._walk(lam, age)
        return lam, spent <= budget * 1.02

    def _walk(self, lam: float, age: float) -> float:
        """Expected calls of the schedule at price ``lam`` (no jitter): the share still running at each poll."""
        est, s0, shortest = self.estimate, self.start_survival, self.policy.initial_delay
        spent, t = 0.0, age
        for _ in range(100_000):
            elapsed = t - self.offset
            if self.passed(elapsed):
                break
            t += est.interval(t, lam, shortest, self._longest(elapsed))
            spent += est.survival(t) / s0
        return spent

    def delay(self, elapsed: float) -> Optional[float]:
        if self.passed(elapsed):
            return None
        return self.estimate.interval(elapsed + self.offset, self.lam, self.policy.initial_delay,
                                      self._longest(elapsed))


@dataclass
class Waiter:
    """Polls ``fetch`` under ``policy`` until the invocation is terminal, the deadline passes, or a
    hopeless error occurs. ``on_progress(result, elapsed)`` is called about every ``progress_interval``.

    ``history``: returns the function's recent durations in seconds (or None); called once, after a
    first read that found the task still running, when ``policy.duration_aware`` (see
    :func:`history_for`). Whatever it raises or returns that is not a usable history, the wait goes
    on with the default schedule.

    Each call (``fetch``, ``history``) runs with :func:`call_budget` set to the seconds it may take:
    until the deadline, or ``policy.deadline_read_budget`` for the read at the deadline (made even when
    an earlier call ran past it, once a read has answered), or ``policy.history_budget`` within the
    time left for the history.

    ``server_now``: FC's clock now, in epoch seconds, or None (e.g. ``FcClient.server_time``): a task's
    age is measured on it when this machine's wall clock is more than :data:`SKEW_TOLERANCE` off.
    """

    fetch: Callable[[], StatefulAsyncInvocationResult]
    policy: WaitPolicy = field(default_factory=WaitPolicy)
    clock: Any = None
    on_progress: Optional[Callable[[Optional[StatefulAsyncInvocationResult], float], Any]] = None
    progress_interval: float = 30.0
    rng: random.Random = field(default_factory=random.Random)
    history: Optional[Callable[[], Optional[Iterable[float]]]] = None
    server_now: Optional[Callable[[], Optional[float]]] = None
    _budget: Optional[float] = field(default=None, init=False, repr=False)

    def _clock(self) -> Any:
        return self.clock if self.clock is not None else get_clock()

    def _read_history(self) -> Any:
        try:
            return self.history() if self.history is not None else None
        except Exception as exc:  # noqa: BLE001 - a history is an optimisation: never fail a wait for it
            log.debug("duration history unavailable (%s): default schedule", type(exc).__name__)
            return None

    def wait(self) -> WaitOutcome:
        """Blocking form (CLI, scripts)."""
        clock = self._clock()
        participant = getattr(clock, "participant", None)
        with participant() if participant is not None else contextlib.nullcontext():
            steps = self._steps(clock)
            delay = next(steps)
            while True:
                if isinstance(delay, WaitOutcome):
                    return delay
                if delay is _ASK_HISTORY:
                    delay = steps.send(_within(self._budget, self._read_history))
                    continue
                if delay > 0:
                    clock.sleep(delay)
                try:
                    value: Any = _within(self._budget, self.fetch)
                except Exception as exc:  # noqa: BLE001 - classified in _steps
                    value = exc
                delay = steps.send(value)

    async def wait_async(self, executor: Any = None) -> WaitOutcome:
        """Asyncio form: the calls run in ``executor`` so many waits share one event loop."""
        clock = self._clock()
        loop = asyncio.get_running_loop()
        participant = getattr(clock, "participant", None)
        ctx = participant() if participant is not None else contextlib.nullcontext()
        with ctx:
            steps = self._steps(clock)
            delay = next(steps)
            while True:
                if isinstance(delay, WaitOutcome):
                    return delay
                if delay is _ASK_HISTORY:
                    delay = steps.send(await loop.run_in_executor(executor, _within, self._budget,
                                                                  self._read_history))
                    continue
                if delay > 0:
                    await clock.asleep(delay)
                try:
                    value = await loop.run_in_executor(executor, _within, self._budget, self.fetch)
                except Exception as exc:  # noqa: BLE001 - classified in _steps
                    value = exc
                delay = steps.send(value)

    def _schedule(self, durations: Any, first: Any, clock: Any, elapsed: float) -> Optional[_Schedule]:
        """The duration-aware schedule, or None (with a debug log saying why) for the default one."""
        policy = self.policy
        try:
            values = list(durations) if durations is not None else []
        except TypeError:
            values = []
        if len(values) < policy.min_history:
            log.debug("duration history: %d durations (under %d): default schedule", len(values), policy.min_history)
            return None
        try:
            estimate = _estimate(tuple(values))
        except (InvalidArgumentError, TypeError):
            log.debug("duration history: no positive durations: default schedule")
            return None
        if estimate.spread > policy.max_history_spread:
            log.debug("duration history too spread (%.2f > %.2f): default schedule", estimate.spread,
                      policy.max_history_spread)
            return None
        started = _epoch(getattr(first, "started_time", None))
        age = max(0.0, self._now_on_fcs_clock(clock) - started) if started is not None else 0.0
        try:
            schedule = _Schedule(estimate, age, elapsed, policy)
        except (ArithmeticError, ValueError) as exc:  # an odd history must never fail a wait
            log.debug("duration-aware schedule not priced (%s: %s): default schedule", type(exc).__name__, exc)
            return None
        if schedule.passed(elapsed):
            log.debug("task already %.0f s old, past its %r: default schedule", age, estimate)
            return None
        log.debug("duration-aware schedule: task %.0f s old, %r", age, estimate)
        return schedule

    def _now_on_fcs_clock(self, clock: Any) -> float:
        """FC's time now: this machine's wall clock, unless FC's (``server_now``) is more than
        :data:`SKEW_TOLERANCE` off it (a task's age is FC's time minus FC's ``startedTime``)."""
        local = _wall(clock)
        try:
            server = self.server_now() if self.server_now is not None else None
        except Exception:  # noqa: BLE001 - an optimisation's input: never fail a wait for it
            server = None
        if server is None or abs(server - local) <= SKEW_TOLERANCE:
            return local
        log.debug("this machine's clock is %.0f s off FC's: a task's age is measured on FC's", local - server)
        return server

    def _steps(self, clock: Any):
        """The waiting logic as a generator: yields a delay (or ``_ASK_HISTORY``), receives a result,
        an exception (or the history)."""
        policy = self.policy
        started = clock.monotonic()
        calls = transient = consecutive = history_calls = 0
        last: Optional[StatefulAsyncInvocationResult] = None
        last_error: Optional[BaseException] = None
        base: Optional[float] = None
        schedule: Optional[_Schedule] = None
        used_schedule = False
        want_history = self.history is not None and policy.duration_aware
        next_progress = self.progress_interval
        at_deadline = False  # the read asked for is the one at the deadline
        # Every read since the last answer failed for a credential fetch cut by the deadline (a hung STS):
        # the read at the deadline would hang on it too.
        fetches_cut = False
        self._budget = policy.timeout

        def outcome(result: Any, elapsed: float, **kw: Any) -> WaitOutcome:
            return WaitOutcome(result, elapsed, calls, transient_errors=transient, history_calls=history_calls,
                               schedule="duration-aware" if used_schedule else "default", **kw)

        value = yield 0.0
        while True:
            calls += 1
            now = clock.monotonic()
            elapsed = now - started
            in_grace = isinstance(value, NotFoundError) and last is None and elapsed < policy.not_found_grace
            # No connection before any answer: a wrong endpoint, not a blip; waiting would only hide it.
            unreachable = isinstance(value, UnreachableError) and last is None
            throttled = False
            if (isinstance(value, TRANSIENT_ERRORS) and not isinstance(value, HOPELESS_RESPONSES)
                    and not unreachable) or in_grace:
                last_error = value
                cut = getattr(value, "credential_fetch_cut", False) is True
                fetches_cut = cut and (consecutive == 0 or fetches_cut)
                transient += 1
                consecutive += 1
                throttled = isinstance(value, ThrottledError)
                if consecutive >= policy.max_consecutive_errors:
                    yield outcome(last, elapsed, error=value)
                    return
            elif isinstance(value, BaseException):
                yield outcome(last, elapsed, error=value)
                return
            else:
                consecutive, fetches_cut = 0, False
                last, last_error = value, None
                if value.is_terminal:
                    yield outcome(value, elapsed)
                    return
                left = None if policy.timeout is None else policy.timeout - elapsed
                if want_history and (left is None or left > 0):
                    want_history = False
                    history_calls = 1
                    self._budget = policy.history_budget if left is None else min(policy.history_budget, left)
                    durations = yield _ASK_HISTORY
                    now = clock.monotonic()
                    elapsed = now - started
                    schedule = self._schedule(durations, value, clock, elapsed)
            if self.on_progress is not None and elapsed >= next_progress:
                self.on_progress(last, elapsed)
                while next_progress <= elapsed:
                    next_progress += self.progress_interval
            try:
                planned = schedule.delay(elapsed) if schedule is not None else None
            except (ArithmeticError, ValueError) as exc:  # never a failed wait for the schedule's arithmetic
                log.debug("duration-aware delay failed (%s: %s): default schedule", type(exc).__name__, exc)
                planned = None
            if planned is None:
                if schedule is not None:  # the estimate has passed: the default schedule from here
                    log.debug("task outlived its duration history after %.0f s: default schedule", elapsed)
                    schedule = None
                delay, base = policy.next_delay(elapsed, base, self.rng)
            else:
                used_schedule = True
                if throttled:  # FC asked us to slow down: back off as the default schedule would
                    backoff = policy.initial_delay * policy.multiplier ** consecutive
                    planned = max(planned, min(policy.max_delay, backoff))
                base = planned
                spread = planned * policy.jitter
                delay = policy.capped(planned + self.rng.uniform(-spread, spread))
            if policy.timeout is not None:
                remaining = policy.timeout - elapsed
                # Judged on the read at the deadline; or, with no answer yet, on the error that used up the time.
                if remaining <= 0 and (at_deadline or last is None):
                    yield outcome(last, elapsed, timed_out=True, error=last_error if last is None else None,
                                  last_error=last_error)
                    return
                # The last read is at the deadline (at once if a call ran past it), with a budget of its own.
                at_deadline = delay >= remaining
                if at_deadline and fetches_cut and last is not None:
                    yield outcome(last, elapsed, timed_out=True, last_error=last_error)
                    return
                if at_deadline:
                    delay = max(0.0, remaining)
                self._budget = policy.deadline_read_budget if at_deadline else remaining - delay
            value = yield delay


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
        begin, end = _epoch(getattr(item, "started_time", None)), _epoch(getattr(item, "end_time", None))
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
        self.ttl = _positive("ttl", ttl)
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


def history_for(client: Any, ref: Any, *, limit: int = 50, ttl: float = 300.0) -> DurationHistory:
    """The duration history of ``ref``'s function and qualifier through ``client``, for either API:
    an FC 2.0 :class:`InvocationRef` (or its composite id) reads ``ListStatefulAsyncInvocations``
    (status Succeeded, newest first, one page of ``limit``); an FC 3.0 ``AsyncTaskRef`` reads
    ``ListAsyncTasks`` the same way (``list_async_tasks_page``). Nothing is called until the history is."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
        raise InvalidArgumentError("limit", limit, "must be an integer from 1 to 100 (one page)")
    if isinstance(ref, str):
        ref = InvocationRef.parse(ref)
    function, qualifier = getattr(ref, "function_name", None), getattr(ref, "qualifier", None)
    if function is None:
        raise InvalidArgumentError("ref", ref, "must be an InvocationRef or an AsyncTaskRef")
    service = getattr(ref, "service_name", None)
    if service is not None:
        def read() -> Iterable[Any]:
            items, _ = client.list_stateful_async_invocations_page(
                service, function, qualifier=qualifier, status="Succeeded", page_size=limit)
            return items
        where = f"{service}{'.' + qualifier if qualifier else ''}/{function}"
    else:
        def read() -> Iterable[Any]:
            items, _ = client.list_async_tasks_page(function, qualifier=qualifier, status="Succeeded",
                                                    page_size=limit)
            return items
        where = f"{function}{'.' + qualifier if qualifier else ''}"
    return DurationHistory(read, where, ttl)


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


def wait_for_invocation(
    client: Any,
    ref: "InvocationRef | str",
    *,
    policy: Optional[WaitPolicy] = None,
    on_progress: Optional[Callable[[Optional[StatefulAsyncInvocationResult], float], Any]] = None,
    clock: Any = None,
    history: Optional[Callable[[], Optional[Iterable[float]]]] = None,
) -> WaitOutcome:
    """Blocking wait on one invocation with ``client`` (used by the CLI and the function form).

    Duration-aware by default: without a ``history``, the function's own is read through ``client``
    (:func:`history_for`) unless ``policy.duration_aware`` is False."""
    if not isinstance(ref, InvocationRef):
        ref = InvocationRef.parse(ref)
    policy = policy or WaitPolicy()
    if policy.timeout is not None and hasattr(client, "bounded"):
        client = client.bounded(call_budget)  # every call within the wait's deadline
    if history is None and policy.duration_aware:
        history = history_for(client, ref)
    waiter = Waiter(lambda: client.get(ref), policy, clock=clock, on_progress=on_progress, history=history,
                    server_now=getattr(client, "server_time", None))
    return waiter.wait()


async def wait_for_invocation_async(
    fetch: Callable[[], StatefulAsyncInvocationResult],
    *,
    policy: WaitPolicy,
    on_progress: Optional[Callable[[Optional[StatefulAsyncInvocationResult], float], Any]] = None,
    executor: Any = None,
    history: Optional[Callable[[], Optional[Iterable[float]]]] = None,
) -> WaitOutcome:
    return await Waiter(fetch, policy, on_progress=on_progress, history=history).wait_async(executor)
