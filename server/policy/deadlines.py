"""Turning a rule into a due time.

``deadline_for`` is pure: it takes the start, the rule and the calendar. Every deadline
counts on server time (device clocks are kept as data, never trusted for deadlines).
``is_provisional`` says whether a deadline leaned on a year whose holiday notice is not
yet imported; such deadlines are stored with the flag and recomputed on import.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from server.policy.calendar import WORKING_UNITS, WorkCalendar
from server.policy.model import Direction, Rule, TimeUnit


def add_duration(start: datetime, limit: float, unit: TimeUnit, calendar: WorkCalendar) -> datetime:
    if limit < 0:
        raise ValueError("a limit is never negative")
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
    return add_duration(start, rule.limit, rule.unit, calendar)


def latest_before(event: datetime, rule: Rule) -> datetime:
    """The latest moment a lead-time rule allows acting before ``event`` (calendar time)."""
    if rule.direction is not Direction.AHEAD or rule.unit is None:
        raise ValueError(f"rule {rule.title!r} is not a lead time")
    return event - rule.nominal()


def is_provisional(start: datetime, due: datetime, rule: Rule, calendar: WorkCalendar) -> bool:
    """Whether the deadline from ``start`` to ``due`` leaned on a provisional calendar year.

    Only clocks that count working time depend on the holiday calendar; a limit in
    minutes, hours or calendar days is exact whatever year it falls in.
    """
    return rule.unit in WORKING_UNITS and calendar.provisional_between(start, due)


class Timing(msgspec.Struct, frozen=True, kw_only=True):
    """When a started clock falls due, when to remind, and whether that is provisional."""

    due_at: datetime
    remind_at: datetime
    provisional: bool


def time_rule(start: datetime, rule: Rule, calendar: WorkCalendar,
              reminder_fraction: float) -> Timing:
    """Due time, reminder time (after ``reminder_fraction`` of the limit, on the rule's own
    clock) and the provisional flag of a ``within`` rule started at ``start``.

    The one computation behind every stored deadline, so a recompute after a holiday
    notice is imported gives exactly what a new record would get.
    """
    due = deadline_for(start, rule, calendar)
    unit = rule.unit or TimeUnit.HOURS  # deadline_for has refused targets (no unit)
    remind = add_duration(start, rule.limit * reminder_fraction, unit, calendar)
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
