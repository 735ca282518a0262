"""Waiting for an invocation to end: a policy (delays, cap, deadline) plus acceptors, apart from the call.

As in botocore's waiters and google-api-core's polling, "not done yet" (a non-terminal status) is
polling, and a failed call is retrying: transient API errors during a wait are absorbed here (the
client already retried them briefly), hopeless ones (not found, access denied) end the wait at once.

The default schedule polls about every second during the first seconds, when short tasks end, then
backs off with jitter to a cap, so a task of a few seconds is noticed within about a second and a task
of hours costs a few hundred calls instead of thousands.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Optional, Protocol

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
from .models import InvocationRef, InvocationStatus, StatefulAsyncInvocationResult

__all__ = [
    "WaitPolicy",
    "Waiter",
    "WaitOutcome",
    "Clock",
    "RealClock",
    "use_clock",
    "get_clock",
    "DEFAULT_FAIL_ON",
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_MAX_POLL_INTERVAL",
    "format_duration",
    "progress_message",
    "failure_message",
    "timeout_message",
    "check_fail_on_statuses",
    "TRANSIENT_ERRORS",
    "NOT_FOUND_GRACE",
]

DEFAULT_FAIL_ON = ("Failed", "Stopped", "Expired", "Invalid")
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


class Clock(Protocol):
    def monotonic(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...
    async def asleep(self, seconds: float) -> None: ...


class RealClock:
    """Wall-clock time."""

    def monotonic(self) -> float:
        return time.monotonic()

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
    """

    initial_delay: float = DEFAULT_POLL_INTERVAL
    max_delay: float = DEFAULT_MAX_POLL_INTERVAL
    multiplier: float = 3.0
    fast_phase: float = 10.0
    jitter: float = 0.2
    timeout: Optional[float] = 1800.0
    max_consecutive_errors: int = 10
    not_found_grace: float = 0.0

    def __post_init__(self) -> None:
        _positive("poll_interval_seconds", self.initial_delay)
        _positive("max_poll_interval_seconds", self.max_delay)
        _positive("timeout_seconds", self.timeout, allow_none=True)
        if self.max_delay < self.initial_delay:
            raise InvalidArgumentError("max_poll_interval_seconds", self.max_delay,
                                       f"must be at least poll_interval_seconds ({self.initial_delay})")
        if isinstance(self.multiplier, bool) or not isinstance(self.multiplier, (int, float)) or self.multiplier < 1:
            raise InvalidArgumentError("multiplier", self.multiplier, "must be a number >= 1")
        if isinstance(self.fast_phase, bool) or not isinstance(self.fast_phase, (int, float)) or self.fast_phase < 0:
            raise InvalidArgumentError("fast_phase", self.fast_phase, "must be a number of seconds >= 0")
        if isinstance(self.not_found_grace, bool) or not isinstance(self.not_found_grace, (int, float)) \
                or self.not_found_grace < 0:
            raise InvalidArgumentError("not_found_grace", self.not_found_grace, "must be a number of seconds >= 0")
        if isinstance(self.jitter, bool) or not isinstance(self.jitter, (int, float)) or not 0 <= self.jitter < 1:
            raise InvalidArgumentError("jitter", self.jitter, "must be a fraction from 0 to below 1")

    def next_delay(self, elapsed: float, previous: Optional[float], rng: random.Random) -> tuple[float, float]:
        """(jittered delay, base delay) after a poll at ``elapsed`` seconds; ``previous`` is the last base."""
        if elapsed < self.fast_phase or previous is None:
            base = self.initial_delay
        else:
            base = min(self.max_delay, max(previous, self.initial_delay) * self.multiplier)
        spread = base * self.jitter
        return max(0.05, min(self.max_delay * (1 + self.jitter), base + rng.uniform(-spread, spread))), base


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


def format_duration(seconds: float) -> str:
    seconds = int(round(max(0.0, seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def progress_message(ref: Any, result: Optional[StatefulAsyncInvocationResult], elapsed: float) -> str:
    if result is None:
        return f"waiting for {ref}: no answer yet, {format_duration(elapsed)} elapsed"
    retried = result.already_retried_times
    times = "time" if retried == 1 else "times"
    return f"waiting for {ref}: {result.status.value}, retried {retried} {times}, {format_duration(elapsed)} elapsed"


def failure_message(ref: Any, result: StatefulAsyncInvocationResult, fail_on: Any) -> str:
    error = result.invocation_error_message or "no error message"
    statuses = ", ".join(str(s) for s in fail_on)
    return (f"invocation {ref} ended {result.status.value}: {error} "
            f"(request id {result.request_id or 'unknown'}; fail_on_statuses: {statuses})")


def not_found_details(head: str, error: NotFoundError, details: bool) -> str:
    """``head`` with FC's message; with ``details``, its code and request id too."""
    if not details:
        return f"{head}: {error.message}"
    return f"{head} ({error.code or 'HTTP 404'}: {error.message}; request id {error.request_id or 'unknown'})"


def timeout_message(ref: Any, last: Optional[StatefulAsyncInvocationResult], elapsed: float, timeout: float) -> str:
    status = last.status.value if last is not None else "unknown (no successful read)"
    return (f"timed out waiting for invocation {ref}: last status {status} after {format_duration(elapsed)} "
            f"(timeout_seconds={timeout:g})")


def check_fail_on_statuses(value: Any, argument: str = "fail_on_statuses") -> tuple[str, ...]:
    """Normalise a user's list of fail statuses; unknown or non-terminal names are refused."""
    if value is None:
        return DEFAULT_FAIL_ON
    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
        raise InvalidArgumentError(argument, value, "must be a list of terminal statuses, e.g. ['Failed', 'Stopped']")
    out: list[str] = []
    for item in value:
        status = InvocationStatus.known(item, argument)
        if not status.is_terminal:
            terminal = ", ".join(s.value for s in InvocationStatus if s.is_terminal)
            raise InvalidArgumentError(argument, item, f"is not a terminal status; use only {terminal}")
        if status.value not in out:
            out.append(status.value)
    return tuple(out)


@dataclass
class Waiter:
    """Polls ``fetch`` under ``policy`` until the invocation is terminal, the deadline passes, or a
    hopeless error occurs. ``on_progress(result, elapsed)`` is called about every ``progress_interval``.
    """

    fetch: Callable[[], StatefulAsyncInvocationResult]
    policy: WaitPolicy = field(default_factory=WaitPolicy)
    clock: Any = None
    on_progress: Optional[Callable[[Optional[StatefulAsyncInvocationResult], float], Any]] = None
    progress_interval: float = 30.0
    rng: random.Random = field(default_factory=random.Random)

    def _clock(self) -> Any:
        return self.clock if self.clock is not None else get_clock()

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
                if delay > 0:
                    clock.sleep(delay)
                try:
                    value: Any = self.fetch()
                except Exception as exc:  # noqa: BLE001 - classified in _steps
                    value = exc
                delay = steps.send(value)

    async def wait_async(self, executor: Any = None) -> WaitOutcome:
        """Asyncio form: the call runs in ``executor`` so many waits share one event loop."""
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
                if delay > 0:
                    await clock.asleep(delay)
                try:
                    value = await loop.run_in_executor(executor, self.fetch)
                except Exception as exc:  # noqa: BLE001 - classified in _steps
                    value = exc
                delay = steps.send(value)

    def _steps(self, clock: Any):
        """The waiting logic as a generator: yields a delay, receives a result or an exception."""
        policy = self.policy
        started = clock.monotonic()
        calls = transient = consecutive = 0
        last: Optional[StatefulAsyncInvocationResult] = None
        last_error: Optional[BaseException] = None
        base: Optional[float] = None
        next_progress = self.progress_interval
        value = yield 0.0
        while True:
            calls += 1
            now = clock.monotonic()
            elapsed = now - started
            in_grace = isinstance(value, NotFoundError) and last is None and elapsed < policy.not_found_grace
            # No connection before any answer: a wrong endpoint, not a blip; waiting would only hide it.
            unreachable = isinstance(value, UnreachableError) and last is None
            if (isinstance(value, TRANSIENT_ERRORS) and not isinstance(value, HOPELESS_RESPONSES)
                    and not unreachable) or in_grace:
                last_error = value
                transient += 1
                consecutive += 1
                if consecutive >= policy.max_consecutive_errors:
                    yield WaitOutcome(last, elapsed, calls, error=value, transient_errors=transient)
                    return
            elif isinstance(value, BaseException):
                yield WaitOutcome(last, elapsed, calls, error=value, transient_errors=transient)
                return
            else:
                consecutive = 0
                last = value
                if value.is_terminal:
                    yield WaitOutcome(value, elapsed, calls, transient_errors=transient)
                    return
            if self.on_progress is not None and elapsed >= next_progress:
                self.on_progress(last, elapsed)
                while next_progress <= elapsed:
                    next_progress += self.progress_interval
            delay, base = policy.next_delay(elapsed, base, self.rng)
            if policy.timeout is not None:
                remaining = policy.timeout - elapsed
                if remaining <= 0:
                    yield WaitOutcome(last, elapsed, calls, timed_out=True, transient_errors=transient,
                                      error=last_error if last is None else None)
                    return
                delay = min(delay, remaining)
            value = yield delay


def wait_for_invocation(
    client: Any,
    ref: "InvocationRef | str",
    *,
    policy: Optional[WaitPolicy] = None,
    on_progress: Optional[Callable[[Optional[StatefulAsyncInvocationResult], float], Any]] = None,
    clock: Any = None,
) -> WaitOutcome:
    """Blocking wait on one invocation with ``client`` (used by the CLI and the function form)."""
    if not isinstance(ref, InvocationRef):
        ref = InvocationRef.parse(ref)
    waiter = Waiter(lambda: client.get(ref), policy or WaitPolicy(), clock=clock, on_progress=on_progress)
    return waiter.wait()


async def wait_for_invocation_async(
    fetch: Callable[[], StatefulAsyncInvocationResult],
    *,
    policy: WaitPolicy,
    on_progress: Optional[Callable[[Optional[StatefulAsyncInvocationResult], float], Any]] = None,
    executor: Any = None,
) -> WaitOutcome:
    return await Waiter(fetch, policy, on_progress=on_progress).wait_async(executor)

