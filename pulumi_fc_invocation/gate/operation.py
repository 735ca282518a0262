"""Whether a gate may wait and judge: the break-glass switch (:func:`skip_wait`), and which Pulumi
operation is running this program.

The engine tells a program only whether it is a dry run. But ``pulumi refresh --run-program`` and
``pulumi destroy --run-program`` (``PULUMI_RUN_PROGRAM=true``, or ``run_program=True`` in the
Automation API) run the program too, with dry-run off once past their preview, and a gate there must
neither wait nor fail: a refresh records state, and a failed task must never block tearing a stack
down. Pulumi gives a program no signal of the operation (pulumi/pulumi#7465 was closed without one),
so the gates take it, first answer wins, from:

1. :func:`for_operation`, for an Automation API inline program. The program runs in the caller's
   process, where no command line names the operation, and one process may run several stacks at
   once, so the operation belongs to the program, not to the process: ``for_operation("destroy",
   main)`` is ``main`` with the operation set in a context variable while it runs. Everything the
   program starts (asyncio tasks, the callbacks of its Outputs) inherits it; another stack's program
   in the same process, even at the same time, sees its own. Pass it as the ``program`` of the one
   call it names, never as the workspace's program::

       stack.up(program=for_operation("up", main))
       stack.refresh(run_program=True, program=for_operation("refresh", main))
       stack.destroy(run_program=True, program=for_operation("destroy", main))

2. ``FC_INVOCATION_OPERATION`` (:data:`OPERATION_ENV`), for a program the CLI runs where ``/proc``
   can't tell (macOS, Windows): set it for the one command, ``FC_INVOCATION_OPERATION=destroy pulumi
   destroy --run-program``; never export it. It is the process's, so it is not the way for a process
   that runs several stacks. Where ``/proc`` names a different command, the gate fails rather than
   trust a stale variable.
3. On Linux, the command line of the ``pulumi`` process that started the program (the language host's
   parent), read from ``/proc`` and parsed as the CLI's command parser (cobra) does: the first word
   that is not a flag or a flag's value, by every name the CLI accepts (:data:`COMMANDS`).

With none of them (an inline program without :func:`for_operation`, a CLI program on macOS or Windows
without the variable), :func:`current_operation` answers None and gates behave as in ``up``.

A gate that only records because 1 or 2 said so (not ``/proc``) warns against itself, naming the
setting (:func:`records_only_setting`, :func:`relaxed_warning`; each front end says it its own way):
left over, either turns an ``up`` into a run whose failed tasks go through, and where ``/proc`` can't
contradict it nothing else would say so.

Imports no Pulumi module: the plugin and the Python data sources both ask it.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import os
from collections.abc import Awaitable
from typing import Any, Callable, Optional, TypeVar

from ..errors import InvalidArgumentError

__all__ = ["COMMANDS", "GLOBAL_FLAGS", "OPERATIONS", "OPERATION_ENV", "PROC_ROOT", "SKIP_WAIT_ENV",
           "current_operation", "for_operation", "operation_from_argv", "operation_from_proc", "records_only",
           "records_only_setting", "relaxed_warning", "skip_wait"]

T = TypeVar("T")

OPERATION_ENV = "FC_INVOCATION_OPERATION"
SKIP_WAIT_ENV = "FC_INVOCATION_SKIP_WAIT"
# The operations that run a program; in refresh and destroy a gate only records its task.
OPERATIONS = ("up", "preview", "refresh", "destroy", "import", "watch")
_RECORDS_ONLY = ("refresh", "destroy")

# Every name the CLI accepts for a command that runs a program, from the `Use` and `Aliases` of
# pkg/cmd/pulumi/operations/{up,preview,refresh,destroy,import}.go at v3.274.1 (`watch`: CLIs up to
# v3.259, removed since). tests/test_operation.py checks this table against the CLI's own --help.
COMMANDS = {"up": "up", "update": "up", "preview": "preview", "pre": "preview", "refresh": "refresh",
            "destroy": "destroy", "down": "destroy", "dn": "destroy", "import": "import", "watch": "watch"}

# The root command's persistent flags (pkg/cmd/pulumi/pulumi.go at v3.274.1, `--tracing-header`
# hidden unless PULUMI_DEBUG_COMMANDS): long name -> (shorthand or "", takes a value). Like cobra's
# command lookup, a flag not listed here is taken to consume the next word.
GLOBAL_FLAGS = {
    "color": ("", True), "cwd": ("C", True), "disable-integrity-checking": ("", False), "emoji": ("e", False),
    "fully-qualify-stack-names": ("Q", False), "logflow": ("", False), "logtostderr": ("", False),
    "memprofilerate": ("", True), "non-interactive": ("", False), "otel-traces": ("", True),
    "profiling": ("", True), "tracing": ("", True), "tracing-header": ("", True), "verbose": ("v", True),
}
_BOOL_LONG = frozenset(name for name, (_, valued) in GLOBAL_FLAGS.items() if not valued)
_BOOL_SHORT = frozenset(short for short, valued in GLOBAL_FLAGS.values() if short and not valued)

PROC_ROOT = "/proc"
_MAX_DEPTH = 8

_TOLD: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("fc_invocation_operation", default=None)


def _checked(argument: str, operation: Any) -> str:
    if not isinstance(operation, str) or operation not in OPERATIONS:
        raise InvalidArgumentError(argument, operation, f"must be one of {', '.join(OPERATIONS)}")
    return operation


def for_operation(operation: str, program: Callable[[], T]) -> Callable[[], T]:
    """``program`` (an Automation API inline program) telling the gates that it runs for ``operation``
    (``"up"``, ``"preview"``, ``"refresh"``, ``"destroy"``, ...); pass it as that call's ``program``."""
    told = _checked("operation", operation)
    if not callable(program):
        raise InvalidArgumentError("program", program, "must be a function that takes no arguments "
                                                       "(a Pulumi inline program)")

    @functools.wraps(program)
    def run() -> Any:
        token = _TOLD.set(told)
        try:
            result = program()
        finally:
            _TOLD.reset(token)
        return _awaiting(told, result) if inspect.isawaitable(result) else result

    return run


async def _awaiting(told: str, awaitable: Awaitable[T]) -> T:
    # An async program's body runs when the SDK awaits it, after `run` returned: set it there too.
    token = _TOLD.set(told)
    try:
        return await awaitable
    finally:
        _TOLD.reset(token)


def _takes_next(flag: str) -> bool:
    """Whether cobra's command lookup takes the word after ``flag`` for its value (cobra's stripFlags)."""
    if "=" in flag:
        return False
    if flag.startswith("--"):
        return flag[2:] not in _BOOL_LONG
    return len(flag) == 2 and flag[1] not in _BOOL_SHORT


def operation_from_argv(argv: list[str]) -> Optional[str]:
    """The operation named by a ``pulumi`` command line (``up``, ``preview``, ``refresh``, ...), found as
    the CLI finds its command: the first word that is neither a flag nor the value of one."""
    args = argv[1:]
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            return None
        if arg.startswith("-"):
            if _takes_next(arg):
                if len(args) - i <= 1:
                    return None  # cobra stops here: no word left after the value
                i += 1
            continue
        if arg:
            return COMMANDS.get(arg)
    return None


def _parent(root: str, pid: int) -> Optional[int]:
    try:
        with open(f"{root}/{pid}/stat", "rb") as f:
            stat = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses; split after the last ')'.
    fields = stat.rsplit(")", 1)[-1].split()
    try:
        return int(fields[1])
    except (IndexError, ValueError):
        return None


def _argv(root: str, pid: int) -> list[str]:
    try:
        with open(f"{root}/{pid}/cmdline", "rb") as f:
            raw = f.read()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


@functools.lru_cache(maxsize=4)
def operation_from_proc(root: str = PROC_ROOT) -> Optional[str]:
    """The operation of the nearest ``pulumi`` ancestor process, read from ``root`` (``/proc``), or
    None where it cannot be told (no such tree, no ``pulumi`` ancestor)."""
    pid: Optional[int] = os.getppid()
    for _ in range(_MAX_DEPTH):
        if pid is None or pid <= 1:
            return None
        argv = _argv(root, pid)
        if argv and os.path.basename(argv[0]) in ("pulumi", "pulumi.exe"):
            return operation_from_argv(argv)
        pid = _parent(root, pid)
    return None


def _answer() -> tuple[Optional[str], Optional[str]]:
    """The operation, and the setting that alone decided it (None when ``/proc`` did, or nothing did)."""
    told = _TOLD.get()
    if told is not None:
        return told, f'for_operation("{told}", ...)'
    seen = operation_from_proc(PROC_ROOT)
    named = os.environ.get(OPERATION_ENV)
    if not named:
        return seen, None
    operation = _checked(OPERATION_ENV, named)
    if seen is not None and seen != operation:
        raise InvalidArgumentError(OPERATION_ENV, named, f"the pulumi command running this program is "
                                                         f"`{seen}`: set it only for the command it names")
    return operation, None if seen == operation else f"{OPERATION_ENV}={operation}"


def current_operation() -> Optional[str]:
    """The operation running this program: :func:`for_operation`'s, else ``FC_INVOCATION_OPERATION``,
    else the ``pulumi`` ancestor's (``/proc``), else None (gates then behave as in ``up``)."""
    return _answer()[0]


def records_only() -> bool:
    """True when a gate must only record the task: the program runs for a refresh or a destroy."""
    return current_operation() in _RECORDS_ONLY


def records_only_setting() -> tuple[bool, Optional[str]]:
    """:func:`records_only`, and the setting that decided it (``for_operation`` or the variable), or None
    when ``/proc`` did or nothing is relaxed: a gate relaxed by a setting warns (:func:`relaxed_warning`)."""
    operation, setting = _answer()
    relaxed = operation in _RECORDS_ONLY
    return relaxed, setting if relaxed else None


def relaxed_warning(setting: str, gate: str) -> str:
    """The warning of a gate that a setting, not ``/proc``, made only record."""
    operation = current_operation()
    return (f"{setting} says this program runs for `{operation}`: only recording {gate} (not waiting, no "
            f"verdict: a failed task does not stop this run). Give it only to the one {operation}; left over, "
            f"it lets a failed task through an `up`")


def skip_wait() -> bool:
    """The break-glass switch ``FC_INVOCATION_SKIP_WAIT=1``: read, never wait, give no verdict."""
    return os.environ.get(SKIP_WAIT_ENV, "").strip().lower() in ("1", "true", "yes", "on")
