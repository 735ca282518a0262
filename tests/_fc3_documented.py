"""FC3-API.md's error table, written out here (not read from the package's ERROR_CODES) so that the code
can't agree with itself: (HTTP status, FC's code, the exception class it becomes)."""

from pulumi_fc_invocation.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    ThrottledError,
)

DOCUMENTED = [
    (400, "InvalidArgument", BadRequestError), (400, "MissingRequiredHeader", BadRequestError),
    (400, "PathNotSupported", BadRequestError), (400, "EntityTooLarge", BadRequestError),
    (403, "AccessDenied", AuthenticationError), (403, "SignatureNotMatch", AuthenticationError),
    (403, "InvalidAccessKeyID", AuthenticationError),
    (404, "FunctionNotFound", NotFoundError), (404, "VersionNotFound", NotFoundError),
    (404, "AliasNotFound", NotFoundError), (404, "AsyncConfigNotExists", NotFoundError),
    (404, "TriggerNotFound", NotFoundError), (404, "AsyncTaskNotFound", NotFoundError),
    (409, "ConcurrentUpdateError", ConflictError), (412, "AsyncInvocationStopped", BadRequestError),
    (429, "ResourceExhausted", ThrottledError), (503, "ResourceThrottled", ThrottledError),
]
