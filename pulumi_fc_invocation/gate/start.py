"""The runs' core (``AsyncTaskRun``, ``StatefulAsyncInvocationRun``): the idempotent start, the run sequence and
the diff's rules, written once for every front end. The wait after the start is the gate's (:mod:`.run`).
One module of ~500 lines on purpose: the sequence, the ids and the diff's rules change together; the API note
below is a fifth of it.

API (the plugin's :mod:`..plugin.runs` and the Python front end use these; none imports Pulumi):

- ``next_sequence(run, olds, news, resource=None) -> int | None``: a check's hidden ``run_sequence`` (olds:
  the inputs last checked, or None; news: the new inputs). None with a given id; ``olds`` + 1 when a
  run-defining input (``run.replacing``: the function's names, the payload, the id, ``triggers``) changed;
  else ``olds``'s. An input absent from ``olds`` is its default (none); ``triggers`` recorded as null (an
  import: FC keeps no triggers) is not compared (:func:`unknown_to`). Without olds: the sequence a diff
  of ``resource`` left with :func:`replacing` (taken once), else 0. With olds and ``resource``, it leaves
  ``replacing(resource, max(n, olds + 1))``: a replacement the engine decides on its own
  (``replaceOnChanges``, ``replaceWith``, a provider change), re-checked without olds, runs anew.
- ``given_id_rule(run, olds, news)``: a check's rule that a given id runs once (``InvalidArgumentError`` naming
  the run-defining input that changed while the given id stayed).
- ``replacing(resource, sequence)``: a front end's diff calls this (whether it replaces or not: the engine may
  replace all the same) with ``replacement_sequence(run, resource, olds, news)`` (after the recorded run's
  sequence and every id the recorded run's start took: its
  ``run_sequence`` output is the check's number, the id it started under may be later). **The engine checks
  a replacement again without its old inputs** (pkg/resource/deploy/step_generator.go: "recompute the
  default values"), so the create would get sequence 0 and adopt the earlier task of the same payload
  instead of starting the new one a trigger change asked for; the diff's sequence, remembered in the
  process (the engine's Diff, Check and Create of one deployment go to one provider process), bridges it.
- ``claim(resource, item_id)`` after a create's start, ``claimed(resource, item_id)`` before a delete's stop:
  a delete never stops the item the replacement's create holds (a ``--replace`` may adopt the recorded item).
- ``derived_id(run, resource, target, sequence, retry=0) -> str``: ``<name>-<20 hex>-<n>`` (``-<n>-<k>`` for
  the k-th retry of run n that ended badly): the digest is sha256 over
  ``resource`` (the URN: project, stack, type, name; a front end without one passes a text that holds those),
  the API and the function's names; never the payload, the triggers or another input that may be secret.
- ``build_run_spec(run, args, hidden=frozenset(), *, resource, timeout=None) -> RunSpec``: every input
  checked before any request (``InvalidArgumentError`` naming the argument); ``args`` are the run's inputs in
  snake_case with the hidden ``run_sequence``; ``timeout`` (customTimeouts) caps ``timeout_seconds``.
- ``start(client, spec) -> Started`` (blocking): invoke under the id; on HTTP 409 read the item that holds
  it (its payload included): the same payload and not ended badly (:func:`ended_badly`: :data:`RETRIED` and
  a status the run's ``fail_on_statuses`` fails on) -> adopt it; the same payload ended badly -> the run's next retry id (``-<n>-<k>``); another payload -> the next run's id (a run
  after a destroy finds the task of its payload); at most :data:`MAX_TRIES` ids; a given id is used as given
  (``RunStartError`` otherwise). A derived run at sequence 0 (a create without old inputs restarts there)
  first walks ahead with reads alone (:func:`newest_held`) and starts from the newest run whose id is held.
  ``Started.spec`` is the gate's :class:`~.spec.SingleSpec` on the item: gate on it as a data source does.
- ``diff(run, olds, news) -> Decision``: olds are the recorded outputs, news the checked inputs (with
  ``run_sequence``): ``Decision.replaces`` (a new run), else ``Decision.changed`` (an update that starts
  nothing); a recorded status that ended badly (a refresh recorded it; judged by the recorded
  ``fail_on_statuses``: an end the gate accepted is done) replaces (``"status"``) with no read, and
  so does a recorded :data:`START_ERROR` (a start that failed: tried again).
  ``needs_read(olds)``: the recorded item had not ended: read it (a GET, never an invoke) and
  replace when ``ended_badly(status, olds["fail_on_statuses"])``.
- ``run_outputs(spec, started_spec, result, waited) -> dict`` and ``secret_outputs(spec) -> frozenset``: what
  is recorded (``run.outputs``' keys) and what of it is secret.
- ``stop_if_running(client, spec) -> bool`` (blocking): stop an item that has not ended (``stop_on_timeout``
  after a failed or cancelled wait, ``stop_on_delete``); never fails on a forgotten or ended item.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

from ..client import FcClient
from ..errors import ConflictError, FcInvocationError, InvalidArgumentError, NotFoundError
from ..kinds import KINDS, Kind
from ..models import check_fail_on_statuses, secret_values
from ..sources import Run
from .outputs import single_outputs
from .spec import SingleSpec, with_timeout

__all__ = ["RETRIED", "MAX_TRIES", "SEQUENCE", "START_ERROR", "RunStartError", "RunSpec", "RunItemSpec", "Started", "Decision", "kind_of",
           "normalized", "unknown_to", "next_sequence", "given_id_rule", "replacing", "claim", "claimed",
           "replacement_sequence", "derived_id", "slot_of", "build_run_spec", "start", "newest_held", "diff", "needs_read",
           "ended_badly", "run_outputs", "secret_outputs", "stop_if_running"]

# An item that ended in one of these is retried under the next id of the sequence (a derived id), never adopted.
RETRIED = frozenset({"Failed", "Stopped", "Expired", "Invalid"})
MAX_TRIES = 32  # ids of one sequence tried by one start before it gives up
SEQUENCE = "run_sequence"
# A front end whose start cannot fail its create in one line (the Python dynamic provider host prints a traceback)
# records the start's error here (one line, no secret) and fails the run from the program; the diff replaces it.
START_ERROR = "start_error"


class RunStartError(FcInvocationError):
    """A run could not start: its given id is held by another item, or the sequence's ids are all taken."""


def kind_of(run: Run) -> Kind:
    return KINDS[run.api]


def normalized(run: Run, args: Mapping[str, Any]) -> dict[str, Any]:
    """The run-defining inputs as compared: an empty payload, qualifier, id or trigger map is none."""
    out = {}
    for name in run.replacing:
        value = args.get(name)
        if name == "triggers":
            value = {str(k): str(v) for k, v in (value or {}).items()} if isinstance(value, Mapping) else value
        elif name == "payload":
            value = "" if value is None else value
        elif value == "":
            value = None
        out[name] = value
    return out


_replacing: dict[str, tuple[int, Optional[str]]] = {}
_replacing_lock = threading.Lock()


def _fingerprint(run: Run, news: Mapping[str, Any]) -> str:
    """The run-defining inputs ``news`` as a digest: a hand-off goes to the check of the same inputs alone."""
    return hashlib.sha256(json.dumps(normalized(run, news), sort_keys=True, default=str).encode()).hexdigest()


def replacing(resource: str, sequence: Optional[int], run: Optional[Run] = None,
              news: Optional[Mapping[str, Any]] = None) -> None:
    """A diff replaces (or the engine may replace) the run ``resource`` (its URN) with run ``sequence``: the
    check of the replacement, which the engine makes without old inputs, takes it (see the module docstring);
    with ``run`` and ``news``, only a check of the same run-defining inputs does."""
    with _replacing_lock:
        if sequence is None:
            _replacing.pop(resource, None)
        else:
            _replacing[resource] = (int(sequence), _fingerprint(run, news) if run is not None and news else None)


_claimed: dict[str, str] = {}


def claim(resource: str, item_id: str) -> None:
    """A create of the run ``resource`` started or adopted ``item_id``: the delete of the run it replaces
    (``--replace``, a taint: checked as a first create, it may adopt the very item recorded) leaves it alone."""
    with _replacing_lock:
        _claimed[resource] = item_id


def claimed(resource: str, item_id: Optional[str]) -> bool:
    """Whether a create of ``resource`` in this process holds ``item_id`` (see :func:`claim`)."""
    with _replacing_lock:
        return item_id is not None and _claimed.get(resource) == item_id


def next_sequence(run: Run, olds: Optional[Mapping[str, Any]], news: Mapping[str, Any],
                  resource: Optional[str] = None) -> Optional[int]:
    """The ``run_sequence`` a check gives ``news`` (see the module docstring)."""
    if news.get(run.id_input) not in (None, ""):
        return None
    if not olds:
        with _replacing_lock:
            sequence, of = _replacing.pop(resource, (0, None)) if resource is not None else (0, None)
        return sequence if of is None or of == _fingerprint(run, news) else 0
    previous = olds.get(SEQUENCE)
    if previous is None:  # the previous run had a given id (or none was recorded): a sequence starts
        return 0
    old, new = normalized(run, olds), normalized(run, news)
    changed = any(old[name] != new[name] for name in run.replacing if name not in unknown_to(olds))
    sequence = int(previous) + 1 if changed else int(previous)
    if resource is not None:  # should the engine replace on its own (replaceOnChanges, replaceWith, a provider
        replacing(resource, max(sequence, int(previous) + 1), run, news)  # change): its check without olds runs
    return sequence


def given_id_rule(run: Run, olds: Optional[Mapping[str, Any]], news: Mapping[str, Any]) -> None:
    """A given id runs once: ``InvalidArgumentError`` (naming the changed input) when the id given in ``olds``
    (the inputs last checked) is given again in ``news`` while another run-defining input changed (the start
    would find the item its id holds and start nothing)."""
    given = news.get(run.id_input)
    if not olds or given in (None, "") or olds.get(run.id_input) != given:
        return
    old, new = normalized(run, olds), normalized(run, news)
    for name in run.replacing:
        if name != run.id_input and name not in unknown_to(olds) and old[name] != new[name]:
            raise InvalidArgumentError(name, None, f"changed while {run.id_input} {given!r} stayed: a given "
                                                   f"{run.id_input} runs once: give a new {run.id_input} (or none: "
                                                   f"an id derived from the resource, which changes with it)",
                                       show_value=False)


def unknown_to(olds: Mapping[str, Any]) -> frozenset[str]:
    """The run-defining inputs a record does not know: ``triggers`` recorded as null by an import (FC keeps no
    triggers). They are taken from the program, as an update (no new run), once."""
    return frozenset({"triggers"}) if "triggers" in olds and olds["triggers"] is None else frozenset()


_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def derived_id(run: Run, resource: str, target: Mapping[str, Any], sequence: int, retry: int = 0) -> str:
    """The id of run ``sequence`` of the run resource ``resource`` on ``target`` (the function's names):
    ``<name>-<digest>-<sequence>``, and ``...-<sequence>-<retry>`` for the retries of a run that ended badly
    (each run has its own room for retries, so a later run's id is never one a retry took)."""
    kind = kind_of(run)
    names = {key: target.get(key) or None for key in kind.target_keys}
    digest = hashlib.sha256(json.dumps([resource, run.api, names], sort_keys=True).encode()).hexdigest()[:20]
    name = _UNSAFE.sub("-", resource.rsplit("::", 1)[-1]).strip("-")[:64] or "run"
    if not (name[0].isalpha() or name[0] == "_"):
        name = "run-" + name
    return f"{name}-{digest}-{int(sequence)}" + (f"-{int(retry)}" if retry else "")


_SLOT = re.compile(r"-[0-9a-f]{20}-(\d+)(?:-(\d+))?$")


def slot_of(run: Run, resource: str, target: Mapping[str, Any], item_id: str) -> Optional[tuple[int, int]]:
    """(sequence, retry) of ``item_id`` when it is a derived id of this run resource, else None."""
    match = _SLOT.search(item_id or "")
    if match is None:
        return None
    slot = int(match.group(1)), int(match.group(2) or 0)
    return slot if derived_id(run, resource, target, *slot) == item_id else None


def replacement_sequence(run: Run, resource: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Optional[int]:
    """The sequence of the run that replaces the recorded one (``olds``: its outputs): a run after the recorded
    one's sequence and every id its start took (a start walks past ids held by other payloads), at least the
    check's (``news``)."""
    wanted = news.get(SEQUENCE)
    if news.get(run.id_input) or wanted is None:
        return None
    target = {key: olds.get(key) for key in kind_of(run).target_keys}
    slot = slot_of(run, resource, target, str(olds.get(run.id_key) or ""))
    recorded = olds.get(SEQUENCE)
    after = [int(wanted)] + ([slot[0] + 1] if slot is not None else []) + \
        ([int(recorded) + 1] if isinstance(recorded, (int, float)) and not isinstance(recorded, bool) else [])
    return max(after)


def _bool(argument: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(argument, value, "must be True or False")
    return value


@dataclass(frozen=True)
class RunSpec:
    """A run's inputs, checked: the gate's spec on the first id to try, the payload and what stops the item."""

    run: Run
    gate: SingleSpec          # on the first id tried: the given one, or the derived id of ``sequence``
    payload: str
    triggers: dict[str, str]
    given_id: Optional[str]   # the id the user gave, or None (derived)
    sequence: Optional[int]
    resource: str
    stop_on_timeout: bool
    stop_on_delete: bool
    hidden: frozenset[str] = frozenset()

    @property
    def kind(self) -> Kind:
        return self.gate.kind

    @property
    def target(self) -> dict[str, Any]:
        return {key: value for key, value in self.kind.ref_fields(self.gate.ref).items() if key != self.kind.id_key}

    def id_at(self, sequence: Optional[int], retry: int = 0) -> str:
        return self.given_id if self.given_id else derived_id(self.run, self.resource, self.target, sequence or 0,
                                                              retry)

    def spec_for(self, item_id: str) -> "RunItemSpec":
        """The gate's spec on the item ``item_id``; its messages mask the run's secret inputs too."""
        ref = self.kind.make_ref({**self.target, self.kind.id_key: item_id})
        fields = {f.name: getattr(self.gate, f.name) for f in dataclasses.fields(SingleSpec)}
        return RunItemSpec(**{**fields, "ref": ref}, run_secrets=self.secret_texts)

    def props(self) -> dict[str, Any]:
        """Every input of the run, checked (a given id as given: None when derived), and ``run_sequence``."""
        gate = self.gate.props()
        out: dict[str, Any] = {}
        for name in self.run.input_names():
            if name in gate:
                out[name] = gate[name]
        out.update(payload=self.payload, triggers=dict(self.triggers), stop_on_timeout=self.stop_on_timeout,
                   stop_on_delete=self.stop_on_delete)
        out[self.run.id_input] = self.given_id
        out[SEQUENCE] = self.sequence
        return out

    @property
    def secret_texts(self) -> tuple[str, ...]:
        """What no message may show: the secret inputs' text (the payload when given as a secret)."""
        texts = list(self.gate.secret_texts) + list(secret_values(self.props(), self.hidden - set(self.gate.props())))
        return tuple(t for t in texts if t)


@dataclass(frozen=True)
class RunItemSpec(SingleSpec):
    """The gate's spec on a run's item: its messages (a verdict, a timeout) also mask the run's secret inputs
    (the payload, which the function may echo in its error or its result), not only the gate's."""

    run_secrets: tuple[str, ...] = ()

    @property
    def secret_texts(self) -> tuple[str, ...]:
        own = tuple(SingleSpec.secret_texts.fget(self))  # type: ignore[attr-defined]  # (slots: no bare super())
        return own + tuple(t for t in self.run_secrets if t not in own)


def build_run_spec(run: Run, args: Mapping[str, Any], hidden: frozenset[str] = frozenset(), *, resource: str,
                   timeout: Optional[float] = None) -> RunSpec:
    """A run's spec from its inputs (see the module docstring); bad input fails here, before any request."""
    kind = kind_of(run)
    known = set(run.input_names()) | {SEQUENCE}
    unknown = sorted(set(args) - known)
    if unknown:
        raise TypeError(f"unexpected argument {unknown[0]!r} for {run.name}")
    values = {**run.defaults, **{k: v for k, v in args.items() if v is not None}}
    for field in run.inputs:
        if field.required and values.get(field.name) is None:
            raise InvalidArgumentError(field.name, None, "is required")
    payload = values.get("payload")
    payload = "" if payload is None else payload
    if not isinstance(payload, str):
        raise InvalidArgumentError("payload", type(payload).__name__, "must be text (a string)", show_value=False)
    triggers = values.get("triggers") or {}
    if not isinstance(triggers, Mapping) or not all(isinstance(k, str) for k in triggers):
        raise InvalidArgumentError("triggers", "(not shown)", "must be a map of names to values", show_value=False)
    if any(isinstance(v, (Mapping, list, tuple)) for v in triggers.values()):
        raise InvalidArgumentError("triggers", "(not shown)", "must map each name to a plain value (text, a "
                                                              "number or a boolean)", show_value=False)
    given = values.get(run.id_input) or None
    sequence = values.get(SEQUENCE)
    if given is not None and sequence is not None:  # a record's id used, with its run's number: derived (a
        given = None                                # check gives a given id no sequence)
    if given is not None:
        kind.validate_id(given, run.id_input)
        sequence = None
    elif sequence is None:
        sequence = 0
    elif isinstance(sequence, bool) or not isinstance(sequence, (int, float)) or sequence < 0 \
            or int(sequence) != sequence:
        raise InvalidArgumentError(SEQUENCE, sequence, "must be an integer >= 0 (the provider computes it)")
    gate_names = set(kind.single_source.input_names())
    gate_args = {k: v for k, v in values.items() if k in gate_names and k != kind.id_key}
    target = {key: gate_args.get(key) for key in kind.target_keys}
    if target.get("qualifier") == "":
        target["qualifier"] = gate_args["qualifier"] = None
    first = given or derived_id(run, resource, target, int(sequence or 0))
    gate = SingleSpec.build(kind=kind, hidden=frozenset(hidden) & gate_names, **gate_args, **{kind.id_key: first})
    if timeout and timeout > 0 and (not gate.policy.timeout or timeout < gate.policy.timeout):
        gate = with_timeout(gate, timeout)
    return RunSpec(run=run, gate=gate, payload=payload, triggers={k: str(v) for k, v in triggers.items()},
                   given_id=given, sequence=None if given else int(sequence or 0), resource=resource,
                   stop_on_timeout=_bool("stop_on_timeout", values["stop_on_timeout"]),
                   stop_on_delete=_bool("stop_on_delete", values["stop_on_delete"]), hidden=frozenset(hidden))


@dataclass(frozen=True)
class Started:
    """What a start did: the item's id and its sequence number, the item read on a 409 when it was adopted
    (None: started now), and the gate's spec on it."""

    item_id: str
    sequence: Optional[int]
    adopted: Any
    spec: SingleSpec

    @property
    def verb(self) -> str:
        return "started" if self.adopted is None else f"adopted ({self.adopted.status.value})"


def start(client: FcClient, spec: RunSpec) -> Started:
    """Start the run's item, or adopt the one that already holds its id (see the module docstring)."""
    kind, noun = spec.kind, spec.kind.noun
    sequence, retry = (newest_held(client, spec) if spec.sequence == 0 and not spec.given_id else spec.sequence), 0
    for _ in range(1 if spec.given_id else MAX_TRIES):
        item_id = spec.id_at(sequence, retry)
        item = spec.spec_for(item_id)
        try:
            kind.start(client, item.ref, spec.payload)
            return Started(item_id, sequence, None, item)
        except ConflictError:  # the id is held (judged by the status class, not FC's undocumented code):
            pass                # read what holds it, below
        result = kind.read(client, item.ref)
        payload = kind.held_payload(client, item.ref, result)
        same = payload is None or payload == spec.payload  # not reported: the id is this run's own
        status = result.status.value
        if same and not ended_badly(status, spec.gate.fail_on):  # an end its gate accepts is done
            return Started(item_id, sequence, result, item)
        if spec.given_id:
            why = (f"it ended {status}" if same else "it was started with another payload")
            raise RunStartError(
                f"{spec.run.id_input} {item_id!r}: Function Compute already keeps a {noun} "
                f"under this id and {why}; give a new {spec.run.id_input} (or none: an id derived from the resource)")
        if same:  # it ended badly: the run's next retry
            retry += 1
        else:  # another run's (after a destroy): that run's id, then its retries, hold no task of this payload
            sequence, retry = (sequence or 0) + 1, 0
    raise RunStartError(
        f"{spec.run.name}: the {MAX_TRIES} ids of its sequence from {spec.sequence} on are all held by {noun}s of "
        f"another payload or that ended {'/'.join(sorted(RETRIED))}; change `triggers` or the payload, or give "
        f"{spec.run.id_input}")


def newest_held(client: FcClient, spec: RunSpec) -> int:
    """The sequence a run restarted at 0 (a create without old inputs: after a ``destroy``, ``--replace``, a
    given id dropped) starts from: the newest run of the sequence whose id Function Compute still holds, found
    by reads alone (a GET per id, never an invoke; a first-ever create costs one), so that the start adopts
    that run's task (or walks on) and the next run-defining change lands past every held id."""
    newest = 0
    for sequence in range(MAX_TRIES):
        try:
            spec.kind.read(client, spec.spec_for(spec.id_at(sequence)).ref)
        except NotFoundError:
            break
        newest = sequence
    return newest


@dataclass(frozen=True)
class Decision:
    """A diff's answer: the inputs that changed, and those of them that start a new run."""

    changed: tuple[str, ...]
    replaces: tuple[str, ...]

    @property
    def changes(self) -> bool:
        return bool(self.changed)


def _given(run: Run, olds: Mapping[str, Any]) -> Optional[str]:
    """The id the recorded run was given (None when it was derived: its outputs record a sequence number)."""
    return olds.get(run.id_key) if olds.get(SEQUENCE) is None else None


def diff(run: Run, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Decision:
    """What changed between the recorded outputs ``olds`` and the checked inputs ``news`` (see the module
    docstring). An input absent from ``olds`` (an import, or state written before it existed) is not compared."""
    old = {**olds, run.id_input: _given(run, olds)}
    new_n, old_n = normalized(run, news), normalized(run, old)
    changed = []
    for name in (*run.input_names(), SEQUENCE):
        if name not in olds and name != run.id_input:
            continue
        if name in new_n:
            differs = new_n[name] != old_n[name]
        else:
            a, b = news.get(name, run.defaults.get(name)), old.get(name)
            differs = (list(a) if isinstance(a, tuple) else a) != (list(b) if isinstance(b, tuple) else b)
            if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
                differs = float(a) != float(b)
        if differs:
            changed.append(name)
    replacing = (set(run.replacing) | {SEQUENCE}) - unknown_to(olds)
    replaces = [name for name in changed if name in replacing]
    if not replaces and olds.get(run.id_key) and ended_badly(olds.get("status"), olds.get("fail_on_statuses")):
        changed.append("status")  # recorded as ended badly (a refresh read it): retried, never gated on again
        replaces.append("status")
    if olds.get(START_ERROR):
        changed.append(START_ERROR)  # the recorded start failed: the next up tries again
        replaces.append(START_ERROR)
    return Decision(tuple(changed), tuple(replaces))


def needs_read(olds: Mapping[str, Any]) -> bool:
    """Whether a diff must read the recorded item (a GET) to know whether it ended badly: it had not ended."""
    return bool(olds.get("status")) and not olds.get("is_terminal", False)


def ended_badly(status: Any, fail_on: Any = None) -> bool:
    """Whether an item in ``status`` is retried under the next id: it ended in :data:`RETRIED` and its gate fails
    on that status (``fail_on``: the run's ``fail_on_statuses``, None for the default); an end the gate
    accepts (a user who accepts ``Failed``) is done, never run again."""
    value = str(getattr(status, "value", status))
    return value in RETRIED and value in check_fail_on_statuses(fail_on)


def run_outputs(spec: RunSpec, started: SingleSpec, result: Any, waited: Optional[float]) -> dict[str, Any]:
    """A run's outputs (``run.outputs``' keys, in order): the item's fields, the inputs echoed, the sequence."""
    props = {**started.props(), **spec.props(), "waited_seconds": waited}
    values = single_outputs(spec.kind, result, started.ref, props)
    values.update({key: props.get(key) for key in (f.name for f in spec.run.echoes)})
    values.update(spec.target)  # the names as given (FC reports `LATEST` for a task started without a qualifier)
    values[spec.run.id_input] = values.get(spec.run.id_key)  # the id used (FC 2.0: as `invocation_id` too)
    values[SEQUENCE] = spec.sequence if spec.given_id is None else None
    values["waited_seconds"] = waited
    return {f.name: values.get(f.name) for f in spec.run.outputs}


def secret_outputs(spec: RunSpec) -> frozenset[str]:
    """The outputs marked secret: the payloads (unless ``secret_payloads`` is false) and the secret inputs."""
    secret = set(spec.hidden) - {"secret_payloads"}
    if spec.gate.secret_payloads:
        secret |= set(spec.run.secret_outputs)
    return frozenset(secret)


def stop_if_running(client: FcClient, spec: SingleSpec) -> bool:
    """Stop the item when it has not ended; whether a stop was sent. A forgotten item is left alone."""
    try:
        if spec.kind.read(client, spec.ref).is_terminal:
            return False
        spec.kind.stop(client, spec.ref)
    except NotFoundError:
        return False
    return True
