"""The profile files: the Alibaba Cloud CLI's ``~/.aliyun/config.json`` first, then the official library's
``~/.alibabacloud/credentials.ini``, read once per resolution. Both hold the same kinds of profile under
other names: :data:`MODES` is the one table of them, :data:`FORMATS` how each file spells its fields.

Their messages name a line or a key, never a value: a value may be the secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable, NamedTuple, Optional

from ..errors import ConfigurationError
from .base import Credentials, RefreshableCredentials
from .context import Context, CredentialProvider, Found
from .metadata import ecs_ram_role
from .settings import lookup
from .sts import assume_role, assume_role_with_oidc, required_role_arn

__all__ = ["Mode", "MODES", "ProfileFormat", "FORMATS", "read_profiles", "profile_credentials", "ProfileProvider"]


class Mode(NamedTuple):
    """One kind of profile: its name in credentials.ini (``type``) and in config.json (``mode``), what it builds
    (``key``, ``assume_role`` on the profile's key, ``chained``: on another profile's, ``oidc``, ``ecs``), and
    the files in which its key reads an STS token."""

    ini: Optional[str]
    cli: str
    builds: str
    token_in: tuple[str, ...] = ()


MODES = (
    Mode("access_key", "AK", "key", token_in=("ini",)),
    Mode("sts", "StsToken", "key", token_in=("ini", "cli")),
    Mode("ram_role_arn", "RamRoleArn", "assume_role", token_in=("ini", "cli")),
    Mode(None, "ChainableRamRoleArn", "chained"),
    Mode("ecs_ram_role", "EcsRamRole", "ecs"),
    Mode("oidc_role_arn", "OIDC", "oidc"),
)


class ProfileFormat(NamedTuple):
    """How one file spells the settings (first set field wins) and says what is wrong."""

    name: str  # "ini" or "cli": a column of MODES
    label: str  # what a mode is called there: "type ram_role_arn", "mode RamRoleArn"
    fields: Mapping[str, tuple[str, ...]]
    unsupported: str  # the advice after "... is not supported; "
    missing_key: str  # after "{where}: "; {what} is the label and the mode
    key_optional: bool = False  # a key profile without its key gives only a region (the CLI's AK / StsToken)

    def modes(self) -> dict[str, Mode]:
        return {getattr(mode, self.name): mode for mode in MODES if getattr(mode, self.name)}

    def names(self) -> dict[str, str]:
        """The field names the STS settings' messages use (see :func:`~.sts.assume_role`)."""
        return {name: self.fields[name][0] for name in ("session", "duration", "external", "provider", "file")}


FORMATS = {
    "ini": ProfileFormat(
        "ini", "type",
        {"region": ("region_id", "region"), "token": ("security_token", "sts_token"), "role": ("role_arn",),
         "role_name": ("role_name",), "session": ("role_session_name",), "duration": ("duration_seconds",),
         "external": ("external_id",), "provider": ("oidc_provider_arn",), "file": ("oidc_token_file_path",),
         "vpc": ()},
        unsupported="use access_key, sts, ram_role_arn, oidc_role_arn or ecs_ram_role",
        missing_key="needs both access_key_id and access_key_secret"),
    "cli": ProfileFormat(
        "cli", "mode",
        {"region": ("region_id",), "token": ("sts_token",), "role": ("ram_role_arn",), "role_name": ("ram_role_name",),
         "session": ("ram_session_name", "role_session_name"), "duration": ("expired_seconds",),
         "external": ("external_id",), "provider": ("oidc_provider_arn",), "file": ("oidc_token_file",),
         "vpc": ("enable_vpc",)},
        unsupported="use " + ", ".join(mode.cli for mode in MODES) + ", or set the keys in the environment",
        missing_key="{what} needs access_key_id and access_key_secret", key_optional=True),
}


def _get(entry: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    """The first of ``keys`` set in ``entry`` (as ``entry.get(a) or entry.get(b)``)."""
    value = None
    for key in keys:
        value = entry.get(key)
        if value:
            return value
    return value


def _region(fmt: ProfileFormat, entry: Mapping[str, Any], where: str) -> Optional[str]:
    region = _get(entry, fmt.fields["region"]) or None
    if region is not None and not isinstance(region, str):
        raise ConfigurationError(f"{where}: region_id must be a string, not {type(region).__name__}")
    return region


def _build(fmt: ProfileFormat, kind: str, entry: Mapping[str, Any], where: str, ctx: Context, *,
           chained: bool = False, source_base: Optional[Callable[[], Credentials]] = None) -> Optional[Credentials]:
    """The credentials of one profile of mode ``kind`` (a row of :data:`MODES`); None: a key profile without a
    key where the format allows it. ``chained``: this profile is another's source (its key is required)."""
    mode, fields, what = fmt.modes()[kind], fmt.fields, f"{fmt.label} {kind}"
    if mode.builds == "ecs":
        return ecs_ram_role(ctx, _get(entry, fields["role_name"]), where=where, origin=where)
    sts = {"session_name": _get(entry, fields["session"]), "duration": _get(entry, fields["duration"]),
           "policy": entry.get("policy"), "sts_region": entry.get("sts_region"),
           "vpc": _get(entry, fields["vpc"]) if fields["vpc"] else None}
    role_field = fields["role"][0]
    if mode.builds == "oidc":
        role = required_role_arn(entry.get(role_field), role_field, where, what)
        return assume_role_with_oidc(ctx, role_arn=role, provider_arn=_get(entry, fields["provider"]), token=None,
                                     token_file=_get(entry, fields["file"]), where=where, origin=where,
                                     token_origin=where, names=fmt.names(), **sts)
    if mode.builds == "chained":
        assert source_base is not None
        base = source_base()
    else:
        key_id, secret = entry.get("access_key_id"), entry.get("access_key_secret")
        if not key_id or not secret:
            if mode.builds == "key" and fmt.key_optional and not chained:
                return None
            raise ConfigurationError(f"{where}: " + fmt.missing_key.format(what=what))
        token = _get(entry, fields["token"]) if fmt.name in mode.token_in else None
        base = _credentials_from(where, key_id, secret, token)
        if mode.builds == "key":
            return base
    role = required_role_arn(entry.get(role_field), role_field, where, what)
    return assume_role(ctx, base, role_arn=role, where=where, origin=where,
                       external_id=_get(entry, fields["external"]), names=fmt.names(), **sts)


def _credentials_from(where: str, key_id: Any, secret: Any, token: Any) -> Credentials:
    for name, value in (("access_key_id", key_id), ("access_key_secret", secret), ("security_token", token)):
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(f"{where}: {name} must be a string, not {type(value).__name__}")
    try:
        return Credentials(key_id, secret, token or None)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{where}: {exc}") from None


# --- credentials.ini ------------------------------------------------------------------------------------


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


def _from_ini(path: Path, profile: str, ctx: Context) -> tuple[Credentials | None, str | None]:
    import configparser  # only when a credentials file is read: keeps the client's import light

    # Raw: no %-interpolation. With it, a `%` in a secret raised an error quoting the raw value, and
    # `%%` silently became `%` (a wrong secret); botocore reads these files raw too.
    parser = configparser.RawConfigParser()
    problem: str | None
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
    fmt = FORMATS["ini"]
    kind = section.get("type", "access_key").strip().lower()
    where = f"credentials file {path}, profile [{profile}]"
    if kind not in fmt.modes():
        raise ConfigurationError(f"{where}: type {kind!r} is not supported; {fmt.unsupported}")
    return _build(fmt, kind, section, where, ctx), _region(fmt, section, where)


# --- the Alibaba Cloud CLI's config.json ----------------------------------------------------------------


def _from_cli_config(path: Path, profile: str | None, ctx: Context) -> tuple[Credentials | None, str | None]:
    problem: str | None
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
    return _cli_profile(path, data, profile or data.get("current") or "default", ctx, ())


def _cli_profile(path: Path, data: dict[str, Any], name: str, ctx: Context,
                 chain: tuple[str, ...]) -> tuple[Credentials | None, str | None]:
    entry = next((e for e in data.get("profiles") or [] if isinstance(e, dict) and e.get("name") == name), None)
    if entry is None:
        if chain:
            raise ConfigurationError(f"Alibaba Cloud CLI config {path}, profile {chain[-1]!r}: its source_profile "
                                     f"{name!r} does not exist")
        return None, None
    fmt = FORMATS["cli"]
    where = f"Alibaba Cloud CLI config {path}, profile {name!r}"
    mode = entry.get("mode", "AK")
    if not isinstance(mode, str) or mode not in fmt.modes():
        shown = repr(mode) if isinstance(mode, str) else f"of type {type(mode).__name__}"
        raise ConfigurationError(f"{where}: mode {shown} is not supported; {fmt.unsupported}")
    region = _region(fmt, entry, where)

    def source_base() -> Credentials:
        source = entry.get("source_profile")
        if not isinstance(source, str) or not source:
            raise ConfigurationError(f"{where}: mode ChainableRamRoleArn needs source_profile")
        if source in chain + (name,):
            raise ConfigurationError(f"{where}: source_profile {source!r} leads back to itself")
        base, _ = _cli_profile(path, data, source, ctx, chain + (name,))
        if base is None:
            raise ConfigurationError(f"{where}: source_profile {source!r} gives no credentials")
        return base

    return _build(fmt, mode, entry, where, ctx, chained=bool(chain), source_base=source_base), region


# --- both, once per resolution --------------------------------------------------------------------------


def read_profiles(ctx: Context, strict: bool) -> tuple[tuple[Credentials | None, str | None], str | None]:
    """The profile's (credentials, region) and the file they came from, read once per resolution.

    ``strict``: the files are to supply the credentials, so their problem is the user's; otherwise only a
    region is sought there, and an unusable profile (e.g. CloudSSO) is not our concern."""
    if "profiles" in ctx.memo:
        memo: tuple[tuple[Credentials | None, str | None], str | None] = ctx.memo["profiles"]
        return memo
    profile, _ = lookup("profile", ctx.config, ctx.env)
    cred_file, _ = lookup("credentials_file", ctx.config, ctx.env)
    ini = Path(cred_file).expanduser() if cred_file else ctx.home / ".alibabacloud" / "credentials.ini"
    if cred_file and not ini.is_file():
        raise ConfigurationError(f"credentials file {ini} (from {' / '.join(ctx.keys('credentials_file'))} / "
                                 "ALIBABA_CLOUD_CREDENTIALS_FILE) does not exist")
    found: tuple[Credentials | None, str | None] = (None, None)
    origin = None
    try:
        cli = ctx.home / ".aliyun" / "config.json"
        if not ctx.flag("cli_profile_disabled") and cli.is_file():
            found, origin = _from_cli_config(cli, profile, ctx), str(cli)
        if found[0] is None and ini.is_file():
            found, origin = _from_ini(ini, profile or "default", ctx), str(ini)
    except ConfigurationError:
        if strict:
            raise
        found, origin = (None, None), None
    ctx.memo["profiles"] = (found, origin)
    return found, origin


def profile_credentials(ctx: Context) -> Optional[Credentials]:
    """The profile files' credentials (the base of ``assumeRole`` without a key of its own)."""
    return read_profiles(ctx, True)[0][0]


class ProfileProvider(CredentialProvider):
    """The profile chosen by ``fc-invocation:profile`` (``alicloud:profile``) / ``ALIBABA_CLOUD_PROFILE`` (else the
    CLI's current one, else ``default``) in config.json, then in credentials.ini; the files also name a region."""

    def load(self, ctx: Context) -> Optional[Found]:
        (creds, _), origin = read_profiles(ctx, True)
        if creds is None:
            return None
        return creds, creds.source if isinstance(creds, RefreshableCredentials) else str(origin)

    def region(self, ctx: Context) -> Optional[tuple[str, str]]:
        (_, region), origin = read_profiles(ctx, False)
        return (region, str(origin)) if region else None
