"""The CLI over the gate core: a terminal reporter for the wait (:class:`TerminalReporter`), and the
mapping of the gate's verdict to an exit code and the lines a shell sees (:func:`conclude`), with one
view per shape of gate (:class:`SingleView`, :class:`BatchView`) for what differs: the JSON, the
success line, the not-found line."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import threading
import time
from typing import Any, Callable, Optional

from ..errors import FcApiError, InvocationFailedError, NotFoundError, WaitTimeoutError, printable
from ..gate.messages import format_duration, not_found_message
from .exits import EXIT_API, EXIT_FAILED, EXIT_OK, EXIT_TIMEOUT
from .output import (
    batch_json,
    duration_of,
    encodable,
    err,
    fmt_duration,
    invocation_json,
    one_line,
    out,
    print_json,
    rfc3339,
    truncate,
)
from .parsing import noun, other_readings

__all__ = ["TerminalReporter", "SingleView", "BatchView", "watch", "conclude", "not_found_line", "did_you_mean",
           "isatty"]

log = logging.getLogger("pulumi_fc_invocation.cli")

_MAX_ERROR_SHOWN = 300  # characters of each failed member's error message in the exit-1 report
INTRO_AFTER = 2.0  # seconds without a first answer after which a piped wait writes its start line anyway


class TerminalReporter:
    """The CLI's reporter of a gate's wait, on stderr: one line rewritten in place on a terminal (every
    read shown, :meth:`observe`), plain lines otherwise (the start, then the gate's progress about every
    30 s, :meth:`progress`), as in CI logs.

    ``describe(last, elapsed)`` gives the line (the gate's progress sentence); ``last`` is the latest
    result (None before the first). With ``ended`` (a result -> whether it is final), the plain start line
    waits for the first answer and is left out when that answer has already ended (nothing was waited
    for); it is written before any later line, after :data:`INTRO_AFTER` s without an answer, and at the
    end of a wait that no answer ended (:meth:`finish`).
    """

    def __init__(self, describe: Callable[[Any, float], str], live: bool, stream: Any,
                 ended: Optional[Callable[[Any], bool]] = None) -> None:
        self.describe = describe
        self.live = live
        self.stream = stream
        self.ended = ended
        self.intro: Optional[str] = None  # the plain start line, until the first answer decides it
        self._intro_lock = threading.Lock()
        self._intro_timer: Optional[threading.Timer] = None
        self.last: Any = None
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._shown = False

    def start(self, intro: str) -> None:
        self.started = time.monotonic()
        if not self.live:
            if self.ended is None:
                self._plain(intro)
            else:
                self.intro = intro
                self._intro_timer = threading.Timer(INTRO_AFTER, self._take_intro)
                self._intro_timer.daemon = True
                self._intro_timer.start()
            return
        self._render()
        self._thread = threading.Thread(target=self._tick, name="fc-invocation-progress", daemon=True)
        self._thread.start()

    def observe(self, result: Any) -> None:
        self.last = result
        if self.live:
            self._render()
        elif self.ended is not None and not self.ended(result):
            self._take_intro()
        else:
            self._take_intro(write=False)

    def progress(self, result: Any, elapsed: float) -> None:
        """The waiter's progress callback (plain mode), about every 30 s."""
        if not self.live:
            self._take_intro()  # no answer yet: the wait is under way all the same
            self._plain(self.describe(result, elapsed))

    def _take_intro(self, write: bool = True) -> None:
        """The pending start line, written (``write``) or dropped, once."""
        with self._intro_lock:
            intro, self.intro = self.intro, None
        if intro is not None and write:
            self._plain(intro)

    def finish(self, answered: bool = False) -> None:
        """The end of the wait. A start line still pending (no read answered) is written now, whatever the
        timer did: the wait's last line (a timeout, an unreachable endpoint) follows what it waited for.
        ``answered``: FC answered with an error (a missing task), whose line says it all."""
        if self._intro_timer is not None:
            self._intro_timer.cancel()
        self._take_intro(write=not answered)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        if self.live and self._shown:
            with self._lock:
                self._write("\r\x1b[K")

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            self._render()

    def _render(self) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            line = one_line(printable(self.describe(self.last, time.monotonic() - self.started)))
            width = max(20, self._columns() - 1)
            self._write("\r" + truncate(line, width) + "\x1b[K")
            self._shown = True

    def _columns(self) -> int:
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
        return columns if columns > 0 else shutil.get_terminal_size((100, 24)).columns or 100

    def _plain(self, line: str) -> None:
        with self._lock:
            self._write(printable(line) + "\n")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(encodable(text, self.stream))
            self.stream.flush()
        except (OSError, ValueError):
            pass


def isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _polling_text(policy: Any, schedule: Any) -> str:
    """How the wait polls, for its start line (``schedule``: the waiter's duration-aware strategy)."""
    fixed = f"every {fmt_duration(policy.initial_delay)} up to {fmt_duration(policy.max_delay)}"
    if not policy.duration_aware:
        return "polling " + fixed
    return (f"polling duration-aware (from the function's recent runs), at most "
            f"{fmt_duration(schedule.sparsest(policy))} apart before the likely end; without a history {fixed}")


def watch(connection: Any, gate: Any, *, verbose: bool, expected: str = "") -> Any:
    """The gate core's wait (:func:`~..gate.run.waiter`) with a :class:`TerminalReporter`; returns the
    waiter's outcome. The client's own retries stay within the wait's deadline. ``expected``: what the
    start line says the wait expects (a batch's count). A single task's plain start line is written
    only once a first read finds it still running."""
    from ..gate.run import waiter

    policy = gate.policy()
    fails = ", ".join(gate.spec.fail_on) or "nothing"
    with connection.client(retry_budget=min(30.0, policy.timeout)) as client:
        live = isatty(sys.stderr) and not verbose and os.environ.get("TERM") != "dumb"
        ended = None if gate.batch else (lambda result: bool(result.is_terminal))
        reporter = TerminalReporter(gate.progress, live, sys.stderr, ended)
        wait = waiter(gate, client, reporter.progress, observe=reporter.observe)
        reporter.start(f"waiting for {gate.shown}: {expected}timeout {fmt_duration(policy.timeout)}, "
                       f"{_polling_text(policy, wait.history_schedule)}, fail on {fails}")
        outcome = None
        try:
            outcome = wait.wait()
            return outcome
        finally:
            reporter.finish(answered=outcome is not None and isinstance(outcome.error, FcApiError))


def conclude(gate: Any, outcome: Any, view: Any, json_output: bool) -> int:
    """The exit code of a finished wait, from the gate core's verdict (``gate.judge``): 0 passed, 1 a fail
    status, 2 the timeout. An API error that ended the wait is raised (exit 4 in ``main``); a missing
    task, invocation or function is said as the gate says it, exit 4."""
    from ..gate.run import finished_props

    log.debug("%s: %s schedule, %s, %d history list %s", gate.shown, outcome.schedule, view.reads(outcome),
              outcome.history_calls, "call" if outcome.history_calls == 1 else "calls")
    if outcome.error is not None:  # a hopeless API error, or too many transient ones in a row
        if isinstance(outcome.error, NotFoundError):
            err(view.not_found(outcome.error))
            return EXIT_API
        raise outcome.error
    last = outcome.result  # not None: a wait without a single answer ends with its error
    try:
        gate.judge(view.judged(last), finished_props(gate.spec.props(), outcome))
    except WaitTimeoutError as exc:
        err("error: " + one_line(exc) + "; " + view.timeout_hint)
        if json_output:
            print_json(view.json(last, outcome))
        return EXIT_TIMEOUT
    except InvocationFailedError as exc:
        if json_output:
            print_json(view.json(last, outcome))
        for line in view.failed(exc):
            err(line)
        return EXIT_FAILED
    if json_output:
        print_json(view.json(last, outcome))
    line = view.ended(last, outcome)
    if json_output:
        err(line)
    else:
        out(line)
    return EXIT_OK


def not_found_line(ref: Any, error: Any, meant: str = "") -> str:
    """The error line of a task or invocation FC does not know, as a gate words it (FC may have forgotten it);
    ``meant``: :func:`did_you_mean`'s words."""
    from ..kinds import FC2, FC3

    fc3 = noun(ref) == "task"
    text = not_found_message(FC3 if fc3 else FC2, ref, error, details=False, gate=False)
    code = f"{error.code}: " if error.code else ""
    check = "the function, qualifier and id" if fc3 else "the service, qualifier, function and id"
    return one_line(f"error: FC API error (NotFoundError): {code}{text} (HTTP {error.http_status or 404}, request id "
                    f"{error.request_id or 'unknown'}); check {check}{meant}")


def did_you_mean(client: Any, ref: Any, error: Any) -> str:
    """``"; did you mean ..."`` naming the other API's reading of ``ref`` (:func:`.parsing.other_readings`)
    that FC knows, when FC said that ``ref``'s function, service or qualifier does not exist (a slip of
    the id's separators, not a task FC forgot); else "". At most two reads, their errors ignored."""
    from ..errors import FcInvocationError
    from ..gate.messages import item_not_found

    if not isinstance(error, NotFoundError) or item_not_found(error):
        return ""
    for reading in other_readings(ref):
        try:
            found = client.get(reading)
        except FcInvocationError:
            continue
        api = "an FC 3.0 task" if noun(reading) == "task" else "an FC 2.0 invocation"
        return f"; did you mean {reading} ({api}, {found.status.value})?"
    return ""


class SingleView:
    """``wait``'s words: one task or invocation."""

    timeout_hint = "raise --timeout or check the task"

    def __init__(self, gate: Any, meant: str = "") -> None:
        self.gate = gate
        self.ref = gate.spec.ref
        self.meant = meant  # did_you_mean's words for a not-found

    def reads(self, outcome: Any) -> str:
        return f"{outcome.calls} {'read' if outcome.calls == 1 else 'reads'}"

    def not_found(self, error: NotFoundError) -> str:
        return not_found_line(self.ref, error, self.meant)

    def judged(self, result: Any) -> Any:
        return result

    def json(self, result: Any, outcome: Any) -> Any:
        return invocation_json(result, self.ref)

    def failed(self, exc: BaseException) -> list[str]:
        return ["error: " + one_line(exc)]

    def ended(self, result: Any, outcome: Any) -> str:
        """The success line: the wait's length, or, when the first read found the task already ended, the
        task's own run (its times) and when it ended: the wait then lasted one read."""
        retried = result.already_retried_times
        detail = (f"retried {retried} {'time' if retried == 1 else 'times'}, "
                  f"request id {result.request_id or 'unknown'}")
        status = "Succeeded" if result.succeeded else f"ended {result.status.value}"
        if outcome.calls == 1:
            ran = duration_of(result)
            run = f"ran {fmt_duration(ran)}, " if ran is not None else ""
            status, detail = f"had already {status}", f"{run}ended {rfc3339(result.end_time)}; {detail}"
        else:
            status = f"{status} after {format_duration(outcome.elapsed)}"
        line = f"{noun(self.ref)} {self.ref} {status}"
        if result.succeeded:
            return f"{line} ({detail})"
        fails = ", ".join(self.gate.spec.fail_on) or "nothing"
        return f"{line}, which is not in --fail-on ({fails}) ({detail})"


class BatchView:
    """``wait-batch``'s words: a batch, its polls and list calls (``gate.tracker``)."""

    timeout_hint = "raise --timeout or check the batch (--prefix, --since, --expected-count)"

    def __init__(self, gate: Any) -> None:
        self.gate = gate
        self.spec = gate.spec

    def reads(self, outcome: Any) -> str:
        polls = self.gate.tracker.polls
        return f"{polls} {'poll' if polls == 1 else 'polls'}"

    def not_found(self, error: NotFoundError) -> str:
        return "error: " + one_line(self.gate.not_found(error))

    def judged(self, summary: Any) -> Any:
        """The summary with each member's error message on one line and shortened (the exit-1 report)."""
        from ..gate.batch import BatchSummary

        members = []
        for item in summary.invocations:
            message = item.invocation_error_message
            if message:
                field = "task_error_message" if noun(item) == "task" else "invocation_error_message"
                item = item.model_copy(update={field: truncate(one_line(message), _MAX_ERROR_SHOWN)})
            members.append(item)
        return BatchSummary(summary.spec, members)

    def json(self, summary: Any, outcome: Any) -> Any:
        return batch_json(self.spec, summary, outcome, self.gate.tracker)

    def failed(self, exc: BaseException) -> list[str]:
        head, *rest = str(exc).split("\n")
        return ["error: " + head, *rest]

    def ended(self, summary: Any, outcome: Any) -> str:
        tracker = self.gate.tracker
        cost = (f"{self.reads(outcome)}, {tracker.calls} list {'call' if tracker.calls == 1 else 'calls'}"
                + (f" + {outcome.history_calls} for the history" if outcome.history_calls else ""))
        elapsed = fmt_duration(outcome.elapsed)
        if summary.all_succeeded:
            return f"{self.spec.label}: {summary.text()} after {elapsed} ({cost})"
        fails = ", ".join(self.spec.fail_on) or "nothing"
        return (f"{self.spec.label}: all {summary.total} ended ({summary.text()}) after {elapsed}, none in "
                f"--fail-on ({fails}) ({cost})")
