"""Virtual time for waiters: hours of polling in milliseconds, deterministic, with no sleeps.

``AutoAdvanceClock`` wraps the emulator's ``VirtualClock``. Every waiter that uses it is a
*participant*; when all participants are asleep, time jumps straight to the earliest wake-up and
those sleepers wake. So a gate that polls every 30 s over a 6 h task runs instantly, and the task's
lifecycle in the emulator (computed from the same clock) sees exactly the times the waiter saw.

Use it with :func:`pulumi_fc_invocation.clock.use_clock` (the waiter re-exports it)::

    with FcEmulator(clock="virtual") as fc, use_clock(AutoAdvanceClock(fc.clock)):
        ...
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["AutoAdvanceClock"]


class AutoAdvanceClock:
    def __init__(self, clock: Any) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._participants = 0
        self._sleepers: list[tuple[float, int, Any, Any]] = []
        self._seq = itertools.count()
        self.wakeups = 0

    @property
    def clock(self) -> Any:
        return self._clock

    def monotonic(self) -> float:
        return self._clock.now()

    def now(self) -> float:
        return self._clock.now()

    @contextlib.contextmanager
    def participant(self) -> Iterator[None]:
        with self._lock:
            self._participants += 1
        try:
            yield
        finally:
            with self._lock:
                self._participants -= 1
                self._maybe_advance()

    async def asleep(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        entry = (self._clock.now() + max(0.0, seconds), next(self._seq), loop, future)
        with self._lock:
            heapq.heappush(self._sleepers, entry)
            self._maybe_advance()
        try:
            await future
        except asyncio.CancelledError:
            # A cancelled sleeper is not asleep any more: left in the heap it would count as one and
            # let time jump while its waiter (or another) is still busy.
            with self._lock:
                if entry in self._sleepers:
                    self._sleepers.remove(entry)
                    heapq.heapify(self._sleepers)
                self._maybe_advance()
            raise

    def sleep(self, seconds: float) -> None:
        event = threading.Event()
        with self._lock:
            heapq.heappush(self._sleepers, (self._clock.now() + max(0.0, seconds), next(self._seq), None, event))
            self._maybe_advance()
        event.wait()

    def _maybe_advance(self) -> None:
        # Called with the lock held. Non-participants (a bare sleep outside a waiter) count as one.
        if not self._sleepers or len(self._sleepers) < max(self._participants, 1):
            return
        wake_at = self._sleepers[0][0]
        if wake_at > self._clock.now():
            self._clock.set(wake_at)
        while self._sleepers and self._sleepers[0][0] <= wake_at:
            _, _, loop, waker = heapq.heappop(self._sleepers)
            self.wakeups += 1
            if loop is None:
                waker.set()
            else:
                loop.call_soon_threadsafe(_resolve, waker)


def _resolve(future: Any) -> None:
    if not future.done():
        future.set_result(None)
