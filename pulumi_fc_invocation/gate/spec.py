"""What a gate is asked: the validated arguments of one single-item data source (:class:`SingleSpec`) or one
batch data source (:class:`BatchSpec`), built before any request, and a batch's id.

A *batch* is every async work item of one function (FC 2.0: the stateful async invocations of
``service[.qualifier]/function``; FC 3.0: the async tasks of ``function[.qualifier]``; see
:mod:`..kinds`) whose id starts with a prefix and whose start time lies in
``[started_after, started_before]``. Every argument shared by both shapes (the wait, the verdict, the
settings) is checked and turned into props by one function here (:func:`wait_policy`, :func:`wait_props`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional
from urllib.parse import parse_qsl, quote, urlencode

from ..credentials import check_settings
from ..errors import InvalidArgumentError
from ..kinds import FC2, Kind
from ..models import SECRET_MASK, InvocationStatus, Ref, check_fail_on_statuses, parse_time, rfc3339, secret_values
from ..waiter import DEFAULT_MAX_POLL_INTERVAL, NOT_FOUND_GRACE, WaitPolicy

__all__ = ["SingleSpec", "BatchSpec", "format_batch_id", "parse_batch_id", "wait_policy", "wait_props"]


def wait_policy(*, timeout_seconds: Any, poll_interval_seconds: Any, max_poll_interval_seconds: Any,
                use_duration_history: Any, not_found_grace_seconds: Any = NOT_FOUND_GRACE) -> WaitPolicy:
    """The wait of a data source's arguments. ``max_poll_interval_seconds`` unset (None): the default
    schedule's cap (:data:`~..waiter.DEFAULT_MAX_POLL_INTERVAL`); set: a ceiling no delay exceeds
    (:class:`~..waiter.WaitPolicy`'s ``cap``). A just-started item or batch has a moment to be found
    (``not_found_grace_seconds``, by default :data:`~..waiter.NOT_FOUND_GRACE`)."""
    duration_aware = _bool("use_duration_history", use_duration_history)
    if isinstance(not_found_grace_seconds, bool) or not isinstance(not_found_grace_seconds, (int, float)) \
            or not 0 <= not_found_grace_seconds < float("inf"):
        raise InvalidArgumentError("not_found_grace_seconds", not_found_grace_seconds,
                                   "must be a number of seconds >= 0")
    if timeout_seconds is None:
        raise InvalidArgumentError("timeout_seconds", timeout_seconds, "must be a positive number of seconds")
    capped = max_poll_interval_seconds is not None
    return WaitPolicy(initial_delay=poll_interval_seconds,
                      max_delay=max_poll_interval_seconds if capped else DEFAULT_MAX_POLL_INTERVAL,
                      cap=max_poll_interval_seconds if capped else None, timeout=timeout_seconds,
                      not_found_grace=not_found_grace_seconds, duration_aware=duration_aware)


def wait_props(spec: Any) -> dict[str, Any]:
    """The props both shapes share: the wait, the verdict and the settings (a refresh reads them back)."""
    return {
        "wait_for_completion": spec.wait, "timeout_seconds": spec.policy.timeout,
        "fail_on_statuses": list(spec.fail_on), "poll_interval_seconds": spec.policy.initial_delay,
        "max_poll_interval_seconds": spec.policy.cap, "region": spec.region,
        "account_id": spec.account_id, "endpoint": spec.endpoint,
        "use_duration_history": spec.policy.duration_aware,
    }


@dataclass(frozen=True)
class SingleSpec:
    """Validated arguments of one single-item data source; built before any request."""

    kind: Kind
    ref: Ref
    wait: bool
    policy: WaitPolicy
    fail_on: tuple[str, ...]
    region: Optional[str]
    account_id: Optional[str]
    endpoint: Optional[str]
    hidden: frozenset[str] = frozenset()  # the arguments given as secrets

    @classmethod
    def build(cls, *, kind: Kind = FC2, wait_for_completion: Any = False, timeout_seconds: Any = 1800,
              fail_on_statuses: Any = None, poll_interval_seconds: Any = 1.0,
              max_poll_interval_seconds: Any = None, region: Any = None, account_id: Any = None,
              endpoint: Any = None, use_duration_history: Any = True, not_found_grace_seconds: Any = NOT_FOUND_GRACE,
              hidden: frozenset[str] = frozenset(), **names: Any) -> "SingleSpec":
        """The wait's arguments as :func:`wait_policy` reads them; ``names``: the kind's ``ref_keys``."""
        unknown = set(names) - set(kind.ref_keys)
        if unknown:
            raise TypeError(f"unexpected argument {sorted(unknown)[0]!r} for {kind.resource_name}")
        ref = kind.make_ref(names)
        wait = _bool("wait_for_completion", wait_for_completion)
        policy = wait_policy(timeout_seconds=timeout_seconds, poll_interval_seconds=poll_interval_seconds,
                             max_poll_interval_seconds=max_poll_interval_seconds,
                             use_duration_history=use_duration_history,
                             not_found_grace_seconds=not_found_grace_seconds)
        region, account_id, endpoint = check_settings(region, account_id, endpoint, hidden)
        return cls(kind=kind, ref=ref, wait=wait, policy=policy,
                   fail_on=check_fail_on_statuses(fail_on_statuses), region=region, account_id=account_id,
                   endpoint=endpoint, hidden=frozenset(hidden))

    @property
    def id(self) -> str:
        """The read's id (the composite id), secret parts masked."""
        return self.ref.masked(self.hidden)

    @property
    def secret_texts(self) -> tuple[str, ...]:
        return secret_values(self.props(), self.hidden)

    def props(self) -> dict[str, Any]:
        props = {**self.kind.ref_fields(self.ref), **wait_props(self)}
        if "not_found_grace_seconds" in self.kind.echo_keys:  # an input of FC 3.0's AsyncTask alone
            props["not_found_grace_seconds"] = self.policy.not_found_grace
        return props


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
    hidden: frozenset[str] = frozenset()  # the arguments given as secrets (masked in the id)
    kind: Kind = FC2

    @classmethod
    def build(cls, *, service_name: Any = None, function_name: Any = None, qualifier: Any = None,
              invocation_id_prefix: Any = None, task_id_prefix: Any = None, kind: Kind = FC2,
              statuses: Any = None, started_after: Any = None, started_before: Any = None, limit: Any = None,
              include_payloads: Any = False, secret_payloads: Any = True, wait_for_completion: Any = False,
              expected_count: Any = None, timeout_seconds: Any = 1800, fail_on_statuses: Any = None,
              poll_interval_seconds: Any = 1.0, max_poll_interval_seconds: Any = None, region: Any = None,
              account_id: Any = None, endpoint: Any = None, use_duration_history: Any = True,
              hidden: frozenset[str] = frozenset()) -> "BatchSpec":
        """The wait's arguments as :func:`wait_policy` reads them."""
        qualifier = qualifier if qualifier != "" else None
        # Names: the single data source's rules (the member id is a stand-in).
        kind.check_target({"service_name": service_name, "function_name": function_name, "qualifier": qualifier})
        given = task_id_prefix if kind.prefix_key == "task_id_prefix" else invocation_id_prefix
        prefix = None if given in (None, "") else kind.validate_id(given, kind.prefix_key)
        after, before = _time("started_after", started_after), _time("started_before", started_before)
        start, end = parse_time(after), parse_time(before)
        if start is not None and end is not None and start > end:
            raise InvalidArgumentError("started_after", started_after, f"must not be later than started_before "
                                                                      f"({started_before})")
        policy = wait_policy(timeout_seconds=timeout_seconds, poll_interval_seconds=poll_interval_seconds,
                             max_poll_interval_seconds=max_poll_interval_seconds,
                             use_duration_history=use_duration_history)
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
                   hidden: frozenset[str] = frozenset()) -> "BatchSpec":
        """The spec of a read: from the props (or prior outputs, in a refresh), else from the id.
        Fields masked in the id were secret inputs, as are those named in ``hidden`` (a caller that
        sees the secret marks, e.g. the plugin's refresh): they stay hidden."""
        hidden = frozenset(hidden) | frozenset(key for key, value in parse_batch_id(id_, kind=kind).items()
                                               if value == SECRET_MASK or value == [SECRET_MASK])
        if all(props.get(key) for key in kind.target_keys if key != "qualifier"):
            args = {key: props[key] for key in kind.batch_input_keys if props.get(key) is not None}
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
            "expected_count": self.expected_count, **wait_props(self),
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


