"""API 2021-04-06 (FC 2.0, ACS3): what the official ``alibabacloud-fc-open20210406`` SDK calls.

FC 2.0's resources and JSON (``render_invocation``), signed as in ``acs3``, the qualifier in
``?qualifier=``. Error bodies: FC 2.0's ``{"ErrorCode", "ErrorMessage"}`` plus ``Code``, ``Message``
and ``RequestId``, which the official SDK reads (no first-party page shows the body: the emulator's
choice, readable by both kinds of client). Header values may arrive JSON-encoded (``"Async"`` with
quotes: some SDK builds ``json.dumps`` every header value); both forms are accepted. The
per-request ``X-Fc-Stateful-Async-Invocation-Enable: true`` switches task mode on for one invocation.
"""

from __future__ import annotations

from typing import Any, Optional

from ..models import InvocationState
from ..urls import FC2_2021
from .acs3 import Acs3Revision
from .common import ApiError, Request, header_value
from .fc2_2016 import render_invocation

__all__ = ["Fc2021"]

ENABLE_HEADER = "X-Fc-Stateful-Async-Invocation-Enable"


class Fc2021(Acs3Revision):
    """``/2021-04-06/services/{svc}/functions/{fn}/stateful-async-invocations/...``."""

    version = FC2_2021

    def render(self, state: InvocationState, include_payload: bool = True) -> dict[str, Any]:
        return render_invocation(state, include_payload)

    def error_body(self, code: str, message: str, request_id: str) -> dict[str, Any]:
        return {"ErrorCode": code, "ErrorMessage": message, "Code": code, "Message": message,
                "RequestId": request_id}

    def header(self, request: Request, name: str) -> Optional[str]:
        return header_value(request.header(name))

    def invoke_options(self, request: Request) -> bool:
        enable = (self.header(request, ENABLE_HEADER) or "false").strip().lower()
        if enable not in ("true", "false"):
            raise ApiError("InvalidArgument", f"{ENABLE_HEADER} must be true or false, got {enable[:20]!r}")
        return enable == "true"
