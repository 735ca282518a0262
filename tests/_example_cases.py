"""The examples' scenarios on a real clock (tasks of seconds), for the real CLI and the harness alike.

Each case seeds a fresh emulator, gives the example's config, and states the outcome: the outputs
that must come back, or the failure message that must be shown. ``test_engine`` runs them through
``pulumi up``; ``test_engine_vs_harness`` through both, comparing the two.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Optional


@dataclasses.dataclass
class Case:
    prepare: Callable[[Any], dict[str, str]]
    outputs: dict[str, Any]          # exact values expected (secrets as their plaintext)
    secret_outputs: tuple[str, ...] = ()
    failure: Optional[str] = None    # a message the failed deployment must show
    absent: tuple[str, ...] = ()     # resources that must not be deployed

    def check_cli(self, up: Any, cli: Any) -> None:
        names = {r["urn"].rsplit("::", 1)[-1] for r in cli.resources()}
        for name in self.absent:
            assert name not in names, f"{name} deployed: {up.output}"
        if self.failure is not None:
            assert not up.ok and self.failure in up.output, up.output
            return
        assert up.ok, up.output
        shown = cli.outputs()
        plain = cli.outputs(show_secrets=True)
        for key, value in self.outputs.items():
            assert plain[key] == value, (key, plain[key], value)
        for key in self.secret_outputs:
            assert shown[key] == "[secret]", (key, shown[key])


def _gate_deployment(fc) -> dict[str, str]:
    fc.add_function("video", "transcode", outcome="Succeeded", queue_delay=0.2, duration=2, retries=1,
                    retry_delay=0.2, return_payload='{"hls": "oss://video/v1/index.m3u8"}')
    fc.client().invoke_async("video", "transcode", '{"src": "oss://raw/v1.mp4"}', invocation_id="video-123")
    return {"gate-deployment:invocationId": "video-123", "gate-deployment:timeoutSeconds": "120"}


def _export_status(fc) -> dict[str, str]:
    fc.add_invocation("video", "transcode", "video-123", qualifier="prod", started_at=fc.now() - 0.2,
                      timeline=[("Enqueued", 0), ("Running", 0.05), ("Succeeded", 0.1)])  # ended 0.1 s ago
    return {"export-status:invocation": "video.prod/transcode/video-123"}


def _fail_fast(fc) -> dict[str, str]:
    fc.add_invocation("migrations", "migrate", "db-2026-11-26",
                      error_message='UnhandledException: column "email" already exists',
                      timeline=[("Running", 0), ("Failed", 2)])
    return {"fail-fast:invocation": "migrations/migrate/db-2026-11-26"}


def _gate_on_batch(fc) -> dict[str, str]:
    for i in range(12):
        fc.add_invocation("video", "transcode", f"video-2026-11-{i:03d}",
                          timeline=[("Running", 0), ("Succeeded", 1 + 0.2 * i)])
    return {"gate-on-batch:prefix": "video-2026-11-", "gate-on-batch:expectedCount": "12",
            "gate-on-batch:timeoutSeconds": "120"}


def _gate_fc3_task(fc) -> dict[str, str]:
    fc.add_function(None, "transcode", outcome="Succeeded", queue_delay=0.2, duration=2, retries=1,
                    retry_delay=0.2, return_payload='{"hls": "oss://video/v1/index.m3u8"}')
    fc.client().invoke_async_task("transcode", '{"src": "oss://raw/v1.mp4"}', task_id="video-123")
    return {"gate-fc3-task:taskId": "video-123", "gate-fc3-task:timeoutSeconds": "120"}


CASES = {
    "gate-deployment": Case(_gate_deployment, {"taskStatus": "Succeeded", "taskRetries": 1,
                                               "taskResult": '{"hls": "oss://video/v1/index.m3u8"}',
                                               "releaseId": "release-2.0.0"}, secret_outputs=("taskResult",)),
    "export-status": Case(_export_status, {"id": "video.prod/transcode/video-123", "status": "Succeeded",
                                           "functionStatus": "Succeeded", "isTerminal": True, "retries": 0}),
    "fail-fast": Case(_fail_fast, {}, failure='invocation migrations/migrate/db-2026-11-26 ended Failed: '
                                             'UnhandledException: column "email" already exists',
                      absent=("app-v2",)),
    "gate-on-batch": Case(_gate_on_batch, {"batchTotal": 12, "allSucceeded": True, "failedIds": [],
                                           "releaseId": "release-2.0.0"}),
    "gate-fc3-task": Case(_gate_fc3_task, {"taskStatus": "Succeeded", "taskRetries": 1,
                                           "taskResult": '{"hls": "oss://video/v1/index.m3u8"}',
                                           "releaseId": "release-2.0.0"}, secret_outputs=("taskResult",)),
}
