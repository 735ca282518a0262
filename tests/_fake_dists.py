"""Wheels of made-up distributions, and venvs to install them in, for the tests of how a Python
language host reads installed packages (GetRequiredPackages): a wheel is a zip with a dist-info, so
these install offline with the venv's own pip, as any wheel does."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Optional


def fake_wheel(directory: Path, dist: str, version: str, plugin_json: Optional[dict] = None) -> Path:
    """A wheel of ``dist`` holding one package (``dist`` with underscores), with ``plugin_json`` as its
    ``pulumi-plugin.json`` when given."""
    module = dist.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": "",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    if plugin_json is not None:
        files[f"{module}/pulumi-plugin.json"] = json.dumps(plugin_json)
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in [*files, f"{info}/RECORD"])
    path = directory / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
    return path


def make_venv(path: Path, *wheels: Path) -> Path:
    """A venv at ``path`` (with pip, as `python3 -m venv` makes it) holding ``wheels``, installed offline."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, capture_output=True)
    if wheels:
        subprocess.run([str(path / "bin" / "python"), "-m", "pip", "install", "-q", "--no-index", "--no-deps",
                        *map(str, wheels)], check=True, capture_output=True)
    return path
