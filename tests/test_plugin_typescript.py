"""The provider plugin from a TypeScript program through the real CLI (the Node.js host of `make
engine`): examples/plugin-typescript with the SDK that `pulumi install` generates from the plugin's
schema (its `packages:` entry), type-checked by `tsc`; the gate against emulator FC 3.0 tasks (real
clock, tasks of seconds). npm runs offline against make engine's cache."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "plugin-typescript"
PLUGIN = ROOT / "pulumi_fc_invocation" / "plugin"
NODE = ROOT / ".pulumi" / "node"
NPM_CACHE = ROOT / ".pulumi" / "npm-cache"


@pytest.fixture(scope="module")
def npm_env() -> dict[str, str]:
    if not (NODE / ".pinned").is_file() or not NPM_CACHE.is_dir():
        pytest.fail("no .pulumi/node: run `make engine` (needs node and npm)")
    return {"npm_config_cache": str(NPM_CACHE), "npm_config_offline": "true", "npm_config_audit": "false",
            "npm_config_fund": "false", "npm_config_update_notifier": "false", "FC_INVOCATION_PROGRESS_SECONDS": "1"}


@pytest.fixture
def fc():
    with FcEmulator(clock="real") as emulator:
        yield emulator


def ts_cli(fc, pulumi_bin, npm_env, **config) -> PulumiCli:
    """The example's copy, its package pointed at this repository's plugin, the SDK generated."""
    cli = PulumiCli(EXAMPLE, pulumi=pulumi_bin, env=npm_env)
    project = cli.dir / "Pulumi.yaml"
    text = project.read_text()
    assert "fc-invocation: ../../pulumi_fc_invocation/plugin" in text
    project.write_text(text.replace("../../pulumi_fc_invocation/plugin", str(PLUGIN)))
    (cli.dir / "node_modules").symlink_to(NODE / "node_modules", target_is_directory=True)
    cli.config({f"fc-invocation:{k.split(':', 1)[1]}": v for k, v in fc.stack_config().items()},
               secret_keys={"fc-invocation:secretKey"})
    cli.config({f"plugin-typescript:{k}": v for k, v in config.items()})
    installed = cli.run("install")
    assert installed.ok, installed.output
    return cli


def tsc(cli: PulumiCli) -> subprocess.CompletedProcess:
    return subprocess.run(["node", "node_modules/typescript/bin/tsc", "--noEmit", "-p", "."], cwd=cli.dir,
                          capture_output=True, text=True, timeout=300)


def by_name(cli: PulumiCli) -> dict[str, dict]:
    return {r["urn"].rsplit("::", 1)[-1]: r for r in cli.resources()}


def test_typescript_sdk_type_checks_preview_never_waits_up_waits_then_deploys(fc, pulumi_bin, npm_env):
    fc.add_function(None, "migrate", outcome="Succeeded", queue_delay=0.3, duration=25, return_payload='{"rows": 7}')
    with ts_cli(fc, pulumi_bin, npm_env, task="t1") as cli:
        sdk = cli.dir / "sdks" / "fc-invocation"
        assert json.loads((sdk / "package.json").read_text())["name"] == "@pulumi/fc-invocation"
        declarations = (sdk / "bin" / "asyncTask.d.ts").read_text()
        assert "readonly returnPayload: pulumi.Output<string" in declarations, declarations
        checked = tsc(cli)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        program = (cli.dir / "index.ts").read_text()
        (cli.dir / "index.ts").write_text(program.replace("timeoutSeconds: 1800", 'timeoutSeconds: "1800"'))
        wrong = tsc(cli)
        assert wrong.returncode != 0 and "TS2322" in wrong.stdout, wrong.stdout
        (cli.dir / "index.ts").write_text(program)

        fc.client().invoke_async_task("migrate", '{"batch": 1}', task_id="t1")
        preview = cli.preview()
        assert preview.ok, preview.output
        assert "waiting for migrate/t1" not in preview.output
        assert not fc.client().get_async_task("migrate", "t1").is_terminal  # preview came back while it ran
        up = cli.up()
        assert up.ok, up.output
        assert "waiting for migrate/t1 to finish" in up.output
        plain, shown = cli.outputs(show_secrets=True), cli.outputs()
        assert plain["status"] == "Succeeded" and plain["result"] == '{"rows": 7}' and shown["result"] == "[secret]"
        state = by_name(cli)
        assert state["migration"]["type"] == "fc-invocation:index:AsyncTask"
        assert state["release"]["created"] >= state["migration"]["modified"]
        destroy = cli.destroy()
        assert destroy.ok, destroy.output
        assert not [r for r in cli.resources() if r["type"].startswith("fc-invocation:")]


def test_typescript_refresh_records_a_failure_and_the_update_that_gates_again_fails(fc, pulumi_bin, npm_env):
    fc.add_function(None, "migrate", outcome="Failed", queue_delay=0, duration=45,
                    error_message="UnhandledException: no disk")  # still running once the slow program reads it
    with ts_cli(fc, pulumi_bin, npm_env, task="t2", wait="false") as cli:
        client = fc.client()
        client.invoke_async_task("migrate", "{}", task_id="t2")
        up = cli.up()
        assert up.ok, up.output
        assert by_name(cli)["migration"]["outputs"]["status"] in ("Enqueued", "Running")
        deadline = time.monotonic() + 60
        while not client.get_async_task("migrate", "t2").is_terminal and time.monotonic() < deadline:
            time.sleep(0.2)
        refresh = cli.refresh()
        assert refresh.ok, refresh.output
        assert by_name(cli)["migration"]["outputs"]["status"] == "Failed"
        cli.config({"plugin-typescript:wait": "true"})
        again = cli.up()
        assert not again.ok
        diagnostics = again.output.split("Diagnostics:", 1)[1]
        assert "migrate/t2 ended Failed: UnhandledException: no disk" in diagnostics, diagnostics
        assert "Traceback" not in diagnostics and 'File "' not in diagnostics, diagnostics
