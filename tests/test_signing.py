import json
from pathlib import Path

import pytest

from pulumi_fc_invocation.signing import authorization, parse_authorization, string_to_sign

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "shared" / "reference" / "fc-signature-vectors.json").read_text())


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=[v["name"] for v in VECTORS["vectors"]])
def test_official_vectors_reproduce_byte_for_byte(vector):
    assert string_to_sign(vector["method"], vector["path"], vector["headers"]) == vector["string_to_sign"]
    got = authorization(vector["method"], vector["path"], vector["headers"],
                        VECTORS["access_key_id"], VECTORS["access_key_secret"])
    assert got == vector["authorization"]


def test_query_string_and_escaping_are_not_signed():
    headers = {"Date": "Thu, 26 Nov 2026 21:30:47 GMT", "Content-Type": "application/json"}
    plain = string_to_sign("GET", "/2016-08-15/services/a/functions/b/stateful-async-invocations", headers)
    with_query = string_to_sign("GET", "/2016-08-15/services/a/functions/b/stateful-async-invocations?limit=5", headers)
    escaped = string_to_sign("GET", "/2016-08-15/services/a/functions/%62/stateful-async-invocations", headers)
    assert plain == with_query == escaped


def test_parse_authorization():
    assert parse_authorization("FC key:sig=") == ("key", "sig=")
    assert parse_authorization("Bearer x") is None
    assert parse_authorization("FC nocolon") is None
    assert parse_authorization("") is None
