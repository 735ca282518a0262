"""The emulator against hostile clients (issue 17.5, 17.6, 17.9): held-open and half-sent
connections, chunked bodies past the limits, malformed chunking, huge or non-finite directive
values, a non-ASCII signature, a NaN scenario, a crafted path in the request log, and the secret
given by environment variable or file. Raw sockets on loopback; every loop is bounded."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from pulumi_fc_invocation.errors import BadRequestError
from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.scenario import ScenarioError


def raw_request(fc, data: bytes, timeout: float = 5.0) -> bytes:
    with socket.create_connection((fc.host, fc.port), timeout=timeout) as sock:
        sock.sendall(data)
        reply = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            reply += chunk
        return reply


def test_held_open_and_half_sent_connections_never_lock_out_a_real_client():
    with FcEmulator(clock="virtual", connection_timeout=30.0, max_connections=8) as fc:
        fc.add_invocation("svc", "fn", "job-1", timeline=[("Succeeded", 0)])
        before = threading.active_count()
        held = []
        try:
            for i in range(40):  # five times the cap: idle sockets and half-sent requests
                sock = socket.create_connection((fc.host, fc.port), timeout=5)
                if i % 2:
                    sock.sendall(b"GET /2016-08-15/services/svc HTTP/1.1\r\nHost: x\r\nX-Half: ")
                held.append(sock)
            with fc.client(timeout=(1.0, 1.0), retry_budget=2.0) as client:
                started = time.monotonic()
                assert client.get("svc/fn/job-1").invocation_id == "job-1"
                assert time.monotonic() - started < 1.0
            assert threading.active_count() - before <= 8 + 1
        finally:
            for sock in held:
                sock.close()


def test_an_idle_connection_is_closed_after_the_connection_timeout():
    with FcEmulator(clock="virtual", connection_timeout=0.3) as fc:
        with socket.create_connection((fc.host, fc.port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\n")  # and nothing more
            started = time.monotonic()
            assert sock.recv(100) == b""  # closed by the emulator
            assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("body, needle", [
    (b"2100000\r\n", b"EntityTooLarge"),                 # one chunk past the 32 MiB limit
    (b"0" * 300_000 + b"1\r\n", b"EntityTooLarge"),    # a chunk-size line that never ends
    (b"zz\r\nab\r\n0\r\n\r\n", b"malformed chunk size"),
    (b"-1\r\n", b"malformed chunk size"),
    (b"1_0\r\n", b"malformed chunk size"),
    (b"2\r\nabcd\r\n0\r\n\r\n", b"longer than its size"),
])
def test_chunked_bodies_are_bounded_and_malformed_chunking_is_a_400(body, needle):
    with FcEmulator(clock="virtual") as fc:
        head = (b"POST /2016-08-15/services/svc/functions/fn/invocations HTTP/1.1\r\nHost: x\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n")
        reply = raw_request(fc, head + body)
    assert reply.startswith(b"HTTP/1.1 400 ") and needle in reply, reply[:300]


@pytest.mark.parametrize("directive, needle", [
    ({"retries": 1_000_000}, "retries must be an integer from 0 to 100"),
    ({"after": 1e300}, "at most"),
    ({"queueDelay": float("nan")}, "must be a number of seconds"),
    ({"retryDelay": float("inf")}, "must be finite"),
])
def test_directive_values_are_capped_and_answered_at_once(directive, needle):
    with FcEmulator(clock="virtual") as fc, fc.client() as client:
        fc.add_function("svc", "fn")
        started = time.monotonic()
        with pytest.raises(BadRequestError, match=needle):
            client.invoke_async("svc", "fn", json.dumps({"fcEmulator": directive}))
        assert time.monotonic() - started < 0.5


def test_a_huge_directive_does_not_delay_another_client():
    with FcEmulator(clock="virtual") as fc, fc.client() as client:
        fc.add_invocation("svc", "fn", "job-1", timeline=[("Succeeded", 0)])
        done = threading.Event()

        def hostile():
            with fc.client() as other:
                for _ in range(5):
                    with pytest.raises(BadRequestError):
                        other.invoke_async("svc", "fn", json.dumps({"fcEmulator": {"retries": 10**7}}))
            done.set()

        thread = threading.Thread(target=hostile)
        thread.start()
        slowest = 0.0
        for _ in range(20):
            started = time.monotonic()
            client.get("svc/fn/job-1")
            slowest = max(slowest, time.monotonic() - started)
        thread.join(10)
        assert done.is_set() and slowest < 0.5, slowest


def test_a_non_ascii_signature_is_a_403_not_a_500():
    with FcEmulator(clock="virtual") as fc:
        from email.utils import formatdate

        head = (f"GET /2016-08-15/services/svc/functions/fn/stateful-async-invocations/j HTTP/1.1\r\nHost: x\r\n"
                f"Date: {formatdate(usegmt=True)}\r\nAuthorization: FC {fc.credentials.access_key_id}:").encode()
        reply = raw_request(fc, head + "sïgnatüre".encode("utf-8") + b"\r\nContent-Length: 0\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 403 ") and b"SignatureNotMatch" in reply and b"Traceback" not in reply


@pytest.mark.parametrize("ago", [float("nan"), float("inf"), "60"])
def test_a_scenario_with_a_non_finite_start_is_refused(ago):
    scenario = {"invocations": [{"service": "s", "function": "f", "invocationId": "j", "startedAgo": ago}]}
    with pytest.raises(ScenarioError, match="startedAgo"):
        FcEmulator(clock="virtual", scenario=scenario)


def test_a_started_at_that_is_not_finite_is_refused():
    with FcEmulator(clock="virtual") as fc:
        with pytest.raises(ValueError, match="started_at"):
            fc.add_invocation("s", "f", "j", started_at=float("nan"))


def _start_emulator(args, env):
    proc = subprocess.Popen([sys.executable, "-m", "pulumi_fc_invocation.cli", "emulator", "--port", "0", *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for _ in range(20):
        line = proc.stdout.readline()
        lines.append(line)
        if line.startswith("Press Ctrl+C") or not line:
            break
    return proc, "".join(lines)


@pytest.mark.parametrize("how", ["env", "file"])
def test_the_emulator_takes_its_secret_from_env_or_a_file_and_escapes_its_log(tmp_path, how):
    secret = "Own-Emulator-Secret-" + how
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    args = []
    if how == "env":
        env["FC_EMULATOR_ACCESS_KEY_SECRET"] = secret
    else:
        (tmp_path / "secret").write_text(secret + "\n")
        args = ["--access-key-secret-file", str(tmp_path / "secret")]
    proc, banner = _start_emulator(args, env)
    try:
        endpoint = banner.split("listening on ", 1)[1].split()[0]
        assert secret not in banner and "<the secret from" in banner
        from pulumi_fc_invocation import Credentials, FcClient, NotFoundError
        from pulumi_fc_invocation.testing.server import DEFAULT_ACCESS_KEY_ID

        with FcClient(endpoint=endpoint, credentials=Credentials(DEFAULT_ACCESS_KEY_ID, secret)) as client:
            with pytest.raises(NotFoundError):  # signed with the secret: authenticated, then not found
                client.get("svc/fn/job-1")
        host, port = endpoint.split("//")[1].split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"GET /x%1b%5b2J%0d%0aGET%20/forged%20-%3E%20200 HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Length: 0\r\nConnection: close\r\n\r\n")
            while sock.recv(65536):
                pass
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    log_lines = [line for line in err.splitlines() if line.startswith("GET ")]
    assert len(log_lines) == 2 and "\x1b" not in err and "\\x1b" in log_lines[1], err
    assert secret not in err
