"""The vocabulary both FC APIs share: statuses, events, times, redaction, argument checks, FC's name
rules, and what a reference and a result of either API have in common (:class:`Ref`, :class:`Result`).

Names are checked before any request is made, so garbage never reaches the network, and every failure
says which field, which value and which rule. Responses are parsed leniently where FC has been seen to
vary (time formats, key casing, new statuses, new keys) and strictly where a wrong answer would
mislead (an invocation must have an id and a status). Each API's own names, paths and models live in
:mod:`.fc2` (2016-08-15) and :mod:`.fc3` (2023-03-30).
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Optional, TypeVar, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from . import errors
from .errors import FcApiError, InvalidArgumentError

__all__ = [
    "InvocationStatus",
    "DEFAULT_FAIL_ON",
    "check_fail_on_statuses",
    "InvocationEvent",
    "FrozenModel",
    "parse_time",
    "rfc3339",
    "check_name",
    "NAME_START",
    "ID_PATTERN",
    "ID_RULE",
    "QUALIFIER_RULE",
    "validate_qualifier",
    "Ref",
    "Result",
    "optional_text",
    "SECRET_MASK",
    "redact",
    "redacting",
    "masking_logs",
    "log_secrets",
    "secret_values",
    "Time",
    "Status",
    "Text",
    "Count",
]

# FC 2.0 names that lived here in 0.1: still served, with a DeprecationWarning, to code outside the package.
# The one import from this room upward, made only when such a name is asked for (COMPAT in
# tests/test_import_direction.py). validate_qualifier and QUALIFIER_RULE live here again (both APIs').
_MOVED_TO_FC2 = frozenset({
    "InvocationRef", "StatefulAsyncInvocationResult", "validate_service_name", "validate_function_name",
    "validate_invocation_id", "SERVICE_RULE", "FUNCTION_RULE", "INVOCATION_RULE",
})


def __getattr__(name: str) -> Any:
    if name in _MOVED_TO_FC2:
        warnings.warn(f"pulumi_fc_invocation.models.{name} moved to pulumi_fc_invocation.fc2; import it from there",
                      DeprecationWarning, stacklevel=2)
        from . import fc2

        return getattr(fc2, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- argument checks ----------------------------------------------------------------------------

def check_name(argument: str, value: Any, pattern: re.Pattern[str], rule: str) -> str:
    """``value`` if it is a string matching ``pattern``, else an error naming the argument and the rule."""
    if not isinstance(value, str):
        raise InvalidArgumentError(argument, value, f"must be a string of {rule}")
    if not pattern.match(value):
        raise InvalidArgumentError(argument, value, f"must be {rule}")
    return value


def optional_text(argument: str, value: Any) -> Optional[str]:
    """An optional string argument (``region``, ``endpoint``...): None or "" means unset."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidArgumentError(argument, value, "must be a string")
    return value


# --- FC's names, as both API revisions check them ------------------------------------------------

NAME_START = r"[A-Za-z_][A-Za-z0-9_-]"
"""A name or id of FC: a letter or '_', then letters, digits, '_' or '-' (a length follows, e.g. ``{0,127}``)."""
ID_PATTERN = re.compile(rf"{NAME_START}{{0,127}}\Z")
ID_RULE = "1-128 letters, digits, '_' or '-', starting with a letter or '_' (pattern ^[A-Za-z_][A-Za-z0-9_-]{0,127}$)"
"""An invocation id (FC 2.0) or a task id (FC 3.0): the same rule."""
_QUALIFIER = re.compile(rf"(?:LATEST|[0-9]{{1,128}}|{NAME_START}{{0,127}})\Z")
QUALIFIER_RULE = ("'LATEST', a version number (digits) or an alias name (1-128 letters, digits, '_' or '-', starting "
                  "with a letter or '_')")


def validate_qualifier(value: Any, argument: str = "qualifier") -> Optional[str]:
    """None means no qualifier (FC's ``LATEST``)."""
    if value is None:
        return None
    return check_name(argument, value, _QUALIFIER, QUALIFIER_RULE)


# --- secret inputs ------------------------------------------------------------------------------

SECRET_MASK = "[secret]"
"""Stands for a secret input in ids, messages and logs (it cannot be a valid name, so ids stay parseable)."""


def redact(text: str, secrets: Iterable[Union[str, tuple[str, str]]]) -> str:
    """:func:`.errors.redact` for secret inputs: each value as :data:`SECRET_MASK`, however short (a
    qualifier ``1`` given as a secret is still a secret)."""
    return errors.redact(text, secrets, mask=SECRET_MASK, shortest=1)


def secret_values(values: Any, hidden: Iterable[str]) -> tuple[str, ...]:
    """The text of the arguments named in ``hidden`` (secret inputs) among ``values``, to mask."""
    texts: list[str] = []
    for key in hidden:
        value = values.get(key)
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if item is not None and not isinstance(item, bool):
                texts.append(item.isoformat() if isinstance(item, datetime) else str(item))
    return tuple(texts)


_log_secrets: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("fc_log_secrets", default=())


def log_secrets() -> tuple[str, ...]:
    """The secret inputs of the calls made in this thread (or task) now: the transport masks them in its
    log records and urllib3's (request paths, query strings)."""
    return _log_secrets.get()


@contextlib.contextmanager
def masking_logs(secrets: Iterable[str]) -> Iterator[None]:
    """In this block (this thread or task: a pool's thread sets its own, as :func:`..clock.within`'s deadline),
    the log records of the calls made show ``secrets`` as :data:`SECRET_MASK`, and an enclosing block's."""
    texts = tuple(s for s in secrets if isinstance(s, str) and s)
    if not texts:
        yield
        return
    token = _log_secrets.set(_log_secrets.get() + texts)
    try:
        yield
    finally:
        _log_secrets.reset(token)


@contextlib.contextmanager
def redacting(secrets: Iterable[str]) -> Iterator[None]:
    """Re-raise any error from the block with the secret values masked in its text; the block's log
    records mask them too (:func:`masking_logs`).

    FC echoes names and ids in its error messages, and the engine prints a provider's error (with its
    chained causes), so an error about a secret invocation id would otherwise show it in plaintext."""
    secrets = tuple(s for s in secrets if isinstance(s, str) and s)
    if not secrets:
        yield
        return
    try:
        with masking_logs(secrets):
            yield
    except Exception as exc:
        if isinstance(exc, InvalidArgumentError) and _holds_secret(exc.value, secrets):
            # The message shows repr(value) cut to 77 characters: the secret's text is not in it whole
            # (escaped, truncated), so masking text would leave fragments; the message is rebuilt instead.
            exc.value = SECRET_MASK
            exc.rule = redact(str(exc.rule), secrets)
            exc.args = (f"invalid {exc.argument} {SECRET_MASK}: {exc.rule}",)
        else:
            exc.args = tuple(redact(a, secrets) if isinstance(a, str) else a for a in exc.args)
        if isinstance(exc, FcApiError):
            exc.message = redact(exc.message, secrets)
            exc.body_excerpt = None
        # InvalidArgumentError keeps the offending value; UnreachableError the endpoint and the OS's words
        # (explain words its line from them, not from the masked text)
        for name in ("value", "endpoint", "reason"):
            if isinstance(getattr(exc, name, None), str):
                setattr(exc, name, redact(getattr(exc, name), secrets))
        raise exc from None


def _holds_secret(value: Any, secrets: tuple[str, ...]) -> bool:
    """Whether ``value`` (or an item of it) contains the text of a secret, as :func:`secret_values` gives it."""
    if isinstance(value, Mapping):
        return any(_holds_secret(v, secrets) for pair in value.items() for v in pair)
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_holds_secret(v, secrets) for v in value)
    if value is None or isinstance(value, bool):
        return False
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return any(secret in text for secret in secrets)


# --- statuses -----------------------------------------------------------------------------------


class InvocationStatus(str, Enum):
    """Statuses of a stateful async invocation.

    A status FC adds later parses as a pseudo-member (``is_known`` False, not terminal) instead of
    failing: a gate then keeps waiting, which is the safe reading of "something we don't know yet".
    """

    ENQUEUED = "Enqueued"
    DEQUEUED = "Dequeued"
    RUNNING = "Running"
    RETRYING = "Retrying"
    STOPPING = "Stopping"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    STOPPED = "Stopped"
    EXPIRED = "Expired"
    INVALID = "Invalid"

    @classmethod
    def _missing_(cls, value: object) -> "InvocationStatus | None":
        if not isinstance(value, str):
            return None
        for member in cls:  # tolerate case differences ("succeeded")
            if member.value.lower() == value.lower():
                return member
        pseudo = str.__new__(cls, value)
        pseudo._name_ = "UNKNOWN"
        pseudo._value_ = value
        return pseudo

    @property
    def is_known(self) -> bool:
        return self._name_ != "UNKNOWN"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @classmethod
    def terminal(cls) -> frozenset["InvocationStatus"]:
        return _TERMINAL

    @classmethod
    def known(cls, value: Any, argument: str = "status") -> "InvocationStatus":
        """A documented status from user input; unknown names are refused (they would never match)."""
        status = cls(value) if isinstance(value, str) else None
        if status is None or not status.is_known:
            names = ", ".join(m.value for m in cls)
            raise InvalidArgumentError(argument, value, f"must be one of {names}")
        return status

    def __str__(self) -> str:
        return self._value_

    def __repr__(self) -> str:
        return f"InvocationStatus({self._value_!r})"

    def __reduce_ex__(self, proto: Any) -> tuple[Any, ...]:
        return (InvocationStatus, (self._value_,))


_TERMINAL = frozenset(
    {
        InvocationStatus.SUCCEEDED,
        InvocationStatus.FAILED,
        InvocationStatus.STOPPED,
        InvocationStatus.EXPIRED,
        InvocationStatus.INVALID,
    }
)


def as_status(value: Any) -> Any:
    if isinstance(value, InvocationStatus):
        return value
    if isinstance(value, str):
        return InvocationStatus(value)
    return value  # let pydantic report the type error


# The statuses a gate fails on unless told otherwise: every terminal status but success.
DEFAULT_FAIL_ON = ("Failed", "Stopped", "Expired", "Invalid")


def check_fail_on_statuses(value: Any, argument: str = "fail_on_statuses") -> tuple[str, ...]:
    """Normalise a user's list of fail statuses; unknown or non-terminal names are refused."""
    if value is None:
        return DEFAULT_FAIL_ON
    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
        raise InvalidArgumentError(argument, value, "must be a list of terminal statuses, e.g. ['Failed', 'Stopped']")
    out: list[str] = []
    for item in value:
        status = InvocationStatus.known(item, argument)
        if not status.is_terminal:
            terminal = ", ".join(s.value for s in InvocationStatus if s.is_terminal)
            raise InvalidArgumentError(argument, item, f"is not a terminal status; use only {terminal}")
        if status.value not in out:
            out.append(status.value)
    return tuple(out)


# --- times --------------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _utc(value: datetime, naive_is_local: bool = False) -> datetime:
    """``value`` in UTC. A naive value is local time when it is a caller's ``datetime`` (Python's own
    reading: ``datetime.now()`` is local, and ``astimezone`` treats it so), UTC when it was text from
    FC (which speaks UTC)."""
    if value.tzinfo is None and not naive_is_local:
        return value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except (OverflowError, OSError, ValueError):  # e.g. 0001-01-01T00:00+01:00: not in UTC's range
        raise ValueError(f"time {value.isoformat()[:40]!r} is out of range once converted to UTC") from None


def parse_time(value: Any) -> Optional[datetime]:
    """Epoch milliseconds (int, float or numeric string), ISO-8601 text or a datetime -> aware UTC datetime.

    A naive ``datetime`` is local time, as everywhere in Python; naive text is UTC (FC's answers).

    ``0``, ``""`` and None mean "not set" (FC reports ``endTime: 0`` while a task runs).
    """
    if value is None or isinstance(value, bool):
        if isinstance(value, bool):
            raise ValueError("a time must be epoch milliseconds or ISO-8601 text, not a boolean")
        return None
    if isinstance(value, datetime):
        return _utc(value, naive_is_local=True)
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return None
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                try:
                    parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
                except ValueError:
                    raise ValueError(f"time {text[:40]!r} is neither epoch milliseconds nor ISO-8601") from None
                return _utc(parsed)
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("a time must be a finite number of epoch milliseconds")
        if value == 0:
            return None
        if value < 0 or value > 253402300799999:  # after 9999-12-31
            raise ValueError(f"epoch milliseconds {value} out of range")
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    raise ValueError(f"a time must be epoch milliseconds or ISO-8601 text, not {type(value).__name__}")


def rfc3339(value: Optional[datetime]) -> Optional[str]:
    """RFC 3339 UTC with milliseconds (``2026-11-26T21:30:47.000Z``), the form outputs use."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


Time = Annotated[Optional[datetime], BeforeValidator(parse_time)]
Status = Annotated[InvocationStatus, BeforeValidator(as_status)]


def none_to_empty(value: Any) -> Any:
    return "" if value is None else value


def none_to_zero(value: Any) -> Any:
    return 0 if value is None else value


Text = Annotated[str, BeforeValidator(none_to_empty)]
Count = Annotated[int, BeforeValidator(none_to_zero)]


class FrozenModel(BaseModel):
    """Base of FC's answer models: immutable, keys by alias or name, unknown keys ignored."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")


class InvocationEvent(FrozenModel):
    """One entry of an invocation's event log (newer API revisions)."""

    event_id: Optional[int] = Field(default=None, alias="eventId")
    status: Text = Field(default="", alias="status")
    timestamp: Time = Field(default=None, alias="timestamp")
    event_detail: Text = Field(default="", alias="eventDetail")


# --- what both API revisions' references and results share ---------------------------------------

_R = TypeVar("_R", bound="Ref")


class Ref(BaseModel):
    """Base of a reference to one task (FC 2.0's ``InvocationRef``, FC 3.0's ``AsyncTaskRef``).

    Its text form is the composite id (the Pulumi resource id, the CLI's argument). FC's rules are checked
    before pydantic's, so an error names the argument, the value and the rule; secret parts can be shown
    as :data:`SECRET_MASK` and read back. A subclass says how its id splits and joins."""

    model_config = ConfigDict(frozen=True)

    def __init__(self, **data: Any) -> None:
        self.check(data)
        try:
            super().__init__(**data)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise InvalidArgumentError(".".join(map(str, first["loc"])), first.get("input"), first["msg"]) from None

    @classmethod
    def check(cls, data: Mapping[str, Any]) -> None:
        """Check each field by FC's rule, in the composite id's order."""
        raise NotImplementedError

    @classmethod
    def split(cls, text: Any, argument: str) -> dict[str, Optional[str]]:
        """The fields of a composite id, or an error naming ``argument`` and the id's form."""
        raise NotImplementedError

    @staticmethod
    def join(fields: Mapping[str, Optional[str]]) -> str:
        """The composite id of ``fields`` (the inverse of :meth:`split`)."""
        raise NotImplementedError

    @classmethod
    def parse(cls: type[_R], text: Any, argument: str = "id") -> _R:
        return cls(**cls.split(text, argument))

    @classmethod
    def parse_masked(cls: type[_R], text: Any, values: Mapping[str, Any], argument: str = "id"
                     ) -> tuple[_R, frozenset[str]]:
        """Parse a composite id whose secret parts are :data:`SECRET_MASK` (see :meth:`masked`), taking
        those parts from ``values`` (the read's props); returns the ref and the masked fields."""
        if not isinstance(text, str) or SECRET_MASK not in text:
            return cls.parse(text, argument), frozenset()
        fields = cls.split(text, argument)
        hidden = frozenset(key for key, value in fields.items() if value == SECRET_MASK)
        for key in hidden:
            fields[key] = values.get(key)
        return cls(**fields), hidden

    def masked(self, hidden: Iterable[str] = ()) -> str:
        """The composite id with the fields named in ``hidden`` (secret inputs) as :data:`SECRET_MASK`."""
        hidden = frozenset(hidden)
        return self.join({key: SECRET_MASK if key in hidden and getattr(self, key) else getattr(self, key)
                          for key in type(self).model_fields})

    def __str__(self) -> str:
        return self.masked()


class Result(FrozenModel):
    """Base of a task's state as FC answers it (``StatefulAsyncInvocationResult``, ``AsyncTaskResult``):
    the questions a gate asks of either, and a repr without payloads (user data: never in logs or
    tracebacks). Each subclass declares its fields and ``REPR_FIELDS``; ``status`` is one of them."""

    REPR_FIELDS: ClassVar[tuple[str, ...]] = ()
    if TYPE_CHECKING:  # each subclass declares the field (its alias and place); declared here for the checker only
        status: InvocationStatus

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    @property
    def succeeded(self) -> bool:
        return self.status is InvocationStatus.SUCCEEDED

    def __repr__(self) -> str:
        values = {name: getattr(self, name) for name in self.REPR_FIELDS}
        values["status"] = values["status"].value
        return f"{type(self).__name__}({', '.join(f'{name}={value!r}' for name, value in values.items())})"

    __str__ = __repr__
