import asyncio
import random

import pytest

from pulumi_fc_invocation import InvalidArgumentError, NotFoundError, StatefulAsyncInvocationResult, ThrottledError
from pulumi_fc_invocation.testing.clock import VirtualClock
from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock
from pulumi_fc_invocation.waiter import (
    DEFAULT_MAX_POLL_INTERVAL as CAP,
    WaitPolicy,
    Waiter,
)
from pulumi_fc_invocation.gate.messages import format_duration, progress_message
from pulumi_fc_invocation.models import check_fail_on_statuses


class Task:
    """A fake task that ends at ``end`` virtual seconds; records when it was polled."""

    def __init__(self, clock, end, final="Succeeded", errors=None):
        self.clock, self.start, self.end, self.final = clock, clock.now(), end, final
        self.errors = list(errors or [])
        self.polls = []

    def __call__(self):
        elapsed = self.clock.now() - self.start
        self.polls.append(elapsed)
        if self.errors:
            raise self.errors.pop(0)
        status = self.final if elapsed >= self.end else "Running"
        return StatefulAsyncInvocationResult.model_validate(
            {"invocationId": "job", "status": status, "alreadyRetriedTimes": 1})


@pytest.fixture
def clock():
    return AutoAdvanceClock(VirtualClock(start=1_700_000_000))


@pytest.mark.parametrize("duration", [0.5, 5, 10])
def test_short_tasks_are_noticed_within_about_a_second(clock, duration):
    task = Task(clock, duration)
    outcome = Waiter(task, WaitPolicy(), clock=clock, rng=random.Random(1)).wait()
    assert outcome.result.succeeded and not outcome.timed_out
    assert duration <= outcome.elapsed <= duration + 1.2
    assert outcome.calls == len(task.polls)


def test_long_task_backs_off_to_the_cap(clock):
    task = Task(clock, 2 * 3600)
    outcome = Waiter(task, WaitPolicy(timeout=None), clock=clock, rng=random.Random(2)).wait()
    gaps = [b - a for a, b in zip(task.polls, task.polls[1:])]
    assert max(gaps) <= CAP * 1.2 + 1e-6
    assert outcome.calls < 300  # fixed 5 s polling would cost 1,440 calls
    assert outcome.elapsed - 2 * 3600 <= 33


def test_jitter_spreads_delays_within_bounds(clock):
    policy = WaitPolicy(initial_delay=10, max_delay=10, jitter=0.2, fast_phase=0)
    rng = random.Random(3)
    delays = [policy.next_delay(100, 10, rng)[0] for _ in range(200)]
    assert min(delays) >= 8 and max(delays) <= 12 and len(set(delays)) > 100


def test_timeout(clock):
    task = Task(clock, 10_000)
    outcome = Waiter(task, WaitPolicy(timeout=120), clock=clock).wait()
    assert outcome.timed_out and outcome.result.status.value == "Running"
    assert outcome.elapsed == pytest.approx(120, abs=0.01)


def test_transient_errors_are_polled_through(clock):
    task = Task(clock, 5, errors=[ThrottledError("slow", code="ResourceThrottled")] * 3)
    outcome = Waiter(task, WaitPolicy(), clock=clock).wait()
    assert outcome.result.succeeded and outcome.transient_errors == 3


def test_hopeless_error_ends_the_wait_on_first_attempt(clock):
    task = Task(clock, 5, errors=[NotFoundError("gone", code="StatefulAsyncInvocationNotFound")])
    outcome = Waiter(task, WaitPolicy(), clock=clock).wait()
    assert isinstance(outcome.error, NotFoundError) and outcome.calls == 1 and outcome.result is None


def test_persistent_transient_errors_give_up(clock):
    task = Task(clock, 5, errors=[ThrottledError("slow")] * 50)
    outcome = Waiter(task, WaitPolicy(max_consecutive_errors=5), clock=clock).wait()
    assert isinstance(outcome.error, ThrottledError) and outcome.calls == 5


def test_progress_every_interval(clock):
    seen = []
    task = Task(clock, 200)
    Waiter(task, WaitPolicy(), clock=clock, on_progress=lambda r, e: seen.append(e), progress_interval=30).wait()
    # Progress goes out at a poll once an interval has passed; after the fast phase polls are up to
    # 45 s +/- 20% apart, so over 200 s there are 3 to 7 reports, never two within an interval and
    # never more than an interval plus one poll gap apart.
    assert 3 <= len(seen) <= 7, seen
    assert all(25 <= b - a <= 30 + 45 * 1.2 for a, b in zip(seen, seen[1:])), seen
    assert seen[0] <= 30 + 45 * 1.2


def test_many_async_waiters_share_virtual_time(clock):
    ends = [10 + i for i in range(50)]
    tasks = [Task(clock, end) for end in ends]

    async def main():
        return await asyncio.gather(*(Waiter(t, WaitPolicy(), clock=clock).wait_async() for t in tasks))

    outcomes = asyncio.run(main())
    assert all(o.result.succeeded for o in outcomes)
    for task, outcome in zip(tasks, outcomes):
        assert task.end <= outcome.elapsed <= task.end + CAP * 1.2


def test_policy_and_status_arguments_are_checked():
    with pytest.raises(InvalidArgumentError, match="timeout_seconds"):
        WaitPolicy(timeout=0)
    with pytest.raises(InvalidArgumentError, match="poll_interval_seconds"):
        WaitPolicy(initial_delay=-1)
    with pytest.raises(InvalidArgumentError, match="max_poll_interval_seconds"):
        WaitPolicy(initial_delay=5, max_delay=1)
    with pytest.raises(InvalidArgumentError, match="fail_on_statuses.*terminal"):
        check_fail_on_statuses(["Running"])
    with pytest.raises(InvalidArgumentError, match="fail_on_statuses.*one of"):
        check_fail_on_statuses(["Borked"])
    with pytest.raises(InvalidArgumentError, match="fail_on_statuses"):
        check_fail_on_statuses("Failed")
    assert check_fail_on_statuses(["failed", "Failed", "Stopped"]) == ("Failed", "Stopped")


@pytest.mark.parametrize("name", ["DEFAULT_FAIL_ON", "check_fail_on_statuses"])
def test_a_name_0_1_s_waiter_had_still_imports_from_it_with_a_warning_naming_where_it_went(name):
    import pulumi_fc_invocation.waiter as waiter
    from pulumi_fc_invocation import models

    with pytest.warns(DeprecationWarning, match=rf"^pulumi_fc_invocation\.waiter\.{name} moved to "
                                                r"pulumi_fc_invocation\.models; import it from there$"):
        moved = getattr(waiter, name)
    assert moved is getattr(models, name)
    with pytest.raises(AttributeError, match="no attribute 'DEFAULT_FAIL_ON_X'"):
        waiter.DEFAULT_FAIL_ON_X


def test_messages():
    r = StatefulAsyncInvocationResult.model_validate({"invocationId": "j", "status": "Running", "alreadyRetriedTimes": 1})
    assert progress_message("video.prod/transcode/video-123", r, 130) == \
        "waiting for video.prod/transcode/video-123: Running, retried 1 time, 2m10s elapsed"
    assert format_duration(3725) == "1h02m05s"


def test_with_no_successful_read_a_timeout_reports_the_last_error(clock):
    from pulumi_fc_invocation import TransportError

    task = Task(clock, 5, errors=[TransportError("cannot reach 127.0.0.1:9")] * 50)
    outcome = Waiter(task, WaitPolicy(timeout=6), clock=clock).wait()
    assert outcome.timed_out and outcome.result is None
    assert isinstance(outcome.error, TransportError) and "cannot reach" in str(outcome.error)
    served = Task(clock, 10_000, errors=[TransportError("down")])  # one error, then reads: a plain timeout
    late = Waiter(served, WaitPolicy(timeout=6), clock=clock).wait()
    assert late.timed_out and late.error is None and late.result.status.value == "Running"


def test_unreachable_before_any_read_ends_the_wait_at_once_and_after_one_is_absorbed(clock):
    from pulumi_fc_invocation import UnreachableError

    refused = UnreachableError("cannot reach http://127.0.0.1:9 (Connection refused)")
    task = Task(clock, 5, errors=[refused] * 50)
    outcome = Waiter(task, WaitPolicy(timeout=1800), clock=clock).wait()
    assert outcome.error is refused and not outcome.timed_out and len(task.polls) == 1
    seen = []

    def read_then_blip():
        if len(seen) == 1:
            seen.append("blip")
            raise refused
        seen.append("read")
        return Task(clock, 10_000)()

    late = Waiter(read_then_blip, WaitPolicy(timeout=6), clock=clock).wait()
    assert late.timed_out and late.error is None and "blip" in seen


def test_not_found_just_after_the_start_is_polled_through_within_the_grace(clock):
    gone = NotFoundError("gone", code="StatefulAsyncInvocationNotFound")
    task = Task(clock, 5, errors=[gone] * 3)
    outcome = Waiter(task, WaitPolicy(not_found_grace=10), clock=clock).wait()
    assert outcome.result.succeeded and outcome.transient_errors == 3
    never = Task(clock, 5, errors=[gone] * 100)
    final = Waiter(never, WaitPolicy(not_found_grace=10), clock=clock).wait()
    assert isinstance(final.error, NotFoundError) and final.elapsed <= 12  # then final
    with pytest.raises(InvalidArgumentError, match="not_found_grace"):
        WaitPolicy(not_found_grace=-1)


def test_a_grace_longer_than_the_errors_in_a_row_is_waited_out(clock):
    """Polls every second or so, then backs off: 12 not-founds in a row outnumber max_consecutive_errors (10), but a task
    not listed yet is bounded by the grace (60 s), not by the transient errors' count."""
    gone = NotFoundError("gone", code="AsyncTaskNotFound")
    task = Task(clock, 5, errors=[gone] * 12)
    outcome = Waiter(task, WaitPolicy(not_found_grace=60, max_consecutive_errors=10), clock=clock).wait()
    assert outcome.error is None and outcome.result.succeeded and outcome.transient_errors == 12


def test_a_cancelled_sleep_leaves_no_stale_sleeper_that_moves_time_early():
    import asyncio

    from pulumi_fc_invocation.testing.clock import VirtualClock
    from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock

    clock = AutoAdvanceClock(VirtualClock(start=1_000))

    async def main():
        with clock.participant(), clock.participant():  # two waiters: A (below) and B (busy, not asleep)
            first = asyncio.ensure_future(clock.asleep(10))
            await asyncio.sleep(0)
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first
            second = asyncio.ensure_future(clock.asleep(100))  # A sleeps again; B is still busy
            await asyncio.sleep(0)
            assert clock.now() == 1_000  # nobody may jump time while B works
            second.cancel()
            with pytest.raises(asyncio.CancelledError):
                await second

    asyncio.run(main())
    assert clock.wakeups == 0 and clock.now() == 1_000
