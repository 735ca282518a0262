"""The data sources under Pulumi's own unit-test mocks (``pulumi.runtime.set_mocks``), as a user's test
runs them: no provider, no network call, no wait; the mock's outputs are the invocation, and the gate's
verdict (``fail_on_statuses``, a timeout) applies to them."""

import asyncio
import contextvars

import pulumi
import pytest

from pulumi_fc_invocation import (
    InvocationFailedError,
    StatefulAsyncInvocation,
    StatefulAsyncInvocations,
    WaitTimeoutError,
    get_stateful_async_invocation,
    get_stateful_async_invocation_output,
    get_stateful_async_invocations_output,
)
from pulumi_fc_invocation.sdk_workarounds import settings_defaults_restored
from pulumi_fc_invocation.testing.server import FcEmulator

SINGLE = "pulumi-python:dynamic/fc:StatefulAsyncInvocation"
BATCH = "pulumi-python:dynamic/fc:StatefulAsyncInvocations"


class TaskMocks(pulumi.runtime.Mocks):
    """What a user writes: every read of a task answers ``status``."""

    def __init__(self, status):
        self.status = status
        self.reads = []
        self.calls = []

    def invocation(self, invocation_id):
        return {"invocation_id": invocation_id, "status": self.status, "invocation_error_message": "disk full",
                "request_id": "req-mocked"}

    def new_resource(self, args):
        if args.typ == SINGLE:
            self.reads.append(args.resource_id)
            return args.resource_id, {**args.inputs, **self.invocation(args.inputs["invocation_id"])}
        if args.typ == BATCH:
            self.reads.append(args.resource_id)
            return args.resource_id, {**args.inputs, "total": 2,
                                      "invocations": [self.invocation("b-1"), self.invocation("b-2")]}
        return f"{args.name}_id", args.inputs

    def call(self, args):
        self.calls.append(args.token)
        if args.token.endswith("getStatefulAsyncInvocations"):
            return {"invocations": [self.invocation("b-1")]}
        return self.invocation(args.args["invocation_id"])


@pytest.fixture(scope="module")
def fc():
    with FcEmulator(clock="virtual") as emu:
        yield emu


def run_with_mocks(status, program, fc, preview=False):
    """Run ``program`` as a user's ``@pulumi.runtime.test`` does, in a fresh context (set_mocks is global)."""
    mocks = TaskMocks(status)

    def body():
        asyncio.set_event_loop(asyncio.new_event_loop())  # the SDK's test runner uses the current loop
        pulumi.runtime.set_mocks(mocks, project="proj", stack="dev", preview=preview)
        try:
            return pulumi.runtime.test(program)()
        finally:
            asyncio.get_event_loop().close()
            asyncio.set_event_loop(None)

    fc.reset_requests()
    start = fc.clock.now()
    try:
        with settings_defaults_restored():  # set_mocks leaks the mock monitor into the SDK's defaults otherwise
            contextvars.copy_context().run(body)
    finally:
        assert fc.request_count() == 0 and fc.clock.now() == start  # no call, no (virtual) wait
    return mocks


def gated(fc):
    return dict(wait_for_completion=True, timeout_seconds=3600, endpoint=fc.endpoint)


def test_a_succeeded_mock_passes_the_gate_and_is_the_output(fc):
    def program():
        inv = StatefulAsyncInvocation("inv", "svc", "fn", "job-1", **gated(fc))
        batch = StatefulAsyncInvocations("batch", "svc", "fn", invocation_id_prefix="b-", **gated(fc))
        res = get_stateful_async_invocation_output("svc", "fn", "job-1", **gated(fc))
        many = get_stateful_async_invocations_output("svc", "fn", invocation_id_prefix="b-", **gated(fc))

        def check(values):
            status, total, fn_status, fn_id, fn_total = values
            assert (status, total, fn_status, fn_id, fn_total) == ("Succeeded", 2, "Succeeded", "svc/fn/job-1", 1)

        return pulumi.Output.all(inv.status, batch.total, res.status, res.id, many.total).apply(check)

    mocks = run_with_mocks("Succeeded", program, fc)
    assert sorted(mocks.reads) == ["svc/fn/job-1", "svc/fn?prefix=b-"]
    assert sorted(mocks.calls) == ["fc-invocation:index:getStatefulAsyncInvocation",
                                   "fc-invocation:index:getStatefulAsyncInvocations"]


@pytest.mark.parametrize("form", ["resource", "batch", "function", "function_output", "batch_function"])
def test_a_failed_mock_fails_the_program(fc, form):
    def program():
        if form == "resource":
            return StatefulAsyncInvocation("inv", "svc", "fn", "job-1", **gated(fc)).status
        if form == "batch":
            return StatefulAsyncInvocations("batch", "svc", "fn", invocation_id_prefix="b-", **gated(fc)).total
        if form == "function":
            return get_stateful_async_invocation("svc", "fn", "job-1", **gated(fc)).status
        if form == "function_output":
            return get_stateful_async_invocation_output("svc", "fn", "job-1", **gated(fc)).status
        return get_stateful_async_invocations_output("svc", "fn", invocation_id_prefix="b-", **gated(fc)).total

    with pytest.raises(InvocationFailedError, match=r"ended Failed: disk full"):
        run_with_mocks("Failed", program, fc)


def test_fail_on_statuses_applies_to_the_mocked_status(fc):
    def program():
        return StatefulAsyncInvocation("inv", "svc", "fn", "job-1", fail_on_statuses=["Failed"], **gated(fc)).status

    run_with_mocks("Stopped", program, fc)  # allowed: passes
    with pytest.raises(InvocationFailedError):
        run_with_mocks("Failed", program, fc)


def test_a_running_mock_is_a_timeout_in_an_update_and_passes_a_preview(fc):
    def program():
        return StatefulAsyncInvocation("inv", "svc", "fn", "job-1", **gated(fc)).status

    with pytest.raises(WaitTimeoutError, match="timed out waiting for invocation svc/fn/job-1"):
        run_with_mocks("Running", program, fc)
    run_with_mocks("Running", program, fc, preview=True)


# --- Pulumi's unit-testing guide, as a user lays it out (issue 24, item 8) --------------------------
# https://www.pulumi.com/docs/iac/guides/testing/unit/: the program's resources are declared at module
# level in infra.py; the test module sets the mocks, then `import infra`, then unittest methods
# decorated with @pulumi.runtime.test check the resources' outputs, run with `python -m pytest`.

GUIDE_INFRA = '''
"""The program: its gates are declared at module level, as in a Pulumi program."""
import pulumi
from pulumi_fc_invocation import AsyncTask, AsyncTasks, StatefulAsyncInvocation, StatefulAsyncInvocations, \
    get_async_task_output

migration = StatefulAsyncInvocation("migration", service_name="db", function_name="migrate",
                                    invocation_id="db-42", wait_for_completion=True)
backfill = AsyncTask("backfill", function_name="backfill", task_id="bf-7", wait_for_completion=True)
exports = StatefulAsyncInvocations("exports", service_name="etl", function_name="export",
                                   invocation_id_prefix="b-", wait_for_completion=True)
shards = AsyncTasks("shards", function_name="shard", task_id_prefix="s-", wait_for_completion=True)
report = get_async_task_output(function_name="report", task_id="rp-1", wait_for_completion=True)
'''

GUIDE_TEST = '''
import unittest

import pulumi

STATUS = {status!r}


class MyMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        member = {{"status": STATUS, "invocation_error_message": "disk full", "task_error_message": "disk full"}}
        if args.typ.endswith(("fc:StatefulAsyncInvocation", "fc:AsyncTask")):
            return [args.resource_id, {{**args.inputs, **member}}]
        if args.typ.endswith("fc:StatefulAsyncInvocations"):
            return [args.resource_id, {{**args.inputs, "invocations": [{{**member, "invocation_id": "b-1"}}]}}]
        if args.typ.endswith("fc:AsyncTasks"):
            return [args.resource_id, {{**args.inputs, "tasks": [{{**member, "task_id": "s-1"}}]}}]
        return [args.name + "_id", args.inputs]

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {{"status": STATUS, "task_error_message": "disk full"}}


pulumi.runtime.set_mocks(MyMocks(), preview=False)

import infra  # noqa: E402


class TestingWithMocks(unittest.TestCase):
    @pulumi.runtime.test
    def test_the_migration_gates_the_release(self):
        def check(args):
            urn, wait = args
            self.assertTrue(wait, f"{{urn}} must wait for the migration")
        return pulumi.Output.all(infra.migration.urn, infra.migration.wait_for_completion).apply(check)

    @pulumi.runtime.test
    def test_the_backfill_names_its_function(self):
        return infra.backfill.function_name.apply(lambda name: self.assertEqual(name, "backfill"))

    @pulumi.runtime.test
    def test_the_exports_are_awaited(self):
        return infra.exports.wait_for_completion.apply(self.assertTrue)

    @pulumi.runtime.test
    def test_the_shards_are_awaited(self):
        return infra.shards.wait_for_completion.apply(self.assertTrue)

    @pulumi.runtime.test
    def test_the_report_names_its_function(self):  # the function form: its result is the gate's
        return infra.report.function_name.apply(lambda name: self.assertEqual(name, "report"))

    @pulumi.runtime.test
    def test_a_gate_declared_in_the_test(self):  # the README's pattern, in the same run
        from pulumi_fc_invocation import StatefulAsyncInvocation

        gate = StatefulAsyncInvocation("report", service_name="bi", function_name="report", invocation_id="r-1",
                                       wait_for_completion=True)
        return gate.wait_for_completion.apply(self.assertTrue)
'''


def run_guide_project(tmp_path, status):
    """Write infra.py and test_infra.py as the guide lays them out and run ``python -m pytest`` there."""
    import os
    import subprocess
    import sys

    (tmp_path / "infra.py").write_text(GUIDE_INFRA)
    (tmp_path / "test_infra.py").write_text(GUIDE_TEST.format(status=status))
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ALIBABA_CLOUD_", "FC_INVOCATION_"))}
    env["FC_INVOCATION_ENDPOINT"] = "http://127.0.0.1:9"  # nothing listens: a network call would fail the test
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_infra.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_the_guides_module_level_gates_fail_the_tests_that_read_them_when_the_task_failed(tmp_path):
    run = run_guide_project(tmp_path, "Failed")
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "6 failed" in out, out
    for gate in ("invocation db/migrate/db-42 ended Failed: disk full",
                 "task backfill/bf-7 ended Failed: disk full", "task report/rp-1 ended Failed: disk full",
                 "invocation bi/report/r-1 ended Failed: disk full"):
        assert gate in out, out


def test_the_guides_module_level_gates_pass_the_tests_when_the_task_succeeded(tmp_path):
    run = run_guide_project(tmp_path, "Succeeded")
    assert run.returncode == 0 and "6 passed" in run.stdout, run.stdout + run.stderr


def test_outputs_held_for_the_verdict_keep_their_own_secrecy(fc):
    """The verdict each output now waits for makes none of them secret, nor a secret one plain."""
    seen = {}

    def program():
        inv = StatefulAsyncInvocation("inv", "svc", "fn", pulumi.Output.secret("job-1"), wait_for_completion=True,
                                      endpoint=fc.endpoint)

        async def secrecy():
            seen["status"] = await inv.status.is_secret()
            seen["invocation_id"] = await inv.invocation_id.is_secret()
            seen["function_name"] = await inv.function_name.is_secret()

        return pulumi.Output.from_input(secrecy())

    run_with_mocks("Succeeded", program, fc)
    assert seen == {"status": False, "invocation_id": True, "function_name": False}


@pytest.mark.parametrize("form", ["function", "function_output", "batch_function_output"])
def test_a_function_forms_opts_reach_the_mocks_call(fc, form):
    """``opts`` (Pulumi's InvokeOptions, as pulumi-alicloud's function forms take it): a dynamic data source has
    no provider to invoke, so only the mocks' ``call`` sees it; its provider arrives there."""
    class Recording(TaskMocks):
        def __init__(self, status):
            super().__init__(status)
            self.providers = []

        def call(self, args):
            self.providers.append(args.provider)
            return super().call(args)

    def program():
        explicit = pulumi.ProviderResource("fc-invocation", "explicit")
        opts = pulumi.InvokeOptions(provider=explicit)
        if form == "function":
            return get_stateful_async_invocation("svc", "fn", "job-1", opts=opts).status
        if form == "function_output":
            return get_stateful_async_invocation_output("svc", "fn", "job-1", opts=opts).status
        return get_stateful_async_invocations_output("svc", "fn", invocation_id_prefix="b-", opts=opts).total

    mocks = Recording("Succeeded")

    def body():
        asyncio.set_event_loop(asyncio.new_event_loop())
        pulumi.runtime.set_mocks(mocks, project="proj", stack="dev")
        try:
            return pulumi.runtime.test(program)()
        finally:
            asyncio.get_event_loop().close()
            asyncio.set_event_loop(None)

    with settings_defaults_restored():
        contextvars.copy_context().run(body)
    assert len(mocks.providers) == 1 and "pulumi:providers:fc-invocation::explicit" in mocks.providers[0], \
        mocks.providers
