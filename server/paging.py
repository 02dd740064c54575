"""One pagination convention for every list the API answers.

Every list endpoint takes ``limit`` (1..its maximum) and an opaque ``cursor``, and
answers the same envelope::

    {"items": [...], "next_cursor": "<opaque>" | null, "next": "<path?query>" | null}

``next`` is the same request with ``cursor`` set to ``next_cursor`` (relative to the
host; the HTTP layer fills it in, ``server.routes.paging``); both are null on the last
page. Paging is keyset paging: the cursor holds the sort key of the last row sent
(``(created_at, id)`` for most lists), and the next page is ``WHERE key < cursor ORDER BY
key LIMIT n`` on an index, so a page costs the same at any depth and stays stable while
rows are inserted. A cursor is base64url of the key's parts joined by ``|``; it is only
meaningful to the list that issued it, and a malformed one is a 400 ``bad-input``.

Why one module: eleven lists once answered bare arrays and five paged in three
different ways. Stores call ``encode_cursor``/``decode_cursor``; services call
``page_of`` to cut a fetched ``limit + 1`` rows into a page.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Final, Generic, TypeVar

import msgspec

from server.errors import BadInputError

#: the default page size of lists that do not name their own
DEFAULT_LIMIT: Final = 100
#: the largest page any list answers
MAX_LIMIT: Final = 1000

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """The envelope of every list (the lists that predate it have their own Structs of
    the same three fields: ``WorkOrderPage``, ``CustomerPage``...)."""

    #: the items of this page, in the list's order
    items: list[T]
    #: pass back as ``cursor`` for the next page; None on the last page
    next_cursor: str | None = None
    #: this request again with ``cursor=next_cursor``; None on the last page
    next: str | None = None


def encode_cursor(*parts: str) -> str:
    """An opaque cursor for a sort key (the parts must not contain ``|``)."""
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode()


def decode_cursor(cursor: str, parts: int) -> tuple[str, ...]:
    """The sort key a cursor holds; ``BadInputError`` (400) for one we did not issue."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise BadInputError("bad cursor: not one this list issued", field="cursor") from exc
    values = tuple(text.split("|"))
    # NUL: no key we issue holds one, and PostgreSQL refuses it in a text parameter
    if len(values) != parts or not all(values) or "\x00" in text:
        raise BadInputError("bad cursor: not one this list issued", field="cursor")
    return values


def check_limit(limit: int, maximum: int = MAX_LIMIT) -> int:
    if not 1 <= limit <= maximum:
        raise BadInputError(f"limit must be between 1 and {maximum}", field="limit")
    return limit


def cut_page(rows: Sequence[T], limit: int, key: Callable[[T], tuple[str, ...]]
             ) -> tuple[list[T], str | None]:
    """The first ``limit`` of ``rows`` (fetched as ``limit + 1``) and the cursor after
    them, or None when nothing follows."""
    items = list(rows[:limit])
    if len(rows) <= limit or not items:
        return items, None
    return items, encode_cursor(*key(items[-1]))


def page_of(rows: Sequence[T], limit: int, key: Callable[[T], tuple[str, ...]]) -> Page[T]:
    """``cut_page`` as a ``Page``."""
    items, cursor = cut_page(rows, limit, key)
    return Page(items=items, next_cursor=cursor)


def after(cursor: str | None, parts: int) -> tuple[str, ...] | None:
    """The key a cursor holds (None for the first page); 400 for a forged one."""
    return None if cursor is None else decode_cursor(cursor, parts)


def after_id(cursor: str | None) -> int | None:
    """The integer id a one-part cursor holds (None for the first page), for lists keyed
    on a stored integer id; 400 for a forged one, or one past a 64-bit column (never a
    driver's overflow)."""
    key = after(cursor, 1)
    if key is None:
        return None
    if not (key[0].isascii() and key[0].isdigit() and len(key[0]) < 19):
        raise BadInputError("bad cursor: not one this list issued", field="cursor")
    return int(key[0])
