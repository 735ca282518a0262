"""``wait`` and ``wait-batch``: the gate core (:mod:`..gate`) with the terminal's reporter and the exit-code
mapping (:mod:`.reporter`). A command builds the gate's spec from its options, waits, and concludes."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

import click

from .connection import setup
from .options import EXIT_CODES_HELP, OUTPUT, common_options, wait_options
from .parsing import TARGET_METAVAR, parse_id, parse_target, target_kind, time_window
from .parsing import wait_options as parse_wait_options
from .reporter import BatchView, SingleView, conclude, did_you_mean, watch

__all__ = ["wait", "wait_batch", "wait_for"]


def _cli_policy(spec: Any) -> Any:
    """The spec with the CLI's wait: not found is an answer at once (the id is the user's own)."""
    return dataclasses.replace(spec, policy=dataclasses.replace(spec.policy, not_found_grace=0.0))


@click.command(epilog=f"""\b
Examples:
  fc-invocation wait transcode.prod/job-123
  fc-invocation wait transcode.prod/job-123 --timeout 2h --fail-on Failed,Stopped,Expired
  fc-invocation wait video.prod/transcode/video-123
  fc-invocation wait video/transcode/job-7 --timeout 90s --poll-interval 2s --output json > result.json
  fc-invocation wait video/transcode/job-7 --fail-on ''   # wait for any end, never exit 1

Polling: once a first read finds the task running, one list call reads the function's recent
run times; with a usable history the reads are sparse until the likely end and dense around it
(refused or too few runs: the fixed schedule of --poll-interval / --max-poll-interval).
--no-history keeps the fixed schedule.

Progress goes to stderr: one line rewritten in place on a terminal, a plain line about every
30 s when piped, as in CI logs, after a start line once a first read finds the task running. The
outcome goes to stdout: for a task that had already ended, its own run time and end.

Durations: 90 (seconds), 90s, 0.5s, 500ms, 30m, 2h, 1h30m.

{EXIT_CODES_HELP}""")
@click.argument("invocation", metavar="ID")
@wait_options("reads")
@click.option("-o", "--output", type=OUTPUT, default="table", show_default=True,
              help="table: one summary line; json: the final task or invocation (with payloads) on stdout")
@common_options
def wait(invocation: str, timeout_text: str, fail_on_text: str, poll_text: str, max_poll_text: Optional[str],
         no_history: bool, output: str, verbose: bool, endpoint: Optional[str], region: Optional[str],
         account_id: Optional[str], profile: Optional[str]) -> int:
    """Wait until a task or invocation ends; exit 0 if it succeeded, 1 if it failed, 2 on timeout.

    ID is FUNCTION[.QUALIFIER]/TASK_ID (FC 3.0, e.g. transcode.prod/job-123) or
    SERVICE[.QUALIFIER]/FUNCTION/INVOCATION_ID (FC 2.0, e.g. video.prod/transcode/video-123).
    """
    connection = setup(verbose, endpoint, region, account_id, profile)
    ref = parse_id(invocation)
    options = parse_wait_options(timeout_text, poll_text, max_poll_text, fail_on_text)
    return wait_for(connection, ref, options, no_history=no_history, json_output=output.lower() == "json",
                    verbose=verbose)


def wait_for(connection: Any, ref: Any, options: tuple[float, float, Optional[float], tuple[str, ...]], *,
             no_history: bool, json_output: bool, verbose: bool, just_started: bool = False) -> int:
    """``wait``'s wait on ``ref`` (``options``: :func:`.parsing.wait_options`), its exit code; ``invoke --wait``
    waits here too. ``just_started``: the task was started a moment ago, so a not-found within the gate's
    grace is FC not showing it yet (the gates' rule), not an answer."""
    from ..errors import NotFoundError
    from ..gate.gates import SingleGate
    from ..gate.spec import SingleSpec
    from ..kinds import FC2, FC3

    timeout, poll, max_poll, fail_on = options
    kind = FC3 if isinstance(ref, FC3.ref_type()) else FC2
    spec = SingleSpec.build(kind=kind, **kind.ref_fields(ref), wait_for_completion=True, timeout_seconds=timeout,
                            fail_on_statuses=list(fail_on), poll_interval_seconds=poll,
                            max_poll_interval_seconds=max_poll, use_duration_history=not no_history)
    gate = SingleGate(spec if just_started else _cli_policy(spec))
    outcome = watch(connection, gate, verbose=verbose)
    meant = ""
    if outcome.result is None and isinstance(outcome.error, NotFoundError):  # not found at all: a slip of the id?
        with connection.client(retry_budget=10.0) as client:
            meant = did_you_mean(client, ref, outcome.error)
    return conclude(gate, outcome, SingleView(gate, meant), json_output)


@click.command(name="wait-batch", epilog=f"""\b
Examples:
  fc-invocation wait-batch transcode --prefix job-2026-11- --expected-count 300 --timeout 2h    # FC 3.0
  fc-invocation wait-batch transcode.prod --prefix job-7- --since 1h --fail-on Failed,Stopped
  fc-invocation wait-batch video/transcode --prefix video-2026-11- --timeout 2h                 # FC 2.0
  fc-invocation wait-batch video/transcode --prefix job-7- --output json > batch.json

The batch is every task of FUNCTION[.QUALIFIER] (FC 3.0), or every invocation of
SERVICE[.QUALIFIER]/FUNCTION (FC 2.0), whose id starts with --prefix
(and that started within --since / --until). The wait ends when at least --expected-count
(default 1) exist and all have ended, or as soon as one ends in a --fail-on status: exit 1
lists the first ten failed members with their error messages, and how many more failed.

Each poll lists only the part of the batch that can still change, 100 invocations per call.
After a first poll, one more list call reads the function's recent run times: the batch's likely
end (its slowest member) makes the polls sparse before it, dense around it; --no-history opts out.
Progress goes to stderr, e.g.:

\b
  batch video/transcode prefix video-2026-11-: 212/300 succeeded, 3 running, 85 enqueued, 0 failed, 4m00s elapsed

one line rewritten in place on a terminal, a plain line about every 30 s (plus start and end)
when piped, as in CI logs. The outcome goes to stdout.

Durations: 90 (seconds), 90s, 0.5s, 500ms, 30m, 2h, 1h30m. --since / --until as for list.

{EXIT_CODES_HELP}""")
@click.argument("target", metavar=TARGET_METAVAR)
@click.option("--prefix", required=True, metavar="TEXT",
              help="the batch: task or invocation ids starting with this")
@click.option("--expected-count", type=click.IntRange(min=1), metavar="N",
              help="keep waiting until at least N tasks or invocations exist  [default: 1]")
@click.option("--since", metavar="WHEN", help="only invocations started at or after this (e.g. 2h = in the last 2 h)")
@click.option("--until", metavar="WHEN", help="only invocations started at or before this")
@wait_options("polls")
@click.option("-o", "--output", type=OUTPUT, default="table", show_default=True,
              help="table: one summary line; json: the batch (counts, members without payloads) on stdout")
@common_options
def wait_batch(target: str, prefix: str, expected_count: Optional[int], since: Optional[str], until: Optional[str],
               timeout_text: str, fail_on_text: str, poll_text: str, max_poll_text: Optional[str], no_history: bool,
               output: str, verbose: bool, endpoint: Optional[str], region: Optional[str],
               account_id: Optional[str], profile: Optional[str]) -> int:
    """Wait until a batch of tasks or invocations ends; exit 0 if none failed, 1 if one did, 2 on timeout.

    The batch: the tasks of FUNCTION[.QUALIFIER] (FC 3.0), or the invocations of
    SERVICE[.QUALIFIER]/FUNCTION (FC 2.0), whose ids start with --prefix.
    """
    from ..fc2 import validate_invocation_id
    from ..gate.gates import BatchGate
    from ..gate.spec import BatchSpec

    connection = setup(verbose, endpoint, region, account_id, profile)
    service, function, qualifier = parse_target(target)
    validate_invocation_id(prefix, "--prefix")
    after, before = time_window(since, until)
    timeout, poll, max_poll, fail_on = parse_wait_options(timeout_text, poll_text, max_poll_text, fail_on_text)
    kind = target_kind(service)
    names: dict[str, Any] = {"service_name": service, "function_name": function, "qualifier": qualifier,
                             kind.prefix_key: prefix}
    spec = BatchSpec.build(
        kind=kind, **{key: names[key] for key in (*kind.target_keys, kind.prefix_key)},
        started_after=after, started_before=before, wait_for_completion=True, expected_count=expected_count,
        timeout_seconds=timeout, fail_on_statuses=list(fail_on), poll_interval_seconds=poll,
        max_poll_interval_seconds=max_poll, use_duration_history=not no_history)
    gate = BatchGate(_cli_policy(spec))
    plural = "" if expected_count == 1 else "s"
    expected = f"at least {expected_count} {kind.noun}{plural}, " if expected_count else ""
    outcome = watch(connection, gate, verbose=verbose, expected=expected)
    return conclude(gate, outcome, BatchView(gate), output.lower() == "json")
