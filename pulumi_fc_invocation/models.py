"""Typed views of FC's stateful async invocation objects, and the naming rules that guard requests.

Names are checked before any request is made, so garbage never reaches the network, and every failure
says which field, which value and which rule. Responses are parsed leniently where FC has been seen to
vary (time formats, key casing, new statuses, new keys) and strictly where a wrong answer would
mislead (an invocation must have an id and a status).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from enum import Enum
from typing import Annotated, Any, Optional

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic import ValidationError as _PydanticValidationError

from .errors import FcApiError, InvalidArgumentError

__all__ = [
    "InvocationRef",
    "InvocationStatus",
    "InvocationEvent",
    "StatefulAsyncInvocationResult",
    "validate_service_name",
    "validate_function_name",
    "validate_qualifier",
    "validate_invocation_id",
    "parse_time",
    "SECRET_MASK",
    "redact",
    "redacting",
    "secret_values",
]

# --- naming rules -------------------------------------------------------------------------------

_NAME = r"[A-Za-z_][A-Za-z0-9_-]"
_SERVICE_RE = re.compile(rf"{_NAME}{{0,127}}\Z")
_FUNCTION_RE = re.compile(rf"{_NAME}{{0,63}}\Z")
_QUALIFIER_RE = re.compile(rf"(?:LATEST|[0-9]{{1,128}}|{_NAME}{{0,127}})\Z")
_INVOCATION_RE = re.compile(rf"{_NAME}{{0,127}}\Z")

SERVICE_RULE = "1-128 letters, digits, '_' or '-', starting with a letter or '_'"
FUNCTION_RULE = "1-64 letters, digits, '_' or '-', starting with a letter or '_'"
QUALIFIER_RULE = "'LATEST', a version number (digits) or an alias name (1-128 letters, digits, '_' or '-', starting with a letter or '_')"
INVOCATION_RULE = "1-128 letters, digits, '_' or '-', starting with a letter or '_' (pattern ^[A-Za-z_][A-Za-z0-9_-]{0,127}$)"


def _check(argument: str, value: Any, pattern: re.Pattern[str], rule: str) -> str:
    if not isinstance(value, str):
        raise InvalidArgumentError(argument, value, f"must be a string of {rule}")
    if not pattern.match(value):
        raise InvalidArgumentError(argument, value, f"must be {rule}")
    return value


def validate_service_name(value: Any, argument: str = "service_name") -> str:
    return _check(argument, value, _SERVICE_RE, SERVICE_RULE)


def validate_function_name(value: Any, argument: str = "function_name") -> str:
    return _check(argument, value, _FUNCTION_RE, FUNCTION_RULE)


def validate_qualifier(value: Any, argument: str = "qualifier") -> Optional[str]:
    if value is None:
        return None
    return _check(argument, value, _QUALIFIER_RE, QUALIFIER_RULE)


def optional_text(argument: str, value: Any) -> Optional[str]:
    """An optional string argument (``region``, ``endpoint``...): None or "" means unset."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidArgumentError(argument, value, "must be a string")
    return value


def optional_endpoint(value: Any) -> Optional[str]:
    """The ``endpoint`` argument, checked when the data source is declared (no scheme, user info...),
    so a bad one fails in the program before any request rather than in the provider."""
    endpoint = optional_text("endpoint", value)
    if endpoint is None:
        return None
    from .credentials import check_endpoint

    return check_endpoint(endpoint)


def validate_invocation_id(value: Any, argument: str = "invocation_id") -> str:
    return _check(argument, value, _INVOCATION_RE, INVOCATION_RULE)


class InvocationRef(BaseModel):
    """Which invocation: service, optional qualifier, function and invocation id.

    Its text form is the composite id ``service[.qualifier]/function/invocation_id``, used as the
    Pulumi resource id and on the command line.
    """

    model_config = ConfigDict(frozen=True)

    service_name: str
    function_name: str
    invocation_id: str
    qualifier: Optional[str] = None

    def __init__(self, **data: Any) -> None:
        # Check names ourselves first, so the error is ours (field, value, rule), not pydantic's.
        validate_service_name(data.get("service_name"))
        validate_function_name(data.get("function_name"))
        validate_invocation_id(data.get("invocation_id"))
        validate_qualifier(data.get("qualifier"))
        try:
            super().__init__(**data)
        except _PydanticValidationError as exc:
            first = exc.errors()[0]
            raise InvalidArgumentError(".".join(map(str, first["loc"])), first.get("input"), first["msg"]) from None

    @classmethod
    def parse(cls, text: Any, argument: str = "id") -> "InvocationRef":
        """Parse ``service[.qualifier]/function/invocation_id``."""
        rule = "must be SERVICE[.QUALIFIER]/FUNCTION/INVOCATION_ID, e.g. video.prod/transcode/video-123"
        if not isinstance(text, str):
            raise InvalidArgumentError(argument, text, rule)
        parts = text.split("/")
        if len(parts) != 3:
            raise InvalidArgumentError(argument, text, rule)
        head, function_name, invocation_id = parts
        service_name, dot, qualifier = head.partition(".")
        if dot and not qualifier:
            raise InvalidArgumentError(argument, text, "the qualifier after '.' is empty; " + rule)
        return cls(
            service_name=service_name,
            function_name=function_name,
            invocation_id=invocation_id,
            qualifier=qualifier if dot else None,
        )

    @classmethod
    def parse_masked(cls, text: Any, values: Any, argument: str = "id") -> "tuple[InvocationRef, frozenset[str]]":
        """Parse a composite id in which secret parts are :data:`SECRET_MASK` (see :meth:`masked`),
        taking those parts from ``values`` (the read's props); returns the ref and the masked fields."""
        if not isinstance(text, str) or SECRET_MASK not in text:
            return cls.parse(text, argument), frozenset()
        parts = text.split("/")
        if len(parts) != 3:
            cls.parse(text, argument)  # raises with the rule
        head, function_name, invocation_id = parts
        service_name, dot, qualifier = head.partition(".")
        fields = {"service_name": service_name, "function_name": function_name, "invocation_id": invocation_id,
                  "qualifier": qualifier if dot else None}
        hidden = frozenset(key for key, value in fields.items() if value == SECRET_MASK)
        for key in hidden:
            fields[key] = values.get(key)
        return cls(**fields), hidden

    def masked(self, hidden: Iterable[str] = ()) -> str:
        """The composite id with the fields named in ``hidden`` (secret inputs) as :data:`SECRET_MASK`."""
        hidden = frozenset(hidden)
        if not hidden:
            return str(self)
        shown = {k: SECRET_MASK if k in hidden and getattr(self, k) else getattr(self, k)
                 for k in ("service_name", "function_name", "invocation_id", "qualifier")}
        service = f"{shown['service_name']}.{shown['qualifier']}" if shown["qualifier"] else shown["service_name"]
        return f"{service}/{shown['function_name']}/{shown['invocation_id']}"

    @property
    def service_path(self) -> str:
        """``service`` or ``service.qualifier``, as FC joins them in paths."""
        return f"{self.service_name}.{self.qualifier}" if self.qualifier else self.service_name

    def __str__(self) -> str:
        return f"{self.service_path}/{self.function_name}/{self.invocation_id}"


# --- secret inputs ------------------------------------------------------------------------------

SECRET_MASK = "[secret]"
"""Stands for a secret input in ids, messages and logs (it cannot be a valid name, so ids stay parseable)."""


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced by :data:`SECRET_MASK` (longest first)."""
    for secret in sorted({s for s in secrets if isinstance(s, str) and s}, key=len, reverse=True):
        text = text.replace(secret, SECRET_MASK)
    return text


def secret_values(values: Any, hidden: Iterable[str]) -> tuple[str, ...]:
    """The text of the arguments named in ``hidden`` (secret inputs) among ``values``, to mask."""
    texts: list[str] = []
    for key in hidden:
        value = values.get(key)
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if item is not None and not isinstance(item, bool):
                texts.append(item.isoformat() if isinstance(item, datetime) else str(item))
    return tuple(texts)


@contextlib.contextmanager
def redacting(secrets: Iterable[str]) -> Iterator[None]:
    """Re-raise any error from the block with the secret values masked in its text.

    FC echoes names and ids in its error messages, and the engine prints a provider's error (with its
    chained causes), so an error about a secret invocation id would otherwise show it in plaintext."""
    secrets = tuple(s for s in secrets if isinstance(s, str) and s)
    if not secrets:
        yield
        return
    try:
        yield
    except Exception as exc:
        exc.args = tuple(redact(a, secrets) if isinstance(a, str) else a for a in exc.args)
        if isinstance(exc, FcApiError):
            exc.message = redact(exc.message, secrets)
            exc.body_excerpt = None
        for name in ("value",):  # InvalidArgumentError keeps the offending value
            if isinstance(getattr(exc, name, None), str):
                setattr(exc, name, redact(getattr(exc, name), secrets))
        raise exc from None


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

    def __reduce_ex__(self, proto: Any):
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


def _status(value: Any) -> Any:
    if isinstance(value, InvocationStatus):
        return value
    if isinstance(value, str):
        return InvocationStatus(value)
    return value  # let pydantic report the type error


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
Status = Annotated[InvocationStatus, BeforeValidator(_status)]


def _none_to_empty(value: Any) -> Any:
    return "" if value is None else value


def _none_to_zero(value: Any) -> Any:
    return 0 if value is None else value


Text = Annotated[str, BeforeValidator(_none_to_empty)]
Count = Annotated[int, BeforeValidator(_none_to_zero)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")


class InvocationEvent(_Model):
    """One entry of an invocation's event log (newer API revisions)."""

    event_id: Optional[int] = Field(default=None, alias="eventId")
    status: Text = Field(default="", alias="status")
    timestamp: Time = Field(default=None, alias="timestamp")
    event_detail: Text = Field(default="", alias="eventDetail")


class StatefulAsyncInvocationResult(_Model):
    """The response of GetStatefulAsyncInvocation, one item of ListStatefulAsyncInvocations."""

    service_name: Text = Field(default="", alias="serviceName")
    function_name: Text = Field(default="", alias="functionName")
    qualifier: Text = Field(default="", alias="qualifier")
    invocation_id: str = Field(alias="invocationId", min_length=1)
    request_id: Text = Field(default="", alias="requestId")
    status: Status = Field(alias="status")
    destination_status: Text = Field(default="", alias="destinationStatus")
    invocation_error_message: Text = Field(default="", alias="invocationErrorMessage")
    invocation_payload: Optional[str] = Field(
        default=None,
        alias="invocationPayload",
        validation_alias=AliasChoices("invocationPayload", "InvocationPayload", "invocation_payload"),
    )
    return_payload: Optional[str] = Field(default=None, alias="returnPayload")
    already_retried_times: Count = Field(default=0, alias="alreadyRetriedTimes", ge=0)
    started_time: Time = Field(default=None, alias="startedTime")
    end_time: Time = Field(default=None, alias="endTime")
    duration_ms: Optional[int] = Field(default=None, alias="durationMs")
    instance_id: Text = Field(default="", alias="instanceId")
    events: tuple[InvocationEvent, ...] = Field(default=(), alias="events")

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    @property
    def succeeded(self) -> bool:
        return self.status is InvocationStatus.SUCCEEDED

    @property
    def ref(self) -> InvocationRef:
        """The composite reference; raises if the response's names don't follow FC's rules."""
        return InvocationRef(
            service_name=self.service_name,
            function_name=self.function_name,
            invocation_id=self.invocation_id,
            qualifier=self.qualifier or None,
        )

    def __repr__(self) -> str:
        # Payloads may hold user data: keep them out of reprs (and so out of logs and tracebacks).
        return (
            f"StatefulAsyncInvocationResult(invocation_id={self.invocation_id!r}, status={self.status.value!r}, "
            f"service_name={self.service_name!r}, function_name={self.function_name!r}, "
            f"qualifier={self.qualifier!r}, already_retried_times={self.already_retried_times})"
        )

    __str__ = __repr__
