"""The plugin's page (docs/plugin.md, once the README's "From TypeScript, Go and YAML"): what it says the plugin
offers is what the plugin and its schema have, its programs are the tested examples, and its YAML program
runs as written through the real CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "plugin.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
SCHEMA = json.loads((ROOT / "schema.json").read_text(encoding="utf-8"))


def section() -> str:
    match = re.search(r"^# The plugin: YAML, TypeScript, Python SDK, Go\n(.*)", PAGE, re.S | re.M)
    assert match, "docs/plugin.md lacks its title '# The plugin: YAML, TypeScript, Python SDK, Go'"
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
    for line in ("type: fc-invocation:AsyncTask", "function: fc-invocation:getAsyncTask", "waitForCompletion: true",
                 "secretPayloads: false", "readNow: ${current.status}"):
        assert line in text and line in yaml_example.replace("${wait}", "true"), line
    for line in ('import * as fc from "@pulumi/fc-invocation";', 'new fc.AsyncTask("migration", {',
                 "fc.getAsyncTaskOutput({ functionName, taskId, failOnStatuses: [] });",
                 "export const readNow = pulumi.unsecret(now.status);"):
        assert line in text and line in ts_example, line
    assert "python -m pulumi_fc_invocation.plugin --install" in text


def test_the_readme_names_schema_tokens():
    """The README's short word on the plugin names resources the schema has."""
    named = set(re.findall(r"`fc-invocation:index:(\w+)`", README))
    named |= {name for name in re.findall(r"`(\w+)`", README) if f"fc-invocation:index:{name}" in SCHEMA["resources"]}
    assert {"AsyncTask", "AsyncTasks", "StatefulAsyncInvocation", "StatefulAsyncInvocations"} <= named
    assert "python -m pulumi_fc_invocation.plugin --install" in README


def test_the_yaml_program_runs_as_written(tmp_path, pulumi_bin):
    """The page's YAML program, with the plugin installed as the page says (from its tarball), gates on
    an emulator task: the gate passes, the stand-in release deploys after it, the function reads the
    status in plaintext (issue 27, point 5: YAML makes a function's whole result secret when any field is,
    pulumi-yaml#636) while the payloads stay secret."""
    from _installed_plugin import INSTALLED_ONLY, install_plugin
    from pulumi_fc_invocation.testing import FcEmulator
    from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli

    (program,) = re.findall(r"<!-- yaml-program -->\n```yaml\n(.*?)```", PAGE, re.S)
    (tmp_path / "Pulumi.yaml").write_text(program)
    with FcEmulator(clock="real") as fc, PulumiCli(tmp_path, pulumi=pulumi_bin, env=INSTALLED_ONLY) as cli:
        install_plugin(cli)
        settings = {f"fc-invocation:{key.split(':', 1)[1]}": value for key, value in fc.stack_config().items()}
        cli.config(settings, secret_keys={"fc-invocation:secretKey"})
        cli.config({"task": "t1"})
        fc.add_function(None, "migrate", outcome="Succeeded", duration=0, return_payload='{"rows": 42}')
        fc.client().invoke_async_task("migrate", '{"table": "orders"}', task_id="t1")  # ended before the up
        up = cli.up()
        assert up.ok, up.output
        outputs = cli.outputs()  # as a user reads them: secrets masked
        assert outputs["status"] == "Succeeded"
        assert outputs["readNow"] == "Succeeded"
        assert outputs["result"] == "[secret]"
        assert cli.outputs(show_secrets=True)["result"] == '{"rows": 42}'
        state = json.dumps(cli.export())
        for text in (state, up.output):  # the payloads: ciphertext in the state, never in the output
            assert "rows" not in text and "orders" not in text
        names = {r["urn"].rsplit("::", 1)[-1]: r for r in cli.resources()}
        assert names["release"]["created"] >= names["migration"]["modified"]


def test_the_pages_teach_one_set_of_settings():
    """Issue 27, point 3: the README, the getting-started recipe and the examples set `fc-invocation:*`, the
    keys a program in any language reads (YAML and TypeScript never see `alicloud:*`)."""
    pages = [ROOT / "README.md", ROOT / "docs" / "getting-started.md", *sorted((ROOT / "examples").glob("*/README.md"))]
    taught = [f"{page.relative_to(ROOT)}: {line.strip()}" for page in pages
              for line in page.read_text(encoding="utf-8").splitlines()
              if re.search(r"pulumi config set (--secret )?alicloud:", line)]
    assert not taught, "\n".join(taught)
    assert "pulumi config set fc-invocation:region" in README
