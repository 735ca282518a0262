"""What a gate is asked: the validated arguments of one single-item data source (:class:`SingleSpec`) or one
batch data source (:class:`BatchSpec`), built before any request, and a batch's id.

A *batch* is every async work item of one function (FC 2.0: the stateful async invocations of
``service[.qualifier]/function``; FC 3.0: the async tasks of ``function[.qualifier]``; see
:mod:`..kinds`) whose id starts with a prefix and whose start time lies in
``[started_after, started_before]``. A spec takes the inputs its data source's description has, with
the description's defaults (:attr:`~..sources.DataSource.defaults`), and gives them back checked as its
props (a refresh reads them back). What both shapes share (the wait, the verdict, the settings) is checked
once here (:func:`wait_policy`, :func:`gate_args`).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional, TypeVar
from urllib.parse import parse_qsl, quote, urlencode

from ..credentials import check_settings
from ..errors import InvalidArgumentError
from ..kinds import FC2, Kind
from ..models import SECRET_MASK, InvocationStatus, Ref, check_fail_on_statuses, parse_time, rfc3339, secret_values
from ..sources import DataSource
from ..waiter import DEFAULT_MAX_POLL_INTERVAL, NOT_FOUND_GRACE, WaitPolicy

__all__ = ["SingleSpec", "BatchSpec", "format_batch_id", "parse_batch_id", "wait_policy", "policy_inputs",
           "gate_args", "given_with_defaults", "with_timeout"]


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
                                   "must be a finite number of seconds >= 0")
    if timeout_seconds is None:
        raise InvalidArgumentError("timeout_seconds", timeout_seconds, "must be a positive number of seconds")
    capped = max_poll_interval_seconds is not None
    return WaitPolicy(initial_delay=poll_interval_seconds,
                      max_delay=max_poll_interval_seconds if capped else DEFAULT_MAX_POLL_INTERVAL,
                      cap=max_poll_interval_seconds if capped else None, timeout=timeout_seconds,
                      not_found_grace=not_found_grace_seconds, duration_aware=duration_aware)


def policy_inputs(policy: WaitPolicy) -> dict[str, Any]:
    """:func:`wait_policy`'s arguments as ``policy`` holds them (the one list of the inputs a policy reads)."""
    return {"timeout_seconds": policy.timeout, "poll_interval_seconds": policy.initial_delay,
            "max_poll_interval_seconds": policy.cap, "use_duration_history": policy.duration_aware,
            "not_found_grace_seconds": policy.not_found_grace}


_POLICY_INPUTS = frozenset(policy_inputs(WaitPolicy()))
# The inputs a spec holds under another name (a batch's id prefix and a reference's names come as ``own``).
_HELD_AS = {"wait_for_completion": "wait", "fail_on_statuses": "fail_on"}


def given_with_defaults(source: DataSource, given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` over the description's defaults; a name the data source does not take is Python's TypeError."""
    unknown = set(given) - set(source.input_names())
    if unknown:
        raise TypeError(f"unexpected argument {sorted(unknown)[0]!r} for {source.name}")
    return {**source.defaults, **given}


def gate_args(args: Mapping[str, Any], hidden: frozenset[str]) -> dict[str, Any]:
    """What both shapes hold of their inputs, checked: the wait, its policy, the verdict, the payloads'
    secrecy and the settings."""
    region, account_id, endpoint = check_settings(args["region"], args["account_id"], args["endpoint"], hidden)
    return dict(wait=_bool("wait_for_completion", args["wait_for_completion"]),
                policy=wait_policy(**{key: value for key, value in args.items() if key in _POLICY_INPUTS}),
                fail_on=check_fail_on_statuses(args["fail_on_statuses"]),
                secret_payloads=_bool("secret_payloads", args["secret_payloads"]),
                region=region, account_id=account_id, endpoint=endpoint)


def _props(spec: Any, source: DataSource, own: Mapping[str, Any]) -> dict[str, Any]:
    """Every input of ``source`` as ``spec`` holds it, checked, in the description's order (lists, not
    tuples): the policy's, then ``own`` (the names a spec holds its own way), then its attributes."""
    held = {**policy_inputs(spec.policy), **own}
    out = {}
    for name in source.input_names():
        value = held[name] if name in held else getattr(spec, _HELD_AS.get(name, name))
        out[name] = list(value) if isinstance(value, tuple) else value
    return out


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
    secret_payloads: bool = True
    hidden: frozenset[str] = frozenset()  # the arguments given as secrets

    @classmethod
    def build(cls, *, kind: Kind = FC2, hidden: frozenset[str] = frozenset(), **given: Any) -> "SingleSpec":
        """``given``: inputs of the kind's single data source; the others take its description's defaults."""
        args = given_with_defaults(kind.single_source, given)
        return cls(kind=kind, ref=kind.make_ref(args), **gate_args(args, hidden), hidden=frozenset(hidden))

    @property
    def id(self) -> str:
        """The read's id (the composite id), secret parts masked."""
        return self.ref.masked(self.hidden)

    @property
    def secret_texts(self) -> tuple[str, ...]:
        return secret_values(self.props(), self.hidden)

    def props(self) -> dict[str, Any]:
        """Every input of the data source, checked (the names as the reference holds them)."""
        return _props(self, self.kind.single_source, self.kind.ref_fields(self.ref))


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
    def build(cls, *, kind: Kind = FC2, hidden: frozenset[str] = frozenset(), **given: Any) -> "BatchSpec":
        """``given``: inputs of the kind's batch data source; the others take its description's defaults."""
        args = given_with_defaults(kind.batch_source, given)
        target: dict[str, Any] = {key: args.get(key) for key in ("service_name", "function_name", "qualifier")}
        target["qualifier"] = target["qualifier"] if target["qualifier"] != "" else None
        # Names: the single data source's rules (the member id is a stand-in).
        kind.check_target(target)
        given_prefix = args[kind.prefix_key]
        prefix = None if given_prefix in (None, "") else kind.validate_id(given_prefix, kind.prefix_key)
        started_after, started_before = args["started_after"], args["started_before"]
        after, before = _time("started_after", started_after), _time("started_before", started_before)
        start, end = parse_time(after), parse_time(before)
        if start is not None and end is not None and start > end:
            raise InvalidArgumentError("started_after", started_after, f"must not be later than started_before "
                                                                      f"({started_before})")
        return cls(
            **target, prefix=prefix, statuses=_statuses(args["statuses"]), started_after=after,
            started_before=before, limit=_count("limit", args["limit"]),
            include_payloads=_bool("include_payloads", args["include_payloads"]),
            expected_count=_count("expected_count", args["expected_count"]), **gate_args(args, hidden),
            hidden=frozenset(hidden), kind=kind,
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
        """Every input of the data source, checked."""
        return _props(self, self.kind.batch_source, {self.kind.prefix_key: self.prefix})

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


Spec = TypeVar("Spec", bound="SingleSpec | BatchSpec")


def with_timeout(spec: Spec, timeout: float) -> Spec:
    """``spec`` with ``timeout`` seconds as its wait's (and so its ``timeout_seconds``)."""
    return dataclasses.replace(spec, policy=dataclasses.replace(spec.policy, timeout=float(timeout)))


def _query_name(kind: Kind, name: str) -> str:
    """An id filter's name in the batch id's query string (the id prefix is ``prefix`` in both APIs)."""
    return "prefix" if name == kind.prefix_key else name


def format_batch_id(spec: BatchSpec) -> str:
    """``service[.qualifier]/function[?prefix=..&statuses=..&started_after=..&started_before=..&limit=..]``,
    with the fields given as secrets shown as ``[secret]``."""
    def shown(name: str, value: Any) -> Any:
        return SECRET_MASK if value and name in spec.hidden else value

    props = spec.props()

    def text(value: Any) -> Optional[str]:  # a list comma-separated, a number as digits
        if isinstance(value, list):
            return ",".join(value) or None
        return str(value) if value else None

    query = [(_query_name(spec.kind, name), shown(name, text(props[name])))
             for name in spec.kind.batch_source.id_filters if props[name]]
    head = spec.kind.target_path({key: shown(key, value) for key, value in spec.target.items()})
    return head + ("?" + urlencode(query, quote_via=quote, safe=":,[]") if query else "")


def parse_batch_id(text: Any, argument: str = "id", kind: Kind = FC2) -> dict[str, Any]:
    """The arguments a batch id encodes (see :func:`format_batch_id`); refused with the rule if malformed."""
    rule = kind.batch_id_rule()
    if not isinstance(text, str):
        raise InvalidArgumentError(argument, text, rule)
    head, _, query = text.partition("?")
    args: dict[str, Any] = kind.parse_target_path(head, text, argument, rule)
    fields = kind.batch_source.fields
    names = {_query_name(kind, name): name for name in kind.batch_source.id_filters}
    for key, value in parse_qsl(query, keep_blank_values=True, strict_parsing=False):
        if key not in names:
            raise InvalidArgumentError(argument, text, f"has an unknown filter {key!r}; " + rule)
        field = fields[names[key]]
        if typing.get_origin(field.type) is list:  # statuses
            args[field.name] = [s for s in value.split(",") if s]
        elif field.type is int:  # limit
            if not value.isdigit() and value != SECRET_MASK:
                raise InvalidArgumentError(argument, text, f"{key} must be a positive integer; " + rule)
            args[field.name] = int(value) if value != SECRET_MASK else value
        else:
            args[field.name] = value
    return args


