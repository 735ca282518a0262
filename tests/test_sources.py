"""The descriptions of the data sources (pulumi_fc_invocation/sources): each is complete and consistent,
and everything that spells out a data source's inputs or outputs is made from it."""

from __future__ import annotations

import dataclasses
import inspect
import typing

import pytest

from pulumi_fc_invocation import kinds
from pulumi_fc_invocation import schema as gen
from pulumi_fc_invocation.errors import InvalidArgumentError
from pulumi_fc_invocation.fc3 import AsyncTaskResult
from pulumi_fc_invocation.gate.spec import BatchSpec, SingleSpec, parse_batch_id
from pulumi_fc_invocation.kinds import FC2, FC3
from pulumi_fc_invocation.models import DEFAULT_FAIL_ON
from pulumi_fc_invocation.pulumi import functions, resources
from pulumi_fc_invocation.sources import (
    ASYNC_TASK,
    ASYNC_TASKS,
    SOURCES,
    STATEFUL_ASYNC_INVOCATION,
    STATEFUL_ASYNC_INVOCATIONS,
    Field,
    by_name,
)

ALL = pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)


@ALL
def test_every_list_output_states_its_element_type(source):
    """(was test_schema's test_batch_list_items_cover_exactly_the_bare_lists: no output is a bare list)"""
    for field in source.outputs + source.function_outputs:
        if typing.get_origin(field.type) is list or field.type is list:
            assert len(typing.get_args(field.type)) == 1, (source.name, field.name)


@pytest.mark.parametrize("source, name", [(STATEFUL_ASYNC_INVOCATION, "waited_seconds"),
                                          (STATEFUL_ASYNC_INVOCATIONS, "all_succeeded"),
                                          (STATEFUL_ASYNC_INVOCATIONS, "invocation_id_prefix")])
def test_a_field_without_a_doc_stops_the_description(source, name):
    """(was test_schema's test_a_missing_description_stops_the_generator: the prose lives in the descriptions)"""
    def without_doc(fields):
        return tuple(f.but(doc="") if f.name == name else f for f in fields)

    with pytest.raises(ValueError, match=f"{name}.*no doc"):
        dataclasses.replace(source, inputs=without_doc(source.inputs), results=without_doc(source.results),
                            waited=without_doc((source.waited,))[0])


def test_a_bare_list_without_an_element_type_stops_the_generator(monkeypatch):
    batch = STATEFUL_ASYNC_INVOCATIONS
    bare = dataclasses.replace(batch, results=tuple(f.but(type=list) if f.name == "ids" else f for f in batch.results))
    monkeypatch.setattr(gen, "SOURCES", tuple(bare if s is batch else s for s in gen.SOURCES))
    with pytest.raises(TypeError, match="'ids'.*bare list"):
        gen.build_schema()


def test_a_required_input_after_the_names_is_refused():
    with pytest.raises(ValueError, match="required input 'task_id' must be positional"):
        dataclasses.replace(ASYNC_TASK, positional=1)


@pytest.mark.parametrize("kind, single, batch", [(FC2, STATEFUL_ASYNC_INVOCATION, STATEFUL_ASYNC_INVOCATIONS),
                                                 (FC3, ASYNC_TASK, ASYNC_TASKS)], ids=["fc2", "fc3"])
def test_the_kinds_keys_are_the_descriptions(kind, single, batch):
    assert kind.single_source is single and kind.batch_source is batch
    assert kind.output_keys == kind.result_keys + kind.echo_keys
    assert kind.echo_keys == tuple(f.name for f in single.echoes) + ("waited_seconds",)
    assert FC2.echo_keys == tuple(f.name for f in STATEFUL_ASYNC_INVOCATION.echoes) + ("waited_seconds",)
    assert kind.result_keys == tuple(f.name for f in single.results)
    assert set(kind.batch_output_keys) == set(batch.input_names()) | set(kind.batch_result_keys) | {"waited_seconds"}
    assert kind.payload_keys == tuple(f.name for f in single.results if f.secret)
    assert (kind.single_function_token, kind.batch_function_token) == (single.function_token, batch.function_token)
    assert by_name(single.name) is single and by_name(batch.name) is batch


@ALL
def test_the_python_signatures_are_the_descriptions(source):
    cls = getattr(resources, source.name)
    ctor = [n for n in inspect.signature(cls.__init__).parameters if n not in ("self", "resource_name", "opts")]
    assert ctor == list(source.input_names())
    for form in (source.function, source.function + "_output"):
        params = inspect.signature(getattr(functions, form)).parameters
        assert list(params) == [*source.input_names(), "opts"], form
        assert params["opts"].kind is inspect.Parameter.KEYWORD_ONLY and params["opts"].default is None
    assert set(cls.__annotations__) == {f.name for f in source.outputs}
    assert cls._resource_type_name == f"dynamic/fc:{source.name}"


@ALL
def test_the_function_results_are_output_types_with_an_attribute_per_output(source):
    import pulumi

    result = {s.name: r for s, r in ((STATEFUL_ASYNC_INVOCATION, functions.GetStatefulAsyncInvocationResult),
                                     (STATEFUL_ASYNC_INVOCATIONS, functions.GetStatefulAsyncInvocationsResult),
                                     (ASYNC_TASK, functions.GetAsyncTaskResult),
                                     (ASYNC_TASKS, functions.GetAsyncTasksResult))}[source.name]
    with pytest.raises(AssertionError, match="more than once"):  # it is an output type already
        pulumi.output_type(result)
    for field in source.function_outputs:
        assert isinstance(getattr(result, field.name), property), field.name
    value = result(id="x")
    assert value.id == "x" and all(getattr(value, f.name) is None for f in source.function_outputs[1:])
    with pytest.raises(TypeError, match="unexpected"):
        result(id="x", nonsense=1)


def test_the_reference_pages_are_the_descriptions():
    """docs/reference/ is generated: each page matches its description, and no page is left over."""
    from pathlib import Path

    directory = Path(__file__).resolve().parents[1] / "docs" / "reference"
    pages = gen.reference_pages()
    regenerate = "python -m pulumi_fc_invocation.schema --reference docs/reference"
    assert {p.name for p in directory.glob("*.md")} == set(pages), f"regenerate with: {regenerate}"
    for name, text in pages.items():
        assert (directory / name).read_text(encoding="utf-8") == text, f"{name} is out of date: {regenerate}"
    page = pages["async-task.md"]
    assert "| `task_id` | `taskId` | string | required |" in page
    assert "| `task_payload` | `taskPayload` | string | yes | unless `secret_payloads` is false |" in page
    assert "| `timeout_seconds` | `timeoutSeconds` | number | `1800` |" in page


def test_the_type_stubs_are_the_descriptions_and_ship():
    """The classes and functions get their signatures at run time; type checkers read the committed stubs,
    which match the descriptions and go into the wheel."""
    import tomllib
    from pathlib import Path

    from pulumi_fc_invocation.pulumi import stubs

    root = Path(__file__).resolve().parents[1]
    here = root / "pulumi_fc_invocation" / "pulumi"
    for name, text in stubs.stubs().items():
        assert (here / name).read_text(encoding="utf-8") == text, \
            f"{name} is out of date: python -m pulumi_fc_invocation.pulumi.stubs"
    resources_stub = stubs.resources_stub()
    assert "class AsyncTask(DataSourceResource):" in resources_stub and "    task_id: Output[str]" in resources_stub
    assert "        task_id: Input[str],\n" in resources_stub  # required: no default for a checker to accept
    functions_stub = stubs.functions_stub()
    assert "    def task_payload(self) -> Union[Optional[str], Output[Optional[str]]]: ..." in functions_stub
    assert ") -> Output[GetAsyncTasksResult]: ..." in functions_stub
    package_data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "*.pyi" in package_data["pulumi_fc_invocation.pulumi"]


def test_the_blocking_forms_type_hints_resolve():
    """``__annotations__`` follow the signature (tools that read ``typing.get_type_hints`` see the types)."""
    for name in ("get_async_task", "get_async_tasks", "get_stateful_async_invocation", "get_stateful_async_invocations"):
        hints = typing.get_type_hints(getattr(functions, name))
        assert hints["return"].__name__ == f"Get{by_name(name[4:].title().replace('_', '')).name}Result", name
        assert hints["qualifier"] == typing.Optional[str] and hints["opts"] is not typing.Any


# --- a change in a description reaches every front end (review C) ------------------------------------

SPECS = pytest.mark.parametrize("kind, batch", [(FC2, False), (FC2, True), (FC3, False), (FC3, True)],
                                ids=["fc2-single", "fc2-batch", "fc3-single", "fc3-batch"])
NAMES = {"service_name": "video", "function_name": "transcode", "invocation_id": "i-1", "task_id": "t-1"}


def _source(kind, batch):
    return kind.batch_source if batch else kind.single_source


def _build(kind, batch, **args):
    """The spec of the fewest arguments (the required names), with ``args``."""
    required = {f.name: NAMES[f.name] for f in _source(kind, batch).inputs if f.required}
    return (BatchSpec if batch else SingleSpec).build(kind=kind, **required, **args)


@SPECS
def test_a_spec_holds_every_input_of_its_description_with_its_defaults(kind, batch):
    """F1, F2, F3: a spec's props (what a refresh reads back) are its description's inputs, in order, and
    an input not given is the description's default (gate/spec.py wrote its own copy of each)."""
    source = _source(kind, batch)
    props = _build(kind, batch).props()
    assert list(props) == list(source.input_names())
    for name, default in source.defaults.items():
        if default is not None:
            assert props[name] == default, name
    assert props["fail_on_statuses"] == list(DEFAULT_FAIL_ON)


@SPECS
def test_a_default_changed_in_the_description_reaches_the_spec(monkeypatch, kind, batch):
    source = _source(kind, batch)
    changed = dataclasses.replace(source, inputs=tuple(f.but(default=600) if f.name == "timeout_seconds" else f
                                                       for f in source.inputs))
    monkeypatch.setattr(type(kind), "batch_source" if batch else "single_source", changed)
    spec = _build(kind, batch)
    assert spec.policy.timeout == 600 and spec.props()["timeout_seconds"] == 600


def test_a_default_changed_in_the_description_reaches_the_plugin(monkeypatch):
    """F1: the description's default is the signature's, schema's and docs', and the plugin's spec's (it took
    gate/spec.py's own copy, as the plugin leaves out the inputs not given)."""
    from pulumi_fc_invocation.plugin.provider import build_spec
    from pulumi_fc_invocation.pulumi.signatures import resource_signature

    src = kinds.FC3.single_source
    changed = dataclasses.replace(src, inputs=tuple(f.but(default=600) if f.name == "timeout_seconds" else f
                                                    for f in src.inputs))
    monkeypatch.setattr(type(kinds.FC3), "single_source", changed)
    assert resource_signature(changed).parameters["timeout_seconds"].default == 600
    spec = build_spec(kinds.FC3, False, {"function_name": "f", "task_id": "t", "region": "cn-hangzhou",
                                         "account_id": "1"}, frozenset())
    assert spec.policy.timeout == 600


def test_a_single_spec_carries_secret_payloads_and_the_plugin_marks_by_it():
    """F3: SingleSpec has the field (the plugin set it with object.__setattr__ on the frozen dataclass)."""
    from pulumi_fc_invocation.plugin.provider import build_spec, secret_outputs

    assert "secret_payloads" in {f.name for f in dataclasses.fields(SingleSpec)}
    plain = _build(FC3, False, secret_payloads=False)
    assert plain.secret_payloads is False and plain.props()["secret_payloads"] is False
    assert _build(FC3, False).secret_payloads is True
    with pytest.raises(InvalidArgumentError, match="secret_payloads"):
        _build(FC3, False, secret_payloads="no")
    args = {"function_name": "f", "task_id": "t", "region": "cn-hangzhou", "account_id": "1"}
    assert not secret_outputs(build_spec(FC3, False, {**args, "secret_payloads": False}, frozenset()))
    assert secret_outputs(build_spec(FC3, False, args, frozenset())) == set(FC3.payload_keys)


def test_the_item_outputs_are_the_descriptions_result_fields(monkeypatch):
    """F2: a kind's outputs are its description's result fields, each converted by its value's type (a
    status as text, a time as RFC 3339, an event as a map), not a second list of every field."""
    source = FC3.single_source
    extra = Field("succeeded", bool, "Whether the task ended `Succeeded`.")
    monkeypatch.setattr(type(FC3), "single_source", dataclasses.replace(source, results=source.results + (extra,)))
    result = AsyncTaskResult.model_validate({
        "taskId": "t-1", "functionName": "fn", "status": "Succeeded", "startedTime": 1_780_000_000_000,
        "events": [{"eventId": 1, "status": "Enqueued", "timestamp": 1_780_000_000_000}]})
    out = FC3.outputs(result)
    assert list(out) == [f.name for f in source.results] + ["succeeded"]
    assert out["succeeded"] is True and out["status"] == "Succeeded" and out["is_terminal"] is True
    assert out["qualifier"] is None and out["task_payload"] is None
    assert out["started_time"] == "2026-05-28T20:26:40.000Z" and out["end_time"] is None
    assert out["events"] == [{"event_id": 1, "status": "Enqueued", "timestamp": "2026-05-28T20:26:40.000Z",
                              "event_detail": ""}]


@pytest.mark.parametrize("kind", [FC2, FC3], ids=["fc2", "fc3"])
def test_the_batch_ids_filters_are_the_descriptions(monkeypatch, kind):
    """F2: the filters a batch id carries are one tuple on the batch description (format, parse and
    ``get`` each listed them)."""
    source = kind.batch_source
    assert source.id_filters == (kind.prefix_key, "statuses", "started_after", "started_before", "limit")
    head = "video/transcode" if kind is FC2 else "transcode"
    assert parse_batch_id(f"{head}?prefix=p-&limit=3", kind=kind)[kind.prefix_key] == "p-"
    assert _build(kind, True, limit=3).id == f"{head}?limit=3"
    monkeypatch.setattr(type(kind), "batch_source", dataclasses.replace(source, id_filters=source.id_filters[:-1]))
    with pytest.raises(InvalidArgumentError, match="unknown filter 'limit'"):
        parse_batch_id(f"{head}?limit=3", kind=kind)
    assert _build(kind, True, limit=3).id == head


def test_the_cli_wait_defaults_are_the_descriptions(monkeypatch):
    """F2: the CLI's --timeout and --poll-interval defaults are read from the descriptions when a command runs
    (they were a third copy, 30m and 1s); its help states them as text (reading the descriptions there would
    load pydantic for --help), which must be theirs too."""
    import re

    from pulumi_fc_invocation.cli.options import wait_options
    from pulumi_fc_invocation.cli.parsing import parse_duration

    def options():
        command = wait_options("polls")(lambda **kwargs: None)
        return {p.name: p for p in command.__click_params__}

    for name, option in (("timeout_seconds", "timeout_text"), ("poll_interval_seconds", "poll_text")):
        param = options()[option]
        (shown,) = re.findall(r"\[default: (\S+)\]", param.help)
        for source in SOURCES:
            assert parse_duration(param.default()) == parse_duration(shown) == source.defaults[name], source.name
    assert options()["fail_on_text"].default.split(",") == list(DEFAULT_FAIL_ON)
    import pulumi_fc_invocation.sources

    monkeypatch.setattr(pulumi_fc_invocation.sources, "SOURCES", tuple(dataclasses.replace(source, inputs=tuple(
        f.but(default=600) if f.name == "timeout_seconds" else f for f in source.inputs)) for source in SOURCES))
    assert parse_duration(options()["timeout_text"].default()) == 600


def test_the_reference_marks_the_member_lists_secret_with_payloads():
    """F4: `tasks` and `invocations` are secret with `includePayloads` and `secretPayloads`; the page says so
    (its Secret column said "no"), and once in its header that an output echoing a secret input is secret."""
    pages = gen.reference_pages()
    for source in (ASYNC_TASKS, STATEFUL_ASYNC_INVOCATIONS):
        page = pages[gen.reference_name(source)]
        row = next(line for line in page.splitlines() if line.startswith(f"| `{source.items_key}` |"))
        assert row.split(" | ")[4] == "with `includePayloads` and `secretPayloads`", row
        assert "An output that echoes a secret input (one given as a secret) is secret too" in page
    assert "echoes a secret input" in pages[gen.reference_name(ASYNC_TASK)]


def test_no_table_of_one_api_is_left_beside_the_descriptions():
    """F6: the FC 2.0-only tables (prose by name, the wait inputs, the echo keys) are gone: every reader
    takes them from the descriptions of all data sources."""
    for name in ("DESCRIPTIONS", "BATCH_DESCRIPTIONS", "TASK_DESCRIPTIONS", "TASKS_DESCRIPTIONS", "WAIT_INPUTS"):
        assert not hasattr(gen, name), name
    assert not hasattr(kinds, "SINGLE_ECHO_KEYS")


@ALL
def test_the_run_time_annotations_are_the_stubs(source):
    """F8: one renderer of a field's type: the class's run-time annotation of an output is the stub's (they
    were ``Output[list]`` and ``Output[Sequence[Mapping[str, Any]]]``), and a required name has no default in
    the stub (``AsyncTask("m")`` passed a checker and failed at run time)."""
    from pulumi_fc_invocation.pulumi import stubs

    cls = getattr(resources, source.name)
    stub = stubs.resources_stub()
    for field in source.outputs:
        assert f"    {field.name}: {cls.__annotations__[field.name]}\n" in stub, field.name
    for field in source.inputs[:source.positional]:
        assert (f"        {field.name}: Input[str],\n" in stub) is field.required, field.name
