"""``fc-invocation``: read and wait for Function Compute async tasks (FC 3.0) and stateful async
invocations (FC 2.0) from a shell or CI.

An id of two segments ``FUNCTION[.QUALIFIER]/TASK_ID`` is an FC 3.0 task (API 2023-03-30, ACS3
signature); of three, ``SERVICE[.QUALIFIER]/FUNCTION/INVOCATION_ID``, an FC 2.0 invocation. A target
(``list``, ``wait-batch``, ``invoke``) of one segment ``FUNCTION[.QUALIFIER]`` is FC 3.0, of two
``SERVICE[.QUALIFIER]/FUNCTION`` FC 2.0. Both get the same exit codes and JSON shapes.

Commands: ``get``, ``wait``, ``wait-batch``, ``list``, ``invoke`` and ``emulator``. Exit codes (for CI gates outside
Pulumi):

====  ==========================================================================
0     success; ``wait``: the task succeeded, or ended in a status not in --fail-on;
      ``wait-batch``: every member ended, none in a --fail-on status
1     ``wait`` / ``wait-batch``: the task (a member) ended in a --fail-on status
2     ``wait`` / ``wait-batch``: --timeout passed before the task (the batch) ended
3     usage or configuration error (bad id, bad option value, missing credentials)
4     FC API or network error (not found, access denied, unreachable endpoint)
5     internal error (a bug: please report it)
130   interrupted (Ctrl+C, SIGINT)
143   terminated (SIGTERM, e.g. a CI runner cancelling the job)
====  ==========================================================================

Every failure is one line on stderr, never a traceback (``-v`` adds DEBUG logs, and the traceback of
an internal error). Secrets are never printed; payloads are printed only for ``--output json`` or
``--show-payloads``, and never logged.

This module imports neither Pulumi nor gRPC; the client (requests, pydantic) is imported inside the
commands.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Optional

import click

from .errors import printable

__all__ = ["main", "cli", "parse_duration", "EXIT_OK", "EXIT_FAILED", "EXIT_TIMEOUT", "EXIT_USAGE",
           "EXIT_API", "EXIT_INTERNAL"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_TIMEOUT = 2
EXIT_USAGE = 3
EXIT_API = 4
EXIT_INTERNAL = 5
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, what a shell reports for a killed job


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so it unwinds (and says so) as Ctrl+C does."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated()

PROG = "fc-invocation"
log = logging.getLogger("pulumi_fc_invocation.cli")

_ID_HELP = ("FUNCTION[.QUALIFIER]/TASK_ID (FC 3.0, e.g. transcode.prod/job-123) or "
            "SERVICE[.QUALIFIER]/FUNCTION/INVOCATION_ID (FC 2.0, e.g. video.prod/transcode/video-123)")
_TARGET_HELP = ("FUNCTION[.QUALIFIER] (FC 3.0, e.g. transcode.prod) or SERVICE[.QUALIFIER]/FUNCTION "
                "(FC 2.0, e.g. video.prod/transcode)")
_TARGET_RULE = "must be " + _TARGET_HELP
_TARGET_METAVAR = "[SERVICE[.QUALIFIER]/]FUNCTION[.QUALIFIER]"
_STATUSES = ("Enqueued", "Dequeued", "Running", "Retrying", "Stopping",
             "Succeeded", "Failed", "Stopped", "Expired", "Invalid")

_EXIT_CODES_HELP = """\b
Exit codes:
  0  success (wait: Succeeded, or a terminal status not in --fail-on;
     wait-batch: every member ended, none in a --fail-on status)
  1  wait, wait-batch: the task or invocation (a member) ended in a --fail-on status
  2  wait, wait-batch: --timeout passed before the task or invocation (the batch) ended
  3  usage or configuration error (bad id or option, missing credentials)
  4  FC API or network error (not found, access denied, unreachable)
  5  internal error (please report it)
  130  interrupted (Ctrl+C, SIGINT)
  143  terminated (SIGTERM, e.g. a cancelled CI job)"""


class _UserError(Exception):
    """A usage error found by this module: printed as one line, exit code 3."""


# --- parsing ------------------------------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?|\.\d+)(ms|h|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_DURATION_RULE = "must be a duration like 90, 90s, 0.5s, 30m, 2h or 1h30m"


def parse_duration(text: str, option: str = "duration", *, bare_number: bool = True) -> float:
    """``90`` / ``90s`` / ``0.5s`` / ``500ms`` / ``30m`` / ``2h`` / ``1h30m`` -> seconds (> 0).

    With ``bare_number`` False a number without a unit is refused (``--since``, where it is epoch ms).
    """
    value = text.strip().lower()
    seconds: Optional[float] = None
    if bare_number and re.fullmatch(r"\d+(?:\.\d+)?|\.\d+", value):
        seconds = float(value)
    elif value and _DURATION_PART.sub("", value) == "":
        units = [unit for _, unit in _DURATION_PART.findall(value)]
        if len(set(units)) == len(units):
            seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART.findall(value))
    if seconds is None:
        raise _UserError(f"invalid {option} {text!r}: {_DURATION_RULE}")
    if not 0 < seconds < float("inf"):
        raise _UserError(f"invalid {option} {text!r}: must be longer than zero")
    return seconds


def parse_time_bound(text: str, option: str, now: Optional[datetime] = None) -> datetime:
    """``--since`` / ``--until``: a duration ago (``2h``), RFC 3339 text, or epoch seconds (up to 10
    digits) or milliseconds (11 to 13 digits)."""
    from .models import parse_time

    now = now or datetime.now(timezone.utc)
    value = text.strip()
    if value and not value.isdigit() and _DURATION_PART.sub("", value.lower()) == "":
        return now - timedelta(seconds=parse_duration(value, option, bare_number=False))
    if value.isascii() and value.isdigit():
        # Epoch seconds have 10 digits until 2286, milliseconds 13: 1793700000 is 2026, not 1970.
        if len(value) <= 10:
            return datetime.fromtimestamp(int(value), timezone.utc)
        if len(value) > 13:
            raise _UserError(f"invalid {option} {text!r}: epoch time must be seconds (10 digits) or "
                             "milliseconds (13 digits)")
    try:
        parsed = parse_time(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise _UserError(f"invalid {option} {text!r}: must be a duration ago like 30m or 2h, RFC 3339 time "
                         f"like 2026-11-03T10:00:00Z, or epoch seconds (1793700000) or milliseconds (1793700000000)")
    return parsed


def parse_target(text: str) -> tuple[Optional[str], str, Optional[str]]:
    """``FUNCTION[.QUALIFIER]`` (FC 3.0: service None) or ``SERVICE[.QUALIFIER]/FUNCTION`` (FC 2.0) ->
    (service, function, qualifier), validated by that API's rules."""
    parts = text.split("/")
    if len(parts) not in (1, 2):
        raise _UserError(f"invalid target {text!r}: {_TARGET_RULE}")
    head, dot, qualifier = parts[0].partition(".")
    if dot and not qualifier:
        raise _UserError(f"invalid target {text!r}: the qualifier after '.' is empty; {_TARGET_RULE}")
    if len(parts) == 1:
        from .fc3 import AsyncTaskRef

        AsyncTaskRef(function_name=head, task_id="_", qualifier=qualifier or None)
        return None, head, qualifier or None
    from .fc2 import InvocationRef

    InvocationRef(service_name=head, function_name=parts[1], invocation_id="_", qualifier=qualifier or None)
    return head, parts[1], qualifier or None


def _target_text(service: Optional[str], function: str, qualifier: Optional[str]) -> str:
    if service is None:
        return f"{function}.{qualifier}" if qualifier else function
    return (f"{service}.{qualifier}" if qualifier else service) + f"/{function}"


def _member_ref(service: Optional[str], function: str, qualifier: Optional[str], member_id: str) -> Any:
    """The ref of an id listed under a target (None when FC answered an id that breaks the rules)."""
    if not _valid_id(member_id):
        return None
    if service is None:
        from .fc3 import AsyncTaskRef

        return AsyncTaskRef(function_name=function, task_id=member_id, qualifier=qualifier)
    from .fc2 import InvocationRef

    return InvocationRef(service_name=service, function_name=function, invocation_id=member_id, qualifier=qualifier)


def parse_id(text: str) -> Any:
    """An id of either API (two segments FC 3.0, three FC 2.0), as an ``AsyncTaskRef`` / ``InvocationRef``."""
    from .client import parse_ref

    return parse_ref(text)


def _noun(ref_or_result: Any) -> str:
    return "task" if hasattr(ref_or_result, "task_id") else "invocation"


def _not_found_line(ref: Any, error: Any) -> str:
    """The error line of a task or invocation FC does not know, as a gate words it (FC may have forgotten it)."""
    from .kinds import FC2, FC3
    from .pulumi.gating import not_found_message

    fc3 = _noun(ref) == "task"
    text = not_found_message(FC3 if fc3 else FC2, ref, error, details=False, gate=False)
    code = f"{error.code}: " if error.code else ""
    check = "the function, qualifier and id" if fc3 else "the service, qualifier, function and id"
    return _one_line(f"error: FC API error (NotFoundError): {code}{text} (HTTP {error.http_status or 404}, request id "
                     f"{error.request_id or 'unknown'}); check {check}")


def parse_fail_on(text: str) -> tuple[str, ...]:
    from .models import check_fail_on_statuses

    return check_fail_on_statuses([item.strip() for item in text.split(",") if item.strip()], "--fail-on")


# --- output -------------------------------------------------------------------------------------


def _encodable(text: str, stream: Any) -> str:
    """``text`` as ``stream`` can encode it: what its encoding lacks (cp1252 on Windows when output
    is redirected) and lone surrogates become backslash escapes instead of a UnicodeEncodeError."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        return text.encode(encoding, "backslashreplace").decode(encoding, "replace")
    except LookupError:
        return text.encode("ascii", "backslashreplace").decode("ascii")


def _is_utf8(stream: Any) -> bool:
    import codecs

    try:
        return codecs.lookup(getattr(stream, "encoding", None) or "utf-8").name == "utf-8"
    except LookupError:
        return False


class _Output:
    """stdout/stderr writes that survive a closed pipe (``| head``) without changing the exit code,
    and a stream that cannot encode every character."""

    broken = False

    @classmethod
    def write(cls, text: str, err: bool = False) -> None:
        stream = sys.stderr if err else sys.stdout
        if cls.broken and not err:
            return
        try:
            stream.write(_encodable(text, stream))
            stream.flush()
        except BrokenPipeError:
            if not err:
                cls.broken = True
                try:
                    devnull = os.open(os.devnull, os.O_WRONLY)
                    os.dup2(devnull, sys.stdout.fileno())
                except (OSError, ValueError):
                    pass


def _out(text: str = "") -> None:
    """A line on stdout; control characters from server text are shown escaped (see ``printable``)."""
    _Output.write(printable(text) + "\n")


def _err(text: str) -> None:
    _Output.write(printable(text) + "\n", err=True)


def _one_line(text: Any) -> str:
    return " ".join(printable(str(text)).split())


def _rfc3339(value: Optional[datetime]) -> str:
    if value is None:
        return "-"
    value = value.astimezone(timezone.utc)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return text + "Z"


def _duration_of(result: Any) -> Optional[float]:
    if result.duration_ms is not None and result.duration_ms > 0:
        return result.duration_ms / 1000
    if result.started_time is not None and result.end_time is not None:
        return max(0.0, (result.end_time - result.started_time).total_seconds())
    return None


def _fmt_duration(seconds: Optional[float]) -> str:
    from .gate.messages import format_duration

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
        data[key] = _rfc3339(value) if value is not None else None
    for event, model in zip(data.get("events") or [], result.events):
        event["timestamp"] = _rfc3339(model.timestamp) if model.timestamp is not None else None
    if not payloads:
        for key in ("invocation_payload", "task_payload", "return_payload"):
            data.pop(key, None)
    head = {"id": str(ref)} if ref is not None else {}
    return {**head, **data}


# Characters json.dumps(ensure_ascii=False) leaves raw that a terminal acts on (DEL, C1 controls such
# as CSI, bidi overrides, line separators); inside JSON strings they are written as \\uXXXX.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _print_json(data: Any) -> None:
    """JSON on stdout: readable UTF-8 on a UTF-8 stream, all-ASCII escapes on any other."""
    text = json.dumps(data, indent=2, ensure_ascii=not _is_utf8(sys.stdout))
    _Output.write(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")


def _print_invocation_table(result: Any, ref: Any, show_payloads: bool) -> None:
    rows = [
        ("id", str(ref)),
        ("status", result.status.value),
        ("started", _rfc3339(result.started_time)),
        ("ended", _rfc3339(result.end_time)),
        ("duration", _fmt_duration(_duration_of(result))),
        ("retried", str(result.already_retried_times)),
        ("error", _one_line(result.invocation_error_message) or "-"),
        ("destination", result.destination_status or "-"),
        ("instance id", result.instance_id or "-"),
        ("request id", result.request_id or "-"),
    ]
    if show_payloads:
        rows.append((f"{_noun(result)} payload", result.invocation_payload if result.invocation_payload is not None
                     else "-"))
        rows.append(("return payload", result.return_payload if result.return_payload is not None else "-"))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        _out(f"{name:<{width}}  {value}")
    if result.events:
        _out("events:")
        for event in result.events:
            _out(f"  {_rfc3339(event.timestamp)}  {event.status}")


def _truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 3)] + "..."


def _print_list_table(items: list[Any], show_payloads: bool, fc3: bool = False) -> None:
    noun = "TASK" if fc3 else "INVOCATION"
    header = [f"{noun} ID", "STATUS", "STARTED", "DURATION", "RETRIED", "ERROR"]
    if show_payloads:
        header += [f"{noun} PAYLOAD", "RETURN PAYLOAD"]
    rows = []
    for item in items:
        row = [item.invocation_id, item.status.value, _rfc3339(item.started_time),
               _fmt_duration(_duration_of(item)), str(item.already_retried_times),
               _truncate(_one_line(item.invocation_error_message), 60) or "-"]
        if show_payloads:
            row += [_one_line(item.invocation_payload or "") or "-", _one_line(item.return_payload or "") or "-"]
        rows.append(row)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        _out("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


# --- client -------------------------------------------------------------------------------------

# Every setting that can supply credentials: an explicit --profile hides them all from the environment
# (the role sources, OIDC first, come before the profiles in the chain and would win over it).
_CREDENTIAL_SETTINGS = ("access_key_id", "access_key_secret", "security_token", "assume_role",
                        "assume_role_with_oidc", "oidc_token_file", "oidc_token", "ecs_role_name", "credentials_uri")


@dataclass
class Connection:
    endpoint: Optional[str]
    region: Optional[str]
    account_id: Optional[str]
    profile: Optional[str]

    def client(self, **kwargs: Any) -> Any:
        """An FcClient from the options and the package's settings chain.

        ``--profile`` names a profile in ~/.alibabacloud/credentials.ini or ~/.aliyun/config.json; given
        explicitly, it wins over credentials in the environment (access keys, role settings), which
        otherwise come first.
        """
        from .client import FcClient
        from .credentials import SETTING_SOURCES, resolve_settings
        from .errors import ConfigurationError

        config: dict[str, str] = {}
        credentials = None
        if self.profile:
            config["alicloud:profile"] = self.profile
            hidden = {name for setting in _CREDENTIAL_SETTINGS
                      for name in SETTING_SOURCES.get(setting, {}).get("env", ())}
            environ = {k: v for k, v in os.environ.items() if k not in hidden}
            found = resolve_settings(config=config, environ=environ, require=False)
            if found.credentials is None:
                raise ConfigurationError(
                    f"profile {self.profile!r} (--profile) has no credentials: add a [{self.profile}] section to "
                    "~/.alibabacloud/credentials.ini (or the file in ALIBABA_CLOUD_CREDENTIALS_FILE) or a profile "
                    "to ~/.aliyun/config.json (aliyun configure --profile NAME), or drop --profile to use "
                    "ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET")
            credentials = found.credentials
            log.debug("credentials from profile %r (%s)", self.profile, found.credentials_source)
        if credentials is None:  # resolved here so that a missing key is told without FcClient's argument
            credentials = resolve_settings(endpoint=self.endpoint, region=self.region, account_id=self.account_id,
                                           config=config or None).credentials
        client = FcClient(endpoint=self.endpoint, region=self.region, account_id=self.account_id,
                          credentials=credentials, config=config or None, **kwargs)
        log.debug("endpoint %s, account id %s, region %s, %r", client.endpoint, client.account_id or "-",
                  client.region or "-", client.credentials)
        return client


def _common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--endpoint", metavar="URL", help="FC endpoint, e.g. http://127.0.0.1:9000 "
                     "[default: FC_INVOCATION_ENDPOINT, else https://ACCOUNT.REGION.fc.aliyuncs.com]"),
        click.option("--region", metavar="REGION", help="region, e.g. cn-hangzhou [default: ALIBABA_CLOUD_REGION "
                     "or the profile's region]"),
        click.option("--account-id", metavar="ID", help="Alibaba Cloud account id [default: ALIBABA_CLOUD_ACCOUNT_ID]"),
        click.option("--profile", metavar="NAME", help="credentials profile in ~/.alibabacloud/credentials.ini or "
                     "~/.aliyun/config.json; wins over credentials in the environment "
                     "[default: ALIBABA_CLOUD_PROFILE, else default]"),
        click.option("-v", "--verbose", is_flag=True, help="log requests and settings (DEBUG) to stderr; never secrets"),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _setup(verbose: bool, endpoint: Optional[str], region: Optional[str], account_id: Optional[str],
           profile: Optional[str]) -> Connection:
    if verbose:
        _enable_debug()
    return Connection(endpoint=endpoint, region=region, account_id=account_id, profile=profile)


def _enable_debug() -> None:
    """DEBUG for the package's own loggers only: a library's stay at the root's WARNING (urllib3's debug
    log prints every URL, a credentials URI's query, its bearer token, included)."""
    root = logging.getLogger()
    if not any(getattr(h, "_fc_cli", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._fc_cli = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    logging.getLogger(__package__ or "pulumi_fc_invocation").setLevel(logging.DEBUG)


# --- commands -----------------------------------------------------------------------------------

_OUTPUT = click.Choice(["table", "json"], case_sensitive=False)

_NO_HISTORY = click.option(
    "--no-history", is_flag=True,
    help="poll on the fixed schedule above; by default one list call reads the function's recent run times, "
         "and polling is sparse until the likely end, dense around it")


@click.group(
    name=PROG,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=f"""\b
Examples:
  fc-invocation get transcode.prod/job-123                   # FC 3.0 task
  fc-invocation wait transcode.prod/job-123 --timeout 1h30m --fail-on Failed,Stopped
  fc-invocation wait-batch transcode --prefix job-2026-11- --expected-count 300 --timeout 2h
  fc-invocation list transcode.prod --status Failed --since 2h
  fc-invocation invoke transcode.prod --id job-123 --payload '{{"src": "oss://raw/a.mp4"}}'
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

{_EXIT_CODES_HELP}""",
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

{_EXIT_CODES_HELP}""")
@click.argument("invocation", metavar="ID")
@click.option("-o", "--output", type=_OUTPUT, default="table", show_default=True,
              help="table for people, json (snake_case, RFC 3339 times, with payloads) for scripts")
@click.option("--show-payloads", is_flag=True, help="also show the invocation and return payloads in the table")
@_common_options
def get(invocation: str, output: str, show_payloads: bool, verbose: bool, endpoint: Optional[str],
        region: Optional[str], account_id: Optional[str], profile: Optional[str]) -> int:
    """Show one task or invocation: status, times, retries, error, request id.

    ID is FUNCTION[.QUALIFIER]/TASK_ID (FC 3.0, e.g. transcode.prod/job-123) or
    SERVICE[.QUALIFIER]/FUNCTION/INVOCATION_ID (FC 2.0, e.g. video.prod/transcode/video-123).
    """
    conn = _setup(verbose, endpoint, region, account_id, profile)
    ref = parse_id(invocation)
    from .errors import NotFoundError

    with conn.client() as client:
        try:
            result = client.get(ref)
        except NotFoundError as exc:
            _err(_not_found_line(ref, exc))
            return EXIT_API
    if output.lower() == "json":
        _print_json(invocation_json(result, ref))
    else:
        _print_invocation_table(result, ref, show_payloads)
    return EXIT_OK


class _Progress:
    """The wait's progress on stderr: one line rewritten in place on a terminal, plain lines otherwise.

    ``describe(last, elapsed)`` gives the line; ``last`` is the latest result (None before the first).
    """

    def __init__(self, describe: Callable[[Any, float], str], live: bool, stream: Any) -> None:
        self.describe = describe
        self.live = live
        self.stream = stream
        self.last: Any = None
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._shown = False

    def start(self, intro: str) -> None:
        self.started = time.monotonic()
        if not self.live:
            self._plain(intro)
            return
        self._render()
        self._thread = threading.Thread(target=self._tick, name="fc-invocation-progress", daemon=True)
        self._thread.start()

    def seen(self, result: Any) -> Any:
        self.last = result
        if self.live:
            self._render()
        return result

    def periodic(self, result: Any, elapsed: float) -> None:
        """Waiter callback (plain mode), about every 30 s."""
        if not self.live:
            self._plain(self.describe(result, elapsed))

    def finish(self) -> None:
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
            line = _one_line(printable(self.describe(self.last, time.monotonic() - self.started)))
            width = max(20, self._columns() - 1)
            self._write("\r" + _truncate(line, width) + "\x1b[K")
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
            self.stream.write(_encodable(text, self.stream))
            self.stream.flush()
        except (OSError, ValueError):
            pass


@cli.command(epilog=f"""\b
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
30 s (plus start and end) when piped, as in CI logs. The outcome goes to stdout.

Durations: 90 (seconds), 90s, 0.5s, 500ms, 30m, 2h, 1h30m.

{_EXIT_CODES_HELP}""")
@click.argument("invocation", metavar="ID")
@click.option("--timeout", "timeout_text", default="30m", show_default=True, metavar="DURATION",
              help="give up (exit 2) after this long")
@click.option("--fail-on", "fail_on_text", default="Failed,Stopped,Expired,Invalid", show_default=True,
              metavar="STATUSES", help="comma-separated terminal statuses that exit 1; '' never fails")
@click.option("--poll-interval", "poll_text", default="1s", show_default=True, metavar="DURATION",
              help="delay between reads during the first 10 s")
@click.option("--max-poll-interval", "max_poll_text", metavar="DURATION",
              help="the delay then grows (with jitter) up to 45s, sparser with a history; given, no delay exceeds "
                   "it, with a history too  [default: unset]")
@_NO_HISTORY
@click.option("-o", "--output", type=_OUTPUT, default="table", show_default=True,
              help="table: one summary line; json: the final task or invocation (with payloads) on stdout")
@_common_options
def wait(invocation: str, timeout_text: str, fail_on_text: str, poll_text: str, max_poll_text: str,
         no_history: bool, output: str, verbose: bool, endpoint: Optional[str], region: Optional[str],
         account_id: Optional[str], profile: Optional[str]) -> int:
    """Wait until a task or invocation ends; exit 0 if it succeeded, 1 if it failed, 2 on timeout.

    ID is FUNCTION[.QUALIFIER]/TASK_ID (FC 3.0, e.g. transcode.prod/job-123) or
    SERVICE[.QUALIFIER]/FUNCTION/INVOCATION_ID (FC 2.0, e.g. video.prod/transcode/video-123).
    """
    from .errors import NotFoundError
    from .gate.messages import failure_message, format_duration, progress_message, timeout_message
    from .waiter import Waiter, WaitPolicy, call_budget, history_for

    conn = _setup(verbose, endpoint, region, account_id, profile)
    ref = parse_id(invocation)
    timeout, poll, max_poll, fail_on = _wait_options(timeout_text, poll_text, max_poll_text, fail_on_text)
    policy = WaitPolicy(initial_delay=poll, max_delay=max_poll, timeout=timeout, duration_aware=not no_history,
                        cap=max_poll if max_poll_text is not None else None)
    json_output = output.lower() == "json"

    # The client's own retries stay within the wait's deadline.
    with conn.client(retry_budget=min(30.0, timeout)) as client:
        live = _isatty(sys.stderr) and not verbose and os.environ.get("TERM") != "dumb"
        progress = _Progress(lambda last, elapsed: progress_message(ref, last, elapsed), live, sys.stderr)
        fails = ", ".join(fail_on) or "nothing"
        progress.start(f"waiting for {ref}: timeout {_fmt_duration(timeout)}, {_polling_text(policy)}, "
                       f"fail on {fails}")
        # Every read, retries included, ends by --timeout, but the one at it, which has its own budget.
        bounded = client.bounded(call_budget)
        # The function's recent durations (one list call, after a first read finds the task running;
        # refused or unusable: the default schedule, silently) shape the polling.
        waiter = Waiter(lambda: progress.seen(bounded.get(ref)), policy, on_progress=progress.periodic,
                        progress_interval=30.0, history=None if no_history else history_for(bounded, ref),
                        server_now=client.server_time)
        try:
            outcome = waiter.wait()
        finally:
            progress.finish()
    _log_schedule(str(ref), outcome, f"{outcome.calls} {'read' if outcome.calls == 1 else 'reads'}")

    if isinstance(outcome.error, NotFoundError):
        _err(_not_found_line(ref, outcome.error))
        return EXIT_API
    if outcome.error is not None:  # a hopeless API error, or too many transient ones in a row
        raise outcome.error
    result = outcome.result
    if outcome.timed_out or result is None:
        _err("error: " + _one_line(timeout_message(ref, result, outcome.elapsed, timeout, noun=_noun(ref),
                                                   last_error=outcome.last_error))
             + "; raise --timeout or check the task")
        if json_output and result is not None:
            _print_json(invocation_json(result, ref))
        return EXIT_TIMEOUT
    if json_output:
        _print_json(invocation_json(result, ref))
    status = result.status.value
    if status in fail_on:
        _err("error: " + _one_line(failure_message(ref, result, fail_on, noun=_noun(ref))))
        return EXIT_FAILED
    retried = result.already_retried_times
    detail = f"retried {retried} {'time' if retried == 1 else 'times'}, request id {result.request_id or 'unknown'}"
    if result.succeeded:
        line = f"{_noun(ref)} {ref} Succeeded after {format_duration(outcome.elapsed)} ({detail})"
    else:
        line = (f"{_noun(ref)} {ref} ended {status} after {format_duration(outcome.elapsed)}, which is not in "
                f"--fail-on ({fails}) ({detail})")
    if json_output:
        _err(line)
    else:
        _out(line)
    return EXIT_OK


def _polling_text(policy: Any) -> str:
    """How the wait polls, for its start line."""
    fixed = f"every {_fmt_duration(policy.initial_delay)} up to {_fmt_duration(policy.max_delay)}"
    if not policy.duration_aware:
        return "polling " + fixed
    sparsest = policy.sparse_max_delay if policy.cap is None else min(policy.cap, policy.sparse_max_delay)
    return (f"polling duration-aware (from the function's recent runs), at most "
            f"{_fmt_duration(sparsest)} apart before the likely end; without a history {fixed}")


def _log_schedule(what: str, outcome: Any, reads: str) -> None:
    log.debug("%s: %s schedule, %s, %d history list %s", what, outcome.schedule, reads, outcome.history_calls,
              "call" if outcome.history_calls == 1 else "calls")


def _wait_options(timeout_text: str, poll_text: str, max_poll_text: Optional[str],
                  fail_on_text: str) -> tuple[float, float, float, tuple[str, ...]]:
    """--timeout, --poll-interval, --max-poll-interval (None: not given, DEFAULT_MAX_POLL_INTERVAL), --fail-on of
    ``wait`` and ``wait-batch``."""
    from .gate.messages import format_duration
    from .waiter import DEFAULT_MAX_POLL_INTERVAL

    timeout = parse_duration(timeout_text, "--timeout")
    poll = parse_duration(poll_text, "--poll-interval")
    if max_poll_text is None:
        max_poll_text = format_duration(DEFAULT_MAX_POLL_INTERVAL)
    max_poll = parse_duration(max_poll_text, "--max-poll-interval")
    if max_poll < poll:
        raise _UserError(f"invalid --max-poll-interval {max_poll_text!r}: must be at least --poll-interval "
                         f"({poll_text}); raise it or lower --poll-interval")
    return timeout, poll, max_poll, parse_fail_on(fail_on_text)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


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

{_EXIT_CODES_HELP}""")
@click.argument("target", metavar=_TARGET_METAVAR)
@click.option("--status", type=click.Choice(_STATUSES, case_sensitive=False), help="only invocations in this status")
@click.option("--prefix", metavar="TEXT", help="only task or invocation ids starting with this")
@click.option("--since", metavar="WHEN", help="only invocations started at or after this (e.g. 2h = in the last 2 h)")
@click.option("--until", metavar="WHEN", help="only invocations started at or before this")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="at most this many")
@click.option("-o", "--output", type=_OUTPUT, default="table", show_default=True,
              help="table for people, json (a list, snake_case, RFC 3339 times) for scripts")
@click.option("--show-payloads", is_flag=True, help="fetch and show the invocation payloads too")
@_common_options
def list_(target: str, status: Optional[str], prefix: Optional[str], since: Optional[str], until: Optional[str],
          limit: int, output: str, show_payloads: bool, verbose: bool, endpoint: Optional[str],
          region: Optional[str], account_id: Optional[str], profile: Optional[str]) -> int:
    """List a function's tasks (FC 3.0) or invocations (FC 2.0), newest first, with filters."""
    conn = _setup(verbose, endpoint, region, account_id, profile)
    service, function, qualifier = parse_target(target)
    now = datetime.now(timezone.utc)
    after = parse_time_bound(since, "--since", now) if since else None
    before = parse_time_bound(until, "--until", now) if until else None
    if after is not None and before is not None and after > before:
        raise _UserError(f"invalid --since {since!r}: it is later than --until {until!r}")
    if prefix is not None and (not prefix or len(prefix) > 128):
        raise _UserError(f"invalid --prefix {prefix!r}: must be 1-128 characters")
    filters: dict[str, Any] = dict(qualifier=qualifier, status=status, prefix=prefix, started_after=after,
                                   started_before=before, include_payload=show_payloads, limit=limit,
                                   page_size=min(limit, 100))
    with conn.client() as client:
        if service is None:
            items = list(client.list_async_tasks(function, **filters))
        else:
            items = list(client.list_stateful_async_invocations(service, function, **filters))
    if output.lower() == "json":
        _print_json([invocation_json(item, _member_ref(service, function, qualifier, item.invocation_id),
                                     payloads=show_payloads) for item in items])
    else:
        _print_list_table(items, show_payloads, fc3=service is None)
        if not items:
            _err("no tasks match" if service is None else "no invocations match")
    return EXIT_OK


@cli.command(epilog=f"""\b
Examples:
  fc-invocation invoke transcode.prod --id job-123 --payload '{{"src": "oss://raw/a.mp4"}}'   # FC 3.0
  id=$(fc-invocation invoke transcode) && fc-invocation wait "transcode/$id"
  fc-invocation invoke demo/job                          # FC 2.0: FC picks the id; it is printed
  fc-invocation invoke video/transcode --payload-file job.json --output json
  id=$(fc-invocation invoke demo/job) && fc-invocation wait "demo/job/$id"

Starts the task with InvokeFunction (async), never retried once sent: a second start could run it
twice. The id goes to stdout; FcClient.invoke_async_task (FC 3.0) and FcClient.invoke_async (FC 2.0)
do the same from Python. An FC 3.0 function keeps a task to read only with async task mode on
(PutAsyncInvokeConfig asyncTask: true); without --id, an FC 3.0 task id is made here.

TARGET is FUNCTION[.QUALIFIER] (FC 3.0) or SERVICE[.QUALIFIER]/FUNCTION (FC 2.0).

{_EXIT_CODES_HELP}""")
@click.argument("target", metavar=_TARGET_METAVAR)
@click.option("--id", "invocation_id", metavar="ID",
              help="the task id (FC 3.0) or stateful invocation id (FC 2.0) [default: a new one]")
@click.option("--payload", metavar="TEXT", help="the task's input (e.g. JSON) [default: empty]")
@click.option("--payload-file", metavar="PATH", type=click.Path(dir_okay=False, allow_dash=True),
              help="read the input from this file ('-': stdin)")
@click.option("-o", "--output", type=_OUTPUT, default="table", show_default=True,
              help="table: the id alone; json: {\"task_id\" (FC 3.0) or \"invocation_id\" (FC 2.0): ..., \"ref\": ...}")
@_common_options
def invoke(target: str, invocation_id: Optional[str], payload: Optional[str], payload_file: Optional[str],
           output: str, verbose: bool, endpoint: Optional[str], region: Optional[str], account_id: Optional[str],
           profile: Optional[str]) -> int:
    """Start an async task (FC 3.0) or stateful async invocation (FC 2.0) of a function; print its id."""
    conn = _setup(verbose, endpoint, region, account_id, profile)
    service, function, qualifier = parse_target(target)
    if invocation_id is not None:
        from .fc2 import validate_invocation_id  # FC 3.0's task id follows the same rule

        validate_invocation_id(invocation_id, "--id")
    if payload is not None and payload_file is not None:
        raise _UserError("give --payload or --payload-file, not both")
    body: Any = payload
    if payload_file is not None:
        try:
            with click.open_file(payload_file, "rb") as handle:
                body = handle.read()
        except OSError as exc:
            raise _UserError(f"invalid --payload-file {payload_file!r}: {exc.strerror or exc}") from None
    with conn.client() as client:
        if service is None:
            started = client.invoke_async_task(function, body, task_id=invocation_id, qualifier=qualifier)
        else:
            started = client.invoke_async(service, function, body, qualifier=qualifier, invocation_id=invocation_id)
    if output.lower() == "json":
        key = "task_id" if service is None else "invocation_id"
        _print_json({key: started, "ref": f"{_target_text(service, function, qualifier)}/{started}"})
    else:
        _out(started)
    return EXIT_OK


def _valid_id(value: str) -> bool:
    from .fc2 import validate_invocation_id

    try:
        validate_invocation_id(value)
    except ValueError:
        return False
    return True


_MAX_ERROR_SHOWN = 300  # characters of each failed member's error message in the exit-1 report


@cli.command(name="wait-batch", epilog=f"""\b
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

{_EXIT_CODES_HELP}""")
@click.argument("target", metavar=_TARGET_METAVAR)
@click.option("--prefix", required=True, metavar="TEXT",
              help="the batch: task or invocation ids starting with this")
@click.option("--expected-count", type=click.IntRange(min=1), metavar="N",
              help="keep waiting until at least N tasks or invocations exist  [default: 1]")
@click.option("--since", metavar="WHEN", help="only invocations started at or after this (e.g. 2h = in the last 2 h)")
@click.option("--until", metavar="WHEN", help="only invocations started at or before this")
@click.option("--timeout", "timeout_text", default="30m", show_default=True, metavar="DURATION",
              help="give up (exit 2) after this long")
@click.option("--fail-on", "fail_on_text", default="Failed,Stopped,Expired,Invalid", show_default=True,
              metavar="STATUSES", help="comma-separated terminal statuses that exit 1; '' never fails")
@click.option("--poll-interval", "poll_text", default="1s", show_default=True, metavar="DURATION",
              help="delay between polls during the first 10 s")
@click.option("--max-poll-interval", "max_poll_text", metavar="DURATION",
              help="the delay then grows (with jitter) up to 45s, sparser with a history; given, no delay exceeds "
                   "it, with a history too  [default: unset]")
@_NO_HISTORY
@click.option("-o", "--output", type=_OUTPUT, default="table", show_default=True,
              help="table: one summary line; json: the batch (counts, members without payloads) on stdout")
@_common_options
def wait_batch(target: str, prefix: str, expected_count: Optional[int], since: Optional[str], until: Optional[str],
               timeout_text: str, fail_on_text: str, poll_text: str, max_poll_text: str, no_history: bool,
               output: str, verbose: bool, endpoint: Optional[str], region: Optional[str],
               account_id: Optional[str], profile: Optional[str]) -> int:
    """Wait until a batch of tasks or invocations ends; exit 0 if none failed, 1 if one did, 2 on timeout.

    The batch: the tasks of FUNCTION[.QUALIFIER] (FC 3.0), or the invocations of
    SERVICE[.QUALIFIER]/FUNCTION (FC 2.0), whose ids start with --prefix.
    """
    from .batching import BatchSpec, BatchTracker, failures_message, not_found_message, timeout_message
    from .errors import NotFoundError
    from .fc2 import validate_invocation_id
    from .gate.messages import format_duration
    from .waiter import Waiter, batch_history, call_budget, history_for

    conn = _setup(verbose, endpoint, region, account_id, profile)
    service, function, qualifier = parse_target(target)
    validate_invocation_id(prefix, "--prefix")
    now = datetime.now(timezone.utc)
    after = parse_time_bound(since, "--since", now) if since else None
    before = parse_time_bound(until, "--until", now) if until else None
    if after is not None and before is not None and after > before:
        raise _UserError(f"invalid --since {since!r}: it is later than --until {until!r}")
    timeout, poll, max_poll, fail_on = _wait_options(timeout_text, poll_text, max_poll_text, fail_on_text)
    if service is None:
        from .kinds import FC3

        members: dict[str, Any] = {"kind": FC3, "task_id_prefix": prefix}
    else:
        members = {"service_name": service, "invocation_id_prefix": prefix}
    spec = BatchSpec.build(
        function_name=function, qualifier=qualifier, started_after=after, started_before=before,
        wait_for_completion=True, expected_count=expected_count, timeout_seconds=timeout, fail_on_statuses=fail_on,
        poll_interval_seconds=poll, max_poll_interval_seconds=max_poll, **members)
    policy = replace(spec.policy, duration_aware=not no_history, cap=max_poll if max_poll_text is not None else None)
    json_output = output.lower() == "json"

    def describe(summary: Any, elapsed: float) -> str:
        if summary is None:
            return f"{spec.label}: no answer yet, {format_duration(elapsed)} elapsed"
        return summary.progress(elapsed)

    # The client's own retries stay within the wait's deadline.
    with conn.client(retry_budget=min(30.0, timeout)) as client:
        # Every listing, retries included, ends by --timeout, but the one at it, which has its own budget.
        bounded = client.bounded(call_budget)
        tracker = BatchTracker(bounded, spec)

        def poll_once() -> Any:
            calls = tracker.calls
            summary = tracker.poll()
            log.debug("poll %d of %s: %d list call(s); %s", tracker.polls, spec.label, tracker.calls - calls,
                      summary.text())
            return progress.seen(summary)

        history = None
        if not no_history:
            # A batch ends with its slowest member: the history is the longest of N recent runs, N the
            # batch's size as first listed (at least --expected-count). Read once, after a first poll.
            durations = history_for(bounded, spec.ref(prefix))

            def history() -> Any:
                last = progress.last
                size = max(expected_count or 1, last.total if last is not None else 1)
                return batch_history(durations, size)()

        live = _isatty(sys.stderr) and not verbose and os.environ.get("TERM") != "dumb"
        progress = _Progress(describe, live, sys.stderr)
        fails = ", ".join(fail_on) or "nothing"
        plural = "" if expected_count == 1 else "s"
        expected = f"at least {expected_count} {spec.kind.noun}{plural}, " if expected_count else ""
        progress.start(f"waiting for {spec.label}: {expected}timeout {_fmt_duration(timeout)}, "
                       f"{_polling_text(policy)}, fail on {fails}")
        waiter = Waiter(poll_once, policy, on_progress=progress.periodic, progress_interval=30.0, history=history,
                        server_now=client.server_time)
        try:
            outcome = waiter.wait()
        finally:
            progress.finish()
    _log_schedule(spec.label, outcome, f"{tracker.polls} {'poll' if tracker.polls == 1 else 'polls'}")

    summary = outcome.result
    if outcome.error is not None:  # a hopeless API error, or too many transient ones in a row
        if isinstance(outcome.error, NotFoundError):
            _err("error: " + _one_line(not_found_message(spec, outcome.error)))
            return EXIT_API
        raise outcome.error
    cost = (f"{tracker.polls} {'poll' if tracker.polls == 1 else 'polls'}, "
            f"{tracker.calls} list {'call' if tracker.calls == 1 else 'calls'}"
            + (f" + {outcome.history_calls} for the history" if outcome.history_calls else ""))
    if outcome.timed_out or summary is None:
        if summary is None:
            line = (f"timed out waiting for {spec.label} after {format_duration(outcome.elapsed)}: no successful "
                    f"listing (timeout_seconds={timeout:g})")
        else:
            line = timeout_message(summary, outcome.elapsed, timeout)
        _err("error: " + _one_line(line) + "; raise --timeout or check the batch (--prefix, --since, "
             "--expected-count)")
        if json_output and summary is not None:
            _print_json(_batch_json(spec, summary, outcome, tracker))
        return EXIT_TIMEOUT
    if json_output:
        _print_json(_batch_json(spec, summary, outcome, tracker))
    if summary.failures:
        head, *rest = failures_message(_flattened(summary)).split("\n")
        _err("error: " + head)
        for line in rest:
            _err(line)
        return EXIT_FAILED
    elapsed = _fmt_duration(outcome.elapsed)
    if summary.all_succeeded:
        line = f"{spec.label}: {summary.text()} after {elapsed} ({cost})"
    else:
        line = (f"{spec.label}: all {summary.total} ended ({summary.text()}) after {elapsed}, none in --fail-on "
                f"({fails}) ({cost})")
    if json_output:
        _err(line)
    else:
        _out(line)
    return EXIT_OK


def _flattened(summary: Any) -> Any:
    """The summary with each member's error message on one line and shortened (the exit-1 report)."""
    from .batching import BatchSummary

    members = []
    for item in summary.invocations:
        message = item.invocation_error_message
        if message:
            field = "task_error_message" if _noun(item) == "task" else "invocation_error_message"
            item = item.model_copy(update={field: _truncate(_one_line(message), _MAX_ERROR_SHOWN)})
        members.append(item)
    return BatchSummary(summary.spec, members)


def _batch_json(spec: Any, summary: Any, outcome: Any, tracker: Any) -> dict[str, Any]:
    """The batch as JSON: its filters, the gate's verdict, counts, and members (oldest first, no payloads).
    The same keys for both APIs (an FC 3.0 batch has ``service_name`` null, its tasks under ``invocations``)."""
    members = []
    for item in summary.invocations:
        ref = spec.ref(item.invocation_id) if _valid_id(item.invocation_id) else None
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


@cli.command(
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    add_help_option=False,
    short_help="Run a local FC emulator (see: fc-invocation emulator --help).",
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def emulator(args: tuple[str, ...]) -> int:
    """Run a local Function Compute emulator; all arguments go to the emulator (--help for its options)."""
    from .testing.emulator_cli import main as emulator_main

    try:
        code = emulator_main(list(args))
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    # The emulator reports usage and set-up errors with 2; here 2 means "timed out", 3 usage/config.
    return EXIT_USAGE if code == 2 else int(code or 0)


# --- entry point --------------------------------------------------------------------------------

_HINTS = {
    "AuthenticationError": "check the access key and secret (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET or --profile) "
                           "and the account id",
    "NotFoundError": "check the function, qualifier and id (and the service, for an FC 2.0 id)",
    "ThrottledError": "FC is throttling; retry later",
}


# FC codes whose fix is not the key pair: a clock or an STS token.
_CODE_HINTS = {
    "RequestTimeTooSkewed": "this machine's clock is off: FC refuses a request Date more than 15 minutes from "
                            "its own time; set the clock right (NTP)",
    "SecurityTokenExpired": "the STS token has expired: get a new one (ALIBABA_CLOUD_SECURITY_TOKEN or --profile)",
    "InvalidSecurityToken": "the STS token does not belong to this access key: set the key id, secret and token "
                            "from one AssumeRole answer",
}


def _api_error_line(exc: BaseException) -> str:
    from .errors import FcApiError

    name = type(exc).__name__
    if isinstance(exc, FcApiError):
        text = (f"{exc.code}: {exc.message}" if exc.code else exc.message)
        text += f" (HTTP {exc.http_status}, request id {exc.request_id or 'unknown'})" if exc.http_status \
            else f" (request id {exc.request_id or 'unknown'})"
        line = f"FC API error ({name}): {text}"
    else:
        line = f"{name}: {exc}"
    code = getattr(exc, "code", None) or ""
    hint = _CODE_HINTS.get(code) or ("this machine's clock is off: set it right (NTP)" if "skew" in code.lower()
                                     else _HINTS.get(name))
    return _one_line(f"error: {line}" + (f"; {hint}" if hint else ""))


def main(argv: Optional[list[str]] = None) -> int:
    """Run ``fc-invocation``; returns the exit code (the console script exits with it)."""
    args = sys.argv[1:] if argv is None else list(argv)
    verbose = any(a in ("-v", "--verbose") for a in args)
    import signal

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _main(args, verbose)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(args: list[str], verbose: bool) -> int:
    try:
        code = cli.main(args=args, prog_name=PROG, standalone_mode=False)
        return int(code or 0)
    except _Terminated:
        _err("error: terminated (SIGTERM)")
        return EXIT_TERMINATED
    except click.exceptions.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else PROG
        _err(_one_line(f"error: {exc.format_message()} (see '{where} --help')"))
        return EXIT_USAGE
    except click.exceptions.Abort as exc:  # click turns KeyboardInterrupt (ours too) into Abort
        if isinstance(exc.__cause__, _Terminated):
            _err("error: terminated (SIGTERM)")
            return EXIT_TERMINATED
        _err("error: interrupted")
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        _err(_one_line(f"error: {exc.format_message()}"))
        return EXIT_USAGE
    except _UserError as exc:
        _err(_one_line(f"error: {exc}"))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("error: interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - every failure is one line, never a traceback
        from .errors import (
            ConfigurationError,
            FcApiError,
            FcInvocationError,
            InvalidArgumentError,
            InvocationFailedError,
            TransportError,
            WaitTimeoutError,
        )

        if isinstance(exc, ConfigurationError):
            _err(_one_line(f"error: {exc}; on the command line, --profile, --account-id, --region and "
                           "--endpoint set these too"))
            return EXIT_USAGE
        if isinstance(exc, InvalidArgumentError):
            _err(_one_line(f"error: {exc}"))
            return EXIT_USAGE
        if isinstance(exc, (FcApiError, TransportError)):
            _err(_api_error_line(exc))
            return EXIT_API
        if isinstance(exc, InvocationFailedError):
            _err(_one_line(f"error: {exc}"))
            return EXIT_FAILED
        if isinstance(exc, WaitTimeoutError):
            _err(_one_line(f"error: {exc}"))
            return EXIT_TIMEOUT
        if isinstance(exc, FcInvocationError):
            _err(_one_line(f"error: {exc}"))
            return EXIT_API
        if verbose:
            log.debug("internal error", exc_info=True)
        _err(_one_line(f"error: internal error {type(exc).__name__}: {exc}; please report it "
                       "(run with -v for the traceback)"))
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
