"""Every example runs against the emulator through the harness; its exported outputs are asserted."""

import re
from pathlib import Path

import pytest

from pulumi_fc_invocation.testing.harness import ProgramError, run_program_file
from pulumi_fc_invocation.testing.server import FcEmulator
from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock
from pulumi_fc_invocation.waiter import use_clock

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def fc():
    with FcEmulator(clock="virtual") as emu:
        yield emu


def stack_config(fc, **extra):
    return {"alicloud:accessKey": fc.credentials.access_key_id, "alicloud:secretKey": fc.credentials.access_key_secret,
            "alicloud:accountId": fc.account_id, "fc-invocation:endpoint": fc.endpoint, **extra}


def run_example(fc, name, config, preview=False):
    with use_clock(AutoAdvanceClock(fc.clock)):
        return run_program_file(str(EXAMPLES / name / "__main__.py"), config=config, preview=preview,
                                secret_keys=("alicloud:secretKey",))


def test_every_example_is_a_pulumi_project():
    for directory in EXAMPLES.iterdir():
        if directory.is_dir():
            for name in ("Pulumi.yaml", "README.md"):
                assert (directory / name).is_file(), f"{directory.name} lacks {name}"
            if re.search(r"^runtime:\s*(name:\s*)?python\b", (directory / "Pulumi.yaml").read_text(), re.M | re.S):
                for name in ("__main__.py", "requirements.txt"):  # a Python program (the plugin's are not all)
                    assert (directory / name).is_file(), f"{directory.name} lacks {name}"


def test_gate_deployment(fc):
    fc.add_function("video", "transcode", outcome="Succeeded", duration=95, retries=1, retry_delay=2,
                    return_payload='{"hls": "oss://video/v1/index.m3u8"}')
    fc.client().invoke_async("video", "transcode", '{"src": "oss://raw/v1.mp4"}', invocation_id="video-123")
    result = run_example(fc, "gate-deployment", stack_config(fc, **{"gate-deployment:invocationId": "video-123"}))
    out = result.outputs
    assert out["taskStatus"] == "Succeeded" and out["taskRetries"] == 1
    assert out["taskEndTime"].endswith("Z") and out["taskDurationMs"] >= 95_000
    assert out["taskResult"] == '{"hls": "oss://video/v1/index.m3u8"}' and "taskResult" in result.secret_outputs
    assert out["releaseId"] == "release-2.0.0"
    assert any("waiting for video/transcode/video-123: Running" in log.message for log in result.logs)


def test_gate_deployment_preview_does_not_wait(fc):
    fc.add_function("video", "transcode", outcome="Succeeded", duration=600)
    fc.client().invoke_async("video", "transcode", "{}", invocation_id="video-9")
    before = fc.clock.now()
    result = run_example(fc, "gate-deployment", stack_config(fc, **{"gate-deployment:invocationId": "video-9"}),
                         preview=True)
    assert result.outputs["taskStatus"] == "Running" and fc.clock.now() == before


def test_export_status(fc):
    fc.add_invocation("video", "transcode", "video-123", qualifier="prod",
                      timeline=[("Enqueued", 0), ("Running", 1), ("Succeeded", 4)])
    fc.advance(10)
    result = run_example(fc, "export-status", stack_config(fc, **{"export-status:invocation": "video.prod/transcode/video-123"}))
    out = result.outputs
    assert out["id"] == "video.prod/transcode/video-123"
    assert out["status"] == out["functionStatus"] == "Succeeded" and out["isTerminal"] is True
    assert out["retries"] == 0 and out["startedTime"].endswith("Z") and out["functionRequestId"]


def test_fail_fast(fc):
    fc.add_invocation("migrations", "migrate", "db-2026-11-26", error_message='UnhandledException: column "email" '
                      "already exists", timeline=[("Running", 0), ("Failed", 30)])
    config = stack_config(fc, **{"fail-fast:invocation": "migrations/migrate/db-2026-11-26"})
    with pytest.raises(ProgramError) as info:
        run_example(fc, "fail-fast", config)
    assert ('invocation migrations/migrate/db-2026-11-26 ended Failed: UnhandledException: column "email" '
            "already exists") in info.value.message
    assert "request id" in info.value.message
    assert not any(r.name == "app-v2" for r in info.value.result.resources)
    assert "migrationStatus" not in info.value.result.outputs


def test_fail_fast_passes_when_the_migration_succeeded(fc):
    fc.add_invocation("migrations", "migrate", "db-ok", timeline=[("Running", 0), ("Succeeded", 30)])
    result = run_example(fc, "fail-fast", stack_config(fc, **{"fail-fast:invocation": "migrations/migrate/db-ok"}))
    assert result.outputs["migrationStatus"] == "Succeeded"
    assert result.resource("app-v2").id == "app-2"


def test_gate_fc3_task(fc):
    fc.add_function(None, "transcode", outcome="Succeeded", duration=95, retries=1, retry_delay=2,
                    return_payload='{"hls": "oss://video/v1/index.m3u8"}')
    fc.client().invoke_async_task("transcode", '{"src": "oss://raw/v1.mp4"}', task_id="video-123")
    result = run_example(fc, "gate-fc3-task", stack_config(fc, **{"gate-fc3-task:taskId": "video-123"}))
    out = result.outputs
    assert out["taskStatus"] == "Succeeded" and out["taskRetries"] == 1
    assert out["taskArn"].endswith(":functions/transcode")
    assert out["taskEndTime"].endswith("Z") and out["taskDurationMs"] >= 95_000
    assert out["taskResult"] == '{"hls": "oss://video/v1/index.m3u8"}' and "taskResult" in result.secret_outputs
    assert out["releaseId"] == "release-2.0.0"
    assert any("waiting for transcode/video-123: Running" in log.message for log in result.logs)


def test_gate_fc3_task_fails_on_a_failed_task_and_preview_does_not_wait(fc):
    fc.add_function(None, "transcode", outcome="Failed", duration=600, error_message="UnhandledException: codec")
    fc.client().invoke_async_task("transcode", "{}", task_id="video-9")
    before = fc.clock.now()
    config = stack_config(fc, **{"gate-fc3-task:taskId": "video-9"})
    preview = run_example(fc, "gate-fc3-task", config, preview=True)
    assert preview.outputs["taskStatus"] == "Running" and fc.clock.now() == before
    with pytest.raises(ProgramError) as info:
        run_example(fc, "gate-fc3-task", config)
    assert "task transcode/video-9 ended Failed: UnhandledException: codec" in info.value.message
    assert not any(r.name == "player-release" for r in info.value.result.resources)
