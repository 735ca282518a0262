"""End-to-end: the real Pulumi CLI (``make engine``) against the emulator on a real clock.

Each test runs ``pulumi up/preview/refresh/destroy`` in its own ``PULUMI_HOME`` and file backend
(:class:`PulumiCli`), with tasks of a few seconds: what the engine decides (reads under ``--target``,
refresh and destroy with ``--run-program``, cancellation after a failure, the display) is tested
here, not in the harness. The CLI comes from ``find_pulumi()``; CI builds it first (``make test``
depends on ``make engine``), so a missing CLI fails these tests instead of skipping them.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from pathlib import Path

import pytest

from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli

from _engine import PROGRESS, make_cli, state_of
from _example_cases import CASES

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TASK_TYPE = "pulumi-python:dynamic/fc:StatefulAsyncInvocation"


@pytest.fixture
def fc():
    with FcEmulator(clock="real") as emulator:
        yield emulator


def resource_rows(output: str, name: str) -> list[str]:
    """The lines of the CLI's live display that belong to resource `name` (before Diagnostics)."""
    live = output.split("Diagnostics:", 1)[0]
    return [line for line in live.splitlines() if re.search(rf"\b{re.escape(name)}\b", line)]


def wait_terminal(fc, job: str, limit: float = 30.0) -> str:
    """Real-clock wait (tasks of seconds) until the emulator says `job` has ended."""
    deadline = time.monotonic() + limit
    client = fc.client()
    while True:
        result = client.get(f"svc/fn/{job}")
        if result.is_terminal or time.monotonic() > deadline:
            return result.status.value
        time.sleep(0.2)


def test_up_waits_shows_progress_and_exports_typed_secret_outputs(fc, project, pulumi_bin):
    fc.add_function("svc", "fn", outcome="Succeeded", queue_delay=0.5, duration=3, retries=1, retry_delay=0.2,
                    return_payload='{"report": "ok"}')
    with make_cli(fc, project, pulumi_bin, ids="j1") as cli:
        fc.client().invoke_async("svc", "fn", '{"input": 1}', invocation_id="j1")
        up = cli.up()
        assert up.ok, up.output
        assert "waiting for svc/fn/j1 to finish" in up.output
        assert re.search(r"waiting for svc/fn/j1: (Enqueued|Running), retried \d times?, \d+s elapsed", up.output)
        out = cli.outputs()
        assert out["status"] == "Succeeded"
        assert isinstance(out["durationMs"], int) and out["durationMs"] >= 3000
        assert isinstance(out["retries"], int) and out["retries"] == 1
        assert out["result"] == "[secret]"
        assert cli.outputs(show_secrets=True)["result"] == '{"report": "ok"}'
        # the dependent was created after the task ended, never before
        ended = datetime.fromisoformat(out["endTime"].replace("Z", "+00:00")).timestamp()
        assert out["depCreatedAt"] >= ended - 0.05
        export_text = json.dumps(cli.export())
        secret = fc.credentials.access_key_secret
        assert secret not in export_text and secret not in up.output
        assert '{\\"report\\": \\"ok\\"}' not in export_text and '"report"' not in export_text
        stack_outputs = state_of(cli)["gates-dev"]["outputs"]
        assert "ciphertext" in stack_outputs["result"]
        task_outputs = state_of(cli)["task-0"]["outputs"]
        assert "ciphertext" in task_outputs["return_payload"] and "ciphertext" in task_outputs["invocation_payload"]


def test_failed_task_fails_up_with_a_readable_message_and_no_dependent(fc, project, pulumi_bin):
    fc.add_function("svc", "fn", outcome="Failed", queue_delay=0, duration=2,
                    error_message="UnhandledException: column email exists")
    with make_cli(fc, project, pulumi_bin, ids="j2") as cli:
        fc.client().invoke_async("svc", "fn", "{}", invocation_id="j2")
        up = cli.up()
        assert not up.ok
        expected = "invocation svc/fn/j2 ended Failed: UnhandledException: column email exists"
        rows = resource_rows(up.output, "task-0")
        assert any("error: " + expected in row for row in rows), up.output
        assert not any("Traceback (most recent call last)" in row for row in rows), up.output
        diagnostics = up.output.split("Diagnostics:", 1)[1]
        assert expected in diagnostics and "request id" in diagnostics
        assert "Traceback" not in diagnostics, diagnostics
        names = state_of(cli)
        assert "dep" not in names


def test_timeout_fails_up_long_before_the_task_ends(fc, project, pulumi_bin):
    fc.add_function("svc", "fn", outcome="Succeeded", queue_delay=0, duration=120)
    with make_cli(fc, project, pulumi_bin, ids="j3", timeout=3) as cli:
        fc.client().invoke_async("svc", "fn", "{}", invocation_id="j3")
        up = cli.up()
        assert not up.ok
        assert "timed out waiting for invocation svc/fn/j3: last status Running" in up.output
        assert up.seconds < 40
        assert "dep" not in state_of(cli)


def test_preview_reads_but_never_waits(fc, project, pulumi_bin):
    fc.add_function("svc", "fn", outcome="Succeeded", queue_delay=0, duration=300)
    with make_cli(fc, project, pulumi_bin, ids="j4") as cli:
        fc.client().invoke_async("svc", "fn", "{}", invocation_id="j4")
        before = fc.request_count()
        preview = cli.preview()
        assert preview.ok, preview.output
        assert preview.seconds < 30
        assert fc.request_count() > before  # the task was read
        assert "waiting for svc/fn/j4" not in preview.output


def test_refresh_records_a_failure_after_up_without_failing(fc, project, pulumi_bin):
    fc.add_function("svc", "fn", outcome="Failed", queue_delay=0, duration=15, error_message="boom")  # > a slow up
    with make_cli(fc, project, pulumi_bin, ids="j5", wait="false") as cli:
        fc.client().invoke_async("svc", "fn", "{}", invocation_id="j5")
        up = cli.up()
        assert up.ok, up.output
        assert state_of(cli)["task-0"]["outputs"]["status"] in ("Enqueued", "Running")
        assert wait_terminal(fc, "j5") == "Failed"
        refresh = cli.refresh()
        assert refresh.ok, refresh.output
        assert state_of(cli)["task-0"]["outputs"]["status"] == "Failed"


def test_refresh_and_destroy_with_run_program_never_wait_and_always_succeed(fc, project, pulumi_bin):
    fc.add_function("svc", "fn", outcome="Failed", queue_delay=0, duration=15, error_message="boom")  # > a slow up
    with make_cli(fc, project, pulumi_bin, ids="j6", wait="false") as cli:
        fc.client().invoke_async("svc", "fn", "{}", invocation_id="j6")
        assert cli.up().ok
        assert wait_terminal(fc, "j6") == "Failed"
        cli.config({"gates:wait": "true"})
        refresh = cli.refresh("--run-program")
        assert refresh.ok, refresh.output
        assert state_of(cli)["task-0"]["outputs"]["status"] == "Failed"
        destroy = cli.destroy("--run-program")
        assert destroy.ok, destroy.output
        assert "task-0" not in state_of(cli)


def test_destroy_forgets_reads_of_failed_and_running_tasks(fc, project, pulumi_bin):
    fc.add_function("svc", "fn", outcome="Failed", queue_delay=0, duration=15, error_message="boom")  # > a slow up
    with make_cli(fc, project, pulumi_bin, ids="j7", wait="false") as cli:
        fc.client().invoke_async("svc", "fn", "{}", invocation_id="j7")
        assert cli.up().ok
        assert wait_terminal(fc, "j7") == "Failed"
        destroy = cli.destroy()
        assert destroy.ok, destroy.output
        assert state_of(cli).keys() <= {"gates-dev"}
        assert wait_terminal(fc, "j7") == "Failed"  # the task itself is untouched


def test_targeted_up_still_waits_on_every_gate(fc, project, pulumi_bin):
    """The engine runs every read whatever the targets; a gate holds under --target, because a
    targeted resource may depend on it and would otherwise be released ungated."""
    fc.add_function("svc", "fn", outcome="Succeeded", queue_delay=0, duration=4)
    with make_cli(fc, project, pulumi_bin, ids="j8") as cli:
        fc.client().invoke_async("svc", "fn", "{}", invocation_id="j8")
        started = time.monotonic()
        up = cli.up("--target", "urn:pulumi:dev::gates::pulumi-python:dynamic:Resource::other")
        assert up.ok, up.output
        assert "waiting for svc/fn/j8 to finish" in up.output
        assert time.monotonic() - started >= 3.0  # it waited for the task's end
        assert "other" in state_of(cli) and "dep" not in state_of(cli)


def test_skip_wait_switch_reads_without_waiting_or_verdict(fc, project, pulumi_bin):
    fc.add_function("svc", "fn", outcome="Succeeded", queue_delay=0, duration=600)
    fc.add_invocation("svc", "fn", "failed", error_message="boom", timeline=[("Running", 0), ("Failed", 0.1)])
    with make_cli(fc, project, pulumi_bin, env={"FC_INVOCATION_SKIP_WAIT": "1"}, ids="j9,failed") as cli:
        fc.client().invoke_async("svc", "fn", "{}", invocation_id="j9")
        up = cli.up()
        assert up.ok, up.output
        assert up.seconds < 40
        for gate in ("task-0", "task-1"):
            assert any("warning: " in row and "FC_INVOCATION_SKIP_WAIT" in row
                       for row in resource_rows(up.output, gate)), up.output
        state = state_of(cli)
        assert state["task-0"]["outputs"]["status"] == "Running"
        assert state["task-1"]["outputs"]["status"] == "Failed"
        assert "dep" in state


def test_fifty_gates_release_within_one_poll_cap_of_the_last_end(fc, project, pulumi_bin):
    fc.add_function("svc", "fn", outcome="Succeeded", queue_delay=0, duration=3)
    ids = [f"g{i}" for i in range(50)]
    with make_cli(fc, project, pulumi_bin, ids=",".join(ids), timeout=300) as cli:
        client = fc.client()
        for job in ids:
            client.invoke_async("svc", "fn", "{}", invocation_id=job)
        up = cli.up(timeout=300)
        assert up.ok, up.output[-3000:]
        last_end = max(client.get(f"svc/fn/{job}").end_time.timestamp() for job in ids)
        released = cli.outputs()["depCreatedAt"]
        assert last_end <= released <= last_end + 45.0, (released - last_end)


@pytest.mark.parametrize("name", sorted(CASES))
def test_examples_through_pulumi_up(fc, pulumi_bin, name):
    """The examples give through the real CLI the outputs their harness tests assert."""
    case = CASES[name]
    config = case.prepare(fc)
    with PulumiCli(EXAMPLES / name, pulumi=pulumi_bin, env=PROGRESS) as cli:
        cli.config(fc.stack_config(), secret_keys={"alicloud:secretKey"})
        cli.config(config)
        up = cli.up()
        case.check_cli(up, cli)


def test_refresh_after_credentials_rotate_says_it_used_the_stored_copy(fc, project, pulumi_bin):
    """The engine configures a plain refresh from the config stored at the last `up`; an STS token
    that has expired since is refused, and the refresh keeps the state last recorded and says why and
    what to run instead, in one warning (an error of the provider host would be a traceback; issue 27),
    never recording anything with it. `refresh --run-program` uses (and stores) the current config."""
    fc.add_invocation("svc", "fn", "r1", timeline=[("Running", 0), ("Succeeded", 0.1)])
    fc.add_credentials("STS.OldKey", "old-secret", "old-token")
    fc.add_credentials("STS.NewKey", "new-secret", "new-token")
    sts_keys = ("alicloud:accessKey", "alicloud:secretKey", "alicloud:securityToken")
    with PulumiCli(project, pulumi=pulumi_bin, env=PROGRESS) as cli:
        cli.config({k: v for k, v in fc.stack_config().items() if k not in sts_keys})
        cli.config({"alicloud:accessKey": "STS.OldKey", "alicloud:secretKey": "old-secret",
                    "alicloud:securityToken": "old-token", "gates:ids": "r1"}, secret_keys=sts_keys)
        assert cli.up().ok
        fc.add_credentials("STS.OldKey", "old-secret", "old-token", expired=True)  # the token expires...
        cli.config({"alicloud:accessKey": "STS.NewKey", "alicloud:secretKey": "new-secret",
                    "alicloud:securityToken": "new-token"}, secret_keys=sts_keys)  # ...and the config rotates
        before = cli.outputs(show_secrets=True), [r["outputs"] for r in cli.resources() if "task" in r["urn"]]
        refresh = cli.refresh()
        assert refresh.ok and "Traceback" not in refresh.output, refresh.output
        assert "SecurityTokenExpired" in refresh.output and "keeping the state last recorded" in refresh.output
        assert "settings stored in the stack's state" in refresh.output and "`alicloud:securityToken`" in refresh.output
        assert "pulumi refresh --run-program" in refresh.output
        assert "old-token" not in refresh.output and "new-secret" not in refresh.output
        # Kept as recorded (a successful refresh writes the state again: secrets get new ciphertexts).
        after = cli.outputs(show_secrets=True), [r["outputs"] for r in cli.resources() if "task" in r["urn"]]
        def plain(outputs):  # the secret ones (the payload, `__provider`) are encrypted anew
            return [{k: v for k, v in o.items() if not (isinstance(v, dict) and "ciphertext" in v)} for o in outputs]

        assert after[0] == before[0] and plain(after[1]) == plain(before[1])
        rerun = cli.refresh("--run-program")
        assert rerun.ok, rerun.output
        providers = [r for r in cli.resources() if r["type"] == "pulumi:providers:pulumi-python"]
        assert providers and all("ciphertext" in r["inputs"]["alicloud:accessKey"] for r in providers)
        assert cli.refresh().ok  # the stored copy is the new one now


FUNCTION_PROGRAM = '''
import pulumi
from pulumi_fc_invocation import get_stateful_async_invocation_output, get_stateful_async_invocations_output

cfg = pulumi.Config()
wait = cfg.get_bool("wait") if cfg.get("wait") is not None else True
one = get_stateful_async_invocation_output("svc", "fn", cfg.require("ids"), wait_for_completion=wait,
                                           timeout_seconds=120)
batch = get_stateful_async_invocations_output("svc", "fn", invocation_id_prefix="f", wait_for_completion=wait,
                                              timeout_seconds=120)
pulumi.export("status", one.apply(lambda r: r.status))
pulumi.export("batchTotal", batch.apply(lambda r: r.total))
'''


def test_function_forms_in_refresh_and_destroy_with_run_program_neither_wait_nor_fail(fc, project, pulumi_bin):
    (project / "__main__.py").write_text(FUNCTION_PROGRAM)
    fc.add_invocation("svc", "fn", "f1", error_message="boom", timeline=[("Running", 0), ("Failed", 0.1)])
    fc.add_invocation("svc", "fn", "f2", timeline=[("Running", 0)])  # never ends
    with make_cli(fc, project, pulumi_bin, ids="f1", wait="false") as cli:
        assert not cli.up().ok  # f1 failed: the function form's verdict fails the update
        cli.config({"gates:wait": "true"})
        started = time.monotonic()
        refresh = cli.refresh("--run-program")
        assert refresh.ok, refresh.output
        destroy = cli.destroy("--run-program")
        assert destroy.ok, destroy.output
        assert time.monotonic() - started < 60  # f2 never ends: nothing waited for it
