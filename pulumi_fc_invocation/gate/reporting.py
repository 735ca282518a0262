"""Where a gate's words go: the :class:`Reporter` each front end brings (the program's ``pulumi.log`` and
a RunError, the plugin's engine status messages, the CLI's terminal), and :func:`until_set`, how a
reporter stops a wait when something else ends it (another gate failed, the engine cancelled)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import NoReturn, Optional, Protocol, TypeVar

__all__ = ["Reporter", "until_set"]

T = TypeVar("T")


class Reporter(Protocol):
    """Where a gate's messages go, and how it fails (:func:`~.run.run_gate_result` says them): the
    program's (``pulumi.program.ProgramReporter``: ``pulumi.log`` and a RunError) or the provider
    plugin's (``plugin.provider.EngineReporter``: the engine's status messages, Cancel). The CLI's
    ``cli.reporter.TerminalReporter`` takes the same progress sentences and every read for its live
    line, and turns the verdict into an exit code instead of failing."""

    def info(self, text: str) -> None: ...

    def warn(self, text: str) -> None: ...

    def fail(self, text: str) -> NoReturn: ...

    def until_done(self, wait: Awaitable[T]) -> Awaitable[T]: ...


async def until_set(wait: Awaitable[T], event: asyncio.Event) -> tuple[bool, Optional[T]]:
    """``(True, await wait)``, unless ``event`` is set first: then the wait is cancelled, ``(False, None)``.
    How a gate stops when another fails (the program) or the engine cancels (the plugin)."""
    task = asyncio.ensure_future(wait)
    stop = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if task.done():
        return True, task.result()
    task.cancel()
    return False, None

