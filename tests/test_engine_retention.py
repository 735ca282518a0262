"""FC forgets, through the real Pulumi CLI (``make engine``): what the engine gives a read decides what
a gate can do once FC has forgotten its task. The emulator's clock is virtual: the task has ended
when the stack is deployed, and a week passes between two commands without anyone waiting."""

from __future__ import annotations

from _engine import make_cli, state_of

from pulumi_fc_invocation.testing import FcEmulator

WEEK = 7 * 24 * 3600.0


def test_a_stack_whose_task_fc_has_forgotten(project, pulumi_bin):
    with FcEmulator(clock="virtual") as fc:
        fc.add_invocation("svc", "fn", "gone-1", timeline=[("Running", 0), ("Succeeded", 5)], return_payload="ok")
        fc.advance(10)
        with make_cli(fc, project, pulumi_bin, ids="gone-1") as cli:
            up = cli.up()
            assert up.ok, up.output
            recorded = state_of(cli)["task-0"]["outputs"]
            assert recorded["status"] == "Succeeded"
            fc.advance(WEEK)
            # `up` (and its preview) gets no prior state to the read: the gate fails, and says why and what to do.
            for result in (cli.preview(), cli.up()):
                assert not result.ok
                assert "invocation not found: service 'svc', qualifier '(none)', function 'fn', invocation id " \
                       "'gone-1'" in result.output, result.output
                assert "FC keeps an async task's record for 7 days after it starts" in result.output
                assert "remove this gate from the program" in result.output
            # `refresh` gives the read the state last recorded: it is kept, and the refresh succeeds.
            refresh = cli.refresh()
            assert refresh.ok, refresh.output
            assert "keeping the state last recorded for invocation" in refresh.output, refresh.output  # and says so
            assert state_of(cli)["task-0"]["outputs"]["status"] == "Succeeded"
            assert state_of(cli)["task-0"]["outputs"]["end_time"] == recorded["end_time"]
            # `refresh --run-program` runs the program, whose read gets no prior state: it cannot keep it.
            refresh = cli.refresh("--run-program")
            assert not refresh.ok and "remove this gate from the program" in refresh.output, refresh.output
            assert state_of(cli)["task-0"]["outputs"]["status"] == "Succeeded"
            # Tearing the stack down is never blocked by it, running the program or not.
            destroy = cli.destroy("--run-program")
            assert destroy.ok, destroy.output
            assert "task-0" not in state_of(cli)


def test_a_plain_destroy_of_a_stack_whose_task_fc_has_forgotten(project, pulumi_bin):
    with FcEmulator(clock="virtual") as fc:
        fc.add_invocation("svc", "fn", "gone-2", timeline=[("Succeeded", 0)])
        with make_cli(fc, project, pulumi_bin, ids="gone-2") as cli:
            assert cli.up().ok
            fc.advance(WEEK)
            destroy = cli.destroy()
            assert destroy.ok, destroy.output
            assert "task-0" not in state_of(cli)
