"""Stand-ins for the services role-based credentials come from: STS, the ECS metadata service, a credentials URI.

One real HTTP server on loopback serves all three, on the FC emulator's clock, and registers every key
it issues with the emulator (``FcEmulator.add_credentials(..., expires_at=...)``), so FC answers
``SecurityTokenExpired`` to a client that signs with a token past its expiry::

    with FcEmulator(clock="virtual") as fc, IdentityServices(fc, lifetime=900) as ids:
        ids.add_role("acs:ram::1234567890123456:role/deploy")
        ids.add_oidc_provider("acs:ram::1234567890123456:oidc-provider/ci", "eyJ...token")
        env = ids.oidc_env("acs:ram::1234567890123456:role/deploy", "acs:ram::...:oidc-provider/ci", token_file)

- **STS** (``sts_endpoint``; room ``sts``): ``AssumeRole`` (signed) and ``AssumeRoleWithOIDC``.
  ``lifetime`` overrides the requested duration of what is issued (very short keys for tests).
- **ECS metadata** (``metadata_endpoint``; room ``metadata``): IMDSv2 tokens, then the role's key.
- **Credentials URI** (``credentials_uri``; room ``metadata``): ``GET`` answers ``{"Code": "Success", ...}``.

``fail_next(service, ...)`` queues failures (an HTTP error, a dropped connection, a given body);
``requests`` lists what was asked, ``issued`` what was handed out. Secrets never appear in a repr.

Clients judge expiry on the process clock (``pulumi_fc_invocation.clock.use_clock``, the waiters'
too): with a virtual emulator, use ``use_clock(AutoAdvanceClock(fc.clock))`` (the ``fc_emulator``
fixture does), or a client would keep a key the emulator already considers expired.
"""

from __future__ import annotations

from .records import IdentityRequest, IssuedCredentials
from .services import IdentityServices
from .sts import STS_ERROR_STATUS

__all__ = ["IdentityServices", "IdentityRequest", "IssuedCredentials", "STS_ERROR_STATUS"]
