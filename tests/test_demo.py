import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _demo(tmp_path, *args, timeout=120):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # no pulumi CLI, no cloud credentials
    if "--cli" in args and os.environ.get("FC_INVOCATION_PULUMI"):
        env["FC_INVOCATION_PULUMI"] = os.environ["FC_INVOCATION_PULUMI"]
    proc = subprocess.run([sys.executable, "-m", "pulumi_fc_invocation.demo", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stdout


def _assert_success_then_held_back(out, ref):
    """The first release goes out on a task that succeeded; the second is held back by a task that failed."""
    first, second = out.split("=== 2/2: release 2.1.0 after a task that fails")
    assert "Release 2.0.0 goes out." in first and 'releaseId       "release-2.0.0"' in first
    assert re.search(ref + r"-2 ended Failed: UnhandledException: corrupt frame at 00:41", second), second
    assert "player-release 2.1.0 was not" in second and "Release 2.1.0 is held back." in second
    assert re.search(ref + r"-1  Succeeded after 1 retry \(release 2.0.0\)", second), second
    assert re.search(ref + r"-2  Failed after 0 retries: UnhandledException: corrupt frame", second), second


def test_make_demo_main_job_runs_and_shows_progress_and_outputs(tmp_path):
    """FC 3.0 by default: an async task started with x-fc-async-task-id, gated on with AsyncTask."""
    out = _demo(tmp_path, "--harness")
    assert "started async task transcode/" in out and "x-fc-async-task-id" in out
    assert "examples/gate-fc3-task" in out and "AsyncTask" in out
    assert "testing harness" in out  # says how it ran
    assert "--harness: running the program" in out and "No Pulumi CLI" not in out  # and why
    assert ": Running, retried 1 time," in out  # progress while the task runs
    # What it announces is what happens: eight seconds, one retry.
    assert "about 8 s in all" in out and "taskDurationMs  8000" in out and "taskRetries     1" in out
    assert 'taskStatus      "Succeeded"' in out and "taskResult      [secret]" in out
    assert 'taskArn         "acs:fc:cn-hangzhou:' in out and ':functions/transcode"' in out
    assert "read   pulumi-python:dynamic/fc:AsyncTask  transcode  id=transcode/video-" in out
    _assert_success_then_held_back(out, r"transcode/video-[0-9]{8}-[0-9]{6}")


def test_make_demo_api_fc2_runs_the_fc2_program_beside_it(tmp_path):
    """`--api fc2`: the FC 2.0 path (examples/gate-deployment, StatefulAsyncInvocation), same story."""
    out = _demo(tmp_path, "--api", "fc2", "--harness")
    assert "started async task video/transcode/" in out and "X-Fc-Stateful-Async-Invocation-Id" in out
    assert "examples/gate-deployment" in out and "StatefulAsyncInvocation" in out
    assert "testing harness" in out
    assert ": Running, retried 1 time," in out
    assert "about 8 s in all" in out and "taskDurationMs  8000" in out and "taskRetries     1" in out
    assert 'taskStatus      "Succeeded"' in out and "taskResult      [secret]" in out and "taskArn" not in out
    assert "read   pulumi-python:dynamic/fc:StatefulAsyncInvocation  transcode  id=video/transcode/video-" in out
    _assert_success_then_held_back(out, r"video/transcode/video-[0-9]{8}-[0-9]{6}")


def test_make_demo_passes_args_to_the_demo():
    """`make demo ARGS="--api fc2 --harness"` picks the API and the way to run (-n: print, run nothing)."""
    proc = subprocess.run(["make", "-n", "demo", "ARGS=--api fc2 --harness"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "-m pulumi_fc_invocation.demo --api fc2 --harness" in proc.stdout


def test_make_demo_has_a_target_for_each_way_to_run():
    """`make demo-cli` and `make demo-harness` pick the way to run, beside `make demo ARGS=...` (-n: print)."""
    for target, flag in (("demo-cli", "--cli"), ("demo-harness", "--harness")):
        proc = subprocess.run(["make", "-n", target, "ARGS=--api fc2"], cwd=ROOT, capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert f"-m pulumi_fc_invocation.demo {flag} --api fc2" in proc.stdout, proc.stdout


def test_the_first_make_demo_installs_the_package_without_a_setuptools_banner(tmp_path):
    """`make demo` on a fresh clone first runs `pip install -e .` (make venv): setuptools printed a
    "BuildBackendWarning: Editable installation ... Please be careful with folders in your working
    directory" banner for the flat layout's import finder (issue 27, point 7). The Makefile's install line,
    run as `make venv` would run it on a copy of the checkout (the package alone, --no-deps, into a venv of
    its own), prints nothing, and the install exposes the package alone: none of the checkout's other
    folders (benchmarks, tests, tools, ...) becomes importable, nor merges with a user's own `tests`."""
    import shutil

    source = tmp_path / "clone"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "Makefile"):
        shutil.copy(ROOT / name, source / name)
    folders = sorted(path.name for path in ROOT.iterdir() if path.is_dir() and not path.name.startswith(".")
                     and path.name not in ("build", "site") and not path.name.endswith(".egg-info"))
    assert "pulumi_fc_invocation" in folders and "tests" in folders and "benchmarks" in folders, folders
    for name in folders:
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    planned = subprocess.run(["make", "-n", "-C", str(source), "venv", f"VENV={venv}", f"PYTHON={sys.executable}"],
                             capture_output=True, text=True, timeout=60)
    assert planned.returncode == 0, planned.stderr
    (line,) = [line for line in planned.stdout.splitlines() if " -m pip install " in line and " -e " in line]
    # The venv without pip (pip runs from here, --python), the package without its dependencies.
    ours = line.replace(f"{python} -m pip install", f"{sys.executable} -m pip --python {python} install")
    ours = ours.replace("-e '.[test]'", "--no-deps -e .")
    assert ours.count("--python") == 1 and ours.endswith("--no-deps -e ."), ours
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    proc = subprocess.run(["bash", "-c", ours], cwd=source, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    printed = proc.stdout + proc.stderr
    assert "Editable installation" not in printed and "!!" not in printed and "Warning" not in printed, printed
    elsewhere = tmp_path / "elsewhere"  # a user's directory: nothing of the checkout in it
    elsewhere.mkdir()
    probe = ("import importlib.util, json, sys; print(json.dumps({'sys.path': sys.path, 'found': {name: "
             "getattr(importlib.util.find_spec(name), 'origin', '?') if importlib.util.find_spec(name) else None "
             f"for name in {folders!r}}}}}))")
    seen = json.loads(subprocess.run([str(python), "-c", probe], cwd=elsewhere, capture_output=True, text=True,
                                     check=True, timeout=60).stdout)
    assert str(source) not in seen["sys.path"], seen["sys.path"]
    assert seen["found"] == {name: str(source / name / "__init__.py") if name == "pulumi_fc_invocation" else None
                             for name in folders}, seen["found"]


def test_demo_rejects_an_unknown_api_before_starting_anything(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "pulumi_fc_invocation.demo", "--api", "fc1"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--api: invalid choice: 'fc1' (choose from" in proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr


def test_make_demo_through_the_real_pulumi_cli(tmp_path):
    """`make demo` takes the real-CLI path when a CLI exists (CI builds one with `make engine`)."""
    out = _demo(tmp_path, "--cli", timeout=180)
    assert " up --yes   (local file backend in " in out and "testing harness" not in out
    assert "Updating (dev)" in out
    # (progress lines through the CLI are asserted in test_engine; here the machine may be slow to start it)
    assert re.search(r"waiting for transcode/video-[0-9-]+ to finish", out), out
    assert re.search(r"transcode/video-[0-9-]+ is Succeeded after", out), out
    assert "taskStatus" in out and '"Succeeded"' in out and "taskResult      [secret]" in out
    assert "Resources:" in out and "+ 2 created" in out
    # The second `pulumi up` fails on the failed task; the stack keeps the release that went out.
    _assert_success_then_held_back(out, r"transcode/video-[0-9]{8}-[0-9]{6}")
    assert "error: task transcode/video-" in out and "2 errored" in out
    assert 'the stack\'s releaseId is still "release-2.0.0"' in out


def test_pyproject_license_is_an_spdx_string_so_builds_print_no_deprecation():
    """A ``{text = ...}`` table made every build (three in ``make demo``) warn that it is deprecated."""
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["project"]["license"] == "Apache-2.0"
    assert "setuptools>=77" in data["build-system"]["requires"]  # the first to read the string form


def test_the_preview_of_a_new_task_id_names_the_task_it_will_read(pulumi_bin):
    """Only the task id changed: the engine's preview shows the read with no id (the old one under --diff),
    so the gate's own line names the new task and its state (issue 27, point 8): one line, once. A gate
    whose task has ended (nothing for `up` to wait on) says nothing: an unchanged stack of 50 gates
    previewed 50 lines."""
    from pulumi_fc_invocation.testing import FcEmulator
    from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli

    with FcEmulator(clock="real") as fc, PulumiCli(ROOT / "examples" / "gate-fc3-task", pulumi=pulumi_bin) as cli:
        fc.add_function(None, "transcode", duration=0.2)
        client = fc.client()
        client.invoke_async_task("transcode", "{}", task_id="demo-job-1")
        cli.config({**fc.stack_config(), "gate-fc3-task:timeoutSeconds": "60", "gate-fc3-task:taskId": "demo-job-1"},
                   secret_keys={"alicloud:secretKey"})
        assert cli.up().ok
        unchanged = cli.preview()
        assert unchanged.ok and "preview: " not in unchanged.output, unchanged.output
        fc.add_function(None, "transcode", duration=600)  # the next task is still running at the preview
        client.invoke_async_task("transcode", "{}", task_id="demo-job-2")
        cli.config({"gate-fc3-task:taskId": "demo-job-2"})
        preview = cli.preview()
        assert preview.ok, preview.output
        named = "preview: transcode/demo-job-2 is Running now; `pulumi up` waits for it (timeout 1m00s)"
        diagnostics = preview.output.split("Diagnostics:", 1)[1].split("Outputs:", 1)[0].split("Resources:", 1)[0]
        assert [line.strip() for line in diagnostics.splitlines() if "preview: " in line] == [named], preview.output
        assert "demo-job-1" not in preview.output
