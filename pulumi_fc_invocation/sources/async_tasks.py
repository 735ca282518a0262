"""``AsyncTasks``: a batch of FC 3.0 async tasks (one function's, by id prefix and start time), read and
optionally waited for as a whole."""

from __future__ import annotations

from .async_task import ASYNC_TASK, WORDS
from .common import batch_inputs, batch_results, gate_and_settings, id_filters, secret_payloads, waited
from .fields import REQUIRED, DataSource, Field

__all__ = ["ASYNC_TASKS"]

_selection = batch_inputs(WORDS, "task_id_prefix", "tasks")

ASYNC_TASKS = DataSource(
    name="AsyncTasks", api="fc3", batch=True, function="get_async_tasks", what="a batch of FC 3.0 tasks",
    doc=("A batch of Function Compute 3.0 async tasks, read (never created, changed or deleted) and optionally "
         "waited for as a whole.\n\n"
         "The batch is every task of `functionName[.qualifier]` whose id starts with `taskIdPrefix` and that "
         "started within [`startedAfter`, `startedBefore`]. With `waitForCompletion`, `pulumi up` waits until at "
         "least `expectedCount` (default 1) exist and all have ended; it fails as soon as one ends in "
         "`failOnStatuses` (the message lists the first ten), or when `timeoutSeconds` pass. `pulumi preview` "
         "never waits.\n\n"
         "`counts`, `total`, `allTerminal` and `allSucceeded` describe the whole batch; `ids` and `tasks` list its "
         "members oldest first, only those in `statuses`, at most `limit`.\n\n"
         "Import a batch by its id `function[.qualifier][?prefix=...&statuses=...&started_after=..."
         "&started_before=...&limit=...]`."),
    function_doc=("Read a batch of Function Compute 3.0 async tasks now; fails when a member has ended in one of "
                  "`failOnStatuses`. A function never waits: to gate on the batch, use `AsyncTasks`."),
    inputs=(
        Field("function_name", str, "The FC 3.0 function of the batch (a function of an FC 2.0 service is named "
                                    "`service$function`).", default=REQUIRED),
        Field("qualifier", str, "The function version or alias the batch's tasks were invoked under (`LATEST`, a "
                                "version number or an alias name); null for none.", nullable=True),
        *(_selection[k] for k in ("task_id_prefix", "statuses", "started_after", "started_before", "limit",
                                  "include_payloads")),
        *gate_and_settings(WORDS, True, secret_payloads("With `includePayloads`, whether `tasks` is"),
                           expected_count=_selection["expected_count"]),
    ),
    positional=2,
    results=batch_results(WORDS, "tasks", ASYNC_TASK.member, "`function[.qualifier]/taskId`"),  # type: ignore[arg-type]
    waited=waited("the batch"),
    id=Field("id", str, "The batch's id `function[.qualifier]`, followed by the filters that are set as a query "
                        "string (`?prefix=...&statuses=...&started_after=...&started_before=...&limit=...`)."),
    id_key="task_id_prefix",
    id_filters=id_filters("task_id_prefix"),
    items_key="tasks",
)
