"""The gate's conditions: is the item (the batch) done, and did it pass? A verdict raises
:class:`~..errors.InvocationFailedError` on a fail status and :class:`~..errors.WaitTimeoutError` on a
wait that ended unfinished, else returns what it judged. The final read (one read, then the verdict) is
here too, with the one retry loop of the gate (:func:`retrying`).

``props`` are the spec's props (:meth:`~.spec.SingleSpec.props`) and, after a wait, ``waited_seconds``,
``timed_out`` (the waiter's own word that the deadline ended it) and ``last_error``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ..clock import get_clock
from ..errors import InvocationFailedError, NotFoundError, WaitTimeoutError
from ..kinds import FC2, Kind
from ..models import InvocationStatus, check_fail_on_statuses
from ..waiter import TRANSIENT_ERRORS
from .batch import BatchSummary, list_batch
from .messages import (
    batch_not_found_message,
    batch_timeout_message,
    failure_message,
    failures_message,
    format_duration,
    grew_message,
    not_found_message,
    timeout_message,
)
from .spec import BatchSpec

if TYPE_CHECKING:
    from ..client import FcClient

__all__ = ["verdict", "batch_verdict", "read_and_check", "read_batch_and_check", "retrying", "gate_budget",
           "timed_out", "final_call"]

T = TypeVar("T")


def timed_out(props: Mapping[str, Any], timeout: float) -> bool:
    """Whether the wait behind ``props`` ended at its deadline (the waiter says so; so does the time)."""
    waited = props.get("waited_seconds")
    return bool(timeout) and (bool(props.get("timed_out")) or (waited is not None and waited >= timeout))


def retrying(call: Callable[[], T], budget: float) -> T:
    """``call()``, retried on transient errors for up to ``budget`` seconds (backing off 0.5 s to 8 s).

    The gate's final read: after a wait that succeeded, one 503 must not fail the deployment while
    the gate still has time left. Neither other retry covers this: the transport's retries one request
    for seconds (its ``retry_budget``), and the waiter polls until an end status, not until an answer;
    this one spans the gate's time left (minutes) on the package's clock."""
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


def final_call(call: Callable[[], T], not_found: Callable[[NotFoundError], str]) -> T:
    """The final read's ``call()``: a 404 says what is missing (``not_found``). (A refresh's other errors,
    from the settings stored in state, are worded by its front end: gate/explain.py, ``stored=True``.)"""
    try:
        return call()
    except NotFoundError as exc:
        raise NotFoundError(not_found(exc), code=exc.code, request_id=exc.request_id,
                            http_status=exc.http_status) from None


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
    result = final_call(lambda: retrying(lambda: kind.read(client, ref), 0.0 if refresh else gate_budget(props)),
                        lambda exc: not_found_message(kind, ref, exc, details=False))
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
        if timed_out(props, timeout):
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


def read_batch_and_check(client: "FcClient", spec: BatchSpec, props: Mapping[str, Any],
                         refresh: bool = False, judge: bool = True) -> BatchSummary:
    """One full listing, then the gate's verdict: raises on a fail status or an unfinished wait.
    A refresh, or ``judge=False`` (the break-glass switch, a destroy), only records the batch.

    ``props["waited_seconds"]`` is set by the program once its wait ended (update only); in a preview
    it is absent, so the read reports the batch as it is and fails only if a member already failed.
    """
    items, _ = final_call(lambda: list_batch(client, spec, include_payload=spec.include_payloads),
                          lambda exc: batch_not_found_message(spec, exc, details=False))
    summary = BatchSummary(spec, items)
    if refresh or not judge:
        return summary  # a refresh records the batch as it is; the verdict belongs to up/preview
    return batch_verdict(summary, props, after_wait=True)


def batch_verdict(summary: BatchSummary, props: Mapping[str, Any], after_wait: bool = False) -> BatchSummary:
    """The gate's verdict on ``summary`` (the wait's last poll, the final listing, or a mock's outputs):
    raises on a failed member or an unfinished wait (``waited_seconds`` set), else returns ``summary``.

    ``after_wait``: ``summary`` is the read after a wait that ended with the batch complete (the gate
    fails in the program otherwise), so a member not finished now was listed after the gate opened."""
    spec = summary.spec
    if summary.failures:
        raise InvocationFailedError(failures_message(summary), result=summary)
    waited = props.get("waited_seconds")
    if spec.wait and waited is not None and not summary.complete:
        timeout = float(spec.policy.timeout or 0)
        if timed_out(props, timeout):
            raise WaitTimeoutError(batch_timeout_message(summary, waited, timeout), last_result=summary, elapsed=waited)
        if after_wait:
            raise WaitTimeoutError(grew_message(summary, waited), last_result=summary, elapsed=waited)
        raise WaitTimeoutError(f"stopped waiting for {spec.label} after {format_duration(waited)}: an API error "
                               f"ended the wait (see the warning logged against this resource); last seen "
                               f"{summary.text()}", last_result=summary, elapsed=waited)
    return summary
