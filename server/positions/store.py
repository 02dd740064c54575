"""SQL for crew positions: one row per fix, latest per device, purge by age."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlite_utils import Database

from server.timefmt import from_db, to_db

Fix = tuple[str, str, str | None, float, float, float | None, datetime, datetime]


class PositionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, rows: Iterable[Fix]) -> int:
        """Insert fixes (device, user, crew, lon, lat, accuracy, taken, received).

        A fix a device sends twice (a retried push) is kept once: (device, taken_at) is
        the key.
        """
        n = 0
        for device_id, user_id, crew_id, lon, lat, acc, taken, received in rows:
            cur = self.db.execute(
                "INSERT OR IGNORE INTO crew_positions (device_id, user_id, crew_id, lon, lat, "
                "accuracy_m, taken_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [device_id, user_id, crew_id, lon, lat, acc, to_db(taken), to_db(received)],
            )
            n += cur.rowcount
        return n

    def latest(self, since: datetime) -> list[tuple[str, str, str, str, float, float,
                                                    float | None, datetime, datetime]]:
        """The newest fix per device taken at or after ``since``, with the user's name.

        Rows: (crew, user, user name, device, lon, lat, accuracy, taken, received).
        """
        rows = self.db.execute(
            "SELECT p.crew_id, p.user_id, u.name, p.device_id, p.lon, p.lat, p.accuracy_m, "
            "p.taken_at, p.received_at FROM crew_positions p JOIN users u ON u.id = p.user_id "
            "WHERE p.taken_at >= ? AND p.taken_at = (SELECT MAX(q.taken_at) FROM crew_positions q "
            "WHERE q.device_id = p.device_id) ORDER BY p.crew_id, p.user_id",
            [to_db(since)],
        ).fetchall()
        return [(r[0] or "", r[1], r[2], r[3], r[4], r[5], r[6], from_db(r[7]), from_db(r[8]))
                for r in rows]

    def track(self, crew_id: str, since: datetime, until: datetime, limit: int
              ) -> list[tuple[str, str, str, float, float, float | None, datetime]]:
        """Fixes of ``crew_id`` taken in ``[since, until)``, oldest first, at most ``limit``.

        Rows: (user, user name, device, lon, lat, accuracy, taken).
        """
        rows = self.db.execute(
            "SELECT p.user_id, u.name, p.device_id, p.lon, p.lat, p.accuracy_m, p.taken_at "
            "FROM crew_positions p JOIN users u ON u.id = p.user_id WHERE p.crew_id = ? "
            "AND p.taken_at >= ? AND p.taken_at < ? ORDER BY p.taken_at, p.device_id LIMIT ?",
            [crew_id, to_db(since), to_db(until), limit]).fetchall()
        return [(r[0], r[1], r[2], r[3], r[4], r[5], from_db(r[6])) for r in rows]

    def purge_before(self, cutoff: datetime) -> int:
        cur = self.db.execute("DELETE FROM crew_positions WHERE taken_at < ?", [to_db(cutoff)])
        return cur.rowcount

    def count(self) -> int:
        row = self.db.execute("SELECT COUNT(*) FROM crew_positions").fetchone()
        return int(row[0])
