"""The provider plugin driven over gRPC with the SDK's own stubs: the real plugin process
(``python -m pulumi_fc_invocation.plugin``), a stand-in engine that records its Log calls, and the
emulator on a real clock with tasks of a second or two."""

from __future__ import annotations

import threading
import time

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, provider_pb2

from pulumi_fc_invocation.plugin.provider import UNKNOWN
from _clocks import until
from _plugin_rpc import ROOT, SECRET_SIG, URN_TASK, URN_TASKS, configured, secret, started, struct


EMULATOR_CLOCK = "real"  # the conftest's fc: the plugin process waits for tasks of a second or two on its own clock


def test_get_schema_is_schema_json(plugin):
    schema = plugin.GetSchema(provider_pb2.GetSchemaRequest(version=0)).schema
    assert schema == (ROOT / "schema.json").read_text()
    assert plugin.GetPluginInfo(empty_pb2.Empty()).version


def test_check_config_names_an_unknown_setting(plugin):
    checked = plugin.CheckConfig(provider_pb2.CheckRequest(news=struct({"regoin": "cn-hangzhou"})))
    assert [f.property for f in checked.failures] == ["regoin"]
    assert "region" in checked.failures[0].reason


def test_invoke_reads_a_task_now_and_marks_payloads_secret(ready, fc):
    fc.add_function(None, "quick", outcome="Succeeded", queue_delay=0, duration=0.2, return_payload='{"ok": 1}')
    fc.client().invoke_async_task("quick", '{"in": 1}', task_id="inv1")
    # read at once, as it is (running or done): a function never waits
    out = ready.Invoke(provider_pb2.InvokeRequest(tok="fc-invocation:index:getAsyncTask",
                                                  args=struct({"functionName": "quick", "taskId": "inv1"})))
    values = dict(getattr(out, "return").items())
    assert values["id"] == "quick/inv1" and values["taskId"] == "inv1"
    assert values["status"] in ("Enqueued", "Running", "Succeeded")
    assert values["taskPayload"][SECRET_SIG]  # a secret, wrapped
    assert "waitForCompletion" not in values


def test_invoke_of_a_failed_task_fails_with_the_verdict_alone(ready, fc):
    fc.add_function(None, "bad", outcome="Failed", queue_delay=0, duration=0, error_message="UnhandledException: no disk")
    client = fc.client()
    client.invoke_async_task("bad", "{}", task_id="f1")
    assert client.get_async_task("bad", "f1").is_terminal  # no queue, no duration: it ended as it started
    with pytest.raises(grpc.RpcError) as caught:
        ready.Invoke(provider_pb2.InvokeRequest(tok="fc-invocation:index:getAsyncTask",
                                                args=struct({"functionName": "bad", "taskId": "f1"})))
    message = caught.value.details()
    assert "bad/f1 ended Failed: UnhandledException: no disk" in message
    assert "Traceback" not in message and "Unexpected" not in message and 'File "' not in message


def test_invoke_refuses_wait_and_bad_ids_before_any_request(ready, fc):
    with pytest.raises(grpc.RpcError) as caught:
        ready.Invoke(provider_pb2.InvokeRequest(tok="fc-invocation:index:getAsyncTask", args=struct(
            {"functionName": "quick", "taskId": "x", "waitForCompletion": True})))
    assert "waitForCompletion" in caught.value.details() and "AsyncTask" in caught.value.details()
    checked = ready.Check(provider_pb2.CheckRequest(urn=URN_TASK, news=struct({"functionName": "fn", "taskId": "bad id!"})))
    assert [f.property for f in checked.failures] == ["taskId"]
    assert "task_id" in checked.failures[0].reason or "taskId" in checked.failures[0].reason


def test_create_waits_with_ephemeral_progress_then_records(ready, fc, engine):
    fc.add_function(None, "slow", outcome="Succeeded", queue_delay=0, duration=2, return_payload='{"done": true}')
    fc.client().invoke_async_task("slow", '{"x": 1}', task_id="w1")
    engine.logs.clear()
    started = time.monotonic()
    created = ready.Create(provider_pb2.CreateRequest(urn=URN_TASK, properties=struct(
        {"functionName": "slow", "taskId": "w1", "waitForCompletion": True, "timeoutSeconds": 60})))
    assert time.monotonic() - started >= 1.5
    outs = dict(created.properties.items())
    assert created.id == "slow/w1" and outs["status"] == "Succeeded" and outs["waitedSeconds"] > 0
    assert dict(outs["returnPayload"].items())["value"] == '{"done": true}'
    mine = [log for log in engine.logs if log.urn == URN_TASK]
    assert any("waiting for slow/w1 to finish" in log.message for log in mine)
    assert all(log.ephemeral for log in mine if log.severity == engine_pb2.INFO)
    # Read (refresh) records without a verdict; delete forgets.
    read = ready.Read(provider_pb2.ReadRequest(id=created.id, urn=URN_TASK, properties=created.properties))
    assert dict(read.properties.items())["status"] == "Succeeded"
    ready.Delete(provider_pb2.DeleteRequest(id=created.id, urn=URN_TASK, properties=created.properties))


def test_create_of_a_failed_task_fails_with_the_verdict_alone(ready, fc):
    fc.add_function(None, "doomed", outcome="Failed", queue_delay=0, duration=1, error_message="boom: bad input")
    fc.client().invoke_async_task("doomed", "{}", task_id="d1")
    with pytest.raises(grpc.RpcError) as caught:
        ready.Create(provider_pb2.CreateRequest(urn=URN_TASK, properties=struct(
            {"functionName": "doomed", "taskId": "d1", "waitForCompletion": True, "timeoutSeconds": 60})))
    message = caught.value.details()
    assert "doomed/d1 ended Failed: boom: bad input" in message, message
    assert "Traceback" not in message and 'File "' not in message


def test_preview_never_waits_and_unknown_inputs_give_unknown_outputs(ready, fc):
    fc.add_function(None, "long", outcome="Succeeded", queue_delay=0, duration=30)
    fc.client().invoke_async_task("long", "{}", task_id="p1")
    started = time.monotonic()
    created = ready.Create(provider_pb2.CreateRequest(urn=URN_TASK, preview=True, properties=struct(
        {"functionName": "long", "taskId": "p1", "waitForCompletion": True})))
    assert time.monotonic() - started < 10
    assert dict(created.properties.items())["status"] in ("Enqueued", "Running")
    unknown = ready.Create(provider_pb2.CreateRequest(urn=URN_TASK, preview=True, properties=struct(
        {"functionName": "long", "taskId": UNKNOWN, "waitForCompletion": True})))
    assert dict(unknown.properties.items())["status"] == UNKNOWN


def test_custom_timeout_create_caps_timeout_seconds(ready, fc):
    fc.add_function(None, "forever", outcome="Succeeded", queue_delay=0, duration=600)
    fc.client().invoke_async_task("forever", "{}", task_id="c1")
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as caught:
        ready.Create(provider_pb2.CreateRequest(urn=URN_TASK, timeout=2, properties=struct(
            {"functionName": "forever", "taskId": "c1", "waitForCompletion": True, "timeoutSeconds": 1800})))
    assert time.monotonic() - started < 20
    assert "forever/c1" in caught.value.details() and "Traceback" not in caught.value.details()


def test_cancel_interrupts_a_wait(engine, fc):
    with started(engine) as plugin:
        configured(plugin, fc)
        cancel_a_wait(plugin, fc)


def cancel_a_wait(ready, fc):
    fc.add_function(None, "endless", outcome="Succeeded", queue_delay=0, duration=600)
    fc.client().invoke_async_task("endless", "{}", task_id="k1")
    errors = []

    def create():
        try:
            ready.Create(provider_pb2.CreateRequest(urn=URN_TASK, properties=struct(
                {"functionName": "endless", "taskId": "k1", "waitForCompletion": True, "timeoutSeconds": 600})))
        except grpc.RpcError as exc:
            errors.append(exc.details())

    thread = threading.Thread(target=create)
    thread.start()
    # The plugin has read the task: its wait has begun.
    assert until(lambda: any(r.method == "GET" and r.invocation_id == "k1" for r in fc.requests), timeout=20)
    ready.Cancel(empty_pb2.Empty())
    thread.join(20)
    assert not thread.is_alive() and errors and "cancelled" in errors[0]


def test_batch_gate_on_fc2_invocations(ready, fc):
    fc.add_function("svc", "job", outcome="Succeeded", queue_delay=0, duration=0.5)
    client = fc.client()
    for n in range(3):
        client.invoke_async("svc", "job", "{}", invocation_id=f"b-{n}")
    created = ready.Create(provider_pb2.CreateRequest(urn="urn:pulumi:dev::proj::fc-invocation:index:"
                                                          "StatefulAsyncInvocations::b", properties=struct(
        {"serviceName": "svc", "functionName": "job", "invocationIdPrefix": "b-", "waitForCompletion": True,
         "timeoutSeconds": 60, "expectedCount": 3})))
    outs = dict(created.properties.items())
    assert outs["total"] == 3 and outs["allSucceeded"] is True


def test_settings_from_a_shared_credentials_file_profile_and_no_stack_config_kept(engine, fc, tmp_path):
    """The plugin's `profile` and `sharedCredentialsFile` reach the credential chain (the files are its
    fallbacks); the region comes from the profile too."""
    ini = tmp_path / "credentials.ini"
    ini.write_text(f"[ci]\ntype = access_key\naccess_key_id = {fc.credentials.access_key_id}\n"
                   f"access_key_secret = {fc.credentials.access_key_secret}\nregion_id = {fc.region}\n")
    fc.add_function(None, "filed", outcome="Succeeded", queue_delay=0, duration=0)
    fc.client().invoke_async_task("filed", "{}", task_id="s1")
    with started(engine) as plugin:
        conf = {"profile": "ci", "sharedCredentialsFile": str(ini), "accountId": fc.account_id,
                "endpoint": fc.endpoint}
        checked = plugin.CheckConfig(provider_pb2.CheckRequest(news=struct(conf)))
        assert not checked.failures
        # The engine's variables carry other packages' keys too: the plugin keeps only its own settings.
        plugin.Configure(provider_pb2.ConfigureRequest(args=checked.inputs, acceptSecrets=True, variables={
            "alicloud:config:secretKey": "not-ours", "fc-invocation:config:profile": "ci"}))
        out = plugin.Invoke(provider_pb2.InvokeRequest(tok="fc-invocation:index:getAsyncTask",
                                                       args=struct({"functionName": "filed", "taskId": "s1"})))
        assert dict(getattr(out, "return").items())["taskId"] == "s1"


def test_missing_credentials_fail_with_the_chains_message_alone(engine, fc):
    with started(engine) as plugin:
        plugin.Configure(provider_pb2.ConfigureRequest(args=struct({"endpoint": fc.endpoint}), acceptSecrets=True))
        with pytest.raises(grpc.RpcError) as caught:
            plugin.Invoke(provider_pb2.InvokeRequest(tok="fc-invocation:index:getAsyncTask",
                                                     args=struct({"functionName": "fn", "taskId": "t"})))
    message = caught.value.details()
    assert "missing credentials" in message and "Traceback" not in message and 'File "' not in message
    assert "`fc-invocation:accessKey` + `fc-invocation:secretKey`" in message and "alicloud:" not in message


def test_a_secret_task_id_stays_out_of_messages_and_ids(ready, fc, engine):
    fc.add_function(None, "hushed", outcome="Failed", queue_delay=0, duration=0.5, error_message="exit 3")
    fc.client().invoke_async_task("hushed", "{}", task_id="tok-9f8e7d6c5b")
    engine.logs.clear()
    with pytest.raises(grpc.RpcError) as caught:
        ready.Create(provider_pb2.CreateRequest(urn=URN_TASK, properties=struct(
            {"functionName": "hushed", "taskId": secret("tok-9f8e7d6c5b"), "waitForCompletion": True,
             "timeoutSeconds": 60})))
    message = caught.value.details()
    assert "ended Failed: exit 3" in message and "tok-9f8e7d6c5b" not in message, message
    assert engine.logs and not [log for log in engine.logs if "tok-9f8e7d6c5b" in log.message]
    fc.add_function(None, "hushed2", outcome="Succeeded", queue_delay=0, duration=0)
    fc.client().invoke_async_task("hushed2", "{}", task_id="tok-1a2b3c4d")
    created = ready.Create(provider_pb2.CreateRequest(urn=URN_TASK, properties=struct(
        {"functionName": "hushed2", "taskId": secret("tok-1a2b3c4d"), "waitForCompletion": True})))
    assert "tok-1a2b3c4d" not in created.id
    assert dict(created.properties.items())["taskId"][SECRET_SIG]


def test_diff_updates_on_settings_replaces_on_names_and_import_reads_by_id(ready, fc):
    fc.add_function(None, "imp", outcome="Succeeded", queue_delay=0, duration=0)
    fc.client().invoke_async_task("imp", "{}", task_id="i1")
    imported = ready.Read(provider_pb2.ReadRequest(id="imp/i1", urn=URN_TASK))  # `pulumi import`: the id alone
    state = imported.properties
    assert dict(state.items())["status"] == "Succeeded" and dict(imported.inputs.items())["taskId"] == "i1"

    def diff(news):
        return ready.Diff(provider_pb2.DiffRequest(id="imp/i1", urn=URN_TASK, olds=state, news=struct(news)))

    same = diff({"functionName": "imp", "taskId": "i1"})  # the defaults are what the state echoes
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE, same
    settings = diff({"functionName": "imp", "taskId": "i1", "waitForCompletion": True})
    assert settings.changes == provider_pb2.DiffResponse.DIFF_SOME and list(settings.replaces) == []
    assert list(settings.diffs) == ["waitForCompletion"]
    other = diff({"functionName": "imp", "taskId": "i2"})
    assert list(other.replaces) == ["taskId"]


def test_state_written_before_an_input_existed_diffs_as_its_default(ready, fc):
    """An AsyncTask created before `notFoundGraceSeconds` existed (0.1's state has no such key) is unchanged
    by an upgrade: a missing old input is its description's default, not a change (which would gate again,
    and fail on a task FC has forgotten)."""
    from google.protobuf import struct_pb2

    fc.add_function(None, "old", outcome="Succeeded", queue_delay=0, duration=0)
    fc.client().invoke_async_task("old", "{}", task_id="o1")
    state = dict(ready.Read(provider_pb2.ReadRequest(id="old/o1", urn=URN_TASK)).properties.items())
    assert state.pop("notFoundGraceSeconds") == 10.0
    olds = struct_pb2.Struct()
    olds.update(state)
    same = ready.Diff(provider_pb2.DiffRequest(id="old/o1", urn=URN_TASK, olds=olds,
                                               news=struct({"functionName": "old", "taskId": "o1"})))
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE, same
    longer = ready.Diff(provider_pb2.DiffRequest(id="old/o1", urn=URN_TASK, olds=olds,
                                                 news=struct({"functionName": "old", "taskId": "o1",
                                                              "notFoundGraceSeconds": 60})))
    assert list(longer.diffs) == ["notFoundGraceSeconds"] and list(longer.replaces) == []


def test_the_assume_role_setting_reads_through_a_role(engine, fc):
    """`assumeRole` (an object) reaches the chain: the plugin assumes the role with its access key."""
    from pulumi_fc_invocation.testing.identity import IdentityServices

    role = f"acs:ram::{fc.account_id}:role/deploy"
    fc.add_function(None, "roled", outcome="Succeeded", queue_delay=0, duration=0)
    fc.client().invoke_async_task("roled", "{}", task_id="r1")
    with IdentityServices(fc) as ids, started(engine, ALIBABA_CLOUD_STS_ENDPOINT=ids.sts_endpoint) as plugin:
        ids.add_role(role)
        conf = {"accessKey": fc.credentials.access_key_id, "secretKey": secret(fc.credentials.access_key_secret),
                "assumeRole": {"roleArn": role, "sessionName": "plugin"}, "accountId": fc.account_id,
                "endpoint": fc.endpoint}
        checked = plugin.CheckConfig(provider_pb2.CheckRequest(news=struct(conf)))
        assert not checked.failures
        plugin.Configure(provider_pb2.ConfigureRequest(args=checked.inputs, acceptSecrets=True))
        out = plugin.Invoke(provider_pb2.InvokeRequest(tok="fc-invocation:index:getAsyncTask",
                                                       args=struct({"functionName": "roled", "taskId": "r1"})))
        assert dict(getattr(out, "return").items())["taskId"] == "r1"
        assumed = [r for r in ids.requests if r.action == "AssumeRole"]
        assert assumed and assumed[-1].status == 200 and assumed[-1].access_key_id == fc.credentials.access_key_id


def test_fc3_batch_gate_waits_for_every_task_and_refresh_reads_the_batch(ready, fc):
    fc.add_function(None, "fan", outcome="Succeeded", queue_delay=0, duration=1, return_payload="r")
    client = fc.client()
    for n in range(3):
        client.invoke_async_task("fan", "{}", task_id=f"job-{n}")
    created = ready.Create(provider_pb2.CreateRequest(urn=URN_TASKS, properties=struct(
        {"functionName": "fan", "taskIdPrefix": "job-", "waitForCompletion": True, "timeoutSeconds": 60,
         "expectedCount": 3, "includePayloads": True})))
    outs = dict(created.properties.items())
    assert outs["total"] == 3 and outs["allSucceeded"] is True and outs["waitedSeconds"] > 0
    assert sorted(outs["ids"]) == ["fan/job-0", "fan/job-1", "fan/job-2"]
    assert outs["tasks"][SECRET_SIG]  # with payloads, the member list is secret
    client.invoke_async_task("fan", "{}", task_id="job-3")
    read = ready.Read(provider_pb2.ReadRequest(id=created.id, urn=URN_TASKS, properties=created.properties))
    assert dict(read.properties.items())["total"] == 4


def test_secret_inputs_stay_out_of_validation_errors(ready):
    """A secret that breaks a rule, or is given as an input that does not exist: the engine prints the
    failure, which names the argument and the rule but shows no part of the value."""
    checked = ready.Check(provider_pb2.CheckRequest(urn=URN_TASK, news=struct(
        {"functionName": "fn", "taskId": secret("my secret id")})))
    assert [f.property for f in checked.failures] == ["taskId"]
    reason = checked.failures[0].reason
    assert "task_id [secret]" in reason and "my secret" not in reason and "secret id" not in reason, reason
    checked = ready.Check(provider_pb2.CheckRequest(urn=URN_TASK, news=struct(
        {"functionName": "fn", "taskId": "t1", "bogus": secret("s3cr3t-value")})))
    assert [f.property for f in checked.failures] == ["bogus"]
    assert "is not an input" in checked.failures[0].reason and "s3cr3t" not in checked.failures[0].reason
    checked = ready.Check(provider_pb2.CheckRequest(urn=URN_TASK, news=struct(
        {"functionName": "fn", "taskId": "t1", "bogus": "plain-value"})))
    assert "plain-value" not in checked.failures[0].reason  # an input that should not exist: no value shown
    for args in ({"functionName": "fn", "taskId": secret("my secret id")},
                 {"functionName": "fn", "taskId": "t1", "bogus": secret("s3cr3t-value")}):
        with pytest.raises(grpc.RpcError) as caught:
            ready.Invoke(provider_pb2.InvokeRequest(tok="fc-invocation:index:getAsyncTask", args=struct(args)))
        details = caught.value.details()
        assert "invalid" in details and "my secret" not in details and "s3cr3t" not in details, details
        with pytest.raises(grpc.RpcError) as caught:
            ready.Create(provider_pb2.CreateRequest(urn=URN_TASK, preview=True, properties=struct(args)))
        details = caught.value.details()
        assert "invalid" in details and "my secret" not in details and "s3cr3t" not in details, details


@pytest.mark.parametrize("preview, wait", [(True, True), (False, False)], ids=["preview", "no-wait"])
def test_a_failed_task_whose_first_read_meets_a_503_still_fails_the_gate(ready, fc, preview, wait):
    """Without a wait the gate reads once; a 503 past the client's retries (4, so 5 attempts) leaves it no
    result, and the read after it (which succeeds) must give the verdict, not only record the task."""
    task = f"f503-{int(preview)}"
    fc.add_function(None, "flaky", outcome="Failed", queue_delay=0, duration=0, error_message="exit 7")
    client = fc.client()
    client.invoke_async_task("flaky", "{}", task_id=task)
    assert client.get_async_task("flaky", task).is_terminal  # no queue, no duration: it ended as it started
    fc.inject_fault(route="get", status=503, times=5, retry_after=1, match=task)
    with pytest.raises(grpc.RpcError) as caught:
        ready.Create(provider_pb2.CreateRequest(urn=URN_TASK, preview=preview, properties=struct(
            {"functionName": "flaky", "taskId": task, "waitForCompletion": wait})))
    assert f"flaky/{task} ended Failed: exit 7" in caught.value.details(), caught.value.details()
    assert not [f for f in fc.faults.pending() if f.match == task]  # the first read did meet every 503
