"""What each provider of the chain receives (:class:`Context`: the config, environment and home one
resolution reads, and the defaults the role sources share) and what it is (:class:`CredentialProvider`)."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, Optional

from ..errors import ConfigurationError
from .base import Credentials
from .fetch import warn_plain_http
from .settings import (SETTING_SOURCES, check_endpoint, check_region, checked, config_keys, config_object, first_named,
                       truthy)

__all__ = ["Context", "CredentialProvider", "Found", "DEFAULT_SESSION_NAME", "DEFAULT_DURATION",
           "DEFAULT_METADATA_ENDPOINT"]

DEFAULT_SESSION_NAME = "pulumi-fc-invocation"
DEFAULT_DURATION = 3600
DEFAULT_METADATA_ENDPOINT = "http://100.100.100.200"

_SESSION_NAME = re.compile(r"[A-Za-z0-9.@_-]{2,64}")

Found = tuple[Credentials, str]
"""What a provider found: the credentials and where they came from (``Settings.credentials_source``)."""


class Context:
    """The environment and files a chain resolution reads, and the defaults role sources share.

    One per resolution: ``memo`` keeps what a provider read once (the profile files) for the others.
    ``namespaces``: the config namespaces the caller can see (None: all; the plugin sees only its own),
    which the messages name."""

    def __init__(self, config: Mapping[str, Any] | None, env: Mapping[str, str], home: Path,
                 namespaces: Optional[Collection[str]] = None) -> None:
        self.config, self.env, self.home = config, env, home
        self.namespaces = namespaces
        self.memo: dict[str, Any] = {}

    def env_value(self, setting: str) -> tuple[Optional[str], Optional[str]]:
        return first_named(self.env, SETTING_SOURCES[setting]["env"])

    def keys(self, setting: str) -> tuple[str, ...]:
        """The config keys of ``setting`` the caller can see, in precedence order."""
        return config_keys(setting, self.namespaces)

    def key(self, setting: str) -> str:
        """The first config key of ``setting`` the caller can see: what a message names."""
        return self.keys(setting)[0]

    def config_value(self, setting: str) -> tuple[Optional[str], Optional[str]]:
        """The first value set under ``setting``'s config keys, and the key."""
        return first_named(self.config, SETTING_SOURCES[setting]["config"])

    def config_object(self, setting: str, allowed: tuple[str, ...]) -> tuple[Optional[dict[str, Any]], str]:
        """An object-valued setting (``assumeRole``...) from the first of its config keys that is set, and
        that key (the first visible one when none is)."""
        for key in SETTING_SOURCES[setting]["config"]:
            found = config_object(self.config, key, allowed)
            if found is not None:
                return found, key
        return None, self.key(setting)

    def config_oidc(self) -> tuple[Optional[dict[str, Any]], str]:
        return self.config_object("assume_role_with_oidc", ("oidcProviderArn", "roleArn", "oidcToken", "oidcTokenFile",
                                                            "roleSessionName", "sessionExpiration", "policy"))

    def flag(self, setting: str) -> bool:
        value, _ = self.env_value(setting)
        return value is not None and truthy(value)

    def sts_endpoint(self, region: Any = None, vpc: Any = None) -> str:
        explicit, name = self.env_value("sts_endpoint")
        if explicit:
            url = explicit if "://" in explicit else "https://" + explicit
            try:
                url = check_endpoint(url)
            except ConfigurationError as exc:
                raise ConfigurationError(f"{name}: {exc}") from None
            assert name is not None  # a setting found is named
            warn_plain_http(url, name)
            return url
        if region is None:
            region, _ = self.env_value("sts_region")
        if vpc is None:
            vpc = self.flag("vpc_endpoint_enabled")
        prefix = "sts-vpc" if truthy(vpc) else "sts"
        if region:
            return f"https://{prefix}.{check_region(str(region), 'STS region')}.aliyuncs.com"
        return "https://sts.aliyuncs.com"

    def session_name(self, value: Any, name: str, where: str) -> str:
        found = checked(value, name, where, _SESSION_NAME, "must be 2-64 letters, digits or . @ _ -")
        if found:
            return found
        env_value, env_name = self.env_value("role_session_name")
        return checked(env_value, env_name or "", "environment", _SESSION_NAME,
                       "must be 2-64 letters, digits or . @ _ -") or DEFAULT_SESSION_NAME

    def duration(self, value: Any, name: str, where: str) -> int:
        """Seconds a role session lasts; 0 or unset: the environment's, else 3600 (terraform's semantics)."""
        if value is None or (isinstance(value, str) and value.strip() in ("", "0")) or (
                not isinstance(value, bool) and value == 0):
            env_value, env_name = self.env_value("session_expiration")
            if env_value is None:
                return DEFAULT_DURATION
            assert env_name is not None  # a setting found is named
            value, name, where = env_value, env_name, "environment"
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ConfigurationError(f"{where}: {name} must be a number of seconds, not {type(value).__name__}")
        try:
            seconds = float(value)
        except ValueError:
            seconds = math.nan
        if not (math.isfinite(seconds) and seconds == int(seconds) and 900 <= seconds <= 43200):
            raise ConfigurationError(f"{where}: {name} must be a whole number of seconds from 900 to 43200 (STS: "
                                     f"15 minutes to the role's maximum session, at most 12 hours), not {value!r}")
        return int(seconds)

    def metadata_endpoint(self) -> str:
        value, name = self.env_value("metadata_endpoint")
        if not value:
            return DEFAULT_METADATA_ENDPOINT
        try:
            return check_endpoint(value)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{name}: {exc}") from None


class CredentialProvider:
    """One source of the chain, in botocore's shape: :meth:`load` gives the credentials it holds, or None
    for the next provider to try. A role-based provider builds its :class:`RefreshableCredentials` here
    (checking every setting) but does not call its service: that happens on first use."""

    def load(self, ctx: Context) -> Optional[Found]:
        raise NotImplementedError

    def region(self, ctx: Context) -> Optional[tuple[str, str]]:
        """A region this source also names (the profile files do) and where; None for most sources."""
        return None
