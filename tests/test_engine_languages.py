"""YAML and TypeScript programs through the real CLI of ``make engine``, and SDKs that the engine generates
for a local executable plugin written in Python (``package add``, ``packages:``, ``package gen-sdk``).

The YAML host is pulumi-yaml's own (tools/engine/yaml); the Node.js host is ours (tools/engine/nodejs)
and runs programs on @pulumi/pulumi's own ``cmd/run`` with ts-node. npm runs offline against the cache
that ``make engine`` filled (.pulumi/npm-cache), so these tests never reach the registry.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pulumi_fc_invocation.testing import PulumiCli

REPO = Path(__file__).resolve().parents[1]
NODE = REPO / ".pulumi" / "node"
NPM_CACHE = REPO / ".pulumi" / "npm-cache"
PINS = json.loads((REPO / "tools" / "engine" / "node" / "package.json").read_text())["dependencies"]
# What a TypeScript project of `pulumi new typescript` asks for, at the versions make engine installed.
PROJECT_DEPENDENCIES = {name: PINS[name] for name in ("@pulumi/pulumi", "@types/node", "ts-node", "typescript")}
TSCONFIG = {
    "compilerOptions": {"strict": True, "outDir": "bin", "target": "es2020", "module": "commonjs",
                        "moduleResolution": "node", "sourceMap": True, "skipLibCheck": True},
    "files": ["index.ts"],
}


@pytest.fixture(scope="module")
def npm_env() -> dict[str, str]:
    """npm offline against make engine's cache: a package missing from it fails (ENOTCACHED), never fetches."""
    if not (NODE / ".pinned").is_file() or not NPM_CACHE.is_dir():
        pytest.fail("no .pulumi/node: run `make engine` (needs node and npm)")
    return {"npm_config_cache": str(NPM_CACHE), "npm_config_offline": "true", "npm_config_audit": "false",
            "npm_config_fund": "false", "npm_config_update_notifier": "false"}


def _write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
        if path.name.startswith("pulumi-resource-"):
            path.chmod(0o755)
    return directory


def _typescript_project(directory: Path, name: str, program: str) -> Path:
    return _write(directory, {
        "Pulumi.yaml": f"name: {name}\nruntime: nodejs\n",
        "package.json": json.dumps({"name": name, "main": "index.ts", "dependencies": PROJECT_DEPENDENCIES}),
        "tsconfig.json": json.dumps(TSCONFIG),
        "index.ts": program,
    })


def _link_node_modules(cli: PulumiCli) -> None:
    """The node_modules of make engine, linked (not copied) into the project's copy."""
    (cli.dir / "node_modules").symlink_to(NODE / "node_modules", target_is_directory=True)


def _up_preview_destroy(cli: PulumiCli) -> dict:
    """preview, up and destroy; returns the outputs after up (secrets shown)."""
    preview = cli.preview()
    assert preview.ok, preview.output
    assert "+ 1 to create" in preview.output, preview.output
    assert not cli.resources(), "a preview recorded state"
    up = cli.up()
    assert up.ok, up.output
    assert cli.outputs()["token"] == "[secret]"
    outputs = cli.outputs(show_secrets=True)
    export = json.dumps(cli.export())
    assert "s3cr3t-value" not in export, "a secret output is in plaintext in the state"
    destroy = cli.destroy()
    assert destroy.ok, destroy.output
    assert "1 deleted" in destroy.output, destroy.output
    assert not cli.resources()
    return outputs


# -- YAML ---------------------------------------------------------------------------------------------
YAML_PROGRAM = """
    name: yaml-languages
    runtime: yaml
    config:
      count:
        type: integer
      who:
        type: string
      token:
        type: string
        secret: true
    variables:
      greeting: hello ${who}
    outputs:
      greeting: ${greeting}
      count: ${count}
      words:
        fn::split: [" ", "${greeting}"]
      token: ${token}
"""


def test_yaml_program_previews_deploys_and_destroys_through_the_yaml_host(pulumi_bin, tmp_path):
    project = _write(tmp_path / "yaml", {"Pulumi.yaml": YAML_PROGRAM})
    with PulumiCli(project, pulumi=pulumi_bin) as cli:
        cli.config({"count": 3, "who": "yaml world", "token": "s3cr3t-value"}, secret_keys={"token"})
        outputs = _up_preview_destroy(cli)
    assert outputs == {"greeting": "hello yaml world", "count": 3, "words": ["hello", "yaml", "world"],
                       "token": "s3cr3t-value"}


def test_yaml_program_with_an_undefined_reference_fails_with_the_yaml_hosts_diagnostic(pulumi_bin, tmp_path):
    project = _write(tmp_path / "yaml-bad", {"Pulumi.yaml": """
        name: yaml-bad
        runtime: yaml
        outputs:
          broken: ${nowhere.id}
    """})
    with PulumiCli(project, pulumi=pulumi_bin) as cli:
        preview = cli.preview()
    assert not preview.ok
    assert "nowhere" in preview.output, preview.output


# -- TypeScript ---------------------------------------------------------------------------------------
TS_PROGRAM = """
    import * as pulumi from "@pulumi/pulumi";

    const config = new pulumi.Config();
    const count: number = config.requireNumber("count");
    export const doubled = count * 2;
    export const greeting = pulumi.interpolate`hello ${config.require("who")}`;
    export const project = pulumi.getProject();
    export const stack = pulumi.getStack();
    export const token = config.requireSecret("token");
"""


def test_typescript_program_previews_deploys_and_destroys_through_our_nodejs_host(pulumi_bin, npm_env, tmp_path):
    project = _typescript_project(tmp_path / "ts", "ts-languages", TS_PROGRAM)
    with PulumiCli(project, pulumi=pulumi_bin, env=npm_env) as cli:
        _link_node_modules(cli)
        cli.config({"count": 21, "who": "typescript", "token": "s3cr3t-value"}, secret_keys={"token"})
        outputs = _up_preview_destroy(cli)
    assert outputs == {"doubled": 42, "greeting": "hello typescript", "project": "ts-languages", "stack": "dev",
                       "token": "s3cr3t-value"}


def test_a_typescript_type_error_fails_the_preview_with_the_compilers_message(pulumi_bin, npm_env, tmp_path):
    """ts-node type-checks the program (PULUMI_NODEJS_TYPESCRIPT from the host), as the official host does."""
    project = _typescript_project(tmp_path / "ts-bad", "ts-bad", """
        import * as pulumi from "@pulumi/pulumi";
        const count: number = new pulumi.Config().require("count");
        export const doubled = count * 2;
    """)
    with PulumiCli(project, pulumi=pulumi_bin, env=npm_env) as cli:
        _link_node_modules(cli)
        cli.config({"count": 1})
        preview = cli.preview()
    assert not preview.ok
    assert "TS2322" in preview.output and "not assignable to type 'number'" in preview.output, preview.output


def test_a_failing_typescript_program_fails_up_with_its_own_message_only(pulumi_bin, npm_env, tmp_path):
    """The SDK shows the error and exits 32; the host passes that on as "already shown" (bail), so no
    "Program exited with non-zero exit code" follows it."""
    project = _typescript_project(tmp_path / "ts-throws", "ts-throws", """
        import * as pulumi from "@pulumi/pulumi";
        if (pulumi.getStack() === "dev") {
            throw new Error("refusing to deploy to dev");
        }
    """)
    with PulumiCli(project, pulumi=pulumi_bin, env=npm_env) as cli:
        _link_node_modules(cli)
        up = cli.up()
        assert not up.ok
        assert "refusing to deploy to dev" in up.output, up.output
        assert "non-zero exit code" not in up.output, up.output
        assert cli.outputs() == {}


# -- a TypeScript SDK for a local Python plugin ----------------------------------------------------------
# An executable plugin, the form every language loads with no language host in between: the engine runs
# pulumi-resource-fcprobe, named by its path (a `runtime: python` PulumiPlugin.yaml would need
# <plugin dir>/venv/bin/python under the official Python host, upstream #20756).
LAUNCHER = f"""#!/bin/sh
exec '{sys.executable}' "$(dirname "$0")/__main__.py" "$@"
"""
PLUGIN = {
    "pulumi-resource-fcprobe": LAUNCHER,
    "__main__.py": '''
        """A throwaway provider plugin: one function and one resource, served by pulumi.provider.experimental."""
        import json
        import sys

        from pulumi.provider.experimental.property_value import PropertyValue
        from pulumi.provider.experimental.provider import (
            CreateResponse, GetSchemaResponse, InvokeResponse, Provider)
        from pulumi.provider.experimental.server import main

        SCHEMA = {
            "name": "fcprobe",
            "version": "0.1.0",
            "functions": {
                "fcprobe:index:echo": {
                    "inputs": {"properties": {"message": {"type": "string"}}, "required": ["message"]},
                    "outputs": {"properties": {"message": {"type": "string"}, "length": {"type": "integer"}},
                                "required": ["message", "length"]},
                },
            },
            "resources": {
                "fcprobe:index:Marker": {
                    "inputProperties": {"label": {"type": "string"}},
                    "requiredInputs": ["label"],
                    "properties": {"label": {"type": "string"}, "stamp": {"type": "string"}},
                    "required": ["label", "stamp"],
                },
            },
        }


        class Probe(Provider):
            async def get_schema(self, request):
                return GetSchemaResponse(schema=json.dumps(SCHEMA))

            async def invoke(self, request):
                message = request.args["message"].value
                return InvokeResponse(return_value={"message": PropertyValue(message),
                                                    "length": PropertyValue(float(len(message)))})

            async def create(self, request):
                label = request.properties["label"].value
                return CreateResponse(resource_id=f"marker-{label}",
                                      properties={"label": PropertyValue(label),
                                                  "stamp": PropertyValue(f"stamped {label}")})

            async def delete(self, request):
                return None


        if __name__ == "__main__":
            main(sys.argv[1:], "0.1.0", Probe())
    ''',
}

PROBE_PROGRAM = """
    import * as fcprobe from "@pulumi/fcprobe";

    const marker = new fcprobe.Marker("marker", { label: "one" });
    export const stamp = marker.stamp;
    export const length = fcprobe.echoOutput({ message: "hello" }).length;
"""


def _tsc(cli: PulumiCli) -> subprocess.CompletedProcess:
    """The project's own tsc, type-checking index.ts against the SDK's declarations (no output written)."""
    return subprocess.run(["node", "node_modules/typescript/bin/tsc", "--noEmit", "-p", "."], cwd=cli.dir,
                          capture_output=True, text=True, timeout=300)


def test_package_add_generates_a_typescript_sdk_for_a_python_plugin_that_type_checks_and_deploys(
        pulumi_bin, npm_env, tmp_path):
    """`pulumi package add <executable>`: the engine runs the plugin's executable, asks its schema, has the
    Node.js host generate the SDK (GeneratePackage) and add it to package.json (Link), then installs it (npm;
    its postinstall compiles it with the SDK's own typescript)."""
    plugin = _write(tmp_path / "plugin", PLUGIN)
    project = _typescript_project(tmp_path / "ts-probe", "ts-probe", PROBE_PROGRAM)
    with PulumiCli(project, pulumi=pulumi_bin, env=npm_env) as cli:
        # An executable plugin is added by name and version, so it is installed first (a directory: the
        # launcher runs the __main__.py beside it).
        installed = cli.run("plugin", "install", "resource", "fcprobe", "0.1.0", "--file", str(plugin))
        assert installed.ok, installed.output
        added = cli.run("package", "add", str(plugin / "pulumi-resource-fcprobe"))
        assert added.ok, added.output
        assert 'import * as fcprobe from "@pulumi/fcprobe";' in added.output, added.output
        assert "fcprobe: fcprobe@0.1.0" in (cli.dir / "Pulumi.yaml").read_text()
        sdk = cli.dir / "sdks" / "fcprobe"
        assert json.loads((sdk / "package.json").read_text())["name"] == "@pulumi/fcprobe"
        assert json.loads((cli.dir / "package.json").read_text())["dependencies"]["@pulumi/fcprobe"] == \
            "file:sdks/fcprobe"
        declarations = (sdk / "bin" / "marker.d.ts").read_text()
        assert "readonly stamp: pulumi.Output<string>" in declarations, declarations

        checked = _tsc(cli)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        (cli.dir / "index.ts").write_text(PROBE_PROGRAM.replace('label: "one"', "label: 1"))
        wrong = _tsc(cli)
        assert wrong.returncode != 0
        assert "TS2322" in wrong.stdout and "index.ts" in wrong.stdout, wrong.stdout
        (cli.dir / "index.ts").write_text(textwrap.dedent(PROBE_PROGRAM))

        up = cli.up()
        assert up.ok, up.output
        assert cli.outputs() == {"stamp": "stamped one", "length": 5}
        marker = [r for r in cli.resources() if r["type"] == "fcprobe:index:Marker"]
        assert [r["id"] for r in marker] == ["marker-one"]
        destroy = cli.destroy()
        assert destroy.ok, destroy.output
        assert not cli.resources()


def test_a_packages_entry_in_pulumi_yaml_serves_a_yaml_program_with_the_python_plugin(pulumi_bin, tmp_path):
    """YAML needs no SDK: a `packages:` entry is enough for `pulumi up` (the engine runs the plugin)."""
    project = _write(tmp_path / "yaml-probe", {**{f"plugin/{k}": v for k, v in PLUGIN.items()}, "Pulumi.yaml": """
        name: yaml-probe
        runtime: yaml
        packages:
          fcprobe: ./plugin
        resources:
          marker:
            type: fcprobe:index:Marker
            properties:
              label: two
        variables:
          echoed:
            fn::invoke:
              function: fcprobe:index:echo
              arguments:
                message: hi there
        outputs:
          stamp: ${marker.stamp}
          length: ${echoed.length}
    """})
    with PulumiCli(project, pulumi=pulumi_bin) as cli:
        preview = cli.preview()
        assert preview.ok, preview.output
        assert "fcprobe:index:Marker" in preview.output
        up = cli.up()
        assert up.ok, up.output
        assert cli.outputs() == {"stamp": "stamped two", "length": 8}
        destroy = cli.destroy()
        assert destroy.ok, destroy.output


def test_pulumi_install_generates_the_typescript_sdk_of_a_packages_entry(pulumi_bin, npm_env, tmp_path):
    """The other way in: `packages:` in Pulumi.yaml, then `pulumi install` (GeneratePackage, Link, npm). For
    an executable plugin the entry names an installed plugin: pulumi 3.274.1 takes a local path there only
    to a PulumiPlugin.yaml directory (a directory holding the executable: 'expected "" to have an executable
    named "pulumi-resource-"'; the executable itself: 'provider folder ... is not a directory')."""
    project = _typescript_project(tmp_path / "ts-install", "ts-install", PROBE_PROGRAM)
    plugin = _write(tmp_path / "plugin", PLUGIN)
    with (project / "Pulumi.yaml").open("a") as f:
        f.write("packages:\n  fcprobe: fcprobe@0.1.0\n")
    with PulumiCli(project, pulumi=pulumi_bin, env=npm_env) as cli:
        plugin_installed = cli.run("plugin", "install", "resource", "fcprobe", "0.1.0", "--file", str(plugin))
        assert plugin_installed.ok, plugin_installed.output
        installed = cli.run("install")
        assert installed.ok, installed.output
        assert (cli.dir / "sdks" / "fcprobe" / "bin" / "index.d.ts").is_file(), installed.output
        checked = _tsc(cli)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        up = cli.up()
        assert up.ok, up.output
        assert cli.outputs() == {"stamp": "stamped one", "length": 5}


def test_a_python_program_uses_the_plugin_through_a_python_sdk_that_our_python_host_generates(pulumi_bin, tmp_path):
    """`pulumi package gen-sdk --language python`: our Python host's GeneratePackage (pkg/v3's Python
    generator, through fc-invocation-gensdk); the engine finds the plugin through `packages:`."""
    project = _write(tmp_path / "py-probe", {**{f"plugin/{k}": v for k, v in PLUGIN.items()},
                                              "Pulumi.yaml": """
        name: py-probe
        runtime: python
        packages:
          fcprobe: ./plugin
    """, "__main__.py": """
        import pulumi
        import pulumi_fcprobe as fcprobe

        marker = fcprobe.Marker("marker", label="three")
        pulumi.export("stamp", marker.stamp)
        pulumi.export("length", fcprobe.echo_output(message="abc").length)
    """})
    with PulumiCli(project, pulumi=pulumi_bin) as cli:
        generated = cli.run("package", "gen-sdk", "./plugin/pulumi-resource-fcprobe", "--language", "python", "--local",
                            "--out", "sdks")
        assert generated.ok, generated.output
        sdk = cli.dir / "sdks" / "python"
        assert "class Marker(pulumi.CustomResource)" in (sdk / "pulumi_fcprobe" / "marker.py").read_text()
        assert json.loads((sdk / "pulumi_fcprobe" / "pulumi-plugin.json").read_text())["name"] == "fcprobe"
        # The SDK reads its version from its distribution's metadata; stand in for `pip install` (this
        # venv has no `wheel` to build it) with that metadata beside the package on PYTHONPATH.
        metadata = sdk / "pulumi_fcprobe-0.1.0.dist-info"
        metadata.mkdir()
        (metadata / "METADATA").write_text("Metadata-Version: 2.1\nName: pulumi_fcprobe\nVersion: 0.1.0\n")
        env = {"PYTHONPATH": str(sdk)}
        up = cli.up(env=env)
        assert up.ok, up.output
        assert cli.outputs() == {"stamp": "stamped three", "length": 3}
        destroy = cli.destroy(env=env)
        assert destroy.ok, destroy.output
        assert not cli.resources()


def test_make_engine_reuses_an_unchanged_build(pulumi_bin):
    """The markers that make engine writes are the ones it computes again: a second run rebuilds nothing."""
    import os
    import sys

    node_only = ["--node-only"] if os.environ.get("FC_INVOCATION_PULUMI") else []
    done = subprocess.run(["bash", str(REPO / "tools" / "engine" / "build.sh"), *node_only, sys.executable],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert all("up to date" in line for line in lines) and len(lines) == 2 - len(node_only), done.stdout
