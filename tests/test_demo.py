import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_make_demo_main_job_runs_and_shows_progress_and_outputs(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # no pulumi CLI, no cloud credentials
    proc = subprocess.run([sys.executable, "-m", "pulumi_fc_invocation.demo"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "started async task video/transcode/" in out
    assert "testing harness" in out  # says how it ran
    assert ": Running, retried 1 time," in out  # progress while the task runs
    assert 'taskStatus      "Succeeded"' in out and "taskResult      [secret]" in out
    assert "Traceback" not in proc.stderr
