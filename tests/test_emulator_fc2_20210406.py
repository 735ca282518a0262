"""The emulator's FC 2.0 2021-04-06 revision, with the official `alibabacloud-fc-open20210406` SDK as the client.

Also: a task started through one revision is read through the others, JSON-encoded header values
(as some builds of that SDK send them) are accepted, and the revision's error bodies.
"""

from __future__ import annotations

import time

import pytest
import requests

from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as Fc3Client
from alibabacloud_fc_open20210406 import models as fc2_models
from alibabacloud_fc_open20210406.client import Client as Fc2Client
from alibabacloud_tea_openapi.models import Config
from alibabacloud_tea_util.models import RuntimeOptions
from darabonba.runtime import RuntimeOptions as Fc3RuntimeOptions

from pulumi_fc_invocation.signing import acs3_percent_encode, acs3_sign_request, authorization
from pulumi_fc_invocation.testing import FcEmulator


@pytest.fixture
def fc():
    with FcEmulator(clock="virtual") as emulator:
        emulator.add_function("video", "transcode", qualifiers=["prod"], duration=5, return_payload="done")
        yield emulator


def config(fc, **overrides):
    values = dict(access_key_id=fc.credentials.access_key_id, access_key_secret=fc.credentials.access_key_secret,
                  endpoint=f"127.0.0.1:{fc.port}", protocol="http")
    values.update(overrides)
    return Config(**values)


def invoke(client, service, function, payload=b"{}", *, invocation_id=None, qualifier=None, enable=None):
    headers = fc2_models.InvokeFunctionHeaders(x_fc_invocation_type="Async",
                                               x_fc_stateful_async_invocation_id=invocation_id,
                                               x_fc_stateful_async_invocation_enable=enable)
    request = fc2_models.InvokeFunctionRequest(body=payload, qualifier=qualifier)
    return client.invoke_function_with_options(service, function, request, headers, RuntimeOptions())


def get(client, service, function, invocation_id, qualifier=None):
    request = fc2_models.GetStatefulAsyncInvocationRequest(qualifier=qualifier)
    return client.get_stateful_async_invocation(service, function, invocation_id, request).body


def listing(client, service, function, **kwargs):
    request = fc2_models.ListStatefulAsyncInvocationsRequest(**kwargs)
    return client.list_stateful_async_invocations(service, function, request).body


def test_sdk_async_invoke_get_list_stop(fc):
    client = Fc2Client(config(fc))
    response = invoke(client, "video", "transcode", b'{"v": 1}', invocation_id="job-1", qualifier="prod")
    assert response.status_code == 202
    assert response.headers["x-fc-stateful-async-invocation-id"] == "job-1"

    state = get(client, "video", "transcode", "job-1", qualifier="prod")
    assert (state.invocation_id, state.status, state.qualifier, state.service_name) == ("job-1", "Running", "prod", "video")
    assert state.invocation_payload == '{"v": 1}'
    fc.advance(5)
    state = get(client, "video", "transcode", "job-1")
    assert (state.status, state.return_payload) == ("Succeeded", "done")
    assert [e.status for e in state.events] == ["Enqueued", "Running", "Succeeded"]

    invoke(client, "video", "transcode", invocation_id="job-2")
    client.stop_stateful_async_invocation("video", "transcode", "job-2",
                                          fc2_models.StopStatefulAsyncInvocationRequest())
    assert get(client, "video", "transcode", "job-2").status == "Stopped"

    generated = invoke(client, "video", "transcode").headers["x-fc-stateful-async-invocation-id"]
    assert get(client, "video", "transcode", generated).status == "Running"
    assert {r.api for r in fc.requests} == {"2021-04-06"}


def test_sdk_list_filters_and_paging(fc):
    client = Fc2Client(config(fc))
    for i in range(5):
        invoke(client, "video", "transcode", f'{{"n": {i}}}'.encode(), invocation_id=f"job-{i}",
               qualifier="prod" if i % 2 else None)
        fc.advance(1)
    invoke(client, "video", "transcode", invocation_id="other-1")

    seen, token = [], None
    while True:
        page = listing(client, "video", "transcode", invocation_id_prefix="job", limit=2, next_token=token,
                       sort_order_by_time="asc", include_payload=True)
        seen += [(i.invocation_id, i.invocation_payload) for i in page.invocations]
        token = page.next_token
        if not token:
            break
    assert seen == [(f"job-{i}", f'{{"n": {i}}}') for i in range(5)]

    def ids(**kw):
        return [i.invocation_id for i in listing(client, "video", "transcode", **kw).invocations]

    assert ids(qualifier="prod") == ["job-3", "job-1"]
    assert ids(status="Succeeded") == ["job-0"]
    started = get(client, "video", "transcode", "job-2").started_time
    assert ids(started_time_begin=started, invocation_id_prefix="job") == ["job-4", "job-3", "job-2"]
    assert listing(client, "video", "transcode", invocation_id_prefix="job-4").invocations[0].invocation_payload is None


def test_sdk_wrong_secret_is_refused(fc):
    client = Fc2Client(config(fc, access_key_secret="not-the-secret"))
    with pytest.raises(Exception) as err:
        get(client, "video", "transcode", "job-1")
    assert getattr(err.value, "code", None) == "SignatureNotMatch"
    assert getattr(err.value, "status_code", None) == 403 or "403" in str(err.value)
    assert "not-the-secret" not in str(err.value)
    assert fc.requests[-1].status == 403


def test_a_task_started_through_one_revision_is_read_through_the_others(fc):
    fc2 = Fc2Client(config(fc))
    fc3 = Fc3Client(config(fc))
    invoke(fc2, "video", "transcode", invocation_id="from-2021", qualifier="prod")
    task = fc3.get_async_task("video$transcode", "from-2021", fc3_models.GetAsyncTaskRequest(qualifier="prod")).body
    assert (task.task_id, task.status) == ("from-2021", "Running")

    headers = fc3_models.InvokeFunctionHeaders(x_fc_invocation_type="Async", x_fc_async_task_id="from-3")
    fc3.invoke_function_with_options("video$transcode", fc3_models.InvokeFunctionRequest(body=b"{}"), headers,
                                     Fc3RuntimeOptions())
    fc.advance(5)
    assert get(fc2, "video", "transcode", "from-3").status == "Succeeded"

    path = "/2016-08-15/services/video/functions/transcode/stateful-async-invocations/from-2021"
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
    signed = {"Date": date, "Content-Type": "application/json"}
    signed["Authorization"] = authorization("GET", path, signed, fc.credentials.access_key_id,
                                            fc.credentials.access_key_secret)
    assert requests.get(fc.endpoint + path, headers=signed, timeout=10).json()["status"] == "Succeeded"
    assert [r.api for r in fc.requests] == ["2021-04-06", "2023-03-30", "2023-03-30", "2021-04-06", "2016-08-15"]


def _raw(fc, method, path, *, query=None, headers=None, body=b"", secret=None):
    headers = {"host": f"127.0.0.1:{fc.port}", "x-acs-version": "2021-04-06", **(headers or {})}
    headers.update(acs3_sign_request(method, path, query=query, headers=headers, body=body,
                                     access_key_id=fc.credentials.access_key_id,
                                     access_key_secret=secret or fc.credentials.access_key_secret))
    qs = "&".join(f"{k}={acs3_percent_encode(v)}" for k, v in (query or {}).items())
    return requests.request(method, fc.endpoint + path + (f"?{qs}" if qs else ""), headers=headers, data=body,
                            timeout=10)


INVOKE = "/2021-04-06/services/video/functions/transcode/invocations"
TASKS = "/2021-04-06/services/video/functions/transcode/stateful-async-invocations"


def test_json_encoded_header_values_are_accepted(fc):
    """Builds of the SDK that json.dumps every header value send "Async" with its quotes."""
    response = _raw(fc, "POST", INVOKE, headers={"X-Fc-Invocation-Type": '"Async"',
                                                 "X-Fc-Stateful-Async-Invocation-Id": '"job-q"',
                                                 "X-Fc-Stateful-Async-Invocation-Enable": "true"})
    assert response.status_code == 202 and response.headers["X-Fc-Stateful-Async-Invocation-Id"] == "job-q"
    assert fc.get_invocation("video", "transcode", "job-q").status == "Running"
    assert fc.requests[-1].invocation_id == "job-q"


def test_the_per_request_switch_records_a_task_when_task_mode_is_off(fc):
    fc.add_function("video", "plain", async_task=False)
    client = Fc2Client(config(fc))
    invoke(client, "video", "plain", invocation_id="untracked")
    with pytest.raises(Exception) as err:
        get(client, "video", "plain", "untracked")
    assert err.value.code == "StatefulAsyncInvocationNotFound"
    invoke(client, "video", "plain", invocation_id="tracked", enable=True)
    assert get(client, "video", "plain", "tracked").status == "Running"


def test_error_bodies_of_the_2021_04_06_revision(fc):
    _raw(fc, "POST", INVOKE, headers={"X-Fc-Invocation-Type": "Async", "X-Fc-Stateful-Async-Invocation-Id": "d"})
    fc.advance(10)
    cases = [
        (404, "ServiceNotFound", lambda: _raw(fc, "GET", "/2021-04-06/services/nope/functions/f/stateful-async-invocations")),
        (404, "FunctionNotFound", lambda: _raw(fc, "GET", "/2021-04-06/services/video/functions/nope/stateful-async-invocations")),
        (404, "AliasNotFound", lambda: _raw(fc, "GET", TASKS, query={"qualifier": "staging"})),
        (404, "StatefulAsyncInvocationNotFound", lambda: _raw(fc, "GET", TASKS + "/missing")),
        (409, "StatefulAsyncInvocationAlreadyExists", lambda: _raw(
            fc, "POST", INVOKE, headers={"X-Fc-Invocation-Type": "Async", "X-Fc-Stateful-Async-Invocation-Id": "d"})),
        (400, "InvalidArgument", lambda: _raw(fc, "PUT", TASKS + "/d")),  # already finished
        (400, "InvalidArgument", lambda: _raw(fc, "GET", TASKS, query={"limit": "0"})),
        (400, "InvalidArgument", lambda: _raw(fc, "POST", INVOKE, headers={
            "X-Fc-Invocation-Type": "Async", "X-Fc-Stateful-Async-Invocation-Enable": "maybe"})),
        (403, "SignatureNotMatch", lambda: _raw(fc, "GET", TASKS, secret="wrong")),
        (400, "MissingRequiredHeader", lambda: requests.get(fc.endpoint + TASKS, timeout=10)),
    ]
    for status, code, send in cases:
        response = send()
        body = response.json()
        assert (response.status_code, body["ErrorCode"], body["Code"]) == (status, code, code), response.text
        assert body["ErrorMessage"] == body["Message"] and body["RequestId"] == response.headers["X-Fc-Request-Id"]
    fc.inject_fault("list", 503, api="2021-04-06")
    response = _raw(fc, "GET", TASKS)
    assert (response.status_code, response.json()["Code"]) == (503, "ResourceThrottled")


@pytest.mark.parametrize("api", ["2016-08-15", "2021-04-06", "2023-03-30"])
def test_credentials_expire_on_the_emulator_clock_for_every_revision(fc, api):
    """What H4's STS stand-in relies on: add_credentials(expires_at=) -> SecurityTokenExpired once the clock passes it."""
    fc.add_credentials("STS.t", "t-secret", "tok-1", expires_at=fc.now() + 60)

    def send():
        if api == "2016-08-15":
            path = "/2016-08-15/services/video/functions/transcode/stateful-async-invocations"
            headers = {"Date": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()),
                       "X-Fc-Security-Token": "tok-1"}
            headers["Authorization"] = authorization("GET", path, headers, "STS.t", "t-secret")
            return requests.get(fc.endpoint + path, headers=headers, timeout=10)
        path = TASKS if api == "2021-04-06" else "/2023-03-30/functions/video%24transcode/async-tasks"
        headers = {"host": f"127.0.0.1:{fc.port}", "x-acs-version": api}
        headers.update(acs3_sign_request("GET", path, headers=headers, access_key_id="STS.t",
                                         access_key_secret="t-secret", security_token="tok-1"))
        return requests.get(fc.endpoint + path, headers=headers, timeout=10)

    assert send().status_code == 200
    fc.advance(59)
    assert send().status_code == 200
    fc.advance(1)
    response = send()
    body = response.json()
    code = body.get("ErrorCode") or body.get("Code")
    assert (response.status_code, code) == (403, "SecurityTokenExpired")
    assert ("Code" in body) == (api != "2016-08-15") and ("ErrorCode" in body) == (api != "2023-03-30")
    assert "tok-1" not in response.text
    assert fc.remove_credentials("STS.t") and not fc.remove_credentials("STS.t")
    body = send().json()
    assert (body.get("ErrorCode") or body.get("Code")) == "InvalidAccessKeyID"
    with pytest.raises(ValueError, match="expires_at"):
        fc.add_credentials("STS.u", "s", "t", expires_at="tomorrow")
