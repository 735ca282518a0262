"""One async task: its script, its timeline and its state at any moment (no HTTP, no storage).

**The lifecycle is a pure function of time.** An invocation stores a *timeline*: a list of
``Step(status, at, detail)`` with ``at`` in seconds after the invocation was created, plus the time a
stop was requested, if any. Its state at any moment is computed by :func:`lifecycle` from the
timeline, its creation time and ``clock.now()``: no timers, no threads, so a test that advances a
virtual clock by 5 s sees exactly what FC would show 5 s later.

A :class:`Script` (a function's default behaviour, or a payload's ``fcEmulator`` directive) compiles
to a timeline::

    Enqueued @0
    Running  @queue_delay                       # attempt 1
    Retrying @+duration  (detail: the error)    # for each of `retries` failed attempts...
    Running  @+retry_delay                      # ...then the next attempt
    <outcome> @+duration                        # Succeeded / Failed; Stopped goes via Stopping

``Expired`` and ``Invalid`` never run: ``Enqueued`` for ``queue_delay + duration`` seconds, then the
terminal status. Outcome ``Running`` (or ``Enqueued``) never finishes: useful for wait timeouts.

Fields, as the emulator fills them (FC documents them loosely; these are the choices):

- ``startedTime``: when the invocation was accepted (its ``Enqueued`` event), epoch ms; the list
  filters ``startedTimeBegin``/``startedTimeEnd`` compare with it.
- ``endTime``: the time of the terminal event, ``0`` until then.
- ``durationMs``: ``endTime - startedTime`` once finished; while unfinished, the time elapsed so far.
- ``alreadyRetriedTimes``: the number of ``Retrying`` events so far.
- ``invocationErrorMessage``: the error while ``Retrying`` and once ``Failed`` (default
  ``UnhandledException``); for ``Expired``/``Invalid`` only when one was given; else empty.
- ``returnPayload``: the scripted return payload once ``Succeeded``, else empty.
- ``destinationStatus``: empty unless the function has ``destination=True``; then, once the task
  ended ``Succeeded`` or ``Failed``, the same status (which destination, onSuccess or onFailure,
  was called).
- ``instanceId``: a stable fake id once the task has started running.
- ``qualifier``: the qualifier the invocation was started with, ``LATEST`` when none.

Stopping: a stop at time *t* cuts the timeline at *t* and appends ``Stopping @t`` and
``Stopped @t + stop_delay`` (``stop_delay`` defaults to 0, so the status reads ``Stopped`` at once
and the events still show ``Stopping``). Stopping a finished task raises ``InvalidArgument``.

Shared by every API revision: a revision only names and renders these fields its own way
(``responses``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Optional

from ...models import InvocationStatus

__all__ = [
    "TERMINAL_STATUSES",
    "DEFAULT_ERROR",
    "EmulatorError",
    "Step",
    "Script",
    "Event",
    "InvocationState",
    "Invocation",
    "lifecycle",
    "parse_directive",
    "timeline_of",
    "label",
]

TERMINAL_STATUSES = frozenset(status.value for status in InvocationStatus.terminal())  # FC's, as the client reads them
_OUTCOMES = TERMINAL_STATUSES | {"Running", "Enqueued"}
DEFAULT_ERROR = "UnhandledException"


class EmulatorError(Exception):
    """An API error with FC's error code; ``responses`` turns it into an HTTP answer, worded per revision."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


# Caps on scripted values (a payload directive is anyone's input): a million retries built a
# timeline of two million steps under the backend lock; FC itself retries an async task at most 8 times.
MAX_RETRIES = 100
MAX_SECONDS = 10_000_000.0  # about 115 days: longer than any FC task, short of float overflow


def _seconds(name: str, value: Any, *, allow_inf: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or value < 0:
        raise ValueError(f"{name} must be a number of seconds >= 0, not {value!r}")
    if math.isinf(value) and not allow_inf:
        raise ValueError(f"{name} must be finite (use outcome='Running' for a task that never ends)")
    if value > MAX_SECONDS and not math.isinf(value):
        raise ValueError(f"{name} must be at most {MAX_SECONDS:g} seconds, not {value!r}")
    return float(value)


@dataclass(frozen=True)
class Step:
    """One status change: ``status`` from ``at`` seconds after creation; ``detail`` goes to the event."""

    status: str
    at: float
    detail: str = ""


@dataclass(frozen=True)
class Script:
    """How a task behaves; compiles to a timeline (see the module docstring)."""

    outcome: str = "Succeeded"
    duration: float = 1.0
    queue_delay: float = 0.0
    error_message: Optional[str] = None
    return_payload: Optional[str] = None
    retries: int = 0
    retry_delay: float = 1.0
    stop_delay: float = 0.0
    destination: bool = False

    def __post_init__(self) -> None:
        if self.outcome not in _OUTCOMES:
            raise ValueError(f"outcome must be one of {sorted(_OUTCOMES)}, not {self.outcome!r}")
        for name in ("duration", "queue_delay", "retry_delay", "stop_delay"):
            object.__setattr__(self, name, _seconds(name, getattr(self, name)))
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or not 0 <= self.retries <= MAX_RETRIES:
            raise ValueError(f"retries must be an integer from 0 to {MAX_RETRIES}, not {self.retries!r}")
        for name in ("error_message", "return_payload"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name} must be a string or None, not {type(value).__name__}")
        if not isinstance(self.destination, bool):
            raise ValueError("destination must be True or False")

    def replace(self, **changes: Any) -> "Script":
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def timeline(self) -> tuple[Step, ...]:
        steps = [Step("Enqueued", 0.0)]
        t = self.queue_delay
        if self.outcome in ("Expired", "Invalid"):
            steps.append(Step(self.outcome, t + self.duration, self.error_message or ""))
            return tuple(steps)
        if self.outcome == "Enqueued":
            return tuple(steps)
        error = self.error_message or DEFAULT_ERROR
        for attempt in range(1, self.retries + 1):
            steps.append(Step("Running", t, f"attempt {attempt}"))
            t += self.duration
            steps.append(Step("Retrying", t, f"attempt {attempt} failed: {error}"))
            t += self.retry_delay
        steps.append(Step("Running", t, f"attempt {self.retries + 1}"))
        if self.outcome == "Running":
            return tuple(steps)
        t += self.duration
        if self.outcome == "Stopped":
            steps += [Step("Stopping", t), Step("Stopped", t + self.stop_delay)]
        elif self.outcome == "Failed":
            steps.append(Step("Failed", t, error))
        else:
            steps.append(Step("Succeeded", t))
        return tuple(steps)


# The payload directive: {"fcEmulator": {...}} -> Script fields.
_DIRECTIVE_KEYS = {
    "status": "outcome", "outcome": "outcome",
    "after": "duration", "duration": "duration",
    "queueDelay": "queue_delay", "queue_delay": "queue_delay",
    "error": "error_message", "errorMessage": "error_message", "error_message": "error_message",
    "returnPayload": "return_payload", "return_payload": "return_payload",
    "retries": "retries",
    "retryDelay": "retry_delay", "retry_delay": "retry_delay",
    "stopDelay": "stop_delay", "stop_delay": "stop_delay",
    "destination": "destination",
}


def parse_directive(payload: str) -> Optional[dict[str, Any]]:
    """Script overrides from a payload's top-level ``fcEmulator`` object; None without one.

    Raises ``EmulatorError('InvalidArgument')`` for a malformed directive, so a typo in a test
    fails loudly instead of silently running the function's default script.
    """
    if not payload.lstrip().startswith("{") or "fcEmulator" not in payload:
        return None
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or "fcEmulator" not in data:
        return None
    directive = data["fcEmulator"]
    if not isinstance(directive, dict):
        raise EmulatorError("InvalidArgument", "fcEmulator directive must be a JSON object")
    out: dict[str, Any] = {}
    for key, value in directive.items():
        name = _DIRECTIVE_KEYS.get(key)
        if name is None:
            raise EmulatorError(
                "InvalidArgument",
                f"fcEmulator directive: unknown key {key!r}; known: {sorted(set(_DIRECTIVE_KEYS) - set(_DIRECTIVE_KEYS.values()))}",
            )
        out[name] = value
    return out


@dataclass(frozen=True)
class Event:
    event_id: int
    status: str
    timestamp_ms: int
    detail: str = ""


@dataclass(frozen=True)
class InvocationState:
    """What GetStatefulAsyncInvocation shows at one moment (snake_case; rendered by each revision in ``responses``)."""

    service_name: Optional[str]
    function_name: str
    qualifier: str
    invocation_id: str
    request_id: str
    status: str
    destination_status: str
    invocation_error_message: str
    invocation_payload: str
    return_payload: str
    already_retried_times: int
    started_time: int
    end_time: int
    duration_ms: int
    instance_id: str
    events: tuple[Event, ...]

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def fc3_function_name(self) -> str:
        """The function's name through FC 3.0: ``service$function`` for a 2.0 function."""
        return self.function_name if self.service_name is None else f"{self.service_name}${self.function_name}"

    def __repr__(self) -> str:  # payloads stay out of reprs, like the client's model
        return (f"InvocationState({label(self.service_name, self.function_name)}/{self.invocation_id}, "
                f"status={self.status!r}, retried={self.already_retried_times})")


def lifecycle(
    steps: Sequence[Step], created_at: float, now: float, stopped_at: Optional[float] = None, stop_delay: float = 0.0
) -> list[tuple[str, float, str]]:
    """The events (status, epoch seconds, detail) that have happened by ``now``.

    Pure: the same arguments always give the same answer. At least the first step is always
    returned, so an invocation seeded in the future reads as its first status.
    """
    events = [(s.status, created_at + s.at, s.detail) for s in steps]
    if stopped_at is not None:
        events = [e for e in events if e[1] <= stopped_at]
        events += [("Stopping", stopped_at, "stop requested"), ("Stopped", stopped_at + stop_delay, "stopped by user")]
    happened = [e for e in events if e[1] <= now]
    return happened or events[:1]


@dataclass
class Invocation:
    """A stored invocation: identity, payload, timeline. Its state is computed on demand."""

    service: Optional[str]
    function: str
    qualifier: Optional[str]
    invocation_id: str
    request_id: str
    payload: str
    created_at: float
    steps: tuple[Step, ...]
    seq: int
    return_payload: Optional[str] = None
    error_message: Optional[str] = None
    destination: bool = False
    stop_delay: float = 0.0
    stopped_at: Optional[float] = None

    @property
    def sort_key(self) -> tuple[float, int]:
        return (self.created_at, self.seq)

    def state(self, now: float) -> InvocationState:
        happened = lifecycle(self.steps, self.created_at, now, self.stopped_at, self.stop_delay)
        status = happened[-1][0]
        terminal = status in TERMINAL_STATUSES
        started = int(self.created_at * 1000)
        end = int(happened[-1][1] * 1000) if terminal else 0
        if status in ("Failed", "Retrying"):
            error = self.error_message or DEFAULT_ERROR
        elif status in ("Expired", "Invalid"):
            error = self.error_message or ""
        else:
            error = ""
        ran = any(e[0] == "Running" for e in happened)
        instance = ""
        if ran:
            digest = hashlib.sha1(f"{self.service}/{self.function}/{self.invocation_id}".encode()).hexdigest()
            instance = f"c-{digest[:8]}-{digest[8:12]}-{digest[12:24]}"
        return InvocationState(
            service_name=self.service,
            function_name=self.function,
            qualifier=self.qualifier or "LATEST",
            invocation_id=self.invocation_id,
            request_id=self.request_id,
            status=status,
            destination_status=status if self.destination and status in ("Succeeded", "Failed") else "",
            invocation_error_message=error,
            invocation_payload=self.payload,
            return_payload=(self.return_payload or "") if status == "Succeeded" else "",
            already_retried_times=sum(1 for e in happened if e[0] == "Retrying"),
            started_time=started,
            end_time=end,
            duration_ms=max(0, (end or int(now * 1000)) - started),
            instance_id=instance,
            events=tuple(Event(i, s, int(t * 1000), d) for i, (s, t, d) in enumerate(happened, 1)),
        )


def timeline_of(value: Iterable[Any]) -> tuple[Step, ...]:
    """An explicit timeline (``Step``s, ``(status, at[, detail])`` or dicts), checked."""
    steps: list[Step] = []
    for item in value:
        if isinstance(item, Step):
            step = item
        elif isinstance(item, dict):
            extra = set(item) - {"status", "at", "detail"}
            if extra:
                raise ValueError(f"timeline entry has unknown keys {sorted(extra)}; use status, at, detail")
            step = Step(item.get("status"), item.get("at", 0.0), item.get("detail", ""))
        elif isinstance(item, (tuple, list)) and len(item) in (2, 3):
            step = Step(*item)
        else:
            raise ValueError(f"timeline entry {item!r} must be (status, at[, detail]) or a dict")
        if not isinstance(step.status, str) or not step.status:
            raise ValueError(f"timeline status must be a non-empty string, not {step.status!r}")
        at = _seconds("timeline offset", step.at)
        if steps and at < steps[-1].at:
            raise ValueError("timeline offsets must not decrease")
        steps.append(Step(step.status, at, str(step.detail or "")))
    if not steps:
        raise ValueError("timeline must have at least one entry")
    return tuple(steps)


def label(service: Optional[str], function: str) -> str:
    """``service/function`` for FC 2.0, ``function`` for FC 3.0: how messages name a function."""
    return function if service is None else f"{service}/{function}"
