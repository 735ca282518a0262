"""The data sources' function forms: ``get_*`` (blocking) and ``get_*_output`` (an ``Output``), for
FC 2.0 invocations and FC 3.0 tasks, single and batch; each is the one generic form of its shape,
parametrized by the API kind, behind an explicit public signature.

Dynamic providers have no Invoke, so a function form runs its gate in the program process: in an
update it waits when asked, then reads and judges (:func:`.gating.final_read`). Under the break-glass
switch, or in a refresh/destroy, it neither waits nor judges.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional, Sequence, Union

import pulumi
from pulumi import Input, Output

from ..batching import BatchSpec
from ..errors import InvalidArgumentError
from ..kinds import FC2, FC3, Kind
from ..models import redacting
from .gating import BatchGate, SingleGate, SingleSpec, batch_outputs, final_read, final_read_async, skip_wait, verdict
from .operation import records_only_notice
from .program import all_plain, check_plain_bool, client_of, gate_secrets, mock_invoke, mocked_props, \
    plain_input_errors, resolve_spec, under_mocks
from .resources import mocked_summary

__all__ = [
    "GetStatefulAsyncInvocationResult", "GetStatefulAsyncInvocationsResult", "GetAsyncTaskResult",
    "GetAsyncTasksResult", "get_stateful_async_invocation", "get_stateful_async_invocation_output",
    "get_stateful_async_invocations", "get_stateful_async_invocations_output", "get_async_task",
    "get_async_task_output", "get_async_tasks", "get_async_tasks_output", "FUNCTION_TOKEN", "BATCH_FUNCTION_TOKEN",
]

FUNCTION_TOKEN = FC2.single_function_token
BATCH_FUNCTION_TOKEN = FC2.batch_function_token
Time = Union[str, datetime]


# --- results ------------------------------------------------------------------------------------


class _Result:
    """What a function form returns: the data source's outputs as attributes, plus ``id``.

    Payload attributes are secret ``Output``\\ s with ``secret_payloads`` (the default), so they stay
    encrypted if exported; so are the attributes given as secrets.
    """

    def __init__(self, values: dict[str, Any], id: str) -> None:
        self.__dict__.update(values)
        self.id = id

    def __repr__(self) -> str:
        if "total" in self.__dict__:
            counts = {k: v for k, v in self.counts.items() if v}  # type: ignore[attr-defined]
            return f"{type(self).__name__}(id={self.id!r}, total={self.total!r}, counts={counts!r})"  # type: ignore[attr-defined]
        return f"{type(self).__name__}(id={self.id!r}, status={self.status!r})"  # type: ignore[attr-defined]


class GetStatefulAsyncInvocationResult(_Result):
    """What ``get_stateful_async_invocation`` returns: the data source's outputs as attributes."""

    def __init__(self, values: dict[str, Any], id: Optional[str] = None) -> None:
        # The resource's id (what the program asked for), not FC's echo (``svc.LATEST/...``).
        super().__init__(values, id if id is not None else
                         f"{values['service_name']}{'.' + values['qualifier'] if values.get('qualifier') else ''}/"
                         f"{values['function_name']}/{values['invocation_id']}")


class GetStatefulAsyncInvocationsResult(_Result):
    """What ``get_stateful_async_invocations`` returns; with ``include_payloads`` and ``secret_payloads``
    (the default), ``invocations`` is a secret ``Output``."""


class GetAsyncTaskResult(_Result):
    """What ``get_async_task`` returns: the ``AsyncTask`` data source's outputs as attributes."""


class GetAsyncTasksResult(_Result):
    """What ``get_async_tasks`` returns; with ``include_payloads`` and ``secret_payloads`` (the
    default), ``tasks`` is a secret ``Output``."""


def single_result(cls: type, spec: SingleSpec, result: Any, secret_payloads: bool) -> Any:
    kind = spec.kind
    values = kind.outputs(result)
    if values["qualifier"] is None:
        values["qualifier"] = spec.ref.qualifier
    for key in (kind.payload_keys if secret_payloads else ()) + tuple(spec.hidden & values.keys()):
        values[key] = Output.secret(values[key])
    return cls(values, spec.id)


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
    return cls(values, spec.id)


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


def single_now(kind: Kind, cls: type, secret_payloads: bool, args: dict[str, Any]) -> Any:
    """A single function form, blocking."""
    spec = SingleSpec.build(kind=kind, **args)
    if under_mocks():
        from pulumi.runtime import invoke

        return _mocked_single(cls, spec, invoke(kind.single_function_token, spec.props()).value or {}, secret_payloads)
    with redacting(gate_secrets(spec)):
        result, _ = final_read(SingleGate(spec), client_of(spec), preview=pulumi.runtime.is_dry_run(),
                               judge=_judging(spec))
    return single_result(cls, spec, result, secret_payloads)


def single_output(kind: Kind, cls: type, secret_payloads: Any, args: dict[str, Any]) -> Output[Any]:
    """A single function form as an ``Output``: inputs may be Outputs; the wait runs on the event loop."""
    check_plain_bool("secret_payloads", secret_payloads)

    async def run(spec: SingleSpec) -> Any:
        if under_mocks():
            return _mocked_single(cls, spec, await mock_invoke(kind.single_function_token, spec.props()),
                                  secret_payloads)
        with redacting(gate_secrets(spec)):
            result, _ = await final_read_async(SingleGate(spec), client_of(spec),
                                               preview=pulumi.runtime.is_dry_run(), judge=_judging(spec))
        return single_result(cls, spec, result, secret_payloads)

    return resolve_spec(args, lambda values, hidden: SingleSpec.build(kind=kind, hidden=hidden, **values)).apply(run)


def batch_now(kind: Kind, cls: type, secret_payloads: bool, args: dict[str, Any]) -> Any:
    """A batch function form, blocking."""
    spec = BatchSpec.build(kind=kind, secret_payloads=secret_payloads, **args)
    if under_mocks():
        from pulumi.runtime import invoke

        values = invoke(kind.batch_function_token, spec.props()).value or {}
        return batch_result(cls, spec, mocked_summary(spec, values.get(kind.items_key)), None)
    with redacting(gate_secrets(spec)):
        summary, waited = final_read(BatchGate(spec), client_of(spec), preview=pulumi.runtime.is_dry_run(),
                                     judge=_judging(spec))
    return batch_result(cls, spec, summary, waited)


def batch_output(kind: Kind, cls: type, secret_payloads: Any, args: dict[str, Any]) -> Output[Any]:
    """A batch function form as an ``Output``."""
    check_plain_bool("secret_payloads", secret_payloads)
    if all_plain(args):
        BatchSpec.build(kind=kind, secret_payloads=secret_payloads, **args)

    async def run(spec: BatchSpec) -> Any:
        if under_mocks():
            values = await mock_invoke(kind.batch_function_token, spec.props())
            return batch_result(cls, spec, mocked_summary(spec, values.get(kind.items_key)), None)
        with redacting(gate_secrets(spec)):
            summary, waited = await final_read_async(BatchGate(spec), client_of(spec),
                                                     preview=pulumi.runtime.is_dry_run(), judge=_judging(spec))
        return batch_result(cls, spec, summary, waited)

    return resolve_spec(args, lambda values, hidden: BatchSpec.build(kind=kind, secret_payloads=secret_payloads,
                                                                     hidden=hidden, **values)).apply(run)


# --- FC 2.0 -------------------------------------------------------------------------------------


@plain_input_errors
def get_stateful_async_invocation(
    service_name: str,
    function_name: str,
    invocation_id: str,
    qualifier: Optional[str] = None,
    *,
    wait_for_completion: bool = False,
    timeout_seconds: float = 1800,
    fail_on_statuses: Optional[Sequence[str]] = None,
    poll_interval_seconds: float = 1.0,
    max_poll_interval_seconds: Optional[float] = None,
    secret_payloads: bool = True,
    region: Optional[str] = None,
    account_id: Optional[str] = None,
    endpoint: Optional[str] = None,
    use_duration_history: bool = True,
) -> GetStatefulAsyncInvocationResult:
    """Read one invocation now (blocking; in ``pulumi up`` it waits first when asked to)."""
    return single_now(FC2, GetStatefulAsyncInvocationResult, secret_payloads, dict(
        service_name=service_name, function_name=function_name, invocation_id=invocation_id, qualifier=qualifier,
        wait_for_completion=wait_for_completion, timeout_seconds=timeout_seconds, fail_on_statuses=fail_on_statuses,
        poll_interval_seconds=poll_interval_seconds, max_poll_interval_seconds=max_poll_interval_seconds,
        region=region, account_id=account_id, endpoint=endpoint,
        use_duration_history=use_duration_history))


@plain_input_errors
def get_stateful_async_invocation_output(
    service_name: Input[str],
    function_name: Input[str],
    invocation_id: Input[str],
    qualifier: Optional[Input[str]] = None,
    *,
    wait_for_completion: Input[bool] = False,
    timeout_seconds: Input[float] = 1800,
    fail_on_statuses: Optional[Input[Sequence[str]]] = None,
    poll_interval_seconds: Input[float] = 1.0,
    max_poll_interval_seconds: Optional[Input[float]] = None,
    secret_payloads: bool = True,
    region: Optional[Input[str]] = None,
    account_id: Optional[Input[str]] = None,
    endpoint: Optional[Input[str]] = None,
    use_duration_history: Input[bool] = True,
) -> Output[GetStatefulAsyncInvocationResult]:
    """The ``Output`` form: inputs may be Outputs, and the wait runs on the program's event loop."""
    return single_output(FC2, GetStatefulAsyncInvocationResult, secret_payloads, dict(
        service_name=service_name, function_name=function_name, invocation_id=invocation_id, qualifier=qualifier,
        wait_for_completion=wait_for_completion, timeout_seconds=timeout_seconds, fail_on_statuses=fail_on_statuses,
        poll_interval_seconds=poll_interval_seconds, max_poll_interval_seconds=max_poll_interval_seconds,
        region=region, account_id=account_id, endpoint=endpoint,
        use_duration_history=use_duration_history))


@plain_input_errors
def get_stateful_async_invocations(
    service_name: str,
    function_name: str,
    qualifier: Optional[str] = None,
    *,
    invocation_id_prefix: Optional[str] = None,
    statuses: Optional[Sequence[str]] = None,
    started_after: Optional[Time] = None,
    started_before: Optional[Time] = None,
    limit: Optional[int] = None,
    include_payloads: bool = False,
    wait_for_completion: bool = False,
    expected_count: Optional[int] = None,
    timeout_seconds: float = 1800,
    fail_on_statuses: Optional[Sequence[str]] = None,
    poll_interval_seconds: float = 1.0,
    max_poll_interval_seconds: Optional[float] = None,
    secret_payloads: bool = True,
    region: Optional[str] = None,
    account_id: Optional[str] = None,
    endpoint: Optional[str] = None,
    use_duration_history: bool = True,
) -> GetStatefulAsyncInvocationsResult:
    """Read a batch now (blocking; in ``pulumi up`` it waits first when asked to)."""
    return batch_now(FC2, GetStatefulAsyncInvocationsResult, secret_payloads, dict(
        service_name=service_name, function_name=function_name, qualifier=qualifier,
        invocation_id_prefix=invocation_id_prefix, statuses=statuses, started_after=started_after,
        started_before=started_before, limit=limit, include_payloads=include_payloads,
        wait_for_completion=wait_for_completion, expected_count=expected_count, timeout_seconds=timeout_seconds,
        fail_on_statuses=fail_on_statuses, poll_interval_seconds=poll_interval_seconds,
        max_poll_interval_seconds=max_poll_interval_seconds, region=region, account_id=account_id,
        endpoint=endpoint, use_duration_history=use_duration_history))


@plain_input_errors
def get_stateful_async_invocations_output(
    service_name: Input[str],
    function_name: Input[str],
    qualifier: Optional[Input[str]] = None,
    *,
    invocation_id_prefix: Optional[Input[str]] = None,
    statuses: Optional[Input[Sequence[str]]] = None,
    started_after: Optional[Input[Time]] = None,
    started_before: Optional[Input[Time]] = None,
    limit: Optional[Input[int]] = None,
    include_payloads: Input[bool] = False,
    wait_for_completion: Input[bool] = False,
    expected_count: Optional[Input[int]] = None,
    timeout_seconds: Input[float] = 1800,
    fail_on_statuses: Optional[Input[Sequence[str]]] = None,
    poll_interval_seconds: Input[float] = 1.0,
    max_poll_interval_seconds: Optional[Input[float]] = None,
    secret_payloads: bool = True,
    region: Optional[Input[str]] = None,
    account_id: Optional[Input[str]] = None,
    endpoint: Optional[Input[str]] = None,
    use_duration_history: Input[bool] = True,
) -> Output[GetStatefulAsyncInvocationsResult]:
    """The ``Output`` form: inputs may be Outputs, and the wait runs on the program's event loop."""
    return batch_output(FC2, GetStatefulAsyncInvocationsResult, secret_payloads, dict(
        service_name=service_name, function_name=function_name, qualifier=qualifier,
        invocation_id_prefix=invocation_id_prefix, statuses=statuses, started_after=started_after,
        started_before=started_before, limit=limit, include_payloads=include_payloads,
        wait_for_completion=wait_for_completion, expected_count=expected_count, timeout_seconds=timeout_seconds,
        fail_on_statuses=fail_on_statuses, poll_interval_seconds=poll_interval_seconds,
        max_poll_interval_seconds=max_poll_interval_seconds, region=region, account_id=account_id,
        endpoint=endpoint, use_duration_history=use_duration_history))


# --- FC 3.0 -------------------------------------------------------------------------------------


@plain_input_errors
def get_async_task(
    function_name: str,
    task_id: str,
    qualifier: Optional[str] = None,
    *,
    wait_for_completion: bool = False,
    timeout_seconds: float = 1800,
    fail_on_statuses: Optional[Sequence[str]] = None,
    poll_interval_seconds: float = 1.0,
    max_poll_interval_seconds: Optional[float] = None,
    secret_payloads: bool = True,
    region: Optional[str] = None,
    account_id: Optional[str] = None,
    endpoint: Optional[str] = None,
    use_duration_history: bool = True,
) -> GetAsyncTaskResult:
    """Read one FC 3.0 async task now (blocking; in ``pulumi up`` it waits first when asked to)."""
    return single_now(FC3, GetAsyncTaskResult, secret_payloads, dict(
        function_name=function_name, task_id=task_id, qualifier=qualifier, wait_for_completion=wait_for_completion,
        timeout_seconds=timeout_seconds, fail_on_statuses=fail_on_statuses,
        poll_interval_seconds=poll_interval_seconds, max_poll_interval_seconds=max_poll_interval_seconds,
        region=region, account_id=account_id, endpoint=endpoint,
        use_duration_history=use_duration_history))


@plain_input_errors
def get_async_task_output(
    function_name: Input[str],
    task_id: Input[str],
    qualifier: Optional[Input[str]] = None,
    *,
    wait_for_completion: Input[bool] = False,
    timeout_seconds: Input[float] = 1800,
    fail_on_statuses: Optional[Input[Sequence[str]]] = None,
    poll_interval_seconds: Input[float] = 1.0,
    max_poll_interval_seconds: Optional[Input[float]] = None,
    secret_payloads: bool = True,
    region: Optional[Input[str]] = None,
    account_id: Optional[Input[str]] = None,
    endpoint: Optional[Input[str]] = None,
    use_duration_history: Input[bool] = True,
) -> Output[GetAsyncTaskResult]:
    """The ``Output`` form: inputs may be Outputs, and the wait runs on the program's event loop."""
    return single_output(FC3, GetAsyncTaskResult, secret_payloads, dict(
        function_name=function_name, task_id=task_id, qualifier=qualifier, wait_for_completion=wait_for_completion,
        timeout_seconds=timeout_seconds, fail_on_statuses=fail_on_statuses,
        poll_interval_seconds=poll_interval_seconds, max_poll_interval_seconds=max_poll_interval_seconds,
        region=region, account_id=account_id, endpoint=endpoint,
        use_duration_history=use_duration_history))


@plain_input_errors
def get_async_tasks(
    function_name: str,
    qualifier: Optional[str] = None,
    *,
    task_id_prefix: Optional[str] = None,
    statuses: Optional[Sequence[str]] = None,
    started_after: Optional[Time] = None,
    started_before: Optional[Time] = None,
    limit: Optional[int] = None,
    include_payloads: bool = False,
    wait_for_completion: bool = False,
    expected_count: Optional[int] = None,
    timeout_seconds: float = 1800,
    fail_on_statuses: Optional[Sequence[str]] = None,
    poll_interval_seconds: float = 1.0,
    max_poll_interval_seconds: Optional[float] = None,
    secret_payloads: bool = True,
    region: Optional[str] = None,
    account_id: Optional[str] = None,
    endpoint: Optional[str] = None,
    use_duration_history: bool = True,
) -> GetAsyncTasksResult:
    """Read a batch of FC 3.0 tasks now (blocking; in ``pulumi up`` it waits first when asked to)."""
    return batch_now(FC3, GetAsyncTasksResult, secret_payloads, dict(
        function_name=function_name, qualifier=qualifier, task_id_prefix=task_id_prefix, statuses=statuses,
        started_after=started_after, started_before=started_before, limit=limit, include_payloads=include_payloads,
        wait_for_completion=wait_for_completion, expected_count=expected_count, timeout_seconds=timeout_seconds,
        fail_on_statuses=fail_on_statuses, poll_interval_seconds=poll_interval_seconds,
        max_poll_interval_seconds=max_poll_interval_seconds, region=region, account_id=account_id,
        endpoint=endpoint, use_duration_history=use_duration_history))


@plain_input_errors
def get_async_tasks_output(
    function_name: Input[str],
    qualifier: Optional[Input[str]] = None,
    *,
    task_id_prefix: Optional[Input[str]] = None,
    statuses: Optional[Input[Sequence[str]]] = None,
    started_after: Optional[Input[Time]] = None,
    started_before: Optional[Input[Time]] = None,
    limit: Optional[Input[int]] = None,
    include_payloads: Input[bool] = False,
    wait_for_completion: Input[bool] = False,
    expected_count: Optional[Input[int]] = None,
    timeout_seconds: Input[float] = 1800,
    fail_on_statuses: Optional[Input[Sequence[str]]] = None,
    poll_interval_seconds: Input[float] = 1.0,
    max_poll_interval_seconds: Optional[Input[float]] = None,
    secret_payloads: bool = True,
    region: Optional[Input[str]] = None,
    account_id: Optional[Input[str]] = None,
    endpoint: Optional[Input[str]] = None,
    use_duration_history: Input[bool] = True,
) -> Output[GetAsyncTasksResult]:
    """The ``Output`` form: inputs may be Outputs, and the wait runs on the program's event loop."""
    return batch_output(FC3, GetAsyncTasksResult, secret_payloads, dict(
        function_name=function_name, qualifier=qualifier, task_id_prefix=task_id_prefix, statuses=statuses,
        started_after=started_after, started_before=started_before, limit=limit, include_payloads=include_payloads,
        wait_for_completion=wait_for_completion, expected_count=expected_count, timeout_seconds=timeout_seconds,
        fail_on_statuses=fail_on_statuses, poll_interval_seconds=poll_interval_seconds,
        max_poll_interval_seconds=max_poll_interval_seconds, region=region, account_id=account_id,
        endpoint=endpoint, use_duration_history=use_duration_history))
