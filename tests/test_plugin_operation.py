"""The plugin's functions in a refresh or destroy that runs the program (issue 24, items 9 and 10).

A YAML or TypeScript program calls the plugin's functions (Invoke) in `pulumi refresh --run-program`
and `pulumi destroy --run-program` too; there, as the README says of every gate, a function must
neither wait nor fail: a failed task never blocks tearing a stack down. The plugin takes the operation
as the Python gates do (the `pulumi` process's command line, else ``FC_INVOCATION_OPERATION``). Over
gRPC, then through the real CLI with a YAML program.
"""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import json_format
from pulumi.runtime.proto import provider_pb2

from _installed_plugin import INSTALLED_ONLY, install_plugin
from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli
from _plugin_rpc import configured, plugin_config, started, struct


@pytest.fixture(scope="module")
def fc():
    with FcEmulator(clock="real") as emulator:
        emulator.add_invocation(None, "fn", "bad", timeline=[("Failed", 0)], error_message="boom")
        emulator.add_invocation("svc", "fn2", "bad2", timeline=[("Failed", 0)], error_message="boom")
        yield emulator


CALLS = {
    "getAsyncTask": {"functionName": "fn", "taskId": "bad"},
    "getAsyncTasks": {"functionName": "fn", "taskIdPrefix": "ba"},
    "getStatefulAsyncInvocation": {"serviceName": "svc", "functionName": "fn2", "invocationId": "bad2"},
}


def invoke(stub, name):
    response = stub.Invoke(provider_pb2.InvokeRequest(tok=f"fc-invocation:index:{name}", args=struct(CALLS[name])))
    return json_format.MessageToDict(getattr(response, "return"))


@pytest.mark.parametrize("operation", ["destroy", "refresh"])
def test_a_function_in_a_refresh_or_destroy_reads_a_failed_task_without_failing(engine, fc, operation):
    engine.logs.clear()
    with started(engine, FC_INVOCATION_OPERATION=operation) as stub:
        configured(stub, fc)
        assert invoke(stub, "getAsyncTask")["status"] == "Failed"
        assert invoke(stub, "getStatefulAsyncInvocation")["status"] == "Failed"
        assert invoke(stub, "getAsyncTasks")["counts"]["Failed"] == 1
    # The setting, not the `pulumi` process (the plugin runs under pytest here), relaxed each function:
    # each says so, as the Python gates do, so a leftover variable never lets a failed task through silently.
    warned = [log.message for log in engine.logs if f"FC_INVOCATION_OPERATION={operation}" in log.message]
    assert len(warned) == 3 and all("only recording" in text for text in warned), [l.message for l in engine.logs]


def test_a_function_in_an_up_still_fails_on_a_failed_task(engine, fc):
    with started(engine, FC_INVOCATION_OPERATION="up") as stub:
        configured(stub, fc)
        for name in CALLS:
            with pytest.raises(grpc.RpcError) as info:
                invoke(stub, name)
            assert "Failed" in info.value.details(), info.value.details()


# --- the real CLI: a YAML program's function call in `pulumi destroy --run-program` -------------------

PROGRAM = """name: fnops
runtime: yaml
config:
  task:
    type: string
resources:
  gate:
    type: fc-invocation:AsyncTask
    properties:
      functionName: fn
      taskId: good
variables:
  current:
    fn::invoke:
      function: fc-invocation:getAsyncTask
      arguments:
        functionName: fn
        taskId: ${task}
outputs:
  status: ${current.status}
"""


def test_yaml_destroy_running_the_program_is_not_blocked_by_a_function_on_a_failed_task(fc, tmp_path, pulumi_bin):
    fc.add_invocation(None, "fn", "good", timeline=[("Succeeded", 0)])
    (tmp_path / "Pulumi.yaml").write_text(PROGRAM)
    with PulumiCli(tmp_path, pulumi=pulumi_bin, env=dict(INSTALLED_ONLY)) as cli:
        install_plugin(cli)
        cli.config(plugin_config(fc), secret_keys={"fc-invocation:secretKey"})
        cli.config({"fnops:task": "good"})
        up = cli.up()
        assert up.ok, up.output
        cli.config({"fnops:task": "bad"})  # the task the program names has Failed since
        again = cli.up()
        assert not again.ok and "fn/bad ended Failed" in again.output, again.output  # an up is still gated
        destroy = cli.destroy("--run-program")
        assert destroy.ok, destroy.output
        assert "ended Failed" not in destroy.output, destroy.output
        assert not [r for r in cli.resources() if r["type"].startswith("fc-invocation:")]
