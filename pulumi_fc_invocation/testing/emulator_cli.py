"""``fc-invocation emulator``: run the FC emulator until Ctrl+C / SIGTERM.

Prints the endpoint and the environment variables that point this package (and the Pulumi
program) at it. The emulator's default access key is a fixed test key, so its secret is printed;
a secret of your own is not echoed back. Give it with ``FC_EMULATOR_ACCESS_KEY_SECRET`` or
``--access-key-secret-file``: ``--access-key-secret`` works too, but any user of the machine can
read it in ``ps``.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import signal
import sys
import threading
from typing import Optional

__all__ = ["main", "build_parser", "SECRET_ENV", "DEFAULT_FUNCTION"]

SECRET_ENV = "FC_EMULATOR_ACCESS_KEY_SECRET"
# Served when neither --function nor --scenario is given: a bare emulator must be able to run a task.
DEFAULT_FUNCTION = "demo/job"


def build_parser(prog: str = "fc-invocation emulator") -> argparse.ArgumentParser:
    from .models import TASK_RETENTION
    from .server import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCOUNT_ID, DEFAULT_REGION

    parser = argparse.ArgumentParser(
        prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run a local Function Compute emulator for async tasks: FC 3.0 (API 2023-03-30) and "
                    "FC 2.0 (APIs 2016-08-15 and 2021-04-06), over one state.",
        epilog=f"""examples:
  {prog} --port 9000                      # serves {DEFAULT_FUNCTION}: every task succeeds after 10 s
  {prog} --port 9000 --function video.prod/transcode --outcome Failed --duration 30
  {prog} --port 9000 --fc3-function render.prod     # an FC 3.0 function (no service)
  {prog} --port 9000 --fc3-function migrate --fail-first 1   # the first run fails, its retry succeeds
  {prog} --port 9000 --scenario scenario.json --quiet
  {SECRET_ENV}="$(cat secret.txt)" {prog} --port 9000   # your own test secret

then, in another shell (after the export lines it prints):
  id=$(fc-invocation invoke {DEFAULT_FUNCTION}) && fc-invocation wait "{DEFAULT_FUNCTION}/$id"

A task's payload can pick its own outcome: {{"fcEmulator": {{"status": "Failed", "after": 2.5}}}}.
The scenario format (functions, invocations, credentials) is in docs/testing.md ("Scenario files").""")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9000, help="port (default 9000; 0 picks a free one)")
    parser.add_argument("--access-key-id", default=DEFAULT_ACCESS_KEY_ID, help="access key id to accept")
    parser.add_argument("--access-key-secret", default=None,
                        help=f"its secret (visible in ps: prefer {SECRET_ENV} or --access-key-secret-file; "
                             "default: the emulator's test secret)")
    parser.add_argument("--access-key-secret-file", default=None, metavar="PATH",
                        help="read the secret from this file (one line)")
    parser.add_argument("--security-token", default=None, help="require this STS token with the key")
    parser.add_argument("--account-id", default=DEFAULT_ACCOUNT_ID, help=f"account id (default {DEFAULT_ACCOUNT_ID})")
    parser.add_argument("--region", default=DEFAULT_REGION, help=f"region (default {DEFAULT_REGION})")
    parser.add_argument("--scenario", default=None, help="JSON scenario file with functions and invocations")
    parser.add_argument("--function", action="append", default=None, metavar="SERVICE[.QUALIFIER]/FUNCTION",
                        help=f"serve this function (repeatable; default without --scenario: {DEFAULT_FUNCTION})")
    parser.add_argument("--fc3-function", action="append", default=None, metavar="FUNCTION[.QUALIFIER]",
                        help="serve this FC 3.0 function (repeatable; a 2.0 --function is also served "
                             "through FC 3.0 as SERVICE$FUNCTION)")
    parser.add_argument("--outcome", default="Succeeded", choices=("Succeeded", "Failed", "Stopped", "Expired",
                                                                   "Invalid", "Running"),
                        help="how the tasks of --function end (default Succeeded; Running: never)")
    parser.add_argument("--duration", type=float, default=10.0, metavar="SECONDS",
                        help="how long each task of --function runs (default 10)")
    parser.add_argument("--fail-first", type=int, default=None, metavar="N",
                        help="the first N async runs of each --function / --fc3-function end Failed, the next "
                             "ones follow --outcome (with --fail-on-payload: the first N runs with that payload)")
    parser.add_argument("--fail-on-payload", default=None, metavar="PAYLOAD",
                        help="the async runs with exactly this payload end Failed (all of them, or the first "
                             "--fail-first N)")
    parser.add_argument("--retention", type=_retention, default=TASK_RETENTION, metavar="SECONDS|none",
                        help="forget a task this long after it starts, as FC does (default 604800: FC's 7 days; "
                             "none: keep every task)")
    parser.add_argument("--quiet", action="store_true", help="don't print a line per request")
    return parser


def _retention(text: str) -> Optional[float]:
    from .models import check_retention

    if text.strip().lower() == "none":
        return None
    try:
        return check_retention(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds or 'none', not {text!r}") from None


def main(argv: Optional[list[str]] = None) -> int:
    from .scenario import ScenarioError
    from .server import DEFAULT_ACCESS_KEY_SECRET, FcEmulator

    from ..errors import printable

    args = build_parser().parse_args(argv)
    given = [name for name, value in (("--access-key-secret", args.access_key_secret),
                                      ("--access-key-secret-file", args.access_key_secret_file),
                                      (SECRET_ENV, os.environ.get(SECRET_ENV))) if value]
    if len(given) > 1:
        print(f"error: give the secret one way, not {' and '.join(given)}", file=sys.stderr)
        return 2
    own_secret = args.access_key_secret or os.environ.get(SECRET_ENV)
    if args.access_key_secret_file:
        try:
            with open(args.access_key_secret_file, encoding="utf-8") as handle:
                own_secret = handle.read().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"error: cannot read --access-key-secret-file {args.access_key_secret_file}: "
                  f"{getattr(exc, 'strerror', None) or type(exc).__name__}", file=sys.stderr)
            return 2
        if not own_secret:
            print(f"error: --access-key-secret-file {args.access_key_secret_file} is empty", file=sys.stderr)
            return 2
    secret = own_secret or DEFAULT_ACCESS_KEY_SECRET

    def show(record) -> None:
        # The path and key id are the client's text: a crafted path must not forge a log line.
        line = (f"{record.method} {record.path} -> {record.status if record.status is not None else 'reset'}"
                f" ({record.route or 'no route'}, key {record.access_key_id or '-'})")
        print(printable(line).replace("\n", "\\n").replace("\t", "\\t"), file=sys.stderr, flush=True)

    fc3_functions = args.fc3_function or []
    functions = args.function or ([] if args.scenario or fc3_functions else [DEFAULT_FUNCTION])
    try:
        targets = [_function_target(text) for text in functions] + [_fc3_target(text) for text in fc3_functions]
        if not math.isfinite(args.duration) or args.duration < 0:
            raise ValueError(f"invalid --duration {args.duration!r}: must be a finite number of seconds >= 0")
        rule = {"fail_first": args.fail_first, "fail_on_payload": args.fail_on_payload}
        if any(value is not None for value in rule.values()):
            _check_rule(rule, bool(targets))
        emulator = FcEmulator(host=args.host, port=args.port, account_id=args.account_id, region=args.region,
                              access_key_id=args.access_key_id, access_key_secret=secret,
                              security_token=args.security_token, clock="real", scenario=args.scenario,
                              on_request=None if args.quiet else show, retention=args.retention)
        for service, function, qualifiers in targets:
            emulator.add_function(service, function, qualifiers=qualifiers, outcome=args.outcome,
                                  duration=args.duration, **rule)
        emulator.start()
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    env = emulator.env()
    if own_secret:
        env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = f"<the secret from {given[0]}>"
    if args.security_token:
        env["ALIBABA_CLOUD_SECURITY_TOKEN"] = "<the --security-token you gave>"
    print(f"FC emulator listening on {emulator.endpoint} "
          f"(account {emulator.account_id}, region {emulator.region})")
    print("Use these settings (e.g. eval them in your shell):")
    for name, value in env.items():
        print(f"export {name}={shlex.quote(value) if not value.startswith('<') else repr(value)}")
    print(f"or in Pulumi: pulumi config set fc-invocation:endpoint {emulator.endpoint}")
    ends = f"tasks end {args.outcome} after {args.duration:g} s{_rule_words(rule)}"
    for text in functions:
        print(f"serving {text} ({ends}): fc-invocation invoke {text}")
    for text in fc3_functions:
        print(f"serving FC 3.0 function {text} ({ends})")
    print("Press Ctrl+C to stop.", flush=True)

    done = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("FC emulator stopped.", flush=True)
    return 0


def _check_rule(rule: dict, has_targets: bool) -> None:
    if rule["fail_first"] is not None and rule["fail_first"] < 0:
        raise ValueError(f"invalid --fail-first {rule['fail_first']}: --fail-first must be an integer >= 0 "
                         "(the number of runs that fail)")
    if not has_targets:
        raise ValueError("--fail-first / --fail-on-payload apply to --function / --fc3-function (give them, or "
                         "the scenario's failFirst / failOnPayload keys)")


def _rule_words(rule: dict) -> str:
    first, payload = rule["fail_first"], rule["fail_on_payload"]
    if first is None and payload is None:
        return ""
    which = f" with payload {payload!r}" if payload is not None else ""
    return f"; all runs{which} fail" if first is None else f"; the first {first} run(s){which} fail"


def _function_target(text: str) -> tuple[str, str, list[str]]:
    """``SERVICE[.QUALIFIER]/FUNCTION`` -> (service, function, qualifiers served)."""
    service, _, function = text.partition("/")
    service, dot, qualifier = service.partition(".")
    if not service or not function or "/" in function or (dot and not qualifier):
        raise ValueError(f"invalid --function {text!r}: must be SERVICE[.QUALIFIER]/FUNCTION, e.g. video.prod/transcode")
    return service, function, ["LATEST", qualifier] if qualifier else ["LATEST"]


def _fc3_target(text: str) -> tuple[None, str, list[str]]:
    """``FUNCTION[.QUALIFIER]`` -> (None, function, qualifiers served)."""
    function, dot, qualifier = text.partition(".")
    if not function or "/" in text or "$" in text or (dot and not qualifier):
        raise ValueError(f"invalid --fc3-function {text!r}: must be FUNCTION[.QUALIFIER], e.g. render.prod")
    return None, function, ["LATEST", qualifier] if qualifier else ["LATEST"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
