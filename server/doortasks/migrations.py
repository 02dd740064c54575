"""Schema of door-task assignments (append-only migrations)."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("doortasks")


@migrations()
def m001_assignments(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE door_task_assignments (
            task_id TEXT PRIMARY KEY REFERENCES outage_tasks(id),
            crew_id TEXT NOT NULL REFERENCES crews(id),
            assigned_at TEXT NOT NULL,
            assigned_by TEXT NOT NULL
        );
        CREATE INDEX door_task_assignments_crew ON door_task_assignments(crew_id);
        """
    )
