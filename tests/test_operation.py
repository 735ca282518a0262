"""Which Pulumi operation runs the program: the explicit signals (``for_operation``, a context variable
per program; ``FC_INVOCATION_OPERATION``) and the Linux fallback, the `pulumi` ancestor's command line
parsed as the CLI parses it (checked here against the real CLI's own parser and tables)."""

import asyncio
import contextvars
import os
import re
import subprocess
import sys

import pytest

import pulumi_fc_invocation
from pulumi_fc_invocation.errors import InvalidArgumentError
from pulumi_fc_invocation.gate import operation
from pulumi_fc_invocation.gate.operation import (
    COMMANDS, GLOBAL_FLAGS, OPERATION_ENV, current_operation, for_operation, operation_from_argv,
    operation_from_proc, records_only)
from pulumi_fc_invocation.testing.harness import ProgramError


@pytest.mark.parametrize("argv, expected", [
    (["pulumi", "up", "--yes"], "up"),
    (["/opt/bin/pulumi", "--non-interactive", "--color=never", "refresh", "--yes", "--run-program"], "refresh"),
    (["pulumi", "-C", "destroy", "destroy", "--run-program"], "destroy"),  # a directory named like a command
    (["pulumi", "--stack", "refresh", "up"], "up"),
    (["pulumi", "update"], "up"),
    (["pulumi", "down", "-y"], "destroy"),
    (["pulumi", "pre"], "preview"),
    (["pulumi", "dn", "--run-program"], "destroy"),  # destroy's second alias
    (["pulumi", "--tracing-header", "up", "dn", "--run-program"], "destroy"),  # a hidden valued flag
    (["pulumi", "--tracing-header=x", "refresh"], "refresh"),
    (["pulumi", "--otel-traces", "preview", "destroy"], "destroy"),
    (["pulumi", "-v", "9", "refresh"], "refresh"),
    (["pulumi", "-v9", "refresh"], "refresh"),  # value attached: nothing consumed
    (["pulumi", "-e", "-Q", "--logflow", "--logtostderr", "--disable-integrity-checking", "dn"], "destroy"),
    (["pulumi", "--some-future-flag", "up", "destroy"], "destroy"),  # unknown: consumes a word, as in cobra
    (["pulumi", "-C", "up"], None),  # the value is the last word: no command
    (["pulumi", "stack", "output"], None),
    (["pulumi", "--", "up"], None),
    (["pulumi"], None),
])
def test_operation_from_argv(argv, expected):
    assert operation_from_argv(argv) == expected


def test_current_operation_reads_the_pulumi_ancestor(tmp_path):
    """A process whose argv is `pulumi <op> ...` runs a child that runs a grandchild, as the CLI runs
    the language host, which runs the program. (`python -` reads its code from stdin, so the fake
    CLI's command line is exactly `pulumi - <op> ...`.)"""
    grandchild = ("import pulumi_fc_invocation.gate.operation as o; "
                  "print(o.current_operation(), o.records_only())")
    child = f"import subprocess; subprocess.run([{sys.executable!r}, '-c', {grandchild!r}], check=True)"
    (tmp_path / "child.py").write_text(child)
    fake = tmp_path / "fake-pulumi"
    fake.write_text(f'#!/bin/bash\nexec -a pulumi {sys.executable} - "$@" < {tmp_path / "child.py"}\n')
    fake.chmod(0o755)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for args, expected in ((["refresh", "--run-program"], "refresh True"), (["up", "--yes"], "up False"),
                           (["destroy", "--run-program"], "destroy True"), (["preview"], "preview False")):
        out = subprocess.run([str(fake), *args], capture_output=True, text=True, env=env, timeout=60, check=True)
        assert out.stdout.strip() == expected, out.stderr


def test_current_operation_is_none_without_a_pulumi_ancestor():
    code = "import pulumi_fc_invocation.gate.operation as o; print(o.current_operation(), o.records_only())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "None False"


# --- the explicit signals, and no /proc (simulated by pointing PROC_ROOT at a tree that is not there) ---


@pytest.fixture
def no_proc(monkeypatch, tmp_path):
    monkeypatch.setattr(operation, "PROC_ROOT", str(tmp_path / "no-proc"))
    monkeypatch.delenv(OPERATION_ENV, raising=False)


def fake_proc(root, pulumi_argv):
    """A /proc tree where this process's parent is a language host whose parent runs `pulumi_argv`."""
    host, cli = os.getppid(), 4242
    for pid, argv, ppid in ((host, ["python3", "-u", "-m", "host"], cli), (cli, pulumi_argv, 1)):
        (root / str(pid)).mkdir(parents=True)
        (root / str(pid) / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
        (root / str(pid) / "stat").write_text(f"{pid} ({os.path.basename(argv[0])}) S {ppid} 1 1 0 -1")
    return str(root)


def test_without_proc_nothing_is_known_and_gates_act_as_in_up(no_proc):
    assert current_operation() is None and records_only() is False


def test_without_proc_the_variable_names_the_operation(no_proc, monkeypatch):
    monkeypatch.setenv(OPERATION_ENV, "destroy")
    assert (current_operation(), records_only()) == ("destroy", True)
    monkeypatch.setenv(OPERATION_ENV, "up")
    assert (current_operation(), records_only()) == ("up", False)


def test_without_proc_for_operation_names_it_and_beats_the_variable(no_proc, monkeypatch):
    monkeypatch.setenv(OPERATION_ENV, "up")
    seen = for_operation("refresh", lambda: (current_operation(), records_only()))()
    assert seen == ("refresh", True)
    assert current_operation() == "up"  # only while the program runs


@pytest.mark.parametrize("argv, expected", [
    (["/usr/local/bin/pulumi", "dn", "--run-program", "--yes"], "destroy"),
    (["pulumi", "--tracing-header", "up", "dn", "--run-program"], "destroy"),
    (["pulumi", "--non-interactive", "up", "--yes"], "up"),
])
def test_a_simulated_proc_tree_names_the_pulumi_ancestor_s_operation(monkeypatch, tmp_path, argv, expected):
    monkeypatch.delenv(OPERATION_ENV, raising=False)
    monkeypatch.setattr(operation, "PROC_ROOT", fake_proc(tmp_path / "proc", argv))
    assert current_operation() == expected
    assert records_only() is (expected == "destroy")


def test_a_variable_that_contradicts_the_command_line_fails_the_gate(monkeypatch, tmp_path):
    """An exported FC_INVOCATION_OPERATION=destroy left over must not make `pulumi up` skip its gates."""
    monkeypatch.setattr(operation, "PROC_ROOT", fake_proc(tmp_path / "proc", ["pulumi", "up", "--yes"]))
    monkeypatch.setenv(OPERATION_ENV, "destroy")
    with pytest.raises(InvalidArgumentError, match=f"invalid {OPERATION_ENV} 'destroy': the pulumi command "
                                                   "running this program is `up`"):
        records_only()
    monkeypatch.setenv(OPERATION_ENV, "up")
    assert records_only() is False


@pytest.mark.parametrize("value", ["dn", "Destroy", "delete", " destroy"])
def test_a_bad_variable_is_refused_by_name(no_proc, monkeypatch, value):
    monkeypatch.setenv(OPERATION_ENV, value)
    with pytest.raises(InvalidArgumentError, match=f"invalid {OPERATION_ENV} .*: must be one of up, preview, "
                                                   "refresh, destroy, import, watch"):
        current_operation()


def test_for_operation_refuses_bad_arguments_at_once():
    with pytest.raises(InvalidArgumentError, match="invalid operation 'down': must be one of up, preview"):
        for_operation("down", lambda: None)
    with pytest.raises(InvalidArgumentError, match="invalid program 'main': must be a function"):
        for_operation("destroy", "main")


def test_for_operation_is_exported_from_the_package():
    assert pulumi_fc_invocation.for_operation is for_operation


def test_what_the_program_starts_inherits_the_operation_and_nothing_else_does(no_proc):
    """Outputs' callbacks and gates run as asyncio tasks created by the program: they see its operation,
    also after the program function has returned; a task created outside it does not."""
    async def main():
        tasks = []

        def program():
            async def gate():
                await asyncio.sleep(0)
                return current_operation()
            tasks.append(asyncio.ensure_future(gate()))

        for_operation("destroy", program)()
        outside = asyncio.ensure_future(_operation_later())
        return await tasks[0], await outside

    assert asyncio.run(main()) == ("destroy", None)


async def _operation_later():
    await asyncio.sleep(0)
    return current_operation()


def test_an_async_program_sees_its_operation_in_its_body(no_proc):
    async def program():
        await asyncio.sleep(0)
        return current_operation()

    async def main():
        return await for_operation("refresh", program)()

    assert asyncio.run(main()) == "refresh"


def test_two_programs_at_once_in_one_process_each_see_their_own(no_proc):
    """Two stacks' programs interleaved on one loop (the Automation API runs each in its own thread and
    context; test_engine_automation.py does it through the real CLI): each gate sees its program's."""
    async def main():
        order = []
        up_may_read, destroy_done = asyncio.Event(), asyncio.Event()

        def program(name, gate_waits_for):
            async def gate():
                await gate_waits_for.wait()
                order.append((name, current_operation()))
                if name == "destroy":
                    up_may_read.set()
            return asyncio.ensure_future(gate())

        up = for_operation("up", lambda: program("up", up_may_read))()
        destroy = for_operation("destroy", lambda: program("destroy", destroy_done))()
        destroy_done.set()
        await asyncio.gather(up, destroy)
        return order

    assert asyncio.run(main()) == [("destroy", "destroy"), ("up", "up")]
    ctx = contextvars.copy_context()
    assert ctx.run(current_operation) is None


# --- the tables against the real CLI (the build of `make engine`) ---------------------------------------


def cli(pulumi_bin, tmp_path, *args, debug=False):
    env = {**os.environ, "PULUMI_HOME": str(tmp_path / "home"), "PULUMI_SKIP_UPDATE_CHECK": "true"}
    env.pop("PULUMI_DEBUG_COMMANDS", None)
    if debug:
        env["PULUMI_DEBUG_COMMANDS"] = "true"  # shows the hidden --tracing-header in --help
    out = subprocess.run([pulumi_bin, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    return out.stdout + out.stderr


def cli_command(pulumi_bin, tmp_path, argv):
    """The command the CLI itself finds in `pulumi <argv>`: its parser chooses, --help shows the choice."""
    found = re.search(r"^Usage:\n\s+pulumi (\S+)", cli(pulumi_bin, tmp_path, *argv, "--help"), re.M)
    assert found, argv
    return found.group(1)


def test_the_global_flag_table_is_the_cli_s(pulumi_bin, tmp_path):
    text = cli(pulumi_bin, tmp_path, "--help", debug=True).split("\nFlags:\n", 1)[1].split("\n\n", 1)[0]
    flags = {}
    for line in text.splitlines():
        m = re.match(r"^\s+(?:-(\w), )?--([\w-]+)( \S+)?\s{2,}", line)
        assert m, line
        flags[m.group(2)] = (m.group(1) or "", m.group(3) is not None)
    # cobra adds --help and --version only once it has found the command, so they play no part in finding it.
    del flags["help"], flags["version"]
    assert "tracing-header" in flags and flags["tracing-header"][1]
    assert flags == GLOBAL_FLAGS


def test_the_command_table_is_the_cli_s(pulumi_bin, tmp_path):
    for op in sorted(set(COMMANDS.values())):
        out = cli(pulumi_bin, tmp_path, op, "--help")
        usage = re.search(r"^Usage:\n\s+pulumi (\S+)", out, re.M)
        if usage is None or usage.group(1) != op:
            assert op == "watch", out  # removed from the CLI after v3.259; kept for older CLIs
            continue
        aliases = re.search(r"^Aliases:\n\s+(.+)$", out, re.M)
        names = {name.strip() for name in aliases.group(1).split(",")} if aliases else {op}
        assert names == {name for name, canonical in COMMANDS.items() if canonical == op}, op


def argvs_to_compare():
    yield from ([name] for name in COMMANDS if name != "watch")
    for name, (short, valued) in GLOBAL_FLAGS.items():
        forms = [f"--{name}"] + ([f"-{short}"] if short else [])
        for flag in forms:
            yield [flag, "1", "dn"] if valued else [flag, "dn"]
        if valued:
            yield [f"--{name}=1", "up"]
    yield ["-v3", "refresh"]
    yield ["--non-interactive", "-C", "1", "--tracing-header", "1", "pre"]
    yield ["stack", "ls"]


def test_the_parser_finds_the_command_the_cli_finds(pulumi_bin, tmp_path):
    """Each alias, and each global flag (its value a word before the command), through both parsers."""
    for argv in argvs_to_compare():
        theirs = COMMANDS.get(cli_command(pulumi_bin, tmp_path, argv))
        assert operation_from_argv(["pulumi", *argv, "--help"]) == theirs, argv
        assert operation_from_argv(["pulumi", *argv]) == theirs, argv


# --- a setting that relaxes a gate says so against the gate (through the harness, no /proc) ------------


@pytest.fixture(scope="module")
def relaxed_world(fc):
    fc.add_invocation("relax", "fn", "r-dead", error_message="boom", timeline=[("Failed", 0)])
    return fc


def _relaxed_program():
    import pulumi

    from pulumi_fc_invocation import StatefulAsyncInvocation, get_stateful_async_invocation_output

    gate = StatefulAsyncInvocation("gate", service_name="relax", function_name="fn", invocation_id="r-dead",
                                   wait_for_completion=True)
    form = get_stateful_async_invocation_output("relax", "fn", "r-dead", wait_for_completion=True)
    pulumi.export("statuses", pulumi.Output.all(gate.status, form.apply(lambda r: r.status)))


@pytest.mark.parametrize("told", ["variable", "for_operation"])
def test_a_gate_only_recording_because_a_setting_says_so_warns_against_itself_naming_it(
        no_proc, relaxed_world, run, monkeypatch, told):
    """Where /proc can't contradict it (macOS, Windows: simulated), a leftover FC_INVOCATION_OPERATION or a
    for_operation wrapper left on a workspace's program makes the gates of an `up` only record: a Failed
    task goes through. Each gate so relaxed says so, against its resource, naming the setting."""
    if told == "variable":
        monkeypatch.setenv(OPERATION_ENV, "destroy")
        program, setting = _relaxed_program, f"{OPERATION_ENV}=destroy"
    else:
        program, setting = for_operation("refresh", _relaxed_program), 'for_operation("refresh", ...)'
    result = run(program)
    assert result.outputs["statuses"] == ["Failed", "Failed"]  # recorded, no verdict
    warnings = [log for log in result.logs if log.severity == "warning" and setting in log.message]
    assert [log.urn for log in warnings if log.urn] == [result.resource("gate").urn], result.logs
    assert any("relax/fn/r-dead" in log.message and not log.urn for log in warnings), result.logs  # the function form
    monkeypatch.delenv(OPERATION_ENV, raising=False)
    with pytest.raises(ProgramError, match="ended Failed: boom"):  # without the setting, the same program fails
        run(_relaxed_program)


def test_a_setting_that_proc_confirms_or_that_lets_gates_wait_warns_of_nothing(relaxed_world, run, monkeypatch,
                                                                              tmp_path):
    """No warning where the setting changes nothing: /proc names the same command, or it names `up`."""
    monkeypatch.setattr(operation, "PROC_ROOT", fake_proc(tmp_path / "proc", ["pulumi", "destroy", "--run-program"]))
    monkeypatch.setenv(OPERATION_ENV, "destroy")
    result = run(_relaxed_program)
    assert result.outputs["statuses"] == ["Failed", "Failed"]
    assert not [log for log in result.logs if OPERATION_ENV in log.message], result.logs
    result = run(for_operation("up", lambda: None))
    assert not [log for log in result.logs if log.severity == "warning"], result.logs
