"""FC 2.0 (API 2016-08-15): its naming rules, paths, models and request signature.

FC 2.0 addresses a stateful async invocation as service[.qualifier] / function / invocation id and
signs with the FC scheme (:mod:`.signing`). FC 3.0's twin is :mod:`.fc3`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from email.utils import formatdate
from typing import Any, Optional

from pydantic import AliasChoices, Field

from .errors import InvalidArgumentError
from .models import (
    ID_PATTERN,
    ID_RULE,
    NAME_START,
    QUALIFIER_RULE,
    Count,
    InvocationEvent,
    Ref,
    Result,
    Status,
    Text,
    Time,
    check_name,
    validate_qualifier,
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

_SERVICE_RE = re.compile(rf"{NAME_START}{{0,127}}\Z")
_FUNCTION_RE = re.compile(rf"{NAME_START}{{0,63}}\Z")

SERVICE_RULE = "1-128 letters, digits, '_' or '-', starting with a letter or '_'"
FUNCTION_RULE = "1-64 letters, digits, '_' or '-', starting with a letter or '_'"
INVOCATION_RULE = ID_RULE
# QUALIFIER_RULE and validate_qualifier: FC's, the same in both APIs (models).


def validate_service_name(value: Any, argument: str = "service_name") -> str:
    return check_name(argument, value, _SERVICE_RE, SERVICE_RULE)


def validate_function_name(value: Any, argument: str = "function_name") -> str:
    return check_name(argument, value, _FUNCTION_RE, FUNCTION_RULE)


def validate_invocation_id(value: Any, argument: str = "invocation_id") -> str:
    return check_name(argument, value, ID_PATTERN, INVOCATION_RULE)


# --- the reference ------------------------------------------------------------------------------

_ID_FORM = "must be SERVICE[.QUALIFIER]/FUNCTION/INVOCATION_ID, e.g. video.prod/transcode/video-123"


class InvocationRef(Ref):
    """Which invocation: service, optional qualifier, function and invocation id.

    Its text form is the composite id ``service[.qualifier]/function/invocation_id``, used as the
    Pulumi resource id and on the command line.
    """

    service_name: str
    function_name: str
    invocation_id: str
    qualifier: Optional[str] = None

    @classmethod
    def check(cls, data: Mapping[str, Any]) -> None:
        validate_service_name(data.get("service_name"))
        validate_function_name(data.get("function_name"))
        validate_invocation_id(data.get("invocation_id"))
        validate_qualifier(data.get("qualifier"))

    @classmethod
    def split(cls, text: Any, argument: str) -> dict[str, Optional[str]]:
        """``service[.qualifier]/function/invocation_id``."""
        if not isinstance(text, str) or len(text.split("/")) != 3:
            raise InvalidArgumentError(argument, text, _ID_FORM)
        head, function_name, invocation_id = text.split("/")
        service_name, dot, qualifier = head.partition(".")
        if dot and not qualifier:
            raise InvalidArgumentError(argument, text, "the qualifier after '.' is empty; " + _ID_FORM)
        return {"service_name": service_name, "function_name": function_name, "invocation_id": invocation_id,
                "qualifier": qualifier if dot else None}

    @staticmethod
    def join(fields: Mapping[str, Optional[str]]) -> str:
        service = f"{fields['service_name']}.{fields['qualifier']}" if fields["qualifier"] else fields["service_name"]
        return f"{service}/{fields['function_name']}/{fields['invocation_id']}"

    @property
    def service_path(self) -> str:
        """``service`` or ``service.qualifier``, as FC joins them in paths."""
        return f"{self.service_name}.{self.qualifier}" if self.qualifier else self.service_name


class StatefulAsyncInvocationResult(Result):
    """The response of GetStatefulAsyncInvocation, one item of ListStatefulAsyncInvocations."""

    REPR_FIELDS = ("invocation_id", "status", "service_name", "function_name", "qualifier", "already_retried_times")

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
    def ref(self) -> InvocationRef:
        """The composite reference; raises if the response's names don't follow FC's rules."""
        return InvocationRef(
            service_name=self.service_name,
            function_name=self.function_name,
            invocation_id=self.invocation_id,
            qualifier=self.qualifier or None,
        )


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
