"""A Python language host for the Pulumi CLI built by `make engine`.

Why this exists: the official host, the Go module
`github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3`, is not served by the module proxy
this project can reach (every version, `@v/list` included, answers 403), while the CLI (`pkg/v3`) and
the SDK module that carries the host's two scripts are. So `make engine` installs this file as
`pulumi-language-python`. It speaks the engine's LanguageRuntime protocol and runs a program exactly
as the official host does: the SDK's own `pulumi-language-python-exec` with the same arguments and
the same `PULUMI_CONFIG` / `PULUMI_CONFIG_SECRET_KEYS` environment, SIGINT then kill on cancellation.
GeneratePackage (a Python SDK for `pulumi package gen-sdk --language python`, `package add`, `packages:`)
is pkg/v3's Python code generator at the CLI's version, run by our `fc-invocation-gensdk` beside it.
RunPlugin starts a `PulumiPlugin.yaml` plugin (`runtime: python`) as the official host does: its
`__main__.py` (`python <dir> args...`), else `python -m pulumi.run.plugin <pyproject name> args...`,
with the engine's environment, its output streamed back and its exit code last.
What it leaves out (dependency installation, typecheckers, debugging, code generation, packing) the
tests do not use; those calls answer UNIMPLEMENTED.
"""
from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from concurrent import futures

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

BIN = os.path.dirname(os.path.abspath(__file__))
EXEC = os.path.join(BIN, "pulumi-language-python-exec")
GENSDK = os.path.join(BIN, "fc-invocation-gensdk")
# The exit code with which the exec script says it has already shown the user an actionable message.
SHOWN_USER_MESSAGE = 32
# The official host waits this long after SIGINT before it kills the program (exec.Cmd.WaitDelay).
WAIT_DELAY = 5.0
VERSION = os.environ.get("FC_INVOCATION_ENGINE_VERSION", "3.274.1")


def _python(options: dict, base: str = "") -> str:
    """The interpreter: the project's `virtualenv` option if set (relative to ``base``, the project's
    or plugin's directory), else the one running this host."""
    venv = options.get("virtualenv") or os.environ.get("PULUMI_RUNTIME_VIRTUALENV")
    if venv:
        return os.path.join(base, venv, "bin", "python")
    return os.environ.get("PULUMI_PYTHON_CMD") or sys.executable


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    def __init__(self, engine_address: str) -> None:
        self.engine_address = engine_address
        self._children: set[subprocess.Popen] = set()
        self._lock = threading.Lock()

    def Handshake(self, request, context):
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=VERSION)

    def GetRequiredPlugins(self, request, context):
        return language_pb2.GetRequiredPluginsResponse()

    def GetRequiredPackages(self, request, context):
        return language_pb2.GetRequiredPackagesResponse()

    def InstallDependencies(self, request, context):
        return iter(())

    def About(self, request, context):
        version = ".".join(map(str, sys.version_info[:3]))
        return language_pb2.AboutResponse(executable=sys.executable, version=version)

    def GetProgramDependencies(self, request, context):
        return language_pb2.GetProgramDependenciesResponse()

    def Cancel(self, request, context):
        with self._lock:
            children = list(self._children)
        for child in children:
            _interrupt(child)
        return empty_pb2.Empty()

    def Run(self, request, context):
        info = request.info
        options = dict(info.options.items()) if info.HasField("options") else {}
        args = [_python(options), "-u", EXEC]
        for flag, value in (
            ("monitor", request.monitor_address),
            ("engine", self.engine_address),
            ("project", request.project),
            ("root_directory", info.root_directory),
            ("stack", request.stack),
            ("pwd", request.pwd),
            ("dry_run", "true" if request.dryRun else "false"),
            ("parallel", str(request.parallel)),
            ("organization", request.organization),
        ):
            if value:
                args += [f"--{flag}", value]
        args.append(info.entry_point or ".")
        args += list(request.args)
        env = dict(os.environ)
        env["PULUMI_CONFIG"] = json.dumps(dict(request.config))
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(request.configSecretKeys))
        try:
            child = subprocess.Popen(args, env=env, cwd=request.pwd or None)
        except OSError as err:
            return language_pb2.RunResponse(
                error=f"problem executing program (could not run language executor): {err}"
            )
        with self._lock:
            self._children.add(child)
        # The engine cancels a run by ending the RPC: interrupt the program as the official host does.
        context.add_callback(lambda: _interrupt(child))
        try:
            code = child.wait()
        finally:
            with self._lock:
                self._children.discard(child)
        if code == 0:
            return language_pb2.RunResponse()
        if code == SHOWN_USER_MESSAGE:
            return language_pb2.RunResponse(bail=True)
        return language_pb2.RunResponse(error=f"program exited with non-zero exit code: {code}")

    def GeneratePackage(self, request, context):
        done = subprocess.run([GENSDK, "python"], input=request.SerializeToString(), capture_output=True)
        if done.returncode != 0:
            context.abort(grpc.StatusCode.UNKNOWN, done.stderr.decode(errors="replace").strip()
                          or f"{GENSDK} exited {done.returncode}")
        return language_pb2.GeneratePackageResponse.FromString(done.stdout)

    def RunPlugin(self, request, context):
        info = request.info
        options = dict(info.options.items()) if info.HasField("options") else {}
        directory = info.program_directory or info.root_directory
        if os.path.exists(os.path.join(directory, "__main__.py")):
            args = [_python(options, directory), "-u", directory, *request.args]
        else:
            name = _pyproject_name(directory)
            if name is None:
                context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                              f"plugin {directory} is not runnable: it has neither __main__.py nor a "
                              "pyproject.toml with a [project] name")
            args = [_python(options, directory), "-u", "-m", "pulumi.run.plugin", name, *request.args]
        env = dict(item.split("=", 1) for item in request.env if "=" in item) or dict(os.environ)
        try:
            child = subprocess.Popen(args, env=env, cwd=request.pwd or None, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as err:
            context.abort(grpc.StatusCode.UNKNOWN,
                          f"problem executing plugin program (could not run language executor): {err}")
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
        yield language_pb2.RunPluginResponse(exitcode=child.wait())


def _kill(child: subprocess.Popen) -> None:
    if child.poll() is None:
        child.kill()
        child.wait()


def _pyproject_name(directory: str):
    try:
        import tomllib  # Python 3.11 and later; on 3.10 such a plugin needs a __main__.py
    except ImportError:
        return None
    try:
        with open(os.path.join(directory, "pyproject.toml"), "rb") as f:
            return tomllib.load(f).get("project", {}).get("name")
    except (OSError, tomllib.TOMLDecodeError):
        return None


def _interrupt(child: subprocess.Popen) -> None:
    if child.poll() is not None:
        return
    try:
        child.send_signal(signal.SIGINT)
    except OSError:
        return
    timer = threading.Timer(WAIT_DELAY, lambda: child.poll() is None and child.kill())
    timer.daemon = True
    timer.start()


def main(argv: list[str]) -> None:
    # Go-style flags first (-root=..., -tracing=..., -binary=..., -virtualenv=...), then the engine.
    positional = [a for a in argv if not a.startswith("-")]
    engine_address = positional[0] if positional else ""
    server = grpc.server(
        # Each running program (Run) and plugin (RunPlugin) holds a worker for as long as it runs.
        futures.ThreadPoolExecutor(max_workers=32),
        options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)],
    )
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageHost(engine_address), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop(1)


if __name__ == "__main__":
    main(sys.argv[1:])
