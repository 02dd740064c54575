"""Work-order list and filter routes over real HTTP: a scale curve of store sizes.

Creates the orders through ``WorkOrderService.create_many`` (deadlines, audit and change log
included), starts ``waterops serve`` in a subprocess on 127.0.0.1, and measures each
route with ``wrk`` (``bench._load``): requests/s and p50/p99 latency, beside the floor of
a bare Litestar route returning the same bytes, measured in the same run, and the ratio.
wrk repeats the same paths, so the lists are answered from the page cache
(``server.pagecache``) once read; ``list_first_page_uncached`` serves the store again
with the cache off: the cost of a page right after the list changed. Each route is
measured once the server's background jobs have settled (``bench._common.wait_settled``:
the deadline scan's catch-up on the store just built is done once, not what a console
meets on a server that has been up).

On PostgreSQL the service runs ``serve --processes 2`` (``PG_PROCESSES``: one per core of
this machine; several app processes on one database is what the second store is for) and
the floor runs as many processes on one socket, so the ratio still compares like with like;
SQLite runs one process. ``http_processes`` says which.

Sizes: 10,000 / 100,000 / 1,000,000 orders (``--quick``: 2,000; ``--sizes`` to choose).
Every size on SQLite and, when ``WATEROPS_BENCH_DATABASE_URL`` (or
``WATEROPS_TEST_DATABASE_URL``) names a PostgreSQL server, on PostgreSQL (a fresh
schema; metrics suffixed ``_postgresql``).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench._common import bench_stores, emit, parse_args, sizes, table, wait_settled
from bench._load import free_port, route_beside_floor, stop_server, wait_ready
from bench.sync import bench_store_url
from server.clock import SteppingClock
from server.demo import seed_demo
from server.services import Services
from server.settings import Settings
from server.workorders.model import Actor, Point, WorkOrderIn, WorkOrderType

NAME = "workorders"
# measured on each store --stores names (the suite's smoke test asks for its pass's)
PER_STORE = True
#: HTTP processes of ``waterops serve`` (and of its floor) on PostgreSQL (module doc)
PG_PROCESSES = 2


def build_store(data_dir: Path, n: int, database_url: str | None = None
                ) -> tuple[float, list[str]]:
    """A store of ``n`` orders, imported through ``WorkOrderService.create_many`` (the
    operator's import: deadlines, audit and change log as ``create`` writes them) in
    transactions of ``batch`` orders, the clock a few seconds on per order;
    (seconds, ids)."""
    clock = SteppingClock(datetime(2026, 11, 2, 0, 0, tzinfo=UTC))
    svc = Services(Settings(data_dir=str(data_dir), database_url=database_url), clock)
    seed_demo(svc, customers=200)
    rng = random.Random(42)
    actor = Actor(user_id="disp-wang", role="dispatcher")
    crews = ["crew-a", "crew-b", "readers"]
    types = list(WorkOrderType)
    ids: list[str] = []
    batch = 10_000
    started = time.perf_counter()
    for start in range(0, n, batch):
        orders: list[WorkOrderIn] = []
        for _ in range(min(batch, n - start)):
            clock.advance(seconds=rng.uniform(1, 20))
            orders.append(WorkOrderIn(
                type=rng.choice(types),
                location=Point((117.0 + rng.uniform(-0.05, 0.05),
                                36.65 + rng.uniform(-0.05, 0.05))),
                crew_id=rng.choice(crews), pipe_diameter_mm=rng.choice((100, 300, 600)),
                reported_at=clock() - timedelta(minutes=rng.uniform(0, 120)),
            ))
        ids.extend(svc.workorders.create_many(actor, orders).ids)
    elapsed = time.perf_counter() - started
    svc.close()
    return elapsed, ids


def measure(n: int, seconds: float, store: str, database_url: str | None) -> list[tuple[str, str]]:
    """Build a store of ``n`` orders, serve it, measure every route; emit the figures."""
    suffix = "" if store == "sqlite" else f"_{store}"
    processes = 1 if store == "sqlite" else PG_PROCESSES
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        build_s, ids = build_store(data_dir, n, database_url)
        proc, base = _serve(data_dir, database_url, http_processes=processes)
        rows = [(f"[{store}, {n:,} orders] created", f"{n / build_s:,.0f} orders/s"),
                ("  HTTP processes (service and floor)", str(processes))]
        emit(NAME, "create_orders_per_s" + suffix, n / build_s, "1/s", n)
        emit(NAME, "http_processes" + suffix, processes, "count", n)
        try:
            wait_ready(base + "/api/v1/public/health", proc)
            wait_settled(base)  # past the start-up catch-up of the store just built
            rng = random.Random(1)
            routes = {
                "list_first_page": ["/api/v1/workorders?limit=50"],
                "filter_crew_type_status": [
                    f"/api/v1/workorders?crew_id=crew-b&type={t.value}&status=assigned&limit=50"
                    for t in WorkOrderType],
                "filter_overdue": ["/api/v1/workorders?overdue=true&limit=50"],
                "get_by_id": [f"/api/v1/workorders/{rng.choice(ids)}" for _ in range(200)],
                "crew_own_orders": ["/api/v1/workorders?limit=50"],
            }
            for route, paths in routes.items():
                token = "wo_demo_crew_b" if route == "crew_own_orders" else "wo_demo_dispatcher"
                headers = {"Authorization": f"Bearer {token}"}
                rows.append((f"  {route}",
                             route_beside_floor(NAME, f"{route}{suffix}", base, paths,
                                                headers, seconds=seconds, n=n,
                                                processes=processes)))
        finally:
            stop_server(proc)
        # every page read from the store: what a page costs when the list just changed
        proc, base = _serve(data_dir, database_url, list_cache_bytes=0,
                            http_processes=processes)
        try:
            wait_ready(base + "/api/v1/public/health", proc)
            rows.append(("  list_first_page, no page cache", route_beside_floor(
                NAME, f"list_first_page_uncached{suffix}", base,
                ["/api/v1/workorders?limit=50"],
                {"Authorization": "Bearer wo_demo_dispatcher"}, seconds=seconds, n=n,
                processes=processes)))
        finally:
            stop_server(proc)
    return rows


def _serve(data_dir: Path, database_url: str | None, **settings: int
           ) -> tuple[subprocess.Popen[bytes], str]:
    """``waterops serve`` on the store (extra settings as ``WATEROPS_*``); its base URL."""
    port = free_port()
    env = {**os.environ, "WATEROPS_DATABASE_URL": database_url or "",
           **{f"WATEROPS_{k.upper()}": str(v) for k, v in settings.items()}}
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--data-dir", str(data_dir),
         "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    return proc, f"http://127.0.0.1:{port}"


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(__doc__ or NAME, argv)
    seconds = 2.0 if args.quick else 10.0
    rows = [("load generator", "wrk, 2 threads, 16 connections; floor: bare Litestar "
                               "route with the same bytes")]
    for store, base_url in bench_stores(args):
        for n in sizes(args, (2_000,), (10_000, 100_000, 1_000_000)):
            with bench_store_url(base_url) as url:
                rows += measure(n, seconds, store, url)
    table("work-order routes over HTTP", rows)


if __name__ == "__main__":
    main()
