import json
from datetime import datetime, timezone

import pytest

from pulumi_fc_invocation import (
    InvalidArgumentError,
    InvocationRef,
    InvocationStatus,
    StatefulAsyncInvocationResult,
)
from pulumi_fc_invocation.fc3 import AsyncTaskResult

# The sample body from the seed / FC's 2016-08-15 documentation page: ISO times, `InvocationPayload`.
SEED_SAMPLE = {
    "functionName": "transcode",
    "serviceName": "video",
    "qualifier": "prod",
    "invocationId": "video-123",
    "status": "Succeeded",
    "startedTime": "2020-08-20T02:28:21Z",
    "endTime": "2020-08-20T02:29:01Z",
    "destinationStatus": "Succeeded",
    "invocationErrorMessage": "",
    "InvocationPayload": "{\"key1\":\"value1\"}",
    "alreadyRetriedTimes": 3,
    "requestId": "fa0c4e1e-ed5d-4b16-9d0f-1a1a2c3e4f5a",
}


def test_seed_sample_parses():
    r = StatefulAsyncInvocationResult.model_validate(SEED_SAMPLE)
    assert r.invocation_payload == '{"key1":"value1"}'
    assert r.started_time == datetime(2020, 8, 20, 2, 28, 21, tzinfo=timezone.utc)
    assert r.end_time == datetime(2020, 8, 20, 2, 29, 1, tzinfo=timezone.utc)
    assert r.status is InvocationStatus.SUCCEEDED and r.is_terminal and r.succeeded
    assert r.already_retried_times == 3
    assert r.ref == InvocationRef.parse("video.prod/transcode/video-123")
    assert r.model_dump(by_alias=True)["invocationPayload"] == '{"key1":"value1"}'


# Both APIs' results read FC's times alike: an FC 2.0 invocation, an FC 3.0 task.
RESULTS = [pytest.param(StatefulAsyncInvocationResult, {"invocationId": "a"}, id="fc2"),
           pytest.param(AsyncTaskResult, {"taskId": "t"}, id="fc3")]


@pytest.mark.parametrize("result_type, ident", RESULTS)
@pytest.mark.parametrize("raw", [1700000000123, "1700000000123", 1700000000123.0, "2023-11-14T22:13:20.123Z",
                                 "2023-11-14T22:13:20.123+00:00", "2023-11-15T06:13:20.123+08:00"])
def test_times_accept_epoch_ms_and_iso(raw, result_type, ident):
    r = result_type.model_validate({**ident, "status": "Running", "startedTime": raw})
    assert r.started_time == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=timezone.utc)
    assert r.started_time.tzinfo is timezone.utc


@pytest.mark.parametrize("result_type, ident", RESULTS)
@pytest.mark.parametrize("raw", [0, "0", None, ""])
def test_zero_end_time_means_unfinished(raw, result_type, ident):
    r = result_type.model_validate({**ident, "status": "Running", "endTime": raw})
    assert r.end_time is None and not r.is_terminal and not r.succeeded


def test_unknown_status_and_extra_keys():
    body = json.dumps({"invocationId": "a", "status": "Paused", "brandNewField": {"x": 1},
                       "events": [{"eventId": 1, "status": "Enqueued", "timestamp": 1700000000000, "eventDetail": "d",
                                   "newKey": 2}]})
    r = StatefulAsyncInvocationResult.model_validate_json(body)
    assert r.status.value == "Paused" and not r.status.is_known and not r.is_terminal
    assert r.events[0].event_id == 1 and r.events[0].event_detail == "d"
    assert r.events[0].timestamp == datetime.fromtimestamp(1700000000, tz=timezone.utc)


def test_result_is_immutable_and_repr_hides_payloads():
    r = StatefulAsyncInvocationResult.model_validate({**SEED_SAMPLE, "returnPayload": "secret-output"})
    with pytest.raises(Exception):
        r.status = "Failed"
    assert "value1" not in repr(r) and "secret-output" not in repr(r) and "secret-output" not in str(r)


def test_both_payload_spellings():
    a = StatefulAsyncInvocationResult.model_validate({"invocationId": "a", "status": "Running", "invocationPayload": "p"})
    b = StatefulAsyncInvocationResult.model_validate({"invocationId": "a", "status": "Running", "InvocationPayload": "p"})
    assert a.invocation_payload == b.invocation_payload == "p"


def test_status_terminal_table():
    terminal = {s.value for s in InvocationStatus if s.is_terminal}
    assert terminal == {"Succeeded", "Failed", "Stopped", "Expired", "Invalid"}
    assert InvocationStatus("succeeded") is InvocationStatus.SUCCEEDED
    with pytest.raises(InvalidArgumentError, match="fail_on_statuses.*must be one of"):
        InvocationStatus.known("Exploded", "fail_on_statuses")


@pytest.mark.parametrize("text,expected", [
    ("video/transcode/video-123", ("video", None, "transcode", "video-123")),
    ("video.prod/transcode/video-123", ("video", "prod", "transcode", "video-123")),
    ("svc_1.LATEST/fn-a/_job_0001", ("svc_1", "LATEST", "fn-a", "_job_0001")),
    ("s.3/f/i", ("s", "3", "f", "i")),
])
def test_composite_id_round_trip(text, expected):
    ref = InvocationRef.parse(text)
    assert (ref.service_name, ref.qualifier, ref.function_name, ref.invocation_id) == expected
    assert str(ref) == text


@pytest.mark.parametrize("kwargs,field", [
    ({"service_name": "9video"}, "service_name"),
    ({"service_name": "x" * 129}, "service_name"),
    ({"service_name": ""}, "service_name"),
    ({"function_name": "f" * 65}, "function_name"),
    ({"function_name": "-f"}, "function_name"),
    ({"invocation_id": "1abc"}, "invocation_id"),
    ({"invocation_id": "a" * 129}, "invocation_id"),
    ({"invocation_id": "a/b"}, "invocation_id"),
    ({"qualifier": "pr od"}, "qualifier"),
    ({"qualifier": ""}, "qualifier"),
])
def test_bad_names_name_field_value_and_rule(kwargs, field):
    data = {"service_name": "video", "function_name": "transcode", "invocation_id": "video-123", **kwargs}
    with pytest.raises(InvalidArgumentError) as info:
        InvocationRef(**data)
    err = info.value
    assert err.argument == field
    assert err.value == kwargs[field]
    assert field in str(err) and "must be" in str(err)


@pytest.mark.parametrize("text", ["video/transcode", "a/b/c/d", "video./f/i", "", "v.p.q/f/i"])
def test_bad_composite_ids(text):
    with pytest.raises(InvalidArgumentError):
        InvocationRef.parse(text)


def test_limits_are_exact():
    InvocationRef(service_name="s" * 128, function_name="f" * 64, invocation_id="i" * 128, qualifier="q" * 128)
    InvocationRef(service_name="_", function_name="_", invocation_id="_", qualifier="123")


def test_a_naive_datetime_is_local_time(monkeypatch):
    """``started_after=datetime.now() - timedelta(hours=1)`` in UTC+8 means an hour ago, not seven hours ahead."""
    import time
    from datetime import timedelta

    from pulumi_fc_invocation.gate.spec import BatchSpec
    from pulumi_fc_invocation.models import parse_time

    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        naive = datetime(2026, 11, 26, 16, 0, 0)  # 16:00 in Shanghai
        assert parse_time(naive) == datetime(2026, 11, 26, 8, 0, 0, tzinfo=timezone.utc)
        assert parse_time("2026-11-26T16:00:00") == datetime(2026, 11, 26, 16, 0, 0, tzinfo=timezone.utc)  # FC's text
        hour_ago = datetime.now() - timedelta(hours=1)
        spec = BatchSpec.build(service_name="s", function_name="f", started_after=hour_ago)
        assert abs(parse_time(spec.started_after).timestamp() - (time.time() - 3600)) < 5
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


# The FC 2.0 names that pulumi_fc_invocation.models held in 0.1.
MODELS_0_1_FC2_NAMES = ("InvocationRef", "StatefulAsyncInvocationResult", "validate_service_name",
                        "validate_function_name", "validate_qualifier", "validate_invocation_id", "SERVICE_RULE",
                        "FUNCTION_RULE", "QUALIFIER_RULE", "INVOCATION_RULE")


def test_the_fc2_names_of_0_1_still_resolve_from_models_and_the_moved_ones_warn():
    import warnings

    from pulumi_fc_invocation import fc2, models

    for name in MODELS_0_1_FC2_NAMES:
        if name in vars(models):  # the qualifier rule is both APIs': it lives in models again, no warning
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                assert getattr(models, name) is getattr(fc2, name)
            continue
        with pytest.warns(DeprecationWarning, match=rf"models\.{name} moved to pulumi_fc_invocation\.fc2"):
            assert getattr(models, name) is getattr(fc2, name)
    assert {"validate_qualifier", "QUALIFIER_RULE"} <= set(vars(models))
    with pytest.raises(AttributeError, match="no attribute 'InvocationRefs'"):
        models.InvocationRefs


def test_importing_models_imports_no_api_revision():
    import subprocess
    import sys

    code = ("import sys, pulumi_fc_invocation.models; "
            "print(sorted(m for m in sys.modules if m.startswith('pulumi_fc_invocation.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    # The package's __init__ loads the version (L0) and the errors; models loads nothing above them.
    assert done.stdout.strip() == ("['pulumi_fc_invocation.errors', 'pulumi_fc_invocation.models', "
                                   "'pulumi_fc_invocation.version']")


def test_redact_masks_values_and_pairs_longest_first():
    from pulumi_fc_invocation.models import SECRET_MASK, redact

    text = "key LTAIkey0001 secret s3cr3t-s3cr3t token s3cr3t id job-1 qualifier Q9"
    shown = redact(text, [("LTAIkey0001", "LTAI****"), ("s3cr3t-s3cr3t", "<redacted>"), "s3cr3t", "job-1", "Q9", "",
                          None])
    # A secret input however short ("Q9", a qualifier given as a secret) is masked too.
    assert shown == f"key LTAI**** secret <redacted> token {SECRET_MASK} id {SECRET_MASK} qualifier {SECRET_MASK}"
