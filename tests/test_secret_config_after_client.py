"""A secret stack or provider setting stays secret after the client exists (issue 24, item 12).

The client is built with the secret settings masked; what follows (the wait's warnings, the verdict,
a read's error, the plugin's engine log) must mask them too. The setting shows in an unreachable
endpoint's "cannot reach ..." message: a secret ``endpoint`` whole, a secret ``accountId`` inside
the endpoint derived from it. Python data sources and function forms through the harness, FC 2.0
and FC 3.0; the plugin over gRPC (the error and everything it logs to the engine).
"""

from __future__ import annotations

import grpc
import pulumi
import pytest
from pulumi.runtime.proto import provider_pb2

from pulumi_fc_invocation import (
    AsyncTask,
    AsyncTasks,
    StatefulAsyncInvocation,
    StatefulAsyncInvocations,
    get_async_task_output,
    get_async_tasks,
    get_stateful_async_invocation,
)
from pulumi_fc_invocation.testing.harness import ProgramError, ProviderHost, run_program
from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock
from pulumi_fc_invocation.waiter import use_clock
from _emulated import CLEAN_ENV, KEY_ID, SECRET, TOKEN
from _plugin_rpc import secret, started, struct

SECRET_PATH = "s3cr3tpath"
ENDPOINT = f"http://127.0.0.1:9/{SECRET_PATH}"  # the discard port: nothing listens there
ACCOUNT = "4815162342424242"
# No such region: the derived endpoint's host name never resolves, online or not.
NOWHERE = "zz-nowhere-9"
CREDENTIALS = {"alicloud:accessKey": KEY_ID, "alicloud:secretKey": SECRET, "alicloud:securityToken": TOKEN}
CASES = {
    "endpoint": ({**CREDENTIALS, "alicloud:accountId": "1234567890", "fc-invocation:endpoint": ENDPOINT},
                 "fc-invocation:endpoint", SECRET_PATH),
    "account": ({**CREDENTIALS, "alicloud:accountId": ACCOUNT, "alicloud:region": NOWHERE},
                "alicloud:accountId", ACCOUNT),
}

PROGRAMS = {
    "fc3-resource": lambda: AsyncTask("t", function_name="fn", task_id="t-1", wait_for_completion=True,
                                      timeout_seconds=20),
    # No wait: the gate's read meets the error and leaves the verdict to the engine's read (the provider host).
    "fc3-resource-read": lambda: AsyncTask("r", function_name="fn", task_id="t-1"),
    "fc2-batch-read": lambda: StatefulAsyncInvocations("r2", service_name="svc", function_name="fn",
                                                       invocation_id_prefix="p-"),
    "fc2-resource": lambda: StatefulAsyncInvocation("i", service_name="svc", function_name="fn", invocation_id="i-1",
                                                    wait_for_completion=True, timeout_seconds=20),
    "fc3-batch": lambda: AsyncTasks("b", function_name="fn", task_id_prefix="p-", wait_for_completion=True,
                                    timeout_seconds=20),
    "fc2-function": lambda: get_stateful_async_invocation("svc", "fn", "i-1"),
    "fc2-function-wait": lambda: get_stateful_async_invocation("svc", "fn", "i-1", wait_for_completion=True,
                                                               timeout_seconds=20),
    "fc3-function-output": lambda: pulumi.export("t", get_async_task_output(function_name="fn", task_id="t-1")),
    "fc3-batch-function": lambda: get_async_tasks(function_name="fn", task_id_prefix="p-"),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("form", sorted(PROGRAMS))
def test_a_secret_stack_setting_never_shows_once_the_client_exists(fc, case, form):
    settings, key, tell = CASES[case]
    secrets = ("alicloud:secretKey", "alicloud:securityToken", key)
    with ProviderHost(env=CLEAN_ENV) as host:
        host.configure(settings, secret_keys=secrets)
        with use_clock(AutoAdvanceClock(fc.clock)), pytest.raises(ProgramError) as caught:
            run_program(PROGRAMS[form], config=settings, secret_keys=secrets, host=host)
    message = caught.value.message
    logs = [log.message for log in caught.value.result.logs]
    assert "reach" in message or "reach" in " ".join(logs), (message, logs)  # the failure is the unreachable endpoint
    shown = [text for text in [message, *logs] if tell in text]
    assert not shown, shown


# --- the plugin (gRPC) ------------------------------------------------------------------------------

URN_TASK = "urn:pulumi:dev::proj::fc-invocation:index:AsyncTask::hushed"
URN_INVOCATION = "urn:pulumi:dev::proj::fc-invocation:index:StatefulAsyncInvocation::hushed"
URN_TASKS = "urn:pulumi:dev::proj::fc-invocation:index:AsyncTasks::hushed"
PLUGIN_CASES = {
    "endpoint": ({"accountId": "1234567890", "endpoint": secret(ENDPOINT)}, SECRET_PATH),
    "account": ({"accountId": secret(ACCOUNT), "region": NOWHERE}, ACCOUNT),
}


@pytest.mark.parametrize("case", sorted(PLUGIN_CASES))
def test_the_plugin_never_shows_a_secret_provider_setting_once_the_client_exists(engine, case):
    extra, tell = PLUGIN_CASES[case]
    conf = {"accessKey": KEY_ID, "secretKey": secret(SECRET), **extra}
    task = {"functionName": "fn", "taskId": "t-1"}
    invocation = {"serviceName": "svc", "functionName": "fn", "invocationId": "i-1"}
    waiting = {"waitForCompletion": True, "timeoutSeconds": 3}
    with started(engine) as stub:
        stub.Configure(provider_pb2.ConfigureRequest(args=struct(conf), acceptSecrets=True))
        calls = [
            lambda: stub.Create(provider_pb2.CreateRequest(urn=URN_TASK, properties=struct({**task, **waiting}))),
            lambda: stub.Create(provider_pb2.CreateRequest(urn=URN_INVOCATION,
                                                           properties=struct({**invocation, **waiting}))),
            lambda: stub.Create(provider_pb2.CreateRequest(urn=URN_TASKS, properties=struct(
                {"functionName": "fn", "taskIdPrefix": "p-", **waiting}))),
            lambda: stub.Create(provider_pb2.CreateRequest(urn=URN_TASK, properties=struct(task))),
            lambda: stub.Invoke(provider_pb2.InvokeRequest(tok="fc-invocation:index:getAsyncTask", args=struct(task))),
            lambda: stub.Invoke(provider_pb2.InvokeRequest(tok="fc-invocation:index:getStatefulAsyncInvocation",
                                                           args=struct(invocation))),
            lambda: stub.Read(provider_pb2.ReadRequest(id="fn/t-1", urn=URN_TASK, properties=struct(
                {**task, "status": "Succeeded"}), inputs=struct(task))),
        ]
        before = len(engine.logs)
        errors = []
        for call in calls:
            with pytest.raises(grpc.RpcError) as caught:
                call()
            errors.append(caught.value.details())
    logs = [log.message for log in engine.logs[before:]]
    assert all("reach" in text for text in errors), errors  # each failed on the unreachable endpoint
    # each names the endpoint it could not reach, the secret masked where it stands (the waits end on
    # the first read's one line, issue 27: no warning is logged before it)
    assert all("[secret]" in text for text in errors), errors
    shown = [text for text in errors + logs if tell in text]
    assert not shown, shown
