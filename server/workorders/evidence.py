"""Evidence a crew records, and what dispatch must review: append-only rows and their SQL.

Notes, readings, photos, signatures and valve operations are child rows of a work order
with their own device-generated ids (ODK entities, QField deltas): they never conflict,
and a resent record is stored once. When the mutation that carried a record was rejected
(order cancelled or reassigned while the crew was offline), the record is still stored,
with ``review_id`` pointing at the flag dispatch resolves, so nothing recorded is lost.

This module is the evidence table's store (the one place with its SQL) and its Structs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import msgspec
from sqlite_utils import Database

from core.idlists import ids_condition, is_postgresql
from core.rows import integer, opt_integer, opt_text, opt_time, qualified
from server.timefmt import from_db, opt_from_db, opt_to_db, to_db

_encode = msgspec.json.Encoder().encode
_payload_decode = msgspec.json.Decoder(dict[str, object]).decode


class Evidence(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    work_order_id: str
    kind: str
    step_key: str | None = None
    payload: dict[str, object] = msgspec.field(default_factory=dict)
    attachment_sha256: str | None = None
    #: the referenced attachment has not been fully uploaded and verified yet
    attachment_pending: bool = False
    device_id: str | None = None
    user_id: str | None = None
    crew_id: str | None = None
    mutation_id: int | None = None
    device_time: datetime | None = None
    server_time: datetime
    review_id: int | None = None


class ReviewFlag(msgspec.Struct, frozen=True, kw_only=True):
    """A rejected mutation waiting for dispatch, with everything it carried."""

    #: the flag's id (`review_id`)
    id: int
    #: the work order the rejected mutation was about, if any
    work_order_id: str | None
    #: the device that pushed it
    device_id: str | None
    #: the user of that device
    user_id: str | None
    #: that user's crew
    crew_id: str | None
    #: the mutation's id on that device
    mutation_id: int | None
    #: the intent's kind
    kind: str
    #: why it was rejected, as a catalogue code
    reason_code: str
    #: for people: why it was rejected
    detail: str
    #: the intent as it was pushed
    payload: dict[str, object]
    #: the device's clock when the change was made, as sent
    device_time: datetime | None
    #: when the flag was raised (UTC)
    created_at: datetime
    #: when dispatch resolved it (UTC), if it did
    resolved_at: datetime | None = None
    #: the user who resolved it, if anyone did
    resolved_by: str | None = None
    #: what dispatch decided, in words
    resolution: str | None = None


_EV_COLS = ("id, work_order_id, kind, step_key, payload, attachment_sha256, device_id, user_id, "
            "crew_id, mutation_id, device_time, server_time, review_id")
_EV_COLS_OF_E = qualified("e", _EV_COLS)
#: the unit of the crew holding a review flag's work order (a scalar subquery)
_FLAG_UNIT = ("SELECT cr.unit FROM work_orders w JOIN crews cr ON cr.id = w.crew_id "
              "WHERE w.id = review_flags.work_order_id")
_FLAG_COLS = ("id, work_order_id, device_id, user_id, crew_id, mutation_id, kind, reason_code, "
              "detail, payload, device_time, created_at, resolved_at, resolved_by, resolution")


def _flag(r: Sequence[object]) -> ReviewFlag:
    return ReviewFlag(
        id=integer(r, 0), work_order_id=opt_text(r, 1), device_id=opt_text(r, 2),
        user_id=opt_text(r, 3), crew_id=opt_text(r, 4), mutation_id=opt_integer(r, 5),
        kind=str(r[6]), reason_code=str(r[7]),
        detail=str(r[8]), payload=_payload_decode(str(r[9])),
        device_time=opt_time(r, 10), created_at=from_db(str(r[11])),
        resolved_at=opt_time(r, 12), resolved_by=opt_text(r, 13), resolution=opt_text(r, 14),
    )


class EvidenceStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._pg = is_postgresql(db)

    def add(self, ev: Evidence) -> bool:
        """Insert once by id; False when this id was already stored (a resend)."""
        cur = self.db.execute(
            f"INSERT OR IGNORE INTO evidence ({_EV_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [ev.id, ev.work_order_id, ev.kind, ev.step_key, _encode(ev.payload).decode(),
             ev.attachment_sha256, ev.device_id, ev.user_id, ev.crew_id, ev.mutation_id,
             opt_to_db(ev.device_time), to_db(ev.server_time), ev.review_id],
        )
        return cur.rowcount == 1

    def page_for_order(self, wo_id: str, after: tuple[str, str] | None,
                       limit: int) -> list[Evidence]:
        """Up to ``limit`` of the order's evidence not held for review, oldest first,
        keyset-paged on (stored server_time, id) after ``after``: a range of
        ``evidence_order`` (migration m015). A reading route's order carries one reading
        per meter, so one order's evidence is a list to page."""
        where = "work_order_id = ? AND review_id IS NULL"
        params: list[object] = [wo_id]
        if after is not None:
            where += " AND (server_time, id) > (?, ?)"
            params.extend(after)
        rows = self.db.execute(f"SELECT {_EV_COLS} FROM evidence WHERE {where} "
                               "ORDER BY server_time, id LIMIT ?", [*params, limit])
        return [self._evidence(r, None) for r in rows]

    @staticmethod
    def _evidence(r: Any, complete: set[str] | None) -> Evidence:
        """One stored row (``_EV_COLS`` order); ``complete`` = attachment hashes verified."""
        sha = r[5]
        return Evidence(
            id=str(r[0]), work_order_id=str(r[1]), kind=str(r[2]), step_key=r[3],
            payload=_payload_decode(str(r[4])), attachment_sha256=sha,
            attachment_pending=sha is not None and (complete is None or sha not in complete),
            device_id=r[6], user_id=r[7], crew_id=r[8], mutation_id=r[9],
            device_time=opt_from_db(r[10]), server_time=from_db(str(r[11])), review_id=r[12])

    def for_orders(self, wo_ids: Sequence[str], *, include_flagged: bool = False,
                   complete: set[str] | None = None) -> dict[str, list[Evidence]]:
        """Evidence per order, oldest first; ``complete`` = attachment hashes verified."""
        out: dict[str, list[Evidence]] = {}
        for start in range(0, len(wo_ids), 500):
            cond, params = ids_condition("work_order_id", wo_ids[start:start + 500], self._pg)
            sql = f"SELECT {_EV_COLS} FROM evidence WHERE {cond}"
            if not include_flagged:
                sql += " AND review_id IS NULL"
            for r in self.db.execute(sql + " ORDER BY server_time, id", params):
                out.setdefault(str(r[1]), []).append(self._evidence(r, complete))
        return out

    def for_crew_orders(self, crew_id: str, *,
                        complete_of: Callable[[Sequence[str]], set[str]] | None = None
                        ) -> dict[str, list[Evidence]]:
        """``for_orders`` over every order the crew holds now, in one statement (a
        snapshot's read; flagged evidence left out, as the pull leaves it).

        ``complete_of`` answers which of the rows' attachment hashes are verified; it is
        asked with the hashes of the rows read, so the rows are read once, not once for
        their hashes and again for their content.
        """
        rows = self.db.execute(
            f"SELECT {_EV_COLS_OF_E} FROM evidence e JOIN work_orders w "
            "ON w.id = e.work_order_id WHERE w.crew_id = ? AND e.review_id IS NULL "
            "ORDER BY e.server_time, e.id", [crew_id]).fetchall()
        hashes = sorted({str(r[5]) for r in rows if r[5] is not None})
        complete = complete_of(hashes) if complete_of is not None and hashes else None
        out: dict[str, list[Evidence]] = {}
        for r in rows:
            out.setdefault(str(r[1]), []).append(self._evidence(r, complete))
        return out

    def hashes_of_orders(self, wo_ids: Sequence[str]) -> list[str]:
        out: list[str] = []
        for start in range(0, len(wo_ids), 500):
            cond, params = ids_condition("work_order_id", wo_ids[start:start + 500], self._pg)
            out.extend(str(r[0]) for r in self.db.execute(
                "SELECT DISTINCT attachment_sha256 FROM evidence WHERE attachment_sha256 "
                f"IS NOT NULL AND {cond}", params))
        return out

    def orders_of_crew_evidence(self, sha256: str, crew_id: str) -> list[str]:
        """The orders whose evidence recorded by ``crew_id`` uses this blob (kept late edits
        on orders since reassigned included)."""
        return [str(r[0]) for r in self.db.execute(
            "SELECT DISTINCT work_order_id FROM evidence WHERE attachment_sha256 = ? "
            "AND crew_id = ? ORDER BY work_order_id", [sha256, crew_id])]

    def orders_referencing(self, sha256: str) -> list[tuple[str, str | None]]:
        """(work order id, its current crew) of every order whose evidence uses this blob."""
        rows = self.db.execute(
            "SELECT DISTINCT e.work_order_id, w.crew_id FROM evidence e "
            "JOIN work_orders w ON w.id = e.work_order_id WHERE e.attachment_sha256 = ?",
            [sha256])
        return [(str(r[0]), r[1]) for r in rows]

    def pending_hashes_by_device(self) -> dict[str, list[str]]:
        """Attachment hashes referenced by each device's evidence, for the lag report."""
        out: dict[str, list[str]] = {}
        for device_id, sha in self.db.execute(
            "SELECT DISTINCT device_id, attachment_sha256 FROM evidence "
            "WHERE attachment_sha256 IS NOT NULL AND device_id IS NOT NULL"):
            out.setdefault(str(device_id), []).append(str(sha))
        return out

    # -- field versions ----------------------------------------------------------------
    def field_versions(self, wo_id: str) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT field, version FROM work_order_field_versions WHERE work_order_id = ?",
            [wo_id])
        return {str(r[0]): int(r[1]) for r in rows}

    def set_field_versions(self, wo_id: str, fields: Sequence[str], version: int) -> None:
        self.db.conn.executemany(
            "INSERT INTO work_order_field_versions (work_order_id, field, version) "
            "VALUES (?, ?, ?) ON CONFLICT(work_order_id, field) DO UPDATE SET "
            "version = excluded.version",
            [(wo_id, f, version) for f in fields])

    # -- review flags ------------------------------------------------------------------
    def add_flag(self, *, work_order_id: str | None, device_id: str | None,
                 user_id: str | None, crew_id: str | None, mutation_id: int | None, kind: str,
                 reason_code: str, detail: str, payload: dict[str, object],
                 device_time: datetime | None, at: datetime) -> int:
        cur = self.db.execute(
            "INSERT INTO review_flags (work_order_id, device_id, user_id, crew_id, mutation_id, "
            "kind, reason_code, detail, payload, device_time, created_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [work_order_id, device_id, user_id, crew_id, mutation_id, kind, reason_code, detail,
             _encode(payload).decode(), opt_to_db(device_time), to_db(at)])
        return int(cur.lastrowid or 0)

    def flag(self, flag_id: int) -> ReviewFlag | None:
        row = self.db.execute(f"SELECT {_FLAG_COLS} FROM review_flags WHERE id = ?",
                              [flag_id]).fetchone()
        return None if row is None else _flag(row)

    def flags(self, *, open_only: bool, limit: int = 500, after_id: int = 0,
              unit: str | None = None) -> list[ReviewFlag]:
        """Oldest first, keyset-paged on the id after ``after_id``; ``unit``: only flags on
        orders of that unit's crews, or of no known unit (``server.authz.unit_visible``)."""
        sql = f"SELECT {_FLAG_COLS} FROM review_flags WHERE id > ?"
        params: list[object] = [after_id]
        if open_only:
            sql += " AND resolved_at IS NULL"
        if unit is not None:
            sql += f" AND COALESCE(({_FLAG_UNIT}), '') IN ('', ?)"
            params.append(unit)
        return [_flag(r) for r in self.db.execute(sql + " ORDER BY id LIMIT ?",
                                                  [*params, limit])]

    def unit_of_flag(self, flag_id: int) -> str:
        """The unit of the crew holding the flag's order ('' when none is known)."""
        row = self.db.execute(f"SELECT COALESCE(({_FLAG_UNIT}), '') FROM review_flags "
                              "WHERE id = ?", [flag_id]).fetchone()
        return "" if row is None else str(row[0])

    def flags_of_device_since(self, device_id: str, since: datetime) -> int:
        row = self.db.execute(
            "SELECT COUNT(*) FROM review_flags WHERE device_id = ? AND created_at >= ?",
            [device_id, to_db(since)]).fetchone()
        return int(row[0])

    def open_flags_by_device(self) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT device_id, COUNT(*) FROM review_flags WHERE resolved_at IS NULL "
            "AND device_id IS NOT NULL GROUP BY device_id")
        return {str(r[0]): int(r[1]) for r in rows}

    def resolve_flag(self, flag_id: int, by: str, resolution: str, at: datetime) -> bool:
        cur = self.db.execute(
            "UPDATE review_flags SET resolved_at = ?, resolved_by = ?, resolution = ? "
            "WHERE id = ? AND resolved_at IS NULL", [to_db(at), by, resolution, flag_id])
        return cur.rowcount == 1
