"""One year of the working calendar, where it came from, and the notices that make it official.

A ``CalendarYear`` lists the days that break the weekday/weekend pattern: days off on
weekdays (and the weekend days inside a holiday period, for display) and the weekend
days worked to make up for bridging days. Its ``source`` tells how far to trust it:

* ``official``: the State Council's schedule, from the chinesecalendar package;
* ``imported``: the State Council's schedule, imported by the utility
  (``waterops calendar import``) before a package update;
* ``provisional``: computed from the statutory rules (``server.policy.statutory``) while
  the year's notice is awaited. Deadlines counted on such a year say so.

``validate_notice`` checks an imported notice against the statutory rules, so a file with
half the year, a missing festival or no make-up days where the holidays imply some is
refused with the days that are missing named.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Final

import msgspec

from server.policy.statutory import provisional_rest_days, rules_for, statutory_days

WEEKDAY_NAMES: Final = ("一", "二", "三", "四", "五", "六", "日")


class YearSource(StrEnum):
    OFFICIAL = "official"
    IMPORTED = "imported"
    PROVISIONAL = "provisional"


class CalendarYear(msgspec.Struct, frozen=True, kw_only=True):
    year: int
    source: YearSource
    #: day off -> its holiday's name (weekend days inside a holiday period may be listed)
    rest: dict[date, str] = msgspec.field(default_factory=dict)
    #: adjusted working days: weekend days worked in exchange for bridging days
    work: dict[date, str] = msgspec.field(default_factory=dict)
    #: where it came from: package version, the notice's number, or the statutory rules
    origin: str = ""

    @property
    def official(self) -> bool:
        return self.source is not YearSource.PROVISIONAL

    def is_workday(self, day: date) -> bool:
        if day in self.work:
            return True
        if day in self.rest:
            return False
        return day.weekday() < 5


class NoticeHoliday(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One festival of a State Council notice: "春节：2月5日至11日放假调休，共7天"."""

    #: the festival's name (春节, 国庆节...)
    name: str
    #: the first day off (`from`, a date)
    first: date = msgspec.field(name="from")
    #: the last day off (`to`, a date)
    last: date = msgspec.field(name="to")
    #: the weekend days worked for this festival ("1月31日（周日）上班")
    workdays: list[date] = msgspec.field(default_factory=list)


class YearNotice(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The State Council's schedule of one year, as a utility types it in (TOML or JSON)."""

    #: the year the notice schedules
    year: int
    #: the notice's title or number, e.g. "国办发明电〔2026〕7号"
    notice: str
    #: the festivals it schedules
    holidays: list[NoticeHoliday]


class DayInfo(msgspec.Struct, frozen=True, kw_only=True):
    #: the date
    day: date
    #: the day of the week
    weekday: str
    #: working | rest | adjusted (a weekend day worked)
    kind: str
    #: the holiday's name, on a day off or adjusted day
    name: str = ""


def expand(notice: YearNotice) -> tuple[dict[date, str], dict[date, str]]:
    """The notice's days off and adjusted working days, each with its festival's name."""
    rest: dict[date, str] = {}
    work: dict[date, str] = {}
    for h in notice.holidays:
        day = h.first
        while day <= h.last:
            rest.setdefault(day, h.name)
            day = date.fromordinal(day.toordinal() + 1)
        for w in h.workdays:
            work.setdefault(w, h.name)
    return rest, work


def validate_notice(notice: YearNotice) -> list[str]:
    """What is wrong with ``notice``, one sentence each; empty when it can be imported.

    Checks, against the statutory rules in force that year:
    * every day (holiday and workday) lies in the notice's year;
    * every statutory holiday is a day off, and at least the statutory number is listed;
    * the make-up days balance: weekdays off beyond the statutory days and the Article 6
      substitutes for statutory days on weekends need as many weekend days worked;
    * adjusted working days are weekend days, and no day is both off and worked.
    """
    problems: list[str] = []
    year = notice.year
    if not 1 <= year <= 9998:
        return [f"year {year} is outside the years a calendar can hold"]
    problems += [f"{h.name}: 'to' {h.last} is before 'from' {h.first}"
                 for h in notice.holidays if h.last < h.first]
    rest, work = expand(notice)
    outside = sorted(d for d in [*rest, *work] if d.year != year)
    if outside:
        problems.append(
            f"dates outside {year}: {', '.join(d.isoformat() for d in outside)} "
            "(each year's notice lists only its own days)"
        )
    stat = statutory_days(year)
    rules = rules_for(year)
    missing = sorted(d for d in stat.days if d not in rest)
    if missing:
        problems.append(
            "statutory holidays not listed as days off: "
            + ", ".join(f"{d.isoformat()} ({stat.days[d]})" for d in missing)
        )
    listed = len([d for d in rest if d.year == year])
    if listed < rules.total_days:
        problems.append(
            f"{listed} days off listed; the holiday measures ({rules.title}) give "
            f"{rules.total_days}"
        )
    weekday_work = sorted(d for d in work if d.weekday() < 5)
    if weekday_work:
        problems.append(
            "adjusted working days must be Saturdays or Sundays: "
            + ", ".join(d.isoformat() for d in weekday_work)
        )
    both = sorted(set(rest) & set(work))
    if both:
        problems.append("days both off and worked: " + ", ".join(d.isoformat() for d in both))
    weekdays_off = len([d for d in rest if d.weekday() < 5 and d.year == year])
    owed = len([d for d in stat.days if d.weekday() < 5]) + len(stat.on_weekend())
    implied = weekdays_off - owed
    weekend_work = len([d for d in work if d.weekday() >= 5])
    if implied > weekend_work:
        problems.append(
            f"the holidays give {weekdays_off} weekdays off, {implied} more than the "
            f"{owed} the statutory days and their substitutes account for, so "
            f"{implied} adjusted working days are implied; the notice lists {weekend_work}"
        )
    return problems


def year_from_notice(notice: YearNotice) -> CalendarYear:
    rest, work = expand(notice)
    return CalendarYear(year=notice.year, source=YearSource.IMPORTED, rest=rest, work=work,
                        origin=notice.notice)


def provisional_year(year: int) -> CalendarYear:
    stat = statutory_days(year)
    origin = f"statutory rules: {stat.rules.title}"
    if not stat.lunar_known:
        origin += "; lunar festivals unknown for this year (weekends and fixed dates only)"
    return CalendarYear(year=year, source=YearSource.PROVISIONAL,
                        rest=provisional_rest_days(year), origin=origin)


def days_of(year: CalendarYear) -> list[DayInfo]:
    """The year day by day, for ``waterops calendar show`` and the admin route."""
    out: list[DayInfo] = []
    day = date(year.year, 1, 1)
    while day.year == year.year:
        if day in year.work:
            kind, name = "adjusted", year.work[day]
        elif day in year.rest:
            kind, name = "rest", year.rest[day]
        elif day.weekday() >= 5:
            kind, name = "rest", ""
        else:
            kind, name = "working", ""
        out.append(DayInfo(day=day, weekday=WEEKDAY_NAMES[day.weekday()], kind=kind,
                           name=name))
        if day == date.max:
            break
        day = date.fromordinal(day.toordinal() + 1)
    return out
