"""The wheel holds what an installed package needs at run time beside its modules: the plugin
directory's PulumiPlugin.yaml (without it the engine cannot run the plugin of a `pip install`)."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_ships_the_plugin_directory(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = tmp_path.glob("pulumi_fc_invocation-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "pulumi_fc_invocation/plugin/PulumiPlugin.yaml" in names
    assert "pulumi_fc_invocation/plugin/__main__.py" in names
    text = zipfile.ZipFile(wheel).read("pulumi_fc_invocation/plugin/PulumiPlugin.yaml").decode()
    assert "runtime: python" in text
