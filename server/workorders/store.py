"""SQL for work orders and their deadlines.

Every write that a tablet must see is ``touch``-ed in the unit of work (``core.uow``),
which derives the change-log rows at commit from the scope rules registered here: an
order (and its isolation plan) is in the scope of its crew.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Final

import msgspec
from sqlite_utils import Database

from core.rows import integer, opt_integer, opt_text, opt_time, qualified
from core.store import insert_rows
from core.time import wire_from_db
from core.uow import ScopeRule, UnitOfWork
from server.errors import BadInputError
from server.paging import cut_page, decode_cursor
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
_json_decode = msgspec.json.Decoder().decode


def _same(value: object) -> object:
    return value


def _step_defaults() -> list[tuple[str, Callable[[], object]]]:
    out: list[tuple[str, Callable[[], object]]] = []
    for f in msgspec.structs.fields(Step):
        if f.default is not msgspec.NODEFAULT:
            out.append((f.encode_name, functools.partial(_same, f.default)))
        elif f.default_factory is not msgspec.NODEFAULT:
            out.append((f.encode_name, f.default_factory))
    return out


#: (name, make default) of every optional ``Step`` field, for steps stored before it existed
STEP_FILL: Final = _step_defaults()


def wire_steps(text: str) -> list[dict[str, object]]:
    """Stored steps JSON as the wire's step mappings, steps stored before a ``Step`` field
    existed completed with its default (the pull's ``wire_rows`` and ``server.intents.wire``)."""
    steps: list[dict[str, object]] = _json_decode(text)
    for step in steps:
        if len(step) < len(STEP_FILL) + 2:
            for name, make in STEP_FILL:
                if name not in step:
                    step[name] = make()
    return steps


_COLUMNS = (
    "id, number, type, status, priority, title, description, crew_id, customer_id, location, "
    "pipe_diameter_mm, profile, reported_at, created_at, updated_at, closed_at, due_at, "
    "status_reason, version, fields, steps"
)


def _row(r: Sequence[object], deadlines: list[Deadline]) -> WorkOrder:
    return WorkOrder(
        id=str(r[0]), number=str(r[1]), type=WorkOrderType(str(r[2])), status=Status(str(r[3])),
        priority=integer(r, 4),
        title=str(r[5]), description=str(r[6]),
        crew_id=opt_text(r, 7), customer_id=opt_text(r, 8),
        location=_geo_decode(str(r[9])),
        pipe_diameter_mm=opt_integer(r, 10),
        profile=str(r[11]), reported_at=from_db(str(r[12])), created_at=from_db(str(r[13])),
        updated_at=from_db(str(r[14])), closed_at=opt_time(r, 15),
        due_at=opt_time(r, 16),
        status_reason=opt_text(r, 17),
        version=integer(r, 18),
        fields=_fields_decode(str(r[19])), steps=_steps_decode(str(r[20])),
        deadlines=deadlines,
    )


def _next_due(deadlines: Sequence[Deadline]) -> str | None:
    """``next_due_at`` of a new order (as ``_refresh_next_due`` computes it in SQL)."""
    late = [to_db(d.due_at) for d in deadlines if d.met_at is None or d.met_at > d.due_at]
    return min(late, default=None)


#: the columns a new order is stored in (``insert_many``): ``_COLUMNS`` and the derived ones
_INSERT_COLUMNS: Final = (*(c.strip() for c in _COLUMNS.split(",")), "lon", "lat", "next_due_at")
_DEADLINE_COLUMNS: Final = ("work_order_id", "rule", "clause", "starts_at", "due_at",
                            "provisional")


def _order_values(wo: WorkOrder, lon: float, lat: float) -> tuple[object, ...]:
    """A new order's row in ``_INSERT_COLUMNS`` order."""
    return (wo.id, wo.number, str(wo.type), str(wo.status), wo.priority, wo.title,
            wo.description, wo.crew_id, wo.customer_id, _encode(wo.location).decode(),
            wo.pipe_diameter_mm, wo.profile, to_db(wo.reported_at), to_db(wo.created_at),
            to_db(wo.updated_at), opt_to_db(wo.closed_at), opt_to_db(wo.due_at),
            wo.status_reason, wo.version, _encode(wo.fields).decode(),
            _encode(wo.steps).decode(), lon, lat, _next_due(wo.deadlines))


_W_COLUMNS: Final = qualified("w", _COLUMNS)


def _cursor(cursor: str, kind: str) -> tuple[str, ...]:
    """A work-order cursor: its kind is ``c`` (newest first) or ``d`` (overdue order);
    one of the other order is refused, as is any cursor we did not issue."""
    parts = decode_cursor(cursor, 3)
    if parts[0] != kind:
        raise BadInputError("bad cursor: it belongs to a list in another order",
                            field="cursor")
    return parts


#: SQLite's page cache during ``WorkOrderStore.bulk_write``, in KiB
BULK_CACHE_KIB: Final = 256 * 1024

#: the ``list_versions`` row of the work-order lists
LIST_VERSION: Final = "work_orders"


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
        return self.next_numbers(day, 1)[0]

    def next_numbers(self, day: str, count: int) -> builtins.list[str]:
        """``count`` consecutive numbers of ``day`` (``next_number``'s, in order): one
        statement moves the day's counter by ``count``, however many orders are created."""
        if count <= 0:
            return []
        row = self.db.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = counters.value + excluded.value "
            "RETURNING value",
            [f"wo:{day}", count],
        ).fetchone()
        last = int(row[0])
        return [f"WO{day}-{value:04d}" for value in range(last - count + 1, last + 1)]

    @contextlib.contextmanager
    def bulk_write(self) -> Iterator[None]:
        """A large write on this thread's connection: SQLite's page cache raised to
        ``BULK_CACHE_KIB`` for its duration (restored after), PostgreSQL unchanged.

        Why: an order's ids are random (uuid4), so each new order lands on a random page of
        every index keyed on its id (the order's, its deadlines', the audit trail's, the
        change log's). Past ~100k orders those indexes outgrow the default 2 MB cache and
        SQLite spilled and re-read the same pages for every chunk (measured: ~100 kB of
        file I/O per order, 500 orders/s at 100k). The cache only grows as pages are used.
        """
        if getattr(self.db, "dialect_name", "sqlite") != "sqlite":
            yield
            return
        conn = self.db.conn
        before = conn.execute("PRAGMA cache_size").fetchone()[0]
        conn.execute(f"PRAGMA cache_size = -{int(BULK_CACHE_KIB)}")
        try:
            yield
        finally:
            conn.execute(f"PRAGMA cache_size = {int(before)}")

    def insert(self, wo: WorkOrder, lon: float, lat: float) -> None:
        self.insert_many([(wo, lon, lat)])

    def insert_many(self, orders: Sequence[tuple[WorkOrder, float, float]]) -> None:
        """New orders (each with its anchor's lon, lat) and the deadlines they carry, in
        multi-row statements (``core.store.insert_rows``): ``insert`` is one of them, so a
        bulk import stores exactly the rows of one-by-one creation."""
        insert_rows(self.db, "work_orders", _INSERT_COLUMNS,
                    [_order_values(wo, lon, lat) for wo, lon, lat in orders])
        insert_rows(self.db, "work_order_deadlines", _DEADLINE_COLUMNS,
                    [(wo.id, d.rule, d.clause, to_db(d.starts_at), to_db(d.due_at),
                      int(d.provisional)) for wo, _, _ in orders for d in wo.deadlines])

    def get(self, wo_id: str, now: datetime | None = None) -> WorkOrder | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM work_orders WHERE id = ?", [wo_id]
        ).fetchone()
        if row is None:
            return None
        return _row(row, self.deadlines([wo_id], now).get(wo_id, []))

    def get_many(self, ids: Sequence[str], now: datetime | None = None) -> dict[str, WorkOrder]:
        """The orders of ``ids`` that exist, by id: two statements per 500 ids, not per order."""
        out: dict[str, WorkOrder] = {}
        id_list = list(ids)
        for start in range(0, len(id_list), 500):
            chunk = id_list[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT {_COLUMNS} FROM work_orders WHERE id IN ({marks})", chunk
            ).fetchall()
            deadlines = self.deadlines([str(r[0]) for r in rows], now)
            for r in rows:
                out[str(r[0])] = _row(r, deadlines.get(str(r[0]), []))
        return out

    def wire_rows(self, ids: Sequence[str]) -> dict[str, dict[str, object]]:
        """Orders as the sync pull sends them, straight from their columns (no ``WorkOrder``).

        The same mapping as ``msgspec.to_builtins(get(id, None))`` (a test holds them
        equal), built without the Struct, its enums and datetimes: times go from their
        stored text to the wire's, JSON columns are decoded once, untyped (a step stored
        before a field was added gets that field's default). Deadlines are read without a
        "now".
        """
        out: dict[str, dict[str, object]] = {}
        id_list = list(ids)
        for start in range(0, len(id_list), 500):
            chunk = id_list[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT {_COLUMNS} FROM work_orders WHERE id IN ({marks})", chunk
            ).fetchall()
            deadlines = self._wire_deadlines([str(r[0]) for r in rows])
            for r in rows:
                out[str(r[0])] = {
                    "id": r[0], "number": r[1], "type": r[2], "status": r[3],
                    "priority": r[4], "title": r[5], "description": r[6], "crew_id": r[7],
                    "customer_id": r[8], "location": _json_decode(str(r[9])),
                    "pipe_diameter_mm": r[10], "profile": r[11],
                    "reported_at": wire_from_db(str(r[12])), "created_at": wire_from_db(str(r[13])),
                    "updated_at": wire_from_db(str(r[14])),
                    "closed_at": None if r[15] is None else wire_from_db(str(r[15])),
                    "due_at": None if r[16] is None else wire_from_db(str(r[16])),
                    "status_reason": r[17], "version": r[18],
                    "fields": _json_decode(str(r[19])),
                    "steps": wire_steps(str(r[20])),
                    "deadlines": deadlines.get(str(r[0]), []),
                }
        return out

    def _wire_deadlines(self, ids: Sequence[str]) -> dict[str, list[dict[str, object]]]:
        out: dict[str, list[dict[str, object]]] = {}
        if not ids:
            return out
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            "SELECT work_order_id, rule, clause, starts_at, due_at, met_at, provisional, "
            f"met_server_at, met_source FROM work_order_deadlines WHERE work_order_id IN ({marks}) "
            "ORDER BY due_at", list(ids))
        for wo_id, rule, clause, starts, due, met, provisional, met_server, met_source in rows:
            out.setdefault(str(wo_id), []).append({
                "rule": rule, "title": self.rule_titles.get(rule, rule), "clause": clause,
                "starts_at": wire_from_db(str(starts)), "due_at": wire_from_db(str(due)),
                "met_at": None if met is None else wire_from_db(str(met)),
                # as ``deadlines(now=None)``: overdue only when met after it was due
                "overdue": met is not None and from_db(str(met)) > from_db(str(due)),
                "provisional": bool(provisional),
                "met_server_at": None if met_server is None else wire_from_db(str(met_server)),
                "met_source": met_source})
        return out

    def deadlines(self, ids: Sequence[str], now: datetime | None) -> dict[str, list[Deadline]]:
        out: dict[str, list[Deadline]] = {}
        if not ids:
            return out
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            "SELECT work_order_id, rule, clause, starts_at, due_at, met_at, provisional, "
            f"met_server_at, met_source FROM work_order_deadlines WHERE work_order_id IN ({marks}) "
            "ORDER BY due_at, rule",
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
        self._refresh_next_due(wo_id)

    def _refresh_next_due(self, wo_id: str) -> None:
        """Recompute the order's ``next_due_at`` (migration m014) after its deadlines
        changed: the earliest due time of a deadline not met on time. Called by every
        method here that writes ``work_order_deadlines``, inside the caller's transaction."""
        self.db.execute(
            "UPDATE work_orders SET next_due_at = (SELECT MIN(d.due_at) FROM "
            "work_order_deadlines d WHERE d.work_order_id = ? AND (d.met_at IS NULL OR "
            "d.met_at > d.due_at)) WHERE id = ?", [wo_id, wo_id])

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
            self._refresh_next_due(wo_id)

    def void_open_deadlines(self, wo_id: str) -> None:
        """A cancelled order's open deadlines no longer count for or against anyone."""
        self.db.execute(
            "DELETE FROM work_order_deadlines WHERE work_order_id = ? AND met_at IS NULL",
            [wo_id],
        )
        self._refresh_next_due(wo_id)

    def crew_has_customer(self, crew_id: str, customer_id: str, except_wo: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM work_orders WHERE crew_id = ? AND customer_id = ? AND id != ? "
            "AND status NOT IN ('verified','cancelled') LIMIT 1",
            [crew_id, customer_id, except_wo],
        ).fetchone()
        return row is not None

    def page_rows(self, f: Filters) -> tuple[builtins.list[tuple[object, ...]], str | None]:
        """One page of raw rows (``_COLUMNS`` order) and the cursor after it.

        Newest first, keyset-paged on ``(created_at, id)``; with ``overdue_at``, the
        longest overdue first, keyset-paged on ``(next_due_at, id)``. Both orders are
        index orders (migration m014), so no page sorts or scans the table: the filters
        ``crew_id`` / ``type`` / ``status`` are the leading columns of
        ``work_orders_crew_type_status`` (or of the crew or type indexes) and overdue is a
        range of ``work_orders_next_due`` / ``work_orders_crew_next_due``. Raises
        ``BadInputError`` for a cursor this list did not issue.
        """
        sql, params = self.page_sql(f)
        rows = self.db.execute(sql, params).fetchall()
        key = (lambda r: ("d", str(r[-1]), str(r[0]))) if f.overdue_at is not None else (
            lambda r: ("c", str(r[13]), str(r[0])))
        items, cursor = cut_page(rows, f.limit, key)
        return [tuple(r[:-1]) for r in items], cursor

    def page_sql(self, f: Filters) -> tuple[str, builtins.list[object]]:
        """The statement ``page_rows`` runs (tests read its plan with EXPLAIN)."""
        where: builtins.list[str] = []
        params: builtins.list[object] = []
        if f.crew_id is not None:
            where.append("w.crew_id = ?")
            params.append(f.crew_id)
        if f.type is not None:
            where.append("w.type = ?")
            params.append(str(f.type))
        if f.status is not None:
            where.append("w.status = ?")
            params.append(str(f.status))
        if f.crew_ids is not None:
            where.append(f"w.crew_id IN ({','.join('?' * len(f.crew_ids))})"
                         if f.crew_ids else "0 = 1")
            params.extend(f.crew_ids)
        if f.overdue_at is not None:
            where.append("w.next_due_at < ?")
            params.append(to_db(f.overdue_at))
            order = "w.next_due_at, w.id"
            if f.cursor is not None:
                _, due, wo_id = _cursor(f.cursor, "d")
                where.append("(w.next_due_at, w.id) > (?, ?)")
                params.extend([due, wo_id])
        else:
            order = "w.created_at DESC, w.id DESC"
            if f.cursor is not None:
                _, created, wo_id = _cursor(f.cursor, "c")
                where.append("(w.created_at, w.id) < (?, ?)")
                params.extend([created, wo_id])
        sql = f"SELECT {_W_COLUMNS}, w.next_due_at FROM work_orders w"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {order} LIMIT ?"
        params.append(f.limit + 1)
        return sql, params

    def overdue_deadline_rows(self, f: Filters, now: datetime,
                              after: tuple[str, str, str] | None
                              ) -> builtins.list[tuple[str, ...]]:
        """Up to ``f.limit + 1`` open deadlines past due at ``now`` of the orders ``f``
        scopes to (``crew_id``, ``crew_ids``), the longest overdue first, keyset-paged on
        ``(due_at, work_order_id, rule)`` after ``after``: a range of the partial index
        ``wod_open_due_order`` (migration m015), each joined to its order by primary key.

        A row is (due_at as stored, work order id, rule, clause, number, title, type,
        status, crew id or "")."""
        sql, params = self.overdue_deadline_sql(f, now, after)
        return [tuple(str(v) for v in r) for r in self.db.execute(sql, params).fetchall()]

    def overdue_deadline_sql(self, f: Filters, now: datetime,
                             after: tuple[str, str, str] | None
                             ) -> tuple[str, builtins.list[object]]:
        """The statement ``overdue_deadline_rows`` runs (tests read its plan)."""
        where = ["d.met_at IS NULL", "d.due_at < ?"]
        params: builtins.list[object] = [to_db(now)]
        if f.crew_id is not None:
            where.append("w.crew_id = ?")
            params.append(f.crew_id)
        if f.crew_ids is not None:
            where.append(f"w.crew_id IN ({','.join('?' * len(f.crew_ids))})"
                         if f.crew_ids else "0 = 1")
            params.extend(f.crew_ids)
        if after is not None:
            where.append("(d.due_at, d.work_order_id, d.rule) > (?, ?, ?)")
            params.extend(after)
        return ("SELECT d.due_at, d.work_order_id, d.rule, d.clause, w.number, w.title, "
                "w.type, w.status, COALESCE(w.crew_id, '') FROM work_order_deadlines d "
                "JOIN work_orders w ON w.id = d.work_order_id "
                f"WHERE {' AND '.join(where)} ORDER BY d.due_at, d.work_order_id, d.rule "
                "LIMIT ?", [*params, f.limit + 1])

    def list_version(self) -> int | None:
        """The work-order lists' version (migration m016): it grows at every committed write
        of ``work_orders`` or ``work_order_deadlines``, whichever process made it. None
        when the store has no counter (then no page may be kept)."""
        row = self.db.execute("SELECT version FROM list_versions WHERE name = ?",
                              [LIST_VERSION]).fetchone()
        return None if row is None else int(row[0])

    def next_due_from(self, at: str) -> str | None:
        """The earliest ``next_due_at`` at or after ``at`` (stored text) of any order: before
        it passes, no order joins an ``overdue`` list (one seek of ``work_orders_next_due``)."""
        row = self.db.execute("SELECT MIN(next_due_at) FROM work_orders WHERE next_due_at >= ?",
                              [at]).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def deadline_rows(self, ids: Sequence[str]) -> dict[str, builtins.list[tuple[object, ...]]]:
        """Raw deadline rows per order: (rule, clause, starts_at, due_at, met_at,
        provisional, met_server_at, met_source), earliest due first."""
        out: dict[str, builtins.list[tuple[object, ...]]] = {}
        if not ids:
            return out
        marks = ",".join("?" * len(ids))
        for r in self.db.execute(
                "SELECT work_order_id, rule, clause, starts_at, due_at, met_at, provisional, "
                "met_server_at, met_source FROM work_order_deadlines "
                f"WHERE work_order_id IN ({marks}) ORDER BY due_at, rule", list(ids)):
            out.setdefault(str(r[0]), []).append(tuple(r[1:]))
        return out

    def list(self, f: Filters, now: datetime) -> tuple[builtins.list[WorkOrder], str | None]:
        """``page_rows`` as ``WorkOrder`` values (the CLI, the console's views), their
        deadlines judged at ``now`` as ``get`` judges them."""
        rows, cursor = self.page_rows(f)
        deadlines = self.deadlines([str(r[0]) for r in rows], now)
        return [_row(r, deadlines.get(str(r[0]), [])) for r in rows], cursor

    def timeliness(self, since: datetime | None, until: datetime, crew_id: str | None,
                   unit: str | None = None) -> builtins.list[tuple[str, int, int, int]]:
        """Per rule: (rule, decided, met on time, open and overdue); ``unit``: only orders
        of that unit's crews (and of no known unit).

        A deadline is decided by ``until`` once it was met or its due time passed; only
        decided deadlines count, so an order still inside its limit neither helps nor
        hurts the rate. ``since`` filters on when the clock started.
        """
        sql, params = self.timeliness_sql(since, until, crew_id, unit)
        return [(r[0], int(r[1]), int(r[2] or 0), int(r[3] or 0))
                for r in self.db.execute(sql, params)]

    def timeliness_sql(self, since: datetime | None, until: datetime, crew_id: str | None,
                       unit: str | None = None) -> tuple[str, builtins.list[object]]:
        """The statement of ``timeliness``: one pass over the covering index
        ``wod_timeliness`` (rule first, so grouping needs no sort) and no table row; a
        crew's report keeps the deadlines of that crew's orders (``work_orders_crew``)."""
        params: builtins.list[object] = [to_db(until)]
        sql = (
            "SELECT d.rule, COUNT(*), "
            "SUM(CASE WHEN d.met_at IS NOT NULL AND d.met_at <= d.due_at THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN d.met_at IS NULL AND d.due_at < ?1 THEN 1 ELSE 0 END) "
            "FROM work_order_deadlines d "
            "WHERE ((d.met_at IS NOT NULL AND d.met_at <= ?1) OR d.due_at <= ?1)"
        )
        if since is not None:
            sql += " AND d.starts_at >= ?2"
            params.append(to_db(since))
        if crew_id is not None:
            sql += (f" AND d.work_order_id IN (SELECT w.id FROM work_orders w "
                    f"WHERE w.crew_id = ?{len(params) + 1})")
            params.append(crew_id)
        if unit is not None:
            n = len(params) + 1
            sql += (f" AND d.work_order_id IN (SELECT w.id FROM work_orders w "
                    f"LEFT JOIN crews cr ON cr.id = w.crew_id "
                    f"WHERE COALESCE(cr.unit, '') = ?{n} OR COALESCE(cr.unit, '') = '')")
            params.append(unit)
        sql += " GROUP BY d.rule ORDER BY d.rule"
        return sql, params

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
            "UPDATE work_order_deadlines SET due_at = ?, provisional = ?, remind_at = NULL "
            "WHERE work_order_id = ? AND rule = ?",
            [to_db(timing.due_at), int(timing.provisional), clock.entity_id, clock.rule])
        self.db.execute(
            "UPDATE work_orders SET due_at = (SELECT MAX(due_at) FROM work_order_deadlines "
            "WHERE work_order_id = ?) WHERE id = ?", [clock.entity_id, clock.entity_id])
        self._refresh_next_due(clock.entity_id)
