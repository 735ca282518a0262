"""The ``fc-invocation`` command group and its reading commands: ``get``, ``list``, ``invoke`` and
``emulator``; ``wait`` and ``wait-batch`` (the gate core's front end) are in :mod:`.waits`."""

from __future__ import annotations

from typing import Any, Optional

import click

from .connection import setup
from .exits import EXIT_API, EXIT_OK, EXIT_USAGE
from .options import EXIT_CODES_HELP, OUTPUT, StatusChoice, common_options, wait_options
from .output import err, invocation_json, out, print_invocation_table, print_json, print_list_table
from .parsing import (
    TARGET_METAVAR,
    UserError,
    member_ref,
    noun,
    parse_id,
    parse_target,
    target_text,
    time_window,
)
from .parsing import wait_options as parse_wait_options
from .reporter import did_you_mean, not_found_line
from .waits import wait, wait_batch, wait_for

__all__ = ["PROG", "cli"]

PROG = "fc-invocation"


@click.group(
    name=PROG,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=f"""\b
Examples:
  fc-invocation get transcode.prod/job-123                   # FC 3.0 task
  fc-invocation wait transcode.prod/job-123 --timeout 1h30m --fail-on Failed,Stopped
  fc-invocation wait-batch transcode --prefix job-2026-11- --expected-count 300 --timeout 2h
  fc-invocation list transcode.prod --status Failed --since 2h
  fc-invocation invoke transcode.prod --task-id job-123 --wait --payload '{{"src": "oss://raw/a.mp4"}}'
  fc-invocation get video.prod/transcode/video-123            # FC 2.0 invocation
  fc-invocation wait-batch video/transcode --prefix video-2026-11- --timeout 2h
  fc-invocation emulator --port 9000

An id of two segments (FUNCTION[.QUALIFIER]/TASK_ID) is an FC 3.0 async task, of three
(SERVICE[.QUALIFIER]/FUNCTION/INVOCATION_ID) an FC 2.0 stateful async invocation; a target of one
segment (FUNCTION[.QUALIFIER]) is FC 3.0, of two (SERVICE[.QUALIFIER]/FUNCTION) FC 2.0.

Settings come from the options, then the environment (ALIBABA_CLOUD_ACCESS_KEY_ID,
ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN, ALIBABA_CLOUD_REGION,
ALIBABA_CLOUD_ACCOUNT_ID, FC_INVOCATION_ENDPOINT, ...), then ~/.alibabacloud/credentials.ini
and ~/.aliyun/config.json.

{EXIT_CODES_HELP}""",
)
@click.version_option(package_name="pulumi-fc-invocation", prog_name=PROG)
def cli() -> None:
    """Read and wait for Alibaba Cloud Function Compute async tasks and invocations.

    An FC 3.0 task is FUNCTION[.QUALIFIER]/TASK_ID; an FC 2.0 stateful async invocation is
    SERVICE[.QUALIFIER]/FUNCTION/INVOCATION_ID.
    """


@cli.command(epilog=f"""\b
Examples:
  fc-invocation get transcode.prod/job-123
  fc-invocation get transcode/job-123 --output json | jq -r .status
  fc-invocation get 'video$transcode/job-7'         # an FC 2.0 function seen through FC 3.0
  fc-invocation get video.prod/transcode/video-123 --show-payloads --profile prod

{EXIT_CODES_HELP}""")
@click.argument("invocation", metavar="ID")
@click.option("-o", "--output", type=OUTPUT, default="table", show_default=True,
              help="table for people, json (snake_case, RFC 3339 times, with payloads) for scripts")
@click.option("--show-payloads", is_flag=True, help="also show the invocation and return payloads in the table")
@common_options
def get(invocation: str, output: str, show_payloads: bool, verbose: bool, endpoint: Optional[str],
        region: Optional[str], account_id: Optional[str], profile: Optional[str]) -> int:
    """Show one task or invocation: status, times, retries, error, request id.

    ID is FUNCTION[.QUALIFIER]/TASK_ID (FC 3.0, e.g. transcode.prod/job-123) or
    SERVICE[.QUALIFIER]/FUNCTION/INVOCATION_ID (FC 2.0, e.g. video.prod/transcode/video-123).
    """
    conn = setup(verbose, endpoint, region, account_id, profile)
    ref = parse_id(invocation)
    from ..errors import NotFoundError

    with conn.client() as client:
        try:
            result = client.get(ref)
        except NotFoundError as exc:
            err(not_found_line(ref, exc, did_you_mean(client, ref, exc)))
            return EXIT_API
    if output.lower() == "json":
        print_json(invocation_json(result, ref))
    else:
        print_invocation_table(result, ref, show_payloads)
    return EXIT_OK


@cli.command(name="list", epilog=f"""\b
Examples:
  fc-invocation list transcode.prod                          # FC 3.0 tasks
  fc-invocation list transcode.prod --status Failed --since 2h
  fc-invocation list video.prod/transcode                    # FC 2.0 invocations
  fc-invocation list video/transcode --prefix video-2026-11- --limit 20 --output json
  fc-invocation list video/transcode --since 2026-11-03T00:00:00Z --until 2026-11-04T00:00:00Z

--since / --until take a duration ago (30m, 2h, 1h30m: a unit is required), an RFC 3339
time (2026-11-03T10:00:00Z), or epoch seconds (1793700000) or milliseconds (1793700000000).
Newest first.

TARGET is FUNCTION[.QUALIFIER] (FC 3.0) or SERVICE[.QUALIFIER]/FUNCTION (FC 2.0).

{EXIT_CODES_HELP}""")
@click.argument("target", metavar=TARGET_METAVAR)
@click.option("--status", type=StatusChoice(), help="only invocations in this status")
@click.option("--prefix", metavar="TEXT", help="only task or invocation ids starting with this")
@click.option("--since", metavar="WHEN", help="only invocations started at or after this (e.g. 2h = in the last 2 h)")
@click.option("--until", metavar="WHEN", help="only invocations started at or before this")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="at most this many")
@click.option("-o", "--output", type=OUTPUT, default="table", show_default=True,
              help="table for people, json (a list, snake_case, RFC 3339 times) for scripts")
@click.option("--show-payloads", is_flag=True, help="fetch and show the invocation payloads too")
@common_options
def list_(target: str, status: Optional[str], prefix: Optional[str], since: Optional[str], until: Optional[str],
          limit: int, output: str, show_payloads: bool, verbose: bool, endpoint: Optional[str],
          region: Optional[str], account_id: Optional[str], profile: Optional[str]) -> int:
    """List a function's tasks (FC 3.0) or invocations (FC 2.0), newest first, with filters."""
    conn = setup(verbose, endpoint, region, account_id, profile)
    service, function, qualifier = parse_target(target)
    after, before = time_window(since, until)
    if prefix is not None and (not prefix or len(prefix) > 128):
        raise UserError(f"invalid --prefix {prefix!r}: must be 1-128 characters")
    filters: dict[str, Any] = dict(qualifier=qualifier, status=status, prefix=prefix, started_after=after,
                                   started_before=before, include_payload=show_payloads, limit=limit,
                                   page_size=min(limit, 100))
    with conn.client() as client:
        if service is None:
            items = list(client.list_async_tasks(function, **filters))
        else:
            items = list(client.list_stateful_async_invocations(service, function, **filters))
    if output.lower() == "json":
        print_json([invocation_json(item, member_ref(service, function, qualifier, item.invocation_id),
                                     payloads=show_payloads) for item in items])
    else:
        print_list_table(items, show_payloads, fc3=service is None)
        if not items:
            err("no tasks match" if service is None else "no invocations match")
    return EXIT_OK


@cli.command(epilog=f"""\b
Examples:
  fc-invocation invoke transcode.prod --task-id job-123 --payload '{{"src": "oss://raw/a.mp4"}}'   # FC 3.0
  id=$(fc-invocation invoke transcode) && fc-invocation wait "transcode/$id"
  fc-invocation invoke transcode --task-id job-7 --wait --timeout 1h     # start, wait; exits as wait does
  fc-invocation invoke transcode --wait --output json | jq -r .task_id   # the id, after the wait
  fc-invocation invoke demo/job                          # FC 2.0: FC picks the id; it is printed
  fc-invocation invoke video/transcode --payload-file job.json --output json
  id=$(fc-invocation invoke demo/job) && fc-invocation wait "demo/job/$id"

Starts the task with InvokeFunction (async), never retried once sent: a second start could run it
twice. The id goes to stdout; FcClient.invoke_async_task (FC 3.0) and FcClient.invoke_async (FC 2.0)
do the same from Python. An FC 3.0 function keeps a task to read only with async task mode on
(PutAsyncInvokeConfig asyncTask: true); without --task-id, an FC 3.0 task id is made here.

--wait then waits as `fc-invocation wait` does, with its options, output and exit codes: stdout
has the id first, then wait's summary line (--output json: wait's JSON object alone, whose top-level
"task_id" (FC 3.0) or "invocation_id" (FC 2.0) is the id; stderr says which task started).

TARGET is FUNCTION[.QUALIFIER] (FC 3.0) or SERVICE[.QUALIFIER]/FUNCTION (FC 2.0).

{EXIT_CODES_HELP}""")
@click.argument("target", metavar=TARGET_METAVAR)
@click.option("--task-id", "--id", "invocation_id", metavar="ID",
              help="the task id (FC 3.0) or stateful invocation id (FC 2.0); --id is the same option "
                   "[default: a new one]")
@click.option("--payload", metavar="TEXT", help="the task's input (e.g. JSON) [default: empty]")
@click.option("--payload-file", metavar="PATH", type=click.Path(dir_okay=False, allow_dash=True),
              help="read the input from this file ('-': stdin)")
@click.option("--wait", "then_wait", is_flag=True,
              help="then wait until the task ends, as `fc-invocation wait` (its options below, its exit codes)")
@wait_options("reads")
@click.option("-o", "--output", type=OUTPUT, default="table", show_default=True,
              help="table: the id alone; json: {\"task_id\" (FC 3.0) or \"invocation_id\" (FC 2.0): ..., "
                   "\"ref\": ...}; with --wait, wait's output")
@common_options
@click.pass_context
def invoke(ctx: click.Context, target: str, invocation_id: Optional[str], payload: Optional[str],
           payload_file: Optional[str], then_wait: bool, timeout_text: str, fail_on_text: str, poll_text: str,
           max_poll_text: Optional[str], no_history: bool, output: str, verbose: bool, endpoint: Optional[str],
           region: Optional[str], account_id: Optional[str], profile: Optional[str]) -> int:
    """Start an async task (FC 3.0) or stateful async invocation (FC 2.0) of a function; print its id
    (--wait: then wait for it)."""
    conn = setup(verbose, endpoint, region, account_id, profile)
    service, function, qualifier = parse_target(target)
    if invocation_id is not None:
        from ..fc2 import validate_invocation_id  # FC 3.0's task id follows the same rule

        validate_invocation_id(invocation_id, "--task-id (--id)")
    if payload is not None and payload_file is not None:
        raise UserError("give --payload or --payload-file, not both")
    options = None
    if then_wait:
        options = parse_wait_options(timeout_text, poll_text, max_poll_text, fail_on_text)
    else:
        for name, flag in WAIT_FLAGS.items():
            if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT:
                raise UserError(f"{flag} applies to the wait: add --wait (or drop {flag})")
    body: Any = payload
    if payload_file is not None:
        try:
            with click.open_file(payload_file, "rb") as handle:
                body = handle.read()
        except OSError as exc:
            raise UserError(f"invalid --payload-file {payload_file!r}: {exc.strerror or exc}") from None
    with conn.client() as client:
        if service is None:
            started = client.invoke_async_task(function, body, task_id=invocation_id, qualifier=qualifier)
        else:
            started = client.invoke_async(service, function, body, qualifier=qualifier, invocation_id=invocation_id)
    ref = member_ref(service, function, qualifier, started)
    json_output = output.lower() == "json"
    if options is None:
        if json_output:
            key = "task_id" if service is None else "invocation_id"
            print_json({key: started, "ref": f"{target_text(service, function, qualifier)}/{started}"})
        else:
            out(started)
        return EXIT_OK
    if ref is None:  # FC answered an id that breaks the rules: nothing to wait on
        err(f"error: FC answered the id {started!r}, which is not a valid id to wait on")
        return EXIT_API
    if json_output:
        err(f"started {noun(ref)} {ref}")
    else:
        out(started)
    return wait_for(conn, ref, options, no_history=no_history, json_output=json_output, verbose=verbose,
                    just_started=True)


# The options of the wait (``wait_options``' parameter names) that mean nothing without --wait.
WAIT_FLAGS = {"timeout_text": "--timeout", "fail_on_text": "--fail-on", "poll_text": "--poll-interval",
              "max_poll_text": "--max-poll-interval", "no_history": "--no-history"}


@cli.command(
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    add_help_option=False,
    short_help="Run a local FC emulator (see: fc-invocation emulator --help).",
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def emulator(args: tuple[str, ...]) -> int:
    """Run a local Function Compute emulator; all arguments go to the emulator (--help for its options)."""
    from ..testing.emulator_cli import main as emulator_main

    try:
        code = emulator_main(list(args))
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    # The emulator reports usage and set-up errors with 2; here 2 means "timed out", 3 usage/config.
    return EXIT_USAGE if code == 2 else int(code or 0)


cli.add_command(wait)
cli.add_command(wait_batch)
