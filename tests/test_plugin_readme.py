"""README's "From TypeScript, Go and YAML": what it says the plugin offers is what the plugin and its schema have."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SCHEMA = json.loads((ROOT / "schema.json").read_text(encoding="utf-8"))


def section() -> str:
    match = re.search(r"^## From TypeScript, Go and YAML\n(.*?)(?=^## )", README + "\n## ", re.S | re.M)
    assert match, "README lacks the section '## From TypeScript, Go and YAML'"
    return match.group(1)


def test_the_tokens_it_names_are_the_schemas():
    text = section()
    named = set(re.findall(r"`(fc-invocation:index:\w+)`", text))
    short = {f"fc-invocation:index:{name}" for name in re.findall(r"`(\w+)`", text)}
    tokens = set(SCHEMA["resources"]) | set(SCHEMA["functions"])
    assert named and named <= tokens
    assert tokens <= named | short, tokens - named - short


def test_the_settings_it_lists_are_the_plugins():
    listed = set(re.findall(r"`fc-invocation:(\w+)`", section()))
    text = section()
    listed |= {name for name in SCHEMA["config"]["variables"] if f"`{name}`" in text}
    assert listed == set(SCHEMA["config"]["variables"])


def test_its_programs_are_the_tested_examples():
    text = section()
    yaml_example = (ROOT / "examples" / "plugin-yaml" / "Pulumi.yaml").read_text()
    ts_example = (ROOT / "examples" / "plugin-typescript" / "index.ts").read_text()
    for line in ("type: fc-invocation:AsyncTask", "function: fc-invocation:getAsyncTask", "waitForCompletion: true"):
        assert line in text and line in yaml_example.replace("${wait}", "true"), line
    for line in ('import * as fc from "@pulumi/fc-invocation";', 'new fc.AsyncTask("migration", {',
                 "fc.getAsyncTaskOutput({ functionName, taskId, failOnStatuses: [] });"):
        assert line in text and line in ts_example, line
    assert "python -m pulumi_fc_invocation.plugin --install" in text
