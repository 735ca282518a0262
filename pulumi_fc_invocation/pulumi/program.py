"""The program side of every data source: resolving arguments, registering the read, mocks, and the
gate as it runs in the program's event loop (:func:`gate_in_program`).

The wait runs in the program, not in the provider host: the host serves at most four calls at once,
so fifty gates waiting there would release in batches of four.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Awaitable, Collection, Mapping
from typing import Any, Callable, NoReturn, Optional, TypeVar

import pulumi
import pulumi.dynamic
from pulumi import Output, ResourceOptions

from ..client import FcClient
from ..credentials import secret_config_texts
from .. import errors
from ..errors import FcInvocationError, InvalidArgumentError
from ..gate.clients import CONFIG_KEYS, client_for, pool
from ..gate.explain import config_vocabulary, explain
from ..gate.gates import gate_for
from ..gate.operation import SKIP_WAIT_ENV, current_operation, records_only, skip_wait
from ..gate.run import run_gate_result
from ..models import redact, redacting, secret_values
from . import verdict
from .interrupt import interruptible
from .operation import records_only_notice
from ..sdk_workarounds import install_linear_output_wait, undo_sdk_pickler_chain

__all__ = [
    "plain_input_errors", "program_config", "client_of", "secret_config_of", "gate_secrets", "under_mocks",
    "mocked_props", "outputs_after",
    "mock_invoke", "secret_names", "resolve_spec", "spec_prop", "log_target", "register_read",
    "is_plain", "all_plain", "skip_notice", "no_verdict_props", "ProgramReporter", "gate_in_program",
    "check_plain_bool", "as_run_error", "user_message", "user_errors",
]

T = TypeVar("T")


class _RunErrorOf(pulumi.RunError):
    """The base of the errors :func:`as_run_error` raises: pickled as they are (their words, attributes)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuilt_run_error, (type(self), self.args, dict(self.__dict__)))


def _rebuilt_run_error(cls: type, args: tuple[Any, ...], state: dict[str, Any]) -> BaseException:
    again: BaseException = Exception.__new__(cls)
    again.args = args
    again.__dict__.update(state)
    return again


def _run_error_classes() -> dict[type, type]:
    """For each error class of errors.py, ``<Name>RunError`` here: that class and a ``pulumi.RunError``."""
    made = {}
    for name, cls in vars(errors).items():
        if isinstance(cls, type) and issubclass(cls, FcInvocationError) and cls.__module__ == errors.__name__:
            run_name = name.removesuffix("Error") + "RunError"
            made[cls] = globals()[run_name] = type(run_name, (_RunErrorOf, cls), {
                "__module__": __name__, "__qualname__": run_name,
                "__doc__": f"A {name} that is also a ``pulumi.RunError``: the language host prints its message alone."})
    return made


_RUN_ERRORS = _run_error_classes()  # module-level names (FcApiRunError, AuthenticationRunError...): they pickle


def as_run_error(error: FcInvocationError, text: Optional[str] = None) -> pulumi.RunError:
    """``error`` again, as an error of its class that is also a ``pulumi.RunError`` (the language host prints
    a RunError's message alone, not 30-odd lines of SDK frames), saying ``text`` (default: its own words).
    Its attributes are kept (an InvalidArgumentError's ``argument``, an API error's ``code``...): still the
    error a caller catches. errors.py cannot subclass RunError (the CLI never imports Pulumi), so this is
    done here, where Pulumi is loaded anyway; raise it ``from error``. An error of a class defined elsewhere
    gets the class of its nearest errors.py base."""
    cls = next(_RUN_ERRORS[base] for base in type(error).__mro__ if base in _RUN_ERRORS)
    again: pulumi.RunError = Exception.__new__(cls)
    again.__dict__.update(error.__dict__)
    again.args = (str(error) if text is None else text,)
    return again


def user_message(error: BaseException, secrets: Collection[str] = ()) -> Optional[str]:
    """The one line a program's user reads for ``error`` (:func:`..gate.explain.explain`, in the stack config's
    words), ``secrets`` masked; None for an error that is not a setting, credentials, authentication, network or
    input error. A setting is named by the stack config key the user set (config_vocabulary)."""
    text = explain(error, config_vocabulary(config=program_config()))
    return None if text is None else redact(text, secrets)


def plain_input_errors(func: Callable[..., T]) -> Callable[..., T]:
    """Let ``func``'s errors reach the user as one line, chained to the original (:func:`as_run_error`): a bad
    input, setting, credentials, authentication or network error in :func:`user_message`'s words, any other
    error of the package (a function form's verdict) in its own."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return func(*args, **kwargs)
        except pulumi.RunError:
            raise
        except FcInvocationError as exc:
            raise as_run_error(exc, user_message(exc)) from exc

    return wrapper


async def user_errors(wait: Awaitable[T]) -> T:
    """``await wait``, its user errors raised as :func:`plain_input_errors` raises them (an Output form's read)."""
    try:
        return await wait
    except pulumi.RunError:
        raise
    except FcInvocationError as exc:
        raise as_run_error(exc, user_message(exc)) from exc


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


def client_of(spec: Any) -> FcClient:
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


async def mock_invoke(token: str, props: dict[str, Any], opts: Any = None) -> dict[str, Any]:
    """A function form under mocks: the user's ``Mocks.call`` answers ``token`` with the outputs."""
    from pulumi.runtime.invoke import invoke_async

    return dict(await invoke_async(token, props, opts=opts) or {})


def is_plain(value: Any) -> bool:
    return not isinstance(value, Output) and not asyncio.isfuture(value) and not asyncio.iscoroutine(value)


def all_plain(args: Mapping[str, Any]) -> bool:
    for value in args.values():
        if not is_plain(value):
            return False
        if isinstance(value, (list, tuple)) and not all(is_plain(v) for v in value):
            return False
    return True


def secret_names(args: dict[str, Any]) -> Output[frozenset[str]]:
    """The names of the arguments given as secret Outputs (known once they resolve)."""
    async def names() -> frozenset[str]:
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

    def run(values_hidden: list[Any]) -> Any:
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
    """A data source's gate in the program (see :func:`..gate.run.run_gate_result`); returns the seconds waited,
    or None. Only records (no read, no verdict here) in a refresh/destroy, under mocks and under the
    switch. A setting, credentials, authentication or network error fails the gate with one line naming the
    setting and the fix (:func:`user_message`), as a verdict fails it: here, in the program, since the
    provider host's read would fail with a traceback (:mod:`.providers`)."""
    if skip_notice(spec, log_target) or under_mocks():
        return None
    secrets = gate_secrets(spec)
    if records_only_notice(spec.id, log_target):
        await _check_settings(spec, log_target, secrets)
        return None
    try:
        with redacting(secrets), interruptible(spec, log_target, secrets):
            _, waited = await run_gate_result(gate_for(spec), client_of(spec), ProgramReporter(log_target),
                                              preview=pulumi.runtime.is_dry_run(), secrets=secrets)
    except FcInvocationError as exc:
        _fail_on_user_error(exc, log_target, secrets)
        raise
    return waited


def _fail_on_user_error(error: FcInvocationError, log_target: Any, secrets: Collection[str]) -> None:
    """Fail the gate with ``error``'s one line, if it is a user error (:func:`user_message`); else return."""
    text = user_message(error, secrets)
    if text is not None:
        verdict.fail(text, log_target)


# The settings checks of this program run (refresh --run-program): one per client, by event loop (an Automation
# API process runs one program per loop, each checking again).
_CHECKS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], asyncio.Future[Any]]]" = \
    weakref.WeakKeyDictionary()


async def _check_settings(spec: Any, log_target: Any, secrets: Collection[str]) -> None:
    """``refresh --run-program``: the engine's read will use the current settings, in the provider host, where
    an error is a traceback; one read here first fails the refresh with one line if they do not work. One read
    per client (region, account id, endpoint) of the program: its other gates wait for that check and add no
    read of their own. (A destroy is never blocked by them: nothing is read there that it needs, see
    :mod:`.providers`.)"""
    if current_operation() != "refresh":
        return
    loop = asyncio.get_running_loop()
    checks = _CHECKS.setdefault(loop, {})
    key = (spec.region, spec.account_id, spec.endpoint)
    if key in checks:
        await asyncio.shield(checks[key])  # another gate's read checks these settings, and says what fails
        return
    checks[key] = loop.create_future()
    try:
        with redacting(secrets):
            client = client_of(spec)
            await loop.run_in_executor(pool(), gate_for(spec).reader(client))
    except FcInvocationError as exc:
        _fail_on_user_error(exc, log_target, secrets)  # another error: the engine's read gives its verdict
    finally:
        checks[key].set_result(None)
