"""Schema of the service's own tables: users, crews, devices, customers, work orders, audit.

Migrations are append-only: a released migration is never edited, a change is a new one.
"""

from __future__ import annotations

from typing import Final

from sqlite_utils import Database, Migrations

migrations = Migrations("server")


@migrations()
def m001_core(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE crews (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            unit TEXT NOT NULL DEFAULT '',
            supervisor_id TEXT
        );
        CREATE TABLE users (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN
                ('crew_member','meter_reader','dispatcher','supervisor','admin')),
            crew_id TEXT REFERENCES crews(id),
            unit TEXT NOT NULL DEFAULT '',
            phone TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL
        );
        CREATE TABLE devices (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users(id),
            label TEXT NOT NULL DEFAULT '',
            token_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            revoked_at TEXT,
            last_seen_at TEXT,
            clock_skew_s REAL
        );
        CREATE INDEX devices_user ON devices(user_id);
        CREATE TABLE customers (
            id TEXT PRIMARY KEY,
            account_no TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            phone TEXT,
            wechat_openid TEXT,
            address TEXT NOT NULL DEFAULT '',
            compound TEXT NOT NULL DEFAULT '',
            street TEXT NOT NULL DEFAULT '',
            lon REAL,
            lat REAL,
            category TEXT NOT NULL DEFAULT 'domestic',
            meter_no TEXT,
            meter_diameter_mm INTEGER,
            meter_location TEXT,
            property_dispute INTEGER NOT NULL DEFAULT 0,
            court_case INTEGER NOT NULL DEFAULT 0,
            channels TEXT NOT NULL DEFAULT '["wechat","sms"]',
            updated_at TEXT NOT NULL
        );
        CREATE INDEX customers_compound ON customers(compound);
        CREATE TABLE work_orders (
            id TEXT PRIMARY KEY,
            number TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            status TEXT NOT NULL,
            priority INTEGER NOT NULL DEFAULT 3,
            title TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            crew_id TEXT REFERENCES crews(id),
            customer_id TEXT REFERENCES customers(id),
            location TEXT NOT NULL,
            lon REAL NOT NULL,
            lat REAL NOT NULL,
            pipe_diameter_mm INTEGER,
            profile TEXT NOT NULL,
            reported_at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            closed_at TEXT,
            due_at TEXT,
            status_reason TEXT,
            version INTEGER NOT NULL DEFAULT 1,
            fields TEXT NOT NULL DEFAULT '{}',
            steps TEXT NOT NULL DEFAULT '[]'
        );
        CREATE INDEX work_orders_crew ON work_orders(crew_id, created_at, id);
        CREATE INDEX work_orders_crew_status ON work_orders(crew_id, status, created_at, id);
        CREATE INDEX work_orders_type_status ON work_orders(type, status, created_at, id);
        CREATE INDEX work_orders_due ON work_orders(due_at) WHERE closed_at IS NULL;
        CREATE INDEX work_orders_created ON work_orders(created_at, id);
        CREATE TABLE work_order_deadlines (
            work_order_id TEXT NOT NULL REFERENCES work_orders(id),
            rule TEXT NOT NULL,
            clause TEXT NOT NULL,
            starts_at TEXT NOT NULL,
            due_at TEXT NOT NULL,
            met_at TEXT,
            PRIMARY KEY (work_order_id, rule)
        );
        CREATE INDEX wod_open_due ON work_order_deadlines(due_at) WHERE met_at IS NULL;
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            entity TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            action TEXT NOT NULL,
            actor_user_id TEXT,
            device_id TEXT,
            server_time TEXT NOT NULL,
            device_time TEXT,
            detail TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX audit_entity ON audit(entity, entity_id);
        CREATE TABLE counters (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        );
        """
    )


@migrations()
def m002_sync_evidence(db: Database) -> None:
    """Evidence the crews record (append-only), review flags for dispatch, field versions.

    ``evidence`` rows are keyed by the device-generated id, so a resent record is stored
    once. ``review_id`` is set when the evidence arrived with a rejected mutation: kept,
    never shown as the order's evidence until dispatch resolves the flag.
    ``work_order_field_versions`` remembers the order version that last set each free
    field, which is what tells a merge (other fields changed) from a conflict (same field).
    """
    db.executescript(
        """
        CREATE TABLE evidence (
            id TEXT PRIMARY KEY,
            work_order_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            step_key TEXT,
            payload TEXT NOT NULL DEFAULT '{}',
            attachment_sha256 TEXT,
            device_id TEXT,
            user_id TEXT,
            crew_id TEXT,
            mutation_id INTEGER,
            device_time TEXT,
            server_time TEXT NOT NULL,
            review_id INTEGER
        );
        CREATE INDEX evidence_work_order ON evidence(work_order_id, server_time);
        CREATE INDEX evidence_attachment ON evidence(attachment_sha256)
            WHERE attachment_sha256 IS NOT NULL;
        CREATE TABLE review_flags (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            work_order_id TEXT,
            device_id TEXT,
            user_id TEXT,
            crew_id TEXT,
            mutation_id INTEGER,
            kind TEXT NOT NULL,
            reason_code TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            payload TEXT NOT NULL DEFAULT '{}',
            device_time TEXT,
            created_at TEXT NOT NULL,
            resolved_at TEXT,
            resolved_by TEXT,
            resolution TEXT
        );
        CREATE INDEX review_flags_open ON review_flags(resolved_at, created_at);
        CREATE TABLE work_order_field_versions (
            work_order_id TEXT NOT NULL,
            field TEXT NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (work_order_id, field)
        ) WITHOUT ROWID;
        """
    )


@migrations()
def m010_fieldwork(db: Database) -> None:
    """Field work (server/fieldwork): sealed notices, photo checks, reading routes,
    readings, valve operations, isolation plans of bursts, marked lines."""
    db.executescript(
        """
        CREATE TABLE fw_sealed_documents (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            work_order_id TEXT NOT NULL REFERENCES work_orders(id),
            fields TEXT NOT NULL,
            manifest TEXT NOT NULL,
            content_hash TEXT NOT NULL UNIQUE,
            prev_hash TEXT NOT NULL,
            signature TEXT NOT NULL,
            key_id TEXT NOT NULL,
            sealed_at TEXT NOT NULL,
            device_time TEXT,
            user_id TEXT,
            device_id TEXT,
            discrepancies TEXT NOT NULL DEFAULT '[]'
        );
        CREATE INDEX fw_sealed_wo ON fw_sealed_documents(work_order_id);
        -- a chain, not a tree: two documents can never link to the same predecessor
        CREATE UNIQUE INDEX fw_sealed_prev ON fw_sealed_documents(prev_hash);
        CREATE TABLE fw_photo_checks (
            work_order_id TEXT NOT NULL REFERENCES work_orders(id),
            sha256 TEXT NOT NULL,
            step_key TEXT NOT NULL,
            taken_at TEXT,
            lon REAL,
            lat REAL,
            flags TEXT NOT NULL DEFAULT '[]',
            site_distance_m REAL,
            device_distance_m REAL,
            checked_at TEXT,
            device_time TEXT,
            device_lon REAL,
            device_lat REAL,
            received_at TEXT NOT NULL,
            PRIMARY KEY (work_order_id, sha256, step_key)
        );
        CREATE TABLE fw_route_stops (
            work_order_id TEXT NOT NULL REFERENCES work_orders(id),
            position INTEGER NOT NULL,
            customer_id TEXT NOT NULL REFERENCES customers(id),
            meter_no TEXT NOT NULL,
            PRIMARY KEY (work_order_id, position),
            UNIQUE (work_order_id, customer_id)
        );
        CREATE TABLE fw_readings (
            id TEXT PRIMARY KEY,
            work_order_id TEXT NOT NULL REFERENCES work_orders(id),
            customer_id TEXT NOT NULL,
            meter_no TEXT NOT NULL,
            value REAL NOT NULL,
            estimated INTEGER NOT NULL DEFAULT 0,
            reason TEXT NOT NULL DEFAULT '',
            photo_sha256 TEXT,
            flags TEXT NOT NULL DEFAULT '[]',
            usage REAL,
            note TEXT NOT NULL DEFAULT '',
            server_time TEXT NOT NULL,
            device_time TEXT,
            user_id TEXT,
            device_id TEXT
        );
        CREATE INDEX fw_readings_customer ON fw_readings(customer_id, server_time);
        CREATE INDEX fw_readings_wo ON fw_readings(work_order_id);
        CREATE TABLE fw_valve_operations (
            id TEXT PRIMARY KEY,
            work_order_id TEXT NOT NULL REFERENCES work_orders(id),
            valve_id TEXT NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('closed','opened','inoperable')),
            turns REAL,
            note TEXT NOT NULL DEFAULT '',
            server_time TEXT NOT NULL,
            device_time TEXT,
            user_id TEXT,
            device_id TEXT
        );
        CREATE INDEX fw_valve_ops_wo ON fw_valve_operations(work_order_id, server_time);
        CREATE TABLE fw_isolation_plans (
            work_order_id TEXT PRIMARY KEY REFERENCES work_orders(id),
            plan TEXT NOT NULL,
            attached_at TEXT NOT NULL,
            revision INTEGER NOT NULL DEFAULT 1,
            affected_extra TEXT NOT NULL DEFAULT '[]'
        );
        CREATE TABLE fw_marked_lines (
            work_order_id TEXT PRIMARY KEY REFERENCES work_orders(id),
            line TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            device_time TEXT
        );
        """
    )


@migrations()
def m011_calendar_years(db: Database) -> None:
    """Imported holiday notices, and which work-order deadlines were counted provisionally."""
    db.executescript(
        """
        CREATE TABLE calendar_years (
            year INTEGER PRIMARY KEY,
            notice TEXT NOT NULL,
            body TEXT NOT NULL,
            imported_at TEXT NOT NULL,
            imported_by TEXT
        );
        ALTER TABLE work_order_deadlines ADD COLUMN provisional INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX wod_provisional ON work_order_deadlines(starts_at)
            WHERE provisional = 1 AND met_at IS NULL;
        """
    )


@migrations()
def m012_field_time(db: Database) -> None:
    """A deadline met by a field fact keeps both clocks: ``met_at`` is the device's time
    corrected by its skew (or the server's when the device is not trusted), and
    ``met_server_at`` when the server received it; ``met_source`` says which one counts."""
    db.executescript(
        """
        ALTER TABLE work_order_deadlines ADD COLUMN met_server_at TEXT;
        ALTER TABLE work_order_deadlines ADD COLUMN met_source TEXT;
        """
    )


@migrations()
def m013_reading_sanity(db: Database) -> None:
    """A meter reading keeps the time it is judged on (``read_at``: the device's corrected
    by its skew, or the server's) beside ``server_time``, which clock that is, and the
    reason a value below the last reading was accepted (meter changed, rollover)."""
    db.executescript(
        """
        ALTER TABLE fw_readings ADD COLUMN read_at TEXT;
        ALTER TABLE fw_readings ADD COLUMN time_source TEXT NOT NULL DEFAULT 'server';
        ALTER TABLE fw_readings ADD COLUMN below_reason TEXT;
        """
    )


@migrations()
def m014_list_indexes(db: Database) -> None:
    """Lists answered from indexes (issue 19).

    ``next_due_at`` is an order's earliest due time among its deadlines that were not met
    on time (still open, or met late); NULL when it has none. The order is overdue at
    ``now`` exactly when ``next_due_at < now``, so ``?overdue=true`` is a range of one
    partial index instead of a scan of every deadline. The store keeps it current in the
    same statement batch as every deadline write (``WorkOrderStore._refresh_next_due``).
    The crew+type+status index answers the dispatchers' usual filter and its order with
    no sort; the deadline index lets the timeliness report read deadlines alone.
    """
    db.executescript(
        """
        ALTER TABLE work_orders ADD COLUMN next_due_at TEXT;
        UPDATE work_orders SET next_due_at = (
            SELECT MIN(d.due_at) FROM work_order_deadlines d
            WHERE d.work_order_id = work_orders.id
              AND (d.met_at IS NULL OR d.met_at > d.due_at));
        CREATE INDEX work_orders_next_due ON work_orders(next_due_at, id)
            WHERE next_due_at IS NOT NULL;
        CREATE INDEX work_orders_crew_next_due ON work_orders(crew_id, next_due_at, id)
            WHERE next_due_at IS NOT NULL;
        CREATE INDEX work_orders_crew_type_status
            ON work_orders(crew_id, type, status, created_at, id);
        CREATE INDEX wod_timeliness
            ON work_order_deadlines(rule, due_at, met_at, starts_at, work_order_id);
        """
    )


@migrations()
def m015_list_page_indexes(db: Database) -> None:
    """The console's overdue list pages open deadlines past due in the order it shows
    them (issue 15): longest overdue first, ties by order and rule. Keyed on
    ``(due_at, work_order_id, rule)``, each page is a range of this partial index;
    ``wod_open_due`` (``due_at`` alone) is its prefix and goes. An order's evidence pages
    on ``(server_time, id)``; ``evidence_work_order`` is the prefix of its index."""
    db.executescript(
        """
        CREATE INDEX wod_open_due_order
            ON work_order_deadlines(due_at, work_order_id, rule) WHERE met_at IS NULL;
        DROP INDEX IF EXISTS wod_open_due;
        CREATE INDEX evidence_order ON evidence(work_order_id, server_time, id);
        DROP INDEX IF EXISTS evidence_work_order;
        """
    )


@migrations()
def m016_list_versions(db: Database) -> None:
    """A version per list, bumped by the database itself at every write (issue 19).

    ``list_versions('work_orders')`` grows by at least one in every transaction that
    inserts, updates or deletes a row of ``work_orders`` or ``work_order_deadlines``, by
    triggers, so no write path can forget it (several do not ``touch`` the change log: an
    unassigned order's transition, the inspection clock). Writers commit one at a time on
    both stores (``BEGIN IMMEDIATE``; PostgreSQL's advisory write lock), so a reader that
    sees version *v* sees every write counted up to *v* and none after: the page cache
    (``server.pagecache``) keys its pages on it, in every process on the store.
    PostgreSQL counts once per statement (a statement-level trigger), SQLite once per row.
    """
    db.executescript(
        """
        CREATE TABLE list_versions (
            name TEXT PRIMARY KEY,
            version INTEGER NOT NULL
        );
        INSERT INTO list_versions (name, version) VALUES ('work_orders', 0);
        """
    )
    if getattr(db, "dialect_name", "sqlite") == "postgresql":
        db.executescript(
            """
            CREATE FUNCTION bump_list_version() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE list_versions SET version = version + 1 WHERE name = TG_ARGV[0];
                RETURN NULL;
            END $$;
            CREATE TRIGGER work_orders_list_version
                AFTER INSERT OR UPDATE OR DELETE ON work_orders
                FOR EACH STATEMENT EXECUTE FUNCTION bump_list_version('work_orders');
            CREATE TRIGGER work_order_deadlines_list_version
                AFTER INSERT OR UPDATE OR DELETE ON work_order_deadlines
                FOR EACH STATEMENT EXECUTE FUNCTION bump_list_version('work_orders');
            """
        )
        return
    bump = "UPDATE list_versions SET version = version + 1 WHERE name = 'work_orders'; END;"
    db.executescript(
        f"""
        CREATE TRIGGER work_orders_list_version_i AFTER INSERT ON work_orders BEGIN {bump}
        CREATE TRIGGER work_orders_list_version_u AFTER UPDATE ON work_orders BEGIN {bump}
        CREATE TRIGGER work_orders_list_version_d AFTER DELETE ON work_orders BEGIN {bump}
        CREATE TRIGGER work_order_deadlines_list_version_i AFTER INSERT ON work_order_deadlines
            BEGIN {bump}
        CREATE TRIGGER work_order_deadlines_list_version_u AFTER UPDATE ON work_order_deadlines
            BEGIN {bump}
        CREATE TRIGGER work_order_deadlines_list_version_d AFTER DELETE ON work_order_deadlines
            BEGIN {bump}
        """
    )


#: the columns of ``work_order_deadlines`` a work-order list shows; the deadline scan's own
#: bookkeeping (``remind_at``, ``reminded_for``, ``escalated_for``: tickets m006) is not
#: among them
SHOWN_DEADLINE_COLUMNS: Final = ("work_order_id", "rule", "clause", "starts_at", "due_at",
                                 "met_at", "provisional", "met_server_at", "met_source")


@migrations()
def m017_list_version_ignores_scan_bookkeeping(db: Database) -> None:
    """Only an update of what a list shows bumps ``list_versions('work_orders')`` (issue 19).

    The deadline scan records each reminder and escalation it sends on the deadline's row
    (tickets m006); under m016 every such write bumped the version, so every page cache in
    every process was emptied as the scan went (a busy scan on PostgreSQL made the first
    page of the list miss on most requests). The update trigger of ``work_order_deadlines``
    now names the columns a list shows (``UPDATE OF``, both stores): a write of the scan's
    columns alone leaves the version, and every page, as it was. Inserts and deletes, and
    every update of ``work_orders``, still count.
    """
    shown = ", ".join(SHOWN_DEADLINE_COLUMNS)
    if getattr(db, "dialect_name", "sqlite") == "postgresql":
        db.executescript(
            f"""
            DROP TRIGGER work_order_deadlines_list_version ON work_order_deadlines;
            CREATE TRIGGER work_order_deadlines_list_version_iud
                AFTER INSERT OR DELETE OR UPDATE OF {shown} ON work_order_deadlines
                FOR EACH STATEMENT EXECUTE FUNCTION bump_list_version('work_orders');
            """
        )
        return
    bump = "UPDATE list_versions SET version = version + 1 WHERE name = 'work_orders'; END;"
    db.executescript(
        f"""
        DROP TRIGGER work_order_deadlines_list_version_u;
        CREATE TRIGGER work_order_deadlines_list_version_u
            AFTER UPDATE OF {shown} ON work_order_deadlines BEGIN {bump}
        """
    )
