"""Credentials and the settings chain: explicit > Pulumi config > environment > shared files > roles.

A chain of providers in botocore's shape, one module per source:

- :mod:`.base`: :class:`Credentials` and :class:`RefreshableCredentials` (fetched on first use, cached per
  process, refreshed before they expire on the package's clock);
- :mod:`.fetch`: what the role sources share (one HTTP call ended by a deadline, failures without secrets);
- :mod:`.settings`: :class:`Settings`, :data:`SETTING_SOURCES` (each config key under ``fc-invocation:`` first,
  then ``alicloud:``: :data:`CONFIG_NAMESPACES`) and the rules of region, account id, endpoint;
- :mod:`.context`: what a provider receives and what it is;
- :mod:`.env` (the ``credentials`` argument and the environment), :mod:`.config` (the Pulumi config),
  :mod:`.profiles` (config.json and credentials.ini, their modes in one table), :mod:`.sts` (AssumeRole,
  AssumeRoleWithOIDC), :mod:`.metadata` (the ECS metadata service), :mod:`.uri` (a credentials URI);
- :mod:`.chain`: the precedence order as a list and :func:`resolve_settings`, which walks it.
"""

from __future__ import annotations

from .base import MIN_TIME_LEFT, Credentials, RefreshableCredentials, forget_cached_credentials
from .chain import PRECEDENCE, CredentialResolver, resolve_settings
from .context import DEFAULT_METADATA_ENDPOINT, DEFAULT_SESSION_NAME, CredentialProvider
from .settings import (
    ACCOUNT_ID_RULE,
    CONFIG_NAMESPACES,
    ENDPOINT_RULE,
    REGION_RULE,
    SETTING_SOURCES,
    Settings,
    config_keys,
    check_account_id,
    check_endpoint,
    check_region,
    check_settings,
    secret_config_masked,
    secret_config_texts,
)
from .sts import sts_signature, sts_string_to_sign

__all__ = ["Credentials", "RefreshableCredentials", "Settings", "resolve_settings", "SETTING_SOURCES",
           "check_account_id", "check_region", "check_endpoint", "sts_signature", "sts_string_to_sign",
           "forget_cached_credentials", "MIN_TIME_LEFT", "DEFAULT_SESSION_NAME", "DEFAULT_METADATA_ENDPOINT",
           "ACCOUNT_ID_RULE", "REGION_RULE", "ENDPOINT_RULE", "check_settings", "secret_config_masked",
           "secret_config_texts", "CredentialProvider", "CredentialResolver", "PRECEDENCE", "CONFIG_NAMESPACES",
           "config_keys"]
