"""A Python language host for the Pulumi CLI built by `make engine`, following the official one.

Why this exists: the official host, the Go module
`github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3`, is not served by the module proxy
this project can reach (every version answers 403), while the CLI (`pkg/v3`) and the SDK module that
carries the host's two scripts are. So `make engine` installs this file as `pulumi-language-python`.
Users run the official host, so this one does what it does wherever a user would see a difference
(tools/engine/FIDELITY.md lists each behaviour, the official source line and the test that pins it):
- Interpreter: with `virtualenv` set, `<root directory>/<virtualenv>/bin/python`, validated (a clear
  error when it is missing) and activated (VIRTUAL_ENV, its bin first on PATH, PYTHONHOME dropped);
  otherwise `$PULUMI_PYTHON_CMD`, else `python3`, else `python` from PATH. A `runtime: python` plugin
  always has a virtualenv (`venv` in its directory by default), which nothing creates but
  InstallDependencies: a missing one fails with `fork/exec …/venv/bin/python: no such file or directory`.
- Run: the SDK's `pulumi-language-python-exec` with the official arguments, no `-u` (output is
  block-buffered as for users), PULUMI_CONFIG only when there is config, PULUMI_CONFIG_SECRET_KEYS;
  exit code 32 is a bail; SIGINT once on cancellation (the Cancel RPC or the end of the call), a kill 5 s
  later; a Run after Cancel does not start. SIGINT to the host stops it once its calls have ended.
- GetRequiredPackages: `pip list --format json` with the program's interpreter, then each package's
  `pulumi-plugin.json`; a `pulumi-*` distribution without one is taken for resource plugin
  `<name minus pulumi->` at its version, and `"resource": false` opts out (pulumi/pulumi#8011). With a
  `virtualenv` option that does not exist yet, it first creates it (as the official host does).
- InstallDependencies: `python3 -m venv` (when a virtualenv is set), `pip install --upgrade pip
  setuptools wheel`, `pip install -r requirements.txt`; for a plugin with a buildable pyproject.toml,
  `pip install <plugin dir>` first.
- GeneratePackage: pkg/v3's Python code generator at the CLI's version, run by `fc-invocation-gensdk`;
  Link (`pulumi package add`): the SDK's path into requirements.txt, and how to import it.
Not followed (UNIMPLEMENTED, or an error naming this file): the `uv` and `poetry` toolchains (also when
detected from `uv.lock`/`poetry.lock`), typecheckers, pyenv (`.python-version`), debugging, Pack,
program generation, OpenTelemetry variables and the engine health check; no test here uses them.
"""
from __future__ import annotations

import base64
import dataclasses
import json
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
from concurrent import futures
from typing import Callable, Optional

import grpc
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, language_pb2, language_pb2_grpc, plugin_pb2

BIN = os.path.dirname(os.path.abspath(__file__))
EXEC = os.path.join(BIN, "pulumi-language-python-exec")
GENSDK = os.path.join(BIN, "fc-invocation-gensdk")
# The exit code with which the exec script says it has already shown the user an actionable message.
SHOWN_USER_MESSAGE = 32
# The official host waits this long after SIGINT before it kills the program (exec.Cmd.WaitDelay).
WAIT_DELAY = 5.0
# Run's error for a program started on a cancelled context, or one that exited 0 after Cancel interrupted it:
# exec.Cmd returns ctx.Err(), not an ExitError (py/main.go:1167-1195; os/exec Cmd.Start, Cmd.watchCtx).
CANCELED = "problem executing program (could not run language executor): context canceled"
# A file the host appends one line to per program that ends (tests only: the official host has no such record).
RECORD_ENV = "FC_INVOCATION_HOST_RECORD"
# GracefulStop has no deadline; grpc's stop() takes one: long enough never to cut a call short.
GRACEFUL_STOP = 365 * 24 * 3600.0
VERSION = os.environ.get("FC_INVOCATION_ENGINE_VERSION", "3.274.1")
# Distributions the official host knows to have no plugin, whatever their name says.
NO_PLUGIN = frozenset({"pulumi-policy", "pulumi-esc-sdk"})
# pip's message for a CDN answer that the official host retries (up to 3 attempts).
TRANSIENT_PIP = "because the GET request got Content-Type"
ANALYZER = "analyzer"

Write = Callable[[str], None]


class HostError(Exception):
    """A failure the user reads: the RPC fails with this message (a Go `error` in the official host)."""


@dataclasses.dataclass
class Toolchain:
    """The pip toolchain of a program or plugin: where its interpreter is and how it runs."""

    root: str
    option: str  # the `virtualenv` option as written in Pulumi.yaml / PulumiPlugin.yaml
    venv: str  # that option resolved against the root directory, or "" for the ambient Python
    name: str = "pip"  # the toolchain: "pip", or "auto" (no option, no lock file), "uv", "poetry"

    def command(self, *args: str) -> tuple[list[str], Optional[dict]]:
        """argv and environment (None: inherit) to run the interpreter, activated when in a venv."""
        if not self.venv:
            return [python_command(), *args], None
        return [os.path.join(self.venv, "bin", "python"), *args], activate(dict(os.environ), self.venv)

    def validate(self) -> None:
        if self.option and not is_virtualenv(self.venv):
            raise HostError(virtualenv_error(self.option, self.venv))

    def ensure(self, cwd: str, out: Write, err: Write) -> None:
        """Create the venv when it is missing or an empty directory (GetRequiredPackages, plugins)."""
        if not self.option or is_virtualenv(self.venv):
            return
        if os.path.exists(self.venv):
            if not os.path.isdir(self.venv):
                raise HostError(f"the 'virtualenv' option in Pulumi.yaml is set to {json.dumps(self.venv)} "
                                "but it is not a directory")
            if os.listdir(self.venv):
                return
        install_dependencies(cwd, self.venv, out, err)

    def packages(self) -> list[tuple[str, str]]:
        """(normalized name, version) of every installed distribution: `pip list --format json`."""
        argv, env = self.command("-m", "pip", "list", "--format", "json")
        try:
            done = subprocess.run(argv, env=env, capture_output=True, text=True)
        except OSError as exc:
            raise HostError(f"calling `{' '.join(argv)}`: {exec_error(argv[0], exc)}") from None
        if done.returncode != 0:
            raise HostError(f"calling `{' '.join(argv)}`: exit status {done.returncode}")
        try:
            listed = json.loads(done.stdout)
        except ValueError as exc:
            raise HostError(f"parsing `{' '.join(argv)}` output: {exc}") from None
        return [(re.sub(r"[-_.]+", "-", p["name"].lower()), p["version"]) for p in listed]


def parse_options(info, is_plugin: bool, strict: bool = True) -> Toolchain:
    """The runtime options of Pulumi.yaml (or PulumiPlugin.yaml), checked as the official host checks
    them; a toolchain or typechecker this stand-in does not run is an error that says so (unless not
    ``strict``: Link, which only edits files, takes them as the official host does)."""
    options = json_format.MessageToDict(info.options) if info.HasField("options") else {}
    virtualenv = options.get("virtualenv", "")
    if not isinstance(virtualenv, str):
        raise HostError("virtualenv option must be a string")
    typechecker = options.get("typechecker")
    if typechecker is not None:
        if not isinstance(typechecker, str):
            raise HostError("typechecker option must be a string")
        if typechecker not in ("mypy", "pyright"):
            raise HostError(f"unsupported typechecker option: {typechecker}")
        if strict:
                raise HostError(f"typechecker {typechecker}: not supported by this repository's stand-in language "
                            "host (tools/engine/language_host.py); the official host runs it before the program")
    toolchain = options.get("toolchain")
    if toolchain is not None:
        if not isinstance(toolchain, str):
            raise HostError("toolchain option must be a string")
        if toolchain not in ("pip", "poetry", "uv"):
            raise HostError(f"unsupported toolchain option: {toolchain}")
    program_dir = info.program_directory or info.root_directory
    if toolchain is None:
        for lock, name in (("uv.lock", "uv"), ("poetry.lock", "poetry")):
            if _search_up(program_dir, lock):
                toolchain = name
                break
    if strict and toolchain in ("poetry", "uv"):
        raise HostError(f"toolchain {toolchain}: not supported by this repository's stand-in language host "
                        "(tools/engine/language_host.py), which runs pip only")
    if is_plugin and not virtualenv:
        virtualenv = "venv"  # plugins never run on the ambient Python
    venv = virtualenv if not virtualenv or os.path.isabs(virtualenv) else os.path.join(info.root_directory, virtualenv)
    return Toolchain(root=info.root_directory, option=virtualenv, venv=venv, name=toolchain or "auto")


def _search_up(directory: str, name: str) -> bool:
    directory = os.path.abspath(directory or ".")
    while True:
        if os.path.exists(os.path.join(directory, name)):
            return True
        parent = os.path.dirname(directory)
        if parent == directory:
            return False
        directory = parent


def python_command() -> str:
    """The ambient interpreter: `$PULUMI_PYTHON_CMD`, else `python3`, else `python`, from PATH."""
    named = os.environ.get("PULUMI_PYTHON_CMD")
    candidates = [named] if named else ["python3", "python"]
    for name in candidates:
        found = shutil.which(name)
        if found:
            return found
    listed = " ".join(json.dumps(c) for c in candidates)
    raise HostError(f"failed to locate any of [{listed}] on your PATH. Have you installed Python 3.6 or greater?")


def activate(env: dict, venv: str) -> dict:
    """The environment of an activated venv: its bin first on PATH, VIRTUAL_ENV set, PYTHONHOME dropped."""
    env = {k: v for k, v in env.items() if k.upper() not in ("PYTHONHOME", "VIRTUAL_ENV")}
    bin_dir = os.path.join(venv, "bin")
    env["PATH"] = bin_dir + os.pathsep + env["PATH"] if "PATH" in env else bin_dir
    env["VIRTUAL_ENV"] = venv
    return env


def is_virtualenv(directory: str) -> bool:
    return os.path.isfile(os.path.join(directory, "bin", "python"))


def virtualenv_error(option: str, path: str) -> str:
    state = "doesn't exist" if not os.path.exists(path) else "doesn't appear to be a virtual environment"
    python = os.path.join(path, "bin", "python")
    return (f"The 'virtualenv' option in Pulumi.yaml is set to {json.dumps(option)}, but {json.dumps(path)} "
            f"{state}; run the following commands to create the virtual environment and install dependencies "
            f"into it:\n\n    1. python3 -m venv {path}\n    2. {python} -m pip install --upgrade pip setuptools "
            f"wheel\n    3. {python} -m pip install -r requirements.txt\n\n\n"
            "For more information see: https://www.pulumi.com/docs/intro/languages/python/#virtual-environments")


def _stream(argv: list[str], env: Optional[dict], cwd: Optional[str], out: Write, err: Write) -> tuple[int, str]:
    """Run ``argv``, passing its output on as it comes; its exit code and its stderr."""
    child = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    captured: list[str] = []

    def pump(stream, write, keep):
        for chunk in iter(lambda: stream.read1(65536), b""):
            text = chunk.decode(errors="replace")
            if keep:
                captured.append(text)
            write(text)

    threads = [threading.Thread(target=pump, args=(child.stdout, out, False), daemon=True),
               threading.Thread(target=pump, args=(child.stderr, err, True), daemon=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return child.wait(), "".join(captured)


def install_dependencies(cwd: str, venv: str, out: Write, err: Write) -> None:
    """The official pip InstallDependencies: create ``venv`` (if any), upgrade pip, setuptools and
    wheel in it (or in the ambient Python), then install ``cwd``/requirements.txt if there is one."""
    if venv:
        out("Creating virtual environment...\n")
        done = subprocess.run([python_command(), "-m", "venv", venv], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            if done.stdout:
                err(done.stdout.decode(errors="replace") + "\n")
            raise HostError(f"creating virtual environment at '{venv}': exit status {done.returncode}")
        out("Finished creating virtual environment\n")

    def pip_install(what: str, *args: str) -> None:
        argv = [os.path.join(venv, "bin", "python") if venv else python_command(), "-m", "pip", "install", *args]
        for attempt in range(3):
            # The official host activates even without a venv (a relative `bin` first on PATH, VIRTUAL_ENV empty).
            code, stderr = _stream(argv, activate(dict(os.environ), venv), cwd, out, err)
            if code == 0:
                return
            if attempt < 2 and TRANSIENT_PIP in stderr:
                err(f"Retrying ({attempt + 1}/3)...\n")
                continue
            detail = f": {stderr.strip()}" if stderr.strip() else ""
            raise HostError(f"{what} via '{' '.join(argv)}': exit status {code}{detail}")

    out("Updating pip, setuptools, and wheel in virtual environment...\n")
    pip_install("updating pip, setuptools, and wheel", "--upgrade", "pip", "setuptools", "wheel")
    out("Finished updating\n")
    if not os.path.exists(os.path.join(cwd, "requirements.txt")):
        return
    out("Installing dependencies in virtual environment...\n")
    pip_install("installing dependencies", "-r", "requirements.txt")
    out("Finished installing dependencies\n")


# Prints {distribution: path of the pulumi-plugin.json in its top-level package, or ""}, found as the
# official host finds it: the package named after the distribution (dashes to underscores), via find_spec.
_PLUGIN_JSON_PATHS = """\
import importlib.metadata, importlib.util, json, os, sys
paths = {}
for dist in sys.argv[1:]:
    paths[dist] = ""
    try:
        spec = importlib.util.find_spec(importlib.metadata.distribution(dist).metadata["Name"].replace("-", "_"))
    except Exception:
        continue
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = os.path.join(str(location), "pulumi-plugin.json")
        if os.path.isfile(candidate):
            paths[dist] = candidate
            break
print(json.dumps(paths))
"""


def required_packages(tc: Toolchain) -> list:
    """The resource plugins that the program's installed Python packages name (GetRequiredPackages)."""
    installed = tc.packages()
    paths: dict = {}
    if installed:
        argv, env = tc.command("-c", _PLUGIN_JSON_PATHS, *(name for name, _ in installed))
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        if done.returncode == 0:  # the official host treats a failed lookup as "no pulumi-plugin.json"
            try:
                paths = json.loads(done.stdout)
            except ValueError as exc:
                raise HostError(f"failed to parse pulumi-plugin.json paths: {exc}") from None
    result = []
    for name, version in installed:
        if name in NO_PLUGIN:
            continue
        plugin_json = None
        if paths.get(name):
            try:
                with open(paths[name], encoding="utf-8") as f:
                    plugin_json = json.load(f)
            except OSError:
                pass
            except ValueError as exc:
                raise HostError(f"failed to parse pulumi-plugin.json for {name}: {exc}") from None
        if plugin_json is None and not name.startswith("pulumi-"):
            continue
        dependency = package_dependency(name, version, plugin_json)
        if dependency is not None:
            result.append(dependency)
    return result


def package_dependency(name: str, version: str, plugin_json: Optional[dict]):
    """The plugin a package stands for, or None (`"resource": false`, or a version with no plugin form)."""
    if plugin_json is not None and not plugin_json.get("resource", False):
        return None  # a missing "resource" is false too (Go's zero value)
    plugin_json = plugin_json or {}
    plugin_name = plugin_json.get("name") or (name[len("pulumi-"):] if name.startswith("pulumi-") else name)
    plugin_version = plugin_json.get("version") or plugin_version_of(version)
    if plugin_version is None:
        return None
    if not plugin_version.startswith("v"):
        plugin_version = "v" + plugin_version

    def parameterization(key):
        given = plugin_json.get(key)
        if not given:
            return None
        return plugin_pb2.PackageParameterization(name=given.get("name", ""), version=given.get("version", ""),
                                                  value=base64.b64decode(given.get("value", "") or ""))

    return plugin_pb2.PackageDependency(name=plugin_name, kind="resource", version=plugin_version,
                                        server=plugin_json.get("server", ""),
                                        parameterization=parameterization("parameterization"),
                                        extension=parameterization("extensionParameterization"))


_PEP440 = re.compile(r"(?P<release>\d+(?:\.\d+)*)(?:(?P<pre>a|b|rc)(?P<pre_n>\d*))?"
                     r"(?:\.post(?P<post>\d*))?(?:\.dev(?P<dev>\d*))?")


def plugin_version_of(version: str) -> Optional[str]:
    """A PEP 440 package version as a plugin's semver (1.2 -> 1.2.0, 1.2.3a4 -> 1.2.3-alpha.4,
    .postN/.devN as build metadata), or None for what has no such form (epochs, local versions)."""
    match = _PEP440.fullmatch(version) if version.isascii() else None
    if not match:
        return None
    segments = match["release"].split(".")
    segments += ["0"] * (3 - len(segments))
    text = ".".join(segments)
    if match["pre"]:
        text += {"a": "-alpha.", "b": "-beta.", "rc": "-rc."}[match["pre"]] + match["pre_n"]
    if match["post"] is not None:
        text += "+post" + match["post"]
    if match["dev"] is not None:
        text += ("" if match["post"] is not None else "+") + "dev" + match["dev"]
    return text


def python_names(schema: dict) -> tuple[str, str]:
    """(distribution/package name, import alias) of a package's Python SDK: the schema's
    `language.python.packageName` for both, else `<namespace or pulumi>_<name>` and `<name>`."""
    name = schema.get("name", "")
    given = (schema.get("language") or {}).get("python", {}).get("packageName", "")
    if given:
        return given, given
    namespace = (schema.get("namespace") or "pulumi").replace("-", "_")
    return f"{namespace}_{name.replace('-', '_')}", name.replace("-", "_")


def load_schema(loader_target: str, dependency) -> dict:
    """A package's schema from the engine's schema loader (the `codegen.Loader` service)."""
    from pulumi.runtime.proto.codegen import loader_pb2  # its _grpc module imports a path that does not exist

    version = dependency.version if re.fullmatch(r"\d+\.\d+\.\d+\S*", dependency.version) else ""
    request = loader_pb2.GetSchemaRequest(package=dependency.name, version=version, download_url=dependency.server)
    if dependency.HasField("parameterization"):
        given = dependency.parameterization
        request.parameterization.CopyFrom(loader_pb2.Parameterization(name=given.name, version=given.version,
                                                                      value=given.value))
    with grpc.insecure_channel(loader_target) as channel:
        get = channel.unary_unary("/codegen.Loader/GetSchema",
                                  request_serializer=loader_pb2.GetSchemaRequest.SerializeToString,
                                  response_deserializer=loader_pb2.GetSchemaResponse.FromString)
        return json.loads(get(request).schema)


def link_requirements(root: str, packages: dict) -> None:
    """pip's Link: in `<root>/requirements.txt`, drop the lines naming these packages (by name, `-`
    read as `_`, or by path) and append their paths, sorted; line endings and a final newline kept."""
    path = os.path.join(root, "requirements.txt")
    try:
        with open(path, newline="") as f:
            text = f.read()
    except OSError as exc:
        raise HostError(f"error opening requirements.txt: open {path}: {(exc.strerror or str(exc)).lower()}") from None
    ending = "\r\n" if "\r\n" in text else "\n"
    lines = re.split(r"\r?\n", text)
    trailing = bool(lines) and not lines[-1].strip()
    if trailing:
        lines = lines[:-1]
    paths = set(packages.values())
    kept = []
    for line in lines:
        stripped = line.strip()
        named = re.match(r"[a-zA-Z0-9_-]+", stripped.replace("-", "_"))
        if stripped and named and (packages.get(named.group(0)) or stripped in paths):
            continue
        kept.append(line)
    kept += sorted(packages.values())
    if trailing:
        kept.append("")
    with open(path, "w", newline="") as f:
        f.write(ending.join(kept))


def _is_buildable(directory: str) -> Optional[str]:
    """The [project] name of a pyproject.toml that also names a build backend, or None."""
    try:
        import tomllib  # Python 3.11 and later; on 3.10 such a plugin needs a __main__.py
    except ImportError:
        return None
    try:
        with open(os.path.join(directory, "pyproject.toml"), "rb") as f:
            data = tomllib.load(f)
    except OSError:
        return None
    except tomllib.TOMLDecodeError as exc:
        raise HostError(f"checking if plugin is a buildable package: parsing pyproject.toml: {exc}") from None
    name = data.get("project", {}).get("name")
    return name if name and data.get("build-system", {}).get("build-backend") else None


def exec_error(argv0: str, exc: OSError) -> str:
    """An OSError from starting a process, worded as Go's exec reports it."""
    reason = (exc.strerror or str(exc)).lower() if exc.errno is not None else str(exc)
    return f"fork/exec {argv0}: {reason}"


class EngineLog:
    """Writers that show text as ephemeral engine messages, as the official host shows venv creation."""

    def __init__(self, engine_address: str) -> None:
        self._channel = grpc.insecure_channel(engine_address) if engine_address else None
        self._stream = random.randint(1, 2**31 - 1)

    def writer(self, severity: int) -> Write:
        def write(text: str) -> None:
            if self._channel is None:
                sys.stderr.write(text)
                return
            engine_pb2_grpc.EngineStub(self._channel).Log(engine_pb2.LogRequest(
                severity=severity, message=text, ephemeral=True, streamId=self._stream))
        return write

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    def __init__(self, engine_address: str, tracing: str = "") -> None:
        self.engine_address = engine_address
        self.tracing = tracing
        self._programs: set[Program] = set()
        self._cancelled = False  # the Cancel RPC came: the host's context is done (host.cancelCtx)
        self._lock = threading.Lock()

    def Handshake(self, request, context):
        self.engine_address = request.engine_address or self.engine_address
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=VERSION)

    def GetRequiredPlugins(self, request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "method GetRequiredPlugins not implemented")

    def GetRequiredPackages(self, request, context):
        log = EngineLog(self.engine_address)
        try:
            tc = parse_options(request.info, is_plugin=False)
            tc.ensure(request.info.program_directory, log.writer(engine_pb2.INFO), log.writer(engine_pb2.ERROR))
            return language_pb2.GetRequiredPackagesResponse(packages=required_packages(tc))
        except (HostError, OSError) as exc:
            context.abort(grpc.StatusCode.UNKNOWN, str(exc))
        finally:
            log.close()

    def InstallDependencies(self, request, context):
        chunks: queue.Queue = queue.Queue()
        failure: list[str] = []

        def work():
            out = lambda text: chunks.put(language_pb2.InstallDependenciesResponse(stdout=text.encode()))
            err = lambda text: chunks.put(language_pb2.InstallDependenciesResponse(stderr=text.encode()))
            try:
                out("Installing dependencies...\n\n")
                info = request.info
                tc = parse_options(info, is_plugin=request.is_plugin)
                program_dir = info.program_directory
                if request.is_plugin and _is_buildable(program_dir):
                    try:
                        tc.ensure(program_dir, out, err)
                    except HostError as exc:
                        raise HostError(f"creating virtual environment: {exc}") from None
                    argv, env = tc.command("-m", "pip", "install", program_dir)
                    code, _ = _stream(argv, env, None, out, err)
                    if code != 0:
                        raise HostError(f"installing package: exit status {code}")
                install_dependencies(program_dir, tc.venv, out, err)
                out("Finished installing dependencies\n\n")
            except (HostError, OSError) as exc:
                failure.append(str(exc))
            finally:
                chunks.put(None)

        threading.Thread(target=work, daemon=True).start()
        for item in iter(chunks.get, None):
            yield item
        if failure:
            context.abort(grpc.StatusCode.UNKNOWN, failure[0])

    def About(self, request, context):
        try:
            tc = parse_options(request.info, is_plugin=False) if request.HasField("info") else \
                Toolchain(root="", option="", venv="")
            argv, env = tc.command("-c", "import sys; print(sys.executable); print(sys.version.split()[0])")
            done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
        except (HostError, OSError, subprocess.CalledProcessError) as exc:
            context.abort(grpc.StatusCode.UNKNOWN, str(exc))
        executable, version = done.stdout.split()[:2]
        return language_pb2.AboutResponse(executable=executable, version=version,
                                          metadata={"toolchain": "Pip", "typechecker": "None"})

    def GetProgramDependencies(self, request, context):
        try:
            tc = parse_options(request.info, is_plugin=False)
            listed = tc.packages()
        except (HostError, OSError) as exc:
            context.abort(grpc.StatusCode.UNKNOWN, f"failed to get python dependencies: {exc}")
        return language_pb2.GetProgramDependenciesResponse(
            dependencies=[language_pb2.DependencyInfo(name=n, version=v) for n, v in listed])

    def Cancel(self, request, context):
        with self._lock:
            self._cancelled = True
            programs = list(self._programs)
        for program in programs:
            program.cancel()
        return empty_pb2.Empty()

    def Run(self, request, context):
        info = request.info
        try:
            tc = parse_options(info, is_plugin=False)
            tc.validate()
        except HostError as exc:
            context.abort(grpc.StatusCode.UNKNOWN, str(exc))
        args = [EXEC]
        for flag, value in (
            ("monitor", request.monitor_address),
            ("engine", self.engine_address),
            ("project", request.project),
            ("root_directory", info.root_directory),
            ("stack", request.stack),
            ("pwd", request.pwd),
            ("dry_run", "true" if request.dryRun else "false"),
            ("parallel", str(request.parallel)),
            ("tracing", self.tracing),
            ("organization", request.organization),
        ):
            if value:
                args += [f"--{flag}", value]
        args.append(info.entry_point)
        args += list(request.args)
        try:
            argv, env = tc.command(*args)
        except HostError as exc:
            context.abort(grpc.StatusCode.UNKNOWN, str(exc))
        env = dict(os.environ) if env is None else env
        if request.config:  # an empty map reaches the official host as nil: no PULUMI_CONFIG at all
            env["PULUMI_CONFIG"] = json.dumps(dict(request.config))
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(request.configSecretKeys))
        with self._lock:
            if self._cancelled:  # exec.Cmd.Start on a context already done
                return language_pb2.RunResponse(error=CANCELED)
            try:
                program = Program(subprocess.Popen(argv, env=env))
            except OSError as err:
                return language_pb2.RunResponse(
                    error=f"problem executing program (could not run language executor): {exec_error(argv[0], err)}")
            self._programs.add(program)
        # The Cancel RPC or the end of this call (the engine's cancel), whichever comes first, interrupts it.
        context.add_callback(program.cancel)
        try:
            code = program.child.wait()
        finally:
            with self._lock:
                self._programs.discard(program)
        program.record(code)
        if code == 0 and program.interrupted():  # not an ExitError: "could not run language executor"
            return language_pb2.RunResponse(error=CANCELED)
        if code == 0:
            return language_pb2.RunResponse()
        if code == SHOWN_USER_MESSAGE:
            return language_pb2.RunResponse(bail=True)
        # Go reports -1 as the exit status of a process a signal ended.
        return language_pb2.RunResponse(error=f"program exited with non-zero exit code: {-1 if code < 0 else code}")

    def Link(self, request, context):
        info = request.info
        try:
            tc = parse_options(info, is_plugin=False, strict=False)
            packages, imports = {}, []
            for dep in request.packages:
                if dep.package.name == "pulumi":
                    packages["pulumi"] = dep.path
                    continue
                package_name, import_name = python_names(load_schema(request.loader_target, dep.package))
                packages[package_name] = dep.path
                imports.append(f"  import {package_name} as {import_name}\n")
            if tc.name != "pip" and not os.path.exists(os.path.join(info.program_directory, "pyproject.toml")):
                if not os.path.exists(os.path.join(info.program_directory, "requirements.txt")):
                    raise HostError(f"no pyproject.toml or requirements.txt found in {info.program_directory}")
                tc.name = "pip"  # before `pulumi install` converts requirements.txt for uv or poetry
            if tc.name in ("uv", "poetry"):
                raise HostError(f"toolchain {tc.name}: not supported by this repository's stand-in language host "
                                "(tools/engine/language_host.py), which links with pip only")
            try:
                link_requirements(tc.root, packages)
            except HostError as exc:
                raise HostError(f"linking packages: {exc}") from None
        except (HostError, OSError, grpc.RpcError, ValueError) as exc:
            context.abort(grpc.StatusCode.UNKNOWN, str(exc))
        heading = "You can import the SDKs in your Python code with:\n\n" if len(request.packages) > 1 else \
            "You can import the SDK in your Python code with:\n\n"
        return language_pb2.LinkResponse(import_instructions=heading + "".join(imports))

    def GeneratePackage(self, request, context):
        done = subprocess.run([GENSDK, "python"], input=request.SerializeToString(), capture_output=True)
        if done.returncode != 0:
            context.abort(grpc.StatusCode.UNKNOWN, done.stderr.decode(errors="replace").strip()
                          or f"{GENSDK} exited {done.returncode}")
        return language_pb2.GeneratePackageResponse.FromString(done.stdout)

    def RunPlugin(self, request, context):
        info = request.info
        analyzer = request.kind == ANALYZER
        try:
            tc = parse_options(info, is_plugin=not analyzer)
            has_main = os.path.exists(os.path.join(tc.root, "__main__.py"))
            # Plugins that ship an SDK without pulumi.run.plugin run from their directory (__main__.py).
            probe, probe_env = tc.command("-c", "import pulumi.run.plugin")
            try:
                probed = subprocess.run(probe, env=probe_env, capture_output=True, text=True)
                has_run_module = "ModuleNotFoundError" not in probed.stdout + probed.stderr
            except OSError:
                has_run_module = True  # as in the official host: the start below reports the failure
            if has_run_module and not has_main:
                name = _is_buildable(tc.root)
                if not name:
                    raise HostError("plugin is not runnable, it provides neither __main__.py nor a buildable "
                                    "pyproject.toml")
                argv, env = tc.command("-m", "pulumi.run.plugin", name, *request.args)
            elif analyzer:
                argv, env = tc.command("-u", "-m", "pulumi.policy", *request.args, info.program_directory)
            else:
                argv, env = tc.command(info.program_directory, *request.args)
        except HostError as exc:
            context.abort(grpc.StatusCode.UNKNOWN, str(exc))
        # The engine's variables go after the host's own (an activated venv's, when there is one).
        extra = dict(item.split("=", 1) for item in request.env if "=" in item)
        env = {**env, **extra} if env is not None else (extra or None)
        cwd = info.program_directory if analyzer else (request.pwd or None)
        try:
            child = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as err:
            context.abort(grpc.StatusCode.UNKNOWN, "problem executing plugin program (could not run language "
                          f"executor): {exec_error(argv[0], err)}")
        # The engine stops a plugin by ending this call (exec.CommandContext kills it in the official host).
        context.add_callback(lambda: _kill(child))
        chunks: queue.Queue = queue.Queue()

        def pump(stream, field):
            for chunk in iter(lambda: stream.read1(65536), b""):
                chunks.put(language_pb2.RunPluginResponse(**{field: chunk}))
            chunks.put(None)

        for stream, field in ((child.stdout, "stdout"), (child.stderr, "stderr")):
            threading.Thread(target=pump, args=(stream, field), daemon=True).start()
        open_streams = 2
        while open_streams:
            item = chunks.get()
            if item is None:
                open_streams -= 1
            else:
                yield item
        code = child.wait()
        if code != 0:  # a clean exit ends the stream without a code, which the engine reads as 0
            yield language_pb2.RunPluginResponse(exitcode=-1 if code < 0 else code)


def _kill(child: subprocess.Popen) -> None:
    if child.poll() is None:
        child.kill()
        child.wait()


class Program:
    """A running program as the official host's `exec.Cmd` holds it: its `Cancel` (SIGINT, or a kill when the
    signal cannot be sent) runs once, when the run's context is done, and `WaitDelay` kills the program if it
    has not exited 5 s later."""

    def __init__(self, child: subprocess.Popen) -> None:
        self.child = child
        self.killed = False  # by WaitDelay
        self._cancelled = False
        self._interrupted = False  # Cancel succeeded: the program was signalled (or killed) while it ran
        self._lock = threading.Lock()

    def cancel(self) -> None:
        with self._lock:
            if self._cancelled:
                return
            self._cancelled = True
            if self.child.poll() is not None:  # os.ErrProcessDone: Cancel injects no error
                return
            self._interrupted = True
            try:
                self.child.send_signal(signal.SIGINT)
            except OSError:
                self.child.kill()
                return
        timer = threading.Timer(WAIT_DELAY, self._kill_late)
        timer.daemon = True
        timer.start()

    def interrupted(self) -> bool:
        """Whether Cancel interrupted the running program: exec.Cmd.Wait then reports the context's error
        (`context canceled`) for a program that exited 0 all the same (os/exec watchCtx)."""
        with self._lock:
            return self._interrupted

    def _kill_late(self) -> None:
        if self.child.poll() is None:
            self.killed = True
            self.child.kill()

    def record(self, code: int) -> None:
        """For tests (not in the official host): how the program ended, one JSON line appended to the file
        named by $FC_INVOCATION_HOST_RECORD: its exit code (negative: the signal) and whether the kill ended it."""
        path = os.environ.get(RECORD_ENV)
        if path:
            with open(path, "a") as f:
                f.write(json.dumps({"code": code, "cancelled": self._cancelled, "killed": self.killed}) + "\n")


def parse_args(argv: list[str]) -> tuple[str, str]:
    """The engine address and the tracing endpoint from Go-style flags (`-tracing X`, `--tracing=X`,
    `--logtostderr`, `-v=N`, ...) followed by the engine's address."""
    tracing, positional, i = "", [], 0
    while i < len(argv):
        arg = argv[i]
        name, eq, value = arg.lstrip("-").partition("=")
        if not arg.startswith("-"):
            positional.append(arg)
        elif name in ("tracing", "use-executor", "root", "binary") and not eq:
            value, i = (argv[i + 1] if i + 1 < len(argv) else ""), i + 1
            tracing = value if name == "tracing" else tracing
        elif name == "tracing":
            tracing = value
        i += 1
    return (positional[0] if positional else ""), tracing


def main(argv: list[str]) -> None:
    engine_address, tracing = parse_args(argv)
    server = grpc.server(
        # Each running program (Run) and plugin (RunPlugin) holds a worker for as long as it runs.
        futures.ThreadPoolExecutor(max_workers=32),
        options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)],
    )
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageHost(engine_address, tracing), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    # As the official host: SIGINT (signal.NotifyContext(os.Interrupt)) stops the server gracefully: no new
    # calls, and the running ones finish (GracefulStop: a Run ends when its program does, which the engine
    # interrupts with the same signal to the host's process group); SIGTERM keeps its default. The wakeup fd
    # wakes this thread whichever thread the kernel gave the signal to (a lock wait here never saw it). The
    # first SIGINT also restores the default action, as NotifyContext's cancel() deregisters its handler
    # (py/main.go:176-183): a second one ends the host at once, however long its calls take to finish.
    stop = threading.Event()
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)

    def interrupted(*_: object) -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        stop.set()

    signal.signal(signal.SIGINT, interrupted)
    while not stop.is_set():
        os.read(wake_read, 64)
    server.stop(GRACEFUL_STOP).wait()


if __name__ == "__main__":
    main(sys.argv[1:])
