"""The emulator's state, without HTTP (moto's ``models``): ``tasks`` (one task: script, timeline,
state as a pure function of time) and ``backend`` (functions and tasks of one account, shared by
every API revision)."""

from __future__ import annotations

from . import backend, tasks
from .backend import TASK_RETENTION, FcBackend, Function, check_retention
from .tasks import (DEFAULT_ERROR, TERMINAL_STATUSES, EmulatorError, Event, Invocation, InvocationState, Script, Step,
                    label, lifecycle, parse_directive, timeline_of)

__all__ = [*backend.__all__, *tasks.__all__]
