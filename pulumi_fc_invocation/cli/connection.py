"""The CLI's connection to FC: an :class:`~..client.FcClient` from the options and the package's settings
chain (an explicit ``--profile`` winning over the environment), and ``-v``'s debug log."""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from typing import Any, Optional

from .parsing import UserError

__all__ = ["Connection", "setup", "missing_settings", "missing_message"]

log = logging.getLogger("pulumi_fc_invocation.cli")

# Every setting that can supply credentials: an explicit --profile hides them all from the environment
# (the role sources, OIDC first, come before the profiles in the chain and would win over it).
_CREDENTIAL_SETTINGS = ("access_key_id", "access_key_secret", "security_token", "assume_role",
                        "assume_role_with_oidc", "oidc_token_file", "oidc_token", "ecs_role_name", "credentials_uri")


@dataclass
class Connection:
    endpoint: Optional[str]
    region: Optional[str]
    account_id: Optional[str]
    profile: Optional[str]

    def client(self, **kwargs: Any) -> Any:
        """An FcClient from the options and the package's settings chain.

        ``--profile`` names a profile in ~/.alibabacloud/credentials.ini or ~/.aliyun/config.json; given
        explicitly, it wins over credentials in the environment (access keys, role settings), which
        otherwise come first.
        """
        from ..client import FcClient
        from ..credentials import SETTING_SOURCES, resolve_settings
        from ..errors import ConfigurationError

        config: dict[str, str] = {}
        credentials = None
        if self.profile:
            config["alicloud:profile"] = self.profile
            hidden = {name for setting in _CREDENTIAL_SETTINGS
                      for name in SETTING_SOURCES.get(setting, {}).get("env", ())}
            environ = {k: v for k, v in os.environ.items() if k not in hidden}
            found = resolve_settings(config=config, environ=environ, require=False)
            if found.credentials is None:
                raise ConfigurationError(
                    f"profile {self.profile!r} (--profile) has no credentials: add a [{self.profile}] section to "
                    "~/.alibabacloud/credentials.ini (or the file in ALIBABA_CLOUD_CREDENTIALS_FILE) or a profile "
                    "to ~/.aliyun/config.json (aliyun configure --profile NAME), or drop --profile to use "
                    "ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET")
            credentials = found.credentials
            log.debug("credentials from profile %r (%s)", self.profile, found.credentials_source)
        if credentials is None:  # resolved here so that a missing setting is told in the CLI's words
            def resolved(require: bool) -> Any:
                return resolve_settings(endpoint=self.endpoint, region=self.region, account_id=self.account_id,
                                        config=config or None, require=require)

            found = resolved(False)
            missing = missing_settings(found)
            if missing:
                try:  # the chain's last source, the ECS instance's own RAM role, is probed only when required
                    found = resolved(True)
                except ConfigurationError:
                    raise UserError(missing_message(missing)) from None
            credentials = found.credentials
        client = FcClient(endpoint=self.endpoint, region=self.region, account_id=self.account_id,
                          credentials=credentials, config=config or None, **kwargs)
        log.debug("endpoint %s, account id %s, region %s, %r", client.endpoint, client.account_id or "-",
                  client.region or "-", client.credentials)
        return client


def missing_settings(found: Any) -> list[str]:
    """What resolved settings (:func:`~..credentials.resolve_settings` without ``require``) lack to reach FC:
    ``credentials``, and without an endpoint ``account id`` / ``region``."""
    missing = [] if found.credentials is not None else ["credentials"]
    if not found.endpoint:
        missing += [name for name, value in (("account id", found.account_id), ("region", found.region))
                    if not value]
    return missing


def missing_message(missing: list[str]) -> str:
    """The CLI's line for missing settings: what is missing, the fastest fix, and what else the CLI reads,
    in its own words (flags and environment variables), short."""
    fixes = []
    if "credentials" in missing:
        fixes.append("none in the environment (ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET, or a role: ALIBABA_CLOUD_ROLE_ARN, "
                     "_ECS_METADATA, _CREDENTIALS_URI), in a profile (--profile NAME: ~/.alibabacloud/credentials.ini, "
                     "~/.aliyun/config.json) or from an instance role; fastest fix: export "
                     "ALIBABA_CLOUD_ACCESS_KEY_ID=... ALIBABA_CLOUD_ACCESS_KEY_SECRET=...")
    where = [(flag, env) for name, flag, env in (("account id", "--account-id", "ALIBABA_CLOUD_ACCOUNT_ID"),
                                                 ("region", "--region", "ALIBABA_CLOUD_REGION")) if name in missing]
    if where:
        flags = " and ".join(flag for flag, _ in where)
        envs = ", ".join(env for _, env in where)
        fixes.append(f"pass {flags} ({envs}), or --endpoint URL (FC_INVOCATION_ENDPOINT)")
    named = [{"account id": "the account id", "region": "the region"}.get(name, name) for name in missing]
    what = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    return f"missing {what}: " + "; ".join(fixes)


def setup(verbose: bool, endpoint: Optional[str], region: Optional[str], account_id: Optional[str],
          profile: Optional[str]) -> Connection:
    if verbose:
        _enable_debug()
    return Connection(endpoint=endpoint, region=region, account_id=account_id, profile=profile)


def _enable_debug() -> None:
    """DEBUG for the package's own loggers only: a library's stay at the root's WARNING (urllib3's debug
    log prints every URL, a credentials URI's query, its bearer token, included)."""
    root = logging.getLogger()
    if not any(getattr(h, "_fc_cli", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._fc_cli = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    logging.getLogger("pulumi_fc_invocation").setLevel(logging.DEBUG)
