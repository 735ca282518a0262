"""One description per data source: what each takes and gives, with types, defaults, secrecy and docs.

Everything that spells out a data source's inputs or outputs reads them here: the Python data
sources and function forms, the plugin's schema, the API kinds' key tuples and ``docs/reference/``.
Adding an input is a field in its description (and in :mod:`.common` when every data source takes it).
"""

from __future__ import annotations

from .async_task import ASYNC_TASK
from .async_tasks import ASYNC_TASKS
from .fields import PACKAGE, REQUIRED, DataSource, Field, Member, camel
from .stateful_async_invocation import STATEFUL_ASYNC_INVOCATION
from .stateful_async_invocations import STATEFUL_ASYNC_INVOCATIONS

__all__ = ["SOURCES", "by_name", "PACKAGE", "REQUIRED", "DataSource", "Field", "Member", "camel", "STATEFUL_ASYNC_INVOCATION",
           "STATEFUL_ASYNC_INVOCATIONS", "ASYNC_TASK", "ASYNC_TASKS"]

# FC 3.0's first, as the schema lists them.
SOURCES: tuple[DataSource, ...] = (ASYNC_TASK, ASYNC_TASKS, STATEFUL_ASYNC_INVOCATION, STATEFUL_ASYNC_INVOCATIONS)


def by_name(name: str) -> DataSource:
    for source in SOURCES:
        if source.name == name:
            return source
    raise KeyError(f"no data source {name!r}; they are {', '.join(s.name for s in SOURCES)}")
