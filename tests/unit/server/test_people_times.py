"""People read their own clock to the minute; spreadsheets get the mark Excel needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from server.clock import for_people
from server.exports import for_excel

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("when", "shown"), [
    (datetime(2026, 11, 24, 1, 0, 59, 999999, tzinfo=UTC), "2026-11-24 09:00"),
    (datetime(2026, 12, 31, 16, 30, tzinfo=UTC), "2027-01-01 00:30"),  # the local new year
    (datetime(2027, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=14))), "2027-03-01 04:00"),
    (datetime(2027, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=-12))), "2027-03-02 06:00"),
])
def test_times_for_people_are_shanghai_wall_time_to_the_minute(when: datetime,
                                                               shown: str) -> None:
    assert for_people(when) == shown


def test_no_time_shows_as_empty() -> None:
    assert for_people(None) == ""


def test_a_csv_for_excel_starts_with_one_byte_order_mark() -> None:
    once = for_excel("编号,地址\n1,经十路\n")
    assert once.startswith(b"\xef\xbb\xbf")
    assert once.decode("utf-8-sig") == "编号,地址\n1,经十路\n"
    assert for_excel(once.decode("utf-8")) == once  # never two marks
