"""Reading an HTTP answer's body within a size cap and a deadline, whatever the urllib3 version.

One place for the caps of every answer the package reads: FC's (the transport) and those of STS, the
ECS metadata service and a credentials URI (the credentials). urllib3 before 2.6 decodes a whole gzip
body at once, so a few hundred KiB on the wire became hundreds of MiB in memory; here the body is read
raw and decoded by zlib with ``max_length``, so a bomb's output is never built.
"""

from __future__ import annotations

import time
import zlib
from typing import Any

import requests
import urllib3

__all__ = ["read_body", "BodyTooLarge", "BodyTimeout", "DeadlineExceeded"]


class BodyTooLarge(Exception):
    """The body passed the cap (``encoded``: once decoded); the caller raises its own classified error."""

    def __init__(self, encoded: bool) -> None:
        super().__init__("the answer's body is over the cap" + (" once decoded" if encoded else ""))
        self.encoded = encoded


class BodyTimeout(requests.exceptions.ReadTimeout):
    """The socket timed out in the middle of a body: worth another attempt for an idempotent read."""


class DeadlineExceeded(requests.exceptions.ReadTimeout):
    """The body did not complete before the call's deadline: no time is left for another attempt."""


class _Decoder:
    """Decodes a ``Content-Encoding`` (we only ask for gzip and deflate), never producing more than
    it is allowed to: zlib's ``max_length`` keeps a bomb's output from ever being built."""

    def __init__(self, encoding: str) -> None:
        if encoding in ("gzip", "x-gzip"):
            self._wbits = 16 + zlib.MAX_WBITS
        elif encoding == "deflate":
            self._wbits = zlib.MAX_WBITS | 32  # zlib-wrapped; raw deflate is tried on the first error
        else:
            raise requests.exceptions.ContentDecodingError(f"unsupported Content-Encoding {encoding[:40]!r}")
        self._encoding = encoding
        self._zlib = zlib.decompressobj(self._wbits)
        self._started = False

    def feed(self, data: bytes, room: int) -> bytes:
        """Up to ``room`` bytes of output (``room`` bytes means: more was waiting)."""
        try:
            out = self._zlib.decompress(data, room)
        except zlib.error:
            if self._encoding != "deflate" or self._started:
                raise requests.exceptions.ContentDecodingError("the compressed body is corrupt") from None
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as some servers send
            out = self._zlib.decompress(data, room)
        self._started = True
        while self._zlib.eof and self._zlib.unused_data and len(out) < room:  # another gzip member
            rest, self._zlib = self._zlib.unused_data, zlib.decompressobj(self._wbits)
            out += self._zlib.decompress(rest, room - len(out))
        return out


def read_body(response: Any, deadline: float, limit: int) -> bytes:
    """The body of a ``stream=True`` answer: at most ``limit`` bytes once decoded (the decoder is never
    asked for more; past it: :class:`BodyTooLarge`), given up once ``deadline`` (``time.monotonic()``)
    has passed (:class:`DeadlineExceeded`; a socket timeout before it: :class:`BodyTimeout`).

    Other failures are mapped as ``Response.iter_content`` maps them; the response is closed on any.
    """
    raw = response.raw
    encoding = (response.headers.get("Content-Encoding") or "").strip().lower()
    declared = response.headers.get("Content-Length", "")
    if not encoding and declared.isdigit() and int(declared) > limit:
        response.close()
        raise BodyTooLarge(False)
    decoder = _Decoder(encoding) if encoding not in ("", "identity") else None
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            data = raw.read1(65536, decode_content=False)
            if not data:
                break
            if decoder is not None:
                data = decoder.feed(data, limit + 1 - size)
            size += len(data)
            if size > limit:
                response.close()
                raise BodyTooLarge(decoder is not None)
            chunks.append(data)
            if time.monotonic() > deadline:
                response.close()
                raise DeadlineExceeded("the answer did not complete within the call's time budget")
    except urllib3.exceptions.ProtocolError as exc:
        response.close()
        raise requests.exceptions.ChunkedEncodingError(exc) from None
    except urllib3.exceptions.DecodeError as exc:
        response.close()
        raise requests.exceptions.ContentDecodingError(exc) from None
    except urllib3.exceptions.ReadTimeoutError:
        response.close()
        if time.monotonic() >= deadline - 0.01:
            raise DeadlineExceeded("the answer did not complete within the call's time budget") from None
        raise BodyTimeout("the answer stopped in the middle of its body") from None
    except urllib3.exceptions.SSLError as exc:
        response.close()
        raise requests.exceptions.SSLError(exc) from None
    return b"".join(chunks)
