"""What the gates of one process share: a client per set of settings, a duration history per function,
and the threads the blocking calls of many concurrent waits run in."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional

from ..client import FcClient
from ..credentials import SETTING_SOURCES, resolve_settings, secret_config_masked
from ..kinds import Kind
from ..waiter import history_for

__all__ = ["CONFIG_KEYS", "MAX_CACHED_CLIENTS", "MAX_CACHED_HISTORIES", "client_for", "pool", "duration_history",
           "forget_histories"]

# The stack (or provider) config keys the credential chain reads: every setting under `fc-invocation:` and
# under `alicloud:` (credentials.SETTING_SOURCES, which sets the precedence).
CONFIG_KEYS = tuple(key for entry in SETTING_SOURCES.values() for key in entry["config"])

# Bounded: each rotated STS token is a new key, and a long-lived process (an Automation API server
# running inline programs) would otherwise keep a client and its sockets per token forever.
MAX_CACHED_CLIENTS = 8
_clients: "OrderedDict[tuple[Any, ...], FcClient]" = OrderedDict()
_clients_lock = threading.Lock()


def client_for(config: Optional[Mapping[str, Any]], *, region: Optional[str] = None,
               account_id: Optional[str] = None, endpoint: Optional[str] = None,
               secret_config: Collection[str] = (), config_namespaces: Optional[Collection[str]] = None,
               argument_name: Callable[[str], str] = str) -> FcClient:
    """A cached client for these settings: one connection pool per endpoint and key per process.
    The values of the config keys in ``secret_config`` never show in its errors; ``config_namespaces``:
    the config namespaces the caller sees, the only ones its errors name (None: all; the plugin: its own);
    ``argument_name``: how its users spell an argument (the plugin: camelCase).

    The least recently used client beyond :data:`MAX_CACHED_CLIENTS` is closed: its pooled sockets
    go; a wait still holding it keeps working (the session opens a new connection when asked)."""
    with secret_config_masked(config, secret_config, region=region, account_id=account_id, endpoint=endpoint):
        settings = resolve_settings(region=region, account_id=account_id, endpoint=endpoint, config=config,
                                    config_namespaces=config_namespaces, argument_name=argument_name)
    key = (settings.endpoint, settings.account_id, settings.credentials)
    evicted = []
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = FcClient(endpoint=settings.endpoint, account_id=settings.account_id,
                              region=settings.region, credentials=settings.credentials)
            _clients[key] = client
        _clients.move_to_end(key)
        while len(_clients) > MAX_CACHED_CLIENTS:
            evicted.append(_clients.popitem(last=False)[1])
    for old in evicted:
        old.close()
    return client


_executor: Optional[ThreadPoolExecutor] = None
_executor_lock = threading.Lock()


def pool() -> ThreadPoolExecutor:
    """Threads for the blocking HTTP calls of many concurrent waits (they sleep on the event loop)."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="fc-invocation-wait")
        return _executor


# One duration history per function and qualifier (and client) per process: the gates of one function
# share one list call (1,000 gates: 1 call), its answer or its refusal remembered for the history's ttl.
MAX_CACHED_HISTORIES = 256
_histories: "OrderedDict[tuple[Any, ...], tuple[FcClient, Any]]" = OrderedDict()
_histories_lock = threading.Lock()


def duration_history(client: FcClient, kind: Kind, target: Mapping[str, Any], secrets: Collection[str] = ()) -> Any:
    """The shared :class:`~..waiter.DurationHistory` of ``target``'s function (``kind.target_keys``)
    through ``client``: its list call keeps to the budget of the wait that makes it (the waiter's
    :func:`~..clock.within`, which every call of the client reads), not to any one gate's deadline (the
    history outlives the gate). ``secrets``: the gate's secret texts; a name among them shows as
    ``[secret]`` in the history's debug lines (gates that mask a name share a history of their own)."""
    names = tuple(target.get(key) for key in kind.target_keys)
    hidden = tuple(sorted({text for text in secrets if text and any(text in str(name) for name in names if name)}))
    key = (id(client), kind.name) + names + hidden
    with _histories_lock:
        entry = _histories.get(key)
        if entry is None or entry[0] is not client:  # the client is held: its id cannot be reused meanwhile
            history = history_for(client, kind.member_ref(target, "_"), secrets=hidden)
            entry = _histories[key] = (client, history)
        _histories.move_to_end(key)
        while len(_histories) > MAX_CACHED_HISTORIES:
            _histories.popitem(last=False)
        return entry[1]


def forget_histories() -> None:
    """Drop the remembered histories (tests; a long-lived process that wants fresh ones now)."""
    with _histories_lock:
        _histories.clear()
