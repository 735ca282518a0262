"""What the ACS3-signed revisions (2021-04-06 and 2023-03-30) share: the signature and the query qualifier.

Authentication (``signing.acs3_verify``): no ``Authorization`` or a missing required ``x-acs-date`` /
``x-acs-signature-nonce`` / ``x-acs-content-sha256`` -> 400 ``MissingRequiredHeader``; not an ACS3
value, a header sent unsigned or a wrong signature -> 403 ``SignatureNotMatch`` (the message shows
the server's canonical request, token masked); body hash or bad ``x-acs-date`` -> 400
``InvalidArgument``; unknown key -> 403 ``InvalidAccessKeyID``; date skew (real time) -> 403
``RequestTimeTooSkewed``; STS token (``x-acs-security-token``; see ``common``) wrong or missing ->
403 ``InvalidSecurityToken``, expired -> 403 ``SecurityTokenExpired``; an ``x-acs-version`` that is
not the path's -> 400 ``InvalidArgument``. The qualifier rides in ``?qualifier=``.
"""

from __future__ import annotations

import time
from typing import Any, Optional

from ... import signing
from .common import ApiError, Request, Revision

__all__ = ["Acs3Revision"]

_ACS3_ERRORS = {
    "missing": ("MissingRequiredHeader", 400), "malformed": ("SignatureNotMatch", 403),
    "unsigned": ("SignatureNotMatch", 403), "mismatch": ("SignatureNotMatch", 403),
    "content": ("InvalidArgument", 400), "date": ("InvalidArgument", 400),
    "skew": ("RequestTimeTooSkewed", 403),
}
_FORM = "ACS3-HMAC-SHA256 Credential=<accessKeyId>,SignedHeaders=<names>,Signature=<hex>"


class Acs3Revision(Revision):
    """A revision signed with ACS3-HMAC-SHA256, as the official SDKs sign."""

    def qualifier_of(self, request: Request, params: dict[str, Any]) -> Optional[str]:
        qualifier = request.query.get("qualifier")
        if qualifier is None:
            return None
        if qualifier == "":
            raise ApiError("InvalidArgument", "the qualifier query parameter is empty")
        return qualifier

    def authenticate(self, request: Request) -> None:
        parsed, key = self.signing_key(request, signing.parse_acs3_authorization,
                                       lambda parsed: parsed.access_key_id, _FORM)
        token = request.header("x-acs-security-token")
        try:
            signing.acs3_verify(request.method, request.raw_path, request.query, request.headers, request.body,
                                key.secret, now=time.time(), max_skew_seconds=self.max_skew)
        except signing.Acs3SignatureError as exc:
            code, status = _ACS3_ERRORS.get(exc.reason, ("SignatureNotMatch", 403))
            message = str(exc)
            if exc.reason == "mismatch":
                shown = exc.canonical_request.replace(token, "<token>") if token else exc.canonical_request
                message = ("The request signature we calculated does not match the signature you provided. "
                           f"Check your access key and signing method. Canonical request: {shown!r}")
            raise ApiError(code, message, status) from None
        key_header = request.header("x-acs-accesskey-id")
        if key_header and key_header != parsed.access_key_id:
            raise ApiError("InvalidAccessKeyID", "x-acs-accesskey-id does not match the signing key")
        self.check_token(key, token)
        version = request.header("x-acs-version")
        if version and version.strip() != self.version:
            raise ApiError("InvalidArgument", f"x-acs-version {version[:20]!r} does not match the path's API "
                                              f"{self.version}")
