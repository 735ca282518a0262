"""FC 2.0 (API 2016-08-15): its naming rules, paths, models and request signature.

FC 2.0 addresses a stateful async invocation as service[.qualifier] / function / invocation id and
signs with the FC scheme (:mod:`.signing`). FC 3.0's twin is :mod:`.fc3`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from email.utils import formatdate
from typing import Any, Optional

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from pydantic import ValidationError as _PydanticValidationError

from .errors import InvalidArgumentError
from .models import (
    SECRET_MASK,
    Count,
    FrozenModel,
    InvocationEvent,
    InvocationStatus,
    Status,
    Text,
    Time,
    check_name,
)
from .signing import authorization

__all__ = [
    "API_VERSION",
    "InvocationRef",
    "StatefulAsyncInvocationResult",
    "validate_service_name",
    "validate_function_name",
    "validate_qualifier",
    "validate_invocation_id",
    "SERVICE_RULE",
    "FUNCTION_RULE",
    "QUALIFIER_RULE",
    "INVOCATION_RULE",
    "function_path",
    "invocation_path",
    "invocation_path_of",
    "invocations_path",
    "http_date",
    "fc_signer",
]

API_VERSION = "2016-08-15"

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


def validate_service_name(value: Any, argument: str = "service_name") -> str:
    return check_name(argument, value, _SERVICE_RE, SERVICE_RULE)


def validate_function_name(value: Any, argument: str = "function_name") -> str:
    return check_name(argument, value, _FUNCTION_RE, FUNCTION_RULE)


def validate_qualifier(value: Any, argument: str = "qualifier") -> Optional[str]:
    if value is None:
        return None
    return check_name(argument, value, _QUALIFIER_RE, QUALIFIER_RULE)


def validate_invocation_id(value: Any, argument: str = "invocation_id") -> str:
    return check_name(argument, value, _INVOCATION_RE, INVOCATION_RULE)



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




class StatefulAsyncInvocationResult(FrozenModel):
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


# --- paths --------------------------------------------------------------------------------------


def function_path(service_name: str, function_name: str, qualifier: Optional[str] = None) -> str:
    """``/2016-08-15/services/{service[.qualifier]}/functions/{function}``, the names checked first."""
    validate_service_name(service_name)
    validate_function_name(function_name)
    validate_qualifier(qualifier)
    service_path = f"{service_name}.{qualifier}" if qualifier else service_name
    return f"/{API_VERSION}/services/{service_path}/functions/{function_name}"


def invocations_path(service_name: str, function_name: str, qualifier: Optional[str] = None) -> str:
    """The path of ListStatefulAsyncInvocations."""
    return function_path(service_name, function_name, qualifier) + "/stateful-async-invocations"


def invocation_path(ref: InvocationRef) -> str:
    """The path of Get/StopStatefulAsyncInvocation for ``ref`` (already checked by InvocationRef)."""
    return (f"/{API_VERSION}/services/{ref.service_path}/functions/{ref.function_name}"
            f"/stateful-async-invocations/{ref.invocation_id}")


def invocation_path_of(service_name: Any, function_name: Any, invocation_id: Any, qualifier: Any = None) -> str:
    """:func:`invocation_path` from names: InvocationRef's checks and errors, in its order, without
    building one (the read is the hot call)."""
    validate_service_name(service_name)
    validate_function_name(function_name)
    validate_invocation_id(invocation_id)
    validate_qualifier(qualifier)
    service_path = f"{service_name}.{qualifier}" if qualifier else service_name
    return f"/{API_VERSION}/services/{service_path}/functions/{function_name}/stateful-async-invocations/{invocation_id}"


# --- signature ----------------------------------------------------------------------------------

_date_cache: tuple[int, str] = (-1, "")


def http_date() -> str:
    """``formatdate(usegmt=True)`` for now, formatted once per second (it only has whole seconds)."""
    global _date_cache
    second = int(time.time())
    cached = _date_cache
    if cached[0] != second:
        cached = _date_cache = (second, formatdate(second, usegmt=True))
    return cached[1]


def fc_signer(account_id: Optional[str]) -> Any:
    """The transport signer of FC 2.0 calls: ``Date``, the ``X-Fc-*`` headers, then the FC signature."""

    def sign(request: Any, credentials: Any) -> None:
        headers = request.headers
        headers["Date"] = http_date()
        if account_id:
            headers["X-Fc-Account-Id"] = account_id
        if credentials.security_token:
            headers["X-Fc-Security-Token"] = credentials.security_token
        headers["Authorization"] = authorization(request.method, request.path, headers,
                                                 credentials.access_key_id, credentials.access_key_secret)

    return sign
