"""The sentences a gate says: progress while it waits, and why it failed (an end status, a timeout,
nothing found). Every front end (the data sources, the plugin, the CLI) says the same words."""

from __future__ import annotations

from typing import Any, Optional

from ..errors import NotFoundError

__all__ = ["format_duration", "progress_message", "failure_message", "not_found_details", "timeout_message"]


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
