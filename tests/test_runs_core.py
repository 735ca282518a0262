"""The runs' core (gate/start.py) against the emulator on a virtual clock: the run sequence, the derived id,
the idempotent start (409: adopt or the next id), the diff's decisions and the recorded outputs, for both APIs."""

from __future__ import annotations

import hashlib

import pytest

from pulumi_fc_invocation.errors import InvalidArgumentError
from pulumi_fc_invocation.fc3 import validate_task_id
from pulumi_fc_invocation.gate.start import (
    MAX_TRIES,
    RunStartError,
    build_run_spec,
    derived_id,
    diff,
    ended_badly,
    given_id_rule,
    needs_read,
    next_sequence,
    replacement_sequence,
    replacing,
    run_outputs,
    secret_outputs,
    start,
    stop_if_running,
)
from pulumi_fc_invocation.sources import ASYNC_TASK_RUN, RUNS, STATEFUL_ASYNC_INVOCATION_RUN
from pulumi_fc_invocation.sources.async_task_run import RUN_DECISIONS

pytestmark = pytest.mark.usefixtures("fresh")

URN = "urn:pulumi:dev::proj::fc-invocation:index:AsyncTaskRun::migrate"


@pytest.fixture(params=RUNS, ids=lambda run: run.api)
def run(request):
    return request.param


def names(run, function):
    function = f"{function}-{run.api}"  # one emulator for both APIs: a function of each
    return {"service_name": "svc", "function_name": function} if run.api == "fc2" else {"function_name": function}


def add(fc, run, function, **script):
    fc.add_function("svc" if run.api == "fc2" else None, f"{function}-{run.api}", queue_delay=0, **script)


def invokes(fc):
    return fc.request_count("invoke")


def spec_of(run, function, payload="{}", sequence=0, **more):
    args = {**names(run, function), "payload": payload, "run_sequence": None if more.get("task_id") else sequence,
            **more}  # as a check gives it: no sequence with a given id
    return build_run_spec(run, args, frozenset({"payload"}), resource=URN)


def held(fc, run, function, item_id):
    return fc.backend.invocation("svc" if run.api == "fc2" else None, f"{function}-{run.api}", item_id)


# --- the sequence and the id --------------------------------------------------------------------


def test_the_sequence_starts_at_zero_and_moves_only_on_a_run_defining_change(run):
    base = {**names(run, "fn"), "payload": "a", "triggers": {"v": "1"}, "timeout_seconds": 60}
    assert next_sequence(run, None, base) == 0
    olds = {**base, "run_sequence": 3}
    assert next_sequence(run, olds, dict(base)) == 3
    assert next_sequence(run, olds, {**base, "timeout_seconds": 5, "fail_on_statuses": []}) == 3  # gate inputs
    assert next_sequence(run, olds, {**base, "stop_on_timeout": True, "wait_for_completion": False}) == 3
    for change in ({"payload": "b"}, {"triggers": {"v": "2"}}, {"function_name": "other"}, {"qualifier": "prod"}):
        assert next_sequence(run, olds, {**base, **change}) == 4, change
    assert next_sequence(run, olds, {**base, "task_id": "given-1"}) is None  # a given id has no sequence
    assert next_sequence(run, {**olds, "payload": None}, {**base, "payload": None}) == 3  # none is empty
    assert next_sequence(run, {key: value for key, value in olds.items() if key != "triggers"}, base) == 4
    imported = {**olds, "triggers": None}  # an import records null triggers: FC keeps none
    assert next_sequence(run, imported, base) == 3 and next_sequence(run, imported, {**base, "payload": "b"}) == 4


def test_the_check_of_a_replacement_without_olds_takes_the_sequence_its_diff_left_once(run):
    """The engine checks a replacement again without old inputs: the diff's sequence bridges it."""
    news = {**names(run, "fn"), "payload": "b"}
    assert next_sequence(run, None, news, URN) == 0
    replacing(URN, 4)
    assert next_sequence(run, None, news, URN + "-other") == 0
    assert next_sequence(run, None, news, URN) == 4
    assert next_sequence(run, None, news, URN) == 0  # taken once


def test_a_derived_id_is_stable_within_fc_rules_and_holds_no_payload_digest(run):
    target = names(run, "fn")
    first = derived_id(run, URN, target, 0)
    assert first == derived_id(run, URN, target, 0) and first.startswith("migrate-") and first.endswith("-0")
    validate_task_id(first)
    assert len(derived_id(run, URN + "x" * 300, target, 12345)) <= 128
    assert derived_id(run, URN, target, 1) != first
    assert derived_id(run, URN.replace("migrate", "other"), target, 0) != first
    assert derived_id(run, URN, names(run, "fn2"), 0) != first
    assert derived_id(run, URN, {**target, "qualifier": "prod"}, 0) != first
    # the payload takes no part: two payloads, one id, and neither's digest in it
    one, two = spec_of(run, "fn", payload="secret-a"), spec_of(run, "fn", payload="secret-b")
    assert one.gate.ref == two.gate.ref and one.id_at(0) == first
    for payload in ("secret-a", "secret-b"):
        digest = hashlib.sha256(payload.encode()).hexdigest()
        assert digest[:8] not in first and payload not in first
    validate_task_id(derived_id(run, "urn:pulumi:dev::proj::t::9lives", target, 0))  # starts with a letter


def test_bad_input_is_refused_before_any_request(fc, run):
    for args, argument in (({"payload": 3}, "payload"), ({"triggers": {"a": {"b": 1}}}, "triggers"),
                           ({"task_id": "bad id!"}, "task_id"), ({"stop_on_delete": "yes"}, "stop_on_delete"),
                           ({"run_sequence": -1}, "run_sequence"), ({"fail_on_statuses": ["Running"]}, "fail_on_statuses")):
        with pytest.raises(InvalidArgumentError) as caught:
            build_run_spec(run, {**names(run, "fn"), **args}, resource=URN)
        assert caught.value.argument == argument, args
    assert fc.request_count() == 0


# --- the start ----------------------------------------------------------------------------------


def test_one_start_one_item_and_a_second_start_adopts_it_running_then_succeeded(fc, run):
    add(fc, run, "job", outcome="Succeeded", duration=30)
    spec = spec_of(run, "job", payload='{"n": 1}')
    first = start(fc.client(), spec)
    assert first.adopted is None and first.sequence == 0 and first.item_id == spec.id_at(0)
    assert invokes(fc) == 1
    again = start(fc.client(), spec)  # a retried up: FC answers 409, the item is read, not started again
    assert again.item_id == first.item_id and again.adopted.status.value == "Running"
    assert invokes(fc) == 2 and len([i for i in fc.backend.all_invocations() if i.function_name == "job-" + run.api]) == 1
    fc.advance(40)
    done = start(fc.client(), spec)
    assert done.item_id == first.item_id and done.adopted.status.value == "Succeeded" and done.verb.startswith("adopted")
    assert held(fc, run, "job", first.item_id).payload == '{"n": 1}'


def test_a_failed_item_is_retried_under_the_next_id(fc, run):
    add(fc, run, "flaky", outcome="Succeeded", duration=1)
    failing = '{"fcEmulator": {"outcome": "Failed"}}'
    spec = spec_of(run, "flaky", payload=failing)
    first = start(fc.client(), spec)
    fc.advance(5)
    assert held(fc, run, "flaky", first.item_id).state(fc.clock.now()).status == "Failed"
    second = start(fc.client(), spec)  # the run's first retry: -0-1, never a later run's id
    assert second.adopted is None and second.sequence == 0 and second.item_id == spec.id_at(0, 1)
    assert second.item_id.endswith("-0-1") and invokes(fc) == 3  # the start, the refused one, the retry
    fc.advance(5)
    third = start(fc.client(), spec)
    assert third.item_id == spec.id_at(0, 2) and invokes(fc) == 6


def test_a_replacement_runs_after_every_id_the_recorded_run_took(fc, run):
    """A run retried under -0-1 (or walked past other payloads to -2) is replaced by run 1 (or 3), whose id
    no earlier start took: a trigger change after a retry starts a task instead of adopting the retry's."""
    add(fc, run, "after", outcome="Succeeded", duration=0)
    spec = spec_of(run, "after", payload="same")
    olds = {**names(run, "after"), run.id_key: spec.id_at(0, 1), "run_sequence": 0}
    assert replacement_sequence(run, URN, olds, {"run_sequence": 1}) == 1
    assert replacement_sequence(run, URN, {**olds, run.id_key: spec.id_at(2)}, {"run_sequence": 1}) == 3
    assert replacement_sequence(run, URN, {**olds, run.id_key: spec.id_at(0)}, {"run_sequence": 0}) == 1
    assert replacement_sequence(run, URN, {**olds, run.id_key: "given", "run_sequence": None},
                                {"run_sequence": 0}) == 0
    assert replacement_sequence(run, URN, olds, {"run_sequence": 1, "task_id": "mine"}) is None
    start(fc.client(), spec)  # -0
    fc.advance(1)
    replaced = start(fc.client(), spec_of(run, "after", payload="same", sequence=1))
    assert replaced.adopted is None and replaced.item_id == spec.id_at(1)


def test_another_payload_under_a_derived_id_walks_on_and_one_under_a_given_id_is_a_clear_error(fc, run):
    add(fc, run, "pay", outcome="Succeeded", duration=1)
    start(fc.client(), spec_of(run, "pay", payload="old"))
    walked = start(fc.client(), spec_of(run, "pay", payload="new"))  # e.g. destroy, then up with another payload
    assert walked.sequence == 1 and walked.adopted is None
    given = {"task_id": "mine-1"}
    start(fc.client(), spec_of(run, "pay", payload="old", **given))
    with pytest.raises(RunStartError) as caught:
        start(fc.client(), spec_of(run, "pay", payload="new", **given))
    text = str(caught.value)
    assert "task_id" in text and "mine-1" in text and "another payload" in text and "new" not in text.split("'")[0]
    fc.advance(5)
    failing = '{"fcEmulator": {"outcome": "Failed"}}'
    start(fc.client(), spec_of(run, "pay", payload=failing, **{"task_id": "mine-2"}))
    fc.advance(5)
    with pytest.raises(RunStartError, match="ended Failed; give a new"):
        start(fc.client(), spec_of(run, "pay", payload=failing, **{"task_id": "mine-2"}))


def test_the_walk_is_bounded(fc, run):
    add(fc, run, "doomed", outcome="Failed", duration=0)
    spec = spec_of(run, "doomed", payload="x")
    for n in range(MAX_TRIES):
        fc.add_invocation("svc" if run.api == "fc2" else None, "doomed-" + run.api, spec.id_at(0, n), payload="x", outcome="Failed",
                          duration=0, queue_delay=0)
    fc.advance(1)
    with pytest.raises(RunStartError, match=f"the {MAX_TRIES} ids of its sequence"):
        start(fc.client(), spec)
    assert invokes(fc) == MAX_TRIES


def test_stop_if_running_stops_only_an_item_that_has_not_ended(fc, run):
    add(fc, run, "long", outcome="Succeeded", duration=100)
    started = start(fc.client(), spec_of(run, "long"))
    assert stop_if_running(fc.client(), started.spec) is True
    fc.advance(5)
    assert held(fc, run, "long", started.item_id).state(fc.clock.now()).status == "Stopped"
    assert stop_if_running(fc.client(), started.spec) is False
    assert fc.request_count("stop") == 1


# --- the diff and the outputs ---------------------------------------------------------------------


def test_the_diff_replaces_on_a_new_sequence_and_updates_on_gate_inputs_alone(fc, run):
    add(fc, run, "d", outcome="Succeeded", duration=0)
    spec = spec_of(run, "d", payload="p", triggers={"v": "1"})
    started = start(fc.client(), spec)
    fc.advance(1)
    result = spec.kind.read(fc.client(), started.spec.ref)
    olds = run_outputs(spec, started.spec, result, 1.0)
    assert list(olds) == [f.name for f in run.outputs] and olds[run.id_key] == started.item_id
    assert olds["run_sequence"] == 0 and olds["payload"] == "p" and olds["status"] == "Succeeded"
    news = {**spec.props()}
    assert diff(run, olds, news).changed == ()
    gate_only = diff(run, olds, {**news, "timeout_seconds": 5, "stop_on_delete": True})
    assert set(gate_only.changed) == {"timeout_seconds", "stop_on_delete"} and gate_only.replaces == ()
    replaced = diff(run, olds, {**news, "payload": "q", "run_sequence": 1})
    assert set(replaced.replaces) == {"payload", "run_sequence"}
    assert diff(run, olds, {**news, "task_id": "given"}).replaces == ("task_id",)
    assert not needs_read(olds) and needs_read({**olds, "status": "Running", "is_terminal": False})
    refreshed_failed = {**olds, "status": "Failed", "is_terminal": True}  # a refresh recorded the end: no read
    assert diff(run, refreshed_failed, news).replaces == ("status",)
    assert ended_badly("Failed") and ended_badly("Expired") and not ended_badly("Succeeded")
    assert {"payload", "return_payload"} <= secret_outputs(spec)
    assert not secret_outputs(spec_of(run, "d", secret_payloads=False)) & {"return_payload"}


def test_the_descriptions_hold_the_issues_names():
    assert ASYNC_TASK_RUN.token == "fc-invocation:index:AsyncTaskRun"
    assert STATEFUL_ASYNC_INVOCATION_RUN.token == "fc-invocation:index:StatefulAsyncInvocationRun"
    for run in RUNS:
        inputs = set(run.input_names())
        assert {"function_name", "qualifier", "payload", "triggers", "wait_for_completion", "timeout_seconds",
                "fail_on_statuses", "max_poll_interval_seconds", "stop_on_timeout", "stop_on_delete"} <= inputs
        assert run.defaults["wait_for_completion"] is True and run.defaults["stop_on_timeout"] is False
        assert run.defaults["stop_on_delete"] is False and run.fields["payload"].secret
    assert "service_name" in STATEFUL_ASYNC_INVOCATION_RUN.replacing
    for run in RUNS:  # issue 28: "Inputs: ... task_id (optional) ... Outputs: the gate's outputs and the task_id used"
        assert "task_id" in run.input_names() and "task_id" in run.replacing
        assert {"task_id", run.gates.id_key} <= {f.name for f in run.outputs}
    assert "invocation_id" not in STATEFUL_ASYNC_INVOCATION_RUN.input_names()


def test_a_check_with_olds_leaves_a_replacement_the_next_sequence(run):
    """The engine may replace a run its diff updates (replaceOnChanges, replaceWith, a provider change): the
    check of that replacement, without olds, takes a sequence after the recorded one, not 0."""
    base = {**names(run, "fn"), "payload": "a", "triggers": {"v": "1"}}
    olds = {**base, "run_sequence": 2}
    assert next_sequence(run, olds, {**base, "timeout_seconds": 5}, URN) == 2  # an update to the diff
    assert next_sequence(run, None, base, URN) == 3  # the engine's replacement runs anew
    assert next_sequence(run, olds, {**base, "triggers": {"v": "2"}}, URN) == 3
    assert next_sequence(run, None, base, URN) == 0  # another resource's inputs (a leftover): not its hand-off
    next_sequence(run, olds, {**base, "triggers": {"v": "2"}}, URN)
    assert next_sequence(run, None, {**base, "triggers": {"v": "2"}}, URN) == 3
    recorded = {**names(run, "fn"), run.id_key: derived_id(run, URN, names(run, "fn"), 2), "run_sequence": 2}
    assert replacement_sequence(run, URN, recorded, {"run_sequence": 2}) == 3  # the diff refines it always


def test_the_descriptions_name_every_ram_action_a_run_may_call():
    """A 409 reads the payload of the item that holds the id: FC 3.0's GetAsyncTask may not carry it, so the
    run lists (kinds.held_payload); each run's doc (the schema, the reference page) names the list action."""
    for run, actions in ((ASYNC_TASK_RUN, ("InvokeFunction", "GetAsyncTask", "ListAsyncTasks", "StopAsyncTask")),
                         (STATEFUL_ASYNC_INVOCATION_RUN, ("InvokeFunction", "GetStatefulAsyncInvocation",
                                                          "ListStatefulAsyncInvocations",
                                                          "StopStatefulAsyncInvocation"))):
        for action in actions:
            assert f"`{action}`" in run.doc, (run.name, action)


def test_a_given_id_runs_once(run):
    base = {**names(run, "fn"), "payload": "a", "task_id": "nightly-7", "triggers": {"v": "1"}}
    given_id_rule(run, base, {**base, "timeout_seconds": 5})  # a gate input: fine
    given_id_rule(run, base, {**base, "task_id": "nightly-8", "payload": "b"})  # a new id: a new run
    given_id_rule(run, {**base, "task_id": None}, {**base, "payload": "b"})  # derived before: fine
    for change in ({"payload": "b"}, {"triggers": {"v": "2"}}, {"qualifier": "prod"}):
        with pytest.raises(InvalidArgumentError, match="a given task_id runs once: give a new task_id") as caught:
            given_id_rule(run, base, {**base, **change})
        assert caught.value.argument == next(iter(change)) and "'b'" not in str(caught.value)


def test_a_recorded_id_with_its_sequence_reads_as_derived_not_given(run):
    """A front end may rebuild a spec from recorded outputs, which hold the id used (FC 2.0: as task_id too)
    beside run_sequence: that id is the derived one, not a given id (a check gives a given id no sequence)."""
    recorded = {**names(run, "fn"), "payload": "p", "task_id": derived_id(run, URN, names(run, "fn"), 2, 1),
                "run_sequence": 2}
    spec = build_run_spec(run, recorded, resource=URN)
    assert spec.given_id is None and spec.sequence == 2 and spec.props()["task_id"] is None
    given = build_run_spec(run, {**recorded, "run_sequence": None}, resource=URN)
    assert given.given_id == recorded["task_id"] and given.sequence is None


def test_an_end_the_runs_gate_accepts_is_done_never_retried(fc, run):
    """A user who accepts Failed (``fail_on_statuses`` leaves it out): the failed run is done: the diff of a
    record of it replaces nothing, and a start that finds it under its id adopts it (no second task)."""
    add(fc, run, "ok", outcome="Succeeded", duration=1)
    failing = '{"fcEmulator": {"outcome": "Failed"}}'
    spec = spec_of(run, "ok", payload=failing, fail_on_statuses=["Stopped"])
    first = start(fc.client(), spec)
    fc.advance(5)
    again = start(fc.client(), spec)  # a retried up: the task ended Failed, which its gate accepts
    assert again.item_id == first.item_id and again.adopted.status.value == "Failed" and invokes(fc) == 2
    olds = run_outputs(spec, first.spec, spec.kind.read(fc.client(), first.spec.ref), 5.0)
    assert olds["status"] == "Failed" and olds["fail_on_statuses"] == ["Stopped"]
    assert diff(run, olds, spec.props()).replaces == ()
    assert diff(run, {**olds, "fail_on_statuses": None}, spec.props()).replaces == ("status",)  # the default
    assert not ended_badly("Failed", ["Stopped"]) and ended_badly("Stopped", ["Stopped"])
    assert not ended_badly("Succeeded", ["Succeeded"])  # a success is never run again


def test_a_create_that_restarts_the_sequence_starts_from_the_newest_held_run_so_a_trigger_change_runs(fc, run):
    """destroy (or --replace): the create's check has no olds, so the sequence restarts at 0. The start reads
    ahead (GETs, no invoke) and adopts the newest held run's task (-1), so the next trigger change is run 2,
    a new task, not run 1 whose Succeeded task an earlier deployment left."""
    add(fc, run, "seq", outcome="Succeeded", duration=1)
    assert start(fc.client(), spec_of(run, "seq", payload="p", triggers={"v": "1"})).item_id.endswith("-0")
    fc.advance(2)
    assert start(fc.client(), spec_of(run, "seq", payload="p", sequence=1, triggers={"v": "2"})).item_id.endswith("-1")
    fc.advance(2)
    fc.reset_requests()
    again = spec_of(run, "seq", payload="p", triggers={"v": "2"})  # destroy, then up: sequence 0
    adopted = start(fc.client(), again)
    assert adopted.item_id == again.id_at(1) and adopted.adopted.status.value == "Succeeded"
    assert invokes(fc) == 1  # one start, refused (409): the walk only read
    olds = run_outputs(again, adopted.spec, adopted.adopted, 0.0)
    news = {**again.props(), "triggers": {"v": "3"}, "run_sequence": next_sequence(run, again.props(),
                                                                                     {**again.props(), "triggers": {"v": "3"}})}
    sequence = replacement_sequence(run, URN, olds, news)
    assert sequence == 2
    fresh = start(fc.client(), spec_of(run, "seq", payload="p", sequence=sequence, triggers={"v": "3"}))
    assert fresh.adopted is None and fresh.item_id == again.id_at(2)
    add(fc, run, "new", outcome="Succeeded", duration=1)
    fc.reset_requests()
    first = start(fc.client(), spec_of(run, "new", payload="p"))
    assert first.adopted is None and fc.request_count() == 2  # a first-ever create: one GET more, one invoke


def test_the_descriptions_say_what_import_pending_creates_does_as_docs_runs_does():
    """Pulumi 3.274 drops a pending create without a Read: the description must not say the run reads it."""
    text = " ".join(RUN_DECISIONS.split())
    assert "--import-pending-creates` records nothing" in text and "`pulumi import` reads the" in text
    assert "--import-pending-creates`) reads" not in text
