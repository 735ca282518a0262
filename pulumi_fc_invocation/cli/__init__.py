"""``fc-invocation``: read and wait for Function Compute async tasks (FC 3.0) and stateful async
invocations (FC 2.0) from a shell or CI.

An id of two segments ``FUNCTION[.QUALIFIER]/TASK_ID`` is an FC 3.0 task (API 2023-03-30, ACS3
signature); of three, ``SERVICE[.QUALIFIER]/FUNCTION/INVOCATION_ID``, an FC 2.0 invocation. A target
(``list``, ``wait-batch``, ``invoke``) of one segment ``FUNCTION[.QUALIFIER]`` is FC 3.0, of two
``SERVICE[.QUALIFIER]/FUNCTION`` FC 2.0. Both get the same exit codes and JSON shapes.

Commands: ``get``, ``wait``, ``wait-batch``, ``list``, ``invoke`` and ``emulator``. Exit codes (for CI gates outside
Pulumi):

====  ==========================================================================
0     success; ``wait``: the task succeeded, or ended in a status not in --fail-on;
      ``wait-batch``: every member ended, none in a --fail-on status
1     ``wait`` / ``wait-batch`` / ``invoke --wait``: the task (a member) ended in a --fail-on status
2     ``wait`` / ``wait-batch`` / ``invoke --wait``: --timeout passed before the task (the batch) ended
3     usage or configuration error (bad id, bad option value, missing credentials)
4     FC API or network error (not found, access denied, unreachable endpoint)
5     internal error (a bug: please report it)
130   interrupted (Ctrl+C, SIGINT)
143   terminated (SIGTERM, e.g. a CI runner cancelling the job)
====  ==========================================================================

Every failure is one line on stderr, never a traceback (``-v`` adds DEBUG logs, and the traceback of
an internal error). Secrets are never printed; payloads are printed only for ``--output json`` or
``--show-payloads``, and never logged.

The package: ``commands`` (the group; get, list, invoke, emulator), ``waits`` (wait, wait-batch: the
gate core with ``reporter``'s terminal reporter and exit-code mapping), ``parsing``, ``output``,
``options``, ``connection`` and ``exits`` (the exit codes, every failure mapped to one). It imports
neither Pulumi nor gRPC; the client (requests, pydantic) is imported inside the commands.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Optional

from .commands import PROG, cli
from .exits import (
    EXIT_API,
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    on_sigterm,
    run,
)
from .parsing import parse_duration

__all__ = ["main", "cli", "parse_duration", "EXIT_OK", "EXIT_FAILED", "EXIT_TIMEOUT", "EXIT_USAGE",
           "EXIT_API", "EXIT_INTERNAL", "EXIT_INTERRUPTED", "EXIT_TERMINATED"]


def main(argv: Optional[list[str]] = None) -> int:
    """Run ``fc-invocation``; returns the exit code (the console script exits with it)."""
    args = sys.argv[1:] if argv is None else list(argv)
    verbose = any(a in ("-v", "--verbose") for a in args)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        return run(cli, PROG, args, verbose)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
