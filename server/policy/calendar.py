"""Working days and working hours on China's official calendar, never stopping at its edge.

Each year comes from the best source there is (``server.policy.years``): the State
Council's schedule as shipped in the maintained ``chinesecalendar`` package, or as the
utility imported it (``waterops calendar import``); for any other year a *provisional*
calendar computed from the statutory holiday rules. A record is therefore never refused
because its year has no official data yet: its deadlines are counted provisionally and
say so (``provisional_between``), and are recomputed when the year's notice arrives.

A utility may add its own days (a local holiday, a make-up working day) in an override
file. ``CalendarRangeError`` is left only for dates a calendar cannot hold (past 9999).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

import chinese_calendar
import msgspec

from server.errors import DomainError
from server.policy.model import TimeUnit, WorkingHours
from server.policy.years import (
    CalendarYear,
    NoticeHoliday,
    YearNotice,
    YearSource,
    provisional_year,
    validate_notice,
    year_from_notice,
)

#: clocks that count on the calendar (a deadline on them can be provisional)
WORKING_UNITS = frozenset({TimeUnit.WORKING_DAYS, TimeUnit.WORKING_HOURS})


class CalendarRangeError(DomainError):
    """A date no calendar can hold (the deadline would run past year 9999)."""

    code = "calendar-out-of-range"

    def __init__(self, day: date) -> None:
        super().__init__(f"counting working time from {day.isoformat()} runs past year 9999",
                         day=day.isoformat())
        self.day = day


class CalendarNoticeError(DomainError):
    """A year's holiday notice (import or override file) misses what the rules require."""

    code = "calendar-notice-incomplete"
    problems: list[str]

    def __init__(self, year: int, problems: list[str]) -> None:
        super().__init__(f"the holiday notice for {year} cannot be used: "
                         + "; ".join(problems), year=year, problems=problems)
        self.year = year
        self.problems = problems


class CalendarOverrides(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: extra working days (e.g. a utility's own make-up day)
    workdays: list[date] = msgspec.field(default_factory=list)
    #: extra days off (e.g. a local holiday)
    holidays: list[date] = msgspec.field(default_factory=list)
    #: years this file describes completely (the State Council's schedule typed in before
    #: a package update): validated as a notice, so a year listing only New Year's Day is
    #: refused instead of counting Spring Festival as working days
    years: list[int] = msgspec.field(default_factory=list)


def read_overrides(path: str | Path) -> CalendarOverrides:
    """Read a utility's override file (TOML: ``workdays``, ``holidays``, ``years``)."""
    return msgspec.toml.decode(Path(path).read_bytes(), type=CalendarOverrides)


def override_years(overrides: CalendarOverrides) -> list[CalendarYear]:
    """The complete years of an override file, each checked like an imported notice."""
    out: list[CalendarYear] = []
    for year in overrides.years:
        holidays = [NoticeHoliday(name="override", first=d, last=d)
                    for d in overrides.holidays if d.year == year]
        work = [d for d in overrides.workdays if d.year == year]
        if work:
            first = holidays[0].first if holidays else date(year, 1, 1)
            holidays.append(NoticeHoliday(name="override", first=first, last=first,
                                          workdays=work))
        notice = YearNotice(year=year, notice="calendar override file", holidays=holidays)
        problems = validate_notice(notice)
        if problems:
            raise CalendarNoticeError(year, problems)
        out.append(year_from_notice(notice))
    return out


@cache
def package_years() -> tuple[CalendarYear, ...]:
    """The official years shipped in ``chinesecalendar`` (immutable, read once)."""
    years: dict[int, tuple[dict[date, str], dict[date, str]]] = {}
    for day, name in chinese_calendar.holidays.items():
        years.setdefault(day.year, ({}, {}))[0][day] = str(name)
    for day, name in chinese_calendar.workdays.items():
        years.setdefault(day.year, ({}, {}))[1][day] = str(name)
    version = f"chinesecalendar {getattr(chinese_calendar, '__version__', '')}".strip()
    return tuple(
        CalendarYear(year=y, source=YearSource.OFFICIAL, rest=rest, work=work, origin=version)
        for y, (rest, work) in sorted(years.items())
    )


def _parse_hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


class WorkCalendar:
    """Counts working days and working hours in local time.

    All inputs and outputs are timezone-aware datetimes; arithmetic is done in the
    profile's timezone because a working day is a local notion.

    Years: the package's official years, then ``years`` (imported notices, newer than
    the package for the same year), then the override file's complete years; any other
    year is provisional, computed once on first use. ``install`` adds an imported year
    at run time (the calendar service calls it after storing the notice).
    """

    horizon_warning: ClassVar[timedelta] = timedelta(days=60)

    def __init__(
        self,
        hours: WorkingHours | None = None,
        overrides: CalendarOverrides | None = None,
        years: Iterable[CalendarYear] = (),
    ) -> None:
        self.hours = hours or WorkingHours()
        self.tz = ZoneInfo(self.hours.timezone)
        self.periods = [(_parse_hhmm(a), _parse_hhmm(b)) for a, b in self.hours.periods]
        if any(a >= b for a, b in self.periods):
            raise ValueError("each working period must start before it ends")
        self._overrides = overrides or CalendarOverrides()
        self._extra_work = set(self._overrides.workdays)
        self._extra_off = set(self._overrides.holidays)
        self._years: dict[int, CalendarYear] = {y.year: y for y in package_years()}
        for year in [*years, *override_years(self._overrides)]:
            self._years[year.year] = year
        self._cache: dict[date, bool] = {}

    def year(self, year: int) -> CalendarYear:
        """The calendar of ``year``: official or imported if known, else provisional."""
        known = self._years.get(year)
        if known is None:
            known = provisional_year(year)
            self._years[year] = known
        return known

    def install(self, year: CalendarYear) -> None:
        """Make an imported year official from now on (forgets what was cached for it)."""
        self._years[year.year] = year
        for day in [d for d in self._cache if d.year == year.year]:
            del self._cache[day]

    def official_years(self) -> list[int]:
        return sorted(y for y, c in self._years.items() if c.official)

    def is_provisional(self, year: int) -> bool:
        return not self.year(year).official

    def provisional_between(self, start: datetime, end: datetime) -> bool:
        """Whether any day from ``start`` to ``end`` (local dates) lies in a provisional year."""
        first = start.astimezone(self.tz).year
        last = max(first, end.astimezone(self.tz).year)
        return any(self.is_provisional(y) for y in range(first, last + 1))

    def is_workday(self, day: date) -> bool:
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        if day in self._extra_work:
            result = True
        elif day in self._extra_off:
            result = False
        else:
            result = self.year(day.year).is_workday(day)
        self._cache[day] = result
        return result

    def working_hours_per_day(self) -> timedelta:
        return sum(
            (
                datetime.combine(date.min, b) - datetime.combine(date.min, a)
                for a, b in self.periods
            ),
            timedelta(0),
        )

    def add_working_days(self, start: datetime, days: float) -> datetime:
        """The moment ``days`` working days after ``start`` (see ``_add_working_days``)."""
        try:
            return self._add_working_days(start, days)
        except OverflowError:
            raise CalendarRangeError(start.date()) from None

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """When ``hours`` of working time have passed (see ``_add_working_hours``)."""
        try:
            return self._add_working_hours(start, hours)
        except OverflowError:
            raise CalendarRangeError(start.date()) from None

    def _add_working_days(self, start: datetime, days: float) -> datetime:
        """The moment ``days`` working days after ``start``.

        Whole days keep the time of day (a ticket accepted Friday 15:00 with 1 working
        day is due Monday 15:00, or the next working day after a holiday). A start on a
        day off counts from 00:00 of the next working day. A fractional part is counted
        in working hours, as a share of one working day.
        """
        if days < 0:
            raise ValueError("a limit is never negative")
        local = start.astimezone(self.tz)
        whole = int(days)
        fraction = days - whole
        day = local.date()
        if not self.is_workday(day):
            while not self.is_workday(day):
                day += timedelta(days=1)
            local = datetime.combine(day, time(0), self.tz)
        counted = 0
        while counted < whole:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        result = datetime.combine(day, local.timetz().replace(tzinfo=None), self.tz)
        if fraction:
            hours = self.working_hours_per_day().total_seconds() / 3600 * fraction
            result = self._add_working_hours(result, hours)
        return result.astimezone(start.tzinfo)

    def _add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment when ``hours`` of working time have passed since ``start``.

        Time outside the working periods and on days off does not count; a start outside
        the periods begins counting at the next period.
        """
        if hours < 0:
            raise ValueError("a limit is never negative")
        remaining = timedelta(hours=hours)
        local = start.astimezone(self.tz)
        day = local.date()
        cursor = local
        # a bound on the days walked, never reached: at least one working day in every
        # two calendar days over a span, plus the longest run of days off (a holiday week)
        per_day = self.working_hours_per_day() / timedelta(hours=1)
        if per_day <= 0:
            raise ValueError("the working hours have no period: working time never passes")
        for _ in range(30 + 2 * int(hours / per_day + 1)):
            if self.is_workday(day):
                for begin, end in self.periods:
                    p_start = datetime.combine(day, begin, self.tz)
                    p_end = datetime.combine(day, end, self.tz)
                    if cursor >= p_end:
                        continue
                    from_ = max(cursor, p_start)
                    available = p_end - from_
                    if remaining <= available:
                        return (from_ + remaining).astimezone(start.tzinfo)
                    remaining -= available
                    cursor = p_end
            day += timedelta(days=1)
            cursor = datetime.combine(day, time(0), self.tz)
        raise ValueError("working-hours limit too large")

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time elapsed from ``start`` to ``end`` (zero if end precedes start)."""
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        day = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while day <= last:
            if self.is_workday(day):
                for begin, stop in self.periods:
                    p_start = datetime.combine(day, begin, self.tz)
                    p_end = datetime.combine(day, stop, self.tz)
                    lo, hi = max(p_start, start), min(p_end, end)
                    if hi > lo:
                        total += hi - lo
            day += timedelta(days=1)
        return total
