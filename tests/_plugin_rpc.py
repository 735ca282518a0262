"""The provider plugin over gRPC, as the plugin tests drive it (fixtures ``engine``, ``plugin`` and ``ready``
in conftest.py): a stand-in engine that records the plugin's Log calls, the real plugin process started
against it, and the request shapes (structs, secrets) the engine would send."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, provider_pb2, provider_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent
URN_TASK = "urn:pulumi:dev::proj::fc-invocation:index:AsyncTask::gate"
URN_TASKS = "urn:pulumi:dev::proj::fc-invocation:index:AsyncTasks::batch"
SECRET_SIG = "4dabf18193072939515e22adb298388d"


class Engine(engine_pb2_grpc.EngineServicer):
    def __init__(self) -> None:
        self.logs: list[engine_pb2.LogRequest] = []

    def Log(self, request, context):
        self.logs.append(request)
        return empty_pb2.Empty()


@contextlib.contextmanager
def started(engine, **extra_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_", "ALICLOUD_", "FC_INVOCATION_"))}
    env.update(extra_env)
    env["FC_INVOCATION_PROGRESS_SECONDS"] = "0.5"
    env["HOME"] = str(ROOT / ".no-home")
    child = subprocess.Popen([sys.executable, "-m", "pulumi_fc_invocation.plugin", engine.address], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        port = child.stdout.readline().decode().strip()
        assert port.isdigit(), child.stderr.read().decode()
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield provider_pb2_grpc.ResourceProviderStub(channel)
    finally:
        child.kill()
        child.wait()


def struct(values: dict) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(values)
    return s


def secret(value):
    return {SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270", "value": value}


def configured(plugin, fc):
    conf = {"accessKey": fc.credentials.access_key_id, "secretKey": secret(fc.credentials.access_key_secret),
            "accountId": fc.account_id, "region": fc.region, "endpoint": fc.endpoint}
    checked = plugin.CheckConfig(provider_pb2.CheckRequest(urn="urn:pulumi:dev::proj::pulumi:providers:fc-invocation::default",
                                                           news=struct(conf)))
    assert not checked.failures
    response = plugin.Configure(provider_pb2.ConfigureRequest(args=checked.inputs, acceptSecrets=True))
    assert response.acceptSecrets and response.supportsPreview
    return response


def plugin_config(fc) -> dict[str, str]:
    """The emulator's settings as the plugin's own config keys (``fc-invocation:accessKey``...)."""
    return {f"fc-invocation:{key.split(':', 1)[1]}": value for key, value in fc.stack_config().items()}
