"""Secret settings stay secret (issue 24, items 12 to 14).

12. A secret ``account_id`` / ``region`` input, or a secret provider setting, that breaks its rule
    (a secret read from a file ends in a newline): the error names the setting and the rule, shows
    no part of the value. Python data sources (the harness) and the plugin (gRPC).
13. The same for a secret ``endpoint`` (its messages showed ``scheme://netloc`` or 77 characters);
    the plugin's Check returns a check failure instead of failing the RPC.
14. The plugin's refresh of a batch gate keeps the secret inputs secret in state.
"""

from __future__ import annotations

import grpc
import pulumi
import pytest
from pulumi.runtime.proto import provider_pb2

from pulumi_fc_invocation import AsyncTask, AsyncTasks, StatefulAsyncInvocations, get_async_tasks_output
from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.harness import ProgramError, ProviderHost, run_program
from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock
from pulumi_fc_invocation.waiter import use_clock
from _emulated import CLEAN_ENV
from _plugin_rpc import SECRET_SIG, configured, secret, started, struct

URN_TASK = "urn:pulumi:dev::proj::fc-invocation:index:AsyncTask::hushed"
URN_TASKS = "urn:pulumi:dev::proj::fc-invocation:index:AsyncTasks::hushed"
CONFIG_SECRETS = ("alicloud:secretKey", "alicloud:securityToken")

# Settings given as secrets that break a rule, each with the parts of it no message may show. A
# secret read from a file or a variable ends in a newline: that alone breaks the rule.
ACCOUNT = "9876543210987654\n"
SETTINGS = {
    "region-newline": ("region", "cn-shanghai\n", ["cn-shanghai", "shanghai"]),
    "account-newline": ("account_id", ACCOUNT, ["98765", "10987654"]),
    "endpoint-no-scheme": ("endpoint", "fc-hidden.example:9000\n", ["fc-hidden", "9000"]),
    "endpoint-port": ("endpoint", "http://fc-port.example:99999/", ["fc-port", "99999"]),
    "endpoint-query": ("endpoint", "https://fc-query.example/x?token=abc123xyz", ["fc-query", "abc123xyz"]),
    "endpoint-long": ("endpoint", "fc-" + "long" * 25 + ".example", ["longlong"]),
    # The chain strips a config value (a newline is no fault there): these break the rule all the same.
    "account-dash": ("account_id", "9876543210-987654", ["98765", "987654"]),
    "region-slash": ("region", "cn-shanghai/x", ["shanghai"]),
}
INPUT_CASES = [case for case in SETTINGS if not case.endswith(("-dash", "-slash"))]
RULE = {"region": "region id", "account_id": "digits", "endpoint": "http"}


def shows_none(tells, *texts) -> bool:
    return not [tell for tell in tells for text in texts if tell in text]


def is_secret(value) -> bool:
    return hasattr(value, "items") and SECRET_SIG in dict(value.items())


@pytest.fixture(scope="module")
def live():
    with FcEmulator(clock="real") as emulator:
        start = emulator.now() - 600
        for i in range(3):
            emulator.add_invocation(None, "calm", f"c-{i}", started_at=start + i, timeline=[("Succeeded", 1)])
        yield emulator


# --- 14: refresh ----------------------------------------------------------------------------------


def test_plugin_refresh_of_a_batch_gate_keeps_secret_inputs_secret(plugin, live):
    configured(plugin, live)
    inputs = {"functionName": "calm", "taskIdPrefix": "c-", "expectedCount": secret(3),
              "endpoint": secret(live.endpoint), "timeoutSeconds": secret(60)}
    created = plugin.Create(provider_pb2.CreateRequest(urn=URN_TASKS, properties=struct(inputs)))
    state = dict(created.properties.items())
    assert state["total"] == 3 and all(is_secret(state[key]) for key in ("expectedCount", "endpoint", "timeoutSeconds"))
    read = plugin.Read(provider_pb2.ReadRequest(id=created.id, urn=URN_TASKS, properties=created.properties,
                                                inputs=struct(inputs)))
    refreshed = dict(read.properties.items())
    assert refreshed["total"] == 3
    plain = [key for key in ("expectedCount", "endpoint", "timeoutSeconds") if not is_secret(refreshed[key])]
    assert not plain, f"written to state in plaintext by a refresh: {plain}"


# --- 12 and 13: the Python data sources (harness) ---------------------------------------------------


def _declare(form, argument, value):
    hidden = pulumi.Output.secret(value)
    if form == "batch":
        AsyncTasks("b", function_name="fn", task_id_prefix="p-", **{argument: hidden})
    elif form == "single":
        AsyncTask("s", function_name="fn", task_id="t-1", **{argument: hidden})
    elif form == "fc2-batch":
        StatefulAsyncInvocations("b2", service_name="svc", function_name="fn", invocation_id_prefix="p-",
                                 **{argument: hidden})
    else:
        pulumi.export("tasks", get_async_tasks_output(function_name="fn", task_id_prefix="p-", **{argument: hidden}))


@pytest.mark.parametrize("form", ["batch", "single", "fc2-batch", "function"])
@pytest.mark.parametrize("case", INPUT_CASES)
def test_a_secret_setting_input_that_breaks_its_rule_is_never_shown(run, form, case):
    argument, value, tells = SETTINGS[case]
    with pytest.raises(ProgramError) as caught:
        run(lambda: _declare(form, argument, value))
    message = caught.value.message
    logs = [log.message for log in caught.value.result.logs]
    assert argument in message and RULE[argument] in message, message
    assert shows_none(tells, message, *logs), message


STACK_KEYS = {"account_id": "alicloud:accountId", "region": "alicloud:region", "endpoint": "fc-invocation:endpoint"}


@pytest.mark.parametrize("case", ["account-dash", "region-slash", "endpoint-query", "endpoint-no-scheme"])
def test_a_secret_stack_setting_that_breaks_its_rule_is_never_shown(fc, config, case):
    argument, value, tells = SETTINGS[case]
    key = STACK_KEYS[argument]
    settings = {**config, key: value}
    secrets = CONFIG_SECRETS + (key,)
    with ProviderHost(env=CLEAN_ENV) as h:
        h.configure(settings, secret_keys=secrets)
        for program in (lambda: AsyncTasks("b", function_name="fn", task_id_prefix="p-", wait_for_completion=True),
                        lambda: AsyncTask("s", function_name="fn", task_id="t-1")):
            with use_clock(AutoAdvanceClock(fc.clock)), pytest.raises(ProgramError) as caught:
                run_program(program, config=settings, secret_keys=secrets, host=h)
            message = caught.value.message
            logs = [log.message for log in caught.value.result.logs]
            assert key.split(":")[1].lower() in message.lower().replace("_", ""), message
            assert shows_none(tells, message, *logs), message


def test_a_secret_stack_setting_read_from_a_file_still_works(fc, config, run):
    """The chain strips a config value: a secret account id that ends in a newline is no fault."""
    settings = {**config, "alicloud:accountId": fc.account_id + "\n", "alicloud:region": fc.region + "\n"}
    secrets = CONFIG_SECRETS + ("alicloud:accountId", "alicloud:region")
    fc.add_invocation(None, "filed", "f-1", timeline=[("Succeeded", 0)])
    with ProviderHost(env=CLEAN_ENV) as h:
        h.configure(settings, secret_keys=secrets)
        with use_clock(AutoAdvanceClock(fc.clock)):
            result = run_program(lambda: AsyncTasks("b", function_name="filed", task_id_prefix="f-",
                                                    wait_for_completion=True), config=settings, secret_keys=secrets,
                                 host=h)
    assert result.resource("b").outputs["total"] == 1


# --- 12 and 13: the plugin (gRPC) -------------------------------------------------------------------


def camel(name):
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def refusals(calls):
    """The message of each call's failure (each must fail)."""
    for call in calls:
        with pytest.raises(grpc.RpcError) as caught:
            call()
        yield caught.value.details()


@pytest.mark.parametrize("case", INPUT_CASES)
def test_the_plugin_never_shows_a_secret_setting_input_that_breaks_its_rule(plugin, live, case):
    argument, value, tells = SETTINGS[case]
    configured(plugin, live)
    inputs = {"functionName": "calm", "taskIdPrefix": "c-", camel(argument): secret(value)}
    checked = plugin.Check(provider_pb2.CheckRequest(urn=URN_TASKS, news=struct(inputs)))
    assert [f.property for f in checked.failures] == [camel(argument)], checked
    assert RULE[argument] in checked.failures[0].reason and shows_none(tells, checked.failures[0].reason)
    calls = [
        lambda: plugin.Invoke(provider_pb2.InvokeRequest(tok="fc-invocation:index:getAsyncTasks",
                                                         args=struct(inputs))),
        lambda: plugin.Create(provider_pb2.CreateRequest(urn=URN_TASKS, properties=struct(inputs))),
        lambda: plugin.Read(provider_pb2.ReadRequest(id="calm?prefix=c-", urn=URN_TASKS, properties=struct(
            {**inputs, "total": 3}), inputs=struct(inputs))),
    ]
    for details in refusals(calls):
        assert argument.split("_")[0] in details and shows_none(tells, details), details


@pytest.mark.parametrize("case", ["account-dash", "region-slash", "endpoint-port", "endpoint-no-scheme"])
def test_the_plugin_never_shows_a_secret_provider_setting_that_breaks_its_rule(engine, live, case):
    argument, value, tells = SETTINGS[case]
    name = camel(argument)
    conf = {"accessKey": live.credentials.access_key_id, "secretKey": secret(live.credentials.access_key_secret),
            "accountId": live.account_id, "region": live.region, "endpoint": live.endpoint, name: secret(value)}
    with started(engine) as stub:
        stub.Configure(provider_pb2.ConfigureRequest(args=struct(conf), acceptSecrets=True))
        task = {"functionName": "calm", "taskId": "c-1"}
        batch = {"functionName": "calm", "taskIdPrefix": "c-"}
        calls = [
            lambda: stub.Invoke(provider_pb2.InvokeRequest(tok="fc-invocation:index:getAsyncTask", args=struct(task))),
            lambda: stub.Create(provider_pb2.CreateRequest(urn=URN_TASK, properties=struct(task))),
            lambda: stub.Create(provider_pb2.CreateRequest(urn=URN_TASKS, properties=struct(batch))),
            lambda: stub.Read(provider_pb2.ReadRequest(id="calm/c-1", urn=URN_TASK, properties=struct(
                {**task, "status": "Succeeded"}), inputs=struct(task))),
        ]
        for details in refusals(calls):
            assert argument.split("_")[0] in details.lower() and shows_none(tells, details), details


def test_the_plugin_check_returns_a_failure_for_a_plain_endpoint_that_breaks_its_rule(plugin, live):
    configured(plugin, live)
    checked = plugin.Check(provider_pb2.CheckRequest(urn=URN_TASKS, news=struct(
        {"functionName": "calm", "taskIdPrefix": "c-", "endpoint": "fc.example:9000"})))
    assert [f.property for f in checked.failures] == ["endpoint"], checked
    assert "no scheme" in checked.failures[0].reason and "fc.example:9000" in checked.failures[0].reason
