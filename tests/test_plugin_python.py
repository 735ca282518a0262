"""The provider plugin from a Python program through its SDK, beside the Python dynamic data source,
through the real CLI: examples/plugin-python, both gates on one emulator FC 3.0 task. Installed as a user
installs them: the project laid out as `pulumi new python` lays it out (`toolchain: pip`, `virtualenv:
venv`), its requirements.txt naming pulumi, this package and the SDK wheel of `make sdks`, installed by
`pulumi install`; the plugin with `pulumi plugin install --file` of the `--pack` tarball. The program
names no plugin path. One project and venv for the module (`pulumi install` takes a while)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _installed_plugin import INSTALLED_ONLY, VERBOSE, VERSION, install_plugin, python_requirements, sought
from _plugin_rpc import plugin_config
from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "plugin-python"
SDK_NAME = "pulumi_fc_invocation_sdk"


@pytest.fixture(scope="module")
def installed(pulumi_bin):
    """The example with its requirements.txt naming the wheels, after `pulumi install` (which creates the
    project's venv). The SDK names plugin fc-invocation at its version: without it installed, `pulumi
    install` seeks it (the download goes to a closed port, INSTALLED_ONLY) and fails; installed, it is found."""
    env = {"FC_INVOCATION_PROGRESS_SECONDS": "1", **INSTALLED_ONLY}
    with PulumiCli(EXAMPLE, pulumi=pulumi_bin, env=env) as cli:
        assert "plugins:" not in (cli.dir / "Pulumi.yaml").read_text()
        (cli.dir / "requirements.txt").write_text(python_requirements())
        missing = cli.run(*VERBOSE, "install")
        assert not missing.ok
        assert sought(missing.output), missing.output
        assert f"failed to download plugin: fc-invocation-{VERSION}" in missing.output, missing.output
        venv = cli.dir / "venv"
        (plugin_json,) = venv.glob(f"lib/python*/site-packages/{SDK_NAME}/pulumi-plugin.json")
        assert json.loads(plugin_json.read_text()) == {"resource": True, "name": "fc-invocation", "version": VERSION}
        install_plugin(cli)
        done = cli.run(*VERBOSE, "install")
        assert done.ok, done.output
        assert not sought(done.output), done.output
        yield cli


@pytest.fixture
def fc():
    with FcEmulator(clock="real") as emulator:
        yield emulator


def test_a_python_program_gates_through_the_plugin_sdk_beside_the_dynamic_data_source(fc, installed):
    cli = installed
    fc.add_function(None, "migrate", outcome="Succeeded", queue_delay=0.3, duration=4, return_payload='{"rows": 3}')
    # One set of settings for both: the plugin reads its own namespace, the dynamic data source reads it first.
    cli.config(plugin_config(fc), secret_keys={"fc-invocation:secretKey"})
    cli.config({"plugin-python:task": "t1"})
    fc.client().invoke_async_task("migrate", "{}", task_id="t1")
    up = cli.up(*VERBOSE)
    assert up.ok, up.output
    assert not sought(up.output), up.output  # found installed
    assert "waiting for migrate/t1 to finish" in up.output
    outputs = cli.outputs(show_secrets=True)
    assert outputs["dynamicStatus"] == outputs["pluginStatus"] == "Succeeded"
    assert outputs["pluginResult"] == '{"rows": 3}' and cli.outputs()["pluginResult"] == "[secret]"
    types = {r["urn"].rsplit("::", 1)[-1]: r["type"] for r in cli.resources()}
    assert types["dynamic"] == "pulumi-python:dynamic/fc:AsyncTask"
    assert types["gate"] == "fc-invocation:index:AsyncTask"
    destroy = cli.destroy()
    assert destroy.ok, destroy.output
