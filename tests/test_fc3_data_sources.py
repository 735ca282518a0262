"""The FC 3.0 data sources (``AsyncTask``, ``AsyncTasks`` and their function forms) through the harness:
a real dynamic provider host, the emulator's 2023-03-30 routes (ACS3-signed), a virtual clock."""

from __future__ import annotations

import re

import pulumi
import pytest

from pulumi_fc_invocation import (
    AsyncTask,
    StatefulAsyncInvocation,
    AsyncTasks,
    get_async_task,
    get_async_task_output,
    get_async_tasks,
    get_async_tasks_output,
)
from pulumi_fc_invocation.errors import InvalidArgumentError, InvocationFailedError
from pulumi_fc_invocation.sdk_workarounds import settings_defaults_restored
from pulumi_fc_invocation.testing.harness import ProgramError
from pulumi_fc_invocation.waiter import DEFAULT_MAX_POLL_INTERVAL

TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def _dependent(name, gate):
    return pulumi.CustomResource("test:index:App", name, {"release": "v2"},
                                 opts=pulumi.ResourceOptions(depends_on=[gate]))


def test_an_update_waits_for_the_task_and_then_deploys_the_dependent(fc, run):
    fc.add_function(None, "transcode", outcome="Succeeded", duration=90, return_payload='{"hls": "oss://v/1.m3u8"}')
    fc.client().invoke_async_task("transcode", '{"src": "oss://raw/1.mp4"}', task_id="job-1")
    start = fc.clock.now()

    def program():
        task = AsyncTask("transcode", function_name="transcode", task_id="job-1", wait_for_completion=True,
                         timeout_seconds=600)
        _dependent("player", task)
        pulumi.export("status", task.status)
        pulumi.export("result", task.return_payload)

    result = run(program)
    rec = result.resource("transcode")
    out = rec.outputs
    assert rec.type == "pulumi-python:dynamic/fc:AsyncTask"
    assert rec.id == "transcode/job-1"
    assert result.outputs["status"] == "Succeeded" and out["is_terminal"] is True
    assert out["function_name"] == "transcode" and out["task_id"] == "job-1"
    assert out["function_arn"].endswith(":functions/transcode")
    assert out["task_payload"] == '{"src": "oss://raw/1.mp4"}'
    assert {"task_payload", "return_payload"} <= rec.secret_outputs and "result" in result.secret_outputs
    assert re.fullmatch(TIME, out["started_time"]) and re.fullmatch(TIME, out["end_time"])
    assert isinstance(out["already_retried_times"], int) and isinstance(out["duration_ms"], int)
    assert out["waited_seconds"] >= 90
    assert 90 <= fc.clock.now() - start <= 90 + DEFAULT_MAX_POLL_INTERVAL * 1.2 + 1
    assert result.resource("player")
    assert any("waiting for transcode/job-1" in log.message for log in result.logs)


def test_a_failed_task_fails_the_gate_with_its_message_and_the_dependent_never_deploys(fc, run):
    fc.add_invocation(None, "render", "job-bad", qualifier="prod", error_message="UnhandledException: out of memory",
                      timeline=[("Running", 0), ("Failed", 20)])

    def program():
        task = AsyncTask("render", function_name="render", task_id="job-bad", qualifier="prod",
                         wait_for_completion=True)
        _dependent("app", task)

    with pytest.raises(ProgramError) as info:
        run(program)
    text = info.value.message
    assert "task render.prod/job-bad ended Failed" in text and "UnhandledException: out of memory" in text
    assert re.search(r"request id [0-9a-f-]{20,}", text)
    assert not any(r.name == "app" for r in info.value.result.resources)


@pytest.mark.parametrize("grace, passes", [(60, True), (None, False)])
def test_not_found_grace_seconds_waits_for_a_task_fc_lists_late(fc, run, grace, passes):
    """A pipeline that invokes and deploys at once: FC answers AsyncTaskNotFound for the first reads (here
    12 polls, about 20 s). ``not_found_grace_seconds=60`` polls through them; the default (10 s) does not."""
    task_id = f"late-{grace}"
    fc.add_function(None, "late", outcome="Succeeded", duration=5)
    fc.client().invoke_async_task("late", "{}", task_id=task_id)
    fc.inject_fault("get", status=404, code="AsyncTaskNotFound", times=12, match=task_id, api="2023-03-30")
    grace_args = {} if grace is None else {"not_found_grace_seconds": grace}

    def program():
        task = AsyncTask("late", function_name="late", task_id=task_id, wait_for_completion=True,
                         timeout_seconds=600, **grace_args)
        pulumi.export("status", task.status)
        pulumi.export("grace", task.not_found_grace_seconds)

    if passes:
        result = run(program)
        assert result.outputs["status"] == "Succeeded" and result.outputs["grace"] == 60
        return
    with pytest.raises(ProgramError) as info:
        run(program)
    assert f"task id '{task_id}'" in info.value.message and "AsyncTaskNotFound" in info.value.message
    fc.faults.clear()


def test_not_found_grace_seconds_is_checked_and_an_fc3_input_only(fc):
    before = fc.request_count()
    with pytest.raises(InvalidArgumentError, match="not_found_grace_seconds.*>= 0"):
        get_async_task("fn", "t-1", not_found_grace_seconds=-1)
    with pytest.raises(InvalidArgumentError, match="not_found_grace_seconds.*must be a finite number of seconds >= 0"):
        get_async_task("fn", "t-1", not_found_grace_seconds=float("inf"))
    with pytest.raises(TypeError, match="not_found_grace_seconds"):
        StatefulAsyncInvocation("x", service_name="svc", function_name="fn", invocation_id="i-1",
                                not_found_grace_seconds=30)
    assert fc.request_count() == before


def test_a_service_dollar_function_name_works(fc, run):
    fc.add_invocation("legacy", "fn", "l-1", timeline=[("Succeeded", 0)])

    def program():
        task = AsyncTask("legacy", function_name="legacy$fn", task_id="l-1")
        pulumi.export("status", task.status)

    result = run(program)
    assert result.outputs["status"] == "Succeeded"
    assert result.resource("legacy").id == "legacy$fn/l-1"


def test_bad_arguments_are_refused_before_any_request(fc, run):
    before = fc.request_count()
    with pytest.raises(InvalidArgumentError, match="function_name"):
        get_async_task("has.dot", "t-1")
    with pytest.raises(InvalidArgumentError, match="task_id"):
        get_async_tasks("fn", task_id_prefix="bad prefix!")
    with pytest.raises(InvalidArgumentError, match="FC 2.0 id"):
        AsyncTask.get("x", "svc/fn/inv-1")
    assert fc.request_count() == before


def test_the_batch_gate_waits_for_every_task_and_reports_the_counts(fc, run):
    fc.add_function(None, "shard", outcome="Succeeded", duration=120)
    client = fc.client()
    for i in range(12):
        client.invoke_async_task("shard", "{}", task_id=f"shard-{i:02d}")

    def program():
        batch = AsyncTasks("shards", function_name="shard", task_id_prefix="shard-", wait_for_completion=True,
                           expected_count=12, timeout_seconds=900)
        _dependent("app", batch)
        pulumi.export("total", batch.total)
        pulumi.export("succeeded", batch.counts.apply(lambda c: c["Succeeded"]))
        pulumi.export("ids", batch.ids)
        pulumi.export("tasks", batch.tasks)

    result = run(program)
    rec = result.resource("shards")
    assert rec.type == "pulumi-python:dynamic/fc:AsyncTasks" and rec.id == "shard?prefix=shard-"
    assert result.outputs["total"] == 12 == result.outputs["succeeded"]
    assert result.outputs["ids"][0] == "shard/shard-00"
    assert result.outputs["tasks"][0]["task_id"] == "shard-00" and result.outputs["tasks"][0].get("task_payload") is None
    assert rec.outputs["all_succeeded"] is True and rec.outputs["waited_seconds"] >= 120
    assert result.resource("app")


def test_the_batch_gate_fails_on_a_failed_task_and_lists_it(fc, run):
    fc.add_invocation(None, "etl", "etl-1", timeline=[("Succeeded", 0)])
    fc.add_invocation(None, "etl", "etl-2", error_message="bad row 7", timeline=[("Running", 0), ("Failed", 4)])
    fc.advance(5)

    def program():
        batch = AsyncTasks("etl", function_name="etl", task_id_prefix="etl-", wait_for_completion=True)
        _dependent("app", batch)

    with pytest.raises(ProgramError) as info:
        run(program)
    text = info.value.message
    assert "batch etl prefix etl-: 1 task ended in a fail status" in text
    assert "etl/etl-2 ended Failed: bad row 7" in text
    assert not any(r.name == "app" for r in info.value.result.resources)


def test_batch_function_forms_and_get_by_id(fc, run):
    fc.add_invocation(None, "report", "r-1", timeline=[("Succeeded", 0)])
    fc.add_invocation(None, "report", "r-2", timeline=[("Stopped", 0)])
    fc.advance(1)

    def program():
        batch = AsyncTasks.get("reports", "report?prefix=r-", fail_on_statuses=[])
        pulumi.export("total", batch.total)
        out = get_async_tasks_output("report", task_id_prefix="r-", statuses=["Stopped"], fail_on_statuses=[])
        pulumi.export("stopped", out.ids)
        now = get_async_tasks("report", task_id_prefix="r-", fail_on_statuses=[])
        pulumi.export("nowCounts", now.counts)
        pulumi.export("nowId", now.id)

    result = run(program)
    assert result.outputs["total"] == 2
    assert result.outputs["stopped"] == ["report/r-2"]
    assert result.outputs["nowCounts"]["Succeeded"] == 1 and result.outputs["nowCounts"]["Stopped"] == 1
    assert result.outputs["nowId"] == "report?prefix=r-"


def test_the_skip_switch_neither_waits_nor_judges(fc, run, monkeypatch):
    fc.add_invocation(None, "flaky", "f-1", timeline=[("Failed", 0)])
    monkeypatch.setenv("FC_INVOCATION_SKIP_WAIT", "1")

    def program():
        task = AsyncTask("flaky", function_name="flaky", task_id="f-1", wait_for_completion=True)
        pulumi.export("status", task.status)

    result = run(program)
    assert result.outputs["status"] == "Failed"
    assert any("FC_INVOCATION_SKIP_WAIT is set" in log.message for log in result.logs)


class TaskMocks(pulumi.runtime.Mocks):
    """What a user writes: every read of an FC 3.0 task answers ``status``."""

    def __init__(self, status):
        self.status, self.reads, self.calls = status, [], []

    def task(self, task_id):
        return {"task_id": task_id, "status": self.status, "task_error_message": "mocked failure",
                "request_id": "req-mocked"}

    def new_resource(self, args):
        if args.typ == "pulumi-python:dynamic/fc:AsyncTask":
            self.reads.append(args.resource_id)
            return args.resource_id, {**args.inputs, **self.task(args.inputs["task_id"])}
        if args.typ == "pulumi-python:dynamic/fc:AsyncTasks":
            self.reads.append(args.resource_id)
            return args.resource_id, {**args.inputs, "total": 1, "tasks": [self.task("b-1")]}
        return f"{args.name}_id", args.inputs

    def call(self, args):
        self.calls.append(args.token)
        if args.token.endswith("getAsyncTasks"):
            return {"tasks": [self.task("b-1")]}
        return self.task(args.args["task_id"])


def _with_mocks(status, program, fc):
    import asyncio
    import contextvars

    mocks = TaskMocks(status)

    def body():
        asyncio.set_event_loop(asyncio.new_event_loop())
        pulumi.runtime.set_mocks(mocks, project="proj", stack="dev", preview=False)
        try:
            return pulumi.runtime.test(program)()
        finally:
            asyncio.get_event_loop().close()
            asyncio.set_event_loop(None)

    fc.reset_requests()
    with settings_defaults_restored():  # set_mocks leaks the mock monitor into the SDK's defaults otherwise
        contextvars.copy_context().run(body)
    assert fc.request_count() == 0  # no call under mocks
    return mocks


@pytest.mark.parametrize("form", ["resource", "batch", "function", "function_output", "batch_function"])
def test_mocks_are_the_task_and_get_the_verdict(fc, form):
    gated = dict(wait_for_completion=True, timeout_seconds=3600, endpoint=fc.endpoint)

    def program():
        if form == "resource":
            return AsyncTask("t", "fn", "t-1", **gated).status
        if form == "batch":
            return AsyncTasks("b", "fn", task_id_prefix="b-", **gated).total
        if form == "function":
            return get_async_task("fn", "t-1", **gated).status
        if form == "function_output":
            return get_async_task_output("fn", "t-1", **gated).status
        return get_async_tasks_output("fn", task_id_prefix="b-", **gated).total

    mocks = _with_mocks("Succeeded", program, fc)
    if form in ("resource", "batch"):
        assert mocks.reads == ["fn/t-1" if form == "resource" else "fn?prefix=b-"] and not mocks.calls
    else:
        assert mocks.calls == ["fc-invocation:index:getAsyncTasks" if form == "batch_function"
                               else "fc-invocation:index:getAsyncTask"]
    with pytest.raises(InvocationFailedError, match=r"ended Failed: mocked failure"):
        _with_mocks("Failed", program, fc)
