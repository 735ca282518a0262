"""Which Pulumi operation runs the program, read from the `pulumi` ancestor's command line."""

import os
import subprocess
import sys

import pytest

from pulumi_fc_invocation.pulumi.operation import operation_from_argv


@pytest.mark.parametrize("argv, expected", [
    (["pulumi", "up", "--yes"], "up"),
    (["/opt/bin/pulumi", "--non-interactive", "--color=never", "refresh", "--yes", "--run-program"], "refresh"),
    (["pulumi", "-C", "destroy", "destroy", "--run-program"], "destroy"),  # a directory named like a command
    (["pulumi", "--stack", "refresh", "up"], "up"),
    (["pulumi", "update"], "up"),
    (["pulumi", "down", "-y"], "destroy"),
    (["pulumi", "pre"], "preview"),
    (["pulumi", "stack", "output"], None),
    (["pulumi", "--", "up"], None),
    (["pulumi"], None),
])
def test_operation_from_argv(argv, expected):
    assert operation_from_argv(argv) == expected


def test_current_operation_reads_the_pulumi_ancestor(tmp_path):
    """A process whose argv is `pulumi <op> ...` runs a child that runs a grandchild, as the CLI runs
    the language host, which runs the program. (`python -` reads its code from stdin, so the fake
    CLI's command line is exactly `pulumi - <op> ...`.)"""
    grandchild = ("import pulumi_fc_invocation.pulumi.operation as o; "
                  "print(o.current_operation(), o.records_only())")
    child = f"import subprocess; subprocess.run([{sys.executable!r}, '-c', {grandchild!r}], check=True)"
    (tmp_path / "child.py").write_text(child)
    fake = tmp_path / "fake-pulumi"
    fake.write_text(f'#!/bin/bash\nexec -a pulumi {sys.executable} - "$@" < {tmp_path / "child.py"}\n')
    fake.chmod(0o755)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for args, expected in ((["refresh", "--run-program"], "refresh True"), (["up", "--yes"], "up False"),
                           (["destroy", "--run-program"], "destroy True"), (["preview"], "preview False")):
        out = subprocess.run([str(fake), *args], capture_output=True, text=True, env=env, timeout=60, check=True)
        assert out.stdout.strip() == expected, out.stderr


def test_current_operation_is_none_without_a_pulumi_ancestor():
    code = "import pulumi_fc_invocation.pulumi.operation as o; print(o.current_operation(), o.records_only())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "None False"
