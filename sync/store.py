"""SQL of the sync engine: the change log read side, device state, ledger, uploads.

The only module of ``sync`` that speaks SQL. Times are stored as UTC ISO text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

import msgspec
from sqlite_utils import Database

from core.idlists import ids_condition, is_postgresql
from core.time import opt_from_db, to_db
from sync.protocol import MutationResult, Outcome


def _t(when: datetime) -> str:
    return to_db(when)


def _opt_dt(text: str | None) -> datetime | None:
    return opt_from_db(text)


#: a device's row is written whether it exists or not (both stores' upsert)
_DEVICE_UPSERT: Final = "ON CONFLICT (device_id) DO UPDATE SET"
#: a request without a clock reading keeps the skew last measured
_SKEW_KEPT: Final = "clock_skew_s = COALESCE(excluded.clock_skew_s, sync_devices.clock_skew_s)"


class ChangeRow(msgspec.Struct, frozen=True, array_like=True):
    seq: int
    entity: str
    entity_id: str
    op: str


class DeviceState(msgspec.Struct, frozen=True, kw_only=True):
    device_id: str
    last_mutation_id: int = 0
    last_push_at: datetime | None = None
    last_pull_at: datetime | None = None
    checkpoint: int = 0
    checkpoint_at: datetime | None = None
    clock_skew_s: float | None = None


class AttachmentRow(msgspec.Struct, frozen=True, kw_only=True):
    sha256: str
    size: int
    content_type: str
    received: int
    complete: bool
    #: the device that declared it (None: stored by the server itself)
    device_id: str | None = None
    work_order_id: str | None = None


class LedgerEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One applied (or rejected) mutation as the ledger keeps it."""

    kind: str
    work_order_id: str | None
    result: MutationResult
    device_time: datetime
    server_time: datetime
    content_hash: str | None = None


class SyncStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._pg = is_postgresql(db)

    # -- change log ------------------------------------------------------------------
    def latest_seq(self) -> int:
        return int(self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0])

    def latest_seq_of(self, scope: str) -> int:
        """The last change-log sequence of one scope (0: none); an index range, not a scan."""
        row = self.db.execute("SELECT MAX(seq) FROM changes WHERE scope = ?", [scope]).fetchone()
        return 0 if row is None or row[0] is None else int(row[0])

    def changes(self, scopes: Sequence[str], after: int, upto: int, limit: int
                ) -> list[ChangeRow]:
        """Changes of ``scopes`` with ``after < seq <= upto`` in sequence order."""
        marks = ",".join("?" * len(scopes))
        rows = self.db.execute(
            f"SELECT seq, entity, entity_id, op FROM changes WHERE scope IN ({marks}) "
            "AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
            [*scopes, after, upto, limit],
        )
        return [ChangeRow(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]

    def keys_of(self, scopes: Sequence[str], upto: int) -> list[tuple[str, str]]:
        """Every (entity, id) the log names for ``scopes`` up to ``upto``, once each.

        The driver's row tuples as they come (both columns are text): no second tuple per
        row for a snapshot's tens of thousands of keys.
        """
        marks = ",".join("?" * len(scopes))
        rows: list[tuple[str, str]] = self.db.execute(
            f"SELECT DISTINCT entity, entity_id FROM changes WHERE scope IN ({marks}) "
            "AND seq <= ? ORDER BY entity, entity_id", [*scopes, upto]).fetchall()
        return rows

    def count_changes(self, scopes: Sequence[str], after: int) -> int:
        marks = ",".join("?" * len(scopes))
        row = self.db.execute(
            f"SELECT COUNT(*) FROM changes WHERE scope IN ({marks}) AND seq > ?",
            [*scopes, after],
        ).fetchone()
        return int(row[0])

    # -- devices ---------------------------------------------------------------------
    def device(self, device_id: str) -> DeviceState:
        row = self.db.execute(
            "SELECT device_id, last_mutation_id, last_push_at, last_pull_at, checkpoint, "
            "checkpoint_at, clock_skew_s FROM sync_devices WHERE device_id = ?", [device_id]
        ).fetchone()
        if row is None:
            return DeviceState(device_id=device_id)
        return DeviceState(device_id=row[0], last_mutation_id=int(row[1]),
                           last_push_at=_opt_dt(row[2]), last_pull_at=_opt_dt(row[3]),
                           checkpoint=int(row[4]), checkpoint_at=_opt_dt(row[5]),
                           clock_skew_s=row[6])

    def devices(self) -> list[DeviceState]:
        rows = self.db.execute("SELECT device_id FROM sync_devices ORDER BY device_id")
        return [self.device(str(r[0])) for r in rows.fetchall()]

    def _ensure(self, device_id: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO sync_devices (device_id) VALUES (?)", [device_id])

    def note_pull(self, device_id: str, at: datetime, skew_s: float | None,
                  completed_checkpoint: int | None) -> None:
        """Record a pull (and the checkpoint it completed): one upsert, where the device's
        row was ensured and then updated once or twice (issue 19: three statements of a
        pull's write transaction, a tenth of an empty pull on PostgreSQL)."""
        if completed_checkpoint is None:
            self.db.execute(
                "INSERT INTO sync_devices (device_id, last_pull_at, clock_skew_s) "
                f"VALUES (?, ?, ?) {_DEVICE_UPSERT} last_pull_at = excluded.last_pull_at, "
                f"{_SKEW_KEPT}", [device_id, _t(at), skew_s])
            return
        self.db.execute(
            "INSERT INTO sync_devices (device_id, last_pull_at, clock_skew_s, checkpoint, "
            f"checkpoint_at) VALUES (?, ?, ?, ?, ?) {_DEVICE_UPSERT} "
            "last_pull_at = excluded.last_pull_at, checkpoint = excluded.checkpoint, "
            f"checkpoint_at = excluded.checkpoint_at, {_SKEW_KEPT}",
            [device_id, _t(at), skew_s, completed_checkpoint, _t(at)])

    def note_push(self, device_id: str, at: datetime, skew_s: float | None) -> None:
        self.db.execute(
            "INSERT INTO sync_devices (device_id, last_push_at, clock_skew_s) "
            f"VALUES (?, ?, ?) {_DEVICE_UPSERT} last_push_at = excluded.last_push_at, "
            f"{_SKEW_KEPT}", [device_id, _t(at), skew_s])

    def last_mutation_id(self, device_id: str) -> int:
        row = self.db.execute(
            "SELECT last_mutation_id FROM sync_devices WHERE device_id = ?", [device_id]
        ).fetchone()
        return 0 if row is None else int(row[0])

    # -- mutation ledger ---------------------------------------------------------------
    def install_id(self, device_id: str) -> str | None:
        row = self.db.execute("SELECT install_id FROM sync_devices WHERE device_id = ?",
                              [device_id]).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def set_install_id(self, device_id: str, install_id: str) -> None:
        self._ensure(device_id)
        self.db.execute("UPDATE sync_devices SET install_id = ? WHERE device_id = ? "
                        "AND install_id IS NULL", [install_id, device_id])

    def mutation_hashes(self, device_id: str, ids: Sequence[int]) -> dict[int, str | None]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            "SELECT mutation_id, content_hash FROM sync_mutations "
            f"WHERE device_id = ? AND mutation_id IN ({marks})", [device_id, *ids])
        return {int(r[0]): r[1] for r in rows}

    def record_mutation(self, device_id: str, mutation_id: int, kind: str,
                        work_order_id: str | None, result: MutationResult,
                        device_time: datetime, server_time: datetime,
                        content_hash: str | None = None) -> None:
        """Store the outcome and advance the device's last id: in the effects' transaction."""
        self._ensure(device_id)
        self.db.execute(
            "INSERT INTO sync_mutations (device_id, mutation_id, kind, work_order_id, outcome, "
            "reason_code, detail, review_id, device_time, server_time, content_hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [device_id, mutation_id, kind, work_order_id, str(result.outcome),
             result.reason_code, result.detail, result.review_id, _t(device_time),
             _t(server_time), content_hash],
        )
        self.db.execute(
            "UPDATE sync_devices SET last_mutation_id = ? WHERE device_id = ?",
            [mutation_id, device_id],
        )

    def record_mutations(self, device_id: str, entries: Sequence[LedgerEntry]) -> None:
        """Store the outcomes of one push and advance the device's last id to the last one.

        In the effects' transaction; ``entries`` are in id order and gap-free.
        """
        if not entries:
            return
        self._ensure(device_id)
        self.db.conn.executemany(
            "INSERT INTO sync_mutations (device_id, mutation_id, kind, work_order_id, outcome, "
            "reason_code, detail, review_id, device_time, server_time, content_hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(device_id, e.result.id, e.kind, e.work_order_id, str(e.result.outcome),
              e.result.reason_code, e.result.detail, e.result.review_id, _t(e.device_time),
              _t(e.server_time), e.content_hash) for e in entries])
        self.db.execute("UPDATE sync_devices SET last_mutation_id = ? WHERE device_id = ?",
                        [entries[-1].result.id, device_id])

    def mutation_results(self, device_id: str, ids: Sequence[int]) -> dict[int, MutationResult]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            "SELECT mutation_id, outcome, reason_code, detail, review_id FROM sync_mutations "
            f"WHERE device_id = ? AND mutation_id IN ({marks})", [device_id, *ids])
        return {
            int(r[0]): MutationResult(id=int(r[0]), outcome=Outcome(r[1]), reason_code=r[2],
                                      detail=r[3], review_id=r[4], duplicate=True)
            for r in rows
        }

    def outcome_counts(self, device_id: str | None = None) -> dict[str, int]:
        sql = "SELECT outcome, COUNT(*) FROM sync_mutations"
        params: list[object] = []
        if device_id is not None:
            sql += " WHERE device_id = ?"
            params.append(device_id)
        return {str(r[0]): int(r[1]) for r in self.db.execute(sql + " GROUP BY outcome", params)}

    # -- attachments -------------------------------------------------------------------
    def attachment(self, sha256: str) -> AttachmentRow | None:
        row = self.db.execute(
            "SELECT sha256, size, content_type, received, complete, device_id, work_order_id "
            "FROM sync_attachments WHERE sha256 = ?", [sha256]).fetchone()
        if row is None:
            return None
        return AttachmentRow(sha256=row[0], size=int(row[1]), content_type=row[2],
                             received=int(row[3]), complete=bool(row[4]), device_id=row[5],
                             work_order_id=row[6])

    def declare_attachment(self, sha256: str, size: int, content_type: str,
                           device_id: str | None, at: datetime,
                           work_order_id: str | None = None) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO sync_attachments (sha256, size, content_type, device_id, "
            "created_at, work_order_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [sha256, size, content_type, device_id, _t(at), work_order_id, _t(at)])

    def set_received(self, sha256: str, received: int, at: datetime | None = None) -> None:
        if at is None:
            self.db.execute("UPDATE sync_attachments SET received = ? WHERE sha256 = ?",
                            [received, sha256])
        else:
            self.db.execute("UPDATE sync_attachments SET received = ?, updated_at = ? "
                            "WHERE sha256 = ?", [received, _t(at), sha256])

    def complete_attachment(self, sha256: str, at: datetime) -> None:
        self.db.execute(
            "UPDATE sync_attachments SET complete = 1, received = size, completed_at = ?, "
            "updated_at = ? WHERE sha256 = ?", [_t(at), _t(at), sha256])

    def pending_bytes_of_device(self, device_id: str) -> int:
        """Declared bytes of the device's uploads that are not complete yet."""
        row = self.db.execute(
            "SELECT COALESCE(SUM(size), 0) FROM sync_attachments "
            "WHERE device_id = ? AND complete = 0", [device_id]).fetchone()
        return int(row[0])

    def bytes_of_order(self, work_order_id: str) -> int:
        """Declared bytes of every upload made for one order (complete or not)."""
        row = self.db.execute(
            "SELECT COALESCE(SUM(size), 0) FROM sync_attachments WHERE work_order_id = ?",
            [work_order_id]).fetchone()
        return int(row[0])

    def idle_partials(self, before: datetime) -> list[str]:
        return [str(r[0]) for r in self.db.execute(
            "SELECT sha256 FROM sync_attachments WHERE complete = 0 AND updated_at < ?",
            [_t(before)])]

    def delete_partial(self, sha256: str) -> None:
        self.db.execute("DELETE FROM sync_attachments WHERE sha256 = ? AND complete = 0",
                        [sha256])

    def pending_upload_count(self) -> int:
        return int(self.db.execute(
            "SELECT COUNT(*) FROM sync_attachments WHERE complete = 0").fetchone()[0])

    def complete_hashes(self, hashes: Sequence[str]) -> set[str]:
        out: set[str] = set()
        for start in range(0, len(hashes), 500):
            cond, params = ids_condition("sha256", hashes[start:start + 500], self._pg)
            out.update(str(r[0]) for r in self.db.execute(
                f"SELECT sha256 FROM sync_attachments WHERE complete = 1 AND {cond}", params))
        return out
