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


@migrations()
def m002_devices_mutations_attachments(db: Database) -> None:
    """Per-device sync state, the exactly-once mutation ledger, and attachment uploads.

    ``sync_mutations`` keeps every mutation's outcome so that a repeated push (lost
    response, duplicated request) gets the same answer without running anything again.
    """
    db.executescript(
        """
        CREATE TABLE sync_devices (
            device_id TEXT PRIMARY KEY,
            last_mutation_id INTEGER NOT NULL DEFAULT 0,
            last_push_at TEXT,
            last_pull_at TEXT,
            checkpoint INTEGER NOT NULL DEFAULT 0,
            checkpoint_at TEXT,
            clock_skew_s REAL
        );
        CREATE TABLE sync_mutations (
            device_id TEXT NOT NULL,
            mutation_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            work_order_id TEXT,
            outcome TEXT NOT NULL
                CHECK (outcome IN ('applied','merged','conflict','rejected')),
            reason_code TEXT,
            detail TEXT NOT NULL DEFAULT '',
            review_id INTEGER,
            device_time TEXT NOT NULL,
            server_time TEXT NOT NULL,
            PRIMARY KEY (device_id, mutation_id)
        ) WITHOUT ROWID;
        CREATE INDEX sync_mutations_wo ON sync_mutations(work_order_id);
        CREATE TABLE sync_attachments (
            sha256 TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            content_type TEXT NOT NULL,
            received INTEGER NOT NULL DEFAULT 0,
            complete INTEGER NOT NULL DEFAULT 0,
            device_id TEXT,
            created_at TEXT NOT NULL,
            completed_at TEXT
        );
        """
    )


@migrations()
def m003_attachment_owner(db: Database) -> None:
    """An upload belongs to the device (and order) that declared it; idle partials expire.

    ``updated_at`` is the last declaration or chunk: the clean-up removes incomplete
    uploads idle longer than the configured time, with their partial files.
    """
    db.executescript(
        """
        ALTER TABLE sync_attachments ADD COLUMN work_order_id TEXT;
        ALTER TABLE sync_attachments ADD COLUMN updated_at TEXT;
        UPDATE sync_attachments SET updated_at = COALESCE(completed_at, created_at);
        CREATE INDEX sync_attachments_device ON sync_attachments(device_id, complete);
        CREATE INDEX sync_attachments_order ON sync_attachments(work_order_id);
        CREATE INDEX sync_attachments_idle ON sync_attachments(complete, updated_at);
        """
    )


@migrations()
def m004_device_epochs(db: Database) -> None:
    """Device epochs: the install id a token's device pushes with, and each mutation's
    content hash, so a tablet that restarts its numbering is told instead of answered
    "applied" from another install's ledger."""
    db.executescript(
        """
        ALTER TABLE sync_devices ADD COLUMN install_id TEXT;
        ALTER TABLE sync_mutations ADD COLUMN content_hash TEXT;
        """
    )
