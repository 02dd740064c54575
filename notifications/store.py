"""NotificationStore: the only place with SQL for the notifications tables.

One store wraps one ``sqlite_utils.Database`` and serialises its use with a lock, because
the worker's sending threads record their own outcomes on the shared connection. Times
are UTC ISO text with a ``Z`` suffix, so string order is time order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import Any, Final

import msgspec
from sqlite_utils import Database

from core.idlists import ids_condition, is_postgresql
from core.time import from_db, to_db
from notifications.model import (
    Delivery,
    DeliveryStatus,
    Notice,
    NoticeKind,
    Outage,
    OutageKind,
    OutageState,
    OutageTask,
    Recipient,
    TaskKind,
    TaskStatus,
)

#: one fetched row (private: public methods answer Structs)
Row = tuple[Any, ...]

_DELIVERY_COLUMNS: Final = (
    "id, notice_id, customer_id, channel, address, status, urgent, attempts, queued_at, "
    "next_attempt_at, claimed_until, sent_at, delivered_at, answer, error, held_from, held_until"
)




def _opt(when: datetime | None) -> str | None:
    return None if when is None else to_db(when)




def _from(text: str | None) -> datetime | None:
    return None if text is None else from_db(text)


class AttemptRow(msgspec.Struct, frozen=True, kw_only=True):
    delivery_id: int
    attempt: int
    worker: str
    started_at: datetime
    finished_at: datetime
    ok: bool
    answer: str
    error: str


_INSERT_ATTEMPT = (
    "INSERT INTO delivery_attempts (delivery_id, attempt, worker, started_at, "
    "finished_at, ok, answer, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
#: only a row still leased by this worker, at this attempt, moves
_MOVE_ROW = (
    "UPDATE deliveries SET status = ?, answer = ?, error = ?, claimed_until = NULL, "
    "sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END, "
    "next_attempt_at = COALESCE(?, next_attempt_at) "
    "WHERE id = ? AND status = 'sending' AND claimed_by = ? AND attempts = ?")


#: PostgreSQL: a batch's attempts and row moves as one statement each over one JSON array
#: of rows (``json_array_elements``), the same rows and the same lease condition as
#: ``_INSERT_ATTEMPT`` and ``_MOVE_ROW``. Executed once per outcome, even pipelined, they
#: cost psycopg a Python round of binding per row, and so do array parameters (its list
#: dumper is Python, element by element): a third of the worker's time on PostgreSQL
#: (issue 19). msgspec writes a thousand rows' JSON in well under a millisecond.
_INSERT_ATTEMPTS_PG = (
    "INSERT INTO delivery_attempts (delivery_id, attempt, worker, started_at, finished_at, "
    "ok, answer, error) SELECT (e->>0)::bigint, (e->>1)::bigint, e->>2, e->>3, e->>4, "
    "(e->>5)::bigint, e->>6, e->>7 FROM json_array_elements(?::json) AS e")
#: reads the rows of ``_move_params`` (its fourth value repeats the status)
_MOVE_ROWS_PG = (
    "UPDATE deliveries d SET status = u.status, answer = u.answer, error = u.error, "
    "claimed_until = NULL, "
    "sent_at = CASE WHEN u.status = 'sent' THEN u.finished_at ELSE d.sent_at END, "
    "next_attempt_at = COALESCE(u.next_at, d.next_attempt_at) "
    "FROM (SELECT e->>0 AS status, e->>1 AS answer, e->>2 AS error, "
    "e->>4 AS finished_at, e->>5 AS next_at, (e->>6)::bigint AS id, e->>7 AS worker, "
    "(e->>8)::bigint AS attempt FROM json_array_elements(?::json) AS e) AS u "
    "WHERE d.id = u.id AND d.status = 'sending' AND d.claimed_by = u.worker "
    "AND d.attempts = u.attempt")
_rows_json = msgspec.json.Encoder().encode


def _attempt_params(a: AttemptRow) -> tuple[object, ...]:
    return (a.delivery_id, a.attempt, a.worker, to_db(a.started_at), to_db(a.finished_at),
            int(a.ok), a.answer[:2000], a.error[:2000])


def _move_params(a: AttemptRow, status: DeliveryStatus,
                 next_attempt_at: datetime | None) -> tuple[object, ...]:
    return (status, a.answer[:2000], a.error[:2000], status, to_db(a.finished_at),
            _opt(next_attempt_at), a.delivery_id, a.worker, a.attempt)


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """One attempt to record (``NotificationStore.finish_many``)."""

    attempt: AttemptRow
    status: DeliveryStatus
    next_attempt_at: datetime | None = None
    fallback: tuple[str, str | None] | None = None


class NotificationStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        # each thread has its own connection (``server.db``) and the unit of work
        # serialises writers, so no lock of our own (a second lock could deadlock with it)
        self._lock = nullcontext()
        # PostgreSQL: workers on several machines claim disjoint rows without waiting on
        # each other; SQLite has one writer at a time, so it needs no row locks
        self._pg = getattr(db, "dialect_name", "sqlite") == "postgresql"
        self._skip = " FOR UPDATE SKIP LOCKED" if self._pg else ""

    @contextmanager
    def _tx(self) -> Iterator[Database]:
        with self.db.atomic():
            yield self.db

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One use case, one transaction: the store's own writes nest inside it."""
        with self.db.atomic():
            yield

    def _rows(self, sql: str, params: Sequence[object] | dict[str, object] = ()) -> list[Row]:
        with self._lock:
            return list(self.db.execute(sql, params).fetchall())

    # --- outages ------------------------------------------------------------------
    def insert_outage(self, outage: Outage, recipients: Sequence[Recipient], at: datetime) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO outages (id, kind, state, cause, title, area, start_at, "
                "expected_restoration_at, streets, compounds, customer_count, created_at, "
                "created_by, work_order_id, version, updated_at, isolation_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                (outage.id, outage.kind, outage.state, outage.cause, outage.title,
                 json.dumps(outage.area) if outage.area is not None else None,
                 to_db(outage.start_at), to_db(outage.expected_restoration_at),
                 json.dumps(outage.streets, ensure_ascii=False),
                 json.dumps(outage.compounds, ensure_ascii=False), outage.customer_count,
                 to_db(outage.created_at), outage.created_by, outage.work_order_id, to_db(at),
                 outage.isolation_id))
            db.conn.executemany(
                "INSERT INTO outage_recipients (outage_id, customer_id, name, phone, "
                "wechat_openid, channels, address, compound, street) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ((outage.id, r.customer_id, r.name, r.phone, r.wechat_openid,
                  json.dumps(r.channels), r.address, r.compound, r.street) for r in recipients))

    def update_outage(self, outage: Outage, at: datetime) -> Outage:
        """Write every mutable field; the version goes up by one (optimistic check)."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE outages SET state = ?, expected_restoration_at = ?, announced_at = ?, "
                "started_at = ?, restored_at = ?, cancelled_at = ?, delay_noticed_for = ?, "
                "required_lead_s = ?, lead_clause = ?, override_reason = ?, override_by = ?, "
                "version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
                (outage.state, to_db(outage.expected_restoration_at), _opt(outage.announced_at),
                 _opt(outage.started_at), _opt(outage.restored_at), _opt(outage.cancelled_at),
                 _opt(outage.delay_noticed_for), outage.required_lead_s, outage.lead_clause,
                 outage.override_reason, outage.override_by, to_db(at), outage.id,
                 outage.version))
            if cur.rowcount != 1:
                raise RuntimeError(f"outage {outage.id} changed concurrently")
        return msgspec.structs.replace(outage, version=outage.version + 1)

    _OUTAGE_COLUMNS: Final = (
        "id, kind, state, cause, title, area, start_at, expected_restoration_at, streets, "
        "compounds, customer_count, created_at, created_by, work_order_id, announced_at, "
        "started_at, restored_at, cancelled_at, delay_noticed_for, required_lead_s, "
        "lead_clause, override_reason, override_by, version, isolation_id")

    @staticmethod
    def _outage(row: Row) -> Outage:
        return Outage(
            id=row[0], kind=OutageKind(row[1]), state=OutageState(row[2]), cause=row[3],
            title=row[4], area=json.loads(row[5]) if row[5] else None,
            start_at=from_db(row[6]), expected_restoration_at=from_db(row[7]),
            streets=json.loads(row[8]), compounds=json.loads(row[9]), customer_count=row[10],
            created_at=from_db(row[11]), created_by=row[12], work_order_id=row[13],
            announced_at=_from(row[14]), started_at=_from(row[15]), restored_at=_from(row[16]),
            cancelled_at=_from(row[17]), delay_noticed_for=_from(row[18]),
            required_lead_s=row[19], lead_clause=row[20], override_reason=row[21],
            override_by=row[22], version=row[23], isolation_id=row[24])

    def outage(self, outage_id: str) -> Outage | None:
        rows = self._rows(f"SELECT {self._OUTAGE_COLUMNS} FROM outages WHERE id = ?",
                          (outage_id,))
        return self._outage(rows[0]) if rows else None

    def outages(self, states: Iterable[OutageState] | None = None, limit: int = 500,
                after: tuple[str, str] | None = None) -> list[Outage]:
        """Latest start first, keyset-paged on (start_at, id) after ``after``."""
        wanted = [str(s) for s in states] if states is not None else [str(s) for s in OutageState]
        marks = ",".join("?" for _ in wanted)
        keyset = "" if after is None else "AND (start_at, id) < (?, ?) "
        rows = self._rows(f"SELECT {self._OUTAGE_COLUMNS} FROM outages WHERE state IN ({marks}) "
                          f"{keyset}ORDER BY start_at DESC, id DESC LIMIT ?",
                          (*wanted, *(after or ()), limit))
        return [self._outage(r) for r in rows]

    def add_recipients(self, outage_id: str, recipients: Sequence[Recipient]) -> list[Recipient]:
        """Add recipients not yet on the outage; returns those actually added."""
        added: list[Recipient] = []
        with self._tx() as db:
            for r in recipients:
                cur = db.execute(
                    "INSERT OR IGNORE INTO outage_recipients (outage_id, customer_id, name, "
                    "phone, wechat_openid, channels, address, compound, street) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (outage_id, r.customer_id, r.name, r.phone, r.wechat_openid,
                     json.dumps(r.channels), r.address, r.compound, r.street))
                if cur.rowcount == 1:
                    added.append(r)
            if added:
                db.execute("UPDATE outages SET customer_count = customer_count + ?, "
                           "version = version + 1 WHERE id = ?", (len(added), outage_id))
        return added

    def outages_of_work_order(self, work_order_id: str) -> list[Outage]:
        rows = self._rows(f"SELECT {self._OUTAGE_COLUMNS} FROM outages WHERE work_order_id = ? "
                          "ORDER BY created_at", (work_order_id,))
        return [self._outage(r) for r in rows]

    def recipients(self, outage_id: str) -> list[Recipient]:
        rows = self._rows(
            "SELECT customer_id, name, phone, wechat_openid, channels, address, compound, street "
            "FROM outage_recipients WHERE outage_id = ? ORDER BY customer_id", (outage_id,))
        return [Recipient(customer_id=r[0], name=r[1], phone=r[2], wechat_openid=r[3],
                          channels=json.loads(r[4]), address=r[5], compound=r[6], street=r[7])
                for r in rows]

    def recipient(self, outage_id: str, customer_id: str) -> Recipient | None:
        rows = self._rows(
            "SELECT customer_id, name, phone, wechat_openid, channels, address, compound, street "
            "FROM outage_recipients WHERE outage_id = ? AND customer_id = ?",
            (outage_id, customer_id))
        return next((Recipient(customer_id=r[0], name=r[1], phone=r[2], wechat_openid=r[3],
                               channels=json.loads(r[4]), address=r[5], compound=r[6],
                               street=r[7]) for r in rows), None)

    def add_event(self, outage_id: str, at: datetime, actor: str, action: str,
                  detail: dict[str, object]) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO outage_events (outage_id, at, actor, action, detail) "
                       "VALUES (?, ?, ?, ?, ?)",
                       (outage_id, to_db(at), actor, action,
                        json.dumps(detail, ensure_ascii=False, default=str)))

    def events(self, outage_id: str) -> list[tuple[datetime, str, str, dict[str, object]]]:
        rows = self._rows("SELECT at, actor, action, detail FROM outage_events "
                          "WHERE outage_id = ? ORDER BY id", (outage_id,))
        return [(from_db(r[0]), r[1], r[2], json.loads(r[3])) for r in rows]

    # --- notices and the outbox -----------------------------------------------------
    def insert_notice(self, notice: Notice, dedupe_key: str,
                      rows: Sequence[tuple[str, str, str | None]], next_attempt_at: datetime
                      ) -> bool:
        """Store ``notice`` and queue one delivery per (customer, channel, address) row.

        Idempotent: a second call with the same ``dedupe_key`` (or notice id) changes
        nothing and answers False; ``INSERT OR IGNORE`` on the unique (notice, customer,
        channel) makes re-queueing harmless too. One ``executemany`` queues 100k rows in
        seconds (``insert_notices``, of which this is the one-notice case).
        """
        return bool(self.insert_notices([(notice, dedupe_key, rows)], next_attempt_at))

    def insert_notices(self, notices: Sequence[tuple[Notice, str,
                                                     Sequence[tuple[str, str, str | None]]]],
                       next_attempt_at: datetime) -> list[str]:
        """``insert_notice`` for many notices at once: (notice, dedupe key, delivery rows)
        each; returns the ids of those stored now (a dedupe key already stored is skipped,
        as one by one). A few statements per batch instead of several per notice: the
        deadline scan queues a staff message per reminder, thousands after an import or an
        outage of the scan, and on PostgreSQL each statement is a round trip."""
        if not notices:
            return []
        with self._tx() as db:
            # a notice whose dedupe key or id is stored (or earlier in the batch) is skipped,
            # as ``INSERT OR IGNORE`` skips it, and so are its deliveries
            pg = is_postgresql(db)
            keys, kparams = ids_condition("dedupe_key", [k for _, k, _ in notices], pg)
            ids, iparams = ids_condition("id", [n.id for n, _, _ in notices], pg)
            stored = db.execute(f"SELECT dedupe_key, id FROM notices WHERE {keys} OR {ids}",
                                [*kparams, *iparams]).fetchall()
            seen_keys, seen_ids = {str(r[0]) for r in stored}, {str(r[1]) for r in stored}
            fresh = []
            for notice, key, rows in notices:
                if key not in seen_keys and notice.id not in seen_ids:
                    seen_keys.add(key)
                    seen_ids.add(notice.id)
                    fresh.append((notice, key, rows))
            db.conn.executemany(
                "INSERT OR IGNORE INTO notices (id, outage_id, kind, urgent, title, body, "
                "sms_segments, created_at, created_by, notify_by, reference_at, "
                "required_lead_s, recipients, dedupe_key) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(n.id, n.outage_id or None, n.kind, int(n.urgent), n.title, n.body,
                  n.sms_segments, to_db(n.created_at), n.created_by, _opt(n.notify_by),
                  _opt(n.reference_at), n.required_lead_s, len(rows), key)
                 for n, key, rows in fresh])
            due_s = to_db(next_attempt_at)
            self._queue_rows(db, ((n.id, cust, chan, addr, int(n.urgent), to_db(n.created_at),
                                   due_s) for n, _, rows in fresh for cust, chan, addr in rows))
            return [n.id for n, _, _ in fresh]

    @staticmethod
    def _queue(db: Database, notice_id: str, urgent: bool,
               rows: Sequence[tuple[str, str, str | None]], at: datetime, due: datetime) -> None:
        queued, due_s, urgent_i = to_db(at), to_db(due), int(urgent)
        NotificationStore._queue_rows(db, ((notice_id, cust, chan, addr, urgent_i, queued, due_s)
                                           for cust, chan, addr in rows))

    @staticmethod
    def _queue_rows(db: Database, rows: Iterable[tuple[object, ...]]) -> None:
        """Queue deliveries: (notice, customer, channel, address, urgent, queued at, next
        attempt) each; one already queued for (notice, customer, channel) is left alone."""
        db.conn.executemany(
            "INSERT OR IGNORE INTO deliveries (notice_id, customer_id, channel, address, status, "
            "urgent, queued_at, next_attempt_at) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)", rows)

    _NOTICE_COLUMNS: Final = (
        "id, outage_id, kind, urgent, title, body, sms_segments, created_at, created_by, "
        "notify_by, reference_at, required_lead_s, recipients")

    @staticmethod
    def _notice(r: Row) -> Notice:
        # a staff message concerns no outage: NULL in the store, "" on the wire
        return Notice(id=r[0], outage_id=r[1] or "", kind=NoticeKind(r[2]), urgent=bool(r[3]),
                      title=r[4], body=r[5], sms_segments=r[6], created_at=from_db(r[7]),
                      created_by=r[8], notify_by=_from(r[9]), reference_at=_from(r[10]),
                      required_lead_s=r[11], recipients=r[12])

    def notice(self, notice_id: str) -> Notice | None:
        rows = self._rows(f"SELECT {self._NOTICE_COLUMNS} FROM notices WHERE id = ?",
                          (notice_id,))
        return self._notice(rows[0]) if rows else None

    def notices(self, outage_id: str) -> list[Notice]:
        rows = self._rows(f"SELECT {self._NOTICE_COLUMNS} FROM notices WHERE outage_id = ? "
                          "ORDER BY created_at, id", (outage_id,))
        return [self._notice(r) for r in rows]

    def notice_page(self, outage_id: str, after: tuple[str, str] | None,
                    limit: int) -> list[Notice]:
        """Up to ``limit`` of the outage's notices, oldest first, keyset-paged on
        ``(created_at, id)`` after ``after`` (a range of ``notices_outage_order``)."""
        keyset = "" if after is None else "AND (created_at, id) > (?, ?) "
        rows = self._rows(f"SELECT {self._NOTICE_COLUMNS} FROM notices WHERE outage_id = ? "
                          f"{keyset}ORDER BY created_at, id LIMIT ?",
                          (outage_id, *(after or ()), limit))
        return [self._notice(r) for r in rows]

    @staticmethod
    def _delivery(r: Row) -> Delivery:
        return Delivery(id=r[0], notice_id=r[1], customer_id=r[2], channel=r[3], address=r[4],
                        status=DeliveryStatus(r[5]), urgent=bool(r[6]), attempts=r[7],
                        queued_at=from_db(r[8]), next_attempt_at=from_db(r[9]),
                        claimed_until=_from(r[10]), sent_at=_from(r[11]),
                        delivered_at=_from(r[12]), answer=r[13], error=r[14],
                        held_from=_from(r[15]), held_until=_from(r[16]))

    def claim(self, now: datetime, lease_until: datetime, worker: str, limit: int,
              hold_until: datetime | None) -> list[Delivery]:
        """Lease up to ``limit`` due rows to ``worker`` (queued, or sending with a dead lease).

        With ``hold_until`` (quiet hours), due non-urgent rows are pushed to that time and
        marked held instead of being claimed; only urgent rows are leased.
        """
        now_s = to_db(now)
        with self._tx() as db:
            if hold_until is not None:
                held = to_db(hold_until)
                db.execute(
                    "UPDATE deliveries SET next_attempt_at = ?, held_until = ?, "
                    "held_from = COALESCE(held_from, ?) "
                    "WHERE status = 'queued' AND urgent = 0 AND next_attempt_at <= ?",
                    (held, held, now_s, now_s))
            urgent_only = "AND urgent = 1" if hold_until is not None else ""
            rows = db.execute(
                "UPDATE deliveries SET status = 'sending', claimed_until = :lease, "
                "claimed_by = :worker, attempts = attempts + 1 "
                "WHERE id IN (SELECT id FROM deliveries WHERE "
                "((status = 'queued' AND next_attempt_at <= :now) OR "
                "(status = 'sending' AND claimed_until <= :now)) "
                f"{urgent_only} ORDER BY urgent DESC, next_attempt_at, id LIMIT :n{self._skip}) "
                f"RETURNING {_DELIVERY_COLUMNS}",
                {"lease": to_db(lease_until), "worker": worker, "now": now_s, "n": limit},
            ).fetchall()
        return sorted((self._delivery(r) for r in rows), key=lambda d: (not d.urgent, d.id))

    def finish(self, attempt: AttemptRow, status: DeliveryStatus, *,
               next_attempt_at: datetime | None = None,
               fallback: tuple[str, str | None] | None = None) -> int | None:
        """Record one attempt and move its row; with ``fallback`` queue the next channel.

        Only a row still leased by this worker moves: if the lease expired and another
        worker took the row over, this late answer is kept as an attempt but changes
        nothing else. Answers the new fallback row's id.
        """
        with self._tx() as db:
            return self._finish(db, attempt, status, next_attempt_at, fallback)

    def finish_many(self, outcomes: Sequence[Outcome]) -> list[int | None]:
        """``finish`` for many attempts in one transaction (the worker records its outcomes
        in batches: one commit per batch instead of one per message). Answers each new
        fallback row's id, in order."""
        plain = [o for o in outcomes if o.fallback is None]
        with self._tx() as db:
            # the common case (no fallback to queue) as two statements for the whole batch
            attempts = [_attempt_params(o.attempt) for o in plain]
            moves = [_move_params(o.attempt, o.status, o.next_attempt_at) for o in plain]
            if self._pg and plain:
                db.execute(_INSERT_ATTEMPTS_PG, [_rows_json(attempts).decode()])
                db.execute(_MOVE_ROWS_PG, [_rows_json(moves).decode()])
            else:
                db.conn.executemany(_INSERT_ATTEMPT, attempts)
                db.conn.executemany(_MOVE_ROW, moves)
            return [None if o.fallback is None else
                    self._finish(db, o.attempt, o.status, o.next_attempt_at, o.fallback)
                    for o in outcomes]

    def _finish(self, db: Database, a: AttemptRow, status: DeliveryStatus,
                next_attempt_at: datetime | None,
                fallback: tuple[str, str | None] | None) -> int | None:
        db.execute(_INSERT_ATTEMPT, _attempt_params(a))
        cur = db.execute(_MOVE_ROW, _move_params(a, status, next_attempt_at))
        if cur.rowcount != 1 or fallback is None:
            return None
        row = db.execute("SELECT notice_id, customer_id, urgent FROM deliveries "
                         "WHERE id = ?", (a.delivery_id,)).fetchone()
        channel, address = fallback
        new = db.execute(
            "INSERT OR IGNORE INTO deliveries (notice_id, customer_id, channel, address, "
            "status, urgent, queued_at, next_attempt_at) "
            "VALUES (?, ?, ?, ?, 'queued', ?, ?, ?) RETURNING id",
            (row[0], row[1], channel, address, row[2], to_db(a.finished_at),
             to_db(a.finished_at))).fetchone()
        return None if new is None else int(new[0])

    def delivery(self, delivery_id: int) -> Delivery | None:
        rows = self._rows(f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE id = ?",
                          (delivery_id,))
        return self._delivery(rows[0]) if rows else None

    def deliveries(self, notice_ids: Sequence[str]) -> list[Delivery]:
        if not notice_ids:
            return []
        marks = ",".join("?" for _ in notice_ids)
        rows = self._rows(f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE notice_id IN "
                          f"({marks}) ORDER BY customer_id, id", tuple(notice_ids))
        return [self._delivery(r) for r in rows]

    def attempts(self, notice_ids: Sequence[str]) -> list[AttemptRow]:
        if not notice_ids:
            return []
        marks = ",".join("?" for _ in notice_ids)
        rows = self._rows(
            "SELECT a.delivery_id, a.attempt, a.worker, a.started_at, a.finished_at, a.ok, "
            "a.answer, a.error FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id "
            f"WHERE d.notice_id IN ({marks}) ORDER BY a.delivery_id, a.id", tuple(notice_ids))
        return [AttemptRow(delivery_id=r[0], attempt=r[1], worker=r[2],
                           started_at=from_db(r[3]), finished_at=from_db(r[4]), ok=bool(r[5]),
                           answer=r[6], error=r[7]) for r in rows]

    def mark_delivered(self, delivery_id: int, at: datetime, detail: str) -> bool:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE deliveries SET delivered_at = COALESCE(delivered_at, ?), "
                "answer = CASE WHEN ? = '' THEN answer ELSE answer || ' | DLR: ' || ? END "
                "WHERE id = ? AND status = 'sent'", (to_db(at), detail, detail, delivery_id))
            return cur.rowcount == 1

    def reopen_failed_receipt(self, delivery_id: int, detail: str,
                              fallback: tuple[str, str | None] | None, at: datetime) -> None:
        """A gateway reported non-delivery after accepting: fall back like a failed send."""
        with self._tx() as db:
            db.execute("UPDATE deliveries SET status = ?, error = ? WHERE id = ? AND "
                       "status = 'sent'",
                       ("fallback" if fallback else "failed", f"DLR: {detail}", delivery_id))
            if fallback is not None:
                row = db.execute("SELECT notice_id, customer_id, urgent FROM deliveries "
                                 "WHERE id = ?", (delivery_id,)).fetchone()
                db.execute(
                    "INSERT OR IGNORE INTO deliveries (notice_id, customer_id, channel, "
                    "address, status, urgent, queued_at, next_attempt_at) "
                    "VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)",
                    (row[0], row[1], fallback[0], fallback[1], row[2], to_db(at), to_db(at)))

    def status_counts(self, notice_id: str) -> dict[str, int]:
        rows = self._rows("SELECT status, count(*) FROM deliveries WHERE notice_id = ? "
                          "GROUP BY status", (notice_id,))
        return {r[0]: r[1] for r in rows}

    def due_count(self, now: datetime) -> int:
        """Deliveries the outbox owes at ``now``: queued and due, or being sent.

        Why not every queued one: a message held for the end of quiet hours or for its
        retry time is not late. Counted as backlog, it read as an outbox that falls behind
        every night (and kept a caller waiting for an empty outbox until morning).
        """
        rows = self._rows("SELECT count(*) FROM deliveries WHERE status = 'sending' OR "
                          "(status = 'queued' AND next_attempt_at <= ?)", (to_db(now),))
        return int(rows[0][0])

    def next_due(self) -> datetime | None:
        rows = self._rows("SELECT min(CASE WHEN status = 'queued' THEN next_attempt_at "
                          "ELSE claimed_until END) FROM deliveries "
                          "WHERE status IN ('queued', 'sending')")
        return _from(rows[0][0])

    # --- tasks --------------------------------------------------------------------
    _TASK_COLUMNS: Final = ("id, outage_id, kind, status, created_at, title, proof_required, "
                            "customer_id, address, notice_id, done_at, proof")

    @staticmethod
    def _task(r: Row) -> OutageTask:
        return OutageTask(id=r[0], outage_id=r[1], kind=TaskKind(r[2]), status=TaskStatus(r[3]),
                          created_at=from_db(r[4]), title=r[5], proof_required=r[6],
                          customer_id=r[7], address=r[8], notice_id=r[9], done_at=_from(r[10]),
                          proof=r[11])

    def insert_task(self, task: OutageTask, dedupe_key: str) -> OutageTask:
        """Create the task once per ``dedupe_key``; answers the stored task either way."""
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO outage_tasks (id, outage_id, kind, status, created_at, "
                "title, proof_required, customer_id, address, notice_id, dedupe_key) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (task.id, task.outage_id, task.kind, task.status, to_db(task.created_at),
                 task.title, task.proof_required, task.customer_id, task.address,
                 task.notice_id, dedupe_key))
            row = db.execute(f"SELECT {self._TASK_COLUMNS} FROM outage_tasks "
                             "WHERE dedupe_key = ?", (dedupe_key,)).fetchone()
        return self._task(row)

    def tasks(self, outage_id: str, kind: TaskKind | None = None) -> list[OutageTask]:
        extra, params = ("AND kind = ?", (outage_id, str(kind))) if kind else ("", (outage_id,))
        rows = self._rows(f"SELECT {self._TASK_COLUMNS} FROM outage_tasks WHERE outage_id = ? "
                          f"{extra} ORDER BY created_at, id", params)
        return [self._task(r) for r in rows]

    def task_page(self, outage_id: str, kind: TaskKind | None, after: tuple[str, str] | None,
                  limit: int) -> list[OutageTask]:
        """Up to ``limit`` of the outage's tasks (of ``kind``, or all), oldest first,
        keyset-paged on ``(created_at, id)`` after ``after``: a range of
        ``outage_tasks_outage_order`` (or ``outage_tasks_kind_order``), so a page of an
        outage with tens of thousands of door tasks costs the same at any depth."""
        sql, params = self.task_page_sql(outage_id, kind, after, limit)
        return [self._task(r) for r in self._rows(sql, params)]

    def task_page_sql(self, outage_id: str, kind: TaskKind | None,
                      after: tuple[str, str] | None, limit: int) -> tuple[str, list[object]]:
        """The statement ``task_page`` runs (tests read its plan with EXPLAIN)."""
        where, params = ["outage_id = ?"], [outage_id]
        if kind is not None:
            where.append("kind = ?")
            params.append(str(kind))
        if after is not None:
            where.append("(created_at, id) > (?, ?)")
            params.extend(after)
        return (f"SELECT {self._TASK_COLUMNS} FROM outage_tasks WHERE {' AND '.join(where)} "
                "ORDER BY created_at, id LIMIT ?", [*params, limit])

    def task_count(self, outage_id: str, kind: TaskKind) -> int:
        """How many tasks of ``kind`` the outage has (an index count, no rows read)."""
        rows = self._rows("SELECT count(*) FROM outage_tasks WHERE outage_id = ? AND kind = ?",
                          (outage_id, str(kind)))
        return int(rows[0][0])

    def task(self, task_id: str) -> OutageTask | None:
        rows = self._rows(f"SELECT {self._TASK_COLUMNS} FROM outage_tasks WHERE id = ?",
                          (task_id,))
        return self._task(rows[0]) if rows else None

    def complete_task(self, task_id: str, at: datetime, proof: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE outage_tasks SET status = 'done', done_at = ?, proof = ? "
                       "WHERE id = ?", (to_db(at), proof, task_id))
            db.execute("UPDATE deliveries SET delivered_at = COALESCE(delivered_at, ?) "
                       "WHERE channel = 'door' AND answer = ?", (to_db(at), f"task {task_id}"))
