"""A refresh keeps the state last recorded only for an item FC has forgotten (issue 24, item 10).

A 404 that names the task or invocation (FC keeps a task 7 days) keeps the recorded state, with a
warning that says so. A 404 that names the function, service, alias or version (deleted, or the
region or account changed) is no retention matter: the refresh fails with FC's code, not silently
keeping stale state. The dynamic provider host (what `pulumi refresh` sends it) and the plugin over
gRPC; the real CLI shows the warning (tests/test_engine_retention.py).
"""

from __future__ import annotations

import grpc
import pytest
from pulumi.runtime.proto import engine_pb2, provider_pb2

from pulumi_fc_invocation import AsyncTask, StatefulAsyncInvocation
from pulumi_fc_invocation.testing.harness import ProviderHost, run_program
from _plugin_rpc import URN_TASK, configured, struct
from test_retention import CLEAN_ENV, SECRET_KEYS, WEEK, refreshed

URN_INVOCATION = "urn:pulumi:dev::proj::fc-invocation:index:StatefulAsyncInvocation::gone"


def _recorded(fc, api, host):
    if api == "fc2":
        fc.add_invocation("keep", "job", "k-1", timeline=[("Succeeded", 0)])
        declare = lambda: StatefulAsyncInvocation("gate", service_name="keep", function_name="job",  # noqa: E731
                                                  invocation_id="k-1")
    else:
        fc.add_invocation(None, "keep", "k-3", timeline=[("Succeeded", 0)])
        declare = lambda: AsyncTask("gate", function_name="keep", task_id="k-3")  # noqa: E731
    return run_program(declare, config=fc.stack_config(), secret_keys=SECRET_KEYS, host=host).resource("gate")


@pytest.mark.parametrize("api,gone,code", [("fc3", "gone-fn/k-3", "FunctionNotFound"),
                                           ("fc2", "gone-svc/job/k-1", "ServiceNotFound"),
                                           ("fc2", "keep/gone-fn/k-1", "FunctionNotFound")])
def test_a_refresh_whose_function_is_gone_fails_naming_it(fc_emulator, api, gone, code):
    fc = fc_emulator
    with ProviderHost(env=CLEAN_ENV) as host:
        host.configure(fc.stack_config(), secret_keys=SECRET_KEYS)
        rec = _recorded(fc, api, host)
        rec.id = gone  # the state names a function FC no longer has
        with pytest.raises(grpc.RpcError) as info:
            refreshed(host, rec)
    text = info.value.details()
    assert code in text and "7 days" not in text, text


@pytest.mark.parametrize("api", ["fc2", "fc3"])
def test_a_refresh_of_a_forgotten_item_keeps_the_state_and_warns(fc_emulator, api):
    fc = fc_emulator
    with ProviderHost(env=CLEAN_ENV) as host:
        host.configure(fc.stack_config(), secret_keys=SECRET_KEYS)
        rec = _recorded(fc, api, host)
        fc.advance(WEEK)
        id_, outs = refreshed(host, rec)
        assert id_ == rec.id and outs == {**rec.outputs, "__provider": rec.provider_blob}
        stderr = host.stderr_text()
    noun = "invocation" if api == "fc2" else "task"
    assert "warning: " in stderr and f"keeping the state last recorded for {noun}" in stderr, stderr
    assert "FC keeps an async task's record for 7 days" in stderr, stderr


def test_the_plugins_refresh_fails_when_the_function_is_gone_and_warns_when_the_task_is(plugin, engine,
                                                                                      fc_emulator):
    fc = fc_emulator
    configured(plugin, fc)
    fc.add_invocation(None, "keep", "p-1", timeline=[("Succeeded", 0)])
    inputs = struct({"functionName": "keep", "taskId": "p-1"})
    created = plugin.Create(provider_pb2.CreateRequest(urn=URN_TASK, properties=inputs))
    gone = struct({"functionName": "gone-fn", "taskId": "p-1"})
    with pytest.raises(grpc.RpcError) as info:
        plugin.Read(provider_pb2.ReadRequest(id="gone-fn/p-1", urn=URN_TASK, properties=created.properties,
                                             inputs=gone))
    assert "FunctionNotFound" in info.value.details() and "7 days" not in info.value.details()
    invocation = struct({"serviceName": "gone-svc", "functionName": "job", "invocationId": "i-1"})
    with pytest.raises(grpc.RpcError) as info:
        plugin.Read(provider_pb2.ReadRequest(id="gone-svc/job/i-1", urn=URN_INVOCATION,
                                             properties=struct({"status": "Succeeded"}), inputs=invocation))
    assert "ServiceNotFound" in info.value.details(), info.value.details()
    # The task itself forgotten: the state stays, and the engine is told why.
    fc.advance(WEEK)
    before = len(engine.logs)
    read = plugin.Read(provider_pb2.ReadRequest(id=created.id, urn=URN_TASK, properties=created.properties,
                                                inputs=inputs))
    assert read.properties == created.properties
    warnings = [log for log in engine.logs[before:] if log.urn == URN_TASK and log.severity == engine_pb2.WARNING]
    assert warnings and "keeping the state last recorded for task" in warnings[0].message, engine.logs[before:]
    assert "FC keeps an async task's record for 7 days" in warnings[0].message

