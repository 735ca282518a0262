"""``StatefulAsyncInvocations``: a batch of FC 2.0 stateful async invocations (one function's, by id prefix
and start time), read and optionally waited for as a whole."""

from __future__ import annotations

from .common import batch_inputs, batch_results, gate_and_settings, id_filters, secret_payloads, waited
from .fields import REQUIRED, DataSource, Field
from .stateful_async_invocation import STATEFUL_ASYNC_INVOCATION, WORDS

__all__ = ["STATEFUL_ASYNC_INVOCATIONS"]

_selection = batch_inputs(WORDS, "invocation_id_prefix", "invocations")

STATEFUL_ASYNC_INVOCATIONS = DataSource(
    name="StatefulAsyncInvocations", api="fc2", batch=True, function="get_stateful_async_invocations",
    what="a batch",
    doc=("A batch of Function Compute stateful async invocations, read (never created, changed or deleted) and "
         "optionally waited for as a whole.\n\n"
         "The batch is every invocation of `serviceName[.qualifier]/functionName` whose id starts with "
         "`invocationIdPrefix` and that started within [`startedAfter`, `startedBefore`]. With "
         "`waitForCompletion`, `pulumi up` waits until at least `expectedCount` (default 1) exist and all have "
         "ended; it fails as soon as one ends in `failOnStatuses` (the message lists the first ten), or when "
         "`timeoutSeconds` pass. `pulumi preview` never waits.\n\n"
         "`counts`, `total`, `allTerminal` and `allSucceeded` describe the whole batch; `ids` and `invocations` "
         "list its members oldest first, only those in `statuses`, at most `limit`.\n\n"
         "Import a batch by its id `service[.qualifier]/function[?prefix=...&statuses=...&started_after=..."
         "&started_before=...&limit=...]`."),
    function_doc=("Read a batch of Function Compute stateful async invocations now; fails when a member has ended "
                  "in one of `failOnStatuses`. A function never waits: to gate on the batch, use "
                  "`StatefulAsyncInvocations`."),
    inputs=(
        Field("service_name", str, "The Function Compute service of the batch.", default=REQUIRED),
        Field("function_name", str, "The function of the batch.", default=REQUIRED),
        Field("qualifier", str, "The service version or alias the batch's invocations were made under (`LATEST`, "
                                "a version number or an alias name); null for none.", nullable=True),
        *(_selection[k] for k in ("invocation_id_prefix", "statuses", "started_after", "started_before", "limit",
                                  "include_payloads")),
        *gate_and_settings(WORDS, True, secret_payloads("With `includePayloads`, whether `invocations` is"),
                           expected_count=_selection["expected_count"]),
    ),
    positional=3,
    results=batch_results(WORDS, "invocations", STATEFUL_ASYNC_INVOCATION.member,  # type: ignore[arg-type]
                          "`service[.qualifier]/function/invocationId`"),
    waited=waited("the batch"),
    id=Field("id", str, "The batch's id `service[.qualifier]/function`, followed by the filters that are set as a "
                        "query string (`?prefix=...&statuses=...&started_after=...&started_before=...&limit=...`)."),
    id_key="invocation_id_prefix",
    id_filters=id_filters("invocation_id_prefix"),
    items_key="invocations",
)
