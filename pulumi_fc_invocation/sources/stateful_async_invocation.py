"""``StatefulAsyncInvocation``: one FC 2.0 stateful async invocation, read and optionally waited for."""

from __future__ import annotations

from .common import Words, gate_and_settings, item_fields, secret_payloads, waited
from .fields import REQUIRED, DataSource, Field, Member

__all__ = ["WORDS", "STATEFUL_ASYNC_INVOCATION"]

WORDS = Words(noun="invocation", nouns="invocations", a_noun="an invocation", owner="service",
              payload="invocationPayload")
_item = item_fields(WORDS)

SERVICE = Field("service_name", str, "The Function Compute service of the invocation.", default=REQUIRED)
FUNCTION = Field("function_name", str, "The function of the invocation.", default=REQUIRED)
QUALIFIER = Field("qualifier", str, "The service version or alias the invocation was made under (`LATEST`, a "
                                    "version number or an alias name); null for none.", nullable=True)
INVOCATION_ID = Field("invocation_id", str, "The id of the stateful async invocation (the "
                      "`X-Fc-Stateful-Async-Invocation-Id` the function was invoked with): 1-128 letters, digits, "
                      "`_` or `-`, starting with a letter or `_`.", default=REQUIRED)

STATEFUL_ASYNC_INVOCATION = DataSource(
    name="StatefulAsyncInvocation", api="fc2", batch=False, function="get_stateful_async_invocation",
    what="one invocation",
    doc=("A Function Compute stateful async invocation, read (never created, changed or deleted) and optionally "
         "waited for.\n\n"
         "With `waitForCompletion`, `pulumi up` waits until the invocation ends and fails the deployment when it "
         "ends in one of `failOnStatuses` or does not end within `timeoutSeconds`; resources that depend on this "
         "one deploy only after it passes. `pulumi preview` never waits.\n\n"
         "Import an existing invocation by its composite id `service[.qualifier]/function/invocationId`."),
    function_doc=("Read one Function Compute stateful async invocation now; fails when it has ended in one of "
                  "`failOnStatuses`. A function never waits: to gate on the invocation, use "
                  "`StatefulAsyncInvocation`."),
    inputs=(SERVICE, FUNCTION, INVOCATION_ID, QUALIFIER, *gate_and_settings(
                WORDS, False, secret_payloads("Whether `invocationPayload` and `returnPayload` are"))),
    positional=4,
    results=(
        SERVICE, FUNCTION, QUALIFIER, INVOCATION_ID, _item["request_id"], _item["status"],
        _item["destination_status"],
        Field("invocation_error_message", str, "The error message of a failed invocation; empty when none."),
        Field("invocation_payload", str, "The payload the function was invoked with. Secret unless "
                                         "`secretPayloads` is false.", nullable=True, secret=True),
        *(_item[k] for k in ("return_payload", "already_retried_times", "started_time", "end_time", "duration_ms",
                             "instance_id", "events", "is_terminal")),
    ),
    waited=waited("the invocation"),
    id=Field("id", str, "The composite id `service[.qualifier]/function/invocationId`."),
    member=Member("Invocation", "StatefulAsyncInvocation"),
    member_doc=("One stateful async invocation, as the batch data source returns it: the fields of "
                "`getStatefulAsyncInvocation`."),
    id_key="invocation_id",
)
