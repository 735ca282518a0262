"""The program side of every data source: resolving arguments, registering the read, mocks, and the
gate as it runs in the program's event loop (:func:`gate_in_program`).

The wait runs in the program, not in the provider host: the host serves at most four calls at once,
so fifty gates waiting there would release in batches of four.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import os
from collections.abc import Awaitable, Mapping
from typing import Any, Callable, NoReturn, Optional, TypeVar

import pulumi
import pulumi.dynamic
from pulumi import Output, ResourceOptions

from ..batching import secret_config_texts
from ..errors import ConfigurationError, InvalidArgumentError
from ..models import redacting, secret_values
from . import verdict
from .gating import CONFIG_KEYS, SKIP_WAIT_ENV, client_for, gate_for, run_gate_result, skip_wait
from .operation import records_only, records_only_notice

__all__ = [
    "plain_input_errors", "program_config", "client_of", "secret_config_of", "gate_secrets", "under_mocks",
    "mocked_props", "outputs_after",
    "mock_invoke", "secret_names", "resolve_spec", "spec_prop", "log_target", "register_read",
    "undo_sdk_pickler_chain",
    "is_plain", "all_plain", "skip_notice", "no_verdict_props", "ProgramReporter", "gate_in_program",
    "check_plain_bool", "LINEAR_OUTPUT_WAIT_ENV", "install_linear_output_wait", "linear_wait_for_rpcs",
    "LINEAR_OUTPUT_WAIT", "PICKLER_CHAIN", "SDK_WORKAROUNDS", "VERIFIED_SDK_FINGERPRINTS",
    "FIXED_SDK_FINGERPRINTS", "sdk_fingerprint", "sdk_verified",
]

T = TypeVar("T")


class _ProgramInputError(InvalidArgumentError, pulumi.RunError):
    """An InvalidArgumentError that is also a ``pulumi.RunError``: the language host prints its message
    alone, not 30-odd lines of SDK frames. Still an InvalidArgumentError (and a ValueError) to catch."""


class _ProgramSettingError(ConfigurationError, pulumi.RunError):
    """The same for a ConfigurationError (e.g. an ``endpoint`` argument without a scheme)."""


def plain_input_errors(func: Callable[..., T]) -> Callable[..., T]:
    """Let ``func``'s input errors reach the user as its message alone (see :class:`_ProgramInputError`).

    Only the Pulumi forms are wrapped: errors.py cannot subclass RunError (the CLI never imports
    Pulumi), so the instance is re-classed here, where Pulumi is loaded anyway."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return func(*args, **kwargs)
        except InvalidArgumentError as exc:
            if not isinstance(exc, pulumi.RunError):
                exc.__class__ = _ProgramInputError
            raise
        except ConfigurationError as exc:
            if not isinstance(exc, pulumi.RunError):
                exc.__class__ = _ProgramSettingError
            raise

    return wrapper


def check_plain_bool(argument: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise InvalidArgumentError(argument, value, "must be True or False (a plain value)")


def program_config() -> dict[str, Any]:
    """The stack config keys the credential chain reads, as the program process sees them."""
    from pulumi.runtime.config import get_config

    config = {}
    for key in CONFIG_KEYS:
        value = get_config(key)
        if value is not None:
            config[key] = value
    return config


def secret_config_of(config: Mapping[str, Any]) -> list[str]:
    """The keys of ``config`` that the stack holds as secrets."""
    from pulumi.runtime.config import is_config_secret

    return [key for key in config if is_config_secret(key)]


def client_of(spec: Any):
    """The (cached) client for a spec's settings, from the program's config; the spec's secret inputs
    and the secret stack settings never show in its errors."""
    config = program_config()
    with redacting(spec.secret_texts):
        return client_for(config, region=spec.region, account_id=spec.account_id, endpoint=spec.endpoint,
                          secret_config=secret_config_of(config))


def gate_secrets(spec: Any) -> tuple[str, ...]:
    """What no message of a gate may show: the spec's secret inputs and the secret stack settings
    (the client holds them: an endpoint, or an account id in the endpoint derived from it, shows in
    every "cannot reach" error of every later call, not only while the client is built)."""
    config = program_config()
    return tuple(spec.secret_texts) + secret_config_texts(config, secret_config_of(config))


def under_mocks() -> bool:
    """Running under ``pulumi.runtime.set_mocks`` (a user's unit test): no provider ever runs there,
    so the data sources make no call and never wait; the mocks' outputs are the item. (The
    package's own harness uses a subclass that forwards to a real provider host: not mocks.)"""
    from pulumi.runtime import mocks, settings

    return type(settings.get_monitor()) is mocks.MockMonitor


def mocked_props(props: dict[str, Any], wait: bool) -> dict[str, Any]:
    """The read's props under mocks: a gate in an update "waited" its whole timeout (a mocked status
    that is not terminal is a timeout, as it would be live)."""
    waited = props["timeout_seconds"] if wait and not pulumi.runtime.is_dry_run() else None
    return {**props, "waited_seconds": waited}


def outputs_after(resource: Any, keys: Any, judgment: Output[Any]) -> None:
    """Under mocks: each of ``resource``'s output properties ``keys`` resolves once ``judgment`` (the
    gate's verdict on the mock's outputs) has, and fails with it. ``@pulumi.runtime.test`` forgets
    every Output created before the test runs, so the verdict of a gate declared at module level (the
    layout of Pulumi's unit-testing guide: set the mocks, ``import infra``, then test functions) was
    never awaited, and a test reading that gate passed on a Failed task. The URN and id are the SDK's
    own and are not held back."""
    judgment = Output.unsecret(judgment)  # the verdict holds nothing: each output keeps its own secrecy
    for key in keys:
        setattr(resource, key, Output.all(judgment, getattr(resource, key)).apply(lambda both: both[1]))


async def mock_invoke(token: str, props: dict[str, Any]) -> dict[str, Any]:
    """A function form under mocks: the user's ``Mocks.call`` answers ``token`` with the outputs."""
    from pulumi.runtime.invoke import invoke_async

    return dict(await invoke_async(token, props) or {})


def is_plain(value: Any) -> bool:
    return not isinstance(value, Output) and not asyncio.isfuture(value) and not asyncio.iscoroutine(value)


def all_plain(args: Mapping[str, Any]) -> bool:
    for value in args.values():
        if not is_plain(value):
            return False
        if isinstance(value, (list, tuple)) and not all(is_plain(v) for v in value):
            return False
    return True


def secret_names(args: dict[str, Any]) -> Output[frozenset]:
    """The names of the arguments given as secret Outputs (known once they resolve)."""
    async def names() -> frozenset:
        found = set()
        for key, value in args.items():
            if value is not None and not (is_plain(value) and not isinstance(value, (list, tuple))):
                if await Output.from_input(value).is_secret():
                    found.add(key)
        return frozenset(found)

    return Output.from_input(names())


def resolve_spec(args: dict[str, Any], build: Any, plain: Any = None) -> Output[Any]:
    """``build(values, hidden)`` once ``args`` resolve, as a non-secret Output: secrecy is tracked per
    argument in the spec's ``hidden`` (a secret id would break the SDK's read, and would make every
    output secret), and restored per output by :func:`spec_prop`. ``plain``: the spec of plain
    arguments, built already (nothing to resolve)."""
    install_linear_output_wait()  # every Output form (data sources, function forms) comes through here
    if plain is not None:  # the spec of plain arguments, built already: nothing to resolve
        return Output.from_input(plain)

    def run(values_hidden: list) -> Any:
        values, hidden = values_hidden
        with redacting(secret_values(values, hidden)):
            return plain_input_errors(build)(dict(values), hidden)

    return Output.unsecret(Output.all(Output.all(**args), secret_names(args)).apply(run))


def spec_prop(spec: Output[Any], key: str) -> Output[Any]:
    """``spec.props()[key]``, secret when the argument was."""
    return spec.apply(lambda s: Output.secret(s.props()[key]) if key in s.hidden else s.props()[key])


class _UrnOnly:
    """Lets ``pulumi.log`` attach a message to a resource whose URN is known but not yet registered
    (waiting on ``resource.urn`` itself would hold every progress message until the wait is over)."""

    def __init__(self, urn: Output[str]) -> None:
        self.urn = urn


def log_target(resource_name: str, type_token: str, opts: ResourceOptions) -> "_UrnOnly":
    """Where progress messages go: the resource's URN as the engine will make it, known before the
    read is registered. The engine leaves the root stack out of top-level URNs (``create_urn`` with
    ``parent=<Stack>`` would not)."""
    from pulumi.runtime.settings import get_root_resource

    parent = opts.parent if opts.parent is not None and opts.parent is not get_root_resource() else None
    return _UrnOnly(pulumi.resource.create_urn(resource_name, type_token, parent=parent))


# --- workarounds of Pulumi SDK defects ----------------------------------------------------------
# Each names the SDK functions whose code it was verified against (those it replaces or undoes, and
# those whose behaviour it relies on). It applies only where the installed SDK's source of them has a
# fingerprint listed in VERIFIED_SDK_FINGERPRINTS (that code was read and found as the workaround
# assumes it); on any other SDK it leaves the SDK alone and says so once in the program's log. The
# README's Limits give each defect with its evidence. A new SDK's fingerprints, to read and list:
#   python -c "from pulumi_fc_invocation.pulumi.program import sdk_fingerprint as f; \
#              print(f('linear_output_wait'), f('pickler_chain'))"
LINEAR_OUTPUT_WAIT = "linear_output_wait"
PICKLER_CHAIN = "pickler_chain"
SDK_WORKAROUNDS: dict[str, tuple[str, ...]] = {
    LINEAR_OUTPUT_WAIT: ("pulumi.runtime.stack:wait_for_rpcs", "pulumi.runtime.stack:run_pulumi_func",
                         "pulumi.output:Output._track", "pulumi.output:Output._untrack",
                         "pulumi.runtime.settings:_get_rpc_manager", "pulumi.runtime.rpc_manager:RPCManager"),
    PICKLER_CHAIN: ("pulumi.dynamic.dynamic:serialize_provider",),
}
VERIFIED_SDK_FINGERPRINTS: dict[str, frozenset] = {  # the defect is there, and the workaround fits it
    # pulumi 3.271.0 and 3.272.0 (the PyPI wheels) and 3.274.1 (its source): the same code.
    LINEAR_OUTPUT_WAIT: frozenset({"fec69719caf02e73"}),
    # pulumi 3.271.0 and 3.272.0 (and the tags 3.228.0, 3.229.0, 3.251.0, 3.252.0, 3.259.0).
    PICKLER_CHAIN: frozenset({"e32f2e4fbe0e522e"}),
}
FIXED_SDK_FINGERPRINTS: dict[str, frozenset] = {  # read: the SDK fixed the defect itself; nothing to do
    LINEAR_OUTPUT_WAIT: frozenset(),
    # pulumi 3.274.1: serialize_provider restores _batch_setitems and save_dict when it is done.
    PICKLER_CHAIN: frozenset({"1e9a4600d87cafba"}),
}
_WHAT_IS_LEFT = {
    LINEAR_OUTPUT_WAIT: "the SDK's own end-of-program wait is used (quadratic in pending Outputs in the SDKs "
                        "read: many gates in one program end slower)",
    PICKLER_CHAIN: "the SDK's pickler chain is left as it grows (in the SDKs read, a program fails with "
                   "RecursionError after about 985 dynamic resources)",
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

    fn = pickle._Pickler.__dict__.get("_batch_setitems")  # type: ignore[attr-defined]
    for _ in range(100_000):
        if fn is None or getattr(fn, "__qualname__", "") == "_Pickler._batch_setitems":
            break
        inner = [c.cell_contents for c in (getattr(fn, "__closure__", None) or ()) if callable(c.cell_contents)]
        fn = inner[0] if inner else None
    if fn is not None and getattr(fn, "__qualname__", "") == "_Pickler._batch_setitems":
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
    pending: set = set()
    finished: "collections.deque[asyncio.Future]" = collections.deque()
    waker: Optional[asyncio.Future] = None

    def on_done(task: asyncio.Future) -> None:
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


def register_read(resource: pulumi.dynamic.Resource, provider: pulumi.dynamic.ResourceProvider, resource_name: str,
                  props: dict[str, Any], opts: ResourceOptions, gated_id: Output[str], secret: list[str]) -> None:
    """Register ``resource`` as a read whose id resolves when the gate opens, with ``secret`` outputs."""
    merged = ResourceOptions.merge(
        opts, ResourceOptions(id=gated_id, additional_secret_outputs=secret + list(opts.additional_secret_outputs or [])))
    try:
        pulumi.dynamic.Resource.__init__(resource, provider, resource_name, props, merged)
    finally:
        undo_sdk_pickler_chain()


def skip_notice(spec: Any, log_target: Any) -> bool:
    """Under the break-glass switch, warn against the gate that it is skipped; True if skipping."""
    if not skip_wait():
        return False
    what = "not waiting for it and giving no verdict" if spec.wait else "giving no verdict"
    pulumi.log.warn(f"{SKIP_WAIT_ENV} is set: {what} on {spec.id} (fail_on_statuses and timeout_seconds are "
                    f"not applied)", resource=log_target)
    return True


def no_verdict_props(props: dict[str, Any], spec: Output[Any]) -> None:
    """Under the break-glass switch, or in a refresh/destroy, the read applies no fail statuses."""
    if skip_wait() or records_only():
        props["fail_on_statuses"] = spec.apply(lambda s: [])


class ProgramReporter:
    """A gate's messages as ``pulumi.log`` lines against its resource; its failure as a RunError
    (:mod:`.verdict`), which also stops the other gates of the program."""

    def __init__(self, log_target: Any) -> None:
        self.target = log_target

    def info(self, text: str) -> None:
        pulumi.log.info(text, resource=self.target)

    def warn(self, text: str) -> None:
        pulumi.log.warn(text, resource=self.target)

    def fail(self, text: str) -> NoReturn:
        verdict.fail(text, self.target)

    def until_done(self, wait: Awaitable[T]) -> Awaitable[T]:
        return verdict.until_done(wait, self.target)


async def gate_in_program(spec: Any, log_target: Any) -> Optional[float]:
    """A data source's gate in the program (see :func:`.gating.run_gate`); returns the seconds waited,
    or None. Only records (no read, no verdict here) in a refresh/destroy, under mocks and under the
    switch."""
    if skip_notice(spec, log_target) or under_mocks() or records_only_notice(spec.id, log_target):
        return None
    secrets = gate_secrets(spec)
    with redacting(secrets):
        _, waited = await run_gate_result(gate_for(spec), client_of(spec), ProgramReporter(log_target),
                                          preview=pulumi.runtime.is_dry_run(), secrets=secrets)
    return waited
