""":class:`FcEmulator`, the object tests and the CLI use, and its request log (:class:`RequestRecord`).

The facade over the backend (``models``), the API revisions (``responses``), the faults and the
access keys, served by ``httpd.EmulatorHttpServer`` on loopback. ``stop()`` closes the listening
socket, shuts down every open connection (idle keep-alive ones too) and joins all threads: no
thread or socket outlives the ``with`` block.
"""

from __future__ import annotations

import collections
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Union

from ..credentials import Credentials
from .clock import Clock, make_clock
from .faults import Fault, FaultQueue
from .httpd import CONNECTION_TIMEOUT, MAX_CONNECTIONS, EmulatorHttpServer
from .keys import KeyStore
from .models import TASK_RETENTION, FcBackend, Function, Invocation, InvocationState, Script
from .models.backend import PayloadRule
from .responses import FcResponses, Request, Response
from .urls import FC3

__all__ = ["FcEmulator", "RequestRecord", "DEFAULT_ACCESS_KEY_ID", "DEFAULT_ACCESS_KEY_SECRET", "DEFAULT_ACCOUNT_ID",
           "MAX_LOGGED_REQUESTS", "MAX_LOGGED_TEXT"]

DEFAULT_ACCOUNT_ID = "1234567890123456"
DEFAULT_REGION = "cn-hangzhou"
DEFAULT_ACCESS_KEY_ID = "LTAIfcEmulatorKey01"
DEFAULT_ACCESS_KEY_SECRET = "fc-emulator-secret-for-tests-only"
# The request log keeps the newest MAX_LOGGED_REQUESTS records (a 1,000-gate benchmark makes about 15,000
# requests) and, of each, at most MAX_LOGGED_TEXT characters of the path, of the query (keys and values
# together, at most MAX_LOGGED_QUERY_KEYS keys) and of each id the client chose: a record holds at most
# a few KiB, where a path alone could be 64 KiB (2,000 such requests held 114 MiB).
MAX_LOGGED_REQUESTS = 20_000
MAX_LOGGED_TEXT = 1024
MAX_LOGGED_QUERY_KEYS = 32


@dataclass(frozen=True)
class RequestRecord:
    """One request the emulator saw (``status`` is None when a fault reset the connection)."""

    method: str
    path: str
    query: dict[str, str]
    route: Optional[str]
    status: Optional[int]
    access_key_id: Optional[str]
    invocation_id: Optional[str] = None
    request_id: str = ""
    fault: bool = False
    time: float = field(default=0.0, compare=False)
    api: str = "2016-08-15"  # the API revision: "2016-08-15", "2021-04-06" or "2023-03-30"
    truncated: bool = False  # the path, query or an id was longer than the log keeps (MAX_LOGGED_TEXT)
    # When the request came on the emulator's own clock (virtual or real): what a poll schedule is
    # measured against (``time`` is the wall clock, which a virtual clock's waits never advance).
    at: float = field(default=0.0, compare=False)


def _cut(text: Optional[str]) -> tuple[Optional[str], bool]:
    if text is None or len(text) <= MAX_LOGGED_TEXT:
        return text, False
    return text[:MAX_LOGGED_TEXT], True


def _cut_query(query: dict[str, str]) -> tuple[dict[str, str], bool]:
    """The query's first keys and values, MAX_LOGGED_TEXT characters in all; True if any was cut."""
    kept: dict[str, str] = {}
    room = MAX_LOGGED_TEXT
    for key, value in query.items():
        if len(kept) == MAX_LOGGED_QUERY_KEYS or len(key) + len(value) > room:
            return kept, True
        kept[key] = value
        room -= len(key) + len(value)
    return kept, False


class FcEmulator:
    """A local Function Compute for async tasks: APIs 2016-08-15, 2021-04-06 and 2023-03-30 (FC 3.0).

    ``with FcEmulator(clock="virtual") as fc:`` starts an HTTP server on a free loopback port;
    point a client at ``fc.endpoint`` with ``fc.account_id`` and ``fc.credentials``. Register
    functions with :meth:`add_function`, seed tasks with :meth:`add_invocation`, move time with
    :meth:`advance`, break things with :meth:`inject_fault`, and inspect :attr:`requests`.
    See the package docstring for the payload directive and the scenario format.

    ``retention``: seconds a task's record is kept after it starts, FC's 7 days by default; past
    it the task is forgotten on every API revision, as FC forgets it (``None``: keep every task).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        account_id: str = DEFAULT_ACCOUNT_ID,
        region: str = DEFAULT_REGION,
        access_key_id: str = DEFAULT_ACCESS_KEY_ID,
        access_key_secret: str = DEFAULT_ACCESS_KEY_SECRET,
        security_token: Optional[str] = None,
        clock: Union[str, Clock, None] = "real",
        scenario: Union[str, os.PathLike, dict, None] = None,
        max_skew: float = 900.0,
        on_request: Optional[Callable[[RequestRecord], None]] = None,
        connection_timeout: float = CONNECTION_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
        retention: Optional[float] = TASK_RETENTION,
        max_logged_requests: int = MAX_LOGGED_REQUESTS,
    ) -> None:
        if isinstance(connection_timeout, bool) or not isinstance(connection_timeout, (int, float)) \
                or not 0 < connection_timeout < float("inf"):
            raise ValueError(f"connection_timeout must be a positive number of seconds, not {connection_timeout!r}")
        if isinstance(max_connections, bool) or not isinstance(max_connections, int) or max_connections < 1:
            raise ValueError(f"max_connections must be a positive integer, not {max_connections!r}")
        if isinstance(max_logged_requests, bool) or not isinstance(max_logged_requests, int) \
                or max_logged_requests < 1:
            raise ValueError(f"max_logged_requests must be a positive integer, not {max_logged_requests!r}")
        self.connection_timeout = float(connection_timeout)
        self.max_connections = max_connections
        self.host = host
        self.port = port
        self.account_id = account_id
        self.region = region
        self.clock: Clock = make_clock(clock)
        self.credentials = Credentials(access_key_id, access_key_secret, security_token)
        data = None
        if scenario is not None:
            from .scenario import load_scenario

            data = load_scenario(scenario)
            retention = data.get("retention", retention)  # a scenario's own retention wins
        self.backend = FcBackend(self.clock, retention=retention)
        self.keys = KeyStore()
        self.keys.add(access_key_id, access_key_secret, security_token)
        self.faults = FaultQueue()
        self._api = FcResponses(self.backend, self.keys, self.faults, account_id, max_skew=max_skew, region=region)
        self._requests: "collections.deque[RequestRecord]" = collections.deque(maxlen=max_logged_requests)
        self._requests_dropped = 0
        self._request_counts: "collections.Counter[Optional[str]]" = collections.Counter()
        self._requests_lock = threading.Lock()
        self._on_request = on_request
        self._stopping = threading.Event()
        self._accepted = 0  # connections accepted by servers already stopped
        self._server: Optional[EmulatorHttpServer] = None
        self._thread: Optional[threading.Thread] = None
        if data is not None:
            from .scenario import apply_scenario

            apply_scenario(self, data)

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> "FcEmulator":
        if self._server is not None:
            raise RuntimeError("FcEmulator already started")
        self._stopping.clear()
        self._server = EmulatorHttpServer((self.host, self.port), self._answer, now=self.clock.now,
                                          stopping=self._stopping, max_connections=self.max_connections,
                                          connection_timeout=self.connection_timeout)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fc-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving: close the listener and every connection, join every thread."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        self._accepted += server.accepted
        server.shutdown()
        server.server_close()
        deadline = time.monotonic() + timeout
        for thread in server.close_connections():
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.monotonic()))
            self._thread = None

    def __enter__(self) -> "FcEmulator":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("FcEmulator is not started: use `with FcEmulator() as fc:` or fc.start()")
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    def __repr__(self) -> str:
        where = self.endpoint if self.running else "not started"
        return (f"FcEmulator({where}, account_id={self.account_id!r}, region={self.region!r}, "
                f"access_key_id={self.credentials.masked_key_id!r}, clock={self.clock!r})")

    # --- setup ----------------------------------------------------------------------------------

    def add_function(self, service: Optional[str], function: str, qualifiers: Iterable[str] = ("LATEST",), *,
                     outcome: str = "Succeeded", duration: float = 1.0, queue_delay: float = 0.0,
                     error_message: Optional[str] = None, return_payload: Optional[str] = None,
                     retries: int = 0, retry_delay: float = 1.0, stop_delay: float = 0.0,
                     destination: bool = False, async_task: bool = True,
                     fail_on_payload: Optional[PayloadRule] = None, fail_first: Optional[int] = None) -> Function:
        """Register (or redefine) a function and the script its async invocations follow.

        ``service=None`` registers an FC 3.0 function (served by the 2023-03-30 API only); a 2.0
        function is served by all three revisions, named ``service$function`` through FC 3.0.
        ``async_task=False``: the function's task mode is off, as before FC's PutAsyncInvokeConfig
        ``{"asyncTask": true}``: async invokes run but leave no task to read (see ``models``).

        Runs that fail by rule, for a retry with the same payload: ``fail_first=1`` makes the first
        async invocation end ``Failed`` and the later ones follow the script; ``fail_on_payload``
        (a string matched exactly, or a callable ``payload -> bool``) fails the invocations with that
        payload (only the first ``fail_first`` of them when both are given). The returned
        :class:`~.models.Function` counts ``runs`` (async invocations accepted; a 409 is none) and
        ``failed_runs``.
        """
        script = Script(outcome=outcome, duration=duration, queue_delay=queue_delay, error_message=error_message,
                        return_payload=return_payload, retries=retries, retry_delay=retry_delay,
                        stop_delay=stop_delay, destination=destination)
        return self.backend.add_function(service, function, qualifiers, script, async_task,
                                         fail_on_payload=fail_on_payload, fail_first=fail_first)

    def add_invocation(self, service: Optional[str], function: str, invocation_id: str, **kwargs: Any) -> Invocation:
        """Seed an invocation; see :meth:`FcBackend.add_invocation` (``timeline``, ``payload``,
        ``return_payload``, ``error_message``, ``started_at`` epoch seconds, script overrides)."""
        return self.backend.add_invocation(service, function, invocation_id, **kwargs)

    def add_credentials(self, access_key_id: str, access_key_secret: str, security_token: Optional[str] = None,
                        expired: bool = False, *, expires_at: Optional[float] = None) -> Credentials:
        """Accept another key, optionally an STS token; returns it as :class:`Credentials`.

        This is how a stand-in STS (or metadata server) registers the credentials it issues: pass
        ``expires_at``, epoch seconds on this emulator's clock (``fc.clock.now() + duration``).
        From that instant on (``fc.advance`` past it with a virtual clock), requests signed with
        the key answer 403 ``SecurityTokenExpired`` on every API revision: 2016-08-15 and 2021-04-06
        with FC 2.0's body (``ErrorCode``/``ErrorMessage``; 2021-04-06 adds ``Code``/``Message``),
        2023-03-30 with ``{"Code", "Message", "RequestId"}``. ``expired=True`` means expired
        already. Registering the same key id again replaces it (a refresh).
        A key with a token must send it (``X-Fc-Security-Token`` / ``x-acs-security-token``),
        one without must not: else 403 ``InvalidSecurityToken``.
        """
        self.keys.add(access_key_id, access_key_secret, security_token, expired, expires_at)
        return Credentials(access_key_id, access_key_secret, security_token)

    def remove_credentials(self, access_key_id: str) -> bool:
        """Stop accepting a key (then 403 ``InvalidAccessKeyID``); False when it was unknown."""
        return self.keys.remove(access_key_id)

    def set_async_task(self, service: Optional[str], function: str, enabled: bool = True) -> Function:
        """Switch a function's task mode, as FC's PutAsyncInvokeConfig ``asyncTask`` does."""
        return self.backend.set_async_task(service, function, enabled)

    @property
    def fc3_payload_on_get(self) -> bool:
        """Whether FC 3.0's GetAsyncTask answers ``taskPayload`` (True, the default). FC3-API.md documents
        ``taskPayload`` as the task's input, listed only with ``includePayload``; set False to leave it out
        of GetAsyncTask, so a client that falls back to ListAsyncTasks with ``includePayload`` is tested too.
        FC 2.0's Get always answers ``invocationPayload`` (FC-API.md)."""
        return bool(self._api.revisions[FC3].payload_on_get)

    @fc3_payload_on_get.setter
    def fc3_payload_on_get(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise ValueError(f"fc3_payload_on_get must be True or False, not {value!r}")
        self._api.revisions[FC3].payload_on_get = value

    # --- time -----------------------------------------------------------------------------------

    def advance(self, seconds: float) -> float:
        """Move the virtual clock forward; returns the new time (epoch seconds)."""
        return self.clock.advance(seconds)

    def now(self) -> float:
        return self.clock.now()

    @property
    def retention(self) -> Optional[float]:
        """Seconds a task's record is kept after it starts (None: forever); set at construction."""
        return self.backend.retention

    # --- inspection -----------------------------------------------------------------------------

    @property
    def invocations(self) -> list[InvocationState]:
        """Every invocation's state now, in creation order."""
        return self.backend.all_invocations()

    def get_invocation(self, service: Optional[str], function: str, invocation_id: str) -> InvocationState:
        """An invocation's state now; KeyError if there is none."""
        return self.backend.invocation(service, function, invocation_id).state(self.clock.now())

    # --- faults ---------------------------------------------------------------------------------

    def inject_fault(self, route: str = "*", status: Optional[int] = None, code: Optional[str] = None, *,
                     message: Optional[str] = None, retry_after: Optional[float] = None, times: Optional[int] = 1,
                     latency: Optional[float] = None, reset: bool = False, body: Union[bytes, str, None] = None,
                     content_type: Optional[str] = None, truncate: bool = False,
                     extra_fields: Optional[dict[str, Any]] = None, match: Optional[str] = None,
                     api: Optional[str] = None) -> Fault:
        """Queue a fault for the next ``times`` requests of ``route`` (see ``faults.py`` for the kinds).

        ``api`` limits it to one revision (``"2023-03-30"``, ``"2021-04-06"``, ``"2016-08-15"``);
        by default every revision's ``route`` matches. Without any kind, it is a 503 ``ResourceThrottled``.
        """
        return self.faults.add(Fault(route=route, status=status, code=code, message=message, retry_after=retry_after,
                                     times=times, latency=latency, reset=reset, body=body, content_type=content_type,
                                     truncate=truncate, extra_fields=extra_fields, match=match, api=api))

    def clear_faults(self) -> None:
        self.faults.clear()

    # --- request log ----------------------------------------------------------------------------

    def _answer(self, request: Request) -> Response:
        """One request through the API revisions, logged before it is answered."""
        response, info = self._api.handle(request)
        path, cut_path = _cut(request.path)
        query, cut_query = _cut_query(request.query)
        key_id, cut_key = _cut(info.access_key_id)
        invocation_id, cut_id = _cut(info.invocation_id)
        self._record(RequestRecord(
            method=request.method, path=path, query=query, route=info.route,
            status=None if response.reset else response.status, access_key_id=key_id,
            invocation_id=invocation_id, request_id=info.request_id, fault=info.fault, time=time.time(),
            api=info.api, truncated=cut_path or cut_query or cut_key or cut_id, at=self.clock.now(),
        ))
        return response

    def _record(self, record: RequestRecord) -> None:
        with self._requests_lock:
            if len(self._requests) == self._requests.maxlen:
                self._requests_dropped += 1
            self._requests.append(record)
            self._request_counts[record.route] += 1
        if self._on_request is not None:
            try:
                self._on_request(record)
            except Exception:  # a broken callback must not break the server
                pass

    @property
    def requests(self) -> list[RequestRecord]:
        """The newest ``max_logged_requests`` requests since the last :meth:`reset_requests`, oldest
        first; :attr:`requests_dropped` says how many older ones the log let go, and a record's
        ``truncated`` that its path, query or ids were cut to ``MAX_LOGGED_TEXT`` characters."""
        with self._requests_lock:
            return list(self._requests)

    @property
    def max_logged_requests(self) -> int:
        """How many records :attr:`requests` keeps at most (set at construction)."""
        return self._requests.maxlen or 0

    @property
    def requests_dropped(self) -> int:
        """Requests since the last :meth:`reset_requests` that are no longer in :attr:`requests`."""
        with self._requests_lock:
            return self._requests_dropped

    def request_count(self, route: Optional[str] = None) -> int:
        """Requests (of ``route``) since the last :meth:`reset_requests`, those dropped from the log included."""
        with self._requests_lock:
            if route is None:
                return sum(self._request_counts.values())
            return self._request_counts[route]

    def reset_requests(self) -> None:
        with self._requests_lock:
            self._requests.clear()
            self._requests_dropped = 0
            self._request_counts.clear()

    @property
    def connections_accepted(self) -> int:
        """TCP connections accepted since construction (keep-alive reuse shows as few connections)."""
        return self._accepted + (self._server.accepted if self._server is not None else 0)

    # --- convenience ----------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """Environment variables that point this package (and the Alibaba Cloud tools) here.

        Contains the emulator's access key secret, by design: it is a test key.
        """
        values = {
            "FC_INVOCATION_ENDPOINT": self.endpoint,
            "ALIBABA_CLOUD_ACCESS_KEY_ID": self.credentials.access_key_id,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": self.credentials.access_key_secret,
            "ALIBABA_CLOUD_ACCOUNT_ID": self.account_id,
            "ALIBABA_CLOUD_REGION": self.region,
        }
        if self.credentials.security_token:
            values["ALIBABA_CLOUD_SECURITY_TOKEN"] = self.credentials.security_token
        return values

    def stack_config(self) -> dict[str, str]:
        """Pulumi stack config that points the data source here (for ``run_program(config=...)`` or
        ``pulumi config set``). Contains the emulator's test secret: mark ``alicloud:secretKey`` secret."""
        config = {
            "alicloud:accessKey": self.credentials.access_key_id,
            "alicloud:secretKey": self.credentials.access_key_secret,
            "alicloud:accountId": self.account_id,
            "alicloud:region": self.region,
            "fc-invocation:endpoint": self.endpoint,
        }
        if self.credentials.security_token:
            config["alicloud:securityToken"] = self.credentials.security_token
        return config

    def client(self, **kwargs: Any) -> Any:
        """An :class:`~pulumi_fc_invocation.FcClient` for this emulator (kwargs passed through)."""
        from ..client import FcClient

        kwargs.setdefault("endpoint", self.endpoint)
        kwargs.setdefault("account_id", self.account_id)
        kwargs.setdefault("credentials", self.credentials)
        return FcClient(**kwargs)
