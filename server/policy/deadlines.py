"""Turning a rule into a due time.

``deadline_for`` is pure: it takes the start, the rule and the calendar. Every deadline
counts on server time (device clocks are kept as data, never trusted for deadlines).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from server.policy.calendar import WorkCalendar
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
