"""Gates that judged a task which ended in time as timed out (issue 24, items 1, 2, 4, 5, 11), each
reproduced at the public surface: the data sources through the harness (a real provider host, the
emulator over HTTP) and ``fc-invocation wait`` / ``wait-batch`` (in this process: its clock is the
emulator's; ``main`` is the console script's entry).

The emulator runs on its virtual clock. Where the defect is real time spent in a call (a slow read, a
slow list), the emulator's ``latency`` fault spends it, and the waiter's clock is either the usual
:class:`AutoAdvanceClock` (the transport's own deadline is real time) or :class:`CallTimeClock` (real
time for the calls, none for the sleeps: what a gate on the real clock sees of a slow call). No test
sleeps; the longest spends about 2 s in a slow answer."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time

import pulumi
import pytest

from pulumi_fc_invocation import AsyncTask, AsyncTasks
from pulumi_fc_invocation.testing.harness import ProgramError
from pulumi_fc_invocation.testing.server import FcEmulator
from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock
from pulumi_fc_invocation.waiter import use_clock
from _emulated import seed_history

pytestmark = pytest.mark.usefixtures("fresh")  # each test: histories read afresh, no fault left, no request logged


class CallTimeClock:
    """A waiter's clock that counts the real time of the calls and none of the sleeps: a sleep moves this
    clock and the emulator's at once. It starts at its first reading (the wait's start)."""

    def __init__(self, fc_clock) -> None:
        self.fc = fc_clock
        self.lock = threading.Lock()
        self.origin = None
        self.base = 0.0
        self.skipped = 0.0

    def monotonic(self) -> float:
        with self.lock:
            real = time.monotonic()
            if self.origin is None:
                self.origin, self.base = real, self.fc.now()
            elapsed = real - self.origin + self.skipped
            if self.base + elapsed > self.fc.now():
                self.fc.set(self.base + elapsed)
            return elapsed

    def now(self) -> float:
        self.monotonic()
        return self.fc.now()

    def sleep(self, seconds: float) -> None:
        self.monotonic()
        with self.lock:
            self.skipped += max(0.0, seconds)
        self.monotonic()

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)


class RecordingClock(AutoAdvanceClock):
    """The usual virtual clock, keeping every sleep a waiter asked for (how far apart it polled)."""

    def __init__(self, clock) -> None:
        super().__init__(clock)
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        super().sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await super().asleep(seconds)


class SkewedClock(AutoAdvanceClock):
    """The virtual clock, with this machine's wall clock ``skew`` seconds off FC's (negative: behind)."""

    def __init__(self, clock, skew: float) -> None:
        super().__init__(clock)
        self.skew = skew

    def now(self) -> float:
        return super().now() + self.skew


def on(clock, cli, *args):
    """``cli(*args)`` with the waiter on ``clock`` (over the fc_emulator's own)."""
    with use_clock(clock):
        return cli(*args)


def slow_second_read(fc, task_id, latency):
    """The task's first read is answered at once, its second ``latency`` real seconds late (a slow network)."""
    fc.inject_fault("get", extra_fields={"unrelated": 1}, match=task_id, times=1)
    fc.inject_fault("get", latency=latency, match=task_id, times=1)


def task_gate(name, function, task_id, **kwargs):
    def program():
        gate = AsyncTask(name, function_name=function, task_id=task_id, wait_for_completion=True, **kwargs)
        pulumi.export("status", gate.status)
        pulumi.export("waited", gate.waited_seconds)
    return program


# --- 1: the read at the deadline is sent ------------------------------------------------------------


def test_a_gate_reads_at_its_deadline_after_a_slow_read_used_up_real_time(fc, run):
    # Ends at 1.5 s, inside the gate's last interval; the second read (about 1 s) is answered too late.
    fc.add_invocation(None, "deadline", "ends-late", timeline=[("Running", 0), ("Succeeded", 1.5)])
    fc.add_invocation(None, "deadline", "never", timeline=[("Running", 0)])
    slow_second_read(fc, "ends-late", latency=4)
    result = run(task_gate("gate", "deadline", "ends-late", timeout_seconds=2))
    assert result.outputs["status"] == "Succeeded"
    reads = [r for r in fc.requests if r.route == "get" and r.invocation_id == "ends-late"]
    assert len(reads) >= 3  # the quick one, the slow one, and the one at the deadline (then the engine's)

    # A task still running at the deadline: timed out, on that last read.
    with pytest.raises(ProgramError) as info:
        run(task_gate("gate", "deadline", "never", timeout_seconds=2))
    assert "timed out waiting for task deadline/never: last status Running after 2s" in info.value.message


def test_wait_reads_at_its_deadline_exit_0(fc_emulator, cli):
    fc_emulator.add_invocation(None, "deadline3", "late", timeline=[("Running", 0), ("Succeeded", 1.5)])

    slow_second_read(fc_emulator, "late", latency=4)
    code, out, err = cli("wait", "deadline3/late", "--timeout", "2s")
    assert code == 0, err
    assert "task deadline3/late Succeeded after 2s" in out


def test_the_cli_process_reads_at_its_deadline_after_a_slow_read_used_up_its_time(tmp_path):
    # Real clock: the second read is answered after the --timeout (cut there); the task ended before it.
    with FcEmulator(clock="real") as emulator:
        emulator.add_invocation(None, "deadline4", "late", timeline=[("Running", 0), ("Succeeded", 3.5)])
        slow_second_read(emulator, "late", latency=6)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "LANG": "C.UTF-8",
               **emulator.env()}
        proc = subprocess.run([sys.executable, "-m", "pulumi_fc_invocation.cli", "wait", "deadline4/late",
                               "--timeout", "4s", "--no-history"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "task deadline4/late Succeeded" in proc.stdout


# --- 2: the duration-history call is bounded within the gate ----------------------------------------


def test_a_slow_history_list_cannot_take_the_gate_past_its_deadline(fc, run):
    seed_history(fc, None, "slowlist", around=1.0)
    fc.add_invocation(None, "slowlist", "job", timeline=[("Running", 0), ("Succeeded", 1.5)])

    fc.inject_fault("list", latency=6, times=1)  # the history's list call answers 6 s late
    result = run(task_gate("gate", "slowlist", "job", timeout_seconds=2), clock=CallTimeClock(fc.clock))
    assert result.outputs["status"] == "Succeeded"
    assert [r.query.get("status") for r in fc.requests if r.route == "list"] == ["Succeeded"]
    assert result.outputs["waited"] <= 2 + 1.0  # the timeout and the read at it (min(5, max(1, 0.1 x 2)))


def test_wait_with_a_slow_history_list_still_reads_at_its_deadline_exit_0(fc_emulator, cli):
    seed_history(fc_emulator, None, "slowlist2", around=1.0)
    fc_emulator.add_invocation(None, "slowlist2", "job", timeline=[("Running", 0), ("Succeeded", 1.5)])
    fc_emulator.inject_fault("list", latency=6, times=1)
    code, out, err = on(CallTimeClock(fc_emulator.clock), cli, "wait", "slowlist2/job", "--timeout", "2s")
    assert code == 0, err
    assert "task slowlist2/job Succeeded" in out


# --- 4: a poll cap the user sets holds ---------------------------------------------------------------


def test_a_poll_cap_the_user_sets_holds_on_the_duration_aware_schedule(fc, run):
    # Runs of about 25 minutes: the schedule would sleep up to 300 s; this one fails after 60 s.
    seed_history(fc, None, "capped", around=1500.0)
    fc.add_invocation(None, "capped", "fails-early", error_message="boom", timeline=[("Running", 0), ("Failed", 60)])
    clock = RecordingClock(fc.clock)
    result = run(task_gate("gate", "capped", "fails-early", timeout_seconds=3600, max_poll_interval_seconds=10,
                           fail_on_statuses=[]), clock=clock)
    assert result.outputs["status"] == "Failed"
    assert [r.query.get("status") for r in fc.requests if r.route == "list"] == ["Succeeded"]  # a history
    assert max(clock.sleeps) <= 10, clock.sleeps
    assert result.outputs["waited"] <= 70


def test_a_poll_cap_the_user_sets_holds_on_a_batch_gate(fc, run):
    seed_history(fc, None, "cappedbatch", around=1500.0)
    for i in range(3):
        fc.add_invocation(None, "cappedbatch", f"b-{i}", timeline=[("Running", 0), ("Succeeded", 60 + i)])
    clock = RecordingClock(fc.clock)

    def program():
        batch = AsyncTasks("batch", "cappedbatch", task_id_prefix="b-", wait_for_completion=True, expected_count=3,
                           timeout_seconds=3600, max_poll_interval_seconds=10)
        pulumi.export("succeeded", batch.all_succeeded)
        pulumi.export("waited", batch.waited_seconds)

    result = run(program, clock=clock)
    assert result.outputs["succeeded"] is True
    assert max(clock.sleeps) <= 10, clock.sleeps
    assert result.outputs["waited"] <= 62 + 10


def test_a_poll_cap_the_user_sets_holds_after_jitter_on_the_default_schedule(fc, run):
    fc.add_invocation(None, "capped2", "long", timeline=[("Running", 0), ("Succeeded", 400)])
    clock = RecordingClock(fc.clock)
    result = run(task_gate("gate", "capped2", "long", timeout_seconds=3600, max_poll_interval_seconds=10),
                 clock=clock)
    assert result.outputs["status"] == "Succeeded"
    assert len(clock.sleeps) > 30 and max(clock.sleeps) <= 10, clock.sleeps


def test_without_a_cap_the_duration_aware_schedule_may_poll_sparsely(fc, run):
    # The cap is the user's: left unset, long runs are still polled sparsely before their likely end.
    seed_history(fc, None, "uncapped", around=1500.0)
    fc.add_invocation(None, "uncapped", "job", timeline=[("Running", 0), ("Succeeded", 1500)])
    clock = RecordingClock(fc.clock)
    result = run(task_gate("gate", "uncapped", "job", timeout_seconds=3600), clock=clock)
    assert result.outputs["status"] == "Succeeded"
    assert max(clock.sleeps) > 100


def test_use_duration_history_false_keeps_the_default_schedule_without_a_list_call(fc, run):
    seed_history(fc, None, "nohistory", around=600.0)
    fc.add_invocation(None, "nohistory", "job", timeline=[("Running", 0), ("Succeeded", 100)])
    result = run(task_gate("gate", "nohistory", "job", timeout_seconds=3600, use_duration_history=False))
    assert result.outputs["status"] == "Succeeded"
    assert fc.request_count("list") == 0


def test_use_duration_history_false_on_a_batch_gate_reads_no_history(fc, run):
    seed_history(fc, None, "nohistorybatch", around=600.0)
    for i in range(2):
        fc.add_invocation(None, "nohistorybatch", f"b-{i}", timeline=[("Running", 0), ("Succeeded", 100)])

    def program():
        batch = AsyncTasks("batch", "nohistorybatch", task_id_prefix="b-", wait_for_completion=True,
                           expected_count=2, timeout_seconds=3600, use_duration_history=False)
        pulumi.export("succeeded", batch.all_succeeded)
        pulumi.export("history", batch.use_duration_history)

    result = run(program)
    assert result.outputs["succeeded"] is True and result.outputs["history"] is False
    assert [r for r in fc.requests if r.route == "list" and r.query.get("status") == "Succeeded"] == []


def test_wait_holds_the_max_poll_interval_given_with_a_history(fc_emulator, cli):
    seed_history(fc_emulator, None, "capped3", around=1500.0)
    fc_emulator.add_invocation(None, "capped3", "job", error_message="boom", timeline=[("Running", 0), ("Failed", 60)])
    clock = RecordingClock(fc_emulator.clock)
    code, out, err = on(clock, cli, "wait", "capped3/job", "--max-poll-interval", "10s", "--timeout", "1h")
    assert code == 1, err
    assert "at most 10s apart before the likely end" in err
    assert fc_emulator.request_count("list") == 1
    assert max(clock.sleeps) <= 10, clock.sleeps


# --- 5: a task's age on FC's clock ------------------------------------------------------------------


def test_a_task_age_is_measured_on_fcs_clock_when_this_machines_is_behind(fc, run):
    seed_history(fc, None, "skewed", around=600.0)
    started = fc.clock.now() - 400  # 400 s into runs of about 600 s: about 200 s left
    gates = 6
    for i in range(gates):
        fc.add_invocation(None, "skewed", f"s-{i}", started_at=started, timeline=[("Running", 0), ("Succeeded", 600)])
    begin = fc.clock.now()

    def program():
        for i in range(gates):
            gate = AsyncTask(f"g{i}", function_name="skewed", task_id=f"s-{i}", wait_for_completion=True,
                             timeout_seconds=3600)
            pulumi.export(f"w{i}", gate.waited_seconds)

    result = run(program, clock=SkewedClock(fc.clock, -600.0))  # this machine's clock 10 minutes behind
    late = sorted(result.outputs[f"w{i}"] - (started + 600 - begin) for i in range(gates))
    assert late[0] >= 0
    assert late[gates // 2] < 10, late  # dense around the likely end, as on a clock in step with FC's


def test_wait_measures_a_task_age_on_fcs_clock_when_this_machines_is_behind(fc_emulator, cli):
    seed_history(fc_emulator, None, "skewed2", around=600.0)
    started = fc_emulator.clock.now() - 400  # about 200 s left
    fc_emulator.add_invocation(None, "skewed2", "job", started_at=started,
                               timeline=[("Running", 0), ("Succeeded", 600)])
    late = []
    for i in range(5):  # five waits, as one might notice late by chance
        fc_emulator.clock.set(started + 400)
        clock = SkewedClock(fc_emulator.clock, -600.0)
        code, out, err = on(clock, cli, "wait", "skewed2/job", "--timeout", "1h")
        assert code == 0, err
        late.append(fc_emulator.clock.now() - (started + 600))
    assert sorted(late)[2] < 10, late


# --- 11: the CLI calls an FC 3.0 task a task --------------------------------------------------------


def test_wait_timeout_and_failure_name_a_task(fc_emulator, cli):
    fc_emulator.add_invocation(None, "noun", "forever", timeline=[("Running", 0)])
    fc_emulator.add_invocation(None, "noun", "bad", error_message="boom", timeline=[("Failed", 0)])
    code, out, err = cli("wait", "noun/forever", "--timeout", "1m")
    assert code == 2
    assert "error: timed out waiting for task noun/forever: last status Running after 1m00s" in err
    assert "invocation" not in err
    code, out, err = cli("wait", "noun/bad")
    assert code == 1
    assert "error: task noun/bad ended Failed: boom" in err
    assert "invocation" not in err


def test_wait_batch_counts_tasks(fc_emulator, cli):
    for i in range(2):
        fc_emulator.add_invocation(None, "nouns", f"b-{i}", timeline=[("Running", 0), ("Succeeded", 5)])
    code, out, err = cli("wait-batch", "nouns", "--prefix", "b-", "--expected-count", "2", "--timeout", "1m")
    assert code == 0, err
    assert "at least 2 tasks" in err
    assert "invocation" not in err + out


def test_the_cli_process_names_a_failed_task_a_task(tmp_path):
    with FcEmulator(clock="real") as emulator:
        emulator.add_invocation(None, "noun", "bad", error_message="boom", timeline=[("Failed", 0)])
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "LANG": "C.UTF-8",
               **emulator.env()}
        proc = subprocess.run([sys.executable, "-m", "pulumi_fc_invocation.cli", "wait", "noun/bad"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "error: task noun/bad ended Failed: boom" in proc.stderr


# --- review of items 1-2: one deadline for every call of a wait, a short read at the deadline ----------------


def test_a_batch_poll_of_two_slow_pages_keeps_to_the_gate_deadline(fc, run):
    """A poll lists two pages; each got the whole budget of the poll (the time left when it started), so a
    poll of N pages could take N times it: this batch gate reported about 6 s waited on a 4 s timeout."""
    for i in range(150):  # two pages of members, ending 3 s in
        fc.add_invocation(None, "slowpages", f"p-{i:03d}", timeline=[("Running", 0), ("Succeeded", 3)])
    fc.inject_fault("list", extra_fields={"note": "fast"}, times=2)  # the first poll's two pages at once
    fc.inject_fault("list", latency=2.5, times=2)  # the second poll's two pages 2.5 s each

    def program():
        batch = AsyncTasks("batch", "slowpages", task_id_prefix="p-", wait_for_completion=True, expected_count=150,
                           timeout_seconds=4, use_duration_history=False)
        pulumi.export("succeeded", batch.all_succeeded)
        pulumi.export("waited", batch.waited_seconds)

    result = run(program, clock=CallTimeClock(fc.clock))
    assert result.outputs["succeeded"] is True
    final_read_budget = 1.0  # min(5, max(1, 0.1 x timeout))
    assert result.outputs["waited"] <= 4 + final_read_budget, result.outputs["waited"]


# --- review of item 2: one gate's short budget does not spoil the function's shared history -----------------


def test_a_history_list_cut_by_one_gates_deadline_is_not_remembered_for_the_others(fc, run):
    """Gate A's history list is cut by A's 2 s deadline; gate B of the same function, minutes of timeout,
    reads the history itself (before: A's cut call was remembered as "unavailable" for 300 s, and B
    polled on the default schedule without asking)."""
    seed_history(fc, None, "spoiled", around=1.0)
    fc.add_invocation(None, "spoiled", "a", timeline=[("Running", 0), ("Succeeded", 1.5)])
    fc.inject_fault("list", latency=6, times=1)
    assert run(task_gate("a", "spoiled", "a", timeout_seconds=2), clock=CallTimeClock(fc.clock)).outputs["status"] \
        == "Succeeded"
    fc.add_invocation(None, "spoiled", "b", timeline=[("Running", 0), ("Succeeded", 3)])
    assert run(task_gate("b", "spoiled", "b", timeout_seconds=600)).outputs["status"] == "Succeeded"
    assert len([r for r in fc.requests if r.route == "list" and r.query.get("status") == "Succeeded"]) == 2


def test_a_gate_waits_for_another_gates_history_list_no_longer_than_its_own_budget(fc, run):
    """Gate A's history list takes 4 s; gate B of the same function (2 s timeout, first read a little later)
    waited for it on the history's lock without limit and reported about 4 s waited."""
    seed_history(fc, None, "sharedlock", around=1.0)
    fc.add_invocation(None, "sharedlock", "a", timeline=[("Running", 0), ("Succeeded", 10)])
    fc.add_invocation(None, "sharedlock", "b", timeline=[("Running", 0), ("Succeeded", 1.5)])
    fc.inject_fault("list", latency=4, times=1)  # A's history list
    fc.inject_fault("get", latency=0.5, match="b", times=1)  # B's first read: A holds the history's lock by then

    def program():
        AsyncTask("a", function_name="sharedlock", task_id="a", wait_for_completion=True, timeout_seconds=600)
        b = AsyncTask("b", function_name="sharedlock", task_id="b", wait_for_completion=True, timeout_seconds=2)
        pulumi.export("status", b.status)
        pulumi.export("waited", b.waited_seconds)

    outputs = run(program, clock=CallTimeClock(fc.clock)).outputs
    assert outputs["status"] == "Succeeded"
    assert outputs["waited"] <= 2 + 1.0, outputs  # its timeout and the read at it
