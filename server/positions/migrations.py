"""Schema of crew positions (append-only migrations)."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("positions")


@migrations()
def m001_crew_positions(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE crew_positions (
            device_id TEXT NOT NULL,
            user_id TEXT NOT NULL REFERENCES users(id),
            crew_id TEXT,
            lon REAL NOT NULL,
            lat REAL NOT NULL,
            accuracy_m REAL,
            taken_at TEXT NOT NULL,
            received_at TEXT NOT NULL,
            PRIMARY KEY (device_id, taken_at)
        );
        CREATE INDEX crew_positions_taken ON crew_positions(taken_at);
        """
    )
