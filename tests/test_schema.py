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
from pulumi_fc_invocation.models import (
    InvocationEvent,
    InvocationRef,
    InvocationStatus,
    StatefulAsyncInvocationResult,
)
from pulumi_fc_invocation.provider import result_outputs
from pulumi_fc_invocation.resource import (
    OUTPUT_KEYS,
    PAYLOAD_OUTPUTS,
    StatefulAsyncInvocation,
    get_stateful_async_invocation,
    get_stateful_async_invocation_output,
)
from pulumi_fc_invocation.waiter import DEFAULT_FAIL_ON

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


def _ctor_params() -> dict[str, inspect.Parameter]:
    return {n: p for n, p in inspect.signature(StatefulAsyncInvocation.__init__).parameters.items() if n not in CTOR_SKIP}


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
    jsonschema = pytest.importorskip("jsonschema")
    from jsonschema.validators import extend, validator_for

    if not METASCHEMA_PATH.is_file():
        pytest.skip(f"Pulumi metaschema not found at {METASCHEMA_PATH}")
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


@pytest.mark.parametrize("breakage", ["version", "token", "type", "secret"])
def test_metaschema_validation_catches_broken_schemas(schema, metaschema_validator, breakage):
    broken = json.loads(json.dumps(schema))
    props = broken["resources"][gen.RESOURCE_TOKEN]["properties"]
    if breakage == "version":
        broken["version"] = "one"
    elif breakage == "token":
        broken["resources"]["no-colons"] = broken["resources"].pop(gen.RESOURCE_TOKEN)
    elif breakage == "type":
        props["status"]["type"] = "str"
    else:
        props["returnPayload"]["secret"] = "yes"
    assert list(metaschema_validator.iter_errors(broken))


def test_every_reference_resolves(schema):
    refs = re.findall(r'"\$ref": "#/types/([^"]+)"', json.dumps(schema))
    assert refs and set(refs) <= set(schema["types"])


# --- (3) the resource: every input and output, secrets, defaults ----------------------------------


def test_package_metadata(schema):
    from pulumi_fc_invocation import __version__

    assert schema["name"] == "fc-invocation"
    assert schema["version"] == __version__
    assert schema["license"] == "Apache-2.0"
    assert schema["displayName"] and schema["description"] and schema["keywords"]


def test_every_constructor_argument_is_an_input(resource):
    assert set(resource["inputProperties"]) == {gen.camel(n) for n in _ctor_params()}


def test_every_output_is_a_property(resource):
    assert set(resource["properties"]) == {gen.camel(k) for k in OUTPUT_KEYS}


def test_required_inputs_are_the_invocation_reference(resource):
    ref_required = {gen.camel(n) for n, f in InvocationRef.model_fields.items() if f.is_required()}
    fn_required = {gen.camel(n) for n, p in inspect.signature(get_stateful_async_invocation).parameters.items()
                   if p.default is inspect.Parameter.empty}
    assert set(resource["requiredInputs"]) == ref_required == fn_required


def test_input_defaults_and_plainness_follow_the_constructor(resource):
    for name, param in _ctor_params().items():
        spec = resource["inputProperties"][gen.camel(name)]
        if param.default is None:
            assert "default" not in spec, name
        else:
            assert spec["default"] == param.default and type(spec["default"]) is type(param.default), name
        assert spec.get("plain", False) == ("Input[" not in str(param.annotation)), name
    assert resource["inputProperties"]["secretPayloads"]["plain"] is True


def test_secret_flags(resource, function):
    for props in (resource["properties"], function["outputs"]["properties"]):
        secret = {name for name, spec in props.items() if spec.get("secret")}
        assert secret == {gen.camel(k) for k in PAYLOAD_OUTPUTS} == {"invocationPayload", "returnPayload"}
    assert not any(spec.get("secret") for spec in resource["inputProperties"].values())


def test_output_types_and_nullability_follow_the_declared_outputs(resource):
    import typing

    from pulumi_fc_invocation import resource as module

    simple = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array"}
    for key in OUTPUT_KEYS:
        hint = eval(StatefulAsyncInvocation.__annotations__[key], vars(module))  # noqa: S307 - our own annotations
        (inner,) = typing.get_args(hint)
        args = typing.get_args(inner)
        nullable = type(None) in args
        inner = next(a for a in args if a is not type(None)) if nullable else inner
        spec = resource["properties"][gen.camel(key)]
        assert spec["type"] == simple[inner], key
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


def test_event_type_follows_the_model(schema, resource):
    event = schema["types"][gen.EVENT_TOKEN]
    assert event["type"] == "object"
    assert set(event["properties"]) == {f.alias for f in InvocationEvent.model_fields.values()}
    assert resource["properties"]["events"]["items"]["$ref"] == f"#/types/{gen.EVENT_TOKEN}"


# --- (4) the function -----------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [get_stateful_async_invocation, get_stateful_async_invocation_output])
def test_function_inputs_match_the_signature(function, fn):
    params = inspect.signature(fn).parameters
    inputs = function["inputs"]
    assert set(inputs["properties"]) == {gen.camel(n) for n in params}
    assert set(inputs["required"]) == {gen.camel(n) for n, p in params.items() if p.default is inspect.Parameter.empty}
    for name, param in params.items():
        if param.default not in (None, inspect.Parameter.empty):
            assert inputs["properties"][gen.camel(name)]["default"] == param.default, name


def test_function_outputs_are_what_the_function_returns(function):
    result = StatefulAsyncInvocationResult.model_validate(SAMPLE)
    assert set(function["outputs"]["properties"]) == {gen.camel(k) for k in result_outputs(result)} | {"id"}


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


# --- no drift: every name has prose, and the prose has a name -------------------------------------


def test_every_name_has_a_description():
    names = set(StatefulAsyncInvocationResult.model_fields) | set(OUTPUT_KEYS) | set(_ctor_params())
    assert not names - set(gen.DESCRIPTIONS), f"add descriptions to pulumi_fc_invocation/schema.py for {sorted(names - set(gen.DESCRIPTIONS))}"
    assert not set(InvocationEvent.model_fields) - set(gen.EVENT_DESCRIPTIONS)
    assert not {s.value for s in InvocationStatus} - set(gen.STATUS_DESCRIPTIONS)


def test_no_description_is_stale():
    names = set(StatefulAsyncInvocationResult.model_fields) | set(OUTPUT_KEYS) | set(_ctor_params()) | {"id"}
    assert set(gen.DESCRIPTIONS) <= names
    assert set(gen.EVENT_DESCRIPTIONS) <= set(InvocationEvent.model_fields)
    assert set(gen.STATUS_DESCRIPTIONS) <= {s.value for s in InvocationStatus}


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


def test_a_missing_description_stops_the_generator(monkeypatch):
    monkeypatch.delitem(gen.DESCRIPTIONS, "waited_seconds")
    with pytest.raises(KeyError, match="waited_seconds"):
        gen.build_schema()
