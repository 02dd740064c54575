"""Shared foundations every package builds on: the one timestamp type and the unit of work.

``core`` imports nothing of ours (an import contract says so), so ``server``, ``sync``,
``geo`` and ``notifications`` can all use it without breaking the dependency rule.
"""

from core.time import (
    EVENT_YEARS,
    TimeChecked,
    TimeRangeError,
    check_event_time,
    check_times,
    from_db,
    opt_from_db,
    opt_to_db,
    to_db,
)

__all__ = [
    "EVENT_YEARS",
    "TimeChecked",
    "TimeRangeError",
    "check_event_time",
    "check_times",
    "from_db",
    "opt_from_db",
    "opt_to_db",
    "to_db",
]
