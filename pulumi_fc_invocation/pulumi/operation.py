"""Which Pulumi CLI operation is running this program.

The engine tells a program only whether it is a dry run. But ``pulumi refresh --run-program`` and
``pulumi destroy --run-program`` (or ``PULUMI_RUN_PROGRAM=true``) run the program too, with dry-run
off once past their preview, and a gate there must neither wait nor fail: a refresh records state,
and a failed task must never block tearing a stack down. So the gates read the operation from the
command line of the ``pulumi`` process that started the program (the language host's parent). Where
that cannot be read (no ``/proc``, or an Automation API inline program, which runs in the caller's
process), :func:`current_operation` answers None and gates behave as in ``up``;
``FC_INVOCATION_SKIP_WAIT=1`` is the switch for those cases.
"""

from __future__ import annotations

import functools
import os
from typing import Optional

__all__ = ["current_operation", "records_only"]

# The CLI's commands that run a program, by the name a user types (aliases included).
_OPERATIONS = {"up": "up", "update": "up", "preview": "preview", "pre": "preview", "refresh": "refresh",
               "destroy": "destroy", "down": "destroy", "watch": "watch", "import": "import"}
# Global flags that take a separate value, so the value is not mistaken for a command.
_VALUED_FLAGS = {"-C", "--cwd", "-s", "--stack", "--color", "--tracing", "--config-file", "-v", "--verbose",
                 "--profiling", "--memprofilerate", "--otel-traces"}
_MAX_DEPTH = 8


def _parent(pid: int) -> Optional[int]:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses; split after the last ')'.
    fields = stat.rsplit(")", 1)[-1].split()
    try:
        return int(fields[1])
    except (IndexError, ValueError):
        return None


def _argv(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            raw = f.read()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def operation_from_argv(argv: list[str]) -> Optional[str]:
    """The operation named by a ``pulumi`` command line (``up``, ``preview``, ``refresh``, ...)."""
    skip = False
    for arg in argv[1:]:
        if skip:
            skip = False
            continue
        if arg == "--":
            return None
        if arg.startswith("-"):
            skip = arg in _VALUED_FLAGS
            continue
        return _OPERATIONS.get(arg)
    return None


@functools.lru_cache(maxsize=1)
def current_operation() -> Optional[str]:
    """The operation of the nearest ``pulumi`` ancestor process, or None when it cannot be told."""
    pid = os.getppid()
    for _ in range(_MAX_DEPTH):
        if pid is None or pid <= 1:
            return None
        argv = _argv(pid)
        if argv and os.path.basename(argv[0]) in ("pulumi", "pulumi.exe"):
            return operation_from_argv(argv)
        pid = _parent(pid)
    return None


def records_only() -> bool:
    """True when a gate must only record the task: the program runs for a refresh or a destroy."""
    return current_operation() in ("refresh", "destroy")
