"""The Pulumi config's credentials, in terraform-provider-alicloud's precedence: an access key, alone or as
the base of ``assumeRole``; without one, ``assumeRoleWithOidc``, then ``assumeRole`` on a key from the
environment or the profile files, then ``ecsRoleName``, then ``credentialsUri``. One provider each; each
reads its setting under ``fc-invocation:<name>`` first, then ``alicloud:<name>`` (``SETTING_SOURCES``), and
names the key it read in its messages and its credentials' source."""

from __future__ import annotations

from typing import Any, Optional

from ..errors import ConfigurationError
from .base import Credentials
from .context import Context, CredentialProvider, Found
from .env import key_pair
from .metadata import ecs_ram_role
from .profiles import profile_credentials
from .sts import assume_role, assume_role_with_oidc, required_role_arn
from .uri import credentials_uri

__all__ = ["ConfigKeyProvider", "ConfigOidcProvider", "ConfigAssumeRoleProvider", "ConfigEcsRoleProvider",
           "ConfigUriProvider"]

_ASSUME_ROLE_KEYS = ("roleArn", "sessionName", "sessionExpiration", "policy", "externalId")


def _assume_role_config(ctx: Context) -> tuple[Optional[dict[str, Any]], str]:
    return ctx.config_object("assume_role", _ASSUME_ROLE_KEYS)


def _role(assume: dict[str, Any], key: str) -> str:
    return required_role_arn(assume.get("roleArn"), "roleArn", f"Pulumi config {key}")


def _assumed(ctx: Context, assume: dict[str, Any], key: str, base: Credentials) -> Found:
    creds = assume_role(ctx, base, role_arn=_role(assume, key), where=f"Pulumi config {key}", origin=key,
                        session_name=assume.get("sessionName"), duration=assume.get("sessionExpiration"),
                        policy=assume.get("policy"), external_id=assume.get("externalId"))
    return creds, creds.source


class ConfigKeyProvider(CredentialProvider):
    """``accessKey`` + ``secretKey`` (+ ``securityToken``) of one namespace, or AssumeRole on them with
    ``assumeRole``."""

    def load(self, ctx: Context) -> Optional[Found]:
        key = key_pair(ctx.config, "config", "Pulumi config")
        assume, assume_key = _assume_role_config(ctx)  # checked even without a key: its mistakes come first
        if key is None:
            return None
        if assume is not None:
            return _assumed(ctx, assume, assume_key, key)
        return key, "Pulumi config"


class ConfigOidcProvider(CredentialProvider):
    """``assumeRoleWithOidc`` (its missing parts from the environment's OIDC settings)."""

    def load(self, ctx: Context) -> Optional[Found]:
        oidc, key = ctx.config_oidc()
        if oidc is None:
            return None
        where = f"Pulumi config {key}"
        role = required_role_arn(oidc.get("roleArn") or ctx.env_value("assume_role")[0], "roleArn", where)
        file_value, file_name = ctx.env_value("oidc_token_file")
        token_file = oidc.get("oidcTokenFile") or (None if oidc.get("oidcToken") else file_value)
        token_origin = (f"{key}.oidcTokenFile" if oidc.get("oidcTokenFile") else
                        f"{key}.oidcToken" if oidc.get("oidcToken") else file_name or "")
        creds = assume_role_with_oidc(
            ctx, role_arn=role, provider_arn=oidc.get("oidcProviderArn") or ctx.env_value("assume_role_with_oidc")[0],
            token=oidc.get("oidcToken") or ctx.env_value("oidc_token")[0], token_file=token_file, where=where,
            origin=key, token_origin=token_origin, session_name=oidc.get("roleSessionName"),
            duration=oidc.get("sessionExpiration"), policy=oidc.get("policy"))
        return creds, creds.source


class ConfigAssumeRoleProvider(CredentialProvider):
    """``assumeRole`` without a config key: on the environment's key, else the profile files'."""

    def load(self, ctx: Context) -> Optional[Found]:
        assume, key = _assume_role_config(ctx)
        if assume is None:
            return None
        _role(assume, key)
        base = key_pair(ctx.env, "env", "environment") or profile_credentials(ctx)
        if base is None:
            raise ConfigurationError(f"Pulumi config {key} needs an access key to call AssumeRole with: set Pulumi "
                                     f"config `{ctx.key('access_key_id')}` + `{ctx.key('access_key_secret')}`, "
                                     "ALIBABA_CLOUD_ACCESS_KEY_ID + ALIBABA_CLOUD_ACCESS_KEY_SECRET, or a profile")
        return _assumed(ctx, assume, key, base)


class ConfigEcsRoleProvider(CredentialProvider):
    """``ecsRoleName``: that RAM role of this ECS instance."""

    def load(self, ctx: Context) -> Optional[Found]:
        role_name, key = ctx.config_value("ecs_role_name")
        if role_name is None or key is None:
            return None
        creds = ecs_ram_role(ctx, role_name, where=f"Pulumi config {key}", origin=key)
        return creds, creds.source


class ConfigUriProvider(CredentialProvider):
    """``credentialsUri``."""

    def load(self, ctx: Context) -> Optional[Found]:
        uri, key = ctx.config_value("credentials_uri")
        if uri is None or key is None:
            return None
        creds = credentials_uri(uri, origin=key)
        return creds, creds.source
