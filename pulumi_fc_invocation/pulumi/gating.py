"""The one gating implementation behind every data source: spec → read → wait → verdict → outputs.

API-neutral (a :class:`~..kinds.Kind` names the API: FC 2.0 invocations or FC 3.0 tasks) and
independent of the form that hosts it: a dynamic provider's ``read`` (:mod:`.providers`), a program's
data source or function (:mod:`.resources`, :mod:`.functions`), or a provider plugin, which brings its
own :class:`Reporter`. A :class:`SingleGate` gates on one item, a :class:`BatchGate` on a batch; both
answer the same questions (how to read now, how to poll, what the verdict is, what to say), so
:func:`run_gate` and :func:`final_read` are written once.

Imports no Pulumi module.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NoReturn, Optional, Protocol, TypeVar

from ..batching import (
    TASK_RETENTION_DAYS,
    BatchSpec,
    BatchSummary,
    BatchTracker,
    batch_verdict,
    check_settings,
    not_found_message as batch_not_found_message,
    read_batch_and_check,
    secret_config_masked,
)
from ..client import FcClient
from ..credentials import SETTING_SOURCES, resolve_settings
from ..errors import (
    AuthenticationError,
    FcInvocationError,
    InvalidArgumentError,
    InvocationFailedError,
    NotFoundError,
    WaitTimeoutError,
    refresh_refused,
)
from ..kinds import FC2, SINGLE_ECHO_KEYS, Kind
from ..models import InvocationStatus, check_fail_on_statuses, redact, secret_values
from ..waiter import (
    DEFAULT_MAX_POLL_INTERVAL,
    NOT_FOUND_GRACE,
    TRANSIENT_ERRORS,
    Waiter,
    WaitPolicy,
    batch_history,
    call_budget,
    get_clock,
    history_for,
)
from ..gate.messages import failure_message, format_duration, not_found_details, progress_message, timeout_message

__all__ = [
    "CONFIG_KEYS", "MAX_CACHED_CLIENTS", "SKIP_WAIT_ENV", "PROGRESS_INTERVAL", "client_for", "skip_wait",
    "progress_interval", "pool", "SingleSpec", "SingleGate", "BatchGate", "Reporter", "run_gate", "run_gate_result",
    "until_set", "waiter", "final_read",
    "verdict", "read_and_check", "not_found_message", "single_outputs", "batch_outputs", "batch_result_keys",
    "batch_output_keys", "retrying", "gate_budget", "MAX_CACHED_HISTORIES", "duration_history", "forget_histories",
    "TASK_RETENTION_DAYS", "item_not_found",
]

T = TypeVar("T")

CONFIG_KEYS = tuple(key for entry in SETTING_SOURCES.values() for key in entry["config"])
SKIP_WAIT_ENV = "FC_INVOCATION_SKIP_WAIT"
PROGRESS_INTERVAL = 30.0

# --- settings and shared resources --------------------------------------------------------------

# Bounded: each rotated STS token is a new key, and a long-lived process (an Automation API server
# running inline programs) would otherwise keep a client and its sockets per token forever.
MAX_CACHED_CLIENTS = 8
_clients: "OrderedDict[tuple, FcClient]" = OrderedDict()
_clients_lock = threading.Lock()


def client_for(config: Optional[Mapping[str, Any]], *, region: Optional[str] = None,
               account_id: Optional[str] = None, endpoint: Optional[str] = None,
               secret_config: Collection[str] = ()) -> FcClient:
    """A cached client for these settings: one connection pool per endpoint and key per process.
    The values of the config keys in ``secret_config`` never show in its errors.

    The least recently used client beyond :data:`MAX_CACHED_CLIENTS` is closed: its pooled sockets
    go; a wait still holding it keeps working (the session opens a new connection when asked)."""
    with secret_config_masked(config, secret_config, region=region, account_id=account_id, endpoint=endpoint):
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


def skip_wait() -> bool:
    """The break-glass switch ``FC_INVOCATION_SKIP_WAIT=1``: read, never wait, give no verdict."""
    return os.environ.get(SKIP_WAIT_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def progress_interval() -> float:
    """Seconds between progress messages; ``FC_INVOCATION_PROGRESS_SECONDS`` overrides (demos, CI logs)."""
    try:
        value = float(os.environ.get("FC_INVOCATION_PROGRESS_SECONDS", PROGRESS_INTERVAL))
    except ValueError:
        return PROGRESS_INTERVAL
    return value if value > 0 else PROGRESS_INTERVAL


_executor: Optional[ThreadPoolExecutor] = None
_executor_lock = threading.Lock()


def pool() -> ThreadPoolExecutor:
    """Threads for the blocking HTTP calls of many concurrent waits (they sleep on the event loop)."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="fc-invocation-wait")
        return _executor


# One duration history per function and qualifier (and client) per process: the gates of one function
# share one list call (1,000 gates: 1 call), its answer or its refusal remembered for the history's ttl.
MAX_CACHED_HISTORIES = 256
_histories: "OrderedDict[tuple, tuple[FcClient, Any]]" = OrderedDict()
_histories_lock = threading.Lock()


def duration_history(client: FcClient, kind: Kind, target: Mapping[str, Any]) -> Any:
    """The shared :class:`~..waiter.DurationHistory` of ``target``'s function (``kind.target_keys``)
    through ``client``: its list call takes the budget of the wait that makes it (``call_budget``: the
    policy's ``history_budget`` within the gate's time left), not the gate's bounded view (the history
    outlives any one gate)."""
    names = tuple(target.get(key) for key in kind.target_keys)
    key = (id(client), kind.name) + names
    with _histories_lock:
        entry = _histories.get(key)
        if entry is None or entry[0] is not client:  # the client is held: its id cannot be reused meanwhile
            history = history_for(client.bounded(call_budget), kind.member_ref(target, "_"))
            entry = _histories[key] = (client, history)
        _histories.move_to_end(key)
        while len(_histories) > MAX_CACHED_HISTORIES:
            _histories.popitem(last=False)
        return entry[1]


def forget_histories() -> None:
    """Drop the remembered histories (tests; a long-lived process that wants fresh ones now)."""
    with _histories_lock:
        _histories.clear()


# --- the single item's spec, read and verdict ---------------------------------------------------


@dataclass(frozen=True)
class SingleSpec:
    """Validated arguments of one single-item data source; built before any request."""

    kind: Kind
    ref: Any
    wait: bool
    policy: WaitPolicy
    fail_on: tuple[str, ...]
    region: Optional[str]
    account_id: Optional[str]
    endpoint: Optional[str]
    hidden: frozenset = frozenset()  # the arguments given as secrets

    @classmethod
    def build(cls, *, kind: Kind = FC2, wait_for_completion: Any = False, timeout_seconds: Any = 1800,
              fail_on_statuses: Any = None, poll_interval_seconds: Any = 1.0,
              max_poll_interval_seconds: Any = None, region: Any = None, account_id: Any = None,
              endpoint: Any = None, use_duration_history: Any = True, hidden: frozenset = frozenset(),
              **names: Any) -> "SingleSpec":
        """``max_poll_interval_seconds`` unset (None): the default cap of the default schedule
        (:data:`~..waiter.DEFAULT_MAX_POLL_INTERVAL`); set: a ceiling no delay exceeds."""
        unknown = set(names) - set(kind.ref_keys)
        if unknown:
            raise TypeError(f"unexpected argument {sorted(unknown)[0]!r} for {kind.resource_name}")
        ref = kind.make_ref(names)
        if not isinstance(wait_for_completion, bool):
            raise InvalidArgumentError("wait_for_completion", wait_for_completion, "must be True or False")
        if not isinstance(use_duration_history, bool):
            raise InvalidArgumentError("use_duration_history", use_duration_history, "must be True or False")
        capped = max_poll_interval_seconds is not None
        policy = WaitPolicy(initial_delay=poll_interval_seconds,
                            max_delay=max_poll_interval_seconds if capped else DEFAULT_MAX_POLL_INTERVAL,
                            cap=max_poll_interval_seconds if capped else None, timeout=timeout_seconds,
                            not_found_grace=NOT_FOUND_GRACE, duration_aware=use_duration_history)
        if timeout_seconds is None:
            raise InvalidArgumentError("timeout_seconds", timeout_seconds, "must be a positive number of seconds")
        region, account_id, endpoint = check_settings(region, account_id, endpoint, hidden)
        return cls(kind=kind, ref=ref, wait=wait_for_completion, policy=policy,
                   fail_on=check_fail_on_statuses(fail_on_statuses), region=region, account_id=account_id,
                   endpoint=endpoint, hidden=frozenset(hidden))

    @property
    def id(self) -> str:
        """The read's id (the composite id), secret parts masked."""
        return self.ref.masked(self.hidden)

    @property
    def secret_texts(self) -> tuple[str, ...]:
        return secret_values(self.props(), self.hidden)

    def props(self) -> dict[str, Any]:
        return {
            **self.kind.ref_fields(self.ref),
            "wait_for_completion": self.wait, "timeout_seconds": self.policy.timeout,
            "fail_on_statuses": list(self.fail_on), "poll_interval_seconds": self.policy.initial_delay,
            "max_poll_interval_seconds": self.policy.cap, "region": self.region,
            "account_id": self.account_id, "endpoint": self.endpoint,
            "use_duration_history": self.policy.duration_aware,
        }


# A 404 that names the function (its service, alias or version), not the task: no retention to blame.
_TARGET_NOT_FOUND = frozenset({"ServiceNotFound", "FunctionNotFound", "AliasNotFound", "VersionNotFound"})


def item_not_found(error: NotFoundError) -> bool:
    """Whether a 404 is about the task or invocation itself, one FC may have forgotten (it keeps a task
    :data:`TASK_RETENTION_DAYS` days), not about its function, service, alias or version (deleted, or a
    region or account changed): only the former lets a refresh keep the state last recorded."""
    return error.code not in _TARGET_NOT_FOUND


def not_found_message(kind: Kind, ref: Any, error: NotFoundError, details: bool = True, gate: bool = True) -> str:
    """What was not found; ``details=False`` leaves out FC's code and request id, for a message that
    becomes a NotFoundError again (which shows them itself: said twice, they read as two errors).
    A missing item may be one FC has forgotten: the message says so, and (``gate``) what a gate's
    program should do."""
    text = not_found_details(kind.not_found_head(ref), error, details)
    if not item_not_found(error):
        return text
    noun = kind.noun
    text += (f". FC keeps an async task's record for {TASK_RETENTION_DAYS} days after it starts: if this {noun} "
             f"started earlier, FC has forgotten it and no read will find it again")
    if not gate:
        return text
    return (f"{text}. A gate is for the deployments that wait for its {noun}: once it has ended, remove this gate "
            f"from the program (or point it at a newer {noun})")


def retrying(call: Callable[[], T], budget: float) -> T:
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


def read_and_check(client: FcClient, ref: Any, props: Mapping[str, Any], refresh: bool = False,
                   kind: Kind = FC2) -> Any:
    """One read, then the gate's verdict: raises on a fail status, an expired wait or a missing item.

    A refresh records the current state and gives no verdict: the gate belongs to `up`/`preview`, and
    a refresh runs with the settings saved in state, which the user cannot change from the program."""
    try:
        result = retrying(lambda: kind.read(client, ref), 0.0 if refresh else gate_budget(props))
    except AuthenticationError as exc:
        if refresh:
            raise refresh_refused(exc) from None
        raise
    except NotFoundError as exc:
        raise NotFoundError(not_found_message(kind, ref, exc, details=False), code=exc.code,
                            request_id=exc.request_id, http_status=exc.http_status) from None
    if refresh:
        return result
    return verdict(ref, result, props, noun=kind.noun)


def verdict(ref: Any, result: Any, props: Mapping[str, Any], noun: str = "invocation") -> Any:
    """The gate's verdict on ``result`` (the final read, or a mock's outputs): raises on a fail status
    or an unfinished wait (``waited_seconds`` set), else returns ``result``."""
    fail_on = check_fail_on_statuses(props.get("fail_on_statuses"))
    waited = props.get("waited_seconds")
    if props.get("wait_for_completion") and waited is not None and not result.is_terminal:
        timeout = float(props.get("timeout_seconds") or 0)
        if timeout and waited >= timeout:
            raise WaitTimeoutError(timeout_message(ref, result, waited, timeout, noun=noun,
                                                   last_error=props.get("last_error")), last_result=result,
                                   elapsed=waited)
        ended = [e.status for e in result.events if InvocationStatus(e.status or "?").is_terminal]
        if ended:  # the wait saw it end; FC has run it again since (a retry)
            raise WaitTimeoutError(
                f"{noun} {ref} is {result.status.value} again after ending {ended[-1]}: the wait ended after "
                f"{format_duration(waited)} when FC reported it finished, and FC has resumed it since; "
                f"run the update again to wait for the new attempt", last_result=result, elapsed=waited)
        raise WaitTimeoutError(
            f"stopped waiting for {noun} {ref} after {format_duration(waited)}: an API error ended the wait "
            f"(see the warning logged against this resource); last status {result.status.value}",
            last_result=result, elapsed=waited)
    if result.status.value in fail_on:
        raise InvocationFailedError(failure_message(ref, result, fail_on, noun=noun), result=result)
    return result


def single_outputs(kind: Kind, result: Any, ref: Any, props: Mapping[str, Any]) -> dict[str, Any]:
    """A single data source's outputs: the item's, then the inputs it echoes (a refresh reads them)."""
    outs = kind.outputs(result)
    for key in SINGLE_ECHO_KEYS:
        outs[key] = props.get(key)
    if outs["qualifier"] is None:
        outs["qualifier"] = ref.qualifier
    return outs


# --- the batch's outputs ------------------------------------------------------------------------


def batch_result_keys(kind: Kind) -> tuple[str, ...]:
    return ("ids", kind.items_key, "counts", "total", "all_terminal", "all_succeeded")


def batch_output_keys(kind: Kind) -> tuple[str, ...]:
    from ..batching import batch_input_keys

    return batch_input_keys(kind) + batch_result_keys(kind) + ("waited_seconds",)


def batch_outputs(summary: BatchSummary) -> dict[str, Any]:
    """The result outputs: ``ids``, the members (selected by ``statuses`` and ``limit``), ``counts``,
    ``total``, ``all_terminal``, ``all_succeeded`` (about the whole batch)."""
    spec = summary.spec
    kind = spec.kind
    selected = [r for r in summary.invocations if not spec.statuses or r.status.value in spec.statuses]
    if spec.limit is not None:
        selected = selected[:spec.limit]
    members = []
    for result in selected:
        values = kind.outputs(result)
        if values["qualifier"] is None:
            values["qualifier"] = spec.qualifier
        if not spec.include_payloads:
            for key in kind.payload_keys:
                values[key] = None
        members.append(values)
    return {
        "ids": [str(spec.ref(r.invocation_id)) for r in selected],
        kind.items_key: members,
        "counts": dict(summary.counts),
        "total": summary.total,
        "all_terminal": summary.all_terminal,
        "all_succeeded": summary.all_succeeded,
    }


# --- the gates ----------------------------------------------------------------------------------


class SingleGate:
    """A gate on one item (an invocation or a task)."""

    batch = False

    def __init__(self, spec: SingleSpec) -> None:
        self.spec = spec
        self.kind = spec.kind
        self.shown = spec.id

    def reader(self, client: FcClient) -> Callable[[], Any]:
        kind, ref = self.kind, self.spec.ref
        return lambda: kind.read(client, ref)

    def poller(self, client: FcClient) -> Callable[[], Any]:
        return self.reader(client)

    def wait_calls(self, client: FcClient, polling: FcClient) -> tuple[Callable[[], Any], Any]:
        """(the poll, the duration history) of a wait: polls through ``polling``, the history through
        ``client`` (shared by the gates of the function)."""
        return self.poller(polling), duration_history(client, self.kind, self.kind.ref_fields(self.spec.ref))

    def policy(self) -> WaitPolicy:
        return self.spec.policy

    def judge(self, result: Any, props: Mapping[str, Any]) -> Any:
        return verdict(self.spec.ref, result, props, noun=self.kind.noun)

    def final_read(self, client: FcClient, props: Mapping[str, Any], refresh: bool = False, judge: bool = True) -> Any:
        props = props if judge else {**props, "fail_on_statuses": []}
        return read_and_check(client, self.spec.ref, props, refresh=refresh, kind=self.kind)

    def not_found(self, error: NotFoundError) -> str:
        return not_found_message(self.kind, self.spec.ref, error)

    def start_message(self) -> str:
        return f"waiting for {self.shown} to finish (timeout {format_duration(self.spec.policy.timeout or 0)})"

    def progress(self, result: Any, elapsed: float) -> str:
        return progress_message(self.shown, result, elapsed)

    def ended_message(self, result: Any, elapsed: float) -> Optional[str]:
        return f"{self.shown} is {result.status.value} after {format_duration(elapsed)}" if result.is_terminal else None

    def no_result_message(self, outcome: Any) -> str:
        timeout = self.spec.policy.timeout
        if outcome.timed_out:
            return (f"{timeout_message(self.shown, None, outcome.elapsed, timeout or 0, noun=self.kind.noun)}; "
                    f"last error: {outcome.error}")
        return (f"stopped waiting for {self.kind.noun} {self.shown} after {format_duration(outcome.elapsed)}: an API "
                f"error ended the wait: {outcome.error}")


class BatchGate:
    """A gate on a batch: polled through a :class:`~..batching.BatchTracker` (cheap listings)."""

    batch = True

    def __init__(self, spec: BatchSpec) -> None:
        self.spec = spec
        self.kind = spec.kind
        self.shown = spec.label

    def reader(self, client: FcClient) -> Callable[[], Any]:
        return BatchTracker(client, self.spec).poll

    def poller(self, client: FcClient) -> Callable[[], Any]:
        return BatchTracker(client, self.spec).poll

    def wait_calls(self, client: FcClient, polling: FcClient) -> tuple[Callable[[], Any], Any]:
        """As :meth:`SingleGate.wait_calls`: a batch ends with its slowest member, so the history is the
        longest of as many of the function's durations as the batch has members (``expected_count``,
        else those the first poll listed; none listed: no history)."""
        tracker = BatchTracker(polling, self.spec)
        shared = duration_history(client, self.kind, self.spec.target)

        def history() -> Optional[list[float]]:
            size = self.spec.expected_count or len(tracker.known)
            return batch_history(shared, size)() if size else None

        return tracker.poll, history

    def policy(self) -> WaitPolicy:
        # The gate (not the CLI) gives a just-started batch a moment to be listed.
        return dataclasses.replace(self.spec.policy, not_found_grace=NOT_FOUND_GRACE)

    def judge(self, summary: Any, props: Mapping[str, Any]) -> Any:
        return batch_verdict(summary, props)

    def final_read(self, client: FcClient, props: Mapping[str, Any], refresh: bool = False, judge: bool = True) -> Any:
        return read_batch_and_check(client, self.spec, props, refresh=refresh, judge=judge)

    def not_found(self, error: NotFoundError) -> str:
        return batch_not_found_message(self.spec, error)

    def start_message(self) -> str:
        expected = f"at least {self.spec.expected_count} {self.kind.noun}s, " if self.spec.expected_count else ""
        return f"waiting for {self.shown} to finish ({expected}timeout {format_duration(self.spec.policy.timeout or 0)})"

    def progress(self, summary: Any, elapsed: float) -> str:
        return summary.progress(elapsed) if summary is not None else \
            f"{self.shown}: no answer yet, {format_duration(elapsed)} elapsed"

    def ended_message(self, summary: Any, elapsed: float) -> Optional[str]:
        return f"{self.shown}: {summary.text()} after {format_duration(elapsed)}" if summary.is_terminal else None

    def no_result_message(self, outcome: Any) -> str:
        return (f"stopped waiting for {self.shown} after {format_duration(outcome.elapsed)} without a successful "
                f"listing: {outcome.error}")


def gate_for(spec: Any) -> Any:
    """The gate of a spec: a :class:`BatchGate` for a :class:`~..batching.BatchSpec`, else a :class:`SingleGate`."""
    return BatchGate(spec) if isinstance(spec, BatchSpec) else SingleGate(spec)


class Reporter(Protocol):
    """Where a gate's messages go, and how it fails: the program's (``pulumi.log`` and a RunError), or a
    provider plugin's (the engine's status messages)."""

    def info(self, text: str) -> None: ...

    def warn(self, text: str) -> None: ...

    def fail(self, text: str) -> NoReturn: ...

    def until_done(self, wait: Awaitable[T]) -> Awaitable[T]: ...


async def until_set(wait: Awaitable[T], event: asyncio.Event) -> tuple[bool, Optional[T]]:
    """``(True, await wait)``, unless ``event`` is set first: then the wait is cancelled, ``(False, None)``.
    How a gate stops when another fails (the program) or the engine cancels (the plugin)."""
    task = asyncio.ensure_future(wait)
    stop = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if task.done():
        return True, task.result()
    task.cancel()
    return False, None


def waiter(gate: Any, client: FcClient, on_progress: Optional[Callable[[Any, float], None]] = None) -> Waiter:
    """The gate's wait: polls through a client bounded by the wait's deadline on the waiter's clock
    (``call_budget``: no call outlives it, and the read at the deadline has a budget of its own),
    duration-aware (:class:`~..waiter.WaitPolicy`) from the function's recent runs: one list call,
    shared by the gates of the function; refused or unusable, the default schedule. A task's age is
    measured on FC's clock (``client.server_time``)."""
    polling = client.bounded(call_budget)
    policy = gate.policy()
    fetch, history = gate.wait_calls(client, polling)
    return Waiter(fetch, policy, on_progress=on_progress, progress_interval=progress_interval(),
                  history=history if policy.duration_aware else None, server_now=client.server_time)


async def run_gate(gate: Any, client: FcClient, reporter: Reporter, *, preview: bool,
                   executor: Optional[Executor] = None) -> Optional[float]:
    """Wait (an update, with ``wait_for_completion``) until the item or batch is done, then give the
    verdict through ``reporter``; returns the seconds waited, or None. Reads once for a verdict in a
    preview or without ``wait_for_completion``. (Whether to gate at all, under the switch, in a
    refresh or under mocks, is the caller's call.)"""
    return (await run_gate_result(gate, client, reporter, preview=preview, executor=executor))[1]


async def run_gate_result(gate: Any, client: FcClient, reporter: Reporter, *, preview: bool,
                          executor: Optional[Executor] = None,
                          secrets: Collection[str] = ()) -> tuple[Any, Optional[float]]:
    """:func:`run_gate`, returning (the last result the gate judged, seconds waited or None): a caller
    that records the result needs no read of its own. The result is None when a read without a wait
    met an API error (the caller's read gives the verdict); a batch's is its last poll's summary
    (members without payloads). ``secrets``: more text no message may show besides the spec's secret
    inputs, the secret stack or provider settings the client was built with (an endpoint, or an
    account id inside the endpoint derived from it, shows in every "cannot reach" error)."""
    spec = gate.spec
    executor = executor or pool()
    secrets = tuple(spec.secret_texts) + tuple(secrets)
    props = spec.props()

    def say(severity: Callable[[str], None], text: str) -> None:
        severity(redact(text, secrets))

    def fail(text: str) -> NoReturn:
        reporter.fail(redact(text, secrets))

    def judge(check: Callable[[], Any]) -> Any:
        try:
            return check()
        except (InvocationFailedError, WaitTimeoutError) as exc:
            fail(str(exc))

    if not spec.wait or preview:
        try:
            result = await asyncio.get_running_loop().run_in_executor(executor, gate.reader(client))
        except NotFoundError as exc:
            fail(gate.not_found(exc))
        except FcInvocationError:
            return None, None  # any other API error: the engine's read, which retries, gives the verdict
        judge(lambda: gate.judge(result, props))
        return result, None
    say(reporter.info, gate.start_message())
    def progress(result: Any, elapsed: float) -> None:
        say(reporter.info, gate.progress(result, elapsed))

    outcome = await reporter.until_done(waiter(gate, client, progress).wait_async(executor))
    if outcome.error is not None:
        say(reporter.warn, f"stopped waiting for {gate.shown} after {format_duration(outcome.elapsed)}: "
                           f"{outcome.error}")
    last = outcome.result
    if last is None:  # no successful read: the last error is the verdict
        if isinstance(outcome.error, NotFoundError):
            fail(gate.not_found(outcome.error))
        fail(gate.no_result_message(outcome))
    ended = gate.ended_message(last, outcome.elapsed)
    if ended:
        say(reporter.info, ended)
    judge(lambda: gate.judge(last, {**props, "waited_seconds": outcome.elapsed, "last_error": outcome.last_error}))
    return last, outcome.elapsed


def _waited(outcome: Any) -> float:
    """A function form's seconds waited. An API error that ended its wait is the verdict (no warning is
    logged there, and a read after it would judge an unfinished batch as one that grew after the gate)."""
    if outcome.error is not None and not outcome.timed_out and not isinstance(outcome.error, NotFoundError):
        raise outcome.error
    return outcome.elapsed


def final_read(gate: Any, client: FcClient, *, preview: bool, judge: bool) -> tuple[Any, Optional[float]]:
    """A function form's blocking gate: wait (an update, when asked and judging), then read and judge
    (unless ``judge`` is False: the switch, a refresh or destroy). Returns (result, seconds waited)."""
    props = gate.spec.props()
    waited = None
    if judge and gate.spec.wait and not preview:
        waited = props["waited_seconds"] = _waited(waiter(gate, client).wait())
    return gate.final_read(client, props, judge=judge), waited


async def final_read_async(gate: Any, client: FcClient, *, preview: bool, judge: bool,
                           executor: Optional[Executor] = None) -> tuple[Any, Optional[float]]:
    """:func:`final_read` on the program's event loop (the wait sleeps there, the calls run in threads)."""
    executor = executor or pool()
    props = gate.spec.props()
    waited = None
    if judge and gate.spec.wait and not preview:
        waited = props["waited_seconds"] = _waited(await waiter(gate, client).wait_async(executor))
    loop = asyncio.get_running_loop()
    result = await loop.run_in_executor(executor, lambda: gate.final_read(client, props, judge=judge))
    return result, waited
