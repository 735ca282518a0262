"""What the run resources (issue 28) need of the emulator, over real HTTP and through the official SDKs:
runs that fail by a function-level rule (so a retry with the same payload succeeds), a 409 for an id
already used that starts and counts nothing, the existing task's payload readable after it (FC 2.0
``invocationPayload`` on Get and on List with ``includePayload``; FC 3.0 ``taskPayload`` likewise), stop
on both APIs, and InvokeFunction calls countable from the request log."""

from __future__ import annotations

import pytest

from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as Fc3Client
from alibabacloud_fc_open20210406 import models as fc2_models
from alibabacloud_fc_open20210406.client import Client as Fc2Client
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_tea_openapi.models import Config
from alibabacloud_tea_util.models import RuntimeOptions
from darabonba.runtime import RuntimeOptions as Fc3RuntimeOptions

from pulumi_fc_invocation.errors import ConflictError
from pulumi_fc_invocation.testing import FcEmulator, ScenarioError

from _emulator_cli import serving


@pytest.fixture
def fc():
    with FcEmulator(clock="virtual") as emulator:
        yield emulator


def config(fc) -> Config:
    return Config(access_key_id=fc.credentials.access_key_id, access_key_secret=fc.credentials.access_key_secret,
                  endpoint=f"127.0.0.1:{fc.port}", protocol="http")


def fc3_invoke(sdk, function, payload, task_id):
    headers = fc3_models.InvokeFunctionHeaders(x_fc_invocation_type="Async", x_fc_async_task_id=task_id)
    return sdk.invoke_function_with_options(function, fc3_models.InvokeFunctionRequest(body=payload), headers,
                                            Fc3RuntimeOptions())


def fc2_invoke(sdk, service, function, payload, invocation_id):
    headers = fc2_models.InvokeFunctionHeaders(x_fc_invocation_type="Async",
                                               x_fc_stateful_async_invocation_id=invocation_id)
    return sdk.invoke_function_with_options(service, function, fc2_models.InvokeFunctionRequest(body=payload),
                                            headers, RuntimeOptions())


# --- runs that fail by rule -----------------------------------------------------------------------


def test_the_first_run_fails_and_the_retry_with_the_same_payload_succeeds(fc):
    fn = fc.add_function(None, "migrate", duration=2, error_message="no disk", return_payload="done", fail_first=1)
    client = fc.client()
    client.invoke_async_task("migrate", '{"v": 1}', task_id="run-0")
    client.invoke_async_task("migrate", '{"v": 1}', task_id="run-1")
    fc.advance(2)
    first, retry = client.get_async_task("migrate", "run-0"), client.get_async_task("migrate", "run-1")
    assert (first.status, first.task_error_message) == ("Failed", "no disk")
    assert (retry.status, retry.return_payload) == ("Succeeded", "done")
    assert (fn.runs, fn.failed_runs) == (2, 1)


def test_fail_first_counts_every_accepted_run_of_a_2_0_function_and_no_sync_call(fc):
    import fc2  # aliyun-fc2, a test dependency: its synchronous InvokeFunction

    fn = fc.add_function("jobs", "migrate", duration=1, return_payload="ok", fail_first=2)
    sdk = fc2.Client(endpoint=fc.endpoint, accessKeyID=fc.credentials.access_key_id,
                     accessKeySecret=fc.credentials.access_key_secret)
    assert sdk.invoke_function("jobs", "migrate", payload=b"{}").data == b"ok"  # not failed, not counted
    client = fc.client()
    for i in range(3):
        client.invoke_async("jobs", "migrate", f'{{"n": {i}}}', invocation_id=f"r{i}")
    fc.advance(1)
    assert [client.get_stateful_async_invocation("jobs", "migrate", f"r{i}").status for i in range(3)] == \
        ["Failed", "Failed", "Succeeded"]
    assert fn.runs == 3 and fn.failed_runs == 2


def test_fail_on_payload_fails_only_that_payload_and_with_fail_first_only_its_first_runs(fc):
    fc.add_function(None, "always", duration=1, fail_on_payload='{"v": 2}')
    fc.add_function(None, "once", duration=1, fail_on_payload='{"v": 2}', fail_first=1)
    fc.add_function(None, "by-rule", duration=1, fail_on_payload=lambda payload: "bad" in payload)
    client = fc.client()
    for function in ("always", "once"):
        for task_id, payload in (("a", '{"v": 1}'), ("b", '{"v": 2}'), ("c", '{"v": 2}')):
            client.invoke_async_task(function, payload, task_id=task_id)
    client.invoke_async_task("by-rule", "good", task_id="g")
    client.invoke_async_task("by-rule", "bad", task_id="b")
    fc.advance(1)

    def statuses(function, ids):
        return [client.get_async_task(function, task_id).status for task_id in ids]

    assert statuses("always", "abc") == ["Succeeded", "Failed", "Failed"]
    assert statuses("once", "abc") == ["Succeeded", "Failed", "Succeeded"]
    assert statuses("by-rule", "gb") == ["Succeeded", "Failed"]


def test_a_failing_run_keeps_the_script_and_a_directive_but_ends_failed(fc):
    fc.add_function(None, "migrate", duration=3, queue_delay=1, retries=1, retry_delay=1, fail_first=1)
    client = fc.client()
    client.invoke_async_task("migrate", '{"fcEmulator": {"after": 2}}', task_id="d")
    fc.advance(10)
    task = client.get_async_task("migrate", "d")
    assert task.status == "Failed" and task.already_retried_times == 1
    assert task.duration_ms == (1 + 2 + 1 + 2) * 1000  # the directive's 2 s attempts, the script's delays


def test_a_409_starts_nothing_and_counts_nothing_but_is_in_the_request_log(fc):
    fn = fc.add_function(None, "migrate", duration=5, fail_first=1)
    client = fc.client(max_retries=0)
    client.invoke_async_task("migrate", '{"v": 1}', task_id="run-0")
    with pytest.raises(ConflictError) as err:
        client.invoke_async_task("migrate", '{"v": 2}', task_id="run-0")
    assert (err.value.http_status, err.value.code) == (409, "AsyncTaskAlreadyExists")
    assert (fn.runs, fn.failed_runs) == (1, 1)
    assert len(fc.invocations) == 1 and fc.invocations[0].invocation_payload == '{"v": 1}'
    client.invoke_async_task("migrate", '{"v": 1}', task_id="run-1")  # the rule was used up by run-0
    fc.advance(5)
    assert client.get_async_task("migrate", "run-1").status == "Succeeded"
    assert fc.request_count("invoke") == 3
    assert [(r.route, r.status, r.invocation_id) for r in fc.requests if r.route == "invoke"] == [
        ("invoke", 202, "run-0"), ("invoke", 409, "run-0"), ("invoke", 202, "run-1")]


def test_task_mode_off_runs_count_too(fc):
    fn = fc.add_function(None, "untracked", fail_first=1, async_task=False)
    fc.client().invoke_async_task("untracked", "{}", task_id="u")
    assert (fn.runs, fn.failed_runs, fc.backend.untracked) == (1, 1, 1) and fc.invocations == []


def test_redefining_a_function_starts_its_counts_afresh(fc):
    fc.add_function(None, "migrate", duration=1, fail_first=1)
    client = fc.client()
    client.invoke_async_task("migrate", "{}", task_id="a")
    fn = fc.add_function(None, "migrate", duration=1, fail_first=1)
    client.invoke_async_task("migrate", "{}", task_id="b")
    fc.advance(1)
    assert client.get_async_task("migrate", "b").status == "Failed" and fn.runs == 1
    seeded = fc.add_invocation(None, "migrate", "seeded")  # seeding keeps the function's rule (used up)
    assert seeded is not None
    client.invoke_async_task("migrate", "{}", task_id="c")
    fc.advance(1)
    assert client.get_async_task("migrate", "c").status == "Succeeded"


@pytest.mark.parametrize("service", [None, "svc"])
def test_seeding_with_a_new_qualifier_adds_it_in_place_and_keeps_the_rule_and_the_counts(fc, service):
    fn = fc.add_function(service, "migrate", duration=1, fail_first=1)
    if service is None:
        fc.backend.set_async_task(None, "migrate", True, {"asyncTask": True})
    fc.backend.invoke_async(service, None, "migrate", "{}", "a")
    seeded = fc.add_invocation(service, "migrate", "seeded", qualifier="prod")
    assert seeded.qualifier == "prod"
    assert fc.backend.resolve(service, "prod", "migrate") is fn  # the Function the test holds is still the one
    fc.backend.invoke_async(service, None, "migrate", "{}", "b")
    fc.backend.invoke_async(service, "prod", "migrate", "{}", "c")
    fc.advance(1)
    statuses = [fc.backend.get_invocation(service, None, "migrate", i).status for i in "abc"]
    assert statuses == ["Failed", "Succeeded", "Succeeded"]  # fail_first=1 was used up by "a", not reset
    assert (fn.runs, fn.failed_runs) == (3, 1)  # seeding is not a run
    if service is None:
        assert fn.async_config == {"asyncTask": True}


@pytest.mark.parametrize("kwargs, message", [
    ({"fail_first": -1}, "fail_first must be an integer >= 0"),
    ({"fail_first": True}, "fail_first must be an integer >= 0"),
    ({"fail_first": 1.5}, "fail_first must be an integer >= 0"),
    ({"fail_on_payload": {"v": 1}}, "fail_on_payload must be a payload string"),
    ({"fail_on_payload": b"{}"}, "fail_on_payload must be a payload string"),
])
def test_a_bad_rule_is_refused_naming_the_argument(fc, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fc.add_function(None, "migrate", **kwargs)
    assert fc.backend.functions() == []


def test_a_scenario_file_takes_the_rule():
    scenario = {"functions": [{"service": None, "function": "migrate", "duration": 1, "failFirst": 1,
                               "failOnPayload": '{"v": 2}'}]}
    with FcEmulator(clock="virtual", scenario=scenario) as fc:
        client = fc.client()
        for task_id, payload in (("a", '{"v": 2}'), ("b", '{"v": 2}')):
            client.invoke_async_task("migrate", payload, task_id=task_id)
        fc.advance(1)
        assert [client.get_async_task("migrate", t).status for t in "ab"] == ["Failed", "Succeeded"]
    with pytest.raises(ScenarioError, match=r"functions\[0\]: fail_first must be an integer"):
        FcEmulator(clock="virtual", scenario={"functions": [{"service": None, "function": "f", "failFirst": "1"}]})


# --- the official SDKs: 409, the existing task's payload, stop ------------------------------------


def test_fc3_sdk_a_used_task_id_answers_409_and_the_task_and_its_payload_are_readable(fc):
    fc.add_function(None, "migrate", duration=30, fail_first=1)
    sdk = Fc3Client(config(fc))
    assert fc3_invoke(sdk, "migrate", b'{"v": 1}', "run-0").status_code == 202
    with pytest.raises(AlibabaCloudException) as err:
        fc3_invoke(sdk, "migrate", b'{"v": 1}', "run-0")
    assert (err.value.status_code, err.value.code) == (409, "AsyncTaskAlreadyExists")
    request = fc3_models.ListAsyncTasksRequest(prefix="run-0", include_payload=True)
    (task,) = sdk.list_async_tasks("migrate", request).body.tasks
    assert (task.task_id, task.status, task.task_payload) == ("run-0", "Running", '{"v": 1}')
    no_payload = sdk.list_async_tasks("migrate", fc3_models.ListAsyncTasksRequest(prefix="run-0")).body.tasks
    assert no_payload[0].task_payload is None
    got = sdk.get_async_task("migrate", "run-0", fc3_models.GetAsyncTaskRequest()).body
    assert got.task_payload == '{"v": 1}'
    sdk.stop_async_task("migrate", "run-0", fc3_models.StopAsyncTaskRequest())
    assert sdk.get_async_task("migrate", "run-0", fc3_models.GetAsyncTaskRequest()).body.status == "Stopped"
    fc3_invoke(sdk, "migrate", b'{"v": 1}', "run-1")  # the rule was used up: this one runs to its end
    fc.advance(30)
    assert sdk.get_async_task("migrate", "run-1", fc3_models.GetAsyncTaskRequest()).body.status == "Succeeded"
    assert fc.request_count("invoke") == 3


def test_fc2_sdk_a_used_invocation_id_answers_409_and_the_invocation_and_its_payload_are_readable(fc):
    fc.add_function("jobs", "migrate", duration=30, fail_first=1)
    sdk = Fc2Client(config(fc))
    fc2_invoke(sdk, "jobs", "migrate", b'{"v": 1}', "run-0")
    with pytest.raises(AlibabaCloudException) as err:
        fc2_invoke(sdk, "jobs", "migrate", b'{"v": 2}', "run-0")
    assert (err.value.status_code, err.value.code) == (409, "StatefulAsyncInvocationAlreadyExists")
    got = sdk.get_stateful_async_invocation("jobs", "migrate", "run-0",
                                            fc2_models.GetStatefulAsyncInvocationRequest()).body
    assert (got.status, got.invocation_payload) == ("Running", '{"v": 1}')
    listed = sdk.list_stateful_async_invocations("jobs", "migrate", fc2_models.ListStatefulAsyncInvocationsRequest(
        invocation_id_prefix="run-0", include_payload=True)).body.invocations
    assert [(i.invocation_id, i.invocation_payload) for i in listed] == [("run-0", '{"v": 1}')]
    fc.advance(30)
    assert sdk.get_stateful_async_invocation("jobs", "migrate", "run-0",
                                             fc2_models.GetStatefulAsyncInvocationRequest()).body.status == "Failed"
    fc2_invoke(sdk, "jobs", "migrate", b'{"v": 1}', "run-1")
    sdk.stop_stateful_async_invocation("jobs", "migrate", "run-1", fc2_models.StopStatefulAsyncInvocationRequest())
    assert sdk.get_stateful_async_invocation("jobs", "migrate", "run-1",
                                             fc2_models.GetStatefulAsyncInvocationRequest()).body.status == "Stopped"


def test_fc2_2016_a_used_invocation_id_answers_409_through_this_packages_client(fc):
    fc.add_function("jobs", "migrate", duration=30)
    client = fc.client(max_retries=0)
    client.invoke_async("jobs", "migrate", '{"v": 1}', invocation_id="run-0")
    with pytest.raises(ConflictError) as err:
        client.invoke_async("jobs", "migrate", '{"v": 1}', invocation_id="run-0")
    assert err.value.code == "StatefulAsyncInvocationAlreadyExists"
    (listed,) = client.list_stateful_async_invocations("jobs", "migrate", prefix="run-0", include_payload=True)
    assert listed.invocation_payload == '{"v": 1}'
    assert client.get_stateful_async_invocation("jobs", "migrate", "run-0").invocation_payload == '{"v": 1}'
    client.stop_stateful_async_invocation("jobs", "migrate", "run-0")
    assert client.get_stateful_async_invocation("jobs", "migrate", "run-0").status == "Stopped"


def test_fc3_get_can_leave_the_payload_out_and_the_listing_still_has_it(fc):
    """FC3-API.md documents taskPayload as listed only with includePayload: with fc3_payload_on_get=False the
    emulator's GetAsyncTask leaves it out (FC 2.0's Get keeps invocationPayload), and a run's read of the task
    that holds its id falls back to the listing."""
    from pulumi_fc_invocation.kinds import KINDS

    fc.add_function(None, "migrate", duration=30)
    fc.add_function("jobs", "migrate", duration=30)
    client = fc.client()
    client.invoke_async_task("migrate", '{"v": 1}', task_id="run-0")
    client.invoke_async("jobs", "migrate", '{"v": 1}', invocation_id="run-0")
    assert fc.fc3_payload_on_get is True
    assert client.get_async_task("migrate", "run-0").task_payload == '{"v": 1}'
    fc.fc3_payload_on_get = False
    got = client.get_async_task("migrate", "run-0")
    assert got.task_payload is None and got.status.value == "Running"
    sdk = Fc3Client(config(fc))
    assert sdk.get_async_task("migrate", "run-0", fc3_models.GetAsyncTaskRequest()).body.task_payload is None
    (listed,) = client.list_async_tasks("migrate", prefix="run-0", include_payload=True)
    assert listed.task_payload == '{"v": 1}'
    assert client.get_stateful_async_invocation("jobs", "migrate", "run-0").invocation_payload == '{"v": 1}'
    kind = KINDS["fc3"]
    ref = kind.make_ref({"function_name": "migrate", "qualifier": None, "task_id": "run-0"})
    fc.reset_requests()
    assert kind.held_payload(client, ref, got) == '{"v": 1}'
    assert [r.route for r in fc.requests] == ["list"]
    with pytest.raises(ValueError, match="fc3_payload_on_get must be True or False"):
        fc.fc3_payload_on_get = "no"


# --- the rule from `fc-invocation emulator` ----------------------------------------------------------


def test_the_emulator_cli_takes_the_rule_for_its_functions(capsys):
    """``fc-invocation emulator --fail-first N --fail-on-payload P``: the rule of every --function and
    --fc3-function it serves, as --outcome and --duration are; the first run fails, the retry succeeds."""
    from pulumi_fc_invocation.testing import emulator_cli

    assert emulator_cli.main(["--port", "0", "--fail-first", "-1"]) == 2
    assert "--fail-first must be an integer >= 0" in capsys.readouterr().err
    assert emulator_cli.main(["--port", "0", "--scenario", "x.json", "--fail-first", "1"]) == 2
    assert "--fail-first / --fail-on-payload apply to --function / --fc3-function" in capsys.readouterr().err
    with serving("--port", "0", "--quiet", "--fc3-function", "migrate", "--function", "svc/job", "--duration", "0",
                 "--fail-first", "1", "--fail-on-payload", '{"v": 1}', via_cli=True) as served:
        assert any("the first 1 run(s) with payload '{\"v\": 1}' fail" in line for line in served.lines), served.lines
        fc3, fc2 = Fc3Client(served.sdk_config()), Fc2Client(served.sdk_config())
        for task_id, payload in (("a", '{"v": 2}'), ("b", '{"v": 1}'), ("c", '{"v": 1}')):
            fc3_invoke(fc3, "migrate", payload.encode(), task_id)
            fc2_invoke(fc2, "svc", "job", payload.encode(), task_id)
        fc3_status = [fc3.get_async_task("migrate", t, fc3_models.GetAsyncTaskRequest()).body.status for t in "abc"]
        fc2_status = [fc2.get_stateful_async_invocation("svc", "job", t, fc2_models.GetStatefulAsyncInvocationRequest())
                      .body.status for t in "abc"]
        assert fc3_status == fc2_status == ["Succeeded", "Failed", "Succeeded"]
