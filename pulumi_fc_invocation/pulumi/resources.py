"""The data sources: ``StatefulAsyncInvocation`` / ``StatefulAsyncInvocations`` (FC 2.0) and
``AsyncTask`` / ``AsyncTasks`` (FC 3.0), one declaration each for the single and the batch form.

Each is a dynamic resource registered as a *read* (``ResourceOptions(id=...)``) whose id resolves
only once the gate opens. The gate runs in the program's event loop (:func:`.program.gate_in_program`,
which gives the verdict there, with a readable message); the engine's read, in the provider host,
fetches the final state (:mod:`.providers`). The classes only spell out their arguments and output
types: everything else is :func:`declare_single` / :func:`declare_batch`, parametrized by the API kind.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Optional, Sequence, Union

import pulumi
import pulumi.dynamic
from pulumi import Input, Output, ResourceOptions

from ..batching import BatchSpec, BatchSummary, batch_verdict, parse_batch_id
from ..errors import InvalidArgumentError
from ..kinds import FC2, FC3, Kind
from ..models import redacting
from .gating import SingleSpec, batch_output_keys, skip_wait, verdict
from .operation import records_only
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

__all__ = [
    "StatefulAsyncInvocation", "StatefulAsyncInvocations", "AsyncTask", "AsyncTasks", "declare_single",
    "declare_batch", "judge_single_mock", "mocked_summary", "TYPE_TOKEN", "BATCH_TYPE_TOKEN", "OUTPUT_KEYS",
    "PAYLOAD_OUTPUTS", "BATCH_OUTPUT_KEYS",
]

TYPE_TOKEN = FC2.single_type_token
BATCH_TYPE_TOKEN = FC2.batch_type_token
OUTPUT_KEYS = FC2.output_keys
PAYLOAD_OUTPUTS = FC2.payload_keys
BATCH_OUTPUT_KEYS = batch_output_keys(FC2)
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


def _check_name(resource_name: Any) -> None:
    if not isinstance(resource_name, str) or not resource_name:
        raise InvalidArgumentError("resource_name", resource_name, "must be a non-empty string")


def declare_single(resource: pulumi.dynamic.Resource, kind: Kind, provider: pulumi.dynamic.ResourceProvider,
                   resource_name: str, args: dict[str, Any], secret_payloads: Any,
                   opts: Optional[ResourceOptions]) -> None:
    """Register a single data source of ``kind`` (its arguments in ``args``) with its gate."""
    _check_name(resource_name)
    check_plain_bool("secret_payloads", secret_payloads)
    # Plain arguments: refuse bad ones here, with a plain traceback, and gate on the spec itself.
    plain = SingleSpec.build(kind=kind, **args) if all_plain(args) else None
    spec: Output[SingleSpec] = resolve_spec(args, lambda values, hidden: SingleSpec.build(kind=kind, hidden=hidden,
                                                                                          **values), plain)
    opts = opts or ResourceOptions()
    target = log_target(resource_name, kind.single_type_token, opts)
    props: dict[str, Any] = {key: None for key in kind.output_keys}
    waited, gated_id = gated(spec, plain, args, props, target)
    props["secret_payloads"] = secret_payloads
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
                  resource_name: str, args: dict[str, Any], secret_payloads: Any,
                  opts: Optional[ResourceOptions]) -> None:
    """Register a batch data source of ``kind`` (its arguments in ``args``) with its gate."""
    _check_name(resource_name)
    check_plain_bool("secret_payloads", secret_payloads)
    plain = BatchSpec.build(kind=kind, secret_payloads=secret_payloads, **args) if all_plain(args) else None
    spec: Output[BatchSpec] = resolve_spec(
        args, lambda values, hidden: BatchSpec.build(kind=kind, secret_payloads=secret_payloads, hidden=hidden,
                                                     **values), plain)
    opts = opts or ResourceOptions()
    target = log_target(resource_name, kind.batch_type_token, opts)
    props: dict[str, Any] = {key: None for key in batch_output_keys(kind)}
    waited, gated_id = gated(spec, plain, args, props, target)
    if plain is None:
        for key in ("ids", kind.items_key):  # a secret input (None) makes the same-named output secret
            props[key] = spec.apply(lambda s: Output.secret(None) if s.identifies_members else None)
    props["secret_payloads"] = secret_payloads
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
    fields = {key: parsed.apply(lambda a, k=key: a.get(k)) for key in
              kind.target_keys + (kind.prefix_key, "statuses", "started_after", "started_before", "limit")}
    return cls(resource_name, opts=opts, **{**fields, **kwargs})


# --- FC 2.0 -------------------------------------------------------------------------------------


class StatefulAsyncInvocation(pulumi.dynamic.Resource, module="fc", name="StatefulAsyncInvocation"):
    """A Function Compute stateful async invocation, read (never created) and optionally waited for.

    With ``wait_for_completion=True``, ``pulumi up`` waits until the invocation ends and fails the
    deployment when it ends in one of ``fail_on_statuses`` or does not end within ``timeout_seconds``;
    resources that depend on this one deploy only after it passes. ``pulumi preview`` never waits.
    """

    service_name: Output[str]
    function_name: Output[str]
    qualifier: Output[Optional[str]]
    invocation_id: Output[str]
    request_id: Output[str]
    status: Output[str]
    destination_status: Output[str]
    invocation_error_message: Output[str]
    invocation_payload: Output[Optional[str]]
    return_payload: Output[Optional[str]]
    already_retried_times: Output[int]
    started_time: Output[Optional[str]]
    end_time: Output[Optional[str]]
    duration_ms: Output[Optional[int]]
    instance_id: Output[str]
    events: Output[list]
    is_terminal: Output[bool]
    wait_for_completion: Output[bool]
    timeout_seconds: Output[float]
    fail_on_statuses: Output[list]
    poll_interval_seconds: Output[float]
    max_poll_interval_seconds: Output[Optional[float]]
    secret_payloads: Output[bool]
    region: Output[Optional[str]]
    account_id: Output[Optional[str]]
    endpoint: Output[Optional[str]]
    use_duration_history: Output[bool]
    waited_seconds: Output[Optional[float]]

    @plain_input_errors
    def __init__(
        self,
        resource_name: str,
        service_name: Input[str] = None,  # type: ignore[assignment]
        function_name: Input[str] = None,  # type: ignore[assignment]
        invocation_id: Input[str] = None,  # type: ignore[assignment]
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
        opts: Optional[ResourceOptions] = None,
    ) -> None:
        args = dict(service_name=service_name, function_name=function_name, invocation_id=invocation_id,
                    qualifier=qualifier, wait_for_completion=wait_for_completion, timeout_seconds=timeout_seconds,
                    fail_on_statuses=fail_on_statuses, poll_interval_seconds=poll_interval_seconds,
                    max_poll_interval_seconds=max_poll_interval_seconds, region=region, account_id=account_id,
                    endpoint=endpoint, use_duration_history=use_duration_history)
        declare_single(self, FC2, StatefulAsyncInvocationProvider(), resource_name, args, secret_payloads, opts)

    @staticmethod
    def get(resource_name: str, id: Input[str], opts: Optional[ResourceOptions] = None,
            **kwargs: Any) -> "StatefulAsyncInvocation":
        """Read an invocation by composite id ``service[.qualifier]/function/invocation_id``.

        Keyword arguments are those of the constructor (``wait_for_completion``, ``timeout_seconds``...).
        """
        return get_single(StatefulAsyncInvocation, FC2, resource_name, id, opts, kwargs)


class StatefulAsyncInvocations(pulumi.dynamic.Resource, module="fc", name="StatefulAsyncInvocations"):
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
    unless ``secret_payloads=False``. The read's id is ``service[.qualifier]/function?prefix=...``
    (see ``batching.format_batch_id``).
    """

    service_name: Output[str]
    function_name: Output[str]
    qualifier: Output[Optional[str]]
    invocation_id_prefix: Output[Optional[str]]
    statuses: Output[list]
    started_after: Output[Optional[str]]
    started_before: Output[Optional[str]]
    limit: Output[Optional[int]]
    include_payloads: Output[bool]
    secret_payloads: Output[bool]
    wait_for_completion: Output[bool]
    expected_count: Output[Optional[int]]
    timeout_seconds: Output[float]
    fail_on_statuses: Output[list]
    poll_interval_seconds: Output[float]
    max_poll_interval_seconds: Output[Optional[float]]
    region: Output[Optional[str]]
    account_id: Output[Optional[str]]
    endpoint: Output[Optional[str]]
    use_duration_history: Output[bool]
    ids: Output[list]
    invocations: Output[list]
    counts: Output[Mapping[str, int]]
    total: Output[int]
    all_terminal: Output[bool]
    all_succeeded: Output[bool]
    waited_seconds: Output[Optional[float]]

    @plain_input_errors
    def __init__(
        self,
        resource_name: str,
        service_name: Input[str] = None,  # type: ignore[assignment]
        function_name: Input[str] = None,  # type: ignore[assignment]
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
        opts: Optional[ResourceOptions] = None,
    ) -> None:
        args = dict(service_name=service_name, function_name=function_name, qualifier=qualifier,
                    invocation_id_prefix=invocation_id_prefix, statuses=statuses, started_after=started_after,
                    started_before=started_before, limit=limit, include_payloads=include_payloads,
                    wait_for_completion=wait_for_completion, expected_count=expected_count,
                    timeout_seconds=timeout_seconds, fail_on_statuses=fail_on_statuses,
                    poll_interval_seconds=poll_interval_seconds,
                    max_poll_interval_seconds=max_poll_interval_seconds, region=region, account_id=account_id,
                    endpoint=endpoint, use_duration_history=use_duration_history)
        declare_batch(self, FC2, StatefulAsyncInvocationsProvider(), resource_name, args, secret_payloads, opts)

    @staticmethod
    def get(resource_name: str, id: Input[str], opts: Optional[ResourceOptions] = None,
            **kwargs: Any) -> "StatefulAsyncInvocations":
        """Read a batch by its id ``service[.qualifier]/function[?prefix=..&statuses=..&...]``.

        Keyword arguments are those of the constructor (``wait_for_completion``, ``expected_count``...).
        """
        return get_batch(StatefulAsyncInvocations, FC2, resource_name, id, opts, kwargs)


# --- FC 3.0 -------------------------------------------------------------------------------------


class AsyncTask(pulumi.dynamic.Resource, module="fc", name="AsyncTask"):
    """A Function Compute 3.0 async task (API 2023-03-30), read (never created) and optionally waited for.

    The FC 3.0 twin of :class:`StatefulAsyncInvocation`: the same gate (``wait_for_completion``,
    ``timeout_seconds``, ``fail_on_statuses``; ``pulumi preview`` never waits), for the task
    ``function_name[.qualifier]/task_id``. A function of an FC 2.0 service seen through FC 3.0 is
    named ``service$function``.
    """

    function_name: Output[str]
    qualifier: Output[Optional[str]]
    task_id: Output[str]
    function_arn: Output[str]
    request_id: Output[str]
    status: Output[str]
    destination_status: Output[str]
    task_error_message: Output[str]
    task_payload: Output[Optional[str]]
    return_payload: Output[Optional[str]]
    already_retried_times: Output[int]
    started_time: Output[Optional[str]]
    end_time: Output[Optional[str]]
    duration_ms: Output[Optional[int]]
    instance_id: Output[str]
    events: Output[list]
    is_terminal: Output[bool]
    wait_for_completion: Output[bool]
    timeout_seconds: Output[float]
    fail_on_statuses: Output[list]
    poll_interval_seconds: Output[float]
    max_poll_interval_seconds: Output[Optional[float]]
    secret_payloads: Output[bool]
    region: Output[Optional[str]]
    account_id: Output[Optional[str]]
    endpoint: Output[Optional[str]]
    use_duration_history: Output[bool]
    waited_seconds: Output[Optional[float]]

    @plain_input_errors
    def __init__(
        self,
        resource_name: str,
        function_name: Input[str] = None,  # type: ignore[assignment]
        task_id: Input[str] = None,  # type: ignore[assignment]
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
        opts: Optional[ResourceOptions] = None,
    ) -> None:
        args = dict(function_name=function_name, task_id=task_id, qualifier=qualifier,
                    wait_for_completion=wait_for_completion, timeout_seconds=timeout_seconds,
                    fail_on_statuses=fail_on_statuses, poll_interval_seconds=poll_interval_seconds,
                    max_poll_interval_seconds=max_poll_interval_seconds, region=region, account_id=account_id,
                    endpoint=endpoint, use_duration_history=use_duration_history)
        declare_single(self, FC3, AsyncTaskProvider(), resource_name, args, secret_payloads, opts)

    @staticmethod
    def get(resource_name: str, id: Input[str], opts: Optional[ResourceOptions] = None, **kwargs: Any) -> "AsyncTask":
        """Read a task by composite id ``function[.qualifier]/task_id``.

        Keyword arguments are those of the constructor (``wait_for_completion``, ``timeout_seconds``...).
        """
        return get_single(AsyncTask, FC3, resource_name, id, opts, kwargs)


class AsyncTasks(pulumi.dynamic.Resource, module="fc", name="AsyncTasks"):
    """A batch of Function Compute 3.0 async tasks, read (never created) and optionally waited for as a whole.

    The FC 3.0 twin of :class:`StatefulAsyncInvocations`: every task of ``function_name[.qualifier]``
    whose id starts with ``task_id_prefix`` and that started within ``[started_after, started_before]``;
    the same gate, ``counts``, ``total``, ``all_terminal``, ``all_succeeded``, ``ids``
    (``function[.qualifier]/task_id``) and ``tasks`` (the single data source's fields). The read's id
    is ``function[.qualifier]?prefix=...``.
    """

    function_name: Output[str]
    qualifier: Output[Optional[str]]
    task_id_prefix: Output[Optional[str]]
    statuses: Output[list]
    started_after: Output[Optional[str]]
    started_before: Output[Optional[str]]
    limit: Output[Optional[int]]
    include_payloads: Output[bool]
    secret_payloads: Output[bool]
    wait_for_completion: Output[bool]
    expected_count: Output[Optional[int]]
    timeout_seconds: Output[float]
    fail_on_statuses: Output[list]
    poll_interval_seconds: Output[float]
    max_poll_interval_seconds: Output[Optional[float]]
    region: Output[Optional[str]]
    account_id: Output[Optional[str]]
    endpoint: Output[Optional[str]]
    use_duration_history: Output[bool]
    ids: Output[list]
    tasks: Output[list]
    counts: Output[Mapping[str, int]]
    total: Output[int]
    all_terminal: Output[bool]
    all_succeeded: Output[bool]
    waited_seconds: Output[Optional[float]]

    @plain_input_errors
    def __init__(
        self,
        resource_name: str,
        function_name: Input[str] = None,  # type: ignore[assignment]
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
        opts: Optional[ResourceOptions] = None,
    ) -> None:
        args = dict(function_name=function_name, qualifier=qualifier, task_id_prefix=task_id_prefix,
                    statuses=statuses, started_after=started_after, started_before=started_before, limit=limit,
                    include_payloads=include_payloads, wait_for_completion=wait_for_completion,
                    expected_count=expected_count, timeout_seconds=timeout_seconds,
                    fail_on_statuses=fail_on_statuses, poll_interval_seconds=poll_interval_seconds,
                    max_poll_interval_seconds=max_poll_interval_seconds, region=region, account_id=account_id,
                    endpoint=endpoint, use_duration_history=use_duration_history)
        declare_batch(self, FC3, AsyncTasksProvider(), resource_name, args, secret_payloads, opts)

    @staticmethod
    def get(resource_name: str, id: Input[str], opts: Optional[ResourceOptions] = None, **kwargs: Any) -> "AsyncTasks":
        """Read a batch by its id ``function[.qualifier][?prefix=..&statuses=..&...]``."""
        return get_batch(AsyncTasks, FC3, resource_name, id, opts, kwargs)
