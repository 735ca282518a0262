"""The dynamic providers behind the runs (:mod:`.runs`): a run is two registrations, each with its provider.

* The hidden *start* resource (``pulumi-python:dynamic/fc:<Run>Start``, the run's resource name): its provider
  does what the runs' core says (:mod:`..gate.start`), and nothing that waits (the dynamic provider host serves
  four calls at once): ``check`` computes the hidden ``run_sequence``, ``diff`` replaces on a new sequence or a
  recorded item that ended badly (a GET, never an invoke) and updates on the other inputs, ``create`` starts the
  item or adopts the one that holds its id (a 409), ``update`` starts nothing, ``read`` records the item's state
  and never fails, ``delete`` stops an item that has not ended only with ``stop_on_delete``.
* The run itself (``pulumi-python:dynamic/fc:<Run>``), registered as a read whose id resolves once the program's
  gate opens: its provider reads the item as the data source's does (:class:`~.providers.GateProvider`) and
  records the run's outputs.

A provider is pickled into state by module and class name (one class per run and role), holding nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi.runtime.rpc import UNKNOWN

from ..errors import FcInvocationError, InvalidArgumentError, NotFoundError
from ..gate.explain import config_vocabulary, explain
from ..gate.messages import item_not_found
from ..gate.outputs import single_outputs
from ..gate.start import (
    SEQUENCE,
    START_ERROR,
    RunSpec,
    build_run_spec,
    claim,
    claimed,
    diff,
    ended_badly,
    given_id_rule,
    needs_read,
    next_sequence,
    normalized,
    replacement_sequence,
    replacing,
    run_outputs,
    start,
    stop_if_running,
)
from ..kinds import FC2, FC3
from ..models import redact, redacting
from ..sources import ASYNC_TASK_RUN, STATEFUL_ASYNC_INVOCATION_RUN, Run
from .providers import GateProvider

__all__ = ["RESOURCE_KEY", "DEPLOYMENT_KEY", "RunStartProvider", "RunProvider", "AsyncTaskRunStartProvider",
           "StatefulAsyncInvocationRunStartProvider", "AsyncTaskRunProvider", "StatefulAsyncInvocationRunProvider",
           "has_unknown"]

# The start resource's hidden input naming the run (its URN: project, stack, type, name): the derived id's
# digest is over it. The dynamic provider host is told neither the URN nor the stack, so the program gives it.
RESOURCE_KEY = "run_urn"
# The start resource's hidden input naming the program run (a token new in each): its create records it, so the
# program tells a run it started now from one recorded earlier, whose item FC may since have forgotten (7 days).
# No diff compares it: an up changes nothing by giving a new one.
DEPLOYMENT_KEY = "run_deployment"
ENQUEUED = {"status": "Enqueued"}  # what a start records of an item it just started (not read yet)


def has_unknown(value: Any) -> bool:
    """Whether ``value`` is (or holds) a value a preview does not know yet."""
    if isinstance(value, Mapping):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(has_unknown(v) for v in value)
    return bool(value == UNKNOWN)


class RunStartProvider(GateProvider):
    """Starts a run's item (see the module docstring); a subclass names its run."""

    run: Run = ASYNC_TASK_RUN

    # --- plumbing ---

    def _args(self, props: Mapping[str, Any]) -> dict[str, Any]:
        names = set(self.run.input_names()) | {SEQUENCE}
        return {key: value for key, value in props.items() if key in names}

    def _spec(self, props: Mapping[str, Any]) -> RunSpec:
        """The run's spec from checked inputs. The host is sent no secret marks: the payload is masked always."""
        args = self._args(props)
        with redacting([str(args["payload"])] if args.get("payload") else []):
            return build_run_spec(self.run, args, frozenset({"payload"}), resource=str(props.get(RESOURCE_KEY)))

    def _recorded(self, props: Mapping[str, Any]) -> RunSpec:
        """The spec of a recorded run: its outputs echo its inputs; the id among them is the one used, a given
        one only when no sequence was recorded."""
        run, args = self.run, dict(props)
        if props.get(SEQUENCE) is not None:
            args.pop(run.id_input, None)  # the id used (FC 2.0 records it as task_id too), not a given one
        elif props.get(run.id_key):
            args[run.id_input] = props[run.id_key]
        return self._spec(args)

    def _run_client(self, spec: RunSpec) -> Any:
        gate = spec.gate
        return self._client(gate.region, gate.account_id, gate.endpoint)

    # --- the lifecycle ---

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        run, inputs = self.run, dict(news)
        inputs.pop(SEQUENCE, None)  # computed here, never given
        args = self._args(inputs)
        if olds and not args.get(run.id_input) and any(has_unknown(value) for value in normalized(run, args).values()):
            inputs[SEQUENCE] = UNKNOWN  # a preview: whether a run-defining input changes is unknown
            return pulumi.dynamic.CheckResult(inputs, [])
        if not has_unknown(args):
            try:
                given_id_rule(run, self._args(olds) or None, args)  # a given id runs once
            except InvalidArgumentError as exc:
                return pulumi.dynamic.CheckResult(inputs, [pulumi.dynamic.CheckFailure(exc.argument, str(exc))])
        resource = inputs.get(RESOURCE_KEY)
        sequence = next_sequence(run, self._args(olds) or None, args,
                                 resource if isinstance(resource, str) and not has_unknown(resource) else None)
        inputs[SEQUENCE] = sequence
        failures = []
        if not has_unknown(inputs):
            try:
                self._spec(inputs)
            except InvalidArgumentError as exc:
                failures.append(pulumi.dynamic.CheckFailure(exc.argument, str(exc)))
            except FcInvocationError as exc:  # the endpoint's rules (a ConfigurationError)
                failures.append(pulumi.dynamic.CheckFailure("endpoint", str(exc)))
        return pulumi.dynamic.CheckResult(inputs, failures)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        run = self.run
        if has_unknown(self._args(news)):
            recorded = {**olds, run.id_input: olds.get(run.id_key) if olds.get(SEQUENCE) is None else None}
            changed = [key for key in (*run.input_names(), SEQUENCE)
                       if key in news and news.get(key) != recorded.get(key)]
            replaces = [key for key in changed if key in run.replacing or key == SEQUENCE]
        else:
            spec = self._spec(news)
            decision = diff(run, olds, spec.props())
            changed, replaces = list(decision.changed), list(decision.replaces)
            # Ended badly: retried under the same run's next retry id (-<n>-<k>). An end in success is not recorded
            # here (an update of the hidden start on an unchanged up): the run's read records it.
            if not replaces and needs_read(olds) and olds.get(run.id_key) and self._ended_badly(spec, olds):
                changed.append("status")
                replaces.append("status")
            # The engine checks a replacement again without old inputs, also one it decides on its own
            # (replaceOnChanges, --replace): bridge the sequence, whatever this diff says.
            resource = str(news.get(RESOURCE_KEY))
            retry = replaces == ["status"] and olds.get(SEQUENCE) is not None
            replacing(resource, int(olds[SEQUENCE]) if retry else replacement_sequence(run, resource, olds, news),
                      run, news)
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    def _ended_badly(self, spec: RunSpec, olds: Mapping[str, Any]) -> bool:
        """Whether the recorded item ended badly, read now (a GET); a failed read says no."""
        item = spec.spec_for(olds[self.run.id_key])
        with redacting(self._secrets(spec.secret_texts)):
            try:
                return ended_badly(spec.kind.read(self._run_client(spec), item.ref).status, olds.get("fail_on_statuses"))
            except FcInvocationError:
                return False

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        spec = self._spec(props)
        hidden = self._secrets(spec.secret_texts)
        with redacting(hidden):
            try:
                started = start(self._run_client(spec), spec)
            except FcInvocationError as exc:  # raised here, it would be a traceback: the program says it in one line
                return self._start_failed(spec, props, exc, hidden)
        if started.adopted is not None:  # a replacement's (--replace) adopting the recorded item: its delete
            claim(str(props.get(RESOURCE_KEY)), started.item_id)  # must not stop it
        result = started.adopted or spec.kind.mocked_result(started.spec.ref, ENQUEUED)
        outs = run_outputs(spec, started.spec, result, None)
        outs[RESOURCE_KEY] = props.get(RESOURCE_KEY)
        outs[DEPLOYMENT_KEY] = props.get(DEPLOYMENT_KEY)  # started in this program run (an update keeps the old)
        return pulumi.dynamic.CreateResult(started.spec.id, outs)

    def _start_failed(self, spec: RunSpec, props: Mapping[str, Any], error: FcInvocationError,
                      hidden: tuple[str, ...]) -> pulumi.dynamic.CreateResult:
        """A start that failed (a given id held by another payload, a refused invoke): recorded with its one line
        (:data:`START_ERROR`, in the words a gate's user error has), which the program's gate fails the run with;
        no item is recorded, and the next up's diff replaces it (it tries again)."""
        text = explain(error, config_vocabulary(config=self._config)) or str(error)
        outs: dict[str, Any] = {f.name: None for f in self.run.outputs}
        outs.update({key: value for key, value in spec.props().items() if key in outs})
        outs[self.run.id_key] = outs[self.run.id_input] = None
        outs[START_ERROR] = redact(text, hidden)
        outs[RESOURCE_KEY] = props.get(RESOURCE_KEY)
        outs[DEPLOYMENT_KEY] = props.get(DEPLOYMENT_KEY)
        return pulumi.dynamic.CreateResult(spec.gate.id, outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        """Only inputs that start nothing changed (the diff replaces otherwise): echo them, invoke nothing."""
        outs = dict(olds)
        outs.update({f.name: news.get(f.name) for f in self.run.echoes})
        outs[RESOURCE_KEY] = news.get(RESOURCE_KEY)
        return pulumi.dynamic.UpdateResult(outs)

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """A refresh: the item's state now; never fails (the state last recorded stays). Without a recorded id
        (the inputs alone: a read of a pending create), the item is the one ``id_`` names."""
        if props.get(START_ERROR):  # a start that failed: no item to read
            return pulumi.dynamic.ReadResult(id_, dict(props))
        try:
            spec = self._recorded(props)
            item = spec.spec_for(props.get(self.run.id_key) or self.kind.ref_fields(self.kind.parse_ref(id_))[
                self.kind.id_key])
            with redacting(self._secrets(spec.secret_texts)):
                result = spec.kind.read(self._run_client(spec), item.ref)
        except (FcInvocationError, KeyError):
            return pulumi.dynamic.ReadResult(id_, dict(props))
        outs = run_outputs(spec, item, result, props.get("waited_seconds"))
        outs[SEQUENCE] = props.get(SEQUENCE)
        outs[RESOURCE_KEY] = props.get(RESOURCE_KEY)
        outs[DEPLOYMENT_KEY] = props.get(DEPLOYMENT_KEY)
        return pulumi.dynamic.ReadResult(id_, outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Forgets the item; stops it when it has not ended only with ``stop_on_delete``."""
        if not props.get("stop_on_delete") or props.get("is_terminal") or not props.get(self.run.id_key) \
                or claimed(str(props.get(RESOURCE_KEY)), props[self.run.id_key]):
            return None
        spec = self._recorded(props)
        with redacting(self._secrets(spec.secret_texts)):
            stop_if_running(self._run_client(spec), spec.spec_for(props[self.run.id_key]))
        return None


class RunProvider(GateProvider):
    """Reads a run's item as its data source's provider does (the verdict again, refresh, not found), and records
    the run's outputs: the item's fields, then the run's inputs, sequence and wait as the program gave them."""

    run: Run = ASYNC_TASK_RUN

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        try:
            result = super().read(id_, props)
        except NotFoundError as exc:
            # The program's read of an item its start just started, FC not listing it yet (a run that does not
            # wait): recorded as enqueued, as the start recorded it (the program's gate let it pass so).
            if props.get("status") is not None or props.get("wait_for_completion") or not item_not_found(exc):
                raise
            ref = self.kind.parse_ref(id_)
            result = pulumi.dynamic.ReadResult(id_, single_outputs(self.kind, self.kind.mocked_result(ref, ENQUEUED),
                                                                   ref, props))
        outs = result.outs or {}
        return pulumi.dynamic.ReadResult(result.id, {f.name: outs.get(f.name, props.get(f.name))
                                                     for f in self.run.outputs})

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        raise FcInvocationError(f"{self.run.name} is registered by the package as a read of the {self.kind.noun} "
                                f"its start resource started; construct it through the package")


class AsyncTaskRunStartProvider(RunStartProvider):
    """Starts the task of an ``AsyncTaskRun``."""

    run = ASYNC_TASK_RUN
    kind = FC3


class StatefulAsyncInvocationRunStartProvider(RunStartProvider):
    """Starts the invocation of a ``StatefulAsyncInvocationRun``."""

    run = STATEFUL_ASYNC_INVOCATION_RUN
    kind = FC2


class AsyncTaskRunProvider(RunProvider):
    """Reads the task of an ``AsyncTaskRun``."""

    run = ASYNC_TASK_RUN
    kind = FC3


class StatefulAsyncInvocationRunProvider(RunProvider):
    """Reads the invocation of a ``StatefulAsyncInvocationRun``."""

    run = STATEFUL_ASYNC_INVOCATION_RUN
    kind = FC2
