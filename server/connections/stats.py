"""Connection statistics: timeliness per stage, project type and handling unit, and the
KF figure "total from acceptance to water on" per project type, as JSON or CSV.

A clock counts once it is decided (met, or its due time passed), as in the work-order
report. The total is measured in working days on the profile's calendar (working time
between acceptance and water on, divided by the working day's length), the way KF 表1
states its limits.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from server.connections.model import ConnectionStats, StageTimeliness, TotalFigure
from server.policy import PolicyProfile, WorkCalendar

PREFIX = "connection_"


def build_stats(profile: PolicyProfile, calendar: WorkCalendar,
                rows: list[tuple[str, str, str, int, int, int]],
                water_on: list[tuple[str, datetime, datetime, bool]],
                since: datetime | None, until: datetime) -> ConnectionStats:
    out = [StageTimeliness(stage=rule.removeprefix(PREFIX), project_type=ptype, unit=unit,
                           decided=decided, on_time=on_time, open_overdue=overdue,
                           rate=on_time / decided if decided else None)
           for rule, ptype, unit, decided, on_time, overdue in rows]
    day_s = calendar.working_hours_per_day().total_seconds()
    per_type: dict[str, list[tuple[float, bool]]] = {}
    for ptype, accepted, on, met in water_on:
        days = calendar.working_time_between(accepted, on).total_seconds() / day_s
        per_type.setdefault(ptype, []).append((days, met))
    totals = [TotalFigure(project_type=ptype, connections=len(v),
                          mean_working_days=round(sum(d for d, _ in v) / len(v), 3),
                          max_working_days=round(max(d for d, _ in v), 3),
                          within_limit=sum(1 for _, m in v if m))
              for ptype, v in sorted(per_type.items())]
    return ConnectionStats(profile=profile.name, since=since, until=until, rows=out,
                           totals=totals)


def to_csv(stats: ConnectionStats) -> str:
    """Two tables in one file: stage timeliness rows, then the totals (a blank line apart)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["stage", "project_type", "unit", "decided", "on_time", "open_overdue", "rate"])
    for r in stats.rows:
        w.writerow([r.stage, r.project_type, r.unit, r.decided, r.on_time, r.open_overdue,
                    "" if r.rate is None else f"{r.rate:.4f}"])
    w.writerow([])
    w.writerow(["project_type", "connections_with_water", "mean_working_days_to_water_on",
                "max_working_days_to_water_on", "within_limit"])
    for t in stats.totals:
        w.writerow([t.project_type, t.connections, t.mean_working_days, t.max_working_days,
                    t.within_limit])
    return buf.getvalue()
