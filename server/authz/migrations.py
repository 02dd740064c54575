"""Schema of the throttles shared by every process on one store (append-only migrations)."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("authz")


@migrations()
def m001_throttles(db: Database) -> None:
    # one row per (kind, key), updated in place: a flood of failures never adds rows, and
    # rows past ``forget_at`` mean nothing and are pruned (server.authz.throttle)
    db.executescript(
        """
        CREATE TABLE throttles (
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            started_at TEXT NOT NULL,
            hits INTEGER NOT NULL,
            locked_until TEXT,
            forget_at TEXT NOT NULL,
            PRIMARY KEY (kind, key)
        );
        CREATE INDEX throttles_forget ON throttles(kind, forget_at);
        """
    )


@migrations()
def m002_work_orders_by_customer(db: Database) -> None:
    # a unit-scoped office role's customer list asks, per customer, which crews' orders
    # concern it (server.customers.store.page with ``unit``)
    db.executescript(
        "CREATE INDEX IF NOT EXISTS work_orders_customer ON work_orders(customer_id, crew_id);")
