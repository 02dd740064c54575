"""SQL for console sessions and passwords."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from sqlite_utils import Database

from server.accounts.model import Principal, Role
from server.loopreads import fetch_keyed_async
from server.timefmt import to_db

#: a live session's principal and CSRF token and, in the same statement, one
#: ``list_versions`` counter (NULL for no name) (``SessionStore.resolve_async``)
_LIVE_SESSION: Final = (
    "SELECT s.id_hash, u.id, u.name, u.role, u.crew_id, u.unit, s.device_id, s.csrf_token, "
    "(SELECT v.version FROM list_versions v WHERE v.name = ?), s.expires_at "
    "FROM console_sessions s JOIN users u ON u.id = s.user_id "
    "LEFT JOIN devices d ON d.id = s.device_id "
    "WHERE s.ended_at IS NULL AND u.active = 1 "
    "AND (s.device_id IS NULL OR d.revoked_at IS NULL) AND s.id_hash {keys}")


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

    async def resolve_async(self, id_hash: str, now: datetime, list_name: str | None = None
                            ) -> tuple[Principal, str, int | None] | None:
        """The live session's principal and CSRF token: unexpired, not ended, user active,
        and (when it was opened with a device token) the device not revoked since; with
        the version of the list ``list_name`` (None: no name, or no such counter), read
        in the same statement as ``AccountStore.principal_and_list_version`` does for a
        token, so a console's kept list page costs one round trip too.

        Awaited on the event loop (``server.loopreads.fetch_keyed_async``): it authenticates
        every console request, and on PostgreSQL a blocking round trip there stalled the
        loop's other requests (issue 19). No blocking twin: nothing off the loop needs it."""
        row = await fetch_keyed_async(self.db, _LIVE_SESSION, [list_name], id_hash)
        # expiry is judged here, at this request's ``now``: the statement is shared by
        # every console request waiting at once (``fetch_keyed_async``), each its own now
        if row is None or str(row[9]) <= to_db(now):
            return None
        return _live(row[1:9])

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


def _live(row: tuple[Any, ...] | None) -> tuple[Principal, str, int | None] | None:
    if row is None:
        return None
    return (Principal(user_id=row[0], name=row[1], role=Role(row[2]), crew_id=row[3],
                      unit=row[4], device_id=row[5]), str(row[6]),
            None if row[7] is None else int(row[7]))
