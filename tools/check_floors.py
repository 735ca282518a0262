"""Prove the dependency floors in pyproject.toml: install the floors into a throwaway venv and run tests
there against this checkout.

    python3 tools/check_floors.py [--venv DIR] [--pin NAME ...] [pytest args...]

Without ``--pin`` (a manual run, a few minutes): the floor of every runtime dependency, then the suite
(pydantic's floor 2.5.0 has wheels up to CPython 3.12 only: a newer python3 builds pydantic-core, which
needs Rust). With ``--pin NAME`` (``make test``'s floor lane): only those dependencies at their floors,
the others resolved from pyproject.toml's specifiers as ``pip install`` resolves them, so the lane pins
what its tests prove. Exits with pytest's status. ``tests/test_floors.py`` is the cheap guard the suite
runs every time: it fails when a floor drops below what a feature needs. The venv is kept: later runs
install nothing.
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
USAGE = "usage: check_floors.py [--venv DIR] [--pin NAME ...] [pytest args...]"


def requirements() -> dict[str, tuple[str, str]]:
    """``{name: (floor, specifier as written)}`` of every runtime dependency (each must have a ``>=`` floor)."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    out = {}
    for dep in deps:
        match = re.match(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)", dep)
        if not match:
            raise SystemExit(f"dependency {dep!r} has no >= floor")
        out[match.group(1).lower()] = (match.group(2), dep)
    return out


def floors() -> dict[str, str]:
    """``{name: floor}`` of every runtime dependency."""
    return {name: floor for name, (floor, _) in requirements().items()}


def install_args(pinned: list[str]) -> list[str]:
    """What pip installs: ``pinned`` (all when empty) at ``==floor``, the others as pyproject.toml says."""
    known = requirements()
    unknown = [name for name in pinned if name.lower() not in known]
    if unknown:
        raise SystemExit(f"--pin {unknown[0]}: not a runtime dependency in pyproject.toml ({', '.join(known)})")
    chosen = {name.lower() for name in pinned} or set(known)
    return [f"{name}=={floor}" if name in chosen else spec for name, (floor, spec) in known.items()]


def parse(argv: list[str]) -> tuple[str, list[str], list[str]]:
    venv, pinned = "/tmp/floorvenv", []
    while argv[:1] in (["--venv"], ["--pin"]):
        if len(argv) < 2:
            raise SystemExit(f"{argv[0]} needs a value; {USAGE}")
        if argv[0] == "--venv":
            venv = argv[1]
        else:
            pinned.append(argv[1])
        argv = argv[2:]
    return venv, pinned, argv


def main(argv: list[str]) -> int:
    venv, pinned, argv = parse(argv)
    python = Path(venv) / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    wanted = install_args(pinned)
    print(f"check_floors: {venv} pins", " ".join(arg for arg in wanted if "==" in arg),
          "| resolved:", " ".join(arg for arg in wanted if "==" not in arg) or "nothing", flush=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *wanted, *TEST_TOOLS],
                   check=True)
    names = [re.split(r"[=<>!~ ]", arg, maxsplit=1)[0] for arg in wanted]
    subprocess.run([str(python), "-c", "import sys; from importlib.metadata import version; "
                    "print('check_floors: installed', ' '.join(f'{n}=={version(n)}' for n in sys.argv[1:]))",
                    *names], check=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    deselect = [arg for path in NOT_HERE for arg in ("--deselect", path)]
    print("check_floors: pytest", " ".join(argv) or "(the suite)", flush=True)
    return subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *deselect, *argv],
                          cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
