"""A fixed-response HTTP/1.1 keep-alive server in a separate process, for the read-cost figures.

Every request (any method, any path) gets the same JSON invocation body. One thread per connection,
TCP_NODELAY, each response written with a single ``sendall``. The number of connections accepted is
reported on the control pipe (stdin/stdout), so the parent can read it without opening a connection.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from email.utils import formatdate
from collections.abc import Mapping
from typing import Any, Optional, Union

INVOCATION = {
    "serviceName": "video",
    "functionName": "transcode",
    "qualifier": "prod",
    "invocationId": "video-123",
    "requestId": "1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718",
    "status": "Running",
    "destinationStatus": "",
    "invocationErrorMessage": "",
    "invocationPayload": "{\"video\": \"s3://bucket/in/video-123.mp4\"}",
    "returnPayload": None,
    "alreadyRetriedTimes": 0,
    "startedTime": 1767225600000,
    "endTime": 0,
    "durationMs": None,
    "instanceId": "c-6789abcd-0123456789abcdef",
    "events": [
        {"eventId": 1, "status": "Enqueued", "timestamp": 1767225599000, "eventDetail": ""},
        {"eventId": 2, "status": "Dequeued", "timestamp": 1767225599500, "eventDetail": ""},
        {"eventId": 3, "status": "Running", "timestamp": 1767225600000, "eventDetail": ""},
    ],
}
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BODY = json.dumps(INVOCATION, separators=(",", ":")).encode()


def _response(body: Optional[bytes] = None) -> bytes:
    body = BODY if body is None else body
    head = (
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"Date: {formatdate(usegmt=True)}\r\n"
        "X-Fc-Request-Id: 1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: keep-alive\r\n\r\n"
    )
    return head.encode("latin-1") + body


def _serve_connection(conn: socket.socket, response: bytes) -> None:
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            head, _, buf = buf.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip() or 0)
            while len(buf) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            buf = buf[length:]
            conn.sendall(response)
    except OSError:
        pass
    finally:
        conn.close()


def _serve(listener: socket.socket, response: bytes, counter: list) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        counter[0] += 1
        threading.Thread(target=_serve_connection, args=(conn, response), daemon=True).start()


def main(argv: Optional[list[str]] = None) -> None:
    """Print the port, then answer ``accepted`` / ``reset`` lines on stdin; exit at EOF.

    ``--body-hex HEX``: answer these bytes instead of :data:`BODY`."""
    args = sys.argv[1:] if argv is None else argv
    body = bytes.fromhex(args[1]) if len(args) == 2 and args[0] == "--body-hex" else None
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    counter = [0]
    threading.Thread(target=_serve, args=(listener, _response(body), counter), daemon=True).start()
    print(listener.getsockname()[1], flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "reset":
            counter[0] = 0
        print(counter[0], flush=True)
    listener.close()


class FixedServer:
    """``with FixedServer() as srv:`` -> ``srv.endpoint``, ``srv.port``, ``srv.accepted``.

    ``body``: what every request gets (bytes, text, or a JSON-able object, sent compact); by default
    :data:`BODY`, an FC 2.0 invocation.
    """

    def __init__(self, body: Union[bytes, str, Mapping[str, Any], None] = None) -> None:
        self._proc: Optional[subprocess.Popen] = None
        self.port = 0
        if body is None or isinstance(body, bytes):
            self.body = BODY if body is None else body
        elif isinstance(body, str):
            self.body = body.encode("utf-8")
        else:
            self.body = json.dumps(body, separators=(",", ":")).encode()

    def start(self) -> "FixedServer":
        extra = [] if self.body == BODY else ["--body-hex", self.body.hex()]
        self._proc = subprocess.Popen([sys.executable, "-m", "benchmarks.fixed_server", *extra], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, cwd=_ROOT,
                                      env={**os.environ, "PYTHONPATH": _ROOT})
        assert self._proc.stdout is not None
        self.port = int(self._proc.stdout.readline())
        return self

    def _ask(self, command: str) -> int:
        assert self._proc is not None and self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(command + "\n")
        self._proc.stdin.flush()
        return int(self._proc.stdout.readline())

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> Optional[int]:
        return self._proc.pid if self._proc is not None else None

    @property
    def accepted(self) -> int:
        """TCP connections accepted since start (or the last reset)."""
        return self._ask("accepted")

    def reset_accepted(self) -> None:
        self._ask("reset")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            assert proc.stdin is not None
            proc.stdin.close()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()

    def __enter__(self) -> "FixedServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


if __name__ == "__main__":
    main()
