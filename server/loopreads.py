"""Store reads awaited on the event loop (issue 19), whichever store is open.

The few reads made on the loop itself (authentication, once per request) blocked it for a
round trip on PostgreSQL. ``PgDatabase`` answers ``fetchone_async`` from connections of the
serving loop's own (opened at start-up), SQLite directly (microseconds, in process); these
functions pick whichever the open store has. Kept apart from ``server.db`` because the
stores import it, and ``server.db`` imports every package's migrations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database


async def fetchone_async(db: Database, sql: str, parameters: Sequence[Any] = ()
                         ) -> tuple[Any, ...] | None:
    """The first row of one read, awaited on the running loop: without blocking it on
    PostgreSQL once the app opened the loop's connections (``PgDatabase.fetchone_async``),
    directly on SQLite. For the few reads made on the event loop (authentication)."""
    read = getattr(db, "fetchone_async", None)
    if read is None:
        row: tuple[Any, ...] | None = db.execute(sql, list(parameters)).fetchone()
        return row
    found: tuple[Any, ...] | None = await read(sql, parameters)
    return found


async def open_loop_connections(db: Database) -> None:
    """Open the running loop's store connections (``fetchone_async``); app start-up."""
    opener = getattr(db, "open_async", None)
    if opener is not None:
        await opener()


async def close_loop_connections(db: Database) -> None:
    """Close what ``open_loop_connections`` opened; app shutdown, on the same loop."""
    closer = getattr(db, "close_async", None)
    if closer is not None:
        await closer()
