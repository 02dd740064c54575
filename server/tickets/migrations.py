"""Schema of the ticket and complaint desk.

Append-only: a released migration is never edited; a change is a new function.
Times are UTC text (``server.timefmt``), so string order is time order.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("tickets")


@migrations()
def m001_tickets(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE tickets (
            id TEXT PRIMARY KEY,
            number TEXT NOT NULL UNIQUE,
            channel TEXT NOT NULL,
            category TEXT NOT NULL,
            status TEXT NOT NULL,
            title TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            unit TEXT NOT NULL DEFAULT '',
            assignee_id TEXT,
            crew_id TEXT,
            compound TEXT NOT NULL DEFAULT '',
            address TEXT NOT NULL DEFAULT '',
            lon REAL,
            lat REAL,
            caller_phone TEXT,
            external_ref TEXT,
            profile TEXT NOT NULL,
            originated_at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            accepted_at TEXT,
            replied_at TEXT,
            resolved_at TEXT,
            sent_back_at TEXT,
            sendback_reason TEXT,
            work_order_id TEXT,
            version INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX tickets_status ON tickets(status, created_at);
        CREATE INDEX tickets_unit ON tickets(unit, created_at);
        CREATE INDEX tickets_work_order ON tickets(work_order_id);
        CREATE TABLE ticket_deadlines (
            ticket_id TEXT NOT NULL REFERENCES tickets(id),
            kind TEXT NOT NULL,
            rule TEXT NOT NULL,
            title TEXT NOT NULL,
            clause TEXT NOT NULL,
            starts_at TEXT NOT NULL,
            due_at TEXT NOT NULL,
            remind_at TEXT NOT NULL,
            met_at TEXT,
            original_due_at TEXT,
            voided INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (ticket_id, kind)
        );
        CREATE INDEX ticket_deadlines_open ON ticket_deadlines(remind_at)
            WHERE met_at IS NULL AND voided = 0;
        CREATE INDEX ticket_deadlines_rule ON ticket_deadlines(rule, starts_at);
        CREATE TABLE ticket_extensions (
            id TEXT PRIMARY KEY,
            ticket_id TEXT NOT NULL REFERENCES tickets(id),
            reason TEXT NOT NULL,
            requested_by TEXT,
            requested_at TEXT NOT NULL,
            new_due_at TEXT NOT NULL,
            status TEXT NOT NULL,
            decided_by TEXT,
            decided_at TEXT,
            note TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX ticket_extensions_ticket ON ticket_extensions(ticket_id, requested_at);
        CREATE TABLE complaints (
            id TEXT PRIMARY KEY,
            number TEXT NOT NULL UNIQUE,
            channel TEXT NOT NULL,
            kind TEXT NOT NULL,
            content TEXT NOT NULL,
            target_unit TEXT NOT NULL DEFAULT '',
            target_person TEXT NOT NULL DEFAULT '',
            customer_id TEXT,
            compound TEXT NOT NULL DEFAULT '',
            address TEXT NOT NULL DEFAULT '',
            lon REAL,
            lat REAL,
            phone TEXT NOT NULL,
            phone_last4 TEXT NOT NULL,
            status TEXT NOT NULL,
            round INTEGER NOT NULL DEFAULT 1,
            received_at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            contacted_at TEXT,
            resolved_at TEXT,
            closed_at TEXT,
            cluster_id TEXT,
            profile TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX complaints_quality ON complaints(kind, received_at);
        CREATE INDEX complaints_status ON complaints(status, received_at);
        CREATE TABLE complaint_deadlines (
            complaint_id TEXT NOT NULL REFERENCES complaints(id),
            round INTEGER NOT NULL,
            rule TEXT NOT NULL,
            title TEXT NOT NULL,
            clause TEXT NOT NULL,
            starts_at TEXT NOT NULL,
            due_at TEXT NOT NULL,
            remind_at TEXT NOT NULL,
            met_at TEXT,
            PRIMARY KEY (complaint_id, round, rule)
        );
        CREATE INDEX complaint_deadlines_open ON complaint_deadlines(remind_at)
            WHERE met_at IS NULL;
        CREATE TABLE complaint_visits (
            complaint_id TEXT NOT NULL REFERENCES complaints(id),
            round INTEGER NOT NULL,
            visited_at TEXT NOT NULL,
            visited_by TEXT,
            satisfied INTEGER NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (complaint_id, round)
        );
        CREATE TABLE complaint_lookup_failures (
            number TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX complaint_lookup_failures_number ON complaint_lookup_failures(number, at);
        CREATE TABLE quality_clusters (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            compound TEXT NOT NULL DEFAULT '',
            lon REAL,
            lat REAL,
            first_at TEXT NOT NULL,
            raised_at TEXT NOT NULL,
            last_at TEXT NOT NULL,
            count INTEGER NOT NULL,
            alert_id TEXT NOT NULL
        );
        CREATE INDEX quality_clusters_kind ON quality_clusters(kind, last_at);
        CREATE TABLE desk_alerts (
            id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            source_id TEXT NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            raised_at TEXT NOT NULL,
            sent_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            UNIQUE (source, source_id)
        );
        CREATE INDEX desk_alerts_unsent ON desk_alerts(raised_at) WHERE sent_at IS NULL;
        CREATE TABLE deadline_reminders (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            item_kind TEXT NOT NULL,
            item_id TEXT NOT NULL,
            rule TEXT NOT NULL,
            due_at TEXT NOT NULL,
            level TEXT NOT NULL,
            recipient_id TEXT,
            created_at TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            UNIQUE (item_kind, item_id, rule, due_at, level)
        );
        CREATE INDEX deadline_reminders_recipient ON deadline_reminders(recipient_id, id);
        """
    )


@migrations()
def m002_provisional_deadlines(db: Database) -> None:
    """Deadlines counted on a provisional calendar year are marked, to recompute on import."""
    db.executescript(
        """
        ALTER TABLE ticket_deadlines ADD COLUMN provisional INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE complaint_deadlines ADD COLUMN provisional INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX ticket_deadlines_provisional ON ticket_deadlines(starts_at)
            WHERE provisional = 1 AND met_at IS NULL AND voided = 0;
        CREATE INDEX complaint_deadlines_provisional ON complaint_deadlines(starts_at)
            WHERE provisional = 1 AND met_at IS NULL;
        """
    )


@migrations()
def m003_compound_key(db: Database) -> None:
    """Water-quality clusters group compounds by their normalised name (JN 12): full- and
    half-width forms and stray spaces must not split one compound into two."""
    from server.tickets.clusters import area_key

    db.execute("ALTER TABLE complaints ADD COLUMN compound_key TEXT NOT NULL DEFAULT ''")
    rows = db.execute("SELECT id, compound FROM complaints WHERE compound != ''").fetchall()
    db.conn.executemany("UPDATE complaints SET compound_key = ? WHERE id = ?",
                        [(area_key(compound), cid) for cid, compound in rows])
    db.execute("CREATE INDEX complaints_quality_area ON complaints(kind, compound_key, "
               "received_at)")


@migrations()
def m004_service_info(db: Database) -> None:
    """Service information whose publication is due (JN 11, ZJ: 20 working days from when
    it was formed or changed)."""
    db.executescript(
        """
        CREATE TABLE service_info (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            category TEXT NOT NULL,
            unit TEXT NOT NULL DEFAULT '',
            rule TEXT NOT NULL,
            clause TEXT NOT NULL,
            changed_at TEXT NOT NULL,
            due_at TEXT NOT NULL,
            remind_at TEXT NOT NULL,
            provisional INTEGER NOT NULL DEFAULT 0,
            published_at TEXT,
            published_where TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            created_by TEXT
        );
        CREATE INDEX service_info_open ON service_info(remind_at) WHERE published_at IS NULL;
        """
    )


@migrations()
def m005_deadline_tallies(db: Database) -> None:
    """Counters of the statistics report, kept by the unit of work
    (``server.tickets.tally_store``); the tickets already stored are counted once here."""
    from server.tickets.tally_store import SCHEMA, rebuild_tickets

    db.executescript(SCHEMA)
    rebuild_tickets(db)


#: per table of deadlines: (table, its item kind in ``deadline_reminders``, the column of
#: the item's id, the condition of a deadline still open)
REMINDER_TABLES: tuple[tuple[str, str, str, str], ...] = (
    ("ticket_deadlines", "ticket", "ticket_id", "met_at IS NULL AND voided = 0"),
    ("complaint_deadlines", "complaint", "complaint_id", "met_at IS NULL"),
    ("service_info", "publication", "id", "published_at IS NULL"),
    ("work_order_deadlines", "work_order", "work_order_id", "met_at IS NULL"),
)


@migrations()
def m006_reminder_state(db: Database) -> None:
    """What the deadline scan has recorded, kept on the deadline itself (issue 19).

    The scan used to read every open deadline on each run, work out each work order's
    reminder time in Python and try to insert its reminder again: proportional to the
    whole store, every 30 s. Now each deadline carries the due time its reminder and its
    escalation were recorded for (``reminded_for``, ``escalated_for``), and a partial
    index holds only the deadlines still owed one: a deadline is owed when that column is
    not its current due time, so a write that moves the due time (an extension, a
    recomputed provisional deadline) makes it owed again without having to say so. A
    work order's reminder time (``remind_at``) is worked out once, by the scan, for
    deadlines that have none. Reminders already recorded are carried over.
    """
    db.execute("ALTER TABLE work_order_deadlines ADD COLUMN remind_at TEXT")
    for table, _, _, open_ in REMINDER_TABLES:
        for column in ("reminded_for", "escalated_for"):
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
        db.execute(f"CREATE INDEX {table}_remind_owed ON {table}(remind_at) WHERE {open_} "
                   "AND (reminded_for IS NULL OR reminded_for <> due_at)")
        db.execute(f"CREATE INDEX {table}_escalation_owed ON {table}(due_at) WHERE {open_} "
                   "AND (escalated_for IS NULL OR escalated_for <> due_at)")
    db.execute("CREATE INDEX work_order_deadlines_unscheduled ON "
               "work_order_deadlines(work_order_id, rule) "
               "WHERE met_at IS NULL AND remind_at IS NULL")
    carry_over_recorded(db)


def carry_over_recorded(db: Database) -> None:
    """Mark every deadline whose reminder or escalation ``deadline_reminders`` already
    holds for its current due time as recorded (m006, on a store that has reminders)."""
    for table, kind, item, _ in REMINDER_TABLES:
        for column, level in (("reminded_for", "remind"), ("escalated_for", "escalate")):
            # the names are this module's constants, not input
            owed = (f"SELECT 1 FROM deadline_reminders r WHERE r.item_kind = ? "  # noqa: S608
                    f"AND r.item_id = {table}.{item} AND r.rule = {table}.rule "
                    f"AND r.due_at = {table}.due_at AND r.level = ?")
            db.execute(f"UPDATE {table} SET {column} = due_at WHERE EXISTS ({owed})",  # noqa: S608
                       [kind, level])


@migrations()
def m007_overdue_order(db: Database) -> None:
    """The supervisors' chase list pages each kind's open deadlines past due in the order
    it shows them (due time, id, rule): one range of an index per kind, merged, instead of
    every overdue deadline read for each page (issue 19). Work orders have theirs
    (``wod_open_due_order``, server migration m015)."""
    db.executescript(
        """
        CREATE INDEX ticket_deadlines_overdue ON ticket_deadlines(due_at, ticket_id, rule)
            WHERE met_at IS NULL AND voided = 0;
        CREATE INDEX complaint_deadlines_overdue
            ON complaint_deadlines(due_at, complaint_id, rule) WHERE met_at IS NULL;
        CREATE INDEX service_info_overdue ON service_info(due_at, id, rule)
            WHERE published_at IS NULL;
        """
    )
