"""An emulator clock for tests whose client runs in another process (the CLI): it follows wall time, so
the subprocess's own real-time polls see tasks move, and ``advance()`` jumps it forward, so a test ends
seeded tasks at once instead of sleeping through their durations. :func:`until` waits for a condition
instead of sleeping a guessed time."""

from __future__ import annotations

import threading
import time
from typing import Callable

from pulumi_fc_invocation.testing import Clock


class SteppedRealClock(Clock):
    """Wall time plus every ``advance()`` so far."""

    def __init__(self) -> None:
        self._ahead = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._ahead

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("SteppedRealClock.advance: seconds must be >= 0")
        with self._lock:
            self._ahead += seconds
            return time.time() + self._ahead

    def __repr__(self) -> str:
        return f"SteppedRealClock(ahead={self._ahead!r})"


def until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Whether ``condition()`` came true within ``timeout`` s, checked every 10 ms: a wait for an
    event another thread or process causes (a connection accepted), where no hook tells us."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        if time.monotonic() >= deadline:
            return False
        pause.wait(0.01)
    return True
