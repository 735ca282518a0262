"""``AsyncTask``: one FC 3.0 async task (API 2023-03-30), read and optionally waited for."""

from __future__ import annotations

from .common import Words, gate_and_settings, item_fields, secret_payloads, waited
from .fields import REQUIRED, DataSource, Field, Member

__all__ = ["WORDS", "ASYNC_TASK"]

WORDS = Words(noun="task", nouns="tasks", a_noun="a task", owner="function", payload="taskPayload")
_item = item_fields(WORDS)

FUNCTION = Field("function_name", str, "The FC 3.0 function of the task (a function of an FC 2.0 service is named "
                                       "`service$function`).", default=REQUIRED)
QUALIFIER = Field("qualifier", str, "The function version or alias the task was invoked under (`LATEST`, a "
                                    "version number or an alias name); null for none.", nullable=True)
TASK_ID = Field("task_id", str, "The id of the async task (the `x-fc-async-task-id` the function was invoked "
                                "with): 1-128 letters, digits, `_` or `-`, starting with a letter or `_`.",
                default=REQUIRED)

ASYNC_TASK = DataSource(
    name="AsyncTask", api="fc3", batch=False, function="get_async_task", what="one FC 3.0 async task",
    doc=("A Function Compute 3.0 async task (API 2023-03-30), read (never created, changed or deleted) and "
         "optionally waited for.\n\n"
         "With `waitForCompletion`, `pulumi up` waits until the task ends and fails the deployment when it ends in "
         "one of `failOnStatuses` or does not end within `timeoutSeconds`; resources that depend on this one "
         "deploy only after it passes. `pulumi preview` never waits.\n\n"
         "Import an existing task by its composite id `function[.qualifier]/taskId`."),
    function_doc=("Read one Function Compute 3.0 async task now; fails when it has ended in one of "
                  "`failOnStatuses`. A function never waits: to gate on the task, use `AsyncTask`."),
    inputs=(FUNCTION, TASK_ID, QUALIFIER, *gate_and_settings(
                WORDS, False, secret_payloads("Whether `taskPayload` and `returnPayload` are")),
            Field("not_found_grace_seconds", float,
                  "With `waitForCompletion`, how long a task that Function Compute does not know yet is polled for "
                  "before the gate fails as not found, in seconds (FC may list a task that was just invoked a moment "
                  "late; a pipeline that invokes and deploys at once may need longer); 0 fails at the first "
                  "not-found.", default=10.0, waits=True)),
    positional=3,
    results=(
        FUNCTION, QUALIFIER, TASK_ID,
        Field("function_arn", str, "The ARN of the task's function, as Function Compute reports it."),
        _item["request_id"], _item["status"], _item["destination_status"],
        Field("task_error_message", str, "The error message of a failed task; empty when none."),
        Field("task_payload", str, "The payload the function was invoked with. Secret unless `secretPayloads` is "
                                   "false.", nullable=True, secret=True),
        *(_item[k] for k in ("return_payload", "already_retried_times", "started_time", "end_time", "duration_ms",
                             "instance_id", "events", "is_terminal")),
    ),
    waited=waited("the task"),
    id=Field("id", str, "The composite id `function[.qualifier]/taskId`."),
    member=Member("Task", "AsyncTask"),
    member_doc="One FC 3.0 async task, as the batch data source returns it: the fields of `getAsyncTask`.",
    id_key="task_id",
)
