"""The Pulumi config's credentials, in terraform-provider-alicloud's precedence: an access key, alone or as
the base of ``assumeRole``; without one, ``assumeRoleWithOidc``, then ``assumeRole`` on a key from the
environment or the profile files, then ``ecsRoleName``, then ``credentialsUri``. One provider each."""

from __future__ import annotations

from typing import Any, Optional

from ..errors import ConfigurationError
from .base import Credentials
from .context import Context, CredentialProvider, Found
from .env import key_pair
from .metadata import ecs_ram_role
from .profiles import profile_credentials
from .settings import SETTING_SOURCES, config_object, first
from .sts import assume_role, assume_role_with_oidc, required_role_arn
from .uri import credentials_uri

__all__ = ["ConfigKeyProvider", "ConfigOidcProvider", "ConfigAssumeRoleProvider", "ConfigEcsRoleProvider",
           "ConfigUriProvider"]

_ASSUME_ROLE = "alicloud:assumeRole"
_ASSUME_ROLE_KEYS = ("roleArn", "sessionName", "sessionExpiration", "policy", "externalId")
_WHERE = "Pulumi config alicloud:assumeRole"


def _assume_role_config(ctx: Context) -> Optional[dict[str, Any]]:
    return config_object(ctx.config, _ASSUME_ROLE, _ASSUME_ROLE_KEYS)


def _role(assume: dict[str, Any]) -> str:
    return required_role_arn(assume.get("roleArn"), "roleArn", _WHERE)


def _assumed(ctx: Context, assume: dict[str, Any], role: str, base: Credentials) -> Found:
    creds = assume_role(ctx, base, role_arn=role, where=_WHERE, origin="alicloud:assumeRole",
                        session_name=assume.get("sessionName"), duration=assume.get("sessionExpiration"),
                        policy=assume.get("policy"), external_id=assume.get("externalId"))
    return creds, creds.source


class ConfigKeyProvider(CredentialProvider):
    """``alicloud:accessKey`` + ``alicloud:secretKey`` (+ ``alicloud:securityToken``), or AssumeRole on them
    with ``alicloud:assumeRole``."""

    def load(self, ctx: Context) -> Optional[Found]:
        key = key_pair(ctx.config, "config", "Pulumi config")
        assume = _assume_role_config(ctx)  # checked even without a key: its mistakes come first
        if key is None:
            return None
        if assume is not None:
            return _assumed(ctx, assume, _role(assume), key)
        return key, "Pulumi config"


class ConfigOidcProvider(CredentialProvider):
    """``alicloud:assumeRoleWithOidc`` (its missing parts from the environment's OIDC settings)."""

    def load(self, ctx: Context) -> Optional[Found]:
        oidc = ctx.config_oidc()
        if oidc is None:
            return None
        where = "Pulumi config alicloud:assumeRoleWithOidc"
        role = required_role_arn(oidc.get("roleArn") or ctx.env_value("assume_role")[0], "roleArn", where)
        file_value, file_name = ctx.env_value("oidc_token_file")
        token_file = oidc.get("oidcTokenFile") or (None if oidc.get("oidcToken") else file_value)
        token_origin = ("alicloud:assumeRoleWithOidc.oidcTokenFile" if oidc.get("oidcTokenFile") else
                        "alicloud:assumeRoleWithOidc.oidcToken" if oidc.get("oidcToken") else file_name or "")
        creds = assume_role_with_oidc(
            ctx, role_arn=role, provider_arn=oidc.get("oidcProviderArn") or ctx.env_value("assume_role_with_oidc")[0],
            token=oidc.get("oidcToken") or ctx.env_value("oidc_token")[0], token_file=token_file, where=where,
            origin="alicloud:assumeRoleWithOidc", token_origin=token_origin, session_name=oidc.get("roleSessionName"),
            duration=oidc.get("sessionExpiration"), policy=oidc.get("policy"))
        return creds, creds.source


class ConfigAssumeRoleProvider(CredentialProvider):
    """``alicloud:assumeRole`` without a config key: on the environment's key, else the profile files'."""

    def load(self, ctx: Context) -> Optional[Found]:
        assume = _assume_role_config(ctx)
        if assume is None:
            return None
        role = _role(assume)
        base = key_pair(ctx.env, "env", "environment") or profile_credentials(ctx)
        if base is None:
            raise ConfigurationError(f"{_WHERE} needs an access key to call AssumeRole with: set Pulumi config "
                                     "alicloud:accessKey + alicloud:secretKey, ALIBABA_CLOUD_ACCESS_KEY_ID + "
                                     "ALIBABA_CLOUD_ACCESS_KEY_SECRET, or a profile")
        return _assumed(ctx, assume, role, base)


class ConfigEcsRoleProvider(CredentialProvider):
    """``alicloud:ecsRoleName``: that RAM role of this ECS instance."""

    def load(self, ctx: Context) -> Optional[Found]:
        role_name = first(ctx.config, SETTING_SOURCES["ecs_role_name"]["config"])
        if role_name is None:
            return None
        creds = ecs_ram_role(ctx, role_name, where="Pulumi config alicloud:ecsRoleName", origin="alicloud:ecsRoleName")
        return creds, creds.source


class ConfigUriProvider(CredentialProvider):
    """``alicloud:credentialsUri``."""

    def load(self, ctx: Context) -> Optional[Found]:
        uri = first(ctx.config, SETTING_SOURCES["credentials_uri"]["config"])
        if uri is None:
            return None
        creds = credentials_uri(uri, origin="alicloud:credentialsUri")
        return creds, creds.source
