"""The device's own SQLite file: the server rows it may see, its outbox and its blobs.

``rows`` mirrors the server's view of the device's scope as of the last checkpoint (plus
the pages of a pull in progress), each row's content as the server encoded it: JSON text,
or MessagePack bytes when the client asked for MessagePack (told apart by the first
byte). ``outbox`` holds mutations not yet acknowledged, in id order; they leave it only
when the server's ``last_applied_id`` covers them, and their outcomes stay in ``results``
so a rejection's reason reaches the crew. ``blobs`` keeps each photo's bytes until the
server confirmed their hash.

``rows`` is an ordinary rowid table with its key as a unique index, not ``WITHOUT ROWID``:
a synced order is about 1.8 kB, and SQLite keeps a ``WITHOUT ROWID`` table's rows in
its key's B-tree, where a row over about 1 kB (on 4 kB pages) spills into an overflow page
of its own, mostly empty. A 10k-row snapshot (9 MB of rows) made a 25 MB file and took
about twice as long to store as in a rowid table (12 MB; issue 19). Replicas made before
keep their table: both answer the same statements.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterable
from pathlib import Path

import msgspec
from sqlite_utils import Database

from sync.protocol import Mutation, MutationResult, Outcome, PositionFix, RowRemoval, RowUpsert

_encode = msgspec.json.Encoder().encode
_json_row_decode = msgspec.json.Decoder(dict[str, object]).decode
_msgpack_row_decode = msgspec.msgpack.Decoder(dict[str, object]).decode


class RawUpsert(msgspec.Struct, frozen=True, kw_only=True):
    """A pulled row whose content stays as the server encoded it (JSON or MessagePack)."""

    entity: str
    id: str
    data: msgspec.Raw


class RawPage(msgspec.Struct, frozen=True, kw_only=True):
    """``sync.protocol.PullResponse`` as the client reads it: row contents left encoded."""

    protocol: int
    upserts: list[RawUpsert]
    removals: list[RowRemoval]
    cursor: str
    more: bool
    checkpoint: int


def _stored(u: RowUpsert | RawUpsert) -> str | bytes:
    """A row's content as kept in ``rows.data``: JSON text, or MessagePack bytes as sent."""
    if isinstance(u, RawUpsert):
        raw = bytes(u.data)
        return raw.decode() if raw[:1] == b"{" else raw
    return _encode(u.data).decode()


def _row_decode(data: str | bytes) -> dict[str, object]:
    """JSON objects start with ``{``; MessagePack maps never do (0x80-0x8f, 0xde, 0xdf)."""
    if isinstance(data, bytes) and data[:1] != b"{":
        return _msgpack_row_decode(data)
    return _json_row_decode(data)
_mutation_decode = msgspec.json.Decoder(Mutation).decode
_fix_decode = msgspec.json.Decoder(PositionFix).decode

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rows (entity TEXT NOT NULL, id TEXT NOT NULL, data NOT NULL,
    PRIMARY KEY (entity, id));
CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, mutation TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (id INTEGER PRIMARY KEY, outcome TEXT NOT NULL,
    reason_code TEXT, detail TEXT NOT NULL DEFAULT '', review_id INTEGER);
CREATE TABLE IF NOT EXISTS blobs (sha256 TEXT PRIMARY KEY, content_type TEXT NOT NULL,
    size INTEGER NOT NULL, data BLOB, confirmed INTEGER NOT NULL DEFAULT 0, refused TEXT,
    work_order_id TEXT);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS positions (taken_at TEXT PRIMARY KEY, fix TEXT NOT NULL);
"""


def files_named(mutation: Mutation) -> set[str]:
    """The file hashes an intent names (photo, signature, reading proof, items...)."""
    found: set[str] = set()

    def walk(value: object, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, str(k))
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and key.endswith("sha256"):
            found.add(value.lower())

    walk(msgspec.to_builtins(mutation.intent))
    return found


def order_named(mutation: Mutation) -> str | None:
    """The work order an intent is about (None: a door notice is about a task, its
    ``work_order_id`` stays empty)."""
    order = mutation.intent.work_order_id
    return order or None


class Replica:
    """``synchronous``: SQLite's durability level; FULL on a tablet (an acknowledged capture
    must survive a power cut), OFF only for simulations that create thousands of replicas."""

    def __init__(self, path: str | Path, *, synchronous: str = "FULL") -> None:
        if synchronous not in ("FULL", "NORMAL", "OFF"):
            raise ValueError("synchronous is FULL, NORMAL or OFF")
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        self.db = Database(conn)
        self.db.executescript(_SCHEMA)
        if "work_order_id" not in self.db["blobs"].columns_dict:
            # a replica written by an older client: its blobs learn their order on upload
            self.db.execute("ALTER TABLE blobs ADD COLUMN work_order_id TEXT")

    def close(self) -> None:
        self.db.close()

    # -- meta ------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) "
                        "DO UPDATE SET value = excluded.value", [key, value])

    # -- rows ------------------------------------------------------------------------
    def apply_page(self, upserts: Iterable[RowUpsert | RawUpsert], removals: Iterable[RowRemoval],
                   cursor: str, checkpoint: int | None) -> None:
        """One page in one local transaction, with the cursor that follows it."""
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT INTO rows (entity, id, data) VALUES (?, ?, ?) ON CONFLICT(entity, id) "
                "DO UPDATE SET data = excluded.data",
                [(u.entity, u.id, _stored(u)) for u in upserts])
            self.db.conn.executemany("DELETE FROM rows WHERE entity = ? AND id = ?",
                                     [(r.entity, r.id) for r in removals])
            self.set_meta("cursor", cursor)
            if checkpoint is not None:
                self.set_meta("checkpoint", str(checkpoint))

    def rows(self, entity: str) -> dict[str, dict[str, object]]:
        return {str(r[0]): _row_decode(r[1]) for r in self.db.execute(
            "SELECT id, data FROM rows WHERE entity = ? ORDER BY id", [entity])}

    def row(self, entity: str, row_id: str) -> dict[str, object] | None:
        r = self.db.execute("SELECT data FROM rows WHERE entity = ? AND id = ?",
                            [entity, row_id]).fetchone()
        return None if r is None else _row_decode(r[0])

    # -- outbox ----------------------------------------------------------------------
    def install_id(self) -> str:
        """This installation's id, made once: the server tells a reinstall by it."""
        known = self.get_meta("install_id")
        if known is None:
            known = str(uuid.uuid4())
            with self.db.atomic():
                self.set_meta("install_id", known)
        return known

    def next_mutation_id(self) -> int:
        return int(self.get_meta("next_mutation_id") or "1")

    def enqueue(self, mutation: Mutation) -> None:
        """Queue ``mutation``; the files it names become evidence of its work order (their
        upload is declared with that order: the server requires it and counts its quota)."""
        with self.db.atomic():
            self.db.execute("INSERT INTO outbox (id, mutation) VALUES (?, ?)",
                            [mutation.id, _encode(mutation).decode()])
            self.set_meta("next_mutation_id", str(mutation.id + 1))
            order = order_named(mutation)
            if order is not None:
                self.db.conn.executemany(
                    "UPDATE blobs SET work_order_id = ? WHERE sha256 = ? "
                    "AND work_order_id IS NULL", [(order, sha) for sha in files_named(mutation)])

    def outbox(self, limit: int | None = None) -> list[Mutation]:
        sql = "SELECT mutation FROM outbox ORDER BY id"
        params: list[object] = []
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_mutation_decode(r[0]) for r in self.db.execute(sql, params)]

    def acknowledge(self, last_applied_id: int, results: Iterable[MutationResult]) -> None:
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO results (id, outcome, reason_code, detail, review_id) "
                "VALUES (?, ?, ?, ?, ?)",
                [(r.id, str(r.outcome), r.reason_code, r.detail, r.review_id) for r in results])
            self.db.execute("DELETE FROM outbox WHERE id <= ?", [last_applied_id])

    def renumber_from(self, first_id: int) -> None:
        """After a gap: the server never applied anything past ``first_id - 1``."""
        pending = self.outbox()
        with self.db.atomic():
            self.db.execute("DELETE FROM outbox")
            for offset, m in enumerate(pending):
                fixed = msgspec.structs.replace(m, id=first_id + offset)
                self.db.execute("INSERT INTO outbox (id, mutation) VALUES (?, ?)",
                                [fixed.id, _encode(fixed).decode()])
            self.set_meta("next_mutation_id", str(first_id + len(pending)))

    def results(self) -> dict[int, MutationResult]:
        return {int(r[0]): MutationResult(id=int(r[0]), outcome=Outcome(r[1]), reason_code=r[2],
                                          detail=r[3], review_id=r[4])
                for r in self.db.execute(
                    "SELECT id, outcome, reason_code, detail, review_id FROM results")}

    # -- blobs -----------------------------------------------------------------------
    def add_blob(self, sha256: str, content_type: str, data: bytes,
                 work_order_id: str | None = None) -> None:
        """Keep a captured file; ``work_order_id``: the order it is evidence for (else the
        first queued mutation naming the file tells it)."""
        with self.db.atomic():
            self.db.execute(
                "INSERT OR IGNORE INTO blobs (sha256, content_type, size, data, work_order_id) "
                "VALUES (?, ?, ?, ?, ?)", [sha256, content_type, len(data), data, work_order_id])
            if work_order_id is None:
                self.db.execute(
                    "UPDATE blobs SET work_order_id = ? WHERE sha256 = ? AND work_order_id "
                    "IS NULL", [self._order_naming(sha256), sha256])

    def _order_naming(self, sha256: str) -> str | None:
        """The work order of the first queued mutation that names file ``sha256``."""
        for m in self.outbox():
            if sha256 in files_named(m) and order_named(m) is not None:
                return order_named(m)
        return None

    def unconfirmed_blobs(self) -> list[tuple[str, str, bytes, str | None]]:
        """(hash, content type, bytes, work order) of each file the server lacks."""
        return [(str(r[0]), str(r[1]), bytes(r[2]), r[3]) for r in self.db.execute(
            "SELECT sha256, content_type, data, work_order_id FROM blobs WHERE confirmed = 0 "
            "AND refused IS NULL ORDER BY sha256")]

    def waiting_blobs(self) -> set[str]:
        """Hashes of files still to upload (neither confirmed nor refused)."""
        return {str(r[0]) for r in self.db.execute(
            "SELECT sha256 FROM blobs WHERE confirmed = 0 AND refused IS NULL")}

    def refuse_blob(self, sha256: str, reason: str) -> None:
        """The server will not take this file: keep the bytes and the reason for the crew."""
        self.db.execute("UPDATE blobs SET refused = ? WHERE sha256 = ?", [reason, sha256])

    def confirm_blob(self, sha256: str) -> None:
        """The server verified the hash: the bytes may go (the row stays as a receipt)."""
        self.db.execute("UPDATE blobs SET confirmed = 1, data = NULL WHERE sha256 = ?",
                        [sha256])

    def blob_states(self) -> dict[str, bool]:
        return {str(r[0]): bool(r[1])
                for r in self.db.execute("SELECT sha256, confirmed FROM blobs")}

    # -- GNSS fixes waiting for the next push (kept across restarts, like the outbox) --------
    def add_position(self, fix: PositionFix) -> None:
        self.db.execute("INSERT OR REPLACE INTO positions (taken_at, fix) VALUES (?, ?)",
                        [fix.taken_at.isoformat(), _encode(fix).decode()])

    def positions(self, limit: int) -> list[PositionFix]:
        rows = self.db.execute("SELECT fix FROM positions ORDER BY taken_at LIMIT ?", [limit])
        return [_fix_decode(r[0]) for r in rows]

    def drop_positions(self, fixes: Iterable[PositionFix]) -> None:
        self.db.conn.executemany("DELETE FROM positions WHERE taken_at = ?",
                                 [(f.taken_at.isoformat(),) for f in fixes])
