"""FC's error codes and the HTTP status FC answers each with: the emulator's one table.

Every API revision's error answers (``responses``) and a scripted fault's default status (``faults``)
come from it; a revision may rename a code (FC 3.0 does) but not its status. The codes and statuses are
those of FC's error tables (FC-API.md, FC3-API.md "Errors"); a fault naming a code not listed here must
give its status.
"""

from __future__ import annotations

__all__ = ["STATUS_FOR_CODE"]

STATUS_FOR_CODE = {
    "InvalidArgument": 400, "MissingRequiredHeader": 400, "PathNotSupported": 400, "EntityTooLarge": 400,
    "LimitExceededError": 400,
    "AccessDenied": 403, "SignatureNotMatch": 403, "InvalidAccessKeyID": 403, "RequestTimeTooSkewed": 403,
    "InvalidSecurityToken": 403, "SecurityTokenExpired": 403,
    "ServiceNotFound": 404, "FunctionNotFound": 404, "AliasNotFound": 404, "VersionNotFound": 404,
    "StatefulAsyncInvocationNotFound": 404,
    "StatefulAsyncInvocationAlreadyExists": 409, "ConcurrentUpdateError": 409,
    "AsyncTaskNotFound": 404, "AsyncConfigNotExists": 404, "AsyncTaskAlreadyExists": 409, "TriggerNotFound": 404,
    "AsyncInvocationStopped": 412,
    "ResourceExhausted": 429, "InternalServerError": 500, "ResourceThrottled": 503,
}
