"""Years without official data: a provisional calendar from the statutory rules, never a
refusal; and the checks a State Council notice must pass before it replaces one.

Expected dates are stated here from the almanac (Spring Festival 2027 is 6 February,
Dragon Boat 9 June, Mid-Autumn 15 September; 2030: 3 February, 5 June, 12 September) and
from the published 2026 schedule shipped in chinesecalendar, not from the code under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.policy import CalendarNoticeError, Rule, TimeUnit, WorkCalendar, time_rule
from server.policy.calendar import read_overrides
from server.policy.statutory import provisional_rest_days, rules_for, statutory_days
from server.policy.years import (
    NoticeHoliday,
    YearNotice,
    YearSource,
    days_of,
    validate_notice,
)

pytestmark = pytest.mark.unit

SH = ZoneInfo("Asia/Shanghai")


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def span(name: str, first: date, last: date, *work: date) -> NoticeHoliday:
    return NoticeHoliday(name=name, first=first, last=last, workdays=list(work))


#: a plausible 2027 notice, shaped as the State Council writes them (bridging days made up)
NOTICE_2027 = YearNotice(year=2027, notice="国办发明电〔2026〕test", holidays=[
    span("元旦", date(2027, 1, 1), date(2027, 1, 3)),
    span("春节", date(2027, 2, 5), date(2027, 2, 12), date(2027, 1, 31), date(2027, 2, 20)),
    span("清明节", date(2027, 4, 3), date(2027, 4, 5)),
    span("劳动节", date(2027, 5, 1), date(2027, 5, 5), date(2027, 5, 8)),
    span("端午节", date(2027, 6, 9), date(2027, 6, 9)),
    span("中秋节", date(2027, 9, 15), date(2027, 9, 15)),
    span("国庆节", date(2027, 10, 1), date(2027, 10, 7), date(2027, 9, 26), date(2027, 10, 9)),
])


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


# -- the statutory rules --------------------------------------------------------------------
def test_the_2024_revision_gives_thirteen_days_from_2025() -> None:
    assert rules_for(2025).total_days == 13
    assert rules_for(2027).total_days == 13
    assert rules_for(2024).total_days == 11


def test_spring_festival_2027_is_four_days_from_the_eve() -> None:
    days = statutory_days(2027).days
    spring = sorted(d for d, name in days.items() if name == "春节")
    assert spring == [date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8)]


@pytest.mark.parametrize(("year", "dragon_boat", "mid_autumn"), [
    (2027, date(2027, 6, 9), date(2027, 9, 15)),
    (2030, date(2030, 6, 5), date(2030, 9, 12)),
])
def test_lunar_festivals_land_on_the_almanac_dates(year: int, dragon_boat: date,
                                                   mid_autumn: date) -> None:
    days = statutory_days(year).days
    assert days[dragon_boat] == "端午节"
    assert days[mid_autumn] == "中秋节"
    assert len(days) == 13


def test_statutory_days_on_a_weekend_are_given_back_on_the_next_weekdays() -> None:
    rest = provisional_rest_days(2027)
    # National Day 2027: Fri 1, Sat 2, Sun 3 October -> Mon 4 and Tue 5 given back
    assert rest[date(2027, 10, 4)].startswith("国庆节")
    assert rest[date(2027, 10, 5)].startswith("国庆节")
    assert date(2027, 10, 6) not in rest
    # Spring Festival 2027: Sat 6 and Sun 7 February -> Tue 9 and Wed 10 (Mon 8 is statutory)
    assert {date(2027, 2, 9), date(2027, 2, 10)} <= set(rest)
    assert date(2027, 2, 11) not in rest


@pytest.mark.parametrize("year", [2016, 2017, 2018, 2019, 2021, 2022, 2023, 2024, 2025, 2026])
def test_every_recent_official_year_passes_the_notice_checks(year: int) -> None:
    # the published schedules, as the maintained package ships them (2020's emergency
    # extension of Spring Festival is an exception no rule foresees)
    rest = sorted(d for d in chinese_calendar.holidays if d.year == year)
    work = sorted(d for d in chinese_calendar.workdays if d.year == year)
    holidays = [span("official", d, d) for d in rest]
    holidays.append(span("official", rest[0], rest[0], *work))
    assert validate_notice(YearNotice(year=year, notice="package", holidays=holidays)) == []


# -- provisional years in the calendar -------------------------------------------------------
def test_2027_is_provisional_and_spring_festival_is_off(cal: WorkCalendar) -> None:
    assert cal.is_provisional(2027)
    assert not cal.is_provisional(2026)
    assert cal.year(2027).source is YearSource.PROVISIONAL
    assert not cal.is_workday(date(2027, 2, 8))  # Monday of Spring Festival
    assert not cal.is_workday(date(2027, 2, 9))  # substitute for Saturday 6 February
    assert cal.is_workday(date(2027, 2, 11))  # Thursday after


def test_a_deadline_from_december_2026_runs_into_2027_instead_of_failing(
        cal: WorkCalendar) -> None:
    # Wed 30 Dec 10:00 + 5 working days: Thu 31, (Fri 1 Jan off), Mon 4 .. Thu 7 Jan
    assert cal.add_working_days(local(2026, 12, 30, 10), 5) == local(2027, 1, 7, 10)
    rule = Rule(limit=5, unit=TimeUnit.WORKING_DAYS, clause="t", title="t")
    assert time_rule(local(2026, 12, 30, 10), rule, cal, 0.8).provisional


def test_a_deadline_inside_an_official_year_is_not_provisional(cal: WorkCalendar) -> None:
    rule = Rule(limit=2, unit=TimeUnit.WORKING_DAYS, clause="t", title="t")
    assert not time_rule(local(2026, 11, 2, 10), rule, cal, 0.8).provisional


def test_calendar_time_limits_are_never_provisional(cal: WorkCalendar) -> None:
    rule = Rule(limit=48, unit=TimeUnit.HOURS, clause="t", title="t")
    assert not time_rule(local(2030, 3, 1, 10), rule, cal, 0.8).provisional


@pytest.mark.parametrize("year", [1, 900, 1949, 2101, 9998])
def test_years_without_lunar_data_still_count_weekends_and_fixed_holidays(
        cal: WorkCalendar, year: int) -> None:
    assert not cal.is_workday(date(year, 10, 1))
    assert cal.is_provisional(year)
    start = datetime(year, 3, 1, 10, tzinfo=UTC)
    assert cal.add_working_days(start, 3) > start


def test_importing_a_year_makes_it_official_and_moves_the_days() -> None:
    fresh = WorkCalendar()
    before = fresh.add_working_days(local(2027, 2, 3, 10), 3)
    from server.policy.years import year_from_notice
    fresh.install(year_from_notice(NOTICE_2027))
    assert not fresh.is_provisional(2027)
    # the notice gives 11 and 12 February off and makes Saturday 20 February a working day
    assert not fresh.is_workday(date(2027, 2, 11))
    assert fresh.is_workday(date(2027, 2, 20))
    assert fresh.add_working_days(local(2027, 2, 3, 10), 3) != before
    assert fresh.add_working_days(local(2027, 2, 3, 10), 3) == local(2027, 2, 16, 10)


@given(st.dates(min_value=date(2027, 1, 1), max_value=date(2099, 12, 20)))
def test_a_provisional_year_has_exactly_the_statutory_days_and_substitutes_off(day: date) -> None:
    stat = statutory_days(day.year)
    substitutes = len(stat.on_weekend())
    rest = provisional_rest_days(day.year)
    assert len(rest) == len(stat.days) + substitutes
    assert all(d.weekday() < 5 for d in set(rest) - set(stat.days))


# -- notice validation -----------------------------------------------------------------------
def test_a_complete_notice_passes() -> None:
    assert validate_notice(NOTICE_2027) == []


def test_a_half_year_notice_names_the_missing_festivals() -> None:
    half = YearNotice(year=2027, notice="half", holidays=NOTICE_2027.holidays[:4])
    problems = " ".join(validate_notice(half))
    assert "2027-06-09 (端午节)" in problems
    assert "2027-09-15 (中秋节)" in problems
    assert "2027-10-03 (国庆节)" in problems


def test_a_notice_with_fewer_days_off_than_the_statutory_count_is_refused() -> None:
    short = YearNotice(year=2027, notice="short", holidays=NOTICE_2027.holidays[:2])
    assert any("11 days off listed" in p and "give 13" in p for p in validate_notice(short))


def test_bridging_days_without_make_up_days_are_refused() -> None:
    no_work = YearNotice(year=2027, notice="no work", holidays=[
        NoticeHoliday(name=h.name, first=h.first, last=h.last) for h in NOTICE_2027.holidays
    ])
    problems = " ".join(validate_notice(no_work))
    assert "adjusted working days are implied" in problems
    assert "5 adjusted working days are implied; the notice lists 0" in problems


def test_dates_outside_the_year_are_refused() -> None:
    spill = YearNotice(year=2027, notice="spill", holidays=[
        span("元旦", date(2026, 12, 31), date(2027, 1, 1)), *NOTICE_2027.holidays[1:],
    ])
    assert any("2026-12-31" in p for p in validate_notice(spill))


def test_a_weekday_cannot_be_an_adjusted_working_day() -> None:
    odd = YearNotice(year=2027, notice="odd", holidays=[
        *NOTICE_2027.holidays, span("元旦", date(2027, 1, 1), date(2027, 1, 1), date(2027, 1, 6)),
    ])
    assert any("Saturdays or Sundays: 2027-01-06" in p for p in validate_notice(odd))


def test_an_override_file_with_only_new_years_day_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "overrides.toml"
    path.write_text("years = [2027]\nholidays = [2027-01-01]\n", encoding="utf-8")
    with pytest.raises(CalendarNoticeError) as info:
        WorkCalendar(overrides=read_overrides(path))
    assert any("2027-02-08 (春节)" in p for p in info.value.problems)


def test_days_of_a_year_show_adjusted_working_days() -> None:
    from server.policy.years import year_from_notice
    days = {d.day: d for d in days_of(year_from_notice(NOTICE_2027))}
    assert len(days) == 365
    assert days[date(2027, 2, 20)].kind == "adjusted"
    assert days[date(2027, 2, 8)].kind == "rest"
    assert days[date(2027, 2, 8)].name == "春节"
    assert days[date(2027, 3, 1)].kind == "working"
    assert days[date(2027, 3, 1)].weekday == "一"
    assert date(2027, 12, 31) + timedelta(days=1) not in days
