"""The wheel as a user installs it: ``pulumi-plugin.json`` (``"resource": false``, so the official Python host
does not take the package, named ``pulumi-…``, for a plugin), the console script of the executable plugin,
no ``runtime: python`` plugin directory (the official host cannot start one, pulumi/pulumi#20756), and one
version everywhere: the wheel's (pyproject.toml), ``__version__`` (the plugin tarball's name, ``--install``,
GetPluginInfo) and schema.json's (the plugin version the generated SDKs name)."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from _installed_plugin import build_package_wheel
from pulumi_fc_invocation import __version__

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_ships_plugin_json_and_the_console_script_and_no_plugin_directory_at_one_version(tmp_path):
    wheel = build_package_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        assert json.loads(whl.read("pulumi_fc_invocation/pulumi-plugin.json")) == {"resource": False}
        assert "pulumi_fc_invocation/plugin/__main__.py" in names
        assert "pulumi_fc_invocation/py.typed" in names  # PEP 561: users' type checkers see our annotations
        # The data sources' signatures are made at run time: type checkers read these stubs (tests/test_types.py).
        assert {"pulumi_fc_invocation/pulumi/resources.pyi", "pulumi_fc_invocation/pulumi/functions.pyi"} <= names
        assert not [n for n in names if n.endswith("PulumiPlugin.yaml")], sorted(names)
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = whl.read(info).decode()
        scripts = whl.read(info.replace("METADATA", "entry_points.txt")).decode()
    assert "pulumi-resource-fc-invocation = pulumi_fc_invocation.plugin:main" in scripts
    assert f"\nVersion: {__version__}\n" in metadata, metadata[:300]
    assert json.loads((ROOT / "schema.json").read_text())["version"] == __version__


def test_directory_is_refused_with_the_routes_that_work():
    done = subprocess.run([sys.executable, "-m", "pulumi_fc_invocation.plugin", "--directory"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "--directory is gone: the official Python host cannot start a runtime: python plugin directory "
        "(pulumi/pulumi#20756); install the executable plugin with --install, or --pack DIR for "
        "`pulumi plugin install --file`"]
