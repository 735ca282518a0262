"""The gate's last step: what a data source (or the plugin's resource) records of what it judged, for one
item (:func:`single_outputs`) or a batch (:func:`batch_outputs`); the keys of each are the data
source's description's (``kind.output_keys``, ``kind.batch_output_keys``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..kinds import Kind
from .batch import BatchSummary

__all__ = ["single_outputs", "batch_outputs"]


def single_outputs(kind: Kind, result: Any, ref: Any, props: Mapping[str, Any]) -> dict[str, Any]:
    """A single data source's outputs: the item's, then the inputs it echoes (a refresh reads them)."""
    outs = kind.outputs(result)
    for key in kind.echo_keys:
        outs[key] = props.get(key)
    if outs["qualifier"] is None:
        outs["qualifier"] = ref.qualifier
    return outs


def batch_outputs(summary: BatchSummary) -> dict[str, Any]:
    """The result outputs: ``ids``, the members (selected by ``statuses`` and ``limit``), ``counts``,
    ``total``, ``all_terminal``, ``all_succeeded`` (about the whole batch)."""
    spec = summary.spec
    kind = spec.kind
    selected = [r for r in summary.invocations if not spec.statuses or r.status.value in spec.statuses]
    if spec.limit is not None:
        selected = selected[:spec.limit]
    members = []
    for result in selected:
        values = kind.outputs(result)
        if values["qualifier"] is None:
            values["qualifier"] = spec.qualifier
        if not spec.include_payloads:
            for key in kind.payload_keys:
                values[key] = None
        members.append(values)
    return {
        "ids": [str(spec.ref(r.invocation_id)) for r in selected],
        kind.items_key: members,
        "counts": dict(summary.counts),
        "total": summary.total,
        "all_terminal": summary.all_terminal,
        "all_succeeded": summary.all_succeeded,
    }

