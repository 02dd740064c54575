"""The shape of a service policy profile (validated from TOML by msgspec)."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

import msgspec


class TimeUnit(StrEnum):
    """The clock a limit counts on."""

    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"


class Direction(StrEnum):
    """Whether a smaller or a larger value is the stricter rule.

    ``within``: act within the limit (arrival, restoration) — smaller is stricter.
    ``ahead``: act at least this long before an event (outage notice) — larger is stricter.
    ``at_least``: a target rate that must be reached — larger is stricter.
    """

    WITHIN = "within"
    AHEAD = "ahead"
    AT_LEAST = "at_least"


class Rule(msgspec.Struct, frozen=True, kw_only=True):
    limit: float
    unit: TimeUnit | None = None
    direction: Direction = Direction.WITHIN
    clause: str
    title: str
    #: e.g. "JN", "LC", "ZJ"; "derived" for the strict profile's choice
    source: str = ""

    def nominal(self) -> timedelta:
        """The limit as elapsed time, counting working units as calendar units.

        Used only to compare rules of different profiles; real deadlines go through
        ``deadline_for`` and the working calendar.
        """
        if self.unit is None:
            raise ValueError("a target rate has no duration")
        factor = {
            TimeUnit.MINUTES: timedelta(minutes=1),
            TimeUnit.HOURS: timedelta(hours=1),
            TimeUnit.WORKING_HOURS: timedelta(hours=1),
            TimeUnit.DAYS: timedelta(days=1),
            TimeUnit.WORKING_DAYS: timedelta(days=1),
        }[self.unit]
        return factor * self.limit


class WorkingHours(msgspec.Struct, frozen=True, kw_only=True):
    """Daily working periods in local time, e.g. [["08:30","12:00"],["13:30","17:30"]]."""

    periods: list[tuple[str, str]] = msgspec.field(
        default_factory=lambda: [("08:30", "12:00"), ("13:30", "17:30")]
    )
    timezone: str = "Asia/Shanghai"


class Thresholds(msgspec.Struct, frozen=True, kw_only=True):
    """Numbers that pick which rule applies (not time limits themselves)."""

    #: restoration deadline switches from the small-pipe to the large-pipe rule above this DN
    restoration_dn_split_mm: int = 500
    #: a planned outage affecting at least this many customers is "large" (48 h notice)
    large_outage_customers: int = 1000
    #: a planned outage lasting at least this many hours is "long" (48 h notice)
    long_outage_hours: float = 12.0
    #: water-quality complaints of one kind in one area within the window that raise an alert
    quality_cluster_count: int = 10
    quality_cluster_window_hours: float = 24.0
    quality_cluster_radius_m: float = 500.0
    #: remind the assignee when this share of the allowed time has passed
    reminder_fraction: float = 0.8
    #: quiet hours for non-urgent notices, local time
    quiet_start: str = "21:00"
    quiet_end: str = "07:30"
    #: threshold name -> the clause it comes from (traceability, shown in docs/rules.md)
    clauses: dict[str, str] = msgspec.field(default_factory=dict)


class PolicyProfile(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    title: str
    sources: list[str] = msgspec.field(default_factory=list)
    working_hours: WorkingHours = msgspec.field(default_factory=WorkingHours)
    thresholds: Thresholds = msgspec.field(default_factory=Thresholds)
    rules: dict[str, Rule] = msgspec.field(default_factory=dict)
    #: work-order type -> the rule keys whose deadlines it carries
    workorder_rules: dict[str, list[str]] = msgspec.field(default_factory=dict)

    def rule(self, key: str) -> Rule:
        try:
            return self.rules[key]
        except KeyError:
            from server.policy.load import PolicyError

            raise PolicyError(f"profile {self.name!r} has no rule {key!r}") from None
