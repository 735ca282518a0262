"""The Pulumi data source ``StatefulAsyncInvocation`` and its function forms.

The resource is registered as a *read* (``ResourceOptions(id=...)``) whose id resolves only once the
gate opens. The wait itself runs here, in the program's event loop, not in the provider host: the
host serves at most four calls at once, so fifty gates waiting there would release in batches of four.
Once the wait ends, the engine's read (in the host) fetches the final state and gives the verdict
(fail status, timeout), so the same message appears in preview and update, against the resource.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import pulumi
import pulumi.dynamic
from pulumi import Input, Output, ResourceOptions

from . import gate
from .errors import InvalidArgumentError, NotFoundError
from .fc2 import InvocationRef, StatefulAsyncInvocationResult
from .models import optional_endpoint, optional_text, redact, redacting, secret_values
from .operation import records_only
from .provider import (
    plain_input_errors,
    CONFIG_KEYS,
    StatefulAsyncInvocationProvider,
    client_for,
    not_found_message,
    read_and_check,
    result_outputs,
    verdict,
)
from .waiter import (
    DEFAULT_MAX_POLL_INTERVAL,
    NOT_FOUND_GRACE,
    Waiter,
    WaitPolicy,
    check_fail_on_statuses,
    format_duration,
    progress_message,
    timeout_message,
)

__all__ = [
    "StatefulAsyncInvocation",
    "GetStatefulAsyncInvocationResult",
    "get_stateful_async_invocation",
    "get_stateful_async_invocation_output",
]

TYPE_TOKEN = "pulumi-python:dynamic/fc:StatefulAsyncInvocation"
PAYLOAD_OUTPUTS = ("invocation_payload", "return_payload")
OUTPUT_KEYS = (
    "service_name", "function_name", "qualifier", "invocation_id", "request_id", "status", "destination_status",
    "invocation_error_message", "invocation_payload", "return_payload", "already_retried_times", "started_time",
    "end_time", "duration_ms", "instance_id", "events", "is_terminal", "wait_for_completion", "timeout_seconds",
    "fail_on_statuses", "poll_interval_seconds", "max_poll_interval_seconds", "secret_payloads", "region",
    "account_id", "endpoint", "waited_seconds",
)
PROGRESS_INTERVAL = 30.0


def _progress_interval() -> float:
    """Seconds between progress messages; ``FC_INVOCATION_PROGRESS_SECONDS`` overrides (demos, CI logs)."""
    import os

    try:
        value = float(os.environ.get("FC_INVOCATION_PROGRESS_SECONDS", PROGRESS_INTERVAL))
    except ValueError:
        return PROGRESS_INTERVAL
    return value if value > 0 else PROGRESS_INTERVAL

SKIP_WAIT_ENV = "FC_INVOCATION_SKIP_WAIT"


def skip_wait() -> bool:
    """The break-glass switch ``FC_INVOCATION_SKIP_WAIT=1``: read, never wait, give no verdict."""
    import os

    return os.environ.get(SKIP_WAIT_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def under_mocks() -> bool:
    """Running under ``pulumi.runtime.set_mocks`` (a user's unit test): no provider ever runs there,
    so the data sources make no call and never wait; the mocks' outputs are the invocation. (The
    package's own harness uses a subclass that forwards to a real provider host: not mocks.)"""
    from pulumi.runtime import mocks, settings

    return type(settings.get_monitor()) is mocks.MockMonitor


def mocked_result(ref: InvocationRef, values: Any) -> Optional[StatefulAsyncInvocationResult]:
    """A mock's outputs (snake_case, as the data source's) as an invocation; None without a status."""
    if not isinstance(values, dict) or not values.get("status"):
        return None
    fields = StatefulAsyncInvocationResult.model_fields
    data = {"service_name": ref.service_name, "function_name": ref.function_name,
            "invocation_id": ref.invocation_id, "qualifier": ref.qualifier or ""}
    data.update({k: v for k, v in values.items() if k in fields and v is not None})
    return StatefulAsyncInvocationResult.model_validate(data)


def mocked_props(props: dict[str, Any], wait: bool) -> dict[str, Any]:
    """The read's props under mocks: a gate in an update "waited" its whole timeout (a mocked status
    that is not terminal is a timeout, as it would be live)."""
    waited = props["timeout_seconds"] if wait and not pulumi.runtime.is_dry_run() else None
    return {**props, "waited_seconds": waited}


async def mock_invoke(token: str, props: dict[str, Any]) -> dict[str, Any]:
    """A function form under mocks: the user's ``Mocks.call`` answers ``token`` with the outputs."""
    from pulumi.runtime.invoke import invoke_async

    return dict(await invoke_async(token, props) or {})


_executor: Optional[ThreadPoolExecutor] = None
_executor_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """Threads for the blocking HTTP calls of many concurrent waits (they sleep on the event loop)."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="fc-invocation-wait")
        return _executor


@dataclass(frozen=True)
class _Spec:
    """Validated arguments of one data source; built before any request."""

    ref: InvocationRef
    wait: bool
    policy: WaitPolicy
    fail_on: tuple[str, ...]
    region: Optional[str]
    account_id: Optional[str]
    endpoint: Optional[str]
    hidden: frozenset = frozenset()  # the arguments given as secrets

    @classmethod
    def build(cls, *, service_name: Any, function_name: Any, invocation_id: Any, qualifier: Any = None,
              wait_for_completion: Any = False, timeout_seconds: Any = 1800, fail_on_statuses: Any = None,
              poll_interval_seconds: Any = 1.0, max_poll_interval_seconds: Any = DEFAULT_MAX_POLL_INTERVAL, region: Any = None,
              account_id: Any = None, endpoint: Any = None, hidden: frozenset = frozenset()) -> "_Spec":
        ref = InvocationRef(service_name=service_name, function_name=function_name, invocation_id=invocation_id,
                            qualifier=qualifier if qualifier != "" else None)
        if not isinstance(wait_for_completion, bool):
            raise InvalidArgumentError("wait_for_completion", wait_for_completion, "must be True or False")
        policy = WaitPolicy(initial_delay=poll_interval_seconds, max_delay=max_poll_interval_seconds,
                            timeout=timeout_seconds, not_found_grace=NOT_FOUND_GRACE)
        if timeout_seconds is None:
            raise InvalidArgumentError("timeout_seconds", timeout_seconds, "must be a positive number of seconds")
        return cls(ref=ref, wait=wait_for_completion, policy=policy,
                   fail_on=check_fail_on_statuses(fail_on_statuses),
                   region=optional_text("region", region), account_id=optional_text("account_id", account_id),
                   endpoint=optional_endpoint(endpoint), hidden=frozenset(hidden))

    @property
    def id(self) -> str:
        """The read's id, ``service[.qualifier]/function/invocation_id``, secret parts masked."""
        return self.ref.masked(self.hidden)

    @property
    def secret_texts(self) -> tuple[str, ...]:
        return secret_values(self.props(), self.hidden)

    def props(self) -> dict[str, Any]:
        return {
            "service_name": self.ref.service_name, "function_name": self.ref.function_name,
            "qualifier": self.ref.qualifier, "invocation_id": self.ref.invocation_id,
            "wait_for_completion": self.wait, "timeout_seconds": self.policy.timeout,
            "fail_on_statuses": list(self.fail_on), "poll_interval_seconds": self.policy.initial_delay,
            "max_poll_interval_seconds": self.policy.max_delay, "region": self.region,
            "account_id": self.account_id, "endpoint": self.endpoint,
        }


def secret_names(args: dict[str, Any]) -> Output[frozenset]:
    """The names of the arguments given as secret Outputs (known once they resolve)."""
    async def names() -> frozenset:
        found = set()
        for key, value in args.items():
            if value is not None and not (_is_plain(value) and not isinstance(value, (list, tuple))):
                if await Output.from_input(value).is_secret():
                    found.add(key)
        return frozenset(found)

    return Output.from_input(names())


def resolve_spec(args: dict[str, Any], build: Any) -> Output[Any]:
    """``build(values, hidden)`` once ``args`` resolve, as a non-secret Output: secrecy is tracked per
    argument in the spec's ``hidden`` (a secret id would break the SDK's read, and would make every
    output secret), and restored per output by :func:`spec_prop`."""
    def run(values_hidden: list) -> Any:
        values, hidden = values_hidden
        with redacting(secret_values(values, hidden)):
            return plain_input_errors(build)(dict(values), hidden)

    return Output.unsecret(Output.all(Output.all(**args), secret_names(args)).apply(run))


def spec_prop(spec: Output[Any], key: str) -> Output[Any]:
    """``spec.props()[key]``, secret when the argument was."""
    return spec.apply(lambda s: Output.secret(s.props()[key]) if key in s.hidden else s.props()[key])


def _program_config() -> dict[str, Any]:
    """The stack config keys the credential chain reads, as the program process sees them."""
    from pulumi.runtime.config import get_config

    config = {}
    for key in CONFIG_KEYS:
        value = get_config(key)
        if value is not None:
            config[key] = value
    return config


def _client(spec: _Spec):
    return client_for(_program_config(), region=spec.region, account_id=spec.account_id, endpoint=spec.endpoint)


class _UrnOnly:
    """Lets ``pulumi.log`` attach a message to a resource whose URN is known but not yet registered
    (waiting on ``resource.urn`` itself would hold every progress message until the wait is over)."""

    def __init__(self, urn: Output[str]) -> None:
        self.urn = urn


async def _gate(spec: _Spec, log_target: Any) -> Optional[float]:
    """Wait (update only) until the invocation is terminal, then give the verdict here, in the program
    (see ``gate``); returns the seconds waited, or None. Reads once for a verdict in a preview or
    without ``wait_for_completion``; only records in a refresh/destroy and under the switch."""
    if skip_notice(spec, log_target) or under_mocks() or records_only():
        return None
    client = _client(spec)
    ref, shown, secrets = spec.ref, spec.id, spec.secret_texts
    props = spec.props()
    if not spec.wait or pulumi.runtime.is_dry_run():
        result = await gate.read_once(lambda: client.get(ref), _pool(), log_target,
                                      lambda exc: not_found_message(ref, exc), secrets)
        if result is not None:
            gate.judge(lambda: verdict(ref, result, props), log_target, secrets)
        return None
    timeout = spec.policy.timeout
    pulumi.log.info(f"waiting for {shown} to finish (timeout {format_duration(timeout or 0)})", resource=log_target)

    def progress(result: Any, elapsed: float) -> None:
        pulumi.log.info(progress_message(shown, result, elapsed), resource=log_target)

    polling = client.bounded(timeout) if timeout else client  # no call outlives the gate's budget
    waiter = Waiter(lambda: polling.get(ref), spec.policy, on_progress=progress, progress_interval=_progress_interval())
    outcome = await gate.until_done(waiter.wait_async(_pool()), log_target)
    if outcome.error is not None:
        pulumi.log.warn(f"stopped waiting for {shown} after {format_duration(outcome.elapsed)}: "
                        f"{redact(str(outcome.error), secrets)}", resource=log_target)
    last = outcome.result
    if last is None:  # no successful read: the last error is the verdict
        if isinstance(outcome.error, NotFoundError):
            gate.fail(redact(not_found_message(ref, outcome.error), secrets), log_target)
        if outcome.timed_out:
            gate.fail(redact(f"{timeout_message(shown, None, outcome.elapsed, timeout or 0)}; last error: "
                             f"{outcome.error}", secrets), log_target)
        gate.fail(redact(f"stopped waiting for invocation {shown} after {format_duration(outcome.elapsed)}: an API "
                         f"error ended the wait: {outcome.error}", secrets), log_target)
    if last.is_terminal:
        pulumi.log.info(f"{shown} is {last.status.value} after {format_duration(outcome.elapsed)}",
                        resource=log_target)
    gate.judge(lambda: verdict(ref, last, {**props, "waited_seconds": outcome.elapsed}), log_target, secrets)
    return outcome.elapsed


def skip_notice(spec: Any, log_target: Any) -> bool:
    """Under the break-glass switch, warn against the gate that it is skipped; True if skipping."""
    if not skip_wait():
        return False
    what = "not waiting for it and giving no verdict" if spec.wait else "giving no verdict"
    pulumi.log.warn(f"{SKIP_WAIT_ENV} is set: {what} on {spec.id} (fail_on_statuses and timeout_seconds are "
                    f"not applied)", resource=log_target)
    return True


def no_verdict_props(props: dict[str, Any], spec: Output[Any]) -> None:
    """Under the break-glass switch, or in a refresh/destroy, the read applies no fail statuses."""
    if skip_wait() or records_only():
        props["fail_on_statuses"] = spec.apply(lambda s: [])


def undo_sdk_pickler_chain() -> None:
    """Work around a Pulumi SDK leak: each ``serialize_provider`` call wraps
    ``pickle._Pickler._batch_setitems`` once more and never unwraps it, so after about 985 dynamic
    resources in one program every further one fails with ``RecursionError`` (SDK 3.272). Restoring
    the original method after our own registration keeps the chain one wrapper deep; the SDK wraps
    it again (sorted, as it wants) at the next serialization."""
    import pickle

    fn = pickle._Pickler.__dict__.get("_batch_setitems")  # type: ignore[attr-defined]
    for _ in range(100_000):
        if fn is None or getattr(fn, "__qualname__", "") == "_Pickler._batch_setitems":
            break
        inner = [c.cell_contents for c in (getattr(fn, "__closure__", None) or ()) if callable(c.cell_contents)]
        fn = inner[0] if inner else None
    if fn is not None and getattr(fn, "__qualname__", "") == "_Pickler._batch_setitems":
        pickle._Pickler._batch_setitems = fn  # type: ignore[attr-defined]


def log_target(resource_name: str, type_token: str, opts: ResourceOptions) -> "_UrnOnly":
    """Where progress messages go: the resource's URN as the engine will make it, known before the
    read is registered. The engine leaves the root stack out of top-level URNs (``create_urn`` with
    ``parent=<Stack>`` would not)."""
    from pulumi.runtime.settings import get_root_resource

    parent = opts.parent if opts.parent is not None and opts.parent is not get_root_resource() else None
    return _UrnOnly(pulumi.resource.create_urn(resource_name, type_token, parent=parent))


def register_read(resource: pulumi.dynamic.Resource, provider: pulumi.dynamic.ResourceProvider, resource_name: str,
                  props: dict[str, Any], opts: ResourceOptions, gated_id: Output[str], secret: list[str]) -> None:
    """Register ``resource`` as a read whose id resolves when the gate opens, with ``secret`` outputs."""
    merged = ResourceOptions.merge(
        opts, ResourceOptions(id=gated_id, additional_secret_outputs=secret + list(opts.additional_secret_outputs or [])))
    try:
        pulumi.dynamic.Resource.__init__(resource, provider, resource_name, props, merged)
    finally:
        undo_sdk_pickler_chain()


def _is_plain(value: Any) -> bool:
    return not isinstance(value, Output) and not asyncio.isfuture(value) and not asyncio.iscoroutine(value)


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
    max_poll_interval_seconds: Output[float]
    secret_payloads: Output[bool]
    region: Output[Optional[str]]
    account_id: Output[Optional[str]]
    endpoint: Output[Optional[str]]
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
        max_poll_interval_seconds: Input[float] = DEFAULT_MAX_POLL_INTERVAL,
        secret_payloads: bool = True,
        region: Optional[Input[str]] = None,
        account_id: Optional[Input[str]] = None,
        endpoint: Optional[Input[str]] = None,
        opts: Optional[ResourceOptions] = None,
    ) -> None:
        if not isinstance(resource_name, str) or not resource_name:
            raise InvalidArgumentError("resource_name", resource_name, "must be a non-empty string")
        if not isinstance(secret_payloads, bool):
            raise InvalidArgumentError("secret_payloads", secret_payloads, "must be True or False (a plain value)")
        args = dict(service_name=service_name, function_name=function_name, invocation_id=invocation_id,
                    qualifier=qualifier, wait_for_completion=wait_for_completion, timeout_seconds=timeout_seconds,
                    fail_on_statuses=fail_on_statuses, poll_interval_seconds=poll_interval_seconds,
                    max_poll_interval_seconds=max_poll_interval_seconds, region=region, account_id=account_id,
                    endpoint=endpoint)
        if all(_is_plain(v) for v in args.values()) and (
            fail_on_statuses is None or all(_is_plain(v) for v in fail_on_statuses)  # type: ignore[union-attr]
        ):
            _Spec.build(**args)  # plain arguments: refuse bad ones here, with a plain traceback
        spec: Output[_Spec] = resolve_spec(args, lambda values, hidden: _Spec.build(hidden=hidden, **values))
        opts = opts or ResourceOptions()
        target = log_target(resource_name, TYPE_TOKEN, opts)
        waited = spec.apply(lambda s: _gate(s, target))
        gated_id = Output.all(spec, waited).apply(lambda sw: sw[0].id)

        props: dict[str, Any] = {key: None for key in OUTPUT_KEYS}
        for key in args:
            props[key] = spec_prop(spec, key)
        props["secret_payloads"] = secret_payloads
        props["waited_seconds"] = waited
        no_verdict_props(props, spec)
        register_read(self, StatefulAsyncInvocationProvider(), resource_name, props, opts, gated_id,
                      list(PAYLOAD_OUTPUTS) if secret_payloads else [])
        if under_mocks() and not skip_wait():
            outputs = Output.all(**{key: getattr(self, key) for key in OUTPUT_KEYS})
            Output.all(spec, outputs).apply(lambda so: _judge_mock(so[0], so[1]))

    @staticmethod
    def get(resource_name: str, id: Input[str], opts: Optional[ResourceOptions] = None,
            **kwargs: Any) -> "StatefulAsyncInvocation":
        """Read an invocation by composite id ``service[.qualifier]/function/invocation_id``.

        Keyword arguments are those of the constructor (``wait_for_completion``, ``timeout_seconds``...).
        """
        if _is_plain(id):
            ref = InvocationRef.parse(id, "id")
            return StatefulAsyncInvocation(resource_name, ref.service_name, ref.function_name, ref.invocation_id,
                                           ref.qualifier, opts=opts, **kwargs)
        parsed = Output.from_input(id).apply(lambda text: InvocationRef.parse(text, "id"))
        return StatefulAsyncInvocation(
            resource_name, parsed.apply(lambda r: r.service_name), parsed.apply(lambda r: r.function_name),
            parsed.apply(lambda r: r.invocation_id), parsed.apply(lambda r: r.qualifier), opts=opts, **kwargs)


def _judge_mock(spec: _Spec, outputs: dict[str, Any]) -> None:
    """The gate's verdict on a mock's outputs (raises as the provider's read would)."""
    result = mocked_result(spec.ref, outputs)
    if result is not None:
        with redacting(spec.secret_texts):
            verdict(spec.id, result, mocked_props(spec.props(), spec.wait))


class GetStatefulAsyncInvocationResult:
    """What the function forms return: the data source's outputs as attributes.

    With ``secret_payloads`` (the default) the payload attributes are secret ``Output``\\ s, so they
    stay encrypted if exported.
    """

    def __init__(self, values: dict[str, Any], id: Optional[str] = None) -> None:
        self.__dict__.update(values)
        # The resource's id (what the program asked for), not FC's echo (``svc.LATEST/...``).
        self.id = id if id is not None else \
            f"{values['service_name']}{'.' + values['qualifier'] if values.get('qualifier') else ''}/" \
            f"{values['function_name']}/{values['invocation_id']}"

    def __repr__(self) -> str:
        return f"GetStatefulAsyncInvocationResult(id={self.id!r}, status={self.status!r})"  # type: ignore[attr-defined]


def _result_object(spec: _Spec, result: Any, secret_payloads: bool) -> GetStatefulAsyncInvocationResult:
    values = result_outputs(result)
    if values["qualifier"] is None:
        values["qualifier"] = spec.ref.qualifier
    for key in (PAYLOAD_OUTPUTS if secret_payloads else ()) + tuple(spec.hidden & values.keys()):
        values[key] = Output.secret(values[key])
    return GetStatefulAsyncInvocationResult(values, spec.id)


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
    max_poll_interval_seconds: float = DEFAULT_MAX_POLL_INTERVAL,
    secret_payloads: bool = True,
    region: Optional[str] = None,
    account_id: Optional[str] = None,
    endpoint: Optional[str] = None,
) -> GetStatefulAsyncInvocationResult:
    """Read one invocation now (blocking; in ``pulumi up`` it waits first when asked to)."""
    spec = _Spec.build(service_name=service_name, function_name=function_name, invocation_id=invocation_id,
                       qualifier=qualifier, wait_for_completion=wait_for_completion, timeout_seconds=timeout_seconds,
                       fail_on_statuses=fail_on_statuses, poll_interval_seconds=poll_interval_seconds,
                       max_poll_interval_seconds=max_poll_interval_seconds, region=region, account_id=account_id,
                       endpoint=endpoint)
    if under_mocks():
        from pulumi.runtime import invoke

        return _mocked_function_result(spec, invoke(FUNCTION_TOKEN, spec.props()).value or {}, secret_payloads)
    client = _client(spec)
    props = spec.props()
    if skip_wait() or records_only():  # the switch, or a refresh/destroy running the program
        props["fail_on_statuses"] = []
    elif spec.wait and not pulumi.runtime.is_dry_run():
        outcome = Waiter(lambda: client.get(spec.ref), spec.policy).wait()
        props["waited_seconds"] = outcome.elapsed
    return _result_object(spec, read_and_check(client, spec.ref, props), secret_payloads)


FUNCTION_TOKEN = "fc-invocation:index:getStatefulAsyncInvocation"


def _mocked_function_result(spec: _Spec, values: dict[str, Any], secret_payloads: bool) -> Any:
    result = mocked_result(spec.ref, values)
    if result is None:
        raise InvalidArgumentError("mock", values, f"the mock's call() for {FUNCTION_TOKEN} must return the "
                                                   f"invocation's outputs, with a 'status'")
    with redacting(spec.secret_texts):
        verdict(spec.id, result, mocked_props(spec.props(), spec.wait))
    return _result_object(spec, result, secret_payloads)


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
    max_poll_interval_seconds: Input[float] = DEFAULT_MAX_POLL_INTERVAL,
    secret_payloads: bool = True,
    region: Optional[Input[str]] = None,
    account_id: Optional[Input[str]] = None,
    endpoint: Optional[Input[str]] = None,
) -> Output[GetStatefulAsyncInvocationResult]:
    """The ``Output`` form: inputs may be Outputs, and the wait runs on the program's event loop."""
    if not isinstance(secret_payloads, bool):
        raise InvalidArgumentError("secret_payloads", secret_payloads, "must be True or False (a plain value)")
    args = dict(service_name=service_name, function_name=function_name, invocation_id=invocation_id,
                qualifier=qualifier, wait_for_completion=wait_for_completion, timeout_seconds=timeout_seconds,
                fail_on_statuses=fail_on_statuses, poll_interval_seconds=poll_interval_seconds,
                max_poll_interval_seconds=max_poll_interval_seconds, region=region, account_id=account_id,
                endpoint=endpoint)

    async def run(spec: _Spec) -> GetStatefulAsyncInvocationResult:
        if under_mocks():
            return _mocked_function_result(spec, await mock_invoke(FUNCTION_TOKEN, spec.props()), secret_payloads)
        client = _client(spec)
        props = spec.props()
        loop = asyncio.get_running_loop()
        if skip_wait() or records_only():  # the switch, or a refresh/destroy running the program
            props["fail_on_statuses"] = []
        elif spec.wait and not pulumi.runtime.is_dry_run():
            outcome = await Waiter(lambda: client.get(spec.ref), spec.policy).wait_async(_pool())
            props["waited_seconds"] = outcome.elapsed
        with redacting(spec.secret_texts):
            result = await loop.run_in_executor(_pool(), read_and_check, client, spec.ref, props)
        return _result_object(spec, result, secret_payloads)

    return resolve_spec(args, lambda values, hidden: _Spec.build(hidden=hidden, **values)).apply(run)
