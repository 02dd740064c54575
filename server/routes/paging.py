"""The HTTP half of the paging convention (``server.paging``): the ``next`` link.

A page's ``next`` is the request's own path and query with ``cursor`` replaced by the
page's ``next_cursor``, so a client follows ``next`` until it is null without knowing
which filters it sent. Relative to the host (``/api/v1/...?...``).
"""

from __future__ import annotations

from typing import Any, Final, TypeVar
from urllib.parse import urlencode

import msgspec
from litestar import Request

P = TypeVar("P", bound=msgspec.Struct)
#: the largest integer either store keeps (a signed 64-bit column): an integer id or
#: cursor in a path or query is bounded by it, so a larger one is a 400 at the edge,
#: never a driver's overflow deep in a query
MAX_STORED_INT: Final = 2**63 - 1


def next_link(request: Request[Any, Any, Any], cursor: str | None) -> str | None:
    """This request with ``cursor`` set to ``cursor``; None when there is no next page."""
    if cursor is None:
        return None
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    query.append(("cursor", cursor))
    return f"{request.scope.get('root_path', '')}{request.url.path}?{urlencode(query)}"


def linked(request: Request[Any, Any, Any], page: P) -> P:
    """``page`` with its ``next`` link filled in from its ``next_cursor``."""
    cursor: str | None = getattr(page, "next_cursor", None)
    if cursor is None:
        return page
    return msgspec.structs.replace(page, next=next_link(request, cursor))
