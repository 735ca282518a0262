"""Moved to :mod:`pulumi_fc_invocation.gate` (the gate core). # compat: removed at integration"""
# compat: removed at integration (every name below now lives in a room of pulumi_fc_invocation.gate)

from ..gate import clients as _shared
from ..gate.clients import (  # noqa: F401
    CONFIG_KEYS,
    MAX_CACHED_CLIENTS,
    MAX_CACHED_HISTORIES,
    client_for,
    duration_history,
    forget_histories,
    pool,
)
from ..gate.gates import BatchGate, SingleGate, gate_for  # noqa: F401
from ..gate.messages import TASK_RETENTION_DAYS, item_not_found, not_found_message  # noqa: F401
from ..gate.operation import SKIP_WAIT_ENV, skip_wait  # noqa: F401
from ..gate.outputs import batch_outputs, single_outputs  # noqa: F401
from ..gate.reporting import Reporter, until_set  # noqa: F401
from ..gate.run import (  # noqa: F401
    PROGRESS_INTERVAL,
    final_read,
    final_read_async,
    progress_interval,
    run_gate,
    run_gate_result,
    waiter,
)
from ..gate.spec import SingleSpec  # noqa: F401
from ..gate.verdict import gate_budget, read_and_check, retrying, verdict  # noqa: F401


def batch_result_keys(kind):  # type: ignore[no-untyped-def]
    return kind.batch_result_keys


def batch_output_keys(kind):  # type: ignore[no-untyped-def]
    return kind.batch_output_keys


def __getattr__(name: str) -> object:
    """The client cache's own names (tests of 0.1 read ``gating._clients``), from its room."""
    return getattr(_shared, name)
