"""Query plans in tests: does an index answer a statement, on either store?

Shared by every test that checks a read is a range of an index (the list pages, the
deadline scan), so the reading of SQLite's and PostgreSQL's plans exists once."""

from __future__ import annotations

from server.pgdb import PgDatabase
from server.services import Services


def is_pg(services: Services) -> bool:
    db: object = services.db
    return isinstance(db, PgDatabase)


def query_plan(services: Services, sql: str, params: list[object]) -> str:
    """The query plan as one text: SQLite's EXPLAIN QUERY PLAN details, or PostgreSQL's
    EXPLAIN with sequential scans priced out (a test table is too small for the planner
    to prefer an index, the question is whether one can answer the query)."""
    db: object = services.db
    if isinstance(db, PgDatabase):
        with db.atomic():
            db.execute("SET LOCAL enable_seqscan = off")
            db.execute("SET LOCAL enable_bitmapscan = off")
            return "\n".join(str(r[0]) for r in db.execute("EXPLAIN " + sql, params))
    return "\n".join(str(r[-1]) for r in services.db.execute("EXPLAIN QUERY PLAN " + sql,
                                                               params))


def assert_index_range(services: Services, sql: str, params: list[object],
                       index: str) -> str:
    """The statement reads a range of ``index`` in its order: no full scan, no sort."""
    plan = query_plan(services, sql, params)
    assert index in plan, plan
    if is_pg(services):
        assert "Seq Scan" not in plan, plan
        assert "Sort" not in plan, plan
    else:
        assert "TEMP B-TREE" not in plan, plan
    return plan
