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
