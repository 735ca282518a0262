"""Run a Pulumi program in-process, with its dynamic resources served by a real provider host.

Plain ``pulumi.runtime.set_mocks`` never executes provider code, and the real CLI (``PulumiCli``)
takes seconds per run. This harness sits in between:

* the program runs in this process under the SDK's mock machinery (``MockSettings`` /
  ``MockMonitor``, exactly what ``set_mocks`` installs) inside ``run_in_stack``, the entry point the
  real language host uses, so ``pulumi.export``, ``pulumi.Config`` and ``is_dry_run()`` behave as in
  ``pulumi up`` / ``pulumi preview``;
* every resource whose type starts with ``pulumi-python:dynamic`` is forwarded, over gRPC with the
  SDK's own stubs, to a real ``python -u -m pulumi.dynamic`` process, as the engine starts it. The
  provider object is unpickled, configured and called there, in another process, by the host's
  four-worker thread pool, so pickling, import and concurrency problems show up as they would live.

What the forwarding reproduces from the engine (``provider_plugin.go`` / ``step.go``):

* ``Configure`` is sent once, before the first call, with the stack config as ``variables`` and as
  an ``args`` struct (secret keys wrapped as secrets; the host unwraps them).
* A resource with ``ResourceOptions(id=...)`` is a read: ``Read(id, urn, properties=inputs,
  inputs=inputs)`` -- the engine sends the program's inputs as both. Reads run in previews too. An
  unknown id (preview) skips the call and yields empty outputs, a read answering with an empty id
  fails with ``resource '<id>' does not exist``.
* Any other dynamic resource is ``Check`` then ``Create``. The dynamic host answers ``Configure``
  with ``supportsPreview=False``, so in a preview the engine stops after ``Check`` and hands the
  checked inputs back as the state, with an unknown id: outputs not among the inputs are unknown.
  ``ResourceOptions(import_=...)`` is a ``Read`` with no properties, as ``pulumi import`` sends.
* The host answers ``acceptSecrets=False``, so inputs are sent with secrets stripped (``__provider``
  arrives as a plain string, as it does live) and, as ``annotateSecrets`` does, every output named
  like a secret input is secret again. ``additional_secret_outputs`` are applied on top.
* A provider error (the host's ``_abort_with_traceback`` puts the traceback in the gRPC details)
  fails the resource with that text, which the engine prints verbatim; the SDK then fails every
  dependent before it registers, and the harness, like the engine's step executor, cancels
  registrations that arrive after the first failure. ``run_program`` raises :class:`ProgramError`.

Known differences from a real deployment (``tests/test_engine_vs_harness.py`` runs the same
programs through both and compares the outcomes; ``PulumiCli`` runs the real CLI):

* there is no prior state, so no diff/update/delete, no ``pulumi refresh`` (with or without
  ``--run-program``), no ``destroy`` and no ``--target``; every create is a create;
* the engine stores the whole stack config as the inputs of the default ``pulumi-python`` provider
  and configures a plain ``pulumi refresh`` from that stored copy; the harness keeps no copy;
* some engines answer a read in preview without an id, so the resource's ``id`` is unknown there;
  the harness answers with the program's id;
* non-dynamic resources have no provider plugin and echo their inputs (id ``<name>_id``);
  ``Invoke`` is not supported; resource transforms and hooks registered as engine callbacks are
  not run; ``pulumi.log.debug`` is dropped, as the CLI does without ``--debug``; the host imports
  from this process's ``sys.path`` (see :class:`ProviderHost`), which can be more than a real
  project directory offers.

What it does as the engine does: the gates' verdicts are given in the program (``gate``), so the
first failure ends the run and its message reads as the CLI displays it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import json
import os
import queue
import runpy
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2

from pulumi.errors import RunError
from pulumi.runtime import config as _config
from pulumi.runtime import mocks as _mocks
from pulumi.runtime import rpc as _rpc
from pulumi.runtime import settings as _settings
from pulumi.runtime import stack as _stack
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import engine_pb2, provider_pb2, provider_pb2_grpc, resource_pb2

__all__ = [
    "DYNAMIC_TYPE_PREFIX",
    "UNKNOWN",
    "LogRecord",
    "ProgramError",
    "ProgramResult",
    "ProviderHost",
    "ResourceError",
    "ResourceRecord",
    "run_program",
    "run_program_file",
]

DYNAMIC_TYPE_PREFIX = "pulumi-python:dynamic"
UNKNOWN = _rpc.UNKNOWN
"""How an unknown (preview) value appears in :class:`ProgramResult` / :class:`ResourceRecord`."""

PROVIDER_KEY = "__provider"
_SIG = _rpc._special_sig_key
_SECRET_SIG = _rpc._special_secret_sig
_STACK_TYPE = "pulumi:pulumi:Stack"
# The language host sizes its executor from --parallel; any size above the host's four workers keeps
# the provider host, not the harness, the bottleneck for concurrent registrations.
_PROGRAM_WORKERS = 16
_SEVERITIES = {
    engine_pb2.DEBUG: "debug",
    engine_pb2.INFO: "info",
    engine_pb2.WARNING: "warning",
    engine_pb2.ERROR: "error",
}


# --------------------------------------------------------------------------------------------
# Results


@dataclasses.dataclass
class ResourceRecord:
    """One registered resource, as the engine would hold it in state.

    ``inputs``/``outputs`` are plain values (secrets unwrapped, unknowns as :data:`UNKNOWN`); which
    outputs are secret is in ``secret_outputs``. ``provider_blob`` is the raw serialized
    ``__provider`` input (base64 dill), so tests can check that no credential was pickled into it.
    ``op`` is ``"create"``, ``"read"``, ``"import"``, ``"mock"`` (non-dynamic) or ``"component"``.
    """

    urn: str
    type: str
    name: str
    id: Optional[str]
    inputs: dict
    outputs: dict
    secret_outputs: set = dataclasses.field(default_factory=set)
    provider_blob: Optional[str] = None
    op: str = "create"
    secret_inputs: set = dataclasses.field(default_factory=set)


@dataclasses.dataclass
class LogRecord:
    """A ``pulumi.log`` message from the program; ``urn`` is set when logged against a resource."""

    severity: str  # "info" | "warning" | "error"
    message: str
    urn: Optional[str] = None
    ephemeral: bool = False


@dataclasses.dataclass
class ResourceError:
    """A resource the engine would report as failed, with the text it would print."""

    urn: str
    type: str
    name: str
    op: str
    message: str


@dataclasses.dataclass
class ProgramResult:
    """What a finished ``pulumi up``/``preview`` leaves behind: stack outputs, state, messages."""

    outputs: dict
    secret_outputs: set
    resources: list
    logs: list
    preview: bool = False

    def resource(self, name: str) -> ResourceRecord:
        """The resource registered under logical ``name`` (KeyError if none)."""
        for record in self.resources:
            if record.name == name:
                return record
        raise KeyError(f"no resource named {name!r}; have {[r.name for r in self.resources]}")


class ProgramError(Exception):
    """The deployment failed: the text the engine would print is in ``message``.

    ``resource_errors`` lists the failed resources (provider errors); empty when the program itself
    raised. ``result`` holds what was deployed before the failure (resources, logs).
    """

    def __init__(
        self,
        message: str,
        resource_errors: Optional[list] = None,
        result: Optional[ProgramResult] = None,
    ):
        super().__init__(message)
        self.message = message
        self.resource_errors = list(resource_errors or [])
        self.result = result


# --------------------------------------------------------------------------------------------
# Wire helpers. The engine works on the gRPC Struct form; staying on it (instead of the SDK's
# asyncio serializers) keeps the forwarding synchronous in the SDK's executor threads.


def _struct_to_py(struct: Optional[struct_pb2.Struct]) -> dict:
    return json_format.MessageToDict(struct) if struct is not None else {}


def _py_to_struct(value: Mapping) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


def _unsecret(value: Any) -> tuple[Any, bool]:
    """Strip secret wrappers at any depth; report whether there was one.

    Numbers come back as JSON does from ``pulumi stack output --json`` (what the Automation API
    returns): the wire only has doubles, and integral ones print as integers.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value), False
    if isinstance(value, dict):
        if value.get(_SIG) == _SECRET_SIG:
            return _unsecret(value.get("value"))[0], True
        out, secret = {}, False
        for key, item in value.items():
            out[key], item_secret = _unsecret(item)
            secret = secret or item_secret
        return out, secret
    if isinstance(value, list):
        pairs = [_unsecret(item) for item in value]
        return [item for item, _ in pairs], any(secret for _, secret in pairs)
    return value, False


def _split_secrets(props: Mapping) -> tuple[dict, set]:
    """Plain values plus the top-level keys that held a secret (the engine's granularity)."""
    plain, secret = {}, set()
    for key, value in props.items():
        plain[key], is_secret = _unsecret(value)
        if is_secret:
            secret.add(key)
    return plain, secret


def _wrap_secrets(props: Mapping, secret_keys: Iterable[str]) -> dict:
    keys = set(secret_keys)
    return {k: ({_SIG: _SECRET_SIG, "value": v} if k in keys else v) for k, v in props.items()}


class _ResourceFailed(Exception):
    """Raised out of the mock monitor so the SDK fails the resource and its dependents."""


# --------------------------------------------------------------------------------------------
# The provider host


class ProviderHost:
    """A real dynamic provider host: ``python -u -m pulumi.dynamic``, as the engine runs it.

    The process prints its port on its first stdout line and serves ``ResourceProvider`` from a
    four-worker pool. ``env`` is merged over ``os.environ``; ``pythonpath`` entries (by default this
    process's own import roots) are prepended to ``PYTHONPATH`` so the host can import the modules
    that provider classes are pickled by reference from. The engine gets that from the project
    directory (``cwd``, which ``python -m`` puts on ``sys.path``) and the shared virtualenv; the
    default here is more permissive, pass ``pythonpath=[]`` to check importability strictly.
    ``PULUMI_PROJECT`` is set to ``project`` so ``req.config.get("key")`` without a namespace
    resolves under the project, as it does in a deployment.

    A host is configured once: it caches each unpickled provider after calling its ``configure``,
    so a second, different configuration would silently not reach providers already used. Reuse a
    host across :func:`run_program` calls only with the same config.
    """

    def __init__(
        self,
        *,
        env: Optional[Mapping[str, str]] = None,
        pythonpath: Optional[Iterable[str]] = None,
        cwd: Optional[str] = None,
        project: str = "test",
        python: str = sys.executable,
        startup_timeout: float = 30.0,
    ):
        self._env = dict(env or {})
        if pythonpath is None:
            pythonpath = _importable_paths()
        self._pythonpath = [str(p) for p in pythonpath]
        self._cwd = cwd
        self.project = project
        self._python = python
        self._startup_timeout = startup_timeout
        self._proc: Optional[subprocess.Popen] = None
        self._stderr = None
        self._stdout_thread: Optional[threading.Thread] = None
        self._stdout_lines: list[str] = []
        self._channel: Optional[grpc.Channel] = None
        self._configure_lock = threading.Lock()
        self.stub: Optional[provider_pb2_grpc.ResourceProviderStub] = None
        self.port: Optional[int] = None
        self.config: Optional[dict] = None
        self.secret_keys: frozenset = frozenset()
        self.accept_secrets = False
        self.supports_preview = False

    @property
    def pid(self) -> Optional[int]:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _build_env(self) -> dict:
        env = dict(os.environ)
        env.update(self._env)
        paths = self._pythonpath + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        if paths:
            env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
        env.setdefault("PULUMI_PROJECT", self.project)
        return env

    def start(self) -> "ProviderHost":
        if self._proc is not None:
            raise RuntimeError("provider host already started")
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [self._python, "-u", "-m", "pulumi.dynamic"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=self._build_env(),
            cwd=self._cwd,
        )
        port_line: "queue.Queue[Optional[bytes]]" = queue.Queue()
        # Keep draining stdout after the port line: a provider that prints must never block on a
        # full pipe. The thread ends when the process exits (EOF) and is joined in stop().
        self._stdout_thread = threading.Thread(
            target=self._pump_stdout, args=(port_line,), name="dynamic-host-stdout", daemon=True
        )
        self._stdout_thread.start()
        try:
            try:
                line = port_line.get(timeout=self._startup_timeout)
            except queue.Empty:
                line = None
            if not line or not line.strip().isdigit():
                raise RuntimeError(
                    f"dynamic provider host did not report a port (got {line!r}); stderr:\n"
                    + self.stderr_text()
                )
            self.port = int(line)
            self._channel = grpc.insecure_channel(
                f"127.0.0.1:{self.port}", options=_GRPC_CHANNEL_OPTIONS
            )
            grpc.channel_ready_future(self._channel).result(timeout=self._startup_timeout)
            self.stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
        except BaseException:
            self.stop()
            raise
        return self

    def _pump_stdout(self, port_line: "queue.Queue[Optional[bytes]]") -> None:
        assert self._proc is not None and self._proc.stdout is not None
        first = True
        for line in iter(self._proc.stdout.readline, b""):
            if first:
                port_line.put(line)
                first = False
            else:
                self._stdout_lines.append(line.decode(errors="replace"))
        if first:
            port_line.put(None)

    def configure(
        self,
        config: Optional[Mapping[str, str]] = None,
        *,
        secret_keys: Iterable[str] = (),
        timeout: float = 30.0,
    ) -> None:
        """Send ``Configure`` with the stack config, once, as the engine does before any call.

        Calling again with the same config is a no-op; with a different one it raises, because the
        host would keep already-configured providers on the old config.
        """
        if self.stub is None:
            raise RuntimeError("provider host not started")
        config = {str(k): str(v) for k, v in (config or {}).items()}
        secret_keys = frozenset(secret_keys)
        with self._configure_lock:
            if self.config is not None:
                if self.config != config or self.secret_keys != secret_keys:
                    raise ValueError(
                        "this ProviderHost was already configured with a different config; "
                        "a host process is configured once (use a new ProviderHost)"
                    )
                return
            response = self.stub.Configure(
                provider_pb2.ConfigureRequest(
                    variables=config,
                    args=_py_to_struct(_wrap_secrets(config, secret_keys)),
                    acceptSecrets=True,
                    acceptResources=True,
                ),
                timeout=timeout,
            )
            self.accept_secrets = response.acceptSecrets
            self.supports_preview = response.supportsPreview
            self.config, self.secret_keys = config, secret_keys

    def stdout_text(self) -> str:
        """What the host printed after its port line (provider ``print`` output)."""
        return "".join(self._stdout_lines)

    def stderr_text(self) -> str:
        if self._stderr is None or self._stderr.closed:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def stop(self) -> None:
        """Close the channel, terminate and reap the process, join the stdout thread. Idempotent."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        self.stub = None
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if self._stdout_thread is not None:
                self._stdout_thread.join(timeout=10)
                self._stdout_thread = None
            if proc.stdout is not None:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> "ProviderHost":
        if self._proc is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __del__(self):  # last resort; stop() is the contract
        with contextlib.suppress(Exception):
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()
                self._proc.wait()


# --------------------------------------------------------------------------------------------
# The engine stand-in: mocks that forward dynamic resources, a monitor that gives them the full
# request, and an engine stub that records log messages.


class _HarnessResourceArgs(_mocks.MockResourceArgs):
    """MockResourceArgs plus what the engine knows and MockMonitor drops (URN, secret outputs).

    ``inputs`` are wire values: secrets as ``{sig: secret, value: ...}`` wrappers, as in
    ``set_mocks``, ``__provider`` included.
    """

    def __init__(self, *, urn: str, op: str, additional_secret_outputs: Iterable[str], **kwargs):
        super().__init__(**kwargs)
        self.urn = urn
        self.op = op
        self.additional_secret_outputs = list(additional_secret_outputs)


class _Deployment:
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


class _ForwardingMocks(_mocks.Mocks):
    """``Mocks`` whose dynamic resources are served by the real provider host.

    ``new_resource`` runs in the SDK's executor threads (the SDK calls the monitor through
    ``run_in_executor``), so a blocking gRPC call here holds only its own registration: the event
    loop and other registrations proceed, and the host's pool decides how many calls run at once.
    """

    def __init__(self, deployment: _Deployment):
        self._d = deployment

    def call(self, args: _mocks.MockCallArgs):
        raise NotImplementedError(
            f"invoke {args.token!r}: the harness has no provider plugins (dynamic providers "
            "support no Invoke either)"
        )

    def new_resource(self, args: _HarnessResourceArgs) -> tuple[Optional[str], dict]:
        d = self._d
        if d.failed.is_set():
            # The engine's step executor stops starting steps once one has failed.
            raise _ResourceFailed(
                f"{args.urn}: not deployed, the deployment was cancelled after an earlier error"
            )
        plain, secret_in = _split_secrets(args.inputs)
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
            except _ResourceFailed as exn:
                self._fail(args, op, str(exn))
                raise
            except grpc.RpcError as exn:
                message = exn.details() or str(exn)
                if exn.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                    message = f"provider host {exn.code().name.lower()}: {message}"
                self._fail(args, op, message)
                raise _ResourceFailed(message) from None
            outs, secret_out = _split_secrets(raw_outs)
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
        return id_, _wrap_secrets(outs, secret_out)

    def _fail(self, args: _HarnessResourceArgs, op: str, message: str) -> None:
        with self._d.lock:
            self._d.errors.append(ResourceError(args.urn, args.typ, args.name, op, message))
        self._d.failed.set()

    def _create(self, args: _HarnessResourceArgs, wire: dict) -> tuple[str, dict]:
        d = self._d
        check = d.host.stub.Check(
            provider_pb2.CheckRequest(
                urn=args.urn,
                olds=struct_pb2.Struct(),
                news=_py_to_struct(wire),
                randomSeed=os.urandom(32),
                name=args.name,
                type=args.typ,
            ),
            timeout=d.remaining(),
        )
        if check.failures:
            reasons = "\n".join(f"  {f.property}: {f.reason}" for f in check.failures)
            raise _ResourceFailed(f"{args.urn} has invalid inputs:\n{reasons}")
        checked = _struct_to_py(check.inputs)
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
            raise _ResourceFailed(
                f"plugin for package 'pulumi-python' returned empty resource.ID from create "
                f"'{args.urn}'"
            )
        return response.id, _struct_to_py(response.properties)

    def _read(self, args: _HarnessResourceArgs, wire: dict) -> tuple[str, dict]:
        d = self._d
        if args.resource_id == UNKNOWN:
            return "", {}  # step.go ReadStep: an unknown id is not read
        props = _py_to_struct(wire)
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
            raise _ResourceFailed(f"resource '{args.resource_id}' does not exist")
        return response.id, _struct_to_py(response.properties)


def _settings_stack() -> str:
    from pulumi.runtime.settings import get_stack

    return get_stack()


def _settings_project() -> str:
    from pulumi.runtime.settings import get_project

    return get_project()


class _HarnessMonitor(_mocks.MockMonitor):
    """MockMonitor that hands the mocks the URN, the operation and additional_secret_outputs.

    MockMonitor builds MockResourceArgs without them; the engine has them, so registration and
    read are re-implemented here on the wire (Struct) form. Stack outputs are captured from
    ``RegisterResourceOutputs``, which is where the engine gets them.
    """

    def __init__(self, mocks: _ForwardingMocks, deployment: _Deployment):
        super().__init__(mocks)
        self._d = deployment

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine makes them: the parent's whole qualified type is prefixed, except the
        root stack's (MockMonitor prefixes ``pulumi:pulumi:Stack$`` and only the parent's last type)."""
        if parent:
            qualified = parent.split("::")[2]
            if qualified != "pulumi:pulumi:Stack":
                type_ = qualified + "$" + type_
        return "urn:pulumi:" + "::".join([_settings_stack(), _settings_project(), type_, name])

    def _register(self, request, op: str, resource_id: Optional[str], custom: bool):
        urn = self.make_urn(request.parent, request.type, request.name)
        args = _HarnessResourceArgs(
            urn=urn,
            op=op,
            additional_secret_outputs=request.additionalSecretOutputs,
            typ=request.type,
            name=request.name,
            inputs=_struct_to_py(request.properties if op == "read" else request.object),
            provider=request.provider,
            resource_id=resource_id,
            custom=custom,
        )
        id_, state = self.mocks.new_resource(args)
        self.resources[urn] = _mocks.MockMonitor.ResourceRegistration(urn, id_, state)
        return urn, id_ or "", _py_to_struct(state)

    def RegisterResource(self, request):
        if request.type == _STACK_TYPE:
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


class _RecordingEngine(_mocks.MockEngine):
    """Engine stub that keeps ``pulumi.log`` messages (the CLI would print them)."""

    def __init__(self, deployment: _Deployment):
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


# --------------------------------------------------------------------------------------------
# Running a program


def _importable_paths() -> list[str]:
    """This process's import roots, minus the interpreter's own (the host has those already)."""
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    paths = []
    for entry in sys.path:
        if not entry or not os.path.isdir(entry):
            continue
        real = os.path.realpath(entry)
        if any(real == p or real.startswith(p + os.sep) for p in prefixes):
            continue
        paths.append(os.path.abspath(entry))
    return paths


def _ignore_unobserved_task_errors(loop, context) -> None:
    # Like the language host (_suppress_unobserved_task_logging): a failed resource leaves failed
    # futures nobody awaits; the failure itself is reported through ProgramError.
    if "never retrieved" in context.get("message", ""):
        return
    loop.default_exception_handler(context)


def _execute(program: Callable[[], Any], d: _Deployment, *, config, secret_keys, project, stack,
             root_directory) -> Optional[BaseException]:
    """Body of one run, inside its own contextvars.Context (the SDK keeps its state there)."""
    monitor = _HarnessMonitor(_ForwardingMocks(d), d)
    # What set_mocks installs, minus its eagerly registered root Stack: run_in_stack creates that,
    # as the language host does.
    _mocks.MockSettings(
        monitor=monitor,
        monitor_features=set(monitor.GetDeploymentInfo(empty_pb2.Empty()).supportedFeatures),
        engine=_RecordingEngine(d),
        project=project,
        stack=stack,
        dry_run=d.preview,
        organization="organization",
        root_directory=root_directory,
        callbacks=None,
        outputs=set(),
        lock=threading.Lock(),
        package_refs={},
        base_providers_by_ref={},
    )
    _settings.ROOT.set(None)
    _config.set_all_config(dict(config or {}), list(secret_keys))
    # The language host also passes the config as PULUMI_CONFIG, which the SDK falls back to where its
    # context variable is not set (callbacks scheduled from its executor threads): do as it does.
    saved_env = {key: os.environ.get(key) for key in ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS")}
    os.environ["PULUMI_CONFIG"] = json.dumps(dict(config or {}))
    os.environ["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(secret_keys))

    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_ignore_unobserved_task_errors)
    executor = ThreadPoolExecutor(max_workers=_PROGRAM_WORKERS, thread_name_prefix="pulumi-program")
    loop.set_default_executor(executor)
    error: Optional[BaseException] = None
    try:
        loop.run_until_complete(
            asyncio.wait_for(_stack.run_in_stack(program), timeout=d.remaining())
        )
    except asyncio.TimeoutError:
        error = TimeoutError("the program did not finish before the harness timeout")
    except BaseException as exn:  # noqa: BLE001 reported as ProgramError
        error = exn
    finally:
        # Let stragglers (e.g. pulumi.log calls awaiting a resource URN) finish, then cancel.
        pending = asyncio.all_tasks(loop)
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=min(1.0, d.remaining())))
            for task in pending:
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        loop.run_until_complete(task)
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return error


@contextlib.contextmanager
def _settings_defaults_restored():
    """Undo a side effect of setting SDK settings even inside a copied context.

    ``pulumi._utils.ContextProperty`` also overwrites its process-wide *default* when the current
    value is None, which leaks a run's monitor and engine stub into every context that never set
    them (any new thread). ``set_mocks`` has the same leak; the harness puts the defaults back.
    """
    props = [p for p in vars(_settings.Settings).values() if hasattr(p, "_ContextProperty__default")]
    saved = [p._ContextProperty__default for p in props]
    try:
        yield
    finally:
        for prop, default in zip(props, saved):
            prop._ContextProperty__default = default


def _run(program, *, config, secret_keys, preview, project, stack, env, host, timeout,
         project_dir=None, on_log=None) -> ProgramResult:
    deadline = time.monotonic() + timeout
    own_host = host is None
    if own_host:
        host = ProviderHost(
            env=env,
            pythonpath=([project_dir] if project_dir else []) + _importable_paths(),
            cwd=project_dir,
            project=project,
        ).start()
    elif env:
        raise ValueError("env= configures the host run_program starts; pass it to ProviderHost")
    saved_env = {k: os.environ.get(k) for k in (env or {})}
    try:
        host.configure(config, secret_keys=secret_keys, timeout=max(deadline - time.monotonic(), 1))
        d = _Deployment(host, preview, deadline, on_log)
        # The program and the host share the CLI's environment in a real deployment.
        os.environ.update(env or {})
        with _settings_defaults_restored():
            error = contextvars.copy_context().run(
                _execute, program, d, config=config, secret_keys=secret_keys, project=project,
                stack=stack, root_directory=project_dir,
            )
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if own_host:
            host.stop()

    outputs, secret_outputs = _split_secrets(_struct_to_py(d.stack_outputs))
    result = ProgramResult(outputs, secret_outputs, list(d.resources), list(d.logs), preview)
    if d.errors:
        raise ProgramError(
            "\n".join(e.message for e in d.errors), d.errors, result
        ) from error
    if isinstance(error, RunError):  # the language host prints a RunError's message alone
        raise ProgramError(str(error), [], result) from error
    if error is not None:
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        raise ProgramError(
            f"Program failed with an unhandled exception:\n{text}", [], result
        ) from error
    return result


def run_program(
    program: Callable[[], Any],
    *,
    config: Optional[Mapping[str, str]] = None,
    secret_keys: Iterable[str] = (),
    preview: bool = False,
    project: str = "test",
    stack: str = "dev",
    env: Optional[Mapping[str, str]] = None,
    host: Optional[ProviderHost] = None,
    timeout: float = 120.0,
    on_log: Optional[Callable[[LogRecord], Any]] = None,
) -> ProgramResult:
    """Run ``program`` (a zero-argument callable, like a ``__main__.py`` body) as ``pulumi up``,
    or ``pulumi preview`` with ``preview=True``.

    ``config`` is the stack config (``{"ns:key": "value"}``), visible to the program through
    ``pulumi.Config`` and sent to the provider host's ``Configure``; ``secret_keys`` marks secret
    ones. Without ``host`` a provider host is started for this run (with ``env`` merged over
    ``os.environ``; the program sees ``env`` too) and stopped afterwards. Each run gets fresh SDK
    state (settings, config, root stack) in its own ``contextvars`` context.

    ``on_log`` is called with each :class:`LogRecord` as it is emitted (progress, live).

    Raises :class:`ProgramError` when a provider call fails or the program raises.
    """
    return _run(program, config=config, secret_keys=tuple(secret_keys), preview=preview,
                project=project, stack=stack, env=env, host=host, timeout=timeout, on_log=on_log)


def run_program_file(
    path: str,
    *,
    config: Optional[Mapping[str, str]] = None,
    secret_keys: Iterable[str] = (),
    preview: bool = False,
    project: Optional[str] = None,
    stack: str = "dev",
    env: Optional[Mapping[str, str]] = None,
    host: Optional[ProviderHost] = None,
    timeout: float = 120.0,
    on_log: Optional[Callable[[LogRecord], Any]] = None,
) -> ProgramResult:
    """Run a Pulumi project's ``__main__.py`` (``path``) like the language host does.

    The project directory is on ``sys.path`` and is the working directory while the program runs
    (and the provider host's), whatever the caller's cwd; modules imported from it are dropped
    from ``sys.modules`` afterwards so the next run imports them afresh. ``project`` defaults to
    the ``name`` in the directory's ``Pulumi.yaml`` (else ``"test"``). Other arguments as for
    :func:`run_program`.
    """
    path = os.path.abspath(path)
    project_dir = os.path.dirname(path)
    if project is None:
        project = _project_name(project_dir) or "test"

    def program() -> None:
        runpy.run_path(path, run_name="__main__")

    before = set(sys.modules)
    saved_cwd = os.getcwd()
    sys.path.insert(0, project_dir)
    os.chdir(project_dir)
    try:
        return _run(program, config=config, secret_keys=tuple(secret_keys), preview=preview,
                    project=project, stack=stack, env=env, host=host, timeout=timeout,
                    project_dir=project_dir, on_log=on_log)
    finally:
        os.chdir(saved_cwd)
        with contextlib.suppress(ValueError):
            sys.path.remove(project_dir)
        for name in set(sys.modules) - before:
            file = getattr(sys.modules.get(name), "__file__", None) or ""
            if os.path.abspath(file).startswith(project_dir + os.sep):
                del sys.modules[name]


def _project_name(project_dir: str) -> Optional[str]:
    for filename in ("Pulumi.yaml", "Pulumi.yml"):
        candidate = os.path.join(project_dir, filename)
        if os.path.exists(candidate):
            import yaml  # a pulumi dependency

            with open(candidate, encoding="utf-8") as f:
                name = (yaml.safe_load(f) or {}).get("name")
            return str(name) if name else None
    return None
