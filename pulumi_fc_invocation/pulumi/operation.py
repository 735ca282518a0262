"""The Pulumi front end's word on a records-only operation: the detection is the gate core's
(:mod:`pulumi_fc_invocation.gate.operation`, which the plugin asks too); the warning through ``pulumi.log``
is this front end's own."""

from __future__ import annotations

from typing import Any

from ..gate.operation import records_only_setting, relaxed_warning

__all__ = ["records_only_notice"]


def records_only_notice(gate: str, resource: Any = None) -> bool:
    """:func:`~..gate.operation.records_only`, and when a setting rather than ``/proc`` decided it, a
    warning against ``resource`` (the gate's; None for a function form) naming the setting and ``gate``."""
    relaxed, setting = records_only_setting()
    if setting is not None:
        import pulumi

        pulumi.log.warn(relaxed_warning(setting, gate), resource=resource)
    return relaxed
