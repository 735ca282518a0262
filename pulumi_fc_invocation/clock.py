"""The one clock of the package, and the deadline of the API call being made.

Every waiter, gate and credential refresh reads time here, so a test can swap the whole process onto
the emulator's virtual clock with :func:`use_clock` and every expiry, deadline and delay follows it.
:func:`call_budget` is the time left to the deadline that :func:`within` set in this thread (or task):
a client bounded by it keeps every request of a wait inside that wait's deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Optional, Protocol

__all__ = ["Clock", "RealClock", "get_clock", "use_clock", "now", "call_budget", "within"]


class Clock(Protocol):
    def monotonic(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...
    async def asleep(self, seconds: float) -> None: ...


class RealClock:
    """Wall-clock time."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> float:
        """Epoch seconds: a task's age is now() minus its startedTime."""
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    @contextlib.contextmanager
    def participant(self) -> Iterator[None]:
        yield


_clock_lock = threading.Lock()
_clock: Any = RealClock()


def get_clock() -> Any:
    return _clock


@contextlib.contextmanager
def use_clock(clock: Any) -> Iterator[Any]:
    """Make every waiter in this process use ``clock`` (tests: a virtual clock shared with the emulator)."""
    global _clock
    with _clock_lock:
        previous, _clock = _clock, clock
    try:
        yield clock
    finally:
        with _clock_lock:
            _clock = previous


def now() -> float:
    """Epoch seconds on the process's clock (a virtual clock's, under :func:`use_clock`)."""
    read = getattr(_clock, "now", None)
    return read() if callable(read) else time.time()


_call_deadline: contextvars.ContextVar[Optional[float]] = contextvars.ContextVar("fc_invocation_call_deadline",
                                                                                default=None)


def call_budget() -> Optional[float]:
    """Seconds the API call being made may still take, retries included: the time left to the deadline
    :func:`within` set (a waiter's fetch: the wait's deadline, the read at the deadline's own budget, or
    the history's), however many requests that call makes (a listing of N pages shares it); None
    outside :func:`within` or without a budget."""
    deadline = _call_deadline.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def within(budget: Optional[float], call: Callable[[], Any]) -> Any:
    """``call()`` with :func:`call_budget` counting down from ``budget`` seconds (in the thread that runs
    it): one absolute deadline for all of the call's requests."""
    token = _call_deadline.set(None if budget is None else time.monotonic() + budget)
    try:
        return call()
    finally:
        _call_deadline.reset(token)
