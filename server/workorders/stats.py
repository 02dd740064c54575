"""Timeliness: the share of decided deadlines met in time, against the profile's target."""

from __future__ import annotations

from datetime import datetime

import msgspec

from server.policy import PolicyProfile


class RuleTimeliness(msgspec.Struct, frozen=True, kw_only=True):
    #: the rule
    rule: str
    #: the rule's title, for people
    title: str
    #: the clause of the standard it comes from
    clause: str
    #: deadlines of the rule met or past due in the period
    decided: int
    #: of those, the ones met in time
    on_time: int
    #: deadlines of the rule still open past due
    open_overdue: int
    #: `on_time` / `decided`; None when nothing was decided
    rate: float | None


class TimelinessReport(msgspec.Struct, frozen=True, kw_only=True):
    #: the service-policy profile whose rules were applied
    profile: str
    #: the period's start (UTC); None: from the first order
    since: datetime | None
    #: the period's end (UTC)
    until: datetime
    #: the crew the report is limited to, if any
    crew_id: str | None
    #: deadlines met or past due in the period
    decided: int
    #: of those, the ones met in time
    on_time: int
    #: `on_time` / `decided`; None when nothing was decided
    rate: float | None
    #: the profile's target rate (0-1)
    target: float
    #: True when `rate` reaches `target`; None without a rate
    meets_target: bool | None
    #: the same figures per rule
    rules: list[RuleTimeliness]


def build_report(rows: list[tuple[str, int, int, int]], profile: PolicyProfile,
                 since: datetime | None, until: datetime, crew_id: str | None
                 ) -> TimelinessReport:
    per_rule = []
    for key, decided, on_time, open_overdue in rows:
        rule = profile.rules.get(key)
        per_rule.append(RuleTimeliness(
            rule=key, title=rule.title if rule else key, clause=rule.clause if rule else "",
            decided=decided, on_time=on_time, open_overdue=open_overdue,
            rate=(on_time / decided) if decided else None,
        ))
    decided = sum(r.decided for r in per_rule)
    on_time = sum(r.on_time for r in per_rule)
    rate = on_time / decided if decided else None
    target = profile.rule("timeliness_rate").limit
    return TimelinessReport(
        profile=profile.name, since=since, until=until, crew_id=crew_id, decided=decided,
        on_time=on_time, rate=rate, target=target,
        meets_target=None if rate is None else rate >= target, rules=per_rule,
    )
