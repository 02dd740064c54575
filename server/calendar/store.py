"""SQL for imported holiday notices (``calendar_years``, created by server's migrations)."""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlite_utils import Database

from server.policy.years import YearNotice
from server.timefmt import to_db

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(YearNotice).decode


class CalendarStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def notices(self) -> list[YearNotice]:
        """Every imported notice, oldest year first."""
        rows = self.db.execute("SELECT body FROM calendar_years ORDER BY year").fetchall()
        return [_decode(r[0]) for r in rows]

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM calendar_years").fetchone()[0])

    def save(self, notice: YearNotice, at: datetime, by: str | None) -> None:
        """Store (or replace, for a corrected notice) one year; call inside the write."""
        self.db.execute(
            "INSERT INTO calendar_years (year, notice, body, imported_at, imported_by) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(year) DO UPDATE SET notice = excluded.notice, "
            "body = excluded.body, imported_at = excluded.imported_at, "
            "imported_by = excluded.imported_by",
            [notice.year, notice.notice, _encode(notice).decode(), to_db(at), by],
        )
