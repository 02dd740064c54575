"""SQL of the throttles: one small table, one row per (kind, key), shared by all processes.

``kind`` names the throttle (``address``: requests without a valid token per client
address; ``lookup``: wrong public-lookup digits per number and address); ``key`` is what
it counts. A row is updated in place, never appended, and is deleted once past
``forget_at``, so the table holds at most the keys seen within their windows, capped per
kind (``prune``).
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlite_utils import Database

from core.time import from_db, opt_to_db, to_db


class ThrottleRow(msgspec.Struct, frozen=True, kw_only=True):
    #: the window's start (a rate) or the first counted failure (a lock-out)
    started_at: datetime
    hits: int
    locked_until: datetime | None = None
    #: after this the row means nothing (an ended window, an idle lock-out)
    forget_at: datetime


class ThrottleStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, kind: str, key: str) -> ThrottleRow | None:
        row = self.db.execute(
            "SELECT started_at, hits, locked_until, forget_at FROM throttles "
            "WHERE kind = ? AND key = ?", [kind, key]).fetchone()
        if row is None:
            return None
        return ThrottleRow(started_at=from_db(str(row[0])), hits=int(row[1]),
                           locked_until=None if row[2] is None else from_db(str(row[2])),
                           forget_at=from_db(str(row[3])))

    def put(self, kind: str, key: str, row: ThrottleRow) -> None:
        self.db.execute(
            "INSERT INTO throttles (kind, key, started_at, hits, locked_until, forget_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET "
            "started_at = excluded.started_at, hits = excluded.hits, "
            "locked_until = excluded.locked_until, forget_at = excluded.forget_at",
            [kind, key, to_db(row.started_at), row.hits, opt_to_db(row.locked_until),
             to_db(row.forget_at)])

    def clear(self, kind: str, key: str) -> None:
        self.db.execute("DELETE FROM throttles WHERE kind = ? AND key = ?", [kind, key])

    def prune(self, kind: str, now: datetime, max_rows: int) -> None:
        """Delete the rows of ``kind`` past ``forget_at``; then, over ``max_rows``, the
        ones that would be forgotten soonest (a flood from many addresses stays bounded)."""
        self.db.execute("DELETE FROM throttles WHERE kind = ? AND forget_at <= ?",
                        [kind, to_db(now)])
        count = int(self.db.execute("SELECT COUNT(*) FROM throttles WHERE kind = ?",
                                    [kind]).fetchone()[0])
        if count > max_rows:
            self.db.execute(
                "DELETE FROM throttles WHERE kind = ? AND key IN (SELECT key FROM throttles "
                "WHERE kind = ? ORDER BY forget_at LIMIT ?)", [kind, kind, count - max_rows])

    def count(self, kind: str) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM throttles WHERE kind = ?",
                                   [kind]).fetchone()[0])
