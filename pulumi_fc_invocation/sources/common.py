"""The fields every data source shares, written once: an item's fields both APIs report, the gate's
inputs, the settings, a batch's selection and summary. Each takes the API's :class:`Words`, so FC 2.0
says "invocation" where FC 3.0 says "task"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Union

from ..models import DEFAULT_FAIL_ON, InvocationEvent, InvocationStatus
from .fields import REQUIRED, Field, Member

__all__ = ["Words", "quoted", "TERMINAL", "ALL_STATUSES", "item_fields", "gate_inputs", "settings",
           "gate_and_settings", "secret_payloads", "waited", "batch_inputs", "id_filters", "batch_results",
           "EVENT_DESCRIPTIONS",
           "STATUS_DESCRIPTIONS"]

TERMINAL = [s.value for s in InvocationStatus if s.is_terminal]
ALL_STATUSES = [s.value for s in InvocationStatus]
Time = Union[str, datetime]


def quoted(values: object) -> str:
    return ", ".join(f"`{v}`" for v in values)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Words:
    """How one API names its work item and where it lives."""

    noun: str       # "invocation"
    nouns: str      # "invocations"
    a_noun: str     # "an invocation"
    owner: str      # what the settings' account owns: "service", "function"
    payload: str    # the payload output's schema name: "invocationPayload"


# --- an item, as both APIs report it ------------------------------------------------------------


def item_fields(w: Words) -> dict[str, Field]:
    """The fields both APIs' items have (the API's own: names, ids, error message, payload)."""
    return {f.name: f for f in (
        Field("request_id", str, f"The request id of the {w.noun}'s function run; empty when Function Compute "
                                 f"reports none."),
        Field("status", str, f"The {w.noun}'s status, one of " + quoted(ALL_STATUSES) + ". Terminal statuses are "
              + quoted(TERMINAL) + ". A status Function Compute adds later is passed through as is (and is "
              "treated as not terminal)."),
        Field("destination_status", str, "The status of delivery to the configured async destination; empty "
                                         "when none."),
        Field("return_payload", str, "What the function returned, when Function Compute reports it. Secret "
                                     "unless `secretPayloads` is false.", nullable=True, secret=True),
        Field("already_retried_times", int, f"How many times Function Compute has retried the {w.noun}."),
        Field("started_time", str, f"When the {w.noun} started (RFC 3339, UTC, millisecond precision); null when "
                                   f"not started.", nullable=True),
        Field("end_time", str, f"When the {w.noun} ended (RFC 3339, UTC, millisecond precision); null while it "
                               f"runs.", nullable=True),
        Field("duration_ms", int, f"How long the {w.noun} ran, in milliseconds, when Function Compute reports it.",
              nullable=True),
        Field("instance_id", str, f"The id of the function instance that ran the {w.noun}; empty when unknown."),
        Field("events", list[InvocationEvent], f"The {w.noun}'s event log (newer API revisions), oldest first; "
                                               f"empty when not reported."),
        Field("is_terminal", bool, "Whether `status` is terminal (" + quoted(TERMINAL) + f"): the {w.noun} has "
                                   f"ended."),
    )}


# --- the gate and the settings ------------------------------------------------------------------

TIMEOUT = Field("timeout_seconds", float, "With `waitForCompletion`, how long to wait before failing the "
                                          "deployment, in seconds.", default=1800, waits=True)
POLL = Field("poll_interval_seconds", float, "The delay between polls during the first seconds of a wait, in "
                                             "seconds.", default=1.0, waits=True)
MAX_POLL = Field("max_poll_interval_seconds", float, "The cap the poll delay backs off to, in seconds; at least "
                 "`pollIntervalSeconds`. Given, no delay exceeds it (jitter and the duration-aware schedule "
                 "included); unset (null), 45 s on the default schedule, sparser with a duration history.",
                 nullable=True, waits=True)
_ACCEPTED = "Only terminal statuses (" + quoted(TERMINAL) + ") are accepted. Defaults to " \
            + quoted(DEFAULT_FAIL_ON) + "; an empty list fails on none."


def gate_inputs(w: Words, batch: bool) -> dict[str, Field]:
    """What a gate takes: whether and how long to wait, what fails it, how to poll."""
    if batch:
        wait = ("Whether `pulumi up` waits until the batch is complete (at least `expectedCount` members exist "
                "and all have ended) before this resource (and everything that depends on it) is done. `pulumi "
                "preview` never waits.")
        fail = ("The terminal statuses that fail the deployment as soon as any member of the batch ends in one "
                "(the message lists the first ten). " + _ACCEPTED)
        history = ("With `waitForCompletion`, whether the wait reads the function's recent run times (one list "
                   "call) and polls by the batch's likely end (its slowest member's); false keeps the default "
                   "schedule.")
    else:
        wait = (f"Whether `pulumi up` waits until the {w.noun} ends before this resource (and everything that "
                f"depends on it) is done. `pulumi preview` never waits.")
        fail = "With `waitForCompletion`, the terminal statuses that fail the deployment. " + _ACCEPTED
        history = ("With `waitForCompletion`, whether the wait reads the function's recent run times (one list "
                   "call) to poll sparsely before the likely end and densely around it; false keeps the default "
                   "schedule.")
    return {f.name: f for f in (
        Field("wait_for_completion", bool, wait, default=False, waits=True),
        TIMEOUT,
        Field("fail_on_statuses", list[str], fail, statuses=True),
        POLL,
        MAX_POLL,
        Field("use_duration_history", bool, history, default=True, waits=True),
    )}


def settings(w: Words) -> dict[str, Field]:
    """Where the item is: each overrides the credential chain's setting of the same name."""
    return {f.name: f for f in (
        Field("region", str, f"The Alibaba Cloud region of the {w.owner}, e.g. `cn-hangzhou`.", nullable=True,
              setting="region"),
        Field("account_id", str, f"The Alibaba Cloud account id that owns the {w.owner}.", nullable=True,
              setting="account_id"),
        Field("endpoint", str, "The Function Compute endpoint URL, overriding the one derived from `accountId` "
                               "and `region`.", nullable=True, setting="endpoint"),
    )}


def gate_and_settings(w: Words, batch: bool, secret: Field, *, expected_count: "Field | None" = None
                      ) -> tuple[Field, ...]:
    """The keyword inputs after what names the item: the gate, the payloads' secrecy, the settings, in the
    signatures' order."""
    gate, where = gate_inputs(w, batch), settings(w)
    return (gate["wait_for_completion"], *((expected_count,) if expected_count else ()), gate["timeout_seconds"],
            gate["fail_on_statuses"], gate["poll_interval_seconds"], gate["max_poll_interval_seconds"], secret,
            *where.values(), gate["use_duration_history"])


def secret_payloads(marked: str) -> Field:
    return Field("secret_payloads", bool, f"{marked} marked secret (encrypted in state and masked in output). "
                                          f"A plain value, not an eventual one.", default=True, plain=True)


def waited(what: str) -> Field:
    return Field("waited_seconds", float, f"How long `pulumi up` waited for {what}, in seconds; null when it did "
                                          f"not wait.", nullable=True)


# --- a batch ------------------------------------------------------------------------------------


def batch_inputs(w: Words, prefix: str, items: str) -> dict[str, Field]:
    """What selects a batch's members and what it returns of them (not the function's names)."""
    return {f.name: f for f in (
        Field(prefix, str, f"Only {w.nouns} whose id starts with this prefix belong to the batch; null for all. "
                           f"Same characters as {w.a_noun} id.", nullable=True),
        Field("statuses", list[str], f"Return in `ids` and `{items}` only members in one of these statuses (known "
                                     f"statuses, one of " + quoted(ALL_STATUSES) + "); empty for all. Does not "
                                     "change the batch, the gate or `counts`.", statuses=True),
        Field("started_after", str, f"Only {w.nouns} started at or after this time (RFC 3339) belong to the batch; "
                                    f"null for no lower bound. Echoed in UTC with millisecond precision.",
              nullable=True, accepts=Time),
        Field("started_before", str, f"Only {w.nouns} started at or before this time (RFC 3339) belong to the "
                                     f"batch; null for no upper bound. Not earlier than `startedAfter`. Echoed in "
                                     f"UTC with millisecond precision.", nullable=True, accepts=Time),
        Field("limit", int, f"Return at most this many members (the oldest first) in `ids` and `{items}`; null for "
                            f"all. Does not change the batch, the gate or `counts`.", nullable=True),
        Field("include_payloads", bool, f"Whether `{items}` carries each member's `{w.payload}` and "
                                        f"`returnPayload`; when false they are null. With payloads (and "
                                        f"`secretPayloads`), the whole `{items}` list is secret.", default=False),
        Field("expected_count", int, "With `waitForCompletion`, how many members must exist before the batch can "
                                     "be complete (members may still be enqueued when the wait starts); null for "
                                     "at least one.", nullable=True),
    )}


def id_filters(prefix: str) -> tuple[str, ...]:
    """The selection inputs a batch's id carries as its query string (``?prefix=...``), in order."""
    return (prefix, "statuses", "started_after", "started_before", "limit")


def batch_results(w: Words, items: str, member: Member, ids: str) -> tuple[Field, ...]:
    """What a batch's read gives: its members (those selected) and the whole batch's summary."""
    return (
        Field("ids", list[str], f"The composite ids {ids} of the returned members (those in `statuses`, at most "
                                f"`limit`), oldest first."),
        Field(items, list[member], "The returned members (those in `statuses`, at most `limit`), oldest "  # type: ignore[valid-type]
                                   "first, with the single data source's fields. Payloads are null unless "
                                   "`includePayloads`; with payloads and `secretPayloads`, the whole list is "
                                   "secret.", secret_when="with `includePayloads` and `secretPayloads`"),
        Field("counts", Mapping[str, int], "How many members of the whole batch are in each status: every known "
                                           "status (" + quoted(ALL_STATUSES) + "), zeros included, plus any "
                                           "status Function Compute adds later."),
        Field("total", int, f"How many {w.nouns} the whole batch has."),
        Field("all_terminal", bool, "Whether every member of the batch has ended; false for an empty batch."),
        Field("all_succeeded", bool, "Whether every member of the batch ended `Succeeded`; false for an empty "
                                     "batch."),
    )


# --- the models' own types ----------------------------------------------------------------------

EVENT_DESCRIPTIONS: dict[str, str] = {
    "event_id": "The event's sequence number, when reported.",
    "status": "The invocation status the event recorded.",
    "timestamp": "When the event happened (RFC 3339, UTC, millisecond precision), when reported.",
    "event_detail": "Details of the event; empty when none.",
}

STATUS_DESCRIPTIONS: dict[str, str] = {
    "Enqueued": "Accepted and waiting in the async queue.",
    "Dequeued": "Taken from the queue, about to run.",
    "Running": "Running.",
    "Retrying": "Being retried after a failed attempt.",
    "Stopping": "Being stopped on request.",
    "Succeeded": "Ended successfully (terminal).",
    "Failed": "Ended with an error (terminal).",
    "Stopped": "Stopped on request (terminal).",
    "Expired": "Dropped because it stayed queued longer than the maximum event age (terminal).",
    "Invalid": "Marked invalid by Function Compute (terminal).",
}
