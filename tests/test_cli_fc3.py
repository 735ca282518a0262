"""``fc-invocation`` with FC 3.0 ids and functions, as a subprocess against a real FcEmulator
on wall time, stepped ahead where tasks must have ended (tests/_clocks.py).

An id of two segments ``fn[.q]/task`` is FC 3.0, three ``svc[.q]/fn/id`` FC 2.0; a target of one
segment ``fn[.q]`` is FC 3.0, two ``svc[.q]/fn`` FC 2.0. Same exit codes and JSON shapes as 2.0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from _cli import assert_one_error_line as one_error
from _cli import base_env, run  # the same subprocess runner: no traceback, no secret in the output
from _clocks import SteppedRealClock
from pulumi_fc_invocation.testing import FcEmulator

PAYLOAD_MARKER = "fc3-payload-marker-5d1e"
RETURN_MARKER = "fc3-return-marker-0a7c"
ERROR_TEXT = "UnhandledInvocationError: disk full"


@pytest.fixture(scope="module")
def fc():
    with FcEmulator(clock=SteppedRealClock()) as emulator:
        emulator.add_function(None, "render", qualifiers=["prod"], duration=0.3,
                              return_payload=json.dumps({"frames": RETURN_MARKER}))
        emulator.add_function(None, "crash", outcome="Failed", duration=0.2, error_message=ERROR_TEXT)
        emulator.add_function(None, "forever", outcome="Running")
        emulator.add_function("video", "transcode", duration=0.2)  # FC 2.0, also seen as video$transcode
        client = emulator.client()
        payload = json.dumps({"token": PAYLOAD_MARKER})
        client.invoke_async_task("render", payload, task_id="done-1", qualifier="prod")
        client.invoke_async_task("render", payload, task_id="done-2", qualifier="prod")
        client.invoke_async_task("render", payload, task_id="other-1", qualifier="prod")
        client.invoke_async_task("crash", payload, task_id="bad-1")
        client.invoke_async_task("forever", "{}", task_id="run-1")
        client.invoke_async("video", "transcode", "{}", invocation_id="old-1")
        emulator.advance(0.5)  # the seeded tasks end
        emulator.test_client = client
        yield emulator
        client.close()


@pytest.fixture
def env(fc, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    return {**base_env(home), **fc.env()}


# --- get ------------------------------------------------------------------------------------------


def test_get_table(env):
    proc = run(env, "get", "render.prod/done-1")
    assert proc.returncode == 0, proc.stderr
    rows = {line[:12].strip(): line[12:].strip() for line in proc.stdout.splitlines() if not line.startswith(" ")}
    assert rows["id"] == "render.prod/done-1" and rows["status"] == "Succeeded"
    assert PAYLOAD_MARKER not in proc.stdout and RETURN_MARKER not in proc.stdout  # payloads only when asked


def test_get_table_show_payloads(env):
    proc = run(env, "get", "render.prod/done-1", "--show-payloads")
    assert proc.returncode == 0
    assert "task payload" in proc.stdout and PAYLOAD_MARKER in proc.stdout and RETURN_MARKER in proc.stdout


def test_get_json_shape(env):
    proc = run(env, "get", "render.prod/done-1", "--output", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["id"] == "render.prod/done-1" and data["task_id"] == "done-1"
    assert data["function_name"] == "render" and data["qualifier"] == "prod" and data["status"] == "Succeeded"
    assert data["function_arn"].endswith("functions/render")
    assert PAYLOAD_MARKER in data["task_payload"] and RETURN_MARKER in data["return_payload"]
    assert data["started_time"].endswith("Z") and data["end_time"].endswith("Z")
    assert isinstance(data["events"], list) and all(e["timestamp"].endswith("Z") for e in data["events"])
    assert "invocation_id" not in data


def test_get_fc2_function_through_fc3(env):
    proc = run(env, "get", "video$transcode/old-1", "--output", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["id"] == "video$transcode/old-1" and data["task_id"] == "old-1"


def test_get_still_reads_fc2_ids(env):
    proc = run(env, "get", "video/transcode/old-1", "--output", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["invocation_id"] == "old-1"


def test_get_unknown_task_exits_4(env):
    one_error(run(env, "get", "render/nope-1"), 4, "AsyncTaskNotFound", "NotFoundError")


def test_get_unknown_function_exits_4(env):
    one_error(run(env, "get", "ghost/t-1"), 4, "FunctionNotFound")


@pytest.mark.parametrize("bad,needle", [
    ("render", "FUNCTION[.QUALIFIER]/TASK_ID"),
    ("a/b/c/d", "FUNCTION[.QUALIFIER]/TASK_ID"),
    ("9render/t", "function_name"),
    ("render/9t", "task_id"),
    ("render./t", "qualifier"),
])
def test_get_bad_ids_exit_3(env, bad, needle):
    one_error(run(env, "get", bad), 3, needle)


@pytest.mark.parametrize("command", ["get", "wait"])
def test_a_slip_of_the_separators_is_answered_with_the_id_fc_knows(env, command):
    """`render/prod/done-2` (a `/` for the qualifier's `.`) reads as an FC 2.0 id whose service FC does
    not know: the line names the FC 3.0 task it probably meant; the reverse too (issue 27, point 6)."""
    one_error(run(env, command, "render/prod/done-2"), 4, "ServiceNotFound",
              "; did you mean render.prod/done-2 (an FC 3.0 task, Succeeded)?")
    one_error(run(env, command, "video.transcode/old-1"), 4, "FunctionNotFound",
              "; did you mean video/transcode/old-1 (an FC 2.0 invocation, Succeeded)?")
    # A task FC does not know under a function it knows: no other reading is offered.
    line = one_error(run(env, command, "render.prod/nope-3"), 4, "AsyncTaskNotFound")
    assert "did you mean" not in line


@pytest.mark.parametrize("slip, meant", [
    ("render:prod/done-1", "render.prod/done-1"),
    ("render@prod/done-1", "render.prod/done-1"),
    ("render.prod.done-1", "render.prod/done-1"),
    ("render.prod//done-1", "render.prod/done-1"),
    ("render.prod/done-1/", "render.prod/done-1"),
    (" render.prod done-1", "render.prod/done-1"),
])
def test_an_id_broken_by_a_likely_slip_is_refused_with_the_id_it_meant(fc, env, slip, meant):
    fc.reset_requests()
    one_error(run(env, "get", slip), 3, f"; did you mean {meant!r}?")
    assert fc.request_count() == 0  # said before any request
    assert run(env, "get", meant).returncode == 0


def test_an_id_of_one_part_says_which_part_is_missing(env):
    one_error(run(env, "get", "render.prod"), 3, "'render.prod' names a function: add the task id, render.prod/TASK_ID")
    one_error(run(env, "wait", "done-1"), 3, "'done-1' is one part: add the function")


def test_wrong_secret_exits_4(env):
    proc = run({**env, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "not-the-secret"}, "get", "render.prod/done-1")
    one_error(proc, 4, "SignatureNotMatch", "AuthenticationError")


# --- wait -----------------------------------------------------------------------------------------


def test_wait_succeeded_exits_0(env):
    proc = run(env, "wait", "render.prod/done-2", "--timeout", "10s")
    assert proc.returncode == 0, proc.stderr
    assert "render.prod/done-2 had already Succeeded (ran 300ms" in proc.stdout


def test_wait_json_is_the_task(env):
    proc = run(env, "wait", "render.prod/done-2", "--timeout", "10s", "--output", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["id"] == "render.prod/done-2" and data["status"] == "Succeeded" and data["task_id"] == "done-2"


def test_wait_failed_exits_1(env):
    one_error(run(env, "wait", "crash/bad-1", "--timeout", "10s"), 1, "crash/bad-1", "Failed", "disk full")


def test_wait_failed_not_in_fail_on_exits_0(env):
    proc = run(env, "wait", "crash/bad-1", "--timeout", "10s", "--fail-on", "")
    assert proc.returncode == 0 and "Failed" in proc.stdout


def test_wait_timeout_exits_2(env):
    one_error(run(env, "wait", "forever/run-1", "--timeout", "1s", "--poll-interval", "0.2s"), 2, "forever/run-1")


def test_wait_not_found_exits_4(env):
    one_error(run(env, "wait", "render/nope-2", "--timeout", "5s"), 4, "AsyncTaskNotFound")


# --- list -----------------------------------------------------------------------------------------


def test_list_json(env):
    proc = run(env, "list", "render.prod", "--output", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {item["task_id"] for item in data} == {"done-1", "done-2", "other-1"}
    assert {item["id"] for item in data} == {"render.prod/done-1", "render.prod/done-2", "render.prod/other-1"}
    assert all("task_payload" not in item for item in data)


def test_list_filters_and_table(env):
    proc = run(env, "list", "render.prod", "--prefix", "done-", "--status", "Succeeded")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("TASK ID")
    assert sorted(line.split()[0] for line in lines[1:]) == ["done-1", "done-2"]


def test_list_show_payloads(env):
    proc = run(env, "list", "render.prod", "--prefix", "done-1", "--show-payloads", "--output", "json")
    assert proc.returncode == 0
    (item,) = json.loads(proc.stdout)
    assert PAYLOAD_MARKER in item["task_payload"]


def test_list_unknown_function_exits_4(env):
    one_error(run(env, "list", "ghost"), 4, "FunctionNotFound")


def test_list_bad_target_exits_3(env):
    one_error(run(env, "list", "a/b/c"), 3, "FUNCTION[.QUALIFIER]")


# --- wait-batch -----------------------------------------------------------------------------------


def test_wait_batch_succeeded_exits_0(env):
    proc = run(env, "wait-batch", "render.prod", "--prefix", "done-", "--expected-count", "2", "--timeout", "10s")
    assert proc.returncode == 0, proc.stderr
    assert "2 succeeded" in proc.stdout


def test_wait_batch_json(env):
    proc = run(env, "wait-batch", "render.prod", "--prefix", "done-", "--timeout", "10s", "--output", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["function_name"] == "render" and data["qualifier"] == "prod" and data["total"] == 2
    assert sorted(data["failed"]) == [] and {m["id"] for m in data["invocations"]} == {
        "render.prod/done-1", "render.prod/done-2"}


def test_wait_batch_failed_exits_1(env):
    one_error(run(env, "wait-batch", "crash", "--prefix", "bad-", "--timeout", "10s"), 1, "failed")


def test_wait_batch_timeout_exits_2(env):
    one_error(run(env, "wait-batch", "forever", "--prefix", "run-", "--timeout", "1s", "--poll-interval", "0.2s"),
              2, "timed out")


# --- invoke ---------------------------------------------------------------------------------------


def test_invoke_then_wait(env, fc):
    proc = run(env, "invoke", "render.prod", "--id", "cli-1", "--payload", "{}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "cli-1"
    proc = run(env, "wait", "render.prod/cli-1", "--timeout", "10s", "--output", "json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["status"] == "Succeeded"


def test_invoke_json_and_generated_id(env):
    proc = run(env, "invoke", "render", "--output", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["task_id"] and data["ref"] == f"render/{data['task_id']}"


def test_invoke_bad_id_exits_3(env):
    one_error(run(env, "invoke", "render", "--id", "9bad"), 3, "--id")


def test_help_names_both_forms():
    proc = subprocess.run([sys.executable, "-m", "pulumi_fc_invocation.cli", "get", "--help"],
                          stdout=subprocess.PIPE, text=True, timeout=30, env={**os.environ})
    assert "FUNCTION[.QUALIFIER]/TASK_ID" in proc.stdout and "SERVICE[.QUALIFIER]/FUNCTION/INVOCATION_ID" in proc.stdout


# --- an id FC does not know: the error names the task or invocation and says FC forgets a task 7 days after it
# starts, as the gates do; a 404 that names the function is about the function, not retention -----------------


RETENTION = "FC keeps an async task's record for 7 days after it starts"


def test_get_and_wait_name_a_missing_task_and_the_retention(env):
    for args in (("get", "render/nope-1"), ("wait", "render/nope-2", "--timeout", "5s")):
        proc = run(env, *args)
        one_error(proc, 4, "NotFoundError", "task not found: function 'render'", f"task id '{args[1][7:]}'",
                  "AsyncTaskNotFound", RETENTION, "check the function, qualifier and id")
        assert "invocation" not in proc.stderr and "gate" not in proc.stderr, proc.stderr


def test_get_and_wait_name_a_missing_fc2_invocation_and_the_retention(env):
    for args in (("get", "video/transcode/nope-3"), ("wait", "video/transcode/nope-4", "--timeout", "5s")):
        one_error(run(env, *args), 4, "invocation not found: service 'video'", RETENTION)


def test_a_missing_function_is_not_blamed_on_retention(env):
    proc = run(env, "get", "ghost/t-1")
    one_error(proc, 4, "FunctionNotFound", "task not found: function 'ghost'")
    assert "7 days" not in proc.stderr, proc.stderr


# --- the nouns of the help and the start line --------------------------------------------------------------


def test_help_names_tasks_and_invocations(env):
    helps = {command: " ".join(run(env, command, "--help").stdout.split()) for command in ("wait", "wait-batch", "list")}
    assert "json: the final task or invocation (with payloads)" in helps["wait"], helps["wait"]
    assert "the batch: task or invocation ids starting with this" in helps["wait-batch"], helps["wait-batch"]
    assert "until at least N tasks or invocations exist" in helps["wait-batch"], helps["wait-batch"]
    assert "only task or invocation ids starting with this" in helps["list"], helps["list"]


def test_wait_batch_of_one_says_one_task(env):
    proc = run(env, "wait-batch", "render.prod", "--prefix", "done-1", "--expected-count", "1", "--timeout", "10s")
    assert proc.returncode == 0, proc.stderr
    assert "at least 1 task," in proc.stderr and "1 tasks" not in proc.stderr, proc.stderr
