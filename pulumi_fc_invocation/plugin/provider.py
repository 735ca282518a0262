"""The plugin's provider: every data source (:mod:`..sources`) as a resource and a function, on the gate
core (:mod:`..gate`).

Each resource is a gate: ``create`` runs :func:`..gate.run.run_gate_result` (waits with
``waitForCompletion``, bounded by ``timeoutSeconds`` and ``customTimeouts.create``, never in a preview;
progress goes to the engine as ephemeral status messages) and records the item; ``read`` refreshes
without a verdict; ``update`` gates again on the new inputs; ``delete`` forgets (FC is never touched).
Functions read now and judge, without waiting (an Invoke does not know whether it runs in a preview).

Every blocking call (credentials, HTTP) runs in :func:`..gate.clients.pool`: the server is one event
loop, which also serves Cancel, and Cancel interrupts every wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Callable, NoReturn, Optional, TypeVar

from pulumi.provider.experimental import provider as p
from pulumi.provider.experimental.property_value import PropertyValue

from ..credentials import secret_config_texts
from ..errors import ConfigurationError, FcInvocationError, InvalidArgumentError, NotFoundError
from ..gate.clients import CONFIG_KEYS, client_for, pool
from ..gate.gates import gate_for
from ..gate.messages import item_not_found
from ..gate.operation import current_operation, records_only_setting, relaxed_warning, skip_wait
from ..gate.outputs import batch_outputs, single_outputs
from ..gate.reporting import until_set
from ..gate.run import run_gate_result
from ..gate.spec import BatchSpec, SingleSpec, with_timeout
from ..kinds import KINDS, Kind
from ..models import redact, redacting, secret_values
from ..sources import PACKAGE, SOURCES, camel
from .messages import plugin_setting, user_message
from .runs import RUN_TOKENS, RunResources
from .values import UNKNOWN, has_unknown, outputs_map, plain, snake, unwrap  # noqa: F401 - snake: in __all__

__all__ = ["PACKAGE", "UNKNOWN", "PluginError", "FcInvocationProvider", "config_key", "plugin_setting", "user_message",
           "camel", "snake"]

T = TypeVar("T")


# Every data source's resource and function token: its API kind, and whether it is a batch.
RESOURCES = {source.token: (KINDS[source.api], source.batch) for source in SOURCES}
FUNCTIONS = {source.function_token: (KINDS[source.api], source.batch) for source in SOURCES}



class PluginError(FcInvocationError):
    """An error whose message alone goes to the engine (the server sends it as the gRPC status)."""


def config_key(name: str) -> Optional[str]:
    """The credential chain's config key for the plugin's own setting ``name`` (``region`` →
    ``fc-invocation:region``, the key a Python program reads too), or None for a setting the plugin does not
    have. The plugin sees no other namespace: the engine configures a provider with its own package's config."""
    key = f"{PACKAGE}:{name}"
    return key if key in CONFIG_KEYS else None


# --- specs and outputs --------------------------------------------------------------------------


def input_keys(kind: Kind, batch: bool) -> tuple[str, ...]:
    """A resource's inputs: its data source's description's."""
    return (kind.batch_source if batch else kind.single_source).input_names()


def output_keys(kind: Kind, batch: bool) -> tuple[str, ...]:
    return kind.batch_output_keys if batch else kind.output_keys


def build_spec(kind: Kind, batch: bool, args: Mapping[str, Any], hidden: frozenset,
               timeout: Optional[float] = None) -> Any:
    """The gate's spec from the resource's inputs; ``timeout`` (customTimeouts) caps ``timeoutSeconds``.
    Its errors go to the engine, which prints them: the secret inputs are masked in them."""
    with redacting(secret_values(args, hidden)):
        return _build_spec(kind, batch, args, hidden, timeout)


def _build_spec(kind: Kind, batch: bool, args: Mapping[str, Any], hidden: frozenset,
                timeout: Optional[float]) -> Any:
    known = set(input_keys(kind, batch))
    unknown = sorted(set(args) - known - {"id"})
    if unknown:
        raise InvalidArgumentError(camel(unknown[0]), args[unknown[0]], f"is not an input of {kind.noun} gates; "
                                   f"the inputs are {', '.join(camel(k) for k in sorted(known))}",
                                   show_value=False)
    values = {key: value for key, value in args.items() if key in known and value is not None}
    spec: SingleSpec | BatchSpec = (BatchSpec if batch else SingleSpec).build(kind=kind, hidden=hidden, **values)
    if timeout and timeout > 0 and (not spec.policy.timeout or timeout < spec.policy.timeout):
        spec = with_timeout(spec, timeout)
    return spec


def secret_outputs(spec: Any) -> frozenset:
    """The outputs to mark secret: payloads (unless ``secretPayloads`` is false), the secret inputs, and
    for a batch whose names are secret, the member lists that repeat them."""
    kind = spec.kind
    secret = set(spec.hidden) - {"secret_payloads"}
    if isinstance(spec, BatchSpec):
        if spec.include_payloads and spec.secret_payloads:
            secret.add(kind.items_key)
        if spec.identifies_members:
            secret |= {"ids", kind.items_key}
    elif spec.secret_payloads:
        secret |= set(kind.payload_keys)
    return frozenset(secret)


def record(spec: Any, result: Any, waited: Optional[float]) -> dict[str, Any]:
    """A gate resource's outputs after a read: the item's (or batch's), then the inputs it echoes."""
    props = {**spec.props(), "waited_seconds": waited}
    if isinstance(spec, BatchSpec):
        props.update(batch_outputs(result))
        return {key: props.get(key) for key in spec.kind.batch_output_keys}
    return single_outputs(spec.kind, result, spec.ref, props)


# --- the engine's status messages ---------------------------------------------------------------


class EngineReporter:
    """A gate's messages as the engine's log: progress ephemeral (the live status line of the
    resource), warnings kept; its failure a :class:`PluginError`; its wait interrupted by Cancel."""

    def __init__(self, provider: "FcInvocationProvider", urn: str) -> None:
        self.provider = provider
        self.urn = urn

    def info(self, text: str) -> None:
        self.provider.log("info", text, self.urn, ephemeral=True)

    def warn(self, text: str) -> None:
        self.provider.log("warning", text, self.urn, ephemeral=False)

    def fail(self, text: str) -> NoReturn:
        raise PluginError(text)

    async def until_done(self, wait: Any) -> Any:
        done, result = await until_set(wait, self.provider.cancelled())
        if done:
            return result
        raise PluginError("stopped waiting: the engine cancelled the operation")


# --- the provider -------------------------------------------------------------------------------


class FcInvocationProvider(p.Provider):
    """The ``fc-invocation`` provider. Holds its own configuration only (the settings of the
    credential chain, keyed as the chain reads them), never the stack's."""

    def __init__(self, engine_address: Optional[str] = None, schema: Optional[Callable[[], str]] = None) -> None:
        self.engine_address = engine_address
        self._schema = schema
        self._schema_text: Optional[str] = None
        self.config: dict[str, Any] = {}
        self.secret_config: frozenset = frozenset()  # the config keys given as secrets
        self._engine: Any = None
        self._cancelled: Optional[asyncio.Event] = None
        self._logs: set = set()

    # --- plumbing ---

    def cancelled(self) -> asyncio.Event:
        if self._cancelled is None:
            self._cancelled = asyncio.Event()
        return self._cancelled

    async def blocking(self, call: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool(), call)

    def log(self, severity: str, text: str, urn: str, ephemeral: bool) -> Optional[asyncio.Future]:
        """Send ``text`` to the engine's log; returns the call, for a caller that must know it arrived."""
        if not self.engine_address:
            return None
        from pulumi.runtime.proto import engine_pb2

        if self._engine is None:
            import grpc.aio
            from pulumi.runtime.proto import engine_pb2_grpc

            self._engine = engine_pb2_grpc.EngineStub(grpc.aio.insecure_channel(self.engine_address))
        level = engine_pb2.WARNING if severity == "warning" else engine_pb2.INFO
        call = self._engine.Log(engine_pb2.LogRequest(severity=level, message=text, urn=urn, ephemeral=ephemeral))
        task = asyncio.ensure_future(call)
        self._logs.add(task)
        task.add_done_callback(self._log_done)
        return task

    def _log_done(self, task: Any) -> None:
        self._logs.discard(task)
        if not task.cancelled():
            task.exception()  # a lost status line is not an error

    def secrets(self, spec: Any) -> tuple[str, ...]:
        """What no message may show: the spec's secret inputs and the secret provider settings."""
        return tuple(spec.secret_texts) + self.config_secrets()

    def config_secrets(self) -> tuple[str, ...]:
        """The text of the secret provider settings: the client holds them, and an endpoint (or an
        account id in the endpoint derived from it) shows in every "cannot reach" error."""
        return secret_config_texts(self.config, self.secret_config)

    async def client(self, spec: Any, *, stored: bool = False) -> Any:
        """The client for ``spec``'s settings; a setting's error as a :class:`PluginError` in one line
        (:func:`user_message`; ``stored``: the settings are those a plain refresh takes from the state)."""
        def create() -> Any:
            with redacting(spec.secret_texts):
                return client_for(self.config, region=spec.region, account_id=spec.account_id,
                                  endpoint=spec.endpoint, secret_config=self.secret_config,
                                  config_namespaces=(PACKAGE,), argument_name=camel)
        try:
            return await self.blocking(create)
        except ConfigurationError as exc:
            raise PluginError(user_message(exc, self.secrets(spec), stored=stored)) from None

    # --- schema and configuration ---

    async def get_schema(self, request: p.GetSchemaRequest) -> p.GetSchemaResponse:
        if self._schema_text is None:
            if self._schema is not None:
                self._schema_text = self._schema()
            else:
                from ..schema import render

                self._schema_text = await self.blocking(render)
        return p.GetSchemaResponse(schema=self._schema_text)

    async def check_config(self, request: p.CheckRequest) -> p.CheckResponse:
        failures = [p.CheckFailure(key, f"{PACKAGE}:{key} is not a setting of this provider; the settings are "
                                        f"{', '.join(sorted({k.split(':', 1)[1] for k in CONFIG_KEYS}))}")
                    for key in request.new_inputs if key != "version" and config_key(key) is None]
        return p.CheckResponse(inputs=request.new_inputs, failures=failures or None)

    async def diff_config(self, request: p.DiffRequest) -> p.DiffResponse:
        return p.DiffResponse(changes=False)

    async def configure(self, request: p.ConfigureRequest) -> p.ConfigureResponse:
        config: dict[str, Any] = {}
        secret = set()
        for name, value in request.args.items():
            key = config_key(name)
            if key is not None and value.value is not None:
                config[key] = plain(value)
                if value.contains_secret():
                    secret.add(key)
        prefix = f"{PACKAGE}:config:"
        for name, text in request.variables.items():
            key = config_key(name[len(prefix):]) if name.startswith(prefix) else None
            if key is not None and key not in config:
                config[key] = text
        self.config = config
        self.secret_config = frozenset(secret)
        return p.ConfigureResponse(accept_secrets=True, supports_preview=True, accept_resources=False,
                                   accept_outputs=False)

    # --- functions ---

    async def invoke(self, request: p.InvokeRequest) -> p.InvokeResponse:
        if request.tok not in FUNCTIONS:
            raise PluginError(f"unknown function {request.tok}; this provider has {', '.join(sorted(FUNCTIONS))}")
        kind, batch = FUNCTIONS[request.tok]
        args, hidden = unwrap(request.args)
        if args.get("wait_for_completion"):
            raise InvalidArgumentError("waitForCompletion", True, f"functions read now and never wait; to gate on "
                                       f"the {kind.noun}, use the resource "
                                       f"{kind.batch_resource_name if batch else kind.resource_name}")
        spec = build_spec(kind, batch, args, hidden)
        secrets = self.secrets(spec)
        gate = gate_for(spec)
        try:
            client = await self.client(spec)
            # No verdict under the switch, or in a refresh or destroy running the program (never blocked by a
            # task); a setting that decided the latter (not /proc) is named in a warning, as the Python gates do.
            relaxed, setting = (False, None) if skip_wait() else records_only_setting()
            judge = not (skip_wait() or relaxed)
            if setting is not None:
                sent = self.log("warning", redact(relaxed_warning(setting, spec.id), secrets), "", ephemeral=False)
                if sent is not None:  # shown before the function's answer, never hung by a stalled engine
                    await asyncio.wait({sent}, timeout=5)
            result = await self.blocking(lambda: gate.final_read(client, spec.props(), judge=judge))
        except FcInvocationError as exc:
            raise PluginError(user_message(exc, secrets)) from None
        values = record(spec, result, None)
        if not batch:
            values = {key: values[key] for key in kind.result_keys}
        values["id"] = spec.id
        # Secret only where a value is: YAML and the Node.js SDK make a function's whole result secret when any
        # part is (pulumi-yaml#636; invokeOutput), so an empty payload marked secret would hide the status too.
        secret = frozenset(key for key in secret_outputs(spec) if values.get(key) not in (None, "", []))
        return p.InvokeResponse(return_value=outputs_map(values, secret))

    # --- resources ---

    def _resource(self, urn_type: str) -> tuple[Kind, bool]:
        if urn_type not in RESOURCES:
            raise PluginError(f"unknown resource type {urn_type}; this provider has {', '.join(sorted(RESOURCES))}")
        return RESOURCES[urn_type]

    def runs(self) -> RunResources:
        """The run resources (AsyncTaskRun, StatefulAsyncInvocationRun): plugin/runs.py."""
        return RunResources(self, EngineReporter)

    async def check(self, request: p.CheckRequest) -> p.CheckResponse:
        if request.type in RUN_TOKENS:
            return await self.runs().check(request)
        kind, batch = self._resource(request.type)
        args, hidden = unwrap(request.new_inputs)
        if not has_unknown(args):
            try:
                build_spec(kind, batch, args, hidden)
            except InvalidArgumentError as exc:
                return p.CheckResponse(inputs=request.new_inputs,
                                       failures=[p.CheckFailure(camel(exc.argument), str(exc))])
            except ConfigurationError as exc:  # the only one a spec raises: the endpoint's rules
                return p.CheckResponse(inputs=request.new_inputs, failures=[p.CheckFailure("endpoint", str(exc))])
        return p.CheckResponse(inputs=request.new_inputs)

    async def diff(self, request: p.DiffRequest) -> p.DiffResponse:
        if request.type in RUN_TOKENS:
            return await self.runs().diff(request)
        kind, batch = self._resource(request.type)
        olds, _ = unwrap(request.old_state)
        news, hidden = unwrap(request.new_inputs)
        # State written before an input existed lacks it: it was the description's default (no change).
        olds = {**(kind.batch_source if batch else kind.single_source).defaults, **olds}
        # The state echoes the settings as given, but a name as FC reports it (`qualifier` LATEST for a task
        # read without one): the names the program gave are those of the id.
        if batch:
            olds = {**olds, **BatchSpec.from_props(request.resource_id, olds, kind=kind).props()}
        else:
            olds = {**olds, **kind.ref_fields(kind.parse_masked(request.resource_id, olds)[0])}
        if has_unknown(news):
            changed = [k for k in input_keys(kind, batch) if news.get(k) != olds.get(k)]
        else:
            wanted = build_spec(kind, batch, news, hidden).props()
            changed = [k for k in input_keys(kind, batch) if wanted.get(k) != olds.get(k)]
        names = kind.target_keys + ((kind.prefix_key,) if batch else (kind.id_key,))
        replaces = [camel(k) for k in changed if k in names]
        return p.DiffResponse(changes=bool(changed), diffs=[camel(k) for k in changed], replaces=replaces,
                              delete_before_replace=False)

    async def create(self, request: p.CreateRequest) -> p.CreateResponse:
        if request.type in RUN_TOKENS:
            return await self.runs().create(request)
        outs, id_ = await self._gate(request.type, request.urn, request.properties, request.timeout, request.preview)
        return p.CreateResponse(resource_id=id_, properties=outs)

    async def update(self, request: p.UpdateRequest) -> p.UpdateResponse:
        if request.type in RUN_TOKENS:
            return await self.runs().update(request)
        outs, _ = await self._gate(request.type, request.urn, request.news, request.timeout, request.preview)
        return p.UpdateResponse(properties=outs)

    async def _gate(self, urn_type: str, urn: str, inputs: Mapping[str, PropertyValue], timeout: float,
                    preview: bool) -> tuple[dict[str, PropertyValue], str]:
        kind, batch = self._resource(urn_type)
        args, hidden = unwrap(inputs)
        if has_unknown(args):  # only in a preview: everything is known once the inputs are
            outs = {key: UNKNOWN for key in output_keys(kind, batch)}
            outs.update({key: value for key, value in args.items() if key in outs})
            return outputs_map(outs, frozenset(hidden)), ""
        spec = build_spec(kind, batch, args, hidden, timeout=timeout)
        secrets = self.secrets(spec)
        gate = gate_for(spec)
        try:
            client = await self.client(spec)
            result, waited = None, None
            if not skip_wait():
                result, waited = await run_gate_result(gate, client, EngineReporter(self, urn), preview=preview,
                                                       secrets=self.config_secrets())
            props = {**spec.props(), "waited_seconds": waited}
            if result is None:
                # The switch (no verdict), or a read without a wait that met an API error: this read,
                # which retries, gives the verdict (judge=False would let a Failed item through).
                judge = not skip_wait()
                result = await self.blocking(lambda: gate.final_read(client, props, judge=judge))
            elif batch and spec.include_payloads:  # the polls list without payloads; judged already
                result = await self.blocking(lambda: gate.final_read(client, props, judge=False))
        except FcInvocationError as exc:  # a PluginError too: the client's errors hold the settings
            raise PluginError(user_message(exc, secrets)) from None
        return outputs_map(record(spec, result, waited), secret_outputs(spec)), spec.id

    async def read(self, request: p.ReadRequest) -> p.ReadResponse:
        if request.type in RUN_TOKENS:
            return await self.runs().read(request)
        kind, batch = self._resource(request.type)
        props, hidden = unwrap(request.properties)
        inputs, input_hidden = unwrap(request.inputs)
        if not inputs:  # an import: the inputs are what the id and the outputs say
            inputs = {k: v for k, v in props.items() if k in input_keys(kind, batch) and v is not None}
        if batch:  # the secret marks of state and inputs carry over: a refresh must not write them plain
            secret = hidden | input_hidden
            with redacting(secret_values({**inputs, **props}, secret)):
                spec = BatchSpec.from_props(request.resource_id, props or inputs, kind=kind, hidden=secret)
        else:
            ref, masked = kind.parse_masked(request.resource_id, props)
            spec = build_spec(kind, False, {**inputs, **kind.ref_fields(ref)}, hidden | input_hidden | masked)
        gate = gate_for(spec)
        # A plain refresh configured this provider from the settings stored in the state: its errors say so.
        stored = bool(request.properties) and current_operation() == "refresh"
        try:
            client = await self.client(spec, stored=stored)
            result = await self.blocking(lambda: gate.final_read(client, {**spec.props(), **props}, refresh=True))
        except FcInvocationError as exc:
            if isinstance(exc, NotFoundError) and request.properties and item_not_found(exc):
                # FC has forgotten the item (it keeps a task 7 days): a refresh keeps the state last recorded,
                # and says so. A missing function (deleted, region or account changed) fails the refresh.
                shown = gate.shown if batch else f"{kind.noun} {gate.shown}"
                sent = self.log("warning", redact(f"keeping the state last recorded for {shown}: {exc}",
                                                  self.secrets(spec)), request.urn, ephemeral=False)
                if sent is not None:  # before the answer: the engine shows it against this resource's refresh
                    await asyncio.wait({sent}, timeout=5)  # a stalled engine Log never hangs the refresh
                return p.ReadResponse(resource_id=request.resource_id, properties=request.properties,
                                      inputs=request.inputs)
            raise PluginError(user_message(exc, self.secrets(spec), stored=stored)) from None
        values = record(spec, result, props.get("waited_seconds"))
        secret = secret_outputs(spec)
        if not request.inputs:  # an import: the names in the id, the settings of any prior outputs
            named = spec.props() if batch else kind.ref_fields(spec.ref)
            names = kind.target_keys + ((kind.prefix_key,) if batch else kind.ref_keys)
            inputs = {**inputs, **{key: named.get(key) for key in names if named.get(key) is not None}}
        return p.ReadResponse(resource_id=request.resource_id, properties=outputs_map(values, secret),
                              inputs=request.inputs or outputs_map(inputs, secret))

    async def delete(self, request: p.DeleteRequest) -> None:
        if request.type in RUN_TOKENS:
            return await self.runs().delete(request)
        return None  # a gate only read FC: forgetting it touches nothing

    async def cancel(self) -> None:
        self.cancelled().set()
