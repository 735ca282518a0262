"""The runs: ``AsyncTaskRun`` (FC 3.0) and ``StatefulAsyncInvocationRun`` (FC 2.0), resources that start an async
item in ``pulumi up`` (once: :mod:`..gate.start`) and gate on it as ``AsyncTask`` / ``StatefulAsyncInvocation`` do.

A run is two registrations (:mod:`.run_providers`), because the dynamic provider host serves four calls at once
and fifty runs waiting there would be released in batches of four:

1. a hidden *start* resource of its own type (``pulumi-python:dynamic/fc:<Run>Start``, the same resource name,
   the run's parent and ``depends_on``), whose provider starts the item or adopts the one that holds its id
   (fast: one invoke, or a 409 and a read), and never invokes in a preview, an unchanged ``up``, a change of
   the wait's inputs alone, a refresh or a destroy;
2. the run itself, registered as a read whose id resolves when the program's gate on the item opens
   (:func:`.program.gate_in_program`, as the data sources do): its outputs, and everything that depends on it,
   wait for the verdict; a failed or timed-out run fails the program with one line (:mod:`.verdict`), and with
   ``stop_on_timeout`` the program stops the item first.

In a preview the start's outputs are unknown (nothing started), so the run's are too.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Mapping, Sequence  # noqa: F401 - the annotations name them (evaluated here)
from typing import Any, ClassVar, Optional

import pulumi
import pulumi.dynamic
from pulumi import Output, ResourceOptions

from ..errors import FcInvocationError, NotFoundError
from ..gate.clients import pool
from ..gate.messages import item_not_found
from ..gate.operation import records_only, skip_wait
from ..gate.start import SEQUENCE, START_ERROR, RunSpec, build_run_spec, stop_if_running
from ..clock import within
from ..kinds import Kind
from ..models import redact, redacting
from ..sources import ASYNC_TASK_RUN, STATEFUL_ASYNC_INVOCATION_RUN, Run
from .program import (
    all_plain,
    check_plain_bool,
    client_of,
    gate_in_program,
    gate_secrets,
    log_target,
    no_verdict_props,
    outputs_after,
    register_read,
    resolve_spec,
    spec_prop,
    under_mocks,
)
from .interrupt import on_interrupt
from .resources import check_name, constructor, judge_single_mock
from .run_providers import (
    DEPLOYMENT_KEY,
    RESOURCE_KEY,
    AsyncTaskRunProvider,
    AsyncTaskRunStartProvider,
    StatefulAsyncInvocationRunProvider,
    StatefulAsyncInvocationRunStartProvider,
)
from .signatures import output_annotation
from . import verdict
from .verdict import GateFailed
from ..sdk_workarounds import undo_sdk_pickler_chain

__all__ = ["AsyncTaskRun", "StatefulAsyncInvocationRun", "RunResource", "RunStart", "Described", "declare_run",
           "gate_run", "start_type_token"]


def start_type_token(run: Run) -> str:
    """The hidden start resource's type: ``pulumi-python:dynamic/fc:AsyncTaskRunStart``."""
    return f"pulumi-python:dynamic/fc:{run.name}Start"


class Described(pulumi.dynamic.Resource):
    """A resource of a run (the run, or its start: ``role``): a subclass names the run's description and its
    dynamic provider class (which state refers to by module and name); its output annotations and its type token
    ``pulumi-python:dynamic/fc:<Name><role>`` come from the description."""

    run: ClassVar[Run]
    provider_class: ClassVar[type]
    role: ClassVar[str] = ""

    def __init_subclass__(cls, run: Optional[Run] = None, provider: Optional[type] = None, **kwargs: Any) -> None:
        if run is None:
            super().__init_subclass__(**kwargs)
            return
        super().__init_subclass__(module="fc", name=run.name + cls.role, **kwargs)
        cls.run, cls.provider_class = run, provider  # type: ignore[assignment]
        cls.__annotations__ = {f.name: output_annotation(f) for f in run.outputs}


class RunStart(Described):
    """The hidden start resource of a run (see the module docstring)."""

    role = "Start"

    def __init__(self, resource_name: str, props: dict[str, Any], opts: ResourceOptions) -> None:
        try:
            super().__init__(self.provider_class(), resource_name, props, opts)
        finally:
            undo_sdk_pickler_chain()


class AsyncTaskRunStart(RunStart, run=ASYNC_TASK_RUN, provider=AsyncTaskRunStartProvider):
    """Starts the task of an ``AsyncTaskRun`` (hidden; the run is the resource to use)."""


class StatefulAsyncInvocationRunStart(RunStart, run=STATEFUL_ASYNC_INVOCATION_RUN,
                                      provider=StatefulAsyncInvocationRunStartProvider):
    """Starts the invocation of a ``StatefulAsyncInvocationRun`` (hidden; the run is the resource to use)."""


STARTS: dict[str, type[RunStart]] = {ASYNC_TASK_RUN.name: AsyncTaskRunStart,
                                     STATEFUL_ASYNC_INVOCATION_RUN.name: StatefulAsyncInvocationRunStart}


def _plain(args: Mapping[str, Any]) -> bool:
    triggers = args.get("triggers")
    return all_plain(args) and (not isinstance(triggers, Mapping) or all_plain(triggers))


async def _not_found(item: Any) -> bool:
    """Whether FC does not know the item (one read): the start just started it and FC does not list it yet (a run
    that does not wait: recorded as enqueued, as the plugin records it), or FC has forgotten a run recorded
    earlier (it keeps a task 7 days: the state last recorded is kept). Another error: False (the gate's own read
    says it, with its one line)."""
    if skip_wait() or records_only() or under_mocks():
        return False
    with redacting(gate_secrets(item)):
        try:
            client = client_of(item)
            await asyncio.get_running_loop().run_in_executor(pool(), lambda: item.kind.read(client, item.ref))
        except NotFoundError as exc:
            return item_not_found(exc)
        except FcInvocationError:
            return False
    return False


_DEPLOYMENTS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, str]" = weakref.WeakKeyDictionary()


def _deployment() -> str:
    """This program run's token (one per event loop: an Automation API process runs one program per loop)."""
    return _DEPLOYMENTS.setdefault(asyncio.get_event_loop(), uuid.uuid4().hex)


def _stop(item: Any, client: Any, secrets: tuple[str, ...], budget: Optional[float]) -> tuple[bool, Optional[str]]:
    """``stop_on_timeout``: stop the item when it has not ended, within ``budget`` s (None: the client's own
    deadlines); (whether it went well, what to say: None when there was nothing to stop)."""
    with redacting(secrets):
        try:
            stopped = within(budget, lambda: stop_if_running(client, item))
        except Exception as exc:  # noqa: BLE001 - the verdict stands; the stop's failure is said
            return False, redact(f"stop_on_timeout: stopping {item.kind.noun} {item.id} failed: {exc}", secrets)
    return True, f"stopped {item.kind.noun} {item.id} (stop_on_timeout)" if stopped else None


async def gate_run(spec: RunSpec, item: Any, target: Any) -> Optional[float]:
    """The gate on the run's item, in the program (:func:`.program.gate_in_program`); a failed gate (a timeout,
    a fail status, another gate's failure) stops an item that has not ended when ``stop_on_timeout``, and so
    does a Ctrl-C (a cancelled deployment) while it waits (:func:`.interrupt.on_interrupt`)."""
    if not item.wait and await _not_found(item):
        return None
    stopping = spec.stop_on_timeout and not under_mocks()
    if not stopping:
        return await gate_in_program(item, target)
    secrets = gate_secrets(item)
    try:
        with redacting(secrets):
            client = client_of(item)
    except FcInvocationError:  # a setting's error: the gate says it, in its one line; nothing to stop
        return await gate_in_program(item, target)
    try:
        with on_interrupt(lambda budget: _stop(item, client, secrets, budget)[1]):
            return await gate_in_program(item, target)
    except GateFailed:
        ok, said = await asyncio.get_running_loop().run_in_executor(pool(), lambda: _stop(item, client, secrets, None))
        if said is not None:
            (pulumi.log.info if ok else pulumi.log.warn)(said, resource=target)
        raise


def _start_aliases(run: Run, aliases: Optional[Sequence[Any]]) -> Optional[list[Any]]:
    """The run's ``aliases`` as its start's (a rename or a new parent moves the start with it, which starts
    nothing): an alias naming the run's type (a URN, or ``Alias(type_=...)``) names the start's."""
    if not aliases:
        return None
    run_type, start_type = f"pulumi-python:dynamic/fc:{run.name}", start_type_token(run)
    out: list[Any] = []
    for alias in aliases:
        if isinstance(alias, str):
            head, sep, name = alias.rpartition("::")
            types = head.rsplit("::", 1)
            if sep and len(types) == 2 and types[1].rsplit("$", 1)[-1] == run_type:
                alias = f"{types[0]}::{types[1][:-len(run_type)]}{start_type}::{name}"
        elif isinstance(alias, pulumi.Alias) and alias.type_ == run_type:
            alias = pulumi.Alias(name=alias.name, type_=start_type, parent=alias.parent, stack=alias.stack,
                                 project=alias.project)
        out.append(alias)
    return out


def declare_run(resource: pulumi.dynamic.Resource, kind: Kind, provider: pulumi.dynamic.ResourceProvider,
                resource_name: str, args: dict[str, Any], opts: Optional[ResourceOptions]) -> None:
    """Register the run ``resource`` (its arguments in ``args``): its start resource, then its gated read."""
    run: Run = type(resource).run  # type: ignore[attr-defined]
    check_name(resource_name)  # type: ignore[misc]  # resources.pyi serves the builders through __getattr__
    secret_payloads = args["secret_payloads"]
    check_plain_bool("secret_payloads", secret_payloads)
    # Plain arguments: refuse bad ones here, with a plain traceback, before anything is registered.
    if _plain(args):
        build_run_spec(run, args, frozenset({"payload"}), resource=resource_name)
    opts = opts or ResourceOptions()
    target = log_target(resource_name, f"pulumi-python:dynamic/fc:{run.name}", opts)
    given = dict(args)
    if secret_payloads and given.get("payload") is not None:
        given["payload"] = Output.secret(given["payload"])  # secret by default: in state and in the output
    secret = list(run.secret_outputs) if secret_payloads else []

    # 1. The start: the run's inputs and the run's URN (its derived id's scope); outputs as the run records them.
    start_props: dict[str, Any] = {f.name: None for f in run.outputs}
    start_props.update(given)
    start_props[RESOURCE_KEY] = target.urn
    start_props[DEPLOYMENT_KEY] = _deployment()
    start_props[START_ERROR] = None
    start = STARTS[run.name](resource_name, start_props, ResourceOptions(
        parent=opts.parent, depends_on=opts.depends_on, protect=opts.protect, retain_on_delete=opts.retain_on_delete,
        additional_secret_outputs=secret, aliases=_start_aliases(run, opts.aliases),
        ignore_changes=opts.ignore_changes, replace_on_changes=opts.replace_on_changes,
        deleted_with=opts.deleted_with, custom_timeouts=opts.custom_timeouts))

    # 2. The gate, in the program, on the item the start started (unknown in a preview: nothing started).
    hidden = frozenset({"payload"}) if secret_payloads else frozenset()
    spec: Output[RunSpec] = resolve_spec(given, lambda values, secret_names: build_run_spec(
        run, values, frozenset(secret_names) | hidden, resource=resource_name))
    item_id: Output[Any] = getattr(start, kind.id_key)

    async def gate(values: list[Any]) -> tuple[Optional[float], bool]:
        """(seconds waited, whether FC has forgotten the item of a run recorded earlier: kept as recorded)."""
        run_spec, started, started_in, start_error = values
        if start_error:  # the start failed (its create recorded why, in one line): the run fails with it
            verdict.fail(start_error, target)
        if started is None:  # under mocks, when the mock gave no id: the run's first derived id
            started = run_spec.id_at(run_spec.sequence)
        item = run_spec.spec_for(started)
        if started_in != deployment and await _not_found(item):
            return None, True  # the read keeps the start's record and warns (a refresh's read of a forgotten item)
        return await gate_run(run_spec, item, target), False

    deployment = _deployment()
    gated = Output.all(spec, item_id, getattr(start, DEPLOYMENT_KEY), getattr(start, START_ERROR)).apply(gate)
    waited: Output[Any] = gated.apply(lambda g: g[0])
    gated_id = Output.all(spec, item_id, waited).apply(
        lambda values: values[0].spec_for(values[1] or values[0].id_at(values[0].sequence)).id)

    props: dict[str, Any] = {f.name: None for f in run.outputs}
    for key in run.input_names():
        props[key] = spec_prop(spec, key)
    props["secret_payloads"] = secret_payloads  # plain, as given (the read marks payloads by it)
    props[kind.id_key] = item_id
    props[run.id_input] = item_id  # the id used (FC 2.0: task_id beside invocation_id), a given one or not
    props[SEQUENCE] = getattr(start, SEQUENCE)
    props["waited_seconds"] = waited
    for key, value in props.items():  # a forgotten item: the start's record, which the read keeps (it warns)
        if value is None:
            props[key] = Output.all(gated, getattr(start, key)).apply(lambda v: v[1] if v[0][1] else None)
    no_verdict_props(props, spec)
    register_read(resource, provider, resource_name, props, opts, gated_id, secret)
    resource.start = start  # type: ignore[attr-defined]
    if under_mocks() and not skip_wait():  # the mock's outputs judged as a data source's are (a mocked Failed fails)
        outputs = Output.all(**{key: getattr(resource, key) for key in kind.output_keys})
        outputs_after(resource, props, Output.all(spec, item_id, outputs).apply(
            lambda v: judge_single_mock(v[0].spec_for(v[1] or v[0].id_at(v[0].sequence)), v[2])))


class RunResource(Described):
    """The base of the runs: its constructor's signature comes from the description too."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if kwargs.get("run") is not None:
            cls.__init__ = constructor(cls, cls.run, declare_run)  # type: ignore[method-assign,misc]


class AsyncTaskRun(RunResource, run=ASYNC_TASK_RUN, provider=AsyncTaskRunProvider):
    """A Function Compute 3.0 async task that ``pulumi up`` starts, once, and waits for as ``AsyncTask`` does.

    Without ``task_id`` the id derives from the stack, this resource and the function, and a run sequence
    number (never from the payload): an ``up`` retried after a crash finds the task it started instead of
    starting another; a task that ended ``Failed``/``Stopped``/``Expired`` is retried under the next id by the
    next ``up``; a change of ``payload``, the function, ``qualifier`` or ``triggers`` starts a new task; a change
    of the wait's inputs alone starts nothing. ``pulumi preview``, ``refresh`` and ``destroy`` start nothing;
    ``destroy`` stops a running task only with ``stop_on_delete``, a timed-out wait only with
    ``stop_on_timeout``. A failed or timed-out run fails the deployment and its dependents are not created.
    """


class StatefulAsyncInvocationRun(RunResource, run=STATEFUL_ASYNC_INVOCATION_RUN,
                                 provider=StatefulAsyncInvocationRunProvider):
    """A Function Compute stateful async invocation that ``pulumi up`` starts, once, and waits for as
    ``StatefulAsyncInvocation`` does: the FC 2.0 twin of :class:`AsyncTaskRun` (``service_name``,
    ``function_name``, ``invocation_id``)."""


