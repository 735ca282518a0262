"""Issue 27, point 3: one set of settings for every language. The plugin (YAML, TypeScript) reads
`fc-invocation:*`; Python programs read the same keys, and pulumi-alicloud's `alicloud:*` after them
(credentials.SETTING_SOURCES: argument > `fc-invocation:*` > `alicloud:*` > environment > profile files >
roles). The same `pulumi config set` commands configure a Python program and a YAML program."""

from __future__ import annotations

import pytest

from _engine import PROGRAM
from _installed_plugin import INSTALLED_ONLY, install_plugin
from _plugin_rpc import plugin_config
from pulumi_fc_invocation.credentials import CONFIG_NAMESPACES, SETTING_SOURCES, resolve_settings
from pulumi_fc_invocation.errors import ConfigurationError
from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli

YAML_PROGRAM = """
name: same-settings
runtime: yaml
resources:
  gate:
    type: fc-invocation:StatefulAsyncInvocation
    properties:
      serviceName: svc
      functionName: fn
      invocationId: job-1
      waitForCompletion: true
      timeoutSeconds: 60
outputs:
  status: ${gate.status}
"""


def test_each_setting_reads_fc_invocation_before_alicloud():
    assert CONFIG_NAMESPACES == ("fc-invocation", "alicloud")
    for setting in ("access_key_id", "access_key_secret", "security_token", "region", "account_id", "profile",
                    "credentials_file", "assume_role", "assume_role_with_oidc", "ecs_role_name", "credentials_uri"):
        name = SETTING_SOURCES[setting]["config"][0].partition(":")[2]
        assert SETTING_SOURCES[setting]["config"] == (f"fc-invocation:{name}", f"alicloud:{name}"), setting
    settings = resolve_settings(environ={}, home="/nonexistent", config={
        "fc-invocation:accessKey": "own-id", "fc-invocation:secretKey": "own-secret",
        "alicloud:accessKey": "ali-id", "alicloud:secretKey": "ali-secret",
        "fc-invocation:region": "cn-shanghai", "alicloud:region": "cn-hangzhou",
        "alicloud:accountId": "1234567890"})
    assert settings.credentials.access_key_id == "own-id" and settings.region == "cn-shanghai"
    assert settings.endpoint == "https://1234567890.cn-shanghai.fc.aliyuncs.com"  # the account from alicloud:


def test_a_key_pair_never_mixes_namespaces_and_the_plugin_is_told_only_its_own():
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings(environ={}, home="/nonexistent", endpoint="http://127.0.0.1:9",
                         config={"fc-invocation:accessKey": "own-id", "alicloud:secretKey": "ali-secret"})
    assert "`fc-invocation:accessKey` is set but `fc-invocation:secretKey` is not" in str(caught.value)
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings(environ={}, home="/nonexistent", config={}, config_namespaces=("fc-invocation",))
    message = str(caught.value)
    assert "`fc-invocation:accessKey` + `fc-invocation:secretKey`" in message and "`fc-invocation:region`" in message
    assert "alicloud:" not in message  # a provider never sees another package's config (GetPackageConfig)


def test_a_missing_setting_is_named_first_in_the_callers_spelling():
    """What is missing comes first (not `cannot reach Function Compute`, which reads as a network fault), and
    the plugin names its arguments as YAML and TypeScript spell them (`accountId`, not `account_id`)."""
    from pulumi_fc_invocation.sources import camel

    common = {"environ": {}, "home": "/nonexistent"}
    with pytest.raises(ConfigurationError) as python:
        resolve_settings(config={}, **common)
    assert str(python.value).startswith("missing credentials, the account id and the region to call Function "
                                        "Compute: credentials: set "), python.value
    assert "the `account_id` argument" in str(python.value) and "cannot reach" not in str(python.value)
    keys = {"fc-invocation:accessKey": "id", "fc-invocation:secretKey": "secret"}
    with pytest.raises(ConfigurationError) as plugin:
        resolve_settings(config=keys, config_namespaces=("fc-invocation",), argument_name=camel, **common)
    assert str(plugin.value).startswith("missing the account id and the region to call Function Compute: "
                                        "the account id: set the `accountId` argument, Pulumi config "
                                        "`fc-invocation:accountId`, "), plugin.value
    assert "account_id" not in str(plugin.value) and "alicloud:" not in str(plugin.value)


@pytest.mark.parametrize("own", [
    {"fc-invocation:profile": "p2"},
    {"fc-invocation:sharedCredentialsFile": "{home}/other.ini"},
    {"fc-invocation:credentialsUri": "http://127.0.0.1:9/creds"},
], ids=["profile", "sharedCredentialsFile", "credentialsUri"])
def test_an_fc_invocation_credentials_setting_wins_over_every_alicloud_one_as_in_the_plugin(tmp_path, own):
    """The reviewer's probe: `fc-invocation:profile` beside `alicloud:accessKey` gave the Python program the
    alicloud key and the plugin (which sees only `fc-invocation:*`) the profile's. The config's credentials
    come from one namespace: `fc-invocation:*` when any of its credentials settings is set, whatever the
    source, so the same config gives the same credentials in every language."""
    profiles = "[default]\ntype = access_key\naccess_key_id = DEFAULTKEY\naccess_key_secret = s0\n" \
               "[p2]\ntype = access_key\naccess_key_id = FROMPROFILE\naccess_key_secret = s1\n"
    (tmp_path / ".alibabacloud").mkdir()
    (tmp_path / ".alibabacloud" / "credentials.ini").write_text(profiles)
    (tmp_path / "other.ini").write_text(profiles.replace("DEFAULTKEY", "FROMPROFILE"))
    own = {key: value.format(home=tmp_path) for key, value in own.items()}
    config = {**own, "alicloud:accessKey": "ALIKEY", "alicloud:secretKey": "ali-secret",
              "alicloud:profile": "default"}
    common = {"environ": {}, "home": tmp_path, "endpoint": "http://127.0.0.1:9"}
    python = resolve_settings(config=config, **common)
    plugin = resolve_settings(config=own, config_namespaces=("fc-invocation",), **common)
    assert python.credentials_source == plugin.credentials_source
    if "fc-invocation:credentialsUri" not in own:  # fetched on first use: the source names it
        assert python.credentials.access_key_id == plugin.credentials.access_key_id == "FROMPROFILE"
    # Without any `fc-invocation:` credentials setting, `alicloud:*` still configures a Python program.
    fallback = resolve_settings(config={key: value for key, value in config.items() if key.startswith("alicloud:")},
                                **common)
    assert fallback.credentials.access_key_id == "ALIKEY"


def test_the_same_config_set_commands_run_a_python_program_and_a_yaml_program(pulumi_bin, tmp_path):
    """`pulumi config set fc-invocation:<name>` for each setting, once: a Python program (the dynamic data
    source) and a YAML program (the plugin) both gate on the same FC 2.0 invocation with them."""
    python_dir, yaml_dir = tmp_path / "python", tmp_path / "yaml"
    python_dir.mkdir()
    yaml_dir.mkdir()
    (python_dir / "Pulumi.yaml").write_text("name: gates\nruntime: python\n")
    (python_dir / "__main__.py").write_text(PROGRAM)
    (yaml_dir / "Pulumi.yaml").write_text(YAML_PROGRAM)
    with FcEmulator(clock="real") as fc:
        fc.add_function("svc", "fn", outcome="Succeeded", queue_delay=0, duration=0.5)
        fc.client().invoke_async("svc", "fn", "{}", invocation_id="job-1")
        commands = plugin_config(fc)  # fc-invocation:accessKey, secretKey, accountId, region, endpoint
        assert all(key.startswith("fc-invocation:") for key in commands)
        with PulumiCli(python_dir, pulumi=pulumi_bin, env={"FC_INVOCATION_PROGRESS_SECONDS": "1"}) as cli:
            cli.config(commands, secret_keys={"fc-invocation:secretKey"})
            cli.config({"gates:ids": "job-1"})
            up = cli.up()
            assert up.ok, up.output
            assert cli.outputs()["status"] == "Succeeded"
        with PulumiCli(yaml_dir, pulumi=pulumi_bin, env=INSTALLED_ONLY) as cli:
            install_plugin(cli)
            cli.config(commands, secret_keys={"fc-invocation:secretKey"})
            up = cli.up()
            assert up.ok, up.output
            assert cli.outputs()["status"] == "Succeeded"
