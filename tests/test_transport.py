"""The transport alone: per-call signers, and credentials asked for at every attempt (a retry after a
refresh signs with the new STS token), real HTTP against an in-process scripted server."""

from __future__ import annotations

import pytest

from pulumi_fc_invocation.credentials import Credentials
from pulumi_fc_invocation.errors import AuthenticationError, InvalidArgumentError
from pulumi_fc_invocation.transport import SignableRequest, Transport

from _scripted_server import ScriptedServer


class Rotating:
    """A credential source whose token changes each time it is asked (as a refreshing chain would)."""

    def __init__(self) -> None:
        self.calls = 0

    def current(self) -> Credentials:
        self.calls += 1
        return Credentials("STS.key", "secret-value", f"token-{self.calls}")


def token_signer(request: SignableRequest, creds: Credentials) -> None:
    request.headers["X-Test-Token"] = creds.security_token or ""
    request.headers["X-Test-Attempt"] = str(request.attempt)
    request.headers["X-Test-Host"] = request.host


def test_a_status_retry_is_signed_again_with_the_credentials_current_then():
    source = Rotating()
    with ScriptedServer() as server:
        server.reply(503, "{}").reply(503, "{}").reply(200, '{"ok": true}')
        transport = Transport(server.endpoint, source, backoff_factor=0.01, max_retries=3)
        response = transport.request("GET", "/x", signer=token_signer, params={"a": "1"})
        transport.close()
    assert response.status_code == 200
    assert [r.headers["X-Test-Token"] for r in server.requests] == ["token-1", "token-2", "token-3"]
    assert [r.headers["X-Test-Attempt"] for r in server.requests] == ["1", "2", "3"]
    assert server.requests[0].headers["X-Test-Host"] == server.endpoint.split("//")[1]
    assert all(r.query == {"a": ["1"]} for r in server.requests)


def test_each_call_has_its_own_signer_and_a_plain_credentials_object_works():
    creds = Credentials("LTAIkey0000001", "secret-value")
    seen: list[str] = []

    def other(request: SignableRequest, c: Credentials) -> None:
        seen.append(request.method + " " + request.path)
        request.headers["Authorization"] = "OTHER " + c.access_key_id

    with ScriptedServer() as server:
        server.reply(200).reply(200)
        transport = Transport(server.endpoint, creds)
        transport.request("GET", "/one", signer=token_signer)
        transport.request("POST", "/two", signer=other, body=b"x")
        transport.close()
    assert "Authorization" not in server.requests[0].headers
    assert server.requests[1].headers["Authorization"] == "OTHER LTAIkey0000001"
    assert seen == ["POST /two"]


def test_errors_are_classified_and_redacted_with_the_credentials_last_used():
    creds = Credentials("LTAIkey0000001", "secret-value", "the-sts-token")
    with ScriptedServer() as server:
        server.reply(403, '{"ErrorCode":"InvalidAccessKeyId","ErrorMessage":"bad token the-sts-token"}')
        transport = Transport(server.endpoint, lambda: creds)
        with pytest.raises(AuthenticationError) as info:
            transport.request("GET", "/x", signer=token_signer)
        transport.close()
    assert info.value.code == "InvalidAccessKeyId"
    assert "the-sts-token" not in str(info.value)
    assert info.value.request_id == "req-1"


def test_a_credential_source_of_the_wrong_kind_is_refused_by_name():
    with pytest.raises(InvalidArgumentError, match="credentials"):
        Transport("http://127.0.0.1:1", 42)


def test_urllib3_logs_never_name_our_host_and_other_pools_keep_theirs(caplog, monkeypatch):
    """urllib3 warns of each retry with the host (``<account id>.<region>.fc.aliyuncs.com``, a secret when
    the account id is one); a Pulumi program or the plugin prints warnings to stderr. Our host is masked
    in them; a pool that is not ours still warns with its host."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    from pulumi_fc_invocation import FcClient
    from pulumi_fc_invocation.errors import UnreachableError

    import socket

    real_getaddrinfo = socket.getaddrinfo

    def no_such_host(host, *args, **kwargs):  # .invalid never resolves (RFC 6761); no resolver asked
        if str(host).endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    secret_host = "4815162342424242.zz-nowhere-9.invalid"
    # A client of a host that the secret one ends with: masking it first must not leave the account id.
    FcClient(endpoint="https://zz-nowhere-9.invalid", account_id="1", credentials=Credentials("LTAIyyyy", "s"))
    client = FcClient(endpoint=f"https://{secret_host}/s3cr3tpath", account_id="4815162342424242",
                      credentials=Credentials("LTAIxxxxxxxxxxxx", "secret-value"), max_retries=2, retry_budget=5)
    with caplog.at_level("DEBUG"):
        with pytest.raises(UnreachableError):
            client.get_stateful_async_invocation("svc", "fn", "id-1")
        other = requests.Session()
        other.mount("https://", HTTPAdapter(max_retries=Retry(total=1, backoff_factor=0)))
        with pytest.raises(requests.ConnectionError):
            other.get("https://not-ours.invalid/", timeout=5)
    texts = [record.getMessage() for record in caplog.records]
    assert not [t for t in texts if "4815162342424242" in t or "s3cr3tpath" in t], texts
    # masked, not lost (our retries are the transport's own now: urllib3 logs our pool's connections, not retries)
    assert [t for t in texts if t.startswith("Starting new HTTPS connection") and "[fc endpoint]" in t], texts
    assert [t for t in texts if t.startswith("Retrying") and "not-ours.invalid" in t], texts


def test_a_call_keeps_to_the_call_budget_its_caller_set():
    """The deadline of a call comes from clock.within (a waiter's budget), not from a copied client: an
    attempt is cut to it, and a call made once it is spent is not sent at all."""
    import threading
    import time

    from _hostile import HostileServer

    from pulumi_fc_invocation import clock
    from pulumi_fc_invocation.errors import RequestTimeoutError

    release = threading.Event()
    with HostileServer(lambda seen, conn: release.wait(5)) as server:
        transport = Transport(server.endpoint, Credentials("LTAIkey0000001", "secret-value"), timeout=(5.0, 15.0),
                              retry_budget=30.0)
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError, match="time budget"):
            clock.within(0.6, lambda: transport.request("GET", "/x", signer=token_signer))
        elapsed = time.monotonic() - started
        with pytest.raises(RequestTimeoutError, match="not sent"):
            clock.within(0.0, lambda: transport.request("GET", "/y", signer=token_signer))
        release.set()
        transport.close()
    assert 0.5 < elapsed < 1.6, elapsed  # uncut, the attempt would hang 5 s (the server's wait)
    assert [seen.request_line.split()[1] for seen in server.seen] == ["/x"]


def test_retry_after_is_read_as_seconds_fractions_or_an_http_date():
    import time
    from email.utils import formatdate

    from pulumi_fc_invocation.transport.retry import parse_retry_after

    assert parse_retry_after("2") == 2.0 and parse_retry_after("0.5") == 0.5 and parse_retry_after("-3") == 0.0
    assert 28 <= parse_retry_after(formatdate(time.time() + 30, usegmt=True)) <= 31
    assert parse_retry_after(formatdate(time.time() - 30, usegmt=True)) == 0.0
    for unreadable in ("soon", "inf", "nan", "", None):
        assert parse_retry_after(unreadable) is None  # the backoff applies instead


def test_a_start_is_tried_again_only_when_it_never_left():
    """One retry rule for every method: a request that made no connection may go again (nothing ran);
    a start that may have reached FC is never sent twice, whatever came back."""
    import socket

    import requests

    from pulumi_fc_invocation.transport.retry import RetryPolicy
    from pulumi_fc_invocation.wire import classify_exception

    with socket.socket() as s:  # bound, never listening: refused, and no other xdist worker can take the port
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        with pytest.raises(requests.ConnectionError) as refused:
            requests.get(f"http://127.0.0.1:{port}/", timeout=2)
    found = classify_exception(refused.value)
    assert found is not None and found.kind == "unreachable" and found.sent is False
    cut = classify_exception(requests.exceptions.ChunkedEncodingError("cut off"))
    assert cut is not None and cut.kind == "corrupt" and cut.sent is True
    policy = RetryPolicy(max_retries=2)
    assert policy.retries("POST", failure=found) and policy.retries("GET", failure=found)
    assert policy.retries("GET", failure=cut) and policy.retries("PUT", failure=cut)
    assert not policy.retries("POST", failure=cut)
    assert policy.retries("GET", status=503) and not policy.retries("POST", status=503)
    assert not policy.retries("GET", status=404)
    assert policy.delay("GET", 2, status=503) is None  # max_retries used


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retry_after_is_honoured_on_every_retried_status(status):
    """FC's gateway may say when it is back on a 502 or 504 too: the wait is what Retry-After asks on any
    status that is tried again (as urllib3's Retry did), the backoff only without one (the first: at once)."""
    import time

    from pulumi_fc_invocation.transport.retry import RetryPolicy

    assert RetryPolicy(max_retries=2).delay("GET", 0, status=status, headers={"Retry-After": "7"}) == 7.0
    assert RetryPolicy(max_retries=2).delay("GET", 0, status=status, headers={}) == 0.0
    with ScriptedServer() as server:
        server.reply(status, "{}", **{"Retry-After": "0.5"}).reply(200, "{}")
        transport = Transport(server.endpoint, Credentials("LTAIkey0000001", "secret-value"), backoff_factor=0.01)
        started = time.monotonic()
        assert transport.request("GET", "/x", signer=token_signer).status_code == 200
        elapsed = time.monotonic() - started
        transport.close()
    assert elapsed >= 0.45 and len(server.requests) == 2, elapsed


def test_an_answer_and_a_signable_request_show_no_payload_or_headers():
    """A repr ends up in logs and tracebacks: an Answer (FC's body: payloads, results) and a request a
    signer is handed (the STS token, the payload) show their size, never their content or headers."""
    from pulumi_fc_invocation.transport import Answer

    answer = Answer(200, "OK", {"x-fc-request-id": "req-secret-1"}, b'{"invocationPayload": "user-secret-payload"}')
    assert repr(answer) == "Answer(200 OK, 44 bytes)"
    request = SignableRequest(method="POST", path="/x", query={"q": "query-secret"}, body=b"payload-secret",
                              headers={"x-acs-security-token": "token-secret"}, host="h")
    assert repr(request) == "SignableRequest(POST /x, attempt 1, 14 bytes)"
    assert "secret" not in repr(answer) + repr(request) + str(request)
