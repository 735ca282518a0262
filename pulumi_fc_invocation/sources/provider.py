"""The provider plugin's own settings (``fc-invocation:<name>``), keyed by the credential chain's setting
each feeds; which the chain reads, and from which environment variables, is the chain's own table
(``credentials.SETTING_SOURCES``)."""

from __future__ import annotations

__all__ = ["SETTING_DESCRIPTIONS", "SECRET_SETTINGS", "OBJECT_SETTINGS"]

SETTING_DESCRIPTIONS: dict[str, str] = {
    "access_key_id": "The AccessKey id of the credentials.",
    "access_key_secret": "The AccessKey secret of the credentials (set it as a secret).",
    "security_token": "The STS security token that goes with a temporary AccessKey.",
    "region": "The Alibaba Cloud region of the functions, e.g. `cn-hangzhou`.",
    "account_id": "The Alibaba Cloud account id that owns the functions.",
    "endpoint": "The Function Compute endpoint URL, overriding the one derived from `accountId` and `region`.",
    "profile": "The profile to use in `~/.aliyun/config.json` or the shared credentials file.",
    "credentials_file": "The shared credentials file (`credentials.ini`) to read the profile from.",
    "assume_role_with_oidc": "Assume a RAM role with an OIDC token: `roleArn`, `oidcProviderArn`, "
                             "`oidcTokenFile` (or `oidcToken`), optional `sessionName`, `sessionExpiration`, "
                             "`policy`.",
    "assume_role": "Assume a RAM role with the credentials found otherwise: `roleArn`, optional `sessionName`, "
                   "`sessionExpiration`, `externalId`, `policy`.",
    "ecs_role_name": "The RAM role of the ECS instance, read from the instance metadata.",
    "credentials_uri": "A URI that serves temporary credentials (the credentials URI protocol).",
}
SECRET_SETTINGS = ("access_key_secret", "security_token")
OBJECT_SETTINGS = ("assume_role_with_oidc", "assume_role")  # objects: the schema's ``pulumi.json#/Any``
