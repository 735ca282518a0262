"""The package's replacement of the SDK's ``wait_for_rpcs`` (issue 16 "Scale"): the same semantics as
the SDK's own (pulumi/runtime/stack.py), checked side by side on the same scenarios on the SDK installed
(``make test`` runs this file on the floor, pulumi 3.271.0, and on the newest served), and installed
only when a data source is declared, not under the switch, and only on an SDK whose code it was
verified against (tests/test_sdk_workarounds.py runs one whose code differs)."""

from __future__ import annotations

import asyncio

import pulumi
import pulumi.runtime.stack as stack
import pytest
from pulumi import Output
from pulumi.runtime.settings import SETTINGS, _get_rpc_manager

from pulumi_fc_invocation.sdk_workarounds import (
    LINEAR_OUTPUT_WAIT_ENV,
    install_linear_output_wait,
    linear_wait_for_rpcs,
)

SDK_WAIT = stack.wait_for_rpcs if stack.wait_for_rpcs is not linear_wait_for_rpcs else None


@pytest.fixture
def sdk_wait():
    """The SDK's own function (this module imports before any data source is declared), and the
    process's choice restored afterwards."""
    if SDK_WAIT is None:
        pytest.fail("the SDK's wait_for_rpcs was replaced before this module was imported")
    before = stack.wait_for_rpcs
    yield SDK_WAIT
    stack.wait_for_rpcs = before


def settle(wait, scenario):
    """Run ``scenario()`` (builds Outputs on a fresh loop), then ``wait()``; (what ended, the error)."""
    ended: list = []

    async def main():
        with SETTINGS.lock:
            SETTINGS.outputs.clear()
        scenario(ended)
        try:
            await wait()
        except BaseException as exc:  # noqa: BLE001 - compared below
            return ended, exc
        return ended, None

    return asyncio.run(main())


async def later(value, delay, ended, fail=None):
    await asyncio.sleep(delay)
    ended.append(value)
    if fail is not None:
        raise fail
    return value


def both(sdk_wait, scenario):
    return settle(sdk_wait, scenario), settle(linear_wait_for_rpcs, scenario)


def test_waits_for_every_output_and_those_created_while_waiting(sdk_wait):
    def scenario(ended):
        for i in range(20):
            Output.from_input(later(i, 0.001 * (i % 5), ended))
        # An apply that runs late creates Outputs of its own, which end later still.
        Output.from_input(later("first", 0.01, ended)).apply(
            lambda _: Output.from_input(later("nested", 0.02, ended)).apply(
                lambda _: Output.from_input(later("deepest", 0.01, ended))))

    (sdk_ended, sdk_error), (ours_ended, ours_error) = both(sdk_wait, scenario)
    assert sdk_error is None and ours_error is None
    assert sorted(map(str, sdk_ended)) == sorted(map(str, ours_ended))
    assert ours_ended[-1] == "deepest" and len(ours_ended) == 23


def test_an_exception_in_one_output_fails_the_wait_at_once(sdk_wait):
    def scenario(ended):
        Output.from_input(later("slow", 5.0, ended))  # still running when the failure comes
        Output.from_input(later("boom", 0.01, ended, fail=RuntimeError("gate failed")))
        for i in range(10):
            Output.from_input(later(i, 0.001, ended))

    (sdk_ended, sdk_error), (ours_ended, ours_error) = both(sdk_wait, scenario)
    assert type(sdk_error) is type(ours_error) is RuntimeError
    assert str(sdk_error) == str(ours_error) == "gate failed"
    assert "slow" not in sdk_ended and "slow" not in ours_ended  # raised without waiting for the rest


def test_an_exception_in_an_output_created_late_fails_the_wait(sdk_wait):
    def scenario(ended):
        Output.from_input(later("a", 0.01, ended)).apply(
            lambda _: Output.from_input(later("late", 0.01, ended, fail=ValueError("late failure"))))
        Output.from_input(later("b", 0.05, ended))

    (_, sdk_error), (_, ours_error) = both(sdk_wait, scenario)
    assert type(sdk_error) is type(ours_error) is ValueError and str(ours_error) == "late failure"


def test_a_failed_rpc_fails_the_wait_with_its_cause(sdk_wait):
    def scenario(ended):
        manager = _get_rpc_manager()

        async def rpc():
            await asyncio.sleep(0.01)
            raise ConnectionError("monitor went away")

        manager.rpcs.append(asyncio.ensure_future(rpc()))
        Output.from_input(later("x", 0.01, ended))

    (_, sdk_error), (_, ours_error) = both(sdk_wait, scenario)
    assert type(sdk_error) is type(ours_error) is ConnectionError and str(ours_error) == "monitor went away"


def test_a_cancelled_output_fails_the_wait_as_the_sdk_does(sdk_wait):
    def scenario(ended):
        out = Output.from_input(later("never", 5.0, ended))
        asyncio.get_running_loop().call_later(0.01, out._data.cancel)
        Output.from_input(later("y", 0.001, ended))

    (_, sdk_error), (_, ours_error) = both(sdk_wait, scenario)
    assert isinstance(sdk_error, asyncio.CancelledError) and isinstance(ours_error, asyncio.CancelledError)


def test_without_awaiting_outputs_only_the_rpcs_are_awaited(sdk_wait):
    def scenario(ended):
        Output.from_input(later("not awaited", 5.0, ended))

    async def ours():
        await linear_wait_for_rpcs(await_all_outstanding_tasks=False)

    ended, error = settle(ours, scenario)
    assert error is None and ended == []


def test_installed_once_on_this_sdk_and_not_under_the_switch(sdk_wait, monkeypatch):
    stack.wait_for_rpcs = sdk_wait
    monkeypatch.setenv(LINEAR_OUTPUT_WAIT_ENV, "0")
    assert install_linear_output_wait() is False and stack.wait_for_rpcs is sdk_wait
    monkeypatch.delenv(LINEAR_OUTPUT_WAIT_ENV)
    assert install_linear_output_wait() is True and stack.wait_for_rpcs is linear_wait_for_rpcs
    assert install_linear_output_wait() is True  # idempotent


def test_someone_elses_replacement_is_left_alone(sdk_wait):
    async def theirs(await_all_outstanding_tasks=True):
        return None

    stack.wait_for_rpcs = theirs
    assert install_linear_output_wait() is False and stack.wait_for_rpcs is theirs


def test_a_program_of_data_sources_runs_and_fails_under_it(sdk_wait):
    """Through the harness: the first data source installs it; a failed gate still fails the program
    with its verdict, and the other gates' Outputs are still awaited when all pass."""
    from pulumi_fc_invocation import StatefulAsyncInvocation
    from pulumi_fc_invocation.testing.harness import ProgramError, ProviderHost, run_program
    from pulumi_fc_invocation.testing.server import FcEmulator
    from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock
    from pulumi_fc_invocation.waiter import use_clock

    clean = {name: "" for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                                   "FC_INVOCATION_ENDPOINT", "ALIBABA_CLOUD_SECURITY_TOKEN")}
    stack.wait_for_rpcs = sdk_wait
    with FcEmulator(clock="virtual") as fc, ProviderHost(env=clean) as host:
        host.configure(fc.stack_config(), secret_keys=("alicloud:secretKey",))
        for i in range(5):
            fc.add_invocation("svc", "job", f"ok-{i}", timeline=[("Running", 0), ("Succeeded", 20 + i)])
        fc.add_invocation("svc", "job", "bad", timeline=[("Running", 0), ("Failed", 30)], error_message="OOM")
        fc.add_invocation("svc", "job", "long", timeline=[("Running", 0), ("Succeeded", 3000)])

        def program(ids):
            def body():
                for name in ids:
                    gate = StatefulAsyncInvocation(name, service_name="svc", function_name="job", invocation_id=name,
                                                   wait_for_completion=True, timeout_seconds=600)
                    pulumi.export(name, gate.status)
            return body

        def run(body):
            with use_clock(AutoAdvanceClock(fc.clock)):
                return run_program(body, config=fc.stack_config(), secret_keys=("alicloud:secretKey",), host=host)

        result = run(program([f"ok-{i}" for i in range(5)]))
        assert stack.wait_for_rpcs is linear_wait_for_rpcs
        assert [result.outputs[f"ok-{i}"] for i in range(5)] == ["Succeeded"] * 5
        with pytest.raises(ProgramError) as failed:
            run(program(["ok-0", "bad"]))
        assert "invocation svc/job/bad ended Failed: OOM" in failed.value.message
        # The first failure stops the other gates' waits (gating.until_set) and the program fails then,
        # not when the long task ends.
        start = fc.clock.now()
        with pytest.raises(ProgramError) as stopped:
            run(program(["long", "bad"]))
        assert "invocation svc/job/bad ended Failed: OOM" in stopped.value.message
        assert fc.clock.now() - start < 300
        assert any("stopped waiting: another gate failed" in log.message for log in stopped.value.result.logs), \
            stopped.value.result.logs
