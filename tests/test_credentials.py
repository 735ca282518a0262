import json
import pickle

import pytest

from pulumi_fc_invocation import ConfigurationError, Credentials, FcClient
from pulumi_fc_invocation.credentials import resolve_settings

SECRET = "s3cr3t-Value-0123456789"
TOKEN = "CAIS-sts-token-value-xyz"


def test_explicit_wins_over_everything(tmp_path):
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "envkey", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "envsecret",
           "ALIBABA_CLOUD_REGION": "cn-shanghai", "ALIBABA_CLOUD_ACCOUNT_ID": "111"}
    config = {"alicloud:accessKey": "cfgkey", "alicloud:secretKey": "cfgsecret", "alicloud:region": "cn-beijing"}
    s = resolve_settings(credentials=Credentials("explicit", SECRET), region="ap-southeast-1", account_id="222",
                         config=config, environ=env, home=tmp_path)
    assert s.credentials.access_key_id == "explicit" and s.region == "ap-southeast-1" and s.account_id == "222"
    assert s.endpoint == "https://222.ap-southeast-1.fc.aliyuncs.com"


def test_pulumi_config_beats_environment(tmp_path):
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "envkey", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "envsecret",
           "ALIBABA_CLOUD_REGION": "cn-shanghai", "ALIBABA_CLOUD_ACCOUNT_ID": "111"}
    config = {"alicloud:accessKey": "cfgkey", "alicloud:secretKey": SECRET, "alicloud:securityToken": TOKEN,
              "alicloud:region": "cn-beijing", "alicloud:accountId": "333",
              "fc-invocation:endpoint": "http://127.0.0.1:9000/"}
    s = resolve_settings(config=config, environ=env, home=tmp_path)
    assert s.credentials == Credentials("cfgkey", SECRET, TOKEN)
    assert (s.region, s.account_id, s.endpoint) == ("cn-beijing", "333", "http://127.0.0.1:9000")
    assert s.credentials_source == "Pulumi config"


@pytest.mark.parametrize("prefix", ["ALIBABA_CLOUD", "ALICLOUD"])
def test_environment(tmp_path, prefix):
    names = {
        "ALIBABA_CLOUD": ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
                          "ALIBABA_CLOUD_REGION", "ALIBABA_CLOUD_ACCOUNT_ID"),
        "ALICLOUD": ("ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY", "ALICLOUD_SECURITY_TOKEN", "ALICLOUD_REGION",
                     "ALICLOUD_ACCOUNT_ID"),
    }[prefix]
    env = dict(zip(names, ("envkey", SECRET, TOKEN, "cn-hangzhou", "444")))
    s = resolve_settings(environ=env, home=tmp_path, internal=True)
    assert s.credentials == Credentials("envkey", SECRET, TOKEN)
    assert s.endpoint == "https://444.cn-hangzhou-internal.fc.aliyuncs.com"
    assert s.credentials_source == "environment"


def test_environment_endpoint(tmp_path):
    env = {"ALICLOUD_ACCESS_KEY": "k", "ALICLOUD_SECRET_KEY": SECRET, "FC_INVOCATION_ENDPOINT": "http://localhost:1"}
    s = resolve_settings(environ=env, home=tmp_path)
    assert s.endpoint == "http://localhost:1" and s.region is None


def test_shared_ini_file_with_profile(tmp_path):
    (tmp_path / ".alibabacloud").mkdir()
    (tmp_path / ".alibabacloud" / "credentials.ini").write_text(
        "[default]\ntype = access_key\naccess_key_id = defkey\naccess_key_secret = defsecret\n\n"
        f"[ci]\nenable = true\ntype = access_key\naccess_key_id = cikey\naccess_key_secret = {SECRET}\nregion_id = cn-shenzhen\n")
    s = resolve_settings(environ={"ALIBABA_CLOUD_PROFILE": "ci", "ALIBABA_CLOUD_ACCOUNT_ID": "5"}, home=tmp_path)
    assert s.credentials == Credentials("cikey", SECRET) and s.region == "cn-shenzhen"
    s = resolve_settings(environ={}, config={"alicloud:accountId": "5", "alicloud:region": "r"}, home=tmp_path)
    assert s.credentials.access_key_id == "defkey"


def test_shared_credentials_file_from_config(tmp_path):
    path = tmp_path / "elsewhere.ini"
    path.write_text(f"[p]\naccess_key_id = filekey\naccess_key_secret = {SECRET}\n")
    s = resolve_settings(config={"alicloud:sharedCredentialsFile": str(path), "alicloud:profile": "p",
                                 "alicloud:region": "r", "alicloud:accountId": "1"}, environ={}, home=tmp_path)
    assert s.credentials.access_key_id == "filekey"


def test_cli_config_json(tmp_path):
    (tmp_path / ".aliyun").mkdir()
    (tmp_path / ".aliyun" / "config.json").write_text(json.dumps({"current": "sts", "profiles": [
        {"name": "default", "mode": "AK", "access_key_id": "akkey", "access_key_secret": "x", "region_id": "cn-a"},
        {"name": "sts", "mode": "StsToken", "access_key_id": "stskey", "access_key_secret": SECRET,
         "sts_token": TOKEN, "region_id": "cn-b"}]}))
    s = resolve_settings(environ={"ALICLOUD_ACCOUNT_ID": "9"}, home=tmp_path)
    assert s.credentials == Credentials("stskey", SECRET, TOKEN) and s.region == "cn-b"
    s = resolve_settings(environ={"ALICLOUD_ACCOUNT_ID": "9", "ALICLOUD_PROFILE": "default"}, home=tmp_path)
    assert s.credentials.access_key_id == "akkey" and s.region == "cn-a"


def test_missing_settings_name_every_source(tmp_path):
    with pytest.raises(ConfigurationError) as info:
        resolve_settings(environ={}, home=tmp_path)
    text = str(info.value)
    for name in ("alicloud:accessKey", "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALICLOUD_ACCESS_KEY", "credentials.ini",
                 "alicloud:accountId", "ALIBABA_CLOUD_ACCOUNT_ID", "ALICLOUD_ACCOUNT_ID", "alicloud:region",
                 "ALIBABA_CLOUD_REGION", "ALICLOUD_REGION", "FC_INVOCATION_ENDPOINT", "fc-invocation:endpoint"):
        assert name in text, name


def test_missing_credentials_name_only_what_the_caller_can_set(tmp_path):
    # The data sources (resolve_settings without an argument name) have no `credentials` argument.
    with pytest.raises(ConfigurationError) as info:
        resolve_settings(environ={}, home=tmp_path, endpoint="http://127.0.0.1:9")
    assert "argument" not in str(info.value) and "alicloud:accessKey" in str(info.value)
    with pytest.raises(ConfigurationError) as info:
        FcClient(environ={}, home=str(tmp_path), endpoint="http://127.0.0.1:9")
    assert "set the `credentials` argument, Pulumi config `fc-invocation:accessKey`" in str(info.value)


def test_half_a_key_pair_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET"):
        resolve_settings(environ={"ALIBABA_CLOUD_ACCESS_KEY_ID": "k"}, home=tmp_path)


def test_secret_never_shown():
    c = Credentials("LTAI5tExampleKeyId00", SECRET, TOKEN)
    for text in (repr(c), str(c), f"{c}", repr([c]), repr(resolve_settings(credentials=c, endpoint="http://x"))):
        assert SECRET not in text and TOKEN not in text
    with pytest.raises(TypeError):
        pickle.dumps(c)
    client = FcClient(endpoint="http://127.0.0.1:1", credentials=c)
    assert SECRET not in repr(client) and TOKEN not in repr(client)
    with pytest.raises(TypeError):
        pickle.dumps(client)


def test_client_constructor_uses_chain(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALICLOUD_ACCESS_KEY", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                 "ALICLOUD_SECRET_KEY", "FC_INVOCATION_ENDPOINT", "ALIBABA_CLOUD_REGION", "ALICLOUD_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "envkey")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCOUNT_ID", "123")
    monkeypatch.setenv("ALIBABA_CLOUD_REGION", "cn-hangzhou")
    client = FcClient.from_environment()
    assert client.endpoint == "https://123.cn-hangzhou.fc.aliyuncs.com"
    assert client.credentials.access_key_id == "envkey"
    client = FcClient.from_environment(region="eu-central-1")
    assert client.endpoint == "https://123.eu-central-1.fc.aliyuncs.com"


def test_token_from_a_file_with_a_trailing_newline_is_stripped_and_line_breaks_refused():
    assert Credentials("k", SECRET, TOKEN + "\n").security_token == TOKEN
    with pytest.raises(ConfigurationError) as info:
        Credentials("k", SECRET, "abc\ndef")
    assert "abc" not in str(info.value)


def test_unusable_shared_profile_does_not_break_complete_settings(tmp_path):
    (tmp_path / ".alibabacloud").mkdir()
    (tmp_path / ".alibabacloud" / "credentials.ini").write_text("[default]\ntype = rsa_key_pair\npublic_key_id = ci\n")
    env = {"ALICLOUD_ACCESS_KEY": "k", "ALICLOUD_SECRET_KEY": SECRET, "ALICLOUD_ACCOUNT_ID": "1"}
    s = resolve_settings(environ=env, home=tmp_path, region=None, endpoint="http://127.0.0.1:1")
    assert s.credentials.access_key_id == "k"
    with pytest.raises(ConfigurationError, match="region") as info:  # region sought in the files: the
        resolve_settings(environ=env, home=tmp_path)                    # error is the missing region
    assert "rsa_key_pair" not in str(info.value)
    with pytest.raises(ConfigurationError, match="rsa_key_pair"):
        resolve_settings(environ={"ALICLOUD_ACCOUNT_ID": "1", "ALICLOUD_REGION": "r"}, home=tmp_path)


def test_a_cli_profile_without_keys_still_names_the_region(tmp_path):
    """An AK profile of the CLI's config.json without keys gives no credentials but its region; credentials.ini is
    then read, and its profile (credentials and region) is the one used."""
    (tmp_path / ".aliyun").mkdir()
    (tmp_path / ".aliyun" / "config.json").write_text(json.dumps(
        {"profiles": [{"name": "default", "mode": "AK", "region_id": "cn-shanghai"}]}))
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "envkey", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET}
    s = resolve_settings(environ=env, home=tmp_path, account_id="123")
    assert (s.region, s.credentials_source) == ("cn-shanghai", "environment")
    (tmp_path / ".alibabacloud").mkdir()
    (tmp_path / ".alibabacloud" / "credentials.ini").write_text(
        f"[default]\naccess_key_id = inikey\naccess_key_secret = {SECRET}\nregion_id = cn-beijing\n")
    s = resolve_settings(environ={}, home=tmp_path, account_id="123")
    assert s.credentials == Credentials("inikey", SECRET) and s.region == "cn-beijing"
    assert s.credentials_source == str(tmp_path / ".alibabacloud" / "credentials.ini")


def test_config_assume_role_takes_its_key_from_a_profile(tmp_path):
    """``alicloud:assumeRole`` without a config or environment key calls AssumeRole with the profile's key (whose
    file also gives the region); with no key anywhere it says where one goes."""
    config = {"alicloud:assumeRole": json.dumps({"roleArn": "acs:ram::123:role/deploy"})}
    with pytest.raises(ConfigurationError, match="alicloud:assumeRole needs an access key to call AssumeRole with"):
        resolve_settings(config=config, environ={}, home=tmp_path, account_id="123", region="cn-hangzhou")
    (tmp_path / ".alibabacloud").mkdir()
    (tmp_path / ".alibabacloud" / "credentials.ini").write_text(
        f"[default]\naccess_key_id = inikey\naccess_key_secret = {SECRET}\nregion_id = cn-beijing\n")
    s = resolve_settings(config=config, environ={}, home=tmp_path, account_id="123")
    assert s.credentials_source == "AssumeRole for role acs:ram::123:role/deploy (from alicloud:assumeRole)"
    assert s.region == "cn-beijing" and s.endpoint == "https://123.cn-beijing.fc.aliyuncs.com"


def test_every_constant_a_credential_provider_declares_is_read():
    """A provider's class constants are read somewhere in the package (a name nothing reads is a promise
    nobody keeps: each provider's METHOD was "for logs and lookup" and never read by either)."""
    import ast
    import pathlib

    import pulumi_fc_invocation
    from pulumi_fc_invocation.credentials.chain import PRECEDENCE
    from pulumi_fc_invocation.credentials.context import CredentialProvider
    from pulumi_fc_invocation.credentials.metadata import InstanceMetadataProvider

    classes = {cls for p in (*PRECEDENCE, InstanceMetadataProvider()) for cls in type(p).__mro__
               if issubclass(cls, CredentialProvider)}
    declared = {name for cls in classes for name in vars(cls) if name.isupper()}
    read = {node.attr for path in pathlib.Path(pulumi_fc_invocation.__file__).parent.rglob("*.py")
            for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Attribute)}
    assert declared <= read, sorted(declared - read)
