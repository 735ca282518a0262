"""The settings a client needs (account, region, endpoint, credentials), where each can come from
(:data:`SETTING_SOURCES`), and their rules: checked before any request, a secret one named with its rule
but never shown.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Optional

from ..errors import ConfigurationError, InvalidArgumentError
from .base import Credentials

__all__ = ["Settings", "SETTING_SOURCES", "CONFIG_NAMESPACES", "config_keys", "CREDENTIAL_SETTINGS",
           "config_credentials", "ACCOUNT_ID_RULE", "REGION_RULE", "ENDPOINT_RULE", "check_account_id",
           "check_region", "check_endpoint", "check_settings", "secret_config_masked", "secret_config_texts", "first",
           "first_named", "lookup", "where_to_set", "truthy", "setting_text", "checked", "config_object"]


@dataclass(frozen=True)
class Settings:
    """Everything needed to build a client; ``credentials`` may be None only for error reporting."""

    account_id: str | None
    region: str | None
    credentials: Credentials | None
    endpoint: str | None
    credentials_source: str | None = None

    def __repr__(self) -> str:  # dataclass repr would be safe too; keep it explicit
        return (
            f"Settings(account_id={self.account_id!r}, region={self.region!r}, "
            f"credentials={self.credentials!r}, endpoint={self.endpoint!r})"
        )


# The Pulumi config namespaces the chain reads, in precedence order: this package's own, then pulumi-alicloud's
# (a stack that already deploys with pulumi-alicloud needs no second copy). A Python program sees every
# namespace of the stack; the plugin only its own: the engine gives a provider's Configure its own package's
# config alone (pkg/resource/deploy/target.go, Target.GetPackageConfig: every namespace only for the dynamic
# providers `pulumi-python` and `pulumi-nodejs`).
CONFIG_NAMESPACES = ("fc-invocation", "alicloud")
_OWN = CONFIG_NAMESPACES[0]


def _keys(name: str) -> tuple[str, ...]:
    return tuple(f"{namespace}:{name}" for namespace in CONFIG_NAMESPACES)


# Where each setting can come from, in precedence order after explicit arguments: the config keys (this
# package's namespace first), then the environment. Used both to resolve and to tell the user every place
# that would have supplied a missing value. The provider forwards every config key listed here from the
# stack configuration.
SETTING_SOURCES: dict[str, dict[str, tuple[str, ...]]] = {
    "access_key_id": {"config": _keys("accessKey"), "env": ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALICLOUD_ACCESS_KEY")},
    "access_key_secret": {"config": _keys("secretKey"),
                          "env": ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALICLOUD_SECRET_KEY")},
    "security_token": {"config": _keys("securityToken"),
                       "env": ("ALIBABA_CLOUD_SECURITY_TOKEN", "ALICLOUD_SECURITY_TOKEN")},
    "region": {"config": _keys("region"), "env": ("ALIBABA_CLOUD_REGION", "ALICLOUD_REGION")},
    "account_id": {"config": _keys("accountId"), "env": ("ALIBABA_CLOUD_ACCOUNT_ID", "ALICLOUD_ACCOUNT_ID")},
    "endpoint": {"config": (f"{_OWN}:endpoint",), "env": ("FC_INVOCATION_ENDPOINT",)},  # pulumi-alicloud has none
    "profile": {"config": _keys("profile"), "env": ("ALIBABA_CLOUD_PROFILE", "ALICLOUD_PROFILE")},
    "credentials_file": {"config": _keys("sharedCredentialsFile"), "env": ("ALIBABA_CLOUD_CREDENTIALS_FILE",)},
    # Role-based sources. The config values are objects (JSON text from the stack configuration).
    "assume_role_with_oidc": {"config": _keys("assumeRoleWithOidc"), "env": ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN",)},
    "assume_role": {"config": _keys("assumeRole"), "env": ("ALIBABA_CLOUD_ROLE_ARN", "ALICLOUD_ASSUME_ROLE_ARN")},
    "oidc_token_file": {"config": (), "env": ("ALIBABA_CLOUD_OIDC_TOKEN_FILE",)},
    "oidc_token": {"config": (), "env": ("ALIBABA_CLOUD_OIDC_TOKEN",)},
    "role_session_name": {"config": (),
                          "env": ("ALIBABA_CLOUD_ROLE_SESSION_NAME", "ALICLOUD_ASSUME_ROLE_SESSION_NAME")},
    "session_expiration": {"config": (), "env": ("ALICLOUD_ASSUME_ROLE_SESSION_EXPIRATION",)},
    "ecs_role_name": {"config": _keys("ecsRoleName"), "env": ("ALIBABA_CLOUD_ECS_METADATA", "ALICLOUD_ECS_ROLE_NAME")},
    "credentials_uri": {"config": _keys("credentialsUri"),
                        "env": ("ALIBABA_CLOUD_CREDENTIALS_URI", "ALICLOUD_CREDENTIALS_URI")},
    "sts_endpoint": {"config": (), "env": ("ALIBABA_CLOUD_STS_ENDPOINT",)},
    "sts_region": {"config": (), "env": ("ALIBABA_CLOUD_STS_REGION",)},
    "vpc_endpoint_enabled": {"config": (), "env": ("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED",)},
    "imdsv1_disabled": {"config": (), "env": ("ALIBABA_CLOUD_IMDSV1_DISABLED",)},
    "ecs_metadata_disabled": {"config": (), "env": ("ALIBABA_CLOUD_ECS_METADATA_DISABLED",)},
    "metadata_endpoint": {"config": (), "env": ("FC_INVOCATION_METADATA_ENDPOINT",)},
    "cli_profile_disabled": {"config": (), "env": ("ALIBABA_CLOUD_CLI_PROFILE_DISABLED",)},
}


# The settings that pick credentials. The config gives them from one namespace: the first of
# CONFIG_NAMESPACES that sets any of them (config_credentials), as the plugin, which sees only its own.
CREDENTIAL_SETTINGS = ("access_key_id", "access_key_secret", "security_token", "profile", "credentials_file",
                       "assume_role_with_oidc", "assume_role", "ecs_role_name", "credentials_uri")


def config_credentials(config: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """``config`` without the credentials settings of every namespace but the first that sets one: with
    ``fc-invocation:profile`` set, ``alicloud:accessKey`` is not read (nor any other ``alicloud:`` credentials
    setting), so a Python program and the plugin get the same credentials from the same config."""
    if not config:
        return config
    keys = {key for name in CREDENTIAL_SETTINGS for key in SETTING_SOURCES[name]["config"]}
    chosen = next((namespace for namespace in CONFIG_NAMESPACES
                   if any(key.partition(":")[0] == namespace and str(config.get(key) or "").strip() for key in keys)),
                  None)
    return {key: value for key, value in config.items() if key not in keys or key.partition(":")[0] == chosen}


def config_keys(name: str, namespaces: Optional[Collection[str]] = None) -> tuple[str, ...]:
    """The config keys of setting ``name`` in precedence order, only those of ``namespaces`` (None: all of
    :data:`CONFIG_NAMESPACES`; the plugin sees only its own)."""
    keys = SETTING_SOURCES[name]["config"]
    return keys if namespaces is None else tuple(key for key in keys if key.partition(":")[0] in namespaces)


def first(mapping: Mapping[str, Any] | None, keys: tuple[str, ...]) -> str | None:
    if not mapping:
        return None
    for key in keys:
        value = mapping.get(key)
        if value is not None and str(value).strip() != "":
            return str(value).strip() if "secret" not in key.lower() else str(value)
    return None


def first_named(mapping: Mapping[str, Any] | None, keys: tuple[str, ...]) -> tuple[str | None, str | None]:
    """The first set value and the name it was found under."""
    for key in keys:
        value = first(mapping, (key,))
        if value is not None:
            return value, key
    return None, None


def lookup(name: str, config: Mapping[str, Any] | None, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    sources = SETTING_SOURCES[name]
    value = first(config, sources["config"])
    if value is not None:
        return value, "Pulumi config"
    value = first(env, sources["env"])
    if value is not None:
        return value, "environment"
    return None, None


def where_to_set(name: str, argument: str | None = None, namespaces: Optional[Collection[str]] = None) -> str:
    """Every place that sets ``name``: the argument, the config keys of ``namespaces``, the environment."""
    sources = SETTING_SOURCES[name]
    parts = []
    if argument:
        parts.append(f"the `{argument}` argument")
    keys = config_keys(name, namespaces)
    if keys:
        parts.append("Pulumi config " + " / ".join(f"`{key}`" for key in keys))
    parts.append("environment variable " + " / ".join(sources["env"]))
    return ", ".join(parts)


def truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes", "on")


def setting_text(value: Any, name: str, where: str) -> Optional[str]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"{where}: {name} must be a string, not {type(value).__name__}")
    return value.strip()


def checked(value: Any, name: str, where: str, pattern: "re.Pattern[str]", rule: str) -> Optional[str]:
    text = setting_text(value, name, where)
    if text is not None and not pattern.fullmatch(text):
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise ConfigurationError(f"{where}: {name} {shown!r} {rule}")
    return text


def config_object(config: Mapping[str, Any] | None, key: str, allowed: tuple[str, ...]) -> Optional[dict[str, Any]]:
    """An object-valued config key (pulumi-alicloud's ``assumeRole``...): JSON text or a mapping."""
    if not config or config.get(key) in (None, ""):
        return None
    value = config[key]
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"Pulumi config {key} must be an object, e.g. "
                                 f"pulumi config set --path '{key}.roleArn' acs:ram::<account>:role/<name>")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ConfigurationError(f"Pulumi config {key}: unknown key {unknown[0]!r}; the keys are {', '.join(allowed)}")
    return dict(value)


_ACCOUNT_ID = re.compile(r"[0-9]{1,32}")
_REGION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?")  # one host label, as botocore checks
ACCOUNT_ID_RULE = "must be the account's digits, e.g. 1234567890123456"
REGION_RULE = "must be a region id (letters, digits and '-', no dots or slashes), e.g. cn-hangzhou or ap-southeast-1"


def check_account_id(value: Any, argument: str = "account_id") -> str:
    """The account id goes into the host name and a signed header: digits only, checked before use."""
    if not isinstance(value, str) or not _ACCOUNT_ID.fullmatch(value):
        raise InvalidArgumentError(argument, value, ACCOUNT_ID_RULE)
    return value


def check_region(value: Any, argument: str = "region") -> str:
    """The region goes into the host name: ``x.attacker.example/`` would pick the host."""
    if not isinstance(value, str) or not _REGION.fullmatch(value):
        raise InvalidArgumentError(argument, value, REGION_RULE)
    return value


_USERINFO = ("endpoint: it contains a user name or password (not shown); FC takes no credentials in the URL: "
             "give the host only, and the keys as credentials")


def check_endpoint(endpoint: str) -> str:
    """``http(s)://host[:port][/path]``; refuses a missing scheme, user info (it would reach logs, errors and state),
    a query or a fragment, and ports out of range. Returns it without a trailing slash."""
    from urllib.parse import urlsplit

    endpoint = endpoint.strip().rstrip("/")
    if not endpoint.startswith(("http://", "https://")):
        if "://" in endpoint:
            raise ConfigurationError.of("endpoint", "endpoint: the scheme must be http:// or https://")
        if "@" in endpoint:
            raise ConfigurationError.of("endpoint", _USERINFO)
        # Guessing one turned an emulator's 127.0.0.1:9000 into https:// and a baffling TLS error.
        shown = endpoint if len(endpoint) <= 80 else endpoint[:77] + "..."
        raise ConfigurationError.of("endpoint", f"endpoint {shown!r}: no scheme; write it in full, e.g. "
                                                f"http://{shown} (an emulator) or https://{shown} (FC)")
    parts = urlsplit(endpoint)
    if "@" in parts.netloc:
        raise ConfigurationError.of("endpoint", _USERINFO)
    try:
        parts.port
    except ValueError:
        raise ConfigurationError.of("endpoint",
                                    f"endpoint {endpoint!r}: the port is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise ConfigurationError.of("endpoint", f"endpoint {endpoint!r}: no host name")
    if parts.query or parts.fragment or "?" in endpoint or "#" in endpoint:
        raise ConfigurationError.of("endpoint",
                                    f"endpoint {parts.scheme}://{parts.netloc}: a query or fragment is not allowed")
    if any(c.isspace() or ord(c) < 0x20 for c in endpoint):
        raise ConfigurationError.of("endpoint", "endpoint: it contains white space or a control character")
    return endpoint


ENDPOINT_RULE = ("must be a URL http(s)://HOST[:PORT][/PATH]: a scheme, a host name, a port from 1 to 65535, and "
                 "no user name or password, query, fragment, white space or control character")
_SETTING_RULES = {"account_id": ACCOUNT_ID_RULE, "region": REGION_RULE, "endpoint": ENDPOINT_RULE}


def _check_setting(name: str, value: str) -> Optional[str]:
    if name == "endpoint":
        return check_endpoint(value)
    return (check_region if name == "region" else check_account_id)(value, name)


def check_settings(region: Any, account_id: Any, endpoint: Any,
                   hidden: Collection[str] = ()) -> tuple[Optional[str], Optional[str], Optional[str]]:
    """The ``region``, ``account_id`` and ``endpoint`` arguments, checked when a spec is built (before
    any request). One given as a secret (named in ``hidden``) that breaks its rule is named with the
    rule, its value never shown: the endpoint's messages quote it stripped, cut to 77 characters or as
    ``scheme://netloc``, which masking the secret's text cannot find (a secret from a file ends in a
    newline)."""
    from ..models import optional_text  # pydantic: only when a spec is checked, not when a client is built

    values = {"region": optional_text("region", region), "account_id": optional_text("account_id", account_id),
              "endpoint": optional_text("endpoint", endpoint)}
    for name, value in values.items():
        if value is None:
            continue
        try:
            values[name] = _check_setting(name, value)
        except (InvalidArgumentError, ConfigurationError):
            if name not in hidden:
                raise
            raise InvalidArgumentError(name, value, _SETTING_RULES[name], show_value=False) from None
    return values["region"], values["account_id"], values["endpoint"]


@contextlib.contextmanager
def secret_config_masked(config: Optional[Mapping[str, Any]], secret: Collection[str], *, region: Any = None,
                         account_id: Any = None, endpoint: Any = None) -> Iterator[None]:
    """Around client creation: the config keys in ``secret`` (secret stack or provider settings) are
    never shown. Their region, account id or endpoint, used where the argument is not given, are
    checked first (a broken one is named with its rule); any other error has their text masked."""
    from ..models import redacting  # pydantic: only around a client built from secret settings

    config = config or {}
    given = {"region": region, "account_id": account_id, "endpoint": endpoint}
    for name, argument in given.items():
        for key in SETTING_SOURCES[name]["config"]:
            value = str(config.get(key) or "").strip()  # as the chain reads config: a file's newline is no fault
            if argument is not None or key not in secret or not value:
                continue
            try:
                _check_setting(name, value)
            except (InvalidArgumentError, ConfigurationError):
                raise ConfigurationError(f"Pulumi config `{key}` {_SETTING_RULES[name]} (a secret: its value is "
                                         "not shown)") from None
    with redacting(secret_config_texts(config, secret)):
        yield


def secret_config_texts(config: Optional[Mapping[str, Any]], secret: Collection[str]) -> tuple[str, ...]:
    """The text of the config values under the keys in ``secret`` (an object's too), as given and stripped."""
    texts = [text for key in secret for text in _leaves((config or {}).get(key))]
    return tuple(texts) + tuple(text.strip() for text in texts)


def _leaves(value: Any) -> list[str]:
    """The text in a config value (an object's, such as ``alicloud:assumeRole``, included)."""
    if isinstance(value, Mapping):
        return [text for item in value.values() for text in _leaves(item)]
    if isinstance(value, (list, tuple)):
        return [text for item in value for text in _leaves(item)]
    return [value] if isinstance(value, str) and value.strip() else []
