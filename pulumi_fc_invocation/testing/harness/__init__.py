"""Run a Pulumi program in-process, with its dynamic resources served by a real provider host.

Plain ``pulumi.runtime.set_mocks`` never executes provider code, and the real CLI (``PulumiCli``)
takes seconds per run. This harness sits in between:

* the program runs in this process under the SDK's mock machinery (``MockSettings`` /
  ``MockMonitor``, exactly what ``set_mocks`` installs) inside ``run_in_stack``, the entry point the
  real language host uses, so ``pulumi.export``, ``pulumi.Config`` and ``is_dry_run()`` behave as in
  ``pulumi up`` / ``pulumi preview``;
* every resource whose type starts with ``pulumi-python:dynamic`` is forwarded, over gRPC with the
  SDK's own stubs, to a real ``python -u -m pulumi.dynamic`` process, as the engine starts it. The
  provider object is unpickled, configured and called there, in another process, by the host's
  four-worker thread pool, so pickling, import and concurrency problems show up as they would live.

What the forwarding reproduces from the engine (``provider_plugin.go`` / ``step.go``):

* ``Configure`` is sent once, before the first call, with the stack config as ``variables`` and as
  an ``args`` struct (secret keys wrapped as secrets; the host unwraps them).
* A resource with ``ResourceOptions(id=...)`` is a read: ``Read(id, urn, properties=inputs,
  inputs=inputs)`` -- the engine sends the program's inputs as both. Reads run in previews too. An
  unknown id (preview) skips the call and yields empty outputs, a read answering with an empty id
  fails with ``resource '<id>' does not exist``.
* Any other dynamic resource is ``Check`` then ``Create``. The dynamic host answers ``Configure``
  with ``supportsPreview=False``, so in a preview the engine stops after ``Check`` and hands the
  checked inputs back as the state, with an unknown id: outputs not among the inputs are unknown.
  ``ResourceOptions(import_=...)`` is a ``Read`` with no properties, as ``pulumi import`` sends.
* The host answers ``acceptSecrets=False``, so inputs are sent with secrets stripped (``__provider``
  arrives as a plain string, as it does live) and, as ``annotateSecrets`` does, every output named
  like a secret input is secret again. ``additional_secret_outputs`` are applied on top.
* A provider error (the host's ``_abort_with_traceback`` puts the traceback in the gRPC details)
  fails the resource with that text, which the engine prints verbatim; the SDK then fails every
  dependent before it registers, and the harness, like the engine's step executor, cancels
  registrations that arrive after the first failure. ``run_program`` raises :class:`ProgramError`.

Known differences from a real deployment (``tests/test_engine_vs_harness.py`` runs the same
programs through both and compares the outcomes; ``PulumiCli`` runs the real CLI):

* there is no prior state, so no diff/update/delete, no ``pulumi refresh`` (with or without
  ``--run-program``), no ``destroy`` and no ``--target``; every create is a create;
* the engine stores the whole stack config as the inputs of the default ``pulumi-python`` provider
  and configures a plain ``pulumi refresh`` from that stored copy; the harness keeps no copy;
* some engines answer a read in preview without an id, so the resource's ``id`` is unknown there;
  the harness answers with the program's id;
* non-dynamic resources have no provider plugin and echo their inputs (id ``<name>_id``);
  ``Invoke`` is not supported; resource transforms and hooks registered as engine callbacks are
  not run; ``pulumi.log.debug`` is dropped, as the CLI does without ``--debug``; the host imports
  from this process's ``sys.path`` (see :class:`ProviderHost`), which can be more than a real
  project directory offers.

What it does as the engine does: the gates' verdicts are given in the program (``gate``), so the
first failure ends the run and its message reads as the CLI displays it.

Rooms: ``results`` (what a run leaves), ``wire`` (the engine's Struct form and secret wrappers),
``host`` (:class:`ProviderHost`), ``engine`` (the mocks, monitor and engine stub), ``run``
(:func:`run_program`, :func:`run_program_file`). Its one private-name touch of the SDK lives with the
others in :mod:`pulumi_fc_invocation.sdk_workarounds`.
"""

from __future__ import annotations

from .engine import DYNAMIC_TYPE_PREFIX, UNKNOWN
from .host import ProviderHost
from .results import LogRecord, ProgramError, ProgramResult, ResourceError, ResourceRecord
from .run import run_program, run_program_file

__all__ = [
    "DYNAMIC_TYPE_PREFIX",
    "UNKNOWN",
    "LogRecord",
    "ProgramError",
    "ProgramResult",
    "ProviderHost",
    "ResourceError",
    "ResourceRecord",
    "run_program",
    "run_program_file",
]
