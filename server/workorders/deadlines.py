"""Which deadlines a work order carries, when each starts and which status meets each.

The profile says which rules apply to each type and the event each rule's clock starts
at (``Rule.starts_on``); this module says which order event that is and when a rule is
met (the status that ends the clock). Restoration of a burst picks the small- or
large-pipe rule by the pipe's nominal diameter, per the profile's split (DN 500 by
default). JN counts restoration from the report, LC §24 from the start of repair work:
a rule starting on ``repair_start`` gets its clock when the order moves to in_progress.

A burst caused by a third party (``fields.third_party_damage`` true) also carries LC
§30's inspection-team clock, counted from the damage report (the order's report time),
met when the inspection team's arrival is recorded (``INSPECTION_RULE``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from server.policy import PolicyProfile, WorkCalendar, deadline_for, is_provisional
from server.policy.model import StartEvent
from server.workorders.model import Deadline, FieldValue, Status

#: LC §30: the inspection team on site within 1 h of a third party's damage report
INSPECTION_RULE: Final = "third_party_damage_arrival"
#: the order field a dispatcher or crew sets when a third party caused the damage
THIRD_PARTY_FIELD: Final = "third_party_damage"
#: start events that happen when the order is reported (its ``reported_at``)
AT_REPORT: Final = frozenset({StartEvent.REPORT, StartEvent.ROUTE_ISSUED,
                              StartEvent.DAMAGE_REPORT, StartEvent.FAULT_CONFIRMED})
#: start events an order's status change is: the status that starts their clocks
STARTED_BY: Final[dict[StartEvent, Status]] = {StartEvent.REPAIR_START: Status.IN_PROGRESS}

#: rule key -> the status whose reaching meets it
MET_BY: Final[dict[str, Status]] = {
    "burst_arrival": Status.ON_SITE,
    "burst_restore_small": Status.COMPLETED,
    "burst_restore_large": Status.COMPLETED,
    "meter_replacement": Status.COMPLETED,
    "meter_removal": Status.COMPLETED,
    "line_marking": Status.COMPLETED,
    "complaint_contact": Status.CONTACTED,
    "complaint_close": Status.COMPLETED,
    "meter_reading_monthly": Status.COMPLETED,
}

#: the order in which an order passes statuses, to tell "reached or passed"
PROGRESS: Final[dict[Status, int]] = {
    Status.CREATED: 0, Status.ASSIGNED: 1, Status.CONTACTED: 2, Status.EN_ROUTE: 3,
    Status.ON_SITE: 4, Status.IN_PROGRESS: 5, Status.COMPLETED: 6, Status.VERIFIED: 7,
}


def rule_keys(profile: PolicyProfile, wo_type: str, pipe_diameter_mm: int | None,
              fields: dict[str, FieldValue] | None = None) -> list[str]:
    keys: list[str] = []
    for key in profile.workorder_rules.get(wo_type, []):
        if key == "burst_restore":
            split = profile.thresholds.restoration_dn_split_mm
            large = pipe_diameter_mm is not None and pipe_diameter_mm > split
            keys.append("burst_restore_large" if large else "burst_restore_small")
        else:
            keys.append(key)
    if (wo_type == "burst_repair" and (fields or {}).get(THIRD_PARTY_FIELD) is True
            and INSPECTION_RULE in profile.rules):
        keys.append(INSPECTION_RULE)
    return keys


def deadline_of(profile: PolicyProfile, calendar: WorkCalendar, key: str,
              start: datetime) -> Deadline:
    """The deadline of rule ``key`` started at ``start``."""
    rule = profile.rule(key)
    due = deadline_for(start, rule, calendar)
    return Deadline(rule=key, title=rule.title, clause=rule.clause, starts_at=start,
                    due_at=due, provisional=is_provisional(start, due, rule, calendar))


def compute_deadlines(
    profile: PolicyProfile,
    calendar: WorkCalendar,
    wo_type: str,
    reported_at: datetime,
    pipe_diameter_mm: int | None,
    fields: dict[str, FieldValue] | None = None,
) -> list[Deadline]:
    """The deadlines that start at the report (server time), one per applicable rule;
    rules that start at a later event get theirs from ``started_deadlines``."""
    return [deadline_of(profile, calendar, key, reported_at)
            for key in rule_keys(profile, wo_type, pipe_diameter_mm, fields)
            if profile.rule(key).starts_on in AT_REPORT]


def started_deadlines(
    profile: PolicyProfile,
    calendar: WorkCalendar,
    wo_type: str,
    pipe_diameter_mm: int | None,
    fields: dict[str, FieldValue],
    new_status: Status,
    at: datetime,
) -> list[Deadline]:
    """The deadlines whose start event a move to ``new_status`` at ``at`` is (LC §24:
    restoration from the start of repair work)."""
    return [deadline_of(profile, calendar, key, at)
            for key in rule_keys(profile, wo_type, pipe_diameter_mm, fields)
            if STARTED_BY.get(profile.rule(key).starts_on) is new_status]


def met_rules(new_status: Status) -> list[str]:
    """Rules a move to ``new_status`` meets (reaching a later status meets earlier ones)."""
    rank = PROGRESS.get(new_status)
    if rank is None:
        return []
    return [key for key, status in MET_BY.items() if PROGRESS[status] <= rank]
