"""The Pulumi package schema of the provider plugin, built from the data sources' descriptions.

    python -m pulumi_fc_invocation.schema > schema.json
    python -m pulumi_fc_invocation.schema --reference docs/reference

``schema.json`` is never edited by hand. Each resource, function and member type is one description of
:mod:`.sources` (its fields' types, defaults, secrecy, plainness and docs); a field that overrides a
credential-chain setting says where it defaults from (``credentials.SETTING_SOURCES``); the event type
comes from ``models.InvocationEvent``, the status enum from ``models.InvocationStatus``, the provider's
settings from ``SETTING_SOURCES`` and :mod:`.sources.provider`. tests/test_schema.py fails when the
checked-in schema.json differs from this module's output, tests/test_sources.py when a page of
``docs/reference/`` (made here too, by :func:`reference_pages`) differs from its description.
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

from .version import __version__
from .credentials import SETTING_SOURCES
from .models import InvocationEvent, InvocationStatus
from .sources import ASYNC_TASK, ASYNC_TASKS, PACKAGE, RUNS, SOURCES, STATEFUL_ASYNC_INVOCATION, \
    STATEFUL_ASYNC_INVOCATIONS, DataSource, Field, Member, Run, camel
from .sources.common import EVENT_DESCRIPTIONS, STATUS_DESCRIPTIONS
from .sources.provider import OBJECT_SETTINGS, SECRET_SETTINGS, SETTING_DESCRIPTIONS

__all__ = [
    "PACKAGE", "RESOURCE_TOKEN", "FUNCTION_TOKEN", "BATCH_RESOURCE_TOKEN", "BATCH_FUNCTION_TOKEN", "INVOCATION_TOKEN",
    "TASK_RESOURCE_TOKEN", "TASK_FUNCTION_TOKEN", "TASKS_RESOURCE_TOKEN", "TASKS_FUNCTION_TOKEN", "TASK_TOKEN",
    "EVENT_TOKEN", "STATUS_TOKEN", "RUN_TOKENS", "EVENT_DESCRIPTIONS", "STATUS_DESCRIPTIONS", "SETTING_DESCRIPTIONS",
    "camel",
    "field_doc",
    "build_schema", "render", "reference_name", "reference_page", "run_reference_page", "reference_pages", "main",
]

RESOURCE_TOKEN = STATEFUL_ASYNC_INVOCATION.token
FUNCTION_TOKEN = STATEFUL_ASYNC_INVOCATION.function_token
BATCH_RESOURCE_TOKEN = STATEFUL_ASYNC_INVOCATIONS.token
BATCH_FUNCTION_TOKEN = STATEFUL_ASYNC_INVOCATIONS.function_token
INVOCATION_TOKEN = f"{PACKAGE}:index:{STATEFUL_ASYNC_INVOCATION.member.name}"  # type: ignore[union-attr]
TASK_RESOURCE_TOKEN = ASYNC_TASK.token
TASK_FUNCTION_TOKEN = ASYNC_TASK.function_token
TASKS_RESOURCE_TOKEN = ASYNC_TASKS.token
TASKS_FUNCTION_TOKEN = ASYNC_TASKS.function_token
TASK_TOKEN = f"{PACKAGE}:index:{ASYNC_TASK.member.name}"  # type: ignore[union-attr]
RUN_TOKENS = tuple(run.token for run in RUNS)  # AsyncTaskRun, StatefulAsyncInvocationRun
EVENT_TOKEN = f"{PACKAGE}:index:InvocationEvent"
STATUS_TOKEN = f"{PACKAGE}:index:InvocationStatus"

DISPLAY_NAME = "Function Compute Async Invocations"
KEYWORDS = ["pulumi", "alicloud", "alibaba-cloud", "function-compute", "fc", "async-invocation",
            "deployment-gate", "category/utility"]
LICENSE = "Apache-2.0"
REPOSITORY: Optional[str] = None  # set to the public source URL once there is one; omitted while None
# The generated Python SDK of the plugin: apart from this package, which it would otherwise shadow.
PYTHON_PACKAGE = "pulumi_fc_invocation_sdk"
PACKAGE_DESCRIPTION = (
    "Read Alibaba Cloud Function Compute async work -- FC 3.0 async tasks and FC 2.0 stateful async "
    "invocations -- and gate deployments on their completion."
)


def _quoted(values: Any) -> str:
    return ", ".join(f"`{v}`" for v in values)


def _sources(setting: str) -> str:
    """Where a gate's setting comes from when not given: the provider's (the plugin's own settings; the
    Python data sources read the chain's keys themselves), then the environment."""
    entry = SETTING_SOURCES[setting]
    names = _quoted(dict.fromkeys(f"{PACKAGE}:{key.partition(':')[2]}" for key in entry["config"]))
    return f"the provider setting {names}, then environment {_quoted(entry['env'])}"


def field_doc(field: Field) -> str:
    """A field's doc, with where it defaults from when it overrides a credential-chain setting."""
    return field.doc + (f" Defaults to {_sources(field.setting)}." if field.setting else "")


# --- types --------------------------------------------------------------------------------------


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


def _type_spec(annotation: Any, *, statuses: bool = False, where: str = "") -> dict[str, Any]:
    """The Pulumi type of a field's Python type (None-ness is the field's ``nullable``).

    ``statuses`` makes strings references to the ``InvocationStatus`` enum: right for ``fail_on_statuses``
    and ``statuses``, which accept only known statuses. The ``status`` output stays a plain string (with
    the statuses listed in its description), because a status FC adds later passes through."""
    annotation, _ = _optional(annotation)
    origin = typing.get_origin(annotation)
    if isinstance(annotation, Member):
        return {"type": "object", "$ref": f"#/types/{PACKAGE}:index:{annotation.name}"}
    if origin in (typing.Union, UnionType):  # e.g. ``str | datetime``: fine when every member is the same
        specs = [_type_spec(a, statuses=statuses, where=where) for a in typing.get_args(annotation)]
        if any(spec != specs[0] for spec in specs):
            raise TypeError(f"schema: cannot describe {where} {annotation!r} (its members have different types)")
        return specs[0]
    if origin in (tuple, list, collections.abc.Sequence) or annotation in (list, tuple):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        if len(args) != 1:
            raise TypeError(f"schema: {where} is a bare list; give its element type in its description")
        return {"type": "array", "items": _type_spec(args[0], statuses=statuses, where=where)}
    if origin in (dict, collections.abc.Mapping):
        key, value = typing.get_args(annotation) or (None, None)
        if key is not str:
            raise TypeError(f"schema: cannot describe {where} {annotation!r} (need str keys and a value type)")
        return {"type": "object", "additionalProperties": _type_spec(value, statuses=statuses, where=where)}
    if isinstance(annotation, type):
        if statuses and issubclass(annotation, str):
            return {"type": "string", "$ref": f"#/types/{STATUS_TOKEN}"}
        if issubclass(annotation, InvocationEvent):
            return {"type": "object", "$ref": f"#/types/{EVENT_TOKEN}"}
        for python_type, pulumi_type in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
                                         (datetime, "string")):
            if issubclass(annotation, python_type):
                return {"type": pulumi_type}
    raise TypeError(f"schema: no Pulumi type for {where} {annotation!r}")


def _input(source: "DataSource | Run", field: Field) -> dict[str, Any]:
    spec = _type_spec(field.accepts or field.type, statuses=field.statuses, where=f"{field.name!r} of {source.name}")
    if field.default is not None and not field.required:
        spec["default"] = field.default
    if field.plain:
        spec["plain"] = True
    if field.secret and isinstance(source, Run):  # a run's payload: secret from the program on
        spec["secret"] = True
    return {**spec, "description": field_doc(field)}


def _output(source: "DataSource | Run", field: Field) -> dict[str, Any]:
    spec = _type_spec(field.type, statuses=field.statuses, where=f"{field.name!r} of {source.name}")
    if field.secret:
        spec["secret"] = True
    return {**spec, "description": field_doc(field)}


def _inputs(source: "DataSource | Run", fields: Any) -> tuple[dict[str, Any], list[str]]:
    return ({camel(f.name): _input(source, f) for f in fields}, sorted(camel(f.name) for f in fields if f.required))


def _outputs(source: "DataSource | Run", fields: Any) -> tuple[dict[str, Any], list[str]]:
    return ({camel(f.name): _output(source, f) for f in fields},
            sorted(camel(f.name) for f in fields if not f.nullable))


def _resource(source: "DataSource | Run") -> dict[str, Any]:
    inputs, required_inputs = _inputs(source, source.inputs)
    outputs, required = _outputs(source, source.outputs)
    return {"description": source.doc, "inputProperties": inputs, "requiredInputs": required_inputs,
            "properties": outputs, "required": required}


def _function(source: DataSource) -> dict[str, Any]:
    """The plugin's function: the inputs less the wait settings (it reads now, never waits)."""
    inputs, required_inputs = _inputs(source, [f for f in source.inputs if not f.waits])
    outputs, required = _outputs(source, source.function_outputs)
    return {"description": source.function_doc,
            "inputs": {"type": "object", "properties": inputs, "required": required_inputs},
            "outputs": {"type": "object", "properties": outputs, "required": required}}


def _member(source: DataSource) -> dict[str, Any]:
    """One member of a batch: the single data source's result fields."""
    properties, required = _outputs(source, source.results)
    return {"type": "object", "description": source.member_doc, "properties": properties, "required": required}


def _event_type() -> dict[str, Any]:
    properties: dict[str, dict[str, Any]] = {}
    required: list[str] = []
    for name, info in InvocationEvent.model_fields.items():
        alias = info.alias or camel(name)
        _, nullable = _optional(info.annotation)
        if name not in EVENT_DESCRIPTIONS:
            raise KeyError(f"schema: no description for the event field {name!r} (sources/common.py)")
        properties[alias] = {**_type_spec(info.annotation, where=f"InvocationEvent.{name}"),
                             "description": EVENT_DESCRIPTIONS[name]}
        if not nullable:
            required.append(alias)
    doc = _markdown(inspect.getdoc(InvocationEvent) or "").strip()
    return {"type": "object", "description": doc, "properties": properties, "required": sorted(required)}


def _status_type() -> dict[str, Any]:
    values = []
    for status in InvocationStatus:
        if status.value not in STATUS_DESCRIPTIONS:
            raise KeyError(f"schema: no description for status {status.value!r} (sources/common.py)")
        values.append({"name": status.value, "value": status.value, "description": STATUS_DESCRIPTIONS[status.value]})
    doc = inspect.getdoc(InvocationStatus) or ""
    return {"type": "string", "description": _markdown(doc.split("\n\n")[0]).strip(), "enum": values}


def _config() -> dict[str, Any]:
    """The provider plugin's settings: ``fc-invocation:<name>`` for each Pulumi config key the credential
    chain reads (the plugin feeds its own settings to the chain under those keys, see
    :func:`.plugin.provider.config_key`); the environment and the shared files stay its fallbacks."""
    variables = {}
    for setting, entry in SETTING_SOURCES.items():
        for key in entry["config"]:
            name = key.partition(":")[2]
            if setting not in SETTING_DESCRIPTIONS:
                raise KeyError(f"schema: no description for the provider setting {name!r} ({setting})")
            env = f" Defaults to environment {_quoted(entry['env'])}." if entry["env"] else ""
            spec: dict[str, Any] = ({"$ref": "pulumi.json#/Any"} if setting in OBJECT_SETTINGS
                                    else {"type": "string"})
            spec["description"] = SETTING_DESCRIPTIONS[setting] + env
            if setting in SECRET_SETTINGS:
                spec["secret"] = True
            variables[name] = spec
    return {"variables": variables}


def _provider() -> dict[str, Any]:
    """An explicit provider resource (``pulumi:providers:fc-invocation``) takes the same settings."""
    return {"description": "The provider plugin `fc-invocation`: its settings, as `fc-invocation:<name>` "
                           "configuration or the inputs of an explicit provider resource.",
            "inputProperties": copy.deepcopy(_config()["variables"])}


def build_schema() -> dict[str, Any]:
    """The package schema as a dict: every data source's resource and function, and the member types."""
    resources: dict[str, Any] = {}
    functions: dict[str, Any] = {}
    types: dict[str, Any] = {EVENT_TOKEN: _event_type(), STATUS_TOKEN: _status_type()}
    for source in SOURCES:
        resources[source.token] = _resource(source)
        functions[source.function_token] = _function(source)
        if source.member is not None:
            types[f"{PACKAGE}:index:{source.member.name}"] = _member(source)
    for run in RUNS:
        resources[run.token] = _resource(run)
    schema: dict[str, Any] = {
        "name": PACKAGE,
        "displayName": DISPLAY_NAME,
        "description": PACKAGE_DESCRIPTION,
        "version": __version__,
        "keywords": KEYWORDS,
        "license": LICENSE,
        "config": _config(),
        "provider": _provider(),
        "resources": resources,
        "functions": functions,
        "types": types,
        # The generated SDKs name the plugin at this version (not pkg/v3's placeholders ${VERSION}/0.0.0), with
        # either generator: `pulumi package gen-sdk` or tools/engine/gensdk.
        "language": {"nodejs": {"respectSchemaVersion": True}, "go": {"respectSchemaVersion": True},
                     "python": {"packageName": PYTHON_PACKAGE, "respectSchemaVersion": True}},
    }
    if REPOSITORY:
        schema["repository"] = REPOSITORY
    return schema


def render(schema: Optional[dict[str, Any]] = None) -> str:
    """Deterministic text: sorted keys, two-space indent, ASCII, one trailing newline."""
    return json.dumps(build_schema() if schema is None else schema, indent=2, sort_keys=True) + "\n"


# --- the reference pages (docs/reference/<data-source>.md) ----------------------------------------


def reference_name(source: "DataSource | Run") -> str:
    """``AsyncTask`` -> ``async-task.md``."""
    return re.sub(r"(?<!^)([A-Z])", r"-\1", source.name).lower() + ".md"


def _words(spec: dict[str, Any]) -> str:
    if "$ref" in spec:
        return f"`{spec['$ref'].rsplit(':', 1)[1]}`"
    if spec["type"] == "array":
        return f"list of {_words(spec['items'])}"
    if spec["type"] == "object" and "additionalProperties" in spec:
        return f"map of {_words(spec['additionalProperties'])}"
    kind: str = spec["type"]
    return kind


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def reference_page(source: DataSource) -> str:
    """One data source's inputs, outputs, defaults and secrecy, as Markdown (from its description only)."""
    kind = "batch data source" if source.batch else "data source"
    lines = [
        f"# {source.name}", "",
        "<!-- Generated from pulumi_fc_invocation/sources by `python -m pulumi_fc_invocation.schema --reference "
        "docs/reference`; do not edit. -->", "",
        source.doc, "",
        f"A {kind} in three forms: the Python class `pulumi_fc_invocation.{source.name}` (a read, gated in the "
        f"program), the Python functions `{source.function}` / `{source.function}_output`, and the provider plugin's "
        f"resource `{source.token}` and function `{source.function_token}` (YAML, TypeScript, Go). Python names "
        f"are snake_case, the plugin's camelCase.", "",
        "An output that echoes a secret input (one given as a secret) is secret too" + (
            f"; so are `ids` and `{source.items_key}` when a name they repeat (the function's or the id prefix) "
            f"is secret." if source.batch else "."), "",
        "## Inputs", "",
        "| Python | Plugin | Type | Default | Description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for field in source.inputs:
        spec = _type_spec(field.accepts or field.type, statuses=field.statuses, where=field.name)
        default = "required" if field.required else ("none" if field.default is None else f"`{field.default!r}`")
        notes = []  # a plain input's doc says so itself
        if field.setting:  # the schema's words are the plugin's; the Python data sources read the stack's keys
            notes.append(f"The Python forms read the stack setting "
                         f"{' then '.join(_quoted((key,)) for key in SETTING_SOURCES[field.setting]['config'])} "
                         f"instead of the provider's.")
        if field.waits:
            notes.append("Not an input of the plugin's function, which never waits.")
        lines.append(f"| `{field.name}` | `{camel(field.name)}` | {_words(spec)} | {default} | "
                     f"{_cell(' '.join([field_doc(field), *notes]))} |")
    lines += ["", "## Outputs", "",
              "The resource's outputs; the function returns " + (
                  "the same, with `id`." if source.batch else "the item's fields (down to `isTerminal`), with `id`."),
              "", "| Python | Plugin | Type | May be null | Secret | Description |",
              "| --- | --- | --- | --- | --- | --- |"]
    for field in (source.id, *source.outputs):
        spec = _type_spec(field.type, statuses=field.statuses, where=field.name)
        secret = ("unless `secret_payloads` is false" if field.secret else
                  field.secret_when if field.secret_when else "no")
        lines.append(f"| `{field.name}` | `{camel(field.name)}` | {_words(spec)} | {'yes' if field.nullable else 'no'} "
                     f"| {secret} | {_cell(field_doc(field))} |")
    if source.member is not None:
        lines += ["", f"One member of the batch data source's list is a `{source.member.name}`: {source.member_doc}"]
    return "\n".join(lines) + "\n"


def _table(rows: Any, head: str, rule: str) -> list[str]:
    return [head, rule, *rows]


def run_reference_page(run: Run) -> str:
    """One run's inputs (which of them start a new run), outputs, defaults and secrecy, from its description."""
    lines = [
        f"# {run.name}", "",
        "<!-- Generated from pulumi_fc_invocation/sources by `python -m pulumi_fc_invocation.schema --reference "
        "docs/reference`; do not edit. -->", "",
        run.doc, "",
        f"A resource in two forms: the Python class `pulumi_fc_invocation.{run.name}` and the provider plugin's "
        f"resource `{run.token}` (YAML, TypeScript, Go). Python names are snake_case, the plugin's camelCase. Its "
        f"outputs are those of `{run.gates.name}` ([reference]({reference_name(run.gates)})), then its inputs "
        f"echoed, `runSequence` and `waitedSeconds`. An output that echoes a secret input is secret too.", "",
        "## Inputs", "",
    ]
    rows = []
    for field in run.inputs:
        spec = _type_spec(field.accepts or field.type, statuses=field.statuses, where=field.name)
        default = "required" if field.required else ("none" if field.default is None else f"`{field.default!r}`")
        change = "a new run" if field.replaces else "an update (starts nothing)"
        rows.append(f"| `{field.name}` | `{camel(field.name)}` | {_words(spec)} | {default} | {change} | "
                    f"{_cell(field_doc(field))} |")
    lines += _table(rows, "| Python | Plugin | Type | Default | A change is | Description |",
                    "| --- | --- | --- | --- | --- | --- |")
    lines += ["", "## Outputs", ""]
    rows = []
    for field in run.outputs:
        spec = _type_spec(field.type, statuses=field.statuses, where=field.name)
        secret = "unless `secret_payloads` is false" if field.secret else "no"
        rows.append(f"| `{field.name}` | `{camel(field.name)}` | {_words(spec)} | {'yes' if field.nullable else 'no'} "
                    f"| {secret} | {_cell(field_doc(field))} |")
    lines += _table(rows, "| Python | Plugin | Type | May be null | Secret | Description |",
                    "| --- | --- | --- | --- | --- | --- |")
    return "\n".join(lines) + "\n"


def reference_pages() -> dict[str, str]:
    """Every reference page by file name, with an index."""
    pages = {reference_name(source): reference_page(source) for source in SOURCES}
    pages.update({reference_name(run): run_reference_page(run) for run in RUNS})
    index = ["# Reference", "",
             "<!-- Generated from pulumi_fc_invocation/sources; do not edit. -->", "",
             "Every data source's and run's inputs, outputs, defaults and secrecy, generated from its description.",
             ""]
    index += [f"- [{source.name}]({reference_name(source)}): {source.function_doc}" for source in SOURCES]
    index += [f"- [{run.name}]({reference_name(run)}): {run.what[:1].upper() + run.what[1:]}." for run in RUNS]
    pages["index.md"] = "\n".join(index) + "\n"
    return pages


def main(argv: Optional[list[str]] = None) -> int:
    """Print the schema; with ``--reference DIR``, write the reference pages there instead."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--reference"] and len(argv) == 2:
        from pathlib import Path

        directory = Path(argv[1])
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in reference_pages().items():
            (directory / name).write_text(text, encoding="utf-8")
        return 0
    if argv:
        sys.stderr.write("usage: python -m pulumi_fc_invocation.schema [--reference DIR]\n")
        return 2
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
