"""Hostile servers and inputs against FcClient (issues 17 and 18): redirects, endless pages, response
bombs, budgets, deep JSON, echoed secrets, exception chains, account/region/endpoint checks. Every
server is an in-process raw socket on loopback (tests/_hostile.py); every loop is bounded."""

from __future__ import annotations

import gzip
import json
import logging
import threading
import time
import traceback
import tracemalloc

import pytest

from pulumi_fc_invocation import Credentials, FcApiError, FcClient, FcInvocationError, ThrottledError
from pulumi_fc_invocation.errors import (
    BadRequestError,
    ConfigurationError,
    InvalidArgumentError,
    InvalidResponseError,
    TransportError,
)

from _hostile import HostileServer, byte_before_timeout, http_response

KEY_ID = "LTAIhostileKey000001"
SECRET = "Hostile-Secret-Material-5e1d"
TOKEN = "CAIS-Hostile-Token-Material-77aa"
PAYLOAD = "PAYLOAD-marker-c0ffee"
INVOCATION = json.dumps({"invocationId": "job-1", "status": "Succeeded"}).encode()


def client_for(endpoint: str, **kw) -> FcClient:
    kw.setdefault("credentials", Credentials(KEY_ID, SECRET, TOKEN))
    kw.setdefault("backoff_factor", 0.01)
    kw.setdefault("timeout", (1.0, 1.0))
    kw.setdefault("retry_budget", 3.0)
    return FcClient(endpoint=endpoint, account_id="1234567890123456", **kw)


def chain(exc: BaseException) -> list[BaseException]:
    out, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        out.append(exc)
        exc = exc.__cause__ or exc.__context__
    return out


# --- 17.1 / 18.8: redirects ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("call", ["get", "invoke"])
def test_a_redirect_is_refused_and_nothing_reaches_the_other_host(status, call):
    with HostileServer(lambda s, c: http_response(200, INVOCATION)) as other:
        location = f"http://localhost:{other.port}/steal?x=1"
        with HostileServer(lambda s, c: http_response(status, b"", {"Location": location})) as server:
            client = client_for(server.endpoint)
            with pytest.raises(FcApiError) as info:
                if call == "get":
                    client.get("svc/fn/job-1")
                else:
                    client.invoke_async("svc", "fn", PAYLOAD)
            client.close()
    err = info.value
    assert type(err).__name__ == "RedirectError" and err.http_status == status
    assert str(status) in str(err) and f"localhost:{other.port}" in str(err) and "steal" not in str(err)
    assert other.seen == [] and len(server.seen) == 1


def test_a_redirect_is_refused_before_its_body_is_read():
    """requests reads a redirect's body whole (without our cap) even when it does not follow it: the
    transport refuses the redirect first, so a body that never ends costs nothing and no timeout (reading it
    would cost the 3 s read timeout)."""
    def endless_redirect(seen, conn):
        conn.sendall(http_response(302, b"x" * 1000, {"Location": "http://localhost:1/steal",
                                                      "Content-Length": str(10**9)}))
        server_stop.wait(5)

    with HostileServer(endless_redirect) as server:
        client = client_for(server.endpoint, timeout=(1.0, 3.0))
        started = time.monotonic()
        with pytest.raises(FcApiError) as info:
            client.get("svc/fn/job-1")
        elapsed = time.monotonic() - started
        server_stop.set()
        client.close()
    server_stop.clear()
    assert type(info.value).__name__ == "RedirectError" and info.value.http_status == 302
    assert elapsed < 2.0 and len(server.seen) == 1, elapsed  # below the 3 s read timeout


# --- 17.3: paging -------------------------------------------------------------------------------


def _pages(tokens):
    """Answers list calls with empty pages whose nextToken follows ``tokens(n)``."""
    def answer(seen, conn):
        n = len(server.seen)
        return http_response(200, json.dumps({"invocations": [], "nextToken": tokens(n)}).encode())
    server = HostileServer(answer)
    return server


@pytest.mark.parametrize("name, tokens", [
    ("repeated", lambda n: "same"),
    ("cycling", lambda n: "ABC"[n % 3]),
])
def test_paging_stops_on_a_repeated_or_cycling_token(name, tokens):
    with _pages(tokens) as server:
        client = client_for(server.endpoint)
        started = time.monotonic()
        with pytest.raises(InvalidResponseError) as info:
            for _ in zip(range(10_000), client.list_stateful_async_invocations("svc", "fn")):
                pass
        client.close()
    assert type(info.value).__name__ == "PaginationError"
    assert "nextToken" in str(info.value) and len(server.seen) <= 4 and time.monotonic() - started < 3


def test_a_single_page_call_refuses_the_token_it_was_given_back():
    with _pages(lambda n: "same") as server:
        client = client_for(server.endpoint)
        with pytest.raises(InvalidResponseError) as info:
            client.list_stateful_async_invocations_page("svc", "fn", next_token="same")
        client.close()
    assert type(info.value).__name__ == "PaginationError" and len(server.seen) == 1


def test_paging_stops_at_the_page_cap():
    from pulumi_fc_invocation.client import MAX_PAGES

    assert MAX_PAGES == 10_000  # the default: far above any real listing (a million invocations)
    with _pages(lambda n: f"t{n}") as server:
        client = client_for(server.endpoint)
        with pytest.raises(InvalidResponseError, match="after 50 pages"):
            for _ in zip(range(100_000), client.list_stateful_async_invocations("svc", "fn", max_pages=50)):
                pass
        client.close()
    assert len(server.seen) == 50


def test_a_bounded_client_ends_a_listing_at_its_deadline():
    def slow_pages(seen, conn):
        time.sleep(0.2)  # the server is slow: each page takes 0.2 s
        return http_response(200, json.dumps({"invocations": [], "nextToken": f"t{len(server.seen)}"}).encode())

    with HostileServer(slow_pages) as server:
        client = client_for(server.endpoint)
        started = time.monotonic()
        with pytest.raises(TransportError, match="time budget"):
            for _ in zip(range(1000), client.bounded(1.0).list_stateful_async_invocations("svc", "fn")):
                pass
        elapsed = time.monotonic() - started
        client.close()
    assert elapsed < 1.5 and len(server.seen) <= 6


# --- 17.4: response size ------------------------------------------------------------------------


def test_a_gzip_bomb_is_refused_without_decoding_it():
    bomb = gzip.compress(b"\0" * (256 * 1024 * 1024), compresslevel=9)  # ~250 KiB -> 256 MiB
    assert len(bomb) < 1024 * 1024
    with HostileServer(lambda s, c: http_response(200, bomb, {"Content-Encoding": "gzip"})) as server:
        client = client_for(server.endpoint)
        tracemalloc.start()
        try:
            with pytest.raises(InvalidResponseError, match="MiB") as info:
                client.get("svc/fn/job-1")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        client.close()
    assert type(info.value).__name__ == "ResponseTooLargeError"
    assert peak < 40 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB"


def test_an_endless_plain_body_is_cut_at_the_cap():
    def endless(seen, conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
        block = b" " * 65536
        for _ in range(2000):  # 125 MiB at most
            conn.sendall(block)

    with HostileServer(endless) as server:
        client = client_for(server.endpoint)
        with pytest.raises(InvalidResponseError, match="MiB"):
            client.get("svc/fn/job-1")
        client.close()


def test_a_gzip_answer_within_the_cap_is_decoded():
    with HostileServer(lambda s, c: http_response(200, gzip.compress(INVOCATION), {"Content-Encoding": "gzip"})) as server:
        client = client_for(server.endpoint)
        assert client.get("svc/fn/job-1").invocation_id == "job-1"
        client.close()


# --- 18.5: one deadline per call ----------------------------------------------------------------


server_stop = threading.Event()


def _hang(seen, conn):
    server_stop.wait(30)


def failing_get(answer, bounded=None, **kw):
    """(seconds the failing get took, requests the server saw, the error)."""
    with HostileServer(answer) as server:
        client = client_for(server.endpoint, **kw)
        started = time.monotonic()
        with pytest.raises(TransportError) as info:
            (client.bounded(bounded) if bounded else client).get("svc/fn/job-1")
        elapsed = time.monotonic() - started
        server_stop.set()
        client.close()
    server_stop.clear()
    return elapsed, len(server.seen), info.value


def test_a_call_ends_within_its_budget_when_every_attempt_hangs():
    """Budget 1 s, read timeout 1 s: before, the first attempt was free and a second one hung too."""
    elapsed, requests, _ = failing_get(_hang, timeout=(1.0, 1.0), retry_budget=1.0)
    assert elapsed < 1.6 and requests == 1


def test_cut_off_bodies_then_hangs_stay_within_one_deadline():
    """503 (Retry-After 0.9), cut-off body, hang, 503, hang: each body-level retry used to start a
    fresh urllib3 budget, so the call ran past retry_budget plus one attempt's timeouts (2.7 s here)."""
    calls = []

    def answer(seen, conn):
        calls.append(1)
        if len(calls) in (1, 4):
            return http_response(503, b'{"ErrorCode":"ResourceThrottled"}', {"Retry-After": "0.9"})
        if len(calls) == 2:
            return http_response(200, INVOCATION[:10], {"Content-Length": str(len(INVOCATION))})
        return _hang(seen, conn)

    elapsed, _, _ = failing_get(answer, timeout=(1.0, 0.7), retry_budget=1.0, max_retries=6)
    assert elapsed < 1.0 + 1.0 + 0.7, elapsed


def test_a_bounded_view_clips_each_attempt_to_the_deadline():
    elapsed, _, err = failing_get(_hang, bounded=0.8, timeout=(5.0, 15.0), retry_budget=30.0)
    assert 0.7 < elapsed < 1.8 and "time budget" in str(err), elapsed  # unclipped: a 15 s read timeout


@pytest.mark.parametrize("outer, inner", [(60, 0.8), (0.8, 60)])
def test_a_view_of_a_view_keeps_to_both_deadlines(outer, inner):
    with HostileServer(_hang) as server:
        client = client_for(server.endpoint, timeout=(5.0, 15.0), retry_budget=30.0)
        started = time.monotonic()
        with pytest.raises(TransportError, match="time budget"):
            client.bounded(outer).bounded(inner).get("svc/fn/job-1")
        elapsed = time.monotonic() - started
        server_stop.set()
        client.close()
    server_stop.clear()
    assert 0.7 < elapsed < 1.8, elapsed  # the 60 s view would hang to the 15 s read timeout


def test_a_read_timeout_in_the_middle_of_a_body_is_retried_for_get():
    def answer(seen, conn):
        if len(server.seen) == 1:
            conn.sendall(http_response(200, INVOCATION, {})[:-5])  # all but the last bytes, then silence
            server_stop.wait(5)
            return None
        return http_response(200, INVOCATION)

    with HostileServer(answer) as server:
        client = client_for(server.endpoint, timeout=(1.0, 0.3), retry_budget=3.0)
        assert client.get("svc/fn/job-1").invocation_id == "job-1"
        server_stop.set()
        client.close()
    server_stop.clear()
    assert len(server.seen) == 2


def test_retry_after_longer_than_the_budget_fails_now_not_after_a_capped_wait():
    """Retry-After 25 s, 22 s left: the old 20 s cap retried too soon (after 20 s); now it fails at once."""
    with HostileServer(lambda s, c: http_response(429, b'{"ErrorCode":"ResourceExhausted","ErrorMessage":"slow"}',
                                                  {"Retry-After": "25"})) as server:
        client = client_for(server.endpoint, retry_budget=22.0)
        started = time.monotonic()
        with pytest.raises(ThrottledError, match="Retry-After 25") as info:
            client.get("svc/fn/job-1")
        client.close()
    assert time.monotonic() - started < 2 and len(server.seen) == 1
    assert info.value.retry_after == 25


def test_a_post_transport_error_does_not_claim_retries():
    def reset(seen, conn):
        import socket
        import struct
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    with HostileServer(reset) as server:
        client = client_for(server.endpoint)
        with pytest.raises(TransportError) as info:
            client.invoke_async("svc", "fn", PAYLOAD)
        client.close()
    assert "retries" not in str(info.value) and "not retried" in str(info.value)
    assert len(server.seen) == 1


def test_a_start_that_never_left_says_it_was_retried():
    """Connection refused: the start never left, so it is tried again like any call, and the error says
    so (not "not retried: a second start could run the task twice")."""
    import socket

    with socket.socket() as probe:  # bound, never listening: connections are refused, and no one else
        probe.bind(("127.0.0.1", 0))  # (another xdist worker) can take the port meanwhile
        port = probe.getsockname()[1]
        client = client_for(f"http://127.0.0.1:{port}", max_retries=2)
        with pytest.raises(TransportError) as info:
            client.invoke_async("svc", "fn", PAYLOAD)
        client.close()
    assert "after up to 2 retries (it never left)" in str(info.value), str(info.value)
    assert "not retried" not in str(info.value)


# --- 17.8: deep JSON ----------------------------------------------------------------------------


@pytest.mark.parametrize("status, cls", [(400, BadRequestError), (200, InvalidResponseError)])
def test_deeply_nested_json_is_classified(status, cls):
    deep = b"[" * 100_000
    with HostileServer(lambda s, c: http_response(status, deep)) as server:
        client = client_for(server.endpoint)
        with pytest.raises(cls):
            client.get("svc/fn/job-1")
        client.close()


# --- 17.9: secrets in error text, exception chains and tracebacks --------------------------------


def test_an_echoing_server_never_gets_our_secrets_into_the_error():
    def echo(seen, conn):
        text = seen.head.decode("latin-1") + f" secret={SECRET}"
        return http_response(400, json.dumps({"ErrorCode": "InvalidArgument", "ErrorMessage": text}).encode())

    with HostileServer(echo) as server:
        client = client_for(server.endpoint)
        with pytest.raises(BadRequestError) as info:
            client.get("svc/fn/job-1")
        client.close()
    err = info.value
    shown = " ".join([str(err), repr(err), err.message, err.body_excerpt or ""])
    assert TOKEN not in shown and SECRET not in shown and KEY_ID not in shown
    assert "InvalidArgument" in shown and "<redacted>" in shown


@pytest.mark.parametrize("kind", ["reset", "status"])
def test_no_exception_in_the_chain_or_its_locals_holds_the_token_or_payload(kind):
    def answer(seen, conn):
        if kind == "reset":
            import socket
            import struct
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return None
        return http_response(400, b'{"ErrorCode":"InvalidArgument","ErrorMessage":"no"}')

    with HostileServer(answer) as server:
        client = client_for(server.endpoint)
        with pytest.raises(FcInvocationError) as info:
            client.invoke_async("svc", "fn", PAYLOAD)
        client.close()
    for exc in chain(info.value):
        text = "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
        text += repr(vars(exc))
        for secret in (TOKEN, PAYLOAD, SECRET):
            assert secret not in text, f"{secret} in {type(exc).__name__}"
    assert info.value.__context__ is None and info.value.__cause__ is None


# --- 17.7: account id, region, endpoint ----------------------------------------------------------


@pytest.mark.parametrize("kw, argument", [
    (dict(account_id="127.0.0.1:18443/#", region="cn-hangzhou"), "account_id"),
    (dict(account_id="1234567890123456", region="x.attacker.example/"), "region"),
    (dict(account_id="1234567890123456", region="cn-hangzhou.evil"), "region"),
    (dict(account_id="12 34", region="cn-hangzhou"), "account_id"),
])
def test_account_id_and_region_are_checked_before_a_host_is_built(kw, argument):
    with pytest.raises(InvalidArgumentError) as info:
        FcClient(credentials=Credentials(KEY_ID, SECRET), environ={}, home="/nonexistent", **kw)
    assert info.value.argument == argument


def test_real_region_names_are_accepted():
    for region in ("cn-hangzhou", "ap-southeast-1", "cn-shanghai-finance-1", "us-west-1", "eu-central-1"):
        client = FcClient(credentials=Credentials(KEY_ID, SECRET), account_id="1234567890123456", region=region,
                          environ={}, home="/nonexistent")
        assert client.endpoint == f"https://1234567890123456.{region}.fc.aliyuncs.com"
        client.close()


def test_an_endpoint_with_userinfo_is_refused_without_showing_it():
    with pytest.raises(ConfigurationError) as info:
        FcClient(credentials=Credentials(KEY_ID, SECRET), endpoint="http://user:hunter2pw@127.0.0.1:9/",
                 environ={}, home="/nonexistent")
    assert "user name or password" in str(info.value) and "hunter2pw" not in str(info.value)


def test_plain_http_to_a_remote_host_warns_once(caplog):
    caplog.set_level(logging.WARNING, logger="pulumi_fc_invocation.transport")
    for _ in range(3):
        FcClient(credentials=Credentials(KEY_ID, SECRET), endpoint="http://fc-plain.example.com",
                 environ={}, home="/nonexistent").close()
    FcClient(credentials=Credentials(KEY_ID, SECRET), endpoint="http://127.0.0.1:9", environ={},
             home="/nonexistent").close()
    warnings = [r for r in caplog.records if "plain HTTP" in r.getMessage()]
    assert len(warnings) == 1 and "fc-plain.example.com" in warnings[0].getMessage()


def test_a_batch_listing_stops_on_a_cycling_token_and_the_wait_ends_at_once():
    """The batch's own page loop (``list_batch``) catches a cycle (A, B, A), and a wait treats a
    listing that would never end as hopeless instead of polling it until its timeout."""
    from pulumi_fc_invocation.gate.batch import BatchTracker, list_batch
    from pulumi_fc_invocation.gate.spec import BatchSpec
    from pulumi_fc_invocation.errors import PaginationError
    from pulumi_fc_invocation.waiter import Waiter, WaitPolicy

    with _pages(lambda n: "AB"[n % 2]) as server:
        client = client_for(server.endpoint)
        spec = BatchSpec.build(service_name="svc", function_name="fn", invocation_id_prefix="b-",
                               wait_for_completion=True, timeout_seconds=60)
        with pytest.raises(PaginationError, match="already seen"):
            list_batch(client, spec)
        assert len(server.seen) == 3
        started = time.monotonic()
        outcome = Waiter(BatchTracker(client, spec).poll, WaitPolicy(timeout=60)).wait()
        client.close()
    assert isinstance(outcome.error, PaginationError) and not outcome.timed_out
    assert time.monotonic() - started < 5


def test_a_body_that_trickles_ends_at_the_calls_deadline():
    """A kept-alive answer whose body sends a byte just before each read timeout: every read waits at most
    the time left, so the call ends at its 2 s deadline, not one more read timeout later (the socket's
    timeout used to be set once per attempt). An answer with Connection: close may overrun by one read's
    timeout at most (wire.read_body says why)."""
    from pulumi_fc_invocation import clock

    with HostileServer(lambda seen, conn: byte_before_timeout(conn, server.stop, 1.9)) as server:
        client = client_for(server.endpoint, timeout=(5.0, 15.0))
        started = time.monotonic()
        with pytest.raises(TransportError, match="time budget"):
            clock.within(2.0, lambda: client.get("svc/fn/job-1"))
        elapsed = time.monotonic() - started
        client.close()
    assert elapsed < 3.0, elapsed  # a read timeout later would be 1.9 + 2 s
