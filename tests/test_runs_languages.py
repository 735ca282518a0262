"""Runs (issue 28) through the real CLI in YAML and TypeScript: the programs docs/runs.md shows (its
`<!-- run-yaml -->` and `<!-- run-typescript -->` blocks, run as written) on the installed plugin, the
TypeScript one with the typed SDK of `make sdks` (type-checked by `tsc`), against emulator FC 3.0
functions (real clock, tasks of seconds). Each lifecycle rule is counted in the emulator's request log
(InvokeFunction calls) and its tasks: one task per create, none in preview, none on an unchanged second
`up`, a new one on a trigger change, a failed run failing `up` (its dependent not created) and retried by
the next `up` with the same payload, refresh and destroy starting nothing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from _installed_plugin import INSTALLED_ONLY, NODE, NPM_CACHE, NPM_OFFLINE, install_plugin, npm_install_sdk
from _plugin_rpc import plugin_config
from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "runs.md").read_text(encoding="utf-8")
(YAML_PROGRAM,) = re.findall(r"<!-- run-yaml -->\n```yaml\n(.*?)```", PAGE, re.S)
(TS_PROGRAM,) = re.findall(r"<!-- run-typescript -->\n```typescript\n(.*?)```", PAGE, re.S)
PAYLOAD = '{"schema": 42}'  # the migration's payload in the page's YAML
MARKER = "pz-secret-5e1d"  # a token the YAML tests add to that payload: searched for in the raw state and output
MARKED = {"schema": 42, "note": MARKER}


def migration_payload(task) -> dict:
    return json.loads(task.invocation_payload)


@pytest.fixture
def fc():
    with FcEmulator(clock="real") as emulator:
        yield emulator


def functions(fc, **migrate) -> None:
    """The programs' two functions: tasks of seconds (``migrate`` takes script overrides)."""
    fc.add_function(None, "migrate", duration=2, return_payload="migrated", **migrate)
    fc.add_function(None, "warm-cache", duration=1)


def invokes(fc) -> list:
    """Every InvokeFunction call so far (refused ones included), from the request log."""
    return [r for r in fc.requests if r.route == "invoke"]


def tasks(fc, function: str) -> list:
    return [t for t in fc.invocations if t.function_name == function]


def by_name(cli: PulumiCli) -> dict[str, dict]:
    return {r["urn"].rsplit("::", 1)[-1]: r for r in cli.resources()}


def diagnostics(result) -> str:
    assert "Diagnostics:" in result.output, result.output
    return result.output.split("Diagnostics:", 1)[1]


# --- YAML -------------------------------------------------------------------------------------------


def yaml_cli(fc, pulumi_bin, tmp_path, version: str) -> PulumiCli:
    project = tmp_path / "yaml"
    project.mkdir()
    assert f"payload: '{PAYLOAD}'" in YAML_PROGRAM
    (project / "Pulumi.yaml").write_text(YAML_PROGRAM.replace(PAYLOAD, json.dumps(MARKED)))
    cli = PulumiCli(project, pulumi=pulumi_bin, env=INSTALLED_ONLY)
    install_plugin(cli)
    cli.config(plugin_config(fc), secret_keys={"fc-invocation:secretKey"})
    cli.config({"shop-release:version": version})
    return cli


def test_yaml_a_run_starts_one_task_per_create_and_none_where_nothing_may_run(fc, pulumi_bin, tmp_path):
    functions(fc)
    with yaml_cli(fc, pulumi_bin, tmp_path, "1.0.0") as cli:
        preview = cli.preview()
        assert preview.ok, preview.output
        assert invokes(fc) == [] and fc.invocations == []                   # preview starts nothing

        up = cli.up()
        assert up.ok, up.output
        (migration,), (warm,) = tasks(fc, "migrate"), tasks(fc, "warm-cache")
        assert len(invokes(fc)) == 2                                        # one task per create
        assert migration_payload(migration) == MARKED and migration.status == "Succeeded"
        assert warm.started_time >= migration.end_time                      # the dependent after the run
        outputs, plain = cli.outputs(), cli.outputs(show_secrets=True)
        assert plain["migrationTask"] == migration.invocation_id and plain["migrationStatus"] == "Succeeded"
        assert plain["warmCacheTask"] == warm.invocation_id
        state = by_name(cli)
        assert state["migration"]["type"] == "fc-invocation:index:AsyncTaskRun"
        exported = cli.run("stack", "export", check=True, split=True).stdout  # the raw text, not re-encoded
        assert MARKER not in exported and MARKER not in preview.output + up.output  # the payload is secret
        assert outputs["migrationTask"] == migration.invocation_id          # the id is not

        again = cli.up()
        assert again.ok, again.output
        assert len(invokes(fc)) == 2 and len(fc.invocations) == 2          # unchanged: nothing started
        assert "unchanged" in again.output and "replace" not in again.output, again.output

        refresh = cli.refresh()
        assert refresh.ok, refresh.output
        assert len(invokes(fc)) == 2

        cli.config({"shop-release:version": "1.1.0"})                      # a trigger changes
        changed = cli.up()
        assert changed.ok, changed.output
        assert len(tasks(fc, "migrate")) == 2 and len(tasks(fc, "warm-cache")) == 2, changed.output
        accepted = [r for r in invokes(fc) if r.status == 202]
        assert len(accepted) == 4, [(r.invocation_id, r.status) for r in invokes(fc)]
        new = cli.outputs(show_secrets=True)["migrationTask"]
        assert new != migration.invocation_id and fc.get_invocation(None, "migrate", new).status == "Succeeded"

        before = len(invokes(fc))
        destroy = cli.destroy()
        assert destroy.ok, destroy.output
        assert len(invokes(fc)) == before and fc.request_count("stop") == 0  # destroy starts and stops nothing
        assert not [r for r in cli.resources() if r["type"].startswith("fc-invocation:")]


def test_yaml_a_failed_run_fails_up_and_the_next_up_retries_it(fc, pulumi_bin, tmp_path):
    functions(fc, error_message="UnhandledException: no disk", fail_first=1)
    with yaml_cli(fc, pulumi_bin, tmp_path, "1.0.0") as cli:
        up = cli.up()
        assert not up.ok
        (failed,) = tasks(fc, "migrate")
        assert failed.status == "Failed"
        said = diagnostics(up)
        assert f"{failed.invocation_id} ended Failed: UnhandledException: no disk" in said, said
        assert "Traceback" not in said, said
        assert tasks(fc, "warm-cache") == [] and "warmCache" not in by_name(cli)  # the dependent: not created

        retry = cli.up()                                                    # nothing changed but the outcome
        assert retry.ok, retry.output
        first, second = tasks(fc, "migrate")
        assert first.invocation_id == failed.invocation_id and second.invocation_id != failed.invocation_id
        assert second.status == "Succeeded" and migration_payload(second) == MARKED
        assert len(tasks(fc, "warm-cache")) == 1
        assert cli.outputs(show_secrets=True)["migrationTask"] == second.invocation_id

        started = len(invokes(fc))
        again = cli.up()
        assert again.ok, again.output
        assert len(invokes(fc)) == started                                  # the retried run: not again


# --- TypeScript -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ts_project(tmp_path_factory) -> Path:
    """The docs' program in a project with the SDK npm-installed from make sdks's tarball (offline); its
    node_modules is moved beside it, for each test's copy to link."""
    if not (NODE / ".pinned").is_file() or not NPM_CACHE.is_dir():
        pytest.fail("no .pulumi/node: run `make engine` (needs node and npm)")
    project = tmp_path_factory.mktemp("runs-ts") / "project"
    project.mkdir()
    example = ROOT / "examples" / "plugin-typescript"
    for name in ("package.json", "tsconfig.json"):
        shutil.copy(example / name, project / name)
    (project / "Pulumi.yaml").write_text("name: shop-release\nruntime: nodejs\n")
    (project / "index.ts").write_text(TS_PROGRAM)
    done = npm_install_sdk(project)
    assert done.returncode == 0, done.stdout + done.stderr
    declarations = (project / "node_modules" / "@pulumi" / "fc-invocation" / "asyncTaskRun.d.ts").read_text()
    assert "readonly taskId: pulumi.Output<string" in declarations, declarations
    checked = subprocess.run(["node", "node_modules/typescript/bin/tsc", "--noEmit", "-p", "."], cwd=project,
                             capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr     # the docs' program type-checks
    (project / "node_modules").rename(project.parent / "node_modules")
    return project


def ts_cli(fc, pulumi_bin, project: Path, version: str) -> PulumiCli:
    cli = PulumiCli(project, pulumi=pulumi_bin, env={**NPM_OFFLINE, **INSTALLED_ONLY})
    (cli.dir / "node_modules").symlink_to(project.parent / "node_modules", target_is_directory=True)
    install_plugin(cli)
    cli.config(plugin_config(fc), secret_keys={"fc-invocation:secretKey"})
    cli.config({"shop-release:version": version})
    return cli


def test_typescript_the_run_lifecycle(fc, pulumi_bin, ts_project):
    functions(fc, error_message="UnhandledException: no disk", fail_first=1)
    with ts_cli(fc, pulumi_bin, ts_project, "1.0.0") as cli:
        preview = cli.preview()
        assert preview.ok, preview.output
        assert invokes(fc) == [] and fc.invocations == []                   # preview starts nothing

        up = cli.up()                                                       # the first run fails...
        assert not up.ok
        (failed,) = tasks(fc, "migrate")
        assert f"{failed.invocation_id} ended Failed: UnhandledException: no disk" in diagnostics(up)
        assert tasks(fc, "warm-cache") == []                                # ...and its dependent waits

        retry = cli.up()                                                    # ...and the next up retries it
        assert retry.ok, retry.output
        first, second = tasks(fc, "migrate")
        assert (first.status, second.status) == ("Failed", "Succeeded")
        assert migration_payload(second) == {"schema": 42}
        (warm,) = tasks(fc, "warm-cache")
        assert warm.started_time >= second.end_time
        outputs = cli.outputs(show_secrets=True)
        assert outputs["migrationTask"] == second.invocation_id and outputs["migrationStatus"] == "Succeeded"

        started = len(invokes(fc))
        again = cli.up()
        assert again.ok, again.output
        assert len(invokes(fc)) == started                                  # unchanged: nothing started

        cli.config({"shop-release:version": "1.1.0"})                      # a trigger changes
        changed = cli.up()
        assert changed.ok, changed.output
        assert len(tasks(fc, "migrate")) == 3 and len(tasks(fc, "warm-cache")) == 2
        assert cli.outputs(show_secrets=True)["migrationTask"] not in (first.invocation_id, second.invocation_id)

        before = len(invokes(fc))
        refresh = cli.refresh()
        assert refresh.ok, refresh.output
        destroy = cli.destroy()
        assert destroy.ok, destroy.output
        assert len(invokes(fc)) == before and fc.request_count("stop") == 0  # refresh, destroy: nothing
        assert not [r for r in cli.resources() if r["type"].startswith("fc-invocation:")]


STOPS = """
name: stops
runtime: yaml
resources:
  asked:
    type: fc-invocation:AsyncTaskRun
    properties:
      functionName: long
      payload: '{"n": 1}'
      waitForCompletion: false
      stopOnDelete: true
  notAsked:
    type: fc-invocation:AsyncTaskRun
    properties:
      functionName: long
      payload: '{"n": 2}'
      waitForCompletion: false
outputs:
  asked: ${asked.taskId}
  notAsked: ${notAsked.taskId}
"""


def test_yaml_destroy_stops_a_running_task_only_with_stop_on_delete(fc, pulumi_bin, tmp_path):
    fc.add_function(None, "long", duration=600)
    project = tmp_path / "stops"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(STOPS)
    with PulumiCli(project, pulumi=pulumi_bin, env=INSTALLED_ONLY) as cli:
        install_plugin(cli)
        cli.config(plugin_config(fc), secret_keys={"fc-invocation:secretKey"})
        up = cli.up()
        assert up.ok, up.output
        ids = cli.outputs()
        assert {t.status for t in fc.invocations} == {"Running"} and len(fc.invocations) == 2
        assert fc.request_count("stop") == 0
        destroy = cli.destroy()
        assert destroy.ok, destroy.output
        assert fc.get_invocation(None, "long", ids["asked"]).status == "Stopped"
        assert fc.get_invocation(None, "long", ids["notAsked"]).status == "Running"
        assert fc.request_count("stop") == 1 and fc.request_count("invoke") == 2


REPLACED = """name: forced
runtime: yaml
config:
  version:
    type: string
  timeout:
    type: integer
resources:
  migration:
    type: fc-invocation:AsyncTaskRun
    properties:
      functionName: migrate
      payload: '{"schema": 42}'
      triggers:
        version: ${version}
      timeoutSeconds: ${timeout}
    options:
      replaceOnChanges:
        - timeoutSeconds
outputs:
  task: ${migration.taskId}
  seq: ${migration.runSequence}
"""


def test_yaml_a_replacement_the_engine_decides_runs_the_next_run_and_a_trigger_change_the_one_after(
        fc, pulumi_bin, tmp_path):
    """replaceOnChanges on a wait input: the provider's Diff says update, the engine replaces and checks the
    replacement without old inputs; it must start run n+1 (it went back to 0 and adopted run 0's task), and
    the trigger change after it run n+2 (it started nothing)."""
    fc.add_function(None, "migrate", duration=0.5)
    project = tmp_path / "forced"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(REPLACED)
    with PulumiCli(project, pulumi=pulumi_bin, env=INSTALLED_ONLY) as cli:
        install_plugin(cli)
        cli.config(plugin_config(fc), secret_keys={"fc-invocation:secretKey"})

        def up(version: str, timeout: int) -> tuple[int, int]:
            cli.config({"forced:version": version, "forced:timeout": str(timeout)})
            result = cli.up()
            assert result.ok, result.output
            out = cli.outputs()
            assert fc.get_invocation(None, "migrate", out["task"]).status == "Succeeded"
            return out["seq"], len(tasks(fc, "migrate"))

        assert up("1", 60) == (0, 1) and up("2", 60) == (1, 2)
        assert up("2", 61) == (2, 3)  # replaceOnChanges: a new task, run 2
        assert up("3", 61) == (3, 4)  # a trigger change: run 3


TARGETED = """name: targeted
runtime: yaml
resources:
  migration:
    type: fc-invocation:AsyncTaskRun
    properties:
      functionName: long
      payload: '{"schema": 42}'
      waitForCompletion: false
      stopOnDelete: true
outputs:
  task: ${migration.taskId}
"""


def test_yaml_up_replace_adopts_the_running_task_and_never_stops_it(fc, pulumi_bin, tmp_path):
    """`pulumi up --replace <urn>`: the engine checks the run as a first create and asks no diff: the run
    adopts the task it already started (nothing runs again, as docs/runs.md says), and the delete of the
    replaced run leaves that task running, stopOnDelete or not."""
    fc.add_function(None, "long", duration=600)
    project = tmp_path / "targeted"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(TARGETED)
    with PulumiCli(project, pulumi=pulumi_bin, env=INSTALLED_ONLY) as cli:
        install_plugin(cli)
        cli.config(plugin_config(fc), secret_keys={"fc-invocation:secretKey"})
        up = cli.up()
        assert up.ok, up.output
        task = cli.outputs()["task"]
        urn = by_name(cli)["migration"]["urn"]
        replaced = cli.up("--replace", urn)
        assert replaced.ok, replaced.output
        assert "replace" in replaced.output, replaced.output
        assert cli.outputs()["task"] == task and len(fc.invocations) == 1
        assert fc.request_count("stop") == 0 and fc.get_invocation(None, "long", task).status == "Running"
