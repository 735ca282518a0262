"""The operation detection moved to :mod:`pulumi_fc_invocation.gate.operation` (it imports no Pulumi: the
plugin asks it too). Only :func:`records_only_notice`, which warns through ``pulumi.log``, is the Pulumi
front end's own; the re-exports are # compat: removed at integration."""

from __future__ import annotations

from typing import Any

from ..gate.operation import (  # noqa: F401  # compat: removed at integration
    COMMANDS,
    GLOBAL_FLAGS,
    OPERATION_ENV,
    OPERATIONS,
    PROC_ROOT,
    current_operation,
    for_operation,
    operation_from_argv,
    operation_from_proc,
    records_only,
    records_only_setting,
    relaxed_warning,
)

__all__ = ["records_only_notice"]


def records_only_notice(gate: str, resource: Any = None) -> bool:
    """:func:`~..gate.operation.records_only`, and when a setting rather than ``/proc`` decided it, a
    warning against ``resource`` (the gate's; None for a function form) naming the setting and ``gate``."""
    relaxed, setting = records_only_setting()
    if setting is not None:
        import pulumi

        pulumi.log.warn(relaxed_warning(setting, gate), resource=resource)
    return relaxed
