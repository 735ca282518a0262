"""The Pulumi package schema of this package, generated from the package's own code.

    python -m pulumi_fc_invocation.schema > schema.json

``schema.json`` is never edited by hand. Everything that code already knows comes from code:

* the resource's outputs are ``resource.OUTPUT_KEYS``, and whether each is always set comes from the
  output annotations declared on ``StatefulAsyncInvocation`` (``Output[Optional[...]]`` = may be null);
* the types of the invocation fields come from ``StatefulAsyncInvocationResult.model_fields`` (their
  pydantic aliases are the camelCase schema names), ``is_terminal`` from its property's annotation;
* inputs, their types, defaults and which are required come from the signatures of
  ``StatefulAsyncInvocation.__init__`` and ``get_stateful_async_invocation`` (an argument not wrapped in
  ``Input[...]`` is ``plain``);
* the function's outputs are the keys ``provider.result_outputs`` produces, plus ``id``;
* the statuses are ``InvocationStatus``, the default fail statuses ``waiter.DEFAULT_FAIL_ON``, the
  environment variables and stack configuration keys ``credentials.SETTING_SOURCES``.

Only prose lives here: ``DESCRIPTIONS`` (keyed by snake_case name), ``EVENT_DESCRIPTIONS`` and
``STATUS_DESCRIPTIONS``. tests/test_schema.py fails when a field, output, input or status has none,
and when the checked-in schema.json differs from this module's output.

``resource`` and ``provider`` import Pulumi; they are imported only when the schema is built.
"""

from __future__ import annotations

import collections.abc
import copy
import inspect
import json
import re
import sys
import typing
from datetime import datetime
from types import UnionType
from typing import Any, Optional

from . import __version__
from .credentials import SETTING_SOURCES
from .models import InvocationEvent, InvocationStatus, StatefulAsyncInvocationResult
from .waiter import DEFAULT_FAIL_ON

__all__ = [
    "PACKAGE",
    "RESOURCE_TOKEN",
    "FUNCTION_TOKEN",
    "EVENT_TOKEN",
    "STATUS_TOKEN",
    "DESCRIPTIONS",
    "EVENT_DESCRIPTIONS",
    "STATUS_DESCRIPTIONS",
    "camel",
    "build_schema",
    "render",
    "main",
]

PACKAGE = "fc-invocation"
RESOURCE_TOKEN = f"{PACKAGE}:index:StatefulAsyncInvocation"
FUNCTION_TOKEN = f"{PACKAGE}:index:getStatefulAsyncInvocation"
EVENT_TOKEN = f"{PACKAGE}:index:InvocationEvent"
STATUS_TOKEN = f"{PACKAGE}:index:InvocationStatus"

DISPLAY_NAME = "Function Compute Async Invocations"
KEYWORDS = ["pulumi", "alicloud", "alibaba-cloud", "function-compute", "fc", "async-invocation",
            "deployment-gate", "category/utility"]
LICENSE = "Apache-2.0"
REPOSITORY: Optional[str] = None  # set to the public source URL once there is one; omitted while None
PYTHON_PACKAGE = "pulumi_fc_invocation"

_TERMINAL = [s.value for s in InvocationStatus if s.is_terminal]
_ALL_STATUSES = [s.value for s in InvocationStatus]


def _quoted(values: Any) -> str:
    return ", ".join(f"`{v}`" for v in values)


def _sources(setting: str) -> str:
    entry = SETTING_SOURCES[setting]
    return f"stack configuration {_quoted(entry['config'])}, then environment {_quoted(entry['env'])}"


# --- prose -------------------------------------------------------------------------------------
# Keyed by the snake_case name used in Python (model fields, OUTPUT_KEYS, constructor arguments).

DESCRIPTIONS: dict[str, str] = {
    # The invocation, as Function Compute reports it (StatefulAsyncInvocationResult fields).
    "service_name": "The Function Compute service of the invocation.",
    "function_name": "The function of the invocation.",
    "qualifier": "The service version or alias the invocation was made under (`LATEST`, a version number or "
                 "an alias name); null for none.",
    "invocation_id": "The id of the stateful async invocation (the `X-Fc-Stateful-Async-Invocation-Id` the "
                     "function was invoked with): 1-128 letters, digits, `_` or `-`, starting with a letter "
                     "or `_`.",
    "request_id": "The request id of the invocation's function run; empty when Function Compute reports none.",
    "status": "The invocation's status, one of " + _quoted(_ALL_STATUSES) + ". Terminal statuses are "
              + _quoted(_TERMINAL) + ". A status Function Compute adds later is passed through as is "
              "(and is treated as not terminal).",
    "destination_status": "The status of delivery to the configured async destination; empty when none.",
    "invocation_error_message": "The error message of a failed invocation; empty when none.",
    "invocation_payload": "The payload the function was invoked with. Secret unless `secretPayloads` is false.",
    "return_payload": "What the function returned, when Function Compute reports it. Secret unless "
                      "`secretPayloads` is false.",
    "already_retried_times": "How many times Function Compute has retried the invocation.",
    "started_time": "When the invocation started (RFC 3339, UTC, millisecond precision); null when not started.",
    "end_time": "When the invocation ended (RFC 3339, UTC, millisecond precision); null while it runs.",
    "duration_ms": "How long the invocation ran, in milliseconds, when Function Compute reports it.",
    "instance_id": "The id of the function instance that ran the invocation; empty when unknown.",
    "events": "The invocation's event log (newer API revisions), oldest first; empty when not reported.",
    "is_terminal": "Whether `status` is terminal (" + _quoted(_TERMINAL) + "): the invocation has ended.",
    # The gate: arguments, echoed as outputs.
    "wait_for_completion": "Whether `pulumi up` waits until the invocation ends before this resource (and "
                           "everything that depends on it) is done. `pulumi preview` never waits.",
    "timeout_seconds": "With `waitForCompletion`, how long to wait before failing the deployment, in seconds.",
    "fail_on_statuses": "With `waitForCompletion`, the terminal statuses that fail the deployment. Only "
                        "terminal statuses (" + _quoted(_TERMINAL) + ") are accepted. Defaults to "
                        + _quoted(DEFAULT_FAIL_ON) + "; an empty list fails on none.",
    "poll_interval_seconds": "The delay between polls during the first seconds of a wait, in seconds.",
    "max_poll_interval_seconds": "The cap the poll delay backs off to, in seconds; at least "
                                 "`pollIntervalSeconds`.",
    "secret_payloads": "Whether `invocationPayload` and `returnPayload` are marked secret (encrypted in "
                       "state and masked in output). A plain value, not an eventual one.",
    "region": "The Alibaba Cloud region of the service, e.g. `cn-hangzhou`. Defaults to "
              + _sources("region") + ".",
    "account_id": "The Alibaba Cloud account id that owns the service. Defaults to "
                  + _sources("account_id") + ".",
    "endpoint": "The Function Compute endpoint URL, overriding the one derived from `accountId` and "
                "`region`. Defaults to " + _sources("endpoint") + ".",
    "waited_seconds": "How long `pulumi up` waited for the invocation, in seconds; null when it did not wait.",
    # The function's result.
    "id": "The composite id `service[.qualifier]/function/invocationId`.",
}

EVENT_DESCRIPTIONS: dict[str, str] = {
    "event_id": "The event's sequence number, when reported.",
    "status": "The invocation status the event recorded.",
    "timestamp": "When the event happened (RFC 3339, UTC, millisecond precision), when reported.",
    "event_detail": "Details of the event; empty when none.",
}

STATUS_DESCRIPTIONS: dict[str, str] = {
    "Enqueued": "Accepted and waiting in the async queue.",
    "Dequeued": "Taken from the queue, about to run.",
    "Running": "Running.",
    "Retrying": "Being retried after a failed attempt.",
    "Stopping": "Being stopped on request.",
    "Succeeded": "Ended successfully (terminal).",
    "Failed": "Ended with an error (terminal).",
    "Stopped": "Stopped on request (terminal).",
    "Expired": "Dropped because it stayed queued longer than the maximum event age (terminal).",
    "Invalid": "Marked invalid by Function Compute (terminal).",
}

RESOURCE_DESCRIPTION = (
    "A Function Compute stateful async invocation, read (never created, changed or deleted) and optionally "
    "waited for.\n\n"
    "With `waitForCompletion`, `pulumi up` waits until the invocation ends and fails the deployment when it "
    "ends in one of `failOnStatuses` or does not end within `timeoutSeconds`; resources that depend on this "
    "one deploy only after it passes. `pulumi preview` never waits.\n\n"
    "Import an existing invocation by its composite id `service[.qualifier]/function/invocationId`."
)
FUNCTION_DESCRIPTION = (
    "Read one Function Compute stateful async invocation; with `waitForCompletion`, `pulumi up` waits until "
    "it ends first and fails on `failOnStatuses` or after `timeoutSeconds`. `pulumi preview` never waits."
)
PACKAGE_DESCRIPTION = (
    "Read Alibaba Cloud Function Compute stateful async invocations, and gate deployments on their completion."
)


# --- naming and types --------------------------------------------------------------------------


def camel(name: str) -> str:
    """``already_retried_times`` -> ``alreadyRetriedTimes`` (Pulumi schema property names)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _markdown(text: str) -> str:
    """Docstring RST literals (````x````) as Markdown code spans."""
    return re.sub(r"``(.+?)``", r"`\1`", text)


def _optional(annotation: Any) -> tuple[Any, bool]:
    """(inner type, whether None is allowed), through ``Annotated`` and ``Optional``/``X | None``."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _optional(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) != len(typing.get_args(annotation)):
            inner, _ = _optional(args[0] if len(args) == 1 else typing.Union[tuple(args)])
            return inner, True
    return annotation, False


def _type_spec(annotation: Any, *, status_enum: bool = False) -> dict[str, Any]:
    """The Pulumi type reference for a Python annotation (None-ness is handled by the caller).

    ``status_enum`` makes strings references to the ``InvocationStatus`` enum: right for
    ``fail_on_statuses``, which accepts only known statuses. The ``status`` output stays a plain string
    (with the statuses listed in its description), because a status FC adds later passes through.
    """
    annotation, _ = _optional(annotation)
    origin = typing.get_origin(annotation)
    if origin in (tuple, list, collections.abc.Sequence):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        if len(args) != 1:
            raise TypeError(f"schema: cannot describe {annotation!r} (need one element type)")
        return {"type": "array", "items": _type_spec(args[0], status_enum=status_enum)}
    if isinstance(annotation, type):
        if status_enum and issubclass(annotation, str):
            return {"type": "string", "$ref": f"#/types/{STATUS_TOKEN}"}
        if issubclass(annotation, InvocationEvent):
            return {"type": "object", "$ref": f"#/types/{EVENT_TOKEN}"}
        for python_type, pulumi_type in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
                                         (datetime, "string")):
            if issubclass(annotation, python_type):
                return {"type": pulumi_type}
    raise TypeError(f"schema: no Pulumi type for annotation {annotation!r}")


def _property(name: str, spec: dict[str, Any], descriptions: dict[str, str]) -> dict[str, Any]:
    if name not in descriptions:
        raise KeyError(f"schema: no description for {name!r}; add one to pulumi_fc_invocation/schema.py")
    return {**spec, "description": descriptions[name]}


# --- what code knows ---------------------------------------------------------------------------


def _output_annotations() -> dict[str, Any]:
    """The declared ``Output[...]`` annotations of the resource's outputs, evaluated, ``Output`` unwrapped."""
    from . import resource

    declared = resource.StatefulAsyncInvocation.__annotations__
    missing = [key for key in resource.OUTPUT_KEYS if key not in declared]
    if missing:
        raise KeyError(f"schema: StatefulAsyncInvocation declares no annotation for outputs {missing}")

    def holder() -> None: ...

    holder.__annotations__ = {key: declared[key] for key in resource.OUTPUT_KEYS}
    hints = typing.get_type_hints(holder, globalns=vars(resource))
    out = {}
    for key, hint in hints.items():
        if typing.get_origin(hint) is not resource.Output:
            raise TypeError(f"schema: output {key!r} is annotated {hint!r}, not Output[...]")
        (out[key],) = typing.get_args(hint)
    return out


def _field_types() -> dict[str, Any]:
    """Python types of the invocation's outputs: model fields, then result properties (``is_terminal``)."""
    types: dict[str, Any] = {name: info.annotation for name, info in StatefulAsyncInvocationResult.model_fields.items()}
    for name, member in inspect.getmembers(StatefulAsyncInvocationResult, lambda m: isinstance(m, property)):
        if name not in types:
            hint = typing.get_type_hints(member.fget).get("return")
            if hint is not None:
                types[name] = hint
    return types


def _inputs(function: Any, constructor: Any) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Input property specs and required inputs from the function's and the constructor's signatures."""
    hints = typing.get_type_hints(function)
    fn_params = inspect.signature(function).parameters
    ctor_params = {name: p for name, p in inspect.signature(constructor).parameters.items()
                   if name not in ("self", "resource_name", "opts")}
    if list(ctor_params) != list(fn_params):
        raise TypeError(f"schema: the constructor's arguments {list(ctor_params)} differ from the function's "
                        f"{list(fn_params)}")
    properties: dict[str, dict[str, Any]] = {}
    required: list[str] = []
    for name, param in fn_params.items():
        spec = _type_spec(hints[name], status_enum=name == "fail_on_statuses")
        default = param.default
        if default is inspect.Parameter.empty:
            required.append(camel(name))
        elif default is not None:
            if ctor_params[name].default != default:
                raise ValueError(f"schema: default of {name!r} differs: constructor "
                                 f"{ctor_params[name].default!r}, function {default!r}")
            spec["default"] = default
        if "Input[" not in str(ctor_params[name].annotation):
            spec["plain"] = True
        properties[camel(name)] = _property(name, spec, DESCRIPTIONS)
    return properties, required


def _outputs(keys: Any, types: dict[str, Any], optional: dict[str, bool]) -> tuple[dict[str, Any], list[str]]:
    from .resource import PAYLOAD_OUTPUTS

    properties: dict[str, dict[str, Any]] = {}
    required: list[str] = []
    for key in keys:
        spec = _type_spec(types[key], status_enum=key == "fail_on_statuses")
        if key in PAYLOAD_OUTPUTS:
            spec["secret"] = True
        properties[camel(key)] = _property(key, spec, DESCRIPTIONS)
        if not optional[key]:
            required.append(camel(key))
    return properties, sorted(required)


def _event_type() -> dict[str, Any]:
    properties: dict[str, dict[str, Any]] = {}
    required: list[str] = []
    for name, info in InvocationEvent.model_fields.items():
        alias = info.alias or camel(name)
        _, nullable = _optional(info.annotation)
        properties[alias] = _property(name, _type_spec(info.annotation), EVENT_DESCRIPTIONS)
        if not nullable:
            required.append(alias)
    doc = _markdown(inspect.getdoc(InvocationEvent) or "").strip()
    return {"type": "object", "description": doc, "properties": properties, "required": sorted(required)}


def _status_type() -> dict[str, Any]:
    values = []
    for status in InvocationStatus:
        if status.value not in STATUS_DESCRIPTIONS:
            raise KeyError(f"schema: no description for status {status.value!r}")
        values.append({"name": status.value, "value": status.value, "description": STATUS_DESCRIPTIONS[status.value]})
    doc = inspect.getdoc(InvocationStatus) or ""
    return {"type": "string", "description": _markdown(doc.split("\n\n")[0]).strip(), "enum": values}


def _config() -> dict[str, Any]:
    """The stack configuration keys in this package's own namespace (the others belong to ``alicloud``)."""
    variables = {}
    for setting, entry in SETTING_SOURCES.items():
        for key in entry["config"]:
            namespace, _, name = key.partition(":")
            if namespace == PACKAGE:
                variables[name] = {"type": "string", "description": DESCRIPTIONS[setting]}
    return {"variables": variables}


def build_schema() -> dict[str, Any]:
    """The package schema as a dict."""
    from . import resource
    from .provider import result_outputs

    declared = _output_annotations()
    optional = {key: _optional(hint)[1] for key, hint in declared.items()}
    types = _field_types()
    fn_hints = typing.get_type_hints(resource.get_stateful_async_invocation)
    for key in resource.OUTPUT_KEYS:
        types.setdefault(key, fn_hints.get(key, declared[key]))

    inputs, required_inputs = _inputs(resource.get_stateful_async_invocation, resource.StatefulAsyncInvocation.__init__)
    outputs, required_outputs = _outputs(resource.OUTPUT_KEYS, types, optional)

    # The function returns what result_outputs produces (plus the composite id): no gate settings.
    sample = StatefulAsyncInvocationResult(invocationId="schema", status=InvocationStatus.RUNNING.value)
    function_keys = list(result_outputs(sample))
    types["id"], optional["id"] = str, False
    fn_outputs, fn_required = _outputs(["id", *function_keys], types, optional)

    fn_inputs = copy.deepcopy(inputs)

    schema: dict[str, Any] = {
        "name": PACKAGE,
        "displayName": DISPLAY_NAME,
        "description": PACKAGE_DESCRIPTION,
        "version": __version__,
        "keywords": KEYWORDS,
        "license": LICENSE,
        "config": _config(),
        "resources": {
            RESOURCE_TOKEN: {
                "description": RESOURCE_DESCRIPTION,
                "inputProperties": inputs,
                "requiredInputs": sorted(required_inputs),
                "properties": outputs,
                "required": required_outputs,
            },
        },
        "functions": {
            FUNCTION_TOKEN: {
                "description": FUNCTION_DESCRIPTION,
                "inputs": {"type": "object", "properties": fn_inputs, "required": sorted(required_inputs)},
                "outputs": {"type": "object", "properties": fn_outputs, "required": fn_required},
            },
        },
        "types": {
            EVENT_TOKEN: _event_type(),
            STATUS_TOKEN: _status_type(),
        },
        "language": {"python": {"packageName": PYTHON_PACKAGE}},
    }
    if REPOSITORY:
        schema["repository"] = REPOSITORY
    return schema


def render(schema: Optional[dict[str, Any]] = None) -> str:
    """Deterministic text: sorted keys, two-space indent, ASCII, one trailing newline."""
    return json.dumps(build_schema() if schema is None else schema, indent=2, sort_keys=True) + "\n"


def main() -> int:
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
