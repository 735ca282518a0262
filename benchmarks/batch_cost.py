"""Figure 6: batch vs single. The API calls (and the release delay) of gating one batch of tasks with one
list data source versus one single data source per task, both on the same seeded task schedule, in
virtual time (emulator ``clock="virtual"`` + ``AutoAdvanceClock``), without the Pulumi program around
them (``scale.py`` shows why: the SDK's ``wait_for_rpcs`` is O(n^2) in pending Outputs).

(a) One batch gate: what ``StatefulAsyncInvocations(..., wait_for_completion=True, expected_count=N)``
    runs: ``Waiter(BatchTracker(...).poll, spec.policy).wait_async`` in the program, then the read in the
    provider host (``read_batch_and_check``: one full listing).
(b) N single gates: what N ``StatefulAsyncInvocation(..., wait_for_completion=True)`` run:
    ``Waiter(lambda: client.get(ref), WaitPolicy()).wait_async`` per task on one event loop, the calls in a
    16-thread pool, then the engine's read (one get) per task.

Counted from the emulator's request log and cross-checked against the tracker's own count; every page a
batch poll lists is logged so each listing can be checked against ``ceil(listed / 100)``.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .common import Section, Stat

ENQUEUE_SPREAD = 100.0  # tasks are accepted over the 100 s before the gate starts
RUN_MIN, RUN_MAX = 60.0, 600.0  # each runs 1 to 10 minutes


def schedule(tasks: int, seed: int) -> list[tuple[float, float]]:
    """(start offset from the gate's start, run time) per task, oldest first: seeded, so both contenders
    see the same batch."""
    rng = random.Random(seed)
    starts = sorted(rng.uniform(-ENQUEUE_SPREAD, 0.0) for _ in range(tasks))
    return [(start, rng.uniform(RUN_MIN, RUN_MAX)) for start in starts]


def _seed_tasks(fc: Any, function: str, plan: list[tuple[float, float]]) -> tuple[float, list[float]]:
    """Seed the tasks relative to now (the gate's start); returns (start, each task's end, absolute)."""
    start = fc.clock.now()
    ends = []
    for i, (offset, run) in enumerate(plan):
        fc.add_invocation("bench", function, f"t-{i:05d}", started_at=start + offset,
                          timeline=[("Enqueued", 0), ("Running", 1.0), ("Succeeded", run)])
        ends.append(start + offset + run)
    return start, ends


class _PageLog:
    """The client the tracker polls through: forwards everything, and logs each list page's size and
    whether another page follows (a listing ends at the page without a next token)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.pages: list[tuple[int, bool]] = []

    def list_stateful_async_invocations_page(self, *args: Any, **kwargs: Any) -> Any:
        items, token = self._client.list_stateful_async_invocations_page(*args, **kwargs)
        self.pages.append((len(items), bool(token)))
        return items, token

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _listings(pages: list[tuple[int, bool]]) -> list[tuple[int, int]]:
    """Group pages into listings: [(members listed, pages)]."""
    out, listed, count = [], 0, 0
    for size, more in pages:
        listed, count = listed + size, count + 1
        if not more:
            out.append((listed, count))
            listed, count = 0, 0
    if count:
        out.append((listed, count))
    return out


def batch_gate(fc: Any, plan: list[tuple[float, float]], tag: str, seed: int) -> dict[str, Any]:
    from pulumi_fc_invocation.gate.batch import BatchTracker
    from pulumi_fc_invocation.gate.spec import BatchSpec
    from pulumi_fc_invocation.gate.verdict import read_batch_and_check
    from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock
    from pulumi_fc_invocation.waiter import NOT_FOUND_GRACE, Waiter, WaitPolicy, use_clock

    function = f"batch-{tag}"
    start, ends = _seed_tasks(fc, function, plan)
    spec = BatchSpec.build(service_name="bench", function_name=function, invocation_id_prefix="t-",
                           wait_for_completion=True, expected_count=len(plan))
    # The data source's defaults are the default policy (and a just-started batch's moment to be listed).
    assert spec.policy == WaitPolicy(not_found_grace=NOT_FOUND_GRACE), spec.policy
    client = fc.client()
    log = _PageLog(client)
    tracker = BatchTracker(log, spec)
    polls: list[dict[str, Any]] = []

    def poll() -> Any:  # one poll, with its own pages and the tracker's own count of calls
        pages0, calls0 = len(log.pages), tracker.calls
        try:
            return tracker.poll()
        finally:
            polls.append({"pages": log.pages[pages0:], "calls": tracker.calls - calls0})

    lists0, gets0 = fc.request_count("list"), fc.request_count("get")
    total0 = fc.request_count()
    pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="bench-batch")
    wall = time.perf_counter()
    with use_clock(AutoAdvanceClock(fc.clock)):
        outcome = asyncio.run(Waiter(poll, spec.policy, rng=random.Random(seed)).wait_async(pool))
    wait_lists = fc.request_count("list") - lists0
    summary = read_batch_and_check(client, spec, {"waited_seconds": outcome.elapsed})  # the host's read
    wall = time.perf_counter() - wall
    pool.shutdown()
    client.close()
    calls = fc.request_count() - total0
    final_calls = fc.request_count("list") - lists0 - wait_lists

    checks = []  # (poll calls, tracker's count, [(listed, pages)])
    for p in polls:
        checks.append((len(p["pages"]), p["calls"], _listings(p["pages"])))
    per_page_ok = all(pages == max(1, math.ceil(listed / 100)) for _, _, ls in checks for listed, pages in ls)
    counts_ok = all(n == c for n, c, _ in checks) and sum(c for _, c, _ in checks) == wait_lists == tracker.calls
    listed = [n for _, _, ls in checks for n, _ in ls]
    released = start + outcome.elapsed
    return {
        "ok": summary.all_succeeded and summary.total == len(plan) and outcome.result is not None
        and outcome.result.is_terminal,
        "calls": calls,
        "gets": fc.request_count("get") - gets0,
        "wait_calls": wait_lists,
        "final_calls": final_calls,
        "polls": len(polls),
        "confirms": sum(1 for _, _, ls in checks if len(ls) > 1),
        "listings": sum(len(ls) for _, _, ls in checks),
        "listed": listed,  # members each listing returned (window listings and confirms)
        "calls_per_poll": [n for n, _, _ in checks],
        "per_page_ok": per_page_ok,
        "counts_ok": counts_ok,
        "delay": released - max(ends),
        "virtual": outcome.elapsed,
        "wall": wall,
    }


def single_gates(fc: Any, plan: list[tuple[float, float]], tag: str, seed: int) -> dict[str, Any]:
    from pulumi_fc_invocation.fc2 import InvocationRef
    from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock
    from pulumi_fc_invocation.waiter import Waiter, WaitPolicy, use_clock

    function = f"single-{tag}"
    start, ends = _seed_tasks(fc, function, plan)
    refs = [InvocationRef(service_name="bench", function_name=function, invocation_id=f"t-{i:05d}")
            for i in range(len(plan))]
    client = fc.client()
    pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="bench-single")
    total0 = fc.request_count()

    async def one(i: int, ref: Any) -> tuple[bool, float]:
        waiter = Waiter(lambda: client.get(ref), WaitPolicy(), rng=random.Random(seed * 1_000_003 + i))
        outcome = await waiter.wait_async(pool)
        final = await asyncio.get_running_loop().run_in_executor(pool, client.get, ref)  # the engine's read
        return outcome.result is not None and final.succeeded, start + outcome.elapsed

    async def main() -> list[tuple[bool, float]]:
        return await asyncio.gather(*(one(i, ref) for i, ref in enumerate(refs)))

    wall = time.perf_counter()
    with use_clock(AutoAdvanceClock(fc.clock)):
        results = asyncio.run(main())
    wall = time.perf_counter() - wall
    pool.shutdown()
    client.close()
    released = [r for _, r in results]
    return {
        "ok": all(ok for ok, _ in results),
        "calls": fc.request_count() - total0,
        "delay": max(released) - max(ends),  # a resource depending on every gate waits for the last one
        "per_gate_delay": [r - e for r, e in zip(released, ends)],
        "virtual": max(released) - start,
        "wall": wall,
    }


def batch_cost(section: Section, *, tasks: int, seeds: int) -> dict[str, Any]:
    from pulumi_fc_invocation.testing.server import FcEmulator

    rounds = []
    with FcEmulator(clock="virtual") as fc:
        for seed in range(1, seeds + 1):
            plan = schedule(tasks, seed)
            batch = batch_gate(fc, plan, f"s{seed}", seed)
            single = single_gates(fc, plan, f"s{seed}", seed)
            rounds.append({"seed": seed, "batch": batch, "single": single,
                           "ratio": single["calls"] / max(batch["calls"], 1)})

    def stat(key: str, who: str) -> Stat:
        return Stat.of(r[who][key] for r in rounds)

    b_calls, s_calls = stat("calls", "batch"), stat("calls", "single")
    ratio = Stat.of(r["ratio"] for r in rounds)
    polls = stat("polls", "batch")
    per_poll = Stat.of(c for r in rounds for c in r["batch"]["calls_per_poll"])
    listed = Stat.of(n for r in rounds for n in r["batch"]["listed"])
    per_gate = Stat.of(d for r in rounds for d in r["single"]["per_gate_delay"])
    all_ok = all(r["batch"]["ok"] and r["single"]["ok"] for r in rounds)
    full_pages = max(1, math.ceil(tasks / 100))

    seed_text = f"seeds 1-{seeds}" if seeds > 1 else "seed 1"
    section.add(f"{tasks:,} tasks accepted at random times over the {ENQUEUE_SPREAD:g} s before the gates start, "
                f"each running a random {RUN_MIN / 60:g} to {RUN_MAX / 60:g} min (seeded: {seed_text}; the same "
                f"schedule for both contenders in each round), default policy, emulator over real HTTP, virtual "
                f"time. **Batch**: one `StatefulAsyncInvocations` gate (`BatchTracker.poll` under `Waiter`, then "
                f"the host's read: one full listing, {full_pages} page{'s' if full_pages > 1 else ''}). "
                f"**Single**: {tasks:,} `StatefulAsyncInvocation` gates (`Waiter(...).wait_async` per task on one "
                f"event loop, 16-thread pool, then the engine's read: one get each). Release delay: when the "
                f"gate (for single: the last of the {tasks:,}) released, minus the last task's end. Median "
                f"(min-max) over {seeds} seed{'s' if seeds > 1 else ''}.", "")
    section.table(["figure", "batch (1 gate)", f"single ({tasks:,} gates)", "single / batch"], [
        ["API calls to gate the batch (emulator request log)", b_calls.fmt(0), s_calls.fmt(0), ratio.fmt(1, "x")],
        ["API calls per task", Stat.of(r["batch"]["calls"] / tasks for r in rounds).fmt(2),
         Stat.of(r["single"]["calls"] / tasks for r in rounds).fmt(2), ""],
        ["batch calls if every poll listed the whole batch (same polls, no window)",
         Stat.of(r["batch"]["polls"] * full_pages + r["batch"]["final_calls"] for r in rounds).fmt(0), "", ""],
        ["of which the final read(s)", stat("final_calls", "batch").fmt(0) + " list", f"{tasks:,} get", ""],
        ["release delay after the last task's end", stat("delay", "batch").fmt(1, " s"),
         stat("delay", "single").fmt(1, " s"), ""],
        ["virtual wait from the gates' start", stat("virtual", "batch").fmt(1, " s"),
         stat("virtual", "single").fmt(1, " s"), ""],
        ["wall time", stat("wall", "batch").fmt(2, " s"), stat("wall", "single").fmt(2, " s"), ""],
    ])
    section.add("Per round:", "")
    section.table(["seed", "batch calls (polls + final)", "batch polls (full-listing confirms)",
                   "single calls", "single / batch", "release delay batch / single", "all Succeeded"],
                  [[r["seed"], f"{r['batch']['calls']} ({r['batch']['wait_calls']} + {r['batch']['final_calls']})",
                    f"{r['batch']['polls']} ({r['batch']['confirms']})", r["single"]["calls"],
                    f"{r['ratio']:.1f}x", f"{r['batch']['delay']:.1f} s / {r['single']['delay']:.1f} s",
                    "yes" if r["batch"]["ok"] and r["single"]["ok"] else "NO"] for r in rounds])
    section.add(f"The batch gate's polls: {polls.fmt(0)} per gate, {per_poll.fmt(2)} list calls per poll over all "
                f"rounds' polls, {listed.fmt(0)} members per listing (the full batch is {tasks:,}: a poll lists only "
                f"from the oldest unfinished member on; the poll that finds the batch complete adds one full "
                f"listing to confirm it). Batch API calls are list calls only "
                f"({sum(r['batch']['gets'] for r in rounds)} gets). Single gates' own detection delay (release "
                f"minus that task's end): {per_gate.fmt(1, ' s')}.", "")
    per_page_ok = all(r["batch"]["per_page_ok"] for r in rounds)
    counts_ok = all(r["batch"]["counts_ok"] for r in rounds)
    listings = sum(r["batch"]["listings"] for r in rounds)
    section.target("batch gate costs one list call per page per poll",
                   per_page_ok and counts_ok and all_ok,
                   f"every listing of every poll made ceil(listed/100) calls (at least 1): "
                   f"{'yes' if per_page_ok else 'NO'}, over {listings} listings in "
                   f"{sum(r['batch']['polls'] for r in rounds)} polls; poll calls = tracker's count = emulator's "
                   f"list log: {'yes' if counts_ok else 'NO'}; all gates Succeeded: {'yes' if all_ok else 'NO'}")
    return {"rounds": rounds, "ratio": ratio, "batch_calls": b_calls, "single_calls": s_calls}

