"""Moved to :mod:`pulumi_fc_invocation.gate` (the gate core). # compat: removed at integration"""
# compat: removed at integration (every name below now lives in a room of pulumi_fc_invocation.gate)

from .gate.batch import PAGE_SIZE, BatchSummary, BatchTracker, list_batch  # noqa: F401
from .gate.messages import (  # noqa: F401
    MAX_FAILURES_SHOWN,
    TASK_RETENTION_DAYS,
    batch_not_found_message as not_found_message,
    batch_timeout_message as timeout_message,
    failures_message,
    grew_message,
)
from .credentials import ENDPOINT_RULE, check_settings, secret_config_masked, secret_config_texts  # noqa: F401
from .gate.spec import BatchSpec, format_batch_id, parse_batch_id  # noqa: F401
from .kinds import FC2

BATCH_INPUT_KEYS = FC2.batch_input_keys


def batch_input_keys(kind):  # type: ignore[no-untyped-def]
    return kind.batch_input_keys
from .gate.verdict import batch_verdict, read_batch_and_check  # noqa: F401
