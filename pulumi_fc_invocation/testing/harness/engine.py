"""The engine stand-in: mocks that forward dynamic resources to the provider host, a monitor that gives
them the full request, and an engine stub that records log messages (see the package docstring)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Optional

import grpc
from google.protobuf import empty_pb2, struct_pb2

from pulumi.runtime import mocks as _mocks
from pulumi.runtime.proto import engine_pb2, provider_pb2, resource_pb2
from pulumi.runtime.rpc import UNKNOWN

from .host import ProviderHost
from .results import LogRecord, ResourceError, ResourceRecord
from .wire import py_to_struct, split_secrets, struct_to_py, wrap_secrets

__all__ = ["DYNAMIC_TYPE_PREFIX", "PROVIDER_KEY", "UNKNOWN", "Deployment", "ForwardingMocks", "HarnessMonitor",
           "HarnessResourceArgs", "RecordingEngine", "ResourceFailed"]

DYNAMIC_TYPE_PREFIX = "pulumi-python:dynamic"
# UNKNOWN (re-exported above): how an unknown (preview) value appears in ProgramResult / ResourceRecord.
PROVIDER_KEY = "__provider"
STACK_TYPE = "pulumi:pulumi:Stack"
_SEVERITIES = {
    engine_pb2.DEBUG: "debug",
    engine_pb2.INFO: "info",
    engine_pb2.WARNING: "warning",
    engine_pb2.ERROR: "error",
}


class ResourceFailed(Exception):
    """Raised out of the mock monitor so the SDK fails the resource and its dependents."""


class HarnessResourceArgs(_mocks.MockResourceArgs):
    """MockResourceArgs plus what the engine knows and MockMonitor drops (URN, secret outputs).

    ``inputs`` are wire values: secrets as ``{sig: secret, value: ...}`` wrappers, as in
    ``set_mocks``, ``__provider`` included.
    """

    def __init__(self, *, urn: str, op: str, additional_secret_outputs: Iterable[str], **kwargs):
        super().__init__(**kwargs)
        self.urn = urn
        self.op = op
        self.additional_secret_outputs = list(additional_secret_outputs)


class Deployment:
    """Everything one run_program call accumulates, shared by mocks, monitor and engine stub."""

    def __init__(self, host: ProviderHost, preview: bool, deadline: float,
                 on_log: Optional[Callable[["LogRecord"], Any]] = None):
        self.on_log = on_log
        self.host = host
        self.preview = preview
        self.deadline = deadline
        self.lock = threading.Lock()
        self.resources: list[ResourceRecord] = []
        self.errors: list[ResourceError] = []
        self.logs: list[LogRecord] = []
        self.failed = threading.Event()
        self.stack_urn: Optional[str] = None
        self.stack_outputs: Optional[struct_pb2.Struct] = None

    def remaining(self) -> float:
        return max(self.deadline - time.monotonic(), 0.001)


class ForwardingMocks(_mocks.Mocks):
    """``Mocks`` whose dynamic resources are served by the real provider host.

    ``new_resource`` runs in the SDK's executor threads (the SDK calls the monitor through
    ``run_in_executor``), so a blocking gRPC call here holds only its own registration: the event
    loop and other registrations proceed, and the host's pool decides how many calls run at once.
    """

    def __init__(self, deployment: Deployment):
        self._d = deployment

    def call(self, args: _mocks.MockCallArgs):
        raise NotImplementedError(
            f"invoke {args.token!r}: the harness has no provider plugins (dynamic providers "
            "support no Invoke either)"
        )

    # The harness's monitor calls it with its own HarnessResourceArgs (a MockResourceArgs with more).
    def new_resource(self, args: HarnessResourceArgs) -> tuple[Optional[str], dict]:  # type: ignore[override]
        d = self._d
        if d.failed.is_set():
            # The engine's step executor stops starting steps once one has failed.
            raise ResourceFailed(
                f"{args.urn}: not deployed, the deployment was cancelled after an earlier error"
            )
        plain, secret_in = split_secrets(args.inputs)
        blob = plain.get(PROVIDER_KEY) if isinstance(plain.get(PROVIDER_KEY), str) else None
        if not args.typ.startswith(DYNAMIC_TYPE_PREFIX):
            op = "mock" if args.custom else "component"
            id_ = f"{args.name}_id" if args.custom and not d.preview else ""
            if args.resource_id and args.custom:
                id_ = args.resource_id
            outs, secret_out = plain, set(secret_in)
        else:
            op = args.op
            # acceptSecrets=False (the dynamic host's answer): the engine strips secrets on the way
            # in and re-marks same-named outputs secret on the way out (annotateSecrets).
            wire = args.inputs if d.host.accept_secrets else plain
            try:
                if op == "create":
                    id_, raw_outs = self._create(args, wire)
                else:
                    id_, raw_outs = self._read(args, wire if op == "read" else {})
            except ResourceFailed as exn:
                self._fail(args, op, str(exn))
                raise
            except grpc.RpcError as exn:
                message = exn.details() or str(exn)
                if exn.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                    message = f"provider host {exn.code().name.lower()}: {message}"
                self._fail(args, op, message)
                raise ResourceFailed(message) from None
            outs, secret_out = split_secrets(raw_outs)
            secret_out |= {k for k in secret_in if k in outs}
        # The engine (resmon) applies additional_secret_outputs to whatever outputs exist.
        secret_out |= {k for k in args.additional_secret_outputs if k in outs}
        record = ResourceRecord(
            urn=args.urn,
            type=args.typ,
            name=args.name,
            id=id_ or None,
            inputs=plain,
            outputs=outs,
            secret_outputs=secret_out,
            provider_blob=blob,
            op=op,
            secret_inputs=secret_in,
        )
        with d.lock:
            d.resources.append(record)
        return id_, wrap_secrets(outs, secret_out)

    def _fail(self, args: HarnessResourceArgs, op: str, message: str) -> None:
        with self._d.lock:
            self._d.errors.append(ResourceError(args.urn, args.typ, args.name, op, message))
        self._d.failed.set()

    def _create(self, args: HarnessResourceArgs, wire: dict) -> tuple[str, dict]:
        d = self._d
        check = d.host.stub.Check(
            provider_pb2.CheckRequest(
                urn=args.urn,
                olds=struct_pb2.Struct(),
                news=py_to_struct(wire),
                randomSeed=os.urandom(32),
                name=args.name,
                type=args.typ,
            ),
            timeout=d.remaining(),
        )
        if check.failures:
            reasons = "\n".join(f"  {f.property}: {f.reason}" for f in check.failures)
            raise ResourceFailed(f"{args.urn} has invalid inputs:\n{reasons}")
        checked = struct_to_py(check.inputs)
        if d.preview and not d.host.supports_preview:
            # provider_plugin.go Create: no Create call in a preview; the state is the inputs.
            return "", checked
        response = d.host.stub.Create(
            provider_pb2.CreateRequest(
                urn=args.urn,
                properties=check.inputs,
                preview=d.preview,
                name=args.name,
                type=args.typ,
            ),
            timeout=d.remaining(),
        )
        if not response.id and not d.preview:
            raise ResourceFailed(
                f"plugin for package 'pulumi-python' returned empty resource.ID from create "
                f"'{args.urn}'"
            )
        return response.id, struct_to_py(response.properties)

    def _read(self, args: HarnessResourceArgs, wire: dict) -> tuple[str, dict]:
        d = self._d
        if args.resource_id == UNKNOWN:
            return "", {}  # step.go ReadStep: an unknown id is not read
        props = py_to_struct(wire)
        response = d.host.stub.Read(
            provider_pb2.ReadRequest(
                id=args.resource_id,
                urn=args.urn,
                properties=props,
                inputs=props,
                name=args.name,
                type=args.typ,
            ),
            timeout=d.remaining(),
        )
        if not response.id:
            raise ResourceFailed(f"resource '{args.resource_id}' does not exist")
        return response.id, struct_to_py(response.properties)


def settings_stack() -> str:
    from pulumi.runtime.settings import get_stack

    return get_stack()


def settings_project() -> str:
    from pulumi.runtime.settings import get_project

    return get_project()


class HarnessMonitor(_mocks.MockMonitor):
    """MockMonitor that hands the mocks the URN, the operation and additional_secret_outputs.

    MockMonitor builds MockResourceArgs without them; the engine has them, so registration and
    read are re-implemented here on the wire (Struct) form. Stack outputs are captured from
    ``RegisterResourceOutputs``, which is where the engine gets them.
    """

    def __init__(self, mocks: ForwardingMocks, deployment: Deployment):
        super().__init__(mocks)
        self._d = deployment

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine makes them: the parent's whole qualified type is prefixed, except the
        root stack's (MockMonitor prefixes ``pulumi:pulumi:Stack$`` and only the parent's last type)."""
        if parent:
            qualified = parent.split("::")[2]
            if qualified != "pulumi:pulumi:Stack":
                type_ = qualified + "$" + type_
        return "urn:pulumi:" + "::".join([settings_stack(), settings_project(), type_, name])

    def _register(self, request, op: str, resource_id: Optional[str], custom: bool):
        urn = self.make_urn(request.parent, request.type, request.name)
        args = HarnessResourceArgs(
            urn=urn,
            op=op,
            additional_secret_outputs=request.additionalSecretOutputs,
            typ=request.type,
            name=request.name,
            inputs=struct_to_py(request.properties if op == "read" else request.object),
            provider=request.provider,
            resource_id=resource_id,
            custom=custom,
        )
        id_, state = self.mocks.new_resource(args)
        self.resources[urn] = _mocks.MockMonitor.ResourceRegistration(urn, id_, state)
        return urn, id_ or "", py_to_struct(state)

    def RegisterResource(self, request):
        if request.type == STACK_TYPE:
            urn = self.make_urn(request.parent, request.type, request.name)
            self._d.stack_urn = urn
            return resource_pb2.RegisterResourceResponse(urn=urn)
        op = "import" if request.importId else "create"
        urn, id_, obj = self._register(request, op, request.importId or None, request.custom)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj)

    def ReadResource(self, request):
        urn, id_, props = self._register(request, "read", request.id, True)
        return resource_pb2.ReadResourceResponse(urn=urn, id=id_, properties=props)

    def RegisterResourceOutputs(self, request):
        if request.urn == self._d.stack_urn:
            self._d.stack_outputs = request.outputs
        return empty_pb2.Empty()


class RecordingEngine(_mocks.MockEngine):
    """Engine stub that keeps ``pulumi.log`` messages (the CLI would print them)."""

    def __init__(self, deployment: Deployment):
        super().__init__(None)
        self._d = deployment

    def Log(self, request):
        if request.severity == engine_pb2.DEBUG:
            return  # shown by the CLI only with --debug; the SDK logs its own RPCs here
        record = LogRecord(
            severity=_SEVERITIES.get(request.severity, str(request.severity)),
            message=request.message,
            urn=request.urn or None,
            ephemeral=bool(request.ephemeral),
        )
        with self._d.lock:
            self._d.logs.append(record)
        if self._d.on_log is not None:
            self._d.on_log(record)  # live, as the CLI prints diagnostics while the update runs
