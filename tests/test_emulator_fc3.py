"""The emulator's FC 3.0 (2023-03-30) API, with the official `alibabacloud-fc20230330` SDK as the client.

Plus raw ACS3-signed requests (``signing.acs3_sign_request`` + requests) for what the SDK cannot
send: every FC 3.0 error code the emulator answers, and every fault kind.
"""

from __future__ import annotations

import json
import time

import pytest
import requests

from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as Fc3Client
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_tea_openapi.models import Config
from darabonba.runtime import RuntimeOptions

from pulumi_fc_invocation.signing import acs3_date, acs3_percent_encode, acs3_sign_request, authorization
from pulumi_fc_invocation.testing import FcEmulator

from _emulator_cli import serving

ACCOUNT = "1234567890123456"


@pytest.fixture
def fc():
    with FcEmulator(clock="virtual") as emulator:
        emulator.add_function(None, "transcode", qualifiers=["prod", "3"], duration=5, return_payload="done")
        yield emulator


def sdk(fc, *, key_id=None, secret=None, token=None) -> Fc3Client:
    config = Config(access_key_id=key_id or fc.credentials.access_key_id,
                    access_key_secret=secret or fc.credentials.access_key_secret,
                    security_token=token, endpoint=f"127.0.0.1:{fc.port}", protocol="http")
    return Fc3Client(config)


def invoke(client, function, payload=b"{}", *, task_id=None, qualifier=None, kind="Async"):
    headers = fc3_models.InvokeFunctionHeaders(x_fc_invocation_type=kind, x_fc_async_task_id=task_id)
    request = fc3_models.InvokeFunctionRequest(body=payload, qualifier=qualifier)
    return client.invoke_function_with_options(function, request, headers, RuntimeOptions())


def get(client, function, task_id, qualifier=None):
    return client.get_async_task(function, task_id, fc3_models.GetAsyncTaskRequest(qualifier=qualifier)).body


def raw(fc, method, path, *, query=None, body=b"", headers=None, key_id=None, secret=None, token=None,
        date=None, version="2023-03-30", sign=True):
    """An ACS3-signed request as any client would send it (the query encoded as it is signed)."""
    headers = {"host": f"127.0.0.1:{fc.port}", "x-acs-version": version, "x-acs-action": "Test", **(headers or {})}
    if sign:
        headers.update(acs3_sign_request(
            method, path, query=query, headers=headers, body=body,
            access_key_id=key_id or fc.credentials.access_key_id,
            access_key_secret=secret or fc.credentials.access_key_secret, security_token=token, date=date))
    qs = "&".join(f"{k}={acs3_percent_encode(v)}" for k, v in (query or {}).items())
    url = f"{fc.endpoint}{path}" + (f"?{qs}" if qs else "")
    return requests.request(method, url, data=body, headers=headers, timeout=10)


def error_of(response):
    body = response.json()
    assert set(body) == {"Code", "Message", "RequestId"}, body
    assert body["RequestId"] == response.headers["X-Fc-Request-Id"]
    return response.status_code, body["Code"]


# --- the official SDK as the client -----------------------------------------------------------------


def test_sdk_async_invoke_get_list_stop(fc):
    client = sdk(fc)
    response = invoke(client, "transcode", b'{"video": 1}', task_id="job-1", qualifier="prod")
    assert response.status_code == 202
    assert response.headers["x-fc-async-task-id"] == "job-1"

    task = get(client, "transcode", "job-1", qualifier="prod")
    assert (task.task_id, task.status, task.qualifier) == ("job-1", "Running", "prod")
    assert task.function_arn == f"acs:fc:cn-hangzhou:{ACCOUNT}:functions/transcode"
    assert task.task_payload == '{"video": 1}'
    fc.advance(5)
    task = get(client, "transcode", "job-1")
    assert (task.status, task.return_payload, task.end_time - task.started_time) == ("Succeeded", "done", 5000)
    assert [e.status for e in task.events] == ["Enqueued", "Running", "Succeeded"]

    generated = invoke(client, "transcode").headers["x-fc-async-task-id"]
    assert get(client, "transcode", generated).status == "Running"

    invoke(client, "transcode", task_id="job-2")
    client.stop_async_task("transcode", "job-2", fc3_models.StopAsyncTaskRequest())
    assert get(client, "transcode", "job-2").status == "Stopped"

    page = client.list_async_tasks("transcode", fc3_models.ListAsyncTasksRequest(prefix="job")).body
    assert [t.task_id for t in page.tasks] == ["job-2", "job-1"]
    assert page.tasks[0].task_payload is None and not page.next_token


def test_sdk_list_filters_and_paging(fc):
    client = sdk(fc)
    for i in range(5):
        invoke(client, "transcode", f'{{"n": {i}}}'.encode(), task_id=f"job-{i}", qualifier="prod" if i % 2 else None)
        fc.advance(1)
    invoke(client, "transcode", task_id="other-1")
    started = [get(client, "transcode", f"job-{i}").started_time for i in range(5)]

    seen, token = [], None
    while True:
        page = client.list_async_tasks("transcode", fc3_models.ListAsyncTasksRequest(
            prefix="job", limit=2, next_token=token, sort_order_by_time="asc", include_payload=True)).body
        seen += [(t.task_id, t.task_payload) for t in page.tasks]
        token = page.next_token
        if not token:
            break
    assert seen == [(f"job-{i}", f'{{"n": {i}}}') for i in range(5)]

    def ids(**kw):
        return [t.task_id for t in client.list_async_tasks("transcode", fc3_models.ListAsyncTasksRequest(**kw)).body.tasks]

    assert ids(qualifier="prod") == ["job-3", "job-1"]
    assert ids(started_time_begin=started[1], started_time_end=started[3], prefix="job") == ["job-3", "job-2", "job-1"]
    assert ids(status="Succeeded") == ["job-0"]  # 5 s later, only the first has finished
    assert ids(status="Running", prefix="job-4") == ["job-4"]


def test_sdk_wrong_secret_is_refused(fc):
    with pytest.raises(AlibabaCloudException) as err:
        get(sdk(fc, secret="not-the-secret"), "transcode", "job-1")
    assert (err.value.status_code, err.value.code) == (403, "SignatureNotMatch")
    assert err.value.request_id and err.value.request_id != "None"
    assert "not-the-secret" not in str(err.value)
    with pytest.raises(AlibabaCloudException) as err:
        get(sdk(fc, key_id="LTAIunknown"), "transcode", "job-1")
    assert (err.value.status_code, err.value.code) == (403, "InvalidAccessKeyID")


def test_sdk_sts_credentials_and_their_expiry_on_the_emulator_clock(fc):
    issued = fc.add_credentials("STS.issued", "sts-secret", "CAIS-token/+=", expires_at=fc.now() + 900)
    client = sdk(fc, key_id=issued.access_key_id, secret=issued.access_key_secret, token=issued.security_token)
    invoke(client, "transcode", task_id="job-sts")
    assert get(client, "transcode", "job-sts").status == "Running"
    with pytest.raises(AlibabaCloudException) as err:
        get(sdk(fc, key_id="STS.issued", secret="sts-secret", token="other-token"), "transcode", "job-sts")
    assert (err.value.status_code, err.value.code) == (403, "InvalidSecurityToken")
    fc.advance(900)
    with pytest.raises(AlibabaCloudException) as err:
        get(client, "transcode", "job-sts")
    assert (err.value.status_code, err.value.code) == (403, "SecurityTokenExpired")
    assert "CAIS-token" not in str(err.value)
    fc.add_credentials("STS.issued", "sts-secret", "CAIS-token/+=", expires_at=fc.now() + 900)  # refreshed
    assert get(client, "transcode", "job-sts").status == "Succeeded"


def test_sdk_payload_directive_and_sync_invoke(fc):
    client = sdk(fc)
    directive = json.dumps({"fcEmulator": {"status": "Failed", "after": 2, "error": "Boom", "retries": 1}}).encode()
    invoke(client, "transcode", directive, task_id="job-f")
    fc.advance(2)
    task = get(client, "transcode", "job-f")
    assert (task.status, task.already_retried_times, task.task_error_message) == ("Retrying", 1, "Boom")
    fc.advance(3)
    task = get(client, "transcode", "job-f")
    assert (task.status, task.task_error_message) == ("Failed", "Boom")

    ok = invoke(client, "transcode", b"{}", kind="Sync")
    assert (ok.status_code, ok.body.read()) == (200, b"done")
    failed = invoke(client, "transcode", json.dumps({"fcEmulator": {"status": "Failed"}}).encode(), kind="Sync")
    assert failed.headers["x-fc-error-type"] == "UnhandledInvocationError"
    with pytest.raises(AlibabaCloudException) as err:
        invoke(client, "transcode", b'{"fcEmulator": {"statsu": "Failed"}}', task_id="job-typo")
    assert (err.value.status_code, err.value.code) == (400, "InvalidArgument")


def test_a_2_0_function_is_service_dollar_function_through_3_0(fc):
    fc.add_function("video", "encode", qualifiers=["prod"], duration=3)
    client = sdk(fc)
    invoke(client, "video$encode", task_id="job-x", qualifier="prod")  # the SDK sends video%24encode
    assert fc.get_invocation("video", "encode", "job-x").status == "Running"
    task = get(client, "video$encode", "job-x")
    assert task.function_arn.endswith(":functions/video$encode")
    # the same task through the 2016-08-15 API
    path = "/2016-08-15/services/video.prod/functions/encode/stateful-async-invocations/job-x"
    headers = {"Date": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()), "Content-Type": "application/json"}
    headers["Authorization"] = authorization("GET", path, headers, fc.credentials.access_key_id,
                                             fc.credentials.access_key_secret)
    body = requests.get(fc.endpoint + path, headers=headers, timeout=10).json()
    assert (body["invocationId"], body["serviceName"], body["functionName"]) == ("job-x", "video", "encode")
    assert [r.api for r in fc.requests] == ["2023-03-30", "2023-03-30", "2016-08-15"]
    with pytest.raises(ValueError, match=r"\$"):
        fc.add_function(None, "video$encode")


def test_task_mode_must_be_switched_on_per_function(fc):
    fc.add_function(None, "plain", async_task=False)
    client = sdk(fc)
    assert invoke(client, "plain", task_id="job-1").status_code == 202  # accepted and run, but not a task
    with pytest.raises(AlibabaCloudException) as err:
        get(client, "plain", "job-1")
    assert (err.value.status_code, err.value.code) == (404, "AsyncTaskNotFound")
    assert fc.backend.untracked == 1
    with pytest.raises(AlibabaCloudException) as err:
        client.get_async_invoke_config("plain", fc3_models.GetAsyncInvokeConfigRequest())
    assert (err.value.status_code, err.value.code) == (404, "AsyncConfigNotExists")

    config = fc3_models.PutAsyncInvokeConfigInput(async_task=True, max_async_retry_attempts=1)
    stored = client.put_async_invoke_config("plain", fc3_models.PutAsyncInvokeConfigRequest(body=config)).body
    assert stored.async_task is True and stored.function_arn.endswith(":functions/plain")
    invoke(client, "plain", task_id="job-2")
    assert get(client, "plain", "job-2").status == "Running"
    assert client.get_async_invoke_config("plain", fc3_models.GetAsyncInvokeConfigRequest()).body.async_task

    client.delete_async_invoke_config("plain", fc3_models.DeleteAsyncInvokeConfigRequest())
    invoke(client, "plain", task_id="job-3")
    with pytest.raises(AlibabaCloudException):
        get(client, "plain", "job-3")


# --- every FC 3.0 error code -----------------------------------------------------------------------


TASKS = "/2023-03-30/functions/transcode/async-tasks"


def test_every_fc3_error_code(fc):
    invoke(sdk(fc), "transcode", task_id="done")
    fc.advance(10)
    cases = [
        # (status, code, request)
        (400, "MissingRequiredHeader", lambda: raw(fc, "GET", TASKS, sign=False)),
        (400, "InvalidArgument", lambda: raw(fc, "GET", TASKS, query={"limit": "101"})),
        (400, "InvalidArgument", lambda: raw(fc, "GET", TASKS, query={"status": "Done"})),
        (400, "InvalidArgument", lambda: raw(fc, "GET", TASKS, query={"nextToken": "garbage"})),
        (400, "InvalidArgument", lambda: raw(fc, "GET", TASKS, query={"sortOrderByTime": "up"})),
        (400, "InvalidArgument", lambda: raw(fc, "PUT", TASKS + "/done/stop")),  # already finished
        (400, "InvalidArgument", lambda: raw(fc, "POST", "/2023-03-30/functions/transcode/invocations",
                                             headers={"x-fc-invocation-type": "Async",
                                                      "x-fc-async-task-id": "9-starts-with-a-digit"})),
        (400, "InvalidArgument", lambda: raw(fc, "GET", TASKS, version="2021-04-06")),  # x-acs-version
        (400, "EntityTooLarge", lambda: raw(fc, "POST", "/2023-03-30/functions/transcode/invocations",
                                            body=b"x" * (128 * 1024 + 1), headers={"x-fc-invocation-type": "Async"})),
        (400, "PathNotSupported", lambda: raw(fc, "DELETE", TASKS)),
        (403, "SignatureNotMatch", lambda: raw(fc, "GET", TASKS, secret="wrong")),
        (403, "InvalidAccessKeyID", lambda: raw(fc, "GET", TASKS, key_id="LTAInobody")),
        (403, "RequestTimeTooSkewed", lambda: raw(fc, "GET", TASKS, date=time.time() - 3600)),
        (403, "InvalidSecurityToken", lambda: raw(fc, "GET", TASKS, token="unexpected")),
        (404, "FunctionNotFound", lambda: raw(fc, "GET", "/2023-03-30/functions/nope/async-tasks")),
        (404, "FunctionNotFound", lambda: raw(fc, "GET", "/2023-03-30/functions/nosvc%24fn/async-tasks")),
        (404, "VersionNotFound", lambda: raw(fc, "GET", TASKS, query={"qualifier": "7"})),
        (404, "AliasNotFound", lambda: raw(fc, "GET", TASKS, query={"qualifier": "staging"})),
        (404, "AsyncTaskNotFound", lambda: raw(fc, "GET", TASKS + "/missing")),
        (404, "AsyncTaskNotFound", lambda: raw(fc, "GET", TASKS + "/done", query={"qualifier": "prod"})),
        (404, "AsyncConfigNotExists", lambda: raw(fc, "GET", "/2023-03-30/functions/transcode/async-invoke-config")),
        (409, "AsyncTaskAlreadyExists", lambda: raw(fc, "POST", "/2023-03-30/functions/transcode/invocations",
                                                    headers={"x-fc-invocation-type": "Async",
                                                             "x-fc-async-task-id": "done"})),
    ]
    for status, code, send in cases:
        response = send()
        assert error_of(response) == (status, code), (code, response.text)
    fc.add_credentials("STS.old", "old-secret", "tok", expired=True)
    response = raw(fc, "GET", TASKS, key_id="STS.old", secret="old-secret", token="tok")
    assert error_of(response) == (403, "SecurityTokenExpired")
    # the FC (2016-08-15) signature is refused on a 3.0 path, and the message says which one is expected
    response = requests.get(fc.endpoint + TASKS, headers={"Authorization": "FC key:sig"}, timeout=10)
    assert error_of(response) == (403, "SignatureNotMatch") and "ACS3-HMAC-SHA256" in response.json()["Message"]
    # a tampered query: the canonical request the emulator computed is in the message, the token masked
    headers = {"host": f"127.0.0.1:{fc.port}", "x-acs-version": "2023-03-30"}
    headers.update(acs3_sign_request("GET", TASKS, query={"limit": "5"}, headers=headers, access_key_id="STS.old",
                                     access_key_secret="old-secret", security_token="tok"))
    response = requests.get(fc.endpoint + TASKS + "?limit=6", headers=headers, timeout=10)
    assert error_of(response) == (403, "SignatureNotMatch")
    assert "limit=6" in response.json()["Message"] and "tok\\n" not in response.json()["Message"]


def test_the_sdk_wire_format_for_list_is_accepted(fc):
    """The SDK sends spaces as '+' and booleans as 'True' while signing '%20': both verified and understood."""
    client = sdk(fc)
    fc.add_function(None, "spaced")
    invoke(client, "spaced", b"p", task_id="job_a")
    page = client.list_async_tasks("spaced", fc3_models.ListAsyncTasksRequest(
        prefix="job a", include_payload=True)).body  # no task has a space: an empty page, but verified
    assert page.tasks == []
    page = client.list_async_tasks("spaced", fc3_models.ListAsyncTasksRequest(prefix="job_", include_payload=True))
    assert page.body.tasks[0].task_payload == "p"
    assert fc.requests[-1].query["includePayload"] == "True"


# --- every fault kind, on FC 3.0 routes --------------------------------------------------------------


def test_faults_on_fc3_routes(fc):
    client = sdk(fc)
    invoke(client, "transcode", task_id="job-1")

    fc.inject_fault("get", 503, retry_after=2)
    response = raw(fc, "GET", TASKS + "/job-1")
    assert error_of(response) == (503, "ResourceThrottled") and response.headers["Retry-After"] == "2"

    fc.inject_fault("get", code="AccessDenied", message="denied by policy")
    with pytest.raises(AlibabaCloudException) as err:
        get(client, "transcode", "job-1")
    assert (err.value.status_code, err.value.code) == (403, "AccessDenied")

    fc.inject_fault("list", body="<html>bad gateway</html>")
    response = raw(fc, "GET", TASKS)
    assert (response.status_code, response.text) == (502, "<html>bad gateway</html>")

    fc.inject_fault("get", reset=True)
    with pytest.raises(requests.ConnectionError):
        raw(fc, "GET", TASKS + "/job-1")

    fc.inject_fault("get", latency=0.3)
    started = time.monotonic()
    assert raw(fc, "GET", TASKS + "/job-1").status_code == 200
    assert time.monotonic() - started >= 0.3

    fc.inject_fault("invoke", truncate=True)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        raw(fc, "POST", "/2023-03-30/functions/transcode/invocations", body=b"{}",
            headers={"x-fc-invocation-type": "Async", "x-fc-async-task-id": "job-trunc"}).content
    assert fc.get_invocation(None, "transcode", "job-trunc").status == "Running"  # it did happen

    fc.inject_fault("list", extra_fields={"newField": 1})
    body = raw(fc, "GET", TASKS).json()
    assert body["newField"] == 1 and all(t["newField"] == 1 for t in body["tasks"])

    fc.inject_fault("get", 500, match="job-other")
    assert raw(fc, "GET", TASKS + "/job-1").status_code == 200  # another task id: not this fault
    fc.clear_faults()

    fc.inject_fault("get", 500, api="2016-08-15")  # another revision: not this one
    assert raw(fc, "GET", TASKS + "/job-1").status_code == 200
    fc.clear_faults()
    fc.inject_fault("get", 500, api="2023-03-30", times=2)
    assert error_of(raw(fc, "GET", TASKS + "/job-1")) == (500, "InternalServerError")
    assert fc.requests[-1].fault and fc.requests[-1].api == "2023-03-30" and fc.requests[-1].route == "get"
    with pytest.raises(ValueError, match="api"):
        fc.inject_fault("get", api="2099-01-01")
    fc.clear_faults()
    fc.inject_fault("get", code="AsyncTaskNotFound")  # a code alone gets its status
    assert error_of(raw(fc, "GET", TASKS + "/job-1")) == (404, "AsyncTaskNotFound")
    for status, code in [(429, "ResourceExhausted"), (409, "ConcurrentUpdateError"), (412, "AsyncInvocationStopped"),
                         (500, "InternalServerError"), (503, "ResourceThrottled")]:
        fc.inject_fault("stop", status, code)
        with pytest.raises(AlibabaCloudException) as err:
            client.stop_async_task("transcode", "job-1", fc3_models.StopAsyncTaskRequest())
        assert (err.value.status_code, err.value.code) == (status, code)
    assert get(client, "transcode", "job-1").status == "Running"  # a faulted stop did not happen


def test_scenario_with_fc3_functions_and_expiring_credentials(tmp_path):
    scenario = {
        "functions": [{"service": None, "function": "render", "duration": 2, "asyncTask": True}],
        "invocations": [{"service": None, "function": "render", "invocationId": "seeded", "startedAgo": 1}],
        "credentials": [{"accessKeyId": "STS.s", "accessKeySecret": "s", "securityToken": "t", "expiresIn": 60}],
    }
    with FcEmulator(clock="virtual", scenario=scenario) as fc:
        client = sdk(fc, key_id="STS.s", secret="s", token="t")
        assert get(client, "render", "seeded").status == "Running"
        fc.advance(60)
        with pytest.raises(AlibabaCloudException) as err:
            get(client, "render", "seeded")
        assert err.value.code == "SecurityTokenExpired"
    with pytest.raises(ValueError, match="service"):
        FcEmulator(scenario={"functions": [{"function": "render"}]})


def test_skew_is_checked_against_real_time_not_the_virtual_clock(fc):
    fc.advance(86400)  # a day of virtual time: signatures made with the real time still pass
    assert raw(fc, "GET", TASKS).status_code == 200
    assert acs3_date(0) == "1970-01-01T00:00:00Z"



def test_emulator_cli_serves_an_fc3_function(capsys):
    from pulumi_fc_invocation.testing import emulator_cli

    assert emulator_cli.main(["--port", "0", "--fc3-function", "bad/name"]) == 2
    assert "invalid --fc3-function 'bad/name'" in capsys.readouterr().err
    with serving("--port", "0", "--fc3-function", "render.prod", "--quiet") as served:
        assert any(l.startswith("serving FC 3.0 function render.prod") for l in served.lines)
        client = Fc3Client(served.sdk_config())
        invoke(client, "render", task_id="cli-1", qualifier="prod")
        assert get(client, "render", "cli-1").status == "Running"  # 10 s by default, on the real clock
        with pytest.raises(AlibabaCloudException) as err:
            get(client, "demo$job", "cli-1")  # no default 2.0 function beside --fc3-function
        assert err.value.code == "FunctionNotFound"


@pytest.mark.parametrize("authorization", [
    "ACS3-HMAC-SHA256", "ACS3-HMAC-SHA256 Credential=", "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=,Signature=zz",
    "ACS3-HMAC-SHA256 Credential=LTAIfcEmulatorKey01,SignedHeaders=host,Signature=" + "0" * 64,
    "ACS3-HMAC-SHA256 Credential=LTAIfcEmulatorKey01,SignedHeaders=x-acs-date;x-acs-content-sha256;"
    "x-acs-signature-nonce;nope,Signature=" + "ab" * 32,
    "ACS3-HMAC-SHA256 Credential=\u00e9,SignedHeaders=host,Signature=00", "\u00e9" * 300,
])
def test_hostile_acs3_authorization_is_refused_cleanly(fc, authorization):
    headers = {"Authorization": authorization.encode("utf-8").decode("latin-1"),
               "x-acs-date": "2026-12-01T00:00:00Z\u00e9".encode("utf-8").decode("latin-1"),
               "x-acs-signature-nonce": "n", "x-acs-content-sha256": "x"}
    response = requests.get(fc.endpoint + TASKS + "?limit=%ZZ&prefix=%C3", headers=headers, timeout=10)
    status, code = error_of(response)
    assert status in (400, 403) and code in ("MissingRequiredHeader", "SignatureNotMatch", "InvalidAccessKeyID",
                                            "InvalidArgument"), response.text
