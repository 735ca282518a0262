"""A tiny in-process HTTP server answering from a script, recording every request it gets.

Used where the emulator cannot stand in: checking the exact bytes the client sends, and answering
with arbitrary status codes, headers and bodies.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"{}"
    headers: dict = field(default_factory=dict)


class ScriptedServer:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.replies: list[Reply] = []
        self.default = Reply(404, b'{"ErrorCode":"PathNotSupported","ErrorMessage":"no script"}')
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                outer.requests.append(Recorded(self.command, parts.path, parse_qs(parts.query),
                                               {k: v for k, v in self.headers.items()}, body))
                reply = outer.replies.pop(0) if outer.replies else outer.default
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", "X-Fc-Request-Id": f"req-{len(outer.requests)}"}
                headers.update(reply.headers)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_PUT = do_POST = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def reply(self, status: int = 200, body: bytes | str = b"{}", **headers: str) -> "ScriptedServer":
        self.replies.append(Reply(status, body.encode() if isinstance(body, str) else body, headers))
        return self

    def __enter__(self) -> "ScriptedServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
