"""``AsyncTaskRun``: one FC 3.0 async task, started by the deployment (once) and waited for as ``AsyncTask``
waits. :func:`run_inputs` writes the inputs both runs share (``StatefulAsyncInvocationRun`` takes them too)."""

from __future__ import annotations

from collections.abc import Mapping

from .async_task import ASYNC_TASK
from ..models import DEFAULT_FAIL_ON
from .common import Words, gate_and_settings, quoted, secret_payloads
from .fields import REQUIRED, Field, Run

__all__ = ["WORDS", "ASYNC_TASK_RUN", "run_inputs", "run_sequence", "RUN_DECISIONS"]

WORDS = Words(noun="task", nouns="tasks", a_noun="a task", owner="function", payload="taskPayload")

# The decisions issue 28 asked for, said once (the runs' docs and reference pages).
RUN_DECISIONS = (
    "Without `{id}`, the id derives from the stack, the resource and the function (never from the payload or "
    "another secret) and a run sequence number: an `up` retried after a crash or a cancellation finds the "
    "{noun} it started (Function Compute refuses a second start under one id) and waits for it instead of "
    "starting another; a {noun} that ended `Failed`, `Stopped`, `Expired` or `Invalid`, in a status its "
    "`failOnStatuses` fails on, is retried by the next `up` under a retry id of its run (`...-<n>-<k>`); one "
    "that succeeded (or whose end `failOnStatuses` accepts) is not started again until a "
    "run-defining input (the function, "
    "the qualifier, the payload, `triggers`) changes. `pulumi preview`, an unchanged `up`, a change of the "
    "wait's inputs alone, `refresh` and `destroy` invoke nothing. After `destroy` (or `--replace`), an `up` "
    "with the same inputs reads ahead along the run's ids (reads only) and adopts the {noun} of the newest "
    "run Function Compute keeps (7 days) when it has the same payload, whatever its `triggers` were (they "
    "are not part of the id); the next `triggers` change starts a new {noun}. To run again right after a "
    "`destroy`, change the payload or the resource's name, or give `{id}`. A run that timed out while its "
    "{noun} still ran (without `stopOnTimeout`) is adopted and waited for again by the next `up`, not started "
    "again. `pulumi import` reads the {noun} by its id and records what Function Compute knows (the names, "
    "the payload, the run's number from a derived id); the next `up` takes the program's `triggers` without "
    "starting a {noun}. `pulumi refresh --import-pending-creates` records nothing (Pulumi drops the pending "
    "create without a read): the next `up` starts under the same id and waits for the {noun} already "
    "started.")


def run_sequence() -> Field:
    return Field("run_sequence", int, "The run's number in its id sequence (a change of a run-defining input "
                                      "starts the next run); null with a given id. Computed by the provider. The "
                                      "id the run started under may carry a later number (a retry, or ids held "
                                      "by another payload's task after a `destroy`).",
                 nullable=True)


def run_inputs(w: Words, id_field: Field, gate: Mapping[str, Field]) -> dict[str, Field]:
    """What a run takes besides the function's names: the payload, its id, the triggers, the wait (the gate's
    inputs, ``gate`` by name, with a run's defaults) and what may stop the item."""
    rule = "1-128 letters, digits, `_` or `-`, starting with a letter or `_`"  # both APIs' id rule
    return {f.name: f for f in (
        Field("payload", str, f"The payload the function is invoked with (text; null for an empty one). Secret "
                              f"unless `secretPayloads` is false. A change starts a new {w.noun}.",
              secret=True, replaces=True),
        Field(id_field.name, str, f"The id to start the {w.noun} under ({rule}), used as given: a second start "
                                  f"under it fails when Function Compute still keeps a {w.noun} of another payload "
                                  f"or one that failed, and a given id runs once (a change of another run-defining "
                                  f"input needs a new id). Null (the default): an id derived from the stack, the "
                                  f"resource, the function and the run's sequence number, never from the payload. "
                                  f"A change starts a new {w.noun}. As an output: the id the {w.noun} started under "
                                  f"(given or derived).", replaces=True),
        Field("triggers", Mapping[str, str], f"Names to text values (a version, a hash of what the {w.noun} works "
                                             f"on); a change of one starts a new {w.noun}.", replaces=True),
        gate["wait_for_completion"].but(
            doc=f"Whether `pulumi up` waits until the {w.noun} ends before this resource (and everything that "
                f"depends on it) is done, and fails the deployment when it ends in one of `failOnStatuses` or does "
                f"not end within `timeoutSeconds`; false records the {w.noun} as started. `pulumi preview` starts "
                f"nothing.", default=True),
        Field("stop_on_timeout", bool, f"Whether a wait that times out (or a cancelled deployment) stops the "
                                       f"{w.noun} (a write: StopAsyncTask/StopStatefulAsyncInvocation); false "
                                       f"leaves it running, and the next `up` waits for it again.", default=False),
        Field("stop_on_delete", bool, f"Whether `pulumi destroy` (or a replacement) stops the {w.noun} when it has "
                                      f"not ended; false forgets it, as a gate does.", default=False),
    )}


FUNCTION = Field("function_name", str, "The FC 3.0 function to invoke (a function of an FC 2.0 service is named "
                                       "`service$function`). A change starts a new task.", default=REQUIRED,
                 replaces=True)
QUALIFIER = Field("qualifier", str, "The function version or alias to invoke (`LATEST`, a version number or an "
                                    "alias name); null for none. A change starts a new task.", nullable=True,
                  replaces=True)
_gate = {f.name: f for f in ASYNC_TASK.inputs}
_own = run_inputs(WORDS, _gate["task_id"], _gate)
_settings = gate_and_settings(WORDS, False, secret_payloads("Whether `payload`, `taskPayload` and `returnPayload` "
                                                            "are"))

ASYNC_TASK_RUN = Run(
    name="AsyncTaskRun", api="fc3", gates=ASYNC_TASK, what="one FC 3.0 async task, started and waited for",
    doc=("A Function Compute 3.0 async task (API 2023-03-30) that the deployment starts, once, and waits for "
         "as `AsyncTask` does: `pulumi up` invokes the function asynchronously under a deterministic task id, "
         "waits until the task ends (with `waitForCompletion`), and fails the deployment when it ends in one of "
         "`failOnStatuses` (by default " + quoted(DEFAULT_FAIL_ON) + ") or does not end within `timeoutSeconds`; "
         "resources that depend on this one deploy only after it passes.\n\n"
         + RUN_DECISIONS.format(id="taskId", noun="task") + "\n\n"
         "Needs the RAM actions (of the `fc` service) `InvokeFunction`, `GetAsyncTask`, `ListAsyncTasks` (a "
         "start refused with 409 reads the payload of the task that holds its id) and, with `stopOnTimeout` or "
         "`stopOnDelete`, `StopAsyncTask`."),
    inputs=(FUNCTION, _own["payload"], QUALIFIER, _own["task_id"], _own["triggers"], _own["wait_for_completion"],
            *(f for f in _settings if f.name != "wait_for_completion"), _own["stop_on_timeout"],
            _own["stop_on_delete"], _gate["not_found_grace_seconds"]),
    positional=1,
    sequence=run_sequence(),
)
