"""The emulated stack the data-source tests share (fixtures in conftest.py): the credentials the emulator
knows and the stack passes as config (secrets that no output may show), and an environment that hides the
machine's own credentials from the provider host."""

import random
from typing import NamedTuple

KEY_ID = "LTAIdataSourceTestKey"
SECRET = "DataSource-Secret-Value-9f8e7d"
TOKEN = "CAIS-DataSource-Sts-Token-1a2b3c"
SECRET_KEYS = ("alicloud:secretKey", "alicloud:securityToken")
CLEAN_ENV = {name: "" for name in (
    "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY",
    "FC_INVOCATION_ENDPOINT", "ALIBABA_CLOUD_SECURITY_TOKEN", "ALICLOUD_SECURITY_TOKEN")}


def refreshed(host, rec):
    """What `pulumi refresh` sends the dynamic provider host: Read with the prior outputs as properties;
    (the id, the outputs) it answers."""
    import asyncio

    import grpc
    from pulumi.runtime import rpc
    from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

    prior = asyncio.run(rpc.serialize_properties({**rec.outputs, "__provider": rec.provider_blob}, {}))
    with grpc.insecure_channel(f"127.0.0.1:{host.port}") as channel:
        response = provider_pb2_grpc.ResourceProviderStub(channel).Read(
            provider_pb2.ReadRequest(id=rec.id, urn=rec.urn, properties=prior))
    return response.id, rpc.deserialize_properties(response.properties)


def seed_history(fc, service, function, around=600.0, n=40, seed=3):
    """Past Succeeded runs of the function (durations about ``around`` s, 10% spread), all ended by now."""
    rng = random.Random(seed)
    durations = [around * rng.lognormvariate(0, 0.1) for _ in range(n)]
    start = fc.clock.now() - max(durations) - 100
    for i, duration in enumerate(durations):
        fc.add_invocation(service, function, f"past-{i}", duration=duration, started_at=start + i * 0.001)


class Api(NamedTuple):
    """One FC API as the tests that run on both use it (fixture ``api`` in conftest.py): where an item lives
    (FC 2.0: a service's function; FC 3.0: a function), its ids, and the single data source and its forms."""

    name: str  # the test id: fc2, fc3
    noun: str  # what the gate's messages call an item
    single: str  # the data source's class in pulumi_fc_invocation
    function_form: str  # its function form (blocking; + "_output" for the Output form)
    id_input: str  # the item's id input
    payload: str  # the item's payload output
    error: str  # the item's error-message output

    def service(self, service):
        """The service an item lives in: ``service`` on FC 2.0, none on FC 3.0."""
        return service if self.name == "fc2" else None

    def ref(self, service, function, item, qualifier=None):
        """The data source's id (its composite ref) for an item."""
        head = (service if self.name == "fc2" else function) + (f".{qualifier}" if qualifier else "")
        return f"{head}/{function}/{item}" if self.name == "fc2" else f"{head}/{item}"

    def args(self, service, function, item):
        """The function forms' positional arguments naming an item."""
        return (service, function, item) if self.name == "fc2" else (function, item)

    def invoke(self, fc, service, function, item):
        """Invoke ``function`` asynchronously through the emulator's client, with the item's id."""
        if self.name == "fc2":
            return fc.client().invoke_async(service, function, "{}", invocation_id=item)
        return fc.client().invoke_async_task(function, "{}", task_id=item)

    def gate(self, name, service, function, item, **inputs):
        """The single data source on an item (declared in a program)."""
        import pulumi_fc_invocation

        names = {"service_name": service} if self.name == "fc2" else {}
        return getattr(pulumi_fc_invocation, self.single)(name, **names, function_name=function,
                                                          **{self.id_input: item}, **inputs)

    def function(self, service, function, item, output=False, **inputs):
        """The data source's function form on an item (``output``: the Output form)."""
        import pulumi_fc_invocation

        form = getattr(pulumi_fc_invocation, self.function_form + ("_output" if output else ""))
        return form(*self.args(service, function, item), **inputs)


APIS = (
    Api("fc2", "invocation", "StatefulAsyncInvocation", "get_stateful_async_invocation", "invocation_id",
        "invocation_payload", "invocation_error_message"),
    Api("fc3", "task", "AsyncTask", "get_async_task", "task_id", "task_payload", "task_error_message"),
)
