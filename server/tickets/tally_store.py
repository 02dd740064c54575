"""Counters of the desk's deadline statistics, kept by the unit of work (issue 19).

The statistics report (``StatsService.report``, ``GET /api/v1/stats/service``) once
tallied every ticket deadline started in the period with one ``GROUP BY`` over the
deadlines joined to their tickets: 1.4 M deadlines (a year of a city's tickets) took
seconds per request. Now it reads counters, so its cost grows with the number of
(rule, group, local day) cells, not with the number of deadlines.

Two tables, both derived, never written by anyone but this module:

* ``tally_members``: one row per counted deadline (a ticket's deadline not voided), with
  what it is counted under, as it was counted: rule, unit, crew, channel, category, the
  local (UTC+8) day its clock started, its times, and ``settles_at`` (the later of its due
  and met times: after that instant its figures no longer change);
* ``tally_counts``: per (source, dimension, local day, group, unit, rule) the totals of its
  members: count, provisional, met on time, still open. Dimension ``''`` carries rule and
  unit (the groups ``rule``, ``unit`` and ``all``); ``crew``, ``channel`` and ``category``
  each have their own rows, so a cell never multiplies one dimension by another.

Maintenance: ``TicketStore`` touches ``("ticket", id)`` with every write of a ticket or
its deadlines, and the unit of work calls ``refresh_tickets`` with the touched ids at
commit (``core.uow.UnitOfWork.derive``): the tickets' members are taken out of the
counters, projected again from the committed rows, and added back. Whatever a write
changed (a deadline met, voided, moved, retimed; a ticket handed to another unit or
crew), the counters follow, and a write path that forgets nothing but the touch is caught
by the property test comparing them with a brute-force count.

Reading (``tallies``): the counters hold each deadline's figures as they will be once it
is settled. For a report of ``[since, until)`` at ``until``:

* whole local days inside the period are summed from ``tally_counts`` (grouped inside
  their own branch, so the outer sum adds one row per group, not one per counter cell);
* the members of those days not yet settled at ``until`` (``settles_at > until``: still
  running, or met after ``until``) are corrected with their exact figures (a range of
  the ``tally_members_settles`` index);
* the partial local days at either end are counted from their members (an equality on
  ``tally_members_day``, then a range of start times).

The result is exactly what the one ``GROUP BY`` answered (same rows, same numbers), for
any ``since``, ``until``, grouping, period and unit narrowing; both stores run the same SQL
(``server.pgdb`` translates it).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlite_utils import Database

from core import rows
from core.time import from_db, to_db

Row = dict[str, object]

#: the local time of period keys and days (Asia/Shanghai, no DST), as ``TicketStore``'s
LOCAL_OFFSET: Final = timedelta(hours=8)
TICKET: Final = "ticket"
#: the dimensions with their own counter rows (``''``: rule and unit only)
DIMENSIONS: Final = (("", "''"), ("crew", "m.crew"), ("channel", "m.channel"),
                     ("category", "m.category"))
#: group -> (dimension of its counter rows, group column in ``tally_counts``)
COUNT_GROUPS: Final = {"rule": ("", "k.rule"), "unit": ("", "k.unit"), "all": ("", "''"),
                       "crew": ("crew", "k.grp"), "channel": ("channel", "k.grp"),
                       "category": ("category", "k.grp")}
#: group -> column in ``tally_members``
MEMBER_GROUPS: Final = {"rule": "m.rule", "unit": "m.unit", "crew": "m.crew",
                        "channel": "m.channel", "category": "m.category", "all": "''"}
_CHUNK: Final = 500
_MEMBER_COLUMNS: Final = ("source, entity_id, part, rule, unit, crew, channel, category, "
                          "day_start, starts_at, due_at, met_at, settles_at, provisional, "
                          "on_time, still_open")

SCHEMA: Final = """
CREATE TABLE tally_members (
    source TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    part TEXT NOT NULL,
    rule TEXT NOT NULL,
    unit TEXT NOT NULL,
    crew TEXT NOT NULL,
    channel TEXT NOT NULL,
    category TEXT NOT NULL,
    day_start TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    met_at TEXT,
    settles_at TEXT NOT NULL,
    provisional INTEGER NOT NULL,
    on_time INTEGER NOT NULL,
    still_open INTEGER NOT NULL,
    PRIMARY KEY (source, entity_id, part)
);
CREATE INDEX tally_members_day ON tally_members(source, day_start, starts_at);
CREATE INDEX tally_members_settles ON tally_members(source, settles_at);
CREATE TABLE tally_counts (
    source TEXT NOT NULL,
    dim TEXT NOT NULL,
    day_start TEXT NOT NULL,
    grp TEXT NOT NULL,
    unit TEXT NOT NULL,
    rule TEXT NOT NULL,
    total INTEGER NOT NULL,
    provisional INTEGER NOT NULL,
    on_time INTEGER NOT NULL,
    still_open INTEGER NOT NULL,
    PRIMARY KEY (source, dim, day_start, grp, unit, rule)
) WITHOUT ROWID;
"""


# -- local days ------------------------------------------------------------------------
def floor_midnight(when: datetime) -> datetime:
    """The local midnight (as a UTC instant) that starts the local day of ``when``."""
    local = when.astimezone(UTC) + LOCAL_OFFSET
    return datetime(local.year, local.month, local.day, tzinfo=UTC) - LOCAL_OFFSET


def ceil_midnight(when: datetime) -> datetime:
    """The first local midnight at or after ``when``."""
    start = floor_midnight(when)
    return start if start == when else start + timedelta(days=1)


@functools.lru_cache(maxsize=8192)
def _day_start_of_hour(hour: str) -> str:
    return to_db(floor_midnight(datetime.fromisoformat(hour + ":00:00+00:00")))


def day_start(stored: str) -> str:
    """The stored form of the local midnight starting the local day of a stored time."""
    if len(stored) == 27 and stored[13] == ":" and stored.endswith("Z"):
        return _day_start_of_hour(stored[:13])  # the canonical form: its hour decides
    return to_db(floor_midnight(from_db(stored)))


# -- maintenance -----------------------------------------------------------------------
def _member(source: str, r: Sequence[object]) -> tuple[object, ...]:
    entity_id, part, rule, unit, crew, channel, category, starts, due, met, _prov = r
    due_s = str(due)
    met_s = None if met is None else str(met)
    return (source, str(entity_id), str(part), str(rule), str(unit), str(crew), str(channel),
            str(category), day_start(str(starts)), str(starts), due_s, met_s,
            due_s if met_s is None or met_s < due_s else met_s, rows.opt_integer(r, 10) or 0,
            int(met_s is not None and met_s <= due_s), int(met_s is None))


_Delta = dict[tuple[str, str, str, str, str], list[int]]


def _tally(delta: _Delta, m: Sequence[object], sign: int) -> None:
    """Add one member (rule, unit, crew, channel, category, day, provisional, on time,
    still open) to (``sign`` 1), or take it out of (-1), the delta of its four counter
    rows."""
    rule, unit, crew, channel, category, day = (rows.text(m, i) for i in range(6))
    values = (sign, rows.integer(m, 6) * sign, rows.integer(m, 7) * sign,
              rows.integer(m, 8) * sign)
    keys: tuple[tuple[str, str, str, str, str], ...] = (
        ("", day, "", unit, rule), ("crew", day, crew, unit, rule),
        ("channel", day, channel, unit, rule), ("category", day, category, unit, rule))
    for key in keys:
        acc = delta.get(key)
        if acc is None:
            delta[key] = list(values)
        else:
            acc[0] += values[0]
            acc[1] += values[1]
            acc[2] += values[2]
            acc[3] += values[3]


_COUNTED: Final = ("rule, unit, crew, channel, category, day_start, provisional, on_time, "
                   "still_open")


def refresh_tickets(db: Database, ids: Sequence[str]) -> None:
    """Count the deadlines of these tickets again from their committed rows (the unit of
    work's derivation for ``ticket``; the migration's backfill). ``O(deadlines of ids)``:
    their members as counted before are taken out, their rows projected again, and the
    net change of each counter row written once (one ``executemany`` for all of ``ids``)."""
    delta: _Delta = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start:start + _CHUNK])
        marks = ",".join("?" * len(chunk))
        old = db.execute(f"SELECT {_COUNTED} FROM tally_members WHERE source = ? "
                         f"AND entity_id IN ({marks})", [TICKET, *chunk]).fetchall()
        if old:
            for m in old:
                _tally(delta, m, -1)
            db.execute(f"DELETE FROM tally_members WHERE source = ? AND entity_id IN ({marks})",
                       [TICKET, *chunk])
        found = db.execute(
            "SELECT d.ticket_id, d.kind, d.rule, t.unit, COALESCE(t.crew_id, ''), t.channel, "
            "t.category, d.starts_at, d.due_at, d.met_at, d.provisional "
            "FROM ticket_deadlines d JOIN tickets t ON t.id = d.ticket_id "
            f"WHERE d.voided = 0 AND d.ticket_id IN ({marks})", chunk).fetchall()
        if found:
            members = [_member(TICKET, r) for r in found]
            db.conn.executemany(
                f"INSERT INTO tally_members ({_MEMBER_COLUMNS}) VALUES "
                f"({','.join('?' * 16)})", members)
            for m in members:
                _tally(delta, (*m[3:9], *m[13:16]), 1)
    changed = [(TICKET, *key, *acc) for key, acc in delta.items() if any(acc)]
    if changed:
        db.conn.executemany(
            "INSERT INTO tally_counts (source, dim, day_start, grp, unit, rule, total, "
            "provisional, on_time, still_open) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (source, dim, day_start, grp, unit, rule) DO UPDATE SET "
            "total = tally_counts.total + excluded.total, "
            "provisional = tally_counts.provisional + excluded.provisional, "
            "on_time = tally_counts.on_time + excluded.on_time, "
            "still_open = tally_counts.still_open + excluded.still_open", changed)


def rebuild_tickets(db: Database) -> None:
    """Count every ticket (the migration that creates the tables)."""
    ids = [str(r[0]) for r in db.execute("SELECT id FROM tickets ORDER BY id").fetchall()]
    refresh_tickets(db, ids)


# -- reading ---------------------------------------------------------------------------
def _period(column: str, fmt: str) -> str:
    return "''" if not fmt else f"strftime('{fmt}', {column}, '+8 hours')"


_DECIDED: Final = ("CASE WHEN (m.met_at IS NOT NULL AND m.met_at <= :until) "
                   "OR m.due_at <= :until THEN 1 ELSE 0 END")
_ON_TIME: Final = ("CASE WHEN m.met_at IS NOT NULL AND m.met_at <= :until "
                   "AND m.met_at <= m.due_at THEN 1 ELSE 0 END")
_OPEN_OVERDUE: Final = ("CASE WHEN (m.met_at IS NULL OR m.met_at > :until) "
                        "AND m.due_at <= :until THEN 1 ELSE 0 END")


def tallies_sql(source: str, group: str, period_fmt: str, since: datetime, until: datetime,
                unit: str | None) -> tuple[str, Row]:
    """The statement ``tallies`` runs and its parameters (tests read its plan)."""
    dim, count_grp = COUNT_GROUPS[group]
    member_grp = MEMBER_GROUPS[group]
    k_unit = "" if unit is None else " AND (k.unit = :unit OR k.unit = '')"
    m_unit = "" if unit is None else " AND (m.unit = :unit OR m.unit = '')"
    lo, hi = ceil_midnight(since), floor_midnight(until)
    params: Row = {"source": source, "dim": dim, "until": to_db(until), "unit": unit or ""}
    parts: list[str] = []
    member_cols = (f"m.rule AS rule, {member_grp} AS grp, "
                   f"{_period('m.starts_at', period_fmt)} AS period")
    if lo <= hi:  # [since, lo) and [hi, until) partial days, whole days between
        params.update(lo=to_db(lo), hi=to_db(hi))
    if lo < hi:
        count_period = _period('k.day_start', period_fmt)
        # grouped by its varying expressions only: a constant key still costs a sort column
        keys = ", ".join(dict.fromkeys(e for e in ("k.rule", count_grp, count_period)
                                       if e != "''"))
        parts.append(
            f"SELECT k.rule AS rule, {count_grp} AS grp, "
            f"{count_period} AS period, SUM(k.total) AS total, "
            "SUM(k.total) AS decided, SUM(k.on_time) AS on_time, "
            "SUM(k.still_open) AS open_overdue, SUM(k.provisional) AS provisional "
            "FROM tally_counts k WHERE k.source = :source AND k.dim = :dim "
            f"AND k.day_start >= :lo AND k.day_start < :hi{k_unit} GROUP BY {keys}")
        parts.append(
            f"SELECT {member_cols}, 0 AS total, {_DECIDED} - 1 AS decided, "
            f"{_ON_TIME} - m.on_time AS on_time, {_OPEN_OVERDUE} - m.still_open "
            "AS open_overdue, 0 AS provisional FROM tally_members m "
            "WHERE m.source = :source AND m.settles_at > :until "
            f"AND m.starts_at >= :lo AND m.starts_at < :hi{m_unit}")
    edges = [(since, lo), (hi, until)] if lo <= hi else [(since, until)]  # one local day
    for i, (a, b) in enumerate(edges):
        if a >= b:
            continue
        params.update({f"day{i}": to_db(floor_midnight(a)), f"from{i}": to_db(a),
                       f"to{i}": to_db(b)})
        parts.append(
            f"SELECT {member_cols}, 1 AS total, {_DECIDED} AS decided, {_ON_TIME} AS on_time, "
            f"{_OPEN_OVERDUE} AS open_overdue, m.provisional AS provisional "
            f"FROM tally_members m WHERE m.source = :source AND m.day_start = :day{i} "
            f"AND m.starts_at >= :from{i} AND m.starts_at < :to{i}{m_unit}")
    sql = ("SELECT x.rule AS rule, x.grp AS grp, x.period AS period, SUM(x.total) AS total, "
           "SUM(x.decided) AS decided, SUM(x.on_time) AS on_time, "
           "SUM(x.open_overdue) AS open_overdue, SUM(x.provisional) AS provisional FROM ("
           + " UNION ALL ".join(parts)
           + ") x GROUP BY 1, 2, 3 HAVING SUM(x.total) > 0 ORDER BY 1, 2, 3")
    return sql, params


def tallies(db: Database, source: str, group: str, period_fmt: str, since: datetime,
            until: datetime, unit: str | None) -> list[Row]:
    """Per (rule, group, period) of deadlines started in ``[since, until)``: total,
    decided, on time, open and overdue at ``until``, provisional; as
    ``server.tickets.store._tally_sql`` defines them. ``O(cells + unsettled + edge days)``."""
    sql, params = tallies_sql(source, group, period_fmt, since, until, unit)
    return list(db.query(sql, params))
