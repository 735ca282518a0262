"""One description per data source: what each takes and gives, with types, defaults, secrecy and docs.

Everything that spells out a data source's inputs or outputs reads them here: the Python data
sources and function forms, the plugin's schema, the API kinds' key tuples and ``docs/reference/``.
Adding an input is a field in its description (and in :mod:`.common` when every data source takes it).
The runs (resources that start an item and gate on it) are in :data:`RUNS`, apart from the data sources.
"""

from __future__ import annotations

from .async_task import ASYNC_TASK
from .async_task_run import ASYNC_TASK_RUN
from .async_tasks import ASYNC_TASKS
from .fields import PACKAGE, REQUIRED, DataSource, Field, Member, Run, camel
from .stateful_async_invocation import STATEFUL_ASYNC_INVOCATION
from .stateful_async_invocation_run import STATEFUL_ASYNC_INVOCATION_RUN
from .stateful_async_invocations import STATEFUL_ASYNC_INVOCATIONS

__all__ = ["SOURCES", "RUNS", "by_name", "run_by_name", "PACKAGE", "REQUIRED", "DataSource", "Field", "Member", "Run",
           "camel", "STATEFUL_ASYNC_INVOCATION", "STATEFUL_ASYNC_INVOCATIONS", "ASYNC_TASK", "ASYNC_TASKS",
           "ASYNC_TASK_RUN", "STATEFUL_ASYNC_INVOCATION_RUN"]

# FC 3.0's first, as the schema lists them.
SOURCES: tuple[DataSource, ...] = (ASYNC_TASK, ASYNC_TASKS, STATEFUL_ASYNC_INVOCATION, STATEFUL_ASYNC_INVOCATIONS)
# The runs, in the same order.
RUNS: tuple[Run, ...] = (ASYNC_TASK_RUN, STATEFUL_ASYNC_INVOCATION_RUN)


def by_name(name: str) -> DataSource:
    for source in SOURCES:
        if source.name == name:
            return source
    raise KeyError(f"no data source {name!r}; they are {', '.join(s.name for s in SOURCES)}")


def run_by_name(name: str) -> Run:
    for run in RUNS:
        if run.name == name:
            return run
    raise KeyError(f"no run {name!r}; they are {', '.join(r.name for r in RUNS)}")
