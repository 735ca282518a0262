"""The batch data source's shared logic and its dynamic provider (``StatefulAsyncInvocations``).

A *batch* is every stateful async invocation of ``service[.qualifier]/function`` whose id starts with
``invocation_id_prefix`` and whose start time lies in ``[started_after, started_before]``. The gate,
``counts``, ``total``, ``all_terminal``, ``all_succeeded`` and ``fail_on_statuses`` are about the whole
batch; ``statuses`` and ``limit`` only select which members are returned in ``ids`` / ``invocations``
(so "wait for the batch, then export its failed members" is one data source).

The read lists the batch (``ListStatefulAsyncInvocations``, oldest first, 100 per page: one call
per page) and gives the verdict -- fail statuses, an expired wait -- in the provider host, so preview
and update print the same message against the resource. The program-side wait (``batch.py``) uses
:class:`BatchTracker`, which lists only the part of the batch that can still change (see there).

The read's id is ``service[.qualifier]/function`` plus, when set, a query string of the filters::

    video.prod/transcode?prefix=video-2026-11-&statuses=Failed,Stopped&started_after=2026-11-26T00:00:00.000Z&limit=50

(``started_before`` likewise). :func:`parse_batch_id` reads it back; ``read`` prefers the echoed
outputs/props, so a refresh works from either.
"""

from __future__ import annotations

from typing import Any

import pulumi.dynamic

from .batching import (  # noqa: F401  (re-exported: the batch logic lives in the Pulumi-free module)
    BATCH_INPUT_KEYS,
    MAX_FAILURES_SHOWN,
    PAGE_SIZE,
    BatchSpec,
    BatchSummary,
    BatchTracker,
    failures_message,
    format_batch_id,
    list_batch,
    not_found_message,
    parse_batch_id,
    read_batch_and_check,
    timeout_message,
)
from .errors import FcInvocationError
from .models import redacting
from .provider import StatefulAsyncInvocationProvider, client_for, result_outputs

__all__ = [
    "BATCH_TYPE_TOKEN",
    "BATCH_OUTPUT_KEYS",
    "BATCH_INPUT_KEYS",
    "BATCH_RESULT_KEYS",
    "PAGE_SIZE",
    "BatchSpec",
    "BatchSummary",
    "BatchTracker",
    "StatefulAsyncInvocationsProvider",
    "format_batch_id",
    "parse_batch_id",
    "list_batch",
    "read_batch_and_check",
    "batch_outputs",
]

BATCH_TYPE_TOKEN = "pulumi-python:dynamic/fc:StatefulAsyncInvocations"
BATCH_RESULT_KEYS = ("ids", "invocations", "counts", "total", "all_terminal", "all_succeeded")
BATCH_OUTPUT_KEYS = BATCH_INPUT_KEYS + BATCH_RESULT_KEYS + ("waited_seconds",)
PAYLOAD_FIELDS = ("invocation_payload", "return_payload")


def batch_outputs(summary: BatchSummary) -> dict[str, Any]:
    """The result outputs: ``ids``, ``invocations`` (selected by ``statuses`` and ``limit``), ``counts``,
    ``total``, ``all_terminal``, ``all_succeeded`` (about the whole batch)."""
    spec = summary.spec
    selected = [r for r in summary.invocations if not spec.statuses or r.status.value in spec.statuses]
    if spec.limit is not None:
        selected = selected[:spec.limit]
    invocations = []
    for result in selected:
        values = result_outputs(result)
        if values["qualifier"] is None:
            values["qualifier"] = spec.qualifier
        if not spec.include_payloads:
            for key in PAYLOAD_FIELDS:
                values[key] = None
        invocations.append(values)
    return {
        "ids": [str(spec.ref(r.invocation_id)) for r in selected],
        "invocations": invocations,
        "counts": dict(summary.counts),
        "total": summary.total,
        "all_terminal": summary.all_terminal,
        "all_succeeded": summary.all_succeeded,
    }


# --- the provider -------------------------------------------------------------------------------


class StatefulAsyncInvocationsProvider(StatefulAsyncInvocationProvider):
    """Reads a batch of stateful async invocations. Holds no state worth pickling."""

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        spec = BatchSpec.from_props(id_, props)
        client = client_for(self._config, region=spec.region, account_id=spec.account_id, endpoint=spec.endpoint)
        # A refresh passes the prior outputs (with results); the program's read passes none of them.
        refresh = props.get("total") is not None
        with redacting(spec.secret_texts):
            summary = read_batch_and_check(client, spec, props, refresh=refresh)
        outs = spec.props()
        outs.update(batch_outputs(summary))
        outs["waited_seconds"] = props.get("waited_seconds")
        return pulumi.dynamic.ReadResult(id_, outs)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        raise FcInvocationError(
            "StatefulAsyncInvocations is a read-only data source; construct it through the package, "
            "which registers it as a read (it never creates anything in Function Compute)"
        )

