"""How a failed gate fails the program (the gate itself is :mod:`..gate`).

The verdict is given in the program, not in the provider host: the engine shows the first line of a
provider's error in its live display, and a Python dynamic provider's error is a traceback
("Traceback (most recent call last):"). So a failed gate logs its message against itself and fails
its read with :class:`GateFailed`, a ``pulumi.RunError``, which the language host prints without a
traceback. And as the engine cancels a program after its first failed step, the first failure here
stops every other gate's wait in the same program (:func:`until_done`), instead of letting the
program run until the slowest task ends.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable
from typing import Any, NoReturn, Optional, TypeVar

import pulumi

from ..gate.reporting import until_set

__all__ = ["GateFailed", "fail", "until_done"]

T = TypeVar("T")


class GateFailed(pulumi.RunError):
    """A gate's verdict: the deployment stops, with this message and no traceback."""


class _Run:
    """The failure state of one program run (one event loop)."""

    def __init__(self) -> None:
        self.first: Optional[str] = None
        self.failed = asyncio.Event()


_runs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Run]" = weakref.WeakKeyDictionary()


def _run() -> _Run:
    loop = asyncio.get_running_loop()
    run = _runs.get(loop)
    if run is None:
        run = _runs[loop] = _Run()
    return run


def fail(message: str, log_target: Any) -> NoReturn:
    """Show ``message`` against the gate, stop the other gates' waits, and fail this gate."""
    run = _run()
    if run.first is None:
        run.first = message
        run.failed.set()
    pulumi.log.error(message, resource=log_target)
    raise GateFailed(message)


async def until_done(wait: Awaitable[T], log_target: Any) -> T:
    """``await wait``, unless another gate of this program fails first: then stop and fail too."""
    run = _run()
    if run.first is not None:
        _stopped(run, log_target)
    done, result = await until_set(wait, run.failed)
    if done:
        return result  # type: ignore[return-value]
    _stopped(run, log_target)


def _stopped(run: _Run, log_target: Any) -> NoReturn:
    pulumi.log.info("stopped waiting: another gate failed", resource=log_target)
    raise GateFailed(f"stopped waiting because another gate failed: {run.first}")
