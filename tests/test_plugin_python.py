"""The provider plugin from a Python program through its generated SDK, beside the Python dynamic data
source, through the real CLI: examples/plugin-python, both gates on one emulator FC 3.0 task."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "plugin-python"
PLUGIN = ROOT / "pulumi_fc_invocation" / "plugin"
SDK_NAME = "pulumi_fc_invocation_sdk"


@pytest.fixture(scope="module")
def sdk(pulumi_bin, tmp_path_factory) -> Path:
    """The plugin's Python SDK, generated from its schema and installed into a directory of its own
    (a dist-info with the version the SDK reads at import; no setuptools needed)."""
    tmp = tmp_path_factory.mktemp("sdk")
    env = {"PATH": f"{Path(pulumi_bin).parent}:/usr/bin:/bin", "PULUMI_HOME": str(tmp / "home"),
           "PULUMI_SKIP_UPDATE_CHECK": "true"}
    # From the plugin directory: the engine runs the plugin (PulumiPlugin.yaml) and asks its schema.
    done = subprocess.run([pulumi_bin, "package", "gen-sdk", str(PLUGIN), "--language", "python",
                           "--out", str(tmp / "gen")], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    site = tmp / "site"
    site.mkdir()
    (tmp / "gen" / "python" / SDK_NAME).rename(site / SDK_NAME)
    info = site / f"{SDK_NAME}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {SDK_NAME}\nVersion: 0.1.0\n")
    return site


@pytest.fixture
def fc():
    with FcEmulator(clock="real") as emulator:
        yield emulator


def test_a_python_program_gates_through_the_plugin_sdk_beside_the_dynamic_data_source(fc, pulumi_bin, sdk):
    fc.add_function(None, "migrate", outcome="Succeeded", queue_delay=0.3, duration=4, return_payload='{"rows": 3}')
    with PulumiCli(EXAMPLE, pulumi=pulumi_bin, env={"PYTHONPATH": str(sdk), "FC_INVOCATION_PROGRESS_SECONDS": "1"}) \
            as cli:
        project = cli.dir / "Pulumi.yaml"
        project.write_text(project.read_text().replace("../../pulumi_fc_invocation/plugin", str(PLUGIN)))
        settings = fc.stack_config()
        cli.config(settings, secret_keys={"alicloud:secretKey"})  # the dynamic data source's
        cli.config({f"fc-invocation:{k.split(':', 1)[1]}": v for k, v in settings.items()},
                   secret_keys={"fc-invocation:secretKey"})  # the plugin's
        cli.config({"plugin-python:task": "t1"})
        fc.client().invoke_async_task("migrate", "{}", task_id="t1")
        up = cli.up()
        assert up.ok, up.output
        assert "waiting for migrate/t1 to finish" in up.output
        outputs = cli.outputs(show_secrets=True)
        assert outputs["dynamicStatus"] == outputs["pluginStatus"] == "Succeeded"
        assert outputs["pluginResult"] == '{"rows": 3}' and cli.outputs()["pluginResult"] == "[secret]"
        types = {r["urn"].rsplit("::", 1)[-1]: r["type"] for r in cli.resources()}
        assert types["dynamic"] == "pulumi-python:dynamic/fc:AsyncTask"
        assert types["gate"] == "fc-invocation:index:AsyncTask"
        destroy = cli.destroy()
        assert destroy.ok, destroy.output
