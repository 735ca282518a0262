"""How long to sleep before the next read: two strategies beside each other.

:class:`Backoff`, the default: about every second during the first seconds, when short tasks end,
then backing off with jitter to a cap, so a task of a few seconds is noticed within about a second
and a task of hours costs a few hundred calls instead of thousands.

:class:`DurationAware`, given the function's recent durations (one list call at the start of a wait,
see :mod:`.history`): polls sparsely while the task is unlikely to end and densely where it is likely
to (Keller's inspection rule: the interval is ``sqrt(2 * price / hazard)``, the hazard being the
chance per second that a task still running ends now, from :class:`~.estimate.DurationEstimate`, the
price set so that the calls stay within a budget). It declines (None) without a usable history
(too few, too spread) and hands over to the default once the task has outlived nearly all of it.

A schedule for one wait answers ``next_delay(elapsed, rng, throttled)``: the seconds to sleep after a
read at ``elapsed``; ``throttled``, when FC asked us to slow down, is the count of errors in a row.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import asdict, dataclass
from typing import Any, Optional

from ..errors import InvalidArgumentError
from .estimate import DurationEstimate, estimate_of, solve_price
from .policy import WaitPolicy, check_tuning

__all__ = ["Backoff", "DurationAware", "DurationAwareSchedule", "PASSED_SURVIVAL", "SPARSE_SHARE"]

log = logging.getLogger(__name__)

# The estimate has passed once fewer than this share of the tasks as old as this one still run.
PASSED_SURVIVAL = 0.02
# Before the likely end, polls at most this share of the usual duration apart (an early failure is seen).
SPARSE_SHARE = 0.2


class Backoff:
    """The default schedule for one wait: the policy's back-off (:meth:`WaitPolicy.next_delay`), from
    the last base delay, which the duration-aware schedule sets while it leads."""

    name = "default"

    def __init__(self, policy: WaitPolicy) -> None:
        self.policy = policy
        self.base: Optional[float] = None

    def next_delay(self, elapsed: float, rng: random.Random, throttled: int = 0) -> float:
        delay, self.base = self.policy.next_delay(elapsed, self.base, rng)
        return delay


@dataclass(frozen=True)
class DurationAware:
    """The duration-aware strategy's tuning (no front end sets it; benchmarks/waiter_sim.py chose it).

    Polls meet the likely end every ``dense_delay`` seconds on average, and before it are at most
    ``max(max_delay, median / 5)`` apart, capped by ``sparse_max_delay`` (an early failure is still
    seen), within a budget of calls: what the default schedule would spend on that history; a history
    whose spread is at most ``tight_spread`` may spend one call per ``tight_call_interval`` seconds of
    expected wait instead, as dense polling there pays. The spread is the log-durations' interquartile
    range / 1.349 (about the coefficient of variation); a history of fewer than ``min_history``
    durations, or spread over ``max_history_spread``, is not used.
    """

    dense_delay: float = 5.0
    sparse_max_delay: float = 300.0
    tight_spread: float = 0.3
    tight_call_interval: float = 20.0
    min_history: int = 5
    max_history_spread: float = 6.0

    def __post_init__(self) -> None:
        check_tuning(asdict(self))  # the rules live beside the policy, which checks its deprecated copies

    def sparsest(self, policy: WaitPolicy) -> float:
        """The longest this strategy sleeps before the likely end under ``policy`` (a start line says it)."""
        return self.sparse_max_delay if policy.cap is None else min(policy.cap, self.sparse_max_delay)

    def start(self, durations: Any, age: float, elapsed: float, policy: WaitPolicy,
              fallback: Backoff) -> Optional[DurationAwareSchedule]:
        """The schedule for a task ``age`` seconds old at ``elapsed`` seconds into the wait, or None (with
        a debug log saying why) for the default one."""
        try:
            values = list(durations) if durations is not None else []
        except TypeError:
            values = []
        if len(values) < self.min_history:
            log.debug("duration history: %d durations (under %d): default schedule", len(values), self.min_history)
            return None
        try:
            estimate = estimate_of(tuple(values))
        except (InvalidArgumentError, TypeError):
            log.debug("duration history: no positive durations: default schedule")
            return None
        if estimate.spread > self.max_history_spread:
            log.debug("duration history too spread (%.2f > %.2f): default schedule", estimate.spread,
                      self.max_history_spread)
            return None
        try:
            schedule = DurationAwareSchedule(estimate, age, elapsed, policy, self, fallback)
        except (ArithmeticError, ValueError) as exc:  # an odd history must never fail a wait
            log.debug("duration-aware schedule not priced (%s: %s): default schedule", type(exc).__name__, exc)
            return None
        if schedule.passed(elapsed):
            log.debug("task already %.0f s old, past its %r: default schedule", age, estimate)
            return None
        log.debug("duration-aware schedule: task %.0f s old, %r", age, estimate)
        return schedule


class DurationAwareSchedule:
    """The duration-aware delays for one wait, from the estimate and the task's age at the first read.

    Keller's rule, ``sqrt(2 * price / hazard)``, with its price set once: polls meet the end every
    ``dense_delay`` seconds on average, unless that costs more than the budget (the default
    schedule's expected calls on the same history, less the history's own call; for a tight history,
    one call per ``tight_call_interval`` of expected wait); then the price that spends the budget.
    Until 5% of such tasks would have ended, polls are at most ``sparse`` apart (so an early failure
    is still seen); in the default's fast phase, where the task is likely to end, as fast as it.
    ``delay`` answers None once the task has outlived nearly all of the history; :meth:`next_delay`
    then hands over to ``fallback``, the default schedule, for the rest of the wait."""

    name = "duration-aware"

    def __init__(self, estimate: DurationEstimate, age: float, elapsed: float, policy: WaitPolicy,
                 tuning: DurationAware, fallback: Backoff) -> None:
        self.estimate = estimate
        self.policy = policy
        self.tuning = tuning
        self.fallback = fallback
        self.used = False  # slept a delay of its own: the history shaped the wait
        self.handed_over = False
        self.offset = age - elapsed  # task age = elapsed + offset
        self.start_survival = s0 = estimate.survival(age)
        self.sparse = min(tuning.sparse_max_delay, max(policy.max_delay, SPARSE_SHARE * estimate.median),
                          policy.cap if policy.cap is not None else float("inf"))
        # The age by which 5% of the tasks as old as this one have ended: sparse polling until then.
        self.likely_from = next((a for a, s in zip(estimate.ages, estimate.survivals) if a > age and s < 0.95 * s0),
                                age)
        # Gates of one function started together share the price (it costs milliseconds to set).
        key = (round(age), policy, tuning)
        prices = estimate.prices
        if len(prices) > 4096:  # a long-lived process: keep the table bounded
            prices.clear()
        entry: Optional[tuple[float, float]] = prices.get(key)  # one lookup: another thread may clear the table between two
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
        dense = max(1.1 * shortest, min(self.tuning.dense_delay, max(shortest, est.median / 20)))
        lam = solve_price(lambda x: sum(f * d for f, d in zip(ends, intervals(x))) / total, dense)
        budget = calls([self._today(a - self.offset) for a in points]) - 1  # the history read was a call
        if est.spread <= self.tuning.tight_spread:
            remaining = sum(0.5 * (w0 + w1) * d for w0, w1, d in zip(weights, weights[1:], widths))
            # Less the first read, the history and two calls of margin.
            budget = max(budget, remaining / self.tuning.tight_call_interval - 4)
        if calls(intervals(lam)) > budget:
            lam = max(lam, solve_price(lambda x: -calls(intervals(x)), -budget))
        target = budget
        spent = self._walk(lam, age)
        for _ in range(3):  # the integral is fast but approximate: correct it by walking the schedule itself
            if spent <= 0 or spent <= budget * 1.02:  # nothing spent: a short task already past its runs
                break
            target *= budget / spent
            lam = max(lam, solve_price(lambda x: -calls(intervals(x)), -target))
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

    def next_delay(self, elapsed: float, rng: random.Random, throttled: int = 0) -> float:
        """The planned delay, jittered and capped; the default schedule's once the estimate has passed."""
        planned = None
        if not self.handed_over:
            try:
                planned = self.delay(elapsed)
            except (ArithmeticError, ValueError) as exc:  # never a failed wait for the schedule's arithmetic
                log.debug("duration-aware delay failed (%s: %s): default schedule", type(exc).__name__, exc)
            if planned is None:
                log.debug("task outlived its duration history after %.0f s: default schedule", elapsed)
                self.handed_over = True
        if planned is None:
            return self.fallback.next_delay(elapsed, rng)
        self.used = True
        p = self.policy
        if throttled:  # FC asked us to slow down: back off as the default schedule would
            planned = max(planned, min(p.max_delay, p.initial_delay * p.multiplier ** throttled))
        self.fallback.base = planned
        return p.capped(p.jittered(planned, rng))
