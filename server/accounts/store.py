"""SQL for users, crews and devices."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlite_utils import Database

from server.accounts.model import Crew, Device, Principal, Role, User
from server.loopreads import fetch_keyed, fetch_keyed_async
from server.timefmt import from_db, opt_from_db, to_db

#: the active user behind an unrevoked device token, the token's hash first; spelled for
#: one token or many (``server.loopreads.fetch_keyed[_async]``: on the loop, one statement
#: for every request waiting)
_PRINCIPAL_KEYED: Final = (
    "SELECT d.token_hash, u.id, u.name, u.role, u.crew_id, u.unit, d.id FROM devices d "
    "JOIN users u ON u.id = d.user_id "
    "WHERE d.revoked_at IS NULL AND u.active = 1 AND d.token_hash {keys}")
#: the same and, in the same statement, one ``list_versions`` counter
_PRINCIPAL_AND_VERSION_KEYED: Final = (
    "SELECT d.token_hash, u.id, u.name, u.role, u.crew_id, u.unit, d.id, "
    "(SELECT v.version FROM list_versions v WHERE v.name = ?) FROM devices d "
    "JOIN users u ON u.id = d.user_id "
    "WHERE d.revoked_at IS NULL AND u.active = 1 AND d.token_hash {keys}")


class AccountStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add_crew(self, crew: Crew) -> None:
        self.db.execute(
            "INSERT INTO crews (id, name, unit, supervisor_id) VALUES (?, ?, ?, ?)",
            [crew.id, crew.name, crew.unit, crew.supervisor_id],
        )

    def crew(self, crew_id: str) -> Crew | None:
        row = self.db.execute(
            "SELECT id, name, unit, supervisor_id FROM crews WHERE id = ?", [crew_id]
        ).fetchone()
        if row is None:
            return None
        return Crew(id=row[0], name=row[1], unit=row[2], supervisor_id=row[3])

    def crews(self, after: str | None = None, limit: int | None = None) -> list[Crew]:
        """By id; ``after``/``limit`` page them (keyset on the primary key; None: all)."""
        rows = self.db.execute(
            "SELECT id, name, unit, supervisor_id FROM crews WHERE id > ? ORDER BY id"
            + ("" if limit is None else " LIMIT ?"),
            [after or ""] + ([] if limit is None else [limit]))
        return [Crew(id=r[0], name=r[1], unit=r[2], supervisor_id=r[3]) for r in rows]

    def add_user(self, user: User, at: datetime) -> None:
        self.db.execute(
            "INSERT INTO users (id, name, role, crew_id, unit, phone, active, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [user.id, user.name, str(user.role), user.crew_id, user.unit, user.phone,
             int(user.active), to_db(at)],
        )

    def user(self, user_id: str) -> User | None:
        row = self.db.execute(
            "SELECT id, name, role, crew_id, unit, phone, active FROM users WHERE id = ?",
            [user_id],
        ).fetchone()
        if row is None:
            return None
        return User(id=row[0], name=row[1], role=Role(row[2]), crew_id=row[3], unit=row[4],
                    phone=row[5], active=bool(row[6]))

    def users(self, after: str | None = None, limit: int | None = None) -> list[User]:
        """By id; ``after``/``limit`` page them (keyset on the primary key; None: all)."""
        rows = self.db.execute(
            "SELECT id, name, role, crew_id, unit, phone, active FROM users WHERE id > ? "
            "ORDER BY id" + ("" if limit is None else " LIMIT ?"),
            [after or ""] + ([] if limit is None else [limit]))
        return [User(id=r[0], name=r[1], role=Role(r[2]), crew_id=r[3], unit=r[4], phone=r[5],
                     active=bool(r[6])) for r in rows]

    def add_device(self, device_id: str, user_id: str, label: str, token_hash: str,
                   at: datetime) -> None:
        self.db.execute(
            "INSERT INTO devices (id, user_id, label, token_hash, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [device_id, user_id, label, token_hash, to_db(at)],
        )

    def principal_for_token(self, token_hash: str) -> Principal | None:
        """The active user behind an unrevoked device token, or None. Blocking: for
        callers off the event loop (console sign-in in a worker thread, the CLI, bench)."""
        row = fetch_keyed(self.db, _PRINCIPAL_KEYED, [], token_hash)
        return None if row is None else _principal(row[1:])

    async def principal_for_token_async(self, token_hash: str) -> Principal | None:
        """``principal_for_token`` awaited on the event loop: what authenticates every
        request, so on PostgreSQL its round trip must not stall the loop's other requests
        (issue 19; ``server.loopreads.fetch_keyed_async``). The same statement, read anew on
        every request: a token revoked by any process is refused on its next request.
        Requests waiting at once share the statement (``fetch_keyed_async``), each
        reading after it arrived."""
        row = await fetch_keyed_async(self.db, _PRINCIPAL_KEYED, [], token_hash)
        return None if row is None else _principal(row[1:])

    def principal_and_list_version(self, token_hash: str, list_name: str
                                   ) -> tuple[Principal, int | None] | None:
        """``principal_for_token`` and, read in the same statement, the ``list_versions``
        counter ``list_name`` (migration m016; None when the row is missing).

        Why one statement: a list route answered from the page cache needs both the caller
        and the list's version, and on PostgreSQL each statement is a round trip that
        blocks the event loop (issue 19). One statement is also one snapshot, so the
        version is never older than the token check."""
        row = fetch_keyed(self.db, _PRINCIPAL_AND_VERSION_KEYED, [list_name], token_hash)
        return None if row is None else _with_version(row[1:])

    async def principal_and_list_version_async(self, token_hash: str, list_name: str
                                               ) -> tuple[Principal, int | None] | None:
        """``principal_and_list_version`` awaited on the event loop: on PostgreSQL the round
        trip no longer blocks the loop's other requests (``server.loopreads.fetch_keyed_async``)."""
        row = await fetch_keyed_async(self.db, _PRINCIPAL_AND_VERSION_KEYED, [list_name],
                                      token_hash)
        return None if row is None else _with_version(row[1:])

    def device_ids(self) -> list[str]:
        return [str(r[0]) for r in self.db.execute("SELECT id FROM devices ORDER BY id")]

    def device(self, device_id: str) -> Device | None:
        row = self.db.execute(
            "SELECT id, user_id, label, created_at, revoked_at, last_seen_at, clock_skew_s "
            "FROM devices WHERE id = ?",
            [device_id],
        ).fetchone()
        if row is None:
            return None
        return Device(id=row[0], user_id=row[1], label=row[2], created_at=from_db(row[3]),
                      revoked_at=opt_from_db(row[4]), last_seen_at=opt_from_db(row[5]),
                      clock_skew_s=row[6])

    def revoke_device(self, device_id: str, at: datetime) -> bool:
        cur = self.db.execute(
            "UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            [to_db(at), device_id],
        )
        return cur.rowcount > 0

    def touch_device(self, device_id: str, at: datetime, skew_s: float | None) -> None:
        self.db.execute(
            "UPDATE devices SET last_seen_at = ?, clock_skew_s = COALESCE(?, clock_skew_s) "
            "WHERE id = ?",
            [to_db(at), skew_s, device_id],
        )

    def members_of_crew(self, crew_id: str) -> list[User]:
        """The crew's active users (who a reminder to the crew reaches)."""
        rows = self.db.execute(
            "SELECT id, name, role, crew_id, unit, phone, active FROM users "
            "WHERE crew_id = ? AND active = 1 ORDER BY id", [crew_id],
        )
        return [User(id=r[0], name=r[1], role=Role(r[2]), crew_id=r[3], unit=r[4], phone=r[5],
                     active=bool(r[6])) for r in rows]

    def supervisors_of_unit(self, unit: str) -> list[User]:
        rows = self.db.execute(
            "SELECT id, name, role, crew_id, unit, phone, active FROM users "
            "WHERE unit = ? AND role = 'supervisor' AND active = 1 ORDER BY id",
            [unit],
        )
        return [User(id=r[0], name=r[1], role=Role(r[2]), crew_id=r[3], unit=r[4], phone=r[5],
                     active=bool(r[6])) for r in rows]



def _principal(row: tuple[Any, ...]) -> Principal:
    return Principal(user_id=row[0], name=row[1], role=Role(row[2]), crew_id=row[3],
                     unit=row[4], device_id=row[5])


def _with_version(row: tuple[Any, ...]) -> tuple[Principal, int | None]:
    return _principal(row), None if row[6] is None else int(row[6])
