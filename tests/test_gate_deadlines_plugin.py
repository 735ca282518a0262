"""Issue 24 items 1 and 2 over gRPC: the plugin's gate (a subprocess, on the real clock, as the engine runs
it) reads once more at its deadline, after a slow read or a slow history list used up its time. The
emulator runs on the real clock here; its ``latency`` fault is the slow network (about 2 s per test)."""

from __future__ import annotations

from pulumi.runtime.proto import provider_pb2

from _plugin_rpc import URN_TASK, struct

EMULATOR_CLOCK = "real"  # the conftest's fc: the plugin process waits on its own clock


def create(ready, function, task_id, timeout):
    created = ready.Create(provider_pb2.CreateRequest(urn=URN_TASK, properties=struct(
        {"functionName": function, "taskId": task_id, "waitForCompletion": True, "timeoutSeconds": timeout})))
    return dict(created.properties.items())


def test_the_plugin_gate_reads_at_its_deadline_after_a_slow_read(ready, fc):
    fc.add_invocation(None, "pdeadline", "late", timeline=[("Running", 0), ("Succeeded", 1.5)])
    fc.inject_fault("get", extra_fields={"unrelated": 1}, match="late", times=1)  # the first read: at once
    fc.inject_fault("get", latency=4, match="late", times=1)  # the second: past the gate's timeout
    try:
        outs = create(ready, "pdeadline", "late", 2)
    finally:
        fc.clear_faults()
    assert outs["status"] == "Succeeded" and outs["waitedSeconds"] >= 2


def test_the_plugin_gate_reads_at_its_deadline_after_a_slow_history_list(ready, fc):
    fc.add_invocation(None, "pslowlist", "late", timeline=[("Running", 0), ("Succeeded", 1.5)])
    fc.reset_requests()
    fc.inject_fault("list", latency=6, times=1)  # the duration history's list call
    try:
        outs = create(ready, "pslowlist", "late", 2)
    finally:
        fc.clear_faults()
    assert outs["status"] == "Succeeded" and outs["waitedSeconds"] < 6
    assert [r.query.get("status") for r in fc.requests if r.route == "list"] == ["Succeeded"]


def test_the_plugin_gate_takes_use_duration_history(ready, fc):
    fc.add_invocation(None, "pnohistory", "job", timeline=[("Running", 0), ("Succeeded", 1)])
    fc.reset_requests()
    created = ready.Create(provider_pb2.CreateRequest(urn=URN_TASK, properties=struct(
        {"functionName": "pnohistory", "taskId": "job", "waitForCompletion": True, "timeoutSeconds": 30,
         "useDurationHistory": False})))
    outs = dict(created.properties.items())
    assert outs["status"] == "Succeeded" and outs["useDurationHistory"] is False
    assert fc.request_count("list") == 0  # the default schedule: no history list call
