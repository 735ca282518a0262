"""Release the new player only once the FC 3.0 transcode task has succeeded, and export its outcome.

`pulumi up` waits for the task (progress is shown against the `transcode` resource); if the task
fails, is stopped, expires or times out, the update fails and `player-release` is not deployed.
`pulumi preview` reads the task once and never waits.
"""

import pulumi
import pulumi.dynamic

from pulumi_fc_invocation import AsyncTask

config = pulumi.Config()

transcode = AsyncTask(
    "transcode",
    function_name=config.get("function") or "transcode",
    task_id=config.require("taskId"),
    qualifier=config.get("qualifier") or None,
    wait_for_completion=True,
    timeout_seconds=config.get_int("timeoutSeconds") or 1800,
)


class _ReleaseProvider(pulumi.dynamic.ResourceProvider):
    """Stands in for the real deployment step (a CDN switch, a Kubernetes rollout...)."""

    def create(self, props):
        return pulumi.dynamic.CreateResult(f"release-{props['version']}", {**props})


class Release(pulumi.dynamic.Resource):
    version: pulumi.Output[str]
    source_task: pulumi.Output[str]

    def __init__(self, name, version, source_task, opts=None):
        super().__init__(_ReleaseProvider(), name, {"version": version, "source_task": source_task}, opts)


release = Release(
    "player-release",
    version=config.get("version") or "2.0.0",
    source_task=transcode.task_id,
    opts=pulumi.ResourceOptions(depends_on=[transcode]),  # the gate
)

pulumi.export("taskStatus", transcode.status)
pulumi.export("taskArn", transcode.function_arn)
pulumi.export("taskEndTime", transcode.end_time)
pulumi.export("taskDurationMs", transcode.duration_ms)
pulumi.export("taskRetries", transcode.already_retried_times)
pulumi.export("taskResult", transcode.return_payload)  # secret: payloads may hold user data
pulumi.export("releaseId", release.id)
