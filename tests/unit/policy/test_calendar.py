"""The working calendar: China's official holidays and make-up days, working hours and
the utility's override file (provisional years: test_provisional_calendar.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import msgspec
import pytest

from server.policy import WorkCalendar, WorkingHours
from server.policy.calendar import CalendarOverrides, read_overrides

pytestmark = pytest.mark.unit

SH = ZoneInfo("Asia/Shanghai")


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


def test_the_package_knows_the_2026_spring_festival_and_its_make_up_saturdays() -> None:
    # the facts every other test here leans on, read from the maintained package
    assert chinese_calendar.is_holiday(date(2026, 2, 16))  # Monday in the holiday
    assert chinese_calendar.is_workday(date(2026, 2, 14))  # make-up working Saturday
    assert chinese_calendar.is_workday(date(2026, 2, 28))  # make-up working Saturday
    assert chinese_calendar.is_holiday(date(2026, 2, 23))  # last day of the holiday


def test_a_make_up_saturday_is_a_working_day_and_a_holiday_monday_is_not(
        cal: WorkCalendar) -> None:
    assert cal.is_workday(date(2026, 2, 14))
    assert not cal.is_workday(date(2026, 2, 16))
    assert not cal.is_workday(date(2026, 11, 28))  # a plain Saturday
    assert cal.is_workday(date(2026, 11, 27))  # a plain Friday


def test_working_hours_cross_the_weekend(cal: WorkCalendar) -> None:
    # Friday 16:00 + 2 working hours: 1.5 h on Friday, 0.5 h on Monday morning
    assert cal.add_working_hours(local(2026, 11, 27, 16), 2) == local(2026, 11, 30, 9)


def test_working_hours_cross_lunch(cal: WorkCalendar) -> None:
    assert cal.add_working_hours(local(2026, 11, 23, 11, 30), 1) == local(2026, 11, 23, 14)


def test_working_hours_cross_the_night(cal: WorkCalendar) -> None:
    assert cal.add_working_hours(local(2026, 11, 23, 17), 1) == local(2026, 11, 24, 9)


def test_a_start_before_opening_counts_from_opening(cal: WorkCalendar) -> None:
    assert cal.add_working_hours(local(2026, 11, 23, 6), 1) == local(2026, 11, 23, 9, 30)


def test_working_hours_use_the_make_up_saturday_before_spring_festival(
        cal: WorkCalendar) -> None:
    # Friday 13 Feb 17:00 + 1 wh: 0.5 h on Friday, then Saturday 14 Feb is a working day
    assert cal.add_working_hours(local(2026, 2, 13, 17), 1) == local(2026, 2, 14, 9)


def test_working_hours_skip_the_whole_spring_festival(cal: WorkCalendar) -> None:
    # Saturday 14 Feb (make-up day) 17:00 + 1 wh: holiday 15-23 Feb, next is Tue 24 Feb
    assert cal.add_working_hours(local(2026, 2, 14, 17), 1) == local(2026, 2, 24, 9)


def test_working_days_count_the_make_up_saturday_and_skip_the_holiday(
        cal: WorkCalendar) -> None:
    # Thu 12 Feb 10:00 + 5 working days: 13 (Fri), 14 (make-up Sat), 24, 25, 26
    assert cal.add_working_days(local(2026, 2, 12, 10), 5) == local(2026, 2, 26, 10)


def test_working_days_from_a_day_off_start_at_the_next_working_day(cal: WorkCalendar) -> None:
    # Sunday 29 Nov + 1 working day: counting starts Monday 00:00, due Tuesday 00:00
    assert cal.add_working_days(local(2026, 11, 29, 15), 1) == local(2026, 12, 1)


def test_working_time_between_counts_only_working_periods(cal: WorkCalendar) -> None:
    spent = cal.working_time_between(local(2026, 11, 27, 16), local(2026, 11, 30, 9))
    assert spent == timedelta(hours=2)


def test_profile_working_hours_change_the_result() -> None:
    zhejiang = WorkCalendar(WorkingHours(periods=[("08:30", "12:00"), ("14:00", "17:30")]))
    # lunch ends at 14:00 in the Zhejiang profile
    assert zhejiang.add_working_hours(local(2026, 11, 23, 11, 30), 1) == local(2026, 11, 23, 14, 30)


def test_results_keep_the_callers_timezone(cal: WorkCalendar) -> None:
    start = local(2026, 11, 23, 17).astimezone(UTC)
    due = cal.add_working_hours(start, 1)
    assert due.tzinfo == UTC
    assert due == local(2026, 11, 24, 9)


def test_override_file_adds_a_working_day_and_a_local_holiday(tmp_path: Path) -> None:
    path = tmp_path / "overrides.toml"
    path.write_text('workdays = [2026-11-28]\nholidays = [2026-11-27]\n', encoding="utf-8")
    cal = WorkCalendar(overrides=read_overrides(path))
    assert cal.is_workday(date(2026, 11, 28))  # a Saturday the utility works
    assert not cal.is_workday(date(2026, 11, 27))  # a Friday the utility is closed
    # Thursday 17:00 + 1 wh: Friday is off, Saturday is on
    assert cal.add_working_hours(local(2026, 11, 26, 17), 1) == local(2026, 11, 28, 9)


def test_override_file_rejects_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "overrides.toml"
    path.write_text("workday = [2026-11-28]\n", encoding="utf-8")
    with pytest.raises(msgspec.ValidationError, match="workday"):
        read_overrides(path)


def test_overrides_struct_defaults_to_nothing() -> None:
    assert CalendarOverrides() == CalendarOverrides(workdays=[], holidays=[], years=[])


def test_bad_working_periods_are_refused() -> None:
    with pytest.raises(ValueError, match="start before it ends"):
        WorkCalendar(WorkingHours(periods=[("12:00", "08:30")]))
