"""Schema of the sync layer: the change log every synced write appends to."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("sync")


@migrations()
def m001_changes(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE changes (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            entity TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            op TEXT NOT NULL CHECK (op IN ('upsert','delete','remove')),
            scope TEXT NOT NULL,
            server_time TEXT NOT NULL
        );
        CREATE INDEX changes_scope_seq ON changes(scope, seq);
        CREATE INDEX changes_entity ON changes(entity, entity_id);
        """
    )
