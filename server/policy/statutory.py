"""China's statutory public holidays by rule, for any year: the basis of a provisional year.

The State Council publishes each year's schedule (holidays, bridging days and the
weekend days worked to make up for them) only weeks before the year starts. Until that
notice is imported, deadlines in that year are counted on a *provisional* calendar built
from the rules that do not change from year to year:

* 《全国年节及纪念日放假办法》 as revised in 2024 (in force from 2025): New Year's Day 1
  day, Spring Festival 4 days (the eve and the first three days of the lunar year),
  Qingming 1, Labour Day 2, Dragon Boat 1, Mid-Autumn 1, National Day 3 — 13 days.
  Earlier revisions are kept as data so old years validate too (2014–2024: 11 days,
  Spring Festival the first three days; 2008–2013: 11 days, the eve and the first two).
* Article 6: a statutory day falling on a Saturday or Sunday is given back on a working
  day ("适逢周六、周日，应当在工作日补假"); a provisional year gives it on the next
  weekday that is not already a day off.

Lunar and solar-term dates (Spring Festival, Qingming, Dragon Boat, Mid-Autumn) come from
python-holidays' China calendar, a maintained library: this module never computes a
lunar date itself. Outside the library's range (it starts in 1950 and knows lunar dates
up to 2100) only the fixed-date holidays can be placed; ``StatutoryYear.lunar_known``
then says so.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

import holidays
import msgspec


class FestivalRule(msgspec.Struct, frozen=True, kw_only=True):
    """How many days one festival gives, and from which anchor day they count."""

    key: str
    #: the Chinese name printed in the State Council's notice
    name: str
    days: int
    #: offset of the first day from the anchor (-1: the Spring Festival eve)
    first_offset: int = 0


class HolidayRules(msgspec.Struct, frozen=True, kw_only=True):
    """One revision of the national holiday measures, in force from ``since``."""

    since: int
    title: str
    festivals: tuple[FestivalRule, ...]

    @property
    def total_days(self) -> int:
        return sum(f.days for f in self.festivals)


def _rules(since: int, title: str, spring: tuple[int, int], labour: int) -> HolidayRules:
    spring_days, spring_offset = spring
    return HolidayRules(since=since, title=title, festivals=(
        FestivalRule(key="new_year", name="元旦", days=1),
        FestivalRule(key="spring_festival", name="春节", days=spring_days,
                     first_offset=spring_offset),
        FestivalRule(key="qingming", name="清明节", days=1),
        FestivalRule(key="labour_day", name="劳动节", days=labour),
        FestivalRule(key="dragon_boat", name="端午节", days=1),
        FestivalRule(key="mid_autumn", name="中秋节", days=1),
        FestivalRule(key="national_day", name="国庆节", days=3),
    ))


#: newest first; ``rules_for`` picks the first whose ``since`` is not after the year
REVISIONS: Final[tuple[HolidayRules, ...]] = (
    _rules(2025, "全国年节及纪念日放假办法 (2024 revision)", (4, -1), 2),
    _rules(2014, "全国年节及纪念日放假办法 (2013 revision)", (3, 0), 1),
    _rules(2008, "全国年节及纪念日放假办法 (2007 revision)", (3, -1), 1),
)

#: python-holidays' English names of the days that anchor each festival
_ANCHOR_NAMES: Final[dict[str, str]] = {
    "Chinese New Year (Spring Festival)": "spring_festival",
    "Tomb-Sweeping Day": "qingming",
    "Dragon Boat Festival": "dragon_boat",
    "Mid-Autumn Festival": "mid_autumn",
}
_FIXED_ANCHORS: Final[dict[str, tuple[int, int]]] = {
    "new_year": (1, 1), "labour_day": (5, 1), "national_day": (10, 1),
}


def rules_for(year: int) -> HolidayRules:
    """The revision of the holiday measures in force in ``year`` (the oldest before 2008)."""
    for revision in REVISIONS:
        if year >= revision.since:
            return revision
    return REVISIONS[-1]


class StatutoryYear(msgspec.Struct, frozen=True, kw_only=True):
    year: int
    rules: HolidayRules
    #: statutory day -> the festival's Chinese name
    days: dict[date, str]
    #: False when the lunar festivals of this year could not be placed (outside 1950–2100)
    lunar_known: bool

    def on_weekend(self) -> list[date]:
        return sorted(d for d in self.days if d.weekday() >= 5)


def _anchors(year: int) -> dict[str, date]:
    anchors = {key: date(year, m, d) for key, (m, d) in _FIXED_ANCHORS.items()}
    lunar = holidays.country_holidays("CN", years=year, observed=False, language="en_US")
    for day, name in sorted(lunar.items()):
        key = _ANCHOR_NAMES.get(str(name))
        if key is not None and key not in anchors:
            anchors[key] = day
    return anchors


def statutory_days(year: int) -> StatutoryYear:
    """Every statutory holiday of ``year`` with its festival name (no bridging days).

    A festival whose days spill over the year's edge (a Spring Festival eve on 31
    December is impossible, but the rule is general) keeps only the days inside ``year``.
    """
    rules = rules_for(year)
    anchors = _anchors(year)
    days: dict[date, str] = {}
    for festival in rules.festivals:
        anchor = anchors.get(festival.key)
        if anchor is None:
            continue
        for i in range(festival.days):
            day = anchor + timedelta(days=festival.first_offset + i)
            if day.year == year:
                days.setdefault(day, festival.name)
    lunar_known = all(key in anchors for key in _ANCHOR_NAMES.values())
    return StatutoryYear(year=year, rules=rules, days=days, lunar_known=lunar_known)


def provisional_rest_days(year: int) -> dict[date, str]:
    """Days off of a provisional ``year``: statutory days plus Article 6 substitutes.

    Each statutory day on a weekend is given back on the next weekday that is not
    already off (the substitute may fall in the next year only for a 31 December, which
    no statutory day is). No adjusted working days: those come only with the notice.
    """
    stat = statutory_days(year)
    rest = dict(stat.days)
    for day in stat.on_weekend():
        substitute = day + timedelta(days=1)
        while substitute.weekday() >= 5 or substitute in rest:
            substitute += timedelta(days=1)
        if substitute.year == year:
            rest[substitute] = f"{stat.days[day]}（补假）"
    return rest
