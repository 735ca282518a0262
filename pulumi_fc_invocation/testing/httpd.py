"""The emulator's HTTP server: threads, keep-alive, bounded bodies, one ``send`` per answer.

A ``ThreadingHTTPServer`` on loopback, HTTP/1.1 keep-alive, one thread per connection (at most
``max_connections``; a connection idle or slow to send for ``connection_timeout`` is closed, and
bodies, chunked or not, are bounded), TCP_NODELAY, and each response written with a single ``send``
(status line, headers and body built as one bytes object), so a keep-alive read costs well under
2 ms. It knows nothing of FC: each parsed :class:`~.responses.Request` goes to the ``answer``
callable (``server.FcEmulator`` handles and logs it), and the ``Date`` header comes from ``now`` (the
emulator's clock). ``close_connections()`` shuts down every open connection, idle keep-alive ones too.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from .responses import Request, Response

__all__ = ["EmulatorHttpServer", "MAX_BODY", "CONNECTION_TIMEOUT", "MAX_CONNECTIONS", "reset_connection",
           "shutdown_connection"]

MAX_BODY = 32 * 1024 * 1024
MAX_CHUNK_LINE = 1024  # a chunk-size line (hex size and extensions); real ones are a few bytes
MAX_TRAILERS = 64
CONNECTION_TIMEOUT = 10.0  # seconds a connection may sit idle or take to send a request
MAX_CONNECTIONS = 128
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")


class _BadRequest(Exception):
    """A request the emulator refuses to read further: answered 400 and the connection closed."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)



class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "fc-emulator"
    sys_version = ""
    server: "EmulatorHttpServer"

    def log_message(self, format: str, *args: Any) -> None:  # the request log replaces stderr noise
        pass

    def setup(self) -> None:
        # typeshed makes timeout a ClassVar; socketserver reads it from the instance, per connection here.
        self.timeout = self.server.connection_timeout  # type: ignore[misc]  # idle, or slow to send a request
        super().setup()

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
        except _BadRequest as exc:
            self.close_connection = True
            self._write(Response(400, [("Content-Type", "application/json")],
                                 json.dumps({"ErrorCode": exc.code, "ErrorMessage": exc.message}).encode()))
            return
        self.server.set_busy(self.connection, True)
        try:
            self._answer(body)
        finally:
            self.server.set_busy(self.connection, False)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            raise _BadRequest("EntityTooLarge", "bad or too large Content-Length")
        return self.rfile.read(length) if length else b""

    def _answer(self, body: bytes) -> None:
        # The answer is logged before it is sent (and before a latency fault's sleep), so a client that got
        # an answer, or timed out waiting for one, always finds its request in the log.
        response = self.server.answer(Request(self.command, self.path, dict(self.headers.items()), body))
        if response.latency:
            self.server.stopping.wait(response.latency)
        if response.reset:
            self.close_connection = True
            reset_connection(self.connection)
        else:
            self._write(response)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _dispatch

    def _line(self, what: str) -> bytes:
        line = self.rfile.readline(MAX_CHUNK_LINE + 1)
        if len(line) > MAX_CHUNK_LINE:
            raise _BadRequest("EntityTooLarge", f"{what} longer than {MAX_CHUNK_LINE} bytes")
        if not line.endswith(b"\n"):
            raise _BadRequest("InvalidArgument", f"chunked body cut off in a {what}")
        return line

    def _read_chunked(self) -> bytes:
        """A chunked body, within MAX_BODY in all and MAX_CHUNK_LINE per size line; 400 otherwise."""
        chunks: list[bytes] = []
        total = 0
        while True:
            size_text = self._line("chunk-size line").split(b";")[0].strip()
            if not _CHUNK_SIZE.fullmatch(size_text):
                raise _BadRequest("InvalidArgument", "malformed chunk size")
            size = int(size_text, 16)
            total += size
            if total > MAX_BODY:
                raise _BadRequest("EntityTooLarge", f"chunked body larger than {MAX_BODY} bytes")
            if size == 0:
                for _ in range(MAX_TRAILERS):
                    if self._line("trailer") in (b"\r\n", b"\n"):
                        return b"".join(chunks)
                raise _BadRequest("InvalidArgument", f"more than {MAX_TRAILERS} trailer lines")
            data = self.rfile.read(size)
            if len(data) < size:
                raise _BadRequest("InvalidArgument", "chunked body cut off in a chunk")
            chunks.append(data)
            if self._line("chunk end") not in (b"\r\n", b"\n"):
                raise _BadRequest("InvalidArgument", "a chunk is longer than its size")

    def _write(self, response: Response) -> None:
        body = response.body
        declared = len(body)
        if response.truncate:
            declared = len(body) + max(16, len(body))  # promise more than will ever come
            body = body[: len(body) // 2]
            self.close_connection = True
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [f"HTTP/1.1 {response.status} {reason}"]
        lines += [f"{name}: {value}" for name, value in response.headers]
        lines.append(f"Date: {formatdate(self.server.now(), usegmt=True)}")  # on FC's clock
        lines.append(f"Content-Length: {declared}")
        lines.append("Connection: close" if self.close_connection else "Connection: keep-alive")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        payload = head if self.command == "HEAD" else head + body
        try:
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True




@dataclass
class _Connection:
    thread: threading.Thread
    since: float
    busy: bool = False  # a request is being answered: not to be evicted


class EmulatorHttpServer(ThreadingHTTPServer):
    """One thread per connection, at most ``max_connections`` at once.

    At the cap, the connection idle the longest (waiting for, or slowly receiving, a request) is
    closed to make room, so sockets held open by one client never lock another out; when every
    connection is busy answering, the new one gets a 503 and is closed.
    """

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], answer: Callable[[Request], Response], *, now: Callable[[], float],
                 stopping: threading.Event, max_connections: int = MAX_CONNECTIONS,
                 connection_timeout: float = CONNECTION_TIMEOUT) -> None:
        self.answer = answer
        self.now = now
        self.stopping = stopping  # set when the emulator stops: a latency fault's sleep ends at once
        self.max_connections = max_connections
        self.connection_timeout = connection_timeout
        self.accepted = 0  # connections accepted
        self._conn_lock = threading.Lock()
        self._open: dict[socket.socket, _Connection] = {}
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self._serve_connection, args=(request, client_address),
                                  name=f"fc-emulator-conn-{client_address[1]}", daemon=True)
        victim = None
        with self._conn_lock:
            if len(self._open) >= self.max_connections:
                idle = [(conn.since, sock) for sock, conn in self._open.items() if not conn.busy]
                if not idle:
                    self._refuse(request)
                    return
                victim = min(idle, key=lambda item: item[0])[1]
                del self._open[victim]
            self.accepted += 1
            self._open[request] = _Connection(thread, time.monotonic())
        if victim is not None:
            shutdown_connection(victim)
        thread.start()

    def _refuse(self, request: socket.socket) -> None:
        body = b'{"ErrorCode":"ResourceThrottled","ErrorMessage":"too many connections to the emulator"}'
        try:
            request.settimeout(0.2)
            request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                            b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        except OSError:
            pass
        self.shutdown_request(request)

    def set_busy(self, sock: socket.socket, busy: bool) -> None:
        with self._conn_lock:
            conn = self._open.get(sock)
            if conn is not None:
                conn.busy = busy
                conn.since = time.monotonic()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._conn_lock:
                self._open.pop(request, None)

    def close_connections(self) -> list[threading.Thread]:
        with self._conn_lock:
            items = list(self._open.items())
        for sock, _ in items:
            shutdown_connection(sock)
        return [conn.thread for _, conn in items]


def reset_connection(sock: socket.socket) -> None:
    """Close abruptly: an RST (SO_LINGER 0) instead of an orderly FIN, as a dropped connection looks."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


def shutdown_connection(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass

