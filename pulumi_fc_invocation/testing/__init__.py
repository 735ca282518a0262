"""A local Function Compute emulator for async tasks (what moto is for AWS).

A real HTTP server on loopback that serves three API revisions over one state (async invoke, get,
list with filters and paging, stop), verifies signatures and dates like FC, runs scripted task
lifecycles on a virtual or real clock, and injects faults:

- **2023-03-30** (FC 3.0; ACS3-HMAC-SHA256): ``/2023-03-30/functions/{fn}/async-tasks/...``, what
  the official ``alibabacloud-fc20230330`` SDK calls. ``fc.add_function(None, "fn")`` registers an
  FC 3.0 function; a 2.0 function is ``service$function`` here. Also PutAsyncInvokeConfig (task mode).
- **2016-08-15** (FC 2.0; FC signature): ``/2016-08-15/services/{svc}[.{q}]/functions/{fn}/
  stateful-async-invocations/...``, what this package's FC 2.0 calls use.
- **2021-04-06** (FC 2.0; ACS3-HMAC-SHA256): ``/2021-04-06/services/{svc}/functions/{fn}/
  stateful-async-invocations/...``, what the official ``alibabacloud-fc-open20210406`` SDK calls.

A task started through one revision is read through the others. ``responses`` documents each
revision's error bodies and the emulator's choices where FC documents none (one room per revision)::

    from pulumi_fc_invocation import FcClient
    from pulumi_fc_invocation.testing import FcEmulator

    with FcEmulator(clock="virtual") as fc:
        fc.add_function("video", "transcode", qualifiers=["prod"], duration=5, return_payload="ok")
        client = FcClient(endpoint=fc.endpoint, account_id=fc.account_id, credentials=fc.credentials)
        job = client.invoke_async("video", "transcode", "{}", qualifier="prod", invocation_id="job-1")
        fc.advance(5)
        assert client.get_stateful_async_invocation("video", "transcode", job, "prod").succeeded

With pytest, the ``fc_emulator`` fixture (plugin ``pulumi_fc_invocation.testing.pytest_plugin``)
yields a started emulator with a virtual clock that the test's waiters advance on their own.

Layout, as in moto: ``models`` (state and the lifecycle as a pure function of time, no HTTP),
``responses`` (auth, parsing, rendering: ``common`` plus one room per API revision), ``urls``
(routes), ``keys`` (accepted access keys), ``httpd`` (the threaded HTTP server), ``server``
(:class:`FcEmulator` and its request log), ``faults``, ``clock``, ``scenario`` (JSON files),
``emulator_cli``; ``identity`` (STS, metadata, credentials-URI stand-ins) and ``harness`` (Pulumi
programs in-process) beside them.

**Scripted outcomes.** A function's script (``add_function(outcome=..., duration=..., queue_delay=...,
retries=..., retry_delay=..., error_message=..., return_payload=..., destination=...,
stop_delay=...)``) decides how its async invocations evolve; see ``models`` for the exact timeline
and how each field is filled. A JSON payload with a top-level ``fcEmulator`` object overrides the
script for that one invocation (and for a synchronous call)::

    {"fcEmulator": {"status": "Failed", "after": 2.5, "error": "UnhandledException", "retries": 1,
                    "returnPayload": "...", "queueDelay": 0, "retryDelay": 1, "stopDelay": 0,
                    "destination": true}}

``status`` is the outcome (``Succeeded``, ``Failed``, ``Stopped``, ``Expired``, ``Invalid``, or
``Running``/``Enqueued`` to never finish), ``after`` the duration of each attempt in seconds. An
unknown key or a bad value answers 400 ``InvalidArgument``, so a typo cannot pass silently.

**Runs that fail by rule** (a deployment that retries a failed run with the same payload):
``add_function(..., fail_first=1)`` makes the function's first async invocation end ``Failed`` and
the next follow the script; ``fail_on_payload="..."`` (or a callable) fails the invocations with
that payload, only the first ``fail_first`` of them when both are given. The returned function
counts ``runs`` and ``failed_runs``. An async invoke with an id already used answers 409 (FC 2.0
``StatefulAsyncInvocationAlreadyExists``, FC 3.0 ``AsyncTaskAlreadyExists``), starts and counts
nothing, and leaves the existing task readable with its payload (Get; List with ``includePayload``).
``fc.request_count("invoke")`` counts every InvokeFunction call, refused ones included.
``fc.fc3_payload_on_get = False`` leaves ``taskPayload`` out of FC 3.0's GetAsyncTask (FC3-API.md lists it
only with ``includePayload``), to test a client's fallback to the listing.

**Role credentials.** ``IdentityServices(fc)`` (module ``identity``) stands in for STS, the ECS
metadata service and a credentials URI on the emulator's clock; the ``fc_identity`` fixture yields one
started over ``fc_emulator``.

**Scenario files** pre-load functions, invocations and credentials: see ``scenario`` for the format.

**Time.** ``fc.clock.now()`` drives lifecycles; with ``clock="virtual"`` it moves only through
``fc.advance(seconds)`` / ``fc.clock.set(t)``. The date-skew check (``Date`` or ``x-acs-date``,
±15 min, 403 ``RequestTimeTooSkewed``) compares with real wall time, since clients sign with real
time. Credentials registered with ``fc.add_credentials(..., expires_at=)`` expire on the emulator
clock (403 ``SecurityTokenExpired`` on every revision).

Importing this package does not import Pulumi.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .clock import Clock, RealClock, VirtualClock
from .faults import Fault
from .pulumi_cli import CliResult, PulumiCli, find_pulumi
from .models import TERMINAL_STATUSES, EmulatorError, InvocationState, Script, Step, lifecycle
from .scenario import ScenarioError, load_scenario
from .server import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    DEFAULT_ACCOUNT_ID,
    FcEmulator,
    RequestRecord,
)
from .virtual_time import AutoAdvanceClock

if TYPE_CHECKING:  # what __getattr__ loads on first use, for type checkers (explicit re-exports)
    from .harness import UNKNOWN as UNKNOWN
    from .harness import LogRecord as LogRecord
    from .harness import ProgramError as ProgramError
    from .harness import ProgramResult as ProgramResult
    from .harness import ProviderHost as ProviderHost
    from .harness import ResourceRecord as ResourceRecord
    from .harness import run_program as run_program
    from .harness import run_program_file as run_program_file
    from .identity import IdentityServices as IdentityServices

# The Pulumi harness imports pulumi and grpc: loaded on first use only.
_HARNESS = ("run_program", "run_program_file", "ProviderHost", "ProgramResult", "ProgramError",
            "ResourceRecord", "LogRecord", "UNKNOWN")


def __getattr__(name: str) -> Any:
    if name == "IdentityServices":  # STS / ECS metadata / credentials-URI stand-ins (testing.identity)
        from .identity import IdentityServices

        return IdentityServices
    if name in _HARNESS:
        from . import harness

        return getattr(harness, name)
    raise AttributeError(f"module 'pulumi_fc_invocation.testing' has no attribute {name!r}")


__all__ = [
    "AutoAdvanceClock",
    *_HARNESS,
    "FcEmulator",
    "IdentityServices",
    "PulumiCli",
    "CliResult",
    "find_pulumi",
    "Clock",
    "RealClock",
    "VirtualClock",
    "Fault",
    "RequestRecord",
    "Script",
    "Step",
    "InvocationState",
    "EmulatorError",
    "ScenarioError",
    "load_scenario",
    "lifecycle",
    "TERMINAL_STATUSES",
    "DEFAULT_ACCESS_KEY_ID",
    "DEFAULT_ACCESS_KEY_SECRET",
    "DEFAULT_ACCOUNT_ID",
]
