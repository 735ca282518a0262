"""Client behaviours that need the emulator's faults: retried truncated bodies, idempotent stop."""

import pytest

from pulumi_fc_invocation import BadRequestError, TransportError
from pulumi_fc_invocation.testing.server import FcEmulator


@pytest.fixture
def fc():
    with FcEmulator(clock="virtual") as emu:
        emu.add_function("svc", "fn", outcome="Succeeded", duration=60)
        yield emu


def test_truncated_body_on_a_read_is_retried(fc):
    fc.client().invoke_async("svc", "fn", "{}", invocation_id="t-1")
    fc.inject_fault(route="get", truncate=True, times=1)
    client = fc.client(backoff_factor=0.01)
    assert client.get("svc/fn/t-1").invocation_id == "t-1"
    assert fc.request_count("get") == 2


def test_truncated_body_persisting_is_a_classified_error(fc):
    fc.client().invoke_async("svc", "fn", "{}", invocation_id="t-2")
    fc.inject_fault(route="get", truncate=True, times=None)
    client = fc.client(backoff_factor=0.01, max_retries=2)
    with pytest.raises(TransportError, match="cut off"):
        client.get("svc/fn/t-2")
    assert fc.request_count("get") == 3


def test_stop_applied_but_answered_late_is_success(fc):
    client = fc.client(backoff_factor=0.01, timeout=(1, 0.2), max_retries=2)
    client.invoke_async("svc", "fn", "{}", invocation_id="s-1")
    fc.inject_fault(route="stop", latency=0.5, times=1)
    client.stop_stateful_async_invocation("svc", "fn", "s-1")
    assert client.get("svc/fn/s-1").status.value == "Stopped"
    assert fc.request_count("stop") == 2


def test_stopping_a_finished_task_is_still_an_error(fc):
    client = fc.client()
    client.invoke_async("svc", "fn", "{}", invocation_id="s-2")
    fc.advance(120)
    with pytest.raises(BadRequestError) as info:
        client.stop_stateful_async_invocation("svc", "fn", "s-2")
    assert info.value.code == "InvalidArgument"


@pytest.mark.parametrize("api", ["fc2", "fc3"])
def test_starts_on_one_client_share_its_connection(fc, api):
    """A start's answer is an empty 202: once read, its connection goes back to the pool (wire.read_body),
    so five starts and a read on one client open one connection, not one each."""
    fc.add_function(None, "task-fn", outcome="Succeeded", duration=60)
    client, before = fc.client(), fc.connections_accepted
    for i in range(5):
        if api == "fc2":
            client.invoke_async("svc", "fn", "{}", invocation_id=f"c-{i}")
        else:
            client.invoke_async_task("task-fn", "{}", task_id=f"c-{i}")
    if api == "fc2":
        assert client.get("svc/fn/c-4").invocation_id == "c-4"
    else:
        assert client.get_async_task("task-fn", "c-4").task_id == "c-4"
    assert fc.connections_accepted - before <= 1
