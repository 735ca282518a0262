"""Routes of the three API revisions the emulator speaks: (API, method, path regex) -> route name.

- ``2016-08-15`` (FC 2.0, FC signature): the qualifier rides on the service segment
  (``service.qualifier``); service names cannot contain ``.``, so the first dot splits.
- ``2021-04-06`` (FC 2.0, ACS3 signature, the ``alibabacloud-fc-open20210406`` SDK): the same
  resources, the qualifier in ``?qualifier=``.
- ``2023-03-30`` (FC 3.0, ACS3 signature): no services (a 2.0 function is ``service$function``),
  ``async-tasks``, stop on ``.../stop``, the qualifier in ``?qualifier=``.

Paths are matched *unescaped* (``svc%24fn`` is ``svc$fn``). The route names (``get``, ``list``,
``stop``, ``invoke``, and FC 3.0's ``async_config``) are shared by the revisions: a fault injected
for ``get`` hits every revision's get.
"""

from __future__ import annotations

import re
from typing import Optional

__all__ = ["API_VERSION", "FC2_2021", "FC3", "API_REVISIONS", "url_paths", "api_of", "resolve"]

API_VERSION = "2016-08-15"
FC2_2021 = "2021-04-06"
FC3 = "2023-03-30"
API_REVISIONS = (API_VERSION, FC2_2021, FC3)

_FUNCTION = (
    rf"^/{API_VERSION}/services/(?P<service>[^/.]+)(?:\.(?P<qualifier>[^/]*))?"
    r"/functions/(?P<function>[^/]+)"
)
_FUNCTION_2021 = rf"^/{FC2_2021}/services/(?P<service>[^/]+)/functions/(?P<function>[^/]+)"
_FUNCTION_3 = rf"^/{FC3}/functions/(?P<function>[^/]+)"

# (api, regex, {HTTP method: route name}); the api's responses.Revision answers route name with ``on_<name>``.
url_paths: list[tuple[str, re.Pattern[str], dict[str, str]]] = [
    (API_VERSION, re.compile(_FUNCTION + r"/stateful-async-invocations/(?P<invocation_id>[^/]+)/?$"),
     {"GET": "get", "PUT": "stop"}),
    (API_VERSION, re.compile(_FUNCTION + r"/stateful-async-invocations/?$"), {"GET": "list"}),
    (API_VERSION, re.compile(_FUNCTION + r"/invocations/?$"), {"POST": "invoke"}),
    (FC2_2021, re.compile(_FUNCTION_2021 + r"/stateful-async-invocations/(?P<invocation_id>[^/]+)/?$"),
     {"GET": "get", "PUT": "stop"}),
    (FC2_2021, re.compile(_FUNCTION_2021 + r"/stateful-async-invocations/?$"), {"GET": "list"}),
    (FC2_2021, re.compile(_FUNCTION_2021 + r"/invocations/?$"), {"POST": "invoke"}),
    (FC3, re.compile(_FUNCTION_3 + r"/async-tasks/(?P<invocation_id>[^/]+)/stop/?$"), {"PUT": "stop"}),
    (FC3, re.compile(_FUNCTION_3 + r"/async-tasks/(?P<invocation_id>[^/]+)/?$"), {"GET": "get"}),
    (FC3, re.compile(_FUNCTION_3 + r"/async-tasks/?$"), {"GET": "list"}),
    (FC3, re.compile(_FUNCTION_3 + r"/invocations/?$"), {"POST": "invoke"}),
    (FC3, re.compile(_FUNCTION_3 + r"/async-invoke-config/?$"),
     {"GET": "async_config", "PUT": "async_config", "DELETE": "async_config"}),
]


def api_of(path: str) -> str:
    """The API revision a path belongs to (by its first segment); the 2016-08-15 API otherwise."""
    first = path.lstrip("/").split("/", 1)[0]
    return first if first in API_REVISIONS else API_VERSION


def resolve(method: str, path: str) -> tuple[Optional[str], dict[str, Optional[str]]]:
    """(route name, path parameters); (None, {}) when no route serves this method and path."""
    for _api, pattern, methods in url_paths:
        match = pattern.match(path)
        if match and method.upper() in methods:
            return methods[method.upper()], match.groupdict()
    return None, {}
