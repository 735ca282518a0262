"""A real dynamic provider host, ``python -u -m pulumi.dynamic``, started and configured as the engine does."""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from typing import IO, Optional

import grpc

from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from .wire import py_to_struct, wrap_secrets

__all__ = ["ProviderHost", "importable_paths", "GRPC_CHANNEL_OPTIONS"]

# The SDK's own channel options (pulumi.runtime._grpc_settings, private there): messages up to 400 MiB.
GRPC_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", 400 * 1024 * 1024),
    ("grpc.server_max_unrequested_time_in_server", 30 * 60),
]


class ProviderHost:
    """A real dynamic provider host: ``python -u -m pulumi.dynamic``, as the engine runs it.

    The process prints its port on its first stdout line and serves ``ResourceProvider`` from a
    four-worker pool. ``env`` is merged over ``os.environ``; ``pythonpath`` entries (by default this
    process's own import roots) are prepended to ``PYTHONPATH`` so the host can import the modules
    that provider classes are pickled by reference from. The engine gets that from the project
    directory (``cwd``, which ``python -m`` puts on ``sys.path``) and the shared virtualenv; the
    default here is more permissive, pass ``pythonpath=[]`` to check importability strictly.
    ``PULUMI_PROJECT`` is set to ``project`` so ``req.config.get("key")`` without a namespace
    resolves under the project, as it does in a deployment.

    A host is configured once: it caches each unpickled provider after calling its ``configure``,
    so a second, different configuration would silently not reach providers already used. Reuse a
    host across :func:`run_program` calls only with the same config.
    """

    def __init__(
        self,
        *,
        env: Optional[Mapping[str, str]] = None,
        pythonpath: Optional[Iterable[str]] = None,
        cwd: Optional[str] = None,
        project: str = "test",
        python: str = sys.executable,
        startup_timeout: float = 30.0,
    ):
        self._env = dict(env or {})
        if pythonpath is None:
            pythonpath = importable_paths()
        self._pythonpath = [str(p) for p in pythonpath]
        self._cwd = cwd
        self.project = project
        self._python = python
        self._startup_timeout = startup_timeout
        self._proc: Optional[subprocess.Popen] = None
        self._stderr: Optional[IO[bytes]] = None
        self._stdout_thread: Optional[threading.Thread] = None
        self._stdout_lines: list[str] = []
        self._channel: Optional[grpc.Channel] = None
        self._configure_lock = threading.Lock()
        self.stub: Optional[provider_pb2_grpc.ResourceProviderStub] = None
        self.port: Optional[int] = None
        self.config: Optional[dict] = None
        self.secret_keys: frozenset = frozenset()
        self.accept_secrets = False
        self.supports_preview = False

    @property
    def pid(self) -> Optional[int]:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _build_env(self) -> dict:
        env = dict(os.environ)
        env.update(self._env)
        paths = self._pythonpath + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        if paths:
            env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
        env.setdefault("PULUMI_PROJECT", self.project)
        return env

    def start(self) -> "ProviderHost":
        if self._proc is not None:
            raise RuntimeError("provider host already started")
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [self._python, "-u", "-m", "pulumi.dynamic"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=self._build_env(),
            cwd=self._cwd,
        )
        port_line: "queue.Queue[Optional[bytes]]" = queue.Queue()
        # Keep draining stdout after the port line: a provider that prints must never block on a
        # full pipe. The thread ends when the process exits (EOF) and is joined in stop().
        self._stdout_thread = threading.Thread(
            target=self._pump_stdout, args=(port_line,), name="dynamic-host-stdout", daemon=True
        )
        self._stdout_thread.start()
        try:
            try:
                line = port_line.get(timeout=self._startup_timeout)
            except queue.Empty:
                line = None
            if not line or not line.strip().isdigit():
                raise RuntimeError(
                    f"dynamic provider host did not report a port (got {line!r}); stderr:\n"
                    + self.stderr_text()
                )
            self.port = int(line)
            self._channel = grpc.insecure_channel(
                f"127.0.0.1:{self.port}", options=GRPC_CHANNEL_OPTIONS
            )
            grpc.channel_ready_future(self._channel).result(timeout=self._startup_timeout)
            self.stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
        except BaseException:
            self.stop()
            raise
        return self

    def _pump_stdout(self, port_line: "queue.Queue[Optional[bytes]]") -> None:
        assert self._proc is not None and self._proc.stdout is not None
        first = True
        for line in iter(self._proc.stdout.readline, b""):
            if first:
                port_line.put(line)
                first = False
            else:
                self._stdout_lines.append(line.decode(errors="replace"))
        if first:
            port_line.put(None)

    def configure(
        self,
        config: Optional[Mapping[str, str]] = None,
        *,
        secret_keys: Iterable[str] = (),
        timeout: float = 30.0,
    ) -> None:
        """Send ``Configure`` with the stack config, once, as the engine does before any call.

        Calling again with the same config is a no-op; with a different one it raises, because the
        host would keep already-configured providers on the old config.
        """
        if self.stub is None:
            raise RuntimeError("provider host not started")
        config = {str(k): str(v) for k, v in (config or {}).items()}
        secret_keys = frozenset(secret_keys)
        with self._configure_lock:
            if self.config is not None:
                if self.config != config or self.secret_keys != secret_keys:
                    raise ValueError(
                        "this ProviderHost was already configured with a different config; "
                        "a host process is configured once (use a new ProviderHost)"
                    )
                return
            response = self.stub.Configure(
                provider_pb2.ConfigureRequest(
                    variables=config,
                    args=py_to_struct(wrap_secrets(config, secret_keys)),
                    acceptSecrets=True,
                    acceptResources=True,
                ),
                timeout=timeout,
            )
            self.accept_secrets = response.acceptSecrets
            self.supports_preview = response.supportsPreview
            self.config, self.secret_keys = config, secret_keys

    def stdout_text(self) -> str:
        """What the host printed after its port line (provider ``print`` output)."""
        return "".join(self._stdout_lines)

    def stderr_text(self) -> str:
        if self._stderr is None or self._stderr.closed:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def stop(self) -> None:
        """Close the channel, terminate and reap the process, join the stdout thread. Idempotent."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        self.stub = None
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if self._stdout_thread is not None:
                self._stdout_thread.join(timeout=10)
                self._stdout_thread = None
            if proc.stdout is not None:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> "ProviderHost":
        if self._proc is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __del__(self):  # last resort; stop() is the contract
        with contextlib.suppress(Exception):
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()
                self._proc.wait()


def importable_paths() -> list[str]:
    """This process's import roots, minus the interpreter's own (the host has those already)."""
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    paths = []
    for entry in sys.path:
        if not entry or not os.path.isdir(entry):
            continue
        real = os.path.realpath(entry)
        if any(real == p or real.startswith(p + os.sep) for p in prefixes):
            continue
        paths.append(os.path.abspath(entry))
    return paths
