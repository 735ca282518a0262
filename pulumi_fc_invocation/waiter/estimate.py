"""When a task of one function is likely to end: a kernel estimate of its recent durations, and the
solver that prices the duration-aware schedule (:mod:`.schedules`) against a budget of calls.

Pure arithmetic: no clock, no I/O. One estimate per history (:func:`estimate_of`, cached), so the gates
of one function share one table.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..errors import InvalidArgumentError

__all__ = ["DurationEstimate", "estimate_of", "solve_price"]

_GRID_POINTS = 240
_ROOT_2PI = math.sqrt(2.0 * math.pi)


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
        self.prices: dict[Any, Any] = {}  # the duration-aware schedule's prices, by (age, policy, tuning)
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


@functools.lru_cache(maxsize=32)
def estimate_of(durations: tuple[float, ...]) -> DurationEstimate:
    """One estimate per history: the gates of one function share one history, so one table."""
    return DurationEstimate(durations)


def solve_price(increasing: Callable[[float], float], target: float) -> float:
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

