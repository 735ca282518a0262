"""The FC emulator through real HTTP: routes, lifecycle on a virtual clock, errors, auth, paging,
the request log, connection handling, and the official ``fc2`` SDK's signed requests."""

from __future__ import annotations

import json
import socket
import threading
import time
from email.utils import formatdate

import pytest
import requests

from _clocks import until
from pulumi_fc_invocation import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    Credentials,
    FcClient,
    NotFoundError,
)
from pulumi_fc_invocation.signing import authorization
from pulumi_fc_invocation.testing import FcEmulator, VirtualClock

SVC, FN = "video", "transcode"
BASE = f"/2016-08-15/services/{SVC}/functions/{FN}"


@pytest.fixture
def fc():
    with FcEmulator(clock="virtual") as emulator:
        emulator.add_function(SVC, FN, qualifiers=("prod", "3"), duration=5.0, return_payload='{"ok":true}')
        yield emulator


@pytest.fixture
def client(fc):
    with FcClient(endpoint=fc.endpoint, account_id=fc.account_id, credentials=fc.credentials, max_retries=0) as c:
        yield c


def signed(fc, method, path, *, date=None, headers=None, body=b"", creds=None, query=None):
    """A request signed like FC clients do, sent with ``requests`` (for what FcClient refuses to send)."""
    creds = creds or fc.credentials
    h = {"Date": date or formatdate(usegmt=True), "Content-Type": "application/json"}
    h.update(headers or {})
    h["Authorization"] = authorization(method, path, h, creds.access_key_id, creds.access_key_secret)
    return requests.request(method, fc.endpoint + path, headers=h, data=body, params=query, timeout=5)


# --- invoke / get / lifecycle ---------------------------------------------------------------------


def test_every_route_is_answered_by_its_revision():
    """A revision is one room plus registration: urls names its routes, REVISIONS its class, and the
    class answers each route with on_<name> (a forgotten handler would be a 500 at run time)."""
    from pulumi_fc_invocation.testing.responses import REVISIONS
    from pulumi_fc_invocation.testing.urls import API_REVISIONS, url_paths

    assert tuple(REVISIONS) == API_REVISIONS
    routes = {(api, name) for api, _pattern, methods in url_paths for name in methods.values()}
    assert {api for api, _ in routes} == set(API_REVISIONS)
    missing = sorted(f"{api} {name}" for api, name in routes
                     if not callable(getattr(REVISIONS[api], f"on_{name}", None)))
    assert not missing, missing


def test_invoke_then_lifecycle_on_virtual_clock(fc, client):
    job = client.invoke_async(SVC, FN, '{"input": 1}', invocation_id="job-1")
    assert job == "job-1"
    first = client.get_stateful_async_invocation(SVC, FN, "job-1")
    assert first.status.value == "Running"
    assert first.end_time is None and first.return_payload == "" and first.qualifier == "LATEST"
    assert first.started_time.timestamp() == pytest.approx(fc.clock.now())
    fc.advance(4.999)
    assert client.get_stateful_async_invocation(SVC, FN, "job-1").status.value == "Running"
    fc.advance(0.001)
    done = client.get_stateful_async_invocation(SVC, FN, "job-1")
    assert done.succeeded and done.return_payload == '{"ok":true}'
    assert done.duration_ms == 5000
    assert (done.end_time - done.started_time).total_seconds() == pytest.approx(5.0)
    assert [e.status for e in done.events] == ["Enqueued", "Running", "Succeeded"]
    assert [e.event_id for e in done.events] == [1, 2, 3]
    assert done.invocation_payload == '{"input": 1}'
    assert done.instance_id and done.request_id == fc.requests[0].request_id
    assert done.destination_status == ""


def test_generated_invocation_id_and_response_headers(fc):
    r = signed(fc, "POST", BASE + "/invocations", headers={"X-Fc-Invocation-Type": "Async"}, body=b"x")
    assert r.status_code == 202
    generated = r.headers["X-Fc-Stateful-Async-Invocation-Id"]
    assert generated.startswith("inv-") and r.headers["X-Fc-Request-Id"]
    assert r.headers["Content-Length"] == "0"
    got = signed(fc, "GET", f"{BASE}/stateful-async-invocations/{generated}")
    assert got.status_code == 200 and got.json()["invocationId"] == generated
    assert got.headers["X-Fc-Request-Id"] != r.headers["X-Fc-Request-Id"]
    assert got.headers["Content-Type"].startswith("application/json")


def test_get_response_has_every_documented_key(fc):
    fc.add_invocation(SVC, FN, "seeded", payload="p")
    body = signed(fc, "GET", f"{BASE}/stateful-async-invocations/seeded").json()
    assert set(body) == {"serviceName", "functionName", "qualifier", "invocationId", "requestId", "status",
                         "destinationStatus", "invocationErrorMessage", "invocationPayload", "returnPayload",
                         "alreadyRetriedTimes", "startedTime", "endTime", "durationMs", "instanceId", "events"}
    assert body["endTime"] == 0 and isinstance(body["startedTime"], int)
    assert set(body["events"][0]) == {"eventId", "status", "timestamp", "eventDetail"}


def test_queue_delay_retries_and_failure(fc, client):
    fc.add_function(SVC, "flaky", queue_delay=2, duration=1, retries=2, retry_delay=3, outcome="Failed",
                    error_message="UnhandledException")
    client.invoke_async(SVC, "flaky", "{}", invocation_id="f1")
    seen = []
    for step in [0, 2, 3, 6, 7, 10, 11]:
        fc.clock.set(fc.get_invocation(SVC, "flaky", "f1").started_time / 1000 + step)
        r = client.get_stateful_async_invocation(SVC, "flaky", "f1")
        seen.append((r.status.value, r.already_retried_times))
    assert seen == [("Enqueued", 0), ("Running", 0), ("Retrying", 1), ("Running", 1), ("Retrying", 2),
                    ("Running", 2), ("Failed", 2)]
    final = client.get_stateful_async_invocation(SVC, "flaky", "f1")
    assert final.invocation_error_message == "UnhandledException" and final.return_payload == ""


def test_payload_directive_overrides_script(fc, client):
    payload = json.dumps({"fcEmulator": {"status": "Failed", "after": 2.5, "error": "Boom", "retries": 1,
                                         "retryDelay": 0.5}})
    client.invoke_async(SVC, FN, payload, invocation_id="d1")
    fc.advance(2.5)
    assert client.get_stateful_async_invocation(SVC, FN, "d1").status.value == "Retrying"
    fc.advance(3.0)
    r = client.get_stateful_async_invocation(SVC, FN, "d1")
    assert (r.status.value, r.already_retried_times, r.invocation_error_message) == ("Failed", 1, "Boom")
    client.invoke_async(SVC, FN, json.dumps({"fcEmulator": {"returnPayload": "custom", "after": 0}}),
                        invocation_id="d2")
    assert client.get_stateful_async_invocation(SVC, FN, "d2").return_payload == "custom"


def test_bad_directive_is_invalid_argument(fc, client):
    with pytest.raises(BadRequestError) as err:
        client.invoke_async(SVC, FN, '{"fcEmulator": {"stauts": "Failed"}}')
    assert err.value.code == "InvalidArgument" and "stauts" in err.value.message
    with pytest.raises(BadRequestError):
        client.invoke_async(SVC, FN, '{"fcEmulator": {"status": "Exploded"}}')
    assert fc.invocations == []


@pytest.mark.parametrize("outcome", ["Expired", "Invalid"])
def test_expired_and_invalid_never_run(fc, client, outcome):
    client.invoke_async(SVC, FN, json.dumps({"fcEmulator": {"status": outcome, "after": 10}}), invocation_id="e")
    fc.advance(10)
    r = client.get_stateful_async_invocation(SVC, FN, "e")
    assert r.status.value == outcome and [e.status for e in r.events] == ["Enqueued", outcome]
    assert r.instance_id == ""


def test_destination_status(fc, client):
    fc.add_function(SVC, "dest", duration=1, destination=True)
    client.invoke_async(SVC, "dest", "", invocation_id="x")
    assert client.get_stateful_async_invocation(SVC, "dest", "x").destination_status == ""
    fc.advance(1)
    assert client.get_stateful_async_invocation(SVC, "dest", "x").destination_status == "Succeeded"


def test_seeded_timeline_and_inspection(fc, client):
    start = fc.clock.now() - 3
    fc.add_invocation("other-svc", "fn", "seed-1", qualifier="blue",
                      timeline=[("Enqueued", 0), ("Running", 1.0), ("Succeeded", 5.0)],
                      payload="in", return_payload="out", started_at=start)
    r = client.get_stateful_async_invocation("other-svc", "fn", "seed-1", qualifier="blue")
    assert r.status.value == "Running" and r.qualifier == "blue"
    assert fc.get_invocation("other-svc", "fn", "seed-1").status == "Running"
    fc.advance(2)
    r = client.get_stateful_async_invocation("other-svc", "fn", "seed-1", qualifier="blue")
    assert r.succeeded and r.return_payload == "out"
    assert [s.invocation_id for s in fc.invocations] == ["seed-1"]
    with pytest.raises(KeyError):
        fc.get_invocation("other-svc", "fn", "nope")


def test_unknown_future_status_in_timeline_reaches_client(fc, client):
    fc.add_invocation(SVC, FN, "future", timeline=[("Enqueued", 0), ("Paused", 1)])
    fc.advance(1)
    r = client.get_stateful_async_invocation(SVC, FN, "future")
    assert r.status.value == "Paused" and not r.status.is_known and not r.is_terminal


def test_qualified_requests_see_their_own_invocations(fc, client):
    client.invoke_async(SVC, FN, "", qualifier="prod", invocation_id="q1")
    client.invoke_async(SVC, FN, "", qualifier="3", invocation_id="q2")
    assert client.get_stateful_async_invocation(SVC, FN, "q1", qualifier="prod").qualifier == "prod"
    assert client.get_stateful_async_invocation(SVC, FN, "q1").qualifier == "prod"  # unqualified sees all
    with pytest.raises(NotFoundError):
        client.get_stateful_async_invocation(SVC, FN, "q1", qualifier="3")
    assert [i.invocation_id for i in client.list_stateful_async_invocations(SVC, FN, qualifier="3")] == ["q2"]


# --- stop -----------------------------------------------------------------------------------------


def test_stop_running_then_finished(fc, client):
    client.invoke_async(SVC, FN, "", invocation_id="s1")
    fc.advance(1)
    request_id = client.stop_stateful_async_invocation(SVC, FN, "s1")
    assert request_id == fc.requests[-1].request_id and fc.requests[-1].status == 200
    r = client.get_stateful_async_invocation(SVC, FN, "s1")
    assert r.status.value == "Stopped" and r.end_time is not None
    assert [e.status for e in r.events] == ["Enqueued", "Running", "Stopping", "Stopped"]
    fc.advance(100)  # the script's Succeeded never happens
    assert client.get_stateful_async_invocation(SVC, FN, "s1").status.value == "Stopped"
    with pytest.raises(BadRequestError) as err:
        client.stop_stateful_async_invocation(SVC, FN, "s1")
    assert err.value.code == "InvalidArgument" and err.value.http_status == 400


def test_stop_with_delay_passes_through_stopping(fc, client):
    fc.add_function(SVC, "slowstop", duration=60, stop_delay=2)
    client.invoke_async(SVC, "slowstop", "", invocation_id="s2")
    client.stop_stateful_async_invocation(SVC, "slowstop", "s2")
    client.stop_stateful_async_invocation(SVC, "slowstop", "s2")  # still Stopping: harmless
    assert client.get_stateful_async_invocation(SVC, "slowstop", "s2").status.value == "Stopping"
    fc.advance(2)
    assert client.get_stateful_async_invocation(SVC, "slowstop", "s2").status.value == "Stopped"


def test_stop_unknown_is_not_found(fc, client):
    with pytest.raises(NotFoundError) as err:
        client.stop_stateful_async_invocation(SVC, FN, "nope")
    assert err.value.code == "StatefulAsyncInvocationNotFound"


# --- not found / conflicts / bad requests ---------------------------------------------------------


@pytest.mark.parametrize("service, qualifier, function, code", [
    ("nosvc", None, FN, "ServiceNotFound"),
    (SVC, None, "nofn", "FunctionNotFound"),
    (SVC, "staging", FN, "AliasNotFound"),
    (SVC, "42", FN, "VersionNotFound"),
    (SVC, None, FN, "StatefulAsyncInvocationNotFound"),
])
def test_not_found_codes(fc, client, service, qualifier, function, code):
    with pytest.raises(NotFoundError) as err:
        client.get_stateful_async_invocation(service, function, "missing", qualifier=qualifier)
    assert err.value.code == code and err.value.http_status == 404 and err.value.request_id
    if code != "StatefulAsyncInvocationNotFound":  # the same checks guard list and invoke
        with pytest.raises(NotFoundError) as err:
            list(client.list_stateful_async_invocations(service, function, qualifier=qualifier))
        assert err.value.code == code
        with pytest.raises(NotFoundError) as err:
            client.invoke_async(service, function, "", qualifier=qualifier)
        assert err.value.code == code


def test_duplicate_invocation_id_conflicts(fc, client):
    client.invoke_async(SVC, FN, "", invocation_id="dup")
    with pytest.raises(ConflictError) as err:
        client.invoke_async(SVC, FN, "", qualifier="prod", invocation_id="dup")
    assert err.value.code == "StatefulAsyncInvocationAlreadyExists" and err.value.http_status == 409


def test_bad_requests(fc):
    r = signed(fc, "DELETE", f"{BASE}/stateful-async-invocations/x")
    assert (r.status_code, r.json()["ErrorCode"]) == (400, "PathNotSupported")
    r = signed(fc, "GET", "/2016-08-15/nothing-here")
    assert (r.status_code, r.json()["ErrorCode"]) == (400, "PathNotSupported")
    r = signed(fc, "POST", BASE + "/invocations",
               headers={"X-Fc-Invocation-Type": "Async", "X-Fc-Stateful-Async-Invocation-Id": "9starts-with-digit"})
    assert (r.status_code, r.json()["ErrorCode"]) == (400, "InvalidArgument")
    r = signed(fc, "POST", BASE + "/invocations", headers={"X-Fc-Invocation-Type": "Sometimes"})
    assert (r.status_code, r.json()["ErrorCode"]) == (400, "InvalidArgument")
    r = signed(fc, "POST", BASE + "/invocations", headers={"X-Fc-Invocation-Type": "Async"}, body=b"x" * 200_000)
    assert (r.status_code, r.json()["ErrorCode"]) == (400, "EntityTooLarge")
    assert set(r.json()) == {"ErrorCode", "ErrorMessage"}


# --- list -----------------------------------------------------------------------------------------


def _seed(fc, count, prefix="job-", **kwargs):
    for i in range(count):
        fc.add_invocation(SVC, FN, f"{prefix}{i:02d}", payload=f"p{i}", **kwargs)
        fc.advance(1)


def test_list_paging_and_order(fc, client):
    _seed(fc, 5)
    desc = [i.invocation_id for i in client.list_stateful_async_invocations(SVC, FN, page_size=2)]
    assert desc == ["job-04", "job-03", "job-02", "job-01", "job-00"]
    assert fc.request_count("list") == 3
    asc = [i.invocation_id for i in client.list_stateful_async_invocations(SVC, FN, sort="asc", page_size=3)]
    assert asc == sorted(desc)
    items, token = client.list_stateful_async_invocations_page(SVC, FN, page_size=5)
    assert len(items) == 5 and token is None
    assert [i.invocation_id for i in client.list_stateful_async_invocations(SVC, FN, limit=3, page_size=2)] == \
        ["job-04", "job-03", "job-02"]


def test_list_paging_is_stable_when_invocations_arrive(fc, client):
    _seed(fc, 4)
    page1, token = client.list_stateful_async_invocations_page(SVC, FN, page_size=2)
    fc.add_invocation(SVC, FN, "newcomer")
    page2, token2 = client.list_stateful_async_invocations_page(SVC, FN, page_size=2, next_token=token)
    assert [i.invocation_id for i in page1 + page2] == ["job-03", "job-02", "job-01", "job-00"]
    assert token2 is None


def test_list_default_limit_and_raw_body(fc):
    _seed(fc, 25)
    body = signed(fc, "GET", BASE + "/stateful-async-invocations").json()
    assert len(body["invocations"]) == 20 and body["nextToken"]
    assert "invocationPayload" not in body["invocations"][0]
    rest = signed(fc, "GET", BASE + "/stateful-async-invocations", query={"nextToken": body["nextToken"]}).json()
    assert len(rest["invocations"]) == 5 and "nextToken" not in rest
    with_payload = signed(fc, "GET", BASE + "/stateful-async-invocations",
                          query={"includePayload": "true", "limit": "1"}).json()
    assert with_payload["invocations"][0]["invocationPayload"] == "p24"


@pytest.mark.parametrize("query", [
    {"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"sortOrderByTime": "up"}, {"status": "Sleeping"},
    {"includePayload": "yes"}, {"startedTimeBegin": "-1"}, {"nextToken": "not-a-token"},
])
def test_list_rejects_bad_query(fc, query):
    r = signed(fc, "GET", BASE + "/stateful-async-invocations", query=query)
    assert (r.status_code, r.json()["ErrorCode"]) == (400, "InvalidArgument")


def test_list_token_bound_to_sort_order(fc, client):
    _seed(fc, 3)
    _, token = client.list_stateful_async_invocations_page(SVC, FN, page_size=1, sort="desc")
    with pytest.raises(BadRequestError):
        client.list_stateful_async_invocations_page(SVC, FN, page_size=1, sort="asc", next_token=token)
    with pytest.raises(BadRequestError):
        client.list_stateful_async_invocations_page(SVC, FN, next_token="garbage")


def test_list_filters(fc, client):
    fc.add_function(SVC, FN, qualifiers=("prod", "3"), duration=0.5)
    _seed(fc, 3, prefix="a-")
    fc.add_function(SVC, FN, qualifiers=("prod", "3"), duration=100)  # later ones keep running
    _seed(fc, 2, prefix="b-")
    ids = lambda **kw: [i.invocation_id for i in client.list_stateful_async_invocations(SVC, FN, sort="asc", **kw)]
    assert ids(status="Succeeded") == ["a-00", "a-01", "a-02"]
    assert ids(status="Running") == ["b-00", "b-01"]
    assert ids(prefix="b-") == ["b-00", "b-01"]
    t0 = fc.get_invocation(SVC, FN, "a-01").started_time
    t1 = fc.get_invocation(SVC, FN, "b-00").started_time
    assert ids(started_after=t0, started_before=t1) == ["a-01", "a-02", "b-00"]
    items = list(client.list_stateful_async_invocations(SVC, FN, include_payload=True, prefix="a-00"))
    assert items[0].invocation_payload == "p0"
    assert list(client.list_stateful_async_invocations(SVC, FN, prefix="a-00"))[0].invocation_payload is None


# --- authentication -------------------------------------------------------------------------------


def test_wrong_secret_and_unknown_key(fc):
    with FcClient(endpoint=fc.endpoint, credentials=Credentials(fc.credentials.access_key_id, "wrong"),
                  max_retries=0) as bad:
        with pytest.raises(AuthenticationError) as err:
            bad.get_stateful_async_invocation(SVC, FN, "x")
    assert (err.value.code, err.value.http_status) == ("SignatureNotMatch", 403)
    with FcClient(endpoint=fc.endpoint, credentials=Credentials("LTAIunknownKey", "s"), max_retries=0) as bad:
        with pytest.raises(AuthenticationError) as err:
            bad.get_stateful_async_invocation(SVC, FN, "x")
    assert err.value.code == "InvalidAccessKeyID" and "LTAI****nKey" in err.value.message  # our key id, masked
    assert [r.access_key_id for r in fc.requests] == [fc.credentials.access_key_id, "LTAIunknownKey"]
    assert [r.status for r in fc.requests] == [403, 403]


def test_missing_headers(fc):
    r = requests.get(fc.endpoint + BASE + "/stateful-async-invocations/x", timeout=5)
    assert (r.status_code, r.json()["ErrorCode"]) == (400, "MissingRequiredHeader")
    assert "Authorization" in r.json()["ErrorMessage"] and r.headers["X-Fc-Request-Id"]
    r = requests.get(fc.endpoint + BASE + "/stateful-async-invocations/x", headers={"Authorization": "Bearer x"},
                     timeout=5)
    assert (r.status_code, r.json()["ErrorCode"]) == (403, "SignatureNotMatch")
    path = BASE + "/stateful-async-invocations/x"
    no_date = {"Authorization": authorization("GET", path, {}, fc.credentials.access_key_id,
                                              fc.credentials.access_key_secret)}
    r = requests.get(fc.endpoint + path, headers=no_date, timeout=5)
    assert (r.status_code, r.json()["ErrorCode"]) == (400, "MissingRequiredHeader") and "Date" in r.text
    r = signed(fc, "GET", path, date="yesterday-ish")
    assert (r.status_code, r.json()["ErrorCode"]) == (400, "InvalidArgument")


@pytest.mark.parametrize("offset", [-16 * 60, 16 * 60])
def test_clock_skew_is_checked_against_real_time(fc, offset):
    old = formatdate(time.time() + offset, usegmt=True)
    r = signed(fc, "GET", f"{BASE}/stateful-async-invocations/x", date=old)
    assert (r.status_code, r.json()["ErrorCode"]) == (403, "RequestTimeTooSkewed")
    fine = formatdate(time.time() + offset / 2, usegmt=True)  # 8 minutes off: accepted
    assert signed(fc, "GET", f"{BASE}/stateful-async-invocations/x", date=fine).status_code == 404


def test_virtual_clock_far_from_real_time_does_not_break_auth(client):
    with FcEmulator(clock=VirtualClock(start=946684800.0)) as fc:  # year 2000
        fc.add_invocation(SVC, FN, "old")
        fc.advance(3600)
        with fc.client(max_retries=0) as c:
            r = c.get_stateful_async_invocation(SVC, FN, "old")
        assert r.succeeded and r.started_time.year == 2000


def test_signature_covers_unescaped_path_not_query(fc):
    fc.add_invocation(SVC, FN, "job-1")
    r = signed(fc, "GET", f"{BASE}/stateful-async-invocations/%6Aob-1")  # %6A is 'j'
    assert r.status_code == 200 and r.json()["invocationId"] == "job-1"
    r = signed(fc, "GET", f"{BASE}/stateful-async-invocations/job-1", query={"anything": "unsigned"})
    assert r.status_code == 200


def test_content_md5_must_match(fc):
    import base64
    import hashlib
    body = b'{"a":1}'
    good = base64.b64encode(hashlib.md5(body).digest()).decode()
    ok = signed(fc, "POST", BASE + "/invocations", body=body, headers={"Content-MD5": good,
                                                                       "X-Fc-Invocation-Type": "Async"})
    assert ok.status_code == 202
    bad = signed(fc, "POST", BASE + "/invocations", body=body, headers={"Content-MD5": "AAAA",
                                                                        "X-Fc-Invocation-Type": "Async"})
    assert (bad.status_code, bad.json()["ErrorCode"]) == (400, "InvalidArgument")


def test_sts_tokens(fc):
    sts = fc.add_credentials("STS.tmpKey", "tmp-secret", security_token="sekrit-123")
    fc.add_invocation(SVC, FN, "x")
    with FcClient(endpoint=fc.endpoint, credentials=sts, max_retries=0) as c:
        assert c.get_stateful_async_invocation(SVC, FN, "x").invocation_id == "x"
    for creds, code in [(Credentials("STS.tmpKey", "tmp-secret", "sekrit-other"), "InvalidSecurityToken"),
                        (Credentials("STS.tmpKey", "tmp-secret"), "InvalidSecurityToken"),
                        (Credentials(fc.credentials.access_key_id, fc.credentials.access_key_secret, "sekrit-x"),
                         "InvalidSecurityToken")]:
        with FcClient(endpoint=fc.endpoint, credentials=creds, max_retries=0) as c:
            with pytest.raises(AuthenticationError) as err:
                c.get_stateful_async_invocation(SVC, FN, "x")
        assert (err.value.code, err.value.http_status) == (code, 403)
        assert "sekrit" not in err.value.message
    expired = fc.add_credentials("STS.oldKey", "old-secret", security_token="tok-0", expired=True)
    with FcClient(endpoint=fc.endpoint, credentials=expired, max_retries=0) as c:
        with pytest.raises(AuthenticationError) as err:
            c.get_stateful_async_invocation(SVC, FN, "x")
    assert err.value.code == "SecurityTokenExpired"


def test_account_header_must_match(fc):
    with FcClient(endpoint=fc.endpoint, account_id="999", credentials=fc.credentials, max_retries=0) as c:
        with pytest.raises(AuthenticationError) as err:
            c.get_stateful_async_invocation(SVC, FN, "x")
    assert err.value.code == "AccessDenied"


# --- the official SDK -----------------------------------------------------------------------------


def test_official_fc2_sdk_requests_are_accepted(fc, client):
    import fc2  # a test dependency (aliyun-fc2): its absence is a failure, not a skip
    sdk = fc2.Client(endpoint=fc.endpoint, accessKeyID=fc.credentials.access_key_id,
                     accessKeySecret=fc.credentials.access_key_secret)
    resp = sdk.invoke_function(SVC, FN, payload=b'{"from": "fc2"}',
                               headers={"x-fc-invocation-type": "Async",
                                        "x-fc-stateful-async-invocation-id": "fc2-job"})
    assert resp.headers["X-Fc-Stateful-Async-Invocation-Id"] == "fc2-job"
    assert client.get_stateful_async_invocation(SVC, FN, "fc2-job").invocation_payload == '{"from": "fc2"}'
    # qualified, and synchronous (the scripted return payload comes back at once)
    sync = sdk.invoke_function(SVC, FN, payload=b"{}", qualifier="prod")
    assert sync.data == b'{"ok":true}'
    with pytest.raises(fc2.fc_exceptions.FcError) as err:
        sdk.invoke_function(SVC, FN, payload=b'{"fcEmulator": {"status": "Failed", "error": "Oops"}}')
    assert err.value.status_code == 200 and "Oops" in err.value.message
    with pytest.raises(fc2.fc_exceptions.FcError) as err:
        sdk.invoke_function(SVC, FN, headers={"x-fc-invocation-type": "Async",
                                              "x-fc-stateful-async-invocation-id": "fc2-job"})
    assert err.value.err_code == "StatefulAsyncInvocationAlreadyExists" and err.value.status_code == 409
    sts = fc.add_credentials("STS.fc2", "fc2-secret", security_token="fc2-token")
    sts_sdk = fc2.Client(endpoint=fc.endpoint, accessKeyID=sts.access_key_id,
                         accessKeySecret=sts.access_key_secret, securityToken=sts.security_token)
    sts_sdk.invoke_function(SVC, FN, headers={"x-fc-invocation-type": "Async"})
    assert {r.access_key_id for r in fc.requests if r.status and r.status < 300} == \
        {fc.credentials.access_key_id, "STS.fc2"}


# --- request log, connections, server lifecycle ---------------------------------------------------


def test_request_log(fc, client):
    assert fc.requests == [] and fc.request_count() == 0
    client.invoke_async(SVC, FN, "", invocation_id="r1")
    client.get_stateful_async_invocation(SVC, FN, "r1")
    list(client.list_stateful_async_invocations(SVC, FN, status="Running"))
    with pytest.raises(NotFoundError):
        client.get_stateful_async_invocation(SVC, FN, "nope")
    records = fc.requests
    assert [(r.method, r.route, r.status) for r in records] == [
        ("POST", "invoke", 202), ("GET", "get", 200), ("GET", "list", 200), ("GET", "get", 404)]
    assert records[2].query["status"] == "Running" and records[2].path == BASE + "/stateful-async-invocations"
    assert all(r.access_key_id == fc.credentials.access_key_id for r in records)
    assert records[0].invocation_id == "r1" and not records[0].fault
    assert fc.request_count("get") == 2 and fc.request_count() == 4
    fc.reset_requests()
    assert fc.request_count() == 0


def test_keep_alive_reuses_one_connection_and_is_fast(fc, client):
    fc.add_invocation(SVC, FN, "k")
    client.get_stateful_async_invocation(SVC, FN, "k")
    start = time.perf_counter()
    for _ in range(50):
        client.get_stateful_async_invocation(SVC, FN, "k")
    per_call = (time.perf_counter() - start) / 50
    assert fc.connections_accepted == 1
    assert per_call < 0.02  # generous for CI; ~1.5 ms locally, emulator side ~0.2 ms


def test_stop_closes_everything():
    before = {t.name for t in threading.enumerate()}
    fc = FcEmulator(clock="virtual").start()
    port = fc.port
    fc.add_invocation(SVC, FN, "x")
    c = fc.client(max_retries=0)
    c.get_stateful_async_invocation(SVC, FN, "x")  # leaves an idle keep-alive connection open
    idle = socket.create_connection(("127.0.0.1", port))  # and a connection that never sends anything
    assert until(lambda: fc.connections_accepted >= 2)  # the server holds it (not still in the backlog)
    started = time.perf_counter()
    fc.stop()
    assert time.perf_counter() - started < 2
    assert not [t for t in threading.enumerate() if t.name.startswith("fc-emulator") and t.name not in before]
    assert idle.recv(1) == b""  # closed by the server
    idle.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
    fc.stop()  # idempotent
    c.close()


def test_repr_hides_secret_and_endpoint_requires_start():
    fc = FcEmulator(access_key_secret="super-secret-value", security_token="tok-secret")
    with pytest.raises(RuntimeError):
        fc.endpoint
    with fc:
        text = repr(fc) + str(fc) + repr(fc.credentials) + repr(fc.keys)
        assert "super-secret-value" not in text and "tok-secret" not in text
        assert fc.endpoint.startswith("http://127.0.0.1:")
    assert "not started" in repr(fc)


def test_pytest_plugin_fixture(fc_emulator):
    assert isinstance(fc_emulator.clock, VirtualClock) and fc_emulator.running
    fc_emulator.add_function("svc", "fn", duration=2)
    with fc_emulator.client(max_retries=0) as c:
        c.invoke_async("svc", "fn", "", invocation_id="p1")
        fc_emulator.advance(2)
        assert c.get_stateful_async_invocation("svc", "fn", "p1").succeeded


def test_the_fixture_runs_a_program_that_waits_without_advancing_by_hand(fc_emulator):
    """Before: the fixture's clock moved only by hand, so a gate waited out the harness timeout."""
    import pulumi

    from pulumi_fc_invocation import StatefulAsyncInvocation
    from pulumi_fc_invocation.testing import run_program

    fc_emulator.add_function("ml", "train", duration=2 * 3600)
    fc_emulator.client().invoke_async("ml", "train", "{}", invocation_id="model-42")

    def program():
        job = StatefulAsyncInvocation("job", service_name="ml", function_name="train", invocation_id="model-42",
                                      wait_for_completion=True, timeout_seconds=3 * 3600)
        pulumi.export("status", job.status)

    result = run_program(program, config=fc_emulator.stack_config(), secret_keys=["alicloud:secretKey"],
                         timeout=30)
    assert result.outputs["status"] == "Succeeded"


def test_unknown_is_exported_from_testing():
    from pulumi_fc_invocation import testing
    from pulumi_fc_invocation.testing.harness import UNKNOWN

    assert testing.UNKNOWN == UNKNOWN and "UNKNOWN" in testing.__all__


def test_real_clock_cannot_advance():
    with FcEmulator() as fc:
        with pytest.raises(TypeError):
            fc.advance(1)
        assert abs(fc.clock.now() - time.time()) < 1
