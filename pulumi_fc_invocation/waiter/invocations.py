"""A wait on one task or invocation through a client: the loop given the client's reads.

Either API: ``client.get(ref)`` reads an FC 2.0 invocation or an FC 3.0 task, and the client parses a
composite id (``client.parse_ref``); the waiter names neither API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Optional

from ..clock import call_budget
from .history import history_for, ref_through
from .loop import Waiter, WaitOutcome
from .policy import WaitPolicy

__all__ = ["wait_for_invocation", "wait_for_invocation_async"]


def wait_for_invocation(
    client: Any,
    ref: Any,
    *,
    policy: Optional[WaitPolicy] = None,
    on_progress: Optional[Callable[[Any, float], Any]] = None,
    clock: Any = None,
    history: Optional[Callable[[], Optional[Iterable[float]]]] = None,
) -> WaitOutcome:
    """Blocking wait on one invocation (FC 2.0) or task (FC 3.0) with ``client`` (CLI, function form).

    ``ref``: a ref of either API, or its composite id (``svc[.q]/fn/id`` or ``fn[.q]/task``), parsed
    before any call. Duration-aware by default: without a ``history``, the function's own is read
    through ``client`` (:func:`~.history.history_for`) unless ``policy.duration_aware`` is False."""
    ref = ref_through(client, ref)
    policy = policy or WaitPolicy()
    if policy.timeout is not None and hasattr(client, "bounded"):
        client = client.bounded(call_budget)  # every call within the wait's deadline
    if history is None and policy.duration_aware:
        history = history_for(client, ref)
    waiter = Waiter(lambda: client.get(ref), policy, clock=clock, on_progress=on_progress, history=history,
                    server_now=getattr(client, "server_time", None))
    return waiter.wait()


async def wait_for_invocation_async(
    fetch: Callable[[], Any],
    *,
    policy: WaitPolicy,
    on_progress: Optional[Callable[[Any, float], Any]] = None,
    executor: Any = None,
    history: Optional[Callable[[], Optional[Iterable[float]]]] = None,
) -> WaitOutcome:
    """Asyncio wait on ``fetch`` (the calls in ``executor``)."""
    return await Waiter(fetch, policy, on_progress=on_progress, history=history).wait_async(executor)
