"""The benchmark suite at tiny N, so it can't rot: every section runs and reports. Figures are never
asserted here (they mean nothing at this N); `make bench` produces the real ones."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def test_benchmark_suite_smoke_run_writes_every_section(tmp_path):
    from benchmarks.__main__ import SECTIONS, TITLES

    report = tmp_path / "BENCHMARKS.md"
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--smoke", "--output", str(report)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    text = report.read_text(encoding="utf-8")
    assert "SMOKE RUN" in text
    for name in SECTIONS:
        assert f"## {TITLES[name]}" in text, name
    assert "This section failed" not in text
    for heading in ("| nproc |", "| cpu |", "| python |", "## Targets"):
        assert heading in text
    # Each figure's table is there (values are not checked).
    for marker in ("ours/official", "reads/s", "import FcClient", "api-core LRO", "API calls (emulator request log)",
                   "host VmRSS", "single / batch", "engine: past end", "PULUMI_SKIP_CHECKPOINTS",
                   "release delay", "InvokeFunction calls"):
        assert marker in text, marker
