"""The stages of a connection and their clocks: pure functions, no I/O.

A stage after acceptance is reached when every step of it on the work order has its
evidence *and* the stage before it is reached: evidence recorded out of order offline
never skips a stage, and the stage's time is the later of the two. Each stage's clock
starts when the previous one is reached (survey and the total from acceptance, or from
the completed documents when the profile's clock waits for them); its due time is its
own limit from the profile for the project type, but never later than the whole
connection's due time (KF 表1 gives only the total; a stage must be done by then).
The return visit (JN 15) counts from the meter fitting and is not capped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from server.connections.model import Stage
from server.policy import TimeUnit, WorkCalendar, add_duration
from server.policy.calendar import WORKING_UNITS
from server.policy.connections import ConnectionLimit, ConnectionPolicy
from server.workorders.model import Deadline

PREFIX: Final = "connection_"
TOTAL: Final = "connection_total"

#: steps of the work order that make up each stage reached in the field, in order
STAGE_STEPS: Final[dict[Stage, tuple[str, ...]]] = {
    Stage.SURVEYED: ("survey_photos", "survey_point", "survey_notes"),
    Stage.DESIGNED: ("design_sketch",),
    Stage.CONSTRUCTED: ("opening", "trench", "bedding", "pipe_laying", "backfill",
                        "meter_well", "meter_installation", "completion_acceptance",
                        "water_quality_test"),
    Stage.METER_FITTED: ("meter_fitting",),
    Stage.WATER_ON: ("water_on",),
}
#: construction steps a connection without external works does not have
EXTERNAL_ONLY: Final = frozenset({"opening", "trench", "bedding", "pipe_laying", "backfill"})
#: the clock (profile stage name) each reached stage meets
CLOCK_OF: Final[dict[Stage, str]] = {
    Stage.ACCEPTED: "acceptance", Stage.SURVEYED: "survey", Stage.DESIGNED: "design",
    Stage.CONSTRUCTED: "construction", Stage.METER_FITTED: "meter_fitting",
    Stage.WATER_ON: "water_on", Stage.VISITED: "return_visit",
}
#: the clock that starts when a stage is reached (besides the return visit)
NEXT_CLOCK: Final[dict[Stage, str]] = {
    Stage.SURVEYED: "design", Stage.DESIGNED: "construction",
    Stage.CONSTRUCTED: "meter_fitting", Stage.METER_FITTED: "water_on",
}
ORDER: Final = (Stage.APPLIED, Stage.ACCEPTED, Stage.SURVEYED, Stage.DESIGNED,
                Stage.CONSTRUCTED, Stage.METER_FITTED, Stage.WATER_ON, Stage.VISITED)


def rule_key(clock: str) -> str:
    return PREFIX + clock


def steps_of(stage: Stage, external_works: bool) -> tuple[str, ...]:
    return tuple(s for s in STAGE_STEPS[stage] if external_works or s not in EXTERNAL_ONLY)


def reached(done: Mapping[str, datetime | None], accepted_at: datetime,
            external_works: bool) -> dict[Stage, datetime]:
    """Field stages reached, with their times, from the steps' completion times.

    ``done`` maps step key to when its evidence was complete (None: not yet).
    """
    out: dict[Stage, datetime] = {}
    previous = accepted_at
    for stage in STAGE_STEPS:
        times = [done.get(key) for key in steps_of(stage, external_works)]
        if any(t is None for t in times):
            break
        at = max([previous, *[t for t in times if t is not None]])
        out[stage] = at
        previous = at
    return out


def due(start: datetime, limit: ConnectionLimit, calendar: WorkCalendar,
        value: float | None = None) -> datetime:
    """When ``limit`` (its upper end, or the committed ``value``) started at ``start`` ends."""
    return add_duration(start, limit.upper if value is None else value, TimeUnit(limit.unit),
                        calendar)


def deadline(key: str, limit: ConnectionLimit, start: datetime, due_at: datetime,
             calendar: WorkCalendar) -> Deadline:
    return Deadline(rule=key, title=limit.title or key, clause=limit.clause, starts_at=start,
                    due_at=due_at,
                    provisional=(TimeUnit(limit.unit) in WORKING_UNITS
                                 and calendar.provisional_between(start, due_at)))


def stage_deadline(policy: ConnectionPolicy, project_type: str, clock: str, start: datetime,
                   total_due: datetime | None, calendar: WorkCalendar) -> Deadline:
    """The deadline of one stage clock, capped at the whole connection's due time."""
    limit = policy.stage_limit(project_type, clock)
    if limit is None:
        total = policy.types[project_type].total
        assert total_due is not None  # noqa: S101 - a stage without a limit has a total
        return deadline(rule_key(clock), total, start, max(start, total_due), calendar)
    own = due(start, limit, calendar)
    if total_due is not None and clock != "return_visit" and total_due < own:
        own = max(start, total_due)
    return deadline(rule_key(clock), limit, start, own, calendar)


def total_deadline(policy: ConnectionPolicy, project_type: str, start: datetime,
                   committed: float | None, calendar: WorkCalendar) -> Deadline:
    limit = policy.types[project_type].total
    return deadline(TOTAL, limit, start, due(start, limit, calendar, committed), calendar)


def check_committed(limit: ConnectionLimit, committed: float | None) -> str | None:
    """Why a committed limit is not allowed (None: fine). Only a range can be narrowed."""
    if committed is None:
        return None
    if not limit.limit <= committed <= limit.upper:
        return (f"the committed limit must lie within {limit.limit:g}-{limit.upper:g} "
                f"{limit.unit.replace('_', ' ')} ({limit.clause})")
    return None
