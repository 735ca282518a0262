"""The Python runs (``AsyncTaskRun``, ``StatefulAsyncInvocationRun``) through the harness: the program in-process,
its start and read served by a real dynamic provider host, the emulator over real HTTP, virtual time for every
wait. The lifecycle rules that need prior state (diff, update, delete, refresh) are driven on the same host
over gRPC, as the engine sends them; tests/test_runs_engine.py runs them through the real CLI."""

from __future__ import annotations

import asyncio

import grpc
import pulumi
import pytest
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from pulumi_fc_invocation import AsyncTaskRun, StatefulAsyncInvocationRun
from pulumi_fc_invocation.errors import InvalidArgumentError
from pulumi_fc_invocation.testing.harness import UNKNOWN, ProgramError

pytestmark = pytest.mark.usefixtures("fresh")


def invokes(fc):
    return fc.request_count("invoke")


def add(fc, api, function, **script):
    fc.add_function("svc" if api == "fc2" else None, function, queue_delay=0, **script)


def declare(api, name, function, payload="{}", **kwargs):
    if api == "fc2":
        return StatefulAsyncInvocationRun(name, service_name="svc", function_name=function, payload=payload,
                                          **kwargs)
    return AsyncTaskRun(name, function_name=function, payload=payload, **kwargs)


def _app(name, run):
    return pulumi.CustomResource("test:index:App", name, {"release": "v2"},
                                 opts=pulumi.ResourceOptions(depends_on=[run]))


APIS = ("fc3", "fc2")
ID_KEY = {"fc3": "task_id", "fc2": "invocation_id"}
PAYLOAD_OUT = {"fc3": "task_payload", "fc2": "invocation_payload"}


def record(result, name, type_name):
    """The record of ``name`` of type ``pulumi-python:dynamic/fc:<type_name>`` (a run and its start share a name)."""
    (found,) = [r for r in result.resources if r.name == name and r.type == f"pulumi-python:dynamic/fc:{type_name}"]
    return found


RUN = {"fc3": "AsyncTaskRun", "fc2": "StatefulAsyncInvocationRun"}


def recorded_start(fc, run, function, seconds, **script):
    """The start of a run of ``function`` (tasks of ``seconds``) that does not wait, as a first up records it,
    ``seconds`` later on the emulator's clock, the request log emptied; and the provider blob its calls carry."""
    fc.add_function(None, function, queue_delay=0, duration=seconds, **script)

    def program():
        AsyncTaskRun("migrate", function_name=function, payload="{}", wait_for_completion=False)

    start = record(run(program), "migrate", "AsyncTaskRunStart")
    fc.advance(seconds)
    fc.reset_requests()
    return start, {"__provider": start.provider_blob}


def items(fc, function):
    """(id, payload) of each item of ``function`` the emulator holds, oldest first."""
    return [(inv.invocation_id, inv.invocation_payload) for inv in fc.invocations if inv.function_name == function]


# --- up: one start, one gate ----------------------------------------------------------------------


@pytest.mark.parametrize("api", APIS)
def test_an_up_starts_one_item_and_waits_for_it_before_its_dependents(fc, run, api):
    add(fc, api, f"once-{api}", duration=30)

    def program():
        job = declare(api, "migrate", f"once-{api}", payload='{"step": 1}', triggers={"version": "1"})
        _app("app", job)
        pulumi.export("status", job.status)
        pulumi.export("id", getattr(job, ID_KEY[api]))
        pulumi.export("task_id", job.task_id)  # the id used, under its input's name (FC 2.0 too)

    result = run(program)
    assert invokes(fc) == 1
    started = items(fc, f"once-{api}")
    assert len(started) == 1 and started[0][1] == '{"step": 1}'
    item_id = started[0][0]
    assert item_id.endswith("-0")
    assert result.outputs["status"] == "Succeeded" and result.outputs["id"] == result.outputs["task_id"] == item_id
    rec = record(result, "migrate", RUN[api])
    assert rec.op == "read" and rec.outputs["waited_seconds"] >= 30
    assert rec.outputs["run_sequence"] == 0 and rec.outputs["triggers"] == {"version": "1"}
    assert {"payload", PAYLOAD_OUT[api], "return_payload"} <= rec.secret_outputs
    start = record(result, "migrate", RUN[api] + "Start")
    assert start.op == "create" and start.outputs[ID_KEY[api]] == item_id
    assert "payload" in start.secret_outputs and "payload" in start.secret_inputs
    app = result.resource("app")
    assert result.resources.index(app) > result.resources.index(rec)  # the dependent after the verdict


@pytest.mark.parametrize("api", APIS)
def test_a_preview_starts_nothing_and_its_outputs_are_unknown(fc, run, api):
    add(fc, api, f"preview-{api}", duration=5)

    def program():
        job = declare(api, "migrate", f"preview-{api}")
        pulumi.export("status", job.status)

    result = run(program, preview=True)
    assert invokes(fc) == 0 and not items(fc, f"preview-{api}")
    assert result.outputs["status"] == UNKNOWN


@pytest.mark.parametrize("api", APIS)
def test_a_failed_run_fails_the_program_in_one_line_and_its_dependents_are_not_created(fc, run, api):
    add(fc, api, f"fails-{api}", duration=3, fail_first=1, error_message="migration broke")

    def program():
        _app("app", declare(api, "migrate", f"fails-{api}"))

    with pytest.raises(ProgramError) as failed:
        run(program)
    message = str(failed.value)
    assert "Failed" in message and "migration broke" in message and "Traceback" not in message
    assert len(message.splitlines()) == 1
    assert not [r for r in failed.value.result.resources if r.name == "app"]
    assert invokes(fc) == 1


@pytest.mark.parametrize("api", APIS)
def test_a_start_whose_id_is_held_by_its_own_task_adopts_it(fc, run, api):
    """The state of a first up lost (a crash between the start and the state write): the next up's start meets
    its own task under the derived id (409, the same payload) and gates on it; no second run."""
    function = f"adopt-{api}"
    fn = fc.add_function("svc" if api == "fc2" else None, function, queue_delay=0, duration=20)

    def program():
        job = declare(api, "migrate", function, payload="same")
        pulumi.export("id", getattr(job, ID_KEY[api]))
        pulumi.export("status", job.status)

    first = run(program)
    again = run(program)  # no prior state: as after the crash
    assert fn.runs == 1 and [r.status for r in fc.requests if r.route == "invoke"] == [202, 409]
    assert again.outputs == first.outputs and again.outputs["status"] == "Succeeded"


def test_a_bad_input_is_refused_naming_it_before_any_request(fc, run):
    def program():
        AsyncTaskRun("migrate", function_name="fn", payload="{}", task_id="9-starts-with-a-digit")

    with pytest.raises(ProgramError) as failed:
        run(program)
    assert "task_id" in str(failed.value) and "Traceback" not in str(failed.value)
    assert isinstance(failed.value.__cause__, InvalidArgumentError)
    assert not fc.requests


def test_fifty_runs_start_then_wait_together_in_the_program(fc, run):
    """The starts are fast provider calls (the host's four workers); the waits are the program's: fifty tasks of
    600 s that end together are released within one poll cap of their end, not in batches of four."""
    fc.add_function(None, "shard", queue_delay=0, duration=600)
    start = fc.clock.now()

    def program():
        for i in range(50):
            _app(f"app-{i}", AsyncTaskRun(f"shard-{i}", function_name="shard", payload=f'{{"shard": {i}}}',
                                          max_poll_interval_seconds=30))

    result = run(program)
    assert invokes(fc) == 50 and len(items(fc, "shard")) == 50
    runs = [record(result, f"shard-{i}", "AsyncTaskRun").outputs for i in range(50)]
    assert {r["status"] for r in runs} == {"Succeeded"}
    waited = [r["waited_seconds"] for r in runs]
    assert min(waited) >= 600 - 1 and max(waited) <= 600 + 30
    assert fc.clock.now() - start <= 600 + 30 + 1


def test_under_a_users_mocks_a_run_registers_its_start_and_read_and_calls_nothing(fc, monkeypatch):
    """A user's unit test (``pulumi.runtime.set_mocks``): no provider runs, no request, no wait; the mock answers
    the start (a create) and the run (a read of the run's first derived id)."""
    import test_mocks

    seen = []

    class Recording(test_mocks.TaskMocks):
        def new_resource(self, args):
            seen.append((args.typ, args.resource_id))
            return super().new_resource(args)

    names = []

    def program():
        job = AsyncTaskRun("migrate", function_name="fn", payload="{}", endpoint=fc.endpoint)
        return job.function_name.apply(names.append)

    monkeypatch.setattr(test_mocks, "TaskMocks", Recording)
    test_mocks.run_with_mocks("Succeeded", program, fc)  # asserts no request and no (virtual) wait
    assert names == ["fn"]
    assert [typ for typ, _ in seen] == ["pulumi-python:dynamic/fc:AsyncTaskRunStart",
                                        "pulumi-python:dynamic/fc:AsyncTaskRun"]
    assert not seen[0][1] and seen[1][1].startswith("fn/migrate-") and seen[1][1].endswith("-0")


def _call(host, method, **request):
    """One provider call on the harness's host, as the engine makes it for a resource with prior state."""
    message = {"Diff": provider_pb2.DiffRequest, "Read": provider_pb2.ReadRequest,
               "Delete": provider_pb2.DeleteRequest, "Check": provider_pb2.CheckRequest}[method]
    for key in ("olds", "news", "properties"):
        if key in request:
            request[key] = asyncio.run(rpc.serialize_properties(request[key], {}))
    with grpc.insecure_channel(f"127.0.0.1:{host.port}") as channel:
        return getattr(provider_pb2_grpc.ResourceProviderStub(channel), method)(message(**request))


def test_the_start_resource_diffs_refreshes_and_deletes_without_invoking(fc, run, host):
    """What the engine sends the start resource after a first up (the harness keeps no state): a diff of the
    same inputs changes nothing and of a trigger replaces; a refresh records the task's state now (and keeps the
    last one for a task FC forgot); a delete forgets, stopping only with stop_on_delete. No InvokeFunction."""
    fc.add_function(None, "later", queue_delay=0, duration=100)

    def program():
        AsyncTaskRun("migrate", function_name="later", payload="{}", triggers={"v": "1"}, wait_for_completion=False)

    start = record(run(program), "migrate", "AsyncTaskRunStart")
    fc.reset_requests()
    blob = {"__provider": start.provider_blob}
    olds, news = {**start.outputs, **blob}, {**start.inputs, **blob}
    same = _call(host, "Diff", id=start.id, urn=start.urn, olds=olds, news=news)
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE and not same.replaces
    trigger = _call(host, "Diff", id=start.id, urn=start.urn, olds=olds,
                    news={**news, "triggers": {"v": "2"}, "run_sequence": 1})
    assert trigger.changes == provider_pb2.DiffResponse.DIFF_SOME and "run_sequence" in trigger.replaces

    assert start.outputs["status"] == "Enqueued"
    fc.advance(100)
    refreshed = rpc.deserialize_properties(_call(host, "Read", id=start.id, urn=start.urn, properties=olds).properties)
    assert refreshed["status"] == "Succeeded" and refreshed["task_id"] == start.outputs["task_id"]
    forgotten = {**olds, "task_id": "never-started"}
    kept = rpc.deserialize_properties(_call(host, "Read", id=start.id, urn=start.urn, properties=forgotten).properties)
    assert kept["status"] == "Enqueued" and kept["task_id"] == "never-started"

    fc.add_invocation(None, "later", "still-running", duration=1000)
    _call(host, "Delete", id=start.id, urn=start.urn, properties={**olds, "task_id": "still-running"})
    assert not [r for r in fc.requests if r.route == "stop"]  # stop_on_delete is false: forgotten
    _call(host, "Delete", id=start.id, urn=start.urn,
          properties={**olds, "task_id": "still-running", "stop_on_delete": True})
    assert [r.route for r in fc.requests if r.route == "stop"] == ["stop"]
    assert invokes(fc) == 0


@pytest.mark.parametrize("api", APIS)
def test_a_run_that_does_not_wait_records_an_item_fc_does_not_list_yet_as_enqueued(fc, run, api):
    """wait_for_completion=False reads the just-started item once; FC may not list it yet (every read of it
    answers 404 here): the run records it as enqueued, as the plugin does, and the program does not fail."""
    add(fc, api, f"unlisted-{api}", duration=30)
    code = {"fc3": "AsyncTaskNotFound", "fc2": "StatefulAsyncInvocationNotFound"}[api]
    fc.inject_fault("get", status=404, code=code, times=None)

    def program():
        job = declare(api, "migrate", f"unlisted-{api}", wait_for_completion=False)
        pulumi.export("status", job.status)
        pulumi.export("id", getattr(job, ID_KEY[api]))

    result = run(program)
    assert invokes(fc) == 1 and fc.request_count("get") >= 1
    ((item_id, _),) = items(fc, f"unlisted-{api}")
    assert result.outputs == {"status": "Enqueued", "id": item_id}
    assert record(result, "migrate", RUN[api]).outputs.get("waited_seconds") is None


def test_what_a_ctrl_c_runs_before_the_exit_is_bounded_in_time():
    """The hooks a Ctrl-C runs before the program exits (a run's stop with stop_on_timeout) run together; one
    that hangs is left to the exit after the budget, the others' words still reach the line."""
    import threading

    from pulumi_fc_invocation.pulumi.interrupt import run_hooks

    release, ended, budgets = threading.Event(), threading.Event(), []

    def hangs(budget):
        try:
            return release.wait(60) and "never said"
        finally:
            ended.set()

    try:
        said = run_hooks([lambda budget: budgets.append(budget) or "stopped task a/1", hangs,
                          lambda budget: None], budget=0.05)
        hung_at_return = not ended.is_set()  # run_hooks returned while the hung hook still ran: it did not wait
    finally:                                 # for it (no clock read here: what happened, not how long it took)
        release.set()
    assert hung_at_return and said == ["stopped task a/1"] and budgets == [0.05]


@pytest.mark.parametrize("api", APIS)
def test_a_recorded_run_diffs_unchanged_and_a_given_task_id_refuses_a_triggers_change(fc, run, host, api):
    """Both APIs take ``task_id`` (FC 2.0 records the id used under ``invocation_id`` and ``task_id``): the start
    of a recorded run, derived id or given, diffs unchanged against the same inputs; under a given ``task_id``
    a ``triggers`` change is refused by the check, naming the input and the rule (the start would adopt the
    task the id holds and run nothing). No InvokeFunction (the diff of an unfinished run reads it: a GET)."""
    add(fc, api, f"given-{api}", duration=100)

    def program():
        declare(api, "derived", f"given-{api}", triggers={"v": "1"}, wait_for_completion=False)
        declare(api, "given", f"given-{api}", task_id="job_1", triggers={"v": "1"}, wait_for_completion=False)

    result = run(program)
    started = sorted(item_id for item_id, _ in items(fc, f"given-{api}"))
    assert len(started) == 2 and started[0].startswith("derived-") and started[1] == "job_1"
    fc.reset_requests()
    for name in ("derived", "given"):
        start = record(result, name, RUN[api] + "Start")
        blob = {"__provider": start.provider_blob}
        same = _call(host, "Diff", id=start.id, urn=start.urn, olds={**start.outputs, **blob},
                     news={**start.inputs, **blob})
        assert same.changes == provider_pb2.DiffResponse.DIFF_NONE and not same.replaces, (name, same)
    start = record(result, "given", RUN[api] + "Start")
    blob = {"__provider": start.provider_blob}
    checked = _call(host, "Check", urn=start.urn, olds={**start.inputs, **blob},
                    news={**start.inputs, **blob, "triggers": {"v": "2"}})
    assert [(f.property, "give a new task_id" in f.reason) for f in checked.failures] == [("triggers", True)]
    assert {r.route for r in fc.requests} <= {"get"}


def test_a_recorded_run_that_failed_is_retried_under_its_retry_id_not_the_next_run(fc, run, host):
    """The start of a run recorded before its task ended, the task Failed since: the diff replaces, and the
    replacement's check (the engine's, without olds) keeps the run's sequence n, so its create retries under the
    run's retry ids (``...-<n>-<k>``, as docs/runs.md says), not as run n+1. One read (GET), no InvokeFunction."""
    start, blob = recorded_start(fc, run, "breaks", 10, fail_first=1)
    checked_news = {**start.inputs, "run_sequence": 0, **blob}  # as the engine sends them: checked
    diff = _call(host, "Diff", id=start.id, urn=start.urn, olds={**start.outputs, **blob}, news=checked_news)
    assert list(diff.replaces) == ["status"]
    fresh = {k: v for k, v in start.inputs.items() if k != "run_sequence"}
    checked = rpc.deserialize_properties(_call(host, "Check", urn=start.urn, olds={},
                                               news={**fresh, **blob}).inputs)
    assert checked["run_sequence"] == start.outputs["run_sequence"] == 0
    assert [r.route for r in fc.requests] == ["get"]


def test_a_run_a_refresh_recorded_as_failed_is_retried_by_the_next_up(fc, run, host):
    """``pulumi up --refresh`` (or a refresh, then an up) of a run whose task failed: the refresh records Failed
    (an ended status, so no read is needed); the diff still replaces it under the run's retry id, or every later
    up would gate on the Failed task again and fail forever. No request at all in the diff."""
    start, blob = recorded_start(fc, run, "breaks-later", 10, fail_first=1)
    olds = {**start.outputs, **blob}
    refreshed = rpc.deserialize_properties(_call(host, "Read", id=start.id, urn=start.urn, properties=olds).properties)
    assert refreshed["status"] == "Failed" and refreshed["is_terminal"] is True
    fc.reset_requests()
    diff = _call(host, "Diff", id=start.id, urn=start.urn, olds={**refreshed, **blob},
                 news={**start.inputs, "run_sequence": 0, **blob})
    assert list(diff.replaces) == ["status"]
    assert [r.route for r in fc.requests] == []


@pytest.mark.parametrize("case", ("held", "denied"))
def test_a_start_that_fails_fails_the_program_in_one_line_and_the_next_up_tries_again(fc, run, host, case):
    """A start refused (a given task_id held by a task of another payload; a 403 on InvokeFunction) fails the
    program in one line, never a provider host's traceback, the payload not shown; the start records why (no
    item), and the next up's diff replaces it so the start is tried again."""
    fc.add_function(None, f"start-{case}", queue_delay=0, duration=5)
    given = {}
    if case == "held":
        fc.add_invocation(None, f"start-{case}", "job-1", payload="other")
        given = {"task_id": "job-1"}
    else:
        fc.inject_fault("invoke", status=403, code="AccessDenied", times=1)

    def program():
        _app("app", AsyncTaskRun("migrate", function_name=f"start-{case}", payload="mine-s3cr3t", **given))

    with pytest.raises(ProgramError) as failed:
        run(program)
    message = str(failed.value)
    assert "Traceback" not in message and len(message.splitlines()) == 1, message
    assert ("task_id 'job-1'" if case == "held" else "AccessDenied") in message and "mine-s3cr3t" not in message
    assert not [r for r in failed.value.result.resources if r.name == "app"]
    start = record(failed.value.result, "migrate", "AsyncTaskRunStart")
    assert start.outputs["start_error"] and start.outputs.get("task_id") is None
    blob = {"__provider": start.provider_blob}
    diff = _call(host, "Diff", id=start.id, urn=start.urn, olds={**start.outputs, **blob},
                 news={**start.inputs, **blob})
    assert "start_error" in diff.replaces


def test_a_secret_payload_the_function_echoes_is_masked_in_the_verdict(fc, run):
    """The function's error echoes the run's payload (secret by default): the failure line masks it."""
    payload = '{"password": "hunter2-s3cr3t"}'
    fc.add_function(None, "echoes", queue_delay=0, duration=2, fail_first=1, error_message=f"bad event: {payload}")

    def program():
        AsyncTaskRun("migrate", function_name="echoes", payload=payload)

    with pytest.raises(ProgramError) as failed:
        run(program)
    text = str(failed.value)
    assert "bad event" in text and "Failed" in text and "hunter2-s3cr3t" not in text, text


def test_under_a_users_mocks_a_mocked_failed_run_fails_the_test(fc, monkeypatch):
    """A user's unit test whose mock answers the run's read with a Failed task: the test fails with the verdict,
    as an ``AsyncTask`` under the same mocks does (the run passed it on)."""
    import test_mocks

    class FailedRun(test_mocks.TaskMocks):
        def new_resource(self, args):
            if args.typ == "pulumi-python:dynamic/fc:AsyncTaskRun":
                return args.resource_id, {**args.inputs, "task_id": args.resource_id.split("/")[-1],
                                          "status": self.status, "task_error_message": "disk full"}
            return super().new_resource(args)

    def program():
        job = AsyncTaskRun("migrate", function_name="fn", payload="{}", endpoint=fc.endpoint)
        return job.status.apply(lambda status: status)

    monkeypatch.setattr(test_mocks, "TaskMocks", FailedRun)
    with pytest.raises(Exception) as failed:
        test_mocks.run_with_mocks("Failed", program, fc)
    assert "Failed" in str(failed.value) and "disk full" in str(failed.value)
    test_mocks.run_with_mocks("Succeeded", program, fc)  # the same mock answering Succeeded passes


def test_a_start_read_with_its_inputs_alone_reads_the_item_its_id_names(fc, run, host):
    """A Read of the start with no recorded outputs (the inputs alone, as a read of a pending create sends them):
    the item is the one the resource id names, read (a GET) and recorded; nothing is invoked."""
    start, blob = recorded_start(fc, run, "pending", 5)
    inputs = {k: v for k, v in start.inputs.items() if k != "task_id"}
    read = rpc.deserialize_properties(_call(host, "Read", id=start.id, urn=start.urn,
                                            properties={**inputs, **blob}).properties)
    assert read["status"] == "Succeeded" and read["task_id"] == start.outputs["task_id"]
    assert [r.route for r in fc.requests] == ["get"]
