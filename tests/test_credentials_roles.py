"""Role-based credentials through real HTTP: STS (AssumeRole, AssumeRoleWithOIDC), the ECS metadata service
and a credentials URI (pulumi_fc_invocation.testing.identity), against the FC emulator on a virtual clock."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pulumi_fc_invocation import credentials as cr
from pulumi_fc_invocation.client import FcClient
from pulumi_fc_invocation.credentials import Credentials, RefreshableCredentials, resolve_settings, sts_signature
from pulumi_fc_invocation.credentials import base as credentials_base
from pulumi_fc_invocation.credentials import metadata as credentials_metadata
from pulumi_fc_invocation.credentials.context import Context
from pulumi_fc_invocation.errors import (AuthenticationError, BadRequestError, ConfigurationError, FcApiError,
                                         InvalidArgumentError, InvalidResponseError, NotFoundError, ThrottledError,
                                         UnreachableError)
from pulumi_fc_invocation.testing import AutoAdvanceClock, FcEmulator
from pulumi_fc_invocation.testing.identity import IdentityServices
from pulumi_fc_invocation.waiter import WaitPolicy, use_clock, wait_for_invocation

ACCOUNT = "1234567890123456"
ROLE = f"acs:ram::{ACCOUNT}:role/deploy"
PROVIDER = f"acs:ram::{ACCOUNT}:oidc-provider/ci"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJlLTE"
JWT2 = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaTIifQ.c2lnbmF0dXJlLTI"
BASE_ID, BASE_SECRET = "LTAI5tBaseKeyForRoles", "base-secret-for-roles-0123456789"
VECTORS = json.loads((Path(__file__).resolve().parents[1].parent / "shared" / "reference" /
                      "sts-rpc-signature-vectors.json").read_text())


class World:
    def __init__(self, fc: FcEmulator, ids: IdentityServices, home: Path) -> None:
        self.fc, self.ids, self.home = fc, ids, home
        self.token_file = home / "oidc-token"
        self.token_file.write_text(JWT + "\n")

    def oidc_env(self, **extra: str) -> dict[str, str]:
        return self.ids.oidc_env(ROLE, PROVIDER, self.token_file, **extra)

    def base_env(self, **extra: str) -> dict[str, str]:
        return {"ALIBABA_CLOUD_ACCESS_KEY_ID": BASE_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": BASE_SECRET,
                "ALIBABA_CLOUD_STS_ENDPOINT": self.ids.sts_endpoint, **extra}

    def resolve(self, environ=None, config=None, **kwargs) -> cr.Settings:
        return resolve_settings(environ=environ or {}, config=config, home=self.home, endpoint=self.fc.endpoint,
                                account_id=self.fc.account_id, **kwargs)

    def client(self, settings: cr.Settings) -> FcClient:
        return FcClient(endpoint=self.fc.endpoint, account_id=self.fc.account_id, credentials=settings.credentials,
                        max_retries=0)


@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.setattr(credentials_base, "REFRESH_RETRY_DELAYS", (0.01, 0.01))
    cr.forget_cached_credentials()
    answered = []  # (request, virtual time) as FC answered them
    fc = FcEmulator(clock="virtual", on_request=lambda record: answered.append((record, fc.clock.now())))
    with fc, IdentityServices(fc, lifetime=900) as ids, use_clock(AutoAdvanceClock(fc.clock)):
        ids.add_role(ROLE)
        ids.add_oidc_provider(PROVIDER, JWT)
        ids.add_key(BASE_ID, BASE_SECRET)
        fc.add_function("svc", "fn", duration=5)
        world = World(fc, ids, tmp_path)
        world.answered = answered
        yield world
    cr.forget_cached_credentials()


def _read_ok(world: World, settings: cr.Settings) -> None:
    client = world.client(settings)
    client.invoke_async("svc", "fn", "{}", invocation_id=f"job-{len(world.fc.invocations)}")
    client.close()


# --- the signature ------------------------------------------------------------------------------------


def test_sts_signature_is_the_official_one():
    for vector in VECTORS["vectors"]:
        expected = vector["signature"] if vector["library_matches_spec"] else vector["spec_signature"]
        assert sts_signature("GET", vector["params"], vector["access_key_secret"]) == expected, vector["name"]


# --- each source through real HTTP -----------------------------------------------------------------------


def test_oidc_from_the_environment(world):
    settings = world.resolve(world.oidc_env())
    assert isinstance(settings.credentials, RefreshableCredentials)
    assert settings.credentials_source == f"AssumeRoleWithOIDC for role {ROLE} (from ALIBABA_CLOUD_ROLE_ARN)"
    assert world.ids.requests == []  # nothing is fetched until a request needs it
    _read_ok(world, settings)
    [request] = world.ids.requests
    assert (request.action, request.status, request.method, request.oidc_token) == ("AssumeRoleWithOIDC", 200,
                                                                                    "POST", JWT)
    issued = world.ids.issued[-1]
    assert settings.credentials.current().access_key_id == issued.access_key_id
    assert world.fc.requests[-1].access_key_id == issued.access_key_id


def test_oidc_from_pulumi_config(world):
    config = {"alicloud:assumeRoleWithOidc": json.dumps({
        "oidcProviderArn": PROVIDER, "roleArn": ROLE, "oidcTokenFile": str(world.token_file),
        "roleSessionName": "gha-42", "sessionExpiration": 1800})}
    settings = world.resolve({"ALIBABA_CLOUD_STS_ENDPOINT": world.ids.sts_endpoint}, config)
    assert settings.credentials_source.endswith("(from alicloud:assumeRoleWithOidc)")
    _read_ok(world, settings)
    assert world.ids.requests[-1].duration == 1800
    # The raw token instead of a file, as a mapping (what a Python caller may pass).
    cr.forget_cached_credentials()
    config = {"alicloud:assumeRoleWithOidc": {"oidcProviderArn": PROVIDER, "roleArn": ROLE, "oidcToken": JWT}}
    _read_ok(world, world.resolve({"ALIBABA_CLOUD_STS_ENDPOINT": world.ids.sts_endpoint}, config))
    assert world.ids.requests[-1].oidc_token == JWT


def test_assume_role_from_config_with_the_config_key(world):
    world.ids.add_role(f"acs:ram::{ACCOUNT}:role/guarded", external_id="ext-1234")
    config = {"alicloud:accessKey": BASE_ID, "alicloud:secretKey": BASE_SECRET,
              "alicloud:assumeRole": json.dumps({"roleArn": f"acs:ram::{ACCOUNT}:role/guarded",
                                                 "sessionName": "pulumi", "externalId": "ext-1234",
                                                 "policy": {"Version": "1", "Statement": [
                                                     {"Effect": "Allow", "Action": "fc:*", "Resource": "*"}]}})}
    settings = world.resolve({"ALIBABA_CLOUD_STS_ENDPOINT": world.ids.sts_endpoint}, config)
    _read_ok(world, settings)
    request = world.ids.requests[-1]
    assert (request.action, request.status, request.access_key_id) == ("AssumeRole", 200, BASE_ID)


def test_assume_role_with_a_wrong_external_id_names_the_role_and_the_setting(world):
    world.ids.add_role(f"acs:ram::{ACCOUNT}:role/guarded", external_id="ext-1234")
    config = {"alicloud:assumeRole": json.dumps({"roleArn": f"acs:ram::{ACCOUNT}:role/guarded",
                                                 "externalId": "ext-9999"})}
    settings = world.resolve(world.base_env(), config)  # the base key from the environment
    with pytest.raises(AuthenticationError) as info:
        settings.credentials.current()
    assert info.value.code == "NoPermission" and info.value.http_status == 403 and info.value.request_id
    assert str(info.value).startswith(f"NoPermission: AssumeRole for role acs:ram::{ACCOUNT}:role/guarded failed: ")
    assert "(from alicloud:assumeRole)" in str(info.value)
    assert world.ids.count("AssumeRole", status=403) == 1  # not retried: asking again cannot mend it


def test_assume_role_from_the_environment_role_arn(world):
    settings = world.resolve(world.base_env(ALIBABA_CLOUD_ROLE_ARN=ROLE))
    assert settings.credentials_source == f"AssumeRole for role {ROLE} (from ALIBABA_CLOUD_ROLE_ARN)"
    _read_ok(world, settings)
    assert world.ids.requests[-1].access_key_id == BASE_ID


def test_ecs_ram_role_uses_an_imdsv2_token(world):
    world.ids.set_ecs_role("ecs-deployer", imdsv2_required=True)
    env = {"ALIBABA_CLOUD_ECS_METADATA": "ecs-deployer", "FC_INVOCATION_METADATA_ENDPOINT": world.ids.endpoint}
    settings = world.resolve(env)
    assert settings.credentials_source.startswith("ECS RAM role ecs-deployer")
    _read_ok(world, settings)
    assert [(r.action, r.status, r.imds_token) for r in world.ids.requests] == [
        ("token", 200, False), ("credentials", 200, True)]


def test_ecs_ram_role_falls_back_to_imdsv1_unless_disabled(world):
    world.ids.set_ecs_role("ecs-deployer", token_endpoint=False)
    env = {"ALIBABA_CLOUD_ECS_METADATA": "ecs-deployer", "FC_INVOCATION_METADATA_ENDPOINT": world.ids.endpoint}
    _read_ok(world, world.resolve(env))
    assert [(r.action, r.status, r.imds_token) for r in world.ids.requests] == [
        ("token", 404, False), ("credentials", 200, False)]
    cr.forget_cached_credentials()
    with pytest.raises(NotFoundError, match="IMDSv1 is off"):
        world.resolve({**env, "ALIBABA_CLOUD_IMDSV1_DISABLED": "true"}).credentials.current()


def test_ecs_ram_role_from_config_discovers_nothing_when_named(world):
    world.ids.set_ecs_role("ecs-deployer")
    settings = world.resolve({"FC_INVOCATION_METADATA_ENDPOINT": world.ids.endpoint},
                             {"alicloud:ecsRoleName": "ecs-deployer"})
    assert "(from alicloud:ecsRoleName)" in settings.credentials_source
    _read_ok(world, settings)
    assert "role-name" not in [r.action for r in world.ids.requests]


def test_ecs_probe_is_last_in_the_chain_and_discovers_the_role(world):
    world.ids.set_ecs_role("instance-role")
    env = {"FC_INVOCATION_METADATA_ENDPOINT": world.ids.endpoint}
    settings = world.resolve(env)
    assert settings.credentials_source.startswith("ECS RAM role instance-role")
    assert [r.action for r in world.ids.requests] == ["token", "role-name", "credentials"]
    _read_ok(world, settings)
    # Off: the chain ends with the usual message naming every source.
    cr.forget_cached_credentials()
    with pytest.raises(ConfigurationError, match="ALIBABA_CLOUD_ECS_METADATA"):
        world.resolve({**env, "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"})
    # No role attached: not an error of its own, the chain just ends.
    cr.forget_cached_credentials()
    world.ids.set_ecs_role(None)
    with pytest.raises(ConfigurationError, match="^missing credentials to call Function Compute: "):
        world.resolve(env)


def test_ecs_probe_needs_an_ecs_instance(world, monkeypatch):
    # Without the metadata override and off ECS (no DMI "Alibaba Cloud"), nothing is probed at all.
    monkeypatch.setattr(credentials_metadata, "on_ecs", lambda: False)
    with pytest.raises(ConfigurationError, match="missing credentials"):
        world.resolve({})
    assert world.ids.requests == []


@pytest.mark.parametrize("where", ["env", "config"])
def test_credentials_uri(world, where):
    uri = world.ids.credentials_uri + "?job=42"
    env, config = ({"ALIBABA_CLOUD_CREDENTIALS_URI": uri}, None) if where == "env" else (
        {}, {"alicloud:credentialsUri": uri})
    settings = world.resolve(env, config)
    assert settings.credentials_source == (
        f"credentials URI {world.ids.credentials_uri} (from "
        f"{'ALIBABA_CLOUD_CREDENTIALS_URI' if where == 'env' else 'alicloud:credentialsUri'})")
    assert "job=42" not in repr(settings)  # the query may be a secret of the URI's own
    _read_ok(world, settings)
    assert world.ids.requests[-1].action == "uri"


# --- profiles ------------------------------------------------------------------------------------------


def _cli_config(world: World, current: str, *profiles: dict) -> None:
    (world.home / ".aliyun").mkdir(exist_ok=True)
    (world.home / ".aliyun" / "config.json").write_text(json.dumps({"current": current, "profiles": list(profiles)}))


def test_cli_profiles_ram_role_arn_and_chainable(world):
    _cli_config(world, "chained",
                {"name": "base", "mode": "AK", "access_key_id": BASE_ID, "access_key_secret": BASE_SECRET},
                {"name": "first", "mode": "RamRoleArn", "access_key_id": BASE_ID, "access_key_secret": BASE_SECRET,
                 "ram_role_arn": ROLE, "ram_session_name": "cli", "expired_seconds": 900},
                {"name": "chained", "mode": "ChainableRamRoleArn", "source_profile": "first",
                 "ram_role_arn": f"acs:ram::{ACCOUNT}:role/second"})
    world.ids.add_role(f"acs:ram::{ACCOUNT}:role/second")
    settings = world.resolve({"ALIBABA_CLOUD_STS_ENDPOINT": world.ids.sts_endpoint})
    assert "profile 'chained'" in settings.credentials_source
    _read_ok(world, settings)
    first, second = world.ids.requests
    assert (first.role, first.access_key_id, first.duration) == (ROLE, BASE_ID, 900)
    # The second AssumeRole is signed with the first's temporary key and carries its token.
    assert (second.role, second.status) == (f"acs:ram::{ACCOUNT}:role/second", 200)
    assert second.access_key_id == world.ids.issued[0].access_key_id


def test_cli_profiles_oidc_and_ecs(world):
    world.ids.set_ecs_role("ecs-deployer")
    _cli_config(world, "ci",
                {"name": "ci", "mode": "OIDC", "ram_role_arn": ROLE, "oidc_provider_arn": PROVIDER,
                 "oidc_token_file": str(world.token_file)},
                {"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "ecs-deployer"})
    env = {"ALIBABA_CLOUD_STS_ENDPOINT": world.ids.sts_endpoint, "FC_INVOCATION_METADATA_ENDPOINT": world.ids.endpoint}
    _read_ok(world, world.resolve(env))
    assert world.ids.requests[-1].action == "AssumeRoleWithOIDC"
    _read_ok(world, world.resolve({**env, "ALIBABA_CLOUD_PROFILE": "ecs"}))
    assert world.ids.requests[-1].action == "credentials"


def test_credentials_ini_role_types(world):
    world.ids.set_ecs_role("ecs-deployer")
    (world.home / ".alibabacloud").mkdir()
    (world.home / ".alibabacloud" / "credentials.ini").write_text(
        f"[default]\ntype = ram_role_arn\naccess_key_id = {BASE_ID}\naccess_key_secret = {BASE_SECRET}\n"
        f"role_arn = {ROLE}\nrole_session_name = ini\n"
        f"[oidc]\ntype = oidc_role_arn\nrole_arn = {ROLE}\noidc_provider_arn = {PROVIDER}\n"
        f"oidc_token_file_path = {world.token_file}\n"
        f"[ecs]\ntype = ecs_ram_role\nrole_name = ecs-deployer\n")
    env = {"ALIBABA_CLOUD_STS_ENDPOINT": world.ids.sts_endpoint, "FC_INVOCATION_METADATA_ENDPOINT": world.ids.endpoint}
    for profile, action in (("default", "AssumeRole"), ("oidc", "AssumeRoleWithOIDC"), ("ecs", "credentials")):
        _read_ok(world, world.resolve({**env, "ALIBABA_CLOUD_PROFILE": profile}))
        assert world.ids.requests[-1].action == action, profile


def test_a_chainable_profile_that_loops_is_refused(world):
    _cli_config(world, "a", {"name": "a", "mode": "ChainableRamRoleArn", "source_profile": "b", "ram_role_arn": ROLE},
                {"name": "b", "mode": "ChainableRamRoleArn", "source_profile": "a", "ram_role_arn": ROLE})
    with pytest.raises(ConfigurationError, match="leads back to itself"):
        world.resolve({})


# --- the chain's order ------------------------------------------------------------------------------------


def test_chain_order(world):
    """Every source configured at once; removing the winner each time gives the next, in the documented order."""
    world.ids.set_ecs_role("ecs-deployer")
    _cli_config(world, "cli", {"name": "cli", "mode": "OIDC", "ram_role_arn": ROLE, "oidc_provider_arn": PROVIDER,
                               "oidc_token_file": str(world.token_file)})
    (world.home / ".alibabacloud").mkdir()
    (world.home / ".alibabacloud" / "credentials.ini").write_text(
        f"[default]\ntype = access_key\naccess_key_id = LTAIiniKey000001\naccess_key_secret = ini-secret\n")
    config = {"alicloud:accessKey": "LTAIconfigKey0001", "alicloud:secretKey": "config-secret",
              "alicloud:assumeRoleWithOidc": json.dumps({"oidcProviderArn": PROVIDER, "roleArn": ROLE,
                                                         "oidcToken": JWT}),
              "alicloud:ecsRoleName": "ecs-deployer", "alicloud:credentialsUri": world.ids.credentials_uri}
    env = {**world.oidc_env(), "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIenvKey0000001", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "e",
           "ALIBABA_CLOUD_ECS_METADATA": "ecs-deployer", "FC_INVOCATION_METADATA_ENDPOINT": world.ids.endpoint,
           "ALIBABA_CLOUD_CREDENTIALS_URI": world.ids.credentials_uri}
    steps = [
        ("Pulumi config", lambda: [config.pop("alicloud:accessKey"), config.pop("alicloud:secretKey")]),
        ("(from alicloud:assumeRoleWithOidc)", lambda: config.pop("alicloud:assumeRoleWithOidc")),
        ("(from alicloud:ecsRoleName)", lambda: config.pop("alicloud:ecsRoleName")),
        ("(from alicloud:credentialsUri)", lambda: config.pop("alicloud:credentialsUri")),
        ("environment", lambda: [env.pop("ALIBABA_CLOUD_ACCESS_KEY_ID"), env.pop("ALIBABA_CLOUD_ACCESS_KEY_SECRET")]),
        ("AssumeRoleWithOIDC for role acs:ram::1234567890123456:role/deploy (from ALIBABA_CLOUD_ROLE_ARN)",
         lambda: env.pop("ALIBABA_CLOUD_OIDC_PROVIDER_ARN")),
        (".aliyun/config.json, profile 'cli')", lambda: (world.home / ".aliyun" / "config.json").unlink()),
        ("credentials.ini", lambda: (world.home / ".alibabacloud" / "credentials.ini").unlink()),
        ("(from ALIBABA_CLOUD_ECS_METADATA)", lambda: env.pop("ALIBABA_CLOUD_ECS_METADATA")),
        ("(from ALIBABA_CLOUD_CREDENTIALS_URI)", lambda: env.pop("ALIBABA_CLOUD_CREDENTIALS_URI")),
        ("(from the instance's RAM role (last in the chain))", lambda: None),
    ]
    for expected, remove in steps:
        source = world.resolve(dict(env), dict(config)).credentials_source
        assert source is not None and (source == expected or source.endswith(expected)), (expected, source)
        remove()
    assert world.resolve(dict(env), dict(config), credentials=Credentials("explicit", "s")).credentials_source == \
        "explicit"


def test_assume_role_in_config_chains_on_the_config_key_before_oidc(world):
    config = {"alicloud:accessKey": BASE_ID, "alicloud:secretKey": BASE_SECRET,
              "alicloud:assumeRole": json.dumps({"roleArn": ROLE}),
              "alicloud:assumeRoleWithOidc": json.dumps({"oidcProviderArn": PROVIDER, "roleArn": ROLE,
                                                         "oidcToken": JWT})}
    settings = world.resolve({"ALIBABA_CLOUD_STS_ENDPOINT": world.ids.sts_endpoint}, config)
    assert settings.credentials_source == f"AssumeRole for role {ROLE} (from alicloud:assumeRole)"
    del config["alicloud:accessKey"], config["alicloud:secretKey"]  # without a key, OIDC comes first (TF)
    assert world.resolve({"ALIBABA_CLOUD_STS_ENDPOINT": world.ids.sts_endpoint},
                         config).credentials_source.endswith("(from alicloud:assumeRoleWithOidc)")


def test_sts_endpoint_from_region_and_vpc(world):
    ctx = Context(None, {"ALIBABA_CLOUD_STS_REGION": "cn-shanghai"}, world.home)
    assert ctx.sts_endpoint() == "https://sts.cn-shanghai.aliyuncs.com"
    ctx = Context(None, {"ALIBABA_CLOUD_STS_REGION": "cn-shanghai", "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED": "true"},
                  world.home)
    assert ctx.sts_endpoint() == "https://sts-vpc.cn-shanghai.aliyuncs.com"
    assert Context(None, {}, world.home).sts_endpoint() == "https://sts.aliyuncs.com"
    assert Context(None, {"ALIBABA_CLOUD_STS_ENDPOINT": "sts.example.com"}, world.home).sts_endpoint() == \
        "https://sts.example.com"


# --- refresh ------------------------------------------------------------------------------------------


def test_refresh_before_expiry_during_a_two_hour_wait(world):
    """15-minute tokens and a 2-hour task: the wait refreshes ahead of every expiry, FC never sees a stale
    token; the first token, kept past its expiry, is refused by FC with SecurityTokenExpired."""
    world.fc.add_function("svc", "long", duration=7200)
    settings = world.resolve(world.oidc_env())
    client = world.client(settings)
    started = world.fc.now()
    ref = client.invoke_async("svc", "long", "{}", invocation_id="long-1")
    first = settings.credentials.current()
    outcome = wait_for_invocation(client, f"svc/long/{ref}", policy=WaitPolicy(
        timeout=3 * 3600, max_delay=120, duration_aware=False))
    assert outcome.result is not None and outcome.result.status.value == "Succeeded", outcome
    assert world.fc.now() - started >= 7200
    issued = world.ids.issued
    assert len(issued) >= 8  # at least one per 15 minutes of the two hours
    assert all(r.status in (200, 202) for r in world.fc.requests), [r for r in world.fc.requests if r.status >= 300]
    # Each FC request was signed with a key that had at least 60 s left at the time it was sent.
    expiry = {i.access_key_id: i.expires_at for i in issued}
    assert min(expiry[r.access_key_id] - r_time for r, r_time in _fc_times(world)) >= cr.MIN_TIME_LEFT
    stale = FcClient(endpoint=world.fc.endpoint, account_id=world.fc.account_id, credentials=first, max_retries=0)
    with pytest.raises(AuthenticationError) as info:
        stale.get_stateful_async_invocation("svc", "long", "long-1")
    assert info.value.code == "SecurityTokenExpired"


def _fc_times(world: World):
    """(request, virtual time it was answered at) for FC's requests signed with issued keys."""
    issued = {i.access_key_id for i in world.ids.issued}
    return [(r, t) for r, t in world.answered if r.access_key_id in issued]


def test_fc3_api_accepts_refreshed_tokens(world):
    world.fc.add_function(None, "render", duration=3600)
    settings = world.resolve(world.oidc_env())
    client = world.client(settings)
    task = client.invoke_async_task("render", "{}", task_id="t-1")
    before = settings.credentials.current().access_key_id
    world.fc.advance(600)  # 5 minutes left of 15: refreshed ahead
    assert client.get_async_task("render", task).task_id == task
    assert settings.credentials.current().access_key_id != before
    assert world.fc.requests[-1].status == 200


def test_no_request_is_signed_with_less_than_a_minute_left(world):
    settings = world.resolve(world.oidc_env())
    creds = settings.credentials
    snap = creds.current()
    world.fc.advance(900 - 59)  # 59 s left: unusable
    assert creds.current() is not snap and creds.current().expiration - world.fc.now() >= 60
    assert world.ids.count("AssumeRoleWithOIDC") == 2


def test_the_token_file_is_read_again_at_each_refresh(world):
    creds = world.resolve(world.oidc_env()).credentials
    creds.current()
    world.token_file.write_text(JWT2)  # the CI system rotated it
    world.ids.accept_oidc_token(PROVIDER, JWT2)
    world.ids.revoke_oidc_token(PROVIDER, JWT)
    world.fc.advance(600)
    creds.current()
    assert [r.oidc_token for r in world.ids.requests] == [JWT, JWT2]
    assert all(r.status == 200 for r in world.ids.requests)


def test_a_failing_refresh_is_retried(world):
    creds = world.resolve(world.oidc_env()).credentials
    world.ids.fail_next("sts", 503, "ServiceUnavailable", times=2)
    creds.current()
    assert [r.status for r in world.ids.requests] == [503, 503, 200]


def test_a_refresh_that_keeps_failing_is_classified_and_names_the_source(world):
    creds = world.resolve(world.oidc_env()).credentials
    world.ids.fail_next("sts", 503, "ServiceUnavailable", times=3)
    with pytest.raises(ThrottledError) as info:
        creds.current()
    text = str(info.value)
    assert text.startswith(f"ServiceUnavailable: AssumeRoleWithOIDC for role {ROLE} failed: ")
    assert "(from ALIBABA_CLOUD_ROLE_ARN)" in text and "after 3 attempts" in text and info.value.request_id
    assert world.ids.count(None, status=503) == 3


def test_an_early_refresh_that_fails_keeps_the_valid_key(world, caplog):
    creds = world.resolve(world.oidc_env()).credentials
    snap = creds.current()
    world.fc.advance(600)  # due for refresh, but 5 minutes left
    world.ids.fail_next("sts", 0, reset=True, times=3)
    with caplog.at_level(logging.WARNING, logger="pulumi_fc_invocation.credentials"):
        assert creds.current() is snap
    assert "AssumeRoleWithOIDC for role" in caplog.text and "300 s left" in caplog.text
    assert creds.current() is snap  # backing off: no new attempt right away
    world.fc.advance(120)
    assert creds.current() is not snap


def test_an_unreachable_sts_is_an_unreachable_error(world):
    env = world.oidc_env(ALIBABA_CLOUD_STS_ENDPOINT="http://127.0.0.1:9")
    with pytest.raises(UnreachableError, match=r"AssumeRoleWithOIDC for role .* failed: cannot reach STS at "
                                               r"http://127.0.0.1:9 .* \(from ALIBABA_CLOUD_ROLE_ARN\)"):
        world.resolve(env).credentials.current()


def test_a_rejected_oidc_token(world):
    world.token_file.write_text(JWT2)
    with pytest.raises(BadRequestError) as info:
        world.resolve(world.oidc_env()).credentials.current()
    assert info.value.code == "AuthenticationFail.OIDCToken.Invalid"
    assert f"AssumeRoleWithOIDC for role {ROLE} failed:" in str(info.value)


def test_a_missing_token_file_names_the_variable(world):
    env = world.oidc_env(ALIBABA_CLOUD_OIDC_TOKEN_FILE=str(world.home / "nope"))
    with pytest.raises(ConfigurationError, match=r"cannot read the OIDC token file .*nope \(from "
                                                 r"ALIBABA_CLOUD_OIDC_TOKEN_FILE\)"):
        world.resolve(env).credentials.current()


def test_credentials_that_live_under_a_minute_are_refused(world):
    world.ids.lifetime = 30
    with pytest.raises(InvalidResponseError, match="last only 30 s"):
        world.resolve(world.oidc_env()).credentials.current()


def test_very_short_lifetimes_refresh_every_time_they_must(world):
    world.ids.lifetime = 120
    creds = world.resolve(world.oidc_env()).credentials
    keys = set()
    for _ in range(5):
        keys.add(creds.current().access_key_id)
        world.fc.advance(61)
    assert len(keys) == 5


# --- bad settings: refused before any request ---------------------------------------------------------------


@pytest.mark.parametrize("config, message", [
    ({"alicloud:assumeRole": '{"roleArn": "deploy"}'}, "roleArn 'deploy' is not a role ARN"),
    ({"alicloud:assumeRole": '{"sessionName": "x"}'}, "roleArn is required"),
    ({"alicloud:assumeRole": json.dumps({"roleArn": ROLE, "sessionExpiration": 100})}, "900 to 43200"),
    ({"alicloud:assumeRole": json.dumps({"roleArn": ROLE, "policy": "{not json"})}, "policy is not JSON"),
    ({"alicloud:assumeRole": json.dumps({"roleArn": ROLE, "sessionName": "a b"})}, "sessionName 'a b'"),
    ({"alicloud:assumeRole": json.dumps({"rolearn": ROLE})}, "unknown key 'rolearn'"),
    ({"alicloud:assumeRole": "acs:ram::1:role/x"}, "alicloud:assumeRole must be an object"),
    ({"alicloud:assumeRoleWithOidc": json.dumps({"roleArn": ROLE, "oidcToken": JWT})}, "oidcProviderArn is required"),
    ({"alicloud:assumeRoleWithOidc": json.dumps({"roleArn": ROLE, "oidcProviderArn": PROVIDER})}, "needs an OIDC token"),
    ({"alicloud:credentialsUri": "ftp://x"}, "alicloud:credentialsUri: the credentials URI must be a full"),
    ({"alicloud:ecsRoleName": "a/b"}, "role name 'a/b' is not a RAM role name"),
])
def test_bad_role_settings_are_refused_before_any_request(world, config, message):
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        world.resolve(world.base_env(), config)
    assert world.ids.requests == []


def test_a_bad_sts_endpoint_names_the_variable(world):
    with pytest.raises(ConfigurationError, match="ALIBABA_CLOUD_STS_ENDPOINT: endpoint: it contains a user name"):
        world.resolve(world.oidc_env(ALIBABA_CLOUD_STS_ENDPOINT="http://u:p@127.0.0.1:1"))


def test_an_oidc_provider_without_a_role_is_refused(world):
    env = world.oidc_env()
    del env["ALIBABA_CLOUD_ROLE_ARN"]
    with pytest.raises(ConfigurationError, match="ALIBABA_CLOUD_OIDC_PROVIDER_ARN is set but ALIBABA_CLOUD_ROLE_ARN"):
        world.resolve(env)


# --- caching and sharing -------------------------------------------------------------------------------------


def test_one_cached_key_per_source_per_process(world):
    first = world.resolve(world.oidc_env()).credentials
    second = world.resolve(world.oidc_env()).credentials
    assert first is second  # the provider resolves per call: one STS call, one cached client
    other = world.resolve(world.oidc_env(ALIBABA_CLOUD_ROLE_SESSION_NAME="other")).credentials
    assert other is not first


def _in_threads(target, count: int) -> None:
    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_threads_share_one_refresh_and_read_consistent_keys(world):
    creds = world.resolve(world.oidc_env()).credentials
    seen, errors = [], []

    def read():
        try:
            for _ in range(20):
                seen.append((creds.access_key_id, creds.access_key_secret, creds.security_token))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    _in_threads(read, 8)
    assert not errors and world.ids.count("AssumeRoleWithOIDC") == 1
    issued = {(i.access_key_id, i.access_key_secret, i.security_token) for i in world.ids.issued}
    assert set(seen) <= issued


def test_plain_http_to_another_host_warns_once(caplog, tmp_path):
    """Temporary credentials over plain HTTP off this machine: one warning per host, without the URI's query;
    none for loopback."""
    uri = {"ALIBABA_CLOUD_CREDENTIALS_URI": "http://creds-warn-once.example:8080/x?secret=query-secret"}
    with caplog.at_level(logging.WARNING, logger="pulumi_fc_invocation.credentials"):
        for environ in (uri, uri, {"ALIBABA_CLOUD_CREDENTIALS_URI": "http://localhost:8080/x"}):
            resolve_settings(environ=environ, endpoint="http://127.0.0.1:1", home=tmp_path)
    assert [r.getMessage() for r in caplog.records if "plain HTTP" in r.getMessage()] == [
        "the credentials URI uses plain HTTP to creds-warn-once.example:8080, a host that is not loopback: "
        "temporary credentials cross the network unencrypted; use https://"]
    assert "query-secret" not in caplog.text


def test_importing_the_package_loads_no_credentials_library():
    code = ("import sys, pulumi_fc_invocation, pulumi_fc_invocation.credentials as c; "
            "c.resolve_settings(environ={'ALIBABA_CLOUD_ROLE_ARN': 'acs:ram::1:role/x', "
            "'ALIBABA_CLOUD_OIDC_PROVIDER_ARN': 'acs:ram::1:oidc-provider/p', 'ALIBABA_CLOUD_OIDC_TOKEN_FILE': '/x'}, "
            "endpoint='http://127.0.0.1:1'); "
            "print(sorted(m for m in ('requests', 'alibabacloud_credentials', 'Tea', 'aiohttp') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# --- the Pulumi layer -----------------------------------------------------------------------------------


def test_program_and_provider_host_each_fetch_their_own(world):
    """The config keys reach the provider host through CONFIG_KEYS; the host and the program process each
    exchange the OIDC token themselves (credentials are never pickled into state)."""
    import pulumi

    from pulumi_fc_invocation import StatefulAsyncInvocation, get_stateful_async_invocation_output
    from pulumi_fc_invocation.testing.harness import run_program

    world.fc.add_invocation("svc", "fn", "job-oidc", timeline=[("Running", 0), ("Succeeded", 5)])
    config = {"alicloud:assumeRoleWithOidc": json.dumps({"oidcProviderArn": PROVIDER, "roleArn": ROLE,
                                                         "oidcTokenFile": str(world.token_file)}),
              "alicloud:accountId": world.fc.account_id, "fc-invocation:endpoint": world.fc.endpoint}
    env = {"ALIBABA_CLOUD_STS_ENDPOINT": world.ids.sts_endpoint,
           **{name: "" for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                                    "ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY", "FC_INVOCATION_ENDPOINT")}}

    def program():
        inv = StatefulAsyncInvocation("inv", service_name="svc", function_name="fn", invocation_id="job-oidc",
                                      wait_for_completion=True, timeout_seconds=600)
        fn = get_stateful_async_invocation_output("svc", "fn", "job-oidc")
        pulumi.export("statuses", pulumi.Output.all(inv.status, fn.status))

    result = run_program(program, config=config, env=env)
    assert result.outputs["statuses"][0] == "Succeeded"  # the gate waited
    assert result.outputs["statuses"][1] in ("Running", "Succeeded")  # the function form read once
    oidc = [r for r in world.ids.requests if r.action == "AssumeRoleWithOIDC"]
    assert len(oidc) >= 2 and all(r.status == 200 and r.oidc_token == JWT for r in oidc)  # program + host
    issued = {i.access_key_id for i in world.ids.issued}
    used = {r.access_key_id for r in world.fc.requests}
    assert used <= issued and len(used) >= 2
    blobs = [rec.provider_blob or "" for rec in result.resources]
    import base64

    state = repr(result.outputs) + "".join(repr(rec.outputs) + repr(rec.inputs) for rec in result.resources) + \
        "".join(base64.b64decode(b).decode("latin-1") for b in blobs if b)
    for issued_key in world.ids.issued:
        assert issued_key.access_key_secret not in state and issued_key.security_token not in state
    assert JWT not in state


def test_a_half_formed_sts_answer_names_the_missing_field_not_the_secret(world):
    world.ids.fail_next("sts", 200, body={"RequestId": "r-1", "Credentials": {
        "AccessKeyId": "STS.half", "AccessKeySecret": "live-secret-in-a-broken-answer", "Expiration": "2030-01-01T00:00:00Z"}})
    with pytest.raises(InvalidResponseError) as info:
        world.resolve(world.oidc_env()).credentials.current()
    assert "has no SecurityToken" in str(info.value) and "live-secret" not in str(info.value)
    assert world.ids.count(None, status=200) == 1  # not retried: the answer is the answer


def test_a_chained_role_whose_source_fails_keeps_the_source_error_class(world):
    _cli_config(world, "chained",
                {"name": "first", "mode": "RamRoleArn", "access_key_id": BASE_ID, "access_key_secret": BASE_SECRET,
                 "ram_role_arn": f"acs:ram::{ACCOUNT}:role/missing"},
                {"name": "chained", "mode": "ChainableRamRoleArn", "source_profile": "first", "ram_role_arn": ROLE})
    with pytest.raises(NotFoundError) as info:
        world.resolve({"ALIBABA_CLOUD_STS_ENDPOINT": world.ids.sts_endpoint}).credentials.current()
    text = str(info.value)
    assert info.value.code == "EntityNotExist.Role"
    assert text.startswith(f"EntityNotExist.Role: AssumeRole for role {ROLE} failed: its source credentials: ")
    assert f"AssumeRole for role acs:ram::{ACCOUNT}:role/missing failed" in text and "profile 'first'" in text


def test_threads_due_for_a_refresh_make_one_sts_call(world):
    creds = world.resolve(world.oidc_env()).credentials
    creds.current()
    world.fc.advance(600)  # due, 5 minutes left: one thread refreshes, the others keep signing
    barrier = threading.Barrier(8)
    keys, errors = [], []

    def read():
        try:
            barrier.wait()
            keys.append(creds.current().access_key_id)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    _in_threads(read, 8)
    assert not errors and world.ids.count("AssumeRoleWithOIDC") == 2
    assert set(keys) <= {i.access_key_id for i in world.ids.issued}


def test_terraform_environment_names(world):
    world.ids.set_ecs_role("ecs-deployer")
    env = world.base_env(ALICLOUD_ASSUME_ROLE_ARN=ROLE, ALICLOUD_ASSUME_ROLE_SESSION_NAME="tf-session",
                         ALICLOUD_ASSUME_ROLE_SESSION_EXPIRATION="1200")
    settings = world.resolve(env)
    assert settings.credentials_source == f"AssumeRole for role {ROLE} (from ALICLOUD_ASSUME_ROLE_ARN)"
    settings.credentials.current()
    assert world.ids.requests[-1].duration == 1200
    assert world.resolve({"ALICLOUD_ECS_ROLE_NAME": "ecs-deployer"}).credentials_source.endswith(
        "(from ALICLOUD_ECS_ROLE_NAME)")
    assert world.resolve({"ALICLOUD_CREDENTIALS_URI": world.ids.credentials_uri}).credentials_source.endswith(
        "(from ALICLOUD_CREDENTIALS_URI)")
    with pytest.raises(ConfigurationError, match="ALICLOUD_ASSUME_ROLE_SESSION_EXPIRATION must be a whole number"):
        world.resolve(dict(env, ALICLOUD_ASSUME_ROLE_SESSION_EXPIRATION="60"))


def test_refresh_with_the_refused_snapshot_fetches_only_while_it_is_cached(world):
    creds = world.resolve(world.oidc_env()).credentials
    first = creds.current()
    second = creds.refresh(stale=first)  # still the cached one: fetched
    assert world.ids.count("AssumeRoleWithOIDC") == 2 and second.access_key_id != first.access_key_id
    # Another caller refused with the same old key gets the newer one, without an STS call.
    assert creds.refresh(stale=first) is second
    assert creds.refresh(stale=Credentials(first.access_key_id, first.access_key_secret,
                                           first.security_token)) is second  # judged by value, not identity
    assert world.ids.count("AssumeRoleWithOIDC") == 2
    third = creds.refresh()  # no argument: always fetches, as before
    assert world.ids.count("AssumeRoleWithOIDC") == 3 and third.access_key_id != second.access_key_id
    assert creds.refresh(stale=creds) is not third and world.ids.count("AssumeRoleWithOIDC") == 4  # itself: no snapshot
    with pytest.raises(InvalidArgumentError, match="stale"):
        creds.refresh(stale="STS.key")
    assert world.ids.count("AssumeRoleWithOIDC") == 4
