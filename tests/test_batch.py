"""The list data source ``StatefulAsyncInvocations`` end to end: program in-process under mocks, provider in a
real host process, the emulator over real HTTP, virtual time for every wait."""

import asyncio
import os
import re
from pathlib import Path

import grpc
import pulumi
import pytest

from pulumi_fc_invocation.pulumi.resources import StatefulAsyncInvocations
from pulumi_fc_invocation.pulumi.functions import (
    get_stateful_async_invocations,
    get_stateful_async_invocations_output,
)
from pulumi_fc_invocation.gate.spec import BatchSpec, parse_batch_id
from pulumi_fc_invocation.errors import InvalidArgumentError
from pulumi_fc_invocation.testing.harness import ProgramError, run_program_file
from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock
from pulumi_fc_invocation.waiter import DEFAULT_MAX_POLL_INTERVAL, use_clock
from _emulated import CLEAN_ENV, KEY_ID, SECRET, SECRET_KEYS, TOKEN

TYPE = "pulumi-python:dynamic/fc:StatefulAsyncInvocations"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "gate-on-batch" / "__main__.py"


# One poll interval at the cap, with its jitter: the most a gate may lag behind the batch.
CAP = DEFAULT_MAX_POLL_INTERVAL * 1.2 + 1


class Timeline:
    """The emulator's clock as AutoAdvanceClock moves it: runs scheduled actions once virtual time reaches
    them (tasks enqueued while a gate waits), and notes the list calls made so far at every jump. With one
    wait running, time jumps only while it sleeps, so the differences are the list calls of each poll."""

    def __init__(self, fc):
        self.fc = fc
        self.actions = []
        self.list_calls = []

    def at(self, when, action):
        self.actions.append((when, action))

    def now(self):
        return self.fc.clock.now()

    def set(self, when):
        self.list_calls.append(self.fc.request_count("list"))
        self.fc.clock.set(when)
        due = [a for a in self.actions if a[0] <= when]
        self.actions = [a for a in self.actions if a[0] > when]
        for _, action in sorted(due, key=lambda a: a[0]):
            action()

    def per_poll(self, start, end):
        marks = [start] + self.list_calls + [end]
        return [b - a for a, b in zip(marks, marks[1:])]


def _dependent(name, batch):
    return pulumi.CustomResource("test:index:App", name, {"release": "v2"},
                                 opts=pulumi.ResourceOptions(depends_on=[batch]))


def _seed(fc, service, function, prefix, count, *, finish=lambda i: 10 + i, start=None, fail=(), error="boom"):
    """``count`` tasks: enqueued, running after 1 s, ended at ``finish(i)`` s after their start."""
    now = fc.clock.now()
    for i in range(count):
        end = finish(i)
        status = "Failed" if i in fail else "Succeeded"
        fc.add_invocation(service, function, f"{prefix}{i:04d}", payload=f'{{"part": {i}}}',
                          error_message=error if i in fail else None,
                          started_at=now if start is None else start(i),
                          timeline=[("Enqueued", 0), ("Running", min(1, end)), (status, end)])


PROGRESS = re.compile(r"batch \S+ prefix \S+: \d+/\d+ succeeded(, \d+ [a-z ]+)*, \d+ failed(, \d+ \w+)*, "
                      r"(\d+m)?\d+s elapsed")


def test_gate_on_300_tasks_finishing_at_staggered_times(fc, run):
    _seed(fc, "video", "transcode", "v300-", 300, finish=lambda i: 10 + 2 * i)  # the last ends at +608 s
    start = fc.clock.now()
    fc.reset_requests()

    def program():
        batch = StatefulAsyncInvocations("batch", "video", "transcode", invocation_id_prefix="v300-",
                                         wait_for_completion=True, expected_count=300, timeout_seconds=3600)
        _dependent("app", batch)
        pulumi.export("total", batch.total)
        pulumi.export("counts", batch.counts)
        pulumi.export("allSucceeded", batch.all_succeeded)

    result = run(program)
    rec = result.resource("batch")
    out = rec.outputs
    assert rec.type == TYPE and rec.id == "video/transcode?prefix=v300-"
    assert result.outputs["total"] == 300 and result.outputs["allSucceeded"] is True
    assert result.outputs["counts"]["Succeeded"] == 300 and result.outputs["counts"]["Running"] == 0
    assert out["all_terminal"] is True and len(out["ids"]) == 300 and out["ids"][0] == "video/transcode/v300-0000"
    assert 608 <= out["waited_seconds"] <= 608 + CAP and fc.clock.now() - start <= 608 + CAP
    assert result.resource("app")
    assert fc.request_count("get") == 0  # lists only, never one call per task
    progress = [log for log in result.logs if log.message.startswith("batch video/transcode prefix v300-:")
                and "elapsed" in log.message]
    assert 10 <= len(progress) <= 25 and all(PROGRESS.fullmatch(log.message) for log in progress), progress
    assert all(log.urn == rec.urn for log in progress)
    assert any(re.search(r": \d+/300 succeeded, \d+ running, 0 failed, \d+m\d\ds elapsed", log.message)
               for log in progress)
    assert any(log.message.startswith("batch video/transcode prefix v300-: 300/300 succeeded, 0 failed after")
               for log in result.logs)


def test_expected_count_holds_the_gate_while_the_batch_is_still_being_enqueued(fc, run):
    _seed(fc, "video", "enqueue", "late-", 200, finish=lambda i: 20 + i % 40)  # all 200 ended by +59 s
    start = fc.clock.now()
    timeline = Timeline(fc)

    def enqueue_the_rest():  # runs when virtual time first passes +300 s; the tasks are accepted at +300 s
        for i in range(200, 300):
            fc.add_invocation("video", "enqueue", f"late-{i:04d}", started_at=start + 300,
                              timeline=[("Enqueued", 0), ("Running", 5), ("Succeeded", 60 + i % 30)])

    timeline.at(start + 300, enqueue_the_rest)  # the last 100 arrive 5 minutes in, and take up to 89 s

    def program():
        batch = StatefulAsyncInvocations("batch", "video", "enqueue", invocation_id_prefix="late-",
                                         wait_for_completion=True, expected_count=300)
        _dependent("app", batch)

    result = run(program, timeline=timeline)
    out = result.resource("batch").outputs
    assert out["total"] == 300 and out["counts"]["Succeeded"] == 300 and out["all_succeeded"] is True
    assert 300 + 89 <= out["waited_seconds"] <= 300 + 89 + CAP
    assert any("200/300 succeeded, 100 not listed yet, 0 failed" in log.message for log in result.logs)


def test_without_expected_count_the_gate_opens_on_what_exists(fc, run):
    _seed(fc, "video", "early", "early-", 20, finish=lambda i: 30)

    def program():
        StatefulAsyncInvocations("batch", "video", "early", invocation_id_prefix="early-", wait_for_completion=True)

    out = run(program).resource("batch").outputs
    assert out["total"] == 20 and 30 <= out["waited_seconds"] <= 30 + CAP


def test_one_failure_among_300_fails_the_deployment_at_once(fc, run):
    _seed(fc, "render", "frames", "f-", 300, finish=lambda i: 100 + 2 * i, fail={123},
          error="UnhandledException: disk full")  # task 123 fails at +346 s; the batch runs to +698 s
    start = fc.clock.now()

    def program():
        batch = StatefulAsyncInvocations("batch", "render", "frames", invocation_id_prefix="f-",
                                         wait_for_completion=True, expected_count=300)
        _dependent("app", batch)

    with pytest.raises(ProgramError) as info:
        run(program)
    text = info.value.message
    assert "batch render/frames prefix f-: 1 invocation ended in a fail status (" in text
    assert re.search(r"render/frames/f-0123 ended Failed: UnhandledException: disk full \(request id [0-9a-f-]{20,}\)",
                     text)
    assert "fail_on_statuses: Failed, Stopped, Expired, Invalid" in text
    assert re.search(r"\d+/300 succeeded, \d+ running, 1 failed", text)
    assert not any(r.name == "app" for r in info.value.result.resources)
    assert fc.clock.now() - start <= 346 + CAP  # failed fast, did not wait for the other 176 tasks


def test_many_failures_list_the_first_ten_and_count_the_rest_in_preview_and_update(fc, run):
    _seed(fc, "render", "broken", "b-", 40, finish=lambda i: 0 if i % 2 else 5, fail=set(range(1, 40, 2)),
          error="OOM")
    fc.advance(1)  # the 20 odd tasks have failed; the even ones still run

    def program():
        StatefulAsyncInvocations("batch", "render", "broken", invocation_id_prefix="b-", wait_for_completion=True)

    with pytest.raises(ProgramError) as preview:
        run(program, preview=True)
    with pytest.raises(ProgramError) as update:
        run(program)
    for text in (preview.value.message, update.value.message):
        assert "batch render/broken prefix b-: 20 invocations ended in a fail status (0/40 succeeded, " in text
        failed = re.findall(r"render/broken/b-(\d{4}) ended Failed: OOM \(request id", text)
        assert failed == [f"{i:04d}" for i in range(1, 20, 2)]  # the first ten, oldest first
        assert "  ... and 10 more" in text


def test_list_calls_per_poll_equal_the_pages(fc, run):
    # 250 tasks accepted at the same instant: every poll must list all of them (3 pages of 100).
    _seed(fc, "pages", "same", "s-", 250, finish=lambda i: 40 + i)
    timeline = Timeline(fc)
    before = fc.request_count("list")

    def program():
        StatefulAsyncInvocations("batch", "pages", "same", wait_for_completion=True, expected_count=250)

    run(program, timeline=timeline)
    per_poll = timeline.per_poll(before, fc.request_count("list"))
    assert len(per_poll) >= 15
    # Each poll: 3 pages; after the first, the function's duration history (one Succeeded page, for the
    # schedule). The last entry is the last poll, which confirms completion with a full listing (3 + 3),
    # and then the host's read (3): nothing else lists in between.
    assert per_poll[0] == 3 + 1 and per_poll[1:-1] == [3] * (len(per_poll) - 2), per_poll
    assert per_poll[-1] == 3 + 3 + 3, per_poll
    assert fc.request_count("get") == 0


def test_later_polls_skip_tasks_that_already_ended(fc, run):
    # 300 tasks accepted one per second, each taking 5 minutes: they end in order, and each poll lists only
    # the tasks started since the oldest unfinished one.
    start = fc.clock.now()
    _seed(fc, "pages", "fifo", "q-", 300, start=lambda i: start - 300 + i, finish=lambda i: 300)
    timeline = Timeline(fc)
    before = fc.request_count("list")

    def program():
        StatefulAsyncInvocations("batch", "pages", "fifo", wait_for_completion=True, expected_count=300)

    run(program, timeline=timeline)
    per_poll = timeline.per_poll(before, fc.request_count("list"))
    polls, last = per_poll[:-1], per_poll[-1]
    assert polls[0] == 3 + 1  # the first poll lists everything (and the duration history, once)
    assert polls[-1] == 1 and min(polls[:-1]) < 3, per_poll  # then ever less of it  # then ever less of it
    assert sum(polls) < 3 * len(polls) - 2, per_poll  # cheaper than listing the whole batch every poll
    # The last entry: a window holding the newest task only (1), a confirming full listing (3), the host's read (3).
    assert last == 1 + 3 + 3, per_poll

def test_preview_reads_without_waiting(fc, run):
    """Two listings: the program's, for the verdict (shown without a traceback), and the engine's read."""
    _seed(fc, "prev", "job", "p-", 30, finish=lambda i: 600)
    fc.advance(2)
    start = fc.clock.now()
    before = fc.request_count("list")

    def program():
        batch = StatefulAsyncInvocations("batch", "prev", "job", invocation_id_prefix="p-", wait_for_completion=True,
                                         expected_count=50)
        pulumi.export("counts", batch.counts)
        pulumi.export("allTerminal", batch.all_terminal)

    result = run(program, preview=True)
    assert fc.clock.now() == start and fc.request_count("list") - before == 2
    assert result.outputs["counts"]["Running"] == 30 and result.outputs["allTerminal"] is False
    assert result.resource("batch").outputs.get("waited_seconds") is None


def test_outputs_counts_selection_and_secret_payloads(fc, run):
    fc.add_function("out", "job", qualifiers=("LATEST", "prod"))
    base = fc.clock.now() - 100
    plan = [("Succeeded", 5), ("Running", None), ("Failed", 5), ("Succeeded", 7), ("Enqueued", None),
            ("Succeeded", 9), ("Stopped", 3)]
    for i, (status, at) in enumerate(plan):
        steps = [("Enqueued", 0)] if status == "Enqueued" else \
            [("Enqueued", 0), ("Running", 1)] + ([(status, at)] if at else [])
        fc.add_invocation("out", "job", f"o-{i}", qualifier="prod", started_at=base + i, payload=f"in-{i}",
                          return_payload=f"out-{i}", error_message="E42" if status == "Failed" else None,
                          timeline=steps)
    fc.add_invocation("out", "job", "other-1", qualifier="prod", timeline=[("Failed", 0)])  # not in the batch

    def program():
        chosen = StatefulAsyncInvocations("chosen", "out", "job", "prod", invocation_id_prefix="o-",
                                          statuses=["Succeeded", "Failed"], limit=3, include_payloads=True,
                                          fail_on_statuses=[])
        plain = StatefulAsyncInvocations("plain", "out", "job", "prod", invocation_id_prefix="o-",
                                         fail_on_statuses=[])
        pulumi.export("chosenIds", chosen.ids)
        pulumi.export("chosen", chosen.invocations)
        fn = get_stateful_async_invocations_output("out", "job", "prod", invocation_id_prefix="o-",
                                                   fail_on_statuses=["Expired"], include_payloads=True)
        pulumi.export("fnTotal", fn.total)
        pulumi.export("fnInvocations", fn.invocations)
        direct = get_stateful_async_invocations("out", "job", "prod", invocation_id_prefix="o-",
                                                statuses=["Running"], fail_on_statuses=[])
        pulumi.export("direct", {"id": direct.id, "ids": direct.ids, "total": direct.total})
        again = StatefulAsyncInvocations.get("again", "out.prod/job?prefix=o-&statuses=Stopped",
                                             fail_on_statuses=[])
        pulumi.export("againIds", again.ids)
        return plain

    result = run(program)
    chosen, plain = result.resource("chosen"), result.resource("plain")
    assert chosen.id == "out.prod/job?prefix=o-&statuses=Succeeded,Failed&limit=3"
    assert result.outputs["chosenIds"] == ["out.prod/job/o-0", "out.prod/job/o-2", "out.prod/job/o-3"]
    counts = {"Enqueued": 1, "Dequeued": 0, "Running": 1, "Retrying": 0, "Stopping": 0, "Succeeded": 3, "Failed": 1,
              "Stopped": 1, "Expired": 0, "Invalid": 0}
    for rec in (chosen, plain):
        assert rec.outputs["counts"] == counts and rec.outputs["total"] == 7
        assert rec.outputs["all_terminal"] is False and rec.outputs["all_succeeded"] is False
    first = chosen.outputs["invocations"][0]
    assert first["invocation_id"] == "o-0" and first["status"] == "Succeeded" and first["qualifier"] == "prod"
    assert first["invocation_payload"] == "in-0" and first["return_payload"] == "out-0"
    assert first["started_time"].endswith("Z") and isinstance(first["duration_ms"], int) and first["request_id"]
    assert chosen.outputs["invocations"][1]["invocation_error_message"] == "E42"
    assert "invocations" in chosen.secret_outputs and "chosen" in result.secret_outputs
    assert "chosenIds" not in result.secret_outputs and "counts" not in chosen.secret_outputs
    assert len(plain.outputs["invocations"]) == 7 and "invocations" not in plain.secret_outputs
    assert all(inv["invocation_payload"] is None and inv["return_payload"] is None
               for inv in plain.outputs["invocations"])
    assert [i["invocation_id"] for i in plain.outputs["invocations"]] == [f"o-{i}" for i in range(7)]
    assert result.outputs["fnTotal"] == 7 and "fnInvocations" in result.secret_outputs
    assert result.outputs["direct"] == {"id": "out.prod/job?prefix=o-&statuses=Running",
                                        "ids": ["out.prod/job/o-1"], "total": 7}
    assert result.resource("again").id == "out.prod/job?prefix=o-&statuses=Stopped"
    assert result.outputs["againIds"] == ["out.prod/job/o-6"]


def test_timeout_and_an_empty_batch(fc, run):
    fc.add_invocation("slow", "job", "t-1", timeline=[("Succeeded", 0)])
    fc.add_invocation("slow", "job", "t-2", timeline=[("Running", 0)])

    def slow():
        batch = StatefulAsyncInvocations("batch", "slow", "job", invocation_id_prefix="t-", wait_for_completion=True,
                                         timeout_seconds=90)
        _dependent("app", batch)

    with pytest.raises(ProgramError) as info:
        run(slow)
    assert ("timed out waiting for batch slow/job prefix t-: 1/2 succeeded, 1 running, 0 failed after 1m30s "
            "(timeout_seconds=90)") in info.value.message
    assert not any(r.name == "app" for r in info.value.result.resources)

    def empty():
        StatefulAsyncInvocations("batch", "slow", "job", invocation_id_prefix="nothing-", wait_for_completion=True,
                                 timeout_seconds=60, expected_count=5)

    with pytest.raises(ProgramError) as info:
        run(empty)
    assert "0/5 succeeded, 5 not listed yet, 0 failed after 1m00s (timeout_seconds=60); only 0 matching " \
           "invocations exist, expected_count=5" in info.value.message


def test_missing_function_names_everything(fc, run):
    fc.add_function("nf", "job")

    def program():
        StatefulAsyncInvocations("batch", "nf", "nope", invocation_id_prefix="x", wait_for_completion=True)

    with pytest.raises(ProgramError) as info:
        run(program)
    assert "cannot list batch nf/nope prefix x: service 'nf', qualifier '(none)', function 'nope'" in info.value.message
    assert "FunctionNotFound" in info.value.message


BAD = [
    (dict(service_name="9bad"), "service_name"),
    (dict(function_name="has space"), "function_name"),
    (dict(qualifier="a.b"), "qualifier"),
    (dict(invocation_id_prefix="has space"), "invocation_id_prefix"),
    (dict(statuses=["Failed", "Exploded"]), "statuses"),
    (dict(statuses="Failed"), "statuses"),
    (dict(started_after="yesterday"), "started_after"),
    (dict(started_before=12), "started_before"),
    (dict(started_after="2026-11-27T00:00:00Z", started_before="2026-11-26T00:00:00Z"), "started_after"),
    (dict(limit=0), "limit"),
    (dict(limit=2.5), "limit"),
    (dict(expected_count=0), "expected_count"),
    (dict(expected_count=True), "expected_count"),
    (dict(include_payloads="yes"), "include_payloads"),
    (dict(wait_for_completion="yes"), "wait_for_completion"),
    (dict(timeout_seconds=0), "timeout_seconds"),
    (dict(fail_on_statuses=["Running"]), "fail_on_statuses"),
    (dict(poll_interval_seconds=-1), "poll_interval_seconds"),
    (dict(poll_interval_seconds=10, max_poll_interval_seconds=5), "max_poll_interval_seconds"),
]


@pytest.mark.parametrize("kwargs,argument", BAD, ids=[f"{a}-{i}" for i, (_, a) in enumerate(BAD)])
@pytest.mark.parametrize("as_output", [False, True])
def test_bad_inputs_fail_before_any_request(fc, run, kwargs, argument, as_output):
    args = dict(service_name="video", function_name="transcode", invocation_id_prefix="v-")
    args.update(kwargs)
    fc.reset_requests()

    def program():
        values = {k: pulumi.Output.from_input(v) if as_output and not isinstance(v, list) else v
                  for k, v in args.items()}
        StatefulAsyncInvocations("batch", wait_for_completion=values.pop("wait_for_completion", True), **values)

    with pytest.raises((ProgramError, ValueError)) as info:
        run(program)
    assert argument in str(info.value)
    assert fc.request_count() == 0


@pytest.mark.parametrize("kwargs,argument", BAD[:6] + [(dict(secret_payloads="no"), "secret_payloads")])
def test_function_forms_refuse_bad_inputs_first(fc, kwargs, argument):
    args = {"service_name": "video", "function_name": "transcode", **kwargs}
    fc.reset_requests()
    with pytest.raises(InvalidArgumentError) as info:
        get_stateful_async_invocations(**args)
    assert info.value.argument == argument
    with pytest.raises(InvalidArgumentError):
        get_stateful_async_invocations_output(**args)
    assert fc.request_count() == 0


@pytest.mark.parametrize("text", ["video", "video/transcode/x", "video./fn", "video/fn?colour=red", "video/fn?limit=x"])
def test_malformed_ids_are_refused(text):
    with pytest.raises(InvalidArgumentError) as info:
        parse_batch_id(text)
    assert info.value.argument == "id"


def test_id_round_trips():
    spec = BatchSpec.build(service_name="video", function_name="transcode", qualifier="prod",
                           invocation_id_prefix="video-2026-11-", statuses=["Failed", "Stopped"],
                           started_after="2026-11-26T08:00:00+08:00", started_before="2026-11-27T00:00:00Z", limit=50)
    assert spec.id == ("video.prod/transcode?prefix=video-2026-11-&statuses=Failed,Stopped"
                       "&started_after=2026-11-26T00:00:00.000Z&started_before=2026-11-27T00:00:00.000Z&limit=50")
    assert BatchSpec.build(**parse_batch_id(spec.id)) == spec


def test_refresh_reads_from_prior_outputs_or_the_id_without_waiting(fc, run, host):
    from pulumi.runtime import rpc
    from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

    _seed(fc, "refresh", "job", "r-", 5, finish=lambda i: 10)

    def program():
        StatefulAsyncInvocations("batch", "refresh", "job", invocation_id_prefix="r-", wait_for_completion=True,
                                 expected_count=5)

    rec = run(program).resource("batch")
    # Tomorrow's batch shares the prefix and is still running: a refresh reports it, it does not time out.
    fc.add_invocation("refresh", "job", "r-9999", timeline=[("Running", 0)])
    stub = provider_pb2_grpc.ResourceProviderStub(grpc.insecure_channel(f"127.0.0.1:{host.port}"))
    fc.reset_requests()
    for prior in (dict(rec.outputs), {}):
        prior["__provider"] = rec.provider_blob
        props = asyncio.run(rpc.serialize_properties(prior, {}))
        response = stub.Read(provider_pb2.ReadRequest(id=rec.id, urn=rec.urn, properties=props))
        outs = rpc.deserialize_properties(response.properties)
        assert response.id == "refresh/job?prefix=r-" and outs["total"] == 6 and outs["counts"]["Running"] == 1
        assert outs["invocation_id_prefix"] == "r-" and outs["service_name"] == "refresh"
    assert fc.request_count("list") == 2 and fc.request_count() == 2  # one read each, no polling


def test_no_credential_anywhere(fc, run):
    _seed(fc, "leak", "job", "l-", 3, finish=lambda i: 0)

    def program():
        batch = StatefulAsyncInvocations("batch", "leak", "job", invocation_id_prefix="l-", include_payloads=True)
        pulumi.export("all", batch.invocations)

    result = run(program)
    texts = [repr(result.outputs)] + [log.message for log in result.logs]
    for rec in result.resources:
        texts += [repr(rec.outputs), repr(rec.inputs), rec.provider_blob or ""]
    blob = "\n".join(texts)
    assert "l-0000" in blob and SECRET not in blob and TOKEN not in blob


def test_example_gate_on_batch(fc, config):
    _seed(fc, "video", "transcode", "video-2026-11-", 120, finish=lambda i: 30 + 3 * i)
    example_config = {**config, "gate-on-batch:prefix": "video-2026-11-", "gate-on-batch:expectedCount": "120"}
    with use_clock(AutoAdvanceClock(fc.clock)):
        result = run_program_file(str(EXAMPLE), config=example_config, secret_keys=SECRET_KEYS, env=CLEAN_ENV)
    out = result.outputs
    assert out["batchTotal"] == 120 and out["batchCounts"]["Succeeded"] == 120 and out["allSucceeded"] is True
    assert out["failedIds"] == [] and out["releaseId"] == "release-2.0.0"
    assert any("batch video/transcode prefix video-2026-11-:" in log.message for log in result.logs)


# --- the cost of gating 1,000 tasks: one list data source vs 1,000 single data sources -----------------


def _gate_calls_single(fc, client, service, function, ids):
    """What 1,000 ``StatefulAsyncInvocation`` gates cost: their program-side waits (run concurrently, as the
    program runs them) plus the engine's one read of each."""
    from pulumi_fc_invocation.fc2 import InvocationRef
    from pulumi_fc_invocation.gate.clients import pool as _pool
    from pulumi_fc_invocation.waiter import Waiter, WaitPolicy

    async def all_gates():
        refs = [InvocationRef(service_name=service, function_name=function, invocation_id=i) for i in ids]
        waits = [Waiter(lambda r=r: client.get(r), WaitPolicy()).wait_async(_pool()) for r in refs]
        return await asyncio.gather(*waits)

    before = fc.request_count()
    with use_clock(AutoAdvanceClock(fc.clock)):
        outcomes = asyncio.run(all_gates())
    assert all(o.result.succeeded for o in outcomes)
    for i in ids:  # the read in the provider host: one get per data source
        client.get_stateful_async_invocation(service, function, i)
    return fc.request_count() - before


def test_cost_of_gating_a_batch_list_vs_single_data_sources(fc, run, record_property):
    """FC_BATCH_COST_TASKS=1000 gives the figure in the README (about 30 s; the default keeps this file fast)."""
    tasks = int(os.environ.get("FC_BATCH_COST_TASKS", "100"))
    per_second = max(1, tasks // 100)
    finish = lambda i: 60 + (i * 7919) % 541  # noqa: E731 - deterministic spread over 60..600 s
    # The tasks are accepted over the 100 s before the gate starts, and each runs 1 to 10 minutes.
    start = fc.clock.now()
    _seed(fc, "bench", "batch", "k-", tasks, start=lambda i: start + i // per_second - 100, finish=finish)
    before, gets = fc.request_count(), fc.request_count("get")

    def program():
        StatefulAsyncInvocations("batch", "bench", "batch", invocation_id_prefix="k-", wait_for_completion=True,
                                 expected_count=tasks)

    result = run(program)
    list_calls = fc.request_count() - before
    assert fc.request_count("get") == gets  # the batch costs list calls only
    waited = result.resource("batch").outputs["waited_seconds"]

    start = fc.clock.now()  # the same batch again, for single data sources
    _seed(fc, "bench", "single", "k-", tasks, start=lambda i: start + i // per_second - 100, finish=finish)
    single_calls = _gate_calls_single(fc, _client(fc), "bench", "single", [f"k-{i:04d}" for i in range(tasks)])
    record_property("cost", f"[cost] gating {tasks} tasks (~{waited:.0f} s of virtual time): one list data source "
                    f"{list_calls} API calls; {tasks} single data sources {single_calls} API calls")
    assert list_calls * 10 < single_calls


def _client(fc):
    from pulumi_fc_invocation.client import FcClient
    from pulumi_fc_invocation.credentials import Credentials

    return FcClient(endpoint=fc.endpoint, account_id=fc.account_id, credentials=Credentials(KEY_ID, SECRET, TOKEN))

