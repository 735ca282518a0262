"""FC 3.0 models: naming rules, AsyncTaskRef, AsyncTaskResult, paths, list query, error bodies."""

import json
import pickle
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pulumi_fc_invocation import InvalidArgumentError, InvocationStatus
from pulumi_fc_invocation.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    ServerError,
    ThrottledError,
)
from _fc3_documented import DOCUMENTED
from pulumi_fc_invocation.fc3 import (
    ERROR_CODES,
    AsyncTaskPage,
    AsyncTaskRef,
    AsyncTaskResult,
    error_class,
    function_name_from_arn,
    invocations_path,
    list_query,
    parse_error_body,
    percent_encode,
    stop_path,
    task_path,
    tasks_path,
    validate_function_name,
    validate_qualifier,
    validate_task_id,
)

# The GetAsyncTask sample of FC3-API.md's AsyncTask table: epoch-ms times, functionArn and no functionName.
SAMPLE = {
    "taskId": "job-123",
    "requestId": "1-64e70cf1-5cbef92ea8fc8c42899cf5d1",
    "qualifier": "prod",
    "instanceId": "c-64e70cf1-1234",
    "functionArn": "acs:fc:cn-shanghai:1234/functions/my-func",
    "status": "Succeeded",
    "destinationStatus": "Succeeded",
    "taskErrorMessage": "",
    "taskPayload": '{"key1":"value1"}',
    "returnPayload": "secret-output",
    "alreadyRetriedTimes": 2,
    "durationMs": 1500,
    "startedTime": 1700000000123,
    "endTime": 1700000001623,
    "events": [{"eventId": 1, "status": "Enqueued", "timestamp": 1700000000000, "eventDetail": "queued"},
               {"eventId": 2, "status": "Succeeded", "timestamp": 1700000001623, "eventDetail": ""}],
}

T0 = datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=timezone.utc)


# --- naming rules -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["fn", "_x", "A-b_9", "a" * 128, "svc$fn", "my-svc$my_fn", "s" * 128 + "$" + "f" * 64])
def test_function_names_accepted(name):
    assert validate_function_name(name) == name


@pytest.mark.parametrize("name", ["", "9fn", "-fn", "fn.prod", "a/b", "a" * 129, "fn$", "$fn", "a$b$c", "a$9b",
                                  "s" * 129 + "$f", "s$" + "f" * 65, "fn ", "fñ", None, 3])
def test_function_names_refused_naming_argument_and_rule(name):
    with pytest.raises(InvalidArgumentError) as info:
        validate_function_name(name)
    assert info.value.argument == "function_name"
    assert "letters, digits" in info.value.rule and "SERVICE$FUNCTION" in info.value.rule


@pytest.mark.parametrize("bad", ["", "9x", "a.b", "a/b", "t" * 129, "x y"])
def test_task_ids_refused(bad):
    with pytest.raises(InvalidArgumentError, match="task_id") as info:
        validate_task_id(bad)
    assert "1-128" in info.value.rule


def test_new_task_ids_are_valid_and_distinct():
    from pulumi_fc_invocation.fc3 import new_task_id

    ids = {new_task_id() for _ in range(100)}
    assert len(ids) == 100 and all(validate_task_id(i) == i for i in ids)


@pytest.mark.parametrize("good", [None, "LATEST", "1", "12345", "prod", "blue-green_2"])
def test_qualifiers_accepted(good):
    assert validate_qualifier(good) == good


@pytest.mark.parametrize("bad", ["", "a.b", "a/b", "-x", "x$y", 1])
def test_qualifiers_refused(bad):
    with pytest.raises(InvalidArgumentError, match="qualifier"):
        validate_qualifier(bad)


# --- AsyncTaskRef -------------------------------------------------------------------------------


def test_ref_parse_and_str():
    ref = AsyncTaskRef.parse("my-func.prod/job-123")
    assert (ref.function_name, ref.qualifier, ref.task_id) == ("my-func", "prod", "job-123")
    assert str(ref) == "my-func.prod/job-123"
    plain = AsyncTaskRef.parse("my-func/job-123")
    assert plain.qualifier is None and str(plain) == "my-func/job-123"


def test_ref_fc2_function_through_fc3():
    ref = AsyncTaskRef.parse("video$transcode.LATEST/job-1")
    assert ref.function_name == "video$transcode" and ref.qualifier == "LATEST"
    assert str(ref) == "video$transcode.LATEST/job-1"
    assert ref.path == "/2023-03-30/functions/video%24transcode/async-tasks/job-1"
    assert ref.query == {"qualifier": "LATEST"}


@pytest.mark.parametrize("text,needle", [
    ("svc.prod/fn/job", "FC 2.0 id"),   # three segments: a 2.0 id, said so
    ("fn", "FUNCTION[.QUALIFIER]/TASK_ID"),
    ("fn/a/b/c", "FUNCTION[.QUALIFIER]/TASK_ID"),
    ("fn./job", "qualifier after '.' is empty"),
    ("fn.a.b/job", "qualifier"),
    ("9fn/job", "function_name"),
    ("fn/9job", "task_id"),
    ("fn/", "task_id"),
    (None, "FUNCTION[.QUALIFIER]/TASK_ID"),
])
def test_ref_parse_refuses(text, needle):
    with pytest.raises(InvalidArgumentError) as info:
        AsyncTaskRef.parse(text)
    assert needle in str(info.value)


def test_ref_constructor_checks_each_field_in_order():
    with pytest.raises(InvalidArgumentError) as info:
        AsyncTaskRef(function_name="fn.x", task_id="9")
    assert info.value.argument == "function_name"
    with pytest.raises(InvalidArgumentError) as info:
        AsyncTaskRef(function_name="fn", task_id="ok", qualifier="a.b")
    assert info.value.argument == "qualifier"


def test_ref_is_immutable_hashable_and_picklable():
    ref = AsyncTaskRef(function_name="fn", task_id="t", qualifier="1")
    with pytest.raises(Exception):
        ref.task_id = "u"
    assert {ref: 1}[AsyncTaskRef.parse("fn.1/t")] == 1
    assert pickle.loads(pickle.dumps(ref)) == ref


def test_ref_masked_round_trip():
    ref = AsyncTaskRef(function_name="fn", task_id="secret-task", qualifier="prod")
    text = ref.masked({"task_id"})
    assert text == "fn.prod/[secret]" and "secret-task" not in text
    back, hidden = AsyncTaskRef.parse_masked(text, {"task_id": "secret-task"})
    assert back == ref and hidden == {"task_id"}
    assert AsyncTaskRef.parse_masked("fn/t", {}) == (AsyncTaskRef.parse("fn/t"), frozenset())


_name = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_-]{0,20}\Z")
_fn = st.one_of(_name, st.builds(lambda s, f: f"{s}${f}", _name, _name))
_qualifier = st.one_of(st.none(), st.just("LATEST"), st.from_regex(r"\A[0-9]{1,5}\Z"), _name)


@settings(max_examples=300, deadline=None)
@given(_fn, _name, _qualifier)
def test_ref_round_trips(function_name, task_id, qualifier):
    ref = AsyncTaskRef(function_name=function_name, task_id=task_id, qualifier=qualifier)
    assert AsyncTaskRef.parse(str(ref)) == ref
    assert str(AsyncTaskRef.parse(str(ref))) == str(ref)


# --- paths --------------------------------------------------------------------------------------


def test_paths():
    assert tasks_path("fn") == "/2023-03-30/functions/fn/async-tasks"
    assert task_path("fn", "t-1") == "/2023-03-30/functions/fn/async-tasks/t-1"
    assert stop_path("a$b", "t") == "/2023-03-30/functions/a%24b/async-tasks/t/stop"
    assert invocations_path("fn") == "/2023-03-30/functions/fn/invocations"
    with pytest.raises(InvalidArgumentError, match="function_name"):
        task_path("fn.prod", "t")
    with pytest.raises(InvalidArgumentError, match="task_id"):
        stop_path("fn", "t/../x")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_percent_encode_is_the_official_sdks(text):
    from darabonba.url import Url  # the official SDK's encoder (alibabacloud-fc20230330 path segments)

    assert percent_encode(text) == Url.percent_encode(text)


# --- list query ---------------------------------------------------------------------------------


def test_list_query_full():
    q = list_query(qualifier="LATEST", status="running", prefix="job a", started_after=T0,
                   started_before="2023-11-14T23:13:20.123Z", sort="asc", include_payload=True, page_size=20,
                   next_token="MTIzNCNhYmM=\n")
    assert q == {"limit": "20", "sortOrderByTime": "asc", "qualifier": "LATEST", "status": "Running",
                 "prefix": "job a", "startedTimeBegin": "1700000000123", "startedTimeEnd": "1700003600123",
                 "includePayload": "true", "nextToken": "MTIzNCNhYmM=\n"}


def test_list_query_defaults():
    assert list_query() == {"limit": "100", "sortOrderByTime": "desc"}
    assert list_query(next_token="") == {"limit": "100", "sortOrderByTime": "desc"}


@pytest.mark.parametrize("kwargs,argument", [
    ({"sort": "up"}, "sort"),
    ({"status": "Paused"}, "status"),
    ({"prefix": ""}, "prefix"),
    ({"prefix": "p" * 129}, "prefix"),
    ({"page_size": 0}, "page_size"),
    ({"page_size": 101}, "page_size"),
    ({"page_size": True}, "page_size"),
    ({"include_payload": "yes"}, "include_payload"),
    ({"started_after": "yesterday"}, "started_after"),
    ({"started_after": T0 + timedelta(hours=1), "started_before": T0}, "started_after"),
    ({"qualifier": "a.b"}, "qualifier"),
    ({"next_token": 5}, "next_token"),
])
def test_list_query_refuses(kwargs, argument):
    with pytest.raises(InvalidArgumentError) as info:
        list_query(**kwargs)
    assert info.value.argument == argument


# --- AsyncTaskResult ----------------------------------------------------------------------------


def test_sample_parses_every_field():
    r = AsyncTaskResult.model_validate_json(json.dumps(SAMPLE))
    assert r.task_id == "job-123" and r.request_id == SAMPLE["requestId"]
    assert r.function_arn == SAMPLE["functionArn"] and r.function_name == "my-func" and r.qualifier == "prod"
    assert r.status is InvocationStatus.SUCCEEDED and r.is_terminal and r.succeeded
    assert r.destination_status == "Succeeded" and r.task_error_message == ""
    assert r.task_payload == '{"key1":"value1"}' and r.return_payload == "secret-output"
    assert r.already_retried_times == 2 and r.duration_ms == 1500 and r.instance_id == "c-64e70cf1-1234"
    assert r.started_time == T0 and r.end_time == T0 + timedelta(milliseconds=1500)
    assert [(e.event_id, e.status, e.event_detail) for e in r.events] == [(1, "Enqueued", "queued"),
                                                                         (2, "Succeeded", "")]
    assert r.events[0].timestamp == datetime.fromtimestamp(1700000000, tz=timezone.utc)
    assert r.ref == AsyncTaskRef.parse("my-func.prod/job-123")


def test_minimal_body_defaults():
    r = AsyncTaskResult.model_validate({"taskId": "t", "status": "Enqueued"})
    assert r.function_name == r.function_arn == r.qualifier == r.request_id == ""
    assert r.task_payload is None and r.return_payload is None and r.events == ()
    assert r.started_time is None and r.duration_ms is None and not r.is_terminal
    with pytest.raises(InvalidArgumentError, match="function_name"):
        r.ref  # noqa: B018 -- no function to name


@pytest.mark.parametrize("arn,name", [
    ("acs:fc:cn-shanghai:1234/functions/my-func", "my-func"),
    ("acs:fc:cn-shanghai:1234:functions/my-func", "my-func"),
    ("acs:fc:cn-shanghai:1234:functions/svc$fn/prod", "svc$fn"),
    ("acs:fc:cn-shanghai:1234", ""),
    ("", ""),
    (None, ""),
])
def test_function_name_from_arn(arn, name):
    assert function_name_from_arn(arn) == name


def test_function_name_key_wins_over_arn():
    r = AsyncTaskResult.model_validate({"taskId": "t", "status": "Running", "functionName": "given",
                                        "functionArn": "acs:fc:r:1/functions/other"})
    assert r.function_name == "given"


def test_unknown_status_and_keys_are_tolerated():
    body = json.dumps({"taskId": "t", "status": "Paused", "brandNew": {"x": 1}, "events": None,
                       "alreadyRetriedTimes": None})
    r = AsyncTaskResult.model_validate_json(body)
    assert r.status.value == "Paused" and not r.status.is_known and not r.is_terminal
    assert r.events == () and r.already_retried_times == 0


@pytest.mark.parametrize("status,terminal", [("Enqueued", False), ("Dequeued", False), ("Running", False),
                                             ("Retrying", False), ("Stopping", False), ("succeeded", True),
                                             ("Failed", True), ("Stopped", True), ("Expired", True),
                                             ("Invalid", True)])
def test_statuses(status, terminal):
    r = AsyncTaskResult.model_validate({"taskId": "t", "status": status})
    assert r.is_terminal is terminal and r.succeeded is (status.lower() == "succeeded")


@pytest.mark.parametrize("body", [{"status": "Running"}, {"taskId": "", "status": "Running"}, {"taskId": "t"},
                                  {"taskId": "t", "status": "Running", "alreadyRetriedTimes": -1}])
def test_strict_where_a_wrong_answer_would_mislead(body):
    with pytest.raises(Exception):
        AsyncTaskResult.model_validate(body)


def test_immutable_and_payloads_out_of_repr():
    r = AsyncTaskResult.model_validate(SAMPLE)
    with pytest.raises(Exception):
        r.status = "Failed"
    for text in (repr(r), str(r)):
        assert "value1" not in text and "secret-output" not in text
        assert "job-123" in text and "Succeeded" in text


def test_fc2_names_read_the_fc3_fields_and_stay_out_of_dumps():
    r = AsyncTaskResult.model_validate({**SAMPLE, "taskErrorMessage": "boom"})
    assert (r.invocation_id, r.invocation_error_message, r.invocation_payload) == (
        "job-123", "boom", '{"key1":"value1"}')
    dumped = r.model_dump()
    assert "invocation_id" not in dumped and "invocation_payload" not in dumped and dumped["task_id"] == "job-123"


def test_payload_spellings():
    for key in ("taskPayload", "TaskPayload", "invocationPayload", "task_payload"):
        assert AsyncTaskResult.model_validate({"taskId": "t", "status": "Running", key: "p"}).task_payload == "p"


_result = st.fixed_dictionaries(
    {"taskId": _name, "status": st.sampled_from([s.value for s in InvocationStatus] + ["Paused"])},
    optional={
        "functionArn": _fn.map(lambda f: f"acs:fc:cn-hangzhou:123/functions/{f}"),
        "qualifier": _qualifier.map(lambda q: q or ""),
        "taskErrorMessage": st.text(max_size=20),
        "taskPayload": st.text(max_size=20),
        "returnPayload": st.text(max_size=20),
        "alreadyRetriedTimes": st.integers(0, 8),
        "startedTime": st.integers(1, 253402300799999),
        "endTime": st.integers(1, 253402300799999),
        "durationMs": st.integers(0, 10**9),
        "instanceId": st.text(max_size=10),
        "destinationStatus": st.text(max_size=10),
        "requestId": st.text(max_size=10),
        "events": st.lists(st.fixed_dictionaries({"eventId": st.integers(0, 99), "status": st.text(max_size=8),
                                                  "timestamp": st.integers(1, 2**41),
                                                  "eventDetail": st.text(max_size=8)}), max_size=3),
    },
)


@settings(max_examples=200, deadline=None)
@given(_result)
def test_result_round_trips_through_its_dumps(body):
    r = AsyncTaskResult.model_validate_json(json.dumps(body))
    assert AsyncTaskResult.model_validate(r.model_dump(by_alias=True)) == r
    assert AsyncTaskResult.model_validate_json(r.model_dump_json(by_alias=True)) == r
    assert AsyncTaskResult.model_validate(r.model_dump()) == r
    assert pickle.loads(pickle.dumps(r)) == r
    if "functionArn" in body:
        assert r.ref.function_name == body["functionArn"].rsplit("/", 1)[1]


def test_page():
    page = AsyncTaskPage.model_validate_json(json.dumps({"tasks": [SAMPLE], "nextToken": "abc\n", "x": 1}))
    assert page.tasks[0].task_id == "job-123" and page.next_token == "abc\n"
    assert AsyncTaskPage.model_validate({"tasks": None}).tasks == ()
    assert AsyncTaskPage.model_validate({"tasks": []}).next_token is None
    with pytest.raises(ValueError, match="tasks"):  # no list key: not a page (issue 24 item 7)
        AsyncTaskPage.model_validate({})


# --- error bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize("body,expected", [
    (b'{"Code": "FunctionNotFound", "Message": "no fn", "RequestId": "1-abc"}', ("FunctionNotFound", "no fn", "1-abc")),
    (b'{"code": "AccessDenied", "message": "m", "requestId": "r"}', ("AccessDenied", "m", "r")),
    (b'{"errorCode": "InvalidArgument", "errorMessage": "m", "requestid": "r"}', ("InvalidArgument", "m", "r")),
    (b'{"ErrorCode": "X", "ErrorMessage": "y"}', ("X", "y", None)),
    (b"<html>Bad Gateway</html>", (None, None, None)),
    (b"[1, 2]", (None, None, None)),
    (b"[" * 100000, (None, None, None)),
    (b"", (None, None, None)),
    (None, (None, None, None)),
    ('{"Code": 7}', ("7", None, None)),
])
def test_parse_error_body(body, expected):
    assert tuple(parse_error_body(body)) == expected


@pytest.mark.parametrize("status,code,cls", DOCUMENTED)
def test_every_documented_code_becomes_its_class(status, code, cls):
    assert error_class(status, code) is cls
    assert ERROR_CODES[code] == (status, cls)


def test_error_table_is_complete():
    assert set(ERROR_CODES) == {code for _, code, _ in DOCUMENTED}


def test_error_classes_by_status_first():
    assert error_class(404, "InvalidArgument") is NotFoundError
    assert error_class(412, "AsyncInvocationStopped") is BadRequestError
    assert error_class(412, None) is BadRequestError
    assert error_class(500, "ResourceThrottled") is ServerError
    assert error_class(503, None) is ThrottledError
    assert error_class(401) is AuthenticationError
    assert error_class(409) is ConflictError
    assert error_class(418, "ConcurrentUpdateError") is ConflictError


# --- the signer ---------------------------------------------------------------------------------


class _Request:  # what the transport hands a signer (SignableRequest's fields)
    def __init__(self, method, path, query, headers, body, host="fc.example:8443"):
        self.method, self.path, self.query, self.headers, self.body, self.host = method, path, query, headers, body, host


@pytest.mark.parametrize("token", [None, "CAIS-token"])
def test_acs3_signer_signs_every_header_but_the_transports(token):
    from pulumi_fc_invocation import Credentials
    from pulumi_fc_invocation.fc3 import acs3_signer
    from pulumi_fc_invocation.signing import acs3_verify, parse_acs3_authorization

    request = _Request("POST", invocations_path("a$b"), {"qualifier": "prod", "x": "a b"},
                       {"Content-Type": "application/octet-stream", "User-Agent": "ua", "Accept-Encoding": "gzip",
                        "x-fc-invocation-type": "Async"}, b"body")
    acs3_signer("InvokeFunction")(request, Credentials("AKID", "sk", token))
    h = request.headers
    assert h["host"] == "fc.example:8443" and h["x-acs-action"] == "InvokeFunction"
    assert h["x-acs-version"] == "2023-03-30" and h["accept"] == "application/json"
    signed = parse_acs3_authorization(h["Authorization"]).signed_headers
    assert "accept-encoding" not in signed and {"content-type", "user-agent", "x-fc-invocation-type", "host"} <= set(signed)
    assert ("x-acs-security-token" in signed) is bool(token)
    acs3_verify("POST", "/2023-03-30/functions/a%24b/invocations", request.query, h, b"body", "sk")
    with pytest.raises(Exception):
        acs3_verify("POST", "/2023-03-30/functions/a%24b/invocations", request.query, h, b"body", "wrong")


def test_acs3_signer_knows_its_actions():
    from pulumi_fc_invocation.fc3 import acs3_signer

    with pytest.raises(ValueError):
        acs3_signer("GetStatefulAsyncInvocation")


def test_named_keeps_an_agreeing_result_and_renames_otherwise():
    r = AsyncTaskResult.model_validate(SAMPLE)
    assert r.named("my-func") is r
    other = r.named("svc$my-func")
    assert other.function_name == "svc$my-func" and other.function_arn == r.function_arn and r.function_name == "my-func"
