"""Read Alibaba Cloud Function Compute async work from Pulumi, and gate deployments on it: FC 3.0
async tasks (``AsyncTask``, ``AsyncTasks``) and FC 2.0 stateful async invocations
(``StatefulAsyncInvocation``, ``StatefulAsyncInvocations``).

The client layer (``FcClient``, models, errors) imports without Pulumi; the Pulumi layer
(:mod:`.pulumi`: the data sources, the ``get_*`` functions and the runs ``AsyncTaskRun`` /
``StatefulAsyncInvocationRun``, which start a task in the deployment and wait for it) is loaded on
first use, so tools that only read invocations don't pay Pulumi's import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .version import __version__

from . import errors
from .errors import *  # noqa: F403 -- the exception tree, every name of errors.__all__

# Loaded on first use: the client needs requests and pydantic (about 0.3 s), the data source needs
# Pulumi; `fc-invocation --help` and `import pulumi_fc_invocation.errors` need neither.
_LAZY = {
    "Credentials": "credentials",
    "RefreshableCredentials": "credentials",
    "FcClient": "client",
    "InvocationRef": "fc2",
    "InvocationStatus": "models",
    "InvocationEvent": "models",
    "StatefulAsyncInvocationResult": "fc2",
    "AsyncTaskRef": "fc3",
    "AsyncTaskResult": "fc3",
    "StatefulAsyncInvocation": "pulumi.resources",
    "StatefulAsyncInvocations": "pulumi.resources",
    "AsyncTask": "pulumi.resources",
    "AsyncTasks": "pulumi.resources",
    "AsyncTaskRun": "pulumi.runs",
    "StatefulAsyncInvocationRun": "pulumi.runs",
    "get_stateful_async_invocation": "pulumi.functions",
    "get_stateful_async_invocation_output": "pulumi.functions",
    "GetStatefulAsyncInvocationResult": "pulumi.functions",
    "get_stateful_async_invocations": "pulumi.functions",
    "get_stateful_async_invocations_output": "pulumi.functions",
    "GetStatefulAsyncInvocationsResult": "pulumi.functions",
    "get_async_task": "pulumi.functions",
    "get_async_task_output": "pulumi.functions",
    "GetAsyncTaskResult": "pulumi.functions",
    "get_async_tasks": "pulumi.functions",
    "get_async_tasks_output": "pulumi.functions",
    "GetAsyncTasksResult": "pulumi.functions",
    "StatefulAsyncInvocationProvider": "pulumi.providers",
    "StatefulAsyncInvocationsProvider": "pulumi.providers",
    "AsyncTaskProvider": "pulumi.providers",
    "AsyncTasksProvider": "pulumi.providers",
    "for_operation": "gate.operation",
    "WaitPolicy": "waiter",
    "Waiter": "waiter",
    "DurationHistory": "waiter",
    "DurationEstimate": "waiter",
    "history_for": "waiter",
    "batch_history": "waiter",
    "durations_of": "waiter",
}

if TYPE_CHECKING:  # pragma: no cover  # the lazy names, re-exported for type checkers ("X as X": explicit)
    from .client import FcClient as FcClient
    from .credentials import Credentials as Credentials
    from .credentials import RefreshableCredentials as RefreshableCredentials
    from .fc2 import InvocationRef as InvocationRef
    from .fc2 import StatefulAsyncInvocationResult as StatefulAsyncInvocationResult
    from .fc3 import AsyncTaskRef as AsyncTaskRef
    from .fc3 import AsyncTaskResult as AsyncTaskResult
    from .models import InvocationEvent as InvocationEvent
    from .models import InvocationStatus as InvocationStatus
    from .pulumi.functions import get_async_task as get_async_task
    from .pulumi.functions import get_async_task_output as get_async_task_output
    from .pulumi.functions import get_async_tasks as get_async_tasks
    from .pulumi.functions import get_async_tasks_output as get_async_tasks_output
    from .pulumi.functions import get_stateful_async_invocation as get_stateful_async_invocation
    from .pulumi.functions import get_stateful_async_invocation_output as get_stateful_async_invocation_output
    from .pulumi.functions import get_stateful_async_invocations as get_stateful_async_invocations
    from .pulumi.functions import get_stateful_async_invocations_output as get_stateful_async_invocations_output
    from .pulumi.functions import GetAsyncTaskResult as GetAsyncTaskResult
    from .pulumi.functions import GetAsyncTasksResult as GetAsyncTasksResult
    from .pulumi.functions import GetStatefulAsyncInvocationResult as GetStatefulAsyncInvocationResult
    from .pulumi.functions import GetStatefulAsyncInvocationsResult as GetStatefulAsyncInvocationsResult
    from .pulumi.providers import AsyncTaskProvider as AsyncTaskProvider
    from .pulumi.providers import AsyncTasksProvider as AsyncTasksProvider
    from .pulumi.providers import StatefulAsyncInvocationProvider as StatefulAsyncInvocationProvider
    from .pulumi.providers import StatefulAsyncInvocationsProvider as StatefulAsyncInvocationsProvider
    from .gate.operation import for_operation as for_operation
    from .pulumi.resources import AsyncTask as AsyncTask
    from .pulumi.resources import AsyncTasks as AsyncTasks
    from .pulumi.resources import StatefulAsyncInvocation as StatefulAsyncInvocation
    from .pulumi.resources import StatefulAsyncInvocations as StatefulAsyncInvocations
    from .pulumi.runs import AsyncTaskRun as AsyncTaskRun
    from .pulumi.runs import StatefulAsyncInvocationRun as StatefulAsyncInvocationRun
    from .waiter import batch_history as batch_history
    from .waiter import DurationEstimate as DurationEstimate
    from .waiter import DurationHistory as DurationHistory
    from .waiter import durations_of as durations_of
    from .waiter import history_for as history_for
    from .waiter import Waiter as Waiter
    from .waiter import WaitPolicy as WaitPolicy


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


__all__ = ["__version__", *errors.__all__, *_LAZY]
