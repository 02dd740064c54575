"""Opening the SQLite file and bringing its schema up to date.

One file holds every package's tables. Each package owns a named
``sqlite_utils.Migrations`` set; they are applied in dependency order at start-up and by
``waterops migrate``. ``_sqlite_migrations`` records what was applied (the schema version).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database, Migrations

from geo.migrations import migrations as geo_migrations
from notifications.migrations import migrations as notification_migrations
from server.connections.migrations import migrations as connection_migrations
from server.console.migrations import migrations as console_migrations
from server.doortasks.migrations import migrations as doortask_migrations
from server.migrations import migrations as server_migrations
from server.positions.migrations import migrations as position_migrations
from server.tickets.migrations import migrations as ticket_migrations
from sync.migrations import migrations as sync_migrations

#: Applied in this order: server's tables first, because the others refer to them.
MIGRATION_SETS: tuple[Migrations, ...] = (
    server_migrations,
    sync_migrations,
    geo_migrations,
    notification_migrations,
    ticket_migrations,
    connection_migrations,
    console_migrations,
    position_migrations,
    doortask_migrations,
)


def open_database(path: str | Path, *, busy_timeout_ms: int = 10_000) -> Database:
    """Open (creating if needed) the store with WAL, foreign keys and a busy timeout.

    ``check_same_thread=False`` because Litestar may hand a request to a worker thread;
    callers serialise writes with one writer connection (see ``server.app``).
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    db = Database(conn)
    if str(path) != ":memory:":
        db.enable_wal()
    return db


def migrate(db: Database) -> list[str]:
    """Apply every pending migration; returns the names applied (empty when up to date)."""
    applied: list[str] = []
    for mset in MIGRATION_SETS:
        pending = [f"{mset.name}:{m.name}" for m in mset.pending(db)]
        mset.apply(db)
        applied.extend(pending)
    return applied


def schema_version(db: Database) -> dict[str, list[str]]:
    """The applied migrations per set: what ``waterops migrate --status`` shows."""
    return {mset.name: [m.name for m in mset.applied(db)] for mset in MIGRATION_SETS}
