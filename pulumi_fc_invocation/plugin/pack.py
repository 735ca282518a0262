"""The plugin as an executable plugin: a tarball that ``pulumi plugin install --file`` accepts.

    python -m pulumi_fc_invocation.plugin --pack DIR   # DIR/pulumi-resource-fc-invocation-v{VERSION}-{os}-{arch}.tar.gz
    python -m pulumi_fc_invocation.plugin --install    # that, then `pulumi plugin install resource fc-invocation ...`

Every Pulumi language loads an executable plugin with no language host in between: the engine starts
``pulumi-resource-fc-invocation`` from the plugin cache (``$PULUMI_HOME/plugins/resource-fc-invocation-v{VERSION}/``)
in the program's directory, with optional flags and the engine's address, and reads the gRPC port from its
first stdout line. The tarball holds that one file at its root, mode 0755: a launcher that runs this
package's server with the interpreter that packed it (``sys.executable``). So the launcher breaks when that
interpreter goes (a venv rebuilt or removed): run ``--install`` again then.

The launcher isolates the server from the program's directory. ``python -m`` and ``python -c`` put the
working directory first on ``sys.path``, and the engine runs plugins in the program's directory, so a
program's own ``grpc.py`` would shadow grpc; so would a ``PYTHONPATH`` holding ``.`` or that directory.
The launcher runs ``python -E`` (no ``PYTHON*`` variables: the package must be installed in that
interpreter, as ``--pack`` finds it) and drops every ``sys.path`` entry that is the working directory
before importing anything. Not ``-I``: that also drops the user site, where ``pip install --user`` puts
the package.
On Windows the engine looks only for ``.exe`` and ``.cmd``, so a ``windows`` tarball holds
``pulumi-resource-fc-invocation.cmd``.
"""

from __future__ import annotations

import io
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Optional

__all__ = ["PLUGIN_NAME", "EXECUTABLE", "platform_tag", "tarball_name", "launcher", "pack", "check_importable",
           "install", "find_pulumi"]

PLUGIN_NAME = "fc-invocation"
EXECUTABLE = f"pulumi-resource-{PLUGIN_NAME}"
OSES = {"linux": "linux", "darwin": "darwin", "win32": "windows", "cygwin": "windows"}
ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
# Run by the launcher with `-E -c`: drop the working directory ('' first on sys.path, or any entry naming
# it) before any import.
BOOT = ("import os, sys; here = os.path.realpath(os.getcwd()); "
        "sys.path[:] = [p for p in sys.path if p and os.path.realpath(p) != here]; "
        "from pulumi_fc_invocation.plugin import main; main()")


def platform_tag(system: Optional[str] = None, machine: Optional[str] = None) -> tuple[str, str]:
    """``(os, arch)`` as Pulumi names them (``linux``/``darwin``/``windows``, ``amd64``/``arm64``)."""
    system = sys.platform if system is None else system
    machine = (platform.machine() if machine is None else machine).lower()
    os_name = OSES.get(system) or next((v for k, v in OSES.items() if system.startswith(k)), None)
    arch = ARCHES.get(machine)
    if os_name is None or arch is None:
        raise ValueError(f"cannot pack the plugin on {system}/{machine}: Pulumi plugins are built for "
                         f"{sorted(set(OSES.values()))} on {sorted(set(ARCHES.values()))}")
    return os_name, arch


def tarball_name(version: str, os_name: str, arch: str) -> str:
    return f"{EXECUTABLE}-v{version}-{os_name}-{arch}.tar.gz"


def launcher(python: str, os_name: str) -> tuple[str, str]:
    """``(file name, text)`` of the launcher that runs the server with ``python``."""
    if os_name == "windows":
        return f"{EXECUTABLE}.cmd", f'@echo off\r\n"{python}" -E -c "{BOOT}" %*\r\n'
    quoted = "'" + python.replace("'", "'\\''") + "'"
    return EXECUTABLE, (
        "#!/bin/sh\n"
        f"# The Pulumi resource plugin {PLUGIN_NAME}, written by `python -m pulumi_fc_invocation.plugin --pack`.\n"
        "# It runs the package's server with the interpreter below: when that interpreter goes (a venv rebuilt\n"
        "# or removed), run `python -m pulumi_fc_invocation.plugin --install` again.\n"
        f'exec {quoted} -E -c "{BOOT}" "$@"\n')


def pack(directory: os.PathLike | str, *, python: Optional[str] = None, version: Optional[str] = None,
         system: Optional[str] = None, machine: Optional[str] = None) -> Path:
    """Write the plugin's tarball into ``directory`` (created if missing); returns its absolute path."""
    from ..version import __version__

    version = version or __version__
    python = python or os.path.abspath(sys.executable)  # a venv's own path: never resolve its symlink
    os_name, arch = platform_tag(system, machine)
    if system is None and machine is None:  # packed for this machine: the launcher must start here
        check_importable(python)
    name, text = launcher(python, os_name)
    out = Path(directory).resolve()
    out.mkdir(parents=True, exist_ok=True)
    path = out / tarball_name(version, os_name, arch)
    data = text.encode()
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.type = len(data), 0o755, tarfile.REGTYPE
    partial = path.with_name(path.name + ".partial")
    with tarfile.open(partial, "w:gz") as tar:
        tar.addfile(info, io.BytesIO(data))
    partial.replace(path)
    return path


def check_importable(python: str) -> None:
    """The launcher runs ``python -E`` outside any project: a package that ``python`` finds only through
    ``PYTHONPATH`` (or the working directory) would pack, then fail at every engine start."""
    try:  # the server, not just the package: it needs pulumi and grpc in that interpreter too
        done = subprocess.run([python, "-E", "-c", "import pulumi_fc_invocation.plugin.server"],
                              cwd=tempfile.gettempdir(), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"cannot pack the plugin for {python}: {exc}") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise RuntimeError(f"cannot pack the plugin for {python}: `{python} -E` (as the launcher runs it, without "
                           f"PYTHONPATH) cannot import its server: {reason}; pip install the package into that "
                           "interpreter first")


def find_pulumi() -> Optional[str]:
    """``$FC_INVOCATION_PULUMI``, else ``pulumi`` on ``PATH``."""
    return os.environ.get("FC_INVOCATION_PULUMI") or shutil.which("pulumi")


def install(*, pulumi: Optional[str] = None, out=None) -> Path:
    """Pack into a temporary directory and ``pulumi plugin install resource fc-invocation VERSION --file``
    it (``--reinstall``: a second run replaces a launcher whose interpreter went). Says what it did on
    ``out``; returns the plugin's directory in the plugin cache as ``pulumi plugin ls`` would show it."""
    from ..version import __version__

    out = out or sys.stdout
    pulumi = pulumi or find_pulumi()
    if not pulumi:
        raise FileNotFoundError("--install needs the Pulumi CLI: put `pulumi` on PATH or name it with "
                                "FC_INVOCATION_PULUMI=/path/to/pulumi")
    with tempfile.TemporaryDirectory(prefix="fc-invocation-pack-") as tmp:
        tarball = pack(tmp)
        argv = [pulumi, "plugin", "install", "resource", PLUGIN_NAME, __version__, "--file", str(tarball),
                "--reinstall"]
        print(f"packed {tarball.name}: a launcher for {sys.executable}", file=out)
        print("running: " + " ".join(argv), file=out, flush=True)
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"`pulumi plugin install` exited {done.returncode}: {(done.stderr or done.stdout).strip()}")
    home = Path(os.environ.get("PULUMI_HOME") or Path.home() / ".pulumi")
    where = home / "plugins" / f"resource-{PLUGIN_NAME}-v{__version__}"
    print(f"installed resource plugin {PLUGIN_NAME} v{__version__} into {where}: every Pulumi program on this "
          f"machine now finds it (`pulumi plugin ls`)", file=out, flush=True)
    return where
