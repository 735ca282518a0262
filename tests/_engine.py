"""The FC 2.0 gates project the real-engine tests run (fixture ``project`` in conftest.py): its program, and
the real Pulumi CLI on it, configured for the emulator."""

from __future__ import annotations

from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli

PROGRESS = {"FC_INVOCATION_PROGRESS_SECONDS": "1"}

# One gate per id in `gates:ids`; `dep` depends on every gate, `other` on none.
PROGRAM = '''
import time
import pulumi
import pulumi.dynamic
from pulumi_fc_invocation import StatefulAsyncInvocation

cfg = pulumi.Config()
ids = cfg.require("ids").split(",")
gates = [
    StatefulAsyncInvocation(
        f"task-{i}", service_name="svc", function_name="fn", invocation_id=job,
        wait_for_completion=cfg.get_bool("wait") if cfg.get("wait") is not None else True,
        timeout_seconds=cfg.get_int("timeout") or 120)
    for i, job in enumerate(ids)
]


class _Stamp(pulumi.dynamic.ResourceProvider):
    def create(self, props):
        return pulumi.dynamic.CreateResult("stamp-" + props["name"], {**props, "created_at": time.time()})


class Stamp(pulumi.dynamic.Resource):
    created_at: pulumi.Output[float]

    def __init__(self, name, opts=None):
        super().__init__(_Stamp(), name, {"name": name, "created_at": None}, opts)


dep = Stamp("dep", pulumi.ResourceOptions(depends_on=gates))
other = Stamp("other")
first = gates[0]
pulumi.export("status", first.status)
pulumi.export("durationMs", first.duration_ms)
pulumi.export("retries", first.already_retried_times)
pulumi.export("endTime", first.end_time)
pulumi.export("result", first.return_payload)
pulumi.export("depCreatedAt", dep.created_at)
'''


def make_cli(fc, project, pulumi_bin, env=None, **config) -> PulumiCli:
    cli = PulumiCli(project, pulumi=pulumi_bin, env={**PROGRESS, **(env or {})})
    cli.config(fc.stack_config(), secret_keys={"alicloud:secretKey"})
    cli.config({f"gates:{k}": v for k, v in config.items()})
    return cli


def state_of(cli: PulumiCli) -> dict[str, dict]:
    """Resource name -> state entry, from `pulumi stack export`."""
    return {r["urn"].rsplit("::", 1)[-1]: r for r in cli.resources()}
