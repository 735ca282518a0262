"""Running a program: one deployment per call, in its own ``contextvars`` context, with fresh SDK state."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import os
import runpy
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional

from google.protobuf import empty_pb2

from pulumi.errors import RunError
from pulumi.runtime import config as _config
from pulumi.runtime import mocks as _mocks
from pulumi.runtime import settings as _settings
from pulumi.runtime import stack as _stack

from .engine import Deployment, ForwardingMocks, HarnessMonitor, RecordingEngine
from .host import ProviderHost, importable_paths
from .results import LogRecord, ProgramError, ProgramResult
from ...sdk_workarounds import settings_defaults_restored
from .wire import split_secrets, struct_to_py

__all__ = ["run_program", "run_program_file"]

# The language host sizes its executor from --parallel; any size above the host's four workers keeps
# the provider host, not the harness, the bottleneck for concurrent registrations.
_PROGRAM_WORKERS = 16


def _ignore_unobserved_task_errors(loop, context) -> None:
    # Like the language host (_suppress_unobserved_task_logging): a failed resource leaves failed
    # futures nobody awaits; the failure itself is reported through ProgramError.
    if "never retrieved" in context.get("message", ""):
        return
    loop.default_exception_handler(context)


def _execute(program: Callable[[], Any], d: Deployment, *, config, secret_keys, project, stack,
             root_directory) -> Optional[BaseException]:
    """Body of one run, inside its own contextvars.Context (the SDK keeps its state there)."""
    monitor = HarnessMonitor(ForwardingMocks(d), d)
    # What set_mocks installs, minus its eagerly registered root Stack: run_in_stack creates that,
    # as the language host does.
    _mocks.MockSettings(
        monitor=monitor,
        monitor_features=set(monitor.GetDeploymentInfo(empty_pb2.Empty()).supportedFeatures),
        engine=RecordingEngine(d),
        project=project,
        stack=stack,
        dry_run=d.preview,
        organization="organization",
        root_directory=root_directory,
        callbacks=None,
        outputs=set(),
        lock=threading.Lock(),
        package_refs={},
        base_providers_by_ref={},
    )
    _settings.ROOT.set(None)
    _config.set_all_config(dict(config or {}), list(secret_keys))
    # The language host also passes the config as PULUMI_CONFIG, which the SDK falls back to where its
    # context variable is not set (callbacks scheduled from its executor threads): do as it does.
    saved_env = {key: os.environ.get(key) for key in ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS")}
    os.environ["PULUMI_CONFIG"] = json.dumps(dict(config or {}))
    os.environ["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(secret_keys))

    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_ignore_unobserved_task_errors)
    executor = ThreadPoolExecutor(max_workers=_PROGRAM_WORKERS, thread_name_prefix="pulumi-program")
    loop.set_default_executor(executor)
    error: Optional[BaseException] = None
    try:
        loop.run_until_complete(
            asyncio.wait_for(_stack.run_in_stack(program), timeout=d.remaining())
        )
    except asyncio.TimeoutError:
        error = TimeoutError("the program did not finish before the harness timeout")
    except BaseException as exn:  # noqa: BLE001 reported as ProgramError
        error = exn
    finally:
        # Let stragglers (e.g. pulumi.log calls awaiting a resource URN) finish, then cancel.
        pending = asyncio.all_tasks(loop)
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=min(1.0, d.remaining())))
            for task in pending:
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        loop.run_until_complete(task)
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return error



def _run(program, *, config, secret_keys, preview, project, stack, env, host, timeout,
         project_dir=None, on_log=None) -> ProgramResult:
    deadline = time.monotonic() + timeout
    own_host = host is None
    if own_host:
        host = ProviderHost(
            env=env,
            pythonpath=([project_dir] if project_dir else []) + importable_paths(),
            cwd=project_dir,
            project=project,
        ).start()
    elif env:
        raise ValueError("env= configures the host run_program starts; pass it to ProviderHost")
    saved_env = {k: os.environ.get(k) for k in (env or {})}
    try:
        host.configure(config, secret_keys=secret_keys, timeout=max(deadline - time.monotonic(), 1))
        d = Deployment(host, preview, deadline, on_log)
        # The program and the host share the CLI's environment in a real deployment.
        os.environ.update(env or {})
        with settings_defaults_restored():
            error = contextvars.copy_context().run(
                _execute, program, d, config=config, secret_keys=secret_keys, project=project,
                stack=stack, root_directory=project_dir,
            )
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if own_host:
            host.stop()

    outputs, secret_outputs = split_secrets(struct_to_py(d.stack_outputs))
    result = ProgramResult(outputs, secret_outputs, list(d.resources), list(d.logs), preview)
    if d.errors:
        raise ProgramError(
            "\n".join(e.message for e in d.errors), d.errors, result
        ) from error
    if isinstance(error, RunError):  # the language host prints a RunError's message alone
        raise ProgramError(str(error), [], result) from error
    if error is not None:
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        raise ProgramError(
            f"Program failed with an unhandled exception:\n{text}", [], result
        ) from error
    return result


def run_program(
    program: Callable[[], Any],
    *,
    config: Optional[Mapping[str, str]] = None,
    secret_keys: Iterable[str] = (),
    preview: bool = False,
    project: str = "test",
    stack: str = "dev",
    env: Optional[Mapping[str, str]] = None,
    host: Optional[ProviderHost] = None,
    timeout: float = 120.0,
    on_log: Optional[Callable[[LogRecord], Any]] = None,
) -> ProgramResult:
    """Run ``program`` (a zero-argument callable, like a ``__main__.py`` body) as ``pulumi up``,
    or ``pulumi preview`` with ``preview=True``.

    ``config`` is the stack config (``{"ns:key": "value"}``), visible to the program through
    ``pulumi.Config`` and sent to the provider host's ``Configure``; ``secret_keys`` marks secret
    ones. Without ``host`` a provider host is started for this run (with ``env`` merged over
    ``os.environ``; the program sees ``env`` too) and stopped afterwards. Each run gets fresh SDK
    state (settings, config, root stack) in its own ``contextvars`` context.

    ``on_log`` is called with each :class:`LogRecord` as it is emitted (progress, live).

    Raises :class:`ProgramError` when a provider call fails or the program raises.
    """
    return _run(program, config=config, secret_keys=tuple(secret_keys), preview=preview,
                project=project, stack=stack, env=env, host=host, timeout=timeout, on_log=on_log)


def run_program_file(
    path: str,
    *,
    config: Optional[Mapping[str, str]] = None,
    secret_keys: Iterable[str] = (),
    preview: bool = False,
    project: Optional[str] = None,
    stack: str = "dev",
    env: Optional[Mapping[str, str]] = None,
    host: Optional[ProviderHost] = None,
    timeout: float = 120.0,
    on_log: Optional[Callable[[LogRecord], Any]] = None,
) -> ProgramResult:
    """Run a Pulumi project's ``__main__.py`` (``path``) like the language host does.

    The project directory is on ``sys.path`` and is the working directory while the program runs
    (and the provider host's), whatever the caller's cwd; modules imported from it are dropped
    from ``sys.modules`` afterwards so the next run imports them afresh. ``project`` defaults to
    the ``name`` in the directory's ``Pulumi.yaml`` (else ``"test"``). Other arguments as for
    :func:`run_program`.
    """
    path = os.path.abspath(path)
    project_dir = os.path.dirname(path)
    if project is None:
        project = _project_name(project_dir) or "test"

    def program() -> None:
        runpy.run_path(path, run_name="__main__")

    before = set(sys.modules)
    saved_cwd = os.getcwd()
    sys.path.insert(0, project_dir)
    os.chdir(project_dir)
    try:
        return _run(program, config=config, secret_keys=tuple(secret_keys), preview=preview,
                    project=project, stack=stack, env=env, host=host, timeout=timeout,
                    project_dir=project_dir, on_log=on_log)
    finally:
        os.chdir(saved_cwd)
        with contextlib.suppress(ValueError):
            sys.path.remove(project_dir)
        for name in set(sys.modules) - before:
            file = getattr(sys.modules.get(name), "__file__", None) or ""
            if os.path.abspath(file).startswith(project_dir + os.sep):
                del sys.modules[name]


def _project_name(project_dir: str) -> Optional[str]:
    for filename in ("Pulumi.yaml", "Pulumi.yml"):
        candidate = os.path.join(project_dir, filename)
        if os.path.exists(candidate):
            import yaml  # a pulumi dependency

            with open(candidate, encoding="utf-8") as f:
                name = (yaml.safe_load(f) or {}).get("name")
            return str(name) if name else None
    return None
