"""HTTP handling of the emulator's API revisions, one room per revision (moto: a responses class per protocol).

- ``common``: what every revision shares (request, response, error codes, paging, invoke, STS) and
  the :class:`~.common.Revision` base whose hooks a revision fills in;
- ``acs3``: the ACS3 signature and the query qualifier, shared by 2021-04-06 and 2023-03-30;
- ``fc2_2016`` (2016-08-15, FC signature), ``fc2_2021`` (2021-04-06), ``fc3`` (2023-03-30): one
  revision each;
- ``dispatch``: :class:`FcResponses` (route, fault, authentication, handler) and the registry
  ``REVISIONS``.

A new revision is a room with a ``Revision`` subclass, its routes in ``urls.py`` and one entry in
``dispatch.REVISIONS``.
"""

from __future__ import annotations

from ..codes import STATUS_FOR_CODE
from ..keys import KeyStore
from .common import Request, Response, Revision
from .dispatch import REVISIONS, FcResponses
from .fc2_2016 import render_invocation
from .fc3 import render_task

__all__ = ["Request", "Response", "KeyStore", "FcResponses", "Revision", "REVISIONS", "render_invocation",
           "render_task", "STATUS_FOR_CODE"]
