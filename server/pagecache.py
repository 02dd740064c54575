"""Encoded list pages kept per process, valid exactly while the data they show is (issue 19).

Dispatch consoles and supervisors poll the same lists again and again while few records
change. A page is kept as the bytes sent, under a key the caller builds from everything
the page depends on besides the store (its query and the caller's *scope*, never the
caller's identity alone) and is served again only when both still hold:

* **the store has not changed**: each page carries the list's *version*, a counter the
  database bumps at every write of the tables the page reads (migration m016), read per
  request by the caller. Never a time-to-live: a page older than a committed change is
  never served, in any process on the store.
* **time has not changed it**: an open deadline turns overdue, an order joins the overdue
  list, as the clock passes a due time. The page carries the instant it was built at and
  ``valid_until``, the earliest stored time (``core.time.to_db`` text, which sorts as time)
  at which anything on it would change; it is served for ``built_at <= now <= valid_until``.

Bounded in memory: the bodies' bytes are counted and the least recently used pages go
first; a page larger than the bound is not kept. One ``PageCache`` per app instance,
injected (``server.services``), no module state; safe across the request threads.

Why bytes in a dictionary, not an HTTP cache in front: the version check needs the store
and the scope needs the authenticated caller, both known only inside the service. The
ETag is a digest of the bytes, so a 304 can only ever confirm the very bytes a caller
holds, whoever asks.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Final

#: bytes of page bodies a process keeps by default (``Settings.list_cache_bytes``)
DEFAULT_MAX_BYTES: Final = 64 * 1024 * 1024


def etag_of(body: bytes) -> str:
    """A weak entity tag (RFC 9110 §8.8.3) naming these bytes: a 128-bit BLAKE2b digest.
    Weak because the compression middleware may re-encode the body it tags."""
    return f'W/"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


class CachedPage:
    """One encoded page: its body, its ETag and when it is true (see the module doc)."""

    __slots__ = ("body", "built_at", "etag", "valid_until", "version")

    def __init__(self, body: bytes, *, version: int, built_at: str,
                 valid_until: str | None) -> None:
        self.body = body
        self.etag = etag_of(body)
        #: the list's version the page was read at
        self.version = version
        #: stored-time text of the instant the page was judged at
        self.built_at = built_at
        #: the page is stale once the clock is past this (stored-time text); None: never
        self.valid_until = valid_until

    def fresh(self, version: int, now_db: str) -> bool:
        """Whether this page is what a read at ``version`` and ``now_db`` would answer."""
        return (self.version == version and self.built_at <= now_db
                and (self.valid_until is None or now_db <= self.valid_until))


class PageCache:
    """A least-recently-used map from key to ``CachedPage``, bounded by body bytes."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must be 0 (off) or more")
        self.max_bytes = max_bytes
        self._pages: OrderedDict[Hashable, CachedPage] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        #: answered from the cache / built again / dropped to stay in bounds
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, key: Hashable, version: int, now_db: str) -> CachedPage | None:
        """The page kept for ``key`` when it is fresh at ``version`` and ``now_db``; a
        stale one is dropped. O(1)."""
        with self._lock:
            page = self._pages.get(key)
            if page is not None and page.fresh(version, now_db):
                self._pages.move_to_end(key)
                self.hits += 1
                return page
            if page is not None:
                del self._pages[key]
                self._bytes -= len(page.body)
            self.misses += 1
            return None

    def put(self, key: Hashable, page: CachedPage) -> None:
        """Keep ``page`` (replacing the key's older one), then drop the least recently used
        pages until the bodies fit ``max_bytes``. A page of a version older than one
        already kept for the key does not replace it."""
        size = len(page.body)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
                if old.version > page.version:
                    page = old
                    size = len(old.body)
            self._pages[key] = page
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._pages.popitem(last=False)
                self._bytes -= len(dropped.body)
                self.evictions += 1
