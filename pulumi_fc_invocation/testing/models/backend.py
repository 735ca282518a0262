"""The emulator's state: services, functions, invocations, one backend behind every API revision.

No HTTP here (moto's ``models.py``): ``responses`` serves three API revisions from this one
backend. Errors are :class:`~.tasks.EmulatorError` with FC 2.0's error code; the HTTP layer maps
codes to statuses and each revision words them its own way. One task (script, timeline, state) is
in ``tasks``.

Visibility: a request with a qualifier sees only invocations started with that qualifier
(``LATEST`` = started without one); a request without a qualifier sees all invocations of the
function. Invocation ids are unique per function.

**One state, three API revisions.** An FC 2.0 function lives in a service; an FC 3.0 function has
``service=None``. FC 3.0 sees a 2.0 function as ``service$function`` (:meth:`FcBackend.split_fc3_name`),
so a task started through one API is read through the other. Errors use the 2.0 codes here; the
3.0 layer renames them (``ServiceNotFound`` -> ``FunctionNotFound``, ...).

**FC forgets.** A task's record is kept for ``retention`` seconds after it started (default
:data:`TASK_RETENTION`, 7 days, as FC: FC 3.0's guide "Asynchronous tasks": records are queryable
for 7 days; FC 2.0's user guide, asynchronous tasks "Overview", validity period: "You can query task
information only within seven days"). After that it is gone, on the emulator's clock: reads and
stops answer not-found on every revision, listings leave it out, the inspection API no longer has
it, and its id may be used again. ``retention=None`` keeps every task. Forgetting pops the oldest
tasks off a heap, so reads never scan every task.

**Runs that fail by rule** (a function-level rule, so a test can make a run fail and its retry
succeed with the same payload): ``fail_on_payload`` (a payload string, matched exactly, or a callable
``payload -> bool``) makes the async invocations with that payload end ``Failed``; ``fail_first=N``
limits it to the first N such invocations (of every payload when ``fail_on_payload`` is not given).
A failing run follows the function's script (queue delay, duration, retries, error message; a
payload directive's overrides too) with the outcome ``Failed``. Only accepted async invocations
count (:attr:`Function.runs`, :attr:`Function.failed_runs`): a 409 for an id already used starts
nothing and counts nothing; a synchronous call follows the script alone.

**Task mode is per function** (FC: "you must enable the asynchronous task feature in advance",
PutAsyncInvokeConfig ``{"asyncTask": true}``; 2.0's ``statefulInvocation``). ``Function.async_task``
defaults to on (as for FC's console "Tasks" functions); with it off, an async invoke is accepted
(202) and runs, but leaves no task record, so reads answer not-found, as reported of FC 3.0
(third-party, unverified). The 2021-04-06 revision's per-request
``X-Fc-Stateful-Async-Invocation-Enable: true`` switches it on for that one invocation.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Optional, Union

from ...errors import InvalidArgumentError
from ... import fc3
from ...fc2 import validate_function_name, validate_invocation_id, validate_qualifier, validate_service_name
from ..clock import Clock
from .tasks import EmulatorError, Invocation, InvocationState, Script, Step, label, parse_directive, timeline_of

__all__ = ["TASK_RETENTION", "check_retention", "Function", "FcBackend"]

TASK_RETENTION = 7 * 24 * 3600.0  # FC keeps a task's record 7 days after it starts (see the module docstring)


PayloadRule = Union[str, Callable[[str], bool]]


@dataclass
class Function:
    """``service`` is None for an FC 3.0 function; ``async_task``: task mode; ``fail_on_payload`` and
    ``fail_first``: the runs that fail by rule (see the module docstring)."""

    service: Optional[str]
    name: str
    script: Script
    qualifiers: frozenset[str] = field(default_factory=lambda: frozenset({"LATEST"}))
    async_task: bool = True
    async_config: Optional[dict[str, Any]] = None  # what PutAsyncInvokeConfig stored (FC 3.0), None before
    fail_on_payload: Optional[PayloadRule] = None
    fail_first: Optional[int] = None
    runs: int = 0  # async invocations accepted since the function was (re)defined
    failed_runs: int = 0  # of those, the ones the rule made fail

    @property
    def fc3_name(self) -> str:
        return self.name if self.service is None else f"{self.service}${self.name}"

    def fails(self, payload: str) -> bool:
        """Whether the next async invocation with ``payload`` fails by rule (counts nothing)."""
        rule = self.fail_on_payload
        if rule is None and self.fail_first is None:
            return False
        if rule is not None and not (rule == payload if isinstance(rule, str) else rule(payload)):
            return False
        return self.fail_first is None or self.failed_runs < self.fail_first


def check_fail_rule(fail_on_payload: Any, fail_first: Any) -> None:
    """Refuse a malformed rule before anything runs, naming the argument."""
    if fail_on_payload is not None and not isinstance(fail_on_payload, str) and not callable(fail_on_payload):
        raise ValueError("fail_on_payload must be a payload string (matched exactly), a callable "
                         f"payload -> bool, or None, not {type(fail_on_payload).__name__}")
    if fail_first is not None and (isinstance(fail_first, bool) or not isinstance(fail_first, int) or fail_first < 0):
        raise ValueError(f"fail_first must be an integer >= 0 (the number of runs that fail) or None, not {fail_first!r}")


def _epoch(name: str, value: Any) -> float:
    """Epoch seconds, finite: a NaN start made every later read of that function answer 500."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be finite epoch seconds >= 0, not {value!r}")
    return float(value)


def check_retention(value: Any) -> Optional[float]:
    """Seconds a task's record is kept after it starts (a positive finite number), or None: forever."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise ValueError(f"retention must be a positive number of seconds, or None to keep every task, not {value!r}")
    return float(value)


def _span(seconds: float) -> str:
    days = seconds / 86400
    if days == int(days):
        return f"{days:g} days"
    return f"{days:.1f} days" if days >= 1 else f"{seconds:g} s"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_name(check: Any, value: Any, argument: str) -> str:
    try:
        return check(value, argument)
    except InvalidArgumentError as exc:
        raise ValueError(str(exc)) from None


class FcBackend:
    """All state of one emulated account/region; every method is thread-safe."""

    def __init__(self, clock: Clock, retention: Optional[float] = TASK_RETENTION) -> None:
        self.clock = clock
        self._retention = check_retention(retention)
        self._lock = threading.RLock()
        self._functions: dict[str, dict[str, Function]] = {}
        self._qualifiers: dict[str, set[str]] = {}
        self._invocations: dict[tuple[str, str, str], Invocation] = {}
        self._by_age: list[tuple[float, int, tuple, Invocation]] = []  # a heap: (created_at, seq, key, inv)
        self._seq = itertools.count(1)
        self.untracked = 0  # async invocations accepted while the function's task mode was off
        self.forgotten = 0  # tasks dropped once older than the retention

    @property
    def retention(self) -> Optional[float]:
        """Seconds a task's record is kept after it starts (None: forever); fixed at construction."""
        return self._retention

    def _forget(self, now: float) -> None:
        """Drop the tasks that started ``retention`` seconds ago or earlier (under the lock)."""
        if self.retention is None:
            return
        limit = now - self.retention
        heap = self._by_age
        while heap and heap[0][0] <= limit:
            _, _, key, inv = heapq.heappop(heap)
            if self._invocations.get(key) is inv:
                del self._invocations[key]
                self.forgotten += 1

    # --- setup ----------------------------------------------------------------------------------

    def add_function(self, service: Optional[str], function: str, qualifiers: Iterable[str] = ("LATEST",),
                     script: Optional[Script] = None, async_task: bool = True, *,
                     fail_on_payload: Optional[PayloadRule] = None, fail_first: Optional[int] = None) -> Function:
        """Register (or redefine) a function; its qualifiers are added to the service's.

        ``service=None`` registers an FC 3.0 function (3.0 naming rules, no ``$``; its qualifiers are its own).
        ``fail_on_payload`` / ``fail_first``: runs that fail by rule (module docstring); redefining a
        function starts its counts afresh.
        """
        if service is None:
            _check_name(fc3.validate_function_name, function, "function")
            if "$" in function:
                raise ValueError(f"invalid function {function!r}: an FC 3.0 function name has no '$' "
                                 "(a 2.0 function is seen as service$function: register it with its service)")
        else:
            _check_name(validate_service_name, service, "service")
            _check_name(validate_function_name, function, "function")
        if not isinstance(async_task, bool):
            raise ValueError("async_task must be True or False")
        check_fail_rule(fail_on_payload, fail_first)
        if isinstance(qualifiers, str):
            qualifiers = (qualifiers,)
        quals = frozenset(_check_name(validate_qualifier, q, "qualifier") for q in qualifiers) | {"LATEST"}
        fn = Function(service, function, script or Script(), quals, async_task, fail_on_payload=fail_on_payload,
                      fail_first=fail_first)
        with self._lock:
            self._functions.setdefault(service, {})[function] = fn
            if service is not None:
                self._qualifiers.setdefault(service, {"LATEST"}).update(quals)
        return fn

    @staticmethod
    def split_fc3_name(name: str) -> tuple[Optional[str], str]:
        """(service, function) of an FC 3.0 function name: ``svc$fn`` is 2.0's ``svc``/``fn``."""
        if "$" in name:
            service, _, function = name.partition("$")
            return service, function
        return None, name

    def set_async_task(self, service: Optional[str], function: str, enabled: bool,
                       config: Optional[dict[str, Any]] = None) -> Function:
        """Switch a function's task mode (PutAsyncInvokeConfig's ``asyncTask``)."""
        with self._lock:
            fn = self.resolve(service, None, function)
            fn.async_task = bool(enabled)
            fn.async_config = config
            return fn

    def _known_qualifier(self, fn_service: Optional[str], fn: Optional[Function], qualifier: str) -> bool:
        if fn_service is None:
            return fn is not None and qualifier in fn.qualifiers
        return qualifier in self._qualifiers.get(fn_service, ())

    def add_invocation(self, service: str, function: str, invocation_id: str, *, qualifier: Optional[str] = None,
                       timeline: Optional[Iterable[Any]] = None, payload: str = "",
                       return_payload: Optional[str] = None, error_message: Optional[str] = None,
                       started_at: Optional[float] = None, request_id: Optional[str] = None,
                       destination: Optional[bool] = None, stop_delay: Optional[float] = None,
                       **script: Any) -> Invocation:
        """Seed an invocation directly, registering the function (and qualifier) when needed.

        A new qualifier is added to the existing function in place (its rule, counts and task-mode
        config stay); seeding is not a run (:attr:`Function.runs` does not count it).

        ``timeline`` is an explicit list of ``(status, seconds_after_start[, detail])``; without it
        the function's script (with ``script`` overrides: outcome, duration, ...) is used.
        """
        _check_name(validate_invocation_id, invocation_id, "invocation_id")
        if qualifier is not None:
            _check_name(validate_qualifier, qualifier, "qualifier")
        if not isinstance(payload, str):
            raise ValueError("payload must be a string")
        with self._lock:
            fn = self._functions.get(service, {}).get(function)
            if fn is None:
                fn = self.add_function(service, function, (qualifier,) if qualifier else ("LATEST",))
            elif qualifier and not self._known_qualifier(service, fn, qualifier):
                # in place: the Function a test holds keeps its rule, counts and task-mode config
                fn.qualifiers = fn.qualifiers | {qualifier}
                if service is not None:
                    self._qualifiers.setdefault(service, {"LATEST"}).add(qualifier)
            base = fn.script.replace(return_payload=return_payload, error_message=error_message,
                                     destination=destination, stop_delay=stop_delay, **script)
            steps = timeline_of(timeline) if timeline is not None else base.timeline()
            now = self.clock.now()
            created = now if started_at is None else _epoch("started_at", started_at)
            if self.retention is not None and created <= now - self.retention:
                raise ValueError(
                    f"started_at {_iso(created)} is {_span(now - created)} ago, at or past the emulator's "
                    f"retention ({_span(self.retention)}): FC would have forgotten this task already (to keep "
                    f"every task: retention=None, a scenario's \"retention\": null, or --retention none)")
            return self._create(fn, qualifier, invocation_id, payload, base, steps, created_at=created,
                                request_id=request_id)

    def _create(self, fn: Function, qualifier: Optional[str], invocation_id: str, payload: str, script: Script,
                steps: tuple[Step, ...], created_at: float, request_id: Optional[str]) -> Invocation:
        self._forget(self.clock.now())  # a forgotten id may be used again
        key = (fn.service, fn.name, invocation_id)
        if key in self._invocations:
            raise EmulatorError(
                "StatefulAsyncInvocationAlreadyExists",
                f"stateful async invocation '{invocation_id}' of function '{label(fn.service, fn.name)}' already exists",
            )
        inv = Invocation(
            service=fn.service, function=fn.name, qualifier=qualifier, invocation_id=invocation_id,
            request_id=request_id or str(uuid.uuid4()), payload=payload, created_at=created_at, steps=steps,
            seq=next(self._seq), return_payload=script.return_payload, error_message=script.error_message,
            destination=script.destination, stop_delay=script.stop_delay,
        )
        self._invocations[key] = inv
        if self.retention is not None:
            heapq.heappush(self._by_age, (created_at, inv.seq, key, inv))
        return inv

    # --- API operations -------------------------------------------------------------------------

    def resolve(self, service: Optional[str], qualifier: Optional[str], function: str) -> Function:
        """The function a request addresses, checking service, then qualifier, then function.

        An FC 3.0 function (``service=None``): the function, then its qualifier.
        """
        with self._lock:
            if service is None:
                fn = self._functions.get(None, {}).get(function)
                if fn is None:
                    raise EmulatorError("FunctionNotFound", f"function '{function}' does not exist")
                if qualifier is not None and qualifier not in fn.qualifiers:
                    kind = "version" if qualifier.isdigit() else "alias"
                    raise EmulatorError("VersionNotFound" if qualifier.isdigit() else "AliasNotFound",
                                        f"{kind} '{qualifier}' of function '{function}' does not exist")
                return fn
            functions = self._functions.get(service)
            if functions is None:
                raise EmulatorError("ServiceNotFound", f"service '{service}' does not exist")
            if qualifier is not None and qualifier not in self._qualifiers.get(service, ()):
                if qualifier.isdigit():
                    raise EmulatorError("VersionNotFound", f"version '{qualifier}' of service '{service}' does not exist")
                raise EmulatorError("AliasNotFound", f"alias '{qualifier}' of service '{service}' does not exist")
            fn = functions.get(function)
            if fn is None:
                raise EmulatorError("FunctionNotFound", f"function '{function}' does not exist in service '{service}'")
            return fn

    def invoke_async(self, service: Optional[str], qualifier: Optional[str], function: str, payload: str,
                     invocation_id: Optional[str] = None, request_id: Optional[str] = None,
                     enable: bool = False) -> tuple[str, bool]:
        """Start an async invocation now; a payload directive overrides the script.

        Returns (id, recorded): it is recorded as a task when the function's task mode is on or
        ``enable`` (2021-04-06's per-request switch) is set; else it runs untracked.
        """
        with self._lock:
            fn = self.resolve(service, qualifier, function)
            script = self._script_for(fn, payload)
            fails = fn.fails(payload)
            if fails:
                script = dataclasses.replace(script, outcome="Failed")
            if invocation_id is None:
                invocation_id = f"inv-{uuid.uuid4().hex}"
            recorded = fn.async_task or enable
            if recorded:
                self._create(fn, qualifier, invocation_id, payload, script, script.timeline(),
                             created_at=self.clock.now(), request_id=request_id)  # a 409 counts nothing
            else:
                self.untracked += 1
            fn.runs += 1
            fn.failed_runs += int(fails)
            return invocation_id, recorded

    def invoke_sync(self, service: Optional[str], qualifier: Optional[str], function: str, payload: str) -> Script:
        """A synchronous call: the scripted outcome, at once (no waiting for ``duration``)."""
        fn = self.resolve(service, qualifier, function)
        return self._script_for(fn, payload)

    @staticmethod
    def _script_for(fn: Function, payload: str) -> Script:
        overrides = parse_directive(payload)
        if not overrides:
            return fn.script
        try:
            return dataclasses.replace(fn.script, **overrides)
        except (TypeError, ValueError) as exc:
            raise EmulatorError("InvalidArgument", f"fcEmulator directive: {exc}") from None

    def _find(self, service: Optional[str], qualifier: Optional[str], function: str, invocation_id: str) -> Invocation:
        self.resolve(service, qualifier, function)
        self._forget(self.clock.now())
        inv = self._invocations.get((service, function, invocation_id))
        if inv is None or (qualifier is not None and (inv.qualifier or "LATEST") != qualifier):
            raise EmulatorError(
                "StatefulAsyncInvocationNotFound",
                f"stateful async invocation '{invocation_id}' of function '{label(service, function)}' does not exist",
            )
        return inv

    def get_invocation(self, service: Optional[str], qualifier: Optional[str], function: str, invocation_id: str) -> InvocationState:
        with self._lock:
            return self._find(service, qualifier, function, invocation_id).state(self.clock.now())

    def stop_invocation(self, service: Optional[str], qualifier: Optional[str], function: str, invocation_id: str) -> InvocationState:
        """Stop a task that has not finished; stopping twice is harmless, stopping a finished one is not."""
        with self._lock:
            inv = self._find(service, qualifier, function, invocation_id)
            now = self.clock.now()
            state = inv.state(now)
            if state.is_terminal:
                raise EmulatorError(
                    "InvalidArgument",
                    f"stateful async invocation '{invocation_id}' is already {state.status} and cannot be stopped",
                )
            if inv.stopped_at is None:
                inv.stopped_at = now
            return inv.state(now)

    def list_invocations(self, service: Optional[str], qualifier: Optional[str], function: str, *,
                         status: Optional[str] = None, prefix: Optional[str] = None,
                         started_begin_ms: Optional[int] = None, started_end_ms: Optional[int] = None,
                         descending: bool = True, after: Optional[tuple[float, int]] = None,
                         limit: int = 20) -> tuple[list[InvocationState], Optional[tuple[float, int]]]:
        """One page, keyset-paged: items strictly after ``after`` in the sort order.

        Returns (states, key of the last item) with a key only when more items follow. Keyset paging
        stays correct while new invocations arrive between pages.
        """
        with self._lock:
            self.resolve(service, qualifier, function)
            now = self.clock.now()
            self._forget(now)
            rows = []
            for inv in self._invocations.values():
                if inv.service != service or inv.function != function:
                    continue
                if qualifier is not None and (inv.qualifier or "LATEST") != qualifier:
                    continue
                if prefix and not inv.invocation_id.startswith(prefix):
                    continue
                started = int(inv.created_at * 1000)
                if started_begin_ms is not None and started < started_begin_ms:
                    continue
                if started_end_ms is not None and started > started_end_ms:
                    continue
                state = inv.state(now)
                if status is not None and state.status != status:
                    continue
                rows.append((inv.sort_key, state))
        rows.sort(key=lambda r: r[0], reverse=descending)
        if after is not None:
            rows = [r for r in rows if (r[0] < after if descending else r[0] > after)]
        page = rows[:limit]
        more = len(rows) > limit
        return [s for _, s in page], (page[-1][0] if more and page else None)

    # --- inspection -----------------------------------------------------------------------------

    def all_invocations(self) -> list[InvocationState]:
        with self._lock:
            now = self.clock.now()
            self._forget(now)
            return [inv.state(now) for inv in sorted(self._invocations.values(), key=lambda i: i.seq)]

    def invocation(self, service: Optional[str], function: str, invocation_id: str) -> Invocation:
        with self._lock:
            self._forget(self.clock.now())
            try:
                return self._invocations[(service, function, invocation_id)]
            except KeyError:
                raise KeyError(f"no invocation {label(service, function)}/{invocation_id}") from None

    def functions(self) -> list[Function]:
        with self._lock:
            return [fn for fns in self._functions.values() for fn in fns.values()]
