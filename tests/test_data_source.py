"""The data source end to end: program in-process under mocks, provider in a real host process,
the emulator over real HTTP, virtual time for every wait."""

import base64
import re

import grpc
import pulumi
import pytest

import pulumi_fc_invocation
from pulumi_fc_invocation import StatefulAsyncInvocation, get_stateful_async_invocation_output
from pulumi_fc_invocation import StatefulAsyncInvocations, get_stateful_async_invocations_output
from pulumi_fc_invocation.testing.harness import ProgramError
from pulumi_fc_invocation.waiter import DEFAULT_MAX_POLL_INTERVAL
from _emulated import SECRET, TOKEN, refreshed


def _dependent(name, inv):
    return pulumi.CustomResource("test:index:App", name, {"release": "v2"}, opts=pulumi.ResourceOptions(depends_on=[inv]))


@pytest.mark.parametrize("status,terminal", [("Enqueued", False), ("Running", False), ("Retrying", False),
                                             ("Succeeded", True), ("Failed", True), ("Stopped", True),
                                             ("Expired", True), ("Invalid", True)])
def test_outputs_and_types_for_each_status(fc, run, status, terminal):
    inv_id = f"types-{status.lower()}"
    fc.add_invocation("typesvc", "fn", inv_id, qualifier="prod", payload='{"video": "v1"}',
                      timeline=[("Enqueued", 0), (status, 0)] if status != "Enqueued" else [("Enqueued", 0)])

    def program():
        inv = StatefulAsyncInvocation("inv", service_name="typesvc", function_name="fn", invocation_id=inv_id,
                                      qualifier="prod", fail_on_statuses=[])
        pulumi.export("status", inv.status)

    result = run(program)
    rec = result.resource("inv")
    out = rec.outputs
    assert rec.type == "pulumi-python:dynamic/fc:StatefulAsyncInvocation"
    assert rec.id == f"typesvc.prod/fn/{inv_id}"
    assert out["status"] == status and result.outputs["status"] == status
    assert out["is_terminal"] is terminal
    assert out["service_name"] == "typesvc" and out["function_name"] == "fn" and out["qualifier"] == "prod"
    assert isinstance(out["already_retried_times"], int) and not isinstance(out["already_retried_times"], bool)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", out["started_time"])
    if terminal:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", out["end_time"])
        assert isinstance(out["duration_ms"], int)
    else:
        assert out.get("end_time") is None  # None values are dropped on the wire; the Output resolves None
    assert out["invocation_payload"] == '{"video": "v1"}'
    assert {"invocation_payload", "return_payload"} <= rec.secret_outputs
    assert isinstance(out["events"], list) and out["events"][0]["status"] == "Enqueued"
    assert out["request_id"]


def test_payloads_plain_when_opted_out(fc, run):
    fc.add_invocation("plainsvc", "fn", "p1", payload="hello", timeline=[("Succeeded", 0)])

    def program():
        StatefulAsyncInvocation("inv", service_name="plainsvc", function_name="fn", invocation_id="p1",
                                secret_payloads=False)

    rec = run(program).resource("inv")
    assert rec.outputs["invocation_payload"] == "hello"
    assert not ({"invocation_payload", "return_payload"} & rec.secret_outputs)


def test_fifty_gates_wait_concurrently_and_release_together(fc, run):
    fc.add_function("batch", "shard", outcome="Succeeded", duration=600)
    client = fc.client()
    for i in range(50):
        client.invoke_async("batch", "shard", "{}", invocation_id=f"shard-{i}")
    start = fc.clock.now()

    def program():
        for i in range(50):
            inv = StatefulAsyncInvocation(f"shard-{i}", service_name="batch", function_name="shard",
                                          invocation_id=f"shard-{i}", wait_for_completion=True)
            _dependent(f"app-{i}", inv)

    result = run(program)
    waited = [result.resource(f"shard-{i}").outputs["waited_seconds"] for i in range(50)]
    assert all(result.resource(f"shard-{i}").outputs["status"] == "Succeeded" for i in range(50))
    # All tasks ended at +600 s: every gate released within one poll cap (45 s, +20% jitter) of that,
    # and total virtual time is that of one wait, not fifty in series (or in batches of four).
    assert min(waited) >= 600 and max(waited) <= 600 + 45 * 1.2
    assert fc.clock.now() - start <= 600 + 45 * 1.2 + 1


@pytest.mark.parametrize("status", ["Failed", "Stopped", "Expired", "Invalid"])
def test_each_fail_status_fails_with_status_error_request_id_and_id(fc, run, status):
    inv_id = f"bad-{status.lower()}"
    fc.add_invocation("failing", "job", inv_id, qualifier="3", error_message="UnhandledException: disk full",
                      timeline=[("Running", 0), (status, 20)])

    def program():
        inv = StatefulAsyncInvocation("inv", service_name="failing", function_name="job", invocation_id=inv_id,
                                      qualifier="3", wait_for_completion=True)
        _dependent("app", inv)

    with pytest.raises(ProgramError) as info:
        run(program)
    text = info.value.message
    assert f"invocation failing.3/job/{inv_id} ended {status}" in text
    if status != "Stopped":  # a stopped task has no error message in FC
        assert "UnhandledException: disk full" in text
    assert re.search(r"request id [0-9a-f-]{20,}", text)
    assert not any(r.name == "app" for r in info.value.result.resources)


def test_allowed_terminal_status_passes(fc, run):
    fc.add_invocation("allow", "job", "stopped-ok", timeline=[("Running", 0), ("Stopped", 3)])

    def program():
        inv = StatefulAsyncInvocation("inv", service_name="allow", function_name="job", invocation_id="stopped-ok",
                                      wait_for_completion=True, fail_on_statuses=["Failed"])
        _dependent("app", inv)
        pulumi.export("status", inv.status)

    result = run(program)
    assert result.outputs["status"] == "Stopped" and result.resource("app")


def test_preview_fails_on_an_already_failed_task_with_the_same_message(fc, run):
    fc.add_invocation("prev", "job", "dead", error_message="OOM", timeline=[("Failed", 0)])

    def program():
        StatefulAsyncInvocation("inv", service_name="prev", function_name="job", invocation_id="dead",
                                wait_for_completion=True)

    with pytest.raises(ProgramError) as preview:
        run(program, preview=True)
    with pytest.raises(ProgramError) as update:
        run(program)
    line = "invocation prev/job/dead ended Failed: OOM"
    assert line in preview.value.message and line in update.value.message


def test_transient_503s_during_a_wait_are_survived(fc, run):
    fc.add_function("flaky", "job", outcome="Succeeded", duration=30)
    fc.client().invoke_async("flaky", "job", "{}", invocation_id="flaky-1")
    fc.inject_fault(route="get", status=503, code="ResourceThrottled", times=12)

    def program():
        inv = StatefulAsyncInvocation("inv", service_name="flaky", function_name="job", invocation_id="flaky-1",
                                      wait_for_completion=True)
        pulumi.export("status", inv.status)

    try:
        result = run(program)
    finally:
        fc.clear_faults()
    assert result.outputs["status"] == "Succeeded"
    assert sum(1 for r in fc.requests if r.status == 503) == 12


def test_progress_messages_appear(fc, run):
    fc.add_function("prog", "job", outcome="Succeeded", duration=150, retries=1, retry_delay=1)
    fc.client().invoke_async("prog", "job", "{}", invocation_id="prog-1")

    def program():
        StatefulAsyncInvocation("inv", service_name="prog", function_name="job", invocation_id="prog-1",
                                wait_for_completion=True)

    result = run(program)
    messages = [log.message for log in result.logs if "prog/job/prog-1" in log.message]
    progress = [m for m in messages if re.fullmatch(r"waiting for prog/job/prog-1: \w+, retried \d+ times?, "
                                                    r"\d+m\d\ds elapsed", m)]
    assert 3 <= len(progress) <= 11, messages
    assert any("retried 1 time," in m for m in progress)
    inv_urn = result.resource("inv").urn
    assert all(log.urn == inv_urn for log in result.logs if "prog/job/prog-1" in log.message), \
        [(log.urn, inv_urn) for log in result.logs]
    assert all(log.urn == inv_urn for log in result.logs if "prog/job/prog-1" in log.message)


@pytest.mark.parametrize("kwargs,argument", [
    (dict(service_name="9bad"), "service_name"),
    (dict(invocation_id="has space"), "invocation_id"),
    (dict(qualifier="a.b"), "qualifier"),
    (dict(timeout_seconds=0), "timeout_seconds"),
    (dict(timeout_seconds=-5), "timeout_seconds"),
    (dict(fail_on_statuses=["Failed", "Exploded"]), "fail_on_statuses"),
    (dict(fail_on_statuses=["Running"]), "fail_on_statuses"),
    (dict(endpoint="127.0.0.1:9000"), "endpoint '127.0.0.1:9000': no scheme"),
])
@pytest.mark.parametrize("as_output", [False, True])
def test_bad_inputs_fail_before_any_request(fc, run, kwargs, argument, as_output):
    args = dict(service_name="video", function_name="transcode", invocation_id="video-123", **{})
    args.update(kwargs)
    fc.reset_requests()

    def program():
        values = {k: pulumi.Output.from_input(v) if as_output and k != "fail_on_statuses" else v
                  for k, v in args.items()}
        StatefulAsyncInvocation("inv", wait_for_completion=True, **values)

    with pytest.raises((ProgramError, ValueError)) as info:
        run(program)
    assert argument in str(info.value)
    assert fc.request_count() == 0


@pytest.mark.parametrize("form", ["resource", "resource-output", "function", "batch", "endpoint"])
def test_a_bad_argument_ends_the_program_with_its_message_alone(fc, run, form):
    """As the language host prints a pulumi.RunError: the message, no traceback of SDK frames."""
    from pulumi_fc_invocation import (FcInvocationError, InvalidArgumentError, StatefulAsyncInvocations,
                                      get_stateful_async_invocation)

    def program():
        if form == "resource":
            StatefulAsyncInvocation("inv", service_name="9bad", function_name="f", invocation_id="i")
        elif form == "resource-output":
            StatefulAsyncInvocation("inv", service_name=pulumi.Output.from_input("9bad"), function_name="f",
                                    invocation_id="i")
        elif form == "function":
            get_stateful_async_invocation(service_name="9bad", function_name="f", invocation_id="i")
        elif form == "batch":
            StatefulAsyncInvocations("b", service_name="9bad", function_name="f", invocation_id_prefix="p-")
        else:
            StatefulAsyncInvocation("inv", service_name="s", function_name="f", invocation_id="i",
                                    endpoint="127.0.0.1:9000")

    with pytest.raises(ProgramError) as info:
        run(program)
    message = info.value.message
    assert "Traceback" not in message and "\n" not in message, message
    cause = info.value.__cause__
    assert isinstance(cause, pulumi.RunError) and isinstance(cause, FcInvocationError)
    if form == "endpoint":
        assert message.startswith("endpoint '127.0.0.1:9000': no scheme")
    else:
        assert message.startswith("invalid service_name '9bad'") and isinstance(cause, InvalidArgumentError)
        assert isinstance(cause, ValueError)


def test_not_found_names_everything(fc, run):
    fc.add_function("nf", "job", qualifiers=("LATEST", "prod"))

    def program():
        StatefulAsyncInvocation("inv", service_name="nf", function_name="job", invocation_id="missing-1",
                                qualifier="prod", wait_for_completion=True)

    with pytest.raises(ProgramError) as info:
        run(program)
    text = info.value.message
    assert ("invocation not found: service 'nf', qualifier 'prod', function 'job', invocation id 'missing-1'"
            in text)
    assert "StatefulAsyncInvocationNotFound" in text


def test_a_plain_read_of_a_missing_invocation_says_code_and_request_id_once(fc, run):
    fc.add_function("nf", "job")

    def program():
        StatefulAsyncInvocation("inv", service_name="nf", function_name="job", invocation_id="missing-2")

    with pytest.raises(ProgramError) as info:
        run(program)
    text = info.value.message
    assert "invocation not found: service 'nf', qualifier '(none)', function 'job', invocation id 'missing-2'" in text
    assert text.count("StatefulAsyncInvocationNotFound") == 1 and text.count("request id") == 1, text


def test_no_credential_anywhere(fc, run):
    fc.add_invocation("leak", "job", "ok-1", timeline=[("Succeeded", 0)])
    fc.add_invocation("leak", "job", "bad-1", timeline=[("Failed", 0)])

    def ok():
        inv = StatefulAsyncInvocation("inv", service_name="leak", function_name="job", invocation_id="ok-1")
        pulumi.export("all", pulumi.Output.all(inv.status, inv.events, inv.request_id))

    def bad():
        StatefulAsyncInvocation("inv", service_name="leak", function_name="job", invocation_id="bad-1")

    result = run(ok)
    texts = [repr(result.outputs)]
    for rec in result.resources:
        texts += [repr(rec.outputs), repr(rec.inputs), rec.provider_blob or ""]
        if rec.provider_blob:
            texts.append(base64.b64decode(rec.provider_blob).decode("latin-1"))
    texts += [log.message for log in result.logs]
    with pytest.raises(ProgramError) as info:
        run(bad)
    texts += [info.value.message, str(info.value)]
    blob = "\n".join(texts)
    assert "ok-1" in blob and result.resource("inv").provider_blob
    assert SECRET not in blob and TOKEN not in blob


def test_refresh_reads_from_prior_outputs_without_waiting(fc, run, host):
    from pulumi.runtime import rpc
    from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
    import asyncio

    fc.add_invocation("refresh", "job", "r-1", timeline=[("Running", 0), ("Succeeded", 10)])

    def program():
        StatefulAsyncInvocation("inv", service_name="refresh", function_name="job", invocation_id="r-1",
                                wait_for_completion=True)

    rec = run(program).resource("inv")
    prior = dict(rec.outputs)
    prior["__provider"] = rec.provider_blob
    fc.reset_requests()
    stub = provider_pb2_grpc.ResourceProviderStub(grpc.insecure_channel(f"127.0.0.1:{host.port}"))
    props = asyncio.run(rpc.serialize_properties(prior, {}))
    response = stub.Read(provider_pb2.ReadRequest(id=rec.id, urn=rec.urn, properties=props))
    outs = rpc.deserialize_properties(response.properties)
    assert response.id == "refresh/job/r-1" and outs["status"] == "Succeeded"
    assert fc.request_count() == 1  # one read, no polling


def test_more_than_a_thousand_dynamic_resources_do_not_hit_the_sdk_pickler_leak():
    """Pulumi SDK 3.272's serialize_provider wraps pickle's _batch_setitems once more per call; the
    data source undoes it after each registration, so a program may declare thousands of them."""
    import pickle

    from pulumi.dynamic.dynamic import serialize_provider

    from pulumi_fc_invocation.provider import StatefulAsyncInvocationProvider
    from pulumi_fc_invocation.sdk_workarounds import undo_sdk_pickler_chain

    provider = StatefulAsyncInvocationProvider()
    blobs = set()
    for _ in range(1500):
        blobs.add(serialize_provider(provider))
        undo_sdk_pickler_chain()
    assert len(blobs) == 1  # deterministic, and no RecursionError
    assert pickle._Pickler._batch_setitems.__qualname__ == "_Pickler._batch_setitems"
    with pytest.raises(RecursionError):  # the leak is real: without the undo it fails
        for _ in range(3000):
            serialize_provider(provider)
    undo_sdk_pickler_chain()


def test_a_hopeless_error_during_the_wait_is_shown(fc, run):
    fc.add_function("hope", "job", outcome="Succeeded", duration=60)
    fc.client().invoke_async("hope", "job", "{}", invocation_id="h-1")
    fc.inject_fault(route="get", status=403, code="AccessDenied", times=1)

    def program():
        StatefulAsyncInvocation("inv", service_name="hope", function_name="job", invocation_id="h-1",
                                wait_for_completion=True)

    with pytest.raises(ProgramError) as info:
        run(program)
    # One line (gate/explain.py), naming the settings to check; no warning says it again.
    assert not [log.message for log in info.value.result.logs if log.severity == "warning"]
    assert "Function Compute refused the credentials" in info.value.message, info.value.message
    assert "AccessDenied" in info.value.message and "`alicloud:accountId`" in info.value.message


def test_an_input_error_is_raised_again_as_a_run_error_chained_to_the_original():
    """The Pulumi forms raise a new error of the original's class that is also a RunError, from the
    original (which keeps its own class): nothing is re-classed at run time."""
    from pulumi_fc_invocation import ConfigurationError, InvalidArgumentError
    from pulumi_fc_invocation.pulumi.program import plain_input_errors

    from pulumi_fc_invocation.credentials import check_endpoint

    original = InvalidArgumentError("secretish", "hunter2", "is not an input", show_value=False)
    with pytest.raises(ConfigurationError) as broken:
        check_endpoint("x")
    setting = broken.value
    for error in (original, setting):
        def fail(error=error):
            raise error

        with pytest.raises(type(error)) as info:
            plain_input_errors(fail)()
        assert isinstance(info.value, pulumi.RunError) and info.value.__cause__ is error
        # Its words, and for a setting's rule where the user sets it (gate/explain.py).
        assert str(info.value).startswith(str(error)) and type(error) in (InvalidArgumentError, ConfigurationError)
    assert "`fc-invocation:endpoint`" in str(info.value)
    assert "hunter2" not in str(info.value.__cause__) and "hunter2" not in str(original)
    with pytest.raises(InvalidArgumentError) as info:
        plain_input_errors(lambda: (_ for _ in ()).throw(original))()
    assert (info.value.argument, info.value.value, info.value.rule) == ("secretish", "hunter2", "is not an input")


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


def test_the_result_classes_keep_their_0_1_constructor():
    """0.1 built a result as Result(values, id), and FC 2.0's single result made its id from the values:
    both still work, with a DeprecationWarning; the keyword form is the typed one."""
    from pulumi_fc_invocation import GetAsyncTaskResult, GetAsyncTasksResult, GetStatefulAsyncInvocationResult

    with pytest.warns(DeprecationWarning, match=r"GetAsyncTaskResult\(values, id\) is deprecated"):
        task = GetAsyncTaskResult({"status": "Succeeded"}, "f/t")
    assert (task.status, task.id) == ("Succeeded", "f/t")
    with pytest.warns(DeprecationWarning):
        invocation = GetStatefulAsyncInvocationResult({"status": "Running", "service_name": "s", "qualifier": "q",
                                                       "function_name": "f", "invocation_id": "i"})
    assert (invocation.status, invocation.id) == ("Running", "s.q/f/i")
    with pytest.warns(DeprecationWarning):
        assert GetAsyncTasksResult(values={"total": 2}, id="f/p").total == 2
    with pytest.raises(TypeError, match="GetAsyncTaskResult: missing a required argument: 'id'"):
        GetAsyncTaskResult({"status": "Succeeded"})  # as in 0.1: only FC 2.0's single result made its id
    with pytest.raises(TypeError, match=r"GetAsyncTaskResult: unexpected \['nope'\]"), pytest.warns(DeprecationWarning):
        GetAsyncTaskResult({"nope": 1}, "f/t")


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


# --- Both APIs (the api fixture: FC 2.0's StatefulAsyncInvocation, FC 3.0's AsyncTask) ----------------------


def test_preview_does_not_wait_and_update_does(fc, run, api):
    """Preview reads once and never waits (its output is the status now); an update waits, then deploys the
    dependent."""
    item = f"build-{api.name}"
    fc.add_function(api.service("gate"), "build", outcome="Succeeded", duration=120)
    api.invoke(fc, "gate", "build", item)
    start = fc.clock.now()

    def program():
        gate = api.gate("inv", "gate", "build", item, wait_for_completion=True, timeout_seconds=3600)
        _dependent("app", gate)
        pulumi.export("status", gate.status)

    preview = run(program, preview=True)
    assert preview.outputs["status"] == "Running"
    assert fc.clock.now() == start  # no virtual time passed: nobody waited
    update = run(program)
    assert update.outputs["status"] == "Succeeded"
    assert update.resource("inv").outputs["waited_seconds"] >= 120
    assert 120 <= fc.clock.now() - start <= 120 + DEFAULT_MAX_POLL_INTERVAL * 1.2 + 1  # one poll cap, with jitter
    assert update.resource("app")


def test_get_by_composite_id_and_the_function_forms(fc, run, api):
    item = f"get-{api.name}"
    fc.add_invocation(api.service("video"), "transcode", item, qualifier="prod", payload="img",
                      timeline=[("Running", 0), ("Succeeded", 2)])
    fc.advance(5)
    ref = api.ref("video", "transcode", item, "prod")

    def program():
        gate = getattr(pulumi_fc_invocation, api.single).get("transcode", ref)
        pulumi.export("status", gate.status)
        res = api.function("video", "transcode", item, output=True, qualifier="prod")
        pulumi.export("fnStatus", res.status)
        pulumi.export("fnPayload", getattr(res, api.payload))
        form = getattr(pulumi_fc_invocation, api.function_form)  # the qualifier positional, as 0.1 called it
        now = form(*api.args("video", "transcode", item), "prod", secret_payloads=False)
        pulumi.export("nowId", now.id)
        pulumi.export("nowPayload", getattr(now, api.payload))

    result = run(program)
    assert result.resource("transcode").id == ref
    assert result.outputs["status"] == "Succeeded" == result.outputs["fnStatus"]
    assert "fnPayload" in result.secret_outputs and "fnStatus" not in result.secret_outputs
    assert result.outputs["nowId"] == ref and result.outputs["nowPayload"] == "img"


def test_timeout_fails_the_deployment_and_dependents_never_deploy(fc, run, api):
    item = f"stuck-{api.name}"
    fc.add_function(api.service("slow"), "forever", outcome="Running")
    api.invoke(fc, "slow", "forever", item)

    def program():
        gate = api.gate("inv", "slow", "forever", item, wait_for_completion=True, timeout_seconds=90)
        _dependent("app", gate)

    with pytest.raises(ProgramError) as info:
        run(program)
    text = info.value.message
    assert f"timed out waiting for {api.noun} {api.ref('slow', 'forever', item)}: last status Running" in text
    assert "last status Running" in text and "timeout_seconds=90" in text and "after 1m30s" in text
    assert not any(r.name == "app" for r in info.value.result.resources)


def test_refresh_records_a_later_failure_instead_of_failing_the_stack(fc, run, host, api):
    """A task read without a gate that fails later: `pulumi refresh` (prior outputs as props) records the
    new status; the gate's verdict belongs to up/preview, whose settings the user controls."""
    item = f"l-{api.name}"
    fc.add_invocation(api.service("later"), "nightly", item, timeline=[("Running", 0), ("Failed", 600)],
                      error_message="boom")

    def program():
        api.gate("inv", "later", "nightly", item)

    rec = run(program).resource("inv")
    assert rec.outputs["status"] == "Running" and rec.outputs["qualifier"] == "LATEST"
    fc.advance(700)
    fc.reset_requests()
    id_, outs = refreshed(host, rec)
    assert id_ == api.ref("later", "nightly", item) and outs["status"] == "Failed"
    assert outs[api.error] == "boom"
    assert fc.request_count() == 1  # one read, no polling
    with pytest.raises(ProgramError, match="ended Failed: boom"):  # while `up` still fails on it
        run(program)


@pytest.fixture
def impatient_clients(monkeypatch):
    """New clients wait 0.2 s for an answer and retry within 0.5 s (the defaults: 15 s and 30 s), so a late
    answer is a RequestTimeoutError in a second; none cached from an earlier test."""
    from collections import OrderedDict

    from pulumi_fc_invocation.client import FcClient
    from pulumi_fc_invocation.gate import clients

    monkeypatch.setattr(clients, "_clients", OrderedDict())
    monkeypatch.setitem(FcClient.__init__.__kwdefaults__, "timeout", (0.2, 0.2))
    monkeypatch.setitem(FcClient.__init__.__kwdefaults__, "retry_budget", 0.5)


@pytest.mark.parametrize("fault", [{"latency": 1.0}, {"truncate": True}], ids=["no-answer", "cut-off"])
@pytest.mark.parametrize("preview", [True, False], ids=["preview", "up-no-wait"])
def test_a_network_error_of_the_first_read_is_one_line_naming_the_setting(fc, run, impatient_clients, fault,
                                                                           preview):
    # Before: the program's read gave up (returned no result) and the provider host read again: a traceback
    # ending RequestTimeoutError / TransportError, after a minute for an endpoint that never answers.
    inv_id = f"late-{preview}-{next(iter(fault))}"
    fc.add_invocation("late", "job", inv_id, outcome="Succeeded", duration=60)
    fc.inject_fault(route="get", times=None, **fault)

    def program():
        StatefulAsyncInvocation("inv", service_name="late", function_name="job", invocation_id=inv_id)

    with pytest.raises(ProgramError) as info:
        run(program, preview=preview)
    fc.clear_faults()
    message = info.value.message
    assert "Traceback" not in message and len(message.splitlines()) == 1, message
    assert "no answer from" in message if "latency" in fault else "cut off or corrupt" in message, message
    assert "check `fc-invocation:endpoint`" in message and "and the network" in message, message


def test_credentials_that_expire_during_the_wait_are_one_line_naming_the_setting(fc, run):
    # Before: two lines ("stopped waiting ...: SecurityTokenExpired" and the no-result verdict), no setting named.
    from _emulated import KEY_ID

    fc.add_function("expiring", "job", outcome="Succeeded", duration=600)
    fc.client().invoke_async("expiring", "job", "{}", invocation_id="e-1")
    fc.add_credentials(KEY_ID, SECRET, TOKEN, expires_at=fc.clock.now() + 30)

    def program():
        StatefulAsyncInvocation("inv", service_name="expiring", function_name="job", invocation_id="e-1",
                                wait_for_completion=True, timeout_seconds=300)

    try:
        with pytest.raises(ProgramError) as info:
            run(program)
    finally:
        fc.add_credentials(KEY_ID, SECRET, TOKEN)
    message = info.value.message
    assert len(message.splitlines()) == 1 and "refused the credentials" in message, message
    assert "`alicloud:securityToken`" in message or "`alicloud:accessKey`" in message, message
    assert not [log.message for log in info.value.result.logs if log.severity == "warning"]


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])
def test_a_missing_function_names_the_region_and_account_settings(fc, run, preview):
    # A function-level 404 (a wrong region that passes its rule, a mistyped name): before, the gate's not-found
    # line without the settings to check.
    def program():
        StatefulAsyncInvocation("inv", service_name="nowhere", function_name="job", invocation_id="n-1",
                                wait_for_completion=True)

    with pytest.raises(ProgramError) as info:
        run(program, preview=preview)
    message = info.value.message
    assert len(message.splitlines()) == 1 and "ServiceNotFound" in message, message
    assert "check the names" in message and "`alicloud:accountId`" in message, message
    # The key the user set (alicloud:accountId), else the first (no region is set): one key each, not every one.
    assert "`fc-invocation:region`" in message and "`fc-invocation:accountId`" not in message, message


def test_a_run_error_names_a_class_that_exists_and_pickles():
    # Before: a class made at run time, shown as program.AuthenticationError (no such name there): pickling failed.
    import pickle
    import sys

    from pulumi_fc_invocation import AuthenticationError, InvalidArgumentError
    from pulumi_fc_invocation.pulumi.program import as_run_error

    for error in (AuthenticationError("denied", code="AccessDenied", request_id="r-1", http_status=403),
                  InvalidArgumentError("region", "x", "must be a region id")):
        again = as_run_error(error, "the one line")
        cls = type(again)
        assert getattr(sys.modules[cls.__module__], cls.__qualname__) is cls and cls.__name__.endswith("RunError")
        back = pickle.loads(pickle.dumps(again))
        assert type(back) is cls and isinstance(back, pulumi.RunError) and isinstance(back, type(error))
        assert str(back) == "the one line" and back.__dict__ == again.__dict__


def test_a_credential_that_breaks_its_rule_names_the_users_key(fc, config):
    # Before: "Credentials: security_token contains a line break or NUL" alone: the package's name for it, no fix.
    from pulumi_fc_invocation.testing.harness import run_program
    from _emulated import CLEAN_ENV, SECRET_KEYS

    def program():
        StatefulAsyncInvocation("inv", service_name="any", function_name="job", invocation_id="x-1")

    broken = {**config, "alicloud:securityToken": "CAIS-first-line\nsecond-line"}
    with pytest.raises(ProgramError) as info:
        run_program(program, config=broken, secret_keys=SECRET_KEYS, preview=True, env=CLEAN_ENV)
    message = info.value.message
    assert "security_token contains a line break" in message and "check `" in message, message
    assert "`alicloud:securityToken`" in message and "second-line" not in message, message
