"""Prove the dependency floors in pyproject.toml: install exactly the floor of every runtime dependency
(plus the test tools) into a throwaway venv and run the suite there against this checkout.

    python3 tests/check_floors.py [--venv /tmp/floorvenv] [pytest args...]

Takes a few minutes (an install, then the suite); exits with pytest's status. ``tests/test_floors.py``
is the cheap guard the suite runs every time: it fails when a floor drops below what a feature needs.
``make test`` runs the tests that depend on the Pulumi SDK's own code this way, in ``.venv-floor``
(the floor venv is kept: later runs install nothing).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_TOOLS = ["pytest", "hypothesis", "grpcio", "jsonschema", "aliyun-fc2"]
# Real-engine tests need a built Pulumi CLI; they prove nothing about the Python floors.
NOT_HERE = ["tests/test_engine.py", "tests/test_engine_vs_harness.py"]


def floors() -> dict[str, str]:
    """``{name: floor}`` of every runtime dependency (each must have a ``>=`` floor)."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    out = {}
    for dep in deps:
        match = re.match(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)", dep)
        if not match:
            raise SystemExit(f"dependency {dep!r} has no >= floor")
        out[match.group(1).lower()] = match.group(2)
    return out


def main(argv: list[str]) -> int:
    venv = "/tmp/floorvenv"
    if argv[:1] == ["--venv"]:
        venv, argv = argv[1], argv[2:]
    python = Path(venv) / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    pins = [f"{name}=={version}" for name, version in floors().items()]
    print(f"check_floors: {venv} holds", " ".join(pins), flush=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *pins, *TEST_TOOLS],
                   check=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    deselect = [arg for path in NOT_HERE for arg in ("--deselect", path)]
    print("check_floors: pytest", " ".join(argv) or "(the suite)", flush=True)
    return subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *deselect, *argv],
                          cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
