"""The gates, one per shape of item: :class:`SingleGate` (one invocation or task) and :class:`BatchGate`
(a batch). Each answers the same questions (how to read now, how to poll, what the verdict is, what
to say), so the flow (:mod:`.run`) is written once; :func:`gate_for` picks the gate of a spec.
A gate's reads keep its secret inputs out of the transport's and urllib3's log records (:func:`masked`).
API-neutral: the spec's :class:`~..kinds.Kind` names the API. Imports no Pulumi module.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, Optional, TypeVar

from ..client import FcClient
from ..errors import NotFoundError
from ..models import masking_logs
from ..waiter import WaitPolicy, batch_history
from .batch import BatchTracker
from .clients import duration_history
from .messages import (
    batch_not_found_message,
    format_duration,
    not_found_message,
    progress_message,
    timeout_message,
)
from .spec import BatchSpec, SingleSpec
from .verdict import batch_verdict, read_and_check, read_batch_and_check, verdict

__all__ = ["SingleGate", "BatchGate", "gate_for", "masked"]

T = TypeVar("T")


def masked(secrets: Collection[str], call: Callable[[], T]) -> Callable[[], T]:
    """``call`` with ``secrets`` masked in the log records of its requests (:func:`~..models.masking_logs`),
    in whichever thread runs it: a pool's thread does not carry the caller's context."""
    def run() -> T:
        with masking_logs(secrets):
            return call()

    return run


class SingleGate:
    """A gate on one item (an invocation or a task)."""

    batch = False

    def __init__(self, spec: SingleSpec) -> None:
        self.spec = spec
        self.kind = spec.kind
        self.shown = spec.id

    def reader(self, client: FcClient) -> Callable[[], Any]:
        kind, ref = self.kind, self.spec.ref
        return masked(self.spec.secret_texts, lambda: kind.read(client, ref))

    def wait_calls(self, client: FcClient) -> tuple[Callable[[], Any], Any]:
        """(the poll, the duration history) of a wait through ``client``; the history is shared by the
        gates of the function. Neither masks the secret inputs in the log records: :func:`.run.waiter`
        runs both under them."""
        kind, ref = self.kind, self.spec.ref
        history = duration_history(client, kind, kind.ref_fields(ref), self.spec.secret_texts)
        return lambda: kind.read(client, ref), history

    def policy(self) -> WaitPolicy:
        return self.spec.policy

    def judge(self, result: Any, props: Mapping[str, Any]) -> Any:
        return verdict(self.spec.ref, result, props, noun=self.kind.noun)

    def final_read(self, client: FcClient, props: Mapping[str, Any], refresh: bool = False, judge: bool = True) -> Any:
        props = props if judge else {**props, "fail_on_statuses": []}
        with masking_logs(self.spec.secret_texts):
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
    """A gate on a batch: polled through a :class:`~.batch.BatchTracker` (cheap listings)."""

    batch = True

    def __init__(self, spec: BatchSpec) -> None:
        self.spec = spec
        self.kind = spec.kind
        self.shown = spec.label
        self.tracker: Optional[BatchTracker] = None

    def reader(self, client: FcClient) -> Callable[[], Any]:
        return masked(self.spec.secret_texts, BatchTracker(client, self.spec).poll)

    def wait_calls(self, client: FcClient) -> tuple[Callable[[], Any], Any]:
        """As :meth:`SingleGate.wait_calls`: a batch ends with its slowest member, so the history is the
        longest of as many of the function's durations as the batch has members (as many as the first
        poll listed, at least ``expected_count``, at least one). The wait's tracker stays in
        ``self.tracker`` (its polls and list calls)."""
        tracker = self.tracker = BatchTracker(client, self.spec)
        shared = duration_history(client, self.kind, self.spec.target, self.spec.secret_texts)

        def history() -> Optional[list[float]]:
            return batch_history(shared, max(self.spec.minimum_count, len(tracker.known)))()

        return tracker.poll, history

    def policy(self) -> WaitPolicy:
        return self.spec.policy

    def judge(self, summary: Any, props: Mapping[str, Any]) -> Any:
        return batch_verdict(summary, props)

    def final_read(self, client: FcClient, props: Mapping[str, Any], refresh: bool = False, judge: bool = True) -> Any:
        with masking_logs(self.spec.secret_texts):
            return read_batch_and_check(client, self.spec, props, refresh=refresh, judge=judge)

    def not_found(self, error: NotFoundError) -> str:
        return batch_not_found_message(self.spec, error)

    def start_message(self) -> str:
        expected = f"at least {self.spec.expected_count} {self.kind.noun}s, " if self.spec.expected_count else ""
        timeout = format_duration(self.spec.policy.timeout or 0)
        return f"waiting for {self.shown} to finish ({expected}timeout {timeout})"

    def progress(self, summary: Any, elapsed: float) -> str:
        return summary.progress(elapsed) if summary is not None else \
            f"{self.shown}: no answer yet, {format_duration(elapsed)} elapsed"

    def ended_message(self, summary: Any, elapsed: float) -> Optional[str]:
        return f"{self.shown}: {summary.text()} after {format_duration(elapsed)}" if summary.is_terminal else None

    def no_result_message(self, outcome: Any) -> str:
        return (f"stopped waiting for {self.shown} after {format_duration(outcome.elapsed)} without a successful "
                f"listing: {outcome.error}")


def gate_for(spec: Any) -> Any:
    """The gate of a spec: a :class:`BatchGate` for a :class:`~.spec.BatchSpec`, else a :class:`SingleGate`."""
    return BatchGate(spec) if isinstance(spec, BatchSpec) else SingleGate(spec)

