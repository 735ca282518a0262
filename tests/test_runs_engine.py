"""The Python runs (``AsyncTaskRun``) through the real Pulumi CLI against the emulator on a real clock, tasks of
seconds: each lifecycle rule of issue 28, counted in the emulator's request log (InvokeFunction = route
``invoke``, StopAsyncTask = ``stop``), and the crash between a start and its state write.

The project is a user's, as ``pulumi new python`` lays it out: ``toolchain: pip``, ``virtualenv: venv``, a
requirements.txt naming pulumi and this package (its wheel), the venv made by ``pulumi install``, plugin
acquisition on (:class:`PulumiCli` drops the test-only switches). ``pulumi install`` takes a while: one venv
serves the module, each test's copy of the project holding it as its ``venv``."""

from __future__ import annotations

import importlib.metadata
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from _clocks import until
from _engine import PROGRESS
from _installed_plugin import package_wheel
from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.clock import RealClock
from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli
from test_interrupt import Running

pytestmark = pytest.mark.engine

PULUMI_YAML = """\
name: runs
runtime:
  name: python
  options:
    toolchain: pip
    virtualenv: venv
"""

PROGRAM = '''
import sys
import time
import pulumi
import pulumi.dynamic
from pulumi_fc_invocation import AsyncTaskRun

cfg = pulumi.Config()
aliases = [pulumi.Alias(name=cfg.get("alias"))] if cfg.get("alias") else None
job = AsyncTaskRun(cfg.get("name") or "migrate", function_name=cfg.require("function"), payload=cfg.get("payload") or "{}",
                   triggers={"version": cfg.get("version") or "1"}, timeout_seconds=cfg.get_float("timeout") or 60,
                   max_poll_interval_seconds=0.5, poll_interval_seconds=0.25,
                   stop_on_timeout=cfg.get_bool("stopOnTimeout") or False,
                   stop_on_delete=cfg.get_bool("stopOnDelete") or False, task_id=cfg.get("taskId"),
                   wait_for_completion=cfg.get_bool("wait") is not False, opts=pulumi.ResourceOptions(aliases=aliases))


class _Stamp(pulumi.dynamic.ResourceProvider):
    def create(self, props):
        return pulumi.dynamic.CreateResult("stamp-" + props["name"], {**props, "created_at": time.time()})


class Stamp(pulumi.dynamic.Resource):
    created_at: pulumi.Output[float]

    def __init__(self, name, opts=None):
        super().__init__(_Stamp(), name, {"name": name, "created_at": None}, opts)


dep = Stamp("dep", pulumi.ResourceOptions(depends_on=[job]))
pulumi.export("status", job.status)
pulumi.export("taskId", job.task_id)
pulumi.export("sequence", job.run_sequence)
pulumi.export("prefix", sys.prefix)
'''


@pytest.fixture(scope="module")
def fc():
    with FcEmulator(clock="real") as emulator:
        yield emulator


def _write_project(directory: Path) -> Path:
    (directory / "Pulumi.yaml").write_text(PULUMI_YAML)
    (directory / "__main__.py").write_text(PROGRAM)
    (directory / "requirements.txt").write_text(f"pulumi=={importlib.metadata.version('pulumi')}\n{package_wheel()}\n")
    return directory


@pytest.fixture(scope="module")
def project_venv(tmp_path_factory, pulumi_bin):
    """The project's venv, made by ``pulumi install`` from its requirements.txt (once for the module)."""
    with PulumiCli(_write_project(tmp_path_factory.mktemp("runs-venv")), pulumi=pulumi_bin) as cli:
        install = cli.run("install")
        assert install.ok, install.output
        yield cli.dir / "venv"


@pytest.fixture
def project(tmp_path):
    return _write_project(tmp_path)


@pytest.fixture
def new_cli(project, pulumi_bin, project_venv):
    """A new ``PulumiCli`` on (a copy of) ``project``, whose ``venv`` is the module's."""

    def new() -> PulumiCli:
        cli = PulumiCli(project, pulumi=pulumi_bin, env=PROGRESS)
        (cli.dir / "venv").symlink_to(project_venv, target_is_directory=True)
        return cli

    return new


def configure(cli: PulumiCli, values: dict, secret_keys: frozenset = frozenset()) -> None:
    """``pulumi config set-all``: every value in one CLI run (``config set`` is one run per key)."""
    flags = [arg for key, value in values.items()
             for arg in ("--secret" if key in secret_keys else "--plaintext", f"{key}={value}")]
    cli.run("config", "set-all", *flags, check=True)


def make_cli(fc, new_cli, function, **config) -> PulumiCli:
    """The project's stack on the emulator, for a new FC 3.0 function of its own (``duration``, ``fail_first``)."""
    fc.add_function(None, function, queue_delay=0, duration=config.pop("duration", 1.0),
                    **{k: config.pop(k) for k in ("fail_first",) if k in config})
    cli = new_cli()
    configure(cli, {**fc.stack_config(), "runs:function": function, **{f"runs:{k}": v for k, v in config.items()}},
              # the payload too: else the state's copy of the stack config shows it
              frozenset({"alicloud:secretKey", "runs:payload"}))
    return cli


def calls(fc, route, function):
    """The requests of ``route`` (``invoke``, ``stop``) to ``function`` the emulator has seen."""
    return [r for r in fc.requests if r.route == route and f"/functions/{function}/" in r.path + "/"]


def tasks(fc, function):
    return [inv for inv in fc.invocations if inv.function_name == function]


def names(cli) -> set[str]:
    return {r["urn"].rsplit("::", 1)[-1] + ":" + r["type"].rsplit(":", 1)[-1] for r in cli.resources()}


def test_one_task_per_create_none_in_preview_unchanged_up_gate_inputs_refresh_or_destroy(fc, new_cli):
    cli = make_cli(fc, new_cli, "lifecycle", payload='{"token": "pl-7f3a9e"}')
    with cli:
        preview = cli.preview()
        assert preview.ok, preview.output
        assert not calls(fc, "invoke", "lifecycle")  # preview starts nothing

        up = cli.up()
        assert up.ok, up.output
        (first,) = calls(fc, "invoke", "lifecycle")
        out = cli.outputs()
        assert out["status"] == "Succeeded" and out["sequence"] == 0
        assert out["prefix"] == str(cli.dir / "venv")  # the program ran in the project's venv
        assert [t.invocation_id for t in tasks(fc, "lifecycle")] == [out["taskId"]]
        assert "dep:Resource" in names(cli) and "migrate:AsyncTaskRunStart" in names(cli)
        assert "pl-7f3a9e" not in json.dumps(cli.export()) + up.output  # the payload is secret by default
        assert tasks(fc, "lifecycle")[0].invocation_payload == '{"token": "pl-7f3a9e"}'

        again = cli.up()  # unchanged
        assert again.ok, again.output
        configure(cli, {"runs:timeout": "90"})  # a gate input alone
        gate_only = cli.up()
        assert gate_only.ok, gate_only.output
        assert len(calls(fc, "invoke", "lifecycle")) == 1, (again.output, gate_only.output)

        configure(cli, {"runs:version": "2"})  # a trigger: a new run
        triggered = cli.up()
        assert triggered.ok, triggered.output
        assert len(calls(fc, "invoke", "lifecycle")) == 2
        after = cli.outputs()
        assert after["sequence"] == 1 and after["taskId"] != out["taskId"] and after["status"] == "Succeeded"

        assert cli.refresh().ok
        destroy = cli.destroy()
        assert destroy.ok, destroy.output
        assert len(calls(fc, "invoke", "lifecycle")) == 2 and not calls(fc, "stop", "lifecycle")

        # The decision: destroy then up with the same inputs adopts the newest run's Succeeded task FC still
        # keeps (-1: the create reads ahead, GETs only), so the next trigger change runs (-2), adopts nothing.
        readopted = cli.up()
        assert readopted.ok, readopted.output
        assert [r.status for r in calls(fc, "invoke", "lifecycle")] == [202, 202, 409]
        assert cli.outputs()["taskId"] == after["taskId"] and len(tasks(fc, "lifecycle")) == 2
        configure(cli, {"runs:version": "3"})
        third = cli.up()
        assert third.ok, third.output
        assert [r.status for r in calls(fc, "invoke", "lifecycle")] == [202, 202, 409, 202]
        assert cli.outputs()["taskId"].endswith("-2") and len(tasks(fc, "lifecycle")) == 3


def test_a_failed_run_fails_up_without_its_dependents_and_the_next_up_runs_it_again(fc, new_cli):
    cli = make_cli(fc, new_cli, "flaky", fail_first=1)
    with cli:
        up = cli.up()
        assert not up.ok
        assert "Failed" in up.output and "Traceback" not in up.output, up.output
        assert "dep:Resource" not in names(cli)  # the dependent (depends_on=[run]) was not created
        assert len(calls(fc, "invoke", "flaky")) == 1

        retried = cli.up()
        assert retried.ok, retried.output
        # The Failed task is not adopted: a new task starts under another id of the sequence.
        assert [r.status for r in calls(fc, "invoke", "flaky") if r.status == 202] == [202, 202]
        (failed, second) = tasks(fc, "flaky")
        assert failed.status == "Failed" and second.status == "Succeeded"
        assert second.invocation_id == failed.invocation_id + "-1"  # the run's retry id: ...-0-1, not run 1
        assert cli.outputs()["taskId"] == second.invocation_id and "dep:Resource" in names(cli)

        configure(cli, {"runs:version": "2"})  # after a retried run, a trigger change still starts a new task
        triggered = cli.up()
        assert triggered.ok, triggered.output
        assert [r.status for r in calls(fc, "invoke", "flaky") if r.status == 202] == [202] * 3
        assert len(tasks(fc, "flaky")) == 3 and cli.outputs()["taskId"] == tasks(fc, "flaky")[-1].invocation_id
        assert tasks(fc, "flaky")[-1].invocation_id == failed.invocation_id[:-1] + "1"  # run 1: ...-1


def test_a_timed_out_run_is_waited_for_again_and_stopped_only_when_asked(fc, new_cli):
    """A timed-out wait leaves the task running without stop_on_timeout, and the next up adopts it (no second
    start) and waits again; with stop_on_timeout it is stopped; destroy stops a running task only with
    stop_on_delete."""
    cli = make_cli(fc, new_cli, "slow", duration=20, timeout=2)  # still running after the up, whatever the load
    with cli:
        timed_out = cli.up()
        assert not timed_out.ok and not calls(fc, "stop", "slow"), timed_out.output
        (first,) = tasks(fc, "slow")
        assert first.status == "Running"
        configure(cli, {"runs:timeout": "60"})
        adopted = cli.up()
        assert adopted.ok, adopted.output
        assert [r.status for r in calls(fc, "invoke", "slow")] == [202]  # waited for again, not started again
        assert cli.outputs()["taskId"] == first.invocation_id and tasks(fc, "slow")[0].status == "Succeeded"

        fc.add_function(None, "long", queue_delay=0, duration=120)  # still running whatever the machine's load
        configure(cli, {"runs:function": "long", "runs:stopOnTimeout": "true", "runs:timeout": "2"})
        stopped = cli.up()
        assert not stopped.ok and len(calls(fc, "stop", "long")) == 1, stopped.output
        assert "stop_on_timeout" in stopped.output and tasks(fc, "long")[-1].status == "Stopped"

        configure(cli, {"runs:stopOnTimeout": "false", "runs:stopOnDelete": "true", "runs:version": "2"})
        assert not cli.up().ok  # times out; the task runs on
        assert len(calls(fc, "stop", "long")) == 1 and tasks(fc, "long")[-1].status == "Running"
        assert cli.destroy().ok
        assert len(calls(fc, "stop", "long")) == 2  # stop_on_delete
        assert tasks(fc, "long")[-1].status == "Stopped"


def test_up_replace_of_a_given_task_id_adopts_the_running_task_and_leaves_it_running(fc, new_cli):
    """``pulumi up --replace`` of a run's start under a given task_id, its task still running, with
    stop_on_delete: the replacement's start adopts the task its id holds (the 409), and the replaced start's
    delete does not stop the task the replacement now holds."""
    cli = make_cli(fc, new_cli, "replaced", duration=120, taskId="job_1", wait="false", stopOnDelete="true")
    with cli:
        assert cli.up().ok
        urn = f"urn:pulumi:{cli.stack}::runs::pulumi-python:dynamic/fc:AsyncTaskRunStart::migrate"
        replaced = cli.up("--replace", urn)
        assert replaced.ok, replaced.output
        assert [r.status for r in calls(fc, "invoke", "replaced")] == [202, 409], replaced.output
        (task,) = tasks(fc, "replaced")
        assert not calls(fc, "stop", "replaced") and task.status == "Running", replaced.output
        assert cli.outputs()["taskId"] == "job_1"


def test_an_fc2_run_starts_once(fc, project, new_cli):
    """StatefulAsyncInvocationRun through the same lifecycle's first steps: one invocation per create, none on
    an unchanged up."""
    (project / "__main__.py").write_text(PROGRAM.replace(
        'AsyncTaskRun(cfg.get("name") or "migrate", function_name=cfg.require("function")',
        'StatefulAsyncInvocationRun(cfg.get("name") or "migrate", service_name="svc", '
        'function_name=cfg.require("function")').replace(
        "import AsyncTaskRun", "import StatefulAsyncInvocationRun"))  # job.task_id: the id used, FC 2.0 too
    fc.add_function("svc", "fc2job", queue_delay=0, duration=1)
    cli = new_cli()
    with cli:
        configure(cli, {**fc.stack_config(), "runs:function": "fc2job"}, frozenset({"alicloud:secretKey"}))
        assert cli.up().ok and cli.up().ok
        invokes = [r for r in fc.requests if r.route == "invoke" and "/functions/fc2job/" in r.path]
        assert len(invokes) == 1
        (item,) = [i for i in fc.invocations if i.function_name == "fc2job"]
        assert cli.outputs()["taskId"] == item.invocation_id and cli.outputs()["status"] == "Succeeded"
        assert "migrate:StatefulAsyncInvocationRunStart" in names(cli)


@pytest.mark.parametrize("stop", [True, False], ids=["stop_on_timeout", "default"])
def test_ctrl_c_while_a_run_waits_stops_its_task_only_with_stop_on_timeout(fc, new_cli, stop):
    """A cancelled deployment (Ctrl-C to the CLI's process group, as a terminal sends it) while the run waits:
    the program stops the task before it exits when stop_on_timeout is set, and leaves it running else."""
    function = f"cancelled-{'stop' if stop else 'keep'}"
    cli = make_cli(fc, new_cli, function, duration=120, stopOnTimeout=str(stop).lower())
    with cli:
        run = Running(cli, "up", "--yes", "--skip-preview")
        assert until(lambda: run.shows(f"waiting for {function}/") or run.proc.poll() is not None, 120)
        run.ctrl_c()
        out, _ = run.finish()
    assert run.proc.returncode != 0, out
    (task,) = tasks(fc, function)
    assert "interrupted: stopped waiting for " + f"{function}/{task.invocation_id}" in out, out
    if stop:
        assert len(calls(fc, "stop", function)) == 1 and task.status == "Stopped", out
        assert f"stopped task {function}/{task.invocation_id} (stop_on_timeout)" in out, out
    else:
        assert not calls(fc, "stop", function) and task.status == "Running", out


def _pending_written(cli: PulumiCli) -> bool:
    """Whether the stack's state file (the local backend's) holds the start's pending create yet: the engine
    writes it before the Create, but a kill can come before the write reaches the file."""
    for path in cli.backend.glob(".pulumi/stacks/**/*.json"):
        text = path.read_text(errors="replace")
        if '"pending_operations"' in text and "AsyncTaskRunStart" in text:
            return True
    return False


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc), children first found first."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, killed and waiting for its parent to reap it, does not)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _kill_all(proc: subprocess.Popen) -> None:
    """Kill the CLI and every process it started, each process group of theirs (the language and provider
    hosts run in groups of their own); scanned again after each kill (a process may start between the scan and
    the kill, and the killed CLI's children are re-parented), until none of them survives."""
    own_group, seen = os.getpgid(0), {proc.pid}
    for _ in range(10):
        seen |= {child for parent in list(seen) for child in _descendants(parent)}
        groups = set()
        for pid in seen:
            try:
                groups.add(os.getpgid(pid))
            except ProcessLookupError:
                pass
        groups.discard(own_group)  # never this test's own group
        for group in groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in seen:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(timeout=30)
        if until(lambda: not any(_alive(pid) for pid in seen | {c for p in seen for c in _descendants(p)}),
                 timeout=2):
            break
    survivors = [pid for pid in seen if _alive(pid)]
    assert not survivors, f"processes of the killed CLI still run: {survivors}"


@pytest.mark.parametrize("recover", ["refresh", "up", "import"])
def test_a_crash_between_start_and_state_adopts_the_started_task(fc, new_cli, recover):
    """Kill the CLI and everything it started once the task has started (its invoke's answer held back, so the
    state has only a pending create); recover as a user would; the recovering up starts no second task (the 409
    finds the first) and gates on it."""
    function = f"crash-{recover}"
    cli = make_cli(fc, new_cli, function, duration=3)
    with cli:
        fc.inject_fault("invoke", latency=60, times=1, api="2023-03-30")
        argv = [cli.pulumi, "--non-interactive", "--color=never", "up", "--yes", "--skip-preview"]
        with open(cli.dir / "crashed-up.log", "w") as log:
            proc = subprocess.Popen(argv, cwd=cli.dir, env=cli.env, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
            deadline = time.monotonic() + 120
            while not (tasks(fc, function) and _pending_written(cli)):
                assert time.monotonic() < deadline and proc.poll() is None, (cli.dir / "crashed-up.log").read_text()
                time.sleep(0.05)
            _kill_all(proc)
        (task,) = tasks(fc, function)
        state = cli.export()
        pending = state["deployment"].get("pending_operations") or []
        assert [op["resource"]["type"] for op in pending] == ["pulumi-python:dynamic/fc:AsyncTaskRunStart"], state

        urn = f"urn:pulumi:{cli.stack}::runs::pulumi-python:dynamic/fc:AsyncTaskRunStart::migrate"
        recovery = {"refresh": ("refresh", "--yes", "--clear-pending-creates"), "up": ("up", "--yes", "--skip-preview"),
                    "import": ("refresh", "--yes", "--import-pending-creates", urn,
                               "--import-pending-creates", f"{function}/{task.invocation_id}")}[recover]
        before = len(fc.requests)
        first = cli.run(*recovery)
        if not first.ok and "lock" in first.output.lower():  # the killed update still holds the stack
            assert cli.run("cancel", "--yes").ok
            first = cli.run(*recovery)
        assert first.ok, first.output
        if recover == "import":
            # What the import records (Pulumi 3.274): nothing. The pending create is dropped, no Read is sent,
            # no request reaches FC; the up below adopts the task (docs/runs.md says so).
            deployment = cli.export()["deployment"]
            assert not deployment.get("pending_operations"), deployment
            assert not [r for r in deployment.get("resources", []) if "Run" in r["type"]], deployment
            assert len(fc.requests) == before, fc.requests[before:]
        if recover != "up":
            up = cli.up()
            assert up.ok, up.output
        assert [t.invocation_id for t in tasks(fc, function)] == [task.invocation_id]  # no second task
        assert 409 in [r.status for r in calls(fc, "invoke", function)]  # the recovering start met the first
        out = cli.outputs()
        assert out["taskId"] == task.invocation_id and out["status"] == "Succeeded"
        assert "dep:Resource" in names(cli)


class _Skewed(RealClock):
    """Wall time, moved forward by :meth:`advance` (the emulator's days pass at once)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return super().now() + self.offset

    def advance(self, seconds: float) -> float:
        self.offset += seconds
        return self.now()


def test_a_run_whose_task_fc_has_forgotten_keeps_its_record_on_the_next_up(new_cli):
    """FC keeps a task 7 days: the next up of a run recorded earlier reads no task under its id, keeps the state
    last recorded with a warning (as a refresh does), starts nothing and fails nothing (it failed every later up)."""
    clock = _Skewed()
    with FcEmulator(clock=clock) as fc:
        cli = make_cli(fc, new_cli, "forgotten")
        with cli:
            up = cli.up()
            assert up.ok, up.output
            task_id = cli.outputs()["taskId"]
            clock.advance(8 * 24 * 3600)
            assert not tasks(fc, "forgotten")  # forgotten
            again = cli.up()
            assert again.ok, again.output
            assert "keeping the state last recorded" in again.output and "Traceback" not in again.output
            assert len(calls(fc, "invoke", "forgotten")) == 1 and cli.outputs()["taskId"] == task_id
            assert "dep:Resource" in names(cli)


def test_a_run_renamed_with_an_alias_starts_nothing_new(fc, new_cli):
    """A run renamed (``aliases=[Alias(name=<old>)]``): its hidden start moves with it, so the up neither starts
    the job again nor forgets the recorded run."""
    cli = make_cli(fc, new_cli, "renamed")
    with cli:
        assert cli.up().ok
        first = cli.outputs()["taskId"]
        configure(cli, {"runs:name": "migrate-v2", "runs:alias": "migrate"})
        renamed = cli.up()
        assert renamed.ok, renamed.output
        assert len(calls(fc, "invoke", "renamed")) == 1, renamed.output
        assert cli.outputs()["taskId"] == first and "migrate-v2:AsyncTaskRunStart" in names(cli)
        assert "migrate:AsyncTaskRunStart" not in names(cli)
