"""Defects from review (issue 18), each reproduced through the harness, the emulator and virtual time."""

import pulumi
import pytest

from pulumi_fc_invocation import StatefulAsyncInvocation, get_stateful_async_invocation_output
from pulumi_fc_invocation import StatefulAsyncInvocations, get_stateful_async_invocations_output
from pulumi_fc_invocation.testing.harness import ProgramError

HIDDEN = "hidden-job-7Q"


def _everything(result):
    texts = [repr(result.outputs)] + [log.message for log in result.logs]
    for rec in result.resources:
        texts += [repr(rec.id), repr(rec.outputs), repr(rec.inputs)]
    return "\n".join(texts)


# --- 1: secret inputs ---------------------------------------------------------------------------------


def test_a_secret_invocation_id_reads_waits_and_stays_secret(fc, run):
    fc.add_invocation("secsvc", "fn", HIDDEN, timeline=[("Running", 0), ("Succeeded", 20)])

    def program():
        inv = StatefulAsyncInvocation("inv", service_name="secsvc", function_name="fn",
                                      invocation_id=pulumi.Output.secret(HIDDEN), wait_for_completion=True)
        pulumi.export("status", inv.status)
        pulumi.export("invocationId", inv.invocation_id)
        res = get_stateful_async_invocation_output("secsvc", "fn", inv.invocation_id)  # read after the gate
        pulumi.export("fnStatus", res.status)
        pulumi.export("fnInvocationId", res.invocation_id)

    result = run(program)
    rec = result.resource("inv")
    assert rec.outputs["status"] == "Succeeded" and result.outputs["fnStatus"] == "Succeeded"
    assert rec.outputs["invocation_id"] == HIDDEN and "invocation_id" in rec.secret_outputs
    assert {"invocationId", "fnInvocationId"} <= result.secret_outputs
    assert "status" not in rec.secret_outputs  # only what came from the secret is secret
    assert rec.id == "secsvc/fn/[secret]"
    assert HIDDEN not in rec.id and not any(HIDDEN in log.message for log in result.logs)
    assert any("waiting for secsvc/fn/[secret]" in log.message for log in result.logs)


def test_a_secret_invocation_id_never_reaches_an_error_message(fc, run):
    fc.add_invocation("secsvc", "fn", HIDDEN + "-bad", error_message="boom", timeline=[("Failed", 0)])

    def failed():
        StatefulAsyncInvocation("inv", service_name="secsvc", function_name="fn",
                                invocation_id=pulumi.Output.secret(HIDDEN + "-bad"), wait_for_completion=True)

    def missing():
        StatefulAsyncInvocation("inv", service_name="secsvc", function_name="fn",
                                invocation_id=pulumi.Output.secret(HIDDEN + "-gone"))

    with pytest.raises(ProgramError) as bad:
        run(failed)
    assert "invocation secsvc/fn/[secret] ended Failed: boom" in bad.value.message
    with pytest.raises(ProgramError) as gone:
        run(missing)
    assert "invocation id '[secret]'" in gone.value.message and "StatefulAsyncInvocationNotFound" in gone.value.message
    for info in (bad, gone):
        assert HIDDEN not in info.value.message and HIDDEN not in _everything(info.value.result)


def test_a_secret_service_name_on_the_batch_reads_and_stays_secret(fc, run):
    for i in range(3):
        fc.add_invocation("secbatch", "fn", f"sb-{i}", timeline=[("Running", 0), ("Succeeded", 5 + i)])

    def program():
        batch = StatefulAsyncInvocations("batch", pulumi.Output.secret("secbatch"), "fn", invocation_id_prefix="sb-",
                                         wait_for_completion=True, expected_count=3)
        pulumi.export("total", batch.total)
        pulumi.export("ids", batch.ids)
        res = get_stateful_async_invocations_output(pulumi.Output.secret("secbatch"), "fn", invocation_id_prefix="sb-")
        pulumi.export("fnTotal", res.total)

    result = run(program)
    rec = result.resource("batch")
    assert rec.outputs["total"] == 3 and result.outputs["fnTotal"] == 3
    assert rec.id == "[secret]/fn?prefix=sb-"
    assert {"service_name", "ids", "invocations"} <= rec.secret_outputs and "ids" in result.secret_outputs
    assert "total" not in rec.secret_outputs
    assert not any("secbatch" in log.message for log in result.logs)
    assert any("batch [secret]/fn prefix sb-" in log.message for log in result.logs)


def test_a_refresh_of_a_read_with_a_masked_id_reads_the_secret_from_the_prior_outputs(fc, run, host):
    import asyncio

    import grpc
    from pulumi.runtime import rpc
    from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

    fc.add_invocation("secsvc", "fn", HIDDEN + "-r", timeline=[("Running", 0), ("Failed", 600)], error_message="x")

    def program():
        StatefulAsyncInvocation("inv", service_name="secsvc", function_name="fn",
                                invocation_id=pulumi.Output.secret(HIDDEN + "-r"))

    rec = run(program).resource("inv")
    fc.advance(700)
    prior = dict(rec.outputs, __provider=rec.provider_blob)
    stub = provider_pb2_grpc.ResourceProviderStub(grpc.insecure_channel(f"127.0.0.1:{host.port}"))
    response = stub.Read(provider_pb2.ReadRequest(id=rec.id, urn=rec.urn,
                                                  properties=asyncio.run(rpc.serialize_properties(prior, {}))))
    assert response.id == "secsvc/fn/[secret]"
    assert rpc.deserialize_properties(response.properties)["status"] == "Failed"


def test_a_failed_member_of_a_batch_with_a_secret_prefix_is_reported_masked(fc, run):
    fc.add_invocation("secbatch", "fn", "hush-0", error_message="boom", timeline=[("Failed", 0)])

    def program():
        StatefulAsyncInvocations("batch", "secbatch", "fn", invocation_id_prefix=pulumi.Output.secret("hush-"),
                                 wait_for_completion=True)

    with pytest.raises(ProgramError) as info:
        run(program)
    assert "secbatch/fn/[secret]0 ended Failed: boom" in info.value.message
    assert "hush-" not in info.value.message and "hush-" not in _everything(info.value.result)


# --- 3: a late member that started earlier --------------------------------------------------------------


def test_a_late_batch_member_with_an_earlier_start_time_is_seen(fc):
    from pulumi_fc_invocation.gate.batch import BatchTracker
    from pulumi_fc_invocation.gate.spec import BatchSpec

    now = fc.clock.now()
    for i in range(4):  # four members, all ended, started one second apart
        fc.add_invocation("late", "fn", f"lm-{i}", started_at=now - 10 + i, timeline=[("Succeeded", 1)])
    spec = BatchSpec.build(service_name="late", function_name="fn", invocation_id_prefix="lm-",
                           wait_for_completion=True, expected_count=5)
    tracker = BatchTracker(fc.client(), spec)
    assert tracker.poll().total == 4 and tracker.poll().total == 4
    # FC lists the fifth only now, though it started half a second before the newest known member.
    fc.add_invocation("late", "fn", "lm-4", started_at=now - 10 + 3 - 0.5, timeline=[("Succeeded", 1)])
    summary = tracker.poll()
    assert summary.total == 5 and summary.complete


# --- 4 and smaller items: the gate's reads -------------------------------------------------------------


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


def test_the_function_form_id_is_the_resources(fc, run):
    fc.add_invocation("idsvc", "fn", "job-1", timeline=[("Succeeded", 0)])

    def program():
        inv = StatefulAsyncInvocation("inv", service_name="idsvc", function_name="fn", invocation_id="job-1")
        res = get_stateful_async_invocation_output("idsvc", "fn", "job-1")
        pulumi.export("fnId", res.id)
        pulumi.export("fnQualifier", res.qualifier)
        pulumi.export("id", inv.id)

    result = run(program)
    assert result.outputs["fnId"] == result.outputs["id"] == "idsvc/fn/job-1"
    assert result.outputs["fnQualifier"] == "LATEST"  # FC's echo stays in the outputs


# --- 9: the client cache ------------------------------------------------------------------------------


def test_the_client_cache_is_bounded_and_closes_what_it_evicts(fc):
    import os

    from pulumi_fc_invocation.gate import clients as provider

    def open_fds():
        return len(os.listdir("/proc/self/fd"))

    fc.add_invocation("cache", "fn", "c-1", timeline=[("Succeeded", 0)])
    before = open_fds()
    clients = []
    for i in range(50):  # fifty rotated STS tokens
        fc.add_credentials(f"LTAIrotatingKey{i}", "rotating-secret", f"CAIS-token-{i}")
        client = provider.client_for({"alicloud:accessKey": f"LTAIrotatingKey{i}", "alicloud:secretKey": "rotating-secret",
                                      "alicloud:securityToken": f"CAIS-token-{i}", "alicloud:accountId": fc.account_id,
                                      "fc-invocation:endpoint": fc.endpoint})
        assert client.get("cache/fn/c-1").succeeded
        clients.append(client)
    assert len(provider._clients) <= provider.MAX_CACHED_CLIENTS
    # Both ends of each kept connection live in this process (the emulator is in-process): 2 per client.
    assert open_fds() - before <= 2 * provider.MAX_CACHED_CLIENTS + 6
    assert clients[0].get("cache/fn/c-1").succeeded  # an evicted client still in use keeps working


# --- AutoAdvanceClock -----------------------------------------------------------------------------------


def test_a_cancelled_sleep_leaves_no_stale_sleeper_that_moves_time_early():
    import asyncio

    from pulumi_fc_invocation.testing.clock import VirtualClock
    from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock

    clock = AutoAdvanceClock(VirtualClock(start=1_000))

    async def main():
        with clock.participant(), clock.participant():  # two waiters: A (below) and B (busy, not asleep)
            first = asyncio.ensure_future(clock.asleep(10))
            await asyncio.sleep(0)
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first
            second = asyncio.ensure_future(clock.asleep(100))  # A sleeps again; B is still busy
            await asyncio.sleep(0)
            assert clock.now() == 1_000  # nobody may jump time while B works
            second.cancel()
            with pytest.raises(asyncio.CancelledError):
                await second

    asyncio.run(main())
    assert clock.wakeups == 0 and clock.now() == 1_000


# --- the break-glass switch ------------------------------------------------------------------------------


def test_the_skip_switch_reads_never_waits_gives_no_verdict_and_warns_against_each_gate(fc, run, monkeypatch):
    fc.add_invocation("glass", "fn", "long-1", timeline=[("Running", 0), ("Succeeded", 3600)])
    fc.add_invocation("glass", "fn", "dead-1", error_message="boom", timeline=[("Failed", 0)])
    fc.add_invocation("glass", "fn", "b-dead", error_message="boom", timeline=[("Failed", 0)])
    monkeypatch.setenv("FC_INVOCATION_SKIP_WAIT", "1")
    start = fc.clock.now()

    def program():
        long = StatefulAsyncInvocation("long", service_name="glass", function_name="fn", invocation_id="long-1",
                                       wait_for_completion=True)
        dead = StatefulAsyncInvocation("dead", service_name="glass", function_name="fn", invocation_id="dead-1",
                                       wait_for_completion=True)
        batch = StatefulAsyncInvocations("batch", "glass", "fn", invocation_id_prefix="b-", wait_for_completion=True)
        pulumi.CustomResource("test:index:App", "app", {"v": 1}, opts=pulumi.ResourceOptions(depends_on=[long, dead, batch]))
        pulumi.export("statuses", pulumi.Output.all(long.status, dead.status, batch.counts["Failed"]))

    result = run(program)
    assert result.outputs["statuses"] == ["Running", "Failed", 1] and result.resource("app")
    assert fc.clock.now() == start  # nobody waited
    warnings = {log.urn: log.message for log in result.logs if log.severity == "warning"}
    for name in ("long", "dead", "batch"):
        assert "FC_INVOCATION_SKIP_WAIT is set: not waiting" in warnings[result.resource(name).urn]
    monkeypatch.delenv("FC_INVOCATION_SKIP_WAIT")
    with pytest.raises(ProgramError, match="ended Failed: boom"):  # without the switch, the same program fails
        run(program)


def test_the_skip_switch_covers_the_function_forms(fc, run, monkeypatch):
    """The function forms (single and batch) read and give no verdict either."""
    fc.add_invocation("glassf", "fn", "x-dead", error_message="boom", timeline=[("Failed", 0)])
    fc.add_invocation("glassf", "fn", "x-long", timeline=[("Running", 0), ("Succeeded", 3600)])
    monkeypatch.setenv("FC_INVOCATION_SKIP_WAIT", "1")
    start = fc.clock.now()

    def program():
        one = get_stateful_async_invocation_output("glassf", "fn", "x-dead", wait_for_completion=True)
        batch = get_stateful_async_invocations_output("glassf", "fn", invocation_id_prefix="x-",
                                                      wait_for_completion=True)
        pulumi.export("one", one.apply(lambda r: r.status))
        pulumi.export("failed", batch.apply(lambda r: r.counts.get("Failed")))

    result = run(program)
    assert result.outputs == {"one": "Failed", "failed": 1} and fc.clock.now() == start
    monkeypatch.delenv("FC_INVOCATION_SKIP_WAIT")
    with pytest.raises(ProgramError, match="ended Failed: boom"):
        run(program)
