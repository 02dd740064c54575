"""Lead-time and quiet-hour rules: pure functions of an outage, the rules and ``now``.

Why pure: the compliance questions ("was this notice in time?", "may it go out now?")
must be answerable for any input in unit tests, without a database or a clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from notifications.model import NoticeRules, OutageKind


class LeadRequirement(msgspec.Struct, frozen=True, kw_only=True):
    """How long before the outage starts customers must have the notice, and why."""

    lead: timedelta
    clause: str
    #: why the larger rule applies ("large", "long"), empty for the normal rule
    because: list[str] = msgspec.field(default_factory=list)
    #: who must have the notice that early: "customers" or "operations" (LC §19(四))
    audience: str = "customers"


def required_lead(kind: OutageKind, customers: int, start_at: datetime,
                  expected_restoration_at: datetime, rules: NoticeRules) -> LeadRequirement:
    """The lead time the customers' notice needs: 24 h, or 48 h when large or long (JN
    10.3.1) and for a planned pressure reduction (JN 6.3).

    Emergencies have no lead (notify at once). A customer-caused outage (arrears,
    requested suspension) has none towards customers either: they get the posted notice;
    its 2 h are the operations department's (``operations_lead``, LC §19(四)).
    """
    if kind is OutageKind.EMERGENCY:
        return LeadRequirement(lead=timedelta(0), clause=rules.emergency_clause)
    if kind is OutageKind.CUSTOMER_CAUSED:
        return LeadRequirement(lead=timedelta(0),
                               clause=f"{rules.customer_caused_clause} (停水公告张贴)")
    if kind is OutageKind.PRESSURE_REDUCTION:
        return LeadRequirement(lead=max(rules.pressure_reduction_lead, rules.planned_lead),
                               clause=rules.pressure_reduction_clause,
                               because=["pressure_reduction"])
    because = []
    if customers >= rules.large_outage_customers:
        because.append("large")
    if expected_restoration_at - start_at >= rules.long_outage:
        because.append("long")
    if because:
        return LeadRequirement(lead=rules.large_lead, clause=rules.large_clause, because=because)
    return LeadRequirement(lead=rules.planned_lead, clause=rules.planned_clause)


def operations_lead(kind: OutageKind, rules: NoticeRules) -> LeadRequirement | None:
    """How long before the outage the operations department must be told (LC §19(四):
    "实施停水前2小时内通知运营管理部" for a customer-caused outage), None when not at all."""
    if kind is OutageKind.CUSTOMER_CAUSED:
        return LeadRequirement(lead=rules.customer_caused_lead,
                               clause=rules.customer_caused_clause, audience="operations")
    return None


def in_quiet_hours(now: datetime, rules: NoticeRules) -> bool:
    """Whether ``now`` falls in the quiet window (local time; the window may wrap midnight)."""
    local = now.astimezone(ZoneInfo(rules.timezone)).time().replace(tzinfo=None)
    start, end = rules.quiet_start, rules.quiet_end
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_release(now: datetime, rules: NoticeRules) -> datetime:
    """The first moment at or after ``now`` outside quiet hours (UTC).

    A non-urgent notice held for quiet hours is sent then: held, never skipped.
    """
    if not in_quiet_hours(now, rules):
        return now
    tz = ZoneInfo(rules.timezone)
    local = now.astimezone(tz)
    candidate = datetime.combine(local.date(), rules.quiet_end, tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), rules.quiet_end, tzinfo=tz)
    return candidate.astimezone(UTC)


def lead_shortfall(start_at: datetime, earliest_send: datetime,
                   requirement: LeadRequirement) -> timedelta:
    """How much lead is missing when the notice can go out at ``earliest_send`` (0 if none)."""
    achieved = start_at - earliest_send
    return max(timedelta(0), requirement.lead - achieved)


def delay_notice_due(expected_restoration_at: datetime, now: datetime,
                     rules: NoticeRules) -> bool:
    """Whether an unrestored outage needs its delay notice now (LC §23).

    The notice must reach customers at least ``delay_notice_ahead`` before the announced
    restoration; the tick raises it ``delay_notice_margin`` earlier so sending fits in.
    """
    return now >= expected_restoration_at - rules.delay_notice_ahead - rules.delay_notice_margin


def needs_temporary_supply(start_at: datetime, until: datetime, rules: NoticeRules) -> bool:
    """An outage longer than ``temporary_supply_after`` needs water trucks (JN 10.3.1)."""
    return until - start_at > rules.temporary_supply_after


def backoff(attempts: int, base: timedelta, cap: timedelta) -> timedelta:
    """Exponential backoff after ``attempts`` failed tries: base, 2·base, 4·base … ≤ cap."""
    if attempts <= 0:
        return timedelta(0)
    return min(cap, base * (1 << min(attempts - 1, 30)))
