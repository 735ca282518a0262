"""Figure 5: scale. Many gated data sources in one program, run through the testing harness (program
in this process under the SDK's mocks, provider in a real ``python -m pulumi.dynamic`` host), the
emulator over real HTTP, and virtual time (``AutoAdvanceClock``) for every wait. Also the provider
host's memory across many reads, and the API calls of gating 1,000 tasks with single data sources.
"""

from __future__ import annotations

import contextlib
import pickle
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Iterator

from .common import ROOT, Section, Stat, rss_kib

_ORIGINAL_BATCH_SETITEMS = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]

_COUNT_SERIALIZATIONS = r"""
from pulumi.dynamic.dynamic import serialize_provider
from pulumi_fc_invocation.provider import StatefulAsyncInvocationProvider
for i in range(5000):
    try:
        serialize_provider(StatefulAsyncInvocationProvider())
    except RecursionError:
        print(i)
        break
else:
    print(-1)
"""


def dynamic_resources_before_recursion_error() -> int:
    """How many dynamic resources one process can construct before the SDK's serializer overflows.

    ``pulumi.dynamic.dynamic.serialize_provider`` wraps ``pickle._Pickler._batch_setitems`` in a new
    sorting wrapper on every call and never unwraps it, so each dynamic resource adds a stack frame to
    every later dict pickling. -1: no error within 5,000.
    """
    proc = subprocess.run([sys.executable, "-c", _COUNT_SERIALIZATIONS], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    return int(proc.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def _fresh_pickler_per_resource() -> Iterator[None]:
    """Benchmark-only workaround for that SDK bug: undo its wrapper after each serialization, as if each
    resource were serialized in a fresh process. Without it, one process fails after ~1,000 resources."""
    import pulumi.dynamic.dynamic as dynamic

    original = dynamic.serialize_provider

    def serialize_provider(provider: Any) -> str:
        try:
            return original(provider)
        finally:
            pickle._Pickler._batch_setitems = _ORIGINAL_BATCH_SETITEMS  # type: ignore[attr-defined]

    dynamic.serialize_provider = serialize_provider
    pickle._Pickler._batch_setitems = _ORIGINAL_BATCH_SETITEMS  # type: ignore[attr-defined]
    try:
        yield
    finally:
        dynamic.serialize_provider = original

SECRET_KEYS = ("alicloud:secretKey", "alicloud:securityToken")
CLEAN_ENV = {name: "" for name in (
    "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY",
    "FC_INVOCATION_ENDPOINT", "ALIBABA_CLOUD_SECURITY_TOKEN", "ALICLOUD_SECURITY_TOKEN", "ALIBABA_CLOUD_PROFILE",
    "ALICLOUD_PROFILE", "ALIBABA_CLOUD_CREDENTIALS_FILE")}


class _ThreadSampler:
    """Peak thread count of this process (total, and without the in-process emulator's threads)."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.peak_total = 0
        self.peak_program = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-thread-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            threads = [t for t in threading.enumerate() if t.name != "bench-thread-sampler"]
            self.peak_total = max(self.peak_total, len(threads))
            self.peak_program = max(self.peak_program,
                                    sum(1 for t in threads if not t.name.startswith("fc-emulator")))
            self._stop.wait(self.interval)

    def __enter__(self) -> "_ThreadSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def _run(fc: Any, host: Any, program: Callable[[], None], timeout: float) -> Any:
    from pulumi_fc_invocation.testing.harness import run_program
    from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock
    from pulumi_fc_invocation.waiter import use_clock

    with use_clock(AutoAdvanceClock(fc.clock)), _fresh_pickler_per_resource():
        return run_program(program, config=fc.stack_config(), secret_keys=SECRET_KEYS, host=host, timeout=timeout)


def gated_program(fc: Any, host: Any, count: int, spread: float, tag: str, timeout: float = 600.0) -> dict[str, Any]:
    """``count`` gates on tasks ending at staggered times over ``spread`` seconds of virtual time."""
    import pulumi

    from pulumi_fc_invocation import StatefulAsyncInvocation

    ends = [5.0 + spread * i / max(1, count - 1) for i in range(count)]
    for i, end in enumerate(ends):
        fc.add_invocation("scale", "job", f"{tag}-{i}", timeline=[("Running", 0), ("Succeeded", end)])
    fc.reset_requests()
    start = fc.clock.now()

    def program() -> None:
        for i in range(count):
            inv = StatefulAsyncInvocation(f"{tag}-{i}", service_name="scale", function_name="job",
                                          invocation_id=f"{tag}-{i}", wait_for_completion=True, timeout_seconds=3600)
            pulumi.export(f"s{i}", inv.status)

    with _ThreadSampler() as sampler:
        wall = time.perf_counter()
        result = _run(fc, host, program, timeout)
        wall = time.perf_counter() - wall
    statuses = [result.outputs[f"s{i}"] for i in range(count)]
    requests = fc.requests
    waited = [result.resource(f"{tag}-{i}").outputs.get("waited_seconds") or 0.0 for i in range(count)]
    return {
        "ok": all(s == "Succeeded" for s in statuses),
        "virtual": fc.clock.now() - start,
        "last_end": max(ends),
        "calls": len(requests),
        "gets": sum(1 for r in requests if r.method == "GET"),
        "peak_threads": sampler.peak_program,
        "peak_threads_total": sampler.peak_total,
        "host_rss_kib": rss_kib(host.pid),
        "wall": wall,
        "delays": [w - e for w, e in zip(waited, ends)],
    }


def gate_many(fc: Any, count: int, spread: float, tag: str) -> dict[str, Any]:
    """``count`` gates as the data source runs them (``Waiter.wait_async`` on one event loop, the calls in
    a 16-thread pool, then the engine's final Read each), without the Pulumi program around them."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from pulumi_fc_invocation.fc2 import InvocationRef
    from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock
    from pulumi_fc_invocation.waiter import Waiter, WaitPolicy, use_clock

    ends = [5.0 + spread * i / max(1, count - 1) for i in range(count)]
    refs = [InvocationRef(service_name="scale", function_name="job", invocation_id=f"{tag}-{i}") for i in range(count)]
    for ref, end in zip(refs, ends):
        fc.add_invocation("scale", "job", ref.invocation_id, timeline=[("Running", 0), ("Succeeded", end)])
    fc.reset_requests()
    start = fc.clock.now()
    client = fc.client()
    pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="bench-gate")

    async def one(ref: Any) -> bool:
        outcome = await Waiter(lambda: client.get(ref), WaitPolicy()).wait_async(pool)
        final = await asyncio.get_running_loop().run_in_executor(pool, client.get, ref)  # the engine's Read
        return outcome.result is not None and final.succeeded

    async def main() -> list[bool]:
        return await asyncio.gather(*(one(ref) for ref in refs))

    wall = time.perf_counter()
    with use_clock(AutoAdvanceClock(fc.clock)):
        results = asyncio.run(main())
    wall = time.perf_counter() - wall
    pool.shutdown()
    client.close()
    return {"ok": all(results), "calls": len(fc.requests), "virtual": fc.clock.now() - start,
            "last_end": max(ends), "wall": wall}


def read_program(fc: Any, host: Any, count: int, tag: str) -> None:
    import pulumi

    from pulumi_fc_invocation import StatefulAsyncInvocation

    def program() -> None:
        for i in range(count):
            inv = StatefulAsyncInvocation(f"{tag}-{i}", service_name="reads", function_name="job",
                                          invocation_id=f"done-{i}")
            pulumi.export(f"s{i}", inv.status)

    result = _run(fc, host, program, 600.0)
    assert all(result.outputs[f"s{i}"] == "Succeeded" for i in range(count))


def _sdk_output_wait_replaced() -> bool:
    """Whether something (the package, once it ships the workaround) already replaced the SDK's wait."""
    import pulumi.runtime.stack as stack

    return getattr(stack.wait_for_rpcs, "__module__", "") != "pulumi.runtime.stack"


async def _one_wait_for_rpcs(await_all_outstanding_tasks: bool = True) -> None:
    """The SDK's ``wait_for_rpcs`` (pulumi/runtime/stack.py) with one ``asyncio.wait(FIRST_EXCEPTION)``
    per snapshot of outstanding Outputs instead of ``FIRST_COMPLETED`` in a loop: the SDK re-waits on
    every pending Output after each one completes (a done-callback added to and removed from each),
    O(n^2) in the pending Outputs; one wait per snapshot is O(n) and still returns at the first
    failure. Benchmark-level, until the package installs the same (requested of the Pulumi layer)."""
    import asyncio

    from pulumi.runtime.settings import SETTINGS, _get_rpc_manager

    rpc_manager = _get_rpc_manager()
    while True:
        while len(rpc_manager.rpcs) > 0:
            await asyncio.sleep(0)
            try:
                await rpc_manager.rpcs.pop()
            except Exception as exn:
                if rpc_manager.unhandled_exception is not None:
                    raise exn from rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
                raise
        if rpc_manager.unhandled_exception is not None:
            raise rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
        if await_all_outstanding_tasks:
            while True:
                with SETTINGS.lock:
                    if len(SETTINGS.outputs) == 0:
                        break
                    pending = list(SETTINGS.outputs)
                    SETTINGS.outputs.clear()
                done, not_done = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
                for task in done:
                    await task
                if not_done:
                    with SETTINGS.lock:
                        SETTINGS.outputs.update(not_done)
        if len(rpc_manager.rpcs) == 0:
            break


def install_one_wait() -> None:
    """Install :func:`_one_wait_for_rpcs` for this process (a program under ``pulumi up`` calls it)."""
    import pulumi.runtime.stack as stack

    if not _sdk_output_wait_replaced():
        stack.wait_for_rpcs = _one_wait_for_rpcs


@contextlib.contextmanager
def one_wait_per_snapshot() -> Iterator[None]:
    """:func:`_one_wait_for_rpcs` in place of the SDK's, for the block (unless already replaced)."""
    import pulumi.runtime.stack as stack

    original = stack.wait_for_rpcs
    install_one_wait()
    try:
        yield
    finally:
        stack.wait_for_rpcs = original


def gates_series(fc: Any, host: Any, counts: tuple[int, ...], spread: float) -> dict[int, dict[str, Any]]:
    """Program wall time for each gate count, the SDK's output wait replaced (see above)."""
    out = {}
    with one_wait_per_snapshot():
        for n in counts:
            out[n] = gated_program(fc, host, n, spread, f"series{n}", timeout=3600.0)
    return out


def report_series(section: Section, series: dict[int, dict[str, Any]], shipped: dict[int, float],
                  spread: float) -> None:
    from pulumi_fc_invocation.waiter import WaitPolicy

    replaced = "as the package installs it" if _sdk_output_wait_replaced() else \
        "replaced at benchmark level by one wait per snapshot (`benchmarks.scale.one_wait_per_snapshot`)"
    counts = sorted(series)
    section.add("", f"**Where the program's time goes, and the fix.** A cProfile of the 200-gate program as shipped "
                f"(pulumi {_pulumi_version()}; 2026-12-01, not re-run by `make bench`: 54 s of 67 s profiled) puts "
                f"about 80% of it in the SDK's `wait_for_rpcs`: after every Output that completes "
                f"it calls `asyncio.wait(pending, FIRST_COMPLETED)` again on all the pending ones (adding and "
                f"removing a done-callback on each; a probe found 6,601 Outputs pending for 100 gates, none of "
                f"them an RPC, when that wait began), so with the tasks' ends spread out it is O(n^2). "
                f"With that wait {replaced}, one program of N gates (tasks ending +5 s to +{5 + spread:g} s, virtual "
                f"time):", "")
    rows = []
    for n in counts:
        r = series[n]
        rows.append([n, f"{r['wall']:.1f} s", f"{1000 * r['wall'] / n:.0f} ms",
                     f"{shipped[n]:.1f} s" if n in shipped else "-",
                     f"{r['virtual'] - r['last_end']:.1f} s", "yes" if r["ok"] else "NO", f"{r['calls']:,}"])
    section.table(["gates", "program wall", "per gate", "as shipped (SDK's wait)", "released after the last end",
                   "all Succeeded", "API calls"], rows)
    cap = WaitPolicy().max_delay * (1 + WaitPolicy().jitter)
    big = series[counts[-1]]
    section.target(f"{counts[-1]:,} gates in one program released within one poll cap of the last task's end",
                   big["ok"] and big["virtual"] - big["last_end"] <= cap,
                   f"{big['virtual'] - big['last_end']:.1f} s; cap with jitter {cap:g} s; {replaced}")
    if len(counts) >= 2:
        small = series[counts[0]]
        ratio = (big["wall"] / counts[-1]) / (small["wall"] / counts[0])
        section.target(f"program overhead grows linearly from {counts[0]} to {counts[-1]:,} gates (per-gate time at "
                       f"most 1.5x)", ratio <= 1.5,
                       f"{1000 * small['wall'] / counts[0]:.0f} ms per gate at {counts[0]}, "
                       f"{1000 * big['wall'] / counts[-1]:.0f} ms at {counts[-1]:,} (x{ratio:.2f}); {replaced}")


def _pulumi_version() -> str:
    from importlib.metadata import version

    return version("pulumi")


def scale(section: Section, *, gates: int, spread: float, memory_programs: int, memory_reads: int,
          big_gates: int, series: tuple[int, ...] = ()) -> dict[str, Any]:
    from pulumi_fc_invocation.testing.harness import ProviderHost
    from pulumi_fc_invocation.testing.server import FcEmulator

    out: dict[str, Any] = {}
    with FcEmulator(clock="virtual") as fc, ProviderHost(env=CLEAN_ENV) as host:
        host.configure(fc.stack_config(), secret_keys=SECRET_KEYS)
        rss_start = rss_kib(host.pid)
        gated = gated_program(fc, host, gates, spread, "gate")
        out["gated"] = gated
        overshoot = gated["virtual"] - gated["last_end"]
        delays = Stat.of(gated["delays"])
        section.add(f"One program, {gates} `StatefulAsyncInvocation(..., wait_for_completion=True)` on tasks ending "
                    f"from +5 s to +{5 + spread:g} s (evenly staggered), default policy, through the harness "
                    f"(provider in a real dynamic provider host) and the emulator, all waits on virtual time.", "")
        section.table(["figure", "value"], [
            ["all gates released with Succeeded", "yes" if gated["ok"] else "NO"],
            ["total virtual wait", f"{gated['virtual']:.1f} s"],
            ["last task's end", f"+{gated['last_end']:.1f} s"],
            ["total virtual wait minus the last task's end", f"{overshoot:.1f} s"],
            ["per-gate detection delay (waited_seconds - task end), median (min-max)", delays.fmt(1, " s")],
            ["API calls (emulator request log)", f"{gated['calls']} ({gated['calls'] / gates:.1f} per gate, "
                                                 f"of which {gates} are the engine's final Reads)"],
            ["peak threads in the program process (without the in-process emulator's threads)",
             f"{gated['peak_threads']} ({gated['peak_threads_total']} with them)"],
            ["provider host RSS after the run (VmRSS)", f"{(gated['host_rss_kib'] or 0) / 1024:.1f} MiB "
                                                        f"(at start {(rss_start or 0) / 1024:.1f} MiB)"],
            ["wall time of the run", f"{gated['wall']:.1f} s"],
        ])
        from pulumi_fc_invocation.waiter import WaitPolicy

        cap = WaitPolicy().max_delay * (1 + WaitPolicy().jitter)
        section.target(f"all {gates} released within one poll cap of the last completion",
                       gated["ok"] and overshoot <= cap,
                       f"{overshoot:.1f} s after the last task's end; cap {WaitPolicy().max_delay:g} s, "
                       f"{cap:g} s with its jitter")

        # Memory across many reads through one provider host.
        for i in range(memory_reads):
            fc.add_invocation("reads", "job", f"done-{i}", timeline=[("Running", 0), ("Succeeded", 0)])
        read_program(fc, host, memory_reads, "warm")
        rss_before = rss_kib(host.pid) or 0
        samples = []
        for p in range(memory_programs):
            read_program(fc, host, memory_reads, f"m{p}")
            samples.append(rss_kib(host.pid) or 0)
        growth_mib = (samples[-1] - rss_before) / 1024
        total_reads = memory_programs * memory_reads
        section.add(f"Provider host memory across {total_reads:,} reads ({memory_programs} programs x "
                    f"{memory_reads} reads, one host), after one warm-up program of {memory_reads} reads:", "")
        section.table(["point", "host VmRSS"],
                      [["host started and configured", f"{(rss_start or 0) / 1024:.1f} MiB"],
                       ["after the gated program and one warm-up read program", f"{rss_before / 1024:.1f} MiB"]]
                      + [[f"after read program {p + 1}", f"{kib / 1024:.1f} MiB"] for p, kib in enumerate(samples)])
        section.target(f"provider host memory grows under 10 MB across {total_reads:,} reads",
                       growth_mib * 1.048576 < 10.0, f"{growth_mib:+.1f} MiB after warm-up")
        out["memory_growth_mib"] = growth_mib

        limit = dynamic_resources_before_recursion_error()
        out["recursion_limit_resources"] = limit
        section.add(f"**Pulumi SDK limit found on the way**: `pulumi.dynamic.dynamic.serialize_provider` (pulumi "
                    f"{_pulumi_version()}) wraps `pickle._Pickler._batch_setitems` in one more sorting wrapper on "
                    f"every dynamic resource and never unwraps it, so one program process can construct only "
                    f"**{limit if limit >= 0 else 'more than 5,000'}** dynamic resources (of any dynamic provider) "
                    f"before `RecursionError: maximum recursion depth exceeded` (default recursion limit "
                    f"{sys.getrecursionlimit()}). The harness runs many programs in one process, so the figures "
                    f"here undo the wrapper after each serialization; the data source itself now does the same "
                    f"after each of its registrations (`resource.undo_sdk_pickler_chain`), so a program may "
                    f"declare thousands of them (a test declares 1,500).", "")

        if big_gates:
            half = gated_program(fc, host, max(1, gates // 2), spread, "half")
            out["half"] = half
            section.add(f"Program wall time grows faster than the gate count: {max(1, gates // 2)} gates "
                        f"{half['wall']:.1f} s, {gates} gates {gated['wall']:.1f} s "
                        f"(x{gated['wall'] / max(half['wall'], 1e-9):.1f} for x2). The profile puts it in the Pulumi "
                        f"SDK's `wait_for_rpcs` (`pulumi/runtime/stack.py`): it `asyncio.wait`s on every outstanding "
                        f"Output task again after each one completes, O(n^2) in the number of pending Outputs, and "
                        f"each waiting gate holds several of them (see below for the fix).", "")
            big = gate_many(fc, big_gates, spread, "big")
            out["big"] = big
            section.add(f"Gating {big_gates:,} tasks with single data sources (the data source's own wait: "
                        f"`Waiter(...).wait_async` per task on one event loop with a 16-thread pool, default policy, "
                        f"then the engine's final Read per task; tasks ending from +5 s to +{5 + spread:g} s): "
                        f"**{big['calls']:,} API calls** ({big['calls'] / big_gates:.1f} per task, {big_gates:,} of "
                        f"them the final Reads); virtual wait {big['virtual']:.1f} s, "
                        f"{big['virtual'] - big['last_end']:.1f} s after the last task's end; all Succeeded: "
                        f"{'yes' if big['ok'] else 'NO'}; wall {big['wall']:.1f} s. This is the baseline for a "
                        f"batch data source.", "")
        if series:
            shipped = {gates: gated["wall"]}
            if "half" in out:
                shipped[max(1, gates // 2)] = out["half"]["wall"]
            out["series"] = gates_series(fc, host, series, spread)
            report_series(section, out["series"], shipped, spread)
    return out
