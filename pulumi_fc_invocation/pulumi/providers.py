"""The dynamic providers behind the data sources: they run in Pulumi's dynamic provider host.

A provider object is pickled into state (``__provider``), so it holds nothing but its class: the
stack configuration arrives through ``configure`` in the host and clients are built lazily and cached
per host process. ``read`` is the only operation that does anything: the resources are registered as
reads, so they are never created, updated or deleted in Function Compute. One base class; each
subclass only names its API kind and whether it reads one item or a batch (the class itself must
exist per data source: state refers to it by module and name).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

import pulumi
import pulumi.dynamic

from ..credentials import secret_config_texts
from ..errors import FcInvocationError, NotFoundError
from ..gate.clients import CONFIG_KEYS, client_for
from ..gate.explain import config_vocabulary, explain, explains
from ..gate.gates import BatchGate
from ..gate.messages import item_not_found
from ..gate.operation import current_operation
from ..gate.outputs import batch_outputs, single_outputs
from ..gate.spec import BatchSpec
from ..gate.verdict import read_and_check
from ..kinds import FC2, FC3, Kind
from ..models import redact, redacting

__all__ = [
    "GateProvider",
    "StatefulAsyncInvocationProvider",
    "StatefulAsyncInvocationsProvider",
    "AsyncTaskProvider",
    "AsyncTasksProvider",
]


def _ref_from(kind: Kind, id_: str, props: Mapping[str, Any]) -> tuple[Any, tuple[str, ...]]:
    """The ref to read and the secret values in it (masked in the id; see ``masked`` on the refs)."""
    # The id is authoritative: on refresh the props are the prior outputs, whose `qualifier` is FC's
    # echo (`LATEST` for a task read without one), not what the program asked for. Only masked parts
    # (secret inputs) come from the props, and those the program did give.
    ref, hidden = kind.parse_masked(id_, props)
    return ref, tuple(getattr(ref, key) for key in hidden)


class GateProvider(pulumi.dynamic.ResourceProvider):
    """Reads what its data source gates on. Holds no state worth pickling."""

    kind: Kind = FC2
    batch: bool = False

    def __init__(self) -> None:
        self._config: Optional[dict[str, Any]] = None

    def __getstate__(self) -> dict[str, Any]:
        return {}  # never carry configuration (credentials) into the serialized provider

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self._config = None

    def configure(self, req: pulumi.dynamic.ConfigureRequest) -> None:
        config = {}
        for key in CONFIG_KEYS:
            value = req.config.get(key)
            if value is not None:
                config[key] = value
        self._config = config

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        return self._read_batch(id_, props) if self.batch else self._read_single(id_, props)

    def _client(self, region: Any, account_id: Any, endpoint: Any) -> Any:
        # The engine's secret marks are gone by `configure` (the host unwraps them): no setting is shown.
        return client_for(self._config, region=region or None, account_id=account_id or None,
                          endpoint=endpoint or None, secret_config=tuple(self._config or ()))

    def _secrets(self, inputs: tuple[str, ...]) -> tuple[str, ...]:
        """The secret inputs and every setting (which were secrets is unknown here, as in ``_client``): the
        client holds them, and an endpoint or the account id in a derived one shows in "cannot reach"."""
        return tuple(inputs) + secret_config_texts(self._config, tuple(self._config or ()))

    def _read_single(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        ref, secrets = _ref_from(self.kind, id_, props)
        # A program's read never carries `status` (None values are not sent); a refresh's prior outputs do.
        refresh = props.get("status") is not None
        hidden = self._secrets(secrets)
        with redacting(hidden):
            try:
                client = self._client(props.get("region"), props.get("account_id"), props.get("endpoint"))
                result = read_and_check(client, ref, props, refresh=refresh, kind=self.kind)
            except NotFoundError as exc:
                if refresh and item_not_found(exc):
                    # FC has forgotten the item (it keeps a task 7 days): a refresh keeps the state last
                    # recorded, and says so.
                    pulumi.log.warn(redact(f"keeping the state last recorded for {self.kind.noun} {ref}: {exc}",
                                           hidden))
                    return pulumi.dynamic.ReadResult(id_, dict(props))
                return self._kept(id_, props, exc, refresh, hidden)
            except FcInvocationError as exc:
                return self._kept(id_, props, exc, refresh, hidden)
        return pulumi.dynamic.ReadResult(id_, single_outputs(self.kind, result, ref, props))

    def _kept(self, id_: str, props: dict[str, Any], error: FcInvocationError, refresh: bool,
              hidden: tuple[str, ...]) -> pulumi.dynamic.ReadResult:
        """A read that failed on ``error``: kept as last recorded where nothing better can be said, else raised.

        A plain refresh (``refresh``) reads with the settings stored in the state at the last ``pulumi up``,
        and an error raised here reaches the user as a traceback (the SDK's provider host formats one for
        every error). So when those settings no longer work (a setting, credentials, authentication or
        network error, an endpoint that never answers included; a function not found, as after a region or
        account move) the read keeps the state
        last recorded and warns, once, naming the stored settings and the fix (:func:`..gate.explain.explain`).
        ``destroy --run-program`` forgets this read right after: no such error, nor a 404, blocks it."""
        destroy = not refresh and current_operation() == "destroy"
        if not (destroy or (refresh and explains(error))):
            raise error
        text = explain(error, config_vocabulary(config=self._config), stored=refresh) or str(error)
        noun = self.kind.batch_resource_name if self.batch else self.kind.noun
        pulumi.log.warn(redact(f"not read, forgotten by this destroy: {noun} {id_}: {text}" if destroy else
                               f"keeping the state last recorded for {noun} {id_}: {text}", hidden))
        return pulumi.dynamic.ReadResult(id_, dict(props))

    def _read_batch(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        spec = BatchSpec.from_props(id_, props, kind=self.kind)
        # A refresh passes the prior outputs (with results); the program's read passes none of them.
        refresh = props.get("total") is not None
        hidden = self._secrets(spec.secret_texts)
        with redacting(hidden):
            try:
                client = self._client(spec.region, spec.account_id, spec.endpoint)
                summary = BatchGate(spec).final_read(client, props, refresh=refresh)
            except FcInvocationError as exc:
                return self._kept(id_, props, exc, refresh, hidden)
        outs = spec.props()
        outs.update(batch_outputs(summary))
        outs["waited_seconds"] = props.get("waited_seconds")
        return pulumi.dynamic.ReadResult(id_, outs)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        name = self.kind.batch_resource_name if self.batch else self.kind.resource_name
        raise FcInvocationError(
            f"{name} is a read-only data source; construct it through the package, "
            "which registers it as a read (it never creates anything in Function Compute)"
        )

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        return None  # reads are never deleted; and we never touch the task


class StatefulAsyncInvocationProvider(GateProvider):
    """Reads one FC 2.0 stateful async invocation."""

    kind = FC2


class StatefulAsyncInvocationsProvider(GateProvider):
    """Reads a batch of FC 2.0 stateful async invocations."""

    kind = FC2
    batch = True


class AsyncTaskProvider(GateProvider):
    """Reads one FC 3.0 async task."""

    kind = FC3


class AsyncTasksProvider(GateProvider):
    """Reads a batch of FC 3.0 async tasks."""

    kind = FC3
    batch = True
