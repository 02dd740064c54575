"""Which deadlines a work order carries, and which status meets each.

The profile says which rules apply to each type; this module says when a rule is met
(the status that ends the clock). Restoration of a burst picks the small- or large-pipe
rule by the pipe's nominal diameter, per the profile's split (DN 500 by default).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from server.policy import PolicyProfile, WorkCalendar, deadline_for, is_provisional
from server.workorders.model import Deadline, Status

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
}

#: the order in which an order passes statuses, to tell "reached or passed"
PROGRESS: Final[dict[Status, int]] = {
    Status.CREATED: 0, Status.ASSIGNED: 1, Status.CONTACTED: 2, Status.EN_ROUTE: 3,
    Status.ON_SITE: 4, Status.IN_PROGRESS: 5, Status.COMPLETED: 6, Status.VERIFIED: 7,
}


def rule_keys(profile: PolicyProfile, wo_type: str, pipe_diameter_mm: int | None) -> list[str]:
    keys: list[str] = []
    for key in profile.workorder_rules.get(wo_type, []):
        if key == "burst_restore":
            split = profile.thresholds.restoration_dn_split_mm
            large = pipe_diameter_mm is not None and pipe_diameter_mm > split
            keys.append("burst_restore_large" if large else "burst_restore_small")
        else:
            keys.append(key)
    return keys


def compute_deadlines(
    profile: PolicyProfile,
    calendar: WorkCalendar,
    wo_type: str,
    reported_at: datetime,
    pipe_diameter_mm: int | None,
) -> list[Deadline]:
    """Deadlines counted from the report time (server time), one per applicable rule."""
    out = []
    for key in rule_keys(profile, wo_type, pipe_diameter_mm):
        rule = profile.rule(key)
        due = deadline_for(reported_at, rule, calendar)
        out.append(
            Deadline(
                rule=key,
                title=rule.title,
                clause=rule.clause,
                starts_at=reported_at,
                due_at=due,
                provisional=is_provisional(reported_at, due, rule, calendar),
            )
        )
    return out


def met_rules(new_status: Status) -> list[str]:
    """Rules a move to ``new_status`` meets (reaching a later status meets earlier ones)."""
    rank = PROGRESS.get(new_status)
    if rank is None:
        return []
    return [key for key, status in MET_BY.items() if PROGRESS[status] <= rank]
