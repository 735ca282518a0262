"""What a harness run leaves behind: the resources, log messages and errors the engine would show."""

from __future__ import annotations

import dataclasses
from typing import Optional

__all__ = ["ResourceRecord", "LogRecord", "ResourceError", "ProgramResult", "ProgramError"]


@dataclasses.dataclass
class ResourceRecord:
    """One registered resource, as the engine would hold it in state.

    ``inputs``/``outputs`` are plain values (secrets unwrapped, unknowns as :data:`UNKNOWN`); which
    outputs are secret is in ``secret_outputs``. ``provider_blob`` is the raw serialized
    ``__provider`` input (base64 dill), so tests can check that no credential was pickled into it.
    ``op`` is ``"create"``, ``"read"``, ``"import"``, ``"mock"`` (non-dynamic) or ``"component"``.
    """

    urn: str
    type: str
    name: str
    id: Optional[str]
    inputs: dict
    outputs: dict
    secret_outputs: set = dataclasses.field(default_factory=set)
    provider_blob: Optional[str] = None
    op: str = "create"
    secret_inputs: set = dataclasses.field(default_factory=set)


@dataclasses.dataclass
class LogRecord:
    """A ``pulumi.log`` message from the program; ``urn`` is set when logged against a resource."""

    severity: str  # "info" | "warning" | "error"
    message: str
    urn: Optional[str] = None
    ephemeral: bool = False


@dataclasses.dataclass
class ResourceError:
    """A resource the engine would report as failed, with the text it would print."""

    urn: str
    type: str
    name: str
    op: str
    message: str


@dataclasses.dataclass
class ProgramResult:
    """What a finished ``pulumi up``/``preview`` leaves behind: stack outputs, state, messages."""

    outputs: dict
    secret_outputs: set
    resources: list
    logs: list
    preview: bool = False

    def resource(self, name: str) -> ResourceRecord:
        """The resource registered under logical ``name`` (KeyError if none)."""
        for record in self.resources:
            if record.name == name:
                return record
        raise KeyError(f"no resource named {name!r}; have {[r.name for r in self.resources]}")


class ProgramError(Exception):
    """The deployment failed: the text the engine would print is in ``message``.

    ``resource_errors`` lists the failed resources (provider errors); empty when the program itself
    raised. ``result`` holds what was deployed before the failure (resources, logs).
    """

    def __init__(
        self,
        message: str,
        resource_errors: Optional[list] = None,
        result: Optional[ProgramResult] = None,
    ):
        super().__init__(message)
        self.message = message
        self.resource_errors = list(resource_errors or [])
        self.result = result
