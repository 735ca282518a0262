"""API 2023-03-30 (FC 3.0, ACS3): what the official ``alibabacloud-fc20230330`` SDK calls.

No services: a 2.0 function is ``service$function`` (``FcBackend.split_fc3_name``); ``async-tasks``,
stop on ``PUT .../stop`` (200 ``{}``), the qualifier in ``?qualifier=``, signed as in ``acs3``.

- Error bodies: ``{"Code", "Message", "RequestId"}`` (FC3-API.md "Error"); codes are renamed from
  the backend's 2.0 ones: ``ServiceNotFound`` (of ``svc$fn``) -> ``FunctionNotFound``,
  ``StatefulAsyncInvocationNotFound`` -> 404 ``AsyncTaskNotFound``,
  ``StatefulAsyncInvocationAlreadyExists`` -> 409 ``AsyncTaskAlreadyExists`` (3.0's code is not
  documented: the emulator's choice).
- Async invoke: 202, empty body, ``x-fc-async-task-id`` header (checked against FC 3.0's task-id rule).
- List: ``prefix`` instead of ``invocationIdPrefix``; body ``{"tasks": [...], "nextToken"}``.
- Tasks render with ``functionArn`` (``acs:fc:{region}:{account}:functions/{name}``) and no
  ``functionName``. GetAsyncTask answers ``taskPayload`` (FC3-API.md documents it as the task's input and
  as listed only with ``includePayload``); ``payload_on_get = False`` (``FcEmulator.fc3_payload_on_get``)
  leaves it out of GetAsyncTask, so a client's fallback to ListAsyncTasks with ``includePayload`` can be
  tested too.
- ``PUT/GET/DELETE .../async-invoke-config`` store ``asyncTask`` (task mode; 404
  ``AsyncConfigNotExists`` before a PUT or after a DELETE).
"""

from __future__ import annotations

import json
from email.utils import formatdate
from typing import Any, Optional

from ... import fc3
from ...errors import InvalidArgumentError
from ..models import EmulatorError, InvocationState
from ..urls import FC3
from .acs3 import Acs3Revision
from .common import ApiError, Request, Response, render_item

__all__ = ["Fc3", "render_task"]

_FC3_CODES = {
    "ServiceNotFound": "FunctionNotFound",
    "StatefulAsyncInvocationNotFound": "AsyncTaskNotFound",
    "StatefulAsyncInvocationAlreadyExists": "AsyncTaskAlreadyExists",
}


def render_task(state: InvocationState, function_arn: str, include_payload: bool = True) -> dict[str, Any]:
    """A task as FC 3.0's JSON: ``functionArn`` instead of service and function names."""
    head = {"taskId": state.invocation_id, "functionArn": function_arn}
    return render_item(state, head, "taskErrorMessage", "taskPayload", include_payload)


class Fc3(Acs3Revision):
    """``/2023-03-30/functions/{fn}/async-tasks/...`` and ``.../async-invoke-config``."""

    version = FC3
    list_key = "tasks"
    prefix_param = "prefix"
    task_id_header = "x-fc-async-task-id"
    kind_header = "x-fc-invocation-type"
    error_header = "x-fc-error-type"

    def function_of(self, params: dict[str, Any]) -> tuple[Optional[str], str]:
        """(service or None, function) of an FC 3.0 function name (``svc$fn`` is 2.0's ``svc``/``fn``)."""
        function = params["function"]
        service, name = self.backend.split_fc3_name(function)
        if service is not None and (not service or not name):
            raise EmulatorError("FunctionNotFound", f"function '{function}' does not exist")
        return service, name

    def arn(self, fc3_name: str) -> str:
        return f"acs:fc:{self.region}:{self.account_id}:functions/{fc3_name}"

    def render(self, state: InvocationState, include_payload: bool = True) -> dict[str, Any]:
        return render_task(state, self.arn(state.fc3_function_name), include_payload)

    def error_body(self, code: str, message: str, request_id: str) -> dict[str, Any]:
        return {"Code": code, "Message": message, "RequestId": request_id}

    def translate(self, exc: EmulatorError) -> tuple[str, str]:
        code = _FC3_CODES.get(exc.code, exc.code)
        message = exc.message.replace("stateful async invocation", "async task")
        if exc.code == "ServiceNotFound":
            message = message.replace("service", "function (the service part of service$function)", 1)
        return code, message

    def check_task_id(self, task_id: str) -> None:
        try:
            fc3.validate_task_id(task_id, self.task_id_header)
        except InvalidArgumentError as exc:
            raise ApiError("InvalidArgument", str(exc)) from None

    def on_async_config(self, request: Request, **params: Any) -> Response:
        """PutAsyncInvokeConfig ``{"asyncTask": bool, ...}`` switches task mode; GET/DELETE as FC."""
        function = params["function"]
        service, qualifier, name = self.address(request, params)
        fn = self.backend.resolve(service, qualifier, name)
        if request.method == "PUT":
            try:
                data = json.loads(request.body or b"{}")
            except ValueError:
                raise ApiError("InvalidArgument", "the body must be a JSON object") from None
            if not isinstance(data, dict):
                raise ApiError("InvalidArgument", "the body must be a JSON object")
            enabled = data.get("asyncTask", False)
            if not isinstance(enabled, bool):
                raise ApiError("InvalidArgument", f"asyncTask must be true or false, got {enabled!r}")
            stamp = formatdate(self.backend.clock.now(), usegmt=True)
            created = (fn.async_config or {}).get("createdTime", stamp)
            config = {**data, "asyncTask": enabled, "functionArn": self.arn(fn.fc3_name), "createdTime": created,
                      "lastModifiedTime": stamp}
            self.backend.set_async_task(service, name, enabled, config)
            return self.ok(config)
        if fn.async_config is None:
            raise ApiError("AsyncConfigNotExists", f"async invoke config of function '{function}' does not exist")
        if request.method == "DELETE":
            self.backend.set_async_task(service, name, False, None)
            return Response(204)
        return self.ok(fn.async_config)
