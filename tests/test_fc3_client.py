"""FcClient's FC 3.0 calls: against an in-process server that checks every byte that matters, then
against the emulator's FC 3.0 routes (virtual clock).

The server records the raw request line, and recomputes each ACS3-HMAC-SHA256 signature itself with
hashlib/hmac, following the rules the official vectors were made by (not with our signer), so a
signing bug cannot agree with itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit

import pytest

from pulumi_fc_invocation import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    Credentials,
    FcClient,
    InvalidArgumentError,
    InvalidResponseError,
    InvocationStatus,
    NotFoundError,
    PaginationError,
    ServerError,
    ThrottledError,
)
from _fc3_documented import DOCUMENTED as FC3_ERRORS  # FC3-API.md's error table, written out once
from pulumi_fc_invocation.fc3 import AsyncTaskRef, AsyncTaskResult
from pulumi_fc_invocation.testing import FcEmulator

KEY_ID = "LTAI5tFc3KeyId00001"
SECRET = "Very-Secret-Fc3-Key-Material-42"
TOKEN = "CAIS-sts-Fc3-Token-Material-43"
EMPTY_SHA = hashlib.sha256(b"").hexdigest()

TASK = {"taskId": "job-1", "functionArn": "acs:fc:cn-hangzhou:1234/functions/my-func", "qualifier": "prod",
        "status": "Running", "startedTime": 1700000000123, "endTime": 0, "requestId": "1-task",
        "taskPayload": "{\"k\": \"payload-secret\"}", "alreadyRetriedTimes": 1, "events": []}


# --- the checking server ------------------------------------------------------------------------


def _enc(text: str) -> str:
    return quote(text, safe="~")


def recompute_signature(method: str, raw_path: str, raw_query: str, headers: list[tuple[str, str]], body: bytes,
                        secret: str) -> tuple[str, str, str]:
    """(signature we expect, signature sent, SignedHeaders sent), by the V3 rules, from the raw request."""
    auth = next(v for k, v in headers if k.lower() == "authorization")
    assert auth.startswith("ACS3-HMAC-SHA256 Credential=")
    fields = dict(part.split("=", 1) for part in auth[len("ACS3-HMAC-SHA256 "):].split(","))
    signed_names = fields["SignedHeaders"].split(";")
    lowered: dict[str, list[str]] = {}
    for key, value in headers:
        lowered.setdefault(key.lower(), []).append(value.strip())
    canonical_headers = "".join(f"{name}:{','.join(sorted(lowered[name]))}\n" for name in signed_names)
    pairs = sorted(parse_qsl(raw_query, keep_blank_values=True))
    canonical_query = "&".join(f"{k}={_enc(v)}" for k, v in pairs)
    hashed = hashlib.sha256(body).hexdigest()
    canonical = "\n".join([method, raw_path, canonical_query, canonical_headers, fields["SignedHeaders"], hashed])
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    expected = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return expected, fields["Signature"], fields["SignedHeaders"]


@dataclass
class Seen:
    method: str
    path: str          # raw, as sent (percent-encoded)
    raw_query: str
    headers: list
    body: bytes

    @property
    def query(self) -> dict:
        return dict(parse_qsl(self.raw_query, keep_blank_values=True))

    def header(self, name: str):
        return next((v for k, v in self.headers if k.lower() == name), None)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"{}"
    headers: dict = field(default_factory=dict)


class Fc3Server:
    """Answers from a script; refuses (403 SignatureNotMatch) any request whose signature is wrong."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.seen: list[Seen] = []
        self.answers: list[Answer] = []
        self.bad_signatures = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                seen = Seen(self.command, parts.path, parts.query, list(self.headers.items()), body)
                outer.seen.append(seen)
                expected, sent, _ = recompute_signature(self.command, parts.path, parts.query, seen.headers, body,
                                                        outer.secret)
                if not hmac.compare_digest(expected, sent):
                    outer.bad_signatures += 1
                    answer = Answer(403, json.dumps({"Code": "SignatureNotMatch", "Message": "signature mismatch",
                                                     "RequestId": "1-sig"}).encode())
                else:
                    answer = outer.answers.pop(0) if outer.answers else Answer(
                        404, b'{"Code":"PathNotSupported","Message":"no script","RequestId":"1-none"}')
                self.send_response(answer.status)
                headers = {"Content-Type": "application/json", **answer.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_PUT = do_POST = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def answer(self, status: int = 200, body=b"{}", **headers: str) -> "Fc3Server":
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        self.answers.append(Answer(status, body.encode() if isinstance(body, str) else body, headers))
        return self

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture
def server():
    with Fc3Server() as s:
        yield s


def client_for(server, token=TOKEN, **kw):
    kw.setdefault("credentials", Credentials(KEY_ID, SECRET, token))
    kw.setdefault("backoff_factor", 0.01)
    return FcClient(endpoint=server.endpoint, account_id="1234567890123456", **kw)


def _check_signed(seen: Seen, server: Fc3Server, action: str, *, sts: bool = True, body: bytes = b"") -> set:
    expected, sent, signed = recompute_signature(seen.method, seen.path, seen.raw_query, seen.headers, seen.body,
                                                 server.secret)
    assert sent == expected
    names = set(signed.split(";"))
    assert {"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce",
            "x-acs-content-sha256", "accept", "user-agent"} <= names
    assert "authorization" not in names and "accept-encoding" not in names and "content-length" not in names
    assert seen.header("host") == server.host
    assert seen.header("x-acs-action") == action and seen.header("x-acs-version") == "2023-03-30"
    assert seen.header("x-acs-content-sha256") == hashlib.sha256(body).hexdigest()
    assert len(seen.header("x-acs-signature-nonce")) == 32
    stamp = datetime.strptime(seen.header("x-acs-date"), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - stamp).total_seconds()) < 120
    if sts:
        assert seen.header("x-acs-security-token") == TOKEN and seen.header("x-acs-accesskey-id") == KEY_ID
        assert {"x-acs-security-token", "x-acs-accesskey-id"} <= names
    else:
        assert seen.header("x-acs-security-token") is None
    assert f"Credential={KEY_ID}," in seen.header("authorization")
    # No FC 2.0 signature material on an FC 3.0 call.
    assert seen.header("date") is None and seen.header("x-fc-security-token") is None
    return names


# --- GetAsyncTask -------------------------------------------------------------------------------


def test_get_async_task_is_signed_and_parsed(server):
    server.answer(200, TASK)
    task = client_for(server).get_async_task("my-func", "job-1", qualifier="prod")
    assert isinstance(task, AsyncTaskResult)
    assert task.status is InvocationStatus.RUNNING and task.function_name == "my-func" and task.end_time is None
    (seen,) = server.seen
    assert seen.method == "GET" and seen.path == "/2023-03-30/functions/my-func/async-tasks/job-1"
    assert seen.raw_query == "qualifier=prod"
    _check_signed(seen, server, "GetAsyncTask")
    assert server.bad_signatures == 0


def test_get_async_task_without_qualifier_or_token(server):
    server.answer(200, TASK)
    client_for(server, token=None).get_async_task("my-func", "job-1")
    (seen,) = server.seen
    assert seen.raw_query == ""
    _check_signed(seen, server, "GetAsyncTask", sts=False)


def test_fc2_function_through_fc3_is_percent_encoded_and_signed_so(server):
    server.answer(200, {**TASK, "functionArn": "acs:fc:cn-hangzhou:1234/functions/video$transcode"})
    task = client_for(server).get_async_task("video$transcode", "job-1", qualifier="LATEST")
    assert task.function_name == "video$transcode"
    assert str(task.ref) == "video$transcode.prod/job-1"
    (seen,) = server.seen
    assert seen.path == "/2023-03-30/functions/video%24transcode/async-tasks/job-1"
    _check_signed(seen, server, "GetAsyncTask")


def test_the_name_asked_for_wins_over_the_arn(server):
    """A 2.0 function's FC 3.0 ARN may name service and function apart: the result names what was read."""
    arn = "acs:fc:cn-hangzhou:1234:services/video.LATEST/functions/transcode"
    server.answer(200, {**TASK, "functionArn": arn}).answer(200, {"tasks": [{**TASK, "functionArn": arn}]})
    client = client_for(server)
    task = client.get_async_task("video$transcode", "job-1")
    assert task.function_name == "video$transcode" and task.function_arn == arn
    (listed,) = list(client.list_async_tasks("video$transcode"))
    assert listed.function_name == "video$transcode"


def test_get_by_ref_or_two_segment_id(server):
    from pulumi_fc_invocation.fc3 import AsyncTaskRef

    server.answer(200, TASK).answer(200, TASK)
    client = client_for(server)
    assert isinstance(client.get("my-func.prod/job-1"), AsyncTaskResult)
    assert isinstance(client.get(AsyncTaskRef.parse("my-func.prod/job-1")), AsyncTaskResult)
    for seen in server.seen:
        assert seen.path == "/2023-03-30/functions/my-func/async-tasks/job-1" and seen.query == {"qualifier": "prod"}


@pytest.mark.parametrize("args,argument", [
    (("my.func", "job-1"), "function_name"),
    (("9func", "job-1"), "function_name"),
    (("my-func", "job/1"), "task_id"),
    (("my-func", ""), "task_id"),
    (("my-func", "job-1", "a.b"), "qualifier"),
])
def test_bad_names_fail_before_any_request(server, args, argument):
    client = client_for(server)
    for call in (client.get_async_task, client.stop_async_task):
        with pytest.raises(InvalidArgumentError) as info:
            call(*args)
        assert info.value.argument == argument
    assert server.seen == []


def test_a_wrong_secret_is_refused_as_authentication(server):
    client = client_for(server, credentials=Credentials(KEY_ID, "not-the-secret"))
    with pytest.raises(AuthenticationError) as info:
        client.get_async_task("my-func", "job-1")
    assert info.value.code == "SignatureNotMatch" and info.value.request_id == "1-sig"
    assert info.value.http_status == 403
    assert server.bad_signatures == 1


# --- errors ---------------------------------------------------------------------------------------




@pytest.mark.parametrize("status,code,cls", FC3_ERRORS, ids=[c for _, c, _ in FC3_ERRORS])
def test_every_fc3_error_code_becomes_its_class(server, status, code, cls):
    body = {"Code": code, "Message": f"{code} happened", "RequestId": "1-64e70cf1-5cbef92ea8fc8c42899cf5d1"}
    for _ in range(6):  # throttling is retried: answer every attempt the same
        server.answer(status, body)
    client = client_for(server, max_retries=1, retry_budget=2)
    with pytest.raises(cls) as info:
        client.get_async_task("my-func", "job-1")
    error = info.value
    assert (error.code, error.message, error.request_id, error.http_status) == (
        code, f"{code} happened", "1-64e70cf1-5cbef92ea8fc8c42899cf5d1", status)
    assert type(error) is cls


def test_error_body_in_lower_case_and_request_id_header(server):
    server.answer(404, {"code": "FunctionNotFound", "message": "no such function"}, **{"x-acs-request-id": "1-hdr"})
    with pytest.raises(NotFoundError) as info:
        client_for(server).get_async_task("my-func", "job-1")
    assert info.value.code == "FunctionNotFound" and info.value.request_id == "1-hdr"


def test_non_json_error_is_still_classified(server):
    server.answer(502, b"<html>Bad Gateway</html>")
    server.answer(502, b"<html>Bad Gateway</html>")
    with pytest.raises(ServerError) as info:
        client_for(server, max_retries=1).get_async_task("my-func", "job-1")
    assert info.value.code is None and info.value.http_status == 502 and "Bad Gateway" in info.value.message


def test_retry_is_signed_afresh(server):
    server.answer(503, {"Code": "ResourceThrottled", "Message": "slow down", "RequestId": "1-a"})
    server.answer(200, TASK)
    client_for(server).get_async_task("my-func", "job-1")
    first, second = server.seen
    assert server.bad_signatures == 0
    assert first.header("x-acs-signature-nonce") != second.header("x-acs-signature-nonce")


def test_invalid_body_is_invalid_response(server):
    server.answer(200, {"taskId": "job-1"})  # no status
    with pytest.raises(InvalidResponseError):
        client_for(server).get_async_task("my-func", "job-1")


# --- secret hygiene -----------------------------------------------------------------------------


def test_no_secret_or_payload_in_errors_reprs_or_logs(server, caplog):
    caplog.set_level(logging.DEBUG, logger="pulumi_fc_invocation")
    server.answer(200, TASK)
    server.answer(403, {"Code": "AccessDenied", "Message": f"token {TOKEN} and key {SECRET} denied",
                        "RequestId": "1-x"})
    client = client_for(server)
    task = client.get_async_task("my-func", "job-1")
    with pytest.raises(AuthenticationError) as info:
        client.get_async_task("my-func", "job-1")
    texts = [repr(client), repr(task), str(task), str(info.value), repr(info.value),
             str(info.value.body_excerpt), caplog.text]
    for text in texts:
        assert SECRET not in text and TOKEN not in text and "payload-secret" not in text


# --- ListAsyncTasks -----------------------------------------------------------------------------


def _task(i: int, **kw) -> dict:
    return {**TASK, "taskId": f"job-{i}", **kw}


def test_list_sends_fc3_query_and_follows_tokens(server):
    server.answer(200, {"tasks": [_task(1), _task(2)], "nextToken": "tok/+= a\n"})
    server.answer(200, {"tasks": [_task(3)], "nextToken": ""})
    started = datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    items = client_for(server).list_async_tasks(
        "my-func", qualifier="LATEST", status="running", prefix="job a", started_after=started,
        started_before=1700003600000, sort="asc", include_payload=True)
    assert server.seen == []  # lazily: nothing until iterated
    tasks = list(items)
    assert [t.task_id for t in tasks] == ["job-1", "job-2", "job-3"]
    first, second = server.seen
    assert first.method == "GET" and first.path == "/2023-03-30/functions/my-func/async-tasks"
    assert first.query == {"qualifier": "LATEST", "status": "Running", "prefix": "job a",
                           "startedTimeBegin": "1700000000000", "startedTimeEnd": "1700003600000",
                           "sortOrderByTime": "asc", "includePayload": "true", "limit": "100"}
    assert "+" not in first.raw_query and "prefix=job%20a" in first.raw_query  # %20 on the wire, as signed
    assert second.query["nextToken"] == "tok/+= a\n"  # passed back byte-exact
    assert "nextToken=tok%2F%2B%3D%20a%0A" in second.raw_query
    for seen in server.seen:
        _check_signed(seen, server, "ListAsyncTasks")


def test_list_limit_bounds_items_and_page_size(server):
    server.answer(200, {"tasks": [_task(1), _task(2)], "nextToken": "t2"})
    server.answer(200, {"tasks": [_task(3)], "nextToken": "t3"})
    tasks = list(client_for(server).list_async_tasks("my-func", limit=3, page_size=2))
    assert [t.task_id for t in tasks] == ["job-1", "job-2", "job-3"]
    assert [s.query["limit"] for s in server.seen] == ["2", "1"]


def test_list_stops_on_a_cycling_token(server):
    server.answer(200, {"tasks": [_task(1)], "nextToken": "a"})
    server.answer(200, {"tasks": [_task(2)], "nextToken": "b"})
    server.answer(200, {"tasks": [_task(3)], "nextToken": "a"})
    with pytest.raises(PaginationError):
        list(client_for(server).list_async_tasks("my-func"))


def test_list_page(server):
    server.answer(200, {"tasks": [_task(1)], "nextToken": "next"})
    items, token = client_for(server).list_async_tasks_page("my-func", next_token="prev", status="Failed")
    assert [t.task_id for t in items] == ["job-1"] and token == "next"
    assert server.seen[0].query["nextToken"] == "prev" and server.seen[0].query["status"] == "Failed"


@pytest.mark.parametrize("kwargs,argument", [
    ({"sort": "up"}, "sort"), ({"status": "Paused"}, "status"), ({"limit": 0}, "limit"),
    ({"prefix": ""}, "prefix"), ({"started_after": "soon"}, "started_after"), ({"qualifier": "x.y"}, "qualifier"),
    ({"include_payload": 1}, "include_payload"),
])
def test_list_arguments_checked_before_any_request(server, kwargs, argument):
    with pytest.raises(InvalidArgumentError) as info:
        client_for(server).list_async_tasks("my-func", **kwargs)
    assert info.value.argument == argument
    assert server.seen == []


# --- StopAsyncTask ------------------------------------------------------------------------------


def test_stop_is_a_signed_put_on_stop(server):
    server.answer(200, b"", **{"x-acs-request-id": "1-stop"})
    request_id = client_for(server).stop_async_task("my-func", "job-1", qualifier="1")
    assert request_id == "1-stop"
    (seen,) = server.seen
    assert seen.method == "PUT" and seen.path == "/2023-03-30/functions/my-func/async-tasks/job-1/stop"
    assert seen.query == {"qualifier": "1"} and seen.body == b""
    _check_signed(seen, server, "StopAsyncTask")


def test_stop_of_a_finished_task_is_refused(server):
    server.answer(400, {"Code": "InvalidArgument", "Message": "task already finished", "RequestId": "1-s"})
    with pytest.raises(BadRequestError) as info:
        client_for(server).stop_async_task("my-func", "job-1")
    assert info.value.code == "InvalidArgument"


# --- InvokeFunction (async) ---------------------------------------------------------------------


def test_invoke_async_task_with_id(server):
    server.answer(202, b"", **{"x-acs-request-id": "1-inv"})
    task_id = client_for(server).invoke_async_task("my-func", b'{"video": 1}', task_id="job-9", qualifier="prod")
    assert task_id == "job-9"
    (seen,) = server.seen
    assert seen.method == "POST" and seen.path == "/2023-03-30/functions/my-func/invocations"
    assert seen.query == {"qualifier": "prod"} and seen.body == b'{"video": 1}'
    assert seen.header("x-fc-invocation-type") == "Async" and seen.header("x-fc-async-task-id") == "job-9"
    assert seen.header("content-type") == "application/octet-stream"
    names = _check_signed(seen, server, "InvokeFunction", body=b'{"video": 1}')
    assert {"x-fc-invocation-type", "x-fc-async-task-id", "content-type"} <= names


def test_invoke_async_task_without_id_sends_one_and_returns_it(server):
    server.answer(202, b"")
    task_id = client_for(server).invoke_async_task("my-func", "text payload")
    (seen,) = server.seen
    assert task_id and seen.header("x-fc-async-task-id") == task_id
    assert seen.body == b"text payload"
    from pulumi_fc_invocation.fc3 import validate_task_id

    assert validate_task_id(task_id) == task_id


def test_invoke_is_not_retried(server):
    server.answer(503, {"Code": "ResourceThrottled", "Message": "busy", "RequestId": "1-b"})
    server.answer(202, b"")
    with pytest.raises(ThrottledError):
        client_for(server).invoke_async_task("my-func", b"x", task_id="job-1")
    assert len(server.seen) == 1


def test_invoke_checks_before_sending(server):
    client = client_for(server)
    with pytest.raises(InvalidArgumentError, match="task_id"):
        client.invoke_async_task("my-func", b"x", task_id="9bad")
    with pytest.raises(InvalidArgumentError, match="payload"):
        client.invoke_async_task("my-func", 12)
    assert server.seen == []


def test_duplicate_task_id_is_a_conflict(server):
    server.answer(409, {"Code": "AsyncTaskAlreadyExists", "Message": "exists", "RequestId": "1-d"})
    with pytest.raises(ConflictError):
        client_for(server).invoke_async_task("my-func", task_id="job-1")


# --- against the emulator's FC 3.0 routes (virtual clock) ---------------------------------------

@pytest.fixture
def fc():
    with FcEmulator(clock="virtual") as emulator:
        emulator.add_function(None, "render", qualifiers=["prod"], duration=5, return_payload='{"frames": 12}')
        emulator.add_function(None, "crash", outcome="Failed", duration=2, error_message="OOM")
        emulator.add_function(None, "slow", outcome="Running")
        emulator.add_function(None, "notasks", async_task=False)
        emulator.add_function("video", "transcode", duration=1)  # FC 2.0; through FC 3.0: video$transcode
        yield emulator


def test_emulator_lifecycle_get(fc):
    with fc.client(backoff_factor=0.01) as client:
        assert client.invoke_async_task("render", b'{"n": 1}', task_id="job-1", qualifier="prod") == "job-1"
        first = client.get_async_task("render", "job-1", qualifier="prod")
        assert not first.is_terminal and first.function_name == "render" and first.qualifier == "prod"
        fc.advance(10)
        done = client.get("render.prod/job-1")
    assert done.succeeded and done.is_terminal and done.return_payload == '{"frames": 12}'
    assert done.task_payload == '{"n": 1}' and done.end_time is not None and done.started_time is not None
    assert done.ref == AsyncTaskRef.parse("render.prod/job-1") and done.request_id
    assert done.function_arn.endswith(":functions/render")


def test_emulator_failed_task(fc):
    with fc.client() as client:
        client.invoke_async_task("crash", task_id="bad-1")
        fc.advance(5)
        task = client.get_async_task("crash", "bad-1")
    assert task.status is InvocationStatus.FAILED and task.task_error_message == "OOM" and not task.succeeded


def test_emulator_generated_task_id(fc):
    with fc.client() as client:
        task_id = client.invoke_async_task("render")
        assert client.get_async_task("render", task_id).task_id == task_id


def test_emulator_list_filters_and_pages(fc):
    with fc.client() as client:
        for i in range(7):
            client.invoke_async_task("render", task_id=f"batch-{i}", qualifier="prod")
            fc.advance(1)
        client.invoke_async_task("render", task_id="other-1", qualifier="prod")
        fc.advance(10)
        fc.reset_requests()
        tasks = list(client.list_async_tasks("render", qualifier="prod", prefix="batch-", page_size=3, sort="asc"))
        assert [t.task_id for t in tasks] == [f"batch-{i}" for i in range(7)]
        assert fc.request_count("list") == 3  # 3 + 3 + 1, following nextToken
        assert all(t.task_payload is None for t in tasks)
        with_payload = list(client.list_async_tasks("render", qualifier="prod", prefix="batch-0",
                                                    include_payload=True))
        assert with_payload[0].task_payload == ""  # an empty body was sent
        assert [t.task_id for t in client.list_async_tasks("render", qualifier="prod", limit=2)] == [
            "other-1", "batch-6"]  # newest first
        assert list(client.list_async_tasks("render", qualifier="prod", status="Running")) == []


def test_emulator_stop(fc):
    with fc.client() as client:
        client.invoke_async_task("slow", task_id="run-1")
        fc.advance(1)
        assert client.stop_async_task("slow", "run-1")
        fc.advance(1)
        assert client.get_async_task("slow", "run-1").status in (InvocationStatus.STOPPED, InvocationStatus.STOPPING)


def test_emulator_errors_are_classified(fc):
    with fc.client() as client:
        with pytest.raises(NotFoundError) as info:
            client.get_async_task("render", "nope")
        assert info.value.code == "AsyncTaskNotFound" and info.value.request_id and info.value.http_status == 404
        with pytest.raises(NotFoundError) as info:
            client.get_async_task("ghost", "t")
        assert info.value.code == "FunctionNotFound"
        client.invoke_async_task("render", task_id="dup-1")
        with pytest.raises(ConflictError):
            client.invoke_async_task("render", task_id="dup-1")
    with fc.client(credentials=Credentials(fc.credentials.access_key_id, "wrong-secret")) as bad:
        with pytest.raises(AuthenticationError) as info:
            bad.get_async_task("render", "dup-1")
    assert info.value.code == "SignatureNotMatch"


def test_emulator_task_mode_off_leaves_no_task(fc):
    with fc.client() as client:
        task_id = client.invoke_async_task("notasks", task_id="lost-1")
        with pytest.raises(NotFoundError):
            client.get_async_task("notasks", task_id)


def test_emulator_fault_is_retried_within_the_budget(fc):
    fc.inject_fault("get", 503, "ResourceThrottled", times=2, api="2023-03-30")
    with fc.client(backoff_factor=0.01) as client:
        client.invoke_async_task("render", task_id="j-1")
        assert client.get_async_task("render", "j-1").task_id == "j-1"
    assert fc.request_count("get") == 3


def test_emulator_sts_token(fc):
    creds = fc.add_credentials("STS.fc3key", "sts-secret", "sts-token-value")
    with fc.client(credentials=creds) as client:
        client.invoke_async_task("render", task_id="sts-1")
        assert client.get_async_task("render", "sts-1").task_id == "sts-1"
    with fc.client(credentials=Credentials("STS.fc3key", "sts-secret")) as no_token:
        with pytest.raises(AuthenticationError) as info:
            no_token.get_async_task("render", "sts-1")
    assert info.value.code == "InvalidSecurityToken"


def test_emulator_both_apis_on_one_client(fc):
    """One client, one endpoint: an FC 2.0 function read through FC 3.0 (service$function) and through 2.0."""
    with fc.client() as client:
        client.invoke_async("video", "transcode", "{}", invocation_id="old-1")
        fc.advance(5)
        through_fc3 = client.get("video$transcode/old-1")
        through_fc2 = client.get("video/transcode/old-1")
    assert isinstance(through_fc3, AsyncTaskResult) and through_fc3.function_name == "video$transcode"
    assert through_fc3.succeeded and through_fc2.succeeded and through_fc2.invocation_id == "old-1"
    apis = {r.api for r in fc.requests}
    assert {"2016-08-15", "2023-03-30"} <= apis
