"""The provider plugin from a TypeScript program through the real CLI (the Node.js host of `make
engine`), installed as a user installs it: the plugin with `pulumi plugin install --file` of the `--pack`
tarball, the SDK with `npm install ./<tarball>` of `make sdks`'s npm tarball (offline, against make
engine's npm cache), type-checked by `tsc`; the program names no plugin or package path. The gate against
emulator FC 3.0 tasks (real clock, tasks of seconds)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from _installed_plugin import (INSTALLED_ONLY, NODE, NPM_CACHE, NPM_OFFLINE, VERBOSE, VERSION, install_plugin,
                               npm_install_sdk, sought, tarball)
from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "plugin-typescript"


@pytest.fixture(scope="module")
def installed(pulumi_bin, tmp_path_factory) -> Path:
    """The example with the SDK npm-installed from its tarball, then `pulumi install`, as a user does, once
    per module: its node_modules is then moved beside it, for each test's copy to link (a copy per test
    would be 200 MB)."""
    if not (NODE / ".pinned").is_file() or not NPM_CACHE.is_dir():
        pytest.fail("no .pulumi/node: run `make engine` (needs node and npm)")
    project = tmp_path_factory.mktemp("ts") / "project"
    shutil.copytree(EXAMPLE, project)
    done = npm_install_sdk(project)
    assert done.returncode == 0, done.stdout + done.stderr
    dependency = json.loads((project / "package.json").read_text())["dependencies"]["@pulumi/fc-invocation"]
    assert dependency == f"file:pulumi-fc-invocation-{VERSION}.tgz"

    home = project.parent / "home"
    env = {**os.environ, **NPM_OFFLINE, **INSTALLED_ONLY, "PULUMI_HOME": str(home), "PULUMI_SKIP_UPDATE_CHECK": "true"}

    def pulumi(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([pulumi_bin, "--non-interactive", *args], cwd=project, env=env,
                              capture_output=True, text=True, timeout=600)

    # The SDK names plugin fc-invocation at its version: without it installed, `pulumi install` seeks it
    # (the download goes to a closed port, INSTALLED_ONLY) and fails; once installed, it finds it.
    missing = pulumi(*VERBOSE, "install")
    assert missing.returncode != 0
    assert sought(missing.stderr), missing.stdout + missing.stderr
    # at the SDK's version, from the closed port
    assert f"http://127.0.0.1:1/pulumi-resource-fc-invocation-v{VERSION}-" in missing.stderr, missing.stderr
    plugin = pulumi("plugin", "install", "resource", "fc-invocation", VERSION, "--file", str(tarball()))
    assert plugin.returncode == 0, plugin.stdout + plugin.stderr
    done = pulumi(*VERBOSE, "install")
    assert done.returncode == 0, done.stdout + done.stderr
    assert sought(done.stderr) == [], done.stderr
    assert not (project / "sdks").exists()  # nothing generated: the SDK is the installed package
    (project / "node_modules").rename(project.parent / "node_modules")
    return project


@pytest.fixture
def fc():
    with FcEmulator(clock="real") as emulator:
        yield emulator


def ts_cli(fc, pulumi_bin, installed, **config) -> PulumiCli:
    """A copy of the installed example, the plugin installed into its PULUMI_HOME, the stack configured."""
    cli = PulumiCli(installed, pulumi=pulumi_bin,
                    env={**NPM_OFFLINE, **INSTALLED_ONLY, "FC_INVOCATION_PROGRESS_SECONDS": "1"})
    assert "packages:" not in (cli.dir / "Pulumi.yaml").read_text()
    (cli.dir / "node_modules").symlink_to(installed.parent / "node_modules", target_is_directory=True)
    install_plugin(cli)
    cli.config({f"fc-invocation:{k.split(':', 1)[1]}": v for k, v in fc.stack_config().items()},
               secret_keys={"fc-invocation:secretKey"})
    cli.config({f"plugin-typescript:{k}": v for k, v in config.items()})
    return cli


def tsc(cli: PulumiCli) -> subprocess.CompletedProcess:
    return subprocess.run(["node", "node_modules/typescript/bin/tsc", "--noEmit", "-p", "."], cwd=cli.dir,
                          capture_output=True, text=True, timeout=300)


def by_name(cli: PulumiCli) -> dict[str, dict]:
    return {r["urn"].rsplit("::", 1)[-1]: r for r in cli.resources()}


def test_typescript_sdk_type_checks_preview_never_waits_up_waits_then_deploys(fc, pulumi_bin, installed):
    fc.add_function(None, "migrate", outcome="Succeeded", queue_delay=0.3, duration=25, return_payload='{"rows": 7}')
    with ts_cli(fc, pulumi_bin, installed, task="t1") as cli:
        sdk = cli.dir / "node_modules" / "@pulumi" / "fc-invocation"
        package = json.loads((sdk / "package.json").read_text())
        assert package["name"] == "@pulumi/fc-invocation" and package["version"] == VERSION
        assert package["pulumi"] == {"resource": True, "name": "fc-invocation", "version": VERSION}  # its plugin
        declarations = (sdk / "asyncTask.d.ts").read_text()
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
        assert shown["readNow"] in {"Enqueued", "Running", "Succeeded"}  # read when the program started, in plaintext
        state = by_name(cli)
        assert state["migration"]["type"] == "fc-invocation:index:AsyncTask"
        assert state["release"]["created"] >= state["migration"]["modified"]
        destroy = cli.destroy()
        assert destroy.ok, destroy.output
        assert not [r for r in cli.resources() if r["type"].startswith("fc-invocation:")]


def test_typescript_refresh_records_a_failure_and_the_update_that_gates_again_fails(fc, pulumi_bin, installed):
    fc.add_function(None, "migrate", outcome="Failed", queue_delay=0, duration=45,
                    error_message="UnhandledException: no disk")  # still running once the slow program reads it
    with ts_cli(fc, pulumi_bin, installed, task="t2", wait="false") as cli:
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
