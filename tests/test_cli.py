"""The ``fc-invocation`` command, run as a subprocess against a real FcEmulator on wall time
(tests/_clocks.py: stepped ahead where tasks must have ended, instead of a sleep).

Every exit code at least once, JSON and table output, piped and terminal progress, error lines
(one line, no traceback, no secret), ``wait-batch`` (its gate, exit codes and list calls per poll),
the emulator delegation, and the import contract (no Pulumi, no gRPC).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from _cli import SECRET, assert_one_error_line, base_env, run
from _clocks import SteppedRealClock, until
from pulumi_fc_invocation.cli import parse_duration
from pulumi_fc_invocation.testing import FcEmulator

PAYLOAD_MARKER = "payload-marker-7f3a"
RETURN_MARKER = "return-marker-91bc"
ERROR_TEXT = "UnhandledException: out of memory"


@pytest.fixture(scope="module")
def fc():
    with FcEmulator(clock=SteppedRealClock()) as emulator:
        emulator.add_function("video", "transcode", qualifiers=["prod"], duration=0.5,
                              return_payload=json.dumps({"frames": RETURN_MARKER}))
        emulator.add_function("video", "fails", outcome="Failed", duration=0.3, error_message=ERROR_TEXT)
        emulator.add_function("video", "forever", outcome="Running")
        client = emulator.client()
        payload = json.dumps({"token": PAYLOAD_MARKER})
        client.invoke_async("video", "transcode", payload, qualifier="prod", invocation_id="done-1")
        client.invoke_async("video", "transcode", payload, qualifier="prod", invocation_id="done-2")
        client.invoke_async("video", "transcode", payload, qualifier="prod", invocation_id="other-1")
        client.invoke_async("video", "fails", payload, invocation_id="bad-1")
        client.invoke_async("video", "forever", "{}", invocation_id="run-1")
        emulator.advance(0.6)  # the seeded tasks end
        emulator.test_client = client
        yield emulator
        client.close()


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def env(fc, home):
    return {**base_env(home), **fc.env()}


# --- pure parsing (in process) ---------------------------------------------------------------------


@pytest.mark.parametrize("text, seconds", [
    ("90", 90), ("90s", 90), ("30m", 1800), ("2h", 7200), ("1h30m", 5400), ("0.2s", 0.2), ("500ms", 0.5),
    ("1m30s", 90), (" 2H ", 7200),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "abc", "1x", "1h1h", "0", "0s", "-5", "h", "1.5.5s", "30 m"])
def test_parse_duration_refuses(text):
    with pytest.raises(Exception) as info:
        parse_duration(text, "--timeout")
    assert "--timeout" in str(info.value)


# --- help and imports ------------------------------------------------------------------------------


def test_help_lists_commands_examples_and_exit_codes(env):
    proc = run(env, "--help")
    assert proc.returncode == 0
    for word in ("get", "wait", "wait-batch", "list", "emulator", "Examples:", "Exit codes:"):
        assert word in proc.stdout
    for command in ("get", "wait", "wait-batch", "list"):
        sub = run(env, command, "--help")
        assert sub.returncode == 0
        for word in ("Examples:", "--endpoint", "--region", "--account-id", "--profile", "--verbose"):
            assert word in sub.stdout, (command, word)


def test_no_pulumi_or_grpc_imported_by_help_or_commands(fc, env):
    script = textwrap.dedent("""
        import contextlib, io, sys
        from pulumi_fc_invocation.cli import main
        runs = [["--help"], ["get", "--help"], ["wait", "--help"], ["list", "--help"],
                ["get", "video.prod/transcode/done-1"], ["get", "video.prod/transcode/done-1", "-o", "json"],
                ["wait", "video.prod/transcode/done-1"], ["list", "video.prod/transcode", "--since", "1h"],
                ["wait-batch", "--help"], ["wait-batch", "video.prod/transcode", "--prefix", "done-"],
                ["wait-batch", "video.prod/transcode", "--prefix", "done-", "-o", "json"]]
        codes = []
        for argv in runs:
            with contextlib.redirect_stdout(io.StringIO()):
                codes.append(main(argv))
        bad = sorted(m for m in sys.modules if m in ("pulumi", "grpc") or m.startswith(("pulumi.", "grpc.", "grpc_")))
        print(codes, bad)
    """)
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] []", proc.stdout + proc.stderr


def test_help_loads_neither_the_client_nor_pydantic(env):
    """``--help`` stays fast: the client (requests, pydantic) and the gate core load inside the commands,
    and the --status choices (InvocationStatus) when first asked."""
    script = textwrap.dedent("""
        import contextlib, io, sys
        from pulumi_fc_invocation.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            codes = [main(["--help"]), main(["wait", "--help"]), main(["wait-batch", "--help"])]
        heavy = ("requests", "pydantic", "pulumi_fc_invocation.client", "pulumi_fc_invocation.gate.run")
        print(codes, sorted(m for m in heavy if m in sys.modules))
    """)
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[0, 0, 0] []", proc.stdout + proc.stderr


# --- get -------------------------------------------------------------------------------------------


def test_get_table(env):
    proc = run(env, "get", "video.prod/transcode/done-1", secrets=(SECRET, PAYLOAD_MARKER, RETURN_MARKER))
    assert proc.returncode == 0, proc.stderr
    rows = dict(line.split(None, 1) for line in proc.stdout.splitlines()
                if line and not line.startswith(" ") and line != "events:" and " " in line.strip())
    assert rows["status"].strip() == "Succeeded"
    assert rows["id"].strip() == "video.prod/transcode/done-1"
    assert "request id" in proc.stdout and "Enqueued" in proc.stdout
    assert proc.stderr == ""


def test_get_table_show_payloads(env):
    proc = run(env, "get", "video.prod/transcode/done-1", "--show-payloads")
    assert proc.returncode == 0
    assert PAYLOAD_MARKER in proc.stdout and RETURN_MARKER in proc.stdout


def test_get_json(fc, env):
    proc = run(env, "get", "video.prod/transcode/done-1", "--output", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    expected = fc.test_client.get("video.prod/transcode/done-1")
    assert data["id"] == "video.prod/transcode/done-1"
    assert data["status"] == "Succeeded"
    assert data["invocation_id"] == "done-1" and data["service_name"] == "video"
    assert data["function_name"] == "transcode" and data["qualifier"] == "prod"
    assert data["request_id"] == expected.request_id
    assert data["already_retried_times"] == 0 and data["invocation_error_message"] == ""
    assert PAYLOAD_MARKER in data["invocation_payload"] and RETURN_MARKER in data["return_payload"]
    for key in ("started_time", "end_time"):
        assert data[key].endswith("Z") and "T" in data[key]
    assert data["end_time"] >= data["started_time"]
    assert [e["status"] for e in data["events"]] == ["Enqueued", "Running", "Succeeded"]


def test_get_verbose_logs_requests_but_no_secret_or_payload(env):
    proc = run(env, "get", "video.prod/transcode/done-1", "-v", secrets=(SECRET, PAYLOAD_MARKER, RETURN_MARKER))
    assert proc.returncode == 0
    assert "DEBUG" in proc.stderr and "stateful-async-invocations/done-1" in proc.stderr
    assert "access_key_secret=<hidden>" in proc.stderr


# --- exit code 3: usage and configuration ----------------------------------------------------------


@pytest.mark.parametrize("args, needles", [
    (["get", "x"], ["invalid id 'x'", "SERVICE[.QUALIFIER]/FUNCTION/INVOCATION_ID"]),
    (["get", "video/transcode/bad id"], ["invalid"]),
    (["get", "video./transcode/x"], ["qualifier"]),
    (["get", "video/transcode/done-1", "--output", "xml"], ["--output", "fc-invocation get --help"]),
    (["get"], ["Missing argument"]),
    (["get", "video/transcode/done-1", "--bogus"], ["--bogus"]),
    (["wait", "video/transcode/done-1", "--timeout", "soon"], ["invalid --timeout 'soon'", "30m"]),
    (["wait", "video/transcode/done-1", "--timeout", "0"], ["--timeout"]),
    (["wait", "video/transcode/done-1", "--poll-interval", "5s", "--max-poll-interval", "1s"],
     ["--max-poll-interval", "--poll-interval"]),
    (["wait", "video/transcode/done-1", "--fail-on", "Running"], ["--fail-on", "not a terminal status"]),
    (["wait", "video/transcode/done-1", "--fail-on", "Borked"], ["--fail-on", "Borked"]),
    (["list", "video/transcode/x"], ["invalid target 'video/transcode/x'", "SERVICE[.QUALIFIER]/FUNCTION"]),
    (["list", "video/transcode", "--since", "yesterday"], ["--since", "RFC 3339"]),
    (["list", "video/transcode", "--since", "1h", "--until", "2h"], ["--since", "--until"]),
    (["list", "video/transcode", "--limit", "0"], ["--limit"]),
    (["list", "video/transcode", "--status", "Done"], ["--status"]),
    (["nope"], ["No such command"]),
    (["wait-batch", "video/transcode"], ["Missing option '--prefix'", "fc-invocation wait-batch --help"]),
    (["wait-batch", "a/b/c", "--prefix", "p-"], ["invalid target 'a/b/c'", "SERVICE[.QUALIFIER]/FUNCTION"]),
    (["wait-batch", "video/transcode", "--prefix", "bad prefix"], ["invalid --prefix 'bad prefix'"]),
    (["wait-batch", "video/transcode", "--prefix", "p-", "--expected-count", "0"], ["--expected-count"]),
    (["wait-batch", "video/transcode", "--prefix", "p-", "--timeout", "soon"], ["invalid --timeout 'soon'"]),
    (["wait-batch", "video/transcode", "--prefix", "p-", "--fail-on", "Running"], ["--fail-on", "not a terminal"]),
    (["wait-batch", "video/transcode", "--prefix", "p-", "--since", "yesterday"], ["--since", "RFC 3339"]),
    (["wait-batch", "video/transcode", "--prefix", "p-", "--poll-interval", "5s", "--max-poll-interval", "1s"],
     ["--max-poll-interval", "--poll-interval"]),
])
def test_usage_errors_exit_3(env, args, needles):
    assert_one_error_line(run(env, *args), 3, *needles)


def test_missing_credentials_exit_3(home):
    """In the CLI's words, short: what is missing (not a network fault), what the CLI reads (environment,
    --profile and its files, roles), and the fastest fix; nothing for Pulumi users (issue 27, point 6)."""
    proc = run(base_env(home), "get", "video/transcode/done-1")
    line = assert_one_error_line(proc, 3, "error: missing credentials, the account id and the region: ",
                                 "ALIBABA_CLOUD_ACCESS_KEY_ID", "--profile", "credentials.ini",
                                 "ALIBABA_CLOUD_ROLE_ARN", "pass --account-id and --region", "--endpoint",
                                 "fastest fix: export ALIBABA_CLOUD_ACCESS_KEY_ID=... "
                                 "ALIBABA_CLOUD_ACCESS_KEY_SECRET=...")
    assert len(line) < 600, len(line)
    for pulumi_words in ("cannot reach", "Pulumi", "alicloud:", "fc-invocation:", "`credentials` argument"):
        assert pulumi_words not in line, pulumi_words
    # Credentials found, the account and region not: only those, and only their fix.
    keys = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIfcCliKey1", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET}
    line = assert_one_error_line(run({**base_env(home), **keys}, "get", "transcode/job-1"), 3,
                                 "error: missing the account id and the region: pass --account-id and --region "
                                 "(ALIBABA_CLOUD_ACCOUNT_ID, ALIBABA_CLOUD_REGION), or --endpoint URL")
    assert len(line) < 200 and "credentials" not in line


def test_unknown_profile_exit_3(env):
    assert_one_error_line(run(env, "get", "video/transcode/done-1", "--profile", "ghost"), 3, "'ghost'", "--profile")


def test_profile_wins_over_environment_keys(fc, env, home):
    # The environment carries a wrong secret; the explicit --profile has the right one.
    (home / ".alibabacloud").mkdir()
    (home / ".alibabacloud" / "credentials.ini").write_text(
        f"[ci]\ntype = access_key\naccess_key_id = {fc.credentials.access_key_id}\naccess_key_secret = {SECRET}\n")
    env = {**env, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "wrong-secret-5e1d"}
    proc = run(env, "get", "video.prod/transcode/done-1", "--profile", "ci", "-v", secrets=(SECRET, "wrong-secret-5e1d"))
    assert proc.returncode == 0, proc.stderr
    assert "Succeeded" in proc.stdout


def test_profile_wins_over_role_settings_in_the_environment(fc, env, home):
    # OIDC and AssumeRole settings in the environment come before profiles in the chain; they point at
    # an STS nobody serves, so the call works only if the explicit --profile hides them.
    (home / ".alibabacloud").mkdir()
    (home / ".alibabacloud" / "credentials.ini").write_text(
        f"[ci]\ntype = access_key\naccess_key_id = {fc.credentials.access_key_id}\naccess_key_secret = {SECRET}\n")
    (home / "token").write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2ln\n")
    env = {key: value for key, value in env.items() if "ACCESS_KEY" not in key}
    env = {**env, "ALIBABA_CLOUD_ROLE_ARN": "acs:ram::1234567890123456:role/deploy",
           "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "acs:ram::1234567890123456:oidc-provider/ci",
           "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(home / "token"), "ALIBABA_CLOUD_STS_ENDPOINT": "http://127.0.0.1:9",
           "ALIBABA_CLOUD_CREDENTIALS_URI": "http://127.0.0.1:9/creds"}
    assert run(env, "get", "video.prod/transcode/done-1").returncode != 0  # without --profile: the role wins
    proc = run(env, "get", "video.prod/transcode/done-1", "--profile", "ci")
    assert proc.returncode == 0, proc.stderr
    assert "Succeeded" in proc.stdout


# --- exit code 4: API errors -----------------------------------------------------------------------


def test_not_found_exit_4(env):
    line = assert_one_error_line(run(env, "get", "video.prod/transcode/missing-1"), 4,
                                 "NotFound", "missing-1", "HTTP 404", "request id")
    assert "request id unknown" not in line


def test_wrong_secret_exit_4(env):
    env = {**env, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "wrong-secret-5e1d"}
    for args in (["get", "video.prod/transcode/done-1"], ["list", "video/transcode", "-v"]):
        proc = run(env, *args, secrets=(SECRET, "wrong-secret-5e1d"))
        assert_one_error_line(proc, 4, "AuthenticationError", "HTTP 403", "request id")


def test_wait_not_found_exit_4(env):
    proc = run(env, "wait", "video/transcode/missing-2", "--timeout", "5s")
    assert_one_error_line(proc, 4, "NotFound")
    assert "waiting for" not in proc.stderr, proc.stderr  # FC's answer says it all: no start line before it


def _closed_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_wait_on_an_unreachable_endpoint_fails_fast_exit_4_with_the_cause(env):
    # Before: the wait absorbed "connection refused" until --timeout and exited 2, the cause hidden.
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    started = time.monotonic()
    proc = run(env, "wait", "video/transcode/done-1", "--endpoint", endpoint, "--timeout", "5m", timeout=60)
    assert_one_error_line(proc, 4, "UnreachableError", "cannot reach " + endpoint, "Connection refused",
                          "; check --endpoint (FC_INVOCATION_ENDPOINT)")  # the setting and the fix
    assert time.monotonic() - started < 30  # one read's retries, not the 5 minutes


@pytest.mark.parametrize("command", [["get", "video/transcode/done-1"], ["wait", "video/transcode/done-1"],
                                     ["list", "video/transcode"]])
def test_an_endpoint_without_a_scheme_is_refused_exit_3(env, command):
    proc = run(env, *command, "--endpoint", "127.0.0.1:9000")
    assert_one_error_line(proc, 3, "endpoint '127.0.0.1:9000'", "no scheme", "http://127.0.0.1:9000")


@pytest.mark.parametrize("signum, code, message", [("SIGTERM", 143, "error: terminated (SIGTERM)"),
                                                   ("SIGINT", 130, "error: interrupted")])
def test_wait_stops_on_a_signal_with_one_line_and_its_exit_code(env, signum, code, message):
    import signal
    # SIGINT as a terminal's Ctrl+C delivers it: a run started in the background of a non-interactive
    # shell inherits SIGINT ignored, and Python (rightly) keeps an ignored SIGINT ignored.
    proc = subprocess.Popen([sys.executable, "-m", "pulumi_fc_invocation.cli", "wait", "video/forever/run-1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert proc.stderr.readline().startswith("waiting for video/forever/run-1")  # the wait has begun
        proc.send_signal(getattr(signal, signum))
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == code, (proc.returncode, err)
    assert message in err and "Traceback" not in err


def test_options_override_environment(fc, env):
    # The environment points at a closed port with a wrong account; the options must win.
    env = {**env, "FC_INVOCATION_ENDPOINT": "http://127.0.0.1:1", "ALIBABA_CLOUD_ACCOUNT_ID": "999"}
    proc = run(env, "get", "video.prod/transcode/done-1", "--endpoint", fc.endpoint, "--account-id", fc.account_id,
               "--region", "cn-shanghai", "-v")
    assert proc.returncode == 0, proc.stderr
    assert f"endpoint {fc.endpoint}, account id {fc.account_id}, region cn-shanghai" in proc.stderr


# --- wait ------------------------------------------------------------------------------------------


def _waited(fc, env, *args, reads=1, ends_in=30.0):
    """``fc-invocation *args`` as a process, the emulator's clock stepped ``ends_in`` s ahead (a running
    task ends) once the process made ``reads`` get calls: a wait that surely saw the task running."""
    fc.reset_requests()
    proc = subprocess.Popen([sys.executable, "-m", "pulumi_fc_invocation.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert until(lambda: fc.request_count("get") >= reads, timeout=20), fc.requests
        fc.advance(ends_in)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "Traceback" not in err and SECRET not in out + err
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_wait_succeeds_exit_0_with_plain_progress_when_piped(fc, env):
    fc.add_function("video", "slow", duration=30)
    fc.test_client.invoke_async("video", "slow", "{}", invocation_id="wait-ok-1")
    proc = _waited(fc, env, "wait", "video/slow/wait-ok-1", "--poll-interval", "0.2s")
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr and "\x1b" not in proc.stderr
    assert proc.stderr.startswith("waiting for video/slow/wait-ok-1: timeout 30m00s")
    assert proc.stdout.startswith("invocation video/slow/wait-ok-1 Succeeded after ")
    assert len(proc.stdout.splitlines()) == 1


def test_wait_on_an_ended_task_says_its_own_run_time_and_no_start_line(fc, env):
    """A task that had ended before the wait: its run (30 s here, from its times) and when it ended, not
    the wait's 0 s; and no start line about a polling schedule that never ran (issue 27, point 6)."""
    fc.add_function("video", "ran30", duration=30)
    fc.test_client.invoke_async("video", "ran30", "{}", invocation_id="ended-1")
    fc.advance(31)
    ended = fc.test_client.get("video/ran30/ended-1").end_time
    proc = run(env, "wait", "video/ran30/ended-1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.startswith("invocation video/ran30/ended-1 had already Succeeded (ran 30s, ended "
                                  f"{ended.strftime('%Y-%m-%dT%H:%M:%S')}"), proc.stdout
    assert "after 0s" not in proc.stdout
    proc = run(env, "wait", "video/fails/bad-1", "--fail-on", "")  # an end not in --fail-on: the same
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.startswith("invocation video/fails/bad-1 had already ended Failed, which is not in --fail-on "
                                  "(nothing) (ran 300ms, ended "), proc.stdout


def test_wait_failed_exit_1_names_status_error_and_request_id(fc, env):
    request_id = fc.test_client.get("video/fails/bad-1").request_id
    proc = run(env, "wait", "video/fails/bad-1")
    assert_one_error_line(proc, 1, "Failed", ERROR_TEXT, request_id)


def test_wait_terminal_status_not_in_fail_on_exit_0(env):
    proc = run(env, "wait", "video/fails/bad-1", "--fail-on", "Stopped,Expired")
    assert proc.returncode == 0, proc.stderr
    assert "ended Failed" in proc.stdout and "not in --fail-on" in proc.stdout
    assert run(env, "wait", "video/fails/bad-1", "--fail-on", "").returncode == 0


def test_wait_timeout_exit_2(env):
    started = time.monotonic()
    proc = run(env, "wait", "video/forever/run-1", "--timeout", "1s", "--poll-interval", "0.2s")
    assert_one_error_line(proc, 2, "timed out", "Running", "--timeout")
    assert time.monotonic() - started < 10


def test_wait_json_output(fc, env):
    fc.test_client.invoke_async("video", "transcode", json.dumps({"token": PAYLOAD_MARKER}), qualifier="prod",
                                invocation_id="wait-json-1")
    proc = run(env, "wait", "video.prod/transcode/wait-json-1", "--output", "json", "--poll-interval", "0.2s")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["status"] == "Succeeded" and data["id"] == "video.prod/transcode/wait-json-1"
    assert PAYLOAD_MARKER in data["invocation_payload"]
    assert PAYLOAD_MARKER not in proc.stderr
    failed = run(env, "wait", "video/fails/bad-1", "-o", "json")
    assert failed.returncode == 1 and json.loads(failed.stdout)["status"] == "Failed"


def run_on_a_terminal(env, *args):
    """Run the CLI with stderr on a pseudo-terminal (160 columns); returns (process, stdout, terminal text)."""
    import pty

    master, slave = pty.openpty()
    try:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 160, 0, 0))
    except (ImportError, OSError):
        pass
    try:
        proc = subprocess.Popen([sys.executable, "-m", "pulumi_fc_invocation.cli", *args], env=env,
                                stdout=subprocess.PIPE, stderr=slave, text=True)
        os.close(slave)
        out, _ = proc.communicate(timeout=20)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
    return proc, out, b"".join(chunks).decode()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_wait_live_progress_on_a_terminal(fc, env):
    fc.add_function("video", "slow", duration=3.0)  # real clock: outlasts a slow start-up under load
    fc.test_client.invoke_async("video", "slow", "{}", invocation_id="tty-1")
    proc, out, shown = run_on_a_terminal(env, "wait", "video/slow/tty-1", "--poll-interval", "0.3s")
    assert proc.returncode == 0 and "Succeeded" in out
    assert shown.count("\rwaiting for video/slow/tty-1: ") >= 2, shown
    assert "Running, retried 0 times" in shown
    assert shown.endswith("\r\x1b[K")  # the live line is cleared before the outcome
    assert "\n" not in shown.replace("\r\n", "")


# --- wait-batch ------------------------------------------------------------------------------------


def list_calls_during(fc, *args, **kwargs):
    """Run the CLI; returns (process, ListStatefulAsyncInvocations calls the emulator saw meanwhile)."""
    before = fc.request_count("list")
    proc = run(*args, **kwargs)
    return proc, fc.request_count("list") - before


def test_wait_batch_exit_0(fc, env):
    # Real clock: how many polls fit in the members' 1 s depends on this process's start-up (over 1 s on
    # a loaded machine); the cost per poll is tested under the virtual clock (test_cli_history.py).
    fc.add_function("video", "batchok", qualifiers=["prod"], duration=1.0)
    for name in ("wb-ok-1", "wb-ok-2", "wb-ok-3", "other-9"):  # other-9 is outside the batch
        fc.test_client.invoke_async("video", "batchok", "{}", qualifier="prod", invocation_id=name)
    proc, calls = list_calls_during(fc, env, "wait-batch", "video.prod/batchok", "--prefix", "wb-ok-",
                                    "--poll-interval", "0.2s", "-o", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["total"] == 3 and data["counts"]["Succeeded"] == 3 and data["all_succeeded"] and data["complete"]
    assert [m["id"] for m in data["invocations"]] == [f"video.prod/batchok/wb-ok-{i}" for i in (1, 2, 3)]
    assert "invocation_payload" not in data["invocations"][0]
    assert data["id"] == "video.prod/batchok?prefix=wb-ok-" and data["failed"] == [] and not data["timed_out"]
    # Every list call is counted: the polls' (plus the confirming full listing) and the history's.
    assert data["polls"] >= 1 and data["history_calls"] in (0, 1), data
    assert calls == data["list_calls"] + data["history_calls"], (calls, data)
    assert "\r" not in proc.stderr and "\x1b" not in proc.stderr
    assert proc.stderr.startswith("waiting for batch video.prod/batchok prefix wb-ok-: timeout 30m00s, polling "
                                  "duration-aware (from the function's recent runs), at most 5m00s apart before the "
                                  "likely end; without a history every 200ms up to 45s, fail on Failed, Stopped, "
                                  "Expired, Invalid\n")
    assert proc.stderr.splitlines()[-1].startswith("batch video.prod/batchok prefix wb-ok-: 3/3 succeeded, 0 failed "
                                                   "after ")
    # The batch has ended: the table form is one line on stdout, after one poll and one list call.
    proc, calls = list_calls_during(fc, env, "wait-batch", "video.prod/batchok", "--prefix", "wb-ok-")
    assert proc.returncode == 0 and calls == 1, (proc.stderr, calls)
    (line,) = proc.stdout.splitlines()
    assert line.startswith("batch video.prod/batchok prefix wb-ok-: 3/3 succeeded, 0 failed after ")
    assert line.endswith("(1 poll, 1 list call)")


def test_wait_batch_one_list_call_per_page(fc, env):
    fc.add_function("video", "batchbig", duration=0.05)
    for i in range(230):
        fc.add_invocation("video", "batchbig", f"wb-big-{i:03d}")
    fc.advance(0.2)
    proc, calls = list_calls_during(fc, env, "wait-batch", "video/batchbig", "--prefix", "wb-big-", "-o", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["total"] == 230 and data["counts"]["Succeeded"] == 230
    assert (data["polls"], data["list_calls"], calls) == (1, 3, 3)


def test_wait_batch_failed_exit_1_lists_ten_failures_and_counts_the_rest(fc, env):
    fc.add_function("video", "batchbad", outcome="Failed", duration=0.1, error_message="Oops:\n  disk full")
    for i in range(12):
        fc.test_client.invoke_async("video", "batchbad", "{}", invocation_id=f"wb-bad-{i:02d}")
    fc.advance(0.4)
    proc = run(env, "wait-batch", "video/batchbad", "--prefix", "wb-bad-")
    assert_one_error_line(proc, 1, "batch video/batchbad prefix wb-bad-: 12 invocations ended in a fail status",
                          "0/12 succeeded, 12 failed", "Failed, Stopped, Expired, Invalid")
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("error:"))
    listed = lines[start + 1:]
    assert len(listed) == 11 and listed[-1] == "  ... and 2 more", lines
    request_id = fc.test_client.get("video/batchbad/wb-bad-00").request_id
    assert listed[0] == f"  video/batchbad/wb-bad-00 ended Failed: Oops: disk full (request id {request_id})"
    assert all(line.startswith("  video/batchbad/wb-bad-") and "ended Failed: Oops: disk full" in line
               for line in listed[:10])
    # -o json still prints the batch; a fail status not in --fail-on exits 0.
    failed = run(env, "wait-batch", "video/batchbad", "--prefix", "wb-bad-", "-o", "json")
    assert failed.returncode == 1 and len(json.loads(failed.stdout)["failed"]) == 12
    proc = run(env, "wait-batch", "video/batchbad", "--prefix", "wb-bad-", "--fail-on", "Stopped")
    assert proc.returncode == 0, proc.stderr
    assert "all 12 ended (0/12 succeeded, 12 failed)" in proc.stdout and "none in --fail-on (Stopped)" in proc.stdout


def test_wait_batch_timeout_exit_2(env):
    started = time.monotonic()
    proc = run(env, "wait-batch", "video/forever", "--prefix", "run-", "--timeout", "1s", "--poll-interval", "0.2s")
    assert_one_error_line(proc, 2, "timed out waiting for batch video/forever prefix run-",
                          "0/1 succeeded, 1 running, 0 failed", "--timeout")
    assert time.monotonic() - started < 10
    assert proc.stderr.startswith("waiting for batch video/forever prefix run-: timeout 1s,")


def test_wait_batch_expected_count_holds_the_wait(fc, env):
    fc.add_function("video", "batchexp", duration=0.2)
    for name in ("wb-exp-1", "wb-exp-2"):
        fc.test_client.invoke_async("video", "batchexp", "{}", invocation_id=name)
    fc.advance(0.3)
    # Too few members: the wait times out, and says why.
    proc = run(env, "wait-batch", "video/batchexp", "--prefix", "wb-exp-", "--expected-count", "5", "--timeout", "1s",
               "--poll-interval", "0.2s")
    assert_one_error_line(proc, 2, "2/5 succeeded, 3 not listed yet", "only 2 matching invocations exist")
    # Both members ended, but the gate stays shut until the third is listed (and has ended).
    fc.reset_requests()
    started = time.monotonic()
    waiting = subprocess.Popen([sys.executable, "-m", "pulumi_fc_invocation.cli", "wait-batch", "video/batchexp",
                                "--prefix", "wb-exp-", "--expected-count", "3", "--poll-interval", "0.2s",
                                "--timeout", "20s", "-o", "json"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        # Three list/get calls by the subprocess: it saw both ended members and kept the gate shut.
        assert until(lambda: fc.request_count("list") + fc.request_count("get") >= 3, timeout=20), fc.requests
        assert waiting.poll() is None, waiting.communicate()
        held = time.monotonic() - started
        fc.test_client.invoke_async("video", "batchexp", "{}", invocation_id="wb-exp-3")
        out, err = waiting.communicate(timeout=15)
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.communicate()
    assert waiting.returncode == 0, err
    data = json.loads(out)
    assert data["total"] == 3 and data["all_succeeded"] and data["expected_count"] == 3
    assert data["invocations"][-1]["invocation_id"] == "wb-exp-3" and time.monotonic() - started >= held + 0.2
    assert "at least 3 invocations" in err.splitlines()[0]


def test_wait_batch_unknown_function_exit_4(env):
    assert_one_error_line(run(env, "wait-batch", "video/nope", "--prefix", "p-", "--timeout", "5s"), 4,
                          "cannot list batch video/nope prefix p-", "FunctionNotFound", "request id")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_wait_batch_live_progress_on_a_terminal(fc, env):
    fc.add_function("video", "batchtty", duration=3.0)  # real clock: outlasts a slow start-up under load
    for name in ("wb-tty-1", "wb-tty-2"):
        fc.test_client.invoke_async("video", "batchtty", "{}", invocation_id=name)
    proc, out, shown = run_on_a_terminal(env, "wait-batch", "video/batchtty", "--prefix", "wb-tty-",
                                         "--poll-interval", "0.3s")
    assert proc.returncode == 0 and out.startswith("batch video/batchtty prefix wb-tty-: 2/2 succeeded"), out
    assert shown.count("\rbatch video/batchtty prefix wb-tty-: ") >= 2, shown
    assert "0/2 succeeded, 2 running, 0 failed, " in shown and " elapsed" in shown
    assert shown.endswith("\r\x1b[K")
    assert "\n" not in shown.replace("\r\n", "")


# --- list ------------------------------------------------------------------------------------------


def test_list_table_and_filters(env):
    proc = run(env, "list", "video.prod/transcode", secrets=(SECRET, PAYLOAD_MARKER, RETURN_MARKER))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].split()[:2] == ["INVOCATION", "ID"]
    assert {"done-1", "done-2", "other-1"} <= set(line.split()[0] for line in proc.stdout.splitlines()[1:])
    assert "Succeeded" in proc.stdout

    proc = run(env, "list", "video.prod/transcode", "--prefix", "done-", "--since", "1h", "--status", "succeeded",
               "--output", "json")
    ids = [item["invocation_id"] for item in json.loads(proc.stdout)]
    assert sorted(ids) == ["done-1", "done-2"]
    item = json.loads(proc.stdout)[0]
    assert item["id"].startswith("video.prod/transcode/done-") and item["status"] == "Succeeded"
    assert "invocation_payload" not in item and "return_payload" not in item

    assert len(json.loads(run(env, "list", "video.prod/transcode", "--limit", "1", "-o", "json").stdout)) == 1
    assert json.loads(run(env, "list", "video/fails", "--status", "Succeeded", "-o", "json").stdout) == []
    future = run(env, "list", "video.prod/transcode", "--since", "2999-01-01T00:00:00Z")
    assert future.returncode == 0 and future.stdout.splitlines()[1:] == [] and "no invocations match" in future.stderr
    epoch_ms = str(int((time.time() - 3600) * 1000))
    assert "done-1" in run(env, "list", "video.prod/transcode", "--since", epoch_ms, "--until", "2999-01-01T00:00:00Z").stdout


def test_list_show_payloads(env):
    proc = run(env, "list", "video.prod/transcode", "--prefix", "done-1", "--show-payloads", "-o", "json")
    (item,) = json.loads(proc.stdout)
    assert PAYLOAD_MARKER in item["invocation_payload"]
    table = run(env, "list", "video.prod/transcode", "--prefix", "done-1", "--show-payloads")
    assert PAYLOAD_MARKER in table.stdout


# --- emulator --------------------------------------------------------------------------------------


def test_emulator_help_is_the_emulators(home):
    proc = run(base_env(home), "emulator", "--help")
    assert proc.returncode == 0
    assert "usage: fc-invocation emulator" in proc.stdout and "--scenario" in proc.stdout
    bad = run(base_env(home), "emulator", "--bogus")
    assert bad.returncode == 3 and "unrecognized arguments: --bogus" in bad.stderr


# --- invoke, and the whole loop from a shell ---------------------------------------------------------


def test_invoke_starts_a_task_and_prints_its_id(fc, env):
    proc = run(env, "invoke", "video.prod/transcode", "--id", "inv-cli-1", "--payload", '{"n": 1}')
    assert proc.returncode == 0 and proc.stdout.strip() == "inv-cli-1", proc.stderr
    started = fc.test_client.get("video.prod/transcode/inv-cli-1")
    assert started.invocation_id == "inv-cli-1"
    generated = run(env, "invoke", "video/transcode", "-o", "json")
    data = json.loads(generated.stdout)
    assert data["ref"] == "video/transcode/" + data["invocation_id"] and data["invocation_id"]


@pytest.mark.parametrize("args, code, needles", [
    (["invoke", "video/transcode", "--id", "bad id"], 3, ["invalid --task-id (--id) 'bad id'"]),
    (["invoke", "video/transcode", "--timeout", "5s"], 3, ["--timeout applies to the wait: add --wait"]),
    (["invoke", "video/transcode", "--wait", "--timeout", "0s"], 3, ["invalid --timeout '0s'"]),
    (["invoke", "video/transcode", "--payload", "x", "--payload-file", "f"], 3, ["--payload or --payload-file"]),
    (["invoke", "video/transcode/x"], 3, ["invalid target 'video/transcode/x'"]),
    (["invoke", "video/transcode", "--id", "inv-cli-dup"], 0, []),
    (["invoke", "video/transcode", "--id", "inv-cli-dup"], 4, ["AlreadyExists"]),
])
def test_invoke_errors(env, args, code, needles):
    proc = run(env, *args)
    if needles:
        assert_one_error_line(proc, code, *needles)
    assert proc.returncode == code, proc.stderr


# --- invoke --wait (issue 28, item 3): start, then wait as `wait` does -------------------------------------


def _slow_target(fc, name, fc3):
    """A function of the API whose tasks run 30 s (until the test steps the clock); its target text."""
    fc.add_function(None if fc3 else "video", name, duration=30)
    return name if fc3 else f"video/{name}"


@pytest.mark.parametrize("fc3", [True, False], ids=["fc3", "fc2"])
def test_invoke_wait_prints_the_id_first_then_waits_as_wait_does(fc, env, fc3):
    target = _slow_target(fc, "iwslow", fc3)
    proc = _waited(fc, env, "invoke", target, "--task-id", "iw-ok", "--wait", "--poll-interval", "0.2s")
    assert proc.returncode == 0, proc.stderr
    noun = "task" if fc3 else "invocation"
    first, summary = proc.stdout.splitlines()
    assert first == "iw-ok"
    assert summary.startswith(f"{noun} {target}/iw-ok Succeeded after "), summary
    assert proc.stderr.startswith(f"waiting for {target}/iw-ok: timeout 30m00s")
    assert fc.request_count("invoke") == 1
    # --id stays an alias; FC picks no id in FC 3.0, the CLI makes one: printed first all the same.
    proc = _waited(fc, env, "invoke", target, "--id", "iw-alias", "--wait", "--poll-interval", "0.2s")
    assert proc.returncode == 0 and proc.stdout.splitlines()[0] == "iw-alias", proc.stderr
    proc = _waited(fc, env, "invoke", target, "--wait", "--poll-interval", "0.2s")
    made = proc.stdout.splitlines()[0]
    assert proc.returncode == 0 and fc.test_client.get(f"{target}/{made}").status.value == "Succeeded"


@pytest.mark.parametrize("fc3", [True, False], ids=["fc3", "fc2"])
def test_invoke_wait_json_keeps_the_id_at_the_top_for_the_next_step(fc, env, fc3):
    target = _slow_target(fc, "iwjson", fc3)
    proc = _waited(fc, env, "invoke", target, "--wait", "--output", "json", "--poll-interval", "0.2s")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # stdout is the JSON object alone
    key = "task_id" if fc3 else "invocation_id"
    started = data[key]
    assert data["status"] == "Succeeded" and data["id"] == f"{target}/{started}"
    assert proc.stderr.splitlines()[0] == f"started {'task' if fc3 else 'invocation'} {target}/{started}"
    assert fc.test_client.get(f"{target}/{started}").status.value == "Succeeded"


def test_invoke_wait_on_a_failed_task_exits_1_as_wait_does(fc, env):
    fc.add_function("video", "iwfails", outcome="Failed", duration=30, error_message=ERROR_TEXT)
    proc = _waited(fc, env, "invoke", "video/iwfails", "--task-id", "iw-bad", "--wait", "--poll-interval", "0.2s")
    assert proc.stdout.splitlines() == ["iw-bad"]
    line = assert_one_error_line(proc, 1, "video/iwfails/iw-bad", "Failed", ERROR_TEXT)
    waited = run(env, "wait", "video/iwfails/iw-bad")  # the same verdict, the same line
    assert waited.returncode == 1 and line in waited.stderr


def test_invoke_wait_timeout_exits_2_with_the_json_of_the_running_task(fc, env):
    proc = run(env, "invoke", "video/forever", "--task-id", "iw-long", "--wait", "--timeout", "1s",
               "--poll-interval", "0.2s", "--output", "json")
    assert proc.returncode == 2, proc.stderr
    data = json.loads(proc.stdout)
    assert data["invocation_id"] == "iw-long" and data["status"] == "Running"
    assert "raise --timeout" in proc.stderr


def test_invoke_wait_options_are_checked_before_anything_starts(fc, env):
    fc.reset_requests()
    for args in (["--wait", "--fail-on", "Nope"], ["--timeout", "5s"], ["--no-history"],
                 ["--wait", "--poll-interval", "2s", "--max-poll-interval", "1s"]):
        proc = run(env, "invoke", "video/transcode", "--task-id", "never-1", *args)
        assert proc.returncode == 3, (args, proc.stderr)
    assert fc.request_count() == 0


def _start_emulator(home, *args):
    proc = subprocess.Popen([sys.executable, "-m", "pulumi_fc_invocation.cli", "emulator", "--port", "0", "--quiet",
                             *args], env=base_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("Press Ctrl+C"):
            break
    exports = dict(line[len("export "):].strip().split("=", 1) for line in lines if line.startswith("export "))
    return proc, lines, {**base_env(home), **exports}


def test_a_bare_emulator_serves_a_default_function_for_the_whole_loop_from_a_shell(home):
    """Before: a bare emulator had no function (InvokeFunction: ServiceNotFound) and no command started a task."""
    proc, lines, env = _start_emulator(home)
    try:
        assert any(line.startswith("serving demo/job") for line in lines), lines
        quick = json.dumps({"fcEmulator": {"status": "Failed", "after": 0.2, "error": "disk full"}})
        started = run(env, "invoke", "demo/job", "--payload", quick)
        assert started.returncode == 0, started.stderr
        waited = run(env, "wait", f"demo/job/{started.stdout.strip()}", "--timeout", "30s", "--poll-interval", "0.1s")
        assert_one_error_line(waited, 1, "ended Failed: disk full")
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_the_emulator_serves_the_functions_it_is_given(home):
    proc, lines, env = _start_emulator(home, "--function", "video.prod/transcode", "--outcome", "Running")
    try:
        assert any(line.startswith("serving video.prod/transcode (tasks end Running") for line in lines), lines
        started = run(env, "invoke", "video.prod/transcode", "--id", "v-1")
        assert started.returncode == 0, started.stderr
        shown = run(env, "get", "video.prod/transcode/v-1", "-o", "json")
        assert json.loads(shown.stdout)["status"] in ("Enqueued", "Running"), shown.stderr
        assert_one_error_line(run(env, "invoke", "demo/job"), 4, "ServiceNotFound")  # no default beside --function
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    bad = run(base_env(home), "emulator", "--function", "video")
    assert_one_error_line(bad, 3, "invalid --function 'video'")


def test_emulator_help_has_examples(home):
    proc = run(base_env(home), "emulator", "--help")
    assert "examples:" in proc.stdout and "fc-invocation invoke demo/job" in proc.stdout
