"""Work-order list and filter routes over real HTTP on a store of 100,000 orders.

Creates the orders through ``WorkOrderService.create`` (deadlines, audit and change log
included), starts ``waterops serve`` in a subprocess on 127.0.0.1, and measures each
route with keep-alive httpx clients in a few threads: requests/s and p50/p99 latency.
"""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench._common import emit, parse_args, percentiles, table
from server.clock import SteppingClock
from server.demo import seed_demo
from server.services import Services
from server.settings import Settings
from server.workorders.model import Actor, Point, WorkOrderIn, WorkOrderType

NAME = "workorders"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_store(data_dir: Path, n: int) -> tuple[float, list[str]]:
    clock = SteppingClock(datetime(2026, 11, 2, 0, 0, tzinfo=UTC))
    svc = Services(Settings(data_dir=str(data_dir)), clock)
    seed_demo(svc, customers=200)
    rng = random.Random(42)
    actor = Actor(user_id="disp-wang", role="dispatcher")
    crews = ["crew-a", "crew-b", "readers"]
    types = list(WorkOrderType)
    ids: list[str] = []
    started = time.perf_counter()
    batch = 1000
    for start in range(0, n, batch):
        with svc.db.atomic():
            for _ in range(min(batch, n - start)):
                clock.advance(seconds=rng.uniform(1, 20))
                wo = svc.workorders.create(actor, WorkOrderIn(
                    type=rng.choice(types),
                    location=Point((117.0 + rng.uniform(-0.05, 0.05),
                                    36.65 + rng.uniform(-0.05, 0.05))),
                    crew_id=rng.choice(crews), pipe_diameter_mm=rng.choice((100, 300, 600)),
                    reported_at=clock() - timedelta(minutes=rng.uniform(0, 120)),
                ))
                ids.append(wo.id)
    elapsed = time.perf_counter() - started
    svc.close()
    return elapsed, ids


def measure(base: str, token: str, paths: Sequence[str], requests: int,
            threads: int) -> tuple[float, list[float]]:
    def worker(count: int) -> list[float]:
        lat: list[float] = []
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"},
                          timeout=30) as client:
            for i in range(count):
                t0 = time.perf_counter()
                r = client.get(paths[i % len(paths)])
                lat.append(time.perf_counter() - t0)
                r.raise_for_status()
        return lat

    per = requests // threads
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(worker, [per] * threads))
    wall = time.perf_counter() - started
    samples = [x for r in results for x in r]
    return len(samples) / wall, samples


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(__doc__ or NAME, argv)
    n = 2_000 if args.quick else 100_000
    requests = 200 if args.quick else 2_000
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        build_s, ids = build_store(data_dir, n)
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--data-dir", str(data_dir),
             "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    httpx.get(base + "/api/v1/public/health", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
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
            rows = [("work orders created", f"{n}"),
                    ("create rate", f"{n / build_s:,.0f} orders/s")]
            emit(NAME, "create_orders_per_s", n / build_s, "1/s", n)
            for route, paths in routes.items():
                token = "wo_demo_crew_b" if route == "crew_own_orders" else "wo_demo_dispatcher"
                measure(base, token, paths, 40, 2)  # warm-up
                rps, samples = measure(base, token, paths, requests, 4)
                pct = percentiles(samples)
                rows.append((route, f"{rps:8.0f} req/s  p50 {pct[50] * 1000:6.2f} ms  "
                                    f"p99 {pct[99] * 1000:6.2f} ms"))
                emit(NAME, f"{route}_req_per_s", rps, "1/s", n)
                emit(NAME, f"{route}_p50_ms", pct[50] * 1000, "ms", n)
                emit(NAME, f"{route}_p99_ms", pct[99] * 1000, "ms", n)
            table(f"work-order routes over HTTP, {n} orders", rows)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
