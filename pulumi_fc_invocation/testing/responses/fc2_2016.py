"""API 2016-08-15 (FC 2.0, FC signature): what this package's FC 2.0 calls use.

The qualifier rides on the service segment (``service.qualifier``), error bodies are
``{"ErrorCode", "ErrorMessage"}``, stop answers 200 with an empty body. Authentication, in this
order, each failure answered like FC:

1. no ``Authorization`` header -> 400 ``MissingRequiredHeader`` (FC's code for a missing header);
   not ``FC id:sig`` -> 403 ``SignatureNotMatch``.
2. unknown access key id -> 403 ``InvalidAccessKeyID``.
3. no ``Date`` -> 400 ``MissingRequiredHeader``; unparsable -> 400 ``InvalidArgument``.
4. signature (``pulumi_fc_invocation.signing`` over the unescaped path without the query) ->
   403 ``SignatureNotMatch``; the message shows the server's string-to-sign (token masked) to help
   debug a hand-written signer. A ``Content-MD5`` header, when sent, must match the body (hex or
   base64) -> 400 ``InvalidArgument``.
5. STS token (``X-Fc-Security-Token``; see ``common``) -> 403 ``InvalidSecurityToken`` /
   ``SecurityTokenExpired``.
6. ``Date`` more than ``max_skew`` (900 s) from real wall time -> 403 ``RequestTimeTooSkewed``.
7. ``X-Fc-Account-Id``, when sent, must be the emulator's account -> 403 ``AccessDenied``.

:func:`render_invocation` is FC 2.0's JSON, which 2021-04-06 shares.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from email.utils import formatdate, parsedate_to_datetime
from typing import Any, Optional

from ... import signing
from ..models import InvocationState
from ..urls import API_VERSION
from .common import ApiError, Request, Response, Revision, render_item

__all__ = ["Fc2016", "render_invocation"]


def render_invocation(state: InvocationState, include_payload: bool = True) -> dict[str, Any]:
    """An invocation as FC 2.0's JSON (camelCase keys)."""
    head = {"serviceName": state.service_name, "functionName": state.function_name,
            "invocationId": state.invocation_id}
    return render_item(state, head, "invocationErrorMessage", "invocationPayload", include_payload)


class Fc2016(Revision):
    """``/2016-08-15/services/{svc}[.{q}]/functions/{fn}/stateful-async-invocations/...``."""

    version = API_VERSION

    def qualifier_of(self, request: Request, params: dict[str, Any]) -> Optional[str]:
        qualifier: Optional[str] = params.get("qualifier")
        if qualifier == "":
            raise ApiError("InvalidArgument", "the qualifier after '.' in the service name is empty")
        return qualifier

    def render(self, state: InvocationState, include_payload: bool = True) -> dict[str, Any]:
        return render_invocation(state, include_payload)

    def stopped(self) -> Response:
        return Response(200)

    def authenticate(self, request: Request) -> None:
        (key_id, given), key = self.signing_key(request, signing.parse_authorization, lambda parsed: parsed[0],
                                                "FC <accessKeyId>:<signature>")
        date = request.header("Date")
        if not date:
            raise ApiError("MissingRequiredHeader", "required HTTP header Date was not specified")
        try:
            signed_at = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError, IndexError):
            raise ApiError("InvalidArgument", f"the Date header {date[:64]!r} is not an RFC 1123 date") from None
        text = signing.string_to_sign(request.method, request.raw_path, request.headers)
        # compare_digest raises TypeError on non-ASCII text (it was a 500 with a traceback): refuse first.
        if not given.isascii() or not hmac.compare_digest(signing.signature(key.secret, text), given):
            token = request.header("X-Fc-Security-Token")
            shown = text.replace(token, "<token>") if token else text
            raise ApiError(
                "SignatureNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                f"Check your access key and signing method. String to sign: {shown!r}",
            )
        md5 = request.header("Content-MD5")
        if md5:
            digest = hashlib.md5(request.body).digest()
            if md5 not in (digest.hex(), base64.b64encode(digest).decode()):
                raise ApiError("InvalidArgument", "the Content-MD5 header does not match the body")
        self.check_token(key, request.header("X-Fc-Security-Token"))
        now = time.time()
        if abs(now - signed_at) > self.max_skew:
            raise ApiError(
                "RequestTimeTooSkewed",
                f"the difference between the request time '{date}' and the server time "
                f"'{formatdate(now, usegmt=True)}' is too large (more than {int(self.max_skew)} seconds)",
            )
        account = request.header("X-Fc-Account-Id")
        if account and account != self.account_id:
            raise ApiError("AccessDenied", f"account '{account}' does not match this endpoint's account "
                                           f"'{self.account_id}'")
