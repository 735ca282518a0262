"""FC 3.0 (API 2023-03-30) async tasks: naming rules, paths, the list query, the task model, error bodies.

FC 3.0 has no services: a task is ``function[.qualifier]/task_id``, and the qualifier travels as a
``?qualifier=`` query parameter. Names are checked before any request (each failure names the
argument and the rule); answers are parsed with the 2.0 model's tolerance (time formats, status
casing, new statuses and keys) and strictness (a task must have an id and a status).

A 2.0 function seen through 3.0 is named ``service$function``; ``$`` is legal only there, and goes
into paths percent-encoded (``%24``), as the official SDK ``alibabacloud-fc20230330`` sends it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Optional, Union

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from .errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FcApiError,
    InvalidArgumentError,
    NotFoundError,
    ThrottledError,
    error_class_for,
)
from .models import (
    ID_PATTERN,
    ID_RULE,
    NAME_START,
    QUALIFIER_RULE,
    Count,
    InvocationEvent,
    InvocationStatus,
    Ref,
    Result,
    Status,
    Text,
    Time,
    check_name,
    parse_time,
    validate_qualifier,
)
from .signing import acs3_percent_encode, acs3_sign_request
from .wire import FcErrorBody, parse_error_body  # the one error-body parser (FC 2.0, 3.0, STS)

__all__ = [
    "API_VERSION",
    "AsyncTaskRef",
    "AsyncTaskResult",
    "AsyncTaskPage",
    "FcErrorBody",
    "validate_function_name",
    "validate_qualifier",
    "validate_task_id",
    "new_task_id",
    "percent_encode",
    "function_path",
    "task_path",
    "stop_path",
    "tasks_path",
    "invocations_path",
    "qualifier_query",
    "list_query",
    "function_name_from_arn",
    "acs3_signer",
    "ACTIONS",
    "parse_error_body",
    "error_class",
    "ERROR_CODES",
]

API_VERSION = "2023-03-30"

# --- naming rules -------------------------------------------------------------------------------

# 1-128: the Terraform provider's bound (the SDK's CreateFunction says 64): refusing a real name would
# be worse than letting FC refuse a long one.
_FUNCTION_RE = re.compile(rf"{NAME_START}{{0,127}}\Z")
_FC2_FUNCTION_RE = re.compile(rf"{NAME_START}{{0,127}}\${NAME_START}{{0,63}}\Z")  # service$function (2.0 rules)

FUNCTION_RULE = ("1-128 letters, digits, '_' or '-', starting with a letter or '_' (never a '.'), or SERVICE$FUNCTION "
                 "for an FC 2.0 function seen through FC 3.0")
TASK_RULE = ID_RULE
# QUALIFIER_RULE and validate_qualifier: FC's, the same in both APIs (models).


def validate_function_name(value: Any, argument: str = "function_name") -> str:
    pattern = _FC2_FUNCTION_RE if isinstance(value, str) and "$" in value else _FUNCTION_RE
    return check_name(argument, value, pattern, FUNCTION_RULE)


def validate_task_id(value: Any, argument: str = "task_id") -> str:
    return check_name(argument, value, ID_PATTERN, TASK_RULE)


def new_task_id() -> str:
    """A fresh task id (``task-`` and 32 hex digits), for an invoke that names none: the caller then knows
    the id without relying on FC to say which one it picked."""
    import uuid

    return f"task-{uuid.uuid4().hex}"


# --- the reference ------------------------------------------------------------------------------

_ID_FORM = "must be FUNCTION[.QUALIFIER]/TASK_ID, e.g. transcode.prod/job-123"


class AsyncTaskRef(Ref):
    """Which task: function, optional qualifier, task id.

    Its text form is the composite id ``function[.qualifier]/task_id`` (two segments; an FC 2.0 id has
    three), used as the Pulumi resource id and on the command line.
    """

    function_name: str
    task_id: str
    qualifier: Optional[str] = None

    @classmethod
    def check(cls, data: Mapping[str, Any]) -> None:
        validate_function_name(data.get("function_name"))
        validate_task_id(data.get("task_id"))
        validate_qualifier(data.get("qualifier"))

    @classmethod
    def split(cls, text: Any, argument: str) -> dict[str, Optional[str]]:
        """``function[.qualifier]/task_id``."""
        if not isinstance(text, str):
            raise InvalidArgumentError(argument, text, _ID_FORM)
        parts = text.split("/")
        if len(parts) != 2:
            hint = " (three segments SERVICE[.QUALIFIER]/FUNCTION/ID are an FC 2.0 id)" if len(parts) == 3 else ""
            raise InvalidArgumentError(argument, text, _ID_FORM + hint)
        head, task_id = parts
        function_name, dot, qualifier = head.partition(".")
        if dot and not qualifier:
            raise InvalidArgumentError(argument, text, "the qualifier after '.' is empty; " + _ID_FORM)
        return {"function_name": function_name, "task_id": task_id, "qualifier": qualifier if dot else None}

    @staticmethod
    def join(fields: Mapping[str, Optional[str]]) -> str:
        head = f"{fields['function_name']}.{fields['qualifier']}" if fields["qualifier"] else fields["function_name"]
        return f"{head}/{fields['task_id']}"

    @property
    def path(self) -> str:
        """The GetAsyncTask path (the qualifier goes in :attr:`query`)."""
        return task_path(self.function_name, self.task_id)

    @property
    def query(self) -> dict[str, str]:
        return qualifier_query(self.qualifier)


# --- paths and queries --------------------------------------------------------------------------


percent_encode = acs3_percent_encode
"""One path segment as the official SDK encodes it (darabonba ``Url.percent_encode``): RFC 3986, only
``A-Za-z0-9-_.~`` kept, so ``$`` is ``%24``; the ACS3 signature signs the path in this form."""


def function_path(function_name: str) -> str:
    return f"/{API_VERSION}/functions/{percent_encode(validate_function_name(function_name))}"


def tasks_path(function_name: str) -> str:
    """ListAsyncTasks."""
    return function_path(function_name) + "/async-tasks"


def task_path(function_name: str, task_id: str) -> str:
    """GetAsyncTask."""
    return f"{tasks_path(function_name)}/{percent_encode(validate_task_id(task_id))}"


def stop_path(function_name: str, task_id: str) -> str:
    """StopAsyncTask (``PUT``)."""
    return task_path(function_name, task_id) + "/stop"


def invocations_path(function_name: str) -> str:
    """InvokeFunction (``POST``, ``x-fc-invocation-type: Async``)."""
    return function_path(function_name) + "/invocations"


def qualifier_query(qualifier: Optional[str]) -> dict[str, str]:
    q = validate_qualifier(qualifier)
    return {"qualifier": q} if q else {}


def _epoch_ms(argument: str, value: Any) -> Optional[int]:
    try:
        parsed = parse_time(value)
    except ValueError as exc:
        raise InvalidArgumentError(argument, value, f"must be a datetime, epoch milliseconds or ISO-8601 text ({exc})"
                                   ) from None
    return None if parsed is None else int(parsed.timestamp() * 1000)


def list_query(
    *,
    qualifier: Optional[str] = None,
    status: Union[str, InvocationStatus, None] = None,
    prefix: Optional[str] = None,
    started_after: Union[datetime, int, str, None] = None,
    started_before: Union[datetime, int, str, None] = None,
    sort: str = "desc",
    include_payload: bool = False,
    page_size: int = 100,
    next_token: Optional[str] = None,
) -> dict[str, str]:
    """The ListAsyncTasks query parameters, every argument checked (times as epoch milliseconds).

    ``includePayload`` is sent as ``true`` (the SDK sends Python's ``True``). ``next_token`` is passed
    back byte-exact: the transport encodes it.
    """
    validate_qualifier(qualifier)
    if sort not in ("asc", "desc"):
        raise InvalidArgumentError("sort", sort, "must be 'asc' or 'desc'")
    if not isinstance(page_size, int) or isinstance(page_size, bool) or not 1 <= page_size <= 100:
        raise InvalidArgumentError("page_size", page_size, "must be an integer from 1 to 100")
    if not isinstance(include_payload, bool):
        raise InvalidArgumentError("include_payload", include_payload, "must be True or False")
    params = {"limit": str(page_size), "sortOrderByTime": sort}
    if qualifier:
        params["qualifier"] = qualifier
    if status is not None:
        params["status"] = InvocationStatus.known(status if isinstance(status, str) else str(status), "status").value
    if prefix is not None:
        if not isinstance(prefix, str) or not prefix or len(prefix) > 128:
            raise InvalidArgumentError("prefix", prefix, "must be a non-empty string of at most 128 characters")
        params["prefix"] = prefix
    begin, end = _epoch_ms("started_after", started_after), _epoch_ms("started_before", started_before)
    if begin is not None and end is not None and begin > end:
        raise InvalidArgumentError("started_after", started_after, "must not be later than started_before")
    if begin is not None:
        params["startedTimeBegin"] = str(begin)
    if end is not None:
        params["startedTimeEnd"] = str(end)
    if include_payload:
        params["includePayload"] = "true"
    if next_token is not None:
        if not isinstance(next_token, str):
            raise InvalidArgumentError("next_token", type(next_token).__name__, "must be a string")
        if next_token:
            params["nextToken"] = next_token
    return params


# --- the task -----------------------------------------------------------------------------------

_ARN_FUNCTION = re.compile(r"(?:^|[:/])functions/([^/:]+)")


def function_name_from_arn(arn: Any) -> str:
    """``acs:fc:cn-shanghai:1234/functions/my-func`` -> ``my-func``; "" when there is none (FC 3.0's
    AsyncTask has a ``functionArn`` and no ``functionName``)."""
    if not isinstance(arn, str):
        return ""
    found = None
    for found in _ARN_FUNCTION.finditer(arn):
        pass
    return found.group(1) if found else ""


class AsyncTaskResult(Result):
    """An FC 3.0 AsyncTask: the answer of GetAsyncTask, one item of ListAsyncTasks."""

    REPR_FIELDS = ("task_id", "status", "function_name", "qualifier", "already_retried_times")

    task_id: str = Field(alias="taskId", min_length=1)
    function_arn: Text = Field(default="", alias="functionArn")
    function_name: Text = Field(default="", alias="functionName")  # from the ARN when FC sends none
    qualifier: Text = Field(default="", alias="qualifier")
    status: Status = Field(alias="status")
    task_error_message: Text = Field(default="", alias="taskErrorMessage")
    task_payload: Optional[str] = Field(
        default=None,
        alias="taskPayload",
        # The ListAsyncTasks page's note still calls it invocationPayload.
        validation_alias=AliasChoices("taskPayload", "TaskPayload", "task_payload", "invocationPayload"),
    )
    return_payload: Optional[str] = Field(default=None, alias="returnPayload")
    already_retried_times: Count = Field(default=0, alias="alreadyRetriedTimes", ge=0)
    started_time: Time = Field(default=None, alias="startedTime")
    end_time: Time = Field(default=None, alias="endTime")
    duration_ms: Optional[int] = Field(default=None, alias="durationMs")
    instance_id: Text = Field(default="", alias="instanceId")
    # Optional only for "events": null, which model_post_init makes (); never None once built.
    events: Optional[tuple[InvocationEvent, ...]] = Field(default=(), alias="events")
    destination_status: Text = Field(default="", alias="destinationStatus")
    request_id: Text = Field(default="", alias="requestId")

    def model_post_init(self, __context: Any) -> None:
        # After validation (a "before" validator would make pydantic build the whole body in Python
        # first, doubling the parse): the name from the ARN, "events": null as no events.
        if not self.function_name and self.function_arn:
            object.__setattr__(self, "function_name", function_name_from_arn(self.function_arn))
        if self.events is None:
            object.__setattr__(self, "events", ())

    def named(self, function_name: str) -> "AsyncTaskResult":
        """This task with ``function_name``, the name it was asked for: a read knows its function, and an
        ARN is only a guess (a 2.0 function's FC 3.0 ARN may name the service and function apart)."""
        return self if self.function_name == function_name else self.model_copy(update={"function_name": function_name})

    # The FC 2.0 model's names, read-only, so that API-neutral code (the waiter's messages, the batch
    # tracker, the CLI) serves both models; they are not fields, so dumps keep FC 3.0's names alone.
    @property
    def invocation_id(self) -> str:
        return self.task_id

    @property
    def invocation_error_message(self) -> str:
        return self.task_error_message

    @property
    def invocation_payload(self) -> Optional[str]:
        return self.task_payload

    @property
    def ref(self) -> AsyncTaskRef:
        """The composite reference; raises if the answer's names don't follow FC 3.0's rules."""
        return AsyncTaskRef(function_name=self.function_name, task_id=self.task_id, qualifier=self.qualifier or None)


class AsyncTaskPage(BaseModel):
    """One ListAsyncTasks answer; an empty or absent ``nextToken`` means the last page. A page without
    ``tasks`` is not a list (a 200 ``{}`` read as "no tasks, no next page" ended listings early); the
    client reads a first page without ``tasks`` or a ``nextToken`` as an empty listing (omitempty)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)
    tasks: Optional[tuple[AsyncTaskResult, ...]]  # required; None ("tasks": null) becomes ()
    next_token: Optional[str] = Field(default=None, alias="nextToken")

    def model_post_init(self, __context: Any) -> None:
        if self.tasks is None:
            object.__setattr__(self, "tasks", ())


# --- signature ----------------------------------------------------------------------------------

#: The ``x-acs-action`` of each call this package makes.
ACTIONS = frozenset({"GetAsyncTask", "ListAsyncTasks", "StopAsyncTask", "InvokeFunction"})
# Transport headers: requests and urllib3 may rewrite them, so they are not signed (the SDK doesn't either).
_UNSIGNED = frozenset({"accept-encoding", "content-length", "connection", "authorization"})


def acs3_signer(action: str) -> Callable[[Any, Any], None]:
    """The transport signer of an FC 3.0 call: ``host``, ``x-acs-action``, ``x-acs-version``, ``accept``,
    then ACS3-HMAC-SHA256 over every header but the transport's own (date, nonce, body hash and, with
    STS, the token included). Called for each attempt, so a retry gets a fresh date, nonce and token."""
    if action not in ACTIONS:
        raise ValueError(f"unknown FC 3.0 action {action!r}")

    def sign(request: Any, credentials: Any) -> None:
        headers = request.headers
        headers["host"] = request.host
        headers["x-acs-action"] = action
        headers["x-acs-version"] = API_VERSION
        headers["accept"] = "application/json"
        signed = {key: value for key, value in headers.items() if key.lower() not in _UNSIGNED}
        headers.update(acs3_sign_request(
            request.method, request.path, query=request.query, headers=signed, body=request.body,
            access_key_id=credentials.access_key_id, access_key_secret=credentials.access_key_secret,
            security_token=credentials.security_token or None))

    return sign


# --- error bodies -------------------------------------------------------------------------------

#: FC 3.0's documented error codes and the class each one becomes (with its documented HTTP status).
ERROR_CODES: dict[str, tuple[int, type[FcApiError]]] = {
    "InvalidArgument": (400, BadRequestError),
    "MissingRequiredHeader": (400, BadRequestError),
    "PathNotSupported": (400, BadRequestError),
    "EntityTooLarge": (400, BadRequestError),
    "AccessDenied": (403, AuthenticationError),
    "SignatureNotMatch": (403, AuthenticationError),
    "InvalidAccessKeyID": (403, AuthenticationError),
    "FunctionNotFound": (404, NotFoundError),
    "VersionNotFound": (404, NotFoundError),
    "AliasNotFound": (404, NotFoundError),
    "AsyncConfigNotExists": (404, NotFoundError),
    "TriggerNotFound": (404, NotFoundError),
    "AsyncTaskNotFound": (404, NotFoundError),
    "ConcurrentUpdateError": (409, ConflictError),
    "AsyncInvocationStopped": (412, BadRequestError),
    "ResourceExhausted": (429, ThrottledError),
    "ResourceThrottled": (503, ThrottledError),
}


def error_class(http_status: int, code: Optional[str] = None) -> type[FcApiError]:
    """The class for an FC 3.0 error: by HTTP status, as for 2.0; the code decides only where the
    status alone says little (an unlisted 4xx such as 412 ``AsyncInvocationStopped``)."""
    known = ERROR_CODES.get(code or "")
    if known is None or http_status in _STATUS_CLASSED or http_status >= 500:
        return error_class_for(http_status)
    return known[1]


_STATUS_CLASSED = frozenset({400, 401, 403, 404, 409, 429, 503})
