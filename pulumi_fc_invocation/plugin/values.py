"""The engine's property values as plain Python and back: camelCase names, secrets, unknowns, numbers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue

from ..sources import camel

__all__ = ["UNKNOWN", "snake", "plain", "has_unknown", "wrap", "unwrap", "outputs_map"]

# How an unknown value travels as a plain string (the engine turns it back into an unknown).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def plain(value: PropertyValue) -> Any:
    """A PropertyValue as plain Python (secrets unwrapped, unknowns as :data:`UNKNOWN`)."""
    inner = value.value
    if isinstance(inner, Computed):
        return UNKNOWN
    if isinstance(inner, Mapping):
        return {key: plain(item) for key, item in inner.items()}
    if isinstance(inner, tuple):
        return [plain(item) for item in inner]
    if isinstance(inner, float) and inner.is_integer():
        return int(inner)
    return inner


def has_unknown(value: Any) -> bool:
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return value == UNKNOWN


def wrap(value: Any, secret: bool = False) -> PropertyValue:
    """Plain Python as a PropertyValue (numbers as floats: the SDK refuses ints)."""
    if isinstance(value, dict):
        out = PropertyValue({camel(k) if "_" in k else k: wrap(v) for k, v in value.items()})
    elif isinstance(value, (list, tuple)):
        out = PropertyValue([wrap(v) for v in value])
    elif isinstance(value, bool) or value is None or isinstance(value, str):
        out = PropertyValue(value)
    elif isinstance(value, (int, float)):
        out = PropertyValue(float(value))
    else:
        out = PropertyValue(str(value))
    return out.with_secret(True) if secret else out


def unwrap(props: Mapping[str, PropertyValue]) -> tuple[dict[str, Any], frozenset]:
    """The snake_case arguments and the names of those given as secrets."""
    args = {snake(key): plain(value) for key, value in props.items()}
    hidden = frozenset(snake(key) for key, value in props.items() if value.contains_secret())
    return args, hidden


def outputs_map(values: Mapping[str, Any], secret: frozenset) -> dict[str, PropertyValue]:
    return {camel(key): wrap(value, key in secret) for key, value in values.items()}
