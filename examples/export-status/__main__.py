"""Read one task by composite id, both as a resource and with the function form, and export it."""

import pulumi

from pulumi_fc_invocation import InvocationRef, StatefulAsyncInvocation, get_stateful_async_invocation_output

composite = pulumi.Config().require("invocation")  # e.g. video.prod/transcode/video-123

# As a (read-only) resource: appears in the stack, refreshed by `pulumi refresh`.
task = StatefulAsyncInvocation.get("task", composite)

# As a function: nothing in the stack but the exports.
ref = InvocationRef.parse(composite)
info = get_stateful_async_invocation_output(ref.service_name, ref.function_name, ref.invocation_id,
                                            qualifier=ref.qualifier)

pulumi.export("id", task.id)
pulumi.export("status", task.status)
pulumi.export("isTerminal", task.is_terminal)
pulumi.export("startedTime", task.started_time)
pulumi.export("retries", task.already_retried_times)
pulumi.export("functionStatus", info.status)
pulumi.export("functionRequestId", info.request_id)
