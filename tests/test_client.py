import json
import logging
import time
from email.utils import parsedate_to_datetime

import pytest

from pulumi_fc_invocation import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    Credentials,
    FcApiError,
    FcClient,
    InvalidArgumentError,
    InvalidResponseError,
    InvocationStatus,
    NotFoundError,
    ServerError,
    ThrottledError,
    TransportError,
    __version__,
)
from pulumi_fc_invocation.signing import authorization

from _scripted_server import ScriptedServer

SECRET = "Very-Secret-Key-Material-42"
TOKEN = "CAIS-sts-Token-Material-43"
BODY = json.dumps({"serviceName": "video", "functionName": "transcode", "qualifier": "prod",
                   "invocationId": "video-123", "status": "Running", "startedTime": 1764192647000, "endTime": 0,
                   "requestId": "r1", "invocationPayload": "{\"k\":\"v\"}", "alreadyRetriedTimes": 1})


@pytest.fixture
def server():
    with ScriptedServer() as s:
        yield s


def client_for(server, **kw):
    kw.setdefault("credentials", Credentials("LTAIkey0000000001", SECRET, TOKEN))
    kw.setdefault("backoff_factor", 0.01)
    return FcClient(endpoint=server.endpoint, account_id="1234567890123456", **kw)


def test_read_sends_a_correctly_signed_request(server):
    server.reply(200, BODY)
    result = client_for(server).get_stateful_async_invocation("video", "transcode", "video-123", qualifier="prod")
    assert result.status is InvocationStatus.RUNNING and result.already_retried_times == 1
    assert result.end_time is None and result.invocation_payload == '{"k":"v"}'
    (req,) = server.requests
    assert req.method == "GET"
    assert req.path == "/2016-08-15/services/video.prod/functions/transcode/stateful-async-invocations/video-123"
    h = {k.lower(): v for k, v in req.headers.items()}
    assert h["content-type"] == "application/json"
    assert h["x-fc-account-id"] == "1234567890123456"
    assert h["x-fc-security-token"] == TOKEN
    assert h["user-agent"].startswith(f"pulumi-fc-invocation/{__version__} ")
    date = parsedate_to_datetime(h["date"])
    assert h["date"].endswith(" GMT") and abs(time.time() - date.timestamp()) < 60
    signed = {k: v for k, v in h.items() if k in ("date", "content-type") or k.startswith("x-fc-")}
    assert h["authorization"] == authorization("GET", req.path, signed, "LTAIkey0000000001", SECRET)


def test_composite_get_and_no_qualifier(server):
    server.reply(200, BODY)
    client_for(server).get("video/transcode/video-123")
    assert server.requests[0].path.startswith("/2016-08-15/services/video/functions/transcode/")


def test_bad_input_is_refused_before_any_request(server):
    client = client_for(server)
    with pytest.raises(InvalidArgumentError, match="invocation_id"):
        client.get_stateful_async_invocation("video", "transcode", "1-bad")
    with pytest.raises(InvalidArgumentError, match="limit"):
        client.list_stateful_async_invocations("video", "transcode", limit=0)
    with pytest.raises(InvalidArgumentError, match="status"):
        client.list_stateful_async_invocations("video", "transcode", status="Done")
    with pytest.raises(InvalidArgumentError, match="timeout"):
        FcClient(endpoint=server.endpoint, credentials=Credentials("k", "s"), timeout=-1)
    assert server.requests == []


@pytest.mark.parametrize("status,code,cls", [
    (400, "InvalidArgument", BadRequestError),
    (400, "MissingRequiredHeader", BadRequestError),
    (403, "AccessDenied", AuthenticationError),
    (403, "SignatureNotMatch", AuthenticationError),
    (403, "InvalidAccessKeyID", AuthenticationError),
    (403, "RequestTimeTooSkewed", AuthenticationError),
    (404, "ServiceNotFound", NotFoundError),
    (404, "FunctionNotFound", NotFoundError),
    (404, "AliasNotFound", NotFoundError),
    (404, "VersionNotFound", NotFoundError),
    (404, "StatefulAsyncInvocationNotFound", NotFoundError),
    (409, "ConcurrentUpdateError", ConflictError),
    (429, "ResourceExhausted", ThrottledError),
    (500, "InternalServerError", ServerError),
    (502, "BadGateway", ServerError),
    (503, "ResourceThrottled", ThrottledError),
])
@pytest.mark.parametrize("casing", ["ErrorCode", "errorCode"])
def test_every_error_class_from_a_real_response(server, status, code, cls, casing):
    msg_key = "ErrorMessage" if casing == "ErrorCode" else "errorMessage"
    server.reply(status, json.dumps({casing: code, msg_key: f"message for {code}"}), **{"X-Fc-Request-Id": "rid-77"})
    with pytest.raises(cls) as info:
        client_for(server, max_retries=0).get("video/transcode/x")
    err = info.value
    assert isinstance(err, FcApiError)
    assert (err.code, err.message, err.request_id, err.http_status) == (code, f"message for {code}", "rid-77", status)
    assert code in str(err) and "rid-77" in str(err)


@pytest.mark.parametrize("status,body,cls", [
    (502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", ServerError),
    (503, b"", ThrottledError),
    (200, b"<html>maintenance</html>", InvalidResponseError),
    (200, b'{"invocationId": "a", "stat', InvalidResponseError),
    (200, b'{"hello": "world"}', InvalidResponseError),
    (200, b'[1, 2]', InvalidResponseError),
])
def test_non_fc_bodies_are_classified(server, status, body, cls):
    server.reply(status, body, **{"X-Fc-Request-Id": "rid-9"})
    with pytest.raises(cls) as info:
        client_for(server, max_retries=0).get("video/transcode/x")
    err = info.value
    assert err.http_status == status and err.request_id == "rid-9"
    assert f"HTTP {status}" in str(err)
    if body.startswith(b"<html>"):
        assert "maintenance" in str(err) or "Bad Gateway" in str(err)


def test_retry_on_503_honours_retry_after(server):
    server.reply(503, '{"ErrorCode":"ResourceThrottled","ErrorMessage":"slow down"}', **{"Retry-After": "1"})
    server.reply(200, BODY)
    started = time.monotonic()
    result = client_for(server).get("video/transcode/video-123")
    elapsed = time.monotonic() - started
    assert result.invocation_id == "video-123"
    assert len(server.requests) == 2
    assert elapsed >= 0.9  # it waited as told, not its own (10 ms) backoff


def test_retries_are_bounded_and_then_classified(server):
    for _ in range(10):
        server.reply(503, '{"ErrorCode":"ResourceThrottled","ErrorMessage":"slow down"}')
    with pytest.raises(ThrottledError) as info:
        client_for(server, max_retries=3).get("video/transcode/video-123")
    assert info.value.code == "ResourceThrottled"
    assert len(server.requests) == 4


def test_retry_after_beyond_the_budget_fails_now(server):
    server.reply(429, '{"ErrorCode":"ResourceExhausted","ErrorMessage":"quota"}', **{"Retry-After": "3600"})
    started = time.monotonic()
    with pytest.raises(ThrottledError):
        client_for(server, retry_budget=5).get("video/transcode/video-123")
    assert len(server.requests) == 1 and time.monotonic() - started < 5


def test_no_retry_on_404(server):
    server.reply(404, '{"ErrorCode":"StatefulAsyncInvocationNotFound","ErrorMessage":"nope"}')
    server.reply(200, BODY)
    with pytest.raises(NotFoundError):
        client_for(server).get("video/transcode/video-123")
    assert len(server.requests) == 1


def test_connection_refused_is_a_transport_error():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    client = FcClient(endpoint=f"http://127.0.0.1:{port}", credentials=Credentials("k", SECRET), max_retries=1,
                      backoff_factor=0.01)
    with pytest.raises(TransportError) as info:
        client.get("video/transcode/video-123")
    assert f"127.0.0.1:{port}" in str(info.value) and SECRET not in str(info.value)


def test_list_follows_next_token_and_sends_filters(server):
    item = lambda i: {"invocationId": f"job-{i}", "status": "Succeeded", "serviceName": "video", "functionName": "t"}
    server.reply(200, json.dumps({"invocations": [item(1), item(2)], "nextToken": "tok-2"}))
    server.reply(200, json.dumps({"invocations": [item(3)], "nextToken": ""}))
    got = list(client_for(server).list_stateful_async_invocations(
        "video", "t", qualifier="LATEST", status="Succeeded", prefix="job-", started_after=1000,
        started_before="1970-01-01T00:00:02Z", sort="asc", include_payload=True, page_size=2))
    assert [r.invocation_id for r in got] == ["job-1", "job-2", "job-3"]
    first, second = server.requests
    assert first.path == "/2016-08-15/services/video.LATEST/functions/t/stateful-async-invocations"
    assert first.query == {"limit": ["2"], "sortOrderByTime": ["asc"], "status": ["Succeeded"],
                           "invocationIdPrefix": ["job-"], "startedTimeBegin": ["1000"],
                           "startedTimeEnd": ["2000"], "includePayload": ["true"]}
    assert second.query["nextToken"] == ["tok-2"]


def test_list_limit_bounds_items_and_requests(server):
    item = lambda i: {"invocationId": f"job-{i}", "status": "Running"}
    server.reply(200, json.dumps({"invocations": [item(i) for i in range(3)], "nextToken": "more"}))
    got = list(client_for(server).list_stateful_async_invocations("video", "t", limit=3))
    assert len(got) == 3 and len(server.requests) == 1
    assert server.requests[0].query["limit"] == ["3"]


def test_no_secret_in_logs_or_errors(server, caplog):
    caplog.set_level(logging.DEBUG)
    server.reply(403, '{"ErrorCode":"SignatureNotMatch","ErrorMessage":"signature mismatch"}')
    server.reply(503, "<html>down</html>")
    server.reply(200, BODY)
    client = client_for(server, max_retries=0)
    texts = []
    for _ in range(2):
        with pytest.raises(FcApiError) as info:
            client.get("video/transcode/video-123")
        texts += [str(info.value), repr(info.value)]
    client.get("video/transcode/video-123")
    texts += [r.getMessage() for r in caplog.records]
    texts.append(repr(client))
    assert any("video-123" in t for t in texts)  # logging did happen
    blob = "\n".join(texts)
    assert SECRET not in blob and TOKEN not in blob
    auth = server.requests[0].headers["Authorization"]
    assert auth.split(":")[1] not in blob


def test_client_is_shared_by_threads_with_keep_alive(server):
    from concurrent.futures import ThreadPoolExecutor
    for _ in range(40):
        server.reply(200, BODY)
    client = client_for(server)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: client.get("video/transcode/video-123"), range(40)))
    assert all(r.invocation_id == "video-123" for r in results)


def test_proxies_come_from_the_given_environment_mapping():
    env = {"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": "internal.example,.corp.example",
           "ALICLOUD_ACCESS_KEY": "k", "ALICLOUD_SECRET_KEY": SECRET}
    client = FcClient(endpoint="https://1.cn-hangzhou.fc.aliyuncs.com", environ=env, home="/nonexistent")
    assert client.transport.session.proxies.get("https") == "http://proxy.corp:3128"
    bypass = FcClient(endpoint="https://fc.corp.example", environ=env, home="/nonexistent")
    assert "https" not in bypass.transport.session.proxies


def test_an_account_id_with_a_line_break_is_refused_before_any_request(server):
    with pytest.raises(InvalidArgumentError, match="account_id") as info:
        FcClient(endpoint=server.endpoint, account_id="123\n", credentials=Credentials("k", SECRET, TOKEN))
    assert TOKEN not in str(info.value) and SECRET not in str(info.value)
    assert server.requests == []


def test_a_bounded_view_is_a_client_that_closes_what_it_shares(server):
    """client.bounded(s) is an FcClient (isinstance, ``with``): its reads go through this client's
    connections, and leaving its ``with`` closes them, as closing the client does."""
    server.reply(200, BODY)
    from pulumi_fc_invocation.clock import call_budget

    client = client_for(server)
    view = client.bounded(5)
    assert isinstance(view, FcClient) and view is not client and client.bounded(call_budget) is client
    with view as same:
        assert same is view
        assert same.get("video.prod/transcode/video-123").status is InvocationStatus.RUNNING
        pools = client.transport.session.get_adapter(server.endpoint).poolmanager.pools
        assert len(pools) == 1
    assert len(pools) == 0
    with pytest.raises(InvalidArgumentError, match="seconds"):
        client.bounded(0)
