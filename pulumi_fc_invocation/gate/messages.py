"""The sentences a gate says: progress while it waits, and why it failed (an end status, a timeout,
nothing found), for one item and for a batch. Every front end (the data sources, the plugin, the CLI)
says the same words."""

from __future__ import annotations

from typing import Any, Optional

from ..errors import NotFoundError

__all__ = ["TASK_RETENTION_DAYS", "MAX_FAILURES_SHOWN", "format_duration", "progress_message", "failure_message",
           "not_found_details", "timeout_message", "item_not_found", "not_found_message", "batch_not_found_message",
           "failures_message", "batch_timeout_message", "grew_message"]

# FC keeps an async task's record this long after it starts, then answers NotFound as for an id it
# never had and lists it no more: FC 3.0's guide "Asynchronous tasks" (7 days), FC 2.0's user guide
# (asynchronous tasks, "Validity period": "You can query task information only within seven days").
TASK_RETENTION_DAYS = 7
MAX_FAILURES_SHOWN = 10
# A 404 that names the function (its service, alias or version), not the task: no retention to blame.
_TARGET_NOT_FOUND = frozenset({"ServiceNotFound", "FunctionNotFound", "AliasNotFound", "VersionNotFound"})


def format_duration(seconds: float) -> str:
    seconds = int(round(max(0.0, seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def progress_message(ref: Any, result: Optional[Any], elapsed: float) -> str:
    if result is None:
        return f"waiting for {ref}: no answer yet, {format_duration(elapsed)} elapsed"
    retried = result.already_retried_times
    times = "time" if retried == 1 else "times"
    return f"waiting for {ref}: {result.status.value}, retried {retried} {times}, {format_duration(elapsed)} elapsed"


def failure_message(ref: Any, result: Any, fail_on: Any, noun: str = "invocation") -> str:
    """``noun`` names the item: "invocation" (FC 2.0) or "task" (FC 3.0)."""
    error = result.invocation_error_message or "no error message"
    statuses = ", ".join(str(s) for s in fail_on)
    return (f"{noun} {ref} ended {result.status.value}: {error} "
            f"(request id {result.request_id or 'unknown'}; fail_on_statuses: {statuses})")


def not_found_details(head: str, error: NotFoundError, details: bool) -> str:
    """``head`` with FC's message; with ``details``, its code and request id too."""
    if not details:
        return f"{head}: {error.message}"
    return f"{head} ({error.code or 'HTTP 404'}: {error.message}; request id {error.request_id or 'unknown'})"


def timeout_message(ref: Any, last: Optional[Any], elapsed: float, timeout: float,
                    noun: str = "invocation", last_error: Optional[BaseException] = None) -> str:
    """``last_error``: why the reads after the last good one failed (``WaitOutcome.last_error``), if they did."""
    status = last.status.value if last is not None else "unknown (no successful read)"
    since = f"; the reads since failed: {last_error}" if last_error is not None else ""
    return (f"timed out waiting for {noun} {ref}: last status {status} after {format_duration(elapsed)} "
            f"(timeout_seconds={timeout:g}){since}")


# --- one item -----------------------------------------------------------------------------------


def item_not_found(error: NotFoundError) -> bool:
    """Whether a 404 is about the task or invocation itself, one FC may have forgotten (it keeps a task
    :data:`TASK_RETENTION_DAYS` days), not about its function, service, alias or version (deleted, or a
    region or account changed): only the former lets a refresh keep the state last recorded."""
    return error.code not in _TARGET_NOT_FOUND


def not_found_message(kind: Any, ref: Any, error: NotFoundError, details: bool = True, gate: bool = True) -> str:
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


# --- a batch (``summary``: a :class:`~.batch.BatchSummary`) --------------------------------------


def batch_not_found_message(spec: Any, error: NotFoundError, details: bool = True) -> str:
    """As the single data source's, for a batch's function."""
    head = spec.kind.target_not_found_head(spec.label, spec.target)
    return not_found_details(head, error, details)


def failures_message(summary: Any) -> str:
    spec = summary.spec
    failures = summary.failures
    noun = spec.kind.noun if len(failures) == 1 else spec.kind.noun + "s"
    lines = [f"{spec.label}: {len(failures)} {noun} ended in a fail status ({summary.text()}; "
             f"fail_on_statuses: {', '.join(spec.fail_on)}):"]
    for result in failures[:MAX_FAILURES_SHOWN]:
        lines.append(f"  {spec.ref(result.invocation_id)} ended {result.status.value}: "
                     f"{result.invocation_error_message or 'no error message'} "
                     f"(request id {result.request_id or 'unknown'})")
    if len(failures) > MAX_FAILURES_SHOWN:
        lines.append(f"  ... and {len(failures) - MAX_FAILURES_SHOWN} more")
    return "\n".join(lines)


def batch_timeout_message(summary: Any, waited: float, timeout: float) -> str:
    spec = summary.spec
    text = (f"timed out waiting for {spec.label}: {summary.text()} after {format_duration(waited)} "
            f"(timeout_seconds={timeout:g})")
    if summary.total < spec.minimum_count:
        names = ", ".join(key.replace("_name", "") for key in spec.kind.target_keys)
        text += (f"; only {summary.total} matching {spec.kind.noun}{'s' if summary.total != 1 else ''} exist, "
                 f"expected_count={spec.minimum_count}" if spec.expected_count else
                 f"; no {spec.kind.noun} matches (check {names}, prefix and time window)")
        text += f"; FC forgets a task {TASK_RETENTION_DAYS} days after it starts"  # a listing leaves it out
    return text


def grew_message(summary: Any, waited: float) -> str:
    """The read after the gate opened lists members not finished: the batch was still being started."""
    spec = summary.spec
    pending = [r for r in summary.invocations if not r.is_terminal]
    noun = spec.kind.noun if len(pending) == 1 else spec.kind.noun + "s"
    shown = ", ".join(str(spec.ref(r.invocation_id)) for r in pending[:MAX_FAILURES_SHOWN])
    more = f" and {len(pending) - MAX_FAILURES_SHOWN} more" if len(pending) > MAX_FAILURES_SHOWN else ""
    count = f"expected_count (now {spec.expected_count})" if spec.expected_count else "expected_count"
    return (f"{spec.label}: {len(pending)} {noun} listed after the gate opened not finished yet: {shown}{more} "
            f"({summary.text()}). The gate opened after {format_duration(waited)}, when every {spec.kind.noun} it "
            f"listed had ended: the batch was still being started. To wait for all of it, set {count} to the "
            f"number of {spec.kind.noun}s the batch will have, then run the update again")
