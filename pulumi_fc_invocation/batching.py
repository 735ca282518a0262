"""The batch data sources' pulumi-free logic: arguments, listing, the poll loop's state, and messages.

A *batch* is every async work item of one function (FC 2.0: the stateful async invocations of
``service[.qualifier]/function``; FC 3.0: the async tasks of ``function[.qualifier]``; see
:mod:`.kinds`) whose id starts with a prefix and whose start time lies in
``[started_after, started_before]``. This module imports neither Pulumi nor gRPC, so the
``fc-invocation wait-batch`` command can use it; :mod:`.pulumi.gating` adds the outputs and the gate.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Optional
from urllib.parse import parse_qsl, quote, urlencode

from .credentials import ACCOUNT_ID_RULE, REGION_RULE, SETTING_SOURCES, check_account_id, check_region
from .errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidArgumentError,
    InvocationFailedError,
    NotFoundError,
    WaitTimeoutError,
    refresh_refused,
)
from .fc2 import StatefulAsyncInvocationResult
from .kinds import FC2, Kind
from .models import (
    SECRET_MASK,
    InvocationStatus,
    check_fail_on_statuses,
    optional_endpoint,
    optional_text,
    parse_time,
    redacting,
    secret_values,
    rfc3339,
)
from .gate.messages import format_duration, not_found_details
from .waiter import DEFAULT_MAX_POLL_INTERVAL, WaitPolicy

if TYPE_CHECKING:
    from .client import FcClient

__all__ = [
    "BATCH_INPUT_KEYS",
    "PAGE_SIZE",
    "MAX_FAILURES_SHOWN",
    "TASK_RETENTION_DAYS",
    "BatchSpec",
    "BatchSummary",
    "BatchTracker",
    "format_batch_id",
    "parse_batch_id",
    "list_batch",
    "failures_message",
    "timeout_message",
    "grew_message",
    "not_found_message",
    "read_batch_and_check",
    "batch_verdict",
    "batch_input_keys",
    "ENDPOINT_RULE",
    "check_settings",
    "secret_config_masked",
    "secret_config_texts",
]

PAGE_SIZE = 100
MAX_FAILURES_SHOWN = 10
# FC keeps an async task's record this long after it starts, then answers NotFound as for an id it
# never had and lists it no more: FC 3.0's guide "Asynchronous tasks" (7 days), FC 2.0's user guide
# (asynchronous tasks, "Validity period": "You can query task information only within seven days").
TASK_RETENTION_DAYS = 7
BATCH_INPUT_KEYS = (
    "service_name", "function_name", "qualifier", "invocation_id_prefix", "statuses", "started_after",
    "started_before", "limit", "include_payloads", "secret_payloads", "wait_for_completion", "expected_count",
    "timeout_seconds", "fail_on_statuses", "poll_interval_seconds", "max_poll_interval_seconds", "region",
    "account_id", "endpoint", "use_duration_history",
)


def batch_input_keys(kind: Kind) -> tuple[str, ...]:
    """The batch data source's inputs for ``kind`` (FC 2.0's are :data:`BATCH_INPUT_KEYS`)."""
    return kind.target_keys + (kind.prefix_key,) + BATCH_INPUT_KEYS[4:]


ENDPOINT_RULE = ("must be a URL http(s)://HOST[:PORT][/PATH]: a scheme, a host name, a port from 1 to 65535, and "
                 "no user name or password, query, fragment, white space or control character")
_SETTING_RULES = {"account_id": ACCOUNT_ID_RULE, "region": REGION_RULE, "endpoint": ENDPOINT_RULE}


def _check_setting(name: str, value: str) -> Optional[str]:
    if name == "endpoint":
        return optional_endpoint(value)
    return (check_region if name == "region" else check_account_id)(value, name)


def check_settings(region: Any, account_id: Any, endpoint: Any,
                   hidden: Collection[str] = ()) -> tuple[Optional[str], Optional[str], Optional[str]]:
    """The ``region``, ``account_id`` and ``endpoint`` arguments, checked when a spec is built (before
    any request). One given as a secret (named in ``hidden``) that breaks its rule is named with the
    rule, its value never shown: the endpoint's messages quote it stripped, cut to 77 characters or as
    ``scheme://netloc``, which masking the secret's text cannot find (a secret from a file ends in a
    newline)."""
    values = {"region": optional_text("region", region), "account_id": optional_text("account_id", account_id),
              "endpoint": optional_text("endpoint", endpoint)}
    for name, value in values.items():
        if value is None:
            continue
        try:
            values[name] = _check_setting(name, value)
        except (InvalidArgumentError, ConfigurationError):
            if name not in hidden:
                raise
            raise InvalidArgumentError(name, value, _SETTING_RULES[name], show_value=False) from None
    return values["region"], values["account_id"], values["endpoint"]


@contextlib.contextmanager
def secret_config_masked(config: Optional[Mapping[str, Any]], secret: Collection[str], *, region: Any = None,
                         account_id: Any = None, endpoint: Any = None) -> Iterator[None]:
    """Around client creation: the config keys in ``secret`` (secret stack or provider settings) are
    never shown. Their region, account id or endpoint, used where the argument is not given, are
    checked first (a broken one is named with its rule); any other error has their text masked."""
    config = config or {}
    given = {"region": region, "account_id": account_id, "endpoint": endpoint}
    for name, argument in given.items():
        for key in SETTING_SOURCES[name]["config"]:
            value = str(config.get(key) or "").strip()  # as the chain reads config: a file's newline is no fault
            if argument is not None or key not in secret or not value:
                continue
            try:
                _check_setting(name, value)
            except (InvalidArgumentError, ConfigurationError):
                raise ConfigurationError(f"Pulumi config `{key}` {_SETTING_RULES[name]} (a secret: its value is "
                                         "not shown)") from None
    with redacting(secret_config_texts(config, secret)):
        yield


def secret_config_texts(config: Optional[Mapping[str, Any]], secret: Collection[str]) -> tuple[str, ...]:
    """The text of the config values under the keys in ``secret`` (an object's too), as given and stripped."""
    texts = [text for key in secret for text in _leaves((config or {}).get(key))]
    return tuple(texts) + tuple(text.strip() for text in texts)


def _leaves(value: Any) -> list[str]:
    """The text in a config value (an object's, such as ``alicloud:assumeRole``, included)."""
    if isinstance(value, Mapping):
        return [text for item in value.values() for text in _leaves(item)]
    if isinstance(value, (list, tuple)):
        return [text for item in value for text in _leaves(item)]
    return [value] if isinstance(value, str) and value.strip() else []


# Display order of the statuses still moving, as a run goes through them (the progress line).
_MOVING_ORDER = ("Running", "Retrying", "Stopping", "Dequeued", "Enqueued")




def _bool(argument: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(argument, value, "must be True or False")
    return value


def _count(argument: str, value: Any) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():  # numbers come back from state as floats
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(argument, value, "must be a positive integer or None")
    return value


def _time(argument: str, value: Any) -> Optional[str]:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, datetime)):
        raise InvalidArgumentError(argument, value, "must be RFC 3339 text (2026-11-26T08:00:00Z) or a datetime")
    try:
        parsed = parse_time(value)
    except ValueError as exc:
        raise InvalidArgumentError(argument, value, f"must be RFC 3339 text (2026-11-26T08:00:00Z) or a datetime "
                                                    f"({exc})") from None
    return rfc3339(parsed)


def _statuses(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
        raise InvalidArgumentError("statuses", value, "must be a list of statuses, e.g. ['Failed', 'Stopped']")
    out: list[str] = []
    for item in value:
        status = InvocationStatus.known(item, "statuses").value
        if status not in out:
            out.append(status)
    return tuple(out)


@dataclass(frozen=True)
class BatchSpec:
    """Validated arguments of one batch data source; built before any request."""

    service_name: Optional[str]  # None for FC 3.0
    function_name: str
    qualifier: Optional[str]
    prefix: Optional[str]
    statuses: tuple[str, ...]
    started_after: Optional[str]
    started_before: Optional[str]
    limit: Optional[int]
    include_payloads: bool
    secret_payloads: bool
    wait: bool
    expected_count: Optional[int]
    policy: WaitPolicy
    fail_on: tuple[str, ...]
    region: Optional[str]
    account_id: Optional[str]
    endpoint: Optional[str]
    hidden: frozenset = frozenset()  # the arguments given as secrets (masked in the id)
    kind: Kind = FC2

    @classmethod
    def build(cls, *, service_name: Any = None, function_name: Any = None, qualifier: Any = None,
              invocation_id_prefix: Any = None, task_id_prefix: Any = None, kind: Kind = FC2,
              statuses: Any = None, started_after: Any = None, started_before: Any = None, limit: Any = None,
              include_payloads: Any = False, secret_payloads: Any = True, wait_for_completion: Any = False,
              expected_count: Any = None, timeout_seconds: Any = 1800, fail_on_statuses: Any = None,
              poll_interval_seconds: Any = 1.0, max_poll_interval_seconds: Any = None, region: Any = None,
              account_id: Any = None, endpoint: Any = None, use_duration_history: Any = True,
              hidden: frozenset = frozenset()) -> "BatchSpec":
        """``max_poll_interval_seconds`` unset (None): 45 s on the default schedule; set: a ceiling no delay
        exceeds (see :class:`~.waiter.WaitPolicy`'s ``cap``)."""
        qualifier = qualifier if qualifier != "" else None
        # Names: the single data source's rules (the member id is a stand-in).
        kind.check_target({"service_name": service_name, "function_name": function_name, "qualifier": qualifier})
        given = task_id_prefix if kind.prefix_key == "task_id_prefix" else invocation_id_prefix
        prefix = None if given in (None, "") else kind.validate_id(given, kind.prefix_key)
        after, before = _time("started_after", started_after), _time("started_before", started_before)
        if after is not None and before is not None and parse_time(after) > parse_time(before):
            raise InvalidArgumentError("started_after", started_after, f"must not be later than started_before "
                                                                      f"({started_before})")
        if timeout_seconds is None:
            raise InvalidArgumentError("timeout_seconds", timeout_seconds, "must be a positive number of seconds")
        capped = max_poll_interval_seconds is not None
        policy = WaitPolicy(initial_delay=poll_interval_seconds,
                            max_delay=max_poll_interval_seconds if capped else DEFAULT_MAX_POLL_INTERVAL,
                            cap=max_poll_interval_seconds if capped else None, timeout=timeout_seconds,
                            duration_aware=_bool("use_duration_history", use_duration_history))
        region, account_id, endpoint = check_settings(region, account_id, endpoint, hidden)
        return cls(
            service_name=service_name, function_name=function_name, qualifier=qualifier, prefix=prefix,
            statuses=_statuses(statuses), started_after=after, started_before=before, limit=_count("limit", limit),
            include_payloads=_bool("include_payloads", include_payloads),
            secret_payloads=_bool("secret_payloads", secret_payloads),
            wait=_bool("wait_for_completion", wait_for_completion),
            expected_count=_count("expected_count", expected_count), policy=policy,
            fail_on=check_fail_on_statuses(fail_on_statuses), region=region, account_id=account_id,
            endpoint=endpoint, hidden=frozenset(hidden), kind=kind,
        )

    @classmethod
    def from_props(cls, id_: str, props: Mapping[str, Any], kind: Kind = FC2,
                   hidden: frozenset = frozenset()) -> "BatchSpec":
        """The spec of a read: from the props (or prior outputs, in a refresh), else from the id.
        Fields masked in the id were secret inputs, as are those named in ``hidden`` (a caller that
        sees the secret marks, e.g. the plugin's refresh): they stay hidden."""
        hidden = frozenset(hidden) | frozenset(key for key, value in parse_batch_id(id_, kind=kind).items()
                                               if value == SECRET_MASK or value == [SECRET_MASK])
        if all(props.get(key) for key in kind.target_keys if key != "qualifier"):
            args = {key: props[key] for key in batch_input_keys(kind) if props.get(key) is not None}
            args[kind.prefix_key] = args.get(kind.prefix_key)
            return cls.build(hidden=hidden, kind=kind, **args)
        return cls.build(kind=kind, hidden=hidden, **parse_batch_id(id_, kind=kind))

    @property
    def target(self) -> dict[str, Any]:
        """The function's names (the kind's ``target_keys``)."""
        return {"service_name": self.service_name, "function_name": self.function_name, "qualifier": self.qualifier}

    def props(self) -> dict[str, Any]:
        target = self.target
        return {
            **{key: target[key] for key in self.kind.target_keys},
            self.kind.prefix_key: self.prefix, "statuses": list(self.statuses),
            "started_after": self.started_after, "started_before": self.started_before, "limit": self.limit,
            "include_payloads": self.include_payloads, "secret_payloads": self.secret_payloads,
            "wait_for_completion": self.wait, "expected_count": self.expected_count,
            "timeout_seconds": self.policy.timeout, "fail_on_statuses": list(self.fail_on),
            "poll_interval_seconds": self.policy.initial_delay,
            "max_poll_interval_seconds": self.policy.cap, "region": self.region,
            "account_id": self.account_id, "endpoint": self.endpoint,
            "use_duration_history": self.policy.duration_aware,
        }

    @property
    def service_path(self) -> str:
        return f"{self.service_name}.{self.qualifier}" if self.qualifier else (self.service_name or "")

    @property
    def id(self) -> str:
        return format_batch_id(self)

    @property
    def secret_texts(self) -> tuple[str, ...]:
        return secret_values(self.props(), self.hidden)

    @property
    def identifies_members(self) -> bool:
        """A secret among the names that ``ids`` and ``invocations`` repeat (they must be secret too)."""
        return bool(self.hidden & {*self.kind.target_keys, self.kind.prefix_key})

    @property
    def label(self) -> str:
        """``batch video/transcode prefix video-2026-11-`` (progress and error messages)."""
        text = f"batch {self.kind.target_path(self.target)}"
        if self.prefix:
            text += f" prefix {self.prefix}"
        if self.started_after:
            text += f" started after {self.started_after}"
        if self.started_before:
            text += f" started before {self.started_before}"
        return text

    @property
    def minimum_count(self) -> int:
        """How many invocations must exist before a wait can end: ``expected_count``, at least one."""
        return max(self.expected_count or 0, 1)

    def ref(self, member_id: str) -> Any:
        """A member's reference (an ``InvocationRef`` or an ``AsyncTaskRef``)."""
        return self.kind.member_ref(self.target, member_id)


def format_batch_id(spec: BatchSpec) -> str:
    """``service[.qualifier]/function[?prefix=..&statuses=..&started_after=..&started_before=..&limit=..]``,
    with the fields given as secrets shown as ``[secret]``."""
    def shown(name: str, value: Any) -> Any:
        return SECRET_MASK if value and name in spec.hidden else value

    query = [(key, value) for key, value in (
        ("prefix", shown(spec.kind.prefix_key, spec.prefix)),
        ("statuses", shown("statuses", ",".join(spec.statuses) or None)),
        ("started_after", shown("started_after", spec.started_after)),
        ("started_before", shown("started_before", spec.started_before)),
        ("limit", shown("limit", str(spec.limit) if spec.limit else None)),
    ) if value]
    head = spec.kind.target_path({key: shown(key, value) for key, value in spec.target.items()})
    return head + ("?" + urlencode(query, quote_via=quote, safe=":,[]") if query else "")


def parse_batch_id(text: Any, argument: str = "id", kind: Kind = FC2) -> dict[str, Any]:
    """The arguments a batch id encodes (see :func:`format_batch_id`); refused with the rule if malformed."""
    rule = kind.batch_id_rule()
    if not isinstance(text, str):
        raise InvalidArgumentError(argument, text, rule)
    head, _, query = text.partition("?")
    args: dict[str, Any] = kind.parse_target_path(head, text, argument, rule)
    names = {"prefix": kind.prefix_key, "statuses": "statuses", "started_after": "started_after",
             "started_before": "started_before", "limit": "limit"}
    for key, value in parse_qsl(query, keep_blank_values=True, strict_parsing=False):
        if key not in names:
            raise InvalidArgumentError(argument, text, f"has an unknown filter {key!r}; " + rule)
        if key == "statuses":
            args["statuses"] = [s for s in value.split(",") if s]
        elif key == "limit":
            if not value.isdigit() and value != SECRET_MASK:
                raise InvalidArgumentError(argument, text, "limit must be a positive integer; " + rule)
            args["limit"] = int(value) if value != SECRET_MASK else value
        else:
            args[names[key]] = value
    return args


# --- listing ------------------------------------------------------------------------------------


def list_batch(client: "FcClient", spec: BatchSpec, *, started_after: Optional[datetime] = None,
               include_payload: bool = False) -> tuple[list[Any], int]:
    """Every member of the batch started at or after ``started_after`` (default: the spec's bound),
    oldest first; returns (invocations, list calls made). One call per page of 100."""
    begin: Any = spec.started_after
    if started_after is not None and (begin is None or started_after > parse_time(begin)):
        begin = started_after
    from .client import MAX_PAGES
    from .errors import PaginationError

    seen: dict[str, Any] = {}
    tokens: set[str] = set()
    token: Optional[str] = None
    calls = 0
    while calls < MAX_PAGES:
        items, token = spec.kind.list_page(
            client, spec.target, next_token=token, prefix=spec.prefix, started_after=begin,
            started_before=spec.started_before, sort="asc", include_payload=include_payload, page_size=PAGE_SIZE)
        calls += 1
        for item in items:
            seen[item.invocation_id] = item
        if not token:
            return list(seen.values()), calls
        if token in tokens:  # a cycle (A, B, A): the listing would never end
            raise PaginationError(f"listing {spec.label}: page {calls} gave a nextToken already seen; the listing "
                                  "would never end")
        tokens.add(token)
    raise PaginationError(f"listing {spec.label}: still a nextToken after {MAX_PAGES} pages, far more than any "
                          "real batch")


def _order(result: StatefulAsyncInvocationResult) -> tuple:
    started = result.started_time.timestamp() if result.started_time is not None else float("inf")
    return (started, result.invocation_id)


@dataclass
class BatchSummary:
    """The batch at one moment: its members (oldest first) and what the gate makes of them.

    ``is_terminal`` is True when a wait should end: a member ended in a fail status, or at least
    ``spec.minimum_count`` members exist and all are terminal (the name lets :class:`~.waiter.Waiter`
    poll a batch as it polls one invocation).
    """

    spec: BatchSpec
    invocations: list[StatefulAsyncInvocationResult]
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.invocations = sorted(self.invocations, key=_order)
        counts = {status.value: 0 for status in InvocationStatus}
        for result in self.invocations:
            counts[result.status.value] = counts.get(result.status.value, 0) + 1
        self.counts = counts

    @property
    def total(self) -> int:
        return len(self.invocations)

    @property
    def started_time(self) -> Optional[datetime]:
        """The earliest member's start: the batch's age for the duration-aware schedule."""
        times = [r.started_time for r in self.invocations if r.started_time is not None]
        return min(times) if times else None

    @property
    def pending(self) -> int:
        return sum(1 for r in self.invocations if not r.is_terminal)

    @property
    def all_terminal(self) -> bool:
        """Every member is terminal; False for an empty batch (nothing has ended)."""
        return self.total > 0 and self.pending == 0

    @property
    def all_succeeded(self) -> bool:
        """Every member succeeded; False for an empty batch."""
        return self.total > 0 and self.counts["Succeeded"] == self.total

    @property
    def failures(self) -> list[StatefulAsyncInvocationResult]:
        return [r for r in self.invocations if r.status.value in self.spec.fail_on]

    @property
    def complete(self) -> bool:
        """All terminal and at least ``minimum_count`` exist: the gate is open."""
        return self.all_terminal and self.total >= self.spec.minimum_count

    @property
    def is_terminal(self) -> bool:
        return self.complete or bool(self.failures)

    def text(self) -> str:
        """``212/300 succeeded, 3 running, 85 enqueued, 0 failed``."""
        expected = max(self.total, self.spec.expected_count or 0)
        parts = [f"{self.counts['Succeeded']}/{expected} succeeded"]
        for status in _MOVING_ORDER:
            if self.counts.get(status):
                parts.append(f"{self.counts[status]} {status.lower()}")
        for status, count in self.counts.items():  # statuses FC added after this package was written
            if count and not InvocationStatus(status).is_known:
                parts.append(f"{count} {status}")
        if self.spec.expected_count and self.total < self.spec.expected_count:
            parts.append(f"{self.spec.expected_count - self.total} not listed yet")
        parts.append(f"{self.counts['Failed']} failed")
        for status in ("Stopped", "Expired", "Invalid"):
            if self.counts[status]:
                parts.append(f"{self.counts[status]} {status.lower()}")
        return ", ".join(parts)

    def progress(self, elapsed: float) -> str:
        return f"{self.spec.label}: {self.text()}, {format_duration(elapsed)} elapsed"


def failures_message(summary: BatchSummary) -> str:
    spec = summary.spec
    failures = summary.failures
    noun = spec.kind.noun if len(failures) == 1 else spec.kind.noun + "s"
    lines = [f"{spec.label}: {len(failures)} {noun} ended in a fail status ({summary.text()}; "
             f"fail_on_statuses: {', '.join(spec.fail_on)}):"]
    for result in failures[:MAX_FAILURES_SHOWN]:
        lines.append(f"  {spec.ref(result.invocation_id)} ended {result.status.value}: "
                     f"{result.invocation_error_message or 'no error message'} "
                     f"(request id {result.request_id or 'unknown'})")
    if len(failures) > MAX_FAILURES_SHOWN:
        lines.append(f"  ... and {len(failures) - MAX_FAILURES_SHOWN} more")
    return "\n".join(lines)


def timeout_message(summary: BatchSummary, waited: float, timeout: float) -> str:
    spec = summary.spec
    text = (f"timed out waiting for {spec.label}: {summary.text()} after {format_duration(waited)} "
            f"(timeout_seconds={timeout:g})")
    if summary.total < spec.minimum_count:
        names = ", ".join(key.replace("_name", "") for key in spec.kind.target_keys)
        text += (f"; only {summary.total} matching {spec.kind.noun}{'s' if summary.total != 1 else ''} exist, "
                 f"expected_count={spec.minimum_count}" if spec.expected_count else
                 f"; no {spec.kind.noun} matches (check {names}, prefix and time window)")
        text += f"; FC forgets a task {TASK_RETENTION_DAYS} days after it starts"  # a listing leaves it out
    return text


def grew_message(summary: BatchSummary, waited: float) -> str:
    """The read after the gate opened lists members not finished: the batch was still being started."""
    spec = summary.spec
    pending = [r for r in summary.invocations if not r.is_terminal]
    noun = spec.kind.noun if len(pending) == 1 else spec.kind.noun + "s"
    shown = ", ".join(str(spec.ref(r.invocation_id)) for r in pending[:MAX_FAILURES_SHOWN])
    more = f" and {len(pending) - MAX_FAILURES_SHOWN} more" if len(pending) > MAX_FAILURES_SHOWN else ""
    count = f"expected_count (now {spec.expected_count})" if spec.expected_count else "expected_count"
    return (f"{spec.label}: {len(pending)} {noun} listed after the gate opened not finished yet: {shown}{more} "
            f"({summary.text()}). The gate opened after {format_duration(waited)}, when every {spec.kind.noun} it "
            f"listed had ended: the batch was still being started. To wait for all of it, set {count} to the "
            f"number of {spec.kind.noun}s the batch will have, then run the update again")


def not_found_message(spec: BatchSpec, error: NotFoundError, details: bool = True) -> str:
    """As the single data source's, for a batch's function."""
    head = spec.kind.target_not_found_head(spec.label, spec.target)
    return not_found_details(head, error, details)


def read_batch_and_check(client: "FcClient", spec: BatchSpec, props: Mapping[str, Any],
                         refresh: bool = False, judge: bool = True) -> BatchSummary:
    """One full listing, then the gate's verdict: raises on a fail status or an unfinished wait.
    A refresh, or ``judge=False`` (the break-glass switch, a destroy), only records the batch.

    ``props["waited_seconds"]`` is set by the program once its wait ended (update only); in a preview
    it is absent, so the read reports the batch as it is and fails only if a member already failed.
    """
    try:
        items, _ = list_batch(client, spec, include_payload=spec.include_payloads)
    except AuthenticationError as exc:
        if refresh:
            raise refresh_refused(exc) from None
        raise
    except NotFoundError as exc:
        raise NotFoundError(not_found_message(spec, exc, details=False), code=exc.code, request_id=exc.request_id,
                            http_status=exc.http_status) from None
    summary = BatchSummary(spec, items)
    if refresh or not judge:
        return summary  # a refresh records the batch as it is; the verdict belongs to up/preview
    return batch_verdict(summary, props, after_wait=True)


def batch_verdict(summary: BatchSummary, props: Mapping[str, Any], after_wait: bool = False) -> BatchSummary:
    """The gate's verdict on ``summary`` (the wait's last poll, the final listing, or a mock's outputs):
    raises on a failed member or an unfinished wait (``waited_seconds`` set), else returns ``summary``.

    ``after_wait``: ``summary`` is the read after a wait that ended with the batch complete (the gate
    fails in the program otherwise), so a member not finished now was listed after the gate opened."""
    spec = summary.spec
    if summary.failures:
        raise InvocationFailedError(failures_message(summary), result=summary)
    waited = props.get("waited_seconds")
    if spec.wait and waited is not None and not summary.complete:
        timeout = float(spec.policy.timeout or 0)
        if timeout and waited >= timeout:
            raise WaitTimeoutError(timeout_message(summary, waited, timeout), last_result=summary, elapsed=waited)
        if after_wait:
            raise WaitTimeoutError(grew_message(summary, waited), last_result=summary, elapsed=waited)
        raise WaitTimeoutError(f"stopped waiting for {spec.label} after {format_duration(waited)}: an API error "
                               f"ended the wait (see the warning logged against this resource); last seen "
                               f"{summary.text()}", last_result=summary, elapsed=waited)
    return summary


# --- the program-side poll ----------------------------------------------------------------------


class BatchTracker:
    """Polls a batch cheaply: ``poll()`` returns a :class:`BatchSummary`, for :class:`~.waiter.Waiter`.

    Cost model: ``ListStatefulAsyncInvocations`` costs one call per page of 100, whatever the filter.
    Terminal results never change, so they are kept here and not fetched again where the API lets us
    skip them: a poll lists only members started at or after the oldest still-unfinished member
    (``startedTimeBegin``); once every known member is terminal, a poll lists the whole batch (members
    still being enqueued may be listed late, with any start time). With a batch that drains roughly in start order, most of it
    drops out of later polls. Filtering by ``status`` instead would cost one list per unfinished status
    (five, each at least one call) per poll, could miss members that change status between those lists
    or that start and finish between two polls, and would still need the terminal results (for the
    fail check and the progress line) some other way; the time window costs at least one call and is
    never more than a full listing.

    The window relies on ``startedTime`` being set when a member is accepted and never moving back.
    Two guards keep the answer right even if that fails: a member without a start time makes the next
    poll list the whole batch, and a poll that finds the batch complete through a window confirms it
    with one full listing before the wait ends.
    """

    def __init__(self, client: "FcClient", spec: BatchSpec) -> None:
        self.client = client
        self.spec = spec
        self.known: dict[str, StatefulAsyncInvocationResult] = {}
        self.polls = 0
        self.calls = 0

    def window_start(self) -> Optional[datetime]:
        """Where the next poll's listing starts; None lists the whole batch.

        Only while a known member is unfinished: the gate cannot open before that member ends, and
        the poll that sees the batch complete through a window confirms it with a full listing, so a
        member the window skips (listed late, with an earlier start time) is found before the gate
        opens. Once every known member has ended, only members not yet listed can hold the gate, and
        their start time may be anything: those polls list the whole batch."""
        pending = [r for r in self.known.values() if not r.is_terminal]
        if not pending or any(r.started_time is None for r in pending):
            return None
        return min(r.started_time for r in pending)  # type: ignore[type-var]

    def poll(self) -> BatchSummary:
        window = self.window_start()
        items, calls = list_batch(self.client, self.spec, started_after=window)
        self.calls += calls
        known = dict(self.known)
        known.update((r.invocation_id, r) for r in items)
        summary = BatchSummary(self.spec, list(known.values()))
        if window is not None and summary.complete and not summary.failures:
            items, calls = list_batch(self.client, self.spec)  # confirm through a full listing
            self.calls += calls
            known = {r.invocation_id: r for r in items}
            summary = BatchSummary(self.spec, items)
        self.known = known  # only after the whole poll succeeded
        self.polls += 1
        return summary
