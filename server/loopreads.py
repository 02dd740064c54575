"""Store reads awaited on the event loop (issue 19), whichever store is open.

The few reads made on the loop itself (authentication, once per request) blocked it for a
round trip on PostgreSQL. ``PgDatabase`` answers ``fetch_keyed_async`` from connections of
the serving loop's own (opened at start-up), one statement for the keys of every request
waiting at once; SQLite directly (microseconds, in process); these functions pick
whichever the open store has. Kept apart from ``server.db`` because the
stores import it, and ``server.db`` imports every package's migrations.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Final

from sqlite_utils import Database

#: where a keyed read's SQL names its key's condition (``fetch_keyed_async``)
KEYS: Final = "{keys}"


def fetch_keyed(db: Database, sql: str, fixed: Sequence[Any], key: Hashable
                ) -> tuple[Any, ...] | None:
    """``fetch_keyed_async``'s blocking twin, for callers off the loop (CLI, console
    sign-in in a worker thread, tests): ``column = ?`` for this key alone, either store."""
    row: tuple[Any, ...] | None = db.execute(sql.replace(KEYS, "= ?"),
                                             [*fixed, key]).fetchone()
    return row


async def fetch_keyed_async(db: Database, sql: str, fixed: Sequence[Any], key: Hashable
                            ) -> tuple[Any, ...] | None:
    """The row of ``key`` (its first column) read by ``sql`` after ``fixed`` parameters,
    awaited on the running loop; ``sql`` writes ``column {keys}`` where the key goes.

    On PostgreSQL the keys of concurrent requests share one statement
    (``PgDatabase.fetch_keyed_async``: ``column = ANY(?)``, only reads sent after each
    request arrived); on SQLite, ``fetch_keyed`` directly (microseconds, in process)."""
    keyed = getattr(db, "fetch_keyed_async", None)
    if keyed is None:
        return fetch_keyed(db, sql, fixed, key)
    found: tuple[Any, ...] | None = await keyed(sql.replace(KEYS, "= ANY(?)"), fixed, key)
    return found


async def open_loop_connections(db: Database) -> None:
    """Open the running loop's store connections (``fetch_keyed_async``); app start-up."""
    opener = getattr(db, "open_async", None)
    if opener is not None:
        await opener()


async def close_loop_connections(db: Database) -> None:
    """Close what ``open_loop_connections`` opened; app shutdown, on the same loop."""
    closer = getattr(db, "close_async", None)
    if closer is not None:
        await closer()
