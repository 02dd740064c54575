"""Working days and working hours on China's official calendar.

Public holidays and the make-up working days on weekends come from the maintained
``chinesecalendar`` package (updated each year when the State Council publishes the
schedule). A utility can add its own days in an override file. A date in a year the
package does not know raises ``CalendarRangeError``: a silent guess would make a
deadline wrong without anyone noticing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import msgspec

from server.policy.model import WorkingHours


class CalendarRangeError(ValueError):
    """The date lies outside the years the holiday calendar knows."""

    code = "calendar-out-of-range"
    http_status = 422

    def __init__(self, day: date, first: int, last: int) -> None:
        super().__init__(
            f"{day.isoformat()} is outside the official holiday calendar ({first}-{last}); "
            "update the chinesecalendar package or add the days to the override file"
        )
        self.day = day
        self.first_year = first
        self.last_year = last


class CalendarOverrides(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: extra working days (e.g. a utility's own make-up day)
    workdays: list[date] = msgspec.field(default_factory=list)
    #: extra days off (e.g. a local holiday)
    holidays: list[date] = msgspec.field(default_factory=list)
    #: years past the package's range that this file describes completely (the utility
    #: typed in the State Council's schedule before a package update): in them weekends
    #: are days off and weekdays working days, except the days listed above
    years: list[int] = msgspec.field(default_factory=list)


def read_overrides(path: str | Path) -> CalendarOverrides:
    """Read a utility's override file (TOML: ``workdays``, ``holidays``, ``years``)."""
    return msgspec.toml.decode(Path(path).read_bytes(), type=CalendarOverrides)


def _parse_hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


class WorkCalendar:
    """Counts working days and working hours in local time.

    All inputs and outputs are timezone-aware datetimes; arithmetic is done in the
    profile's timezone because a working day is a local notion.
    """

    def __init__(
        self,
        hours: WorkingHours | None = None,
        overrides: CalendarOverrides | None = None,
    ) -> None:
        self.hours = hours or WorkingHours()
        self.tz = ZoneInfo(self.hours.timezone)
        self.periods = [(_parse_hhmm(a), _parse_hhmm(b)) for a, b in self.hours.periods]
        if any(a >= b for a, b in self.periods):
            raise ValueError("each working period must start before it ends")
        self._overrides = overrides or CalendarOverrides()
        self._extra_work = set(self._overrides.workdays)
        self._extra_off = set(self._overrides.holidays)
        self._own_years = set(self._overrides.years)
        self._first, self._last = self._known_years()
        self._cache: dict[date, bool] = {}

    @staticmethod
    def _known_years() -> tuple[int, int]:
        years = {d.year for d in chinese_calendar.holidays} | {
            d.year for d in chinese_calendar.workdays
        }
        return min(years), max(years)

    @property
    def known_years(self) -> tuple[int, int]:
        return self._first, self._last

    def is_workday(self, day: date) -> bool:
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        if day in self._extra_work:
            result = True
        elif day in self._extra_off:
            result = False
        elif self._first <= day.year <= self._last:
            result = bool(chinese_calendar.is_workday(day))
        elif day.year in self._own_years:
            result = day.weekday() < 5
        else:
            raise CalendarRangeError(day, self._first, self._last)
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
            result = self.add_working_hours(result, hours)
        return result.astimezone(start.tzinfo)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
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
        for _ in range(3660):  # ten years of days: a bound, never reached by real limits
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
