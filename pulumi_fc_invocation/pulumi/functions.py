"""The data sources' function forms: ``get_*`` (blocking) and ``get_*_output`` (an ``Output``), for
FC 2.0 invocations and FC 3.0 tasks, single and batch; each is the one generic form of its shape,
parametrized by the API kind, with the signature and the typed result (``@pulumi.output_type``) its
description (:mod:`..sources`) gives.

Dynamic providers have no Invoke, so a function form runs its gate in the program process: in an
update it waits when asked, then reads and judges (:func:`..gate.run.final_read`). Under the break-glass
switch, or in a refresh/destroy, it neither waits nor judges.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping, Sequence  # noqa: F401 - the annotations name Sequence (evaluated here)
from datetime import datetime
from typing import Any, Optional, Union

import pulumi
from pulumi import Input, Output

from ..errors import InvalidArgumentError
from ..fc2 import InvocationRef
from ..gate.gates import BatchGate, SingleGate
from ..gate.operation import skip_wait
from ..gate.outputs import batch_outputs
from ..gate.run import final_read, final_read_async
from ..gate.spec import BatchSpec, SingleSpec
from ..gate.verdict import verdict
from ..kinds import FC2, KINDS, Kind
from ..models import redacting
from ..sources import ASYNC_TASK, ASYNC_TASKS, STATEFUL_ASYNC_INVOCATION, STATEFUL_ASYNC_INVOCATIONS, DataSource, Field, \
    camel
from .operation import records_only_notice
from .program import all_plain, check_plain_bool, client_of, gate_secrets, mock_invoke, mocked_props, \
    plain_input_errors, resolve_spec, under_mocks, user_errors
from .resources import mocked_summary
from .signatures import annotations, bind, function_signature, type_text

__all__ = [
    "GetStatefulAsyncInvocationResult", "GetStatefulAsyncInvocationsResult", "GetAsyncTaskResult",
    "GetAsyncTasksResult", "get_stateful_async_invocation", "get_stateful_async_invocation_output",
    "get_stateful_async_invocations", "get_stateful_async_invocations_output", "get_async_task",
    "get_async_task_output", "get_async_tasks", "get_async_tasks_output", "FUNCTION_TOKEN", "BATCH_FUNCTION_TOKEN",
]

FUNCTION_TOKEN = FC2.single_function_token
BATCH_FUNCTION_TOKEN = FC2.batch_function_token
Time = Union[str, datetime]


# --- results: @pulumi.output_type classes, one attribute per field of the description ---------------


def _result_type(source: DataSource, name: str, doc: str) -> type:
    """What a function form returns: an ``@pulumi.output_type`` with a property per output (``id`` first).

    Payload attributes are secret ``Output``\\ s with ``secret_payloads`` (the default), so they stay
    encrypted if exported; so are the attributes given as secrets."""
    fields = source.function_outputs
    signature = inspect.Signature([inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)] + [
        inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=type_text(f.type))
        for f in fields])

    def __init__(self: Any, *old: Any, **values: Any) -> None:
        if old or "values" in values:
            values = _from_0_1(source, name, old, values)
        unknown = set(values) - {f.name for f in fields}
        if unknown:
            raise TypeError(f"{name}: unexpected {sorted(unknown)}")
        for field in fields:
            pulumi.set(self, field.name, values.get(field.name))

    def __repr__(self: Any) -> str:
        if source.batch:
            counts = {k: v for k, v in self.counts.items() if v}
            return f"{name}(id={self.id!r}, total={self.total!r}, counts={counts!r})"
        return f"{name}(id={self.id!r}, status={self.status!r})"

    __init__.__signature__ = signature  # type: ignore[attr-defined]
    namespace: dict[str, Any] = {"__doc__": doc, "__module__": __name__, "__qualname__": name,
                                 "__init__": __init__, "__repr__": __repr__, "source": source}
    for field in fields:
        namespace[field.name] = property(_getter(field))
    return pulumi.output_type(type(name, (), namespace))


def _from_0_1(source: DataSource, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """0.1's constructor, ``Result(values, id)`` (a dict of outputs, then the id; FC 2.0's single result
    made its id from the values when none was given): still served, with a DeprecationWarning."""
    id_default = None if source is STATEFUL_ASYNC_INVOCATION else inspect.Parameter.empty
    old = inspect.Signature([inspect.Parameter("values", inspect.Parameter.POSITIONAL_OR_KEYWORD),
                             inspect.Parameter("id", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=id_default)])
    try:
        bound = old.bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"{name}: {exc} (0.1's form is {name}(values, id); now {name}(id=..., <output>=...))") \
            from None
    bound.apply_defaults()
    if not isinstance(bound.arguments["values"], Mapping):
        raise TypeError(f"{name}: values must be a dict of outputs, not {type(bound.arguments['values']).__name__}")
    values, id_ = dict(bound.arguments["values"]), bound.arguments["id"]
    warnings.warn(f"{name}(values, id) is deprecated: pass the outputs as keywords, {name}(id=..., <output>=...)",
                  DeprecationWarning, stacklevel=3)
    if id_ is None and source is STATEFUL_ASYNC_INVOCATION:
        id_ = InvocationRef.join({**values, "qualifier": values.get("qualifier")})
    return {**values, "id": id_}


def _getter(field: Field) -> Any:
    def get(self: Any) -> Any:
        return pulumi.get(self, field.name)

    get.__name__ = get.__qualname__ = field.name
    get.__doc__ = field.doc
    return pulumi.getter(name=camel(field.name))(get)


GetStatefulAsyncInvocationResult = _result_type(
    STATEFUL_ASYNC_INVOCATION, "GetStatefulAsyncInvocationResult",
    "What ``get_stateful_async_invocation`` returns: the data source's outputs as attributes.")
GetStatefulAsyncInvocationsResult = _result_type(
    STATEFUL_ASYNC_INVOCATIONS, "GetStatefulAsyncInvocationsResult",
    "What ``get_stateful_async_invocations`` returns; with ``include_payloads`` and ``secret_payloads`` (the "
    "default), ``invocations`` is a secret ``Output``.")
GetAsyncTaskResult = _result_type(
    ASYNC_TASK, "GetAsyncTaskResult", "What ``get_async_task`` returns: the ``AsyncTask`` data source's outputs "
                                      "as attributes.")
GetAsyncTasksResult = _result_type(
    ASYNC_TASKS, "GetAsyncTasksResult", "What ``get_async_tasks`` returns; with ``include_payloads`` and "
                                        "``secret_payloads`` (the default), ``tasks`` is a secret ``Output``.")


def single_result(cls: type, spec: SingleSpec, result: Any, secret_payloads: bool) -> Any:
    kind = spec.kind
    values = kind.outputs(result)
    if values["qualifier"] is None:
        values["qualifier"] = spec.ref.qualifier
    for key in (kind.payload_keys if secret_payloads else ()) + tuple(spec.hidden & values.keys()):
        values[key] = Output.secret(values[key])
    return cls(id=spec.id, **values)


def batch_result(cls: type, spec: BatchSpec, summary: Any, waited: Optional[float]) -> Any:
    values = spec.props()
    values.update(batch_outputs(summary))
    values["waited_seconds"] = waited
    items = spec.kind.items_key
    secret = set(spec.hidden & values.keys())
    if spec.include_payloads and spec.secret_payloads:
        secret.add(items)
    if spec.identifies_members:
        secret |= {"ids", items}
    for key in secret:
        values[key] = Output.secret(values[key])
    return cls(id=spec.id, **values)


def _mocked_single(cls: type, spec: SingleSpec, values: dict[str, Any], secret_payloads: bool) -> Any:
    token = spec.kind.single_function_token
    result = spec.kind.mocked_result(spec.ref, values)
    if result is None:
        raise InvalidArgumentError("mock", values, f"the mock's call() for {token} must return the "
                                                   f"{spec.kind.noun}'s outputs, with a 'status'")
    with redacting(spec.secret_texts):
        verdict(spec.id, result, mocked_props(spec.props(), spec.wait), noun=spec.kind.noun)
    return single_result(cls, spec, result, secret_payloads)


def _judging(spec: Any) -> bool:
    return not (skip_wait() or records_only_notice(spec.id))  # the switch, or a refresh/destroy running the program


# --- the generic forms --------------------------------------------------------------------------


def single_now(kind: Kind, cls: type, secret_payloads: bool, args: dict[str, Any],
               opts: Optional[pulumi.InvokeOptions] = None) -> Any:
    """A single function form, blocking."""
    spec = SingleSpec.build(kind=kind, secret_payloads=secret_payloads, **args)
    if under_mocks():
        from pulumi.runtime import invoke

        values = invoke(kind.single_function_token, spec.props(), opts=opts).value or {}
        return _mocked_single(cls, spec, values, secret_payloads)
    with redacting(gate_secrets(spec)):
        result, _ = final_read(SingleGate(spec), client_of(spec), preview=pulumi.runtime.is_dry_run(),
                               judge=_judging(spec))
    return single_result(cls, spec, result, secret_payloads)


def single_output(kind: Kind, cls: type, secret_payloads: Any, args: dict[str, Any],
                  opts: Optional[pulumi.InvokeOptions] = None) -> Output[Any]:
    """A single function form as an ``Output``: inputs may be Outputs; the wait runs on the event loop."""
    check_plain_bool("secret_payloads", secret_payloads)

    async def run(spec: SingleSpec) -> Any:
        if under_mocks():
            return _mocked_single(cls, spec, await mock_invoke(kind.single_function_token, spec.props(), opts),
                                  secret_payloads)
        with redacting(gate_secrets(spec)):
            result, _ = await final_read_async(SingleGate(spec), client_of(spec),
                                               preview=pulumi.runtime.is_dry_run(), judge=_judging(spec))
        return single_result(cls, spec, result, secret_payloads)

    return resolve_spec(args, lambda values, hidden: SingleSpec.build(kind=kind, secret_payloads=secret_payloads,
                                                                      hidden=hidden, **values)).apply(
        lambda spec: user_errors(run(spec)))


def batch_now(kind: Kind, cls: type, secret_payloads: bool, args: dict[str, Any],
              opts: Optional[pulumi.InvokeOptions] = None) -> Any:
    """A batch function form, blocking."""
    spec = BatchSpec.build(kind=kind, secret_payloads=secret_payloads, **args)
    if under_mocks():
        from pulumi.runtime import invoke

        values = invoke(kind.batch_function_token, spec.props(), opts=opts).value or {}
        return batch_result(cls, spec, mocked_summary(spec, values.get(kind.items_key)), None)
    with redacting(gate_secrets(spec)):
        summary, waited = final_read(BatchGate(spec), client_of(spec), preview=pulumi.runtime.is_dry_run(),
                                     judge=_judging(spec))
    return batch_result(cls, spec, summary, waited)


def batch_output(kind: Kind, cls: type, secret_payloads: Any, args: dict[str, Any],
                 opts: Optional[pulumi.InvokeOptions] = None) -> Output[Any]:
    """A batch function form as an ``Output``."""
    check_plain_bool("secret_payloads", secret_payloads)
    if all_plain(args):
        BatchSpec.build(kind=kind, secret_payloads=secret_payloads, **args)

    async def run(spec: BatchSpec) -> Any:
        if under_mocks():
            values = await mock_invoke(kind.batch_function_token, spec.props(), opts)
            return batch_result(cls, spec, mocked_summary(spec, values.get(kind.items_key)), None)
        with redacting(gate_secrets(spec)):
            summary, waited = await final_read_async(BatchGate(spec), client_of(spec),
                                                     preview=pulumi.runtime.is_dry_run(), judge=_judging(spec))
        return batch_result(cls, spec, summary, waited)

    return resolve_spec(args, lambda values, hidden: BatchSpec.build(kind=kind, secret_payloads=secret_payloads,
                                                                     hidden=hidden, **values)).apply(
        lambda spec: user_errors(run(spec)))


# --- the function forms: one pair per data source, from its description ------------------------------


def _form(source: DataSource, result: type, *, output: bool) -> Any:
    """``get_x`` (blocking, plain values) or ``get_x_output`` (Inputs; the wait runs on the event loop).

    ``opts`` is Pulumi's usual ``InvokeOptions``: a dynamic data source has no provider to invoke, so the
    read is made here, and ``opts`` reaches only ``pulumi.runtime.set_mocks``' ``call`` in a unit test."""
    signature = function_signature(source, output=output, result=result.__name__)
    kind = KINDS[source.api]
    run = (batch_output if output else batch_now) if source.batch else (single_output if output else single_now)
    name = source.function + ("_output" if output else "")

    def form(*args: Any, **kwargs: Any) -> Any:
        values = bind(signature, args, kwargs)
        opts, secret_payloads = values.pop("opts"), values.pop("secret_payloads")
        return run(kind, result, secret_payloads, values, opts)

    form.__signature__ = signature  # type: ignore[attr-defined]
    form.__annotations__ = annotations(signature)
    form.__name__ = form.__qualname__ = name
    form.__module__ = __name__
    form.__doc__ = (f"The ``Output`` form of ``{source.function}``: inputs may be Outputs, and the wait runs on "
                    f"the program's event loop." if output else
                    f"Read {source.what} now (blocking; in ``pulumi up`` it waits first when asked to).")
    return plain_input_errors(form)


get_stateful_async_invocation = _form(STATEFUL_ASYNC_INVOCATION, GetStatefulAsyncInvocationResult, output=False)
get_stateful_async_invocation_output = _form(STATEFUL_ASYNC_INVOCATION, GetStatefulAsyncInvocationResult,
                                             output=True)
get_stateful_async_invocations = _form(STATEFUL_ASYNC_INVOCATIONS, GetStatefulAsyncInvocationsResult, output=False)
get_stateful_async_invocations_output = _form(STATEFUL_ASYNC_INVOCATIONS, GetStatefulAsyncInvocationsResult,
                                              output=True)
get_async_task = _form(ASYNC_TASK, GetAsyncTaskResult, output=False)
get_async_task_output = _form(ASYNC_TASK, GetAsyncTaskResult, output=True)
get_async_tasks = _form(ASYNC_TASKS, GetAsyncTasksResult, output=False)
get_async_tasks_output = _form(ASYNC_TASKS, GetAsyncTasksResult, output=True)
