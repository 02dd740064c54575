"""Schema of the notifications package's tables.

``deliveries`` is the durable outbox: one row per (notice, recipient, channel), unique,
so re-queueing a notice never duplicates a message. ``delivery_attempts`` keeps every
try with the provider's answer: the proof that each customer was told, and when.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("notifications")


@migrations()
def create_outage_tables(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE outages (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            state TEXT NOT NULL,
            cause TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            area TEXT,
            start_at TEXT NOT NULL,
            expected_restoration_at TEXT NOT NULL,
            streets TEXT NOT NULL DEFAULT '[]',
            compounds TEXT NOT NULL DEFAULT '[]',
            customer_count INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            work_order_id TEXT,
            announced_at TEXT,
            started_at TEXT,
            restored_at TEXT,
            cancelled_at TEXT,
            delay_noticed_for TEXT,
            required_lead_s REAL,
            lead_clause TEXT NOT NULL DEFAULT '',
            override_reason TEXT,
            override_by TEXT,
            version INTEGER NOT NULL DEFAULT 1,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX outages_state ON outages (state, start_at);

        CREATE TABLE outage_recipients (
            outage_id TEXT NOT NULL REFERENCES outages (id),
            customer_id TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            phone TEXT,
            wechat_openid TEXT,
            channels TEXT NOT NULL DEFAULT '[]',
            address TEXT NOT NULL DEFAULT '',
            compound TEXT NOT NULL DEFAULT '',
            street TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (outage_id, customer_id)
        );

        CREATE TABLE outage_events (
            id INTEGER PRIMARY KEY,
            outage_id TEXT NOT NULL REFERENCES outages (id),
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX outage_events_outage ON outage_events (outage_id, id);

        CREATE TABLE notices (
            id TEXT PRIMARY KEY,
            outage_id TEXT NOT NULL REFERENCES outages (id),
            kind TEXT NOT NULL,
            urgent INTEGER NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            sms_segments INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            notify_by TEXT,
            reference_at TEXT,
            required_lead_s REAL,
            recipients INTEGER NOT NULL DEFAULT 0,
            dedupe_key TEXT NOT NULL UNIQUE
        );
        CREATE INDEX notices_outage ON notices (outage_id, created_at);

        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            notice_id TEXT NOT NULL REFERENCES notices (id),
            customer_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            address TEXT,
            status TEXT NOT NULL,
            urgent INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            queued_at TEXT NOT NULL,
            next_attempt_at TEXT NOT NULL,
            claimed_until TEXT,
            claimed_by TEXT,
            sent_at TEXT,
            delivered_at TEXT,
            answer TEXT NOT NULL DEFAULT '',
            error TEXT NOT NULL DEFAULT '',
            held_from TEXT,
            held_until TEXT,
            UNIQUE (notice_id, customer_id, channel)
        );
        CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
        CREATE INDEX deliveries_customer ON deliveries (notice_id, customer_id);

        CREATE TABLE delivery_attempts (
            id INTEGER PRIMARY KEY,
            delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
            attempt INTEGER NOT NULL,
            worker TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            ok INTEGER NOT NULL,
            answer TEXT NOT NULL DEFAULT '',
            error TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, attempt);

        CREATE TABLE outage_tasks (
            id TEXT PRIMARY KEY,
            outage_id TEXT NOT NULL REFERENCES outages (id),
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            title TEXT NOT NULL,
            proof_required TEXT NOT NULL DEFAULT '',
            customer_id TEXT,
            address TEXT NOT NULL DEFAULT '',
            notice_id TEXT,
            done_at TEXT,
            proof TEXT NOT NULL DEFAULT '',
            dedupe_key TEXT NOT NULL UNIQUE
        );
        CREATE INDEX outage_tasks_outage ON outage_tasks (outage_id, kind);
        """
    )


@migrations()
def notices_without_an_outage(db: Database) -> None:
    """Staff reminders and escalations go through the same outbox as outage notices, so a
    notice may concern no outage: ``outage_id`` becomes nullable (still a foreign key)."""
    db.table("notices").transform(not_null={"outage_id": False})


@migrations()
def outage_isolation(db: Database) -> None:
    """The valve isolation an outage was planned from: overlapping outages are combined."""
    db.execute("ALTER TABLE outages ADD COLUMN isolation_id TEXT")


@migrations()
def task_and_notice_page_indexes(db: Database) -> None:
    """An outage's tasks and notices are keyset-paged on ``(created_at, id)`` (issue 15:
    an outage of 200,000 customers has tens of thousands of door tasks), so each page is a
    range of an index in the list's order, with or without the task kind. The old
    ``(outage_id, kind)`` index is a prefix of the new kind index."""
    db.executescript(
        """
        CREATE INDEX outage_tasks_outage_order ON outage_tasks (outage_id, created_at, id);
        CREATE INDEX outage_tasks_kind_order
            ON outage_tasks (outage_id, kind, created_at, id);
        DROP INDEX IF EXISTS outage_tasks_outage;
        CREATE INDEX notices_outage_order ON notices (outage_id, created_at, id);
        DROP INDEX IF EXISTS notices_outage;
        """
    )
