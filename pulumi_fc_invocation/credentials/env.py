"""Static keys: the ``credentials`` argument, and the environment's access key (the base of AssumeRole
with ``ALIBABA_CLOUD_ROLE_ARN``) or its OIDC settings, the official chain's first two."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from ..errors import ConfigurationError
from .base import Credentials
from .context import Context, CredentialProvider, Found
from .settings import SETTING_SOURCES, first, first_named
from .sts import assume_role, assume_role_with_oidc, check_role_arn

__all__ = ["key_pair", "ExplicitProvider", "EnvProvider", "EnvOidcProvider"]


def key_pair(mapping: Mapping[str, Any] | None, kind: str, origin: str) -> Optional[Credentials]:
    """The access key in ``mapping`` (``kind``: ``"config"`` or ``"env"`` names), id and secret from one place:
    in the config, from one namespace (``fc-invocation:*`` first, then ``alicloud:*``), never mixed."""
    ids, secrets, tokens = (SETTING_SOURCES[setting][kind] for setting in ("access_key_id", "access_key_secret",
                                                                           "security_token"))
    if kind == "config":
        for key_id_name, secret_name, token_name in zip(ids, secrets, tokens):
            found = _pair(mapping, (key_id_name,), (secret_name,), (token_name,), origin)
            if found is not None:
                return found
        return None
    return _pair(mapping, ids, secrets, tokens, origin)


def _pair(mapping: Mapping[str, Any] | None, id_names: tuple[str, ...], secret_names: tuple[str, ...],
          token_names: tuple[str, ...], origin: str) -> Optional[Credentials]:
    key_id, id_name = first_named(mapping, id_names)
    secret, secret_name = first_named(mapping, secret_names)
    token = first(mapping, token_names)
    if not (key_id or secret):
        return None
    if not (key_id and secret):
        given, missing = (id_name, secret_names) if key_id else (secret_name, id_names)
        quote = (lambda name: f"`{name}`") if origin != "environment" else str
        how = (f" (`pulumi config set {'--secret ' if 'secret' in missing[0].lower() else ''}{missing[0]} ...`)"
               if origin != "environment" else "")
        raise ConfigurationError(f"incomplete credentials in the {origin}: {quote(given)} is set but "
                                 f"{' / '.join(quote(name) for name in missing)} is not; set "
                                 f"{quote(missing[0])} too{how}, or unset {quote(given)}")
    return Credentials(key_id, secret, token)


class ExplicitProvider(CredentialProvider):
    """The caller's ``credentials`` argument: first, whatever else is set."""

    def __init__(self, credentials: Optional[Credentials]) -> None:
        self.credentials = credentials

    def load(self, ctx: Context) -> Optional[Found]:
        return None if self.credentials is None else (self.credentials, "explicit")


class EnvProvider(CredentialProvider):
    """``ALIBABA_CLOUD_ACCESS_KEY_ID`` + ``ALIBABA_CLOUD_ACCESS_KEY_SECRET`` (+ token); with
    ``ALIBABA_CLOUD_ROLE_ARN`` and no OIDC provider, the base of AssumeRole."""

    def load(self, ctx: Context) -> Optional[Found]:
        key = key_pair(ctx.env, "env", "environment")
        if key is None:
            return None
        role, role_name = ctx.env_value("assume_role")
        provider, _ = ctx.env_value("assume_role_with_oidc")
        if role and not provider:
            assert role_name is not None  # a setting found is named
            creds = assume_role(ctx, key, role_arn=check_role_arn(role, role_name, "environment") or role,
                                where="environment", origin=role_name)
            return creds, creds.source
        return key, "environment"


class EnvOidcProvider(CredentialProvider):
    """AssumeRoleWithOIDC when ``ALIBABA_CLOUD_OIDC_PROVIDER_ARN`` is set (with the role and a token)."""

    def load(self, ctx: Context) -> Optional[Found]:
        provider, provider_name = ctx.env_value("assume_role_with_oidc")
        if not provider:
            return None
        role, role_name = ctx.env_value("assume_role")
        token_file, file_name = ctx.env_value("oidc_token_file")
        token, token_name = ctx.env_value("oidc_token")
        if not role:
            raise ConfigurationError(f"{provider_name} is set but ALIBABA_CLOUD_ROLE_ARN is not: AssumeRoleWithOIDC "
                                     "needs the role to assume")
        assert provider_name is not None and role_name is not None  # a setting found is named
        creds = assume_role_with_oidc(
            ctx, role_arn=check_role_arn(role, role_name, "environment") or role, provider_arn=provider,
            token=token, token_file=token_file, where="environment", origin=role_name,
            token_origin=(file_name or "") if token_file else token_name or "",
            names={"provider": provider_name, "file": "ALIBABA_CLOUD_OIDC_TOKEN_FILE"})
        return creds, creds.source
