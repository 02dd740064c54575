"""Opening the SQLite file and bringing its schema up to date.

One file holds every package's tables. Each package owns a named
``sqlite_utils.Migrations`` set; they are applied in dependency order at start-up and by
``waterops migrate``. ``_sqlite_migrations`` records what was applied (the schema version).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Generic, TypeVar

from sqlite_utils import Database, Migrations

from core.uow import UnitOfWork
from geo.migrations import migrations as geo_migrations
from notifications.migrations import migrations as notification_migrations
from server.authz.migrations import migrations as authz_migrations
from server.clock import Clock, system_clock
from server.connections.migrations import migrations as connection_migrations
from server.console.migrations import migrations as console_migrations
from server.doortasks.migrations import migrations as doortask_migrations
from server.intents.migrations import migrations as intents_migrations
from server.migrations import migrations as server_migrations
from server.positions.migrations import migrations as position_migrations
from server.settings import Settings
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
    authz_migrations,
    intents_migrations,
)


def split_statements(sql: str) -> Iterator[str]:
    """The complete SQL statements of a script, in order, stripped.

    A statement ends at a semicolon, but not every semicolon ends one (strings, comments,
    a trigger's body): SQLite's own ``complete_statement`` decides, asked only at each
    semicolon. Text after the last complete statement is yielded as it is.
    """
    start = 0
    for semicolon in re.finditer(";", sql):
        candidate = sql[start:semicolon.end()].strip()
        if sqlite3.complete_statement(candidate):
            yield candidate
            start = semicolon.end()
    if tail := sql[start:].strip():
        yield tail


class SqliteDatabase(Database):
    """A ``sqlite_utils.Database`` with one connection per thread and a unit of work.

    Handlers run in the thread pool, so each thread gets its own connection to the same
    WAL file: a reader never sees another thread's uncommitted writes and statements of
    two requests never interleave in one transaction. ``atomic()`` is the unit of work's
    transaction (``BEGIN IMMEDIATE``, change log derived at commit), so code written
    against plain sqlite-utils keeps its meaning.
    """

    def __init__(self, path: str, *, busy_timeout_ms: int, clock: Clock) -> None:
        self._closed = False
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self.uow = UnitOfWork(self, clock)
        super().__init__(self._connect())

    def executescript(self, sql: str) -> sqlite3.Cursor:
        """Run a script of statements inside the caller's transaction, as sqlite-utils does,
        but split at semicolons (``split_statements``): sqlite-utils re-joins the statement
        at every character, which made a fifth of every store's start-up (migrations)."""
        if not self.conn.in_transaction:
            return super().executescript(sql)
        cursor = self.conn.cursor()
        for statement in split_statements(sql):
            cursor.execute(statement)
        return cursor

    def _connect(self) -> sqlite3.Connection:
        # prepared statements: every store sends the same text each time, so a statement
        # cache larger than the number of distinct statements never re-prepares (push,
        # pull and the unit of work stay prepared; psycopg prepares after 5 uses itself)
        conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None,
                               cached_statements=1024)
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA recursive_triggers = on")
        with self._conns_lock:
            self._conns.append(conn)
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        held: ThreadConnection[sqlite3.Connection] | None = getattr(self._local, "held", None)
        if held is None:
            held = ThreadConnection(self._connect(), self._release)
            self._local.held = held
        return held.conn

    @conn.setter
    def conn(self, value: sqlite3.Connection) -> None:
        self._local.held = ThreadConnection(value, self._release)

    def _release(self, conn: sqlite3.Connection) -> None:
        """A thread ended (the executor of one outbox batch, say): close its connection."""
        with self._conns_lock:
            if conn not in self._conns:
                return
            self._conns.remove(conn)
        conn.close()

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Database]:
        with self.uow.transaction():
            yield self

    async def open_async(self) -> None:
        """Nothing to open: SQLite reads need no loop-bound connections."""

    async def close_async(self) -> None:
        """Nothing to close (``open_async``)."""

    def close(self) -> None:
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.close()


C = TypeVar("C")


class ThreadConnection(Generic[C]):
    """A thread's connection, handed back when the thread's locals are cleared.

    Threads come and go (the outbox worker starts a pool per batch, anyio's thread pool
    retires idle threads); without this each one would keep a connection open for the
    life of the process (a descriptor leak on SQLite, an exhausted pool on PostgreSQL).
    """

    __slots__ = ("conn", "release")

    def __init__(self, conn: C, release: Callable[[C], None]) -> None:
        self.conn = conn
        self.release = release

    def __del__(self) -> None:
        # interpreter shutdown or a pool already closed
        with contextlib.suppress(Exception):
            self.release(self.conn)


def open_database(path: str | Path, *, busy_timeout_ms: int = 10_000,
                  clock: Clock = system_clock) -> SqliteDatabase:
    """Open (creating if needed) the store with WAL, foreign keys and a busy timeout.

    ``clock`` stamps the change log; services pass their own (tests: a stepping clock).
    """
    if str(path) == ":memory:":
        raise ValueError("the service needs a file: each thread opens its own connection")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = SqliteDatabase(str(path), busy_timeout_ms=busy_timeout_ms, clock=clock)
    db.enable_wal()
    return db


def open_store(settings: Settings, clock: Clock = system_clock) -> Database:
    """The store the settings name: PostgreSQL for ``database_url``, else the SQLite file."""
    url = settings.database_url
    if url:
        if not url.startswith(("postgresql://", "postgres://")):
            raise ValueError(f"database_url must be postgresql://...; got {url.split(':')[0]}")
        from server.pgdb import PgDatabase

        return PgDatabase(url, clock=clock,  # type: ignore[return-value]
                          pool_size=settings.database_pool_size,
                          pool_timeout_s=settings.database_pool_timeout_s)
    return open_database(settings.db_path, clock=clock)


def migrate(db: Database) -> list[str]:
    """Apply every pending migration; returns the names applied (empty when up to date)."""
    if getattr(db, "dialect_name", "sqlite") == "postgresql":
        from server.pgdb import migrate_pg

        return migrate_pg(db, MIGRATION_SETS)  # type: ignore[arg-type]
    applied: list[str] = []
    for mset in MIGRATION_SETS:
        pending = [f"{mset.name}:{m.name}" for m in mset.pending(db)]
        mset.apply(db)
        applied.extend(pending)
    return applied


def schema_version(db: Database) -> dict[str, list[str]]:
    """The applied migrations per set: what ``waterops migrate --status`` shows."""
    if getattr(db, "dialect_name", "sqlite") == "postgresql":
        from server.pgdb import pg_schema_version

        return pg_schema_version(db, MIGRATION_SETS)  # type: ignore[arg-type]
    return {mset.name: [m.name for m in mset.applied(db)] for mset in MIGRATION_SETS}
