"""The ECS metadata service: an instance's RAM role as a role source (IMDSv2 token first, IMDSv1 unless
turned off), the role named by ``ALIBABA_CLOUD_ECS_METADATA``, and last in the chain the probe of the
instance's own role.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote

from ..errors import (
    ConfigurationError,
    FcInvocationError,
    InvalidResponseError,
    RequestTimeoutError,
    UnreachableError,
    error_class_for,
    printable,
)
from .base import RefreshableCredentials, cached
from .context import Context, CredentialProvider, Found
from .fetch import Fetched, FetchProblem, RoleSource, credentials_in, http, log, retried_status
from .settings import checked

__all__ = ["EcsRamRole", "ecs_ram_role", "EcsRoleNameProvider", "InstanceMetadataProvider", "on_ecs",
           "METADATA_TIMEOUT"]

METADATA_TIMEOUT = (1.0, 3.0)  # the metadata service is link-local: a second to connect is plenty
IMDS_TOKEN_TTL = 21600
_ROLE_NAME = re.compile(r"[A-Za-z0-9._@+=,-]{1,128}")


class EcsRamRole(RoleSource):
    action = "ECS RAM role"

    def __init__(self, role_name: Optional[str], *, endpoint: str, imdsv1_disabled: bool, origin: str,
                 timeout: tuple[float, float] = METADATA_TIMEOUT) -> None:
        self.role_name, self.endpoint, self.imdsv1_disabled = role_name or None, endpoint, imdsv1_disabled
        self.origin, self.timeout = origin, timeout
        self._discovered: Optional[str] = None

    def describe(self) -> str:
        name = self.role_name or self._discovered
        return (f"ECS RAM role {name}" if name else "ECS RAM role (name from the metadata service)") + \
            f" at {self.endpoint}"

    def key(self) -> tuple[Any, ...]:
        return ("ECS", self.role_name, self.endpoint, self.imdsv1_disabled)

    def _get(self, path: str, token: Optional[str], deadline: float) -> bytes:
        where = f"the metadata service {self.endpoint}"
        headers = {"X-aliyun-ecs-metadata-token": token} if token else {}
        status, _, body = http("GET", self.endpoint + path, direct=True, headers=headers, timeout=self.timeout,
                               where=where, deadline=deadline)
        if status != 200:
            hint = "" if token or status not in (401, 403) else \
                " (IMDSv1 refused: the instance may enforce IMDSv2 tokens)"
            raise FetchProblem(error_class_for(status), f"HTTP {status} for {path}{hint}", status=status,
                               retryable=retried_status(status))
        return body

    def _token(self, deadline: float) -> Optional[str]:
        where = f"the metadata service {self.endpoint}"
        problem = None
        try:
            status, _, body = http("PUT", self.endpoint + "/latest/api/token", direct=True,
                                   headers={"X-aliyun-ecs-metadata-token-ttl-seconds": str(IMDS_TOKEN_TTL)},
                                   timeout=self.timeout, where=where, deadline=deadline)
        except FetchProblem as exc:
            if exc.cls in (UnreachableError, RequestTimeoutError):
                raise
            problem = exc
        else:
            if status == 200 and body.strip():
                return body.decode("ascii", "replace").strip()
            problem = FetchProblem(error_class_for(status), f"HTTP {status} for the IMDSv2 token", status=status,
                                   retryable=retried_status(status))
        if self.imdsv1_disabled:
            raise FetchProblem(problem.cls, f"{problem.detail}, and IMDSv1 is off (ALIBABA_CLOUD_IMDSV1_DISABLED)",
                               status=problem.status, retryable=problem.retryable)
        log().debug("metadata service %s: no IMDSv2 token (%s); falling back to IMDSv1", self.endpoint, problem.detail)
        return None

    def fetch(self, deadline: float) -> Fetched:
        token = self._token(deadline)
        name = self.role_name or self._discovered
        base = "/latest/meta-data/ram/security-credentials/"
        if not name:
            text = self._get(base, token, deadline).decode("utf-8", "replace").strip().splitlines()
            if not text or not re.fullmatch(r"[A-Za-z0-9._@+=,-]{1,128}", text[0].strip()):
                raise FetchProblem(ConfigurationError, "the instance has no RAM role attached (the metadata service "
                                   "names none); attach one or name one in `fc-invocation:ecsRoleName` / "
                                   "ALIBABA_CLOUD_ECS_METADATA")
            name = self._discovered = text[0].strip()
        body = self._get(base + quote(name, safe=""), token, deadline)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise FetchProblem(InvalidResponseError,
                               "the metadata service answered with a body that is not JSON") from None
        if isinstance(data, dict) and data.get("Code", "Success") != "Success":
            raise FetchProblem(InvalidResponseError, f"the metadata service answered Code "
                               f"{printable(str(data.get('Code')))[:60]!r}, not Success")
        return credentials_in(data, f"the metadata service {self.endpoint}")


def ecs_ram_role(ctx: Context, role_name: Any, *, where: str, origin: str,
                 timeout: tuple[float, float] = METADATA_TIMEOUT) -> RefreshableCredentials:
    """The RAM role ``role_name`` (None: the one the metadata service names), its name checked now."""
    name = checked(role_name, "role name", where, _ROLE_NAME, "is not a RAM role name")
    source = EcsRamRole(name, endpoint=ctx.metadata_endpoint(), imdsv1_disabled=ctx.flag("imdsv1_disabled"),
                        origin=origin, timeout=timeout)
    return cached(source)


class EcsRoleNameProvider(CredentialProvider):
    """The RAM role named by ``ALIBABA_CLOUD_ECS_METADATA`` (not with ALIBABA_CLOUD_ECS_METADATA_DISABLED)."""

    def load(self, ctx: Context) -> Optional[Found]:
        if ctx.flag("ecs_metadata_disabled"):
            return None
        role_name, name = ctx.env_value("ecs_role_name")
        if not role_name:
            return None
        creds = ecs_ram_role(ctx, role_name, where="environment", origin=name or "")
        return creds, creds.source


def on_ecs() -> bool:
    """Whether this machine is an ECS instance, from DMI (no network): the metadata service is probed only there."""
    for name in ("sys_vendor", "product_name"):
        try:
            if "alibaba cloud" in Path(f"/sys/class/dmi/id/{name}").read_text(errors="replace").lower():
                return True
        except OSError:
            continue
    return False


class InstanceMetadataProvider(CredentialProvider):
    """Last in the chain: the instance's RAM role, when the metadata service answers within a second.

    Only on an ECS instance (or with the metadata address overridden, as tests do); off with
    ALIBABA_CLOUD_ECS_METADATA_DISABLED=true. A probe that fails is not an error: the chain just ends."""

    def load(self, ctx: Context) -> Optional[Found]:
        if ctx.flag("ecs_metadata_disabled"):
            return None
        if not ctx.env_value("metadata_endpoint")[0] and not on_ecs():
            return None
        creds = ecs_ram_role(ctx, None, where="ECS metadata", origin="the instance's RAM role (last in the chain)",
                             timeout=(1.0, METADATA_TIMEOUT[1]))
        problem = None
        try:
            creds.current()
        except FcInvocationError as exc:
            problem = exc
        if problem is not None:
            log().debug("no ECS RAM role: %s", problem)
            return None
        return creds, creds.source
