"""Every place this package touches the Pulumi SDK's private names: the workarounds of SDK defects.

One room for all of them, below the front ends that use them (the dynamic data sources in ``pulumi/``,
the harness in ``testing/``), importing only Pulumi. Each workaround names the SDK functions whose code
it was verified against (those it replaces or undoes, and those whose behaviour it relies on). It
applies only where the installed SDK's source of them has a fingerprint listed in
:data:`VERIFIED_SDK_FINGERPRINTS` (that code was read and found as the workaround assumes it); on any
other SDK it leaves the SDK alone and says so once in the program's log. tests/test_sdk_workarounds.py
runs them on the SDK installed, on one whose code differs and on one that fixed the defect, and fails
on an SDK whose fingerprints are not listed; tests/test_output_wait.py checks the linear wait against
the SDK's.

Evidence, per workaround:

* ``linear_output_wait``: ``pulumi.runtime.stack.wait_for_rpcs`` (3.271.0 to 3.274.1) re-registers a
  done-callback on every pending Output after each one completes: O(N^2) in pending Outputs; 200 gates
  spent 54 s of 67 s there (docs/benchmarks.md, docs/limits.md). Private names: ``_get_rpc_manager``,
  ``SETTINGS.outputs`` / ``SETTINGS.lock``, and the module attribute ``stack.wait_for_rpcs``, which
  ``run_pulumi_func`` looks up by name.
* ``pickler_chain``: ``pulumi.dynamic.dynamic.serialize_provider`` wraps ``pickle._Pickler._batch_setitems``
  once more per call and never unwraps it (3.271.0, 3.272.0): RecursionError after about 985 dynamic
  resources in one program (docs/benchmarks.md "Pulumi SDK limit found on the way"). Private names:
  ``pickle._Pickler._batch_setitems``. pulumi 3.274.1 fixed it (listed in :data:`FIXED_SDK_FINGERPRINTS`).
* ``settings_defaults``: ``pulumi._utils.ContextProperty.fset`` also overwrites the property's
  process-wide *default* when the current value is None (``if self._data.get() is None: self.__default
  = v``), so a run's monitor and engine leak into every context that never set them (any new thread);
  ``set_mocks`` leaks the same way. The harness runs programs one after another in the caller's
  process, so it puts the defaults back (:func:`settings_defaults_restored`). Private names:
  ``pulumi._utils.ContextProperty`` and its name-mangled ``_ContextProperty__default``.

A new SDK's fingerprints, to read and list:
    python -c "from pulumi_fc_invocation.sdk_workarounds import SDK_WORKAROUNDS, sdk_fingerprint as f; \
               print({name: f(name) for name in SDK_WORKAROUNDS})"
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
from collections.abc import Iterator
from typing import Any, Optional

import pulumi

__all__ = [
    "LINEAR_OUTPUT_WAIT", "PICKLER_CHAIN", "SDK_WORKAROUNDS", "VERIFIED_SDK_FINGERPRINTS", "FIXED_SDK_FINGERPRINTS",
    "sdk_fingerprint", "sdk_verified", "undo_sdk_pickler_chain", "LINEAR_OUTPUT_WAIT_ENV", "linear_wait_for_rpcs",
    "install_linear_output_wait", "SETTINGS_DEFAULTS", "settings_defaults_restored",
]

LINEAR_OUTPUT_WAIT = "linear_output_wait"
PICKLER_CHAIN = "pickler_chain"
SETTINGS_DEFAULTS = "settings_defaults"
SDK_WORKAROUNDS: dict[str, tuple[str, ...]] = {
    LINEAR_OUTPUT_WAIT: ("pulumi.runtime.stack:wait_for_rpcs", "pulumi.runtime.stack:run_pulumi_func",
                         "pulumi.output:Output._track", "pulumi.output:Output._untrack",
                         "pulumi.runtime.settings:_get_rpc_manager", "pulumi.runtime.rpc_manager:RPCManager"),
    PICKLER_CHAIN: ("pulumi.dynamic.dynamic:serialize_provider",),
    SETTINGS_DEFAULTS: ("pulumi._utils:ContextProperty.__init__", "pulumi._utils:ContextProperty.fget",
                        "pulumi._utils:ContextProperty.fset"),
}
VERIFIED_SDK_FINGERPRINTS: dict[str, frozenset[str]] = {  # the defect is there, and the workaround fits it
    # pulumi 3.271.0 and 3.272.0 (the PyPI wheels) and 3.274.1 (its source): the same code.
    LINEAR_OUTPUT_WAIT: frozenset({"fec69719caf02e73"}),
    # pulumi 3.271.0 and 3.272.0 (and the tags 3.228.0, 3.229.0, 3.251.0, 3.252.0, 3.259.0).
    PICKLER_CHAIN: frozenset({"e32f2e4fbe0e522e"}),
    # pulumi 3.271.0, 3.272.0, 3.274.1 and the tags 3.228.0, 3.229.0, 3.251.0, 3.252.0, 3.259.0: the same code.
    SETTINGS_DEFAULTS: frozenset({"1c7151787a54ce1f"}),
}
FIXED_SDK_FINGERPRINTS: dict[str, frozenset[str]] = {  # read: the SDK fixed the defect itself; nothing to do
    LINEAR_OUTPUT_WAIT: frozenset(),
    # pulumi 3.274.1: serialize_provider restores _batch_setitems and save_dict when it is done.
    PICKLER_CHAIN: frozenset({"1e9a4600d87cafba"}),
    SETTINGS_DEFAULTS: frozenset(),
}
_WHAT_IS_LEFT = {
    LINEAR_OUTPUT_WAIT: "the SDK's own end-of-program wait is used (quadratic in pending Outputs in the SDKs "
                        "read: many gates in one program end slower)",
    PICKLER_CHAIN: "the SDK's pickler chain is left as it grows (in the SDKs read, a program fails with "
                   "RecursionError after about 985 dynamic resources)",
    SETTINGS_DEFAULTS: "the SDK's settings defaults are left as a harness run sets them (in the SDKs read, "
                       "its monitor and engine become those of every context that never set them)",
}


def sdk_fingerprint(workaround: str) -> Optional[str]:
    """The installed SDK's fingerprint for ``workaround``: the first 16 hex digits of the SHA-256 of the
    source of the functions it names (:data:`SDK_WORKAROUNDS`), in order; None if one of them is
    missing, has no readable source, or is no longer the SDK's own (replaced from another module)."""
    import hashlib
    import importlib
    import inspect

    digest = hashlib.sha256()
    for ref in SDK_WORKAROUNDS[workaround]:
        module_name, _, path = ref.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for part in path.split("."):
                obj = getattr(obj, part)
            if getattr(obj, "__module__", None) != module_name:
                return None
            source = inspect.getsource(obj)
        except (ImportError, AttributeError, OSError, TypeError):
            return None
        digest.update(f"{ref}\n{source}\n".encode())
    return digest.hexdigest()[:16]


_sdk_verdicts: dict[str, bool] = {}


def sdk_verified(workaround: str) -> bool:
    """Whether ``workaround`` applies: the installed SDK's code is the code it was verified against
    (taken once per process). Otherwise the SDK is left alone, and the program's log says so once: at
    info level with the SDK's version and fingerprint for code not read, at debug level for code that
    fixed the defect itself (:data:`FIXED_SDK_FINGERPRINTS`)."""
    verdict = _sdk_verdicts.get(workaround)
    if verdict is None:
        fingerprint = sdk_fingerprint(workaround)
        verdict = _sdk_verdicts[workaround] = fingerprint in VERIFIED_SDK_FINGERPRINTS[workaround]
        what = workaround.replace("_", " ")
        if fingerprint in FIXED_SDK_FINGERPRINTS[workaround]:
            pulumi.log.debug(f"pulumi-fc-invocation: this pulumi SDK fixed the {what} defect itself "
                             f"(fingerprint {fingerprint}): no workaround")
        elif not verdict:
            from importlib.metadata import PackageNotFoundError, version

            try:
                sdk = f"pulumi {version('pulumi')}"
            except PackageNotFoundError:
                sdk = "this pulumi SDK"
            names = ", ".join(ref.partition(":")[2] for ref in SDK_WORKAROUNDS[workaround])
            pulumi.log.info(f"pulumi-fc-invocation: {sdk} is not the code its {what} workaround was verified "
                            f"against ({names}: fingerprint {fingerprint}); leaving the SDK alone: "
                            f"{_WHAT_IS_LEFT[workaround]}")
    return verdict


def undo_sdk_pickler_chain() -> None:
    """Work around a Pulumi SDK leak: each ``serialize_provider`` call wraps
    ``pickle._Pickler._batch_setitems`` once more and never unwraps it, so after about 985 dynamic
    resources in one program every further one fails with ``RecursionError``. Restoring the original
    method after our own registration keeps the chain one wrapper deep; the SDK wraps it again
    (sorted, as it wants) at the next serialization. Only on an SDK whose ``serialize_provider`` is
    the code this was verified against (:func:`sdk_verified`)."""
    if not sdk_verified(PICKLER_CHAIN):
        return
    import pickle

    fn = pickle._Pickler.__dict__.get("_batch_setitems")
    for _ in range(100_000):
        if fn is None or getattr(fn, "__qualname__", "") == "_Pickler._batch_setitems":
            break
        inner = [c.cell_contents for c in (getattr(fn, "__closure__", None) or ()) if callable(c.cell_contents)]
        fn = inner[0] if inner else None
    if fn is not None and getattr(fn, "__qualname__", "") == "_Pickler._batch_setitems":
        # typeshed's _Pickler declares none of its private methods: setting one back is unknown to mypy.
        pickle._Pickler._batch_setitems = fn  # type: ignore[attr-defined]


LINEAR_OUTPUT_WAIT_ENV = "FC_INVOCATION_LINEAR_OUTPUT_WAIT"


async def linear_wait_for_rpcs(await_all_outstanding_tasks: bool = True) -> None:
    """The SDK's ``pulumi.runtime.stack.wait_for_rpcs`` (3.271.0 to 3.274.1), in time linear in the Outputs.

    The SDK awaits every outstanding Output (``SETTINGS.outputs``) with
    ``asyncio.wait(all_pending, FIRST_COMPLETED)`` in a loop: after each Output that completes it
    registers and removes a done-callback on every pending one again. A gate holds about 30 pending
    Outputs while it waits (the resource's output properties, which resolve with its read), so N gates
    cost O(N^2): 200 gates spent 54 s of 67 s there. Here each Output gets one done-callback, once;
    at every completion the loop does what the SDK's does: awaits what completed (so the first
    failure raises, as the SDK's), and takes in the Outputs created since (``SETTINGS.outputs``
    holds exactly those, as the SDK's loop leaves it), until none is left. The RPC part is the SDK's
    code unchanged."""
    from pulumi import log
    from pulumi.runtime import settings
    from pulumi.runtime.settings import SETTINGS, _get_rpc_manager

    log.debug("Waiting for outstanding RPCs to complete")
    rpc_manager = _get_rpc_manager()
    while True:
        while len(rpc_manager.rpcs) > 0:
            await asyncio.sleep(0)
            if settings.excessive_debug_output:
                log.debug(f"waiting for quiescence; {len(rpc_manager.rpcs)} RPCs outstanding")
            try:
                await rpc_manager.rpcs.pop()
            except Exception as exn:
                if rpc_manager.unhandled_exception is not None:
                    cause = rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
                    raise exn from cause
                raise
        if rpc_manager.unhandled_exception is not None:
            raise rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
        log.debug("RPCs successfully completed")
        if await_all_outstanding_tasks:
            await _await_outstanding_outputs(SETTINGS)
            log.debug("All outstanding outputs completed.")
        if len(rpc_manager.rpcs) == 0:
            break


async def _await_outstanding_outputs(settings: Any) -> None:
    """Await every Output in ``settings.outputs`` and every one created meanwhile; raise the first failure."""
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Future[Any]] = set()
    finished: "collections.deque[asyncio.Future[Any]]" = collections.deque()
    waker: Optional[asyncio.Future[Any]] = None

    def on_done(task: asyncio.Future[Any]) -> None:
        finished.append(task)
        if waker is not None and not waker.done():
            waker.set_result(None)

    def take_new() -> None:  # under settings.lock: what the SDK's next snapshot would hold, less what we hold
        new = [task for task in settings.outputs if task not in pending]
        settings.outputs.clear()
        for task in new:
            pending.add(task)
            task.add_done_callback(on_done)

    with settings.lock:
        take_new()
    while True:
        while finished:
            task = finished.popleft()
            pending.discard(task)
            await task  # done: returns at once, or raises its exception (CancelledError if cancelled)
        with settings.lock:
            if settings.outputs:
                take_new()
            if not pending:
                return
        if finished:
            continue
        waker = loop.create_future()
        try:
            await waker
        finally:
            waker = None


def install_linear_output_wait() -> bool:
    """Replace the SDK's ``wait_for_rpcs`` by :func:`linear_wait_for_rpcs` (once per process), if
    ``FC_INVOCATION_LINEAR_OUTPUT_WAIT`` is not 0/false/off, the function in place is still the SDK's
    own, and the SDK's code is the code this was verified against (:func:`sdk_verified`). Called when
    a data source is declared: ``run_pulumi_func`` looks the function up by name when the program's
    body has returned. Returns whether the replacement is in place."""
    import pulumi.runtime.stack as stack

    if stack.wait_for_rpcs is linear_wait_for_rpcs:
        return True
    if os.environ.get(LINEAR_OUTPUT_WAIT_ENV, "").strip().lower() in ("0", "false", "no", "off"):
        return False
    original = stack.wait_for_rpcs
    if getattr(original, "__module__", "") != "pulumi.runtime.stack" or not sdk_verified(LINEAR_OUTPUT_WAIT):
        return False
    stack.wait_for_rpcs = linear_wait_for_rpcs
    return True


@contextlib.contextmanager
def settings_defaults_restored() -> Iterator[None]:
    """Put the SDK settings' process-wide defaults back as they were when the block is left: setting a
    setting leaks into its default even inside a copied context (``settings_defaults`` in the module's
    docstring). The harness runs each program inside this. Only on an SDK whose ``ContextProperty`` is
    the code this was verified against (:func:`sdk_verified`)."""
    if not sdk_verified(SETTINGS_DEFAULTS):
        yield
        return
    from pulumi._utils import ContextProperty
    from pulumi.runtime.settings import Settings

    props = [prop for prop in vars(Settings).values() if isinstance(prop, ContextProperty)]
    saved = [prop._ContextProperty__default for prop in props]  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for prop, default in zip(props, saved):
            prop._ContextProperty__default = default  # type: ignore[attr-defined]
