"""SQL of the unit of work: opening transactions and the change log's two statements.

One class per dialect. ``ChangeLogDialect`` is SQLite's (qmark parameters, ``BEGIN
IMMEDIATE``); a PostgreSQL dialect answers the same methods with ``%s`` parameters and a
plain ``BEGIN`` (its row locks and the ``changes`` sequence need no up-front lock).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final, Protocol

from core.time import to_db

#: ids per ``IN (...)`` list: below SQLite's default variable limit
CHUNK: Final = 500


class Rows(Protocol):
    """What ``execute`` answers on either store: a cursor whose rows can be fetched."""

    def fetchall(self) -> Sequence[Sequence[object]]: ...


class Connection(Protocol):
    def execute(self, sql: str, parameters: Sequence[object] = ..., /) -> Rows: ...
    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> object: ...


class ChangeLogDialect:
    """SQLite."""

    def begin_write(self, conn: Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")

    def begin_read(self, conn: Connection) -> None:
        conn.execute("BEGIN")

    def published_scopes(self, conn: Connection, entity: str, ids: Sequence[str]
                         ) -> dict[str, set[str]]:
        """Per id, the scopes whose latest change-log entry for it is an upsert."""
        out: dict[str, set[str]] = {}
        for start in range(0, len(ids), CHUNK):
            part = list(ids[start:start + CHUNK])
            marks = ",".join("?" * len(part))
            cur = conn.execute(
                "SELECT c.entity_id, c.scope, c.op FROM changes c JOIN ("
                " SELECT entity_id, scope, MAX(seq) AS seq FROM changes"
                f" WHERE entity = ? AND entity_id IN ({marks}) GROUP BY entity_id, scope"
                ") last ON last.seq = c.seq",
                [entity, *part])
            for entity_id, scope, op in cur.fetchall():
                if op == "upsert":
                    out.setdefault(str(entity_id), set()).add(str(scope))
        return out

    def append(self, conn: Connection, rows: Sequence[tuple[str, str, str, str]],
               at: datetime) -> None:
        if rows:
            stamp = to_db(at)
            conn.executemany(
                "INSERT INTO changes (entity, entity_id, op, scope, server_time) "
                "VALUES (?, ?, ?, ?, ?)",
                [(*r, stamp) for r in rows])


#: rows per multi-row ``INSERT`` of ``insert_rows``, largest first: a batch is cut into
#: statements of these sizes, so each table has at most four statement texts to prepare
#: (and cache) whatever the batch's length
ROW_CHUNKS: Final = (500, 50, 5, 1)


class Executes(Protocol):
    """A database handle (``sqlite_utils.Database`` or ``server.pgdb.PgDatabase``)."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> object: ...


def insert_rows(db: Executes, table: str, columns: Sequence[str],
                rows: Sequence[Sequence[object]]) -> None:
    """Insert ``rows`` (each in ``columns`` order) in multi-row ``INSERT`` statements.

    Why multi-row rather than ``executemany``: on PostgreSQL every statement is a round of
    parsing, planning and the statement-level triggers (``list_versions``); one statement
    per 500 rows makes a bulk write (``WorkOrderService.create_many``) cost per row what a
    bulk write should, and SQLite runs the same text. ``table`` and ``columns`` are
    constants of the calling store, never input. Call inside the caller's transaction.
    """
    width = len(columns)
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    one = "(" + ",".join("?" * width) + ")"
    at = 0
    for size in ROW_CHUNKS:
        sql = head + ",".join([one] * size)
        while len(rows) - at >= size:
            params: list[object] = []
            for row in rows[at:at + size]:
                params.extend(row)
            db.execute(sql, params)
            at += size
