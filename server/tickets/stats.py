"""Service statistics per rule, unit, crew and period, against the profile's targets.

Metrics (each row names its rule, target and clause):

- ``timeliness``: share of decided deadlines met in time, per source and rule, and
  overall (rule ``*``); target ``timeliness_rate`` (ZJ: >= 97 %).
- ``burst_on_time_arrival``: burst crews on site in time; target 100 % (JN 8.2).
- ``repair_without_shutoff``: finished repairs that kept the water on; >= 90 %
  (JN 10.3.4), pipe-network leaks excepted ("供水管网漏水除外"): repairs whose
  ``fields.repair_of`` is ``pipe_network_leak`` are outside the rate, repairs that do not
  say what they repaired are left out of it and counted as ``unknown``.
- ``complaint_closed_in_time``: complaint rounds handled within 2 days (JN 12).
- ``return_visit_satisfaction``: return visits that found the customer satisfied.

A deadline is *decided* once it was met or its due time passed; one still inside its limit
neither helps nor hurts. The numbers are tallied by SQL in the store; this module only
combines them, so the same code serves the route, the CLI, CSV and the benchmark.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Final

import msgspec
from sqlite_utils import Database

from core.time import check_event_time
from server.authz import Caller, narrowed_unit
from server.clock import Clock
from server.policy import PolicyProfile
from server.tickets.errors import BadTicketInputError
from server.tickets.store import PERIODS, TICKET_GROUPS, Row, TicketStore

SOURCES: Final = ("ticket", "complaint", "work_order")
#: return visits have no time limit in the standards; their satisfaction is JN 12's
VISIT_CLAUSE: Final = "JN 12 (投诉回访：满意结案，不满意升级督办)"
GROUPS: Final = tuple(TICKET_GROUPS)


class StatsRow(msgspec.Struct, frozen=True, kw_only=True):
    #: what is measured: `timeliness`, `burst_on_time_arrival`, `repair_without_shutoff`,
    #: `complaint_closed_in_time`, `return_visit_satisfaction`
    metric: str
    #: what is counted: `work_order`, `ticket`, `complaint`..., or `all`
    source: str
    #: the rule whose deadlines are counted (`*`: every rule)
    rule: str
    #: the row's group under `group_by` (a unit, a crew...; empty for `rule`)
    group: str
    #: the row's period under `period` (e.g. `2026-03`; empty for `all`)
    period: str
    #: items counted
    total: int
    #: of those, the ones decided (met, or past due)
    decided: int
    #: of those, the ones that met the measure
    achieved: int
    #: items still open past their deadline
    open_overdue: int = 0
    #: items left out of the rate because they do not say enough (repairs that do not say what they
    #: repaired)
    unknown: int = 0
    #: deadlines among ``total`` counted on a provisional calendar year
    provisional: int = 0
    #: `achieved` / `decided`; None when nothing was decided
    rate: float | None
    #: the profile's target rate (0-1), if the metric has one
    target: float | None
    #: True when `rate` reaches `target`; None without a rate or a target
    meets_target: bool | None
    #: the clause of the standard the target comes from
    clause: str


class StatsReport(msgspec.Struct, frozen=True, kw_only=True):
    #: the service-policy profile whose rules and targets were applied
    profile: str
    #: the period's start (UTC)
    since: datetime
    #: the period's end (UTC)
    until: datetime
    #: what one row counts (as asked)
    group_by: str
    #: how rows are split in time (as asked)
    period: str
    #: the figures
    rows: list[StatsRow]
    #: what supervisors must know before reading the figures (a holiday notice awaited)
    calendar_warnings: list[str] = msgspec.field(default_factory=list)


def _row(metric: str, source: str, rule: str, group: str, period: str, total: int,
         decided: int, achieved: int, target: float | None, clause: str,
         open_overdue: int = 0, unknown: int = 0, provisional: int = 0) -> StatsRow:
    rate = achieved / decided if decided else None
    return StatsRow(metric=metric, source=source, rule=rule, group=group, period=period,
                    total=total, decided=decided, achieved=achieved,
                    open_overdue=open_overdue, unknown=unknown, provisional=provisional,
                    rate=rate, target=target,
                    meets_target=None if rate is None or target is None else rate >= target,
                    clause=clause)


def _int(v: object) -> int:
    return int(v) if isinstance(v, int | float) else 0


def build_report(profile: PolicyProfile, tallies: dict[str, list[Row]], shutoff: list[Row],
                 visits: list[Row], *, since: datetime, until: datetime, group_by: str,
                 period: str) -> StatsReport:
    """Combine the store's tallies into report rows (pure)."""
    target = profile.rule("timeliness_rate")
    rows: list[StatsRow] = []
    overall: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for source in SOURCES:
        for t in tallies.get(source, []):
            rule, grp, per = str(t["rule"]), str(t["grp"]), str(t["period"])
            total, decided = _int(t["total"]), _int(t["decided"])
            on_time, late_open = _int(t["on_time"]), _int(t["open_overdue"])
            known = profile.rules.get(rule)
            rows.append(_row("timeliness", source, rule, grp, per, total, decided, on_time,
                             target.limit, known.clause if known else "",
                             open_overdue=late_open, provisional=_int(t.get("provisional"))))
            acc = overall[("" if group_by == "rule" else grp, per)]
            acc[0] += total
            acc[1] += decided
            acc[2] += on_time
            acc[3] += late_open
            acc[4] += _int(t.get("provisional"))
            if source == "work_order" and rule == "burst_arrival":
                goal = profile.rule("burst_on_time_arrival")
                rows.append(_row("burst_on_time_arrival", source, rule, grp, per, total,
                                 decided, on_time, goal.limit, goal.clause,
                                 open_overdue=late_open))
            if source == "complaint" and rule == "complaint_close":
                rows.append(_row("complaint_closed_in_time", source, rule, grp, per, total,
                                 decided, on_time, None, profile.rule(rule).clause,
                                 open_overdue=late_open))
    for (grp, per), (total, decided, on_time, late_open, prov) in sorted(overall.items()):
        rows.append(_row("timeliness", "all", "*", grp, per, total, decided, on_time,
                         target.limit, target.clause, open_overdue=late_open,
                         provisional=prov))
    goal = profile.rule("repair_without_shutoff")
    for s in shutoff:
        total, unknown = _int(s["total"]), _int(s["unknown"])
        rows.append(_row("repair_without_shutoff", "work_order", "repair_without_shutoff",
                         str(s["grp"]), str(s["period"]), total, total - unknown,
                         _int(s["without_shutoff"]), goal.limit, goal.clause, unknown=unknown))
    for v in visits:
        total = _int(v["total"])
        rows.append(_row("return_visit_satisfaction", "complaint", "return_visit",
                         str(v["grp"]), str(v["period"]), total, total, _int(v["satisfied"]),
                         None, VISIT_CLAUSE))
    return StatsReport(profile=profile.name, since=since, until=until, group_by=group_by,
                       period=period, rows=rows)


CSV_COLUMNS: Final = tuple(StatsRow.__struct_fields__)


def to_csv(report: StatsReport) -> str:
    """The report's rows as CSV (one header line; rates as decimals, empty when undecided)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in report.rows:
        values = [getattr(r, c) for c in CSV_COLUMNS]
        writer.writerow(["" if v is None else f"{v:.4f}" if isinstance(v, float) else v
                         for v in values])
    return out.getvalue()


class StatsService:
    def __init__(self, db: Database, clock: Clock, profile: PolicyProfile,
                 calendar_warnings: Callable[[], list[str]] | None = None) -> None:
        self.clock = clock
        self.profile = profile
        self.store = TicketStore(db)
        #: the calendar's horizon warnings, shown with every report (set by the services)
        self.calendar_warnings = calendar_warnings or list

    def report(self, *, since: datetime, until: datetime | None = None, group_by: str = "rule",
               period: str = "all", actor: Caller | None = None) -> StatsReport:
        """Statistics of deadlines started in [since, until) (until defaults to now); a
        unit-scoped office ``actor`` (``office_by_unit``) gets its unit's records only
        (``server.authz.narrowed_unit``)."""
        unit = None if actor is None else narrowed_unit(actor, self.profile.office_by_unit)
        end = until or self.clock()
        if group_by not in GROUPS:
            raise BadTicketInputError(f"group_by must be one of {', '.join(GROUPS)}",
                                      field="group_by")
        if period not in PERIODS:
            raise BadTicketInputError(f"period must be one of {', '.join(PERIODS)}",
                                      field="period")
        if since.tzinfo is not None and end.tzinfo is not None:
            # the period as given is checked, not the local days it rounds to (an error
            # then names the field and the value the caller sent)
            since, end = check_event_time(since, "since"), check_event_time(end, "until")
        if since.tzinfo is None or end.tzinfo is None or since >= end:
            raise BadTicketInputError("since must be an aware time before until", field="since")
        tallies = {s: self.store.tallies(s, group_by, period, since, end, unit)
                   for s in SOURCES}
        report = build_report(self.profile, tallies,
                              self.store.shutoff_counts(group_by, period, since, end, unit),
                              self.store.visit_counts(group_by, period, since, end, unit),
                              since=since, until=end, group_by=group_by, period=period)
        return msgspec.structs.replace(report, calendar_warnings=self.calendar_warnings())
