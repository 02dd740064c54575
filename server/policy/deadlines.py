"""Turning a rule into a due time.

``deadline_for`` is pure: it takes the start, the rule and the calendar. Every deadline
counts on server time (device clocks are kept as data, never trusted for deadlines).
``is_provisional`` says whether a deadline leaned on a year whose holiday notice is not
yet imported; such deadlines are stored with the flag and recomputed on import.
"""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta

import msgspec

from server.policy.calendar import WORKING_UNITS, WorkCalendar
from server.policy.model import Clock, Direction, Rule, TimeUnit


def add_months(start: datetime, months: float, calendar: WorkCalendar) -> datetime:
    """The end of the ``months``-th local calendar month counting the start's own month as
    the first (00:00 local on the 1st of the month after); 0 months is the start itself.

    A fraction counts the last month partly: 0.8 of one month started on 10 November ends
    80 % into November (the reminder point). Months are local because "每月" is.
    """
    if months <= 0:
        return start
    local = start.astimezone(calendar.tz)
    whole = math.ceil(months) - 1
    index = local.year * 12 + local.month - 1 + whole
    first = datetime.combine(local.replace(year=index // 12, month=index % 12 + 1, day=1).date(),
                             time(0), calendar.tz)
    nxt = index + 1
    end = datetime.combine(first.replace(year=nxt // 12, month=nxt % 12 + 1).date(), time(0),
                           calendar.tz)
    part = months - whole
    begin = local if whole == 0 else first
    return (begin + (end - begin) * part).astimezone(start.tzinfo)


def add_duration(start: datetime, limit: float, unit: TimeUnit, calendar: WorkCalendar) -> datetime:
    if limit < 0:
        raise ValueError("a limit is never negative")
    if unit is TimeUnit.CALENDAR_MONTHS:
        return add_months(start, limit, calendar)
    if unit is TimeUnit.MINUTES:
        return start + timedelta(minutes=limit)
    if unit is TimeUnit.HOURS:
        return start + timedelta(hours=limit)
    if unit is TimeUnit.DAYS:
        return start + timedelta(days=limit)
    if unit is TimeUnit.WORKING_HOURS:
        return calendar.add_working_hours(start, limit)
    return calendar.add_working_days(start, limit)


def deadline_for(start: datetime, rule: Rule, calendar: WorkCalendar) -> datetime:
    """When a ``within`` rule started at ``start`` falls due.

    For an ``ahead`` rule (a notice lead time) pass the event time and read the result
    as "the latest moment to act" via ``latest_before``.
    """
    if start.tzinfo is None:
        raise ValueError("deadlines need timezone-aware times")
    if rule.unit is None or rule.direction is Direction.AT_LEAST:
        raise ValueError(f"rule {rule.title!r} is a target, not a time limit")
    if rule.direction is Direction.AHEAD:
        raise ValueError(f"rule {rule.title!r} is a lead time; use latest_before")
    ends = [add_duration(start, rule.upper, rule.unit, calendar)]
    ends += [add_duration(start, _upper(c), c.unit, calendar) for c in rule.alternatives]
    return min(ends)


def _upper(clock: Clock) -> float:
    return clock.limit if clock.limit_max is None else clock.limit_max


def reminder_for(start: datetime, rule: Rule, calendar: WorkCalendar, fraction: float
                 ) -> datetime:
    """When the assignee is reminded, on the rule's own clock.

    A range (LC §14(三) "3 至 5 天") is reminded at its lower end and overdue past its
    upper end; any other limit is reminded once ``fraction`` of it has passed (a
    working-hours rule after that share of *working* time). With alternatives (strict),
    the earliest reminder of any of its clocks.
    """
    if rule.unit is None or rule.direction is Direction.AT_LEAST:
        raise ValueError(f"rule {rule.title!r} is a target, not a time limit")
    clocks = [Clock(limit=rule.limit, limit_max=rule.limit_max, unit=rule.unit),
              *rule.alternatives]
    return min(add_duration(start, c.limit if c.limit_max is not None else c.limit * fraction,
                            c.unit, calendar) for c in clocks)


def latest_before(event: datetime, rule: Rule) -> datetime:
    """The latest moment a lead-time rule allows acting before ``event`` (calendar time)."""
    if rule.direction is not Direction.AHEAD or rule.unit is None:
        raise ValueError(f"rule {rule.title!r} is not a lead time")
    return event - rule.nominal()


def is_provisional(start: datetime, due: datetime, rule: Rule, calendar: WorkCalendar) -> bool:
    """Whether the deadline from ``start`` to ``due`` leaned on a provisional calendar year.

    Only clocks that count working time depend on the holiday calendar; a limit in
    minutes, hours, calendar days or months is exact whatever year it falls in. A strict
    rule with alternatives leans on the calendar when any of its clocks does.
    """
    return counts_working_time(rule) and calendar.provisional_between(start, due)


def counts_working_time(rule: Rule) -> bool:
    """Whether any clock of ``rule`` (its own or a strict alternative) counts working time."""
    return bool({rule.unit, *(c.unit for c in rule.alternatives)} & WORKING_UNITS)


class Timing(msgspec.Struct, frozen=True, kw_only=True):
    """When a started clock falls due, when to remind, and whether that is provisional."""

    due_at: datetime
    remind_at: datetime
    provisional: bool


def time_rule(start: datetime, rule: Rule, calendar: WorkCalendar,
              reminder_fraction: float) -> Timing:
    """Due time, reminder time (after ``reminder_fraction`` of the limit, on the rule's own
    clock; a range at its lower end) and the provisional flag of a ``within`` rule started
    at ``start``.

    The one computation behind every stored deadline, so a recompute after a holiday
    notice is imported gives exactly what a new record would get.
    """
    due = deadline_for(start, rule, calendar)
    remind = reminder_for(start, rule, calendar, reminder_fraction)
    return Timing(due_at=due, remind_at=remind, provisional=is_provisional(start, due, rule,
                                                                            calendar))


class OpenClock(msgspec.Struct, frozen=True, kw_only=True):
    """A stored, still running deadline that was counted on a provisional year.

    ``entity``/``entity_id`` name its record (ticket, complaint, work_order) and ``part``
    tells its clocks apart (a ticket's kind, a complaint's round); a recompute after a
    holiday notice is imported rewrites it through its own store.
    """

    entity: str
    entity_id: str
    part: str
    rule: str
    starts_at: datetime
    due_at: datetime
    remind_at: datetime | None = None
