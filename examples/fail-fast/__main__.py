"""A gate on a task that failed: the update stops with the task's status, error and request id,
and the gated resource is never deployed. `pulumi preview` shows the same error without waiting."""

import pulumi
import pulumi.dynamic

from pulumi_fc_invocation import StatefulAsyncInvocation

migration = StatefulAsyncInvocation.get(
    "db-migration",
    pulumi.Config().require("invocation"),
    wait_for_completion=True,
    timeout_seconds=600,
    fail_on_statuses=["Failed", "Stopped", "Expired", "Invalid"],
)



class _AppProvider(pulumi.dynamic.ResourceProvider):
    """Stands in for the real application release."""

    def create(self, props):
        return pulumi.dynamic.CreateResult(f"app-{props['version']}", {**props})


class AppVersion(pulumi.dynamic.Resource):
    def __init__(self, name, version, opts=None):
        super().__init__(_AppProvider(), name, {"version": version}, opts)


# Never created when the migration failed.
app = AppVersion("app-v2", "2", pulumi.ResourceOptions(depends_on=[migration]))

pulumi.export("migrationStatus", migration.status)
