"""SQL for console sessions and passwords."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from server.accounts.model import Principal, Role
from server.timefmt import to_db


class SessionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, id_hash: str, csrf: str, user_id: str, device_id: str | None,
            at: datetime, expires: datetime) -> None:
        """Open a session; sessions that ended or expired a day ago are purged here."""
        self.db.execute("DELETE FROM console_sessions WHERE expires_at < ? OR ended_at < ?",
                        [to_db(at - timedelta(days=1))] * 2)
        self.db.execute(
            "INSERT INTO console_sessions (id_hash, csrf_token, user_id, device_id, created_at, "
            "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            [id_hash, csrf, user_id, device_id, to_db(at), to_db(expires)],
        )

    def resolve(self, id_hash: str, now: datetime) -> tuple[Principal, str] | None:
        """The live session's principal and CSRF token: unexpired, not ended, user active,
        and (when it was opened with a device token) the device not revoked since."""
        row = self.db.execute(
            "SELECT u.id, u.name, u.role, u.crew_id, u.unit, s.device_id, s.csrf_token "
            "FROM console_sessions s JOIN users u ON u.id = s.user_id "
            "LEFT JOIN devices d ON d.id = s.device_id "
            "WHERE s.id_hash = ? AND s.ended_at IS NULL AND s.expires_at > ? AND u.active = 1 "
            "AND (s.device_id IS NULL OR d.revoked_at IS NULL)",
            [id_hash, to_db(now)],
        ).fetchone()
        if row is None:
            return None
        return (Principal(user_id=row[0], name=row[1], role=Role(row[2]), crew_id=row[3],
                          unit=row[4], device_id=row[5]), row[6])

    def end(self, id_hash: str, at: datetime) -> None:
        self.db.execute("UPDATE console_sessions SET ended_at = ? WHERE id_hash = ? "
                        "AND ended_at IS NULL", [to_db(at), id_hash])

    def set_password(self, user_id: str, password_hash: str, at: datetime) -> None:
        self.db.execute(
            "INSERT INTO console_logins (user_id, password_hash, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(user_id) DO UPDATE SET password_hash = excluded.password_hash, "
            "updated_at = excluded.updated_at",
            [user_id, password_hash, to_db(at)],
        )

    def password_hash(self, user_id: str) -> str | None:
        row = self.db.execute(
            "SELECT l.password_hash FROM console_logins l JOIN users u ON u.id = l.user_id "
            "WHERE l.user_id = ? AND u.active = 1", [user_id]).fetchone()
        return None if row is None else str(row[0])
