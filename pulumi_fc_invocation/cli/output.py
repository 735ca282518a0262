"""What the CLI writes: stdout and stderr that survive a closed pipe and any encoding, one-line errors,
JSON for scripts (snake_case, RFC 3339 times) and tables for people."""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import datetime, timezone
from typing import Any, Optional

from ..errors import printable
from .parsing import noun, valid_id

__all__ = ["Output", "out", "err", "one_line", "encodable", "truncate", "fmt_duration", "duration_of", "rfc3339",
           "invocation_json", "batch_json", "print_json", "print_invocation_table", "print_list_table"]

def encodable(text: str, stream: Any) -> str:
    """``text`` as ``stream`` can encode it: what its encoding lacks (cp1252 on Windows when output
    is redirected) and lone surrogates become backslash escapes instead of a UnicodeEncodeError."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        return text.encode(encoding, "backslashreplace").decode(encoding, "replace")
    except LookupError:
        return text.encode("ascii", "backslashreplace").decode("ascii")


def is_utf8(stream: Any) -> bool:
    import codecs

    try:
        return codecs.lookup(getattr(stream, "encoding", None) or "utf-8").name == "utf-8"
    except LookupError:
        return False


class Output:
    """stdout/stderr writes that survive a closed pipe (``| head``) without changing the exit code,
    and a stream that cannot encode every character."""

    broken = False

    @classmethod
    def write(cls, text: str, err: bool = False) -> None:
        stream = sys.stderr if err else sys.stdout
        if cls.broken and not err:
            return
        try:
            stream.write(encodable(text, stream))
            stream.flush()
        except BrokenPipeError:
            if not err:
                cls.broken = True
                try:
                    devnull = os.open(os.devnull, os.O_WRONLY)
                    os.dup2(devnull, sys.stdout.fileno())
                except (OSError, ValueError):
                    pass


def out(text: str = "") -> None:
    """A line on stdout; control characters from server text are shown escaped (see ``printable``)."""
    Output.write(printable(text) + "\n")


def err(text: str) -> None:
    Output.write(printable(text) + "\n", err=True)


def one_line(text: Any) -> str:
    return " ".join(printable(str(text)).split())


def rfc3339(value: Optional[datetime]) -> str:
    if value is None:
        return "-"
    value = value.astimezone(timezone.utc)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return text + "Z"


def duration_of(result: Any) -> Optional[float]:
    if result.duration_ms is not None and result.duration_ms > 0:
        return result.duration_ms / 1000
    if result.started_time is not None and result.end_time is not None:
        return max(0.0, (result.end_time - result.started_time).total_seconds())
    return None


def fmt_duration(seconds: Optional[float]) -> str:
    from ..gate.messages import format_duration

    if seconds is None:
        return "-"
    if 0 < seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    return format_duration(seconds)


def invocation_json(result: Any, ref: Any = None, *, payloads: bool = True) -> dict[str, Any]:
    """The invocation as snake_case JSON, times as RFC 3339 strings; payloads only when asked."""
    data = result.model_dump(mode="json")
    for key in ("started_time", "end_time"):
        value = getattr(result, key)
        data[key] = rfc3339(value) if value is not None else None
    for event, model in zip(data.get("events") or [], result.events):
        event["timestamp"] = rfc3339(model.timestamp) if model.timestamp is not None else None
    if not payloads:
        for key in ("invocation_payload", "task_payload", "return_payload"):
            data.pop(key, None)
    head = {"id": str(ref)} if ref is not None else {}
    return {**head, **data}


# Characters json.dumps(ensure_ascii=False) leaves raw that a terminal acts on (DEL, C1 controls such
# as CSI, bidi overrides, line separators); inside JSON strings they are written as \\uXXXX.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def print_json(data: Any) -> None:
    """JSON on stdout: readable UTF-8 on a UTF-8 stream, all-ASCII escapes on any other."""
    text = json.dumps(data, indent=2, ensure_ascii=not is_utf8(sys.stdout))
    Output.write(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")


def print_invocation_table(result: Any, ref: Any, show_payloads: bool) -> None:
    rows = [
        ("id", str(ref)),
        ("status", result.status.value),
        ("started", rfc3339(result.started_time)),
        ("ended", rfc3339(result.end_time)),
        ("duration", fmt_duration(duration_of(result))),
        ("retried", str(result.already_retried_times)),
        ("error", one_line(result.invocation_error_message) or "-"),
        ("destination", result.destination_status or "-"),
        ("instance id", result.instance_id or "-"),
        ("request id", result.request_id or "-"),
    ]
    if show_payloads:
        rows.append((f"{noun(result)} payload", result.invocation_payload if result.invocation_payload is not None
                     else "-"))
        rows.append(("return payload", result.return_payload if result.return_payload is not None else "-"))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        out(f"{name:<{width}}  {value}")
    if result.events:
        out("events:")
        for event in result.events:
            out(f"  {rfc3339(event.timestamp)}  {event.status}")


def truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 3)] + "..."


def print_list_table(items: list[Any], show_payloads: bool, fc3: bool = False) -> None:
    noun = "TASK" if fc3 else "INVOCATION"
    header = [f"{noun} ID", "STATUS", "STARTED", "DURATION", "RETRIED", "ERROR"]
    if show_payloads:
        header += [f"{noun} PAYLOAD", "RETURN PAYLOAD"]
    rows = []
    for item in items:
        row = [item.invocation_id, item.status.value, rfc3339(item.started_time),
               fmt_duration(duration_of(item)), str(item.already_retried_times),
               truncate(one_line(item.invocation_error_message), 60) or "-"]
        if show_payloads:
            row += [one_line(item.invocation_payload or "") or "-", one_line(item.return_payload or "") or "-"]
        rows.append(row)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        out("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


def batch_json(spec: Any, summary: Any, outcome: Any, tracker: Any) -> dict[str, Any]:
    """The batch as JSON: its filters, the gate's verdict, counts, and members (oldest first, no payloads).
    The same keys for both APIs (an FC 3.0 batch has ``service_name`` null, its tasks under ``invocations``)."""
    members = []
    for item in summary.invocations:
        ref = spec.ref(item.invocation_id) if valid_id(item.invocation_id) else None
        members.append(invocation_json(item, ref, payloads=False))
    return {
        "id": spec.id,
        "service_name": spec.service_name,
        "function_name": spec.function_name,
        "qualifier": spec.qualifier,
        "prefix": spec.prefix,
        "started_after": spec.started_after,
        "started_before": spec.started_before,
        "expected_count": spec.expected_count,
        "fail_on": list(spec.fail_on),
        "total": summary.total,
        "counts": dict(summary.counts),
        "all_terminal": summary.all_terminal,
        "all_succeeded": summary.all_succeeded,
        "complete": summary.complete,
        "failed": [str(spec.ref(r.invocation_id)) for r in summary.failures],
        "timed_out": bool(outcome.timed_out),
        "elapsed_seconds": round(outcome.elapsed, 3),
        "polls": tracker.polls,
        "list_calls": tracker.calls,
        "history_calls": outcome.history_calls,
        "schedule": outcome.schedule,
        "invocations": members,
    }
