"""schema.json: generated from the package's code, valid Pulumi, and complete against the Python API."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pulumi_fc_invocation import schema as gen
from pulumi_fc_invocation.gate.batch import BatchSummary
from pulumi_fc_invocation.gate.spec import BatchSpec
from pulumi_fc_invocation.fc2 import InvocationRef, StatefulAsyncInvocationResult
from pulumi_fc_invocation.fc3 import AsyncTaskRef, AsyncTaskResult
from pulumi_fc_invocation.kinds import FC2, FC3
from pulumi_fc_invocation.models import InvocationEvent, InvocationStatus
from pulumi_fc_invocation.pulumi import functions as functions_module
from pulumi_fc_invocation.pulumi import resources as resource_module
from pulumi_fc_invocation.pulumi.functions import (
    GetAsyncTasksResult,
    GetStatefulAsyncInvocationsResult,
    get_async_task,
    get_async_task_output,
    get_async_tasks,
    get_async_tasks_output,
    get_stateful_async_invocation,
    get_stateful_async_invocation_output,
    get_stateful_async_invocations,
    get_stateful_async_invocations_output,
)
from pulumi_fc_invocation.gate.outputs import batch_outputs
from pulumi_fc_invocation.pulumi.resources import (
    BATCH_OUTPUT_KEYS,
    OUTPUT_KEYS,
    PAYLOAD_OUTPUTS,
    AsyncTask,
    AsyncTasks,
    StatefulAsyncInvocation,
    StatefulAsyncInvocations,
)
from pulumi_fc_invocation.models import DEFAULT_FAIL_ON

from pulumi_fc_invocation.sources import SOURCES, STATEFUL_ASYNC_INVOCATION, STATEFUL_ASYNC_INVOCATIONS

# The prose of FC 2.0's data sources by snake_case name, and what only a gate takes (every data source's).
DESCRIPTIONS = {name: gen.field_doc(f) for name, f in STATEFUL_ASYNC_INVOCATION.fields.items()}
BATCH_DESCRIPTIONS = {name: gen.field_doc(f) for name, f in STATEFUL_ASYNC_INVOCATIONS.fields.items()}
WAIT_INPUTS = tuple(dict.fromkeys(f.name for source in SOURCES for f in source.inputs if f.waits))
BATCH_INPUT_KEYS = FC2.batch_input_keys
BATCH_RESULT_KEYS = FC2.batch_result_keys
result_outputs = FC2.outputs
batch_module = resource_module


def _batch_result(spec, summary, waited):
    return functions_module.batch_result(GetStatefulAsyncInvocationsResult, spec, summary, waited)


REPO = Path(__file__).resolve().parents[1]
SCHEMA_PATH = REPO / "schema.json"
METASCHEMA_PATH = Path(__file__).resolve().parents[2] / "shared" / "reference" / "pulumi-package-metaschema.json"
REGENERATE = "python -m pulumi_fc_invocation.schema > schema.json"

CTOR_SKIP = ("self", "resource_name", "opts")
SAMPLE = {
    "serviceName": "video", "qualifier": "prod", "functionName": "transcode", "invocationId": "video-123",
    "status": "Succeeded", "requestId": "req-1", "destinationStatus": "Succeeded", "invocationErrorMessage": "",
    "invocationPayload": "{}", "returnPayload": "ok", "alreadyRetriedTimes": 1, "startedTime": 1597890501000,
    "endTime": 1597890541000, "durationMs": 40000, "instanceId": "i-1",
    "events": [{"eventId": 1, "status": "Enqueued", "timestamp": 1597890500000, "eventDetail": "queued"}],
}
JSON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict}


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def resource(schema) -> dict:
    return schema["resources"][gen.RESOURCE_TOKEN]


@pytest.fixture(scope="module")
def function(schema) -> dict:
    return schema["functions"][gen.FUNCTION_TOKEN]


@pytest.fixture(scope="module")
def batch_resource(schema) -> dict:
    return schema["resources"][gen.BATCH_RESOURCE_TOKEN]


@pytest.fixture(scope="module")
def batch_function(schema) -> dict:
    return schema["functions"][gen.BATCH_FUNCTION_TOKEN]


@pytest.fixture(scope="module")
def invocation_type(schema) -> dict:
    return schema["types"][gen.INVOCATION_TOKEN]


def _ctor_params(cls=StatefulAsyncInvocation) -> dict[str, inspect.Parameter]:
    return {n: p for n, p in inspect.signature(cls.__init__).parameters.items() if n not in CTOR_SKIP}


# The two data sources: (resource token, class, output keys, defining module, function token, function forms).
SINGLE = (gen.RESOURCE_TOKEN, StatefulAsyncInvocation, OUTPUT_KEYS, resource_module, gen.FUNCTION_TOKEN,
          (get_stateful_async_invocation, get_stateful_async_invocation_output))
BATCH = (gen.BATCH_RESOURCE_TOKEN, StatefulAsyncInvocations, BATCH_OUTPUT_KEYS, batch_module, gen.BATCH_FUNCTION_TOKEN,
         (get_stateful_async_invocations, get_stateful_async_invocations_output))
SINGLE3 = (gen.TASK_RESOURCE_TOKEN, AsyncTask, FC3.output_keys, resource_module, gen.TASK_FUNCTION_TOKEN,
           (get_async_task, get_async_task_output))
BATCH3 = (gen.TASKS_RESOURCE_TOKEN, AsyncTasks, FC3.batch_output_keys, resource_module, gen.TASKS_FUNCTION_TOKEN,
          (get_async_tasks, get_async_tasks_output))
BOTH = pytest.mark.parametrize("source", [SINGLE, BATCH, SINGLE3, BATCH3],
                               ids=["single", "batch", "fc3-single", "fc3-batch"])


# --- (1) generated, never hand-edited -----------------------------------------------------------


def test_checked_in_schema_is_the_generated_one():
    generated = subprocess.run([sys.executable, "-m", "pulumi_fc_invocation.schema"], cwd=REPO,
                               capture_output=True, check=True).stdout
    assert SCHEMA_PATH.read_bytes() == generated, f"schema.json is out of date; regenerate it with: {REGENERATE}"


def test_output_is_deterministic():
    first, second = gen.render(), gen.render()
    assert first == second
    assert first.endswith("}\n") and not first.endswith("\n\n")
    assert first == json.dumps(json.loads(first), indent=2, sort_keys=True) + "\n"


# --- (2) a valid Pulumi package schema ----------------------------------------------------------


def _ecma_to_python(pattern: str) -> str:
    """The metaschema's patterns are ECMA-262: named groups are ``(?<name>...)``, Python's ``(?P<name>...)``."""
    return re.sub(r"\(\?<(?![=!])", "(?P<", pattern)


@pytest.fixture(scope="module")
def metaschema_validator():
    import jsonschema  # a test dependency: its absence is a failure, not a skip
    from jsonschema.validators import extend, validator_for

    assert METASCHEMA_PATH.is_file(), f"Pulumi metaschema not found at {METASCHEMA_PATH} (CI has ../shared)"
    metaschema = json.loads(METASCHEMA_PATH.read_text(encoding="utf-8"))

    def pattern(validator, regex, instance, _schema):
        if validator.is_type(instance, "string") and not re.search(_ecma_to_python(regex), instance):
            yield jsonschema.ValidationError(f"{instance!r} does not match {regex!r}")

    formats = jsonschema.FormatChecker()

    @formats.checks("regex", raises=re.error)
    def _is_regex(instance):
        if isinstance(instance, str):
            re.compile(_ecma_to_python(instance))
        return True

    base = validator_for(metaschema)  # the draft the metaschema declares ($schema: 2020-12)
    assert base.META_SCHEMA["$id"] == metaschema["$schema"]
    validator_cls = extend(base, {"pattern": pattern})
    validator_cls.check_schema(metaschema, format_checker=formats)
    # The metaschema's "#/$defs/..." references resolve against itself, the root resource.
    return validator_cls(metaschema, format_checker=formats)


def test_schema_validates_against_pulumi_metaschema(schema, metaschema_validator):
    errors = sorted(metaschema_validator.iter_errors(schema), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


@pytest.mark.parametrize("breakage", ["version", "token", "type", "secret", "map"])
def test_metaschema_validation_catches_broken_schemas(schema, metaschema_validator, breakage):
    broken = json.loads(json.dumps(schema))
    props = broken["resources"][gen.RESOURCE_TOKEN]["properties"]
    if breakage == "version":
        broken["version"] = "one"
    elif breakage == "token":
        broken["resources"]["no-colons"] = broken["resources"].pop(gen.RESOURCE_TOKEN)
    elif breakage == "type":
        props["status"]["type"] = "str"
    elif breakage == "map":
        broken["resources"][gen.BATCH_RESOURCE_TOKEN]["properties"]["counts"]["additionalProperties"] = "integer"
    else:
        props["returnPayload"]["secret"] = "yes"
    assert list(metaschema_validator.iter_errors(broken))


def test_every_reference_resolves(schema):
    refs = re.findall(r'"\$ref": "#/types/([^"]+)"', json.dumps(schema))
    assert refs and set(refs) <= set(schema["types"])
    assert set(refs) == set(schema["types"])  # and every type is used


def test_every_data_source_is_described(schema):
    assert set(schema["resources"]) == {gen.RESOURCE_TOKEN, gen.BATCH_RESOURCE_TOKEN, gen.TASK_RESOURCE_TOKEN,
                                        gen.TASKS_RESOURCE_TOKEN, *gen.RUN_TOKENS}
    assert set(schema["functions"]) == {gen.FUNCTION_TOKEN, gen.BATCH_FUNCTION_TOKEN, gen.TASK_FUNCTION_TOKEN,
                                        gen.TASKS_FUNCTION_TOKEN}
    assert set(schema["types"]) == {gen.EVENT_TOKEN, gen.STATUS_TOKEN, gen.INVOCATION_TOKEN, gen.TASK_TOKEN}
    assert gen.TASK_FUNCTION_TOKEN == FC3.single_function_token and gen.TASKS_FUNCTION_TOKEN == FC3.batch_function_token


# --- (3) the resource: every input and output, secrets, defaults ----------------------------------


def test_package_metadata(schema):
    from pulumi_fc_invocation import __version__

    assert schema["name"] == "fc-invocation"
    assert schema["version"] == __version__
    assert schema["license"] == "Apache-2.0"
    assert schema["displayName"] and schema["description"] and schema["keywords"]


@BOTH
def test_every_constructor_argument_is_an_input(schema, source):
    token, cls = source[:2]
    assert set(schema["resources"][token]["inputProperties"]) == {gen.camel(n) for n in _ctor_params(cls)}


@BOTH
def test_every_output_is_a_property(schema, source):
    token, _, keys = source[:3]
    assert set(schema["resources"][token]["properties"]) == {gen.camel(k) for k in keys}


def test_batch_keys_are_the_constructor_and_the_results():
    assert set(BATCH_INPUT_KEYS) == set(_ctor_params(StatefulAsyncInvocations))
    assert set(BATCH_OUTPUT_KEYS) == set(BATCH_INPUT_KEYS) | set(BATCH_RESULT_KEYS) | {"waited_seconds"}
    assert set(BATCH_RESULT_KEYS) == {"ids", "invocations", "counts", "total", "all_terminal", "all_succeeded"}


def test_required_inputs_are_the_invocation_reference(resource):
    ref_required = {gen.camel(n) for n, f in InvocationRef.model_fields.items() if f.is_required()}
    fn_required = {gen.camel(n) for n, p in inspect.signature(get_stateful_async_invocation).parameters.items()
                   if p.default is inspect.Parameter.empty}
    assert set(resource["requiredInputs"]) == ref_required == fn_required


def test_batch_required_inputs_are_service_and_function(batch_resource):
    fn_required = {gen.camel(n) for n, p in inspect.signature(get_stateful_async_invocations).parameters.items()
                   if p.default is inspect.Parameter.empty}
    assert set(batch_resource["requiredInputs"]) == fn_required == {"serviceName", "functionName"}


@BOTH
def test_input_defaults_and_plainness_follow_the_constructor(schema, source):
    token, cls = source[:2]
    resource = schema["resources"][token]
    for name, param in _ctor_params(cls).items():
        spec = resource["inputProperties"][gen.camel(name)]
        if param.default is None:
            assert "default" not in spec, name
        else:
            assert spec["default"] == param.default and type(spec["default"]) is type(param.default), name
        assert spec.get("plain", False) == ("Input[" not in str(param.annotation)), name
    assert resource["inputProperties"]["secretPayloads"]["plain"] is True


def test_secret_flags(resource, function, invocation_type):
    for props in (resource["properties"], function["outputs"]["properties"], invocation_type["properties"]):
        secret = {name for name, spec in props.items() if spec.get("secret")}
        assert secret == {gen.camel(k) for k in PAYLOAD_OUTPUTS} == {"invocationPayload", "returnPayload"}
    assert not any(spec.get("secret") for spec in resource["inputProperties"].values())


def test_batch_secrets_are_the_payloads_inside_invocations(schema, batch_resource, batch_function):
    # The engine marks ``invocations`` secret only with include_payloads (default false); the payload fields
    # of each member are secret (as in the single data source), nothing else is.
    gates = {**schema, "resources": {k: v for k, v in schema["resources"].items() if k not in gen.RUN_TOKENS}}
    secret = re.findall(r'"([A-Za-z]+)": \{[^{}]*"secret": true', json.dumps(
        {k: v for k, v in gates.items() if k in ("resources", "functions", "types")}))
    # single resource, function, type; for FC 2.0 and FC 3.0 (the runs': tests/test_runs_plugin.py)
    assert sorted(secret) == sorted(["invocationPayload", "returnPayload", "taskPayload", "returnPayload"] * 3)
    for props in (batch_resource["inputProperties"], batch_resource["properties"], batch_function["outputs"]["properties"]):
        assert not any(spec.get("secret") for spec in props.values())
    assert "secret" in batch_resource["properties"]["invocations"]["description"]


@BOTH
def test_output_types_and_nullability_follow_the_declared_outputs(schema, source):
    import collections.abc
    import typing

    token, cls, keys, module = source[:4]
    resource = schema["resources"][token]
    simple = {str: "string", int: "integer", float: "number", bool: "boolean", collections.abc.Sequence: "array",
              collections.abc.Mapping: "object"}
    for key in keys:
        hint = eval(cls.__annotations__[key], vars(module))  # noqa: S307 - our own annotations
        (inner,) = typing.get_args(hint)
        args = typing.get_args(inner)
        nullable = type(None) in args
        inner = next(a for a in args if a is not type(None)) if nullable else inner
        spec = resource["properties"][gen.camel(key)]
        assert spec["type"] == simple[typing.get_origin(inner) or inner], key
        assert (gen.camel(key) in resource["required"]) is not nullable, key
    assert "qualifier" not in resource["required"]


def test_status_enum(schema, resource):
    enum = schema["types"][gen.STATUS_TOKEN]
    assert enum["type"] == "string"
    assert [v["value"] for v in enum["enum"]] == [s.value for s in InvocationStatus]
    assert set(DEFAULT_FAIL_ON) <= {v["value"] for v in enum["enum"]}
    assert resource["inputProperties"]["failOnStatuses"]["items"]["$ref"] == f"#/types/{gen.STATUS_TOKEN}"
    # The status output stays a string (a status FC adds later passes through), listing every status.
    status = resource["properties"]["status"]
    assert status == {"type": "string", "description": status["description"]}
    assert all(f"`{s.value}`" in status["description"] for s in InvocationStatus)


def test_batch_status_lists_are_the_enum(batch_resource, batch_function):
    ref = f"#/types/{gen.STATUS_TOKEN}"
    for props in (batch_resource["inputProperties"], batch_resource["properties"], batch_function["inputs"]["properties"],
                  batch_function["outputs"]["properties"]):
        for name in ("statuses", "failOnStatuses"):
            assert props[name]["type"] == "array" and props[name]["items"]["$ref"] == ref, name


def test_batch_result_types(batch_resource, batch_function):
    for props in (batch_resource["properties"], batch_function["outputs"]["properties"]):
        assert props["ids"]["items"] == {"type": "string"}
        assert props["invocations"]["items"]["$ref"] == f"#/types/{gen.INVOCATION_TOKEN}"
        assert {k: v for k, v in props["counts"].items() if k != "description"} == \
            {"type": "object", "additionalProperties": {"type": "integer"}}
        assert (props["total"]["type"], props["allTerminal"]["type"], props["allSucceeded"]["type"]) == \
            ("integer", "boolean", "boolean")
        assert props["startedAfter"]["type"] == props["startedBefore"]["type"] == "string"


def test_invocation_type_is_the_single_data_source_result(function, invocation_type):
    """One member of ``invocations``: the single function's outputs (without ``id``), the same specs and prose."""
    keys = list(result_outputs(StatefulAsyncInvocationResult.model_validate(SAMPLE)))
    assert set(invocation_type["properties"]) == {gen.camel(k) for k in keys}
    for key in keys:
        assert invocation_type["properties"][gen.camel(key)] == function["outputs"]["properties"][gen.camel(key)], key
        assert invocation_type["properties"][gen.camel(key)]["description"] == DESCRIPTIONS[key]
    assert invocation_type["required"] == [r for r in function["outputs"]["required"] if r != "id"]
    assert invocation_type["type"] == "object" and invocation_type["description"]


def test_event_type_follows_the_model(schema, resource):
    event = schema["types"][gen.EVENT_TOKEN]
    assert event["type"] == "object"
    assert set(event["properties"]) == {f.alias for f in InvocationEvent.model_fields.values()}
    assert resource["properties"]["events"]["items"]["$ref"] == f"#/types/{gen.EVENT_TOKEN}"


# --- (4) the function -----------------------------------------------------------------------------


@pytest.mark.parametrize("token, fn", [(s[4], fn) for s in (SINGLE, BATCH) for fn in s[5]],
                         ids=lambda v: getattr(v, "__name__", ""))
def test_function_inputs_match_the_signature(schema, token, fn):
    """The Python function's arguments, less the wait settings (the plugin's functions never wait) and
    Pulumi's ``opts``."""
    params = {n: p for n, p in inspect.signature(fn).parameters.items() if n not in WAIT_INPUTS + ("opts",)}
    inputs = schema["functions"][token]["inputs"]
    assert set(inputs["properties"]) == {gen.camel(n) for n in params}
    assert set(inputs["required"]) == {gen.camel(n) for n, p in params.items() if p.default is inspect.Parameter.empty}
    for name, param in params.items():
        if param.default not in (None, inspect.Parameter.empty):
            assert inputs["properties"][gen.camel(name)]["default"] == param.default, name


def test_function_outputs_are_what_the_function_returns(function):
    result = StatefulAsyncInvocationResult.model_validate(SAMPLE)
    assert set(function["outputs"]["properties"]) == {gen.camel(k) for k in result_outputs(result)} | {"id"}


def test_batch_function_outputs_are_what_the_function_returns(batch_function):
    spec, summary = _batch_sample(include_payloads=True, secret_payloads=False)
    result = _batch_result(spec, summary, 12.5)
    assert set(batch_function["outputs"]["properties"]) == {gen.camel(k) for k in vars(result)}
    assert set(batch_function["outputs"]["properties"]) == {gen.camel(k) for k in BATCH_OUTPUT_KEYS} | {"id"}


# --- outputs conform to the schema: real values, camelCased, checked against the declared types --------


def _conforms(value, spec, schema, where):
    if "$ref" in spec:
        target = schema["types"][spec["$ref"].rsplit("/", 1)[1]]
        if "enum" in target:
            assert value in [v["value"] for v in target["enum"]], where
            return
        spec = target
    assert isinstance(value, JSON_TYPES[spec["type"]]) and not (spec["type"] != "boolean" and isinstance(value, bool)), where
    if spec["type"] == "array":
        for i, item in enumerate(value):
            _conforms(item, spec["items"], schema, f"{where}[{i}]")
    elif spec["type"] == "object" and "additionalProperties" in spec:
        for key, item in value.items():
            assert isinstance(key, str), where
            _conforms(item, spec["additionalProperties"], schema, f"{where}[{key!r}]")
    elif spec["type"] == "object" and "properties" in spec:
        camel_value = {gen.camel(k): v for k, v in value.items()}
        _check_object(camel_value, spec["properties"], spec.get("required", []), schema, where)


def _check_object(values, properties, required, schema, where):
    assert set(values) <= set(properties), where
    for name, spec in properties.items():
        value = values.get(name)
        if value is None:
            assert name not in required, f"{where}.{name} is required but null"
        else:
            _conforms(value, spec, schema, f"{where}.{name}")


@pytest.mark.parametrize("body", [SAMPLE, {"invocationId": "x", "status": "Running"}], ids=["full", "minimal"])
def test_result_outputs_conform_to_function_outputs(schema, function, body):
    values = {gen.camel(k): v for k, v in result_outputs(StatefulAsyncInvocationResult.model_validate(body)).items()}
    values["id"] = "video/transcode/x"
    outputs = function["outputs"]
    _check_object(values, outputs["properties"], outputs["required"], schema, "outputs")


def _batch_sample(**options):
    """A batch of the full and the minimal sample plus one failed member, as the read and the function see it."""
    spec = BatchSpec.build(service_name="video", function_name="transcode", qualifier="prod",
                           invocation_id_prefix="video-", started_after="2020-08-20T00:00:00Z", fail_on_statuses=[],
                           **options)
    members = [StatefulAsyncInvocationResult.model_validate(body) for body in (
        SAMPLE, {"invocationId": "video-2", "status": "Running"},
        {"invocationId": "video-3", "status": "Failed", "startedTime": 1597890502000, "invocationErrorMessage": "E"})]
    return spec, BatchSummary(spec, members)


@pytest.mark.parametrize("options", [{}, {"include_payloads": True, "secret_payloads": False},
                                     {"statuses": ["Failed"], "limit": 1, "expected_count": 3},
                                     {"wait_for_completion": True, "timeout_seconds": 60}],
                         ids=["plain", "payloads", "selected", "gate"])
def test_batch_outputs_conform_to_the_schema(schema, batch_resource, batch_function, options):
    spec, summary = _batch_sample(**options)
    # What the provider's read returns (the resource), and what the function returns.
    read = {**spec.props(), **batch_outputs(summary), "waited_seconds": 3.5}
    values = {gen.camel(k): v for k, v in read.items()}
    _check_object(values, batch_resource["properties"], batch_resource["required"], schema, "batch")
    assert set(values) == set(batch_resource["properties"])
    result = _batch_result(spec, summary, None)
    values = {gen.camel(k): v for k, v in vars(result).items()}
    outputs = batch_function["outputs"]
    _check_object(values, outputs["properties"], outputs["required"], schema, "outputs")
    if options.get("include_payloads"):
        assert values["invocations"][0]["invocation_payload"] is not None


def test_empty_batch_outputs_conform(schema, batch_function):
    spec = BatchSpec.build(service_name="video", function_name="transcode")
    values = {gen.camel(k): v for k, v in vars(_batch_result(spec, BatchSummary(spec, []), None)).items()}
    outputs = batch_function["outputs"]
    _check_object(values, outputs["properties"], outputs["required"], schema, "outputs")


# --- no drift: every name has prose, and the prose has a name -------------------------------------


def test_every_name_has_a_description():
    names = set(StatefulAsyncInvocationResult.model_fields) | set(OUTPUT_KEYS) | set(_ctor_params())
    assert not names - set(DESCRIPTIONS), f"add descriptions to pulumi_fc_invocation/schema.py for {sorted(names - set(DESCRIPTIONS))}"
    assert not set(InvocationEvent.model_fields) - set(gen.EVENT_DESCRIPTIONS)
    assert not {s.value for s in InvocationStatus} - set(gen.STATUS_DESCRIPTIONS)


def test_no_description_is_stale():
    names = set(StatefulAsyncInvocationResult.model_fields) | set(OUTPUT_KEYS) | set(_ctor_params()) | {"id"}
    assert set(DESCRIPTIONS) <= names
    assert set(gen.EVENT_DESCRIPTIONS) <= set(InvocationEvent.model_fields)
    assert set(gen.STATUS_DESCRIPTIONS) <= {s.value for s in InvocationStatus}


def _batch_names() -> set[str]:
    return set(BATCH_OUTPUT_KEYS) | set(_ctor_params(StatefulAsyncInvocations)) | {"id"}


def test_every_batch_name_has_a_description_and_none_is_stale():
    missing = _batch_names() - set(BATCH_DESCRIPTIONS)
    assert not missing, f"add descriptions to BATCH_DESCRIPTIONS in pulumi_fc_invocation/schema.py for {sorted(missing)}"
    assert set(BATCH_DESCRIPTIONS) <= _batch_names()


def test_batch_prose_is_its_own(batch_resource, batch_function):
    """Names the two data sources share but mean differently get the batch's words, not the single one's."""
    for name in ("service_name", "wait_for_completion", "fail_on_statuses", "secret_payloads", "waited_seconds"):
        assert BATCH_DESCRIPTIONS[name] != DESCRIPTIONS[name], name
        assert batch_resource["properties"][gen.camel(name)]["description"] == BATCH_DESCRIPTIONS[name]
    assert batch_function["outputs"]["properties"]["id"]["description"] == BATCH_DESCRIPTIONS["id"]


def test_every_schema_property_is_described(schema):
    def walk(node, where):
        if isinstance(node, dict):
            for key in ("properties", "inputProperties"):
                for name, spec in node.get(key, {}).items():
                    assert spec.get("description", "").strip(), f"{where}/{key}/{name}"
            for key, child in node.items():
                walk(child, f"{where}/{key}")
        elif isinstance(node, list):
            for i, child in enumerate(node):
                walk(child, f"{where}[{i}]")

    walk({k: schema[k] for k in ("resources", "functions", "types")}, "")


def test_schema_names_are_fc_json_names():
    for model in (StatefulAsyncInvocationResult, InvocationEvent):
        for name, field in model.model_fields.items():
            assert field.alias == gen.camel(name), (model.__name__, name)


# --- FC 3.0 -------------------------------------------------------------------------------------

TASK_SAMPLE = {"taskId": "job-1", "functionArn": "acs:fc:cn-hangzhou:1:functions/transcode", "qualifier": "prod",
               "status": "Failed", "taskErrorMessage": "boom", "taskPayload": "{}", "returnPayload": None,
               "alreadyRetriedTimes": 2, "startedTime": 1597890501000, "endTime": 1597890541000,
               "durationMs": 40000, "instanceId": "i-1", "requestId": "req-1",
               "events": [{"eventId": 1, "status": "Enqueued", "timestamp": 1597890500000, "eventDetail": "queued"}]}


def test_fc3_required_inputs_are_the_task_reference(schema):
    ref_required = {gen.camel(n) for n, f in AsyncTaskRef.model_fields.items() if f.is_required()}
    assert set(schema["resources"][gen.TASK_RESOURCE_TOKEN]["requiredInputs"]) == ref_required == \
        {"functionName", "taskId"}
    assert schema["resources"][gen.TASKS_RESOURCE_TOKEN]["requiredInputs"] == ["functionName"]


def test_fc3_secrets_are_the_payloads(schema):
    for props in (schema["resources"][gen.TASK_RESOURCE_TOKEN]["properties"],
                  schema["functions"][gen.TASK_FUNCTION_TOKEN]["outputs"]["properties"],
                  schema["types"][gen.TASK_TOKEN]["properties"]):
        assert {name for name, spec in props.items() if spec.get("secret")} == {"taskPayload", "returnPayload"}


def test_fc3_task_type_and_function_are_what_the_code_returns(schema):
    keys = list(FC3.outputs(AsyncTaskResult.model_validate(TASK_SAMPLE)))
    task_type = schema["types"][gen.TASK_TOKEN]
    assert set(task_type["properties"]) == {gen.camel(k) for k in keys}
    function = schema["functions"][gen.TASK_FUNCTION_TOKEN]
    assert set(function["outputs"]["properties"]) == {gen.camel(k) for k in keys} | {"id"}
    batch = schema["resources"][gen.TASKS_RESOURCE_TOKEN]["properties"]
    assert batch["tasks"]["items"]["$ref"] == f"#/types/{gen.TASK_TOKEN}" and "invocations" not in batch


def test_fc3_outputs_conform_to_their_types(schema):
    values = {gen.camel(k): v for k, v in FC3.outputs(AsyncTaskResult.model_validate(TASK_SAMPLE)).items()}
    props = schema["types"][gen.TASK_TOKEN]["properties"]
    for name, value in values.items():
        spec = props[name]
        if value is None:
            assert name not in schema["types"][gen.TASK_TOKEN]["required"], name
            continue
        assert isinstance(value, JSON_TYPES[spec["type"]]), (name, value, spec)
    spec = BatchSpec.build(kind=FC3, function_name="transcode", task_id_prefix="job-", include_payloads=True,
                           secret_payloads=False)  # plain values: no Output, no event loop needed
    summary = BatchSummary(spec, [AsyncTaskResult.model_validate(TASK_SAMPLE)])
    result = functions_module.batch_result(GetAsyncTasksResult, spec, summary, 3.0)
    batch_props = schema["functions"][gen.TASKS_FUNCTION_TOKEN]["outputs"]["properties"]
    assert {gen.camel(k) for k in vars(result)} == set(batch_props)
    assert vars(result)["id"] == "transcode?prefix=job-"


# --- (6) the provider plugin: its settings, its functions ----------------------------------------


def test_config_variables_are_the_plugin_settings_and_the_provider_takes_them(schema):
    from pulumi_fc_invocation.plugin.provider import config_key
    from pulumi_fc_invocation.gate.clients import CONFIG_KEYS

    variables = schema["config"]["variables"]
    assert set(variables) == {key.split(":", 1)[1] for key in CONFIG_KEYS}
    assert all(config_key(name) is not None for name in variables)
    assert {name for name, spec in variables.items() if spec.get("secret")} == {"secretKey", "securityToken"}
    assert variables["assumeRole"]["$ref"] == "pulumi.json#/Any"
    assert "ALIBABA_CLOUD_REGION" in variables["region"]["description"]
    assert schema["provider"]["inputProperties"] == variables


def test_plugin_functions_have_no_wait_inputs_and_the_sdk_is_named_apart(schema):
    for token in (gen.FUNCTION_TOKEN, gen.BATCH_FUNCTION_TOKEN, gen.TASK_FUNCTION_TOKEN, gen.TASKS_FUNCTION_TOKEN):
        inputs = schema["functions"][token]["inputs"]["properties"]
        assert not {gen.camel(name) for name in WAIT_INPUTS} & set(inputs), token
        assert "failOnStatuses" in inputs
        assert "never waits" in schema["functions"][token]["description"]
    assert schema["language"]["python"]["packageName"] == "pulumi_fc_invocation_sdk"


def test_settings_are_named_as_the_plugin_reads_them():
    """Every setting a description names is the plugin's own (`fc-invocation:<name>`), a real one."""
    text = SCHEMA_PATH.read_text(encoding="utf-8")
    named = set(re.findall(r"`([a-z-]+:[A-Za-z]+)`", text))
    assert named and all(key.startswith("fc-invocation:") for key in named), named
    variables = json.loads(text)["config"]["variables"]
    assert {key.split(":", 1)[1] for key in named} <= set(variables)
