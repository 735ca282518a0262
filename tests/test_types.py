"""The type check: mypy, configured in pyproject.toml ([tool.mypy]: strict on the public modules, the
internals it names relaxed with their reasons), passes on the package; and a user's program typed against
the public API (the data source's keywords, a function form's result, the client, the wait policy)
checks clean under the same strict settings, while each deliberate mistake in it is reported, so the
check can fail. The wheel ships py.typed and the .pyi stubs (tests/test_packaging.py)."""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pulumi_fc_invocation
from pulumi_fc_invocation import testing

ROOT = Path(__file__).resolve().parents[1]

PROGRAM = textwrap.dedent('''\
    """A user's Pulumi program and script, as an editor and `mypy --strict` see them."""
    from typing import Optional

    import pulumi

    from pulumi_fc_invocation import (
        AsyncTask,
        AsyncTaskResult,
        Credentials,
        FcClient,
        FcInvocationError,
        WaitPolicy,
        get_async_task,
    )

    task = AsyncTask("transcode-job", function_name="transcode", task_id="job-1", qualifier="prod",
                     wait_for_completion=True, timeout_seconds=600, fail_on_statuses=["Failed", "Stopped"])
    status: pulumi.Output[str] = task.status
    waited: pulumi.Output[Optional[float]] = task.waited_seconds
    pulumi.export("status", status)

    found = get_async_task("transcode", "job-1", qualifier="prod", wait_for_completion=False)
    text: str = found.status
    ended: bool = found.is_terminal

    client = FcClient(endpoint="http://127.0.0.1:9000", account_id="1234567890",
                      credentials=Credentials("LTAI-example-key", "example-secret"))
    try:
        read: AsyncTaskResult = client.get_async_task("transcode", "job-1", "prod")
        succeeded: bool = read.succeeded
    except FcInvocationError as exc:
        print(type(exc).__name__)
    policy = WaitPolicy(initial_delay=1.0, max_delay=10.0, timeout=600.0)
    budget: Optional[float] = policy.timeout
    ''')
# Every public name is visible to a strict checker (the package loads most of them lazily).
PROGRAM += "".join(f"from {module.__name__} import {name}\n" for module in (pulumi_fc_invocation, testing)
                   for name in module.__all__)

# Each mistake: a line appended to the program, and what mypy must say of it.
MISTAKES = {
    "unknown keyword": ('AsyncTask("job", function_name="transcode", task_idd="job-1")\n',
                        r'Unexpected keyword argument "task_idd" for "AsyncTask".*\[call-arg\]'),
    "status is no int": ('count: int = get_async_task("transcode", "job-1").status\n',
                         r'Incompatible types in assignment \(expression has type "str", variable has type '
                         r'"int"\)\s+\[assignment\]'),
    "timeout as text": ('WaitPolicy(timeout="600")\n',
                        r'Argument "timeout" to "WaitPolicy" has incompatible type "str".*\[arg-type\]'),
}


def mypy(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    """mypy with the project's configuration (pyproject.toml, found from the repository's root)."""
    return subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(cache), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_the_package_passes_the_type_check(tmp_path):
    done = mypy(cache=tmp_path / "cache")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"Success: no issues found in \d+ source files", done.stdout), done.stdout


def test_a_typed_user_program_checks_clean_and_each_mistake_in_it_is_reported(tmp_path):
    good = tmp_path / "program.py"
    good.write_text(PROGRAM)
    bad = {}
    for number, (name, (line, _)) in enumerate(MISTAKES.items()):
        bad[name] = tmp_path / f"mistake_{number}.py"
        bad[name].write_text(PROGRAM + line)
    done = mypy("--strict", str(good), *map(str, bad.values()), cache=tmp_path / "cache")
    out = done.stdout + done.stderr
    assert done.returncode == 1, out  # errors found (2 would be mypy failing to run)
    assert str(good) not in out, out  # the program itself is clean
    for name, (line, expected) in MISTAKES.items():
        last = len(bad[name].read_text().splitlines())
        reported = [r for r in out.splitlines() if r.startswith(f"{bad[name]}:") and ": error:" in r]
        assert len(reported) == 1 and reported[0].startswith(f"{bad[name]}:{last}: error:"), (name, out)
        assert re.search(expected, reported[0]), (name, reported[0])

