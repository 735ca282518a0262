"""``python -m benchmarks [--smoke] [--output PATH] [--only SECTION ...]``: run every figure, write the report."""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
import time
import traceback
from typing import Any, Callable

from .common import ROOT, Section, machine

SECTIONS = ["read-cost", "threads", "startup", "waiter", "scale", "batch-cost", "engine-scale", "waiter-history", "runs"]
TITLES = {
    "read-cost": "1. Read cost: one GetStatefulAsyncInvocation, side by side",
    "threads": "2. Threads: reads per second sharing one client",
    "startup": "3. Start-up: import and CLI",
    "waiter": "4. Waiter efficiency: calls and detection delay (virtual time)",
    "scale": "5. Scale: 200 gates in one program, provider host memory, 1,000 gates",
    "batch-cost": "6. Batch vs single: API calls to gate 1,000 tasks",
    "engine-scale": "7. Many gates through the real Pulumi engine against the harness",
    "waiter-history": "8. Duration-aware waiting: the function's history (virtual time)",
    "runs": "9. Runs: 50 runs in one program through the real engine, the release after the last task's end",
}

FULL: dict[str, dict[str, Any]] = {
    "read-cost": {"calls": 1000, "rounds": 7, "warmup": 300},
    "threads": {"thread_counts": (1, 4, 16), "seconds": 2.0, "rounds": 3},
    "startup": {"repeats": 15},
    "waiter": {"runs": 201, "search_runs": 201},
    "scale": {"gates": 200, "spread": 60.0, "memory_programs": 5, "memory_reads": 200, "big_gates": 1000,
              "series": (100, 500, 1000)},
    "batch-cost": {"tasks": 1000, "seeds": 3},
    "engine-scale": {"counts": (50, 100, 200), "series": (100, 500, 1000)},
    "waiter-history": {"runs": 101},
    "runs": {"count": 50},
}
SMOKE: dict[str, dict[str, Any]] = {
    "read-cost": {"calls": 10, "rounds": 1, "warmup": 2},
    "threads": {"thread_counts": (1, 4), "seconds": 0.1, "rounds": 1},
    "startup": {"repeats": 1},
    "waiter": {"runs": 3, "search_runs": 3},
    "scale": {"gates": 4, "spread": 10.0, "memory_programs": 1, "memory_reads": 4, "big_gates": 0, "series": (2, 4)},
    "batch-cost": {"tasks": 50, "seeds": 1},
    "engine-scale": {"counts": (2,), "series": (2,)},
    "waiter-history": {"runs": 3},
    "runs": {"count": 2},
}


def _runner(name: str) -> Callable[..., Any]:
    if name == "read-cost":
        from .read_cost import read_cost
        return read_cost
    if name == "threads":
        from .read_cost import threads
        return threads
    if name == "startup":
        from .startup import startup
        return startup
    if name == "waiter":
        from .waiter_sim import waiter_efficiency
        return waiter_efficiency
    if name == "scale":
        from .scale import scale
        return scale
    if name == "batch-cost":
        from .batch_cost import batch_cost
        return batch_cost
    if name == "engine-scale":
        from .engine_scale import engine_scale
        return engine_scale
    if name == "waiter-history":
        from .waiter_sim import waiter_history
        return waiter_history
    if name == "runs":
        from .runs import runs
        return runs
    raise KeyError(name)


def _loadavg() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny N: check every section runs (figures meaningless)")
    parser.add_argument("--output", default=os.path.join(ROOT, "docs", "benchmarks.md"),
                        help="report path (docs/benchmarks.md)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    args = parser.parse_args(argv)

    params = SMOKE if args.smoke else FULL
    chosen = args.only or SECTIONS
    started = time.perf_counter()
    load_start = _loadavg()
    info = machine()
    sections: list[Section] = []
    failures = 0
    for name in chosen:
        section = Section(TITLES[name])
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            _runner(name)(section, **params[name])
        except Exception:  # noqa: BLE001 - one broken section must not hide the others
            failures += 1
            section.add("**This section failed:**", "", "```", traceback.format_exc().rstrip(), "```", "")
            section.target(f"section {name} ran", False, "raised; see the traceback above")
        section.seconds = time.perf_counter() - t0
        print(f"[bench] {name}: {section.seconds:.1f} s", file=sys.stderr, flush=True)
        sections.append(section)
    total = time.perf_counter() - started

    lines = ["# Benchmarks", ""]
    if args.smoke:
        lines += ["**SMOKE RUN (tiny N): these figures are meaningless; run `make bench` for real ones.**", ""]
    lines += [
        f"Written by `python -m benchmarks{' --smoke' if args.smoke else ''}` (`make bench`) on "
        f"{_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, in {total:.0f} s. "
        "Every figure is the median of repeated runs with (min-max); every ratio is computed within one run "
        "(contenders measured side by side), then summarised the same way.",
        "",
        "| machine | |",
        "|---|---|",
    ]
    lines += [f"| {key} | {value} |" for key, value in info.items()]
    lines += [f"| load average at start / end | {load_start} / {_loadavg()} |", ""]
    lines += ["Other work on the machine during the run shows up as spread between min and max; the ratios, "
              "measured side by side, are the figures to compare.", ""]
    lines += ["## Targets", ""]
    for section in sections:
        for t in section.targets:
            mark = "pending" if t.met is None else ("met" if t.met else "MISSED")
            lines.append(f"- **{mark}**: {t.name} ({t.detail}) [{section.title.split(':')[0]}]")
    lines.append("")
    for section in sections:
        lines.append(section.markdown())
    report = "\n".join(lines).rstrip() + "\n"
    with open(args.output, "w", encoding="utf-8") as fh:
        fh.write(report)
    print(f"[bench] wrote {args.output} in {total:.1f} s", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
