"""The shape of a service policy profile (validated from TOML by msgspec)."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated

import msgspec

from server.policy.connections import ConnectionPolicy


class TimeUnit(StrEnum):
    """The clock a limit counts on."""

    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"
    #: local calendar months: 1 = by the end of the month the clock started in (LC §31
    #: "每月": a reading route of November is overdue from 1 December 00:00)
    CALENDAR_MONTHS = "calendar_months"


class StartEvent(StrEnum):
    """The event a rule's clock starts at: data in the profile, because the standards
    differ (JN counts restoration from the report, LC §24 from the start of repair work).

    The flow that owns the item starts the clock when the event happens; a rule whose
    event never happens for an item never starts for it.
    """

    #: the report, request or complaint reaches us (work orders: ``reported_at``)
    REPORT = "report"
    #: the ticket was raised where it came from (LC §15: "以工单发起时间起")
    CREATION = "creation"
    #: a transferred ticket reached us (LC §13 acceptance, LC §14(五) send-back)
    ARRIVAL = "arrival"
    #: repair work begins (the order moves to in_progress)
    REPAIR_START = "repair_start"
    #: a third party's damage to our facilities is reported (LC §30)
    DAMAGE_REPORT = "damage_report"
    #: a registration form is handed to the handling unit (JM §6)
    HANDOVER = "handover"
    #: a complaint was answered (办结); the return visit follows (JN 12)
    RESOLUTION = "resolution"
    #: the customer raised a complaint or a suggestion in a return visit (JN 15)
    RETURN_VISIT = "return_visit"
    #: a reading route is issued for its month (LC §31)
    ROUTE_ISSUED = "route_issued"
    #: a reading was estimated instead of read (LC §31)
    ESTIMATED_READING = "estimated_reading"
    #: a faulty meter was confirmed on site (JN 7.2 "应立即更换")
    FAULT_CONFIRMED = "fault_confirmed"
    #: service information was formed or changed (JN 11, ZJ)
    INFORMATION_CHANGED = "information_changed"
    #: lead times: the outage start the notice must precede
    OUTAGE_START = "outage_start"
    #: lead times: the announced restoration the delay notice must precede (LC §23)
    ANNOUNCED_RESTORATION = "announced_restoration"
    #: the outage began (temporary supply after 24 h, JN 10.3.1)
    OUTAGE_BEGAN = "outage_began"
    #: targets: not a clock
    NONE = "none"


class Direction(StrEnum):
    """Whether a smaller or a larger value is the stricter rule.

    ``within``: act within the limit (arrival, restoration) — smaller is stricter.
    ``ahead``: act at least this long before an event (outage notice) — larger is stricter.
    ``at_least``: a target rate that must be reached — larger is stricter.
    """

    WITHIN = "within"
    AHEAD = "ahead"
    AT_LEAST = "at_least"


#: one unit as elapsed time, counting working units as calendar ones (display and ties)
NOMINAL: dict[TimeUnit, timedelta] = {
    TimeUnit.MINUTES: timedelta(minutes=1),
    TimeUnit.HOURS: timedelta(hours=1),
    TimeUnit.WORKING_HOURS: timedelta(hours=1),
    TimeUnit.DAYS: timedelta(days=1),
    TimeUnit.WORKING_DAYS: timedelta(days=1),
    TimeUnit.CALENDAR_MONTHS: timedelta(days=31),
}


class Clock(msgspec.Struct, frozen=True, kw_only=True):
    """Another way a ``strict`` rule can run out (another profile's limit on another unit).

    A rule with alternatives falls due at the *earliest* end of its own clock and theirs
    for the start in question: 2 working days from a Friday end after 3 calendar days, from
    a Monday before, so neither can be picked once for all starts.
    """

    limit: float
    limit_max: float | None = None
    unit: TimeUnit
    clause: str = ""


class Rule(msgspec.Struct, frozen=True, kw_only=True):
    #: the limit; for a range (LC §14(三) "3 至 5 天") its lower end
    limit: float
    #: the upper end of a range: reminded at ``limit``, overdue only past ``limit_max``
    limit_max: float | None = None
    unit: TimeUnit | None = None
    direction: Direction = Direction.WITHIN
    #: the event the clock starts at (see ``StartEvent``); old profiles mean the report
    starts_on: StartEvent = StartEvent.REPORT
    clause: str
    title: str
    #: e.g. "JN", "LC", "ZJ"; "derived" for the strict profile's choice
    source: str = ""
    #: strict only: other profiles' clocks on other units; due at the earliest end
    alternatives: list[Clock] = msgspec.field(default_factory=list)

    @property
    def upper(self) -> float:
        """The limit past which the item is overdue (the upper end of a range)."""
        return self.limit if self.limit_max is None else self.limit_max

    @property
    def is_range(self) -> bool:
        return self.limit_max is not None and self.limit_max != self.limit

    def nominal(self) -> timedelta:
        """The (upper) limit as elapsed time, counting working units as calendar units.

        Used only to display and to break ties; real deadlines, and the strict profile's
        comparisons, go through ``deadline_for`` and the working calendar.
        """
        if self.unit is None:
            raise ValueError("a target rate has no duration")
        return NOMINAL[self.unit] * self.upper


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
    #: the console shows an open deadline as "at risk" once less than this share of its
    #: window (start to due) is left; a larger share warns earlier (the strict profile's max)
    at_risk_share: Annotated[float, msgspec.Meta(gt=0, lt=1)] = 0.25
    #: quiet hours for non-urgent notices, local time
    quiet_start: str = "21:00"
    quiet_end: str = "07:30"
    #: threshold name -> the clause it comes from (traceability, shown in docs/rules.md)
    clauses: dict[str, str] = msgspec.field(default_factory=dict)


class Escalation(msgspec.Struct, frozen=True, kw_only=True):
    """Who gets an escalation nobody else would get (JN 12 "升级督办").

    An item whose unit has no supervisor (or names no unit, like a complaint without a
    target unit) escalates to the duty supervisor: ``duty_supervisor`` (a user id) when
    set, else the first supervisor of ``duty_unit``.
    """

    duty_unit: str = "运营管理部"
    duty_supervisor: str = ""
    clause: str = "LC §7 (运营管理部负责对外服务的管理、协调、监督和考核)"


class PhotoRules(msgspec.Struct, frozen=True, kw_only=True):
    """Limits a photo's EXIF is checked against (flags for dispatch, never a refusal)."""

    #: metres between the photo's position and the site (point or line)
    max_site_distance_m: float = 150.0
    #: metres between the photo's position and the device's fix when it was attached
    max_device_distance_m: float = 100.0
    #: hours a photo may be older than the device's report
    max_age_hours: float = 6.0
    #: minutes a photo may be taken after the device's report (a camera clock set ahead)
    max_future_minutes: float = 10.0

    @staticmethod
    def strictest(rules: list[PhotoRules]) -> PhotoRules:
        return PhotoRules(
            max_site_distance_m=min(r.max_site_distance_m for r in rules),
            max_device_distance_m=min(r.max_device_distance_m for r in rules),
            max_age_hours=min(r.max_age_hours for r in rules),
            max_future_minutes=min(r.max_future_minutes for r in rules))


class ReadingRules(msgspec.Struct, frozen=True, kw_only=True):
    """Meter readings: what no dial can show is refused (server.fieldwork.readings);
    what is odd for the account is flagged."""

    #: the register rolls over to 0 at this value (m³): 100 000 on a five-digit dial
    register_m3: float = 100_000.0
    #: a rollover is believed within this fraction of the register from its top and zero
    rollover_near: float = 0.1
    #: usage more than this many times the account's average (per day) is flagged
    high_factor: float = 3.0
    #: usage below this is never flagged as high (m³)
    high_min_usage_m3: float = 5.0

    @staticmethod
    def strictest(rules: list[ReadingRules]) -> ReadingRules:
        return ReadingRules(register_m3=min(r.register_m3 for r in rules),
                            rollover_near=min(r.rollover_near for r in rules),
                            high_factor=min(r.high_factor for r in rules),
                            high_min_usage_m3=min(r.high_min_usage_m3 for r in rules))


class PolicyProfile(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    title: str
    sources: list[str] = msgspec.field(default_factory=list)
    escalation: Escalation = msgspec.field(default_factory=Escalation)
    working_hours: WorkingHours = msgspec.field(default_factory=WorkingHours)
    thresholds: Thresholds = msgspec.field(default_factory=Thresholds)
    rules: dict[str, Rule] = msgspec.field(default_factory=dict)
    #: work-order type -> the rule keys whose deadlines it carries
    workorder_rules: dict[str, list[str]] = msgspec.field(default_factory=dict)
    #: dispatchers and supervisors act only on records of their own unit (an order's crew's
    #: unit, a ticket's unit); admins always see all (server/authz/scopes.py)
    office_by_unit: bool = False
    #: photo evidence limits (issue 16)
    photos: PhotoRules = msgspec.field(default_factory=PhotoRules)
    #: the connection service's limits by project type (server.policy.connections)
    connections: ConnectionPolicy = msgspec.field(default_factory=ConnectionPolicy)
    #: meter reading sanity and anomaly limits
    readings: ReadingRules = msgspec.field(default_factory=ReadingRules)

    def rule(self, key: str) -> Rule:
        try:
            return self.rules[key]
        except KeyError:
            from server.policy.load import PolicyError

            raise PolicyError(f"profile {self.name!r} has no rule {key!r}") from None
