"""What the API-neutral code (the batch logic, the gates, the data sources) needs to know of each API.

A *kind* is one API's async work item: FC 2.0's stateful async invocation (``service[.q]/function/id``)
or FC 3.0's async task (``function[.q]/task``). It names the item's fields, builds and parses its
reference, reads one, lists a page of them and turns one into the data sources' snake_case outputs.
Everything else (waiting, verdicts, progress, secrets, preview, refresh, mocks) is written once,
against a kind. Its names and key tuples come from the API's two data sources' descriptions
(:mod:`.sources`). Imports neither Pulumi nor requests.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Optional

from pydantic import BaseModel

from .models import Ref, Result, rfc3339
from .sources import ASYNC_TASK, ASYNC_TASKS, STATEFUL_ASYNC_INVOCATION, STATEFUL_ASYNC_INVOCATIONS, DataSource

if TYPE_CHECKING:  # pragma: no cover
    from .client import FcClient

__all__ = ["Kind", "FC2", "FC3", "KINDS", "kind_of_id"]


def output_value(value: Any) -> Any:
    """A result's value as the data sources give it, by its type: a status as its text, a time as RFC 3339,
    a model (an event) as a map of its fields, a tuple as a list; anything else as it is."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, BaseModel):
        return {name: output_value(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, (list, tuple)):
        return [output_value(item) for item in value]
    return value


class Kind(ABC):
    """One API's async work item, as the data sources see it (see the module docstring)."""

    name: str                        # "fc2" / "fc3"
    noun: str                        # "invocation" / "task"
    single_source: DataSource             # the single data source's description
    batch_source: DataSource              # the batch data source's description

    @property
    def resource_name(self) -> str:
        return self.single_source.name

    @property
    def batch_resource_name(self) -> str:
        return self.batch_source.name

    @property
    def single_function_token(self) -> str:
        return self.single_source.function_token

    @property
    def batch_function_token(self) -> str:
        return self.batch_source.function_token

    @property
    def ref_keys(self) -> tuple[str, ...]:
        """The single data source's leading arguments, in order."""
        return self.single_source.ref_keys

    @property
    def id_key(self) -> str:
        """The member's own id field."""
        key = self.single_source.id_key
        assert key is not None  # every single data source's description sets it
        return key

    @property
    def target_keys(self) -> tuple[str, ...]:
        """What names the function (the batch's leading arguments)."""
        return self.batch_source.ref_keys

    @property
    def prefix_key(self) -> str:
        """The batch's id-prefix argument."""
        key = self.batch_source.id_key
        assert key is not None  # every batch description sets it
        return key

    @property
    def items_key(self) -> str:
        """The batch output listing the members."""
        key = self.batch_source.items_key
        assert key is not None  # every batch description sets it
        return key

    @property
    def payload_keys(self) -> tuple[str, ...]:
        """Payload outputs (secret by default)."""
        return self.single_source.secret_outputs

    @property
    def result_keys(self) -> tuple[str, ...]:
        """A member's outputs, in order."""
        return tuple(f.name for f in self.single_source.results)

    @property
    def single_type_token(self) -> str:
        return f"pulumi-python:dynamic/fc:{self.resource_name}"

    @property
    def batch_type_token(self) -> str:
        return f"pulumi-python:dynamic/fc:{self.batch_resource_name}"

    @property
    def output_keys(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.single_source.outputs)

    @property
    def echo_keys(self) -> tuple[str, ...]:
        """The single data source's outputs after the item's: its echoed inputs, then ``waited_seconds``."""
        return self.output_keys[len(self.single_source.results):]

    @property
    def batch_input_keys(self) -> tuple[str, ...]:
        """The batch data source's inputs."""
        return self.batch_source.input_names()

    @property
    def batch_result_keys(self) -> tuple[str, ...]:
        """What a batch's read gives: ``ids``, the members, ``counts``, ``total``, ``all_terminal``, ``all_succeeded``."""
        return tuple(f.name for f in self.batch_source.results)

    @property
    def batch_output_keys(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.batch_source.outputs)

    # --- references ---

    @abstractmethod
    def ref_type(self) -> type[Ref]:
        ...

    @abstractmethod
    def result_type(self) -> type[Result]:
        ...

    def make_ref(self, values: Mapping[str, Any]) -> Any:
        """The reference from the ``ref_keys`` in ``values`` ("" qualifier means none), names checked."""
        fields = {key: values.get(key) for key in self.ref_keys}
        if fields.get("qualifier") == "":
            fields["qualifier"] = None
        return self.ref_type()(**fields)

    def parse_ref(self, text: Any, argument: str = "id") -> Any:
        return self.ref_type().parse(text, argument)

    def parse_masked(self, text: Any, values: Mapping[str, Any]) -> tuple[Ref, frozenset[str]]:
        return self.ref_type().parse_masked(text, values)

    def ref_fields(self, ref: Any) -> dict[str, Any]:
        return {key: getattr(ref, key) for key in self.ref_keys}

    def member_ref(self, target: Mapping[str, Any], member_id: str) -> Any:
        """The reference of one member of the batch on ``target`` (the batch's function)."""
        return self.make_ref({**{key: target.get(key) for key in self.target_keys}, self.id_key: member_id})

    @abstractmethod
    def validate_id(self, value: Any, argument: str) -> str:
        """A member id (or id prefix) by this API's rule."""
        ...

    def check_target(self, target: Mapping[str, Any]) -> None:
        """Check the function's names (the batch's), by the single data source's rules."""
        self.member_ref(target, "_")

    # --- calls ---

    @abstractmethod
    def read(self, client: "FcClient", ref: Any) -> Any:
        ...

    @abstractmethod
    def list_page(self, client: "FcClient", target: Mapping[str, Any],
                  **filters: Any) -> tuple[tuple[Any, ...], Optional[str]]:
        ...

    @abstractmethod
    def start(self, client: "FcClient", ref: Any, payload: str) -> None:
        """Invoke the function asynchronously under ``ref``'s id (a run's start; never retried once sent)."""
        ...

    @abstractmethod
    def stop(self, client: "FcClient", ref: Any) -> str:
        """Stop the item (a run's ``stop_on_timeout`` / ``stop_on_delete``); FC's request id."""
        ...

    def held_payload(self, client: "FcClient", ref: Any, result: Any) -> Optional[str]:
        """The payload of the item ``result`` read: the read's own, else a listing's (``includePayload``),
        else None (not reported)."""
        if result.invocation_payload is not None:
            return str(result.invocation_payload)
        item_id = self.ref_fields(ref)[self.id_key]
        page, _ = self.list_page(client, self.ref_fields(ref), prefix=item_id, include_payload=True, page_size=100)
        for item in page:
            if item.invocation_id == item_id and item.invocation_payload is not None:
                return str(item.invocation_payload)
        return None

    # --- text ---

    @abstractmethod
    def target_path(self, target: Mapping[str, Any]) -> str:
        """``service[.qualifier]/function`` (2.0) or ``function[.qualifier]`` (3.0): the batch id's head."""
        ...

    @abstractmethod
    def parse_target_path(self, head: str, text: str, argument: str, rule: str) -> dict[str, Any]:
        ...

    @abstractmethod
    def batch_id_rule(self) -> str:
        ...

    @abstractmethod
    def not_found_head(self, ref: Any) -> str:
        ...

    @abstractmethod
    def target_not_found_head(self, label: str, target: Mapping[str, Any]) -> str:
        ...

    def outputs(self, result: Any) -> dict[str, Any]:
        """The item's outputs (its description's result fields, in order) from a read's result; an empty
        name is none (as :meth:`make_ref` reads it)."""
        values = {f.name: output_value(getattr(result, f.name)) for f in self.single_source.results}
        for key in self.ref_keys:
            if values[key] == "" and self.single_source.fields[key].nullable:
                values[key] = None
        return values

    def mocked_result(self, ref: Any, values: Any) -> Any:
        """A mock's outputs (snake_case, as the data source's) as a result; None without a status."""
        if not isinstance(values, dict) or not values.get("status"):
            return None
        model = self.result_type()
        fields = model.model_fields
        data = {key: value if value is not None else "" for key, value in self.ref_fields(ref).items()}
        data.update({k: v for k, v in values.items() if k in fields and v is not None})
        return model.model_validate(data)

    def __repr__(self) -> str:
        return f"<kind {self.name}: {self.resource_name}>"

    def __reduce__(self) -> str:
        return self.name.upper()  # a module global: pickled by reference


class _Fc2(Kind):
    name = "fc2"
    noun = "invocation"
    single_source = STATEFUL_ASYNC_INVOCATION
    batch_source = STATEFUL_ASYNC_INVOCATIONS

    def ref_type(self) -> type[Ref]:
        from .fc2 import InvocationRef

        return InvocationRef

    def result_type(self) -> type[Result]:
        from .fc2 import StatefulAsyncInvocationResult

        return StatefulAsyncInvocationResult

    def validate_id(self, value: Any, argument: str) -> str:
        from .fc2 import validate_invocation_id

        return validate_invocation_id(value, argument)

    def read(self, client: "FcClient", ref: Any) -> Any:
        return client.get(ref)

    def list_page(self, client: "FcClient", target: Mapping[str, Any],
                  **filters: Any) -> tuple[tuple[Any, ...], Optional[str]]:
        return client.list_stateful_async_invocations_page(
            target["service_name"], target["function_name"], qualifier=target.get("qualifier"), **filters)

    def start(self, client: "FcClient", ref: Any, payload: str) -> None:
        client.invoke_async(ref.service_name, ref.function_name, payload, qualifier=ref.qualifier,
                            invocation_id=ref.invocation_id)

    def stop(self, client: "FcClient", ref: Any) -> str:
        return client.stop_stateful_async_invocation(ref.service_name, ref.function_name, ref.invocation_id,
                                                     ref.qualifier)

    def target_path(self, target: Mapping[str, Any]) -> str:
        service = target["service_name"] + (f".{target['qualifier']}" if target.get("qualifier") else "")
        return f"{service}/{target['function_name']}"

    def parse_target_path(self, head: str, text: str, argument: str, rule: str) -> dict[str, Any]:
        from .errors import InvalidArgumentError

        parts = head.split("/")
        if len(parts) != 2:
            raise InvalidArgumentError(argument, text, rule)
        service, dot, qualifier = parts[0].partition(".")
        if dot and not qualifier:
            raise InvalidArgumentError(argument, text, "the qualifier after '.' is empty; " + rule)
        return {"service_name": service, "function_name": parts[1], "qualifier": qualifier or None}

    def batch_id_rule(self) -> str:
        return ("must be SERVICE[.QUALIFIER]/FUNCTION[?prefix=P&statuses=S1,S2&started_after=T&started_before=T"
                "&limit=N], e.g. video.prod/transcode?prefix=video-2026-11-")

    def not_found_head(self, ref: Any) -> str:
        return (f"invocation not found: service {ref.service_name!r}, qualifier {ref.qualifier or '(none)'!r}, "
                f"function {ref.function_name!r}, invocation id {ref.invocation_id!r}")

    def target_not_found_head(self, label: str, target: Mapping[str, Any]) -> str:
        return (f"cannot list {label}: service {target['service_name']!r}, qualifier "
                f"{target.get('qualifier') or '(none)'!r}, function {target['function_name']!r}")


class _Fc3(Kind):
    name = "fc3"
    noun = "task"
    single_source = ASYNC_TASK
    batch_source = ASYNC_TASKS

    def ref_type(self) -> type[Ref]:
        from .fc3 import AsyncTaskRef

        return AsyncTaskRef

    def result_type(self) -> type[Result]:
        from .fc3 import AsyncTaskResult

        return AsyncTaskResult

    def validate_id(self, value: Any, argument: str) -> str:
        from .fc3 import validate_task_id

        return validate_task_id(value, argument)

    def read(self, client: "FcClient", ref: Any) -> Any:
        return client.get_async_task(ref.function_name, ref.task_id, ref.qualifier)

    def list_page(self, client: "FcClient", target: Mapping[str, Any],
                  **filters: Any) -> tuple[tuple[Any, ...], Optional[str]]:
        return client.list_async_tasks_page(target["function_name"], qualifier=target.get("qualifier"), **filters)

    def start(self, client: "FcClient", ref: Any, payload: str) -> None:
        client.invoke_async_task(ref.function_name, payload, task_id=ref.task_id, qualifier=ref.qualifier)

    def stop(self, client: "FcClient", ref: Any) -> str:
        return client.stop_async_task(ref.function_name, ref.task_id, ref.qualifier)

    def target_path(self, target: Mapping[str, Any]) -> str:
        path: str = target["function_name"] + (f".{target['qualifier']}" if target.get("qualifier") else "")
        return path

    def parse_target_path(self, head: str, text: str, argument: str, rule: str) -> dict[str, Any]:
        from .errors import InvalidArgumentError

        if "/" in head:
            raise InvalidArgumentError(argument, text, rule)
        function, dot, qualifier = head.partition(".")
        if dot and not qualifier:
            raise InvalidArgumentError(argument, text, "the qualifier after '.' is empty; " + rule)
        return {"function_name": function, "qualifier": qualifier or None}

    def batch_id_rule(self) -> str:
        return ("must be FUNCTION[.QUALIFIER][?prefix=P&statuses=S1,S2&started_after=T&started_before=T&limit=N], "
                "e.g. transcode.prod?prefix=job-2026-11-")

    def not_found_head(self, ref: Any) -> str:
        return (f"task not found: function {ref.function_name!r}, qualifier {ref.qualifier or '(none)'!r}, "
                f"task id {ref.task_id!r}")

    def target_not_found_head(self, label: str, target: Mapping[str, Any]) -> str:
        return (f"cannot list {label}: function {target['function_name']!r}, qualifier "
                f"{target.get('qualifier') or '(none)'!r}")


FC2: Kind = _Fc2()
FC3: Kind = _Fc3()
KINDS = {"fc2": FC2, "fc3": FC3}


def kind_of_id(text: str) -> Kind:
    """FC 3.0 for a two-segment id ``fn[.q]/task``, FC 2.0 for three ``svc[.q]/fn/id`` (the CLI's rule)."""
    return FC3 if isinstance(text, str) and text.count("/") == 1 else FC2
