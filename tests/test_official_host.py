"""Our Python language host (tools/engine/language_host.py) follows the official one where users meet it.

Users run the official `pulumi-language-python`; the real-CLI tests here run our stand-in, so each
behaviour a user meets is pinned here against the host process itself, over its gRPC protocol
(tools/engine/FIDELITY.md names the official source line of each). The CLI-level rows are in
tests/test_engine_project_layout.py.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

from _clocks import until
from _fake_dists import fake_wheel, make_venv

ROOT = Path(__file__).resolve().parents[1]
HOST = ROOT / "tools" / "engine" / "language_host.py"
NODE_HOST = ROOT / ".pulumi" / "bin" / "pulumi-language-nodejs"  # tools/engine/nodejs, built by `make engine`


def _load_host_module():
    spec = importlib.util.spec_from_file_location("fc_invocation_language_host", HOST)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


host_module = _load_host_module()


@contextlib.contextmanager
def _running_host(env=None, host: Path = HOST, *flags: str):
    """The host as the engine starts it (a process that prints its port), and a client of it. A `.py`
    host runs on this interpreter; anything else (the Go Node.js host) is an executable."""
    argv = [sys.executable, str(host)] if host.suffix == ".py" else [str(host)]
    proc = subprocess.Popen([*argv, *flags], stdout=subprocess.PIPE, env=env, text=True)
    try:
        port = int(proc.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield language_pb2_grpc.LanguageRuntimeStub(channel)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def host():
    with _running_host() as stub:
        yield stub


@pytest.fixture(scope="module")
def probe_venv(tmp_path_factory):
    """A venv holding made-up distributions, one of each kind the official host tells apart."""
    wheels = tmp_path_factory.mktemp("wheels")
    return make_venv(
        tmp_path_factory.mktemp("probe") / "env",
        fake_wheel(wheels, "pulumi-h6probe", "1.2.3"),  # pulumi-* without pulumi-plugin.json: a plugin
        fake_wheel(wheels, "pulumi-h6optout", "2.0.0", {"resource": False}),  # pulumi#8011's opt-out
        fake_wheel(wheels, "pulumi-h6empty", "3.0.0", {}),  # "resource" missing reads as false
        fake_wheel(wheels, "pulumi-h6named", "0.5.0",
                   {"resource": True, "name": "named", "version": "7.0.1", "server": "https://plugins.invalid/x"}),
        fake_wheel(wheels, "h6plain", "1.0", {"resource": True}),  # any name, with a pulumi-plugin.json
        fake_wheel(wheels, "pulumi-h6pre", "2.1a3"),  # a PEP 440 pre-release as a semver one
        fake_wheel(wheels, "pulumi-h6local", "1.0+abc"),  # a local version has no plugin version: left out
        fake_wheel(wheels, "pulumi-policy", "1.0.0"),  # known to have no plugin
    )


def _info(root: Path, program: Path = None, **options) -> language_pb2.ProgramInfo:
    info = language_pb2.ProgramInfo(root_directory=str(root), program_directory=str(program or root),
                                    entry_point=".")
    if options:
        info.options.CopyFrom(struct_pb2.Struct())
        info.options.update(options)
    return info


def _plugin_output(responses) -> tuple[str, int]:
    out, code = [], 0
    for response in responses:
        out.append((response.stdout or response.stderr).decode())
        code = response.exitcode or code
    return "".join(out), code


def test_required_packages_follow_pip_list_and_pulumi_plugin_json(host, probe_venv, tmp_path):
    """A `pulumi-*` distribution without pulumi-plugin.json is a resource plugin named after it at its
    version; `"resource": false` (or no "resource") opts out; a pulumi-plugin.json names any package's
    plugin. The venv resolves against the root directory, not the program directory."""
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    os.symlink(probe_venv, root / "env")  # resolved against `src` it would not exist (and be created)
    response = host.GetRequiredPackages(language_pb2.GetRequiredPackagesRequest(
        info=_info(root, root / "src", virtualenv="env")))
    got = sorted((p.name, p.version, p.kind, p.server) for p in response.packages)
    assert got == [
        ("h6plain", "v1.0.0", "resource", ""),
        ("h6pre", "v2.1.0-alpha.3", "resource", ""),
        ("h6probe", "v1.2.3", "resource", ""),
        ("named", "v7.0.1", "resource", "https://plugins.invalid/x"),
    ]
    assert not (root / "src" / "env").exists()


def test_required_packages_use_the_ambient_python_without_a_virtualenv(probe_venv, tmp_path):
    """No `virtualenv` option: `python3` from PATH (here the probe venv's, first on PATH as when activated)."""
    env = {**os.environ, "PATH": f"{probe_venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PULUMI_PYTHON_CMD", None)
    with _running_host(env) as stub:
        response = stub.GetRequiredPackages(language_pb2.GetRequiredPackagesRequest(info=_info(tmp_path)))
    assert "h6probe" in {p.name for p in response.packages}


def test_run_with_a_missing_virtualenv_fails_with_the_official_message(host, tmp_path):
    with pytest.raises(grpc.RpcError) as caught:
        host.Run(language_pb2.RunRequest(info=_info(tmp_path, virtualenv="venv"), pwd=str(tmp_path)))
    assert caught.value.code() == grpc.StatusCode.UNKNOWN
    assert caught.value.details().startswith(
        f"The 'virtualenv' option in Pulumi.yaml is set to \"venv\", but \"{tmp_path / 'venv'}\" doesn't exist; "
        "run the following commands to create the virtual environment")
    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / "stray").write_text("")
    with pytest.raises(grpc.RpcError) as caught:
        host.Run(language_pb2.RunRequest(info=_info(tmp_path, virtualenv="venv"), pwd=str(tmp_path)))
    assert "doesn't appear to be a virtual environment" in caught.value.details()


def test_a_virtualenv_path_that_is_a_file_fails_required_packages_as_in_the_official_host(host, tmp_path):
    """GetRequiredPackages first makes sure the venv exists (creating a missing one); a file is refused."""
    (tmp_path / "venv").write_text("")
    with pytest.raises(grpc.RpcError) as caught:
        host.GetRequiredPackages(language_pb2.GetRequiredPackagesRequest(info=_info(tmp_path, virtualenv="venv")))
    assert caught.value.details() == (f"the 'virtualenv' option in Pulumi.yaml is set to \"{tmp_path / 'venv'}\" "
                                      "but it is not a directory")


@pytest.mark.parametrize("options, message", [
    ({"toolchain": "conda"}, "unsupported toolchain option: conda"),
    ({"toolchain": "uv"}, "toolchain uv: not supported by this repository's stand-in language host"),
    ({"virtualenv": 3}, "virtualenv option must be a string"),
    ({"typechecker": "mypy"}, "typechecker mypy: not supported by this repository's stand-in language host"),
])
def test_options_the_stand_in_does_not_run_are_errors_not_silently_pip(host, tmp_path, options, message):
    with pytest.raises(grpc.RpcError) as caught:
        host.Run(language_pb2.RunRequest(info=_info(tmp_path, **options), pwd=str(tmp_path)))
    assert message in caught.value.details()


def test_a_uv_lock_selects_uv_as_in_the_official_host(host, tmp_path):
    (tmp_path / "uv.lock").write_text("")
    with pytest.raises(grpc.RpcError) as caught:
        host.Run(language_pb2.RunRequest(info=_info(tmp_path), pwd=str(tmp_path)))
    assert "toolchain uv: not supported" in caught.value.details()


def _plugin_dir(path: Path) -> Path:
    path.mkdir()
    (path / "PulumiPlugin.yaml").write_text("runtime: python\n")
    (path / "__main__.py").write_text(
        "import os, sys\nprint(sys.prefix, os.environ.get('VIRTUAL_ENV'), os.environ.get('FROM_ENGINE'))\n")
    return path


def test_a_python_plugin_without_its_venv_fails_as_under_the_official_host(host, tmp_path):
    """RunPlugin runs `<plugin dir>/venv/bin/python` and nothing creates it (pulumi/pulumi#20756)."""
    plugin = _plugin_dir(tmp_path / "plugin")
    with pytest.raises(grpc.RpcError) as caught:
        _plugin_output(host.RunPlugin(language_pb2.RunPluginRequest(info=_info(plugin), pwd=str(tmp_path))))
    assert caught.value.details() == ("problem executing plugin program (could not run language executor): "
                                      f"fork/exec {plugin / 'venv' / 'bin' / 'python'}: no such file or directory")


def test_a_python_plugin_runs_on_its_virtualenv_activated_with_the_engine_env(host, probe_venv, tmp_path):
    plugin = _plugin_dir(tmp_path / "plugin")
    out, code = _plugin_output(host.RunPlugin(language_pb2.RunPluginRequest(
        info=_info(plugin, virtualenv=str(probe_venv)), pwd=str(tmp_path), env=["FROM_ENGINE=yes"])))
    assert code == 0
    assert out.split() == [str(probe_venv), str(probe_venv), "yes"]


def test_install_dependencies_of_a_plugin_creates_its_venv_and_then_it_runs(host, tmp_path):
    """`pulumi install` (InstallDependencies, is_plugin) is what creates `<plugin dir>/venv`; after it the
    plugin starts. Upgrades pip, setuptools and wheel from PyPI (pip's cache), as the official host does."""
    plugin = _plugin_dir(tmp_path / "plugin")
    (plugin / "requirements.txt").write_text("")
    stream = host.InstallDependencies(language_pb2.InstallDependenciesRequest(info=_info(plugin), is_plugin=True))
    shown = "".join((r.stdout or r.stderr).decode() for r in stream)
    assert "Creating virtual environment..." in shown and "Finished installing dependencies" in shown, shown
    out, code = _plugin_output(host.RunPlugin(language_pb2.RunPluginRequest(info=_info(plugin), pwd=str(tmp_path))))
    assert code == 0 and out.split()[:2] == [str(plugin / "venv")] * 2


FAKE_EXEC = """\
import json, os, pathlib, sys, time
out = pathlib.Path(os.environ["FAKE_EXEC_DIR"])
seen = {"argv": sys.argv[1:], "config": os.environ.get("PULUMI_CONFIG"),
        "secret_keys": os.environ.get("PULUMI_CONFIG_SECRET_KEYS"), "write_through": sys.stdout.write_through}
(out / "seen.json").write_text(json.dumps(seen))
try:
    time.sleep(120)
except KeyboardInterrupt:
    (out / "interrupted").write_text("")
    raise
"""


def test_run_passes_the_official_arguments_and_cancel_interrupts_the_program(tmp_path):
    """Run starts `python <exec> --monitor ... <entry>` (no -u; PULUMI_CONFIG only with config); the
    Cancel RPC SIGINTs it, and a death by signal is reported as Go reports it (-1). The exec script
    here is a stand-in that records what it got and sleeps, so the host runs without an engine."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shutil.copy(HOST, bin_dir / "language_host.py")
    (bin_dir / "pulumi-language-python-exec").write_text(FAKE_EXEC)
    # PULUMI_PYTHON_CMD: the interpreter running the tests, whatever `python3` on this PATH is.
    env = {**os.environ, "FAKE_EXEC_DIR": str(tmp_path), "PULUMI_PYTHON_CMD": sys.executable}
    env.pop("PYTHONUNBUFFERED", None)
    seen = tmp_path / "seen.json"
    with _running_host(env, bin_dir / "language_host.py", "--tracing", "http://trace.invalid") as stub:
        request = language_pb2.RunRequest(info=_info(tmp_path), pwd=str(tmp_path), project="p", stack="s",
                                          monitor_address="127.0.0.1:1", parallel=4)
        run = stub.Run.future(request)
        until(lambda: seen.exists() or run.done(), timeout=30)  # the fake program starting
        stub.Cancel(empty_pb2.Empty())
        response = run.result(timeout=30)
    assert json.loads(seen.read_text()) == {
        "argv": ["--monitor", "127.0.0.1:1", "--project", "p", "--root_directory", str(tmp_path), "--stack", "s",
                 "--pwd", str(tmp_path), "--dry_run", "false", "--parallel", "4", "--tracing", "http://trace.invalid",
                 "."],
        "config": None, "secret_keys": "[]", "write_through": False}
    assert (tmp_path / "interrupted").exists()
    assert response.error == "program exited with non-zero exit code: -1"


FAKE_RUN_JS = """\
const fs = require("fs");
const out = process.env.FAKE_RUN_DIR;
process.once("SIGINT", () => {
  fs.writeFileSync(out + "/interrupted", "");
  process.kill(process.pid, "SIGINT");  // the listener is gone: die by the signal, as an unhandled one does
});
fs.writeFileSync(out + "/seen.json", JSON.stringify({argv: process.argv.slice(2),
  config: process.env.PULUMI_CONFIG ?? null, secret_keys: process.env.PULUMI_CONFIG_SECRET_KEYS ?? null}));
setTimeout(() => {}, 120000);
"""


def test_nodejs_run_passes_the_official_arguments_and_cancel_interrupts_the_program(tmp_path):
    """FIDELITY N2, N4: our Node.js host runs `node <run script> --monitor ... <entry>` with PULUMI_CONFIG
    (`{}` when empty); the Cancel RPC SIGINTs the program (a user's Ctrl+C), and a death by that signal
    is reported as Go reports it (-1). The run script is a stand-in (PULUMI_LANGUAGE_NODEJS_RUN_PATH, as
    the official host reads it) that records what it got and waits, so no engine is needed."""
    if not NODE_HOST.is_file():
        pytest.fail(f"no {NODE_HOST}: run `make engine` (needs Go)")
    run_js = tmp_path / "run.js"
    run_js.write_text(FAKE_RUN_JS)
    env = {**os.environ, "FAKE_RUN_DIR": str(tmp_path), "PULUMI_LANGUAGE_NODEJS_RUN_PATH": str(run_js)}
    seen = tmp_path / "seen.json"
    with _running_host(env, NODE_HOST, "--tracing", "http://trace.invalid") as stub:
        request = language_pb2.RunRequest(info=_info(tmp_path), pwd=str(tmp_path), project="p", stack="s",
                                          monitor_address="127.0.0.1:1", parallel=4)
        run = stub.Run.future(request)
        until(lambda: seen.exists() or run.done(), timeout=30)  # node starting
        assert seen.exists(), run.result(timeout=30)
        stub.Cancel(empty_pb2.Empty())
        response = run.result(timeout=30)
    assert json.loads(seen.read_text()) == {
        "argv": ["--monitor", "127.0.0.1:1", "--project", "p", "--root-directory", str(tmp_path), "--stack", "s",
                 "--pwd", str(tmp_path), "--parallel", "4", "--tracing", "http://trace.invalid", "."],
        "config": "{}", "secret_keys": "[]"}
    assert (tmp_path / "interrupted").exists()
    assert response.error == "Program exited with non-zero exit code: -1"


@contextlib.contextmanager
def _schema_loader(schemas: dict):
    """An in-process `codegen.Loader` (the engine's schema loader that Link asks) serving ``schemas``."""
    from pulumi.runtime.proto.codegen import loader_pb2

    asked = []

    def get_schema(request, context):
        asked.append((request.package, request.version))
        return loader_pb2.GetSchemaResponse(schema=json.dumps(schemas[request.package]).encode())

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("codegen.Loader", {
        "GetSchema": grpc.unary_unary_rpc_method_handler(
            get_schema, request_deserializer=loader_pb2.GetSchemaRequest.FromString,
            response_serializer=loader_pb2.GetSchemaResponse.SerializeToString)})])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}", asked
    finally:
        server.stop(0)


def test_link_writes_the_sdk_paths_into_requirements_txt_as_pip_link_does(host, tmp_path):
    """`pulumi package add` in a pip project: the lines naming the packages (by name, `-` as `_`, or by
    path) give way to their paths, sorted, with the file's CRLF endings; the import names come from the
    schema (`language.python.packageName`, else `<namespace>_<name>` as `<name>`)."""
    (tmp_path / "requirements.txt").write_bytes(
        b"pulumi>=3.0.0,<4.0.0\r\npulumi-fc-invocation-sdk==0.0.1\r\nsdks/my-pkg\r\nrequests\r\n")
    schemas = {"my-pkg": {"name": "my-pkg", "namespace": "acme"},
               "fc-invocation": {"name": "fc-invocation",
                                 "language": {"python": {"packageName": "pulumi_fc_invocation_sdk"}}}}
    with _schema_loader(schemas) as (target, asked):
        response = host.Link(language_pb2.LinkRequest(info=_info(tmp_path), loader_target=target, packages=[
            language_pb2.LinkRequest.LinkDependency(path="sdks/my-pkg", package=plugin_pb2.PackageDependency(
                name="my-pkg", kind="resource", version="1.0.0")),
            language_pb2.LinkRequest.LinkDependency(path="sdks/fc-invocation", package=plugin_pb2.PackageDependency(
                name="fc-invocation", kind="resource", version="0.1.0")),
        ]))
    assert sorted(asked) == [("fc-invocation", "0.1.0"), ("my-pkg", "1.0.0")]
    assert (tmp_path / "requirements.txt").read_bytes() == \
        b"pulumi>=3.0.0,<4.0.0\r\nrequests\r\nsdks/fc-invocation\r\nsdks/my-pkg\r\n"
    assert response.import_instructions == ("You can import the SDKs in your Python code with:\n\n"
                                            "  import acme_my_pkg as my_pkg\n"
                                            "  import pulumi_fc_invocation_sdk as pulumi_fc_invocation_sdk\n")


def test_link_without_requirements_txt_or_pyproject_fails_as_in_the_official_host(host, tmp_path):
    with _schema_loader({"x": {"name": "x"}}) as (target, _):
        with pytest.raises(grpc.RpcError) as caught:
            dependency = language_pb2.LinkRequest.LinkDependency(
                path="sdks/x", package=plugin_pb2.PackageDependency(name="x"))
            host.Link(language_pb2.LinkRequest(info=_info(tmp_path), loader_target=target, packages=[dependency]))
    assert caught.value.details() == f"no pyproject.toml or requirements.txt found in {tmp_path}"


def test_activation_sets_virtual_env_puts_its_bin_first_and_drops_pythonhome():
    env = host_module.activate({"PATH": "/usr/bin", "PYTHONHOME": "/opt/py", "VIRTUAL_ENV": "/old"}, "/p/venv")
    assert env == {"PATH": "/p/venv/bin:/usr/bin", "VIRTUAL_ENV": "/p/venv"}
    assert host_module.activate({}, "/p/venv") == {"PATH": "/p/venv/bin", "VIRTUAL_ENV": "/p/venv"}


@pytest.mark.parametrize("pep440, semver", [
    ("0.1.0", "0.1.0"), ("1.0", "1.0.0"), ("3", "3.0.0"), ("1.2.3.4", "1.2.3.4"), ("1.2.3a4", "1.2.3-alpha.4"),
    ("1.2.3b1", "1.2.3-beta.1"), ("1.2.3rc2", "1.2.3-rc.2"), ("1.2.3.post4", "1.2.3+post4"),
    ("1.2.3.dev5", "1.2.3+dev5"), ("1.2.3.post4.dev5", "1.2.3+post4dev5"), ("1!2.0", None), ("1.0+abc", None),
])
def test_package_versions_become_plugin_versions_as_in_the_official_host(pep440, semver):
    assert host_module.plugin_version_of(pep440) == semver


def test_the_engine_address_follows_go_style_flags():
    assert host_module.parse_args(["--logtostderr", "-v=9", "--tracing", "http://t", "127.0.0.1:5"]) == \
        ("127.0.0.1:5", "http://t")
    assert host_module.parse_args(["-tracing=http://t", "127.0.0.1:5"]) == ("127.0.0.1:5", "http://t")


BUFFERING_PROGRAM = """\
import sys

import pulumi

pulumi.export("writeThrough", sys.stdout.write_through)
"""


def test_pulumi_cli_drops_the_test_only_switches_of_the_environment_it_runs_in(pulumi_bin, monkeypatch, tmp_path):
    """FIDELITY P5 and the default test path: a shell or CI that exports PYTHONUNBUFFERED (this machine
    does), PULUMI_PYTHON_CMD, ... does not reach the runs, so a program's stdout is block-buffered as a
    user's is; a test that needs a switch passes it in env=, and then has it."""
    from pulumi_fc_invocation.testing import PulumiCli

    switches = {"PYTHONUNBUFFERED": "1", "PULUMI_PYTHON_CMD": "/nowhere/python",
                "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true", "PULUMI_IGNORE_AMBIENT_PLUGINS": "true",
                "PULUMI_RUNTIME_VIRTUALENV": "/nowhere/venv"}
    for name, value in switches.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FC_INVOCATION_UNRELATED", "kept")
    (tmp_path / "Pulumi.yaml").write_text("name: buffering\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(BUFFERING_PROGRAM)
    with PulumiCli(tmp_path, pulumi=pulumi_bin) as cli:
        assert not set(switches) & set(cli.env) and cli.env["FC_INVOCATION_UNRELATED"] == "kept"
        result = cli.up()
        assert result.ok, result.output
        assert cli.outputs()["writeThrough"] is False
    with PulumiCli(tmp_path, pulumi=pulumi_bin, env={"PYTHONUNBUFFERED": "1"}) as cli:
        assert cli.env["PYTHONUNBUFFERED"] == "1"
