
"""Pure rules of the console: shift hours, passwords, month buckets, the posting notice text."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.model import FourBounds
from notifications import Outage
from notifications.model import OutageKind, OutageState
from server.console.posting import posting_lines, render_posting_pdf
from server.console.sessions import check_password, hash_password
from server.console.views import month_starts
from server.errors import BadInputError
from server.positions import parse_shift
from tests.factories import pdf_text

pytestmark = pytest.mark.unit
UTC0900_LOCAL = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def test_shift_hours_are_read_in_shanghai_time() -> None:
    day = parse_shift("07:00-20:00")
    assert day.contains(UTC0900_LOCAL)                                   # 09:00 local
    assert not day.contains(datetime(2026, 11, 22, 22, 30, tzinfo=UTC))  # 06:30 local
    assert not day.contains(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))   # 20:00 local


def test_a_night_shift_wraps_midnight_and_all_day_means_always() -> None:
    night = parse_shift("19:00-07:00")
    assert night.contains(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))      # 23:00 local
    assert not night.contains(UTC0900_LOCAL)
    assert parse_shift("00:00-24:00").contains(UTC0900_LOCAL)
    assert parse_shift("00:00-24:00").end == time(0, 0)


@pytest.mark.parametrize("text", ["", "7-8", "07:00", "25:00-26:00", "a-b"])
def test_bad_shift_settings_are_bad_input(text: str) -> None:
    with pytest.raises(BadInputError):
        parse_shift(text)


def test_passwords_are_salted_and_checked() -> None:
    one, two = hash_password("correct horse"), hash_password("correct horse")
    assert one != two
    assert one.startswith("scrypt$")
    assert check_password("correct horse", one)
    assert not check_password("Correct horse", one)
    assert not check_password("correct horse", "garbage")


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 1),  # noqa: DTZ001 - hypothesis bounds are naive
                    timezones=st.just(UTC)))
def test_month_starts_are_six_consecutive_local_month_starts(now: datetime) -> None:
    starts = month_starts(now, 6)
    assert len(starts) == 6
    assert starts[-1] <= now
    assert all(s.day == 1 and s.hour == 0 and s.utcoffset() == timedelta(hours=8)
               for s in starts)
    assert all((b.year * 12 + b.month) - (a.year * 12 + a.month) == 1
               for a, b in pairwise(starts))


def _outage() -> Outage:
    return Outage(id="OUT-1", kind=OutageKind.PLANNED, state=OutageState.ANNOUNCED,
                  cause="更换DN300阀门", title="文化路阀门更换", area=None,
                  start_at=datetime(2026, 11, 25, 0, 30, tzinfo=UTC),
                  expected_restoration_at=datetime(2026, 11, 25, 8, 0, tzinfo=UTC),
                  streets=["文化东路", "山大路"], compounds=["文化苑", "山大南苑"],
                  customer_count=120, created_at=UTC0900_LOCAL, created_by="disp-wang")


def test_the_posting_notice_says_where_when_why_and_whom_to_call() -> None:
    bounds = FourBounds(east="山师东路", west="文化东路", south="历山路", north="文化东路")
    text = "\n".join(t for _s, t in posting_lines(_outage(), bounds, "济南水务", "96345",
                                                   UTC0900_LOCAL))
    assert "计划停水通知" in text
    assert "文化苑、山大南苑" in text
    assert "东至山师东路，西至文化东路，南至历山路，北至文化东路" in text
    # Beijing time, not UTC
    assert "2026年11月25日 08:30 至 2026年11月25日 16:00（北京时间）" in text
    assert "因更换DN300阀门，济南水务定于" in text
    assert "96345" in text


def test_the_posting_pdf_reads_local_wall_time_with_one_zone_note() -> None:
    text = pdf_text(render_posting_pdf(_outage(), None, "济南水务", "96345", UTC0900_LOCAL))
    # 00:30 and 08:00 UTC are 08:30 and 16:00 in Shanghai
    assert "2026年11月25日 08:30 至 2026年11月25日 16:00（北京时间）" in text
    assert text.count("北京时间") == 1
    assert "00:30" not in text
    assert "UTC" not in text


def test_a_profile_elsewhere_gets_its_own_wall_time_on_the_posting() -> None:
    text = "\n".join(t for _s, t in posting_lines(_outage(), None, "济南水务", "96345",
                                                   UTC0900_LOCAL, "Asia/Tokyo"))
    assert "2026年11月25日 09:30 至 2026年11月25日 17:00（UTC+09:00）" in text
    assert "北京时间" not in text


def test_without_an_isolation_plan_the_bounds_are_left_out() -> None:
    text = "\n".join(t for _s, t in posting_lines(_outage(), None, "济南水务", "96345",
                                                   UTC0900_LOCAL))
    assert "四至" not in text
    assert "涉及道路：文化东路、山大路" in text
