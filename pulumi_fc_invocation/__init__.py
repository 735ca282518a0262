"""Read Alibaba Cloud Function Compute stateful async invocations from Pulumi, and gate deployments on them.

The client layer (``FcClient``, models, errors) imports without Pulumi; the Pulumi data source
(``StatefulAsyncInvocation`` and the ``get_*`` functions) is loaded on first use, so tools that only
read invocations don't pay Pulumi's import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from .errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    FcApiError,
    FcInvocationError,
    InvalidArgumentError,
    InvalidResponseError,
    InvocationFailedError,
    NotFoundError,
    PaginationError,
    RedirectError,
    RequestTimeoutError,
    ResponseTooLargeError,
    ServerError,
    ThrottledError,
    TransportError,
    UnreachableError,
    WaitTimeoutError,
)

# Loaded on first use: the client needs requests and pydantic (about 0.3 s), the data source needs
# Pulumi; `fc-invocation --help` and `import pulumi_fc_invocation.errors` need neither.
_LAZY = {
    "Credentials": "credentials",
    "FcClient": "client",
    "InvocationRef": "fc2",
    "InvocationStatus": "models",
    "InvocationEvent": "models",
    "StatefulAsyncInvocationResult": "fc2",
    "StatefulAsyncInvocation": "resource",
    "get_stateful_async_invocation": "resource",
    "get_stateful_async_invocation_output": "resource",
    "StatefulAsyncInvocationProvider": "provider",
    "StatefulAsyncInvocations": "batch",
    "GetStatefulAsyncInvocationsResult": "batch",
    "get_stateful_async_invocations": "batch",
    "get_stateful_async_invocations_output": "batch",
    "StatefulAsyncInvocationsProvider": "batch_provider",
    "GetStatefulAsyncInvocationResult": "resource",
    "WaitPolicy": "waiter",
    "Waiter": "waiter",
}

if TYPE_CHECKING:  # pragma: no cover
    from .client import FcClient
    from .credentials import Credentials
    from .fc2 import InvocationRef, StatefulAsyncInvocationResult
    from .models import InvocationEvent, InvocationStatus
    from .batch import (
        GetStatefulAsyncInvocationsResult,
        StatefulAsyncInvocations,
        get_stateful_async_invocations,
        get_stateful_async_invocations_output,
    )
    from .batch_provider import StatefulAsyncInvocationsProvider
    from .provider import StatefulAsyncInvocationProvider
    from .resource import (
        GetStatefulAsyncInvocationResult,
        StatefulAsyncInvocation,
        get_stateful_async_invocation,
        get_stateful_async_invocation_output,
    )
    from .waiter import Waiter, WaitPolicy


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pulumi_fc_invocation' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "__version__",
    "FcInvocationError",
    "InvalidArgumentError",
    "ConfigurationError",
    "FcApiError",
    "BadRequestError",
    "AuthenticationError",
    "NotFoundError",
    "ConflictError",
    "ThrottledError",
    "ServerError",
    "InvalidResponseError",
    "RedirectError",
    "PaginationError",
    "ResponseTooLargeError",
    "TransportError",
    "UnreachableError",
    "RequestTimeoutError",
    "InvocationFailedError",
    "WaitTimeoutError",
    *_LAZY,
]
