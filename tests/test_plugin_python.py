"""The provider plugin from a Python program through its SDK, beside the Python dynamic data source,
through the real CLI: examples/plugin-python, both gates on one emulator FC 3.0 task. Installed as a user
installs them: the SDK wheel of `make sdks` with pip, the plugin with `pulumi plugin install --file` of the
`--pack` tarball; the program names no plugin path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _installed_plugin import INSTALLED_ONLY, VERSION, install_plugin, python_sdk
from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "plugin-python"
SDK_NAME = "pulumi_fc_invocation_sdk"


@pytest.fixture(scope="module")
def sdk() -> Path:
    """The SDK wheel, pip-installed into a directory of its own (programs get it on PYTHONPATH)."""
    site = python_sdk()
    assert json.loads((site / SDK_NAME / "pulumi-plugin.json").read_text()) == \
        {"resource": True, "name": "fc-invocation", "version": VERSION}  # the plugin it names
    assert (site / f"{SDK_NAME}-{VERSION}.dist-info" / "METADATA").is_file()
    return site


@pytest.fixture
def fc():
    with FcEmulator(clock="real") as emulator:
        yield emulator


def test_a_python_program_gates_through_the_plugin_sdk_beside_the_dynamic_data_source(fc, pulumi_bin, sdk):
    fc.add_function(None, "migrate", outcome="Succeeded", queue_delay=0.3, duration=4, return_payload='{"rows": 3}')
    env = {"PYTHONPATH": str(sdk), "FC_INVOCATION_PROGRESS_SECONDS": "1", **INSTALLED_ONLY}
    with PulumiCli(EXAMPLE, pulumi=pulumi_bin, env=env) as cli:
        assert "plugins:" not in (cli.dir / "Pulumi.yaml").read_text()
        install_plugin(cli)
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
