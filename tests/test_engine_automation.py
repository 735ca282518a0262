"""End-to-end: Automation API inline programs (``pulumi.automation``, ``program=`` a function) through
the real CLI (``make engine``), on a local file backend, against the emulator.

An inline program runs in the caller's process, so no command line tells the gates which operation
runs them (``/proc`` shows the test runner): the program says it with ``for_operation``. Each test
first shows what happens without it, so it fails if the operation came from anywhere else.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from pathlib import Path

import pulumi
import pytest
from pulumi import automation as auto

from pulumi_fc_invocation import StatefulAsyncInvocation, for_operation
from pulumi_fc_invocation.testing import FcEmulator

PROJECT = "gates"


def program() -> None:
    """One gate on the task named by config `gates:id` (waiting unless `gates:wait` is false)."""
    cfg = pulumi.Config()
    wait = cfg.get_bool("wait")
    gate = StatefulAsyncInvocation("task", service_name="svc", function_name="fn", invocation_id=cfg.require("id"),
                                   wait_for_completion=True if wait is None else wait, timeout_seconds=300,
                                   max_poll_interval_seconds=1)
    pulumi.export("status", gate.status)


@pytest.fixture
def fc():
    with FcEmulator(clock="virtual") as emulator:
        yield emulator


@pytest.fixture
def workspace(tmp_path, pulumi_bin):
    """LocalWorkspaceOptions as a user sets them up: the CLI of `make engine`, a file backend, a passphrase,
    and this venv's interpreter first on PATH (an activated venv: the dynamic provider runs with it)."""
    root = Path(pulumi_bin).resolve().parent.parent
    assert (root / "bin" / "pulumi").is_file(), root
    (tmp_path / "state").mkdir()
    env = {"PULUMI_HOME": str(tmp_path / "home"), "PULUMI_CONFIG_PASSPHRASE": "fc-invocation-tests",
           "PULUMI_SKIP_UPDATE_CHECK": "true",
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), str(root / "bin"), os.environ["PATH"]])}

    def make(stack_name: str, fc: FcEmulator, **config: str) -> auto.Stack:
        opts = auto.LocalWorkspaceOptions(
            pulumi_command=auto.PulumiCommand(root=str(root)), env_vars=env,
            project_settings=auto.ProjectSettings(name=PROJECT, runtime="python",
                                                  backend=auto.ProjectBackend(url=f"file://{tmp_path / 'state'}")))
        stack = auto.create_stack(stack_name, project_name=PROJECT, program=program, opts=opts)
        values = {**fc.stack_config(), **{f"{PROJECT}:{key}": value for key, value in config.items()}}
        stack.set_all_config({key: auto.ConfigValue(value, secret=key == "alicloud:secretKey")
                              for key, value in values.items()})
        return stack

    return make


def task_state(stack: auto.Stack) -> dict:
    resources = stack.export_stack().deployment.get("resources") or []
    return {r["urn"].rsplit("::", 1)[-1]: r for r in resources}


def recorded_failed_task(fc: FcEmulator, make, stack_name: str, job: str) -> auto.Stack:
    """A stack whose last `up` recorded a Running task without waiting, the task Failed since, and
    whose gate now waits."""
    fc.add_invocation("svc", "fn", job, timeline=[("Running", 0), ("Failed", 10)], error_message="boom")
    stack = make(stack_name, fc, id=job, wait="false")
    assert stack.up().summary.result == "succeeded"
    assert stack.outputs()["status"].value == "Running"
    fc.advance(20)
    assert fc.get_invocation("svc", "fn", job).status == "Failed"
    stack.set_config(f"{PROJECT}:wait", auto.ConfigValue("true"))
    return stack


def test_inline_refresh_and_destroy_with_run_program_never_wait_on_a_failed_task(fc, workspace):
    stack = recorded_failed_task(fc, workspace, "dev", "j1")

    # Without the signal the gate judges the Failed task as in `up`: the refresh and the destroy fail.
    with pytest.raises(auto.CommandError, match="svc/fn/j1 ended Failed: boom"):
        stack.refresh(run_program=True)
    with pytest.raises(auto.CommandError, match="svc/fn/j1 ended Failed: boom"):
        stack.destroy(run_program=True)

    refresh = stack.refresh(run_program=True, program=for_operation("refresh", program))
    assert refresh.summary.result == "succeeded", refresh.stdout
    assert "waiting for svc/fn/j1" not in refresh.stdout
    assert task_state(stack)["task"]["outputs"]["status"] == "Failed"

    destroy = stack.destroy(run_program=True, program=for_operation("destroy", program))
    assert destroy.summary.result == "succeeded", destroy.stdout
    assert "waiting for svc/fn/j1" not in destroy.stdout
    assert "task" not in task_state(stack)
    assert fc.get_invocation("svc", "fn", "j1").status == "Failed"  # the task itself is untouched


def test_two_stacks_at_once_one_in_up_one_in_destroy_each_see_their_own_operation(fc, workspace):
    """Stack `down` destroys (its task Failed) while stack `live` is in `up`, inside its program, in the
    same process. `live`'s gate starts only after `down`'s program has set its operation, and `down`'s
    gate runs after its program function has returned: a process-global signal fails one or the other.
    The virtual clock holds `live`'s task Running until the test moves it, so `live` waits by construction."""
    down = recorded_failed_task(fc, workspace, "down", "jd")
    fc.add_invocation("svc", "fn", "jl", timeline=[("Running", 0), ("Succeeded", 60)])
    in_program, go = threading.Event(), threading.Event()
    waiting = threading.Event()

    def live_program() -> None:
        in_program.set()
        cfg = pulumi.Config()
        job = pulumi.Output.from_input(cfg.require("id")).apply(lambda j: _after(go, j))
        gate = StatefulAsyncInvocation("task", service_name="svc", function_name="fn", invocation_id=job,
                                       wait_for_completion=True, timeout_seconds=300, max_poll_interval_seconds=1)
        pulumi.export("status", gate.status)

    def seen(line: str) -> None:
        if "waiting for svc/fn/jl to finish" in line:
            waiting.set()

    live = workspace("live", fc, id="jl")
    outcome: dict = {}

    def run_live() -> None:
        try:
            outcome["up"] = live.up(program=for_operation("up", live_program), on_output=seen)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            outcome["error"] = exc

    thread = threading.Thread(target=run_live)
    thread.start()
    try:
        assert in_program.wait(120), outcome
        destroy = down.destroy(run_program=True, program=for_operation("destroy", program))
        assert destroy.summary.result == "succeeded", destroy.stdout
        assert "waiting for svc/fn/jd" not in destroy.stdout
        assert "task" not in task_state(down)
        assert thread.is_alive(), outcome  # `live` is still in its program: both ran at once
        go.set()
        while not waiting.is_set() and thread.is_alive():
            waiting.wait(0.2)
        assert waiting.is_set(), outcome  # `live` waits on its Running task, as `up` does
        fc.advance(120)
    finally:
        go.set()
        thread.join(300)
    assert "error" not in outcome, outcome
    assert outcome["up"].summary.result == "succeeded"
    assert outcome["up"].outputs["status"].value == "Succeeded"


def _after(event: threading.Event, value: str):
    """An awaitable of ``value`` once ``event`` is set (the loop's executor waits, the loop runs on)."""
    async def wait() -> str:
        await asyncio.get_running_loop().run_in_executor(None, event.wait)
        return value

    return wait()
