"""Figure 7: many gates through the real Pulumi engine against the same program through the harness.

One program with N gates on tasks that all end 5 s after it starts, on a real clock, run twice: by
``pulumi up`` (the CLI from ``make engine``, a local file backend) and by the testing harness. The
wall time past the tasks' end is the program's overhead; its growth with N tells where the cost is:
if both grow alike, it is the SDK both share (the program side), not the harness or the engine.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from .common import ROOT, Section

SECRET_KEYS = ("alicloud:secretKey",)
TASK_SECONDS = 5.0
# The series' tasks end together, so "past end" is the program's overhead, not a gate's poll cap. (Ends
# spread out would show the SDK's O(n^2) output wait, which wakes once per Output; together it wakes a
# few times: section 5 measures that one, on virtual time.)
SERIES_SPREAD = 0.0

PROGRAM = '''
import time
import pulumi
import pulumi.dynamic
from pulumi_fc_invocation import StatefulAsyncInvocation

n = pulumi.Config().require_int("gates")
if pulumi.Config().get_bool("oneWait"):  # the SDK's output wait replaced (benchmarks/scale.py)
    from benchmarks.scale import install_one_wait
    install_one_wait()
gates = [StatefulAsyncInvocation(f"g{i}", service_name="scale", function_name="job", invocation_id=f"g{i}",
                                 wait_for_completion=True, timeout_seconds=3600) for i in range(n)]


class _Stamp(pulumi.dynamic.ResourceProvider):
    def create(self, props):
        return pulumi.dynamic.CreateResult("stamp", {"at": time.time()})


class Stamp(pulumi.dynamic.Resource):
    at: pulumi.Output[float]

    def __init__(self, name, opts=None):
        super().__init__(_Stamp(), name, {"at": None}, opts)


pulumi.export("releasedAt", Stamp("release", pulumi.ResourceOptions(depends_on=gates)).at)
'''


def _seed(fc: Any, count: int, spread: float = 0.0) -> float:
    """Tasks g0..g{count-1} ending TASK_SECONDS from now (staggered over ``spread`` more seconds);
    returns the last end (epoch seconds)."""
    for i in range(count):
        end = TASK_SECONDS + spread * i / max(1, count - 1)
        fc.add_invocation("scale", "job", f"g{i}", timeline=[("Running", 0), ("Succeeded", end)])
    return time.time() + TASK_SECONDS + spread


def _through_engine(pulumi: str, project: Path, count: int, env: Any = None, one_wait: bool = False,
                    spread: float = 0.0) -> dict[str, float]:
    from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli
    from pulumi_fc_invocation.testing.server import FcEmulator

    if one_wait:
        env = {**(env or {}), "PYTHONPATH": ROOT}
    with FcEmulator(clock="real") as fc, PulumiCli(project, pulumi=pulumi, env=env) as cli:
        cli.config(fc.stack_config(), secret_keys=SECRET_KEYS)
        cli.config({"scale:gates": count, "scale:oneWait": "true" if one_wait else "false"})
        started = time.time()
        last_end = _seed(fc, count, spread)
        up = cli.up(timeout=3600)
        if not up.ok:
            raise RuntimeError(f"pulumi up failed for {count} gates:\n{up.output[-3000:]}")
        released = cli.outputs()["releasedAt"]
        return {"wall": up.seconds, "past_end": time.time() - last_end, "released_after_end": released - last_end,
                "start_to_end": last_end - started}


def _through_harness(project: Path, count: int) -> dict[str, float]:
    from pulumi_fc_invocation.testing.harness import run_program_file
    from pulumi_fc_invocation.testing.server import FcEmulator

    with FcEmulator(clock="real") as fc:
        last_end = _seed(fc, count)
        wall = time.perf_counter()
        result = run_program_file(str(project / "__main__.py"), config={**fc.stack_config(), "scale:gates": str(count)},
                                  secret_keys=SECRET_KEYS, timeout=3600)
        wall = time.perf_counter() - wall
        return {"wall": wall, "past_end": time.time() - last_end,
                "released_after_end": result.outputs["releasedAt"] - last_end}


def engine_scale(section: Section, *, counts: tuple[int, ...], series: tuple[int, ...] = ()) -> dict[str, Any]:
    from pulumi_fc_invocation.testing.pulumi_cli import find_pulumi
    from pulumi_fc_invocation.waiter import WaitPolicy

    pulumi = find_pulumi()
    if not pulumi:
        raise RuntimeError("no Pulumi CLI: run `make engine` or set FC_INVOCATION_PULUMI")
    rows, out = [], {}
    with tempfile.TemporaryDirectory(prefix="fc-bench-engine-") as tmp:
        project = Path(tmp)
        (project / "Pulumi.yaml").write_text("name: scale\nruntime: python\n")
        (project / "__main__.py").write_text(PROGRAM)
        for count in counts:
            engine = _through_engine(pulumi, project, count)
            harness = _through_harness(project, count)
            out[count] = {"engine": engine, "harness": harness}
            rows.append([count, f"{engine['wall']:.1f} s", f"{engine['past_end']:.1f} s",
                         f"{engine['released_after_end']:.1f} s", f"{harness['wall']:.1f} s",
                         f"{harness['past_end']:.1f} s", f"{harness['released_after_end']:.1f} s"])
        # Attribution: the same run without the engine's per-step checkpoint writes.
        largest = max(counts)
        quick = _through_engine(pulumi, project, largest, env={"PULUMI_SKIP_CHECKPOINTS": "true"})
        out["skip_checkpoints"] = quick
        # Both causes removed: the engine's per-step checkpoints and the SDK's O(n^2) output wait.
        out["series"] = {n: _through_engine(pulumi, project, n, env={"PULUMI_SKIP_CHECKPOINTS": "true"},
                                            one_wait=True, spread=SERIES_SPREAD) for n in series}
    section.add(f"N `StatefulAsyncInvocation(wait_for_completion=True)` gates and one resource depending on all of "
                f"them; every task ends {TASK_SECONDS:g} s after the run starts (real clock, emulator in the "
                "benchmark's process). Engine: `pulumi up --skip-preview` from `make engine` (wall time includes "
                "the CLI's start and the file backend). Harness: `run_program_file`. \"past end\": from the tasks' "
                "end to the run's end; \"released\": the dependent's creation time minus the tasks' end.", "")
    section.table(["gates", "engine: wall", "engine: past end", "engine: released", "harness: wall",
                   "harness: past end", "harness: released"], rows)
    section.add(f"Same engine run of {max(counts)} gates with `PULUMI_SKIP_CHECKPOINTS=true` (the engine then "
                "writes the state once at the end instead of after every step): wall "
                f"{out['skip_checkpoints']['wall']:.1f} s, past end {out['skip_checkpoints']['past_end']:.1f} s, "
                f"released {out['skip_checkpoints']['released_after_end']:.1f} s after the tasks' end.", "")
    cap = WaitPolicy().max_delay * (1 + WaitPolicy().jitter)
    if series:
        section.add("", f"Both causes removed, `PULUMI_SKIP_CHECKPOINTS=true` and the SDK's output wait replaced "
                    f"in the "
                    f"program by one wait per snapshot (`benchmarks.scale.install_one_wait`, see section 5); "
                    f"every task ends +{TASK_SECONDS:g} s, so the time past the end is the overhead (with the ends "
                    f"together the SDK's wait wakes a few times only: its O(n^2) shows in section 5):", "")
        section.table(["gates", "engine: wall", "per gate", "engine: past end", "engine: released"],
                      [[n, f"{r['wall']:.1f} s", f"{1000 * r['wall'] / n:.0f} ms", f"{r['past_end']:.1f} s",
                        f"{r['released_after_end']:.1f} s"] for n, r in out["series"].items()])
        first, last = min(series), max(series)
        r0, r1 = out["series"][first], out["series"][last]
        section.target(f"{last:,} gates through the engine (both causes removed) released within one poll cap",
                       r1["released_after_end"] <= cap, f"{r1['released_after_end']:.1f} s; cap with jitter {cap:g} s")
        if first != last:
            ratio = (r1["past_end"] / last) / max(r0["past_end"] / first, 1e-9)
            section.target(f"engine overhead past the tasks' end grows linearly from {first} to {last:,} gates "
                           f"(per gate at most 1.5x)", ratio <= 1.5,
                           f"{r0['past_end']:.1f} s at {first}, {r1['past_end']:.1f} s at {last:,} "
                           f"(per gate x{ratio:.2f})")
    if counts:
        largest = max(counts)
        released = out[largest]["engine"]["released_after_end"]
        section.target(f"{largest} gates through the engine released within one poll cap of the tasks' end",
                       released <= cap, f"{released:.1f} s; cap with jitter {cap:g} s")
    if len(counts) >= 2:
        small, big = min(counts), max(counts)
        growth = {k: out[big][k]["past_end"] / max(out[small][k]["past_end"], 0.01) for k in ("engine", "harness")}
        section.add("", f"Growth of the time past the tasks' end from {small} to {big} gates ({big // small}x the "
                    f"gates): engine {growth['engine']:.1f}x, harness {growth['harness']:.1f}x.")
        out["growth"] = growth
    return out
