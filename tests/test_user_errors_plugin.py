"""Issue 27, points 1, 2 and 5 for YAML and TypeScript programs, through the real CLI and the installed plugin:
a settings, credentials, authentication, network or input error reaches `pulumi preview/up/refresh/destroy`
as one line naming the `fc-invocation:*` setting and the fix (no traceback, no FC string to sign); a plain
`pulumi refresh` whose stored settings no longer work says so and names `pulumi refresh --run-program`; a
function's result is secret only where a value is (a task without payloads reads in plaintext).

One project per language, its cases in sequence (each CLI run is seconds)."""

from __future__ import annotations

import socket
from contextlib import contextmanager

import pytest

import grpc
from pulumi.runtime.proto import provider_pb2

from _installed_plugin import INSTALLED_ONLY, install_plugin
from _plugin_rpc import plugin_config, secret, started, struct
from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.pulumi_cli import CliResult, PulumiCli
from test_plugin_typescript import installed, ts_cli  # noqa: F401 - installed: the module's fixture, shared

PROGRAM = """
name: plugin-errors
runtime: yaml
config:
  task:
    type: string
resources:
  gate:
    type: fc-invocation:AsyncTask
    properties:
      functionName: migrate
      taskId: ${task}
      waitForCompletion: true
      timeoutSeconds: 60
variables:
  current:
    fn::invoke:
      function: fc-invocation:getAsyncTask
      arguments:
        functionName: migrate
        taskId: ${task}
        failOnStatuses: []
outputs:
  status: ${gate.status}
  readNow: ${current.status}
"""


@contextmanager
def refused_port():
    """A port bound but never listening: connections to it are refused, and no one else takes it meanwhile."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def diagnostics(result: CliResult) -> str:
    assert not result.ok, result.output
    assert "Traceback" not in result.output and 'File "' not in result.output, result.output
    assert "Canonical request" not in result.output and "HTTPConnection(" not in result.output, result.output
    return result.output.split("Diagnostics:", 1)[-1]


def test_yaml_settings_errors_are_one_line_naming_the_setting_and_the_fix(pulumi_bin, tmp_path):
    project = tmp_path / "errors"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(PROGRAM)
    with FcEmulator(clock="real") as stored, FcEmulator(clock="real") as moved, refused_port() as port, \
            PulumiCli(project, pulumi=pulumi_bin, env=INSTALLED_ONLY) as cli:
        for fc in (stored, moved):
            fc.add_function(None, "migrate", outcome="Succeeded", queue_delay=0, duration=0)  # no payloads
            fc.client().invoke_async_task("migrate", "", task_id="t1")
        install_plugin(cli)
        settings = plugin_config(stored)
        secret = settings.pop("fc-invocation:secretKey")
        cli.config({**settings, "plugin-errors:task": "t1"})

        # A missing secret key: both forms (the resource and fn::invoke) name it and how to set it.
        shown = diagnostics(cli.preview())
        assert shown.count("`fc-invocation:accessKey` is set but `fc-invocation:secretKey` is not") >= 2, shown
        assert "alicloud:" not in shown, shown  # the plugin sees no other namespace: it never sends users there

        # A wrong secret: FC's SignatureNotMatch as one line naming the setting, without the string to sign.
        cli.config({"fc-invocation:secretKey": "not-the-secret"}, secret_keys={"fc-invocation:secretKey"})
        for run in (cli.preview, cli.up):
            shown = diagnostics(run())
            assert "SignatureNotMatch" in shown and "set the right secret in `fc-invocation:secretKey`" in shown, shown
            assert "not-the-secret" not in shown

        # No endpoint, account id nor region: what is missing first, each named as a YAML user spells it.
        cli.config({"fc-invocation:secretKey": secret, "fc-invocation:endpoint": "", "fc-invocation:accountId": "",
                    "fc-invocation:region": ""}, secret_keys={"fc-invocation:secretKey"})
        shown = diagnostics(cli.preview())
        assert "missing the account id and the region" in shown, shown
        assert "the `accountId` argument, Pulumi config `fc-invocation:accountId`" in shown, shown
        assert "`account_id`" not in shown and "cannot reach" not in shown, shown

        # An unreachable endpoint.
        cli.config({"fc-invocation:endpoint": f"http://127.0.0.1:{port}",
                    "fc-invocation:accountId": settings["fc-invocation:accountId"],
                    "fc-invocation:region": settings["fc-invocation:region"]})
        shown = diagnostics(cli.preview())
        assert f"cannot reach Function Compute at http://127.0.0.1:{port}" in shown, shown
        assert "check `fc-invocation:endpoint`" in shown, shown

        # An invalid input: named with its rule, before any call.
        cli.config({"fc-invocation:endpoint": stored.endpoint, "plugin-errors:task": "bad id!"})
        shown = diagnostics(cli.preview())
        assert "taskId" in shown, shown

        # Working settings: up; a task without payloads reads in plaintext from the function (point 5).
        cli.config({"plugin-errors:task": "t1"})
        up = cli.up()
        assert up.ok, up.output
        assert cli.outputs() == {"status": "Succeeded", "readNow": "Succeeded"}

        # The endpoint moves: a plain refresh reads with the stored one, says so and names the fix.
        old_endpoint = stored.endpoint
        stored.stop()
        cli.config({"fc-invocation:endpoint": moved.endpoint})
        shown = diagnostics(cli.refresh())
        assert f"cannot reach Function Compute at {old_endpoint}" in shown, shown
        assert "stored in the stack's state" in shown and "`pulumi refresh --run-program`" in shown, shown
        again = cli.refresh("--run-program")
        assert again.ok, again.output

        # destroy forgets the gates whatever the settings (FC is never called).
        cli.config({"fc-invocation:endpoint": f"http://127.0.0.1:{port}"})
        destroy = cli.destroy()
        assert destroy.ok, destroy.output


TS_PROGRAM = """import * as pulumi from "@pulumi/pulumi";
import * as fc from "@pulumi/fc-invocation";

const taskId = new pulumi.Config().require("task");
const gate = new fc.AsyncTask("gate", { functionName: "migrate", taskId, waitForCompletion: true, timeoutSeconds: 60 });
const now = fc.getAsyncTaskOutput({ functionName: "migrate", taskId, failOnStatuses: [] });

export const status = gate.status;
export const readNow = now.status;
"""


def test_typescript_settings_errors_are_one_line_naming_the_setting_and_the_fix(pulumi_bin, installed):
    """The typed SDK's resource and Output-form function, the same cases as YAML's (the refresh's stored
    settings are the plugin's, shown once for YAML)."""
    with FcEmulator(clock="real") as fc, refused_port() as port:
        fc.add_function(None, "migrate", outcome="Succeeded", queue_delay=0, duration=0)  # no payloads
        fc.client().invoke_async_task("migrate", "", task_id="t1")
        with ts_cli(fc, pulumi_bin, installed, task="t1") as cli:
            (cli.dir / "index.ts").write_text(TS_PROGRAM)
            secret = plugin_config(fc)["fc-invocation:secretKey"]
            cli.run("config", "rm", "fc-invocation:secretKey", check=True)
            shown = diagnostics(cli.preview())
            # The resource's line always; the function's too unless the engine, stopping on the resource's
            # failure, had already shut the log channel (the Node.js host then says "failed to deliver").
            assert "`fc-invocation:accessKey` is set but `fc-invocation:secretKey` is not" in shown, shown
            assert "alicloud:" not in shown, shown
            # The Output form's failure is the Node.js SDK's unhandled rejection: its stack (invoke.ts, grpc-js)
            # is the SDK's own, for any provider's failed invoke; no frame of this package's is in it.
            frames = [line for line in shown.splitlines() if line.strip().startswith("at ")]
            assert all("@pulumi" in line or "grpc" in line or "node:internal" in line for line in frames), shown

            cli.config({"fc-invocation:secretKey": "not-the-secret"}, secret_keys={"fc-invocation:secretKey"})
            shown = diagnostics(cli.preview())
            assert "SignatureNotMatch" in shown and "set the right secret in `fc-invocation:secretKey`" in shown, shown

            cli.config({"fc-invocation:secretKey": secret, "fc-invocation:endpoint": f"http://127.0.0.1:{port}"},
                       secret_keys={"fc-invocation:secretKey"})
            shown = diagnostics(cli.preview())
            assert "check `fc-invocation:endpoint`" in shown, shown

            cli.config({"fc-invocation:endpoint": fc.endpoint, "plugin-typescript:task": "bad id!"})
            shown = diagnostics(cli.preview())
            assert "taskId" in shown, shown

            cli.config({"plugin-typescript:task": "t1"})
            up = cli.up()
            assert up.ok, up.output
            assert cli.outputs() == {"status": "Succeeded", "readNow": "Succeeded"}  # no payload: nothing secret


def test_a_refresh_with_stored_settings_that_no_longer_work_names_them_and_the_fix(engine):
    """Issue 27, point 2, for every stored setting the plugin reads: the provider of a plain `pulumi refresh`
    is configured from the state (`pulumi:providers:fc-invocation`), so a Read that a setting fails says
    so, names it, and names `pulumi refresh --run-program`."""
    with FcEmulator(clock="real") as fc:
        fc.add_function(None, "migrate", outcome="Succeeded", queue_delay=0, duration=0)
        fc.client().invoke_async_task("migrate", "", task_id="t1")
        good = {"accessKey": fc.credentials.access_key_id, "secretKey": secret(fc.credentials.access_key_secret),
                "accountId": fc.account_id, "region": fc.region, "endpoint": fc.endpoint}
        stored = {"wrong secret": {**good, "secretKey": secret("not-the-secret")},
                  "no secret": {key: value for key, value in good.items() if key != "secretKey"}}
        named = {"wrong secret": "set the right secret in `fc-invocation:secretKey`",
                 "no secret": "`fc-invocation:secretKey` is not"}
        with started(engine, FC_INVOCATION_OPERATION="refresh") as plugin:
            for case, settings in stored.items():
                plugin.Configure(provider_pb2.ConfigureRequest(args=struct(settings), acceptSecrets=True))
                with pytest.raises(grpc.RpcError) as caught:
                    plugin.Read(provider_pb2.ReadRequest(
                        id="migrate/t1", urn="urn:pulumi:dev::proj::fc-invocation:index:AsyncTask::gate",
                        properties=struct({"functionName": "migrate", "taskId": "t1", "status": "Running"}),
                        inputs=struct({"functionName": "migrate", "taskId": "t1"})))
                message = caught.value.details()
                assert named[case] in message, (case, message)
                assert "settings stored in the stack's state" in message, (case, message)
                assert "`pulumi refresh --run-program`" in message and "\n" not in message, (case, message)
                assert "not-the-secret" not in message and "Traceback" not in message, (case, message)
