"""The STS stand-in (RPC 2015-04-01, GET or form POST): ``AssumeRole`` and ``AssumeRoleWithOIDC``.

``AssumeRole`` verifies the RPC signature 1.0 (HMAC-SHA1, RFC 3986 encoding), the nonce (no
replays), the timestamp (±15 min of real time, as the client signs with real time), the caller's
key (a registered base key, or a key this STS issued, with its ``SecurityToken``, unexpired), the
role, its ``ExternalId``, ``RoleSessionName``, ``DurationSeconds`` (900..the role's maximum) and
``Policy``; ``AssumeRoleWithOIDC`` is anonymous and checks the provider and the token. Codes follow
the STS troubleshooting page where it names one; the OIDC ones
(``AuthenticationFail.OIDCToken.Invalid``, ``EntityNotExist.OIDCProvider``) and
``EntityNotExist.Role`` are the stand-in's choice.
"""

from __future__ import annotations

import calendar
import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Optional
from urllib.parse import parse_qsl

from ...credentials import sts_signature, sts_string_to_sign
from ..clock import Clock
from .records import TIMESTAMP, Answer, IssuedCredentials, credential_fields, json_answer

__all__ = ["Sts", "StsError", "STS_ERROR_STATUS"]

_ROLE_ARN = re.compile(r"acs:ram::([0-9]{1,32}):role/([A-Za-z0-9._@+=,/-]{1,128})")
_SESSION_NAME = re.compile(r"[A-Za-z0-9.@_-]{2,64}")
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")

STS_ERROR_STATUS = {
    "MissingParameter": 400, "InvalidParameter": 400, "InvalidParameter.RoleSessionName": 400,
    "InvalidParameter.DurationSeconds": 400, "InvalidParameter.PolicyGrammar": 400,
    "InvalidParameter.ExternalId": 400, "SignatureDoesNotMatch": 400, "SignatureNonceUsed": 400,
    "InvalidTimeStamp.Expired": 400, "InvalidTimeStamp.Format": 400, "UnsupportedSignatureMethod": 400,
    "InvalidAction.NotFound": 400, "InvalidVersion": 400, "AuthenticationFail.OIDCToken.Invalid": 400,
    "InvalidAccessKeyId.NotFound": 404, "EntityNotExist.Role": 404, "EntityNotExist.OIDCProvider": 404,
    "MissingSecurityToken": 400, "InvalidSecurityToken.Expired": 400, "InvalidSecurityToken.Mismatch": 400,
    "NoPermission": 403, "Throttling.User": 400, "ServiceUnavailable": 503,
}


@dataclass
class Role:
    max_duration: int
    external_id: Optional[str]


class StsError(Exception):
    def __init__(self, code: str, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.code, self.message = code, message
        self.status = status or STS_ERROR_STATUS.get(code, 400)


class Sts:
    """Roles, OIDC providers and the keys allowed to assume roles; ``issue`` hands out a key, ``record``
    logs a request, ``find_issued`` finds a key issued earlier (by any of the stand-ins)."""

    def __init__(self, clock: Clock, *, issue: Callable[[str, Optional[str], float], IssuedCredentials],
                 record: Callable[..., None], find_issued: Callable[[str], Optional[IssuedCredentials]],
                 max_skew: float = 900.0) -> None:
        self.clock = clock
        self.issue, self.record, self.find_issued = issue, record, find_issued
        self.max_skew = max_skew
        self._lock = threading.Lock()
        self._base_keys: dict[str, tuple[str, Optional[str]]] = {}
        self._roles: dict[str, Role] = {}
        self._oidc: dict[str, set[str]] = {}
        self._nonces: set[str] = set()

    @property
    def role_count(self) -> int:
        with self._lock:
            return len(self._roles)

    def add_key(self, access_key_id: str, access_key_secret: str, security_token: Optional[str] = None) -> None:
        """A long-term key (or a fixed STS one) allowed to call AssumeRole."""
        with self._lock:
            self._base_keys[access_key_id] = (access_key_secret, security_token or None)

    def add_role(self, role_arn: str, *, max_duration: int = 43200, external_id: Optional[str] = None) -> str:
        if not _ROLE_ARN.fullmatch(role_arn):
            raise ValueError(f"not a role ARN: {role_arn!r}")
        with self._lock:
            self._roles[role_arn] = Role(int(max_duration), external_id)
        return role_arn

    def add_oidc_provider(self, provider_arn: str, *tokens: str) -> str:
        """An OIDC provider and the tokens it vouches for (add more with :meth:`accept_oidc_token`)."""
        with self._lock:
            self._oidc.setdefault(provider_arn, set()).update(tokens)
        return provider_arn

    def accept_oidc_token(self, provider_arn: str, token: str) -> None:
        with self._lock:
            self._oidc.setdefault(provider_arn, set()).add(token)

    def revoke_oidc_token(self, provider_arn: str, token: str) -> None:
        with self._lock:
            self._oidc.get(provider_arn, set()).discard(token)

    def answer(self, method: str, query: str, headers: Any, body: bytes) -> Answer:
        record: dict[str, Any] = {"service": "sts", "method": method, "action": "?"}
        try:
            params = self._params(method, query, headers, body)
            action = params.get("Action", "")
            record["action"] = action or "?"
            record["role"] = params.get("RoleArn")
            if params.get("Version") != "2015-04-01":
                raise StsError("InvalidVersion", "Specified parameter Version is not valid.")
            self._check_timestamp(params)
            if action == "AssumeRole":
                record["access_key_id"] = params.get("AccessKeyId")
                data = self._assume_role(method, params, record)
            elif action == "AssumeRoleWithOIDC":
                record["oidc_token"] = params.get("OIDCToken")
                data = self._assume_role_with_oidc(params, record)
            else:
                raise StsError("InvalidAction.NotFound", f"Specified api is not found, please check your url and "
                                f"method: {action[:40]!r}")
        except StsError as exc:
            self.record(status=exc.status, **record)
            return json_answer(exc.status, {"RequestId": str(uuid.uuid4()), "HostId": "sts.aliyuncs.com",
                                           "Code": exc.code, "Message": exc.message})
        self.record(status=200, **record)
        return json_answer(200, data)

    @staticmethod
    def _params(method: str, query: str, headers: Any, body: bytes) -> dict[str, str]:
        pairs = parse_qsl(query, keep_blank_values=True)
        if method == "POST":
            if "application/x-www-form-urlencoded" not in (headers.get("Content-Type") or ""):
                raise StsError("InvalidParameter", "a POST body must be application/x-www-form-urlencoded")
            pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        elif method != "GET":
            raise StsError("InvalidParameter", f"method {method} is not allowed")
        params: dict[str, str] = {}
        for name, value in pairs:
            if name in params:
                raise StsError("InvalidParameter", f"parameter {name} appears twice")
            params[name] = value
        return params

    def _check_timestamp(self, params: dict[str, str]) -> None:
        stamp = params.get("Timestamp")
        if not stamp:
            raise StsError("MissingParameter", "The input parameter Timestamp that is mandatory for processing "
                            "this request is not supplied.")
        try:
            signed_at = calendar.timegm(time.strptime(stamp, TIMESTAMP))
        except ValueError:
            raise StsError("InvalidTimeStamp.Format", "Specified time stamp or date value is not well "
                            "formatted.") from None
        if abs(time.time() - signed_at) > self.max_skew:
            raise StsError("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")

    def _common(self, params: dict[str, str], record: dict[str, Any]) -> tuple[str, Role, str, int]:
        role_arn = params.get("RoleArn", "")
        if not role_arn:
            raise StsError("MissingParameter", "RoleArn is mandatory for this action.")
        session = params.get("RoleSessionName", "")
        if not _SESSION_NAME.fullmatch(session):
            raise StsError("InvalidParameter.RoleSessionName", "The parameter RoleSessionName is wrongly "
                            "formed: 2-64 characters of letters, digits and . @ - _")
        with self._lock:
            role = self._roles.get(role_arn)
        if role is None:
            raise StsError("EntityNotExist.Role", f"The role does not exist: {role_arn}.")
        try:
            duration = int(params.get("DurationSeconds", "3600"))
        except ValueError:
            duration = -1
        if not 900 <= duration <= role.max_duration:
            raise StsError("InvalidParameter.DurationSeconds", f"The Min/Max value of DurationSeconds is "
                            f"15min/{role.max_duration // 60}min.")
        record["duration"] = duration
        policy = params.get("Policy")
        if policy is not None:
            try:
                ok = 1 <= len(policy) <= 2048 and isinstance(json.loads(policy), dict)
            except ValueError:
                ok = False
            if not ok:
                raise StsError("InvalidParameter.PolicyGrammar", "The parameter Policy has not passed grammar "
                                "check.")
        return role_arn, role, session, duration

    def _assume_role(self, method: str, params: dict[str, str], record: dict[str, Any]) -> dict[str, Any]:
        for name in ("AccessKeyId", "Signature", "SignatureNonce", "SignatureMethod", "SignatureVersion"):
            if not params.get(name):
                raise StsError("MissingParameter", f"The input parameter {name} that is mandatory for processing "
                                "this request is not supplied.")
        if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
            raise StsError("UnsupportedSignatureMethod", "Specified signature method is not supported.")
        key_id = params["AccessKeyId"]
        with self._lock:
            base = self._base_keys.get(key_id)
        issued = self.find_issued(key_id)
        if base is not None:
            secret, token = base
        elif issued is not None:
            secret, token = issued.access_key_secret, issued.security_token
        else:
            raise StsError("InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        expected = sts_signature(method, params, secret)
        if not secrets.compare_digest(expected.encode(), params["Signature"].encode()):
            raise StsError("SignatureDoesNotMatch", "Specified signature is not matched with our calculation. "
                            "server string to sign is:" + sts_string_to_sign(method, params))
        with self._lock:
            if params["SignatureNonce"] in self._nonces:
                raise StsError("SignatureNonceUsed", "Specified signature nonce was used already.")
            self._nonces.add(params["SignatureNonce"])
        if token is not None and not params.get("SecurityToken"):
            raise StsError("MissingSecurityToken", "SecurityToken is missing for a temporary access key.")
        if token is not None and params["SecurityToken"] != token:
            raise StsError("InvalidSecurityToken.Mismatch", "Specified SecurityToken mismatch with the AccessKey.")
        if issued is not None and self.clock.now() >= issued.expires_at:
            raise StsError("InvalidSecurityToken.Expired", "Specified SecurityToken is expired.")
        role_arn, role, session, duration = self._common(params, record)
        external = params.get("ExternalId")
        if external is not None and not _EXTERNAL_ID.fullmatch(external):
            raise StsError("InvalidParameter.ExternalId", "The parameter ExternalId is wrongly formed.")
        if role.external_id is not None and external != role.external_id:
            raise StsError("NoPermission", "You are not authorized to do this action. You should be authorized "
                            "by RAM (the role's trust policy requires another ExternalId).")
        return self._sts_answer(role_arn, session, self.issue("AssumeRole", role_arn, duration))

    def _assume_role_with_oidc(self, params: dict[str, str], record: dict[str, Any]) -> dict[str, Any]:
        provider = params.get("OIDCProviderArn", "")
        token = params.get("OIDCToken", "")
        if not provider or not token:
            raise StsError("MissingParameter", "OIDCProviderArn and OIDCToken are mandatory for this action.")
        with self._lock:
            accepted = self._oidc.get(provider)
        if accepted is None:
            raise StsError("EntityNotExist.OIDCProvider", "The OIDC provider does not exist.")
        if token not in accepted:
            raise StsError("AuthenticationFail.OIDCToken.Invalid", "The OIDC token is invalid or expired.")
        role_arn, _, session, duration = self._common(params, record)
        data = self._sts_answer(role_arn, session, self.issue("AssumeRoleWithOIDC", role_arn, duration))
        now = self.clock.now()
        data["OIDCTokenInfo"] = {"Subject": "system:serviceaccount:default:deploy", "Issuer": "https://oidc.example",
                                 "ClientIds": "sts.aliyuncs.com",
                                 "IssuanceTime": time.strftime(TIMESTAMP, time.gmtime(now)),
                                 "ExpirationTime": time.strftime(TIMESTAMP, time.gmtime(now + 3600))}
        data["SourceIdentity"] = ""
        return data

    def _sts_answer(self, role_arn: str, session: str, issued: IssuedCredentials) -> dict[str, Any]:
        match = _ROLE_ARN.fullmatch(role_arn)
        assert match is not None
        return {"RequestId": str(uuid.uuid4()), "Credentials": credential_fields(issued),
                "AssumedRoleUser": {"Arn": f"acs:ram::{match.group(1)}:assumed-role/{match.group(2)}/{session}",
                                    "AssumedRoleId": f"{secrets.randbelow(10**18)}:{session}"}}
