import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_make_demo_main_job_runs_and_shows_progress_and_outputs(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # no pulumi CLI, no cloud credentials
    proc = subprocess.run([sys.executable, "-m", "pulumi_fc_invocation.demo", "--harness"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "started async task video/transcode/" in out
    assert "testing harness" in out  # says how it ran
    assert ": Running, retried 1 time," in out  # progress while the task runs
    # What it announces is what happens: four seconds, one retry.
    assert "about 4 s in all" in out and "taskDurationMs  4000" in out and "taskRetries     1" in out
    assert 'taskStatus      "Succeeded"' in out and "taskResult      [secret]" in out
    assert "Traceback" not in proc.stderr


def test_make_demo_through_the_real_pulumi_cli(tmp_path):
    """`make demo` takes the real-CLI path when a CLI exists (CI builds one with `make engine`)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    if os.environ.get("FC_INVOCATION_PULUMI"):
        env["FC_INVOCATION_PULUMI"] = os.environ["FC_INVOCATION_PULUMI"]
    proc = subprocess.run([sys.executable, "-m", "pulumi_fc_invocation.demo", "--cli"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert " up --yes   (local file backend in " in out and "testing harness" not in out
    assert "Updating (dev)" in out
    # (progress lines through the CLI are asserted in test_engine; here the machine may be slow to start it)
    assert re.search(r"waiting for video/transcode/video-[0-9-]+ to finish", out), out
    assert re.search(r"video/transcode/video-[0-9-]+ is Succeeded after", out), out
    assert "taskStatus" in out and '"Succeeded"' in out and "taskResult      [secret]" in out
    assert "Resources:" in out and "+ 2 created" in out


def test_pyproject_license_is_an_spdx_string_so_builds_print_no_deprecation():
    """A ``{text = ...}`` table made every build (three in ``make demo``) warn that it is deprecated."""
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["project"]["license"] == "Apache-2.0"
    assert "setuptools>=77" in data["build-system"]["requires"]  # the first to read the string form
