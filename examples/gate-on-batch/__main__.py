"""Release the new player only once every transcode task of the batch has succeeded.

`pulumi up` waits until at least `expectedCount` tasks whose ids start with `prefix` exist and all have
ended, logging progress against the `transcodes` resource every 30 s; it fails as soon as one task fails
(listing the first ten failures), or after `timeoutSeconds`. `pulumi preview` reads the batch once and
never waits. Polling lists the batch page by page (100 tasks per call), not task by task.
"""

import pulumi
import pulumi.dynamic

from pulumi_fc_invocation import StatefulAsyncInvocations

config = pulumi.Config()

transcodes = StatefulAsyncInvocations(
    "transcodes",
    service_name=config.get("service") or "video",
    function_name=config.get("function") or "transcode",
    qualifier=config.get("qualifier") or None,
    invocation_id_prefix=config.require("prefix"),
    expected_count=config.require_int("expectedCount"),
    wait_for_completion=True,
    timeout_seconds=config.get_int("timeoutSeconds") or 3600,
)

# The same batch, returning only its failed members: reads once, never fails on them.
failed = StatefulAsyncInvocations(
    "failed-transcodes",
    service_name=transcodes.service_name,
    function_name=transcodes.function_name,
    qualifier=transcodes.qualifier,
    invocation_id_prefix=transcodes.invocation_id_prefix,
    statuses=["Failed", "Stopped", "Expired", "Invalid"],
    limit=50,
    fail_on_statuses=[],
    opts=pulumi.ResourceOptions(depends_on=[transcodes]),
)


class _ReleaseProvider(pulumi.dynamic.ResourceProvider):
    """Stands in for the real deployment step (a CDN switch, a Kubernetes rollout...)."""

    def create(self, props):
        return pulumi.dynamic.CreateResult(f"release-{props['version']}", {**props})


class Release(pulumi.dynamic.Resource):
    version: pulumi.Output[str]
    tasks: pulumi.Output[int]

    def __init__(self, name, version, tasks, opts=None):
        super().__init__(_ReleaseProvider(), name, {"version": version, "tasks": tasks}, opts)


release = Release("player-release", version="2.0.0", tasks=transcodes.total,
                  opts=pulumi.ResourceOptions(depends_on=[transcodes]))  # the gate

pulumi.export("batchTotal", transcodes.total)
pulumi.export("batchCounts", transcodes.counts)
pulumi.export("allSucceeded", transcodes.all_succeeded)
pulumi.export("failedIds", failed.ids)
pulumi.export("releaseId", release.id)
