"""Ctrl-C during a wait (issue 27): the real CLI, SIGINT to its process group as a terminal sends it, while a
gate waits with a poll in flight (a read the emulator answers 30 s late: the worst case, a thread that cannot
be stopped). The Python program logs one line against the gate and exits by itself with the "already told"
code 32; the plugin of a YAML program stops its waits and exits by itself. Neither prints a traceback, and
neither is left to the host's or the engine's kill 5 s after the signal. The stand-in language host
cancels a program as the official one does (tools/engine/FIDELITY.md P8).

What each test reads is a fact the run leaves, not the time it took: how the program ended, as the
stand-in host records it (``$FC_INVOCATION_HOST_RECORD``; the engine closes the host of a cancelled update
without waiting for the program's exit code), and for the plugin a record that a wrapper around the
installed launcher writes once the plugin has exited (the engine's kill takes the wrapper with it).
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, provider_pb2, provider_pb2_grpc

from _clocks import until
from _engine import make_cli
from _installed_plugin import INSTALLED_ONLY, VERSION, install_plugin
from _plugin_rpc import URN_TASK, configured, plugin_config, struct
from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli

ROOT = Path(__file__).resolve().parent.parent
HOST = ROOT / "tools" / "engine" / "language_host.py"
YAML_EXAMPLE = ROOT / "examples" / "plugin-yaml"
LATE = 30.0  # seconds the emulator holds the poll in flight at the signal
NOT_OURS = ("Traceback", "KeyboardInterrupt", "lost sys.stderr")

# One gate (the FC 2.0 task j1), nothing else.
PROGRAM = textwrap.dedent("""\
    import pulumi
    from pulumi_fc_invocation import StatefulAsyncInvocation

    gate = StatefulAsyncInvocation("task-0", service_name="svc", function_name="fn", invocation_id="j1",
                                   wait_for_completion=True, timeout_seconds=600)
    pulumi.export("status", gate.status)
""")


@pytest.fixture
def fc():
    with FcEmulator(clock="real") as emulator:
        yield emulator


class Running:
    """``pulumi <args>`` in the background, as a terminal runs it: the leader of its own process group, so
    that SIGINT to the group is a Ctrl-C (the engine starts its plugins in groups of their own)."""

    def __init__(self, cli: PulumiCli, *args: str) -> None:
        argv = [cli.pulumi, "--non-interactive", "--color=never", *args]
        self.proc = subprocess.Popen(argv, cwd=cli.dir, env=cli.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(stream, lines), daemon=True)
                         for stream, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream, lines: list[str]) -> None:
        for line in stream:
            lines.append(line)

    def shows(self, text: str) -> bool:
        return any(text in line for line in list(self.out))

    def ctrl_c(self) -> None:
        os.killpg(self.proc.pid, signal.SIGINT)

    def finish(self) -> tuple[str, str]:
        try:
            self.proc.wait(timeout=120)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        for reader in self._readers:
            reader.join(timeout=30)
        return "".join(self.out), "".join(self.err)


def poll_in_flight(fc, route: str = "get") -> None:
    """From now on every read is answered :data:`LATE` s late; returns once one has arrived."""
    before = fc.request_count(route)
    fc.inject_fault(route, latency=LATE, times=None)
    assert until(lambda: fc.request_count(route) > before, timeout=60), "no poll arrived"


def ctrl_c_while_waiting(cli: PulumiCli, fc, waiting: str) -> str:
    """``pulumi up``, Ctrl-C once it shows ``waiting`` and a poll is in flight; its Diagnostics section. The
    update fails, and nothing in its output is Python's own report of a signal."""
    run = Running(cli, "up", "--yes", "--skip-preview")
    assert until(lambda: run.shows(waiting) or run.proc.poll() is not None, 120)
    poll_in_flight(fc)
    run.ctrl_c()
    out, _ = run.finish()
    assert run.proc.returncode != 0, out
    for text in NOT_OURS:
        assert text not in out, out
    return out.split("Diagnostics:", 1)[1].split("Resources:", 1)[0] if "Diagnostics:" in out else out


def test_ctrl_c_while_a_python_gate_waits_logs_one_line_and_the_program_exits_by_itself(fc, tmp_path, pulumi_bin):
    fc.add_function("svc", "fn", outcome="Succeeded", queue_delay=0, duration=600)
    project, ends = tmp_path / "project", tmp_path / "program-ends"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: gates\nruntime: python\n")
    (project / "__main__.py").write_text(PROGRAM)
    # The stand-in host's record of how the program ended (tools/engine/language_host.py).
    with make_cli(fc, project, pulumi_bin, env={"FC_INVOCATION_HOST_RECORD": str(ends)}) as cli:
        fc.client().invoke_async("svc", "fn", "{}", invocation_id="j1")
        shown = ctrl_c_while_waiting(cli, fc, "waiting for svc/fn/j1 to finish")
    assert shown.count("interrupted: stopped waiting for svc/fn/j1") == 1, shown
    assert "update canceled" in shown, shown
    # The program ended by itself with exit code 32 ("the user has been told"), after the host's SIGINT, not
    # by the signal nor by the host's kill 5 s later (an engine's kill of the host's group leaves no line).
    assert [json.loads(line) for line in ends.read_text().splitlines()] == [
        {"code": 32, "cancelled": True, "killed": False}]


WRAPPER = """\
#!{python}
# The installed launcher, run as a child; a line when it starts and one with its exit status once it has
# exited, in {record}. The engine sends SIGINT to this process group and kills the group 5 s later: a plugin
# killed so leaves its start alone.
import os, signal, subprocess, sys
signal.signal(signal.SIGINT, lambda *_: None)  # the plugin gets the group's SIGINT itself
with open({record!r}, "a") as f:
    f.write(f"{{os.getpid()}} started\\n")
code = subprocess.Popen([{launcher!r}, *sys.argv[1:]]).wait()
with open({record!r}, "a") as f:
    f.write(f"{{os.getpid()}} exited {{code}}\\n")
sys.exit(code)
"""


def test_ctrl_c_while_a_yaml_gate_waits_stops_the_plugin_which_exits_by_itself(fc, tmp_path, pulumi_bin):
    fc.add_function(None, "migrate", outcome="Succeeded", queue_delay=0, duration=600)
    env = {"FC_INVOCATION_PROGRESS_SECONDS": "1", **INSTALLED_ONLY}
    with PulumiCli(YAML_EXAMPLE, pulumi=pulumi_bin, env=env) as cli:
        install_plugin(cli)
        installed = cli.home / "plugins" / f"resource-fc-invocation-v{VERSION}" / "pulumi-resource-fc-invocation"
        launcher, record = tmp_path / "launcher", tmp_path / "plugin-exit"
        shutil.move(installed, launcher)
        installed.write_text(WRAPPER.format(python=sys.executable, launcher=str(launcher), record=str(record)))
        installed.chmod(0o755)
        cli.config(plugin_config(fc), secret_keys={"fc-invocation:secretKey"})
        cli.config({"plugin-yaml:task": "t1"})
        fc.client().invoke_async_task("migrate", "{}", task_id="t1")
        shown = ctrl_c_while_waiting(cli, fc, "waiting for migrate/t1 to finish")
    assert shown.count("stopped waiting: the engine cancelled the operation") == 1, shown
    # Every plugin process the engine started exited by itself, cleanly; one the engine killed 5 s after its
    # SIGINT would have left "started" alone.
    lines = record.read_text().splitlines()
    started = sorted(line.split()[0] for line in lines if line.endswith(" started"))
    assert started, lines
    assert sorted(line for line in lines if not line.endswith(" started")) == [f"{pid} exited 0" for pid in started]


def test_the_plugin_stops_its_waits_and_exits_cleanly_on_sigterm_with_a_poll_in_flight(fc, engine):
    """SIGTERM (a supervisor's stop; the engine's SIGINT is the YAML test's) stops the wait as the engine's
    Cancel does: the call answers so, and the plugin exits 0 by itself although the thread of a poll is
    still reading. (Before, SIGTERM's default action ended it mid-call, the call unanswered.)"""
    fc.add_function(None, "endless", outcome="Succeeded", queue_delay=0, duration=600)
    fc.client().invoke_async_task("endless", "{}", task_id="k1")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_", "ALICLOUD_", "FC_INVOCATION_"))}
    proc = subprocess.Popen([sys.executable, "-m", "pulumi_fc_invocation.plugin", engine.address], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{int(proc.stdout.readline())}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            configured(stub, fc)
            call = stub.Create.future(provider_pb2.CreateRequest(urn=URN_TASK, properties=struct(
                {"functionName": "endless", "taskId": "k1", "waitForCompletion": True, "timeoutSeconds": 600})))
            assert until(lambda: fc.request_count("get") > 0, timeout=30)  # the wait has begun
            poll_in_flight(fc)
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=LATE)
            answer = call.exception(timeout=30)
    finally:
        _stop(proc)
    assert code == 0, proc.stderr.read()
    assert answer is not None and answer.details() == "stopped waiting: the engine cancelled the operation"
    assert "Traceback" not in proc.stderr.read()


# --- only while a gate waits (in process) ----------------------------------------------------------------


def _handler_inside_a_wait() -> object:
    """The SIGINT handler as a gate's wait sees it, on an event loop in this (the main) thread that runs as
    the SDK's exec script runs a program's (``run_until_complete``: ``asyncio.run`` has a handler of its own)."""
    from pulumi_fc_invocation.gate.spec import SingleSpec
    from pulumi_fc_invocation.pulumi.interrupt import interruptible

    spec = SingleSpec.build(service_name="svc", function_name="fn", invocation_id="j1", wait_for_completion=True)

    async def wait() -> object:
        with interruptible(spec, None):
            with interruptible(spec, None):  # two gates waiting at once
                pass
            return signal.getsignal(signal.SIGINT)

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(wait())
    finally:
        loop.close()


def test_sigint_is_the_gates_only_while_one_waits_then_python_s_again():
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert _handler_inside_a_wait() is not signal.default_int_handler
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Ctrl-C is the program's again


def test_a_sigint_handler_the_program_installed_is_left_alone():
    def own(signum, frame):
        pass

    previous = signal.signal(signal.SIGINT, own)
    try:
        assert _handler_inside_a_wait() is own
        assert signal.getsignal(signal.SIGINT) is own
    finally:
        signal.signal(signal.SIGINT, previous)


def test_the_line_names_the_first_three_tasks_once_each():
    from pulumi_fc_invocation.pulumi.interrupt import interrupted_line

    assert interrupted_line(["svc/fn/j1"]) == "interrupted: stopped waiting for svc/fn/j1"
    assert interrupted_line(["a/f/1", "a/f/2", "a/f/1", "a/f/3", "a/f/4", "a/f/5"]) == (
        "interrupted: stopped waiting for a/f/1, a/f/2, a/f/3 and 2 more")


# --- the stand-in Python host cancels as the official one does (no engine) ------------------------------

FAKE_EXEC = """\
import os, pathlib, signal, sys, time
out = pathlib.Path(os.environ["FAKE_EXEC_DIR"])
signal.signal(signal.SIGINT, lambda *_: open(out / "sigints", "a").write("SIGINT\\n"))
with open(out / "started", "a") as f:
    f.write("run\\n")
while not (out / "release").exists():
    time.sleep(0.01)
"""


def _host(tmp_path: Path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shutil.copy(HOST, bin_dir / "language_host.py")
    (bin_dir / "pulumi-language-python-exec").write_text(FAKE_EXEC)
    # FAKE_EXEC_DIR: where the stand-in exec script above records what it got (no engine runs here);
    # PULUMI_PYTHON_CMD: the interpreter running the tests, whatever `python3` on this PATH is.
    env = {**os.environ, "FAKE_EXEC_DIR": str(tmp_path), "PULUMI_PYTHON_CMD": sys.executable}
    proc = subprocess.Popen([sys.executable, str(bin_dir / "language_host.py")], stdout=subprocess.PIPE, env=env,
                            text=True)
    return proc, int(proc.stdout.readline())


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def _run_request(tmp_path: Path) -> language_pb2.RunRequest:
    return language_pb2.RunRequest(info=language_pb2.ProgramInfo(root_directory=str(tmp_path),
                                                                 program_directory=str(tmp_path), entry_point="."),
                                   pwd=str(tmp_path), project="p", stack="s", monitor_address="127.0.0.1:1")


def test_the_stand_in_host_interrupts_a_program_once_and_starts_none_after_cancel(tmp_path):
    """The official host's exec.Cmd runs its Cancel (SIGINT) once however often the run's context is done;
    a program that then exits 0 all the same fails the Run with the context's error (os/exec Cmd.Wait prefers
    it to a clean exit once Cancel succeeded), and a Run on the host's cancelled context fails to start
    (py/main.go:1049-1062, 1167-1195, 2033-2036)."""
    proc, port = _host(tmp_path)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = language_pb2_grpc.LanguageRuntimeStub(channel)
            run = stub.Run.future(_run_request(tmp_path))
            assert until(lambda: (tmp_path / "started").exists(), timeout=30)
            stub.Cancel(empty_pb2.Empty())
            stub.Cancel(empty_pb2.Empty())
            (tmp_path / "release").write_text("")
            canceled = "problem executing program (could not run language executor): context canceled"
            assert run.result(timeout=30).error == canceled
            assert (tmp_path / "sigints").read_text() == "SIGINT\n"
            again = stub.Run(_run_request(tmp_path), timeout=30)
        assert again.error == canceled
        assert (tmp_path / "started").read_text() == "run\n"
    finally:
        _stop(proc)


def _refuses_calls(port: int) -> bool:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            language_pb2_grpc.LanguageRuntimeStub(channel).GetPluginInfo(empty_pb2.Empty(), timeout=5)
        except grpc.RpcError:
            return True
    return False


def test_a_second_sigint_ends_the_stand_in_host_while_its_graceful_stop_waits_for_a_program(tmp_path):
    """The official host's first SIGINT starts a graceful stop, which waits for the running program, and
    deregisters the host's handler (NotifyContext's cancel(), py/main.go:176-183): a second SIGINT ends the
    host by the signal's default action, as a second Ctrl-C does."""
    proc, port = _host(tmp_path)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            run = language_pb2_grpc.LanguageRuntimeStub(channel).Run.future(_run_request(tmp_path))
            assert until(lambda: (tmp_path / "started").exists(), timeout=30)
            proc.send_signal(signal.SIGINT)  # to the host alone: the program runs on
            assert until(lambda: _refuses_calls(port), timeout=30), "the first SIGINT did not stop the server"
            assert proc.poll() is None and not run.done()  # the graceful stop waits for the Run
            proc.send_signal(signal.SIGINT)
            try:
                code = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                raise AssertionError("a second SIGINT left the host running") from None
        assert code == -signal.SIGINT
    finally:
        (tmp_path / "release").write_text("")
        _stop(proc)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="tgkill: a signal to one thread of another process")
def test_the_stand_in_host_stops_on_sigint_whichever_thread_receives_it(tmp_path):
    """A process's SIGINT goes to any of its threads; the official (Go) host stops on it wherever it lands.
    Sent to one of the host's gRPC threads, it must still stop the host (a clean exit, 0)."""
    proc, port = _host(tmp_path)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            language_pb2_grpc.LanguageRuntimeStub(channel).GetPluginInfo(empty_pb2.Empty(), timeout=30)
        others = [int(tid) for tid in os.listdir(f"/proc/{proc.pid}/task") if int(tid) != proc.pid]
        assert others, "the host runs no thread besides its main one"
        libc = ctypes.CDLL(None, use_errno=True)
        tgkill = {"x86_64": 234, "aarch64": 131}[os.uname().machine]
        assert libc.syscall(tgkill, proc.pid, others[0], signal.SIGINT) == 0, os.strerror(ctypes.get_errno())
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError("the host did not stop on a SIGINT that reached one of its threads") from None
        assert code == 0
    finally:
        _stop(proc)

