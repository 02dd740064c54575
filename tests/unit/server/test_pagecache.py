"""The page cache's own rules (``server.pagecache``): bounded by body bytes, least recently
used first out, and a page served only at its version and inside its time window."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.pagecache import CachedPage, PageCache, etag_of

pytestmark = pytest.mark.unit

T0 = "2026-11-23T01:00:00.000000Z"
T1 = "2026-11-23T02:00:00.000000Z"
T2 = "2026-11-23T03:00:00.000000Z"


def page(size: int, *, version: int = 1, built_at: str = T0,
         valid_until: str | None = None, fill: bytes = b"x") -> CachedPage:
    return CachedPage(fill * size, version=version, built_at=built_at,
                      valid_until=valid_until)


def test_the_least_recently_used_pages_go_first_to_stay_in_bounds() -> None:
    cache = PageCache(max_bytes=250)
    cache.put("a", page(100))
    cache.put("b", page(100))
    assert cache.get("a", 1, T0) is not None  # a is now the most recently used
    cache.put("c", page(100))
    assert cache.size_bytes == 200
    assert cache.get("b", 1, T0) is None
    assert cache.get("a", 1, T0) is not None
    assert cache.get("c", 1, T0) is not None
    assert cache.evictions == 1


def test_a_page_larger_than_the_bound_is_not_kept() -> None:
    cache = PageCache(max_bytes=99)
    cache.put("a", page(100))
    assert len(cache) == 0
    assert cache.get("a", 1, T0) is None


def test_a_page_is_served_only_at_its_version_and_inside_its_window() -> None:
    cache = PageCache()
    cache.put("k", page(10, version=7, built_at=T1, valid_until=T2))
    assert cache.get("k", 7, T0) is None  # before it was judged (a clock set back)
    cache.put("k", page(10, version=7, built_at=T1, valid_until=T2))
    assert cache.get("k", 7, T2) is not None  # up to and including valid_until
    assert cache.get("k", 8, T1) is None  # the store moved on
    assert len(cache) == 0  # and the stale page was dropped
    cache.put("k", page(10, version=7, built_at=T1, valid_until=T1))
    assert cache.get("k", 7, T2) is None  # the clock passed a due time on it


def test_an_older_version_does_not_replace_a_newer_page() -> None:
    cache = PageCache()
    cache.put("k", page(10, version=9, fill=b"n"))
    cache.put("k", page(10, version=8, fill=b"o"))  # a slow reader of an older state
    kept = cache.get("k", 9, T0)
    assert kept is not None
    assert kept.body == b"n" * 10


def test_the_etag_names_the_bytes() -> None:
    assert etag_of(b"a") == etag_of(b"a")
    assert etag_of(b"a") != etag_of(b"b")
    assert etag_of(b"a").startswith('W/"')


@given(st.integers(min_value=0, max_value=500),
       st.lists(st.tuples(st.integers(0, 9), st.integers(0, 200), st.booleans()),
                max_size=60))
def test_the_bodies_kept_never_exceed_the_bound(bound: int,
                                                ops: list[tuple[int, int, bool]]) -> None:
    cache = PageCache(max_bytes=bound)
    for key, size, read in ops:
        if read:
            cache.get(key, 1, T0)
        else:
            cache.put(key, page(size))
        kept = list(cache._pages.values())
        assert cache.size_bytes == sum(len(p.body) for p in kept)
        assert cache.size_bytes <= bound
