"""One request through the emulator: route, fault, the revision's authentication and handler, rendering.

:data:`REVISIONS` registers each API revision's :class:`~.common.Revision` by its path's first
segment (``urls.api_of``). Faults (``faults.py``) are applied after routing and before
authentication, as a throttling front end or a proxy would; an error answer uses the body format of
the revision asked.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Optional, cast

from ... import signing
from ..codes import STATUS_FOR_CODE
from ..faults import Fault, FaultQueue
from ..keys import KeyStore
from ..models import EmulatorError, FcBackend
from ..urls import api_of, resolve
from .common import MAX_SKEW, ApiError, Request, RequestInfo, Response, Revision, header_value, \
    json_body
from .fc2_2016 import Fc2016
from .fc2_2021 import Fc2021
from .fc3 import Fc3

__all__ = ["FcResponses", "REVISIONS"]

log = logging.getLogger("pulumi_fc_invocation.testing")

REVISIONS: dict[str, type[Revision]] = {cls.version: cls for cls in (Fc2016, Fc2021, Fc3)}


def _key_id_of(header: Optional[str]) -> Optional[str]:
    parsed = signing.parse_authorization(header or "")
    if parsed:
        return parsed[0]
    acs3 = signing.parse_acs3_authorization(header)
    return acs3.access_key_id if acs3 else None


class FcResponses:
    """Dispatches one request: route, fault, authentication, handler, rendering."""

    def __init__(self, backend: FcBackend, keys: KeyStore, faults: FaultQueue, account_id: str,
                 max_skew: float = MAX_SKEW, region: str = "cn-hangzhou") -> None:
        self.backend = backend
        self.keys = keys
        self.faults = faults
        self.account_id = account_id
        self.region = region
        self.max_skew = max_skew
        self.revisions = {version: cls(backend, keys, account_id, region, max_skew)
                          for version, cls in REVISIONS.items()}

    def handle(self, request: Request) -> tuple[Response, RequestInfo]:
        api = api_of(request.path)
        revision = self.revisions[api]
        info = RequestInfo(request_id=str(uuid.uuid4()), api=api)
        route, params = resolve(request.method, request.path)
        info.route = route
        info.invocation_id = params.get("invocation_id") or header_value(request.header(revision.task_id_header))
        info.access_key_id = _key_id_of(request.header("Authorization"))

        fault = self.faults.take(route or "?", info.invocation_id, api)
        info.fault = fault is not None
        if fault is not None and (fault.reset or fault.is_error):
            return self._fault_response(fault, info, revision), info
        # Not a field of the dataclass (the parsed request has no id until here): unknown to mypy.
        request.request_id = info.request_id  # type: ignore[attr-defined]
        try:
            revision.authenticate(request)
            if route is None:
                raise ApiError("PathNotSupported", f"'{request.method}' against '{request.path}' is not supported")
            response = getattr(revision, f"on_{route}")(request, **params)
        except ApiError as exc:
            response = revision.error(exc.status, exc.code, exc.message, info.request_id)
        except EmulatorError as exc:
            code, message = revision.translate(exc)
            response = revision.error(STATUS_FOR_CODE.get(code, 400), code, message, info.request_id)
        except Exception as exc:  # an emulator bug: answer 500 (visible in the test) instead of a dead socket
            log.exception("emulator error handling %s %s", request.method, request.path)
            response = revision.error(500, "InternalServerError", f"emulator bug: {type(exc).__name__}: {exc}",
                                      info.request_id)
        if fault is not None:
            self._decorate(response, fault)
        response.headers.insert(0, ("X-Fc-Request-Id", info.request_id))
        return response, info

    # --- faults ---------------------------------------------------------------------------------

    @staticmethod
    def _fault_response(fault: Fault, info: RequestInfo, revision: Revision) -> Response:
        if fault.reset:
            return Response(0, latency=fault.latency, reset=True)
        if fault.body is not None:
            response = Response(int(fault.status or 502), [("Content-Type", fault.content_type or "text/html")],
                                cast(bytes, fault.body))  # a Fault keeps a text body encoded
        else:
            message = fault.message or f"emulated fault: {fault.code}"
            response = revision.error(int(fault.status or 503), fault.code or "InternalServerError", message,
                                      info.request_id)
        if fault.retry_after is not None:
            value = fault.retry_after
            response.headers.append(("Retry-After", str(int(value)) if float(value).is_integer() else str(value)))
        response.latency = fault.latency
        response.truncate = fault.truncate
        response.headers.insert(0, ("X-Fc-Request-Id", info.request_id))
        return response

    @staticmethod
    def _decorate(response: Response, fault: Fault) -> None:
        response.latency = fault.latency
        response.truncate = fault.truncate
        if fault.extra_fields and 200 <= response.status < 300 and response.body:
            try:
                data = json.loads(response.body)
            except ValueError:
                return
            if isinstance(data, dict):
                data.update(fault.extra_fields)
                for key in ("invocations", "tasks"):
                    if isinstance(data.get(key), list):
                        for item in data[key]:
                            item.update(fault.extra_fields)
                response.body = json_body(data)
