"""Scoped, paged, resumable pull with consistent checkpoints.

A page is computed inside one read transaction:

1. The session's target ``snapshot`` is the latest change-log sequence when the session
   starts (or the one carried in the cursor).
2. Change rows of the device's scopes in ``(after, snapshot]`` are read in sequence order,
   at most ``limit``; rows for one key collapse to one entry.
3. The log only says *which* rows changed for *which* scope; their content and whether the
   device may still see them are read now, through the ``ScopeSource`` the server built for
   this device. A row that is absent (gone, or no longer visible) becomes a removal, so a
   device never receives a row outside its scope, even for a moment.
4. When the session's rows are exhausted the server checks the log again: if it grew, the
   session's snapshot moves to the new end and the device is told ``more``; otherwise the
   page closes the session and ``checkpoint`` names the state the device now has.

Why this is a real state: every row's last delivery happens at or after its last change in
the session, and a later change would append a later log row that the session still
covers, so at the closing page each delivered row equals the server's row at the checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final, Protocol

from msgspec import Raw
from sqlite_utils import Database

from core.uow import unit_of_work
from sync.changelog import ChangeOp
from sync.cursor import CURSOR_VERSION, Cursor, decode_cursor, encode_cursor
from sync.protocol import (
    MAX_PAGE_BYTES,
    MAX_PAGE_ROWS,
    MIN_PAGE_BYTES,
    PROTOCOL_VERSION,
    EncodedPullResponse,
    EncodedUpsert,
    RemovalOp,
    RowRemoval,
    WireFormat,
    page_encoder,
)
from sync.store import ChangeRow, SyncStore

Key = tuple[str, str]


class ScopeSource(Protocol):
    """What one device may see; the server builds one per request from the principal."""

    def scopes(self) -> list[str]:
        """Change-log scopes this device follows, e.g. ``["crew:a", "all", "network"]``."""
        ...

    def encoded(self, entity: str, ids: Sequence[str], fmt: WireFormat) -> dict[str, bytes]:
        """Current content of the rows of ``ids`` that this device may see, by id, each
        already encoded in ``fmt`` (the row's ``data`` as the page carries it).

        An id missing from the answer is gone or out of scope: it is sent as a removal.
        Encoded by the source, so it may go from stored columns to bytes without a
        mapping per row (issue 19).
        """
        ...

    def encoded_all(self, entity: str, ids: Sequence[str], fmt: WireFormat) -> dict[str, bytes]:
        """``encoded`` for a snapshot: ``ids`` are every id of ``entity`` the log names for
        this device's scopes, however many. The source reads them as suits it (by id in
        batches, or its visible rows set-wise, keeping those among ``ids``)."""
        ...

    def related(self, entity: str, ids: Sequence[str]) -> list[Key]:
        """Rows whose visibility may change with these rows (network near work orders)."""
        ...


def pull_page(db: Database, source: ScopeSource, cursor_text: str | None, limit: int,
              now: datetime, max_bytes: int | None = None,
              fmt: WireFormat = WireFormat.JSON) -> tuple[EncodedPullResponse, bool]:
    """One page for one device, its rows encoded in ``fmt``; returns it and whether it
    closed a session.

    Runs in one transaction so the page reads one state of the database. The page holds
    at most ``limit`` change-log rows and about ``max_bytes`` bytes as encoded in ``fmt``:
    a page over the byte bound is cut to the first half of its change rows (again while
    it is too big and has more than one), and the cursor stops after the last row kept.
    """
    store = SyncStore(db)
    encode = page_encoder(fmt)
    limit = max(1, min(limit, MAX_PAGE_ROWS))
    byte_bound = max(MIN_PAGE_BYTES, min(max_bytes or MAX_PAGE_BYTES, MAX_PAGE_BYTES))
    with unit_of_work(db).snapshot():
        latest = store.latest_seq()
        cur = decode_cursor(cursor_text, latest)
        if cur.in_session:
            base, snapshot, after = cur.base, cur.snapshot, cur.after
        else:
            base, snapshot, after = cur.base, latest, cur.base
        scopes = source.scopes()
        rows = store.changes(scopes, after, snapshot, limit) if scopes else []
        exhausted = len(rows) < limit
        upserts, removals = _materialise(source, _last_ops(rows), fmt)
        while len(rows) > 1 and len(encode(upserts)) + len(encode(removals)) > byte_bound:
            rows = rows[:len(rows) // 2]
            exhausted = False
            upserts, removals = _materialise(source, _last_ops(rows), fmt)
        position = snapshot if exhausted else rows[-1].seq
        if not exhausted:
            nxt, more, checkpoint = Cursor(CURSOR_VERSION, base, snapshot, position), True, base
        elif latest > snapshot:
            nxt, more, checkpoint = Cursor(CURSOR_VERSION, base, latest, snapshot), True, base
        else:
            nxt, more, checkpoint = Cursor(CURSOR_VERSION, snapshot, 0, 0), False, snapshot
    page = EncodedPullResponse(protocol=PROTOCOL_VERSION, upserts=upserts, removals=removals,
                               cursor=encode_cursor(nxt), more=more, checkpoint=checkpoint,
                               server_time=now)
    return page, not more


#: ids read (and encoded) per statement batch of a snapshot
SNAPSHOT_BATCH: Final = 500


def snapshot_page(db: Database, source: ScopeSource, now: datetime,
                  fmt: WireFormat = WireFormat.JSON) -> EncodedPullResponse:
    """The whole scope of a device that holds nothing, in one answer (initial sync).

    Read in one snapshot at the change log's end ``S``: every row the log ever named for
    the device's scopes is read as it is now and kept if the device may see it. The device
    then holds exactly the server's state at ``S`` (``checkpoint``), and ``cursor`` continues
    from there with ordinary pulls. No removals: a device with an empty replica has
    nothing to remove.

    Set-based and linear: each entity's rows come from one ``encoded_all`` call, which
    reads them set-wise or ``SNAPSHOT_BATCH`` ids at a time (never one statement per row)
    and encodes each row in ``fmt`` as soon as it is read.
    """
    store = SyncStore(db)
    with unit_of_work(db).snapshot():
        latest = store.latest_seq()
        scopes = source.scopes()
        keys = store.keys_of(scopes, latest) if scopes else []
        by_entity: dict[str, list[str]] = {}
        for entity, entity_id in keys:
            by_entity.setdefault(entity, []).append(entity_id)
        upserts: list[EncodedUpsert] = []
        for entity, ids in by_entity.items():
            visible = source.encoded_all(entity, ids, fmt)
            upserts.extend(EncodedUpsert(entity=entity, id=i, data=Raw(visible[i]))
                           for i in ids if i in visible)
    return EncodedPullResponse(protocol=PROTOCOL_VERSION, upserts=upserts, removals=[],
                               cursor=encode_cursor(Cursor(CURSOR_VERSION, latest, 0, 0)),
                               more=False, checkpoint=latest, server_time=now)


def _last_ops(rows: Sequence[ChangeRow]) -> dict[Key, str]:
    """The last operation per key: a key's rows in one page collapse to one entry."""
    last_op: dict[Key, str] = {}
    for row in rows:
        last_op[(row.entity, row.entity_id)] = row.op
    return last_op


def _materialise(source: ScopeSource, last_op: dict[Key, str], fmt: WireFormat
                 ) -> tuple[list[EncodedUpsert], list[RowRemoval]]:
    by_entity: dict[str, list[str]] = {}
    for entity, entity_id in last_op:
        by_entity.setdefault(entity, []).append(entity_id)
    for entity, ids in list(by_entity.items()):
        for key in source.related(entity, ids):
            if key not in last_op:
                last_op[key] = str(ChangeOp.UPSERT)
                by_entity.setdefault(key[0], []).append(key[1])
    upserts: list[EncodedUpsert] = []
    removals: list[RowRemoval] = []
    for entity, ids in by_entity.items():
        visible = source.encoded(entity, ids, fmt)
        for entity_id in ids:
            data = visible.get(entity_id)
            if data is not None:
                upserts.append(EncodedUpsert(entity=entity, id=entity_id, data=Raw(data)))
            else:
                op = RemovalOp.DELETE if last_op[(entity, entity_id)] == ChangeOp.DELETE \
                    else RemovalOp.REMOVE
                removals.append(RowRemoval(entity=entity, id=entity_id, op=op))
    return upserts, removals
