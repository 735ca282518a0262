"""The plugin's run resources over gRPC (the real plugin process, a stand-in engine, the emulator on a real clock
with tasks of a fraction of a second): each lifecycle rule of issue 28, driven as the engine drives one
resource (``Stack`` below: Check, then Create, or Diff then Update / Create+Delete, Read, Delete), counting the
InvokeFunction requests the emulator saw."""

from __future__ import annotations

import hashlib
import threading

import grpc
from google.protobuf import empty_pb2
from google.protobuf.json_format import MessageToDict
import pytest
from pulumi.runtime.proto import provider_pb2

from pulumi_fc_invocation.gate.start import derived_id
from pulumi_fc_invocation.plugin.provider import UNKNOWN
from pulumi_fc_invocation.sources import ASYNC_TASK_RUN, STATEFUL_ASYNC_INVOCATION_RUN
from _clocks import until
from _plugin_rpc import SECRET_SIG, configured, secret, started, struct

EMULATOR_CLOCK = "real"  # the plugin process waits on its own clock
pytestmark = pytest.mark.usefixtures("fresh")

FAIL = '{"fcEmulator": {"outcome": "Failed"}}'
FAST = {"pollIntervalSeconds": 0.1, "maxPollIntervalSeconds": 0.2, "timeoutSeconds": 30}


def plain(struct_value) -> dict:
    """A Struct as plain values, secrets unwrapped."""
    def unwrapped(value):
        if isinstance(value, dict):
            return unwrapped(value["value"]) if SECRET_SIG in value else {k: unwrapped(v) for k, v in value.items()}
        return [unwrapped(v) for v in value] if isinstance(value, list) else value

    return unwrapped(MessageToDict(struct_value))


class Stack:
    """One run resource as the engine handles it across `up`s: its checked inputs, outputs and id."""

    def __init__(self, plugin, run, name="migrate"):
        self.plugin, self.run = plugin, run
        self.urn = f"urn:pulumi:dev::proj::{run.token}::{name}"
        self.inputs, self.outputs, self.id = None, None, None

    def check(self, news, olds=True):
        checked = self.plugin.Check(provider_pb2.CheckRequest(urn=self.urn, olds=struct(olds and self.inputs or {}),
                                                              news=struct(news)))
        assert not checked.failures, [f.reason for f in checked.failures]
        return checked.inputs

    def up(self, news, preview=False):
        """What the engine does for this resource in an `up` (or a preview): the step it took."""
        checked = self.check(news)
        if self.id is None:
            created = self.plugin.Create(provider_pb2.CreateRequest(urn=self.urn, properties=checked, preview=preview))
            if not preview:
                self.inputs, self.outputs, self.id = dict(checked.items()), created.properties, created.id
            self.last = created.properties
            return "create"
        diff = self.plugin.Diff(provider_pb2.DiffRequest(urn=self.urn, id=self.id, olds=self.outputs, news=checked))
        if diff.replaces:
            checked = self.check(news, olds=False)  # the engine checks a replacement again, without olds
            created = self.plugin.Create(provider_pb2.CreateRequest(urn=self.urn, properties=checked, preview=preview))
            if not preview:
                self.plugin.Delete(provider_pb2.DeleteRequest(urn=self.urn, id=self.id, properties=self.outputs))
                self.inputs, self.outputs, self.id = dict(checked.items()), created.properties, created.id
            self.last = created.properties
            return "replace"
        if diff.changes == provider_pb2.DiffResponse.DIFF_SOME:
            updated = self.plugin.Update(provider_pb2.UpdateRequest(urn=self.urn, id=self.id, olds=self.outputs,
                                                                    news=checked, preview=preview))
            if not preview:
                self.inputs, self.outputs = dict(checked.items()), updated.properties
            self.last = updated.properties
            return "update"
        return "same"

    def refresh(self):
        read = self.plugin.Read(provider_pb2.ReadRequest(urn=self.urn, id=self.id, properties=self.outputs,
                                                         inputs=struct(self.inputs)))
        self.outputs = read.properties
        return plain(read.properties)

    def destroy(self):
        self.plugin.Delete(provider_pb2.DeleteRequest(urn=self.urn, id=self.id, properties=self.outputs))
        self.inputs, self.outputs, self.id = None, None, None

    @property
    def values(self):
        return plain(self.outputs)


@pytest.fixture(params=[ASYNC_TASK_RUN, STATEFUL_ASYNC_INVOCATION_RUN], ids=["fc3", "fc2"])
def run(request):
    return request.param


def function(fc, run, name, **script):
    """A function of the run's API (a unique name per API: one emulator serves both); the run's names."""
    name = f"{name}-{run.api}"
    fc.add_function("svc" if run.api == "fc2" else None, name, queue_delay=0, **{"duration": 0.3, **script})
    return {"serviceName": "svc", "functionName": name} if run.api == "fc2" else {"functionName": name}


def invokes(fc):
    return fc.request_count("invoke")


def items(fc, names):
    return [i for i in fc.invocations if i.function_name == names["functionName"]]


def test_preview_starts_nothing_then_up_starts_one_task_and_an_unchanged_up_sends_nothing(ready, fc, run, engine):
    names = function(fc, run, "once")
    stack = Stack(ready, run)
    news = {**names, "payload": secret('{"rows": 10}'), **FAST}
    assert stack.up(news, preview=True) == "create"
    previewed = plain(stack.last)
    assert previewed["status"] == UNKNOWN and previewed[run.id_key.replace("_id", "Id")] == UNKNOWN
    assert fc.request_count() == 0
    assert stack.up(news) == "create"
    values = stack.values
    id_key = "taskId"  # both APIs (FC 2.0 records invocationId as well)
    assert values["status"] == "Succeeded" and values["runSequence"] == 0 and values["waitedSeconds"] > 0
    assert values[id_key].startswith("migrate-") and values[id_key].endswith("-0")
    assert values["taskId"] == values["taskId" if run.api == "fc3" else "invocationId"]  # FC 2.0: both, one id
    assert invokes(fc) == 1 and len(items(fc, names)) == 1
    raw = MessageToDict(stack.outputs)
    assert SECRET_SIG in raw["payload"] and SECRET_SIG in raw["returnPayload"] and SECRET_SIG in raw["taskPayload"
                                                                                                    if run.api == "fc3" else "invocationPayload"]
    fc.reset_requests()
    assert stack.up(news) == "same" and stack.up(news, preview=True) == "same"
    assert fc.request_count() == 0  # not even a read: the recorded task had ended
    mine = [log.message for log in engine.logs if log.urn == stack.urn]
    assert any(text.startswith("started ") for text in mine) and not any("rows" in text for text in mine)


def test_a_trigger_or_payload_change_replaces_and_a_gate_input_alone_starts_nothing(ready, fc, run):
    names = function(fc, run, "change")
    stack = Stack(ready, run)
    news = {**names, "payload": secret("a"), "triggers": {"db_version": "1"}, **FAST}
    stack.up(news)
    first = stack.id
    fc.reset_requests()
    assert stack.up({**news, "timeoutSeconds": 60, "failOnStatuses": ["Failed"], "stopOnDelete": True}) == "update"
    assert fc.request_count() == 0 and stack.id == first and stack.values["timeoutSeconds"] == 60
    assert stack.up({**news, "triggers": {"db_version": "2"}, "timeoutSeconds": 60, "failOnStatuses": ["Failed"],
                     "stopOnDelete": True}) == "replace"
    assert invokes(fc) == 1 and stack.values["runSequence"] == 1 and stack.id != first and stack.id.endswith("-1")
    assert stack.values["triggers"] == {"db_version": "2"}  # the keys as given (not camelCased)
    assert stack.up({**news, "payload": secret("b"), "triggers": {"db_version": "2"}}) == "replace"
    assert invokes(fc) == 2 and stack.values["runSequence"] == 2 and len(items(fc, names)) == 3
    assert stack.up({**news, "payload": secret("b"), "triggers": {"db_version": "2"}}) == "same"


def test_a_failed_run_fails_the_up_and_the_next_up_retries_it_under_the_next_id(ready, fc, run):
    names = function(fc, run, "flaky", outcome="Failed", error_message="boom: no disk")
    stack = Stack(ready, run)
    news = {**names, "payload": secret("{}"), **FAST}
    with pytest.raises(grpc.RpcError) as caught:
        stack.up(news)
    message = caught.value.details()
    assert "ended Failed: boom: no disk" in message and "-0" in message and "Traceback" not in message
    assert stack.id is None  # nothing recorded: the next up is a create again
    function(fc, run, "flaky", outcome="Succeeded")
    assert stack.up(news) == "create"
    assert stack.values["status"] == "Succeeded" and stack.id.endswith("-0-1") and stack.values["runSequence"] == 0
    assert invokes(fc) == 3 and len(items(fc, names)) == 2  # the first, the refused retry of -0, -0-1
    fc.reset_requests()  # a trigger change after the retry starts run 1 (the retry took no id of a later run)
    assert stack.up({**news, "triggers": {"v": "2"}}) == "replace"
    assert invokes(fc) == 1 and stack.id.endswith("-1") and len(items(fc, names)) == 3


def test_a_409_adopts_a_running_or_succeeded_task_of_the_same_payload(ready, fc, run):
    """A crash between the start and the state: the next up finds the task under the derived id."""
    names = function(fc, run, "crash", duration=1.5)
    stack = Stack(ready, run)
    target = {"service_name": "svc", "function_name": names["functionName"]} if run.api == "fc2" \
        else {"function_name": names["functionName"]}
    item = derived_id(run, stack.urn, target, 0)
    if run.api == "fc2":
        fc.client().invoke_async("svc", names["functionName"], "job", invocation_id=item)
    else:
        fc.client().invoke_async_task(names["functionName"], "job", task_id=item)
    fc.reset_requests()
    assert stack.up({**names, "payload": secret("job"), **FAST}) == "create"
    assert stack.values["status"] == "Succeeded" and stack.values["waitedSeconds"] > 0.5
    assert invokes(fc) == 1 and len(items(fc, names)) == 1  # refused with 409, then adopted and waited for
    stack.destroy()  # destroy, then up with the same inputs: adopts the Succeeded task
    assert stack.up({**names, "payload": secret("job"), **FAST}) == "create"
    assert len(items(fc, names)) == 1 and stack.values["status"] == "Succeeded"


def test_a_given_id_held_by_another_payload_is_a_clear_error(ready, fc, run):
    names = function(fc, run, "given")
    id_key = "taskId"  # both APIs (FC 2.0 records invocationId as well)
    Stack(ready, run, "a").up({**names, "payload": secret("first"), id_key: "nightly-1", **FAST})
    with pytest.raises(grpc.RpcError) as caught:
        Stack(ready, run, "b").up({**names, "payload": secret("second"), id_key: "nightly-1", **FAST})
    message = caught.value.details()
    assert "nightly-1" in message and "another payload" in message and "second" not in message
    assert "task_id" in message


def test_refresh_records_the_task_and_never_fails(ready, fc, run, engine):
    names = function(fc, run, "refresh", duration=1.0)
    stack = Stack(ready, run)
    stack.up({**names, "payload": secret("{}"), "waitForCompletion": False, **FAST})
    assert stack.values["status"] in ("Enqueued", "Running")
    fc.reset_requests()
    fc.inject_fault("get", status=403, code="AccessDenied", times=100)
    engine.logs.clear()
    kept = stack.refresh()  # FC refusing: the state stays, a warning says why
    assert kept["status"] in ("Enqueued", "Running")
    assert any("keeping the state last recorded" in log.message and "AccessDenied" in log.message
               for log in engine.logs if log.urn == stack.urn)
    fc.clear_faults()
    assert until(lambda: fc.get_invocation("svc" if run.api == "fc2" else None, names["functionName"],
                                           stack.id.rsplit("/", 1)[1]).is_terminal, timeout=10)
    assert stack.refresh()["status"] == "Succeeded"
    assert invokes(fc) == 0


def test_import_pending_creates_records_the_task_and_the_next_up_adopts_the_record(ready, fc, run):
    names = function(fc, run, "pending")
    crashed = Stack(ready, run)
    crashed.up({**names, "payload": secret("p"), **FAST})
    fresh = Stack(ready, run)  # `refresh --import-pending-creates`: the engine knows the id alone
    read = ready.Read(provider_pb2.ReadRequest(urn=fresh.urn, id=crashed.id))
    assert read.id == crashed.id
    recorded, inputs = plain(read.properties), plain(read.inputs)
    assert recorded["status"] == "Succeeded" and inputs["payload"] == "p" and inputs["runSequence"] == 0
    assert SECRET_SIG in MessageToDict(read.inputs)["payload"]
    assert "triggers" in inputs and inputs["triggers"] is None  # FC keeps no triggers: taken from the program
    fresh.inputs, fresh.outputs, fresh.id = dict(read.inputs.items()), read.properties, read.id
    fc.reset_requests()
    news = {**names, "payload": secret("p"), "triggers": {"v": "1"}, **FAST}
    assert fresh.up(news) == "update" and fresh.values["triggers"] == {"v": "1"}
    assert fresh.up(news) == "same" and invokes(fc) == 0
    assert fresh.up({**news, "triggers": {"v": "2"}}) == "replace" and invokes(fc) == 1  # then as any run
    gone = ready.Read(provider_pb2.ReadRequest(urn=fresh.urn, id=crashed.id[:-1] + "7"))
    assert gone.id == ""  # FC knows no such task: no resource


def test_delete_stops_a_running_task_only_with_stop_on_delete(ready, fc, run):
    names = function(fc, run, "long", duration=30)
    kept = Stack(ready, run, "kept")
    kept.up({**names, "payload": secret("1"), "waitForCompletion": False, **FAST})
    kept.destroy()
    assert fc.request_count("stop") == 0 and fc.request_count("invoke") == 1
    stopped = Stack(ready, run, "stopped")
    stopped.up({**names, "payload": secret("2"), "waitForCompletion": False, "stopOnDelete": True, **FAST})
    item = stopped.id.rsplit("/", 1)[1]
    stopped.destroy()
    assert fc.request_count("stop") == 1 and fc.request_count("invoke") == 2
    states = {i.invocation_id: i.status for i in items(fc, names)}
    assert states[item] in ("Stopping", "Stopped") and list(states.values()).count("Running") == 1


def test_a_timeout_stops_the_task_only_with_stop_on_timeout_and_the_next_up_adopts_a_running_one(ready, fc, run):
    names = function(fc, run, "slow", duration=30)
    left = Stack(ready, run, "left")
    with pytest.raises(grpc.RpcError) as caught:
        left.up({**names, "payload": secret("1"), **FAST, "timeoutSeconds": 0.5})
    assert "did not finish" in caught.value.details() or "timed out" in caught.value.details() \
        or "timeout" in caught.value.details()
    assert fc.request_count("stop") == 0
    fc.reset_requests()
    with pytest.raises(grpc.RpcError):  # the next up adopts the running task (gated again: it times out again)
        left.up({**names, "payload": secret("1"), **FAST, "timeoutSeconds": 0.5})
    assert invokes(fc) == 1 and len(items(fc, names)) == 1
    stopped = Stack(ready, run, "stopped")
    with pytest.raises(grpc.RpcError) as caught:
        stopped.up({**names, "payload": secret("2"), **FAST, "timeoutSeconds": 0.5, "stopOnTimeout": True})
    assert "(stopOnTimeout)" in caught.value.details() and fc.request_count("stop") == 1


def test_a_derived_id_holds_no_payload_digest(ready, fc, run):
    names = function(fc, run, "digest")
    one, two = Stack(ready, run, "same"), Stack(ready, run, "same")
    one.up({**names, "payload": secret("guess-me-1"), "waitForCompletion": False, **FAST})
    two.up({**names, "payload": secret("guess-me-2"), "waitForCompletion": False, **FAST})
    first, second = one.id.rsplit("/", 1)[1], two.id.rsplit("/", 1)[1]
    assert first.rsplit("-", 1)[0] == second.rsplit("-", 1)[0]  # one sequence: the payload is not in the id
    for payload in ("guess-me-1", "guess-me-2"):
        for digest in (hashlib.sha256(payload.encode()).hexdigest(), hashlib.md5(payload.encode()).hexdigest()):
            assert digest[:6] not in first and digest[:6] not in second


def test_check_refuses_bad_input_before_any_request(ready, fc, run):
    names = function(fc, run, "bad")
    stack = Stack(ready, run)
    id_key = "taskId"  # both APIs (FC 2.0 records invocationId as well)
    checked = ready.Check(provider_pb2.CheckRequest(urn=stack.urn, news=struct({**names, id_key: "bad id!"})))
    assert [f.property for f in checked.failures] == [id_key]
    checked = ready.Check(provider_pb2.CheckRequest(urn=stack.urn, news=struct({**names, "failOnStatuses": ["Running"]})))
    assert [f.property for f in checked.failures] == ["failOnStatuses"]
    assert fc.request_count() == 0


def test_a_cancelled_deployment_stops_the_task_only_with_stop_on_timeout(engine, fc, run):
    """Cancel (the engine's, on Ctrl-C) ends the wait; with stopOnTimeout the task is stopped, else it runs on."""
    names = function(fc, run, "cancelled", duration=60)
    for stop in (False, True):
        with started(engine) as plugin:  # a process of its own: Cancel ends every wait of the process
            configured(plugin, fc)
            stack, errors = Stack(plugin, run, f"stop-{stop}"), []

            def up():
                try:
                    stack.up({**names, "payload": secret(str(stop)), **FAST, "timeoutSeconds": 600,
                              "stopOnTimeout": stop})
                except grpc.RpcError as exc:
                    errors.append(exc.details())

            thread = threading.Thread(target=up)
            thread.start()
            assert until(lambda: fc.request_count("get") >= 2, timeout=20)  # started, and waiting
            plugin.Cancel(empty_pb2.Empty())
            thread.join(20)
            assert not thread.is_alive() and errors and "cancelled" in errors[0]
            assert ("(stopOnTimeout)" in errors[0]) is stop and fc.request_count("stop") == int(stop)
        fc.reset_requests()
    assert sorted(i.status for i in items(fc, names)) in (["Running", "Stopped"], ["Running", "Stopping"])


def test_a_preview_with_an_unknown_payload_shows_a_replacement_and_starts_nothing(ready, fc, run):
    names = function(fc, run, "unknown")
    stack = Stack(ready, run)
    news = {**names, "payload": secret("known"), **FAST}
    stack.up(news)
    fc.reset_requests()
    checked = stack.check({**names, "payload": UNKNOWN, **FAST})
    assert plain(checked)["runSequence"] == UNKNOWN
    diff = ready.Diff(provider_pb2.DiffRequest(urn=stack.urn, id=stack.id, olds=stack.outputs, news=checked))
    assert "payload" in diff.replaces
    created = ready.Create(provider_pb2.CreateRequest(urn=stack.urn, properties=checked, preview=True))
    assert plain(created.properties)["status"] == UNKNOWN and fc.request_count() == 0
    fresh = Stack(ready, run, "fresh")  # a new run whose payload is unknown in the preview: sequence 0 all the same
    assert plain(fresh.check({**names, "payload": UNKNOWN}))["runSequence"] == 0


def test_an_update_that_asks_to_wait_gates_on_the_recorded_task_and_starts_nothing(ready, fc, run):
    names = function(fc, run, "later", duration=1.0)
    stack = Stack(ready, run)
    news = {**names, "payload": secret("{}"), "waitForCompletion": False, **FAST}
    stack.up(news)
    assert stack.values["status"] in ("Enqueued", "Running") and stack.values["waitedSeconds"] is None
    assert stack.up({**news, "waitForCompletion": True}) == "update"
    assert stack.values["status"] == "Succeeded" and stack.values["waitedSeconds"] > 0 and invokes(fc) == 1


def test_a_run_refused_by_fc_says_what_to_fix_as_the_async_task_resource_does(ready, fc, run, engine):
    """A 403 InvalidAccessKeyId on the invoke, and on a refresh's read, names the setting and the fix."""
    names = function(fc, run, "auth")
    fc.inject_fault("invoke", status=403, code="InvalidAccessKeyId.NotFound", times=5)
    with pytest.raises(grpc.RpcError) as caught:
        Stack(ready, run, "refused").up({**names, "payload": secret("p"), **FAST})
    message = caught.value.details()
    assert "refused the credentials" in message and "fc-invocation:accessKey" in message, message
    fc.clear_faults()
    stack = Stack(ready, run)
    stack.up({**names, "payload": secret("p"), **FAST})
    fc.inject_fault("get", status=403, code="InvalidAccessKeyId.NotFound", times=5)
    engine.logs.clear()
    stack.refresh()
    warned = [log.message for log in engine.logs if log.urn == stack.urn]
    assert any("keeping the state last recorded" in text and "fc-invocation:accessKey" in text for text in warned), \
        warned


def test_a_read_with_inputs_and_no_recorded_outputs_reads_the_item_by_the_id(ready, fc, run):
    names = function(fc, run, "inputs-only")
    stack = Stack(ready, run)
    stack.up({**names, "payload": secret("p"), **FAST})
    read = ready.Read(provider_pb2.ReadRequest(urn=stack.urn, id=stack.id, inputs=struct(stack.inputs)))
    assert plain(read.properties)["status"] == "Succeeded" and read.id == stack.id


def test_a_diff_that_finds_the_recorded_item_forgotten_keeps_it_and_says_so(ready, fc, run, engine):
    """FC forgot the recorded item (not found): the diff's read says it did not end badly and the state last
    recorded is kept, with the warning the Python run and a refresh give; another error warns that it could not
    read the item."""
    names = function(fc, run, "forgot", duration=30)
    stack = Stack(ready, run)
    news = {**names, "payload": secret("p"), "waitForCompletion": False, **FAST}
    stack.up(news)
    code = "AsyncTaskNotFound" if run.api == "fc3" else "InvocationNotFound"
    for status, error, said in ((404, code, "keeping the state last recorded"), (403, "AccessDenied", "could not read")):
        fc.inject_fault("get", status=status, code=error, times=5)
        engine.logs.clear()
        assert stack.up(news) == "same"

        def warned():
            return [log.message for log in engine.logs if log.urn == stack.urn]

        assert until(lambda: any(said in text for text in warned()), timeout=5), (status, warned())
        other = "could not read" if status == 404 else "keeping the state last recorded"
        assert not any(other in text for text in warned()), (status, warned())
        fc.clear_faults()


def test_a_replacement_the_engine_decides_on_its_own_starts_the_next_run(ready, fc, run):
    """replaceOnChanges (or replaceWith, a provider change): the Diff says update, the engine replaces all the
    same and checks the replacement without olds: it starts run n+1, and the next trigger change run n+2."""
    names = function(fc, run, "forced")
    stack = Stack(ready, run)
    base = {**names, "payload": secret("p"), **FAST}
    for version in "123":
        stack.up({**base, "triggers": {"v": version}})
    assert stack.values["runSequence"] == 2 and len(items(fc, names)) == 3
    news = {**base, "triggers": {"v": "3"}, "timeoutSeconds": 29}
    checked = stack.check(news)
    diff = ready.Diff(provider_pb2.DiffRequest(urn=stack.urn, id=stack.id, olds=stack.outputs, news=checked))
    assert not diff.replaces and diff.changes == provider_pb2.DiffResponse.DIFF_SOME
    checked = stack.check(news, olds=False)  # replaceOnChanges: [timeoutSeconds]
    assert plain(checked)["runSequence"] == 3
    created = ready.Create(provider_pb2.CreateRequest(urn=stack.urn, properties=checked))
    stack.inputs, stack.outputs, stack.id = dict(checked.items()), created.properties, created.id
    assert stack.id.endswith("-3") and len(items(fc, names)) == 4
    fc.reset_requests()
    assert stack.up({**news, "triggers": {"v": "4"}}) == "replace"
    assert invokes(fc) == 1 and stack.id.endswith("-4") and len(items(fc, names)) == 5


def test_a_targeted_replace_adopts_and_its_delete_never_stops_the_adopted_task(ready, fc, run, engine):
    """`pulumi up --replace` (or a taint): no diff, a check without olds, a create that adopts the recorded task
    (nothing runs again), then the delete of the old, which leaves it running even with stopOnDelete."""
    names = function(fc, run, "targeted", duration=30)
    stack = Stack(ready, run)
    news = {**names, "payload": secret("p"), "waitForCompletion": False, "stopOnDelete": True, **FAST}
    stack.up(news)
    first = stack.id
    fc.reset_requests()
    checked = stack.check(news, olds=False)
    created = ready.Create(provider_pb2.CreateRequest(urn=stack.urn, properties=checked))
    assert created.id == first and invokes(fc) == 1  # refused with 409: adopted
    ready.Delete(provider_pb2.DeleteRequest(urn=stack.urn, id=stack.id, properties=stack.outputs))
    assert fc.request_count("stop") == 0 and [i.status for i in items(fc, names)] == ["Running"]


def test_a_given_id_runs_once_a_trigger_change_under_it_is_refused_by_the_check(ready, fc, run):
    """With a given taskId, a change of triggers (or the payload) under the same id would start nothing: the
    check refuses it, naming the input and the rule; a new taskId with it is a new run."""
    names = function(fc, run, "given-once")
    stack = Stack(ready, run)
    base = {**names, "payload": secret("p"), "taskId": "nightly-7", **FAST}
    stack.up({**base, "triggers": {"v": "1"}})
    fc.reset_requests()
    for change, argument in (({"triggers": {"v": "2"}}, "triggers"), ({"payload": secret("q")}, "payload")):
        checked = ready.Check(provider_pb2.CheckRequest(urn=stack.urn, olds=struct(stack.inputs),
                                                        news=struct({**base, "triggers": {"v": "1"}, **change})))
        assert [f.property for f in checked.failures] == [argument], change
        reason = checked.failures[0].reason
        assert "a given task_id runs once: give a new task_id" in reason and "nightly-7" in reason, reason
        assert "q" not in reason.split("nightly-7")[0]  # no payload in it
    assert stack.up({**base, "triggers": {"v": "1"}, "timeoutSeconds": 60}) == "update"  # a gate input: fine
    assert stack.up({**base, "taskId": "nightly-8", "triggers": {"v": "2"}}) == "replace"
    assert invokes(fc) == 1 and stack.id.endswith("/nightly-8")


def test_without_a_wait_a_read_refused_by_fc_fails_the_create_and_only_a_task_not_listed_yet_is_enqueued(ready, fc,
                                                                                                          run):
    names = function(fc, run, "nowait")
    fc.inject_fault("get", status=403, code="AccessDenied", times=100)
    fc.inject_fault("list", status=403, code="AccessDenied", times=100)
    with pytest.raises(grpc.RpcError) as caught:
        Stack(ready, run, "denied").up({**names, "payload": secret("p"), "waitForCompletion": False, **FAST})
    assert "AccessDenied" in caught.value.details()
    fc.clear_faults()
    code = "AsyncTaskNotFound" if run.api == "fc3" else "InvocationNotFound"
    fc.inject_fault("get", status=404, code=code, times=2)  # the first create's read ahead (-0 is free), the read
    stack = Stack(ready, run, "fresh")                    # after the start (not listed yet)
    stack.up({**names, "payload": secret("q"), "waitForCompletion": False, **FAST})
    assert stack.values["status"] == "Enqueued"


def test_the_started_note_is_masked_with_the_settings_not_a_one_letter_payload(ready, fc, run, engine):
    names = function(fc, run, "letter")
    stack = Stack(ready, run)
    stack.up({**names, "payload": secret("t"), **FAST})
    notes = [log.message for log in engine.logs if log.urn == stack.urn]
    assert any(text.startswith(f"started {'task' if run.api == 'fc3' else 'invocation'} ") for text in notes), notes


def test_a_run_recorded_running_records_its_end_once_and_a_failure_is_retried_as_the_same_run(ready, fc, run):
    """waitForCompletion false: the next up reads the task (a GET) and records Succeeded as an update, then
    reads nothing; a task that failed meanwhile is retried under the run's retry id (-<n>-1), not run n+1."""
    names = function(fc, run, "ended", duration=0.3)
    stack = Stack(ready, run)
    news = {**names, "payload": secret("x"), "waitForCompletion": False, **FAST}
    stack.up(news)
    assert stack.values["status"] in ("Enqueued", "Running")
    assert until(lambda: all(i.is_terminal for i in items(fc, names)), timeout=10)
    fc.reset_requests()
    assert stack.up(news) == "update" and stack.values["status"] == "Succeeded" and invokes(fc) == 0
    fc.reset_requests()
    assert stack.up(news) == "same" and fc.request_count() == 0
    failing = {**news, "payload": secret(FAIL), "triggers": {"v": "2"}}
    stack.up(failing)
    first = stack.id
    assert until(lambda: all(i.is_terminal for i in items(fc, names)), timeout=10)
    assert stack.up(failing) == "replace"
    assert stack.id == first + "-1" and stack.values["runSequence"] == 1


def test_the_check_marks_a_plain_payload_secret_unless_secret_payloads_is_false(ready, fc, run):
    """A payload the program gave plain is recorded secret in the state's inputs (secret by default)."""
    names = function(fc, run, "plain-payload")
    stack = Stack(ready, run)
    checked = MessageToDict(stack.check({**names, "payload": "hunter2-plain", **FAST}))
    assert SECRET_SIG in checked["payload"] and checked["payload"]["value"] == "hunter2-plain"
    opened = MessageToDict(stack.check({**names, "payload": "open", "secretPayloads": False, **FAST}))
    assert opened["payload"] == "open"


def test_a_run_whose_failure_its_gate_accepts_is_done_and_never_started_again(ready, fc, run):
    """failOnStatuses leaves Failed out: the task that ended Failed is recorded (an update), never retried."""
    names = function(fc, run, "accepted", duration=0.3)
    stack = Stack(ready, run)
    news = {**names, "payload": secret(FAIL), "waitForCompletion": False, "failOnStatuses": ["Stopped"], **FAST}
    stack.up(news)
    assert until(lambda: all(i.is_terminal for i in items(fc, names)), timeout=10)
    fc.reset_requests()
    assert stack.up(news) == "update" and stack.values["status"] == "Failed" and invokes(fc) == 0
    fc.reset_requests()
    assert stack.up(news) == "same" and fc.request_count() == 0 and len(items(fc, names)) == 1
