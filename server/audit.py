"""The audit trail: who changed what, from which device, at server and device time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

import msgspec
from sqlite_utils import Database

from core.store import insert_rows
from server.timefmt import from_db, opt_from_db, opt_to_db, to_db

_encode = msgspec.json.Encoder().encode


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    #: the entry's id (increasing)
    id: int
    #: what kind of record changed (work order, outage, ticket...)
    entity: str
    #: the record's id
    entity_id: str
    #: what was done (created, transition, assigned...)
    action: str
    #: the user who did it, if a user did
    actor_user_id: str | None
    #: the device it came from (shown to admins only)
    device_id: str | None
    #: when the server recorded it (UTC)
    server_time: datetime
    #: the device's clock when it was done, as sent
    device_time: datetime | None
    #: what changed: the action's own facts
    detail: dict[str, object]


#: the columns ``record_many`` writes
_COLUMNS: Final = ("entity", "entity_id", "action", "actor_user_id", "device_id", "server_time",
                   "device_time", "detail")
#: a LIMIT no list reaches (PostgreSQL has no ``LIMIT -1``)
_NO_LIMIT: Final = 2**62


class AuditStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self,
        entity: str,
        entity_id: str,
        action: str,
        *,
        actor_user_id: str | None,
        device_id: str | None,
        server_time: datetime,
        device_time: datetime | None,
        detail: Mapping[str, object] | None = None,
    ) -> None:
        """Append one entry; call inside the write's transaction."""
        self.db.execute(
            "INSERT INTO audit (entity, entity_id, action, actor_user_id, device_id, "
            "server_time, device_time, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [entity, entity_id, action, actor_user_id, device_id, to_db(server_time),
             opt_to_db(device_time), _encode(dict(detail or {})).decode()],
        )

    def record_many(self, entity: str, entries: Sequence[tuple[str, str, str | None,
                                                                 str | None, datetime,
                                                                 datetime | None,
                                                                 Mapping[str, object]]]
                    ) -> None:
        """Append entries of ``entity``, each (entity id, action, actor user id, device id,
        server time, device time, detail), in order (ids increase as in ``record``), in
        multi-row statements: a bulk import's trail costs no statement per record."""
        insert_rows(self.db, "audit", _COLUMNS, [
            (entity, entity_id, action, user_id, device_id, to_db(server_time),
             opt_to_db(device_time), _encode(dict(detail)).decode())
            for entity_id, action, user_id, device_id, server_time, device_time, detail
            in entries])

    def history(self, entity: str, entity_id: str) -> list[AuditEntry]:
        return self.history_page(entity, entity_id, None, None)

    def history_page(self, entity: str, entity_id: str, after_id: int | None,
                     limit: int | None) -> list[AuditEntry]:
        """The record's entries oldest first (by id), after ``after_id``, at most
        ``limit`` (None: all). A range of ``audit_entity``: on SQLite the index carries
        the rowid ``id``; PostgreSQL sorts one record's entries."""
        rows = self.db.execute(
            "SELECT id, entity, entity_id, action, actor_user_id, device_id, server_time, "
            "device_time, detail FROM audit WHERE entity = ? AND entity_id = ? AND id > ? "
            "ORDER BY id LIMIT ?",
            [entity, entity_id, after_id or 0, _NO_LIMIT if limit is None else limit],
        )
        return [
            AuditEntry(id=r[0], entity=r[1], entity_id=r[2], action=r[3], actor_user_id=r[4],
                       device_id=r[5], server_time=from_db(r[6]),
                       device_time=opt_from_db(r[7]), detail=msgspec.json.decode(r[8]))
            for r in rows
        ]
