"""Figure 4: waiter efficiency under virtual time. API calls made and detection delay (task end to
the gate's release) for the default ``WaitPolicy()`` and two baselines, over tasks of 5 s to 6 h.

The real :class:`~pulumi_fc_invocation.waiter.Waiter` runs against a simulated clock (a sleep just
moves time) and a fake fetch that answers "Running" until the task's end and "Succeeded" after.
Each run draws its own jitter and its own start phase: the gate starts ``p`` seconds after the task
did, ``p`` uniform in [0, min(60 s, duration / 2)), so the end falls anywhere in a poller's cycle
(60 s spans every cap tried here, and is a whole number of 5 s cycles).
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Any, Optional

from .common import Section, Stat, percentile

PHASE = 60.0
DURATIONS: list[tuple[str, float]] = [("5 s", 5.0), ("10 s", 10.0), ("1 min", 60.0), ("10 min", 600.0),
                                      ("1 h", 3600.0), ("6 h", 21600.0)]


class _SimClock:
    def __init__(self) -> None:
        self.now_ = 0.0

    def monotonic(self) -> float:
        return self.now_

    def sleep(self, seconds: float) -> None:
        self.now_ += max(0.0, seconds)


class _Answer:
    __slots__ = ("is_terminal",)

    def __init__(self, terminal: bool) -> None:
        self.is_terminal = terminal


_RUNNING, _DONE = _Answer(False), _Answer(True)


def _policy_classes() -> tuple[Any, Any]:
    from pulumi_fc_invocation.waiter import WaitPolicy

    @dataclass(frozen=True)
    class ApiCoreLroPolicy(WaitPolicy):
        """google-api-core's LRO polling: ``exponential_sleep_generator(1.0, 20.0, 1.5)``, i.e. the n-th
        sleep is ``uniform(0, min(1.0 * 1.5**n, 20.0))`` ("full jitter")."""

        def next_delay(self, elapsed: float, previous: Optional[float], rng: random.Random) -> tuple[float, float]:
            ceiling = self.initial_delay if previous is None else min(previous * self.multiplier, self.max_delay)
            return rng.uniform(0.0, ceiling), ceiling

    return WaitPolicy, ApiCoreLroPolicy


def policies() -> list[tuple[str, str, Any]]:
    WaitPolicy, ApiCoreLroPolicy = _policy_classes()
    default = WaitPolicy()
    return [
        ("default", f"`WaitPolicy()` without a history (its fallback schedule; section 8 gives it the "
                    f"function's history): {describe(default)}", default),
        ("fixed 5 s", "poll every 5 s, no jitter (the shell loop this replaces)",
         WaitPolicy(initial_delay=5.0, max_delay=5.0, multiplier=1.0, fast_phase=0.0, jitter=0.0)),
        ("api-core LRO", "google-api-core LRO defaults: 1 s initial, x1.5, 20 s cap, full jitter",
         ApiCoreLroPolicy(initial_delay=1.0, max_delay=20.0, multiplier=1.5, fast_phase=0.0, jitter=0.0)),
        ("api-core nominal", "the same schedule without jitter (1, 1.5, 2.25, ... 20 s)",
         WaitPolicy(initial_delay=1.0, max_delay=20.0, multiplier=1.5, fast_phase=0.0, jitter=0.0)),
    ]


def describe(policy: Any) -> str:
    return (f"initial_delay={policy.initial_delay:g}, max_delay={policy.max_delay:g}, "
            f"multiplier={policy.multiplier:g}, fast_phase={policy.fast_phase:g}, jitter={policy.jitter:g}")


def simulate(policy: Any, duration: float, runs: int, seed: int) -> tuple[list[int], list[float]]:
    """(calls per run, detection delay per run) for a task of ``duration`` seconds."""
    from pulumi_fc_invocation.waiter import Waiter

    policy = dataclasses.replace(policy, timeout=None)  # measure the schedule, not the deadline
    master = random.Random(seed)
    calls: list[int] = []
    delays: list[float] = []
    for _ in range(runs):
        clock = _SimClock()
        phase = master.uniform(0.0, min(PHASE, duration / 2))
        ends_at = duration - phase  # on the gate's clock, which starts at 0

        def fetch() -> _Answer:
            return _DONE if clock.now_ >= ends_at else _RUNNING

        outcome = Waiter(fetch, policy, clock=clock, rng=random.Random(master.random())).wait()
        calls.append(outcome.calls)
        delays.append(clock.now_ - ends_at)
    return calls, delays


@dataclass
class Row:
    calls: Stat
    delay: Stat
    delay_p90: float


def evaluate(policy: Any, runs: int, seed: int, durations: list[tuple[str, float]] = DURATIONS) -> dict[str, Row]:
    out = {}
    for i, (label, seconds) in enumerate(durations):
        calls, delays = simulate(policy, seconds, runs, seed + i)
        out[label] = Row(Stat.of(calls), Stat.of(delays), percentile(delays, 0.9))
    return out


def check_targets(rows: dict[str, Row], fixed: dict[str, Row], margin: float = 1.0) -> list[tuple[str, bool, str]]:
    """The issue's targets on medians; ``margin`` < 1 tightens every bound (used to pick robust candidates)."""
    out = []
    for label, seconds in DURATIONS:
        if label not in rows:
            continue
        row = rows[label]
        if seconds <= 10:
            out.append((f"{label} task noticed within 1 s (median)", row.delay.median <= 1.0 * margin,
                        f"median delay {row.delay.median:.2f} s"))
        if seconds >= 600:
            ratio = row.calls.median / fixed[label].calls.median
            out.append((f"{label} task: at most 1/4 of fixed 5 s polling's calls (median)", ratio <= 0.25 * margin,
                        f"{row.calls.median:.0f} vs {fixed[label].calls.median:.0f} calls = {ratio:.3f}"))
            out.append((f"{label} task noticed within 30 s (median)", row.delay.median <= 30.0 * margin,
                        f"median delay {row.delay.median:.1f} s, p90 {row.delay_p90:.1f} s"))
    return out


CANDIDATES: list[dict[str, float]] = [
    # Closest to the default first: raise only the cap; then a gentler ramp; then more jitter.
    {"max_delay": 35.0}, {"max_delay": 40.0}, {"max_delay": 45.0}, {"max_delay": 50.0},
    {"max_delay": 40.0, "multiplier": 2.0}, {"max_delay": 45.0, "multiplier": 2.0},
    {"max_delay": 50.0, "multiplier": 2.0}, {"max_delay": 45.0, "multiplier": 1.5},
    {"max_delay": 40.0, "jitter": 0.2}, {"max_delay": 45.0, "jitter": 0.2},
    {"max_delay": 45.0, "multiplier": 2.0, "jitter": 0.2}, {"max_delay": 60.0},
]


def slack(rows: dict[str, Row], fixed: dict[str, Row]) -> float:
    """The smallest relative room left under any target's bound (negative: a target is missed)."""
    room = []
    for label, seconds in DURATIONS:
        row = rows[label]
        if seconds <= 10:
            room.append(1 - row.delay.median / 1.0)
        if seconds >= 600:
            room.append(1 - row.calls.median / fixed[label].calls.median / 0.25)
            room.append(1 - row.delay.median / 30.0)
    return min(room)


def search(default: Any, fixed: dict[str, Row], runs: int, seed: int) -> list[tuple[dict[str, float], Any, float, str]]:
    """Candidates, most room under the targets first: (changes, policy, slack, figures)."""
    results = []
    for changes in CANDIDATES:
        policy = dataclasses.replace(default, **changes)
        rows = evaluate(policy, runs, seed, DURATIONS)
        ok = slack(rows, fixed)
        summary = "; ".join(f"{label}: {rows[label].calls.median:.0f} calls "
                            f"({rows[label].calls.median / fixed[label].calls.median:.3f} of fixed 5 s), "
                            f"delay {rows[label].delay.median:.1f} s (p90 {rows[label].delay_p90:.1f})"
                            for label in ("10 min", "1 h"))
        summary += (f"; 10 s task delay {rows['10 s'].delay.median:.2f} s; 1 min task: {rows['1 min'].calls.median:.0f} "
                    f"calls, delay {rows['1 min'].delay.median:.1f} s")
        results.append((changes, policy, ok, summary))
    return sorted(results, key=lambda r: -r[2])


def waiter_efficiency(section: Section, *, runs: int, search_runs: int, seed: int = 20261126) -> dict[str, Any]:
    table: dict[str, dict[str, Row]] = {}
    named = policies()
    for name, _, policy in named:
        table[name] = evaluate(policy, runs, seed)
    fixed = table["fixed 5 s"]
    section.add(f"The real `Waiter` on a simulated clock; {runs} runs per cell, each with its own jitter and a "
                f"random start phase (the gate starts 0-60 s after the task, at most half its duration). Calls are "
                f"the waiter's GetStatefulAsyncInvocation calls (the engine's final Read adds one for every "
                f"policy); delay is the time from the task's end to the poll that saw it ended. The deadline is "
                f"lifted (`timeout=None`) so that the schedule, not `timeout_seconds`, is measured.", "")
    section.add("Policies:", "")
    for name, desc, _ in named:
        section.add(f"- **{name}**: {desc}")
    section.add("")
    header = ["task"] + [f"{name}: calls" for name, _, _ in named] + [f"{name}: delay s (p90)" for name, _, _ in named]
    rows = []
    for label, _ in DURATIONS:
        cells = [label]
        cells += [table[name][label].calls.fmt(0) for name, _, _ in named]
        cells += [f"{table[name][label].delay.median:.2f} ({table[name][label].delay_p90:.2f})" for name, _, _ in named]
        rows.append(cells)
    section.add("Calls: median (min-max). Delay: median (p90), seconds.", "")
    section.table(header, rows)
    section.table(["task", "default / fixed 5 s calls", "api-core LRO / fixed 5 s calls"],
                  [[label, f"{table['default'][label].calls.median / fixed[label].calls.median:.3f}",
                    f"{table['api-core LRO'][label].calls.median / fixed[label].calls.median:.3f}"]
                   for label, _ in DURATIONS])
    default_checks = check_targets(table["default"], fixed)
    for name, met, detail in default_checks:
        section.target(f"default policy: {name}", met, detail)
    result: dict[str, Any] = {"table": table, "default_ok": all(m for _, m, _ in default_checks)}
    if not result["default_ok"]:
        default = named[0][2]
        found = search(default, fixed, search_runs, seed + 1000)
        section.add("", f"The default misses a target, so candidate parameter sets were tried ({search_runs} runs "
                        f"per cell), sorted by slack: the smallest relative room left under any target's bound "
                        f"(negative: a target missed). Median delays carry about +/-2 s of sampling noise.", "")
        section.table(["changes from the default", "slack", "10 min / 1 h / 10 s / 1 min figures"],
                      [[", ".join(f"{k}={v:g}" for k, v in changes.items()), f"{ok:+.3f}", summary]
                       for changes, _, ok, summary in found])
        best = next(((changes, policy) for changes, policy, ok, _ in found if ok > 0), None)
        if best is not None:
            changes, policy = best
            rows_best = evaluate(policy, runs, seed + 2000)
            table["proposed"] = rows_best
            section.add(f"Proposed default (the candidate with the most slack), re-run at {runs} runs with "
                        f"other seeds: "
                        f"`WaitPolicy({describe(policy)})`", "")
            section.table(["task", "calls", "vs fixed 5 s", "delay s median (p90, max)"],
                          [[label, rows_best[label].calls.fmt(0),
                            f"{rows_best[label].calls.median / fixed[label].calls.median:.3f}",
                            f"{rows_best[label].delay.median:.2f} ({rows_best[label].delay_p90:.2f}, "
                            f"{rows_best[label].delay.max:.2f})"] for label, _ in DURATIONS])
            for name, met, detail in check_targets(rows_best, fixed):
                section.target(f"proposed policy: {name}", met, detail)
            result["proposed"] = policy
        else:
            section.add("No candidate met every target; see the table for the trade-off.", "")
    return result


# --- Section 8: the duration-aware schedule against realistic histories --------------------------

HISTORY_SIZE = 50  # one page of the function's recent Succeeded tasks
SHORT_RUNS_FACTOR = 4
EPOCH = 1_800_000_000.0


class _EpochSimClock(_SimClock):
    """The simulated clock with a wall time too (the waiter ages the task by ``now() - startedTime``)."""

    def __init__(self, epoch: float) -> None:
        super().__init__()
        self.epoch = epoch

    def now(self) -> float:
        return self.epoch + self.now_


class _Task:
    __slots__ = ("is_terminal", "started_time")

    def __init__(self, terminal: bool, started: float) -> None:
        self.is_terminal = terminal
        self.started_time = started


@dataclass(frozen=True)
class Case:
    """One function: ``draw(rng)`` gives one task's duration (history and the waited task alike)."""

    label: str
    kind: str  # "long", "wide", "bimodal", "short", "none", "mid"
    median: float
    spread: float  # sigma of the log-duration (0: see draw)
    fast_share: float = 0.0  # bimodal: share of the fast path
    fast_median: float = 0.0

    def draw(self, rng: random.Random) -> float:
        if self.fast_share and rng.random() < self.fast_share:
            return self.fast_median * rng.lognormvariate(0.0, self.spread)
        return self.median * rng.lognormvariate(0.0, self.spread)


def history_cases() -> list[Case]:
    cases = [Case(f"{s} s, {int(p * 100)}%", "short", float(s), p) for s in (5, 10) for p in (0.10, 0.25)]
    cases += [Case(f"1 min, {int(p * 100)}%", "mid", 60.0, p) for p in (0.10, 0.25)]
    for label, seconds in (("10 min", 600.0), ("1 h", 3600.0), ("6 h", 21600.0)):
        for p in (0.10, 0.25, 0.50):
            cases.append(Case(f"{label}, {int(p * 100)}%", "long" if p <= 0.25 else "wide", seconds, p))
    cases.append(Case("bimodal 1 min / 10 min", "bimodal", 600.0, 0.10, fast_share=0.4, fast_median=60.0))
    cases.append(Case("bimodal 30 s / 20 min", "bimodal", 1200.0, 0.15, fast_share=0.3, fast_median=30.0))
    cases += [Case(f"{label}, no history", "none", seconds, 0.25) for label, seconds in (("10 s", 10.0),
                                                                                      ("10 min", 600.0))]
    return cases


def history_policies() -> list[tuple[str, str, Any, bool]]:
    """(name, description, policy, given the history)."""
    from pulumi_fc_invocation.waiter import DurationAware, WaitPolicy

    tuning = DurationAware()
    return [
        ("today", "today's default: `WaitPolicy(duration_aware=False)` (the schedule of section 4)",
         WaitPolicy(duration_aware=False), False),
        ("new", f"the new default, `WaitPolicy()` with the function's history, the duration-aware strategy "
                f"tuned `DurationAware(dense_delay={tuning.dense_delay:g}, "
                f"sparse_max_delay={tuning.sparse_max_delay:g}, tight_spread={tuning.tight_spread:g}, "
                f"tight_call_interval={tuning.tight_call_interval:g}, "
                f"max_history_spread={tuning.max_history_spread:g}, min_history={tuning.min_history})`",
         WaitPolicy(), True),
        ("fixed 5 s", "poll every 5 s, no jitter",
         WaitPolicy(initial_delay=5.0, max_delay=5.0, multiplier=1.0, fast_phase=0.0, jitter=0.0,
                    duration_aware=False), False),
        ("fixed 1 s", "poll every 1 s, no jitter",
         WaitPolicy(initial_delay=1.0, max_delay=1.0, multiplier=1.0, fast_phase=0.0, jitter=0.0,
                    duration_aware=False), False),
    ]


def simulate_history(policy: Any, case: Case, use_history: bool, runs: int, seed: int
                     ) -> tuple[list[int], list[float]]:
    """(calls per run, the history's call included; detection delay per run). Each run draws its own
    history, task duration, start phase and jitter from ``seed``, the same for every policy."""
    from pulumi_fc_invocation.waiter import Waiter

    policy = dataclasses.replace(policy, timeout=None)
    master = random.Random(seed)
    calls: list[int] = []
    delays: list[float] = []
    for _ in range(runs):
        rng = random.Random(master.random())
        history = [] if case.kind == "none" else [case.draw(rng) for _ in range(HISTORY_SIZE)]
        duration = case.draw(rng)
        phase = rng.uniform(0.0, min(PHASE, duration / 2))
        clock = _EpochSimClock(EPOCH + phase)
        ends_at = duration - phase

        def fetch() -> _Task:
            return _Task(clock.now_ >= ends_at, EPOCH)

        waiter = Waiter(fetch, policy, clock=clock, rng=random.Random(rng.random()),
                        history=(lambda: history) if use_history else None)
        outcome = waiter.wait()
        calls.append(outcome.calls + outcome.history_calls)
        delays.append(clock.now_ - ends_at)
    return calls, delays


def history_targets(case: Case, rows: dict[str, Row]) -> list[tuple[str, bool, str]]:
    new, today, fixed5 = rows["new"], rows["today"], rows["fixed 5 s"]
    fig = (f"new: {new.calls.median:.0f} calls, delay {new.delay.median:.1f} s (p90 {new.delay_p90:.1f}); "
           f"today: {today.calls.median:.0f} calls, delay {today.delay.median:.1f} s (p90 {today.delay_p90:.1f})")
    if case.kind == "long":
        ratio = new.calls.median / fixed5.calls.median
        return [(f"{case.label}: median delay < 5 s, p90 < 15 s, calls <= 1/4 of fixed 5 s",
                 new.delay.median < 5 and new.delay_p90 < 15 and ratio <= 0.25,
                 f"median {new.delay.median:.1f} s, p90 {new.delay_p90:.1f} s, {new.calls.median:.0f} vs "
                 f"{fixed5.calls.median:.0f} calls = {ratio:.3f}")]
    if case.kind in ("wide", "bimodal", "short"):
        ok = (new.calls.median <= today.calls.median and new.delay.median <= today.delay.median
              and new.delay_p90 <= today.delay_p90)
        return [(f"{case.label}: no worse than today's default (median calls, median and p90 delay)", ok, fig)]
    return []


def waiter_history(section: Section, *, runs: int, seed: int = 20261201) -> dict[str, Any]:
    cases = history_cases()
    named = history_policies()
    table: dict[str, dict[str, Row]] = {}
    for i, case in enumerate(cases):
        table[case.label] = {}
        # Short tasks are cheap to simulate and compared within tenths of a second: more runs.
        n = runs * SHORT_RUNS_FACTOR if case.median <= 10 else runs
        for name, _, policy, given in named:
            calls, delays = simulate_history(policy, case, given, n, seed + i)
            table[case.label][name] = Row(Stat.of(calls), Stat.of(delays), percentile(delays, 0.9))
    section.add(
        f"The real `Waiter` on a simulated clock, as in section 4, now with the function's history: each of "
        f"{runs} runs per cell ({runs * SHORT_RUNS_FACTOR} for tasks of 10 s and less) draws {HISTORY_SIZE} "
        f"recent durations (one list page) and then the waited task's "
        f"own duration from the same distribution: a lognormal with the given median and spread (the spread "
        f"is the standard deviation of the log-duration, about the coefficient of variation), or a mixture of "
        f"two (bimodal: a fast path and a slow path, share of the fast path given). The gate starts 0-60 s "
        f"after the task (at most half its duration) and learns the task's age from the first read's "
        f"startedTime. Every policy sees the same draws. Calls include the history's list call (one, made "
        f"only when the first read finds the task still running); \"no history\" is a list that comes back "
        f"empty.", "")
    section.add("Policies:", "")
    for name, desc, _, _ in named:
        section.add(f"- **{name}**: {desc}")
    section.add("")
    header = (["function (median, spread)"] + [f"{name}: calls" for name, _, _, _ in named]
              + [f"{name}: delay s (p90)" for name, _, _, _ in named])
    section.add("Calls: median (min-max). Delay: median (p90), seconds.", "")
    section.table(header, [[case.label]
                           + [table[case.label][name].calls.fmt(0) for name, _, _, _ in named]
                           + [f"{table[case.label][name].delay.median:.2f} ({table[case.label][name].delay_p90:.2f})"
                              for name, _, _, _ in named] for case in cases])
    section.table(["function", "new / fixed 5 s calls", "new / today calls"],
                  [[case.label,
                    f"{table[case.label]['new'].calls.median / table[case.label]['fixed 5 s'].calls.median:.3f}",
                    f"{table[case.label]['new'].calls.median / table[case.label]['today'].calls.median:.3f}"]
                   for case in cases])
    for case in cases:
        for name, met, detail in history_targets(case, table[case.label]):
            section.target(name, met, detail)
    return {"table": table}
