"""The plugin's run resources, ``fc-invocation:index:AsyncTaskRun`` and ``...:StatefulAsyncInvocationRun``
(:data:`..sources.RUNS`), on the runs' core (:mod:`..gate.start`) and the gate core.

- ``check`` computes the hidden ``runSequence`` (:func:`~..gate.start.next_sequence`) and checks the inputs;
- ``diff``: a new sequence or a run-defining input replaces (a new item); a gate input alone updates; a
  recorded item that had not ended is read (a GET) and replaced when it ended badly;
- ``create`` starts (or adopts, on a 409) and gates as ``AsyncTask`` does; in a preview it starts nothing and
  its outputs are unknown; a failed gate stops the item only with ``stopOnTimeout``;
- ``update`` starts nothing: it gates on the recorded item only when it had not ended;
- ``read`` records the item's state and never fails (an import reads the item by its id);
- ``delete`` stops an item that has not ended only with ``stopOnDelete``.

The provider (:mod:`.provider`) routes the run tokens here and lends its plumbing (client, threads, log).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Callable, Optional

from pulumi.provider.experimental import provider as p
from pulumi.provider.experimental.property_value import PropertyValue

from ..errors import FcInvocationError, InvalidArgumentError, NotFoundError
from ..gate.gates import SingleGate, masked
from ..gate.operation import current_operation, skip_wait
from ..gate.run import run_gate_result
from ..gate.start import (
    SEQUENCE,
    RunSpec,
    build_run_spec,
    claim,
    claimed,
    diff,
    ended_badly,
    given_id_rule,
    kind_of,
    needs_read,
    next_sequence,
    normalized,
    replacement_sequence,
    replacing,
    run_outputs,
    secret_outputs,
    slot_of,
    start,
    stop_if_running,
)
from ..models import redact, redacting, secret_values
from ..sources import RUNS, Run, camel
from .messages import user_message
from .values import UNKNOWN, has_unknown, outputs_map, unwrap, wrap

__all__ = ["RUN_TOKENS", "RunError", "RunResources", "run_map"]

RUN_TOKENS: dict[str, Run] = {run.token: run for run in RUNS}


class RunError(FcInvocationError):
    """A run's failure: its message alone goes to the engine (secrets already masked, a settings, credentials or
    network error explained as the gates explain it); ``cause`` is the error it stands for (its class judged)."""

    def __init__(self, message: str, cause: Optional[BaseException] = None) -> None:
        super().__init__(message)
        self.cause = cause


def user_text(error: FcInvocationError, secrets: tuple[str, ...], *, stored: bool = False) -> str:
    """The one line the engine prints for ``error``: the plugin's :func:`~.messages.user_message` (the same
    words as the ``AsyncTask`` resource's)."""
    return user_message(error, secrets, stored=stored)


class RunResources:
    """The run resources of ``provider`` (an :class:`~.provider.FcInvocationProvider`); ``reporter(provider,
    urn)`` is a gate's reporter to the engine (its ``EngineReporter``)."""

    def __init__(self, provider: Any, reporter: Callable[[Any, str], Any]) -> None:
        self.provider = provider
        self.reporter = reporter

    # --- plumbing ---

    def spec(self, run: Run, args: Mapping[str, Any], hidden: frozenset, urn: str,
             timeout: Optional[float] = None) -> RunSpec:
        """The run's spec from its inputs; its errors mask the secret inputs."""
        known = set(run.input_names()) | {SEQUENCE}
        unknown = sorted(set(args) - known - {"id"})
        if unknown:
            raise InvalidArgumentError(camel(unknown[0]), args[unknown[0]], f"is not an input of {run.name}; the "
                                       f"inputs are {', '.join(camel(k) for k in run.input_names())}",
                                       show_value=False)
        values = {key: value for key, value in args.items() if key in known}
        with redacting(secret_values(values, hidden)):
            return build_run_spec(run, values, hidden, resource=urn, timeout=timeout)

    def recorded(self, run: Run, props: Mapping[str, Any], hidden: frozenset, urn: str) -> RunSpec:
        """The spec of a recorded run (its outputs echo its inputs and the sequence)."""
        names = set(run.input_names()) | {SEQUENCE}
        args = {key: value for key, value in props.items() if key in names}
        args.pop(run.id_input, None)  # recorded: the id used (given, or derived from the sequence)
        if props.get(SEQUENCE) is None and props.get(run.id_key):
            args[run.id_input] = props[run.id_key]  # a given id
        return self.spec(run, args, hidden, urn)

    async def blocking(self, spec: RunSpec, call: Callable[[], Any], *, stored: bool = False) -> Any:
        """``call`` in the provider's threads, the run's secrets masked in its log records and errors (a
        :class:`RunError` in the user's words, :func:`user_text`; ``stored``: a plain refresh's settings)."""
        secrets = self.provider.secrets(spec)
        try:
            return await self.provider.blocking(masked(secrets, call))
        except RunError:
            raise
        except FcInvocationError as exc:
            raise RunError(user_text(exc, secrets, stored=stored), exc) from None

    def note(self, text: str, spec: RunSpec, urn: str) -> None:
        """A line the user keeps (the item started or adopted, a stop: words and the item's id, never the
        payload), masked with the secret settings and inputs but the payload (a payload `p` would mask
        `adopted`)."""
        secrets = self.provider.config_secrets() + tuple(t for t in spec.secret_texts if t != spec.payload)
        self.provider.log("info", redact(text, secrets), urn, ephemeral=False)

    # --- the lifecycle ---

    async def check(self, request: p.CheckRequest) -> p.CheckResponse:
        run = RUN_TOKENS[request.type]
        news, hidden = unwrap(request.new_inputs)
        olds, _ = unwrap(request.old_inputs)
        news.pop(SEQUENCE, None)  # computed here, never given
        inputs = {key: value for key, value in request.new_inputs.items() if key != camel(SEQUENCE)}
        if "payload" in inputs and news.get("secret_payloads", True) is not False:  # secret by default, in the
            inputs["payload"] = inputs["payload"].with_secret(True)                # recorded inputs too
        if olds and not news.get(run.id_input) and any(has_unknown(value) for value in normalized(run, news).values()):
            inputs[camel(SEQUENCE)] = wrap(UNKNOWN)  # a preview: whether a run-defining input changes is unknown
            return p.CheckResponse(inputs=inputs)
        sequence = next_sequence(run, olds or None, news, request.urn)
        inputs[camel(SEQUENCE)] = wrap(sequence)
        if has_unknown(news):
            return p.CheckResponse(inputs=inputs)
        try:
            self.spec(run, {**news, SEQUENCE: sequence}, hidden, request.urn)
            given_id_rule(run, olds, news)
        except InvalidArgumentError as exc:
            return p.CheckResponse(inputs=inputs, failures=[p.CheckFailure(camel(exc.argument), str(exc))])
        except FcInvocationError as exc:  # the endpoint's rules (a ConfigurationError)
            return p.CheckResponse(inputs=inputs, failures=[p.CheckFailure("endpoint", str(exc))])
        return p.CheckResponse(inputs=inputs)

    async def diff(self, request: p.DiffRequest) -> p.DiffResponse:
        run = RUN_TOKENS[request.type]
        olds, _ = unwrap(request.old_state)
        news, hidden = unwrap(request.new_inputs)
        if has_unknown(news):
            compared = {**olds, run.id_input: olds.get(run.id_key) if olds.get(SEQUENCE) is None else None}
            changed = [k for k in (*run.input_names(), SEQUENCE)
                       if k in news and news.get(k) != compared.get(k)]
            replaces = [k for k in changed if k in run.replacing or k == SEQUENCE]
        else:
            spec = self.spec(run, news, hidden, request.urn)
            decision = diff(run, olds, spec.props())
            changed, replaces = list(decision.changed), list(decision.replaces)
            if not replaces and needs_read(olds) and olds.get(run.id_key):
                status = await self.status_now(spec, olds[run.id_key], request.urn)
                if status is not None and status != olds.get("status"):  # an update records it (no invoke)
                    changed.append("status")
                    if ended_badly(status, olds.get("fail_on_statuses")):  # retried: the same run's next retry id (-<n>-<k>)
                        replaces.append("status")
        if not has_unknown(news):  # a replacement (ours or the engine's own) is checked again, without olds
            retry = replaces == ["status"] and olds.get(SEQUENCE) is not None
            replacing(request.urn, int(olds[SEQUENCE]) if retry else replacement_sequence(run, request.urn, olds, news),
                      run, news)
        return p.DiffResponse(changes=bool(changed), diffs=[camel(k) for k in changed],
                              replaces=[camel(k) for k in replaces], delete_before_replace=False)

    async def status_now(self, spec: RunSpec, item_id: str, urn: str) -> Optional[str]:
        """The recorded item's status, read now (a GET); None when the read fails (a warning says why, unless
        Function Compute has forgotten the item)."""
        item = spec.spec_for(item_id)
        try:
            client = await self.provider.client(item)
            result = await self.blocking(spec, lambda: spec.kind.read(client, item.ref))
        except FcInvocationError as exc:
            if isinstance(getattr(exc, "cause", exc), NotFoundError):  # forgotten (FC keeps a task 7 days): kept,
                self.provider.log("warning", f"keeping the state last recorded for {spec.kind.noun} {item.id}: "
                                             f"{exc}", urn, ephemeral=False)  # as the Python run and a refresh say
            else:
                self.provider.log("warning", f"could not read {spec.kind.noun} {item.id} to see whether it "
                                             f"ended: {exc}", urn, ephemeral=False)
            return None
        return str(result.status.value)

    async def create(self, request: p.CreateRequest) -> p.CreateResponse:
        run = RUN_TOKENS[request.type]
        args, hidden = unwrap(request.properties)
        if request.preview or has_unknown(args):  # nothing starts in a preview: the outputs are unknown
            return p.CreateResponse(resource_id="", properties=self.unknown(run, args, hidden))
        spec = self.spec(run, args, hidden, request.urn, timeout=request.timeout)
        client = await self.provider.client(spec.gate)
        started = await self.blocking(spec, lambda: start(client, spec))
        if started.adopted is not None:  # a replacement's delete (in this deployment) leaves it running
            claim(request.urn, started.item_id)
        self.note(f"{started.verb} {spec.kind.noun} {started.spec.id}", spec, request.urn)
        result, waited = await self.gate(spec, started.spec, client, request.urn, adopted=started.adopted)
        return p.CreateResponse(resource_id=started.spec.id,
                                properties=self.outputs(spec, started.spec, result, waited))

    async def update(self, request: p.UpdateRequest) -> p.UpdateResponse:
        run = RUN_TOKENS[request.type]
        olds, old_hidden = unwrap(request.olds)
        news, hidden = unwrap(request.news)
        if has_unknown(news):
            return p.UpdateResponse(properties=self.unknown(run, news, hidden))
        spec = self.spec(run, news, hidden, request.urn, timeout=request.timeout)
        item = spec.spec_for(olds[run.id_key])
        result, waited = spec.kind.mocked_result(item.ref, olds), olds.get("waited_seconds")
        if not request.preview and not olds.get("is_terminal", False):
            client = await self.provider.client(item)  # the recorded item had not ended: wait (or read) now
            result, waited = await self.gate(spec, item, client, request.urn, adopted=None)
        return p.UpdateResponse(properties=self.outputs(spec, item, result, waited))

    async def gate(self, spec: RunSpec, item: Any, client: Any, urn: str, adopted: Any) -> tuple[Any, Optional[float]]:
        """Gate on the item as ``AsyncTask`` does; a failed gate stops it with ``stopOnTimeout`` when it has not
        ended (a timeout, a cancelled deployment). Without a wait, a just-started item that FC does not list yet
        is recorded as enqueued."""
        gate = SingleGate(item)
        try:
            if skip_wait():
                return await self.blocking(spec, lambda: gate.final_read(client, item.props(), judge=False)), None
            if not item.wait:
                try:
                    result = await self.blocking(spec, gate.reader(client))
                except RunError as exc:
                    if not isinstance(exc.cause, NotFoundError):  # only a task FC does not list yet is enqueued
                        raise
                    if adopted is not None:
                        return adopted, None
                    return spec.kind.mocked_result(item.ref, {"status": "Enqueued"}), None
                gate.judge(result, item.props())
                return result, None
            result, waited = await run_gate_result(gate, client, self.reporter(self.provider, urn), preview=False,
                                                   secrets=self.provider.config_secrets())
            if result is None:
                result = await self.blocking(spec, lambda: gate.final_read(client, {**item.props(),
                                                                                    "waited_seconds": waited}))
            return result, waited
        except FcInvocationError as exc:
            text = str(exc) if isinstance(exc, RunError) else user_text(exc, self.provider.secrets(spec))
            if spec.stop_on_timeout:
                try:
                    if await self.blocking(spec, lambda: stop_if_running(client, item)):
                        text += f"; stopped {spec.kind.noun} {item.id} (stopOnTimeout)"
                except RunError as stop_error:
                    text += f"; stopping it failed: {stop_error}"
            raise RunError(text) from None

    async def read(self, request: p.ReadRequest) -> p.ReadResponse:
        run = RUN_TOKENS[request.type]
        props, hidden = unwrap(request.properties)
        inputs, input_hidden = unwrap(request.inputs)
        kind = kind_of(run)
        if not props and not inputs:
            return await self.imported(run, request)
        spec = self.recorded(run, {**props, **inputs} if inputs else props, hidden | input_hidden, request.urn)
        item = spec.spec_for(props.get(run.id_key) or kind.ref_fields(kind.parse_ref(request.resource_id))[kind.id_key])
        stored = bool(request.properties) and current_operation() == "refresh"  # a plain refresh's settings
        try:
            client = await self.provider.client(item, stored=stored)
            result = await self.blocking(spec, lambda: kind.read(client, item.ref), stored=stored)
        except FcInvocationError as exc:  # never fails: the state last recorded stays, and the log says why
            sent = self.provider.log("warning", f"keeping the state last recorded for {kind.noun} {item.id}: {exc}",
                                     request.urn, ephemeral=False)
            if sent is not None:  # before the answer; a stalled engine Log never hangs the refresh
                await asyncio.wait({sent}, timeout=5)
            return p.ReadResponse(resource_id=request.resource_id, properties=request.properties,
                                  inputs=request.inputs)
        values = run_outputs(spec, item, result, props.get("waited_seconds"))
        return p.ReadResponse(resource_id=request.resource_id,
                              properties=run_map(values, secret_outputs(spec) | hidden | input_hidden),
                              inputs=request.inputs)

    async def imported(self, run: Run, request: p.ReadRequest) -> p.ReadResponse:
        """``pulumi import`` (Pulumi 3.274's ``refresh --import-pending-creates`` sends no Read: see docs/runs.md):
        the item named by the id, read now, with
        the inputs FC knows (the names, the payload) and its place in the run's sequence when its id is derived."""
        kind = kind_of(run)
        ref = kind.parse_ref(request.resource_id)
        fields = kind.ref_fields(ref)
        item_id = fields.pop(kind.id_key)
        slot = slot_of(run, request.urn, fields, item_id)
        sequence = slot[0] if slot is not None else None
        args = {**fields, SEQUENCE: sequence, **({} if sequence is not None else {run.id_input: item_id})}
        spec = self.spec(run, args, frozenset({"payload"}), request.urn)
        item = spec.spec_for(item_id)
        client = await self.provider.client(item)

        def read() -> Optional[tuple[Any, Optional[str]]]:
            try:
                result = kind.read(client, item.ref)
            except NotFoundError:
                return None
            return result, kind.held_payload(client, item.ref, result)

        found = await self.blocking(spec, read)
        if found is None:  # FC does not know it (never started, or forgotten): no resource
            return p.ReadResponse()
        result, payload = found
        args["payload"] = payload
        spec = self.spec(run, args, frozenset({"payload"}), request.urn)
        secret = secret_outputs(spec)
        given = {key: value for key, value in spec.props().items()
                 if key in (*kind.target_keys, "payload", SEQUENCE, run.id_input) and value is not None}
        given["triggers"] = None  # not known to FC: the next up takes the program's (gate.start.unknown_to)
        values = {**run_outputs(spec, item, result, None), "triggers": None}
        return p.ReadResponse(resource_id=request.resource_id, properties=run_map(values, secret),
                              inputs=outputs_map(given, secret))

    async def delete(self, request: p.DeleteRequest) -> None:
        run = RUN_TOKENS[request.type]
        props, hidden = unwrap(request.properties)
        if not props.get("stop_on_delete") or props.get("is_terminal") or not props.get(run.id_key):
            return None  # forgets: FC is not touched
        spec = self.recorded(run, props, hidden, request.urn)
        item = spec.spec_for(props[run.id_key])
        if claimed(request.urn, props[run.id_key]):  # the replacement adopted it (`--replace`, a taint)
            self.note(f"left {spec.kind.noun} {item.id} running: the replacement adopted it", spec, request.urn)
            return None
        client = await self.provider.client(item)
        if await self.blocking(spec, lambda: stop_if_running(client, item)):
            self.note(f"stopped {spec.kind.noun} {item.id} (stopOnDelete)", spec, request.urn)
        return None

    # --- outputs ---

    def outputs(self, spec: RunSpec, item: Any, result: Any, waited: Optional[float]) -> dict[str, PropertyValue]:
        return run_map(run_outputs(spec, item, result, waited), secret_outputs(spec))

    @staticmethod
    def unknown(run: Run, args: Mapping[str, Any], hidden: frozenset) -> dict[str, PropertyValue]:
        """A preview's outputs: the inputs echoed as given, everything else unknown."""
        outs: dict[str, Any] = {f.name: UNKNOWN for f in run.outputs}
        outs.update({key: value for key, value in args.items() if key in outs and key not in (run.id_key,
                                                                                               run.id_input)})
        if args.get(run.id_input):  # a given id: known in a preview
            outs[run.id_key] = outs[run.id_input] = args[run.id_input]
        secret = set(hidden) | (set(run.secret_outputs) if args.get("secret_payloads", True) is not False else set())
        return run_map(outs, frozenset(secret))


def run_map(values: Mapping[str, Any], secret: frozenset) -> dict[str, PropertyValue]:
    """A run's outputs as property values; the ``triggers`` map keeps its keys as the program gave them."""
    out = outputs_map(values, secret)
    triggers = values.get("triggers")
    if isinstance(triggers, Mapping):
        value = PropertyValue({key: wrap(item) for key, item in triggers.items()})
        out["triggers"] = value.with_secret(True) if "triggers" in secret else value
    return out
