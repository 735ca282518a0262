"""Both forms live together on one set of settings, `fc-invocation:*` (the dynamic data source also reads
pulumi-alicloud's `alicloud:*` after them; the plugin sees only its own)."""

import pulumi
import pulumi_fc_invocation_sdk as plugin

from pulumi_fc_invocation import AsyncTask

config = pulumi.Config()
function_name = config.get("function") or "migrate"
task_id = config.require("task")

dynamic = AsyncTask("dynamic", function_name=function_name, task_id=task_id, wait_for_completion=True,
                    timeout_seconds=600)
gate = plugin.AsyncTask("gate", function_name=function_name, task_id=task_id, wait_for_completion=True,
                        timeout_seconds=600)
now = plugin.get_async_task_output(function_name=function_name, task_id=task_id, fail_on_statuses=[])

pulumi.export("dynamicStatus", dynamic.status)
pulumi.export("pluginStatus", gate.status)
pulumi.export("pluginResult", gate.return_payload)
pulumi.export("readNow", now.status)
