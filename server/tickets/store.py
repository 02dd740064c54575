"""All SQL of the ticket and complaint desk, and its reads of the work-order tables.

Rows come back as plain dicts (sqlite-utils ``query``); the services turn them into
Structs. Column and table names only ever come from constants here; values are bound.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final

from sqlite_utils import Database

from core.uow import UnitOfWork, touch
from server.policy import OpenClock, Timing
from server.tickets import tally_store
from server.tickets.migrations import REMINDER_TABLES
from server.timefmt import from_db, to_db

Row = dict[str, object]

#: group-by columns a statistics request may name, per source (never user text in SQL)
TICKET_GROUPS: Final = {"rule": "d.rule", "unit": "t.unit", "crew": "COALESCE(t.crew_id, '')",
                        "channel": "t.channel", "category": "t.category", "all": "''"}
COMPLAINT_GROUPS: Final = {"rule": "d.rule", "unit": "c.target_unit", "crew": "''",
                           "channel": "c.channel", "category": "c.kind", "all": "''"}
WORK_ORDER_GROUPS: Final = {"rule": "d.rule", "unit": "COALESCE(cr.unit, '')",
                            "crew": "COALESCE(w.crew_id, '')", "channel": "'work_order'",
                            "category": "w.type", "all": "''"}
#: ``fields.repair_of`` of a pipe-network leak repair, outside JN 10.3.4's rate
PIPE_NETWORK_LEAK: Final = "pipe_network_leak"
#: period keys in local (Asia/Shanghai, UTC+8, no DST) time
PERIODS: Final = {"day": "%Y-%m-%d", "week": "%Y-W%W", "month": "%Y-%m", "all": ""}
#: the deadline scan's two reads: the time column that comes due, and the condition of a
#: deadline still owed its reminder or escalation (as in the partial indexes of tickets
#: migration m006, term for term, so the planner can use them)
_OWED: Final = {
    "remind_at": ("remind_at", "(d.reminded_for IS NULL OR d.reminded_for <> d.due_at)"),
    "due_at": ("due_at", "(d.escalated_for IS NULL OR d.escalated_for <> d.due_at)"),
}
#: open work-order deadlines with no reminder time yet, keyset-paged on (order, rule)
UNSCHEDULED_SQL: Final = (
    "SELECT work_order_id AS item_id, rule, starts_at, due_at "
    "FROM work_order_deadlines WHERE met_at IS NULL AND remind_at IS NULL "
    "AND (work_order_id > ? OR (work_order_id = ? AND rule > ?)) "
    "ORDER BY work_order_id, rule LIMIT ?")
#: rows per statement of ``TicketStore._update_each`` (4 parameters each)
_UPDATE_CHUNK: Final = 200
#: item kind in ``deadline_reminders`` -> its deadline table and the column of its id
_DEADLINE_TABLES: Final = {kind: (table, item) for table, kind, item, _ in REMINDER_TABLES}


def _period_sql(column: str, period: str) -> str:
    fmt = PERIODS[period]
    return "''" if not fmt else f"strftime('{fmt}', {column}, '+8 hours')"


def _unit_sql(unit_col: str, unit: str | None) -> str:
    """The filter of a statistic narrowed to ``:unit`` (its rows and those of no unit)."""
    return "" if unit is None else f" AND ({unit_col} = :unit OR {unit_col} = '')"


def _tally_sql(source: str, group_col: str, period_col: str, unit_filter: str = "") -> str:
    """Per (rule, group, period): total, decided, on time, open and overdue at ``:until``."""
    return (
        f"SELECT d.rule AS rule, {group_col} AS grp, {period_col} AS period, COUNT(*) AS total, "
        "SUM(CASE WHEN (d.met_at IS NOT NULL AND d.met_at <= :until) OR d.due_at <= :until "
        "THEN 1 ELSE 0 END) AS decided, "
        "SUM(CASE WHEN d.met_at IS NOT NULL AND d.met_at <= :until AND d.met_at <= d.due_at "
        "THEN 1 ELSE 0 END) AS on_time, "
        "SUM(CASE WHEN (d.met_at IS NULL OR d.met_at > :until) AND d.due_at <= :until "
        "THEN 1 ELSE 0 END) AS open_overdue, "
        "SUM(d.provisional) AS provisional "
        f"FROM {source} WHERE d.starts_at >= :since AND d.starts_at < :until{unit_filter} "
        "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )


def register_derivations(db: Database) -> None:
    """Teach the unit of work to keep the statistics counters of touched tickets."""
    uow = getattr(db, "uow", None)
    if isinstance(uow, UnitOfWork):
        uow.derive(tally_store.TICKET, tally_store.refresh_tickets)


class TicketStore:
    """Every write of a ticket or of its deadlines touches the ticket
    (``core.uow.touch(db, "ticket", ids)``): the statistics counters follow at commit."""

    def __init__(self, db: Database) -> None:
        self.db = db
        register_derivations(db)

    def _touch(self, ids: str | Iterable[str]) -> None:
        touch(self.db, tally_store.TICKET, ids)

    # -- numbers ------------------------------------------------------------------------
    def next_number(self, prefix: str, day: str) -> str:
        """``T20261123-0007``: unique per prefix and local day (call inside the write)."""
        name = f"{prefix.lower()}:{day}"
        self.db.execute(
            "INSERT INTO counters (name, value) VALUES (?, 1) "
            "ON CONFLICT(name) DO UPDATE SET value = counters.value + 1",
            [name],
        )
        value = self.db.execute("SELECT value FROM counters WHERE name = ?", [name]).fetchone()[0]
        return f"{prefix}{day}-{value:04d}"

    # -- tickets ------------------------------------------------------------------------
    def insert_ticket(self, row: Row, deadlines: Sequence[Row]) -> None:
        self.db.table("tickets").insert(row)
        self._touch(str(row["id"]))
        self.insert_ticket_deadlines(deadlines)

    def insert_ticket_deadlines(self, deadlines: Sequence[Row]) -> None:
        if deadlines:
            self.db.table("ticket_deadlines").insert_all(deadlines)
            self._touch({str(d["ticket_id"]): None for d in deadlines})

    def bulk_insert_tickets(self, rows: Sequence[Row], deadlines: Sequence[Row]) -> None:
        """Many tickets at once (imports, benchmarks): one executemany per table."""
        if rows:
            cols = list(rows[0])
            self.db.conn.executemany(  # positional: PostgreSQL's executemany takes no names
                f"INSERT INTO tickets ({', '.join(cols)}) VALUES ({','.join('?' * len(cols))})",
                [[r[c] for c in cols] for r in rows])
            self._touch(str(r["id"]) for r in rows)
        if deadlines:
            cols = list(deadlines[0])
            self.db.conn.executemany(
                f"INSERT INTO ticket_deadlines ({', '.join(cols)}) VALUES "
                f"({','.join('?' * len(cols))})", [[d[c] for c in cols] for d in deadlines])
            self._touch({str(d["ticket_id"]): None for d in deadlines})

    def ticket(self, ticket_id: str) -> Row | None:
        rows = list(self.db.query("SELECT * FROM tickets WHERE id = ?", [ticket_id]))
        return rows[0] if rows else None

    def tickets(self, *, status: str | None, unit: str | None, overdue_at: datetime | None,
                limit: int, after: tuple[str, ...] | None = None) -> list[Row]:
        """Newest first, keyset-paged on (created_at, id) after ``after``; ``overdue_at``
        keeps tickets with an open deadline past due then."""
        where: list[str] = ["1 = 1"]
        params: list[object] = []
        if status is not None:
            where.append("t.status = ?")
            params.append(status)
        if unit is not None:
            where.append("t.unit = ?")
            params.append(unit)
        if overdue_at is not None:
            where.append(
                "EXISTS (SELECT 1 FROM ticket_deadlines d WHERE d.ticket_id = t.id "
                "AND d.met_at IS NULL AND d.voided = 0 AND d.due_at <= ?)"
            )
            params.append(to_db(overdue_at))
        if after is not None:
            where.append("(t.created_at, t.id) < (?, ?)")
            params.extend(after)
        params.append(limit)
        return list(self.db.query(
            f"SELECT t.* FROM tickets t WHERE {' AND '.join(where)} "
            "ORDER BY t.created_at DESC, t.id DESC LIMIT ?", params,
        ))

    def ticket_deadlines(self, ticket_ids: Sequence[str]) -> dict[str, list[Row]]:
        out: dict[str, list[Row]] = {i: [] for i in ticket_ids}
        if not ticket_ids:
            return out
        marks = ",".join("?" * len(ticket_ids))
        for r in self.db.query(
            f"SELECT * FROM ticket_deadlines WHERE ticket_id IN ({marks}) "
            "ORDER BY due_at, kind", list(ticket_ids),
        ):
            out[str(r["ticket_id"])].append(r)
        return out

    def update_ticket(self, ticket_id: str, version: int, changes: Row) -> bool:
        """Optimistic update: False when the ticket moved past ``version`` meanwhile."""
        cols = sorted(changes)
        sets = ", ".join(f"{c} = :{c}" for c in cols)
        cur = self.db.execute(
            f"UPDATE tickets SET {sets}, version = version + 1 "
            "WHERE id = :_id AND version = :_version",
            {**changes, "_id": ticket_id, "_version": version},
        )
        self._touch(ticket_id)
        return cur.rowcount == 1

    def meet_ticket_deadline(self, ticket_id: str, kind: str, at: datetime) -> None:
        self.db.execute(
            "UPDATE ticket_deadlines SET met_at = ? WHERE ticket_id = ? AND kind = ? "
            "AND met_at IS NULL AND voided = 0", [to_db(at), ticket_id, kind],
        )
        self._touch(ticket_id)

    def void_ticket_deadlines(self, ticket_id: str) -> None:
        """A ticket that is not ours: its open clocks count for and against nobody."""
        self.db.execute(
            "UPDATE ticket_deadlines SET voided = 1 WHERE ticket_id = ? AND met_at IS NULL",
            [ticket_id],
        )
        self._touch(ticket_id)

    def move_ticket_deadline(self, ticket_id: str, kind: str, due_at: datetime,
                             remind_at: datetime) -> None:
        self.db.execute(
            "UPDATE ticket_deadlines SET original_due_at = COALESCE(original_due_at, due_at), "
            "due_at = ?, remind_at = ? WHERE ticket_id = ? AND kind = ?",
            [to_db(due_at), to_db(remind_at), ticket_id, kind],
        )
        self._touch(ticket_id)

    def insert_extension(self, row: Row) -> None:
        self.db.table("ticket_extensions").insert(row)

    def extensions(self, ticket_ids: Sequence[str]) -> dict[str, list[Row]]:
        out: dict[str, list[Row]] = {i: [] for i in ticket_ids}
        if not ticket_ids:
            return out
        marks = ",".join("?" * len(ticket_ids))
        for r in self.db.query(
            f"SELECT * FROM ticket_extensions WHERE ticket_id IN ({marks}) "
            "ORDER BY requested_at, id", list(ticket_ids),
        ):
            out[str(r["ticket_id"])].append(r)
        return out

    def decide_extension(self, ext_id: str, status: str, by: str | None, at: datetime,
                         note: str) -> bool:
        cur = self.db.execute(
            "UPDATE ticket_extensions SET status = ?, decided_by = ?, decided_at = ?, note = ? "
            "WHERE id = ? AND status = 'pending'", [status, by, to_db(at), note, ext_id],
        )
        return cur.rowcount == 1

    # -- complaints ---------------------------------------------------------------------
    def insert_complaint(self, row: Row, deadlines: Sequence[Row]) -> None:
        self.db.table("complaints").insert(row)
        self.insert_complaint_deadlines(deadlines)

    def insert_complaint_deadlines(self, deadlines: Sequence[Row]) -> None:
        if deadlines:
            self.db.table("complaint_deadlines").insert_all(deadlines)

    def complaint(self, complaint_id: str) -> Row | None:
        rows = list(self.db.query("SELECT * FROM complaints WHERE id = ?", [complaint_id]))
        return rows[0] if rows else None

    def complaint_by_number(self, number: str) -> Row | None:
        rows = list(self.db.query("SELECT * FROM complaints WHERE number = ?", [number]))
        return rows[0] if rows else None

    def complaints(self, *, status: str | None, limit: int,
                   after: tuple[str, ...] | None = None, unit: str | None = None
                   ) -> list[Row]:
        """Newest first, keyset-paged on (received_at, id) after ``after``; ``unit``: only
        those targeted at it or at no unit."""
        where, params = ["1 = 1"], []
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if after is not None:
            where.append("(received_at, id) < (?, ?)")
            params.extend(after)
        if unit is not None:
            where.append("(target_unit = ? OR target_unit = '')")
            params.append(unit)
        return list(self.db.query(
            f"SELECT * FROM complaints WHERE {' AND '.join(where)} "
            "ORDER BY received_at DESC, id DESC LIMIT ?", [*params, limit]))

    def complaint_deadlines(self, complaint_id: str) -> list[Row]:
        return list(self.db.query(
            "SELECT * FROM complaint_deadlines WHERE complaint_id = ? ORDER BY round, due_at",
            [complaint_id]))

    def complaint_visits(self, complaint_id: str) -> list[Row]:
        return list(self.db.query(
            "SELECT * FROM complaint_visits WHERE complaint_id = ? ORDER BY round",
            [complaint_id]))

    def update_complaint(self, complaint_id: str, version: int, changes: Row) -> bool:
        cols = sorted(changes)
        sets = ", ".join(f"{c} = :{c}" for c in cols)
        cur = self.db.execute(
            f"UPDATE complaints SET {sets}, version = version + 1 "
            "WHERE id = :_id AND version = :_version",
            {**changes, "_id": complaint_id, "_version": version},
        )
        return cur.rowcount == 1

    def meet_complaint_deadline(self, complaint_id: str, round_: int, rule: str,
                                at: datetime) -> None:
        self.db.execute(
            "UPDATE complaint_deadlines SET met_at = ? WHERE complaint_id = ? AND round = ? "
            "AND rule = ? AND met_at IS NULL", [to_db(at), complaint_id, round_, rule],
        )

    def insert_visit(self, row: Row) -> None:
        self.db.table("complaint_visits").insert(row)

    def lookup_failures_since(self, number: str, since: datetime) -> int:
        row = self.db.execute(
            "SELECT COUNT(*) FROM complaint_lookup_failures WHERE number = ? AND at >= ?",
            [number, to_db(since)]).fetchone()
        return int(row[0])

    def add_lookup_failure(self, number: str, at: datetime) -> None:
        self.db.execute("INSERT INTO complaint_lookup_failures (number, at) VALUES (?, ?)",
                        [number, to_db(at)])

    # -- water-quality clusters and alerts ---------------------------------------------
    def quality_candidates(self, kind: str, since: datetime, until: datetime,
                           bbox: tuple[float, float, float, float] | None,
                           compound_key: str) -> list[Row]:
        """Unclustered complaints of ``kind`` received in [since, until], in the same
        compound (by its normalised ``compound_key``) or (when located) inside ``bbox``
        (min lon, min lat, max lon, max lat)."""
        area = ["(compound_key != '' AND compound_key = :compound)"]
        if bbox is not None:
            area.append("(lon BETWEEN :x0 AND :x1 AND lat BETWEEN :y0 AND :y1)")
        x0, y0, x1, y1 = bbox or (0.0, 0.0, 0.0, 0.0)
        return list(self.db.query(
            "SELECT id, compound, lon, lat, received_at FROM complaints "
            "WHERE kind = :kind AND cluster_id IS NULL AND received_at >= :since "
            f"AND received_at <= :until AND ({' OR '.join(area)}) ORDER BY received_at, id",
            {"kind": kind, "since": to_db(since), "until": to_db(until), "compound": compound_key,
             "x0": x0, "x1": x1, "y0": y0, "y1": y1},
        ))

    def live_clusters(self, kind: str, since: datetime) -> list[Row]:
        return list(self.db.query(
            "SELECT * FROM quality_clusters WHERE kind = ? AND last_at >= ? ORDER BY raised_at",
            [kind, to_db(since)]))

    def insert_cluster(self, row: Row, member_ids: Iterable[str]) -> None:
        self.db.table("quality_clusters").insert(row)
        self.db.conn.executemany("UPDATE complaints SET cluster_id = ? WHERE id = ?",
                                 [(row["id"], m) for m in member_ids])

    def join_cluster(self, cluster_id: str, complaint_id: str, at: datetime) -> None:
        self.db.execute("UPDATE complaints SET cluster_id = ? WHERE id = ?",
                        [cluster_id, complaint_id])
        self.db.execute(
            "UPDATE quality_clusters SET count = count + 1, last_at = MAX(last_at, ?), "
            "first_at = MIN(first_at, ?) WHERE id = ?", [to_db(at), to_db(at), cluster_id])

    def clusters(self, limit: int) -> list[Row]:
        return list(self.db.query(
            "SELECT * FROM quality_clusters ORDER BY raised_at DESC LIMIT ?", [limit]))

    def insert_alert(self, row: Row) -> None:
        self.db.table("desk_alerts").insert(row)

    def alert(self, alert_id: str) -> Row | None:
        rows = list(self.db.query("SELECT * FROM desk_alerts WHERE id = ?", [alert_id]))
        return rows[0] if rows else None

    def alerts(self, limit: int, after: tuple[str, ...] | None = None) -> list[Row]:
        """Newest first, keyset-paged on (raised_at, id) after ``after``."""
        keyset = "" if after is None else "WHERE (raised_at, id) < (?, ?) "
        return list(self.db.query(
            f"SELECT * FROM desk_alerts {keyset}"
            "ORDER BY raised_at DESC, id DESC LIMIT ?", [*(after or ()), limit]))

    def unsent_alerts(self) -> list[Row]:
        return list(self.db.query(
            "SELECT * FROM desk_alerts WHERE sent_at IS NULL ORDER BY raised_at"))

    def record_alert_attempt(self, alert_id: str, sent_at: datetime | None,
                             error: str | None) -> None:
        self.db.execute(
            "UPDATE desk_alerts SET attempts = attempts + 1, sent_at = ?, last_error = ? "
            "WHERE id = ?", [None if sent_at is None else to_db(sent_at), error, alert_id])

    # -- reminders and escalations -----------------------------------------------------
    @staticmethod
    def due_sql(kind: str, column: str, *, owed: bool) -> str:
        """The read of one kind's open deadlines (ticket, complaint, publication,
        work_order) whose ``column`` (remind_at or due_at) has come by the one parameter,
        with the unit and assignee they concern; with ``owed``, only those whose reminder
        (remind_at) or escalation (due_at) is still owed for their current due time. Owed,
        it is a range of a partial index of owed deadlines (tickets migration m006), so the
        scan reads what is owed, not every open deadline."""
        col, owed_sql = _OWED[column]
        cond = f"{owed_sql} AND d.{col} <= ?" if owed else f"d.{col} <= ?"
        return {
            "ticket": "SELECT 'ticket' AS item_kind, d.ticket_id AS item_id, d.rule AS rule, "
                      "d.due_at AS due_at, t.unit AS unit, t.assignee_id AS assignee_id, "
                      "t.crew_id AS crew_id, d.provisional AS provisional "
                      "FROM ticket_deadlines d JOIN tickets t ON t.id = d.ticket_id "
                      f"WHERE d.met_at IS NULL AND d.voided = 0 AND {cond}",
            "complaint": "SELECT 'complaint' AS item_kind, d.complaint_id AS item_id, "
                         "d.rule AS rule, d.due_at AS due_at, c.target_unit AS unit, "
                         "NULL AS assignee_id, NULL AS crew_id, d.provisional AS provisional "
                         "FROM complaint_deadlines d JOIN complaints c ON c.id = d.complaint_id "
                         f"WHERE d.met_at IS NULL AND {cond}",
            "publication": "SELECT 'publication' AS item_kind, d.id AS item_id, d.rule AS rule, "
                           "d.due_at AS due_at, d.unit AS unit, NULL AS assignee_id, "
                           "NULL AS crew_id, d.provisional AS provisional FROM service_info d "
                           f"WHERE d.published_at IS NULL AND {cond}",
            "work_order": "SELECT 'work_order' AS item_kind, d.work_order_id AS item_id, "
                          "d.rule AS rule, d.starts_at AS starts_at, d.due_at AS due_at, "
                          "COALESCE(cr.unit, '') AS unit, w.crew_id AS crew_id, "
                          "cr.supervisor_id AS supervisor_id, d.provisional AS provisional "
                          "FROM work_order_deadlines d "
                          "JOIN work_orders w ON w.id = d.work_order_id "
                          "LEFT JOIN crews cr ON cr.id = w.crew_id "
                          f"WHERE d.met_at IS NULL AND {cond} "
                          "AND w.status NOT IN ('cancelled', 'verified')",
        }[kind]

    def overdue_sql(self, kind: str, now: datetime, key: tuple[str, str, str, str] | None,
                    limit: int) -> tuple[str, list[object]]:
        """One kind's run of ``overdue_after``: a range of an index of its open deadlines
        in the order (due time, id, rule) (tickets migration m007; ``wod_open_due_order``
        for work orders), starting after ``key`` in the merged order."""
        _, item = _DEADLINE_TABLES[kind]
        sql = self.due_sql(kind, "due_at", owed=False)
        params: list[object] = [to_db(now)]
        if key is not None:
            due, after_kind, after_id, after_rule = key
            if kind > after_kind:
                sql += " AND d.due_at >= ?"
                params.append(due)
            elif kind < after_kind:
                sql += " AND d.due_at > ?"
                params.append(due)
            else:
                sql += (f" AND (d.due_at > ? OR (d.due_at = ? AND (d.{item} > ? "
                        f"OR (d.{item} = ? AND d.rule > ?))))")
                params += [due, due, after_id, after_id, after_rule]
        return sql + f" ORDER BY d.due_at, d.{item}, d.rule LIMIT ?", [*params, limit]

    def overdue_after(self, now: datetime, key: tuple[str, str, str, str] | None,
                      limit: int) -> list[Row]:
        """The first ``limit`` open deadlines past due at ``now`` of every kind, in the
        order (due time, kind, id, rule), after ``key`` (None: from the start).

        Each kind is one range of an index (``overdue_sql``) read ``limit`` rows deep, and
        the four sorted runs are merged: a page costs its own rows, not every overdue
        deadline of the store."""
        runs = [list(self.db.query(*self.overdue_sql(kind, now, key, limit)))
                for kind in sorted(_DEADLINE_TABLES)]
        merged = heapq.merge(*runs, key=lambda r: (str(r["due_at"]), str(r["item_kind"]),
                                                   str(r["item_id"]), str(r["rule"])))
        return list(itertools.islice(merged, limit))

    def open_desk_deadlines(self, now: datetime, column: str, *, owed: bool) -> list[Row]:
        """Ticket, complaint and publication deadlines of ``due_sql``."""
        stamp = to_db(now)
        return [r for kind in ("ticket", "complaint", "publication")
                for r in self.db.query(self.due_sql(kind, column, owed=owed), [stamp])]

    def open_work_order_deadlines(self, now: datetime, column: str, *, owed: bool
                                  ) -> list[Row]:
        """Work-order deadlines of ``due_sql``."""
        return list(self.db.query(self.due_sql("work_order", column, owed=owed), [to_db(now)]))

    def record_reminded(self, rows: Iterable[Row], level: str) -> None:
        """Mark each deadline's reminder (``remind``) or escalation (``escalate``) as
        recorded for the due time the scan read: it leaves the owed index. A deadline whose
        due time moved since is left owed, for its new due time."""
        column = "reminded_for" if level == "remind" else "escalated_for"
        by_kind: dict[str, list[tuple[str, str, str, str]]] = {}
        for r in rows:
            due = str(r["due_at"])
            by_kind.setdefault(str(r["item_kind"]), []).append(
                (due, str(r["item_id"]), str(r["rule"]), due))
        for kind, keys in by_kind.items():
            table, item = _DEADLINE_TABLES[kind]
            self._update_each(table, f"{column} = v.c1",
                              f"{table}.{item} = v.c2 AND {table}.rule = v.c3 "
                              f"AND {table}.due_at = v.c4", keys)

    def _update_each(self, table: str, assign: str, match: str,
                     rows: Sequence[tuple[str, ...]]) -> None:
        """One ``UPDATE … FROM`` a list of values per chunk of ``rows`` (columns ``v.c1``,
        ``v.c2``, …), instead of one statement per row: on PostgreSQL each statement is a
        round trip and fires the list-version trigger (server migration m016) once more."""
        for start in range(0, len(rows), _UPDATE_CHUNK):
            chunk = rows[start:start + _UPDATE_CHUNK]
            width = len(chunk[0])
            names = ", ".join(f"c{i + 1}" for i in range(width))
            marks = ", ".join(["(" + ", ".join(["?"] * width) + ")"] * len(chunk))
            self.db.execute(
                f"WITH v({names}) AS (VALUES {marks}) "
                f"UPDATE {table} SET {assign} FROM v WHERE {match}",
                [x for row in chunk for x in row])

    # -- service information to publish (JN 11, ZJ) ------------------------------------
    def insert_service_info(self, row: Row) -> None:
        self.db.table("service_info").insert(row)

    def service_info(self, info_id: str) -> Row | None:
        rows = list(self.db.query("SELECT * FROM service_info WHERE id = ?", [info_id]))
        return rows[0] if rows else None

    def service_infos(self, *, overdue_at: datetime | None, limit: int,
                      after: tuple[str, ...] | None = None) -> list[Row]:
        """Newest change first; ``overdue_at`` keeps the unpublished ones past due then,
        earliest due first. Keyset-paged after ``after`` (the sort key of the last row)."""
        if overdue_at is None:
            keyset = "" if after is None else "WHERE (changed_at, id) < (?, ?) "
            return list(self.db.query(
                f"SELECT * FROM service_info {keyset}"
                "ORDER BY changed_at DESC, id DESC LIMIT ?", [*(after or ()), limit]))
        keyset = "" if after is None else "AND (due_at, id) > (?, ?) "
        return list(self.db.query(
            "SELECT * FROM service_info WHERE published_at IS NULL AND due_at <= ? "
            f"{keyset}ORDER BY due_at, id LIMIT ?",
            [to_db(overdue_at), *(after or ()), limit]))

    def publish_service_info(self, info_id: str, at: datetime, where: str) -> bool:
        """Record the publication once; False when it was already recorded."""
        cur = self.db.execute(
            "UPDATE service_info SET published_at = ?, published_where = ? "
            "WHERE id = ? AND published_at IS NULL", [to_db(at), where, info_id])
        return cur.rowcount == 1

    def unscheduled_work_order_deadlines(self, after: tuple[str, str], limit: int
                                         ) -> list[Row]:
        """Open work-order deadlines whose reminder time is not worked out yet (new ones,
        or moved by a recomputation): the next ``limit`` after ``after`` (work order, rule)."""
        return list(self.db.query(UNSCHEDULED_SQL, [after[0], after[0], after[1], limit]))

    def schedule_work_order_reminders(self, times: Iterable[tuple[str, str, str, str]]
                                      ) -> None:
        """Store reminder times: (work order, rule, due time it was worked out for, remind
        time). A deadline whose due time moved meanwhile keeps none and is worked out again."""
        self._update_each(
            "work_order_deadlines", "remind_at = v.c1",
            "work_order_deadlines.work_order_id = v.c2 AND work_order_deadlines.rule = v.c3 "
            "AND work_order_deadlines.due_at = v.c4 AND work_order_deadlines.remind_at IS NULL",
            [(at, wo, rule, due) for wo, rule, due, at in times])

    def add_reminder(self, row: Row) -> int | None:
        """Insert once per (item, rule, due time, level); None when it already exists."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO deadline_reminders (item_kind, item_id, rule, due_at, level, "
            "recipient_id, created_at, note) VALUES (:item_kind, :item_id, :rule, :due_at, "
            ":level, :recipient_id, :created_at, :note)", row)
        return int(cur.lastrowid) if cur.rowcount == 1 and cur.lastrowid is not None else None

    def reminder_exists(self, item_kind: str, item_id: str, rule: str, due_at: str,
                        level: str) -> bool:
        return self.db.execute(
            "SELECT 1 FROM deadline_reminders WHERE item_kind = ? AND item_id = ? AND rule = ? "
            "AND due_at = ? AND level = ?", [item_kind, item_id, rule, due_at, level],
        ).fetchone() is not None

    def reminders(self, *, recipient_id: str | None, level: str | None,
                  limit: int, before_id: int | None = None) -> list[Row]:
        """Newest first, keyset-paged on the id before ``before_id``."""
        where: list[str] = ["1 = 1"]
        params: list[object] = []
        if before_id is not None:
            where.append("id < ?")
            params.append(before_id)
        if recipient_id is not None:
            where.append("recipient_id = ?")
            params.append(recipient_id)
        if level is not None:
            where.append("level = ?")
            params.append(level)
        params.append(limit)
        return list(self.db.query(
            f"SELECT * FROM deadline_reminders WHERE {' AND '.join(where)} "
            "ORDER BY id DESC LIMIT ?", params))

    # -- statistics ----------------------------------------------------------------------
    def tallies(self, source: str, group: str, period: str, since: datetime,
                until: datetime, unit: str | None = None, *, scan: bool = False) -> list[Row]:
        """Deadline tallies of one source (ticket, complaint, work_order) by rule, group
        and period; see ``_tally_sql`` for what each number means. ``unit``: only that
        unit's rows (and those of no unit).

        Tickets are answered from the counters (``server.tickets.tally_store``); ``scan``
        counts them with one pass over every deadline instead (what the counters replaced;
        ``bench.deadlines`` measures both)."""
        if source == "ticket" and not scan:
            return tally_store.tallies(self.db, tally_store.TICKET, group, PERIODS[period],
                                       since, until, unit)
        if source == "ticket":
            table = ("ticket_deadlines d JOIN tickets t ON t.id = d.ticket_id "
                     "AND d.voided = 0")
            groups = TICKET_GROUPS
        elif source == "complaint":
            table = "complaint_deadlines d JOIN complaints c ON c.id = d.complaint_id"
            groups = COMPLAINT_GROUPS
        else:
            table = ("work_order_deadlines d JOIN work_orders w ON w.id = d.work_order_id "
                     "LEFT JOIN crews cr ON cr.id = w.crew_id")
            groups = WORK_ORDER_GROUPS
        sql = _tally_sql(table, groups[group], _period_sql("d.starts_at", period),
                         _unit_sql(groups["unit"], unit))
        return list(self.db.query(sql, {"since": to_db(since), "until": to_db(until),
                                        "unit": unit or ""}))

    def shutoff_counts(self, group: str, period: str, since: datetime,
                       until: datetime, unit: str | None = None) -> list[Row]:
        """Finished repairs counted by JN 10.3.4's rate, and how many kept the water on.

        "不停水维修率应达到90%（供水管网漏水除外）": repairs of pipe-network leaks are outside
        the rate. A repair order says what it repaired in ``fields.repair_of``; orders
        marked ``pipe_network_leak`` are left out entirely, orders that do not say are
        counted as ``unknown`` (left out of the rate, shown beside it).

        The crew's valve log is the record: a repair during which no valve was closed
        (``fw_valve_operations``) kept the water on. An explicit ``fields.water_shut_off``
        (e.g. a shutoff made by another unit's valve) takes precedence.
        """
        group_col = WORK_ORDER_GROUPS[group if group != "rule" else "all"]
        period_col = _period_sql("w.reported_at", period)
        shut = ("COALESCE(json_extract(w.fields, '$.water_shut_off'), EXISTS (SELECT 1 FROM "
                "fw_valve_operations v WHERE v.work_order_id = w.id AND v.action = 'closed'))")
        repair_of = "json_extract(w.fields, '$.repair_of')"
        return list(self.db.query(
            f"SELECT {group_col} AS grp, {period_col} AS period, COUNT(*) AS total, "
            f"SUM(CASE WHEN {repair_of} IS NOT NULL AND {shut} = 0 THEN 1 ELSE 0 END) "
            f"AS without_shutoff, SUM(CASE WHEN {repair_of} IS NULL THEN 1 ELSE 0 END) "
            "AS unknown FROM work_orders w LEFT JOIN crews cr ON cr.id = w.crew_id "
            "WHERE w.type = 'burst_repair' AND w.status IN ('completed', 'verified') "
            f"AND ({repair_of} IS NULL OR {repair_of} != :leak) "
            "AND w.reported_at >= :since AND w.reported_at < :until"
            f"{_unit_sql(WORK_ORDER_GROUPS['unit'], unit)} GROUP BY 1, 2 ORDER BY 1, 2",
            {"since": to_db(since), "until": to_db(until), "leak": PIPE_NETWORK_LEAK,
             "unit": unit or ""}))

    def visit_counts(self, group: str, period: str, since: datetime,
                     until: datetime, unit: str | None = None) -> list[Row]:
        """Return visits made and how many found the customer satisfied."""
        group_col = COMPLAINT_GROUPS[group if group != "rule" else "all"]
        period_col = _period_sql("v.visited_at", period)
        return list(self.db.query(
            f"SELECT {group_col} AS grp, {period_col} AS period, COUNT(*) AS total, "
            "SUM(v.satisfied) AS satisfied FROM complaint_visits v "
            "JOIN complaints c ON c.id = v.complaint_id "
            "WHERE v.visited_at >= :since AND v.visited_at < :until"
            f"{_unit_sql(COMPLAINT_GROUPS['unit'], unit)} GROUP BY 1, 2 ORDER BY 1, 2",
            {"since": to_db(since), "until": to_db(until), "unit": unit or ""}))

    # -- provisional deadlines (recomputed when a holiday notice is imported) ----------
    def provisional_clocks(self, lo: datetime, hi: datetime) -> list[OpenClock]:
        """Open ticket and complaint clocks counted provisionally that overlap [lo, hi).

        Extended ticket deadlines are left out: a supervisor set their due time.
        """
        # one column set for the three tables, so one mapping builds every clock
        queries = (
            ("ticket", "SELECT ticket_id AS entity_id, kind AS part, rule, starts_at, due_at, "
             "remind_at FROM ticket_deadlines WHERE provisional = 1 AND met_at IS NULL "
             "AND voided = 0 AND original_due_at IS NULL AND starts_at < :hi AND due_at >= :lo"),
            ("complaint", "SELECT complaint_id AS entity_id, round AS part, rule, starts_at, "
             "due_at, remind_at FROM complaint_deadlines WHERE provisional = 1 "
             "AND met_at IS NULL AND starts_at < :hi AND due_at >= :lo"),
            ("service_info", "SELECT id AS entity_id, '' AS part, rule, changed_at AS starts_at, "
             "due_at, remind_at FROM service_info WHERE provisional = 1 "
             "AND published_at IS NULL AND changed_at < :hi AND due_at >= :lo"),
        )
        bounds = {"lo": to_db(lo), "hi": to_db(hi)}
        return [OpenClock(entity=entity, entity_id=str(r["entity_id"]), part=str(r["part"]),
                          rule=str(r["rule"]), starts_at=from_db(str(r["starts_at"])),
                          due_at=from_db(str(r["due_at"])),
                          remind_at=from_db(str(r["remind_at"])))
                for entity, sql in queries for r in self.db.query(sql, bounds)]

    def retime(self, clock: OpenClock, timing: Timing) -> None:
        """Write a recomputed due time, reminder time and provisional flag."""
        values = [to_db(timing.due_at), to_db(timing.remind_at), int(timing.provisional)]
        if clock.entity == "ticket":
            self.db.execute(
                "UPDATE ticket_deadlines SET due_at = ?, remind_at = ?, provisional = ? "
                "WHERE ticket_id = ? AND kind = ?", [*values, clock.entity_id, clock.part])
            self._touch(clock.entity_id)
        elif clock.entity == "service_info":
            self.db.execute(
                "UPDATE service_info SET due_at = ?, remind_at = ?, provisional = ? "
                "WHERE id = ?", [*values, clock.entity_id])
        else:
            self.db.execute(
                "UPDATE complaint_deadlines SET due_at = ?, remind_at = ?, provisional = ? "
                "WHERE complaint_id = ? AND round = ? AND rule = ?",
                [*values, clock.entity_id, int(clock.part), clock.rule])
