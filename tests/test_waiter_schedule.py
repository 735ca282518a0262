"""The duration-aware schedule (issue 16) under the virtual clock, with the history read from the
emulator over real HTTP: no history, a spread history, a task running past its estimate, a refused
list call, throttling in the dense window, and both APIs' history readers."""

import logging
import random

import pytest

from pulumi_fc_invocation import InvalidArgumentError, StatefulAsyncInvocationResult, ThrottledError
from pulumi_fc_invocation.fc2 import InvocationRef
from pulumi_fc_invocation.fc3 import AsyncTaskRef
from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock
from pulumi_fc_invocation.waiter import (
    DurationAware,
    DurationEstimate,
    WaitPolicy,
    Waiter,
    durations_of,
    history_for,
    wait_for_invocation,
)

SERVICE, FUNCTION = "svc", "job"


@pytest.fixture
def fc():
    with FcEmulator(clock="virtual") as emu:
        yield emu


def seed_history(fc, durations, function=FUNCTION, service=SERVICE):
    """Past Succeeded invocations with these durations, all ended before now."""
    start = fc.clock.now() - max(durations) - 100
    for i, d in enumerate(durations):
        fc.add_invocation(service, function, f"past-{i}", duration=float(d), started_at=start + i * 0.001)


def run(fc, duration, policy, history=True, seed=1):
    """Wait on a new task of ``duration`` s; returns (outcome, poll times after the wait's start, delay)."""
    client = fc.client()
    fc.add_invocation(SERVICE, FUNCTION, "now", duration=float(duration))
    ref = InvocationRef(service_name=SERVICE, function_name=FUNCTION, invocation_id="now")
    clock = AutoAdvanceClock(fc.clock)
    start = clock.now()
    polls = []

    def fetch():
        polls.append(clock.now() - start)
        return client.get(ref)

    waiter = Waiter(fetch, policy, clock=clock, rng=random.Random(seed),
                    history=history_for(client, ref) if history else None)
    outcome = waiter.wait()
    return outcome, polls, (clock.now() - start) - duration


def test_a_tight_history_notices_a_long_task_within_seconds_at_a_fraction_of_the_calls(fc):
    rng = random.Random(7)
    seed_history(fc, [600 * rng.lognormvariate(0, 0.1) for _ in range(40)])
    outcome, polls, delay = run(fc, 610, WaitPolicy(timeout=None))
    assert outcome.result.succeeded and outcome.schedule == "duration-aware"
    assert outcome.history_calls == 1
    assert delay < 8, (delay, polls)
    assert outcome.calls + outcome.history_calls <= 610 / 5 / 3  # about a quarter of fixed 5 s polling (122)
    # Sparse before the likely end (no 1 s fast phase), dense around it.
    gaps = [b - a for a, b in zip(polls, polls[1:])]
    assert sum(1 for p in polls if p < 10) <= 3
    assert min(g for p, g in zip(polls, gaps) if p > 500) < 10
    # One list call, of Succeeded invocations of the same function, one page.
    lists = [r for r in fc.requests if r.route == "list"]
    assert len(lists) == 1 and lists[0].query["status"] == "Succeeded" and lists[0].query["limit"] == "50"


def test_the_same_wait_without_the_schedule_is_slower_to_notice(fc):
    rng = random.Random(7)
    seed_history(fc, [600 * rng.lognormvariate(0, 0.1) for _ in range(40)])
    opted_out, _, delay_out = run(fc, 610, WaitPolicy(timeout=None, duration_aware=False))
    assert opted_out.schedule == "default" and opted_out.history_calls == 0
    assert fc.request_count("list") == 0  # opting out reads no history
    assert delay_out > 8


def test_no_history_is_todays_schedule_poll_for_poll(fc):
    fc.add_function(SERVICE, FUNCTION)
    outcome, polls, _ = run(fc, 300, WaitPolicy(timeout=None))
    assert outcome.schedule == "default" and outcome.history_calls == 1
    assert fc.request_count("list") == 1
    fc2 = FcEmulator(clock="virtual").start()
    try:
        fc2.add_function(SERVICE, FUNCTION)
        today, today_polls, _ = run(fc2, 300, WaitPolicy(timeout=None, duration_aware=False))
    finally:
        fc2.stop()
    assert polls == pytest.approx(today_polls) and outcome.calls == today.calls


def test_too_spread_a_history_falls_back_to_todays_schedule(fc, caplog):
    seed_history(fc, [1.0, 100_000.0] * 10)  # log-spread ~8.5, over max_history_spread
    with caplog.at_level(logging.DEBUG, logger="pulumi_fc_invocation.waiter"):
        outcome, polls, _ = run(fc, 120, WaitPolicy(timeout=None))
    assert outcome.schedule == "default" and outcome.result.succeeded
    assert "too spread" in caplog.text
    assert sum(1 for p in polls if p < 10) >= 9  # the default's 1 s fast phase


def test_a_task_running_past_its_estimate_falls_back_to_the_default_back_off(fc, caplog):
    rng = random.Random(3)
    seed_history(fc, [60 * rng.lognormvariate(0, 0.05) for _ in range(30)])
    with caplog.at_level(logging.DEBUG, logger="pulumi_fc_invocation.waiter"):
        outcome, polls, delay = run(fc, 1800, WaitPolicy(timeout=None))
    assert outcome.result.succeeded and outcome.schedule == "duration-aware"
    assert "outlived its duration history" in caplog.text
    late = [b - a for a, b in zip(polls, polls[1:]) if a > 200]
    # Dense around 60 s, then the default's back-off up to its cap (45 s +/- 20% jitter), not dense forever.
    assert max(late) > 30 and max(late) <= 45 * 1.2 + 1e-6
    assert sum(1 for p in polls if 50 < p < 80) >= 4
    assert len(polls) < 1800 / 45 + 40 and delay <= 45 * 1.2


def test_a_refused_list_falls_back_silently_with_a_debug_log(fc, caplog):
    rng = random.Random(7)
    seed_history(fc, [600 * rng.lognormvariate(0, 0.1) for _ in range(40)])
    fc.inject_fault("list", 403, "AccessDenied", message="no fc:ListStatefulAsyncInvocations", times=None)
    with caplog.at_level(logging.DEBUG, logger="pulumi_fc_invocation.waiter"):
        outcome, polls, _ = run(fc, 300, WaitPolicy(timeout=None))
    assert outcome.result.succeeded and outcome.error is None
    assert outcome.schedule == "default" and outcome.history_calls == 1
    logged = [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(logged) == 1 and "AccessDenied" in logged[0], caplog.text
    assert fc.credentials.access_key_secret not in caplog.text
    assert [r.status for r in fc.requests if r.route == "list"] == [403]  # asked once, not retried
    assert sum(1 for p in polls if p < 10) >= 9  # today's fast phase


def test_the_history_is_read_once_for_the_gates_of_one_function(fc):
    seed_history(fc, [30.0] * 10)
    client = fc.client()
    ref = InvocationRef(service_name=SERVICE, function_name=FUNCTION, invocation_id="past-0")
    history = history_for(client, ref)
    assert history() == pytest.approx([30.0] * 10) and history() == pytest.approx([30.0] * 10)
    assert history.calls == 1 and fc.request_count("list") == 1


def test_fc3_history_reads_one_page_of_succeeded_async_tasks(fc):
    fc.add_function(None, "render")
    start = fc.clock.now() - 1000
    for i, d in enumerate([40.0, 42.0, 44.0, 46.0, 48.0]):
        fc.add_invocation(None, "render", f"t-{i}", duration=d, started_at=start + i)
    fc.add_invocation(None, "render", "failed", duration=5.0, outcome="Failed", started_at=start)
    history = history_for(fc.client(), AsyncTaskRef(function_name="render", task_id="x"), limit=20)
    assert sorted(history()) == pytest.approx([40.0, 42.0, 44.0, 46.0, 48.0])
    lists = [r for r in fc.requests if r.route == "list"]
    assert len(lists) == 1 and "/2023-03-30/functions/render/async-tasks" in lists[0].path


def test_wait_for_invocation_reads_the_history_by_default(fc):
    seed_history(fc, [100.0 + i for i in range(20)])
    fc.add_invocation(SERVICE, FUNCTION, "now", duration=101.0)
    clock = AutoAdvanceClock(fc.clock)
    outcome = wait_for_invocation(fc.client(), f"{SERVICE}/{FUNCTION}/now", clock=clock,
                                  policy=WaitPolicy(timeout=None))
    assert outcome.result.succeeded and outcome.schedule == "duration-aware" and fc.request_count("list") == 1


def test_the_asyncio_form_reads_the_history_in_the_executor(fc):
    import asyncio

    seed_history(fc, [100.0 + i for i in range(20)])
    fc.add_invocation(SERVICE, FUNCTION, "now", duration=101.0)
    client = fc.client()
    ref = InvocationRef(service_name=SERVICE, function_name=FUNCTION, invocation_id="now")
    clock = AutoAdvanceClock(fc.clock)
    waiter = Waiter(lambda: client.get(ref), WaitPolicy(timeout=None), clock=clock, rng=random.Random(4),
                    history=history_for(client, ref))
    outcome = asyncio.run(waiter.wait_async())
    assert outcome.result.succeeded and outcome.schedule == "duration-aware" and outcome.history_calls == 1
    assert outcome.elapsed - 101.0 < 10 and outcome.calls < 10  # the default: 1 s polls for 10 s, then back-off (~16)


class Throttling:
    """A fake task (ends at 600 s) that answers 503 for the first polls past 550 s."""

    def __init__(self, clock, throttled=3):
        self.clock, self.start, self.throttled, self.polls = clock, clock.now(), throttled, []

    def __call__(self):
        t = self.clock.now() - self.start
        self.polls.append(t)
        if t > 550 and self.throttled:
            self.throttled -= 1
            raise ThrottledError("slow down", code="ResourceThrottled")
        return StatefulAsyncInvocationResult.model_validate(
            {"invocationId": "job", "status": "Succeeded" if t >= 600 else "Running",
             "startedTime": int(self.start * 1000)})


def test_throttling_in_the_dense_window_backs_off(fc):
    clock = AutoAdvanceClock(fc.clock)
    task = Throttling(clock)
    outcome = Waiter(task, WaitPolicy(timeout=None), clock=clock, rng=random.Random(2),
                     history=lambda: [600.0 + i for i in range(-10, 10)]).wait()
    assert outcome.result.succeeded and outcome.transient_errors == 3
    i = next(k for k, t in enumerate(task.polls) if t > 550)
    gaps = [b - a for a, b in zip(task.polls[i:], task.polls[i + 1:])][:3]
    assert gaps[0] >= 3 * 0.8 and gaps[1] >= 9 * 0.8 and gaps[2] >= 27 * 0.8  # 1 s x3 per error, jittered


def test_estimate_and_helpers():
    estimate = DurationEstimate([100.0] * 5 + [110.0] * 5)
    assert 95 < estimate.quantile(0.5) < 115 and estimate.survival(50) == 1.0 and estimate.survival(200) == 0.0
    assert estimate.hazard(105) > estimate.hazard(60)
    ok = StatefulAsyncInvocationResult.model_validate(
        {"invocationId": "a", "status": "Succeeded", "startedTime": 1_000_000, "endTime": 1_030_000})
    bad = StatefulAsyncInvocationResult.model_validate({"invocationId": "b", "status": "Failed", "durationMs": 5})
    assert durations_of([ok, bad]) == [30.0]
    with pytest.raises(InvalidArgumentError, match="durations"):
        DurationEstimate([0, -1])


@pytest.mark.parametrize("owner,field,value", [(WaitPolicy, "duration_aware", "yes"),
                                               (DurationAware, "dense_delay", 0),
                                               (DurationAware, "sparse_max_delay", -1),
                                               (DurationAware, "tight_spread", -0.1),
                                               (DurationAware, "tight_call_interval", float("inf")),
                                               (DurationAware, "min_history", 1),
                                               (DurationAware, "max_history_spread", 0)])
def test_policy_fields_are_checked(owner, field, value):
    with pytest.raises(InvalidArgumentError, match=field):
        owner(**{field: value})


def test_history_for_checks_its_arguments(fc):
    with pytest.raises(InvalidArgumentError, match="limit"):
        history_for(fc.client(), f"{SERVICE}/{FUNCTION}/x", limit=101)
    with pytest.raises(InvalidArgumentError, match="ref"):
        history_for(fc.client(), object())


def test_a_batch_history_is_the_longest_of_its_size():
    from pulumi_fc_invocation.waiter import batch_history

    single = [10.0, 20.0, 30.0, 40.0]
    assert batch_history(lambda: single, 1, samples=400)() != [40.0] * 400
    many = batch_history(lambda: single, 50, samples=100)()
    assert len(many) == 100 and min(many) == 40.0  # 50 draws of 4 values: the slowest is there
    assert batch_history(lambda: None, 5)() is None
    with pytest.raises(InvalidArgumentError, match="size"):
        batch_history(lambda: single, 0)


def test_a_short_history_a_task_is_already_past_still_waits(fc):
    """Runs of about 5 s and a task 6 s old at the first read: the schedule has nothing left to spend
    (its pricing once divided by zero here, found by 500 gates through the real engine); the wait
    goes on and ends with the task, whatever the schedule."""
    seed_history(fc, [5.0, 5.006, 5.009, 5.064, 5.78, 5.803])
    fc.add_invocation(SERVICE, FUNCTION, "late", duration=40.0, started_at=fc.clock.now() - 6)
    client = fc.client()
    ref = InvocationRef(service_name=SERVICE, function_name=FUNCTION, invocation_id="late")
    clock = AutoAdvanceClock(fc.clock)
    outcome = Waiter(lambda: client.get(ref), WaitPolicy(timeout=600), clock=clock, rng=random.Random(1),
                     history=history_for(client, ref)).wait()
    assert outcome.result.succeeded and outcome.history_calls == 1


def test_wait_for_invocation_takes_either_apis_ref_or_id_through_the_client(fc):
    """The waiter names neither API: an FC 3.0 task id is parsed and read by the client it is given
    (GetAsyncTask, its history from ListAsyncTasks); a bad id fails before any call."""
    fc.add_function(None, "render")
    start = fc.clock.now() - 1000
    for i in range(8):
        fc.add_invocation(None, "render", f"past-{i}", duration=60.0 + i, started_at=start + i)
    fc.add_invocation(None, "render", "now", duration=63.0)
    clock = AutoAdvanceClock(fc.clock)
    outcome = wait_for_invocation(fc.client(), "render/now", clock=clock, policy=WaitPolicy(timeout=None))
    assert outcome.result.succeeded and outcome.schedule == "duration-aware" and outcome.history_calls == 1
    lists = [r for r in fc.requests if r.route == "list"]
    assert len(lists) == 1 and "/2023-03-30/functions/render/async-tasks" in lists[0].path
    by_ref = wait_for_invocation(fc.client(), AsyncTaskRef(function_name="render", task_id="now"), clock=clock,
                                 policy=WaitPolicy(timeout=None, duration_aware=False))
    assert by_ref.result.succeeded and by_ref.history_calls == 0
    before = len(fc.requests)
    with pytest.raises(InvalidArgumentError, match="id"):
        wait_for_invocation(fc.client(), "not-an-id", clock=clock)
    assert len(fc.requests) == before


# --- 0.1.0's WaitPolicy (in pulumi_fc_invocation.__all__) keeps its constructor ------------------------

OLD_FIELDS = ("initial_delay", "max_delay", "multiplier", "fast_phase", "jitter", "timeout", "max_consecutive_errors",
              "not_found_grace", "duration_aware", "dense_delay", "sparse_max_delay", "tight_spread",
              "tight_call_interval", "min_history", "max_history_spread", "cap", "final_read_budget", "history_budget")
MOVED = {"dense_delay": 3.0, "sparse_max_delay": 120.0, "tight_spread": 0.2, "tight_call_interval": 10.0,
         "min_history": 3, "max_history_spread": 4.0, "history_budget": 2.0}


def test_a_positional_policy_of_0_1_means_what_it_meant():
    policy = WaitPolicy(1.0, 45.0, 3.0, 10.0, 0.2, 600.0)
    assert policy.timeout == 600.0 and policy.cap is None
    values = (2.0, 30.0, 2.0, 5.0, 0.1, 900.0, 4, 10.0, False, 3.0, 120.0, 0.2, 10.0, 3, 4.0, 20.0, 2.5, 2.0)
    with pytest.warns(DeprecationWarning):
        policy = WaitPolicy(*values)
    assert tuple(getattr(policy, name) for name in OLD_FIELDS) == values


def test_a_policy_without_a_moved_field_warns_of_nothing():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        WaitPolicy(initial_delay=2.0, max_delay=30.0, timeout=60.0, cap=10.0, final_read_budget=1.0)


@pytest.mark.parametrize("keyword", sorted(MOVED))
def test_a_moved_keyword_still_constructs_with_a_warning_naming_where_it_went(keyword):
    where = r"the waiter's HISTORY_BUDGET" if keyword == "history_budget" else rf"DurationAware\({keyword}=\.\.\.\)"
    with pytest.warns(DeprecationWarning, match=rf"^WaitPolicy\({keyword}=\.\.\.\) is deprecated: it moved to {where}"):
        policy = WaitPolicy(**{keyword: MOVED[keyword]})
    assert getattr(policy, keyword) == MOVED[keyword]


@pytest.mark.parametrize("field,value", [("dense_delay", 0), ("sparse_max_delay", -1), ("tight_spread", -0.1),
                                         ("tight_call_interval", float("inf")), ("min_history", 1),
                                         ("max_history_spread", 0), ("history_budget", 0)])
def test_a_moved_keyword_is_checked_by_its_rule(field, value):
    with pytest.raises(InvalidArgumentError, match=field):
        WaitPolicy(**{field: value})


@pytest.mark.parametrize("min_history,schedule", [(3, "duration-aware"), (50, "default")])
def test_a_policy_s_moved_tuning_tunes_the_waiter_s_strategy(fc, min_history, schedule):
    rng = random.Random(7)
    seed_history(fc, [600 * rng.lognormvariate(0, 0.1) for _ in range(40)])  # 40 durations: under 50
    with pytest.warns(DeprecationWarning):
        policy = WaitPolicy(timeout=None, min_history=min_history)
    outcome, _, _ = run(fc, 610, policy)
    assert outcome.result.succeeded and outcome.history_calls == 1 and outcome.schedule == schedule


@pytest.mark.parametrize("history_budget,budget", [(None, 5.0), (2.0, 2.0)])
def test_a_policy_s_history_budget_bounds_the_history_s_call(fc, history_budget, budget):
    import warnings

    from pulumi_fc_invocation.waiter import call_budget

    budgets = []

    def history():
        budgets.append(call_budget())
        return None

    fc.add_invocation(SERVICE, FUNCTION, "now", duration=30.0)
    client = fc.client()
    ref = InvocationRef(service_name=SERVICE, function_name=FUNCTION, invocation_id="now")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        policy = WaitPolicy(timeout=600, history_budget=history_budget)
    outcome = Waiter(lambda: client.get(ref), policy, clock=AutoAdvanceClock(fc.clock), history=history).wait()
    assert outcome.result.succeeded and budgets == [pytest.approx(budget, abs=0.5)]
