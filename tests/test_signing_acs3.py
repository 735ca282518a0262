"""ACS3-HMAC-SHA256: every vector computed by the official signer, reproduced byte for byte, and the verifier."""

import json
from pathlib import Path

import pytest

from pulumi_fc_invocation.signing import (
    EMPTY_PAYLOAD_SHA256,
    Acs3SignatureError,
    acs3_authorization,
    acs3_canonical_headers,
    acs3_canonical_query_string,
    acs3_canonical_request,
    acs3_encode_path,
    acs3_payload_hash,
    acs3_sign_request,
    acs3_string_to_sign,
    acs3_verify,
    parse_acs3_authorization,
)

DATA = json.loads(
    (Path(__file__).resolve().parents[2] / "shared" / "reference" / "acs3-signature-vectors.json").read_text()
)
VECTORS = DATA["vectors"]


def _secret_for(vector):
    if vector["access_key_id"] == DATA["sts"]["access_key_id"]:
        return DATA["sts"]["access_key_secret"]
    return DATA["access_key_secret"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"][:60] for v in VECTORS])
def test_vector_reproduced_byte_for_byte(vector):
    assert acs3_canonical_query_string(vector["query"]) == vector["canonical_query_string"]
    assert acs3_canonical_headers(vector["headers"])[1] == vector["signed_headers"]
    canonical = acs3_canonical_request(
        vector["method"], vector["path"], vector["query"], vector["headers"], vector["payload_hash"]
    )
    assert canonical == vector["canonical_request"]
    assert acs3_string_to_sign(canonical) == vector["string_to_sign"]
    got = acs3_authorization(
        vector["method"], vector["path"], vector["query"], vector["headers"],
        vector["access_key_id"], _secret_for(vector),
    )
    assert got == vector["authorization"]


SIGNER_BUILT = [v for v in VECTORS if "X-Custom" not in v["headers"] and v["payload_hash"] == EMPTY_PAYLOAD_SHA256]


@pytest.mark.parametrize("vector", SIGNER_BUILT, ids=[v["name"][:60] for v in SIGNER_BUILT])
def test_sign_request_adds_the_headers_the_official_signer_signed(vector):
    """acs3_sign_request, given only the caller's headers, produces the vector's x-acs-* headers and Authorization."""
    own = {"x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256", "x-acs-accesskey-id", "x-acs-security-token"}
    given = {k: v for k, v in vector["headers"].items() if k not in own}
    token = vector["headers"].get("x-acs-security-token")
    added = acs3_sign_request(
        vector["method"], vector["path"], query=vector["query"], headers=given, body=b"",
        access_key_id=vector["access_key_id"], access_key_secret=_secret_for(vector),
        security_token=token, date=DATA["x_acs_date"], nonce=DATA["x_acs_signature_nonce"],
    )
    assert added.pop("Authorization") == vector["authorization"]
    assert added == {k: v for k, v in vector["headers"].items() if k in own}


def test_sign_request_hashes_the_body_and_signs_it():
    body = b'{"video": 123}'
    headers = {"host": "h", "x-acs-action": "InvokeFunction", "x-acs-version": "2023-03-30",
               "content-type": "application/octet-stream", "x-fc-invocation-type": "Async"}
    added = acs3_sign_request("POST", "/2023-03-30/functions/f/invocations", headers=headers, body=body,
                              access_key_id="ak", access_key_secret="sk", date=1_800_000_000.0)
    assert added["x-acs-date"] == "2027-01-15T08:00:00Z"
    assert len(added["x-acs-signature-nonce"]) == 32
    assert added["x-acs-content-sha256"] != EMPTY_PAYLOAD_SHA256
    parsed = parse_acs3_authorization(added["Authorization"])
    assert "x-fc-invocation-type" in parsed.signed_headers and "content-type" in parsed.signed_headers
    request = {**headers, **added}
    acs3_verify("POST", "/2023-03-30/functions/f/invocations", {}, request, body, "sk", now=1_800_000_100.0)
    with pytest.raises(Acs3SignatureError) as err:
        acs3_verify("POST", "/2023-03-30/functions/f/invocations", {}, request, body + b"x", "sk", now=1_800_000_100.0)
    assert err.value.reason == "content"


def _signed(secret="sk", path="/2023-03-30/functions/svc%24fn/async-tasks", query=None, token=None, date=1_800_000_000.0):
    headers = {"host": "127.0.0.1:1", "x-acs-action": "ListAsyncTasks", "x-acs-version": "2023-03-30"}
    headers.update(acs3_sign_request("GET", path, query=query, headers=headers, access_key_id="ak",
                                     access_key_secret=secret, security_token=token, date=date))
    return headers


def test_verify_accepts_and_refuses():
    query = {"prefix": "job a", "limit": "5"}
    good = _signed(query=query)
    assert acs3_verify("GET", "/2023-03-30/functions/svc%24fn/async-tasks", query, good, b"", "sk",
                       now=1_800_000_000.0).access_key_id == "ak"
    # a raw '$' on the wire still verifies against the encoded form the SDK signs
    acs3_verify("GET", "/2023-03-30/functions/svc$fn/async-tasks", query, good, b"", "sk", now=1_800_000_000.0)
    cases = {
        "mismatch": (good, "other-secret", query, 1_800_000_000.0),
        "skew": (good, "sk", query, 1_800_000_000.0 + 901),
    }
    for reason, (headers, secret, q, now) in cases.items():
        with pytest.raises(Acs3SignatureError) as err:
            acs3_verify("GET", "/2023-03-30/functions/svc%24fn/async-tasks", q, headers, b"", secret, now=now)
        assert err.value.reason == reason
    with pytest.raises(Acs3SignatureError) as err:  # a query changed after signing
        acs3_verify("GET", "/2023-03-30/functions/svc%24fn/async-tasks", {"prefix": "job b", "limit": "5"},
                    good, b"", "sk", now=1_800_000_000.0)
    assert err.value.reason == "mismatch"
    assert "\nlimit=5&prefix=job%20b\n" in err.value.canonical_request
    with pytest.raises(Acs3SignatureError) as err:
        acs3_verify("GET", "/x", {}, {"Authorization": "FC ak:sig"}, b"", "sk")
    assert err.value.reason == "malformed"
    with pytest.raises(Acs3SignatureError) as err:
        acs3_verify("GET", "/x", {}, {}, b"", "sk")
    assert err.value.reason == "missing"
    no_date = {k: v for k, v in good.items() if k != "x-acs-date"}
    with pytest.raises(Acs3SignatureError) as err:
        acs3_verify("GET", "/2023-03-30/functions/svc%24fn/async-tasks", query, no_date, b"", "sk")
    assert err.value.reason == "missing"
    bad_date = dict(good, **{"x-acs-date": "Tue, 01 Dec 2026 11:00:00 GMT"})
    with pytest.raises(Acs3SignatureError) as err:
        acs3_verify("GET", "/2023-03-30/functions/svc%24fn/async-tasks", query, bad_date, b"", "sk")
    assert err.value.reason == "date"
    unsigned = dict(good, **{"x-acs-extra": "1"})
    with pytest.raises(Acs3SignatureError) as err:
        acs3_verify("GET", "/2023-03-30/functions/svc%24fn/async-tasks", query, unsigned, b"", "sk", now=1_800_000_000.0)
    assert err.value.reason == "unsigned"


def test_sts_token_is_signed():
    headers = _signed(token="tok/en+=")
    parsed = parse_acs3_authorization(headers["Authorization"])
    assert {"x-acs-security-token", "x-acs-accesskey-id"} <= set(parsed.signed_headers)
    tampered = dict(headers, **{"x-acs-security-token": "other"})
    with pytest.raises(Acs3SignatureError):
        acs3_verify("GET", "/2023-03-30/functions/svc%24fn/async-tasks", {}, tampered, b"", "sk", now=1_800_000_000.0)


def test_encode_path_and_parse():
    assert acs3_encode_path("2023-03-30", "functions", "svc$fn", "async-tasks", "a b*~") == \
        "/2023-03-30/functions/svc%24fn/async-tasks/a%20b%2A~"
    assert parse_acs3_authorization("FC ak:sig") is None
    assert parse_acs3_authorization(None) is None
    assert parse_acs3_authorization("ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=a;b,Signature=ABCDEF") == \
        ("ak", ("a", "b"), "abcdef")


def test_sign_request_one_pass_path_gives_the_general_paths_bytes():
    """acs3_sign_request canonicalizes a dict of str in one pass; the result must be what
    acs3_authorization computes from the same headers given as pairs (mixed case, spaces, duplicates)."""
    cases = [
        {"Host": "a.example", "x-acs-version": "2023-03-30", "Accept": " application/json ", "X-Custom": "b,c"},
        {"host": "a.example", "Authorization": "stale", "x-acs-date": "replaced", "content-type": "application/json"},
        {},
    ]
    for headers in cases:
        for token in (None, "sts-token"):
            for body in (b"", "{\"a\": 1}", None):
                added = acs3_sign_request("PUT", "/2023-03-30/functions/f%24g/async-tasks/t-1/stop",
                                          query={"qualifier": "prod", "b": "x y~"}, headers=headers, body=body,
                                          access_key_id="id-1", access_key_secret="secret-1", security_token=token,
                                          date="2026-12-01T00:00:00Z", nonce="0" * 32)
                pairs = [(k, v) for k, v in headers.items() if k.lower() not in added and k.lower() != "authorization"]
                signed = pairs + [(k, v) for k, v in added.items() if k != "Authorization"]
                again = acs3_authorization("PUT", "/2023-03-30/functions/f%24g/async-tasks/t-1/stop",
                                           [("qualifier", "prod"), ("b", "x y~")], signed, "id-1", "secret-1")
                assert added["Authorization"] == again, (headers, token, body)
                assert added["x-acs-content-sha256"] == acs3_payload_hash(body)
    # Two spellings of one name merge (values sorted, comma-joined) in both forms.
    merged = acs3_authorization("GET", "/", None, [("X-A", "2"), ("x-a", "1")], "id", "s")
    assert merged == acs3_authorization("GET", "/", None, [("x-a", "1"), ("X-A", "2")], "id", "s")
    assert acs3_canonical_headers([("X-A", " 2"), ("x-a", "1 ")]) == ("x-a:1,2\n", "x-a")
