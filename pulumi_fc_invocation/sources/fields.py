"""The description types: a data source is a name, its inputs and its outputs, each a :class:`Field`; a
run (:class:`Run`) is a resource that starts an async item and gates on it as its data source does.

Plain data, no Pulumi: the Python signatures and results (:mod:`..pulumi`), the plugin's schema
(:mod:`..schema`), the key tuples of each API kind (:mod:`..kinds`) and the reference pages
(``docs/reference/``) are all read from these. A field's ``type`` is a Python type: ``str``, ``int``,
``float``, ``bool``, ``list[X]``, ``Mapping[str, X]``, :class:`~..models.InvocationEvent`, or
:class:`Member` (one member of a batch, the single data source's result fields).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Optional

__all__ = ["ID_INPUT", "PACKAGE", "REQUIRED", "Field", "Member", "Described", "DataSource", "Run", "by_name", "camel"]

ID_INPUT = "task_id"  # a run's id input (both APIs)
PACKAGE = "fc-invocation"  # the plugin's package: tokens are ``fc-invocation:index:<Name>``


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()  # the default of an input that must be given


def camel(name: str) -> str:
    """``already_retried_times`` -> ``alreadyRetriedTimes`` (the schema's and the engine's property names)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass(frozen=True)
class Member:
    """The object type of one member of a batch: the result fields of the single data source ``source``."""

    name: str    # the schema type's name: "Invocation", "Task"
    source: str  # the single data source's name


@dataclass(frozen=True)
class Field:
    """One input or output of a data source (or both: an input the data source echoes as an output)."""

    name: str                 # snake_case; the schema's name is camel(name)
    type: Any                 # the value's Python type (see the module docstring)
    doc: str                  # Markdown; the docs append where a ``setting`` defaults from
    default: Any = None       # as an input: REQUIRED, None (optional) or the value used when not given
    nullable: bool = False    # as an output: may be null
    secret: bool = False      # as an output: marked secret unless ``secret_payloads`` is false
    secret_when: Optional[str] = None  # as an output: marked secret only when this holds (Markdown)
    plain: bool = False       # as an input: a plain value, never an Output
    statuses: bool = False    # its strings are known statuses (the schema's InvocationStatus enum)
    waits: bool = False       # only a wait uses it: the plugin's functions (which never wait) leave it out
    setting: Optional[str] = None  # the credential chain's setting it overrides when given
    accepts: Any = None       # as an input, what it takes when wider than ``type`` (times: str or datetime)
    replaces: bool = False    # as a run's input: a change starts a new run (a new task); else a gate input

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def but(self, **changes: Any) -> "Field":
        """This field with ``changes`` (another doc, another default...)."""
        return dataclasses.replace(self, **changes)


class Described:
    """What a data source and a run share: inputs (``positional`` of them leading), outputs, and the rules and
    views written once over them. A subclass (a frozen dataclass) has ``name``, ``inputs``, ``positional``, and
    the properties ``outputs`` and ``fields``."""

    name: str
    inputs: tuple[Field, ...]
    positional: int

    @property
    def outputs(self) -> tuple[Field, ...]:
        raise NotImplementedError

    @property
    def fields(self) -> dict[str, Field]:
        raise NotImplementedError

    def echoed(self, results: tuple[Field, ...]) -> tuple[Field, ...]:
        """The inputs written back as outputs (a refresh reads them), less those the item's own fields
        (``results``: the names, the id) give."""
        given = {f.name for f in results}
        return tuple(f for f in self.inputs if f.name not in given)

    def check_inputs(self) -> None:
        """Each input once, the required ones positional, every field with a doc."""
        names = [f.name for f in self.inputs]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: an input is described twice: {names}")
        for f in self.inputs:
            if f.required and names.index(f.name) >= self.positional:
                raise ValueError(f"{self.name}: required input {f.name!r} must be positional")
        for f in self.fields.values():
            if not f.doc.strip():
                raise ValueError(f"{self.name}: {f.name!r} has no doc")

    @property
    def defaults(self) -> dict[str, Any]:
        """What each optional input is when not given (the one place defaults are written)."""
        return {f.name: f.default for f in self.inputs if not f.required}

    @property
    def secret_outputs(self) -> tuple[str, ...]:
        """The outputs secret unless ``secret_payloads`` is false: the payloads."""
        return tuple(f.name for f in self.outputs if f.secret)


def by_name(*groups: tuple[Field, ...]) -> dict[str, Field]:
    """Every field of ``groups`` by name, the first of a name kept (an input and its echo are one field)."""
    out: dict[str, Field] = {}
    for group in groups:
        for f in group:
            out.setdefault(f.name, f)
    return out


@dataclass(frozen=True)
class DataSource(Described):
    """One data source: its resource form, its function form and what each takes and gives."""

    name: str                      # the resource class and schema name: "AsyncTask"
    api: str                       # the API kind's name: "fc2", "fc3"
    batch: bool
    function: str                  # the Python function form: "get_async_task"
    doc: str                       # the resource's description (Markdown)
    function_doc: str              # the function's description (Markdown)
    what: str                      # in a sentence: "one FC 3.0 async task"
    inputs: tuple[Field, ...]      # in signature order
    positional: int                # how many leading inputs are positional
    results: tuple[Field, ...]     # what a read gives (an item's fields; a batch's summary and members)
    waited: Field                  # the gate's ``waited_seconds`` output
    id: Field                      # the function result's ``id``
    member: Optional[Member] = None    # single: the object type one member of a batch is
    member_doc: str = ""
    id_key: Optional[str] = None   # single: the item's own id; batch: the id-prefix input
    items_key: Optional[str] = None    # batch: the output listing the members
    id_filters: tuple[str, ...] = ()   # batch: the inputs its id's query string carries, in order

    def __post_init__(self) -> None:
        self.check_inputs()

    @property
    def echoes(self) -> tuple[Field, ...]:
        return self.echoed(self.results)

    @property
    def outputs(self) -> tuple[Field, ...]:
        """The resource's outputs, in the order its state is written."""
        if self.batch:
            return self.inputs + self.results + (self.waited,)
        return self.results + self.echoes + (self.waited,)

    @property
    def function_outputs(self) -> tuple[Field, ...]:
        """What the function form returns: ``id``, then a single item's fields or a batch's outputs."""
        return (self.id,) + (self.outputs if self.batch else self.results)

    @property
    def fields(self) -> dict[str, Field]:
        """Every field by name (an input and its echo are one field)."""
        return by_name(self.inputs, self.results, (self.waited, self.id))

    @property
    def token(self) -> str:
        """The plugin's resource token: ``fc-invocation:index:AsyncTask``."""
        return f"{PACKAGE}:index:{self.name}"

    @property
    def function_token(self) -> str:
        """The plugin's function token (and the mocks' ``call``): ``fc-invocation:index:getAsyncTask``."""
        return f"{PACKAGE}:index:{camel(self.function)}"

    def input_names(self, *, waits: bool = True) -> tuple[str, ...]:
        return tuple(f.name for f in self.inputs if waits or not f.waits)

    @property
    def ref_keys(self) -> tuple[str, ...]:
        """The positional inputs: what names the item (single) or the function (batch)."""
        return tuple(f.name for f in self.inputs[:self.positional])



@dataclass(frozen=True)
class Run(Described):
    """One run resource: it starts an async item (once: the start is idempotent, see :mod:`..gate.start`)
    and gates on it as the single data source ``gates`` does. Its outputs are that data source's (the
    item's fields, the id used among them), then its own inputs echoed (a diff and a refresh read them),
    ``run_sequence`` and ``waited_seconds``."""

    name: str                      # the resource's class and schema name: "AsyncTaskRun"
    api: str                       # the API kind's name: "fc2", "fc3"
    gates: DataSource              # the single data source whose gate and outputs it has
    doc: str                       # the resource's description (Markdown)
    what: str                      # in a sentence: "one FC 3.0 async task, started and waited for"
    inputs: tuple[Field, ...]      # in signature order
    positional: int                # how many leading inputs are positional
    sequence: Field                # ``run_sequence``: the hidden input a check computes, recorded as an output

    def __post_init__(self) -> None:
        self.check_inputs()
        names = [f.name for f in self.inputs]
        missing = [name for name in self.gates.input_names() if name not in names
                   and name != self.gates.id_key]
        if missing:  # the gate's spec is built from the run's inputs
            raise ValueError(f"{self.name}: the gate's inputs {missing} are not inputs of the run")

    @property
    def token(self) -> str:
        """The plugin's resource token: ``fc-invocation:index:AsyncTaskRun``."""
        return f"{PACKAGE}:index:{self.name}"

    @property
    def id_key(self) -> str:
        """The item's own id as the gate's outputs name it (``task_id``, FC 2.0's ``invocation_id``): the id
        used."""
        key = self.gates.id_key
        assert key is not None  # every single data source's description sets it
        return key

    @property
    def id_input(self) -> str:
        """The optional input that gives the id (used as is), and an output (the id used): ``task_id`` for both
        APIs (issue 28's name); FC 2.0's run also keeps the gate's ``invocation_id`` output."""
        return ID_INPUT

    def input_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.inputs)

    @property
    def replacing(self) -> tuple[str, ...]:
        """The run-defining inputs: a change of one starts a new run."""
        return tuple(f.name for f in self.inputs if f.replaces)

    @property
    def results(self) -> tuple[Field, ...]:
        return self.gates.results

    @property
    def echoes(self) -> tuple[Field, ...]:
        return self.echoed(self.results)

    @property
    def outputs(self) -> tuple[Field, ...]:
        return self.results + self.echoes + (self.sequence, self.gates.waited)

    @property
    def fields(self) -> dict[str, Field]:
        return by_name(self.inputs, self.outputs)
