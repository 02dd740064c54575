"""SQL of the connection service: the ``connections`` table, lookups and statistics.

The stage deadlines are the work order's (``work_order_deadlines``, written through
``WorkOrderStore``); the statistics join them to the connection for the project type
and the handling unit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Final

import msgspec
from sqlite_utils import Database

from core.rows import number, opt_number, opt_text, opt_time
from server.connections.model import Channel, Connection, ProjectType, Stage, TieIn
from server.customers.model import Customer
from server.timefmt import from_db, opt_to_db, to_db
from server.workorders.model import Deadline

Row = dict[str, object]
_tie_decode = msgspec.json.Decoder(TieIn).decode
_encode = msgspec.json.Encoder().encode
#: columns a use case may change with ``update``
UPDATABLE: Final = frozenset({
    "stage", "accepted_at", "unit", "crew_id", "missing_documents", "documents",
    "documents_due_at", "documents_completed_at", "committed_limit", "appointment_at",
    "tie_in", "stage_times", "meter_no", "satisfied", "cancel_reason"})


def mask_phone(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 7 else "****"


class ConnectionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def next_number(self, day: str) -> str:
        """A number like JS20261123-0003 the customer quotes (call inside the write)."""
        name = f"js:{day}"
        self.db.execute("INSERT INTO counters (name, value) VALUES (?, 1) "
                        "ON CONFLICT(name) DO UPDATE SET value = counters.value + 1", [name])
        value = self.db.execute("SELECT value FROM counters WHERE name = ?", [name]).fetchone()[0]
        return f"JS{day}-{value:04d}"

    def insert(self, row: Row) -> None:
        self.db["connections"].insert(row)  # type: ignore[union-attr]

    def update(self, connection_id: str, changes: Row, at: datetime) -> None:
        bad = set(changes) - UPDATABLE
        if bad:
            raise ValueError(f"not updatable: {sorted(bad)}")
        cols = sorted(changes)
        sets = ", ".join(f"{c} = ?" for c in cols)
        # column names come only from UPDATABLE (checked above); values are bound
        self.db.execute(f"UPDATE connections SET {sets}, updated_at = ? WHERE id = ?",
                        [*[changes[c] for c in cols], to_db(at), connection_id])

    def row(self, connection_id: str) -> Row | None:
        cur = self.db.execute("SELECT * FROM connections WHERE id = ? OR number = ?",
                              [connection_id, connection_id])
        names = [d[0] for d in cur.description]
        found = cur.fetchone()
        return None if found is None else dict(zip(names, found, strict=True))

    def row_of_work_order(self, wo_id: str) -> Row | None:
        cur = self.db.execute("SELECT * FROM connections WHERE work_order_id = ?", [wo_id])
        names = [d[0] for d in cur.description]
        found = cur.fetchone()
        return None if found is None else dict(zip(names, found, strict=True))

    def rows(self, stage: str | None, limit: int, after: tuple[str, ...] | None = None,
             unit: str | None = None) -> list[Row]:
        """Newest application first, keyset-paged on (applied_at, id) after ``after``;
        ``unit``: only that unit's connections (and those of no unit yet)."""
        sql = "SELECT * FROM connections WHERE 1 = 1"
        params: list[object] = []
        if stage is not None:
            sql += " AND stage = ?"
            params.append(stage)
        if unit is not None:
            sql += " AND (unit = ? OR unit = '')"
            params.append(unit)
        if after is not None:
            sql += " AND (applied_at, id) < (?, ?)"
            params.extend(after)
        cur = self.db.execute(sql + " ORDER BY applied_at DESC, id DESC LIMIT ?",
                              [*params, limit])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def overdue_rows(self, now: datetime, limit: int,
                     after: tuple[str, ...] | None = None, unit: str | None = None
                     ) -> list[Row]:
        """Connections (not cancelled) with a clock past due and open, or met late; the
        earliest such due time first (``first_due`` in each row), keyset-paged on
        (first_due, id) after ``after``; ``unit`` as in ``rows``."""
        having = "" if after is None else "HAVING (MIN(d.due_at), c.id) > (?, ?) "
        by_unit = "" if unit is None else "AND (c.unit = ? OR c.unit = '') "
        cur = self.db.execute(
            "SELECT c.*, MIN(d.due_at) AS first_due FROM connections c "
            "JOIN work_order_deadlines d ON d.work_order_id = c.work_order_id "
            "WHERE c.stage != 'cancelled' AND d.rule LIKE 'connection\\_%' ESCAPE '\\' "
            f"AND ((d.met_at IS NULL AND d.due_at < ?) OR d.met_at > d.due_at) {by_unit}"
            f"GROUP BY c.id {having}ORDER BY first_due, c.id LIMIT ?",
            [to_db(now), *(() if unit is None else (unit,)), *(after or ()), limit])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    # -- the customer's account --------------------------------------------------------
    def add_customer(self, customer: Customer, at: datetime) -> None:
        """The new account (no meter yet); the meter is put on it when it is fitted."""
        self.db.execute(
            "INSERT INTO customers (id, account_no, name, phone, address, lon, lat, category, "
            "channels, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [customer.id, customer.account_no, customer.name, customer.phone, customer.address,
             customer.lon, customer.lat, customer.category, json.dumps(customer.channels),
             to_db(at)])

    # -- statistics --------------------------------------------------------------------
    def stage_timeliness(self, since: datetime | None, until: datetime,
                         unit: str | None = None) -> list[tuple[str, str, str, int, int, int]]:
        """Per (rule, project type, unit): decided, met on time, open and overdue.

        Decided as in the work-order report: met by ``until`` or its due time passed.
        ``unit``: only that unit's connections (and those of no unit).
        """
        params: list[object] = [to_db(until)]
        sql = (
            "SELECT d.rule, c.project_type, c.unit, COUNT(*), "
            "SUM(CASE WHEN d.met_at IS NOT NULL AND d.met_at <= d.due_at THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN d.met_at IS NULL AND d.due_at < ?1 THEN 1 ELSE 0 END) "
            "FROM work_order_deadlines d JOIN connections c ON c.work_order_id = d.work_order_id "
            "WHERE d.rule LIKE 'connection\\_%' ESCAPE '\\' "
            "AND ((d.met_at IS NOT NULL AND d.met_at <= ?1) OR d.due_at <= ?1)")
        if since is not None:
            sql += " AND d.starts_at >= ?2"
            params.append(to_db(since))
        if unit is not None:
            sql += f" AND (c.unit = ?{len(params) + 1} OR c.unit = '')"
            params.append(unit)
        sql += " GROUP BY d.rule, c.project_type, c.unit ORDER BY d.rule, c.project_type, c.unit"
        return [(str(r[0]), str(r[1]), str(r[2]), int(r[3]), int(r[4] or 0), int(r[5] or 0))
                for r in self.db.execute(sql, params)]

    def water_on_rows(self, since: datetime | None, until: datetime, unit: str | None = None
                      ) -> list[tuple[str, datetime, datetime, bool]]:
        """(project type, accepted at, water on at, total met in time) of connections that
        got water by ``until`` (and were accepted from ``since``); ``unit`` as above."""
        params: list[object] = [to_db(until)]
        sql = ("SELECT c.project_type, c.accepted_at, d.met_at, d.met_at <= d.due_at "
               "FROM connections c JOIN work_order_deadlines d "
               "ON d.work_order_id = c.work_order_id AND d.rule = 'connection_total' "
               "WHERE d.met_at IS NOT NULL AND d.met_at <= ?1 AND c.accepted_at IS NOT NULL")
        if since is not None:
            sql += " AND c.accepted_at >= ?2"
            params.append(to_db(since))
        if unit is not None:
            sql += f" AND (c.unit = ?{len(params) + 1} OR c.unit = '')"
            params.append(unit)
        return [(str(r[0]), from_db(str(r[1])), from_db(str(r[2])), bool(r[3]))
                for r in self.db.execute(sql + " ORDER BY c.accepted_at", params)]


def to_connection(r: Row, deadlines: Sequence[Deadline]) -> Connection:
    tie = r["tie_in"]
    times = {k: from_db(v) for k, v in json.loads(str(r["stage_times"])).items()}
    satisfied = r["satisfied"]
    return Connection(
        id=str(r["id"]), number=str(r["number"]),
        project_type=ProjectType(str(r["project_type"])), channel=Channel(str(r["channel"])),
        stage=Stage(str(r["stage"])), applicant=str(r["applicant"]),
        phone_masked=mask_phone(str(r["phone"])), address=str(r["address"]),
        location=(number(r, "lon"), number(r, "lat")),
        applied_at=from_db(str(r["applied_at"])),
        accepted_at=opt_time(r, "accepted_at"),
        unit=str(r["unit"]), crew_id=opt_text(r, "crew_id"),
        work_order_id=opt_text(r, "work_order_id"), customer_id=opt_text(r, "customer_id"),
        documents=json.loads(str(r["documents"])),
        missing_documents=json.loads(str(r["missing_documents"])),
        documents_due_at=opt_time(r, "documents_due_at"),
        documents_completed_at=opt_time(r, "documents_completed_at"),
        committed_limit=opt_number(r, "committed_limit"),
        appointment_at=opt_time(r, "appointment_at"),
        tie_in=None if tie is None else _tie_decode(str(tie)),
        stage_times=times, meter_no=opt_text(r, "meter_no"),
        satisfied=None if satisfied is None else bool(satisfied),
        cancel_reason=opt_text(r, "cancel_reason"),
        deadlines=list(deadlines))


def encode_times(times: dict[str, datetime]) -> str:
    return json.dumps({k: to_db(v) for k, v in times.items()}, sort_keys=True)


def encode_tie_in(tie: TieIn | None) -> str | None:
    return None if tie is None else _encode(tie).decode()


__all__ = ["ConnectionStore", "encode_tie_in", "encode_times", "mask_phone", "opt_to_db",
           "to_connection", "to_db"]
