"""FcClient: reads (and, for tests and demos, starts and stops) FC's async invocations and tasks.

The calls of both APIs, on one :class:`~.transport.Transport` (retry budget, timeouts, size caps,
classified, redacted errors), since they share the endpoint: FC 2.0's stateful async invocations,
signed with the FC signature (:mod:`.fc2`), and FC 3.0's async tasks, signed with ACS3-HMAC-SHA256
(:mod:`.fc3`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, NoReturn, Optional, TypeVar, Union

from pydantic import BaseModel, ConfigDict, Field

from . import fc3
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
from .fc3 import AsyncTaskPage, AsyncTaskRef, AsyncTaskResult
from .models import InvocationStatus
from .transport import MAX_RESPONSE_BYTES, RETRY_STATUSES, Answer, Timeout, Transport, check_limits, request_id_of
from .transport.bounded import Seconds, bounded_transport

__all__ = ["FcClient", "API_VERSION", "RETRY_STATUSES", "MAX_RESPONSE_BYTES", "MAX_PAGES", "parse_ref",
           "REF_RULE"]

# Far above any real listing (10,000 pages of 100 is a million invocations): a server that keeps
# handing out new tokens ends here instead of never.
MAX_PAGES = 10_000

_Model = TypeVar("_Model", bound=BaseModel)


REF_RULE = ("must be FUNCTION[.QUALIFIER]/TASK_ID (FC 3.0, e.g. transcode.prod/job-123) or "
            "SERVICE[.QUALIFIER]/FUNCTION/INVOCATION_ID (FC 2.0, e.g. video.prod/transcode/video-123)")


def parse_ref(text: Any, argument: str = "id") -> Union[AsyncTaskRef, InvocationRef]:
    """A composite id of either API: two segments are an FC 3.0 task, three an FC 2.0 invocation."""
    segments = text.count("/") + 1 if isinstance(text, str) else 0
    if segments == 2:
        return AsyncTaskRef.parse(text, argument)
    if segments == 3:
        return InvocationRef.parse(text, argument)
    raise InvalidArgumentError(argument, text, REF_RULE)


class _ListPage(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)  # built at the first list call
    invocations: tuple[StatefulAsyncInvocationResult, ...]  # required: a page without it is no list
    next_token: Optional[str] = Field(default=None, alias="nextToken")


# A first page may leave out an empty list (Go's omitempty): read so only when it has no next page either.
class _FirstListPage(_ListPage):
    invocations: tuple[StatefulAsyncInvocationResult, ...] = ()


class _FirstTaskPage(AsyncTaskPage):
    tasks: Optional[tuple[AsyncTaskResult, ...]] = None


def _follow(fetch: Callable[[dict[str, str]], tuple[tuple[Any, ...], Optional[str]]], params: Mapping[str, str],
            limit: Optional[int], max_pages: int, operation: str) -> Iterator[Any]:
    """The items of a listing, page after page; ``limit`` bounds how many are yielded (and each page's
    size); a repeated or cycling ``nextToken``, or more than ``max_pages`` pages, is a PaginationError."""
    remaining = limit
    token: Optional[str] = None
    seen: set[str] = set()
    for page in range(1, max_pages + 1):
        query = dict(params)
        if remaining is not None:
            query["limit"] = str(min(remaining, int(params["limit"])))
        if token:
            query["nextToken"] = token
        items, token = fetch(query)
        for item in items:
            yield item
            if remaining is not None:
                remaining -= 1
                if remaining == 0:
                    return
        if not token:
            return
        if token in seen:
            raise PaginationError(f"{operation}: page {page} gave a nextToken that an earlier page gave: the "
                                  "listing would never end")
        seen.add(token)
    raise PaginationError(f"{operation}: still a nextToken after {max_pages} pages, far more than any real "
                          "listing: stopped")


def _one_page(page: tuple[tuple[Any, ...], Optional[str]], asked: Optional[str], operation: str
              ) -> tuple[tuple[Any, ...], Optional[str]]:
    """A page asked for on its own: one that hands back the token it was asked for would never end."""
    if page[1] is not None and page[1] == asked:
        raise PaginationError(f"{operation}: the page gave back the nextToken it was asked for: the listing "
                              "would never end")
    return page


def _check_paging(limit: Any, max_pages: Any) -> None:
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise InvalidArgumentError("limit", limit, "must be a positive integer or None")
    if not isinstance(max_pages, int) or isinstance(max_pages, bool) or max_pages < 1:
        raise InvalidArgumentError("max_pages", max_pages, "must be a positive integer")


class FcClient:
    """A client for FC's async work: FC 3.0 (API 2023-03-30) async tasks and FC 2.0 (API 2016-08-15)
    stateful async invocations, on one endpoint and one connection pool.

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
        check_limits(timeout, max_retries, retry_budget)  # before any file or environment is read
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
        self._fc3_signers = {action: fc3.acs3_signer(action) for action in fc3.ACTIONS}

    @classmethod
    def from_environment(cls, *, config: Optional[Mapping[str, Any]] = None, **overrides: Any) -> "FcClient":
        """A client from the settings chain; ``config`` maps Pulumi config keys to values."""
        return cls(config=config, **overrides)

    @property
    def credentials(self) -> Credentials:
        return self._credentials

    # A composite id of either API, parsed by the client that reads both (the waiter knows neither).
    parse_ref = staticmethod(parse_ref)

    def bounded(self, seconds: Seconds) -> "FcClient":
        """This client with every call ending within ``seconds`` from now, retries included.

        Each call's attempts are cut to the time left, and a call made after it is over fails at once.
        ``seconds`` may be a function instead, asked at each request for its seconds (None: unbounded).
        Every call already keeps to :func:`~pulumi_fc_invocation.clock.call_budget` (the deadline a
        waiter sets with ``clock.within``), so ``bounded(call_budget)`` is this client itself. Otherwise
        the view is an FcClient on a :class:`~.transport.bounded.BoundedTransport`: it shares this
        client's connections, so closing it (or leaving its ``with``) closes them, as closing this does.
        """
        transport = bounded_transport(self.transport, seconds)
        return self if transport is self.transport else ClientView(self, transport)

    def server_time(self) -> Optional[float]:
        """FC's clock now (epoch seconds), from the ``Date`` of its last answer to this client (or a view of
        it) plus the time since; None before any answer. A task's age is this minus its ``startedTime``:
        this machine's clock may be off FC's."""
        return self.transport.server_time()

    def __repr__(self) -> str:
        return f"FcClient(endpoint={self.endpoint!r}, account_id={self.account_id!r}, credentials={self._credentials!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("FcClient cannot be pickled (it holds credentials and a connection pool)")

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> "FcClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> Answer:
        """An FC 2.0 call: signed with the FC signature."""
        return self._send(self._fc2_signer, method, path, kwargs)

    def _request3(self, action: str, method: str, path: str, **kwargs: Any) -> Answer:
        """An FC 3.0 call: signed with ACS3-HMAC-SHA256, its error bodies read as FC 3.0's."""
        kwargs.setdefault("content_type", None)  # as the official SDK: no Content-Type without a body
        kwargs["error_class"] = fc3.error_class
        return self._send(self._fc3_signers[action], method, path, kwargs)

    def _send(self, signer: Any, method: str, path: str, kwargs: dict[str, Any]) -> Answer:
        try:
            return self.transport.request(method, path, signer=signer, **kwargs)
        except FcInvocationError as exc:
            failure = exc
        # Raised with the arguments (the body: user data) gone from this frame, which the traceback keeps.
        kwargs.clear()
        del kwargs
        raise failure

    def _stopped_late(self, exc: BadRequestError, read: Callable[[], Any]) -> bool:
        """A stop that FC applied but answered too slowly is retried, and the retry is told the task is
        already finished: that retry's "already stopped" means our stop worked. A first attempt told so
        still fails: the caller stopped something that had already ended."""
        return getattr(exc, "attempts", 1) > 1 and read().status in (InvocationStatus.STOPPED,
                                                                     InvocationStatus.STOPPING)

    def _parse(self, response: Answer, model: type[_Model], what: str) -> _Model:
        return self.transport.parse(response, model, what)

    def _parse_page(self, response: Answer, params: Mapping[str, str], model: type[BaseModel],
                    first: type[BaseModel], key: str, what: str) -> Any:
        """A list page. Without its list ``key`` it is an empty listing only as the first page with no
        next page; any other page without it is no list (a listing cut short must not read as ended)."""
        if "nextToken" in params:
            return self._parse(response, model, what)
        page: Any = self._parse(response, first, what)  # a page model: next_token and the list key
        if key not in page.model_fields_set and page.next_token:
            self._parse(response, model, what)  # raises: the body is not a list
        return page

    # --- operations -----------------------------------------------------------------------------

    def get_stateful_async_invocation(
        self, service_name: str, function_name: str, invocation_id: str, qualifier: Optional[str] = None
    ) -> StatefulAsyncInvocationResult:
        """GetStatefulAsyncInvocation."""
        path = invocation_path_of(service_name, function_name, invocation_id, qualifier)
        response = self._request("GET", path)
        return self._parse(response, StatefulAsyncInvocationResult, "an invocation")

    def get(self, ref: Union[InvocationRef, AsyncTaskRef, str]) -> Union[StatefulAsyncInvocationResult, AsyncTaskResult]:
        """Read by reference or composite id: ``fn[.q]/task`` (two segments) is an FC 3.0 task (GetAsyncTask),
        ``svc[.q]/fn/id`` (three) an FC 2.0 invocation (GetStatefulAsyncInvocation)."""
        if isinstance(ref, AsyncTaskRef):
            return self.get_async_task(ref.function_name, ref.task_id, ref.qualifier)
        if not isinstance(ref, InvocationRef):
            ref = parse_ref(ref)
            if isinstance(ref, AsyncTaskRef):
                return self.get_async_task(ref.function_name, ref.task_id, ref.qualifier)
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
        _check_paging(limit, max_pages)
        params = self._list_params(service_name, function_name, qualifier=qualifier, status=status, prefix=prefix,
                                   started_after=started_after, started_before=started_before, sort=sort,
                                   include_payload=include_payload, page_size=page_size)
        path = invocations_path(service_name, function_name, qualifier)
        return _follow(lambda query: self._list_page(path, query), params, limit, max_pages,
                       "ListStatefulAsyncInvocations")

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
        return _one_page(self._list_page(path, params), next_token, "ListStatefulAsyncInvocations")

    def _list_page(self, path: str, params: Mapping[str, str]
                   ) -> tuple[tuple[StatefulAsyncInvocationResult, ...], Optional[str]]:
        page_model = self._parse_page(self._request("GET", path, params=params), params, _ListPage, _FirstListPage,
                                      "invocations", "a list of invocations")
        return page_model.invocations, page_model.next_token or None

    def _list_params(self, service_name: str, function_name: str, *, qualifier: Optional[str] = None,
                     **filters: Any) -> dict[str, str]:
        function_path(service_name, function_name, qualifier)  # validates the names
        # The same filters as FC 3.0's ListAsyncTasks (the qualifier is in the path); only the prefix's name differs.
        params = fc3.list_query(**filters)
        if "prefix" in params:
            params["invocationIdPrefix"] = params.pop("prefix")
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
            if exc.code == "InvalidArgument" and self._stopped_late(exc, lambda: self.get(ref)):
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
    # --- FC 3.0 (2023-03-30) async tasks -------------------------------------------------------

    def get_async_task(self, function_name: str, task_id: str, qualifier: Optional[str] = None) -> AsyncTaskResult:
        """GetAsyncTask."""
        path = fc3.task_path(function_name, task_id)
        response = self._request3("GetAsyncTask", "GET", path, params=fc3.qualifier_query(qualifier))
        return self._parse(response, AsyncTaskResult, "an async task").named(function_name)

    def list_async_tasks(
        self,
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
    ) -> Iterator[AsyncTaskResult]:
        """ListAsyncTasks as an iterator over its pages' tasks, following ``nextToken``; checked and bounded
        as :meth:`list_stateful_async_invocations` is (``limit``, ``max_pages``, ``PaginationError``)."""
        _check_paging(limit, max_pages)
        fc3.validate_function_name(function_name)
        params = fc3.list_query(qualifier=qualifier, status=status, prefix=prefix, started_after=started_after,
                                started_before=started_before, sort=sort, include_payload=include_payload,
                                page_size=page_size)
        return _follow(lambda query: self._list3_page(function_name, query), params, limit, max_pages,
                       "ListAsyncTasks")

    def list_async_tasks_page(
        self, function_name: str, *, next_token: Optional[str] = None, **filters: Any
    ) -> tuple[tuple[AsyncTaskResult, ...], Optional[str]]:
        """One page of ListAsyncTasks: (tasks, next token or None); as :meth:`list_stateful_async_invocations_page`."""
        fc3.validate_function_name(function_name)
        params = fc3.list_query(next_token=next_token, **filters)
        return _one_page(self._list3_page(function_name, params), next_token, "ListAsyncTasks")

    def _list3_page(self, function_name: str, params: Mapping[str, str]
                    ) -> tuple[tuple[AsyncTaskResult, ...], Optional[str]]:
        page = self._parse_page(self._request3("ListAsyncTasks", "GET", fc3.tasks_path(function_name), params=params),
                                params, AsyncTaskPage, _FirstTaskPage, "tasks", "a list of async tasks")
        return tuple(task.named(function_name) for task in page.tasks), page.next_token or None

    def stop_async_task(self, function_name: str, task_id: str, qualifier: Optional[str] = None) -> str:
        """StopAsyncTask; returns FC's request id."""
        path = fc3.stop_path(function_name, task_id)
        query = fc3.qualifier_query(qualifier)
        try:
            response = self._request3("StopAsyncTask", "PUT", path, params=query)
        except BadRequestError as exc:
            if self._stopped_late(exc, lambda: self.get_async_task(function_name, task_id, qualifier)):
                return exc.request_id or ""
            raise
        return request_id_of(response) or ""

    def invoke_async_task(
        self,
        function_name: str,
        payload: Union[bytes, str, None] = None,
        *,
        task_id: Optional[str] = None,
        qualifier: Optional[str] = None,
    ) -> str:
        """InvokeFunction with ``x-fc-invocation-type: Async`` and ``x-fc-async-task-id``; returns the task id.

        Without ``task_id`` one is made here, so the caller always knows it (FC would pick one and might
        not say which). Not retried once sent: a second start could run the task twice. FC 3.0 runs a
        task only on a function with async task mode on (PutAsyncInvokeConfig ``asyncTask: true``).
        """
        path = fc3.invocations_path(function_name)
        query = fc3.qualifier_query(qualifier)
        task_id = fc3.validate_task_id(task_id) if task_id is not None else fc3.new_task_id()
        if payload is not None and not isinstance(payload, (bytes, str)):
            raise InvalidArgumentError("payload", type(payload).__name__, "must be bytes, str or None")
        body = payload.encode("utf-8") if isinstance(payload, str) else (payload or b"")
        headers = {"x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id}
        try:
            response = self._request3("InvokeFunction", "POST", path, params=query, body=body, extra_headers=headers,
                                      content_type="application/octet-stream")
        finally:
            del body, payload  # not left in this frame for a traceback that captures locals
        return response.headers.get("x-fc-async-task-id") or task_id


class ClientView(FcClient):
    """``client`` seen through another transport (:meth:`FcClient.bounded`): a view, not a copy. Not
    built by ``FcClient.__init__`` (nothing is resolved again); every attribute but the transport is the
    client's, so it shares the client's credentials, signers and connections."""

    def __init__(self, client: FcClient, transport: Transport) -> None:
        self.client = client
        self.transport = transport

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

