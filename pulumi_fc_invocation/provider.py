"""The dynamic provider behind ``StatefulAsyncInvocation``: runs in Pulumi's dynamic provider host.

The provider object is pickled into state (``__provider``), so it holds nothing but its class: the
stack configuration arrives through ``configure`` in the host and clients are built lazily and cached
per host process. ``read`` is the only operation that does anything: the resource is registered as a
read, so it is never created, updated or deleted in Function Compute.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Callable, Optional, TypeVar

import pulumi
import pulumi.dynamic

from .client import FcClient
from .credentials import SETTING_SOURCES, resolve_settings
from .errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidArgumentError,
    FcInvocationError,
    InvocationFailedError,
    NotFoundError,
    WaitTimeoutError,
    refresh_refused,
)
from .fc2 import InvocationRef, StatefulAsyncInvocationResult
from .models import InvocationStatus, redacting, rfc3339
from .waiter import (TRANSIENT_ERRORS, check_fail_on_statuses, failure_message, format_duration, get_clock,
                     not_found_details, timeout_message)

__all__ = ["StatefulAsyncInvocationProvider", "result_outputs", "CONFIG_KEYS", "client_for", "rfc3339", "verdict",
           "MAX_CACHED_CLIENTS"]

CONFIG_KEYS = tuple(key for entry in SETTING_SOURCES.values() for key in entry["config"])

# Bounded: each rotated STS token is a new key, and a long-lived process (an Automation API server
# running inline programs) would otherwise keep a client and its sockets per token forever.
MAX_CACHED_CLIENTS = 8
T = TypeVar("T")
_clients: "OrderedDict[tuple, FcClient]" = OrderedDict()
_clients_lock = threading.Lock()


def client_for(
    config: Optional[Mapping[str, Any]],
    *,
    region: Optional[str] = None,
    account_id: Optional[str] = None,
    endpoint: Optional[str] = None,
) -> FcClient:
    """A cached client for these settings: one connection pool per endpoint and key per process.

    The least recently used client beyond :data:`MAX_CACHED_CLIENTS` is closed: its pooled sockets
    go; a wait still holding it keeps working (the session opens a new connection when asked)."""
    settings = resolve_settings(region=region, account_id=account_id, endpoint=endpoint, config=config)
    key = (settings.endpoint, settings.account_id, settings.credentials)
    evicted = []
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = FcClient(endpoint=settings.endpoint, account_id=settings.account_id,
                              region=settings.region, credentials=settings.credentials)
            _clients[key] = client
        _clients.move_to_end(key)
        while len(_clients) > MAX_CACHED_CLIENTS:
            evicted.append(_clients.popitem(last=False)[1])
    for old in evicted:
        old.close()
    return client


def result_outputs(result: StatefulAsyncInvocationResult) -> dict[str, Any]:
    """The snake_case outputs for one invocation (plain JSON-able values)."""
    return {
        "service_name": result.service_name,
        "function_name": result.function_name,
        "qualifier": result.qualifier or None,
        "invocation_id": result.invocation_id,
        "request_id": result.request_id,
        "status": result.status.value,
        "destination_status": result.destination_status,
        "invocation_error_message": result.invocation_error_message,
        "invocation_payload": result.invocation_payload,
        "return_payload": result.return_payload,
        "already_retried_times": int(result.already_retried_times),
        "started_time": rfc3339(result.started_time),
        "end_time": rfc3339(result.end_time),
        "duration_ms": result.duration_ms,
        "instance_id": result.instance_id,
        "events": [
            {"event_id": e.event_id, "status": e.status, "timestamp": rfc3339(e.timestamp),
             "event_detail": e.event_detail}
            for e in result.events
        ],
        "is_terminal": result.is_terminal,
    }


def _ref_from(id_: str, props: Mapping[str, Any]) -> tuple[InvocationRef, tuple[str, ...]]:
    """The ref to read and the secret values in it (masked in the id; see ``InvocationRef.masked``)."""
    # The id is authoritative: on refresh the props are the prior outputs, whose `qualifier` is FC's
    # echo (`LATEST` for a task read without one), not what the program asked for. Only masked parts
    # (secret inputs) come from the props, and those the program did give.
    ref, hidden = InvocationRef.parse_masked(id_, props)
    return ref, tuple(getattr(ref, key) for key in hidden)


class _ProgramInputError(InvalidArgumentError, pulumi.RunError):
    """An InvalidArgumentError that is also a ``pulumi.RunError``: the language host prints its message
    alone, not 30-odd lines of SDK frames. Still an InvalidArgumentError (and a ValueError) to catch."""


class _ProgramSettingError(ConfigurationError, pulumi.RunError):
    """The same for a ConfigurationError (e.g. an ``endpoint`` argument without a scheme)."""


def plain_input_errors(func: Callable[..., T]) -> Callable[..., T]:
    """Let ``func``'s input errors reach the user as its message alone (see :class:`_ProgramInputError`).

    Only the Pulumi forms are wrapped: errors.py cannot subclass RunError (the CLI never imports
    Pulumi), so the instance is re-classed here, where Pulumi is loaded anyway."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return func(*args, **kwargs)
        except InvalidArgumentError as exc:
            if not isinstance(exc, pulumi.RunError):
                exc.__class__ = _ProgramInputError
            raise
        except ConfigurationError as exc:
            if not isinstance(exc, pulumi.RunError):
                exc.__class__ = _ProgramSettingError
            raise

    return wrapper


def not_found_message(ref: InvocationRef, error: NotFoundError, details: bool = True) -> str:
    """What was not found; ``details=False`` leaves out FC's code and request id, for a message that
    becomes a NotFoundError again (which shows them itself: said twice, they read as two errors)."""
    head = (f"invocation not found: service {ref.service_name!r}, qualifier {ref.qualifier or '(none)'!r}, "
            f"function {ref.function_name!r}, invocation id {ref.invocation_id!r}")
    return not_found_details(head, error, details)



def retrying(call: Any, budget: float) -> Any:
    """``call()``, retried on transient errors for up to ``budget`` seconds (backing off 0.5 s to 8 s).

    The gate's final read: after a wait that succeeded, one 503 must not fail the deployment while
    the gate still has time left."""
    clock = get_clock()
    deadline = clock.monotonic() + max(0.0, budget)
    delay = 0.5
    while True:
        try:
            return call()
        except TRANSIENT_ERRORS:
            if clock.monotonic() + delay > deadline:
                raise
            clock.sleep(delay)
            delay = min(delay * 2, 8.0)


def gate_budget(props: Mapping[str, Any]) -> float:
    """Seconds the gate has left for its final read: none unless it waited."""
    waited = props.get("waited_seconds")
    if not props.get("wait_for_completion") or waited is None:
        return 0.0
    return max(0.0, float(props.get("timeout_seconds") or 0) - float(waited))


def read_and_check(client: FcClient, ref: InvocationRef, props: Mapping[str, Any],
                   refresh: bool = False) -> StatefulAsyncInvocationResult:
    """One read, then the gate's verdict: raises on a fail status, an expired wait or a missing task.

    A refresh records the current state and gives no verdict: the gate belongs to `up`/`preview`, and
    a refresh runs with the settings saved in state, which the user cannot change from the program."""
    try:
        result = retrying(lambda: client.get(ref), 0.0 if refresh else gate_budget(props))
    except AuthenticationError as exc:
        if refresh:
            raise refresh_refused(exc) from None
        raise
    except NotFoundError as exc:
        raise NotFoundError(not_found_message(ref, exc, details=False), code=exc.code, request_id=exc.request_id,
                            http_status=exc.http_status) from None
    if refresh:
        return result
    return verdict(ref, result, props)


def verdict(ref: Any, result: StatefulAsyncInvocationResult, props: Mapping[str, Any]) -> StatefulAsyncInvocationResult:
    """The gate's verdict on ``result`` (the final read, or a mock's outputs): raises on a fail status
    or an unfinished wait (``waited_seconds`` set), else returns ``result``."""
    fail_on = check_fail_on_statuses(props.get("fail_on_statuses"))
    waited = props.get("waited_seconds")
    if props.get("wait_for_completion") and waited is not None and not result.is_terminal:
        timeout = float(props.get("timeout_seconds") or 0)
        if timeout and waited >= timeout:
            raise WaitTimeoutError(timeout_message(ref, result, waited, timeout), last_result=result, elapsed=waited)
        ended = [e.status for e in result.events if InvocationStatus(e.status or "?").is_terminal]
        if ended:  # the wait saw it end; FC has run it again since (a retry)
            raise WaitTimeoutError(
                f"invocation {ref} is {result.status.value} again after ending {ended[-1]}: the wait ended after "
                f"{format_duration(waited)} when FC reported it finished, and FC has resumed it since; "
                f"run the update again to wait for the new attempt", last_result=result, elapsed=waited)
        raise WaitTimeoutError(
            f"stopped waiting for invocation {ref} after {format_duration(waited)}: an API error ended the wait "
            f"(see the warning logged against this resource); last status {result.status.value}", last_result=result, elapsed=waited)
    if result.status.value in fail_on:
        raise InvocationFailedError(failure_message(ref, result, fail_on), result=result)
    return result


class StatefulAsyncInvocationProvider(pulumi.dynamic.ResourceProvider):
    """Reads one stateful async invocation. Holds no state worth pickling."""

    def __init__(self) -> None:
        self._config: Optional[dict[str, Any]] = None

    def __getstate__(self) -> dict[str, Any]:
        return {}  # never carry configuration (credentials) into the serialized provider

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self._config = None

    def configure(self, req: pulumi.dynamic.ConfigureRequest) -> None:
        config = {}
        for key in CONFIG_KEYS:
            value = req.config.get(key)
            if value is not None:
                config[key] = value
        self._config = config

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        ref, secrets = _ref_from(id_, props)
        client = client_for(self._config, region=props.get("region") or None,
                            account_id=props.get("account_id") or None,
                            endpoint=props.get("endpoint") or None)
        # A program's read never carries `status` (None values are not sent); a refresh's prior outputs do.
        with redacting(secrets):
            result = read_and_check(client, ref, props, refresh=props.get("status") is not None)
        outs = result_outputs(result)
        for key in ("wait_for_completion", "timeout_seconds", "fail_on_statuses", "poll_interval_seconds",
                    "max_poll_interval_seconds", "secret_payloads", "region", "account_id", "endpoint",
                    "waited_seconds"):
            outs[key] = props.get(key)
        if outs["qualifier"] is None:
            outs["qualifier"] = ref.qualifier
        return pulumi.dynamic.ReadResult(id_, outs)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        raise FcInvocationError(
            "StatefulAsyncInvocation is a read-only data source; construct it through the package, "
            "which registers it as a read (it never creates anything in Function Compute)"
        )

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        return None  # reads are never deleted; and we never touch the task

