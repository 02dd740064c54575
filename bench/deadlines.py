"""Deadlines, overdue status and the timeliness report: a scale curve of ticket counts.

Run as ``python -m bench.deadlines [--quick]``. Tickets come from every channel and
category of the shipped book with creation times spread over 2026 (so working-hour
clocks cross weekends, the Spring Festival and make-up Saturdays); each is answered after
a seeded random delay. Measured per size: computing every ticket's clocks with the strict
profile, deciding overdue status at one instant, loading the rows into SQLite (the
statistics counters kept at commit included), and building the statistics report (per
rule, per unit, per month) through the same service the route uses. Beside the report,
its floor: one raw ``GROUP BY`` over the counter cells through the bare driver (what
pre-aggregated counters cost at least), and the ratio; and its peer: the same tallies by
one scan of every deadline (what the counters replaced). Without ``--quick`` the report
route is also measured over HTTP with ``wrk`` beside its floor (a bare Litestar route that
runs the same raw counter read and returns the same bytes, ``bench._load``).

The clocks are computed once per size; the load, the report and the route are measured
on SQLite and, when ``WATEROPS_BENCH_DATABASE_URL`` (or ``WATEROPS_TEST_DATABASE_URL``)
names a PostgreSQL server, on PostgreSQL (a fresh schema; metrics suffixed
``_postgresql``).

Sizes: 10,000 / 100,000 / 1,000,000 tickets (about 1.4 deadlines each; ``--quick``:
10,000; ``--sizes`` to choose).
"""

from __future__ import annotations

import gc
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from bench._common import (
    bench_stores,
    best_of,
    emit,
    parse_args,
    raw_connection,
    sizes,
    table,
)
from bench._load import free_port, route_beside_floor, stop_server, wait_ready
from bench.sync import bench_store_url
from server.clock import SteppingClock
from server.db import migrate, open_store
from server.demo import seed_demo
from server.policy import PolicyProfile, WorkCalendar, load_profile
from server.services import Services
from server.settings import Settings
from server.tickets.categories import Category, load_categories, ticket_deadlines
from server.tickets.model import Channel, TicketDeadline
from server.tickets.service import deadline_row
from server.tickets.stats import SOURCES, StatsService
from server.tickets.store import TicketStore
from server.tickets.tally_store import ceil_midnight, floor_midnight
from server.timefmt import to_db

BENCH = "deadlines"
# measured on each store --stores names (the suite's smoke test asks for its pass's)
PER_STORE = True
SEED = 20260213
YEAR_START = datetime(2026, 1, 5, tzinfo=UTC)
YEAR_SPAN_S = int((datetime(2026, 11, 30, tzinfo=UTC) - YEAR_START).total_seconds())
NOW = datetime(2026, 12, 1, tzinfo=UTC)
SINCE = YEAR_START - timedelta(days=1)


def counter_floor_sql(since: datetime, until: datetime, group: str = "rule",
                      monthly: bool = False, postgres: bool = False) -> str:
    """The floor of the report grouped by ``group`` (rule or unit), per local month when
    ``monthly``: one raw ``GROUP BY`` over the counter cells of the whole local days of
    ``[since, until)`` (what pre-aggregated counters cost at least), without the report's
    corrections for unsettled members and edge days, or its other sources."""
    lo, hi = to_db(ceil_midnight(since)), to_db(floor_midnight(until))
    month = ("to_char(day_start::timestamptz AT TIME ZONE 'UTC' + interval '8 hours', "
             "'YYYY-MM')" if postgres else "strftime('%Y-%m', day_start, '+8 hours')")
    keys = f"{group}, {month}" if monthly else group
    # the bench's own constants and the two column names above, never outside input
    return (f"SELECT {keys}, SUM(total), SUM(on_time), SUM(still_open), SUM(provisional) "  # noqa: S608
            "FROM tally_counts WHERE source = 'ticket' AND dim = '' "
            f"AND day_start >= '{lo}' AND day_start < '{hi}' GROUP BY {keys} "
            f"ORDER BY {keys}")


def raw_seconds(database: str, sql: str, repeat: int) -> float:
    """The best of ``repeat`` runs of ``sql`` through the bare driver (sqlite3, psycopg)."""
    conn = raw_connection(database)
    try:
        conn.execute(sql).fetchall()  # warm-up, as the report's
        return best_of(lambda: conn.execute(sql).fetchall(), repeat)
    finally:
        conn.close()


def measure_route(data_dir: Path, url: str | None, n_clocks: int, seconds: float,
                  suffix: str) -> list[tuple[str, str]]:
    """``GET /api/v1/stats/service`` over HTTP with wrk, beside its floor: a bare route
    that runs the raw counter read (``counter_floor_sql``) on every request."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--data-dir", str(data_dir),
         "--port", str(port), "--no-workers"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "WATEROPS_DATABASE_URL": url or ""})
    base = f"http://127.0.0.1:{port}"
    rows: list[tuple[str, str]] = []
    database = url or str(Settings(data_dir=str(data_dir)).db_path)
    try:
        wait_ready(base + "/api/v1/public/health", proc)
        headers = {"Authorization": "Bearer wo_demo_supervisor"}
        for group in ("rule", "unit"):
            path = "/api/v1/stats/service?" + urlencode(
                {"since": SINCE.isoformat(), "until": NOW.isoformat(), "group_by": group,
                 "period": "month" if group == "unit" else "all"})
            floor_sql = counter_floor_sql(SINCE, NOW, group, monthly=group == "unit",
                                          postgres=url is not None)
            rows.append((f"  GET /stats/service {group}",
                         route_beside_floor(BENCH, f"route_{group}{suffix}", base, [path],
                                            headers, seconds=seconds, n=n_clocks,
                                            query=(database, floor_sql))))
    finally:
        stop_server(proc)
    return rows


def measure(n: int, http: bool, stores: list[tuple[str, str | None]]
            ) -> list[tuple[str, str]]:
    """Every figure for ``n`` tickets; emits the JSON lines, returns the table rows."""
    rng = random.Random(SEED)
    profile = load_profile("strict")
    calendar = WorkCalendar(profile.working_hours)
    book = load_categories()
    families = {f: book.for_family(f) for f in ("hotline", "other")}
    specs = {s.key: s for s in book.channel}
    channels = list(Channel)

    # -- 1. every ticket's clocks ---------------------------------------------------------
    inputs = []
    for _ in range(n):
        channel = rng.choice(channels)
        category = rng.choice(families[specs[channel].family])
        originated = YEAR_START + timedelta(seconds=rng.randrange(YEAR_SPAN_S))
        inputs.append((channel, category, originated))
    t0 = time.perf_counter()
    clocks: list[list[TicketDeadline]] = []
    for channel, category, originated in inputs:
        clocks.append(ticket_deadlines(
            channel=channel, category=category, profile=profile, calendar=calendar,
            originated_at=originated, received_at=originated,
            limit_hours=8.0 if not category.rule else None))
    compute_s = time.perf_counter() - t0
    n_clocks = sum(len(c) for c in clocks)

    # -- 2. answers and overdue status at one instant --------------------------------------
    met: list[list[datetime | None]] = []
    for cs in clocks:
        row = []
        for d in cs:
            allowed = d.due_at - d.starts_at
            share = rng.random()
            # most answered well inside the limit, ~3 % late, ~1 % still open
            frac = rng.uniform(0.05, 0.95) if share < 0.96 else rng.uniform(1.0, 1.6)
            row.append(None if share > 0.99 else d.starts_at + allowed * frac)
        met.append(row)
    t0 = time.perf_counter()
    status: Counter[str] = Counter()
    for cs, ms in zip(clocks, met, strict=True):
        for d, m in zip(cs, ms, strict=True):
            if m is not None and m <= NOW:
                status["on_time" if m <= d.due_at else "late"] += 1
            else:
                status["open_overdue" if d.due_at <= NOW else "open"] += 1
    overdue_s = time.perf_counter() - t0

    rate = status["on_time"] / max(1, status["on_time"] + status["late"] + status["open_overdue"])
    rows = [
        (f"[{n:,} tickets] clocks (deadlines)", f"{n_clocks:,}"),
        ("  compute clocks", f"{compute_s:.2f} s ({n / compute_s:,.0f} tickets/s)"),
        ("  overdue status", f"{overdue_s:.2f} s ({n_clocks / overdue_s:,.0f} clocks/s)"),
        ("  timeliness (in memory)", f"{rate:.2%}"),
    ]
    emit(BENCH, "compute_tickets_per_s", n / compute_s, "1/s", n)
    emit(BENCH, "compute_s", compute_s, "s", n)
    emit(BENCH, "overdue_status_s", overdue_s, "s", n_clocks)
    emit(BENCH, "open_overdue", status["open_overdue"], "count", n_clocks)
    for store, base in stores:
        rows += measure_store(store, base, inputs, clocks, met, http, profile)
    return rows


def measure_store(store: str, base: str | None,
                  inputs: list[tuple[Channel, Category, datetime]],
                  clocks: list[list[TicketDeadline]], met: list[list[datetime | None]],
                  http: bool, profile: PolicyProfile) -> list[tuple[str, str]]:
    """Load the tickets into one store, build the report there (and serve its route)."""
    suffix = "" if store == "sqlite" else f"_{store}"
    n, n_clocks = len(inputs), sum(len(c) for c in clocks)
    # -- 3. load into the store and build the report through it ----------------------------
    route_rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp, bench_store_url(base) as url:
        settings = Settings(data_dir=tmp, database_url=url)
        db = open_store(settings, SteppingClock(NOW))
        migrate(db)
        tickets = TicketStore(db)
        units = ("管网所", "营业所", "水质科", "客服中心")
        t0 = time.perf_counter()
        batch_t: list[dict[str, object]] = []
        batch_d: list[dict[str, object]] = []
        for i, ((channel, category, originated), cs, ms) in enumerate(
                zip(inputs, clocks, met, strict=True)):
            tid = f"t{i:07d}"
            batch_t.append({
                "id": tid, "number": f"T{i:07d}", "channel": str(channel),
                "category": category.key, "status": "resolved", "title": "bench",
                "unit": units[i % len(units)], "crew_id": f"crew-{i % 12}",
                "profile": profile.name, "originated_at": to_db(originated),
                "created_at": to_db(originated)})
            for d, m in zip(cs, ms, strict=True):
                r = deadline_row(tid, d)
                r["met_at"] = None if m is None else to_db(m)
                batch_d.append(r)
            if len(batch_t) == 50_000:
                with db.atomic():
                    tickets.bulk_insert_tickets(batch_t, batch_d)
                batch_t, batch_d = [], []
        with db.atomic():
            tickets.bulk_insert_tickets(batch_t, batch_d)
        load_s = time.perf_counter() - t0
        stats = StatsService(db, SteppingClock(NOW), profile)
        stats.report(since=SINCE, until=NOW)  # warm-up: statements prepared, pages cached
        # the service freezes what start-up allocated (``server.http_server``); the benchmark's own
        # millions of clocks must not make every collection during the report walk them
        gc.collect()
        gc.freeze()
        timings = {}
        for group, period in (("rule", "all"), ("unit", "month"), ("crew", "all")):
            report = stats.report(since=SINCE, until=NOW, group_by=group, period=period)

            def again(g: str = group, p: str = period) -> object:
                return stats.report(since=SINCE, until=NOW, group_by=g, period=p)
            timings[f"{group}/{period}"] = (best_of(again, 5), len(report.rows))
        floor_s = raw_seconds(url or str(settings.db_path), counter_floor_sql(SINCE, NOW), 5)
        gc.unfreeze()
        t0 = time.perf_counter()
        for source in SOURCES:  # the report's tallies by a scan of every deadline
            tickets.tallies(source, "rule", "all", SINCE, NOW, scan=True)
        scan_s = time.perf_counter() - t0
        overall = next(r for r in stats.report(since=SINCE, until=NOW).rows if r.rule == "*")
        db.close()
        if http:
            svc = Services(settings, SteppingClock(NOW))
            seed_demo(svc, customers=10)
            svc.close()
            route_rows = measure_route(Path(tmp), url, n_clocks, 10.0, suffix)

    report_s = timings["rule/all"][0]
    rows = [
        (f"  [{store}] load (+ counters)", f"{load_s:.2f} s"),
        *[(f"  [{store}] report {k}", f"{v[0]:.3f} s, {v[1]} rows") for k, v in timings.items()],
        (f"  [{store}] floor: raw SQL over the counters",
         f"{floor_s:.3f} s   report rule/all x{report_s / floor_s:.2f}"),
        (f"  [{store}] peer: tallies by scan, rule/all",
         f"{scan_s:.3f} s   report x{scan_s / report_s:.1f} faster"),
        *route_rows,
        (f"  [{store}] timeliness (report)",
         f"{overall.rate:.2%}" if overall.rate is not None else "-"),
    ]
    emit(BENCH, f"load_s{suffix}", load_s, "s", n)
    for key, (secs, _count) in timings.items():
        emit(BENCH, f"report_{key.replace('/', '_')}_s{suffix}", secs, "s", n_clocks)
    emit(BENCH, f"report_floor_s{suffix}", floor_s, "s", n_clocks)
    emit(BENCH, f"report_vs_floor{suffix}", report_s / floor_s, "x", n_clocks)
    emit(BENCH, f"scan_rule_all_s{suffix}", scan_s, "s", n_clocks)
    emit(BENCH, f"report_vs_scan{suffix}", scan_s / report_s, "x", n_clocks)
    emit(BENCH, f"timeliness_rate{suffix}", overall.rate or 0.0, "ratio", overall.decided)
    return rows


def main(argv: list[str] | None = None) -> None:
    args = parse_args(__doc__ or BENCH, argv)
    rows: list[tuple[str, str]] = []
    stores = bench_stores(args)
    for n in sizes(args, (10_000,), (10_000, 100_000, 1_000_000)):
        rows += measure(n, not args.quick, stores)
    table(f"bench.{BENCH}: deadlines and the timeliness report (profile strict)", rows)


if __name__ == "__main__":
    main()
