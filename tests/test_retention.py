"""FC forgets (issue 24, item 10): an async task's record is kept for 7 days (FC 3.0 and FC 2.0 alike),
then every read answers NotFound. The emulator forgets as FC does, on its own clock (every API
revision, over HTTP). Through the harness (a real provider host, the emulator's virtual clock moved
past the week): a gate in `up`/`preview`, whose read the engine gives no prior state, fails with an
error that names the retention and the fix; a refresh, given the prior state, keeps it (but fails with
FC's code when the function, service, alias or version is gone); `destroy --run-program` is not blocked. The plugin over gRPC: its refresh keeps the state, an import or an
update names the retention. (The real CLI: tests/test_engine_retention.py.)"""

from __future__ import annotations

import json
import subprocess
import sys

import grpc
import pulumi
import pytest

from alibabacloud_fc_open20210406 import models as fc2_models
from alibabacloud_fc_open20210406.client import Client as Fc2Client
from alibabacloud_tea_openapi.models import Config
from pulumi.runtime.proto import engine_pb2, provider_pb2

from _emulated import CLEAN_ENV, refreshed
from _plugin_rpc import URN_TASK, configured, struct

from pulumi_fc_invocation import AsyncTask, AsyncTasks, StatefulAsyncInvocation, get_async_task_output
from pulumi_fc_invocation.errors import NotFoundError
from pulumi_fc_invocation.gate.operation import OPERATION_ENV
from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.harness import ProgramError, ProviderHost, run_program
from pulumi_fc_invocation.testing.models import TASK_RETENTION
from pulumi_fc_invocation.testing.scenario import ScenarioError

WEEK = 7 * 24 * 3600.0
SECRET_KEYS = ("alicloud:secretKey",)


# --- the emulator forgets, over HTTP, on every revision -------------------------------------------------


def test_the_default_retention_is_fcs_seven_days():
    assert TASK_RETENTION == WEEK
    with FcEmulator(clock="virtual") as fc:
        assert fc.retention == WEEK


def sdk_2021(fc):
    return Fc2Client(Config(access_key_id=fc.credentials.access_key_id,
                            access_key_secret=fc.credentials.access_key_secret,
                            endpoint=f"127.0.0.1:{fc.port}", protocol="http"))


def test_a_task_is_read_until_seven_days_after_it_started_then_every_revision_answers_not_found():
    with FcEmulator(clock="virtual") as fc, fc.client(max_retries=0) as client:
        fc.add_function("video", "transcode", duration=30)
        fc.add_function(None, "render", duration=30)
        client.invoke_async("video", "transcode", "{}", invocation_id="old-1")
        client.invoke_async_task("render", "{}", task_id="old-3")
        fc.advance(WEEK - 1)
        client.invoke_async("video", "transcode", "{}", invocation_id="new-1")
        client.invoke_async_task("render", "{}", task_id="new-3")
        # One second short of the week: both are there, on every revision.
        assert client.get_stateful_async_invocation("video", "transcode", "old-1").succeeded
        assert client.get_async_task("render", "old-3").succeeded
        assert client.get_async_task("video$transcode", "old-1").succeeded
        sdk = sdk_2021(fc)
        request = fc2_models.GetStatefulAsyncInvocationRequest()
        assert sdk.get_stateful_async_invocation("video", "transcode", "old-1", request).body.status == "Succeeded"

        fc.advance(1)  # the week is over for old-1 and old-3: forgotten; new-1 and new-3 stay
        with pytest.raises(NotFoundError) as info:
            client.get_stateful_async_invocation("video", "transcode", "old-1")
        assert info.value.code == "StatefulAsyncInvocationNotFound"
        with pytest.raises(NotFoundError) as info:
            client.get_async_task("render", "old-3")
        assert info.value.code == "AsyncTaskNotFound"
        with pytest.raises(NotFoundError):
            client.get_async_task("video$transcode", "old-1")
        with pytest.raises(Exception) as info:
            sdk.get_stateful_async_invocation("video", "transcode", "old-1", request)
        assert "StatefulAsyncInvocationNotFound" in str(info.value)
        # Stop answers as a read does; the listings leave them out.
        with pytest.raises(NotFoundError):
            client.stop_stateful_async_invocation("video", "transcode", "old-1")
        with pytest.raises(NotFoundError):
            client.stop_async_task("render", "old-3")
        assert [r.invocation_id for r in client.list_stateful_async_invocations("video", "transcode")] == ["new-1"]
        assert [r.task_id for r in client.list_async_tasks("render")] == ["new-3"]
        assert client.get_stateful_async_invocation("video", "transcode", "new-1").status.value == "Running"
        # Forgotten for good: gone from the inspection API too, and its id can be used again.
        assert sorted(s.invocation_id for s in fc.invocations) == ["new-1", "new-3"] and fc.backend.forgotten == 2
        with pytest.raises(KeyError):
            fc.get_invocation("video", "transcode", "old-1")
        client.invoke_async("video", "transcode", "{}", invocation_id="old-1")
        assert client.get_stateful_async_invocation("video", "transcode", "old-1").status.value == "Running"


def test_seeding_a_task_fc_would_have_forgotten_already_is_an_error():
    with FcEmulator(clock="virtual") as fc, fc.client(max_retries=0) as client:
        with pytest.raises(ValueError, match=r"started_at .* past the emulator's retention \(7 days\)"):
            fc.add_invocation("s", "f", "ancient", started_at=fc.now() - WEEK, timeline=[("Succeeded", 1)])
        fc.add_invocation("s", "f", "recent", started_at=fc.now() - WEEK + 60, timeline=[("Succeeded", 1)])
        assert [r.invocation_id for r in client.list_stateful_async_invocations("s", "f")] == ["recent"]


def test_retention_is_a_setting_and_none_keeps_every_task():
    with FcEmulator(clock="virtual", retention=3600) as fc, fc.client(max_retries=0) as client:
        fc.add_function(None, "hourly", duration=1)
        client.invoke_async_task("hourly", "{}", task_id="h-1")
        fc.advance(3599)
        assert client.get_async_task("hourly", "h-1").succeeded
        fc.advance(1)
        with pytest.raises(NotFoundError):
            client.get_async_task("hourly", "h-1")
    with FcEmulator(clock="virtual", retention=None) as fc, fc.client(max_retries=0) as client:
        assert fc.retention is None
        fc.add_function(None, "kept", duration=1)
        client.invoke_async_task("kept", "{}", task_id="k-1")
        fc.advance(365 * 24 * 3600)
        assert client.get_async_task("kept", "k-1").succeeded


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "7d", True])
def test_a_bad_retention_is_refused(bad):
    with pytest.raises(ValueError, match="retention"):
        FcEmulator(clock="virtual", retention=bad)


def test_a_scenario_sets_the_retention_and_a_task_past_it_is_an_error_at_load():
    scenario = {"retention": 60, "invocations": [
        {"service": None, "function": "render", "invocationId": "t", "startedAgo": 30}]}
    with FcEmulator(clock="virtual", scenario=scenario) as fc:
        assert fc.retention == 60 and [s.invocation_id for s in fc.invocations] == ["t"]
        fc.advance(30)
        assert fc.invocations == []
    scenario["invocations"][0]["startedAgo"] = 90
    with pytest.raises(ScenarioError, match=r"invocations\[0\].*past the emulator's retention \(60 s\)"):
        FcEmulator(clock="virtual", scenario=scenario)
    with FcEmulator(clock="virtual", scenario={**scenario, "retention": None}) as fc:
        assert fc.retention is None and len(fc.invocations) == 1
    with pytest.raises(ScenarioError, match="retention"):
        FcEmulator(clock="virtual", scenario={"retention": "a week"})


def test_the_emulator_cli_takes_a_retention(tmp_path):
    from pulumi_fc_invocation.testing.emulator_cli import build_parser

    parser = build_parser()
    assert parser.parse_args([]).retention == WEEK
    assert parser.parse_args(["--retention", "3600"]).retention == 3600.0
    assert parser.parse_args(["--retention", "none"]).retention is None
    with pytest.raises(SystemExit):
        parser.parse_args(["--retention", "0"])
    scenario = tmp_path / "old.json"
    scenario.write_text(json.dumps({"invocations": [{"service": "s", "function": "f", "invocationId": "i",
                                                     "startedAgo": 90}]}))
    code = "import sys; from pulumi_fc_invocation.testing.emulator_cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", code, "--port", "0", "--retention", "60", "--scenario", str(scenario)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "past the emulator's retention (60 s)" in proc.stderr, proc.stderr


def test_tasks_seeded_out_of_order_are_forgotten_by_age():
    with FcEmulator(clock="virtual") as fc, fc.client(max_retries=0) as client:
        ages = [(i * 7919) % 2000 for i in range(2000)]  # every age from 0 to 1999 s past the week's start
        for i, age in enumerate(ages):
            fc.add_invocation("bulk", "f", f"b-{age}", started_at=fc.now() - WEEK + 1 + age,
                              timeline=[("Succeeded", 0)])
        fc.advance(1000)  # b-0 .. b-999 are a week old now (b-999 exactly)
        assert sorted(int(s.invocation_id[2:]) for s in fc.invocations) == list(range(1000, 2000))
        assert client.get_stateful_async_invocation("bulk", "f", "b-1000").succeeded
        with pytest.raises(NotFoundError):
            client.get_stateful_async_invocation("bulk", "f", "b-999")


# --- a gate on a forgotten task: the data sources, through the harness ------------------------------------


def deploy(fc, program, preview=False):
    """``pulumi up`` (or ``preview``) through the harness, set up as the README teaches: the package's
    ``fc_emulator`` fixture (its virtual clock moves by itself while a gate waits) and its stack config."""
    return run_program(program, config=fc.stack_config(), secret_keys=SECRET_KEYS, preview=preview, env=CLEAN_ENV)


def assert_names_retention_and_fix(text, noun):
    assert "FC keeps an async task's record for 7 days after it starts" in text, text
    assert f"if this {noun} started earlier, FC has forgotten it" in text, text
    assert "remove this gate from the program" in text, text


@pytest.mark.parametrize("wait", [True, False])
@pytest.mark.parametrize("preview", [False, True])
def test_a_gate_on_last_weeks_invocation_says_fc_forgot_it_and_what_to_do(fc_emulator, wait, preview):
    fc = fc_emulator
    inv_id = f"weekly-{int(wait)}{int(preview)}"
    fc.add_function("ret", "job", duration=60)
    fc.client().invoke_async("ret", "job", "{}", invocation_id=inv_id)

    def program():
        gate = StatefulAsyncInvocation("gate", service_name="ret", function_name="job", invocation_id=inv_id,
                                       wait_for_completion=wait)
        pulumi.export("status", gate.status)

    fc.advance(60)
    assert deploy(fc, program).outputs["status"] == "Succeeded"  # the deployment of that week
    fc.advance(WEEK)  # a week later, the program still names the task
    with pytest.raises(ProgramError) as info:
        deploy(fc, program, preview=preview)
    text = info.value.message
    assert f"invocation not found: service 'ret', qualifier '(none)', function 'job', invocation id '{inv_id}'" in text
    assert text.count("StatefulAsyncInvocationNotFound") == 1, text
    assert_names_retention_and_fix(text, "invocation")


@pytest.mark.parametrize("form", ["resource", "function"])
def test_a_gate_on_last_weeks_task_says_fc_forgot_it_and_what_to_do(fc_emulator, form):
    fc = fc_emulator
    task_id = f"weekly-{form}"
    fc.add_function(None, "render", duration=60)
    fc.client().invoke_async_task("render", "{}", task_id=task_id)

    def program():
        if form == "resource":
            status = AsyncTask("gate", function_name="render", task_id=task_id, wait_for_completion=True).status
        else:
            status = get_async_task_output(function_name="render", task_id=task_id, wait_for_completion=True).status
        pulumi.export("status", status)

    assert deploy(fc, program).outputs["status"] == "Succeeded"
    fc.advance(WEEK)
    with pytest.raises(ProgramError) as info:
        deploy(fc, program)
    text = info.value.message
    assert f"task not found: function 'render', qualifier '(none)', task id '{task_id}'" in text
    assert_names_retention_and_fix(text, "task")


def test_a_gate_on_a_task_six_days_old_still_passes(fc_emulator):
    fc = fc_emulator
    fc.add_function(None, "render", duration=60)
    fc.client().invoke_async_task("render", "{}", task_id="six-days")
    fc.advance(6 * 24 * 3600)

    def program():
        pulumi.export("status", AsyncTask("gate", function_name="render", task_id="six-days").status)

    assert deploy(fc, program).outputs["status"] == "Succeeded"


def test_a_missing_function_is_not_blamed_on_the_retention(fc_emulator):
    fc = fc_emulator
    def program():
        AsyncTask("gate", function_name="no-such-fn", task_id="t-1")

    with pytest.raises(ProgramError) as info:
        deploy(fc, program)
    text = info.value.message
    assert "FunctionNotFound" in text and "7 days" not in text, text


# --- a refresh: the engine gives the read the state last recorded, and the read keeps it ----------------


@pytest.mark.parametrize("api", ["fc2", "fc3"])
def test_a_refresh_keeps_the_state_recorded_for_a_task_fc_has_forgotten(fc_emulator, api):
    fc = fc_emulator
    if api == "fc2":
        fc.add_invocation("ret", "job", "r-1", timeline=[("Running", 0), ("Succeeded", 30)], return_payload="ok")
        declare = lambda: StatefulAsyncInvocation("gate", service_name="ret", function_name="job",  # noqa: E731
                                                  invocation_id="r-1", wait_for_completion=True)
    else:
        fc.add_invocation(None, "render", "r-3", timeline=[("Running", 0), ("Succeeded", 30)], return_payload="ok")
        declare = lambda: AsyncTask("gate", function_name="render", task_id="r-3",  # noqa: E731
                                    wait_for_completion=True)
    with ProviderHost(env=CLEAN_ENV) as host:
        host.configure(fc.stack_config(), secret_keys=SECRET_KEYS)
        rec = run_program(declare, config=fc.stack_config(), secret_keys=SECRET_KEYS, host=host).resource("gate")
        assert rec.outputs["status"] == "Succeeded"
        fc.advance(WEEK)
        fc.reset_requests()
        id_, outs = refreshed(host, rec)
        assert fc.request_count("get") == 1 and fc.requests[0].status == 404  # FC was asked, and has forgotten
        assert id_ == rec.id
        assert outs == {**rec.outputs, "__provider": rec.provider_blob}
        # ...while `up` still fails, with the retention and the fix.
        with pytest.raises(ProgramError) as info:
            run_program(declare, config=fc.stack_config(), secret_keys=SECRET_KEYS, host=host)
        assert_names_retention_and_fix(info.value.message, "invocation" if api == "fc2" else "task")


def test_a_refresh_of_a_task_that_fc_still_has_reads_it(fc_emulator):
    fc = fc_emulator
    fc.add_invocation(None, "render", "r-4", timeline=[("Running", 0), ("Failed", 600)], error_message="boom")
    with ProviderHost(env=CLEAN_ENV) as host:
        host.configure(fc.stack_config(), secret_keys=SECRET_KEYS)
        rec = run_program(lambda: AsyncTask("gate", function_name="render", task_id="r-4"),
                          config=fc.stack_config(), secret_keys=SECRET_KEYS, host=host).resource("gate")
        assert rec.outputs["status"] == "Running"
        fc.advance(WEEK - 1)
        _, outs = refreshed(host, rec)
        assert outs["status"] == "Failed" and outs["task_error_message"] == "boom"


# --- the plugin, over gRPC: a refresh keeps the state; an import or an update names the retention --------


def test_the_plugin_keeps_the_recorded_state_in_a_refresh_and_names_the_retention_otherwise(plugin, fc_emulator):
    fc = fc_emulator
    configured(plugin, fc)
    fc.add_invocation(None, "render", "p-1", timeline=[("Running", 0), ("Succeeded", 0.5)], return_payload="ok")
    fc.advance(1)
    inputs = struct({"functionName": "render", "taskId": "p-1", "waitForCompletion": True, "timeoutSeconds": 60})
    created = plugin.Create(provider_pb2.CreateRequest(urn=URN_TASK, properties=inputs))
    assert dict(created.properties.items())["status"] == "Succeeded"
    fc.advance(WEEK)
    # `pulumi refresh`: the engine hands Read the state; FC has forgotten the task; the state stays.
    read = plugin.Read(provider_pb2.ReadRequest(id=created.id, urn=URN_TASK, properties=created.properties,
                                                inputs=inputs))
    assert read.id == created.id and read.properties == created.properties and read.inputs == inputs
    # `pulumi import` (no state) and an update (new settings: a verdict is due) cannot judge it.
    with pytest.raises(grpc.RpcError) as info:
        plugin.Read(provider_pb2.ReadRequest(id=created.id, urn=URN_TASK))
    assert_names_retention_and_fix(info.value.details(), "task")
    news = struct({"functionName": "render", "taskId": "p-1", "waitForCompletion": True, "timeoutSeconds": 120})
    with pytest.raises(grpc.RpcError) as info:
        plugin.Update(provider_pb2.UpdateRequest(id=created.id, urn=URN_TASK, olds=created.properties, news=news))
    assert_names_retention_and_fix(info.value.details(), "task")


# --- destroy --run-program: the program's reads are forgotten right after; a forgotten task must not block it


def test_destroy_running_the_program_is_not_blocked_by_a_task_fc_has_forgotten(fc_emulator):
    fc = fc_emulator
    fc.add_invocation("ret", "job", "d-1", timeline=[("Running", 0), ("Succeeded", 30)])

    def program():
        gate = StatefulAsyncInvocation("gate", service_name="ret", function_name="job", invocation_id="d-1",
                                       wait_for_completion=True)
        pulumi.export("status", gate.status)

    assert deploy(fc, program).outputs["status"] == "Succeeded"
    fc.advance(WEEK)
    destroy = {**CLEAN_ENV, OPERATION_ENV: "destroy"}  # what `pulumi destroy --run-program` tells the gates
    result = run_program(program, config=fc.stack_config(), secret_keys=SECRET_KEYS, env=destroy)
    assert result.resource("gate").outputs["invocation_id"] == "d-1"
    assert fc.requests[-1].route == "get" and fc.requests[-1].status == 404
    # ...an `up` (or a refresh running the program, which is given no prior state) still names the retention.
    for operation in ("up", "refresh"):
        with pytest.raises(ProgramError) as info:
            run_program(program, config=fc.stack_config(), secret_keys=SECRET_KEYS,
                        env={**CLEAN_ENV, OPERATION_ENV: operation})
        assert_names_retention_and_fix(info.value.message, "invocation")


# --- a batch gate: FC's listing simply leaves forgotten tasks out ------------------------------------------


def test_a_waiting_batch_gate_on_last_weeks_tasks_says_fc_may_have_forgotten_them(fc_emulator):
    fc = fc_emulator
    for i in range(3):
        fc.add_invocation(None, "shard", f"shard-{i}", timeline=[("Running", 0), ("Succeeded", 30)])

    def program():
        batch = AsyncTasks("shards", function_name="shard", task_id_prefix="shard-", wait_for_completion=True,
                           timeout_seconds=600)
        pulumi.export("total", batch.total)

    assert deploy(fc, program).outputs["total"] == 3
    fc.advance(WEEK)
    with pytest.raises(ProgramError) as info:
        deploy(fc, program)
    text = info.value.message
    assert "no task matches (check function, qualifier, prefix and time window" in text, text
    assert "FC forgets a task 7 days after it starts" in text, text


# --- a refresh keeps the state only for an item FC has forgotten ----------------------------------------
# A 404 that names the task or invocation keeps the recorded state, with a warning that says so. A 404 that
# names the function, service, alias or version (deleted, or the region or account changed) is no retention
# matter: the refresh fails with FC's code, not silently keeping stale state.


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
def test_a_refresh_whose_function_is_gone_keeps_the_state_and_names_the_stored_settings(fc_emulator, api, gone,
                                                                                       code):
    """A plain refresh reads with the settings stored at the last `up` (a region or account moved since?): an
    error raised in the provider host is a traceback, so the read keeps the state and warns once (issue 27)."""
    fc = fc_emulator
    with ProviderHost(env=CLEAN_ENV) as host:
        host.configure(fc.stack_config(), secret_keys=SECRET_KEYS)
        rec = _recorded(fc, api, host)
        rec.id = gone  # the state names a function FC no longer has
        id_, outs = refreshed(host, rec)
        assert id_ == gone and outs == {**rec.outputs, "__provider": rec.provider_blob}
        text = host.stderr_text()
    assert code in text and "7 days" not in text and "Traceback" not in text, text
    assert "`alicloud:region`" in text and "pulumi refresh --run-program" in text, text


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
