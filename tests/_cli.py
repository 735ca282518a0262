"""``fc-invocation`` as a subprocess, as the CLI tests run it: a bare environment, and a runner that fails a
test on a traceback or on the emulator's secret in the output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pulumi_fc_invocation.testing import DEFAULT_ACCESS_KEY_SECRET

SECRET = DEFAULT_ACCESS_KEY_SECRET


def base_env(home: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8"}


def run(env, *args, stderr=subprocess.PIPE, timeout=30, secrets=(SECRET,)):
    proc = subprocess.run([sys.executable, "-m", "pulumi_fc_invocation.cli", *args], env=env,
                          stdout=subprocess.PIPE, stderr=stderr, text=True, timeout=timeout)
    err = proc.stderr or ""
    assert "Traceback" not in err, err
    for secret in secrets:
        assert secret not in proc.stdout and secret not in err
    return proc


def assert_one_error_line(proc, code, *needles):
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]

