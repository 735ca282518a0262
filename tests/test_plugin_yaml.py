"""The provider plugin from a YAML program through the real CLI (the YAML language host of `make
engine`), installed as a user installs it (`pulumi plugin install --file` of the `--pack` tarball; the
program names no plugin path): examples/plugin-yaml gates its release on an emulator FC 3.0 task (real
clock, tasks of seconds), fails on a failed task with the verdict alone, never waits in preview; refresh
records a later failure; destroy forgets."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from _installed_plugin import INSTALLED_ONLY, install_plugin
from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli
from _plugin_rpc import plugin_config

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "plugin-yaml"


@pytest.fixture
def fc():
    with FcEmulator(clock="real") as emulator:
        yield emulator


def yaml_cli(fc, pulumi_bin, **config) -> PulumiCli:
    cli = PulumiCli(EXAMPLE, pulumi=pulumi_bin, env={"FC_INVOCATION_PROGRESS_SECONDS": "1", **INSTALLED_ONLY})
    assert "plugins:" not in (cli.dir / "Pulumi.yaml").read_text()
    install_plugin(cli)
    cli.config(plugin_config(fc), secret_keys={"fc-invocation:secretKey"})
    cli.config({f"plugin-yaml:{k}": v for k, v in config.items()})
    return cli


def by_name(cli: PulumiCli) -> dict[str, dict]:
    return {r["urn"].rsplit("::", 1)[-1]: r for r in cli.resources()}


def wait_terminal(fc, function: str, task: str) -> None:
    client, deadline = fc.client(), time.monotonic() + 60
    while not client.get_async_task(function, task).is_terminal and time.monotonic() < deadline:
        time.sleep(0.2)


def test_yaml_preview_never_waits_then_up_waits_and_deploys_the_dependent(fc, pulumi_bin):
    fc.add_function(None, "migrate", outcome="Succeeded", queue_delay=0.3, duration=6, return_payload='{"rows": 42}')
    with yaml_cli(fc, pulumi_bin, task="t1") as cli:
        fc.client().invoke_async_task("migrate", '{"batch": 1}', task_id="t1")
        preview = cli.preview()
        assert preview.ok, preview.output
        assert "waiting for migrate/t1" not in preview.output
        up = cli.up()
        assert up.ok, up.output
        assert "waiting for migrate/t1 to finish" in up.output  # the engine's status line (ephemeral Log)
        shown, plain = cli.outputs(), cli.outputs(show_secrets=True)
        assert plain["status"] == "Succeeded" and plain["result"] == '{"rows": 42}'
        assert shown["result"] == "[secret]"
        state = by_name(cli)
        gate = state["migration"]
        assert gate["type"] == "fc-invocation:index:AsyncTask" and gate["id"] == "migrate/t1"
        assert gate["outputs"]["waitedSeconds"] > 0
        assert state["release"]["created"] >= gate["modified"]  # the dependent came after the gate
        # The provider's state holds its own settings, and the secret key only encrypted.
        provider = next(r for r in cli.resources() if r["type"] == "pulumi:providers:fc-invocation")
        assert set(provider["inputs"]) <= {"accessKey", "secretKey", "accountId", "region", "endpoint", "version"}
        assert fc.credentials.access_key_secret not in str(cli.export())
        again = cli.up()  # nothing changed: the gate stays (FC's qualifier echo is no change)
        assert again.ok and "replace" not in again.output and "updated" not in again.output, again.output
        assert "unchanged" in again.output, again.output
        destroy = cli.destroy()
        assert destroy.ok, destroy.output
        assert not [r for r in cli.resources() if r["type"].startswith("fc-invocation:")]


def test_yaml_a_failed_task_fails_up_with_the_verdict_alone(fc, pulumi_bin):
    fc.add_function(None, "migrate", outcome="Failed", queue_delay=0, duration=3,
                    error_message="UnhandledException: no disk")
    with yaml_cli(fc, pulumi_bin, task="t2") as cli:
        fc.client().invoke_async_task("migrate", "{}", task_id="t2")
        up = cli.up()
        assert not up.ok
        diagnostics = up.output.split("Diagnostics:", 1)[1]
        assert "migrate/t2 ended Failed: UnhandledException: no disk" in diagnostics, diagnostics
        assert "Traceback" not in diagnostics and 'File "' not in diagnostics, diagnostics
        assert "release" not in by_name(cli)


def test_yaml_refresh_records_a_later_failure(fc, pulumi_bin):
    # Long enough to be still running when the program reads it on a loaded machine.
    fc.add_function(None, "migrate", outcome="Failed", queue_delay=0, duration=25, error_message="boom")
    with yaml_cli(fc, pulumi_bin, task="t3", wait="false") as cli:
        fc.client().invoke_async_task("migrate", "{}", task_id="t3")
        up = cli.up()
        assert up.ok, up.output
        assert by_name(cli)["migration"]["outputs"]["status"] in ("Enqueued", "Running")
        wait_terminal(fc, "migrate", "t3")
        refresh = cli.refresh()
        assert refresh.ok, refresh.output
        outputs = by_name(cli)["migration"]["outputs"]
        assert outputs["status"] == "Failed" and outputs["taskErrorMessage"] == "boom"


EXPLICIT = """
name: plugin-explicit
runtime: yaml
config:
  secretKey:
    type: string
    secret: true
resources:
  hangzhou:
    type: pulumi:providers:fc-invocation
    properties:
      accessKey: {key}
      secretKey: ${{secretKey}}
      accountId: "{account}"
      region: {region}
      endpoint: {endpoint}
  gate:
    type: fc-invocation:AsyncTask
    properties:
      functionName: migrate
      taskId: e1
      waitForCompletion: true
      timeoutSeconds: 60
    options:
      provider: ${{hangzhou}}
outputs:
  status: ${{gate.status}}
"""


def test_yaml_an_explicit_provider_resource_carries_the_settings(fc, pulumi_bin, tmp_path):
    fc.add_function(None, "migrate", outcome="Succeeded", queue_delay=0, duration=2)
    project = tmp_path / "explicit"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(EXPLICIT.format(
        key=fc.credentials.access_key_id, account=fc.account_id, region=fc.region,
        endpoint=fc.endpoint))
    with PulumiCli(project, pulumi=pulumi_bin, env=INSTALLED_ONLY) as cli:  # no fc-invocation:* stack config
        install_plugin(cli)
        cli.config({"plugin-explicit:secretKey": fc.credentials.access_key_secret},
                   secret_keys={"plugin-explicit:secretKey"})
        fc.client().invoke_async_task("migrate", "{}", task_id="e1")
        up = cli.up()
        assert up.ok, up.output
        assert cli.outputs()["status"] == "Succeeded"
        provider = by_name(cli)["hangzhou"]
        assert provider["inputs"]["secretKey"]["4dabf18193072939515e22adb298388d"]  # kept secret in state
        assert fc.credentials.access_key_secret not in str(cli.export())
