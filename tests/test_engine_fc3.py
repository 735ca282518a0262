"""End-to-end for FC 3.0: ``AsyncTask`` gates through the real Pulumi CLI against the emulator's
2023-03-30 routes (ACS3-signed), on a real clock with tasks of seconds: the gate passes and the
dependent deploys, a failed task fails ``up`` with a readable message, preview never waits, refresh
records a later failure."""

from __future__ import annotations

import time

import pytest

from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli

PROGRAM = '''
import time
import pulumi
import pulumi.dynamic
from pulumi_fc_invocation import AsyncTask

cfg = pulumi.Config()
task = AsyncTask("task", function_name=cfg.get("function") or "fn", task_id=cfg.require("task"),
                 wait_for_completion=cfg.get_bool("wait") if cfg.get("wait") is not None else True,
                 timeout_seconds=120)


class _Stamp(pulumi.dynamic.ResourceProvider):
    def create(self, props):
        return pulumi.dynamic.CreateResult("stamp", {**props, "created_at": time.time()})


class Stamp(pulumi.dynamic.Resource):
    created_at: pulumi.Output[float]

    def __init__(self, name, opts=None):
        super().__init__(_Stamp(), name, {"created_at": None}, opts)


dep = Stamp("dep", pulumi.ResourceOptions(depends_on=[task]))
pulumi.export("status", task.status)
pulumi.export("result", task.return_payload)
pulumi.export("durationMs", task.duration_ms)
'''


@pytest.fixture
def fc():
    with FcEmulator(clock="real") as emulator:
        yield emulator


@pytest.fixture
def project(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: fc3gates\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(PROGRAM)
    return tmp_path


def make_cli(fc, project, pulumi_bin, **config) -> PulumiCli:
    cli = PulumiCli(project, pulumi=pulumi_bin, env={"FC_INVOCATION_PROGRESS_SECONDS": "1"})
    cli.config(fc.stack_config(), secret_keys={"alicloud:secretKey"})
    cli.config({f"fc3gates:{k}": v for k, v in config.items()})
    return cli


def names(cli: PulumiCli) -> dict[str, dict]:
    return {r["urn"].rsplit("::", 1)[-1]: r for r in cli.resources()}


def test_up_waits_for_the_task_then_deploys_and_preview_never_waits(fc, project, pulumi_bin):
    fc.add_function(None, "fn", outcome="Succeeded", queue_delay=0.3, duration=3, return_payload='{"ok": true}')
    with make_cli(fc, project, pulumi_bin, task="t1") as cli:
        fc.client().invoke_async_task("fn", '{"input": 1}', task_id="t1")
        preview = cli.preview()
        assert preview.ok, preview.output
        assert "waiting for fn/t1" not in preview.output and preview.seconds < 30
        up = cli.up()
        assert up.ok, up.output
        assert "waiting for fn/t1 to finish" in up.output
        shown, plain = cli.outputs(), cli.outputs(show_secrets=True)
        assert plain["status"] == "Succeeded" and plain["result"] == '{"ok": true}'
        assert shown["result"] == "[secret]" and isinstance(plain["durationMs"], int)
        state = names(cli)
        assert state["task"]["type"] == "pulumi-python:dynamic/fc:AsyncTask" and state["task"]["id"] == "fn/t1"
        assert "dep" in state


def test_a_failed_task_fails_up_and_refresh_records_a_later_failure(fc, project, pulumi_bin):
    fc.add_function(None, "fn", outcome="Failed", queue_delay=0, duration=2, error_message="UnhandledException: no disk")
    with make_cli(fc, project, pulumi_bin, task="t2") as cli:
        fc.client().invoke_async_task("fn", "{}", task_id="t2")
        up = cli.up()
        assert not up.ok
        diagnostics = up.output.split("Diagnostics:", 1)[1]
        assert "fn/t2 ended Failed: UnhandledException: no disk" in diagnostics and "request id" in diagnostics
        assert "Traceback" not in diagnostics, diagnostics
        assert "dep" not in names(cli)
    # Read without a gate while it runs (it fails later): up passes, refresh records the failure.
    fc.add_function(None, "later", outcome="Failed", queue_delay=0, duration=15, error_message="boom")
    with make_cli(fc, project, pulumi_bin, task="t3", wait="false", function="later") as cli:
        fc.client().invoke_async_task("later", "{}", task_id="t3")
        up = cli.up()
        assert up.ok, up.output
        assert names(cli)["task"]["outputs"]["status"] in ("Enqueued", "Running")
        client, deadline = fc.client(), time.monotonic() + 30
        while not client.get_async_task("later", "t3").is_terminal and time.monotonic() < deadline:
            time.sleep(0.2)
        refresh = cli.refresh()
        assert refresh.ok, refresh.output
        assert names(cli)["task"]["outputs"]["status"] == "Failed"
        assert names(cli)["task"]["outputs"]["task_error_message"] == "boom"
