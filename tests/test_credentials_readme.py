"""The credentials page (docs/configuration.md, once the README's credentials section) says what the chain
does: its table lists every source in the chain's order, and its testing example runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
SECTION = "# Credentials and configuration"

# The chain's order as resolve_settings implements it (tests/test_credentials_roles.py::test_chain_order).
ORDER = ["`credentials` argument", "fc-invocation:accessKey", "fc-invocation:assumeRoleWithOidc",
         "`fc-invocation:assumeRole` {", "fc-invocation:ecsRoleName", "fc-invocation:credentialsUri",
         "ALIBABA_CLOUD_ACCESS_KEY_ID",
         "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "~/.aliyun/config.json", "credentials.ini", "ALIBABA_CLOUD_ECS_METADATA`",
         "ALIBABA_CLOUD_CREDENTIALS_URI", "ALIBABA_CLOUD_ECS_METADATA_DISABLED"]


def _section() -> str:
    text = PAGE.read_text(encoding="utf-8")
    if SECTION not in text:
        pytest.fail(f"docs/configuration.md has no {SECTION!r} title")
    return text.split(SECTION, 1)[1]


def test_the_table_lists_every_source_in_the_chain_order():
    table = [line for line in _section().splitlines() if re.match(r"\| *\d+ *\|", line)]
    assert len(table) == 13, table
    for row, name in zip(table, ORDER):  # row i is source i of the chain
        assert name in row, (name, row)


def test_the_testing_example_runs(tmp_path):
    section = _section()
    code = section.split("## Testing role-based credentials", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, "docs/configuration.md (testing role-based credentials)", "exec"), namespace)
    namespace["test_oidc"](tmp_path)
