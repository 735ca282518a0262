"""The package layout's promises: state written by 0.1 still works (its providers were pickled by
reference, as ``pulumi_fc_invocation.provider`` / ``.batch_provider``), no module imports another's
private names, every public name of 0.1 is still importable from the package, and the providers this
version stores in state (the gates' and the runs') stay at their module paths."""

from __future__ import annotations

import ast
import base64
from pathlib import Path

import dill
import pytest
from google.protobuf import json_format, struct_pb2

import pulumi_fc_invocation
from pulumi_fc_invocation.pulumi.providers import StatefulAsyncInvocationProvider, StatefulAsyncInvocationsProvider
from pulumi_fc_invocation.testing.harness import ProviderHost
from pulumi_fc_invocation.testing.server import FcEmulator

PACKAGE = Path(pulumi_fc_invocation.__file__).parent

# ``serialize_provider(StatefulAsyncInvocationProvider())`` and the batch one, as 0.1 wrote them into
# state (``__provider``), when the classes lived in provider.py and batch_provider.py.
OLD_SINGLE_BLOB = ("gASVSwAAAAAAAACMHXB1bHVtaV9mY19pbnZvY2F0aW9uLnByb3ZpZGVylIwfU3RhdGVmdWxBc3luY0ludm9jYXRpb25Qcm92aWRl"
                   "cpSTlCmBlH2UYi4=")
OLD_BATCH_BLOB = ("gASVUgAAAAAAAACMI3B1bHVtaV9mY19pbnZvY2F0aW9uLmJhdGNoX3Byb3ZpZGVylIwgU3RhdGVmdWxBc3luY0ludm9jYXRpb25z"
                  "UHJvdmlkZXKUk5QpgZR9lGIu")

KEY_ID, SECRET = "LTAIlayoutTestKey01", "Layout-Secret-Value-77"


def test_the_old_blobs_name_the_old_module_paths():
    assert b"pulumi_fc_invocation.provider" in base64.b64decode(OLD_SINGLE_BLOB)
    assert b"pulumi_fc_invocation.batch_provider" in base64.b64decode(OLD_BATCH_BLOB)


def test_providers_pickled_by_0_1_unpickle_to_the_current_classes():
    assert type(dill.loads(base64.b64decode(OLD_SINGLE_BLOB))) is StatefulAsyncInvocationProvider
    assert type(dill.loads(base64.b64decode(OLD_BATCH_BLOB))) is StatefulAsyncInvocationsProvider


def _struct(values: dict) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    json_format.ParseDict(values, struct)
    return struct


def test_a_provider_host_reads_with_the_providers_0_1_stored():
    """A refresh of a 0.1 stack: the real dynamic provider host unpickles the stored blobs and reads."""
    from pulumi.runtime.proto import provider_pb2

    with FcEmulator(clock="virtual", access_key_id=KEY_ID, access_key_secret=SECRET) as fc:
        fc.add_invocation("video", "transcode", "v-1", timeline=[("Succeeded", 0)])
        fc.add_invocation("video", "transcode", "v-2", timeline=[("Failed", 0)])
        config = {"alicloud:accessKey": KEY_ID, "alicloud:secretKey": SECRET, "alicloud:accountId": fc.account_id,
                  "fc-invocation:endpoint": fc.endpoint}
        with ProviderHost() as host:
            host.configure(config, secret_keys=("alicloud:secretKey",))
            single = host.stub.Read(provider_pb2.ReadRequest(
                id="video/transcode/v-1", urn="urn:pulumi:s::p::pulumi-python:dynamic/fc:StatefulAsyncInvocation::t",
                properties=_struct({"__provider": OLD_SINGLE_BLOB, "service_name": "video",
                                    "function_name": "transcode", "invocation_id": "v-1", "status": "Running"}),
                name="t", type="pulumi-python:dynamic/fc:StatefulAsyncInvocation"), timeout=60)
            batch = host.stub.Read(provider_pb2.ReadRequest(
                id="video/transcode?prefix=v-",
                urn="urn:pulumi:s::p::pulumi-python:dynamic/fc:StatefulAsyncInvocations::b",
                properties=_struct({"__provider": OLD_BATCH_BLOB, "service_name": "video",
                                    "function_name": "transcode", "invocation_id_prefix": "v-", "total": 1}),
                name="b", type="pulumi-python:dynamic/fc:StatefulAsyncInvocations"), timeout=60)
    outs = json_format.MessageToDict(single.properties)
    assert single.id == "video/transcode/v-1" and outs["status"] == "Succeeded"
    batch_outs = json_format.MessageToDict(batch.properties)
    assert batch_outs["total"] == 2 and batch_outs["counts"]["Failed"] == 1
    assert sorted(batch_outs["ids"]) == ["video/transcode/v-1", "video/transcode/v-2"]


# ``serialize_provider(<Class>())`` as this version writes it into state (``__provider``): the class by
# reference, its module path and name. Moving or renaming a class breaks every stack that stored it.
STORED_BLOBS = {
    "pulumi_fc_invocation.pulumi.providers.StatefulAsyncInvocationProvider":
        "gASVUwAAAAAAAACMJXB1bHVtaV9mY19pbnZvY2F0aW9uLnB1bHVtaS5wcm92aWRlcnOUjB9TdGF0ZWZ1bEFzeW5jSW52b2NhdGlvblByb3ZpZGVylJOUKYGUfZRiLg==",
    "pulumi_fc_invocation.pulumi.providers.StatefulAsyncInvocationsProvider":
        "gASVVAAAAAAAAACMJXB1bHVtaV9mY19pbnZvY2F0aW9uLnB1bHVtaS5wcm92aWRlcnOUjCBTdGF0ZWZ1bEFzeW5jSW52b2NhdGlvbnNQcm92aWRlcpSTlCmBlH2UYi4=",
    "pulumi_fc_invocation.pulumi.providers.AsyncTaskProvider":
        "gASVRQAAAAAAAACMJXB1bHVtaV9mY19pbnZvY2F0aW9uLnB1bHVtaS5wcm92aWRlcnOUjBFBc3luY1Rhc2tQcm92aWRlcpSTlCmBlH2UYi4=",
    "pulumi_fc_invocation.pulumi.providers.AsyncTasksProvider":
        "gASVRgAAAAAAAACMJXB1bHVtaV9mY19pbnZvY2F0aW9uLnB1bHVtaS5wcm92aWRlcnOUjBJBc3luY1Rhc2tzUHJvdmlkZXKUk5QpgZR9lGIu",
    "pulumi_fc_invocation.pulumi.run_providers.AsyncTaskRunStartProvider":
        "gASVUQAAAAAAAACMKXB1bHVtaV9mY19pbnZvY2F0aW9uLnB1bHVtaS5ydW5fcHJvdmlkZXJzlIwZQXN5bmNUYXNrUnVuU3RhcnRQcm92aWRlcpSTlCmBlH2UYi4=",
    "pulumi_fc_invocation.pulumi.run_providers.StatefulAsyncInvocationRunStartProvider":
        "gASVXwAAAAAAAACMKXB1bHVtaV9mY19pbnZvY2F0aW9uLnB1bHVtaS5ydW5fcHJvdmlkZXJzlIwnU3RhdGVmdWxBc3luY0ludm9jYXRpb25SdW5TdGFydFByb3ZpZGVylJOUKYGUfZRiLg==",
    "pulumi_fc_invocation.pulumi.run_providers.AsyncTaskRunProvider":
        "gASVTAAAAAAAAACMKXB1bHVtaV9mY19pbnZvY2F0aW9uLnB1bHVtaS5ydW5fcHJvdmlkZXJzlIwUQXN5bmNUYXNrUnVuUHJvdmlkZXKUk5QpgZR9lGIu",
    "pulumi_fc_invocation.pulumi.run_providers.StatefulAsyncInvocationRunProvider":
        "gASVWgAAAAAAAACMKXB1bHVtaV9mY19pbnZvY2F0aW9uLnB1bHVtaS5ydW5fcHJvdmlkZXJzlIwiU3RhdGVmdWxBc3luY0ludm9jYXRpb25SdW5Qcm92aWRlcpSTlCmBlH2UYi4=",
}


@pytest.mark.parametrize("path", sorted(STORED_BLOBS))
def test_the_providers_stored_in_state_stay_at_their_module_paths(path):
    """The gates' and the runs' providers are pickled into state by path: a stored blob unpickles to the
    class importable at that path, and this version still writes exactly that blob."""
    import importlib

    from pulumi.dynamic.dynamic import serialize_provider

    module, _, name = path.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    assert type(dill.loads(base64.b64decode(STORED_BLOBS[path]))) is cls
    assert serialize_provider(cls()) == STORED_BLOBS[path]


def test_the_alias_modules_only_re_export_the_provider_classes():
    from pulumi_fc_invocation import batch_provider, provider

    assert provider.__all__ == ["StatefulAsyncInvocationProvider"]
    assert batch_provider.__all__ == ["StatefulAsyncInvocationsProvider"]
    assert provider.StatefulAsyncInvocationProvider is StatefulAsyncInvocationProvider
    assert batch_provider.StatefulAsyncInvocationsProvider is StatefulAsyncInvocationsProvider


def _package_modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts)


def test_no_module_imports_another_modules_private_names():
    offenders = []
    for path in _package_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            internal = node.level > 0 or (node.module or "").startswith("pulumi_fc_invocation")
            if not internal or node.module == "__future__":
                continue
            for alias in node.names:
                if alias.name.startswith("_") and alias.name != "__version__":
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} imports {alias.name}")
    assert not offenders, offenders


PUBLIC_0_1 = (
    "FcClient", "Credentials", "InvocationRef", "InvocationStatus", "InvocationEvent",
    "StatefulAsyncInvocationResult", "StatefulAsyncInvocation", "get_stateful_async_invocation",
    "get_stateful_async_invocation_output", "StatefulAsyncInvocationProvider", "StatefulAsyncInvocations",
    "GetStatefulAsyncInvocationsResult", "get_stateful_async_invocations", "get_stateful_async_invocations_output",
    "StatefulAsyncInvocationsProvider", "GetStatefulAsyncInvocationResult", "WaitPolicy", "Waiter",
)
PUBLIC_FC3 = ("AsyncTask", "AsyncTasks", "get_async_task", "get_async_task_output", "get_async_tasks",
              "get_async_tasks_output", "GetAsyncTaskResult", "GetAsyncTasksResult", "AsyncTaskRef", "AsyncTaskResult",
              "AsyncTaskProvider", "AsyncTasksProvider")


@pytest.mark.parametrize("name", PUBLIC_0_1 + PUBLIC_FC3)
def test_public_names_are_importable_from_the_package(name):
    assert name in pulumi_fc_invocation.__all__
    assert getattr(pulumi_fc_invocation, name) is not None


def test_type_tokens_are_unchanged_and_fc3_has_its_own():
    from pulumi_fc_invocation.kinds import FC2, FC3

    classes = {pulumi_fc_invocation.StatefulAsyncInvocation: FC2.single_type_token,
               pulumi_fc_invocation.StatefulAsyncInvocations: FC2.batch_type_token,
               pulumi_fc_invocation.AsyncTask: FC3.single_type_token,
               pulumi_fc_invocation.AsyncTasks: FC3.batch_type_token}
    for cls, token in classes.items():
        assert f"pulumi-python:{cls._resource_type_name}" == token  # the SDK's token for the class
    assert list(classes.values()) == [
        "pulumi-python:dynamic/fc:StatefulAsyncInvocation", "pulumi-python:dynamic/fc:StatefulAsyncInvocations",
        "pulumi-python:dynamic/fc:AsyncTask", "pulumi-python:dynamic/fc:AsyncTasks"]


def test_the_fc2_names_of_0_1_are_still_importable_from_models():
    from pulumi_fc_invocation import fc2, models

    assert models.InvocationRef is fc2.InvocationRef
    assert models.validate_invocation_id is fc2.validate_invocation_id


def test_the_gating_implementation_imports_no_pulumi():
    """A provider plugin (issue 14) reuses the gate without the dynamic-provider machinery."""
    import subprocess
    import sys

    code = ("import sys, pulumi_fc_invocation.gate.gates, pulumi_fc_invocation.gate.run, pulumi_fc_invocation.gate.batch, "
            "pulumi_fc_invocation.gate.verdict, pulumi_fc_invocation.kinds; print(sorted(m for m in ('pulumi', 'grpc') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
