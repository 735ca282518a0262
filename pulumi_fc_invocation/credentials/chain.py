"""The chain: the precedence order as a list of providers (botocore's ``CredentialResolver``), and
:func:`resolve_settings`, which walks it and settles account, region and endpoint.

The order follows pulumi-alicloud (config keys) and terraform-provider-alicloud / the official credentials
library (environment names, ``~/.aliyun/config.json``, ``~/.alibabacloud/credentials.ini``). An access key
id, its secret and an STS token always come from one source together: mixing an id from one place with a
secret from another produces signatures nobody can debug. The README's table lists the same order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from ..errors import ConfigurationError
from .base import Credentials
from .config import (
    ConfigAssumeRoleProvider,
    ConfigEcsRoleProvider,
    ConfigKeyProvider,
    ConfigOidcProvider,
    ConfigUriProvider,
)
from .context import Context, CredentialProvider
from .env import EnvOidcProvider, EnvProvider, ExplicitProvider
from .metadata import EcsRoleNameProvider, InstanceMetadataProvider
from .profiles import ProfileProvider
from .settings import (Settings, check_account_id, check_endpoint, check_region, config_credentials, config_keys,
                       lookup, where_to_set)
from .uri import CredentialsUriProvider

__all__ = ["CredentialResolver", "PRECEDENCE", "resolve_settings"]

PRECEDENCE: tuple[CredentialProvider, ...] = (
    # The Pulumi config: its credentials settings from one namespace, fc-invocation: when it sets any, else
    # alicloud: (settings.config_credentials, as the plugin, which sees only fc-invocation:).
    ConfigKeyProvider(),  # accessKey + secretKey of one namespace, alone or as the base of assumeRole
    ConfigOidcProvider(),  # assumeRoleWithOidc
    ConfigAssumeRoleProvider(),  # assumeRole on a key from the environment or the profile files
    ConfigEcsRoleProvider(),  # ecsRoleName
    ConfigUriProvider(),  # credentialsUri
    EnvProvider(),  # ALIBABA_CLOUD_ACCESS_KEY_ID (AssumeRole with it when ALIBABA_CLOUD_ROLE_ARN is set)
    EnvOidcProvider(),  # ALIBABA_CLOUD_OIDC_PROVIDER_ARN + ALIBABA_CLOUD_ROLE_ARN + a token
    ProfileProvider(),  # ~/.aliyun/config.json, then ~/.alibabacloud/credentials.ini
    EcsRoleNameProvider(),  # ALIBABA_CLOUD_ECS_METADATA
    CredentialsUriProvider(),  # ALIBABA_CLOUD_CREDENTIALS_URI
)
"""The sources after the ``credentials`` argument, first match wins; with ``require``, the probe of the
instance's RAM role (:class:`InstanceMetadataProvider`) comes last."""

def _missing_credentials(ctx: Context) -> str:
    """Every source of credentials, named in the caller's config namespaces."""
    key = ctx.key
    pairs = " or ".join(f"`{key_id}` + `{secret}` (+ `{token}`)" for key_id, secret, token in
                        zip(ctx.keys("access_key_id"), ctx.keys("access_key_secret"), ctx.keys("security_token")))
    return (f"Pulumi config {pairs}, "
            "environment variables ALIBABA_CLOUD_ACCESS_KEY_ID + ALIBABA_CLOUD_ACCESS_KEY_SECRET (or "
            "ALICLOUD_ACCESS_KEY + ALICLOUD_SECRET_KEY), or a profile in ~/.alibabacloud/credentials.ini or "
            f"~/.aliyun/config.json (chosen by `{key('profile')}` / ALIBABA_CLOUD_PROFILE); or a role: "
            f"`{key('assume_role_with_oidc')}` or ALIBABA_CLOUD_ROLE_ARN + ALIBABA_CLOUD_OIDC_PROVIDER_ARN + "
            f"ALIBABA_CLOUD_OIDC_TOKEN_FILE, `{key('assume_role')}` with an access key, `{key('ecs_role_name')}` / "
            f"ALIBABA_CLOUD_ECS_METADATA, or `{key('credentials_uri')}` / ALIBABA_CLOUD_CREDENTIALS_URI")


class CredentialResolver:
    """Walks its providers in order: the first that loads credentials wins (botocore's shape).

    A provider that also names a region (the profile files) gives it where it stands in the order, when no
    region is set yet and either it was asked for credentials or ``region_wanted`` (no endpoint: the region
    makes the host)."""

    def __init__(self, providers: Sequence[CredentialProvider]) -> None:
        self.providers = list(providers)

    def resolve(self, ctx: Context, *, region: Optional[str] = None,
                region_wanted: bool = False) -> tuple[Optional[Credentials], Optional[str], Optional[str]]:
        """(credentials, where they came from, region); Nones where nothing matched."""
        credentials: Optional[Credentials] = None
        source = None
        for provider in self.providers:
            asked = credentials is None
            if asked:
                found = provider.load(ctx)
                if found is not None:
                    credentials, source = found
            if region is None and (asked or region_wanted):
                named = provider.region(ctx)
                if named is not None:
                    region = check_region(named[0], f"region_id in {named[1]}")
        return credentials, source, region


def resolve_settings(
    *,
    account_id: str | None = None,
    region: str | None = None,
    credentials: Credentials | None = None,
    endpoint: str | None = None,
    internal: bool = False,
    config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    home: str | os.PathLike[str] | None = None,
    require: bool = True,
    credentials_argument: str | None = None,
    config_namespaces: Collection[str] | None = None,
    argument_name: Callable[[str], str] = str,
) -> Settings:
    """Resolve account, region, credentials and endpoint through the chain.

    ``config`` is a mapping of Pulumi config keys (``fc-invocation:accessKey``, ``alicloud:accessKey``...) to
    values, e.g. what a dynamic provider's ``configure`` receives; each setting is read from its first key
    that is set (:data:`~.settings.SETTING_SOURCES`: ``fc-invocation:*`` before ``alicloud:*``).
    ``config_namespaces``: the namespaces the caller can see (the plugin: only ``fc-invocation``), the
    only ones its messages name (None: all). With ``require`` (the default) a missing value raises a
    :class:`ConfigurationError` naming every argument, config key and environment variable that
    would supply it; ``credentials_argument`` names the caller's own credentials argument there, if
    it has one (the data sources have none, so the message must not send users looking for it);
    ``argument_name`` spells the ``account_id`` and ``region`` arguments as the caller's users do (the plugin:
    ``accountId``).

    The credentials chain, first match wins: the ``credentials`` argument, then :data:`PRECEDENCE` (the
    Pulumi config, its credentials settings from ``fc-invocation:`` when it sets any, else from ``alicloud:``
    (:func:`~.settings.config_credentials`): an access key, alone or as the
    base of ``assumeRole``; ``assumeRoleWithOidc``; ``assumeRole`` on a key from below; ``ecsRoleName``;
    ``credentialsUri``; the environment's access key (AssumeRole with it when
    ``ALIBABA_CLOUD_ROLE_ARN`` is set); OIDC from the environment; the profile of ``~/.aliyun/config.json``;
    the profile of ``credentials.ini``; the ECS RAM role named by ``ALIBABA_CLOUD_ECS_METADATA``;
    ``ALIBABA_CLOUD_CREDENTIALS_URI``) and, with ``require``, on an ECS instance, the instance's RAM role.
    Role-based sources are not called here: they fetch on first use (except that last probe).
    """
    env = os.environ if environ is None else environ
    home_dir = Path(home) if home is not None else Path(env.get("HOME") or Path.home())
    ctx = Context(config_credentials(config), env, home_dir, config_namespaces)

    if endpoint is None:
        endpoint, _ = lookup("endpoint", config, env)
    if region is None:
        region, _ = lookup("region", config, env)
    if account_id is None:
        account_id, _ = lookup("account_id", config, env)
    if account_id is not None:
        check_account_id(account_id)
    if region is not None:
        check_region(region)

    providers = [ExplicitProvider(credentials), *PRECEDENCE] + ([InstanceMetadataProvider()] if require else [])
    credentials, source, region = CredentialResolver(providers).resolve(ctx, region=region,
                                                                        region_wanted=not endpoint)

    if endpoint:
        endpoint = check_endpoint(endpoint)

    if require:
        missing: dict[str, str] = {}
        if credentials is None:
            missing["credentials"] = "credentials: set " + (f"the `{credentials_argument}` argument, "
                                                            if credentials_argument else "") + _missing_credentials(ctx)
        if not endpoint:
            for name, what in (("account_id", "the account id"), ("region", "the region")):
                if not (account_id if name == "account_id" else region):
                    missing[what] = f"{what}: set " + where_to_set(name, argument_name(name), config_namespaces)
        if missing:
            named = list(missing)
            what = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
            endpoint_key = " or ".join(f"`{key}`" for key in config_keys("endpoint", config_namespaces))
            raise ConfigurationError(
                f"missing {what} to call Function Compute: " + "; ".join(missing.values())
                + (f" (or give a full endpoint: the `endpoint` argument, Pulumi config {endpoint_key} or "
                   "FC_INVOCATION_ENDPOINT)" if not endpoint else "")
            )
    if not endpoint and account_id and region:
        endpoint = f"https://{account_id}.{region}{'-internal' if internal else ''}.fc.aliyuncs.com"
    return Settings(account_id=account_id, region=region, credentials=credentials, endpoint=endpoint,
                    credentials_source=source)
