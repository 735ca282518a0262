"""The Pulumi package schema of this package, generated from the package's own code.

    python -m pulumi_fc_invocation.schema > schema.json

``schema.json`` is never edited by hand. Everything that code already knows comes from code:

* the resource's outputs are ``resource.OUTPUT_KEYS``, and whether each is always set comes from the
  output annotations declared on ``StatefulAsyncInvocation`` (``Output[Optional[...]]`` = may be null);
* the types of the invocation fields come from ``StatefulAsyncInvocationResult.model_fields`` (their
  pydantic aliases are the camelCase schema names), ``is_terminal`` from its property's annotation;
* inputs, their types, defaults and which are required come from the signatures of
  ``StatefulAsyncInvocation.__init__`` and ``get_stateful_async_invocation`` (an argument not wrapped in
  ``Input[...]`` is ``plain``);
* the function's outputs are the keys ``provider.result_outputs`` produces, plus ``id``;
* the statuses are ``InvocationStatus``, the default fail statuses ``waiter.DEFAULT_FAIL_ON``, the
  environment variables and stack configuration keys ``credentials.SETTING_SOURCES``.

The batch data source (``StatefulAsyncInvocations``, :mod:`.pulumi.resources`) is derived the same way:

* its outputs are ``batch_provider.BATCH_OUTPUT_KEYS``, nullability from the ``Output[...]`` annotations
  on ``StatefulAsyncInvocations``, types from the signature of ``get_stateful_async_invocations`` (for
  echoed inputs), else from those annotations; ``ids`` and ``invocations`` are annotated as a bare
  ``Output[list]``, so their element types are ``BATCH_LIST_ITEMS`` here (tests/test_schema.py checks
  real ``batch_outputs`` values against them);
* one member of ``invocations`` is the object type ``Invocation``: the keys ``provider.result_outputs``
  produces, with the single data source's types, nullability, secrets and descriptions;
* inputs come from ``StatefulAsyncInvocations.__init__`` and ``get_stateful_async_invocations``;
* the function's outputs are the attributes of the object ``get_stateful_async_invocations`` returns
  (``batch._result_object`` on an empty sample batch), ``id`` included.

Only prose lives here: ``DESCRIPTIONS`` (keyed by snake_case name), ``BATCH_DESCRIPTIONS`` (every
input and output of the batch data source, reusing ``DESCRIPTIONS`` where the words fit both),
``EVENT_DESCRIPTIONS`` and ``STATUS_DESCRIPTIONS``. tests/test_schema.py fails when a field, output,
input or status has none, and when the checked-in schema.json differs from this module's output.

``resource``, ``batch`` and ``provider`` import Pulumi; they are imported only when the schema is built.
"""

from __future__ import annotations

import collections.abc
import copy
import inspect
import json
import re
import sys
import typing
from datetime import datetime
from types import UnionType
from typing import Any, Optional

from . import __version__
from .credentials import SETTING_SOURCES
from .fc2 import StatefulAsyncInvocationResult
from .fc3 import AsyncTaskResult
from .kinds import FC2, FC3, Kind
from .models import InvocationEvent, InvocationStatus
from .models import DEFAULT_FAIL_ON

__all__ = [
    "PACKAGE",
    "RESOURCE_TOKEN",
    "FUNCTION_TOKEN",
    "BATCH_RESOURCE_TOKEN",
    "BATCH_FUNCTION_TOKEN",
    "INVOCATION_TOKEN",
    "TASK_RESOURCE_TOKEN",
    "TASK_FUNCTION_TOKEN",
    "TASKS_RESOURCE_TOKEN",
    "TASKS_FUNCTION_TOKEN",
    "TASK_TOKEN",
    "TASK_DESCRIPTIONS",
    "TASKS_DESCRIPTIONS",
    "TASKS_LIST_ITEMS",
    "EVENT_TOKEN",
    "STATUS_TOKEN",
    "DESCRIPTIONS",
    "SETTING_DESCRIPTIONS",
    "WAIT_INPUTS",
    "BATCH_DESCRIPTIONS",
    "BATCH_LIST_ITEMS",
    "EVENT_DESCRIPTIONS",
    "STATUS_DESCRIPTIONS",
    "camel",
    "build_schema",
    "render",
    "main",
]

PACKAGE = "fc-invocation"
RESOURCE_TOKEN = f"{PACKAGE}:index:StatefulAsyncInvocation"
FUNCTION_TOKEN = f"{PACKAGE}:index:getStatefulAsyncInvocation"
BATCH_RESOURCE_TOKEN = f"{PACKAGE}:index:StatefulAsyncInvocations"
BATCH_FUNCTION_TOKEN = f"{PACKAGE}:index:getStatefulAsyncInvocations"
INVOCATION_TOKEN = f"{PACKAGE}:index:Invocation"
TASK_RESOURCE_TOKEN = f"{PACKAGE}:index:AsyncTask"
TASK_FUNCTION_TOKEN = f"{PACKAGE}:index:getAsyncTask"
TASKS_RESOURCE_TOKEN = f"{PACKAGE}:index:AsyncTasks"
TASKS_FUNCTION_TOKEN = f"{PACKAGE}:index:getAsyncTasks"
TASK_TOKEN = f"{PACKAGE}:index:Task"
EVENT_TOKEN = f"{PACKAGE}:index:InvocationEvent"
STATUS_TOKEN = f"{PACKAGE}:index:InvocationStatus"

DISPLAY_NAME = "Function Compute Async Invocations"
KEYWORDS = ["pulumi", "alicloud", "alibaba-cloud", "function-compute", "fc", "async-invocation",
            "deployment-gate", "category/utility"]
LICENSE = "Apache-2.0"
REPOSITORY: Optional[str] = None  # set to the public source URL once there is one; omitted while None
# The generated Python SDK of the plugin: apart from this package, which it would otherwise shadow.
PYTHON_PACKAGE = "pulumi_fc_invocation_sdk"

_TERMINAL = [s.value for s in InvocationStatus if s.is_terminal]
_ALL_STATUSES = [s.value for s in InvocationStatus]


def _quoted(values: Any) -> str:
    return ", ".join(f"`{v}`" for v in values)


def _sources(setting: str) -> str:
    """Where a gate's setting comes from when not given: the provider's (the plugin's own settings; the
    Python data sources read the chain's keys themselves), then the environment."""
    entry = SETTING_SOURCES[setting]
    names = _quoted(f"{PACKAGE}:{key.partition(':')[2]}" for key in entry["config"])
    return f"the provider setting {names}, then environment {_quoted(entry['env'])}"


# --- prose -------------------------------------------------------------------------------------
# Keyed by the snake_case name used in Python (model fields, OUTPUT_KEYS, constructor arguments).

DESCRIPTIONS: dict[str, str] = {
    # The invocation, as Function Compute reports it (StatefulAsyncInvocationResult fields).
    "service_name": "The Function Compute service of the invocation.",
    "function_name": "The function of the invocation.",
    "qualifier": "The service version or alias the invocation was made under (`LATEST`, a version number or "
                 "an alias name); null for none.",
    "invocation_id": "The id of the stateful async invocation (the `X-Fc-Stateful-Async-Invocation-Id` the "
                     "function was invoked with): 1-128 letters, digits, `_` or `-`, starting with a letter "
                     "or `_`.",
    "request_id": "The request id of the invocation's function run; empty when Function Compute reports none.",
    "status": "The invocation's status, one of " + _quoted(_ALL_STATUSES) + ". Terminal statuses are "
              + _quoted(_TERMINAL) + ". A status Function Compute adds later is passed through as is "
              "(and is treated as not terminal).",
    "destination_status": "The status of delivery to the configured async destination; empty when none.",
    "invocation_error_message": "The error message of a failed invocation; empty when none.",
    "invocation_payload": "The payload the function was invoked with. Secret unless `secretPayloads` is false.",
    "return_payload": "What the function returned, when Function Compute reports it. Secret unless "
                      "`secretPayloads` is false.",
    "already_retried_times": "How many times Function Compute has retried the invocation.",
    "started_time": "When the invocation started (RFC 3339, UTC, millisecond precision); null when not started.",
    "end_time": "When the invocation ended (RFC 3339, UTC, millisecond precision); null while it runs.",
    "duration_ms": "How long the invocation ran, in milliseconds, when Function Compute reports it.",
    "instance_id": "The id of the function instance that ran the invocation; empty when unknown.",
    "events": "The invocation's event log (newer API revisions), oldest first; empty when not reported.",
    "is_terminal": "Whether `status` is terminal (" + _quoted(_TERMINAL) + "): the invocation has ended.",
    # The gate: arguments, echoed as outputs.
    "wait_for_completion": "Whether `pulumi up` waits until the invocation ends before this resource (and "
                           "everything that depends on it) is done. `pulumi preview` never waits.",
    "timeout_seconds": "With `waitForCompletion`, how long to wait before failing the deployment, in seconds.",
    "fail_on_statuses": "With `waitForCompletion`, the terminal statuses that fail the deployment. Only "
                        "terminal statuses (" + _quoted(_TERMINAL) + ") are accepted. Defaults to "
                        + _quoted(DEFAULT_FAIL_ON) + "; an empty list fails on none.",
    "poll_interval_seconds": "The delay between polls during the first seconds of a wait, in seconds.",
    "max_poll_interval_seconds": "The cap the poll delay backs off to, in seconds; at least "
                                 "`pollIntervalSeconds`. Given, no delay exceeds it (jitter and the "
                                 "duration-aware schedule included); unset (null), 45 s on the default schedule, "
                                 "sparser with a duration history.",
    "use_duration_history": "With `waitForCompletion`, whether the wait reads the function's recent run "
                            "times (one list call) to poll sparsely before the likely end and densely around "
                            "it; false keeps the default schedule.",
    "secret_payloads": "Whether `invocationPayload` and `returnPayload` are marked secret (encrypted in "
                       "state and masked in output). A plain value, not an eventual one.",
    "region": "The Alibaba Cloud region of the service, e.g. `cn-hangzhou`. Defaults to "
              + _sources("region") + ".",
    "account_id": "The Alibaba Cloud account id that owns the service. Defaults to "
                  + _sources("account_id") + ".",
    "endpoint": "The Function Compute endpoint URL, overriding the one derived from `accountId` and "
                "`region`. Defaults to " + _sources("endpoint") + ".",
    "waited_seconds": "How long `pulumi up` waited for the invocation, in seconds; null when it did not wait.",
    # The function's result.
    "id": "The composite id `service[.qualifier]/function/invocationId`.",
}

# The batch data source: every input and output, keyed by snake_case name. Shared words are reused from
# DESCRIPTIONS explicitly, so a batch name is never described by accident with the single one's prose.
BATCH_DESCRIPTIONS: dict[str, str] = {
    # What the batch is.
    "service_name": "The Function Compute service of the batch.",
    "function_name": "The function of the batch.",
    "qualifier": "The service version or alias the batch's invocations were made under (`LATEST`, a version "
                 "number or an alias name); null for none.",
    "invocation_id_prefix": "Only invocations whose id starts with this prefix belong to the batch; null for "
                            "all. Same characters as an invocation id.",
    "started_after": "Only invocations started at or after this time (RFC 3339) belong to the batch; null for "
                     "no lower bound. Echoed in UTC with millisecond precision.",
    "started_before": "Only invocations started at or before this time (RFC 3339) belong to the batch; null "
                      "for no upper bound. Not earlier than `startedAfter`. Echoed in UTC with millisecond "
                      "precision.",
    # What is returned (selection only; the gate and the counts are about the whole batch).
    "statuses": "Return in `ids` and `invocations` only members in one of these statuses (known statuses, "
                "one of " + _quoted(_ALL_STATUSES) + "); empty for all. Does not change the batch, the gate "
                "or `counts`.",
    "limit": "Return at most this many members (the oldest first) in `ids` and `invocations`; null for all. "
             "Does not change the batch, the gate or `counts`.",
    "include_payloads": "Whether `invocations` carries each member's `invocationPayload` and `returnPayload`; "
                        "when false they are null. With payloads (and `secretPayloads`), the whole "
                        "`invocations` list is secret.",
    "secret_payloads": "With `includePayloads`, whether `invocations` is marked secret (encrypted in state and "
                       "masked in output). A plain value, not an eventual one.",
    # The gate.
    "wait_for_completion": "Whether `pulumi up` waits until the batch is complete (at least `expectedCount` "
                           "members exist and all have ended) before this resource (and everything that "
                           "depends on it) is done. `pulumi preview` never waits.",
    "expected_count": "With `waitForCompletion`, how many members must exist before the batch can be "
                      "complete (members may still be enqueued when the wait starts); null for at least one.",
    "timeout_seconds": DESCRIPTIONS["timeout_seconds"],
    "fail_on_statuses": "The terminal statuses that fail the deployment as soon as any member of the batch ends "
                        "in one (the message lists the first ten). Only terminal statuses (" + _quoted(_TERMINAL)
                        + ") are accepted. Defaults to " + _quoted(DEFAULT_FAIL_ON) + "; an empty list fails "
                        "on none.",
    "poll_interval_seconds": DESCRIPTIONS["poll_interval_seconds"],
    "max_poll_interval_seconds": DESCRIPTIONS["max_poll_interval_seconds"],
    "use_duration_history": "With `waitForCompletion`, whether the wait reads the function's recent run times "
                            "(one list call) and polls by the batch's likely end (its slowest member's); false "
                            "keeps the default schedule.",
    "region": DESCRIPTIONS["region"],
    "account_id": DESCRIPTIONS["account_id"],
    "endpoint": DESCRIPTIONS["endpoint"],
    # The result.
    "ids": "The composite ids `service[.qualifier]/function/invocationId` of the returned members (those in "
           "`statuses`, at most `limit`), oldest first.",
    "invocations": "The returned members (those in `statuses`, at most `limit`), oldest first, with the single "
                   "data source's fields. Payloads are null unless `includePayloads`; with payloads and "
                   "`secretPayloads`, the whole list is secret.",
    "counts": "How many members of the whole batch are in each status: every known status (" +
              _quoted(_ALL_STATUSES) + "), zeros included, plus any status Function Compute adds later.",
    "total": "How many invocations the whole batch has.",
    "all_terminal": "Whether every member of the batch has ended; false for an empty batch.",
    "all_succeeded": "Whether every member of the batch ended `Succeeded`; false for an empty batch.",
    "waited_seconds": "How long `pulumi up` waited for the batch, in seconds; null when it did not wait.",
    # The function's result.
    "id": "The batch's id `service[.qualifier]/function`, followed by the filters that are set as a query "
          "string (`?prefix=...&statuses=...&started_after=...&started_before=...&limit=...`).",
}



def _as_tasks(text: str) -> str:
    """FC 2.0's words for FC 3.0: invocation(s) → task(s), but never inside the package name."""
    return re.sub(r"(?<!fc-)invocation", "task", text.replace("invocations", "tasks"))


# FC 3.0's async task: the single data source's words where they fit, FC 3.0's names otherwise.
TASK_DESCRIPTIONS: dict[str, str] = {
    **{key: _as_tasks(value) for key, value in DESCRIPTIONS.items()
       if key not in ("service_name", "invocation_id", "invocation_error_message", "invocation_payload")},
    "function_name": "The FC 3.0 function of the task (a function of an FC 2.0 service is named "
                     "`service$function`).",
    "qualifier": "The function version or alias the task was invoked under (`LATEST`, a version number or an "
                 "alias name); null for none.",
    "task_id": "The id of the async task (the `x-fc-async-task-id` the function was invoked with): 1-128 "
               "letters, digits, `_` or `-`, starting with a letter or `_`.",
    "function_arn": "The ARN of the task's function, as Function Compute reports it.",
    "task_error_message": "The error message of a failed task; empty when none.",
    "task_payload": "The payload the function was invoked with. Secret unless `secretPayloads` is false.",
    "secret_payloads": "Whether `taskPayload` and `returnPayload` are marked secret (encrypted in state and "
                       "masked in output). A plain value, not an eventual one.",
    "region": "The Alibaba Cloud region of the function, e.g. `cn-hangzhou`. Defaults to "
              + _sources("region") + ".",
    "account_id": "The Alibaba Cloud account id that owns the function. Defaults to "
                  + _sources("account_id") + ".",
    "id": "The composite id `function[.qualifier]/taskId`.",
}

TASKS_DESCRIPTIONS: dict[str, str] = {
    **{key: _as_tasks(value) for key, value in
       BATCH_DESCRIPTIONS.items() if key not in ("service_name", "invocation_id_prefix", "invocations")},
    "function_name": TASK_DESCRIPTIONS["function_name"].replace("of the task", "of the batch"),
    "qualifier": "The function version or alias the batch's tasks were invoked under (`LATEST`, a version "
                 "number or an alias name); null for none.",
    "task_id_prefix": "Only tasks whose id starts with this prefix belong to the batch; null for all. Same "
                      "characters as a task id.",
    "tasks": "The returned members (those in `statuses`, at most `limit`), oldest first, with the single "
             "data source's fields. Payloads are null unless `includePayloads`; with payloads and "
             "`secretPayloads`, the whole list is secret.",
    "include_payloads": "Whether `tasks` carries each member's `taskPayload` and `returnPayload`; when false "
                        "they are null. With payloads (and `secretPayloads`), the whole `tasks` list is secret.",
    "secret_payloads": "With `includePayloads`, whether `tasks` is marked secret (encrypted in state and masked "
                       "in output). A plain value, not an eventual one.",
    "region": TASK_DESCRIPTIONS["region"],
    "account_id": TASK_DESCRIPTIONS["account_id"],
    "ids": "The composite ids `function[.qualifier]/taskId` of the returned members (those in `statuses`, at "
           "most `limit`), oldest first.",
    "id": "The batch's id `function[.qualifier]`, followed by the filters that are set as a query string "
          "(`?prefix=...&statuses=...&started_after=...&started_before=...&limit=...`).",
}

EVENT_DESCRIPTIONS: dict[str, str] = {
    "event_id": "The event's sequence number, when reported.",
    "status": "The invocation status the event recorded.",
    "timestamp": "When the event happened (RFC 3339, UTC, millisecond precision), when reported.",
    "event_detail": "Details of the event; empty when none.",
}

STATUS_DESCRIPTIONS: dict[str, str] = {
    "Enqueued": "Accepted and waiting in the async queue.",
    "Dequeued": "Taken from the queue, about to run.",
    "Running": "Running.",
    "Retrying": "Being retried after a failed attempt.",
    "Stopping": "Being stopped on request.",
    "Succeeded": "Ended successfully (terminal).",
    "Failed": "Ended with an error (terminal).",
    "Stopped": "Stopped on request (terminal).",
    "Expired": "Dropped because it stayed queued longer than the maximum event age (terminal).",
    "Invalid": "Marked invalid by Function Compute (terminal).",
}

RESOURCE_DESCRIPTION = (
    "A Function Compute stateful async invocation, read (never created, changed or deleted) and optionally "
    "waited for.\n\n"
    "With `waitForCompletion`, `pulumi up` waits until the invocation ends and fails the deployment when it "
    "ends in one of `failOnStatuses` or does not end within `timeoutSeconds`; resources that depend on this "
    "one deploy only after it passes. `pulumi preview` never waits.\n\n"
    "Import an existing invocation by its composite id `service[.qualifier]/function/invocationId`."
)
FUNCTION_DESCRIPTION = (
    "Read one Function Compute stateful async invocation now; fails when it has ended in one of "
    "`failOnStatuses`. A function never waits: to gate on the invocation, use `StatefulAsyncInvocation`."
)
BATCH_RESOURCE_DESCRIPTION = (
    "A batch of Function Compute stateful async invocations, read (never created, changed or deleted) and "
    "optionally waited for as a whole.\n\n"
    "The batch is every invocation of `serviceName[.qualifier]/functionName` whose id starts with "
    "`invocationIdPrefix` and that started within [`startedAfter`, `startedBefore`]. With "
    "`waitForCompletion`, `pulumi up` waits until at least `expectedCount` (default 1) exist and all have "
    "ended; it fails as soon as one ends in `failOnStatuses` (the message lists the first ten), or when "
    "`timeoutSeconds` pass. `pulumi preview` never waits.\n\n"
    "`counts`, `total`, `allTerminal` and `allSucceeded` describe the whole batch; `ids` and `invocations` "
    "list its members oldest first, only those in `statuses`, at most `limit`.\n\n"
    "Import a batch by its id `service[.qualifier]/function[?prefix=...&statuses=...&started_after=..."
    "&started_before=...&limit=...]`."
)
BATCH_FUNCTION_DESCRIPTION = (
    "Read a batch of Function Compute stateful async invocations now; fails when a member has ended in one "
    "of `failOnStatuses`. A function never waits: to gate on the batch, use `StatefulAsyncInvocations`."
)
INVOCATION_DESCRIPTION = (
    "One stateful async invocation, as the batch data source returns it: the fields of "
    "`getStatefulAsyncInvocation`."
)
TASK_RESOURCE_DESCRIPTION = (
    "A Function Compute 3.0 async task (API 2023-03-30), read (never created, changed or deleted) and "
    "optionally waited for.\n\n"
    "With `waitForCompletion`, `pulumi up` waits until the task ends and fails the deployment when it ends in "
    "one of `failOnStatuses` or does not end within `timeoutSeconds`; resources that depend on this one "
    "deploy only after it passes. `pulumi preview` never waits.\n\n"
    "Import an existing task by its composite id `function[.qualifier]/taskId`."
)
TASK_FUNCTION_DESCRIPTION = (
    "Read one Function Compute 3.0 async task now; fails when it has ended in one of `failOnStatuses`. "
    "A function never waits: to gate on the task, use `AsyncTask`."
)
TASKS_RESOURCE_DESCRIPTION = (
    "A batch of Function Compute 3.0 async tasks, read (never created, changed or deleted) and optionally "
    "waited for as a whole.\n\n"
    "The batch is every task of `functionName[.qualifier]` whose id starts with `taskIdPrefix` and that "
    "started within [`startedAfter`, `startedBefore`]. With `waitForCompletion`, `pulumi up` waits until at "
    "least `expectedCount` (default 1) exist and all have ended; it fails as soon as one ends in "
    "`failOnStatuses` (the message lists the first ten), or when `timeoutSeconds` pass. `pulumi preview` "
    "never waits.\n\n"
    "`counts`, `total`, `allTerminal` and `allSucceeded` describe the whole batch; `ids` and `tasks` list its "
    "members oldest first, only those in `statuses`, at most `limit`.\n\n"
    "Import a batch by its id `function[.qualifier][?prefix=...&statuses=...&started_after=..."
    "&started_before=...&limit=...]`."
)
TASKS_FUNCTION_DESCRIPTION = (
    "Read a batch of Function Compute 3.0 async tasks now; fails when a member has ended in one of "
    "`failOnStatuses`. A function never waits: to gate on the batch, use `AsyncTasks`."
)
TASK_DESCRIPTION = "One FC 3.0 async task, as the batch data source returns it: the fields of `getAsyncTask`."
PACKAGE_DESCRIPTION = (
    "Read Alibaba Cloud Function Compute async work -- FC 3.0 async tasks and FC 2.0 stateful async "
    "invocations -- and gate deployments on their completion."
)


# --- naming and types --------------------------------------------------------------------------


def camel(name: str) -> str:
    """``already_retried_times`` -> ``alreadyRetriedTimes`` (Pulumi schema property names)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _markdown(text: str) -> str:
    """Docstring RST literals (````x````) as Markdown code spans."""
    return re.sub(r"``(.+?)``", r"`\1`", text)


def _optional(annotation: Any) -> tuple[Any, bool]:
    """(inner type, whether None is allowed), through ``Annotated`` and ``Optional``/``X | None``."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _optional(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) != len(typing.get_args(annotation)):
            inner, _ = _optional(args[0] if len(args) == 1 else typing.Union[tuple(args)])
            return inner, True
    return annotation, False


# Inputs (and their echoes) that accept only known statuses: references to the InvocationStatus enum.
_STATUS_LISTS = ("fail_on_statuses", "statuses")

# Element types of the batch outputs annotated as a bare ``Output[list]`` (see the module docstring).
# ``StatefulAsyncInvocationResult`` stands for one member as ``result_outputs`` renders it: ``Invocation``.
BATCH_LIST_ITEMS: dict[str, Any] = {"ids": str, "invocations": StatefulAsyncInvocationResult}
TASKS_LIST_ITEMS: dict[str, Any] = {"ids": str, "tasks": AsyncTaskResult}


def _type_spec(annotation: Any, *, status_enum: bool = False) -> dict[str, Any]:
    """The Pulumi type reference for a Python annotation (None-ness is handled by the caller).

    ``status_enum`` makes strings references to the ``InvocationStatus`` enum: right for
    ``fail_on_statuses`` and ``statuses``, which accept only known statuses. The ``status`` output stays
    a plain string (with the statuses listed in its description), because a status FC adds later passes
    through.
    """
    annotation, _ = _optional(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, UnionType):  # e.g. ``str | datetime``: fine when every member is the same
        specs = [_type_spec(a, status_enum=status_enum) for a in typing.get_args(annotation)]
        if any(spec != specs[0] for spec in specs):
            raise TypeError(f"schema: cannot describe {annotation!r} (its members have different Pulumi types)")
        return specs[0]
    if origin in (tuple, list, collections.abc.Sequence):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        if len(args) != 1:
            raise TypeError(f"schema: cannot describe {annotation!r} (need one element type)")
        return {"type": "array", "items": _type_spec(args[0], status_enum=status_enum)}
    if origin in (dict, collections.abc.Mapping):
        key, value = typing.get_args(annotation) or (None, None)
        if key is not str:
            raise TypeError(f"schema: cannot describe {annotation!r} (need a map with str keys and a value type)")
        return {"type": "object", "additionalProperties": _type_spec(value, status_enum=status_enum)}
    if isinstance(annotation, type):
        if status_enum and issubclass(annotation, str):
            return {"type": "string", "$ref": f"#/types/{STATUS_TOKEN}"}
        if issubclass(annotation, InvocationEvent):
            return {"type": "object", "$ref": f"#/types/{EVENT_TOKEN}"}
        if issubclass(annotation, StatefulAsyncInvocationResult):
            return {"type": "object", "$ref": f"#/types/{INVOCATION_TOKEN}"}
        if issubclass(annotation, AsyncTaskResult):
            return {"type": "object", "$ref": f"#/types/{TASK_TOKEN}"}
        for python_type, pulumi_type in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
                                         (datetime, "string")):
            if issubclass(annotation, python_type):
                return {"type": pulumi_type}
    raise TypeError(f"schema: no Pulumi type for annotation {annotation!r}")


def _property(name: str, spec: dict[str, Any], descriptions: dict[str, str]) -> dict[str, Any]:
    if name not in descriptions:
        where = {id(BATCH_DESCRIPTIONS): "BATCH_DESCRIPTIONS", id(TASK_DESCRIPTIONS): "TASK_DESCRIPTIONS",
                 id(TASKS_DESCRIPTIONS): "TASKS_DESCRIPTIONS"}.get(id(descriptions), "DESCRIPTIONS")
        raise KeyError(f"schema: no description for {name!r}; add one to {where} in pulumi_fc_invocation/schema.py")
    return {**spec, "description": descriptions[name]}


# --- what code knows ---------------------------------------------------------------------------


def _output_annotations(cls: type, keys: Any, module: Any) -> dict[str, Any]:
    """The declared ``Output[...]`` annotations of a resource's outputs, evaluated, ``Output`` unwrapped."""
    declared = cls.__annotations__
    missing = [key for key in keys if key not in declared]
    if missing:
        raise KeyError(f"schema: {cls.__name__} declares no annotation for outputs {missing}")

    def holder() -> None: ...

    holder.__annotations__ = {key: declared[key] for key in keys}
    hints = typing.get_type_hints(holder, globalns=vars(module))
    out = {}
    for key, hint in hints.items():
        if typing.get_origin(hint) is not module.Output:
            raise TypeError(f"schema: output {key!r} of {cls.__name__} is annotated {hint!r}, not Output[...]")
        (out[key],) = typing.get_args(hint)
    return out


def _field_types(model: Any = StatefulAsyncInvocationResult) -> dict[str, Any]:
    """Python types of an item's outputs: model fields, then result properties (``is_terminal``)."""
    types: dict[str, Any] = {name: info.annotation for name, info in model.model_fields.items()}
    for name, member in inspect.getmembers(model, lambda m: isinstance(m, property)):
        if name not in types:
            hint = typing.get_type_hints(member.fget).get("return")
            if hint is not None:
                types[name] = hint
    return types


def _inputs(function: Any, constructor: Any,
            descriptions: dict[str, str]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Input property specs and required inputs from the function's and the constructor's signatures."""
    hints = typing.get_type_hints(function)
    fn_params = inspect.signature(function).parameters
    ctor_params = {name: p for name, p in inspect.signature(constructor).parameters.items()
                   if name not in ("self", "resource_name", "opts")}
    if list(ctor_params) != list(fn_params):
        raise TypeError(f"schema: the constructor's arguments {list(ctor_params)} differ from the function's "
                        f"{list(fn_params)}")
    properties: dict[str, dict[str, Any]] = {}
    required: list[str] = []
    for name, param in fn_params.items():
        spec = _type_spec(hints[name], status_enum=name in _STATUS_LISTS)
        default = param.default
        if default is inspect.Parameter.empty:
            required.append(camel(name))
        elif default is not None:
            if ctor_params[name].default != default:
                raise ValueError(f"schema: default of {name!r} differs: constructor "
                                 f"{ctor_params[name].default!r}, function {default!r}")
            spec["default"] = default
        if "Input[" not in str(ctor_params[name].annotation):
            spec["plain"] = True
        properties[camel(name)] = _property(name, spec, descriptions)
    return properties, sorted(required)


def _outputs(keys: Any, types: dict[str, Any], optional: dict[str, bool], descriptions: dict[str, str],
             secret: Any = ()) -> tuple[dict[str, Any], list[str]]:
    properties: dict[str, dict[str, Any]] = {}
    required: list[str] = []
    for key in keys:
        spec = _type_spec(types[key], status_enum=key in _STATUS_LISTS)
        if key in secret:
            spec["secret"] = True
        properties[camel(key)] = _property(key, spec, descriptions)
        if not optional[key]:
            required.append(camel(key))
    return properties, sorted(required)


def _event_type() -> dict[str, Any]:
    properties: dict[str, dict[str, Any]] = {}
    required: list[str] = []
    for name, info in InvocationEvent.model_fields.items():
        alias = info.alias or camel(name)
        _, nullable = _optional(info.annotation)
        properties[alias] = _property(name, _type_spec(info.annotation), EVENT_DESCRIPTIONS)
        if not nullable:
            required.append(alias)
    doc = _markdown(inspect.getdoc(InvocationEvent) or "").strip()
    return {"type": "object", "description": doc, "properties": properties, "required": sorted(required)}


def _status_type() -> dict[str, Any]:
    values = []
    for status in InvocationStatus:
        if status.value not in STATUS_DESCRIPTIONS:
            raise KeyError(f"schema: no description for status {status.value!r}")
        values.append({"name": status.value, "value": status.value, "description": STATUS_DESCRIPTIONS[status.value]})
    doc = inspect.getdoc(InvocationStatus) or ""
    return {"type": "string", "description": _markdown(doc.split("\n\n")[0]).strip(), "enum": values}


# The provider plugin's settings (``fc-invocation:<name>``), keyed by the credential chain's setting they feed.
SETTING_DESCRIPTIONS: dict[str, str] = {
    "access_key_id": "The AccessKey id of the credentials.",
    "access_key_secret": "The AccessKey secret of the credentials (set it as a secret).",
    "security_token": "The STS security token that goes with a temporary AccessKey.",
    "region": "The Alibaba Cloud region of the functions, e.g. `cn-hangzhou`.",
    "account_id": "The Alibaba Cloud account id that owns the functions.",
    "endpoint": "The Function Compute endpoint URL, overriding the one derived from `accountId` and `region`.",
    "profile": "The profile to use in `~/.aliyun/config.json` or the shared credentials file.",
    "credentials_file": "The shared credentials file (`credentials.ini`) to read the profile from.",
    "assume_role_with_oidc": "Assume a RAM role with an OIDC token: `roleArn`, `oidcProviderArn`, "
                             "`oidcTokenFile` (or `oidcToken`), optional `sessionName`, `sessionExpiration`, "
                             "`policy`.",
    "assume_role": "Assume a RAM role with the credentials found otherwise: `roleArn`, optional `sessionName`, "
                   "`sessionExpiration`, `externalId`, `policy`.",
    "ecs_role_name": "The RAM role of the ECS instance, read from the instance metadata.",
    "credentials_uri": "A URI that serves temporary credentials (the credentials URI protocol).",
}
SECRET_SETTINGS = ("access_key_secret", "security_token")
OBJECT_SETTINGS = ("assume_role_with_oidc", "assume_role")


def _config() -> dict[str, Any]:
    """The provider plugin's settings: ``fc-invocation:<name>`` for each Pulumi config key the credential
    chain reads (the plugin feeds its own settings to the chain under those keys, see
    :func:`.plugin.provider.config_key`); the environment and the shared files stay its fallbacks."""
    variables = {}
    for setting, entry in SETTING_SOURCES.items():
        for key in entry["config"]:
            name = key.partition(":")[2]
            if setting not in SETTING_DESCRIPTIONS:
                raise KeyError(f"schema: no description for the provider setting {name!r} ({setting})")
            env = f" Defaults to environment {_quoted(entry['env'])}." if entry["env"] else ""
            spec: dict[str, Any] = ({"$ref": "pulumi.json#/Any"} if setting in OBJECT_SETTINGS
                                    else {"type": "string"})
            spec["description"] = SETTING_DESCRIPTIONS[setting] + env
            if setting in SECRET_SETTINGS:
                spec["secret"] = True
            variables[name] = spec
    return {"variables": variables}


def _provider() -> dict[str, Any]:
    """An explicit provider resource (``pulumi:providers:fc-invocation``) takes the same settings."""
    return {"description": "The provider plugin `fc-invocation`: its settings, as `fc-invocation:<name>` "
                           "configuration or the inputs of an explicit provider resource.",
            "inputProperties": copy.deepcopy(_config()["variables"])}


# What only a gate does: the plugin's functions read now and never wait (an Invoke does not know whether
# it runs in a preview), so their inputs leave these out; the Python function forms keep them.
WAIT_INPUTS = ("wait_for_completion", "timeout_seconds", "poll_interval_seconds", "max_poll_interval_seconds",
               "use_duration_history")


def _function_inputs(inputs: dict[str, Any], required: list[str]) -> dict[str, Any]:
    waits = {camel(name) for name in WAIT_INPUTS}
    return {"type": "object", "properties": {k: copy.deepcopy(v) for k, v in inputs.items() if k not in waits},
            "required": [k for k in required if k not in waits]}


class _Api:
    """What the schema of one API's two data sources is made of (FC 2.0 invocations, FC 3.0 tasks)."""

    def __init__(self, kind: Kind, model: Any, descriptions: dict[str, str], batch_descriptions: dict[str, str],
                 list_items: dict[str, Any], texts: tuple[str, str, str, str, str], tokens: tuple[str, ...],
                 names: tuple[str, str, str, str, str]) -> None:
        self.kind, self.model = kind, model
        self.descriptions, self.batch_descriptions, self.list_items = descriptions, batch_descriptions, list_items
        (self.resource_text, self.function_text, self.batch_resource_text, self.batch_function_text,
         self.member_text) = texts
        self.resource_token, self.function_token, self.batch_resource_token, self.batch_function_token, \
            self.member_token = tokens
        self.single_class, self.single_function, self.batch_class, self.batch_function, self.batch_result = names


_APIS = (
    _Api(FC3, AsyncTaskResult, TASK_DESCRIPTIONS, TASKS_DESCRIPTIONS, TASKS_LIST_ITEMS,
         (TASK_RESOURCE_DESCRIPTION, TASK_FUNCTION_DESCRIPTION, TASKS_RESOURCE_DESCRIPTION,
          TASKS_FUNCTION_DESCRIPTION, TASK_DESCRIPTION),
         (TASK_RESOURCE_TOKEN, TASK_FUNCTION_TOKEN, TASKS_RESOURCE_TOKEN, TASKS_FUNCTION_TOKEN, TASK_TOKEN),
         ("AsyncTask", "get_async_task", "AsyncTasks", "get_async_tasks", "GetAsyncTasksResult")),
    _Api(FC2, StatefulAsyncInvocationResult, DESCRIPTIONS, BATCH_DESCRIPTIONS, BATCH_LIST_ITEMS,
         (RESOURCE_DESCRIPTION, FUNCTION_DESCRIPTION, BATCH_RESOURCE_DESCRIPTION, BATCH_FUNCTION_DESCRIPTION,
          INVOCATION_DESCRIPTION),
         (RESOURCE_TOKEN, FUNCTION_TOKEN, BATCH_RESOURCE_TOKEN, BATCH_FUNCTION_TOKEN, INVOCATION_TOKEN),
         ("StatefulAsyncInvocation", "get_stateful_async_invocation", "StatefulAsyncInvocations",
          "get_stateful_async_invocations", "GetStatefulAsyncInvocationsResult")),
)


def _single(api: _Api = _APIS[1]) -> dict[str, Any]:
    """A single data source: its resource, its function and the member type (one member of a batch)."""
    from .pulumi import functions, resources

    kind, descriptions = api.kind, api.descriptions
    cls, function = getattr(resources, api.single_class), getattr(functions, api.single_function)
    declared = _output_annotations(cls, kind.output_keys, resources)
    optional = {key: _optional(hint)[1] for key, hint in declared.items()}
    types = _field_types(api.model)
    fn_hints = typing.get_type_hints(function)
    for key in kind.output_keys:
        types.setdefault(key, fn_hints.get(key, declared[key]))
    secret = kind.payload_keys

    inputs, required_inputs = _inputs(function, cls.__init__, descriptions)
    outputs, required_outputs = _outputs(kind.output_keys, types, optional, descriptions, secret)

    # The function returns the item's outputs (plus the composite id): no gate settings.
    sample = api.model.model_validate({kind.id_key: "schema", "status": InvocationStatus.RUNNING.value})
    function_keys = list(kind.outputs(sample))
    types["id"], optional["id"] = str, False
    fn_outputs, fn_required = _outputs(["id", *function_keys], types, optional, descriptions, secret)
    # One member of a batch: the same fields, without the id.
    member, member_required = _outputs(function_keys, types, optional, descriptions, secret)

    return {
        "resource": {
            "description": api.resource_text,
            "inputProperties": inputs,
            "requiredInputs": required_inputs,
            "properties": outputs,
            "required": required_outputs,
        },
        "function": {
            "description": api.function_text,
            "inputs": _function_inputs(inputs, required_inputs),
            "outputs": {"type": "object", "properties": fn_outputs, "required": fn_required},
        },
        "member": {"type": "object", "description": api.member_text, "properties": member,
                   "required": member_required},
    }


def _batch_function_keys(api: _Api = _APIS[1]) -> list[str]:
    """The attributes of what the batch function returns, from its own builder, in order."""
    from .batching import BatchSpec, BatchSummary
    from .pulumi import functions
    from .pulumi.gating import batch_output_keys

    spec = BatchSpec.build(kind=api.kind, service_name="schema", function_name="schema")
    result = functions.batch_result(getattr(functions, api.batch_result), spec, BatchSummary(spec, []), None)
    keys = ["id", *(key for key in vars(result) if key != "id")]
    unknown = [key for key in keys if key != "id" and key not in batch_output_keys(api.kind)]
    if unknown:
        raise KeyError(f"schema: {api.batch_function} returns {unknown}, which its output keys lack")
    return keys


def _batch(api: _Api = _APIS[1]) -> dict[str, Any]:
    """A batch data source and its function."""
    from .pulumi import functions, resources
    from .pulumi.gating import batch_output_keys

    keys, descriptions = batch_output_keys(api.kind), api.batch_descriptions
    cls, function = getattr(resources, api.batch_class), getattr(functions, api.batch_function)
    declared = _output_annotations(cls, keys, resources)
    optional = {key: _optional(hint)[1] for key, hint in declared.items()}
    fn_hints = typing.get_type_hints(function)
    types: dict[str, Any] = {}
    for key in keys:
        hint = fn_hints.get(key, declared[key])
        if _optional(hint)[0] is list:  # a bare ``list``: the element type is not in the annotation
            if key not in api.list_items:
                raise TypeError(f"schema: output {key!r} of {api.batch_class} is a bare list; annotate its "
                                f"element type or add it to the list items in pulumi_fc_invocation/schema.py")
            hint = list[api.list_items[key]]  # type: ignore[index]
        types[key] = hint

    inputs, required_inputs = _inputs(function, cls.__init__, descriptions)
    outputs, required_outputs = _outputs(keys, types, optional, descriptions)
    types["id"], optional["id"] = str, False
    fn_outputs, fn_required = _outputs(_batch_function_keys(api), types, optional, descriptions)
    return {
        "resource": {
            "description": api.batch_resource_text,
            "inputProperties": inputs,
            "requiredInputs": required_inputs,
            "properties": outputs,
            "required": required_outputs,
        },
        "function": {
            "description": api.batch_function_text,
            "inputs": _function_inputs(inputs, required_inputs),
            "outputs": {"type": "object", "properties": fn_outputs, "required": fn_required},
        },
    }


def build_schema() -> dict[str, Any]:
    """The package schema as a dict: FC 3.0's data sources and FC 2.0's, built the same way."""
    resources: dict[str, Any] = {}
    functions: dict[str, Any] = {}
    types: dict[str, Any] = {EVENT_TOKEN: _event_type(), STATUS_TOKEN: _status_type()}
    for api in _APIS:
        single, batch = _single(api), _batch(api)
        resources[api.resource_token], resources[api.batch_resource_token] = single["resource"], batch["resource"]
        functions[api.function_token], functions[api.batch_function_token] = single["function"], batch["function"]
        types[api.member_token] = single["member"]
    schema: dict[str, Any] = {
        "name": PACKAGE,
        "displayName": DISPLAY_NAME,
        "description": PACKAGE_DESCRIPTION,
        "version": __version__,
        "keywords": KEYWORDS,
        "license": LICENSE,
        "config": _config(),
        "provider": _provider(),
        "resources": resources,
        "functions": functions,
        "types": types,
        # The generated SDKs name the plugin at this version (not pkg/v3's placeholders ${VERSION}/0.0.0), with
        # either generator: `pulumi package gen-sdk` or tools/engine/gensdk.
        "language": {"nodejs": {"respectSchemaVersion": True}, "go": {"respectSchemaVersion": True},
                     "python": {"packageName": PYTHON_PACKAGE, "respectSchemaVersion": True}},
    }
    if REPOSITORY:
        schema["repository"] = REPOSITORY
    return schema


def render(schema: Optional[dict[str, Any]] = None) -> str:
    """Deterministic text: sorted keys, two-space indent, ASCII, one trailing newline."""
    return json.dumps(build_schema() if schema is None else schema, indent=2, sort_keys=True) + "\n"


def main() -> int:
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
