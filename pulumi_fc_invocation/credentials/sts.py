"""STS: AssumeRole (on an access key, or on another role's key) and AssumeRoleWithOIDC (on a token a CI
system writes), as role sources, signed with RPC signature 1.0.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

from ..errors import ConfigurationError, FcApiError, FcInvocationError, InvalidResponseError
from .base import Credentials, RefreshableCredentials, cached
from .context import Context
from .fetch import (
    STS_TIMEOUT,
    Fetched,
    FetchProblem,
    RoleSource,
    answer_problem,
    credentials_in,
    host_of,
    http,
    percent_encode,
)
from .settings import checked, setting_text

__all__ = ["sts_string_to_sign", "sts_signature", "AssumeRole", "AssumeRoleWithOidc", "assume_role",
           "assume_role_with_oidc", "check_role_arn", "required_role_arn", "policy_document"]

_ROLE_ARN = re.compile(r"acs:ram::[0-9]{1,32}:role/[A-Za-z0-9._@+=,/-]{1,128}")
_PROVIDER_ARN = re.compile(r"acs:ram::[0-9]{1,32}:oidc-provider/[A-Za-z0-9._@+=,/-]{1,128}")
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")


def sts_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """RPC signature 1.0's string to sign over ``params`` (all but ``Signature``)."""
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items())
                         if k != "Signature")
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def sts_signature(method: str, params: Mapping[str, str], secret: str) -> str:
    """RPC signature 1.0 (HMAC-SHA1, key ``secret + "&"``), as STS verifies it."""
    import base64
    import hashlib
    import hmac

    digest = hmac.new((secret + "&").encode(), sts_string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class StsSource(RoleSource):
    def __init__(self, *, role_arn: str, session_name: str, duration: int, policy: Optional[str], endpoint: str,
                 origin: str) -> None:
        self.role_arn, self.session_name, self.duration, self.policy = role_arn, session_name, duration, policy
        self.endpoint, self.origin = endpoint, origin

    def describe(self) -> str:
        return f"{self.action} for role {self.role_arn}"

    def _params(self) -> dict[str, str]:
        params = {"Action": self.action, "Format": "JSON", "Version": "2015-04-01",
                  "DurationSeconds": str(self.duration), "RoleArn": self.role_arn,
                  "RoleSessionName": self.session_name,
                  "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        if self.policy:
            params["Policy"] = self.policy
        return params

    def _call(self, params: Mapping[str, str], secrets: tuple[str, ...],
              deadline: float) -> Fetched:
        # POST with the parameters in the body, as the STS SDK sends it: the OIDC token, the signature
        # and a source STS token stay out of URLs (proxy and access logs, urllib3's debug log).
        where = f"STS at {host_of(self.endpoint)}"
        status, _, body = http("POST", self.endpoint + "/", data="&".join(
            f"{percent_encode(k)}={percent_encode(v)}" for k, v in params.items()),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            timeout=STS_TIMEOUT, where=where, deadline=deadline)
        if status != 200:
            raise answer_problem(status, body, where, secrets)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise FetchProblem(InvalidResponseError, f"{where} answered with a body that is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("Credentials"), dict):
            raise FetchProblem(InvalidResponseError, f"the answer of {where} has no Credentials object")
        return credentials_in(data["Credentials"], where)


class AssumeRole(StsSource):
    action = "AssumeRole"

    def __init__(self, base: Credentials, *, external_id: Optional[str] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base, self.external_id = base, external_id

    def key(self) -> tuple[Any, ...]:
        import hashlib

        base = self.base
        base_key = (id(base),) if isinstance(base, RefreshableCredentials) else (
            base.access_key_id, hashlib.sha256(f"{base.access_key_secret}\0{base.security_token}".encode()).hexdigest())
        return ("AssumeRole", self.role_arn, self.session_name, self.duration, self.policy, self.external_id,
                self.endpoint, base_key)

    def fetch(self, deadline: float) -> Fetched:
        import uuid

        try:
            base = (self.base.current(timeout=max(0.0, deadline - time.monotonic()))
                    if isinstance(self.base, RefreshableCredentials) else self.base.current())
        except FcApiError as exc:
            raise FetchProblem(type(exc), f"its source credentials: {exc}", code=exc.code, request_id=exc.request_id,
                               status=exc.http_status) from None
        except FcInvocationError as exc:
            raise FetchProblem(type(exc), f"its source credentials: {exc}") from None
        params = self._params()
        if self.external_id:
            params["ExternalId"] = self.external_id
        params.update({"AccessKeyId": base.access_key_id, "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
                       "SignatureNonce": str(uuid.uuid4())})
        if base.security_token:
            params["SecurityToken"] = base.security_token
        params["Signature"] = sts_signature("POST", params, base.access_key_secret)
        return self._call(params, (base.access_key_secret, base.security_token or ""), deadline)


class AssumeRoleWithOidc(StsSource):
    action = "AssumeRoleWithOIDC"

    def __init__(self, *, provider_arn: str, token: Optional[str], token_file: Optional[str],
                 token_origin: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.provider_arn, self.token = provider_arn, token
        self.token_file, self.token_origin = token_file, token_origin

    def key(self) -> tuple[Any, ...]:
        import hashlib

        token = ("file", self.token_file) if self.token_file else ("token", hashlib.sha256(
            (self.token or "").encode()).hexdigest())
        return ("AssumeRoleWithOIDC", self.role_arn, self.provider_arn, token, self.session_name, self.duration,
                self.policy, self.endpoint)

    def _read_token(self) -> str:
        if self.token_file is None:
            return self.token or ""
        problem = None
        try:  # read again at each refresh: CI systems and ACK rotate the file
            token = Path(self.token_file).expanduser().read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            problem = getattr(exc, "strerror", None) or type(exc).__name__
        if problem is not None:
            raise FetchProblem(ConfigurationError, f"cannot read the OIDC token file {self.token_file} "
                               f"(from {self.token_origin}): {problem}")
        return token

    def fetch(self, deadline: float) -> Fetched:
        token = self._read_token()
        if not 4 <= len(token) <= 20000:
            where = f"the OIDC token file {self.token_file}" if self.token_file else "the OIDC token"
            raise FetchProblem(ConfigurationError, f"{where} (from {self.token_origin}) must hold a JWT of 4 to 20000 "
                               f"characters, not {len(token)}")
        params = self._params()
        params.update({"OIDCProviderArn": self.provider_arn, "OIDCToken": token})
        return self._call(params, (token,), deadline)


def check_role_arn(value: Any, name: str, where: str) -> Optional[str]:
    return checked(value, name, where, _ROLE_ARN, "is not a role ARN: acs:ram::<account id>:role/<role name>")


def required_role_arn(value: Any, name: str, where: str, what: str = "") -> str:
    role = check_role_arn(value, name, where)
    if not role:
        raise ConfigurationError(f"{where}: {what + ' needs ' if what else ''}{name}"
                                 + ("" if what else " is required"))
    return role


def policy_document(value: Any, name: str, where: str) -> Optional[str]:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ConfigurationError(f"{where}: {name} is not JSON (a RAM policy document)") from None
    if not isinstance(value, dict):
        raise ConfigurationError(f"{where}: {name} must be a RAM policy document (a JSON object)")
    # Compact: the official library signs a space as '+', the spec as %20; without spaces both agree.
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if len(text) > 2048:
        raise ConfigurationError(f"{where}: {name} is {len(text)} characters as compact JSON; STS takes at most 2048")
    return text


def assume_role(ctx: Context, base: Credentials, *, role_arn: str, where: str, origin: str, session_name: Any = None,
                duration: Any = None, policy: Any = None, external_id: Any = None, sts_region: Any = None,
                vpc: Any = None, names: Mapping[str, str] | None = None) -> RefreshableCredentials:
    """AssumeRole on ``base``, its settings checked now (``names``: how the caller's source spells them)."""
    names = names or {}
    return cached(AssumeRole(
        base, role_arn=role_arn,
        session_name=ctx.session_name(session_name, names.get("session", "sessionName"), where),
        duration=ctx.duration(duration, names.get("duration", "sessionExpiration"), where),
        policy=policy_document(policy, "policy", where),
        external_id=checked(external_id, names.get("external", "externalId"), where, _EXTERNAL_ID,
                            "must be 2-1224 characters of letters, digits and + = , . @ : / - _"),
        endpoint=ctx.sts_endpoint(sts_region, vpc), origin=origin))


def assume_role_with_oidc(ctx: Context, *, role_arn: str, provider_arn: Any, token: Any, token_file: Any, where: str,
                          origin: str, token_origin: str, session_name: Any = None, duration: Any = None,
                          policy: Any = None, sts_region: Any = None, vpc: Any = None,
                          names: Mapping[str, str] | None = None) -> RefreshableCredentials:
    """AssumeRoleWithOIDC on a token (or a token file read again at each refresh), its settings checked now."""
    names = names or {}
    provider = checked(provider_arn, names.get("provider", "oidcProviderArn"), where, _PROVIDER_ARN,
                       "is not an OIDC provider ARN: acs:ram::<account id>:oidc-provider/<name>")
    if not provider:
        raise ConfigurationError(f"{where}: {names.get('provider', 'oidcProviderArn')} is required")
    token_text = setting_text(token, "oidcToken", where)
    file_text = setting_text(token_file, names.get("file", "oidcTokenFile"), where)
    if not token_text and not file_text:
        raise ConfigurationError(f"{where}: needs an OIDC token: {names.get('file', 'oidcTokenFile')} "
                                 "(a file the CI system writes) or oidcToken")
    return cached(AssumeRoleWithOidc(
        role_arn=role_arn, provider_arn=provider, token=None if file_text else token_text, token_file=file_text,
        token_origin=token_origin,
        session_name=ctx.session_name(session_name, names.get("session", "roleSessionName"), where),
        duration=ctx.duration(duration, names.get("duration", "sessionExpiration"), where),
        policy=policy_document(policy, "policy", where), endpoint=ctx.sts_endpoint(sts_region, vpc), origin=origin))
