"""JN 12's cluster rule as pure functions: compound names compared by their normalised
form, and the 24 h window found on received times whatever order they come in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.tickets.clusters import area_key, densest_window, same_area
from server.timefmt import from_db, to_db

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


@pytest.mark.parametrize("variant", [
    "阳光100小区", "阳光１００小区", " 阳光100小区", "阳光100 小区", "阳光100\u3000小区",
    "阳光100小区\t", "阳光100  小区",
])
def test_jn_12_one_compound_typed_many_ways_is_one_area(variant: str) -> None:
    assert area_key(variant) == area_key("阳光100小区") == "阳光100小区"
    a = {"compound": variant, "lon": None, "lat": None}
    b = {"compound": "阳光100小区", "lon": None, "lat": None}
    assert same_area(a, b, 500)


def test_latin_names_keep_one_space_and_ignore_case() -> None:
    # full-width letters (U+FF27 ...), as a Chinese input method types them
    assert area_key("  \uff27\uff52\uff45\uff45\uff4e   Park ") == "green park"
    assert area_key("") == ""
    assert not same_area({"compound": "", "lon": None, "lat": None},
                         {"compound": " ", "lon": None, "lat": None}, 500)


def _rows(offsets_h: list[float]) -> list[dict[str, object]]:
    return [{"id": f"c{i}", "received_at": to_db(T0 + timedelta(hours=h))}
            for i, h in enumerate(offsets_h)]


def test_jn_12_a_late_entry_with_an_earlier_time_completes_an_earlier_window() -> None:
    """Nine complaints received at +5 h … +13 h; the tenth, entered last, was received at
    +0 h: the window [+0 h, +24 h] holds all ten."""
    rows = _rows([5, 6, 7, 8, 9, 10, 11, 12, 13, 0])
    found = densest_window(rows, T0, DAY, 10)
    assert found is not None
    assert {r["id"] for r in found} == {f"c{i}" for i in range(10)}


def test_jn_12_a_late_entry_outside_every_window_raises_nothing() -> None:
    rows = _rows([25, 26, 27, 28, 29, 30, 31, 32, 33, 0])  # +0 h is 25 h before the rest
    assert densest_window(rows, T0, DAY, 10) is None


@settings(max_examples=100, deadline=None)
@given(offsets=st.lists(st.floats(min_value=0, max_value=48), min_size=10, max_size=20),
       order=st.randoms(use_true_random=False))
def test_jn_12_the_order_of_entry_never_changes_the_answer(offsets: list[float],
                                                          order: object) -> None:
    rows = _rows(offsets)
    shuffled = list(rows)
    order.shuffle(shuffled)  # type: ignore[attr-defined]
    at = T0 + timedelta(hours=offsets[-1])
    first = densest_window(rows, at, DAY, 10)
    second = densest_window(shuffled, at, DAY, 10)
    assert (first is None) == (second is None)
    times = sorted(T0 + timedelta(hours=h) for h in offsets)
    # an independent count: some 24 h window starting at a complaint and holding ``at``
    expected = any(sum(start <= t <= start + DAY for t in times) >= 10
                   for start in times if start <= at <= start + DAY)
    assert (first is not None) == expected
    if first is not None and second is not None:
        assert len(first) == len(second)
        got = sorted(from_db(str(r["received_at"])) for r in first)
        assert got[0] <= at <= got[0] + DAY
        assert got[-1] - got[0] <= DAY
