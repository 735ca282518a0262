"""The fault matrix: every fault the emulator (or a raw socket) can produce, against a single read
(``FcClient.get``), a gated wait (``wait_for_invocation`` on a virtual clock) and, for a few, the full
data source through the Pulumi harness. Real HTTP throughout.

Each :class:`Case` states what should happen (outcome class, request count, time bound, message
fragments); :func:`run_case` makes it happen and reports what did. ``tests/test_reliability_faults.py``
runs every case and asserts; this module, run as a script, writes ``docs/reliability.md``::

    .venv/bin/python tools/reliability_matrix.py --output docs/reliability.md
    .venv/bin/python tools/reliability_matrix.py > docs/reliability.md

so the table there is always the output of a run, never typed by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import functools
import json
import os
import platform
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

# The test suite's raw-socket server (tests/_hostile.py) and soak (tests/test_soak.py) serve the script too.
TESTS = str(Path(__file__).resolve().parents[1] / "tests")
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from _hostile import HostileServer, http_response
from pulumi_fc_invocation import Credentials, FcClient, FcInvocationError
from pulumi_fc_invocation.testing.server import FcEmulator
from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock
from pulumi_fc_invocation.waiter import WaitPolicy, wait_for_invocation

# Small budgets keep every case fast; the behaviour under test is the same as with the defaults.
CLIENT = dict(timeout=(1.0, 0.3), max_retries=2, retry_budget=3.0, backoff_factor=0.01, backoff_max=0.05)
ATTEMPTS = CLIENT["max_retries"] + 1
WAIT_POLICY = dict(initial_delay=1.0, max_delay=5.0, timeout=600.0, max_consecutive_errors=3)
TASK_SECONDS = 5.0  # a waited-for task runs this long (virtual seconds)

KEY_ID = "LTAIreliabilityKey01"
SECRET = "Reliability-Secret-7c1f0e55aa"
STS_KEY_ID = "STS.reliabilityKey02"
STS_SECRET = "Reliability-StsSecret-91b2d4"
STS_TOKEN = "CAIS-Reliability-Token-e3d9f1c2b0"
EXPIRED_KEY_ID = "STS.reliabilityExpired"
EXPIRED_SECRET = "Reliability-ExpiredSecret-55ab"
EXPIRED_TOKEN = "CAIS-Reliability-ExpiredToken-0f9e"
SECRETS = (SECRET, STS_SECRET, STS_TOKEN, EXPIRED_SECRET, EXPIRED_TOKEN)

# 128 KiB of UTF-8 made of 1-, 2-, 3- and 4-byte characters, control characters and a BOM: what a
# payload can hold, to be compared byte for byte.
_PIECE = 'héllo wörld — 任务完成 ✓ 🚀 "quoted" \\ back\tslash\r\nnew line \u2028 \ufeff \x00 null; '


def huge_payload(size: int = 128 * 1024) -> str:
    data = (_PIECE * (size // len(_PIECE.encode()) + 1)).encode()[:size]
    return data.decode("utf-8", errors="ignore")


FC_MESSAGE = 'quota 任务 "exceeded" \\ for fn — retry ✓\n\tsecond  line 🚀'
HTML_PAGE = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"


# ------------------------------------------------------------------------------------------------
# Endpoints the emulator cannot be: a closed port, a server that trickles its answer.


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class TrickleServer:
    """Answers every request with a valid invocation, one body byte every ``interval`` seconds:
    each byte arrives well within a read timeout, the whole answer takes ``len(body) * interval``."""

    def __init__(self, body: bytes, interval: float = 0.1) -> None:
        self.body = body
        self.interval = interval
        self.requests = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.endpoint = f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def __enter__(self) -> "TrickleServer":
        thread = threading.Thread(target=self._accept, name="trickle-accept", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), name="trickle-conn", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                self.requests += 1
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(self.body))
                for byte in self.body:
                    if self._stop.wait(self.interval):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone does not
        self._sock.close()
        for thread in self._threads:
            thread.join(5)


# ------------------------------------------------------------------------------------------------
# Cases


@dataclass(frozen=True)
class Case:
    """One row of the matrix.

    ``expect`` is ``"ok"`` (the invocation came through) or the name of the error class a user gets.
    ``requests`` is the exact number of GET requests the emulator must see (None: not checked).
    ``fault`` is called with the emulator before the run. ``creds`` picks the credentials:
    ``good``, ``wrong_secret``, ``unknown_key``, ``expired_sts``; ``endpoint``: ``emulator``,
    ``closed_port``, ``trickle`` or a key of ``HOSTILE`` (a raw-socket server misbehaving so).
    Mode ``list`` follows ``nextToken`` through a whole listing.
    """

    id: str
    mode: str  # "read" | "list" | "wait" | "datasource"
    title: str
    expect: str
    fault: Optional[Callable[[FcEmulator, str], Any]] = None
    requests: Optional[int] = None
    max_seconds: float = 3.0
    min_seconds: float = 0.0
    message_has: tuple[str, ...] = ()
    creds: str = "good"
    endpoint: str = "emulator"
    skew: float = 0.0
    payload: Optional[str] = None
    missing: bool = False
    task_seconds: float = TASK_SECONDS
    client: dict = field(default_factory=dict)  # overrides of CLIENT for this case
    bug: Optional[str] = None  # set while a known bug makes this case fail (see the report)

    @property
    def name(self) -> str:
        return f"{self.mode}:{self.id}"


def _fault(**kwargs: Any) -> Callable[[FcEmulator, str], Any]:
    def inject(fc: FcEmulator, invocation_id: str) -> Any:
        return fc.inject_fault(route="get", match=invocation_id, **kwargs)
    return inject


AUTH_CASES = [
    ("clock-skew", "request Date 1 h behind (RequestTimeTooSkewed)", dict(skew=-3600.0),
     ("RequestTimeTooSkewed", "too large")),
    ("wrong-secret", "wrong access key secret (SignatureNotMatch)", dict(creds="wrong_secret"),
     ("SignatureNotMatch",)),
    ("unknown-key", "unknown access key id (InvalidAccessKeyID)", dict(creds="unknown_key"),
     ("InvalidAccessKeyID", "LTAI****sKey")),
    ("expired-sts", "expired STS token (SecurityTokenExpired)", dict(creds="expired_sts"),
     ("SecurityTokenExpired",)),
]


_INVOCATION = json.dumps({"invocationId": "x", "status": "Succeeded"}).encode()


def _echo(seen: Any, conn: Any) -> bytes:
    text = seen.head.decode("latin-1")
    return http_response(400, json.dumps({"ErrorCode": "InvalidArgument", "ErrorMessage": text}).encode())


def _endless_pages(seen: Any, conn: Any) -> bytes:
    return http_response(200, b'{"invocations": [], "nextToken": "same"}')


def _cycling_pages(seen: Any, conn: Any) -> bytes:
    token = "B" if b"nextToken=A" in seen.head else "A"
    return http_response(200, json.dumps({"invocations": [], "nextToken": token}).encode())


_HANG = threading.Event()

# Raw-socket servers for what the emulator will not do: name -> answer(seen, conn).
HOSTILE: dict[str, Callable[[Any, Any], Optional[bytes]]] = {
    "redirect": lambda seen, conn: http_response(307, b"", {"Location": "http://other.example:8080/steal"}),
    "gzip-bomb": lambda seen, conn: http_response(200, _gzip_bomb(), {"Content-Encoding": "gzip"}),
    "deep-json": lambda seen, conn: http_response(400, b"[" * 100_000),
    "echo": _echo,
    "endless-pages": _endless_pages,
    "cycling-pages": _cycling_pages,
    "hang": lambda seen, conn: _HANG.wait(30) and None,
}


@functools.lru_cache(maxsize=1)
def _gzip_bomb() -> bytes:
    import gzip

    return gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)


def _hostile_cases() -> list[Case]:
    return [
        Case("redirect", "read", "307 redirect to another host", "RedirectError", endpoint="redirect",
             message_has=("HTTP 307", "other.example:8080", "not followed")),
        Case("gzip-bomb", "read", "200 whose gzip body (~64 KiB) decodes to 64 MiB", "ResponseTooLargeError",
             endpoint="gzip-bomb", message_has=("over 8 MiB once decoded",)),
        Case("deep-json", "read", "400 whose body is 100,000 nested '['", "BadRequestError", endpoint="deep-json",
             message_has=("HTTP 400",)),
        Case("echo", "read", "400 whose message echoes the request headers (STS token, key id)", "BadRequestError",
             endpoint="echo", message_has=("<redacted>", "STS.****ey02")),
        Case("endless-pages", "list", "empty pages that always give the same nextToken", "PaginationError",
             endpoint="endless-pages", message_has=("nextToken",)),
        Case("cycling-pages", "list", "empty pages whose nextToken cycles A, B, A", "PaginationError",
             endpoint="cycling-pages", message_has=("nextToken",)),
        Case("hang-budget", "read", "server that accepts and never answers, retry_budget=1", "RequestTimeoutError",
             endpoint="hang", client=dict(retry_budget=1.0), max_seconds=1.0 + 0.3 + 0.4,
             message_has=("no answer", "time budget")),
    ]


def _read_cases() -> list[Case]:
    n = ATTEMPTS
    cases = [
        Case("429-retry-after", "read", "429 with Retry-After: 1, once", "ok", _fault(status=429, retry_after=1),
             requests=2, min_seconds=0.95, max_seconds=3.0),
        Case("429", "read", "429 without Retry-After, twice", "ok", _fault(status=429, times=2), requests=3),
        Case("429-retry-after-beyond-budget", "read", "429 with Retry-After: 3600 (beyond the retry budget)",
             "ThrottledError", _fault(status=429, retry_after=3600, times=None), requests=1, max_seconds=1.0,
             message_has=("ResourceExhausted", "HTTP 429")),
        Case("retry-after-fractional", "read", "503 with Retry-After: 0.5, once", "ok",
             _fault(status=503, retry_after=0.5), requests=2, max_seconds=3.0,
             bug="B1: a Retry-After urllib3 cannot parse turns a retryable 503 into a TransportError"),
        Case("500", "read", "500, once", "ok", _fault(status=500), requests=2),
        Case("502", "read", "502 (FC error body), once", "ok", _fault(status=502), requests=2),
        Case("503-storm", "read", f"503 on every attempt (storm longer than {n} attempts)", "ThrottledError",
             _fault(status=503, times=None), requests=n, message_has=("ResourceThrottled", "HTTP 503")),
        Case("read-timeout", "read", "answer 1 s late (read timeout 0.3 s), once", "ok", _fault(latency=1.0),
             requests=2),
        Case("read-timeout-always", "read", "answer 1 s late on every attempt", "RequestTimeoutError",
             _fault(latency=1.0, times=None), requests=n, max_seconds=n * 0.3 + 1.5,
             message_has=("no answer from", "within (1.0, 0.3) s")),
        Case("reset", "read", "connection reset (RST), once", "ok", _fault(reset=True), requests=2),
        Case("reset-always", "read", "connection reset on every attempt", "TransportError",
             _fault(reset=True, times=None), requests=n, message_has=("cannot reach", "reset")),
        Case("closed-port", "read", "nothing listening on the port", "UnreachableError", endpoint="closed_port",
             message_has=("cannot reach", "refused")),
        Case("truncated", "read", "body cut off mid-way, once", "ok", _fault(truncate=True), requests=2),
        Case("truncated-always", "read", "body cut off on every attempt", "TransportError",
             _fault(truncate=True, times=None), requests=n, message_has=("cut off",)),
        Case("slow-body", "read", "200 whose body trickles in, 1 byte / 50 ms (each within the read timeout), "
             "retry_budget=1",
             "RequestTimeoutError", endpoint="trickle", client=dict(retry_budget=1.0), max_seconds=1.0 + 1.3 + 0.4,
             message_has=("no answer",),
             bug="B3: no deadline on a whole call: a body that trickles in holds a read for as long as it lasts"),
        Case("html-502", "read", "proxy's HTML 502 page on every attempt", "ServerError",
             _fault(status=502, body=HTML_PAGE, times=None), requests=n,
             message_has=("HTTP 502", "without an FC error body", "502 Bad Gateway")),
        Case("html-200", "read", "200 with an HTML page", "InvalidResponseError",
             _fault(status=200, body="<html><body>Service under maintenance</body></html>"), requests=1,
             message_has=("HTTP 200", "is not an invocation", "Service under maintenance")),
        Case("json-not-invocation", "read", "200 with JSON that is not an invocation", "InvalidResponseError",
             _fault(status=200, body='{"hello": "world", "invocationPayload": "user data"}',
                    content_type="application/json"), requests=1,
             message_has=("is not an invocation", "invocationId: Field required")),
        Case("huge-body", "read", "128 KiB non-ASCII payload (valid body)", "ok", requests=1, payload=huge_payload()),
        Case("fc-message", "read", "400 with a non-ASCII, multi-line FC message", "BadRequestError",
             _fault(status=400, code="InvalidArgument", message=FC_MESSAGE), requests=1,
             message_has=(FC_MESSAGE,)),
        Case("not-found", "read", "invocation does not exist (404)", "NotFoundError", requests=1, missing=True,
             message_has=("StatefulAsyncInvocationNotFound",)),
    ]
    for id_, title, kw, has in AUTH_CASES:
        cases.append(Case(id_, "read", title, "AuthenticationError", requests=1, message_has=has, **kw))
    return cases


def _wait_cases() -> list[Case]:
    n, k = ATTEMPTS, WAIT_POLICY["max_consecutive_errors"]
    cases = [
        Case("429-retry-after", "wait", "429 with Retry-After: 1, once", "ok", _fault(status=429, retry_after=1),
             min_seconds=0.95),
        Case("503-storm-outlasting-client", "wait",
             f"503 x{n * (k - 1)} (outlasts the client's {n} attempts, not the wait's {k} polls)", "ok",
             _fault(status=503, times=n * (k - 1))),
        Case("503-storm", "wait", "503 forever", "ThrottledError", _fault(status=503, times=None), requests=n * k,
             message_has=("ResourceThrottled",)),
        Case("read-timeout", "wait", f"answer 1 s late x{n} (one poll times out)", "ok",
             _fault(latency=1.0, times=n), max_seconds=n * 0.3 + 2.0),
        Case("reset-always", "wait", "connection reset forever", "TransportError", _fault(reset=True, times=None),
             requests=n * k, message_has=("cannot reach",)),
        # Before any answer a refused connection is a wrong endpoint: the wait ends on the first poll.
        Case("closed-port", "wait", "nothing listening on the port", "UnreachableError", endpoint="closed_port",
             message_has=("after 1 poll:", "cannot reach", "refused")),
        Case("truncated", "wait", "body cut off, once", "ok", _fault(truncate=True)),
        Case("html-502", "wait", f"proxy's HTML 502 page x{n}", "ok", _fault(status=502, body=HTML_PAGE, times=n)),
        Case("json-not-invocation", "wait", "200 with JSON that is not an invocation, once", "ok",
             _fault(status=200, body='{"hello": "world"}', content_type="application/json")),
        Case("huge-body", "wait", "128 KiB non-ASCII payload (valid body)", "ok", payload=huge_payload()),
        Case("not-found", "wait", "invocation does not exist (404)", "NotFoundError", requests=1, missing=True,
             message_has=("StatefulAsyncInvocationNotFound",)),
    ]
    for id_, title, kw, has in AUTH_CASES:
        cases.append(Case(id_, "wait", title, "AuthenticationError", requests=1, message_has=has, **kw))
    return cases


def _datasource_cases() -> list[Case]:
    return [
        Case("429-retry-after", "datasource", "gated data source: 429 with Retry-After: 1 during the wait", "ok",
             _fault(status=429, retry_after=1), min_seconds=0.95, max_seconds=15.0),
        Case("503-storm", "datasource",
             "gated data source: 503 storm outlasting the gate's error budget (10 polls)", "ProgramError",
             _fault(status=503, times=10 * ATTEMPTS), max_seconds=15.0, task_seconds=3600,
             message_has=("stopped waiting for invocation", "an API error ended the wait", "ResourceThrottled")),
        # Two reads without a wait: the program's (its verdict) and the engine's (the outputs).
        Case("html-200", "datasource", "data source read: 200 with an HTML page, to both reads", "ProgramError",
             _fault(status=200, body="<html>maintenance</html>", times=2), requests=2, max_seconds=15.0,
             message_has=("InvalidResponseError", "is not an invocation", "maintenance")),
        Case("huge-body", "datasource", "data source read: 128 KiB non-ASCII payload", "ok", requests=2,
             max_seconds=15.0, payload=huge_payload()),
        # The wait's first read is refused: the gate fails there, the engine's read never happens.
        Case("expired-sts", "datasource", "gated data source with an expired STS token", "ProgramError",
             creds="expired_sts", requests=1, max_seconds=15.0,
             # one line: it expired, FC's code, the key the program set, the fix
             message_has=("the STS token has expired", "SecurityTokenExpired", "`alicloud:securityToken`",
                          "set a fresh token")),
    ]


CASES: list[Case] = _read_cases() + _hostile_cases() + _wait_cases() + _datasource_cases()


# ------------------------------------------------------------------------------------------------
# Running


@dataclass
class Observation:
    outcome: str  # "ok" or the error class name ("UNCLASSIFIED <type>" for anything else)
    message: str
    seconds: float
    requests: Optional[int]
    attempts_note: str = ""
    virtual_seconds: Optional[float] = None
    payload_intact: Optional[bool] = None
    error: Optional[BaseException] = None
    texts: list = field(default_factory=list)  # everything a user could read (secret-hygiene checks)

    def matches(self, case: Case) -> list[str]:
        """Every way this observation misses the case's expectations (empty: it passed)."""
        problems = []
        if self.outcome != case.expect:
            problems.append(f"outcome {self.outcome!r}, expected {case.expect!r}: {self.message}")
        if case.requests is not None and self.requests != case.requests:
            problems.append(f"{self.requests} requests, expected {case.requests}")
        if self.seconds > case.max_seconds:
            problems.append(f"took {self.seconds:.2f} s, bound {case.max_seconds:.2f} s")
        if self.seconds < case.min_seconds:
            problems.append(f"took {self.seconds:.2f} s, at least {case.min_seconds:.2f} s expected")
        for fragment in case.message_has:
            if fragment not in self.message:
                problems.append(f"message lacks {fragment!r}: {self.message!r}")
        if case.payload is not None and not self.payload_intact:
            problems.append("payload not intact byte for byte")
        blob = "\n".join([self.message] + [str(t) for t in self.texts])
        for secret in SECRETS:
            if secret in blob:
                problems.append("a secret appears in what the user reads")
        return problems


class _SkewedTime:
    """The ``time`` module as a client whose clock is ``skew`` seconds off sees it."""

    def __init__(self, skew: float) -> None:
        self._skew = skew

    def time(self) -> float:
        return time.time() + self._skew

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@contextlib.contextmanager
def skewed_client_clock(seconds: float) -> Iterator[None]:
    """Make the client sign with a Date ``seconds`` off (its clock is wrong, the server's is right).

    Works whether the client formats its ``Date`` with ``formatdate()`` or from ``time.time()``.
    """
    import pulumi_fc_invocation.fc2 as client_module

    if not seconds:
        yield
        return
    saved = {name: getattr(client_module, name) for name in ("formatdate", "time", "_date_cache")
             if hasattr(client_module, name)}

    def skewed_formatdate(timeval: Optional[float] = None, localtime: bool = False, usegmt: bool = False) -> str:
        return formatdate(time.time() + seconds if timeval is None else timeval, localtime, usegmt)

    client_module.formatdate = skewed_formatdate
    client_module.time = _SkewedTime(seconds)
    if "_date_cache" in saved:
        client_module._date_cache = (-1, "")
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(client_module, name, value)
        if "_date_cache" in saved:
            client_module._date_cache = (-1, "")


class Matrix:
    """The emulator and helpers shared by every case of a run. Use as a context manager."""

    def __init__(self) -> None:
        self.fc = FcEmulator(clock="virtual", access_key_id=KEY_ID, access_key_secret=SECRET)
        self._hosts: dict[str, Any] = {}
        self._seq = 0
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> "Matrix":
        self._stack.enter_context(self.fc)
        self.fc.add_credentials(STS_KEY_ID, STS_SECRET, STS_TOKEN)
        self.fc.add_credentials(EXPIRED_KEY_ID, EXPIRED_SECRET, EXPIRED_TOKEN, expired=True)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stack.close()

    def credentials(self, kind: str) -> Credentials:
        return {
            "good": Credentials(STS_KEY_ID, STS_SECRET, STS_TOKEN),
            "wrong_secret": Credentials(STS_KEY_ID, "not-the-secret-at-all", STS_TOKEN),
            "unknown_key": Credentials("LTAInobodyKnowsThisKey", SECRET),
            "expired_sts": Credentials(EXPIRED_KEY_ID, EXPIRED_SECRET, EXPIRED_TOKEN),
        }[kind]

    def _seed(self, case: Case) -> str:
        self._seq += 1
        invocation_id = f"{case.mode}-{re.sub(r'[^A-Za-z0-9_-]', '-', case.id)}-{self._seq}"
        if case.missing:
            self.fc.add_function("rel", "job")
            return invocation_id
        waits = case.mode == "wait" or (case.mode == "datasource" and case.id not in DATASOURCE_READS_ONLY)
        timeline = [("Running", 0), ("Succeeded", case.task_seconds)] if waits else [("Succeeded", 0)]
        self.fc.add_invocation("rel", "job", invocation_id, payload=case.payload or '{"small": true}',
                               timeline=timeline)
        return invocation_id

    def run(self, case: Case) -> Observation:
        fc = self.fc
        fc.clear_faults()
        invocation_id = self._seed(case)
        ref = f"rel/job/{invocation_id}"
        fc.reset_requests()
        if case.fault is not None:
            case.fault(fc, invocation_id)
        try:
            if case.mode == "datasource":
                obs = self._run_datasource(case, invocation_id)
            else:
                with contextlib.ExitStack() as stack:
                    endpoint = fc.endpoint
                    if case.endpoint == "closed_port":
                        endpoint = f"http://127.0.0.1:{closed_port()}"
                    elif case.endpoint == "trickle":
                        body = json.dumps({"invocationId": invocation_id, "status": "Succeeded"}).encode()
                        endpoint = stack.enter_context(TrickleServer(body, interval=0.05)).endpoint
                    elif case.endpoint in HOSTILE:
                        _HANG.clear()
                        _gzip_bomb()  # built before the clock starts, not while the client waits
                        endpoint = stack.enter_context(HostileServer(HOSTILE[case.endpoint])).endpoint
                        stack.callback(_HANG.set)  # runs before the server's exit: its threads end
                    client = stack.enter_context(FcClient(endpoint=endpoint, account_id=fc.account_id,
                                                          credentials=self.credentials(case.creds),
                                                          **{**CLIENT, **case.client}))
                    stack.enter_context(skewed_client_clock(case.skew))
                    obs = self._run_client(case, client, ref)
        finally:
            fc.clear_faults()
        if case.endpoint == "emulator":
            obs.requests = fc.request_count("get")
        if obs.requests is not None and obs.outcome == "ok":
            if case.mode == "read":
                obs.attempts_note = "first attempt" if obs.requests == 1 else f"retried: {obs.requests} requests"
            else:
                obs.attempts_note = f"{obs.requests} request{'s' if obs.requests != 1 else ''}"
        return obs

    def _run_client(self, case: Case, client: FcClient, ref: str) -> Observation:
        started = time.monotonic()
        if case.mode == "list":
            try:
                items = list(client.list_stateful_async_invocations("rel", "job"))
            except FcInvocationError as exc:
                return Observation(type(exc).__name__, str(exc), time.monotonic() - started, None, error=exc,
                                   texts=[repr(exc)])
            return Observation("ok", f"{len(items)} invocations", time.monotonic() - started, None)
        if case.mode == "read":
            try:
                result = client.get(ref)
            except FcInvocationError as exc:
                return Observation(type(exc).__name__, str(exc), time.monotonic() - started, None, error=exc,
                                   texts=[repr(exc)])
            except Exception as exc:  # noqa: BLE001 - reported as unclassified
                return Observation(f"UNCLASSIFIED {type(exc).__name__}", str(exc), time.monotonic() - started,
                                   None, error=exc)
            seconds = time.monotonic() - started
            intact = None if case.payload is None else result.invocation_payload == case.payload
            return Observation("ok", f"{result.status.value}", seconds, None, payload_intact=intact,
                               texts=[repr(result)])
        clock = AutoAdvanceClock(self.fc.clock)
        virtual_start = clock.now()
        try:
            outcome = wait_for_invocation(client, ref, policy=WaitPolicy(**WAIT_POLICY), clock=clock)
        except Exception as exc:  # noqa: BLE001 - a wait must end with an outcome, not raise
            return Observation(f"UNCLASSIFIED {type(exc).__name__}", str(exc), time.monotonic() - started, None,
                               error=exc)
        seconds = time.monotonic() - started
        virtual = clock.now() - virtual_start
        if outcome.error is not None:
            exc = outcome.error
            name = type(exc).__name__ if isinstance(exc, FcInvocationError) else f"UNCLASSIFIED {type(exc).__name__}"
            return Observation(name, f"after {outcome.calls} poll{'s' if outcome.calls != 1 else ''}: {exc}", seconds, None, virtual_seconds=virtual,
                               error=exc, texts=[repr(exc)])
        if outcome.timed_out:
            return Observation("timed out", f"after {outcome.calls} polls", seconds, None, virtual_seconds=virtual)
        result = outcome.result
        assert result is not None
        intact = None if case.payload is None else result.invocation_payload == case.payload
        outcome_name = "ok" if result.succeeded else f"ended {result.status.value}"
        return Observation(outcome_name, f"{result.status.value} after {outcome.calls} polls", seconds, None,
                           virtual_seconds=virtual, payload_intact=intact, texts=[repr(result)])

    # --- the data source, through the harness -------------------------------------------------

    def config(self, kind: str) -> dict[str, str]:
        creds = self.credentials(kind)
        config = {"alicloud:accessKey": creds.access_key_id, "alicloud:secretKey": creds.access_key_secret,
                  "alicloud:accountId": self.fc.account_id, "fc-invocation:endpoint": self.fc.endpoint}
        if creds.security_token:
            config["alicloud:securityToken"] = creds.security_token
        return config

    def host(self, kind: str) -> Any:
        from pulumi_fc_invocation.testing.harness import ProviderHost

        if kind not in self._hosts:
            env = {name: "" for name in (
                "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALICLOUD_ACCESS_KEY",
                "ALICLOUD_SECRET_KEY", "FC_INVOCATION_ENDPOINT", "ALIBABA_CLOUD_SECURITY_TOKEN",
                "ALICLOUD_SECURITY_TOKEN")}
            host = self._stack.enter_context(ProviderHost(env=env))
            host.configure(self.config(kind), secret_keys=SECRET_CONFIG_KEYS)
            self._hosts[kind] = host
        return self._hosts[kind]

    def run_program(self, program: Callable[[], Any], kind: str = "good", preview: bool = False) -> Any:
        """Run a Pulumi program against the emulator, waits on virtual time, with the given credentials.

        The program's own client (the one that polls during a gated wait) gets the matrix's small
        retry budgets; the provider host's client (the final read) keeps the package defaults.
        """
        from pulumi_fc_invocation.gate import clients as provider
        from pulumi_fc_invocation.testing.harness import run_program
        from pulumi_fc_invocation.waiter import use_clock

        original = provider.FcClient
        provider.FcClient = functools.partial(FcClient, **CLIENT)  # type: ignore[misc]
        saved = dict(provider._clients)
        provider._clients.clear()
        try:
            with use_clock(AutoAdvanceClock(self.fc.clock)):
                return run_program(program, config=self.config(kind), secret_keys=SECRET_CONFIG_KEYS,
                                   preview=preview, host=self.host(kind))
        finally:
            provider.FcClient = original  # type: ignore[misc]
            for client in provider._clients.values():
                client.close()
            provider._clients.clear()
            provider._clients.update(saved)

    def _run_datasource(self, case: Case, invocation_id: str) -> Observation:
        import pulumi

        from pulumi_fc_invocation import StatefulAsyncInvocation
        from pulumi_fc_invocation.testing.harness import ProgramError

        wait = case.id not in DATASOURCE_READS_ONLY

        def program() -> None:
            inv = StatefulAsyncInvocation("inv", service_name="rel", function_name="job",
                                          invocation_id=invocation_id, wait_for_completion=wait,
                                          timeout_seconds=600)
            pulumi.export("status", inv.status)

        self.host(case.creds)  # start (and configure) outside the timed part
        virtual_start = self.fc.clock.now()
        started = time.monotonic()
        try:
            result = self.run_program(program, case.creds)
        except ProgramError as exc:
            texts = [exc.message] + [log.message for log in (exc.result.logs if exc.result else [])]
            return Observation("ProgramError", _first_line_with_error(exc.message), time.monotonic() - started,
                               None, virtual_seconds=self.fc.clock.now() - virtual_start, error=exc, texts=texts)
        seconds = time.monotonic() - started
        rec = result.resource("inv")
        intact = None if case.payload is None else rec.outputs.get("invocation_payload") == case.payload
        texts = [repr(result.outputs), repr(rec.outputs)] + [log.message for log in result.logs]
        status = result.outputs.get("status")
        return Observation("ok" if status == "Succeeded" else f"status {status}", f"status {status}", seconds, None,
                           virtual_seconds=self.fc.clock.now() - virtual_start, payload_intact=intact, texts=texts)


SECRET_CONFIG_KEYS = ("alicloud:secretKey", "alicloud:securityToken")
DATASOURCE_READS_ONLY = ("huge-body", "html-200")  # data-source cases without wait_for_completion


def _first_line_with_error(message: str) -> str:
    """The line of a provider error the user looks at (the host prefixes a traceback)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error" in line.split(":", 1)[0] or "waiting for invocation" in line:
            return line
    return lines[-1] if lines else message


# ------------------------------------------------------------------------------------------------
# The table


def _clean(text: str, limit: int = 170) -> str:
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>", text)
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", text)
    text = re.sub(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT", "<date>", text)
    text = re.sub(r"(rel/job/|rel', function 'job', invocation id ')[\w-]+", r"\1<inv>", text)
    text = re.sub(r"'(read|wait|datasource)-[\w-]+-\d+'", "'<inv>'", text)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("|", "\\|")


def describe_expected(case: Case) -> str:
    what = "invocation returned" if case.expect == "ok" else f"`{case.expect}`"
    if case.expect == "ok" and case.payload is not None:
        what += ", payload byte for byte"
    if case.requests is not None and case.mode != "datasource":
        what += f", {case.requests} request{'s' if case.requests != 1 else ''}"
    return what + f", ≤ {case.max_seconds:g} s"


def describe_observed(case: Case, obs: Observation) -> str:
    if obs.outcome == "ok":
        text = "invocation returned"
        if obs.attempts_note:
            text += f" ({obs.attempts_note})"
        if obs.payload_intact is not None:
            text += ", payload intact" if obs.payload_intact else ", **payload altered**"
    else:
        text = f"`{obs.outcome}`"
        if obs.requests is not None and case.mode != "datasource":
            text += f" after {obs.requests} request{'s' if obs.requests != 1 else ''}"
    return text


def run_matrix(cases: Optional[list[Case]] = None, progress: Optional[Callable[[str], None]] = None
               ) -> list[tuple[Case, Observation, list[str]]]:
    rows = []
    with Matrix() as matrix:
        for case in cases or CASES:
            obs = matrix.run(case)
            problems = obs.matches(case)
            rows.append((case, obs, problems))
            if progress:
                progress(f"{case.name}: {'PASS' if not problems else 'FAIL ' + '; '.join(problems)}")
    return rows


def render_soak(figures: dict, command: str) -> list[str]:
    w, e, a, b = figures["warm"], figures["end"], figures["after_close"], figures["before"]
    return [
        "", "## Soak", "",
        f"`{command}`: {figures['reads']:,} reads and {figures['waits']:,} gated waits "
        f"({figures['wait_polls']:,} polls, virtual clock) through one client against the emulator, in one "
        "process. Measured after a warm-up and at the end (the emulator runs in the same process).", "",
        "| measure | after warm-up | at the end | after `close()` | before start |",
        "|---|---|---|---|---|",
        f"| RSS | {w['rss_kib'] / 1024:.1f} MiB | {e['rss_kib'] / 1024:.1f} MiB "
        f"({figures['rss_growth_kib']:+,} KiB) | {a['rss_kib'] / 1024:.1f} MiB | {b['rss_kib'] / 1024:.1f} MiB |",
        f"| open file descriptors | {w['fds']} | {e['fds']} | {a['fds']} | {b['fds']} |",
        f"| of which sockets | {w['sockets']} | {e['sockets']} | {a['sockets']} | {b['sockets']} |",
        f"| threads | {w['threads']} | {e['threads']} | {a['threads']} | {b['threads']} |",
        "",
        f"Reads: {figures['read_seconds']} s ({figures['reads_per_second']:,}/s); waits: {figures['wait_seconds']} s. "
        f"New TCP connections during the soak: {figures['new_connections']} (one keep-alive connection carried "
        f"everything); open at the end: {figures['open_connections_at_end']}, after `close()`: "
        f"{figures['open_connections_after_close']}.",
    ]


def render(rows: list[tuple[Case, Observation, list[str]]], command: str, soak: Optional[dict] = None,
           soak_command: str = "") -> str:
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.system()} {platform.release()} {platform.machine()}, {os.cpu_count()} CPUs, " \
              f"Python {platform.python_version()}"
    failed = [(c, o, p) for c, o, p in rows if p]
    out = [
        "# Reliability: the fault matrix",
        "",
        "Every row below is the output of a run, not a claim: regenerate with",
        "",
        "```bash",
        command,
        "```",
        "",
        f"Generated {now} on {machine}. {len(rows)} cases, {len(rows) - len(failed)} as expected, "
        f"{len(failed)} not.",
        "",
        "How the cases run: the bundled FC emulator over real HTTP on loopback, faults injected with "
        "`fc.inject_fault(...)` (a closed port and a trickling body come from raw sockets). Reads use "
        f"`FcClient(timeout={CLIENT['timeout']}, max_retries={CLIENT['max_retries']}, "
        f"retry_budget={CLIENT['retry_budget']:g}, backoff_factor={CLIENT['backoff_factor']:g})` so every case "
        "is fast; the behaviour is that of the defaults, scaled down. Waits use `wait_for_invocation` on a "
        f"virtual clock (the task runs {TASK_SECONDS:g} virtual seconds; "
        f"`WaitPolicy(max_consecutive_errors={WAIT_POLICY['max_consecutive_errors']})`); *time* is real "
        "seconds. Data-source rows run a Pulumi program through the harness (program in-process, provider in "
        "a real `pulumi.dynamic` host process, waits on virtual time); their time includes the run's overhead. "
        "\"Requests\" counts the GET requests the emulator saw: a non-retryable error must fail on the first one.",
        "",
        "`tests/test_reliability_faults.py` runs the same cases and fails on any row that is not as expected.",
        "",
        "| case | expected | observed | message the user reads | time |",
        "|---|---|---|---|---|",
    ]
    for case, obs, problems in rows:
        observed = describe_observed(case, obs)
        if problems:
            observed = "**NOT AS EXPECTED**: " + observed + (f" (known bug {case.bug.split(':')[0]})" if case.bug else "")
        timing = f"{obs.seconds:.2f} s"
        if obs.virtual_seconds is not None:
            timing += f" ({obs.virtual_seconds:.0f} s virtual)"
        out.append(f"| {case.mode}: {_clean(case.title, 100)} | {describe_expected(case)} | {observed} | "
                   f"{_clean(obs.message)} | {timing} |")
    if failed:
        out += ["", "## Not as expected", ""]
        for case, obs, problems in failed:
            out.append(f"- **{case.name}**: " + "; ".join(_clean(p, 300) for p in problems)
                       + (f" — {case.bug}" if case.bug else ""))
    if soak is not None:
        out += render_soak(soak, soak_command)
    out.append("")
    return "\n".join(out)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Run the fault matrix and print docs/reliability.md")
    parser.add_argument("--output", help="write the Markdown here instead of stdout")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument("--soak", choices=("none", "short", "full"), default="full",
                        help="also run the soak (tests/test_soak.py) and add its figures [default: full, ~1 min]")
    args = parser.parse_args(argv)
    command = ".venv/bin/python tools/reliability_matrix.py --output docs/reliability.md" + \
        (f" --soak {args.soak}" if args.soak != "full" else "")
    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr))
    rows = run_matrix(progress=progress)
    figures = None
    if args.soak != "none":
        from test_soak import soak

        figures = soak(20000, 500, progress=progress) if args.soak == "full" else soak(2000, 50, progress=progress)
    text = render(rows, command, figures, "python tests/test_soak.py" + (" --full" if args.soak == "full" else ""))
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
