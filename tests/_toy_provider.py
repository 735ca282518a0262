"""A toy dynamic provider for the harness tests.

It lives in an importable module so dill pickles it by reference, and the provider host process
imports it. Everything it reports (its pid, the config it was given, how many calls overlapped)
is observed in the host process and travels back through real outputs.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Optional

import pulumi
from pulumi.dynamic import (
    ConfigureRequest,
    CreateResult,
    ReadResult,
    Resource,
    ResourceProvider,
)

# Per host process: calls in flight and the most seen at once, per "group" prop.
_lock = threading.Lock()
_joined = threading.Condition(_lock)  # a call of a group started
_active: dict[str, int] = {}
_max_active: dict[str, int] = {}

OUTPUT_KEYS = ("host_pid", "endpoint", "greeting", "token", "marker", "max_active")


class ToyProvider(ResourceProvider):
    def configure(self, req: ConfigureRequest) -> None:
        self._endpoint = req.config.get("toy:endpoint")
        self._greeting = req.config.get("greeting")  # resolved under the project namespace

    def _work(self, ident: str, props: dict[str, Any]) -> dict[str, Any]:
        group = props.get("group") or "default"
        with _lock:
            _active[group] = _active.get(group, 0) + 1
            _max_active[group] = max(_max_active.get(group, 0), _active[group])
            _joined.notify_all()
        try:
            if props.get("fail"):
                raise RuntimeError(props["fail"])
            if props.get("overlap"):  # a remote call that lasts until that many of its group ran at once (1 s at most)
                with _joined:
                    _joined.wait_for(lambda: _max_active[group] >= int(props["overlap"]), timeout=1.0)
        finally:
            with _lock:
                _active[group] -= 1
                seen = _max_active[group]
        return {
            **{k: v for k, v in props.items() if k != "__provider"},
            "host_pid": os.getpid(),
            "endpoint": self._endpoint,
            "greeting": self._greeting,
            "token": f"tok-{ident}",
            "marker": os.environ.get("TOY_MARKER"),
            "max_active": seen,
        }

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, self._work(id_, props))

    def create(self, props: dict[str, Any]) -> CreateResult:
        if props.get("fail_on_create"):
            raise RuntimeError(props["fail_on_create"])
        ident = f"created-{props.get('label', 'x')}"
        return CreateResult(ident, self._work(ident, props))


class Toy(Resource, module="toy", name="Thing"):
    host_pid: pulumi.Output[int]
    endpoint: pulumi.Output[Optional[str]]
    greeting: pulumi.Output[Optional[str]]
    token: pulumi.Output[str]
    marker: pulumi.Output[Optional[str]]
    max_active: pulumi.Output[int]
    label: pulumi.Output[Optional[str]]

    def __init__(
        self,
        name: str,
        props: Optional[dict[str, Any]] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        inputs = {key: None for key in OUTPUT_KEYS}
        inputs["label"] = None
        inputs.update(props or {})
        super().__init__(ToyProvider(), name, inputs, opts)
