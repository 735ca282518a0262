"""A Python project laid out as `pulumi new python` lays it out, through the real CLI, set up as a user's.

`runtime: {name: python, options: {toolchain: pip, virtualenv: venv}}`, a requirements.txt naming the
SDK and this package (a wheel built from this clone), the venv created by `pulumi install` (from PyPI,
through pip's cache) and none of the switches users don't have: plugin acquisition on, no
PULUMI_PYTHON_CMD, no PYTHONUNBUFFERED. The language host is the stand-in of `make engine`, which
follows the official one (tools/engine/FIDELITY.md). One venv serves the module: `pulumi install`
runs once, in the `layout` fixture.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli

from _fake_dists import make_venv
from _installed_plugin import NO_DOWNLOAD

ROOT = Path(__file__).resolve().parents[1]
PROGRESS = {"FC_INVOCATION_PROGRESS_SECONDS": "1"}
SWITCHES = ("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "PULUMI_PYTHON_CMD", "PYTHONUNBUFFERED")
VERBOSE = ("--logtostderr", "-v=7")  # the engine logs what GetRequiredPackages found and each plugin sought
REQUIRED = re.compile(r"GetRequiredPackages\(.*?\) success: #versions=(\d+)")

PULUMI_YAML = """\
name: layout
runtime:
  name: python
  options:
    toolchain: pip
    virtualenv: venv
description: A Python program as `pulumi new python` makes it.
"""

PROGRAM = '''\
import os
import sys

import pulumi
from pulumi_fc_invocation import StatefulAsyncInvocation

cfg = pulumi.Config()
if cfg.get_bool("bail"):
    raise ValueError("stopping as the stack config asks")
job = cfg.get("job")
if job:
    gate = StatefulAsyncInvocation("gate", service_name="svc", function_name=cfg.require("function"),
                                   invocation_id=job, wait_for_completion=True, timeout_seconds=120)
    pulumi.export("status", gate.status)
pulumi.export("virtualEnv", os.environ.get("VIRTUAL_ENV"))
pulumi.export("pathHead", os.environ["PATH"].split(os.pathsep)[0])
pulumi.export("prefix", sys.prefix)
pulumi.export("hasConfig", "PULUMI_CONFIG" in os.environ)
pulumi.export("writeThrough", sys.stdout.write_through)
'''


def _package_wheel(directory: Path) -> Path:
    """A wheel of this package built from a copy of the clone (the clone itself is left untouched)."""
    source = directory / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "pulumi_fc_invocation", source / "pulumi_fc_invocation",
                    ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(directory), str(source)],
                   check=True, capture_output=True)
    (wheel,) = directory.glob("pulumi_fc_invocation-*.whl")
    return wheel


def _without_plugin_json(wheel: Path, directory: Path) -> Path:
    """The same wheel less its pulumi-plugin.json (and that file's RECORD line)."""
    member = "pulumi_fc_invocation/pulumi-plugin.json"
    copy = directory / wheel.name
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as target:
        assert member in source.namelist()
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith(".dist-info/RECORD"):
                data = b"".join(line for line in data.splitlines(keepends=True) if not line.startswith(member.encode()))
            if item.filename != member:
                target.writestr(item, data)
    return copy


def _project(directory: Path, requirements: str) -> Path:
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text(PULUMI_YAML)
    (directory / "__main__.py").write_text(PROGRAM)
    (directory / "requirements.txt").write_text(requirements)
    return directory


@pytest.fixture(scope="module")
def fc():
    with FcEmulator(clock="real") as emulator:
        yield emulator


@pytest.fixture(scope="module")
def package_wheel(tmp_path_factory):
    return _package_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def layout(tmp_path_factory, pulumi_bin, package_wheel):
    """The project after `pulumi install` (which created its venv), and what that install printed."""
    wheel = package_wheel
    sdk = importlib.metadata.version("pulumi")
    project = _project(tmp_path_factory.mktemp("layout") / "project", f"pulumi=={sdk}\n{wheel}\n")
    with PulumiCli(project, pulumi=pulumi_bin, env=PROGRESS) as cli:
        # PulumiCli adds none of the test-only switches and drops those of the environment it runs in.
        assert not set(SWITCHES) & set(cli.env)
        install = cli.run("install", *VERBOSE)
        assert install.ok, install.output
        yield cli, install


def _plugin_lines(output: str, name: str) -> list[str]:
    """The engine's log lines about plugin ``name``: looked for, installed or downloaded."""
    return [line for line in output.splitlines() if name in line and re.search(r"plugin|download", line, re.I)]


def test_install_and_up_never_seek_a_plugin_for_the_package(layout):
    """pulumi-plugin.json (`"resource": false`) keeps the official host from taking `pulumi-fc-invocation`
    for resource plugin fc-invocation: `pulumi install` and `pulumi up` find no package to install, with
    plugin acquisition on (and no network to get.pulumi.com here, so a download would fail too)."""
    cli, install = layout
    assert (cli.dir / "venv" / "bin" / "python").is_file()
    assert [int(n) for n in REQUIRED.findall(install.output)] == [0], install.output
    assert not _plugin_lines(install.output, "fc-invocation"), install.output
    cli.run("stack", "init", "plain", "--no-select", check=True)  # a stack without config: no gate, no PULUMI_CONFIG
    up = cli.up("--stack", "plain", *VERBOSE)
    assert up.ok, up.output
    found = [int(n) for n in REQUIRED.findall(up.output)]
    assert found and set(found) == {0}, up.output
    assert not _plugin_lines(up.output, "fc-invocation"), up.output
    assert "fc-invocation" not in cli.run("plugin", "ls", check=True).output
    outputs = cli.run("stack", "output", "--json", "--stack", "plain", check=True, split=True).stdout
    assert '"hasConfig": false' in outputs  # PULUMI_CONFIG only when the stack has config


def test_a_program_that_raises_bails_with_its_traceback_alone(layout):
    """The SDK shows an unhandled exception and exits 32; the host answers "bail", so no exit-code error
    follows (a RunError, by contrast, exits 1: see the failed gate below)."""
    cli, _ = layout
    cli.run("stack", "init", "bail", "--no-select", check=True)
    cli.run("config", "set", "--stack", "bail", "layout:bail", "true", check=True)
    up = cli.up("--stack", "bail")
    assert not up.ok
    assert "ValueError: stopping as the stack config asks" in up.output, up.output
    assert "exit code" not in up.output, up.output


def test_a_pulumi_package_without_plugin_json_is_taken_for_a_plugin(tmp_path, pulumi_bin, package_wheel):
    """The counter-test: the same wheel without pulumi-plugin.json makes `pulumi install` seek plugin
    fc-invocation v0.1.0 and fail to get it, as it did for users before the file shipped."""
    venv = make_venv(tmp_path / "env", _without_plugin_json(package_wheel, tmp_path))
    project = _project(tmp_path / "project", "")
    (project / "Pulumi.yaml").write_text(PULUMI_YAML.replace("virtualenv: venv", f"virtualenv: {venv}"))
    # The test interpreter's bin (first on PATH) holds this package's console script, an ambient plugin
    # the engine would take instead; a user whose venv is not activated has none.
    # The download goes to a closed local port, not the network: the same failure with or without network.
    with PulumiCli(project, pulumi=pulumi_bin, env={"PULUMI_IGNORE_AMBIENT_PLUGINS": "true", **NO_DOWNLOAD}) as cli:
        install = cli.run("install", *VERBOSE)
    assert not install.ok, install.output
    assert [int(n) for n in REQUIRED.findall(install.output)] == [1], install.output
    assert _plugin_lines(install.output, "fc-invocation"), install.output
    assert "error: installing packages: failed to download plugin: fc-invocation-0.1.0" in install.output


def test_a_gate_in_a_pulumi_new_layout_previews_waits_fails_refreshes_and_destroys(layout, fc):
    cli, _ = layout
    venv = cli.dir / "venv"
    fc.add_function("svc", "ok", outcome="Succeeded", queue_delay=0.5, duration=3)
    fc.add_function("svc", "slow", outcome="Succeeded", duration=300)
    fc.add_function("svc", "bad", outcome="Failed", duration=2, error_message="UnhandledException: no disk")
    cli.config(fc.stack_config(), secret_keys={"alicloud:secretKey"})

    cli.config({"layout:function": "slow", "layout:job": "j-slow"})
    fc.client().invoke_async("svc", "slow", "{}", invocation_id="j-slow")
    preview = cli.preview()
    assert preview.ok, preview.output
    assert "waiting for svc/slow/j-slow" not in preview.output

    cli.config({"layout:function": "ok", "layout:job": "j-ok"})
    fc.client().invoke_async("svc", "ok", "{}", invocation_id="j-ok")
    up = cli.up()
    assert up.ok, up.output
    assert "waiting for svc/ok/j-ok to finish" in up.output
    out = cli.outputs()
    assert out["status"] == "Succeeded"
    # the program ran on the project's venv, activated; with config; block-buffered as for users
    assert (out["virtualEnv"], out["pathHead"], out["prefix"]) == (str(venv), str(venv / "bin"), str(venv))
    assert out["hasConfig"] is True and out["writeThrough"] is False

    cli.config({"layout:function": "bad", "layout:job": "j-bad"})
    fc.client().invoke_async("svc", "bad", "{}", invocation_id="j-bad")
    failed = cli.up()
    assert not failed.ok
    assert "invocation svc/bad/j-bad ended Failed: UnhandledException: no disk" in failed.output, failed.output
    # the SDK exits 1 after a failed resource; the official host's words for it (exit 32 would be a bail)
    assert "error: an unhandled error occurred: program exited with non-zero exit code: 1" in failed.output

    refresh = cli.refresh()
    assert refresh.ok, refresh.output
    destroy = cli.destroy()
    assert destroy.ok, destroy.output
    assert cli.resources() == []
