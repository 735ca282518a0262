"""Scripted faults: what a flaky network, a throttling FC or a misbehaving proxy does to a request.

Each :class:`Fault` applies to one route (``get``, ``list``, ``invoke``, ``stop``, FC 3.0's
``async_config``, or ``*``) of every API revision, or of one (``api="2023-03-30"``, ``"2021-04-06"``
or ``"2016-08-15"``), optionally to one invocation (task) id, for ``times`` requests (``None``: forever).
Error answers use the body format of the revision asked. Faults are consumed in the order
they were injected, so "the first two reads get 503, then it answers" is two ``times=1`` faults or one
``times=2`` fault.

Kinds (combinable where it makes sense):

- error status (``status``/``code``): an FC error body, optional ``Retry-After``. The request is
  not processed (an invoke creates nothing). A ``code`` alone answers the status FC gives it
  (:data:`~.codes.STATUS_FOR_CODE`); a code not listed there needs its ``status``.
- ``body``: raw bytes (e.g. a proxy's HTML page) with ``status`` (default 502); not processed.
- ``reset``: the connection is closed abruptly (RST via SO_LINGER 0) without a response; not processed.
- ``latency``: real seconds slept before answering (read-timeout tests). The request is processed
  first and only the answer is late, as with a slow network: a timed-out invoke or stop did happen.
  Then answered normally, unless another kind in the same fault applies.
- ``truncate``: the real answer is processed and sent with a ``Content-Length`` larger than the
  bytes sent, then the connection is closed (an invoke *does* create the invocation: the client
  cannot know whether it worked, which is the point).
- ``extra_fields``: merged into a successful JSON body (new API fields a client must ignore).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from .codes import STATUS_FOR_CODE
from .urls import API_REVISIONS

__all__ = ["Fault", "FaultQueue", "ROUTES", "DEFAULT_CODES"]

ROUTES = ("get", "list", "invoke", "stop", "async_config", "*")

DEFAULT_CODES = {
    400: "InvalidArgument",
    403: "AccessDenied",
    404: "PathNotSupported",
    409: "ConcurrentUpdateError",
    429: "ResourceExhausted",
    500: "InternalServerError",
    502: "InternalServerError",
    503: "ResourceThrottled",
    504: "InternalServerError",
}


@dataclass
class Fault:
    route: str = "*"
    status: Optional[int] = None
    code: Optional[str] = None
    message: Optional[str] = None
    retry_after: Optional[float] = None
    times: Optional[int] = 1
    latency: Optional[float] = None
    reset: bool = False
    body: Union[bytes, str, None] = None  # text is kept UTF-8 encoded
    content_type: Optional[str] = None
    truncate: bool = False
    extra_fields: Optional[dict[str, Any]] = None
    match: Optional[str] = None
    api: Optional[str] = None
    used: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.route not in ROUTES:
            raise ValueError(f"route must be one of {ROUTES}, not {self.route!r}")
        if self.api is not None and self.api not in API_REVISIONS:
            raise ValueError(f"api must be one of {API_REVISIONS} or None (all), not {self.api!r}")
        if self.times is not None and (not isinstance(self.times, int) or self.times < 1):
            raise ValueError("times must be a positive integer or None (forever)")
        if self.latency is not None and (not isinstance(self.latency, (int, float)) or self.latency < 0):
            raise ValueError("latency must be a number of seconds >= 0")
        if isinstance(self.body, str):
            self.body = self.body.encode("utf-8")
        if self.extra_fields is not None and not isinstance(self.extra_fields, dict):
            raise ValueError("extra_fields must be a dict")
        if self.status is None:
            if self.body is not None:
                self.status = 502
            elif self.code is not None:
                if self.code not in STATUS_FOR_CODE:
                    raise ValueError(f"code {self.code!r} is not one of FC's error codes the emulator knows "
                                     "(testing/codes.py STATUS_FOR_CODE): give status= with it")
                self.status = STATUS_FOR_CODE[self.code]
            elif not (self.latency or self.reset or self.truncate or self.extra_fields):
                self.status = 503
        if self.status is not None and not 100 <= int(self.status) <= 599:
            raise ValueError(f"status must be an HTTP status code, not {self.status!r}")
        if self.status is not None and self.body is None and self.code is None and self.status >= 400:
            self.code = DEFAULT_CODES.get(self.status, "InternalServerError" if self.status >= 500 else "InvalidArgument")

    @property
    def is_error(self) -> bool:
        """Answers instead of the API (error status or raw body); the request is not processed."""
        return self.body is not None or (self.status is not None and self.status >= 300)


class FaultQueue:
    """Thread-safe ordered faults; ``take`` consumes one use of the first matching fault."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, route: str, invocation_id: Optional[str], api: Optional[str] = None) -> Optional[Fault]:
        with self._lock:
            for fault in self._faults:
                if fault.route not in ("*", route):
                    continue
                if fault.api is not None and fault.api != api:
                    continue
                if fault.match is not None and fault.match != invocation_id:
                    continue
                fault.used += 1
                if fault.times is not None and fault.used >= fault.times:
                    self._faults.remove(fault)
                return fault
        return None
