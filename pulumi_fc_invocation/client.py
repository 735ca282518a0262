"""FcClient: reads (and, for tests and demos, starts and stops) FC's async invocations.

The calls of each API, on one :class:`~.transport.Transport` (retry budget, timeouts, size caps,
classified errors): FC 2.0's stateful async invocations, signed with the FC signature (:mod:`.fc2`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Optional, Union

import requests
from pydantic import BaseModel, ConfigDict, Field

from .credentials import Credentials, resolve_settings
from .errors import BadRequestError, FcInvocationError, InvalidArgumentError, PaginationError
from .fc2 import (
    API_VERSION,
    InvocationRef,
    StatefulAsyncInvocationResult,
    fc_signer,
    function_path,
    invocation_path,
    invocation_path_of,
    invocations_path,
)
from .models import InvocationStatus, parse_time
from .transport import MAX_RESPONSE_BYTES, RETRY_STATUSES, Timeout, Transport, check_timeout, request_id_of

__all__ = ["FcClient", "API_VERSION", "RETRY_STATUSES", "MAX_RESPONSE_BYTES", "MAX_PAGES"]

# Far above any real listing (10,000 pages of 100 is a million invocations): a server that keeps
# handing out new tokens ends here instead of never.
MAX_PAGES = 10_000


def _epoch_ms(argument: str, value: Any) -> Optional[int]:
    if value is None:
        return None
    try:
        parsed = parse_time(value)
    except ValueError as exc:
        raise InvalidArgumentError(argument, value, f"must be a datetime, epoch milliseconds or ISO-8601 text ({exc})") from None
    if parsed is None:
        return None
    return int(parsed.timestamp() * 1000)


class _ListPage(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)  # built at the first list call
    invocations: tuple[StatefulAsyncInvocationResult, ...] = Field(default=())
    next_token: Optional[str] = Field(default=None, alias="nextToken")



class _ListPage(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)  # built at the first list call
    invocations: tuple[StatefulAsyncInvocationResult, ...] = Field(default=())
    next_token: Optional[str] = Field(default=None, alias="nextToken")


class FcClient:
    """A client for FC's async invocations: FC 2.0 (API 2016-08-15) stateful async invocations.

    Missing settings are resolved through the chain of :func:`resolve_settings` (explicit arguments,
    then environment variables, then the shared credentials files). Safe to share between threads.
    """

    def __init__(
        self,
        *,
        account_id: Optional[str] = None,
        region: Optional[str] = None,
        credentials: Optional[Credentials] = None,
        endpoint: Optional[str] = None,
        internal: bool = False,
        timeout: Timeout = (5.0, 15.0),
        max_retries: int = 4,
        retry_budget: float = 30.0,
        backoff_factor: float = 0.5,
        backoff_max: float = 8.0,
        config: Optional[Mapping[str, Any]] = None,
        environ: Optional[Mapping[str, str]] = None,
        home: Optional[str] = None,
    ) -> None:
        check_timeout(timeout)
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            raise InvalidArgumentError("max_retries", max_retries, "must be an integer >= 0")
        if not isinstance(retry_budget, (int, float)) or retry_budget <= 0:
            raise InvalidArgumentError("retry_budget", retry_budget, "must be a positive number of seconds")
        if credentials is not None and not isinstance(credentials, Credentials):
            raise InvalidArgumentError("credentials", type(credentials).__name__, "must be a Credentials object")
        settings = resolve_settings(
            account_id=account_id, region=region, credentials=credentials, endpoint=endpoint,
            internal=internal, config=config, environ=environ, home=home, credentials_argument="credentials",
        )
        assert settings.credentials is not None and settings.endpoint is not None
        self.account_id = settings.account_id
        self.region = settings.region
        self.endpoint = settings.endpoint
        self._credentials = settings.credentials
        self.transport = Transport(
            self.endpoint, self._credentials, timeout=timeout, max_retries=max_retries,
            retry_budget=retry_budget, backoff_factor=backoff_factor, backoff_max=backoff_max, environ=environ,
        )
        self.timeout = self.transport.timeout
        self.max_retries = max_retries
        self._fc2_signer = fc_signer(self.account_id)

    @classmethod
    def from_environment(cls, *, config: Optional[Mapping[str, Any]] = None, **overrides: Any) -> "FcClient":
        """A client from the settings chain; ``config`` maps Pulumi config keys to values."""
        return cls(config=config, **overrides)

    @property
    def credentials(self) -> Credentials:
        return self._credentials

    def bounded(self, seconds: float) -> "FcClient":
        """A view of this client whose every call ends within ``seconds`` from now, retries included.

        For a wait or a gate with its own time budget: each call's attempts are cut to the time left,
        and a call made after it is over fails at once. The view shares this client's connections:
        close this client, not the view.
        """
        transport = self.transport.bounded(seconds)
        view = object.__new__(FcClient)
        view.__dict__.update(self.__dict__)
        view.transport = transport
        return view

    def __repr__(self) -> str:
        return f"FcClient(endpoint={self.endpoint!r}, account_id={self.account_id!r}, credentials={self._credentials!r})"

    def __reduce__(self):
        raise TypeError("FcClient cannot be pickled (it holds credentials and a connection pool)")

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> "FcClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """An FC 2.0 call: signed with the FC signature."""
        try:
            return self.transport.request(method, path, signer=self._fc2_signer, **kwargs)
        except FcInvocationError as exc:
            failure = exc
        # Raised with the arguments (the body: user data) gone from this frame, which the traceback keeps.
        del kwargs
        raise failure

    def _parse(self, response: requests.Response, model: type[BaseModel], what: str) -> Any:
        return self.transport.parse(response, model, what)

    # --- operations -----------------------------------------------------------------------------

    def get_stateful_async_invocation(
        self, service_name: str, function_name: str, invocation_id: str, qualifier: Optional[str] = None
    ) -> StatefulAsyncInvocationResult:
        """GetStatefulAsyncInvocation."""
        path = invocation_path_of(service_name, function_name, invocation_id, qualifier)
        response = self._request("GET", path)
        return self._parse(response, StatefulAsyncInvocationResult, "an invocation")

    def get(self, ref: Union[InvocationRef, str]) -> StatefulAsyncInvocationResult:
        """GetStatefulAsyncInvocation by reference or composite id."""
        if not isinstance(ref, InvocationRef):
            ref = InvocationRef.parse(ref)
        path = invocation_path(ref)
        response = self._request("GET", path)
        return self._parse(response, StatefulAsyncInvocationResult, "an invocation")

    def list_stateful_async_invocations(
        self,
        service_name: str,
        function_name: str,
        *,
        qualifier: Optional[str] = None,
        status: Union[str, InvocationStatus, None] = None,
        prefix: Optional[str] = None,
        started_after: Union[datetime, int, str, None] = None,
        started_before: Union[datetime, int, str, None] = None,
        sort: str = "desc",
        include_payload: bool = False,
        limit: Optional[int] = None,
        page_size: int = 100,
        max_pages: int = MAX_PAGES,
    ) -> Iterator[StatefulAsyncInvocationResult]:
        """ListStatefulAsyncInvocations as an iterator that follows ``nextToken``.

        Arguments are checked now, before the first request; ``limit`` bounds how many are yielded.
        A repeated or cycling token, or more than ``max_pages`` pages, ends it with ``PaginationError``.
        """
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            raise InvalidArgumentError("limit", limit, "must be a positive integer or None")
        if not isinstance(max_pages, int) or isinstance(max_pages, bool) or max_pages < 1:
            raise InvalidArgumentError("max_pages", max_pages, "must be a positive integer")
        params = self._list_params(service_name, function_name, qualifier=qualifier, status=status, prefix=prefix,
                                   started_after=started_after, started_before=started_before, sort=sort,
                                   include_payload=include_payload, page_size=page_size)
        path = invocations_path(service_name, function_name, qualifier)

        def pages() -> Iterator[StatefulAsyncInvocationResult]:
            remaining = limit
            token: Optional[str] = None
            seen: set[str] = set()
            for page in range(1, max_pages + 1):
                query = dict(params)
                if remaining is not None:
                    query["limit"] = str(min(remaining, int(params["limit"])))
                if token:
                    query["nextToken"] = token
                items, token = self._list_page(path, query)
                for item in items:
                    yield item
                    if remaining is not None:
                        remaining -= 1
                        if remaining == 0:
                            return
                if not token:
                    return
                if token in seen:
                    raise PaginationError(f"ListStatefulAsyncInvocations: page {page} gave a nextToken that an "
                                          "earlier page gave: the listing would never end")
                seen.add(token)
            raise PaginationError(f"ListStatefulAsyncInvocations: still a nextToken after {max_pages} pages, far "
                                  "more than any real listing: stopped")

        return pages()

    def list_stateful_async_invocations_page(
        self, service_name: str, function_name: str, *, next_token: Optional[str] = None, **filters: Any
    ) -> tuple[tuple[StatefulAsyncInvocationResult, ...], Optional[str]]:
        """One page of ListStatefulAsyncInvocations: (items, next token or None).

        A caller that follows the tokens should stop on one it has seen (``PaginationError`` here when
        a page hands back the token it was asked for) and bound its pages (``MAX_PAGES``), as
        :meth:`list_stateful_async_invocations` does.
        """
        qualifier = filters.pop("qualifier", None)
        params = self._list_params(service_name, function_name, qualifier=qualifier, **filters)
        if next_token:
            params["nextToken"] = next_token
        path = invocations_path(service_name, function_name, qualifier)
        items, token = self._list_page(path, params)
        if token is not None and token == next_token:
            raise PaginationError("ListStatefulAsyncInvocations: the page gave back the nextToken it was asked "
                                  "for: the listing would never end")
        return items, token

    def _list_page(self, path: str, params: Mapping[str, str]
                   ) -> tuple[tuple[StatefulAsyncInvocationResult, ...], Optional[str]]:
        page_model = self._parse(self._request("GET", path, params=params), _ListPage, "a list of invocations")
        return page_model.invocations, page_model.next_token or None

    def _list_params(self, service_name: str, function_name: str, *, qualifier: Optional[str] = None,
                     status: Any = None, prefix: Optional[str] = None, started_after: Any = None,
                     started_before: Any = None, sort: str = "desc", include_payload: bool = False,
                     page_size: int = 100) -> dict[str, str]:
        function_path(service_name, function_name, qualifier)  # validates the names
        if sort not in ("asc", "desc"):
            raise InvalidArgumentError("sort", sort, "must be 'asc' or 'desc'")
        if not isinstance(page_size, int) or isinstance(page_size, bool) or not 1 <= page_size <= 100:
            raise InvalidArgumentError("page_size", page_size, "must be an integer from 1 to 100")
        if not isinstance(include_payload, bool):
            raise InvalidArgumentError("include_payload", include_payload, "must be True or False")
        params = {"limit": str(page_size), "sortOrderByTime": sort}
        if status is not None:
            params["status"] = InvocationStatus.known(status if isinstance(status, str) else str(status), "status").value
        if prefix is not None:
            if not isinstance(prefix, str) or not prefix or len(prefix) > 128:
                raise InvalidArgumentError("prefix", prefix, "must be a non-empty string of at most 128 characters")
            params["invocationIdPrefix"] = prefix
        begin, end = _epoch_ms("started_after", started_after), _epoch_ms("started_before", started_before)
        if begin is not None:
            params["startedTimeBegin"] = str(begin)
        if end is not None:
            params["startedTimeEnd"] = str(end)
        if begin is not None and end is not None and begin > end:
            raise InvalidArgumentError("started_after", started_after, "must not be later than started_before")
        if include_payload:
            params["includePayload"] = "true"
        return params

    def stop_stateful_async_invocation(
        self, service_name: str, function_name: str, invocation_id: str, qualifier: Optional[str] = None
    ) -> str:
        """StopStatefulAsyncInvocation; returns FC's request id."""
        ref = InvocationRef(service_name=service_name, function_name=function_name,
                            invocation_id=invocation_id, qualifier=qualifier)
        path = invocation_path(ref)
        try:
            response = self._request("PUT", path)
        except BadRequestError as exc:
            # A stop that FC applied but answered too slowly is retried, and the retry is told the
            # task is already finished: that retry's "already stopped" means our stop worked. A first
            # attempt told so still fails: the caller stopped something that had already ended.
            if exc.code == "InvalidArgument" and getattr(exc, "attempts", 1) > 1 and self.get(ref).status in (
                InvocationStatus.STOPPED, InvocationStatus.STOPPING
            ):
                return exc.request_id or ""
            raise
        return (request_id_of(response) or "")

    def invoke_async(
        self,
        service_name: str,
        function_name: str,
        payload: Union[bytes, str, None] = None,
        *,
        qualifier: Optional[str] = None,
        invocation_id: Optional[str] = None,
    ) -> str:
        """InvokeFunction with ``X-Fc-Invocation-Type: Async``; returns the stateful invocation id.

        Not retried on errors after the request was sent: a second start could run the task twice.
        """
        if invocation_id is not None:
            InvocationRef(service_name=service_name, function_name=function_name,
                          invocation_id=invocation_id, qualifier=qualifier)
        path = function_path(service_name, function_name, qualifier) + "/invocations"
        body = payload.encode("utf-8") if isinstance(payload, str) else (payload or b"")
        headers = {"X-Fc-Invocation-Type": "Async"}
        if invocation_id:
            headers["X-Fc-Stateful-Async-Invocation-Id"] = invocation_id
        try:
            response = self._request("POST", path, body=body, extra_headers=headers,
                                     content_type="application/octet-stream")
        finally:
            del body, payload  # not left in this frame for a traceback that captures locals
        return response.headers.get("X-Fc-Stateful-Async-Invocation-Id") or invocation_id or ""
