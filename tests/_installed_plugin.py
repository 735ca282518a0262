"""The fc-invocation plugin and its SDKs as a user installs them, for the real-CLI tests.

* The executable plugin: ``python -m pulumi_fc_invocation.plugin --pack`` once per session, then
  ``pulumi plugin install resource fc-invocation VERSION --file`` into each test's own ``PULUMI_HOME``.
* The SDKs of ``make sdks`` (tools/sdks/build.sh, reused when its inputs are unchanged): the npm tarball,
  installed with ``npm install ./<tarball>`` offline against make engine's cache, and the wheel, named in
  a program's ``requirements.txt`` that ``pulumi install`` installs into the project's venv.

Programs then name no ``plugins:`` or ``packages:`` path. :data:`INSTALLED_ONLY` keeps plugin acquisition
on (a plugin that were not installed would be downloaded: :data:`NO_DOWNLOAD` sends that to a closed port
here, so it fails the test the same with or without network; :func:`sought` reads the engine's attempt
from its ``-v=7`` log) and has the engine ignore ambient plugins: the test venv's ``bin``, on ``PATH`` for the Python host, holds
the console script ``pulumi-resource-fc-invocation``, which the engine would otherwise prefer to the
installed plugin (test_plugin_install.py tests that ambient route on its own).
"""

from __future__ import annotations

import atexit
import functools
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from pulumi_fc_invocation import __version__
from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / ".pulumi" / "node"
NPM_CACHE = ROOT / ".pulumi" / "npm-cache"
VERSION = __version__
# The engine matches each override's regular expression against the plugin's source URL (by default
# github://api.github.com/pulumi/pulumi-fc-invocation, then get.pulumi.com) and downloads from the URL
# instead (sdk/v3 go/common/workspace/plugins.go at 3.274.1): port 1 on this machine refuses at once.
NO_DOWNLOAD = {"PULUMI_PLUGIN_DOWNLOAD_URL_OVERRIDES": "fc-invocation=http://127.0.0.1:1"}
# Why the tests of the installed plugin set these: the test interpreter's bin is first on PATH and holds
# the console script, an ambient plugin the engine would take instead of the installed one (a user whose
# venv is not activated has none), so only the installed route can pass; acquisition stays on, as a user's.
INSTALLED_ONLY = {"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "false", "PULUMI_IGNORE_AMBIENT_PLUGINS": "true",
                  **NO_DOWNLOAD}
# The engine's log (`pulumi --logtostderr -v=7 ...`): where an operation sets out to install the plugin
# (pkg/v3 engine/plugins.go) and where any download of it starts (sdk/v3 workspace/plugins.go).
VERBOSE = ("--logtostderr", "-v=7")
_SOUGHT = re.compile(r"installPlugin\(fc-invocation, [^)]*\): beginning install|fc-invocation downloading from \S+")
NPM_OFFLINE = {"npm_config_cache": str(NPM_CACHE), "npm_config_offline": "true", "npm_config_audit": "false",
               "npm_config_fund": "false", "npm_config_update_notifier": "false"}


def sought(log: str) -> list[str]:
    """Where the engine's ``-v=7`` log (:data:`VERBOSE`) says it set out to get plugin fc-invocation (an
    install, ``<nil>`` for the latest version, or a download); empty when it found it installed."""
    return _SOUGHT.findall(log)


def _scratch(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, True)
    return path


@functools.lru_cache(maxsize=None)
def tarball() -> Path:
    """The plugin's tarball, as ``--pack`` writes it (its path: the last line of stdout)."""
    done = subprocess.run([sys.executable, "-m", "pulumi_fc_invocation.plugin", "--pack", str(_scratch("fc-pack-"))],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return Path(done.stdout.splitlines()[-1])


def install_plugin(cli: PulumiCli) -> None:
    """``pulumi plugin install resource fc-invocation VERSION --file <tarball>`` into the test's PULUMI_HOME."""
    installed = cli.run("plugin", "install", "resource", "fc-invocation", VERSION, "--file", str(tarball()))
    assert installed.ok, installed.output


@functools.lru_cache(maxsize=None)
def sdks() -> Path:
    """``make sdks``'s output directory (tools/sdks/build.sh: up to date unless an input changed)."""
    done = subprocess.run(["bash", str(ROOT / "tools" / "sdks" / "build.sh"), sys.executable],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    return Path(done.stdout.splitlines()[-1])


def npm_tarball() -> Path:
    (found,) = (sdks() / "nodejs").glob(f"pulumi-fc-invocation-{VERSION}.tgz")
    return found


def wheel() -> Path:
    (found,) = (sdks() / "python").glob(f"pulumi_fc_invocation_sdk-{VERSION}-*.whl")
    return found


def build_package_wheel(directory: Path) -> Path:
    """A wheel of this package built from a copy of its sources in ``directory`` (setuptools builds in
    place: the clone's build/ would leak stale files into it)."""
    source = directory / "source"
    shutil.copytree(ROOT / "pulumi_fc_invocation", source / "pulumi_fc_invocation",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(directory), str(source)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    (found,) = directory.glob("pulumi_fc_invocation-*.whl")
    return found


@functools.lru_cache(maxsize=None)
def package_wheel() -> Path:
    """This package's wheel, once per session."""
    return build_package_wheel(_scratch("fc-wheel-"))


def python_requirements() -> str:
    """A Python program's requirements.txt as a user writes it for the plugin's SDK: pulumi (this test
    venv's version), this package and the SDK, the two wheels by path (neither is on the package index)."""
    return f"pulumi=={importlib.metadata.version('pulumi')}\n{package_wheel()}\n{wheel()}\n"


def npm_install_sdk(project: Path) -> subprocess.CompletedProcess:
    """``npm install ./<tarball>`` in ``project`` (the tarball copied in first), offline against make
    engine's npm cache: it fails (ENOTCACHED) rather than reach the registry."""
    local = project / npm_tarball().name
    shutil.copyfile(npm_tarball(), local)
    return subprocess.run(["npm", "install", "--loglevel=error", f"./{local.name}"], cwd=project,
                          env={**os.environ, **NPM_OFFLINE}, capture_output=True, text=True, timeout=600)

