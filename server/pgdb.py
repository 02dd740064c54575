"""PostgreSQL as the second store: the same stores, the same SQL, a second dialect.

Chosen by ``WATEROPS_DATABASE_URL=postgresql://...``; SQLite stays the default. The
stores were written against ``sqlite_utils.Database``; ``PgDatabase`` answers the part
of that interface they use (``execute``, ``conn.execute/executemany``, ``executescript``,
``table(name).insert/insert_all``, ``atomic``) over psycopg 3 with a psycopg-pool pool,
and ``translate`` turns the few SQLite spellings into PostgreSQL's:

* ``?``, ``?N`` and ``:name`` parameters become ``%s`` / ``%(name)s``; ``%`` is escaped;
* ``INSERT OR IGNORE`` becomes ``ON CONFLICT DO NOTHING``; ``INSERT OR REPLACE`` an
  upsert on the table's primary key; ``IFNULL`` becomes ``COALESCE``; two-argument
  ``MAX``/``MIN`` become ``GREATEST``/``LEAST``; ``strftime`` with an hour offset becomes
  ``to_char``; ``json_extract(c, '$.k')`` becomes ``c::jsonb->>'k'``; ``rowid`` ``ctid``;
* in DDL, ``INTEGER PRIMARY KEY [AUTOINCREMENT]`` becomes ``BIGSERIAL PRIMARY KEY``,
  ``INTEGER`` ``BIGINT``, ``BLOB`` ``BYTEA``, ``REAL`` ``DOUBLE PRECISION``, and
  ``WITHOUT ROWID`` goes.

Why a translator rather than a second copy of every store: the SQL stays in one place
per package and is reviewed once; the differences are mechanical. Times are the same
zero-padded UTC text on both (``core.time``), so ordering and comparisons agree.

Transactions: every write transaction takes one advisory lock (``pg_advisory_xact_lock``,
keyed by the store's schema) after ``BEGIN``. That gives PostgreSQL the property the
service relies on in SQLite's ``BEGIN IMMEDIATE``: writers commit one at a time, in the
order they took the lock, so the change-log sequence is committed in order (a pull can
never skip a row committed late), a device's mutation ledger is read and advanced
atomically, and "next number" reads cannot race. It holds across any number of ``serve``
and ``worker`` processes on any number of machines. Reads run as ``REPEATABLE READ READ
ONLY`` snapshots and never wait. The outbox still claims with ``FOR UPDATE SKIP LOCKED``
(``notifications.store``), so finer-grained locking can replace the global lock without
touching the worker.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from decimal import Decimal
from typing import Any, Final

import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg.pq import TransactionStatus
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from core.store import ChangeLogDialect, Connection
from core.uow import UnitOfWork
from server.clock import Clock
from server.db import ThreadConnection
from server.settings import SettingsError

#: the advisory lock every write transaction holds: this fixed class, and the schema's
#: name hashed as the second key. Advisory locks are per database, not per schema, so a
#: fixed single key made every store in one database (the test suite's schemas, a staging
#: copy beside production) wait on each other's writers.
WRITE_LOCK_CLASS: Final = 0x57A7E5
#: connections of the serving loop's async pool (``PgDatabase.fetch_keyed_async``), beside
#: the ``database_pool_size`` of the threads
ASYNC_POOL_SIZE: Final = 8
#: keyed batches of one statement in flight at once (``PgDatabase.fetch_keyed_async``):
#: while they are, newcomers gather in the next batch instead of each taking a connection
KEYED_IN_FLIGHT: Final = 2
#: opens a write transaction and takes the store's write lock in one round trip: without
#: parameters psycopg sends the text as one simple query, which may hold two statements
#: (``pg_try_advisory_lock`` with the same keys tests for the lock)
BEGIN_WRITE_SQL: Final = (
    f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK_CLASS}, hashtext(current_schema()))")


class PgDialect(ChangeLogDialect):
    """PostgreSQL: one writer at a time across processes, snapshot reads."""

    def begin_write(self, conn: Connection) -> None:
        """``BEGIN`` and the write lock, one round trip instead of two (each write
        transaction paid both; issue 19). A lock that fails (cancelled, timed out) leaves
        no transaction open on the pooled connection."""
        try:
            conn.execute(BEGIN_WRITE_SQL)
        except BaseException:
            with suppress(psycopg.Error):  # a broken connection: the pool discards it
                conn.execute("ROLLBACK")
            raise

    def begin_read(self, conn: Connection) -> None:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")


# -- SQL translation ---------------------------------------------------------------------

_TOKEN = re.compile(r"""'(?:[^']|'')*'|"(?:[^"])*"|\?(\d+)?|::|:([A-Za-z_]\w*)|%""")
_INSERT_OR = re.compile(r"^\s*INSERT\s+OR\s+(IGNORE|REPLACE)\s+INTO\s+(\w+)\s*(\(([^)]*)\))?",
                        re.I | re.S)
_DDL = [
    (re.compile(r"\bINTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?", re.I), "BIGSERIAL PRIMARY KEY"),
    (re.compile(r"\)\s*WITHOUT\s+ROWID", re.I), ")"),
    (re.compile(r"\bINTEGER\b", re.I), "BIGINT"),
    (re.compile(r"\bBLOB\b", re.I), "BYTEA"),
    (re.compile(r"\bREAL\b", re.I), "DOUBLE PRECISION"),
]
_IFNULL = re.compile(r"\bIFNULL\s*\(", re.I)
_ROWID = re.compile(r"\browid\b", re.I)
_STRFTIME = re.compile(r"strftime\('([^']*)',\s*([\w.]+),\s*'\+(\d+) hours'\)", re.I)
_JSON = re.compile(r"json_extract\(([\w.]+),\s*'\$\.(\w+)'\)", re.I)
_FMT = {"%Y": "YYYY", "%m": "MM", "%d": "DD", "%H": "HH24", "%M": "MI", "%S": "SS"}


def _close_paren(text: str, open_at: int) -> int:
    """Index of the parenthesis closing the one at ``open_at`` (string literals skipped)."""
    depth, i, quote = 0, open_at, ""
    while i < len(text):
        c = text[i]
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(text) - 1


def _top_level_commas(text: str, start: int, end: int) -> int:
    depth, quote, n = 0, "", 0
    for c in text[start:end]:
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            n += 1
    return n


_SCALAR = re.compile(r"\b(MAX|MIN)\s*\(", re.I)


def _scalar_max_min(text: str) -> str:
    """SQLite's two-argument ``MAX(a, b)``/``MIN`` are ``GREATEST``/``LEAST``."""
    out, pos = [], 0
    for m in _SCALAR.finditer(text):
        if m.start() < pos:
            continue
        close = _close_paren(text, m.end() - 1)
        if _top_level_commas(text, m.end(), close):
            out.append(text[pos:m.start()])
            out.append("GREATEST(" if m.group(1).upper() == "MAX" else "LEAST(")
            pos = m.end()
    out.append(text[pos:])
    return "".join(out)


_COALESCE_JSON_EXISTS = re.compile(
    r"COALESCE\(json_extract\(([\w.]+),\s*'\$\.(\w+)'\),\s*EXISTS\s*\(", re.I)


def _coalesce_json_exists(text: str) -> str:
    """``COALESCE(json_extract(c, '$.k'), EXISTS (...))``: SQLite answers 1/0 for both."""
    while (m := _COALESCE_JSON_EXISTS.search(text)) is not None:
        sub_close = _close_paren(text, m.end() - 1)
        outer_close = _close_paren(text, m.start() + len("COALESCE"))
        col, key = m.group(1), m.group(2)
        exists = text[m.end() - 1:sub_close + 1]
        value = f"(({col})::jsonb->>'{key}')"
        text = (text[:m.start()]
                + f"(CASE WHEN {value} IS NULL THEN (CASE WHEN EXISTS {exists} THEN 1 ELSE 0 "
                  f"END) WHEN {value} IN ('true', '1') THEN 1 ELSE 0 END)"
                + text[outer_close + 1:])
    return text


def _strftime(m: re.Match[str]) -> str:
    at = (f"(({m.group(2)})::timestamptz AT TIME ZONE 'UTC' "
          f"+ interval '{m.group(3)} hours')")
    # SQLite's %W (weeks from the year's first Monday, 00-53) has no to_char pattern (IW
    # is the ISO week, of the ISO year): computed from the day of the year and weekday
    week = (f"lpad(((extract(doy FROM {at})::int + 7 - extract(isodow FROM {at})::int) / 7)"
            f"::text, 2, '0')")
    parts = []
    for piece in m.group(1).split("%W"):
        fmt = piece
        for k, v in _FMT.items():
            fmt = fmt.replace(k, v)
        fmt = fmt.replace("W", '"W"')
        parts.append(f"to_char({at}, '{fmt}')" if fmt else "")
    return "(" + f" || {week} || ".join(p or "''" for p in parts) + ")"


def _params(sql: str, named: bool) -> str:
    """Rewrite parameter marks and escape ``%`` outside string literals."""

    def repl(m: re.Match[str]) -> str:
        tok = m.group(0)
        if tok.startswith(("'", '"')) or tok == "::":
            return tok.replace("%", "%%") if tok.startswith("'") else tok
        if tok == "%":
            return "%%"
        if tok.startswith("?"):
            return f"%(p{m.group(1)})s" if m.group(1) else "%s"
        if named:
            return f"%({m.group(2)})s"
        return tok

    return _TOKEN.sub(repl, sql)


class Translator:
    """SQLite SQL to PostgreSQL SQL; caches each statement's translation."""

    def __init__(self, primary_keys: Mapping[str, list[str]]) -> None:
        self.primary_keys = primary_keys
        self._cache: dict[tuple[str, bool], str] = {}

    def __call__(self, sql: str, named: bool) -> str:
        key = (sql, named)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._translate(sql, named)
        return hit

    def _translate(self, sql: str, named: bool) -> str:
        text = _IFNULL.sub("COALESCE(", sql)
        text = _ROWID.sub("ctid", text)
        text = _STRFTIME.sub(_strftime, text)
        text = _coalesce_json_exists(text)
        text = _scalar_max_min(text)
        text = _JSON.sub(lambda j: f"(({j.group(1)})::jsonb->>'{j.group(2)}')", text)
        m = _INSERT_OR.match(text)
        if m is not None:
            kind, table, cols = m.group(1).upper(), m.group(2), m.group(4)
            text = f"INSERT INTO {table} {('(' + cols + ')') if cols else ''}" + text[m.end():]
            text = text.rstrip().rstrip(";")
            returning = ""
            r = re.search(r"\sRETURNING\s", text, re.I)
            if r is not None:
                text, returning = text[:r.start()], text[r.start():]
            if kind == "IGNORE":
                text += " ON CONFLICT DO NOTHING"
            else:
                pk = self.primary_keys.get(table.lower()) or []
                names = [c.strip() for c in (cols or "").split(",") if c.strip()]
                sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in names if c not in pk)
                text += (f" ON CONFLICT ({', '.join(pk)}) DO UPDATE SET {sets}" if pk and sets
                         else " ON CONFLICT DO NOTHING")
            text += returning
        return _params(text, named)


def translate_ddl(script: str) -> str:
    for pattern, repl in _DDL:
        script = pattern.sub(repl, script)
    return script


# -- type adaptation ---------------------------------------------------------------------


class _BoolAsInt(Dumper):
    """SQLite has no boolean: the schema keeps flags as integers, so dump bools as 0/1."""

    oid = psycopg.adapters.types["int8"].oid

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"


class _NumericLoader(Loader):
    """``SUM`` of integers is ``numeric`` in PostgreSQL: give back int (or float) as SQLite."""

    def load(self, data: Any) -> int | float:
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else float(value)


#: the schema the PostGIS extension was created in (None: not created in this database)
_POSTGIS_SCHEMA_SQL: Final = ("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                              "ON n.oid = e.extnamespace WHERE e.extname = 'postgis'")


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.adapters.register_dumper(bool, _BoolAsInt)
    conn.adapters.register_loader("numeric", _NumericLoader)
    _postgis_on_path(conn)


async def _configure_async(conn: psycopg.AsyncConnection[Any]) -> None:
    """``_configure`` for the event loop's connections (``PgDatabase.fetch_keyed_async``)."""
    conn.adapters.register_dumper(bool, _BoolAsInt)
    conn.adapters.register_loader("numeric", _NumericLoader)
    cur = await conn.execute(_POSTGIS_SCHEMA_SQL)
    row = await cur.fetchone()
    if row is not None:
        await conn.execute("SELECT set_config('search_path', current_setting('search_path') "
                           "|| ', ' || quote_ident(%s), false)", [row[0]])


def _postgis_on_path(conn: psycopg.Connection[Any]) -> None:
    """Append PostGIS's schema to this session's ``search_path`` when it is not on it.

    The store's tables live in the first schema of the path (``current_schema()``: the
    URL's ``options=-csearch_path=...``, or ``public``); PostGIS's types, functions and
    operators (``geometry``, ``ST_DWithin``, ``&&``) in the schema the extension was
    created in, usually ``public``. Appending it last leaves every table name resolving
    as before. Without the extension nothing changes here: ``require_postgis`` refuses
    to open the store.
    """
    row = conn.execute(_POSTGIS_SCHEMA_SQL).fetchone()
    if row is None:
        return
    on_path = conn.execute("SELECT current_schemas(false)").fetchone()
    if on_path is not None and row[0] in on_path[0]:
        return
    conn.execute("SELECT set_config('search_path', current_setting('search_path') || ', ' "
                 "|| quote_ident(%s), false)", [row[0]])


class PostgisMissingError(SettingsError):
    """``WATEROPS_DATABASE_URL`` names a database without the PostGIS extension.

    The service refuses to start (``serve``, ``worker``, ``migrate``, every CLI command)
    rather than fall back to a box index that would give tablets a different network than
    a PostGIS store: the operator creates the extension once, as a superuser (it is not a
    trusted extension), and starts again.
    """


def require_postgis(conn: psycopg.Connection[Any]) -> None:
    """Raise ``PostgisMissingError`` naming the fix unless the database has PostGIS."""
    if conn.execute(_POSTGIS_SCHEMA_SQL).fetchone() is not None:
        return
    database = conn.info.dbname
    available = conn.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").fetchone()
    how = (f"connect to database {database!r} as a superuser and run CREATE EXTENSION "
           "postgis;" if available is not None else
           "install PostGIS on the database server (Debian: apt-get install "
           f"postgresql-15-postgis-3), then in database {database!r} run, as a superuser, "
           "CREATE EXTENSION postgis;")
    raise PostgisMissingError(
        f"database_url: the PostgreSQL store needs the PostGIS extension, which database "
        f"{database!r} does not have: {how} (docs/deploy.md, PostgreSQL)")


# -- the database handle -----------------------------------------------------------------


class _Cursor:
    """What the stores read from ``execute``: rows, ``rowcount``, ``lastrowid``."""

    def __init__(self, cur: psycopg.Cursor[Any], lastrowid: int | None = None) -> None:
        self._cur = cur
        self.rowcount = cur.rowcount
        self.lastrowid = lastrowid
        self.description = cur.description

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._cur.fetchone() if self._cur.description else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._cur.fetchall() if self._cur.description else []

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.fetchall())


class _Conn:
    """The ``db.conn`` the stores use: execute/executemany with SQLite spellings."""

    def __init__(self, db: PgDatabase, raw: psycopg.Connection[Any]) -> None:
        self.db = db
        self.raw = raw

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] = (), /
                ) -> _Cursor:
        return self.db.run(self.raw, sql, parameters)

    def executemany(self, sql: str, seq: Any, /) -> _Cursor:
        rows = [tuple(r) for r in seq]
        cur = self.raw.cursor()
        if rows:
            cur.executemany(self.db.translate(sql, False), rows)
        return _Cursor(cur)


class _Table:
    def __init__(self, db: PgDatabase, name: str) -> None:
        self.db = db
        self.name = name

    def insert(self, row: Mapping[str, Any]) -> _Table:
        return self.insert_all([row])

    def transform(self, *, not_null: Mapping[str, bool] | None = None, **other: Any) -> _Table:
        """The part of sqlite-utils' ``transform`` the migrations use: NOT NULL on or off.

        SQLite rebuilds the table; PostgreSQL alters the column in place.
        """
        if other:
            raise NotImplementedError(f"transform({', '.join(other)}) on PostgreSQL")
        for column, required in (not_null or {}).items():
            action = "SET" if required else "DROP"
            self.db.conn.raw.execute(
                f"ALTER TABLE {self.name} ALTER COLUMN {column} {action} NOT NULL")
        return self

    def insert_all(self, rows: Sequence[Mapping[str, Any]]) -> _Table:
        rows = list(rows)
        if rows:
            cols = list(rows[0])
            marks = ", ".join("?" * len(cols))
            self.db.conn.executemany(
                f"INSERT INTO {self.name} ({', '.join(cols)}) VALUES ({marks})",
                [[r.get(c) for c in cols] for r in rows])
        return self


class _KeyedBatch:
    """Keys of one statement gathered until it is sent, and the rows it answered."""

    __slots__ = ("done", "keys")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.keys: set[Hashable] = set()
        self.done: asyncio.Future[dict[Hashable, tuple[Any, ...]]] = loop.create_future()


class PgDatabase:
    """A PostgreSQL database with the handle interface the stores were written for.

    One pooled connection per thread (like ``server.db.SqliteDatabase``), autocommit at
    the driver level so the unit of work alone opens and commits transactions.
    """

    dialect_name: Final = "postgresql"

    def __init__(self, url: str, *, clock: Clock, pool_size: int = 24,
                 pool_timeout_s: float = 30.0) -> None:
        self.url = url
        self._pool_timeout_s = pool_timeout_s
        self._async_pool: AsyncConnectionPool[Any] | None = None
        self._async_loop: asyncio.AbstractEventLoop | None = None
        #: keyed batches not yet sent, by (SQL, fixed parameters) (``fetch_keyed_async``)
        self._keyed: dict[tuple[str, tuple[Any, ...]], _KeyedBatch] = {}
        self._keyed_slots: dict[tuple[str, tuple[Any, ...]], asyncio.Semaphore] = {}
        self._keyed_tasks: set[asyncio.Task[None]] = set()
        #: keyed statements sent and keys they answered (``fetch_keyed_async``): how many
        #: requests shared each round trip (read by the tests)
        self.keyed_statements = 0
        self.keyed_keys = 0
        self.pool: ConnectionPool[Any] = ConnectionPool(
            url, min_size=1, max_size=pool_size, open=True, configure=_configure,
            kwargs={"autocommit": True}, timeout=pool_timeout_s)
        self._local = threading.local()
        self._held: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self.primary_keys: dict[str, list[str]] = {}
        self.serial_tables: dict[str, str] = {}
        self.translate = Translator(self.primary_keys)
        self.uow = UnitOfWork(self, clock, PgDialect())  # type: ignore[arg-type]
        try:
            require_postgis(self.conn.raw)
        except PostgisMissingError:
            self.close()
            raise
        self.refresh_schema()

    # -- connections -------------------------------------------------------------------
    @property
    def conn(self) -> _Conn:
        held: ThreadConnection[_Conn] | None = getattr(self._local, "held", None)
        if held is None or held.conn.raw.closed:
            raw = self.pool.getconn()
            with self._lock:
                self._held.append(raw)
            held = ThreadConnection(_Conn(self, raw), self._release)
            self._local.held = held
        return held.conn

    def _release(self, conn: _Conn) -> None:
        """The thread ended: its connection goes back to the pool (rolled back if needed)."""
        with self._lock:
            if conn.raw not in self._held:
                return
            self._held.remove(conn.raw)
        self.pool.putconn(conn.raw)

    def close(self) -> None:
        with self._lock:
            held, self._held = self._held, []
        for raw in held:
            self.pool.putconn(raw)
        self.pool.close()

    # -- statements --------------------------------------------------------------------
    def run(self, raw: psycopg.Connection[Any], sql: str,
            parameters: Sequence[Any] | Mapping[str, Any] = ()) -> _Cursor:
        named = isinstance(parameters, Mapping)
        text = self.translate(sql, named)
        params: Any = parameters if named else list(parameters)
        if not named and re.search(r"%\(p\d+\)s", text):
            params = {f"p{i + 1}": v for i, v in enumerate(parameters)}
        table = _inserted_table(sql)
        serial = self.serial_tables.get(table) if table else None
        if serial and "RETURNING" not in text.upper():
            text += f" RETURNING {serial}"
        cur = raw.cursor()
        # always pass parameters (maybe none): psycopg formats the text only then, and the
        # translation escaped every literal ``%``
        cur.execute(text, params)
        lastrowid = None
        if serial and cur.description:
            row = cur.fetchone()
            lastrowid = int(row[0]) if row else None
        return _Cursor(cur, lastrowid)

    def execute(self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] = ()
                ) -> _Cursor:
        return self.conn.execute(sql, parameters)

    def executescript(self, script: str) -> None:
        self.conn.raw.execute(translate_ddl(script).encode())

    async def fetch_keyed_async(self, sql: str, fixed: Sequence[Any], key: Hashable
                                ) -> tuple[Any, ...] | None:
        """The row of ``key`` read by ``sql``, awaited on the loop, in one statement with
        the keys of the other requests waiting for the same ``sql`` and ``fixed``.

        ``sql`` takes ``fixed`` then one array of keys (``column = ANY(?)``) and answers at
        most one row per key, the key first. Authentication reads a different token per
        caller: merging only identical reads helped one console's requests, while 50
        tablets at shift change each paid a statement of their own. Here, while
        ``KEYED_IN_FLIGHT`` batches of the statement are on their way, newcomers gather
        in the next one, sent as soon as one returns: one round trip, one parse, one plan
        for all of them (issue 19).

        Why it is exact: a request joins only a batch not yet sent (``_keyed``), so the
        row it gets was read after it arrived and sees every commit before it (a revoked
        token, a bumped list version), as a read of its own would. Off the serving loop,
        or before ``open_async``, the read is the blocking one of this key alone."""
        pool = self._async_pool
        loop = asyncio.get_running_loop()
        if pool is None or self._async_loop is not loop:
            rows = self.execute(sql, [*fixed, [key]]).fetchall()
            return next((tuple(r) for r in rows if r[0] == key), None)
        batch_key = (sql, tuple(fixed))
        while True:
            batch = self._keyed.get(batch_key)
            if batch is None:
                batch = self._keyed[batch_key] = _KeyedBatch(loop)
                task = loop.create_task(self._send_keyed(pool, batch_key, batch))
                self._keyed_tasks.add(task)  # held until done: the loop keeps weak refs
                task.add_done_callback(self._keyed_tasks.discard)
            batch.keys.add(key)
            try:
                answered = await asyncio.shield(batch.done)
            except asyncio.CancelledError:
                if not batch.done.cancelled():
                    raise  # this request itself was cancelled
                continue  # the batch was (the loop is closing): try the next one
            return answered.get(key)

    async def _send_keyed(self, pool: AsyncConnectionPool[Any],
                          batch_key: tuple[str, tuple[Any, ...]], batch: _KeyedBatch) -> None:
        """Wait for a slot of the statement, close the batch to newcomers, read it."""
        slots = self._keyed_slots.get(batch_key)
        if slots is None:
            slots = self._keyed_slots[batch_key] = asyncio.Semaphore(KEYED_IN_FLIGHT)
        try:
            async with slots:
                if self._keyed.get(batch_key) is batch:
                    del self._keyed[batch_key]  # from here on, newcomers gather in the next
                async with pool.connection() as conn:
                    self.keyed_statements += 1
                    self.keyed_keys += len(batch.keys)
                    cur = await conn.execute(self.translate(batch_key[0], False),
                                             [*batch_key[1], list(batch.keys)])
                    rows = await cur.fetchall()
        except BaseException as exc:
            if self._keyed.get(batch_key) is batch:
                del self._keyed[batch_key]
            if isinstance(exc, asyncio.CancelledError):
                batch.done.cancel()
                raise
            batch.done.set_exception(exc)
            batch.done.exception()  # retrieved here: every waiter may have gone
            return
        batch.done.set_result({r[0]: tuple(r) for r in rows})

    async def open_async(self) -> None:
        """Open ``ASYNC_POOL_SIZE`` connections for ``fetch_keyed_async`` on the running loop."""
        if self._async_pool is not None:
            return
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            self.url, min_size=ASYNC_POOL_SIZE, max_size=ASYNC_POOL_SIZE, open=False,
            configure=_configure_async, kwargs={"autocommit": True},
            timeout=self._pool_timeout_s)
        await pool.open(wait=True)
        self._async_pool, self._async_loop = pool, asyncio.get_running_loop()

    async def close_async(self) -> None:
        """Close what ``open_async`` opened (the app's shutdown, on the same loop)."""
        pool, self._async_pool, self._async_loop = self._async_pool, None, None
        # the batches' semaphores belong to this loop: a loop opened later makes its own
        self._keyed_slots.clear()
        self._keyed.clear()
        if pool is not None:
            await pool.close()

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
              ) -> Iterator[dict[str, Any]]:
        """Rows as dicts, like ``sqlite_utils.Database.query``."""
        cur = self.execute(sql, params)
        names = [c.name for c in cur.description or []]
        for row in cur.fetchall():
            yield dict(zip(names, row, strict=True))

    def __getitem__(self, name: str) -> _Table:
        return _Table(self, name)

    def table(self, name: str) -> _Table:
        return _Table(self, name)

    def enable_wal(self) -> None:
        """SQLite's journal mode; nothing to do on PostgreSQL."""

    @contextmanager
    def atomic(self) -> Iterator[PgDatabase]:
        with self.uow.transaction():
            yield self

    def refresh_schema(self) -> None:
        """Learn primary keys and serial id columns (for ``INSERT OR REPLACE``, lastrowid)."""
        # pg_catalog, not information_schema: the latter's views join every schema of the
        # database and take seconds on a cluster with many (one per test store, tenant)
        rows = self.conn.raw.execute(
            "SELECT c.relname, a.attname, k.ord FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
            "WHERE i.indisprimary AND n.nspname = current_schema() "
            "ORDER BY c.relname, k.ord").fetchall()
        self.primary_keys.clear()
        for table, column, _pos in rows:
            self.primary_keys.setdefault(str(table), []).append(str(column))
        # this schema's column defaults first (materialised), then their text: the planner
        # would otherwise deparse every default of every schema (seconds, growing with them)
        serial = self.conn.raw.execute(
            "WITH mine AS MATERIALIZED (SELECT d.adrelid, d.adnum, d.adbin FROM pg_attrdef d "
            "JOIN pg_class c ON c.oid = d.adrelid "
            "WHERE c.relnamespace = current_schema()::regnamespace) "
            "SELECT c.relname, a.attname FROM mine m JOIN pg_class c ON c.oid = m.adrelid "
            "JOIN pg_attribute a ON a.attrelid = m.adrelid AND a.attnum = m.adnum "
            "WHERE pg_get_expr(m.adbin, m.adrelid) LIKE 'nextval(%'").fetchall()
        self.serial_tables.clear()
        self.serial_tables.update({str(t): str(c) for t, c in serial})
        self.translate._cache.clear()


_INSERT_TABLE = re.compile(r"^\s*INSERT\s+(?:OR\s+\w+\s+)?INTO\s+(\w+)", re.I)


def _inserted_table(sql: str) -> str | None:
    m = _INSERT_TABLE.match(sql)
    return m.group(1).lower() if m else None


# -- migrations --------------------------------------------------------------------------


def migrate_pg(db: PgDatabase, sets: Sequence[Any]) -> list[str]:
    """Apply every pending migration of the sqlite-utils sets, each in one transaction.

    The same migration functions as SQLite's (they only call ``executescript``); the
    record of what ran is ``_waterops_migrations``. Concurrent starts of several
    processes are serialised by the write lock, so each migration runs once.
    """
    db.conn.raw.execute(
        "CREATE TABLE IF NOT EXISTS _waterops_migrations (migration_set TEXT NOT NULL, "
        "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), "
        "PRIMARY KEY (migration_set, name))")
    applied: list[str] = []
    # read once what ran (a store that is up to date starts without a transaction per
    # migration); a pending one is checked again under the write lock, as another process
    # may be applying it at the same moment
    ran = {(str(s), str(n)) for s, n in db.conn.raw.execute(
        "SELECT migration_set, name FROM _waterops_migrations").fetchall()}
    for mset in sets:
        for migration in mset._migrations:
            if (mset.name, migration.name) in ran:
                continue
            with db.uow.transaction():
                done = db.execute(
                    "SELECT 1 FROM _waterops_migrations WHERE migration_set = ? AND name = ?",
                    [mset.name, migration.name]).fetchone()
                if done is not None:
                    continue
                migration.fn(db)
                db.execute("INSERT INTO _waterops_migrations (migration_set, name) VALUES (?, ?)",
                           [mset.name, migration.name])
            applied.append(f"{mset.name}:{migration.name}")
    if applied:
        db.refresh_schema()
    return applied


def pg_schema_version(db: PgDatabase, sets: Sequence[Any]) -> dict[str, list[str]]:
    rows = db.execute("SELECT migration_set, name FROM _waterops_migrations").fetchall()
    done = {(str(s), str(n)) for s, n in rows}
    return {m.name: [x.name for x in m._migrations if (m.name, x.name) in done] for m in sets}
