"""SQL for work orders and their deadlines.

Every write that a tablet must see is ``touch``-ed in the unit of work (``core.uow``),
which derives the change-log rows at commit from the scope rules registered here: an
order (and its isolation plan) is in the scope of its crew.
"""

from __future__ import annotations

import base64
import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Final

import msgspec
from sqlite_utils import Database

from core.uow import ScopeRule, UnitOfWork
from server.policy import OpenClock, Timing
from server.timefmt import from_db, opt_from_db, opt_to_db, to_db
from server.workorders.model import (
    Deadline,
    FieldValue,
    Geometry,
    Status,
    Step,
    WorkOrder,
    WorkOrderType,
)

_geo_decode = msgspec.json.Decoder(Geometry).decode
_fields_decode = msgspec.json.Decoder(dict[str, FieldValue]).decode
_steps_decode = msgspec.json.Decoder(list[Step]).decode
_encode = msgspec.json.Encoder().encode

_COLUMNS = (
    "id, number, type, status, priority, title, description, crew_id, customer_id, location, "
    "pipe_diameter_mm, profile, reported_at, created_at, updated_at, closed_at, due_at, "
    "status_reason, version, fields, steps"
)


def _row(r: Sequence[object], deadlines: list[Deadline]) -> WorkOrder:
    return WorkOrder(
        id=str(r[0]), number=str(r[1]), type=WorkOrderType(str(r[2])), status=Status(str(r[3])),
        priority=int(r[4]),  # type: ignore[call-overload]
        title=str(r[5]), description=str(r[6]),
        crew_id=r[7], customer_id=r[8],  # type: ignore[arg-type]
        location=_geo_decode(str(r[9])),
        pipe_diameter_mm=r[10],  # type: ignore[arg-type]
        profile=str(r[11]), reported_at=from_db(str(r[12])), created_at=from_db(str(r[13])),
        updated_at=from_db(str(r[14])), closed_at=opt_from_db(r[15]),  # type: ignore[arg-type]
        due_at=opt_from_db(r[16]),  # type: ignore[arg-type]
        status_reason=r[17],  # type: ignore[arg-type]
        version=int(r[18]),  # type: ignore[call-overload]
        fields=_fields_decode(str(r[19])), steps=_steps_decode(str(r[20])),
        deadlines=deadlines,
    )


def encode_cursor(created_at: str, wo_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at}|{wo_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    """Raises ValueError on a cursor we did not issue."""
    created_at, _, wo_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
    if not wo_id:
        raise ValueError("malformed cursor")
    return created_at, wo_id


class Filters(msgspec.Struct, frozen=True, kw_only=True):
    type: WorkOrderType | None = None
    status: Status | None = None
    crew_id: str | None = None
    #: only orders of these crews (a unit-scoped office role's crews); None: any crew
    crew_ids: tuple[str, ...] | None = None
    overdue_at: datetime | None = None
    cursor: str | None = None
    limit: int = 50


def _crew_of(table: str, key: str) -> ScopeRule:
    def resolve(db: Database, ids: Sequence[str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for start in range(0, len(ids), 500):
            part = list(ids[start:start + 500])
            marks = ",".join("?" * len(part))
            for rid, crew in db.execute(
                    f"SELECT t.{key}, w.crew_id FROM {table} t JOIN work_orders w "
                    f"ON w.id = t.{key} WHERE t.{key} IN ({marks})", part):
                out[str(rid)] = {f"crew:{crew}"} if crew else set()
        return out

    return ScopeRule(resolve)


#: synced entities whose scope is the crew of a work order: (entity, table, key column)
CREW_SCOPED: Final = (("work_order", "work_orders", "id"),
                      ("isolation_plan", "fw_isolation_plans", "work_order_id"))


def register_scope_rules(db: Database) -> None:
    """Teach the unit of work where work orders and their isolation plans are visible."""
    uow = getattr(db, "uow", None)
    if isinstance(uow, UnitOfWork):
        for entity, table, key in CREW_SCOPED:
            uow.register(entity, _crew_of(table, key))


class WorkOrderStore:
    def __init__(self, db: Database, rule_titles: dict[str, str] | None = None) -> None:
        self.db = db
        self.rule_titles = rule_titles or {}
        register_scope_rules(db)

    def next_number(self, day: str) -> str:
        """A human number like WO20261123-0007, unique per day (call inside the write)."""
        name = f"wo:{day}"
        self.db.execute(
            "INSERT INTO counters (name, value) VALUES (?, 1) "
            "ON CONFLICT(name) DO UPDATE SET value = counters.value + 1",
            [name],
        )
        value = self.db.execute("SELECT value FROM counters WHERE name = ?", [name]).fetchone()[0]
        return f"WO{day}-{value:04d}"

    def insert(self, wo: WorkOrder, lon: float, lat: float) -> None:
        self.db.execute(
            f"INSERT INTO work_orders ({_COLUMNS}, lon, lat) VALUES "
            "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [wo.id, wo.number, str(wo.type), str(wo.status), wo.priority, wo.title,
             wo.description, wo.crew_id, wo.customer_id, _encode(wo.location).decode(),
             wo.pipe_diameter_mm, wo.profile, to_db(wo.reported_at), to_db(wo.created_at),
             to_db(wo.updated_at), opt_to_db(wo.closed_at), opt_to_db(wo.due_at),
             wo.status_reason, wo.version, _encode(wo.fields).decode(),
             _encode(wo.steps).decode(), lon, lat],
        )
        self.db.conn.executemany(
            "INSERT INTO work_order_deadlines (work_order_id, rule, clause, starts_at, due_at, "
            "provisional) VALUES (?, ?, ?, ?, ?, ?)",
            [(wo.id, d.rule, d.clause, to_db(d.starts_at), to_db(d.due_at), int(d.provisional))
             for d in wo.deadlines],
        )

    def get(self, wo_id: str, now: datetime | None = None) -> WorkOrder | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM work_orders WHERE id = ?", [wo_id]
        ).fetchone()
        if row is None:
            return None
        return _row(row, self.deadlines([wo_id], now).get(wo_id, []))

    def deadlines(self, ids: Sequence[str], now: datetime | None) -> dict[str, list[Deadline]]:
        out: dict[str, list[Deadline]] = {}
        if not ids:
            return out
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            "SELECT work_order_id, rule, clause, starts_at, due_at, met_at, provisional, "
            f"met_server_at, met_source FROM work_order_deadlines WHERE work_order_id IN ({marks}) "
            "ORDER BY due_at",
            list(ids),
        )
        for wo_id, rule, clause, starts, due, met, provisional, met_server, met_source in rows:
            due_at = from_db(due)
            met_at = opt_from_db(met)
            overdue = (met_at > due_at) if met_at else (now is not None and now > due_at)
            out.setdefault(wo_id, []).append(
                Deadline(rule=rule, title=self.rule_titles.get(rule, rule), clause=clause,
                         starts_at=from_db(starts),
                         due_at=due_at, met_at=met_at, overdue=overdue,
                         provisional=bool(provisional),
                         met_server_at=opt_from_db(met_server), met_source=met_source)
            )
        return out

    def update_status(
        self, wo_id: str, status: Status, reason: str | None, at: datetime,
        closed_at: datetime | None, expected_version: int,
    ) -> bool:
        """Compare-and-set on version; False when someone else changed the order first."""
        cur = self.db.execute(
            "UPDATE work_orders SET status = ?, status_reason = ?, updated_at = ?, "
            "closed_at = COALESCE(?, closed_at), version = version + 1 "
            "WHERE id = ? AND version = ?",
            [str(status), reason, to_db(at), opt_to_db(closed_at), wo_id, expected_version],
        )
        return cur.rowcount == 1

    def update_crew(self, wo_id: str, crew_id: str, status: Status, at: datetime,
                    expected_version: int) -> bool:
        cur = self.db.execute(
            "UPDATE work_orders SET crew_id = ?, status = ?, updated_at = ?, "
            "version = version + 1 WHERE id = ? AND version = ?",
            [crew_id, str(status), to_db(at), wo_id, expected_version],
        )
        return cur.rowcount == 1

    def update_fields(self, wo_id: str, fields: dict[str, FieldValue], steps: list[Step],
                      at: datetime, expected_version: int) -> bool:
        cur = self.db.execute(
            "UPDATE work_orders SET fields = ?, steps = ?, updated_at = ?, "
            "version = version + 1 WHERE id = ? AND version = ?",
            [_encode(fields).decode(), _encode(steps).decode(), to_db(at), wo_id,
             expected_version],
        )
        return cur.rowcount == 1

    def add_deadlines(self, wo_id: str, deadlines: Sequence[Deadline]) -> None:
        """Start clocks on an existing order (a stage reached, LC §24's from the start of
        repair work); a clock already started (an order sent back to in_progress) keeps its
        start. The order's own due time becomes the latest of its deadlines."""
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO work_order_deadlines (work_order_id, rule, clause, "
            "starts_at, due_at, provisional) VALUES (?, ?, ?, ?, ?, ?)",
            [(wo_id, d.rule, d.clause, to_db(d.starts_at), to_db(d.due_at), int(d.provisional))
             for d in deadlines])
        self.db.execute(
            "UPDATE work_orders SET due_at = (SELECT MAX(due_at) FROM work_order_deadlines "
            "WHERE work_order_id = ?) WHERE id = ?", [wo_id, wo_id])

    def meet_deadlines(self, wo_id: str, rules: Sequence[str], at: datetime,
                       server_at: datetime | None = None, source: str = "server") -> None:
        """Mark open deadlines met at ``at`` (the judged time), received at ``server_at``."""
        if rules:
            marks = ",".join("?" * len(rules))
            self.db.execute(
                "UPDATE work_order_deadlines SET met_at = ?, met_server_at = ?, met_source = ? "
                f"WHERE work_order_id = ? AND met_at IS NULL AND rule IN ({marks})",
                [to_db(at), to_db(server_at or at), source, wo_id, *rules],
            )

    def void_open_deadlines(self, wo_id: str) -> None:
        """A cancelled order's open deadlines no longer count for or against anyone."""
        self.db.execute(
            "DELETE FROM work_order_deadlines WHERE work_order_id = ? AND met_at IS NULL",
            [wo_id],
        )

    def crew_has_customer(self, crew_id: str, customer_id: str, except_wo: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM work_orders WHERE crew_id = ? AND customer_id = ? AND id != ? "
            "AND status NOT IN ('verified','cancelled') LIMIT 1",
            [crew_id, customer_id, except_wo],
        ).fetchone()
        return row is not None

    def list(self, f: Filters) -> tuple[list[WorkOrder], str | None]:
        """Newest first, keyset-paged on (created_at, id): stable under inserts."""
        where: list[str] = []
        params: list[object] = []
        if f.type is not None:
            where.append("w.type = ?")
            params.append(str(f.type))
        if f.status is not None:
            where.append("w.status = ?")
            params.append(str(f.status))
        if f.crew_id is not None:
            where.append("w.crew_id = ?")
            params.append(f.crew_id)
        if f.crew_ids is not None:
            where.append(f"w.crew_id IN ({','.join('?' * len(f.crew_ids))})"
                         if f.crew_ids else "0")
            params.extend(f.crew_ids)
        if f.overdue_at is not None:
            where.append(
                "EXISTS (SELECT 1 FROM work_order_deadlines d WHERE d.work_order_id = w.id "
                "AND ((d.met_at IS NULL AND d.due_at < ?) OR d.met_at > d.due_at))"
            )
            params.append(to_db(f.overdue_at))
        if f.cursor is not None:
            created, wo_id = decode_cursor(f.cursor)
            where.append("(w.created_at, w.id) < (?, ?)")
            params.extend([created, wo_id])
        columns = ", ".join("w." + c.strip() for c in _COLUMNS.split(","))
        sql = f"SELECT {columns} FROM work_orders w"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY w.created_at DESC, w.id DESC LIMIT ?"
        params.append(f.limit)
        rows = self.db.execute(sql, params).fetchall()
        deadlines = self.deadlines([str(r[0]) for r in rows], f.overdue_at)
        items = [_row(r, deadlines.get(str(r[0]), [])) for r in rows]
        next_cursor = (
            encode_cursor(str(rows[-1][13]), str(rows[-1][0])) if len(rows) == f.limit else None
        )
        return items, next_cursor

    def timeliness(self, since: datetime | None, until: datetime, crew_id: str | None,
                   unit: str | None = None) -> builtins.list[tuple[str, int, int, int]]:
        """Per rule: (rule, decided, met on time, open and overdue); ``unit``: only orders
        of that unit's crews (and of no known unit).

        A deadline is decided by ``until`` once it was met or its due time passed; only
        decided deadlines count, so an order still inside its limit neither helps nor
        hurts the rate. ``since`` filters on when the clock started.
        """
        params: list[object] = [to_db(until)]
        sql = (
            "SELECT d.rule, COUNT(*), "
            "SUM(CASE WHEN d.met_at IS NOT NULL AND d.met_at <= d.due_at THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN d.met_at IS NULL AND d.due_at < ?1 THEN 1 ELSE 0 END) "
            "FROM work_order_deadlines d JOIN work_orders w ON w.id = d.work_order_id "
            "LEFT JOIN crews cr ON cr.id = w.crew_id "
            "WHERE ((d.met_at IS NOT NULL AND d.met_at <= ?1) OR d.due_at <= ?1)"
        )
        if since is not None:
            sql += " AND d.starts_at >= ?2"
            params.append(to_db(since))
        if crew_id is not None:
            sql += f" AND w.crew_id = ?{len(params) + 1}"
            params.append(crew_id)
        if unit is not None:
            n = len(params) + 1
            sql += f" AND (COALESCE(cr.unit, '') = ?{n} OR COALESCE(cr.unit, '') = '')"
            params.append(unit)
        sql += " GROUP BY d.rule ORDER BY d.rule"
        return [(r[0], int(r[1]), int(r[2] or 0), int(r[3] or 0))
                for r in self.db.execute(sql, params)]

    # -- provisional deadlines (recomputed when a holiday notice is imported) ----------
    def provisional_clocks(self, lo: datetime, hi: datetime) -> builtins.list[OpenClock]:
        """Open work-order clocks counted provisionally that overlap [lo, hi)."""
        rows = self.db.execute(
            "SELECT work_order_id, rule, starts_at, due_at FROM work_order_deadlines "
            "WHERE provisional = 1 AND met_at IS NULL AND starts_at < ? AND due_at >= ?",
            [to_db(hi), to_db(lo)],
        ).fetchall()
        return [OpenClock(entity="work_order", entity_id=str(r[0]), part=str(r[1]),
                          rule=str(r[1]), starts_at=from_db(r[2]), due_at=from_db(r[3]))
                for r in rows]

    def retime(self, clock: OpenClock, timing: Timing) -> None:
        """Write a recomputed deadline; the order's own due time is the latest of them."""
        self.db.execute(
            "UPDATE work_order_deadlines SET due_at = ?, provisional = ? "
            "WHERE work_order_id = ? AND rule = ?",
            [to_db(timing.due_at), int(timing.provisional), clock.entity_id, clock.rule])
        self.db.execute(
            "UPDATE work_orders SET due_at = (SELECT MAX(due_at) FROM work_order_deadlines "
            "WHERE work_order_id = ?) WHERE id = ?", [clock.entity_id, clock.entity_id])
