"""Credentials and the settings chain: explicit > Pulumi config > environment > shared files.

The chain follows pulumi-alicloud (config keys) and terraform-provider-alicloud / the official
credentials library (environment names, ``~/.alibabacloud/credentials.ini``, ``~/.aliyun/config.json``).
An access key id, its secret and an STS token always come from one source together: mixing an id from
one place with a secret from another produces signatures nobody can debug.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigurationError, InvalidArgumentError

__all__ = ["Credentials", "Settings", "resolve_settings", "SETTING_SOURCES", "check_account_id", "check_region",
           "check_endpoint"]


class Credentials:
    """An access key pair, optionally with an STS security token.

    The secret and the token never appear in ``repr``/``str``, and the object refuses to be pickled,
    so it cannot end up in a Pulumi state file through a serialized provider.
    """

    __slots__ = ("access_key_id", "_secret", "_token")

    def __init__(self, access_key_id: str, access_key_secret: str, security_token: str | None = None) -> None:
        if not isinstance(access_key_id, str) or not access_key_id.strip():
            raise ConfigurationError("Credentials: access_key_id must be a non-empty string")
        if not isinstance(access_key_secret, str) or not access_key_secret:
            raise ConfigurationError("Credentials: access_key_secret must be a non-empty string")
        if security_token is not None and not isinstance(security_token, str):
            raise ConfigurationError("Credentials: security_token must be a string")
        security_token = security_token.strip() if security_token else None  # a token file ends in a newline
        for name, value in (("access_key_id", access_key_id), ("security_token", security_token or "")):
            if any(c in value.strip() for c in "\r\n\x00"):
                raise ConfigurationError(f"Credentials: {name} contains a line break or NUL (value not shown)")
        object.__setattr__(self, "access_key_id", access_key_id.strip())
        object.__setattr__(self, "_secret", access_key_secret)
        object.__setattr__(self, "_token", security_token or None)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Credentials are immutable")

    @property
    def access_key_secret(self) -> str:
        return self._secret

    @property
    def security_token(self) -> str | None:
        return self._token

    @property
    def masked_key_id(self) -> str:
        key = self.access_key_id
        return key[:4] + "****" + key[-4:] if len(key) > 10 else "****"

    def __repr__(self) -> str:
        token = ", security_token=<set>" if self._token else ""
        return f"Credentials(access_key_id={self.masked_key_id!r}, access_key_secret=<hidden>{token})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return (self.access_key_id, self._secret, self._token) == (other.access_key_id, other._secret, other._token)

    def __hash__(self) -> int:
        return hash((self.access_key_id, self._secret, self._token))

    def __reduce__(self):
        raise TypeError(
            "Credentials cannot be pickled: they would end up in serialized state. "
            "Resolve them where they are used (e.g. in ResourceProvider.configure)."
        )


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


# Where each setting can come from, in precedence order after explicit arguments. Used both to resolve
# and to tell the user every place that would have supplied a missing value.
SETTING_SOURCES: dict[str, dict[str, tuple[str, ...]]] = {
    "access_key_id": {"config": ("alicloud:accessKey",), "env": ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALICLOUD_ACCESS_KEY")},
    "access_key_secret": {
        "config": ("alicloud:secretKey",),
        "env": ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALICLOUD_SECRET_KEY"),
    },
    "security_token": {
        "config": ("alicloud:securityToken",),
        "env": ("ALIBABA_CLOUD_SECURITY_TOKEN", "ALICLOUD_SECURITY_TOKEN"),
    },
    "region": {"config": ("alicloud:region",), "env": ("ALIBABA_CLOUD_REGION", "ALICLOUD_REGION")},
    "account_id": {"config": ("alicloud:accountId",), "env": ("ALIBABA_CLOUD_ACCOUNT_ID", "ALICLOUD_ACCOUNT_ID")},
    "endpoint": {"config": ("fc-invocation:endpoint",), "env": ("FC_INVOCATION_ENDPOINT",)},
    "profile": {"config": ("alicloud:profile",), "env": ("ALIBABA_CLOUD_PROFILE", "ALICLOUD_PROFILE")},
    "credentials_file": {
        "config": ("alicloud:sharedCredentialsFile",),
        "env": ("ALIBABA_CLOUD_CREDENTIALS_FILE",),
    },
}


def _first(mapping: Mapping[str, Any] | None, keys: tuple[str, ...]) -> str | None:
    if not mapping:
        return None
    for key in keys:
        value = mapping.get(key)
        if value is not None and str(value).strip() != "":
            return str(value).strip() if "secret" not in key.lower() else str(value)
    return None


def _lookup(name: str, config: Mapping[str, Any] | None, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    sources = SETTING_SOURCES[name]
    value = _first(config, sources["config"])
    if value is not None:
        return value, "Pulumi config"
    value = _first(env, sources["env"])
    if value is not None:
        return value, "environment"
    return None, None


def _where(name: str, argument: str | None = None) -> str:
    sources = SETTING_SOURCES[name]
    parts = []
    if argument:
        parts.append(f"the `{argument}` argument")
    parts.append("Pulumi config " + " / ".join(f"`{key}`" for key in sources["config"]))
    parts.append("environment variable " + " / ".join(sources["env"]))
    return ", ".join(parts)


def _ini_problem(exc: Exception) -> str:
    """What is wrong with an INI file, by line and key name: never a value (it may be the secret)."""
    import configparser

    if isinstance(exc, configparser.MissingSectionHeaderError):
        return f"line {exc.lineno}: a setting before any [profile] header"
    if isinstance(exc, configparser.DuplicateSectionError):
        return f"line {exc.lineno}: profile [{exc.section}] appears twice"
    if isinstance(exc, configparser.DuplicateOptionError):
        return f"line {exc.lineno}: {exc.option!r} appears twice in [{exc.section}]"
    if isinstance(exc, configparser.ParsingError):
        lines = ", ".join(str(lineno) for lineno, _ in exc.errors[:5])
        return f"line {lines}: not `key = value`"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return type(exc).__name__


def _from_ini(path: Path, profile: str) -> tuple[Credentials | None, str | None]:
    import configparser  # only when a credentials file is read: keeps the client's import light

    # Raw: no %-interpolation. With it, a `%` in a secret raised an error quoting the raw value, and
    # `%%` silently became `%` (a wrong secret); botocore reads these files raw too.
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError) as exc:
        problem = _ini_problem(exc)
    else:
        problem = None
    if problem is not None:
        raise ConfigurationError(f"cannot read credentials file {path}: {problem}")
    if not parser.has_section(profile):
        return None, None
    section = parser[profile]
    if section.get("enable", "true").strip().lower() == "false":
        return None, None
    kind = section.get("type", "access_key").strip().lower()
    region = section.get("region_id") or section.get("region")
    if kind not in ("access_key", "sts"):
        raise ConfigurationError(
            f"credentials file {path}, profile [{profile}]: type {kind!r} needs the optional "
            "`alibabacloud-credentials` chain; only `access_key` and `sts` are read directly"
        )
    key_id, secret = section.get("access_key_id"), section.get("access_key_secret")
    if not key_id or not secret:
        raise ConfigurationError(
            f"credentials file {path}, profile [{profile}]: needs both access_key_id and access_key_secret"
        )
    token = section.get("security_token") or section.get("sts_token")
    return _credentials_from(f"credentials file {path}, profile [{profile}]", key_id, secret, token), region


def _credentials_from(where: str, key_id: Any, secret: Any, token: Any) -> Credentials:
    for name, value in (("access_key_id", key_id), ("access_key_secret", secret), ("security_token", token)):
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(f"{where}: {name} must be a string, not {type(value).__name__}")
    try:
        return Credentials(key_id, secret, token or None)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{where}: {exc}") from None


def _from_cli_config(path: Path, profile: str | None) -> tuple[Credentials | None, str | None]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        problem = "nested too deeply" if isinstance(exc, RecursionError) else type(exc).__name__
    else:
        problem = None
    if problem is None and not isinstance(data, dict):
        problem = f"the top level is a JSON {type(data).__name__}, not an object"
    elif problem is None and not isinstance(data.get("profiles", []), (list, type(None))):
        problem = "`profiles` is not a list"
    elif problem is None and not isinstance(data.get("current", ""), (str, type(None))):
        problem = "`current` is not a string"
    if problem is not None:
        raise ConfigurationError(f"cannot read Alibaba Cloud CLI config {path}: {problem}")
    name = profile or data.get("current") or "default"
    for entry in data.get("profiles") or []:
        if not isinstance(entry, dict) or entry.get("name") != name:
            continue
        where = f"Alibaba Cloud CLI config {path}, profile {name!r}"
        mode = entry.get("mode", "AK")
        if mode not in ("AK", "StsToken"):
            shown = repr(mode) if isinstance(mode, str) else f"of type {type(mode).__name__}"
            raise ConfigurationError(f"{where}: mode {shown} is not supported; "
                                     "use AK or StsToken, or set the keys in the environment")
        region = entry.get("region_id") or None
        if region is not None and not isinstance(region, str):
            raise ConfigurationError(f"{where}: region_id must be a string, not {type(region).__name__}")
        key_id, secret = entry.get("access_key_id"), entry.get("access_key_secret")
        if not key_id or not secret:
            return None, region
        token = entry.get("sts_token") if mode == "StsToken" else None
        return _credentials_from(where, key_id, secret, token), region
    return None, None


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
            raise ConfigurationError("endpoint: the scheme must be http:// or https://")
        if "@" in endpoint:
            raise ConfigurationError(_USERINFO)
        # Guessing one turned an emulator's 127.0.0.1:9000 into https:// and a baffling TLS error.
        shown = endpoint if len(endpoint) <= 80 else endpoint[:77] + "..."
        raise ConfigurationError(f"endpoint {shown!r}: no scheme; write it in full, e.g. http://{shown} "
                                 f"(an emulator) or https://{shown} (FC)")
    parts = urlsplit(endpoint)
    if "@" in parts.netloc:
        raise ConfigurationError(_USERINFO)
    try:
        parts.port
    except ValueError:
        raise ConfigurationError(f"endpoint {endpoint!r}: the port is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise ConfigurationError(f"endpoint {endpoint!r}: no host name")
    if parts.query or parts.fragment or "?" in endpoint or "#" in endpoint:
        raise ConfigurationError(f"endpoint {parts.scheme}://{parts.netloc}: a query or fragment is not allowed")
    if any(c.isspace() or ord(c) < 0x20 for c in endpoint):
        raise ConfigurationError("endpoint: it contains white space or a control character")
    return endpoint


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
) -> Settings:
    """Resolve account, region, credentials and endpoint through the chain.

    ``config`` is a mapping of Pulumi config keys (``alicloud:accessKey``...) to values, e.g. what a
    dynamic provider's ``configure`` receives. With ``require`` (the default) a missing value raises a
    :class:`ConfigurationError` naming every argument, config key and environment variable that
    would supply it; ``credentials_argument`` names the caller's own credentials argument there, if
    it has one (the data sources have none, so the message must not send users looking for it).
    """
    env = os.environ if environ is None else environ
    home_dir = Path(home) if home is not None else Path(env.get("HOME") or Path.home())

    if endpoint is None:
        endpoint, _ = _lookup("endpoint", config, env)
    if region is None:
        region, _ = _lookup("region", config, env)
    if account_id is None:
        account_id, _ = _lookup("account_id", config, env)
    if account_id is not None:
        check_account_id(account_id)
    if region is not None:
        check_region(region)

    source = "explicit" if credentials is not None else None
    if credentials is None:
        for origin, mapping, kind in (("Pulumi config", config, "config"), ("environment", env, "env")):
            key_id = _first(mapping, SETTING_SOURCES["access_key_id"][kind])
            secret = _first(mapping, SETTING_SOURCES["access_key_secret"][kind])
            token = _first(mapping, SETTING_SOURCES["security_token"][kind])
            if key_id or secret:
                if not (key_id and secret):
                    missing = "access_key_secret" if key_id else "access_key_id"
                    raise ConfigurationError(
                        f"incomplete credentials in the {origin}: {missing} is missing; set "
                        + _where(missing)
                    )
                credentials, source = Credentials(key_id, secret, token), origin
                break

    if credentials is None or (region is None and not endpoint):
        profile, _ = _lookup("profile", config, env)
        cred_file, _ = _lookup("credentials_file", config, env)
        ini = Path(cred_file).expanduser() if cred_file else home_dir / ".alibabacloud" / "credentials.ini"
        if cred_file and not ini.is_file():
            raise ConfigurationError(f"credentials file {ini} (from alicloud:sharedCredentialsFile / "
                                     "ALIBABA_CLOUD_CREDENTIALS_FILE) does not exist")
        found: tuple[Credentials | None, str | None] = (None, None)
        origin = None
        try:
            if ini.is_file():
                found, origin = _from_ini(ini, profile or "default"), str(ini)
            cli = home_dir / ".aliyun" / "config.json"
            if found[0] is None and cli.is_file():
                found, origin = _from_cli_config(cli, profile), str(cli)
        except ConfigurationError:
            if credentials is None:
                raise  # the files were to supply the credentials: their problem is the user's problem
            # only a region was sought there: an unusable profile (e.g. ecs_ram_role) is not our concern
        if credentials is None and found[0] is not None:
            credentials, source = found[0], origin
        if region is None and found[1]:
            region = check_region(found[1], f"region_id in {origin}")

    if endpoint:
        endpoint = check_endpoint(endpoint)

    if require:
        missing = []
        if credentials is None:
            missing.append(
                "credentials: set "
                + (f"the `{credentials_argument}` argument, " if credentials_argument else "")
                + "Pulumi config `alicloud:accessKey` + "
                "`alicloud:secretKey` (+ `alicloud:securityToken`), environment variables "
                "ALIBABA_CLOUD_ACCESS_KEY_ID + ALIBABA_CLOUD_ACCESS_KEY_SECRET (or ALICLOUD_ACCESS_KEY + "
                "ALICLOUD_SECRET_KEY), or a profile in ~/.alibabacloud/credentials.ini or ~/.aliyun/config.json "
                "(chosen by `alicloud:profile` / ALIBABA_CLOUD_PROFILE)"
            )
        if not endpoint:
            if not account_id:
                missing.append("account id: set " + _where("account_id", "account_id"))
            if not region:
                missing.append("region: set " + _where("region", "region"))
        if missing:
            raise ConfigurationError(
                "cannot reach Function Compute, missing " + "; and ".join(missing)
                + (" (or give a full endpoint with the `endpoint` argument, Pulumi config "
                   "`fc-invocation:endpoint` or FC_INVOCATION_ENDPOINT)" if not endpoint else "")
            )
    if not endpoint and account_id and region:
        endpoint = f"https://{account_id}.{region}{'-internal' if internal else ''}.fc.aliyuncs.com"
    return Settings(account_id=account_id, region=region, credentials=credentials, endpoint=endpoint,
                    credentials_source=source)
