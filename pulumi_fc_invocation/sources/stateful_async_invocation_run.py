"""``StatefulAsyncInvocationRun``: one FC 2.0 stateful async invocation, started by the deployment (once) and
waited for as ``StatefulAsyncInvocation`` waits."""

from __future__ import annotations

from ..models import DEFAULT_FAIL_ON
from .async_task_run import RUN_DECISIONS, run_inputs, run_sequence
from .common import gate_and_settings, quoted, secret_payloads
from .fields import ID_INPUT, REQUIRED, Field, Run
from .stateful_async_invocation import STATEFUL_ASYNC_INVOCATION, WORDS

__all__ = ["STATEFUL_ASYNC_INVOCATION_RUN"]

SERVICE = Field("service_name", str, "The Function Compute service of the function to invoke. A change starts a "
                                     "new invocation.", default=REQUIRED, replaces=True)
FUNCTION = Field("function_name", str, "The function to invoke. A change starts a new invocation.", default=REQUIRED,
                 replaces=True)
QUALIFIER = Field("qualifier", str, "The service version or alias to invoke (`LATEST`, a version number or an "
                                    "alias name); null for none. A change starts a new invocation.", nullable=True,
                  replaces=True)
_gate = {f.name: f for f in STATEFUL_ASYNC_INVOCATION.inputs}
_own = run_inputs(WORDS, _gate["invocation_id"].but(name=ID_INPUT), _gate)  # issue 28's name: task_id
_settings = gate_and_settings(WORDS, False, secret_payloads("Whether `payload`, `invocationPayload` and "
                                                            "`returnPayload` are"))

STATEFUL_ASYNC_INVOCATION_RUN = Run(
    name="StatefulAsyncInvocationRun", api="fc2", gates=STATEFUL_ASYNC_INVOCATION,
    what="one stateful async invocation, started and waited for",
    doc=("A Function Compute stateful async invocation that the deployment starts, once, and waits for as "
         "`StatefulAsyncInvocation` does: `pulumi up` invokes the function asynchronously under a deterministic "
         "invocation id, waits until the invocation ends (with `waitForCompletion`), and fails the deployment "
         "when it ends in one of `failOnStatuses` (by default " + quoted(DEFAULT_FAIL_ON) + ") or does not end "
         "within `timeoutSeconds`; resources that depend on this one deploy only after it passes.\n\n"
         + RUN_DECISIONS.format(id="taskId", noun="invocation") + "\n\n"
         "`invocationId` and `taskId` are both the id the invocation started under.\n\n"
         "Needs the RAM actions (of the `fc` service) `InvokeFunction`, `GetStatefulAsyncInvocation`, "
         "`ListStatefulAsyncInvocations` (a start refused with 409 reads the payload of the invocation that holds "
         "its id when the read does not give it) and, with `stopOnTimeout` or `stopOnDelete`, "
         "`StopStatefulAsyncInvocation`."),
    inputs=(SERVICE, FUNCTION, _own["payload"], QUALIFIER, _own[ID_INPUT], _own["triggers"],
            _own["wait_for_completion"], *(f for f in _settings if f.name != "wait_for_completion"),
            _own["stop_on_timeout"], _own["stop_on_delete"]),
    positional=2,
    sequence=run_sequence(),
)
