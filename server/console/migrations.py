"""Schema of console sign-in: sessions and user passwords (append-only migrations)."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("console")


@migrations()
def m001_sessions(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE console_sessions (
            id_hash TEXT PRIMARY KEY,
            csrf_token TEXT NOT NULL,
            user_id TEXT NOT NULL REFERENCES users(id),
            device_id TEXT REFERENCES devices(id),
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            ended_at TEXT
        );
        CREATE INDEX console_sessions_user ON console_sessions(user_id);
        CREATE TABLE console_logins (
            user_id TEXT PRIMARY KEY REFERENCES users(id),
            password_hash TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        """
    )
