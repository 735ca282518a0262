"""Property-based tests: ids round-trip, every validator is total (a value or the package's
InvalidArgumentError, never anything else), the response parser is total over arbitrary JSON (a
result or InvalidResponseError), and status handling is total over arbitrary strings."""

from __future__ import annotations

import json
import string
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pulumi_fc_invocation import (
    InvalidArgumentError,
    InvalidResponseError,
    InvocationRef,
    InvocationStatus,
    StatefulAsyncInvocationResult,
)
from pulumi_fc_invocation.client import FcClient
from pulumi_fc_invocation.credentials import Credentials
from pulumi_fc_invocation.fc2 import (
    validate_function_name,
    validate_invocation_id,
    validate_qualifier,
    validate_service_name,
)
from pulumi_fc_invocation.models import parse_time

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_FIRST = string.ascii_letters + "_"
_REST = string.ascii_letters + string.digits + "_-"


def names(max_len: int) -> st.SearchStrategy[str]:
    return st.builds(lambda a, b: a + b, st.sampled_from(_FIRST), st.text(_REST, max_size=max_len - 1))


qualifiers = st.one_of(st.none(), st.just("LATEST"), st.integers(0, 10**12).map(str), names(128))
refs = st.builds(InvocationRef, service_name=names(128), function_name=names(64), invocation_id=names(128),
                 qualifier=qualifiers)

# Strings that look like what users type, plus everything else.
nearly_names = st.one_of(
    st.text(max_size=300),
    st.text(_REST + "./ \n\t.é任", max_size=140),
    names(128).map(lambda s: s + "\n"),
    st.sampled_from(["", "LATEST", "latest", "1", "-a", "a.b", "a/b", "\x00", "a" * 129, "a" * 64, "a" * 65]),
)
anything = st.one_of(nearly_names, st.none(), st.integers(), st.floats(), st.booleans(), st.binary(max_size=20),
                     st.lists(st.text(max_size=3), max_size=3))


@SETTINGS
@given(refs)
def test_composite_ids_round_trip(ref):
    text = str(ref)
    assert InvocationRef.parse(text) == ref
    assert str(InvocationRef.parse(text)) == text


@SETTINGS
@given(names(128), names(64), names(128), qualifiers)
def test_generated_valid_parts_validate_unchanged(service, function, invocation_id, qualifier):
    assert validate_service_name(service) == service
    assert validate_function_name(function) == function
    assert validate_invocation_id(invocation_id) == invocation_id
    assert validate_qualifier(qualifier) == qualifier


@pytest.mark.parametrize("validator,argument", [
    (validate_service_name, "service_name"),
    (validate_function_name, "function_name"),
    (validate_invocation_id, "invocation_id"),
    (validate_qualifier, "qualifier"),
])
@SETTINGS
@given(value=anything)
@example(value="a\n")
@example(value="a" * 200)
def test_validators_are_total(validator, argument, value):
    try:
        out = validator(value)
    except InvalidArgumentError as exc:
        assert exc.argument == argument and str(exc).startswith(f"invalid {argument} ")
        assert len(str(exc)) < 600  # long values are shortened in the message
        return
    assert out == value and (out is None or isinstance(out, str))
    if isinstance(out, str):
        assert "\n" not in out and 1 <= len(out) <= 128


@SETTINGS
@given(text=st.one_of(
    st.text(max_size=300),
    st.lists(nearly_names, min_size=1, max_size=4).map("/".join),
    st.builds(lambda r, junk: str(r) + junk, refs, st.text(max_size=3)),
    anything,
))
@example(text="svc./fn/id")
@example(text="svc.a.b/fn/id")
@example(text="svc/fn/id/")
def test_parse_is_total(text):
    try:
        ref = InvocationRef.parse(text)
    except InvalidArgumentError:
        return
    assert isinstance(ref, InvocationRef) and str(ref) == text


# --- the response parser ------------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
              st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30)),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children,
                                                                                  max_size=4)),
    max_leaves=20,
)
FIELDS = ["serviceName", "functionName", "qualifier", "invocationId", "requestId", "status", "destinationStatus",
          "invocationErrorMessage", "invocationPayload", "returnPayload", "alreadyRetriedTimes", "startedTime",
          "endTime", "durationMs", "instanceId", "events"]
times = st.one_of(
    json_values,
    st.integers(min_value=-10, max_value=2**64),
    st.floats(),
    st.datetimes(timezones=st.sampled_from([timezone.utc, None])).map(lambda d: d.isoformat()),
    st.sampled_from(["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00Z",
                     "9999-12-31T23:59:59.999+00:00", "2026-11-26T10:00:00Z", "1764192647000", "nan", "inf",
                     "-0", "1e400", "253402300799999", "253402300800000", ""]),
)
events = st.lists(st.fixed_dictionaries({}, optional={"eventId": json_values, "status": json_values,
                                                       "timestamp": times, "eventDetail": json_values}), max_size=3)
invocation_like = st.fixed_dictionaries(
    {"invocationId": st.one_of(names(20), json_values), "status": st.one_of(st.text(max_size=12), json_values)},
    optional={**{k: json_values for k in FIELDS if k not in ("invocationId", "status")}, "startedTime": times, "endTime": times, "events":
              st.one_of(events, json_values), "alreadyRetriedTimes": st.one_of(st.integers(), json_values)},
)


class _Response:
    """The parts of a ``requests.Response`` the parser reads."""

    def __init__(self, body: bytes) -> None:
        self.content = body
        self.status_code = 200
        self.headers = {"X-Fc-Request-Id": "rid-prop"}


_PARSER = FcClient(endpoint="http://127.0.0.1:9", account_id="123", credentials=Credentials("k", "s"))


def _parse(body: bytes):
    return _PARSER._parse(_Response(body), StatefulAsyncInvocationResult, "an invocation")


@SETTINGS
@given(body=st.one_of(json_values.map(json.dumps), invocation_like.map(json.dumps),
                      invocation_like.map(lambda d: json.dumps(d, ensure_ascii=False)),
                      st.text(max_size=50)))
@example(body='{"invocationId": "a", "status": "Running", "startedTime": "9999-12-31T23:59:59-01:00"}')
@example(body='{"invocationId": "a", "status": "Running", "endTime": "0001-01-01T00:00:00+01:00"}')
@example(body='{"invocationId": "a", "status": "Running", "events": [{"timestamp": "0001-01-01T00:00:00+05:00"}]}')
@example(body='[' * 3000 + ']' * 3000)
@example(body='{"invocationId": "a", "status": "Running", "alreadyRetriedTimes": 1e400}')
def test_response_parser_is_total(body):
    raw = body.encode("utf-8", errors="surrogatepass")
    try:
        result = _parse(raw)
    except InvalidResponseError as exc:
        assert exc.http_status == 200 and exc.request_id == "rid-prop"
        assert "is not an invocation" in str(exc)
        return
    assert isinstance(result, StatefulAsyncInvocationResult) and result.invocation_id
    assert isinstance(result.status, InvocationStatus)
    for value in (result.started_time, result.end_time, *(e.timestamp for e in result.events)):
        assert value is None or (isinstance(value, datetime) and value.tzinfo is not None)
    repr(result)  # reprs never fail (they end up in logs)


@SETTINGS
@given(st.dictionaries(st.sampled_from(["serviceName", "requestId", "returnPayload", "instanceId", "qualifier"]),
                       st.text(max_size=20), max_size=3),
       st.text(max_size=200))
def test_payload_text_survives_the_parser_exactly(fields, payload):
    fields.update(invocationId="inv-1", status="Running", invocationPayload=payload)
    try:
        result = _parse(json.dumps(fields, ensure_ascii=False).encode("utf-8", errors="surrogatepass"))
    except InvalidResponseError:
        return
    assert result.invocation_payload == payload


# --- statuses and times -------------------------------------------------------------------------

KNOWN = {s.value for s in InvocationStatus}
TERMINAL = {"Succeeded", "Failed", "Stopped", "Expired", "Invalid"}


@SETTINGS
@given(st.one_of(st.text(max_size=40), st.sampled_from(sorted(KNOWN)),
                 st.sampled_from(sorted(KNOWN)).map(str.upper), st.sampled_from(["", "UNKNOWN", "_missing_",
                                                                                 "__class__", "terminal"])))
def test_status_is_total_over_strings(text):
    status = InvocationStatus(text)
    assert isinstance(status, InvocationStatus) and isinstance(status.is_terminal, bool)
    if text.lower() in {k.lower() for k in KNOWN}:
        assert status.is_known and status.value.lower() == text.lower()
        assert status.is_terminal == (status.value in TERMINAL)
    else:
        assert not status.is_known and not status.is_terminal
        assert status.value == text and str(status) == text
    try:
        known = InvocationStatus.known(text)
    except InvalidArgumentError as exc:
        assert exc.argument == "status" and not status.is_known
    else:
        assert known.is_known and known == status


@SETTINGS
@given(st.one_of(times, st.datetimes(timezones=st.sampled_from([timezone.utc, None]))))
@example(datetime(1, 1, 1, tzinfo=timezone.utc))
@example("0001-01-01T00:00:00+01:00")
@example("9999-12-31T23:59:59-01:00")
def test_parse_time_is_total(value):
    try:
        parsed = parse_time(value)
    except ValueError:
        return
    assert parsed is None or (isinstance(parsed, datetime) and parsed.utcoffset().total_seconds() == 0)


@SETTINGS
@given(times)
@example("0001-01-01T00:00:00+01:00")
def test_list_time_filters_are_total(value):
    """A bad started_after is an InvalidArgumentError before any request, never anything else."""
    client = FcClient(endpoint="http://127.0.0.1:9", credentials=__import__("pulumi_fc_invocation").Credentials("k", "s"))
    try:
        client._list_params("svc", "fn", started_after=value)
    except InvalidArgumentError as exc:
        assert exc.argument == "started_after"
    finally:
        client.close()
