"""SQL for field work: the only module that touches the ``fw_*`` tables.

Sealed documents are append-only: there is no update or delete method, so a changed row
can only come from outside the service (which is what verification detects).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec
from sqlite_utils import Database

from core.rows import integer, opt_text, opt_time
from geo.model import IsolationPlan
from server.fieldwork.burst import ValveAction, ValveOperation
from server.fieldwork.linemarking import MarkedLine
from server.fieldwork.photos import PhotoCheck
from server.fieldwork.readings import BelowReason, Reading, ReadingFlag
from server.fieldwork.sealing import GENESIS_HASH, Manifest, SealedFields
from server.timefmt import from_db, opt_from_db, opt_to_db, to_db

_encode = msgspec.json.Encoder().encode
_fields_decode = msgspec.json.Decoder(SealedFields).decode
_manifest_decode = msgspec.json.Decoder(Manifest).decode
_plan_decode = msgspec.json.Decoder(IsolationPlan).decode
_strs_decode = msgspec.json.Decoder(list[str]).decode
_line_decode = msgspec.json.Decoder(MarkedLine).decode


class SealedRow(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    id: str
    kind: str
    work_order_id: str
    fields: SealedFields
    #: the manifest as stored (None when the stored text no longer decodes)
    manifest: Manifest | None
    manifest_text: str
    content_hash: str
    prev_hash: str
    signature: str
    key_id: str
    sealed_at: datetime
    device_time: datetime | None
    user_id: str | None
    device_id: str | None
    discrepancies: list[str]


_SEALED_COLS = ("seq, id, kind, work_order_id, fields, manifest, content_hash, prev_hash, "
                "signature, key_id, sealed_at, device_time, user_id, device_id, discrepancies")


def _sealed(r: Sequence[object]) -> SealedRow:
    text = str(r[5])
    try:
        manifest: Manifest | None = _manifest_decode(text)
    except msgspec.DecodeError:
        manifest = None
    return SealedRow(
        seq=integer(r, 0), id=str(r[1]), kind=str(r[2]),
        work_order_id=str(r[3]), fields=_fields_decode(str(r[4])), manifest=manifest,
        manifest_text=text, content_hash=str(r[6]), prev_hash=str(r[7]), signature=str(r[8]),
        key_id=str(r[9]), sealed_at=from_db(str(r[10])),
        device_time=opt_time(r, 11),
        user_id=opt_text(r, 12), device_id=opt_text(r, 13),
        discrepancies=_strs_decode(str(r[14])))


class FieldworkStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- sealed documents ------------------------------------------------------------
    def last_hash(self) -> str:
        row = self.db.execute(
            "SELECT content_hash FROM fw_sealed_documents ORDER BY seq DESC LIMIT 1").fetchone()
        return GENESIS_HASH if row is None else str(row[0])

    def insert_sealed(self, *, doc_id: str, kind: str, work_order_id: str,
                      fields: SealedFields, manifest: Manifest, content_hash: str,
                      signature: str, device_time: datetime | None, user_id: str | None,
                      device_id: str | None, discrepancies: list[str]) -> None:
        self.db.execute(
            f"INSERT INTO fw_sealed_documents ({_SEALED_COLS.partition(', ')[2]}) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [doc_id, kind, work_order_id, _encode(fields).decode(), _encode(manifest).decode(),
             content_hash, manifest.prev_hash, signature, manifest.key_id,
             to_db(manifest.sealed_at), opt_to_db(device_time), user_id, device_id,
             _encode(discrepancies).decode()])

    def sealed(self, doc_id: str) -> SealedRow | None:
        row = self.db.execute(
            f"SELECT {_SEALED_COLS} FROM fw_sealed_documents WHERE id = ?", [doc_id]).fetchone()
        return None if row is None else _sealed(row)

    def sealed_page(self, work_order_id: str, after_seq: int | None,
                    limit: int) -> list[SealedRow]:
        """Up to ``limit`` of the order's sealed documents after ``after_seq``, in sealing
        order (``fw_sealed_wo``; on SQLite ``seq`` is the rowid the index carries)."""
        rows = self.db.execute(
            f"SELECT {_SEALED_COLS} FROM fw_sealed_documents WHERE work_order_id = ? "
            "AND seq > ? ORDER BY seq LIMIT ?", [work_order_id, after_seq or 0, limit])
        return [_sealed(r) for r in rows]

    def neighbours(self, seq: int) -> tuple[SealedRow | None, SealedRow | None]:
        """The documents sealed just before and just after ``seq``."""
        before = self.db.execute(
            f"SELECT {_SEALED_COLS} FROM fw_sealed_documents WHERE seq < ? "
            "ORDER BY seq DESC LIMIT 1", [seq]).fetchone()
        after = self.db.execute(
            f"SELECT {_SEALED_COLS} FROM fw_sealed_documents WHERE seq > ? "
            "ORDER BY seq LIMIT 1", [seq]).fetchone()
        return (None if before is None else _sealed(before),
                None if after is None else _sealed(after))

    def chain(self, after_seq: int, limit: int) -> list[SealedRow]:
        rows = self.db.execute(
            f"SELECT {_SEALED_COLS} FROM fw_sealed_documents WHERE seq > ? ORDER BY seq "
            "LIMIT ?", [after_seq, limit])
        return [_sealed(r) for r in rows]

    # -- photos ------------------------------------------------------------------------
    def put_photo_check(self, work_order_id: str, step_key: str, check: PhotoCheck,
                        device_time: datetime | None, device_pos: tuple[float, float] | None,
                        received_at: datetime) -> None:
        m = check.meta
        self.db.execute(
            "INSERT INTO fw_photo_checks (work_order_id, sha256, step_key, taken_at, lon, lat, "
            "flags, site_distance_m, device_distance_m, checked_at, device_time, device_lon, "
            "device_lat, received_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(work_order_id, sha256, step_key) DO UPDATE SET "
            "taken_at=excluded.taken_at, lon=excluded.lon, lat=excluded.lat, "
            "flags=excluded.flags, site_distance_m=excluded.site_distance_m, "
            "device_distance_m=excluded.device_distance_m, checked_at=excluded.checked_at",
            [work_order_id, check.sha256, step_key, opt_to_db(m.taken_at), m.lon, m.lat,
             _encode(check.flags).decode(), check.site_distance_m, check.device_distance_m,
             to_db(received_at), opt_to_db(device_time),
             device_pos[0] if device_pos else None, device_pos[1] if device_pos else None,
             to_db(received_at)])

    def put_pending_photo(self, work_order_id: str, step_key: str, sha256: str,
                          device_time: datetime | None, device_pos: tuple[float, float] | None,
                          received_at: datetime) -> None:
        """Remember a referenced photo whose bytes have not arrived: checked on arrival."""
        self.db.execute(
            "INSERT OR IGNORE INTO fw_photo_checks (work_order_id, sha256, step_key, "
            "device_time, device_lon, device_lat, received_at) VALUES (?,?,?,?,?,?,?)",
            [work_order_id, sha256, step_key, opt_to_db(device_time),
             device_pos[0] if device_pos else None, device_pos[1] if device_pos else None,
             to_db(received_at)])

    def unchecked_photos(self, work_order_id: str
                         ) -> list[tuple[str, str, datetime | None, tuple[float, float] | None,
                                         datetime]]:
        rows = self.db.execute(
            "SELECT sha256, step_key, device_time, device_lon, device_lat, received_at "
            "FROM fw_photo_checks WHERE work_order_id = ? AND checked_at IS NULL",
            [work_order_id])
        return [(r[0], r[1], opt_from_db(r[2]),
                 None if r[3] is None else (float(r[3]), float(r[4])), from_db(r[5]))
                for r in rows]

    def photo_flags(self, work_order_id: str) -> list[tuple[str, str, list[str], bool]]:
        """(sha256, step, flags, checked) per photo of the order."""
        rows = self.db.execute(
            "SELECT sha256, step_key, flags, checked_at IS NOT NULL FROM fw_photo_checks "
            "WHERE work_order_id = ? ORDER BY received_at, sha256", [work_order_id])
        return [(r[0], r[1], _strs_decode(r[2]), bool(r[3])) for r in rows]

    # -- reading routes ----------------------------------------------------------------
    def put_stops(self, work_order_id: str, stops: Sequence[tuple[int, str, str]]) -> None:
        self.db.execute("DELETE FROM fw_route_stops WHERE work_order_id = ?", [work_order_id])
        self.db.conn.executemany(
            "INSERT INTO fw_route_stops (work_order_id, position, customer_id, meter_no) "
            "VALUES (?,?,?,?)", [(work_order_id, *s) for s in stops])

    def stops(self, work_order_id: str) -> list[tuple[int, str, str]]:
        rows = self.db.execute(
            "SELECT position, customer_id, meter_no FROM fw_route_stops "
            "WHERE work_order_id = ? ORDER BY position", [work_order_id])
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    def reading_history(self, customer_id: str, before_wo: str | None = None,
                        limit: int = 13) -> list[tuple[datetime, float, str]]:
        """Last readings of an account (oldest first), excluding one route's own."""
        rows = self.db.execute(
            "SELECT COALESCE(read_at, server_time) AS t, value, meter_no FROM fw_readings "
            "WHERE customer_id = ? AND work_order_id != ? ORDER BY t DESC LIMIT ?",
            [customer_id, before_wo or "", limit]).fetchall()
        return [(from_db(r[0]), float(r[1]), str(r[2])) for r in reversed(rows)]

    def insert_reading(self, r: Reading, user_id: str | None, device_id: str | None) -> bool:
        cur = self.db.execute(
            "INSERT OR IGNORE INTO fw_readings (id, work_order_id, customer_id, meter_no, value, "
            "estimated, reason, photo_sha256, flags, usage, note, server_time, device_time, "
            "user_id, device_id, read_at, time_source, below_reason) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [r.id, r.work_order_id, r.customer_id, r.meter_no, r.value, int(r.estimated),
             r.reason, r.photo_sha256, _encode(r.flags).decode(), r.usage, r.note,
             to_db(r.server_time), opt_to_db(r.device_time), user_id, device_id,
             opt_to_db(r.read_at), r.time_source,
             None if r.below_reason is None else str(r.below_reason)])
        return cur.rowcount == 1

    def readings(self, work_order_id: str) -> list[Reading]:
        rows = self.db.execute(
            "SELECT id, work_order_id, customer_id, meter_no, value, estimated, reason, "
            "photo_sha256, flags, usage, note, server_time, device_time, read_at, "
            "time_source, below_reason FROM fw_readings "
            "WHERE work_order_id = ? ORDER BY server_time, id", [work_order_id])
        return [Reading(id=r[0], work_order_id=r[1], customer_id=r[2], meter_no=r[3],
                        value=r[4], estimated=bool(r[5]), reason=r[6], photo_sha256=r[7],
                        flags=[ReadingFlag(f) for f in _strs_decode(r[8])], usage=r[9],
                        note=r[10], server_time=from_db(r[11]),
                        device_time=opt_from_db(r[12]), read_at=opt_from_db(r[13]),
                        time_source=str(r[14]),
                        below_reason=None if r[15] is None else BelowReason(r[15]))
                for r in rows]

    def reading(self, reading_id: str) -> Reading | None:
        row = self.db.execute("SELECT work_order_id FROM fw_readings WHERE id = ?",
                              [reading_id]).fetchone()
        if row is None:
            return None
        return next((r for r in self.readings(str(row[0])) if r.id == reading_id), None)

    # -- bursts ------------------------------------------------------------------------
    def put_plan(self, work_order_id: str, plan: IsolationPlan, at: datetime) -> None:
        self.db.execute(
            "INSERT INTO fw_isolation_plans (work_order_id, plan, attached_at) VALUES (?,?,?) "
            "ON CONFLICT(work_order_id) DO UPDATE SET plan=excluded.plan, "
            "attached_at=excluded.attached_at, revision=1, affected_extra='[]'",
            [work_order_id, _encode(plan).decode(), to_db(at)])

    def plan(self, work_order_id: str) -> tuple[IsolationPlan, int, list[str]] | None:
        row = self.db.execute(
            "SELECT plan, revision, affected_extra FROM fw_isolation_plans "
            "WHERE work_order_id = ?", [work_order_id]).fetchone()
        if row is None:
            return None
        return _plan_decode(row[0]), int(row[1]), _strs_decode(row[2])

    def set_plan_revision(self, work_order_id: str, revision: int, extra: list[str]) -> None:
        self.db.execute(
            "UPDATE fw_isolation_plans SET revision = ?, affected_extra = ? "
            "WHERE work_order_id = ?", [revision, _encode(extra).decode(), work_order_id])

    def insert_valve_op(self, op: ValveOperation, user_id: str | None,
                        device_id: str | None) -> bool:
        cur = self.db.execute(
            "INSERT OR IGNORE INTO fw_valve_operations (id, work_order_id, valve_id, action, "
            "turns, note, server_time, device_time, user_id, device_id) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)",
            [op.id, op.work_order_id, op.valve_id, str(op.action), op.turns, op.note,
             to_db(op.server_time), opt_to_db(op.device_time), user_id, device_id])
        return cur.rowcount == 1

    def valve_ops(self, work_order_id: str) -> list[ValveOperation]:
        rows = self.db.execute(
            "SELECT id, work_order_id, valve_id, action, turns, note, server_time, device_time "
            "FROM fw_valve_operations WHERE work_order_id = ? ORDER BY server_time, rowid",
            [work_order_id])
        return [ValveOperation(id=r[0], work_order_id=r[1], valve_id=r[2],
                               action=ValveAction(r[3]), turns=r[4], note=r[5],
                               server_time=from_db(r[6]), device_time=opt_from_db(r[7]))
                for r in rows]

    # -- line marking ------------------------------------------------------------------
    def put_line(self, line: MarkedLine, device_time: datetime | None) -> None:
        self.db.execute(
            "INSERT INTO fw_marked_lines (work_order_id, line, recorded_at, device_time) "
            "VALUES (?,?,?,?) ON CONFLICT(work_order_id) DO UPDATE SET line=excluded.line, "
            "recorded_at=excluded.recorded_at, device_time=excluded.device_time",
            [line.work_order_id, _encode(line).decode(), to_db(line.recorded_at),
             opt_to_db(device_time)])

    def line(self, work_order_id: str) -> MarkedLine | None:
        row = self.db.execute("SELECT line FROM fw_marked_lines WHERE work_order_id = ?",
                              [work_order_id]).fetchone()
        return None if row is None else _line_decode(row[0])
