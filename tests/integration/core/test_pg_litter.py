"""The suite's PostgreSQL leftovers are dropped, so a full pass fits a small CI disk."""

from __future__ import annotations

import os

import psycopg

from tests.factories import (
    PG_URL_ENV,
    PgLitter,
    postgresql_only,
    with_dbname,
)


def _exists(url: str, sql: str, name: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, (name,)).fetchone() is not None


SCHEMA_SQL = "SELECT 1 FROM pg_namespace WHERE nspname = %s"
DATABASE_SQL = "SELECT 1 FROM pg_database WHERE datname = %s"


@postgresql_only("the leftovers are PostgreSQL schemas and databases")
def test_what_was_made_after_the_mark_is_dropped_and_what_was_before_stays() -> None:
    base = os.environ[PG_URL_ENV]
    litter = PgLitter()
    with psycopg.connect(base, autocommit=True) as conn:
        for name in ("t_litter_keep", "t_litter_drop"):
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
            conn.execute(f"CREATE SCHEMA {name}")
        conn.execute("CREATE TABLE t_litter_drop.rows (id int)")
        conn.execute("DROP DATABASE IF EXISTS w_litter_drop WITH (FORCE)")
        conn.execute("CREATE DATABASE w_litter_drop")
    litter.schemas.append((base, "t_litter_keep"))
    mark = litter.mark()
    litter.schemas.append((base, "t_litter_drop"))
    litter.databases.append((base, "w_litter_drop"))
    # a connection left open on the database (a pool a test forgot) does not keep it
    held = psycopg.connect(with_dbname(base, "w_litter_drop"))
    try:
        litter.drop_since(mark)
    finally:
        held.close()
    assert not _exists(base, SCHEMA_SQL, "t_litter_drop")
    assert not _exists(base, DATABASE_SQL, "w_litter_drop")
    assert _exists(base, SCHEMA_SQL, "t_litter_keep")
    assert litter.mark() == (1, 0)
    litter.drop_since((0, 0))
    assert not _exists(base, SCHEMA_SQL, "t_litter_keep")

