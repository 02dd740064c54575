"""Timeliness: the share of decided deadlines met in time, against the profile's target."""

from __future__ import annotations

from datetime import datetime

import msgspec

from server.policy import PolicyProfile


class RuleTimeliness(msgspec.Struct, frozen=True, kw_only=True):
    rule: str
    title: str
    clause: str
    decided: int
    on_time: int
    open_overdue: int
    rate: float | None


class TimelinessReport(msgspec.Struct, frozen=True, kw_only=True):
    profile: str
    since: datetime | None
    until: datetime
    crew_id: str | None
    decided: int
    on_time: int
    rate: float | None
    target: float
    meets_target: bool | None
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
