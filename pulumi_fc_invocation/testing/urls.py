"""Routes of the FC 2016-08-15 API the emulator speaks: (method, path regex) -> route name.

Paths are matched *unescaped* (FC signs and routes the unescaped path). The qualifier rides on the
service segment (``service.qualifier``); service names cannot contain ``.``, so the first dot splits.
The route names (``get``, ``list``, ``stop``, ``invoke``) are what faults and the request log use.
"""

from __future__ import annotations

import re
from typing import Optional

__all__ = ["API_VERSION", "url_paths", "resolve"]

API_VERSION = "2016-08-15"

_FUNCTION = (
    rf"^/{API_VERSION}/services/(?P<service>[^/.]+)(?:\.(?P<qualifier>[^/]*))?"
    r"/functions/(?P<function>[^/]+)"
)

# regex -> {HTTP method: route name}; responses.FcResponses has one ``route_<name>`` method per route.
url_paths: list[tuple[re.Pattern[str], dict[str, str]]] = [
    (re.compile(_FUNCTION + r"/stateful-async-invocations/(?P<invocation_id>[^/]+)/?$"), {"GET": "get", "PUT": "stop"}),
    (re.compile(_FUNCTION + r"/stateful-async-invocations/?$"), {"GET": "list"}),
    (re.compile(_FUNCTION + r"/invocations/?$"), {"POST": "invoke"}),
]


def resolve(method: str, path: str) -> tuple[Optional[str], dict[str, Optional[str]]]:
    """(route name, path parameters); (None, {}) when no route serves this method and path."""
    for pattern, methods in url_paths:
        match = pattern.match(path)
        if match and method.upper() in methods:
            return methods[method.upper()], match.groupdict()
    return None, {}
