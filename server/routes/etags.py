"""Conditional answers of cached pages: ``ETag`` and ``If-None-Match`` (RFC 9110 §13).

A page kept by ``server.pagecache`` carries a digest of its bytes as its tag; a console
that polls sends it back and, while the list is unchanged, gets a 304 with no body.
"""

from __future__ import annotations

from typing import Any, Final

from litestar import MediaType, Request, Response

from server.pagecache import CachedPage

#: a kept page is the caller's own (its scope) and must be checked before each reuse
PAGE_CACHE_CONTROL: Final = "private, no-cache"


def conditional(request: Request[Any, Any, Any], page: CachedPage) -> Response[bytes]:
    """``page`` as a JSON answer with its ``ETag``, or 304 with no body when the request's
    ``If-None-Match`` names it (RFC 9110 §13.1.2: weak comparison, ``*`` matches).

    ``Cache-Control: private, no-cache`` lets a browser keep the page and revalidate it
    every time, never a shared cache; the tag is a digest of the bytes, so a 304 confirms
    only bytes this caller would be sent anyway."""
    headers = {"ETag": page.etag, "Cache-Control": PAGE_CACHE_CONTROL}
    wanted = request.headers.get("if-none-match")
    if wanted is not None and _matches(wanted, page.etag):
        return Response(b"", status_code=304, headers=headers)
    return Response(page.body, media_type=MediaType.JSON, headers=headers)


def _matches(header: str, etag: str) -> bool:
    opaque = etag.removeprefix("W/")
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == opaque:
            return True
    return False
