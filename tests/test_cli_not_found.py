"""``fc-invocation get`` / ``wait`` on an id FC does not know (review of issue 24, item 11): the error names
the task or invocation and says FC forgets a task 7 days after it starts, as the gates do (before: FC's
``AsyncTaskNotFound ...; check the function, qualifier and id`` alone). A 404 that names the function is
about the function, not retention. The CLI as a process against the emulator (real clock)."""

from __future__ import annotations

from test_cli import assert_one_error_line as one_error
from test_cli import run
from test_cli_fc3 import env, fc  # noqa: F401  (module-scoped emulator with functions render and video/transcode)

RETENTION = "FC keeps an async task's record for 7 days after it starts"


def test_get_and_wait_name_a_missing_task_and_the_retention(env):  # noqa: F811
    for args in (("get", "render/nope-1"), ("wait", "render/nope-2", "--timeout", "5s")):
        proc = run(env, *args)
        one_error(proc, 4, "NotFoundError", "task not found: function 'render'", f"task id '{args[1][7:]}'",
                  "AsyncTaskNotFound", RETENTION, "check the function, qualifier and id")
        assert "invocation" not in proc.stderr and "gate" not in proc.stderr, proc.stderr


def test_get_and_wait_name_a_missing_fc2_invocation_and_the_retention(env):  # noqa: F811
    for args in (("get", "video/transcode/nope-3"), ("wait", "video/transcode/nope-4", "--timeout", "5s")):
        one_error(run(env, *args), 4, "invocation not found: service 'video'", RETENTION)


def test_a_missing_function_is_not_blamed_on_retention(env):  # noqa: F811
    proc = run(env, "get", "ghost/t-1")
    one_error(proc, 4, "FunctionNotFound", "task not found: function 'ghost'")
    assert "7 days" not in proc.stderr, proc.stderr


# --- the nouns of the help and the start line (review, item 11) ----------------------------------------------


def test_help_names_tasks_and_invocations(env):  # noqa: F811
    helps = {command: " ".join(run(env, command, "--help").stdout.split()) for command in ("wait", "wait-batch", "list")}
    assert "json: the final task or invocation (with payloads)" in helps["wait"], helps["wait"]
    assert "the batch: task or invocation ids starting with this" in helps["wait-batch"], helps["wait-batch"]
    assert "until at least N tasks or invocations exist" in helps["wait-batch"], helps["wait-batch"]
    assert "only task or invocation ids starting with this" in helps["list"], helps["list"]


def test_wait_batch_of_one_says_one_task(env):  # noqa: F811
    proc = run(env, "wait-batch", "render.prod", "--prefix", "done-1", "--expected-count", "1", "--timeout", "10s")
    assert proc.returncode == 0, proc.stderr
    assert "at least 1 task," in proc.stderr and "1 tasks" not in proc.stderr, proc.stderr
