"""A batch gate opens only on a whole listing (issue 24, items 6 and 7).

Item 6: a member listed just after the gate opened failed the deployment in the engine's final read
with "an API error ended the wait" and a pointer to a warning that was never logged. The read now
says what happened and how to wait for a batch still being started (``expected_count``).

Item 7: a 200 answer ``{}`` (no list key) was read as "no tasks, no next page": the listing stopped
after page 1 and the gate opened on the 100 members it saw, a Failed one among the rest. The emulator
answers page 1 as it is (a harmless extra field consumes the first fault) and page 2 ``{}``; the gate
must not open: through the data sources (harness), ``fc-invocation wait-batch`` (a process) and the
plugin (gRPC).
"""

from __future__ import annotations

import pytest

from pulumi_fc_invocation import AsyncTasks, StatefulAsyncInvocations, get_async_tasks, get_async_tasks_output, \
    get_stateful_async_invocations
from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.harness import ProgramError, run_program
from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock
from pulumi_fc_invocation.waiter import use_clock
from _cli import base_env
from _cli import run as cli
from _plugin_rpc import configured, struct
from pulumi.runtime.proto import provider_pb2

MEMBERS = 150
FAILED = 120  # listed on page 2 (oldest first)


def seed(emulator, service, function, prefix):
    """150 members that ended an hour ago, the 121st Failed."""
    start = emulator.now() - 3600
    for i in range(MEMBERS):
        emulator.add_invocation(service, function, f"{prefix}{i:03d}", started_at=start + i,
                                error_message="bad row 7" if i == FAILED else "",
                                timeline=[("Running", 0), ("Failed" if i == FAILED else "Succeeded", 5)])


def second_page_empty(emulator, listings=1):
    """Each of the next ``listings`` two-page listings: page 1 as it is, page 2 a bare ``{}``."""
    for _ in range(listings):
        emulator.inject_fault("list", extra_fields={"note": "page 1 as it is"})
        emulator.inject_fault("list", status=200, body=b"{}", content_type="application/json")


KINDS = {
    "fc3": (None, "etl3", "job3-", "task_id_prefix", "etl3/job3-120 ended Failed: bad row 7"),
    "fc2": ("svc", "etl2", "job2-", "invocation_id_prefix", "svc/etl2/job2-120 ended Failed: bad row 7"),
}


def names_of(kind):
    """The batch's arguments, and the failure its verdict must name."""
    service, function, prefix, prefix_key, failure = KINDS[kind]
    names = {"function_name": function, prefix_key: prefix}
    if service:
        names["service_name"] = service
    return names, failure


@pytest.fixture(scope="module")
def seeded(fc):
    for service, function, prefix, _, _ in KINDS.values():
        seed(fc, service, function, prefix)
    return fc


@pytest.mark.parametrize("kind", KINDS)
def test_a_waiting_batch_data_source_does_not_open_on_a_listing_cut_short(seeded, run, kind):
    names, failure = names_of(kind)
    cls = StatefulAsyncInvocations if kind == "fc2" else AsyncTasks
    second_page_empty(seeded, listings=2)  # the program's poll, then the engine's read
    try:
        with pytest.raises(ProgramError) as caught:
            run(lambda: cls("batch", wait_for_completion=True, timeout_seconds=600, **names))
    finally:
        seeded.clear_faults()
    assert "1 " in caught.value.message and failure in caught.value.message, caught.value.message


@pytest.mark.parametrize("kind", KINDS)
def test_a_batch_function_form_does_not_judge_a_listing_cut_short(seeded, run, kind):
    names, _ = names_of(kind)
    get = get_stateful_async_invocations if kind == "fc2" else get_async_tasks
    seen = []
    second_page_empty(seeded)
    try:
        with pytest.raises(ProgramError) as caught:
            run(lambda: seen.append(get(**names)))
    finally:
        seeded.clear_faults()
    assert not seen  # no "100/100 succeeded" result
    message = caught.value.message
    assert "the body is not a list of" in message and f"{'invocations' if kind == 'fc2' else 'tasks'}: Field required" \
        in message, message


@pytest.mark.parametrize("kind", KINDS)
def test_a_member_listed_just_after_the_gate_opens_is_named_as_such(fc, config, host, kind):
    service, function, prefix, prefix_key, _ = KINDS[kind]
    function = "late" + function
    start = fc.now() - 600
    for i in range(3):
        fc.add_invocation(service, function, f"{prefix}{i}", started_at=start + i, timeline=[("Succeeded", 1)])
    names = {"function_name": function, prefix_key: prefix, **({"service_name": service} if service else {})}
    cls = StatefulAsyncInvocations if service else AsyncTasks
    late = []

    def on_log(record):  # the gate says it opened: a fourth member is started before the engine's read
        if "3/3 succeeded, 0 failed after" in record.message and not late:
            late.append(fc.add_invocation(service, function, f"{prefix}late", timeline=[("Running", 0)]))

    with use_clock(AutoAdvanceClock(fc.clock)), pytest.raises(ProgramError) as caught:
        run_program(lambda: cls("batch", wait_for_completion=True, timeout_seconds=600, **names), config=config,
                    secret_keys=("alicloud:secretKey", "alicloud:securityToken"), host=host, on_log=on_log)
    assert late, "the gate never said it opened"
    message = caught.value.message
    warnings = [log.message for log in caught.value.result.logs if log.severity == "warning"]
    assert "API error" not in message and ("see the warning" not in message or warnings), message
    assert f"{prefix}late" in message and "after the gate opened" in message and "expected_count" in message, message


@pytest.mark.parametrize("form", ["blocking", "output"])
def test_a_function_form_whose_wait_an_api_error_ended_names_the_error(seeded, run, form):
    """The function forms log no warning: the error that ended the wait is the verdict, not a later read
    of an unfinished batch (which pointed at that warning, or now would say the batch grew)."""
    function = f"refused{form}"
    seeded.add_invocation(None, function, "r-1", timeline=[("Running", 0), ("Succeeded", 600)])
    get = get_async_tasks if form == "blocking" else get_async_tasks_output
    seeded.inject_fault("list", code="AccessDenied", message="the role may not list tasks")
    try:
        with pytest.raises(ProgramError) as caught:
            run(lambda: get(function_name=function, task_id_prefix="r-", wait_for_completion=True,
                            timeout_seconds=1200))
    finally:
        seeded.clear_faults()
    message = caught.value.message
    assert "the role may not list tasks" in message and "AccessDenied" in message, message
    assert "see the warning" not in message and "after the gate opened" not in message, message


# --- the CLI and the plugin, on a real clock ------------------------------------------------------


@pytest.fixture(scope="module")
def live():
    with FcEmulator(clock="real") as emulator:
        seed(emulator, None, "etl", "job-")
        yield emulator


def test_wait_batch_does_not_open_on_a_listing_cut_short(live, tmp_path):
    env = {**base_env(tmp_path), **live.env()}
    second_page_empty(live)
    try:
        proc = cli(env, "wait-batch", "etl", "--prefix", "job-", "--timeout", "60s", "--poll-interval", "0.2s")
    finally:
        live.clear_faults()
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "etl/job-120" in proc.stderr and "100/100 succeeded" not in proc.stdout + proc.stderr


def test_the_plugin_batch_gate_does_not_open_on_a_listing_cut_short(plugin, live):
    configured(plugin, live)
    second_page_empty(live)
    try:
        with pytest.raises(Exception) as caught:
            plugin.Create(provider_pb2.CreateRequest(
                urn="urn:pulumi:dev::proj::fc-invocation:index:AsyncTasks::cut", properties=struct(
                    {"functionName": "etl", "taskIdPrefix": "job-", "waitForCompletion": True,
                     "timeoutSeconds": 60, "pollIntervalSeconds": 0.2})))
    finally:
        live.clear_faults()
    message = caught.value.details()
    assert "etl/job-120 ended Failed: bad row 7" in message, message


# --- a first page without its list key and without a next page: an empty listing ---------------------------


def first_page(emulator, body, listings=1):
    """The next ``listings`` listings' first page: ``body`` (a 200 JSON answer)."""
    for _ in range(listings):
        emulator.inject_fault("list", status=200, body=body, content_type="application/json")


@pytest.mark.parametrize("kind", KINDS)
def test_a_first_page_without_its_list_key_or_a_next_page_is_an_empty_listing(seeded, run, kind):
    """FC may leave out an empty list (Go's omitempty): a single page ``{}`` is an empty listing, not an
    error (item 7's fix refused it, so every empty listing failed)."""
    names, _ = names_of(kind)
    names = {**names, "function_name": "nothing" + kind}
    get = get_stateful_async_invocations if kind == "fc2" else get_async_tasks
    seen = []
    first_page(seeded, b"{}")
    try:
        run(lambda: seen.append(get(**names)))
    finally:
        seeded.clear_faults()
    [batch] = seen
    assert batch.total == 0 and list(batch.ids) == [], batch


@pytest.mark.parametrize("kind", KINDS)
def test_a_first_page_without_its_list_key_but_with_a_next_page_is_refused(seeded, run, kind):
    names, _ = names_of(kind)
    get = get_stateful_async_invocations if kind == "fc2" else get_async_tasks
    seen = []
    first_page(seeded, b'{"nextToken": "page-2"}')
    try:
        with pytest.raises(ProgramError) as caught:
            run(lambda: seen.append(get(**names)))
    finally:
        seeded.clear_faults()
    assert not seen
    message = caught.value.message
    assert "the body is not a list of" in message and f"{'invocations' if kind == 'fc2' else 'tasks'}: Field required" \
        in message, message


def test_a_late_batch_member_with_an_earlier_start_time_is_seen(fc):
    from pulumi_fc_invocation.gate.batch import BatchTracker
    from pulumi_fc_invocation.gate.spec import BatchSpec

    now = fc.clock.now()
    for i in range(4):  # four members, all ended, started one second apart
        fc.add_invocation("late", "fn", f"lm-{i}", started_at=now - 10 + i, timeline=[("Succeeded", 1)])
    spec = BatchSpec.build(service_name="late", function_name="fn", invocation_id_prefix="lm-",
                           wait_for_completion=True, expected_count=5)
    tracker = BatchTracker(fc.client(), spec)
    assert tracker.poll().total == 4 and tracker.poll().total == 4
    # FC lists the fifth only now, though it started half a second before the newest known member.
    fc.add_invocation("late", "fn", "lm-4", started_at=now - 10 + 3 - 0.5, timeline=[("Succeeded", 1)])
    summary = tracker.poll()
    assert summary.total == 5 and summary.complete
