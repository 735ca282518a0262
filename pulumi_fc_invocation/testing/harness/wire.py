"""The engine's wire form of properties (gRPC ``Struct``), with Pulumi's secret wrappers.

The engine works on the ``Struct`` form; staying on it (instead of the SDK's asyncio serializers)
keeps the forwarding synchronous in the SDK's executor threads. A secret on the wire is
``{SIG_KEY: SECRET_SIG, "value": ...}``: the protocol's constants (pulumi ``sdk/go/common/resource/
sig/sig.go``, ``sig.Key`` and ``sig.Secret``), written here rather than taken from the Python SDK's
private ``rpc._special_sig_key`` / ``_special_secret_sig``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Optional

from google.protobuf import json_format, struct_pb2

__all__ = ["SIG_KEY", "SECRET_SIG", "struct_to_py", "py_to_struct", "unsecret", "split_secrets", "wrap_secrets"]

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def struct_to_py(struct: Optional[struct_pb2.Struct]) -> dict:
    return json_format.MessageToDict(struct) if struct is not None else {}


def py_to_struct(value: Mapping) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


def unsecret(value: Any) -> tuple[Any, bool]:
    """Strip secret wrappers at any depth; report whether there was one.

    Numbers come back as JSON does from ``pulumi stack output --json`` (what the Automation API
    returns): the wire only has doubles, and integral ones print as integers.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value), False
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return unsecret(value.get("value"))[0], True
        out, secret = {}, False
        for key, item in value.items():
            out[key], item_secret = unsecret(item)
            secret = secret or item_secret
        return out, secret
    if isinstance(value, list):
        pairs = [unsecret(item) for item in value]
        return [item for item, _ in pairs], any(secret for _, secret in pairs)
    return value, False


def split_secrets(props: Mapping) -> tuple[dict, set]:
    """Plain values plus the top-level keys that held a secret (the engine's granularity)."""
    plain, secret = {}, set()
    for key, value in props.items():
        plain[key], is_secret = unsecret(value)
        if is_secret:
            secret.add(key)
    return plain, secret


def wrap_secrets(props: Mapping, secret_keys: Iterable[str]) -> dict:
    keys = set(secret_keys)
    return {k: ({SIG_KEY: SECRET_SIG, "value": v} if k in keys else v) for k, v in props.items()}
