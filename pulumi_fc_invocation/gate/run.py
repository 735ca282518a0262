"""The gate's flow: spec → read → wait → verdict → outputs, written once over a gate (:mod:`.gates`).

:func:`run_gate_result` is a program's or the plugin's gate (its words through a
:class:`~.reporting.Reporter`); :func:`final_read` and :func:`final_read_async` a function form's;
the CLI drives :func:`waiter` and judges with :func:`finished_props` as they do. Whether to gate at
all (the break-glass switch, a refresh, mocks) is the caller's call.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Executor
from typing import Any, NoReturn, Optional

from ..client import FcClient
from ..errors import (AuthenticationError, ConfigurationError, FcInvocationError, InvocationFailedError, NotFoundError,
                      WaitTimeoutError)
from ..models import redact
from ..waiter import Waiter
from .clients import pool
from .explain import explains, is_user_fixable
from .gates import masked
from .messages import format_duration
from .reporting import Reporter

__all__ = ["PROGRESS_INTERVAL", "progress_interval", "waiter", "finished_props", "run_gate_result", "preview_message",
           "final_read", "final_read_async"]

PROGRESS_INTERVAL = 30.0


def progress_interval() -> float:
    """Seconds between progress messages; ``FC_INVOCATION_PROGRESS_SECONDS`` overrides (demos, CI logs)."""
    try:
        value = float(os.environ.get("FC_INVOCATION_PROGRESS_SECONDS", PROGRESS_INTERVAL))
    except ValueError:
        return PROGRESS_INTERVAL
    return value if value > 0 else PROGRESS_INTERVAL


def waiter(gate: Any, client: FcClient, on_progress: Optional[Callable[[Any, float], None]] = None, *,
           observe: Optional[Callable[[Any], None]] = None) -> Waiter:
    """The gate's wait: polls through ``client``, each call within the wait's deadline on the waiter's
    clock (the client keeps to :func:`~..clock.call_budget`, which the waiter sets: no call outlives
    it, and the read at the deadline has a budget of its own); duration-aware
    (:class:`~..waiter.WaitPolicy`) from the function's recent runs: one list call, shared by the gates
    of the function; refused or unusable, the default schedule. A task's age is measured on FC's clock
    (``client.server_time``). ``observe`` sees every read's result (a live progress line). Both calls
    keep the gate's secret inputs out of the log records of their requests, in the waiter's threads."""
    policy = gate.policy()
    fetch, history = gate.wait_calls(client)
    fetch, history = masked(gate.spec.secret_texts, fetch), masked(gate.spec.secret_texts, history)
    if observe is not None:
        poll = fetch

        def fetch() -> Any:
            result = poll()
            observe(result)
            return result

    return Waiter(fetch, policy, on_progress=on_progress, progress_interval=progress_interval(),
                  history=history if policy.duration_aware else None, server_now=client.server_time)


def finished_props(props: Mapping[str, Any], outcome: Any) -> dict[str, Any]:
    """The props a verdict judges a finished wait by: how long it waited, whether its deadline ended
    it, and why the reads after the last good one failed, if they did."""
    return {**props, "waited_seconds": outcome.elapsed, "timed_out": outcome.timed_out,
            "last_error": outcome.last_error}


async def run_gate_result(gate: Any, client: FcClient, reporter: Reporter, *, preview: bool,
                          executor: Optional[Executor] = None,
                          secrets: Collection[str] = ()) -> tuple[Any, Optional[float]]:
    """Wait (an update, with ``wait_for_completion``) until the item or batch is done, then give the
    verdict through ``reporter``; reads once for a verdict in a preview or without
    ``wait_for_completion``. (Whether to gate at all, under the switch, in a refresh or under mocks, is
    the caller's call.) Returns (the last result the gate judged, seconds waited or None): a caller
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
            if not explains(exc):  # the item itself
                fail(gate.not_found(exc))
            raise _missing_target(gate, exc) from None
        except FcInvocationError as exc:
            if explains(exc):
                raise  # a setting to fix, or the network (explain.py): the caller words it, here, not a later read
            return None, None  # any other API error: the engine's read, which retries, gives the verdict
        judge(lambda: gate.judge(result, props))
        if preview and spec.wait and not result.is_terminal:
            say(reporter.info, preview_message(gate, result))
        return result, None
    say(reporter.info, gate.start_message())

    def progress(result: Any, elapsed: float) -> None:
        say(reporter.info, gate.progress(result, elapsed))

    outcome = await reporter.until_done(waiter(gate, client, progress).wait_async(executor))
    if outcome.error is not None and is_user_fixable(outcome.error) \
            and (outcome.result is None or isinstance(outcome.error, (AuthenticationError, ConfigurationError))):
        # A setting to fix (explain.py: a 404 about the function itself too), even after good reads (an STS
        # token that expired mid-wait): the caller words it, once, in its front end's terms.
        if isinstance(outcome.error, NotFoundError):
            raise _missing_target(gate, outcome.error) from None
        raise outcome.error
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
    judge(lambda: gate.judge(last, finished_props(props, outcome)))
    return last, outcome.elapsed


def _missing_target(gate: Any, error: NotFoundError) -> NotFoundError:
    """A 404 about the gate's function, service, alias or version, in the gate's words (what it reads), for
    explain.py to add the fix (a name, the region, the account)."""
    return NotFoundError(gate.not_found(error), code=error.code, request_id=error.request_id,
                         http_status=error.http_status)


def preview_message(gate: Any, result: Any) -> str:
    """A preview's line for a gate that `pulumi up` will wait on (``result`` has not ended), naming what it
    reads: the engine's preview of a read names no id (the old one under --diff) and knows none of its
    outputs yet, so a new task id alone previewed as unchanged. A gate whose item has ended gets no line:
    its new outputs show in the preview's diff, and an unchanged stack previews without one line a gate."""
    state = f": {result.text()}" if gate.batch else f" is {result.status.value}"
    timeout = format_duration(gate.spec.policy.timeout or 0)
    return f"preview: {gate.shown}{state} now; `pulumi up` waits for it (timeout {timeout})"


def _after_wait(gate: Any, outcome: Any, props: Mapping[str, Any]) -> dict[str, Any]:
    """A function form's props once its wait ended (:func:`finished_props`), judged as the other front
    ends judge them. An API error that ended the wait is the verdict (no warning is logged there, and a
    read after it would judge an unfinished batch as one that grew after the gate). A wait that timed out
    with no successful read fails with :func:`run_gate_result`'s words and no final read (a hung STS
    would hang it too, attempt after attempt); one whose reads answered 404 reads once more (its
    NotFoundError names what is missing). A wait whose reads since the last answer were credential
    fetches cut by its deadline makes no final read either (the waiter made none at the deadline): the
    last answer is judged, as a data source judges it (it raises: the item had not ended)."""
    if outcome.error is not None and not outcome.timed_out and not isinstance(outcome.error, NotFoundError):
        raise outcome.error
    if outcome.result is None and outcome.error is not None and not isinstance(outcome.error, NotFoundError):
        raise WaitTimeoutError(gate.no_result_message(outcome), elapsed=outcome.elapsed) from None
    props = finished_props(props, outcome)
    if outcome.timed_out and outcome.result is not None \
            and getattr(outcome.last_error, "credential_fetch_cut", False) is True:
        gate.judge(outcome.result, props)
    return props


def final_read(gate: Any, client: FcClient, *, preview: bool, judge: bool) -> tuple[Any, Optional[float]]:
    """A function form's blocking gate: wait (an update, when asked and judging), then read and judge
    (unless ``judge`` is False: the switch, a refresh or destroy). Returns (result, seconds waited)."""
    props = gate.spec.props()
    waited = None
    if judge and gate.spec.wait and not preview:
        props = _after_wait(gate, waiter(gate, client).wait(), props)
        waited = props["waited_seconds"]
    return gate.final_read(client, props, judge=judge), waited


async def final_read_async(gate: Any, client: FcClient, *, preview: bool, judge: bool,
                           executor: Optional[Executor] = None) -> tuple[Any, Optional[float]]:
    """:func:`final_read` on the program's event loop (the wait sleeps there, the calls run in threads)."""
    executor = executor or pool()
    props = gate.spec.props()
    waited = None
    if judge and gate.spec.wait and not preview:
        props = _after_wait(gate, await waiter(gate, client).wait_async(executor), props)
        waited = props["waited_seconds"]
    loop = asyncio.get_running_loop()
    result = await loop.run_in_executor(executor, lambda: gate.final_read(client, props, judge=judge))
    return result, waited

