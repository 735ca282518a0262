"""Ctrl-C while a gate waits in a Python program: one line, and the program ends at once.

A terminal's Ctrl-C goes to the Pulumi CLI, which cancels the update; the language host then sends the
program SIGINT and kills it 5 s later. Left to Python, that SIGINT is a ``KeyboardInterrupt`` traceback out
of the event loop, and then the interpreter's shutdown joins the threads of the gates' blocking calls (an
HTTP read can take its whole timeout), so the host's kill ends the program and a later SIGINT prints
``lost sys.stderr``. So while a gate of this program waits, SIGINT instead logs one line against the gate
(``interrupted: stopped waiting for <task>``) and exits with the code that tells the host the user has been
told already (32): no traceback, no kill.

Before it exits, the program runs what the waits registered for a Ctrl-C (:func:`on_interrupt`: a run with
``stop_on_timeout`` stops its task), all at once in threads of their own, for :data:`HOOK_BUDGET` s at most,
so the program still lets go well within the host's 5 s; what they say is added to the line.

Only while a gate waits, only in the main thread (an Automation API inline program runs in another; it
keeps Python's own Ctrl-C), and only over Python's default handler: a handler the program installed is left
alone, and the default one is back as soon as the last wait ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Collection, Iterator
from typing import Any, Callable, Optional

from ..gate.gates import gate_for
from ..models import redact

__all__ = ["SHOWN_USER_MESSAGE", "HOOK_BUDGET", "interruptible", "interrupted_line", "on_interrupt"]

# The exit code with which a Python program tells its language host that the user has been told already
# (the host then adds no "program exited with non-zero exit code").
SHOWN_USER_MESSAGE = 32
# How many of the waits the line names (fifty gates wait together).
NAMED = 3
# How long the line may take to reach the engine before the program exits anyway.
LOG_BUDGET = 1.0
# How long what the waits registered (:func:`on_interrupt`) may take, all together, before the line goes out.
HOOK_BUDGET = 2.0


class _Waits:
    """The gates waiting now in this process's main-thread loop, and the SIGINT handler while there are any."""

    def __init__(self) -> None:
        self.shown: dict[int, tuple[str, Any]] = {}  # one entry per wait: (what it waits for, its log target)
        self.hooks: dict[int, Callable[[float], Optional[str]]] = {}  # what to do before the exit (on_interrupt)
        self.loop: Optional[asyncio.AbstractEventLoop] = None  # the loop holding our handler, if installed
        self.leaving = False


_waits = _Waits()


@contextlib.contextmanager
def interruptible(spec: Any, log_target: Any, secrets: Collection[str] = ()) -> Iterator[None]:
    """Within the block (a gate's read and wait in the running loop), SIGINT stops the program with one
    line against ``log_target`` naming what it waited for (``secrets`` masked)."""
    loop = asyncio.get_running_loop()
    key = object()
    _waits.shown[id(key)] = (redact(gate_for(spec).shown, secrets), log_target)
    installed = _install(loop)
    try:
        yield
    finally:
        del _waits.shown[id(key)]
        if installed and not _waits.shown and not _waits.leaving:
            _uninstall(loop)


@contextlib.contextmanager
def on_interrupt(hook: Callable[[float], Optional[str]]) -> Iterator[None]:
    """Within the block, a Ctrl-C that ends the program (:func:`interruptible`) first calls ``hook(budget)``
    in a thread of its own, ``budget`` being the seconds it may take (:data:`HOOK_BUDGET`: the program exits
    then, whether it returned or not); a text it returns is added to the line. Its errors are its own to say."""
    key = object()
    _waits.hooks[id(key)] = hook
    try:
        yield
    finally:
        del _waits.hooks[id(key)]


def run_hooks(hooks: list[Callable[[float], Optional[str]]], budget: float = HOOK_BUDGET) -> list[str]:
    """Call ``hooks`` together, each in a daemon thread, and wait for them ``budget`` s at most; what those that
    returned in time said, in their order (one still running is left to the exit)."""
    said: list[Optional[str]] = [None] * len(hooks)

    def call(index: int, hook: Callable[[float], Optional[str]]) -> None:
        with contextlib.suppress(Exception):
            said[index] = hook(budget)

    threads = [threading.Thread(target=call, args=(i, hook), daemon=True) for i, hook in enumerate(hooks)]
    deadline = time.monotonic() + budget
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [text for text in said if text]


def _install(loop: asyncio.AbstractEventLoop) -> bool:
    if _waits.loop is not None:
        return _waits.loop is loop
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return False
    try:
        # The loop's handler, not signal.signal: it wakes the loop at once whichever thread the signal hit.
        loop.add_signal_handler(signal.SIGINT, _interrupted, loop)
    except (NotImplementedError, RuntimeError, ValueError):  # Windows' loops; a loop not in the main thread
        return False
    _waits.loop = loop
    return True


def _uninstall(loop: asyncio.AbstractEventLoop) -> None:
    _waits.loop = None
    loop.remove_signal_handler(signal.SIGINT)  # back to signal.default_int_handler


def _interrupted(loop: asyncio.AbstractEventLoop) -> None:
    if _waits.leaving:  # the host's later SIGINTs while the line goes out
        return
    _waits.leaving = True
    waits = list(_waits.shown.values())
    loop.create_task(_leave(interrupted_line([shown for shown, _ in waits]), waits[0][1] if waits else None,
                            list(_waits.hooks.values())))


def interrupted_line(shown: list[str]) -> str:
    """The one line: what the program waited for, the first :data:`NAMED` of it by name."""
    names = list(dict.fromkeys(shown))  # two gates on one task name it once
    more = f" and {len(names) - NAMED} more" if len(names) > NAMED else ""
    return "interrupted: stopped waiting for " + ", ".join(names[:NAMED]) + more


async def _leave(text: str, log_target: Any, hooks: list[Callable[[float], Optional[str]]]) -> None:
    """Run ``hooks`` (:func:`on_interrupt`), send ``text`` and what they said to the engine against the gate (or
    to stderr, which the engine shows too), then exit."""
    if hooks:
        text = "; ".join([text, *run_hooks(hooks)])
    try:
        _log(text, await asyncio.wait_for(log_target.urn.future(), LOG_BUDGET) if log_target is not None else "")
    except Exception:  # noqa: BLE001 - the engine gone or slow: the line still reaches the user
        sys.stderr.write(text + "\n")
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    # At once: the interpreter's shutdown would join the threads of blocking calls still under way.
    os._exit(SHOWN_USER_MESSAGE)


def _log(text: str, urn: Optional[str]) -> None:
    """``pulumi.log.info`` as one call that ends within :data:`LOG_BUDGET` (the SDK's waits for nothing
    when it knows the resource, and has no deadline when it does not)."""
    from pulumi.runtime.proto import engine_pb2
    from pulumi.runtime.settings import get_engine

    engine = get_engine()
    if engine is None:
        raise RuntimeError("no engine to log to")
    engine.Log(engine_pb2.LogRequest(severity=engine_pb2.INFO, message=text, urn=urn or ""), timeout=LOG_BUDGET)
