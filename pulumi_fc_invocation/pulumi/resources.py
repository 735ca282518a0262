"""The data sources: ``StatefulAsyncInvocation`` / ``StatefulAsyncInvocations`` (FC 2.0) and
``AsyncTask`` / ``AsyncTasks`` (FC 3.0), one declaration each for the single and the batch form.

Each is a dynamic resource registered as a *read* (``ResourceOptions(id=...)``) whose id resolves
only once the gate opens. The gate runs in the program's event loop (:func:`.program.gate_in_program`,
which gives the verdict there, with a readable message); the engine's read, in the provider host,
fetches the final state (:mod:`.providers`). Each class names its description (:mod:`..sources`), from which
its constructor's signature and output annotations come; everything else is :func:`declare_single` /
:func:`declare_batch`, parametrized by the API kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence  # noqa: F401 - the annotations name them (evaluated here)
from datetime import datetime
from typing import Any, ClassVar, Optional, Union

import pulumi
import pulumi.dynamic
from pulumi import Input, Output, ResourceOptions

from ..errors import InvalidArgumentError
from ..gate.batch import BatchSummary
from ..gate.operation import records_only, skip_wait
from ..gate.spec import BatchSpec, SingleSpec, parse_batch_id
from ..gate.verdict import batch_verdict, verdict
from ..kinds import FC2, KINDS, Kind
from ..models import redacting
from ..sources import ASYNC_TASK, ASYNC_TASKS, STATEFUL_ASYNC_INVOCATION, STATEFUL_ASYNC_INVOCATIONS, DataSource
from .program import (
    all_plain,
    check_plain_bool,
    gate_in_program,
    is_plain,
    log_target,
    mocked_props,
    no_verdict_props,
    outputs_after,
    plain_input_errors,
    register_read,
    resolve_spec,
    spec_prop,
    under_mocks,
)
from .providers import AsyncTaskProvider, AsyncTasksProvider, StatefulAsyncInvocationProvider, \
    StatefulAsyncInvocationsProvider
from .signatures import annotations, bind, output_annotation, resource_signature

__all__ = [
    "StatefulAsyncInvocation", "StatefulAsyncInvocations", "AsyncTask", "AsyncTasks", "DataSourceResource",
    "declare_single", "declare_batch", "constructor", "check_name", "judge_single_mock", "mocked_summary",
    "TYPE_TOKEN", "BATCH_TYPE_TOKEN", "OUTPUT_KEYS", "PAYLOAD_OUTPUTS", "BATCH_OUTPUT_KEYS",
]

TYPE_TOKEN = FC2.single_type_token
BATCH_TYPE_TOKEN = FC2.batch_type_token
OUTPUT_KEYS = FC2.output_keys
PAYLOAD_OUTPUTS = FC2.payload_keys
BATCH_OUTPUT_KEYS = FC2.batch_output_keys
Time = Union[str, datetime]


# --- the one declaration of each form -----------------------------------------------------------


def judge_single_mock(spec: SingleSpec, outputs: dict[str, Any]) -> None:
    """The gate's verdict on a mock's outputs (raises as the provider's read would)."""
    result = spec.kind.mocked_result(spec.ref, outputs)
    if result is not None:
        with redacting(spec.secret_texts):
            verdict(spec.id, result, mocked_props(spec.props(), spec.wait), noun=spec.kind.noun)


def mocked_summary(spec: BatchSpec, members: Any) -> BatchSummary:
    """A mock's members (the data source's own shape) as the batch; the verdict on it raises as the
    provider's read would."""
    kind = spec.kind
    results = [kind.mocked_result(spec.ref(item.get(kind.id_key) or f"mocked-{i}"), item)
               for i, item in enumerate(members or []) if isinstance(item, dict)]
    summary = BatchSummary(spec, [r for r in results if r is not None])
    with redacting(spec.secret_texts):
        return batch_verdict(summary, mocked_props(spec.props(), spec.wait))


def gated(spec: Output[Any], plain: Any, args: dict[str, Any], props: dict[str, Any],
          target: Any) -> tuple[Output[Any], Output[str]]:
    """The gate's Outputs (seconds waited, the read's id once the gate opens) and the argument props.

    With plain arguments (``plain``: the spec, built already) the props are plain values and the gate
    waits on no other Output: a gate holds about 30 pending Outputs while it waits, the SDK's
    bookkeeping costs grow with them, and this saves some 40 more per data source."""
    if plain is not None:
        waited = Output.from_input(gate_in_program(plain, target))
        gated_id = waited.apply(lambda _: plain.id)
        plain_props = plain.props()
        props.update({key: plain_props[key] for key in args})
        props["waited_seconds"] = waited
        if skip_wait() or records_only():
            props["fail_on_statuses"] = []
        return waited, gated_id
    waited = spec.apply(lambda s: gate_in_program(s, target))
    gated_id = Output.all(spec, waited).apply(lambda sw: sw[0].id)
    for key in args:
        props[key] = spec_prop(spec, key)
    props["waited_seconds"] = waited
    no_verdict_props(props, spec)
    return waited, gated_id


def check_name(resource_name: Any) -> None:
    if not isinstance(resource_name, str) or not resource_name:
        raise InvalidArgumentError("resource_name", resource_name, "must be a non-empty string")


def declare_single(resource: pulumi.dynamic.Resource, kind: Kind, provider: pulumi.dynamic.ResourceProvider,
                   resource_name: str, args: dict[str, Any], opts: Optional[ResourceOptions]) -> None:
    """Register a single data source of ``kind`` (its arguments in ``args``) with its gate."""
    check_name(resource_name)
    secret_payloads = args["secret_payloads"]
    check_plain_bool("secret_payloads", secret_payloads)
    # Plain arguments: refuse bad ones here, with a plain traceback, and gate on the spec itself.
    plain = SingleSpec.build(kind=kind, **args) if all_plain(args) else None
    spec: Output[SingleSpec] = resolve_spec(args, lambda values, hidden: SingleSpec.build(kind=kind, hidden=hidden,
                                                                                          **values), plain)
    opts = opts or ResourceOptions()
    target = log_target(resource_name, kind.single_type_token, opts)
    props: dict[str, Any] = {key: None for key in kind.output_keys}
    waited, gated_id = gated(spec, plain, args, props, target)
    props["secret_payloads"] = secret_payloads  # plain, as given (the provider's read marks payloads by it)
    register_read(resource, provider, resource_name, props, opts, gated_id,
                  list(kind.payload_keys) if secret_payloads else [])
    if under_mocks() and not skip_wait():
        outputs = Output.all(**{key: getattr(resource, key) for key in kind.output_keys})
        outputs_after(resource, props, Output.all(spec, outputs).apply(lambda so: judge_single_mock(so[0], so[1])))


def get_single(cls: Any, kind: Kind, resource_name: str, id: Input[str], opts: Optional[ResourceOptions],
               kwargs: dict[str, Any]) -> Any:
    """``cls.get``: the single data source from its composite id."""
    if is_plain(id):
        ref = kind.parse_ref(id, "id")
        return cls(resource_name, opts=opts, **kind.ref_fields(ref), **kwargs)
    parsed = Output.from_input(id).apply(lambda text: kind.parse_ref(text, "id"))
    fields = {key: parsed.apply(lambda r, k=key: getattr(r, k)) for key in kind.ref_keys}
    return cls(resource_name, opts=opts, **fields, **kwargs)


def declare_batch(resource: pulumi.dynamic.Resource, kind: Kind, provider: pulumi.dynamic.ResourceProvider,
                  resource_name: str, args: dict[str, Any], opts: Optional[ResourceOptions]) -> None:
    """Register a batch data source of ``kind`` (its arguments in ``args``) with its gate."""
    check_name(resource_name)
    secret_payloads = args["secret_payloads"]
    check_plain_bool("secret_payloads", secret_payloads)
    plain = BatchSpec.build(kind=kind, **args) if all_plain(args) else None
    spec: Output[BatchSpec] = resolve_spec(
        args, lambda values, hidden: BatchSpec.build(kind=kind, hidden=hidden, **values), plain)
    opts = opts or ResourceOptions()
    target = log_target(resource_name, kind.batch_type_token, opts)
    props: dict[str, Any] = {key: None for key in kind.batch_output_keys}
    waited, gated_id = gated(spec, plain, args, props, target)
    if plain is None:
        for key in ("ids", kind.items_key):  # a secret input (None) makes the same-named output secret
            props[key] = spec.apply(lambda s: Output.secret(None) if s.identifies_members else None)
    props["secret_payloads"] = secret_payloads  # plain, as given
    # The engine marks secrets per top-level output: with payloads, the whole list is secret.
    secret = [kind.items_key] if secret_payloads and args.get("include_payloads") is not False else []
    register_read(resource, provider, resource_name, props, opts, gated_id, secret)
    if under_mocks() and not skip_wait():
        outputs_after(resource, props, Output.all(spec, getattr(resource, kind.items_key)).apply(
            lambda sm: mocked_summary(sm[0], sm[1]) if sm[1] is not None else None))


def get_batch(cls: Any, kind: Kind, resource_name: str, id: Input[str], opts: Optional[ResourceOptions],
              kwargs: dict[str, Any]) -> Any:
    """``cls.get``: the batch data source from its id."""
    if is_plain(id):
        return cls(resource_name, opts=opts, **{**parse_batch_id(id, kind=kind), **kwargs})
    parsed = Output.from_input(id).apply(lambda text: parse_batch_id(text, kind=kind))
    fields = {key: parsed.apply(lambda a, k=key: a.get(k)) for key in kind.target_keys + kind.batch_source.id_filters}
    return cls(resource_name, opts=opts, **{**fields, **kwargs})


# --- the data sources: one thin class each over the description -----------------------------------


class DataSourceResource(pulumi.dynamic.Resource):
    """The base of the data sources: a subclass names its description and its dynamic provider class
    (which state refers to by module and name); its constructor's signature, its output annotations
    and its type token ``pulumi-python:dynamic/fc:<Name>`` come from the description."""

    source: ClassVar[DataSource]
    provider_class: ClassVar[type]

    def __init_subclass__(cls, source: Optional[DataSource] = None, provider: Optional[type] = None,
                          **kwargs: Any) -> None:
        if source is None:
            super().__init_subclass__(**kwargs)
            return
        super().__init_subclass__(module="fc", name=source.name, **kwargs)
        cls.source, cls.provider_class = source, provider  # type: ignore[assignment]
        cls.__annotations__ = {f.name: output_annotation(f) for f in source.outputs}
        cls.__init__ = constructor(cls, source, declare_batch if source.batch else declare_single)  # type: ignore[method-assign]

    @classmethod
    def get(cls, resource_name: str, id: Input[str], opts: Optional[ResourceOptions] = None,
            **kwargs: Any) -> Any:
        """Read by the data source's id (single: the composite id; batch: the batch's id); keyword
        arguments are those of the constructor (``wait_for_completion``, ``timeout_seconds``...)."""
        read = get_batch if cls.source.batch else get_single
        return read(cls, KINDS[cls.source.api], resource_name, id, opts, kwargs)


def constructor(cls: type, source: Any, declare: Any) -> Any:
    """``cls.__init__`` with the signature of ``source`` (a data source's or a run's description): it binds the
    arguments and calls ``declare(self, kind, provider, resource_name, values, opts)``."""
    signature = resource_signature(source)

    def __init__(*args: Any, **kwargs: Any) -> None:
        values = bind(signature, args, kwargs)
        self, resource_name, opts = values.pop("self"), values.pop("resource_name"), values.pop("opts")
        provider = cls.provider_class()  # type: ignore[attr-defined]
        declare(self, KINDS[source.api], provider, resource_name, values, opts)

    __init__.__signature__ = signature  # type: ignore[attr-defined]
    __init__.__annotations__ = annotations(signature)
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__module__ = cls.__module__
    return plain_input_errors(__init__)


class StatefulAsyncInvocation(DataSourceResource, source=STATEFUL_ASYNC_INVOCATION,
                              provider=StatefulAsyncInvocationProvider):
    """A Function Compute stateful async invocation, read (never created) and optionally waited for.

    With ``wait_for_completion=True``, ``pulumi up`` waits until the invocation ends and fails the
    deployment when it ends in one of ``fail_on_statuses`` or does not end within ``timeout_seconds``;
    resources that depend on this one deploy only after it passes. ``pulumi preview`` never waits.
    ``StatefulAsyncInvocation.get(name, "service[.qualifier]/function/invocation_id")`` reads one by id.
    """


class StatefulAsyncInvocations(DataSourceResource, source=STATEFUL_ASYNC_INVOCATIONS,
                               provider=StatefulAsyncInvocationsProvider):
    """A batch of Function Compute stateful async invocations, read (never created) and optionally
    waited for as a whole.

    The batch: every invocation of ``service_name[.qualifier]/function_name`` whose id starts with
    ``invocation_id_prefix`` and that started within ``[started_after, started_before]``. With
    ``wait_for_completion=True``, ``pulumi up`` waits until at least ``expected_count`` (default 1)
    exist and all have ended; it fails as soon as one ends in ``fail_on_statuses`` (the message lists
    the first ten), or when ``timeout_seconds`` pass. ``pulumi preview`` never waits.

    ``counts`` (every status, zeros included), ``total``, ``all_terminal`` and ``all_succeeded`` describe
    the whole batch; ``ids`` (``service[.qualifier]/function/invocation_id``) and ``invocations`` (the
    single data source's fields) list its members oldest first, only those in ``statuses`` when given,
    at most ``limit``. Payloads are left out unless ``include_payloads``; then ``invocations`` is secret
    unless ``secret_payloads=False``. The read's id is ``service[.qualifier]/function?prefix=...``.
    """


class AsyncTask(DataSourceResource, source=ASYNC_TASK, provider=AsyncTaskProvider):
    """A Function Compute 3.0 async task (API 2023-03-30), read (never created) and optionally waited for.

    The FC 3.0 twin of :class:`StatefulAsyncInvocation`: the same gate (``wait_for_completion``,
    ``timeout_seconds``, ``fail_on_statuses``; ``pulumi preview`` never waits), for the task
    ``function_name[.qualifier]/task_id``. A function of an FC 2.0 service seen through FC 3.0 is
    named ``service$function``.
    """


class AsyncTasks(DataSourceResource, source=ASYNC_TASKS, provider=AsyncTasksProvider):
    """A batch of Function Compute 3.0 async tasks, read (never created) and optionally waited for as a whole.

    The FC 3.0 twin of :class:`StatefulAsyncInvocations`: every task of ``function_name[.qualifier]``
    whose id starts with ``task_id_prefix`` and that started within ``[started_after, started_before]``;
    the same gate, ``counts``, ``total``, ``all_terminal``, ``all_succeeded``, ``ids``
    (``function[.qualifier]/task_id``) and ``tasks`` (the single data source's fields). The read's id
    is ``function[.qualifier]?prefix=...``.
    """
