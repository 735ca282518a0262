"""The loop: reads until a read is accepted as done or failed, or the deadline passes.

As botocore's ``Waiter.wait``: read, match the acceptors (:mod:`.acceptors`), sleep, read again; here
the sleep comes from a schedule (:mod:`.schedules`), the clock is injected, and the loop itself is a
generator free of I/O: it yields the delay it wants slept (or asks for the history once) and is sent
what the call gave, so one loop serves the blocking and the asyncio drivers. It calls nothing it was
not given: ``fetch`` and ``history`` are callables, so it knows no client and no API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Optional

from ..clock import get_clock, within
from ..errors import NotFoundError, ThrottledError
from .acceptors import FAILURE, RETRY, SUCCESS, accept
from .history import epoch_seconds
from .policy import WaitPolicy
from .schedules import Backoff, DurationAware, DurationAwareSchedule

__all__ = ["Waiter", "WaitOutcome", "SKEW_TOLERANCE", "HISTORY_BUDGET"]

log = logging.getLogger(__name__)

# A wall clock this close to FC's (its Date header has whole seconds) is taken as in step with it.
SKEW_TOLERANCE = 2.0
# The duration history's list call has at most this many seconds, within the wait's time left.
HISTORY_BUDGET = 5.0


@dataclass
class WaitOutcome:
    """How a wait ended: with a terminal result, a timeout, or a hopeless error.

    A timeout without a single successful read carries the last error too (``timed_out`` and
    ``error`` both set): an endpoint that never answered is an API problem, not a slow task."""

    result: Any  # the last result read (either API's), or None
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


def _wall(clock: Any) -> float:
    now = getattr(clock, "now", None)
    return float(now()) if callable(now) else time.time()


@dataclass
class Waiter:
    """Polls ``fetch`` under ``policy`` until the task is terminal, the deadline passes, or a
    hopeless error occurs. ``on_progress(result, elapsed)`` is called about every ``progress_interval``.

    ``history``: returns the function's recent durations in seconds (or None); called once, after a
    first read that found the task still running, when ``policy.duration_aware`` (see
    :func:`~.history.history_for`); ``history_schedule`` turns it into the schedule (a policy's
    deprecated tuning fields, if set, tune it further). Whatever it raises or returns that is not a
    usable history, the wait goes on with the default schedule.

    Each call (``fetch``, ``history``) runs with :func:`~..clock.call_budget` set to the seconds it
    may take: until the deadline, or ``policy.deadline_read_budget`` for the read at the deadline
    (made even when an earlier call ran past it, once a read has answered), or :data:`HISTORY_BUDGET`
    (or a policy's deprecated ``history_budget``) within the time left for the history.

    ``clock``: what the loop sleeps on and reads time from (None: the process's, :func:`~..clock.get_clock`).
    ``server_now``: FC's clock now, in epoch seconds, or None (e.g. ``FcClient.server_time``): a task's
    age is measured on it when this machine's wall clock is more than :data:`SKEW_TOLERANCE` off.
    """

    fetch: Callable[[], Any]
    policy: WaitPolicy = field(default_factory=WaitPolicy)
    clock: Any = None
    on_progress: Optional[Callable[[Any, float], Any]] = None
    progress_interval: float = 30.0
    rng: random.Random = field(default_factory=random.Random)
    history: Optional[Callable[[], Optional[Iterable[float]]]] = None
    server_now: Optional[Callable[[], Optional[float]]] = None
    history_schedule: DurationAware = field(default_factory=DurationAware)
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
                if isinstance(delay, _AskHistory):
                    delay = steps.send(within(self._budget, self._read_history))
                    continue
                if delay > 0:
                    clock.sleep(delay)
                try:
                    value: Any = within(self._budget, self.fetch)
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
                if isinstance(delay, _AskHistory):
                    delay = steps.send(await loop.run_in_executor(executor, within, self._budget,
                                                                  self._read_history))
                    continue
                if delay > 0:
                    await clock.asleep(delay)
                try:
                    value = await loop.run_in_executor(executor, within, self._budget, self.fetch)
                except Exception as exc:  # noqa: BLE001 - classified in _steps
                    value = exc
                delay = steps.send(value)

    def _age(self, first: Any, clock: Any) -> float:
        """The task's age at its first read: FC's time now minus its ``startedTime`` (0 without one)."""
        started = epoch_seconds(getattr(first, "started_time", None))
        return max(0.0, self._now_on_fcs_clock(clock) - started) if started is not None else 0.0

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

    def _steps(self, clock: Any) -> Generator[float | _AskHistory | WaitOutcome, Any, None]:
        """The waiting logic as a generator: yields a delay (or ``_ASK_HISTORY``), receives a result,
        an exception (or the history)."""
        policy = self.policy
        started = clock.monotonic()
        calls = transient = consecutive = history_calls = 0
        last: Any = None
        last_error: Optional[BaseException] = None
        schedule: Any = Backoff(policy)
        shaped: Optional[DurationAwareSchedule] = None
        overrides = policy.tuning_overrides()  # a policy's deprecated tuning fields, if set
        tuning = replace(self.history_schedule, **overrides) if overrides else self.history_schedule
        history_budget = policy.history_budget or HISTORY_BUDGET
        want_history = self.history is not None and policy.duration_aware
        next_progress = self.progress_interval
        at_deadline = False  # the read asked for is the one at the deadline
        # Every read since the last answer failed for a credential fetch cut by the deadline (a hung STS):
        # the read at the deadline would hang on it too.
        fetches_cut = False
        self._budget = policy.timeout

        def outcome(result: Any, elapsed: float, **kw: Any) -> WaitOutcome:
            shaped_it = shaped is not None and shaped.used
            return WaitOutcome(result, elapsed, calls, transient_errors=transient, history_calls=history_calls,
                               schedule="duration-aware" if shaped_it else "default", **kw)

        value = yield 0.0
        while True:
            calls += 1
            elapsed = clock.monotonic() - started
            state = accept(value, answered=last is not None, in_grace=elapsed < policy.not_found_grace)
            throttled = 0
            if state == RETRY:
                last_error = value
                cut = getattr(value, "credential_fetch_cut", False) is True
                fetches_cut = cut and (consecutive == 0 or fetches_cut)
                transient += 1
                # A task not listed yet is bounded by the grace, not by the transient errors in a row.
                consecutive += 0 if isinstance(value, NotFoundError) else 1
                throttled = consecutive if isinstance(value, ThrottledError) else 0
                if consecutive >= policy.max_consecutive_errors:
                    yield outcome(last, elapsed, error=value)
                    return
            elif state == FAILURE:
                yield outcome(last, elapsed, error=value)
                return
            else:
                consecutive, fetches_cut = 0, False
                last, last_error = value, None
                if state == SUCCESS:
                    yield outcome(value, elapsed)
                    return
                left = None if policy.timeout is None else policy.timeout - elapsed
                if want_history and (left is None or left > 0):
                    want_history = False
                    history_calls = 1
                    self._budget = history_budget if left is None else min(history_budget, left)
                    durations = yield _ASK_HISTORY
                    elapsed = clock.monotonic() - started
                    shaped = tuning.start(durations, self._age(value, clock), elapsed, policy, schedule)
                    schedule = shaped or schedule
            if self.on_progress is not None and elapsed >= next_progress:
                self.on_progress(last, elapsed)
                while next_progress <= elapsed:
                    next_progress += self.progress_interval
            delay = schedule.next_delay(elapsed, self.rng, throttled)
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


