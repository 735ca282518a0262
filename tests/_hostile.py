"""A raw-socket server on loopback that answers however a test scripts it (redirects, gzip bombs,
endless pages, hangs), recording every request's bytes. Bounded: every socket has a timeout and
``__exit__`` closes everything and joins every thread."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from typing import Callable, Optional


@dataclass
class Seen:
    head: bytes
    body: bytes

    @property
    def request_line(self) -> str:
        return self.head.split(b"\r\n", 1)[0].decode("latin-1")

    def header(self, name: str) -> Optional[str]:
        for line in self.head.decode("latin-1").split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None


def http_response(status: int = 200, body: bytes = b"{}", headers: Optional[dict] = None,
                  reason: str = "X") -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if not any(k.lower() == "content-length" for k in (headers or {})):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def byte_before_timeout(conn: socket.socket, stop: threading.Event, after: float) -> None:
    """A kept-alive 200 whose body (500 bytes declared) sends one byte ``after`` seconds in, just before
    a read timeout, then nothing until ``stop`` (3 s at most)."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n")
    if not stop.wait(after):
        conn.sendall(b"{")
        stop.wait(3)


class HostileServer:
    """``answer(seen, conn)`` writes the reply on ``conn`` (or returns bytes to send); default 404."""

    def __init__(self, answer: Callable[[Seen, socket.socket], Optional[bytes]]) -> None:
        self.answer = answer
        self.seen: list[Seen] = []
        self.stop = threading.Event()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        self.port = self._sock.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "HostileServer":
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for conn in list(self._conns):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._sock.close()
        for thread in self._threads:
            thread.join(5)

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        with conn:
            data = b""
            try:
                while b"\r\n\r\n" not in data and len(data) < 1 << 20:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                seen = Seen(head, body)
                length = int(seen.header("Content-Length") or 0)
                while len(seen.body) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    seen.body += chunk
                self.seen.append(seen)
                reply = self.answer(seen, conn)
                if isinstance(reply, (bytes, bytearray)) and reply:  # an answer may send itself and return True
                    conn.sendall(reply)
            except OSError:
                return
