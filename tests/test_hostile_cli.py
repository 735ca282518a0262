"""The CLI against hostile text and streams (issues 17.6, 18.5, 18.7 and the small items): escape
sequences from the server are shown escaped, a non-UTF-8 stdout never crashes any output path,
``wait --timeout`` bounds a wait on a server that never answers, a 10-digit ``--since`` is seconds,
and a clock-skew 403 gets a clock hint. The command runs as a subprocess against the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from pulumi_fc_invocation.testing import FcEmulator

from _hostile import HostileServer

EVIL = "\x1b]0;pwned\x07\x1b[2J\rall tasks Succeeded\x9b31m \u202egnp.exe"
WIDE = "任务 🚀 é — ✓"


@pytest.fixture(scope="module")
def fc():
    with FcEmulator(clock="virtual") as emulator:
        emulator.add_invocation("svc", "fn", "evil-1", timeline=[("Failed", 0, EVIL)], error_message=EVIL)
        emulator.add_invocation("svc", "fn", "wide-1", timeline=[("Succeeded", 0)], payload=WIDE,
                                return_payload=WIDE, error_message=WIDE)
        yield emulator


def run(fc, *args, encoding="utf-8", timeout=60, env_extra=None):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent", "LANG": "C.UTF-8",
           **fc.env(), "PYTHONIOENCODING": encoding, **(env_extra or {})}
    proc = subprocess.run([sys.executable, "-m", "pulumi_fc_invocation.cli", *args], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    out, err = proc.stdout.decode(encoding), proc.stderr.decode(encoding, errors="replace")
    assert "Traceback" not in err and "internal error" not in err, err
    return proc.returncode, out, err


RAW_CONTROLS = ("\x1b", "\x07", "\r", "\x9b", "\u202e")


@pytest.mark.parametrize("args", [
    ("get", "svc/fn/evil-1"),
    ("list", "svc/fn"),
    ("wait", "svc/fn/evil-1", "--timeout", "5s"),
    ("wait-batch", "svc/fn", "--prefix", "evil-", "--timeout", "5s"),
])
def test_escape_sequences_from_the_server_are_printed_escaped(fc, args):
    code, out, err = run(fc, *args)
    for text in (out, err):
        for raw in RAW_CONTROLS:
            assert raw not in text, (raw, text)
    assert "\\x1b" in out + err


def test_json_output_keeps_the_text_exact_but_no_raw_control_character(fc):
    code, out, err = run(fc, "get", "svc/fn/evil-1", "-o", "json")
    assert code == 0
    for raw in RAW_CONTROLS:
        assert raw not in out
    assert json.loads(out)["invocation_error_message"] == EVIL


@pytest.mark.parametrize("args", [
    ("get", "svc/fn/wide-1", "-o", "json"),
    ("get", "svc/fn/wide-1", "--show-payloads"),
    ("wait", "svc/fn/wide-1", "-o", "json", "--timeout", "5s"),
    ("wait", "svc/fn/wide-1", "--timeout", "5s"),
    ("list", "svc/fn", "--show-payloads"),
    ("list", "svc/fn", "-o", "json", "--show-payloads"),
    ("wait-batch", "svc/fn", "--prefix", "wide-", "-o", "json", "--timeout", "5s"),
    ("get", "svc/fn/evil-1"),
])
def test_every_output_path_survives_a_cp1252_stdout(fc, args):
    code, out, err = run(fc, *args, encoding="cp1252")
    assert code == 0, (code, out, err)
    if "json" in args:
        data = json.loads(out)
        items = data if isinstance(data, list) else data.get("invocations", [data])
        wide = [item for item in items if item.get("invocation_id") == "wide-1"]
        assert wide and wide[0].get("return_payload", WIDE) == WIDE
    else:
        assert "é" in out or "\\u4efb" in out or "\\U0001f680" in out or "svc/fn" in out


def test_a_ten_digit_since_is_epoch_seconds_and_thirteen_digits_milliseconds(fc):
    fc.reset_requests()
    assert run(fc, "list", "svc/fn", "--since", "1793700000")[0] == 0
    assert run(fc, "list", "svc/fn", "--since", "1793700000123")[0] == 0
    begins = [r.query.get("startedTimeBegin") for r in fc.requests if r.route == "list"]
    assert begins == ["1793700000000", "1793700000123"]


def test_a_clock_skew_403_gets_a_clock_hint_not_a_key_hint(fc):
    fc.inject_fault(route="get", status=403, code="RequestTimeTooSkewed",
                    message="the difference between the request time and the server time is too large")
    code, out, err = run(fc, "get", "svc/fn/wide-1")
    assert code == 4 and "clock" in err and "check the access key" not in err, err


def test_wait_timeout_bounds_a_wait_on_a_server_that_never_answers(fc):
    stop = threading.Event()
    with HostileServer(lambda seen, conn: stop.wait(60)) as server:
        started = time.monotonic()
        code, out, err = run(fc, "wait", "svc/fn/job-1", "--timeout", "1s",
                             env_extra={"FC_INVOCATION_ENDPOINT": server.endpoint})
        elapsed = time.monotonic() - started
        stop.set()
    assert code in (2, 4) and elapsed < 1 + 4.0, (elapsed, err)
    # No answer at all: the piped start line (held for a first answer, which may say the task had already
    # ended) is written at the end of the wait, before its error line, however soon the wait ended.
    assert err.startswith("waiting for svc/fn/job-1: timeout 1s"), err
    assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1, err


def test_wait_batch_stops_on_a_repeated_next_token(fc):
    def same_token(seen, conn):
        from _hostile import http_response

        return http_response(200, b'{"invocations": [], "nextToken": "same"}')

    with HostileServer(same_token) as server:
        started = time.monotonic()
        code, out, err = run(fc, "wait-batch", "svc/fn", "--prefix", "job-", "--timeout", "5s",
                             env_extra={"FC_INVOCATION_ENDPOINT": server.endpoint})
        elapsed = time.monotonic() - started
    # Each poll stops at the repeated token (2 requests); the wait ends by --timeout, not never.
    assert code in (2, 4) and elapsed < 5 + 2.5, (code, elapsed, err)
    assert len(server.seen) <= 2 * 8
