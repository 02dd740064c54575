"""Service policy profiles: every time limit and target of the service rules, as data.

A profile is a TOML file validated by msgspec. Each rule carries its limit, the clock it
counts on (calendar time, working hours or working days) and the clause of the source
standard it comes from, so a supervisor can trace any deadline back to its rule.
"""

from server.policy.calendar import CalendarNoticeError, CalendarRangeError, WorkCalendar
from server.policy.deadlines import (
    OpenClock,
    Timing,
    add_duration,
    deadline_for,
    is_provisional,
    time_rule,
)
from server.policy.load import PolicyError, available_profiles, load_profile, strictest_of
from server.policy.model import Direction, PolicyProfile, Rule, TimeUnit, WorkingHours

__all__ = [
    "CalendarNoticeError",
    "CalendarRangeError",
    "Direction",
    "OpenClock",
    "PolicyError",
    "PolicyProfile",
    "Rule",
    "TimeUnit",
    "Timing",
    "WorkCalendar",
    "WorkingHours",
    "add_duration",
    "available_profiles",
    "deadline_for",
    "is_provisional",
    "load_profile",
    "strictest_of",
    "time_rule",
]
