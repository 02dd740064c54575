"""Schema of the connection service (用水报装).

Append-only: a released migration is never edited; a change is a new function.
Times are UTC text (``server.timefmt``), so string order is time order. The stage
deadlines are rows of ``work_order_deadlines`` of the connection's work order.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("connections")


@migrations()
def m001_connections(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE connections (
            id TEXT PRIMARY KEY,
            number TEXT NOT NULL UNIQUE,
            project_type TEXT NOT NULL,
            channel TEXT NOT NULL,
            stage TEXT NOT NULL,
            applicant TEXT NOT NULL,
            phone TEXT NOT NULL,
            phone_last4 TEXT NOT NULL,
            address TEXT NOT NULL,
            lon REAL NOT NULL,
            lat REAL NOT NULL,
            service_dn_mm INTEGER,
            notes TEXT NOT NULL DEFAULT '',
            profile TEXT NOT NULL,
            applied_at TEXT NOT NULL,
            accepted_at TEXT,
            unit TEXT NOT NULL DEFAULT '',
            crew_id TEXT,
            work_order_id TEXT REFERENCES work_orders(id),
            customer_id TEXT REFERENCES customers(id),
            documents TEXT NOT NULL DEFAULT '[]',
            missing_documents TEXT NOT NULL DEFAULT '[]',
            documents_due_at TEXT,
            documents_completed_at TEXT,
            committed_limit REAL,
            appointment_at TEXT,
            tie_in TEXT,
            stage_times TEXT NOT NULL DEFAULT '{}',
            meter_no TEXT,
            satisfied INTEGER,
            cancel_reason TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX connections_work_order ON connections(work_order_id);
        CREATE INDEX connections_stage ON connections(stage, applied_at);
        """
    )
