"""The gRPC server of the plugin: the SDK's experimental servicer, with clean error messages.

The SDK's servicer turns every exception into ``Unexpected <class 'Exception'>: <message>`` plus a
Python traceback, which the engine prints as the resource's error. A gate's verdict is a sentence for
the user, so every RPC here sends this package's errors (:class:`~..errors.FcInvocationError`, the
verdicts included) as a gRPC status carrying the message alone; anything else (a bug) keeps its
traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from typing import Any, Callable, Optional

import grpc
import grpc.aio
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime.proto import provider_pb2_grpc

from ..errors import FcInvocationError
from .provider import FcInvocationProvider

__all__ = ["CleanErrorServicer", "clean_error", "serve", "main", "parse_engine_address"]

# The RPCs the SDK's servicer wraps in its traceback formatter.
RPCS = ("Parameterize", "Invoke", "GetSchema", "CheckConfig", "DiffConfig", "Configure", "Check", "Diff",
        "Create", "Update", "Delete", "Read")
MAX_MESSAGE = 400 * 1024 * 1024  # the engine's own limit for a message (a big schema or batch)
# How long the calls a stop signal cancelled have to answer before the server goes.
STOP_GRACE = 0.5


def clean_error(exc: Optional[BaseException]) -> Optional[FcInvocationError]:
    """This package's error behind ``exc`` (the SDK re-raises it as the context of a plain Exception)."""
    seen = 0
    while exc is not None and seen < 4:
        if isinstance(exc, FcInvocationError):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def _clean(name: str) -> Any:
    parent = getattr(ProviderServicer, name)

    async def rpc(self: ProviderServicer, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await parent(self, request, context)
        except Exception as exc:
            error = clean_error(exc)
            if error is None:
                raise
            await context.abort(grpc.StatusCode.UNKNOWN, str(error))

    rpc.__name__ = name
    return rpc


CleanErrorServicer = type("CleanErrorServicer", (ProviderServicer,), {name: _clean(name) for name in RPCS})
CleanErrorServicer.__doc__ = "The SDK's servicer; this package's errors reach the engine as their message alone."


def parse_engine_address(argv: list[str]) -> Optional[str]:
    """The engine's address among the plugin's arguments (``[flags] <engine address>``)."""
    parser = argparse.ArgumentParser(prog="pulumi-resource-fc-invocation", add_help=False)
    parser.add_argument("engine", nargs="?")
    parser.add_argument("--tracing")
    parser.add_argument("--logflow", action="store_true")
    parser.add_argument("--logtostderr", action="store_true")
    known, _ = parser.parse_known_args(argv)
    return known.engine


async def serve(engine_address: Optional[str], *, provider: Optional[FcInvocationProvider] = None,
                announce: Any = None) -> None:
    """Serve until terminated; the port goes to stdout's first line (the engine's plugin protocol).

    SIGINT (how the engine stops a plugin, 5 s before it kills it) or SIGTERM stops every wait as the
    engine's Cancel does, lets the calls answer for :data:`STOP_GRACE`, and returns."""
    from ..version import __version__

    provider = provider or FcInvocationProvider(engine_address)
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", MAX_MESSAGE),
                                      ("grpc.max_send_message_length", MAX_MESSAGE)])
    servicer = CleanErrorServicer([], __version__, provider, engine_address=engine_address or "")
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    stop = asyncio.Event()
    _on_stop_signals(stop.set)
    await server.start()
    (announce or _announce)(port)
    ended = asyncio.ensure_future(server.wait_for_termination())
    asked = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({ended, asked}, return_when=asyncio.FIRST_COMPLETED)
    finally:  # also when cancelled: stop here, not in the server's __del__ after the loop closed
        asked.cancel()
        await provider.cancel()  # every wait stops, as on the engine's Cancel
        await server.stop(STOP_GRACE)
        ended.cancel()


def _on_stop_signals(stop: Callable[[], None]) -> None:
    """``stop`` on SIGINT and SIGTERM, through the loop (it wakes at once whichever thread the signal hit).
    Where the loop cannot (Windows), SIGINT stays Python's KeyboardInterrupt, which :func:`main` ends."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop)
        except (NotImplementedError, RuntimeError, ValueError):
            return


def _announce(port: int) -> None:
    sys.stdout.buffer.write(f"{port}\n".encode())
    sys.stdout.buffer.flush()


def main(argv: Optional[list[str]] = None) -> None:
    """Serve the engine at the address among ``argv`` (the engine's plugin protocol), then exit at once."""
    argv = sys.argv[1:] if argv is None else argv
    engine = parse_engine_address(argv)
    try:
        asyncio.run(serve(engine))
    except KeyboardInterrupt:
        pass
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    # Not the interpreter's shutdown: it joins the threads of blocking calls still under way (an HTTP read
    # can take its whole timeout), and the engine kills a plugin that has not exited 5 s after SIGINT.
    os._exit(0)
