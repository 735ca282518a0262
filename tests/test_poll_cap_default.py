"""``max_poll_interval_seconds`` left unset is not 45 (review of issue 24, item 4).

Unset, the default schedule backs off to 45 s and the duration-aware one may poll sparser; given, even 45,
it is a ceiling no delay exceeds. The gates echoed 45 for an unset cap, in their outputs and in state, so
a read from state (a refresh, the plugin's update of a batch) took 45 as a cap the user never set; and
``fc-invocation wait --help`` said ``[default: 45s]``. Through the harness, the public spec round trip,
and the CLI in this process.
"""

from __future__ import annotations

import pulumi
import pytest

from pulumi_fc_invocation import AsyncTask, AsyncTasks
from pulumi_fc_invocation.gate.spec import BatchSpec
from pulumi_fc_invocation.kinds import FC3
from pulumi_fc_invocation.gate.messages import format_duration
from pulumi_fc_invocation.waiter import DEFAULT_MAX_POLL_INTERVAL

pytestmark = pytest.mark.usefixtures("fresh")  # each test: histories read afresh, no fault left, no request logged


def test_a_gate_echoes_an_unset_cap_as_unset_and_a_given_one_as_given(fc, run):
    fc.add_invocation(None, "capecho", "t-1", timeline=[("Succeeded", 0)])

    def program():
        for name, cap in (("unset", None), ("given", 45)):
            single = AsyncTask(f"one-{name}", function_name="capecho", task_id="t-1", wait_for_completion=True,
                               max_poll_interval_seconds=cap)
            batch = AsyncTasks(f"all-{name}", "capecho", task_id_prefix="t-", wait_for_completion=True,
                               max_poll_interval_seconds=cap)
            pulumi.export(f"one-{name}", single.max_poll_interval_seconds)
            pulumi.export(f"all-{name}", batch.max_poll_interval_seconds)

    outputs = run(program).outputs
    assert outputs.get("one-unset") is None and outputs.get("all-unset") is None, outputs  # None: not exported
    assert outputs["one-given"] == 45 and outputs["all-given"] == 45, outputs


def test_a_batch_read_from_state_keeps_an_unset_cap_unset():
    spec = BatchSpec.build(kind=FC3, function_name="fn", task_id_prefix="t-", wait_for_completion=True)
    again = BatchSpec.from_props(spec.id, spec.props(), kind=FC3)
    assert spec.policy.cap is None and again.policy.cap is None
    assert again.policy.max_delay == DEFAULT_MAX_POLL_INTERVAL
    given = BatchSpec.build(kind=FC3, function_name="fn", task_id_prefix="t-", max_poll_interval_seconds=45)
    assert BatchSpec.from_props(given.id, given.props(), kind=FC3).policy.cap == 45


def test_the_cli_help_shows_the_real_default_of_max_poll_interval(cli):  # noqa: F811
    for command in ("wait", "wait-batch"):
        code, out, err = cli(command, "--help")
        assert code == 0, err
        text = " ".join(out.split())
        assert "[default: 45s]" not in text, text
        assert f"up to {format_duration(DEFAULT_MAX_POLL_INTERVAL)}" in text, text
        assert "[default: unset]" in text, text
