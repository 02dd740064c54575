"""The deadline scan (reminders and escalations) on a store of work orders.

Run as ``python -m bench.scan [--quick] [--sizes ...] [--stores ...]``. The worker runs
the scan every 30 s whatever the store holds, so what it costs when nothing new is owed
decides whether a big utility's service can afford it. Builds a store of orders
(``bench.workorders.build_store``), moves the clock 30 days on so every deadline is past
its reminder time and its due time, and measures through ``ReminderService.scan``:

- **backlog**: the first scan, which records a reminder and an escalation for every
  deadline and queues their staff messages. Its floor: the same reminder rows written
  set-based by two ``INSERT … SELECT`` statements on a raw connection, rolled back
  (the floor queues no messages, so it is below what the scan must do).
- **settled**: a scan when everything owed is recorded (median of 5). Its floor: the
  scan's own reads (``TicketStore.due_sql`` and the unscheduled read) on a raw
  connection, warmed, median of 5: a settled scan should cost those reads and nothing
  more.

Sizes: 10,000 / 100,000 orders (``--quick``: 1,000). SQLite and, when a PostgreSQL URL is
set (``bench._common.bench_stores``), PostgreSQL (metrics suffixed ``_postgresql``).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._common import bench_stores, emit, parse_args, raw_connection, sizes, table
from bench.sync import bench_store_url
from bench.workorders import build_store
from server.clock import SteppingClock
from server.services import Services
from server.settings import Settings
from server.tickets.store import UNSCHEDULED_SQL, TicketStore
from server.timefmt import to_db

NAME = "scan"
PER_STORE = True

#: the floor of a backlog: every owed reminder and escalation as one statement each
_RECORD_ALL = (
    "INSERT INTO deadline_reminders (item_kind, item_id, rule, due_at, level, recipient_id, "
    "created_at, note) SELECT 'work_order', d.work_order_id, d.rule, d.due_at, '{level}', "
    "'crew:' || w.crew_id, '{now}', '' FROM work_order_deadlines d "
    "JOIN work_orders w ON w.id = d.work_order_id "
    "WHERE d.met_at IS NULL AND w.status NOT IN ('cancelled', 'verified') AND d.{col} <= '{now}'"
)


def _raw(settings: Settings) -> tuple[Any, Callable[[str], str]]:
    """A raw driver connection on the store, and how its SQL spells a parameter."""
    conn = raw_connection(settings.database_url or str(settings.db_path), autocommit=False)
    if settings.database_url:
        return conn, lambda sql: sql.replace("?", "%s")
    return conn, lambda sql: sql


def backlog_floor(settings: Settings, now: datetime) -> float:
    conn, _ = _raw(settings)
    try:
        started = time.perf_counter()
        for level, col in (("remind", "starts_at"), ("escalate", "due_at")):
            # a reminder time is at or after the start: every deadline started is owed one
            conn.execute(_RECORD_ALL.format(level=level, col=col, now=to_db(now)))
        elapsed = time.perf_counter() - started
        conn.rollback()
        return elapsed
    finally:
        conn.close()


def settled_floor(settings: Settings, now: datetime, runs: int) -> float:
    """The median of ``runs`` rounds of the scan's reads, on one warmed connection."""
    conn, spell = _raw(settings)
    reads = [TicketStore.due_sql(kind, column, owed=True)
             for kind in ("ticket", "complaint", "publication", "work_order")
             for column in ("remind_at", "due_at")]
    try:
        took = []
        for _ in range(runs + 1):  # the first round prepares the statements
            started = time.perf_counter()
            conn.execute(spell(UNSCHEDULED_SQL), ["", "", "", 1000]).fetchall()
            for sql in reads:
                conn.execute(spell(sql), [to_db(now)]).fetchall()
            took.append(time.perf_counter() - started)
            conn.rollback()
        return statistics.median(took[1:])
    finally:
        conn.close()


def measure(n: int, store: str, database_url: str | None) -> list[tuple[str, str]]:
    suffix = "" if store == "sqlite" else f"_{store}"
    with tempfile.TemporaryDirectory() as tmp:
        build_store(Path(tmp), n, database_url)
        now = datetime(2026, 11, 2, tzinfo=UTC) + timedelta(days=30 + n * 20 / 86400)
        settings = Settings(data_dir=tmp, database_url=database_url)
        svc = Services(settings, SteppingClock(now))
        try:
            floor_backlog = backlog_floor(settings, now)
            started = time.perf_counter()
            first = svc.tickets.reminders.scan(now)
            backlog = time.perf_counter() - started
            floor_settled = settled_floor(settings, now, 5)
            settled_runs = []
            for _ in range(5):
                started = time.perf_counter()
                again = svc.tickets.reminders.scan(now)
                settled_runs.append(time.perf_counter() - started)
                if again.reminders:
                    raise RuntimeError("a settled scan recorded something")
            settled = statistics.median(settled_runs)
        finally:
            svc.close()
    recorded = len(first.reminders)
    emit(NAME, "backlog_scan_s" + suffix, backlog, "s", n)
    emit(NAME, "backlog_floor_s" + suffix, floor_backlog, "s", n)
    emit(NAME, "backlog_vs_floor" + suffix, backlog / floor_backlog, "x", n)
    emit(NAME, "settled_scan_s" + suffix, settled, "s", n)
    emit(NAME, "settled_floor_s" + suffix, floor_settled, "s", n)
    emit(NAME, "settled_vs_floor" + suffix, settled / floor_settled, "x", n)
    return [
        (f"[{store}, {n:,} orders] backlog scan ({recorded:,} recorded)",
         f"{backlog:.3f} s; floor {floor_backlog:.3f} s; x{backlog / floor_backlog:.1f}"),
        ("  settled scan (median of 5)",
         f"{settled * 1000:.1f} ms; floor {floor_settled * 1000:.1f} ms; "
         f"x{settled / floor_settled:.2f}"),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(__doc__ or NAME, argv)
    rows = [("floors", "raw driver connection: set-based INSERT…SELECT (backlog, rolled "
                       "back); the scan's own reads (settled)")]
    for store, base_url in bench_stores(args):
        for n in sizes(args, (1_000,), (10_000, 100_000)):
            with bench_store_url(base_url) as url:
                rows += measure(n, store, url)
    table("deadline scan", rows)


if __name__ == "__main__":
    main()
