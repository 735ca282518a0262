"""The plugin as an executable plugin (issue 23): the tarball of ``--pack``, its launcher as the engine runs
it, ``--install`` with the real CLI, and the wheel's console script as an ambient plugin through the engine."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2_grpc

from _installed_plugin import (INSTALLED_ONLY, ROOT, VERBOSE, VERSION, install_plugin, npm_tarball, sdks, sought, tarball,
                               wheel)
from pulumi_fc_invocation.plugin.pack import pack, platform_tag
from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli

# This machine as Pulumi names platforms (the tests run on Linux and macOS, x86-64 and ARM).
HERE = ({"linux": "linux", "darwin": "darwin"}[sys.platform],
        {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine().lower()])


def members(path: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(path) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_pack_writes_the_named_tarball_with_the_launcher_alone_at_its_root(tmp_path):
    out = tmp_path / "dist" / "new"  # created when missing; named relative to the working directory
    done = subprocess.run([sys.executable, "-m", "pulumi_fc_invocation.plugin", "--pack", "dist/new"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.splitlines()[-1])
    assert path == out / f"pulumi-resource-fc-invocation-v{VERSION}-{HERE[0]}-{HERE[1]}.tar.gz"
    assert re.fullmatch(r"pulumi-resource-fc-invocation-v\d+\.\d+\.\d+-(linux|darwin|windows)-(amd64|arm64)\.tar\.gz",
                        path.name)
    (launcher,) = members(path).values()
    assert launcher.name == "pulumi-resource-fc-invocation" and launcher.isfile()
    assert launcher.mode & 0o777 == 0o755
    with tarfile.open(path) as tar:
        text = tar.extractfile(launcher).read().decode()
    assert text.startswith("#!/bin/sh\n") and f"'{sys.executable}'" in text, text
    assert "--install" in text  # says how to mend it when the interpreter goes


def test_a_windows_tarball_holds_a_cmd_launcher_and_an_unknown_platform_is_refused(tmp_path):
    path = pack(tmp_path, python=r"C:\venv\Scripts\python.exe", system="win32", machine="AMD64")
    assert path.name == f"pulumi-resource-fc-invocation-v{VERSION}-windows-amd64.tar.gz"
    (launcher,) = members(path).values()
    assert launcher.name == "pulumi-resource-fc-invocation.cmd"  # the engine looks only for .exe and .cmd there
    with tarfile.open(path) as tar:
        text = tar.extractfile(launcher).read().decode()
    assert text.startswith("@echo off\r\n") and '"C:\\venv\\Scripts\\python.exe" -E -c' in text and "%*" in text
    assert pack(tmp_path, system="darwin", machine="arm64").name.endswith("-darwin-arm64.tar.gz")
    with pytest.raises(ValueError, match=r"cannot pack the plugin on sunos5/sparc: Pulumi plugins are built for"):
        platform_tag("sunos5", "sparc")


def test_pack_refuses_an_interpreter_that_finds_the_package_only_through_pythonpath(tmp_path):
    """The launcher runs ``python -E``: a package reached through PYTHONPATH alone would pack, then fail at
    every engine start. The base interpreter under this venv has no package of its own."""
    base = Path(sys.base_prefix) / "bin" / "python3"
    argv = [str(base), "-m", "pulumi_fc_invocation.plugin", "--pack", str(tmp_path / "out")]
    done = subprocess.run(argv, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=tmp_path,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert done.returncode != 0 and "without PYTHONPATH" in done.stderr, (done.returncode, done.stderr)
    assert "cannot pack the plugin for" in done.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_the_launcher_serves_the_engine_from_a_program_directory_that_has_its_own_grpc_py(tmp_path):
    """As the engine runs it: in the program's directory, flags then the engine's address; the port alone
    on the first stdout line; SIGINT to its process group ends it cleanly. A program's own grpc.py (first
    on sys.path under `python -c`, or through a PYTHONPATH naming `.` or the directory) must not shadow grpc."""
    with tarfile.open(tarball()) as tar:
        tar.extractall(tmp_path / "plugin", **({"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}))
    program = tmp_path / "program"
    program.mkdir()
    (program / "grpc.py").write_text("raise SystemExit('the program directory shadowed grpc')\n")
    proc = subprocess.Popen([str(tmp_path / "plugin" / "pulumi-resource-fc-invocation"), "--logtostderr", "-v=9",
                             "--tracing", "", "127.0.0.1:1"], cwd=program, stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join([".", str(program)])},
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        first = proc.stdout.readline()
        assert re.fullmatch(r"\d+\n", first), first + proc.stderr.read()
        with grpc.insecure_channel(f"127.0.0.1:{first.strip()}") as channel:
            info = provider_pb2_grpc.ResourceProviderStub(channel).GetPluginInfo(empty_pb2.Empty(), timeout=30)
        assert info.version == VERSION
        os.killpg(proc.pid, signal.SIGINT)  # what the engine does, then SIGKILL after 5 s
        # A clean exit (0) is the point: it takes about 0.2 s here, but a loaded CI machine once took the
        # interpreter's shutdown past the engine's 5 s, which is load, not this plugin's doing.
        try:
            code = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("no exit 20 s after SIGINT: " + proc.communicate()[1][-2000:]) from None
        assert code == 0, proc.stderr.read()[-2000:]
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_install_packs_and_installs_with_the_pulumi_on_path_then_plugin_ls_lists_it(pulumi_bin, tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "PULUMI_HOME": str(home), "PULUMI_SKIP_UPDATE_CHECK": "true",
           "PATH": f"{Path(pulumi_bin).parent}{os.pathsep}/usr/bin{os.pathsep}/bin"}
    env.pop("FC_INVOCATION_PULUMI", None)

    def install(**extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pulumi_fc_invocation.plugin", "--install"], env={**env, **extra},
                              capture_output=True, text=True, timeout=300)

    done = install()
    assert done.returncode == 0, done.stdout + done.stderr
    where = home / "plugins" / f"resource-fc-invocation-v{VERSION}"
    assert f"installed resource plugin fc-invocation v{VERSION} into {where}" in done.stdout, done.stdout
    assert "plugin install resource fc-invocation" in done.stdout  # says what it ran
    assert os.access(where / "pulumi-resource-fc-invocation", os.X_OK)
    listed = subprocess.run([pulumi_bin, "plugin", "ls", "--json"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert [(p["name"], p["kind"], p["version"]) for p in json.loads(listed.stdout)] == \
        [("fc-invocation", "resource", VERSION)]
    again = install()  # a second run replaces it (--reinstall): how a rebuilt venv is mended
    assert again.returncode == 0, again.stdout + again.stderr

    elsewhere = install(PATH=f"/usr/bin{os.pathsep}/bin", FC_INVOCATION_PULUMI=pulumi_bin)
    assert elsewhere.returncode == 0, elsewhere.stdout + elsewhere.stderr
    missing = install(PATH=f"/usr/bin{os.pathsep}/bin")
    assert missing.returncode != 0
    assert "--install needs the Pulumi CLI: put `pulumi` on PATH or name it with FC_INVOCATION_PULUMI" in missing.stderr


PROGRAM = """
    name: gate-only
    runtime: yaml
    resources:
      gate:
        type: fc-invocation:AsyncTask
        properties:
          functionName: migrate
          taskId: {task}
          waitForCompletion: true
          timeoutSeconds: 60
    outputs:
      status: ${{gate.status}}
"""


@pytest.fixture
def fc():
    with FcEmulator(clock="real") as emulator:
        emulator.add_function(None, "migrate", outcome="Succeeded", queue_delay=0, duration=2)
        yield emulator


def gate_only(fc, pulumi_bin, tmp_path, task: str, env: dict[str, str]) -> PulumiCli:
    project = tmp_path / "gate-only"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(textwrap.dedent(PROGRAM.format(task=task)).lstrip())
    cli = PulumiCli(project, pulumi=pulumi_bin, env=env)
    cli.config({f"fc-invocation:{k.split(':', 1)[1]}": v for k, v in fc.stack_config().items()},
               secret_keys={"fc-invocation:secretKey"})
    fc.client().invoke_async_task("migrate", "{}", task_id=task)
    return cli


def test_the_console_script_on_path_serves_as_an_ambient_plugin_and_the_engine_says_so(fc, pulumi_bin, tmp_path):
    """The wheel's console script, on PATH (the test venv's bin; PulumiCli puts it there as an activated
    venv would): nothing installed in PULUMI_HOME, acquisition on, and the engine warns on every run."""
    script = Path(sys.executable).parent / "pulumi-resource-fc-invocation"
    assert os.access(script, os.X_OK), "the venv lacks the console script: reinstall the package"
    with gate_only(fc, pulumi_bin, tmp_path, "a1", {"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "false"}) as cli:
        up = cli.up()
        assert up.ok, up.output
        assert f"using pulumi-resource-fc-invocation from $PATH at {script}" in up.output, up.output
        assert cli.outputs()["status"] == "Succeeded"
        assert not (cli.home / "plugins" / f"resource-fc-invocation-v{VERSION}").exists()


def test_with_ambient_plugins_ignored_the_program_needs_the_installed_plugin(fc, pulumi_bin, tmp_path):
    """INSTALLED_ONLY (the other real-CLI tests' setting) leaves the installed plugin as the only route:
    without it the engine seeks fc-invocation (its latest release: a YAML program names no version) and
    fails; installed, the same program gates and seeks nothing."""
    with gate_only(fc, pulumi_bin, tmp_path, "i1", INSTALLED_ONLY) as cli:
        missing = cli.up(*VERBOSE)
        assert not missing.ok
        assert sought(missing.output) == ["installPlugin(fc-invocation, <nil>): beginning install"], missing.output
        install_plugin(cli)
        up = cli.up(*VERBOSE)
        assert up.ok, up.output
        assert sought(up.output) == [], up.output
        assert "from $PATH" not in up.output, up.output
        assert cli.outputs()["status"] == "Succeeded"


NAMED = {"resource": True, "name": "fc-invocation", "version": VERSION}


def assert_names_the_plugin(npm: Path, whl_path: Path) -> None:
    """The npm tarball and the wheel name plugin fc-invocation at the schema's version (the one --install
    installs), the version pkg/v3 writes as a placeholder unless told to respect the schema's."""
    with tarfile.open(npm) as tar:
        package = json.load(tar.extractfile("package/package.json"))
        names = set(tar.getnames())
    assert (package["name"], package["version"], package["pulumi"]) == ("@pulumi/fc-invocation", VERSION, NAMED)
    assert {"package/index.js", "package/index.d.ts", "package/asyncTask.js", "package/asyncTask.d.ts"} <= names
    with zipfile.ZipFile(whl_path) as whl:
        assert json.loads(whl.read("pulumi_fc_invocation_sdk/pulumi-plugin.json")) == NAMED
        assert f"Version: {VERSION}\n" in whl.read(f"pulumi_fc_invocation_sdk-{VERSION}.dist-info/METADATA").decode()


def test_make_sdks_builds_an_npm_tarball_a_wheel_and_go_source_that_name_the_plugin_at_its_version():
    out = sdks()
    assert_names_the_plugin(npm_tarball(), wheel())
    named = NAMED
    cli = os.environ.get("FC_INVOCATION_PULUMI")
    if cli and not (Path(cli).parent / "pulumi-language-go").exists() and not shutil.which("pulumi-language-go"):
        assert not (out / "go").exists()  # that CLI's gen-sdk has no Go host: build.sh says so
        return
    go = out / "go" / "fcinvocation"
    assert json.loads((go / "pulumi-plugin.json").read_text()) == named
    assert f'version := semver.MustParse("{VERSION}")' in (go / "internal" / "pulumiUtilities.go").read_text()
    assert "type AsyncTask struct" in (go / "asyncTask.go").read_text()
    again = subprocess.run(["bash", str(ROOT / "tools" / "sdks" / "build.sh"), sys.executable], capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 0 and "sdks: up to date" in again.stdout, again.stdout + again.stderr


def test_without_go_make_sdks_generates_with_the_pulumi_cli_named_by_fc_invocation_pulumi(pulumi_bin, tmp_path):
    """A contributor without Go names a CLI (FC_INVOCATION_PULUMI): its `pulumi package gen-sdk` generates
    (schema.json's respectSchemaVersion names the plugin's version), into the directory given."""
    env = {**os.environ, "FC_INVOCATION_PULUMI": pulumi_bin, "PULUMI_HOME": str(tmp_path / "home"),
           "PULUMI_SKIP_UPDATE_CHECK": "true"}
    done = subprocess.run(["bash", str(ROOT / "tools" / "sdks" / "build.sh"), sys.executable, str(tmp_path / "sdks")],
                          env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"with {pulumi_bin} package gen-sdk" in done.stdout, done.stdout
    out = Path(done.stdout.splitlines()[-1])
    assert out == tmp_path / "sdks"
    (npm,) = (out / "nodejs").glob("*.tgz")
    (whl,) = (out / "python").glob("*.whl")
    assert_names_the_plugin(npm, whl)


GENSDK = ROOT / ".pulumi" / "bin" / "fc-invocation-gensdk"


@pytest.mark.skipif(not GENSDK.exists(), reason="fc-invocation-gensdk is built with Go by make engine (CI has it); "
                    "without Go, make sdks uses FC_INVOCATION_PULUMI's gen-sdk, tested above")
def test_the_sdk_generator_refuses_csharp_and_a_schema_without_a_version(tmp_path):
    gensdk = GENSDK
    schema = json.loads((ROOT / "schema.json").read_text())
    refused = subprocess.run([str(gensdk), "sdk", "dotnet", str(ROOT / "schema.json"), str(tmp_path / "cs")],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "no C# generator" in refused.stderr, refused.stderr
    del schema["version"]
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    unversioned = subprocess.run([str(gensdk), "sdk", "nodejs", str(tmp_path / "schema.json"), str(tmp_path / "ts")],
                                 capture_output=True, text=True, timeout=60)
    assert unversioned.returncode != 0 and "has no version: the SDK would name no plugin version" in unversioned.stderr
