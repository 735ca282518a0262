"""The list data source ``StatefulAsyncInvocations``: gate a deployment on a whole batch of async tasks.

Like the single data source (``resource.py``), it is a dynamic resource registered as a *read* whose
id resolves only once the gate opens; the wait runs here, in the program's event loop (the provider
host has four worker threads), and the engine's read in the host gives the verdict, so preview and
update print the same message against the resource. What counts as the batch, and what is returned,
is described in ``batch_provider.py``.

A poll lists the batch page by page (100 per call), not invocation by invocation, and skips the part
of the batch that can no longer change (:class:`~.batch_provider.BatchTracker`). Gating 1,000 tasks
costs a few hundred list calls instead of tens of thousands of gets.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from typing import Any, Mapping, Optional, Sequence, Union

import pulumi
import pulumi.dynamic
from pulumi import Input, Output, ResourceOptions

from . import gate
from .batch_provider import (
    BATCH_OUTPUT_KEYS,
    BATCH_TYPE_TOKEN,
    BatchSpec,
    BatchSummary,
    BatchTracker,
    StatefulAsyncInvocationsProvider,
    batch_outputs,
    parse_batch_id,
    read_batch_and_check,
)
from .batching import batch_verdict, not_found_message
from .errors import InvalidArgumentError, NotFoundError
from .models import redact, redacting
from .provider import client_for, plain_input_errors
from .resource import (
    _is_plain,
    _pool,
    _program_config,
    _progress_interval,
    log_target,
    mock_invoke,
    mocked_props,
    mocked_result,
    no_verdict_props,
    records_only,
    register_read,
    resolve_spec,
    skip_notice,
    skip_wait,
    spec_prop,
    under_mocks,
)
from .waiter import DEFAULT_MAX_POLL_INTERVAL, NOT_FOUND_GRACE, Waiter, format_duration

__all__ = [
    "StatefulAsyncInvocations",
    "GetStatefulAsyncInvocationsResult",
    "get_stateful_async_invocations",
    "get_stateful_async_invocations_output",
]

TYPE_TOKEN = BATCH_TYPE_TOKEN
OUTPUT_KEYS = BATCH_OUTPUT_KEYS
_SPEC_KEYS = ("service_name", "function_name", "qualifier", "invocation_id_prefix", "statuses", "started_after",
              "started_before", "limit", "include_payloads", "wait_for_completion", "expected_count",
              "timeout_seconds", "fail_on_statuses", "poll_interval_seconds", "max_poll_interval_seconds", "region",
              "account_id", "endpoint")
Time = Union[str, datetime]


def _client(spec: BatchSpec):
    return client_for(_program_config(), region=spec.region, account_id=spec.account_id, endpoint=spec.endpoint)


def _waiter(spec: BatchSpec, log_target: Any = None) -> Waiter:
    client, timeout = _client(spec), spec.policy.timeout
    tracker = BatchTracker(client.bounded(timeout) if timeout else client, spec)  # no call outlives the budget
    progress = None
    if log_target is not None:
        def progress(summary: Any, elapsed: float) -> None:
            text = summary.progress(elapsed) if summary is not None else \
                f"{spec.label}: no answer yet, {format_duration(elapsed)} elapsed"
            pulumi.log.info(redact(text, spec.secret_texts), resource=log_target)
    # The gate (not the CLI) gives a just-started batch a moment to be listed.
    policy = dataclasses.replace(spec.policy, not_found_grace=NOT_FOUND_GRACE)
    return Waiter(tracker.poll, policy, on_progress=progress, progress_interval=_progress_interval())


async def _gate(spec: BatchSpec, log_target: Any) -> Optional[float]:
    """Wait (update only) until the batch is complete or a member failed, then give the verdict in the
    program (see ``gate``); returns the seconds waited, or None. Lists once for a verdict in a preview
    or without ``wait_for_completion``; only records in a refresh/destroy and under the switch."""
    if skip_notice(spec, log_target) or under_mocks() or records_only():
        return None
    secrets = spec.secret_texts
    props = spec.props()
    if not spec.wait or pulumi.runtime.is_dry_run():
        tracker = BatchTracker(_client(spec), spec)
        summary = await gate.read_once(tracker.poll, _pool(), log_target,
                                       lambda exc: not_found_message(spec, exc), secrets)
        if summary is not None:
            gate.judge(lambda: batch_verdict(summary, props), log_target, secrets)
        return None
    expected = f"at least {spec.expected_count} invocations, " if spec.expected_count else ""

    def log(severity: Any, text: str) -> None:
        severity(redact(text, secrets), resource=log_target)

    log(pulumi.log.info, f"waiting for {spec.label} to finish ({expected}timeout "
                         f"{format_duration(spec.policy.timeout or 0)})")
    outcome = await gate.until_done(_waiter(spec, log_target).wait_async(_pool()), log_target)
    if outcome.error is not None:
        log(pulumi.log.warn, f"stopped waiting for {spec.label} after {format_duration(outcome.elapsed)}: "
                             f"{outcome.error}")
    summary = outcome.result
    if summary is None:  # no successful listing: the last error is the verdict
        if isinstance(outcome.error, NotFoundError):
            gate.fail(redact(not_found_message(spec, outcome.error), secrets), log_target)
        gate.fail(redact(f"stopped waiting for {spec.label} after {format_duration(outcome.elapsed)} without a "
                         f"successful listing: {outcome.error}", secrets), log_target)
    if summary.is_terminal:
        log(pulumi.log.info, f"{spec.label}: {summary.text()} after {format_duration(outcome.elapsed)}")
    gate.judge(lambda: batch_verdict(summary, {**props, "waited_seconds": outcome.elapsed}), log_target, secrets)
    return outcome.elapsed


def _check_plain_bool(argument: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise InvalidArgumentError(argument, value, "must be True or False (a plain value)")


def _all_plain(args: Mapping[str, Any]) -> bool:
    for value in args.values():
        if not _is_plain(value):
            return False
        if isinstance(value, (list, tuple)) and not all(_is_plain(v) for v in value):
            return False
    return True


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
    (see ``batch_provider.format_batch_id``).
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
    max_poll_interval_seconds: Output[float]
    region: Output[Optional[str]]
    account_id: Output[Optional[str]]
    endpoint: Output[Optional[str]]
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
        max_poll_interval_seconds: Input[float] = DEFAULT_MAX_POLL_INTERVAL,
        secret_payloads: bool = True,
        region: Optional[Input[str]] = None,
        account_id: Optional[Input[str]] = None,
        endpoint: Optional[Input[str]] = None,
        opts: Optional[ResourceOptions] = None,
    ) -> None:
        if not isinstance(resource_name, str) or not resource_name:
            raise InvalidArgumentError("resource_name", resource_name, "must be a non-empty string")
        _check_plain_bool("secret_payloads", secret_payloads)
        args = dict(service_name=service_name, function_name=function_name, qualifier=qualifier,
                    invocation_id_prefix=invocation_id_prefix, statuses=statuses, started_after=started_after,
                    started_before=started_before, limit=limit, include_payloads=include_payloads,
                    wait_for_completion=wait_for_completion, expected_count=expected_count,
                    timeout_seconds=timeout_seconds, fail_on_statuses=fail_on_statuses,
                    poll_interval_seconds=poll_interval_seconds,
                    max_poll_interval_seconds=max_poll_interval_seconds, region=region, account_id=account_id,
                    endpoint=endpoint)
        if _all_plain(args):
            BatchSpec.build(secret_payloads=secret_payloads, **args)  # refuse bad arguments here, plainly
        spec: Output[BatchSpec] = resolve_spec(
            args, lambda values, hidden: BatchSpec.build(secret_payloads=secret_payloads, hidden=hidden, **values))
        opts = opts or ResourceOptions()
        target = log_target(resource_name, TYPE_TOKEN, opts)
        waited = spec.apply(lambda s: _gate(s, target))
        gated_id = Output.all(spec, waited).apply(lambda sw: sw[0].id)

        props: dict[str, Any] = {key: None for key in OUTPUT_KEYS}
        for key in _SPEC_KEYS:
            props[key] = spec_prop(spec, key)
        for key in ("ids", "invocations"):  # a secret input (None) makes the same-named output secret
            props[key] = spec.apply(lambda s: Output.secret(None) if s.identifies_members else None)
        props["secret_payloads"] = secret_payloads
        props["waited_seconds"] = waited
        no_verdict_props(props, spec)
        # The engine marks secrets per top-level output: with payloads, the whole list is secret.
        secret = ["invocations"] if secret_payloads and include_payloads is not False else []
        register_read(self, StatefulAsyncInvocationsProvider(), resource_name, props, opts, gated_id, secret)
        if under_mocks() and not skip_wait():
            Output.all(spec, self.invocations).apply(lambda si: _judge_mock(si[0], si[1]))

    @staticmethod
    def get(resource_name: str, id: Input[str], opts: Optional[ResourceOptions] = None,
            **kwargs: Any) -> "StatefulAsyncInvocations":
        """Read a batch by its id ``service[.qualifier]/function[?prefix=..&statuses=..&...]``.

        Keyword arguments are those of the constructor (``wait_for_completion``, ``expected_count``...).
        """
        if _is_plain(id):
            return StatefulAsyncInvocations(resource_name, opts=opts, **{**parse_batch_id(id), **kwargs})
        parsed = Output.from_input(id).apply(parse_batch_id)
        fields = {key: parsed.apply(lambda a, k=key: a.get(k)) for key in
                  ("service_name", "function_name", "qualifier", "invocation_id_prefix", "statuses",
                   "started_after", "started_before", "limit")}
        return StatefulAsyncInvocations(resource_name, opts=opts, **{**fields, **kwargs})


BATCH_FUNCTION_TOKEN = "fc-invocation:index:getStatefulAsyncInvocations"


def _mocked_summary(spec: BatchSpec, invocations: Any) -> BatchSummary:
    """A mock's ``invocations`` (the data source's own shape) as the batch; the verdict on it raises
    as the provider's read would."""
    results = [mocked_result(spec.ref(item.get("invocation_id") or f"mocked-{i}"), item)
               for i, item in enumerate(invocations or []) if isinstance(item, dict)]
    summary = BatchSummary(spec, [r for r in results if r is not None])
    with redacting(spec.secret_texts):
        return batch_verdict(summary, mocked_props(spec.props(), spec.wait))


def _judge_mock(spec: BatchSpec, invocations: Any) -> None:
    if invocations is not None:
        _mocked_summary(spec, invocations)


class GetStatefulAsyncInvocationsResult:
    """What the function forms return: the data source's outputs as attributes, plus ``id``.

    With ``include_payloads`` and ``secret_payloads`` (the default), ``invocations`` is a secret ``Output``.
    """

    def __init__(self, values: dict[str, Any], id: str) -> None:
        self.__dict__.update(values)
        self.id = id

    def __repr__(self) -> str:
        return (f"GetStatefulAsyncInvocationsResult(id={self.id!r}, total={self.total!r}, "  # type: ignore[attr-defined]
                f"counts={ {k: v for k, v in self.counts.items() if v} !r})")  # type: ignore[attr-defined]


def _result_object(spec: BatchSpec, summary: Any, waited: Optional[float]) -> GetStatefulAsyncInvocationsResult:
    values = spec.props()
    values.update(batch_outputs(summary))
    values["waited_seconds"] = waited
    secret = set(spec.hidden & values.keys())
    if spec.include_payloads and spec.secret_payloads:
        secret.add("invocations")
    if spec.identifies_members:
        secret |= {"ids", "invocations"}
    for key in secret:
        values[key] = Output.secret(values[key])
    return GetStatefulAsyncInvocationsResult(values, spec.id)


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
    max_poll_interval_seconds: float = DEFAULT_MAX_POLL_INTERVAL,
    secret_payloads: bool = True,
    region: Optional[str] = None,
    account_id: Optional[str] = None,
    endpoint: Optional[str] = None,
) -> GetStatefulAsyncInvocationsResult:
    """Read a batch now (blocking; in ``pulumi up`` it waits first when asked to)."""
    spec = BatchSpec.build(
        service_name=service_name, function_name=function_name, qualifier=qualifier,
        invocation_id_prefix=invocation_id_prefix, statuses=statuses, started_after=started_after,
        started_before=started_before, limit=limit, include_payloads=include_payloads,
        secret_payloads=secret_payloads, wait_for_completion=wait_for_completion, expected_count=expected_count,
        timeout_seconds=timeout_seconds, fail_on_statuses=fail_on_statuses,
        poll_interval_seconds=poll_interval_seconds, max_poll_interval_seconds=max_poll_interval_seconds,
        region=region, account_id=account_id, endpoint=endpoint)
    if under_mocks():
        from pulumi.runtime import invoke

        values = invoke(BATCH_FUNCTION_TOKEN, spec.props()).value or {}
        return _result_object(spec, _mocked_summary(spec, values.get("invocations")), None)
    props = spec.props()
    waited = None
    judge = not (skip_wait() or records_only())  # the switch, or a refresh/destroy running the program
    if judge and spec.wait and not pulumi.runtime.is_dry_run():
        waited = props["waited_seconds"] = _waiter(spec).wait().elapsed
    return _result_object(spec, read_batch_and_check(_client(spec), spec, props, judge=judge), waited)


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
    max_poll_interval_seconds: Input[float] = DEFAULT_MAX_POLL_INTERVAL,
    secret_payloads: bool = True,
    region: Optional[Input[str]] = None,
    account_id: Optional[Input[str]] = None,
    endpoint: Optional[Input[str]] = None,
) -> Output[GetStatefulAsyncInvocationsResult]:
    """The ``Output`` form: inputs may be Outputs, and the wait runs on the program's event loop."""
    _check_plain_bool("secret_payloads", secret_payloads)
    args = dict(service_name=service_name, function_name=function_name, qualifier=qualifier,
                invocation_id_prefix=invocation_id_prefix, statuses=statuses, started_after=started_after,
                started_before=started_before, limit=limit, include_payloads=include_payloads,
                wait_for_completion=wait_for_completion, expected_count=expected_count,
                timeout_seconds=timeout_seconds, fail_on_statuses=fail_on_statuses,
                poll_interval_seconds=poll_interval_seconds, max_poll_interval_seconds=max_poll_interval_seconds,
                region=region, account_id=account_id, endpoint=endpoint)
    if _all_plain(args):
        BatchSpec.build(secret_payloads=secret_payloads, **args)

    async def run(spec: BatchSpec) -> GetStatefulAsyncInvocationsResult:
        if under_mocks():
            values = await mock_invoke(BATCH_FUNCTION_TOKEN, spec.props())
            return _result_object(spec, _mocked_summary(spec, values.get("invocations")), None)
        props = spec.props()
        waited = None
        judge = not (skip_wait() or records_only())  # the switch, or a refresh/destroy running the program
        if judge and spec.wait and not pulumi.runtime.is_dry_run():
            waited = props["waited_seconds"] = (await _waiter(spec).wait_async(_pool())).elapsed
        loop = asyncio.get_running_loop()
        with redacting(spec.secret_texts):
            summary = await loop.run_in_executor(_pool(), lambda: read_batch_and_check(_client(spec), spec, props,
                                                                                        judge=judge))
        return _result_object(spec, summary, waited)

    return resolve_spec(args, lambda values, hidden: BatchSpec.build(secret_payloads=secret_payloads, hidden=hidden,
                                                                     **values)).apply(run)
