"""Clocks for the emulator: the task lifecycle is computed from ``clock.now()``.

``VirtualClock`` only moves when a test calls ``advance()``/``set()``, so "the task finishes five
seconds later" takes no real time and no sleep. ``RealClock`` follows wall time, for the CLI and
demos. Both are thread-safe: the server's handler threads read the clock while the test advances it.

The Date-skew check of incoming requests does not use these clocks: clients sign with the real
wall-clock ``Date``, so the emulator compares that header with real time (see ``responses``).
"""

from __future__ import annotations

import math
import threading
import time
from typing import Union

__all__ = ["Clock", "RealClock", "VirtualClock", "make_clock"]


class Clock:
    """Interface: ``now()`` in epoch seconds (float)."""

    def now(self) -> float:  # pragma: no cover - interface
        raise NotImplementedError

    def advance(self, seconds: float) -> float:
        raise TypeError(
            f"{type(self).__name__} cannot be advanced; build the emulator with clock='virtual'"
        )

    def now_ms(self) -> int:
        return int(self.now() * 1000)


class RealClock(Clock):
    """Wall time (``time.time()``)."""

    def now(self) -> float:
        return time.time()

    def __repr__(self) -> str:
        return "RealClock()"


class VirtualClock(Clock):
    """A clock that stands still until told to move.

    It starts at ``start`` (epoch seconds), by default the current time rounded down to a whole
    second: realistic enough for timestamps a human reads, and stable within a test.
    Time never goes backwards through ``advance``; ``set`` may move it anywhere, on purpose.
    """

    def __init__(self, start: float | None = None) -> None:
        if start is None:
            start = float(math.floor(time.time()))
        self._check(start, "start")
        self._now = float(start)
        self._lock = threading.Lock()

    @staticmethod
    def _check(value: float, name: str) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"VirtualClock: {name} must be a finite number of seconds, not {value!r}")

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (>= 0); returns the new time."""
        self._check(seconds, "seconds")
        if seconds < 0:
            raise ValueError("VirtualClock.advance: seconds must be >= 0 (use set() to go back)")
        with self._lock:
            self._now += float(seconds)
            return self._now

    def set(self, epoch_seconds: float) -> float:
        """Jump to an absolute time (may go backwards)."""
        self._check(epoch_seconds, "epoch_seconds")
        with self._lock:
            self._now = float(epoch_seconds)
            return self._now

    def __repr__(self) -> str:
        return f"VirtualClock(now={self.now()!r})"


def make_clock(spec: Union[str, Clock, None]) -> Clock:
    """``"real"`` (default), ``"virtual"`` or a clock instance."""
    if spec is None or spec == "real":
        return RealClock()
    if spec == "virtual":
        return VirtualClock()
    if isinstance(spec, Clock):
        return spec
    raise ValueError(f"clock must be 'real', 'virtual' or a Clock instance, not {spec!r}")
