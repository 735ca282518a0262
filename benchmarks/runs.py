"""Figure 9: many runs in one program through the real Pulumi engine: the release delay after the last task's end.

One program with N ``AsyncTaskRun`` (issue 28) on an emulator FC 3.0 function whose tasks take a few
seconds (real clock), and one more run, ``release``, that depends on all of them: its task starts once
every run has passed, so its ``startedTime`` is the release. The delay is that start minus the last of the
N tasks' ends (both on the emulator's clock). Run by ``pulumi up`` (the CLI of ``make engine``, a local
file backend) twice: the Python front end (``pulumi_fc_invocation.AsyncTaskRun``: a fast hidden start
resource, the wait on the program's event loop) and the plugin from a YAML program (the plugin's server is
async). The runs must wait concurrently: the Python provider host serves 4 calls at once, so a wait in a
provider's create would release 50 runs in batches. Also counted: InvokeFunction calls (one per run).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .common import Section

TASK_SECONDS = 5.0
POLL_CAP = 3.0  # every run's max_poll_interval_seconds: the release target is one poll cap after the last end
PARALLEL = " --parallel"  # a front end's name with this suffix: `pulumi up --parallel 4*(N+1)`
FRONTS = ("python", "plugin", "plugin" + PARALLEL)
SECRET_KEYS = ("alicloud:secretKey", "fc-invocation:secretKey")

PYTHON_PROGRAM = '''
import pulumi
from pulumi_fc_invocation import AsyncTaskRun

n = pulumi.Config().require_int("runs")
cap = pulumi.Config().require_float("pollCap")
runs = [AsyncTaskRun(f"r{i}", function_name="job", payload=f'{{"n": {i}}}', timeout_seconds=3600,
                     max_poll_interval_seconds=cap) for i in range(n)]
release = AsyncTaskRun("release", function_name="release", payload="{}", max_poll_interval_seconds=cap,
                       opts=pulumi.ResourceOptions(depends_on=runs))
pulumi.export("releaseTask", release.task_id)
'''


def yaml_program(count: int) -> str:
    """The same program in YAML (no loops there: one resource per run, written out)."""
    lines = ["name: runs", "runtime: yaml", "resources:"]
    for i in range(count):
        lines += [f"  r{i}:", "    type: fc-invocation:AsyncTaskRun", "    properties:", "      functionName: job",
                  f"      payload: '{{\"n\": {i}}}'", "      timeoutSeconds: 3600",
                  f"      maxPollIntervalSeconds: {POLL_CAP:g}"]
    lines += ["  release:", "    type: fc-invocation:AsyncTaskRun", "    properties:", "      functionName: release",
              "      payload: '{}'", f"      maxPollIntervalSeconds: {POLL_CAP:g}", "    options:", "      dependsOn:"]
    lines += [f"        - ${{r{i}}}" for i in range(count)]
    lines += ["outputs:", "  releaseTask: ${release.taskId}", ""]
    return "\n".join(lines)


def _install_plugin(cli: Any, scratch: Path) -> None:
    """The plugin as a user installs it: ``--pack``, then ``pulumi plugin install --file`` (cli's PULUMI_HOME)."""
    from pulumi_fc_invocation import __version__

    packed = subprocess.run([sys.executable, "-m", "pulumi_fc_invocation.plugin", "--pack", str(scratch)],
                            capture_output=True, text=True, timeout=300)
    if packed.returncode != 0:
        raise RuntimeError(f"--pack failed:\n{packed.stdout}{packed.stderr}")
    tarball = packed.stdout.splitlines()[-1]
    cli.run("plugin", "install", "resource", "fc-invocation", __version__, "--file", tarball, check=True)


def _one(pulumi: str, project: Path, count: int, front: str, scratch: Path) -> dict[str, float]:
    from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli
    from pulumi_fc_invocation.testing.server import FcEmulator

    args = ("--parallel", str(4 * (count + 1))) if front.endswith(PARALLEL) else ()
    front = front.replace(PARALLEL, "")
    # The plugin as a user installs it (the tarball in the plugin cache), not a `pulumi-resource-fc-invocation`
    # that this checkout's venv puts on PATH: the engine would prefer that one.
    env = {"PULUMI_IGNORE_AMBIENT_PLUGINS": "true"} if front == "plugin" else None
    with FcEmulator(clock="real") as fc, PulumiCli(project, pulumi=pulumi, env=env) as cli:
        fc.add_function(None, "job", duration=TASK_SECONDS)
        fc.add_function(None, "release", duration=0.1)
        config = fc.stack_config()
        if front == "plugin":
            _install_plugin(cli, scratch)
            config = {f"fc-invocation:{k.split(':', 1)[1]}": v for k, v in config.items()}
        else:
            config["runs:runs"] = str(count)
            config["runs:pollCap"] = f"{POLL_CAP:g}"
        cli.config(config, secret_keys=SECRET_KEYS)
        up = cli.up(*args, timeout=3600)
        if not up.ok:
            raise RuntimeError(f"pulumi up of {count} runs ({front}) failed:\n{up.output[-3000:]}")
        tasks = {t.invocation_id: t for t in fc.invocations}
        jobs = [t for t in tasks.values() if t.function_name == "job"]
        release = tasks[cli.outputs()["releaseTask"]]
        if len(jobs) != count or any(t.status != "Succeeded" for t in jobs):
            raise RuntimeError(f"{front}: expected {count} Succeeded tasks, got "
                               f"{sorted((t.invocation_id, t.status) for t in jobs)}")
        first_start = min(t.started_time for t in jobs) / 1000
        last_start = max(t.started_time for t in jobs) / 1000
        last_end = max(t.end_time for t in jobs) / 1000
        return {"wall": up.seconds, "release_delay": release.started_time / 1000 - last_end,
                "starts_spread": last_start - first_start, "invokes": fc.request_count("invoke"),
                "gets": fc.request_count("get"), "lists": fc.request_count("list")}


def runs(section: Section, *, count: int, fronts: tuple[str, ...] = FRONTS) -> dict[str, Any]:
    from pulumi_fc_invocation.testing.pulumi_cli import find_pulumi
    pulumi = find_pulumi()
    if not pulumi:
        raise RuntimeError("no Pulumi CLI: run `make engine` or set FC_INVOCATION_PULUMI")
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="fc-bench-runs-") as tmp:
        root = Path(tmp)
        python_project, yaml_project, scratch = root / "python", root / "yaml", root / "pack"
        for directory in (python_project, yaml_project, scratch):
            directory.mkdir()
        (python_project / "Pulumi.yaml").write_text("name: runs\nruntime: python\n")
        (python_project / "__main__.py").write_text(PYTHON_PROGRAM)
        (yaml_project / "Pulumi.yaml").write_text(yaml_program(count))
        for front in fronts:
            project = python_project if front == "python" else yaml_project
            out[front] = _one(pulumi, project, count, front, scratch)
    cap = POLL_CAP  # max_poll_interval_seconds: no poll waits longer, its jitter included
    section.add(f"One program with {count} `AsyncTaskRun` on an emulator FC 3.0 function whose tasks take "
                f"{TASK_SECONDS:g} s (real clock, emulator in the benchmark's process), and one more run, `release`, "
                f"with `depends_on` all of them. \"release delay\": the release task's start minus the last of the "
                f"{count} tasks' end (the emulator's clock); every run polls at most every {POLL_CAP:g} s "
                f"(`max_poll_interval_seconds`). \"starts spread\": the last task's start minus the "
                "first's. `pulumi up --skip-preview` from `make engine`; Python: `pulumi_fc_invocation.AsyncTaskRun`; "
                "plugin: the same program in YAML on the installed plugin, by default and with `--parallel 4*(N+1)`. The "
                "plugin's run waits in its Create, so the engine's `--parallel` (default 4 x GOMAXPROCS: 8 on 2 "
                "cores) bounds how many runs start and wait at once; the Python front end's start resources are "
                "fast and its waits run on the program's event loop, outside that bound.", "")
    section.table(["front end", "runs", "wall", "release delay", "starts spread", "InvokeFunction calls",
                   "GetAsyncTask calls", "ListAsyncTasks calls"],
                  [[front, count, f"{r['wall']:.1f} s", f"{r['release_delay']:.1f} s", f"{r['starts_spread']:.1f} s",
                    r["invokes"], r["gets"], r["lists"]] for front, r in out.items()])
    for front, r in out.items():
        section.target(f"{count} runs through the engine ({front}) released within one poll cap of the last task's end",
                       r["release_delay"] <= cap, f"{r['release_delay']:.1f} s; poll cap {cap:g} s")
        section.target(f"{count} runs ({front}) wait concurrently: every task started before the first one ended",
                       r["starts_spread"] < TASK_SECONDS,
                       f"starts spread {r['starts_spread']:.1f} s; a task takes {TASK_SECONDS:g} s")
        section.target(f"{count} runs ({front}): one InvokeFunction per run", r["invokes"] == count + 1,
                       f"{r['invokes']} calls for {count} runs and the release")
    return out
