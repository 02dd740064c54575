"""The unit of work: write transactions lock up front, and it alone writes the change log."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import pytest
from sqlite_utils import Database

from core.uow import NoTransactionError, UnknownEntityError
from server.clock import SteppingClock
from server.services import Services
from server.workorders.model import Actor, AssignIn
from tests.factories import order_in
from tests.integration.sync.world import DISPATCHER

pytestmark = pytest.mark.integration

DISPATCH = Actor(user_id="disp-wang", role="dispatcher")


def _log(services: Services, entity: str, entity_id: str) -> list[tuple[str, str]]:
    return [(str(r[0]), str(r[1])) for r in services.db.execute(
        "SELECT op, scope FROM changes WHERE entity = ? AND entity_id = ? ORDER BY seq",
        [entity, entity_id])]


def test_a_write_transaction_holds_the_write_lock_from_its_first_statement(
        services: Services) -> None:
    """SQLite: BEGIN IMMEDIATE; PostgreSQL: the writers' advisory lock. Either way another
    process cannot start writing while a transaction that has only read is open."""
    if getattr(services.db, "dialect_name", "sqlite") == "postgresql":
        import psycopg

        from server.pgdb import WRITE_LOCK_CLASS

        try_lock = "SELECT pg_try_advisory_lock(%s, hashtext(current_schema()))"
        other_pg = psycopg.connect(services.db.url, autocommit=True)  # type: ignore[attr-defined]
        with services.uow.transaction():
            services.db.execute("SELECT COUNT(*) FROM work_orders").fetchone()
            got = other_pg.execute(try_lock, [WRITE_LOCK_CLASS])
            assert got.fetchone() == (False,)
        got = other_pg.execute(try_lock, [WRITE_LOCK_CLASS])
        assert got.fetchone() == (True,)
        other_pg.close()
        return
    other = sqlite3.connect(str(services.settings.db_path), isolation_level=None, timeout=0)
    with services.uow.transaction():
        services.db.execute("SELECT COUNT(*) FROM work_orders").fetchone()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()


def test_a_write_lock_that_fails_leaves_no_transaction_open(services: Services) -> None:
    """PostgreSQL opens a write transaction and takes the lock in one round trip; when the
    lock is not granted the pooled connection must not stay inside that transaction."""
    if getattr(services.db, "dialect_name", "sqlite") != "postgresql":
        pytest.skip("the advisory write lock is PostgreSQL's")
    import psycopg

    from server.pgdb import WRITE_LOCK_CLASS

    holder = psycopg.connect(services.db.url, autocommit=True)  # type: ignore[attr-defined]
    raw = services.db.conn.raw  # type: ignore[attr-defined]
    holder.execute("SELECT pg_advisory_lock(%s, hashtext(current_schema()))",
                   [WRITE_LOCK_CLASS])
    raw.execute("SET lock_timeout = '100ms'")
    try:
        with pytest.raises(psycopg.errors.LockNotAvailable), services.uow.transaction():
            pytest.fail("the transaction ran without the write lock")
        assert services.db.conn.in_transaction is False
    finally:
        raw.execute("RESET lock_timeout")
        holder.close()
    wo = services.workorders.create(DISPATCH, order_in(crew_id="crew-a"))
    assert _log(services, "work_order", wo.id) == [("upsert", "crew:crew-a")]


def test_reassignment_derives_an_upsert_for_the_new_crew_and_a_removal_for_the_old(
        services: Services) -> None:
    lone = services.db.execute(
        "SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM work_orders "
        "WHERE customer_id IS NOT NULL) ORDER BY id LIMIT 1").fetchone()[0]
    wo = services.workorders.create(DISPATCH, order_in(crew_id="crew-a", customer_id=lone))
    services.workorders.assign(DISPATCHER, wo.id, AssignIn(crew_id="crew-b"))
    assert _log(services, "work_order", wo.id) == [
        ("upsert", "crew:crew-a"), ("upsert", "crew:crew-b"), ("remove", "crew:crew-a")]
    assert _log(services, "customer", lone) == [
        ("upsert", "crew:crew-a"), ("upsert", "crew:crew-b"), ("remove", "crew:crew-a")]


def test_a_rolled_back_transaction_leaves_no_change_log_rows(services: Services) -> None:
    before = services.db.execute("SELECT COUNT(*) FROM changes").fetchone()[0]

    class BoomError(Exception):
        pass

    def fail_inside_a_transaction() -> None:
        with services.uow.transaction():
            services.uow.touch("customer", "cust-00001")
            raise BoomError

    with pytest.raises(BoomError):
        fail_inside_a_transaction()
    assert services.db.execute("SELECT COUNT(*) FROM changes").fetchone()[0] == before


def test_touching_outside_a_transaction_or_an_unknown_entity_is_refused(
        services: Services) -> None:
    with pytest.raises(NoTransactionError):
        services.uow.touch("customer", "cust-00001")
    with pytest.raises(UnknownEntityError), services.uow.transaction():
        services.uow.touch("teapot", "1")


def test_change_log_times_come_from_the_injected_clock(services: Services,
                                                       clock: SteppingClock) -> None:
    clock.advance(hours=5)
    wo = services.workorders.create(DISPATCH, order_in(crew_id="crew-a"))
    stamp = services.db.execute(
        "SELECT server_time FROM changes WHERE entity_id = ? ORDER BY seq DESC LIMIT 1",
        [wo.id]).fetchone()[0]
    assert stamp == clock().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_threads_that_end_hand_their_connection_back(services: Services) -> None:
    """Short-lived threads (one outbox batch's senders) must not each keep a connection:
    on PostgreSQL the pool (20) would run dry and every later request would hang."""
    import gc
    import threading

    def work() -> None:
        with services.uow.transaction():
            services.db.execute("SELECT COUNT(*) FROM changes").fetchone()

    for _ in range(60):
        t = threading.Thread(target=work)
        t.start()
        t.join()
    gc.collect()
    held = getattr(services.db, "_held", None)
    if held is None:
        held = services.db._conns  # type: ignore[attr-defined]
    assert len(held) <= 3


def test_a_derivation_sees_every_touched_id_once_per_commit_and_nothing_rolled_back(
        services: Services) -> None:
    """``derive``: called at commit with the ids touched in the whole transaction
    (savepoints included), before the commit, so what it writes commits with it; a
    transaction that rolls back calls it not at all, and a derived-only entity writes no
    change-log row."""
    calls: list[list[str]] = []

    def count(db: Database, ids: Sequence[str]) -> None:
        calls.append(list(ids))
        db.execute(
            "INSERT INTO counters (name, value) VALUES ('test:derived', ?) "
            "ON CONFLICT(name) DO UPDATE SET value = counters.value + excluded.value",
            [len(ids)])

    services.uow.derive("gauge", count)
    before = services.db.execute("SELECT COUNT(*) FROM changes").fetchone()[0]
    with services.uow.transaction():
        services.uow.touch("gauge", ["g1", "g2"])
        with services.uow.transaction():
            services.uow.touch("gauge", "g1")
            services.uow.touch("gauge", "g3")
    assert calls == [["g1", "g2", "g3"]]

    class BoomError(Exception):
        pass

    def fail_inside_a_transaction() -> None:
        with services.uow.transaction():
            services.uow.touch("gauge", "g4")
            raise BoomError

    with pytest.raises(BoomError):
        fail_inside_a_transaction()
    assert calls == [["g1", "g2", "g3"]]
    assert services.db.execute(
        "SELECT value FROM counters WHERE name = 'test:derived'").fetchone()[0] == 3
    assert services.db.execute("SELECT COUNT(*) FROM changes").fetchone()[0] == before
