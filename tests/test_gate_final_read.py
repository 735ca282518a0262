"""The read at a gate's deadline: a short budget of its own, and none when the reads since the last good
one were credential fetches cut by the deadline (review of issue 24, item 1: with STS hung, a 5 s gate
ended at about 10 s, its read at the deadline hanging 5 s more on the same STS).

A gate (the data sources through the harness, the real clock: the defect is real time spent in a fetch)
whose credentials come from AssumeRoleWithOIDC at a stand-in STS that never answers (from the first read,
or after issuing one short-lived key); the reported time waited is read from the gate's error."""

from __future__ import annotations

import re

import pytest

from _sts import run_gate_with_sts, short_lived_sts, stalling

from pulumi_fc_invocation import AsyncTask, get_async_task_output, get_stateful_async_invocation, \
    get_stateful_async_invocation_output
from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.waiter import WaitPolicy

TIMEOUT = 5  # the gates' timeout_seconds (run_gate_with_sts)
FINAL_READ_BUDGET = 1.0  # min(5, max(1, 0.1 x TIMEOUT))


def waited_in(text: str) -> int:
    """The seconds a gate's error says it waited ("... after 5s ...")."""
    found = re.findall(r"after (\d+)s\b", text)
    assert found, text
    return int(found[0])


def test_the_read_at_the_deadline_has_a_budget_in_proportion_to_a_short_timeout():
    assert WaitPolicy(timeout=5).deadline_read_budget == 1.0
    assert WaitPolicy(timeout=30).deadline_read_budget == 3.0
    assert WaitPolicy(timeout=1800).deadline_read_budget == 5.0
    assert WaitPolicy(timeout=None).deadline_read_budget == 5.0
    assert WaitPolicy(timeout=5, final_read_budget=2.0).deadline_read_budget == 2.0


def test_a_gate_whose_sts_stops_answering_ends_by_its_timeout_plus_the_final_read_budget(tmp_path):
    """One key, then STS hangs: the reads' fetches are cut at the deadline and the gate makes no read at the
    deadline to hang on the same STS (before: about 10 s on a 5 s timeout)."""
    with FcEmulator(clock="real") as fc:
        fc.add_invocation("svc", "fn", "run-1", timeline=[("Running", 0)])
        with short_lived_sts(fc) as sts:
            text = run_gate_with_sts(fc, sts.endpoint, tmp_path / "oidc-token", "run-1")
    assert "last status Running" in text and f"STS at {sts.endpoint}" in text, text
    assert waited_in(text) <= TIMEOUT + FINAL_READ_BUDGET, text


def test_a_gate_whose_sts_never_answers_ends_by_its_timeout(tmp_path):
    with FcEmulator(clock="real") as fc, stalling() as sts:
        fc.add_invocation("svc", "fn", "job-1", timeline=[("Running", 0)])
        text = run_gate_with_sts(fc, sts.endpoint, tmp_path / "oidc-token", "job-1")
    assert f"STS at {sts.endpoint}" in text, text
    assert waited_in(text) <= TIMEOUT + FINAL_READ_BUDGET, text


def _gate_props(**extra):
    return {"wait_for_completion": True, "timeout_seconds": 600, "waited_seconds": 30.0, "fail_on_statuses": None,
            **extra}


def test_the_final_read_retries_a_transient_error_within_the_gates_budget(fc):
    from pulumi_fc_invocation.errors import InvalidResponseError
    from pulumi_fc_invocation.fc2 import InvocationRef
    from pulumi_fc_invocation.gate.verdict import read_and_check
    from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock
    from pulumi_fc_invocation.waiter import use_clock

    fc.add_invocation("final", "fn", "f-1", timeline=[("Succeeded", 0)])
    ref, client = InvocationRef.parse("final/fn/f-1"), fc.client()
    fc.inject_fault(route="get", status=200, body="<html>proxy</html>", content_type="text/html", times=1)
    with use_clock(AutoAdvanceClock(fc.clock)):
        assert read_and_check(client, ref, _gate_props()).succeeded
        fc.inject_fault(route="get", status=200, body="<html>proxy</html>", content_type="text/html", times=1)
        with pytest.raises(InvalidResponseError):  # no budget left: the error is final
            read_and_check(client, ref, _gate_props(waited_seconds=600.0))
    fc.clear_faults()


def test_a_task_run_again_after_it_ended_is_not_reported_as_an_api_error(fc):
    from pulumi_fc_invocation.errors import WaitTimeoutError
    from pulumi_fc_invocation.fc2 import InvocationRef
    from pulumi_fc_invocation.gate.verdict import read_and_check

    fc.add_invocation("flip", "fn", "fl-1", timeline=[("Running", 0), ("Failed", 5), ("Running", 6)])
    fc.advance(7)
    with pytest.raises(WaitTimeoutError) as info:
        read_and_check(fc.client(), InvocationRef.parse("flip/fn/fl-1"), _gate_props(waited_seconds=5.5))
    text = str(info.value)
    assert "an API error" not in text and "is Running again after ending Failed" in text


def timeout_line(text: str, sts_endpoint: str) -> str:
    """The gate's timeout message in a deployment's error, its STS address and its time left made alike."""
    found = re.findall(r"timed out waiting for [^\n]*", text)
    assert found, text
    return re.sub(r"within the [\d.]+ s left", "within the N s left", found[0].replace(sts_endpoint, "STS"))


@pytest.mark.parametrize("form", [get_stateful_async_invocation, get_stateful_async_invocation_output])
def test_a_function_form_whose_reads_stopped_on_a_hung_sts_says_so_as_the_data_source_does(tmp_path, form):
    """The function forms judged a wait by the seconds waited alone: a wait its cut credential fetches ended
    made one more read, which hung on STS 30 s more and failed with STS's error, not the gate's timeout."""
    lines = []
    for name, gate in (("data-source", None), ("function-form", form)):
        with FcEmulator(clock="real") as fc:
            fc.add_invocation("svc", "fn", "run-1", timeline=[("Running", 0)])
            with short_lived_sts(fc) as sts:
                text = run_gate_with_sts(fc, sts.endpoint, tmp_path / f"oidc-token-{name}", "run-1", form=gate)
        lines.append(timeout_line(text, sts.endpoint))
        assert waited_in(lines[-1]) <= TIMEOUT + FINAL_READ_BUDGET, text
    data_source, function_form = lines
    assert "last status Running" in data_source and "the reads since failed: AssumeRoleWithOIDC" in data_source
    assert function_form == data_source


def _fc3(gate):
    """``gate`` (FC 3.0's data source or a function form) called as run_gate_with_sts calls an FC 2.0 one."""
    def call(service_name, function_name, invocation_id, **inputs):
        return gate(function_name=function_name, task_id=invocation_id, **inputs)

    return call


@pytest.mark.parametrize("api, data_source, form", [
    ("fc2", None, get_stateful_async_invocation),
    ("fc3", _fc3(lambda **args: AsyncTask("gate", **args)), _fc3(get_async_task_output)),
], ids=["fc2-blocking", "fc3-output"])
def test_a_function_form_whose_sts_never_answered_says_what_the_data_source_says(tmp_path, api, data_source, form):
    """No read ever answered (STS hangs from the first fetch): the function forms read once more at the end,
    which hung on the same STS for 3 attempts (about 7x the timeout) and failed with STS's error and a
    traceback; now they fail as the data source does, with its message and no more STS requests."""
    lines, asked = [], []
    for name, gate in (("data-source", data_source), ("function-form", form)):
        with FcEmulator(clock="real") as fc, stalling() as sts:
            fc.add_invocation("svc" if api == "fc2" else None, "fn", "run-1", timeline=[("Running", 0)])
            text = run_gate_with_sts(fc, sts.endpoint, tmp_path / f"oidc-token-{name}", "run-1", form=gate)
            asked.append(len(sts.seen))
        lines.append(timeout_line(text, sts.endpoint))
        assert "last status unknown (no successful read)" in lines[-1], text
        assert waited_in(lines[-1]) <= TIMEOUT + FINAL_READ_BUDGET, text
        assert "(after 3 attempts)" not in text, text
    data_source_line, function_form_line = lines
    assert function_form_line == data_source_line
    assert asked[1] == asked[0], asked  # no second round of STS requests after the wait
