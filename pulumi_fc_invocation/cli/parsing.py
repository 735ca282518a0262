"""What the command line says: durations, time bounds, ids, targets and statuses, each checked with a
one-line error naming the option and its rule (:class:`UserError`, exit code 3) before any request."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

__all__ = ["UserError", "TARGET_HELP", "TARGET_METAVAR", "parse_duration", "parse_time_bound", "parse_target",
           "target_text", "target_kind", "time_window", "member_ref", "parse_id", "noun", "parse_fail_on",
           "wait_options", "valid_id", "repaired_id", "other_readings"]


class UserError(Exception):
    """A usage error found by the CLI: printed as one line, exit code 3."""


TARGET_HELP = ("FUNCTION[.QUALIFIER] (FC 3.0, e.g. transcode.prod) or SERVICE[.QUALIFIER]/FUNCTION "
               "(FC 2.0, e.g. video.prod/transcode)")
TARGET_METAVAR = "[SERVICE[.QUALIFIER]/]FUNCTION[.QUALIFIER]"
_TARGET_RULE = "must be " + TARGET_HELP

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
        raise UserError(f"invalid {option} {text!r}: {_DURATION_RULE}")
    if not 0 < seconds < float("inf"):
        raise UserError(f"invalid {option} {text!r}: must be longer than zero")
    return seconds


def parse_time_bound(text: str, option: str, now: Optional[datetime] = None) -> datetime:
    """``--since`` / ``--until``: a duration ago (``2h``), RFC 3339 text, or epoch seconds (up to 10
    digits) or milliseconds (11 to 13 digits)."""
    from ..models import parse_time

    now = now or datetime.now(timezone.utc)
    value = text.strip()
    if value and not value.isdigit() and _DURATION_PART.sub("", value.lower()) == "":
        return now - timedelta(seconds=parse_duration(value, option, bare_number=False))
    if value.isascii() and value.isdigit():
        # Epoch seconds have 10 digits until 2286, milliseconds 13: 1793700000 is 2026, not 1970.
        if len(value) <= 10:
            return datetime.fromtimestamp(int(value), timezone.utc)
        if len(value) > 13:
            raise UserError(f"invalid {option} {text!r}: epoch time must be seconds (10 digits) or "
                            "milliseconds (13 digits)")
    try:
        parsed = parse_time(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise UserError(f"invalid {option} {text!r}: must be a duration ago like 30m or 2h, RFC 3339 time "
                        f"like 2026-11-03T10:00:00Z, or epoch seconds (1793700000) or milliseconds (1793700000000)")
    return parsed


def parse_target(text: str) -> tuple[Optional[str], str, Optional[str]]:
    """``FUNCTION[.QUALIFIER]`` (FC 3.0: service None) or ``SERVICE[.QUALIFIER]/FUNCTION`` (FC 2.0) ->
    (service, function, qualifier), validated by that API's rules."""
    parts = text.split("/")
    if len(parts) not in (1, 2):
        raise UserError(f"invalid target {text!r}: {_TARGET_RULE}")
    head, dot, qualifier = parts[0].partition(".")
    if dot and not qualifier:
        raise UserError(f"invalid target {text!r}: the qualifier after '.' is empty; {_TARGET_RULE}")
    service, function = (None, head) if len(parts) == 1 else (head, parts[1])
    target_kind(service).check_target({"service_name": service, "function_name": function,
                                       "qualifier": qualifier or None})
    return service, function, qualifier or None


def time_window(since: Optional[str], until: Optional[str]) -> tuple[Optional[datetime], Optional[datetime]]:
    """``--since`` and ``--until`` (each optional), read at one moment; --since must not be later."""
    now = datetime.now(timezone.utc)
    after = parse_time_bound(since, "--since", now) if since else None
    before = parse_time_bound(until, "--until", now) if until else None
    if after is not None and before is not None and after > before:
        raise UserError(f"invalid --since {since!r}: it is later than --until {until!r}")
    return after, before


def target_kind(service: Optional[str]) -> Any:
    """The API of a target: FC 3.0 without a service, FC 2.0 with one (:mod:`...kinds`)."""
    from ..kinds import FC2, FC3

    return FC3 if service is None else FC2


def target_text(service: Optional[str], function: str, qualifier: Optional[str]) -> str:
    return target_kind(service).target_path({"service_name": service, "function_name": function,
                                             "qualifier": qualifier})


def member_ref(service: Optional[str], function: str, qualifier: Optional[str], member_id: str) -> Any:
    """The ref of an id listed under a target (None when FC answered an id that breaks the rules)."""
    if not valid_id(member_id):
        return None
    target = {"service_name": service, "function_name": function, "qualifier": qualifier}
    return target_kind(service).member_ref(target, member_id)


def parse_id(text: str) -> Any:
    """An id of either API (two segments FC 3.0, three FC 2.0), as an ``AsyncTaskRef`` / ``InvocationRef``;
    an id broken by a likely slip is refused with the id it probably meant (:func:`repaired_id`)."""
    from ..client import parse_ref
    from ..errors import InvalidArgumentError

    try:
        return parse_ref(text)
    except InvalidArgumentError as exc:
        meant = repaired_id(text)
        if meant is not None:
            raise UserError(f"{exc}; did you mean {meant!r}?") from None
        alone = text.strip() if isinstance(text, str) else ""
        if alone and "/" not in alone and _parses(parse_target, alone):  # one part: the function or the id?
            hint = (f"{alone!r} names a function: add the task id, {alone}/TASK_ID" if "." in alone else
                    f"{alone!r} is one part: add the function ({alone}/TASK_ID names one, FUNCTION/{alone} an id)")
            raise UserError(f"{exc}; {hint}") from None
        raise


def _parses(parse: Any, text: str) -> bool:
    try:
        parse(text)
    except (ValueError, UserError):
        return False
    return True


def repaired_id(text: Any) -> Optional[str]:
    """The id a broken id text probably meant, if a likely slip explains it and the repair is a valid id:
    spaces or slashes around or doubled, ``:`` or ``@`` for the qualifier's ``.``, a space or a third
    ``.`` for the ``/`` before the id (``transcode.prod.job-1``). None otherwise."""
    from ..client import parse_ref

    if not isinstance(text, str):
        return None
    fixed = re.sub(r"/{2,}", "/", re.sub(r"\s+", "/", text.strip())).strip("/")
    head, slash, rest = fixed.partition("/")
    head = re.sub(r"[:@]", ".", head)
    if not slash and head.count(".") == 2:
        head, _, rest = head.rpartition(".")
        slash = "/"
    fixed = head + slash + rest
    if fixed == text:
        return None
    try:
        parse_ref(fixed)
    except ValueError:
        return None
    return fixed


def other_readings(ref: Any) -> list[Any]:
    """The ids a valid ``ref`` may have been meant as, in the other API: an FC 2.0 id
    ``transcode/prod/job-1`` is the FC 3.0 ``transcode.prod/job-1`` with a ``/`` for the ``.``, or an FC 2.0
    function seen through FC 3.0 (``transcode$prod/job-1``); an FC 3.0 ``video.transcode/job-1`` is the FC 2.0
    ``video/transcode/job-1`` with a ``.`` for the ``/`` (and ``video$transcode/job-1`` that FC 2.0 id)."""
    from ..client import parse_ref

    texts = []
    if hasattr(ref, "task_id"):
        if ref.qualifier:
            texts.append(f"{ref.function_name}/{ref.qualifier}/{ref.task_id}")
        service, dollar, function = ref.function_name.partition("$")
        if dollar:
            qualifier = f".{ref.qualifier}" if ref.qualifier else ""
            texts.append(f"{service}{qualifier}/{function}/{ref.task_id}")
    else:
        if not ref.qualifier:
            texts.append(f"{ref.service_name}.{ref.function_name}/{ref.invocation_id}")
        qualifier = f".{ref.qualifier}" if ref.qualifier else ""
        texts.append(f"{ref.service_name}${ref.function_name}{qualifier}/{ref.invocation_id}")
    readings = []
    for text in texts:
        try:
            readings.append(parse_ref(text))
        except ValueError:
            continue
    return readings


def noun(ref_or_result: Any) -> str:
    return "task" if hasattr(ref_or_result, "task_id") else "invocation"


def parse_fail_on(text: str) -> tuple[str, ...]:
    from ..models import check_fail_on_statuses

    return check_fail_on_statuses([item.strip() for item in text.split(",") if item.strip()], "--fail-on")


def wait_options(timeout_text: str, poll_text: str, max_poll_text: Optional[str],
                 fail_on_text: str) -> tuple[float, float, Optional[float], tuple[str, ...]]:
    """--timeout, --poll-interval, --max-poll-interval (None: not given, the default schedule's cap) and
    --fail-on of ``wait`` and ``wait-batch``."""
    from ..gate.messages import format_duration
    from ..waiter import DEFAULT_MAX_POLL_INTERVAL

    timeout = parse_duration(timeout_text, "--timeout")
    poll = parse_duration(poll_text, "--poll-interval")
    shown = format_duration(DEFAULT_MAX_POLL_INTERVAL) if max_poll_text is None else max_poll_text
    max_poll = parse_duration(shown, "--max-poll-interval")
    if max_poll < poll:
        raise UserError(f"invalid --max-poll-interval {shown!r}: must be at least --poll-interval "
                        f"({poll_text}); raise it or lower --poll-interval")
    return timeout, poll, None if max_poll_text is None else max_poll, parse_fail_on(fail_on_text)


def valid_id(value: str) -> bool:
    from ..fc2 import validate_invocation_id  # FC 3.0's task id follows the same rule

    try:
        validate_invocation_id(value)
    except ValueError:
        return False
    return True
