"""End-to-end: the operation a CLI-run program's gates see, through the real CLI (``make engine``).

On Linux the gates read it from the ``pulumi`` process's command line (``/proc``), parsed as the CLI
parses it; ``FC_INVOCATION_OPERATION`` names it where that can't be read, and must agree where it can.
"""

from __future__ import annotations

import pytest

from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli

PROGRAM = '''
import pulumi
from pulumi_fc_invocation import StatefulAsyncInvocation

cfg = pulumi.Config()
gate = StatefulAsyncInvocation("task", service_name="svc", function_name="fn", invocation_id=cfg.require("id"),
                               wait_for_completion=cfg.get_bool("wait") is not False, timeout_seconds=300,
                               max_poll_interval_seconds=1)
pulumi.export("status", gate.status)
'''


@pytest.fixture
def failed_stack(tmp_path, pulumi_bin):
    """A stack whose `up` recorded a Running task without waiting; the task has Failed since and the
    gate now waits (virtual clock: the task ends when the test moves it)."""
    (tmp_path / "Pulumi.yaml").write_text("name: gates\nruntime: python\n")
    with FcEmulator(clock="virtual") as fc, PulumiCli(tmp_path, pulumi=pulumi_bin, program=PROGRAM) as cli:
        fc.add_invocation("svc", "fn", "j1", timeline=[("Running", 0), ("Failed", 10)], error_message="boom")
        cli.config(fc.stack_config(), secret_keys={"alicloud:secretKey"})
        cli.config({"gates:id": "j1", "gates:wait": "false"})
        up = cli.up()
        assert up.ok, up.output
        fc.advance(20)
        cli.config({"gates:wait": "true"})
        yield cli


@pytest.mark.parametrize("argv", [
    ["dn", "--yes", "--skip-preview", "--run-program"],
    ["--tracing-header", "up", "destroy", "--yes", "--skip-preview", "--run-program"],
    ["--tracing-header", "up", "dn", "--yes", "--skip-preview", "--run-program"],
])
def test_destroy_by_any_of_its_names_never_waits_on_a_failed_task(failed_stack, argv):
    """`pulumi dn`, and a hidden valued global flag whose value is `up`: read as `up`, the gate would
    fail the destroy on the Failed task."""
    destroy = failed_stack.run(*argv)
    assert destroy.ok, destroy.output
    assert "svc/fn/j1 ended Failed" not in destroy.output
    assert not [r for r in failed_stack.resources() if r["urn"].endswith("::task")]


def test_a_variable_that_contradicts_the_command_fails_the_gate_and_one_that_agrees_does_not(failed_stack):
    """FC_INVOCATION_OPERATION is for where /proc can't tell; left set, it must not make `up` skip its
    gates. In a destroy it agrees and changes nothing."""
    up = failed_stack.up(env={"FC_INVOCATION_OPERATION": "destroy"})
    assert not up.ok
    assert "invalid FC_INVOCATION_OPERATION 'destroy': the pulumi command running this program is `up`" in up.output
    destroy = failed_stack.destroy("--run-program", env={"FC_INVOCATION_OPERATION": "destroy"})
    assert destroy.ok, destroy.output
