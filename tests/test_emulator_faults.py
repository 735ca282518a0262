"""Fault injection: each kind, scoping by route / count / invocation id, through FcClient and raw HTTP."""

from __future__ import annotations

import time

import pytest
import requests

from pulumi_fc_invocation import (
    InvalidResponseError,
    RequestTimeoutError,
    ServerError,
    ThrottledError,
    TransportError,
)
from pulumi_fc_invocation.errors import FcApiError
from pulumi_fc_invocation.testing import Fault, FcEmulator

SVC, FN = "svc", "fn"


@pytest.fixture
def fc():
    with FcEmulator(clock="virtual") as emulator:
        emulator.add_function(SVC, FN, duration=1)
        emulator.add_invocation(SVC, FN, "a")
        emulator.add_invocation(SVC, FN, "b")
        yield emulator


def client(fc, **kwargs):
    kwargs.setdefault("max_retries", 0)
    return fc.client(**kwargs)


def test_default_fault_is_503_throttled_once(fc):
    fc.inject_fault("get")
    with client(fc) as c:
        with pytest.raises(ThrottledError) as err:
            c.get_stateful_async_invocation(SVC, FN, "a")
        assert (err.value.code, err.value.http_status) == ("ResourceThrottled", 503) and err.value.request_id
        assert c.get_stateful_async_invocation(SVC, FN, "a").invocation_id == "a"
    assert [(r.route, r.status, r.fault) for r in fc.requests] == [("get", 503, True), ("get", 200, False)]


def test_first_two_reads_fail_then_it_answers(fc):
    fc.inject_fault("get", 503, times=2, retry_after=0)
    with client(fc, max_retries=3, backoff_factor=0.001) as c:
        assert c.get_stateful_async_invocation(SVC, FN, "a").invocation_id == "a"
    assert [r.status for r in fc.requests] == [503, 503, 200]


def test_faults_are_consumed_in_order_and_scoped_by_route(fc):
    fc.inject_fault("list", 500, "InternalServerError")
    fc.inject_fault("get", 429)
    fc.inject_fault("*", 502, message="upstream hiccup")
    with client(fc) as c:
        with pytest.raises(ThrottledError) as err:
            c.get_stateful_async_invocation(SVC, FN, "a")
        assert (err.value.code, err.value.http_status) == ("ResourceExhausted", 429)
        with pytest.raises(ServerError) as err:
            list(c.list_stateful_async_invocations(SVC, FN))
        assert (err.value.code, err.value.http_status) == ("InternalServerError", 500)
        with pytest.raises(ServerError) as err:
            c.stop_stateful_async_invocation(SVC, FN, "a")
        assert err.value.http_status == 502 and err.value.message == "upstream hiccup"
        c.stop_stateful_async_invocation(SVC, FN, "a")
    assert fc.faults.pending() == []


def test_retry_after_header(fc):
    fc.inject_fault("get", 503, retry_after=7)
    with client(fc) as c:
        url = fc.endpoint + "/2016-08-15/services/svc/functions/fn/stateful-async-invocations/a"
        r = requests.get(url, timeout=5)  # unsigned: the fault answers before authentication
        assert r.status_code == 503 and r.headers["Retry-After"] == "7"
        assert r.json() == {"ErrorCode": "ResourceThrottled", "ErrorMessage": "emulated fault: ResourceThrottled"}
        assert c.get_stateful_async_invocation(SVC, FN, "a")


def test_match_scopes_fault_to_one_invocation(fc):
    fc.inject_fault("get", 503, match="b", times=None)
    with client(fc) as c:
        assert c.get_stateful_async_invocation(SVC, FN, "a")
        for _ in range(3):
            with pytest.raises(ThrottledError):
                c.get_stateful_async_invocation(SVC, FN, "b")
        fc.clear_faults()
        assert c.get_stateful_async_invocation(SVC, FN, "b")


def test_error_fault_on_invoke_creates_nothing(fc):
    fc.inject_fault("invoke", 503)
    with client(fc) as c:
        with pytest.raises(ThrottledError):
            c.invoke_async(SVC, FN, "", invocation_id="never")
    assert "never" not in [s.invocation_id for s in fc.invocations]


def test_latency_causes_read_timeout(fc):
    fc.inject_fault("get", latency=0.5)
    with client(fc, timeout=(1.0, 0.2)) as c:
        started = time.perf_counter()
        with pytest.raises(RequestTimeoutError):
            c.get_stateful_async_invocation(SVC, FN, "a")
        assert time.perf_counter() - started < 0.45
        assert c.get_stateful_async_invocation(SVC, FN, "a")


def test_latency_delays_the_answer_not_the_work(fc):
    fc.inject_fault("invoke", latency=0.4)
    with client(fc, timeout=(1.0, 0.1)) as c:
        with pytest.raises(RequestTimeoutError):
            c.invoke_async(SVC, FN, "", invocation_id="slow")
    assert fc.get_invocation(SVC, FN, "slow").status == "Running"
    assert [(r.route, r.status) for r in fc.requests] == [("invoke", 202)]


def test_latency_alone_still_answers(fc):
    fc.inject_fault("get", latency=0.1)
    with client(fc) as c:
        started = time.perf_counter()
        assert c.get_stateful_async_invocation(SVC, FN, "a").invocation_id == "a"
        assert time.perf_counter() - started >= 0.1


def test_connection_reset(fc):
    fc.inject_fault("get", reset=True)
    with client(fc) as c:
        with pytest.raises(TransportError) as err:
            c.get_stateful_async_invocation(SVC, FN, "a")
        assert not isinstance(err.value, RequestTimeoutError)
        assert c.get_stateful_async_invocation(SVC, FN, "a")
    assert fc.requests[0].status is None and fc.requests[0].fault
    assert fc.connections_accepted == 2


def test_connection_reset_is_retried_for_reads(fc):
    fc.inject_fault("get", reset=True, times=2)
    with client(fc, max_retries=2, backoff_factor=0.001) as c:
        assert c.get_stateful_async_invocation(SVC, FN, "a")
    assert fc.request_count("get") == 3


def test_truncated_body(fc):
    fc.inject_fault("get", truncate=True)
    with client(fc) as c:
        with pytest.raises(TransportError):
            c.get_stateful_async_invocation(SVC, FN, "a")
        assert c.get_stateful_async_invocation(SVC, FN, "a")


def test_truncated_invoke_still_created_the_invocation(fc):
    fc.inject_fault("invoke", truncate=True)
    with client(fc) as c:
        with pytest.raises(TransportError):
            c.invoke_async(SVC, FN, "", invocation_id="maybe")
    assert fc.get_invocation(SVC, FN, "maybe").status == "Running"


def test_html_error_page(fc):
    fc.inject_fault("get", 502, body="<html><body><h1>502 Bad Gateway</h1></body></html>")
    with client(fc) as c:
        with pytest.raises(ServerError) as err:
            c.get_stateful_async_invocation(SVC, FN, "a")
    assert err.value.code is None and err.value.http_status == 502
    assert "502 Bad Gateway" in str(err.value) and err.value.request_id


def test_non_json_success_body(fc):
    fc.inject_fault("get", 200, body=b"<html>login page</html>")
    with client(fc) as c:
        with pytest.raises(InvalidResponseError) as err:
            c.get_stateful_async_invocation(SVC, FN, "a")
    assert err.value.http_status == 200


def test_extra_fields_are_merged_and_ignored_by_the_client(fc):
    from email.utils import formatdate

    from pulumi_fc_invocation.signing import authorization

    fc.inject_fault("get", extra_fields={"newField": {"nested": 1}, "anotherOne": "x"}, times=2)
    fc.inject_fault("list", extra_fields={"pageInfo": 1})
    with client(fc) as c:
        assert c.get_stateful_async_invocation(SVC, FN, "a").invocation_id == "a"
        path = "/2016-08-15/services/svc/functions/fn/stateful-async-invocations/a"
        headers = {"Date": formatdate(usegmt=True)}
        headers["Authorization"] = authorization("GET", path, headers, fc.credentials.access_key_id,
                                                 fc.credentials.access_key_secret)
        raw = requests.get(fc.endpoint + path, headers=headers, timeout=5).json()
        assert raw["newField"] == {"nested": 1} and raw["invocationId"] == "a"
        assert {i.invocation_id for i in c.list_stateful_async_invocations(SVC, FN)} == {"a", "b"}
        assert "newField" not in requests.get(fc.endpoint + path, headers=headers, timeout=5).text


def test_fault_validation():
    with FcEmulator() as fc:
        with pytest.raises(ValueError):
            fc.inject_fault("delete")
        with pytest.raises(ValueError):
            fc.inject_fault("get", times=0)
        assert fc.inject_fault("get", code="ResourceExhausted").status == 429
        assert fc.inject_fault("get", body="<html/>").status == 502
        assert fc.inject_fault("get", latency=1).status is None


def test_a_fault_naming_a_code_answers_the_status_fc_gives_that_code(fc):
    """One table of FC's codes serves the API's own errors and a fault's default status alike."""
    with client(fc) as c:
        with pytest.raises(FcApiError) as real:
            c.get_stateful_async_invocation(SVC, FN, "a", qualifier="nope")
        fc.inject_fault("get", code="AliasNotFound")
        with pytest.raises(FcApiError) as injected:
            c.get_stateful_async_invocation(SVC, FN, "a")
    assert (real.value.code, real.value.http_status) == ("AliasNotFound", 404)
    assert (injected.value.code, injected.value.http_status) == ("AliasNotFound", 404)
    assert fc.inject_fault("invoke", code="StatefulAsyncInvocationAlreadyExists").status == 409
    assert fc.inject_fault("get", code="AsyncConfigNotExists").status == 404
    assert fc.inject_fault("stop", code="AsyncInvocationStopped").status == 412  # FC3-API.md's 412


def test_a_fault_with_a_code_fc_does_not_list_needs_its_status():
    """A typo or an unlisted code would otherwise answer some status FC never gives it, unnoticed."""
    with pytest.raises(ValueError, match="code 'AliasNotFuond' is not one of FC's error codes .* give status="):
        Fault(route="get", code="AliasNotFuond")
    assert Fault(route="get", code="MyProxysCode", status=418).status == 418


def test_stop_does_not_wait_for_a_sleeping_fault():
    import threading

    arrived = threading.Event()
    fc = FcEmulator(on_request=lambda record: arrived.set()).start()
    fc.add_invocation(SVC, FN, "a")
    fc.inject_fault("get", latency=30)
    errors = []

    def call():
        try:
            with client(fc, timeout=(1, 60)) as c:
                c.get_stateful_async_invocation(SVC, FN, "a")
        except Exception as exc:  # whatever the client sees once the server goes away
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    assert arrived.wait(5)  # the request is in: logged, then the fault's latency holds the answer
    started = time.perf_counter()
    fc.stop()
    thread.join(5)
    assert time.perf_counter() - started < 2 and not thread.is_alive()
